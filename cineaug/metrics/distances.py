"""FID (MONAI's Frechet distance) and KID (unbiased polynomial-kernel MMD) on feature matrices."""

from __future__ import annotations

import numpy as np
import torch
from monai.metrics.fid import get_fid_score


def fid(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to ``[N,F]`` and ``[M,F]`` features (biased at small N).

    Returns NaN for non-finite features (scipy's matrix square root does not return on NaN input).
    """
    if not (torch.isfinite(fake).all() and torch.isfinite(real).all()):
        return float("nan")
    return float(get_fid_score(fake.double(), real.double()).real)


def kid(
    fake: torch.Tensor, real: torch.Tensor, subsets: int = 50, subset_size: int = 1000, seed: int = 0
) -> float:
    """Kernel inception distance on our own features: unbiased MMD^2 with ``k(x,y) = (x.y/d + 1)^3``.

    Follows stylegan2-ada's ``kernel_inception_distance``: averaged over random subsets of size
    ``min(N, M, subset_size)``. Unbiased, so it can be slightly negative when the sets match.
    """
    x, y = fake.double().numpy(), real.double().numpy()
    n, d = min(len(x), len(y), subset_size), x.shape[1]
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(subsets):
        a, b = x[rng.choice(len(x), n, replace=False)], y[rng.choice(len(y), n, replace=False)]
        kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
        off = lambda k: (k.sum() - np.trace(k)) / (n * (n - 1))  # noqa: E731
        total += off(kxx) + off(kyy) - 2 * kxy.mean()
    return float(total / subsets)
