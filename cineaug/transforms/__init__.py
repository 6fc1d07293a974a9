"""MONAI transforms for cycles: synthetic cycles from a generator, baselines, cycles to frames."""

from .appearance import RandCycleAppearance, tissue_map
from .bank import SyntheticBank
from .baselines import BASELINES, baseline
from .frames import LabeledFramesd, RandFramed
from .mix import SyntheticCycleMixd, SyntheticPrepareBatch
from .pool import SyntheticPool
from .rendered import RenderedAppearance
from .schedule import SyntheticShareSchedule, start_share
from .synthetic import (
    SyntheticCycleAugmenter,
    SyntheticCycleAugmenterD,
    SyntheticCycleAugmenterd,
    SyntheticCycleAugmenterDict,
)

__all__ = [
    "BASELINES",
    "LabeledFramesd",
    "RandCycleAppearance",
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
