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
        x = _on(x, draw(), lambda v, i: v.flip(3))
    if "rot90" in ops and h == w:
        turns, on = torch.randint(1, 4, (n,), device=dev), draw()
        for q in (1, 2, 3):
            x = _on(x, on & (turns == q), lambda v, i, q=q: torch.rot90(v, q, dims=(2, 3)))
    if "translate" in ops:
        shift = torch.randint(-(h // 8), h // 8 + 1, (n, 2), device=dev)  # [N,2] rows, columns
        x = _on(x, draw(), lambda v, i: _translate(v, fill, shift[i]))
    if "affine" in ops:
        angle = (torch.rand(n, device=dev) * 2 - 1) * math.radians(15)  # [N]
        scale = torch.exp((torch.rand(n, device=dev) * 2 - 1) * math.log(1.1))  # [N]
        x = _on(x, draw(), lambda v, i: _affine(v, fill, angle[i], scale[i]))
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


def _on(x: torch.Tensor, on: torch.Tensor, op) -> torch.Tensor:  # noqa: ANN001
    """Apply ``op(x[idx], idx)`` to the selected samples only (cost proportional to p): ``[N,...]``."""
    idx = on.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x
    return x.index_copy(0, idx, op(x.index_select(0, idx), idx))


def _translate(x: torch.Tensor, fill: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Integer shift by ``shift [N,2]`` (rows, columns), background-filled: ``[N,C,H,W]``."""
    n, _, h, w = x.shape
    dev = x.device
    yy = torch.arange(h, device=dev).view(1, h, 1) - shift[:, 0].view(n, 1, 1)  # [N,H,1] source row
    xx = torch.arange(w, device=dev).view(1, 1, w) - shift[:, 1].view(n, 1, 1)  # [N,1,W] source column
    inside = ((yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)).unsqueeze(1)  # [N,1,H,W]
    idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).flatten(1)  # [N,H*W]
    moved = x.flatten(2).gather(2, idx.unsqueeze(1).expand(-1, x.shape[1], -1)).view_as(x)
    return torch.where(inside, moved, fill.expand_as(x))


def _affine(x: torch.Tensor, fill: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Rotate by ``angle [N]`` (radians) and zoom by ``scale [N]``, bilinear, background-filled."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # [N,2,3]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False).to(x.dtype)
    ones = torch.ones_like(x[:, :1])
    warped = F.grid_sample(
        torch.cat([x, ones], 1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    inside = warped[:, -1:]  # [N,1,H,W] weight of in-image samples
    return warped[:, :-1] + (1 - inside) * fill


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
