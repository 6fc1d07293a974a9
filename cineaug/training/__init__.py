"""GAN training: config presets, the ProGAN schedule, losses, aligned augmentation, the trainer, DDP."""

from .config import PRESETS, TrainConfig
from .fold_renderer import FoldRendererFinetune, finetune_renderer
from .schedule import Phase, schedule
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
