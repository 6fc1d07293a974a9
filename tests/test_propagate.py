"""Label propagation on a synthetic beating heart with known labels at every frame."""

from __future__ import annotations

import numpy as np
from conftest import disk_cycle

from cineaug import LabelSource, propagate_labels
from cineaug.preprocess import normalise_intensity
from cineaug.types import BACKGROUND, LV, MYO


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def test_propagated_labels_follow_the_motion():
    cycle, full = disk_cycle(size=64, labeled=(0, 10))
    label, source = propagate_labels(
        normalise_intensity(cycle.image), cycle.label, cycle.label_source, (MYO, LV)
    )
    assert source.tolist().count(LabelSource.PROPAGATED) == 18
    np.testing.assert_array_equal(label[[0, 10]], cycle.label[[0, 10]])  # expert frames untouched
    for t in range(20):
        assert dice(label[t] == LV, full[t] == LV) > 0.9, t
        assert dice(label[t] == MYO, full[t] == MYO) > 0.75, t
    # better than copying the nearest expert frame
    copy = [
        dice(cycle.label[0 if min(t, 20 - t) < abs(t - 10) else 10] == LV, full[t] == LV) for t in range(20)
    ]
    ours = [dice(label[t] == LV, full[t] == LV) for t in range(20)]
    assert np.mean(ours) > np.mean(copy)


def test_partial_frame_gains_the_missing_wall_and_keeps_the_expert_cavity():
    cycle, full = disk_cycle(size=64, labeled=(0, 10))
    es = cycle.label[10].copy()
    es[es == MYO] = BACKGROUND  # expert drew only the endocardium at ES
    cycle.label[10] = es
    cycle.label_source[10] = LabelSource.EXPERT_PARTIAL
    label, source = propagate_labels(
        normalise_intensity(cycle.image), cycle.label, cycle.label_source, (MYO, LV)
    )
    assert source[10] == LabelSource.EXPERT_PARTIAL
    np.testing.assert_array_equal(label[10] == LV, es == LV)
    assert dice(label[10] == MYO, full[10] == MYO) > 0.75


def test_unobserved_frames_are_neither_registered_nor_filled():
    cycle, _ = disk_cycle(size=64, labeled=(0, 10))
    observed = np.isin(np.arange(20), (0, 5, 10))
    image = np.where(observed[:, None, None], normalise_intensity(cycle.image), -1.0).astype(np.float32)
    label, source = propagate_labels(image, cycle.label, cycle.label_source, (MYO, LV), observed)
    assert np.flatnonzero(source).tolist() == [0, 5, 10] and source[5] == LabelSource.PROPAGATED
    assert not label[~observed].any()
