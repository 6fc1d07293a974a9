"""DICOM cine series: read frames once, group them into slices, order by trigger time.

``read_dicom_series(folder)`` is the generic reader; the Sunnybrook reader uses the same core
(:func:`read_dicom_frame`, :func:`group_slices`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from ..errors import CineDataError, ReadLog
from ..types import UNKNOWN_PATHOLOGY, CineCycle
from .values import check_image_values

PARALLEL_MIN_FILES = 64
"""Fewer files than this are read in this process."""


@dataclass
class DicomFrame:
    """One 2D DICOM image with the header fields a cine reader needs."""

    path: Path
    pixels: np.ndarray  # [H,W] stored integers, or float32 where a rescale applies
    instance: int
    trigger_time: float  # ms after the R wave
    position: float  # slice position along the slice normal (mm)
    series: str  # SeriesInstanceUID
    series_number: int
    spacing: tuple[float, float]  # (row, col) mm
    thickness: float | None
    cardiac_images: int | None  # CardiacNumberOfImages
    patient: str


def read_dicom_frame(path: str | os.PathLike) -> DicomFrame:
    """Read one DICOM file (once) into a :class:`DicomFrame`.

    Raises:
        CineDataError: not DICOM, truncated or undecodable pixels, multi-frame or non-2D data,
            missing pixel spacing, NaN/inf values.
    """
    path = Path(path)
    with _lenient_values():
        return _read_dicom_frame(path)


@contextmanager
def _lenient_values() -> Iterator[None]:
    """Read values as written: real scanners write UIDs that pydicom's validation warns about."""
    settings = pydicom.config.settings
    mode = settings.reading_validation_mode
    settings.reading_validation_mode = pydicom.config.IGNORE
    try:
        yield
    finally:
        settings.reading_validation_mode = mode


def _read_dicom_frame(path: Path) -> DicomFrame:
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError) as err:
        raise CineDataError(path, f"not a readable DICOM file ({err})") from err
    if "PixelData" not in ds:
        raise CineDataError(path, "DICOM file holds no image (no PixelData)")
    try:
        arr = _native_pixels(ds)
        if arr is None:
            arr = ds.pixel_array
    except Exception as err:  # pydicom raises ValueError/RuntimeError/NotImplementedError by handler
        raise CineDataError(path, f"pixel data cannot be decoded ({err})") from err
    if arr.ndim != 2:
        raise CineDataError(path, f"expected one 2D frame, got pixel array of shape {arr.shape}")
    pixels = arr  # stored values; converted once per slice in stack_frames
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is not None and intercept is not None and (float(slope), float(intercept)) != (1.0, 0.0):
        pixels = arr.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        raise CineDataError(path, "pixel data holds NaN or inf")
    spacing = ds.get("PixelSpacing")
    if spacing is None or len(spacing) != 2:
        raise CineDataError(path, "no PixelSpacing: cannot place the image in millimetres")
    return DicomFrame(
        path=path,
        pixels=pixels,
        instance=int(ds.get("InstanceNumber") or 0),
        trigger_time=float(ds.get("TriggerTime") or 0.0),
        position=_slice_position(ds),
        series=str(ds.get("SeriesInstanceUID", "")),
        series_number=int(ds.get("SeriesNumber") or 0),
        spacing=(float(spacing[0]), float(spacing[1])),
        thickness=float(ds.SliceThickness) if ds.get("SliceThickness") else None,
        cardiac_images=int(ds.CardiacNumberOfImages) if ds.get("CardiacNumberOfImages") else None,
        patient=str(ds.get("PatientID", "")),
    )


_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}  # implicit / explicit VR little endian


def _native_pixels(ds: pydicom.Dataset) -> np.ndarray | None:
    """Fast path for the common cine case: one uncompressed little-endian grey frame of 8/16 bits
    stored in whole bytes. Returns None for anything else (pydicom's ``pixel_array`` decodes it)."""
    meta = getattr(ds, "file_meta", None)
    if meta is None or str(meta.get("TransferSyntaxUID", "")) not in _NATIVE:
        return None
    bits, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
    if bits not in (8, 16) or stored != bits or ds.get("SamplesPerPixel", 1) != 1:
        return None
    if int(ds.get("NumberOfFrames") or 1) != 1:
        return None
    dtype = np.dtype(f"<{'i' if ds.get('PixelRepresentation') else 'u'}{bits // 8}")
    rows, cols = int(ds.Rows), int(ds.Columns)
    data = ds.PixelData
    if len(data) < rows * cols * dtype.itemsize:
        raise ValueError(f"pixel data has {len(data)} bytes, {rows}x{cols}x{dtype.itemsize} expected")
    return np.frombuffer(data, dtype, count=rows * cols).reshape(rows, cols)


def _slice_position(ds: pydicom.Dataset) -> float:
    """Position along the slice normal; falls back to SliceLocation."""
    ipp, iop = ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")
    if ipp is not None and iop is not None and len(iop) == 6 and len(ipp) == 3:
        (a1, a2, a3), (b1, b2, b3) = iop[:3], iop[3:]
        normal = (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)  # row x column direction
        return float(sum(n * p for n, p in zip(normal, ipp)))
    return float(ds.get("SliceLocation") or 0.0)


