"""Progressive GAN (Karras et al. 2018) for whole cycles with their labels.

Both networks hold every resolution from 4 px to ``resolution`` from the start; ``forward`` takes the
current resolution ``res`` and fade-in weight ``alpha`` (paper convention: 0 = only the old, lower
resolution path, 1 = only the new one). Building everything at once keeps the state dict, the optimizer
and the distributed gradient sync the same at every phase.

Output of G: ``image [N,T,H,W]`` (linear, ~[-1,1]) and per-frame class logits ``[N,T,K,H,W]``.
Input of D: image + per-frame class probabilities (one-hot for reals, softmax for fakes), stacked as
``T + T*K`` channels, so labels that do not match the image are penalised.

Conditioning on pathology: G concatenates a learned class embedding to z and pixel-normalises the
pair (the ProGAN paper concatenates a one-hot label); D is a *projection* discriminator (Miyato &
Koyama 2018): ``D(x, c) = psi(h) + <embed(c), h>``. Projection adds no auxiliary classification loss,
so G is not pushed towards easily classified, less diverse cycles (the AC-GAN failure mode), and it
costs one dot product.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import records_config
from .layers import (
    LRELU_GAIN,
    ClassEmbedding,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    join_cycle,
)


def feature_maps(res: int, fmap_base: int, fmap_max: int) -> int:
    """Channels of the block at resolution ``res``: ``min(fmap_base // res, fmap_max)`` (at least 1)."""
    return max(1, min(fmap_base // res, fmap_max))


def _resolutions(resolution: int) -> list[int]:
    if resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return [2**i for i in range(2, int(math.log2(resolution)) + 1)]


class _GBlock(nn.Module):
    """Nearest upsample x2, then two 3x3 conv + leaky ReLU + pixel norm: ``[N,I,r,r] -> [N,O,2r,2r]``."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)
        self.conv1 = EqualizedConv2d(out_ch, out_ch, 3, padding=1)
        self.norm = PixelNorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")  # [N,I,2r,2r]
        x = self.norm(F.leaky_relu(self.conv0(x), 0.2))  # [N,O,2r,2r]
        return self.norm(F.leaky_relu(self.conv1(x), 0.2))


class ProGANGenerator(nn.Module):
    """z (+ pathology) -> a cycle and its per-frame label logits, at any resolution of the pyramid.

    Args:
        resolution: final side in pixels (power of two).
        frames: frames per cycle (T).
        n_labels: label classes per pixel (K, 4 in ACDC order).
        latent_dim: size of z.
        fmap_base: channels at resolution r are ``min(fmap_base // r, fmap_max)``.
        fmap_max: channel cap.
        class_names: pathology classes for conditioning; empty = unconditional.
        annotated_classes: foreground classes the training data annotated (the others are never decoded).

    Example:
        >>> g = ProGANGenerator(resolution=16, fmap_base=256, fmap_max=16, latent_dim=8)
        >>> img, logits = g(torch.randn(2, 8), None, res=16, alpha=1.0)
        >>> tuple(img.shape), tuple(logits.shape)
        ((2, 20, 16, 16), (2, 20, 4, 16, 16))
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        frames: int = 20,
        n_labels: int = 4,
        latent_dim: int = 256,
        fmap_base: int = 8192,
        fmap_max: int = 128,
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
        out_ch = frames + frames * n_labels
        nf = lambda r: feature_maps(r, fmap_base, fmap_max)  # noqa: E731
        self.embed = ClassEmbedding(len(class_names), latent_dim)
        self.norm = PixelNorm()
        self.dense = EqualizedLinear(latent_dim + self.embed.dim, nf(4) * 16, gain=LRELU_GAIN / 4)
        self.conv4 = EqualizedConv2d(nf(4), nf(4), 3, padding=1)
        self.blocks = nn.ModuleDict(
            {str(r): _GBlock(nf(r // 2), nf(r)) for r in _resolutions(resolution)[1:]}
        )
        self.to_rgb = nn.ModuleDict(
            {str(r): EqualizedConv2d(nf(r), out_ch, 1, gain=1.0) for r in _resolutions(resolution)}
        )

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, res: int | None = None, alpha: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate at resolution ``res`` (default: the final one) with fade-in weight ``alpha``.

        Args:
            z: ``[N,latent_dim]``.
            c: pathology index long ``[N]`` (None if unconditional).
            res: output side, a power of two in [4, resolution].
            alpha: blend of the newest block with the upsampled previous output.

        Returns:
            image ``[N,T,res,res]`` and label logits ``[N,T,K,res,res]``.
        """
        res = res or self.resolution
        n = z.shape[0]
        w = self.norm(torch.cat([z, self.embed(c, n, z.device).to(z.dtype)], dim=1))  # [N,Z+E]
        x = self.dense(w).reshape(n, -1, 4, 4)  # [N,nf4,4,4]
        x = self.norm(F.leaky_relu(x, 0.2))
        x = self.norm(F.leaky_relu(self.conv4(x), 0.2))  # [N,nf4,4,4]
        prev = None
        r = 4
        while r < res:
            prev, r = x, r * 2
            x = self.blocks[str(r)](x)  # [N,nf(r),r,r]
        t, k = self.frames, self.n_labels
        if alpha < 1.0 and prev is not None:
            out = self.to_rgb[str(r)](x)  # [N,T+T*K,r,r]
            low = F.interpolate(self.to_rgb[str(r // 2)](prev), scale_factor=2.0, mode="nearest")
            out = torch.lerp(low, out, alpha)
            return out[:, :t], out[:, t:].reshape(n, t, k, r, r)
        # image and label rows apart: the logits then lie contiguous per pixel (channels_last), which
        # makes decoding them (argmax over K) 1.6x faster
        image = self.to_rgb[str(r)](x, slice(0, t))  # [N,T,r,r]
        logits = self.to_rgb[str(r)](x, slice(t, None))  # [N,T*K,r,r]
        return image, logits.reshape(n, t, k, r, r)


class _DBlock(nn.Module):
    """Two 3x3 conv + leaky ReLU, then 2x2 average pool: ``[N,I,r,r] -> [N,O,r/2,r/2]``."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_ch, in_ch, 3, padding=1)
        self.conv1 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv0(x), 0.2)
        x = F.leaky_relu(self.conv1(x), 0.2)
        return F.avg_pool2d(x, 2)


def add_progressive_trunk(
    d: nn.Module, in_ch: int, resolution: int, fmap_base: int, fmap_max: int, mbstd_group: int
) -> int:
    """Give ``d`` the layers :func:`progressive_features` runs (``from_rgb``, ``blocks``, ``mbstd``,
    ``conv4``, ``dense``) for ``in_ch`` input channels; returns the feature width at 4 px."""
    nf = lambda r: feature_maps(r, fmap_base, fmap_max)  # noqa: E731
    d.from_rgb = nn.ModuleDict({str(r): EqualizedConv2d(in_ch, nf(r), 1) for r in _resolutions(resolution)})
    d.blocks = nn.ModuleDict({str(r): _DBlock(nf(r), nf(r // 2)) for r in _resolutions(resolution)[1:]})
    d.mbstd = MinibatchStdDev(mbstd_group)
    d.conv4 = EqualizedConv2d(nf(4) + 1, nf(4), 3, padding=1)
    d.dense = EqualizedLinear(nf(4) * 16, nf(4))
    return nf(4)


def progressive_features(d: nn.Module, x: torch.Tensor, res: int, alpha: float) -> torch.Tensor:
    """The trunk of a progressive discriminator ``d``: input ``[N,I,res,res]`` -> features ``[N,nf4]``.

    ``d`` holds ``from_rgb`` and ``blocks`` (ModuleDicts by resolution), ``mbstd``, ``conv4`` and
    ``dense``; below full fade-in (``alpha < 1``) the newest block is blended with the input
    average-pooled into the previous resolution's ``from_rgb``.
    """
    r = res
    h = F.leaky_relu(d.from_rgb[str(r)](x), 0.2)  # [N,nf(r),r,r]
    if r > 4:
        h = d.blocks[str(r)](h)  # [N,nf(r/2),r/2,r/2]
        if alpha < 1.0:
            low = F.leaky_relu(d.from_rgb[str(r // 2)](F.avg_pool2d(x, 2)), 0.2)
            h = torch.lerp(low, h, alpha)
        r //= 2
        while r > 4:
            h = d.blocks[str(r)](h)
            r //= 2
    h = F.leaky_relu(d.conv4(d.mbstd(h)), 0.2)  # [N,nf4,4,4]
    return F.leaky_relu(d.dense(h.flatten(1)), 0.2)  # [N,nf4]


class ProGANDiscriminator(nn.Module):
    """A cycle + per-frame label probabilities (+ pathology) -> one realness score per sample.

    Args:
        resolution, frames, n_labels, fmap_base, fmap_max: as in :class:`ProGANGenerator`.
        n_classes: pathology classes for the projection term (0 = unconditional).
        mbstd_group: group size of the minibatch-stddev layer.
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        frames: int = 20,
        n_labels: int = 4,
        fmap_base: int = 8192,
        fmap_max: int = 128,
        n_classes: int = 0,
        mbstd_group: int = 4,
    ):
        super().__init__()
        self.resolution = resolution
        in_ch = frames + frames * n_labels
        nf4 = add_progressive_trunk(self, in_ch, resolution, fmap_base, fmap_max, mbstd_group)
        self.out = EqualizedLinear(nf4, 1, gain=1.0)
        self.embed = ClassEmbedding(n_classes, nf4)

    def forward(
        self,
        image: torch.Tensor,
        label_probs: torch.Tensor,
        c: torch.Tensor | None = None,
        res: int | None = None,
        alpha: float = 1.0,
    ) -> torch.Tensor:
        """Score ``image [N,T,r,r]`` with ``label_probs [N,T,K,r,r]``; ``r`` must equal ``res``.

        Returns:
            ``[N]`` logits (higher = more real).
        """
        x = join_cycle(image, label_probs)  # [N,T+T*K,r,r]
        h = progressive_features(self, x, res or self.resolution, alpha)  # [N,nf4]
        score = self.out(h).squeeze(1)  # [N]
        e = self.embed(c, h.shape[0], h.device)  # [N,nf4] or [N,0]
        if e.shape[1]:
            score = score + (e.to(h.dtype) * h).sum(dim=1)
        return score
