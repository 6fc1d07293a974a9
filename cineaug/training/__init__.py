"""GAN training: config presets, the ProGAN schedule, losses, aligned augmentation, the trainer, DDP."""

from .config import PRESETS, TrainConfig
from .schedule import Phase, schedule
from .trainer import train

__all__ = ["PRESETS", "Phase", "TrainConfig", "schedule", "train"]
