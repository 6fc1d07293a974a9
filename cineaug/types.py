"""The cycle contract: constants, :class:`CineCycle` and its checks.

A *cycle* is one short-axis slice over one cardiac cycle:

- ``image``: float32 ``[T, H, W]``; after preprocessing T = 20, frame 0 = end-diastole (ED) and
  intensities lie in [-1, 1]. Readers return raw intensities and the native number of frames.
- ``label``: uint8 ``[T, H, W]`` in ACDC order (0 background, 1 RV cavity, 2 LV myocardium,
  3 LV cavity). A frame whose ``labeled`` flag is False holds zeros that mean "unknown".
- ``label_source``: uint8 ``[T]``, where each frame's labels came from (:data:`LabelSource`).
- ``observed``: bool ``[T]``, the frames that hold an acquired image. A *key-frame cycle* (ACDC or
  M&Ms copies without their cine: ED and ES only) observes a few frames; every other frame's image
  is the fill :data:`UNOBSERVED_FILL` (``UNOBSERVED_FILL_RAW`` before preparation) and must never be
  shown to a loss or a discriminator as real. A labelled frame is always observed.
- ``annotated_classes``: the foreground classes the source annotates at all (Sunnybrook: 2, 3).

Losses and metrics must honour ``observed``, ``labeled`` and ``annotated_classes``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

N_FRAMES = 20
"""Frames per prepared cycle."""

BACKGROUND, RV, MYO, LV = 0, 1, 2, 3
CLASS_NAMES = ("background", "rv", "myocardium", "lv")
"""ACDC label order; index = label value."""
ALL_CLASSES = (RV, MYO, LV)

UNOBSERVED_FILL = -1.0
"""Image value of an unobserved frame in a prepared cycle (the bottom of [-1, 1]: black)."""
UNOBSERVED_FILL_RAW = 0.0
"""Image value of an unobserved frame in a raw cycle (before normalisation)."""

SUNNYBROOK_PATHOLOGIES = ("N", "HYP", "HF-I", "HF-NI")
ACDC_PATHOLOGIES = ("NOR", "MINF", "DCM", "HCM", "ARV")
UNKNOWN_PATHOLOGY = "unknown"


class LabelSource(IntEnum):
    """Where a frame's labels come from (stored per frame in ``label_source``)."""

    NONE = 0  # not labelled: the label frame is all zeros and means "unknown"
    EXPERT = 1  # drawn by an expert for every annotated class
    EXPERT_PARTIAL = 2  # expert for some classes, propagated for the others (Sunnybrook ES myocardium)
    PROPAGATED = 3  # registered from expert frames
    SIMULATED = 4  # exact labels of the simulator
    GENERATED = 5  # emitted by a generator together with the image


EXACT_SOURCES = (LabelSource.EXPERT, LabelSource.EXPERT_PARTIAL, LabelSource.SIMULATED)
"""Label sources drawn or known exactly (never propagated or generated): the frames that are scored."""


class CycleContractError(ValueError):
    """A cycle breaks the tensor contract."""


