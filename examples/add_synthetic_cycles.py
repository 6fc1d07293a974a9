"""Add synthetic cycles, with their labels, to a MONAI pipeline in five lines.

    python examples/add_synthetic_cycles.py                      # a small simulated cohort
    python examples/add_synthetic_cycles.py --data PREPARED      # a cache from `cineaug prepare`

Prints what a batch holds: how many samples are synthetic and which classes their labels carry.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from monai.data import CacheDataset, DataLoader
from monai.transforms import Compose

import cineaug
from cineaug.prepare import write_simulated_dataset


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="prepared cache (default: simulate 8 subjects)")
    parser.add_argument("--model", default="progan-sim-64", help="shipped name or model folder")
    parser.add_argument("--prob", type=float, default=0.5, help="replacement probability")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or write_simulated_dataset(Path(tmp) / "sim", n=8, seed=0, progress=False)
        samples = list(cineaug.CycleDataset(data))

        # --- the five lines ---
        G = cineaug.load_pretrained(args.model)
        aug = cineaug.SyntheticCycleAugmenterd(keys=("image", "label"), generator=G, prob=args.prob)
        ds = CacheDataset(samples, Compose([aug]), progress=False)
        loader = DataLoader(ds, batch_size=8, shuffle=True)
        batch = next(iter(loader))
        # ----------------------

    synthetic = batch["synthetic"]
    labels = batch["label"][synthetic].unique().tolist() if synthetic.any() else []
    print(f"image {tuple(batch['image'].shape)}, label {tuple(batch['label'].shape)} {batch['label'].dtype}")
    print(f"synthetic samples: {int(synthetic.sum())} of {len(synthetic)}; their label values: {labels}")
    return batch


if __name__ == "__main__":
    main()
