"""Wheel build hook: the shipped models travel inside the wheel as ``cineaug/_pretrained``, without
the media that only their cards and the docs show (``DOCS_ONLY_SUFFIXES`` of ``cineaug.pretrained``,
marked ``docs_only`` in each manifest; ``tests/test_pretrained.py`` keeps the two lists equal)."""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DOCS_ONLY_SUFFIXES = (".gif",)


class ShippedModels(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root) / "pretrained"
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix not in DOCS_ONLY_SUFFIXES:
                build_data["force_include"][str(path)] = (
                    f"cineaug/_pretrained/{path.relative_to(root).as_posix()}"
                )
