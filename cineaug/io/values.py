"""Whether an image volume holds an image at all: what every reader checks before a cycle is made."""

from __future__ import annotations

import os

import numpy as np

from ..errors import CineDataError

MAX_INTENSITY = 1e9
"""Larger magnitudes come from no scanner (MR magnitudes are stored as 12-16 bit integers, maybe
rescaled): such a volume was corrupted or mis-scaled, and float32 arithmetic on it overflows."""


def check_image_values(path: str | os.PathLike, data: np.ndarray) -> None:
    """Refuse an image volume that holds no usable image: constant (every voxel one value: blank),
    intensities beyond :data:`MAX_INTENSITY`, or mostly negative (not a magnitude image). NaN and inf
    are refused on loading.

    Raises:
        CineDataError: naming ``path`` and what is wrong.
    """
    lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        raise CineDataError(path, f"constant image (every voxel is {lo:g}): nothing was acquired")
    if max(abs(lo), abs(hi)) > MAX_INTENSITY:
        raise CineDataError(
            path, f"intensities {lo:.3g}..{hi:.3g} exceed {MAX_INTENSITY:.0e}: corrupt or mis-scaled"
        )
    if np.count_nonzero(data > 0) <= 0.01 * data.size:  # the 99th percentile is <= 0
        raise CineDataError(
            path, f"intensities {lo:.3g}..{hi:.3g}, 99% of them <= 0: not a magnitude image (inverted?)"
        )
