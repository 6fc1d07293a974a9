"""All metrics at once, each beside its real-vs-real floor.

The reals are shuffled (seeded) and split in halves A and B. Every distance is computed for
``fake vs B`` and for the floor ``A vs B`` on equally many cycles, so a value near its floor is as good
as the data allows at that sample size. Diversity, motion and contrast are reported for the fakes and
for the reals (their "floor" is the real value).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .cine import blood_myo_contrast, ms_ssim_diversity, physiology, temporal_stats
from .distances import fid, kid
from .features import RandomCycleEncoder, extract_features
from .swd import sliced_wasserstein

_ENCODER: dict[int, RandomCycleEncoder] = {}


def _encoder(frames: int) -> RandomCycleEncoder:
    if frames not in _ENCODER:
        _ENCODER[frames] = RandomCycleEncoder(frames)
    return _ENCODER[frames]


def _distances(fi, fl, fc, ri, rl, rc) -> dict[str, float]:  # noqa: ANN001 (all [N,T,H,W] / [N])
    enc = _encoder(fi.shape[1])
    ff, rf = extract_features(enc, torch.as_tensor(fi)), extract_features(enc, torch.as_tensor(ri))
    swd = sliced_wasserstein(torch.as_tensor(fi), torch.as_tensor(ri))
    return {
        "swd": float(np.mean(swd)),
        "fid": fid(ff, rf),
        "kid": kid(ff, rf),
        **physiology(np.asarray(fl), np.asarray(fc), np.asarray(rl), np.asarray(rc)),
    }


def _descriptive(img: np.ndarray, lab: np.ndarray) -> dict[str, float]:
    return {
        "ms_ssim": ms_ssim_diversity(torch.as_tensor(img)),
        **temporal_stats(torch.as_tensor(img)),
        "blood_myo_contrast": blood_myo_contrast(img, lab),
    }


def evaluate_sets(
    fake_images: np.ndarray,
    fake_labels: np.ndarray,
    real_images: np.ndarray,
    real_labels: np.ndarray,
    fake_classes: np.ndarray | None = None,
    real_classes: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Compare generated cycles with real ones.

    Args:
        fake_images: ``[N,T,H,W]`` float in [-1, 1].
        fake_labels: ``[N,T,H,W]`` uint8.
        real_images: ``[M,T,H,W]`` float in [-1, 1] (the same H, W).
        real_labels: ``[M,T,H,W]`` uint8.
        fake_classes: ``[N]`` pathology indices (None = one class).
        real_classes: ``[M]`` pathology indices (None = one class).
        seed: the real split.

    Returns:
        ``{metric: {"fake": value, "floor": real-vs-real value}}``.
    """
    fake_classes = np.zeros(len(fake_images), int) if fake_classes is None else np.asarray(fake_classes)
    real_classes = np.zeros(len(real_images), int) if real_classes is None else np.asarray(real_classes)
    order = np.random.default_rng(seed).permutation(len(real_images))
    half = len(order) // 2
    a, b = order[:half], order[half : 2 * half]
    m = min(half, len(fake_images))
    if m < 2:
        raise ValueError(
            f"need at least 4 real and 2 generated cycles, got {len(real_images)} and {len(fake_images)}"
        )
    a, b = a[:m], b[:m]
    ri, rl = np.asarray(real_images), np.asarray(real_labels)
    fake = _distances(fake_images[:m], fake_labels[:m], fake_classes[:m], ri[b], rl[b], real_classes[b])
    floor = _distances(ri[a], rl[a], real_classes[a], ri[b], rl[b], real_classes[b])
    fake.update(_descriptive(np.asarray(fake_images[: 2 * m]), np.asarray(fake_labels[: 2 * m])))
    floor.update(_descriptive(ri[order[: 2 * m]], rl[order[: 2 * m]]))
    return {k: {"fake": fake[k], "floor": floor[k]} for k in fake}


def evaluate_frames(fake: torch.Tensor, real: torch.Tensor, real_other: torch.Tensor) -> dict[str, float]:
    """Distances of single frames (a renderer's output) to real frames, with the real-vs-real floor.

    Args:
        fake: ``[N,H,W]`` in [-1, 1].
        real: ``[M,H,W]`` the reference frames.
        real_other: ``[M',H,W]`` other real frames (the floor: ``real_other`` against ``real``).

    Returns:
        ``swd``, ``fid``, ``kid`` of ``fake`` and ``swd_floor``, ``fid_floor``, ``kid_floor``, each on
        as many frames as the smallest set holds.
    """
    enc = _encoder(1)
    m = min(len(fake), len(real), len(real_other))
    if m < 2:
        raise ValueError(
            f"need at least 2 frames in each set, got {len(fake)}, {len(real)}, {len(real_other)}"
        )
    sets = (("f", fake), ("r", real), ("o", real_other))
    x = {k: torch.as_tensor(v[:m]).float()[:, None] for k, v in sets}  # [m,1,H,W]
    feats = {k: extract_features(enc, v) for k, v in x.items()}
    out = {}
    for name, key in (("", "f"), ("_floor", "o")):
        out["swd" + name] = float(np.mean(sliced_wasserstein(x[key], x["r"])))
        out["fid" + name] = fid(feats[key], feats["r"])
        out["kid" + name] = kid(feats[key], feats["r"])
    return out


def format_report(results: dict[str, dict[str, float]]) -> str:
    """A two-column table: metric, generated value, real-vs-real floor."""
    lines = [f"{'metric':<20}{'generated':>12}{'real floor':>12}"]
    for k, v in results.items():
        fmt = lambda x: "nan" if math.isnan(x) else f"{x:.4g}"  # noqa: E731
        lines.append(f"{k:<20}{fmt(v['fake']):>12}{fmt(v['floor']):>12}")
    return "\n".join(lines)


def flat(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """``{"swd": 1.2, "swd_floor": 0.8, ...}`` for logs."""
    out = {}
    for k, v in results.items():
        out[k], out[f"{k}_floor"] = v["fake"], v["floor"]
    return out
