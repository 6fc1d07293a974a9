"""Layers, generators and discriminators of cycles with labels, and save/load."""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cineaug.models import (
    MODELS,
    DCGANDiscriminator,
    DCGANGenerator,
    ProGANDiscriminator,
    ProGANGenerator,
    decode_labels,
    from_pretrained,
    save_pretrained,
)
from cineaug.models.hub import build_model
from cineaug.models.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    join_cycle,
    one_hot_labels,
    split_cycle,
)
from cineaug.models.progan import feature_maps

torch.set_num_threads(1)


def tiny_progan(res: int = 16, classes: tuple[str, ...] = ()) -> tuple[ProGANGenerator, ProGANDiscriminator]:
    torch.manual_seed(0)
    g = ProGANGenerator(res, latent_dim=8, fmap_base=64, fmap_max=8, class_names=classes)
    d = ProGANDiscriminator(res, fmap_base=64, fmap_max=8, n_classes=len(classes))
    return g, d


def test_equalized_layers_scale_weights_by_he_constant() -> None:
    torch.manual_seed(0)
    conv = EqualizedConv2d(64, 32, 3, padding=0, gain=math.sqrt(2))
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(64 * 9))
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.05)  # stored N(0,1)
    x = torch.randn(16, 64, 8, 8)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * conv.scale, conv.bias))
    # He gain keeps the second moment: E[y^2] = gain^2 * E[x^2]
    assert conv(x).square().mean().item() == pytest.approx(2.0, rel=0.15)
    lin = EqualizedLinear(256, 128, gain=1.0)
    assert lin(torch.randn(512, 256)).std().item() == pytest.approx(1.0, rel=0.1)


def test_pixel_norm_gives_unit_rms_per_pixel() -> None:
    x = torch.randn(4, 7, 5, 5) * torch.rand(4, 1, 5, 5) * 10
    y = PixelNorm()(x)
    assert torch.allclose(y.square().mean(dim=1), torch.ones(4, 5, 5), atol=1e-5)


def test_minibatch_stddev_appends_the_group_std() -> None:
    x = torch.zeros(4, 3, 2, 2)
    x[1] += 2.0  # group of 4: values 0, 2, 0, 0 everywhere -> std sqrt(0.75)
    y = MinibatchStdDev(group_size=4)(x)
    assert y.shape == (4, 4, 2, 2)
    assert torch.allclose(y[:, :3], x)
    assert torch.allclose(y[:, 3], torch.full((4, 2, 2), math.sqrt(0.75)), atol=1e-4)
    z = MinibatchStdDev(group_size=2)(x)[:, 3]  # groups (0,2) and (1,3): std 0 and 1
    assert torch.allclose(z[[1, 3]], torch.ones(2, 2, 2), atol=1e-4)
    assert torch.allclose(z[[0, 2]], torch.zeros(2, 2, 2), atol=1e-3)


def test_join_split_and_decode_labels() -> None:
    lab = torch.randint(0, 4, (2, 20, 6, 6))
    probs = one_hot_labels(lab, 4)  # [N,T,K,H,W]
    img = torch.randn(2, 20, 6, 6)
    x = join_cycle(img, probs)
    assert x.shape == (2, 100, 6, 6)
    img2, probs2 = split_cycle(x, 20, 4)
    assert torch.equal(img2, img) and torch.equal(probs2, probs)
    assert torch.equal(decode_labels(probs * 5), lab.to(torch.uint8))
    only_lv = decode_labels(probs * 5, allowed=(3,))  # RV and myo are never emitted
    assert set(only_lv.unique().tolist()) <= {0, 3}


@pytest.mark.parametrize("res", [4, 8, 16])
def test_progan_shapes_at_every_resolution(res: int) -> None:
    g, d = tiny_progan(16, ("A", "B"))
    c = torch.tensor([0, 1, 1, 0])
    img, logits = g(torch.randn(4, 8), c, res=res, alpha=0.5)
    assert img.shape == (4, 20, res, res) and logits.shape == (4, 20, 4, res, res)
    assert d(img, logits.softmax(2), c, res=res, alpha=0.5).shape == (4,)


def test_progan_fade_in_endpoints() -> None:
    g, d = tiny_progan(16)
    z = torch.randn(2, 8)
    low, low_logits = g(z, res=8, alpha=1.0)
    faded, _ = g(z, res=16, alpha=0.0)  # alpha 0: exactly the upsampled lower-resolution output
    assert torch.allclose(faded, F.interpolate(low, scale_factor=2.0, mode="nearest"), atol=1e-6)
    new, _ = g(z, res=16, alpha=1.0)
    half, _ = g(z, res=16, alpha=0.5)
    assert torch.allclose(half, (faded + new) / 2, atol=1e-5)
    # D at alpha 0 sees only the pooled input through the lower-resolution fromRGB
    x, p = torch.randn(2, 20, 16, 16), torch.rand(2, 20, 4, 16, 16)
    pooled = d(F.avg_pool2d(x, 2), F.avg_pool3d(p, (1, 2, 2)), res=8, alpha=1.0)
    assert torch.allclose(d(x, p, res=16, alpha=0.0), pooled, atol=1e-5)


