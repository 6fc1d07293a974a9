"""Reader for the ACDC data set (MICCAI 2017), as published and as the simulator exports it.

Layout::

    database/training/patient001/
        Info.cfg                      ED: 1, ES: 12, Group: DCM, Height, NbFrame, Weight (no [section])
        patient001_4d.nii.gz          [X, Y, Z, T] cine (absent from many copies)
        patient001_frame01.nii.gz     [X, Y, Z] image at ED (frame numbers 1-based, zero-padded to 2)
        patient001_frame01_gt.nii.gz  [X, Y, Z] labels at ED
        patient001_frame12.nii.gz, patient001_frame12_gt.nii.gz   the same at ES
    database/testing/patient101/...

Labels are already in ACDC order (1 RV cavity, 2 myocardium, 3 LV cavity).
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import CineDataError, ReadLog, logger
from ..types import ALL_CLASSES, UNKNOWN_PATHOLOGY, CineCycle, LabelSource
from .nifti import CineVolume, check_frame, find_nifti, load_cine, load_key_frames, load_labels, slice_cycles

_PATIENT = re.compile(r"patient\d+")
_GROUPS = {"NOR": "NOR", "MINF": "MINF", "DCM": "DCM", "HCM": "HCM", "RV": "ARV", "ARV": "ARV"}
"""Info.cfg ``Group`` -> pathology name (the abnormal right ventricle group is spelled "RV" in Info.cfg)."""


def patient_dirs(root: str | os.PathLike) -> list[Path]:
    """The ``patientNNN`` folders under ``root`` (database, training/, testing/ or one patient), sorted.

    Raises:
        CineDataError: naming ``root`` if it is not a folder or holds no patient folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise CineDataError(root, "no such folder")
    if _PATIENT.fullmatch(root.name):
        return [root]
    found = [
        d
        for parent in (root, root / "training", root / "testing")
        if parent.is_dir()
        for d in parent.iterdir()
        if d.is_dir() and _PATIENT.fullmatch(d.name)
    ]
    if not found:
        raise CineDataError(root, "no ACDC patient folders (patientNNN/, training/, testing/) found")
    return sorted(found, key=lambda d: (d.name, str(d)))


def read_info(path: Path) -> dict[str, str]:
    """Parse an ``Info.cfg`` (``Key: value`` lines without a section header); keys lower-cased."""
    if not path.is_file():
        raise CineDataError(path, "missing Info.cfg")
    parser = configparser.ConfigParser()
    try:
        parser.read_string("[info]\n" + path.read_text(errors="replace"), source=str(path))
    except configparser.Error as err:
        raise CineDataError(path, f"malformed Info.cfg ({err})") from err
    return dict(parser["info"])


def _number(info: dict[str, str], key: str, path: Path, required: bool = True) -> float | None:
    """``info[key]`` (``key`` as spelled in Info.cfg) as a float; None if absent and not required."""
    text = info.get(key.lower())
    if text is None:
        if required:
            raise CineDataError(path, f"missing {key}")
        return None
    try:
        return float(text)
    except ValueError as err:
        raise CineDataError(path, f"{key}: {text!r} is not a number") from err


def _frame(info: dict[str, str], key: str, path: Path) -> int:
    """A required 1-based frame number of Info.cfg."""
    value = _number(info, key, path)
    if not value.is_integer():
        raise CineDataError(path, f"{key}: {value} is not a frame number")
    return int(value)


