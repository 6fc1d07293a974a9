"""Seeded subject parameters: one seed gives one subject (docs/simulator.md, "Seeds" and "Classes").

Randomness comes from a :class:`numpy.random.SeedSequence` built from ``(seed,)`` or ``(seed, index)``
and spawned into five independent streams: class, anatomy, motion, signal and acquisition. Each
stream draws only its own group of parameters, so :func:`rescan` can scan "the same heart again"
with a new acquisition, and adding a parameter to one group leaves the others unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..types import ACDC_PATHOLOGIES, SUNNYBROOK_PATHOLOGIES
from .anatomy_params import Anatomy, Thorax, sample_anatomy, sample_thorax
from .classes import ARCHETYPE
from .motion_params import Motion, sample_motion

PATHOLOGY_SETS: dict[str, tuple[str, ...]] = {"acdc": ACDC_PATHOLOGIES, "sunnybrook": SUNNYBROOK_PATHOLOGIES}
"""Class names per label set."""

TISSUES = (
    "blood",
    "venous",
    "myo",
    "scar",
    "fat",
    "liver",
    "muscle",
    "marrow",
    "bone",
    "spleen",
    "fluid",
    "lung",
    "pericardium",
)
"""Tissues of the signal model (T1/T2/PD in ``signal.TISSUE_TABLE``); ``blood`` is arterial blood."""


@dataclass
class Signal:
    """bSSFP sequence and tissue parameters (docs/simulator.md, "Signal")."""

    flip_deg: float  # flip angle alpha
    tr_ms: float  # repetition time; TE = TR / 2
    jitter: dict[str, list[float]]  # tissue -> [T1, T2, PD] multiplicative factors
    inflow: float  # through-plane inflow gain of blood
    texture_sigma: float  # relative std of the static tissue texture
    flow_sigma: float  # relative std of the per-frame blood modulation
    seed: int  # seed of the texture and flow fields


@dataclass
class Acquisition:
    """Geometry, coils, k-space sampling, noise and scaling (docs/simulator.md, "Acquisition")."""

    pixel_mm: float
    slice_mm: float
    res_ro_mm: float  # acquired resolution along read-out
    res_pe_mm: float  # acquired resolution along phase-encode
    pe_axis: int  # 0: phase-encode along image rows (vertical), 1: along columns
    tukey: float  # apodisation window parameter (0 = none, full Gibbs ringing)
    n_coils: int
    coil_radius_mm: float
    coil_offset_mm: float  # distance of the coil ring outside the body outline
    eta: float  # partial surface-coil intensity correction I / B**eta
    snr_myo: float  # target myocardial SNR at ED
    jitter_mm: float  # std of the per-frame rigid breathing offset of the heart
    p99: float  # 99th percentile of the output magnitude
    seed: int  # seed of the per-frame jitter and the noise


def subject_id(seed: int, index: int | None = None) -> str:
    """Subject id: ``sim000042`` for a lone seed, ``sim000042-00007`` inside a data set."""
    return f"sim{seed:06d}" if index is None else f"sim{seed:06d}-{index:05d}"


@dataclass
class SubjectParams:
    """Every parameter of one simulated subject; JSON-serialisable through :meth:`to_dict`.

    Example:
        >>> p = sample_subject(3, pathology="DCM")
        >>> p.pathology, SubjectParams.from_dict(p.to_dict()) == p
        ('DCM', True)
    """

    seed: int
    index: int | None  # subject index inside a data set (SeedSequence([seed, index])), None for a lone seed
    label_set: str
    pathology: str
    sex: str  # "M" or "F"
    bsa: float  # body surface area, m^2
    age: float  # years
    anatomy: Anatomy
    thorax: Thorax
    motion: Motion
    signal: Signal
    acquisition: Acquisition

    @property
    def subject(self) -> str:
        return subject_id(self.seed, self.index)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubjectParams:
        groups = {
            "anatomy": Anatomy,
            "thorax": Thorax,
            "motion": Motion,
            "signal": Signal,
            "acquisition": Acquisition,
        }
        kwargs = {k: (groups[k](**v) if k in groups else v) for k, v in d.items()}
        return cls(**kwargs)


def _streams(seed: int, index: int | None) -> list[np.random.Generator]:
    entropy = [seed] if index is None else [seed, index]
    return [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(5)]


def sample_subject(
    seed: int, pathology: str | None = None, label_set: str = "acdc", index: int | None = None
) -> SubjectParams:
    """Draw one subject.

    Args:
        seed: base seed (>= 0).
        pathology: class name of ``label_set``; drawn uniformly from the class stream if None.
        label_set: "acdc" (NOR, MINF, DCM, HCM, ARV) or "sunnybrook" (N, HYP, HF-I, HF-NI).
        index: subject index inside a data set; the streams then derive from ``SeedSequence([seed, index])``.

    Returns:
        The subject's parameters, bit-identical for the same arguments.
    """
    if label_set not in PATHOLOGY_SETS:
        raise ValueError(f"label_set must be one of {sorted(PATHOLOGY_SETS)}, got {label_set!r}")
    classes = PATHOLOGY_SETS[label_set]
    r_class, r_anat, r_motion, r_signal, r_acq = _streams(seed, index)
    drawn = classes[int(r_class.integers(len(classes)))]
    pathology = drawn if pathology is None else pathology
    if pathology not in classes:
        raise ValueError(f"pathology {pathology!r} is not in the {label_set} set {classes}")
    kind = ARCHETYPE[pathology]
    sex = "M" if r_anat.random() < 0.5 else "F"
    bsa, age = float(r_anat.uniform(1.6, 2.2)), float(r_anat.uniform(20, 80))
    anatomy = sample_anatomy(r_anat, kind, pathology, sex, bsa)
    thorax = sample_thorax(r_anat)
    motion = sample_motion(r_motion, kind, age)
    return SubjectParams(
        seed=int(seed),
        index=index,
        label_set=label_set,
        pathology=pathology,
        sex=sex,
        bsa=bsa,
        age=age,
        anatomy=anatomy,
        thorax=thorax,
        motion=motion,
        signal=_sample_signal(r_signal),
        acquisition=_sample_acquisition(r_acq),
    )


def rescan(params: SubjectParams, seed: int) -> SubjectParams:
    """The same heart and body scanned again: new acquisition and signal draws, same anatomy and motion."""
    root = np.random.SeedSequence(
        [params.seed, 0 if params.index is None else params.index + 1, seed, 0x5CA2]
    )
    r_signal, r_acq = (np.random.default_rng(s) for s in root.spawn(2))
    return dataclasses.replace(
        params, signal=_sample_signal(r_signal), acquisition=_sample_acquisition(r_acq)
    )


def _sample_signal(rng: np.random.Generator) -> Signal:
    jitter = {t: [float(v) for v in 1 + 0.03 * rng.standard_normal(3)] for t in TISSUES}
    return Signal(
        flip_deg=float(rng.uniform(45, 70)),
        tr_ms=float(rng.uniform(2.8, 3.8)),
        jitter=jitter,
        inflow=float(rng.uniform(1.0, 1.1)),
        texture_sigma=float(rng.uniform(0.02, 0.04)),
        flow_sigma=float(rng.uniform(0.02, 0.05)),
        seed=int(rng.integers(2**31)),
    )


def _sample_acquisition(rng: np.random.Generator) -> Acquisition:
    """Acquisition draws; resolution, apodisation, bias correction, SNR and scale are tuned to the real
    Sunnybrook subset (studies/realism_sunnybrook.py), coarser and noisier than typical 1.5 T protocol
    values (docs/simulator.md, "Realism against the real Sunnybrook subset")."""
    pixel = float(rng.uniform(1.25, 1.5))
    return Acquisition(
        pixel_mm=pixel,
        slice_mm=float(rng.uniform(6, 8)),
        res_ro_mm=float(max(pixel, rng.uniform(1.6, 2.2))),
        res_pe_mm=float(max(pixel, rng.uniform(1.9, 2.8))),
        pe_axis=int(rng.integers(2)),
        tukey=float(rng.uniform(0.2, 0.6)),
        n_coils=int(rng.choice([4, 8, 12, 16])),
        coil_radius_mm=float(rng.uniform(40, 80)),
        coil_offset_mm=float(rng.uniform(15, 40)),
        eta=float(rng.uniform(0.2, 0.6)),
        snr_myo=float(np.exp(rng.uniform(np.log(6), np.log(18)))),
        jitter_mm=float(rng.uniform(0, 0.6)),
        p99=float(np.exp(rng.uniform(np.log(300), np.log(1200)))),
        seed=int(rng.integers(2**31)),
    )
