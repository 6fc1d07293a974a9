"""Random appearance painted per batch: the per-sample painter's distribution, after collation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import GENERATOR_SIZE
from monai.data import list_data_collate, set_track_meta
from skimage.filters import gaussian
from skimage.transform import resize

from cineaug.benchmark import (
    ArmSources,
    Protocol,
    added_transform,
    arm_spec,
    batch_transform,
    draw_batches,
    train_model,
    training_transform,
)
from cineaug.benchmark.arms import BatchStage, paints_in_batch
from cineaug.benchmark.segmentation import collate_tissues
from cineaug.transforms import BatchedCycleAppearance, RandCycleAppearance, SyntheticCycleAugmenterd
from cineaug.transforms.batched_appearance import gaussian_blur, low_resolution, tail_quantile
from cineaug.types import LV, MYO, RV

SIZE = 48


def tissue_frame() -> np.ndarray:
    """A heart (LV cavity in a myocardial ring, an RV beside it) on four background tissues (vertical
    bands, as :func:`~cineaug.tissues.tissue_map` numbers them, 4-7): ``[1,H,W]`` int64."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    tissue = 4 + xx * 4 // SIZE
    ring = np.hypot(yy - 0.5 * SIZE, xx - 0.55 * SIZE)
    tissue[(np.hypot(yy - 0.5 * SIZE, xx - 0.25 * SIZE) < 0.2 * SIZE) & (ring >= 0.25 * SIZE)] = RV
    tissue[ring < 0.25 * SIZE] = MYO
    tissue[ring < 0.17 * SIZE] = LV
    return tissue[None]


def painted_statistics(images: np.ndarray, tissue: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image statistics of ``[N,H,W]`` paintings of ``tissue`` ``[H,W]``: each tissue's mean,
    the contrast order of the blood pools, spread, texture and edge strength."""
    lv, myo, rv = (images[:, tissue == k].mean(1) for k in (LV, MYO, RV))
    return {
        "lv": lv,
        "myo": myo,
        "rv": rv,
        "background": images[:, tissue >= 4].mean(1),
        "bright_blood": ((lv > myo) & (rv > myo)).astype(float),
        "sd": images.std((1, 2)),
        "lv_texture": images[:, tissue == LV].std(1),
        "edges": np.abs(np.diff(images, axis=2)).mean((1, 2)),
        "dark_share": (images < -0.5).mean((1, 2)),
    }


def differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Per statistic: the difference of the means in units of its spread, and the ratio of spreads."""
    out = {}
    for key in a:
        spread = max(a[key].std(), 1e-6)
        out[key] = (abs(a[key].mean() - b[key].mean()) / spread, b[key].std() / spread)
    return out


def test_batched_painting_draws_the_per_sample_distribution():
    n = 1500
    tissue = tissue_frame()
    per_sample = RandCycleAppearance().set_random_state(0)
    a = painted_statistics(np.stack([per_sample(tissue).numpy()[0] for _ in range(n)]), tissue[0])
    batch = torch.from_numpy(tissue)[None].repeat(n, 1, 1, 1)

    def batched(**settings) -> dict[str, np.ndarray]:
        painted = BatchedCycleAppearance(**settings).set_random_state(1)(batch)
        assert painted.shape == batch.shape and painted.dtype == torch.float32
        assert painted.min() >= -1 and painted.max() <= 1
        return painted_statistics(painted[:, 0].numpy(), tissue[0])

    same = differences(a, batched())
    for key, (shift, ratio) in same.items():
        assert shift < 0.12, (key, shift)
        assert 0.85 < ratio < 1.15, (key, ratio)
    # the comparison sees a change of the contrast order and of the noise
    assert differences(a, batched(bright_blood_prob=0.8))["bright_blood"][0] > 0.3
    assert differences(a, batched(noise_std=0.1))["lv_texture"][0] > 0.3


def test_blur_and_resolution_loss_are_scikit_images():
    rng = np.random.default_rng(0)
    frames = rng.random((2, 1, 30, 40)).astype(np.float32)
    mixed = gaussian_blur(
        torch.from_numpy(frames), torch.tensor([0.3, 1.0]), torch.tensor([0.3, 1.0]), "replicate"
    )
    for frame, sigma, ours in zip(frames, (0.3, 1.0), mixed):  # one call, each cycle its own kernel
        np.testing.assert_allclose(
            ours.numpy(), gaussian(frame, sigma=(0, sigma, sigma), preserve_range=True), atol=1e-5
        )
    for sigma in (0.0, 0.3, 1.0):
        ours = gaussian_blur(
            torch.from_numpy(frames), torch.tensor([sigma] * 2), torch.tensor([sigma] * 2), "replicate"
        )
        theirs = np.stack([gaussian(f, sigma=(0, sigma, sigma), preserve_range=True) for f in frames])
        np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-5)
    cycle = gaussian(rng.random((2, 64, 60)), sigma=(0, 2, 2))
    for small in ((40, 50), (33, 59)):
        theirs = resize(resize(cycle, (2, *small), order=1, anti_aliasing=True), cycle.shape, order=1)
        np.testing.assert_allclose(
            low_resolution(torch.from_numpy(cycle).float(), small).numpy(), theirs, atol=1e-5
        )


