"""Write simulated cycles in real data sets' layouts: ACDC (:func:`write_acdc_patient`, readable by
:func:`cineaug.io.read_acdc`) and the Sunnybrook "Arterys" subset (:func:`write_sunnybrook_patient`,
readable by :func:`cineaug.io.read_sunnybrook`), so that readers are tested end to end on data the
project owns.

ACDC layout of subject ``i`` (``NNN = i + 1``, zero-padded to 3 digits)::

    patientNNN/Info.cfg                      ED: 1, ES: k (1-based), Group, Height, NbFrame, Weight
    patientNNN/patientNNN_4d.nii.gz          int16 (X, Y, 1, T), zooms (px, px, slice_mm, frame_ms)
    patientNNN/patientNNN_frameFF.nii.gz     ED and ES images (X, Y, 1)
    patientNNN/patientNNN_frameFF_gt.nii.gz  their labels, uint8 0 bg, 1 RV, 2 myo, 3 LV
    patientNNN/ground_truth.json             the simulator's ``extra`` (targets, areas, parameters)

Sunnybrook layout: see :func:`write_sunnybrook_patient`.

Axis convention: NIfTI ``data[x, y, z, t]`` with x = image column and y = image row, i.e.
``image[t][row, col] == data[col, row, z, t]`` (:func:`cineaug.io.nifti.to_nifti_array`). Images
are int16 scaled as the simulator emits them (a subject gain puts the 99th percentile log-uniform in
300-3000, the range of scanner magnitude images; see docs/simulator.md).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from skimage.measure import find_contours

from ..io.nifti import to_nifti_array
from ..io.sunnybrook import PATHOLOGY_NAMES
from ..types import LV, MYO, CineCycle


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


def write_sunnybrook_patient(
    root: str | Path,
    slices: Sequence[CineCycle],
    patient_id: str = "SCD0000101",
    original_id: str = "SC-HF-I-1",
    contoured: Sequence[int] | None = None,
    ed_at: int = 0,
) -> Path:
    """Write simulated slices as one patient of the Sunnybrook "Arterys" subset.

    Layout (rows are appended to the two tables, which are created with their headers)::

        root/link.csv                     patient_id,original_id
        root/scd_patientdata.csv          PatientID,OriginalID,Gender,Age,Pathology (UTF-8 with BOM)
        root/dicoms/<patient_id>/N.dcm    int16 MR images, N = slice * T + frame + 1 (1-based)
        root/contourfiles/<original_id>/i-contours/IM-0001-NNNN-icontour-manual.txt   LV cavity
        root/contourfiles/<original_id>/o-contours/IM-0001-NNNN-ocontour-manual.txt   epicardium

    As in the real data, contours are drawn at ED (endo- and epicardium) and ES (endocardium only),
    one ``x y`` pair per line (x = column, y = row, pixels), from the simulator's exact labels.

    Args:
        root: the data set folder.
        slices: raw simulated cycles ``[T,H,W]`` (ED at frame 0, ``es_frame`` set), one per slice,
            all with the same T, shape and spacing.
        patient_id, original_id: the two names of the patient (``SC-<group>-<n>``: the group is read
            as the pathology).
        contoured: indices of the slices that get contours (default: all).
        ed_at: frame at which ED is written (the real cines start 1-2 frames after ED: 18-19).

    Returns:
        The patient's DICOM folder.
    """
    root = Path(root)
    series = root / "dicoms" / patient_id
    series.mkdir(parents=True, exist_ok=True)
    contours = root / "contourfiles" / original_id
    uid = generate_uid()
    t = slices[0].n_frames
    for z, cycle in enumerate(slices):
        image = np.roll(np.clip(np.rint(cycle.image), 0, np.iinfo(np.int16).max).astype(np.int16), ed_at, 0)
        label = np.roll(cycle.label, ed_at, 0)  # [T,H,W]
        step = float(cycle.frame_times[1]) if cycle.frame_times is not None else 40.0  # ms per frame
        for k in range(t):
            number = z * t + k + 1
            _dicom(image[k], cycle, patient_id, uid, number, z, k * step).save_as(
                series / f"{number}.dcm", enforce_file_format=True
            )
        if contoured is None or z in contoured:
            ed, es = ed_at % t, (cycle.es_frame + ed_at) % t
            _write_contour(contours / "i-contours", z * t + ed + 1, "i", label[ed] == LV)
            _write_contour(contours / "o-contours", z * t + ed + 1, "o", np.isin(label[ed], (MYO, LV)))
            _write_contour(contours / "i-contours", z * t + es + 1, "i", label[es] == LV)
    long_names = {short: long for long, short in PATHOLOGY_NAMES.items()}
    group = original_id.split("-", 1)[1].rsplit("-", 1)[0]
    _append_row(root / "link.csv", ["patient_id", "original_id"], [patient_id, original_id], "utf-8")
    _append_row(
        root / "scd_patientdata.csv",
        ["PatientID", "OriginalID", "Gender", "Age", "Pathology"],
        [patient_id, original_id, "Male", "60", long_names.get(group, "Normal").capitalize()],
        "utf-8-sig",
    )
    return series


def _dicom(
    pixels: np.ndarray, cycle: CineCycle, patient: str, series_uid: str, number: int, z: int, trigger: float
) -> pydicom.Dataset:
    """One 2D MR image ``[H,W]`` int16 with the header fields a cine reader uses."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.SeriesInstanceUID, ds.SeriesNumber = "MR", patient, series_uid, 1
    ds.InstanceNumber, ds.TriggerTime, ds.CardiacNumberOfImages = number, round(trigger, 2), cycle.n_frames
    thickness = float(cycle.slice_thickness or 8.0)
    ds.SliceThickness, ds.SliceLocation = thickness, z * thickness
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, z * thickness], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [round(v, 6) for v in cycle.spacing]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = np.ascontiguousarray(pixels, "<i2").tobytes()
    return ds


def _write_contour(folder: Path, number: int, kind: str, mask: np.ndarray) -> None:
    """The outline of ``mask`` ``[H,W]`` as ``IM-0001-NNNN-{kind}contour-manual.txt`` (``x y`` lines)."""
    outline = max(find_contours(mask.astype(np.float32), 0.5), key=len)[:-1]  # (row, col), open polygon
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{col:.2f} {row:.2f}\n" for row, col in outline)
    (folder / f"IM-0001-{number:04d}-{kind}contour-manual.txt").write_text(lines)


def _append_row(path: Path, header: list[str], row: list[str], encoding: str) -> None:
    new = not path.is_file()
    with open(path, "a", newline="", encoding="utf-8" if not new else encoding) as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(header)
        writer.writerow(row)
