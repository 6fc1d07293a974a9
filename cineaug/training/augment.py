"""Discriminator augmentation that keeps image and labels aligned (DiffAugment ops, ADA strength).

Every op is applied to each sample independently with probability ``p`` (as in ADA), to reals and
fakes alike, and is differentiable so that G learns through it. Geometric ops (``flip``, ``rot90``,
``translate``, ``affine``) move the joint stack ``[image | label probabilities]`` with one warp for all
frames and classes; pixels moved in from outside are background (image -1, label one-hot background).
Intensity ops (``brightness``, ``contrast``) and ``cutout`` touch the image only, with one draw per
cycle so that frames do not flicker. ``p`` is clamped to [0, 1) so augmentations do not leak into G
(stylegan2-ada-pytorch#175). With ``ada_target`` set, :class:`AdaptiveStrength` moves ``p`` towards
``E[sign(D(real))] == target``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

OPS = ("flip", "rot90", "translate", "affine", "brightness", "contrast", "cutout")
P_MAX = 0.99


def _fill(k: int, t: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Background of the joint stack ``[T+T*K]``: image -1, probability 1 for class 0."""
    lab = torch.zeros(t, k, device=device, dtype=dtype)
    lab[:, 0] = 1.0
    return torch.cat([torch.full((t,), -1.0, device=device, dtype=dtype), lab.flatten()])


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (a.dim() - 1))), a, b)


