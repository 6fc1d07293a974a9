"""Augmentation baselines as named presets of MONAI transforms, frame-consistent for cycles.

Cycles carry their 20 frames in the channel axis, so MONAI's 2D spatial transforms warp every
frame identically. Intensity transforms are chosen (or configured) so that one random draw
serves all frames: ``RandKSpaceSpikeNoised(channel_wise=False)``; no per-channel gamma. Noise is
the exception by nature (independent per pixel and frame, as in a real acquisition).

``baseline(name)`` returns a ``Compose`` for dictionary samples with ``image`` ``[T,H,W]`` in
[-1, 1] and ``label`` ``[T,H,W]``:

- ``none``: nothing (the lower bound);
- ``affine``: rotation, scale, translation, flips and elastic deformation (image + label);
- ``photometric``: gamma, contrast, noise, bias field, blur and k-space artefacts (image only);
- ``nnunet``: the nnU-Net v2 default 2D training augmentation, reproduced with MONAI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from monai.transforms import (
    Compose,
    Rand2DElasticd,
    RandAdjustContrastd,
    RandAffined,
    RandBiasFieldd,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandGibbsNoised,
    RandKSpaceSpikeNoised,
    RandRicianNoised,
    RandScaleIntensityd,
    RandScaleIntensityFixedMeand,
    RandSimulateLowResolutiond,
    RandZoomd,
    ShiftIntensityd,
)

Keys = Sequence[str]


def affine(image_key: str = "image", label_key: str = "label") -> Compose:
    """Rotation ±15°, scale 0.85-1.2, translation ±6 px, flips, mild elastic deformation."""
    keys = (image_key, label_key)
    modes = ("bilinear", "nearest")
    return Compose(
        [
            RandAffined(
                keys,
                prob=0.8,
                rotate_range=math.radians(15),
                scale_range=(0.15, 0.15),
                translate_range=(6, 6),
                mode=modes,
                padding_mode="border",
            ),
            RandFlipd(keys, prob=0.5, spatial_axis=0),
            RandFlipd(keys, prob=0.5, spatial_axis=1),
            Rand2DElasticd(
                keys,
                spacing=(16, 16),
                magnitude_range=(0.5, 1.5),
                prob=0.2,
                mode=modes,
                padding_mode="border",
            ),
        ]
    )


def photometric(image_key: str = "image", label_key: str = "label") -> Compose:
    """Gamma, contrast, Rician and Gaussian noise, coil bias field, blur, Gibbs ringing, k-space spikes."""
    k = (image_key,)
    return Compose(
        [
            RandAdjustContrastd(k, prob=0.3, gamma=(0.7, 1.5), retain_stats=True),
            RandScaleIntensityFixedMeand(k, prob=0.15, factors=0.25, preserve_range=True),
            RandBiasFieldd(k, prob=0.2, degree=3, coeff_range=(0.0, 0.2)),
            RandGaussianSmoothd(k, prob=0.2, sigma_x=(0.25, 0.75), sigma_y=(0.25, 0.75)),
            # k-space artefacts and Rician noise act on the magnitude, image + 1 (-1 is no signal):
            # MONAI's k-space spike returns a magnitude, which would fold negative values up
            ShiftIntensityd(k, offset=1.0),
            RandGibbsNoised(k, prob=0.1, alpha=(0.0, 0.5)),
            RandKSpaceSpikeNoised(k, prob=0.05, channel_wise=False),
            RandRicianNoised(k, prob=0.1, std=0.03, relative=False, sample_std=True),
            ShiftIntensityd(k, offset=-1.0),
            RandGaussianNoised(k, prob=0.1, std=0.05, sample_std=True),
        ]
    )


def nnunet(image_key: str = "image", label_key: str = "label") -> Compose:
    """The nnU-Net v2 default 2D training augmentation (nnUNetTrainer, batchgeneratorsv2), in MONAI.

    Differences: rotation and zoom resample twice; intensity draws are shared by all frames
    (nnU-Net draws per channel, which would make a cycle's frames flicker).
    """
    keys, k = (image_key, label_key), (image_key,)
    modes = ("bilinear", "nearest")
    return Compose(
        [
            RandAffined(keys, prob=0.2, rotate_range=math.pi, mode=modes, padding_mode="zeros"),
            RandZoomd(
                keys, prob=0.2, min_zoom=0.7, max_zoom=1.4, mode=("bilinear", "nearest"), keep_size=True
            ),
            RandGaussianNoised(k, prob=0.1, std=0.1, sample_std=True),
            RandGaussianSmoothd(k, prob=0.2, sigma_x=(0.5, 1.0), sigma_y=(0.5, 1.0)),
            RandScaleIntensityd(k, prob=0.15, factors=0.25),
            RandScaleIntensityFixedMeand(k, prob=0.15, factors=0.25, preserve_range=True),
            RandSimulateLowResolutiond(k, prob=0.25, zoom_range=(0.5, 1.0), upsample_mode="bilinear"),
            RandAdjustContrastd(k, prob=0.1, gamma=(0.7, 1.5), invert_image=True, retain_stats=True),
            RandAdjustContrastd(k, prob=0.3, gamma=(0.7, 1.5), retain_stats=True),
            RandFlipd(keys, prob=0.5, spatial_axis=0),
            RandFlipd(keys, prob=0.5, spatial_axis=1),
        ]
    )


BASELINES: dict[str, Callable[..., Compose]] = {
    "none": lambda image_key="image", label_key="label": Compose([]),
    "affine": affine,
    "photometric": photometric,
    "nnunet": nnunet,
}


def baseline(name: str, image_key: str = "image", label_key: str = "label") -> Compose:
    """The named baseline augmentation as a MONAI ``Compose`` over dictionary samples.

    Args:
        name: ``none``, ``affine``, ``photometric`` or ``nnunet``.
        image_key: the sample's image key.
        label_key: the sample's label key (labels only go through spatial transforms).

    Example:
        >>> tf = baseline("affine")
        >>> tf.set_random_state(0)  # doctest: +ELLIPSIS
        <monai.transforms.compose.Compose object at ...>
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    return BASELINES[name](image_key=image_key, label_key=label_key)
