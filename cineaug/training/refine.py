"""Refining a fold's label renderer with feedback its discriminator cannot give.

A fold renderer (:func:`~cineaug.training.fold_renderer.finetune_renderer`) learns texture from the
fold's labelled frames only, judged by a discriminator that sees image-label pairs. Two further
signals, each a short stage of training on top of it:

- ``"segmentation"`` (GenSeg's idea, Zhang et al. Nat. Biomed. Eng. 2025, at one unrolled step): a
  segmenter takes one SGD step on renders of simulator tissue maps; the renderer is then updated so
  that the stepped segmenter's Dice + CE loss on the fold's **real** labelled frames falls. The
  gradient runs through the segmenter's step (second order), so the renderer learns to paint what
  moves a segmenter towards the real frames. The segmenter itself trains alongside on renders and
  real frames, as the benchmark's segmenter will.
- ``"unlabelled"``: a patch discriminator (MONAI's ``PatchDiscriminator``) compares renders of
  simulator tissue maps with **unlabelled** frames of the target data (every acquired frame of a
  cache, labels unused), so the texture of the anatomy the renderer will paint comes from the target
  scanner, not only from the fold's few labelled frames.

Both keep the renderer near where it started: an L1 pull (``anchor``) towards the starting renderer's
render of the same tissue map and latent, so the labels a render was drawn from stay its labels.
"""

from __future__ import annotations

import json
import os
from copy import deepcopy
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..atomic import atomic_write_json
from ..errors import CineDataError
from ..models.hub import save_pretrained, weights_digest
from ..pretrained import load_pretrained
from ..tissues import N_HEART_CLASSES, one_hot_tissues
from .realdata import cache_subset
from .realframes import RealFrames, simulated_tissue_cycles
from .render_step import heart_labels

FEEDBACKS = ("segmentation", "unlabelled")
REFINE = "refine.json"  # what a refined renderer folder was refined from and with
FEEDBACK_DEFAULTS = {"segmentation": {"lr": 1e-3, "anchor": 0.1}}
"""Per feedback: the second-order signal is weak and noisy, so the renderer needs a larger step and a
looser anchor to move at all (lr 1e-4 with anchor 1 moved renders by 0.004 in L1 over 200 updates; lr
1e-3 with anchor 0.1 by 0.04, as far as the unlabelled texture moves them at 1e-4)."""


@dataclass(frozen=True)
class RefineSettings:
    """How a renderer is refined (:func:`refine_renderer`).

    Attributes:
        feedback: ``"segmentation"`` or ``"unlabelled"`` (see the module's docstring).
        steps: renderer updates.
        batch: frames per step (renders, and as many real frames).
        lr: Adam learning rate of the renderer (and of the patch discriminator).
        anchor: weight of the L1 pull towards the starting renderer's renders (intensities in [-1, 1]).
        inner_lr: ``"segmentation"``: the SGD step of the unrolled segmenter.
        warmup: ``"segmentation"``: segmenter steps before the renderer's first update.
        sim_cycles: simulator cycles whose tissue maps are rendered (20 frames each).
        unlabelled: ``"unlabelled"``: the cache whose acquired frames give the texture.
        max_unlabelled: at most this many of its frames (drawn at random, seeded).
    """

    feedback: str
    steps: int = 200
    batch: int = 8
    lr: float = 1e-4
    anchor: float = 1.0
    inner_lr: float = 0.1
    warmup: int = 100
    sim_cycles: int = 20
    unlabelled: str | None = None
    max_unlabelled: int = 4_000

    @classmethod
    def of(cls, feedback: str, **changes) -> RefineSettings:
        """``feedback``'s settings: :data:`FEEDBACK_DEFAULTS` over the fields' defaults, then ``changes``."""
        return cls(feedback, **{**FEEDBACK_DEFAULTS.get(feedback, {}), **changes})

    def __post_init__(self):
        if self.feedback not in FEEDBACKS:
            raise ValueError(f"refine feedback {self.feedback!r}: choose one of {', '.join(FEEDBACKS)}")
        if self.feedback == "unlabelled" and not self.unlabelled:
            raise ValueError(
                "refine feedback 'unlabelled' needs a cache of unlabelled frames (--renderer-unlabelled)"
            )
        if self.steps < 1 or self.batch < 1:
            raise ValueError(f"refine: steps ({self.steps}) and batch ({self.batch}) must be >= 1")


