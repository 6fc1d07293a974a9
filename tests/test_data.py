"""CycleDataset with MONAI transforms and DataLoaders; splits by subject."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import disk_cycle
from monai.data import DataLoader
from monai.transforms import Compose, RandAffined

from cineaug import CacheWriter, CycleDataset, prepare_cycle


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    base = prepare_cycle(disk_cycle()[0], size=32, fov_mm=100.0)
    with CacheWriter(root, source="test") as writer:
        for s in range(6):
            for z in range(2):
                writer.add(
                    dataclasses.replace(
                        base, subject=f"s{s}", slice_index=z, pathology="NOR" if s % 2 else "DCM"
                    )
                )
    return root


def test_samples_follow_the_contract(cache):
    ds = CycleDataset(cache)
    assert len(ds) == 12 and ds.subjects == [f"s{i}" for i in range(6)]
    s = ds[0]
    assert s["image"].shape == (20, 32, 32) and s["image"].dtype == torch.float32
    assert s["label"].dtype == torch.uint8 and s["labeled"].all()
    assert s["annotated"].tolist() == [True, False, True, True]  # bg, myo, LV: no RV in this source
    assert (s["subject"], s["slice_index"], s["pathology"]) == ("s0", 0, "DCM")


def test_monai_transform_and_dataloader(cache):
    tf = Compose(
        [RandAffined(keys=("image", "label"), prob=1.0, rotate_range=0.3, mode=("bilinear", "nearest"))]
    )
    tf.set_random_state(0)
    loader = DataLoader(CycleDataset(cache, transform=tf), batch_size=4, num_workers=0)
    batch = next(iter(loader))
    assert batch["image"].shape == (4, 20, 32, 32)  # [N,T,H,W]
    assert set(torch.unique(batch["label"]).tolist()) <= {0, 2, 3}
    assert batch["subject"] == ["s0", "s0", "s1", "s1"]


def test_split_by_subject_never_splits_a_subject(cache):
    ds = CycleDataset(cache)
    train, val, test = ds.split_by_subject((0.5, 0.25, 0.25), seed=1)
    parts = [set(p.subjects) for p in (train, val, test)]
    assert sum(map(len, parts)) == 6 and not (
        parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2]
    )
    assert len(train) + len(val) + len(test) == 12
    again = ds.split_by_subject((0.5, 0.25, 0.25), seed=1)
    assert [p.subjects for p in again] == [p.subjects for p in (train, val, test)]
    assert np.array_equal(train[0]["image"], ds.subset(train.subjects)[0]["image"])
