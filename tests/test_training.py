"""Schedule, config, augmentation, losses, real data handling and the sample/evaluate commands."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_training_e2e import write_disk_cache
from typer.testing import CliRunner

from cineaug.cache import CacheWriter
from cineaug.cli import app
from cineaug.data import CycleDataset
from cineaug.models import ProGANGenerator, save_pretrained
from cineaug.training import PRESETS, TrainConfig, schedule
from cineaug.training.augment import P_MAX, AdaptiveStrength, augment
from cineaug.training.config import parse_override
from cineaug.training.losses import d_adversarial, gradient_penalty, mode_seeking_ratio, r1_penalty
from cineaug.training.realdata import RealCycles, merge_unannotated
from cineaug.training.schedule import images_until_full_resolution
from cineaug.types import LV, MYO, CineCycle

torch.set_num_threads(1)


def test_schedule_is_a_pure_function_of_images_seen() -> None:
    cfg = TrainConfig(resolution=64, stable_images=1000, fade_images=500, batch_by_res=((64, 8),),
                      lr_by_res=((32, 0.002),))  # fmt: skip
    expect = {0: (4, 1.0), 999: (4, 1.0), 1000: (8, 0.0), 1250: (8, 0.5), 1500: (8, 1.0), 2500: (16, 0.0),
              4375: (32, 0.75), 5500: (64, 0.0), 6000: (64, 1.0), 10**7: (64, 1.0)}  # fmt: skip
    for seen, (res, alpha) in expect.items():
        p = schedule(cfg, seen)
        assert (p.res, p.alpha) == (res, alpha), seen
    assert schedule(cfg, 6000).batch == 8 and schedule(cfg, 100).batch == 32
    assert schedule(cfg, 4375).lr == 0.002 and schedule(cfg, 0).lr == 0.001
    assert images_until_full_resolution(cfg) == 6000
    dc = PRESETS["dcgan64"]
    assert (schedule(dc, 0).res, schedule(dc, 0).alpha) == (64, 1.0)


def test_presets_and_overrides() -> None:
    assert {"dcgan64", "progan64", "progan128", "progan64-small"} <= set(PRESETS)
    cfg = parse_override(PRESETS["progan64-small"], "batch_by_res=[[64, 4]]")
    assert cfg.batch_by_res == ((64, 4),)
    assert parse_override(cfg, "precision=fp32").precision == "fp32"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown config field"):
        parse_override(cfg, "nope=1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.batch = 3  # type: ignore[misc]


def _frame_coded_cycle(n: int = 6, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Image value (t+1)/20 on a per-frame blob and -1 elsewhere; the label is 3 exactly on the blob."""
    g = torch.Generator().manual_seed(0)
    lab = torch.zeros(n, 20, size, size, dtype=torch.long)
    for i in range(n):
        for t in range(20):
            y, x = torch.randint(2, size - 7, (2,), generator=g).tolist()
            lab[i, t, y : y + 3 + t % 4, x : x + 4] = LV
    frame = (torch.arange(20, dtype=torch.float32) + 1).view(1, 20, 1, 1) / 20
    img = torch.where(lab == LV, frame, torch.tensor(-1.0))
    return img, torch.nn.functional.one_hot(lab, 4).permute(0, 1, 4, 2, 3).float()


@pytest.mark.parametrize("ops", [("flip", "rot90", "translate"), ("affine",)])
def test_augment_keeps_image_and_label_aligned_and_frames_apart(ops: tuple[str, ...]) -> None:
    torch.manual_seed(0)
    img, probs = _frame_coded_cycle()
    a_img, a_probs = augment(img, probs, p=1.0, ops=ops)
    assert not torch.equal(a_img, img)  # something moved
    assert torch.allclose(a_probs.sum(2), torch.ones_like(a_img), atol=1e-5)  # still a distribution
    fg = a_probs[:, :, LV]  # [N,T,H,W] label weight of the blob
    # the image is an affine function of the label weight, frame by frame: (t+1)/20 * w + (-1) * (1 - w)
    frame = (torch.arange(20, dtype=torch.float32) + 1).view(1, 20, 1, 1) / 20
    assert torch.allclose(a_img, frame * fg - (1 - fg), atol=1e-4)
    if "affine" not in ops:  # integer ops: hard labels stay hard
        assert set(fg.unique().tolist()) <= {0.0, 1.0}


