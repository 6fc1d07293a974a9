"""MONAI transforms for cycles: synthetic cycles from a generator, baselines, cycles to frames.

The sources of synthetic cycles (:class:`SyntheticPool`, :class:`SyntheticBank`,
:class:`RenderedAppearance`) live in :mod:`cineaug.generate` and are named here too.
"""

from ..generate import RenderedAppearance, SyntheticBank, SyntheticPool
from ..tissues import tissue_map
from .appearance import RandCycleAppearance, RandTextureJitter
from .baselines import BASELINES, baseline
from .batched import BatchedNnunetAugment
from .batched_appearance import BatchedCycleAppearance
from .frames import LabeledFramesd, RandFramed
from .mix import SyntheticCycleMixd, SyntheticPrepareBatch
from .recipe import RECOMMENDED_ARM, RecommendedAugmentation, recommended_augmentation
from .schedule import SyntheticShareSchedule, start_share
from .synthetic import (
    SyntheticCycleAugmenter,
    SyntheticCycleAugmenterD,
    SyntheticCycleAugmenterd,
    SyntheticCycleAugmenterDict,
)

__all__ = [
    "BASELINES",
    "BatchedCycleAppearance",
    "BatchedNnunetAugment",
    "RECOMMENDED_ARM",
    "RecommendedAugmentation",
    "recommended_augmentation",
    "LabeledFramesd",
    "RandCycleAppearance",
    "RandTextureJitter",
    "RandFramed",
    "RenderedAppearance",
    "SyntheticBank",
    "SyntheticCycleAugmenter",
    "SyntheticCycleAugmenterD",
    "SyntheticCycleAugmenterDict",
    "SyntheticCycleAugmenterd",
    "SyntheticCycleMixd",
    "SyntheticPrepareBatch",
    "SyntheticPool",
    "SyntheticShareSchedule",
    "start_share",
    "baseline",
    "tissue_map",
]
