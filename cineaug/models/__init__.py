"""Generators of whole cycles with their labels (DCGAN, ProGAN), the label-conditioned renderer,
shared layers and save/load."""

from .dcgan import DCGANDiscriminator, DCGANGenerator
from .hub import MODELS, from_pretrained, save_pretrained
from .layers import decode_labels
from .progan import ProGANDiscriminator, ProGANGenerator
from .renderer import LabelRenderer, RendererDiscriminator

__all__ = [
    "MODELS",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "LabelRenderer",
    "ProGANDiscriminator",
    "ProGANGenerator",
    "RendererDiscriminator",
    "decode_labels",
    "from_pretrained",
    "save_pretrained",
]
