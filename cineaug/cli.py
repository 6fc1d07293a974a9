"""The ``cineaug`` command line: thin wrappers over the library's public functions."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from .cli_utils import fail, log_to_stderr, print_version
from .errors import CineDataError
from .kinds import KINDS

app = typer.Typer(
    name="cineaug",
    help="Generative augmentation of cine cardiac MRI: prepare data, simulate, train, augment, benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


Kind = Enum("Kind", [(kind, kind) for kind in KINDS], type=str)
"""The data kinds of ``cineaug prepare``: :data:`cineaug.kinds.KINDS` (named, not imported: the
command line loads nothing heavy until a command runs)."""


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Generative augmentation of cine cardiac MRI: prepare data, simulate, train, augment, benchmark."""
    log_to_stderr()


class Crop(str, Enum):
    labels = "labels"
    image = "image"


@app.command()
def prepare(
    kind: Kind = typer.Argument(..., help="data set kind"),
    input_path: str = typer.Argument(
        ..., help="data set folder (a file for nifti); for simulator, options: n=100,seed=0,label_set=acdc"
    ),
    output: Path = typer.Argument(..., help="cache folder to write"),
    size: int = typer.Option(64, help="output side in pixels (64 or 128)"),
    fov_mm: float = typer.Option(160.0, help="field of view kept around the heart, mm"),
    propagate: bool = typer.Option(True, help="propagate expert labels to every frame"),
    workers: int = typer.Option(2, help="processes for preprocessing"),
    strict: bool = typer.Option(False, help="stop at the first bad item instead of skipping it"),
    subjects: str = typer.Option(
        None, help="keep only these subjects: a split (acdc-dev-train, acdc-dev-test) or a comma list"
    ),
    crop: Crop = typer.Option(
        Crop.labels, help="centre crops on the expert labels (training) or on the image alone (test sets)"
    ),
    native_labels: bool = typer.Option(
        None,
        "--native-labels/--no-native-labels",
        help="keep the expert labels in the native grid too, for per-volume scores "
        "(default: with --crop image)",
    ),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Read a data set (or simulate one), prepare 20-frame cycles and write a cache (one file per cycle +
    dataset.json)."""
    from .prepare import prepare_dataset
    from .splits import subject_list

    try:
        index_path = prepare_dataset(
            kind.value,
            input_path,
            output,
            size=size,
            fov_mm=fov_mm,
            propagate=propagate,
            workers=workers,
            strict=strict,
            subjects=None if subjects is None else subject_list(subjects),
            crop=crop.value,
            keep_native=native_labels,
            progress=progress,
        )
    except (CineDataError, ValueError) as err:
        fail(err)
    counts = json.loads(index_path.read_text())["counts"]
    typer.echo(
        f"wrote {counts['cycles']} cycles of {counts['subjects']} subjects to {output} "
        f"({counts['labeled_cycles']} labelled, {counts['key_frame_cycles']} key frames only, "
        f"{counts['skipped']} skipped, {counts['warnings']} warnings); preview: {output}/preview.gif"
    )


class LabelSet(str, Enum):
    acdc = "acdc"
    sunnybrook = "sunnybrook"


class SimFormat(str, Enum):
    cache = "cache"
    acdc = "acdc"


@app.command()
def simulate(
    output: Path = typer.Argument(..., help="folder to write"),
    n: int = typer.Option(100, "--n", help="number of subjects"),
    seed: int = typer.Option(0, help="base seed: subject i uses (seed, i)"),
    label_set: LabelSet = typer.Option(LabelSet.acdc, help="pathology classes"),
    size: int = typer.Option(64, help="output side in pixels (cache format)"),
    fov_mm: float = typer.Option(160.0, help="field of view kept around the heart, mm (cache format)"),
    fmt: SimFormat = typer.Option(SimFormat.cache, "--format", help="prepared cache, or an ACDC-layout tree"),
    workers: int = typer.Option(2, help="processes"),
    strict: bool = typer.Option(
        False, help="stop at the first subject that fails preparation (cache format)"
    ),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Simulate labelled short-axis bSSFP cycles with the built-in phantom (the cache format is
    `cineaug prepare simulator n=N,seed=S,label_set=L OUTPUT`)."""
    from .prepare import write_simulated_dataset

    try:
        path = write_simulated_dataset(
            output,
            n=n,
            seed=seed,
            label_set=label_set.value,
            size=size,
            fmt=fmt.value,
            workers=workers,
            progress=progress,
            fov_mm=fov_mm,
            strict=strict,
        )
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(f"wrote {n} simulated subjects to {path}")


@app.command("simulate-gallery")
def simulate_gallery(
    output: Path = typer.Argument(..., help="folder for the montages (PNG) and GIFs"),
    label_set: LabelSet = typer.Option(LabelSet.acdc, help="pathology classes"),
    seed: int = typer.Option(0, help="seed"),
) -> None:
    """One montage and one animated GIF per pathology class."""
    from .simulate import render_gallery

    render_gallery(output, label_set=label_set.value, seed=seed)
    typer.echo(f"wrote the gallery to {output}")


@app.command("models")
def models_command(
    terms: bool = typer.Option(False, "--terms", help="also print each model's citations"),
) -> None:
    """List the shipped models: name, what it is, resolution, the data it was trained on, the license
    of its weights and the terms of that data."""
    from .pretrained import available, catalog, describe, model_terms

    rows, folders = catalog(), available()
    if not rows:
        typer.echo("no shipped models in this installation")
    for row in rows:
        folder = folders[row["name"]]
        typer.echo(f"{row['name']}: {describe(folder)}")
        typer.echo(f"    trained on: {row['data']}; weights: {row['weights']}")
        typer.echo(f"    data terms: {row['terms']}")
        if terms:
            for d in model_terms(folder)["data"]:
                typer.echo(f"    cite ({d['name']}): {d['citation']}")


export_app = typer.Typer(
    help="Write synthetic data or models for other tools (nnU-Net v2).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(export_app, name="export")


class Frames(str, Enum):
    ed_es = "ed,es"
    ed = "ed"
    es = "es"
    all = "all"


@export_app.command("nnunet")
def export_nnunet_command(
    out: Path = typer.Argument(
        ..., help="nnU-Net raw dataset folder (nnUNet_raw/DatasetNNN_Name), existing or new"
    ),
    bank: Path = typer.Option(..., "--bank", help="cycles with labels: cineaug simulate / sample / render"),
    n: int = typer.Option(100, "--n", help="synthetic cycles drawn (one case per frame of --frames)"),
    frames: Frames = typer.Option(Frames.ed_es, help="frames of each cycle written as cases"),
    appearance: str = typer.Option("gmm-bssfp", help="source, gmm or gmm-bssfp (the recommended recipe)"),
    prefix: str = typer.Option("cineaug", help="case names: PREFIX_NNNN"),
    seed: int = typer.Option(0, help="seed of the draws"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Write synthetic training cases (imagesTr/, labelsTr/) into an nnU-Net v2 raw dataset and count
    them in its dataset.json."""
    from .transforms.nnunet import export_nnunet

    if n < 1:
        raise typer.BadParameter(f"--n must be >= 1, got {n}")
    try:
        folder = export_nnunet(bank, out, n, frames.value.split(","), appearance, prefix, seed, progress)
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(f"wrote synthetic cases {prefix}_* to {folder} (dataset.json updated)")


@app.command("export-bundle")
def export_bundle_command(
    name: str = typer.Argument(..., help="shipped model name or model folder"),
    output: Path = typer.Argument(..., help="bundle folder to write"),
) -> None:
    """Write a MONAI bundle (configs/metadata.json, models/model.pt) of a generator."""
    from .bundle import export_bundle

    try:
        out = export_bundle(name, output)
    except CineDataError as err:
        fail(err)
    typer.echo(f"wrote the MONAI bundle to {out}")


def _register_training_commands() -> None:
    from .generate.cli import evaluate_command, render_command, sample_command
    from .training.cli import train_command

    app.command("train")(train_command)
    app.command("sample")(sample_command)
    app.command("evaluate")(evaluate_command)
    app.command("render")(render_command)


def _fold_renderer_finetune(  # noqa: ANN202
    renderer: str, data: str, images: int, threads: int, refine: str | None = None,
    unlabelled: str | None = None, grow: bool = True,
):  # fmt: skip
    """``cineaug benchmark --renderer-finetune [--no-renderer-grow] [--renderer-refine F]``: training's
    per-fold fine-tuning and refinement (loaded when used)."""
    from .training.fold_renderer import FoldRendererFinetune
    from .training.refine import RefineSettings

    settings = None if refine is None else RefineSettings.of(refine, unlabelled=unlabelled)
    return FoldRendererFinetune(renderer, data, images, threads, settings, grow)


def _register_benchmark_commands() -> None:
    from .benchmark.cli import benchmark_command_for, demo_command, report_command

    app.command("benchmark")(benchmark_command_for(_fold_renderer_finetune))
    app.command("report")(report_command)
    app.command("demo")(demo_command)


_register_training_commands()
_register_benchmark_commands()

if __name__ == "__main__":
    app()
