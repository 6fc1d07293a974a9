"""Cycle-specific measures: MS-SSIM diversity, temporal smoothness, physiology of generated labels.

All take numpy/torch cycles ``[N,T,H,W]`` (images in [-1, 1], labels uint8 in ACDC order).
"""

from __future__ import annotations

import numpy as np
import torch
from monai.metrics import MultiScaleSSIMMetric
from scipy.stats import wasserstein_distance

from ..types import LV, MYO

MS_SSIM_WEIGHTS = (0.2857, 0.3001, 0.2363)  # 3 scales: 64 px passes MONAI's size check with an 11 px kernel


def ms_ssim_diversity(images: torch.Tensor, kernel_size: int = 11) -> float:
    """Mean MS-SSIM between pairs ``images[0::2]`` and ``images[1::2]`` (ProGAN); lower = more diverse.

    Frames are channels, so each pair is compared frame by frame and averaged. Images too small for
    3 scales with ``kernel_size`` use a 3 px kernel and as many scales as fit (MONAI's size check).
    """
    x = (torch.as_tensor(images).float().clamp(-1, 1) + 1) / 2  # [N,T,H,W] in [0,1]
    m, h = x.shape[0] // 2, x.shape[-1]
    k = kernel_size if h // 4 > kernel_size - 1 else 3
    scales = max(s for s in (1, 2, 3) if h // 2 ** (s - 1) > k - 1)
    weights = MS_SSIM_WEIGHTS[:scales]
    metric = MultiScaleSSIMMetric(spatial_dims=2, data_range=1.0, kernel_size=k, weights=weights)
    return float(metric(x[0 : 2 * m : 2], x[1 : 2 * m : 2]).mean())


def temporal_stats(images: torch.Tensor) -> dict[str, float]:
    """Frame-to-frame change of cycles ``[N,T,H,W]`` (cyclic: the last frame leads back to ED).

    Returns:
        ``temporal_diff``: mean |x[t+1] - x[t]|; ``temporal_jitter``: mean |x[t+1] - 2x[t] + x[t-1]| divided
        by ``temporal_diff`` (smooth motion gives small values, flicker gives values near 2 or more).
    """
    x = torch.as_tensor(images).float()
    d1 = (x.roll(-1, 1) - x).abs().mean()
    d2 = (x.roll(-1, 1) - 2 * x + x.roll(1, 1)).abs().mean()
    return {"temporal_diff": float(d1), "temporal_jitter": float(d2 / (d1 + 1e-8))}


def lv_area_curves(labels: np.ndarray) -> np.ndarray:
    """LV cavity area per frame as a fraction of the image: ``[N,T]``."""
    lab = np.asarray(labels)
    return (lab == LV).mean(axis=(2, 3))


def fractional_area_change(labels: np.ndarray) -> np.ndarray:
    """2D ejection-fraction proxy ``[N]``: ``(A_ED - min_t A) / A_ED``, frame 0 = ED (0 if no LV)."""
    a = lv_area_curves(labels)
    ed = a[:, 0]
    return np.where(ed > 0, (ed - a.min(axis=1)) / np.maximum(ed, 1e-8), 0.0)


def blood_myo_contrast(images: np.ndarray, labels: np.ndarray) -> float:
    """Mean image value in the LV cavity minus in the myocardium: do labels sit on the right pixels?"""
    img, lab = np.asarray(images, np.float32), np.asarray(labels)
    lv, myo = lab == LV, lab == MYO
    if not lv.any() or not myo.any():
        return 0.0
    return float(img[lv].mean() - img[myo].mean())


def physiology(
    fake_labels: np.ndarray, fake_classes: np.ndarray, real_labels: np.ndarray, real_classes: np.ndarray
) -> dict[str, float]:
    """Distances between generated and real label physiology (lower is better).

    Returns:
        ``lv_curve_l1``: mean |difference| of the mean LV area curves normalised by their ED area;
        ``fac_w1``: Wasserstein-1 between fractional-area-change distributions, averaged over the
        pathology classes present in both sets (the whole set if unconditional).
    """
    fa, ra = lv_area_curves(fake_labels), lv_area_curves(real_labels)
    norm = lambda a: (a / np.maximum(a[:, :1], 1e-8)).mean(0)  # noqa: E731
    curve = float(np.abs(norm(fa) - norm(ra)).mean())
    ffac, rfac = fractional_area_change(fake_labels), fractional_area_change(real_labels)
    classes = sorted(set(np.asarray(fake_classes).tolist()) & set(np.asarray(real_classes).tolist()))
    w1 = [wasserstein_distance(ffac[fake_classes == c], rfac[real_classes == c]) for c in classes]
    return {"lv_curve_l1": curve, "fac_w1": float(np.mean(w1)) if w1 else float("nan")}
