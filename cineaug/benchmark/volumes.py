"""Scores as the challenges report them: predictions pasted back into each patient's native grid, Dice
and HD95 (mm) per class per 3D volume (ED and ES apart), averaged per patient.

A test cache prepared with native labels (``cineaug prepare ... --crop image``, which keeps them, or
``--native-labels``) holds, per cycle, the expert frames' labels in the source's own pixel grid, the
crop centre, the native spacing and shape. For each patient and labelled phase, every slice's crop is
segmented, its class probabilities are pasted back (:func:`cineaug.preprocess.paste_back`: the crop
and the in-plane resampling undone), the slices are stacked in spatial order (their position along the
slice normal where the source records it, else their index) and the 3D volume is compared with the
expert volume, with the slice spacing as the third axis of HD95. This is the ACDC
challenge's unit (Bernard et al. 2018); the per-frame scores of :mod:`.segmentation` stay beside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..preprocess import paste_back
from ..types import ALL_CLASSES, CLASS_NAMES, CineCycle
from .segmentation import class_scores, one_hot

PREFIX = "volume_"
"""Prefix of the per-volume columns of a result row (``volume_dice_lv``, ``volume_hd95_mean`` ...)."""


@dataclass
class Volume:
    """One patient's labelled phase: the crops to segment and the expert volume to compare with."""

    subject: str
    phase: str  # "ED" or "ES"
    images: torch.Tensor  # [Z,1,h,w] float32 prepared crops, slices in order
    truth: np.ndarray  # [Z,H0,W0] uint8 expert labels in the native grid
    centers: list[tuple[float, float]]  # crop centre of each slice, native pixels (row, col)
    crop_mm: float  # pixel size of the crops
    native_spacing: tuple[float, float]  # (row, col) mm
    slice_mm: float  # distance between slices, mm
    annotated: torch.Tensor  # [4] bool, classes the expert annotated (background always)
    slice_indices: tuple[int, ...] = ()  # each stacked slice's ``slice_index``, in stacking order
    frames: tuple[int, ...] = ()  # each stacked slice's prepared frame of this phase


PHASES = ("ED", "ES")
"""The phases scored per volume, as the ACDC challenge scores them."""


def _stacked(slices: list[CineCycle], subject: str, phase: str, where: str) -> tuple[list[CineCycle], float]:
    """The slices of one volume in spatial order and the distance between them (mm).

    Slices with ``extra["slice_position_mm"]`` (DICOM sources: acquisition order and ``SliceThickness``
    need not be the spatial order and spacing) are stacked and spaced by it; others by
    ``slice_index``, spaced by ``slice_thickness`` (a NIfTI volume's slice spacing). A single slice
    is spaced by its thickness, or 1 mm when unknown (only a missed class's diagonal reads it).

    Raises:
        ValueError: a slice of the volume is missing (not prepared, or without expert labels at this
            phase: its labels would silently leave the volume), slices disagree on the volume's slice
            count, two slices share a position, or the slice spacing of several slices is unknown.
    """
    name = f"{where}: {subject} {phase}"
    indices = sorted(c.slice_index for c in slices)
    counts = {c.extra.get("native_slices") for c in slices}
    if len(counts) > 1:
        raise ValueError(
            f"{name}: its slices disagree on the volume's slice count ({sorted(counts, key=str)})"
        )
    n = counts.pop()
    expected = range(n) if n is not None else range(indices[0], indices[-1] + 1)
    missing = sorted(set(expected) - set(indices))
    if missing or len(indices) != len(set(indices)):
        what = f"slices {missing} are missing" if missing else f"slice indices repeat ({indices})"
        raise ValueError(
            f"{name}: {what} from a volume of {len(expected)}; their expert labels would be left out "
            "of the 3D scores. Prepare every slice (see the cache's skipped list) or leave the "
            "subject out of the test data; sources whose experts labelled only some slices are "
            "scored per frame (--protocol quick)"
        )
    positions = [c.extra.get("slice_position_mm") for c in slices]
    if len(slices) > 1 and None not in positions:
        order = np.argsort(positions, kind="stable")
        gaps = np.diff(np.asarray(positions, float)[order])
        if gaps.min() < 0.01:
            same = [slices[i].slice_index for i in order[np.flatnonzero(gaps < 0.01)[0] :][:2]]
            raise ValueError(f"{name}: slices {same} lie at the same position along the slice normal")
        return [slices[i] for i in order], float(np.median(gaps))
    slices = sorted(slices, key=lambda c: c.slice_index)
    thickness = slices[0].slice_thickness
    if thickness is None and len(slices) > 1:
        raise ValueError(f"{name}: no slice thickness or position, so no distances between slices")
    return slices, float(thickness or 1.0)


