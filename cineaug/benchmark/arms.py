"""Benchmark arms: name -> training transform. Arms differ only here (as nnU-Net's trainer variants).

Every arm maps a cycle sample (``image``/``label`` ``[T,H,W]``) to one frame sample (``[1,H,W]``):

``[SyntheticCycleAugmenterd]`` -> ``RandFramed`` -> ``baseline(...)``

- the synthetic step comes first, so that a synthetic cycle yields one of its frames (all labelled);
- ``RandFramed`` picks one labelled frame (the frame-wise protocol);
- the baseline augments that frame (the same transforms as on a cycle, 20x cheaper).

``synthetic-only`` replaces every training sample by a synthetic one (``prob=1``): the real
training data then only sets how many samples are drawn, which is the same for every arm.
"""

from __future__ import annotations

import os

from monai.transforms import Compose
from torch import nn

from ..transforms import RandFramed, SyntheticBank, SyntheticCycleAugmenterd, baseline

ARMS: dict[str, tuple[str, float]] = {
    # name: (baseline, probability that a sample is replaced by a synthetic one)
    "none": ("none", 0.0),
    "affine": ("affine", 0.0),
    "photometric": ("photometric", 0.0),
    "nnunet": ("nnunet", 0.0),
    "synthetic": ("none", 0.5),
    "synthetic+affine": ("affine", 0.5),
    "synthetic+nnunet": ("nnunet", 0.5),
    "synthetic-only": ("none", 1.0),
}
"""All arms, in report order."""
BASELINE_ARMS = ("none", "affine", "photometric", "nnunet")
"""Arms without a generator (the paired test compares every other arm with the best of these)."""


def needs_generator(arm: str) -> bool:
    """Whether the arm draws synthetic cycles."""
    return _spec(arm)[1] > 0


def _spec(arm: str) -> tuple[str, float]:
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")
    return ARMS[arm]


def training_transform(
    arm: str, generator: nn.Module | None = None, bank: str | os.PathLike | SyntheticBank | None = None
) -> Compose:
    """The arm's training transform: cycle sample -> augmented frame sample ``[1,H,W]``.

    Args:
        arm: a key of :data:`ARMS`.
        generator: a cycle generator (:func:`cineaug.load_pretrained`), run live by synthetic arms.
        bank: or a bank of cycles sampled earlier (``cineaug sample MODEL --out BANK``).

    Raises:
        ValueError: unknown arm, or a synthetic arm with neither a generator nor a bank.

    Example:
        >>> tf = training_transform("affine")
        >>> tf.set_random_state(0)  # doctest: +ELLIPSIS
        <monai.transforms.compose.Compose object at ...>
    """
    name, prob = _spec(arm)
    steps = []
    if prob > 0:
        if generator is None and bank is None:
            raise ValueError(f"arm {arm!r} needs a generator or a bank (pass --model or --bank)")
        source = {"generator": generator} if generator is not None else {"bank": bank}
        steps.append(SyntheticCycleAugmenterd(keys=("image", "label"), prob=prob, **source))
    steps.append(RandFramed(("image", "label")))
    steps.append(baseline(name))
    return Compose(steps)
