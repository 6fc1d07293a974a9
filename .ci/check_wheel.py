"""Print a wheel's size and contents by kind; fail when it is over the ceiling or carries docs-only media.

python .ci/check_wheel.py dist/cineaug-*.whl --max-mb 12
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections import Counter
from pathlib import Path

DOCS_ONLY_SUFFIXES = (".gif", ".png", ".mp4")  # media for the docs and model cards: never in the wheel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--max-mb", type=float, default=12.0)
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as z:
        infos = z.infolist()
    by_kind = Counter()
    for info in infos:
        by_kind[Path(info.filename).suffix or info.filename] += info.compress_size
    size_mb = args.wheel.stat().st_size / 1e6
    media = [i.filename for i in infos if i.filename.endswith(DOCS_ONLY_SUFFIXES)]
    print(json.dumps({"wheel": args.wheel.name, "mb": round(size_mb, 2), "ceiling_mb": args.max_mb,
                      "mb_by_kind": {k: round(v / 1e6, 2) for k, v in by_kind.most_common(6)},
                      "docs_only_media": media}, indent=1))  # fmt: skip
    if size_mb > args.max_mb:
        print(f"FAIL: the wheel is {size_mb:.1f} MB, over the {args.max_mb} MB ceiling", file=sys.stderr)
        return 1
    if media:
        print(f"FAIL: docs-only media in the wheel: {media}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
