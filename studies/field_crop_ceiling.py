"""What the field protocol's crops leave to score: the paste-back ceiling and the localiser's miss.

For a test cache prepared with native labels (``cineaug prepare ... --crop image``), per patient:

- ``ceiling_dice``: the per-volume Dice of the crops' own labels pasted back into the native grid
  (:func:`cineaug.preprocess.paste_back`) against the native expert labels, ED and ES averaged as
  :func:`cineaug.benchmark.score_volumes` averages them: the best any segmenter of these crops can
  score (what the crop and the in-plane resampling lose);
- ``lv_center_error_mm`` / ``heart_center_error_mm``: median over the patient's labelled frames of
  the distance between the crop's centre (found from the image alone, :func:`cineaug.locate_heart`)
  and the centre of the expert's LV (cavity + myocardium), or of the box around every labelled
  structure (the whole heart), in mm.

Prints JSON: one line per patient, then a summary (means, medians and ranges).

    python studies/field_crop_ceiling.py runs/acdc-test128
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from cineaug.benchmark.volumes import volume_scores, volumes_of
from cineaug.data import CycleDataset
from cineaug.preprocess import paste_back
from cineaug.types import LV, MYO, CineCycle


def crop_labels(cycles: list[CineCycle]) -> dict[tuple[str, int, int], np.ndarray]:
    """Each cycle's prepared label frames, by (subject, slice index, prepared frame)."""
    out = {}
    for cycle in cycles:
        for t in cycle.extra.get("native_frames", []):
            out[(cycle.subject, cycle.slice_index, t)] = cycle.label[t]
    return out


def center_errors(cycles: list[CineCycle]) -> dict[str, dict[str, float]]:
    """Median crop-centre error (mm) per subject over its native label frames: against the LV's centre
    (cavity + myocardium) and against the centre of the box around every labelled structure."""
    errors: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cycle in cycles:
        if cycle.native_label is None:
            continue
        mm = np.asarray(cycle.extra["native_spacing"], float)
        center = np.asarray(cycle.extra["crop_center_px"], float)
        for native in cycle.native_label:
            lv, heart = np.argwhere(np.isin(native, (LV, MYO))), np.argwhere(native > 0)
            if len(lv):
                box = (heart.min(0) + heart.max(0)) / 2
                errors[cycle.subject]["lv"].append(float(np.hypot(*((lv.mean(0) - center) * mm))))
                errors[cycle.subject]["heart"].append(float(np.hypot(*((box - center) * mm))))
    return {s: {k: float(np.median(v)) for k, v in e.items()} for s, e in errors.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="test cache prepared with native labels")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = CycleDataset(args.cache)
    cycles = [ds.cycle(i) for i in range(len(ds))]
    labels = crop_labels(cycles)
    ceiling = defaultdict(list)
    for volume in volumes_of(cycles, where=str(args.cache)):
        onehot = [
            np.eye(4, dtype=np.float32)[labels[(volume.subject, z, t)]].transpose(2, 0, 1)[None]
            for z, t in zip(volume.slice_indices, volume.frames)
        ]
        shape = volume.truth.shape[1:]
        pred = np.concatenate(
            [
                paste_back(x, center, volume.crop_mm, volume.native_spacing, shape)
                for x, center in zip(onehot, volume.centers)
            ]
        )
        dice, _ = volume_scores(pred, volume)
        ceiling[volume.subject].append(float(np.nanmean(dice)))
    errors = center_errors(cycles)
    rows = [
        {
            "subject": s,
            "ceiling_dice": round(float(np.mean(v)), 4),
            **{f"{k}_center_error_mm": round(e, 1) for k, e in errors.get(s, {}).items()},
        }
        for s, v in sorted(ceiling.items())
    ]
    for row in rows:
        print(json.dumps(row))
    dice = [r["ceiling_dice"] for r in rows]
    summary = {"summary": True, "cache": str(args.cache), "patients": len(rows)}
    summary.update(ceiling_dice_mean=round(float(np.mean(dice)), 4), ceiling_dice_min=min(dice))
    for k in ("lv", "heart"):
        err = [r[f"{k}_center_error_mm"] for r in rows if f"{k}_center_error_mm" in r]
        summary[f"{k}_center_error_mm_median"] = round(float(np.median(err)), 1)
        summary[f"{k}_center_error_mm_range"] = [min(err), max(err)]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
