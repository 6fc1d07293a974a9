"""``cineaug export nnunet``: synthetic cases that nnU-Net v2's own integrity check accepts, in a new
dataset and beside a dataset's real cases."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from cineaug.cli import app
from cineaug.prepare import write_simulated_dataset
from cineaug.transforms.nnunet import ACDC_LABELS, export_nnunet

runner = CliRunner()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_simulated_dataset(
        tmp_path_factory.mktemp("nn") / "sim", n=3, seed=2, size=64, workers=1, progress=False
    )


def _verify(folder: Path) -> None:
    verify = pytest.importorskip(
        "nnunetv2.experiment_planning.verify_dataset_integrity", reason="pip install cineaug[nnunet]"
    )
    verify.verify_dataset_integrity(str(folder), num_processes=1)


def test_a_new_dataset_of_synthetic_cases_passes_nnunet_s_integrity_check(bank: Path, tmp_path: Path):
    out = tmp_path / "Dataset901_Synthetic"
    result = runner.invoke(
        app, ["export", "nnunet", str(out), "--bank", str(bank), "--n", "3", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["numTraining"] == 6 and meta["labels"] == ACDC_LABELS and meta["file_ending"] == ".nii.gz"
    image = nib.load(out / "imagesTr" / "cineaug_0000_0000.nii.gz")
    label = nib.load(out / "labelsTr" / "cineaug_0000.nii.gz")
    assert image.shape == label.shape == (64, 64, 1)
    assert np.allclose(image.header.get_zooms(), (2.5, 2.5, 10.0)) and np.allclose(image.affine, label.affine)
    assert set(np.unique(np.asarray(label.dataobj))) == {0, 1, 2, 3}
    _verify(out)
    again = runner.invoke(app, ["export", "nnunet", str(out), "--bank", str(bank), "--n", "1"])
    assert again.exit_code == 1 and "already holds cineaug_* cases" in again.output


def test_synthetic_cases_join_a_dataset_s_real_ones(bank: Path, tmp_path: Path):
    out = tmp_path / "Dataset027_ACDC"
    (out / "imagesTr").mkdir(parents=True)
    (out / "labelsTr").mkdir()
    affine = np.diag([1.5, 1.5, 10.0, 1.0])
    rng = np.random.default_rng(0)
    image = rng.normal(300, 50, (96, 80, 4)).astype(np.float32)
    label = np.zeros((96, 80, 4), np.uint8)
    label[30:50, 30:50, 1:3] = 3
    nib.save(nib.Nifti1Image(image, affine), out / "imagesTr" / "patient001_frame01_0000.nii.gz")
    nib.save(nib.Nifti1Image(label, affine), out / "labelsTr" / "patient001_frame01.nii.gz")
    real = {
        "channel_names": {"0": "cineMRI"},
        "labels": ACDC_LABELS,
        "numTraining": 1,
        "file_ending": ".nii.gz",
    }
    (out / "dataset.json").write_text(json.dumps(real))
    export_nnunet(bank, out, n=2, frames=("all",), prefix="syn", progress=False)
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["numTraining"] == 1 + 2 * 20 and meta["cineaug"]["syn"]["cases"] == 40
    _verify(out)


def test_a_dataset_with_other_labels_is_refused(bank: Path, tmp_path: Path):
    out = tmp_path / "Dataset002_Heart"
    out.mkdir()
    other = {
        "channel_names": {"0": "MRI"},
        "labels": {"background": 0, "left atrium": 1},
        "numTraining": 0,
        "file_ending": ".nii.gz",
    }
    (out / "dataset.json").write_text(json.dumps(other))
    result = runner.invoke(app, ["export", "nnunet", str(out), "--bank", str(bank), "--n", "1"])
    assert result.exit_code == 1 and "ACDC's 0-3" in result.output
