"""Export a shipped generator as a MONAI bundle, for model-zoo users.

Layout written::

    OUT/configs/metadata.json     MONAI bundle metadata (versions, task, input/output formats)
    OUT/configs/inference.json    network_def with the constructor arguments
    OUT/models/model.pt           the state dict (tensors only: loads with weights_only=True)
    OUT/models/model.safetensors  the same weights as safetensors
    OUT/docs/README.md            the model card
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import monai
import numpy as np
import torch

from ._version import __version__
from .atomic import atomic_write_json
from .models.hub import WEIGHTS_NAME, read_config
from .pretrained import load_pretrained, resolve


def export_bundle(name_or_folder: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write a MONAI bundle of a model folder or shipped model; returns ``out``."""
    folder = resolve(name_or_folder)
    model = load_pretrained(folder)
    config = read_config(folder)
    args = config["args"]
    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / "models" / "model.pt")
    shutil.copy(folder / WEIGHTS_NAME, out / "models" / WEIGHTS_NAME)
    t, k, res = args.get("frames", 20), args.get("n_labels", 4), args["resolution"]
    metadata = {
        "version": __version__,
        "changelog": {__version__: "exported from cineaug"},
        "monai_version": monai.__version__,
        "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": np.__version__,
        "required_packages_version": {"cineaug": __version__},
        "task": "Generation of cine cardiac MRI cycles (short axis) with their segmentation labels",
        "description": config.get("description", ""),
        "authors": "cineaug developers",
        "copyright": "Apache-2.0",
        "network_data_format": {
            "inputs": {
                "z": {"type": "vector", "format": "latent", "num_channels": args["latent_dim"]},
                "c": {"type": "index", "format": "class", "class_names": args.get("class_names", [])},
            },
            "outputs": {
                "image": {
                    "type": "image", "format": "magnitude", "num_channels": t, "spatial_shape": [res, res],
                    "value_range": [-1, 1], "channel_def": {str(i): f"frame {i}" for i in range(t)},
                },
                "label_logits": {
                    "type": "image", "format": "segmentation", "num_channels": t * k,
                    "spatial_shape": [res, res],
                    "channel_def": {"0": "background", "1": "RV", "2": "myocardium", "3": "LV cavity"},
                },
            },
        },
    }  # fmt: skip
    atomic_write_json(out / "configs" / "metadata.json", metadata)
    module = type(model).__module__
    inference = {
        "imports": ["$import cineaug"],
        "network_def": {"_target_": f"{module}.{config['class']}", **args},
        "network": "$@network_def.eval()",
    }
    atomic_write_json(out / "configs" / "inference.json", inference)
    card = folder / "MODEL_CARD.md"
    (out / "docs").mkdir(exist_ok=True)
    (out / "docs" / "README.md").write_text(card.read_text() if card.is_file() else f"# {folder.name}\n")
    return out
