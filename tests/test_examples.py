"""The runnable examples, each on the simulator with a tiny random generator and minimal settings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from cineaug.models import ProGANGenerator, save_pretrained

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    g = ProGANGenerator(
        64, latent_dim=16, fmap_base=256, fmap_max=8, class_names=("DCM", "HCM", "MINF", "NOR", "RV")
    )
    return str(save_pretrained(g.eval(), tmp_path_factory.mktemp("model") / "tiny"))


def test_five_line_example_mixes_synthetic_cycles_with_labels(tiny_model: str) -> None:
    batch = load_example("add_synthetic_cycles").main(["--model", tiny_model, "--prob", "1.0"])
    assert tuple(batch["image"].shape) == (8, 20, 64, 64)
    assert bool(batch["synthetic"].all())
    assert set(batch["label"].unique().tolist()) <= {0, 1, 2, 3}


@pytest.mark.slow
def test_compare_baselines_writes_a_report_per_arm(tiny_model: str, tmp_path: Path) -> None:
    rows = load_example("compare_baselines").main(
        [
            "--out",
            str(tmp_path),
            "--arms",
            "none,affine,synthetic",
            "--sizes",
            "1",
            "--seeds",
            "0",
            "--steps",
            "2",
            "--model",
            tiny_model,
        ]  # fmt: skip
    )
    assert [r["arm"] for r in rows] == ["none", "affine", "synthetic"]
    assert all(0.0 <= r["dice_mean"] <= 1.0 for r in rows)
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.html").is_file()


def test_mixer_example_trains_with_supervised_trainer(tiny_model: str) -> None:
    pytest.importorskip("ignite")
    dice = load_example("mixer_supervised_trainer").main(["--model", tiny_model, "--epochs", "1"])
    assert 0.0 <= dice <= 1.0


@pytest.mark.slow
def test_train_on_sunnybrook_example_trains_and_augments(tmp_path: Path) -> None:
    snapshot = load_example("train_on_sunnybrook").main(["--out", str(tmp_path), "--images", "64"])
    assert (snapshot / "model.safetensors").is_file()
    assert (tmp_path / "samples" / "samples.gif").is_file()


def test_label_sources_example_draws_every_source_and_appearance(tiny_model: str, tmp_path: Path) -> None:
    counts = load_example("label_sources_and_appearance").main(
        ["--model", tiny_model, "--n", "2", "--out", str(tmp_path / "sources.png")]
    )
    assert len(counts) == 6 and set(counts.values()) == {2}  # 3 sources x 2 appearances, all synthetic
    assert (tmp_path / "sources.png").stat().st_size > 10_000


def test_recommended_recipe_example_runs_with_persistent_workers_at_scanner_spacing() -> None:
    epochs = load_example("recommended_recipe").main(["--epochs", "3", "--workers", "2"])
    assert [e["share"] for e in epochs] == [0.25, 0.125, 0.0]
    assert epochs[-1]["synthetic"] == 0 and all(e["of"] == 16 for e in epochs)
