"""Tests of read_mnms on tiny trees written in the published M&Ms-1 layout."""

import nibabel as nib
import numpy as np
import pytest

from cineaug.errors import CineDataError, ReadLog
from cineaug.io.mnms import read_mnms
from cineaug.types import LV, MYO, RV

SHAPE = (16, 12, 3, 13)  # X, Y, Z, T
CSV_NAME = "211230_M&Ms_Dataset_information_diagnosis_opendataset.csv"
MNMS_LV, MNMS_MYO, MNMS_RV = 1, 2, 3


def save(path, data, dtype=np.float32):
    img = nib.Nifti1Image(np.asarray(data, dtype), np.eye(4))
    img.header.set_zooms((1.5, 1.25, 10.0, 1.0)[: np.ndim(data)])
    nib.save(img, path)


def write_subject(split_dir, code, ed, es, labeled=True, shape=SHAPE):
    """<CODE>/<CODE>_sa.nii.gz + _sa_gt.nii.gz; gt in M&Ms order at ED and ES (empty if not labeled)."""
    folder = split_dir / code
    folder.mkdir(parents=True)
    save(folder / f"{code}_sa.nii.gz", np.random.default_rng(0).normal(50, 5, shape))
    gt = np.zeros(shape, np.uint8)
    if labeled:
        for frame in (ed, es):
            gt[5, 2, 1, frame] = MNMS_LV  # col 5, row 2, slice 1
            gt[6, 2, 1, frame] = MNMS_MYO
            gt[7, 3, 1, frame] = MNMS_RV
    save(folder / f"{code}_sa_gt.nii.gz", gt, dtype=np.uint8)
    return folder


def write_csv(root, rows):
    lines = [",External code,VendorName,Vendor,Centre,ED,ES,Age,Pathology,Sex,Height,Weight"]
    lines += [
        f"{i},{code},{vendor},{v},{centre},{ed},{es},50,{path},M,175,80"
        for i, (code, vendor, v, centre, ed, es, path) in enumerate(rows)
    ]
    (root / CSV_NAME).write_text("\n".join(lines) + "\n")


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "OpenDataset"
    write_subject(root / "Training" / "Labeled", "A0S9V9", ed=0, es=9)
    write_subject(root / "Training" / "Labeled", "B1C2D3", ed=2, es=7)
    write_subject(root / "Training" / "Unlabeled", "U1U2U3", ed=0, es=0, labeled=False)
    write_subject(root / "Validation", "V1V2V3", ed=1, es=8)
    write_csv(
        root,
        [
            ("A0S9V9", "Siemens", "A", 1, 0, 9, "DCM"),
            ("B1C2D3", "Philips", "B", 2, 2, 7, "ARV"),
            ("U1U2U3", "GE", "C", 4, 0, 0, "NOR"),
            ("V1V2V3", "Canon", "D", 5, 1, 8, "HHD"),
        ],
    )
    return root


def strict():
    return ReadLog(strict=True)


def test_reads_all_splits_and_remaps_labels(dataset):
    cycles = list(read_mnms(dataset, strict()))
    assert [(c.subject, c.slice_index) for c in cycles] == [
        (code, z) for code in ("A0S9V9", "B1C2D3", "U1U2U3", "V1V2V3") for z in range(3)
    ]
    c = cycles[4]  # B1C2D3, slice 1
    assert (c.source, c.pathology, c.ed_frame, c.es_frame) == ("mnms", "ARV", 2, 7)  # 0-based kept
    assert c.image.shape == (13, 12, 16)
    assert np.flatnonzero(c.labeled).tolist() == [2, 7]
    for t in (2, 7):  # [t, row, col]: M&Ms 1 LV, 2 MYO, 3 RV -> ACDC 1 RV, 2 MYO, 3 LV
        assert (c.label[t, 2, 5], c.label[t, 2, 6], c.label[t, 3, 7]) == (LV, MYO, RV)
    assert c.label.sum() == 2 * (LV + MYO + RV)
    assert c.extra == {
        "vendor": "Philips", "vendor_code": "B", "centre": "2", "split": "Training/Labeled",
        "native_slices": 3,
    }  # fmt: skip
    assert c.spacing == (1.25, 1.5)
    assert cycles[-1].pathology == "HHD" and cycles[-1].extra["split"] == "Validation"


def test_unlabeled_set_has_no_labeled_frames(dataset):
    cycles = [c for c in read_mnms(dataset / "Training" / "Unlabeled", strict())]
    assert len(cycles) == 3
    assert all(not c.labeled.any() and c.annotated_classes == () for c in cycles)
    assert (cycles[0].ed_frame, cycles[0].es_frame, cycles[0].pathology) == (0, -1, "NOR")


def test_child_folder_finds_csv_above(dataset):
    subjects = {c.subject for c in read_mnms(dataset / "Training" / "Labeled" / "A0S9V9", strict())}
    assert subjects == {"A0S9V9"}


