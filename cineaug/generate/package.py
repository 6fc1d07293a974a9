"""``package_model``: a shipped model folder made from a training snapshot, with a card and samples."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_write_json
from ..models.hub import CONFIG_NAME, WEIGHTS_NAME, from_pretrained, read_config
from ..pretrained import write_manifest
from ..viz import save_cycles_gif
from .pool import SyntheticPool


def package_model(
    snapshot: str | os.PathLike,
    out: str | os.PathLike,
    card: str,
    description: str = "",
    n_samples: int = 8,
    seed: int = 0,
    pathologies: Sequence[str] | None = None,
    samples_gif: str | os.PathLike | None = None,
) -> Path:
    """Make a shipped model folder from a training snapshot.

    Copies ``config.json`` (adding ``description``) and ``model.safetensors``, writes ``MODEL_CARD.md``
    and ``samples.gif`` (``n_samples`` cycles, labels overlaid, classes in turn), then the manifest.

    Args:
        snapshot: a ``snapshot-NNNNNN/`` folder (EMA generator).
        out: the model folder to write, e.g. ``pretrained/progan-sim-64``.
        card: the model card's Markdown.
        pathologies: classes drawn in turn for ``samples.gif`` (default: all the model's classes).
        samples_gif: copy this GIF as ``samples.gif`` instead of drawing one (a label renderer draws
            nothing alone: give it the GIF of a bank it rendered, ``cineaug render``).
    """
    snapshot, out = Path(snapshot), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = read_config(snapshot)
    if description:
        config["description"] = description
    atomic_write_json(out / CONFIG_NAME, config)
    shutil.copy(snapshot / WEIGHTS_NAME, out / WEIGHTS_NAME)
    (out / "MODEL_CARD.md").write_text(card)
    if samples_gif is not None:
        shutil.copy(samples_gif, out / "samples.gif")
        write_manifest(out)
        return out
    pool = SyntheticPool(from_pretrained(out), batch_size=max(1, n_samples), seed=seed)
    drawn = [pool.class_index(p) for p in pathologies] if pathologies else list(range(pool.n_classes))
    if None in drawn:
        raise ValueError(f"pathologies {list(pathologies)} not all in the model's classes {pool.class_names}")
    cycles = [pool.take(drawn[i % len(drawn)] if drawn else None) for i in range(n_samples)]
    save_cycles_gif(out / "samples.gif", [c[0].numpy() for c in cycles], [c[1].numpy() for c in cycles])
    write_manifest(out)
    return out
