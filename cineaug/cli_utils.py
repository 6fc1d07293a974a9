"""What every ``cineaug`` command shares: the one way a command fails on bad input.

Exit status: 0 done, 1 failed (bad input, a refused overwrite: one ``error:`` line), 2 a usage error
(an unknown option or a bad value, from typer/click).
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import typer

EXIT_BAD_INPUT = 1
"""Exit status of a command stopped by bad input (a :class:`~cineaug.errors.CineDataError`, a bad value
found while working); usage errors (typer's ``BadParameter``) exit 2."""


def fail(err: Exception) -> NoReturn:
    """Print ``error: <err>`` on stderr and exit with :data:`EXIT_BAD_INPUT` (no traceback).

    Use it in an ``except`` block: the exit is chained to ``err`` for debuggers.
    """
    _stderr_line(f"error: {err}")
    raise typer.Exit(code=EXIT_BAD_INPUT) from err


def _stderr_line(text: str) -> None:
    """One line on stderr, above any progress bar still drawn."""
    from tqdm.auto import tqdm

    tqdm.write(text, file=sys.stderr)


def print_version(value: bool) -> None:
    """``--version``: print ``cineaug <version>`` and exit 0 (a typer eager-option callback)."""
    if value:
        from ._version import __version__

        typer.echo(f"cineaug {__version__}")
        raise typer.Exit()


class StderrLines(logging.Handler):
    """``warning: <message>``, one line per record, on the stderr of the moment (above any progress
    bar, through ``tqdm.write``)."""

    def emit(self, record: logging.LogRecord) -> None:
        _stderr_line(f"{record.levelname.lower()}: {record.getMessage()}")


def log_to_stderr() -> None:
    """What the library logs on the ``cineaug`` logger (skipped items, losses) as one clean line each:
    the command line's choice, made here and nowhere in the library."""
    logger = logging.getLogger("cineaug")
    logger.handlers = [h for h in logger.handlers if not isinstance(h, StderrLines)] + [StderrLines()]