def _check_phases(cycles: list[CineCycle], where: str) -> None:
    """One ED and one ES frame per subject, so that its expert frames form ED and ES volumes.

    Raises:
        ValueError: the slices of a subject disagree on the ED or ES frame (e.g. ES estimated per
            slice), or expert frames that are neither ED nor ES stand where no ES volume does.
    """
    by_subject: dict[str, list[CineCycle]] = {}
    for cycle in cycles:
        by_subject.setdefault(cycle.subject, []).append(cycle)
    for subject, group in by_subject.items():
        for phase, attr in (("ED", "ed_frame"), ("ES", "es_frame")):
            frames = {getattr(c, attr) for c in group}
            if len(frames) > 1:
                raise ValueError(
                    f"{where}: the slices of {subject} disagree on the {phase} frame ({sorted(frames)}): "
                    f"a volume needs one; give the source's {phase} frame (the reader's {attr})"
                )
        other = sorted(
            {t for c in group for t in c.extra["native_frames"]} - {group[0].ed_frame, group[0].es_frame}
        )
        if other and group[0].es_frame < 0:
            raise ValueError(
                f"{where}: {subject} has expert frames {other} but no ES frame: its ES labels would be "
                "left out of the volumes; give the source's ES frame (the reader's es_frame)"
            )


def _phase(cycle: CineCycle, t: int) -> str | None:
    return "ED" if t == cycle.ed_frame else "ES" if t == cycle.es_frame else None


def volumes_of(cycles: Sequence[CineCycle], where: str = "test data") -> list[Volume]:
    """The ED and ES volumes of prepared cycles that kept native labels (one per subject and phase;
    other expert frames are scored per frame only).

    Raises:
        ValueError: no cycle keeps native labels; the slices of a subject disagree on the native
            grid (shape or spacing) or on the ED or ES frame; a volume misses a slice, has two at
            one position, or lacks its slice spacing (naming ``where``, the subject and phase).
    """
    labelled = [c for c in cycles if c.native_label is not None]
    _check_phases(labelled, where)
    by_volume: dict[tuple[str, str], list[tuple[CineCycle, int, np.ndarray]]] = {}
    for cycle in labelled:
        for t, native in zip(cycle.extra["native_frames"], cycle.native_label):
            phase = _phase(cycle, t)
            if phase is not None:
                by_volume.setdefault((cycle.subject, phase), []).append((cycle, t, native))
    if not by_volume:
        raise ValueError(
            f"{where}: no native labels to score volumes with; prepare the test set with "
            "`cineaug prepare ... --crop image` (or --native-labels)"
        )
    volumes = []
    for (subject, phase), entries in sorted(by_volume.items()):
        frame_of = {id(c): (t, native) for c, t, native in entries}
        slices, slice_mm = _stacked([c for c, _, _ in entries], subject, phase, where)
        first = slices[0]
        grids = {(tuple(c.extra["native_shape"]), tuple(c.extra["native_spacing"])) for c in slices}
        if len(grids) > 1:
            raise ValueError(
                f"{where}: the slices of {subject} lie on different native grids {sorted(grids)}"
            )
        annotated = np.zeros(len(CLASS_NAMES), bool)
        annotated[[0, *first.annotated_classes]] = True
        volumes.append(
            Volume(
                subject=subject,
                phase=phase,
                images=torch.stack(
                    [torch.from_numpy(c.image[frame_of[id(c)][0]][None]) for c in slices]
                ).float(),
                truth=np.stack([frame_of[id(c)][1] for c in slices]),
                centers=[tuple(c.extra["crop_center_px"]) for c in slices],
                crop_mm=float(first.spacing[0]),
                native_spacing=tuple(first.extra["native_spacing"]),
                slice_mm=slice_mm,
                annotated=torch.from_numpy(annotated),
                slice_indices=tuple(c.slice_index for c in slices),
                frames=tuple(frame_of[id(c)][0] for c in slices),
            )
        )
    return volumes


