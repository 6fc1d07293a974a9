"""`cineaug prepare` end to end on the bundled real slice, and its errors."""

from __future__ import annotations

import json
import shutil

import imageio.v3 as iio
import numpy as np
from conftest import disk_cycle, key_frame_cycle
from typer.testing import CliRunner

from cineaug import CycleDataset, LabelSource
from cineaug.cli import app
from cineaug.prepare import write_simulated_dataset
from cineaug.viz import not_acquired_frame

runner = CliRunner()


def test_prepare_sunnybrook(sunnybrook_root, tmp_path):
    out = tmp_path / "prepared"
    result = runner.invoke(
        app, ["prepare", "sunnybrook", str(sunnybrook_root), str(out), "--size", "64", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 cycles of 1 subjects" in result.output and "0 skipped, 0 warnings" in result.output
    index = json.loads((out / "dataset.json").read_text())
    assert index["source"] == "sunnybrook" and index["counts"]["labeled_cycles"] == 1
    assert index["spacing"]["native_mm"]["min"] == 1.291179 and index["spacing"]["prepared_mm"]["max"] == 2.5
    sample = CycleDataset(out)[0]
    assert tuple(sample["image"].shape) == (20, 64, 64)
    sources = sample["label_source"].tolist()
    assert sources.count(LabelSource.PROPAGATED) == 18 and sources[0] == LabelSource.EXPERT
    gif = iio.imread(out / "preview.gif", index=None)
    assert gif.shape[0] == 20 and gif.shape[1] > 64
    assert np.any(gif[..., 0] > gif[..., 1] + 100)  # the red LV contour is drawn


def test_prepare_counts_warnings_and_skips_in_dataset_json(sunnybrook_root, tmp_path):
    root = tmp_path / "scd"
    shutil.copytree(sunnybrook_root, root)
    (root / "link.csv").write_text("patient_id,original_id\n")  # no valid row (the patient table links)
    far = root / "contourfiles" / "SC-HF-I-1" / "o-contours" / "IM-0001-0019-ocontour-manual.txt"
    far.write_text("1e9 -1e9\n120 120\n130 125\n")
    out = tmp_path / "prepared"
    result = runner.invoke(
        app, ["prepare", "sunnybrook", str(root), str(out), "--size", "32", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "wrote 1 cycles" in result.output
        and "0 labelled, 0 key frames only, 1 skipped, 1 warnings" in result.output
    )
    index = json.loads((out / "dataset.json").read_text())
    assert index["counts"]["skipped"] == 1 and index["counts"]["warnings"] == 1
    said = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(said) == 2 and f"warning: skipped {far}: contour points outside" in said[1], said
    assert "Warning:" not in result.output and "log.skip" not in result.output  # no Python warning format
    assert index["skipped"][0]["path"] == str(far) and "outside the 256x256" in index["skipped"][0]["reason"]
    reason = "0 valid rows of 0 (a row names a patient_id and an original_id)"
    assert index["warnings"] == [{"path": str(root / "link.csv"), "reason": reason}]


def test_prepare_acdc_without_cines_gives_key_frame_cycles(tmp_path):
    root = write_simulated_dataset(tmp_path / "acdc", n=2, seed=4, fmt="acdc", workers=1, progress=False)
    for cine in root.glob("*/*_4d.nii.gz"):
        cine.unlink()  # as the public ACDC copies: ED and ES volumes only
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["prepare", "acdc", str(root), str(out), "--size", "32", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "2 key frames only, 0 skipped, 0 warnings" in result.output
    counts = json.loads((out / "dataset.json").read_text())["counts"]
    assert counts["key_frame_cycles"] == 2 and counts["frames_by_label_source"] == {"expert": 4, "none": 36}
    sample = CycleDataset(out)[0]
    es = int(sample["es_frame"])  # NbFrame 20: ES keeps its frame number
    assert (
        sample["observed"].nonzero().flatten().tolist()
        == [0, es]
        == sample["labeled"].nonzero().flatten().tolist()
    )
    gif = iio.imread(out / "preview.gif", index=None)  # [T', H, W, 3]: equal frames in a row are merged
    tiles = gif[:, 2:66, 2:66]  # the first cycle's tile (64 px, 2 px padding)
    blank = [np.array_equal(t, not_acquired_frame(64, 64)) for t in tiles]
    assert not blank[0] and tiles[0].std() > 20 and sum(blank) >= 1  # ED is an image, the gaps are marked
    assert sum(not b for b in blank) == 2  # ED and ES only are drawn as images


def test_prepare_bad_input_is_one_clear_line(tmp_path):
    result = runner.invoke(app, ["prepare", "sunnybrook", str(tmp_path), str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "not a Sunnybrook folder" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["prepare", "dicom", str(tmp_path / "nope"), str(tmp_path / "o")])
    assert result.exit_code == 1 and "no such folder" in result.output


def test_key_frame_cycles_travel_to_workers_without_their_gaps():
    from cineaug.prepare import pack_observed, unpack_observed

    cycle = key_frame_cycle()
    meta, image, label = pack_observed(cycle)
    assert image.shape == label.shape == (2, 96, 96)
    back = unpack_observed((meta, image, label))
    np.testing.assert_array_equal(back.image, cycle.image)
    np.testing.assert_array_equal(back.label, cycle.label)
    assert back.metadata() == cycle.metadata()
    full = disk_cycle()[0]
    assert pack_observed(full) is full and unpack_observed(full) is full


def test_preview_takes_labelled_cycles_of_every_subject_first():
    from cineaug.prepare import pick_preview

    entries = [
        {"subject": s, "labeled_frames": f, "key": f"{s}{i}"} for s in "ab" for i, f in enumerate((0, 20, 20))
    ]
    entries.append({"subject": "c", "labeled_frames": 0, "key": "c0"})
    assert [e["key"] for e in pick_preview(entries, 4)] == ["a1", "b1", "c0", "a2"]


def test_every_long_command_has_progress_and_no_progress():
    import typer

    group = typer.main.get_command(app)
    for name in ("prepare", "simulate", "train", "sample", "benchmark", "demo"):
        options = {o for p in group.commands[name].params for o in (*p.opts, *p.secondary_opts)}
        assert {"--progress", "--no-progress"} <= options, name


def test_simulate_passes_no_progress_to_the_writer(tmp_path, monkeypatch):
    import cineaug.prepare

    seen = {}
    monkeypatch.setattr(cineaug.prepare, "write_simulated_dataset", lambda out, **kw: seen.update(kw) or out)
    result = runner.invoke(app, ["simulate", str(tmp_path / "s"), "--n", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert seen["progress"] is False and seen["n"] == 1


def test_cli_errors_share_one_exit():
    import inspect

    import cineaug.benchmark.cli
    import cineaug.cli
    import cineaug.generate.cli
    import cineaug.training.cli

    for module in (cineaug.cli, cineaug.training.cli, cineaug.generate.cli, cineaug.benchmark.cli):
        source = inspect.getsource(module)
        assert "typer.Exit(" not in source and "err=True" not in source, module.__name__


def test_one_list_of_data_kinds_with_one_reader_signature():
    import inspect

    from cineaug.cli import Kind
    from cineaug.io import READERS
    from cineaug.prepare import KINDS, SOURCES

    assert KINDS == ("sunnybrook", "acdc", "mnms", "nifti", "dicom", "simulator") == tuple(SOURCES)
    assert [k.value for k in Kind] == list(KINDS) and {
        **READERS,
        "simulator": SOURCES["simulator"],
    } == SOURCES
    for kind, source in SOURCES.items():
        params = inspect.signature(source).parameters
        assert "log" in params and params["log"].default is None, kind  # source(input, log=ReadLog)


def test_prepare_simulator_and_simulate_write_the_same_cache(tmp_path):
    result = runner.invoke(
        app, ["prepare", "simulator", "n=2,seed=1", str(tmp_path / "p"), "--workers", "1", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "wrote 2 cycles of 2 subjects" in result.output
        and "2 labelled, 0 key frames only, 0 skipped" in result.output
    )
    result = runner.invoke(
        app, ["simulate", str(tmp_path / "s"), "--n", "2", "--seed", "1", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    prepared, simulated = (json.loads((tmp_path / d / "dataset.json").read_text()) for d in "ps")
    assert [e["sha256"] for e in prepared["cycles"]] == [e["sha256"] for e in simulated["cycles"]]
    assert prepared["info"] == simulated["info"] and prepared["info"]["input"]["seed"] == 1


def test_simulate_passes_prepare_options_and_bad_options_are_one_line(tmp_path, monkeypatch):
    import cineaug.prepare

    result = runner.invoke(app, ["prepare", "simulator", "n=2,sed=1", str(tmp_path / "p")])
    assert result.exit_code == 1 and "unknown simulator option 'sed'" in result.output
    assert not (tmp_path / "p").exists()
    seen = {}
    monkeypatch.setattr(cineaug.prepare, "write_simulated_dataset", lambda out, **kw: seen.update(kw) or out)
    args = ["simulate", str(tmp_path / "s"), "--n", "1", "--fov-mm", "200", "--strict", "--workers", "3"]
    assert runner.invoke(app, args).exit_code == 0
    assert seen["fov_mm"] == 200.0 and seen["strict"] is True and seen["workers"] == 3


def test_the_command_line_starts_without_torch_monai_or_the_readers():
    import subprocess
    import sys

    code = (
        "import sys, cineaug.cli; "
        "heavy = sorted(m for m in ('torch', 'monai', 'nibabel', 'pydicom', 'skimage') if m in sys.modules); "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout  # benchmarks/bench_cli.py times it: --help well under 1 s


def test_usage_errors_exit_2_and_failures_exit_1(tmp_path):
    assert runner.invoke(app, ["simulate", str(tmp_path), "--no-such-option"]).exit_code == 2
    result = runner.invoke(app, ["prepare", "nifti", str(tmp_path / "missing.nii.gz"), str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'missing.nii.gz'}: no such file"], (
        result.output
    )
