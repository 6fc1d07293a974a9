"""Scores as the challenges report them: predictions pasted back into each patient's native grid, Dice
and HD95 (mm) per class per 3D volume (ED and ES apart), averaged per patient.

A test cache prepared with native labels (``cineaug prepare ... --crop image``, which keeps them, or
``--native-labels``) holds, per cycle, the expert frames' labels in the source's own pixel grid, the
crop centre, the native spacing and shape. For each patient and labelled phase, every slice's crop is
segmented, its class probabilities are pasted back (:func:`cineaug.preprocess.paste_back`: the crop
and the in-plane resampling undone), the slices are stacked by slice index and the 3D volume is
compared with the expert volume, with the slice spacing as the third axis of HD95. This is the ACDC
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
    phase: str  # "ED", "ES" (or "frame<t>" for another labelled frame)
    images: torch.Tensor  # [Z,1,h,w] float32 prepared crops, slices in order
    truth: np.ndarray  # [Z,H0,W0] uint8 expert labels in the native grid
    centers: list[tuple[float, float]]  # crop centre of each slice, native pixels (row, col)
    crop_mm: float  # pixel size of the crops
    native_spacing: tuple[float, float]  # (row, col) mm
    slice_mm: float  # distance between slices, mm
    annotated: torch.Tensor  # [4] bool, classes the expert annotated (background always)


def _phase(cycle: CineCycle, t: int) -> str:
    return "ED" if t == cycle.ed_frame else "ES" if t == cycle.es_frame else f"frame{t}"


def volumes_of(cycles: Sequence[CineCycle], where: str = "test data") -> list[Volume]:
    """The 3D volumes of prepared cycles that kept native labels (one per subject and labelled phase).

    Raises:
        ValueError: no cycle keeps native labels, or the slices of a subject disagree on the native
            grid (shape or spacing), naming ``where``.
    """
    by_volume: dict[tuple[str, str], list[tuple[CineCycle, int, np.ndarray]]] = {}
    for cycle in cycles:
        if cycle.native_label is None:
            continue
        for t, native in zip(cycle.extra["native_frames"], cycle.native_label):
            by_volume.setdefault((cycle.subject, _phase(cycle, t)), []).append((cycle, t, native))
    if not by_volume:
        raise ValueError(
            f"{where}: no native labels to score volumes with; prepare the test set with "
            "`cineaug prepare ... --crop image` (or --native-labels)"
        )
    volumes = []
    for (subject, phase), slices in sorted(by_volume.items()):
        slices.sort(key=lambda s: s[0].slice_index)
        first = slices[0][0]
        grids = {(tuple(c.extra["native_shape"]), tuple(c.extra["native_spacing"])) for c, _, _ in slices}
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
                images=torch.stack([torch.from_numpy(c.image[t : t + 1]) for c, t, _ in slices]).float(),
                truth=np.stack([native for _, _, native in slices]),
                centers=[tuple(c.extra["crop_center_px"]) for c, _, _ in slices],
                crop_mm=float(first.spacing[0]),
                native_spacing=tuple(first.extra["native_spacing"]),
                slice_mm=float(first.slice_thickness or 1.0),
                annotated=torch.from_numpy(annotated),
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
        ``volume_count``: volumes scored.
    """
    scores = []  # (subject, phase, [2,3] dice and HD95)
    for volume in volumes:
        values = np.stack(volume_scores(predict_volume(model, volume), volume))  # [2,3]
        scores.append((volume.subject, volume.phase, values))
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
    return out