def group_slices(frames: list[DicomFrame], where: str | os.PathLike) -> list[list[DicomFrame]]:
    """Group the frames of one series into slices, ordered by trigger time.

    Slices come in acquisition order (smallest instance number first); frames within a slice by
    trigger time. Returns a list of slices, each a list of frames.

    Raises:
        CineDataError: frames of one slice differ in size or spacing, or the series is not cine.
    """
    by_position: dict[float, list[DicomFrame]] = defaultdict(list)
    for f in frames:
        by_position[round(f.position, 2)].append(f)
    slices = [sorted(fs, key=lambda f: (f.trigger_time, f.instance)) for fs in by_position.values()]
    slices.sort(key=lambda fs: min(f.instance for f in fs))
    if slices and max(len(s) for s in slices) < 2:
        raise CineDataError(where, "not a cine series: every slice position holds a single image")
    for s in slices:
        shapes = {f.pixels.shape for f in s}
        if len(shapes) != 1:
            raise CineDataError(s[0].path.parent, f"frames of one slice differ in size: {sorted(shapes)}")
    return slices


def slice_geometry(frames: list[DicomFrame], n_slices: int) -> dict[str, float | int]:
    """Where a slice lies in its series, for 3D scores: ``slice_position_mm`` (along the slice
    normal; slices are stacked and spaced by it, since acquisition order and ``SliceThickness`` need
    not be the spatial order and spacing) and ``native_slices`` (slice positions in the series)."""
    return {"slice_position_mm": float(frames[0].position), "native_slices": n_slices}


def check_frame_count(frames: list[DicomFrame]) -> None:
    """Raise if a slice lacks frames or has extra ones (against CardiacNumberOfImages)."""
    expected = frames[0].cardiac_images
    if expected and len(frames) != expected:
        what = "missing" if len(frames) < expected else "extra"
        raise CineDataError(
            frames[0].path,
            f"slice has {len(frames)} frames but CardiacNumberOfImages is {expected} ({what} frames)",
        )


def stack_frames(frames: list[DicomFrame]) -> np.ndarray:
    """Frames of one slice as float32 ``[T,H,W]``."""
    out = np.empty((len(frames), *frames[0].pixels.shape), np.float32)
    for k, f in enumerate(frames):
        out[k] = f.pixels
    return out


def _read_or_error(path: Path) -> DicomFrame | CineDataError:
    try:
        return read_dicom_frame(path)
    except CineDataError as err:
        return err


def read_dicom_files(paths: list[Path], log: ReadLog, workers: int = 1) -> list[DicomFrame]:
    """Read each file once, in order; unreadable files are skipped through ``log``.

    With ``workers > 1`` (and enough files to pay for it) the files are parsed in forked
    processes: header parsing is pure Python, so threads would not help.
    """
    if workers > 1 and len(paths) >= PARALLEL_MIN_FILES and "fork" in mp.get_all_start_methods():
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(_read_or_error, paths, chunksize=max(1, len(paths) // (4 * workers)))
    else:
        results = [_read_or_error(p) for p in paths]
    frames = []
    for r in results:
        if isinstance(r, CineDataError):
            log.skip(r)
        else:
            frames.append(r)
    return frames


def read_dicom_series(
    folder: str | os.PathLike,
    log: ReadLog | None = None,
    pathology: str = UNKNOWN_PATHOLOGY,
    workers: int = 1,
) -> Iterator[CineCycle]:
    """Read every cine series under ``folder`` into raw cycles, one per slice.

    Files are grouped by SeriesInstanceUID and slice position and ordered by TriggerTime. No
    labels: every frame is unlabeled; ED is taken as the first frame after the R wave.

    Yields:
        CineCycle with image ``[T,H,W]`` in raw intensities (source "dicom").

    Raises:
        CineDataError: the folder is missing, or holds no readable DICOM cine series.
    """
    folder = Path(folder)
    log = log if log is not None else ReadLog()
    if not folder.is_dir():
        raise CineDataError(folder, "no such folder")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    if not paths:
        raise CineDataError(folder, "empty folder: no files to read")
    frames = read_dicom_files(paths, log, workers)
    if not frames:
        raise CineDataError(folder, "no readable DICOM image in this folder")
    by_series: dict[str, list[DicomFrame]] = defaultdict(list)
    for f in frames:
        by_series[f.series].append(f)
    n_cycles = 0
    for series, series_frames in sorted(by_series.items(), key=lambda kv: kv[1][0].series_number):
        try:
            slices = group_slices(series_frames, series_frames[0].path.parent)
        except CineDataError as err:
            log.skip(err)
            continue
        for index, slice_frames in enumerate(slices):
            try:
                check_frame_count(slice_frames)
                cycle = _cycle_from_frames(slice_frames, index, series, pathology, len(slices))
            except CineDataError as err:
                log.skip(err)
                continue
            n_cycles += 1
            yield cycle
    if n_cycles == 0:
        raise CineDataError(folder, "no cine series found (need several frames per slice position)")


def _cycle_from_frames(
    frames: list[DicomFrame], index: int, series: str, pathology: str, n_slices: int
) -> CineCycle:
    image = stack_frames(frames)
    check_image_values(frames[0].path, image)
    first = frames[0]
    return CineCycle(
        image=image,
        label=np.zeros(image.shape, np.uint8),
        labeled=np.zeros(len(frames), bool),
        spacing=first.spacing,
        source="dicom",
        subject=first.patient or first.path.parent.name,
        slice_index=index,
        pathology=pathology,
        ed_frame=0,
        es_frame=-1,
        annotated_classes=(),
        frame_times=np.array([f.trigger_time for f in frames], np.float32),
        slice_thickness=first.thickness,
        extra={
            "series": series,
            "series_number": first.series_number,
            "files": [f.path.name for f in frames],
            **slice_geometry(frames, n_slices),
        },
    )
