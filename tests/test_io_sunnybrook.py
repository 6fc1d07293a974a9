"""The Sunnybrook reader: a simulated patient exported in the three SCD layouts, broken input, and
one real slice-cycle of ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import REAL_ED_IMAGE, REAL_ES_IMAGE, SIM_ED_AT

from cineaug import CineDataError, LabelSource, ReadLog, read_sunnybrook
from cineaug.io.sunnybrook import detect_layout, read_contour, unpad_case
from cineaug.types import LV, MYO

REAL_ED, REAL_ES = (REAL_ED_IMAGE - 61), (REAL_ES_IMAGE - 61)  # images 61..80 are frames 0..19


def shoelace(points: np.ndarray) -> float:
    y, x = points[:, 0], points[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def contour(root: Path, kind: str, image: int) -> Path:
    folder = root / "contourfiles" / "SC-HF-I-1" / f"{kind}-contours"
    return folder / f"IM-0001-{image:04d}-{kind}contour-manual.txt"


def test_simulated_patient_reads_back_exactly(sunnybrook_root, sim_patient):
    contoured, plain = list(read_sunnybrook(sunnybrook_root, ReadLog(strict=True)))
    sim = sim_patient[0]
    ed, es = SIM_ED_AT, (sim.es_frame + SIM_ED_AT) % 20
    for c in (contoured, plain):
        c.validate()
        assert (c.subject, c.pathology, c.source) == ("SCD0000101", "HF-I", "sunnybrook")
        assert c.image.shape == (20, 256, 256) and c.spacing == pytest.approx(sim.spacing, abs=1e-6)
        assert c.ed_frame == ed and np.all(np.diff(c.frame_times) > 0)
    np.testing.assert_array_equal(contoured.image, np.roll(np.rint(sim.image), SIM_ED_AT, 0))
    # ED and ES come from the contour areas, not from instance order
    assert contoured.es_frame == es and np.flatnonzero(contoured.labeled).tolist() == sorted([ed, es])
    assert contoured.label_source[ed] == LabelSource.EXPERT
    assert contoured.label_source[es] == LabelSource.EXPERT_PARTIAL  # no epicardium at ES
    truth = np.roll(sim.label, SIM_ED_AT, 0)
    np.testing.assert_array_equal(contoured.label[ed] == LV, truth[ed] == LV)
    np.testing.assert_array_equal(contoured.label[ed] == MYO, truth[ed] == MYO)
    np.testing.assert_array_equal(contoured.label[es] == LV, truth[es] == LV)
    assert not (contoured.label[es] == MYO).any() and contoured.annotated_classes == (MYO, LV)
    # a slice without contours takes the patient's ED frame
    assert not plain.labeled.any() and plain.extra["ed_from"] == "patient's contoured slices"


def test_other_layouts_give_the_same_cycles(sunnybrook_root, sunnybrook_cap, sunnybrook_challenge):
    ref = list(read_sunnybrook(sunnybrook_root))
    assert detect_layout(sunnybrook_cap) == "cap"
    assert detect_layout(sunnybrook_challenge) == "challenge"
    # the challenge release has no patient table: the case name is the subject
    for root, subject in ((sunnybrook_cap, "SCD0000101"), (sunnybrook_challenge, "SC-HF-I-1")):
        cycles = list(read_sunnybrook(root))
        assert len(cycles) == 2
        for cycle, r in zip(cycles, ref):
            assert (cycle.subject, cycle.pathology) == (subject, "HF-I")
            np.testing.assert_array_equal(cycle.image, r.image)
            np.testing.assert_array_equal(cycle.label, r.label)
            assert (cycle.ed_frame, cycle.es_frame) == (r.ed_frame, r.es_frame)


def test_unpad_case():
    assert unpad_case("SC-HF-I-01") == "SC-HF-I-1"
    assert unpad_case("SC-N-40") == "SC-N-40"


def _copy(src: Path, tmp_path: Path) -> Path:
    root = tmp_path / "scd"
    shutil.copytree(src, root)
    return root


def test_truncated_dicom_skips_the_slice_and_says_why(sunnybrook_root, tmp_path, caplog):
    root = _copy(sunnybrook_root, tmp_path)
    bad = root / "dicoms" / "SCD0000101" / "10.dcm"
    bad.write_bytes(bad.read_bytes()[:5000])
    log = ReadLog()
    cycles = list(read_sunnybrook(root, log=log))
    assert "10.dcm" in caplog.text
    assert [c.slice_index for c in cycles] == [1]  # slice 0 lost a frame: 19 of 20
    reasons = " ".join(s["reason"] for s in log.skipped)
    assert "pixel data" in reasons and "missing frames" in reasons
    with pytest.raises(CineDataError, match="10.dcm"):
        list(read_sunnybrook(root, log=ReadLog(strict=True)))


def test_extra_frame_is_reported(sunnybrook_root, tmp_path, caplog):
    root = _copy(sunnybrook_root, tmp_path)
    series = root / "dicoms" / "SCD0000101"
    ds = pydicom.dcmread(series / "40.dcm")
    ds.InstanceNumber, ds.TriggerTime = 41, float(ds.TriggerTime) + 10
    ds.save_as(series / "41.dcm")
    log = ReadLog()
    assert [c.slice_index for c in read_sunnybrook(root, log=log)] == [0]
    assert "skipped" in caplog.text
    assert "21 frames" in log.skipped[0]["reason"] and "extra" in log.skipped[0]["reason"]


def test_contour_naming_a_missing_image_is_reported(sunnybrook_root, tmp_path, caplog):
    root = _copy(sunnybrook_root, tmp_path)
    ed_image = SIM_ED_AT + 1
    shutil.copy(contour(root, "i", ed_image), contour(root, "i", 150))
    log = ReadLog()
    cycles = list(read_sunnybrook(root, log=log))
    assert "0150" in caplog.text
    assert "names image 150" in log.skipped[0]["reason"]
    assert cycles[0].labeled.sum() == 2


def test_garbled_contour_names_the_file(sunnybrook_root, tmp_path):
    root = _copy(sunnybrook_root, tmp_path)
    contour(root, "i", SIM_ED_AT + 1).write_text("130.5 nan\n1 2\n3 4\n")
    with pytest.raises(CineDataError, match=f"{SIM_ED_AT + 1:04d}-icontour.*NaN"):
        list(read_sunnybrook(root, log=ReadLog(strict=True)))


@pytest.mark.parametrize(
    "text,reason",
    [
        ("1e9 -1e9\n120 120\n130 125\n", r"contour points outside the 256x256 image \(x 120..1e\+09"),
        ("120.1 120.1\n120.2 120.2\n120.3 120.1\n", "contour encloses no pixel centre"),
    ],
)
def test_contour_off_the_image_skips_the_slice_with_the_reason(
    sunnybrook_root, tmp_path, text, reason, caplog
):
    root = _copy(sunnybrook_root, tmp_path)
    path = contour(root, "o", SIM_ED_AT + 1)
    path.write_text(text)
    log = ReadLog()
    assert [c.slice_index for c in read_sunnybrook(root, log=log)] == [1]
    assert "ocontour" in caplog.text
    assert log.skipped[0]["path"] == str(path)
    assert re.match(reason, log.skipped[0]["reason"])


@pytest.mark.parametrize(
    "link,warned",
    [
        ("patient_id,original_id\n", "0 valid rows of 0"),
        ("patient,case\nSCD0000101,SC-HF-I-1\n", "no patient_id,original_id header"),
        ("patient_id,original_id\nSCD0000101,\n", "0 valid rows of 1"),
    ],
)
def test_link_csv_without_valid_rows_warns_for_every_lost_label(
    sunnybrook_root, tmp_path, link, warned, caplog
):
    root = _copy(sunnybrook_root, tmp_path)
    (root / "link.csv").write_text(link)
    (root / "scd_patientdata.csv").unlink()  # else the table links SCD0000101 to SC-HF-I-1
    log = ReadLog()
    cycles = list(read_sunnybrook(root, log=log))
    caught = [r for r in caplog.records if r.name == "cineaug" and r.levelname == "WARNING"]
    assert len(cycles) == 2 and not any(c.labeled.any() for c in cycles) and log.skipped == []
    assert [w["path"] for w in log.warnings] == [str(root / "link.csv"), str(root / "dicoms" / "SCD0000101")]
    assert warned in log.warnings[0]["reason"]
    assert "no contour folder for 'SCD0000101'" in log.warnings[1]["reason"]
    assert "read without labels" in log.warnings[1]["reason"] and len(caught) == 2


def test_not_a_sunnybrook_folder(tmp_path):
    with pytest.raises(CineDataError, match="not a Sunnybrook folder"):
        list(read_sunnybrook(tmp_path))
    with pytest.raises(CineDataError, match="no such folder"):
        list(read_sunnybrook(tmp_path / "missing"))


def test_reads_the_real_slice(sunnybrook_real):
    (cycle,) = list(read_sunnybrook(sunnybrook_real, ReadLog(strict=True)))
    cycle.validate()
    assert cycle.image.shape == (20, 256, 256) and cycle.image.dtype == np.float32
    assert cycle.spacing == pytest.approx((1.367188, 1.367188))
    assert cycle.slice_thickness == 10
    assert cycle.extra["native_slices"] == 1 and isinstance(cycle.extra["slice_position_mm"], float)
    assert (cycle.subject, cycle.pathology, cycle.source) == ("SCD0000101", "HF-I", "sunnybrook")
    assert cycle.extra["original_id"] == "SC-HF-I-1"
    assert (cycle.ed_frame, cycle.es_frame) == (REAL_ED, REAL_ES)  # ED is the 19th frame here
    assert np.flatnonzero(cycle.labeled).tolist() == [REAL_ES, REAL_ED]
    assert cycle.label_source[REAL_ES] == LabelSource.EXPERT_PARTIAL


@pytest.mark.parametrize("image,frame", [(REAL_ED_IMAGE, REAL_ED), (REAL_ES_IMAGE, REAL_ES)])
def test_real_lv_area_matches_the_contour_polygon(sunnybrook_real, image, frame):
    (cycle,) = list(read_sunnybrook(sunnybrook_real))
    polygon_area = shoelace(read_contour(contour(sunnybrook_real, "i", image)))
    assert (cycle.label[frame] == LV).sum() == pytest.approx(polygon_area, rel=0.05)


def test_real_myocardium_is_the_ring_between_the_contours(sunnybrook_real):
    (cycle,) = list(read_sunnybrook(sunnybrook_real))
    i, o = (shoelace(read_contour(contour(sunnybrook_real, k, REAL_ED_IMAGE))) for k in "io")
    assert (cycle.label[REAL_ED] == MYO).sum() == pytest.approx(o - i, rel=0.08)
    assert not (cycle.label[REAL_ES] == MYO).any()