def test_feature_maps_formula() -> None:
    assert [feature_maps(r, 8192, 128) for r in (4, 64, 128)] == [128, 128, 64]
    assert [feature_maps(r, 512, 32) for r in (4, 16, 32, 64)] == [32, 32, 16, 8]


def test_conditioning_changes_outputs() -> None:
    g, d = tiny_progan(8, ("A", "B"))
    z = torch.randn(2, 8)
    a, _ = g(z, torch.tensor([0, 0]))
    b, _ = g(z, torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="class-conditional"):
        g(z, None)


def test_dcgan_matches_the_seed_design() -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(64, latent_dim=100, width=64)
    d = DCGANDiscriminator(64, width=64)
    img, logits = g(torch.randn(2, 100))
    assert img.shape == (2, 20, 64, 64) and logits.shape == (2, 20, 4, 64, 64)
    assert img.abs().max() <= 1.0  # tanh image
    convs = [m for m in g.convs if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.out_channels for m in convs] == [256, 128, 64, 100]  # seed: 512 -> 256 s1 -> 128 -> 64 -> out
    assert [m.kernel_size for m in convs] == [(5, 5)] * 4
    assert d(img, logits.softmax(2)).shape == (2,)
    g128 = DCGANGenerator(128, width=8)
    assert g128(torch.randn(2, 100))[0].shape == (2, 20, 128, 128)


@pytest.mark.parametrize("kind", ["progan", "dcgan"])
def test_save_then_load_gives_identical_outputs(tmp_path: Path, kind: str) -> None:
    torch.manual_seed(1)
    if kind == "progan":
        g = ProGANGenerator(8, latent_dim=8, fmap_base=32, fmap_max=8, class_names=("NOR", "DCM"))
    else:
        g = DCGANGenerator(16, latent_dim=8, width=4, class_names=("NOR", "DCM"))
    g.eval()
    save_pretrained(g, tmp_path / "m", extra={"images_seen": 5})
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["class"] == type(g).__name__ and cfg["images_seen"] == 5 and "cineaug_version" in cfg
    g2 = from_pretrained(tmp_path / "m")
    z, c = torch.randn(3, 8), torch.tensor([0, 1, 0])
    with torch.no_grad():
        for a, b in zip(g(z, c), g2(z, c)):
            assert torch.equal(a, b)
    assert g2.class_names == ("NOR", "DCM")


def test_registry_refuses_unknown_classes() -> None:
    with pytest.raises(ValueError, match="unknown model class"):
        build_model("os.system", {})


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_is_every_constructor_argument_and_rebuilds_the_model(name: str) -> None:
    cls = MODELS[name]
    params = list(inspect.signature(cls).parameters)
    cycle_model = "frames" in params  # cycle generators/discriminators; the renderer works on frames
    net = cls(
        resolution=16,
        **({"frames": 3} if cycle_model else {}),
        **({"fmap_base": 64, "fmap_max": 8} if "fmap_max" in params else {}),
    )
    assert list(net.config) == params  # every parameter, in signature order, defaults filled in
    assert net.config["resolution"] == 16
    if cycle_model:
        assert net.config["frames"] == 3 and net.config["n_labels"] == 4
    again = build_model(name, json.loads(json.dumps(net.config)))
    assert again.config == net.config
    assert {k: v.shape for k, v in again.state_dict().items()} == {
        k: v.shape for k, v in net.state_dict().items()
    }


def test_config_lists_tuples_and_keeps_positional_arguments() -> None:
    g = ProGANGenerator(16, 3, 4, 8, 64, 8, ("NOR", "DCM"), (2, 3))
    assert g.config == {
        "resolution": 16, "frames": 3, "n_labels": 4, "latent_dim": 8, "fmap_base": 64, "fmap_max": 8,
        "class_names": ["NOR", "DCM"], "annotated_classes": [2, 3],
    }  # fmt: skip
    assert g.class_names == ("NOR", "DCM")  # the module itself still sees the tuples


def test_shipped_configs_name_the_constructor_arguments() -> None:
    shipped = sorted(Path(__file__).resolve().parents[1].glob("pretrained/*/config.json"))
    assert shipped
    for path in shipped:
        config = json.loads(path.read_text())
        assert list(config["args"]) == list(inspect.signature(MODELS[config["class"]]).parameters), path
