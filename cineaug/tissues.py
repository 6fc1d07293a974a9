"""Tissue maps: what an appearance paints, for the transforms that paint and the training that learns to.

A tissue map ``[T,H,W]`` holds the heart classes of a label cycle (1 RV, 2 myocardium, 3 LV cavity)
and the background split into intensity classes of the cycle's own image (``N_HEART_CLASSES + k``),
so that the surroundings keep their shapes (lungs, liver, chest wall) while losing their grey values.
Random appearance (:class:`~cineaug.transforms.RandCycleAppearance`) and label renderers
(:class:`~cineaug.models.LabelRenderer`, trained by :mod:`cineaug.training`) both start from one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.filters import gaussian

N_HEART_CLASSES = 4
"""Background + RV, myocardium, LV cavity: tissue indices below this are the label's own classes."""


def tissue_map(
    image: torch.Tensor | np.ndarray, label: torch.Tensor | np.ndarray, n_clusters: int = 4
) -> np.ndarray:
    """Tissue classes of a cycle: the heart labels and ``n_clusters`` background intensity classes.

    Args:
        image: ``[T,H,W]`` float image (constant frames, i.e. never acquired, are ignored when the
            intensity classes are fitted).
        label: ``[T,H,W]`` integer ACDC labels.
        n_clusters: background intensity classes (0: the whole background is one tissue).

    Returns:
        ``[T,H,W]`` int64: 1-3 where the label has a heart class, ``4 + k`` for background pixels of
        intensity class ``k``: quantiles of the cycle's mean image (lightly blurred, over its acquired
        frames), so a background pixel keeps its tissue in every frame and only the heart moves
        (per-frame noise no longer flips pixels between classes); 0 when ``n_clusters`` is 0.
    """
    label = np.asarray(label).astype(np.int64)
    tissue = label.copy()
    background = label == 0
    if n_clusters <= 0:
        return tissue
    smooth = gaussian(np.asarray(image, dtype=np.float32), sigma=(0, 1, 1), preserve_range=True)
    acquired = smooth.reshape(len(smooth), -1).std(1) > 0  # [T]: frames never acquired are constant
    if not acquired.any():
        return tissue
    steady = smooth[acquired].mean(0)  # [H,W]: noise and motion averaged out
    pool = steady[background[acquired].all(0)]
    if pool.size == 0:
        return tissue
    edges = np.quantile(pool, np.linspace(0, 1, n_clusters + 1)[1:-1])
    clusters = np.broadcast_to(N_HEART_CLASSES + np.digitize(steady, edges), tissue.shape)  # [T,H,W]
    tissue[background] = clusters[background]
    return tissue


def one_hot_tissues(tissues: torch.Tensor, n_tissues: int) -> torch.Tensor:
    """``[N,H,W]`` integer tissues -> ``[N,C,H,W]`` float one-hot."""
    return F.one_hot(tissues.long(), n_tissues).permute(0, 3, 1, 2).float()
