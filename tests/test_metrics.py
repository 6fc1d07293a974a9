"""Generative metrics without downloads: values on sets with known relations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cineaug.metrics import (
    RandomCycleEncoder,
    evaluate_sets,
    extract_features,
    fid,
    format_report,
    fractional_area_change,
    kid,
    laplacian_pyramid,
    ms_ssim_diversity,
    physiology,
    sliced_wasserstein,
    temporal_stats,
)
from cineaug.types import LV, MYO

torch.set_num_threads(1)


def _beating(n: int, size: int = 32, amp: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disks whose radius follows a cosine of amplitude ``amp``: images [-1,1] and labels."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[:size, :size]
    imgs, labs = [], []
    for _ in range(n):
        cy, cx = rng.uniform(size * 0.4, size * 0.6, 2)
        d = np.hypot(rr - cy, cc - cx)
        r = (
            size * rng.uniform(0.15, 0.25) * (1 - amp * (1 - np.cos(2 * np.pi * np.arange(20) / 20)) / 2)
        )  # [T]
        lv = d[None] < r[:, None, None]
        myo = (d[None] < r[:, None, None] + 3) & ~lv
        imgs.append(np.where(lv, 0.8, np.where(myo, -0.3, -0.9)) + rng.normal(0, 0.05, lv.shape))
        labs.append(np.where(lv, LV, np.where(myo, MYO, 0)))
    return np.asarray(imgs, np.float32), np.asarray(labs, np.uint8)


def test_laplacian_pyramid_reconstructs_and_swd_orders_sets() -> None:
    x = torch.randn(2, 20, 32, 32)
    levels = laplacian_pyramid(x, min_size=8)
    assert [lv.shape[-1] for lv in levels] == [32, 16, 8]
    a, _ = _beating(16, seed=1)
    b, _ = _beating(16, seed=2)
    noise = np.random.default_rng(0).uniform(-1, 1, a.shape).astype(np.float32)
    swd = lambda u, v: sliced_wasserstein(torch.tensor(u), torch.tensor(v), patches=32, dirs=32)  # noqa: E731
    close, far = swd(a, b), swd(a, noise)
    assert len(close) == 2 and all(c < f / 3 for c, f in zip(close, far))


def test_fid_and_kid_on_features() -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 8, generator=g), torch.randn(200, 8, generator=g)
    shifted = y + 2.0
    assert fid(x, y) < 0.5 < fid(x, shifted)
    assert fid(x, shifted) == pytest.approx(8 * 4.0, rel=0.15)  # |mean difference|^2 dominates
    assert abs(kid(x, y)) < 0.02 * kid(x, shifted)
    assert np.isnan(fid(torch.full((4, 3), float("nan")), y[:4, :3]))


def test_random_encoder_is_fixed_by_its_seed() -> None:
    a, _ = _beating(4)
    f1 = extract_features(RandomCycleEncoder(), torch.tensor(a))
    f2 = extract_features(RandomCycleEncoder(), torch.tensor(a))
    assert f1.shape == (4, 384) and torch.equal(f1, f2)
    assert not torch.equal(f1, extract_features(RandomCycleEncoder(seed=1), torch.tensor(a)))


def test_ms_ssim_diversity() -> None:
    a, _ = _beating(8, size=64)
    twins = np.repeat(a[:4], 2, axis=0)  # pairs (0,1), (2,3)... identical
    assert ms_ssim_diversity(torch.tensor(twins)) == pytest.approx(1.0, abs=1e-4)
    assert ms_ssim_diversity(torch.tensor(a)) < 0.99
    assert 0 < ms_ssim_diversity(torch.tensor(a[:, :, :8, :8])) <= 1  # tiny images fall back to fewer scales


def test_temporal_stats_flag_flicker() -> None:
    pattern = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8))
    a = (pattern * np.cos(2 * np.pi * np.arange(20) / 20)[None, :, None, None]).astype(np.float32)
    flicker = a.copy()
    flicker[:, ::2] += 0.3
    smooth, jumpy = temporal_stats(torch.tensor(a)), temporal_stats(torch.tensor(flicker))
    assert jumpy["temporal_diff"] > smooth["temporal_diff"]
    assert smooth["temporal_jitter"] == pytest.approx(
        2 * (1 - np.cos(2 * np.pi / 20)) / (2 * np.sin(np.pi / 20)), rel=0.1
    )
    assert jumpy["temporal_jitter"] > 1.5


def test_physiology_fac_and_curves() -> None:
    lab = np.zeros((1, 20, 10, 10), np.uint8)
    lab[0, :, :5, :8] = LV  # 40 pixels
    lab[0, 10, :5, :8] = 0
    lab[0, 10, :2, :8] = LV  # 16 pixels at end-systole
    assert fractional_area_change(lab) == pytest.approx([0.6])
    _, ra = _beating(20, amp=0.3, seed=3)
    _, fa = _beating(20, amp=0.0, seed=4)  # no contraction
    _, fb = _beating(20, amp=0.3, seed=5)
    cls = np.zeros(20, int)
    bad, good = physiology(fa, cls, ra, cls), physiology(fb, cls, ra, cls)
    assert good["fac_w1"] < bad["fac_w1"] and good["lv_curve_l1"] < bad["lv_curve_l1"]


def test_evaluate_sets_reports_each_metric_beside_its_floor() -> None:
    ri, rl = _beating(16, seed=6)
    good_i, good_l = _beating(8, seed=7)
    noise = np.random.default_rng(0).uniform(-1, 1, good_i.shape).astype(np.float32)
    good = evaluate_sets(good_i, good_l, ri, rl)
    bad = evaluate_sets(noise, np.zeros_like(good_l), ri, rl)
    assert set(good) >= {"swd", "fid", "kid", "ms_ssim", "temporal_diff", "lv_curve_l1", "fac_w1"}
    assert all(set(v) == {"fake", "floor"} for v in good.values())
    for k in ("swd", "fid", "kid", "fac_w1"):
        assert good[k]["fake"] < bad[k]["fake"], k
    assert good["swd"]["floor"] == bad["swd"]["floor"]  # the floor depends on the reals only
    assert "real floor" in format_report(good)
