"""k-space truncation, complex noise, coil combination, residual bias and output scaling.

See docs/simulator.md ("Acquisition").

The analytic partial-volume rasteriser already band-limits the edges, so the k-space step runs on the
native grid: ``rfft2``, keep the acquired ``N_ro x N_pe`` block with a Tukey apodisation (Gibbs ringing
when the window is flat), zero-fill, ``irfft2``. Noise is complex Gaussian on the acquired block, so it
is correlated like zero-filled data. The coils are combined SNR-optimally, which gives
``|B * m + n|`` with ``B = sqrt(sum |s_c|^2)`` and one noise field of the same correlation (Rician
magnitude); a smooth background phase would drop out of the magnitude and is not simulated.
Segmented-k-space drift and flow artefacts are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.signal.windows import tukey

from .params import Acquisition


def _axis_window(freqs: np.ndarray, n_keep: int, alpha: float) -> np.ndarray:
    """Window over integer frequencies ``freqs``: Tukey over |f| <= n_keep / 2, zero beyond."""
    half = n_keep // 2
    win = tukey(2 * half + 1, alpha, sym=True)
    inside = np.abs(freqs) <= half
    out = np.zeros(freqs.shape, np.float32)
    out[inside] = win[freqs[inside] + half]
    return out


def kspace_windows(matrix: int, pixel_mm: float, acq: Acquisition) -> tuple[np.ndarray, np.ndarray]:
    """Sampling windows: ``[M, M//2+1]`` for rfft2 layout and ``[M, M]`` for fft2 layout (float32)."""
    res = (acq.res_pe_mm, acq.res_ro_mm) if acq.pe_axis == 0 else (acq.res_ro_mm, acq.res_pe_mm)
    keep = [min(matrix, int(round(matrix * pixel_mm / r))) for r in res]
    f_full = np.rint(scipy.fft.fftfreq(matrix) * matrix).astype(int)
    f_half = np.arange(matrix // 2 + 1)
    w_rows = _axis_window(f_full, keep[0], acq.tukey)
    half = w_rows[:, None] * _axis_window(f_half, keep[1], acq.tukey)[None]
    full = w_rows[:, None] * _axis_window(f_full, keep[1], acq.tukey)[None]
    return half, full


@dataclass
class Acquired:
    """Output of :func:`acquire`."""

    image: np.ndarray  # [T,H,W] float32 magnitude, scaled
    sigma: float  # noise std of the coil-combined complex image before bias correction and gain
    gain: float  # output scale factor
    mean_myo: float  # mean noiseless myocardial signal at ED (coil-weighted)


def acquire(
    signal: np.ndarray,
    coil: np.ndarray,
    myo_ed: np.ndarray,
    acq: Acquisition,
    pixel_mm: float,
    rng: np.random.Generator | None,
) -> Acquired:
    """Scan the noiseless signal frames.

    Args:
        signal: ``[T,H,W]`` float32 tissue signal on the native grid.
        coil: ``[H,W]`` coil RSS magnitude B, normalised to mean 1 over the ED myocardium.
        myo_ed: ``[H,W]`` bool ED myocardium (for the SNR reference).
        acq: acquisition parameters; pixel_mm: pixel size of this grid.
        rng: noise generator, or None for a noiseless scan.
    """
    matrix = signal.shape[-1]
    w_half, w_full = kspace_windows(matrix, pixel_mm, acq)
    k = scipy.fft.rfft2(signal, workers=1)
    k *= w_half
    clean = scipy.fft.irfft2(k, s=signal.shape[-2:], workers=1)  # [T,H,W] float32
    mean_myo = float(np.mean(clean[0][myo_ed] * coil[myo_ed]))
    sigma = mean_myo / acq.snr_myo
    combined = clean * coil
    if rng is not None:
        rows, cols = np.nonzero(w_full)
        shape = (signal.shape[0], rows.size)
        z = np.zeros(signal.shape, np.complex64)
        z[:, rows, cols] = (
            rng.standard_normal(shape, np.float32) + 1j * rng.standard_normal(shape, np.float32)
        ) * (w_full[rows, cols])  # unit variance per real/imaginary channel after the scaling below
        noise = scipy.fft.ifft2(z, norm="ortho", workers=1)
        noise *= np.float32(sigma / np.sqrt(np.sum(w_full**2) / matrix**2))
        noise += combined
        magnitude = np.abs(noise)
    else:
        magnitude = np.abs(combined)
    magnitude *= np.maximum(coil, 0.2) ** np.float32(-acq.eta)
    gain = acq.p99 / max(float(np.percentile(magnitude[0], 99)), 1e-12)
    magnitude *= np.float32(gain)
    return Acquired(image=magnitude.astype(np.float32, copy=False), sigma=sigma, gain=gain, mean_myo=mean_myo)
