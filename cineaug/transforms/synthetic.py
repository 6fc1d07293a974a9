"""``SyntheticCycleAugmenter(d)``: with probability ``prob``, replace a sample by a synthetic cycle.

The synthetic cycle comes with its labels (every frame, flagged ``GENERATED``); in frame-wise
pipelines (samples ``[1,H,W]``, or ``[1,H,W,1]`` one-slice volumes) one random frame of it replaces
the frame. It is placed at the sample's physical spacing and in its field of view, with the sample's
intensities (:mod:`~cineaug.transforms.placement`). Every sample gets a synthetic flag (``True`` or
``False``), so that the flag collates to a ``[B]`` tensor.
MONAI conventions (docs/transforms.md; tests/test_synthetic.py lists them): all randomness from ``self.R`` in
``randomize()``, ``set_random_state`` reseeds the latent pool too, the input dict is copied, the
no-op branch still converts to tensors, and ``MetaTensor`` in gives ``MetaTensor`` out with the
real sample's affine and applied operations.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.transforms import MapTransform, Rand2DElasticd, RandomizableTransform
from monai.utils import MAX_SEED, TransformBackends, convert_to_tensor
from torch import nn

from ..generate import RenderedAppearance, SyntheticBank, cycle_source
from ..tissues import tissue_map
from ..types import LV, LabelSource
from .appearance import RandCycleAppearance, RandTextureJitter
from .placement import (
    INTENSITIES,
    Intensity,
    fit_frames,
    follow_intensities,
    frame_layout,
    in_plane_spacing,
    resample_to,
    same_grid,
)
from .schedule import SharedProb

DEFAULT_PROB = 0.25
"""Default probability that a sample is replaced. Measured on ACDC (docs/benchmark.md, how much
synthetic): replacing a quarter of the samples beat a half at 2 and at 10 training patients."""
MAX_CACHED_TISSUE_BYTES = 64 << 20
"""Bytes of a bank's tissue maps (uint8, per frame or whole cycle) an augmenter keeps: every frame of
800 cycles of 20 frames at 64 px, 200 at 128 px; draws beyond it compute their maps afresh."""
PAINTS = ("sample", "batch")
"""When a random appearance is painted: per sample in the transform, or after collation for the whole
batch (:class:`~cineaug.transforms.batched_appearance.BatchedCycleAppearance`; the sample then carries
its tissue map, ``"tissue"``)."""
TISSUE_KEY = "tissue"
"""Where ``paint="batch"`` leaves a sample's tissue map (uint8, the image's shape; zeros for real samples)."""
MODES = ("replace", "add")
"""How a synthetic sample enters: in place of the real one, or beside it."""
RANDOM_APPEARANCES: dict[str, dict[str, float]] = {"gmm": {}, "gmm-bssfp": {"bright_blood_prob": 1.0}}
"""Named random renderings of a label cycle: :class:`RandCycleAppearance` options (``gmm-bssfp``: the
blood pools always brighter than the myocardium, as in bSSFP cine)."""
APPEARANCES = ("source", *RANDOM_APPEARANCES, "jitter")
"""Appearances of a synthetic cycle: the source's own image, a random rendering of its labels, or
(``jitter``) the source's image randomised around its own texture (:class:`RandTextureJitter`: for
sources that carry real texture, such as a bank painted by a trained renderer)."""


def named_appearance(name: str) -> RandCycleAppearance | None:
    """The painter of a named appearance (:data:`APPEARANCES`): None for ``"source"`` (the source's
    own image), :class:`RandTextureJitter` for ``"jitter"``, else a :class:`RandCycleAppearance`."""
    if name == "jitter":
        return RandTextureJitter()
    named = RANDOM_APPEARANCES.get(name)
    return None if named is None else RandCycleAppearance(**named)


def own_deformation() -> Rand2DElasticd:
    """Affine + elastic warp of a sample's own ``image``/``label`` ``[T,H,W]`` (one warp for all frames)."""
    return Rand2DElasticd(
        ("image", "label"),
        spacing=(16, 16),
        magnitude_range=(1.0, 3.0),
        prob=1.0,
        rotate_range=math.radians(15),
        scale_range=(0.15, 0.15),
        translate_range=(4, 4),
        mode=("bilinear", "nearest"),
        padding_mode="border",
    )


