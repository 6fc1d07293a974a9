"""Fine-tuning: a run starts from another run's weights and keeps its pathology classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from test_training_e2e import write_disk_cache

from cineaug.cache import CacheWriter
from cineaug.errors import CineDataError
from cineaug.training.config import PRESETS
from cineaug.training.trainer import train
from cineaug.types import LV, MYO, CineCycle

CFG = PRESETS["progan64-small"].replace(
    resolution=8, start_res=4, stable_images=32, fade_images=32, batch=8, total_images=96,
    tick_images=32, checkpoint_images=96, snapshot_images=0, metrics_images=0, metrics_n=4,
    n_samples=2, threads=1, conditional=True,
)  # fmt: skip


def one_class_cache(root: Path, pathology: str = "HF-I", n: int = 4) -> Path:
    """Beating disks of a single pathology that annotate LV and myocardium only (like Sunnybrook)."""
    rr, cc = np.mgrid[:8, :8]
    d = np.hypot(rr - 4, cc - 4)
    with CacheWriter(root, source="test") as w:
        for i in range(n):
            radius = 2.0 * (1 + 0.2 * np.cos(2 * np.pi * np.arange(20) / 20))  # [T]
            lv = d[None] < radius[:, None, None]
            myo = (d[None] < radius[:, None, None] + 1.5) & ~lv
            image = np.where(lv, 0.8, np.where(myo, -0.1, -0.9)).astype(np.float32)
            label = np.where(lv, LV, np.where(myo, MYO, 0)).astype(np.uint8)
            w.add(CineCycle(image, label, np.ones(20, bool), annotated_classes=(MYO, LV), spacing=(2.0, 2.0),
                            source="test", subject=f"p{i}", pathology=pathology))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def source_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("source")
    return train(CFG, tmp / "run", data=write_disk_cache(tmp / "cache"), progress=False)


def test_finetune_starts_from_the_source_weights_and_keeps_its_classes(
    source_run: Path, tmp_path: Path
) -> None:
    data = one_class_cache(tmp_path / "scd")
    source = load_file(sorted(source_run.glob("training-state-*.safetensors"))[-1])
    cfg = CFG.replace(init_from=str(source_run), class_map=(("HF-I", "A"),), start_res=8, total_images=8,
                      checkpoint_images=8, lr=0.0)  # fmt: skip
    run = train(cfg, tmp_path / "ft", data=data, progress=False)
    options = json.loads((run / "options.json").read_text())
    assert options["class_names"] == ["A", "B"]  # the source's classes, not the data's
    assert options["annotated_classes"] == [MYO, LV]
    tuned = load_file(sorted(run.glob("training-state-*.safetensors"))[-1])
    g_keys = [k for k in source if k.startswith("G.")]
    assert g_keys and all(torch.equal(source[k], tuned[k]) for k in g_keys)  # lr 0: weights unchanged


def test_finetune_refuses_unmapped_pathologies(source_run: Path, tmp_path: Path) -> None:
    data = one_class_cache(tmp_path / "scd")
    with pytest.raises(CineDataError, match=r"HF-I.*class_map"):
        train(CFG.replace(init_from=str(source_run)), tmp_path / "ft", data=data, progress=False)


def test_finetune_refuses_a_mismatched_architecture(source_run: Path, tmp_path: Path) -> None:
    data = one_class_cache(tmp_path / "scd")
    cfg = CFG.replace(init_from=str(source_run), class_map=(("HF-I", "A"),), fmap_max=16)
    with pytest.raises(CineDataError, match="do not match"):
        train(cfg, tmp_path / "ft", data=data, progress=False)


def test_finetune_refuses_a_folder_without_training_state(tmp_path: Path) -> None:
    data = one_class_cache(tmp_path / "scd")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CineDataError, match="no complete training state"):
        train(CFG.replace(init_from=str(tmp_path / "empty")), tmp_path / "ft", data=data, progress=False)


def test_cli_init_from_takes_the_source_configuration(source_run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cineaug.cli import app

    data = one_class_cache(tmp_path / "scd")
    args = ["train", "--init-from", str(source_run), "--data", str(data), "--out", str(tmp_path / "ft"),
            "--set", 'class_map=[["HF-I", "B"]]', "--set", "total_images=8", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cfg = json.loads((tmp_path / "ft" / "options.json").read_text())["config"]
    assert cfg["resolution"] == cfg["start_res"] == 8 and cfg["fmap_max"] == CFG.fmap_max
    assert cfg["init_from"] == str(source_run) and cfg["class_map"] == [["HF-I", "B"]]
