"""Use a trained generator: load it from a run or a snapshot, draw cycles with labels, write them out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
from torch import nn

from ..cache import CacheWriter
from ..models.hub import CONFIG_NAME, from_pretrained, read_config
from ..models.layers import decode_labels
from ..types import CineCycle, LabelSource
from ..viz import save_cycles_gif


def find_snapshot(path: str | os.PathLike) -> Path:
    """A model folder itself, or the newest ``snapshot-NNNNNN/`` of a run folder."""
    path = Path(path)
    if (path / CONFIG_NAME).is_file():
        return path
    snaps = sorted(path.glob("snapshot-*/" + CONFIG_NAME))
    if not snaps:
        raise FileNotFoundError(
            f"{path}: neither a model folder (config.json) nor a run with snapshot-*/ folders"
        )
    return snaps[-1].parent


def load_generator(path: str | os.PathLike, device: str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """The generator of a run (newest snapshot) or of a model folder, with its ``config.json``."""
    folder = find_snapshot(path)
    return from_pretrained(folder, device), read_config(folder)


@torch.no_grad()
def generate_cycles(
    g: nn.Module, n: int, pathology: str | None = None, seed: int = 0, batch: int = 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` cycles at the generator's full resolution.

    Args:
        g: a generator from :func:`load_generator`.
        n: number of cycles.
        pathology: class name to condition on; None draws classes uniformly (if conditional).
        seed: seeds z and the classes.
        batch: cycles per forward pass.

    Returns:
        images float32 ``[N,T,H,W]`` in [-1, 1], labels uint8 ``[N,T,H,W]``, class indices ``[N]``.
    """
    gen = torch.Generator().manual_seed(seed)
    names = list(g.class_names)
    if pathology is not None and pathology not in names:
        raise ValueError(
            f"pathology {pathology!r} unknown to this model; it knows {names or 'none (unconditional)'}"
        )
    classes = (
        torch.full((n,), names.index(pathology))
        if pathology is not None
        else torch.randint(max(len(names), 1), (n,), generator=gen)
    )
    dev = next(g.parameters()).device
    images, labels = [], []
    for i in range(0, n, batch):
        z = torch.randn(min(batch, n - i), g.latent_dim, generator=gen)  # [B,Z]
        c = classes[i : i + len(z)].to(dev) if names else None
        img, logits = g(z.to(dev), c)
        images.append(img.float().clamp(-1, 1).cpu().numpy())
        labels.append(decode_labels(logits, g.annotated_classes).cpu().numpy())
    return np.concatenate(images).astype(np.float32), np.concatenate(labels), classes.numpy()


def to_cine_cycles(
    images: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    names: list[str],
    spacing_mm: float,
    model: str,
) -> list[CineCycle]:
    """Generated arrays as contract cycles (source "generator", every frame labelled by the generator)."""
    t = images.shape[1]
    return [
        CineCycle(
            image=images[i],
            label=labels[i],
            labeled=np.ones(t, bool),
            spacing=(spacing_mm, spacing_mm),
            source="generator",
            subject=f"gen{i:05d}",
            pathology=names[classes[i]] if names else "unknown",
            label_source=np.full(t, LabelSource.GENERATED, np.uint8),
            extra={"model": model},
        )  # fmt: skip
        for i in range(len(images))
    ]


def write_nifti(path: Path, cycle: CineCycle) -> None:
    """``<subject>_image.nii.gz`` and ``<subject>_label.nii.gz`` as ``[W,H,1,T]`` volumes, in the
    project's NIfTI convention ``data[col, row, z, t] = image[t][row, col]`` (what ``read_nifti`` reads)."""
    row_mm, col_mm = cycle.spacing
    affine = np.diag([col_mm, row_mm, 1.0, 1.0])
    for name, arr in (("image", cycle.image), ("label", cycle.label)):
        vol = np.transpose(arr, (2, 1, 0))[:, :, None, :]  # [W,H,1,T]
        nib.save(nib.Nifti1Image(np.ascontiguousarray(vol), affine), path / f"{cycle.subject}_{name}.nii.gz")


def write_samples(
    cycles: list[CineCycle], out: Path, formats: tuple[str, ...] = ("gif", "nifti", "cache")
) -> None:
    """Write ``samples.gif`` (all cycles, labels overlaid), ``nifti/`` and ``cache/`` (a CycleDataset)."""
    out.mkdir(parents=True, exist_ok=True)
    if "gif" in formats:
        save_cycles_gif(out / "samples.gif", [c.image for c in cycles[:32]], [c.label for c in cycles[:32]])
    if "nifti" in formats:
        (out / "nifti").mkdir(exist_ok=True)
        for c in cycles:
            write_nifti(out / "nifti", c)
    if "cache" in formats:
        with CacheWriter(out / "cache", source="generator") as w:
            for c in cycles:
                w.add(c)
