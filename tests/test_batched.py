"""The batched nnU-Net augmentation: the per-sample pipeline's distribution, on whole batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import set_track_meta
from monai.networks.layers.convutils import gaussian_1d

from cineaug.benchmark import Protocol, arm_spec, batch_transform, train_model, training_transform
from cineaug.transforms import BatchedNnunetAugment, RandFramed, baseline
from cineaug.transforms.batched import erf_kernels

SIZE = 48


def heart_frame() -> tuple[torch.Tensor, torch.Tensor]:
    """An off-centre LV (cavity in a myocardial ring) beside an RV on a left-to-right intensity ramp,
    so flips, rotations and zooms all move the statistics below: image and label ``[1,H,W]``."""
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")

    def within(cy: float, cx: float, r: float) -> torch.Tensor:
        return (yy - cy * SIZE) ** 2 + (xx - cx * SIZE) ** 2 < (r * SIZE) ** 2

    label = torch.zeros(SIZE, SIZE, dtype=torch.long)
    label[within(0.45, 0.62, 0.22)] = 2
    label[within(0.45, 0.62, 0.15)] = 3
    label[within(0.40, 0.30, 0.12)] = 1
    image = torch.tensor([-0.6, 0.5, -0.2, 0.7])[label] + 0.3 * xx / SIZE - 0.1
    return image[None], label[None]


def frame_statistics(image: torch.Tensor, label: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-frame statistics of ``[N,1,H,W]`` frames: intensity, texture, label extent and position."""
    image, label = image[:, 0].float(), label[:, 0]
    lv = (label == 3).float()
    pixels = lv.sum((1, 2)).clamp(min=1)
    idx = torch.arange(SIZE).float()
    return {
        "mean": image.mean((1, 2)),
        "sd": image.std((1, 2)),
        "edges": (image[:, :, 1:] - image[:, :, :-1]).abs().mean((1, 2)),
        "min": image.amin((1, 2)),
        "max": image.amax((1, 2)),
        "lv_share": lv.mean((1, 2)),
        "heart_share": (label > 0).float().mean((1, 2)),
        "lv_row": (lv.sum(2) * idx).sum(1) / pixels,
        "lv_col": (lv.sum(1) * idx).sum(1) / pixels,
    }


def test_batched_augmentation_draws_the_per_sample_distribution():
    n = 2048
    image, label = heart_frame()
    per_sample = baseline("nnunet")
    per_sample.set_random_state(0)
    set_track_meta(False)
    try:
        outs = [per_sample({"image": image.clone(), "label": label.clone()}) for _ in range(n)]
    finally:
        set_track_meta(True)
    old = frame_statistics(
        torch.stack([torch.as_tensor(o["image"]) for o in outs]),
        torch.stack([torch.as_tensor(o["label"]) for o in outs]),
    )
    aug = BatchedNnunetAugment(seed=0)
    batches = [aug(image[None].repeat(16, 1, 1, 1), label[None].repeat(16, 1, 1, 1)) for _ in range(n // 16)]
    new = frame_statistics(torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches]))
    for name in old:
        spread = float(old[name].std())
        # means within 0.12 of the statistic's spread (4 standard errors of a difference of two means
        # at n = 2048), spreads within 20 % (two per-sample runs of other seeds differ by up to 15 %)
        assert abs(float(old[name].mean() - new[name].mean())) < 0.12 * spread + 1e-6, name
        assert abs(float(new[name].std()) / spread - 1) < 0.2, name


def test_batched_augmentation_keeps_labels_on_the_anatomy_and_is_seeded():
    image, label = heart_frame()
    image, label = label.float()[None].repeat(64, 1, 1, 1), label[None].repeat(64, 1, 1, 1)
    aug = BatchedNnunetAugment()
    warped, warped_label = aug._spatial(image, label)  # the geometry alone: image = label values
    assert set(warped_label.unique().tolist()) <= {0, 1, 2, 3} and warped_label.dtype == torch.long
    agree = (warped.round().long() == warped_label).float().mean()
    assert agree > 0.97  # bilinear and nearest sampling differ only along class edges
    moved = (warped_label != label).flatten(1).any(1).float().mean()
    assert 0.6 < moved < 0.9  # flips (3/4 of frames move one), rotations, zooms; some frames untouched

    one = aug.set_random_state(7)(image, label)
    two = aug.set_random_state(7)(image, label)
    other = aug.set_random_state(8)(image, label)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])
    assert not torch.equal(one[0], other[0])


def test_batched_blur_kernels_are_monais():
    sigmas = torch.tensor([0.1, 0.5, 0.62, 0.875, 1.0, 1.6])  # tails 1 to 6 px, some at a rounding edge
    kernels = erf_kernels(sigmas, half=7)
    assert kernels.shape == (6, 15)
    for sigma, kernel in zip(sigmas, kernels):
        monai = gaussian_1d(sigma, truncated=4.0, approx="erf", normalize=True)
        r = (len(monai) - 1) // 2
        assert torch.allclose(kernel[7 - r : 8 + r], monai, atol=1e-7)
        assert kernel[: 7 - r].eq(0).all() and kernel[8 + r :].eq(0).all()
    with pytest.raises(ValueError, match="shorter than the longest kernel tail 6"):
        erf_kernels(sigmas, half=5)


def test_batched_augmentation_leaves_its_inputs_alone():
    image, label = heart_frame()
    image, label = image[None].repeat(32, 1, 1, 1), label[None].repeat(32, 1, 1, 1)
    before = image.clone(), label.clone()
    BatchedNnunetAugment(seed=3)(image, label)
    assert torch.equal(image, before[0]) and torch.equal(label, before[1])


def test_batched_augmentation_refuses_mismatched_batches():
    aug = BatchedNnunetAugment()
    with pytest.raises(ValueError, match=r"\[B,1,H,W\]"):
        aug(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[B,1,H,W\]"):
        aug(torch.zeros(1, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long))


def test_batched_protocol_leaves_the_nnunet_baseline_to_the_batch():
    nnunet, affine = arm_spec("nnunet"), arm_spec("affine")
    per_sample = training_transform(nnunet)
    batched = training_transform(nnunet, augment="batched")
    assert [type(t) for t in batched.transforms] == [RandFramed]
    assert len(per_sample.transforms) == 2
    assert isinstance(batch_transform(nnunet, "batched"), BatchedNnunetAugment)
    assert batch_transform(nnunet) is None and batch_transform(affine, "batched") is None
    assert len(training_transform(affine, augment="batched").transforms) == 2  # no batched affine
    with pytest.raises(ValueError, match="unknown augment 'gpu'"):
        Protocol(augment="gpu")


def test_batched_protocol_trains_reproducibly():
    rng = np.random.default_rng(0)
    image, label = heart_frame()
    samples = [
        {
            "image": (
                image.repeat(20, 1, 1) + 0.05 * torch.from_numpy(rng.normal(size=(20, SIZE, SIZE)))
            ).float(),
            "label": label.repeat(20, 1, 1),
            "annotated": torch.ones(4, dtype=torch.bool),
        }
        for _ in range(2)
    ]
    protocol = Protocol(size=SIZE, steps=4, batch_size=4, channels=(8, 16), threads=1, augment="batched")
    spec = arm_spec("nnunet")

    def trained(seed: int) -> list[torch.Tensor]:
        tf = training_transform(spec, augment="batched")
        model, _ = train_model(samples, tf, protocol, seed, batch_transform=batch_transform(spec, "batched"))
        return list(model.parameters())

    a, b, c = trained(1), trained(1), trained(2)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not all(torch.equal(p, q) for p, q in zip(a, c))
