"""One GAN training step: networks, optimizers, EMA and augmentation strength, and the D/G updates.

Kept apart from the loop and the run folder so that the benchmark times exactly what training runs.
All randomness comes from the global torch RNG (saved with the training state), in a fixed order.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from typing import Any

import torch
from torch import nn

from ..models.hub import MODELS, build_model
from ..precision import autocast, resolve_precision
from ..tissues import N_HEART_CLASSES
from .augment import AdaptiveStrength, augment
from .config import TrainConfig
from .distributed import average_gradients, sum_floats
from .losses import d_adversarial, g_adversarial, gradient_penalty, mode_seeking_ratio, r1_penalty
from .realdata import merge_unannotated
from .schedule import Phase

NETWORKS: dict[str, tuple[str, str]] = {
    "progan": ("ProGANGenerator", "ProGANDiscriminator"),
    "dcgan": ("DCGANGenerator", "DCGANDiscriminator"),
    "renderer": ("LabelRenderer", "RendererDiscriminator"),
}
"""``TrainConfig.arch`` -> the (G, D) class names in :data:`cineaug.models.MODELS`."""


def network_args(
    class_name: str, cfg: TrainConfig, class_names: tuple[str, ...], annotated: tuple[int, ...]
) -> dict[str, Any]:
    """Constructor arguments of a registered class: the fields of ``cfg`` named like one of its
    parameters (``resolution``, ``latent_dim``, ``fmap_base``, ``width``, ...), the data's pathology
    classes (``class_names``, ``n_classes``), ``annotated_classes`` and the renderer's ``n_tissues``."""
    given = {**cfg.to_dict(), "class_names": class_names, "n_classes": len(class_names)}
    given["n_tissues"] = N_HEART_CLASSES + cfg.n_clusters
    given["annotated_classes"] = annotated
    params = inspect.signature(MODELS[class_name]).parameters
    return {k: v for k, v in given.items() if k in params}


def build_networks(
    cfg: TrainConfig, class_names: tuple[str, ...] = (), annotated: tuple[int, ...] = (1, 2, 3)
) -> tuple[nn.Module, nn.Module]:
    """G and D for ``cfg``, built through the model registry (initialised from the current torch RNG)."""
    if cfg.arch not in NETWORKS:
        raise ValueError(f"unknown arch {cfg.arch!r}; known: {', '.join(NETWORKS)}")
    g, d = (build_model(name, network_args(name, cfg, class_names, annotated)) for name in NETWORKS[cfg.arch])
    return g, d


