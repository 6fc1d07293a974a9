"""``run_benchmark``: arms x training-set sizes x seeds under the fixed protocol, then the report.

Splits are by subject. For a (size, seed) pair every arm trains on the same subjects, drawn with
``seed`` and stratified by pathology (:func:`stratified_order`; the subsets are nested over sizes), so
arms are compared on matched pairs. Test subjects never train: either a separate test cache (the
simulator: other seeds; ACDC: the development split of :mod:`cineaug.splits`) or, without one,
leave-one-subject-out folds of the training cache (Sunnybrook: seed ``s`` holds out subject ``s``).
Only classes that both the training and the test source annotate are scored (a model trained on
Sunnybrook, which has no RV labels, is not scored on the RV of ACDC).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..atomic import atomic_write_bytes
from ..data import CycleDataset
from ..precision import describe as describe_machine
from ..transforms import SyntheticBank, SyntheticPool
from ..viz import save_cycles_gif
from .arms import (
    ARMS,
    added_transform,
    arm_spec,
    needs_generator,
    needs_renderer,
    needs_simulator,
    share_schedule,
    training_transform,
)
from .report import render_report
from .segmentation import (
    Frames,
    Protocol,
    class_means,
    frame_scores,
    predict,
    scored_frames,
    subject_means,
    train_model,
)

RESULTS = "results.jsonl"
META = "benchmark.json"
PREDICTIONS = "predictions"
SYNTHETIC_GIF = "synthetic_cycles.gif"
N_EXAMPLES = 4  # test frames kept per run for the report's montage
RENDERED_CYCLES = 250  # simulator cycles a renderer paints per fold (5000 frames: more than a run draws)


def _samples(ds: CycleDataset) -> list[dict[str, Any]]:
    return [ds[i] for i in range(len(ds))]


def _labelled(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Training samples with at least one labelled frame (real data keeps unlabelled basal/apical cycles)."""
    return [s for s in samples if bool(torch.as_tensor(s["labeled"]).any())]


def stratified_order(pathology_of: dict[str, str], seed: int) -> list[str]:
    """Subjects in an order whose every prefix is balanced over pathology classes.

    Subjects are shuffled within each class and the classes are taken in turn (in an order drawn
    with ``seed`` too), so that the first ``n`` subjects hold ``n // C`` or ``n // C + 1`` of each of
    the ``C`` classes: nested, stratified training subsets.
    """
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[str]] = {}
    for subject in sorted(pathology_of):
        by_class.setdefault(pathology_of[subject], []).append(subject)
    queues = [list(rng.permutation(by_class[c])) for c in rng.permutation(sorted(by_class))]
    order = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(str(queue.pop(0)))
    return order


def _annotated_classes(samples: list[dict[str, Any]]) -> torch.Tensor:
    """``[4]`` bool: classes annotated by any of the samples (background always)."""
    return torch.stack([torch.as_tensor(s["annotated"]).bool() for s in samples]).any(0)


def _finished_runs(path: Path, steps: int) -> set[tuple[str, int, int]]:
    """``(arm, size, seed)`` of the complete rows of a results file with ``steps``; the file is
    rewritten with those rows only (a line cut short by an interruption is dropped)."""
    if not path.is_file():
        return set()
    rows = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("steps") == steps:
            rows.append(row)
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows).encode())
    return {(r["arm"], r["size"], r["seed"]) for r in rows}


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


def _synthetic_gif(out: Path, source: SyntheticPool | SyntheticBank, n: int = 8) -> None:
    pool = source
    pool.reseed(0)
    cycles = [pool.take(i % pool.n_classes if pool.n_classes else None) for i in range(n)]
    save_cycles_gif(
        out / SYNTHETIC_GIF, [c[0].float().numpy() for c in cycles], [c[1].numpy() for c in cycles]
    )


