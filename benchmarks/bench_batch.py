"""All-regions batch: serial vs a Dask LocalCluster, with per-region times.

Runs every region that has offline data (straight-line method, default settings) twice into
temporary folders: in this process (``scheduler="serial"``), then on a LocalCluster of
``--workers`` processes (one thread each). Prints the wall times, the ratio, the cluster start-up
time, per-region task times in both runs, and checks that both output trees are byte-identical.

Targets (issue 19), against figures of the same run: the serial batch within 15x one
Chatham-Kent run (a fresh ``gapmap analyze --region chatham-kent --network straight`` process,
timed before the batch, best of ``--ck-runs``); Dask with 2 workers at least 1.7x faster than
serial.

    python benchmarks/bench_batch.py              # --workers 2; about 3 minutes
    python benchmarks/bench_batch.py --regions chatham-kent kingston huron
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gapmap import batch


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ck_run(tmp: Path, n: int) -> float:
    """Best of ``n`` fresh-process straight-line CK runs (all outputs), seconds."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    best = float("inf")
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gapmap.cli", "analyze", "--region", "chatham-kent", "--network", "straight",
                        "--out", str(tmp / f"ck{i}"), "-q"], cwd=root, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_rss_mb() -> float:
    """This process's peak resident memory, MB (run on each worker)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--regions", nargs="*", help="region slugs [default: all]")
    ap.add_argument("--keep", type=Path, help="write the two output trees here (serial/, dask/) instead of a temp dir")
    ap.add_argument("--ck-runs", type=int, default=5, help="fresh CK runs timed for the 15x target (best of; default 5: a single fresh run varies 3.9-5.6 s)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gapmap-bench-batch-") as tmp:
        root = args.keep or Path(tmp)
        t_ck = _ck_run(Path(tmp), args.ck_runs)
        t0 = time.perf_counter()
        serial = batch.run_batch(args.regions or None, root / "serial", scheduler="serial")
        t_serial = time.perf_counter() - t0

        # The cluster `--scheduler local` starts (gapmap.batch.dask_client), timed apart.
        t0 = time.perf_counter()
        local = batch.dask_client("local", args.workers)
        client = local.__enter__()
        t_start = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            dask = batch.run_batch(args.regions or None, root / "dask", scheduler=client)
            t_dask = time.perf_counter() - t0
            worker_mb = sorted(client.run(_peak_rss_mb).values())
        finally:
            local.__exit__(None, None, None)
        same = _tree(root / "serial") == _tree(root / "dask")

    n = serial.status_counts()
    print(f"regions: {n['ok']} analysed, {n['skipped']} skipped, {n['failed']} failed (straight-line, default settings)")
    print(f"{'region':<18} {'status':<8} {'serial s':>8} {'dask s':>8}")
    d = {o.slug: o for o in dask.outcomes}
    for o in serial.outcomes:
        if o.status != "skipped":
            print(f"{o.slug:<18} {o.status:<8} {o.elapsed_s:>8.1f} {d[o.slug].elapsed_s:>8.1f}")
    busy_s = sum(o.elapsed_s for o in serial.outcomes)
    busy_d = sum(o.elapsed_s for o in dask.outcomes)
    print(f"sum of task times: serial {busy_s:.1f} s, dask {busy_d:.1f} s (per-task slowdown {busy_d / busy_s:.2f}x "
          f"from {args.workers} processes sharing the machine)")
    print(f"serial batch:                      {t_serial:7.1f} s")
    print(f"LocalCluster start ({args.workers} workers):     {t_start:7.1f} s")
    print(f"dask batch (cluster running):      {t_dask:7.1f} s   speed-up {t_serial / t_dask:.2f}x")
    print(f"dask batch incl. cluster start:    {t_dask + t_start:7.1f} s   speed-up {t_serial / (t_dask + t_start):.2f}x")
    print(f"output trees byte-identical: {same}")
    print(f"peak memory: this process {_peak_rss_mb():.0f} MB (serial batch), each Dask worker "
          + " / ".join(f"{m:.0f}" for m in worker_mb) + " MB")
    r = t_serial / t_ck
    print(f"one CK run (fresh process, best of {args.ck_runs}): {t_ck:.2f} s; serial batch / CK run = {r:.1f}x "
          f"(target <= 15: {'met' if r <= 15 else 'MISSED'}); dask speed-up {t_serial / t_dask:.2f}x "
          f"(target >= 1.7: {'met' if t_serial / t_dask >= 1.7 else 'MISSED'})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
