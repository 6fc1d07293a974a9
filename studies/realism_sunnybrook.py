"""Real Sunnybrook vs simulated HF-I, both prepared with ``cineaug.preprocess.prepare_cycle``, side by side.

Usage: python studies/realism_sunnybrook.py [REAL_PATH] [--n-sim 12] [--size 64] [--json]
REAL_PATH defaults to ../shared/data/sunnybrook-subset. Real cycles without expert labels are skipped.
Statistics per cycle (mean +- sd over cycles), intensities of the prepared frames mapped to [0, 1]:
LV blood, myocardium and background at ED, blood/myocardium ratio, the LV-area curve (ES frame,
ES/ED ratio), edge sharpness (mean gradient on the LV border / blood-myo step, 1/px) and noise
(Immerkaer's Laplacian estimate with a median, and contrast-to-noise ratio).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from cineaug.io import read_sunnybrook
from cineaug.preprocess import prepare_cycle
from cineaug.simulate import sample_subject, simulate_cycle
from cineaug.types import LV, MYO, CineCycle


def raw_stats(c: CineCycle) -> dict[str, float]:
    return {
        "raw_max": float(c.image.max()),
        "raw_p99": float(np.percentile(c.image, 99)),
        "pixel_mm": c.spacing[0],
    }


IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], float)


def noise_sigma(frame: np.ndarray) -> float:
    """Noise std from the structure-free Laplacian difference (Immerkaer 1996), robust (median) form."""
    response = ndimage.convolve(frame.astype(float), IMMERKAER, mode="reflect")
    return float(1.4826 * np.median(np.abs(response)) / 6.0)


def cycle_stats(c: CineCycle) -> dict[str, float]:
    """Statistics of one prepared cycle (see the module docstring)."""
    img = (c.image + 1) / 2  # [T,H,W] in [0, 1]
    lab = c.label
    ed = img[0]
    blood = ndimage.binary_erosion(lab[0] == LV, iterations=1)
    myo = lab[0] == MYO
    bg = lab[0] == 0
    b, m = float(ed[blood].mean()), float(ed[myo].mean())
    border = (lab[0] == LV) & ~ndimage.binary_erosion(lab[0] == LV)
    grad = np.hypot(*np.gradient(ed))
    area = (lab == LV).reshape(len(lab), -1).sum(1).astype(float)
    sigma = noise_sigma(ed)
    return {
        "lv_blood": b,
        "lv_blood_sd": float(ed[blood].std()),
        "myo": m,
        "myo_sd": float(ed[myo].std()),
        "background": float(ed[bg].mean()),
        "blood_myo_ratio": b / m,
        "es_frame": float(np.argmin(area)),
        "es_ed_area_ratio": float(area.min() / area[0]),
        "edge_sharpness": float(grad[border].mean() / max(b - m, 1e-6)),
        "noise_sigma": sigma,
        "cnr": (b - m) / max(sigma, 1e-6),
    }


def summarise(rows: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    return {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", nargs="?", default="../shared/data/sunnybrook-subset")
    parser.add_argument("--n-sim", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    real_raw = [c for c in read_sunnybrook(Path(args.real)) if c.labeled.any()]
    real = [prepare_cycle(c, size=args.size) for c in real_raw]
    sim_raw = [
        simulate_cycle(sample_subject(args.seed, "HF-I", "sunnybrook", index=i)) for i in range(args.n_sim)
    ]
    sim = [prepare_cycle(c, size=args.size) for c in sim_raw]
    table = {
        "real": {**summarise([raw_stats(c) for c in real_raw]), **summarise([cycle_stats(c) for c in real])},
        "simulated_hf_i": {
            **summarise([raw_stats(c) for c in sim_raw]),
            **summarise([cycle_stats(c) for c in sim]),
        },
        "n": {"real": len(real), "simulated_hf_i": len(sim)},
    }
    if args.json:
        print(json.dumps(table, indent=1))
        return
    head_real, head_sim = f"real Sunnybrook (n={len(real)})", f"simulated HF-I (n={len(sim)})"
    print(f"{'statistic':<18} {head_real:>26} {head_sim:>26}")
    for key in table["real"]:
        (rm, rs), (sm, ss) = table["real"][key], table["simulated_hf_i"][key]
        print(f"{key:<18} {rm:>16.3f} +- {rs:<7.3f} {sm:>16.3f} +- {ss:<7.3f}")


if __name__ == "__main__":
    main()
