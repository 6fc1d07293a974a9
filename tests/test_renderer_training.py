"""Training and using the label renderer (issue #14): real frames, the step, runs, banks, arms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cineaug import CacheWriter
from cineaug.benchmark import ArmSources, arm_spec, run_benchmark, training_transform
from cineaug.data import CycleDataset
from cineaug.errors import CineDataError
from cineaug.generate import write_rendered_bank
from cineaug.models import LabelRenderer
from cineaug.pretrained import load_pretrained
from cineaug.training import PRESETS, train
from cineaug.training.realframes import RealFrames
from cineaug.training.render_step import RenderTraining
from cineaug.training.schedule import schedule
from cineaug.transforms import RenderedAppearance, SyntheticBank, tissue_map
from tests.test_benchmark import PROTOCOL, disk_cycle

SIZE = 32


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Four subjects: three fully labelled 20-frame cycles and one key-frame cycle (2 frames)."""
    root = tmp_path_factory.mktemp("frames") / "cache"
    with CacheWriter(root, source="test") as w:
        for i in range(3):
            w.add(disk_cycle(f"s{i}", seed=i))
        w.add(disk_cycle("key", seed=9, sunnybrook=True))
    return root


def full_cache(root: Path, n: int) -> Path:
    """``n`` fully labelled 20-frame cycles (a label source, or real cines)."""
    with CacheWriter(root, source="test") as w:
        for i in range(n):
            w.add(disk_cycle(f"f{i}", seed=i))
    return root


def _tiny_cfg(**kw):
    base = dict(resolution=SIZE, fmap_base=128, fmap_max=8, latent_dim=8, spade_hidden=4, batch=4,
                start_res=16, stable_images=16, fade_images=16, total_images=64, tick_images=32,
                checkpoint_images=32, snapshot_images=64, metrics_images=64, metrics_n=8, n_samples=2,
                threads=1)  # fmt: skip
    return PRESETS["render64-small"].replace(**{**base, **kw})


def test_real_frames_keep_observed_labelled_frames_with_their_tissues(cache: Path) -> None:
    frames = RealFrames.from_cache(cache, SIZE, n_clusters=3)
    assert len(frames) == 3 * 20 + 2  # every frame of the full cycles, the two labelled key frames
    assert frames.images.shape == (62, SIZE, SIZE) and frames.n_tissues == 7
    assert int(frames.tissues.max()) < 7 and set(frames.subjects) == {"s0", "s1", "s2", "key"}
    ds = CycleDataset(cache)
    s = ds[0]
    expected = tissue_map(s["image"], s["label"], 3)
    assert np.array_equal(frames.tissues[:20].numpy(), expected)  # the cycle's own tissue map
    only = RealFrames.from_cache(cache, 16, n_clusters=0, subjects=("key",))
    assert len(only) == 2 and only.images.shape[-1] == 16 and only.n_tissues == 4
    with pytest.raises(CineDataError, match="nobody"):
        RealFrames.from_cache(cache, SIZE, subjects=("nobody",))


def test_metric_floor_frames_come_from_other_subjects(cache: Path) -> None:
    frames = RealFrames.from_cache(cache, SIZE)
    idx, floor = frames.metric_split(100, torch.Generator().manual_seed(0))
    scored = {frames.subjects[i] for i in idx.tolist()}
    others = {frames.subjects[i] for i in floor.tolist()}
    assert scored and others and not scored & others  # never the same subject's neighbouring frame
    assert len(floor) == len(idx) <= 100 and len(set(idx.tolist()) | set(floor.tolist())) == 2 * len(idx)
    again = frames.metric_split(100, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], idx) and torch.equal(again[1], floor)  # seeded
    one = RealFrames.from_cache(cache, SIZE, subjects=["s0"])
    a, b = one.metric_split(5, torch.Generator().manual_seed(0))
    assert len(a) == len(b) == 5 and not set(a.tolist()) & set(b.tolist())  # one subject: its frames split


def test_reals_and_fakes_are_pooled_and_faded_alike(cache: Path) -> None:
    cfg = _tiny_cfg()
    frames = RealFrames.from_cache(cache, SIZE, cfg.n_clusters)
    torch.manual_seed(0)
    training = RenderTraining(cfg, torch.device("cpu"))
    phase = schedule(cfg, 24)  # fading 32 px in
    assert phase.res == 32 and 0 < phase.alpha < 1
    img, pooled, full = frames.batch(torch.arange(4), phase.res, phase.alpha, torch.device("cpu"))
    assert img.shape == (4, 1, 32, 32) and pooled.shape == (4, 1, 8, 32, 32) and full.shape == (4, 8, 32, 32)
    training._tissues = full
    f_img, f_pooled, _ = training.generate(training.G, 4, phase)
    assert f_img.shape == img.shape and torch.equal(f_pooled, pooled)  # D sees the same maps
    stats = training.step((img, pooled, full), phase, 0)
    assert np.isfinite(stats["loss_d"]) and np.isfinite(stats["loss_g"])


