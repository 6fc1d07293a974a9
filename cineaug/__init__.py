"""cineaug: generative augmentation of cine cardiac MRI.

Readers turn Sunnybrook, ACDC, M&Ms, DICOM and NIfTI cines into 20-frame labelled cycles; a
built-in simulator makes labelled cycles from physics; generators learn whole cycles with their
labels; MONAI transforms mix synthetic cycles into training batches.
"""

from ._version import __version__
from .cache import CacheWriter
from .data import CycleDataset, cycle_to_sample
from .errors import CineDataError, DataWarning, ReadLog, SkippedItemWarning
from .io import read_acdc, read_dicom_series, read_mnms, read_nifti, read_sunnybrook
from .prepare import prepare_dataset, write_simulated_dataset
from .preprocess import prepare_cycle
from .propagate import propagate_labels
from .types import (
    CLASS_NAMES,
    LV,
    MYO,
    N_FRAMES,
    RV,
    UNOBSERVED_FILL,
    CineCycle,
    CycleContractError,
    LabelSource,
    check_cycle_arrays,
)

# Generators, the registry, generate and the MONAI transforms import MONAI's transform stack (seconds):
# they load on first use (PEP 562), so reading data stays quick to import.
_LAZY = {
    "DCGANGenerator": ".models",
    "LabelRenderer": ".models",
    "ProGANGenerator": ".models",
    "decode_labels": ".models",
    "from_pretrained": ".models",
    "save_pretrained": ".models",
    "load_pretrained": ".pretrained",
    "locate_heart": ".localize",
    "RandCycleAppearance": ".transforms",
    "RandFramed": ".transforms",
    "RenderedAppearance": ".generate",
    "SyntheticBank": ".generate",
    "SyntheticCycleAugmenter": ".transforms",
    "SyntheticCycleAugmenterD": ".transforms",
    "SyntheticCycleAugmenterDict": ".transforms",
    "SyntheticCycleAugmenterd": ".transforms",
    "SyntheticCycleMixd": ".transforms",
    "SyntheticPool": ".generate",
    "SyntheticPrepareBatch": ".transforms",
    "SyntheticShareSchedule": ".transforms",
    "baseline": ".transforms",
    "tissue_map": ".tissues",
    "write_bank": ".generate",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cineaug' has no attribute {name!r}")


__all__ = [
    "DCGANGenerator",
    "LabelRenderer",
    "ProGANGenerator",
    "RandCycleAppearance",
    "RandFramed",
    "RenderedAppearance",
    "SyntheticBank",
    "SyntheticCycleAugmenter",
    "SyntheticCycleAugmenterD",
    "SyntheticCycleAugmenterDict",
    "SyntheticCycleAugmenterd",
    "SyntheticCycleMixd",
    "SyntheticPool",
    "SyntheticPrepareBatch",
    "SyntheticShareSchedule",
    "baseline",
    "tissue_map",
    "write_bank",
    "decode_labels",
    "from_pretrained",
    "load_pretrained",
    "locate_heart",
    "save_pretrained",
    "CLASS_NAMES",
    "LV",
    "MYO",
    "N_FRAMES",
    "RV",
    "UNOBSERVED_FILL",
    "CacheWriter",
    "CineCycle",
    "CineDataError",
    "CycleContractError",
    "CycleDataset",
    "DataWarning",
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
    "write_simulated_dataset",
]
