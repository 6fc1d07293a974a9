"""The recommended augmentation for a number of labelled subjects: what measured best on real scans.

On ACDC (docs/benchmark.md) the trained generators do not yet beat the untrained recipe: simulator
anatomy painted with a random appearance that keeps bSSFP's contrast order (blood pools brighter
than the myocardium), beside the nnU-Net-like baseline, with a share of synthetic samples that
starts at ``min(0.5, 1/n)`` for ``n`` labelled subjects and falls to none over training. Against the
nnU-Net-like baseline alone on the development split (5 seeds where not said): +0.046 to +0.068 Dice
at 2 patients, +0.008 to +0.022 at 5, -0.003 to +0.004 at 10, -0.007 to -0.008 at 20 (the range
spans the random-order and bSSFP-order variants; bSSFP order was above random order on 8 of 9
matched pairs at 10-20 and 3 of 3 seeds at 5). At 20 patients the share starts at a twentieth, 2.5%
of the samples on average: the recipe is nearly switched off there, on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monai.transforms import Compose

from ..generate import SyntheticBank
from .baselines import baseline
from .schedule import SyntheticShareSchedule, start_share
from .synthetic import SyntheticCycleAugmenterd

RECOMMENDED_ARM = "sim-bssfp+nnunet@auto~"
"""The recipe as a benchmark arm (:func:`cineaug.benchmark.arm_spec`), so that it is measured as named."""


@dataclass
class RecommendedAugmentation:
    """The synthetic step, the baseline after it and the share schedule of :func:`recommended_augmentation`.

    Use :attr:`transforms` in a MONAI ``Compose`` (after loading and cropping, before
    normalisation-sensitive steps) and drive :attr:`schedule` from the training loop
    (``schedule(step)``) or a MONAI trainer (``attach``).
    """

    synthetic: SyntheticCycleAugmenterd
    baseline: Compose
    schedule: SyntheticShareSchedule
    n_subjects: int
    arm: str = RECOMMENDED_ARM
    notes: list[str] = field(default_factory=list)

    @property
    def transforms(self) -> list[Any]:
        """``[synthetic step, baseline]``, to put in a ``Compose``."""
        return [self.synthetic, self.baseline]

    def attach(self, engine: Any) -> RecommendedAugmentation:
        """Anneal the share over an ignite engine's iterations (MONAI's ``SupervisedTrainer``)."""
        self.schedule.attach(engine)
        return self


def recommended_augmentation(
    n_subjects: int,
    sim_bank: str | os.PathLike | SyntheticBank,
    keys: Sequence[str] = ("image", "label"),
    steps: int | None = None,
    **synthetic_options: Any,
) -> RecommendedAugmentation:
    """The measured best augmentation for ``n_subjects`` labelled training subjects.

    Args:
        n_subjects: labelled subjects in the training set (sets where the share starts).
        sim_bank: simulator cycles (``cineaug simulate runs/sim --size 64``; any size: the synthetic
            frames are placed at the sample's spacing).
        keys: the image and label keys.
        steps: training steps of the schedule (None: set by ``attach`` from the engine).
        synthetic_options: passed to :class:`~cineaug.transforms.SyntheticCycleAugmenterd`
            (``intensity``, ``roles``, ...).

    Example:
        >>> aug = recommended_augmentation(5, "runs/sim", steps=2000)  # doctest: +SKIP
        >>> pipeline = Compose([*load_and_crop, *aug.transforms])      # doctest: +SKIP
        >>> aug.schedule(0), aug.schedule(1000)                        # doctest: +SKIP
        (0.2, 0.1)
    """
    start = start_share(n_subjects)
    synthetic = SyntheticCycleAugmenterd(
        keys=tuple(keys), bank=sim_bank, appearance="gmm-bssfp", prob=start, **synthetic_options
    )
    schedule = SyntheticShareSchedule([synthetic], start=start, end=0.0, steps=steps)
    notes = [f"synthetic share {start:g} at the first step, falling linearly to 0"]
    if start <= 0.1:
        notes.append(
            f"with {n_subjects} subjects the share averages {start / 2:.1%}: measured neutral on ACDC, "
            "nearly switched off on purpose"
        )
    return RecommendedAugmentation(
        synthetic, baseline("nnunet", *keys[:2]), schedule, n_subjects, notes=notes
    )
