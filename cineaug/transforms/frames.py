"""From cycles to frames: the one named step a frame-wise segmentation pipeline takes.

``RandFramed`` picks one labelled frame per sample (``[T,H,W] -> [1,H,W]``) for training;
``LabeledFramesd`` returns every labelled frame as its own sample (for evaluation). Both read the
``labeled`` flags, so unlabelled frames (zeros meaning "unknown") never reach a loss.
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


def _labeled_frames(d: Mapping[Hashable, Any], key: str, n_frames: int) -> np.ndarray:
    flags = d.get(key)
    if flags is None:
        return np.arange(n_frames)
    idx = np.flatnonzero(np.asarray(torch.as_tensor(flags).cpu()))
    if idx.size == 0:
        raise ValueError(f"sample {d.get('key', '')!s} has no labelled frame to train on")
    return idx


class _FramesTransform(MapTransform):
    """Keys to slice, where the labelled-frame flags are, where to write the frame index."""

    def __init__(
        self,
        keys: KeysCollection,
        labeled_key: str = "labeled",
        frame_key: str = "frame",
        allow_missing_keys=False,
    ):
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.labeled_key, self.frame_key = labeled_key, frame_key


class RandFramed(Randomizable, _FramesTransform):
    """Replace each cycle key ``[T,H,W]`` by one random labelled frame ``[1,H,W]`` (the same for all keys).

    Args:
        keys: e.g. ``("image", "label")``.
        labeled_key: per-frame flags (all frames when absent).
        frame_key: where the chosen frame index is written.
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
        self.randomize(_labeled_frames(d, self.labeled_key, d[first].shape[0]))
        for key in self.key_iterator(d):
            d[key] = d[key][self._frame : self._frame + 1]
        d[self.frame_key] = self._frame
        return d


class LabeledFramesd(_FramesTransform, MultiSampleTrait):
    """Every labelled frame of a cycle as its own sample ``[1,H,W]`` (a list of dicts)."""

    def __call__(self, data: Mapping[Hashable, Any]) -> list[dict[Hashable, Any]]:
        d = dict(data)
        first = self.first_key(d)
        if first == ():
            return [d]
        out = []
        for t in _labeled_frames(d, self.labeled_key, d[first].shape[0]):
            frame = dict(d)
            for key in self.key_iterator(d):
                frame[key] = d[key][t : t + 1]
            frame[self.frame_key] = int(t)
            out.append(frame)
        return out