@dataclass
class CineCycle:
    """One slice over one cardiac cycle with its labels and metadata.

    Example:
        >>> import numpy as np
        >>> c = CineCycle(image=np.zeros((20, 8, 8), np.float32), label=np.zeros((20, 8, 8), np.uint8),
        ...               labeled=np.zeros(20, bool), spacing=(1.5, 1.5), source="demo", subject="s0")
        >>> c.validate(prepared=True).n_frames
        20
    """

    image: np.ndarray  # [T,H,W] float32
    label: np.ndarray  # [T,H,W] uint8, ACDC order
    labeled: np.ndarray  # [T] bool
    spacing: tuple[float, float]  # (row, col) in mm
    source: str  # "sunnybrook", "acdc", "mnms", "nifti", "dicom", "simulator", "generator"
    subject: str
    slice_index: int = 0
    pathology: str = UNKNOWN_PATHOLOGY
    ed_frame: int = 0
    es_frame: int = -1  # -1: unknown
    label_source: np.ndarray | None = None  # [T] uint8 LabelSource; derived from `labeled` if None
    annotated_classes: tuple[int, ...] = ALL_CLASSES
    frame_times: np.ndarray | None = None  # [T] float32 ms from the R wave; uniform if None
    slice_thickness: float | None = None  # mm
    extra: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable source-specific facts
    observed: np.ndarray | None = None  # [T] bool, frames holding an acquired image; all if None
    native_label: np.ndarray | None = None  # [K,H0,W0] uint8: expert labels of frames extra["native_frames"]
    # in the source's own grid (prepare_cycle(keep_native=True)), for scores in the native grid

    def __post_init__(self) -> None:
        self.labeled = np.asarray(self.labeled, dtype=bool)
        if self.label_source is None:
            self.label_source = np.where(self.labeled, LabelSource.EXPERT, LabelSource.NONE).astype(np.uint8)
        self.label_source = np.asarray(self.label_source, dtype=np.uint8)
        if self.observed is None:
            self.observed = np.ones(len(self.labeled), bool)
        self.observed = np.asarray(self.observed, dtype=bool)
        self.spacing = (float(self.spacing[0]), float(self.spacing[1]))
        self.annotated_classes = tuple(int(c) for c in self.annotated_classes)

    @property
    def n_frames(self) -> int:
        return int(self.image.shape[0])

    @property
    def key(self) -> str:
        """Stable identifier: ``source/subject/slice``."""
        return f"{self.source}/{self.subject}/{self.slice_index:03d}"

    def validate(self, prepared: bool = False) -> CineCycle:
        """Check the contract; raise :class:`CycleContractError` naming the cycle and the problem.

        Args:
            prepared: also require the prepared form (20 frames, ED first, values in [-1, 1]).

        Returns:
            self, so that calls chain.
        """
        check_cycle_arrays(self.image, self.label, self.labeled, where=self.key, prepared=prepared)
        t = self.n_frames
        _require(self.label_source.shape == (t,), self.key, f"label_source shape {self.label_source.shape}")
        _require(
            bool(np.all((self.label_source != LabelSource.NONE) == self.labeled)),
            self.key,
            "label_source disagrees with labeled",
        )
        _require(0 <= self.ed_frame < t, self.key, f"ed_frame {self.ed_frame} outside [0, {t})")
        _require(-1 <= self.es_frame < t, self.key, f"es_frame {self.es_frame} outside [-1, {t})")
        self._validate_observed(prepared)
        self._validate_native()
        _require(all(s > 0 and np.isfinite(s) for s in self.spacing), self.key, f"spacing {self.spacing}")
        _require(set(self.annotated_classes) <= set(ALL_CLASSES), self.key, "unknown annotated class")
        if prepared:
            _require(self.ed_frame == 0, self.key, "prepared cycles start at end-diastole (ed_frame 0)")
        if self.frame_times is not None:
            _require(
                np.shape(self.frame_times) == (t,), self.key, "frame_times must have one value per frame"
            )
        return self

    def _validate_observed(self, prepared: bool) -> None:
        t, obs = self.n_frames, self.observed
        _require(obs.shape == (t,), self.key, f"observed must have one flag per frame, got {obs.shape}")
        _require(not (self.labeled & ~obs).any(), self.key, "a labelled frame must be observed")
        _require(bool(obs[self.ed_frame]), self.key, f"ED frame {self.ed_frame} is not observed")
        _require(self.es_frame < 0 or bool(obs[self.es_frame]), self.key, "ES frame is not observed")
        fill = UNOBSERVED_FILL if prepared else UNOBSERVED_FILL_RAW
        _require(
            bool(np.all(self.image[~obs] == fill)), self.key, f"an unobserved frame's image is not {fill:g}"
        )

    def _validate_native(self) -> None:
        if self.native_label is None:
            return
        frames = list(self.extra.get("native_frames", []))
        _require(
            self.native_label.ndim == 3 and self.native_label.dtype == np.uint8,
            self.key,
            f"native_label must be uint8 [K,H0,W0], got {self.native_label.dtype} {self.native_label.shape}",
        )
        _require(
            len(frames) == len(self.native_label),
            self.key,
            f"{len(self.native_label)} native label frames but extra['native_frames'] lists {len(frames)}",
        )
        _require(all(bool(self.labeled[t]) for t in frames), self.key, "a native label frame is unlabelled")

    @property
    def key_frames_only(self) -> bool:
        """True for a key-frame cycle: some frames hold no acquired image."""
        return not bool(self.observed.all())

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable metadata (everything except the arrays)."""
        meta = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _ARRAYS}
        meta["spacing"] = list(self.spacing)
        meta["annotated_classes"] = list(self.annotated_classes)
        meta["labeled"] = [bool(v) for v in self.labeled]
        meta["label_source"] = [int(v) for v in self.label_source]
        meta["observed"] = [bool(v) for v in self.observed]
        meta["frame_times"] = None if self.frame_times is None else [float(v) for v in self.frame_times]
        json.dumps(meta)  # fail here, not in the cache writer, if extra is not serialisable
        return meta

    @classmethod
    def from_arrays(
        cls,
        image: np.ndarray,
        label: np.ndarray,
        meta: dict[str, Any],
        native_label: np.ndarray | None = None,
    ) -> CineCycle:
        """Inverse of :meth:`metadata`: rebuild a cycle from its arrays and metadata."""
        kwargs = {k: v for k, v in meta.items() if k in _FIELDS}
        kwargs["labeled"] = np.asarray(meta["labeled"], dtype=bool)
        kwargs["label_source"] = np.asarray(meta["label_source"], dtype=np.uint8)
        if meta.get("observed") is not None:  # caches written before `observed`: all observed
            kwargs["observed"] = np.asarray(meta["observed"], dtype=bool)
        if meta.get("frame_times") is not None:
            kwargs["frame_times"] = np.asarray(meta["frame_times"], dtype=np.float32)
        return cls(image=image, label=label, native_label=native_label, **kwargs)


_ARRAYS = ("image", "label", "labeled", "label_source", "frame_times", "observed", "native_label")
_FIELDS = {f.name for f in dataclasses.fields(CineCycle)}


def _require(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise CycleContractError(f"{where}: {what}")


def check_cycle_arrays(
    image: Any, label: Any, labeled: Any = None, *, where: str = "cycle", prepared: bool = False
) -> None:
    """Assert the array part of the contract (numpy or torch, single cycle ``[T,H,W]``).

    Raises:
        CycleContractError: naming ``where`` and what is wrong.
    """
    image, label = np.asarray(image), np.asarray(label)
    _require(image.ndim == 3, where, f"image must be [T,H,W], got shape {image.shape}")
    _require(label.shape == image.shape, where, f"label shape {label.shape} != image shape {image.shape}")
    _require(image.dtype == np.float32, where, f"image dtype {image.dtype}, expected float32")
    _require(label.dtype == np.uint8, where, f"label dtype {label.dtype}, expected uint8")
    _require(bool(np.isfinite(image).all()), where, "image holds NaN or inf")
    _require(int(label.max(initial=0)) <= LV, where, f"label value {int(label.max())} > {LV}")
    if labeled is not None:
        _require(np.shape(labeled) == (image.shape[0],), where, "labeled must have one flag per frame")
        unlabeled = ~np.asarray(labeled, dtype=bool)
        _require(not label[unlabeled].any(), where, "an unlabeled frame holds labels")
    if prepared:
        _require(image.shape[0] == N_FRAMES, where, f"{image.shape[0]} frames, expected {N_FRAMES}")
        _require(image.shape[1] == image.shape[2], where, f"frames must be square, got {image.shape[1:]}")
        lo, hi = float(image.min()), float(image.max())
        _require(
            lo >= -1.0 - 1e-5 and hi <= 1.0 + 1e-5, where, f"intensities [{lo:.3g}, {hi:.3g}] outside [-1, 1]"
        )


def assert_shape(tensor: Any, shape: Sequence[int | None]) -> None:
    """Assert ``tensor.shape`` against ``shape``; ``None`` matches any size (as stylegan2-ada's misc)."""
    got = tuple(tensor.shape)
    if len(got) != len(shape) or any(s is not None and g != s for g, s in zip(got, shape)):
        raise CycleContractError(f"shape {got} does not match {tuple(shape)}")
