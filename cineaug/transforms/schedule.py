"""``SyntheticShareSchedule``: anneal the share of synthetic samples over training.

On ACDC (docs/benchmark.md, how much synthetic) a share that falls linearly from a half at the first
step to none at the last beat a constant quarter (the same number of synthetic samples in all) on
matched seeds: synthetic samples early teach invariance, real ones at the end fit the scanner.
The schedule sets ``prob`` of the augmenters it is given, from a training loop (call it with the
step) or from a MONAI ``SupervisedTrainer`` (``attach``: ignite's ``ITERATION_STARTED``).

DataLoader workers hold copies of the transforms, made when they start (once, with
``persistent_workers``). So that a share set in the training process reaches them, an augmenter keeps
its ``prob`` in shared memory (:class:`SharedProb`): a forked worker maps the same memory, a spawned
one receives it through torch's multiprocessing (a file descriptor, not a copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.transforms import RandomizableTransform


class SharedProb:
    """Mixin for a MONAI ``RandomizableTransform``: ``prob`` lives in a shared-memory scalar, so that
    setting it in the training process (:class:`SyntheticShareSchedule`) changes it in every
    DataLoader worker's copy of the transform, persistent or not. Reading it costs a microsecond."""

    @property
    def prob(self) -> float:
        return float(self.__dict__["_shared_prob"])

    @prob.setter
    def prob(self, value: float) -> None:
        shared = self.__dict__.get("_shared_prob")
        if shared is None:
            shared = self.__dict__["_shared_prob"] = torch.zeros((), dtype=torch.float64).share_memory_()
        shared.fill_(min(max(float(value), 0.0), 1.0))


def start_share(n_subjects: int, most: float = 0.5) -> float:
    """Where an annealed share starts for ``n_subjects`` labelled training subjects: ``min(most, 1 / n)``.

    Synthetic samples help most when real data are a sliver and cost a little once the real patients
    cover their own scanners' contrast (ACDC: docs/benchmark.md, how much synthetic), so the share
    falls with the training set: a half for 1-2 subjects, a fifth for 5, a twentieth for 20.

    Example:
        >>> tuple(start_share(n) for n in (1, 2, 5, 10, 20))
        (0.5, 0.5, 0.2, 0.1, 0.05)
    """
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be >= 1, got {n_subjects}")
    return min(most, 1.0 / n_subjects)


class SyntheticShareSchedule:
    """Linear share ``start -> end`` over ``steps`` training steps, set on ``augmenters``' ``prob``.

    Args:
        augmenters: the transforms whose ``prob`` is the synthetic share (e.g. the
            :class:`~cineaug.transforms.SyntheticCycleAugmenterd` of a pipeline; any MONAI
            ``RandomizableTransform``).
        start: the share at step 0.
        end: the share at the last step.
        steps: training steps; with ``attach``, None takes the engine's ``max_epochs x epoch_length``.

    Example:
        >>> aug = SyntheticCycleAugmenterd(("image", "label"), bank="sim", appearance="gmm")  # doctest: +SKIP
        >>> SyntheticShareSchedule([aug], start=0.5, steps=2000).attach(trainer)  # doctest: +SKIP
        >>> schedule = SyntheticShareSchedule([aug], 0.5, steps=100); schedule(50)  # doctest: +SKIP
        0.25
    """

    def __init__(
        self,
        augmenters: Sequence[RandomizableTransform],
        start: float = 0.5,
        end: float = 0.0,
        steps: int | None = None,
    ):
        if not augmenters:
            raise ValueError("SyntheticShareSchedule needs at least one augmenter to set the share of")
        for value, name in ((start, "start"), (end, "end")):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} share must be in [0, 1], got {value}")
        if steps is not None and steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.augmenters, self.start, self.end, self.steps = list(augmenters), start, end, steps

    @classmethod
    def for_subjects(
        cls, augmenters: Sequence[RandomizableTransform], n_subjects: int, steps: int | None = None
    ) -> SyntheticShareSchedule:
        """The measured default: from :func:`start_share` of the training set's size down to none.

        Example:
            >>> aug = SyntheticCycleAugmenterd(("image", "label"), bank=BANK)  # doctest: +SKIP
            >>> SyntheticShareSchedule.for_subjects([aug], 5, steps=2000).start  # doctest: +SKIP
            0.2
        """
        return cls(augmenters, start=start_share(n_subjects), end=0.0, steps=steps)

    def share(self, step: int) -> float:
        """The share at ``step`` (0-based): linear from ``start`` to ``end``, held after the last step."""
        if self.steps is None:
            raise ValueError("steps unknown: pass steps=, or attach the schedule to an engine")
        fraction = min(max(step, 0) / self.steps, 1.0)
        return self.start + (self.end - self.start) * fraction

    def __call__(self, step: int) -> float:
        """Set every augmenter's ``prob`` to the share at ``step``; returns it."""
        value = self.share(step)
        for aug in self.augmenters:
            aug.prob = value
        return value

    def attach(self, engine: Any) -> SyntheticShareSchedule:
        """Set the share before every iteration of an ignite engine (MONAI's trainers are ones)."""
        from ignite.engine import Events

        def update(e: Any) -> None:
            if self.steps is None:
                self.steps = max(int(e.state.max_epochs) * int(e.state.epoch_length), 1)
            self(int(e.state.iteration) - 1)

        engine.add_event_handler(Events.ITERATION_STARTED, update)
        return self
