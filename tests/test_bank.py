"""SyntheticBank: cycles sampled once (`cineaug sample MODEL --out BANK`), drawn instead of a generator."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import GENERATOR_SIZE as SIZE

from cineaug.data import CycleDataset
from cineaug.errors import CineDataError
from cineaug.generate.sample import write_bank
from cineaug.models import save_pretrained
from cineaug.transforms import SyntheticBank, SyntheticCycleAugmenterd, SyntheticCycleMixd
from cineaug.types import LabelSource


@pytest.fixture(scope="module")
def bank(generator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bank")
    save_pretrained(generator.eval(), root / "model", extra={"spacing_mm": 2.0})
    return write_bank(root / "model", root / "bank", n=12, seed=3, batch=5, progress=False)


def test_sample_writes_a_cache_with_every_frame_labelled(bank: Path) -> None:
    ds = CycleDataset(bank)
    assert len(ds) == 12 and (bank / "samples.gif").is_file()
    s = ds[0]
    assert s["image"].shape == (20, SIZE, SIZE) and bool(s["labeled"].all())
    assert {x["pathology"] for x in ds} <= {"NOR", "DCM"} and s["source"] == "generator"


def test_per_class_draws_come_from_that_class(bank: Path) -> None:
    ds = CycleDataset(bank)
    by_class = {name: [x["image"] for x in ds if x["pathology"] == name] for name in ("NOR", "DCM")}
    b = SyntheticBank(bank, seed=0)
    assert b.class_names == ("NOR", "DCM") and b.annotated_classes == (1, 2, 3)
    for name, images in by_class.items():
        for _ in range(5):
            image, label = b.take(b.class_index(name))
            assert image.dtype == torch.float32 and label.dtype == torch.uint8
            assert any(torch.equal(image, x) for x in images)


def test_draws_are_seeded_and_survive_pickling(bank: Path) -> None:
    a, b = SyntheticBank(bank, seed=7), SyntheticBank(bank, seed=7)
    first = [a.take()[0] for _ in range(6)]
    assert all(torch.equal(x, b.take()[0]) for x in first)
    a.reseed(7)
    assert torch.equal(a.take()[0], first[0])
    clone = pickle.loads(pickle.dumps(a))
    assert torch.equal(clone.take()[0], a.take()[0])
    other = SyntheticBank(bank, seed=8)
    assert not all(torch.equal(x, other.take()[0]) for x in first)


def test_draw_names_the_cycle_that_take_reads(bank: Path) -> None:
    a, b = SyntheticBank(bank, seed=4), SyntheticBank(bank, seed=4)
    for k in (None, 0, 1, None):
        i = a.draw(k)
        image, label = b.take(k)
        assert torch.equal(a.read(i)[0], image) and torch.equal(a.read(i)[1], label)
        if k is not None:
            assert a.class_names[k] == CycleDataset(bank)[i]["pathology"]


def test_augmenter_from_a_bank_keeps_the_live_contract(bank: Path) -> None:
    sample = {
        "image": torch.zeros(20, SIZE, SIZE),
        "label": torch.zeros(20, SIZE, SIZE, dtype=torch.uint8),
        "labeled": torch.tensor([True] + [False] * 19),
        "observed": torch.tensor([True, False] * 10),
        "label_source": torch.tensor([1] + [0] * 19, dtype=torch.uint8),
        "pathology": "DCM",
    }
    aug = SyntheticCycleAugmenterd(("image", "label"), bank=bank, prob=1.0, match_pathology=True)
    out = aug.set_random_state(0)(sample)
    assert bool(out["synthetic"]) and out["pathology"] == "DCM" and bool(out["labeled"].all())
    assert bool(out["observed"].all())
    assert bool((out["label_source"] == LabelSource.GENERATED).all())
    again = aug.set_random_state(0)(sample)
    assert torch.equal(torch.as_tensor(out["image"]), torch.as_tensor(again["image"]))
    frame = aug({"image": torch.zeros(1, 32, 32), "label": torch.zeros(1, 32, 32, dtype=torch.uint8)})
    assert frame["image"].shape == (1, 32, 32)


def test_mixer_from_a_bank(bank: Path) -> None:
    batch = {
        "image": torch.zeros(8, 20, SIZE, SIZE),
        "label": torch.zeros(8, 20, SIZE, SIZE, dtype=torch.uint8),
    }
    out = SyntheticCycleMixd(("image", "label"), bank=bank, k=3).set_random_state(0)(batch)
    assert int(out["synthetic"].sum()) == 3
    assert np.isin(out["label"][out["synthetic"]].unique().numpy(), [0, 1, 2, 3]).all()


def test_bad_banks_are_refused_with_the_file_named(bank: Path, tmp_path: Path, generator) -> None:
    import shutil

    with pytest.raises(ValueError, match="exactly one of generator"):
        SyntheticCycleAugmenterd(("image", "label"), generator=generator, bank=bank)
    with pytest.raises(CineDataError, match="not a cineaug cache"):
        SyntheticBank(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(bank, broken)
    victim = sorted((broken / "cycles").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(CineDataError, match=victim.name):
        SyntheticBank(broken)
