"""The training loop and its run folder (EDM-style).

Run folder::

    RUN/
      options.json                      resolved TrainConfig, data, processes, classes, the precision
                                        chosen for this machine and what it rests on
      stats.jsonl                       one JSON line per tick ("tick") and per evaluation ("metrics")
      tensorboard/                      the same scalars, if tensorboard is installed
      data/                             the simulated cache (--simulate only)
      samples-NNNNNN.gif / .png         synthetic cycles of the EMA generator, labels overlaid
      snapshot-NNNNNN/                  EMA generator: config.json + model.safetensors (for users)
      training-state-NNNNNN.*           G, D, EMA, optimizers, counters, ADA p, RNG states (to resume)

``NNNNNN`` is the number of real images shown. Every file is written atomically. A run killed at any
moment (SIGKILL included) and resumed ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .._version import __version__
from ..atomic import atomic_write_json
from ..cache import read_index
from ..errors import CineDataError
from ..metrics.evaluate import evaluate_sets, flat
from ..models.hub import save_pretrained
from ..precision import describe as describe_machine
from .config import TrainConfig
from .distributed import DistInfo, broadcast_module, cleanup, init_distributed
from .finetune import load_initial_weights, source_class_names, source_state
from .realdata import RealCycles
from .realframes import RealFrames, simulated_tissue_cycles
from .render_step import RenderTraining, evaluate_renderer, heart_labels, render_cycles
from .reporting import RunLog, save_samples, to_cycles, upsample_to
from .schedule import Phase, schedule
from .state import (
    capture_rng,
    latest_training_state,
    load_modules,
    load_optimizer,
    load_training_state,
    prune_training_states,
    restore_rng,
    save_training_state,
)
from .step import GANTraining

OPTIONS = "options.json"


def frame_size(root: str | os.PathLike) -> int:
    """Side in pixels of a cache's cycles (to rescale the pixel spacing when training resizes; to
    grow a fold's renderer to its crops)."""
    from ..data import CycleDataset

    dataset = CycleDataset(root, verify=False)
    if not len(dataset):
        raise CineDataError(root, "holds no cycles to train on")
    return int(dataset.cycle(0).image.shape[-1])


def _prepare_data(run: Path, cfg: TrainConfig, data: Path | None, simulate: bool, info: DistInfo) -> Path:
    """The cache to train on; with ``simulate``, fresh subjects written once into ``run/data``."""
    if not simulate:
        if data is None:
            raise ValueError("pass a prepared cache (--data) or --simulate")
        return Path(data)
    root = run / "data"
    if info.main and not (root / "dataset.json").is_file():
        from ..prepare import write_simulated_dataset

        write_simulated_dataset(
            root, n=cfg.simulate_subjects, seed=cfg.seed, size=cfg.resolution, progress=False
        )
    if info.world > 1:
        torch.distributed.barrier()
    return root


