"""Generative metrics without downloads: SWD, FID/KID on our own features, diversity, motion, physiology."""

from .cine import blood_myo_contrast, fractional_area_change, ms_ssim_diversity, physiology, temporal_stats
from .distances import fid, kid
from .evaluate import evaluate_sets, format_report
from .features import RandomCycleEncoder, extract_features
from .swd import laplacian_pyramid, sliced_wasserstein

__all__ = [
    "RandomCycleEncoder",
    "blood_myo_contrast",
    "evaluate_sets",
    "extract_features",
    "fid",
    "format_report",
    "fractional_area_change",
    "kid",
    "laplacian_pyramid",
    "ms_ssim_diversity",
    "physiology",
    "sliced_wasserstein",
    "temporal_stats",
]
