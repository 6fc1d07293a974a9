"""Placing a synthetic cycle into a real sample: its layout, physical spacing and intensities.

A synthetic cycle is ``[T,n,n]`` at the source's spacing (cineaug's caches: a 160 mm field of view,
2.5 mm per pixel at 64 px) with intensities in [-1, 1]. A user's sample may be a frame ``[1,H,W]``, a
cycle ``[T,H,W]`` or a volume ``[C,H,W,D]`` at any spacing and normalisation. Here the synthetic
frames are resampled to the sample's in-plane spacing (read from a MetaTensor's affine, or a
``spacing`` given with the sample) and centred in its grid (cropped or padded, never stretched), and
their intensities follow the sample's (by default its 0.5 and 99.5 percentiles, the ones cineaug's
preparation maps to -1 and 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.data import MetaTensor
from monai.data.utils import affine_to_spacing

INTENSITIES = ("match", "keep")
"""``match``: the synthetic image takes the sample's 0.5-99.5 percentile range; ``keep``: [-1, 1]."""
Intensity = str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""An intensity rule: a name of :data:`INTENSITIES`, or ``f(synthetic, real) -> image``."""
PERCENTILE_SAMPLES = 8192
"""Voxels (every k-th, a fixed stride) whose percentiles stand for the sample's: the range of a
frame or cycle to within a few percent, at a tenth of the cost of all of them."""


def in_plane_spacing(x: Any, spacing: Sequence[float] | None = None) -> tuple[float, float] | None:
    """(row, col) spacing in mm of a sample ``[C,H,W]`` or ``[C,H,W,D]``: a MetaTensor's affine (its
    first two spatial axes), else ``spacing`` (cineaug's ``spacing`` key, or ``pixdim``), else None."""
    if isinstance(x, MetaTensor):
        rows, cols = affine_to_spacing(x.affine, r=3)[:2].tolist()
        return float(rows), float(cols)
    if spacing is None:
        return None
    values = [float(v) for v in torch.as_tensor(spacing).flatten().tolist()]
    if len(values) < 2 or min(values[:2]) <= 0:
        raise ValueError(f"a sample's spacing must hold two positive in-plane values (mm), got {values}")
    return values[0], values[1]


def frame_layout(shape: Sequence[int]) -> tuple[int, tuple[int, int], bool]:
    """``(channels or frames, (H, W), is_volume)`` of a sample, or a clear error.

    ``[C,H,W]`` is a frame (``C = 1``) or a cycle (``C = T``); ``[C,H,W,1]`` a one-slice volume.
    A volume of several slices has no honest synthetic counterpart (a synthetic cycle is one slice).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 4:
        if shape[3] != 1:
            raise ValueError(
                f"a volume {list(shape)} of {shape[3]} slices: cineaug's synthetic samples are single "
                "short-axis slices (2D or 2D+t), and stacking unrelated slices would fake a 3D heart; "
                "slice the volume first (a 2D pipeline, as nnU-Net's 2d configuration) or use D = 1"
            )
        return shape[0], shape[1:3], True
    if len(shape) != 3:
        raise ValueError(
            f"a sample of shape {list(shape)}: expected [C,H,W] (a frame, C = 1), [T,H,W] (a cycle) "
            "or [C,H,W,1] (a one-slice volume)"
        )
    return shape[0], shape[1:3], False


def resample_to(
    image: torch.Tensor,
    label: torch.Tensor,
    source_mm: float | None,
    size: tuple[int, int],
    spacing: tuple[float, float] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic ``image``/``label`` ``[T,n,n]`` at ``source_mm`` per pixel -> ``[T,*size]`` at ``spacing``.

    With both spacings known the frames are resampled to the sample's spacing (bilinear images,
    nearest labels) and centred in its grid: cropped where the grid is smaller, padded with the
    image's minimum (label 0) where it is larger. Without them the field of view is fitted to the
    grid (cineaug's own caches share one field of view, so nothing changes there).
    """
    if source_mm is None or spacing is None:
        return fit_frames(image, size, "bilinear"), fit_frames(label, size, "nearest")
    scaled = _scaled(image.shape, source_mm, spacing)
    image, label = fit_frames(image, scaled, "bilinear"), fit_frames(label, scaled, "nearest")
    if scaled == tuple(size):  # the sample's own grid already (cineaug's caches): nothing to place
        return image, label
    return _centre(image, size, float(image.min())), _centre(label, size, 0)


def same_grid(
    shape: Sequence[int], source_mm: float | None, size: Sequence[int], spacing: tuple[float, float] | None
) -> bool:
    """Whether :func:`resample_to` leaves frames of ``shape`` at ``source_mm`` as they are: the
    source's grid is the sample's (``size`` at ``spacing``)."""
    have = tuple(shape[-2:])
    if source_mm is None or spacing is None:
        return have == tuple(size)
    return have == _scaled(have, source_mm, spacing) == tuple(size)


def _scaled(shape: Sequence[int], source_mm: float, spacing: Sequence[float]) -> tuple[int, ...]:
    """The in-plane size (px) of frames of ``shape`` at ``source_mm`` per pixel once at ``spacing``."""
    return tuple(max(1, round(n * source_mm / s)) for n, s in zip(shape[-2:], spacing))


def fit_frames(x: torch.Tensor, size: Sequence[int], mode: str) -> torch.Tensor:
    """``[C,h,w]`` -> ``[C,*size]`` (``bilinear`` for images, ``nearest`` for labels)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    kwargs = {"align_corners": False} if mode != "nearest" else {}
    return F.interpolate(x[None].float(), size=tuple(size), mode=mode, **kwargs)[0].to(x.dtype)


def _centre(x: torch.Tensor, size: tuple[int, int], fill: float) -> torch.Tensor:
    """``[C,h,w]`` centred in ``[C,*size]``: cropped or padded with ``fill`` per axis."""
    out = torch.full((x.shape[0], *size), fill, dtype=x.dtype)
    src, dst = [], []
    for have, want in zip(x.shape[-2:], size):
        start = abs(have - want) // 2
        n = min(have, want)
        src.append(slice(start, start + n) if have > want else slice(0, n))
        dst.append(slice(start, start + n) if want > have else slice(0, n))
    out[:, dst[0], dst[1]] = x[:, src[0], src[1]]
    return out


def follow_intensities(synthetic: torch.Tensor, real: Any, rule: Intensity) -> torch.Tensor:
    """The synthetic image (in [-1, 1]) in the sample's intensities by ``rule`` (:data:`Intensity`).

    ``match`` maps -1 and 1 to the real sample's 0.5 and 99.5 percentiles (over its finite voxels,
    :data:`PERCENTILE_SAMPLES` of them at a fixed stride):
    a z-scored sample gets z-score-like values, a raw scan scanner-like values, and a cineaug cycle
    (already in [-1, 1] by those percentiles) stays as it is.
    """
    if callable(rule):
        return rule(synthetic, torch.as_tensor(real))
    if rule == "keep":
        return synthetic
    flat = torch.as_tensor(real).detach().flatten()
    values = flat[:: max(1, flat.numel() // PERCENTILE_SAMPLES)].float().cpu().numpy()  # a fixed stride
    values = values[np.isfinite(values)]
    if values.size == 0:
        return synthetic
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1.0
    return (synthetic + 1.0) * (0.5 * float(hi - lo)) + float(lo)
