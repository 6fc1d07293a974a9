"""Generators of whole cycles with their labels (DCGAN, ProGAN), shared layers and save/load."""

from .dcgan import DCGANDiscriminator, DCGANGenerator
from .hub import MODELS, from_pretrained, save_pretrained
from .layers import decode_labels
from .progan import ProGANDiscriminator, ProGANGenerator

__all__ = [
    "MODELS",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "ProGANDiscriminator",
    "ProGANGenerator",
    "decode_labels",
    "from_pretrained",
    "save_pretrained",
]
