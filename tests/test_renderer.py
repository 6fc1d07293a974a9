"""The label-conditioned ProGAN renderer (issue #14): shapes, fade-in, label injection, save/load."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cineaug.models import LabelRenderer, RendererDiscriminator, from_pretrained, save_pretrained

C = 6  # 4 heart classes + 2 background clusters


def _tissues(n: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, C, (n, size // 4, size // 4), generator=g)
    labels = F.interpolate(coarse[:, None].float(), scale_factor=4, mode="nearest")[:, 0].long()
    return F.one_hot(labels, C).permute(0, 3, 1, 2).float()  # [N,C,H,W]


def _renderer() -> LabelRenderer:
    torch.manual_seed(0)
    return LabelRenderer(resolution=16, n_tissues=C, latent_dim=8, fmap_base=128, fmap_max=16, spade_hidden=8)


def test_shapes_at_every_resolution_and_fade_in_limits() -> None:
    g, d = _renderer(), RendererDiscriminator(resolution=16, n_tissues=C, fmap_base=128, fmap_max=16)
    tissues, z = _tissues(4), torch.randn(4, 8)
    for res in (4, 8, 16):
        image = g(tissues, z, res=res)
        assert image.shape == (4, 1, res, res)
        small = F.interpolate(tissues, size=(res, res), mode="nearest")
        assert d(image, small, res=res).shape == (4,)
    # alpha 0: only the upsampled lower-resolution output; alpha 1: only the new block
    low = F.interpolate(g(tissues, z, res=8), scale_factor=2.0, mode="nearest")
    assert torch.allclose(g(tissues, z, res=16, alpha=0.0), low, atol=1e-6)
    assert torch.allclose(g(tissues, z, res=16, alpha=1.0), g(tissues, z, res=16), atol=1e-6)


def test_labels_steer_the_image_and_one_latent_renders_a_steady_cycle() -> None:
    g = _renderer()
    tissues, z = _tissues(1), torch.randn(1, 8)
    other = _tissues(1, seed=1)
    assert not torch.allclose(g(tissues, z), g(other, z), atol=1e-4)  # labels reach the output
    cycle = g.render_cycle(torch.cat([tissues] * 3 + [other]), z[0])  # [T,H,W], one latent
    assert cycle.shape == (4, 16, 16)
    assert torch.equal(cycle[0], cycle[1]) and torch.equal(cycle[1], cycle[2])  # no per-frame noise
    assert not torch.equal(cycle[2], cycle[3])


def test_a_few_steps_learn_a_texture_per_tissue() -> None:
    """Supervised sanity check of the conditioning path: each tissue has its own grey value."""
    g = _renderer()
    values = torch.linspace(-0.9, 0.9, C)
    opt = torch.optim.Adam(g.parameters(), lr=3e-3)
    tissues, z = _tissues(4), torch.randn(4, 8)
    target = (values[:, None, None] * tissues).sum(1, keepdim=True)  # [N,1,H,W]
    losses, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)  # tiny layers: threads only add synchronisation (and stall on a busy machine)
    try:
        for _ in range(25):
            loss = F.l1_loss(g(tissues, z, res=8), F.avg_pool2d(target, 2))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
    finally:
        torch.set_num_threads(threads)
    assert losses[-1] < 0.5 * losses[0]


def test_saves_and_loads_by_config(tmp_path) -> None:
    g = _renderer().eval()
    folder = save_pretrained(g, tmp_path / "renderer")
    back = from_pretrained(folder)
    tissues, z = _tissues(2), torch.randn(2, 8)
    assert isinstance(back, LabelRenderer) and back.config == g.config
    assert torch.equal(back(tissues, z), g(tissues, z))
