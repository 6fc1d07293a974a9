"""Compare augmentations on your own data: one 2D UNet per arm, scored on held-out subjects.

    python examples/compare_baselines.py                          # simulated train/test cohorts
    python examples/compare_baselines.py --data PREPARED          # your cache: leave-one-subject-out
    python examples/compare_baselines.py --data TRAIN --test-data TEST --arms none,affine,nnunet,synthetic

Writes results.jsonl, report.md and report.html (Dice and HD95 per arm, paired tests) to --out.
This is ``cineaug benchmark`` with small defaults; see ``cineaug benchmark --help``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cineaug.benchmark import read_results, run_benchmark
from cineaug.prepare import write_simulated_dataset

TRAIN_SEED, TEST_SEED = 1000, 2000  # simulator seeds of two disjoint cohorts


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="prepared cache of training subjects (default: simulate)")
    parser.add_argument("--test-data", type=Path, help="cache of other subjects (default: leave one out)")
    parser.add_argument("--out", type=Path, default=Path("runs/compare-baselines"))
    parser.add_argument("--arms", default="none,affine,photometric,nnunet,synthetic")
    parser.add_argument("--sizes", default="2,4", help="training-set sizes in subjects")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=100, help="optimiser steps per run")
    parser.add_argument("--model", default="progan-sim-64", help="generator of the synthetic arms")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    train, test = args.data, args.test_data
    if train is None:
        train = write_simulated_dataset(args.out / "data" / "train", n=max(sizes), seed=TRAIN_SEED)
        test = write_simulated_dataset(args.out / "data" / "test", n=6, seed=TEST_SEED)
    arms = args.arms.split(",")
    generator = args.model if any(a.startswith("synthetic") for a in arms) else None
    folder = run_benchmark(train, test, arms, sizes, [int(s) for s in args.seeds.split(",")], args.out,
                           generator=generator, steps=args.steps)  # fmt: skip
    rows = read_results(folder)
    for arm in dict.fromkeys(r["arm"] for r in rows):
        dice = [r["dice_mean"] for r in rows if r["arm"] == arm]
        print(f"{arm:>18}: mean Dice {sum(dice) / len(dice):.3f} over {len(dice)} runs")
    print(f"report: {folder / 'report.html'}")
    return rows


if __name__ == "__main__":
    main()
