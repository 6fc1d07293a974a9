"""Preprocessing as pure functions: raw cycle -> prepared cycle (20 frames, ED first, [-1, 1]).

``prepare_cycle`` chains: :func:`roll_to_ed` -> :func:`crop_center` -> :func:`resample_inplane`
(fixed field of view in mm, ``size`` px) -> :func:`resample_time` (20 frames) ->
:func:`normalise_intensity` -> :func:`~cineaug.propagate.propagate_labels` -> :func:`estimate_es_frame`
where the source gave none. Every function returns a new cycle and leaves its input untouched.
Unobserved frames (key-frame cycles) are never interpolated, normalised or registered: they leave
preparation holding :data:`~cineaug.types.UNOBSERVED_FILL`.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
from scipy import ndimage

from .localize import locate_heart
from .propagate import propagate_labels
from .types import (
    EXACT_SOURCES,
    LV,
    N_FRAMES,
    UNOBSERVED_FILL,
    UNOBSERVED_FILL_RAW,
    CineCycle,
    check_cycle_arrays,
)

DEFAULT_FOV_MM = 160.0
"""Side of the square field of view kept around the heart: LV, myocardium and RV of a dilated heart."""
CROPS = ("labels", "image")
"""Where a crop is centred: on the expert labels (training), or on the image alone (test scans)."""


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
        observed=np.roll(cycle.observed, shift),
        frame_times=times,
        ed_frame=0,
        es_frame=(cycle.es_frame + shift) % t if cycle.es_frame >= 0 else -1,
    )


def drop_unobserved(cycle: CineCycle) -> CineCycle:
    """The observed frames of a key-frame cycle as a cycle of their own ``[K,H,W]`` (in order), so
    that spatial steps (crop, in-plane resampling) see acquired images only; a fully observed
    cycle is returned as is. :func:`restore_unobserved` puts the frames back."""
    if not cycle.key_frames_only:
        return cycle
    keep = np.flatnonzero(cycle.observed)
    es = int(np.searchsorted(keep, cycle.es_frame)) if cycle.es_frame >= 0 else -1
    return dataclasses.replace(
        cycle,
        image=cycle.image[keep],
        label=cycle.label[keep],
        labeled=cycle.labeled[keep],
        label_source=cycle.label_source[keep],
        observed=None,
        frame_times=None if cycle.frame_times is None else cycle.frame_times[keep],
        ed_frame=int(np.searchsorted(keep, cycle.ed_frame)),
        es_frame=es,
    )


def restore_unobserved(spatial: CineCycle, like: CineCycle) -> CineCycle:
    """Inverse of :func:`drop_unobserved` after a spatial step: ``spatial``'s frames back at the
    observed frames of ``like`` (unobserved frames: :data:`~cineaug.types.UNOBSERVED_FILL_RAW`)."""
    if not like.key_frames_only:
        return spatial
    image = np.full((like.n_frames, *spatial.image.shape[1:]), UNOBSERVED_FILL_RAW, np.float32)
    label = np.zeros(image.shape, np.uint8)
    image[like.observed], label[like.observed] = spatial.image, spatial.label
    frame_fields = ("labeled", "label_source", "observed", "frame_times", "ed_frame", "es_frame")
    return dataclasses.replace(
        spatial, image=image, label=label, **{f: getattr(like, f) for f in frame_fields}
    )


def _period(times: np.ndarray) -> float:
    """R-R interval estimated from frame times (last frame + one mean step)."""
    steps = np.diff(np.sort(times))
    return float(times.max() - times.min() + (steps.mean() if len(steps) else 1.0))


def heart_center(cycle: CineCycle) -> tuple[float, float]:
    """Centre of the heart in native pixels ``(row, col)``.

    From the labels when present: the centre of the box around every labelled structure over the
    labelled frames (RV included where the source has it: centring on the LV alone cut the RV out of
    5% of ACDC's expert frames at 160 mm, the box keeps all of them); otherwise from the image alone
    (:func:`~cineaug.localize.locate_heart`).
    """
    mask = (cycle.label[cycle.labeled] > 0).any(axis=0)  # [H,W]
    if mask.any():
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        return (rows[0] + rows[-1]) / 2.0, (cols[0] + cols[-1]) / 2.0
    return locate_heart(cycle.image, cycle.spacing, cycle.observed)


def crop_center(
    cycle: CineCycle, crop: str = "labels", jitter_mm: float = 0.0, seed: int = 0
) -> tuple[float, float]:
    """Where :func:`prepare_cycle` centres its crop, in native pixels ``(row, col)``.

    Args:
        cycle: the cycle to crop (observed frames only, as :func:`drop_unobserved` leaves it).
        crop: ``"labels"``: :func:`heart_center` (expert labels when present); ``"image"``: the image
            alone (:func:`~cineaug.localize.locate_heart`), labels ignored, as for a test scan.
        jitter_mm: shift the centre by up to this much (uniform, each axis), for training crops
            that do not always sit on the labels' centre.
        seed: seed of the jitter, combined with the cycle's key (the same cycle gets the same shift).
    """
    if crop not in CROPS:
        raise ValueError(f"unknown crop {crop!r}; choose one of {', '.join(CROPS)}")
    if crop == "labels":
        center = np.array(heart_center(cycle))
    else:
        center = np.array(locate_heart(cycle.image, cycle.spacing, cycle.observed))
    if jitter_mm > 0:
        rng = np.random.default_rng([seed, zlib.crc32(cycle.key.encode())])
        center += rng.uniform(-jitter_mm, jitter_mm, 2) / np.asarray(cycle.spacing)
    return float(center[0]), float(center[1])


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
    extra = dict(
        cycle.extra,
        crop_center_px=[float(v) for v in center],
        native_spacing=list(cycle.spacing),
        native_shape=[int(v) for v in cycle.image.shape[1:]],
    )
    return dataclasses.replace(cycle, image=out_image, label=label, spacing=(out_mm, out_mm), extra=extra)


def paste_back(
    probs: np.ndarray,
    center: tuple[float, float],
    out_mm: float,
    native_spacing: tuple[float, float],
    native_shape: tuple[int, int],
) -> np.ndarray:
    """Inverse of :func:`resample_inplane`: labels of crops put back into the native image grid.

    Args:
        probs: ``[K,C,size,size]`` class scores of ``K`` crops of one cycle (softmax probabilities, or
            the one-hot of labels), class 0 background.
        center: the crop centre in native pixels ``(row, col)`` (``extra["crop_center_px"]``).
        out_mm: the crops' pixel size in mm (the prepared cycle's spacing).
        native_spacing: native pixel size ``(row, col)`` in mm (``extra["native_spacing"]``).
        native_shape: native frame shape ``(H0, W0)`` (``extra["native_shape"]``).

    Returns:
        ``[K,H0,W0]`` uint8 labels: the argmax of the scores interpolated linearly at every native
        pixel; background outside the crop.
    """
    k, c, size, _ = probs.shape
    scale = np.array([out_mm / native_spacing[0], out_mm / native_spacing[1]])  # native px per crop px
    offset = np.asarray(center) - scale * (size - 1) / 2.0  # native position of crop pixel (0, 0)
    matrix = np.diag([1.0, *(1.0 / scale)])  # native pixel -> crop pixel
    shape = (k, *native_shape)
    scores = np.stack(
        [
            ndimage.affine_transform(
                probs[:, j].astype(np.float32),
                matrix,
                offset=(0.0, *(-offset / scale)),
                output_shape=shape,
                order=1,
                mode="constant",
                cval=float(j == 0),
            )
            for j in range(c)
        ]
    )  # [C,K,H0,W0]
    return scores.argmax(axis=0).astype(np.uint8)


def resample_time(cycle: CineCycle, n_frames: int = N_FRAMES) -> CineCycle:
    """Resample an ED-first cycle to ``n_frames`` uniformly spaced phases of the R-R interval.

    Images are interpolated linearly in cyclic phase. Each labelled source frame is snapped to
    its nearest output frame, whose phase then equals the source frame's exactly, so that image
    and labels stay together. Frame times are resampled the same way.

    A key-frame cycle (some frames unobserved) is never interpolated: each observed frame ``s`` of
    ``T`` moves to output frame ``round(n_frames * s / T)`` with its labels, and every other output
    frame is unobserved (image :data:`~cineaug.types.UNOBSERVED_FILL_RAW`).

    Raises:
        ValueError: two observed frames of a key-frame cycle land on the same output frame.
    """
    t = cycle.n_frames
    if cycle.ed_frame != 0:
        raise ValueError(f"{cycle.key}: resample_time needs ED at frame 0, call roll_to_ed first")
    if t == n_frames:
        return cycle
    full = bool(cycle.observed.all())
    src_phase = np.arange(t) / t
    out_phase = np.arange(n_frames) / n_frames
    keys = np.flatnonzero(cycle.labeled if full else cycle.observed)
    snapped = np.round(src_phase[keys] * n_frames).astype(int) % n_frames
    if not full and len(set(snapped.tolist())) < len(keys):
        raise ValueError(f"{cycle.key}: observed frames {keys.tolist()} of {t} share output frames")
    out_phase[snapped] = src_phase[keys]
    label = np.zeros((n_frames, *cycle.image.shape[1:]), np.uint8)
    source = np.zeros(n_frames, np.uint8)
    label[snapped], source[snapped] = cycle.label[keys], cycle.label_source[keys]
    observed = np.ones(n_frames, bool)
    if full:
        lo = np.floor(out_phase * t).astype(int) % t
        hi = (lo + 1) % t
        w = (out_phase * t - np.floor(out_phase * t)).astype(np.float32)[:, None, None]
        image = ((1 - w) * cycle.image[lo] + w * cycle.image[hi]).astype(np.float32)
    else:
        image = np.full(label.shape, UNOBSERVED_FILL_RAW, np.float32)
        image[snapped] = cycle.image[keys]
        observed[:] = False
        observed[snapped] = True
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
        observed=observed,
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
    crop: str = "labels",
    crop_jitter_mm: float = 0.0,
    crop_seed: int = 0,
    keep_native: bool = False,
) -> CineCycle:
    """Raw cycle -> prepared cycle: ``[n_frames,size,size]``, ED first, intensities in [-1, 1].

    Args:
        cycle: a raw cycle from a reader or the simulator (any frame count, native resolution).
        size: output side in pixels (64 or 128).
        fov_mm: side of the square field of view around the heart, in mm.
        propagate: propagate expert labels to every observed frame by registration (see
            :func:`~cineaug.propagate.propagate_labels`), flagged ``LabelSource.PROPAGATED``; a
            key-frame cycle keeps its expert frames, and its unobserved frames stay unlabelled.
        n_frames: output frames per cycle.
        crop: centre the crop on the expert labels (``"labels"``, for training; the image where a
            cycle has none) or on the image alone (``"image"``, labels ignored: a test set prepared
            as a user's unlabelled scan would be). See :func:`crop_center`; recorded in ``extra``.
        crop_jitter_mm: random shift of the crop centre, up to this much per axis (training crops).
        crop_seed: seed of that shift (with the cycle's key).
        keep_native: keep the expert frames' labels in the source's grid (``native_label``, with
            their prepared frame indices in ``extra["native_frames"]``), so that predictions can be
            pasted back (:func:`paste_back`) and scored per volume as the challenges score.

    Returns:
        A validated prepared cycle.
    """
    cycle.validate()
    out = roll_to_ed(cycle)
    native = out.label[np.isin(out.label_source, EXACT_SOURCES)] if keep_native else None
    key = drop_unobserved(out)  # spatial steps see acquired frames only
    center = crop_center(key, crop, crop_jitter_mm, crop_seed)
    out = restore_unobserved(resample_inplane(key, center, size, fov_mm), out)
    out.extra = dict(out.extra, crop=crop)
    out = resample_time(out, n_frames)
    image = np.full_like(out.image, UNOBSERVED_FILL)  # normalised on the observed frames alone
    image[out.observed] = normalise_intensity(out.image[out.observed])
    out = dataclasses.replace(out, image=image)
    if propagate and out.labeled.any() and not out.labeled[out.observed].all():
        label, source = propagate_labels(
            out.image, out.label, out.label_source, out.annotated_classes, out.observed
        )
        out = dataclasses.replace(out, label=label, labeled=source > 0, label_source=source)
    if out.es_frame < 0 and not out.key_frames_only:
        out.es_frame = estimate_es_frame(out)
        out.extra = dict(out.extra, es_from="labels" if out.labeled.all() else "image motion")
    if native is not None:
        frames = np.flatnonzero(np.isin(out.label_source, EXACT_SOURCES))
        if len(frames) != len(native):
            raise ValueError(f"{out.key}: expert frames {len(native)} -> {len(frames)} in preparation")
        out.native_label = np.ascontiguousarray(native)
        out.extra = dict(out.extra, native_frames=[int(t) for t in frames])
    check_cycle_arrays(out.image, out.label, out.labeled, where=out.key, prepared=n_frames == N_FRAMES)
    return out.validate(prepared=n_frames == N_FRAMES)
