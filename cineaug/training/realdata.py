"""Real cycles for the discriminator: a cache loaded into memory, filtered, resized and faded like G.

Partial labels and partial cines are handled explicitly:

- **Observed frames**: a key-frame cycle (ED and ES only, e.g. ACDC without its cines) is never
  used, whatever the options: D would see its unobserved frames (a fixed fill) as real images.
- **Frames**: by default only cycles whose 20 frames are all labelled are used
  (``require_full_labels``); cycles with unlabelled frames are counted and dropped. With
  ``require_full_labels=False`` they are kept, and their unlabelled frames read as background.
- **Classes**: the classes annotated by every kept cycle (``annotated``) are the only foreground
  classes D sees. For reals the others are already background; for fakes :func:`merge_unannotated`
  folds their probability into background. G is therefore neither rewarded nor penalised for drawing
  e.g. RV on Sunnybrook data (which has no RV), and :func:`~cineaug.models.decode_labels` never emits them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..data import CycleDataset
from ..errors import CineDataError
from ..models.layers import one_hot_labels
from ..types import ALL_CLASSES, UNKNOWN_PATHOLOGY


@dataclass
class RealCycles:
    """All training cycles in memory.

    Attributes:
        images: ``[M,T,R,R]`` float32 in [-1, 1] at the training resolution R.
        labels: ``[M,T,R,R]`` uint8.
        classes: ``[M]`` long pathology index into ``class_names`` (zeros if unconditional).
        class_names: pathology classes used for conditioning (empty = unconditional).
        annotated: foreground classes annotated in every kept cycle.
        dropped: cycles left out, for unobserved or unlabelled frames.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: torch.Tensor
    class_names: tuple[str, ...]
    annotated: tuple[int, ...]
    dropped: int = 0

    @classmethod
    def from_cache(
        cls,
        root: str | os.PathLike,
        resolution: int,
        require_full_labels: bool = True,
        conditional: bool = True,
        class_names: tuple[str, ...] | None = None,
        class_map: dict[str, str] | None = None,
        subjects: Sequence[str] = (),
    ) -> RealCycles:
        """Load a prepared cache (see :class:`~cineaug.data.CycleDataset`), of ``subjects`` only when given.

        ``class_names`` fixes the conditioning classes (those of a model being fine-tuned); each
        cycle's pathology is first renamed by ``class_map`` and must then be one of them.
        """
        ds = cache_subset(root, subjects)
        images, labels, paths, annotated, unobserved, unlabelled = [], [], [], set(ALL_CLASSES), 0, 0
        for i in range(len(ds)):
            s = ds[i]
            if not bool(s["observed"].all()):
                unobserved += 1
                continue
            if require_full_labels and not bool(s["labeled"].all()):
                unlabelled += 1
                continue
            images.append(s["image"])
            labels.append(s["label"])
            paths.append(s["pathology"])
            annotated &= {k for k in ALL_CLASSES if bool(s["annotated"][k])}
        if not images:
            raise CineDataError(root, _nothing_usable(len(ds), unobserved, unlabelled))
        paths = [(class_map or {}).get(p, p) for p in paths]
        names = tuple(sorted(set(paths) - {UNKNOWN_PATHOLOGY}))
        if class_names is not None:
            foreign = sorted(set(paths) - set(class_names))
            if class_names and foreign:
                raise CineDataError(
                    root, f"pathologies {foreign} are not classes of the initial model {list(class_names)}: "
                    "map them with class_map, e.g. --set 'class_map=[[\"HF-I\", \"MINF\"]]'",
                )  # fmt: skip
            names = tuple(class_names)
        elif not conditional or len(names) < 2 or UNKNOWN_PATHOLOGY in paths:
            names = ()
        classes = torch.tensor([names.index(p) if names else 0 for p in paths], dtype=torch.long)
        img, lab = torch.stack(images), torch.stack(labels)  # [M,T,H,W]
        if img.shape[-1] != resolution:
            img, lab = _resize(img, lab, resolution)
        return cls(img, lab, classes, names, tuple(sorted(annotated)), unobserved + unlabelled)

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(
        self, idx: torch.Tensor, res: int, alpha: float, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reals at the phase's resolution, faded like G's output.

        Returns:
            image ``[N,T,res,res]``, pooled one-hot labels ``[N,T,K,res,res]``, classes ``[N]``.
        """
        img = self.images[idx].to(device)  # [N,T,R,R]
        probs = one_hot_labels(self.labels[idx].to(device), 4)  # [N,T,K,R,R]
        img, probs = downsample(img, probs, res)
        if alpha < 1.0 and res > 4:
            lo_img, lo_probs = downsample(img, probs, res // 2)
            img = torch.lerp(upsample(lo_img, res), img, alpha)
            probs = torch.lerp(upsample(lo_probs, res), probs, alpha)
        return img, probs, self.classes[idx].to(device)


def cache_subset(root: str | os.PathLike, subjects: Sequence[str] = ()) -> CycleDataset:
    """The cache at ``root``, restricted to ``subjects`` when given (each must be in it)."""
    ds = CycleDataset(root)
    if not subjects:
        return ds
    missing = sorted(set(subjects) - set(ds.subjects))
    if missing:
        raise CineDataError(root, f"subjects {missing} are not in this cache")
    return ds.subset(list(subjects))


def _nothing_usable(n: int, unobserved: int, unlabelled: int) -> str:
    """Why no cycle of a cache of ``n`` can train a GAN, for the error message."""
    why = []
    if unobserved:
        why.append(
            f"{unobserved} hold key frames only (ED/ES without the cine: a discriminator must never "
            "see their unobserved frames as real; prepare a source with full cines)"
        )
    if unlabelled:
        why.append(
            f"{unlabelled} have unlabelled frames (prepare with label propagation, "
            "or set require_full_labels=false)"
        )
    return f"no usable cycle for GAN training among {n}: " + "; ".join(why or ["the cache is empty"])


def downsample(img: torch.Tensor, probs: torch.Tensor, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Box-filter ``[N,T,H,W]`` and ``[N,T,K,H,W]`` to side ``res`` (the ProGAN LOD pyramid)."""
    f = img.shape[-1] // res
    if f == 1:
        return img, probs
    n, t, k, h, w = probs.shape
    return F.avg_pool2d(img, f), F.avg_pool2d(probs.reshape(n, t * k, h, w), f).reshape(n, t, k, res, res)


def upsample(x: torch.Tensor, res: int) -> torch.Tensor:
    """Nearest upsampling of the last two axes to ``res``."""
    f = res // x.shape[-1]
    return x.repeat_interleave(f, -2).repeat_interleave(f, -1) if f > 1 else x


def merge_unannotated(probs: torch.Tensor, annotated: tuple[int, ...]) -> torch.Tensor:
    """Fold the probability of classes outside ``annotated`` into background: ``[N,T,K,H,W]``."""
    k = probs.shape[2]
    missing = [c for c in range(1, k) if c not in annotated]
    if not missing:
        return probs
    keep = torch.ones(k, device=probs.device, dtype=probs.dtype)
    keep[missing] = 0
    moved = (probs * (1 - keep).view(1, 1, k, 1, 1)).sum(2, keepdim=True)  # [N,T,1,H,W]
    bg = torch.zeros(k, device=probs.device, dtype=probs.dtype)
    bg[0] = 1
    return probs * keep.view(1, 1, k, 1, 1) + moved * bg.view(1, 1, k, 1, 1)


def _resize(img: torch.Tensor, lab: torch.Tensor, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample cycles to ``res`` (area/bilinear for images, majority of one-hot for labels)."""
    mode = "area" if res < img.shape[-1] else "bilinear"
    img2 = F.interpolate(img, size=(res, res), mode=mode)  # [M,T,res,res]
    probs = one_hot_labels(lab, 4)  # [M,T,K,H,W]
    m, t, k, h, w = probs.shape
    probs = F.interpolate(probs.reshape(m, t * k, h, w), size=(res, res), mode=mode).reshape(
        m, t, k, res, res
    )
    return img2.clamp(-1, 1), probs.argmax(2).to(torch.uint8)
