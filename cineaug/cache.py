"""The prepared-data cache: one safetensors file per cycle plus ``dataset.json``.

Layout::

    OUTPUT/
      dataset.json                 source, counts, skipped items, warnings, spacing statistics, version,
                                   index (per file: labelled and observed frames, size, sha256)
      cycles/<source>_<subject>_<slice>.safetensors
                                   tensors "image" float32 [T,H,W], "label" uint8 [T,H,W], and
                                   "native_label" uint8 [K,H0,W0] where preparation kept it;
                                   metadata {"cycle": JSON of CineCycle.metadata()}

Every file is written to a temporary name and renamed into place (:mod:`cineaug.atomic`). ``dataset.json``
records each file's size and sha256, so that a truncated or altered file is detected on read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ._version import __version__
from .atomic import atomic_write_bytes, atomic_write_json
from .errors import CineDataError, logger
from .types import CineCycle, LabelSource

FORMAT = "cineaug-cache"
FORMAT_VERSION = 1
INDEX = "dataset.json"


def _file_name(cycle: CineCycle) -> str:
    safe = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{cycle.source}_{cycle.subject}")
    return f"{safe}_{cycle.slice_index:03d}.safetensors"


def encode_cycle(cycle: CineCycle) -> bytes:
    """A cycle as safetensors bytes (arrays as tensors, metadata as JSON in the header)."""
    arrays = {"image": np.ascontiguousarray(cycle.image), "label": np.ascontiguousarray(cycle.label)}
    if cycle.native_label is not None:
        arrays["native_label"] = np.ascontiguousarray(cycle.native_label)
    return st_save(arrays, metadata={"cycle": json.dumps(cycle.metadata())})


def decode_cycle(data: bytes, path: str | os.PathLike) -> CineCycle:
    """Inverse of :func:`encode_cycle`; errors name ``path``."""
    try:
        arrays = st_load(data)
        header_len = int.from_bytes(data[:8], "little")  # safetensors: u64 length, then the JSON header
        meta = json.loads(json.loads(data[8 : 8 + header_len])["__metadata__"]["cycle"])
    except (SafetensorError, KeyError, ValueError) as err:
        raise CineDataError(path, f"unreadable cache file ({err})") from err
    return CineCycle.from_arrays(arrays["image"], arrays["label"], meta, arrays.get("native_label"))


class CacheWriter:
    """Write prepared cycles into a cache folder; ``close()`` writes ``dataset.json``.

    A folder that an interrupted run left (cycle files, no ``dataset.json``), or a complete cache
    written again, is written afresh: the writer says so when it starts (the ``cineaug`` logger), and
    ``close()`` removes the cycle files the new index does not list, once that index is written, so
    that nothing stale stays beside the new cycles and nothing is lost before the new cache exists.

    Example:
        >>> with CacheWriter(out, source="sunnybrook") as w:   # doctest: +SKIP
        ...     for cycle in cycles:
        ...         w.add(cycle)
    """

    def __init__(self, out_dir: str | os.PathLike, source: str, info: dict[str, Any] | None = None):
        self.root = Path(out_dir)
        self.source = source
        self.info = dict(info or {})
        self.entries: list[dict[str, Any]] = []
        self.cycles_meta: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []
        self.warnings: list[dict[str, str]] = []
        self.started = time.time()
        (self.root / "cycles").mkdir(parents=True, exist_ok=True)
        left = sum(1 for _ in (self.root / "cycles").glob("*.safetensors"))
        if left:
            what = (
                "an earlier cache"
                if (self.root / INDEX).is_file()
                else "an interrupted run (no dataset.json)"
            )
            logger.warning(
                "%s holds %d cycle files of %s: writing afresh; the ones not rewritten are removed when "
                "this run completes",
                self.root, left, what,
            )  # fmt: skip

    def add(self, cycle: CineCycle) -> None:
        """Validate and write one prepared cycle (atomically)."""
        cycle.validate(prepared=True)
        name = _file_name(cycle)
        if any(e["file"] == f"cycles/{name}" for e in self.entries):
            raise ValueError(f"{cycle.key}: two cycles with the same source, subject and slice")
        data = encode_cycle(cycle)
        atomic_write_bytes(self.root / "cycles" / name, data)
        self.entries.append(
            {
                "file": f"cycles/{name}",
                "key": cycle.key,
                "subject": cycle.subject,
                "slice_index": cycle.slice_index,
                "pathology": cycle.pathology,
                "labeled_frames": int(cycle.labeled.sum()),
                "observed_frames": int(cycle.observed.sum()),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
        self.cycles_meta.append(cycle.metadata())

    def close(
        self, skipped: list[dict[str, str]] | None = None, warnings: list[dict[str, str]] | None = None
    ) -> Path:
        """Write ``dataset.json`` (atomically) and return its path.

        Args:
            skipped: items the reader skipped, ``{"path", "reason"}`` each.
            warnings: losses the reader warned about (items read anyway), in the same form.
        """
        self.skipped.extend(skipped or [])
        self.warnings.extend(warnings or [])
        index = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "cineaug_version": __version__,
            "source": self.source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.time() - self.started, 2),
            "counts": self._counts(),
            "skipped": self.skipped,
            "warnings": self.warnings,
            "spacing": self._spacing(),
            "info": self.info,
            "cycles": self.entries,
        }
        atomic_write_json(self.root / INDEX, index)
        listed = {e["file"] for e in self.entries}
        stale = [f for f in (self.root / "cycles").glob("*.safetensors") if f"cycles/{f.name}" not in listed]
        for f in stale:
            f.unlink()
        if stale:
            logger.warning("%s: removed %d stale cycle files of an earlier run", self.root, len(stale))
        return self.root / INDEX

    def _counts(self) -> dict[str, Any]:
        sources = Counter()
        for m in self.cycles_meta:
            sources.update(LabelSource(v).name.lower() for v in m["label_source"])
        return {
            "cycles": len(self.entries),
            "subjects": len({e["subject"] for e in self.entries}),
            "labeled_cycles": sum(e["labeled_frames"] > 0 for e in self.entries),
            "key_frame_cycles": sum(not all(m["observed"]) for m in self.cycles_meta),
            "frames_by_label_source": dict(sorted(sources.items())),
            "pathologies": dict(sorted(Counter(e["pathology"] for e in self.entries).items())),
            "skipped": len(self.skipped),
            "warnings": len(self.warnings),
        }

    def _spacing(self) -> dict[str, Any]:
        if not self.cycles_meta:
            return {}
        native = np.array([m["extra"].get("native_spacing", m["spacing"]) for m in self.cycles_meta])
        prepared = np.array([m["spacing"] for m in self.cycles_meta])
        stats = lambda a: {"min": float(a.min()), "max": float(a.max()), "mean": round(float(a.mean()), 4)}  # noqa: E731
        return {"native_mm": stats(native), "prepared_mm": stats(prepared)}

    def __enter__(self) -> CacheWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


def read_index(root: str | os.PathLike) -> dict[str, Any]:
    """Load and check ``dataset.json`` of a cache folder."""
    path = Path(root) / INDEX
    if not path.is_file():
        raise CineDataError(
            root, f"not a cineaug cache: no {INDEX} (run `cineaug prepare` or `cineaug simulate`)"
        )
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CineDataError(path, f"corrupt index ({err})") from err
    if index.get("format") != FORMAT or index.get("format_version") != FORMAT_VERSION:
        raise CineDataError(
            path, f"unknown cache format {index.get('format')!r} v{index.get('format_version')}"
        )
    return index


def read_cycle(root: str | os.PathLike, entry: dict[str, Any], verify: bool = True) -> CineCycle:
    """Read one cached cycle; a half-written, truncated or altered file raises ``CineDataError``."""
    path = Path(root) / entry["file"]
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CineDataError(path, f"cannot read cache file ({err.strerror})") from err
    if len(data) != entry["bytes"]:
        raise CineDataError(
            path, f"{len(data)} bytes, index says {entry['bytes']}: truncated or half-written"
        )
    if verify and hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise CineDataError(
            path, "content does not match the sha256 in dataset.json: file altered or corrupt"
        )
    return decode_cycle(data, path)
