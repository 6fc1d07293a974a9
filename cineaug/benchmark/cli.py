"""``cineaug benchmark | report``: typer commands over :func:`run_benchmark` and :func:`render_report`.

Registered in ``cineaug/cli.py``; :data:`app` holds both commands for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..cli_utils import fail
from ..errors import CineDataError

if TYPE_CHECKING:
    from .sources import FoldFinetune

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)

DEFAULT_ARMS = "none,affine,photometric,nnunet,sim-bssfp+nnunet@auto~,synthetic+nnunet"
"""The baselines, the recommended recipe (cineaug.recommended_augmentation) and the trained generator."""


def _ints(text: str) -> list[int]:
    """``"1,2,5"`` or ranges ``"0-4"`` (inclusive) -> integers."""
    try:
        out: list[int] = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            lo, sep, hi = part.partition("-")
            out.extend(range(int(lo), int(hi) + 1) if sep and lo else [int(part)])
        return out
    except ValueError as err:
        raise typer.BadParameter(f"expected comma-separated integers or ranges, got {text!r}") from err


def _check_device(device: str) -> None:
    """A clear error for a ``--device`` torch cannot use here."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError as err:
        raise typer.BadParameter(f"--device {device!r}: {err}") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise typer.BadParameter(f"--device {device!r}: torch sees no CUDA device on this machine")


FoldFinetuneFactory = Callable[[str, str, int, int, "str | None", "str | None", bool], "FoldFinetune"]
"""``(renderer run, training cache, images, threads, refine feedback, unlabelled cache, grow) -> per-fold
fine-tuning``, e.g. :class:`cineaug.training.FoldRendererFinetune`."""


def _check_unlabelled(unlabelled: Path | None, data: Path, test_data: Path | None) -> None:
    """Refuse an unlabelled cache that holds a test subject (its texture would leak into training):
    of ``test_data``, or of ``data`` when every subject is tested in turn (no ``test_data``)."""
    if unlabelled is None:
        return
    from ..data import CycleDataset

    tested = data if test_data is None else test_data
    try:
        shared = sorted(set(CycleDataset(unlabelled).subjects) & set(CycleDataset(tested).subjects))
    except (CineDataError, OSError) as err:
        raise typer.BadParameter(f"--renderer-unlabelled {unlabelled}: {err}") from None
    if shared:
        raise typer.BadParameter(f"--renderer-unlabelled {unlabelled} holds test subjects {shared[:5]}")


