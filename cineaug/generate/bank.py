"""``SyntheticBank``: synthetic cycles written earlier, drawn at random instead of running a generator.

A bank is a prepared cache (``dataset.json`` + one safetensors file per cycle), typically written by
``cineaug sample MODEL --n N --out BANK``. It serves the pool interface of
:class:`~cineaug.generate.SyntheticPool` (``take``, ``reseed``, ``class_names``,
``annotated_classes``), so that :class:`~cineaug.transforms.SyntheticCycleAugmenterd` and
:class:`~cineaug.transforms.SyntheticCycleMixd` take either. Files are memory-mapped: a draw reads
one cycle's bytes (page cache after the first epoch), so the bank costs no generator time and no
resident memory beyond the cycles in use, in every DataLoader worker.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..cache import read_index
from ..errors import CineDataError
from .pool import SyntheticPool

_DTYPES = {"F32": np.float32, "U8": np.uint8}
MAX_OPEN_MAPS = 256
"""Memory maps kept open per bank (each holds a file descriptor); the least recently used closes."""


def _tensor_layout(path: Path) -> dict[str, tuple[int, np.dtype, tuple[int, ...]]]:
    """``{name: (byte offset, dtype, shape)}`` of the tensors of a safetensors file (header only)."""
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(size))
    layout = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] not in _DTYPES:
            raise CineDataError(path, f"tensor {name!r} has dtype {spec['dtype']}, expected F32 or U8")
        layout[name] = (
            8 + size + spec["data_offsets"][0],
            np.dtype(_DTYPES[spec["dtype"]]),
            tuple(spec["shape"]),
        )
    return layout


class SyntheticBank:
    """Fully labelled cycles of a cache folder, drawn uniformly within a pathology class.

    Args:
        root: the bank folder (``dataset.json``), e.g. from ``cineaug sample MODEL --n N --out BANK``.
        seed: seed of the draws (:meth:`reseed` restarts them).

    Raises:
        CineDataError: naming the folder or the file, when the folder is not a cache, holds no
            cycles, a cycle has unlabelled frames, or a file's size disagrees with the index.

    Example:
        >>> bank = SyntheticBank("runs/bank")                 # doctest: +SKIP
        >>> image, label = bank.take(bank.class_index("NOR"))  # [T,H,W] float32, [T,H,W] uint8
    """

    def __init__(self, root: str | os.PathLike, seed: int = 0):
        self.root = Path(root)
        index = read_index(self.root)
        entries = index["cycles"]
        if not entries:
            raise CineDataError(self.root, "the bank holds no cycles")
        self.files = [self.root / e["file"] for e in entries]
        frames = {e["labeled_frames"] for e in entries}
        self._layouts = []
        for path, entry in zip(self.files, entries):
            if not path.is_file() or path.stat().st_size != entry["bytes"]:
                raise CineDataError(
                    path, "missing, truncated or half-written (size disagrees with dataset.json)"
                )
            self._layouts.append(_tensor_layout(path))
        shapes = {layout["image"][2] for layout in self._layouts}
        if len(shapes) != 1 or len(frames) != 1 or frames != {next(iter(shapes))[0]}:
            raise CineDataError(self.root, f"a bank needs fully labelled cycles of one shape; got {shapes}")
        pathologies = [e["pathology"] for e in entries]
        info = index.get("info", {})
        self.class_names: tuple[str, ...] = tuple(info.get("class_names") or sorted(set(pathologies)))
        self.annotated_classes: tuple[int, ...] = tuple(info.get("annotated_classes", (1, 2, 3)))
        prepared = index.get("spacing", {}).get("prepared_mm", {})
        self.spacing_mm: float | None = prepared.get("mean")  # mm per pixel of the cycles (None: unknown)
        self._by_class = {
            k: np.flatnonzero([p == name for p in pathologies]) for k, name in enumerate(self.class_names)
        }
        self._maps: OrderedDict[int, np.memmap] = OrderedDict()
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def n_classes(self) -> int:
        """Pathology classes of the bank."""
        return len(self.class_names)

    def reseed(self, seed: int) -> None:
        """Restart the draws from ``seed``."""
        self._rng = np.random.default_rng(int(seed))

    def class_index(self, pathology: str | None) -> int | None:
        """Index of a pathology name, or None when the bank holds no cycle of it."""
        return self.class_names.index(pathology) if pathology in self.class_names else None

    def read(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Cycle ``i``: image float32 ``[T,H,W]`` and label uint8 ``[T,H,W]`` (copies)."""
        raw = self._maps.pop(i, None)
        if raw is None:
            raw = np.memmap(self.files[i], dtype=np.uint8, mode="r")
            if len(self._maps) >= MAX_OPEN_MAPS:
                self._maps.popitem(last=False)
        self._maps[i] = raw
        out = []
        for name in ("image", "label"):
            offset, dtype, shape = self._layouts[i][name]
            count = int(np.prod(shape)) * dtype.itemsize
            out.append(torch.from_numpy(raw[offset : offset + count].view(dtype).reshape(shape).copy()))
        return out[0], out[1]

    def draw(self, class_index: int | None = None) -> int:
        """The index of a random cycle of class ``class_index`` (None or a class without cycles: any
        class): what :meth:`take` reads."""
        pool = self._by_class.get(class_index) if class_index is not None else None
        if pool is not None and len(pool):
            return int(self._rng.choice(pool))
        return int(self._rng.integers(len(self)))

    def take(self, class_index: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random cycle of class ``class_index`` (None or a class without cycles: any class)."""
        return self.read(self.draw(class_index))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_maps"] = (
            OrderedDict()
        )  # memory maps are reopened in the receiving process, never pickled whole
        return state


def cycle_source(
    generator: nn.Module | None = None,
    bank: str | os.PathLike | SyntheticBank | None = None,
    batch_size: int = 32,
    precision: str = "auto",
) -> SyntheticPool | SyntheticBank:
    """The source of synthetic cycles of a transform: a live generator pool or a bank (exactly one)."""
    if (generator is None) == (bank is None):
        raise ValueError("pass exactly one of generator= (live pool) and bank= (cycles written earlier)")
    if generator is not None:
        return SyntheticPool(generator, batch_size=batch_size, precision=precision)
    return bank if isinstance(bank, SyntheticBank) else SyntheticBank(bank)