def test_renderer_run_writes_snapshot_samples_metrics_and_fine_tunes_on_subjects(
    cache: Path, tmp_path: Path
) -> None:
    run = train(_tiny_cfg(), tmp_path / "run", data=cache, progress=False)
    options = json.loads((run / "options.json").read_text())
    assert options["frames"] == 62 and options["config"]["arch"] == "renderer"
    g = load_pretrained(run)
    assert isinstance(g, LabelRenderer) and g.n_tissues == 8
    assert (run / "samples-000064.gif").is_file()
    metrics = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines() if '"metrics"' in x]
    for key in ("fid", "fid_floor", "swd", "l1", "temporal_diff", "temporal_jitter"):
        assert np.isfinite(metrics[-1][key]), key
    assert metrics[-1]["l1"] < metrics[0]["l1"]  # a few steps already move renders towards the frames

    from typer.testing import CliRunner

    from cineaug.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["evaluate", str(run), "--data", str(cache), "--n", "8"])  # a renderer
    assert res.exit_code == 0, res.output
    assert "fid" in res.output and "temporal_jitter" in res.output and "l1" in res.output
    painted = tmp_path / "painted"
    res = runner.invoke(app, ["render", str(run), "--labels", str(full_cache(tmp_path / "full", 4)),
                              "--out", str(painted), "--no-progress"])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["evaluate", str(painted), "--data", str(tmp_path / "full"), "--n", "4"])
    assert res.exit_code == 0 and "temporal_diff" in res.output and "real floor" in res.output
    again = runner.invoke(app, ["render", str(run), "--labels", str(cache), "--out", str(painted)])
    assert again.exit_code == 1 and "already holds a bank" in again.output

    from cineaug.training import FoldRendererFinetune, finetune_renderer

    tuned = finetune_renderer(run, cache, ["key"], tmp_path / "tuned", images=16, threads=1)
    with pytest.raises(CineDataError, match="fine-tuned with other settings"):
        finetune_renderer(run, cache, ["key"], tmp_path / "tuned", images=32, threads=1)
    full = tmp_path / "sim"
    with CacheWriter(full, source="test") as w:
        w.add(disk_cycle("f0", seed=0))
    kw = dict(renderer=run, sim_bank=full, progress=False, protocol=PROTOCOL)
    tune = FoldRendererFinetune(str(run), str(cache), images=8, threads=PROTOCOL.threads)
    with pytest.raises(ValueError, match="trained on test subjects"):  # run saw every subject of cache
        run_benchmark(
            cache, None, ["sim-render-only"], [2], [0], tmp_path / "leak", renderer_finetune=tune, **kw
        )
    tune = FoldRendererFinetune(str(run), str(tmp_path / "full"), images=8, threads=PROTOCOL.threads)
    with pytest.warns(UserWarning, match="was trained on real data"):  # other subjects: allowed, said
        res = run_benchmark(
            tmp_path / "full",
            None,
            ["sim-render-only"],
            [2],
            [0],
            tmp_path / "b",
            renderer_finetune=tune,
            **kw,
        )
    fold = json.loads((res / "renderers" / "n2-s0" / "options.json").read_text())
    row = json.loads((res / "results.jsonl").read_text())
    assert fold["config"]["total_images"] == 8 and fold["config"]["subjects"] == row["subjects"]  # the fold's
    assert len(SyntheticBank(res / "rendered" / "n2-s0")) == 1
    assert isinstance(tuned, LabelRenderer)
    tuned_opts = json.loads((tmp_path / "tuned" / "options.json").read_text())
    assert tuned_opts["frames"] == 2 and tuned_opts["config"]["subjects"] == ["key"]
    assert not torch.equal(tuned.to_image["32"].weight, g.to_image["32"].weight)


def _renderer() -> LabelRenderer:
    torch.manual_seed(0)
    return LabelRenderer(
        resolution=SIZE, n_tissues=8, latent_dim=8, fmap_base=128, fmap_max=8, spade_hidden=4
    )


