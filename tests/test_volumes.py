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


def raw_cycle(subject: str, slice_index: int, seed: int, frames: int = 20, es: int = 10) -> CineCycle:
    """A raw key-frame slice (ED frame 0 and ES frame ``es`` of ``frames``, 1 mm pixels): LV disk,
    ring, RV."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:NATIVE, :NATIVE]
    cy, cx = 24 + rng.uniform(-2, 2, 2)
    label = np.zeros((frames, NATIVE, NATIVE), np.uint8)
    observed = np.zeros(frames, bool)
    for t, r in ((0, 8.0), (es, 5.5)):
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
        source="test", subject=subject, slice_index=slice_index, ed_frame=0, es_frame=es,
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


ROW_MM, COL_MM, SLICE_MM = 1.5, 0.7, 10.0


def _square_volume(shift: int, axis: int = 1) -> tuple[np.ndarray, Volume]:
    """A 4-slice volume (rows 1.5 mm, columns 0.7 mm, slices 10 mm) whose LV and RV are 10x10
    squares on slices 1-2; the prediction is the truth shifted by ``shift`` along ``axis``."""
    truth = np.zeros((4, 40, 40), np.uint8)
    truth[1:3, 10:20, 10:20] = 3
    truth[1:3, 25:35, 25:35] = 1
    pred = np.roll(truth, shift, axis=axis)
    volume = Volume(
        subject="s", phase="ED", images=torch.zeros(4, 1, 8, 8), truth=truth, centers=[(0.0, 0.0)] * 4,
        crop_mm=1.0, native_spacing=(ROW_MM, COL_MM), slice_mm=SLICE_MM,
        annotated=torch.ones(4, dtype=torch.bool),
    )  # fmt: skip
    return pred, volume


def test_volume_scores_known_answers():
    pred, volume = _square_volume(0)
    dice, hd = volume_scores(pred, volume)
    np.testing.assert_allclose(dice[[0, 2]], 1.0)
    np.testing.assert_allclose(hd[[0, 2]], 0.0)
    assert np.isnan(dice[1]) and np.isnan(hd[1])  # no myocardium in the truth: not scored
    for axis, mm, expected_dice in ((1, ROW_MM, 0.9), (2, COL_MM, 0.9), (0, SLICE_MM, 0.5)):
        pred, volume = _square_volume(1, axis)  # one row, one column or one slice
        dice, hd = volume_scores(pred, volume)
        np.testing.assert_allclose(dice[[0, 2]], expected_dice, atol=1e-6, err_msg=f"axis {axis}")
        np.testing.assert_allclose(hd[[0, 2]], mm, atol=1e-5, err_msg=f"axis {axis}")  # mm, per axis
    pred[pred == 1] = 0  # RV missed entirely: Dice 0, HD95 = the volume's diagonal
    dice, hd = volume_scores(pred, volume)
    diagonal = np.sqrt((4 * SLICE_MM) ** 2 + (40 * ROW_MM) ** 2 + (40 * COL_MM) ** 2)
    assert dice[0] == 0.0 and hd[0] == pytest.approx(diagonal)


def test_paste_back_round_trip_on_an_anisotropic_grid():
    """Unequal row/column spacing, a non-square grid and an off-centre crop at a fractional centre."""
    truth = np.zeros((60, 90), np.uint8)
    yy, xx = np.mgrid[:60, :90]
    truth[np.hypot((yy - 27.3) * 1.3, (xx - 51.6) * 0.7) < 14] = 2
    truth[np.hypot((yy - 27.3) * 1.3, (xx - 51.6) * 0.7) < 9] = 3
    truth[(abs(yy - 27.3) * 1.3 < 6) & (abs(xx - 30.0) * 0.7 < 4)] = 1
    cycle = CineCycle(
        image=np.stack([truth.astype(np.float32)] * 20), label=np.stack([truth] + [0 * truth] * 19),
        labeled=np.eye(20, dtype=bool)[0], spacing=(1.3, 0.7), source="test", subject="a",
        ed_frame=0, slice_thickness=5.0, extra={"native_slices": 1},
    )  # fmt: skip
    crop = prepare_cycle(cycle, size=64, fov_mm=60.0, keep_native=True, crop="labels")
    onehot = np.eye(4, dtype=np.float32)[crop.label[:1]].transpose(0, 3, 1, 2)
    back = paste_back(onehot, tuple(crop.extra["crop_center_px"]), crop.spacing[0], (1.3, 0.7), (60, 90))
    for c in (1, 2, 3):  # swapped row/col spacings would give 0.00, 0.20, 0.63
        t, q = truth == c, back[0] == c
        assert 2 * (t & q).sum() / (t.sum() + q.sum()) > 0.9, c
    assert crop.extra["native_slices"] == 1


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


def test_volumes_of_a_cycle_of_another_length_keep_ed_and_es():
    """13 raw frames (ES at 6) resampled to 20: each phase's volume holds that phase's expert labels."""
    raws = [raw_cycle("p0", z, z, frames=13, es=6) for z in range(2)]
    cycles = [prepare_cycle(r, size=CROP, fov_mm=40.0, keep_native=True) for r in raws]
    assert cycles[0].es_frame != 6 and cycles[0].extra["native_frames"] == [0, cycles[0].es_frame]
    ed, es = volumes_of(cycles)
    assert (ed.phase, es.phase) == ("ED", "ES")
    np.testing.assert_array_equal(ed.truth, np.stack([r.label[0] for r in raws]))
    np.testing.assert_array_equal(es.truth, np.stack([r.label[6] for r in raws]))
    np.testing.assert_array_equal(es.images[:, 0], np.stack([c.image[c.es_frame] for c in cycles]))


def test_a_volume_missing_a_slice_is_refused():
    with pytest.raises(ValueError, match=r"cache X: p0 ED: slices \[1\] are missing"):
        volumes_of([prepared("p0", z, z) for z in (0, 2)], where="cache X")
    cycles = [prepared("p0", z, z) for z in range(3)]
    for c in cycles:
        c.extra["native_slices"] = 4  # the source had a fourth slice, not prepared
    with pytest.raises(ValueError, match=r"slices \[3\] are missing"):
        volumes_of(cycles)
    cycles = [prepared("p0", z, z) for z in range(2)]
    for c in cycles:
        c.slice_thickness = None
    with pytest.raises(ValueError, match="p0 ED: no slice thickness"):
        volumes_of(cycles)
    assert volumes_of(cycles[:1])[0].slice_mm == 1.0  # one slice: no distance to know
    cycles = [prepared("p0", z, z) for z in range(3)]
    for c, n in zip(cycles, (3, 5, 3)):
        c.extra["native_slices"] = n
    with pytest.raises(ValueError, match=r"disagree on the volume's slice count \(\[3, 5\]\)"):
        volumes_of(cycles)
    for c, position in zip(cycles, (0.0, 0.0, 10.0)):
        c.extra.update(native_slices=3, slice_position_mm=position)
    with pytest.raises(ValueError, match=r"slices \[0, 1\] lie at the same position"):
        volumes_of(cycles)


def test_volumes_need_one_ed_and_one_es_frame_per_subject():
    """ES estimated per slice (a reader without it) would scatter the ES labels over several
    'phases'; expert frames beside ED with no ES frame would silently leave the volumes."""
    cycles = [prepared("p0", z, z) for z in range(2)]
    cycles[1].es_frame = 9
    with pytest.raises(ValueError, match=r"p0 disagree on the ES frame \(\[9, 10\]\)"):
        volumes_of(cycles)
    for c in cycles:
        c.es_frame = -1
    with pytest.raises(ValueError, match=r"p0 has expert frames \[10\] but no ES frame"):
        volumes_of(cycles)


def test_volumes_stack_dicom_slices_by_position_and_score_ed_es_only():
    """Acquisition order is not the spatial order: slices are stacked and spaced by their position
    along the normal (10 mm apart here, where SliceThickness says 8); a third expert frame is
    scored per frame only."""
    cycles = []
    for z, position in enumerate((20.0, 0.0, 10.0)):
        raw = raw_cycle("p0", z, z)
        raw.label[5], raw.labeled[5], raw.observed[5] = raw.label[0], True, True
        raw.label_source[5] = raw.label_source[0]
        raw.image[5] = raw.image[0]
        raw.extra = {"slice_position_mm": position, "native_slices": 3}
        cycles.append(prepare_cycle(raw, size=CROP, fov_mm=40.0, keep_native=True))
    assert len(cycles[0].extra["native_frames"]) == 3
    volumes = volumes_of(cycles)
    assert [v.phase for v in volumes] == ["ED", "ES"] and volumes[0].slice_mm == 10.0
    assert volumes[0].slice_indices == (1, 2, 0)
    for k, c in enumerate((cycles[1], cycles[2], cycles[0])):  # positions 0, 10, 20 mm
        np.testing.assert_array_equal(volumes[0].truth[k], c.native_label[0])
        np.testing.assert_array_equal(volumes[0].images[k, 0], c.image[0])


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
    assert out["volume_missed"] == 0
    wrong = [np.zeros_like(c) for c in crops]  # predicts nothing: Dice 0, every class missed
    missed = score_volumes(Oracle(volumes, wrong), volumes)
    assert missed["volume_dice_mean"] == 0.0 and missed["volume_missed"] == 4 * 3


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
