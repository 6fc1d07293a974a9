"""GAN losses on joint (image, label probability) inputs.

- ``wgangp``: WGAN-GP as in the ProGAN paper: ``D(fake) - D(real) + lambda (|grad| - 1)**2 +
  drift * D(real)**2``; G minimises ``-D(fake)``.
- ``ns_r1``: non-saturating logistic loss with a lazy R1 penalty ``gamma/2 |grad D(real)|**2`` every
  ``r1_interval`` D steps, scaled by the interval (StyleGAN2); cheaper, no fake/real interpolation.
- ``ns``: the seed DCGAN's binary cross-entropy (non-saturating G loss), no penalty.

Gradients are taken with respect to both the image and the label channels, since both are inputs of D.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(image [N,T,H,W], label_probs [N,T,K,H,W]) -> [N]`` (D with its class and phase bound)."""


def d_adversarial(
    kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor, drift: float
) -> torch.Tensor:
    """Per-sample D loss ``[N]`` from D's outputs on reals and fakes."""
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if kind == "wgangp":
        return fake_logits - real_logits + drift * real_logits.square()
    if kind in ("ns_r1", "ns"):
        return F.softplus(fake_logits) + F.softplus(-real_logits)
    raise ValueError(f"unknown loss {kind!r}")


def mode_seeking_ratio(image: torch.Tensor, probs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """MSGAN's ratio (Mao et al., CVPR 2019): how far two cycles of one class lie apart per unit of z.

    Pairs are ``(i, i + N/2)``, drawn with the same class; the generator maximises the mean of
    ``(mean|dImage| + mean|dLabelProbs|) / mean|dz|`` so that it cannot ignore z within a class.

    Args:
        image: ``[N,T,r,r]``; probs: ``[N,T,K,r,r]``; z: ``[N,Z]``.
    """
    h = image.shape[0] // 2
    d_image = (image[:h] - image[h : 2 * h]).abs().flatten(1).mean(1)  # [h]
    d_probs = (probs[:h] - probs[h : 2 * h]).abs().flatten(1).mean(1)  # [h]
    d_z = (z[:h] - z[h : 2 * h]).abs().mean(1)  # [h]
    return ((d_image + d_probs) / d_z).mean()


def g_adversarial(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Per-sample G loss ``[N]``."""
    fake_logits = fake_logits.float()
    if kind == "wgangp":
        return -fake_logits
    if kind in ("ns_r1", "ns"):
        return F.softplus(-fake_logits)
    raise ValueError(f"unknown loss {kind!r}")


def _grad_sq_norm(out: torch.Tensor, inputs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(out.float().sum(), inputs, create_graph=True)
    return sum(g.float().square().flatten(1).sum(1) for g in grads)  # [N]


def gradient_penalty(
    critic: Critic,
    real: tuple[torch.Tensor, torch.Tensor],
    fake: tuple[torch.Tensor, torch.Tensor],
    target: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP ``(|grad D(x_hat)| - target)**2 / target**2`` per sample ``[N]``.

    ``x_hat`` interpolates image and labels with the same per-sample weight.
    """
    eps = torch.rand(real[0].shape[0], 1, 1, 1, device=real[0].device)  # [N,1,1,1]
    img = torch.lerp(fake[0].detach().float(), real[0].float(), eps).requires_grad_(True)
    lab = torch.lerp(fake[1].detach().float(), real[1].float(), eps[..., None]).requires_grad_(True)
    norm = (_grad_sq_norm(critic(img, lab), (img, lab)) + 1e-12).sqrt()
    return (norm - target).square() / target**2


def r1_penalty(critic: Critic, real: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """R1: ``|grad D(real)|**2`` per sample ``[N]``, and D's logits on the reals ``[N]``.

    The reals are detached and made to require grad here, so the caller reuses the logits for the
    adversarial term and pays for one D forward only.
    """
    img = real[0].detach().requires_grad_(True)
    lab = real[1].detach().requires_grad_(True)
    logits = critic(img, lab)
    return _grad_sq_norm(logits, (img, lab)), logits
