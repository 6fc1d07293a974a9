"""Sunnybrook Cardiac Data (SCD): DICOM cines with expert contours, in its three known layouts.

Layouts (see docs/data.md):

- ``arterys``: ``link.csv``, ``dicoms/SCD0000101/N.dcm``, ``contourfiles/SC-HF-I-1/{i,o}-contours/``
- ``cap`` (Cardiac Atlas Project): ``SCD_IMAGES_0k/SCD0000101/CINESAX_300/IM-0003-NNNN.dcm``,
  ``SCD_ManualContours/SC-HF-I-01/contours-manual/IRCCI-expert/IM-0001-NNNN-icontour-manual.txt``
- ``challenge`` (MICCAI 2009): ``challenge_*/SC-HF-I-1/IM-SSSS-NNNN.dcm``,
  ``Sunnybrook Cardiac MR Database ContoursPart*/*/SC-HF-I-01/contours-manual/IRCCI-expert/...``

Contours match images by the 4-digit image number NNNN. i-contour -> LV cavity (3), o-contour
minus i-contour -> myocardium (2); the RV is not annotated. Contours exist at ED and ES of the mid
slices, the epicardium at ED only: ED/ES are decided by the endocardial area, never by order.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skimage.draw import polygon2mask

from ..errors import CineDataError, ReadLog
from ..types import LV, MYO, UNKNOWN_PATHOLOGY, CineCycle, LabelSource
from .dicom import (
    DicomFrame,
    check_frame_count,
    group_slices,
    read_dicom_files,
    slice_geometry,
    stack_frames,
)
from .values import check_image_values

PATHOLOGY_NAMES = {
    "heart failure with infarct": "HF-I",
    "heart failure without infarct": "HF-NI",
    "hypertrophy": "HYP",
    "normal": "N",
}
_CONTOUR = re.compile(r"IM-\d{4}-(\d{4})-([io])contour-manual\.txt$")
_IMAGE_NUMBER = re.compile(r"(\d+)\.dcm$", re.IGNORECASE)


@dataclass
class SunnybrookCase:
    """One patient: its SAX cine files by image number and its contour files."""

    subject: str  # SCD0000101 (or the case name when no table maps it)
    original_id: str  # SC-HF-I-1
    pathology: str
    images: dict[int, Path]  # image number -> DICOM file
    contours: dict[int, dict[str, Path]] = field(
        default_factory=dict
    )  # image number -> {"i": path, "o": path}


def original_id_pathology(original_id: str) -> str:
    """``SC-HF-I-1`` -> ``HF-I`` (the group is part of the case name)."""
    m = re.match(r"SC-(HF-I|HF-NI|HYP|N)-\d+$", original_id)
    return m.group(1) if m else UNKNOWN_PATHOLOGY


def unpad_case(name: str) -> str:
    """Contour folders are zero-padded (``SC-HF-I-01``), image folders not (``SC-HF-I-1``)."""
    return re.sub(r"-0*(\d+)$", lambda m: "-" + m.group(1), name)


def read_contour(path: Path) -> np.ndarray:
    """Read an ``x y`` contour file as ``[K, 2]`` (row, col) float points."""
    try:
        pts = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise CineDataError(path, f"contour file is not 'x y' number pairs ({err})") from err
    if pts.shape[1] != 2 or len(pts) < 3:
        raise CineDataError(path, f"contour needs >= 3 'x y' points, got array of shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise CineDataError(path, "contour holds NaN or inf")
    return pts[:, ::-1]


def contour_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Fill a contour polygon (pixel centres inside the polygon), ``[H,W]`` bool.

    Raises:
        CineDataError: naming ``path`` if a point lies outside the image (beyond one pixel) or the
            polygon encloses no pixel centre.
    """
    pts = read_contour(path)  # [K,2] (row, col)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if (lo < -1).any() or (hi > np.array(shape)).any():
        raise CineDataError(
            path,
            f"contour points outside the {shape[0]}x{shape[1]} image "
            f"(x {lo[1]:.4g}..{hi[1]:.4g}, y {lo[0]:.4g}..{hi[0]:.4g})",
        )
    mask = polygon2mask(shape, pts)
    if not mask.any():
        raise CineDataError(path, "contour encloses no pixel centre")
    return mask


def _read_patient_table(root: Path) -> dict[str, tuple[str, str]]:
    """OriginalID -> (PatientID, pathology) from ``scd_patientdata.csv`` (with or without BOM)."""
    table = {}
    for path in sorted(root.rglob("scd_patientdata.csv")):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                oid, pid = row.get("OriginalID"), row.get("PatientID")
                if oid and pid:
                    table[oid.strip()] = (
                        pid.strip(),
                        PATHOLOGY_NAMES.get(row.get("Pathology", "").strip().lower(), ""),
                    )
        break
    return table


def _contours_in(folder: Path) -> dict[int, dict[str, Path]]:
    found: dict[int, dict[str, Path]] = defaultdict(dict)
    for p in folder.rglob("*contour-manual.txt"):
        m = _CONTOUR.search(p.name)
        if m:
            found[int(m.group(1))][m.group(2)] = p
    return dict(found)


