"""Is synthetic anatomy plausible? Per-frame heart measurements of label sources against real labels.

Compares, per labelled frame with an LV and a myocardium: LV cavity, RV and myocardial areas (mm^2),
myocardial thickness (mm: myocardial area over the mean of its inner and outer perimeters) and, per
cycle, the LV's ES/ED area ratio, between

- ``real``: the labels of a cache (the reference: e.g. the 80 development-training patients; on
  ACDC its expert ED and ES frames, where the simulator labels all 20 frames of a cycle),
- ``warped``: the same labels through the ``own-*`` arms' affine + elastic warp
  (:func:`cineaug.transforms.synthetic.own_deformation`, one draw per cycle),
- ``simulator``: the labels of a simulator bank (the ``sim-*`` arms' anatomy).

Prints JSON (quantiles per source and measurement, and the share of each source's values outside
the real 1st-99th percentile) and writes a histogram figure.

Usage:
    python studies/anatomy_plausibility.py --real train64 --sim-bank sim-bank64 --out plaus.png
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch
from skimage.measure import perimeter

from cineaug.data import CycleDataset
from cineaug.transforms.synthetic import own_deformation

MEASURES = ("lv_area", "rv_area", "myo_area", "myo_thickness", "lv_es_ed")
UNITS = {"lv_area": "mm²", "rv_area": "mm²", "myo_area": "mm²", "myo_thickness": "mm", "lv_es_ed": "ratio"}


def frame_measures(label: np.ndarray, mm: float) -> dict[str, float] | None:
    """Measurements of a label frame ``[H,W]`` (ACDC order) at ``mm`` per pixel; None without LV or myo."""
    lv, myo, rv = label == 3, label == 2, label == 1
    if not lv.any() or not myo.any():
        return None
    rims = 0.5 * (perimeter(lv) + perimeter(lv | myo)) * mm  # mm
    area = mm * mm
    return {"lv_area": lv.sum() * area, "rv_area": rv.sum() * area, "myo_area": myo.sum() * area,
            "myo_thickness": myo.sum() * area / max(rims, 1e-6)}  # fmt: skip


def cycle_measures(label: np.ndarray, labelled: np.ndarray, ed: int, es: int, mm: float) -> dict[str, list]:
    """Measurements of a cycle's labelled frames ``label [T,H,W]``, and its LV ES/ED ratio."""
    out = {m: [] for m in MEASURES}
    for t in np.flatnonzero(labelled):
        got = frame_measures(label[t], mm)
        for k, v in (got or {}).items():
            out[k].append(float(v))
    lv_ed, lv_es = (label[ed] == 3).sum(), (label[es] == 3).sum()
    if labelled[ed] and labelled[es] and lv_ed > 0:
        out["lv_es_ed"].append(float(lv_es / lv_ed))
    return out


def source_measures(root: str, warp: bool, seed: int) -> dict[str, np.ndarray]:
    """Every cycle of the cache ``root`` measured (warped first when ``warp``)."""
    ds = CycleDataset(root)
    deform = own_deformation()
    deform.set_random_state(seed)
    out = {m: [] for m in MEASURES}
    for i in range(len(ds)):
        s = ds[i]
        label = s["label"]
        if warp:
            label = deform({"image": s["image"], "label": label.float()})["label"].round()
        label = np.asarray(label, dtype=np.int64)
        mm = float(s["spacing"][0])
        for k, v in cycle_measures(label, s["labeled"].numpy(), s["ed_frame"], s["es_frame"], mm).items():
            out[k] += v
    return {k: np.array(v) for k, v in out.items()}


def summarise(sources: dict[str, dict[str, np.ndarray]]) -> dict:
    """Quantiles (5, 25, 50, 75, 95) per source and measurement, and the share outside real's 1-99 %."""
    real = sources["real"]
    report = {}
    for name, values in sources.items():
        report[name] = {}
        for m in MEASURES:
            v = values[m]
            if not len(v) or not len(real[m]):
                report[name][m] = {"n": int(len(v)), "quantiles": None, "outside_real_1_99": None}
                continue
            lo_hi = np.percentile(real[m], [1, 99])
            report[name][m] = {
                "n": int(len(v)),
                "quantiles": [round(float(q), 2) for q in np.percentile(v, [5, 25, 50, 75, 95])],
                "outside_real_1_99": round(float(np.mean((v < lo_hi[0]) | (v > lo_hi[1]))), 3),
            }
    return report


def plot(sources: dict[str, dict[str, np.ndarray]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4 * len(MEASURES), 3.2))
    for ax, m in zip(axes, MEASURES):
        edges = np.histogram_bin_edges(np.concatenate([v[m] for v in sources.values()]), bins=30)
        for name, values in sources.items():
            ax.hist(values[m], bins=edges, density=True, histtype="step", linewidth=1.5, label=name)
        ax.set_xlabel(f"{m} ({UNITS[m]})")
    axes[0].set_ylabel("density")
    axes[0].legend()
    fig.suptitle("Anatomy of the label sources against real labels (per labelled frame; ES/ED per cycle)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", required=True, help="cache of real labelled cycles (the reference)")
    p.add_argument("--sim-bank", required=True, help="simulator cycles (cineaug simulate OUT --size N)")
    p.add_argument("--out", required=True, help="the histogram figure (.png)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    sources = {
        "real": source_measures(args.real, warp=False, seed=args.seed),
        "warped": source_measures(args.real, warp=True, seed=args.seed),
        "simulator": source_measures(args.sim_bank, warp=False, seed=args.seed),
    }
    plot(sources, args.out)
    json.dump(summarise(sources), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