def read_patient(folder: Path) -> list[CineCycle]:
    """All cycles (one per slice) of one ACDC patient folder.

    With ``patientNNN_4d.nii.gz`` every frame is observed. Without it (copies that keep the ED and
    ES volumes only) the cycles are *key-frame cycles* of NbFrame frames: ED and ES observed at
    their frames, every other frame unobserved.

    Raises:
        CineDataError: naming the offending file (Info.cfg, 4D volume, frame volume or ground truth).
    """
    name = folder.name
    info_path = folder / "Info.cfg"
    info = read_info(info_path)
    ed, es = _frame(info, "ED", info_path), _frame(info, "ES", info_path)
    nb_frames = _number(info, "NbFrame", info_path, required=False)
    volume_path = find_nifti(folder, f"{name}_4d")
    if volume_path is not None:
        volume = load_cine(volume_path)
        if nb_frames is not None and nb_frames != volume.n_frames:
            logger.warning(
                "%s: NbFrame %g != %d frames in %s; using %d",
                info_path, nb_frames, volume.n_frames, volume_path, volume.n_frames,
            )  # fmt: skip
    else:
        volume = _key_frames(folder, info_path, ed, es, nb_frames)
    t = volume.n_frames
    check_frame(info_path, "ED", ed, t, one_based=True)
    check_frame(info_path, "ES", es, t, one_based=True)

    label = np.zeros(volume.data.shape, np.uint8)  # [X,Y,Z,T]
    labeled = np.zeros(t, bool)
    for frame in sorted({ed, es}):
        gt_path = find_nifti(folder, f"{name}_frame{frame:02d}_gt")
        if gt_path is not None:  # the original testing release had no ground truth
            label[..., frame - 1] = load_labels(gt_path, volume.data.shape[:3])
            labeled[frame - 1] = True
    group = info.get("group", "").strip()
    return slice_cycles(
        volume,
        label,
        labeled,
        LabelSource.EXPERT,
        source="acdc",
        subject=name,
        pathology=_GROUPS.get(group.upper(), group or UNKNOWN_PATHOLOGY),
        ed_frame=ed - 1,
        es_frame=es - 1,
        annotated_classes=ALL_CLASSES if labeled.any() else (),
        extra={
            "height": _number(info, "Height", info_path, required=False),
            "weight": _number(info, "Weight", info_path, required=False),
            "nb_frames": t,
        },
    )


def _key_frames(folder: Path, info_path: Path, ed: int, es: int, nb_frames: float | None) -> CineVolume:
    """The ED and ES volumes placed on a cycle of NbFrame frames (no 4D cine in ``folder``)."""
    name = folder.name
    if nb_frames is None or not nb_frames.is_integer() or nb_frames < 2:
        problem = "no NbFrame" if nb_frames is None else f"NbFrame {nb_frames:g} is not a frame count"
        raise CineDataError(
            info_path, f"{problem}, and no 4D cine: ED and ES cannot be placed in the cardiac cycle"
        )
    t = int(nb_frames)
    check_frame(info_path, "ED", ed, t, one_based=True)
    check_frame(info_path, "ES", es, t, one_based=True)
    paths = {}
    for key, frame in (("ED", ed), ("ES", es)):
        paths[frame - 1] = find_nifti(folder, f"{name}_frame{frame:02d}")
        if paths[frame - 1] is None:
            raise CineDataError(
                folder / f"{name}_frame{frame:02d}.nii.gz", f"missing: no 4D cine and no {key} volume"
            )
    return load_key_frames(paths, t)


def read_acdc(root: str | os.PathLike, log: ReadLog | None = None) -> Iterator[CineCycle]:
    """Read an ACDC tree as raw cycles, one per patient and slice (source ``"acdc"``).

    Args:
        root: the ``database`` folder (with ``training/`` and ``testing/``), one of those two, or
            a single ``patientNNN`` folder.
        log: where skipped patients are recorded; a patient with bad or missing files is skipped
            and logged (or raises if ``log.strict``).
            Defaults to a fresh non-strict log.

    Yields:
        Cycles with ``image`` float32 ``[T, Y, X]`` (raw intensities, native T), ``label`` uint8
        ``[T, Y, X]`` expert-labeled at ED and ES, ``observed`` (every frame with the 4D cine, ED
        and ES only without it: T is then Info.cfg's NbFrame), ``ed_frame``/``es_frame`` 0-based, ``subject``
        ``"patientNNN"``, ``slice_index`` z, pathology NOR/MINF/DCM/HCM/ARV, and ``extra`` with
        ``height`` (cm), ``weight`` (kg) (None if absent) and ``nb_frames`` (T; a differing NbFrame
        in Info.cfg gives a warning).

    Raises:
        CineDataError: if ``root`` holds no patient folder, or for a bad patient when strict.

    Example:
        >>> cycles = list(read_acdc("ACDC/database/training"))  # doctest: +SKIP
    """
    log = ReadLog() if log is None else log
    for folder in patient_dirs(root):
        try:
            cycles = read_patient(folder)
        except CineDataError as err:
            log.skip(err)
            continue
        yield from cycles
