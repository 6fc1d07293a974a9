"""Tests of read_acdc on tiny trees written in the published ACDC layout."""

import re

import nibabel as nib
import numpy as np
import pytest

from cineaug.errors import CineDataError, ReadLog
from cineaug.io.acdc import read_acdc
from cineaug.types import LV, MYO, RV, LabelSource

SHAPE = (16, 12, 3, 13)  # X, Y, Z, T


def save(path, data, dtype=np.float32):
    img = nib.Nifti1Image(np.asarray(data, dtype), np.eye(4))
    img.header.set_zooms((1.5, 1.25, 10.0, 1.0)[: np.ndim(data)])
    nib.save(img, path)


def write_patient(parent, number, group="DCM", ed=1, es=12, nb_frames=13, shape=SHAPE, cine=None):
    """Write patientNNN/ like ACDC: Info.cfg without a section, 4d, frameNN and frameNN_gt (1-based NN)."""
    name = f"patient{number:03d}"
    folder = parent / name
    folder.mkdir(parents=True)
    (folder / "Info.cfg").write_text(
        f"ED: {ed}\nES: {es}\nGroup: {group}\nHeight: 184.0\nNbFrame: {nb_frames}\nWeight: 95.0\n"
    )
    cine = np.random.default_rng(number).normal(100, 10, shape).astype(np.float32) if cine is None else cine
    save(folder / f"{name}_4d.nii.gz", cine)
    for frame, value in ((ed, RV), (es, LV)):
        gt = np.zeros(shape[:3], np.uint8)
        gt[5, 2, 1] = value  # col 5, row 2, slice 1
        gt[6, 2, 1] = MYO
        save(folder / f"{name}_frame{frame:02d}.nii.gz", cine[..., frame - 1])
        save(folder / f"{name}_frame{frame:02d}_gt.nii.gz", gt, dtype=np.uint8)
    return folder


@pytest.fixture
def database(tmp_path):
    root = tmp_path / "database"
    write_patient(root / "training", 1, group="DCM", ed=1, es=12)
    write_patient(root / "training", 85, group="RV", ed=3, es=9)
    write_patient(root / "testing", 101, group="NOR", ed=1, es=8)
    return root


def strict():
    return ReadLog(strict=True)


def test_reads_database_training_and_testing(database):
    cycles = list(read_acdc(database, strict()))
    assert [(c.subject, c.slice_index) for c in cycles] == [
        (f"patient{n:03d}", z) for n in (1, 85, 101) for z in range(3)
    ]
    c = cycles[4]  # patient085, slice 1: ED 3, ES 9 (1-based)
    assert (c.source, c.subject, c.pathology) == ("acdc", "patient085", "ARV")  # Group "RV" -> "ARV"
    assert (c.ed_frame, c.es_frame) == (2, 8)
    assert c.image.shape == c.label.shape == (13, 12, 16)
    assert np.flatnonzero(c.labeled).tolist() == [2, 8]
    assert c.label_source[2] == c.label_source[8] == LabelSource.EXPERT and c.label_source[0] == 0
    assert c.label[2, 2, 5] == RV and c.label[8, 2, 5] == LV and c.label[2, 2, 6] == MYO  # [t, row, col]
    assert c.label.sum() == RV + LV + 2 * MYO
    assert not cycles[3].label.any()  # slice 0 holds no labels
    assert c.annotated_classes == (RV, MYO, LV)
    assert c.extra == {"height": 184.0, "weight": 95.0, "nb_frames": 13, "native_slices": 3}
    assert c.spacing == (1.25, 1.5) and c.slice_thickness == 10.0
    assert cycles[0].pathology == "DCM" and cycles[-1].pathology == "NOR"


def test_image_orientation(tmp_path):
    x, y, z, t = np.indices(SHAPE)
    write_patient(tmp_path, 7, cine=(1000 * x + 100 * y + 10 * z + t).astype(np.float32))
    c = list(read_acdc(tmp_path / "patient007", strict()))[2]
    assert c.image[4, 3, 5] == 1000 * 5 + 100 * 3 + 10 * 2 + 4  # image[t][row, col] = data[col, row, z, t]


def test_root_may_be_split_or_patient(database):
    assert {c.subject for c in read_acdc(database / "training", strict())} == {"patient001", "patient085"}
    assert {c.subject for c in read_acdc(database / "testing" / "patient101", strict())} == {"patient101"}


def test_nbframe_mismatch_warns_and_uses_t(tmp_path, caplog):
    write_patient(tmp_path, 2, nb_frames=30)
    cycles = list(read_acdc(tmp_path, strict()))
    assert "NbFrame 30 != 13" in caplog.text
    assert cycles[0].n_frames == 13 and cycles[0].extra["nb_frames"] == 13


def test_missing_4d_reads_key_frames(database):
    folder = database / "training" / "patient085"  # ED 3, ES 9 (1-based), NbFrame 13
    cine = nib.load(folder / "patient085_4d.nii.gz").get_fdata(dtype=np.float32)
    (folder / "patient085_4d.nii.gz").unlink()
    cycles = [c for c in read_acdc(database, strict()) if c.subject == "patient085"]
    assert len(cycles) == 3
    c = cycles[1]
    assert c.n_frames == 13 and (c.ed_frame, c.es_frame) == (2, 8)
    assert np.flatnonzero(c.observed).tolist() == [2, 8] == np.flatnonzero(c.labeled).tolist()
    np.testing.assert_array_equal(c.image[2], cine[:, :, 1, 2].T)  # image[t][row, col] = data[col, row, z, t]
    np.testing.assert_array_equal(c.image[8], cine[:, :, 1, 8].T)
    assert not c.image[~c.observed].any()  # unobserved frames hold the raw fill, 0
    assert c.label[2, 2, 5] == RV and c.label[8, 2, 5] == LV
    assert c.spacing == (1.25, 1.5) and c.frame_times is None


