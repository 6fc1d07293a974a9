"""Label fidelity of synthetic banks: does a segmenter trained on real frames find their labels in them?

A segmentation model is trained on real frames only (the benchmark's protocol, the ``nnunet`` arm,
``--size`` stratified training subjects), then run on frames of each bank (a rendered bank, a
simulator cache, a generator's bank) and scored against the bank's own labels. High Dice means the
image shows the anatomy its labels claim, as a real scan would; the same model on the real test
cohort gives the reference. Prints one JSON line per set (Dice per class and mean, HD95), then a
summary line with the machine.

    python studies/label_fidelity.py --train CACHE --test CACHE --banks BANK1,BANK2 [--size 20]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from cineaug.benchmark import (
    Frames,
    Protocol,
    arm_spec,
    predict,
    score,
    scored_frames,
    stratified_order,
    train_model,
    training_samples,
    training_transform,
)
from cineaug.data import CycleDataset
from cineaug.precision import describe


def bank_frames(root: str, n_cycles: int, frames: tuple[int, ...]) -> Frames:
    """Frames ``frames`` of the first ``n_cycles`` cycles of a fully labelled cache, scored on every class."""
    ds = CycleDataset(root)
    picked = [(ds[i], t) for i in range(min(n_cycles, len(ds))) for t in frames]
    return Frames(
        image=torch.stack([s["image"][t : t + 1] for s, t in picked]).float(),
        label=torch.stack([s["label"][t : t + 1] for s, t in picked]).long(),
        annotated=torch.ones(len(picked), 4, dtype=torch.bool),
        spacing=torch.stack([s["spacing"] for s, _ in picked]),
        keys=[f"{s['key']}@{t}" for s, t in picked],
        subjects=[str(s["subject"]) for s, _ in picked],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True, help="cache of real training subjects")
    ap.add_argument("--test", required=True, help="cache of real test subjects (the reference)")
    ap.add_argument("--banks", required=True, help="comma-separated fully labelled caches to score")
    ap.add_argument("--size", type=int, default=20, help="real training subjects")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=100, help="cycles per bank (frames 0 and 7 of each)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    protocol = Protocol(steps=args.steps, threads=args.threads)
    torch.set_num_threads(args.threads)
    train = CycleDataset(args.train)
    order = stratified_order({e["subject"]: e["pathology"] for e in train.entries}, args.seed)
    samples = training_samples(train, order[: args.size])
    model, seconds = train_model(samples, training_transform(arm_spec("nnunet")), protocol, args.seed)
    sets = {"real test": scored_frames(list(CycleDataset(args.test)))}
    sets.update({bank: bank_frames(bank, args.cycles, (0, 7)) for bank in args.banks.split(",") if bank})
    for name, frames in sets.items():
        result = score(predict(model, frames.image), frames)
        row = {"set": name, "frames": len(frames.keys)}
        row.update({k: round(float(v), 4) for k, v in result.items() if np.isfinite(v)})
        print(json.dumps(row), flush=True)
    summary = {"summary": "label_fidelity", "train_subjects": args.size, "steps": args.steps}
    print(json.dumps({**summary, "train_seconds": round(seconds, 1), "machine": describe()}))


if __name__ == "__main__":
    main()
