"""What every ``cineaug`` command shares: the one way a command fails on bad input."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_BAD_INPUT = 2
"""Exit status of a command stopped by bad input (a :class:`~cineaug.errors.CineDataError`, a bad value)."""


def fail(err: Exception) -> NoReturn:
    """Print ``error: <err>`` in red on stderr and exit with :data:`EXIT_BAD_INPUT` (no traceback).

    Use it in an ``except`` block: the exit is chained to ``err`` for debuggers.
    """
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=EXIT_BAD_INPUT) from err
