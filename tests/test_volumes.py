"""Per-volume scores in the native grid: native labels kept by preparation, crops pasted back, 3D
Dice/HD95 per class, and the field protocol's rows (seconds, 1 thread)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cineaug import CacheWriter, CineCycle
from cineaug.benchmark import Protocol, read_results, run_benchmark
from cineaug.benchmark.volumes import Volume, score_volumes, volume_scores, volumes_of
from cineaug.cache import decode_cycle, encode_cycle
from cineaug.preprocess import paste_back, prepare_cycle

NATIVE = 48  # native side, px at 1 mm
CROP = 32  # prepared side, px


def raw_cycle(subject: str, slice_index: int, seed: int) -> CineCycle:
    """A raw key-frame slice (ED frame 0 and ES frame 10 of 20, 1 mm pixels): LV disk, ring, RV."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:NATIVE, :NATIVE]
    cy, cx = 24 + rng.uniform(-2, 2, 2)
    label = np.zeros((20, NATIVE, NATIVE), np.uint8)
    observed = np.zeros(20, bool)
    for t, r in ((0, 8.0), (10, 5.5)):
        d = np.hypot(yy - cy, xx - cx)
        label[t][np.hypot(yy - cy, xx - cx - r - 8) < r * 0.8] = 1
        label[t][d < r + 3] = 2
        label[t][d < r] = 3
        observed[t] = True
    image = np.array([50, 300, 120, 400], np.float32)[label] + rng.normal(0, 5, label.shape).astype(
        np.float32
    )
    image[~observed] = 0.0
    return CineCycle(
        image=image.astype(np.float32), label=label, labeled=observed.copy(), spacing=(1.0, 1.0),
        source="test", subject=subject, slice_index=slice_index, ed_frame=0, es_frame=10,
        slice_thickness=8.0, observed=observed,
    )  # fmt: skip


def prepared(subject: str, slice_index: int, seed: int, keep_native: bool = True) -> CineCycle:
    return prepare_cycle(
        raw_cycle(subject, slice_index, seed), size=CROP, fov_mm=40.0, keep_native=keep_native
    )


def test_preparation_keeps_native_labels_through_the_cache():
    raw = raw_cycle("p0", 0, 1)
    cycle = prepared("p0", 0, 1)
    assert cycle.extra["native_frames"] == [0, 10] and cycle.extra["native_shape"] == [NATIVE, NATIVE]
    np.testing.assert_array_equal(cycle.native_label, raw.label[[0, 10]])
    back = decode_cycle(encode_cycle(cycle), "mem")
    np.testing.assert_array_equal(back.native_label, cycle.native_label)
    assert back.extra["native_frames"] == [0, 10]
    assert prepared("p0", 0, 1, keep_native=False).native_label is None


def test_paste_back_inverts_the_crop():
    cycle = prepared("p0", 0, 1)
    center, mm = tuple(cycle.extra["crop_center_px"]), cycle.spacing[0]
    onehot = np.eye(4, dtype=np.float32)[cycle.label[[0, 10]]].transpose(0, 3, 1, 2)  # [2,4,32,32]
    back = paste_back(onehot, center, mm, (1.0, 1.0), (NATIVE, NATIVE))
    assert back.shape == (2, NATIVE, NATIVE) and back.dtype == np.uint8
    for k in range(2):
        for c in (1, 2, 3):
            truth, pred = cycle.native_label[k] == c, back[k] == c
            dice = 2 * (truth & pred).sum() / (truth.sum() + pred.sum())
            assert dice > 0.88, (k, c, dice)  # 1.25 mm crop and back: the 3 px ring loses a rim
    # same spacing and an integer centre: the paste-back is exact
    label = raw_cycle("p0", 0, 1).label[0]
    crop = label[8:40, 8:40]
    exact = paste_back(
        np.eye(4, dtype=np.float32)[crop].transpose(2, 0, 1)[None], (23.5, 23.5), 1.0, (1.0, 1.0), (48, 48)
    )
    np.testing.assert_array_equal(exact[0, 8:40, 8:40], crop)
    assert not exact[0, :8].any() and not exact[0, 40:].any()  # outside the crop: background


def _square_volume(shift: int) -> tuple[np.ndarray, Volume]:
    """A 4-slice volume whose LV is a 10x10 square; the prediction is the truth shifted by ``shift`` rows."""
    truth = np.zeros((4, 40, 40), np.uint8)
    truth[:, 10:20, 10:20] = 3
    truth[:, 25:35, 25:35] = 1
    pred = np.roll(truth, shift, axis=1)
    volume = Volume(
        subject="s", phase="ED", images=torch.zeros(4, 1, 8, 8), truth=truth, centers=[(0.0, 0.0)] * 4,
        crop_mm=1.0, native_spacing=(1.5, 1.5), slice_mm=10.0, annotated=torch.ones(4, dtype=torch.bool),
    )  # fmt: skip
    return pred, volume


