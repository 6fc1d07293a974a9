"""Features for FID and KID without downloads: a fixed, seeded, randomly initialised CNN.

We never use ImageNet Inception. The encoder is a small conv net over the 20 frames as channels,
initialised with a fixed seed (so every machine and run computes the same features) and never
trained: random convolutional features are a weaker but unbiased proxy that needs no data of its own
and cannot leak the training set. It sees the whole cycle at once, so FID/KID also react to motion.
Each metric is reported beside its real-vs-real floor, which is what makes the numbers readable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_SEED = 20240601


class RandomCycleEncoder(nn.Module):
    """``[N,T,H,W]`` -> ``[N,2*width*4]`` features (mean and std pooling of the last two stages).

    Args:
        frames: input channels (T).
        width: channels of the first stage (doubled at each of 3 stride-2 stages).
        seed: initialisation seed.
    """

    def __init__(self, frames: int = 20, width: int = 32, seed: int = FEATURE_SEED):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        chans = [frames, width, width * 2, width * 4]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(chans[:-1], chans[1:])
        )
        with torch.no_grad():
            for conv in self.convs:
                fan_in = conv.weight[0].numel()
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                conv.bias.zero_()
        self.requires_grad_(False).eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        x = x.float()
        for i, conv in enumerate(self.convs):
            x = F.leaky_relu(conv(x), 0.2)  # [N,C_i,H/2^i,W/2^i]
            if i >= len(self.convs) - 2:
                feats += [x.mean(dim=(2, 3)), x.std(dim=(2, 3), correction=0)]
        return torch.cat(feats, dim=1)  # [N,F]


def extract_features(encoder: nn.Module, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Features of ``[N,T,H,W]`` images in batches: ``[N,F]`` float64."""
    return torch.cat([encoder(images[i : i + batch].cpu()) for i in range(0, len(images), batch)]).double()