def test_tail_quantile_is_torchs_quantile():
    x = torch.randn(3, 999)
    for q in (0.0, 0.005, 0.3, 0.995, 1.0):
        torch.testing.assert_close(tail_quantile(x, q), torch.quantile(x, q, dim=1), atol=1e-5, rtol=0)


def test_paint_rewrites_the_synthetic_samples_alone_and_reproduces():
    image = torch.rand(3, 1, SIZE, SIZE)
    before = image.clone()
    tissue = torch.from_numpy(tissue_frame())[None].repeat(3, 1, 1, 1)
    synthetic = torch.tensor([True, False, True])
    paint = BatchedCycleAppearance().set_random_state(0)
    out = paint.paint(image, tissue, synthetic)
    assert torch.equal(image, before) and torch.equal(out[1], image[1])
    assert not torch.equal(out[0], image[0]) and not torch.equal(out[0], out[2])
    assert torch.equal(out, BatchedCycleAppearance().set_random_state(0).paint(image, tissue, synthetic))
    assert not torch.equal(out, BatchedCycleAppearance().set_random_state(1).paint(image, tissue, synthetic))
    with pytest.raises(ValueError, match=r"\[B,C,H,W\] of one shape"):
        paint.paint(image, tissue[:, :, :8], synthetic)
    assert BatchedCycleAppearance(RandCycleAppearance(bright_blood_prob=1.0)).look.bright_blood_prob == 1.0
    with pytest.raises(ValueError, match="not both"):
        BatchedCycleAppearance(RandCycleAppearance(), noise_std=0.1)


def cycle_sample() -> dict:
    return {
        "image": torch.full((1, GENERATOR_SIZE, GENERATOR_SIZE), -0.5),
        "label": torch.zeros((1, GENERATOR_SIZE, GENERATOR_SIZE), dtype=torch.uint8),
        "annotated": torch.ones(4, dtype=torch.bool),
    }


def test_batch_painting_leaves_the_tissue_map_with_each_sample(generator):
    def augmenter(prob: float, **kw) -> SyntheticCycleAugmenterd:
        return SyntheticCycleAugmenterd(
            ("image", "label"), generator, prob=prob, appearance="gmm", intensity="keep", paint="batch", **kw
        ).set_random_state(0)

    drawn = augmenter(1.0)(cycle_sample())
    tissue, label = drawn["tissue"], drawn["label"]
    assert bool(drawn["synthetic"]) and tissue.dtype == torch.uint8 and tissue.shape == drawn["image"].shape
    assert torch.equal(drawn["image"], torch.zeros_like(drawn["image"]))  # painted after collation
    heart = torch.as_tensor(label) > 0
    assert heart.any() and torch.equal(tissue[heart].long(), torch.as_tensor(label)[heart].long())
    assert bool((tissue[~heart] >= 4).all())  # the background as intensity classes
    kept = augmenter(0.0)(cycle_sample())
    assert not bool(kept["synthetic"]) and torch.equal(
        kept["tissue"], torch.zeros(1, GENERATOR_SIZE, GENERATOR_SIZE, dtype=torch.uint8)
    )
    batch = list_data_collate([drawn, kept])
    painted = BatchedCycleAppearance().paint(batch["image"], batch["tissue"], batch["synthetic"])
    assert painted[0].std() > 0 and torch.equal(painted[1], batch["image"][1])
    with pytest.raises(ValueError, match="intensity='keep'"):
        SyntheticCycleAugmenterd(("image", "label"), generator, appearance="gmm", paint="batch")
    with pytest.raises(ValueError, match="paint must be one of"):
        SyntheticCycleAugmenterd(
            ("image", "label"), generator, appearance="gmm", intensity="keep", paint="gpu"
        )
    with pytest.raises(ValueError, match="no image is drawn here"):
        augmenter(1.0, roles={"t2": "image"})
    larger = {k: torch.zeros(1, 2 * GENERATOR_SIZE, 2 * GENERATOR_SIZE) for k in ("image", "label")}
    with pytest.raises(ValueError, match="paints in the sample's grid.*use paint='sample'"):
        augmenter(1.0)(larger)


