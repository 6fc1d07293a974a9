"""SyntheticCycleAugmenterd in the pipelines users have: every MONAI layout, spacing, dtype and
normalisation gets a synthetic sample in its own shape, physical scale and intensities, or a clear
error; other keys by declared roles; ``Invertd`` treats a synthetic sample as the real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Invertd, ResizeWithPadOrCropd

from cineaug.generate import SyntheticBank
from cineaug.prepare import write_simulated_dataset
from cineaug.transforms import SyntheticCycleAugmenterd
from cineaug.transforms.placement import follow_intensities, resample_to
from cineaug.transforms.synthetic import SYNTHETIC_META
from cineaug.types import LV


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four simulated cycles at 64 px over 160 mm (2.5 mm per pixel)."""
    return write_simulated_dataset(
        tmp_path_factory.mktemp("dropin") / "sim", n=4, seed=5, size=64, workers=1, progress=False
    )


@pytest.fixture(scope="module")
def one_cycle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_simulated_dataset(
        tmp_path_factory.mktemp("one") / "sim", n=1, seed=9, size=64, workers=1, progress=False
    )


def _aug(bank: Path, **kw) -> SyntheticCycleAugmenterd:
    aug = SyntheticCycleAugmenterd(keys=("image", "label"), bank=bank, prob=1.0, **kw)
    return aug.set_random_state(3)


def _meta(shape: tuple[int, ...], spacing: tuple[float, float], values: torch.Tensor, dtype=torch.float32):
    affine = torch.diag(torch.tensor([spacing[0], spacing[1], 8.0, 1.0], dtype=torch.float64))
    return {
        "image": MetaTensor(values.reshape(shape).to(dtype), affine=affine),
        "label": MetaTensor(torch.zeros(shape, dtype=torch.uint8), affine=affine),
    }


def _lv_mm2(label: torch.Tensor, spacing: tuple[float, float]) -> float:
    """Largest LV cavity cross-section over the frames, in mm^2."""
    lv = (torch.as_tensor(label) == LV).reshape(label.shape[0], -1).sum(1)
    return float(lv.max()) * spacing[0] * spacing[1]


LAYOUTS = [(20, 64, 64), (1, 128, 128), (1, 256, 216), (1, 96, 96, 1)]
SPACINGS = [(2.5, 2.5), (1.25, 1.25), (1.0, 1.0), (1.0, 1.5)]


@pytest.mark.parametrize("shape", LAYOUTS)
@pytest.mark.parametrize("spacing", SPACINGS)
def test_every_layout_and_spacing_keeps_the_shape_and_the_heart_s_physical_size(bank, shape, spacing):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(int(np.prod(shape)), generator=g) * 300 + 1000  # a raw scan's intensities
    out = _aug(bank)(_meta(shape, spacing, real))
    image, label = out["image"], out["label"]
    assert tuple(image.shape) == shape and tuple(label.shape) == shape
    assert image.dtype == torch.float32 and label.dtype == torch.uint8
    assert isinstance(image, MetaTensor) and image.meta[SYNTHETIC_META] is True
    assert bool(out["synthetic"])
    reference = _aug(bank)(_meta((shape[0], 64, 64), (2.5, 2.5), real[: shape[0] * 64 * 64]))
    want = _lv_mm2(reference["label"], (2.5, 2.5))  # the same draw, at the source's own spacing
    got = _lv_mm2(label if label.ndim == 3 else label[..., 0], spacing)
    assert want > 300 and got == pytest.approx(want, rel=0.12), (shape, spacing, got, want)
    lo, hi = np.percentile(real.numpy(), [0.5, 99.5])
    slack = 0.03 * (hi - lo)  # the percentiles come from a fixed-stride subsample of the voxels
    assert float(image.min()) >= lo - slack and float(image.max()) <= hi + slack  # the scan's range
    assert float(image.max()) > 0.5 * hi  # not [-1, 1] (a crop may leave the brightest tissue out)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int16])
