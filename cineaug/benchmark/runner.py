"""``run_benchmark``: arms x training-set sizes x seeds under the fixed protocol, then the report.

The folds (which subjects train, which frames score) are :mod:`~cineaug.benchmark.folds`'; the
synthetic sources of the arms are :mod:`~cineaug.benchmark.sources`'; an arm is parsed once
(:func:`~cineaug.benchmark.arm_spec`) and its spec passed down.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..atomic import atomic_write_bytes
from ..errors import logger
from ..precision import describe as describe_machine
from ..precision import resolve_precision
from .arms import (
    ARMS,
    ArmSources,
    ArmSpec,
    added_transform,
    arm_spec,
    batch_transform,
    share_schedule,
    training_transform,
)
from .folds import Cohorts, Fold
from .report import render_report
from .segmentation import Frames, Protocol, class_means, frame_scores, predict, subject_means, train_model
from .sources import SYNTHETIC_GIF, BenchmarkSources, FoldFinetune
from .volumes import score_volumes

RESULTS = "results.jsonl"
DROPPED = "results.dropped.jsonl"  # rows --resume set aside: another protocol, length or augmentation
META = "benchmark.json"
PREDICTIONS = "predictions"
N_EXAMPLES = 4  # test frames kept per run for the report's montage


def _finished_runs(path: Path, protocol: Protocol) -> set[tuple[str, int, int]]:
    """``(arm, size, seed)`` of the complete rows of a results file that ``protocol`` would write: its
    name (where recorded), steps, augment and precision (rows from before they were recorded ran per
    sample, in fp32) and scores (per volume or per frame). The file is rewritten with those rows only,
    so that one report never mixes protocols; the other rows move to ``results.dropped.jsonl`` beside
    it (logged), and a line cut short by an interruption is dropped. ``protocol.precision`` is the
    resolved one (:func:`_run_precision`)."""
    if not path.is_file():
        return set()
    precision = protocol.precision
    rows, dropped = [], []
    for row in _complete_rows(path):
        same = (
            row.get("steps") == protocol.steps
            and row.get("augment", "per-sample") == protocol.augment
            and row.get("protocol", protocol.name) == protocol.name
            and row.get("precision", "fp32") == precision
            and ("volume_dice_mean" in row) == (protocol.scoring == "volumes")
        )
        (rows if same else dropped).append(row)
    if dropped:
        moved = path.with_name(DROPPED)
        old = moved.read_bytes() if moved.is_file() else b""
        atomic_write_bytes(moved, old + "".join(json.dumps(r) + "\n" for r in dropped).encode())
        logger.warning(
            "%s: %d runs of another protocol, length, augmentation or precision (not %s, %d steps, %s, %s) "
            "moved to %s",
            path, len(dropped), protocol.name, protocol.steps, protocol.augment, precision, moved.name,
        )  # fmt: skip
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows).encode())
    return {(r["arm"], r["size"], r["seed"]) for r in rows}


def _complete_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a results file, less a line cut short by an interruption."""
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _run_precision(results: Path | None, protocol: Protocol) -> str:
    """The precision the runs train in: ``protocol.precision`` resolved; for ``"auto"``, the one
    recorded by the runs being resumed where they all agree (on some CPUs ``auto`` rests on a timing,
    which a new process may measure differently: the finished runs must not be dropped for that)."""
    if protocol.precision == "auto" and results is not None and results.is_file():
        recorded = {row.get("precision", "fp32") for row in _complete_rows(results)}
        if len(recorded) == 1:
            return recorded.pop()
    return resolve_precision(protocol.precision, protocol.device)


