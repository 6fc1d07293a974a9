"""Label fidelity of synthetic banks: does a segmenter trained on real frames find their labels in them?

A segmentation model is trained on real frames only (the benchmark's protocol, the ``nnunet`` arm,
``--size`` stratified training subjects), then run on frames of each bank (a rendered bank, a
simulator cache, a generator's bank) and scored against the bank's own labels. High Dice means the
image shows the anatomy its labels claim, as a real scan would; the same model on the real test
cohort gives the reference. Prints one JSON line per set (Dice per class and mean, HD95), then a
summary line with the machine.

With ``--appearances source,jitter,gmm-bssfp`` each bank is scored as drawn and again repainted
as the augmenter would paint it (``jitter``: :class:`~cineaug.transforms.RandTextureJitter` around
the bank's own image; ``gmm``/``gmm-bssfp``: random appearance of its labels; one seeded draw per
cycle).

    python studies/label_fidelity.py --train CACHE --test CACHE --banks BANK1,BANK2 [--size 20]
        [--appearances source,jitter]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from cineaug.benchmark import (
    Frames,
    Protocol,
    arm_spec,
    build_model,
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
from cineaug.tissues import tissue_map
from cineaug.transforms import RandTextureJitter
from cineaug.transforms.synthetic import named_appearance


def painted(image: torch.Tensor, label: torch.Tensor, appearance: str, seed: int) -> torch.Tensor:
    """Frame ``[1,H,W]`` repainted as the augmenter paints a drawn frame (``source``: as it is)."""
    if appearance == "source":
        return image
    paint = named_appearance(appearance).set_random_state(seed)
    tissue = tissue_map(image, label, 4)
    return paint(tissue, image) if isinstance(paint, RandTextureJitter) else paint(tissue)


def bank_frames(root: str, n_cycles: int, frames: tuple[int, ...], appearance: str = "source") -> Frames:
    """Frames ``frames`` of the first ``n_cycles`` cycles of a fully labelled cache, scored on every
    class, painted with ``appearance`` (:func:`painted`)."""
    ds = CycleDataset(root)
    picked = [(ds[i], t) for i in range(min(n_cycles, len(ds))) for t in frames]
    images = [
        painted(s["image"][t : t + 1].float(), s["label"][t : t + 1], appearance, seed=j)
        for j, (s, t) in enumerate(picked)
    ]
    return Frames(
        image=torch.stack(images).float(),
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
    ap.add_argument("--appearances", default="source", help="comma-separated: source, jitter, gmm, gmm-bssfp")
    ap.add_argument(
        "--model", help="a segmenter's weights (.safetensors): trained and saved there the first time"
    )
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    protocol = Protocol(steps=args.steps, threads=args.threads)
    torch.set_num_threads(args.threads)
    train = CycleDataset(args.train)
    order = stratified_order({e["subject"]: e["pathology"] for e in train.entries}, args.seed)
    made = {"train": str(Path(args.train).resolve()), "size": str(args.size), "seed": str(args.seed),
            "steps": str(args.steps)}  # fmt: skip
    if args.model and Path(args.model).is_file():  # the segmenter of an earlier call with these options
        with safe_open(args.model, "pt") as f:
            if f.metadata() != made:
                raise SystemExit(f"{args.model} was trained with {f.metadata()}, asked {made}: remove it")
        model, seconds = build_model(protocol).eval(), float("nan")
        model.load_state_dict(load_file(args.model))
    else:
        samples = training_samples(train, order[: args.size])
        model, seconds = train_model(samples, training_transform(arm_spec("nnunet")), protocol, args.seed)
        if args.model:
            save_file(model.state_dict(), args.model, metadata=made)
    sets = {"real test": scored_frames(list(CycleDataset(args.test)))}
    for bank in filter(None, args.banks.split(",")):
        for look in args.appearances.split(","):
            name = bank if look == "source" else f"{bank} ({look})"
            sets[name] = bank_frames(bank, args.cycles, (0, 7), look)
    for name, frames in sets.items():
        result = score(predict(model, frames.image), frames)
        row = {"set": name, "frames": len(frames.keys)}
        row.update({k: round(float(v), 4) for k, v in result.items() if np.isfinite(v)})
        print(json.dumps(row), flush=True)
    summary = {"summary": "label_fidelity", "train_subjects": args.size, "steps": args.steps}
    trained = None if np.isnan(seconds) else round(seconds, 1)  # None: loaded from --model
    print(json.dumps({**summary, "train_seconds": trained, "machine": describe()}))


if __name__ == "__main__":
    main()