def test_the_output_takes_the_sample_s_dtype_and_follows_a_z_scored_pipeline(bank, dtype):
    g = torch.Generator().manual_seed(1)
    real = torch.randn(128 * 128, generator=g)
    if dtype == torch.int16:
        real = real * 300 + 1000
    out = _aug(bank)(_meta((1, 128, 128), (1.25, 1.25), real, dtype))
    assert out["image"].dtype == dtype
    drawn = out["image"].float()
    lo, hi = np.percentile(real.numpy(), [0.5, 99.5])
    assert float(drawn.min()) == pytest.approx(lo, abs=0.05 * (hi - lo))
    assert float(drawn.max()) == pytest.approx(hi, abs=0.05 * (hi - lo))


def test_plain_tensors_read_the_spacing_key_and_keep_or_a_callable_set_intensities(bank):
    sample = {
        "image": torch.zeros(1, 128, 128),
        "label": torch.zeros(1, 128, 128),
        "spacing": torch.tensor([1.25, 1.25]),
    }
    kept = _aug(bank, intensity="keep")(sample)
    assert float(kept["image"].min()) >= -1 and float(kept["image"].max()) <= 1
    as_source = _aug(bank, intensity="keep")({**sample, "spacing": torch.tensor([2.5, 2.5])})
    assert (kept["label"] == LV).sum() > 3 * (as_source["label"] == LV).sum()  # 1.25 mm: 4x the pixels
    doubled = _aug(bank, intensity=lambda syn, real: syn * 2)(sample)
    assert torch.allclose(doubled["image"], kept["image"] * 2)
    with pytest.raises(ValueError, match="intensity"):
        SyntheticCycleAugmenterd(keys=("image", "label"), bank=bank, intensity="zscore")


def test_a_cineaug_cycle_at_the_source_spacing_is_the_banked_cycle_itself(one_cycle):
    image, label = SyntheticBank(one_cycle).read(0)
    sample = {
        "image": torch.zeros(20, 64, 64),
        "label": torch.zeros(20, 64, 64),
        "spacing": torch.tensor([2.5, 2.5]),
    }
    out = _aug(one_cycle, intensity="keep")(sample)
    assert torch.equal(out["image"], image) and torch.equal(out["label"].to(torch.uint8), label)


def test_layouts_without_an_honest_synthetic_counterpart_are_refused_by_shape(bank):
    for shape, why in (
        ((1, 96, 96, 10), "10 slices"),
        ((3, 64, 64), "3 channels"),
        ((64, 64), r"\[64, 64\]"),
    ):
        with pytest.raises(ValueError, match=why):
            _aug(bank)({"image": torch.zeros(shape), "label": torch.zeros(shape)})


def test_other_keys_take_their_declared_roles(bank):
    shape = (1, 128, 128)
    d = _meta(shape, (1.25, 1.25), torch.randn(128 * 128))
    d["t2"] = MetaTensor(torch.randn(shape) * 50 + 400, affine=d["image"].affine)
    d["weight"] = MetaTensor(torch.full(shape, 3.0), affine=d["image"].affine)
    d["mask"], d["note"] = torch.zeros(shape), torch.full(shape, 7.0)
    roles = {"t2": "image", "weight": 1.0, "mask": "label", "note": "keep"}
    out = _aug(bank, roles=roles)(d)
    assert torch.equal(out["weight"], torch.ones(shape)) and torch.equal(out["note"], d["note"])
    assert torch.equal(out["mask"], out["label"].float())
    assert 300 < float(out["t2"].mean()) < 500 and out["t2"].meta[SYNTHETIC_META] is True
    assert torch.corrcoef(torch.stack([out["t2"].flatten(), out["image"].flatten()]))[0, 1] > 0.99
    with pytest.raises(ValueError, match="roles"):
        SyntheticCycleAugmenterd(keys=("image", "label", "t2"), bank=bank)
    with pytest.raises(ValueError, match="roles"):
        SyntheticCycleAugmenterd(keys=("image", "label"), bank=bank, roles={"t2": "copy"})


