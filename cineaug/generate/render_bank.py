"""Render label cycles with a trained label renderer into a bank (a cache the augmenter draws from).

Rendering ahead of training costs one batched pass per cycle instead of one pass per synthetic
sample: a 500-cycle bank of 20-frame cycles at 64 px takes about a minute on one CPU core, the
same texture at a fraction of the cost of rendering in the training loop.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..cache import CacheWriter, read_index
from ..data import CycleDataset
from ..errors import CineDataError
from ..models.hub import weights_digest
from ..pretrained import load_pretrained
from ..tissues import tissue_map
from ..types import CineCycle, LabelSource
from ..viz import save_cycles_gif
from .rendered import RenderedAppearance

DONE = "dataset.json"


def write_rendered_bank(
    renderer: nn.Module | str | os.PathLike,
    labels_from: str | os.PathLike,
    out: str | os.PathLike,
    seed: int = 0,
    n: int | None = None,
    progress: bool = True,
) -> Path:
    """Render the label cycles of a cache (a simulator cache, a generator's bank) into ``out``.

    Each cycle's tissue map (:func:`~cineaug.tissues.tissue_map`, with the renderer's
    background clusters fitted on the source's own image) is rendered with one latent for all its
    frames; the labels are the source's, exact. ``out`` holds a cache (``dataset.json`` +
    ``cycles/``) that ``SyntheticCycleAugmenterd(bank=out)`` draws from, and ``samples.gif``.

    Args:
        renderer: a label renderer, or a shipped name / model folder / run folder for it.
        labels_from: a prepared cache of fully labelled cycles.
        out: the bank folder; one that is complete (its ``dataset.json`` written last) from the same
            inputs (the renderer's weights, the source cache, ``seed``, ``n``) is kept as it is, one
            from other inputs is refused.
        seed: seeds the latents.
        n: render the first ``n`` cycles only (default: all).

    Returns:
        ``out``.
    """
    out = Path(out)
    g = load_pretrained(renderer) if isinstance(renderer, (str, os.PathLike)) else renderer
    if not hasattr(g, "n_tissues"):
        name = renderer if isinstance(renderer, (str, os.PathLike)) else type(renderer).__name__
        raise CineDataError(name, "not a label renderer (a LabelRenderer has n_tissues)")
    source = str(Path(labels_from).resolve())
    made = {"renderer": weights_digest(g), "labels_from": source, "seed": seed, "n": n}
    if (out / DONE).is_file():
        info = read_index(out).get("info", {})
        if any(info.get(k) != v for k, v in made.items()):
            why = f"holds a bank rendered from other inputs ({info}): remove it or choose another folder"
            raise CineDataError(out, why)
        return out
    render = RenderedAppearance(g, seed=seed)
    source = CycleDataset(labels_from)
    count = len(source) if n is None else min(n, len(source))
    info = {**made, "class_names": read_index(labels_from).get("info", {}).get("class_names")}
    writer = CacheWriter(out, source="renderer", info=info)
    shown_img, shown_lab = [], []
    for i in tqdm(range(count), desc="rendering", unit="cycle", disable=not progress):
        s = source[i]
        if not bool(s["labeled"].all()):
            raise CineDataError(labels_from, f"{s['key']}: a label source needs fully labelled cycles")
        label = s["label"].numpy()
        image = render(tissue_map(s["image"], label, render.n_clusters))  # [T,R,R]
        if image.shape[-1] != label.shape[-1]:
            image = torch.nn.functional.interpolate(image[None], size=label.shape[-2:], mode="bilinear")[0]
        t = len(label)
        writer.add(
            CineCycle(
                image=image.numpy().astype(np.float32),
                label=label,
                labeled=np.ones(t, bool),
                spacing=tuple(float(v) for v in s["spacing"]),
                source="renderer",
                subject=f"render{i:05d}",
                pathology=s["pathology"],
                label_source=np.full(t, LabelSource.GENERATED, np.uint8),
            )
        )
        if len(shown_img) < 16:
            shown_img.append(image.numpy())
            shown_lab.append(label)
    save_cycles_gif(out / "samples.gif", shown_img, shown_lab)
    writer.close()  # dataset.json last: a bank with it is complete
    return out
