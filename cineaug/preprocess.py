"""Preprocessing as pure functions: raw cycle -> prepared cycle (20 frames, ED first, [-1, 1]).

``prepare_cycle`` chains: :func:`roll_to_ed` -> :func:`heart_center` -> :func:`resample_inplane`
(fixed field of view in mm, ``size`` px) -> :func:`resample_time` (20 frames) ->
:func:`normalise_intensity` -> :func:`~cineaug.propagate.propagate_labels` -> :func:`estimate_es_frame`
where the source gave none. Every function returns a new cycle and leaves its input untouched.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from .propagate import propagate_labels
from .types import LV, MYO, N_FRAMES, CineCycle, check_cycle_arrays

DEFAULT_FOV_MM = 160.0
"""Side of the square field of view kept around the heart: LV, myocardium and RV of a dilated heart."""


def roll_to_ed(cycle: CineCycle) -> CineCycle:
    """Roll frames cyclically so that end-diastole is frame 0 (frame times follow, modulo R-R)."""
    shift = -cycle.ed_frame
    if shift == 0:
        return cycle
    t = cycle.n_frames
    times = None
    if cycle.frame_times is not None:
        times = np.roll(cycle.frame_times, shift)
        period = _period(cycle.frame_times)
        times = np.mod(times - times[0], period).astype(np.float32)
    return dataclasses.replace(
        cycle,
        image=np.roll(cycle.image, shift, axis=0),
        label=np.roll(cycle.label, shift, axis=0),
        labeled=np.roll(cycle.labeled, shift),
        label_source=np.roll(cycle.label_source, shift),
        frame_times=times,
        ed_frame=0,
        es_frame=(cycle.es_frame + shift) % t if cycle.es_frame >= 0 else -1,
    )


def _period(times: np.ndarray) -> float:
    """R-R interval estimated from frame times (last frame + one mean step)."""
    steps = np.diff(np.sort(times))
    return float(times.max() - times.min() + (steps.mean() if len(steps) else 1.0))


def heart_center(cycle: CineCycle) -> tuple[float, float]:
    """Centre of the heart in native pixels ``(row, col)``.

    From the labels when present (LV cavity + myocardium, else any class); otherwise from where the
    image moves over the cycle: the peak of the smoothed temporal standard deviation.
    """
    labeled = cycle.label[cycle.labeled]  # [L,H,W]
    for classes in ((MYO, LV), (1, MYO, LV)):
        mask = np.isin(labeled, classes).any(axis=0)
        if mask.any():
            return tuple(float(v) for v in ndimage.center_of_mass(mask))
    motion = cycle.image.std(axis=0)  # [H,W]
    sigma = (12.0 / cycle.spacing[0], 12.0 / cycle.spacing[1])  # ~ one LV radius
    smooth = ndimage.gaussian_filter(motion, sigma)
    return tuple(float(v) for v in np.unravel_index(np.argmax(smooth), smooth.shape))


def resample_inplane(
    cycle: CineCycle, center: tuple[float, float], size: int = 64, fov_mm: float = DEFAULT_FOV_MM
) -> CineCycle:
    """Crop a square ``fov_mm`` field of view centred on ``center`` and resample it to ``size`` px.

    Images are low-pass filtered before downsampling (as skimage's anti-aliasing) and
    interpolated linearly; labels are interpolated per class (one-hot) and decoded by argmax.
    Outside the native image, intensities are the image minimum and labels background.

    Returns:
        cycle with image/label ``[T,size,size]`` and spacing ``(fov_mm/size, fov_mm/size)``.
    """
    out_mm = fov_mm / size
    scale = np.array([out_mm / cycle.spacing[0], out_mm / cycle.spacing[1]])  # native px per output px
    offset = np.asarray(center) - scale * (size - 1) / 2.0
    sigma = np.maximum(0.0, (scale - 1.0) / 2.0)
    image = cycle.image
    if sigma.any():
        image = ndimage.gaussian_filter(image, (0.0, *sigma), mode="nearest")
    matrix = np.diag([1.0, *scale])
    shape = (cycle.n_frames, size, size)
    fill = float(cycle.image.min())
    out_image = ndimage.affine_transform(
        image, matrix, offset=(0.0, *offset), output_shape=shape, order=1, mode="constant", cval=fill
    ).astype(np.float32)
    onehot = (cycle.label[None] == np.arange(4)[:, None, None, None]).astype(np.float32)  # [4,T,H,W]
    probs = np.stack(
        [
            ndimage.affine_transform(
                c, matrix, offset=(0.0, *offset), output_shape=shape, order=1, cval=float(k == 0)
            )
            for k, c in enumerate(onehot)
        ]
    )
    label = probs.argmax(axis=0).astype(np.uint8)
    label[~cycle.labeled] = 0
    extra = dict(cycle.extra, crop_center_px=[float(v) for v in center], native_spacing=list(cycle.spacing))
    return dataclasses.replace(cycle, image=out_image, label=label, spacing=(out_mm, out_mm), extra=extra)


def resample_time(cycle: CineCycle, n_frames: int = N_FRAMES) -> CineCycle:
    """Resample an ED-first cycle to ``n_frames`` uniformly spaced phases of the R-R interval.

    Images are interpolated linearly in cyclic phase. Each labelled source frame is snapped to
    its nearest output frame, whose phase then equals the source frame's exactly, so that image
    and labels stay together. Frame times are resampled the same way.
    """
    t = cycle.n_frames
    if cycle.ed_frame != 0:
        raise ValueError(f"{cycle.key}: resample_time needs ED at frame 0, call roll_to_ed first")
    if t == n_frames:
        return cycle
    src_phase = np.arange(t) / t
    out_phase = np.arange(n_frames) / n_frames
    label = np.zeros((n_frames, *cycle.image.shape[1:]), np.uint8)
    source = np.zeros(n_frames, np.uint8)
    for s in np.flatnonzero(cycle.labeled):
        k = int(round(src_phase[s] * n_frames)) % n_frames
        out_phase[k] = src_phase[s]
        label[k], source[k] = cycle.label[s], cycle.label_source[s]
    lo = np.floor(out_phase * t).astype(int) % t
    hi = (lo + 1) % t
    w = (out_phase * t - np.floor(out_phase * t)).astype(np.float32)[:, None, None]
    image = ((1 - w) * cycle.image[lo] + w * cycle.image[hi]).astype(np.float32)
    times = None
    if cycle.frame_times is not None:
        times = (out_phase * _period(cycle.frame_times)).astype(np.float32)
    es = int(round(cycle.es_frame / t * n_frames)) % n_frames if cycle.es_frame >= 0 else -1
    return dataclasses.replace(
        cycle,
        image=image,
        label=label,
        labeled=source > 0,
        label_source=source,
        frame_times=times,
        es_frame=es,
    )


def normalise_intensity(image: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Map the ``low``/``high`` percentiles of a whole cycle to -1/1 and clip; ``[T,H,W]`` float32."""
    lo, hi = np.percentile(image, [low, high])
    if hi <= lo:
        return np.zeros_like(image, dtype=np.float32)
    return np.clip((image - lo) * (2.0 / (hi - lo)) - 1.0, -1.0, 1.0).astype(np.float32)


def estimate_es_frame(cycle: CineCycle) -> int:
    """End-systole: the frame of smallest LV cavity when labelled, else the frame that differs
    most from ED inside the central third of the field of view (the heart after cropping)."""
    lv = (cycle.label == LV).reshape(cycle.n_frames, -1).sum(1)
    if cycle.labeled.all() and lv.max() > 0:
        return int(np.argmin(lv))
    h, w = cycle.image.shape[1:]
    roi = cycle.image[:, h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    return int(np.argmax(((roi - roi[0]) ** 2).mean(axis=(1, 2))))


def prepare_cycle(
    cycle: CineCycle,
    size: int = 64,
    fov_mm: float = DEFAULT_FOV_MM,
    propagate: bool = True,
    n_frames: int = N_FRAMES,
) -> CineCycle:
    """Raw cycle -> prepared cycle: ``[n_frames,size,size]``, ED first, intensities in [-1, 1].

    Args:
        cycle: a raw cycle from a reader or the simulator (any frame count, native resolution).
        size: output side in pixels (64 or 128).
        fov_mm: side of the square field of view around the heart, in mm.
        propagate: propagate expert labels to every frame by registration (see
            :func:`~cineaug.propagate.propagate_labels`), flagged ``LabelSource.PROPAGATED``.
        n_frames: output frames per cycle.

    Returns:
        A validated prepared cycle.
    """
    cycle.validate()
    out = roll_to_ed(cycle)
    out = resample_inplane(out, heart_center(out), size, fov_mm)
    out = resample_time(out, n_frames)
    out = dataclasses.replace(out, image=normalise_intensity(out.image))
    if propagate and out.labeled.any() and not out.labeled.all():
        label, source = propagate_labels(out.image, out.label, out.label_source, out.annotated_classes)
        out = dataclasses.replace(out, label=label, labeled=source > 0, label_source=source)
    if out.es_frame < 0:
        out.es_frame = estimate_es_frame(out)
        out.extra = dict(out.extra, es_from="labels" if out.labeled.all() else "image motion")
    check_cycle_arrays(out.image, out.label, out.labeled, where=out.key, prepared=n_frames == N_FRAMES)
    return out.validate(prepared=n_frames == N_FRAMES)
