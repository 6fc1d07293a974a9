"""The segmentation benchmark on a tiny cache of easy 32 px disk cycles (seconds, 1 thread)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cineaug import CacheWriter, CineCycle, LabelSource
from cineaug.benchmark import (
    Frames,
    Protocol,
    arm_spec,
    fold_unannotated,
    frame_scores,
    paired_by_subject,
    paired_tests,
    read_results,
    render_report,
    run_benchmark,
    score,
    scored_frames,
    subject_means,
    train_model,
    training_transform,
)
from cineaug.data import CycleDataset
from cineaug.models import ProGANGenerator

SIZE = 32
PROTOCOL = Protocol(
    size=SIZE, steps=30, batch_size=8, channels=(8, 16), lr=1e-2, max_test_frames=40, threads=1
)


def disk_cycle(subject: str, seed: int, sunnybrook: bool = False) -> CineCycle:
    """A beating LV (cavity bright, myocardium dark ring) beside an RV; Sunnybrook-like: no RV, ED/ES only."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cy, cx = rng.uniform(13, 19, 2)
    label = np.zeros((20, SIZE, SIZE), np.uint8)
    for t in range(20):
        r = 6.0 - 2.5 * np.sin(np.pi * t / 20)
        d = np.hypot(yy - cy, xx - cx)
        label[t][np.hypot(yy - cy, xx - cx - r - 6) < r * 0.8] = 1
        label[t][d < r + 2.5] = 2
        label[t][d < r] = 3
    image = np.array([-0.8, 0.6, -0.3, 0.9], np.float32)[label] + rng.normal(0, 0.05, label.shape)
    labeled, source = np.ones(20, bool), np.full(20, LabelSource.SIMULATED, np.uint8)
    if sunnybrook:
        label[label == 1] = 0
        labeled[:] = False
        labeled[[0, 8]] = True
        label[~labeled] = 0
        source = np.where(labeled, LabelSource.EXPERT, LabelSource.NONE).astype(np.uint8)
    return CineCycle(
        image=np.clip(image, -1, 1).astype(np.float32),
        label=label,
        labeled=labeled,
        label_source=source,
        spacing=(2.5, 2.5),
        source="test",
        subject=subject,
        annotated_classes=(2, 3) if sunnybrook else (1, 2, 3),
    )


def write_cache(root: Path, prefix: str, n: int, **kw) -> Path:
    with CacheWriter(root, source="test") as w:
        for i in range(n):
            w.add(disk_cycle(f"{prefix}{i}", seed=hash((prefix, i)) % 1000, **kw))
    return root


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    return write_cache(root / "train", "tr", 3), write_cache(root / "test", "te", 2)


def tiny_generator() -> ProGANGenerator:
    torch.manual_seed(0)
    return ProGANGenerator(resolution=SIZE, fmap_base=128, fmap_max=16, latent_dim=8)


def test_fold_unannotated_moves_probability_to_background():
    logits = torch.randn(2, 4, 3, 3)
    annotated = torch.tensor([[True, True, True, True], [True, False, True, True]])
    p, q = logits.softmax(1), fold_unannotated(logits, annotated).softmax(1)
    assert torch.allclose(q[0], p[0], atol=1e-6)
    assert torch.allclose(q[1, 0], p[1, 0] + p[1, 1], atol=1e-6) and q[1, 1].max() < 1e-6
    assert torch.allclose(q[1, 2:], p[1, 2:], atol=1e-6)


def test_score_ignores_unannotated_classes_and_unexpert_frames(tmp_path):
    ds = CycleDataset(write_cache(tmp_path / "sb", "sb", 1, sunnybrook=True))
    frames = scored_frames([ds[0]], max_frames=100)
    assert len(frames.keys) == 2  # the two expert frames only
    perfect = score(frames.label, frames)
    assert perfect["dice_lv"] == pytest.approx(1.0) and perfect["hd95_lv"] == pytest.approx(0.0)
    assert np.isnan(perfect["dice_rv"]) and perfect["dice_mean"] == pytest.approx(1.0)
    empty = score(torch.zeros_like(frames.label), frames)
    assert empty["dice_mean"] == 0.0 and empty["hd95_lv"] > 50  # missed: the frame diagonal, mm


