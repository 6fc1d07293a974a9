"""MONAI transforms for cycles: synthetic cycles from a generator, and augmentation baselines."""

from .baselines import BASELINES, baseline
from .mix import SyntheticCycleMixd, SyntheticPrepareBatch
from .pool import SyntheticPool
from .synthetic import (
    SyntheticCycleAugmenter,
    SyntheticCycleAugmenterD,
    SyntheticCycleAugmenterd,
    SyntheticCycleAugmenterDict,
)

__all__ = [
    "BASELINES",
    "SyntheticCycleAugmenter",
    "SyntheticCycleAugmenterD",
    "SyntheticCycleAugmenterDict",
    "SyntheticCycleAugmenterd",
    "SyntheticCycleMixd",
    "SyntheticPrepareBatch",
    "SyntheticPool",
    "baseline",
]
