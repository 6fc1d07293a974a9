"""Training length of the benchmark protocol: Dice against optimiser steps, from benchmark folders.

Each folder is one ``cineaug benchmark`` run at a fixed ``--steps`` (same data, arms, sizes and seeds),
e.g. ``RUNS/steps250 ... RUNS/steps4000``. Prints JSON (mean Dice and HD95 per arm, size and steps,
and the gap of each to the longest run) and writes a plot, so that the protocol's steps can be set
where the best baseline is within 0.01 Dice of its plateau.

    python studies/protocol_length.py RUNS/steps* --plot docs/results/acdc/dice_vs_steps.png
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from cineaug.benchmark.report import read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    runs: dict[tuple[str, int], dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for folder in args.folders:
        if not (folder / "results.jsonl").is_file():
            continue
        for row in read_results(folder):
            runs[(row["arm"], row["size"])][row["steps"]].append(row)
    table = []
    for (arm, size), by_steps in sorted(runs.items()):
        longest = max(by_steps)
        top = float(np.mean([r["dice_mean"] for r in by_steps[longest]]))
        for steps in sorted(by_steps):
            rows = by_steps[steps]
            dice = float(np.mean([r["dice_mean"] for r in rows]))
            table.append({
                "arm": arm, "size": size, "steps": steps, "runs": len(rows), "dice_mean": round(dice, 4),
                "hd95_mean": round(float(np.mean([r["hd95_mean"] for r in rows])), 2),
                "minutes_per_run": round(float(np.mean([r["train_seconds"] for r in rows])) / 60, 2),
                "gap_to_longest": round(top - dice, 4),
            })  # fmt: skip
    print(json.dumps(table, indent=1))
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for arm, size in sorted(runs):
            pts = [(r["steps"], r["dice_mean"]) for r in table if (r["arm"], r["size"]) == (arm, size)]
            ax.plot(*zip(*pts), marker="o", label=f"{arm}, {size} patients")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("optimiser steps (batch 16 frames)")
        ax.set_ylabel("mean Dice (RV, myocardium, LV)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
