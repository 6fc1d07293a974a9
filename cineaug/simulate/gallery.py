"""Pictures of the simulator: a montage with label contours and an animated GIF per class.

See docs/simulator.md ("Gallery").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..types import LV, MYO, RV, CineCycle
from .cycle import simulate_cycle
from .params import PATHOLOGY_SETS, sample_subject

CONTOUR_COLORS = {RV: "#ffcc00", MYO: "#33dd55", LV: "#ff4444"}
"""Label -> contour colour of the montages."""


def crop_heart(cycle: CineCycle, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Square ``size`` crop centred on the ED heart: image ``[T,size,size]`` and label ``[T,size,size]``."""
    rows, cols = np.nonzero(cycle.label[0])
    h, w = cycle.image.shape[1:]
    r0 = int(np.clip(round((rows.min() + rows.max()) / 2) - size // 2, 0, h - size))
    c0 = int(np.clip(round((cols.min() + cols.max()) / 2) - size // 2, 0, w - size))
    box = (slice(None), slice(r0, r0 + size), slice(c0, c0 + size))
    return cycle.image[box], cycle.label[box]


def display_frames(image: np.ndarray) -> np.ndarray:
    """``[T,H,W]`` -> uint8, windowed to [0, 99.5th percentile] over the cycle."""
    top = float(np.percentile(image, 99.5)) or 1.0
    return (np.clip(image / top, 0, 1) * 255).astype(np.uint8)


def montage_frames(cycle: CineCycle, n_diastolic: int = 4) -> list[int]:
    """ED, ES and ``n_diastolic`` frames spread over diastole."""
    es = cycle.es_frame
    dia = np.linspace(es + 2, cycle.n_frames - 1, n_diastolic).round().astype(int)
    return [0, es, *[int(f) for f in dia]]


def save_montage(cycle: CineCycle, path: str | Path, size: int = 128) -> Path:
    """One row of frames (ED, ES, diastole) with RV, myocardium and LV contours, as PNG."""
    from matplotlib.figure import Figure  # the object API: no pyplot, no backend switched

    image, label = crop_heart(cycle, size)
    shown = display_frames(image)
    frames = montage_frames(cycle)
    fig = Figure(figsize=(1.6 * len(frames), 1.85), dpi=80)
    axes = fig.subplots(1, len(frames))
    for ax, f in zip(axes, frames):
        ax.imshow(shown[f], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        for k, color in CONTOUR_COLORS.items():
            if (label[f] == k).any():
                ax.contour(label[f] == k, levels=[0.5], colors=color, linewidths=0.7)
        name = "ED" if f == 0 else ("ES" if f == cycle.es_frame else "")
        ax.set_title(f"{name} f{f}".strip(), fontsize=7)
        ax.axis("off")
    fig.suptitle(f"{cycle.pathology}  ({cycle.subject})", fontsize=8)
    fig.tight_layout(pad=0.2)
    path = Path(path)
    fig.savefig(path)
    return path


def save_gif(cycle: CineCycle, path: str | Path, size: int = 96) -> Path:
    """Animated GIF of the cropped cycle (one loop per R-R interval, about 1 s)."""
    import imageio.v3 as iio

    image, _ = crop_heart(cycle, size)
    path = Path(path)
    iio.imwrite(path, display_frames(image), extension=".gif", duration=50, loop=0)
    return path


def render_gallery(out_dir: str | Path, label_set: str = "acdc", seed: int = 0) -> list[Path]:
    """Write ``<class>.png`` (montage) and ``<class>.gif`` for every class of ``label_set``.

    Args:
        out_dir: output folder (created).
        label_set: "acdc" or "sunnybrook".
        seed: subject seed; every class uses the same seed.

    Returns:
        The written files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PATHOLOGY_SETS[label_set]:
        cycle = simulate_cycle(sample_subject(seed, name, label_set))
        stem = name.lower().replace("-", "_")
        written += [
            save_montage(cycle, out / f"{label_set}_{stem}.png"),
            save_gif(cycle, out / f"{label_set}_{stem}.gif"),
        ]
    return written