def _image_number(path: Path) -> int | None:
    m = _IMAGE_NUMBER.search(path.name)
    return int(m.group(1)[-4:]) if m else None


def _numbered(paths: list[Path]) -> dict[int, Path]:
    out = {}
    for p in sorted(paths):
        n = _image_number(p)
        if n is not None:
            out[n] = p
    return out


def detect_layout(root: Path) -> str:
    """Which SCD distribution ``root`` holds: ``arterys``, ``cap`` or ``challenge``."""
    if (root / "dicoms").is_dir() and (root / "contourfiles").is_dir():
        return "arterys"
    if any(root.glob("challenge_*")):
        return "challenge"
    if any(root.rglob("CINESAX_*")):
        return "cap"
    raise CineDataError(
        root,
        "not a Sunnybrook folder: expected dicoms/ + contourfiles/ (Arterys subset), "
        "SCD_IMAGES_*/.../CINESAX_* (Cardiac Atlas Project) or challenge_*/ (MICCAI 2009)",
    )


def _contour_folders(root: Path) -> dict[str, Path]:
    """Unpadded case name -> the folder holding its contours."""
    out = {}
    for d in root.rglob("SC-*"):
        if d.is_dir() and (d / "contours-manual").is_dir():
            out[unpad_case(d.name)] = d
        elif d.is_dir() and ((d / "i-contours").is_dir() or (d / "o-contours").is_dir()):
            out[unpad_case(d.name)] = d
    return out


def read_links(path: Path, log: ReadLog) -> dict[str, str]:
    """``link.csv`` (``patient_id,original_id``) as {DICOM folder: contour folder}; a missing header
    or rows without both names are warned about through ``log`` (the patient's labels are lost)."""
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        columns = reader.fieldnames or []
    if not {"patient_id", "original_id"} <= set(columns):
        log.warn(path, f"no patient_id,original_id header (got {columns}): no DICOM folder is linked")
        return {}
    links = {
        r["patient_id"].strip(): r["original_id"].strip()
        for r in rows
        if (r["patient_id"] or "").strip() and (r["original_id"] or "").strip()
    }
    if not links or len(links) < len(rows):
        log.warn(
            path, f"{len(links)} valid rows of {len(rows)} (a row names a patient_id and an original_id)"
        )
    return links


