"""MONAI transforms for cycles: augmentation baselines (and, next, synthetic cycles)."""

from .baselines import BASELINES, baseline

__all__ = ["BASELINES", "baseline"]
