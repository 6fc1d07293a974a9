"""Folds of a benchmark: which subjects train and which frames score, per seed and training-set size.

Splits are by subject. For a (size, seed) pair every arm trains on the same subjects, drawn with
``seed`` and stratified by pathology (:func:`stratified_order`; the subsets are nested over sizes), so
arms are compared on matched pairs. Test subjects never train: either a separate test cache (the
simulator: other seeds; ACDC: the development split of :mod:`cineaug.splits`) or, without one,
leave-one-subject-out folds of the training cache (Sunnybrook: seed ``s`` holds out subject ``s``).
Only classes that both the training and the test source annotate are scored (a model trained on
Sunnybrook, which has no RV labels, is not scored on the RV of ACDC).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data import CycleDataset
from .segmentation import Frames, scored_frames
from .volumes import Volume, volumes_of


def stratified_order(pathology_of: dict[str, str], seed: int) -> list[str]:
    """Subjects in an order whose every prefix is balanced over pathology classes.

    Subjects are shuffled within each class and the classes are taken in turn (in an order drawn
    with ``seed`` too), so that the first ``n`` subjects hold ``n // C`` or ``n // C + 1`` of each of
    the ``C`` classes: nested, stratified training subsets.
    """
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[str]] = {}
    for subject in sorted(pathology_of):
        by_class.setdefault(pathology_of[subject], []).append(subject)
    queues = [list(rng.permutation(by_class[c])) for c in rng.permutation(sorted(by_class))]
    order = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(str(queue.pop(0)))
    return order


def training_samples(ds: CycleDataset, subjects: Sequence[str]) -> list[dict[str, Any]]:
    """The samples of ``subjects`` with at least one labelled frame (real data keeps unlabelled
    basal and apical cycles, which cannot train a segmenter)."""
    samples = _all_samples(ds.subset([str(s) for s in subjects]))
    return [s for s in samples if bool(torch.as_tensor(s["labeled"]).any())]


def _all_samples(ds: CycleDataset) -> list[dict[str, Any]]:
    return [ds[i] for i in range(len(ds))]


def _volumes(ds: CycleDataset, classes: torch.Tensor, wanted: bool) -> list[Volume]:
    """The 3D test volumes of ``ds`` (:func:`~cineaug.benchmark.volumes.volumes_of`), scored on
    ``classes`` ``[4]`` only; none unless ``wanted``."""
    if not wanted:
        return []
    volumes = volumes_of([ds.cycle(i) for i in range(len(ds))], where=str(ds.root))
    for volume in volumes:
        volume.annotated &= classes
    return volumes


def _annotated_classes(samples: list[dict[str, Any]]) -> torch.Tensor:
    """``[4]`` bool: classes annotated by any of the samples (background always)."""
    return torch.stack([torch.as_tensor(s["annotated"]).bool() for s in samples]).any(0)


@dataclass
class Fold:
    """One (size, seed) of a benchmark: the subjects that train, their samples, the frames scored."""

    size: int
    seed: int
    subjects: list[str]
    samples: list[dict[str, Any]]
    frames: Frames
    held_out: str | None  # the left-out subject of a leave-one-subject-out fold
    volumes: list[Volume]  # the 3D volumes scored in the native grid (none: per-frame scores only)

    @property
    def name(self) -> str:
        """``n<size>-s<seed>``: the fold's folder name (fold renderers, rendered banks)."""
        return f"n{self.size}-s{self.seed}"


class Cohorts:
    """The training cache and the test cache (or leave-one-subject-out folds of the training cache).

    Args:
        train_data: prepared cache to draw training subjects from.
        test_data: prepared cache of other subjects to score on; None: leave-one-subject-out folds.
        max_test_frames: cap on scored test frames (see :func:`~cineaug.benchmark.scored_frames`).
        score_volumes: also score per 3D volume in the native grid (the test data must keep
            native labels: ``cineaug prepare ... --crop image``).

    Raises:
        ValueError: a test subject in the training data; volumes to score and no native labels.
    """

    def __init__(
        self,
        train_data: str | os.PathLike,
        test_data: str | os.PathLike | None,
        max_test_frames: int | None = None,
        score_volumes: bool = False,
    ):
        self.train = CycleDataset(train_data)
        self.test = CycleDataset(test_data) if test_data is not None else None
        self.subjects = self.train.subjects
        if self.test is not None and set(self.subjects) & set(self.test.subjects):
            shared = sorted(set(self.subjects) & set(self.test.subjects))
            raise ValueError(f"test subjects also in the training data: {shared}")
        self.max_test_frames = max_test_frames
        self.score_volumes = score_volumes
        self._trained_classes = _annotated_classes(_all_samples(self.train))  # [4]
        self._fixed = (
            scored_frames(_all_samples(self.test), max_test_frames) if self.test is not None else None
        )
        self._fixed_volumes = (
            _volumes(self.test, self._trained_classes, score_volumes) if self.test is not None else None
        )
        self._pathology_of = {e["subject"]: e["pathology"] for e in self.train.entries}

    @property
    def test_subjects(self) -> set[str]:
        """Every subject that is scored in some fold."""
        return set(self.test.subjects if self.test is not None else self.subjects)

    def check_crop(self, size: int) -> None:
        """Raise ValueError unless the caches hold ``size`` px crops (the protocol's)."""
        for name, ds in (("training", self.train), ("test", self.test)):
            side = None if ds is None else int(ds.cycle(0).image.shape[-1])
            if side is not None and side != size:
                raise ValueError(
                    f"{ds.root}: the {name} cache holds {side} px crops, the protocol trains at {size} px "
                    f"(prepare it with `cineaug prepare ... --size {size}`)"
                )

    def check_sizes(self, sizes: Sequence[int]) -> None:
        """Raise ValueError unless every size is >= 1 and leaves a test subject out."""
        pool = len(self.subjects) - (self.test is None)
        if min(sizes) < 1:
            raise ValueError(f"training sizes must be >= 1 subject, got {min(sizes)}")
        if max(sizes) > pool:
            raise ValueError(f"size {max(sizes)} > {pool} subjects available for training")

    def folds(self, seeds: Sequence[int], sizes: Sequence[int]) -> Iterator[Fold]:
        """The folds in run order: seeds, then sizes (nested training subsets per seed)."""
        for seed in seeds:
            held_out = None if self.test is not None else self.subjects[seed % len(self.subjects)]
            frames, volumes = self._fixed, self._fixed_volumes
            if frames is None:
                held = self.train.subset([held_out])
                frames = scored_frames(_all_samples(held), self.max_test_frames)
                volumes = _volumes(held, self._trained_classes, self.score_volumes)
            frames.annotated &= self._trained_classes  # score what both sources annotate
            order = [s for s in stratified_order(self._pathology_of, seed) if s != held_out]
            for size in sizes:
                chosen = [str(s) for s in order[:size]]
                samples = training_samples(self.train, chosen)
                yield Fold(size, seed, chosen, samples, frames, held_out, volumes)
