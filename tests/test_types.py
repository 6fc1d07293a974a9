"""The cycle contract checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cineaug import CineCycle, CycleContractError, LabelSource, check_cycle_arrays
from cineaug.types import assert_shape


def cycle(**kw) -> CineCycle:
    args = dict(
        image=np.zeros((20, 8, 8), np.float32),
        label=np.zeros((20, 8, 8), np.uint8),
        labeled=np.zeros(20, bool),
        spacing=(2.0, 2.0),
        source="t",
        subject="s",
    )
    args.update(kw)
    return CineCycle(**args)


def test_valid_cycle_and_metadata_round_trip():
    c = cycle(labeled=np.eye(20, dtype=bool)[0], extra={"a": 1})
    c.validate(prepared=True)
    assert c.label_source.tolist()[:2] == [LabelSource.EXPERT, LabelSource.NONE]
    back = CineCycle.from_arrays(c.image, c.label, c.metadata())
    assert back.metadata() == c.metadata()


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(image=np.zeros((20, 8), np.float32)), r"\[T,H,W\]"),
        (dict(image=np.zeros((20, 8, 8), np.float64)), "float32"),
        (dict(label=np.full((20, 8, 8), 4, np.uint8)), "label value 4"),
        (dict(image=np.full((20, 8, 8), 2.0, np.float32)), r"outside \[-1, 1\]"),
        (
            dict(
                image=np.zeros((12, 8, 8), np.float32),
                label=np.zeros((12, 8, 8), np.uint8),
                labeled=np.zeros(12, bool),
            ),
            "12 frames",
        ),
        (dict(label=np.ones((20, 8, 8), np.uint8)), "unlabeled frame holds labels"),
        (dict(ed_frame=3), "end-diastole"),
        (dict(spacing=(0.0, 1.0)), "spacing"),
        (dict(labeled=np.eye(20, dtype=bool)[3], observed=~np.eye(20, dtype=bool)[3]), "must be observed"),
        (dict(observed=np.eye(20, dtype=bool)[5]), "ED frame 0 is not observed"),
        (dict(observed=np.eye(20, dtype=bool)[0]), "unobserved frame's image is not -1"),
        (dict(observed=np.ones(19, bool)), "one flag per frame"),
    ],
)
def test_contract_violations_are_named(kw, match):
    with pytest.raises(CycleContractError, match=match):
        cycle(**kw).validate(prepared=True)


def test_key_frame_cycle_round_trips_and_old_metadata_reads_all_observed():
    observed = np.isin(np.arange(20), (0, 7))
    image = np.where(observed[:, None, None], np.full((20, 8, 8), 0.5), -1.0).astype(np.float32)
    c = cycle(image=image, labeled=observed, observed=observed, es_frame=7).validate(prepared=True)
    assert c.key_frames_only and c.metadata()["observed"] == observed.tolist()
    back = CineCycle.from_arrays(c.image, c.label, c.metadata())
    np.testing.assert_array_equal(back.observed, observed)
    meta = cycle().metadata()
    del meta["observed"]  # written before the flag existed
    old = CineCycle.from_arrays(np.zeros((20, 8, 8), np.float32), np.zeros((20, 8, 8), np.uint8), meta)
    assert old.observed.all() and not old.key_frames_only
    raw = cycle(
        image=np.where(observed[:, None, None], image + 300, 0.0).astype(np.float32), observed=observed
    )
    raw.validate()  # raw cycles fill unobserved frames with 0
    with pytest.raises(CycleContractError, match="ES frame is not observed"):
        cycle(image=image, observed=observed, es_frame=3).validate(prepared=True)


def test_check_arrays_accepts_torch_and_assert_shape():
    check_cycle_arrays(torch.zeros(20, 4, 4), torch.zeros(20, 4, 4, dtype=torch.uint8), prepared=True)
    assert_shape(torch.zeros(2, 20, 4, 4), [None, 20, 4, 4])
    with pytest.raises(CycleContractError):
        assert_shape(torch.zeros(2, 19, 4, 4), [None, 20, 4, 4])
