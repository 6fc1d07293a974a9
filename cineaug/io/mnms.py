"""Reader for the M&Ms-1 data set (2020), as published.

Layout::

    OpenDataset/
        211230_M&Ms_Dataset_information_diagnosis_opendataset.csv
            (header ",External code,VendorName,Vendor,Centre,ED,ES,Pathology,...")
        Training/Labeled/<CODE>/<CODE>_sa.nii.gz, <CODE>_sa_gt.nii.gz   [X, Y, Z, T]
        Training/Unlabeled/<CODE>/...   (gt empty, ED == ES == 0 in the CSV)
        Validation/<CODE>/...
        Testing/<CODE>/...

ED and ES are 0-based; the ground truth is labelled at ED and ES only, with **1 LV, 2 MYO, 3 RV**
(remapped here to ACDC order: 1 RV, 2 MYO, 3 LV).

The published images exist only as the 4D cine. Copies without it keep the ED and ES frames as
``<CODE>_sa_ED.nii.gz`` and ``<CODE>_sa_ES.nii.gz`` ``[X, Y, Z]``: with the 4D ground truth beside
them (it gives the cine's length T, hence ES's phase in the cycle, and the labels), they are read as
key-frame cycles; without it the subject is skipped, ES's place in the cycle being unknown.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError

from ..errors import CineDataError, ReadLog
from ..types import ACDC_PATHOLOGIES, ALL_CLASSES, LV, MYO, RV, UNKNOWN_PATHOLOGY, CineCycle, LabelSource
from .nifti import CineVolume, check_frame, load_cine, load_key_frames, load_labels, slice_cycles

MNMS_TO_ACDC = np.array([0, LV, MYO, RV], np.uint8)
"""Look-up table: M&Ms label value -> ACDC label value."""
_REQUIRED_COLUMNS = ("External code", "ED", "ES")
_IMAGE_SUFFIXES = ("_sa.nii.gz", "_sa.nii")
_GT_SUFFIXES = ("_sa_gt.nii.gz", "_sa_gt.nii")
_KEY_SUFFIXES = {"ED": ("_sa_ED.nii.gz", "_sa_ED.nii"), "ES": ("_sa_ES.nii.gz", "_sa_ES.nii")}


def _code(path: Path, suffixes: tuple[str, ...]) -> str | None:
    """``<CODE>`` of ``<CODE>/<CODE><suffix>``, else None."""
    for suffix in suffixes:
        if path.name == path.parent.name + suffix:
            return path.parent.name
    return None


def _files(root: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """``{CODE: path}`` of the ``<CODE>/<CODE><suffix>`` files under ``root``."""
    found = {}
    for path in sorted(root.rglob("*.nii*")):
        code = _code(path, suffixes)
        if code is not None:
            found.setdefault(code, path)
    return found


def find_info_csv(root: Path) -> Path:
    """The information CSV (header with ``External code``) in ``root`` or up to 3 folders above it.

    Raises:
        CineDataError: naming ``root`` if there is none.
    """
    for folder in [root, *root.parents][:4]:
        for path in sorted(folder.glob("*.csv")):
            with open(path, newline="", encoding="utf-8-sig") as f:
                if "External code" in next(csv.reader(f), []):
                    return path
    raise CineDataError(root, "no M&Ms information CSV (with an 'External code' column) here or above")


def read_info_csv(path: Path) -> dict[str, dict[str, str]]:
    """``{External code: row}`` of the information CSV (the first, unnamed column is an index).

    Raises:
        CineDataError: naming ``path`` if a required column is missing.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CineDataError(path, f"missing columns {missing}")
        return {row["External code"].strip(): row for row in reader}


def _frame(row: dict[str, str], key: str, csv_path: Path, code: str) -> int:
    try:
        value = float(row[key])
    except (TypeError, ValueError) as err:
        raise CineDataError(csv_path, f"{code}: {key} {row[key]!r} is not a frame index") from err
    if not value.is_integer():
        raise CineDataError(csv_path, f"{code}: {key} {row[key]!r} is not a frame index")
    return int(value)


def _pathology(text: str | None) -> str:
    """ACDC name where the CSV's matches one (NOR, MINF, DCM, HCM, ARV), else the CSV's string."""
    text = (text or "").strip()
    return text.upper() if text.upper() in ACDC_PATHOLOGIES else text or UNKNOWN_PATHOLOGY


def _key_frame_volume(
    code: str, key_paths: dict[str, Path], gt_path: Path | None, ed: int, es: int, csv_path: Path
) -> CineVolume:
    """The ED and ES volumes of a copy without the cine, on a cycle as long as the 4D ground truth."""
    if gt_path is None:
        raise CineDataError(
            key_paths["ED"].parent / f"{code}_sa.nii.gz",
            f"no 4D cine, and without {code}_sa_gt.nii.gz the cycle's length (ES's phase) is unknown",
        )
    if ed == es:
        raise CineDataError(csv_path, f"{code}: no 4D cine, and ED == ES ({ed}): no key frames to place")
    try:
        t = int(nib.load(gt_path).shape[3])
    except (OSError, ValueError, IndexError, ImageFileError) as err:
        raise CineDataError(gt_path, f"not a 4D ground truth ({err})") from err
    check_frame(csv_path, f"{code}: ED", ed, t)
    check_frame(csv_path, f"{code}: ES", es, t)
    return load_key_frames({ed: key_paths["ED"], es: key_paths["ES"]}, t)