def test_missing_4d_and_es_volume_is_skipped_and_counted(database, caplog):
    missing = database / "training" / "patient085" / "patient085_frame09.nii.gz"
    (database / "training" / "patient085" / "patient085_4d.nii.gz").unlink()
    missing.unlink()
    log = ReadLog()
    subjects = {c.subject for c in read_acdc(database, log)}
    assert "skipped" in caplog.text and "patient085_frame09.nii.gz" in caplog.text
    assert subjects == {"patient001", "patient101"}
    assert log.skipped == [{"path": str(missing), "reason": "missing: no 4D cine and no ES volume"}]
    with pytest.raises(CineDataError, match=re.escape(str(missing))):
        list(read_acdc(database, strict()))


def test_key_frames_need_nbframe_and_equal_shapes(tmp_path):
    folder = write_patient(tmp_path, 9)
    (folder / "patient009_4d.nii.gz").unlink()
    (folder / "Info.cfg").write_text("ED: 1\nES: 12\nGroup: DCM\n")
    expect_error(tmp_path, folder / "Info.cfg", "no NbFrame, and no 4D cine: ED and ES cannot be placed")
    (folder / "Info.cfg").write_text("ED: 1\nES: 12\nGroup: DCM\nNbFrame: 13\n")
    save(folder / "patient009_frame12.nii.gz", np.random.default_rng(0).normal(100, 10, (16, 12, 4)))
    expect_error(tmp_path, folder / "patient009_frame12.nii.gz", r"shape \(16, 12, 4\) != \(16, 12, 3\)")


def test_empty_folder(tmp_path):
    with pytest.raises(CineDataError, match="no ACDC patient folders") as info:
        list(read_acdc(tmp_path, ReadLog()))
    assert info.value.path == str(tmp_path)


def expect_error(folder, path, match):
    with pytest.raises(CineDataError, match=match) as info:
        list(read_acdc(folder, strict()))
    assert info.value.path == str(path)


def test_truncated_4d(tmp_path):
    cine = write_patient(tmp_path, 3) / "patient003_4d.nii.gz"
    cine.write_bytes(cine.read_bytes()[:-100])
    expect_error(tmp_path, cine, "truncated")


def test_nan_in_4d(tmp_path):
    data = np.ones(SHAPE, np.float32)
    data[0, 0, 0, 0] = np.inf
    data[1, 0, 0, 0] = np.nan
    folder = write_patient(tmp_path, 4, cine=data)
    expect_error(tmp_path, folder / "patient004_4d.nii.gz", "2 NaN or inf voxels")


def test_3d_where_4d_expected(tmp_path):
    folder = write_patient(tmp_path, 5)
    save(folder / "patient005_4d.nii.gz", np.ones(SHAPE[:3]))
    expect_error(tmp_path, folder / "patient005_4d.nii.gz", "expected a 4D volume")


def test_gt_shape_mismatch(tmp_path):
    folder = write_patient(tmp_path, 6)
    save(folder / "patient006_frame12_gt.nii.gz", np.zeros((16, 12, 4)), dtype=np.uint8)
    expect_error(tmp_path, folder / "patient006_frame12_gt.nii.gz", r"label shape \(16, 12, 4\)")


def test_ed_out_of_range(tmp_path):
    folder = write_patient(tmp_path, 8)
    (folder / "Info.cfg").write_text("ED: 14\nES: 12\nGroup: DCM\nNbFrame: 13\n")
    expect_error(tmp_path, folder / "Info.cfg", "ED frame 14 outside 1..13")


BAD_VOLUMES = {
    "NaN": (lambda c: np.full_like(c, np.nan), "NaN or inf voxels"),
    "inf": (lambda c: np.where(c > 0, np.inf, -np.inf).astype(np.float32), "NaN or inf voxels"),
    "zeros": (lambda c: np.zeros_like(c), "constant image"),
    "-1e30": (lambda c: c * np.float32(-1e30), "exceed 1e\\+09"),
    "inverted": (lambda c: -c, "not a magnitude image"),
}


@pytest.mark.parametrize("key_frames_only", [False, True], ids=["with cine", "key frames only"])
@pytest.mark.parametrize("bad", sorted(BAD_VOLUMES))
def test_a_volume_without_an_image_is_skipped_by_name_beside_a_good_patient(tmp_path, bad, key_frames_only):
    corrupt, reason = BAD_VOLUMES[bad]
    write_patient(tmp_path, 1)
    cine = corrupt(np.random.default_rng(2).normal(100, 10, SHAPE).astype(np.float32))
    folder = write_patient(tmp_path, 2, cine=cine)
    if key_frames_only:
        (folder / "patient002_4d.nii.gz").unlink()
    log = ReadLog()
    assert {c.subject for c in read_acdc(tmp_path, log)} == {"patient001"}
    assert len(log.skipped) == 1 and re.search(reason, log.skipped[0]["reason"]), log.skipped
    assert log.skipped[0]["path"].startswith(str(folder / "patient002_"))
