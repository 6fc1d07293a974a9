"""Finding the heart from the image alone: ``locate_heart`` and the ``crop="image"`` preparation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import disk_cycle, key_frame_cycle
from typer.testing import CliRunner

from cineaug import prepare_cycle, read_acdc, read_sunnybrook
from cineaug.cache import read_cycle, read_index
from cineaug.cli import app
from cineaug.localize import locate_heart
from cineaug.preprocess import DEFAULT_FOV_MM, crop_center, drop_unobserved, roll_to_ed
from cineaug.simulate import sample_subject, simulate_cycle
from cineaug.types import LV, MYO


def heart_inside(label: np.ndarray, center, spacing, fov_mm: float = DEFAULT_FOV_MM) -> bool:
    """Every labelled pixel of ``label`` ``[T,H,W]`` within the square ``fov_mm`` crop at ``center``."""
    points = np.argwhere((label > 0).any(axis=0))
    return bool((np.abs(points - np.asarray(center)) * np.asarray(spacing) <= fov_mm / 2).all())


def box_center(label: np.ndarray) -> np.ndarray:
    points = np.argwhere((label > 0).any(axis=0))
    return (points.min(axis=0) + points.max(axis=0)) / 2.0


def test_disk_found_within_a_pixel_full_and_key_frames():
    cycle, full = disk_cycle()
    truth = np.argwhere(np.isin(full[0], (MYO, LV))).mean(axis=0)
    assert locate_heart(cycle.image, cycle.spacing) == pytest.approx(tuple(truth), abs=1.5)
    keys = key_frame_cycle()  # ED and ES observed, the other frames zeros
    got = locate_heart(keys.image, keys.spacing, keys.observed)
    assert got == pytest.approx(tuple(truth), abs=1.5)
    assert got == locate_heart(keys.image[keys.observed], keys.spacing)  # unobserved frames unseen


@pytest.mark.parametrize(
    ("seed", "pathology", "pad"),
    [(0, "NOR", (0, 0, 0, 0)), (2, "HCM", (0, 32, 32, 0)), (4, "MINF", (32, 0, 0, 32))],
)
def test_simulated_heart_in_crop_full_and_key_frames(seed, pathology, pad):
    cycle = simulate_cycle(sample_subject(seed, pathology), matrix=128)
    top, bottom, left, right = pad  # off-centre: 45 mm per padded side on this 2.8 mm grid
    widths = ((0, 0), (top, bottom), (left, right))
    image = np.pad(cycle.image, widths, constant_values=float(cycle.image.min()))
    label = np.pad(cycle.label, widths)
    key_frames = np.isin(np.arange(cycle.n_frames), (0, cycle.es_frame))
    for observed in (None, key_frames):
        center = locate_heart(image, cycle.spacing, observed)
        assert heart_inside(label, center, cycle.spacing)
        error_mm = np.linalg.norm((np.asarray(center) - box_center(label)) * cycle.spacing)
        assert error_mm < 20.0  # the whole heart's centre (LV and RV), not the LV's


def test_locate_heart_needs_two_observed_frames():
    cycle, _ = disk_cycle()
    with pytest.raises(ValueError, match="two observed frames"):
        locate_heart(cycle.image, cycle.spacing, np.arange(20) == 0)


def test_crop_center_modes_and_jitter():
    cycle, full = disk_cycle()
    moved = dataclasses.replace(cycle, label=np.roll(cycle.label, 20, axis=2))  # labels elsewhere
    image_center = crop_center(moved, "image")
    assert image_center == locate_heart(cycle.image, cycle.spacing)  # labels ignored
    assert crop_center(moved, "labels")[1] == pytest.approx(crop_center(cycle, "labels")[1] + 20, abs=0.5)
    jittered = crop_center(cycle, "labels", jitter_mm=6.0, seed=1)
    assert jittered == crop_center(cycle, "labels", jitter_mm=6.0, seed=1)  # seeded
    assert jittered != crop_center(cycle, "labels", jitter_mm=6.0, seed=2)
    shift_mm = (np.subtract(jittered, crop_center(cycle, "labels"))) * cycle.spacing
    assert np.all(np.abs(shift_mm) <= 6.0) and np.any(shift_mm != 0)
    with pytest.raises(ValueError, match="unknown crop"):
        crop_center(cycle, "centre")


def test_prepare_cycle_image_crop_keeps_labels_and_records_mode():
    cycle, _ = disk_cycle()
    out = prepare_cycle(cycle, size=64, crop="image", propagate=False)
    assert out.extra["crop"] == "image"
    assert out.extra["crop_center_px"] == pytest.approx(locate_heart(cycle.image, cycle.spacing))
    area_in = (cycle.label[0] == LV).sum() * np.prod(cycle.spacing)
    assert (out.label[0] == LV).sum() * np.prod(out.spacing) == pytest.approx(area_in, rel=0.05)
    assert prepare_cycle(cycle, size=64, propagate=False).extra["crop"] == "labels"


def test_cli_prepare_crop_image(sunnybrook_root, tmp_path):
    out = tmp_path / "prepared"
    args = ["prepare", "sunnybrook", str(sunnybrook_root), str(out), "--size", "32", "--workers", "1"]
    result = CliRunner().invoke(app, [*args, "--crop", "image", "--no-propagate"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "dataset.json").read_text())["info"]["crop"] == "image"
    assert {read_cycle(out, e).extra["crop"] for e in read_index(out)["cycles"]} == {"image"}
    result = CliRunner().invoke(app, [*args, "--crop", "centre"])
    assert result.exit_code != 0 and "centre" in result.output


def _image_crop_holds_heart(cycles) -> list[str]:
    """Keys of the labelled cycles whose image-only crop cuts a labelled structure."""
    cut = []
    for cycle in cycles:
        if not (cycle.label[cycle.labeled] > 0).any():
            continue
        key = drop_unobserved(roll_to_ed(cycle))  # as prepare_cycle sees it
        if not heart_inside(key.label[key.labeled], crop_center(key, "image"), key.spacing):
            cut.append(cycle.key)
    return cut


def test_real_data_image_crop_holds_the_heart(shared_data: Path, sunnybrook_real: Path):
    acdc = shared_data / "acdc-training"
    if not acdc.is_dir():
        pytest.skip(f"no ACDC training data at {acdc}")
    cycles = list(read_acdc(acdc / "patient001"))  # DCM: the largest hearts
    assert all(c.key_frames_only for c in cycles)  # ED and ES volumes only
    assert _image_crop_holds_heart(cycles) == []
    assert _image_crop_holds_heart(read_sunnybrook(sunnybrook_real)) == []
