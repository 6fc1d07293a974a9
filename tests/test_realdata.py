"""Real cycles for the discriminator: key-frame cycles are never shown to it as real."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import key_frame_cycle

from cineaug import CacheWriter, CineDataError, prepare_cycle
from cineaug.training.realdata import RealCycles


def write_cache(root: Path, n_key: int, n_full: int) -> Path:
    """``n_key`` key-frame cycles (ED, ES) and ``n_full`` fully observed, labelled cycles."""
    key = prepare_cycle(key_frame_cycle(), size=16, fov_mm=100.0)
    full = dataclasses.replace(  # every frame acquired (0 where the key-frame cycle has its fill)
        key,
        image=np.where(key.observed[:, None, None], key.image, 0.0).astype(np.float32),
        observed=None,
        labeled=np.ones(20, bool),
        label=np.repeat(key.label[:1], 20, 0),
        label_source=None,
    )
    with CacheWriter(root, source="test") as w:
        for i in range(n_key + n_full):
            w.add(dataclasses.replace(key if i < n_key else full, subject=f"s{i}"))
    return root


def test_key_frame_cycles_are_dropped_even_without_full_labels(tmp_path):
    root = write_cache(tmp_path, n_key=2, n_full=3)
    for require in (True, False):
        reals = RealCycles.from_cache(root, 16, require_full_labels=require)
        assert len(reals) == 3 and reals.dropped == 2
        assert not (reals.images == -1).all(dim=(2, 3)).any()  # no fill frame among the reals


def test_nothing_usable_names_the_cache_and_why(tmp_path):
    root = write_cache(tmp_path, n_key=3, n_full=0)
    with pytest.raises(CineDataError, match=re.escape(str(root))) as info:
        RealCycles.from_cache(root, 16, require_full_labels=False)
    assert "no usable cycle for GAN training among 3: 3 hold key frames only" in str(info.value)
    assert "unobserved frames as real" in str(info.value)
