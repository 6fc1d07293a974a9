"""GAN training: config presets, the ProGAN schedule, losses, aligned augmentation, the trainer, DDP.

The config and the schedule (plain Python) load with the package; the trainer and fine-tuning (torch)
on first use, so that the command line starts fast.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .config import PRESETS, TrainConfig
from .schedule import Phase, schedule  # eager: the function shadows its submodule's name

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from .fold_renderer import FoldRendererFinetune, finetune_renderer
    from .trainer import train

__all__ = [
    "PRESETS",
    "FoldRendererFinetune",
    "Phase",
    "TrainConfig",
    "finetune_renderer",
    "schedule",
    "train",
]

__getattr__ = lazy_exports(
    __name__,
    {"FoldRendererFinetune": ".fold_renderer", "finetune_renderer": ".fold_renderer", "train": ".trainer"},
)
