"""The recommended recipe in a MONAI pipeline of scanner-like frames: MetaTensors at 1.25 mm, z-scored,
DataLoader workers that persist, and a share of synthetic samples that falls over training.

    python examples/recommended_recipe.py                 # simulated patients and simulator cycles

Prints, per epoch, the share the schedule set and how many samples of the epoch were synthetic, and
checks that every synthetic sample came back in the real one's shape, spacing and intensity range.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from monai.data import DataLoader, Dataset, MetaTensor
from monai.transforms import Compose, NormalizeIntensityd

import cineaug


def frames_at_scanner_spacing(cache: Path) -> list[dict]:
    """The ED frame of every cycle as ``[1,128,128]`` MetaTensors with a 1.25 mm affine."""
    out = []
    for sample in cineaug.CycleDataset(cache):
        affine = torch.diag(torch.tensor([1.25, 1.25, 10.0, 1.0], dtype=torch.float64))
        image = sample["image"][:1] * 400 + 600  # raw-scanner-like values before normalisation
        out.append(
            {
                "image": MetaTensor(image, affine=affine),
                "label": MetaTensor(sample["label"][:1], affine=affine),
            }
        )
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        patients = cineaug.write_simulated_dataset(
            Path(tmp) / "patients", n=4, seed=1, size=128, progress=False
        )
        sim = cineaug.write_simulated_dataset(Path(tmp) / "sim", n=8, seed=2, size=64, progress=False)
        data = frames_at_scanner_spacing(patients)

        aug = cineaug.recommended_augmentation(n_subjects=4, sim_bank=sim, steps=args.epochs - 1)
        pipeline = Compose([NormalizeIntensityd("image"), *aug.transforms])  # z-score, then the recipe
        loader = DataLoader(
            Dataset(data * 4, pipeline),
            batch_size=4,
            num_workers=args.workers,
            persistent_workers=args.workers > 0,
        )
        epochs = []
        for epoch in range(args.epochs):
            share = aug.schedule(epoch)  # one step per epoch here; per iteration in a real loop
            batches = list(loader)
            synthetic = torch.cat([b["synthetic"] for b in batches])
            images = torch.cat([b["image"] for b in batches])
            assert images.shape[1:] == (1, 128, 128) and images.abs().max() < 20  # z-score range, not [-1, 1]
            epochs.append(
                {
                    "epoch": epoch,
                    "share": round(share, 3),
                    "synthetic": int(synthetic.sum()),
                    "of": len(synthetic),
                }
            )
            print(f"epoch {epoch}: share {share:.3f}, {int(synthetic.sum())} of {len(synthetic)} synthetic")
    for note in aug.notes:
        print("note:", note)
    return epochs


if __name__ == "__main__":
    main()
