"""Populations of simulated subjects: the ``simulator`` source of ``cineaug prepare``, raw cycles in
order, and the ACDC-layout export.

Nothing here prepares or caches a cycle: a prepared cache of simulated subjects is written by
:func:`cineaug.prepare.prepare_dataset` (kind ``"simulator"``), like any other source.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..errors import ReadLog
from ..types import CineCycle
from .cycle import simulate_cycle
from .params import PATHOLOGY_SETS, sample_subject, subject_id

SIMULATOR_DEFAULTS: dict[str, Any] = {"n": 100, "seed": 0, "label_set": "acdc"}
"""Options of the ``simulator`` source, with their defaults."""


@dataclass(frozen=True)
class SimulatedSubject:
    """Subject ``index`` of a simulated data set, as a recipe: picklable, and its raw cycle is made
    only when it is called (on a preparation worker, see :func:`cineaug.prepare.prepare_cycles`)."""

    seed: int
    index: int
    pathology: str
    label_set: str = "acdc"

    @property
    def subject(self) -> str:
        return subject_id(self.seed, self.index)

    def __call__(self) -> CineCycle:
        """The raw cycle: ``simulate_cycle(sample_subject(seed, pathology, label_set, index=index))``."""
        return simulate_cycle(sample_subject(self.seed, self.pathology, self.label_set, index=self.index))


def subject_classes(n: int, label_set: str = "acdc", pathologies: Sequence[str] | None = None) -> list[str]:
    """Class of each of ``n`` subjects: round-robin over ``pathologies`` (default: every class of the set)."""
    names = tuple(pathologies) if pathologies else PATHOLOGY_SETS[label_set]
    return [names[i % len(names)] for i in range(n)]


def simulated_subjects(
    n: int, seed: int, label_set: str = "acdc", pathologies: Sequence[str] | None = None
) -> list[SimulatedSubject]:
    """Recipes of ``n`` subjects; subject ``i`` draws from ``SeedSequence([seed, i])``."""
    classes = subject_classes(n, label_set, pathologies)
    return [SimulatedSubject(seed, i, c, label_set) for i, c in enumerate(classes)]


def simulator_options(source: Mapping[str, Any] | str) -> dict[str, Any]:
    """The options of a ``simulator`` source, checked, defaults filled in (:data:`SIMULATOR_DEFAULTS`).

    Args:
        source: a mapping, or the command line's form ``"n=200,seed=0,label_set=acdc"`` ("" for the
            defaults).

    Raises:
        ValueError: naming the option that is unknown or has a bad value.
    """
    if isinstance(source, str):
        pairs = [item.partition("=") for item in source.split(",") if item.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError(f"simulator options {source!r}: write key=value pairs, e.g. n=200,seed=0")
        source = {k.strip(): v.strip() for k, _, v in pairs}
    unknown = set(source) - set(SIMULATOR_DEFAULTS)
    if unknown:
        known = ", ".join(SIMULATOR_DEFAULTS)
        raise ValueError(f"unknown simulator option {sorted(unknown)[0]!r}; known: {known}")
    options = {**SIMULATOR_DEFAULTS, **source}
    for key in ("n", "seed"):
        try:
            options[key] = int(options[key])
        except ValueError:
            raise ValueError(f"simulator option {key} must be an integer, got {options[key]!r}") from None
    if options["n"] < 1 or options["seed"] < 0:
        raise ValueError(
            f"simulator options need n >= 1 and seed >= 0, got n={options['n']}, seed={options['seed']}"
        )
    if options["label_set"] not in PATHOLOGY_SETS:
        raise ValueError(
            f"simulator label_set must be one of {sorted(PATHOLOGY_SETS)}, got {options['label_set']!r}"
        )
    return options


def read_simulator(source: Mapping[str, Any] | str, log: ReadLog | None = None) -> list[SimulatedSubject]:
    """The ``simulator`` source, with the readers' signature: one recipe per subject, in order.

    Args:
        source: simulator options (:func:`simulator_options`): ``n`` subjects, classes of
            ``label_set`` balanced round-robin, base ``seed``.
        log: unused: nothing is read from files, so nothing is skipped while reading.
    """
    options = simulator_options(source)
    return simulated_subjects(options["n"], options["seed"], options["label_set"])


def _made(recipe: SimulatedSubject, post: Callable[[CineCycle], Any] | None) -> Any:
    cycle = recipe()
    return cycle if post is None else post(cycle)


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def _run(
    recipes: list[SimulatedSubject], workers: int, post: Callable[[CineCycle], Any] | None
) -> Iterator[Any]:
    fn = partial(_made, post=post)
    if workers <= 1 or len(recipes) <= 1:
        yield from map(fn, recipes)
        return
    chunk = max(1, min(8, len(recipes) // (4 * workers)))
    with get_context("fork" if os.name == "posix" else "spawn").Pool(
        workers, initializer=_single_thread
    ) as pool:
        yield from pool.imap(fn, recipes, chunksize=chunk)


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
    yield from _run(simulated_subjects(n, seed, label_set, pathologies), workers, post=None)


def write_acdc_dataset(
    out: str | Path, n: int, seed: int = 0, label_set: str = "acdc", workers: int = 2, progress: bool = True
) -> Path:
    """Simulate ``n`` subjects into an ACDC-layout tree of raw NIfTI files at ``out``
    (:func:`~cineaug.simulate.export.write_acdc_patient`, one ``patientNNN`` folder each); returns ``out``."""
    from tqdm.auto import tqdm

    from .export import write_acdc_patient

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    post = partial(write_acdc_patient, out)
    with tqdm(total=n, desc="simulate", unit="subject", disable=not progress) as bar:
        for _ in _run(simulated_subjects(n, seed, label_set), workers, post=post):
            bar.update()
    return out