def test_subject_means_score_each_subject_as_score_would_alone(caches):
    test = CycleDataset(caches[1])
    frames = scored_frames([test[i] for i in range(len(test))])
    pred = frames.label.clone()
    pred[frames.label == 3] = 2  # the LV cavity called myocardium: every frame loses its LV
    pred[: len(pred) // 4] = 0  # and the first frames (subject te0) are missed altogether
    by_subject = subject_means(*frame_scores(pred, frames), frames.subjects)
    assert sorted(by_subject["dice_by_subject"]) == ["te0", "te1"]
    for subject in ("te0", "te1"):
        keep = [i for i, s in enumerate(frames.subjects) if s == subject]
        alone = Frames(*(getattr(frames, f)[keep] for f in ("image", "label", "annotated", "spacing")),
                       keys=[frames.keys[i] for i in keep], subjects=[subject] * len(keep))  # fmt: skip
        expected = score(pred[keep], alone)
        assert by_subject["dice_by_subject"][subject] == pytest.approx(expected["dice_mean"])
        assert by_subject["hd95_by_subject"][subject] == pytest.approx(expected["hd95_mean"])
    assert by_subject["dice_by_subject"]["te0"] < by_subject["dice_by_subject"]["te1"] < 0.7


def test_paired_by_subject_averages_seeds_then_tests_over_subjects():
    from scipy.stats import wilcoxon

    subjects = [f"p{i}" for i in range(8)]
    gain = np.array([-0.01, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06])  # per subject: 7 of 8 gain
    rows = []
    for seed in (0, 1):
        base = {s: 0.6 + 0.03 * i + 0.01 * seed for i, s in enumerate(subjects)}  # patients differ
        for arm, shift in (("nnunet", 0.0), ("gmm+nnunet", 1.0)):
            dice = {s: base[s] + shift * (1 + seed) * g for s, g in zip(subjects, gain)}  # seed 1 gains twice
            dice = dict(reversed(dice.items())) if shift else dice  # paired by name, not by order
            hd = {s: 5.0 - shift for s in subjects}
            rows.append({"arm": arm, "size": 2, "seed": seed, "dice_mean": np.mean(list(dice.values())),
                         "dice_by_subject": dice, "hd95_by_subject": hd})  # fmt: skip
    rows.append({"arm": "affine", "size": 2, "seed": 0, "dice_mean": 0.5})  # no per-subject scores
    best, table = paired_by_subject(rows)
    assert best == "nnunet" and len(table) == 1
    arm, size, seeds, n, diff, won, p, hd = table[0]
    assert (arm, size, seeds, n, won, hd) == ("gmm+nnunet", "2", "2", "8", "7/8", "-1.00")
    assert float(diff) == pytest.approx(1.5 * gain.mean(), abs=5e-4)  # the seeds' mean
    assert float(p) == pytest.approx(wilcoxon(gain).pvalue, rel=1e-2)
    _, runs = paired_by_subject(rows, per_seed=True)  # each seed on its own
    assert [(r[0], r[2], r[3], r[5], r[7]) for r in runs] == [
        ("gmm+nnunet", k, "8", "7/8", "-1.00") for k in "01"
    ]
    assert [float(r[4]) for r in runs] == pytest.approx([gain.mean(), 2 * gain.mean()], abs=5e-4)


def test_training_beats_an_untrained_model(caches):
    train, test = (CycleDataset(c) for c in caches)
    samples = [train[i] for i in range(len(train))]
    frames = scored_frames([test[i] for i in range(len(test))], PROTOCOL.max_test_frames)
    torch.set_num_threads(1)
    untrained, _ = train_model(
        samples, training_transform(arm_spec("none")), Protocol(**{**PROTOCOL.to_dict(), "steps": 0}), 0
    )
    longer = Protocol(**{**PROTOCOL.to_dict(), "steps": 60})
    trained, seconds = train_model(samples, training_transform(arm_spec("none")), longer, 0)
    before = score(untrained(frames.image).argmax(1, keepdim=True), frames)["dice_mean"]
    after = score(trained(frames.image).argmax(1, keepdim=True), frames)["dice_mean"]
    assert after > max(0.5, before + 0.2), (before, after)
    assert seconds > 0


def test_run_benchmark_writes_results_and_report(caches, tmp_path):
    out = run_benchmark(
        *caches,
        ["none", "synthetic"],
        [2],
        [0],
        tmp_path / "b",
        generator=tiny_generator(),
        progress=False,
        protocol=PROTOCOL,
    )
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["arm"] for r in rows] == ["none", "synthetic"]
    for r in rows:
        assert r["size"] == 2 and r["seed"] == 0 and len(r["subjects"]) == 2 and r["train_seconds"] > 0
        assert 0 <= r["dice_mean"] <= 1 and all(0 <= r[f"dice_{c}"] <= 1 for c in ("rv", "myocardium", "lv"))
        assert r["hd95_mean"] >= 0
        assert sorted(r["dice_by_subject"]) == sorted(r["hd95_by_subject"]) == ["te0", "te1"]
        assert min(r["dice_by_subject"].values()) <= r["dice_mean"] <= max(r["dice_by_subject"].values())
    for name in ("report.md", "report.html", "dice_vs_size.png", "predictions.png", "synthetic_cycles.gif"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "data:image/gif;base64," in html
    (out / "report.md").unlink()
    render_report(out)  # from the saved results alone
    report = (out / "report.md").read_text()
    assert "| synthetic | 2 |" in report and "paired over test subjects, against none" in report
    assert "| synthetic | 2 | 1 | 2 |" in report  # one seed, two test subjects
    assert "Per run, paired" not in report  # one seed per size: the pooled table is the per-run one


def test_synthetic_arms_skipped_without_generator_and_loso(caches, tmp_path):
    with pytest.warns(UserWarning, match="skipping the synthetic arms synthetic-only"):
        out = run_benchmark(
            caches[0],
            None,
            ["none", "synthetic-only"],
            [1],
            [0, 1],
            tmp_path / "b",
            progress=False,
            protocol=PROTOCOL,
        )
    rows = read_results(out)
    assert [r["arm"] for r in rows] == ["none", "none"]
    assert all(r["held_out"] not in r["subjects"] for r in rows)
    assert paired_tests(rows) == ("none", [])


def test_overlapping_subjects_refused(caches, tmp_path):
    with pytest.raises(ValueError, match="also in the training data"):
        run_benchmark(
            caches[0], caches[0], ["none"], [1], [0], tmp_path / "b", progress=False, protocol=PROTOCOL
        )


def test_cli_benchmark_with_a_model_folder_then_report(caches, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cineaug.benchmark import cli, segmentation
    from cineaug.models import save_pretrained

    monkeypatch.setitem(segmentation.PROTOCOLS, "quick", PROTOCOL)
    folder = save_pretrained(tiny_generator(), tmp_path / "g")
    out = tmp_path / "b"
    args = ["benchmark", "--data", str(caches[0]), "--test-data", str(caches[1]), "--out", str(out)]
    args += [
        "--arms",
        "synthetic-only",
        "--sizes",
        "1",
        "--seeds",
        "3",
        "--model",
        str(folder),
        "--steps",
        "5",
        "--threads",
        "1",
    ]
    result = CliRunner().invoke(cli.app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = read_results(out)
    assert [(r["arm"], r["size"], r["seed"], r["steps"]) for r in rows] == [("synthetic-only", 1, 3, 5)]
    meta = json.loads((out / "benchmark.json").read_text())
    assert meta["generator"] == str(folder) and meta["protocol"]["device"] == "cpu"
    assert CliRunner().invoke(cli.app, ["report", str(out)]).exit_code == 0
    bad = CliRunner().invoke(cli.app, [*args[:6], "--arms", "none,mixup"])
    assert bad.exit_code != 0 and "mixup" in bad.output
    for device, why in (("tpu9", "--device 'tpu9'"), ("cuda", "no CUDA device")):
        if device == "cuda" and torch.cuda.is_available():
            continue
        bad = CliRunner().invoke(cli.app, [*args, "--device", device])
        assert bad.exit_code != 0 and why in bad.output, bad.output


def test_same_seed_same_model(caches):
    samples = [CycleDataset(caches[0])[i] for i in range(2)]
    short = Protocol(**{**PROTOCOL.to_dict(), "steps": 4})
    nnunet = arm_spec("nnunet")
    a, _ = train_model(samples, training_transform(nnunet), short, 5)
    b, _ = train_model(samples, training_transform(nnunet), short, 5)
    c, _ = train_model(samples, training_transform(nnunet), short, 6)
    same = [torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())]
    assert all(same) and not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_cli_benchmark_on_the_simulator_uses_disjoint_cohorts(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cineaug.benchmark import cli, segmentation

    monkeypatch.setitem(segmentation.PROTOCOLS, "quick", PROTOCOL)
    out = tmp_path / "b"
    args = ["benchmark", "--data", "simulator", "--out", str(out), "--arms", "none", "--sizes", "2",
            "--seeds", "0", "--n-test", "1", "--steps", "2", "--threads", "1", "--model", "none",
            "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    train, test = CycleDataset(out / "data" / "train"), CycleDataset(out / "data" / "test")
    assert len(train.subjects) == 2 and len(test.subjects) == 1
    assert not set(train.subjects) & set(test.subjects)
    assert [r["arm"] for r in read_results(out)] == ["none"]


def test_unlabelled_training_cycles_are_left_out_like_sunnybrook_apical_slices(tmp_path):
    root = tmp_path / "sb"
    with CacheWriter(root, source="test") as w:
        for i in range(2):
            w.add(disk_cycle(f"p{i}", seed=i, sunnybrook=True))
            bare = disk_cycle(f"p{i}", seed=10 + i, sunnybrook=True)
            bare.labeled[:], bare.label[:] = False, 0
            bare.label_source[:] = LabelSource.NONE
            bare.slice_index = 1
            w.add(bare)
    out = run_benchmark(root, None, ["none"], [1], [0], tmp_path / "b", progress=False, protocol=PROTOCOL)
    (row,) = read_results(out)
    assert row["held_out"] == "p0" and row["subjects"] == ["p1"]


def test_resume_keeps_finished_runs_and_drops_a_cut_line(caches, tmp_path):
    args = (caches[0], caches[1], ["none"], [1], [0, 1], tmp_path / "r")
    out = run_benchmark(*args, progress=False, protocol=PROTOCOL)
    rows = read_results(out)
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text(lines[0] + "\n" + lines[1][:20])  # the second run was cut short
    again = read_results(run_benchmark(*args, progress=False, protocol=PROTOCOL, resume=True))
    assert [(r["seed"], r["dice_mean"]) for r in again] == [(r["seed"], r["dice_mean"]) for r in rows]


def test_resume_keeps_only_runs_of_the_same_protocol_steps_augmentation_and_precision(tmp_path):
    from cineaug.benchmark import PROTOCOLS
    from cineaug.benchmark.runner import _finished_runs

    path = tmp_path / "results.jsonl"
    volume = {"volume_dice_mean": 0.8}
    rows = [
        {"arm": "nnunet", "size": 2, "seed": 0, "steps": 30},  # written before rows named their augment
        {"arm": "nnunet", "size": 2, "seed": 1, "steps": 30, "augment": "per-sample"},
        {"arm": "nnunet", "size": 2, "seed": 2, "steps": 30, "augment": "batched"},
        {"arm": "nnunet", "size": 2, "seed": 3, "steps": 40, "augment": "batched"},
        {"arm": "nnunet", "size": 2, "seed": 4, "steps": 30, "protocol": "field", **volume},
        {"arm": "nnunet", "size": 2, "seed": 5, "steps": 30, **volume},  # before rows named their protocol
        {"arm": "nnunet", "size": 2, "seed": 6, "steps": 30, "protocol": "nnunet2d", **volume},
        {"arm": "nnunet", "size": 2, "seed": 7, "steps": 30, "protocol": "quick"},
        {"arm": "nnunet", "size": 2, "seed": 8, "steps": 30, "protocol": "quick", "precision": "bf16"},
        {"arm": "nnunet", "size": 2, "seed": 9, "steps": 30, "protocol": "quick", "precision": "fp32"},
    ]
    quick, field = PROTOCOLS["quick"].replace(steps=30), PROTOCOLS["field"].replace(steps=30)
    for protocol, kept in (
        (quick.replace(augment="batched"), {2}),
        (quick, {0, 1, 7, 9}),  # rows from before precision was recorded ran in fp32
        (quick.replace(precision="bf16"), {8}),
        (field, {4, 5}),  # per-volume rows of this protocol only
    ):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        dropped = path.with_name("results.dropped.jsonl")
        dropped.unlink(missing_ok=True)
        assert _finished_runs(path, protocol) == {("nnunet", 2, seed) for seed in kept}, protocol.name
        assert [json.loads(line)["seed"] for line in path.read_text().splitlines()] == sorted(kept)
        moved = [json.loads(line)["seed"] for line in dropped.read_text().splitlines()]
        assert moved == sorted(set(range(10)) - kept)  # set aside, not lost


def test_auto_precision_resumes_in_the_precision_the_runs_recorded(tmp_path):
    from cineaug.benchmark.runner import _run_precision
    from cineaug.precision import resolve_precision

    path, auto = tmp_path / "results.jsonl", PROTOCOL.replace(precision="auto")
    measured = resolve_precision("auto")
    assert _run_precision(None, auto) == measured and _run_precision(path, auto) == measured  # nothing yet
    for recorded, expected in ((["bf16", "bf16"], "bf16"), (["fp32"], "fp32"), (["bf16", "fp32"], measured)):
        path.write_text(
            "".join(json.dumps({"arm": "none", "precision": p}) + "\n" for p in recorded) + "{cut"
        )
        assert _run_precision(path, auto) == expected, recorded
    assert _run_precision(path, PROTOCOL.replace(precision="bf16")) == "bf16"  # asked for: never overridden
    path.write_text(json.dumps({"arm": "none", "precision": "bf16"}) + "\n")
    assert _run_precision(path, PROTOCOL) == "fp32"


def test_classes_the_training_source_lacks_are_not_scored(tmp_path):
    train = write_cache(tmp_path / "train", "sb", 2, sunnybrook=True)  # no RV labels
    test = write_cache(tmp_path / "test", "full", 2)  # RV labelled
    rows = read_results(run_benchmark(train, test, ["none"], [1], [0], tmp_path / "b", progress=False,
                                      protocol=PROTOCOL))  # fmt: skip
    assert math.isnan(rows[0]["dice_rv"]) and rows[0]["dice_lv"] > 0


def _fake_runs(
    folder, arms_dice: dict[str, list[float]], size: int = 2, steps: int = 2000, **recorded: str
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "arm": arm,
            "size": size,
            "seed": seed,
            "dice_mean": d,
            "hd95_mean": 10 - 10 * d,
            "steps": steps,
            **recorded,
        }  # fmt: skip
        for arm, values in arms_dice.items()
        for seed, d in enumerate(values)
    ]
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_merge_gathers_worker_folders_and_pairs_by_size(tmp_path):
    from cineaug.benchmark.report import merge_results, paired_by_size

    _fake_runs(tmp_path / "a", {"nnunet": [0.70, 0.72], "gmm+nnunet": [0.75, 0.71]})
    _fake_runs(tmp_path / "b", {"nnunet": [0.10], "affine": [0.60, 0.61]})  # nnunet seed 0: a's wins
    out = merge_results(tmp_path / "all", [tmp_path / "a", tmp_path / "b"])
    rows = read_results(out)
    assert len(rows) == 6 and {r["dice_mean"] for r in rows if r["arm"] == "nnunet"} == {0.70, 0.72}
    best, table = paired_by_size(rows)
    assert best == "nnunet"
    gmm = next(r for r in table if r[0] == "gmm+nnunet")
    assert gmm[1:5] == ["2", "2", "+0.020", "1/2"] and gmm[5] == "-0.20"
    _fake_runs(tmp_path / "c", {"none": [0.3]}, steps=200)
    with pytest.raises(ValueError, match="different numbers of steps"):
        merge_results(tmp_path / "all2", [tmp_path / "a", tmp_path / "c"])
    with pytest.raises(FileNotFoundError, match="no results"):
        merge_results(tmp_path / "all3", [tmp_path / "missing"])
    for key, value in (("precision", "bf16"), ("augment", "batched")):  # unrecorded: fp32, per sample
        _fake_runs(tmp_path / key, {"none": [0.3]}, **{key: value})
        with pytest.raises(ValueError, match=f"different {key}s: .*{value}"):
            merge_results(tmp_path / f"all-{key}", [tmp_path / "a", tmp_path / key])
    _fake_runs(tmp_path / "quick", {"none": [0.3]}, protocol="quick", precision="fp32")
    assert len(read_results(merge_results(tmp_path / "all4", [tmp_path / "a", tmp_path / "quick"]))) == 5
    _fake_runs(tmp_path / "field", {"affine": [0.3]}, protocol="field")  # an unrecorded protocol: unknown
    with pytest.raises(ValueError, match=r"different protocols: \['field', 'quick'\]"):
        merge_results(tmp_path / "all5", [tmp_path / "a", tmp_path / "quick", tmp_path / "field"])


def test_prefetched_batches_train_the_same_model_as_a_plain_loop(caches, monkeypatch):
    from cineaug.benchmark import segmentation

    samples = [CycleDataset(caches[0])[i] for i in range(2)]
    short = PROTOCOL.replace(steps=6)
    monkeypatch.setattr(segmentation, "draws_ahead", lambda protocol: True)
    a, _ = train_model(samples, training_transform(arm_spec("nnunet")), short, 3)
    monkeypatch.setattr(segmentation, "prefetched", lambda batches, depth=2: batches)
    b, _ = train_model(samples, training_transform(arm_spec("nnunet")), short, 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_batches_are_drawn_ahead_only_where_a_core_is_free(monkeypatch):
    from cineaug.benchmark import draws_ahead

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert draws_ahead(PROTOCOL.replace(threads=1))
    assert not draws_ahead(PROTOCOL.replace(threads=2))  # the UNet's threads take both cores
    assert not draws_ahead(PROTOCOL.replace(threads=4))
    assert draws_ahead(PROTOCOL.replace(threads=2, device="cuda"))  # the UNet runs elsewhere


def test_prefetched_raises_the_drawing_threads_error():
    from cineaug.benchmark.segmentation import prefetched

    def batches():
        yield 1
        raise RuntimeError("bad sample")

    got = []
    with pytest.raises(RuntimeError, match="bad sample"):
        for b in prefetched(batches()):
            got.append(b)
    assert got == [1]
    early = prefetched(iter(range(100)), depth=1)
    assert next(early) == 0
    early.close()  # the consumer stops early: the thread ends, nothing hangs


def test_nnunet2d_recipe_trains_a_deeply_supervised_dynunet(caches):
    from cineaug.benchmark import PROTOCOLS, build_model, predict

    tiny = PROTOCOLS["nnunet2d"].replace(size=SIZE, steps=3, batch_size=4, channels=(4, 8, 16), threads=1)
    model = build_model(tiny).train()
    heads = model(torch.zeros(2, 1, SIZE, SIZE))
    assert heads.shape == (2, 2, 4, SIZE, SIZE)  # main output + one deep-supervision head, full size
    samples = [CycleDataset(caches[0])[i] for i in range(2)]
    trained, _ = train_model(samples, training_transform(arm_spec("nnunet")), tiny, 0)
    assert isinstance(trained, type(model)) and trained.training is False
    frames = scored_frames(samples)
    assert predict(trained, frames.image).shape == frames.label.shape
    opt = torch.optim.SGD  # the recipe's optimiser
    from cineaug.benchmark import build_optimizer

    assert isinstance(build_optimizer(tiny, trained), opt)
    with pytest.raises(ValueError, match="unknown network 'vnet'"):
        tiny.replace(network="vnet")
    with pytest.raises(ValueError, match="unknown scoring"):
        tiny.replace(scoring="slices")


def test_bf16_protocol_trains_under_autocast_with_fp32_weights(caches):
    samples = [CycleDataset(caches[0])[i] for i in range(2)]
    tiny = Protocol(size=SIZE, steps=2, batch_size=4, channels=(4, 8), threads=1)
    trained = {
        precision: train_model(
            samples, training_transform(arm_spec("none")), tiny.replace(precision=precision), 0
        )[0]
        for precision in ("fp32", "bf16")
    }
    assert all(p.dtype == torch.float32 and p.isfinite().all() for p in trained["bf16"].parameters())
    differs = [
        not torch.equal(p, q) for p, q in zip(trained["fp32"].parameters(), trained["bf16"].parameters())
    ]
    assert any(differs)  # the same seed and batches: only the arithmetic differs
    fp32_again, _ = train_model(samples, training_transform(arm_spec("none")), tiny, 0)
    assert all(torch.equal(p, q) for p, q in zip(trained["fp32"].parameters(), fp32_again.parameters()))
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        tiny.replace(precision="fp16")


def test_a_bf16_run_records_its_precision_and_the_report_says_so(caches, tmp_path):
    bf16 = PROTOCOL.replace(steps=2, precision="bf16")
    out = run_benchmark(
        caches[0], caches[1], ["none"], [1], [0], tmp_path / "b", progress=False, protocol=bf16
    )
    (row,) = read_results(out)
    assert row["precision"] == "bf16" and 0 <= row["dice_mean"] <= 1
    assert "2 steps of 8 frames (bf16 autocast)" in (out / "report.md").read_text()


def test_cli_benchmark_protocols(caches, tmp_path):
    from typer.testing import CliRunner

    from cineaug.benchmark import cli

    args = [
        "benchmark",
        "--data",
        str(caches[0]),
        "--test-data",
        str(caches[1]),
        "--out",
        str(tmp_path / "b"),
    ]
    args += [
        "--arms",
        "none",
        "--sizes",
        "1",
        "--seeds",
        "0",
        "--steps",
        "2",
        "--model",
        "none",
        "--no-progress",
    ]
    bad = CliRunner().invoke(cli.app, [*args, "--protocol", "fast"])
    assert bad.exit_code == 2 and "quick, field, nnunet2d" in bad.output
    no_native = CliRunner().invoke(
        cli.app, [*args, "--protocol", "field"]
    )  # test cache without native labels
    assert no_native.exit_code == 1 and "--crop image" in no_native.output


def test_the_report_reads_per_volume_scores_only_where_every_run_has_them():
    from cineaug.benchmark import headline_rows

    frame = {"arm": "nnunet", "size": 2, "seed": 0, "dice_mean": 0.7, "dice_by_subject": {"p": 0.7}}
    volume = {**frame, "seed": 1, "volume_dice_mean": 0.8, "volume_dice_by_subject": {"p": 0.8}}
    rows, unit = headline_rows([volume])
    assert unit.startswith("per 3D volume") and rows[0]["dice_mean"] == 0.8
    assert rows[0]["dice_by_subject"] == {"p": 0.8} and rows[0]["frame_dice_mean"] == 0.7
    rows, unit = headline_rows([frame, volume])
    assert unit == "per frame (1 of 2 runs lack per-volume scores)" and rows[1]["dice_mean"] == 0.7
    assert headline_rows([frame])[1] == "per frame"
