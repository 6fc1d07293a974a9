"""``cineaug demo``: the main job on the built-in simulator, end to end, in minutes on 2 CPU cores.

Simulates a training cohort, a disjoint test cohort and a bank of simulator label cycles (three
seeds), samples a bank of synthetic cycles from the shipped generator once (so that the synthetic
arms cost no generator time), runs a reduced benchmark (5 arms: no augmentation, affine, the
nnU-Net-like baseline, the recommended recipe and the trained generator's cycles; 2 training-set
sizes, 2 seeds) and writes the report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from ..generate import write_bank
from ..prepare import prepare_dataset, write_simulated_dataset
from ..pretrained import resolve
from ..transforms import RECOMMENDED_ARM
from .arms import arm_spec, needs_generator, needs_simulator
from .runner import run_benchmark

DEMO_ARMS = ("none", "affine", "nnunet", RECOMMENDED_ARM, "synthetic+nnunet")
"""No augmentation, two baselines, the recommended recipe and the trained generator's own cycles."""
TRAIN_SEED, TEST_SEED, SIM_BANK_SEED = 1000, 2000, 3000  # simulator seeds: no subject is shared


def simulate_cohorts(
    out: str | os.PathLike, n_train: int, n_test: int, progress: bool = True, size: int = 64
) -> tuple[Path, Path]:
    """Simulate a training and a test cohort from disjoint seeds: ``out/train``, ``out/test`` (caches
    of ``size`` px crops; the test cohort keeps its labels in the native grid for per-volume scores)."""
    out = Path(out)
    train = write_simulated_dataset(out / "train", n=n_train, seed=TRAIN_SEED, size=size, progress=progress)
    options = {"n": n_test, "seed": TEST_SEED, "label_set": "acdc"}
    prepare_dataset("simulator", options, out / "test", size=size, keep_native=True, progress=progress)
    return train, out / "test"


def simulate_sim_bank(out: str | os.PathLike, n: int = 64, size: int = 64, progress: bool = True) -> Path:
    """Simulator label cycles for the ``sim`` arms (seed :data:`SIM_BANK_SEED`: no cohort subject)."""
    return write_simulated_dataset(out, n=n, seed=SIM_BANK_SEED, size=size, progress=progress)


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
    sim_bank_size: int = 64,
) -> Path:
    """Simulate, benchmark and report; returns the benchmark folder (``out/benchmark``).

    Args:
        out: demo folder: ``data/train``, ``data/test`` (prepared caches), ``data/bank`` (the
            generator's cycles) and ``data/sim-bank`` (simulator label cycles), each only when an arm
            draws from it, and ``benchmark/``.
        model: the generator for the synthetic arms (shipped name or model folder).
        bank_size: synthetic cycles sampled into the bank (every class in equal expectation).
        sim_bank_size: simulator subjects of the ``sim`` arms' bank.
        n_train, n_test: simulated subjects per cohort (one mid-ventricular slice each).
        arms, sizes, seeds, steps: the reduced benchmark (see :func:`run_benchmark`).
    """
    start = time.perf_counter()
    out = Path(out)
    resolve(model)  # fail before simulating if the model is missing
    specs = [arm_spec(a) for a in arms]  # and on a misspelt arm
    train, test = simulate_cohorts(out / "data", n_train, n_test, progress)
    bank = sim_bank = None
    if any(needs_generator(s) for s in specs):
        bank = write_bank(model, out / "data" / "bank", bank_size, formats=("cache",), progress=progress)
    if any(needs_simulator(s) for s in specs):
        sim_bank = simulate_sim_bank(out / "data" / "sim-bank", sim_bank_size, progress=progress)
    folder = run_benchmark(
        train, test, arms, sizes, seeds, out / "benchmark", steps=steps, progress=progress, bank=bank,
        sim_bank=sim_bank,
    )  # fmt: skip
    (folder / "demo_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
    return folder
