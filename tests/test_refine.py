"""Refining a fold renderer with segmentation feedback or unlabelled texture (cineaug.training.refine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cineaug.errors import CineDataError
from cineaug.models import LabelRenderer
from cineaug.training.refine import RefineSettings, refine_renderer, unlabelled_frames
from tests.test_renderer_training import full_cache

SIZE = 32


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Three subjects (f0-f2) with fully labelled 20-frame cycles."""
    return full_cache(tmp_path_factory.mktemp("refine") / "cache", 3)


def _renderer() -> LabelRenderer:
    torch.manual_seed(0)
    return LabelRenderer(
        resolution=SIZE, n_tissues=8, latent_dim=8, fmap_base=128, fmap_max=8, spade_hidden=4
    )


def _settings(feedback: str, cache: Path | None = None, **kw) -> RefineSettings:
    base = dict(steps=3, warmup=2, batch=4, sim_cycles=1, unlabelled=None if cache is None else str(cache))
    return RefineSettings(feedback, **{**base, **kw})


def _max_change(a: torch.nn.Module, b: torch.nn.Module) -> float:
    with torch.no_grad():
        return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def test_settings_refuse_an_unknown_feedback_and_unlabelled_without_frames() -> None:
    with pytest.raises(ValueError, match="choose one of segmentation, unlabelled"):
        RefineSettings("realism")
    with pytest.raises(ValueError, match="needs a cache of unlabelled frames"):
        RefineSettings("unlabelled")
    with pytest.raises(ValueError, match="must be >= 1"):
        RefineSettings("segmentation", steps=0)


def test_each_feedback_has_its_defaults_and_changes_override_them() -> None:
    assert (RefineSettings.of("segmentation").lr, RefineSettings.of("segmentation").anchor) == (1e-3, 0.1)
    assert RefineSettings.of("unlabelled", unlabelled="u") == RefineSettings("unlabelled", unlabelled="u")
    assert RefineSettings.of("segmentation", lr=5e-4).lr == 5e-4


def test_unlabelled_frames_are_acquired_frames_resized_and_capped(cache: Path) -> None:
    frames = unlabelled_frames(cache, 16, limit=25, seed=0)
    assert frames.shape == (25, 16, 16)
    assert float(frames.min()) >= -1 and float(frames.max()) <= 1
    assert torch.equal(frames, unlabelled_frames(cache, 16, limit=25, seed=0))
    assert len(unlabelled_frames(cache, 16, limit=10_000, seed=0)) == 3 * 20


def test_refinement_moves_the_renderer_saves_it_and_reuses_it(cache: Path, tmp_path: Path) -> None:
    """(The saving and reuse are the same for both feedbacks; segmentation's moving is tested below.)"""
    feedback = "unlabelled"
    start = _renderer()
    before = _renderer()
    out = tmp_path / feedback
    rng = torch.get_rng_state()
    refined = refine_renderer(start, cache, ["f0", "f1"], out, _settings(feedback, cache), seed=0)
    assert isinstance(refined, LabelRenderer)
    assert _max_change(start, before) == 0  # the caller's renderer is left as it was
    assert torch.equal(torch.get_rng_state(), rng)  # and the caller's random state
    assert _max_change(refined, before) > 0  # trained
    saved = json.loads((out / "config.json").read_text())
    assert saved["refined"]["feedback"] == feedback and saved["refined"]["subjects"] == ["f0", "f1"]
    assert json.loads((out / "refine.json").read_text()) == saved["refined"]
    again = refine_renderer(_renderer(), cache, ["f0", "f1"], out, _settings(feedback, cache), seed=0)
    assert _max_change(again, refined) == 0  # reused, not trained again
    with pytest.raises(CineDataError, match="refined with other settings"):
        refine_renderer(_renderer(), cache, ["f0"], out, _settings(feedback, cache), seed=0)
    with pytest.raises(CineDataError, match="refined with other settings"):  # another starting renderer
        refine_renderer(refined, cache, ["f0", "f1"], out, _settings(feedback, cache), seed=0)


