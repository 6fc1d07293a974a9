"""Fine-tuning: start a run from the weights of another run (``init_from``, ``class_map``).

G, D and the EMA generator are loaded from the newest training state of the source run, or from a
model folder shipped with its discriminator (``--init-from render-sim-64``: G and the EMA generator
from its EMA weights); the optimizers, the image count and the ADA strength start afresh. The
networks keep the source's pathology classes, onto which the data's pathology names are mapped
(e.g. Sunnybrook ``HF-I`` -> ACDC ``MINF``), so a fine-tuned generator is conditioned like the one
it came from.

Growing: a source of a lower resolution than the run (``--set resolution=128`` on a 64 px renderer,
with ``--set stable_images=0`` to fade the new block in at once) loads into the lower blocks of the
bigger networks; the new blocks (``<part>.<res>.*`` above the source's resolutions) keep their
fresh weights and fade in as ProGAN's do.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..atomic import atomic_write_bytes, atomic_write_json
from ..errors import CineDataError
from ..models.hub import CONFIG_NAME, WEIGHTS_NAME, read_config, state_to_cpu
from ..pretrained import MANIFEST, available, resolve, verify_folder
from .config import TrainConfig
from .state import latest_training_state, load_modules, load_training_state

OPTIONS = "options.json"
D_CONFIG, D_WEIGHTS = "discriminator.json", "discriminator.safetensors"
"""A model folder that can be fine-tuned ships its discriminator beside the generator."""


def source_state(init_from: str | Path) -> Path:
    """What ``init_from`` names: a run folder (its newest training-state JSON), a training-state JSON,
    or a model folder shipped with its discriminator (a registry name, e.g. ``render-sim-64``)."""
    path = Path(init_from).expanduser()
    if path.is_dir() and latest_training_state(path) is not None:
        return latest_training_state(path)
    if path.suffix == ".json" and path.is_file():
        return path
    if str(init_from) in available() or (path / CONFIG_NAME).is_file():
        folder = resolve(init_from)
        if not (folder / D_CONFIG).is_file() or not (folder / D_WEIGHTS).is_file():
            raise CineDataError(
                folder, "init_from: this model folder has no discriminator (shipped without one; for a "
                "training snapshot, pass its run folder)",
            )  # fmt: skip
        return folder
    if path.is_dir():
        raise CineDataError(path, "init_from: no complete training state in this run folder")
    raise CineDataError(
        path, "init_from: not a run folder, a training-state .json file or a model with its discriminator"
    )


def export_discriminator(run: str | Path, folder: str | Path) -> Path:
    """Write the newest discriminator of ``run`` beside a model folder's generator
    (``discriminator.json`` + ``discriminator.safetensors``, then the manifest again), so that
    ``--init-from`` the model fine-tunes G, D and the EMA generator like a run would. Package the
    run's last snapshot: its generator and this discriminator are then from the same step."""
    from ..pretrained import write_manifest
    from .step import build_networks

    state = source_state(run)
    options = json.loads((state.parent / OPTIONS).read_text())
    cfg = TrainConfig.from_dict(options["config"])
    tensors, _ = load_training_state(state)
    _, d = build_networks(cfg, tuple(options["class_names"]), tuple(options["annotated_classes"]))
    load_modules(tensors, {"D": d})
    folder = Path(folder)
    atomic_write_bytes(folder / D_WEIGHTS, st_save(state_to_cpu(d)))
    atomic_write_json(folder / D_CONFIG, {"class": type(d).__name__, "args": d.config})
    write_manifest(folder)
    return folder


def _load_model_folder(folder: Path, modules: dict[str, nn.Module]) -> int:
    """G and G_ema from a model folder's generator, D from its discriminator; the images it had seen."""
    if (folder / MANIFEST).is_file():
        verify_folder(folder)
    g_state = st_load((folder / WEIGHTS_NAME).read_bytes())
    load_grown(modules["G"], g_state)
    load_grown(modules["G_ema"], g_state)
    load_grown(modules["D"], st_load((folder / D_WEIGHTS).read_bytes()))
    return int(read_config(folder).get("images_seen", 0))


def _resolution_of(key: str) -> int | None:
    """The resolution a parameter belongs to (``blocks.128.conv0.weight`` -> 128), None if unnamed."""
    parts = key.split(".")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None


def load_grown(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load ``state`` into ``module``, which may be the same network grown to higher resolutions.

    Raises:
        RuntimeError: a parameter of ``state`` that ``module`` lacks, a shape that differs, or a
            missing parameter that is not of a resolution above all of the source's.
    """
    source_top = max((r for k in state if (r := _resolution_of(k)) is not None), default=0)
    result = module.load_state_dict(state, strict=False)
    stray = [k for k in result.missing_keys if (_resolution_of(k) or 0) <= source_top]
    if result.unexpected_keys or stray:
        raise RuntimeError(
            f"parameters the source has but this network lacks: {result.unexpected_keys[:4]}; "
            f"missing below the source's resolution {source_top}: {stray[:4]}"
        )


def source_class_names(state: Path) -> tuple[str, ...]:
    """The pathology classes the source run conditioned on (from its ``options.json``)."""
    if state.is_dir():  # a model folder
        return tuple(read_config(state)["args"].get("class_names", ()))
    options = state.parent / OPTIONS
    try:
        return tuple(json.loads(options.read_text())["class_names"])
    except (OSError, KeyError, json.JSONDecodeError) as err:
        raise CineDataError(options, f"init_from: cannot read the source run's class names ({err})") from err


def load_initial_weights(state: Path, modules: dict[str, nn.Module]) -> int:
    """Load G, D and G_ema from ``state``; returns the images the source had seen."""
    try:
        if state.is_dir():
            return _load_model_folder(state, modules)
        tensors, meta = load_training_state(state)
        for name, module in modules.items():
            prefix = name + "."
            load_grown(module, {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    except (ValueError, RuntimeError, OSError) as err:
        raise CineDataError(
            state, f"init_from: the networks do not match this run's configuration "
            f"(use the source run's arch, latent_dim, fmap_base, fmap_max, and its resolution or a higher "
            f"one): {err}",
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
    options = state / CONFIG_NAME if state.is_dir() else state.parent / OPTIONS
    try:
        saved = json.loads(options.read_text())
        cfg = TrainConfig.from_dict(saved["training"] if state.is_dir() else saved["config"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise CineDataError(
            options, f"init_from: cannot read the source run's configuration ({err})"
        ) from err
    base = dict(init_from=str(init_from), start_res=cfg.resolution, total_images=20_000, subjects=(),
                checkpoint_images=5_000, snapshot_images=5_000, metrics_images=10_000)  # fmt: skip
    return cfg.replace(**{**base, **changes})