def test_batched_recipe_paints_per_batch_and_trains_reproducibly(generator):
    recipe, nnunet = arm_spec("gmm+nnunet@0.5"), arm_spec("nnunet")
    assert paints_in_batch(recipe, "batched") and not paints_in_batch(recipe, "per-sample")
    assert not paints_in_batch(nnunet, "batched") and not paints_in_batch(arm_spec("gmm+affine"), "batched")
    assert isinstance(batch_transform(recipe, "batched"), BatchStage)
    sources = ArmSources(generator=generator)
    samples = [
        {
            "image": torch.rand(20, GENERATOR_SIZE, GENERATOR_SIZE) * 2 - 1,
            "label": torch.zeros(20, GENERATOR_SIZE, GENERATOR_SIZE, dtype=torch.long),
            "annotated": torch.ones(4, dtype=torch.bool),
        }
        for _ in range(2)
    ]
    tf = training_transform(recipe, sources, augment="batched")
    set_track_meta(False)
    try:
        items = [tf.set_random_state(s)(samples[0]) for s in range(8)]
    finally:
        set_track_meta(True)
    extra = collate_tissues(items)
    assert extra["tissue"].shape == (8, 1, GENERATOR_SIZE, GENERATOR_SIZE) and extra["synthetic"].any()
    assert collate_tissues([{"image": torch.zeros(1)}]) == {}
    protocol = Protocol(
        size=GENERATOR_SIZE, steps=3, batch_size=4, channels=(8, 16), threads=1, augment="batched"
    )
    # an @+ arm: its real samples carry no tissue map, the added synthetic ones do, and are painted
    added = arm_spec("gmm+nnunet@+0.5")
    stage = batch_transform(added, "batched").set_random_state(0)
    real = training_transform(added, sources, "batched").set_random_state(0)
    synthetic = added_transform(added, sources, "batched").set_random_state(1)
    batches = draw_batches(samples, real, protocol.replace(steps=1), 0, synthetic, 2, None, stage)
    image, _, _ = next(iter(batches))
    assert image.shape[0] == 6 and bool((image[4:].flatten(1).std(1) > 0.1).all())

    def trained(seed: int) -> list[torch.Tensor]:
        tf = training_transform(recipe, sources, augment="batched")
        model, _ = train_model(
            samples, tf, protocol, seed, batch_transform=batch_transform(recipe, "batched")
        )
        return list(model.parameters())

    a, b, c = trained(1), trained(1), trained(2)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not all(torch.equal(p, q) for p, q in zip(a, c))


def test_batch_painting_of_own_labels_and_one_slice_volumes():
    label = torch.from_numpy(tissue_frame()).clamp(max=3).to(torch.uint8)  # [1,H,W] heart classes
    image = torch.where(label > 0, 0.5, -0.5)
    own = SyntheticCycleAugmenterd(
        ("image", "label"), own_labels=True, appearance="gmm", intensity="keep", paint="batch", prob=1.0
    ).set_random_state(0)
    volume = own({"image": image[..., None], "label": label[..., None]})  # [1,H,W,1], as a 3D pipeline's
    tissue, warped = volume["tissue"], torch.as_tensor(volume["label"])
    assert tissue.shape == (1, SIZE, SIZE, 1) and warped.shape == tissue.shape
    heart = warped > 0
    assert heart.any() and torch.equal(tissue[heart].long(), warped[heart].long())  # the warped labels
    painted = BatchedCycleAppearance().paint(
        volume["image"][None, ..., 0], tissue[None, ..., 0], torch.tensor([True])
    )
    assert painted.shape == (1, 1, SIZE, SIZE) and painted.std() > 0