def _clean(value: Any) -> Any:
    """NaN -> None (JSON has no NaN), inside per-subject dicts too."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def _save_examples(path: Path, frames: Frames, pred: torch.Tensor) -> None:
    idx = np.unique(np.linspace(0, len(frames.keys) - 1, N_EXAMPLES).round().astype(int))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        image=frames.image[idx, 0].numpy().astype(np.float16),  # [K,H,W]
        truth=frames.label[idx, 0].numpy().astype(np.uint8),
        pred=pred[idx, 0].numpy().astype(np.uint8),
        keys=np.array([frames.keys[i] for i in idx]),
    )


def run_benchmark(
    train_data: str | os.PathLike,
    test_data: str | os.PathLike | None,
    arms: Sequence[str | ArmSpec],
    sizes: Sequence[int],
    seeds: Sequence[int],
    out: str | os.PathLike,
    generator: nn.Module | str | os.PathLike | None = None,
    steps: int | None = None,
    progress: bool = True,
    protocol: Protocol | None = None,
    bank: str | os.PathLike | None = None,
    resume: bool = False,
    sim_bank: str | os.PathLike | None = None,
    renderer: nn.Module | str | os.PathLike | None = None,
    renderer_finetune: FoldFinetune | None = None,
) -> Path:
    """Train and score one segmentation model per arm x size x seed; write results and the report.

    Args:
        train_data: prepared cache to draw training subjects from.
        test_data: prepared cache of other subjects to score on; None: leave-one-subject-out folds
            of ``train_data`` (seed ``s`` holds out its ``s``-th subject, modulo the count).
        arms: names from :data:`~cineaug.benchmark.arms.ARMS` (``@share`` variants too) or arms
            parsed already (:func:`~cineaug.benchmark.arm_spec`); arms whose source is not given (a
            generator or bank; ``sim_bank``) are skipped with a warning.
        sizes: training-set sizes in subjects (e.g. 2, 4, 8, 16).
        seeds: one run per seed (weights, subjects drawn, augmentation draws).
        out: folder for ``results.jsonl`` (one line per run), ``benchmark.json``, the example
            predictions and ``report.md`` / ``report.html``; an old ``results.jsonl`` is replaced.
        generator: a generator module, or a shipped name / model folder for :func:`cineaug.load_pretrained`.
        steps: optimiser steps per run (overrides ``protocol.steps``).
        progress: show a tqdm bar over runs.
        protocol: the fixed protocol (default :class:`Protocol`, the quick one; see
            :data:`~cineaug.benchmark.segmentation.PROTOCOLS`). Its ``size`` must be the caches' crop
            side; ``scoring="volumes"`` requires test data with native labels.
        bank: instead of ``generator``, a bank of cycles sampled earlier (``cineaug sample``): the
            synthetic arms then cost no generator time.
        resume: keep the runs already in ``out/results.jsonl`` (same protocol, steps, augment and
            precision; others move to ``results.dropped.jsonl``) and run only the others, so that a
            long benchmark interrupted at any point continues where it stopped.
        sim_bank: simulator cycles for the ``sim`` arms (a cache from ``cineaug simulate``).
        renderer: a label renderer for the ``render`` arms (a module, a shipped name, a model or run
            folder). ``sim-render`` arms draw from ``sim_bank`` rendered ahead, once per renderer
            (``out/rendered/``).
        renderer_finetune: for every (size, seed), ``renderer_finetune(subjects, folder, seed)``
            fine-tunes ``renderer`` (then a training run folder) on exactly that fold's training
            subjects (``folder`` = ``out/renderers/n{size}-s{seed}/``, reused on resume), so the
            synthetic samples never carry texture from a test subject or from more real data than
            the segmenter saw: :class:`cineaug.training.FoldRendererFinetune` (``cineaug benchmark
            --renderer-finetune N`` builds one).

    Returns:
        ``out`` as a Path.
    """
    start = time.perf_counter()
    out = Path(out)
    protocol = protocol or Protocol()
    if steps is not None:
        protocol = protocol.replace(steps=steps)
    sources = BenchmarkSources.open(generator, bank, sim_bank, renderer, renderer_finetune)
    specs = [a if isinstance(a, ArmSpec) else arm_spec(a) for a in arms]  # the one parse of each arm
    run_specs, skipped = sources.runnable(specs)
    cohorts = Cohorts(train_data, test_data, protocol.max_test_frames, protocol.scoring == "volumes")
    cohorts.check_crop(protocol.size)
    sources.check_renderer_origin(run_specs, cohorts.test_subjects)
    cohorts.check_sizes(sizes)
    threads = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    torch.set_flush_denormal(True)
    protocol = protocol.replace(precision=_run_precision(out / RESULTS if resume else None, protocol))
    done = _start_output(out, protocol, resume)
    sources.save_gif(out)
    bar = tqdm(total=len(run_specs) * len(sizes) * len(seeds), disable=not progress, desc="benchmark")
    try:
        for fold in cohorts.folds(seeds, sizes):
            todo = [s for s in run_specs if (s.name, fold.size, fold.seed) not in done]
            fold_sources = sources.for_fold(out, fold.name, fold.subjects, fold.seed, todo)
            for spec in run_specs:
                bar.set_postfix_str(f"{spec.name} n={fold.size} seed={fold.seed}")
                if (spec.name, fold.size, fold.seed) not in done:
                    _write_row(out, _run_arm(out, spec, fold, fold_sources, protocol))
                bar.update()
    finally:
        bar.close()
        torch.set_num_threads(threads)
    _write_meta(out, train_data, test_data, run_specs, skipped, sizes, seeds, sources, protocol, start)
    render_report(out)
    return out


def _start_output(out: Path, protocol: Protocol, resume: bool) -> set[tuple[str, int, int]]:
    """Make ``out``; the runs kept from an earlier benchmark there (resume), or none (a fresh run: no
    result, fold renderer, rendered bank or GIF of an earlier one is kept)."""
    out.mkdir(parents=True, exist_ok=True)
    if resume:
        return _finished_runs(out / RESULTS, protocol)
    (out / RESULTS).unlink(missing_ok=True)
    (out / DROPPED).unlink(missing_ok=True)
    for folder in ("renderers", "rendered"):
        shutil.rmtree(out / folder, ignore_errors=True)
    (out / SYNTHETIC_GIF).unlink(missing_ok=True)
    return set()


def _run_arm(out: Path, spec: ArmSpec, fold: Fold, sources: ArmSources, protocol: Protocol) -> dict[str, Any]:
    """Train the arm on the fold, score it on the fold's frames: one row of ``results.jsonl``."""
    transform = training_transform(spec, sources, protocol.augment)
    model, seconds = train_model(
        fold.samples,
        transform,
        protocol,
        fold.seed,
        added=added_transform(spec, sources, protocol.augment),
        n_added=round(spec.added * protocol.batch_size),
        on_step=share_schedule(spec, transform, protocol.steps, n_subjects=fold.size),
        batch_transform=batch_transform(spec, protocol.augment),
    )
    frames = fold.frames
    pred = predict(model, frames.image)
    _save_examples(out / PREDICTIONS / f"{spec.name}-{fold.name}.npz", frames, pred)
    row = {"arm": spec.name, "size": fold.size, "seed": fold.seed, "share": spec.start(fold.size),
           "added": spec.added, "anneal": spec.anneal}  # fmt: skip
    dice, hd = frame_scores(pred, frames)
    row.update({**class_means(dice, "dice"), **class_means(hd, "hd95")})
    row.update(train_seconds=round(seconds, 2), steps=protocol.steps, test_frames=len(frames.keys))
    row.update(augment=protocol.augment, protocol=protocol.name)
    row.update(precision=protocol.precision)  # resolved by run_benchmark
    row.update(subjects=fold.subjects, held_out=fold.held_out)
    row.update(subject_means(dice, hd, frames.subjects))
    if fold.volumes:
        row.update(score_volumes(model, fold.volumes))
    return row


