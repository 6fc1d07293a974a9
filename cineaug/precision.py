"""Numeric precision chosen from what the machine runs natively.

bfloat16 autocast halves the cost of convolutions on CPUs with native bf16 (AVX512-BF16, AMX) and
on recent GPUs, but where the CPU only has AVX2 oneDNN emulates it and the same code runs 5-10x
slower than fp32. ``precision="auto"`` (the default everywhere cineaug autocasts: the synthetic
pool and mixer, training, sampling, the benchmark) therefore resolves to:

- CUDA: ``bf16`` when the GPU runs bf16 in hardware (``torch.cuda.is_bf16_supported`` without
  emulation: Ampere and later), else ``fp32``;
- CPU: ``fp32`` when PyTorch reports no bf16 support (``torch.ops.mkldnn._is_mkldnn_bf16_supported()``
  False, or a CPU capability below AVX512); otherwise one measurement decides (:func:`measured_bf16_gain`:
  a representative convolution in both precisions, once per process, about 0.2 s), because AVX512
  without BF16 instructions still reports support while emulating it.

CPU paths use channels_last memory in both precisions (oneDNN's native layout for convolutions).
"""

from __future__ import annotations

import contextlib
import functools
import time

import torch

PRECISIONS = ("auto", "bf16", "fp32")
"""Accepted values of every ``precision`` argument."""

BF16_MIN_GAIN = 1.15
"""bf16 must beat fp32 by this factor in :func:`measured_bf16_gain` to be chosen on a CPU."""


def cpu_capability() -> str:
    """The vector ISA PyTorch dispatches to: ``"AVX2"``, ``"AVX512"``, ``"DEFAULT"``, ..."""
    return torch.backends.cpu.get_cpu_capability()


def mkldnn_bf16_supported() -> bool:
    """Whether oneDNN reports bf16 kernels on this CPU (it does on AVX512 without BF16, emulating)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def cpu_reports_bf16() -> bool:
    """Whether PyTorch reports bf16 kernels on this CPU (oneDNN support and an AVX512-class ISA)."""
    return mkldnn_bf16_supported() and cpu_capability().startswith("AVX512")


@functools.lru_cache(maxsize=1)
def measured_bf16_gain() -> float:
    """fp32 time / bf16 time of a 64-channel 3x3 convolution (forward + backward) on ``[8,64,32,32]``
    channels_last maps: > 1 where bf16 runs faster. Measured once per process."""
    gen = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.randn(8, 64, 32, 32, generator=gen).to(memory_format=torch.channels_last)  # [N,C,H,W]

    def best_of(dtype: torch.dtype | None, rounds: int = 3) -> float:
        times = []
        for _ in range(rounds + 1):  # the first round warms up
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is not None):
                conv(x.requires_grad_()).float().sum().backward()
            times.append(time.perf_counter() - start)
        return min(times[1:])

    return best_of(None) / best_of(torch.bfloat16)


def resolve_precision(precision: str, device: torch.device | str = "cpu") -> str:
    """``"bf16"`` or ``"fp32"`` for ``precision`` (``"auto"``, ``"bf16"`` or ``"fp32"``) on ``device``.

    Example:
        >>> resolve_precision("fp32")
        'fp32'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    device = torch.device(device)
    if device.type == "cuda":
        with torch.cuda.device(device):  # that GPU, and bf16 in hardware (not emulated: pre-Ampere)
            return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    if device.type != "cpu" or not cpu_reports_bf16():
        return "fp32"
    return "bf16" if measured_bf16_gain() >= BF16_MIN_GAIN else "fp32"


def autocast(precision: str, device: torch.device | str = "cpu") -> contextlib.AbstractContextManager:
    """The autocast context of a *resolved* precision (``"bf16"`` on, ``"fp32"`` off)."""
    device = torch.device(device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def describe() -> dict[str, object]:
    """What the choice rests on, for run folders and benchmark metadata."""
    info: dict[str, object] = {
        "cpu_capability": cpu_capability(),
        "mkldnn_bf16_supported": mkldnn_bf16_supported(),
        "cpu_auto": resolve_precision("auto", "cpu"),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if cpu_reports_bf16():
        info["bf16_gain_measured"] = round(measured_bf16_gain(), 3)
    return info
