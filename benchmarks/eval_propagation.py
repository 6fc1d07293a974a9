"""How good is label propagation? Propagate each slice's expert ED labels to its ES frame and
compare with the experts' ES contour (LV cavity Dice), on the real Sunnybrook patients.

Prints JSON: Dice per patient and overall, against the no-motion baseline (ED labels copied).

    python benchmarks/eval_propagation.py [--data ../shared/data/sunnybrook-subset] [--size 64]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cineaug import read_sunnybrook
from cineaug.preprocess import heart_center, normalise_intensity, resample_inplane, roll_to_ed
from cineaug.propagate import warp_onehot
from cineaug.types import LV


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2.0 * (a & b).sum() / max(1, a.sum() + b.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/sunnybrook-subset")
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    per_patient: dict[str, list[tuple[float, float]]] = {}
    start = time.perf_counter()
    for raw in read_sunnybrook(args.data):
        if raw.es_frame < 0:
            continue
        c = roll_to_ed(raw)
        c = resample_inplane(c, heart_center(c), args.size)
        image = normalise_intensity(c.image)
        onehot = (c.label[0][None] == np.arange(4)[:, None, None]).astype(np.float32)  # [4,H,W] at ED
        warped = warp_onehot(image, onehot, 0, c.es_frame).argmax(axis=0)
        expert = c.label[c.es_frame] == LV
        scores = (dice(warped == LV, expert), dice(c.label[0] == LV, expert))
        per_patient.setdefault(c.subject, []).append(scores)
    result = {
        "slices": sum(len(v) for v in per_patient.values()),
        "size_px": args.size,
        "method": "optical_flow_ilk radius 5 on normalised frames, one-hot labels warped linearly",
        "lv_dice_ed_to_es": {},
        "seconds": 0.0,
    }
    everything = [s for v in per_patient.values() for s in v]
    for name, scores in [*per_patient.items(), ("all", everything)]:
        arr = np.array(scores)
        result["lv_dice_ed_to_es"][name] = {
            "propagated_mean": round(float(arr[:, 0].mean()), 3),
            "propagated_sd": round(float(arr[:, 0].std()), 3),
            "copy_ed_mean": round(float(arr[:, 1].mean()), 3),
        }
    result["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
