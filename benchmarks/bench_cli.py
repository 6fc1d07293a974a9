"""Start-up of the command line: ``cineaug --help`` and ``--version`` against a bare ``python -c pass``
and against importing torch, as whole processes (best of interleaved rounds).

Goal: ``cineaug --help`` under 1 s. Prints one JSON object with the CPU kind.

    python benchmarks/bench_cli.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time


def cpu_kind() -> str:
    """The CPU model and whether it runs bf16 natively (from /proc/cpuinfo's flags)."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        return platform.processor() or "unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    flags = set(
        next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    )
    kind = "AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags else "AVX2 only"
    return f"{model} ({kind})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cineaug = shutil.which("cineaug") or "cineaug"
    commands = {
        "python_pass_s": [sys.executable, "-c", "pass"],
        "cineaug_help_s": [cineaug, "--help"],
        "cineaug_version_s": [cineaug, "--version"],
        "import_torch_s": [sys.executable, "-c", "import torch"],
    }
    best = {name: float("inf") for name in commands}
    for _ in range(args.repeats):  # interleaved, so that a busy machine weighs on all alike
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            best[name] = min(best[name], time.perf_counter() - start)
    result = {k: round(v, 3) for k, v in best.items()}
    result["help_over_python"] = round(best["cineaug_help_s"] / best["python_pass_s"], 2)
    result["help_over_import_torch"] = round(best["cineaug_help_s"] / best["import_torch_s"], 3)
    result.update(goal="cineaug_help_s < 1", cpu=cpu_kind(), repeats=args.repeats)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