def test_invertd_maps_a_synthetic_sample_back_like_the_real_one(bank):
    shape = (1, 160, 144)
    d = _meta(shape, (1.25, 1.25), torch.randn(160 * 144))
    pipeline = Compose(
        [ResizeWithPadOrCropd(("image", "label"), spatial_size=(128, 128)), _aug(bank, intensity="keep")]
    )
    out = pipeline(d)
    assert tuple(out["image"].shape) == (1, 128, 128) and out["image"].meta[SYNTHETIC_META]
    back = Invertd(("image", "label"), transform=pipeline, orig_keys=("image", "label"))(out)
    assert tuple(back["image"].shape) == shape and tuple(back["label"].shape) == shape
    assert torch.allclose(back["image"].affine, d["image"].affine)
    assert torch.allclose(back["image"][:, 16:144, 8:136], out["image"])  # the centre the crop kept
    assert float(back["image"][:, :16].abs().max()) == 0.0  # what the crop removed is padded back


def test_resample_to_crops_and_pads_about_the_centre():
    image = torch.arange(16.0).reshape(1, 4, 4)
    label = torch.zeros(1, 4, 4, dtype=torch.uint8)
    label[0, 1:3, 1:3] = 3
    big, big_label = resample_to(image, label, 1.0, (8, 6), (1.0, 1.0))
    assert big.shape == (1, 8, 6) and float(big[0, 0, 0]) == 0.0 and torch.equal(big[0, 2:6, 1:5], image[0])
    assert int((big_label == 3).sum()) == 4
    small, _ = resample_to(image, label, 1.0, (2, 2), (1.0, 1.0))
    assert torch.equal(small[0], image[0, 1:3, 1:3])
    half, half_label = resample_to(image, label, 1.0, (4, 4), (2.0, 2.0))  # 2 mm: the 4 mm heart is 2 px
    assert int((half_label == 3).sum()) == 1 and half.shape == (1, 4, 4)
    assert torch.equal(
        follow_intensities(torch.tensor([-1.0, 1.0]), torch.linspace(0, 10, 1001), "keep"),
        torch.tensor([-1.0, 1.0]),
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_sample_on_the_gpu_gets_a_synthetic_sample_on_the_gpu(bank):
    d = {k: v.cuda() for k, v in _meta((1, 128, 128), (1.25, 1.25), torch.randn(128 * 128)).items()}
    out = _aug(bank)(d)
    assert out["image"].device.type == "cuda" and out["label"].device.type == "cuda"


def _shares(loader) -> float:
    flags = torch.cat([batch["synthetic"].flatten() for batch in loader])
    return float(flags.float().mean())


def test_a_schedule_reaches_persistent_dataloader_workers(bank):
    from monai.data import DataLoader, Dataset

    from cineaug.transforms import SyntheticShareSchedule

    aug = _aug(bank, intensity="keep")
    data = [{"image": torch.zeros(1, 64, 64), "label": torch.zeros(1, 64, 64)} for _ in range(16)]
    loader = DataLoader(Dataset(data, aug), batch_size=4, num_workers=2, persistent_workers=True)
    schedule = SyntheticShareSchedule([aug], start=1.0, end=0.0, steps=2)
    seen = []
    for step in range(3):  # the share set in this process, read in the workers started at the first epoch
        schedule(step)
        seen.append(_shares(loader))
    assert seen == [1.0, pytest.approx(0.5, abs=0.4), 0.0], seen
    assert aug.prob == 0.0


def test_the_recommended_recipe_is_the_measured_arm_and_scales_with_the_subjects(bank):
    from monai.transforms import Compose

    import cineaug
    from cineaug.benchmark import arm_spec
    from cineaug.transforms import RECOMMENDED_ARM

    spec = arm_spec(RECOMMENDED_ARM)
    aug = cineaug.recommended_augmentation(5, bank, steps=100)
    assert (spec.labels, spec.appearance, spec.baseline, spec.by_size) == (
        "simulator",
        "gmm-bssfp",
        "nnunet",
        True,
    )
    assert aug.arm == RECOMMENDED_ARM and aug.synthetic.augmenter.render.bright_blood_prob == 1.0
    assert aug.schedule(0) == pytest.approx(spec.start(5)) == pytest.approx(0.2)
    assert aug.schedule(50) == pytest.approx(0.1) and aug.synthetic.prob == pytest.approx(0.1)
    assert "nearly switched off" in " ".join(cineaug.recommended_augmentation(20, bank).notes)
    sample = _meta((1, 128, 128), (1.25, 1.25), torch.randn(128 * 128))
    out = Compose(aug.transforms).set_random_state(0)(sample)
    assert tuple(out["image"].shape) == (1, 128, 128)
