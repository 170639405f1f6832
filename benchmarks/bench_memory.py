"""Peak memory of a large services file: ``gapmap analyze`` and ``gapmap validate`` (issue 13).

Target: a 1,000,000-row services CSV analysed (and its outputs written) in under 2 GB peak
RSS, or refused with a clear message. Each measurement runs in a fresh subprocess, which
reports its own peak resident set size (``resource.getrusage``), so imports and the
analysis are counted and nothing is shared between sizes.

Usage (one at a time; takes a few minutes at 1e6 rows)::

    PYTHONPATH=. python benchmarks/bench_memory.py            # 1e5 and 1e6 rows
    PYTHONPATH=. python benchmarks/bench_memory.py --rows 100000

The services are random points over Chatham-Kent in three categories (two of them analysed),
written by :func:`write_services`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 2000.0

_RUNNER = r"""
import json, resource, sys, time
from click.testing import CliRunner
from gapmap.cli import main
t0 = time.perf_counter()
res = CliRunner().invoke(main, sys.argv[1:], catch_exceptions=False)
print(json.dumps({"exit_code": res.exit_code, "seconds": time.perf_counter() - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tail": (res.output or "").strip().splitlines()[-1:]}))
"""


def write_services(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` random services inside Chatham-Kent's bounding box (service_id, name, category, lat, lon, address)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    pd.DataFrame({
        "service_id": [f"s{i}" for i in range(n)],
        "name": [f"Service {i}" for i in range(n)],
        "category": np.array(["primary_care", "hospital", "settlement"])[rng.integers(0, 3, n)],
        "latitude": rng.uniform(42.1, 42.6, n).round(6),
        "longitude": rng.uniform(-82.45, -81.75, n).round(6),
        "address": [f"{i} Main St" for i in range(n)],
    }).to_csv(path, index=False)
    return path


def measure(args: list[str]) -> dict:
    """Run the CLI with ``args`` in a fresh interpreter; its exit code, seconds and peak RSS (MB)."""
    out = subprocess.run([sys.executable, "-c", _RUNNER, *args], capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"benchmark run failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    opts = parser.parse_args()
    print(f"target: peak RSS < {TARGET_MB:,.0f} MB for 1,000,000 services rows (or a clear refusal)")
    with tempfile.TemporaryDirectory(prefix="gapmap-bench-mem-") as tmp:
        for n in opts.rows:
            csv = write_services(Path(tmp) / f"services_{n}.csv", n)
            size_mb = csv.stat().st_size / 1e6
            t0 = time.perf_counter()
            val = measure(["validate", str(csv), "--kind", "services"])
            ana = measure(["analyze", "--region", "chatham-kent", "--services", str(csv), "--network", "straight",
                           "--out", str(Path(tmp) / f"out_{n}"), "-q"])
            ok = ana["exit_code"] == 0 and ana["peak_mb"] < TARGET_MB
            print(f"{n:>9,} rows ({size_mb:,.0f} MB): validate peak {val['peak_mb']:,.0f} MB in {val['seconds']:.0f} s "
                  f"(exit {val['exit_code']}); analyze peak {ana['peak_mb']:,.0f} MB in {ana['seconds']:.0f} s "
                  f"(exit {ana['exit_code']}) {'OK' if ok else 'ABOVE TARGET' if n >= 1_000_000 else ''} "
                  f"[{time.perf_counter() - t0:.0f} s]")
            if ana["exit_code"] != 0:
                print(f"    {ana['tail']}")


if __name__ == "__main__":
    main()
