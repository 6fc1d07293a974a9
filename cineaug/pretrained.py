"""The registry of shipped generators: ``pretrained/<name>/`` folders, checked against a manifest.

A model folder holds ``config.json`` + ``model.safetensors`` (see :mod:`cineaug.models.hub`),
``MODEL_CARD.md``, ``samples.gif`` and ``manifest.json`` (size and sha256 of every other file);
:func:`cineaug.generate.package_model` makes one from a training snapshot.
Loading verifies every file first and reads only JSON and safetensors: a tampered or truncated
file is refused with an error naming it. Media for the docs (``samples.gif``) are marked
``docs_only`` in the manifest: the wheel leaves them out, and they are checked where present.

Each shipped model's ``config.json`` carries its ``terms``: the license of the weights and, for
every data set it was trained on, that data's terms and citation (:func:`model_terms`,
:func:`catalog`, ``cineaug models``). Loading a model whose data has terms of use beyond a citation
(ACDC: research use only) says so once, with a :class:`DataTermsWarning`.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .atomic import atomic_write_json
from .errors import CineDataError
from .models.hub import CONFIG_NAME, from_pretrained, read_config

MANIFEST = "manifest.json"
DOCS_ONLY_SUFFIXES = (".gif",)
"""Files of a model folder that only the docs need: listed in the manifest, left out of the wheel."""


class DataTermsWarning(UserWarning):
    """A shipped model was trained on data whose terms restrict its use (e.g. ACDC: research only)."""


def pretrained_root() -> Path:
    """Where shipped model folders live: inside the installed wheel, or the repository's ``pretrained/``."""
    packaged = Path(str(resources.files("cineaug"))) / "_pretrained"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "pretrained"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: str | os.PathLike) -> Path:
    """Record size and sha256 of every file of a model folder in ``manifest.json``."""
    folder = Path(folder)
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        | ({"docs_only": True} if p.suffix in DOCS_ONLY_SUFFIXES else {})
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    atomic_write_json(folder / MANIFEST, {"files": files})
    return folder / MANIFEST


def verify_folder(folder: str | os.PathLike) -> None:
    """Check every file listed in the manifest (and that none is missing; a ``docs_only`` file,
    left out of the wheel, is checked where present).

    Raises:
        CineDataError: no manifest, a file missing, truncated or altered.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise CineDataError(folder, f"no {MANIFEST}: cannot verify this model folder")
    for name, want in json.loads(manifest.read_text())["files"].items():
        path = folder / name
        if not path.is_file() and want.get("docs_only"):
            continue
        if not path.is_file():
            raise CineDataError(path, "listed in the manifest but missing")
        if path.stat().st_size != want["bytes"]:
            raise CineDataError(
                path, f"{path.stat().st_size} bytes, manifest says {want['bytes']}: truncated or altered"
            )
        if _sha256(path) != want["sha256"]:
            raise CineDataError(
                path, "sha256 differs from the manifest: the file was altered; refusing to load it"
            )


def available() -> dict[str, Path]:
    """Shipped model names and their folders."""
    root = pretrained_root()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / CONFIG_NAME).is_file()}


def describe(folder: str | os.PathLike) -> str:
    """One line about a model folder (from its config)."""
    config = read_config(folder)
    args = config.get("args", {})
    size = f"{config['class']} {args.get('resolution', '?')} px"
    if "n_tissues" in args:  # a label renderer: paints given anatomy, draws none
        what = f"tissue map ({args['n_tissues']} tissues) -> image frame"
    else:
        classes = ", ".join(args.get("class_names", [])) or "unconditional"
        what = f"{args.get('frames', 20)} frames + labels; classes: {classes}"
    return f"{size}, {what}; {config.get('description', '')}".rstrip("; ")


def resolve(name_or_folder: str | os.PathLike) -> Path:
    """A registry name, a model folder or a training run folder (its newest ``snapshot-NNNNNN/``)
    -> the model folder. Every command that uses a trained generator resolves it here."""
    models = available()
    if str(name_or_folder) in models:
        return models[str(name_or_folder)]
    folder = Path(name_or_folder)
    if (folder / CONFIG_NAME).is_file():
        return folder
    snapshots = sorted(folder.glob(f"snapshot-*/{CONFIG_NAME}"))
    if snapshots:
        return snapshots[-1].parent
    known = ", ".join(models) or "none shipped"
    raise CineDataError(
        folder,
        f"neither a shipped model name ({known}), a model folder with {CONFIG_NAME}, "
        "nor a run folder with snapshot-*/ folders",
    )


def load_pretrained(
    name_or_folder: str | os.PathLike, device: str | torch.device = "cpu", verify: bool = True
) -> nn.Module:
    """A ready generator: EMA weights, eval mode, on ``device``.

    Args:
        name_or_folder: a shipped name (``cineaug models`` lists them), a folder holding
            ``config.json`` + ``model.safetensors`` (e.g. a training snapshot), or a run folder.
        device: where to put it.
        verify: check the manifest first (required for shipped models; folders without a
            manifest, such as training snapshots, load unverified).

    Example:
        >>> g = load_pretrained("progan-sim-64")                  # doctest: +SKIP
        >>> image, logits = g(torch.randn(4, g.latent_dim), torch.zeros(4, dtype=torch.long))
    """
    folder = resolve(name_or_folder)
    shipped = folder in available().values()
    if verify and (shipped or (folder / MANIFEST).is_file()):
        verify_folder(folder)
    try:
        model = from_pretrained(folder, map_location=device)
    except (ValueError, KeyError, RuntimeError, json.JSONDecodeError) as err:
        raise CineDataError(folder, f"cannot load the model ({err})") from err
    config = read_config(folder)
    model.spacing_mm = config.get("spacing_mm")  # mm per pixel of what it draws
    restricted = [d for d in _terms(config)["data"] if d.get("restricted")]
    if restricted:
        said = "; ".join(f"{d['name']}: {d['terms']} (cite {d['citation']})" for d in restricted)
        warnings.warn(f"{folder.name} was trained on {said}", DataTermsWarning, stacklevel=2)
    return model


def model_terms(name_or_folder: str | os.PathLike) -> dict[str, Any]:
    """The license of a model's weights and the terms of the data it was trained on.

    Returns:
        ``{"weights": license or None, "data": [{"name", "terms", "citation", "restricted"}, ...]}``
        from ``config.json``'s ``terms`` (a training snapshot records none: ``None`` and ``[]``).
    """
    return _terms(read_config(resolve(name_or_folder)))


def _terms(config: dict[str, Any]) -> dict[str, Any]:
    terms = config.get("terms") or {}
    return {"weights": terms.get("weights"), "data": list(terms.get("data", []))}


def catalog() -> list[dict[str, Any]]:
    """One row per shipped model: ``name``, ``kind``, ``resolution`` (px), ``data`` (what it was
    trained on), ``weights`` (their license) and ``terms`` (the data's terms, one line)."""
    rows = []
    for name, folder in available().items():
        config = read_config(folder)
        terms = _terms(config)
        rows.append(
            {
                "name": name,
                "kind": config["class"],
                "resolution": config.get("args", {}).get("resolution"),
                "data": ", ".join(d["name"] for d in terms["data"]) or "unknown",
                "weights": terms["weights"] or "unknown",
                "terms": "; ".join(f"{d['name']}: {d['terms']}" for d in terms["data"]) or "unknown",
            }
        )
    return rows


def model_info(name_or_folder: str | os.PathLike) -> dict[str, Any]:
    """The config of a model folder, with its path."""
    folder = resolve(name_or_folder)
    return {"folder": str(folder), **read_config(folder)}
