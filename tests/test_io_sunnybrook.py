"""The Sunnybrook reader on one real slice-cycle, in the three SCD layouts, and on broken input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ED_IMAGE, ES_IMAGE, SUNNYBROOK

from cineaug import CineDataError, LabelSource, ReadLog, read_sunnybrook
from cineaug.io.sunnybrook import detect_layout, read_contour, unpad_case
from cineaug.types import LV, MYO

ED_FRAME, ES_FRAME = (ED_IMAGE - 61), (ES_IMAGE - 61)  # images 61..80 are frames 0..19


def shoelace(points: np.ndarray) -> float:
    y, x = points[:, 0], points[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def contour(kind: str, image: int) -> Path:
    folder = SUNNYBROOK / "contourfiles" / "SC-HF-I-1" / f"{kind}-contours"
    return folder / f"IM-0001-{image:04d}-{kind}contour-manual.txt"


def test_reads_the_real_slice(sunnybrook_root):
    (cycle,) = list(read_sunnybrook(sunnybrook_root))
    cycle.validate()
    assert cycle.image.shape == (20, 256, 256) and cycle.image.dtype == np.float32
    assert cycle.spacing == pytest.approx((1.367188, 1.367188))
    assert cycle.slice_thickness == 10
    assert (cycle.subject, cycle.pathology, cycle.source) == ("SCD0000101", "HF-I", "sunnybrook")
    assert cycle.extra["original_id"] == "SC-HF-I-1"
    # ED and ES come from the contour areas, not from instance order: ED is the 19th frame here
    assert (cycle.ed_frame, cycle.es_frame) == (ED_FRAME, ES_FRAME)
    assert np.flatnonzero(cycle.labeled).tolist() == [ES_FRAME, ED_FRAME]
    assert cycle.label_source[ED_FRAME] == LabelSource.EXPERT
    assert cycle.label_source[ES_FRAME] == LabelSource.EXPERT_PARTIAL  # no epicardium at ES
    assert cycle.annotated_classes == (MYO, LV)
    assert np.all(np.diff(cycle.frame_times) > 0)


@pytest.mark.parametrize("image,frame", [(ED_IMAGE, ED_FRAME), (ES_IMAGE, ES_FRAME)])
def test_lv_area_matches_the_contour_polygon(sunnybrook_root, image, frame):
    (cycle,) = list(read_sunnybrook(sunnybrook_root))
    polygon_area = shoelace(read_contour(contour("i", image)))
    assert (cycle.label[frame] == LV).sum() == pytest.approx(polygon_area, rel=0.05)


def test_myocardium_is_the_ring_between_the_contours(sunnybrook_root):
    (cycle,) = list(read_sunnybrook(sunnybrook_root))
    ring = shoelace(read_contour(contour("o", ED_IMAGE))) - shoelace(read_contour(contour("i", ED_IMAGE)))
    assert (cycle.label[ED_FRAME] == MYO).sum() == pytest.approx(ring, rel=0.08)
    assert not (cycle.label[ES_FRAME] == MYO).any()


def test_other_layouts_give_the_same_cycle(sunnybrook_root, sunnybrook_cap, sunnybrook_challenge):
    (ref,) = list(read_sunnybrook(sunnybrook_root))
    assert detect_layout(sunnybrook_cap) == "cap"
    assert detect_layout(sunnybrook_challenge) == "challenge"
    # the challenge release has no patient table: the case name is the subject
    for root, subject in ((sunnybrook_cap, "SCD0000101"), (sunnybrook_challenge, "SC-HF-I-1")):
        (cycle,) = list(read_sunnybrook(root))
        assert (cycle.subject, cycle.pathology) == (subject, "HF-I")
        np.testing.assert_array_equal(cycle.image, ref.image)
        np.testing.assert_array_equal(cycle.label, ref.label)
        assert (cycle.ed_frame, cycle.es_frame) == (ref.ed_frame, ref.es_frame)


def test_unpad_case():
    assert unpad_case("SC-HF-I-01") == "SC-HF-I-1"
    assert unpad_case("SC-N-40") == "SC-N-40"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "scd"
    shutil.copytree(SUNNYBROOK, root)
    return root


def test_truncated_dicom_skips_the_slice_and_says_why(tmp_path):
    root = _copy(tmp_path)
    bad = root / "dicoms" / "SCD0000101" / "70.dcm"
    bad.write_bytes(bad.read_bytes()[:5000])
    log = ReadLog()
    with pytest.warns(UserWarning, match="70.dcm"):
        cycles = list(read_sunnybrook(root, log=log))
    assert cycles == []  # the slice lost a frame: 19 of 20
    reasons = " ".join(s["reason"] for s in log.skipped)
    assert "pixel data" in reasons and "missing frames" in reasons
    with pytest.raises(CineDataError, match="70.dcm"):
        list(read_sunnybrook(root, log=ReadLog(strict=True)))


def test_extra_frame_is_reported(tmp_path):
    root = _copy(tmp_path)
    series = root / "dicoms" / "SCD0000101"
    import pydicom

    ds = pydicom.dcmread(series / "80.dcm")
    ds.InstanceNumber, ds.TriggerTime = 81, float(ds.TriggerTime) + 10
    ds.save_as(series / "81.dcm")
    log = ReadLog()
    with pytest.warns(UserWarning):
        assert list(read_sunnybrook(root, log=log)) == []
    assert "21 frames" in log.skipped[0]["reason"] and "extra" in log.skipped[0]["reason"]


def test_contour_naming_a_missing_image_is_reported(tmp_path):
    root = _copy(tmp_path)
    shutil.copy(
        contour("i", ED_IMAGE),
        root / "contourfiles" / "SC-HF-I-1" / "i-contours" / "IM-0001-0150-icontour-manual.txt",
    )
    log = ReadLog()
    with pytest.warns(UserWarning, match="0150"):
        (cycle,) = list(read_sunnybrook(root, log=log))
    assert "names image 150" in log.skipped[0]["reason"]
    assert cycle.labeled.sum() == 2


def test_garbled_contour_names_the_file(tmp_path):
    root = _copy(tmp_path)
    path = root / "contourfiles" / "SC-HF-I-1" / "i-contours" / "IM-0001-0068-icontour-manual.txt"
    path.write_text("130.5 nan\n1 2\n3 4\n")
    with pytest.raises(CineDataError, match="0068-icontour.*NaN"):
        list(read_sunnybrook(root, log=ReadLog(strict=True)))


def test_not_a_sunnybrook_folder(tmp_path):
    with pytest.raises(CineDataError, match="not a Sunnybrook folder"):
        list(read_sunnybrook(tmp_path))
    with pytest.raises(CineDataError, match="no such folder"):
        list(read_sunnybrook(tmp_path / "missing"))
