"""One frozen configuration dataclass for GAN training, with named presets (nanoGPT/stylegan2 style).

The CLI maps ``--preset`` plus ``key=value`` overrides onto :class:`TrainConfig`; the resolved config
is written into the run folder as JSON and read back on resume. No config file is ever exec'd.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (images are counted in real images shown to D)."""

    arch: str = "progan"  # "progan", "dcgan" or "renderer" (label map + z -> frame, cineaug.models.renderer)
    resolution: int = 64  # final side in pixels
    latent_dim: int = 256  # size of z
    fmap_base: int = 8192  # ProGAN channels at resolution r: min(fmap_base // r, fmap_max)
    fmap_max: int = 128  # ProGAN channel cap
    width: int = 64  # DCGAN channels of the last G layer / first D layer
    n_clusters: int = 4  # renderer: background intensity classes of the tissue map (0 = none)
    spade_hidden: int = 32  # renderer: channels of each SPADE's shared conv
    loss: str = "ns_r1"  # "ns_r1" (non-saturating + lazy R1), "wgangp" (WGAN-GP + drift), "ns"
    r1_gamma: float = 0.1  # R1 weight (ADA: 0.0002 * res**2 / batch)
    r1_interval: int = 16  # lazy R1: penalty every this many D steps, scaled up accordingly
    mode_seeking: float = 0.0  # MSGAN weight: G must move with z within a class (0 = off)
    gp_lambda: float = 10.0  # WGAN-GP weight
    drift: float = 0.001  # WGAN epsilon drift on D(real)**2
    lr: float = 0.001  # Adam learning rate for G and D
    lr_by_res: tuple[tuple[int, float], ...] = ()  # ((res, lr), ...) overrides
    beta1: float = 0.0
    beta2: float = 0.99
    batch: int = 32  # global minibatch (split across processes)
    batch_by_res: tuple[tuple[int, int], ...] = ()  # ((res, batch), ...) overrides
    start_res: int = 4  # ProGAN: first resolution
    stable_images: int = 40_000  # ProGAN: images per stable phase
    fade_images: int = 40_000  # ProGAN: images per fade-in phase
    total_images: int = 600_000  # length of the run
    ema_images: float = 10_000.0  # EMA half-life in images (ADA's ema_kimg = 10)
    ema_rampup: float = 0.05  # half-life at most this fraction of the images seen (0 = off)
    augment: str = "flip,rot90,translate,affine,brightness,contrast,cutout"  # DiffAugment ops ("" = none)
    augment_p: float = 0.0  # initial (or fixed, without ADA) probability of each op
    ada_target: float = 0.6  # ADA target of E[sign(D(real))]; 0 = fixed p
    ada_interval: int = 4  # D steps between p updates
    ada_images: int = 100_000  # images for p to move by 1
    conditional: bool = True  # condition on pathology when the data holds more than one class
    require_full_labels: bool = True  # train only on cycles whose every frame is labelled
    precision: str = "auto"  # "auto" (bf16 autocast only where the device runs it natively), "bf16", "fp32"
    channels_last: bool = True  # channels_last memory for G and D
    seed: int = 0
    tick_images: int = 2_000  # stats.jsonl / TensorBoard / progress cadence
    checkpoint_images: int = 20_000  # training-state cadence
    snapshot_images: int = 50_000  # EMA snapshot + sample GIF cadence
    metrics_images: int = 100_000  # metrics cadence (0 = only at the end)
    metrics_n: int = 64  # generated cycles per metric evaluation
    n_samples: int = 8  # cycles in each sample GIF
    simulate_subjects: int = 100  # subjects written by --simulate
    threads: int = 0  # torch.set_num_threads (0 = leave as is)
    init_from: str = ""  # fine-tune: a run folder or training-state JSON whose G, D and EMA start this run
    class_map: tuple[tuple[str, str], ...] = ()  # ((data pathology, source class), ...) with init_from
    subjects: tuple[str, ...] = ()  # train on these subjects of the cache only (empty = all)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with fields changed (type-checked against the field annotations)."""
        hints = typing.get_type_hints(TrainConfig)
        for key in changes:
            if key not in hints:
                raise ValueError(f"unknown config field {key!r}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict` (JSON lists become tuples)."""
        fix = lambda v: tuple(fix(x) for x in v) if isinstance(v, list) else v  # noqa: E731
        return cls(**{k: fix(v) for k, v in d.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def parse_override(cfg: TrainConfig, item: str) -> TrainConfig:
    """Apply one ``key=value`` override; the value is parsed as JSON, else taken as a string.

    Example:
        >>> parse_override(PRESETS["progan64-small"], "total_images=1000").total_images
        1000
    """
    key, sep, raw = item.partition("=")
    if not sep:
        raise ValueError(f"override {item!r} is not key=value")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if isinstance(value, list):
        value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return cfg.replace(**{key.strip(): value})


PRESETS: dict[str, TrainConfig] = {
    # The seed project's DCGAN: z 100, Adam(1e-4), batch 32, non-saturating BCE, no growth.
    "dcgan64": TrainConfig(
        arch="dcgan", resolution=64, latent_dim=100, width=64, loss="ns", lr=1e-4, beta1=0.5, beta2=0.999,
        ema_images=0.0, total_images=1_000_000, channels_last=True,
    ),
    "dcgan128": TrainConfig(
        arch="dcgan", resolution=128, latent_dim=100, width=64, loss="ns", lr=1e-4, beta1=0.5, beta2=0.999,
        ema_images=0.0, total_images=1_000_000,
    ),
    # ProGAN at 64 px: channels capped at 128 (4x faster than the paper's 512 on a CPU), 40k+40k
    # images per phase (the seed project's speed_factor schedule), ADA-style R1 gamma.
    "progan64": TrainConfig(arch="progan", resolution=64, fmap_base=8192, fmap_max=128, r1_gamma=0.0256),
    "progan128": TrainConfig(
        arch="progan", resolution=128, fmap_base=8192, fmap_max=128, r1_gamma=0.1024, total_images=1_000_000,
        batch_by_res=((128, 16),),
    ),
    # Minutes on two CPU cores: narrow, grows 8 -> 64 px in 1k-image phases, small batches (more
    # steps per image), unconditional (a few minutes cannot learn 5 classes from 64 subjects).
    # channels_last only pays off at 64+ channels; at these widths it costs 30%.
    "progan64-small": TrainConfig(
        arch="progan", resolution=64, latent_dim=64, fmap_base=1024, fmap_max=32, r1_gamma=0.1, lr=0.002,
        batch=8, start_res=8, stable_images=800, fade_images=800, total_images=6_000, ema_images=500.0,
        lr_by_res=((64, 0.001),), ada_images=10_000, conditional=False, channels_last=False, tick_images=400,
        checkpoint_images=2_000,
        snapshot_images=3_000, metrics_images=2_000, metrics_n=32, simulate_subjects=64,
    ),
    # The label renderer at 64 px (tissue map + z -> frame), sized like progan64-small so that
    # pretraining on the simulator and fine-tuning on a few patients take minutes on two CPU cores.
    # Frames, not cycles: every labelled frame of the data is a training image (ACDC: 2 per slice).
    "render64-small": TrainConfig(
        arch="renderer", resolution=64, latent_dim=32, fmap_base=1024, fmap_max=32, spade_hidden=16,
        r1_gamma=0.1, lr=0.002, lr_by_res=((64, 0.001),), batch=16, start_res=8, stable_images=2_000,
        fade_images=2_000, total_images=20_000, ema_images=1_000.0, ada_images=20_000,
        augment="flip,rot90,translate,brightness,contrast", conditional=False, require_full_labels=False,
        channels_last=False, tick_images=1_000, checkpoint_images=4_000, snapshot_images=5_000,
        metrics_images=5_000, metrics_n=128, simulate_subjects=64,
    ),
}  # fmt: skip
"""Named presets; ``cineaug train --preset NAME``."""
