"""One subject -> one raw cine cycle with exact labels and its ground truth.

See docs/simulator.md ("The model").
"""

from __future__ import annotations

import numpy as np

from ..types import LV, MYO, RV, CineCycle, LabelSource
from .acquisition import acquire
from .anatomy import ed_heart, polar_area
from .background import coil_field, render_thorax
from .motion import HeartFrames, heart_frames, volume_curve
from .params import SubjectParams
from .raster import Grid, render_heart
from .signal import texture_field, tissue_values


def simulate_cycle(
    params: SubjectParams,
    n_frames: int = 20,
    matrix: int = 256,
    noise: bool = True,
    *,
    noise_seed: int | None = None,
) -> CineCycle:
    """Simulate one mid-ventricular short-axis bSSFP cine slice over one R-R interval.

    Args:
        params: the subject (:func:`~cineaug.simulate.sample_subject`).
        n_frames: frames per R-R interval; frame 0 is end-diastole.
        matrix: image size; the field of view stays ``256 * pixel_mm`` (a smaller matrix has larger pixels).
        noise: add complex acquisition noise.
        noise_seed: seed of the noise only (default: the subject's acquisition seed); two values give two
            noise draws of the same scan.

    Returns:
        A raw cycle: ``image`` float32 ``[T, matrix, matrix]`` (scanner-like magnitude, not normalised),
        ``label`` uint8 ``[T, matrix, matrix]`` in ACDC order, every frame labelled (``SIMULATED``), and the
        ground truth in ``extra``.

    Example:
        >>> from cineaug.simulate import sample_subject
        >>> c = simulate_cycle(sample_subject(0, "NOR"), matrix=128)
        >>> c.image.shape, c.source, c.es_frame in range(4, 11)
        ((20, 128, 128), 'simulator', True)
    """
    a, m, sig, acq = params.anatomy, params.motion, params.signal, params.acquisition
    px = acq.pixel_mm * 256 / matrix
    grid = Grid(matrix, px)
    ed = ed_heart(a, m.regional)
    hf = heart_frames(ed, a, m, n_frames)
    rng_acq = np.random.default_rng([acq.seed, 0])
    rng_sig = np.random.default_rng(sig.seed)
    jitter = rng_acq.normal(0, acq.jitter_mm, (n_frames, 2))
    centers = np.asarray(a.lv_center_mm)[None] + hf.shift_mm + jitter  # [T,2]
    values = tissue_values(sig)
    texture = texture_field((matrix, matrix), px, rng_sig)
    background, _ = render_thorax(params.thorax, a, hf, grid, values, texture)
    spread = a.taper_per_mm * acq.slice_mm / 3
    heart = render_heart(hf, ed, a, grid, centers, background, values, sig.flow_sigma, rng_sig, spread)
    signal = np.broadcast_to(background, (n_frames, matrix, matrix)).copy()  # [T,H,W]
    signal[:, heart.rows, heart.cols] = heart.image
    label = np.zeros(signal.shape, np.uint8)
    label[:, heart.rows, heart.cols] = heart.label
    coil = coil_field(params.thorax, a, grid, acq.n_coils, acq.coil_radius_mm, acq.coil_offset_mm)
    myo_ed = label[0] == MYO
    coil /= coil[myo_ed].mean()
    rng_noise = np.random.default_rng([acq.seed if noise_seed is None else noise_seed, 1]) if noise else None
    scan = acquire(signal, coil, myo_ed, acq, px, rng_noise)
    return CineCycle(
        image=scan.image,
        label=label,
        labeled=np.ones(n_frames, bool),
        label_source=np.full(n_frames, LabelSource.SIMULATED, np.uint8),
        spacing=(px, px),
        source="simulator",
        subject=params.subject,
        slice_index=0,
        pathology=params.pathology,
        ed_frame=0,
        es_frame=int(np.argmin(polar_area(hf.r_endo))),
        annotated_classes=(RV, MYO, LV),
        frame_times=(np.arange(n_frames) * 60000.0 / m.hr_bpm / n_frames).astype(np.float32),
        slice_thickness=acq.slice_mm,
        extra=_ground_truth(params, hf, label, px, scan.sigma, scan.gain, noise),
    )


def _ground_truth(
    p: SubjectParams, hf: HeartFrames, label: np.ndarray, px: float, sigma: float, gain: float, noise: bool
) -> dict:
    """JSON-serialisable targets, achieved values and the full parameter set."""
    n = label.shape[0]
    counts = np.stack([(label == k).sum((1, 2)) for k in (LV, MYO, RV)]) * px * px  # [3,T] mm^2
    lv_poly = polar_area(hf.r_endo)
    rv_poly = polar_area(hf.r_rv, hf.r_epi)
    fac = float(1 - lv_poly.min() / lv_poly[0])
    m = p.motion
    return {
        "class": p.pathology,
        "label_set": p.label_set,
        "seed": p.seed,
        "index": p.index,
        "ef_target": m.ef_target,
        "fac_target": m.fac_target,
        "fac_achieved": fac,
        "ef_achieved": float(1 - (1 - fac) * (1 + m.e_ll)),
        "fac_labels": float(1 - counts[0].min() / counts[0, 0]),
        "rv_fac_target": m.rv_fac_target,
        "rv_fac_achieved": float(1 - rv_poly.min() / rv_poly[0]),
        "lv_area_mm2": [float(v) for v in counts[0]],
        "myo_area_mm2": [float(v) for v in counts[1]],
        "rv_area_mm2": [float(v) for v in counts[2]],
        "u_curve": [float(v) for v in volume_curve(np.arange(n) / n, m)],
        "wall_ed_mm": float(np.mean(hf.r_epi[0] - hf.r_endo[0])),
        "f_g": hf.f_g,
        "f_rv": hf.f_rv,
        "snr_myo": p.acquisition.snr_myo if noise else None,
        "sigma": sigma * gain,
        "pixel_mm": px,
        "params": p.to_dict(),
    }