def test_rendered_appearance_is_seeded_steady_over_frames_and_checks_its_tissues() -> None:
    tissue = np.zeros((3, SIZE, SIZE), int)
    tissue[:, 8:20, 8:20] = 3
    tissue[2, 8:20, 8:24] = 2  # the last frame moves
    a, b = RenderedAppearance(_renderer(), seed=1), RenderedAppearance(_renderer(), seed=1)
    x, y = a(tissue), b(tissue)
    assert x.shape == (3, SIZE, SIZE) and torch.equal(x, y)  # same seed, same render
    assert torch.equal(x[0], x[1]) and not torch.equal(x[1], x[2])  # changes only where anatomy moves
    assert not torch.equal(a(tissue), x)  # next cycle, next latent
    with pytest.raises(ValueError, match="n_clusters=4"):
        a(np.full((1, SIZE, SIZE), 9))


def test_rendered_bank_keeps_the_source_labels_and_paints_new_images(cache: Path, tmp_path: Path) -> None:
    full = tmp_path / "full"
    with CacheWriter(full, source="test") as w:
        for i in range(3):
            w.add(disk_cycle(f"f{i}", seed=i))
    out = write_rendered_bank(_renderer(), full, tmp_path / "bank", progress=False)
    bank, src = SyntheticBank(out), CycleDataset(full)
    assert len(bank) == 3 and (out / "samples.gif").is_file()
    image, label = bank.read(1)
    assert torch.equal(label, src[1]["label"]) and not torch.allclose(image, src[1]["image"])
    assert write_rendered_bank(_renderer(), full, tmp_path / "bank", progress=False) == out  # same: kept
    other = _renderer()
    with torch.no_grad():
        next(other.parameters()).add_(0.1)
    with pytest.raises(CineDataError, match="rendered from other inputs"):
        write_rendered_bank(other, full, tmp_path / "bank", progress=False)
    with pytest.raises(CineDataError, match="fully labelled"):
        write_rendered_bank(_renderer(), cache, tmp_path / "bank2", progress=False)  # key frames only


def test_render_arms_parse_need_a_renderer_and_run(cache: Path, tmp_path: Path) -> None:
    assert arm_spec("sim-render+nnunet@0.1").appearance == "renderer"
    assert arm_spec("own-render-only").labels == "own"
    with pytest.raises(ValueError, match="--renderer"):
        training_transform(arm_spec("own-render+nnunet"))
    tf = training_transform(arm_spec("own-render-only"), ArmSources(renderer=_renderer()))
    tf.set_random_state(0)
    out = tf(CycleDataset(cache)[0])
    assert out["synthetic"] and out["image"].shape == (1, SIZE, SIZE)
    full = tmp_path / "sim"
    with CacheWriter(full, source="test") as w:
        for i in range(2):
            w.add(disk_cycle(f"f{i}", seed=i))
    arms = ["none", "own-render-only", "sim-render-only"]
    res = run_benchmark(cache, None, arms, [2], [0], tmp_path / "b", renderer=_renderer(), sim_bank=full,
                        progress=False, protocol=PROTOCOL)  # fmt: skip
    rows = [json.loads(x) for x in (res / "results.jsonl").read_text().splitlines()]
    assert [r["arm"] for r in rows] == arms
    assert len(SyntheticBank(res / "rendered" / "shared")) == 2  # sim-render drew from the rendered bank


def test_a_model_folder_with_its_discriminator_fine_tunes_like_a_run(cache: Path, tmp_path: Path) -> None:
    from cineaug.generate import package_model
    from cineaug.training.finetune import export_discriminator, finetune_config

    run = train(_tiny_cfg(), tmp_path / "run", data=cache, progress=False)
    bank = write_rendered_bank(run, cache, tmp_path / "bank", n=2, progress=False)
    folder = package_model(
        run / "snapshot-000064", tmp_path / "model", "# card\n", samples_gif=bank / "samples.gif"
    )
    with pytest.raises(CineDataError, match="has no discriminator"):
        finetune_config(folder)
    export_discriminator(run, folder)
    cfg = finetune_config(folder, total_images=8, subjects=("s0",), checkpoint_images=8, snapshot_images=8)
    assert cfg.arch == "renderer" and cfg.start_res == SIZE
    tuned = train(cfg, tmp_path / "tuned", data=cache, progress=False)
    before, after = load_pretrained(folder), load_pretrained(tuned)
    assert not torch.equal(before.to_image["32"].weight, after.to_image["32"].weight)


