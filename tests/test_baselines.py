"""Baseline augmentations keep a cycle's frames apart and its labels on the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cineaug.transforms import BASELINES, baseline


def frame_index_cycle(size: int = 48) -> dict[str, torch.Tensor]:
    """Frame t holds the value -0.95 + 0.1 t everywhere, and an LV disk labelled 3."""
    values = -0.95 + 0.1 * torch.arange(20, dtype=torch.float32)
    image = values[:, None, None].expand(20, size, size).clone()  # [T,H,W]
    rr, cc = np.mgrid[:size, :size]
    disk = torch.from_numpy((rr - size / 2) ** 2 + (cc - size / 2) ** 2 < (size / 5) ** 2)
    label = (3 * disk).to(torch.uint8).expand(20, size, size).clone()
    return {"image": image, "label": label}


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_frames_stay_apart_and_in_order(name):
    tf = baseline(name)
    tf.set_random_state(1)
    for _ in range(15):
        out = tf(frame_index_cycle())
        image, label = torch.as_tensor(out["image"]), torch.as_tensor(out["label"])
        assert image.shape == (20, 48, 48) and label.shape == (20, 48, 48)
        means = image.reshape(20, -1).median(dim=1).values
        # in order (contrast changes may saturate the extreme frames together), never mixed
        assert torch.all(means[1:] >= means[:-1]), f"{name}: frames mixed or reordered: {means}"
        assert torch.all(means[6:14] > means[5:13]), f"{name}: mid-cycle frames merged: {means}"
        # spatial transforms move every frame alike: the label is the same in every frame
        assert torch.equal(label, label[:1].expand_as(label)), name
        assert set(torch.unique(label).tolist()) <= {0, 3}


def test_reproducible_with_a_seed():
    a, b = baseline("nnunet"), baseline("nnunet")
    a.set_random_state(7)
    b.set_random_state(7)
    for _ in range(5):
        torch.testing.assert_close(
            torch.as_tensor(a(frame_index_cycle())["image"]), torch.as_tensor(b(frame_index_cycle())["image"])
        )


def test_unknown_name():
    with pytest.raises(ValueError, match="choose one of none, affine"):
        baseline("mixup")
