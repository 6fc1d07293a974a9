"""The training schedule as a pure function of the number of real images shown (ProGAN's TrainingSchedule).

ProGAN starts at ``start_res``, trains ``stable_images`` there, then for each doubling fades the new
block in over ``fade_images`` (alpha 0 -> 1) and trains ``stable_images`` at the new resolution; the
label renderer grows the same way. A DCGAN trains at its final resolution throughout. Because the
phase depends only on ``images_seen``, a resumed run is in exactly the phase it left, and the schedule
is tested without training.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig

GROWING: tuple[str, ...] = ("progan", "renderer")
"""Architectures that grow from ``start_res`` (the others train at their final resolution)."""


@dataclass(frozen=True)
class Phase:
    """Where training stands after ``images_seen`` images."""

    res: int  # current resolution (side in pixels)
    alpha: float  # fade-in weight of the newest block, 1.0 when stable
    batch: int  # global minibatch
    lr: float  # Adam learning rate
    lod: int  # index of the resolution in the growth sequence (0 = start_res)


def _lookup(pairs: tuple[tuple[int, float], ...], res: int, default: float) -> float:
    return dict(pairs).get(res, default)


def schedule(cfg: TrainConfig, images_seen: int) -> Phase:
    """The phase after ``images_seen`` images.

    Example:
        >>> cfg = TrainConfig(resolution=16, stable_images=100, fade_images=100)
        >>> schedule(cfg, 150)
        Phase(res=8, alpha=0.5, batch=32, lr=0.001, lod=1)
    """
    if cfg.arch not in GROWING:
        return _phase(cfg, cfg.resolution, 1.0, 0)
    res, lod, left = cfg.start_res, 0, images_seen - cfg.stable_images
    while left >= 0 and res < cfg.resolution:
        res, lod = res * 2, lod + 1
        if left < cfg.fade_images:
            return _phase(cfg, res, left / cfg.fade_images, lod)
        left -= cfg.fade_images + cfg.stable_images
    return _phase(cfg, res, 1.0, lod)


def _phase(cfg: TrainConfig, res: int, alpha: float, lod: int) -> Phase:
    batch = int(_lookup(cfg.batch_by_res, res, cfg.batch))
    return Phase(
        res=res, alpha=float(alpha), batch=batch, lr=float(_lookup(cfg.lr_by_res, res, cfg.lr)), lod=lod
    )


def images_until_full_resolution(cfg: TrainConfig) -> int:
    """Images after which the final resolution is stable (0 for a DCGAN)."""
    if cfg.arch not in GROWING:
        return 0
    doublings = (cfg.resolution // cfg.start_res).bit_length() - 1
    return cfg.stable_images + doublings * (cfg.fade_images + cfg.stable_images) - cfg.stable_images
