"""Augmentation cost: SyntheticCycleAugmenterd against RandAffined on [20,64,64] samples.

Prints JSON: amortized microseconds per sample of each (same samples, same run), their ratio
(``synthetic_vs_affine``), the generator's own cost per cycle (forward pass + label decoding, in
batches) and the batch mixer's milliseconds per batch. The generator is the
shipped ``progan-sim-64`` when present, else a randomly initialised one of the same architecture
(the cost does not depend on the weights).

    python benchmarks/bench_augment.py [--model progan-sim-64] [--n 128] [--rounds 7] [--prob 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
from monai.transforms import RandAffined

from cineaug.models import ProGANGenerator
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="progan-sim-64")
    parser.add_argument("--n", type=int, default=128, help="samples per pass (a multiple of --batch)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating passes; medians are reported")
    parser.add_argument("--prob", type=float, default=1.0, help="replacement probability")
    parser.add_argument("--batch", type=int, default=32, help="pool refill size")
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
    synthetic = SyntheticCycleAugmenterd(keys, g, prob=args.prob, batch_size=args.batch).set_random_state(0)
    us = interleaved_us({"affine": affine, "synthetic": synthetic}, samples, args.rounds)
    affine_us, synthetic_us = us["affine"], us["synthetic"]
    mixer = SyntheticCycleMixd(keys, g, ratio=0.25, batch_size=args.batch).set_random_state(0)
    batch = {"image": torch.stack([s["image"] for s in samples[:32]]),
             "label": torch.stack([s["label"] for s in samples[:32]])}  # fmt: skip
    mixer(batch)
    start = time.perf_counter()
    for _ in range(10):
        mixer(batch)
    mixer_ms = (time.perf_counter() - start) / 10 * 1e3
    pool = synthetic.augmenter.pool  # the generator alone: one refill = a forward pass + label decoding
    start = time.perf_counter()
    for _ in range(4):
        pool.generate(args.batch, 0)
    generate_us = (time.perf_counter() - start) / (4 * args.batch) * 1e6
    print(json.dumps({
        "model": model,
        "sample_shape": [20, size, size],
        "prob": args.prob,
        "pool_batch": args.batch,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
        "rand_affined_us_per_sample": round(affine_us, 1),
        "synthetic_us_per_sample": round(synthetic_us, 1),
        "synthetic_vs_affine": round(synthetic_us / affine_us, 3),
        "generate_us_per_cycle": round(generate_us, 1),
        "mixer_ms_per_batch_of_32_replacing_8": round(mixer_ms, 2),
        "goal": "synthetic_vs_affine <= 1.0",
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
