"""Preprocessing: ED alignment, crop and in-plane resampling in mm, time resampling, normalisation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import disk_cycle, key_frame_cycle

from cineaug import CycleContractError, LabelSource, prepare_cycle, read_sunnybrook
from cineaug.preprocess import (
    estimate_es_frame,
    heart_center,
    normalise_intensity,
    resample_inplane,
    resample_time,
    roll_to_ed,
)
from cineaug.types import LV, MYO, UNOBSERVED_FILL


def test_roll_to_ed_moves_ed_first_and_keeps_frames_together():
    cycle, _ = disk_cycle()
    cycle = dataclasses.replace(
        cycle, ed_frame=5, es_frame=15, frame_times=np.arange(20, dtype=np.float32) * 40
    )
    out = roll_to_ed(cycle)
    assert (out.ed_frame, out.es_frame) == (0, 10)
    np.testing.assert_array_equal(out.image[0], cycle.image[5])
    np.testing.assert_array_equal(out.labeled, np.roll(cycle.labeled, -5))
    assert out.frame_times[0] == 0 and np.all(np.diff(out.frame_times) > 0)
    assert cycle.ed_frame == 5  # input untouched


def test_heart_center_from_labels_and_from_motion():
    cycle, full = disk_cycle()
    truth = np.argwhere(np.isin(full[0], (MYO, LV))).mean(axis=0)
    assert heart_center(cycle) == pytest.approx(tuple(truth), abs=0.5)
    unlabeled = dataclasses.replace(
        cycle, label=np.zeros_like(cycle.label), labeled=np.zeros(20, bool), label_source=None
    )
    assert heart_center(unlabeled) == pytest.approx(tuple(truth), abs=3.0)  # the beating disk moves most


def test_resample_inplane_keeps_physical_size():
    cycle, full = disk_cycle(spacing=1.5)
    out = resample_inplane(cycle, heart_center(cycle), size=64, fov_mm=128.0)
    assert out.image.shape == (20, 64, 64) and out.spacing == (2.0, 2.0)
    area_mm2_in = (cycle.label[0] == LV).sum() * 1.5**2
    area_mm2_out = (out.label[0] == LV).sum() * 2.0**2
    assert area_mm2_out == pytest.approx(area_mm2_in, rel=0.05)
    centroid = np.argwhere(out.label[0] == LV).mean(axis=0)
    assert centroid == pytest.approx((31.5, 31.5), abs=1.0)  # centred on the heart
    assert not out.label[~out.labeled].any()


def test_resample_time_snaps_labelled_frames():
    cycle, full = disk_cycle(t=30, labeled=(0, 12))
    out = resample_time(cycle, 20)
    assert out.image.shape[0] == 20 and out.labeled.sum() == 2
    k = int(np.flatnonzero(out.labeled)[1])
    assert k == 8  # phase 12/30 = 0.4 -> frame 8 of 20
    np.testing.assert_array_equal(out.image[k], cycle.image[12])  # image and label stay together
    np.testing.assert_array_equal(out.label[k], cycle.label[12])
    # an unlabelled frame is interpolated: frame 1 of 20 sits at phase 0.05 = 1.5 frames of 30
    np.testing.assert_allclose(out.image[1], 0.5 * (cycle.image[1] + cycle.image[2]), atol=1e-6)
    with pytest.raises(ValueError, match="roll_to_ed"):
        resample_time(dataclasses.replace(cycle, ed_frame=3), 20)


def test_key_frames_are_snapped_never_interpolated():
    cycle = roll_to_ed(key_frame_cycle(t=30, ed=3, es=13))  # ES 10 frames after ED
    out = resample_time(cycle, 20)
    k = round(20 * 10 / 30)  # 7: ES at its phase of the R-R interval
    assert np.flatnonzero(out.observed).tolist() == [0, k] == np.flatnonzero(out.labeled).tolist()
    assert out.es_frame == k
    np.testing.assert_array_equal(out.image[k], cycle.image[10])
    np.testing.assert_array_equal(out.label[k], cycle.label[10])
    assert not out.image[~out.observed].any() and not out.label[~out.observed].any()
    crowded = dataclasses.replace(
        cycle, observed=np.isin(np.arange(30), (0, 10, 11)), image=cycle.image.copy()
    )
    crowded.image[11] = 1.0
    with pytest.raises(ValueError, match=r"observed frames \[0, 10, 11\] of 30 share output frames"):
        resample_time(crowded, 20)  # 10/30 and 11/30 both round to frame 7 of 20


def test_prepare_key_frame_cycle_keeps_the_two_expert_frames():
    raw = key_frame_cycle(t=30, ed=3, es=13)
    out = prepare_cycle(raw, size=48, fov_mm=120.0)
    assert np.flatnonzero(out.observed).tolist() == [0, 7] and out.es_frame == 7
    assert out.label_source.tolist() == [LabelSource.EXPERT if k in (0, 7) else 0 for k in range(20)]
    assert np.all(out.image[~out.observed] == UNOBSERVED_FILL)
    assert out.image[out.observed].min() == -1.0 and out.image[out.observed].max() == 1.0
    lv = (out.label == LV).reshape(20, -1).sum(1)
    assert lv[0] > lv[7] > 0  # the disk is larger at ED
    # the observed frames are prepared as they would be in the full cine
    full = dataclasses.replace(disk_cycle(t=30, labeled=(3, 13))[0], ed_frame=3, es_frame=13)
    full = prepare_cycle(full, size=48, fov_mm=120.0, propagate=False)
    np.testing.assert_array_equal(out.label[[0, 7]], full.label[[0, 7]])


def test_normalise_intensity_is_robust_to_scale():
    rng = np.random.default_rng(0)
    image = rng.gamma(2.0, 100.0, (20, 32, 32)).astype(np.float32)
    a, b = normalise_intensity(image), normalise_intensity(3.0 * image + 50)
    assert a.min() == -1.0 and a.max() == 1.0 and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_estimate_es_frame_from_images():
    cycle, _ = disk_cycle()
    out = prepare_cycle(dataclasses.replace(cycle, es_frame=-1), size=48, fov_mm=120.0)
    assert abs(out.es_frame - 10) <= 1  # smallest cavity of the cosine, from the propagated labels
    blank = dataclasses.replace(
        out, label=np.zeros_like(out.label), labeled=np.zeros(20, bool), label_source=None
    )
    assert abs(estimate_es_frame(blank) - 10) <= 1


def test_prepare_real_sunnybrook_slice(sunnybrook_real):
    (raw,) = list(read_sunnybrook(sunnybrook_real))
    out = prepare_cycle(raw, size=64)
    out.validate(prepared=True)
    assert out.image.shape == (20, 64, 64) and out.spacing == (2.5, 2.5)
    assert out.ed_frame == 0 and out.es_frame == (raw.es_frame - raw.ed_frame) % 20
    assert out.label_source[0] == LabelSource.EXPERT
    assert out.label_source[out.es_frame] == LabelSource.EXPERT_PARTIAL
    assert (out.label_source == LabelSource.PROPAGATED).sum() == 18 and out.labeled.all()
    lv = (out.label == LV).reshape(20, -1).sum(1)
    expert_ratio = (raw.label[raw.es_frame] == LV).sum() / (raw.label[raw.ed_frame] == LV).sum()
    assert lv[out.es_frame] / lv[0] == pytest.approx(expert_ratio, abs=0.05)
    assert (out.label[out.es_frame] == MYO).sum() > 0.5 * (out.label[0] == MYO).sum()  # completed wall
    assert -1.0 <= out.image.min() and out.image.max() <= 1.0


def test_prepare_refuses_broken_cycles():
    cycle, _ = disk_cycle()
    cycle.image[3, 4, 4] = np.nan
    with pytest.raises(CycleContractError, match="NaN"):
        prepare_cycle(cycle)