def test_gt_published_in_another_split(dataset):
    moved = dataset / "Testing" / "A0S9V9"
    moved.mkdir(parents=True)
    (dataset / "Training" / "Labeled" / "A0S9V9" / "A0S9V9_sa_gt.nii.gz").rename(
        moved / "A0S9V9_sa_gt.nii.gz"
    )
    cycles = [c for c in read_mnms(dataset / "Training", strict()) if c.subject == "A0S9V9"]
    assert np.flatnonzero(cycles[1].labeled).tolist() == [0, 9]


def test_subject_without_csv_row_is_skipped(dataset, caplog):
    write_subject(dataset / "Testing", "Z9Z9Z9", ed=0, es=5)
    log = ReadLog()
    subjects = {c.subject for c in read_mnms(dataset, log)}
    assert "no row for Z9Z9Z9" in caplog.text
    assert "Z9Z9Z9" not in subjects and len(subjects) == 4
    assert log.skipped[0]["path"] == str(dataset / "Testing" / "Z9Z9Z9" / "Z9Z9Z9_sa.nii.gz")


def expect_error(root, path, match):
    with pytest.raises(CineDataError, match=match) as info:
        list(read_mnms(root, strict()))
    assert info.value.path == str(path)


def test_gt_shape_mismatch(dataset):
    gt = dataset / "Validation" / "V1V2V3" / "V1V2V3_sa_gt.nii.gz"
    save(gt, np.zeros((16, 12, 3, 12)), dtype=np.uint8)
    expect_error(dataset / "Validation", gt, r"label shape \(16, 12, 3, 12\)")


def test_ed_out_of_range(dataset):
    write_csv(dataset, [("V1V2V3", "Canon", "D", 5, 13, 8, "HHD")])
    expect_error(dataset / "Validation", dataset / CSV_NAME, "V1V2V3: ED frame 13 outside 0..12")


def test_labels_outside_ed_es(dataset):
    write_csv(dataset, [("V1V2V3", "Canon", "D", 5, 1, 9, "HHD")])
    gt = dataset / "Validation" / "V1V2V3" / "V1V2V3_sa_gt.nii.gz"
    expect_error(dataset / "Validation", gt, r"labels at frames \[8\]")


def test_empty_folder_and_missing_csv(tmp_path, dataset):
    (tmp_path / "empty").mkdir()
    expect_error(tmp_path / "empty", tmp_path / "empty", "no M&Ms subjects")
    (dataset / CSV_NAME).unlink()
    expect_error(dataset, dataset, "no M&Ms information CSV")


def test_truncated_image(dataset):
    image = dataset / "Validation" / "V1V2V3" / "V1V2V3_sa.nii.gz"
    image.write_bytes(image.read_bytes()[:-100])
    expect_error(dataset / "Validation", image, "truncated")


def without_cine(folder, code, ed, es):
    """Turn a subject into a copy without the cine: <CODE>_sa_ED/_sa_ES.nii.gz [X, Y, Z] only."""
    cine = nib.load(folder / f"{code}_sa.nii.gz").get_fdata(dtype=np.float32)
    (folder / f"{code}_sa.nii.gz").unlink()
    save(folder / f"{code}_sa_ED.nii.gz", cine[..., ed])
    save(folder / f"{code}_sa_ES.nii.gz", cine[..., es])
    return cine


def test_copy_without_cine_reads_key_frames(dataset):
    folder = dataset / "Training" / "Labeled" / "B1C2D3"  # ED 2, ES 7 of 13 frames
    cine = without_cine(folder, "B1C2D3", 2, 7)
    cycles = [c for c in read_mnms(dataset, strict()) if c.subject == "B1C2D3"]
    c = cycles[1]
    assert c.n_frames == 13 and (c.ed_frame, c.es_frame) == (2, 7)  # T from the 4D ground truth
    assert np.flatnonzero(c.observed).tolist() == [2, 7] == np.flatnonzero(c.labeled).tolist()
    np.testing.assert_array_equal(c.image[7], cine[:, :, 1, 7].T)
    assert not c.image[~c.observed].any()
    assert (c.label[7, 2, 5], c.label[7, 2, 6], c.label[7, 3, 7]) == (LV, MYO, RV)
    assert c.extra["split"] == "Training/Labeled"


def test_copy_without_cine_nor_4d_gt_is_skipped(dataset, caplog):
    folder = dataset / "Validation" / "V1V2V3"
    without_cine(folder, "V1V2V3", 1, 8)
    (folder / "V1V2V3_sa_gt.nii.gz").unlink()
    log = ReadLog()
    subjects = {c.subject for c in read_mnms(dataset, log)}
    assert "ES's phase" in caplog.text
    assert "V1V2V3" not in subjects and len(subjects) == 3
    reason = "no 4D cine, and without V1V2V3_sa_gt.nii.gz the cycle's length (ES's phase) is unknown"
    assert log.skipped == [{"path": str(folder / "V1V2V3_sa.nii.gz"), "reason": reason}]
