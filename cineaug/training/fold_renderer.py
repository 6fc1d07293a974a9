"""A label renderer fine-tuned on one benchmark fold's training subjects, and the callable that the
benchmark receives for it (the benchmark never imports training: the CLI hands it a
:class:`FoldRendererFinetune`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..atomic import atomic_write_json
from ..errors import CineDataError
from ..pretrained import load_pretrained
from .config import TrainConfig
from .refine import RefineSettings, refine_renderer

FINETUNE = "finetune.json"  # what a fine-tuned run folder was fine-tuned from, on and for how long


def finetune_renderer(
    init_from: str | os.PathLike,
    data: str | os.PathLike,
    subjects: list[str],
    out: str | os.PathLike,
    images: int = 4_000,
    seed: int = 0,
    threads: int = 0,
    grow: bool = True,
) -> nn.Module:
    """Fine-tune a renderer run on ``subjects`` of ``data`` only, into run folder ``out``; its EMA renderer.

    For the benchmark's per-fold renderers: a fold's synthetic samples then come from a renderer that
    saw the fold's training subjects and nothing else of the real data, provided that ``init_from``
    saw no real data (a simulator-pretrained renderer such as ``render-sim-64``). A finished run in
    ``out`` fine-tuned alike (``out/finetune.json``) is reused, an interrupted one resumed from its
    last quarter; one fine-tuned otherwise is refused.

    Args:
        init_from: the renderer to start from (a run folder: G, D and EMA are loaded; or a model
            folder shipped with its discriminator).
        images: real frames shown. Where the fold's crops are twice the renderer's size (a 64 px
            ``render-sim-64`` on the field protocol's 128 px crops), the renderer grows to their size
            first (:func:`grown_to`: its new block fades in over the first half of them; about 4x
            the time per image).
        grow: ``False`` keeps the renderer at its own size: it is fine-tuned on the fold's crops
            reduced to that size (area averaging) and paints at it; a bank painted with it
            (:func:`~cineaug.generate.write_rendered_bank`) is upsampled (bilinear) to the crops.
    """
    from .finetune import finetune_config
    from .trainer import frame_size, train

    out = Path(out)
    made = {"init_from": str(init_from), "data": str(Path(data).resolve()), "subjects": sorted(subjects),
            "images": images, "seed": seed, **({} if grow else {"grow": False})}  # fmt: skip
    # "grow" is recorded only where it is off: folders grown by default keep their finetune.json
    done = json.loads((out / FINETUNE).read_text()) if (out / FINETUNE).is_file() else None
    if done is not None and done != made:
        raise CineDataError(out, f"was fine-tuned with other settings ({done}, asked {made}): remove it")
    if done is None and (out / "options.json").is_file():
        raise CineDataError(out, f"holds a run without {FINETUNE}: not a fine-tuned fold renderer, remove it")
    cfg = finetune_config(
        init_from, total_images=images, subjects=tuple(subjects), seed=seed, threads=threads,
        checkpoint_images=max(images // 4, 1), snapshot_images=images, metrics_images=0,
    )  # fmt: skip
    if grow:
        cfg = grown_to(cfg, frame_size(data), data)
    resume = (out / "options.json").is_file()
    was = json.loads((out / "options.json").read_text())["config"]["resolution"] if resume else cfg.resolution
    if was != cfg.resolution:
        raise CineDataError(
            out, f"holds a {was} px renderer, this fine-tuning trains one at {cfg.resolution} px: remove it"
        )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / FINETUNE, made)
    train(cfg, out, data=data, resume=resume, progress=False)
    return load_pretrained(out)  # the newest snapshot: the last step's


def grown_to(cfg: TrainConfig, size: int, data: str | os.PathLike = "the data") -> TrainConfig:
    """A fine-tuning configuration that first grows the renderer to ``size`` px crops.

    The same configuration when the renderer is already at ``size``; at twice its size, the source's
    blocks are kept and one more block starts fresh and fades in over the first half of
    ``total_images`` (no stable phase at the old size), trained at the source resolution's learning
    rate (as ``render-acdc80-128`` was grown from ``render-acdc80-64``).

    Raises:
        CineDataError: ``size`` is neither the renderer's nor twice it.
    """
    if size == cfg.resolution:
        return cfg
    if size != 2 * cfg.resolution:
        raise CineDataError(
            data,
            f"holds {size} px crops: a {cfg.resolution} px renderer grows by one doubling, never shrinks",
        )
    lr = dict(cfg.lr_by_res).get(cfg.resolution, cfg.lr)
    return cfg.replace(
        resolution=size, start_res=cfg.resolution, stable_images=0, fade_images=cfg.total_images // 2,
        lr_by_res=tuple(sorted({**dict(cfg.lr_by_res), size: lr}.items())),
    )  # fmt: skip


@dataclass(frozen=True)
class FoldRendererFinetune:
    """``(subjects, out, seed) -> renderer``: :func:`finetune_renderer` with the settings of a benchmark.

    What ``cineaug benchmark --renderer RUN --renderer-finetune N`` passes to
    :func:`cineaug.benchmark.run_benchmark` as ``renderer_finetune``: called once per fold, with the
    fold's training subjects and its run folder.

    Args:
        init_from: the renderer run (or model folder with its discriminator) to start from.
        data: the cache of the fold's subjects (the benchmark's training data).
        images: real frames shown per fold.
        threads: torch threads of the fine-tuning (0: torch's default).
        grow: grow the renderer to crops twice its size (``False``: fine-tune and paint at its own
            size, the painted cycles upsampled to the crops).
        refine: then refine the fine-tuned renderer (:func:`~cineaug.training.refine.refine_renderer`,
            in ``out/refined-<feedback>/``).
    """

    init_from: str
    data: str
    images: int = 4_000
    threads: int = 0
    refine: RefineSettings | None = None
    grow: bool = True

    def __call__(self, subjects: list[str], out: Path, seed: int) -> nn.Module:
        renderer = finetune_renderer(
            self.init_from, self.data, subjects, out, self.images, seed, self.threads, self.grow
        )
        if self.refine is None:
            return renderer
        return refine_renderer(renderer, self.data, subjects, out / f"refined-{self.refine.feedback}",
                               self.refine, seed)  # fmt: skip
