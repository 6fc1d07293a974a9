"""Sliced Wasserstein distance on Laplacian pyramids (ProGAN's SWD), for any number of channels.

No network is involved. Per pyramid level (64 -> 16 px), 7x7 patches of all C channels are drawn at
random, normalised per channel over both sets, projected onto random unit directions, and the sorted
projections compared. The value is ``1e3 * mean |sorted(a) - sorted(b)|``, per level; lower is better.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(x: torch.Tensor) -> torch.Tensor:
    """5x5 binomial blur per channel, reflect padded: ``[N,C,H,W]``."""
    c = x.shape[1]
    k = (_BINOMIAL[:, None] * _BINOMIAL[None, :]).to(x).expand(c, 1, 5, 5)  # [C,1,5,5]
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)


def laplacian_pyramid(x: torch.Tensor, min_size: int = 16) -> list[torch.Tensor]:
    """Band-pass levels down to ``min_size`` (the last is the low-pass residual): list of ``[N,C,h,w]``."""
    levels = []
    while x.shape[-1] > min_size:
        down = _blur(x)[..., ::2, ::2]
        up = _blur(F.interpolate(down, scale_factor=2.0, mode="nearest"))
        levels.append(x - up)
        x = down
    levels.append(x)
    return levels


def _patches(x: torch.Tensor, n_per_image: int, gen: torch.Generator, size: int = 7) -> torch.Tensor:
    """``n_per_image`` random ``size``x``size`` patches per image: ``[N*n,C*size*size]``."""
    n, c, h, w = x.shape
    ys = torch.randint(0, h - size + 1, (n, n_per_image), generator=gen)
    xs = torch.randint(0, w - size + 1, (n, n_per_image), generator=gen)
    unfolded = F.unfold(x, size)  # [N,C*s*s,L]
    idx = ys * (w - size + 1) + xs  # [N,n]
    return (
        unfolded.gather(2, idx[:, None, :].expand(-1, unfolded.shape[1], -1)).permute(0, 2, 1).flatten(0, 1)
    )


def sliced_wasserstein(
    a: torch.Tensor, b: torch.Tensor, patches: int = 128, dirs: int = 128, repeats: int = 4, seed: int = 0
) -> list[float]:
    """SWD between two sets of images, one value per pyramid level (fine to coarse).

    Args:
        a, b: ``[N,C,H,W]`` (same N), e.g. cycles with frames as channels.
        patches: patches per image and level.
        dirs: random directions per repeat.
        repeats: independent sets of directions averaged.
        seed: seeds patch positions and directions.
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for la, lb in zip(laplacian_pyramid(a.float().cpu()), laplacian_pyramid(b.float().cpu())):
        da, db = _patches(la, patches, gen), _patches(lb, patches, gen)  # [M,D]
        both = torch.cat([da, db])
        c = la.shape[1]
        mean = both.view(both.shape[0], c, -1).mean(dim=(0, 2)).repeat_interleave(both.shape[1] // c)
        std = both.view(both.shape[0], c, -1).std(dim=(0, 2)).repeat_interleave(both.shape[1] // c) + 1e-8
        da, db = (da - mean) / std, (db - mean) / std
        dist = 0.0
        for _ in range(repeats):
            d = torch.randn(da.shape[1], dirs, generator=gen)
            d = d / d.norm(dim=0, keepdim=True)  # [D,dirs]
            pa, pb = (da @ d).sort(dim=0).values, (db @ d).sort(dim=0).values
            dist += float((pa - pb).abs().mean())
        out.append(1e3 * dist / repeats)
    return out
