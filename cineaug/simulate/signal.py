"""bSSFP tissue signal, static tissue texture and per-frame blood-flow modulation.

See docs/simulator.md ("Signal").

Off-resonance banding is not modelled.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .params import Signal

TISSUE_TABLE: dict[str, tuple[float, float, float]] = {
    "blood": (1550, 250, 0.95),
    "venous": (1550, 200, 0.95),
    "myo": (1000, 50, 0.80),
    "scar": (1100, 55, 0.80),
    "fat": (343, 58, 0.90),
    "liver": (586, 46, 0.85),
    "muscle": (900, 45, 0.80),
    "marrow": (549, 49, 0.75),
    "bone": (250, 1, 0.05),
    "spleen": (1057, 79, 0.85),
    "fluid": (3000, 500, 1.0),
    "lung": (1200, 40, 0.08),
    "pericardium": (900, 20, 0.3),
}
"""Tissue -> (T1 ms, T2 ms, PD) at 1.5 T; sources in docs/simulator.md ("Tissue values")."""


def bssfp(
    t1: np.ndarray | float,
    t2: np.ndarray | float,
    pd: np.ndarray | float,
    flip_deg: float,
    tr_ms: float,
    te_ms: float,
) -> np.ndarray:
    """Full on-resonance bSSFP steady state (MRXCAT: Wissmann et al., JCMR 2014).

    Example:
        >>> round(float(bssfp(1550, 250, 0.95, 60, 3, 1.5) / bssfp(1000, 50, 0.8, 60, 3, 1.5)), 2)
        2.97
    """
    a = np.deg2rad(flip_deg)
    e1, e2 = np.exp(-tr_ms / np.asarray(t1, float)), np.exp(-tr_ms / np.asarray(t2, float))
    return (
        pd
        * np.sin(a)
        * (1 - e1)
        / (1 - (e1 - e2) * np.cos(a) - e1 * e2)
        * np.exp(-te_ms / np.asarray(t2, float))
    )


def tissue_values(sig: Signal) -> dict[str, float]:
    """Signal of every tissue for this subject (relaxation and PD jittered, blood with inflow gain)."""
    out = {}
    for name, (t1, t2, pd) in TISSUE_TABLE.items():
        f1, f2, fp = sig.jitter[name]
        out[name] = float(bssfp(t1 * f1, t2 * f2, pd * fp, sig.flip_deg, sig.tr_ms, sig.tr_ms / 2))
    for name in ("blood", "venous"):
        out[name] *= sig.inflow
    out["air"] = 0.0
    return out


def texture_field(
    shape: tuple[int, int], pixel_mm: float, rng: np.random.Generator, corr_mm: float = 5.0
) -> np.ndarray:
    """Smooth unit-variance Gaussian random field ``[H, W]`` float32 (correlation length ``corr_mm``)."""
    field = ndimage.gaussian_filter(
        rng.standard_normal(shape, dtype=np.float32), corr_mm / pixel_mm / 2, mode="wrap"
    )
    return (field / (field.std() + 1e-12)).astype(np.float32)


def flow_modulation(
    rows_mm: np.ndarray, cols_mm: np.ndarray, n_frames: int, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Per-frame smooth blood modulation ``[T, h, w]`` around 1 (wavelengths 20-40 mm, re-drawn per frame).

    Args:
        rows_mm: ``[h]`` vertical positions; cols_mm: ``[w]`` horizontal positions.
    """
    k = 2 * np.pi / rng.uniform(20, 40, (n_frames, 2, 1))
    phase = rng.uniform(0, 2 * np.pi, (n_frames, 2, 1))
    fy = np.cos(k[:, 0] * rows_mm[None] + phase[:, 0])  # [T,h]
    fx = np.cos(k[:, 1] * cols_mm[None] + phase[:, 1])  # [T,w]
    return (1 + sigma * (fy[:, :, None] + fx[:, None, :]) / np.sqrt(2)).astype(np.float32)
