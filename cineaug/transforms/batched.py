"""The nnU-Net 2D training augmentation on a whole batch of frames at once (as GPU augmentation does).

:func:`~cineaug.transforms.baseline` ``("nnunet")`` runs MONAI's dictionary transforms on one frame at
a time: a dozen Python-level transforms per sample, which on a small frame cost more than the UNet's
step. :class:`BatchedNnunetAugment` draws the same parameters for every frame of a batch, vectorised,
and applies them with one sampling grid (rotation and zoom composed into one affine per frame, one
``grid_sample`` call per padding mode; flips as exact index reversals) and batched intensity kernels.
It runs on the batch's device (in the benchmark, on the CPU thread that draws the batches).

The same distribution as the per-sample pipeline (``tests/test_batched.py`` compares their statistics
on a fixed seed), with one difference: rotation and zoom resample once, not twice (nnU-Net resamples
once too).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SMOOTH_TRUNCATED = 4.0  # Gaussian kernel half-width in sigmas (MONAI's GaussianFilter default)


class BatchedNnunetAugment:
    """nnU-Net's default 2D augmentation on frame batches: image ``[B,1,H,W]`` float, label
    ``[B,1,H,W]`` integer -> both augmented (label by nearest-neighbour sampling).

    Per frame, with the probabilities of :func:`cineaug.transforms.baselines.nnunet`: rotation
    (0.2, any angle), zoom (0.2, 0.7-1.4, size kept), flips (0.5 per axis); Gaussian noise (0.1, sd up
    to 0.1), blur (0.2, sigma 0.5-1 px), intensity scale (0.15, ±25 %), contrast about the mean (0.15,
    range kept), low resolution (0.25, 0.5-1x), inverted gamma (0.1) and gamma (0.3, 0.7-1.5, mean
    and sd kept). Outside the image: 0 after a rotation, the edge after a zoom alone (MONAI's
    padding).

    Example:
        >>> aug = BatchedNnunetAugment()
        >>> aug.set_random_state(0)  # doctest: +ELLIPSIS
        <cineaug.transforms.batched.BatchedNnunetAugment object at ...>
        >>> image, label = aug(torch.zeros(4, 1, 32, 32), torch.zeros(4, 1, 32, 32, dtype=torch.long))
        >>> image.shape, label.dtype
        (torch.Size([4, 1, 32, 32]), torch.int64)
    """

    def __init__(self, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def set_random_state(self, seed: int) -> BatchedNnunetAugment:
        """Reseed the draws (MONAI's ``Randomizable`` call, so trainers seed it like a transform)."""
        self.generator.manual_seed(seed)
        return self

    def __call__(self, image: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if image.dim() != 4 or image.shape[1] != 1 or label.shape != image.shape:
            raise ValueError(
                f"expected image and label [B,1,H,W] of one shape, got {tuple(image.shape)} and "
                f"{tuple(label.shape)}"
            )
        image, label = self._spatial(image.float(), label)
        return self._intensity(image), label

    # -- random draws (on the CPU generator, then moved to the batch's device) --------------------
    def _uniform(self, n: int, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=self.generator)

    def _chance(self, n: int, p: float) -> torch.Tensor:
        return torch.rand(n, generator=self.generator) < p

    def _spatial(self, image: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flips as exact index reversals; then rotation and zoom of the frames drawn for either as one
        affine per frame: one resampling of image and label."""
        b, _, h, w = image.shape
        rotated = self._chance(b, 0.2)
        angle = torch.where(rotated, self._uniform(b, -math.pi, math.pi), torch.zeros(b))
        zoomed = self._chance(b, 0.2)
        zoom = torch.where(zoomed, self._uniform(b, 0.7, 1.4), torch.ones(b))
        flip_rows, flip_cols = self._chance(b, 0.5), self._chance(b, 0.5)
        for flips, dim in ((flip_rows, -2), (flip_cols, -1)):  # new tensors: the inputs stay
            where = flips.to(image.device).view(-1, 1, 1, 1)
            image = torch.where(where, image.flip(dim), image)
            label = torch.where(where, label.flip(dim), label)
        # output pixel offset (x = column, y = row, px from the centre) -> input offset: rotation /
        # zoom, in grid_sample's normalised units (x / (W/2), y / (H/2)); flips were applied above
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
        theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
        for padding, chosen in (("zeros", rotated), ("border", zoomed & ~rotated)):
            if not chosen.any():
                continue
            rows = chosen.to(image.device)
            grid = F.affine_grid(theta[chosen].to(image), [int(chosen.sum()), 1, h, w], align_corners=False)
            image[rows] = F.grid_sample(image[rows], grid, "bilinear", padding, align_corners=False)
            warped = F.grid_sample(label[rows].to(image.dtype), grid, "nearest", padding, align_corners=False)
            label[rows] = warped.round().to(label.dtype)
        return image, label

    def _intensity(self, image: torch.Tensor) -> torch.Tensor:
        """The intensity transforms, in the per-sample pipeline's order, each on its drawn frames."""
        b = image.shape[0]
        image = image.clone()

        def on_chosen(p: float, change, *ranges: tuple[float, float]) -> None:
            """Draw which frames change (probability ``p``) and a value per range for every frame;
            ``change(frames [N,1,H,W], *values [N,1,1,1])`` rewrites the chosen ones."""
            chosen = self._chance(b, p)
            values = [self._uniform(b, lo, hi) for lo, hi in ranges]
            if chosen.any():
                rows = chosen.to(image.device)
                image[rows] = change(image[rows], *(v[chosen].to(image).view(-1, 1, 1, 1) for v in values))

        on_chosen(0.1, self._noise, (0.0, 0.1))
        on_chosen(0.2, _blur, (0.5, 1.0), (0.5, 1.0))
        on_chosen(0.15, lambda x, f: x * (1 + f), (-0.25, 0.25))
        on_chosen(0.15, _contrast_about_mean, (-0.25, 0.25))
        on_chosen(0.25, _low_resolution, (0.5, 1.0))
        on_chosen(0.1, lambda x, g: _gamma(x, g, invert=True), (0.7, 1.5))
        on_chosen(0.3, lambda x, g: _gamma(x, g, invert=False), (0.7, 1.5))
        return image

    def _noise(self, image: torch.Tensor, sd: torch.Tensor) -> torch.Tensor:
        """Gaussian noise of a standard deviation drawn per frame ``sd`` ``[N,1,1,1]``."""
        return image + torch.randn(image.shape, generator=self.generator).to(image) * sd


def _blur(image: torch.Tensor, sigma_rows: torch.Tensor, sigma_cols: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of ``[N,1,H,W]`` with a sigma (px) per frame and axis: MONAI's ``erf``
    kernels, zero padding (as MONAI's ``GaussianSmooth``), one grouped convolution per axis."""
    n = image.shape[0]
    sigma_rows, sigma_cols = sigma_rows.flatten().cpu(), sigma_cols.flatten().cpu()
    half = math.ceil(max(float(sigma_rows.max()), float(sigma_cols.max())) * SMOOTH_TRUNCATED)

    x = image.transpose(0, 1)  # [1,N,H,W]: frames as channels of one grouped convolution
    x = F.conv2d(x, erf_kernels(sigma_rows, half).to(x)[:, None, :, None], padding=(half, 0), groups=n)
    x = F.conv2d(x, erf_kernels(sigma_cols, half).to(x)[:, None, None, :], padding=(0, half), groups=n)
    return x.transpose(0, 1)


def erf_kernels(sigmas: torch.Tensor, half: int) -> torch.Tensor:
    """MONAI's ``gaussian_1d(sigma, SMOOTH_TRUNCATED, "erf", normalize=True)`` for every sigma (px) of
    ``sigmas`` ``[N]`` at once: ``[N, 2*half+1]`` float32, each kernel centred and zero beyond its own
    tail (``half`` must reach the longest tail)."""
    sigmas = sigmas.flatten().float()
    tails = ((sigmas.double() * SMOOTH_TRUNCATED).clamp(min=0.5) + 0.5).floor()  # MONAI's int(...)
    if half < tails.max():
        raise ValueError(f"half-width {half} is shorter than the longest kernel tail {int(tails.max())}")
    x = torch.arange(-half, half + 1, dtype=torch.float)
    t = (0.70710678 / sigmas.abs())[:, None]
    kernels = (0.5 * ((t * (x + 0.5)).erf() - (t * (x - 0.5)).erf())).clamp(min=0)
    kernels = kernels * (x.abs() <= tails[:, None])
    return kernels / kernels.sum(1, keepdim=True)


def _contrast_about_mean(image: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """MONAI's ``ScaleIntensityFixedMean`` with ``preserve_range`` per frame: ``(x - mean) * (1 +
    factor) + mean``, clipped to the frame's range."""
    dims = (1, 2, 3)
    lo, hi, mean = (
        image.amin(dims, keepdim=True),
        image.amax(dims, keepdim=True),
        image.mean(dims, keepdim=True),
    )
    return ((image - mean) * (1 + factor) + mean).clamp(lo, hi)


def _low_resolution(image: torch.Tensor, zoom: torch.Tensor) -> torch.Tensor:
    """Each frame of ``[N,1,H,W]`` down to its ``zoom`` ``[N,1,1,1]`` x its size (nearest) and back up
    (bilinear), as MONAI's ``RandSimulateLowResolution``."""
    out = torch.empty_like(image)
    for i, z in enumerate(zoom.flatten().tolist()):
        size = [max(1, round(s * z)) for s in image.shape[-2:]]
        small = F.interpolate(image[i : i + 1], size=size, mode="nearest")
        out[i : i + 1] = F.interpolate(small, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return out


def _gamma(image: torch.Tensor, gamma: torch.Tensor, invert: bool) -> torch.Tensor:
    """MONAI's ``AdjustContrast`` with ``retain_stats`` per frame: gamma on the frame's [min, max],
    then its mean and sd restored; ``invert`` applies it to the negated frame."""
    x = -image if invert else image
    dims = (1, 2, 3)
    mean, sd = x.mean(dims, keepdim=True), x.std(dims, keepdim=True)
    lo = x.amin(dims, keepdim=True)
    span = x.amax(dims, keepdim=True) - lo
    y = ((x - lo) / (span + 1e-7)) ** gamma * span + lo
    y = (y - y.mean(dims, keepdim=True)) / (y.std(dims, keepdim=True) + 1e-8) * sd + mean
    return -y if invert else y
