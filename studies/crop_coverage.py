"""Does a crop found from the image alone hold the heart?

For every expert-labelled frame of ACDC (key-frame cycles: ED and ES of each slice) and of the
Sunnybrook subset (full cines), the share whose labelled structures (LV cavity, myocardium and,
in ACDC, the RV cavity) lie wholly inside the ``fov_mm`` square crop that ``prepare_cycle`` would
cut with ``crop="image"`` (:func:`cineaug.localize.locate_heart`; the labels are not looked at).
A structure is inside when every one of its native pixel centres lies within the span of the
crop's output pixel centres. The same for ``crop="labels"`` (today's training crop, centred on
the LV) for reference. Centre errors are in mm, against the labels' LV centre (LV cavity +
myocardium) and against the centre of the box around every labelled structure (the whole heart).

Prints JSON.

    python studies/crop_coverage.py [--acdc DIR] [--sunnybrook DIR] [--fov-mm 160] [--patients N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cineaug import read_acdc, read_sunnybrook
from cineaug.preprocess import DEFAULT_FOV_MM, crop_center, drop_unobserved, heart_center, roll_to_ed
from cineaug.types import CLASS_NAMES, CineCycle

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def frames_inside(cycle: CineCycle, center: np.ndarray, fov_mm: float, size: int) -> list[dict[str, bool]]:
    """Per labelled frame holding any label: is each labelled class wholly inside the crop?"""
    half_mm = (fov_mm - fov_mm / size) / 2.0  # centre of the outermost output pixel
    spacing = np.asarray(cycle.spacing)
    out = []
    for t in np.flatnonzero(cycle.labeled):
        present = [k for k in cycle.annotated_classes if (cycle.label[t] == k).any()]
        if present:
            out.append(
                {
                    CLASS_NAMES[k]: bool(
                        (np.abs(np.argwhere(cycle.label[t] == k) - center) * spacing <= half_mm).all()
                    )
                    for k in present
                }
            )
    return out


def heart_box_center(cycle: CineCycle) -> np.ndarray:
    """Centre of the box around every labelled structure of every labelled frame, native px."""
    points = np.argwhere((cycle.label[cycle.labeled] > 0).any(axis=0))
    return (points.min(axis=0) + points.max(axis=0)) / 2.0


def measure(cycle: CineCycle, fov_mm: float, size: int) -> dict[str, Any] | None:
    """One cycle: crop centres of both modes, the frames they hold, centre errors; None if unlabelled."""
    if not (cycle.label[cycle.labeled] > 0).any():
        return None
    cycle = drop_unobserved(roll_to_ed(cycle))  # as prepare_cycle sees it
    start = time.perf_counter()
    image_center = np.array(crop_center(cycle, "image"))
    seconds = time.perf_counter() - start
    label_center = np.array(heart_center(cycle))
    spacing = np.asarray(cycle.spacing)
    return {
        "subject": cycle.subject,
        "slice": cycle.slice_index,
        "image": frames_inside(cycle, image_center, fov_mm, size),
        "labels": frames_inside(cycle, label_center, fov_mm, size),
        "error_lv_mm": float(np.linalg.norm((image_center - label_center) * spacing)),
        "error_heart_mm": float(np.linalg.norm((image_center - heart_box_center(cycle)) * spacing)),
        "seconds": seconds,
    }


def _measure_args(args: tuple[CineCycle, float, int]) -> dict[str, Any] | None:
    return measure(*args)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Coverage per crop mode and class, centre errors and the image crop's failures."""

    def coverage(mode: str) -> dict[str, Any]:
        frames = [f for r in rows for f in r[mode]]
        classes = sorted({k for f in frames for k in f})
        return {
            "all_structures": round(float(np.mean([all(f.values()) for f in frames])), 4),
            "by_class": {k: round(float(np.mean([f[k] for f in frames if k in f])), 4) for k in classes},
        }

    def stats(key: str) -> dict[str, float]:
        values = np.array([r[key] for r in rows])
        return {
            q: round(float(np.percentile(values, p)), 1)
            for q, p in (("median", 50), ("p90", 90), ("max", 100))
        }

    failures = [
        {
            "subject": r["subject"],
            "slice": r["slice"],
            "frames_cut": sum(not all(f.values()) for f in r["image"]),
            "classes_cut": sorted({k for f in r["image"] for k, ok in f.items() if not ok}),
            "error_lv_mm": round(r["error_lv_mm"], 1),
        }
        for r in rows
        if not all(all(f.values()) for f in r["image"])
    ]
    return {
        "cycles": len(rows),
        "labelled_frames": sum(len(r["image"]) for r in rows),
        "coverage_image_crop": coverage("image"),
        "coverage_label_crop": coverage("labels"),
        "center_error_mm_vs_lv": stats("error_lv_mm"),
        "center_error_mm_vs_heart_box": stats("error_heart_mm"),
        "seconds_per_cycle": round(float(np.mean([r["seconds"] for r in rows])), 3),
        "image_crop_failures": failures,
    }


def run(cycles: Iterable[CineCycle], fov_mm: float, size: int, workers: int) -> dict[str, Any]:
    jobs: Iterator[tuple[CineCycle, float, int]] = ((c, fov_mm, size) for c in cycles)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_measure_args, jobs, chunksize=4))
    else:
        rows = [_measure_args(j) for j in jobs]
    return summarise([r for r in rows if r is not None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acdc", type=Path, default=DATA / "acdc-training")
    parser.add_argument("--sunnybrook", type=Path, default=DATA / "sunnybrook-subset")
    parser.add_argument("--fov-mm", type=float, default=DEFAULT_FOV_MM)
    parser.add_argument("--size", type=int, default=64, help="output side in px (sets the pixel grid)")
    parser.add_argument("--patients", type=int, default=0, help="first N ACDC patients only (0: all)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    result: dict[str, Any] = {"fov_mm": args.fov_mm, "size": args.size}
    start = time.perf_counter()
    acdc: Iterable[CineCycle] = read_acdc(args.acdc)
    if args.patients:
        folders = sorted(p for p in args.acdc.iterdir() if p.is_dir())[: args.patients]
        acdc = (c for folder in folders for c in read_acdc(folder))
    result["acdc"] = run(acdc, args.fov_mm, args.size, args.workers)
    result["sunnybrook"] = run(read_sunnybrook(args.sunnybrook), args.fov_mm, args.size, args.workers)
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
