"""The batch mixer on tensors and MetaTensor batches, any batch size, and in SupervisedTrainer."""

from __future__ import annotations

import pytest
import torch
from conftest import GENERATOR_SIZE as SIZE
from monai.data import DataLoader, MetaTensor
from monai.engines import SupervisedTrainer

from cineaug.transforms import SyntheticCycleMixd, SyntheticPrepareBatch


def batch(b: int, frames: int = 20) -> dict:
    return {
        "image": torch.full((b, frames, SIZE, SIZE), -0.5),
        "label": torch.zeros((b, frames, SIZE, SIZE), dtype=torch.uint8),
    }


@pytest.mark.parametrize("b", [1, 3, 8])
def test_replace_keeps_batch_size_and_integer_labels(generator, b):
    mix = SyntheticCycleMixd(("image", "label"), generator, ratio=0.5, batch_size=4).set_random_state(0)
    out = mix(batch(b))
    k = round(0.5 * b)
    assert out["image"].shape == (b, 20, SIZE, SIZE) and out["synthetic"].tolist().count(True) == k
    changed = ~(out["image"] == -0.5).flatten(1).all(1)
    assert torch.equal(changed, out["synthetic"])
    assert out["label"].dtype == torch.uint8


def test_append_on_a_metatensor_batch(generator):
    samples = [{k: MetaTensor(v[0]) for k, v in batch(1).items()} for _ in range(3)]
    mt = next(iter(DataLoader(samples, batch_size=3)))
    assert isinstance(mt["image"], MetaTensor) and mt["image"].is_batch
    mix = SyntheticCycleMixd(("image", "label"), generator, k=2, mode="append").set_random_state(0)
    out = mix(mt)
    assert out["image"].shape == (5, 20, SIZE, SIZE) and out["synthetic"].tolist() == [False] * 3 + [True] * 2
    replaced = SyntheticCycleMixd(("image", "label"), generator, k=1).set_random_state(0)(mt)
    assert isinstance(replaced["image"], MetaTensor) and replaced["synthetic"].sum() == 1


def test_frame_batches_and_reproducibility(generator):
    a = SyntheticCycleMixd(("image", "label"), generator, k=2).set_random_state(5)(batch(4, frames=1))
    b = SyntheticCycleMixd(("image", "label"), generator, k=2).set_random_state(5)(batch(4, frames=1))
    assert a["image"].shape == (4, 1, SIZE, SIZE) and torch.equal(a["image"], b["image"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batch(generator):
    out = SyntheticCycleMixd(("image", "label"), generator, k=1)({k: v.cuda() for k, v in batch(2).items()})
    assert out["image"].is_cuda


def test_prepare_batch_in_supervised_trainer(generator):
    net = torch.nn.Conv2d(20, 4 * 20, 1)
    seen = []

    def loss(pred, label):
        seen.append(label.shape[0])
        return pred.float().mean() * 0 + torch.nn.functional.cross_entropy(
            pred.reshape(-1, 4, 20, SIZE, SIZE), label.long()
        )

    mix = SyntheticCycleMixd(("image", "label"), generator, k=1, mode="append").set_random_state(0)
    trainer = SupervisedTrainer(
        device=torch.device("cpu"), max_epochs=1, train_data_loader=[batch(2)], network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.01), loss_function=loss,
        prepare_batch=SyntheticPrepareBatch(mix),
    )  # fmt: skip
    trainer.run()
    assert seen == [3]  # 2 real + 1 synthetic went through the step
