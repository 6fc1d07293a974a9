"""``cineaug demo``: the main job on the built-in simulator, end to end, in minutes on 2 CPU cores.

Simulates a training cohort and a disjoint test cohort (other seeds), samples a bank of synthetic
cycles from the shipped generator once (so that the synthetic arms cost no generator time), runs a
reduced benchmark (5 arms, 2 training-set sizes, 2 seeds) and writes the report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from ..generate import write_bank
from ..prepare import write_simulated_dataset
from ..pretrained import resolve
from .runner import run_benchmark

DEMO_ARMS = ("none", "affine", "nnunet", "synthetic", "synthetic+affine")
TRAIN_SEED, TEST_SEED = 1000, 2000  # simulator seeds of the two cohorts: no subject is shared


def simulate_cohorts(
    out: str | os.PathLike, n_train: int, n_test: int, progress: bool = True
) -> tuple[Path, Path]:
    """Simulate a training and a test cohort from disjoint seeds: ``out/train``, ``out/test`` (caches)."""
    out = Path(out)
    train = write_simulated_dataset(out / "train", n=n_train, seed=TRAIN_SEED, progress=progress)
    test = write_simulated_dataset(out / "test", n=n_test, seed=TEST_SEED, progress=progress)
    return train, test


def run_demo(
    out: str | os.PathLike,
    model: str | os.PathLike = "progan-sim-64",
    n_train: int = 8,
    n_test: int = 6,
    arms: Sequence[str] = DEMO_ARMS,
    sizes: Sequence[int] = (2, 8),
    seeds: Sequence[int] = (0, 1),
    steps: int = 150,
    progress: bool = True,
    bank_size: int = 256,
) -> Path:
    """Simulate, benchmark and report; returns the benchmark folder (``out/benchmark``).

    Args:
        out: demo folder: ``data/train``, ``data/test`` (prepared caches), ``data/bank`` (the
            synthetic cycles) and ``benchmark/``.
        model: the generator for the synthetic arms (shipped name or model folder).
        bank_size: synthetic cycles sampled into the bank (every class in equal expectation).
        n_train, n_test: simulated subjects per cohort (one mid-ventricular slice each).
        arms, sizes, seeds, steps: the reduced benchmark (see :func:`run_benchmark`).
    """
    start = time.perf_counter()
    out = Path(out)
    resolve(model)  # fail before simulating if the model is missing
    train, test = simulate_cohorts(out / "data", n_train, n_test, progress)
    bank = write_bank(model, out / "data" / "bank", bank_size, formats=("cache",), progress=progress)
    folder = run_benchmark(
        train, test, arms, sizes, seeds, out / "benchmark", steps=steps, progress=progress, bank=bank
    )
    (folder / "demo_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
    return folder