def _crossed(prev: int, now: int, done: bool, every: int) -> bool:
    """True at the last step, or when the image count passed a multiple of ``every`` (0 = never)."""
    return done or (every > 0 and now // every != prev // every)


def _seed_process(seed: int, rank: int) -> None:
    s = seed * 7919 + 1 + rank  # different draws per process, same for every run of this seed
    torch.manual_seed(s)
    np.random.seed(s % 2**32)  # noqa: NPY002 (seed the legacy global RNG too)
    random.seed(s)


class Trainer:
    """Train a generator of cycles with labels; see :func:`train`."""

    def __init__(
        self,
        cfg: TrainConfig,
        run: Path,
        data_root: Path,
        info: DistInfo,
        progress: bool = True,
        class_names: tuple[str, ...] | None = None,
    ):
        self.cfg, self.run, self.info, self.progress = cfg, run, info, progress
        self.renderer = cfg.arch == "renderer"
        if self.renderer:
            self.reals = RealFrames.from_cache(data_root, cfg.resolution, cfg.n_clusters, cfg.subjects)
        else:
            self.reals = RealCycles.from_cache(
                data_root,
                cfg.resolution,
                cfg.require_full_labels,
                cfg.conditional,
                class_names,
                dict(cfg.class_map),
                cfg.subjects,
            )
        n_cls = len(self.reals.class_names)
        freq = torch.bincount(self.reals.classes, minlength=max(n_cls, 1)).float()
        torch.manual_seed(cfg.seed)  # identical initial weights on every process
        if self.renderer:
            self.gan = RenderTraining(cfg, info.device)
        else:
            self.gan = GANTraining(cfg, info.device, self.reals.class_names, self.reals.annotated, freq)
        for m in self.gan.modules().values():
            broadcast_module(m)
        self.seen = 0
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.sample_z = torch.randn(cfg.n_samples, cfg.latent_dim, generator=gen)  # [S,Z] fixed for all GIFs
        self.metric_z = torch.randn(cfg.metrics_n, cfg.latent_dim, generator=gen)  # [M,Z]
        self.metric_c = torch.multinomial(freq, cfg.metrics_n, replacement=True, generator=gen)  # [M]
        if self.renderer:  # render real frames' maps (metrics) and simulated cycles (samples, flicker)
            self.metric_idx, self.metric_floor = self.reals.metric_split(cfg.metrics_n, gen)  # [M] each
            self.sample_tissues = simulated_tissue_cycles(cfg.n_samples, cfg.resolution, cfg.n_clusters)
        spacing = read_index(data_root).get("spacing", {}).get("prepared_mm", {})
        self.spacing_mm = spacing.get("mean", 1.0) * frame_size(data_root) / cfg.resolution

    # ----------------------------------------------------------------- state
    def resume(self, json_path: Path) -> None:
        tensors, meta = load_training_state(json_path)
        load_modules(tensors, self.gan.modules())
        for name, opt in self.gan.optimizers().items():
            load_optimizer(name, opt, tensors, meta["optimizers"][name])
        self.gan.ada.load_state(meta["ada"])
        self.gan.d_steps = meta["d_steps"]
        self.seen = meta["images_seen"]
        if not restore_rng(tensors, meta["rng"], self.info.rank, self.info.device):
            _seed_process(self.cfg.seed + self.seen, self.info.rank)  # more processes than saved: new draws

    def checkpoint(self) -> None:
        rng = capture_rng(self.info.device)  # collective: every process takes part
        if self.info.main:
            extra = {"d_steps": self.gan.d_steps, "ada": self.gan.ada.state(), "world": self.info.world,
                     "cineaug_version": __version__}  # fmt: skip
            save_training_state(self.run, self.seen, self.gan.modules(), self.gan.optimizers(), rng, extra)
            prune_training_states(self.run)

    # ----------------------------------------------------------------- outputs
    @torch.no_grad()
    def _generate(
        self, z: torch.Tensor, c: torch.Tensor | None, phase: Phase
    ) -> tuple[np.ndarray, np.ndarray]:
        g = self.gan.G_ema
        c = c.to(self.info.device) if (c is not None and self.gan.n_classes) else None
        with self.gan.autocast():
            img, logits = g(z.to(self.info.device), c, phase.res, phase.alpha)
        img, logits = upsample_to(img.float(), logits.float(), self.cfg.resolution)
        return to_cycles(img, logits, self.reals.annotated)

    def snapshot(self, phase: Phase) -> None:
        extra = {"images_seen": self.seen, "phase": vars(phase), "spacing_mm": self.spacing_mm,
                 "training": self.cfg.to_dict()}  # fmt: skip
        save_pretrained(self.gan.G_ema, self.run / f"snapshot-{self.seen:06d}", extra)
        if self.renderer:
            t = self.sample_tissues  # [S,T,R,R]
            img = render_cycles(self.gan.G_ema, t, self.sample_z, self.reals.n_tissues, phase).numpy()
            lab = heart_labels(t).numpy()
        else:
            c = torch.arange(self.cfg.n_samples) % max(self.gan.n_classes, 1)
            img, lab = self._generate(self.sample_z, c, phase)
        save_samples(self.run, self.seen, img, lab)

    def evaluate(self, phase: Phase) -> dict[str, float]:
        if self.renderer:
            z = self.metric_z[: len(self.metric_idx)]
            return evaluate_renderer(
                self.gan.G_ema, self.reals, self.metric_idx, z, self.sample_tissues, phase, self.metric_floor
            )
        img, lab = self._generate(self.metric_z, self.metric_c, phase)
        r = self.reals
        res = evaluate_sets(
            img, lab, r.images.numpy(), r.labels.numpy(), self.metric_c.numpy(), r.classes.numpy()
        )
        return flat(res)

    # ----------------------------------------------------------------- loop
    def fit(self) -> None:
        cfg, info = self.cfg, self.info
        log = RunLog(self.run, resume_from=self.seen) if info.main else None
        if info.main and self.seen == 0 and cfg.metrics_images > 0:
            with torch.random.fork_rng(devices=[]):
                log.write(0, "metrics", self.evaluate(schedule(cfg, 0)))
        bar = tqdm(
            total=cfg.total_images, initial=self.seen, unit="img", disable=not (info.main and self.progress)
        )
        tick: dict[str, list[float]] = defaultdict(list)
        t_tick, n_tick = time.time(), 0
        while self.seen < cfg.total_images:
            phase = schedule(cfg, self.seen)
            per_rank = max(phase.batch // info.world, 1)
            idx = torch.randint(len(self.reals), (per_rank,))
            stats = self.gan.step(
                self.reals.batch(idx, phase.res, phase.alpha, info.device), phase, self.seen
            )
            prev, self.seen = self.seen, self.seen + per_rank * info.world
            n_tick += per_rank * info.world
            for k, v in stats.items():
                tick[k].append(v)
            done = self.seen >= cfg.total_images
            crossed = functools.partial(_crossed, prev, self.seen, done)
            bar.update(self.seen - prev)
            bar.set_postfix(res=phase.res, a=f"{phase.alpha:.2f}", D=f"{stats['loss_d']:.3f}",
                            G=f"{stats['loss_g']:.3f}", p=f"{stats['p']:.2f}", refresh=False)  # fmt: skip
            if crossed(cfg.tick_images) and info.main:
                rate = n_tick / max(time.time() - t_tick, 1e-9)
                values = {k: float(np.mean(v)) for k, v in tick.items()}
                log.write(
                    self.seen, "tick", {**values, **vars(phase), "images_per_s": rate, "world": info.world}
                )
                tick.clear()
            with torch.random.fork_rng(devices=[]):  # outputs must not move the training RNG
                if info.main and crossed(cfg.snapshot_images):
                    self.snapshot(phase)
                if info.main and crossed(cfg.metrics_images):
                    log.write(self.seen, "metrics", self.evaluate(phase))
            if crossed(cfg.checkpoint_images):  # after the snapshot: a run whose last state is written
                self.checkpoint()  # has written its last snapshot too
            if crossed(cfg.tick_images):  # the rate excludes checkpoints, snapshots and metrics
                t_tick, n_tick = time.time(), 0
        bar.close()
        if log is not None:
            log.close()


def train(
    cfg: TrainConfig,
    out: str | Path,
    data: str | Path | None = None,
    simulate: bool = False,
    resume: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> Path:
    """Train (or resume) a run; works alone and under ``torchrun`` (one process per device).

    Args:
        cfg: the configuration (ignored on resume: the run's ``options.json`` wins).
        out: the run folder.
        data: a prepared cache (``cineaug prepare`` / ``cineaug simulate``).
        simulate: train on fresh simulated subjects written into ``out/data``.
        resume: continue from the newest training state in ``out``.
        device: "auto", "cpu" or "cuda".
        progress: show a tqdm bar (main process only).

    Returns:
        the run folder.

    Example:
        >>> train(PRESETS["progan64-small"], "runs/demo", simulate=True)  # doctest: +SKIP
    """
    torch.set_flush_denormal(True)
    run = Path(out)
    options = run / OPTIONS
    saved = None
    if resume and options.is_file():
        saved = json.loads(options.read_text())
        cfg, simulate = TrainConfig.from_dict(saved["config"]), saved["simulate"]
        data = saved["data"]
    elif options.is_file() and latest_training_state(run) is not None:
        raise FileExistsError(f"{run} already holds a run: pass --resume, or choose another folder")
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    info = init_distributed(device)
    try:
        data_root = _prepare_data(run, cfg, Path(data) if data else None, simulate, info)
        class_names = None  # fine-tuning keeps the source run's classes (saved with the run)
        if cfg.init_from:
            class_names = (
                tuple(saved["class_names"]) if saved else source_class_names(source_state(cfg.init_from))
            )
        trainer = Trainer(cfg, run, data_root, info, progress, class_names)
        state = latest_training_state(run) if resume else None
        if state is not None:
            trainer.resume(state)
        else:
            if cfg.init_from:
                load_initial_weights(source_state(cfg.init_from), trainer.gan.modules())
            _seed_process(cfg.seed, info.rank)
            if info.main:
                r = trainer.reals
                atomic_write_json(options, {
                    "config": cfg.to_dict(), "data": str(data_root), "simulate": simulate,
                    "world": info.world, ("frames" if trainer.renderer else "cycles"): len(r),
                    "dropped_partially_labelled": r.dropped,
                    "class_names": list(r.class_names), "annotated_classes": list(r.annotated),
                    "cineaug_version": __version__, "precision": trainer.gan.precision,
                    "machine": describe_machine(),
                })  # fmt: skip
        trainer.fit()
    finally:
        cleanup()
        torch.set_num_threads(threads)  # the caller's setting again
    return run