def augment(
    image: torch.Tensor, label_probs: torch.Tensor, p: float, ops: tuple[str, ...] = OPS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch of cycles with labels.

    Args:
        image: ``[N,T,H,W]`` in [-1, 1].
        label_probs: ``[N,T,K,H,W]`` class probabilities (one-hot for reals).
        p: probability of each op per sample.
        ops: op names from :data:`OPS`, applied in that order.

    Returns:
        the augmented ``image [N,T,H,W]`` and ``label_probs [N,T,K,H,W]``.
    """
    unknown = set(ops) - set(OPS)
    if unknown:
        raise ValueError(f"unknown augmentation ops {sorted(unknown)}; known: {OPS}")
    if p <= 0 or not ops:
        return image, label_probs
    n, t, k, h, w = label_probs.shape
    dev = image.device
    x = torch.cat([image, label_probs.reshape(n, t * k, h, w)], dim=1)  # [N,T+T*K,H,W]
    fill = _fill(k, t, dev, x.dtype).view(1, -1, 1, 1)  # [1,C,1,1]
    draw = lambda: torch.rand(n, device=dev) < p  # noqa: E731
    if "flip" in ops:
        x = _where(draw(), x.flip(3), x)
    if "rot90" in ops and h == w:
        turns, on = torch.randint(1, 4, (n,), device=dev), draw()
        for q in (1, 2, 3):
            x = _where(on & (turns == q), torch.rot90(x, q, dims=(2, 3)), x)
    if "translate" in ops:
        x = _translate(x, fill, draw(), max_frac=0.125)
    if "affine" in ops:
        x = _affine(x, fill, draw())
    image, lab = x[:, :t], x[:, t:].reshape(n, t, k, h, w)
    if "brightness" in ops:
        image = image + _where(
            draw(), torch.rand(n, 1, 1, 1, device=dev) - 0.5, torch.zeros(n, 1, 1, 1, device=dev)
        )
    if "contrast" in ops:
        scale = _where(draw(), torch.rand(n, 1, 1, 1, device=dev) + 0.5, torch.ones(n, 1, 1, 1, device=dev))
        mean = image.mean(dim=(1, 2, 3), keepdim=True)
        image = (image - mean) * scale.to(image.dtype) + mean
    if "cutout" in ops:
        image = _cutout(image, draw(), frac=0.25)
    return image, lab


def _translate(x: torch.Tensor, fill: torch.Tensor, on: torch.Tensor, max_frac: float) -> torch.Tensor:
    """Integer shift of up to ``max_frac`` of the side, background-filled: ``[N,C,H,W]``."""
    n, _, h, w = x.shape
    dev = x.device
    sy = torch.randint(-int(h * max_frac), int(h * max_frac) + 1, (n, 1, 1), device=dev) * on.view(n, 1, 1)
    sx = torch.randint(-int(w * max_frac), int(w * max_frac) + 1, (n, 1, 1), device=dev) * on.view(n, 1, 1)
    yy = torch.arange(h, device=dev).view(1, h, 1) - sy  # [N,H,1] source row
    xx = torch.arange(w, device=dev).view(1, 1, w) - sx  # [N,1,W] source column
    inside = ((yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)).unsqueeze(1)  # [N,1,H,W]
    idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).flatten(1)  # [N,H*W]
    moved = x.flatten(2).gather(2, idx.unsqueeze(1).expand(-1, x.shape[1], -1)).view_as(x)
    return torch.where(inside, moved, fill.expand_as(x))


def _affine(x: torch.Tensor, fill: torch.Tensor, on: torch.Tensor) -> torch.Tensor:
    """Rotation up to +-15 degrees and isotropic scale in [0.9, 1.1], bilinear, background-filled."""
    n, dev = x.shape[0], x.device
    angle = (torch.rand(n, device=dev) * 2 - 1) * math.radians(15) * on
    scale = torch.exp((torch.rand(n, device=dev) * 2 - 1) * math.log(1.1) * on)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros_like(cos)], 1),
                         torch.stack([sin, cos, torch.zeros_like(cos)], 1)], 1)  # [N,2,3]  # fmt: skip
    grid = F.affine_grid(theta, list(x.shape), align_corners=False).to(x.dtype)
    ones = torch.ones_like(x[:, :1])
    warped = F.grid_sample(
        torch.cat([x, ones], 1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    inside = warped[:, -1:]  # [N,1,H,W] weight of in-image samples
    out = warped[:, :-1] + (1 - inside) * fill
    return _where(on, out, x)


def _cutout(image: torch.Tensor, on: torch.Tensor, frac: float) -> torch.Tensor:
    """Set a square of side ``frac * H`` to 0 in every frame of the selected cycles: ``[N,T,H,W]``."""
    n, _, h, w = image.shape
    dev = image.device
    size = max(1, int(h * frac))
    cy = torch.randint(0, h, (n, 1, 1), device=dev)
    cx = torch.randint(0, w, (n, 1, 1), device=dev)
    yy, xx = torch.arange(h, device=dev).view(1, h, 1), torch.arange(w, device=dev).view(1, 1, w)
    box = ((yy - cy).abs() <= size // 2) & ((xx - cx).abs() <= size // 2) & on.view(n, 1, 1)  # [N,H,W]
    return image * (~box).unsqueeze(1).to(image.dtype)


class AdaptiveStrength:
    """ADA's heuristic: raise ``p`` when D is over-confident on reals, lower it otherwise.

    Args:
        p: initial strength.
        target: target of ``E[sign(D(real))]``; 0 keeps ``p`` fixed.
        interval: D steps between updates.
        speed_images: images for ``p`` to move by 1.
    """

    def __init__(self, p: float, target: float, interval: int, speed_images: int):
        self.p, self.target, self.interval, self.speed_images = float(p), target, interval, speed_images
        self.sign_sum, self.count, self.steps, self.last_rt = 0.0, 0, 0, 0.0

    def accumulate(self, real_logits: torch.Tensor) -> None:
        """Record D's outputs on the (augmented) reals of one step ``[N]``."""
        self.sign_sum += float(real_logits.detach().float().sign().sum())
        self.count += real_logits.shape[0]

    def update(self, batch: int, sync=lambda v: v) -> None:
        """After each D step: every ``interval`` steps move ``p`` by ``sign(r_t - target) * images / speed``.

        ``sync`` sums ``(sign_sum, count)`` over processes (identity on one process).
        """
        self.steps += 1
        if self.target <= 0 or self.steps % self.interval:
            return
        sign_sum, count = sync((self.sign_sum, self.count))
        self.last_rt = rt = sign_sum / max(count, 1)
        step = math.copysign(batch * self.interval / self.speed_images, rt - self.target)
        self.p = min(max(self.p + step, 0.0), P_MAX)
        self.sign_sum, self.count = 0.0, 0

    def state(self) -> dict[str, float]:
        return {
            "p": self.p,
            "sign_sum": self.sign_sum,
            "count": self.count,
            "steps": self.steps,
            "rt": self.last_rt,
        }

    def load_state(self, s: dict[str, float]) -> None:
        self.p, self.sign_sum, self.count = float(s["p"]), float(s["sign_sum"]), int(s["count"])
        self.steps, self.last_rt = int(s["steps"]), float(s["rt"])
