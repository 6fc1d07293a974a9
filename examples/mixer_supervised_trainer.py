"""The batch mixer in MONAI's SupervisedTrainer: a quarter of every batch becomes synthetic frames.

    python examples/mixer_supervised_trainer.py                   # simulated train/test cohorts
    python examples/mixer_supervised_trainer.py --data TRAIN --test-data TEST

Trains a frame-wise 2D UNet for a few epochs with ``SyntheticCycleMixd`` applied to each collated
batch through ``SyntheticPrepareBatch``, then prints the mean Dice on the test frames.
Needs pytorch-ignite (``pip install "cineaug[engines]"``), as MONAI's engines do.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from monai.data import CacheDataset, DataLoader
from monai.engines import SupervisedTrainer
from monai.losses import DiceCELoss
from monai.metrics import DiceMetric
from monai.networks.nets import UNet
from monai.networks.utils import one_hot
from monai.transforms import Compose

import cineaug
from cineaug.prepare import write_simulated_dataset
from cineaug.transforms import LabeledFramesd, RandFramed


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="prepared cache to train on (default: simulate 4 subjects)")
    parser.add_argument("--test-data", type=Path, help="prepared cache to score on (default: simulate 3)")
    parser.add_argument("--model", default="progan-sim-64", help="shipped name or model folder")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--ratio", type=float, default=0.25, help="fraction of each batch made synthetic")
    args = parser.parse_args(argv)
    torch.manual_seed(0)  # monai's DataLoader seeds the random transforms from torch's RNG
    with tempfile.TemporaryDirectory() as tmp:
        train_data = args.data or write_simulated_dataset(Path(tmp) / "train", n=4, seed=1000, progress=False)
        test_data = args.test_data or write_simulated_dataset(
            Path(tmp) / "test", n=3, seed=2000, progress=False
        )
        keys = ("image", "label")
        train_ds = CacheDataset(
            list(cineaug.CycleDataset(train_data)), Compose([RandFramed(keys)]), progress=False
        )
        test_frames = [f for s in cineaug.CycleDataset(test_data) for f in LabeledFramesd(keys)(s)]

    loader = DataLoader(train_ds, batch_size=8, shuffle=True)
    net = UNet(spatial_dims=2, in_channels=1, out_channels=4, channels=(16, 32, 64), strides=(2, 2))
    mixer = cineaug.SyntheticCycleMixd(keys, cineaug.load_pretrained(args.model), ratio=args.ratio)
    mixer.set_random_state(0)
    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=args.epochs,
        train_data_loader=loader,
        network=net,
        optimizer=torch.optim.AdamW(net.parameters(), 2e-3),
        loss_function=DiceCELoss(to_onehot_y=True, softmax=True),
        prepare_batch=cineaug.SyntheticPrepareBatch(mixer),
    )
    trainer.run()

    net.eval()
    image = torch.stack([torch.as_tensor(f["image"]) for f in test_frames])  # [F,1,H,W]
    label = torch.stack([torch.as_tensor(f["label"]) for f in test_frames]).long()  # [F,1,H,W]
    with torch.no_grad():
        pred = net(image).argmax(1, keepdim=True)  # [F,1,H,W]
    dice = DiceMetric(include_background=False)(one_hot(pred, 4), one_hot(label, 4)).nanmean().item()
    print(
        f"{args.epochs} epochs, {args.ratio:.0%} synthetic per batch: "
        f"mean Dice {dice:.3f} on {len(test_frames)} test frames"
    )
    return dice


if __name__ == "__main__":
    main()
