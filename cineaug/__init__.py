"""cineaug: generative augmentation of cine cardiac MRI.

Readers turn Sunnybrook, ACDC, M&Ms, DICOM and NIfTI cines into 20-frame labelled cycles; a
built-in simulator makes labelled cycles from physics; generators learn whole cycles with their
labels; MONAI transforms mix synthetic cycles into training batches.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__

# Every name loads on first use (PEP 562): `import cineaug` and `cineaug --help` cost nothing, and
# reading data never loads the generators, MONAI's transform stack or the trainer.
_LAZY = {
    "CacheWriter": ".cache",
    "CycleDataset": ".data",
    "cycle_to_sample": ".data",
    "CineDataError": ".errors",
    "ReadLog": ".errors",
    "read_acdc": ".io",
    "read_dicom_series": ".io",
    "read_mnms": ".io",
    "read_nifti": ".io",
    "read_sunnybrook": ".io",
    "prepare_dataset": ".prepare",
    "write_simulated_dataset": ".prepare",
    "prepare_cycle": ".preprocess",
    "propagate_labels": ".propagate",
    "CLASS_NAMES": ".types",
    "LV": ".types",
    "MYO": ".types",
    "N_FRAMES": ".types",
    "RV": ".types",
    "UNOBSERVED_FILL": ".types",
    "CineCycle": ".types",
    "CycleContractError": ".types",
    "LabelSource": ".types",
    "check_cycle_arrays": ".types",
    "DCGANGenerator": ".models",
    "LabelRenderer": ".models",
    "ProGANGenerator": ".models",
    "decode_labels": ".models",
    "from_pretrained": ".models",
    "save_pretrained": ".models",
    "load_pretrained": ".pretrained",
    "locate_heart": ".localize",
    "RenderedAppearance": ".generate",
    "SyntheticBank": ".generate",
    "SyntheticPool": ".generate",
    "write_bank": ".generate",
    "RandCycleAppearance": ".transforms",
    "RandFramed": ".transforms",
    "SyntheticCycleAugmenter": ".transforms",
    "SyntheticCycleAugmenterD": ".transforms",
    "SyntheticCycleAugmenterDict": ".transforms",
    "SyntheticCycleAugmenterd": ".transforms",
    "SyntheticCycleMixd": ".transforms",
    "SyntheticPrepareBatch": ".transforms",
    "SyntheticShareSchedule": ".transforms",
    "baseline": ".transforms",
    "recommended_augmentation": ".transforms",
    "tissue_map": ".tissues",
}
__getattr__ = lazy_exports(__name__, _LAZY)

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .cache import CacheWriter
    from .data import CycleDataset, cycle_to_sample
    from .errors import CineDataError, ReadLog
    from .generate import RenderedAppearance, SyntheticBank, SyntheticPool, write_bank
    from .io import read_acdc, read_dicom_series, read_mnms, read_nifti, read_sunnybrook
    from .localize import locate_heart
    from .models import (
        DCGANGenerator,
        LabelRenderer,
        ProGANGenerator,
        decode_labels,
        from_pretrained,
        save_pretrained,
    )
    from .prepare import prepare_dataset, write_simulated_dataset
    from .preprocess import prepare_cycle
    from .pretrained import load_pretrained
    from .propagate import propagate_labels
    from .tissues import tissue_map
    from .transforms import (
        RandCycleAppearance,
        RandFramed,
        SyntheticCycleAugmenter,
        SyntheticCycleAugmenterD,
        SyntheticCycleAugmenterd,
        SyntheticCycleAugmenterDict,
        SyntheticCycleMixd,
        SyntheticPrepareBatch,
        SyntheticShareSchedule,
        baseline,
        recommended_augmentation,
    )
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
    "recommended_augmentation",
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
    "LabelSource",
    "ReadLog",
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
