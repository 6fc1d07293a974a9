"""Pick a label source and an appearance for synthetic samples, and look at what they give.

    python examples/label_sources_and_appearance.py --out sources.png                 # simulated data
    python examples/label_sources_and_appearance.py --data PREPARED --out sources.png # your cache

Three label sources (simulator cycles, a generator's bank, the sample's own labels warped) x two
appearances (the source's own image, a random rendering): one row each, the image above its
labels, one labelled frame per sample. Returns the number of synthetic samples per row.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from monai.data import get_track_meta, set_track_meta  # noqa: E402

import cineaug  # noqa: E402
from cineaug.generate.sample import write_bank  # noqa: E402
from cineaug.prepare import write_simulated_dataset  # noqa: E402


def _draw(args: argparse.Namespace) -> dict[str, list[dict]]:
    """Three label sources x two appearances, ``args.n`` synthetic frame samples each."""
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or write_simulated_dataset(Path(tmp) / "data", n=4, seed=0, progress=False)
        size = cineaug.CycleDataset(data)[0]["image"].shape[-1]
        sim = write_simulated_dataset(Path(tmp) / "sim", n=8, seed=100, size=size, progress=False)
        bank = write_bank(args.model, Path(tmp) / "bank", n=8, formats=("cache",), progress=False)
        frames = cineaug.RandFramed(("image", "label")).set_random_state(0)
        samples = [frames(s) for s in cineaug.CycleDataset(data)]  # one labelled frame [1,H,W] each
        sources = {
            "simulator": {"bank": sim},
            "generator": {"bank": bank},
            "own labels": {"own_labels": True},
        }
        rows = {}
        for name, source in sources.items():
            for appearance in ("source", "gmm"):
                # --- the choice: a label source and an appearance ---
                aug = cineaug.SyntheticCycleAugmenterd(
                    keys=("image", "label"), prob=1.0, appearance=appearance, **source
                ).set_random_state(1)
                rows[f"{name}, {appearance}"] = [aug(samples[i % len(samples)]) for i in range(args.n)]
    return rows


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="prepared cache (default: simulate 4 subjects)")
    parser.add_argument(
        "--model", default="progan-sim-64", help="generator of the bank: shipped name or folder"
    )
    parser.add_argument("--n", type=int, default=6, help="samples per row")
    parser.add_argument("--out", type=Path, default=Path("label_sources.png"))
    args = parser.parse_args(argv)
    tracked = get_track_meta()
    set_track_meta(False)  # plain tensors: this script reads no metadata
    try:
        rows = _draw(args)
    finally:
        set_track_meta(tracked)
    fig, axes = plt.subplots(2 * len(rows), args.n, figsize=(1.3 * args.n, 2.6 * len(rows)), squeeze=False)
    for r, (title, outs) in enumerate(rows.items()):
        for j, d in enumerate(outs):
            axes[2 * r, j].imshow(d["image"][0], cmap="gray", vmin=-1, vmax=1)
            axes[2 * r + 1, j].imshow(d["label"][0], cmap="viridis", vmin=0, vmax=3, interpolation="nearest")
        axes[2 * r, 0].set_title(title, fontsize=8, loc="left")
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    plt.close(fig)
    print(f"wrote {args.out}")
    return {title: sum(bool(d["synthetic"]) for d in outs) for title, outs in rows.items()}


if __name__ == "__main__":
    main()
