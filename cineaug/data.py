"""``CycleDataset``: a map-style dataset over a prepared cache, with subject-level splits."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .cache import read_cycle, read_index
from .types import CineCycle


def cycle_to_sample(cycle: CineCycle) -> dict[str, Any]:
    """A prepared cycle as a dictionary sample for MONAI pipelines and DataLoaders.

    Keys: ``image`` float32 ``[T,H,W]``, ``label`` uint8 ``[T,H,W]``, ``labeled`` bool ``[T]``,
    ``observed`` bool ``[T]`` (False: no acquired image, the frame holds
    :data:`~cineaug.types.UNOBSERVED_FILL`), ``label_source`` uint8 ``[T]``, ``annotated`` bool
    ``[4]`` (class k annotated; background always),
    ``spacing`` float32 ``[2]`` (mm), ``frame_times`` float32 ``[T]`` (ms, NaN if unknown),
    ``ed_frame``, ``es_frame``, ``slice_index`` (int), ``source``, ``subject``, ``pathology``, ``key`` (str).
    """
    annotated = np.zeros(4, bool)
    annotated[[0, *cycle.annotated_classes]] = True
    times = (
        cycle.frame_times if cycle.frame_times is not None else np.full(cycle.n_frames, np.nan, np.float32)
    )
    return {
        "image": torch.from_numpy(np.ascontiguousarray(cycle.image)),
        "label": torch.from_numpy(np.ascontiguousarray(cycle.label)),
        "labeled": torch.from_numpy(cycle.labeled.copy()),
        "observed": torch.from_numpy(cycle.observed.copy()),
        "label_source": torch.from_numpy(cycle.label_source.copy()),
        "annotated": torch.from_numpy(annotated),
        "spacing": torch.tensor(cycle.spacing, dtype=torch.float32),
        "frame_times": torch.from_numpy(np.asarray(times, np.float32)),
        "ed_frame": cycle.ed_frame,
        "es_frame": cycle.es_frame,
        "slice_index": cycle.slice_index,
        "source": cycle.source,
        "subject": cycle.subject,
        "pathology": cycle.pathology,
        "key": cycle.key,
    }


class CycleDataset(torch.utils.data.Dataset):
    """Prepared cycles of a cache folder (``cineaug prepare`` / ``cineaug simulate``) as dicts.

    Args:
        root: the cache folder (holds ``dataset.json``).
        subjects: keep only these subjects (see :meth:`split_by_subject`).
        transform: applied to each sample dict (e.g. a MONAI ``Compose``).
        verify: check each file's sha256 against the index when reading it.

    Example:
        >>> ds = CycleDataset("prepared/")                      # doctest: +SKIP
        >>> train, val = ds.split_by_subject((0.8, 0.2), seed=0)  # doctest: +SKIP
        >>> sample = ds[0]                                     # doctest: +SKIP
        >>> sample["image"].shape                              # doctest: +SKIP
        torch.Size([20, 64, 64])
    """

    def __init__(
        self,
        root: str | os.PathLike,
        subjects: Sequence[str] | None = None,
        transform: Callable[[dict[str, Any]], Any] | None = None,
        verify: bool = True,
    ):
        self.root = Path(root)
        self.index = read_index(self.root)
        entries = self.index["cycles"]
        if subjects is not None:
            wanted = set(subjects)
            entries = [e for e in entries if e["subject"] in wanted]
        self.entries = entries
        self.transform = transform
        self.verify = verify

    def __len__(self) -> int:
        return len(self.entries)

    def cycle(self, i: int) -> CineCycle:
        """The i-th cycle as a :class:`CineCycle` (no transform)."""
        return read_cycle(self.root, self.entries[i], verify=self.verify)

    def __getitem__(self, i: int) -> Any:
        sample = cycle_to_sample(self.cycle(i))
        return self.transform(sample) if self.transform is not None else sample

    @property
    def subjects(self) -> list[str]:
        """Subjects in index order, each once."""
        return list(dict.fromkeys(e["subject"] for e in self.entries))

    @property
    def pathologies(self) -> list[str]:
        """Pathology of each cycle, in order."""
        return [e["pathology"] for e in self.entries]

    def subset(self, subjects: Sequence[str]) -> CycleDataset:
        """The cycles of ``subjects`` only, with the same transform."""
        return CycleDataset(self.root, subjects=subjects, transform=self.transform, verify=self.verify)

    def split_by_subject(self, fractions: Sequence[float], seed: int = 0) -> list[CycleDataset]:
        """Split into parts by subject, never by slice (no subject in two parts).

        Args:
            fractions: relative sizes, e.g. ``(0.8, 0.2)``; each part gets at least one subject
                when there are enough subjects.
            seed: shuffles the subjects reproducibly.
        """
        subjects = self.subjects
        rng = np.random.default_rng(seed)
        order = [subjects[i] for i in rng.permutation(len(subjects))]
        cuts = np.cumsum(np.asarray(fractions, float) / np.sum(fractions))[:-1] * len(order)
        bounds = [0, *np.round(cuts).astype(int).tolist(), len(order)]
        return [self.subset(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
