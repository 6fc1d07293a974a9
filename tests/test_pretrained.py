"""The model registry: load with verification, refuse tampered or truncated files."""

from __future__ import annotations

import pytest
import torch

from cineaug import CineDataError
from cineaug.models.hub import save_pretrained
from cineaug.models.progan import ProGANGenerator
from cineaug.pretrained import describe, load_pretrained, verify_folder, write_manifest


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    g = ProGANGenerator(resolution=16, fmap_base=128, fmap_max=16, latent_dim=8, class_names=("NOR", "DCM"))
    out = save_pretrained(g, tmp_path / "tiny", extra={"description": "unit-test model"})
    (out / "MODEL_CARD.md").write_text("# tiny\n")
    write_manifest(out)
    return out, g


def test_load_gives_the_same_generator(folder):
    path, g = folder
    loaded = load_pretrained(path)
    assert not loaded.training
    z, c = torch.randn(2, 8), torch.tensor([0, 1])
    with torch.no_grad():
        a, b = g.eval()(z, c), loaded(z, c)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert "ProGANGenerator 16 px" in describe(path) and "NOR, DCM" in describe(path)


@pytest.mark.parametrize("victim", ["model.safetensors", "config.json", "MODEL_CARD.md"])
def test_tampered_file_is_refused(folder, victim):
    path, _ = folder
    data = bytearray((path / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / victim).write_bytes(bytes(data))
    with pytest.raises(CineDataError, match=f"{victim}.*sha256 differs"):
        load_pretrained(path)


def test_truncated_and_missing_files_are_refused(folder):
    path, _ = folder
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CineDataError, match="truncated"):
        verify_folder(path)
    weights.unlink()
    with pytest.raises(CineDataError, match="missing"):
        load_pretrained(path)


def test_unknown_name(tmp_path):
    with pytest.raises(CineDataError, match="neither a shipped model name"):
        load_pretrained("no-such-model")


def test_export_bundle(folder, tmp_path):
    import json

    from monai.bundle import ConfigParser

    from cineaug.bundle import export_bundle

    path, g = folder
    out = export_bundle(path, tmp_path / "bundle")
    meta = json.loads((out / "configs" / "metadata.json").read_text())
    assert meta["network_data_format"]["outputs"]["image"]["num_channels"] == 20
    parser = ConfigParser()
    parser.read_config(out / "configs" / "inference.json")
    net = parser.get_parsed_content("network_def")
    net.load_state_dict(torch.load(out / "models" / "model.pt", weights_only=True))
    z, c = torch.randn(2, 8), torch.tensor([1, 0])
    with torch.no_grad():
        assert torch.equal(net.eval()(z, c)[0], g.eval()(z, c)[0])


def test_package_model_from_a_snapshot(folder, tmp_path):
    import imageio.v3 as iio

    from cineaug.generate import package_model

    path, g = folder
    out = package_model(
        path, tmp_path / "shipped", card="# tiny\\nunit test\\n", description="tiny test model", n_samples=4
    )
    verify_folder(out)
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "model.safetensors",
        "MODEL_CARD.md",
        "samples.gif",
        "manifest.json",
    }
    assert iio.imread(out / "samples.gif", index=None).shape[0] == 20
    assert "tiny test model" in describe(out)
    z = torch.randn(1, 8)
    with torch.no_grad():
        assert torch.equal(load_pretrained(out)(z, torch.tensor([1]))[0], g.eval()(z, torch.tensor([1]))[0])


def test_package_model_draws_the_sample_gif_from_the_classes_asked_for(folder, tmp_path, monkeypatch):
    from cineaug.generate import package_model
    from cineaug.generate import pool as pool_module

    drawn: list = []
    take = pool_module.SyntheticPool.take
    monkeypatch.setattr(
        pool_module.SyntheticPool, "take", lambda self, c=None: drawn.append(c) or take(self, c)
    )
    path, _ = folder
    package_model(path, tmp_path / "a", card="# a\n", n_samples=4, pathologies=("DCM",))
    assert drawn == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="HCM"):
        package_model(path, tmp_path / "b", card="# b\n", n_samples=2, pathologies=("HCM",))


def test_every_shipped_model_loads_by_name_with_its_card_and_samples():
    from cineaug.pretrained import available, resolve

    names = sorted(available())
    assert {"progan-sim-64", "render-sim-64", "render-acdc80-64"} <= set(names), names
    for name in names:
        folder = resolve(name)
        verify_folder(folder)  # every file's size and sha256 as its manifest says
        card = (folder / "MODEL_CARD.md").read_text()
        assert card.startswith(f"# {name}") and (folder / "samples.gif").stat().st_size > 0, name
        g = load_pretrained(name)
        assert g.resolution == int(name.rsplit("-", 1)[1]), name  # the size its name says
