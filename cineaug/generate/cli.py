"""``cineaug sample | render | evaluate``: typer commands that run trained networks.

``sample`` draws a generator's cycles into a bank, ``render`` paints label cycles with a label
renderer into a bank, ``evaluate`` scores a generator, a renderer or a bank against real data.
Registered in ``cineaug/cli.py``; :data:`app` holds the three commands for tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli_utils import fail
from ..errors import CineDataError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


def sample_command(
    source: Annotated[
        str, typer.Argument(help="shipped model name, model folder or run folder (newest snapshot)")
    ],
    out: Annotated[Path, typer.Option("--out", help="folder to write (the bank)")],
    n: Annotated[int, typer.Option("--n", help="number of cycles")] = 16,
    pathology: Annotated[str | None, typer.Option(help="class to condition on (default: all)")] = None,
    seed: Annotated[int, typer.Option(help="seed of z and classes")] = 0,
    batch: Annotated[int, typer.Option(help="cycles per generator pass")] = 32,
    precision: Annotated[str, typer.Option(help="auto (bf16 only where native), bf16 or fp32")] = "auto",
    formats: Annotated[str, typer.Option(help="comma-separated: cache, gif, nifti")] = "cache,gif",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Draw synthetic cycles with labels into a bank: a cache (dataset.json + cycles/) that
    SyntheticCycleAugmenterd(bank=OUT) and CycleDataset read, samples.gif, optionally NIfTI."""
    from .sample import write_bank

    try:
        write_bank(source, out, n, pathology, seed, batch, precision, _formats(formats), progress)
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(f"wrote {n} cycles to {out}")


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = set(formats) - {"cache", "gif", "nifti"}
    if unknown or not formats:
        raise typer.BadParameter(f"formats must be among cache, gif, nifti; got {text!r}")
    return formats


def evaluate_command(
    source: Annotated[
        str,
        typer.Argument(
            help="shipped model name, model folder or run folder (newest snapshot); or a bank of "
            "cycles (cineaug sample / render / simulate) to evaluate as they are; a label renderer is "
            "scored on the labelled frames of --data"
        ),
    ],
    data: Annotated[Path, typer.Option("--data", help="prepared cache of real cycles")],
    n: Annotated[int, typer.Option("--n", help="generated cycles (the first N of a bank)")] = 128,
    seed: Annotated[int, typer.Option(help="seed")] = 0,
    out: Annotated[Path | None, typer.Option("--out", help="also write the results as JSON here")] = None,
    pathology: Annotated[
        str | None, typer.Option(help="draw only this class, and count every real cycle as it")
    ] = None,
) -> None:
    """Print each metric beside its real-vs-real floor (SWD, FID/KID, MS-SSIM, motion, physiology)."""
    import numpy as np

    from ..data import CycleDataset
    from ..metrics.evaluate import evaluate_sets, format_report
    from ..pretrained import load_pretrained
    from ..training.realdata import RealCycles
    from .sample import draw_cycles

    try:
        if (Path(source) / "dataset.json").is_file():  # a bank: its cycles against the reals, unconditioned
            side = int(CycleDataset(source, verify=False).cycle(0).image.shape[-1])
            bank = RealCycles.from_cache(source, side, conditional=False)
            reals = RealCycles.from_cache(data, side, conditional=False)
            images, labels = bank.images[:n].numpy(), bank.labels[:n].numpy()
            classes, real_cls = np.zeros(len(images), int), np.zeros(len(reals), int)
        elif hasattr(g := load_pretrained(source), "n_tissues"):  # a label renderer: frame metrics
            images = None
            results = _renderer_results(g, data, n, seed)
        else:
            reals = RealCycles.from_cache(data, g.resolution, conditional=bool(g.class_names))
            images, labels, classes = draw_cycles(g, n, pathology, seed)
            names = list(g.class_names)
            real_cls = [
                names.index(reals.class_names[c]) if names and reals.class_names else 0 for c in reals.classes
            ]
            if pathology is not None:  # e.g. a model fine-tuned on one class of another data set
                real_cls = [int(classes[0])] * len(real_cls)
        if images is not None:
            real = (reals.images.numpy(), reals.labels.numpy())
            results = evaluate_sets(images, labels, *real, classes, real_cls, seed)
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(format_report(results))
    if out is not None:
        from ..atomic import atomic_write_json

        atomic_write_json(out, results)
        typer.echo(f"wrote {out}")


def _renderer_results(g, data: Path, n: int, seed: int) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """A label renderer on the labelled frames of ``data``: ``n`` of their tissue maps rendered and
    compared with the frames (SWD, FID, KID beside the real-vs-real floor; L1 to the frame of the
    same map), and eight simulated cycles rendered for flicker (``temporal_*``, no floor here)."""
    import torch

    from ..tissues import N_HEART_CLASSES
    from ..training.realframes import RealFrames, simulated_tissue_cycles
    from ..training.render_step import evaluate_renderer

    clusters = g.n_tissues - N_HEART_CLASSES
    frames = RealFrames.from_cache(data, g.resolution, clusters)
    gen = torch.Generator().manual_seed(seed)
    idx, others = frames.metric_split(n, gen)
    z = torch.randn(len(idx), g.latent_dim, generator=gen)
    cycles = simulated_tissue_cycles(8, g.resolution, clusters, seed)
    flat = evaluate_renderer(g, frames, idx, z, cycles, floor=others)
    floor = lambda k: flat.get(f"{k}_floor", float("nan"))  # noqa: E731
    return {k: {"fake": v, "floor": floor(k)} for k, v in flat.items() if not k.endswith("_floor")}


def render_command(
    renderer: Annotated[str, typer.Argument(help="label renderer: shipped name, model folder or run folder")],
    labels: Annotated[
        Path, typer.Option("--labels", help="cache of fully labelled cycles (cineaug simulate, sample)")
    ],
    out: Annotated[Path, typer.Option("--out", help="folder to write (the bank)")],
    n: Annotated[int | None, typer.Option("--n", help="render the first N cycles (default: all)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the latents")] = 0,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Paint the label cycles of a cache with a label renderer into a bank (dataset.json + cycles/,
    samples.gif) that SyntheticCycleAugmenterd(bank=OUT) draws from."""
    from .render_bank import write_rendered_bank

    if (out / "dataset.json").is_file():
        fail(FileExistsError(f"{out} already holds a bank: choose another folder"))
    try:
        write_rendered_bank(renderer, labels, out, seed, n, progress)
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(f"wrote the rendered bank to {out}")


app.command("sample")(sample_command)
app.command("evaluate")(evaluate_command)
app.command("render")(render_command)