SYNTHETIC_META = "cineaug_synthetic"
ROLES = ("image", "label", "keep")
"""What a key beyond ``(image, label)`` gets when a sample is replaced (or a number: a constant map)."""


def _like(new: torch.Tensor, ref: Any, synthetic: bool) -> torch.Tensor:
    """``new`` as ``ref`` would be converted: its dtype and device and, when metadata is tracked, a
    MetaTensor with ``ref``'s affine, meta and applied operations: the synthetic sample sits in the
    real one's grid, so later spatial transforms and ``Invertd`` treat it as they treat the real one."""
    ref = convert_to_tensor(ref, track_meta=get_track_meta())
    if not ref.dtype.is_floating_point and new.dtype.is_floating_point:
        info = torch.iinfo(ref.dtype) if ref.dtype != torch.bool else None
        new = new.round() if info is None else new.round().clamp(info.min, info.max)
    new = new.to(device=ref.device, dtype=ref.dtype)
    if isinstance(ref, MetaTensor):
        out = MetaTensor(new, meta=dict(ref.meta))
        out.applied_operations = list(ref.applied_operations)
        out.meta[SYNTHETIC_META] = synthetic
        return out
    return new


class SyntheticCycleAugmenter(RandomizableTransform):
    """Array version: ``(image, label) -> (image, label, synthetic)``.

    Args:
        generator: a cineaug cycle generator, run live (see :class:`~cineaug.generate.SyntheticPool`);
            or None with ``bank``.
        prob: probability of replacing the sample (default 0.25, the best share measured on ACDC).
        match_pathology: draw the synthetic cycle from the sample's own pathology when the source
            knows it (pass ``pathology=`` to ``__call__``); otherwise a class drawn uniformly.
        batch_size: cycles per generator pass (the pool refills per class).
        precision: ``"auto"`` (bf16 only where the device runs it natively), ``"bf16"`` or ``"fp32"``.
        bank: cycles written earlier (a folder from ``cineaug sample MODEL --out BANK`` or
            ``cineaug simulate``, or a :class:`~cineaug.generate.SyntheticBank`) instead of
            ``generator``.
        own_labels: instead of a generator or a bank, take the sample's own image and label and
            deform them (affine + elastic, the same warp for every frame); with
            ``appearance="gmm"`` only the labels and the background's shapes survive.
        appearance: ``"source"`` keeps the source's image; ``"gmm"`` renders the label cycle with a
            random appearance (:class:`~cineaug.transforms.appearance.RandCycleAppearance`, or pass
            one configured); ``"gmm-bssfp"`` the same with the blood pools always brighter than the
            myocardium, as in bSSFP cine (better in-distribution on ACDC); ``"jitter"`` keeps the
            source's image and randomises each tissue's contrast around it
            (:class:`~cineaug.transforms.appearance.RandTextureJitter`); a trained label renderer
            (:class:`~cineaug.models.renderer.LabelRenderer`, or a
            :class:`~cineaug.generate.RenderedAppearance`) paints it with real texture.
        n_clusters: background intensity classes painted by ``"gmm"``
            (:func:`~cineaug.tissues.tissue_map`); a renderer sets its own.
        intensity: how the synthetic image (in [-1, 1]) follows the sample's intensities:
            ``"match"`` (default: the sample's 0.5-99.5 percentile range, so z-scored, raw and
            cineaug pipelines alike), ``"keep"`` ([-1, 1] as drawn), or ``f(synthetic, real)``.
            The sample's own image, deformed (``own_labels`` with ``appearance="source"``), keeps
            its intensities.
        paint: ``"sample"`` (default) paints a random appearance here; ``"batch"`` leaves the image
            unpainted (zeros) and the drawn tissue map in :attr:`tissue`, for
            :class:`~cineaug.transforms.batched_appearance.BatchedCycleAppearance` to paint the
            collated batch in one call (``"gmm"`` / ``"gmm-bssfp"`` or a
            :class:`~cineaug.transforms.appearance.RandCycleAppearance`, with ``intensity="keep"``;
            the source's frames must be on the sample's grid, as in cineaug's caches: a
            ``ValueError`` otherwise).

    The synthetic frames are resampled to the sample's in-plane spacing (a MetaTensor's affine, or
    ``spacing=`` in mm) and centred in its grid; without a spacing the synthetic field of view is
    fitted to the grid (cineaug's own caches: one field of view for all).
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self,
        generator: nn.Module | None = None,
        prob: float = DEFAULT_PROB,
        match_pathology: bool = False,
        batch_size: int = 32,
        precision: str = "auto",
        bank: str | os.PathLike | SyntheticBank | None = None,
        own_labels: bool = False,
        appearance: str | RandCycleAppearance | RenderedAppearance | nn.Module = "source",
        n_clusters: int = 4,
        intensity: Intensity = "match",
        paint: str = "sample",
    ):
        RandomizableTransform.__init__(self, prob)
        if appearance == "jitter" and own_labels:
            raise ValueError("appearance='jitter' randomises a drawn image: not with own_labels=True")
        if not callable(intensity) and intensity not in INTENSITIES:
            raise ValueError(f"intensity must be one of {INTENSITIES} or a callable, got {intensity!r}")
        self.intensity = intensity
        if own_labels and (generator is not None or bank is not None):
            raise ValueError("own_labels=True takes the sample's labels: pass no generator and no bank")
        self.pool = None if own_labels else cycle_source(generator, bank, batch_size, precision)
        self.deform = own_deformation() if own_labels else None
        if isinstance(appearance, str) and appearance not in APPEARANCES:
            raise ValueError(
                f"appearance must be one of {APPEARANCES}, a RandCycleAppearance or a label renderer; "
                f"got {appearance!r}"
            )
        if isinstance(appearance, nn.Module):
            appearance = RenderedAppearance(appearance)
        if isinstance(appearance, str):
            appearance = named_appearance(appearance)
        self.render = appearance
        if paint not in PAINTS:
            raise ValueError(f"paint must be one of {PAINTS}, got {paint!r}")
        if paint == "batch" and (type(appearance) is not RandCycleAppearance or intensity != "keep"):
            raise ValueError(
                "paint='batch' paints a random appearance ('gmm', 'gmm-bssfp' or a RandCycleAppearance) "
                f"after collation, in [-1, 1]: it needs intensity='keep'; got appearance {appearance!r}, "
                f"intensity {intensity!r}"
            )
        self.paint = paint
        self.tissue: torch.Tensor | None = None  # paint="batch": the last synthetic sample's tissue map
        self.n_clusters = appearance.n_clusters if isinstance(appearance, RenderedAppearance) else n_clusters
        self.match_pathology = match_pathology
        self.drawn: torch.Tensor | None = None  # the last synthetic image as drawn, in [-1, 1]
        self._tissue_cache: dict[tuple, np.ndarray] = {}  # (cycle, frame, n_clusters) -> tissue map, uint8
        self._tissue_bytes = 0
        self._class: int | None = None
        self._frame = 0

    @property
    def n_classes(self) -> int:
        """Pathology classes the source draws from (0 for the sample's own labels)."""
        return self.pool.n_classes if self.pool is not None else 0

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        if self.pool is not None:
            self.pool.reseed(int(self.R.randint(MAX_SEED)))
        for part in (self.deform, self.render):
            if part is not None:
                part.set_random_state(int(self.R.randint(MAX_SEED)))
        return self

    def randomize(self, data: Any = None, pathology: str | None = None) -> None:
        super().randomize(None)
        n = self.n_classes
        known = self.pool.class_index(pathology) if self.match_pathology and self.pool is not None else None
        self._class = known if known is not None else (int(self.R.randint(n)) if n else None)
        self._frame = int(self.R.randint(1 << 16))

    def synthetic(
        self,
        frames: int,
        size: tuple[int, int],
        image: Any = None,
        label: Any = None,
        spacing: tuple[float, float] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The drawn synthetic cycle, ``frames`` 1 (one random frame) or all, placed in a grid of
        ``size`` at ``spacing`` (row, col mm; None: the field of view fitted to the grid).

        With ``own_labels`` the cycle is the given ``image`` and ``label`` ``[T,H,W]``, deformed.
        """
        if self.deform is not None:
            if label is None:
                raise ValueError("own_labels=True needs the sample's label")
            warped = self.deform(
                {"image": torch.as_tensor(image).float(), "label": torch.as_tensor(label).float()}
            )
            image, label = (
                torch.as_tensor(warped["image"]),
                torch.as_tensor(warped["label"]).round().to(torch.uint8),
            )
            key = None
        else:
            index = self.pool.draw(self._class) if isinstance(self.pool, SyntheticBank) else None
            image, label = self.pool.take(self._class) if index is None else self.pool.read(index)  # [T,H,W]
            t = None
            if frames == 1:
                t = self._frame % image.shape[0]
                image, label = image[t : t + 1], label[t : t + 1]
            elif frames != image.shape[0]:
                raise ValueError(
                    f"a sample of {frames} channels: neither a frame (1 channel) nor a cycle of the "
                    f"source's {image.shape[0]} frames"
                )
            key = None if index is None else (index, t)
        if self.paint == "batch":  # painted after collation, in the sample's grid
            source_mm = None if self.deform is not None else self.pool.spacing_mm
            if not same_grid(image.shape, source_mm, size, spacing):
                raise ValueError(
                    f"paint='batch' paints in the sample's grid, and the source's frames "
                    f"({image.shape[-2]}x{image.shape[-1]} px at {source_mm} mm) are not on it "
                    f"({size[0]}x{size[1]} px at {spacing} mm): use paint='sample'"
                )
            self.tissue = torch.from_numpy(self._tissues(image, label, key).astype(np.uint8))
            return torch.zeros(self.tissue.shape), torch.as_tensor(label)
        if isinstance(self.render, RandTextureJitter):  # around the source's own image
            image = self.render(self._tissues(image, label, key), image)
        elif self.render is not None:
            image = self.render(self._tissues(image, label, key))
        if self.deform is not None:  # the sample's own grid already
            return fit_frames(image, size, "bilinear"), fit_frames(label, size, "nearest")
        return resample_to(image, label, self.pool.spacing_mm, size, spacing)

    def _tissues(self, image: torch.Tensor, label: torch.Tensor, key: tuple | None) -> np.ndarray:
        """:func:`~cineaug.tissues.tissue_map` of the drawn frames; a bank's are computed once per
        (cycle, frame) and kept (a bank never changes), up to :data:`MAX_CACHED_TISSUE_BYTES`."""
        key = None if key is None else (*key, self.n_clusters)
        cached = self._tissue_cache.get(key) if key is not None else None
        if cached is not None:
            return cached.astype(np.int64)
        tissues = tissue_map(image, label, self.n_clusters)
        fits = self._tissue_bytes + tissues.size <= MAX_CACHED_TISSUE_BYTES
        if key is not None and fits and tissues.max() <= 255:
            self._tissue_cache[key] = tissues.astype(np.uint8)
            self._tissue_bytes += tissues.size
        return tissues

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_tissue_cache"], state["_tissue_bytes"] = {}, 0  # recomputed where used, never pickled
        return state

    def __call__(
        self,
        image: Any,
        label: Any = None,
        pathology: str | None = None,
        randomize: bool = True,
        spacing: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, bool]:
        """Replace ``image`` (``[T,H,W]``, ``[1,H,W]`` or ``[1,H,W,1]``) and ``label`` with
        probability ``prob``; ``spacing`` (row, col mm) where ``image`` is not a MetaTensor.

        Raises:
            ValueError: a layout with no honest synthetic counterpart (several channels that are not
                the cycle's frames; a volume of several slices), naming the shape.
        """
        if randomize:
            self.randomize(pathology=pathology)
        self.tissue = None
        if not self._do_transform:
            img = convert_to_tensor(image, track_meta=get_track_meta())
            lab = None if label is None else convert_to_tensor(label, track_meta=get_track_meta())
            if isinstance(img, MetaTensor):
                img.meta[SYNTHETIC_META] = False
            return img, lab, False
        channels, size, volume = frame_layout(image.shape)
        target = in_plane_spacing(image, spacing)
        flat = lambda x: x if x is None or not volume else torch.as_tensor(x)[..., 0]  # noqa: E731
        syn_image, syn_label = self.synthetic(channels, size, flat(image), flat(label), target)
        self.drawn = None
        if self.paint == "batch":
            self.tissue = self.tissue[..., None] if volume else self.tissue
        elif self.deform is None or self.render is not None:  # drawn or painted in [-1, 1]
            self.drawn = syn_image[..., None] if volume else syn_image
            syn_image = follow_intensities(syn_image, image, self.intensity)
        if volume:
            syn_image, syn_label = syn_image[..., None], syn_label[..., None]
        image = _like(syn_image, image, True)
        label = (
            None
            if label is None
            else _like(syn_label, convert_to_tensor(label, track_meta=get_track_meta()), True)
        )
        return image, label, True


class SyntheticCycleAugmenterd(SharedProb, RandomizableTransform, MapTransform):
    """Dictionary version: replaces ``keys[0]`` (image) and ``keys[1]`` (label) together.

    Args:
        keys: ``(image_key, label_key)``; a single key replaces the image only.
        generator: as :class:`SyntheticCycleAugmenter`.
        prob: probability of replacing a sample.
        match_pathology: as :class:`SyntheticCycleAugmenter`.
        batch_size: as :class:`SyntheticCycleAugmenter`.
        precision: as :class:`SyntheticCycleAugmenter`.
        bank: as :class:`SyntheticCycleAugmenter` (instead of ``generator``).
        own_labels: as :class:`SyntheticCycleAugmenter` (the sample's own labels, deformed).
        appearance: as :class:`SyntheticCycleAugmenter` (``"source"`` or ``"gmm"``).
        n_clusters: as :class:`SyntheticCycleAugmenter`.
        intensity: as :class:`SyntheticCycleAugmenter` (``"match"``: the sample's intensity range).
        roles: what other keys of a replaced sample get: ``{"t2": "image"}`` (the synthetic image,
            in that key's intensities), ``"label"`` (the synthetic label), ``"keep"`` (the real
            sample's, on purpose) or a number (a constant map of that key's shape, e.g. ``1.0`` for a
            loss-weight map). Keys named nowhere are left as they are, as by any MONAI
            ``MapTransform``.
        spacing_key: the sample's in-plane spacing (row, col mm) where the image is not a MetaTensor
            (cineaug's ``CycleDataset`` gives ``spacing``; ``pixdim`` is read too).
        paint: as :class:`SyntheticCycleAugmenter`: with ``"batch"`` every sample carries
            ``tissue_key`` (the synthetic sample's tissue map, zeros for real ones; uint8, the image's
            shape) and the synthetic image is painted after collation,
            ``BatchedCycleAppearance().paint(batch["image"], batch["tissue"], batch["synthetic"])``.
        tissue_key: where ``paint="batch"`` writes the tissue map.
        mode: ``"replace"`` (the synthetic sample takes the real one's place with probability
            ``prob``) or ``"add"`` (a list: the real sample, then with probability ``prob`` a
            synthetic one beside it; MONAI's ``Compose`` applies the next transforms to each and
            ``list_data_collate`` flattens them into the batch, as with ``RandCropByPosNegLabeld``).
        pathology_key: the sample's pathology name (read for ``match_pathology``, rewritten).
        synthetic_key: where the per-sample flag is written (bool tensor).
        allow_missing_keys: skip missing keys instead of raising ``KeyError``.

    Besides image and label, the known contract keys are kept consistent when a sample is
    replaced by a generated or banked cycle: ``labeled`` and ``observed`` (all True),
    ``label_source`` (GENERATED), ``annotated`` (the generator's classes), ``pathology``, ``source``
    ("generator"), ``ed_frame`` (0) and ``es_frame``. With ``own_labels`` the frames and classes
    stay the sample's own; only ``label_source`` (GENERATED where labelled) and ``source``
    ("own-labels") change.

    Example:
        >>> aug = SyntheticCycleAugmenterd(keys=("image", "label"), generator=g, prob=0.3)  # doctest: +SKIP
        >>> aug = SyntheticCycleAugmenterd(keys=("image", "label"), bank="runs/bank")     # doctest: +SKIP
        >>> Compose([aug, RandAffined(...)])                                                # doctest: +SKIP
        >>> add = SyntheticCycleAugmenterd(keys=("image", "label"), bank="runs/sim", appearance="gmm",
        ...                                mode="add")  # a synthetic sample beside a quarter of the reals
    """

    backend = SyntheticCycleAugmenter.backend

    def __init__(
        self,
        keys: KeysCollection,
        generator: nn.Module | None = None,
        prob: float = DEFAULT_PROB,
        match_pathology: bool = False,
        batch_size: int = 32,
        precision: str = "auto",
        pathology_key: str = "pathology",
        synthetic_key: str = "synthetic",
        allow_missing_keys: bool = False,
        bank: str | os.PathLike | SyntheticBank | None = None,
        own_labels: bool = False,
        appearance: str | RandCycleAppearance | RenderedAppearance | nn.Module = "source",
        n_clusters: int = 4,
        mode: str = "replace",
        intensity: Intensity = "match",
        roles: Mapping[Hashable, str | float] | None = None,
        spacing_key: str = "spacing",
        paint: str = "sample",
        tissue_key: str = TISSUE_KEY,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        if len(self.keys) > 2:
            raise ValueError(
                f"keys {list(self.keys)}: give (image, label); other keys take a role, "
                f"roles={{key: one of {ROLES} or a number}}"
            )
        self.roles = dict(roles or {})
        for key, role in self.roles.items():
            if not isinstance(role, (int, float)) and role not in ROLES:
                raise ValueError(f"roles[{key!r}] = {role!r}: one of {ROLES} or a number")
            if role == "image" and paint == "batch":
                raise ValueError(f"roles[{key!r}] = 'image': with paint='batch' no image is drawn here")
        self.mode = mode
        self.augmenter = SyntheticCycleAugmenter(
            generator, 1.0, match_pathology, batch_size, precision, bank, own_labels, appearance, n_clusters,
            intensity, paint,
        )  # fmt: skip
        self.tissue_key = tissue_key
        self.pathology_key, self.synthetic_key, self.spacing_key = pathology_key, synthetic_key, spacing_key

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self.augmenter.set_random_state(int(self.R.randint(MAX_SEED)))
        return self

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any] | list[dict[Hashable, Any]]:
        """The sample replaced (``mode="replace"``: a dict) or ``[real]`` / ``[real, synthetic]``
        (``mode="add"``: a list)."""
        if self.first_key(data) == ():
            d = convert_to_tensor(dict(data), track_meta=get_track_meta())
            return [d] if self.mode == "add" else d
        self.randomize(None)
        if self.mode == "add":
            real = self._kept(data)
            return [real, self._replaced(data)] if self._do_transform else [real]
        return self._replaced(data) if self._do_transform else self._kept(data)

    def _kept(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """The sample as it is (tensors, flagged real)."""
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = convert_to_tensor(d[key], track_meta=get_track_meta())
            if isinstance(d[key], MetaTensor):
                d[key].meta[SYNTHETIC_META] = False
        if self.augmenter.paint == "batch":
            d[self.tissue_key] = torch.zeros(tuple(d[self.first_key(d)].shape), dtype=torch.uint8)
        d[self.synthetic_key] = torch.tensor(False)
        return d

    def _replaced(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """A copy of the sample with a synthetic image and label (flagged synthetic)."""
        d = dict(data)
        present = list(self.key_iterator(d))
        image_key = present[0]
        label_key = present[1] if len(present) > 1 else None
        self.augmenter.randomize(pathology=d.get(self.pathology_key))
        spacing = d.get(self.spacing_key, d.get("pixdim"))
        image, label, _ = self.augmenter(
            d[image_key], None if label_key is None else d[label_key], randomize=False, spacing=spacing
        )
        d[image_key] = image
        if label_key is not None:
            d[label_key] = label
        if self.augmenter.paint == "batch":
            d[self.tissue_key] = self.augmenter.tissue
        self._fill_roles(d, label)
        self._update_metadata(d, label)
        d[self.synthetic_key] = torch.tensor(True)
        return d

    def _fill_roles(self, d: dict[Hashable, Any], label: Any) -> None:
        """The keys of :attr:`roles`, for a replaced sample (image-like keys get the drawn image in
        their own intensities)."""
        for key, role in self.roles.items():
            if key not in d or role == "keep":
                continue
            ref = d[key]
            if role == "image":
                if self.augmenter.drawn is None:
                    raise ValueError(f"roles[{key!r}] = 'image': own labels as they are draw no image")
                value = follow_intensities(self.augmenter.drawn, ref, self.augmenter.intensity)
            elif role == "label":
                if label is None:
                    raise ValueError(f"roles[{key!r}] = 'label' needs a label key")
                value = torch.as_tensor(label)
            else:
                value = torch.full(tuple(ref.shape), float(role))
            if tuple(value.shape) != tuple(ref.shape):
                raise ValueError(f"key {key!r} of shape {list(ref.shape)} cannot take the synthetic {role}")
            d[key] = _like(value, ref, True)

    def _update_metadata(self, d: dict[Hashable, Any], label: torch.Tensor | None) -> None:
        pool = self.augmenter.pool
        if pool is None:  # the sample's own labels, deformed: same frames and classes, new pixels
            if "label_source" in d and "labeled" in d:
                d["label_source"] = torch.where(
                    torch.as_tensor(d["labeled"]).bool(), int(LabelSource.GENERATED), int(LabelSource.NONE)
                ).to(torch.uint8)
            if "source" in d:
                d["source"] = "own-labels"
            return
        frames = int(label.shape[0]) if label is not None else None
        if "labeled" in d and frames is not None:
            d["labeled"] = torch.ones(len(d["labeled"]), dtype=torch.bool)
        if "observed" in d:  # a synthetic cycle has an image in every frame
            d["observed"] = torch.ones(len(d["observed"]), dtype=torch.bool)
        if "label_source" in d:
            d["label_source"] = torch.full(
                (len(d["label_source"]),), int(LabelSource.GENERATED), dtype=torch.uint8
            )
        if "annotated" in d:
            annotated = torch.zeros(len(d["annotated"]), dtype=torch.bool)
            annotated[[0, *pool.annotated_classes]] = True
            d["annotated"] = annotated
        if self.pathology_key in d and pool.n_classes and self.augmenter._class is not None:
            d[self.pathology_key] = pool.class_names[self.augmenter._class]
        if "source" in d:
            d["source"] = "generator"
        if "ed_frame" in d:
            d["ed_frame"] = 0
        if "es_frame" in d and label is not None and label.shape[0] > 1:
            lv = (torch.as_tensor(label) == LV).flatten(1).sum(1)
            d["es_frame"] = int(torch.argmin(lv)) if lv.max() > 0 else -1


SyntheticCycleAugmenterD = SyntheticCycleAugmenterDict = SyntheticCycleAugmenterd
