"""``prepare_dataset``: the one writer of caches. Read a source (a data set, or the simulator), prepare
every cycle, write the cache and a GIF preview."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .cache import CacheWriter, read_cycle, read_index
from .errors import CineDataError, ReadLog
from .io import READERS
from .kinds import KINDS
from .preprocess import DEFAULT_FOV_MM, prepare_cycle
from .types import UNOBSERVED_FILL_RAW, CineCycle
from .viz import save_cycles_gif

PREVIEW = "preview.gif"
FORMATS = ("cache", "acdc")
"""Formats of :func:`write_simulated_dataset`."""

Recipe = Callable[[], CineCycle]
"""A raw cycle not made yet (e.g. :class:`cineaug.simulate.SimulatedSubject`): picklable, with a
``subject``, made when called, on a preparation worker."""
Source = Callable[..., Iterable[CineCycle | Recipe]]
"""The readers' signature: ``source(input, log=ReadLog)`` -> raw cycles or recipes, in order."""


def _read_simulator(options: Mapping[str, Any] | str, log: ReadLog | None = None) -> list[Recipe]:
    """:func:`cineaug.simulate.read_simulator`, imported on first use (the simulator's imports cost
    seconds, and reading data stays quick to import)."""
    from .simulate import read_simulator

    return read_simulator(options, log)


SOURCES: dict[str, Source] = {**READERS, "simulator": _read_simulator}
"""The data kinds of ``cineaug prepare`` and their sources: :data:`cineaug.io.READERS` and the simulator."""
# KINDS (cineaug.kinds, names only) lists these; tests/test_cli.py keeps the two equal.


def read_source(kind: str, source: Any, log: ReadLog) -> Iterable[CineCycle | Recipe]:
    """Raw cycles (or recipes) of ``source``, a data set of ``kind`` (one of :data:`KINDS`): a path, or
    the simulator's options (:func:`cineaug.simulate.simulator_options`)."""
    if kind not in SOURCES:
        raise ValueError(f"unknown data kind {kind!r}; choose one of {', '.join(KINDS)}")
    return SOURCES[kind](source, log=log)


def describe_source(kind: str, source: Any) -> Any:
    """How ``dataset.json`` records a source: a data set's resolved path, the simulator's options."""
    if kind == "simulator":
        from .simulate import simulator_options

        return simulator_options(source)
    return str(Path(source).resolve())


Packed = tuple[dict[str, Any], np.ndarray, np.ndarray]


def pack_observed(item: CineCycle | Recipe) -> CineCycle | Packed | Recipe:
    """A key-frame cycle as it travels to a worker: metadata and its observed frames only (the
    other frames hold the raw fill and no labels); any other cycle, or a recipe, as it is."""
    if not isinstance(item, CineCycle) or not item.key_frames_only:
        return item
    return item.metadata(), item.image[item.observed], item.label[item.observed]


def unpack_observed(item: CineCycle | Packed | Recipe) -> CineCycle:
    """Inverse of :func:`pack_observed`; a recipe is made here."""
    if isinstance(item, CineCycle):
        return item
    if not isinstance(item, tuple):
        return item()
    meta, image, label = item
    observed = np.asarray(meta["observed"], bool)
    full_image = np.full((len(observed), *image.shape[1:]), UNOBSERVED_FILL_RAW, np.float32)  # [T,H,W]
    full_label = np.zeros(full_image.shape, np.uint8)
    full_image[observed], full_label[observed] = image, label
    return CineCycle.from_arrays(full_image, full_label, meta)


def _prepare_or_error(item: CineCycle | Packed | Recipe, **kwargs: Any) -> CineCycle | CineDataError:
    cycle = unpack_observed(item)
    try:
        return prepare_cycle(cycle, **kwargs)
    except (CineDataError, ValueError) as err:
        return err if isinstance(err, CineDataError) else CineDataError(cycle.key, str(err))


def prepare_cycles(
    cycles: Iterable[CineCycle | Recipe],
    workers: int = 1,
    progress: bool = True,
    total: int | None = None,
    **kwargs: Any,
) -> Iterator[CineCycle | CineDataError]:
    """Prepare raw cycles (in order), on ``workers`` processes; failures come back as errors.

    A recipe is made on the worker that prepares it (the simulator's subjects are simulated there)."""
    fn = partial(_prepare_or_error, **kwargs)
    bar = tqdm(total=total, desc="prepare", unit="cycle", disable=not progress)
    if workers <= 1:
        for c in cycles:
            yield fn(c)
            bar.update()
    else:
        with get_context("fork" if os.name == "posix" else "spawn").Pool(workers) as pool:
            for out in pool.imap(fn, map(pack_observed, cycles), chunksize=1):
                yield out
                bar.update()
    bar.close()


def _only_subjects(
    cycles: Iterable[CineCycle | Recipe], wanted: set[str], seen: set[str]
) -> Iterator[CineCycle | Recipe]:
    """The cycles (or recipes) of ``wanted`` subjects; adds each subject met to ``seen``."""
    for cycle in cycles:
        if cycle.subject in wanted:
            seen.add(cycle.subject)
            yield cycle


