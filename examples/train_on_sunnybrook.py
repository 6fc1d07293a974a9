"""Train a generator of labelled cycles on Sunnybrook, then use it in a MONAI pipeline.

    python examples/train_on_sunnybrook.py                         # a simulated Sunnybrook-like cohort
    python examples/train_on_sunnybrook.py --sunnybrook PATH       # real SCD data, any of its three layouts
    python examples/train_on_sunnybrook.py --sunnybrook PATH --init-from RUN --images 20000

1. prepare: read, propagate the experts' ED/ES contours to every frame, crop, normalise (a cache);
2. train: the ``progan64-small`` preset (minutes on 2 CPU cores), or fine-tune a run of yours
   (Sunnybrook pathologies mapped onto its ACDC classes: HF-I -> MINF, HF-NI -> DCM, HYP -> HCM, N -> NOR);
3. use: the newest snapshot feeds ``SyntheticCycleAugmenterd``; OUT/samples/samples.gif shows its cycles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import cineaug
from cineaug.generate.sample import write_bank
from cineaug.prepare import write_simulated_dataset
from cineaug.training.config import PRESETS
from cineaug.training.finetune import SUNNYBROOK_TO_ACDC, finetune_config
from cineaug.training.trainer import train


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sunnybrook", type=Path, help="Sunnybrook root (default: simulate 24 subjects)")
    parser.add_argument("--out", type=Path, default=Path("runs/sunnybrook-gan"))
    parser.add_argument("--images", type=int, default=6000, help="real images shown to the discriminator")
    parser.add_argument("--init-from", type=Path, help="fine-tune this run (a run folder of `cineaug train`)")
    args = parser.parse_args(argv)

    data = args.out / "data"
    if (data / "dataset.json").is_file():
        pass  # prepared by an earlier run of this script
    elif args.sunnybrook:
        cineaug.prepare_dataset("sunnybrook", args.sunnybrook, data, size=64)
    else:
        write_simulated_dataset(data, n=24, seed=0, label_set="sunnybrook")

    if args.init_from:
        cfg = finetune_config(args.init_from, total_images=args.images, class_map=SUNNYBROOK_TO_ACDC)
    else:
        cfg = PRESETS["progan64-small"].replace(total_images=args.images)
    run = args.out / "run"
    train(cfg, run, data=data, resume=(run / "options.json").is_file())

    snapshot = sorted(run.glob("snapshot-*"))[-1]
    G = cineaug.load_pretrained(snapshot)
    write_bank(snapshot, args.out / "samples", n=8, formats=("gif",), progress=False)

    aug = cineaug.SyntheticCycleAugmenterd(keys=("image", "label"), generator=G, prob=1.0)
    sample = aug(cineaug.CycleDataset(data)[0])
    drawn = torch.unique(torch.as_tensor(sample["label"])).tolist()
    print(f"snapshot {snapshot.name}: a synthetic sample {tuple(sample['image'].shape)}, classes {drawn}")
    print(f"samples: {args.out / 'samples' / 'samples.gif'}")
    return snapshot


if __name__ == "__main__":
    main()
