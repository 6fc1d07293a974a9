"""End-to-end training in subprocesses: lossless resume after SIGKILL, and DDP through torchrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cineaug.cache import CacheWriter
from cineaug.types import LV, MYO, CineCycle

TINY = [
    "--preset", "progan64-small", "--set", "resolution=8", "--set", "start_res=4",
    "--set", "stable_images=64", "--set", "fade_images=64", "--set", "batch=8", "--set", "tick_images=64",
    "--set", "snapshot_images=0", "--set", "metrics_images=0", "--set", "metrics_n=4", "--set", "n_samples=2",
    "--set", "threads=1", "--no-progress",
]  # fmt: skip


def write_disk_cache(root: Path, n: int = 8, size: int = 8) -> Path:
    """``n`` beating-disk cycles (two pathologies, every frame labelled) as a cache."""
    rr, cc = np.mgrid[:size, :size]
    d = np.hypot(rr - size / 2, cc - size / 2)
    with CacheWriter(root, source="test") as w:
        for i in range(n):
            radius = size * (0.2 + 0.05 * (i % 3)) * (1 + 0.2 * np.cos(2 * np.pi * np.arange(20) / 20))  # [T]
            lv = d[None] < radius[:, None, None]
            myo = (d[None] < radius[:, None, None] + 1.5) & ~lv
            image = np.where(lv, 0.9, np.where(myo, -0.2, -0.8)).astype(np.float32)
            label = np.where(lv, LV, np.where(myo, MYO, 0)).astype(np.uint8)
            meta = dict(spacing=(2.0, 2.0), source="test", subject=f"s{i}", pathology=("A", "B")[i % 2])
            w.add(CineCycle(image, label, np.ones(20, bool), annotated_classes=(MYO, LV), **meta))
    return root


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _train_cmd(cache: Path, run: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cineaug.training", *TINY, "--data", str(cache), "--out", str(run), *extra]


def _final_state(run: Path) -> dict[str, torch.Tensor]:
    return load_file(sorted(run.glob("training-state-*.safetensors"))[-1])


@pytest.mark.slow  # 30+ s: a training run killed and resumed; run with -m slow
def test_resume_after_sigkill_is_lossless(tmp_path: Path) -> None:
    cache = write_disk_cache(tmp_path / "cache")
    opts = ["--set", "total_images=256", "--set", "checkpoint_images=128"]
    full, killed = tmp_path / "full", tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(cache, killed, *opts), env=_env(), stderr=subprocess.PIPE)
    target = killed / "training-state-000128.json"
    deadline = time.time() + 60
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training finished before it could be killed"
    assert target.exists()
    subprocess.run(_train_cmd(cache, full, *opts), env=_env(), check=True, capture_output=True)
    subprocess.run(_train_cmd(cache, killed, "--resume"), env=_env(), check=True, capture_output=True)
    a, b = _final_state(full), _final_state(killed)
    assert sorted(a) == sorted(b)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"resumed run differs in {different[:5]}"
    assert any(k.startswith("optD.") for k in a) and "rng.torch" in a
    snap = lambda run: sorted(run.glob("snapshot-*/model.safetensors"))[-1].read_bytes()  # noqa: E731
    assert snap(full) == snap(killed)
    stats = [json.loads(x) for x in (killed / "stats.jsonl").read_text().splitlines()]
    seen = [s["images_seen"] for s in stats if s["kind"] == "tick"]
    assert seen == sorted(set(seen)), "stats.jsonl repeats the ticks replayed after the resume"


def test_torchrun_ddp_two_cpu_processes(tmp_path: Path) -> None:
    cache = write_disk_cache(tmp_path / "cache")
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cineaug.training", *TINY, "--data", str(cache), "--out", str(run),
           "--set", "total_images=256", "--set", "checkpoint_images=128"]  # fmt: skip
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((run / "options.json").read_text())["world"] == 2
    state = _final_state(run)
    assert state["rng.torch"].shape[0] == 2  # one RNG state per process
    assert not torch.equal(state["rng.torch"][0], state["rng.torch"][1])  # processes draw different batches
    ticks = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines() if '"tick"' in x]
    assert ticks[-1]["world"] == 2 and ticks[-1]["images_seen"] == 256
    assert (run / "snapshot-000256" / "model.safetensors").is_file()


@pytest.mark.slow
def test_progan64_small_trains_from_the_simulator(tmp_path: Path) -> None:
    """The demo preset end to end through the CLI; the metrics improve (a few minutes). Two threads
    whatever other test modules set at import: the short run's metrics depend on the thread count."""
    from typer.testing import CliRunner

    from cineaug.cli import app

    res = CliRunner().invoke(
        app,
        [
            "train",
            "--preset",
            "progan64-small",
            "--simulate",
            "--out",
            str(tmp_path / "r"),
            "--set",
            "threads=2",
        ],
    )
    assert res.exit_code == 0, res.output
    metrics = [
        json.loads(x) for x in (tmp_path / "r" / "stats.jsonl").read_text().splitlines() if '"metrics"' in x
    ]
    first, last = metrics[0], metrics[-1]
    assert last["swd"] < first["swd"] and last["kid"] < first["kid"]