def _first_read(items: Iterable[Any]) -> Iterable[Any]:
    """``items`` with its first one read already (so that a reader's error on a missing or wrong
    input is raised now, before anything is written)."""
    iterator = iter(items)
    try:
        first = next(iterator)
    except StopIteration:
        return []
    return itertools.chain([first], iterator)


def prepare_dataset(
    kind: str,
    input_path: str | os.PathLike | Mapping[str, Any],
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
    keep_native: bool | None = None,
) -> Path:
    """Read ``input_path`` as ``kind``, prepare each cycle and write the cache at ``output``.

    Args:
        kind: one of :data:`KINDS`.
        input_path: the data set (a file for ``"nifti"``); for ``"simulator"``, its options
            (:func:`cineaug.simulate.simulator_options`: ``{"n": 100, "seed": 0, "label_set": "acdc"}``
            or ``"n=100,seed=0,label_set=acdc"``).
        size: output side in px (64 or 128); ``fov_mm``: field of view kept around the heart.
        propagate: propagate expert labels to every frame (see :mod:`cineaug.propagate`).
        workers: processes for preparation (reading stays in this process; simulated subjects are
            simulated on these processes).
        strict: raise on the first bad item instead of skipping and counting it.
        preview: how many cycles the GIF preview ``output/preview.gif`` shows (0: none).
        subjects: keep only these subjects (e.g. :data:`cineaug.splits.ACDC_DEV_TEST`); one that the
            data set does not hold raises.
        crop: centre crops on the expert labels (``"labels"``, training) or on the image alone
            (``"image"``, a test set as a user's unlabelled scans); see
            :func:`~cineaug.preprocess.crop_center`.
        keep_native: keep the expert labels in the source's own grid too (``native_label``: about
            H0 x W0 bytes per labelled frame), for per-volume scores in the native grid
            (:mod:`cineaug.benchmark.volumes`); None: keep them for image-centred crops (test sets).

    Returns:
        The path of ``dataset.json``.

    Raises:
        CineDataError: the input is missing, empty or not of this kind, or nothing could be read.
    """
    if size < 16:
        raise ValueError(f"size {size} px is too small for a heart crop (use 64 or 128)")
    log = ReadLog(strict=strict)
    cycles = read_source(kind, input_path, log)
    info = {"kind": kind, "input": describe_source(kind, input_path), "size": size, "fov_mm": fov_mm}
    keep_native = crop == "image" if keep_native is None else keep_native
    info["propagate"], info["crop"], info["keep_native"] = propagate, crop, keep_native
    where = str(input_path)  # errors name the data set (or the simulator's options)
    seen: set[str] = set()
    if subjects is not None:
        cycles = _only_subjects(cycles, set(subjects), seen)
    options = dict(size=size, fov_mm=fov_mm, propagate=propagate, crop=crop, keep_native=keep_native)
    total = len(cycles) if isinstance(cycles, Sized) else None
    cycles = _first_read(cycles)  # an unreadable input fails here: no output folder, no progress bar
    writer = CacheWriter(output, source=kind, info=info)
    for out in prepare_cycles(cycles, workers, progress, total, **options):
        if isinstance(out, CineDataError):
            log.skip(out)
            continue
        writer.add(out)
    if subjects is not None and set(subjects) - seen:
        missing = sorted(set(subjects) - seen)
        raise CineDataError(where, f"{len(missing)} requested subjects not found: {', '.join(missing[:5])}")
    if not writer.entries:
        raise CineDataError(
            where, f"no cycle could be read as {kind} data ({len(log.skipped)} items skipped)"
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


def write_simulated_dataset(
    out: str | os.PathLike,
    n: int,
    seed: int = 0,
    label_set: str = "acdc",
    size: int = 64,
    fmt: str = "cache",
    workers: int = 2,
    progress: bool = True,
    fov_mm: float = DEFAULT_FOV_MM,
    strict: bool = False,
) -> Path:
    """Simulate ``n`` subjects and write them (``cineaug simulate``).

    Args:
        out: output folder.
        n: number of subjects (classes balanced round-robin); seed: base seed.
        label_set: "acdc" or "sunnybrook".
        size: as in :func:`prepare_dataset` (``fmt="cache"``).
        fov_mm: as in :func:`prepare_dataset` (``fmt="cache"``).
        strict: as in :func:`prepare_dataset` (``fmt="cache"``).
        fmt: "cache": :func:`prepare_dataset` of kind ``"simulator"`` (a cache with a
            ``preview.gif``); "acdc": an ACDC-layout tree of raw NIfTI files
            (:func:`cineaug.simulate.write_acdc_dataset`).
        workers: processes; progress: show a tqdm bar.

    Returns:
        ``out`` as a Path.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if fmt == "acdc":
        from .simulate import write_acdc_dataset

        return write_acdc_dataset(out, n, seed, label_set, workers=workers, progress=progress)
    options = {"n": n, "seed": seed, "label_set": label_set}
    prepare_dataset(
        "simulator", options, out, size=size, fov_mm=fov_mm, workers=workers, strict=strict, progress=progress
    )
    return Path(out)
