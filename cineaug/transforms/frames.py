"""From cycles to frames: the one named step a frame-wise segmentation pipeline takes.

``RandFramed`` picks one labelled frame per sample (``[T,H,W] -> [1,H,W]``) for training;
``LabeledFramesd`` returns every labelled frame as its own sample (for evaluation). Both take the
frames that are ``labeled`` and ``observed``, so neither unlabelled frames (zeros meaning "unknown")
nor unobserved ones (no acquired image) ever reach a loss.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Randomizable
from monai.transforms.traits import MultiSampleTrait
from monai.utils import TransformBackends


def _flags(d: Mapping[Hashable, Any], key: str, n_frames: int) -> np.ndarray:
    flags = d.get(key)
    return np.ones(n_frames, bool) if flags is None else np.asarray(torch.as_tensor(flags).cpu(), bool)


def _labeled_frames(d: Mapping[Hashable, Any], keys: tuple[str, str], n_frames: int) -> np.ndarray:
    """Indices of the frames flagged by both keys (labelled and observed; absent flags: all)."""
    idx = np.flatnonzero(_flags(d, keys[0], n_frames) & _flags(d, keys[1], n_frames))
    if idx.size == 0:
        raise ValueError(f"sample {d.get('key', '')!s} has no labelled, observed frame to train on")
    return idx


class _FramesTransform(MapTransform):
    """Keys to slice, where the labelled-frame flags are, where to write the frame index."""

    def __init__(
        self,
        keys: KeysCollection,
        labeled_key: str = "labeled",
        frame_key: str = "frame",
        allow_missing_keys=False,
        observed_key: str = "observed",
    ):
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.labeled_key, self.frame_key, self.observed_key = labeled_key, frame_key, observed_key


class RandFramed(Randomizable, _FramesTransform):
    """Replace each cycle key ``[T,H,W]`` by one random labelled, observed frame ``[1,H,W]`` (the
    same for all keys).

    Args:
        keys: e.g. ``("image", "label")``.
        labeled_key: per-frame labelled flags (all frames when absent).
        frame_key: where the chosen frame index is written.
        observed_key: per-frame observed flags (all frames when absent).
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    _frame = 0

    def randomize(self, candidates: np.ndarray) -> None:
        self._frame = int(candidates[self.R.randint(len(candidates))])

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        first = self.first_key(d)
        if first == ():
            return d
        self.randomize(_labeled_frames(d, (self.labeled_key, self.observed_key), d[first].shape[0]))
        for key in self.key_iterator(d):
            d[key] = d[key][self._frame : self._frame + 1]
        d[self.frame_key] = self._frame
        return d


class LabeledFramesd(_FramesTransform, MultiSampleTrait):
    """Every labelled, observed frame of a cycle as its own sample ``[1,H,W]`` (a list of dicts)."""

    def __call__(self, data: Mapping[Hashable, Any]) -> list[dict[Hashable, Any]]:
        d = dict(data)
        first = self.first_key(d)
        if first == ():
            return [d]
        out = []
        for t in _labeled_frames(d, (self.labeled_key, self.observed_key), d[first].shape[0]):
            frame = dict(d)
            for key in self.key_iterator(d):
                frame[key] = d[key][t : t + 1]
            frame[self.frame_key] = int(t)
            out.append(frame)
        return out