def _fold_renderer(
    out: Path,
    fold: str,
    renderer: nn.Module | str | os.PathLike,
    finetune: int,
    train_data: str | os.PathLike,
    subjects: list[str],
    seed: int,
    threads: int,
    sim_bank: SyntheticBank | None,
) -> tuple[nn.Module, SyntheticBank | None]:
    """The renderer of a fold (fine-tuned on its subjects when ``finetune``) and, with ``sim_bank``,
    the first :data:`RENDERED_CYCLES` simulator cycles rendered by it
    (``out/rendered/<fold or "shared">/``)."""
    from ..training.render_bank import finetune_renderer, write_rendered_bank

    if finetune:
        run = out / "renderers" / fold
        renderer = finetune_renderer(renderer, train_data, subjects, run, finetune, seed, threads)
    if sim_bank is None:
        return renderer, None
    folder = out / "rendered" / (fold if finetune else "shared")
    painter = run if finetune else renderer
    bank = write_rendered_bank(painter, sim_bank.root, folder, n=RENDERED_CYCLES, progress=False)
    return renderer, SyntheticBank(bank)


def _check_renderer_origin(source: str | os.PathLike, test_subjects: set[str]) -> None:
    """Refuse a renderer run trained (or started from a run trained) on real test subjects; warn when
    it saw real data at all, whose texture the synthetic arms then carry beside the fold's own.

    Follows ``init_from`` through run folders (their ``options.json``); a shipped model folder records
    no training data and is left to its card.
    """
    run, seen = Path(source), set()
    while (run / "options.json").is_file() and run not in seen:
        seen.add(run)
        saved = json.loads((run / "options.json").read_text())
        config = saved.get("config", {})
        if not saved.get("simulate") and saved.get("data"):
            data = Path(saved["data"])
            data = data if data.is_absolute() or data.exists() else run.parent / data
            trained = set(config.get("subjects") or (CycleDataset(data).subjects if data.is_dir() else ()))
            if trained & test_subjects:
                raise ValueError(
                    f"renderer {run} was trained on test subjects {sorted(trained & test_subjects)[:5]} "
                    f"(data {data}): start from a renderer that never saw them, e.g. render-sim-64's run"
                )
            warnings.warn(
                f"renderer {run} was trained on real data ({data}): the synthetic arms carry its "
                "texture beside the fold's own (no test subject found in it)",
                stacklevel=3,
            )
        if not config.get("init_from"):
            break
        run = Path(config["init_from"])


