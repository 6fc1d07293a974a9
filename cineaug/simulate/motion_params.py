"""Motion parameters over one R-R interval and their sampling from the motion stream.

See docs/simulator.md ("Classes" and "Motion").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import CLASS_TABLE

TAU_ES_MAX = 0.40
"""Latest end-systole (fraction of R-R); keeps ES inside frames 4-10 of 20 with the relaxation plateau."""


@dataclass
class Motion:
    """Volume curve, targets and regional contraction."""

    hr_bpm: float
    tau_es: float  # end-systole as a fraction of R-R
    tau_ivr: float  # isovolumic relaxation
    gamma: float  # early-peaked ejection exponent
    f_e: float  # early-filling fraction
    f_d: float  # diastasis fraction (atrial fraction f_a = 1 - f_e - f_d)
    ef_target: float
    e_ll: float  # longitudinal strain at ES
    fac_target: float  # mid-slice fractional area change from EF and E_ll
    k_long: float  # myocardial area gain at ES
    rot_es_deg: float  # rigid rotation at ES
    translation_mm: list[float]  # bulk shift of the LV centre at ES
    rv_delay: float  # RV end-systole after the LV's (fraction of R-R)
    rv_fac_target: float
    septal_flat: float  # f_sf (RV overload)
    fg_max: float  # cap of the endocardial shortening gain (hypokinetic remote myocardium)
    regional: list[float]  # smooth regional weight w: [b1, psi1, b2, psi2]


def _u(rng: np.random.Generator, pair: tuple[float, ...]) -> float:
    return float(rng.uniform(pair[0], pair[1]))


def sample_motion(rng: np.random.Generator, kind: str, age: float) -> Motion:
    """Draw the motion of one subject of archetype ``kind``; ``age`` sets the atrial share of filling."""
    table = CLASS_TABLE[kind]
    failing = kind in ("infarct", "dilated")
    hr = _u(rng, table["hr_bpm"])
    rr_s = 60.0 / hr
    tau_es = 0.33 * np.sqrt(rr_s) / rr_s + (_u(rng, (0, 0.04)) if failing else 0.0)
    tau_es = float(np.clip(tau_es, 0.28, TAU_ES_MAX))
    f_d = 0.0 if hr > 85 else 0.05
    f_a_age = 0.15 + 0.23 * float(np.clip((age - 30) / 35, 0, 1))  # Alhogbani: 15 % < 40 y ... 38 % > 55 y
    lo, hi = table["f_e"]
    f_e = float(np.clip(0.5 * rng.uniform(lo, hi) + 0.5 * (1 - f_d - f_a_age), lo, hi))
    ef = _u(rng, table["ef"])
    e_ll = _u(rng, table["e_ll"])
    sd = table["regional_sd"][0]
    direction = rng.uniform(0, 2 * np.pi)
    shift = rng.uniform(0, 3)
    return Motion(
        hr_bpm=hr,
        tau_es=tau_es,
        tau_ivr=0.09 if kind == "hypertrophy" else 0.06,
        gamma=1.0 if failing else 0.8,
        f_e=f_e,
        f_d=f_d,
        ef_target=ef,
        e_ll=e_ll,
        fac_target=float(1 - (1 - ef) / (1 + e_ll)),
        k_long=_u(rng, table["k_long"]),
        rot_es_deg=_u(rng, table["rot_es_deg"]),
        translation_mm=[float(shift * np.cos(direction)), float(shift * np.sin(direction))],
        rv_delay=_u(rng, (0, 0.03)),
        rv_fac_target=_u(rng, table["rv_fac"]),
        septal_flat=_u(rng, table["septal_flat"]),
        fg_max=0.30 if failing else 0.60,
        regional=[
            float(rng.normal(0, sd)),
            _u(rng, (0, 2 * np.pi)),
            float(rng.normal(0, sd)),
            _u(rng, (0, 2 * np.pi)),
        ],
    )
