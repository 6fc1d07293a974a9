"""``cineaug train``: the typer command over the trainer.

Registered in ``cineaug/cli.py``; :data:`app` holds it for tests, and :func:`main` runs it for
``python -m cineaug.training`` (``torchrun -m cineaug.training``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli_utils import fail
from ..errors import CineDataError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


def train_command(
    out: Annotated[Path, typer.Option("--out", help="run folder")],
    preset: Annotated[
        str,
        typer.Option(
            help="progan64, progan128, progan64-small, dcgan64, dcgan128, render64-small (label renderer)"
        ),
    ] = "progan64",
    data: Annotated[Path | None, typer.Option(help="prepared cache (cineaug prepare / simulate)")] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="train on fresh simulated subjects")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="continue from the newest training state")] = False,
    init_from: Annotated[
        Path | None,
        typer.Option("--init-from", help="fine-tune: start from this run's weights, with its configuration"),
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="override a field: --set seed=1")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Train a generator of cycles with labels (one process, or one per device under torchrun)."""
    from .config import PRESETS, parse_override
    from .finetune import finetune_config
    from .trainer import train

    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    if not resume and (data is None) == (not simulate):
        raise typer.BadParameter("pass exactly one of --data CACHE and --simulate")
    try:
        cfg = PRESETS[preset] if init_from is None else finetune_config(init_from)
        for item in overrides or []:
            cfg = parse_override(cfg, item)
        run = train(cfg, out, data=data, simulate=simulate, resume=resume, device=device, progress=progress)
    except (FileExistsError, CineDataError) as err:
        fail(err)
    typer.echo(f"run folder: {run}")


app.command("train")(train_command)


def main() -> None:
    """``python -m cineaug.training`` / ``torchrun -m cineaug.training``: the train command's flags."""
    typer.run(train_command)
