"""The one error type of cineaug's data path, and the log of items skipped while reading."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field


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


class SkippedItemWarning(UserWarning):
    """An item of a data set was skipped; the rest was read."""


@dataclass
class ReadLog:
    """Collects the items a reader skipped, with reasons (written to dataset.json).

    Args:
        strict: raise :class:`CineDataError` instead of skipping.
    """

    strict: bool = False
    skipped: list[dict[str, str]] = field(default_factory=list)

    def skip(self, error: CineDataError) -> None:
        """Record a skipped item, or raise it when ``strict``."""
        if self.strict:
            raise error
        self.skipped.append({"path": error.path, "reason": error.problem})
        warnings.warn(f"skipped {error}", SkippedItemWarning, stacklevel=2)
