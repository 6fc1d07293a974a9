"""A non-editable install (the wheel) carries the shipped generators and loads them by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_loads_the_shipped_models(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(wheels)], check=True
    )
    wheel = next(wheels.glob("cineaug-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    code = (
        "import cineaug, cineaug.pretrained as p; "
        "assert p.pretrained_root().is_relative_to(p.Path(cineaug.__file__).parent), p.pretrained_root(); "
        "names = sorted(p.available()); assert 'progan-sim-64' in names, names; "
        "[cineaug.load_pretrained(n) for n in names]; print(' '.join(names))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "progan-sim-64" in out.stdout
