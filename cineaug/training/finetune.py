"""Fine-tuning: start a run from the weights of another run (``init_from``, ``class_map``).

G, D and the EMA generator are loaded from the newest training state of the source run; the
optimizers, the image count and the ADA strength start afresh. The networks keep the source's
pathology classes, onto which the data's pathology names are mapped (e.g. Sunnybrook ``HF-I`` ->
ACDC ``MINF``), so a fine-tuned generator is conditioned like the one it came from.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from ..errors import CineDataError
from .config import TrainConfig
from .state import latest_training_state, load_modules, load_training_state

OPTIONS = "options.json"


def source_state(init_from: str | Path) -> Path:
    """The training-state JSON named by ``init_from``: a run folder (its newest state) or the JSON itself."""
    path = Path(init_from).expanduser()
    if path.is_dir():
        state = latest_training_state(path)
        if state is None:
            raise CineDataError(path, "init_from: no complete training state in this run folder")
        return state
    if path.suffix == ".json" and path.is_file():
        return path
    raise CineDataError(path, "init_from: not a run folder or a training-state .json file")


def source_class_names(state: Path) -> tuple[str, ...]:
    """The pathology classes the source run conditioned on (from its ``options.json``)."""
    options = state.parent / OPTIONS
    try:
        return tuple(json.loads(options.read_text())["class_names"])
    except (OSError, KeyError, json.JSONDecodeError) as err:
        raise CineDataError(options, f"init_from: cannot read the source run's class names ({err})") from err


def load_initial_weights(state: Path, modules: dict[str, nn.Module]) -> int:
    """Load G, D and G_ema from ``state``; returns the images the source had seen."""
    try:
        tensors, meta = load_training_state(state)
        load_modules(tensors, modules)
    except (ValueError, RuntimeError) as err:
        raise CineDataError(
            state, f"init_from: the networks do not match this run's configuration "
            f"(use the source run's arch, resolution, latent_dim, fmap_base, fmap_max): {err}",
        ) from err  # fmt: skip
    return int(meta["images_seen"])


SUNNYBROOK_TO_ACDC: tuple[tuple[str, str], ...] = (
    ("HF-I", "MINF"),
    ("HF-NI", "DCM"),
    ("HYP", "HCM"),
    ("N", "NOR"),
)
"""Sunnybrook pathology -> the nearest ACDC class, for fine-tuning an ACDC-conditioned generator:
heart failure with infarction -> MINF, non-ischaemic heart failure -> DCM, hypertrophy -> HCM."""


def finetune_config(init_from: str | Path, **changes) -> TrainConfig:
    """The source run's configuration, set up to continue at its final resolution from its weights.

    Fresh counters and optimizers, no growth (``start_res = resolution``), 20k images unless
    ``changes`` say otherwise (any :class:`TrainConfig` field).

    Example:
        >>> cfg = finetune_config("runs/progan-sim-64", class_map=SUNNYBROOK_TO_ACDC)  # doctest: +SKIP
    """
    state = source_state(init_from)
    options = state.parent / OPTIONS
    try:
        cfg = TrainConfig.from_dict(json.loads(options.read_text())["config"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise CineDataError(
            options, f"init_from: cannot read the source run's configuration ({err})"
        ) from err
    base = dict(init_from=str(init_from), start_res=cfg.resolution, total_images=20_000,
                checkpoint_images=5_000, snapshot_images=5_000, metrics_images=10_000)  # fmt: skip
    return cfg.replace(**{**base, **changes})
