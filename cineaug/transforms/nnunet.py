"""Synthetic cases for nnU-Net v2: frames of synthetic cycles written into a raw dataset folder.

nnU-Net trains from files (``imagesTr/<case>_0000.nii.gz``, ``labelsTr/<case>.nii.gz`` and
``dataset.json``), not from a transform, so the synthetic samples are drawn ahead, the way the
augmenter draws them (:class:`~cineaug.transforms.SyntheticCycleAugmenter`: the same label sources
and appearances), one frame per case, as a one-slice volume at the bank's spacing (nnU-Net resamples
to its own plan). An existing dataset keeps its cases; ``dataset.json``'s ``numTraining`` counts the
new ones, whose labels must be the dataset's (cineaug writes ACDC's 0 background, 1 RV, 2 myocardium,
3 LV cavity).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
from tqdm.auto import tqdm

from ..atomic import atomic_write_json
from ..errors import CineDataError
from ..generate import SyntheticBank
from ..types import LV
from .synthetic import APPEARANCES, SyntheticCycleAugmenter

ACDC_LABELS = {"background": 0, "RV": 1, "MLV": 2, "LVC": 3}
"""nnU-Net's ``labels`` for ACDC's classes (the names of nnU-Net's own ACDC dataset, Dataset027)."""
SLICE_MM = 10.0
"""Slice thickness written for a one-slice case (ACDC's slices are 5-10 mm apart)."""


def _dataset_json(folder: Path, name: str) -> dict:
    """The dataset's ``dataset.json``, or a new one for cine MRI with ACDC's labels; refuses labels
    that do not name ACDC's classes with ACDC's values."""
    path = folder / "dataset.json"
    if not path.is_file():
        return {"channel_names": {"0": "cineMRI"}, "labels": dict(ACDC_LABELS), "numTraining": 0,
                "file_ending": ".nii.gz", "name": name}  # fmt: skip
    meta = json.loads(path.read_text())
    values = sorted(int(v) for v in meta.get("labels", {}).values() if not isinstance(v, list))
    if values != [0, 1, 2, 3]:
        raise CineDataError(
            path, f"labels {meta.get('labels')}: synthetic cases carry ACDC's 0-3 (RV, MLV, LVC)"
        )
    if len(meta.get("channel_names", {})) != 1 or meta.get("file_ending") != ".nii.gz":
        raise CineDataError(path, "synthetic cases are one channel of .nii.gz: this dataset is not")
    return meta


def _save(path: Path, frame: np.ndarray, spacing: tuple[float, float], dtype: type) -> None:
    """``frame`` ``[H,W]`` as a one-slice NIfTI volume ``[W,H,1]`` (x = column, y = row, as cineaug's
    readers read NIfTI), spacing (col, row, :data:`SLICE_MM`) mm."""
    row_mm, col_mm = spacing
    affine = np.diag([col_mm, row_mm, SLICE_MM, 1.0])
    img = nib.Nifti1Image(np.ascontiguousarray(frame.T[:, :, None]).astype(dtype), affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, path)


def export_nnunet(
    bank: str | os.PathLike | SyntheticBank,
    out: str | os.PathLike,
    n: int,
    frames: Sequence[str] = ("ed", "es"),
    appearance: str = "gmm-bssfp",
    prefix: str = "cineaug",
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Write ``n`` synthetic cycles' frames as nnU-Net v2 training cases into ``out``.

    Args:
        bank: cycles with labels to draw from (``cineaug simulate``, ``sample`` or ``render``).
        out: an nnU-Net raw dataset folder (``nnUNet_raw/DatasetNNN_Name``), existing or new.
        n: synthetic cycles drawn (each gives one case per frame of ``frames``).
        frames: ``"ed"`` (frame 0), ``"es"`` (the frame of the smallest LV cavity), ``"all"``.
        appearance: as :class:`~cineaug.transforms.SyntheticCycleAugmenter` (the recommended
            recipe paints simulator anatomy with ``"gmm-bssfp"``).
        prefix: case names are ``<prefix>_<NNNN>``; existing cases of that name are refused.
        seed: seeds the draws and the appearance.

    Returns:
        ``out``.
    """
    if appearance not in APPEARANCES:
        raise ValueError(f"appearance must be one of {APPEARANCES}, got {appearance!r}")
    if not set(frames) <= {"ed", "es", "all"} or not frames:
        raise ValueError(f"frames must be among ed, es, all; got {list(frames)}")
    out = Path(out)
    meta = _dataset_json(out, out.name)
    images, labels = out / "imagesTr", out / "labelsTr"
    if any(images.glob(f"{prefix}_*")) or any(labels.glob(f"{prefix}_*")):
        raise CineDataError(out, f"already holds {prefix}_* cases: remove them or choose another --prefix")
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    source = bank if isinstance(bank, SyntheticBank) else SyntheticBank(bank)
    spacing = (source.spacing_mm, source.spacing_mm) if source.spacing_mm else (1.0, 1.0)
    draw = SyntheticCycleAugmenter(bank=source, prob=1.0, appearance=appearance, intensity="keep")
    draw.set_random_state(seed)
    t_frames, *size = source.read(0)[0].shape  # [T,H,W] of the bank's cycles
    written = 0
    for _ in tqdm(range(n), desc="nnU-Net cases", unit="cycle", disable=not progress):
        draw.randomize()
        image, label = draw.synthetic(t_frames, tuple(size), spacing=spacing)  # [T,H,W]
        es = int(np.argmin((label.numpy() == LV).reshape(len(label), -1).sum(1)))  # smallest LV cavity
        chosen = range(len(label)) if "all" in frames else sorted({0 if f == "ed" else es for f in frames})
        for t in chosen:
            case = f"{prefix}_{written:04d}"
            _save(images / f"{case}_0000.nii.gz", image[t].numpy(), spacing, np.float32)
            _save(labels / f"{case}.nii.gz", label[t].numpy(), spacing, np.uint8)
            written += 1
    meta["numTraining"] = int(meta.get("numTraining", 0)) + written
    meta.setdefault("cineaug", {})[prefix] = {
        "cases": written,
        "bank": str(source.root),
        "appearance": appearance,
        "frames": list(frames),
        "seed": seed,
    }  # what wrote the synthetic cases (nnU-Net reads only its own keys)
    atomic_write_json(out / "dataset.json", meta)
    return out