class GANTraining:
    """G, D, the EMA generator, two Adam optimizers and the ADA strength, with :meth:`step`.

    Args:
        cfg: the run's configuration.
        device: where the networks live.
        class_names: pathology classes (empty = unconditional).
        annotated: foreground classes the data annotates.
        class_freq: ``[C]`` sampling weights of pathology classes for fakes (the data's distribution).
    """

    def __init__(
        self,
        cfg: TrainConfig,
        device: torch.device,
        class_names: tuple[str, ...] = (),
        annotated: tuple[int, ...] = (1, 2, 3),
        class_freq: torch.Tensor | None = None,
    ):
        self.cfg, self.device, self.annotated = cfg, device, annotated
        self.precision = resolve_precision(cfg.precision, device)  # "bf16" or "fp32"
        g, d = build_networks(cfg, class_names, annotated)
        fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.G, self.D = g.to(device, memory_format=fmt), d.to(device, memory_format=fmt)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas, eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas, eps=1e-8)
        self.ada = AdaptiveStrength(cfg.augment_p, cfg.ada_target, cfg.ada_interval, cfg.ada_images)
        self.ops = tuple(o for o in cfg.augment.split(",") if o)
        self.n_classes = len(class_names)
        self.class_freq = class_freq.float() if class_freq is not None else None
        self.d_steps = 0

    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.precision, self.device)

    def sample_classes(self, n: int) -> torch.Tensor | None:
        """Pathology indices ``[N]`` drawn from the data's class distribution (None if unconditional)."""
        if not self.n_classes:
            return None
        return torch.multinomial(self.class_freq, n, replacement=True).to(self.device)

    def generate(
        self,
        g: nn.Module,
        n: int,
        phase: Phase,
        c: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Fakes from ``g``: image ``[N,T,r,r]``, merged label probabilities ``[N,T,K,r,r]``, classes."""
        z = torch.randn(n, self.cfg.latent_dim, device=self.device) if z is None else z  # [N,Z]
        c = self.sample_classes(n) if c is None else c
        with self.autocast():
            img, logits = g(z, c, phase.res, phase.alpha)
        probs = merge_unannotated(torch.softmax(logits.float(), dim=2), self.annotated)
        return img.float(), probs, c

    def _critic(self, c: torch.Tensor | None, phase: Phase):
        def critic(img: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
            with self.autocast():
                return self.D(img, probs, c, phase.res, phase.alpha)

        return critic

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                group["lr"] = lr

    def step(
        self, reals: tuple[torch.Tensor, torch.Tensor, torch.Tensor], phase: Phase, images_seen: int
    ) -> dict:
        """One D update and one G update on this process's share of the batch.

        Args:
            reals: image ``[N,T,r,r]``, label probabilities ``[N,T,K,r,r]``, classes ``[N]``.
            phase: the schedule's phase (resolution, alpha, global batch, lr).
            images_seen: images before this step (for the EMA ramp-up).

        Returns:
            scalar statistics of this process.
        """
        cfg, n = self.cfg, reals[0].shape[0]
        real_c = reals[2] if self.n_classes else None
        self.set_lr(phase.lr)
        # --- D
        self.D.requires_grad_(True)
        with torch.no_grad():
            f_img, f_probs, f_c = self.generate(self.G, n, phase)
        r_aug = augment(reals[0], reals[1], self.ada.p, self.ops)
        f_aug = augment(f_img, f_probs, self.ada.p, self.ops)
        critic = self._critic(real_c, phase)
        do_r1 = cfg.loss == "ns_r1" and self.d_steps % cfg.r1_interval == 0
        stats: dict[str, Any] = {}
        if do_r1:
            r1, real_logits = r1_penalty(critic, r_aug)
        else:
            real_logits = critic(*r_aug)
        fake_logits = self._critic(f_c, phase)(*f_aug)
        loss_d = d_adversarial(cfg.loss, real_logits, fake_logits, cfg.drift).mean()
        if do_r1:
            stats["r1"] = float(r1.detach().mean())
            loss_d = loss_d + r1.mean() * (cfg.r1_gamma / 2 * cfg.r1_interval)
        if cfg.loss == "wgangp":
            gp = gradient_penalty(critic, r_aug, f_aug).mean()
            stats["gp"] = float(gp.detach())
            loss_d = loss_d + cfg.gp_lambda * gp
        self.opt_D.zero_grad(set_to_none=True)
        loss_d.backward()
        average_gradients(self.D)
        self.opt_D.step()
        self.d_steps += 1
        self.ada.accumulate(real_logits)
        self.ada.update(phase.batch, lambda v: sum_floats(v, self.device))
        # --- G
        self.D.requires_grad_(False)
        if cfg.mode_seeking > 0 and n >= 2:  # pairs (i, i + n/2) share their class, not their z
            c, h = self.sample_classes(n), n // 2
            if c is not None:
                c[h : 2 * h] = c[:h]
            z = torch.randn(n, cfg.latent_dim, device=self.device)  # [N,Z]
            g_img, g_probs, g_c = self.generate(self.G, n, phase, c, z)
        else:
            g_img, g_probs, g_c = self.generate(self.G, n, phase)
        fake_logits_g = self._critic(g_c, phase)(*augment(g_img, g_probs, self.ada.p, self.ops))
        loss_g = g_adversarial(cfg.loss, fake_logits_g).mean()
        if cfg.mode_seeking > 0 and n >= 2:
            ratio = mode_seeking_ratio(g_img, g_probs, z)
            stats["mode_seeking"] = float(ratio.detach())
            loss_g = loss_g + cfg.mode_seeking / (ratio + 1e-5)
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        average_gradients(self.G)
        self.opt_G.step()
        self.update_ema(phase.batch, images_seen + phase.batch)
        stats.update(
            loss_d=float(loss_d.detach()),
            loss_g=float(loss_g.detach()),
            d_real=float(real_logits.detach().float().mean()),
            d_fake=float(fake_logits.detach().float().mean()),
            p=self.ada.p,
        )
        return stats

    @torch.no_grad()
    def update_ema(self, batch: int, images_seen: int) -> None:
        """EMA of G with a half-life of ``ema_images`` images (ramped up early); 0 = copy G."""
        half = self.cfg.ema_images
        if self.cfg.ema_rampup > 0:
            half = min(half, images_seen * self.cfg.ema_rampup)
        beta = 0.5 ** (batch / max(half, 1e-8)) if half > 0 else 0.0
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(torch.lerp(p.detach(), p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D, "G_ema": self.G_ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optG": self.opt_G, "optD": self.opt_D}