def benchmark_command_for(fold_finetune: FoldFinetuneFactory | None = None) -> Callable[..., None]:
    """The ``cineaug benchmark`` command. ``--renderer-finetune`` builds its per-fold fine-tuning with
    ``fold_finetune``, which the top-level CLI takes from :mod:`cineaug.training` (the benchmark
    imports no training); without it the flag is refused."""

    def benchmark_command(
        data: Annotated[
            Path, typer.Option("--data", help="prepared cache of training subjects, or 'simulator'")
        ],
        out: Annotated[Path, typer.Option("--out", help="output folder (results.jsonl, report.md/.html)")],
        test_data: Annotated[
            Path | None,
            typer.Option(
                "--test-data", help="cache of other subjects to test on (default: leave-one-subject-out)"
            ),
        ] = None,
        arms: Annotated[str, typer.Option(help="comma-separated arms")] = DEFAULT_ARMS,
        sizes: Annotated[str, typer.Option(help="training-set sizes in subjects")] = "2,8",
        seeds: Annotated[
            str, typer.Option(help="seeds, e.g. 0,1,2 or 0-4 (one run per arm x size x seed)")
        ] = "0,1,2",
        model: Annotated[
            str,
            typer.Option("--model", help="generator of the synthetic arms: shipped name, folder or 'none'"),
        ] = "progan-sim-64",
        bank: Annotated[
            Path | None,
            typer.Option(
                "--bank", help="draw the synthetic arms from this bank (cineaug sample) instead of --model"
            ),
        ] = None,
        sim_bank: Annotated[
            Path | None,
            typer.Option(
                "--sim-bank",
                help="simulator cycles for the sim arms (cineaug simulate OUT --size 64); default: 64 "
                "subjects simulated into OUT/data/sim-bank when a sim arm runs",
            ),
        ] = None,
        renderer: Annotated[
            str | None,
            typer.Option(help="label renderer for the render arms: a shipped name, model or run folder"),
        ] = None,
        renderer_finetune: Annotated[
            int,
            typer.Option(
                help="fine-tune --renderer (a run folder) for this many images per size and seed, "
                "on that fold's training subjects only, grown to crops twice its size (0: use it as it is)"
            ),
        ] = 0,
        renderer_grow: Annotated[
            bool,
            typer.Option(
                help="grow a fine-tuned renderer to crops twice its size; --no-renderer-grow fine-tunes "
                "and paints at its own size and upsamples the painted cycles to the crops"
            ),
        ] = True,
        renderer_refine: Annotated[
            str | None,
            typer.Option(
                help="then refine each fold's renderer: 'segmentation' (a segmenter stepped on its renders "
                "must do better on the fold's real frames) or 'unlabelled' (texture of --renderer-unlabelled)"
            ),
        ] = None,
        renderer_unlabelled: Annotated[
            Path | None,
            typer.Option(help="cache whose images (labels unused) give --renderer-refine unlabelled texture"),
        ] = None,
        n_test: Annotated[int, typer.Option(help="simulated test subjects (--data simulator)")] = 8,
        protocol: Annotated[
            str,
            typer.Option(
                help="quick: 64 px, per-frame scores (demo, CI); field: 128 px, per-volume scores in "
                "the native grid (caches prepared with --size 128; test cache with --crop image); "
                "nnunet2d: the field protocol with nnU-Net's 2D network and optimiser (a GPU's work)"
            ),
        ] = "quick",
        steps: Annotated[
            int | None, typer.Option(help="optimiser steps per run (default: the protocol's)")
        ] = None,
        threads: Annotated[int, typer.Option(help="torch CPU threads (1 when the machine is busy)")] = 2,
        augment: Annotated[
            str,
            typer.Option(
                help="how the nnunet baseline and random appearance run: per-sample (MONAI transforms "
                "per frame, as the published numbers) or batched (one call per batch: the same "
                "distribution, faster)"
            ),
        ] = "per-sample",
        device: Annotated[
            str,
            typer.Option(help="torch device of the segmentation UNet, e.g. cuda (transforms run on the CPU)"),
        ] = "cpu",
        precision: Annotated[
            str,
            typer.Option(
                help="the UNet's training arithmetic: fp32 (as the published numbers), auto (bf16 autocast "
                "where the device runs it natively: a GPU, an AVX512-BF16/AMX CPU) or bf16"
            ),
        ] = "fp32",
        max_test_frames: Annotated[
            int | None, typer.Option(help="cap on scored test frames, evenly spaced (default: all)")
        ] = None,
        resume: Annotated[
            bool, typer.Option("--resume", help="keep finished runs in OUT, run the rest")
        ] = False,
        progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    ) -> None:
        """Train a fixed 2D UNet per augmentation arm, training-set size and seed; score Dice/HD95; report."""
        from .arms import arm_spec
        from .runner import run_benchmark
        from .segmentation import PROTOCOLS

        _check_device(device)
        if protocol not in PROTOCOLS:
            raise typer.BadParameter(f"--protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
        try:
            chosen = PROTOCOLS[protocol].replace(
                threads=threads,
                max_test_frames=max_test_frames,
                device=device,
                augment=augment,
                precision=precision,
            )
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
        try:
            specs = [arm_spec(a.strip()) for a in arms.split(",") if a.strip()]
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
        finetune = None
        if renderer_finetune:
            if fold_finetune is None:
                raise typer.BadParameter(
                    "--renderer-finetune: this command was built without renderer training"
                )
            if renderer is None:
                raise typer.BadParameter(
                    "--renderer-finetune needs --renderer RUN (a renderer's training run)"
                )
            if (renderer_unlabelled is not None) != (renderer_refine == "unlabelled"):
                raise typer.BadParameter(
                    "--renderer-unlabelled goes with --renderer-refine unlabelled, and that needs it"
                )
            if str(data) != "simulator":
                _check_unlabelled(renderer_unlabelled, data, test_data)
            unlabelled = None if renderer_unlabelled is None else str(renderer_unlabelled)
            try:
                finetune = fold_finetune(
                    renderer, str(data), renderer_finetune, threads, renderer_refine, unlabelled,
                    renderer_grow,
                )  # fmt: skip
            except ValueError as err:
                raise typer.BadParameter(str(err)) from None
        elif renderer_refine is not None or renderer_unlabelled is not None or not renderer_grow:
            raise typer.BadParameter(
                "--renderer-refine and --no-renderer-grow act on fold renderers: pass --renderer-finetune N"
            )
        try:
            if str(data) == "simulator":  # train and test cohorts from disjoint simulator seeds
                from .demo import simulate_cohorts

                data, test_data = simulate_cohorts(
                    out / "data", max(_ints(sizes)), n_test, progress, size=chosen.size
                )
            if sim_bank is None and any(s.labels == "simulator" for s in specs):
                from ..data import CycleDataset
                from .demo import simulate_sim_bank

                side = int(CycleDataset(data).cycle(0).image.shape[-1])
                sim_bank = simulate_sim_bank(out / "data" / "sim-bank", size=side, progress=progress)
            folder = run_benchmark(
                data,
                test_data,
                specs,
                _ints(sizes),
                _ints(seeds),
                out,
                generator=None if model.lower() == "none" or bank is not None else model,
                steps=steps,
                progress=progress,
                protocol=chosen,
                bank=bank,
                resume=resume,
                sim_bank=sim_bank,
                renderer=renderer,
                renderer_finetune=finetune,
            )
        except (CineDataError, ValueError) as err:
            fail(err)
        typer.echo(f"results: {folder / 'results.jsonl'}; report: {folder / 'report.html'}")

    return benchmark_command


def report_command(
    out: Annotated[Path, typer.Argument(help="benchmark output folder (holds results.jsonl)")],
    merge: Annotated[
        list[Path] | None,
        typer.Option("--merge", help="first gather the runs of these benchmark folders into OUT (repeat)"),
    ] = None,
) -> None:
    """Re-render report.md and report.html from a benchmark folder's results.jsonl and artefacts."""
    from .report import merge_results, render_report

    try:
        if merge:
            merge_results(out, merge)
        path = render_report(out)
    except (FileNotFoundError, ValueError) as err:
        fail(err)
    typer.echo(f"report: {path} and {path.with_suffix('.html')}")


app.command("benchmark")(benchmark_command_for())  # no renderer training in this app
app.command("report")(report_command)


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="demo folder (data/, benchmark/report.html)")],
    model: Annotated[str, typer.Option(help="generator: shipped name or model folder")] = "progan-sim-64",
    steps: Annotated[int, typer.Option(help="optimiser steps per segmentation run (2: a smoke test)")] = 150,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    """The main job on the built-in simulator: simulate, run a reduced benchmark (5 arms), report."""
    from .demo import run_demo

    if steps < 1:
        raise typer.BadParameter(f"--steps must be >= 1, got {steps}")
    try:
        folder = run_demo(out, model=model, steps=steps, progress=progress)
    except (CineDataError, ValueError) as err:
        fail(err)
    typer.echo(f"report: {folder / 'report.html'} (and report.md); results: {folder / 'results.jsonl'}")
