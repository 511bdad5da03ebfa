"""Benchmark the CLI's start: `dangan --help`, `dangan --version` and a sub-command's help.

    .venv/bin/python bench/cli.py [--runs 30]

Floor: starting the same Python with nothing to do (`python -c pass`), measured in the same
run. Reports the median and the 90th percentile in milliseconds and the ratio of each median
to the floor's. The target is `--help` and `--version` under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timings(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cases = {
        "floor: python -c pass": [sys.executable, "-c", "pass"],
        "dangan --help": [str(BIN / "dangan"), "--help"],
        "dangan --version": [str(BIN / "dangan"), "--version"],
        "dangan ingest --help": [str(BIN / "dangan"), "ingest", "--help"],
    }
    results = {}
    for name, cmd in cases.items():
        t = timings(cmd, args.runs)
        results[name] = {
            "median_ms": round(statistics.median(t), 1),
            "p90_ms": round(t[int(len(t) * 0.9) - 1], 1),
        }
    floor = results["floor: python -c pass"]["median_ms"]
    for name, r in results.items():
        r["ratio_to_floor"] = round(r["median_ms"] / floor, 1)
        print(
            f"{name:28} median {r['median_ms']:7.1f} ms  p90 {r['p90_ms']:7.1f} ms  "
            f"×{r['ratio_to_floor']}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