@torch.no_grad()
def predict_volume(model: torch.nn.Module, volume: Volume) -> np.ndarray:
    """``[Z,H0,W0]`` uint8 labels: the model's softmax on each crop, pasted back into the native grid."""
    model.eval()
    device = next(model.parameters()).device
    probs = torch.softmax(model(volume.images.to(device)).float(), dim=1).cpu().numpy()  # [Z,4,h,w]
    shape = volume.truth.shape[1:]
    return np.concatenate(
        [
            paste_back(probs[z : z + 1], center, volume.crop_mm, volume.native_spacing, shape)
            for z, center in enumerate(volume.centers)
        ]
    )


def volume_scores(pred: np.ndarray, volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """3D Dice and HD95 (mm) per heart class of one volume: two ``[3]`` arrays (RV, myocardium, LV),
    by :func:`~cineaug.benchmark.segmentation.class_scores` (a class absent from the truth: NaN;
    never predicted: Dice 0, HD95 = the volume's diagonal; not annotated: NaN)."""
    spacing = (volume.slice_mm, *volume.native_spacing)
    diagonal = torch.tensor([float(np.sqrt(sum((s * n) ** 2 for s, n in zip(spacing, pred.shape))))])
    p1, y1 = (one_hot(torch.from_numpy(v)[None]) for v in (pred, volume.truth))  # [1,4,Z,H0,W0]
    dice, hd = class_scores(p1, y1, [spacing], diagonal, volume.annotated[None])
    return dice[0].numpy(), hd[0].numpy()


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """``np.nanmean`` that gives NaN without a warning where nothing was scored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmean(np.asarray(values, float), axis=axis)
    return out if axis is not None else float(out)


def score_volumes(model: torch.nn.Module, volumes: Sequence[Volume]) -> dict[str, object]:
    """Per-volume scores of ``model`` on ``volumes``, averaged as the ACDC challenge does.

    Returns:
        ``volume_dice_<class>`` / ``volume_hd95_<class>`` (rv, myocardium, lv) and ``*_mean`` over them:
        per patient the mean of its ED and ES volumes, then the mean over patients; the same per phase
        (``volume_dice_ed_lv`` ...); ``volume_dice_by_subject`` / ``volume_hd95_by_subject``: each
        patient's mean over classes and phases (the unit of a paired test over patients);
        ``volume_scores``: every volume's values, ``{subject: {phase: {"dice_rv": ..., "hd95_lv": ...}}}``;
        ``volume_count``: volumes scored; ``volume_missed``: (volume, class) pairs where the truth has
        the class and the prediction none (each scored HD95 = the volume's diagonal, hundreds of mm:
        one moves an arm's mean HD95 by millimetres).
    """
    scores = []  # (subject, phase, [2,3] dice and HD95)
    missed = 0
    for volume in volumes:
        pred = predict_volume(model, volume)
        values = np.stack(volume_scores(pred, volume))  # [2,3]
        scores.append((volume.subject, volume.phase, values))
        missed += sum(
            bool(volume.annotated[c]) and (volume.truth == c).any() and not (pred == c).any()
            for c in ALL_CLASSES
        )
    subjects = sorted({s for s, _, _ in scores})
    phases = sorted({p for _, p, _ in scores})
    by_subject = np.stack(
        [_nanmean(np.stack([v for s2, _, v in scores if s2 == s]), axis=0) for s in subjects]
    )  # [P,2,3]: mean over the subject's phases
    out: dict[str, object] = {}
    for m, metric in enumerate(("dice", "hd95")):
        for c in ALL_CLASSES:
            out[f"{PREFIX}{metric}_{CLASS_NAMES[c]}"] = _nanmean(by_subject[:, m, c - 1])
        out[f"{PREFIX}{metric}_mean"] = _nanmean(_nanmean(by_subject[:, m], axis=0))
        for phase in phases:
            phase_values = np.stack([v[m] for _, p, v in scores if p == phase])  # [P,3]
            for c in ALL_CLASSES:
                out[f"{PREFIX}{metric}_{phase.lower()}_{CLASS_NAMES[c]}"] = _nanmean(phase_values[:, c - 1])
        out[f"{PREFIX}{metric}_by_subject"] = {s: _nanmean(by_subject[i, m]) for i, s in enumerate(subjects)}
    out[f"{PREFIX}scores"] = {
        s: {
            p: {
                f"{metric}_{CLASS_NAMES[c]}": float(v[m, c - 1])
                for m, metric in enumerate(("dice", "hd95"))
                for c in ALL_CLASSES
            }
            for s2, p, v in scores
            if s2 == s
        }
        for s in subjects
    }
    out[f"{PREFIX}count"] = len(scores)
    out[f"{PREFIX}missed"] = int(missed)
    return out
