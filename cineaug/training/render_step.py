"""One training step of the label renderer, and what its runs show and measure.

The step is :class:`~cineaug.training.step.GANTraining`'s (the same losses, lazy R1, ADA, EMA and
gradient sync), with the condition changed: the renderer draws each fake from the tissue map of a
real frame of the batch (pix2pix/SPADE style), and D scores ``(image, pooled tissue map)`` pairs, so
a render that ignores its map, or a map with the wrong texture, is what D learns to reject.
"""

from __future__ import annotations

import torch
from torch import nn

from ..metrics.cine import temporal_stats
from ..metrics.evaluate import evaluate_frames
from ..tissues import N_HEART_CLASSES, one_hot_tissues
from .config import TrainConfig
from .realdata import upsample
from .realframes import RealFrames, pooled_tissues
from .schedule import Phase
from .step import GANTraining


class RenderTraining(GANTraining):
    """G (:class:`~cineaug.models.renderer.LabelRenderer`), D, EMA and optimizers, with :meth:`step`.

    ``reals`` of a step are :meth:`RealFrames.batch`'s triple: image ``[N,1,r,r]``, pooled tissues
    ``[N,1,C,r,r]`` and the full-resolution one-hot map ``[N,C,R,R]`` that fakes are rendered from.
    """

    def __init__(self, cfg: TrainConfig, device: torch.device):
        super().__init__(cfg, device)
        self._tissues: torch.Tensor | None = None  # [N,C,R,R] of the current batch

    def step(
        self, reals: tuple[torch.Tensor, torch.Tensor, torch.Tensor], phase: Phase, images_seen: int
    ) -> dict:
        self._tissues = reals[2]
        return super().step(reals, phase, images_seen)

    def sample_classes(self, n: int) -> torch.Tensor:
        """The condition of ``n`` fakes: the current batch's tissue maps ``[n,C,R,R]`` (a copy)."""
        return self._tissues[:n].clone()

    def generate(
        self,
        g: nn.Module,
        n: int,
        phase: Phase,
        c: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Renders of tissue maps ``c [N,C,R,R]``: image ``[N,1,r,r]``, pooled tissues ``[N,1,C,r,r]``, c."""
        z = torch.randn(n, self.cfg.latent_dim, device=self.device) if z is None else z  # [N,Z]
        c = self.sample_classes(n) if c is None else c
        with self.autocast():
            img = g(c, z, phase.res, phase.alpha)
        return img.float(), pooled_tissues(c, phase.res, phase.alpha), c

    def _critic(self, c: torch.Tensor | None, phase: Phase):
        def critic(img: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
            with self.autocast():
                return self.D(img, probs[:, 0], phase.res, phase.alpha)

        return critic


def heart_labels(tissues: torch.Tensor) -> torch.Tensor:
    """Tissue indices -> ACDC labels (background clusters become 0), same shape, uint8."""
    return torch.where(tissues < N_HEART_CLASSES, tissues, torch.zeros_like(tissues)).to(torch.uint8)


def _render(g: nn.Module, onehot: torch.Tensor, z: torch.Tensor, phase: Phase | None) -> torch.Tensor:
    """``g`` at the phase's resolution (default: its last), upsampled to the map's side: ``[N,R,R]``."""
    res, alpha = (phase.res, phase.alpha) if phase is not None else (None, 1.0)
    img = g(onehot, z, res, alpha).float().clamp(-1, 1)  # [N,1,r,r]
    return upsample(img, onehot.shape[-1])[:, 0].cpu()  # (no-op at the map's side)


@torch.no_grad()
def render_cycles(
    g: nn.Module, tissues: torch.Tensor, z: torch.Tensor, n_tissues: int, phase: Phase | None = None
) -> torch.Tensor:
    """Render cycles ``tissues [S,T,R,R]`` (uint8), one latent ``z [S,Z]`` each: ``[S,T,R,R]`` in [-1,1]."""
    dev = next(g.parameters()).device
    out = [
        _render(g, one_hot_tissues(t.to(dev), n_tissues), zi.to(dev).expand(len(t), -1), phase)
        for t, zi in zip(tissues, z)
    ]
    return torch.stack(out)


@torch.no_grad()
def evaluate_renderer(
    g: nn.Module,
    reals: RealFrames,
    idx: torch.Tensor,
    z: torch.Tensor,
    cycles: torch.Tensor,
    phase: Phase | None = None,
    floor: torch.Tensor | None = None,
) -> dict[str, float]:
    """Metrics of a renderer: its renders of real frames' maps against those frames, and its flicker.

    Args:
        idx: ``[M]`` frames of ``reals`` to render (and compare with).
        z: ``[M,Z]`` their latents.
        cycles: ``[S,T,R,R]`` tissue maps of whole cycles (the flicker test), ``S <= M``.
        phase: render at this phase of training (default: the final resolution).
        floor: ``[M]`` other real frames, of other subjects (:meth:`RealFrames.metric_split`), for
            the real-vs-real floor; without them (or with fewer than 2) the distances are left out.

    Returns:
        ``swd``/``fid``/``kid`` (renders vs the real frames, with ``*_floor`` the floor frames vs
        them), ``l1`` (a render vs the real frame of the same map), and the rendered cycles'
        ``temporal_diff`` and ``temporal_jitter`` (:func:`~cineaug.metrics.cine.temporal_stats`).
    """
    dev = next(g.parameters()).device
    fake = _render(
        g, one_hot_tissues(reals.tissues[idx].to(dev), reals.n_tissues), z.to(dev), phase
    )  # [M,R,R]
    real = reals.images[idx]
    enough = floor is not None and len(floor) >= 2
    out = evaluate_frames(fake, real, reals.images[floor]) if enough else {}
    out["l1"] = float((fake - real).abs().mean())
    out.update(temporal_stats(render_cycles(g, cycles, z[: len(cycles)], reals.n_tissues, phase)))
    return out
