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
    ],
)
def test_contract_violations_are_named(kw, match):
    with pytest.raises(CycleContractError, match=match):
        cycle(**kw).validate(prepared=True)


def test_check_arrays_accepts_torch_and_assert_shape():
    check_cycle_arrays(torch.zeros(20, 4, 4), torch.zeros(20, 4, 4, dtype=torch.uint8), prepared=True)
    assert_shape(torch.zeros(2, 20, 4, 4), [None, 20, 4, 4])
    with pytest.raises(CycleContractError):
        assert_shape(torch.zeros(2, 19, 4, 4), [None, 20, 4, 4])