def test_the_shipped_simulator_renderer_loads_paints_and_can_be_fine_tuned() -> None:
    from cineaug.training.finetune import finetune_config

    g = load_pretrained("render-sim-64")  # manifest verified
    assert isinstance(g, LabelRenderer) and g.resolution == 64 and g.n_tissues == 8
    tissue = np.full((2, 64, 64), 5)
    tissue[:, 20:40, 20:40] = 3
    image = RenderedAppearance(g, seed=0)(tissue)
    assert image.shape == (2, 64, 64) and torch.equal(image[0], image[1]) and float(image.std()) > 0.05
    cfg = finetune_config("render-sim-64", total_images=100)
    assert cfg.arch == "renderer" and cfg.start_res == 64 and cfg.init_from == "render-sim-64"


def test_a_renderer_grows_from_a_lower_resolution_source(cache: Path, tmp_path: Path) -> None:
    from cineaug.training.finetune import finetune_config, load_initial_weights, source_state
    from cineaug.training.step import build_networks

    small = train(_tiny_cfg(resolution=16, start_res=8), tmp_path / "r16", data=cache, progress=False)
    cfg = finetune_config(small, resolution=SIZE, stable_images=0, fade_images=8, total_images=16)
    assert cfg.start_res == 16 and schedule(cfg, 0).res == SIZE and schedule(cfg, 4).alpha == 0.5
    g, d = build_networks(cfg, (), ())
    ema = build_networks(cfg, (), ())[0]
    fresh = {k: v.clone() for k, v in ema.state_dict().items()}
    load_initial_weights(source_state(small), {"G": g, "G_ema": ema, "D": d})
    source = load_pretrained(small).state_dict()  # the source's EMA generator
    for key, value in ema.state_dict().items():  # lower blocks from the source, the 32 px block fresh
        assert torch.equal(value, source[key] if key in source else fresh[key]), key
    assert any(key.startswith("blocks.32.") for key in fresh) and not any(
        k.startswith("blocks.32.") for k in source
    )
    from cineaug.training.fold_renderer import finetune_renderer, grown_to

    grown = finetune_renderer(small, cache, ["s0", "s1"], tmp_path / "fold", images=16, threads=1)
    assert grown.resolution == SIZE  # a fold's renderer grows to the fold's crops
    made = json.loads((tmp_path / "fold" / "options.json").read_text())["config"]
    assert (made["start_res"], made["stable_images"], made["fade_images"]) == (16, 0, 8)
    source = finetune_config(small, total_images=16)
    assert dict(made["lr_by_res"])[SIZE] == dict(source.lr_by_res).get(16, source.lr)
    assert grown_to(source, 16) == source
    for size in (8, 48, 64):  # smaller, not a doubling, two doublings
        with pytest.raises(CineDataError, match="grows by one doubling"):
            grown_to(source, size)
    shipped = grown_to(PRESETS["render64-small"], 128)  # render-sim-64's preset on the field's crops
    assert (shipped.start_res, shipped.stable_images, shipped.fade_images) == (
        64,
        0,
        shipped.total_images // 2,
    )
    assert dict(shipped.lr_by_res) == {64: 0.001, 128: 0.001}
    options = json.loads((tmp_path / "fold" / "options.json").read_text())
    options["config"]["resolution"] = 16  # a fold renderer fine-tuned before growth existed
    (tmp_path / "fold" / "options.json").write_text(json.dumps(options))
    with pytest.raises(CineDataError, match="holds a 16 px renderer, this fine-tuning trains one at 32"):
        finetune_renderer(small, cache, ["s0", "s1"], tmp_path / "fold", images=16, threads=1)
    kept = finetune_renderer(small, cache, ["s0", "s1"], tmp_path / "kept", images=16, threads=1, grow=False)
    assert kept.resolution == 16  # fine-tuned on the crops reduced to its size
    assert json.loads((tmp_path / "kept" / "finetune.json").read_text())["grow"] is False
    bank = write_rendered_bank(kept, full_cache(tmp_path / "full", 2), tmp_path / "bank", progress=False)
    painted = CycleDataset(bank)[0]
    assert painted["image"].shape[-2:] == painted["label"].shape[-2:] == (SIZE, SIZE)  # upsampled
    with pytest.raises(CineDataError, match="fine-tuned with other settings"):
        finetune_renderer(small, cache, ["s0", "s1"], tmp_path / "kept", images=16, threads=1)
    with pytest.raises(CineDataError, match="do not match"):  # another width is no growth
        load_initial_weights(source_state(small), {"G": build_networks(cfg.replace(fmap_max=4), (), ())[0]})
