"""End-diastolic polar contours of the heart (docs/simulator.md, "Anatomy").

Every contour is a radius (mm) from the LV centre sampled at :data:`N_THETA` angles
(:data:`THETA`, radians, counter-clockwise on screen from image right).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .anatomy_params import Anatomy

N_THETA = 720
THETA = ((np.arange(N_THETA) + 0.5) * (2 * np.pi / N_THETA)).astype(np.float64)  # [N] bin centres
D_THETA = 2 * np.pi / N_THETA


def polar_area(r_outer: np.ndarray, r_inner: np.ndarray | float = 0.0) -> np.ndarray:
    """Area (mm^2) between two polar contours ``[..., N]``: 0.5 * sum(r_o^2 - r_i^2) * dtheta."""
    return 0.5 * np.sum(np.asarray(r_outer) ** 2 - np.asarray(r_inner) ** 2, axis=-1) * D_THETA


def angle_diff(theta: np.ndarray, center: float) -> np.ndarray:
    """Signed angular difference ``theta - center`` wrapped to [-pi, pi)."""
    return (theta - center + np.pi) % (2 * np.pi) - np.pi


def raised_plateau(theta: np.ndarray, center: float, width: float, border: float) -> np.ndarray:
    """1 within ``width/2`` of ``center``, a raised-cosine fall over ``border``, then 0 (radians)."""
    d = np.abs(angle_diff(theta, center))
    x = np.clip((d - width / 2) / border, 0, 1)
    return 0.5 * (1 + np.cos(np.pi * x))


def crescent_fraction(theta: np.ndarray, center: float, span: float) -> np.ndarray:
    """Position inside the RV span: 0 at the anterior insertion, 1 at the inferior; outside [0, 1] beyond."""
    return angle_diff(theta, center) / span + 0.5


@dataclass
class EDHeart:
    """ED contours and regional properties, all ``[N_THETA]`` float64."""

    r_endo: np.ndarray  # endocardial radius (mm)
    r_epi: np.ndarray  # epicardial radius (mm)
    weight: np.ndarray  # regional contraction weight w (1 normal, 0 akinetic, < 0 dyskinetic)
    infarct: np.ndarray  # infarct membership m in [0, 1]
    trab_depth: np.ndarray  # depth of the endocardial trabeculae (mm)
    groove_fat: np.ndarray  # fat thickness from the interventricular grooves (mm)


def ed_heart(a: Anatomy, regional: list[float]) -> EDHeart:
    """Build the ED LV contours of ``a``; ``regional`` = [b1, psi1, b2, psi2] of the smooth weight."""
    th = THETA
    shape = 1 + a.ellipticity * np.cos(2 * (th - np.deg2rad(a.ellipse_deg)))
    for m, (amp, phase) in enumerate(zip(a.shape_amp, a.shape_phase), start=3):
        shape = shape + amp * np.cos(m * th + phase)
    r_endo = a.d_ed_mm / 2 * shape
    r_endo *= np.sqrt(np.pi * a.d_ed_mm**2 / 4 / polar_area(r_endo))  # cavity area exactly pi D^2 / 4
    sept = np.deg2rad(a.theta_sept_deg)
    if a.t_sept_mm > 0:
        thick = a.t0_mm + (a.t_sept_mm - a.t0_mm) * np.cos((th - sept) / 2) ** 2
    else:
        thick = a.t0_mm * (1 + a.asym * np.cos(th - sept))
    b1, p1, b2, p2 = regional
    weight = 1 + b1 * np.cos(th + p1) + b2 * np.cos(2 * th + p2)
    infarct = np.zeros_like(th)
    if a.infarct is not None:
        inf = a.infarct
        infarct = raised_plateau(
            th, np.deg2rad(inf["center_deg"]), np.deg2rad(inf["width_deg"]), np.deg2rad(inf["border_deg"])
        )
        thick = thick * (1 - infarct * (1 - inf["thin"]))
        weight = weight * (1 - infarct) + inf["w_inf"] * infarct
    trab = np.zeros_like(th)
    for theta_deg, width, depth in a.trabeculae:
        x = angle_diff(th, np.deg2rad(theta_deg)) * r_endo / (width / 2)
        trab = np.maximum(trab, depth * np.sqrt(np.clip(1 - x**2, 0, None)))
    span, center = np.deg2rad(a.rv_span_deg), np.deg2rad(a.rv_center_deg)
    r_epi = r_endo + thick
    groove = np.zeros_like(th)
    for ins in (center - span / 2, center + span / 2):
        x = angle_diff(th, ins) * r_epi / a.groove_fat_mm
        groove = np.maximum(groove, a.groove_fat_mm * np.exp(-(x**2)))
    return EDHeart(
        r_endo=r_endo, r_epi=r_epi, weight=weight, infarct=infarct, trab_depth=trab, groove_fat=groove
    )
