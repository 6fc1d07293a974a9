"""SyntheticCycleAugmenter(d) against the MONAI conventions its docs promise (docs/transforms.md).

The numbered tests are the conformance list: 1 a ``MapTransform`` and ``RandomizableTransform`` with
the TORCH backend; 2 ``allow_missing_keys``; 3 ``prob`` 0 is the identity and 1 always applies;
4 ``set_random_state`` returns the transform and seeds it; 5 the input dict is not mutated;
6 ``Compose.set_random_state`` and ``set_determinism`` reproduce; 7 ``CacheDataset`` caches the
deterministic prefix and the transform still runs every epoch; 8 ``DataLoader`` workers differ and
reproduce; 9 ``MetaTensor`` in, ``MetaTensor`` out (plain ``Tensor`` with ``set_track_meta(False)``);
10 the synthetic flag is on every sample and collates to ``(B,)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import GENERATOR_SIZE as SIZE
from monai.data import CacheDataset, DataLoader, MetaTensor, list_data_collate
from monai.data.meta_obj import set_track_meta
from monai.transforms import Compose, Lambdad, MapTransform, RandAffined, RandomizableTransform
from monai.utils import TransformBackends, set_determinism

from cineaug.transforms import SyntheticCycleAugmenter, SyntheticCycleAugmenterd, SyntheticPool
from cineaug.transforms.synthetic import SYNTHETIC_META, SyntheticCycleAugmenterD, SyntheticCycleAugmenterDict
from cineaug.types import LabelSource


def sample(i: int = 0, pathology: str = "NOR") -> dict:
    return {
        "image": torch.full((20, SIZE, SIZE), -0.5),
        "label": torch.zeros((20, SIZE, SIZE), dtype=torch.uint8),
        "labeled": torch.tensor([True] + [False] * 19),
        "label_source": torch.tensor([1] + [0] * 19, dtype=torch.uint8),
        "annotated": torch.tensor([True, False, True, True]),
        "pathology": pathology,
        "source": "sunnybrook",
        "subject": f"s{i}",
    }


def aug(generator, prob=1.0, **kw) -> SyntheticCycleAugmenterd:
    return SyntheticCycleAugmenterd(
        ("image", "label"), generator, prob=prob, batch_size=4, **kw
    ).set_random_state(0)


def is_real(d: dict) -> bool:
    return bool(torch.all(torch.as_tensor(d["image"]) == -0.5))


def test_1_monai_traits(generator):
    t = aug(generator)
    assert isinstance(t, MapTransform) and isinstance(t, RandomizableTransform)
    assert t.backend == [TransformBackends.TORCH]
    assert SyntheticCycleAugmenterD is SyntheticCycleAugmenterd is SyntheticCycleAugmenterDict


def test_2_missing_keys(generator):
    with pytest.raises(KeyError):
        aug(generator)({"image": torch.zeros(20, SIZE, SIZE)})
    t = SyntheticCycleAugmenterd(("image", "label"), generator, prob=1.0, allow_missing_keys=True)
    out = t({"image": torch.zeros(20, SIZE, SIZE)})
    assert out["image"].shape == (20, SIZE, SIZE) and out["synthetic"]
    unchanged = t({"other": np.ones(3)})
    assert torch.equal(unchanged["other"], torch.ones(3, dtype=torch.float64))  # converted, not augmented


def test_3_prob_zero_is_identity_and_prob_one_always_applies(generator):
    t0 = aug(generator, prob=0.0)
    out = t0({**sample(), "image": np.full((20, SIZE, SIZE), -0.5, np.float32)})
    assert isinstance(out["image"], torch.Tensor) and is_real(out) and not out["synthetic"]
    t1 = aug(generator, prob=1.0)
    for _ in range(5):
        out = t1(sample())
        assert out["synthetic"] and not is_real(out)
        assert out["label"].dtype == torch.uint8 and set(out["label"].unique().tolist()) <= {0, 1, 2, 3}
        assert out["labeled"].all() and out["label_source"].eq(LabelSource.GENERATED).all()
        assert out["annotated"].all() and out["source"] == "generator" and out["pathology"] in ("NOR", "DCM")


def test_4_seeded_instances_agree(generator):
    a, b = aug(generator, prob=0.5), aug(generator, prob=0.5)
    assert a.set_random_state(3) is a
    b.set_random_state(3)
    for _ in range(8):
        x, y = a(sample()), b(sample())
        assert torch.equal(x["image"], y["image"]) and x["synthetic"] == y["synthetic"]
    c = aug(generator, prob=1.0).set_random_state(4)
    assert not torch.equal(
        c(sample())["image"], aug(generator, prob=1.0).set_random_state(3)(sample())["image"]
    )


def test_5_input_not_mutated(generator):
    data = sample()
    before = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in data.items()}
    aug(generator)(data)
    assert set(data) == set(before) and all(
        torch.equal(data[k], before[k]) if isinstance(v, torch.Tensor) else data[k] == v
        for k, v in before.items()
    )


def test_6_compose_and_set_determinism_reproduce(generator):
    def run(seed_fn):
        seed_fn()
        tf = Compose([aug(generator, prob=0.5), RandAffined(("image", "label"), prob=0.5, rotate_range=0.3)])
        tf.set_random_state(11)
        return torch.stack([tf(sample())["image"] for _ in range(6)])

    assert torch.equal(run(lambda: None), run(lambda: None))
    set_determinism(5)
    first = torch.stack([Compose([aug(generator, prob=0.5)])(sample())["image"] for _ in range(4)])
    set_determinism(5)
    again = torch.stack([Compose([aug(generator, prob=0.5)])(sample())["image"] for _ in range(4)])
    set_determinism(None)
    assert torch.equal(first, again)


def test_7_cache_dataset_caches_prefix_and_augments_every_epoch(generator):
    calls = []
    tf = Compose([Lambdad("image", lambda x: calls.append(1) or x), aug(generator, prob=0.5)])
    ds = CacheDataset([sample(i) for i in range(6)], tf, progress=False)
    assert len(calls) == 6
    epochs = [[bool(ds[i]["synthetic"]) for i in range(6)] for _ in range(4)]
    assert len(calls) == 6 and len({tuple(e) for e in epochs}) > 1  # cached once, random every epoch


def test_8_dataloader_workers_differ_and_reproduce(generator):
    def run():
        set_determinism(1)
        tf = Compose([aug(generator, prob=1.0)])
        loader = DataLoader(
            CacheDataset([sample(i) for i in range(8)], tf, progress=False), batch_size=2, num_workers=2
        )
        out = torch.cat([b["image"] for b in loader])
        set_determinism(None)
        return out

    a, b = run(), run()
    assert torch.equal(a, b)
    flat = a.flatten(1)
    assert torch.unique(flat, dim=0).shape[0] == 8  # no worker repeats another's cycles


def test_9_metatensor_in_metatensor_out(generator):
    affine = torch.diag(torch.tensor([2.5, 2.5, 1.0, 1.0], dtype=torch.float64))
    data = {
        **sample(),
        "image": MetaTensor(torch.full((20, SIZE, SIZE), -0.5), affine=affine),
        "label": MetaTensor(torch.zeros((20, SIZE, SIZE), dtype=torch.uint8), affine=affine),
    }
    out = aug(generator)(data)
    assert isinstance(out["image"], MetaTensor) and torch.equal(out["image"].affine, affine)
    assert out["image"].meta[SYNTHETIC_META] is True and out["label"].dtype == torch.uint8
    set_track_meta(False)
    try:
        plain = aug(generator)(data)
        assert not isinstance(plain["image"], MetaTensor) and isinstance(plain["image"], torch.Tensor)
    finally:
        set_track_meta(True)


def test_10_flag_on_every_sample_collates(generator):
    tf = aug(generator, prob=0.5)
    batch = next(iter(DataLoader([tf(sample(i)) for i in range(6)], batch_size=6)))
    assert batch["synthetic"].shape == (6,) and batch["synthetic"].dtype == torch.bool
    assert 0 < int(batch["synthetic"].sum()) < 6
    assert batch["image"].shape == (6, 20, SIZE, SIZE)


def test_add_mode_puts_a_synthetic_sample_beside_the_real_one_and_collates_flat(generator):
    scale = Lambdad("image", lambda x: x * 2)  # a later transform: must reach every sample of the list
    tf = Compose([aug(generator, prob=0.5, mode="add"), scale])
    tf.set_random_state(3)
    items = [tf(sample(i)) for i in range(12)]
    assert all(isinstance(x, list) and len(x) in (1, 2) for x in items)
    assert all(not bool(x[0]["synthetic"]) and torch.all(x[0]["image"] == -1.0) for x in items)  # real, x2
    added = [x[1] for x in items if len(x) == 2]
    assert 0 < len(added) < 12 and all(bool(d["synthetic"]) and d["subject"] for d in added)
    assert all(d["label_source"].eq(int(LabelSource.GENERATED)).all() for d in added)
    loader = DataLoader(CacheDataset([sample(i) for i in range(12)], tf, progress=False), batch_size=4,
                        collate_fn=list_data_collate)  # fmt: skip
    tf.set_random_state(3)
    flags = torch.cat([b["synthetic"] for b in loader])
    assert len(flags) == 12 + len(added) and int(flags.sum()) == len(added)  # same draws, flattened
    with pytest.raises(ValueError, match="mode must be one of"):
        aug(generator, mode="append")


def test_frame_wise_samples_get_one_synthetic_frame(generator):
    t = aug(generator)
    out = t({"image": torch.zeros(1, SIZE, SIZE), "label": torch.zeros(1, SIZE, SIZE, dtype=torch.uint8)})
    assert out["image"].shape == (1, SIZE, SIZE) and out["synthetic"]


def test_match_pathology_uses_the_samples_class(generator):
    t = aug(generator, match_pathology=True)
    assert all(t(sample(pathology="DCM"))["pathology"] == "DCM" for _ in range(4))
    assert {t(sample(pathology="HF-I"))["pathology"] for _ in range(12)} == {
        "NOR",
        "DCM",
    }  # unknown: any class


def test_other_sizes_are_resized(generator):
    out = aug(generator)(
        {"image": torch.zeros(20, 32, 32), "label": torch.zeros(20, 32, 32, dtype=torch.uint8)}
    )
    assert out["image"].shape == (20, 32, 32) and out["label"].dtype == torch.uint8


def test_pool_batches_and_array_transform(generator):
    pool = SyntheticPool(generator, batch_size=4, seed=0)
    first = [pool.take(0)[0] for _ in range(4)]
    same = SyntheticPool(generator, batch_size=4, seed=0)
    assert all(torch.equal(a, same.take(0)[0]) for a in first)
    again = SyntheticPool(generator, batch_size=2, seed=0)  # other batch, other kernels: rounding only
    assert all(
        torch.allclose(a, b, atol=1e-5) for a, b in zip(first[:2], [again.take(0)[0] for _ in range(2)])
    )
    t = SyntheticCycleAugmenter(generator, prob=1.0, batch_size=4).set_random_state(0)
    image, label, flag = t(torch.zeros(20, SIZE, SIZE), torch.zeros(20, SIZE, SIZE, dtype=torch.uint8))
    assert flag and image.shape == (20, SIZE, SIZE) and image.abs().max() <= 1
