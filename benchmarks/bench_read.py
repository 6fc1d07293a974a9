"""Reader speed: cineaug's Sunnybrook reader against plain ``pydicom.dcmread`` of the same files.

Prints JSON. Goal: reader <= 1.5x ``dcmread + pixel_array`` of the same files, each file read once
(the reader also groups slices, orders frames, reads the contours and rasterises them). The four
readings alternate round by round and the best round of each counts.

    python benchmarks/bench_read.py [--data ../shared/data/sunnybrook-subset] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import pydicom

from cineaug import read_sunnybrook
from cineaug.io.sunnybrook import find_cases


def best_of_interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Best time of each function over ``repeats`` rounds that run them in turn, so that the load of
    a shared machine falls on all of them alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/sunnybrook-subset")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    files = [p for case in find_cases(args.data) for p in case.images.values()]
    n_cycles = sum(1 for _ in read_sunnybrook(args.data))  # warm the file cache

    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE  # as the reader reads

    def plain(pixels: bool) -> None:
        for f in files:
            ds = pydicom.dcmread(f)
            if pixels:
                ds.pixel_array  # noqa: B018

    fns = {
        "plain_dcmread_s": lambda: plain(False),
        "plain_dcmread_pixel_array_s": lambda: plain(True),
        **{
            f"cineaug_read_sunnybrook_workers{w}_s": lambda w=w: list(read_sunnybrook(args.data, workers=w))
            for w in (1, 2)
        },
    }
    best = best_of_interleaved(fns, args.repeats)
    result = {"files": len(files), "cycles": n_cycles, **{k: round(v, 3) for k, v in best.items()}}
    for workers in (1, 2):
        ours = result[f"cineaug_read_sunnybrook_workers{workers}_s"]
        result[f"ratio_workers{workers}_vs_plain_dcmread"] = round(ours / result["plain_dcmread_s"], 2)
        result[f"ratio_workers{workers}_vs_dcmread_pixel_array"] = round(
            ours / result["plain_dcmread_pixel_array_s"], 2
        )
    result["goal"] = "ratio <= 1.5"
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
