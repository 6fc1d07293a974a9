"""Pathology classes: the archetype each class name maps to and its parameter ranges.

See docs/simulator.md ("Classes").

Ranges are ``(low, high)`` for uniform draws; ``edv_ml`` is ``(mean, sd, low, high)`` of a clipped
normal. The LVEF ranges keep a margin around the ACDC class rules (Bernard et al., IEEE TMI 2018) and
the Sunnybrook group definitions (Radau et al., MIDAS J 2009); the rest are engineering defaults.
"""

from __future__ import annotations

ARCHETYPE: dict[str, str] = {
    "N": "normal",
    "NOR": "normal",
    "HYP": "hypertrophy",
    "HCM": "hypertrophy",
    "HF-I": "infarct",
    "MINF": "infarct",
    "HF-NI": "dilated",
    "DCM": "dilated",
    "ARV": "arv",
}
"""Class name (Sunnybrook or ACDC) -> model archetype."""

CLASS_TABLE: dict[str, dict[str, tuple[float, ...]]] = {
    "normal": {
        "ef": (0.56, 0.72),
        "edv_ml": (115, 25, 75, 165),
        "k_ratio": (1.7, 2.0),
        "rv_depth_mm": (19, 26),
        "rv_span_deg": (110, 135),
        "rv_fac": (0.40, 0.55),
        "septal_flat": (0, 0),
        "k_long": (0.08, 0.18),
        "f_e": (0.65, 0.85),
        "hr_bpm": (55, 80),
        "rot_es_deg": (1, 5),
        "e_ll": (-0.20, -0.12),
        "regional_sd": (0.05, 0.05),
    },
    "hypertrophy": {
        "ef": (0.58, 0.78),
        "edv_ml": (110, 25, 60, 160),
        "k_ratio": (1.7, 2.0),
        "rv_depth_mm": (18, 26),
        "rv_span_deg": (110, 135),
        "rv_fac": (0.40, 0.55),
        "septal_flat": (0, 0),
        "k_long": (0.05, 0.12),
        "f_e": (0.40, 0.60),
        "hr_bpm": (55, 80),
        "rot_es_deg": (1, 6),
        "e_ll": (-0.20, -0.12),
        "regional_sd": (0.05, 0.05),
    },
    "infarct": {
        "ef": (0.18, 0.37),
        "edv_ml": (240, 60, 160, 380),
        "k_ratio": (1.4, 1.7),
        "rv_depth_mm": (20, 30),
        "rv_span_deg": (110, 140),
        "rv_fac": (0.30, 0.50),
        "septal_flat": (0, 0),
        "k_long": (0.0, 0.08),
        "f_e": (0.50, 0.75),
        "hr_bpm": (65, 95),
        "rot_es_deg": (0, 2),
        "e_ll": (-0.10, -0.03),
        "regional_sd": (0.05, 0.05),
    },
    "dilated": {
        "ef": (0.15, 0.37),
        "edv_ml": (235, 55, 170, 380),
        "k_ratio": (1.3, 1.6),
        "rv_depth_mm": (24, 34),
        "rv_span_deg": (115, 145),
        "rv_fac": (0.20, 0.40),
        "septal_flat": (0, 0),
        "k_long": (0.0, 0.08),
        "f_e": (0.50, 0.80),
        "hr_bpm": (65, 95),
        "rot_es_deg": (0, 2),
        "e_ll": (-0.10, -0.03),
        "regional_sd": (0.10, 0.10),
    },
    "arv": {
        "ef": (0.52, 0.68),
        "edv_ml": (120, 25, 80, 170),
        "k_ratio": (1.7, 2.0),
        "rv_depth_mm": (32, 45),
        "rv_span_deg": (140, 170),
        "rv_fac": (0.12, 0.32),
        "septal_flat": (0.1, 0.3),
        "k_long": (0.06, 0.15),
        "f_e": (0.60, 0.80),
        "hr_bpm": (60, 90),
        "rot_es_deg": (1, 4),
        "e_ll": (-0.20, -0.12),
        "regional_sd": (0.05, 0.05),
    },
}
"""Archetype -> parameter ranges."""

NORMAL_D_MM = 49.0
"""Mid-cavity ED diameter of the reference normal heart; the RV depth scales with D / NORMAL_D_MM."""
