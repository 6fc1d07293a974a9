"""How good is label propagation?

1. Real data: propagate each Sunnybrook slice's expert ED labels to its ES frame and compare
   with the experts' ES contour (LV cavity Dice), against copying the ED labels (no motion).
2. Simulated data, where every frame's truth is known: keep the ED and ES labels only, propagate
   them to the 18 other frames with ``propagate_labels`` and score each class on those frames.

Prints JSON.

    python studies/eval_propagation.py [--data DIR] [--size 64] [--simulated 20]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cineaug import LabelSource, prepare_cycle, propagate_labels, read_sunnybrook
from cineaug.preprocess import heart_center, normalise_intensity, resample_inplane, roll_to_ed
from cineaug.propagate import warp_onehot
from cineaug.types import LV, MYO, RV


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2.0 * (a & b).sum() / max(1, a.sum() + b.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/sunnybrook-subset")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--simulated", type=int, default=20, help="simulated subjects (0: skip)")
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
    if args.simulated:
        result["simulated"] = simulated_dice(args.simulated, args.size)
    print(json.dumps(result, indent=1))


def simulated_dice(n: int, size: int) -> dict:
    """Dice per class on the propagated frames of ``n`` simulated subjects (truth at every frame)."""
    from cineaug.simulate import simulate_dataset

    scores: dict[str, list[float]] = {"rv": [], "myocardium": [], "lv": []}
    for raw in simulate_dataset(n, seed=123):
        truth = prepare_cycle(raw, size=size, propagate=False)
        keep = np.isin(np.arange(20), [0, truth.es_frame])
        label = np.where(keep[:, None, None], truth.label, 0).astype(np.uint8)
        source = np.where(keep, LabelSource.EXPERT, LabelSource.NONE).astype(np.uint8)
        propagated, _ = propagate_labels(truth.image, label, source, truth.annotated_classes)
        for name, k in (("rv", RV), ("myocardium", MYO), ("lv", LV)):
            scores[name] += [dice(propagated[t] == k, truth.label[t] == k) for t in np.flatnonzero(~keep)]
    return {
        "subjects": n,
        "dice_on_propagated_frames": {k: round(float(np.mean(v)), 3) for k, v in scores.items()},
        "dice_sd": {k: round(float(np.std(v)), 3) for k, v in scores.items()},
    }


if __name__ == "__main__":
    main()