def unlabelled_frames(root: str | os.PathLike, resolution: int, limit: int, seed: int) -> torch.Tensor:
    """Up to ``limit`` acquired frames of a cache, labels unused: ``[F,R,R]`` float32 in [-1, 1].

    Raises:
        CineDataError: naming the cache, when it holds no acquired frame.
    """
    ds = cache_subset(root, ())
    frames = []
    for i in range(len(ds)):
        sample = ds[i]
        frames.append(sample["image"][sample["observed"]])  # [t,H,W]
    if not frames or sum(len(f) for f in frames) == 0:
        raise CineDataError(root, "no acquired frame to take texture from")
    img = torch.cat(frames)
    pick = torch.randperm(len(img), generator=torch.Generator().manual_seed(seed))[:limit]
    img = img[pick.sort().values]
    if img.shape[-1] != resolution:
        img = F.interpolate(img[:, None], size=(resolution, resolution), mode="area")[:, 0]
    return img.clamp(-1, 1)


def _heart_labels(tissues: torch.Tensor) -> torch.Tensor:
    """Tissue indices ``[N,H,W]`` -> ACDC labels ``[N,1,H,W]`` (background clusters -> 0), long."""
    return heart_labels(tissues).long()[:, None]


def _segmenter() -> nn.Module:
    """The segmenter of the feedback: the quick protocol's 2D UNet (16-128 channels, instance norm)."""
    from monai.networks.nets import UNet

    return UNet(2, 1, N_HEART_CLASSES, channels=(16, 32, 64, 128), strides=(2, 2, 2), num_res_units=1,
                norm="instance")  # fmt: skip


