"""Pictures of cycles: label overlays, tiled animated GIFs and PNG montages.

Colours: RV blue, myocardium green, LV cavity red. A white corner mark flags an expert-labelled
frame, a grey one a propagated frame. An unobserved frame (key-frame cycles) is drawn as "not
acquired": dark grey crossed by a light grey X, never as an image.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from skimage.segmentation import find_boundaries

from .types import LabelSource

CLASS_COLORS = np.array([[0, 0, 0], [60, 120, 255], [40, 220, 90], [255, 60, 50]], np.uint8)
NOT_ACQUIRED_GREY, NOT_ACQUIRED_MARK = 64, 160


def not_acquired_frame(h: int, w: int) -> np.ndarray:
    """The picture of an unobserved frame: dark grey with a light grey X, ``[H,W,3]`` uint8."""
    frame = np.full((h, w, 3), NOT_ACQUIRED_GREY, np.uint8)
    t = np.linspace(0.0, 1.0, 4 * max(h, w))
    rows, cols = np.round(t * (h - 1)).astype(int), np.round(t * (w - 1)).astype(int)
    for dr in (-1, 0, 1):
        r = np.clip(rows + dr, 0, h - 1)
        frame[r, cols] = frame[r, w - 1 - cols] = NOT_ACQUIRED_MARK
    return frame


def overlay_cycle(
    image: np.ndarray,
    label: np.ndarray | None = None,
    label_source: np.ndarray | None = None,
    zoom: int = 2,
    observed: np.ndarray | None = None,
) -> np.ndarray:
    """Render a cycle with label contours as RGB frames.

    Args:
        image: ``[T,H,W]`` float in [-1, 1].
        label: ``[T,H,W]`` ACDC labels, or None for the image alone.
        label_source: ``[T]`` :class:`~cineaug.types.LabelSource`, for the corner mark.
        zoom: integer upscaling (nearest) for legibility.
        observed: ``[T]`` bool; unobserved frames are drawn by :func:`not_acquired_frame` (None: all
            observed).

    Returns:
        ``[T,H*zoom,W*zoom,3]`` uint8.
    """
    img = np.asarray(image, np.float32)
    gray = np.clip((img + 1.0) * 127.5, 0, 255).astype(np.uint8)
    gray = gray.repeat(zoom, 1).repeat(zoom, 2)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    if label is not None:
        lab = np.asarray(label).repeat(zoom, 1).repeat(zoom, 2)
        for t in range(lab.shape[0]):
            edges = find_boundaries(lab[t], mode="inner") & (lab[t] > 0)
            rgb[t][edges] = CLASS_COLORS[lab[t][edges]]
    if label_source is not None:
        mark = max(2, zoom * 2)
        for t, s in enumerate(np.asarray(label_source)):
            if s in (LabelSource.EXPERT, LabelSource.EXPERT_PARTIAL):
                rgb[t, :mark, :mark] = 255
            elif s != LabelSource.NONE:
                rgb[t, :mark, :mark] = 128
    if observed is not None:
        rgb[~np.asarray(observed, bool)] = not_acquired_frame(*rgb.shape[1:3])
    return rgb


def tile(frames: Sequence[np.ndarray], ncols: int, pad: int = 2) -> np.ndarray:
    """Tile equally shaped ``[T,H,W,3]`` clips into one ``[T,H',W',3]`` clip (black padding)."""
    n = len(frames)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    t, h, w, _ = frames[0].shape
    out = np.zeros((t, nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), np.uint8)
    for i, f in enumerate(frames):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[:, y : y + h, x : x + w] = f
    return out


def save_gif(path: str | os.PathLike, clip: np.ndarray, fps: float = 10.0) -> Path:
    """Write ``[T,H,W,3]`` uint8 frames as a looping GIF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, clip, extension=".gif", duration=1000.0 / fps, loop=0)
    return path


def save_cycles_gif(
    path: str | os.PathLike,
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray | None] | None = None,
    label_sources: Sequence[np.ndarray | None] | None = None,
    ncols: int = 4,
    zoom: int = 2,
    observed: Sequence[np.ndarray | None] | None = None,
) -> Path:
    """One animated GIF of several cycles side by side, labels overlaid.

    Args:
        images: cycles ``[T,H,W]`` in [-1, 1], all the same shape.
        labels: matching label cycles, or None.
        label_sources: matching ``[T]`` label sources, or None.
        observed: matching ``[T]`` observed flags (unobserved frames drawn as "not acquired"), or None.
    """
    n = len(images)
    labels = labels if labels is not None else [None] * n
    label_sources = label_sources if label_sources is not None else [None] * n
    observed = observed if observed is not None else [None] * n
    clips = [
        overlay_cycle(i, lab, s, zoom, o) for i, lab, s, o in zip(images, labels, label_sources, observed)
    ]
    return save_gif(path, tile(clips, ncols))


def gif_montage(gif_path: str | os.PathLike, png_path: str | os.PathLike, every: int = 1) -> Path:
    """Lay a GIF's frames side by side in one PNG (to look at an animation as a still)."""
    frames = iio.imread(gif_path, index=None)[::every]  # [T,H,W,C]
    strip = np.concatenate(list(frames[..., :3]), axis=1)
    iio.imwrite(png_path, strip)
    return Path(png_path)
