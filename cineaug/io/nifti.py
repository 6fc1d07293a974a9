"""Shared NIfTI loading core, and :func:`read_nifti` for a plain 4D cine NIfTI.

Orientation convention (project-wide): nibabel's data ``[X, Y, Z, T]`` becomes per-slice cycles
with ``image[t][row, col] = data[col, row, z, t]`` (x = column, y = row) and
``spacing = (zoom_y, zoom_x)`` in mm. It is written once, in :func:`from_nifti_array` (used by the
readers) and :func:`to_nifti_array` (used by every NIfTI writer: the simulator's ACDC export and
``cineaug sample --format nifti``). No reorientation or resampling is done here: readers return raw
float32 intensities and the native number of frames.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError

from ..errors import CineDataError, ReadLog
from ..types import ALL_CLASSES, LV, UNKNOWN_PATHOLOGY, CineCycle, LabelSource
from .values import check_image_values

_FRAME_INTERVAL_MS = (5.0, 200.0)
"""Plausible cine frame intervals (ms); a 4th zoom outside this, in any unit, means "unknown"."""
_TIME_UNIT_MS = {"msec": 1.0, "sec": 1000.0, "usec": 0.001}


@dataclass
class CineVolume:
    """A 4D cine volume as stored: ``data`` float32 ``[X, Y, Z, T]``.

    Attributes:
        path: the file it came from.
        data: raw intensities, float32 ``[X, Y, Z, T]``.
        zooms: voxel size ``(x, y, z)`` in mm.
        frame_interval: time between frames in ms, or None when the header does not say.
        observed: bool ``[T]``, the frames that hold an acquired volume (None: all); the others
            hold :data:`~cineaug.types.UNOBSERVED_FILL_RAW`.
    """

    path: str
    data: np.ndarray  # [X,Y,Z,T] float32
    zooms: tuple[float, float, float]
    frame_interval: float | None
    observed: np.ndarray | None = None  # [T] bool

    @property
    def spacing(self) -> tuple[float, float]:
        """In-plane pixel spacing ``(row, col) = (zoom_y, zoom_x)`` in mm."""
        return (self.zooms[1], self.zooms[0])

    @property
    def n_frames(self) -> int:
        return int(self.data.shape[3])

    @property
    def frame_times(self) -> np.ndarray | None:
        """float32 ``[T]`` ms from the first frame, or None (uniform, unknown interval)."""
        if self.frame_interval is None:
            return None
        return (np.arange(self.n_frames) * self.frame_interval).astype(np.float32)


def to_nifti_array(frames: np.ndarray) -> np.ndarray:
    """Cycle axes to NIfTI axes: ``data[col, row, z, t] = frames[z, t, row, col]``.

    Args:
        frames: one slice ``[T, H, W]`` or a stack of slices ``[Z, T, H, W]`` (any dtype).

    Returns:
        A C-contiguous ``[W, H, 1, T]`` or ``[W, H, Z, T]`` array (x = column, y = row), the inverse
        of :func:`from_nifti_array`. Key-frame files are 3D: take ``to_nifti_array(frames[f:f+1])[..., 0]``.
    """
    if frames.ndim == 3:
        frames = frames[None]  # [1,T,H,W]
    if frames.ndim != 4:
        raise ValueError(f"expected [T,H,W] or [Z,T,H,W], got shape {frames.shape}")
    return np.ascontiguousarray(frames.transpose(3, 2, 0, 1))  # [W,H,Z,T]


def from_nifti_array(data: np.ndarray) -> np.ndarray:
    """NIfTI axes to cycle axes: ``[X, Y, Z, T]`` -> ``[Z, T, Y, X]`` (a view), so that
    ``out[z, t, row, col] = data[col, row, z, t]``; the inverse of :func:`to_nifti_array`."""
    if data.ndim != 4:
        raise ValueError(f"expected [X,Y,Z,T], got shape {data.shape}")
    return data.transpose(2, 3, 1, 0)


def find_nifti(folder: str | os.PathLike, stem: str) -> Path | None:
    """``folder/stem.nii.gz``, else ``folder/stem.nii``, else None."""
    for ext in (".nii.gz", ".nii"):
        path = Path(folder) / f"{stem}{ext}"
        if path.is_file():
            return path
    return None


def _load(path: str | os.PathLike, ndim: int) -> tuple[np.ndarray, nib.Nifti1Header]:
    """Load a NIfTI file as float32 with ``ndim`` dimensions (extra trailing singletons dropped)."""
    if not os.path.isfile(path):
        raise CineDataError(path, "no such file")
    try:
        img = nib.load(path)
        if not isinstance(img, nib.Nifti1Pair):
            raise CineDataError(path, f"not a NIfTI file (nibabel reads it as {type(img).__name__})")
        data = img.get_fdata(dtype=np.float32)
    except (OSError, EOFError, ValueError, zlib.error, ImageFileError) as err:
        problem = f"unreadable, corrupt or truncated NIfTI ({type(err).__name__}: {err})"
        raise CineDataError(path, problem) from err
    while data.ndim > ndim and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != ndim:
        raise CineDataError(path, f"expected a {ndim}D volume, got shape {data.shape}")
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if bad:
        raise CineDataError(path, f"{bad} NaN or inf voxels")
    return data, img.header


def _frame_interval_ms(dt: float, unit: str) -> float | None:
    """Frame interval in ms from the 4th zoom: the header's unit if plausible, else ms, else s."""
    candidates = [dt * _TIME_UNIT_MS[unit]] if unit in _TIME_UNIT_MS else []
    candidates += [dt, dt * 1000.0]
    lo, hi = _FRAME_INTERVAL_MS
    return next((float(c) for c in candidates if lo <= c <= hi), None)