def test_refinement_is_seeded(cache: Path, tmp_path: Path) -> None:
    short = _settings("unlabelled", cache, steps=2)
    a = refine_renderer(_renderer(), cache, ["f0"], tmp_path / "a", short, seed=3)
    b = refine_renderer(_renderer(), cache, ["f0"], tmp_path / "b", short, seed=3)
    assert _max_change(a, b) == 0


def test_segmentation_feedback_reaches_the_renderer_through_the_segmenter_step(
    cache: Path, tmp_path: Path
) -> None:
    """With no anchor and no learning rate on the segmenter's step, nothing of the outer loss depends on
    the renders: the renderer stays put. With a step, the second-order gradient moves it."""
    frozen = dict(anchor=0.0, warmup=0, steps=2)
    no_step = _settings("segmentation", inner_lr=0.0, **frozen)
    still = refine_renderer(_renderer(), cache, ["f0"], tmp_path / "a", no_step)
    assert _max_change(still, _renderer()) == 0
    moved = refine_renderer(_renderer(), cache, ["f0"], tmp_path / "b", _settings("segmentation", **frozen))
    assert _max_change(moved, _renderer()) > 1e-6


def test_the_anchor_keeps_renders_near_the_start(cache: Path, tmp_path: Path) -> None:
    """Unlabelled texture with a heavy anchor changes renders less than without one."""
    onehot = torch.nn.functional.one_hot(torch.randint(0, 8, (4, SIZE, SIZE)), 8).permute(0, 3, 1, 2).float()
    z = torch.randn(4, 8)
    start = _renderer()(onehot, z).detach()
    drift = {}
    for anchor in (0.0, 50.0):
        g = refine_renderer(_renderer(), cache, ["f0"], tmp_path / f"a{anchor}",
                            _settings("unlabelled", cache, anchor=anchor, steps=4, lr=1e-3))  # fmt: skip
        drift[anchor] = float((g(onehot, z) - start).abs().mean())
    assert drift[50.0] < drift[0.0]


def test_benchmark_cli_refuses_refinement_without_fine_tuning_and_test_subjects_as_texture(
    cache: Path, tmp_path: Path
) -> None:
    from cineaug.cli import app

    common = ["benchmark", "--data", str(cache), "--test-data", str(cache), "--arms", "sim-render+nnunet",
              "--renderer", "render-sim-64", "--out", str(tmp_path / "b")]  # fmt: skip

    def error(*args: str) -> str:
        r = CliRunner().invoke(app, [*common, *args], env={"COLUMNS": "400"})
        assert r.exit_code == 2, r.output
        return " ".join(r.output.replace("│", " ").split())

    assert "pass --renderer-finetune" in error("--renderer-refine", "segmentation")
    assert "pass --renderer-finetune" in error("--renderer-unlabelled", str(cache))
    assert "pass --renderer-finetune" in error("--no-renderer-grow")
    tune = ["--renderer-finetune", "8", "--renderer-refine"]
    assert "goes with" in error(*tune, "segmentation", "--renderer-unlabelled", str(cache))
    assert "goes with" in error(*tune, "unlabelled")
    assert "no-such-cache" in error("--renderer-finetune", "8", "--renderer-refine", "unlabelled",
                                    "--renderer-unlabelled", str(tmp_path / "no-such-cache"))  # fmt: skip
    loso = [a for i, a in enumerate(common) if i not in (3, 4)]  # no --test-data: each subject in turn
    assert "--test-data" not in loso and str(cache) in loso
    r = CliRunner().invoke(app, [*loso, "--renderer-finetune", "8", "--renderer-refine", "unlabelled",
                                 "--renderer-unlabelled", str(cache)], env={"COLUMNS": "400"})  # fmt: skip
    assert r.exit_code == 2 and "holds test subjects" in " ".join(r.output.replace("│", " ").split())
    text = error(
        "--renderer-finetune", "8", "--renderer-refine", "unlabelled", "--renderer-unlabelled", str(cache)
    )
    assert "holds test subjects ['f0', 'f1', 'f2']" in text
    assert "choose one of segmentation, unlabelled" in error(
        "--renderer-finetune", "8", "--renderer-refine", "x"
    )
