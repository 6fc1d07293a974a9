"""Precision by capability: bf16 only where the machine runs it natively."""

from __future__ import annotations

import pytest
import torch

from cineaug import precision


@pytest.fixture
def cpu(monkeypatch):
    """Set what PyTorch reports about the CPU and what the one measurement finds."""

    def set_cpu(capability: str, mkldnn_bf16: bool, gain: float = 2.0) -> None:
        monkeypatch.setattr(precision, "cpu_capability", lambda: capability)
        monkeypatch.setattr(precision, "mkldnn_bf16_supported", lambda: mkldnn_bf16)
        monkeypatch.setattr(precision, "measured_bf16_gain", lambda: gain)

    return set_cpu


def test_avx2_cpu_resolves_auto_to_fp32(cpu) -> None:
    cpu("AVX2", False)
    assert precision.resolve_precision("auto", "cpu") == "fp32"
    cpu("AVX2", True)  # oneDNN support alone is not enough below AVX512
    assert precision.resolve_precision("auto", "cpu") == "fp32"


def test_native_bf16_cpu_resolves_auto_to_bf16(cpu) -> None:
    cpu("AVX512", True, gain=1.9)
    assert precision.resolve_precision("auto", "cpu") == "bf16"


def test_emulated_bf16_on_avx512_is_caught_by_the_measurement(cpu) -> None:
    cpu("AVX512", True, gain=0.4)
    assert precision.resolve_precision("auto", torch.device("cpu")) == "fp32"


def test_explicit_precision_wins_and_bad_values_are_refused(cpu) -> None:
    cpu("AVX2", False)
    assert precision.resolve_precision("bf16", "cpu") == "bf16"
    cpu("AVX512", True, gain=3.0)
    assert precision.resolve_precision("fp32", "cpu") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve_precision("fp16", "cpu")


def test_autocast_follows_the_resolved_precision() -> None:
    x = torch.randn(2, 4)
    w = torch.randn(4, 4)
    with precision.autocast("bf16", "cpu"):
        assert (x @ w).dtype == torch.bfloat16
    with precision.autocast("fp32", "cpu"):
        assert (x @ w).dtype == torch.float32


def test_describe_names_the_choice(cpu) -> None:
    cpu("AVX512", True, gain=1.5)
    info = precision.describe()
    assert info["cpu_capability"] == "AVX512" and info["cpu_auto"] == "bf16"
    assert info["bf16_gain_measured"] == 1.5


def test_the_measurement_runs_and_is_positive() -> None:
    precision.measured_bf16_gain.cache_clear()
    assert precision.measured_bf16_gain() > 0


def test_training_and_the_pool_use_the_resolved_precision(cpu) -> None:
    from cineaug.models import ProGANGenerator
    from cineaug.training.config import PRESETS
    from cineaug.training.step import GANTraining
    from cineaug.transforms import SyntheticPool

    cpu("AVX2", False)
    cfg = PRESETS["progan64-small"].replace(resolution=8, fmap_base=16, fmap_max=8, latent_dim=8)
    assert cfg.precision == "auto" and GANTraining(cfg, torch.device("cpu")).precision == "fp32"
    g = ProGANGenerator(8, latent_dim=8, fmap_base=16, fmap_max=8)
    assert SyntheticPool(g).precision == "fp32"
    cpu("AVX512", True, gain=2.0)
    assert GANTraining(cfg, torch.device("cpu")).precision == "bf16"
    pool = SyntheticPool(g)
    image, label = pool.take()
    assert pool.precision == "bf16" and image.dtype == torch.float32 and label.dtype == torch.uint8


def test_auto_on_a_gpu_that_only_emulates_bf16_is_fp32(monkeypatch):
    import contextlib

    calls = []

    def supported(including_emulation: bool = True) -> bool:  # a pre-Ampere GPU: bf16 emulated only
        calls.append(including_emulation)
        return including_emulation

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    assert precision.resolve_precision("auto", "cuda") == "fp32" and calls == [False]
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert precision.resolve_precision("auto", "cuda:1") == "bf16"
