"""The one error type of cineaug's data path, and the log of what a reader skipped or warned about.

Skips and losses are logged, one line each, on the ``cineaug`` logger (:data:`logger`, WARNING). The
library never configures logging; the ``cineaug`` command line prints them as ``warning: ...``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

logger = logging.getLogger("cineaug")
"""Where cineaug reports what it skipped or read with a loss (configure it as any library logger)."""


class CineDataError(Exception):
    """Bad input: names the file (or folder) and what is wrong with it.

    Example:
        >>> str(CineDataError("/data/1.dcm", "pixel data truncated"))
        '/data/1.dcm: pixel data truncated'
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.path, self.problem))


@dataclass
class ReadLog:
    """Collects the items a reader skipped and the losses it warned about, with reasons (both are
    written to dataset.json, as ``skipped`` and ``warnings``).

    Args:
        strict: raise :class:`CineDataError` instead of skipping (warnings never raise).
    """

    strict: bool = False
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def skip(self, error: CineDataError) -> None:
        """Record a skipped item, or raise it when ``strict``."""
        if self.strict:
            raise error
        self.skipped.append({"path": error.path, "reason": error.problem})
        logger.warning("skipped %s", error)

    def warn(self, path: str | os.PathLike, problem: str) -> None:
        """Record a loss that skips nothing (the item is read anyway) and log it."""
        self.warnings.append({"path": os.fspath(path), "reason": problem})
        logger.warning("%s: %s", os.fspath(path), problem)
