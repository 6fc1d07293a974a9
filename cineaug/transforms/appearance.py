"""Domain randomisation: a label cycle rendered with a random appearance (SynthSeg-style).

SynthSeg (Billot et al., MedIA 2023) draws one Gaussian per label and corrupts the result with a
bias field, blur, resolution loss and noise, so that a segmenter learns shape, not texture; TorchIO's
``RandomLabelsToImage`` is the reference implementation for volumes. Here the unit is a cycle
``[T,H,W]`` (or one frame, ``T = 1``):

- :func:`~cineaug.tissues.tissue_map` gives the tissues to paint: the heart classes of the label cycle (1 RV,
  2 myocardium, 3 LV cavity) and the background split into ``n_clusters`` intensity classes of the
  cycle's own image, so that the surroundings keep their shapes (lungs, liver, chest wall) while
  losing their grey values;
- :class:`RandCycleAppearance` paints them: one random mean and spread per tissue, then blur,
  resolution loss, a bias field, gamma and Rician noise, all drawn once per cycle and shared by its
  frames (noise alone is independent per pixel and frame, as in an acquisition);
- :class:`RandTextureJitter` randomises an image that already has texture (a trained renderer's)
  around itself: each tissue's mean and contrast move, the texture inside stays; the same
  corruptions follow.

The corruptions are NumPy and scikit-image on the whole cycle at once: MONAI's array transforms do
the same per call with 10-20x the overhead at 64 px (measured), and a render runs per training sample.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from monai.transforms import Randomizable
from skimage.filters import gaussian
from skimage.transform import resize

from ..preprocess import normalise_intensity
from ..tissues import N_HEART_CLASSES, tissue_map
from ..types import LV, MYO, RV

__all__ = [
    "N_HEART_CLASSES",
    "RandCycleAppearance",
    "RandTextureJitter",
    "tissue_map",
]  # tissue maps live in cineaug.tissues


@functools.lru_cache(maxsize=8)
def _monomials(shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """The 9 monomials ``x^i y^j`` (0 < i + j <= 3) on a ``[H,W]`` grid over [-1, 1]^2 (read-only)."""
    y, x = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    terms = tuple(x**i * y**j for i in range(4) for j in range(4 - i) if i + j > 0)
    for term in terms:
        term.flags.writeable = False
    return terms


class RandCycleAppearance(Randomizable):
    """Render a tissue map ``[T,H,W]`` (:func:`~cineaug.tissues.tissue_map`) as an image ``[T,H,W]``
    float32 in [-1, 1].

    Args:
        std_range: spread of each tissue's intensity, as a fraction of the [0, 1] range.
        bright_blood_prob: probability that both blood pools are drawn brighter than the myocardium
            (as in bSSFP cine); otherwise every tissue's mean is free (SynthSeg's full randomisation).
        blur_sigma: upper bound of the Gaussian blur (pixels), partial volume.
        lowres_prob: probability of a resolution loss (down-sampling by 0.5-1, then back).
        bias_prob: probability of a smooth multiplicative bias field (cubic, up to +-35%).
        gamma: range of the gamma exponent.
        noise_std: upper bound of the Rician noise level (fraction of the range).

    Example:
        >>> render = RandCycleAppearance().set_random_state(0)
        >>> render(np.zeros((20, 64, 64), dtype=np.int64)).shape
        torch.Size([20, 64, 64])
    """

    def __init__(
        self,
        std_range: tuple[float, float] = (0.0, 0.1),
        bright_blood_prob: float = 0.5,
        blur_sigma: float = 1.0,
        lowres_prob: float = 0.25,
        bias_prob: float = 0.5,
        gamma: tuple[float, float] = (0.7, 1.5),
        noise_std: float = 0.05,
    ):
        self.std_range, self.bright_blood_prob, self.blur_sigma = std_range, bright_blood_prob, blur_sigma
        self.lowres_prob, self.bias_prob, self.gamma, self.noise_std = (
            lowres_prob,
            bias_prob,
            gamma,
            noise_std,
        )

    def _means(self, n_tissues: int) -> np.ndarray:
        means = self.R.uniform(0.0, 1.0, n_tissues)
        if n_tissues > LV and self.R.rand() < self.bright_blood_prob:
            dark, *bright = np.sort(means[[RV, MYO, LV]])
            means[MYO] = dark
            means[[RV, LV]] = bright if self.R.rand() < 0.5 else bright[::-1]
        return means

    def _bias(self, shape: tuple[int, int]) -> np.ndarray:
        """A smooth multiplicative field ``[H,W]``: exp of a random cubic polynomial on [-1, 1]^2."""
        terms = _monomials(tuple(shape))
        coeffs = self.R.uniform(-0.1, 0.1, len(terms))
        return np.exp(sum(c * t for c, t in zip(coeffs, terms)))

    def randomize(self, data=None) -> None:  # all draws happen in __call__, in a fixed order
        pass

    def __call__(self, tissue: torch.Tensor | np.ndarray) -> torch.Tensor:
        tissue = np.asarray(tissue).astype(np.int64)
        n = max(int(tissue.max()) + 1, N_HEART_CLASSES)
        means, stds = self._means(n), self.R.uniform(*self.std_range, n)
        image = means[tissue] + stds[tissue] * self.R.standard_normal(tissue.shape)  # [T,H,W]
        return self.corrupt(image)

    def corrupt(self, image: np.ndarray) -> torch.Tensor:
        """An acquisition's corruptions of a painted cycle ``[T,H,W]`` (>= 0, about [0, 1]): blur,
        resolution loss, bias field, gamma and Rician noise; then [-1, 1] (float32 tensor)."""
        sigma = self.R.uniform(0.0, self.blur_sigma)
        image = gaussian(image, sigma=(0, sigma, sigma), preserve_range=True)
        if self.R.rand() < self.lowres_prob:
            small = [round(s * self.R.uniform(0.5, 1.0)) for s in image.shape[1:]]
            image = resize(
                resize(image, (len(image), *small), order=1, anti_aliasing=True), image.shape, order=1
            )
        if self.R.rand() < self.bias_prob:
            image = image * self._bias(image.shape[1:])
        image = np.clip(image, 0, None) ** self.R.uniform(*self.gamma)
        level = self.R.uniform(0.0, self.noise_std) * max(float(image.max()), 1e-6)
        image = np.hypot(
            image + level * self.R.standard_normal(image.shape), level * self.R.standard_normal(image.shape)
        )
        return torch.from_numpy(normalise_intensity(image.astype(np.float32)))


class RandTextureJitter(RandCycleAppearance):
    """Randomise a rendered cycle around its own texture: ``(tissue [T,H,W], image [T,H,W] in [-1, 1])
    -> image [T,H,W]`` in [-1, 1].

    Where :class:`RandCycleAppearance` paints each tissue one flat random grey value, this keeps what a
    trained renderer (or any source) drew inside each tissue (texture, partial volume, the surroundings'
    structure) and randomises the contrast between tissues: each tissue's mean moves by up to
    ``shift`` (fraction of the [0, 1] range) and its deviations from that mean scale by ``scale``;
    values pushed below 0 are clipped (a dark tissue moved down keeps less of its texture); then the
    same acquisition corruptions (blur, resolution loss, bias field, gamma, Rician noise).

    Args:
        shift: largest move of a tissue's mean intensity (uniform in ``[-shift, shift]``).
        scale: range of the factor on a tissue's deviations from its mean (its texture's contrast).
        blur_sigma: upper bound of the Gaussian blur (pixels); 0.5 by default, the rendering is not
            sharp to begin with.
        lowres_prob: as :class:`RandCycleAppearance`.
        bias_prob: as :class:`RandCycleAppearance`.
        gamma: as :class:`RandCycleAppearance`.
        noise_std: as :class:`RandCycleAppearance`.

    Example:
        >>> jitter = RandTextureJitter().set_random_state(0)
        >>> jitter(np.zeros((2, 8, 8), int), torch.zeros(2, 8, 8)).shape
        torch.Size([2, 8, 8])
    """

    def __init__(
        self,
        shift: float = 0.2,
        scale: tuple[float, float] = (0.75, 1.25),
        blur_sigma: float = 0.5,
        lowres_prob: float = 0.25,
        bias_prob: float = 0.5,
        gamma: tuple[float, float] = (0.7, 1.5),
        noise_std: float = 0.05,
    ):
        super().__init__(
            blur_sigma=blur_sigma,
            lowres_prob=lowres_prob,
            bias_prob=bias_prob,
            gamma=gamma,
            noise_std=noise_std,
        )
        self.shift, self.scale = shift, scale

    def __call__(self, tissue: torch.Tensor | np.ndarray, image: torch.Tensor | np.ndarray) -> torch.Tensor:
        tissue = np.asarray(tissue).astype(np.int64)
        x = (np.clip(np.asarray(image, dtype=np.float64), -1, 1) + 1) / 2  # [T,H,W] in [0, 1]
        if x.shape != tissue.shape:
            raise ValueError(f"tissue map {tissue.shape} and image {x.shape} differ in shape")
        n = max(int(tissue.max()) + 1, N_HEART_CLASSES)
        count = np.bincount(tissue.ravel(), minlength=n)
        mean = np.bincount(tissue.ravel(), weights=x.ravel(), minlength=n) / np.maximum(count, 1)  # [n]
        shifts, scales = self.R.uniform(-self.shift, self.shift, n), self.R.uniform(*self.scale, n)
        painted = (mean + shifts)[tissue] + scales[tissue] * (x - mean[tissue])
        return self.corrupt(np.clip(painted, 0, None))