def load_cine(path: str | os.PathLike) -> CineVolume:
    """Load a 4D cine NIfTI ``[X, Y, Z, T]``.

    Raises:
        CineDataError: naming ``path``, if the file is missing, unreadable, corrupt or truncated,
            not 4D, holds NaN/inf voxels, has a single time point or no usable image
            (:func:`check_image_values`).
    """
    data, header = _load(path, 4)
    check_image_values(path, data)
    if data.shape[3] < 2:
        raise CineDataError(path, f"a single time point (shape {data.shape}): not a cine")
    zooms = tuple(float(z) for z in header.get_zooms())
    _, time_unit = header.get_xyzt_units()
    return CineVolume(os.fspath(path), data, zooms[:3], _frame_interval_ms(zooms[3], time_unit))


def load_key_frames(paths: dict[int, str | os.PathLike], n_frames: int) -> CineVolume:
    """Place 3D volumes ``[X, Y, Z]`` of a few frames (ED, ES) on a cycle of ``n_frames``.

    Args:
        paths: 0-based frame index -> the frame's image file.
        n_frames: frames of the cycle the volumes were taken from (the cine's length).

    Returns:
        A volume whose ``data`` float32 ``[X, Y, Z, n_frames]`` holds each volume at its frame and
        :data:`~cineaug.types.UNOBSERVED_FILL_RAW` (0) elsewhere, ``observed`` flags those frames,
        and no frame interval is known.

    Raises:
        CineDataError: naming the file that is unreadable, holds no usable image
            (:func:`check_image_values`) or whose shape differs from the first's.
    """
    volumes: dict[int, np.ndarray] = {}
    zooms = None
    for frame, path in sorted(paths.items()):
        vol, header = _load(path, 3)
        check_image_values(path, vol)
        shape = next(iter(volumes.values())).shape if volumes else vol.shape
        if vol.shape != shape:
            raise CineDataError(path, f"shape {vol.shape} != {shape} of the other key frame")
        volumes[frame] = vol
        zooms = zooms or tuple(float(z) for z in header.get_zooms()[:3])
    data = np.zeros((*shape, n_frames), np.float32)  # [X,Y,Z,T], UNOBSERVED_FILL_RAW where not observed
    observed = np.zeros(n_frames, bool)
    for frame, vol in volumes.items():
        data[..., frame], observed[frame] = vol, True
    return CineVolume(os.fspath(next(iter(paths.values()))), data, zooms, None, observed)


def load_labels(path: str | os.PathLike, shape: tuple[int, ...]) -> np.ndarray:
    """Load an integer label map of the given shape, values 0..3, as uint8 (label order unchanged).

    Raises:
        CineDataError: naming ``path``, if unreadable, of another shape, or not integers in 0..3.
    """
    data, _ = _load(path, len(shape))
    if data.shape != tuple(shape):
        raise CineDataError(path, f"label shape {data.shape} != image shape {tuple(shape)}")
    if np.any(data != np.round(data)) or data.min() < 0 or data.max() > LV:
        raise CineDataError(path, f"labels must be integers in 0..{LV}, got values {np.unique(data)[:8]}")
    return data.astype(np.uint8)


