"""The field protocol's per-volume Dice against labelled patients, beside published ACDC numbers.

Reads ``results.jsonl`` of benchmark folders run with ``--protocol field`` (rows scored per 3D
volume), averages each arm's ``volume_dice_mean`` over seeds per training size, and plots it
against the number of labelled patients (log scale) with the published points as markers: the
SSL4MIS supervised U-Net (3 and 7 patients, their own 70/10/20 split), semi-supervised methods that
add 67 unlabelled patients (BCP, ABD, TraCoCo: the range) and 2D U-Nets with all 100 patients on the
official test set. The splits differ (docs/benchmark.md says how): the markers place, not rank.
Prints the plotted means as JSON.

    python studies/field_vs_published.py RUNS/field-* --out docs/images/field_vs_published.png
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from cineaug.atomic import atomic_write_bytes
from cineaug.benchmark.report import read_results

PUBLISHED = (  # (label, patients, low, high, marker): mean Dice over RV, myocardium, LV per volume
    ("SSL4MIS supervised U-Net (256 px)", 3, 0.48, 0.48, "v"),
    ("SSL4MIS supervised U-Net (256 px)", 7, 0.79, 0.79, "v"),
    ("BCP / ABD / TraCoCo (+67 unlabelled patients)", 3, 0.876, 0.895, "D"),
    ("BCP / ABD / TraCoCo (+67 unlabelled patients)", 7, 0.888, 0.904, "D"),
    ("2D U-Nets, official test set (Isensee 2017, nnU-Net)", 100, 0.92, 0.928, "*"),
)


def means(folders: list[Path]) -> dict[str, dict[int, list[float]]]:
    """Per-volume mean Dice per arm (with its steps) and training size, one value per seed (the last
    folder's row wins)."""
    runs: dict[tuple[str, int, int], float] = {}
    for folder in folders:
        for row in read_results(folder):
            if "volume_dice_mean" in row:
                runs[(f"{row['arm']}, {row['steps']} steps", row["size"], row["seed"])] = row[
                    "volume_dice_mean"
                ]
    out: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (arm, size, _), dice in sorted(runs.items()):
        out[arm][size].append(dice)
    return out


def plot(table: dict[str, dict[int, list[float]]], path: Path) -> None:
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.add_subplot()
    colours = matplotlib.colormaps["tab10"]
    for i, (arm, by_size) in enumerate(sorted(table.items())):
        sizes = sorted(by_size)
        mean = [np.mean(by_size[s]) for s in sizes]
        sd = [np.std(by_size[s], ddof=1) if len(by_size[s]) > 1 else 0.0 for s in sizes]
        ax.errorbar(
            sizes, mean, yerr=sd, marker="o", capsize=3, color=colours(i), label=f"cineaug field: {arm}"
        )
    seen = set()
    for label, n, low, high, marker in PUBLISHED:
        ax.errorbar([n], [(low + high) / 2], yerr=[[(high - low) / 2]], marker=marker, color="grey",
                    linestyle="none", capsize=3, label=None if label in seen else label)  # fmt: skip
        seen.add(label)
    ax.set_xscale("log")
    ax.set_xticks([1, 2, 3, 5, 7, 10, 20, 50, 100], labels=["1", "2", "3", "5", "7", "10", "20", "50", "100"])
    ax.set_xlabel("labelled training patients")
    ax.set_ylabel("mean Dice per 3D volume (RV, myocardium, LV)")
    ax.set_title("ACDC, scored per volume: cineaug's field protocol and published numbers")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=130)
    atomic_write_bytes(path, tmp.read_bytes())
    tmp.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("field_vs_published.png"))
    args = parser.parse_args()
    table = means([f for f in args.folders if (f / "results.jsonl").is_file()])
    if not table:
        raise SystemExit(f"no per-volume rows in {', '.join(map(str, args.folders))}")
    plot(table, args.out)
    for arm, by_size in sorted(table.items()):
        for size, values in sorted(by_size.items()):
            row = {"arm": arm, "size": size, "seeds": len(values), "dice": round(float(np.mean(values)), 4)}
            print(json.dumps(row))
    print(json.dumps({"plot": str(args.out)}))


if __name__ == "__main__":
    main()
