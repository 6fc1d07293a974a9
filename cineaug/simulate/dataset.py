"""Populations of simulated subjects: an ordered iterator and the writers behind ``cineaug simulate``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..types import CineCycle
from .cycle import simulate_cycle
from .params import PATHOLOGY_SETS, sample_subject

FORMATS = ("cache", "acdc")


def subject_classes(n: int, label_set: str = "acdc", pathologies: Sequence[str] | None = None) -> list[str]:
    """Class of each of ``n`` subjects: round-robin over ``pathologies`` (default: every class of the set)."""
    names = tuple(pathologies) if pathologies else PATHOLOGY_SETS[label_set]
    return [names[i % len(names)] for i in range(n)]


def _simulate(task: tuple[int, int, str, str], post: Callable[[CineCycle], Any] | None) -> Any:
    seed, index, pathology, label_set = task
    cycle = simulate_cycle(sample_subject(seed, pathology, label_set, index=index))
    return cycle if post is None else post(cycle)


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def _run(
    n: int,
    seed: int,
    label_set: str,
    pathologies: Sequence[str] | None,
    workers: int,
    post: Callable[[CineCycle], Any] | None,
) -> Iterator[Any]:
    tasks = [(seed, i, c, label_set) for i, c in enumerate(subject_classes(n, label_set, pathologies))]
    fn = partial(_simulate, post=post)
    if workers <= 1 or n <= 1:
        yield from map(fn, tasks)
        return
    chunk = max(1, min(8, n // (4 * workers)))
    with get_context("fork" if os.name == "posix" else "spawn").Pool(
        workers, initializer=_single_thread
    ) as pool:
        yield from pool.imap(fn, tasks, chunksize=chunk)


def simulate_dataset(
    n: int, seed: int, label_set: str = "acdc", pathologies: Sequence[str] | None = None, workers: int = 2
) -> Iterator[CineCycle]:
    """Raw simulated cycles in subject order.

    Args:
        n: number of subjects; subject ``i`` uses ``sample_subject(seed, class_i, label_set, index=i)``,
            i.e. the streams of ``SeedSequence([seed, i])``.
        seed: base seed.
        label_set: "acdc" or "sunnybrook".
        pathologies: classes to cycle through (default: all classes of ``label_set``, balanced).
        workers: processes (a fork pool for > 1); the order and the output do not depend on it.

    Yields:
        :class:`~cineaug.types.CineCycle` from :func:`~cineaug.simulate.simulate_cycle`.
    """
    yield from _run(n, seed, label_set, pathologies, workers, post=None)


def _prepare(cycle: CineCycle, size: int) -> CineCycle:
    from ..preprocess import prepare_cycle

    return prepare_cycle(cycle, size=size)


def write_simulated_dataset(
    out: str | Path,
    n: int,
    seed: int = 0,
    label_set: str = "acdc",
    size: int = 64,
    fmt: str = "cache",
    workers: int = 2,
    progress: bool = True,
) -> Path:
    """Simulate ``n`` subjects and write them.

    Args:
        out: output folder.
        n: number of subjects (classes balanced round-robin); seed: base seed.
        label_set: "acdc" or "sunnybrook".
        size: side of the prepared cycles (``fmt="cache"``).
        fmt: "cache": each cycle through :func:`cineaug.preprocess.prepare_cycle` into a
            :class:`cineaug.cache.CacheWriter` folder with a ``preview.gif``; "acdc": an ACDC-layout
            tree of raw NIfTI files (:func:`~cineaug.simulate.export.write_acdc_patient`).
        workers: processes; progress: show a tqdm bar.

    Returns:
        ``out`` as a Path.
    """
    from tqdm.auto import tqdm

    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    out = Path(out)
    bar = tqdm(total=n, desc="simulate", unit="subject", disable=not progress)
    if fmt == "acdc":
        from .export import write_acdc_patient

        out.mkdir(parents=True, exist_ok=True)
        post = partial(write_acdc_patient, out)
        for _ in _run(n, seed, label_set, None, workers, post=post):
            bar.update()
    else:
        from ..cache import CacheWriter
        from ..prepare import write_preview

        info = {"simulator": {"n": n, "seed": seed, "label_set": label_set, "size": size}}
        with CacheWriter(out, source="simulator", info=info) as writer:
            for cycle in _run(n, seed, label_set, None, workers, post=partial(_prepare, size=size)):
                writer.add(cycle)
                bar.update()
        write_preview(out)
    bar.close()
    return out
