"""The seed project's 2.5D DCGAN (frames as channels, 5x5 kernels, 64 or 128 px), extended with labels.

G: dense z -> 8x8, a stride-1 transposed conv, then stride-2 transposed convs up to the output, each
hidden layer with batch norm + leaky ReLU(0.3); the image channels end in tanh, the label logits are
linear. D: stride-2 5x5 convs with leaky ReLU(0.3) + dropout(0.3) down to 4x4, then a dense logit. At
64 px with ``width=64`` the channels are the seed's 512-256-128-64 (G) and 64-128-256-512 (D).

Labels and pathology are handled as in :mod:`cineaug.models.progan`: G emits ``T*K`` logit channels
beside the ``T`` image channels and takes a class embedding concatenated to z; D sees image + label
probabilities and adds a projection term. ``res`` and ``alpha`` are accepted and ignored.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import records_config
from .layers import ClassEmbedding, join_cycle


def _n_up(resolution: int) -> int:
    if resolution < 16 or resolution & (resolution - 1):
        raise ValueError(f"DCGAN resolution must be a power of two >= 16, got {resolution}")
    return int(math.log2(resolution // 8))


class DCGANGenerator(nn.Module):
    """z (+ pathology) -> cycle ``[N,T,H,W]`` in [-1,1] and label logits ``[N,T,K,H,W]``.

    Args:
        resolution: output side (64 or 128 in the seed project).
        frames: frames per cycle (T).
        n_labels: label classes (K).
        latent_dim: size of z (100 in the seed project).
        width: channels of the last hidden layer; the 8x8 layer has ``width * 2**n_up``.
        class_names: pathology classes; empty = unconditional.
        annotated_classes: foreground classes the training data annotated.
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        frames: int = 20,
        n_labels: int = 4,
        latent_dim: int = 100,
        width: int = 64,
        class_names: tuple[str, ...] = (),
        annotated_classes: tuple[int, ...] = (1, 2, 3),
    ):
        super().__init__()
        self.resolution, self.frames, self.n_labels, self.latent_dim = (
            resolution,
            frames,
            n_labels,
            latent_dim,
        )
        self.class_names, self.annotated_classes = tuple(class_names), tuple(annotated_classes)
        n_up = _n_up(resolution)
        ch = width * 2**n_up
        self.embed = ClassEmbedding(len(class_names), latent_dim)
        self.dense = nn.Sequential(
            nn.Linear(latent_dim + self.embed.dim, ch * 64, bias=False),
            nn.BatchNorm1d(ch * 64),
            nn.LeakyReLU(0.3),
        )
        layers: list[nn.Module] = []
        for i in range(n_up):
            stride = 1 if i == 0 else 2
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 5, stride, 2, output_padding=stride - 1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.LeakyReLU(0.3),
            ]
            ch //= 2
        layers.append(nn.ConvTranspose2d(ch, frames + frames * n_labels, 5, 2, 2, output_padding=1))
        self.convs = nn.Sequential(*layers)
        self.base = width * 2**n_up

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, res: int | None = None, alpha: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``z [N,Z]`` (+ ``c [N]``) -> image ``[N,T,H,W]``, logits ``[N,T,K,H,W]``."""
        n = z.shape[0]
        x = self.dense(torch.cat([z, self.embed(c, n, z.device).to(z.dtype)], dim=1))  # [N,ch*64]
        x = self.convs(x.reshape(n, self.base, 8, 8))  # [N,T+T*K,H,W]
        t, k, h = self.frames, self.n_labels, x.shape[-1]
        return torch.tanh(x[:, :t]), x[:, t:].reshape(n, t, k, h, h)


class DCGANDiscriminator(nn.Module):
    """Cycle + label probabilities (+ pathology) -> ``[N]`` logits.

    Args:
        resolution, frames, n_labels: as in :class:`DCGANGenerator`.
        width: channels of the first conv, doubled at each stride-2 step.
        n_classes: pathology classes for the projection term (0 = unconditional).
        dropout: dropout after each conv (0.3 in the seed project).
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        frames: int = 20,
        n_labels: int = 4,
        width: int = 64,
        n_classes: int = 0,
        dropout: float = 0.3,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        ch_in, ch = frames + frames * n_labels, width
        for _ in range(_n_up(resolution) + 1):  # down to 4x4
            layers += [nn.Conv2d(ch_in, ch, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(dropout)]
            ch_in, ch = ch, ch * 2
        self.convs = nn.Sequential(*layers)
        self.out = nn.Linear(ch_in * 16, 1)
        self.embed = ClassEmbedding(n_classes, ch_in * 16)

    def forward(
        self,
        image: torch.Tensor,
        label_probs: torch.Tensor,
        c: torch.Tensor | None = None,
        res: int | None = None,
        alpha: float = 1.0,
    ) -> torch.Tensor:
        """``image [N,T,H,W]``, ``label_probs [N,T,K,H,W]`` -> ``[N]``."""
        h = self.convs(join_cycle(image, label_probs)).flatten(1)  # [N,C*16]
        score = self.out(h).squeeze(1)  # [N]
        e = self.embed(c, h.shape[0], h.device)
        if e.shape[1]:
            score = score + (e.to(h.dtype) * h).sum(dim=1)
        return score