class _Refiner:
    """The state of one refinement: the renderer being refined, its frozen start, and the data."""

    def __init__(self, g: nn.Module, reals: RealFrames, sim: torch.Tensor, s: RefineSettings, seed: int):
        from monai.losses import DiceCELoss

        torch.manual_seed(seed)
        self.g, self.s = g.train(), s
        self.g0 = _frozen_copy(g)
        self.reals, self.sim = reals, sim  # sim: [M,R,R] uint8 tissue maps
        self.rng = torch.Generator().manual_seed(seed)
        self.opt_g = torch.optim.Adam(g.parameters(), lr=s.lr, betas=(0.0, 0.99))
        self.loss = DiceCELoss(to_onehot_y=True, softmax=True)

    def draw_renders(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Renders of random simulator maps: image ``[B,1,R,R]``, labels ``[B,1,R,R]``, anchor L1."""
        idx = torch.randint(len(self.sim), (self.s.batch,), generator=self.rng)
        onehot = one_hot_tissues(self.sim[idx], self.g.n_tissues)  # [B,C,R,R]
        z = torch.randn(self.s.batch, self.g.latent_dim, generator=self.rng)
        img = self.g(onehot, z).clamp(-1, 1)
        with torch.no_grad():
            start = self.g0(onehot, z).clamp(-1, 1)
        return img, _heart_labels(self.sim[idx]), (img - start).abs().mean()

    def draw_reals(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Real labelled frames of the fold: image ``[B,1,R,R]``, labels ``[B,1,R,R]``."""
        idx = torch.randint(len(self.reals), (self.s.batch,), generator=self.rng)
        return self.reals.images[idx][:, None], _heart_labels(self.reals.tissues[idx])


class _SegmentationFeedback(_Refiner):
    """GenSeg at one unrolled step: renders that lower a stepped segmenter's loss on real frames."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seg = _segmenter()
        self.opt_s = torch.optim.Adam(self.seg.parameters(), lr=1e-3)

    def train_segmenter(self) -> float:
        with torch.no_grad():
            img, lab, _ = self.draw_renders()
        real, real_lab = self.draw_reals()
        loss = self.loss(self.seg(torch.cat([img, real])), torch.cat([lab, real_lab]))
        self.opt_s.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_s.step()
        return float(loss.detach())

    def step(self, i: int) -> dict[str, float]:
        seg_loss = self.train_segmenter()
        if i < self.s.warmup:
            return {"seg": seg_loss}
        img, lab, anchor = self.draw_renders()
        params = dict(self.seg.named_parameters())
        inner = self.loss(torch.func.functional_call(self.seg, params, (img,)), lab)
        grads = torch.autograd.grad(inner, list(params.values()), create_graph=True)
        stepped = {k: p - self.s.inner_lr * g for (k, p), g in zip(params.items(), grads)}
        real, real_lab = self.draw_reals()
        outer = self.loss(torch.func.functional_call(self.seg, stepped, (real,)), real_lab)
        self.opt_g.zero_grad(set_to_none=True)
        (outer + self.s.anchor * anchor).backward(inputs=list(self.g.parameters()))
        self.opt_g.step()
        return {"seg": seg_loss, "outer": float(outer.detach()), "anchor": float(anchor.detach())}

    @property
    def updates(self) -> int:
        return self.s.warmup + self.s.steps


class _UnlabelledTexture(_Refiner):
    """Renders of simulator maps against unlabelled target frames, judged patch by patch (hinge loss)."""

    def __init__(self, *args, frames: torch.Tensor):
        from monai.networks.nets import PatchDiscriminator

        super().__init__(*args)
        self.frames = frames  # [F,R,R]
        self.d = PatchDiscriminator(spatial_dims=2, channels=32, in_channels=1, num_layers_d=3)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=self.s.lr, betas=(0.0, 0.99))

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        return self.d(x)[-1]  # [B,1,h,w] patch logits

    def step(self, i: int) -> dict[str, float]:
        img, _, anchor = self.draw_renders()
        idx = torch.randint(len(self.frames), (self.s.batch,), generator=self.rng)
        real = self.frames[idx][:, None]
        d_loss = F.relu(1 - self.critic(real)).mean() + F.relu(1 + self.critic(img.detach())).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_adv = -self.critic(img).mean()
        self.opt_g.zero_grad(set_to_none=True)
        (g_adv + self.s.anchor * anchor).backward(inputs=list(self.g.parameters()))
        self.opt_g.step()
        return {"d": float(d_loss.detach()), "g": float(g_adv.detach()), "anchor": float(anchor.detach())}

    @property
    def updates(self) -> int:
        return self.s.steps


def _frozen_copy(g: nn.Module) -> nn.Module:
    g0 = deepcopy(g).eval()
    for p in g0.parameters():
        p.requires_grad_(False)
    return g0


def refine_renderer(
    renderer: nn.Module,
    data: str | os.PathLike,
    subjects: list[str],
    out: str | os.PathLike,
    settings: RefineSettings,
    seed: int = 0,
    progress: bool = False,
) -> nn.Module:
    """Refine ``renderer`` with ``settings.feedback`` on ``subjects`` of ``data``, into model folder ``out``.

    Only the fold's labelled frames (``subjects`` of ``data``) and, for ``"unlabelled"``, the images
    of ``settings.unlabelled`` are seen. A folder refined alike (``out/refine.json``) is reused; one
    refined otherwise is refused.

    Returns:
        The refined renderer (eval mode), as :func:`~cineaug.pretrained.load_pretrained` opens ``out``.
    """
    with torch.random.fork_rng():  # seeded inside; the caller's random state is left alone
        out = Path(out)
        made = {"renderer": weights_digest(renderer), "data": str(Path(data).resolve()),
                "subjects": sorted(subjects), "seed": seed, **asdict(settings)}  # fmt: skip
        if settings.unlabelled:
            made["unlabelled"] = str(Path(settings.unlabelled).resolve())
        done = json.loads((out / REFINE).read_text()) if (out / REFINE).is_file() else None
        if done is not None and done != made:
            raise CineDataError(out, f"was refined with other settings ({done}, asked {made}): remove it")
        if done is not None and (out / "model.safetensors").is_file():
            return load_pretrained(out)
        torch.set_flush_denormal(True)
        g = deepcopy(renderer).float().cpu()  # the caller's renderer stays as it was
        clusters = g.n_tissues - N_HEART_CLASSES  # background intensity classes of the tissue maps
        reals = RealFrames.from_cache(data, g.resolution, clusters, subjects)
        sim = simulated_tissue_cycles(settings.sim_cycles, g.resolution, clusters, seed=seed)
        sim = sim.flatten(0, 1)  # [S*T,R,R]
        if settings.feedback == "segmentation":
            refiner = _SegmentationFeedback(g, reals, sim, settings, seed)
        else:
            frames = unlabelled_frames(settings.unlabelled, g.resolution, settings.max_unlabelled, seed)
            refiner = _UnlabelledTexture(g, reals, sim, settings, seed, frames=frames)
        log = []
        for i in tqdm(range(refiner.updates), desc=f"refine ({settings.feedback})", disable=not progress):
            stats = refiner.step(i)
            if not all(np.isfinite(v) for v in stats.values()):
                raise CineDataError(out, f"refinement diverged at update {i} (non-finite losses): {stats}")
            if i % 50 == 0 or i == refiner.updates - 1:
                log.append({"step": i, **{k: round(v, 5) for k, v in stats.items()}})
        out.mkdir(parents=True, exist_ok=True)
        extra = {"spacing_mm": getattr(renderer, "spacing_mm", None), "refined": made, "log": log}
        save_pretrained(g.eval(), out, extra=extra)
        atomic_write_json(out / REFINE, made)
        return load_pretrained(out)
