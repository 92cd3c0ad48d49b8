"""Benchmark: raw snapshot -> cache build time and peak memory.

Runs ``python -m equity build --force`` into a fresh temporary cache several
times, each in its own process, and reports wall time and peak resident
memory. The floor, measured in the same run, is a process that only imports
the library (interpreter start + imports), so the ratio shows the cost of the
build itself on this machine. Goal (issue 3): <= 10 s and <= 1.5 GB.

Usage: python bench/build_time.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
elapsed = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if done.returncode:
    sys.stderr.write(done.stderr.decode())
    sys.exit(done.returncode)
print(elapsed, peak_kib)
"""


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"command failed: {' '.join(command)}\n{out.stderr}")
    seconds, kib = out.stdout.split()
    return float(seconds), float(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    floor, build = [], []
    for _ in range(args.repeat):
        floor.append(run([sys.executable, "-c", "import equity.cache, equity.geography, equity.metrics"]))
        with tempfile.TemporaryDirectory() as cache:
            build.append(run([sys.executable, "-m", "equity", "--cache", cache, "build", "--force"]))
    floor_s = statistics.median(s for s, _ in floor)
    build_s = statistics.median(s for s, _ in build)
    floor_mb = max(m for _, m in floor)
    build_mb = max(m for _, m in build)
    print(f"{'step':<28}{'median s':>10}{'peak MiB':>10}{'ratio to floor':>16}")
    print(f"{'floor: import library':<28}{floor_s:>10.2f}{floor_mb:>10.0f}{1:>16.2f}")
    print(f"{'build raw -> cache':<28}{build_s:>10.2f}{build_mb:>10.0f}{build_s / floor_s:>16.2f}")
    print(f"build minus floor: {build_s - floor_s:.2f} s; goal <= 10 s and <= 1536 MiB "
          f"({'met' if build_s <= 10 and build_mb <= 1536 else 'NOT met'}) over {args.repeat} runs at {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
