"""Augmentation cost: SyntheticCycleAugmenterd from a bank and from a live generator, against RandAffined.

On ``[20,64,64]`` samples, the three transforms alternate pass by pass in one run (same samples,
same machine load). Prints JSON: amortized microseconds per sample of each, the ratios
``bank_vs_affine`` (goal <= 0.5) and ``live_vs_affine`` (goal <= 1.0 where bf16 is native), the random
appearance (``appearance="gmm"``) on bank cycles and on the sample's own labels, per cycle and per
frame (``[1,H,W]``, as the benchmark uses them), where the
live pool's time goes (generator forward, label decoding, per cycle in batches), the batch mixer's
milliseconds per batch, and the machine and precision (:func:`cineaug.precision.describe`). The
generator is the shipped ``progan-sim-64`` when present, else a randomly initialised one of the same
architecture (the cost does not depend on the weights); the bank is ``--bank-n`` cycles sampled from it
into a temporary folder first.

    python benchmarks/bench_augment.py [--model progan-sim-64] [--n 128] [--rounds 7] [--precision auto]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch
from monai.transforms import RandAffined

from cineaug.generate.sample import write_bank
from cineaug.models import ProGANGenerator, save_pretrained
from cineaug.models.layers import decode_labels
from cineaug.precision import autocast, describe
from cineaug.pretrained import available, load_pretrained
from cineaug.transforms import SyntheticCycleAugmenterd, SyntheticCycleMixd


def per_sample_us(transform, samples: list[dict]) -> float:
    """Mean wall time of ``transform`` over ``samples`` (pool refills included, amortized)."""
    start = time.perf_counter()
    for s in samples:
        transform(s)
    return (time.perf_counter() - start) / len(samples) * 1e6


def interleaved_us(transforms: dict, samples: list[dict], rounds: int) -> dict[str, float]:
    """Median per-sample time of each transform over ``rounds`` alternating passes.

    Alternating the transforms pass by pass exposes them to the same machine load, so their
    ratio holds on a shared, noisy CPU where one long pass each would not.
    """
    for t in transforms.values():
        t(samples[0])  # warm-up: first allocation, first pool refill
    times: dict[str, list[float]] = {name: [] for name in transforms}
    for _ in range(rounds):
        for name, t in transforms.items():
            times[name].append(per_sample_us(t, samples))
    return {name: statistics.median(v) for name, v in times.items()}


def generator_split_us(pool, batch: int, rounds: int = 4) -> dict[str, float]:
    """Microseconds per cycle of the generator's forward pass and of label decoding, in batches."""
    g, forward, decode = pool.generator, 0.0, 0.0
    for _ in range(rounds):
        z = torch.randn(batch, g.latent_dim)
        c = torch.zeros(batch, dtype=torch.long) if pool.n_classes else None
        with torch.inference_mode():
            start = time.perf_counter()
            with autocast(pool.precision, "cpu"):
                image, logits = g(z, c)
            image.float().clamp(-1, 1)
            forward += time.perf_counter() - start
            start = time.perf_counter()
            decode_labels(logits, pool.annotated_classes)
            decode += time.perf_counter() - start
    return {"forward": forward / (rounds * batch) * 1e6, "decode": decode / (rounds * batch) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="progan-sim-64")
    parser.add_argument("--n", type=int, default=128, help="samples per pass (a multiple of --batch)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating passes; medians are reported")
    parser.add_argument("--prob", type=float, default=1.0, help="replacement probability")
    parser.add_argument("--batch", type=int, default=32, help="pool refill size")
    parser.add_argument("--bank-n", type=int, default=256, help="cycles in the temporary bank")
    parser.add_argument("--precision", default="auto", help="auto, bf16 or fp32 (live pool)")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.model in available():
        g, model = load_pretrained(args.model), args.model
    else:
        g = ProGANGenerator(resolution=64, fmap_base=2048, fmap_max=64, latent_dim=256,
                            class_names=("ARV", "DCM", "HCM", "MINF", "NOR")).eval()  # fmt: skip
        model = "random ProGANGenerator(64 px, fmap_base 2048, fmap_max 64)"
    size = g.resolution
    samples = [
        {
            "image": torch.rand(20, size, size) * 2 - 1,
            "label": torch.randint(0, 4, (20, size, size), dtype=torch.uint8),
        }
        for _ in range(args.n)
    ]
    keys = ("image", "label")
    affine = RandAffined(keys, prob=1.0, rotate_range=math.pi / 12, scale_range=(0.15, 0.15),
                         translate_range=(6, 6), mode=("bilinear", "nearest"))  # fmt: skip
    affine.set_random_state(0)
    live = SyntheticCycleAugmenterd(keys, g, prob=args.prob, batch_size=args.batch, precision=args.precision)
    live.set_random_state(0)
    with tempfile.TemporaryDirectory() as tmp:
        save_pretrained(g, Path(tmp) / "model")
        bank_dir = write_bank(Path(tmp) / "model", Path(tmp) / "bank", args.bank_n, formats=("cache",),
                              progress=False)  # fmt: skip
        bank = SyntheticCycleAugmenterd(keys, bank=bank_dir, prob=args.prob)
        bank_gmm = SyntheticCycleAugmenterd(keys, bank=bank_dir, prob=args.prob, appearance="gmm")
        own_gmm = SyntheticCycleAugmenterd(keys, own_labels=True, prob=args.prob, appearance="gmm")
        arms = {"affine": affine, "bank": bank, "live": live, "bank_gmm": bank_gmm, "own_gmm": own_gmm}
        for t in (bank, bank_gmm, own_gmm):
            t.set_random_state(0)
        us = interleaved_us(arms, samples, args.rounds)
        frames = [
            {k: v[:1] for k, v in s.items()} for s in samples
        ]  # [1,H,W]: the benchmark's frame-wise use
        frame_us = interleaved_us(
            {"affine": affine, "bank_gmm": bank_gmm, "own_gmm": own_gmm}, frames, args.rounds
        )
    mixer = SyntheticCycleMixd(keys, g, ratio=0.25, batch_size=args.batch).set_random_state(0)
    batch = {"image": torch.stack([s["image"] for s in samples[:32]]),
             "label": torch.stack([s["label"] for s in samples[:32]])}  # fmt: skip
    mixer(batch)
    start = time.perf_counter()
    for _ in range(10):
        mixer(batch)
    mixer_ms = (time.perf_counter() - start) / 10 * 1e3
    split = generator_split_us(live.augmenter.pool, args.batch)
    print(json.dumps({
        "model": model,
        "sample_shape": [20, size, size],
        "prob": args.prob,
        "pool_batch": args.batch,
        "rounds": args.rounds,
        "bank_vs_affine": round(us["bank"] / us["affine"], 3),
        "live_vs_affine": round(us["live"] / us["affine"], 3),
        "rand_affined_us_per_sample": round(us["affine"], 1),
        "bank_us_per_sample": round(us["bank"], 1),
        "live_us_per_sample": round(us["live"], 1),
        "live_generator_forward_us_per_cycle": round(split["forward"], 1),
        "live_label_decoding_us_per_cycle": round(split["decode"], 1),
        "mixer_ms_per_batch_of_32_replacing_8": round(mixer_ms, 2),
        "bank_gmm_vs_affine": round(us["bank_gmm"] / us["affine"], 3),
        "own_gmm_vs_affine": round(us["own_gmm"] / us["affine"], 3),
        "bank_gmm_us_per_sample": round(us["bank_gmm"], 1),
        "own_gmm_us_per_sample": round(us["own_gmm"], 1),
        "one_frame_us": {k: round(v, 1) for k, v in frame_us.items()},
        "live_precision": live.augmenter.pool.precision,
        "machine": describe(),
        "goal": "bank_vs_affine <= 0.5; live_vs_affine <= 1.0 where bf16 is native",
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
