"""Wall time of a benchmark run against the UNet's compute alone, per protocol and arm.

For each protocol (``quick``: 64 px, ``field``: 128 px), way of running the ``nnunet`` baseline
(``per-sample`` MONAI transforms, or ``batched``: :class:`~cineaug.transforms.BatchedNnunetAugment`)
and arm, in one process, alternating a compute round and a wall round (``--rounds`` times, best round
counts, so that other load on a shared machine disturbs both alike):

- ``wall_s``: ``train_model`` for ``--steps`` steps, exactly as a benchmark run trains (the arm's
  transforms, batching, forward, backward, optimiser);
- ``compute_s``: the same number of steps of forward + backward + optimiser on one batch drawn once
  (the UNet's own compute, no data pipeline);
- ``data_ms_per_batch``: drawing the same batches alone (the arm's transforms, collation, the batch
  transform; no UNet), on the thread count in force: the data pipeline's own cost, steadier than the
  ratio on a shared machine.

Prints one JSON line per (protocol, augment, arm) with ``wall_over_compute`` = wall_s / compute_s
(the goal: <= 1.25), then a summary with the machine (CPU kind and precision) and the worst ratio per
augment. Data: a small simulated cohort at each protocol's size (``--data`` to use a cache instead;
its crop side must match).

    python benchmarks/bench_protocol.py [--protocols quick,field] [--augments per-sample,batched]
                                   [--arms nnunet,sim-bssfp+nnunet@auto~] [--precision fp32|auto|bf16]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from monai.data import set_track_meta

from cineaug.benchmark import (
    PROTOCOLS,
    ArmSources,
    added_transform,
    arm_spec,
    batch_transform,
    build_model,
    build_optimizer,
    collate_frames,
    draw_batches,
    draws_ahead,
    seed_transforms,
    segmentation_loss,
    share_schedule,
    train_model,
    training_transform,
)
from cineaug.benchmark.demo import simulate_sim_bank
from cineaug.data import CycleDataset
from cineaug.precision import autocast, describe, resolve_precision
from cineaug.prepare import write_simulated_dataset


def compute_seconds(samples: list[dict], transform, protocol, steps: int) -> float:
    """``steps`` optimiser steps on one fixed batch: the UNet's compute alone."""
    torch.manual_seed(0)
    model = build_model(protocol)
    opt = build_optimizer(protocol, model)
    items = [transform(samples[i % len(samples)]) for i in range(protocol.batch_size)]
    image, label, annotated = collate_frames(items)  # not augmented: the same compute either way
    start = time.perf_counter()
    for _ in range(steps):
        with autocast(protocol.precision):  # as train_model
            logits = model(image)
        loss = segmentation_loss(logits.float(), label, annotated)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def data_seconds(samples: list[dict], spec, sources: ArmSources, protocol) -> float:
    """The batches of a run drawn alone, as ``train_model`` draws them (seeded alike), no UNet."""
    transform = training_transform(spec, sources, protocol.augment)
    added = added_transform(spec, sources, protocol.augment)
    batches = batch_transform(spec, protocol.augment)
    seed_transforms(0, transform, added, batches)  # as train_model seeds a run of seed 0
    on_step = share_schedule(spec, transform, protocol.steps, n_subjects=2)
    n_added = round(spec.added * protocol.batch_size)
    set_track_meta(False)  # as train_model draws them
    try:
        start = time.perf_counter()
        for _ in draw_batches(samples, transform, protocol, 0, added, n_added, on_step, batches):
            pass
        return time.perf_counter() - start
    finally:
        set_track_meta(True)


def measure(samples: list[dict], spec, sources: ArmSources, protocol, rounds: int) -> dict:
    """Best of ``rounds`` (compute alone, a real run, the data alone) for one arm under ``protocol``."""
    transform = training_transform(spec, sources, protocol.augment)
    wall, compute, data = float("inf"), float("inf"), float("inf")
    for _ in range(rounds):
        compute = min(compute, compute_seconds(samples, transform, protocol, protocol.steps))
        _, seconds = train_model(
            samples,
            transform,
            protocol,
            seed=0,
            added=added_transform(spec, sources, protocol.augment),
            n_added=round(spec.added * protocol.batch_size),
            on_step=share_schedule(spec, transform, protocol.steps, n_subjects=2),
            batch_transform=batch_transform(spec, protocol.augment),
        )
        wall = min(wall, seconds)
        data = min(data, data_seconds(samples, spec, sources, protocol))
    return {"arm": spec.name, "steps": protocol.steps, "threads": protocol.threads,
            "precision": protocol.precision, "draws_ahead": draws_ahead(protocol), "wall_s": round(wall, 3),
            "compute_s": round(compute, 3), "wall_over_compute": round(wall / compute, 3),
            "data_ms_per_batch": round(data / protocol.steps * 1e3, 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", default="quick,field")
    ap.add_argument("--arms", default="nnunet,sim-bssfp+nnunet@auto~")
    ap.add_argument("--augments", default="per-sample,batched")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=None, help="a prepared cache (default: simulated)")
    ap.add_argument("--precision", default="fp32", help="fp32, auto (bf16 where native) or bf16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.protocols.split(","):
            protocol = PROTOCOLS[name].replace(
                steps=args.steps, threads=args.threads, precision=resolve_precision(args.precision)
            )
            data = args.data or write_simulated_dataset(
                Path(tmp) / f"train{protocol.size}", n=4, seed=1000, size=protocol.size, progress=False
            )
            ds = CycleDataset(data)
            samples = [ds[i] for i in range(len(ds))]
            sim_bank = simulate_sim_bank(
                Path(tmp) / f"sim{protocol.size}", n=8, size=protocol.size, progress=False
            )
            sources = ArmSources(sim_bank=sim_bank)
            for augment in args.augments.split(","):
                setting = protocol.replace(augment=augment)
                for arm in args.arms.split(","):
                    row = measure(samples, arm_spec(arm), sources, setting, args.rounds)
                    results.append({"protocol": name, "size": protocol.size, "augment": augment, **row})
                    print(json.dumps(results[-1]), flush=True)
    worst = {
        a: max(r["wall_over_compute"] for r in results if r["augment"] == a) for a in args.augments.split(",")
    }
    summary = {"summary": True, **describe(), "worst_wall_over_compute": worst,
               "goal": "wall_over_compute <= 1.25"}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
