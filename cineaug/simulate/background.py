"""The static thorax around the heart and the coil sensitivity magnitude.

See docs/simulator.md ("Anatomy", "Acquisition").

The body does not move: the breath-hold residual offsets move the heart only (the heart drifts
with the diaphragm while the chest wall stays), so the background is rendered once per subject.
"""

from __future__ import annotations

import numpy as np

from .anatomy import THETA, angle_diff
from .anatomy_params import Anatomy, Thorax
from .motion import HeartFrames
from .raster import Grid, ellipse_alpha, paint_ellipse

TISSUE_INDEX = {
    name: i
    for i, name in enumerate(
        ("air", "fat", "muscle", "lung", "bone", "marrow", "liver", "spleen", "fluid", "blood", "mediastinum")
    )
}
"""Tissue map codes of the background."""


def render_thorax(
    th: Thorax, a: Anatomy, hf: HeartFrames, grid: Grid, values: dict[str, float], texture: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Render the static surroundings.

    Args:
        th: thorax parameters (positions relative to the LV centre).
        a: anatomy (LV centre in the image, RV side); hf: contours (ED outline for the mediastinum).
        grid: the native pixel grid; values: tissue signals; texture: ``[H,W]`` unit random field.

    Returns:
        ``image`` ``[H,W]`` float32 signal and ``tissue`` ``[H,W]`` uint8 codes (:data:`TISSUE_INDEX`).
    """
    m = grid.matrix
    img = np.zeros((m, m), np.float32)
    tissue = np.zeros((m, m), np.uint8)
    ox, oy = a.lv_center_mm
    bx, by, ax, ay, rot = th.body
    cx, cy = ox + bx, oy + by
    ti = TISSUE_INDEX

    def paint(
        name: str,
        value: float,
        x: float,
        y: float,
        sx: float,
        sy: float,
        ang: float = 0.0,
        within: np.ndarray | None = None,
    ) -> None:
        paint_ellipse(img, tissue, grid, value, ti[name], x, y, sx, sy, ang, within)

    paint("fat", values["fat"], cx, cy, ax, ay, rot)
    paint("muscle", values["muscle"], cx, cy, ax - th.subcut_mm, ay - th.subcut_mm, rot)
    wall = th.subcut_mm + th.muscle_mm
    paint("lung", values["lung"], cx, cy, ax - wall, ay - wall, rot)
    dx, dy = grid.x[None] - cx, grid.y[:, None] - cy
    interior = ellipse_alpha(dx, dy, ax - wall, ay - wall, np.deg2rad(rot), grid.pixel_mm).astype(np.float32)
    for vx, vy, vr in th.vessels:
        paint("blood", values["blood"], ox + vx, oy + vy, vr, vr, within=interior)
    if th.liver is not None:
        lx, ly, lax, lay, lrot = th.liver
        paint("liver", values["liver"], ox + lx, oy + ly, lax, lay, lrot, within=interior)
    if th.stomach is not None:
        sx, sy, sax, say, spleen = th.stomach
        name = "spleen" if spleen > 0.5 else "fluid"
        paint(name, values[name], ox + sx, oy + sy, sax, say, within=interior)
    sx, sy, sr = th.spine
    paint("muscle", values["muscle"], ox + sx, oy + sy - 0.6 * sr, 2.6 * sr, 1.8 * sr)  # paraspinal muscles
    paint("bone", values["bone"], ox + sx, oy + sy, sr, sr)
    paint("marrow", values["marrow"], ox + sx, oy + sy, sr - 2, sr - 2)
    _paint_mediastinum(img, tissue, th, a, hf, grid, values)
    ax_, ay_, rx_ = th.aorta
    paint("blood", values["blood"], ox + ax_, oy + ay_, rx_, rx_)
    for angle, diam in th.ribs:
        phi = np.deg2rad(angle)
        rib_x = cx + (ax - th.subcut_mm - th.muscle_mm / 2) * np.cos(phi)
        rib_y = cy + (ay - th.subcut_mm - th.muscle_mm / 2) * np.sin(phi)
        paint("bone", values["bone"], rib_x, rib_y, diam / 2, 0.3 * diam, angle + 90)
        paint("marrow", values["marrow"], rib_x, rib_y, diam / 2 - 1.5, 0.3 * diam - 1.5, angle + 90)
    img *= 1 + 0.03 * texture
    return img, tissue


def _paint_mediastinum(
    img: np.ndarray,
    tissue: np.ndarray,
    th: Thorax,
    a: Anatomy,
    hf: HeartFrames,
    grid: Grid,
    values: dict[str, float],
) -> None:
    """Mediastinal fat around the ED heart, wider on the RV side; the moving heart is drawn over it."""
    ox, oy = a.lv_center_mm
    margin = th.mediastinum_mm * (
        0.25 + 0.75 * np.maximum(np.cos(angle_diff(THETA, np.deg2rad(a.rv_center_deg))), 0)
    )
    outline = hf.r_peri[0] + margin  # [N]
    reach = float(outline.max()) + 2 * grid.pixel_mm
    rows, cols = grid.box(ox, oy, reach, reach)
    dx, dy = grid.x[cols][None] - ox, grid.y[rows][:, None] - oy
    r = np.hypot(dx, dy)
    bins = (np.mod(np.arctan2(dy, dx), 2 * np.pi) / (2 * np.pi) * len(THETA)).astype(int) % len(THETA)
    alpha = np.clip(0.5 + (outline[bins] - r) / grid.pixel_mm, 0, 1)
    img[rows, cols] += alpha * (0.85 * values["fat"] - img[rows, cols])
    tissue[rows, cols][alpha > 0.5] = TISSUE_INDEX["mediastinum"]


def coil_field(
    th: Thorax, a: Anatomy, grid: Grid, n_coils: int, radius_mm: float, offset_mm: float
) -> np.ndarray:
    """Root-sum-of-squares coil sensitivity ``B = sqrt(sum |s_c|^2)`` ``[H,W]`` float32 (unnormalised).

    Loops on an ellipse ``offset_mm`` outside the body, at 30/150/210/330 deg for 4 coils (MRXCAT) or
    equally spaced; on-axis Biot-Savart magnitude ``R^3 / (R^2 + d^2)^1.5``.
    """
    bx, by, ax, ay, rot = th.body
    cx, cy = a.lv_center_mm[0] + bx, a.lv_center_mm[1] + by
    angles = np.deg2rad([30, 150, 210, 330] if n_coils == 4 else 30 + np.arange(n_coils) * 360 / n_coils)
    c, s = np.cos(np.deg2rad(rot)), np.sin(np.deg2rad(rot))
    ex, ey = (ax + offset_mm) * np.cos(angles), (ay + offset_mm) * np.sin(angles)
    px, py = cx + ex * c - ey * s, cy + ex * s + ey * c
    d2 = (grid.x[None, None] - px[:, None, None]) ** 2 + (grid.y[None, :, None] - py[:, None, None]) ** 2
    sens = radius_mm**3 / (radius_mm**2 + d2) ** 1.5
    return np.sqrt((sens**2).sum(0)).astype(np.float32)
