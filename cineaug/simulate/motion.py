"""Motion over one R-R interval: volume curve, wall kinematics and the gains that hit FAC targets.

See docs/simulator.md ("Motion").

:func:`heart_frames` turns the ED heart and the motion parameters into per-frame polar contours
``[T, N_THETA]`` for the rasteriser. The LV endocardial gain ``f_g`` and the RV gain ``f_rv`` are
solved numerically (Brent) on the final contours, so septal flattening and the minimum cavity
radius are accounted for; the achieved FACs are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .anatomy import THETA, EDHeart, angle_diff, crescent_fraction, polar_area
from .anatomy_params import Anatomy
from .motion_params import Motion

MIN_CAVITY_MM = 3.0
"""Smallest endocardial radius (HCM near-obliteration)."""


def _h(x: np.ndarray) -> np.ndarray:
    return (1 - np.cos(np.pi * np.clip(x, 0, 1))) / 2


def volume_curve(tau: np.ndarray, m: Motion, delay: float = 0.0) -> np.ndarray:
    """Normalised volume u(tau): 1 at ED, 0 at ES (docs/simulator.md, "Motion").

    Args:
        tau: ``[T]`` times as fractions of R-R in [0, 1).
        m: motion parameters.
        delay: extra systole duration (RV).

    Returns:
        ``[T]`` float64.
    """
    tau = np.asarray(tau, dtype=np.float64)
    tau_es = m.tau_es + delay
    t1 = tau_es + m.tau_ivr
    t_e, t_a = 0.20, 0.80
    t2 = t1 + t_e
    f_a = 1 - m.f_e - m.f_d
    return np.select(
        [tau < tau_es, tau < t1, tau < t2, tau < t_a],
        [
            1 - _h((tau / tau_es) ** m.gamma),
            np.zeros_like(tau),
            m.f_e * _h((tau - t1) / t_e),
            m.f_e + m.f_d * (tau - t2) / max(t_a - t2, 1e-6),
        ],
        m.f_e + m.f_d + f_a * _h((tau - t_a) / (1 - t_a)),
    )


@dataclass
class HeartFrames:
    """Per-frame polar contours (mm, ``[T, N_THETA]``) and rigid pose (``[T]``, ``[T, 2]``)."""

    r_trab: np.ndarray  # inner edge of the endocardial trabeculae
    r_endo: np.ndarray
    r_epi: np.ndarray
    r_rv_blood: np.ndarray  # inner edge of the RV trabeculae
    r_rv: np.ndarray  # outer edge of the RV cavity (label)
    r_out: np.ndarray  # outer edge of the RV free wall
    r_fat: np.ndarray  # outer edge of the epicardial fat
    r_peri: np.ndarray  # outer edge of the pericardium
    rotation: np.ndarray  # [T] rad
    shift_mm: np.ndarray  # [T, 2] bulk translation (x, y)
    s_lv: np.ndarray  # [T] contraction state 1 - u
    s_rv: np.ndarray  # [T]
    f_g: float
    f_rv: float


def _lv(ed: EDHeart, a: Anatomy, m: Motion, s: np.ndarray, f_g: float) -> tuple[np.ndarray, np.ndarray]:
    s = s[:, None]
    r_endo = np.maximum(ed.r_endo * (1 - f_g * ed.weight * s), MIN_CAVITY_MM)
    wall_area = (ed.r_epi**2 - ed.r_endo**2) * (1 + m.k_long * s * np.maximum(ed.weight, 0))
    r_epi = np.sqrt(r_endo**2 + wall_area)
    if m.septal_flat > 0:  # septal flattening: clamp to a chord, volume overload (stronger at ED)
        sept = np.deg2rad(a.theta_sept_deg)
        d = angle_diff(THETA, sept)
        near = np.abs(d) < np.deg2rad(70)
        i_sept = int(np.argmin(np.abs(d)))
        d_flat = (1 - m.septal_flat * (1 - 0.5 * s)) * ed.r_epi[i_sept]
        cap = np.where(near, d_flat / np.cos(np.where(near, d, 0)), np.inf)
        r_epi = np.minimum(r_epi, cap)  # the endocardium follows, keeping the local wall area
        r_endo = np.sqrt(np.maximum(r_epi**2 - wall_area, MIN_CAVITY_MM**2))
        r_epi = np.sqrt(r_endo**2 + wall_area)
    return r_endo, r_epi


def _rv_depth(a: Anatomy, s_rv: np.ndarray, f_rv: float) -> tuple[np.ndarray, np.ndarray]:
    """RV cavity depth ``[T, N]`` and the position inside the span ``[T, N]``."""
    span = np.deg2rad(a.rv_span_deg) * (1 - 0.1 * s_rv[:, None])
    frac = crescent_fraction(THETA[None], np.deg2rad(a.rv_center_deg), span)
    depth = a.rv_depth_mm * (1 - f_rv * s_rv[:, None]) * np.sin(np.pi * np.clip(frac, 0, 1)) ** a.rv_fullness
    return depth, frac


def _rv_area(a: Anatomy, r_epi: np.ndarray, s_rv: np.ndarray, f_rv: float) -> np.ndarray:
    depth, _ = _rv_depth(a, s_rv, f_rv)
    return polar_area(r_epi + depth, r_epi)


def solve_gains(ed: EDHeart, a: Anatomy, m: Motion) -> tuple[float, float]:
    """Endocardial gain f_g (LV FAC target, capped at fg_max) and RV gain f_rv (RV FAC target)."""
    one, zero = np.ones(1), np.zeros(1)
    a_ed = polar_area(_lv(ed, a, m, zero, 0.0)[0])[0]

    def lv_gap(f: float) -> float:
        return polar_area(_lv(ed, a, m, one, f)[0])[0] / a_ed - (1 - m.fac_target)

    f_g = m.fg_max if lv_gap(m.fg_max) > 0 else brentq(lv_gap, 0.0, m.fg_max, xtol=1e-6)
    epi_ed, epi_es = _lv(ed, a, m, zero, f_g)[1], _lv(ed, a, m, one, f_g)[1]
    rv_ed = _rv_area(a, epi_ed, zero, 0.0)[0]

    def rv_gap(f: float) -> float:
        return _rv_area(a, epi_es, one, f)[0] / rv_ed - (1 - m.rv_fac_target)

    f_rv = 0.95 if rv_gap(0.95) > 0 else (0.0 if rv_gap(0.0) < 0 else brentq(rv_gap, 0.0, 0.95, xtol=1e-6))
    return float(f_g), float(f_rv)


def heart_frames(ed: EDHeart, a: Anatomy, m: Motion, n_frames: int) -> HeartFrames:
    """Contours of every frame; frame k sits at tau = k / n_frames, frame 0 = ED."""
    tau = np.arange(n_frames) / n_frames
    s_lv = 1 - volume_curve(tau, m)
    s_rv = 1 - volume_curve(tau, m, delay=m.rv_delay)
    f_g, f_rv = solve_gains(ed, a, m)
    r_endo, r_epi = _lv(ed, a, m, s_lv, f_g)
    r_trab = np.maximum(r_endo - ed.trab_depth * (1 - 0.5 * s_lv[:, None]), 0.5 * r_endo)
    depth, frac = _rv_depth(a, s_rv, f_rv)
    inside = (frac > 0) & (frac < 1)
    rv_trab = np.zeros_like(depth)
    for pos, width, d in a.rv_trabeculae:
        x = (frac - pos) * np.deg2rad(a.rv_span_deg) * (r_epi + depth) / (width / 2)
        rv_trab = np.maximum(rv_trab, np.minimum(d, 0.5 * depth) * np.sqrt(np.clip(1 - x**2, 0, None)))
    r_rv = r_epi + depth
    # free wall: full thickness inside the span, tapering over 0.08 span beyond each insertion
    wall = a.rv_wall_mm * np.clip(1 - np.maximum(np.maximum(-frac, frac - 1), 0) / 0.08, 0, 1)
    r_out = r_rv + wall
    fat = ed.groove_fat[None] + a.epi_fat_mm * inside
    r_fat = r_out + fat
    r_peri = r_fat + (1.2 if a.pericardium else 0.0)
    return HeartFrames(
        r_trab=r_trab,
        r_endo=r_endo,
        r_epi=r_epi,
        r_rv_blood=r_rv - rv_trab,
        r_rv=r_rv,
        r_out=r_out,
        r_fat=r_fat,
        r_peri=r_peri,
        rotation=np.deg2rad(m.rot_es_deg) * s_lv,
        shift_mm=np.asarray(m.translation_mm)[None] * s_lv[:, None],
        s_lv=s_lv,
        s_rv=s_rv,
        f_g=f_g,
        f_rv=f_rv,
    )
