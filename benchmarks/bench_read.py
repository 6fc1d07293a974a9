"""Reader speed: cineaug's Sunnybrook reader against plain ``pydicom.dcmread`` of the same files.

Prints JSON. Goal (issue #3): reader <= 1.5x the plain read, each file read once.

    python benchmarks/bench_read.py [--data ../shared/data/sunnybrook-subset] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import pydicom

from cineaug import read_sunnybrook
from cineaug.io.dicom import _lenient_values
from cineaug.io.sunnybrook import find_cases


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/sunnybrook-subset")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = [p for case in find_cases(args.data) for p in case.images.values()]
    n_cycles = sum(1 for _ in read_sunnybrook(args.data))  # warm the file cache

    def plain(pixels: bool) -> None:
        with _lenient_values():
            for f in files:
                ds = pydicom.dcmread(f)
                if pixels:
                    ds.pixel_array  # noqa: B018

    result = {
        "files": len(files),
        "cycles": n_cycles,
        "plain_dcmread_s": round(best_of(lambda: plain(False), args.repeats), 3),
        "plain_dcmread_pixel_array_s": round(best_of(lambda: plain(True), args.repeats), 3),
    }
    for workers in (1, 2):
        result[f"cineaug_read_sunnybrook_workers{workers}_s"] = round(
            best_of(lambda w=workers: list(read_sunnybrook(args.data, workers=w)), args.repeats), 3
        )
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