def run_benchmark(
    train_data: str | os.PathLike,
    test_data: str | os.PathLike | None,
    arms: Sequence[str],
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
    renderer_finetune: int = 0,
) -> Path:
    """Train and score one segmentation model per arm x size x seed; write results and the report.

    Args:
        train_data: prepared cache to draw training subjects from.
        test_data: prepared cache of other subjects to score on; None: leave-one-subject-out folds
            of ``train_data`` (seed ``s`` holds out its ``s``-th subject, modulo the count).
        arms: names from :data:`~cineaug.benchmark.arms.ARMS` (``@share`` variants too); arms
            whose source is not given (a generator or bank; ``sim_bank``) are skipped with a warning.
        sizes: training-set sizes in subjects (e.g. 2, 4, 8, 16).
        seeds: one run per seed (weights, subjects drawn, augmentation draws).
        out: folder for ``results.jsonl`` (one line per run), ``benchmark.json``, the example
            predictions and ``report.md`` / ``report.html``; an old ``results.jsonl`` is replaced.
        generator: a generator module, or a shipped name / model folder for :func:`cineaug.load_pretrained`.
        steps: optimiser steps per run (overrides ``protocol.steps``).
        progress: show a tqdm bar over runs.
        protocol: the fixed protocol (default :class:`Protocol`).
        bank: instead of ``generator``, a bank of cycles sampled earlier (``cineaug sample``): the
            synthetic arms then cost no generator time.
        resume: keep the runs already in ``out/results.jsonl`` (same steps) and run only the others,
            so that a long benchmark interrupted at any point continues where it stopped.
        sim_bank: simulator cycles for the ``sim`` arms (a cache from ``cineaug simulate``).
        renderer: a label renderer for the ``render`` arms (a module, a shipped name, a model or run
            folder). ``sim-render`` arms draw from ``sim_bank`` rendered ahead, once per renderer
            (``out/rendered/``).
        renderer_finetune: > 0: for every (size, seed), fine-tune ``renderer`` (then a training run
            folder) for this many images on exactly that fold's training subjects
            (``out/renderers/n{size}-s{seed}/``, reused on resume), so the synthetic samples never
            carry texture from a test subject or from more real data than the segmenter saw.

    Returns:
        ``out`` as a Path.
    """
    start = time.perf_counter()
    out = Path(out)
    protocol = protocol or Protocol()
    if steps is not None:
        protocol = Protocol(**{**protocol.to_dict(), "steps": steps})
    model_name = None
    if isinstance(generator, (str, os.PathLike)):
        from ..pretrained import load_pretrained

        model_name, generator = str(generator), load_pretrained(generator)
    if generator is not None and bank is not None:
        raise ValueError("pass a generator or a bank, not both")
    if bank is not None:
        bank = SyntheticBank(bank)
    if sim_bank is not None:
        sim_bank = SyntheticBank(sim_bank)
    synthetic = generator is not None or bank is not None
    renderer_source = None if isinstance(renderer, nn.Module) else renderer
    if renderer_finetune and renderer_source is None:
        raise ValueError("renderer_finetune needs the renderer's training run folder (renderer=RUN)")
    if renderer_source is not None and not renderer_finetune:
        from ..pretrained import load_pretrained

        renderer = load_pretrained(renderer_source)
    run_arms = [
        a
        for a in arms
        if (synthetic or not needs_generator(a))
        and (sim_bank is not None or not needs_simulator(a))
        and (renderer is not None or not needs_renderer(a))
    ]
    skipped = [a for a in arms if a not in run_arms]
    if skipped:
        warnings.warn(
            f"skipping the synthetic arms {', '.join(skipped)}: "
            "their source was not given (--model/--bank, --sim-bank, --renderer)",
            stacklevel=2,
        )
    for arm in run_arms:  # fail early on an unknown arm (a fine-tuned renderer exists only per fold)
        if not (renderer_finetune and needs_renderer(arm)):
            training_transform(arm, generator, bank, sim_bank, renderer)

    train_ds = CycleDataset(train_data)
    test_ds = CycleDataset(test_data) if test_data is not None else None
    subjects = train_ds.subjects
    if test_ds is not None and set(subjects) & set(test_ds.subjects):
        raise ValueError(
            f"test subjects also in the training data: {sorted(set(subjects) & set(test_ds.subjects))}"
        )
    if renderer_source is not None and any(needs_renderer(a) for a in run_arms):
        _check_renderer_origin(renderer_source, set(test_ds.subjects if test_ds is not None else subjects))
    pool = len(subjects) - (test_ds is None)
    if min(sizes) < 1:
        raise ValueError(f"training sizes must be >= 1 subject, got {min(sizes)}")
    if max(sizes) > pool:
        raise ValueError(f"size {max(sizes)} > {pool} subjects available for training")
    fixed_frames = scored_frames(_samples(test_ds), protocol.max_test_frames) if test_ds is not None else None
    trained_classes = _annotated_classes(_samples(train_ds))  # [4]
    pathology_of = {e["subject"]: e["pathology"] for e in train_ds.entries}

    threads = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    torch.set_flush_denormal(True)
    out.mkdir(parents=True, exist_ok=True)
    done = _finished_runs(out / RESULTS, protocol.steps) if resume else set()
    if not resume:  # a fresh run: no result, fold renderer or rendered bank of an earlier one is kept
        (out / RESULTS).unlink(missing_ok=True)
        for folder in ("renderers", "rendered"):
            shutil.rmtree(out / folder, ignore_errors=True)
        (out / SYNTHETIC_GIF).unlink(missing_ok=True)
    if synthetic:
        _synthetic_gif(out, bank if bank is not None else SyntheticPool(generator, batch_size=8))
    bar = tqdm(total=len(run_arms) * len(sizes) * len(seeds), disable=not progress, desc="benchmark")
    try:
        for seed in seeds:
            held_out = None if test_ds is not None else subjects[seed % len(subjects)]
            frames = fixed_frames
            if frames is None:  # leave-one-subject-out
                frames = scored_frames(_samples(train_ds.subset([held_out])), protocol.max_test_frames)
            frames.annotated &= trained_classes  # score what both sources annotate
            order = [s for s in stratified_order(pathology_of, seed) if s != held_out]
            for size in sizes:
                chosen = [str(s) for s in order[:size]]
                samples = _labelled(_samples(train_ds.subset(chosen)))
                fold = f"n{size}-s{seed}"
                todo = [a for a in run_arms if (a, size, seed) not in done]
                fold_renderer, rendered = None, None
                if any(needs_renderer(a) for a in todo):
                    fold_renderer, rendered = _fold_renderer(
                        out, fold, renderer, renderer_finetune, train_data, chosen, seed, protocol.threads,
                        sim_bank if any(needs_simulator(a) for a in todo) else None,
                    )  # fmt: skip
                sources = (generator, bank, sim_bank, fold_renderer, rendered)
                for arm in run_arms:
                    bar.set_postfix_str(f"{arm} n={size} seed={seed}")
                    if (arm, size, seed) in done:
                        bar.update()
                        continue
                    spec = arm_spec(arm)
                    transform = training_transform(arm, *sources)
                    model, seconds = train_model(
                        samples,
                        transform,
                        protocol,
                        seed,
                        added=added_transform(arm, *sources),
                        n_added=round(spec.added * protocol.batch_size),
                        on_step=share_schedule(arm, transform, protocol.steps, n_subjects=size),
                    )
                    pred = predict(model, frames.image)
                    _save_examples(out / PREDICTIONS / f"{arm}-n{size}-s{seed}.npz", frames, pred)
                    row = {"arm": arm, "size": size, "seed": seed, "share": spec.start(size),
                           "added": spec.added, "anneal": spec.anneal}  # fmt: skip
                    dice, hd = frame_scores(pred, frames)
                    row.update({**class_means(dice, "dice"), **class_means(hd, "hd95")})
                    row.update(
                        train_seconds=round(seconds, 2), steps=protocol.steps, test_frames=len(frames.keys)
                    )
                    row.update(subjects=chosen, held_out=held_out)
                    row.update(subject_means(dice, hd, frames.subjects))
                    with open(out / RESULTS, "a") as fh:
                        fh.write(json.dumps({k: _clean(v) for k, v in row.items()}) + "\n")
                    bar.update()
    finally:
        bar.close()
        torch.set_num_threads(threads)
    meta = {
        "train_data": str(train_data),
        "test_data": None if test_data is None else str(test_data),
        "test_split": "separate cache" if test_ds is not None else "leave-one-subject-out by seed",
        "arms": run_arms,
        "skipped_arms": skipped,
        "sizes": list(sizes),
        "seeds": list(seeds),
        "generator": model_name or (type(generator).__name__ if generator is not None else None),
        "bank": None if bank is None else str(bank.root),
        "sim_bank": None if sim_bank is None else str(sim_bank.root),
        "renderer": None if renderer is None else str(renderer_source or type(renderer).__name__),
        "renderer_finetune_images": renderer_finetune,
        "machine": describe_machine(),
        "gpu": torch.cuda.get_device_name(protocol.device) if protocol.device.startswith("cuda") else None,
        "protocol": protocol.to_dict(),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_bytes(out / META, (json.dumps(meta, indent=2) + "\n").encode())
    render_report(out)
    return out


__all__ = ["ARMS", "run_benchmark"]
