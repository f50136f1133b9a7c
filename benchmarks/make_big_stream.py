"""Write the large stream used by the text benchmark: fixture 09 repeated to ~40 MB.

Usage: .venv/bin/python benchmarks/make_big_stream.py OUT.ndjson [--mb 40]
Then:  .venv/bin/yomiage bench --stage text --input OUT.ndjson
"""

from __future__ import annotations

import argparse
from pathlib import Path

from yomiage.bench.text import make_big_stream


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--mb", type=int, default=40)
    args = p.parse_args()
    data = make_big_stream(args.mb * 1024 * 1024)
    Path(args.out).write_bytes(data)
    lines = data.count(b"\n")
    print(f"{args.out}: {len(data) / 1e6:.1f} MB, {lines} lines")


if __name__ == "__main__":
    main()
