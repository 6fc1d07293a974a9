"""A label-conditioned Progressive GAN: label frames (+ background tissues) and a latent -> image frames.

Anatomy comes from elsewhere (the simulator, a generator's label cycles, a sample's own labels);
this network supplies the texture, learnt from real image-label pairs (XCAT-GAN, Amirrajab et al.
MICCAI 2020; Al Khalil et al. MedIA 2023). It keeps what makes a ProGAN (Karras et al. 2018): every
resolution from 4 px built at once, fade-in of the newest block (``alpha``), pixel norm, equalized
learning rate, minibatch stddev in the discriminator.

**Label injection: SPADE** (Park et al. CVPR 2019) at every resolution. After each conv the features
are pixel-normalised (ProGAN's normaliser) and then modulated per pixel, ``x * (1 + gamma(s)) +
beta(s)``, with ``gamma``/``beta`` computed by a small conv net from the tissue map ``s`` box-filtered
to that resolution (tissue proportions: a pixel that changes tissue between two frames moves a
coarse map by a fraction, where nearest sampling flipped whole cells and made cycles flicker).
Concatenating labels to the input only would let normalisation wash them out in the deeper layers
(SPADE's argument); modulation after every normalisation keeps the layout exact at every scale, at
the cost of two 3x3 convs per block.

**Frame-wise, cycle-consistent.** Real data hold labelled frames (ACDC: two per slice), so the
networks see one frame ``[N,1,H,W]`` with its tissue map ``[N,C,H,W]`` (C = 4 heart classes +
background intensity clusters, :func:`~cineaug.transforms.appearance.tissue_map`). A cycle is
rendered as ``T`` frames sharing one latent: the network is deterministic given (tissues, z), so
frames differ only where the anatomy moves (no per-frame noise, hence no flicker from it).

Input of D: the image and the one-hot tissues stacked as channels, so an image that does not
match its labels is penalised (the labels of a rendered frame are its input, exact by construction).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import records_config
from .layers import LRELU_GAIN, EqualizedConv2d, EqualizedLinear, PixelNorm
from .progan import _resolutions, add_progressive_trunk, feature_maps, progressive_features


class SPADE(nn.Module):
    """Pixel norm, then per-pixel scale and shift from the tissue map: ``[N,F,r,r] -> [N,F,r,r]``."""

    def __init__(self, channels: int, n_tissues: int, hidden: int):
        super().__init__()
        self.norm = PixelNorm()
        self.shared = EqualizedConv2d(n_tissues, hidden, 3, padding=1)
        self.gamma = EqualizedConv2d(hidden, channels, 3, padding=1, gain=1.0)
        self.beta = EqualizedConv2d(hidden, channels, 3, padding=1, gain=1.0)

    def forward(self, x: torch.Tensor, tissues: torch.Tensor) -> torch.Tensor:
        mode = "area" if tissues.shape[-1] > x.shape[-1] else "nearest"
        s = F.interpolate(tissues, size=x.shape[-2:], mode=mode)  # [N,C,r,r] tissue proportions
        h = F.leaky_relu(self.shared(s), 0.2)  # [N,hidden,r,r]
        return self.norm(x) * (1 + self.gamma(h)) + self.beta(h)


class _RenderBlock(nn.Module):
    """Upsample x2, then two (3x3 conv + leaky ReLU + SPADE): ``[N,I,r,r] -> [N,O,2r,2r]``."""

    def __init__(self, in_ch: int, out_ch: int, n_tissues: int, hidden: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)
        self.conv1 = EqualizedConv2d(out_ch, out_ch, 3, padding=1)
        self.spade0 = SPADE(out_ch, n_tissues, hidden)
        self.spade1 = SPADE(out_ch, n_tissues, hidden)

    def forward(self, x: torch.Tensor, tissues: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.spade0(F.leaky_relu(self.conv0(x), 0.2), tissues)
        return self.spade1(F.leaky_relu(self.conv1(x), 0.2), tissues)


class LabelRenderer(nn.Module):
    """Tissue map ``[N,C,H,W]`` (one-hot) + latent ``[N,Z]`` -> image frame ``[N,1,res,res]``.

    Args:
        resolution: final side in pixels (power of two).
        n_tissues: channels of the tissue map (4 heart classes + background clusters).
        latent_dim: size of z (one per cycle: every frame of a cycle is rendered with the same z).
        fmap_base: channels at resolution r are ``min(fmap_base // r, fmap_max)``.
        fmap_max: the most channels at any resolution.
        spade_hidden: channels of SPADE's shared conv.

    Example:
        >>> g = LabelRenderer(resolution=16, n_tissues=8, latent_dim=8, fmap_base=256, fmap_max=16)
        >>> tissues = torch.nn.functional.one_hot(torch.randint(0, 8, (2, 16, 16)), 8).permute(0, 3, 1, 2)
        >>> tuple(g(tissues.float(), torch.randn(2, 8)).shape)
        (2, 1, 16, 16)
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        n_tissues: int = 8,
        latent_dim: int = 64,
        fmap_base: int = 2048,
        fmap_max: int = 64,
        spade_hidden: int = 32,
    ):
        super().__init__()
        self.resolution, self.n_tissues, self.latent_dim = resolution, n_tissues, latent_dim
        nf = lambda r: feature_maps(r, fmap_base, fmap_max)  # noqa: E731
        self.norm = PixelNorm()
        self.dense = EqualizedLinear(latent_dim, nf(4) * 16, gain=LRELU_GAIN / 4)
        self.conv4 = EqualizedConv2d(nf(4), nf(4), 3, padding=1)
        self.spade4 = SPADE(nf(4), n_tissues, spade_hidden)
        self.blocks = nn.ModuleDict(
            {
                str(r): _RenderBlock(nf(r // 2), nf(r), n_tissues, spade_hidden)
                for r in _resolutions(resolution)[1:]
            }
        )
        self.to_image = nn.ModuleDict(
            {str(r): EqualizedConv2d(nf(r), 1, 1, gain=1.0) for r in _resolutions(resolution)}
        )

    def forward(
        self, tissues: torch.Tensor, z: torch.Tensor, res: int | None = None, alpha: float = 1.0
    ) -> torch.Tensor:
        """Render at resolution ``res`` (default: the final one) with fade-in weight ``alpha``.

        Args:
            tissues: ``[N,C,H,W]`` one-hot tissue map (any H, W: resized to each resolution).
            z: ``[N,latent_dim]``.
            res: output side, a power of two in [4, resolution].
            alpha: blend of the newest block with the upsampled previous output.

        Returns:
            ``[N,1,res,res]`` image (linear, ~[-1,1]).
        """
        res = res or self.resolution
        n = z.shape[0]
        tissues = tissues.to(z.dtype)
        x = self.dense(self.norm(z)).reshape(n, -1, 4, 4)  # [N,nf4,4,4]
        x = self.spade4(F.leaky_relu(self.conv4(F.leaky_relu(x, 0.2)), 0.2), tissues)
        prev, r = None, 4
        while r < res:
            prev, r = x, r * 2
            x = self.blocks[str(r)](x, tissues)  # [N,nf(r),r,r]
        out = self.to_image[str(r)](x)  # [N,1,r,r]
        if alpha < 1.0 and prev is not None:
            low = F.interpolate(self.to_image[str(r // 2)](prev), scale_factor=2.0, mode="nearest")
            out = torch.lerp(low, out, alpha)
        return out

    @torch.no_grad()
    def render_cycle(self, tissues: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """A cycle's frames with one latent: tissues ``[T,C,H,W]``, z ``[Z]`` -> image ``[T,res,res]``."""
        return self(tissues, z.expand(len(tissues), -1))[:, 0].clamp(-1, 1)


class RendererDiscriminator(nn.Module):
    """Image frame ``[N,1,r,r]`` + its tissue map ``[N,C,r,r]`` -> one realness logit ``[N]``.

    Args:
        resolution: as in :class:`LabelRenderer`.
        n_tissues: as in :class:`LabelRenderer`.
        fmap_base: as in :class:`LabelRenderer`.
        fmap_max: as in :class:`LabelRenderer`.
        mbstd_group: group size of the minibatch-stddev layer.
    """

    @records_config
    def __init__(
        self,
        resolution: int = 64,
        n_tissues: int = 8,
        fmap_base: int = 2048,
        fmap_max: int = 64,
        mbstd_group: int = 4,
    ):
        super().__init__()
        self.resolution = resolution
        nf4 = add_progressive_trunk(self, 1 + n_tissues, resolution, fmap_base, fmap_max, mbstd_group)
        self.out = EqualizedLinear(nf4, 1, gain=1.0)

    def forward(
        self, image: torch.Tensor, tissues: torch.Tensor, res: int | None = None, alpha: float = 1.0
    ) -> torch.Tensor:
        """Score ``image [N,1,r,r]`` with ``tissues [N,C,r,r]``; ``r`` must equal ``res``."""
        x = torch.cat([image, tissues.to(image.dtype)], dim=1)  # [N,1+C,r,r]
        h = progressive_features(self, x, res or self.resolution, alpha)  # [N,nf4]
        return self.out(h).squeeze(1)  # [N]
