"""Tests of the shared NIfTI core and read_nifti: orientation, spacing, frame times, labels, bad input."""

import os
import re

import nibabel as nib
import numpy as np
import pytest

from cineaug.errors import CineDataError
from cineaug.io.nifti import read_nifti
from cineaug.types import LV, RV, LabelSource

FUNCTIONAL = os.path.join(os.path.dirname(nib.__file__), "tests", "data", "functional.nii")
SHAPE = (16, 12, 3, 13)  # X, Y, Z, T


def save(path, data, zooms=(1.5, 1.25, 8.0, 30.0), time_unit="msec", dtype=np.float32):
    img = nib.Nifti1Image(np.asarray(data, dtype), np.eye(4))
    img.header.set_zooms(zooms[: np.ndim(data)])
    img.header.set_xyzt_units("mm", time_unit)
    nib.save(img, path)
    return path


def ramp():
    """Voxel value encodes its index: 1000 x + 100 y + 10 z + t."""
    x, y, z, t = np.indices(SHAPE)
    return (1000 * x + 100 * y + 10 * z + t).astype(np.float32)


def raises_naming(path):
    return pytest.raises(CineDataError, match=re.escape(str(path)))


def test_functional_nii_one_cycle_per_slice():
    expected = nib.load(FUNCTIONAL).get_fdata(dtype=np.float32)  # (17, 21, 3, 20)
    cycles = list(read_nifti(FUNCTIONAL))
    assert [c.slice_index for c in cycles] == [0, 1, 2]
    assert [c.extra["native_slices"] for c in cycles] == [3, 3, 3]  # a volume is complete with 3
    c = cycles[1]
    assert c.image.shape == (20, 21, 17) and c.image.dtype == np.float32
    assert c.source == "nifti" and c.subject == "functional" and c.pathology == "unknown"
    assert c.spacing == (4.0, 4.0) and c.slice_thickness == 8.0
    assert c.frame_times is None  # 2 s per volume is no cine frame interval
    assert np.array_equal(c.image[7], expected[:, :, 1, 7].T)
    assert not c.labeled.any() and c.annotated_classes == ()
    assert c.ed_frame == 0 and c.es_frame == -1


def test_orientation_spacing_and_frame_times(tmp_path):
    path = save(tmp_path / "cine.nii.gz", ramp(), zooms=(1.5, 1.25, 8.0, 30.0))
    cycles = list(read_nifti(path, ed_frame=2, es_frame=7, pathology="HCM", subject="s1"))
    assert len(cycles) == 3
    c = cycles[2]
    assert c.image.shape == (13, 12, 16)  # [T, Y, X]
    assert c.image[4, 3, 5] == 1000 * 5 + 100 * 3 + 10 * 2 + 4  # image[t][row, col] = data[col, row, z, t]
    assert c.spacing == (1.25, 1.5)  # (zoom_y, zoom_x)
    np.testing.assert_allclose(c.frame_times, np.arange(13) * 30.0)
    assert (c.ed_frame, c.es_frame, c.pathology, c.subject) == (2, 7, "HCM", "s1")


@pytest.mark.parametrize(
    ("dt", "unit", "expected"),
    [
        (0.04, "sec", 40.0),
        (40.0, "msec", 40.0),
        (40.0, "unknown", 40.0),
        (0.025, "unknown", 25.0),
        (1.0, "sec", None),
    ],
)
def test_frame_interval_units(tmp_path, dt, unit, expected):
    path = save(tmp_path / "cine.nii", ramp(), zooms=(1, 1, 1, dt), time_unit=unit)
    times = next(read_nifti(path)).frame_times
    if expected is None:
        assert times is None
    else:
        np.testing.assert_allclose(times, np.arange(13) * expected, rtol=1e-5)


def test_labels_land_at_their_pixel_and_mark_labeled_frames(tmp_path):
    label = np.zeros(SHAPE, np.uint8)
    label[5, 2, 1, 4] = LV  # col 5, row 2, slice 1, frame 4
    label[7, 9, 0, 9] = RV
    image = save(tmp_path / "cine.nii.gz", ramp())
    gt = save(tmp_path / "gt.nii.gz", label, dtype=np.uint8)
    cycles = list(read_nifti(image, label_path=gt))
    c = cycles[1]
    assert c.label.dtype == np.uint8 and c.label[4, 2, 5] == LV and c.label.sum() == LV
    assert cycles[0].label[9, 9, 7] == RV
    assert np.flatnonzero(c.labeled).tolist() == [4, 9]  # labeled frames are per volume
    assert c.label_source[4] == LabelSource.EXPERT and c.label_source[0] == LabelSource.NONE


def test_truncated_file(tmp_path):
    good = save(tmp_path / "good.nii.gz", ramp())
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(good.read_bytes()[:-200])
    with raises_naming(bad):
        list(read_nifti(bad))


def test_garbage_and_missing_file(tmp_path):
    junk = tmp_path / "junk.nii.gz"
    junk.write_bytes(b"not a nifti" * 50)
    with raises_naming(junk):
        list(read_nifti(junk))
    with raises_naming(tmp_path / "absent.nii.gz"):
        list(read_nifti(tmp_path / "absent.nii.gz"))


def test_nan_voxels(tmp_path):
    data = ramp()
    data[1, 2, 0, 3] = np.nan
    path = save(tmp_path / "nan.nii.gz", data)
    with pytest.raises(CineDataError, match="1 NaN or inf voxels") as info:
        list(read_nifti(path))
    assert info.value.path == str(path)


def test_3d_file_and_single_time_point(tmp_path):
    flat = save(tmp_path / "flat.nii.gz", ramp()[..., 0])
    with pytest.raises(CineDataError, match="expected a 4D volume") as info:
        list(read_nifti(flat))
    assert info.value.path == str(flat)
    single = save(tmp_path / "single.nii.gz", ramp()[..., :1])
    with pytest.raises(CineDataError, match="single time point"):
        list(read_nifti(single))


def test_bad_labels(tmp_path):
    image = save(tmp_path / "cine.nii.gz", ramp())
    wrong_shape = save(tmp_path / "gt_shape.nii.gz", np.zeros((16, 12, 2, 13)), dtype=np.uint8)
    with pytest.raises(CineDataError, match=r"label shape \(16, 12, 2, 13\)") as info:
        list(read_nifti(image, label_path=wrong_shape))
    assert info.value.path == str(wrong_shape)
    values = np.zeros(SHAPE)
    values[0, 0, 0, 0] = 5
    out_of_range = save(tmp_path / "gt_values.nii.gz", values, dtype=np.uint8)
    with raises_naming(out_of_range):
        list(read_nifti(image, label_path=out_of_range))


def test_ed_frame_out_of_range(tmp_path):
    image = save(tmp_path / "cine.nii.gz", ramp())
    with pytest.raises(CineDataError, match="ED frame 13 outside 0..12"):
        list(read_nifti(image, ed_frame=13))


def test_nifti_axis_helpers_are_inverse_and_follow_the_convention():
    from cineaug.io.nifti import from_nifti_array, to_nifti_array

    frames = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)  # [Z,T,H,W]
    data = to_nifti_array(frames)
    assert data.shape == (5, 4, 2, 3) and data.flags.c_contiguous  # [W,H,Z,T]
    assert data[4, 1, 1, 2] == frames[1, 2, 1, 4]  # data[col, row, z, t] == image[t][row, col]
    np.testing.assert_array_equal(from_nifti_array(data), frames)
    assert to_nifti_array(frames[0]).shape == (5, 4, 1, 3)
