"""Shared fixtures: a simulated Sunnybrook patient (exported in the SCD layouts), the real data of
``../shared/data`` when it is there, and synthetic beating disks."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cineaug.models.progan import ProGANGenerator
from cineaug.simulate import sample_subject, simulate_cycle, write_sunnybrook_patient
from cineaug.types import LV, MYO, CineCycle, LabelSource

SHARED_DATA = Path(os.environ.get("CINEAUG_SHARED_DATA") or Path(__file__).parents[2] / "shared" / "data")
"""The real data sets (never copied into the repository): ``$CINEAUG_SHARED_DATA`` or ``../shared/data``."""
REAL_ED_IMAGE, REAL_ES_IMAGE = 79, 68  # contoured image numbers of SCD0000101's slice 3 (images 61-80)
SIM_ED_AT = 18  # the simulated patient's cines start 2 frames after ED, as the real ones


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; tests that need it are skipped, with the reason, without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no real data at {SHARED_DATA} (set CINEAUG_SHARED_DATA to the shared data folder)")
    return SHARED_DATA


@pytest.fixture
def sunnybrook_real(shared_data: Path, tmp_path: Path) -> Path:
    """One real slice-cycle in the Arterys layout, copied from the shared subset into ``tmp_path``:
    SCD0000101 images 61-80 with the contours of images 68 (ES, endocardium) and 79 (ED, both)."""
    src = shared_data / "sunnybrook-subset"
    if not src.is_dir():
        pytest.skip(f"no Sunnybrook subset at {src}")
    root = tmp_path / "scd-real"
    (root / "dicoms" / "SCD0000101").mkdir(parents=True)
    for n in range(61, 81):
        shutil.copy(src / "dicoms" / "SCD0000101" / f"{n}.dcm", root / "dicoms" / "SCD0000101")
    for kind, n in (("i", REAL_ES_IMAGE), ("i", REAL_ED_IMAGE), ("o", REAL_ED_IMAGE)):
        folder = root / "contourfiles" / "SC-HF-I-1" / f"{kind}-contours"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"IM-0001-{n:04d}-{kind}contour-manual.txt"
        shutil.copy(src / "contourfiles" / "SC-HF-I-1" / f"{kind}-contours" / name, folder / name)
    (root / "link.csv").write_text("patient_id,original_id\nSCD0000101,SC-HF-I-1\n")
    shutil.copy(src / "scd_patientdata.csv", root)
    return root


@pytest.fixture(scope="session")
def sim_patient() -> list[CineCycle]:
    """Two slices (two noise draws) of one simulated HF-I heart, raw, ED at frame 0."""
    params = sample_subject(5, "HF-I", label_set="sunnybrook")
    return [simulate_cycle(params), simulate_cycle(params, noise_seed=1)]


@pytest.fixture(scope="session")
def sunnybrook_root(tmp_path_factory: pytest.TempPathFactory, sim_patient: list[CineCycle]) -> Path:
    """The simulated patient as Sunnybrook's Arterys subset (SCD0000101 / SC-HF-I-1): 40 DICOMs,
    ED written at frame 18, contours on slice 0 only (ED: i + o, ES: i). Read-only: copy to alter."""
    root = tmp_path_factory.mktemp("scd-sim")
    write_sunnybrook_patient(root, sim_patient, contoured=[0], ed_at=SIM_ED_AT)
    return root


def _contours(root: Path) -> list[Path]:
    return sorted((root / "contourfiles" / "SC-HF-I-1").rglob("*.txt"))


@pytest.fixture
def sunnybrook_cap(tmp_path: Path, sunnybrook_root: Path) -> Path:
    """The Cardiac Atlas Project layout: CINESAX_300/IM-0003-NNNN.dcm, zero-padded contour folder."""
    tmp_path = tmp_path / "cap"
    sax = tmp_path / "SCD_IMAGES_01" / "SCD0000101" / "CINESAX_300"
    other = tmp_path / "SCD_IMAGES_01" / "SCD0000101" / "CINELAX_301"
    sax.mkdir(parents=True)
    other.mkdir(parents=True)
    for f in (sunnybrook_root / "dicoms" / "SCD0000101").glob("*.dcm"):
        shutil.copy(f, sax / f"IM-0003-{int(f.stem):04d}.dcm")
    expert = tmp_path / "SCD_ManualContours" / "SC-HF-I-01" / "contours-manual" / "IRCCI-expert"
    expert.mkdir(parents=True)
    for c in _contours(sunnybrook_root):
        shutil.copy(c, expert / c.name)
    shutil.copy(sunnybrook_root / "scd_patientdata.csv", tmp_path / "scd_patientdata.csv")
    return tmp_path


@pytest.fixture
def sunnybrook_challenge(tmp_path: Path, sunnybrook_root: Path) -> Path:
    """The MICCAI 2009 layout: challenge_training/SC-HF-I-1/IM-0004-NNNN.dcm (+ a scout series)."""
    tmp_path = tmp_path / "challenge"
    case = tmp_path / "challenge_training" / "SC-HF-I-1"
    case.mkdir(parents=True)
    files = sorted((sunnybrook_root / "dicoms" / "SCD0000101").glob("*.dcm"), key=lambda p: int(p.stem))
    for f in files:
        shutil.copy(f, case / f"IM-0004-{int(f.stem):04d}.dcm")
    shutil.copy(files[0], case / "IM-0001-0001.dcm")  # a one-image localiser series
    expert = (
        tmp_path
        / "Sunnybrook Cardiac MR Database ContoursPart3"
        / "TrainingDataContours"
        / "SC-HF-I-01"
        / "contours-manual"
        / "IRCCI-expert"
    )
    expert.mkdir(parents=True)
    for c in _contours(sunnybrook_root):
        shutil.copy(c, expert / c.name)
    return tmp_path


def disk_cycle(
    t: int = 20, size: int = 96, spacing: float = 1.5, labeled: tuple[int, ...] = (0, 10)
) -> tuple[CineCycle, np.ndarray]:
    """A synthetic beating heart: a bright LV disk in a myocardial ring whose radius follows a cosine.

    Image values are blood 1.0, wall 0.3, background 0.0; labels are exact at every frame, but only
    the ``labeled`` frames keep them.
    """
    rr, cc = np.mgrid[:size, :size]
    centre = size / 2 + 3.0
    d = np.hypot(rr - centre, cc - centre + 5.0) * spacing  # mm
    radius = 16.0 + 6.0 * np.cos(2 * np.pi * np.arange(t) / t)  # [T] mm, ED at frame 0
    lv = d[None] < radius[:, None, None]
    myo = (d[None] < radius[:, None, None] + 8.0) & ~lv
    image = np.where(lv, 1.0, np.where(myo, 0.3, 0.0)).astype(np.float32)
    label = np.where(lv, LV, np.where(myo, MYO, 0)).astype(np.uint8)
    flags = np.zeros(t, bool)
    flags[list(labeled)] = True
    full_label = label.copy()
    label[~flags] = 0
    cycle = CineCycle(
        image=image,
        label=label,
        labeled=flags,
        spacing=(spacing, spacing),
        source="test",
        subject="disk",
        annotated_classes=(MYO, LV),
        es_frame=t // 2,
        label_source=np.where(flags, LabelSource.EXPERT, LabelSource.NONE).astype(np.uint8),
    )
    return cycle, full_label


def key_frame_cycle(t: int = 30, ed: int = 3, es: int = 13, size: int = 96) -> CineCycle:
    """The disk heart as an ACDC copy without its cine holds it: ED and ES observed and labelled,
    the other ``t - 2`` frames unobserved (image 0)."""
    full, _ = disk_cycle(t=t, size=size, labeled=(ed, es))
    observed = np.zeros(t, bool)
    observed[[ed, es]] = True
    image = np.where(observed[:, None, None], full.image, 0.0).astype(np.float32)
    return dataclasses.replace(full, image=image, observed=observed, ed_frame=ed, es_frame=es)


GENERATOR_SIZE = 16


@pytest.fixture(scope="session")
def generator() -> ProGANGenerator:
    """A tiny, randomly initialised conditional generator of 16 px cycles (classes NOR, DCM)."""
    torch.manual_seed(0)
    return ProGANGenerator(
        resolution=GENERATOR_SIZE, fmap_base=128, fmap_max=16, latent_dim=8, class_names=("NOR", "DCM")
    )
