"""Save and load models as ``config.json`` + ``model.safetensors`` (the diffusers layout).

``config.json`` records the class name (looked up in :data:`MODELS`, never exec'd), the constructor
arguments and the cineaug version; ``model.safetensors`` holds the state dict. Loading rebuilds the
class and never unpickles code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from .._version import __version__
from ..atomic import atomic_write_bytes, atomic_write_json
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .progan import ProGANDiscriminator, ProGANGenerator
from .renderer import LabelRenderer, RendererDiscriminator

MODELS: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (
        ProGANGenerator,
        ProGANDiscriminator,
        DCGANGenerator,
        DCGANDiscriminator,
        LabelRenderer,
        RendererDiscriminator,
    )
}
"""Registry of loadable model classes by name."""

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"


def build_model(class_name: str, args: dict[str, Any]) -> nn.Module:
    """Instantiate a registered class from its JSON constructor arguments (lists become tuples)."""
    if class_name not in MODELS:
        raise ValueError(f"unknown model class {class_name!r}; known: {sorted(MODELS)}")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    return MODELS[class_name](**args)


def state_to_cpu(module: nn.Module) -> dict[str, torch.Tensor]:
    """A contiguous CPU copy of the state dict (what safetensors stores)."""
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_pretrained(model: nn.Module, folder: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
    """Write ``folder/config.json`` and ``folder/model.safetensors`` (both atomically).

    Args:
        model: a registered model; its ``config`` holds its constructor arguments
            (:func:`~cineaug.models.config.records_config`).
        folder: output folder (created).
        extra: JSON facts to keep beside the config (e.g. images seen, training preset).
    """
    folder = Path(folder)
    name = type(model).__name__
    if name not in MODELS:
        raise ValueError(f"{name} is not in the model registry")
    atomic_write_bytes(folder / WEIGHTS_NAME, st_save(state_to_cpu(model)))
    config = {"class": name, "args": model.config, "cineaug_version": __version__, **(extra or {})}
    atomic_write_json(folder / CONFIG_NAME, config)
    return folder


def read_config(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``config.json`` of a saved model folder."""
    return json.loads((Path(folder) / CONFIG_NAME).read_text())


def from_pretrained(folder: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model saved by :func:`save_pretrained`, in eval mode.

    Example:
        >>> g = from_pretrained("runs/r0/snapshot-012000")  # doctest: +SKIP
    """
    config = read_config(folder)
    model = build_model(config["class"], config["args"])
    state = st_load((Path(folder) / WEIGHTS_NAME).read_bytes())
    model.load_state_dict(state)
    return model.to(map_location).eval()


def weights_digest(module: nn.Module) -> str:
    """``sha256:`` of a module's state (names, shapes, values): which renderer painted a bank."""
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
    return "sha256:" + h.hexdigest()