def test_intensity_ops_touch_the_image_only_and_keep_frames_consistent() -> None:
    torch.manual_seed(0)
    img, probs = _frame_coded_cycle()
    a_img, a_probs = augment(img, probs, p=1.0, ops=("brightness", "contrast"))
    assert torch.equal(a_probs, probs)
    # one affine intensity map per cycle: the background (-1) maps to one value in every frame
    bg = a_img[probs[:, :, 0] == 1].view(-1)
    per_cycle = a_img.masked_fill(probs[:, :, 0] != 1, float("nan"))
    assert torch.allclose(
        torch.nanmean(per_cycle.flatten(1), 1)[:, None], a_img[:, :, 0, 0].flatten(1)[:, :1]
    )
    assert bg.numel() > 0
    assert torch.equal(augment(img, probs, p=0.0)[0], img)


def test_adaptive_strength_moves_towards_target_and_is_clamped() -> None:
    ada = AdaptiveStrength(p=0.0, target=0.6, interval=2, speed_images=100)
    for _ in range(4):
        ada.accumulate(torch.ones(10))  # D certain on reals: overfitting
        ada.update(batch=10)
    assert ada.p == pytest.approx(0.4)
    for _ in range(200):
        ada.accumulate(torch.ones(10))
        ada.update(batch=10)
    assert ada.p == P_MAX
    for _ in range(400):
        ada.accumulate(-torch.ones(10))
        ada.update(batch=10)
    assert ada.p == 0.0
    restored = AdaptiveStrength(0.0, 0.6, 2, 100)
    restored.load_state(ada.state())
    assert restored.state() == ada.state()


def test_losses_on_a_linear_critic() -> None:
    w = torch.randn(20, 4, 8, 8)
    critic = lambda img, probs: (img * 3.0).flatten(1).sum(1) + (probs * w).flatten(1).sum(1)  # noqa: E731
    real = (torch.randn(2, 20, 8, 8), torch.rand(2, 20, 4, 8, 8))
    fake = (torch.randn(2, 20, 8, 8), torch.rand(2, 20, 4, 8, 8))
    grad_sq = 9.0 * 20 * 64 + w.square().sum()
    r1, logits = r1_penalty(critic, real)
    assert torch.allclose(r1, grad_sq.expand(2), rtol=1e-4)
    assert torch.allclose(logits, critic(*real))
    gp = gradient_penalty(critic, real, fake)
    assert torch.allclose(gp, (grad_sq.sqrt() - 1).square().expand(2), rtol=1e-4)
    wgan = d_adversarial("wgangp", torch.tensor([2.0]), torch.tensor([1.0]), drift=0.001)
    assert wgan.item() == pytest.approx(1.0 - 2.0 + 0.004)


def test_merge_unannotated_folds_missing_classes_into_background() -> None:
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4]).view(1, 1, 4, 1, 1)
    merged = merge_unannotated(probs, (MYO, LV))  # no RV annotated
    assert torch.allclose(merged.flatten(), torch.tensor([0.3, 0.0, 0.3, 0.4]))
    assert torch.equal(merge_unannotated(probs, (1, 2, 3)), probs)


def test_real_cycles_drop_partially_labelled_and_fade(tmp_path: Path) -> None:
    write_disk_cache(tmp_path / "c", n=4, size=8)
    ds = CycleDataset(tmp_path / "c")
    with CacheWriter(tmp_path / "p", source="test") as w:
        for i in range(len(ds)):
            c = ds.cycle(i)
            if i == 0:  # ED and ES only, as Sunnybrook
                keep = np.zeros(20, bool)
                keep[[0, 8]] = True
                c = CineCycle(c.image, np.where(keep[:, None, None], c.label, 0).astype(np.uint8), keep,
                              c.spacing, c.source, c.subject, pathology=c.pathology,
                              annotated_classes=c.annotated_classes)  # fmt: skip
            w.add(c)
    reals = RealCycles.from_cache(tmp_path / "p", 8)
    assert len(reals) == 3 and reals.dropped == 1
    assert reals.annotated == (MYO, LV) and reals.class_names == ("A", "B")
    assert len(RealCycles.from_cache(tmp_path / "p", 8, require_full_labels=False)) == 4
    img, probs, c = reals.batch(torch.tensor([0, 1]), res=4, alpha=0.5, device=torch.device("cpu"))
    assert img.shape == (2, 20, 4, 4) and probs.shape == (2, 20, 4, 4, 4)
    assert torch.allclose(probs.sum(2), torch.ones(2, 20, 4, 4))
    full, _, _ = reals.batch(torch.tensor([0]), res=8, alpha=1.0, device=torch.device("cpu"))
    assert torch.equal(full[0], reals.images[0])
    up16 = RealCycles.from_cache(tmp_path / "p", 16)
    assert up16.images.shape[-1] == 16 and up16.labels.dtype == torch.uint8


