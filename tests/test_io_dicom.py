"""The generic DICOM series reader (on the simulated Sunnybrook export) and the DICOM error paths
(pydicom's own test files)."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from cineaug import CineDataError, ReadLog, read_dicom_series
from cineaug.io.dicom import read_dicom_frame


def test_series_is_grouped_and_ordered_by_trigger_time(tmp_path, sunnybrook_root):
    files = sorted((sunnybrook_root / "dicoms" / "SCD0000101").glob("*.dcm"), key=lambda p: int(p.stem))
    shuffled = files[:]
    random.Random(0).shuffle(shuffled)
    for i, f in enumerate(shuffled):  # names carry no order
        shutil.copy(f, tmp_path / f"file{i:02d}")
    cycle, other = list(read_dicom_series(tmp_path))  # two slices, in acquisition order
    assert cycle.image.shape == other.image.shape == (20, 256, 256)
    assert np.all(np.diff(cycle.frame_times) > 0)
    first = pydicom.dcmread(files[0]).pixel_array.astype(np.float32)
    np.testing.assert_array_equal(cycle.image[0], first)
    np.testing.assert_array_equal(other.image[0], pydicom.dcmread(files[20]).pixel_array)
    assert not cycle.labeled.any() and cycle.annotated_classes == ()
    assert cycle.subject and cycle.source == "dicom"
    # where each slice lies, for 3D scores: positions along the normal, the series' slice count
    assert other.extra["slice_position_mm"] - cycle.extra["slice_position_mm"] == pytest.approx(
        cycle.slice_thickness
    )
    assert cycle.extra["native_slices"] == other.extra["native_slices"] == 2


def test_truncated_pixel_data_names_the_file():
    with pytest.raises(CineDataError, match="MR_truncated.dcm.*pixel data"):
        read_dicom_frame(get_testdata_file("MR_truncated.dcm"))


def test_not_dicom_names_the_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CineDataError, match="notes.txt.*not a readable DICOM"):
        read_dicom_frame(path)


def test_single_images_are_not_a_cine(tmp_path, caplog):
    shutil.copy(get_testdata_file("MR_small.dcm"), tmp_path / "a.dcm")
    with pytest.raises(CineDataError, match="no cine series"):
        list(read_dicom_series(tmp_path, log=ReadLog()))
    assert "not a cine series" in caplog.text


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(CineDataError, match="empty folder"):
        list(read_dicom_series(tmp_path))
    with pytest.raises(CineDataError, match="no such folder"):
        list(read_dicom_series(tmp_path / "nothing"))


def test_non_finite_pixels_are_refused(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.RescaleSlope, ds.RescaleIntercept = float("nan"), 0
    ds.save_as(tmp_path / "nan.dcm")
    with pytest.raises(CineDataError, match="nan.dcm.*NaN"):
        read_dicom_frame(tmp_path / "nan.dcm")


def test_parallel_read_matches_serial(sunnybrook_root):
    from cineaug.io.dicom import PARALLEL_MIN_FILES, read_dicom_files

    files = sorted((sunnybrook_root / "dicoms" / "SCD0000101").glob("*.dcm"))
    paths = (files * (PARALLEL_MIN_FILES // len(files) + 1))[:PARALLEL_MIN_FILES]
    serial = read_dicom_files(paths, ReadLog(), workers=1)
    parallel = read_dicom_files(paths, ReadLog(), workers=2)
    assert [f.path for f in parallel] == paths
    assert all(
        np.array_equal(a.pixels, b.pixels) and a.instance == b.instance for a, b in zip(serial, parallel)
    )
