"""Training speed (real images per second) per preset and resolution, against plain fp32 of the same widths.

Each configuration runs the trainer's own step (D update with lazy R1 when due, G update, EMA, aligned
augmentation at p = 0.2) on random cycles. The preset as it runs on this machine (``precision="auto"``:
bf16 autocast only where the CPU runs it natively, see :mod:`cineaug.precision`; channels_last where
the preset sets it) and a plain fp32 copy (no autocast, contiguous tensors) alternate, ``--rounds``
times each, and the best round counts, so that other processes on a shared machine disturb both
alike. Prints one JSON line per (preset, resolution) with ``speedup`` = preset / fp32, then a summary
line with the machine and what the precision choice rests on.

    python benchmarks/bench_train.py [--presets progan64,progan64-small] [--res 32,64] [--steps 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from cineaug.precision import describe
from cineaug.training.config import PRESETS, TrainConfig
from cineaug.training.schedule import Phase
from cineaug.training.step import GANTraining


def images_per_second(cfg: TrainConfig, res: int, batch: int, steps: int) -> tuple[float, str]:
    """One warm-up step, then the rate over ``steps`` timed steps; and the resolved precision."""
    torch.manual_seed(0)
    gan = GANTraining(cfg, torch.device("cpu"))
    gan.ada.p = 0.2
    phase = Phase(res=res, alpha=1.0, batch=batch, lr=cfg.lr, lod=0)
    img = torch.rand(batch, 20, res, res) * 2 - 1  # [N,T,H,W]
    probs = (
        torch.nn.functional.one_hot(torch.randint(0, 4, (batch, 20, res, res)), 4)
        .permute(0, 1, 4, 2, 3)
        .float()
    )
    reals = (img, probs, torch.zeros(batch, dtype=torch.long))
    gan.step(reals, phase, 10_000)
    t0 = time.perf_counter()
    for _ in range(steps):
        gan.step(reals, phase, 10_000)
    return batch * steps / (time.perf_counter() - t0), gan.precision


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="progan64,progan64-small")
    ap.add_argument("--res", default="32,64", help="comma-separated resolutions (each <= the preset's)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    results = []
    for name in args.presets.split(","):
        preset = PRESETS[name]
        plain = preset.replace(precision="fp32", channels_last=False)
        for res in (int(r) for r in args.res.split(",")):
            if res > preset.resolution:
                continue
            fast, slow = 0.0, 0.0
            for _ in range(args.rounds):
                slow = max(slow, images_per_second(plain, res, args.batch, args.steps)[0])
                rate, precision = images_per_second(preset, res, args.batch, args.steps)
                fast = max(fast, rate)
            row = {"preset": name, "res": res, "batch": args.batch, "precision": precision,
                   "channels_last": preset.channels_last, "img_per_s": round(fast, 2),
                   "fp32_img_per_s": round(slow, 2), "speedup": round(fast / slow, 3)}  # fmt: skip
            results.append(row)
            print(json.dumps(row), flush=True)
    summary = {"summary": True, "machine": platform.machine(), **describe(),
               "best_speedup": max(r["speedup"] for r in results),
               "goal": "speedup >= 2.0 where bf16 is native, >= 1.5 on AVX2"}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
