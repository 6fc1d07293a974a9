"""What a run writes besides its weights: stats.jsonl, TensorBoard (optional), sample GIFs and grids."""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import torch

from ..atomic import atomic_write_bytes
from ..models.layers import decode_labels
from ..viz import overlay_cycle, save_cycles_gif, tile


class RunLog:
    """Append-only ``stats.jsonl`` plus TensorBoard scalars when ``tensorboard`` is installed.

    On resume, lines past the resumed image count (written by the killed run after its last
    checkpoint) are dropped first, so the log reads as one uninterrupted run; a fresh start
    (``resume_from == 0``) empties it.

    Args:
        run_dir: the run folder.
        resume_from: images seen at the resumed checkpoint (0 for a fresh run).
        tensorboard: write ``run_dir/tensorboard`` event files if possible.
    """

    def __init__(self, run_dir: Path, resume_from: int = 0, tensorboard: bool = True):
        self.path = run_dir / "stats.jsonl"
        if self.path.is_file():
            lines = self.path.read_text().splitlines() if resume_from > 0 else []
            keep = [ln for ln in lines if json.loads(ln)["images_seen"] <= resume_from]
            atomic_write_bytes(self.path, "".join(ln + "\n" for ln in keep).encode())
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_from or None)
            except ImportError:
                warnings.warn("tensorboard is not installed: logging to stats.jsonl only", stacklevel=2)

    def write(self, images_seen: int, kind: str, values: dict[str, Any]) -> None:
        """One JSON line ``{"kind", "images_seen", **values}`` (flushed), and TensorBoard scalars."""
        record = {"kind": kind, "images_seen": images_seen, **values}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if self.tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.tb.add_scalar(f"{kind}/{k}", v, images_seen)
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def to_cycles(
    image: torch.Tensor, logits: torch.Tensor, annotated: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Generator output -> contract arrays: image float32 ``[N,T,H,W]`` in [-1,1], label uint8."""
    img = image.float().clamp(-1, 1).cpu().numpy().astype(np.float32)
    lab = decode_labels(logits, annotated).cpu().numpy()
    return img, lab


def upsample_to(image: torch.Tensor, logits: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-upsample a low-resolution phase's output ``[N,T,r,r]`` / ``[N,T,K,r,r]`` to ``size``."""
    f = size // image.shape[-1]
    if f == 1:
        return image, logits
    up = lambda x: x.repeat_interleave(f, -2).repeat_interleave(f, -1)  # noqa: E731
    return up(image), up(logits)


def save_samples(
    run_dir: Path, images_seen: int, images: np.ndarray, labels: np.ndarray, ncols: int = 4
) -> Path:
    """Write ``samples-NNNNNN.gif`` (animated, labels overlaid) and ``.png`` (ED and mid frames).

    Args:
        images: ``[N,T,H,W]`` in [-1, 1].
        labels: ``[N,T,H,W]`` uint8.
    """
    gif = run_dir / f"samples-{images_seen:06d}.gif"
    tmp = run_dir / f".samples-{images_seen:06d}.tmp.gif"
    save_cycles_gif(tmp, list(images), list(labels), ncols=ncols)
    os.replace(tmp, gif)
    t = images.shape[1]
    stills = [
        overlay_cycle(i[[0, t // 2]], lab[[0, t // 2]]) for i, lab in zip(images, labels)
    ]  # [2,H,W,3] each
    grid = tile([np.concatenate(list(s), axis=1)[None] for s in stills], ncols)[0]  # [H',W',3]
    buf = io.BytesIO()
    iio.imwrite(buf, grid, extension=".png")
    atomic_write_bytes(run_dir / f"samples-{images_seen:06d}.png", buf.getvalue())
    return gif
