"""cineaug: generative augmentation of cine cardiac MRI.

Readers turn Sunnybrook, ACDC, M&Ms, DICOM and NIfTI cines into 20-frame labelled cycles; a
built-in simulator makes labelled cycles from physics; generators learn whole cycles with their
labels; MONAI transforms mix synthetic cycles into training batches.
"""

from ._version import __version__
from .cache import CacheWriter
from .data import CycleDataset, cycle_to_sample
from .errors import CineDataError, ReadLog, SkippedItemWarning
from .io import read_acdc, read_dicom_series, read_mnms, read_nifti, read_sunnybrook
from .prepare import prepare_dataset
from .preprocess import prepare_cycle
from .propagate import propagate_labels
from .types import (
    CLASS_NAMES,
    LV,
    MYO,
    N_FRAMES,
    RV,
    CineCycle,
    CycleContractError,
    LabelSource,
    check_cycle_arrays,
)

__all__ = [
    "CLASS_NAMES",
    "LV",
    "MYO",
    "N_FRAMES",
    "RV",
    "CacheWriter",
    "CineCycle",
    "CineDataError",
    "CycleContractError",
    "CycleDataset",
    "LabelSource",
    "ReadLog",
    "SkippedItemWarning",
    "__version__",
    "check_cycle_arrays",
    "cycle_to_sample",
    "prepare_cycle",
    "prepare_dataset",
    "propagate_labels",
    "read_acdc",
    "read_dicom_series",
    "read_mnms",
    "read_nifti",
    "read_sunnybrook",
]
