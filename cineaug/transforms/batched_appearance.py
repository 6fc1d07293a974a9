"""Random appearance for a whole batch of tissue maps at once (:class:`BatchedCycleAppearance`).

:class:`~cineaug.transforms.appearance.RandCycleAppearance` paints one cycle per call with NumPy and
scikit-image: a dozen small calls per synthetic sample, each with its own overhead.
:class:`BatchedCycleAppearance` draws the same parameters for ``N`` cycles at once, vectorised, and
paints them with batched torch kernels in float32: one grouped convolution per axis for the blur,
one polynomial product for the bias fields, two top-k calls for the normalisation's percentiles.
The same distribution (``tests/test_batched_appearance.py`` compares their statistics on a fixed
seed), not the same random stream.

``SyntheticCycleAugmenterd(..., paint="batch")`` leaves its synthetic samples unpainted, their
tissue maps under ``"tissue"``; :meth:`BatchedCycleAppearance.paint` then paints the collated batch.
The draws are made on the CPU (one generator, whatever the device) and moved to the batch's device.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..tissues import N_HEART_CLASSES
from ..types import LV, MYO, RV
from .appearance import RandCycleAppearance, _monomials

GAUSSIAN_TRUNCATE = 4.0  # kernel radius in sigmas, as scikit-image's (and SciPy's) ``gaussian``


class BatchedCycleAppearance:
    """Paint tissue maps ``[N,T,H,W]`` (:func:`~cineaug.tissues.tissue_map`, integers) as images
    ``[N,T,H,W]`` float32 in [-1, 1]: each of the ``N`` cycles drawn as
    :class:`~cineaug.transforms.appearance.RandCycleAppearance` draws one (a random mean and spread
    per tissue, blur, resolution loss, bias field, gamma, Rician noise; all shared by the cycle's
    frames but the noise), on the maps' device.

    Args:
        look: the per-sample painter whose settings to draw from (e.g. a ``paint="batch"``
            augmenter's, ``aug.augmenter.render``); None: one made from ``settings``.
        seed: seeds the draws (:meth:`set_random_state` reseeds them).
        settings: without ``look``, :class:`~cineaug.transforms.appearance.RandCycleAppearance`'s
            (``std_range``, ``bright_blood_prob``, ``blur_sigma``, ``lowres_prob``, ``bias_prob``,
            ``gamma``, ``noise_std``), with its defaults.

    Example:
        >>> paint = BatchedCycleAppearance(bright_blood_prob=1.0).set_random_state(0)
        >>> paint(torch.zeros(3, 1, 32, 32, dtype=torch.long)).shape
        torch.Size([3, 1, 32, 32])
    """

    def __init__(self, look: RandCycleAppearance | None = None, seed: int = 0, **settings: Any) -> None:
        if look is not None and settings:
            raise ValueError(f"give a RandCycleAppearance or its settings, not both: {sorted(settings)}")
        self.look = look if look is not None else RandCycleAppearance(**settings)
        self.generator = torch.Generator().manual_seed(seed)

    def set_random_state(self, seed: int) -> BatchedCycleAppearance:
        """Reseed the draws (MONAI's ``Randomizable`` call, so trainers seed it like a transform)."""
        self.generator.manual_seed(seed)
        return self

    def paint(self, image: torch.Tensor, tissue: torch.Tensor, synthetic: torch.Tensor) -> torch.Tensor:
        """A collated batch with its synthetic samples painted: ``image`` and ``tissue``
        ``[B,C,H,W]``, ``synthetic`` ``[B]`` bool (the samples whose tissue maps to paint; the
        others are returned as they are). A new tensor; the inputs are not written."""
        chosen = torch.as_tensor(synthetic, dtype=torch.bool).flatten().to(image.device)
        tissue = torch.as_tensor(tissue).to(image.device)
        if tissue.shape != image.shape or chosen.numel() != image.shape[0]:
            raise ValueError(
                f"expected image and tissue [B,C,H,W] of one shape and a [B] synthetic flag, got "
                f"{tuple(image.shape)}, {tuple(tissue.shape)} and {tuple(chosen.shape)}"
            )
        out = image.clone()
        if chosen.any():
            out[chosen] = self(tissue[chosen]).to(out.dtype)
        return out

    def __call__(self, tissue: torch.Tensor) -> torch.Tensor:
        if tissue.dim() != 4:
            raise ValueError(f"expected tissue maps [N,T,H,W], got {tuple(tissue.shape)}")
        tissue = tissue.long()
        n = tissue.shape[0]
        k = max(int(tissue.max()) + 1 if tissue.numel() else 0, N_HEART_CLASSES)  # tissues to paint
        # every uniform draw of the batch in one call: [N, 2k tissue values + 9 bias terms + 9 scalars]
        u = torch.rand(n, 2 * k + 18, generator=self.generator).to(tissue.device)
        means = self._means(u[:, :k], u[:, -1], u[:, -2])
        stds = _between(u[:, k : 2 * k], *self.look.std_range)
        noise = torch.randn((3, *tissue.shape), generator=self.generator).to(tissue.device)  # paint, Rician
        flat = tissue.flatten(1)  # [N,T*H*W]
        image = means.gather(1, flat).view_as(tissue) + stds.gather(1, flat).view_as(tissue) * noise[0]
        return self._corrupt(image, u[:, 2 * k : 2 * k + 9], u[:, -9:-2], noise[1], noise[2])

    def _means(self, u: torch.Tensor, bright: torch.Tensor, swap: torch.Tensor) -> torch.Tensor:
        """``[N, k]`` uniform means ``u``; in a ``bright_blood_prob`` share of the cycles (``bright``
        uniform ``[N]``) the myocardium takes the darkest of the three heart means and RV / LV the
        other two, in an order drawn by ``swap``."""
        means = u.clone()
        bright, swap = (bright < self.look.bright_blood_prob), (swap < 0.5)
        heart = means[:, [RV, MYO, LV]].sort(1).values  # [N,3] ascending
        means[:, MYO] = torch.where(bright, heart[:, 0], means[:, MYO])
        means[:, RV] = torch.where(bright, torch.where(swap, heart[:, 2], heart[:, 1]), means[:, RV])
        means[:, LV] = torch.where(bright, torch.where(swap, heart[:, 1], heart[:, 2]), means[:, LV])
        return means

    def _corrupt(
        self,
        image: torch.Tensor,
        bias: torch.Tensor,
        u: torch.Tensor,
        real: torch.Tensor,
        imaginary: torch.Tensor,
    ) -> torch.Tensor:
        """Blur, resolution loss, bias field, gamma and Rician noise of ``[N,T,H,W]`` (``bias``
        ``[N,9]`` and ``u`` ``[N,7]`` uniform draws, ``real`` / ``imaginary`` the noise); then each
        cycle's 0.5 / 99.5 percentiles to -1 / 1."""
        h, w = image.shape[-2:]
        look = self.look
        sigma = _between(u[:, 0], 0.0, look.blur_sigma)
        image = gaussian_blur(image, sigma, sigma, "replicate")
        small = (
            (h * _between(u[:, 2], 0.5, 1.0)).round().int(),
            (w * _between(u[:, 3], 0.5, 1.0)).round().int(),
        )
        for i in torch.nonzero(u[:, 1] < look.lowres_prob).flatten().tolist():
            image[i] = low_resolution(image[i], (int(small[0][i]), int(small[1][i])))
        coeffs = _between(bias, -0.1, 0.1) * (u[:, 4:5] < look.bias_prob)  # [N,9]: zeros where unbiased
        field = torch.exp(torch.einsum("nk,khw->nhw", coeffs.to(image), _stacked_monomials(h, w).to(image)))
        gamma = _between(u[:, 5], *look.gamma).to(image).view(-1, 1, 1, 1)
        image = (image * field[:, None]).clamp(min=0) ** gamma
        peak = image.flatten(1).amax(1).clamp(min=1e-6)
        level = (_between(u[:, 6], 0.0, look.noise_std).to(image) * peak).view(-1, 1, 1, 1)
        return normalise_cycles(torch.hypot(image + level * real, level * imaginary))


def _between(u: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Uniform draws ``u`` in [0, 1) mapped to [low, high)."""
    return low + (high - low) * u


@functools.lru_cache(maxsize=8)
def _stacked_monomials(h: int, w: int) -> torch.Tensor:
    """:func:`~cineaug.transforms.appearance._monomials` as one ``[9,H,W]`` float32 tensor."""
    return torch.from_numpy(np.stack(_monomials((h, w))).astype(np.float32))


def gaussian_kernels(sigmas: torch.Tensor, radius: int) -> torch.Tensor:
    """Sampled, normalised Gaussian kernels ``[N, 2*radius+1]`` float32 for ``sigmas`` ``[N]`` (px),
    each cut at its own radius ``round(GAUSSIAN_TRUNCATE * sigma)`` as SciPy's ``gaussian_filter``
    cuts it (a sigma of 0 gives the identity)."""
    sigmas = sigmas.flatten().float()
    x = torch.arange(-radius, radius + 1, dtype=torch.float, device=sigmas.device)
    own = (GAUSSIAN_TRUNCATE * sigmas + 0.5).floor()
    kernels = torch.exp(-0.5 * (x / sigmas.clamp(min=1e-6)[:, None]) ** 2) * (x.abs() <= own[:, None])
    return kernels / kernels.sum(1, keepdim=True)


def gaussian_blur(
    image: torch.Tensor, sigma_rows: torch.Tensor, sigma_cols: torch.Tensor, pad: str
) -> torch.Tensor:
    """Separable Gaussian blur of ``[N,T,H,W]`` with sigmas (px) per cycle ``[N]`` and axis, every
    frame alike; ``pad`` a ``F.pad`` mode (``"replicate"``: SciPy's ``nearest``; ``"reflect"``:
    its ``mirror``). One grouped convolution per axis for the whole batch."""
    n, t, h, w = image.shape
    radius = int(math.floor(GAUSSIAN_TRUNCATE * float(torch.cat([sigma_rows, sigma_cols]).max()) + 0.5))
    if radius == 0:
        return image
    radius = min(radius, h - 1, w - 1) if pad == "reflect" else radius
    kernels = gaussian_kernels(torch.cat([sigma_rows, sigma_cols]), radius).to(image)
    rows, cols = kernels.repeat_interleave(t, 0).split(n * t)  # [N*T, 2*radius+1] each
    x = image.reshape(1, n * t, h, w)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode=pad), rows[:, None, :, None], groups=n * t)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode=pad), cols[:, None, None, :], groups=n * t)
    return x.view(n, t, h, w)


def low_resolution(cycle: torch.Tensor, small: tuple[int, int]) -> torch.Tensor:
    """``[T,H,W]`` down to ``small`` and back, as scikit-image's ``resize`` (``order=1``,
    ``anti_aliasing=True``, ``mode="reflect"``) does it twice: a Gaussian of sigma ``(scale - 1) / 2``
    per axis before the bilinear down-sampling, none before the up-sampling; mirror padding
    throughout (SciPy's ``mirror``)."""
    h, w = cycle.shape[-2:]
    small = (max(1, small[0]), max(1, small[1]))
    sigma = [max(0.0, (have / want - 1) / 2) for have, want in zip((h, w), small)]
    smooth = gaussian_blur(cycle[None], torch.tensor([sigma[0]]), torch.tensor([sigma[1]]), "reflect")
    return mirror_resize(mirror_resize(smooth, small), (h, w))[0]


def mirror_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resampling of ``[N,C,h,w]`` to ``size`` on pixel centres (``align_corners=False``
    positions) with samples beyond the edge mirrored about the edge pixels' centres, as
    ``scipy.ndimage.zoom(order=1, mode="mirror", grid_mode=True)``."""
    axes = []
    for have, want in zip(x.shape[-2:], size):
        centres = (torch.arange(want, dtype=x.dtype, device=x.device) + 0.5) * (have / want) - 0.5  # input px
        axes.append(centres / max(have - 1, 1) * 2 - 1)  # align_corners=True units: reflection about centres
    rows, cols = torch.meshgrid(*axes, indexing="ij")
    grid = torch.stack([cols, rows], -1).expand(x.shape[0], -1, -1, -1)
    return F.grid_sample(x, grid, "bilinear", "reflection", align_corners=True)


def normalise_cycles(image: torch.Tensor, low: float = 0.005, high: float = 0.995) -> torch.Tensor:
    """Each cycle of ``[N,T,H,W]``: its ``low`` / ``high`` quantiles (linear interpolation, as
    NumPy's default) to -1 / 1, clipped (as :func:`~cineaug.preprocess.normalise_intensity`; a
    constant cycle gives zeros)."""
    flat = image.flatten(1)
    lo, hi = (tail_quantile(flat, q).view(-1, 1, 1, 1) for q in (low, high))
    span = hi - lo
    out = ((image - lo) * (2.0 / span.clamp(min=1e-12)) - 1.0).clamp(-1.0, 1.0)
    return torch.where(span > 0, out, torch.zeros_like(out))


def tail_quantile(x: torch.Tensor, q: float) -> torch.Tensor:
    """The ``q`` quantile of each row of ``[N,M]`` (linear interpolation, as ``torch.quantile``) from
    the ``topk`` of its tail alone: a tail quantile without sorting the row."""
    m = x.shape[1]
    position = q * (m - 1)
    below = math.floor(position)
    if q <= 0.5:  # order statistics below .. below + 1, counted from the smallest
        tail = x.topk(min(below + 2, m), dim=1, largest=False).values
        a, b = tail[:, below], tail[:, min(below + 1, m - 1)]
    else:  # counted from the largest: rank r from the smallest is m - 1 - r from the largest
        tail = x.topk(m - below, dim=1).values
        a, b = tail[:, m - 1 - below], tail[:, max(m - 2 - below, 0)]
    return a + (b - a) * (position - below)
