"""Label renderer speed: training images per second, rendered cycles per second, fine-tune minutes.

- ``train``: the renderer's own training step (:class:`~cineaug.training.render_step.RenderTraining`:
  D update with lazy R1 when due, G update, EMA, aligned augmentation at p = 0.2) on random frames
  and tissue maps at the preset's final resolution;
- ``render``: 20-frame cycles painted by :class:`~cineaug.transforms.RenderedAppearance` (one
  forward pass per cycle, what a synthetic sample or a bank cycle costs);
- ``fine-tune minutes``: the images of a benchmark fold's fine-tune (``--finetune-images``) at the
  measured training rate.

Each measure takes the best of ``--rounds``, so other processes on a shared machine disturb it less.
Prints one JSON line per measure, then a summary line with the machine.

    python benchmarks/bench_render.py [--preset render64-small] [--steps 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from cineaug.precision import describe
from cineaug.tissues import N_HEART_CLASSES, one_hot_tissues
from cineaug.training.config import PRESETS
from cineaug.training.realframes import pooled_tissues
from cineaug.training.render_step import RenderTraining
from cineaug.training.schedule import Phase
from cineaug.transforms import RenderedAppearance


def train_rate(preset: str, steps: int) -> float:
    """Real images per second of the training step at the preset's final resolution."""
    cfg = PRESETS[preset]
    torch.manual_seed(0)
    training = RenderTraining(cfg, torch.device("cpu"))
    training.ada.p = 0.2
    res, c = cfg.resolution, N_HEART_CLASSES + cfg.n_clusters
    phase = Phase(res=res, alpha=1.0, batch=cfg.batch, lr=cfg.lr, lod=0)
    full = one_hot_tissues(torch.randint(0, c, (cfg.batch, res, res)), c)  # [N,C,R,R]
    reals = (torch.rand(cfg.batch, 1, res, res) * 2 - 1, pooled_tissues(full, res, 1.0), full)
    training.step(reals, phase, 10_000)  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        training.step(reals, phase, 10_000)
    return cfg.batch * steps / (time.perf_counter() - t0)


def render_rate(preset: str, cycles: int) -> float:
    """20-frame cycles per second painted by a renderer of the preset's size."""
    cfg = PRESETS[preset]
    from cineaug.training.step import build_networks

    torch.manual_seed(0)
    g, _ = build_networks(cfg)
    paint = RenderedAppearance(g)
    tissue = np.random.default_rng(0).integers(0, g.n_tissues, (20, cfg.resolution, cfg.resolution))
    paint(tissue)  # warm-up
    t0 = time.perf_counter()
    for _ in range(cycles):
        paint(tissue)
    return cycles / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="render64-small")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--cycles", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--finetune-images", type=int, default=4_000)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    train = max(train_rate(args.preset, args.steps) for _ in range(args.rounds))
    render = max(render_rate(args.preset, args.cycles) for _ in range(args.rounds))
    rows = [
        {"measure": "train", "preset": args.preset, "images_per_s": round(train, 2)},
        {
            "measure": "render",
            "preset": args.preset,
            "cycles_per_s": round(render, 2),
            "frames_per_s": round(20 * render, 1),
        },  # fmt: skip
        {
            "measure": "fine-tune minutes",
            "images": args.finetune_images,
            "minutes": round(args.finetune_images / train / 60, 1),
        },  # fmt: skip
    ]
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({"summary": "bench_render", "threads": torch.get_num_threads(), "machine": describe()}))


if __name__ == "__main__":
    main()
