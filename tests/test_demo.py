"""`cineaug demo` end to end at toy scale: simulate two cohorts, benchmark, report."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cineaug.benchmark.demo import TEST_SEED, TRAIN_SEED, run_demo
from cineaug.cli import app
from cineaug.models.hub import save_pretrained


def test_demo_writes_report_and_results(generator, tmp_path):
    model = save_pretrained(generator, tmp_path / "g")
    folder = run_demo(tmp_path / "demo", model=model, n_train=3, n_test=2, arms=("none", "synthetic"),
                      sizes=(2,), seeds=(0,), steps=3, progress=False)  # fmt: skip
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert {r["arm"] for r in rows} == {"none", "synthetic"}
    assert (folder / "report.md").is_file() and (folder / "report.html").is_file()
    train = json.loads((tmp_path / "demo" / "data" / "train" / "dataset.json").read_text())
    test = json.loads((tmp_path / "demo" / "data" / "test" / "dataset.json").read_text())
    assert not {e["subject"] for e in train["cycles"]} & {e["subject"] for e in test["cycles"]}
    assert TRAIN_SEED != TEST_SEED
    assert not (tmp_path / "demo" / "data" / "sim-bank").exists()  # no arm draws simulator cycles


def test_demo_without_a_model_fails_before_simulating(tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "d"), "--model", "nope", "--no-progress"]
    )
    assert result.exit_code == 1 and "neither a shipped model name" in result.output
    assert not (tmp_path / "d").exists()
