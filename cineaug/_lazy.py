"""PEP 562 lazy exports: a package names what its submodules define without importing them, so that
``import cineaug`` and ``cineaug --help`` load no torch, MONAI or reader until a name is used."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps an attribute to the submodule that
    defines it (relative, e.g. ``".runner"``); the submodule loads on first use and the value is kept.

    Example:
        >>> __getattr__ = lazy_exports(__name__, {"run_benchmark": ".runner"})  # doctest: +SKIP
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