def _write_row(out: Path, row: dict[str, Any]) -> None:
    with open(out / RESULTS, "a") as fh:
        fh.write(json.dumps({k: _clean(v) for k, v in row.items()}) + "\n")


def _write_meta(
    out: Path,
    train_data: str | os.PathLike,
    test_data: str | os.PathLike | None,
    specs: Sequence[ArmSpec],
    skipped: list[str],
    sizes: Sequence[int],
    seeds: Sequence[int],
    sources: BenchmarkSources,
    protocol: Protocol,
    start: float,
) -> None:
    meta = {
        "train_data": str(train_data),
        "test_data": None if test_data is None else str(test_data),
        "test_split": "separate cache" if test_data is not None else "leave-one-subject-out by seed",
        "arms": [s.name for s in specs],
        "arm_descriptions": {s.name: s.describe() for s in specs},
        "skipped_arms": skipped,
        "sizes": list(sizes),
        "seeds": list(seeds),
        **sources.describe(),
        "machine": describe_machine(),
        "gpu": torch.cuda.get_device_name(protocol.device) if protocol.device.startswith("cuda") else None,
        "protocol": protocol.to_dict(),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_bytes(out / META, (json.dumps(meta, indent=2) + "\n").encode())


__all__ = ["ARMS", "run_benchmark"]
