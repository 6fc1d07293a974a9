"""Batch level: ``SyntheticCycleMixd`` replaces or appends synthetic samples in a collated batch,
and ``SyntheticPrepareBatch`` plugs it into MONAI's ``SupervisedTrainer``.

Unlike MONAI's batch-level MixUp/CutMix (which fix the batch size at construction and mix labels
into soft values) the batch size comes from the input, ``MetaTensor`` batches work, labels stay
integer, and a ``synthetic`` flag ``[B]`` marks each sample.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.engines.utils import PrepareBatch
from monai.transforms import MapTransform, RandomizableTransform
from monai.utils import MAX_SEED, TransformBackends
from torch import nn

from ..generate import SyntheticBank, cycle_source
from .placement import fit_frames


class SyntheticCycleMixd(RandomizableTransform, MapTransform):
    """Put ``k`` synthetic samples into a collated batch ``{image [B,T,H,W], label [B,T,H,W]}``.

    Args:
        keys: ``(image_key, label_key)``.
        generator: a cineaug cycle generator (see :class:`~cineaug.generate.SyntheticPool`),
            or None with ``bank``.
        k: synthetic samples per batch (``ratio`` is used when None).
        ratio: fraction of the batch made synthetic (``round(ratio * B)``).
        mode: ``"replace"`` (B stays) or ``"append"`` (B + k).
        batch_size: cycles generated per forward pass of the synthetic pool.
        precision: of the generator pool: ``"auto"`` (bf16 only where native), ``"bf16"``, ``"fp32"``.
        synthetic_key: where the ``[B]`` bool flag is written.
        bank: cycles written earlier (folder or :class:`~cineaug.generate.SyntheticBank`)
            instead of ``generator``.

    Samples of ``[B,1,H,W]`` (frame-wise batches) get one random frame of a synthetic cycle.
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self,
        keys: KeysCollection,
        generator: nn.Module | None = None,
        k: int | None = None,
        ratio: float = 0.25,
        mode: str = "replace",
        batch_size: int = 32,
        precision: str = "auto",
        synthetic_key: str = "synthetic",
        bank: str | os.PathLike | SyntheticBank | None = None,
    ):
        MapTransform.__init__(self, keys)
        RandomizableTransform.__init__(self, 1.0)
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', got {mode!r}")
        self.pool = cycle_source(generator, bank, batch_size, precision)
        self.k, self.ratio, self.mode, self.synthetic_key = k, ratio, mode, synthetic_key
        self._where: np.ndarray = np.zeros(0, int)
        self._classes: list[int | None] = []
        self._frames: np.ndarray = np.zeros(0, int)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self.pool.reseed(int(self.R.randint(MAX_SEED)))
        return self

    def randomize(self, batch_size: int) -> None:
        k = self.k if self.k is not None else int(round(self.ratio * batch_size))
        k = min(k, batch_size) if self.mode == "replace" else k
        self._where = (
            self.R.choice(batch_size, size=k, replace=False) if self.mode == "replace" else np.arange(k)
        )
        n = self.pool.n_classes
        self._classes = [int(self.R.randint(n)) if n else None for _ in range(k)]
        self._frames = self.R.randint(1 << 16, size=k)

    def _synthetic(self, like: torch.Tensor, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.pool.take(self._classes[index])  # [T,H,W]
        if like.shape[1] == 1:
            t = int(self._frames[index]) % image.shape[0]
            image, label = image[t : t + 1], label[t : t + 1]
        size = tuple(like.shape[-2:])
        return fit_frames(image, size, "bilinear"), fit_frames(label, size, "nearest")

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        image_key, label_key = self.keys[0], self.keys[1] if len(self.keys) > 1 else None
        images = d[image_key]
        self.randomize(int(images.shape[0]))
        pairs = [self._synthetic(images, i) for i in range(len(self._where))]
        flags = torch.zeros(images.shape[0], dtype=torch.bool)
        for key, which in ((image_key, 0), (label_key, 1)):
            if key is None:
                continue
            batch = d[key]
            new = torch.stack([p[which] for p in pairs]).to(batch.device, batch.dtype) if pairs else None
            if self.mode == "replace":
                out = batch.clone()
                if new is not None:
                    target = out.as_tensor() if isinstance(out, MetaTensor) else out
                    target[torch.as_tensor(self._where, dtype=torch.long)] = new
            else:
                plain = batch.as_tensor() if isinstance(batch, MetaTensor) else batch
                out = plain if new is None else torch.cat([plain, new])
            d[key] = out
        if self.mode == "replace":
            flags[torch.as_tensor(self._where, dtype=torch.long)] = True
        else:
            flags = torch.cat([flags, torch.ones(len(self._where), dtype=torch.bool)])
        d[self.synthetic_key] = flags
        return d


class SyntheticPrepareBatch(PrepareBatch):
    """A MONAI ``prepare_batch`` that mixes synthetic samples in before the step.

    Example:
        >>> trainer = SupervisedTrainer(..., prepare_batch=SyntheticPrepareBatch(mixer))  # doctest: +SKIP
    """

    def __init__(self, mixer: SyntheticCycleMixd, image_key: str = "image", label_key: str = "label"):
        self.mixer, self.image_key, self.label_key = mixer, image_key, label_key

    def __call__(
        self,
        batchdata: dict[str, Any],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mixed = self.mixer(batchdata)
        image = mixed[self.image_key].to(device=device, non_blocking=non_blocking)
        label = mixed[self.label_key].to(device=device, non_blocking=non_blocking)
        return image, label
