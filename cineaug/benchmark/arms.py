"""Benchmark arms: name -> training transform. Arms differ only here (as nnU-Net's trainer variants).

Every arm maps a cycle sample (``image``/``label`` ``[T,H,W]``) to one frame sample (``[1,H,W]``):

``RandFramed`` -> ``[SyntheticCycleAugmenterd]`` -> ``baseline(...)``

- ``RandFramed`` picks one labelled frame (the frame-wise protocol);
- with the arm's share, the synthetic step replaces that frame by a frame of a synthetic cycle
  (a random frame of a generated or simulated cycle, or the sample's own frame deformed), so a
  synthetic cycle is rendered one frame at a time: the same distribution as replacing the cycle
  first, 20x cheaper;
- the baseline augments the frame (the same transforms as on a cycle).

An arm name is ``<synthetic>[+<baseline>|-only][@<share>]``:

- the synthetic part names a label source and an appearance: ``synthetic`` (the generator's cycles as
  they are), ``gmm`` (the generator's label cycles, randomly rendered), ``sim`` (simulator cycles as
  they are), ``sim-gmm`` (simulator label cycles, randomly rendered), ``own-gmm`` (the training
  sample's own labels deformed and randomly rendered), ``sim-bssfp``, ``own-bssfp`` (the same, with
  the blood pools always brighter than the myocardium, as in bSSFP cine), and ``render``,
  ``sim-render``, ``own-render`` (the same label sources painted by a trained label renderer,
  :mod:`cineaug.models.renderer`); ``sim-render-rand`` paints simulator labels with the renderer and
  then randomises each tissue's contrast around that texture
  (:class:`~cineaug.transforms.appearance.RandTextureJitter`); ``sim-render-mix`` draws each
  synthetic sample as ``sim-render-rand`` or as ``sim-bssfp``, even odds (MONAI ``OneOf``): the
  renderer's texture and the random appearance's variety in one arm;
- ``+affine``/``+nnunet`` adds a baseline; ``-only`` replaces every sample (``share`` 1): the real data
  then only sets how many samples are drawn, the same for every arm;
- ``@0.5`` sets the share of replaced samples (default 0.25, :data:`DEFAULT_SHARE`); ``@+0.25``
  instead adds synthetic samples beside a full real batch (0.25 x 16 = 4 more per step,
  :func:`added_transform`); ``@0.5~`` anneals the share linearly from 0.5 at the first step to 0 at
  the last (:func:`share_schedule`): synthetic samples early, real ones at the end; ``@auto~``
  starts it where the training set's size says (:func:`~cineaug.transforms.start_share`: a half for
  2 subjects, a fifth for 5, a twentieth for 20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from monai.transforms import Compose, OneOf
from torch import nn

from ..generate import SyntheticBank
from ..transforms import (
    BASELINES,
    BatchedCycleAppearance,
    BatchedNnunetAugment,
    RandFramed,
    SyntheticCycleAugmenterd,
    SyntheticShareSchedule,
    baseline,
    start_share,
)
from ..transforms.synthetic import DEFAULT_PROB, RANDOM_APPEARANCES


@dataclass(frozen=True)
class ArmSpec:
    """What an arm does: its baseline, the share of synthetic samples, their labels and their look.

    Made once per arm by :func:`arm_spec` and passed down; ``name`` is the arm's name as given.
    """

    baseline: str
    share: float = 0.0
    labels: str | None = None  # "generator", "simulator" or "own"; None: no synthetic samples
    appearance: str = "source"  # "source" (as the label source renders it), "gmm", "gmm-bssfp", "renderer"
    # or "renderer+jitter" (rendered, then randomised around the rendering), "renderer-mix" (each
    # sample "renderer+jitter" or "gmm-bssfp", even odds)
    added: float = 0.0  # synthetic samples added per real sample of a batch (instead of replacing)
    anneal: bool = False  # the share falls linearly to 0 over training
    by_size: bool = False  # an annealed share that starts at start_share(training subjects)
    name: str = field(default="", compare=False)  # the arm name it was parsed from

    def start(self, n_subjects: int) -> float:
        """The share at the first step for a training set of ``n_subjects`` (``@auto~``: by size)."""
        return start_share(n_subjects) if self.by_size else self.share

    def describe(self) -> str:
        """What the arm measures, in words (the report's list of arms)."""
        if self.labels is None:
            return "no augmentation" if self.baseline == "none" else f"the {self.baseline} baseline alone"
        labels = {"generator": "the trained generator's", "simulator": "simulator", "own": "the sample's own"}
        looks = {
            "source": "as drawn",
            "gmm": "painted at random",
            "gmm-bssfp": "painted at random in bSSFP's contrast order",
            "renderer": "painted by a trained label renderer",
            "renderer+jitter": "painted by a trained label renderer, then each tissue's contrast "
            "randomised around it (bias field, gamma and noise on top)",
            "renderer-mix": "each painted either by a trained label renderer, its contrast randomised "
            "around it, or at random in bSSFP's contrast order (even odds)",
        }
        if self.labels == "generator" and self.appearance == "source":
            what = "the trained generator's cycles (image and labels)"
        else:
            what = f"{labels[self.labels]} label cycles {looks[self.appearance]}"
        if self.added:
            share = f"{self.added:g} added per real sample"
        elif self.by_size:
            share = "a share of min(0.5, 1/n) for n subjects, annealed to 0"
        else:
            share = f"a share of {self.share:g}" + (", annealed to 0" if self.anneal else "")
        base = "" if self.baseline == "none" else f", then the {self.baseline} baseline"
        return f"{what}, {share}{base}"


@dataclass
class ArmSources:
    """Where the synthetic arms draw from. Folders given for the banks are opened as
    :class:`~cineaug.generate.SyntheticBank`.

    Args:
        generator: a cycle generator (:func:`cineaug.load_pretrained`), run live by generator arms.
        bank: or a bank of generator cycles sampled earlier (``cineaug sample MODEL --out BANK``).
        sim_bank: simulator cycles for the ``sim`` arms (``cineaug simulate OUT --size 64``).
        renderer: a label renderer for the ``render`` arms, run live on each synthetic sample.
        rendered_sim_bank: for ``sim-render``, the simulator cycles rendered ahead by the renderer
            (:func:`cineaug.generate.write_rendered_bank`; the runner paints 250 cycles): no render
            cost per sample; used instead of ``renderer`` where given.
    """

    generator: nn.Module | None = None
    bank: SyntheticBank | None = None
    sim_bank: SyntheticBank | None = None
    renderer: nn.Module | None = None
    rendered_sim_bank: SyntheticBank | None = None

    def __post_init__(self) -> None:
        if self.generator is not None and self.bank is not None:
            raise ValueError("pass a generator or a bank, not both")
        for name in ("bank", "sim_bank", "rendered_sim_bank"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, SyntheticBank):
                setattr(self, name, SyntheticBank(value))


SYNTHETIC_SOURCES: dict[str, tuple[str, str]] = {
    # name: (label source, appearance)
    "synthetic": ("generator", "source"),
    "gmm": ("generator", "gmm"),
    "sim": ("simulator", "source"),
    "sim-gmm": ("simulator", "gmm"),
    "own-gmm": ("own", "gmm"),
    "sim-bssfp": ("simulator", "gmm-bssfp"),
    "own-bssfp": ("own", "gmm-bssfp"),
    "render": ("generator", "renderer"),
    "sim-render": ("simulator", "renderer"),
    "sim-render-rand": ("simulator", "renderer+jitter"),
    "sim-render-mix": ("simulator", "renderer-mix"),
    "own-render": ("own", "renderer"),
}
"""The synthetic part of an arm name."""
DEFAULT_SHARE = DEFAULT_PROB
"""Probability that a training sample is replaced by a synthetic one, unless the arm says ``@share``
(0.25, the transform's default; arm names without ``@`` meant 0.5 before 2026-11-30)."""

ARMS: tuple[str, ...] = (
    "none",
    "affine",
    "photometric",
    "nnunet",
    "synthetic",
    "synthetic+affine",
    "synthetic+nnunet",
    "synthetic-only",
    "gmm+nnunet",
    "gmm-only",
    "sim+nnunet",
    "sim-only",
    "sim-gmm+nnunet",
    "sim-gmm-only",
    "own-gmm+nnunet",
    "own-gmm-only",
    "sim-render+nnunet",
    "sim-render-only",
    "sim-render-rand+nnunet",
    "sim-render-mix+nnunet",
    "own-render+nnunet",
    "render+nnunet",
)
"""The named arms, in report order (any ``@share`` variant of a synthetic arm is valid too)."""
BASELINE_ARMS = ("none", "affine", "photometric", "nnunet")
"""Arms without synthetic samples (the paired test compares every other arm with the best of these)."""


def arm_spec(arm: str) -> ArmSpec:
    """Parse an arm name (see the module docstring): once per arm, by whoever takes names.

    Raises:
        ValueError: naming the arm and what is wrong with it.

    Example:
        >>> arm_spec("sim-gmm+nnunet@0.25")  # doctest: +NORMALIZE_WHITESPACE
        ArmSpec(baseline='nnunet', share=0.25, labels='simulator', appearance='gmm', added=0.0,
                anneal=False, by_size=False, name='sim-gmm+nnunet@0.25')
    """
    name, _, share_text = arm.partition("@")
    if name in BASELINES:
        if share_text:
            raise ValueError(f"arm {arm!r}: a baseline arm has no synthetic share")
        return ArmSpec(name, name=arm)
    synthetic, plus, base = name.partition("+")
    only = not plus and synthetic.endswith("-only")
    synthetic = synthetic.removesuffix("-only") if only else synthetic
    if synthetic not in SYNTHETIC_SOURCES or (plus and base not in BASELINES):
        raise ValueError(
            f"unknown arm {arm!r}; choose from {', '.join(ARMS)} "
            "(a synthetic arm takes a share too, e.g. gmm+nnunet@0.25)"
        )
    if only and share_text:
        raise ValueError(f"arm {arm!r}: an -only arm replaces every sample, it takes no @share")
    labels, appearance = SYNTHETIC_SOURCES[synthetic]
    if share_text == "auto~":
        return ArmSpec(
            base or "none", start_share(1), labels, appearance, anneal=True, by_size=True, name=arm
        )
    added, anneal = share_text.startswith("+"), share_text.endswith("~")
    if added and anneal:
        raise ValueError(f"arm {arm!r}: an added share (@+) cannot be annealed (~)")
    try:
        share = 1.0 if only else float(share_text.removeprefix("+").removesuffix("~") or DEFAULT_SHARE)
    except ValueError:
        raise ValueError(f"arm {arm!r}: the share after '@' must be a number in (0, 1] or auto~") from None
    if not 0 < share <= 1:
        raise ValueError(f"arm {arm!r}: the share after '@' must be in (0, 1]")
    if added:
        return ArmSpec(base or "none", 0.0, labels, appearance, added=share, name=arm)
    return ArmSpec(base or "none", share, labels, appearance, anneal=anneal, name=arm)


def share_schedule(
    spec: ArmSpec, transform: Compose, steps: int, n_subjects: int = 1
) -> Callable[[int], float] | None:
    """For an annealed arm (``@share~``, ``@auto~``), a per-step hook that sets the synthetic step's
    probability to ``start * (1 - step / steps)`` (:class:`~cineaug.transforms.SyntheticShareSchedule`;
    ``start`` from :meth:`ArmSpec.start`); None for other arms.

    Example:
        >>> spec = arm_spec("own-gmm+nnunet@0.5~")
        >>> tf = training_transform(spec)
        >>> hook = share_schedule(spec, tf, steps=100)
        >>> _ = hook(50); tf.transforms[1].prob
        0.25
    """
    synthetic = _synthetic_steps(transform)
    if not spec.anneal or not synthetic:
        return None
    return SyntheticShareSchedule(synthetic, start=spec.start(n_subjects), end=0.0, steps=steps)


def _synthetic_steps(transform: Compose) -> list[SyntheticCycleAugmenterd]:
    """The transform's synthetic steps, those inside a ``OneOf`` (``sim-render-mix``) included: the
    transforms whose ``prob`` is the arm's share."""
    steps = []
    for t in transform.transforms:
        if isinstance(t, SyntheticCycleAugmenterd):
            steps.append(t)
        elif isinstance(t, OneOf):
            steps.extend(_synthetic_steps(t))
    return steps


def needs_generator(spec: ArmSpec) -> bool:
    """Whether the arm draws cycles of a generator (``--model`` or ``--bank``)."""
    return spec.labels == "generator"


def needs_simulator(spec: ArmSpec) -> bool:
    """Whether the arm draws simulator cycles (``--sim-bank``)."""
    return spec.labels == "simulator"


def needs_renderer(spec: ArmSpec) -> bool:
    """Whether the arm paints its labels with a label renderer (``--renderer``)."""
    return spec.appearance.startswith("renderer")


def batched(spec: ArmSpec, augment: str) -> bool:
    """Whether the arm's baseline runs on whole batches: the ``nnunet`` baseline under a protocol's
    ``augment="batched"`` (:class:`~cineaug.transforms.BatchedNnunetAugment`); other baselines have
    no batched form and run per sample."""
    return augment == "batched" and spec.baseline == "nnunet"


def paints_in_batch(spec: ArmSpec, augment: str) -> bool:
    """Whether the arm's random appearance is painted per batch (:class:`BatchStage`): a random
    appearance on a :func:`batched` arm; its samples then carry tissue maps, unpainted."""
    return batched(spec, augment) and spec.appearance in RANDOM_APPEARANCES


def batch_transform(spec: ArmSpec, augment: str = "per-sample") -> BatchedNnunetAugment | BatchStage | None:
    """The transform of each collated batch (image, label ``[B,1,H,W]``) where :func:`batched`, else
    None: :class:`~cineaug.transforms.BatchedNnunetAugment`, after the painting of the synthetic
    samples where :func:`paints_in_batch` (:class:`BatchStage`)."""
    if not batched(spec, augment):
        return None
    if paints_in_batch(spec, augment):
        return BatchStage(
            BatchedCycleAppearance(**RANDOM_APPEARANCES[spec.appearance]), BatchedNnunetAugment()
        )
    return BatchedNnunetAugment()


class BatchStage:
    """A batch's synthetic samples painted (``paint``, from the tissue maps their transform left),
    then every frame through ``augment``: ``(image, label, tissue, synthetic) -> (image, label)``."""

    def __init__(self, paint: BatchedCycleAppearance, augment: BatchedNnunetAugment) -> None:
        self.paint, self.augment = paint, augment

    def set_random_state(self, seed: int) -> BatchStage:
        """``augment`` seeded with ``seed`` (as on its own), the painting with a seed derived from it."""
        self.augment.set_random_state(seed)
        self.paint.set_random_state(int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]))
        return self

    def __call__(
        self,
        image: torch.Tensor,
        label: torch.Tensor,
        tissue: torch.Tensor | None = None,
        synthetic: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if tissue is not None:
            image = self.paint.paint(image, tissue, synthetic)
        return self.augment(image, label)


def training_transform(
    spec: ArmSpec, sources: ArmSources | None = None, augment: str = "per-sample"
) -> Compose:
    """The arm's training transform: cycle sample -> augmented frame sample ``[1,H,W]``.

    Args:
        spec: the parsed arm (:func:`arm_spec`).
        sources: where its synthetic samples come from (:class:`ArmSources`).
        augment: the protocol's ``augment``: with ``"batched"``, the ``nnunet`` baseline is left to
            :func:`batch_transform` and this transform stops before it.

    Raises:
        ValueError: an arm whose source was not given.

    Example:
        >>> tf = training_transform(arm_spec("affine"))
        >>> tf.set_random_state(0)  # doctest: +ELLIPSIS
        <monai.transforms.compose.Compose object at ...>
    """
    return _compose(spec, spec.share, sources or ArmSources(), augment)


def added_transform(
    spec: ArmSpec, sources: ArmSources | None = None, augment: str = "per-sample"
) -> Compose | None:
    """For an ``@+share`` arm, the transform of the synthetic samples added to each batch (every
    sample replaced); None for other arms. Arguments as :func:`training_transform`."""
    return _compose(spec, 1.0, sources or ArmSources(), augment) if spec.added else None


def _compose(spec: ArmSpec, share: float, sources: ArmSources, augment: str) -> Compose:
    steps = [RandFramed(("image", "label"))]
    base = [] if batched(spec, augment) else [baseline(spec.baseline)]
    if spec.labels is None or share == 0:
        return Compose([*steps, *base])
    return Compose([*steps, _synthetic_step(spec, share, sources, augment), *base])


def _synthetic_step(
    spec: ArmSpec, share: float, sources: ArmSources, augment: str
) -> SyntheticCycleAugmenterd | OneOf:
    """The arm's synthetic step: a :class:`SyntheticCycleAugmenterd` replacing a sample with
    probability ``share``; for ``renderer-mix``, a ``OneOf`` of two at even odds (same ``share``)."""
    arm = spec.name or spec
    if spec.appearance == "renderer-mix":  # the renderer's arm or the random bSSFP appearance's, per sample
        looks = (replace(spec, appearance=look) for look in ("renderer+jitter", "gmm-bssfp"))
        return OneOf([_synthetic_step(look, share, sources, "per-sample") for look in looks], weights=(1, 1))
    if spec.labels == "generator":
        if sources.generator is None and sources.bank is None:
            raise ValueError(f"arm {arm!r} needs a generator or a bank (pass --model or --bank)")
        source = {"generator": sources.generator} if sources.generator is not None else {"bank": sources.bank}
    elif spec.labels == "simulator":
        if sources.sim_bank is None:
            raise ValueError(f"arm {arm!r} needs simulator cycles (pass --sim-bank)")
        source = {"bank": sources.sim_bank}
    else:
        source = {"own_labels": True}
    appearance: str | nn.Module = spec.appearance
    if needs_renderer(spec):
        jitter = appearance == "renderer+jitter"
        if spec.labels == "simulator" and sources.rendered_sim_bank is not None:
            source, appearance = {"bank": sources.rendered_sim_bank}, "jitter" if jitter else "source"
        elif jitter:
            raise ValueError(
                f"arm {arm!r} randomises simulator cycles painted ahead by the renderer: "
                "pass --sim-bank and --renderer (the benchmark paints them)"
            )
        elif sources.renderer is None:
            raise ValueError(f"arm {arm!r} needs a label renderer (pass --renderer)")
        else:
            appearance = sources.renderer
    paint = "batch" if paints_in_batch(spec, augment) else "sample"
    return SyntheticCycleAugmenterd(
        keys=("image", "label"), prob=share, appearance=appearance, intensity="keep", paint=paint, **source
    )  # the protocol's cycles are in [-1, 1] already, as synthetic ones are: "keep" is "match" per cycle
