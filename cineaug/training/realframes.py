"""Real frames for the label renderer: every observed, labelled frame of a cache with its tissue map.

A renderer learns texture from image-label pairs, and real data sets hold pairs as frames: ACDC
without its cines gives two per slice (ED, ES), a propagated Sunnybrook cine twenty. So the unit is
the frame ``[H,W]``, with the tissue map of its cycle (:func:`~cineaug.tissues.tissue_map`:
the heart labels plus ``n_clusters`` background intensity classes fitted over the cycle's acquired
frames). Frames never acquired or never labelled are left out, so a discriminator never sees a
fill as a real image.

The reals are pooled and faded exactly like the renderer's output (:func:`pooled_tissues`), and fakes
are judged with the same pooled tissue maps, so D compares like with like at every phase.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CineDataError
from ..preprocess import prepare_cycle
from ..simulate import sample_subject, simulate_cycle, subject_classes
from ..tissues import N_HEART_CLASSES, one_hot_tissues, tissue_map
from .realdata import cache_subset, upsample


@dataclass
class RealFrames:
    """All labelled frames of a cache in memory.

    Attributes:
        images: ``[F,R,R]`` float32 in [-1, 1] at the training resolution R.
        tissues: ``[F,R,R]`` uint8 tissue indices (< ``n_tissues``).
        n_tissues: tissue classes (4 heart classes + background clusters).
        subjects: ``[F]`` subject id of each frame.
        dropped: cycles without an observed, labelled frame.
    """

    images: torch.Tensor
    tissues: torch.Tensor
    n_tissues: int
    subjects: tuple[str, ...]
    dropped: int = 0
    class_names: tuple[str, ...] = ()  # the renderer is not conditioned on pathology
    annotated: tuple[int, ...] = (1, 2, 3)

    @property
    def classes(self) -> torch.Tensor:
        """``[F]`` zeros: one class (the trainer's sampling weights need a class per item)."""
        return torch.zeros(len(self), dtype=torch.long)

    @classmethod
    def from_cache(
        cls, root: str | os.PathLike, resolution: int, n_clusters: int = 4, subjects: Sequence[str] = ()
    ) -> RealFrames:
        """Load the observed, labelled frames of a prepared cache (see :class:`~cineaug.data.CycleDataset`),
        of ``subjects`` only when given.

        Raises:
            CineDataError: naming the cache, when a subject is not in it or no cycle holds such a frame.
        """
        ds = cache_subset(root, subjects)
        images, tissues, subjects, dropped = [], [], [], 0
        for i in range(len(ds)):
            s = ds[i]
            keep = (s["observed"] & s["labeled"]).numpy()  # [T]
            if not keep.any():
                dropped += 1
                continue
            tissue = tissue_map(s["image"], s["label"], n_clusters)  # [T,H,W]
            images.append(s["image"][keep])
            tissues.append(torch.from_numpy(tissue[keep].astype(np.uint8)))
            subjects += [s["subject"]] * int(keep.sum())
        if not images:
            raise CineDataError(
                root, f"no observed, labelled frame among {len(ds)} cycles to train a renderer"
            )
        img, tis = torch.cat(images), torch.cat(tissues)  # [F,H,W]
        if img.shape[-1] != resolution:
            img = F.interpolate(img[:, None], size=(resolution, resolution), mode="area")[:, 0].clamp(-1, 1)
            tis = F.interpolate(tis[:, None].float(), size=(resolution, resolution), mode="nearest")[:, 0]
            tis = tis.to(torch.uint8)
        return cls(img, tis, N_HEART_CLASSES + n_clusters, tuple(subjects), dropped)

    def __len__(self) -> int:
        return self.images.shape[0]

    def metric_split(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames to render for the metrics and the real frames of their floor, from other subjects.

        Subjects are shuffled and split into two halves by frame count; up to ``n`` frames are drawn
        from the first (rendered and compared with their real selves) and as many from the second
        (the real-vs-real floor), so that a floor frame is never the ED/ES partner or cine neighbour of a
        scored frame. With a single subject its frames are split instead.

        Returns:
            ``idx`` and ``floor``, ``[M]`` frame indices each, disjoint.
        """
        names = np.array(self.subjects)
        unique = np.array(sorted(set(self.subjects)))
        if len(unique) > 1:
            order = unique[torch.randperm(len(unique), generator=generator).numpy()]
            counts = np.array([(names == s).sum() for s in order])
            cut = int(np.clip(np.searchsorted(np.cumsum(counts), counts.sum() / 2) + 1, 1, len(order) - 1))
            first = np.isin(names, order[:cut])
            a, b = np.flatnonzero(first), np.flatnonzero(~first)
        else:
            perm = torch.randperm(len(self), generator=generator).numpy()
            a, b = perm[: len(self) // 2], perm[len(self) // 2 :]
        m = min(n, len(a), len(b))  # as many of each: FID and KID are biased by sample size
        a = a[torch.randperm(len(a), generator=generator).numpy()[:m]]
        b = b[torch.randperm(len(b), generator=generator).numpy()[:m]]
        return torch.from_numpy(a), torch.from_numpy(b)

    def batch(
        self, idx: torch.Tensor, res: int, alpha: float, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reals at the phase's resolution, faded like the renderer's output.

        Returns:
            image ``[N,1,res,res]``, pooled tissues ``[N,1,C,res,res]`` (what D sees) and the one-hot
            tissue map ``[N,C,R,R]`` at full resolution (what the renderer draws from).
        """
        img = self.images[idx].to(device)[:, None]  # [N,1,R,R]
        onehot = one_hot_tissues(self.tissues[idx].to(device), self.n_tissues)  # [N,C,R,R]
        return pool_and_fade(img, res, alpha), pooled_tissues(onehot, res, alpha), onehot


def pool_and_fade(x: torch.Tensor, res: int, alpha: float) -> torch.Tensor:
    """``[N,C,R,R]`` box-filtered to ``res`` and faded like G's output (the ProGAN LOD pyramid)."""
    f = x.shape[-1] // res
    x = F.avg_pool2d(x, f) if f > 1 else x  # [N,C,res,res]
    if alpha < 1.0 and res > 4:
        x = torch.lerp(upsample(F.avg_pool2d(x, 2), res), x, alpha)
    return x


def pooled_tissues(onehot: torch.Tensor, res: int, alpha: float) -> torch.Tensor:
    """One-hot tissues ``[N,C,R,R]`` as D sees them at a phase: ``[N,1,C,res,res]``."""
    return pool_and_fade(onehot, res, alpha)[:, None]


def simulated_tissue_cycles(n: int, resolution: int, n_clusters: int, seed: int = 0) -> torch.Tensor:
    """Tissue maps of ``n`` simulated cycles (the renderer's sample sheets): ``[n,T,R,R]`` uint8."""
    out = []
    for i, pathology in enumerate(subject_classes(n)):
        raw = simulate_cycle(sample_subject(seed, pathology, index=i))
        cycle = prepare_cycle(raw, size=resolution)
        out.append(torch.from_numpy(tissue_map(cycle.image, cycle.label, n_clusters).astype(np.uint8)))
    return torch.stack(out)
