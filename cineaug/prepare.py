"""``prepare_dataset``: read a data set, prepare every cycle, write the cache and a GIF preview."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .cache import CacheWriter, read_cycle, read_index
from .errors import CineDataError, ReadLog
from .io import read_acdc, read_dicom_series, read_mnms, read_nifti, read_sunnybrook
from .preprocess import DEFAULT_FOV_MM, prepare_cycle
from .types import UNOBSERVED_FILL_RAW, CineCycle
from .viz import save_cycles_gif

KINDS = ("sunnybrook", "acdc", "mnms", "nifti", "dicom")
PREVIEW = "preview.gif"


def read_source(kind: str, path: str | os.PathLike, log: ReadLog) -> Iterator[CineCycle]:
    """Raw cycles of a data set of ``kind`` (one of :data:`KINDS`)."""
    if kind == "sunnybrook":
        return read_sunnybrook(path, log=log)
    if kind == "acdc":
        return read_acdc(path, log=log)
    if kind == "mnms":
        return read_mnms(path, log=log)
    if kind == "dicom":
        return read_dicom_series(path, log=log)
    if kind == "nifti":
        return read_nifti(path)
    raise ValueError(f"unknown data kind {kind!r}; choose one of {', '.join(KINDS)}")


Packed = tuple[dict[str, Any], np.ndarray, np.ndarray]


def pack_observed(cycle: CineCycle) -> CineCycle | Packed:
    """A key-frame cycle as it travels to a worker: metadata and its observed frames only (the
    other frames hold the raw fill and no labels); any other cycle as it is."""
    if not cycle.key_frames_only:
        return cycle
    return cycle.metadata(), cycle.image[cycle.observed], cycle.label[cycle.observed]


def unpack_observed(item: CineCycle | Packed) -> CineCycle:
    """Inverse of :func:`pack_observed`."""
    if isinstance(item, CineCycle):
        return item
    meta, image, label = item
    observed = np.asarray(meta["observed"], bool)
    full_image = np.full((len(observed), *image.shape[1:]), UNOBSERVED_FILL_RAW, np.float32)  # [T,H,W]
    full_label = np.zeros(full_image.shape, np.uint8)
    full_image[observed], full_label[observed] = image, label
    return CineCycle.from_arrays(full_image, full_label, meta)


def _prepare_or_error(item: CineCycle | Packed, **kwargs: Any) -> CineCycle | CineDataError:
    cycle = unpack_observed(item)
    try:
        return prepare_cycle(cycle, **kwargs)
    except (CineDataError, ValueError) as err:
        return err if isinstance(err, CineDataError) else CineDataError(cycle.key, str(err))


def prepare_cycles(
    cycles: Iterable[CineCycle],
    workers: int = 1,
    progress: bool = True,
    total: int | None = None,
    **kwargs: Any,
) -> Iterator[CineCycle | CineDataError]:
    """Prepare raw cycles (in order), on ``workers`` processes; failures come back as errors."""
    fn = partial(_prepare_or_error, **kwargs)
    bar = tqdm(total=total, desc="prepare", unit="cycle", disable=not progress)
    if workers <= 1:
        for c in cycles:
            yield fn(c)
            bar.update()
    else:
        with get_context("spawn").Pool(workers) as pool:
            for out in pool.imap(fn, map(pack_observed, cycles), chunksize=1):
                yield out
                bar.update()
    bar.close()


def _only_subjects(cycles: Iterable[CineCycle], wanted: set[str], seen: set[str]) -> Iterator[CineCycle]:
    """The cycles of ``wanted`` subjects; adds each subject met to ``seen``."""
    for cycle in cycles:
        if cycle.subject in wanted:
            seen.add(cycle.subject)
            yield cycle


def prepare_dataset(
    kind: str,
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    size: int = 64,
    fov_mm: float = DEFAULT_FOV_MM,
    propagate: bool = True,
    workers: int = 2,
    strict: bool = False,
    progress: bool = True,
    preview: int = 8,
    subjects: Sequence[str] | None = None,
    crop: str = "labels",
) -> Path:
    """Read ``input_path`` as ``kind``, prepare each cycle and write the cache at ``output``.

    Args:
        kind: one of :data:`KINDS`.
        size: output side in px (64 or 128); ``fov_mm``: field of view kept around the heart.
        propagate: propagate expert labels to every frame (see :mod:`cineaug.propagate`).
        workers: processes for preparation (reading stays in this process).
        strict: raise on the first bad item instead of skipping and counting it.
        preview: how many cycles the GIF preview ``output/preview.gif`` shows (0: none).
        subjects: keep only these subjects (e.g. :data:`cineaug.splits.ACDC_DEV_TEST`); one that the
            data set does not hold raises.
        crop: centre crops on the expert labels (``"labels"``, training) or on the image alone
            (``"image"``, a test set as a user's unlabelled scans); see
            :func:`~cineaug.preprocess.crop_center`.

    Returns:
        The path of ``dataset.json``.

    Raises:
        CineDataError: the input is missing, empty or not of this kind, or nothing could be read.
    """
    if size < 16:
        raise ValueError(f"size {size} px is too small for a heart crop (use 64 or 128)")
    log = ReadLog(strict=strict)
    info = {"kind": kind, "input": str(Path(input_path).resolve()), "size": size, "fov_mm": fov_mm}
    info["propagate"], info["crop"] = propagate, crop
    writer = CacheWriter(output, source=kind, info=info)
    cycles = read_source(kind, input_path, log)
    seen: set[str] = set()
    if subjects is not None:
        cycles = _only_subjects(cycles, set(subjects), seen)
    options = dict(size=size, fov_mm=fov_mm, propagate=propagate, crop=crop)
    for out in prepare_cycles(cycles, workers, progress, **options):
        if isinstance(out, CineDataError):
            log.skip(out)
            continue
        writer.add(out)
    if subjects is not None and set(subjects) - seen:
        missing = sorted(set(subjects) - seen)
        raise CineDataError(
            input_path, f"{len(missing)} requested subjects not found: {', '.join(missing[:5])}"
        )
    if not writer.entries:
        raise CineDataError(
            input_path, f"no cycle could be read as {kind} data ({len(log.skipped)} items skipped)"
        )
    if subjects is not None and set(subjects) - seen:
        missing = sorted(set(subjects) - seen)
        raise CineDataError(
            input_path, f"{len(missing)} requested subjects not found: {', '.join(missing[:5])}"
        )
    index_path = writer.close(skipped=log.skipped, warnings=log.warnings)
    if preview:
        write_preview(output, preview)
    return index_path


def pick_preview(entries: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Up to ``n`` index entries, labelled cycles first, taking subjects in turn."""
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(entries, key=lambda e: e["labeled_frames"] == 0):
        by_subject.setdefault(e["subject"], []).append(e)
    queues = list(by_subject.values())
    picked: list[dict[str, Any]] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop(0))
    return picked


def write_preview(root: str | os.PathLike, n: int = 8) -> Path:
    """``root/preview.gif``: ``n`` cycles of a cache with their labels overlaid (unobserved frames
    drawn as "not acquired")."""
    cycles = [read_cycle(root, e) for e in pick_preview(read_index(root)["cycles"], n)]
    return save_cycles_gif(
        Path(root) / PREVIEW,
        [c.image for c in cycles],
        [c.label for c in cycles],
        [c.label_source for c in cycles],
        observed=[c.observed for c in cycles],
    )
