"""`cineaug prepare` end to end on the bundled real slice, and its errors."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
from typer.testing import CliRunner

from cineaug import CycleDataset, LabelSource
from cineaug.cli import app

runner = CliRunner()


def test_prepare_sunnybrook(sunnybrook_root, tmp_path):
    out = tmp_path / "prepared"
    result = runner.invoke(
        app, ["prepare", "sunnybrook", str(sunnybrook_root), str(out), "--size", "64", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1 cycles of 1 subjects" in result.output
    index = json.loads((out / "dataset.json").read_text())
    assert index["source"] == "sunnybrook" and index["counts"]["labeled_cycles"] == 1
    assert index["spacing"]["native_mm"]["min"] == 1.367188 and index["spacing"]["prepared_mm"]["max"] == 2.5
    sample = CycleDataset(out)[0]
    assert tuple(sample["image"].shape) == (20, 64, 64)
    sources = sample["label_source"].tolist()
    assert sources.count(LabelSource.PROPAGATED) == 18 and sources[0] == LabelSource.EXPERT
    gif = iio.imread(out / "preview.gif", index=None)
    assert gif.shape[0] == 20 and gif.shape[1] > 64
    assert np.any(gif[..., 0] > gif[..., 1] + 100)  # the red LV contour is drawn


def test_prepare_bad_input_is_one_clear_line(tmp_path):
    result = runner.invoke(app, ["prepare", "sunnybrook", str(tmp_path), str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "not a Sunnybrook folder" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["prepare", "dicom", str(tmp_path / "nope"), str(tmp_path / "o")])
    assert result.exit_code == 2 and "no such folder" in result.output


def test_preview_takes_labelled_cycles_of_every_subject_first():
    from cineaug.prepare import pick_preview

    entries = [
        {"subject": s, "labeled_frames": f, "key": f"{s}{i}"} for s in "ab" for i, f in enumerate((0, 20, 20))
    ]
    entries.append({"subject": "c", "labeled_frames": 0, "key": "c0"})
    assert [e["key"] for e in pick_preview(entries, 4)] == ["a1", "b1", "c0", "a2"]
