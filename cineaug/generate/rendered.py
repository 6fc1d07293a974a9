"""A label renderer as an appearance: tissue maps painted with the texture of real scans.

Where :class:`~cineaug.transforms.RandCycleAppearance` paints each tissue with a random
grey value (shape, not texture), :class:`RenderedAppearance` runs a trained
:class:`~cineaug.models.renderer.LabelRenderer`: the anatomy stays the label source's (simulator,
generator or the sample's own labels deformed), the texture is what the renderer learnt from real
image-label pairs. One latent per cycle, shared by its frames, so a rendered cycle does not flicker.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from monai.transforms import Randomizable
from monai.utils import MAX_SEED
from torch import nn

from ..tissues import N_HEART_CLASSES, one_hot_tissues


class RenderedAppearance(Randomizable):
    """Tissue map ``[T,H,W]`` (ints from :func:`~cineaug.tissues.tissue_map`) -> image
    ``[T,R,R]`` float32 in [-1, 1], ``R`` the renderer's resolution.

    Args:
        renderer: a :class:`~cineaug.models.renderer.LabelRenderer` (``load_pretrained("render-acdc80-64")``).
        seed: seed of the latents (reseeded by ``set_random_state``).

    Example:
        >>> from cineaug.models import LabelRenderer
        >>> render = RenderedAppearance(LabelRenderer(resolution=16, fmap_base=256, fmap_max=8, latent_dim=4))
        >>> tuple(render(np.zeros((3, 16, 16), int)).shape)
        (3, 16, 16)
    """

    def __init__(self, renderer: nn.Module, seed: int = 0):
        self.renderer = renderer.eval().requires_grad_(False)
        self.n_clusters = int(renderer.n_tissues) - N_HEART_CLASSES
        self._latents = torch.Generator()
        self.set_random_state(seed)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self._latents.manual_seed(int(self.R.randint(MAX_SEED)))
        return self

    def randomize(self, data=None) -> None:  # the latent is drawn in __call__, from its own stream
        pass

    @torch.inference_mode()
    def __call__(self, tissue: torch.Tensor | np.ndarray) -> torch.Tensor:
        g = self.renderer
        t = torch.as_tensor(np.asarray(tissue)).long()  # [T,H,W]
        if t.max() >= g.n_tissues:
            raise ValueError(
                f"tissue index {int(t.max())} >= the renderer's {g.n_tissues} tissues "
                f"(make the map with n_clusters={self.n_clusters})"
            )
        if t.shape[-1] != g.resolution or t.shape[-2] != g.resolution:
            t = F.interpolate(t[:, None].float(), size=(g.resolution,) * 2, mode="nearest")[:, 0].long()
        device = next(g.parameters()).device
        onehot = one_hot_tissues(t.to(device), g.n_tissues)  # [T,C,R,R]
        z = torch.randn(g.latent_dim, generator=self._latents).to(device)  # [Z]
        return g.render_cycle(onehot, z).float().cpu()  # [T,R,R]