def find_cases(root: str | os.PathLike, log: ReadLog | None = None) -> list[SunnybrookCase]:
    """List the patients of a Sunnybrook folder in any of the three layouts.

    A patient whose contours are not found is listed (its cycles read unlabelled) and warned about
    through ``log``, with the names that were tried.
    """
    root = Path(root)
    log = log if log is not None else ReadLog()
    if not root.is_dir():
        raise CineDataError(root, "no such folder")
    layout = detect_layout(root)
    table = _read_patient_table(root)
    by_pid = {pid: (oid, pat) for oid, (pid, pat) in table.items()}
    contour_dirs = _contour_folders(root)
    cases, links = [], {}
    if layout == "arterys":
        links = read_links(root / "link.csv", log)
        for d in sorted((root / "dicoms").iterdir()):
            if d.is_dir():
                oid = links.get(d.name) or by_pid.get(d.name, ("",))[0] or d.name
                cases.append(_case(d.name, oid, _numbered(list(d.glob("*.dcm"))), table, contour_dirs))
    elif layout == "cap":
        for patient in sorted({p.parent for p in root.rglob("CINESAX_*")}):
            series = sorted(patient.glob("CINESAX_*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
            oid = by_pid.get(patient.name, (patient.name,))[0]
            cases.append(
                _case(patient.name, oid, _numbered(list(series[-1].glob("*.dcm"))), table, contour_dirs)
            )
    else:
        for d in sorted(p for p in root.glob("challenge_*/*") if p.is_dir()):
            images = _challenge_sax_images(d)
            pid = table.get(d.name, (d.name,))[0]
            cases.append(_case(pid, d.name, images, table, contour_dirs))
    if not cases:
        raise CineDataError(root, f"Sunnybrook {layout} layout, but no patient folder inside")
    for case in cases:
        if case.images and not case.contours:
            named = " (its name in link.csv)" if case.original_id in links.values() else ""
            log.warn(
                next(iter(case.images.values())).parent,
                f"no contours found: no contour folder for {case.original_id!r}{named}; "
                "its cycles are read without labels",
            )
    return cases


def _challenge_sax_images(case_dir: Path) -> dict[int, Path]:
    """The SAX cine of a challenge case: the series (IM-SSSS-*) whose count is a multiple of 20
    and that is largest; the contour prefix IM-0001 is not the series, so match by number."""
    by_series: dict[str, list[Path]] = defaultdict(list)
    for p in case_dir.glob("IM-*.dcm"):
        by_series[p.name.split("-")[1]].append(p)
    if not by_series:
        return {}
    cine = [s for s, ps in by_series.items() if len(ps) % 20 == 0] or list(by_series)
    best = max(cine, key=lambda s: len(by_series[s]))
    return _numbered(by_series[best])


def _case(subject, oid, images, table, contour_dirs) -> SunnybrookCase:
    pid, pathology = table.get(oid, (subject, ""))
    folder = contour_dirs.get(unpad_case(oid))
    return SunnybrookCase(
        subject=pid if pid.startswith("SCD") else subject,
        original_id=oid,
        pathology=pathology or original_id_pathology(oid),
        images=images,
        contours=_contours_in(folder) if folder else {},
    )


def read_sunnybrook(
    root: str | os.PathLike, log: ReadLog | None = None, workers: int = 1
) -> Iterator[CineCycle]:
    """Read a Sunnybrook folder (any layout) into raw cycles, one per slice.

    Each DICOM file is read once. Labelled frames: ED (LV cavity + myocardium, expert) and ES
    (expert LV cavity; its myocardium is marked partial, to be propagated by preprocessing).

    Yields:
        CineCycle, image ``[20,256,256]`` raw int16 values as float32, label in ACDC order.

    Args:
        root: the data set folder, in any of the three layouts.
        log: collects skipped items (a non-strict one is made if None).
        workers: processes that parse DICOM files (see :func:`~cineaug.io.dicom.read_dicom_files`).

    Raises:
        CineDataError: not a Sunnybrook folder. Broken items are skipped through ``log``.
    """
    log = log if log is not None else ReadLog()
    for case in find_cases(root, log):
        if not case.images:
            log.skip(CineDataError(Path(root) / case.subject, "no SAX cine DICOM files for this patient"))
            continue
        yield from _read_case(case, log, workers)


def _read_case(case: SunnybrookCase, log: ReadLog, workers: int) -> Iterator[CineCycle]:
    numbers = {path: n for n, path in case.images.items()}
    frames = read_dicom_files(sorted(case.images.values(), key=numbers.get), log, workers)
    for n in sorted(set(case.contours) - set(case.images)):
        names = ", ".join(p.name for p in case.contours[n].values())
        log.skip(
            CineDataError(next(iter(case.contours[n].values())), f"contour {names} names image {n}, absent")
        )
    if not frames:
        return
    try:
        slices = group_slices(frames, frames[0].path.parent)
    except CineDataError as err:
        log.skip(err)
        return
    ed_votes: list[int] = []
    cycles = []
    for index, slice_frames in enumerate(slices):
        try:
            check_frame_count(slice_frames)
            cycle = _slice_cycle(case, index, slice_frames, numbers, ed_votes)
            cycle.extra.update(slice_geometry(slice_frames, len(slices)))
            cycles.append(cycle)
        except CineDataError as err:
            log.skip(err)
    ed = max(set(ed_votes), key=ed_votes.count) if ed_votes else 0
    for c in cycles:
        single = np.flatnonzero(c.labeled)
        if len(single) == 1 and c.label_source[single[0]] == LabelSource.EXPERT_PARTIAL:
            c.es_frame, c.ed_frame = int(single[0]), min(ed, c.n_frames - 1)  # a lone endocardium: ES
        if not c.labeled.any():
            c.ed_frame = min(ed, c.n_frames - 1)
            c.extra["ed_from"] = "patient's contoured slices" if ed_votes else "first frame (no contours)"
        yield c


def _slice_cycle(
    case: SunnybrookCase, index: int, frames: list[DicomFrame], numbers: dict[Path, int], ed_votes: list[int]
) -> CineCycle:
    image = stack_frames(frames)  # [T,H,W]
    check_image_values(frames[0].path, image)
    t, h, w = image.shape
    label = np.zeros((t, h, w), np.uint8)
    source = np.zeros(t, np.uint8)
    areas = {}
    has_epi = {}
    for k, f in enumerate(frames):
        files = case.contours.get(numbers[f.path], {})
        if "i" not in files:
            if "o" in files:
                raise CineDataError(files["o"], "epicardial contour without an endocardial one")
            continue
        lv = contour_mask(files["i"], (h, w))
        if "o" in files:
            epi = contour_mask(files["o"], (h, w))
            label[k][epi & ~lv] = MYO
        label[k][lv] = LV
        areas[k] = int(lv.sum())
        has_epi[k] = "o" in files
    ed_frame, es_frame = -1, -1
    if areas:
        ed_frame = max(areas, key=areas.get)
        es_frame = min(areas, key=areas.get) if len(areas) > 1 else -1
        ed_votes.append(ed_frame)
        for k in areas:
            source[k] = LabelSource.EXPERT if has_epi[k] else LabelSource.EXPERT_PARTIAL
    return CineCycle(
        image=image,
        label=label,
        labeled=source > 0,
        label_source=source,
        spacing=frames[0].spacing,
        source="sunnybrook",
        subject=case.subject,
        slice_index=index,
        pathology=case.pathology,
        ed_frame=max(ed_frame, 0),
        es_frame=es_frame,
        annotated_classes=(MYO, LV),
        frame_times=np.array([f.trigger_time for f in frames], np.float32),
        slice_thickness=frames[0].thickness,
        extra={
            "original_id": case.original_id,
            "lv_area_px": {str(k): v for k, v in areas.items()},
            "image_numbers": [numbers[f.path] for f in frames],
            "partial_frames_lack": [MYO],
        },
    )