def slice_cycles(
    volume: CineVolume,
    label: np.ndarray | None,
    labeled: np.ndarray,
    label_source: LabelSource = LabelSource.EXPERT,
    **fields: Any,
) -> list[CineCycle]:
    """Cut a volume into one validated cycle per slice z.

    Args:
        volume: the cine, ``data`` ``[X, Y, Z, T]``.
        label: uint8 ``[X, Y, Z, T]`` in ACDC order, or None (no labels).
        labeled: bool ``[T]``, the frames whose labels are known (for every slice).
        label_source: the source of the labeled frames' labels.
        **fields: other :class:`CineCycle` fields (source, subject, pathology, ed_frame, ...).

    Returns:
        Z cycles, ``image`` float32 and ``label`` uint8 ``[T, Y, X]``, ``slice_index`` = z,
        ``observed`` from the volume and ``extra["native_slices"]`` = Z. Only observed (labelled)
        frames are copied: the others are zeros, the raw fill of unobserved frames (no label).
    """
    data = from_nifti_array(volume.data)  # [Z,T,Y,X]
    labels = None if label is None else from_nifti_array(label)
    labeled = np.asarray(labeled, dtype=bool)
    observed = np.ones(volume.n_frames, bool) if volume.observed is None else volume.observed
    extra = dict(fields.pop("extra", {}), native_slices=int(data.shape[0]))
    cycles = []
    for z in range(data.shape[0]):
        image = np.zeros(data.shape[1:], np.float32)  # [T,Y,X]
        image[observed] = data[z, observed]
        label_z = np.zeros(data.shape[1:], np.uint8)
        if labels is not None:
            label_z[labeled] = labels[z, labeled]
        cycle = CineCycle(
            image=image,
            label=label_z,
            labeled=labeled,
            observed=observed,
            label_source=np.where(labeled, label_source, LabelSource.NONE).astype(np.uint8),
            spacing=volume.spacing,
            slice_index=z,
            frame_times=volume.frame_times,
            slice_thickness=volume.zooms[2],
            extra=dict(extra),
            **fields,
        )
        cycles.append(cycle.validate())
    return cycles


def check_frame(
    path: str | os.PathLike, name: str, frame: int, n_frames: int, one_based: bool = False
) -> None:
    """Raise :class:`CineDataError` naming ``path`` unless ``frame`` indexes one of ``n_frames`` frames."""
    lo = int(one_based)
    if not lo <= frame < n_frames + lo:
        raise CineDataError(
            path, f"{name} frame {frame} outside {lo}..{n_frames - 1 + lo} ({n_frames} frames)"
        )


def read_nifti(
    path: str | os.PathLike,
    label_path: str | os.PathLike | None = None,
    ed_frame: int = 0,
    es_frame: int = -1,
    pathology: str = UNKNOWN_PATHOLOGY,
    subject: str | None = None,
    log: ReadLog | None = None,
) -> Iterator[CineCycle]:
    """Read a plain 4D cine NIfTI ``[X, Y, Z, T]`` as one raw cycle per slice (source ``"nifti"``).

    Args:
        path: the 4D image file (.nii or .nii.gz).
        label_path: optional 4D label file of the same shape, ACDC label order. A frame counts as
            labeled (for all slices) when any of its voxels is labeled.
        ed_frame: 0-based end-diastolic frame.
        es_frame: 0-based end-systolic frame, -1 if unknown.
        pathology: pathology name stored on the cycles.
        subject: subject id; defaults to the file name without its extension.
        log: unused (the readers' signature, :data:`cineaug.io.READERS`): the file is one item, so bad
            input raises rather than being skipped.

    Yields:
        Z cycles with ``image`` float32 ``[T, Y, X]`` (raw intensities), ``spacing`` (zoom_y, zoom_x)
        mm, and ``frame_times`` (ms) when the 4th zoom is a plausible frame interval.

    Raises:
        CineDataError: naming the file, for any unreadable or inconsistent input.

    Example:
        >>> cycles = list(read_nifti("cine.nii.gz"))  # doctest: +SKIP
        >>> cycles[0].image.shape  # [T, Y, X]  # doctest: +SKIP
    """
    volume = load_cine(path)
    check_frame(path, "ED", ed_frame, volume.n_frames)
    if es_frame != -1:
        check_frame(path, "ES", es_frame, volume.n_frames)
    label, labeled = None, np.zeros(volume.n_frames, bool)
    if label_path is not None:
        label = load_labels(label_path, volume.data.shape)
        labeled = label.any(axis=(0, 1, 2))
    if subject is None:
        subject = Path(path).name.removesuffix(".gz").removesuffix(".nii")
    yield from slice_cycles(
        volume,
        label,
        labeled,
        source="nifti",
        subject=subject,
        pathology=pathology,
        ed_frame=ed_frame,
        es_frame=es_frame,
        annotated_classes=ALL_CLASSES if labeled.any() else (),
    )
