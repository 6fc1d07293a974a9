"""Anti-aliased rasterisation on the native pixel grid: ellipses and the moving polar heart.

See docs/simulator.md ("Rasterisation").

Partial volume is analytic instead of supersampled: a pixel at signed distance ``d`` (mm) inside
an edge is covered by ``clip(0.5 + d / w, 0, 1)``, where ``w`` combines the pixel width and the
through-slice spread of the contour (the mean over sub-slices with radius ``r * (1 + taper * z)``).
Labels are the same contours tested at the pixel centre of the mid sub-slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..types import LV, MYO, RV
from .anatomy import D_THETA, N_THETA, EDHeart
from .anatomy_params import Anatomy
from .motion import HeartFrames
from .signal import flow_modulation


@dataclass
class Grid:
    """Pixel centres of a square ``matrix`` grid in mm from the image centre (x right, y up)."""

    matrix: int
    pixel_mm: float

    @property
    def x(self) -> np.ndarray:  # [W]
        return ((np.arange(self.matrix) + 0.5 - self.matrix / 2) * self.pixel_mm).astype(np.float32)

    @property
    def y(self) -> np.ndarray:  # [H]
        return ((self.matrix / 2 - np.arange(self.matrix) - 0.5) * self.pixel_mm).astype(np.float32)

    def box(self, cx: float, cy: float, rx: float, ry: float) -> tuple[slice, slice]:
        """(row, col) slices covering the rectangle centre (cx, cy) +- (rx, ry) mm, clipped to the grid."""
        m, p = self.matrix, self.pixel_mm
        c0, c1 = int(np.floor((cx - rx) / p + m / 2)), int(np.ceil((cx + rx) / p + m / 2)) + 1
        r0, r1 = int(np.floor(m / 2 - (cy + ry) / p)), int(np.ceil(m / 2 - (cy - ry) / p)) + 1
        return slice(max(r0, 0), min(r1, m)), slice(max(c0, 0), min(c1, m))


def ellipse_alpha(
    dx: np.ndarray, dy: np.ndarray, ax: float, ay: float, angle_rad: float, width: float
) -> np.ndarray:
    """Coverage of an ellipse (semi-axes ``ax``, ``ay`` mm, rotated ``angle_rad``) at offsets ``dx, dy``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    u, v = (dx * c + dy * s) / ax, (-dx * s + dy * c) / ay
    q = np.sqrt(u * u + v * v) + 1e-6
    grad = np.sqrt((u / ax) ** 2 + (v / ay) ** 2) / q + 1e-9
    return np.clip(0.5 - (q - 1) / (grad * width), 0, 1)


def paint_ellipse(
    img: np.ndarray,
    tissue: np.ndarray,
    grid: Grid,
    value: float,
    index: int,
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    angle_deg: float = 0.0,
    within: np.ndarray | None = None,
) -> None:
    """Composite an ellipse of ``value`` over ``img`` ``[H,W]`` in place; ``tissue`` = ``index`` inside.

    Args:
        within: optional ``[H,W]`` coverage that multiplies the ellipse (clip an organ to the thorax).
    """
    if ax <= 0 or ay <= 0:
        return
    r = max(ax, ay) + 2 * grid.pixel_mm
    rows, cols = grid.box(cx, cy, r, r)
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return
    dx, dy = grid.x[cols][None] - cx, grid.y[rows][:, None] - cy
    alpha = ellipse_alpha(dx, dy, ax, ay, np.deg2rad(angle_deg), grid.pixel_mm)
    if within is not None:
        alpha = alpha * within[rows, cols]
    img[rows, cols] += alpha * (value - img[rows, cols])
    tissue[rows, cols][alpha > 0.5] = index


@dataclass
class HeartRaster:
    """The heart composited over the background inside a box of the image."""

    rows: slice
    cols: slice
    image: np.ndarray  # [T,h,w] float32 noiseless signal
    label: np.ndarray  # [T,h,w] uint8 ACDC order