def read_subject(
    code: str,
    image_path: Path | None,
    gt_path: Path | None,
    row: dict[str, str],
    csv_path: Path,
    split: str,
    key_paths: dict[str, Path] | None = None,
) -> list[CineCycle]:
    """All cycles (one per slice) of one M&Ms subject.

    Args:
        code: the 6-character subject code.
        image_path: ``<CODE>_sa.nii.gz`` ``[X, Y, Z, T]``, or None for a copy without the cine.
        gt_path: ``<CODE>_sa_gt.nii.gz`` of the same shape (M&Ms label order), or None.
        row: the subject's row of the information CSV.
        csv_path: that CSV (named in errors about the row).
        split: the subject's folder relative to the data set root, e.g. ``"Training/Labeled"``.
        key_paths: ``{"ED": <CODE>_sa_ED.nii.gz, "ES": <CODE>_sa_ES.nii.gz}`` ``[X, Y, Z]``, read as
            a key-frame cycle when ``image_path`` is None.

    Raises:
        CineDataError: naming the offending file.
    """
    ed, es = _frame(row, "ED", csv_path, code), _frame(row, "ES", csv_path, code)
    if image_path is None:
        volume = _key_frame_volume(code, key_paths or {}, gt_path, ed, es, csv_path)
    else:
        volume = load_cine(image_path)
    t = volume.n_frames
    check_frame(csv_path, f"{code}: ED", ed, t)
    check_frame(csv_path, f"{code}: ES", es, t)
    label = np.zeros(volume.data.shape, np.uint8)  # [X,Y,Z,T]
    if gt_path is not None:
        label = MNMS_TO_ACDC[load_labels(gt_path, volume.data.shape)]
    labeled = label.any(axis=(0, 1, 2))
    stray = sorted(set(np.flatnonzero(labeled).tolist()) - {ed, es})
    if stray:
        raise CineDataError(gt_path, f"labels at frames {stray}, but the CSV gives ED {ed} and ES {es}")
    return slice_cycles(
        volume,
        label,
        labeled,
        LabelSource.EXPERT,
        source="mnms",
        subject=code,
        pathology=_pathology(row.get("Pathology")),
        ed_frame=ed,
        es_frame=es if es != ed else -1,  # the Unlabeled set has ED == ES == 0: unknown
        annotated_classes=ALL_CLASSES if labeled.any() else (),
        extra={
            "vendor": (row.get("VendorName") or "").strip(),
            "vendor_code": (row.get("Vendor") or "").strip(),
            "centre": (row.get("Centre") or "").strip(),
            "split": split,
        },
    )


def read_mnms(root: str | os.PathLike, log: ReadLog | None = None) -> Iterator[CineCycle]:
    """Read an M&Ms-1 tree as raw cycles, one per subject and slice (source ``"mnms"``).

    Args:
        root: ``OpenDataset/`` or any folder inside it (``Training/``, ``Training/Labeled/``,
            ``Validation/``, ``Testing/``, one ``<CODE>/``); the information CSV is looked up in
            ``root`` and the folders above it, ground truth anywhere under the CSV's folder (one
            subject's gt is published in another split than its image).
        log: where skipped subjects are recorded; a subject with bad files or without a CSV row is
            skipped and logged (or raises if ``log.strict``).
            Defaults to a fresh non-strict log.

    Yields:
        Cycles with ``image`` float32 ``[T, Y, X]`` (raw intensities, native T), ``label`` uint8
        ``[T, Y, X]`` in ACDC order, labeled at the ED and ES frames that hold labels (none in the
        Unlabeled set), ``observed`` (every frame, or ED and ES for a copy without the cine),
        ``ed_frame``/``es_frame`` 0-based (``es_frame`` -1 where the CSV gives ED == ES), pathology
        (ACDC names where they match, else as given), and ``extra`` with ``vendor``,
        ``vendor_code``, ``centre`` and ``split``.

    Raises:
        CineDataError: if ``root`` holds no subject or no information CSV is found, or for a bad
            subject when strict.

    Example:
        >>> cycles = list(read_mnms("OpenDataset/Validation"))  # doctest: +SKIP
    """
    log = ReadLog() if log is None else log
    root = Path(root)
    if not root.is_dir():
        raise CineDataError(root, "no such folder")
    images = _files(root, _IMAGE_SUFFIXES)
    keys = {k: _files(root, suffixes) for k, suffixes in _KEY_SUFFIXES.items()}
    key_only = sorted((set(keys["ED"]) & set(keys["ES"])) - set(images))
    if not images and not key_only:
        raise CineDataError(root, "no M&Ms subjects (<CODE>/<CODE>_sa.nii.gz or _sa_ED/_sa_ES) found")
    csv_path = find_info_csv(root)
    table = read_info_csv(csv_path)
    gts = _files(csv_path.parent, _GT_SUFFIXES)
    for code in sorted(set(images) | set(key_only)):
        image_path = images.get(code)
        key_paths = {k: keys[k][code] for k in keys} if image_path is None else None
        where = image_path or key_paths["ED"]
        try:
            if code not in table:
                raise CineDataError(where, f"no row for {code} in {csv_path.name}")
            split = where.parent.parent.relative_to(csv_path.parent).as_posix()
            cycles = read_subject(code, image_path, gts.get(code), table[code], csv_path, split, key_paths)
        except CineDataError as err:
            log.skip(err)
            continue
        yield from cycles
