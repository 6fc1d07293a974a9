"""Shared generator/discriminator blocks: equalized-lr layers, pixel norm, minibatch stddev, label helpers.

The equalized learning rate (Karras et al. 2018) stores weights as N(0, 1) and multiplies them by the
He constant ``gain / sqrt(fan_in)`` at run time, so that Adam's per-parameter step is equally large for
every layer. Layers here are stateless apart from their parameters, and shapes are commented.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2.0)


class EqualizedConv2d(nn.Module):
    """A conv whose weight is scaled by ``gain / sqrt(in_ch * k * k)`` at run time.

    Args:
        in_ch: input channels.
        out_ch: output channels.
        kernel: square kernel size.
        padding: zero padding on each side.
        gain: He gain (sqrt(2) before a leaky ReLU, 1 for a linear output).
        bias: learn a bias (initialised to zero).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        padding: int = 0,
        gain: float = LRELU_GAIN,
        bias: bool = True,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))  # [O,I,k,k]
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = gain / math.sqrt(in_ch * kernel * kernel)
        self.padding = padding

    def forward(self, x: torch.Tensor, rows: slice | None = None) -> torch.Tensor:
        """``[N,I,H,W] -> [N,O,H',W']`` (only the output channels ``rows`` when given)."""
        weight = self.weight if rows is None else self.weight[rows]
        bias = self.bias if rows is None or self.bias is None else self.bias[rows]
        weight = weight * self.scale
        if weight.shape[-1] == 1 and self.padding == 0 and x.is_contiguous(memory_format=torch.channels_last):
            # a 1x1 conv on channels_last maps is a matmul over the last axis (2x faster in bf16);
            # the bias is added after it: addmm's broadcast copy of it was slower than the matmul
            out = x.permute(0, 2, 3, 1) @ weight.flatten(1).t()  # [N,H,W,O]
            if bias is not None:
                out = out + bias.to(out.dtype)
            return out.permute(0, 3, 1, 2)  # [N,O,H,W], channels_last
        return F.conv2d(x, weight, bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """A linear layer whose weight is scaled by ``gain / sqrt(in_features)`` at run time."""

    def __init__(self, in_features: int, out_features: int, gain: float = LRELU_GAIN, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))  # [O,I]
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N,I] -> [N,O]``."""
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Normalise each pixel's feature vector to unit root-mean-square over channels (dim 1)."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N,C,...] -> [N,C,...]`` with ``mean(x**2, dim=1) == 1``."""
        # vector_norm reduces bf16 channels_last maps ~4x faster than square().mean() on CPU
        norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)  # [N,1,...]
        return x * torch.rsqrt(norm.square() / x.shape[1] + self.eps)


class MinibatchStdDev(nn.Module):
    """Append one feature map: the mean over (C,H,W) of the stddev across a group of samples.

    Args:
        group_size: samples per group (the batch size must be a multiple of min(group_size, N)).
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N,C,H,W] -> [N,C+1,H,W]``."""
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        if n % g:
            g = 1 if n % 2 else 2
        y = x.float().reshape(g, n // g, c, h, w)  # [G,M,C,H,W]
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # [M,C,H,W]
        y = y.mean(dim=(1, 2, 3)).to(x.dtype)  # [M]
        y = y.reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)  # [N,1,H,W]
        return torch.cat([x, y], dim=1)


class ClassEmbedding(nn.Module):
    """Pathology class -> vector; ``n_classes == 0`` (unconditional) gives an empty ``[N,0]`` tensor."""

    def __init__(self, n_classes: int, dim: int):
        super().__init__()
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes, dim) if n_classes > 0 else None
        self.dim = dim if n_classes > 0 else 0

    def forward(self, c: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        """``c`` long ``[N]`` (or None) -> ``[N,dim]``."""
        if self.embed is None:
            return torch.zeros(n, 0, device=device)
        if c is None:
            raise ValueError("this model is class-conditional: pass the pathology index c [N]")
        return self.embed(c)


def join_cycle(image: torch.Tensor, label_probs: torch.Tensor) -> torch.Tensor:
    """Stack a cycle and its per-frame class probabilities as channels for a discriminator.

    Args:
        image: ``[N,T,H,W]``.
        label_probs: ``[N,T,K,H,W]`` (one-hot for reals, softmax for fakes).

    Returns:
        ``[N,T+T*K,H,W]``.
    """
    n, t, k, h, w = label_probs.shape
    return torch.cat([image, label_probs.reshape(n, t * k, h, w)], dim=1)  # [N,T+T*K,H,W]


def split_cycle(x: torch.Tensor, frames: int, n_labels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`join_cycle`: ``[N,T+T*K,H,W] -> ([N,T,H,W], [N,T,K,H,W])``."""
    n, _, h, w = x.shape
    return x[:, :frames], x[:, frames:].reshape(n, frames, n_labels, h, w)


def one_hot_labels(label: torch.Tensor, n_labels: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``[N,T,H,W]`` integer labels -> ``[N,T,K,H,W]`` one-hot."""
    return F.one_hot(label.long(), n_labels).permute(0, 1, 4, 2, 3).to(dtype)  # [N,T,K,H,W]


def decode_labels(logits: torch.Tensor, allowed: tuple[int, ...] | None = None) -> torch.Tensor:
    """Per-frame class logits ``[N,T,K,H,W]`` -> hard label map uint8 ``[N,T,H,W]``.

    Args:
        logits: generator label output (any float dtype; bf16 is decoded without a copy).
        allowed: classes the model was trained to draw (background always); others are never chosen.
    """
    k = logits.shape[2]
    keep = [0, *sorted(set(allowed or ()) - {0})] if allowed is not None else list(range(k))
    if len(keep) == k:
        return logits.argmax(dim=2).to(torch.uint8)  # [N,T,H,W]
    index = torch.tensor(keep, device=logits.device)
    return index[logits.index_select(2, index).argmax(dim=2)].to(torch.uint8)