def render_heart(
    hf: HeartFrames,
    ed: EDHeart,
    a: Anatomy,
    grid: Grid,
    centers: np.ndarray,
    background: np.ndarray,
    values: dict[str, float],
    flow_sigma: float,
    rng: np.random.Generator,
    spread: float,
) -> HeartRaster:
    """Rasterise every frame of the heart over the static ``background`` ``[H,W]``.

    Args:
        hf: per-frame contours; ed: ED properties (infarct membership); a: anatomy (papillary muscles).
        centers: ``[T, 2]`` LV centre (x, y) mm per frame, breathing offsets included.
        values: tissue signals.
        flow_sigma: std of the per-frame blood modulation (:func:`~.signal.flow_modulation`).
        rng: generator of the blood modulation.
        spread: through-slice relative radius spread (taper * slice / 3).
    """
    t = centers.shape[0]
    reach = float(hf.r_peri.max()) + 2 * grid.pixel_mm
    lo, hi = centers.min(0), centers.max(0)
    mid, half = (lo + hi) / 2, (hi - lo) / 2 + reach
    rows, cols = grid.box(float(mid[0]), float(mid[1]), float(half[0]), float(half[1]))
    flow = flow_modulation(grid.y[rows], grid.x[cols], t, flow_sigma, rng).reshape(-1)  # [P]
    dx = (grid.x[cols][None, None, :] - centers[:, 0, None, None]).astype(np.float32)  # [T,1,w]
    dy = (grid.y[rows][None, :, None] - centers[:, 1, None, None]).astype(np.float32)  # [T,h,1]
    r = np.hypot(dx, dy)  # [T,h,w]
    theta = np.arctan2(dy, dx) - hf.rotation[:, None, None].astype(np.float32)
    bins = (np.mod(theta, 2 * np.pi) * (1 / D_THETA)).astype(np.int32)
    np.minimum(bins, N_THETA - 1, out=bins)
    flat = (bins + (np.arange(t, dtype=np.int32) * N_THETA)[:, None, None]).ravel()  # [P]
    # nested disks, outer -> inner: pericardium, fat, RV wall, RV blood, LV wall, LV blood inside the
    # trabeculae; then the label-only contours: LV endocardium, RV outer edge
    radii = np.stack(
        [hf.r_peri, hf.r_fat, hf.r_out, hf.r_rv_blood, hf.r_epi, hf.r_trab, hf.r_endo, hf.r_rv], -1
    )
    inv_w = 1 / np.sqrt(grid.pixel_mm**2 + (2 * spread * radii[..., :6]) ** 2)
    infarct = np.broadcast_to(ed.infarct, hf.r_endo.shape)[..., None]
    table = np.concatenate([radii, inv_w, infarct], -1).astype(np.float32).reshape(t * N_THETA, -1)
    g = table[flat]  # [P, 15]: 8 radii, 6 inverse widths, infarct
    rr = r.reshape(-1, 1)
    alpha = np.clip((g[:, :6] - rr) * g[:, 8:14] + 0.5, 0, 1)  # [P,6]
    blood, venous = values["blood"] * flow, values["venous"] * flow
    wall = values["myo"] + (values["scar"] - values["myo"]) * g[:, 14]
    layer_values = (values["pericardium"], values["fat"], values["myo"], venous, wall, blood)
    img = np.broadcast_to(background[rows, cols], r.shape).reshape(-1).astype(np.float32)
    for k, v in enumerate(layer_values):
        img += alpha[:, k] * (v - img)
    img = img.reshape(r.shape)
    _paint_papillary(img, hf, a, dx, dy, grid.pixel_mm, values["myo"])
    rad = r.reshape(-1)
    label = np.where(rad < g[:, 6], LV, np.where(rad < g[:, 4], MYO, np.where(rad < g[:, 7], RV, 0)))
    label = label.astype(np.uint8).reshape(r.shape)
    _drop_rv_specks(label)
    return HeartRaster(rows=rows, cols=cols, image=img, label=label)


def _drop_rv_specks(label: np.ndarray) -> None:
    """Keep the largest 4-connected RV component per frame (a crescent tip thinner than a pixel can
    leave isolated pixels); the others become background, in place."""
    for frame in label:
        parts, n = ndimage.label(frame == RV)
        if n > 1:
            sizes = np.bincount(parts.ravel())[1:]
            frame[(parts > 0) & (parts != 1 + int(np.argmax(sizes)))] = 0


def _paint_papillary(
    img: np.ndarray, hf: HeartFrames, a: Anatomy, dx: np.ndarray, dy: np.ndarray, px: float, value: float
) -> None:
    """Two papillary muscles attached to the moving endocardium (image only; their label is LV cavity)."""
    t = img.shape[0]
    for theta_deg, diam, aspect, attach in a.papillary:
        th = np.deg2rad(theta_deg)
        i = int(np.mod(th, 2 * np.pi) / D_THETA) % N_THETA
        d = diam * np.sqrt(1 + 0.1 * hf.s_lv)  # [T] area grows with the myocardium
        rho = np.maximum(hf.r_endo[:, i] - 0.5 * d + attach, 0.3 * d)
        ang = th + hf.rotation
        cx, cy = rho * np.cos(ang), rho * np.sin(ang)
        for k in range(t):
            alpha = ellipse_alpha(
                dx[k] - cx[k],
                dy[k] - cy[k],
                d[k] / 2 * np.sqrt(aspect),
                d[k] / 2 / np.sqrt(aspect),
                ang[k],
                px,
            )
            img[k] += alpha * (value - img[k])