def test_volume_scores_known_answers():
    pred, volume = _square_volume(0)
    dice, hd = volume_scores(pred, volume)
    np.testing.assert_allclose(dice[[0, 2]], 1.0)
    np.testing.assert_allclose(hd[[0, 2]], 0.0)
    assert np.isnan(dice[1]) and np.isnan(hd[1])  # no myocardium in the truth: not scored
    pred, volume = _square_volume(1)
    dice, hd = volume_scores(pred, volume)
    np.testing.assert_allclose(dice[[0, 2]], 0.9, atol=1e-6)  # 2*90/200
    np.testing.assert_allclose(hd[[0, 2]], 1.5, atol=1e-6)  # one row of 1.5 mm
    pred[pred == 1] = 0  # RV missed entirely: Dice 0, HD95 = the volume's diagonal
    dice, hd = volume_scores(pred, volume)
    assert dice[0] == 0.0 and hd[0] == pytest.approx(np.sqrt(40**2 + 60**2 + 60**2))


def test_volumes_group_slices_by_subject_and_phase():
    cycles = [prepared(f"p{i}", z, 10 * i + z) for i in range(2) for z in (2, 0, 1)]
    volumes = volumes_of(cycles)
    assert [(v.subject, v.phase, v.truth.shape) for v in volumes] == [
        ("p0", "ED", (3, NATIVE, NATIVE)), ("p0", "ES", (3, NATIVE, NATIVE)),
        ("p1", "ED", (3, NATIVE, NATIVE)), ("p1", "ES", (3, NATIVE, NATIVE)),
    ]  # fmt: skip
    by_slice = {c.slice_index: c for c in cycles if c.subject == "p0"}
    np.testing.assert_array_equal(volumes[0].truth[0], by_slice[0].native_label[0])  # slices in order
    assert volumes[0].slice_mm == 8.0
    with pytest.raises(ValueError, match="--crop image"):
        volumes_of([prepared("p0", 0, 1, keep_native=False)], where="cache X")


class Oracle(torch.nn.Module):
    """Logits that reproduce a fixed label map wherever the input matches one of its images."""

    def __init__(self, volumes: list[Volume], labels: list[np.ndarray]):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.table = [(v.images, torch.from_numpy(lab)) for v, lab in zip(volumes, labels)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for images, lab in self.table:
            if images.shape == x.shape and torch.equal(images, x):
                return torch.nn.functional.one_hot(lab.long(), 4).permute(0, 3, 1, 2).float() * 20
        raise AssertionError("unknown input")


def test_score_volumes_averages_phases_per_patient_then_patients():
    cycles = [prepared(f"p{i}", z, 10 * i + z) for i in range(2) for z in range(2)]
    volumes = volumes_of(cycles)
    slices = {
        v.subject: sorted((c for c in cycles if c.subject == v.subject), key=lambda c: c.slice_index)
        for v in volumes
    }
    crops = [np.stack([c.label[0 if v.phase == "ED" else 10] for c in slices[v.subject]]) for v in volumes]
    out = score_volumes(Oracle(volumes, crops), volumes)
    assert out["volume_count"] == 4 and set(out["volume_dice_by_subject"]) == {"p0", "p1"}
    assert (
        0.93 < out["volume_dice_mean"] <= 1.0 and out["volume_hd95_mean"] <= 1.5
    )  # the crop's resampling only
    per_patient = np.mean([out["volume_dice_by_subject"][s] for s in ("p0", "p1")])
    assert out["volume_dice_mean"] == pytest.approx(per_patient, abs=1e-6)
    assert {"volume_dice_ed_lv", "volume_dice_es_lv", "volume_hd95_es_myocardium"} <= set(out)
    ed_lv = [out["volume_scores"][s]["ED"]["dice_lv"] for s in ("p0", "p1")]
    assert out["volume_dice_ed_lv"] == pytest.approx(np.mean(ed_lv))
    wrong = [np.zeros_like(c) for c in crops]  # predicts nothing: Dice 0
    assert score_volumes(Oracle(volumes, wrong), volumes)["volume_dice_mean"] == 0.0


def _cache(root, cycles):
    with CacheWriter(root, source="test") as w:
        for c in cycles:
            w.add(c)
    return root


def test_benchmark_field_scoring_writes_per_volume_rows(tmp_path):
    train = _cache(
        tmp_path / "train",
        [prepared(f"tr{i}", z, 100 + 10 * i + z, False) for i in range(2) for z in range(2)],
    )
    test = _cache(
        tmp_path / "test", [prepared(f"te{i}", z, 200 + 10 * i + z) for i in range(2) for z in range(2)]
    )
    protocol = Protocol(
        name="tiny-field", size=CROP, steps=3, batch_size=4, channels=(4, 8), threads=1, scoring="volumes"
    )
    out = run_benchmark(train, test, ["none"], [1], [0], tmp_path / "b", progress=False, protocol=protocol)
    (row,) = read_results(out)
    assert 0.0 <= row["volume_dice_mean"] <= 1.0 and row["volume_count"] == 4
    assert set(row["volume_dice_by_subject"]) == {"te0", "te1"} and "dice_mean" in row  # per frame beside
    with pytest.raises(ValueError, match="--crop image"):  # volumes required, none kept
        run_benchmark(test, train, ["none"], [1], [0], tmp_path / "c", progress=False, protocol=protocol)
    assert "per 3D volume" in (out / "report.md").read_text()  # the headline unit
    with pytest.raises(ValueError, match="--size 64"):
        run_benchmark(
            train,
            test,
            ["none"],
            [1],
            [0],
            tmp_path / "d",
            progress=False,
            protocol=protocol.replace(size=64),
        )
