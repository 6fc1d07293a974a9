"""Domain randomisation (issue #13): tissue maps, random rendering, own-label and simulator sources, arms."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import disk_cycle, key_frame_cycle

from cineaug.benchmark.arms import (
    ARMS,
    ArmSources,
    ArmSpec,
    added_transform,
    arm_spec,
    needs_renderer,
    share_schedule,
    training_transform,
)
from cineaug.benchmark.segmentation import Protocol, train_model
from cineaug.data import cycle_to_sample
from cineaug.prepare import write_simulated_dataset
from cineaug.tissues import N_HEART_CLASSES
from cineaug.transforms import (
    RandCycleAppearance,
    SyntheticBank,
    SyntheticCycleAugmenterd,
    start_share,
    tissue_map,
)
from cineaug.types import LV, MYO, LabelSource


@pytest.fixture(scope="module")
def sim_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_simulated_dataset(
        tmp_path_factory.mktemp("sim") / "bank", n=3, seed=5, size=32, workers=1, progress=False
    )


def _ramp_cycle() -> tuple[np.ndarray, np.ndarray]:
    """A [3,32,32] cycle: a background ramp left to right, an LV disk, one frame never acquired."""
    image = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (3, 32, 1))
    label = np.zeros((3, 32, 32), np.uint8)
    rr, cc = np.mgrid[:32, :32]
    label[:, np.hypot(rr - 16, cc - 16) < 5] = LV
    image[2] = -1.0  # a constant frame: not acquired
    return image, label


def test_tissue_map_keeps_heart_labels_and_splits_the_background_by_brightness() -> None:
    image, label = _ramp_cycle()
    tissue = tissue_map(image, label, n_clusters=4)
    assert np.array_equal(tissue[label > 0], label[label > 0].astype(np.int64))
    background = tissue[0][label[0] == 0]
    assert set(np.unique(background)) == set(range(N_HEART_CLASSES, N_HEART_CLASSES + 4))
    row = tissue[0, 2]  # far from the disk: the tissue index grows with the ramp
    assert np.all(np.diff(row) >= 0) and row[0] == N_HEART_CLASSES and row[-1] == N_HEART_CLASSES + 3
    # the never-acquired frame did not move the quantiles: frames 0 and 1 split identically
    assert np.array_equal(tissue[0], tissue[1])
    assert np.array_equal(tissue_map(image, label, n_clusters=0), label.astype(np.int64))


def test_background_tissues_stay_put_over_frames_despite_noise() -> None:
    rng = np.random.default_rng(0)
    ramp = np.tile(np.linspace(-1, 1, 32, dtype=np.float32), (32, 1))  # [H,W] brightness classes
    image = ramp + rng.normal(0, 0.2, (6, 32, 32)).astype(np.float32)  # independent noise per frame
    label = np.zeros((6, 32, 32), np.uint8)
    for t in range(6):
        label[t, 10 : 14 + t, 10:20] = LV  # only the heart moves
    tissue = tissue_map(image, label, n_clusters=4)
    still = (label == 0).all(0)  # background in every frame
    assert (tissue[:, still] == tissue[0, still]).all()  # per-frame noise flips no pixel's tissue
    assert len(np.unique(tissue[0, still])) == 4


def test_rendering_is_seeded_bounded_and_shared_by_the_frames_of_a_cycle() -> None:
    cycle, full = disk_cycle(t=4, size=32, labeled=(0,))
    tissue = tissue_map(cycle.image, full, n_clusters=2)
    a = RandCycleAppearance().set_random_state(3)(tissue)
    b = RandCycleAppearance().set_random_state(3)(tissue)
    c = RandCycleAppearance().set_random_state(4)(tissue)
    assert a.shape == (4, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    # no noise, blur or bias: every pixel of a tissue has one value, the same in every frame
    clean = RandCycleAppearance(
        std_range=(0, 0), blur_sigma=0, lowres_prob=0, bias_prob=0, gamma=(1, 1), noise_std=0
    )
    out = clean.set_random_state(0)(np.repeat(tissue[:1], 4, axis=0)).numpy()
    for k in np.unique(tissue[0]):
        values = out[:, tissue[0] == k]
        assert np.ptp(values) < 1e-5


def test_bright_blood_orders_the_means_as_bssfp() -> None:
    cycle, full = disk_cycle(t=1, size=32, labeled=(0,))
    clean = RandCycleAppearance(
        std_range=(0, 0),
        bright_blood_prob=1.0,
        blur_sigma=0,
        lowres_prob=0,
        bias_prob=0,
        gamma=(1, 1),
        noise_std=0,
    )
    for seed in range(10):
        out = clean.set_random_state(seed)(full.astype(np.int64)).numpy()
        assert out[full == LV].mean() >= out[full == MYO].mean()


def test_own_labels_deform_the_sample_and_keep_its_frames() -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, ed=3, es=13, size=48))
    aug = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, own_labels=True, appearance="gmm")
    out = aug.set_random_state(0)(sample)
    assert bool(out["synthetic"]) and out["source"] == "own-labels"
    assert torch.equal(out["labeled"], sample["labeled"]) and torch.equal(out["observed"], sample["observed"])
    expected = torch.where(sample["labeled"], int(LabelSource.GENERATED), int(LabelSource.NONE))
    assert torch.equal(out["label_source"].long(), expected)
    assert set(out["label"].unique().tolist()) <= {0, MYO, LV}
    assert not torch.equal(out["label"], sample["label"])  # deformed
    lv_before = int((sample["label"][3] == LV).sum())
    assert 0.5 * lv_before < int((out["label"][3] == LV).sum()) < 1.5 * lv_before
    again = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, own_labels=True, appearance="gmm")
    assert torch.equal(again.set_random_state(0)(sample)["image"], out["image"])


def test_own_labels_refuse_a_second_source(sim_bank: Path) -> None:
    with pytest.raises(ValueError, match="own_labels"):
        SyntheticCycleAugmenterd(keys=("image", "label"), own_labels=True, bank=sim_bank)
    with pytest.raises(ValueError, match="appearance"):
        SyntheticCycleAugmenterd(keys=("image", "label"), bank=sim_bank, appearance="texture")


def test_simulator_cycles_rendered_at_random_keep_their_labels(sim_bank: Path) -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    plain = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, bank=sim_bank).set_random_state(1)
    gmm = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, bank=sim_bank, appearance="gmm")
    a, b = plain(sample), gmm.set_random_state(1)(sample)
    assert torch.equal(a["label"], b["label"])  # the same draws from the bank
    assert not torch.allclose(a["image"], b["image"])  # a new look
    assert bool(b["labeled"].all()) and set(b["label"].unique().tolist()) == {0, 1, 2, 3}


def test_a_banks_tissue_maps_are_computed_once_and_paint_as_when_computed_afresh(
    sim_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cycle = cycle_to_sample(key_frame_cycle(t=20, size=32))
    frame = {"image": cycle["image"][:1], "label": cycle["label"][:1]}

    def draws(appearance: str, sample: dict, n: int) -> tuple[list[torch.Tensor], SyntheticCycleAugmenterd]:
        aug = SyntheticCycleAugmenterd(
            keys=("image", "label"), prob=1.0, bank=sim_bank, appearance=appearance
        )
        aug.set_random_state(3)
        return [aug(sample)["image"] for _ in range(n)], aug

    cycles = len(SyntheticBank(sim_bank))
    cases = (
        ("gmm-bssfp", frame, 60, cycles * 20),
        ("jitter", frame, 60, cycles * 20),
        ("gmm", cycle, 8, cycles),
    )
    for appearance, sample, n, most in cases:  # single frames, then whole cycles
        cached, aug = draws(appearance, sample, n)
        entries = len(aug.augmenter._tissue_cache)  # one per (cycle, frame or whole cycle) drawn
        assert 0 < entries < n and entries <= most
        assert not pickle.loads(pickle.dumps(aug.augmenter))._tissue_cache  # workers compute their own
        monkeypatch.setattr("cineaug.transforms.synthetic.MAX_CACHED_TISSUE_BYTES", 0)
        afresh, aug = draws(appearance, sample, n)
        assert not aug.augmenter._tissue_cache
        assert all(torch.equal(a, b) for a, b in zip(cached, afresh)), appearance
        monkeypatch.undo()


def test_arm_names_parse_into_label_source_appearance_and_share() -> None:
    assert arm_spec("nnunet") == ArmSpec("nnunet")
    assert arm_spec("synthetic+nnunet") == ArmSpec("nnunet", 0.25, "generator", "source")  # the default share
    assert arm_spec("own-gmm-only") == ArmSpec("none", 1.0, "own", "gmm")
    assert arm_spec("sim-gmm+affine@0.1") == ArmSpec("affine", 0.1, "simulator", "gmm")
    assert arm_spec("own-gmm+nnunet@+0.25") == ArmSpec("nnunet", 0.0, "own", "gmm", added=0.25)
    assert arm_spec("sim-gmm+nnunet@0.5~") == ArmSpec("nnunet", 0.5, "simulator", "gmm", anneal=True)
    assert arm_spec("own-gmm+nnunet@auto~") == ArmSpec("nnunet", 0.5, "own", "gmm", anneal=True, by_size=True)
    assert arm_spec("sim-bssfp+nnunet@0.5~") == ArmSpec("nnunet", 0.5, "simulator", "gmm-bssfp", anneal=True)
    assert (
        training_transform(arm_spec("own-bssfp-only")).transforms[1].augmenter.render.bright_blood_prob == 1.0
    )
    for bad, message in [
        ("sim-gmm+nnunet@+0.25~", "cannot be annealed"),
        ("texture+nnunet", "unknown arm"),
        ("gmm+nnunet@1.5", r"\(0, 1\]"),
        ("gmm+nnunet@lots", "number"),
        ("nnunet@0.2", "no synthetic share"),
        ("gmm-only@0.2", "no @share"),
    ]:
        with pytest.raises(ValueError, match=message):
            arm_spec(bad)
    assert all(arm_spec(a).describe() for a in ARMS)  # every named arm parses and says what it does


def test_every_arm_yields_one_augmented_frame(sim_bank: Path) -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    with pytest.raises(ValueError, match="--sim-bank"):
        training_transform(arm_spec("sim-gmm+nnunet"))
    for arm in ("nnunet", "sim+nnunet@1", "sim-gmm-only", "own-gmm+nnunet@1"):
        tf = training_transform(arm_spec(arm), ArmSources(sim_bank=sim_bank))
        tf.set_random_state(0)
        out = tf(sample)
        assert out["image"].shape == (1, 32, 32) and out["label"].shape == (1, 32, 32), arm
        assert bool(out.get("synthetic", False)) == (arm_spec(arm).share == 1.0), arm


def test_added_arms_keep_every_real_sample_and_add_synthetic_ones(sim_bank: Path) -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    assert added_transform(arm_spec("sim-gmm+nnunet@0.25"), ArmSources(sim_bank=sim_bank)) is None
    added = arm_spec("sim-gmm+nnunet@+0.25")
    real = training_transform(added, ArmSources(sim_bank=sim_bank))
    extra = added_transform(added, ArmSources(sim_bank=sim_bank))
    real.set_random_state(0), extra.set_random_state(0)
    assert not any(bool(real(sample).get("synthetic", False)) for _ in range(10))
    assert all(bool(extra(sample)["synthetic"]) for _ in range(10))
    seen = []

    def counting(tf):
        return lambda d: seen.append(tf is extra) or tf(d)

    protocol = Protocol(steps=2, batch_size=4, channels=(4, 8))
    train_model([sample], counting(real), protocol, 0, added=counting(extra), n_added=2)
    assert seen.count(False) == 8 and seen.count(True) == 4  # 2 steps x (4 real + 2 added)


def test_an_annealed_share_falls_to_zero_over_training(sim_bank: Path) -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    assert share_schedule(arm_spec("sim-gmm+nnunet@0.5"), training_transform(arm_spec("nnunet")), 10) is None
    annealed = arm_spec("sim-gmm+nnunet@0.5~")
    tf = training_transform(annealed, ArmSources(sim_bank=sim_bank))
    hook = share_schedule(annealed, tf, steps=40)
    drawn = []

    def recording(d):
        out = tf(d)
        drawn.append(bool(out.get("synthetic", False)))
        return out

    protocol = Protocol(steps=40, batch_size=4, channels=(4, 8))
    train_model([sample], recording, protocol, 0, on_step=hook)
    first, last = sum(drawn[:80]), sum(drawn[80:])  # steps 0-19 (share 0.5 -> 0.25), 20-39 (0.25 -> 0)
    assert first > last and first >= 20 and last <= 20, (first, last)
    assert tf.transforms[1].prob == pytest.approx(0.5 / 40)  # set for the last step
    for size, start in ((1, 0.5), (2, 0.5), (5, 0.2), (20, 0.05)):  # @auto~: the start falls with the size
        assert arm_spec("sim-gmm+nnunet@auto~").start(size) == start
        assert arm_spec("sim-gmm+nnunet@0.5~").start(size) == 0.5
        share_schedule(arm_spec("sim-gmm+nnunet@auto~"), tf, steps=40, n_subjects=size)(20)
        assert tf.transforms[1].prob == pytest.approx(start / 2)
    with pytest.raises(ValueError, match=">= 1"):
        start_share(0)


def test_share_schedule_sets_prob_per_step_and_drives_a_monai_trainer(sim_bank: Path) -> None:
    from ignite.engine import Events
    from monai.engines import SupervisedTrainer

    from cineaug import SyntheticShareSchedule

    aug = SyntheticCycleAugmenterd(keys=("image", "label"), bank=sim_bank, appearance="gmm")
    schedule = SyntheticShareSchedule([aug], start=0.5, steps=100)
    assert schedule(0) == 0.5 and schedule(50) == pytest.approx(0.25) and aug.prob == pytest.approx(0.25)
    assert schedule(100) == 0.0 and schedule(500) == 0.0  # held after the last step
    for bad in (dict(start=1.5), dict(steps=0)):
        with pytest.raises(ValueError):
            SyntheticShareSchedule([aug], **bad)
    net = torch.nn.Conv2d(1, 4, 1)
    data = [{"image": torch.zeros(1, 8, 8), "label": torch.zeros(1, 8, 8, dtype=torch.long)}] * 4
    trainer = SupervisedTrainer(
        device=torch.device("cpu"), max_epochs=2, train_data_loader=torch.utils.data.DataLoader(data, 2),
        network=net, optimizer=torch.optim.SGD(net.parameters(), 0.1),
        loss_function=lambda y, t: torch.nn.functional.cross_entropy(y, t[:, 0]),
    )  # fmt: skip
    seen = []
    auto = SyntheticShareSchedule([aug], start=0.4).attach(trainer)
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: seen.append(aug.prob))
    trainer.run()
    assert auto.steps == 4 and seen == pytest.approx([0.4, 0.3, 0.2, 0.1])
    by_size = SyntheticShareSchedule.for_subjects([aug], n_subjects=10, steps=10)
    assert (by_size.start, by_size.end, by_size(5)) == (0.1, 0.0, pytest.approx(0.05))


def test_texture_jitter_moves_tissue_contrast_and_keeps_the_texture_inside() -> None:
    from cineaug.transforms import RandTextureJitter

    tissue = np.zeros((2, 32, 32), np.int64)
    tissue[:, 8:24, 8:24] = LV
    tissue[:, 12:20, 12:20] = MYO
    texture = np.sin(np.arange(32) / 2.0)[None, None, :] * np.ones((2, 32, 1))  # stripes in every tissue
    image = torch.from_numpy(np.clip(0.2 * texture + np.array([-0.5, 0, 0.1, 0.6])[tissue], -1, 1)).float()
    jitter = RandTextureJitter(blur_sigma=0.0, lowres_prob=0.0, bias_prob=0.0, gamma=(1, 1), noise_std=0.0)
    outs = [jitter.set_random_state(s)(tissue, image) for s in range(12)]
    for out in outs:
        assert out.shape == image.shape and float(out.min()) >= -1 and float(out.max()) <= 1
        for k in (0, MYO, LV):  # inside each tissue the stripes survive (a linear map of the input)
            inside = tissue == k
            r = np.corrcoef(out.numpy()[inside], image.numpy()[inside])[0, 1]
            assert r > 0.99, (k, r)
    lv_over_myo = [float(o[tissue == LV].mean() - o[tissue == MYO].mean()) for o in outs]
    assert np.std(lv_over_myo) > 0.05  # the contrast between tissues moves from draw to draw
    assert torch.equal(jitter.set_random_state(3)(tissue, image), outs[3])  # seeded
    with pytest.raises(ValueError, match="differ in shape"):
        jitter(tissue, image[:1])


def test_rendered_bank_randomised_around_its_texture(sim_bank: Path) -> None:
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    plain = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, bank=sim_bank).set_random_state(1)
    jitter = SyntheticCycleAugmenterd(keys=("image", "label"), prob=1.0, bank=sim_bank, appearance="jitter")
    a, b = plain(sample), jitter.set_random_state(1)(sample)
    assert torch.equal(a["label"], b["label"]) and not torch.allclose(a["image"], b["image"])
    heart = a["label"] > 0
    assert np.corrcoef(a["image"][heart].numpy(), b["image"][heart].numpy())[0, 1] > 0.3  # still that image
    with pytest.raises(ValueError, match="own_labels"):
        SyntheticCycleAugmenterd(keys=("image", "label"), own_labels=True, appearance="jitter")
    spec = arm_spec("sim-render-rand+nnunet@auto~")
    assert (spec.labels, spec.appearance) == ("simulator", "renderer+jitter")
    with pytest.raises(ValueError, match="painted ahead"):
        training_transform(spec, ArmSources(sim_bank=sim_bank))
    tf = training_transform(spec, ArmSources(sim_bank=sim_bank, rendered_sim_bank=sim_bank))
    assert tf.transforms[1].augmenter.render.__class__.__name__ == "RandTextureJitter"
    from cineaug.benchmark.sources import BenchmarkSources
    from cineaug.models import LabelRenderer

    renderer = LabelRenderer(resolution=32, fmap_base=256, fmap_max=8, latent_dim=4)
    sources = BenchmarkSources(ArmSources(sim_bank=SyntheticBank(sim_bank), renderer=renderer))
    assert sources.runnable([spec]) == ([spec], [])  # the bank it paints per fold is not there yet


def test_render_mix_draws_either_look_at_even_odds_with_one_share(sim_bank: Path) -> None:
    from monai.transforms import OneOf

    from cineaug.transforms import RandTextureJitter

    spec = arm_spec("sim-render-mix+nnunet@auto~")
    assert (spec.labels, spec.appearance) == ("simulator", "renderer-mix") and needs_renderer(spec)
    with pytest.raises(ValueError, match="painted ahead"):
        training_transform(spec, ArmSources(sim_bank=sim_bank), augment="batched")
    rendered = SyntheticBank(sim_bank)  # stands in for the fold's painted bank
    sources = ArmSources(sim_bank=sim_bank, rendered_sim_bank=rendered)
    tf = training_transform(spec, sources, augment="batched")
    mix = tf.transforms[1]
    assert isinstance(mix, OneOf) and len(tf.transforms) == 2  # the nnunet baseline runs on batches
    parts = mix.transforms
    jitter, bssfp = (part.augmenter for part in parts)
    assert isinstance(jitter.render, RandTextureJitter) and jitter.pool is rendered
    assert type(bssfp.render) is RandCycleAppearance and bssfp.render.bright_blood_prob == 1.0
    assert bssfp.paint == "sample"  # painted here, not left to the batch stage
    hook = share_schedule(spec, tf, steps=100, n_subjects=2)
    hook(50)
    assert [part.prob for part in parts] == [0.25, 0.25]  # one share, set on both looks
    hook(0)
    tf.set_random_state(3)
    sample = cycle_to_sample(key_frame_cycle(t=20, size=32))
    used, replaced = [], 0
    for _ in range(200):
        jitter.drawn = bssfp.drawn = None
        out = tf(dict(sample))
        replaced += bool(out["synthetic"])
        used += [name for name, part in (("jitter", jitter), ("bssfp", bssfp)) if part.drawn is not None]
    assert replaced == len(used) and 70 <= replaced <= 130  # a share of 0.5 over 200 draws
    assert 0.3 <= used.count("jitter") / len(used) <= 0.7  # either look, even odds
    again = training_transform(spec, sources, augment="batched")
    share_schedule(spec, again, steps=100, n_subjects=2)(0)
    first, second = tf.set_random_state(9)(dict(sample)), again.set_random_state(9)(dict(sample))
    assert torch.equal(first["image"], second["image"])  # seeded
