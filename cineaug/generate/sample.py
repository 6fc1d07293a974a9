"""Draw cycles with labels from a trained generator and write them out (a bank, GIFs, NIfTI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..cache import CacheWriter
from ..io.nifti import to_nifti_array
from ..models.hub import read_config
from ..precision import resolve_precision
from ..pretrained import load_pretrained, resolve
from ..types import CineCycle, LabelSource
from ..viz import save_cycles_gif
from .pool import run_generator


def generate_cycles(
    g: nn.Module,
    n: int,
    pathology: str | None = None,
    seed: int = 0,
    batch: int = 32,
    precision: str = "auto",
    progress: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Draw ``n`` cycles at the generator's full resolution, ``batch`` at a time.

    Args:
        g: a generator from :func:`~cineaug.pretrained.load_pretrained`.
        n: number of cycles.
        pathology: class name to condition on; None draws classes uniformly (if conditional).
        seed: seeds z and the classes.
        batch: cycles per forward pass.
        precision: ``"auto"``, ``"bf16"`` or ``"fp32"`` (see :mod:`cineaug.precision`).
        progress: show a progress bar.

    Yields:
        per batch: images float32 ``[B,T,H,W]`` in [-1, 1], labels uint8 ``[B,T,H,W]``, class indices ``[B]``.
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
    device = next(g.parameters()).device
    if device.type == "cpu":
        g.to(memory_format=torch.channels_last)
    return _batches(g, gen, classes, batch, resolve_precision(precision, device), progress)


def _batches(
    g: nn.Module, gen: torch.Generator, classes: torch.Tensor, batch: int, precision: str, progress: bool
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    n = len(classes)
    with tqdm(total=n, desc="sampling", unit="cycle", disable=not progress) as bar:
        for i in range(0, n, batch):
            z = torch.randn(min(batch, n - i), g.latent_dim, generator=gen)  # [B,Z]
            c = classes[i : i + len(z)] if g.class_names else None
            image, label = run_generator(g, z, c, precision)
            bar.update(len(z))
            yield image.numpy(), label.numpy(), classes[i : i + len(z)].numpy()


def draw_cycles(
    g: nn.Module, n: int, pathology: str | None = None, seed: int = 0, precision: str = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All of :func:`generate_cycles` at once: images ``[N,T,H,W]``, labels ``[N,T,H,W]``, classes ``[N]``."""
    parts = list(generate_cycles(g, n, pathology, seed, precision=precision))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def to_cine_cycles(
    images: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    names: list[str],
    spacing_mm: float,
    model: str,
    first: int = 0,
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
            subject=f"gen{first + i:05d}",
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
        vol = to_nifti_array(arr)  # [W,H,1,T]
        nib.save(nib.Nifti1Image(vol, affine), path / f"{cycle.subject}_{name}.nii.gz")


def write_bank(
    source: str | os.PathLike,
    out: str | os.PathLike,
    n: int,
    pathology: str | None = None,
    seed: int = 0,
    batch: int = 32,
    precision: str = "auto",
    formats: tuple[str, ...] = ("cache", "gif"),
    progress: bool = True,
) -> Path:
    """Sample ``n`` cycles of a trained generator into ``out``, streaming (memory stays one batch).

    Writes, by ``formats``: ``cache`` (``out/dataset.json`` + ``out/cycles/``: a prepared cache that
    :class:`~cineaug.data.CycleDataset` reads and :class:`~cineaug.generate.SyntheticBank` draws from),
    ``gif`` (``out/samples.gif``, the first 32 cycles with labels overlaid), ``nifti``
    (``out/nifti/<subject>_{image,label}.nii.gz``).

    Args:
        source: a shipped model name, a model folder or a run folder (newest snapshot).
        out: the folder to write.

    Returns:
        ``out``.
    """
    folder = resolve(source)
    g = load_pretrained(folder)
    config = read_config(folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(g.class_names)
    info = {
        "model": str(source),
        "class_names": names,
        "annotated_classes": list(g.annotated_classes),
        "seed": seed,
        "pathology": pathology,
        "precision": resolve_precision(precision, next(g.parameters()).device),
    }
    writer = CacheWriter(out, source="generator", info=info) if "cache" in formats else None
    if "nifti" in formats:
        (out / "nifti").mkdir(exist_ok=True)
    shown: list[CineCycle] = []
    done = 0
    for images, labels, classes in generate_cycles(g, n, pathology, seed, batch, precision, progress):
        cycles = to_cine_cycles(
            images, labels, classes, names, config.get("spacing_mm", 1.0), str(source), done
        )
        done += len(cycles)
        shown.extend(cycles[: 32 - len(shown)])
        for c in cycles:
            if writer is not None:
                writer.add(c)
            if "nifti" in formats:
                write_nifti(out / "nifti", c)
    if writer is not None:
        writer.close()
    if "gif" in formats:
        save_cycles_gif(out / "samples.gif", [c.image for c in shown], [c.label for c in shown])
    return out
