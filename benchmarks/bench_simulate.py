"""Speed of the simulator: seconds per 256x256 20-frame subject on one core, subjects/s on a pool.

Usage: python benchmarks/bench_simulate.py [--n 20] [--workers 2] [--profile]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from cineaug.simulate import sample_subject, simulate_cycle, simulate_dataset  # noqa: E402
from cineaug.simulate.dataset import subject_classes  # noqa: E402


def one_core(n: int, seed: int) -> float:
    """Mean seconds per subject, simulated serially in this process (after one warm-up subject)."""
    simulate_cycle(sample_subject(seed, "NOR"))
    classes = subject_classes(n)
    start = time.perf_counter()
    for i, name in enumerate(classes):
        simulate_cycle(sample_subject(seed, name, index=i))
    return (time.perf_counter() - start) / n


def pool(n: int, seed: int, workers: int) -> float:
    """Subjects per second through :func:`simulate_dataset` on ``workers`` processes (pool start included)."""
    start = time.perf_counter()
    count = sum(1 for _ in simulate_dataset(n, seed, workers=workers))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="subjects per measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--profile", action="store_true", help="print the top of a cProfile of the serial run"
    )
    args = parser.parse_args()
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
    per_subject = one_core(args.n, args.seed)
    if args.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    rate = pool(max(args.n * args.workers, 2), args.seed + 1, args.workers)
    print(
        json.dumps(
            {
                "matrix": 256,
                "frames": 20,
                "subjects": args.n,
                "seconds_per_subject_one_core": round(per_subject, 4),
                "subjects_per_second": round(rate, 2),
                "workers": args.workers,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
