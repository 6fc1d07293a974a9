"""``SyntheticPool``: synthetic cycles drawn from a generator in batches, handed out one at a time.

Generating one cycle per sample would pay a whole forward pass each time; the pool refills a
buffer per pathology class with ``batch_size`` cycles at once (in the precision the machine runs
natively, channels_last on the CPU; the GPU when the generator sits there) and serves from it, so the
amortized cost per sample is small.
All randomness comes from one ``torch.Generator``, reseeded by :meth:`SyntheticPool.reseed`.
"""

from __future__ import annotations

from collections import deque

import torch
from torch import nn

from ..models.layers import decode_labels
from ..precision import autocast, resolve_precision


@torch.inference_mode()
def run_generator(
    generator: nn.Module, z: torch.Tensor, c: torch.Tensor | None, precision: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The one sampler: latent ``z [n,Z]`` and classes ``c [n]`` -> generator -> clamp -> label decoding.

    Args:
        precision: a resolved precision (``"bf16"`` or ``"fp32"``, see :mod:`cineaug.precision`).

    Returns:
        image float32 ``[n,T,H,W]`` in [-1, 1] and label uint8 ``[n,T,H,W]``, on the CPU.
    """
    device = next(generator.parameters()).device
    with autocast(precision, device):
        image, logits = generator(z.to(device), None if c is None else c.to(device))  # [n,T,H,W], [n,T,K,H,W]
    label = decode_labels(logits, tuple(getattr(generator, "annotated_classes", (1, 2, 3))))
    return image.float().clamp(-1, 1).cpu(), label.cpu()


class SyntheticPool:
    """Buffered synthetic cycles of a cycle generator (image + labels).

    Args:
        generator: a cineaug generator (``g(z, c) -> (image [N,T,H,W], logits [N,T,K,H,W])``, with
            ``latent_dim``, ``class_names`` and ``annotated_classes``), e.g. from ``load_pretrained``.
        batch_size: cycles generated per forward pass (per class buffer).
        precision: ``"auto"`` (bf16 autocast only where the device runs it natively, see
            :mod:`cineaug.precision`), ``"bf16"`` or ``"fp32"``. On the CPU the generator's weights
            move to channels_last in both precisions (measured 3x over NCHW in fp32 on AVX2).
        seed: seed of the latent draws.

    Example:
        >>> pool = SyntheticPool(g, batch_size=16)            # doctest: +SKIP
        >>> image, label = pool.take(class_index=0)           # [T,H,W] float32, [T,H,W] uint8
    """

    def __init__(self, generator: nn.Module, batch_size: int = 32, precision: str = "auto", seed: int = 0):
        self.generator = generator.eval()
        self.batch_size = int(batch_size)
        self.device = next(generator.parameters()).device
        self.precision = resolve_precision(precision, self.device)
        if self.device.type == "cpu":
            generator.to(memory_format=torch.channels_last)
        self.class_names: tuple[str, ...] = tuple(getattr(generator, "class_names", ()))
        self.spacing_mm: float | None = getattr(generator, "spacing_mm", None)  # set by load_pretrained
        self.annotated_classes: tuple[int, ...] = tuple(getattr(generator, "annotated_classes", (1, 2, 3)))
        self._rng = torch.Generator()
        self._buffers: dict[int, deque[tuple[torch.Tensor, torch.Tensor]]] = {}
        self.reseed(seed)

    @property
    def n_classes(self) -> int:
        """Pathology classes the generator is conditioned on (0: unconditional)."""
        return len(self.class_names)

    def reseed(self, seed: int) -> None:
        """Restart the latent stream from ``seed`` and drop what is buffered."""
        self._rng.manual_seed(int(seed))
        self._buffers.clear()

    def generate(self, n: int, class_index: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fresh cycles of one class (None: unconditional generator).

        Returns:
            image float32 ``[n,T,H,W]`` in [-1, 1] and label uint8 ``[n,T,H,W]``, on the CPU.
        """
        z = torch.randn(n, self.generator.latent_dim, generator=self._rng)  # [n,Z]
        c = torch.full((n,), 0 if class_index is None else int(class_index)) if self.n_classes else None
        return run_generator(self.generator, z, c, self.precision)

    def take(self, class_index: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One synthetic cycle of class ``class_index``: image float32 and label uint8, both ``[T,H,W]``."""
        key = -1 if class_index is None or not self.n_classes else int(class_index)
        buffer = self._buffers.setdefault(key, deque())
        if not buffer:
            images, labels = self.generate(self.batch_size, None if key < 0 else key)
            buffer.extend(zip(images, labels))
        return buffer.popleft()

    def class_index(self, pathology: str | None) -> int | None:
        """Index of a pathology name, or None when the generator does not know it."""
        return self.class_names.index(pathology) if pathology in self.class_names else None