def test_sample_and_evaluate_commands(tmp_path: Path) -> None:
    cache = write_disk_cache(tmp_path / "cache", n=8, size=8)
    torch.manual_seed(0)
    g = ProGANGenerator(
        8, latent_dim=8, fmap_base=32, fmap_max=8, class_names=("A", "B"), annotated_classes=(2, 3)
    )
    save_pretrained(g.eval(), tmp_path / "run" / "snapshot-000010", extra={"spacing_mm": 2.0})
    runner = CliRunner()
    args = ["--n", "3", "--pathology", "B", "--no-progress", "--formats", "cache,gif,nifti"]
    res = runner.invoke(app, ["sample", str(tmp_path / "run"), *args, "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    out = CycleDataset(tmp_path / "s")  # the bank is a cache
    assert len(out) == 3 and {s["pathology"] for s in out} == {"B"}
    assert out[0]["image"].shape == (20, 8, 8) and bool(out[0]["labeled"].all())
    assert len(list((tmp_path / "s" / "nifti").glob("*_label.nii.gz"))) == 3
    assert (tmp_path / "s" / "samples.gif").is_file()
    res = runner.invoke(app, ["evaluate", str(tmp_path / "run"), "--data", str(cache), "--n", "8"])
    assert res.exit_code == 0, res.output
    assert "swd" in res.output and "real floor" in res.output
    one = runner.invoke(app, ["evaluate", str(tmp_path / "run"), "--data", str(cache), "--n", "8",
                              "--pathology", "B", "--out", str(tmp_path / "e.json")])  # fmt: skip
    assert one.exit_code == 0, one.output
    assert "fac_w1" in json.loads((tmp_path / "e.json").read_text())
    bad = runner.invoke(
        app, ["sample", str(tmp_path / "run"), "--pathology", "X", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 1 and "unknown to this model" in bad.output
    missing = runner.invoke(app, ["sample", str(tmp_path / "nothing"), "--out", str(tmp_path / "y")])
    assert missing.exit_code == 1 and "neither a shipped model name" in missing.output


@pytest.mark.parametrize(("arch", "loss"), [("dcgan", "ns"), ("progan", "wgangp"), ("progan", "ns_r1")])
def test_one_step_of_each_architecture_and_loss_updates_g_d_and_ema(arch: str, loss: str) -> None:
    from cineaug.training.schedule import Phase
    from cineaug.training.step import GANTraining

    cfg = TrainConfig(arch=arch, loss=loss, resolution=16, latent_dim=8, width=4, fmap_base=64, fmap_max=8,
                      precision="fp32", channels_last=False, augment_p=0.5, ema_images=10.0)  # fmt: skip
    torch.manual_seed(0)
    gan = GANTraining(cfg, torch.device("cpu"), class_names=("A", "B"), annotated=(MYO, LV),
                      class_freq=torch.tensor([1.0, 1.0]))  # fmt: skip
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in gan.modules().items()}
    lab = torch.randint(0, 4, (4, 20, 16, 16))
    probs = torch.nn.functional.one_hot(lab, 4).permute(0, 1, 4, 2, 3).float()  # [N,T,K,H,W]
    reals = (torch.rand(4, 20, 16, 16) * 2 - 1, probs, torch.tensor([0, 1, 0, 1]))
    stats = gan.step(reals, Phase(res=16, alpha=1.0, batch=4, lr=1e-3, lod=2), images_seen=100)
    assert all(np.isfinite(v) for v in stats.values())
    assert ("gp" in stats) == (loss == "wgangp") and ("r1" in stats) == (loss == "ns_r1")
    for name, module in gan.modules().items():
        changed = any(not torch.equal(a, b) for a, b in zip(before[name], module.parameters()))
        assert changed, name


def test_networks_come_from_the_registry_with_the_config_fields_they_take() -> None:
    from cineaug.training.step import build_networks, network_args

    small, dcgan = PRESETS["progan64-small"], PRESETS["dcgan64"]
    classes, annotated = ("A", "B"), (MYO, LV)
    assert network_args("ProGANGenerator", small, classes, annotated) == {
        "resolution": 64, "latent_dim": 64, "fmap_base": 1024, "fmap_max": 32,
        "class_names": classes, "annotated_classes": annotated,
    }  # fmt: skip
    assert network_args("ProGANDiscriminator", small, classes, annotated) == {
        "resolution": 64, "fmap_base": 1024, "fmap_max": 32, "n_classes": 2,
    }  # fmt: skip
    assert network_args("DCGANGenerator", dcgan, (), (1, 2, 3)) == {
        "resolution": 64, "latent_dim": 100, "width": 64, "class_names": (), "annotated_classes": (1, 2, 3),
    }  # fmt: skip
    d_args = network_args("DCGANDiscriminator", dcgan, (), (1, 2, 3))
    assert d_args == {"resolution": 64, "width": 64, "n_classes": 0}
    g, d = build_networks(small.replace(resolution=16, fmap_base=64, fmap_max=8), classes, annotated)
    assert (type(g).__name__, type(d).__name__) == ("ProGANGenerator", "ProGANDiscriminator")
    assert g.config["class_names"] == ["A", "B"] and g.config["resolution"] == 16
    assert d.config["n_classes"] == 2
    with pytest.raises(ValueError, match="unknown arch 'vae'; known: progan, dcgan"):
        build_networks(small.replace(arch="vae"))


def test_train_refuses_to_overwrite_a_run_without_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("options.json", "training-state-000016.json", "training-state-000016.safetensors"):
        (run / name).write_text("{}")
    res = CliRunner().invoke(app, ["train", "--preset", "progan64-small", "--simulate", "--out", str(run)])
    assert res.exit_code == 1 and "--resume" in res.output


def test_nifti_samples_read_back_with_the_project_convention(tmp_path):
    import numpy as np

    from cineaug.generate.sample import to_cine_cycles, write_nifti
    from cineaug.io import read_nifti

    image = np.linspace(-1, 1, 20 * 8 * 6, dtype=np.float32).reshape(1, 20, 8, 6)
    label = (np.arange(20 * 8 * 6).reshape(1, 20, 8, 6) % 4).astype(np.uint8)
    (cycle,) = to_cine_cycles(image, label, np.zeros(1, int), [], 2.5, "test")
    write_nifti(tmp_path, cycle)
    (back,) = read_nifti(
        tmp_path / f"{cycle.subject}_image.nii.gz", label_path=tmp_path / f"{cycle.subject}_label.nii.gz"
    )
    np.testing.assert_allclose(back.image, cycle.image, atol=1e-6)
    np.testing.assert_array_equal(back.label, cycle.label)


def test_mode_seeking_ratio_is_zero_for_a_collapsed_generator_and_scales_with_the_outputs() -> None:
    torch.manual_seed(0)
    z = torch.randn(8, 16)
    image, probs = torch.rand(8, 20, 8, 8), torch.softmax(torch.randn(8, 20, 4, 8, 8), dim=2)
    collapsed = mode_seeking_ratio(image[:1].expand(8, -1, -1, -1), probs[:1].expand(8, -1, -1, -1, -1), z)
    assert float(collapsed) == 0.0
    base = mode_seeking_ratio(image, probs, z)
    assert float(base) > 0
    assert torch.isclose(mode_seeking_ratio(image * 2, probs * 2, z), base * 2)
    assert torch.isclose(mode_seeking_ratio(image, probs, z * 2), base / 2)


def test_mode_seeking_step_pairs_fakes_of_one_class(tmp_path: Path) -> None:
    from cineaug.training.step import GANTraining

    cfg = PRESETS["progan64-small"].replace(resolution=8, start_res=8, mode_seeking=1.0, channels_last=False)
    gan = GANTraining(cfg, torch.device("cpu"), ("A", "B", "C"), (1, 2, 3), torch.ones(3))
    seen: list[torch.Tensor] = []
    real_generate = gan.generate
    gan.generate = lambda g, n, phase, c=None, z=None: seen.append(c) or real_generate(g, n, phase, c, z)
    reals = RealCycles.from_cache(write_disk_cache(tmp_path / "c"), 8).batch(torch.arange(8), 8, 1.0, "cpu")
    stats = gan.step((reals[0], reals[1], torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])), schedule(cfg, 0), 0)
    assert stats["mode_seeking"] > 0
    g_classes = seen[-1]  # the G step's fakes: pairs (i, i + 4) share the class
    assert torch.equal(g_classes[:4], g_classes[4:])
