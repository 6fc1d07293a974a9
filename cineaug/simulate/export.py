"""Write simulated cycles as an ACDC-layout tree (readable by :func:`cineaug.io.read_acdc`).

Layout of subject ``i`` (``NNN = i + 1``, zero-padded to 3 digits)::

    patientNNN/Info.cfg                      ED: 1, ES: k (1-based), Group, Height, NbFrame, Weight
    patientNNN/patientNNN_4d.nii.gz          int16 (X, Y, 1, T), zooms (px, px, slice_mm, frame_ms)
    patientNNN/patientNNN_frameFF.nii.gz     ED and ES images (X, Y, 1)
    patientNNN/patientNNN_frameFF_gt.nii.gz  their labels, uint8 0 bg, 1 RV, 2 myo, 3 LV
    patientNNN/ground_truth.json             the simulator's ``extra`` (targets, areas, parameters)

Axis convention: NIfTI ``data[x, y, z, t]`` with x = image column and y = image row, i.e.
``image[t][row, col] == data[col, row, z, t]``. Images are int16 scaled as the simulator emits them
(99th percentile 300-3000, spec 7.7).
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

from ..types import CineCycle


def to_nifti_array(frames: np.ndarray) -> np.ndarray:
    """``[T,H,W]`` -> ``[W,H,1,T]`` (x = column, y = row)."""
    return np.ascontiguousarray(frames.transpose(2, 1, 0)[:, :, None, :])


def _height_weight(bsa: float, sex: str) -> tuple[float, float]:
    """Height (cm) and weight (kg) consistent with the BSA (Mosteller: BSA = sqrt(h * w / 3600))."""
    height = (176.0 if sex == "M" else 163.0) + 20.0 * (bsa - 1.9)
    return height, 3600.0 * bsa**2 / height


def write_acdc_patient(root: str | Path, cycle: CineCycle) -> Path:
    """Write one simulated cycle as ``root/patientNNN`` (N from the subject index) and return the folder."""
    params = cycle.extra["params"]
    index = params["index"] if params["index"] is not None else 0
    name = f"patient{index + 1:03d}"
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    px, slice_mm = cycle.spacing[0], float(cycle.slice_thickness or 8.0)
    frame_ms = float(np.mean(np.diff(cycle.frame_times))) if cycle.n_frames > 1 else 1.0
    affine = np.diag([px, px, slice_mm, 1.0])
    image = np.clip(np.rint(cycle.image), 0, np.iinfo(np.int16).max).astype(np.int16)  # [T,H,W]

    def save(data: np.ndarray, file: str, zooms: tuple[float, ...]) -> None:
        img = nib.Nifti1Image(data, affine)
        img.header.set_zooms(zooms)
        img.header.set_xyzt_units("mm", "msec")
        nib.save(img, folder / file)

    save(to_nifti_array(image), f"{name}_4d.nii.gz", (px, px, slice_mm, frame_ms))
    ed, es = cycle.ed_frame, cycle.es_frame
    for f in (ed, es):
        save(to_nifti_array(image[f : f + 1])[..., 0], f"{name}_frame{f + 1:02d}.nii.gz", (px, px, slice_mm))
        save(
            to_nifti_array(cycle.label[f : f + 1])[..., 0],
            f"{name}_frame{f + 1:02d}_gt.nii.gz",
            (px, px, slice_mm),
        )
    height, weight = _height_weight(params["bsa"], params["sex"])
    (folder / "Info.cfg").write_text(
        f"ED: {ed + 1}\nES: {es + 1}\nGroup: {cycle.pathology}\nHeight: {height:.1f}\n"
        f"NbFrame: {cycle.n_frames}\nWeight: {weight:.1f}\n"
    )
    (folder / "ground_truth.json").write_text(json.dumps(cycle.extra))
    return folder
