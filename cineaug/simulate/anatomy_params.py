"""Anatomy and thorax parameters and their sampling from the anatomy stream (docs/simulator.md, "Anatomy").

Angles are in degrees, counter-clockwise on screen from image right (anterior = 90, septum = 180,
inferior = 270); lengths in mm, in a heart-centred frame with x right and y up (anterior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import CLASS_TABLE, NORMAL_D_MM


@dataclass
class Anatomy:
    """The heart at end-diastole."""

    lv_center_mm: list[float]  # (x, y) of the LV centre from the image centre
    edv_ml: float
    k_ratio: float  # long over short axis of the prolate LV
    d_ed_mm: float  # mid-cavity ED diameter
    theta_sept_deg: float  # direction of the septum
    ellipticity: float  # e2
    ellipse_deg: float  # theta_e
    shape_amp: list[float]  # a_m, m = 3..5
    shape_phase: list[float]  # phi_m (rad)
    t0_mm: float  # ED wall thickness (lateral wall for asymmetric hypertrophy)
    t_sept_mm: float  # septal thickness of asymmetric hypertrophy, 0 when concentric
    asym: float  # septal-lateral thickness asymmetry a_s
    infarct: dict[str, float] | None  # center_deg, width_deg, border_deg, thin, w_inf (HF-I / MINF)
    rv_center_deg: float
    rv_span_deg: float
    rv_depth_mm: float  # H_rv
    rv_fullness: float  # exponent p of the crescent
    rv_wall_mm: float
    papillary: list[list[float]]  # [theta_deg, diameter_mm, aspect, attach_mm] x 2
    trabeculae: list[list[float]]  # [theta_deg, width_mm, depth_mm]
    rv_trabeculae: list[list[float]]  # [theta_frac in the span, width_mm, depth_mm]
    groove_fat_mm: float  # fat blobs at the RV insertion points
    epi_fat_mm: float  # fat layer over the RV free wall
    pericardium: bool
    taper_per_mm: float  # through-slice radius change (partial volume)


@dataclass
class Thorax:
    """Static surroundings (the thorax of ``background.py``), positions relative to the LV centre."""

    body: list[float]  # [cx, cy, semi-axis x, semi-axis y, rotation_deg]
    subcut_mm: float
    muscle_mm: float
    ribs: list[list[float]]  # [angle_deg around the body, diameter_mm]
    mediastinum_mm: float  # margin of the mediastinal fat around the ED heart
    liver: list[float] | None  # [cx, cy, ax, ay, rotation_deg]
    stomach: list[float] | None  # [cx, cy, ax, ay, is_spleen]
    aorta: list[float]  # [cx, cy, r]
    spine: list[float]  # [cx, cy, r]
    vessels: list[list[float]]  # lung vessels [x, y, r]


def _normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def _u(rng: np.random.Generator, rng_pair: tuple[float, ...]) -> float:
    return float(rng.uniform(rng_pair[0], rng_pair[1]))


def sample_anatomy(rng: np.random.Generator, kind: str, pathology: str, sex: str, bsa: float) -> Anatomy:
    """Draw the ED heart of one subject of archetype ``kind`` (see :data:`~.classes.ARCHETYPE`)."""
    table = CLASS_TABLE[kind]
    female = sex == "F"
    edv = _normal(rng, *table["edv_ml"]) * (0.85 if female else 1.0)
    k_ratio = _u(rng, table["k_ratio"])
    d_ed = float(np.clip((6 * edv * 1000 / (np.pi * k_ratio)) ** (1 / 3), 34, 80))
    center = [float(v) for v in np.clip(rng.normal(0, 12, 2), -30, 30)]
    theta_sept = float(180 + np.clip(rng.normal(0, 15), -30, 30))
    t_sept = 0.0
    if kind == "hypertrophy":
        hcm = pathology == "HCM"
        if rng.random() < 0.6:
            t0 = _u(rng, (15.5, 18) if hcm else (11, 15))
        else:
            t0 = _u(rng, (10, 13) if hcm else (9, 13))
            t_sept = max(_u(rng, (18, 25) if hcm else (15, 25)), 1.3 * t0)
    else:
        t0 = _u(rng, {"infarct": (7, 10), "dilated": (5, 9)}.get(kind, (6, 10)))
    t0 = t0 - (1.0 if female and t_sept == 0 and kind != "hypertrophy" else 0.0)
    rv_span = _u(rng, table["rv_span_deg"])
    rv_center = theta_sept - 5 + float(rng.normal(0, 4))
    infarct = _sample_infarct(rng, rv_center, rv_span) if kind == "infarct" else None
    pm_scale = 1.3 if kind == "hypertrophy" else 1.0
    rot = theta_sept - 180
    papillary = [
        [float(rng.uniform(*span) + rot), _u(rng, (8, 14)) * pm_scale, _u(rng, (1, 1.5)), _u(rng, (0.5, 2))]
        for span in ((10, 40), (275, 310))
    ]
    n_trab = (
        int(rng.integers(12, 26) if kind == "dilated" else rng.integers(6, 21)) if rng.random() < 0.8 else 0
    )
    big = 1.4 if kind == "dilated" else 1.0
    trabeculae = [
        [float(rng.normal(300, 50) + rot), _u(rng, (1.5, 3.5)) * big, _u(rng, (0.5, 3)) * big]
        for _ in range(n_trab)
    ]
    n_rvt = int(rng.integers(3, 9)) if rng.random() < 0.3 else 0
    rv_trabeculae = [[_u(rng, (0.15, 0.85)), _u(rng, (2, 4)), _u(rng, (2, 6))] for _ in range(n_rvt)]
    return Anatomy(
        lv_center_mm=center,
        edv_ml=edv,
        k_ratio=k_ratio,
        d_ed_mm=d_ed,
        theta_sept_deg=theta_sept,
        ellipticity=_u(rng, (0, 0.08)),
        ellipse_deg=_u(rng, (0, 180)),
        shape_amp=[float(v) for v in rng.normal(0, 0.015, 3)],
        shape_phase=[float(v) for v in rng.uniform(0, 2 * np.pi, 3)],
        t0_mm=t0,
        t_sept_mm=t_sept,
        asym=_u(rng, (0, 0.1)),
        infarct=infarct,
        rv_center_deg=rv_center,
        rv_span_deg=rv_span,
        rv_depth_mm=_u(rng, table["rv_depth_mm"]) * d_ed / NORMAL_D_MM * (bsa / 1.9) ** (1 / 3),
        rv_fullness=_u(rng, (0.6, 0.9)),
        rv_wall_mm=_u(rng, (2.5, 4)),
        papillary=papillary,
        trabeculae=trabeculae,
        rv_trabeculae=rv_trabeculae,
        groove_fat_mm=_u(rng, (4, 10)),
        epi_fat_mm=_u(rng, (0, 4)),
        pericardium=bool(rng.random() < 0.5),
        taper_per_mm=_u(rng, (0.005, 0.02)),
    )


def _sample_infarct(rng: np.random.Generator, rv_center: float, rv_span: float) -> dict[str, float]:
    """Coronary territory -> infarct centre and extent.

    Territories of the AHA mid-cavity segments (Cerqueira et al., Circulation 2002): LAD anterior and
    anteroseptal (centred on the anterior RV insertion), RCA inferoseptal and inferior (the inferior
    insertion), LCx inferolateral and anterolateral (opposite the septum); drawn with probabilities
    LAD 0.5, RCA 0.3, LCx 0.2 (an engineering choice, LAD infarcts being the most common).
    """
    ai, ii = rv_center - rv_span / 2, rv_center + rv_span / 2  # anterior / inferior insertion
    centers = {"LAD": ai, "RCA": ii, "LCx": ii + (360 - rv_span) / 2}
    territory = str(rng.choice(list(centers), p=[0.5, 0.3, 0.2]))
    return {
        "territory_lad_rca_lcx": float(list(centers).index(territory)),
        "center_deg": float(centers[territory] + rng.uniform(-20, 20)),
        "width_deg": _u(rng, (60, 150)),
        "border_deg": _u(rng, (15, 25)),
        "thin": _u(rng, (0.45, 0.75)),
        "w_inf": _u(rng, (-0.15, 0.10)),
    }


def sample_thorax(rng: np.random.Generator) -> Thorax:
    """Draw the static body around the heart (habitus, organs)."""
    ribs = [[float(a), _u(rng, (8, 15))] for a in np.sort(rng.uniform(-50, 230, int(rng.integers(6, 11))))]
    liver = (
        [-_u(rng, (40, 90)), -_u(rng, (50, 100)), _u(rng, (60, 110)), _u(rng, (40, 80)), _u(rng, (-20, 20))]
        if rng.random() < 0.7
        else None
    )
    stomach = (
        [
            _u(rng, (40, 90)),
            -_u(rng, (60, 110)),
            _u(rng, (25, 50)),
            _u(rng, (20, 40)),
            float(rng.random() < 0.5),
        ]
        if rng.random() < 0.3
        else None
    )
    n_vessels = int(rng.integers(4, 14))
    vessels = [[_u(rng, (-150, 150)), _u(rng, (-80, 90)), _u(rng, (1.0, 3.0))] for _ in range(n_vessels)]
    return Thorax(
        body=[
            -_u(rng, (10, 40)),
            -_u(rng, (25, 50)),
            _u(rng, (150, 200)),
            _u(rng, (110, 150)),
            _u(rng, (-10, 10)),
        ],
        subcut_mm=_u(rng, (5, 35)),
        muscle_mm=_u(rng, (5, 15)),
        ribs=ribs,
        mediastinum_mm=_u(rng, (5, 15)),
        liver=liver,
        stomach=stomach,
        aorta=[_u(rng, (10, 35)), -_u(rng, (55, 80)), _u(rng, (10, 14))],
        spine=[-_u(rng, (0, 20)), -_u(rng, (80, 120)), _u(rng, (16, 22))],
        vessels=vessels,
    )
