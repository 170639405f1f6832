"""Check that a change leaves gapmap's outputs byte-identical.

Runs three analyses with the working tree and with an earlier commit (checked out into a
temporary git worktree) and compares every output file byte for byte:

- ``analyze --region chatham-kent`` (default: straight-line, public);
- ``analyze --region simcoe --mode transit`` (Barrie's GTFS feed);
- ``analyze --region chatham-kent --network GRID --privacy internal --recommend 2`` on a
  deterministic synthetic road grid (GraphML) over Chatham-Kent;
- with ``--all-regions``, also ``analyze --all`` (every region with offline data, serial batch,
  straight-line; ~2 minutes a side), for a change to the per-area tables or disclosure pass.

Usage::

    python scripts/compare_outputs.py --against HEAD~1
    python scripts/compare_outputs.py --against HEAD~1 --all-regions

Exit status 0 when every file matches, 1 otherwise (the differing files are listed).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = {
    "ck": ["analyze", "--region", "chatham-kent", "-q"],
    "simcoe-transit": ["analyze", "--region", "simcoe", "--mode", "transit", "-q"],
    "ck-grid": ["analyze", "--region", "chatham-kent", "--network", "{grid}", "--privacy", "internal", "--recommend", "2",
                "-q"],
}


def _grid(path: Path) -> Path:
    """A two-way road grid every 0.02 degrees over Chatham-Kent, 60 km/h (as tests/travel/road use)."""
    import networkx as nx
    import numpy as np
    import osmnx as ox
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    lons, lats = np.arange(-82.52, -81.62, 0.02), np.arange(42.02, 42.70, 0.02)
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i, x in enumerate(lons):
        for j, y in enumerate(lats):
            G.add_node(i * 1000 + j, x=float(x), y=float(y))
    for i, x in enumerate(lons):
        for j, y in enumerate(lats):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < len(lons) and j + dj < len(lats):
                    length = geod.inv(x, y, lons[i + di], lats[j + dj])[2]
                    a, b = i * 1000 + j, (i + di) * 1000 + j + dj
                    for u, v in ((a, b), (b, a)):
                        G.add_edge(u, v, length=length, highway="secondary", oneway=False, speed_kph=60.0,
                                   osmid=u * 10_000_000 + v)
    ox.save_graphml(G, path)
    return path


#: The batch of every region (opt-in: ``--all-regions``).
ALL_REGIONS = {"all-regions": ["analyze", "--all", "-q"]}


def run_all(checkout: Path, out: Path, grid: Path, runs: dict[str, list[str]] = RUNS) -> None:
    """Run every analysis of ``runs`` with the code in ``checkout``, writing under ``out``."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "GAPMAP_DATA": str(REPO.parent / "shared" / "data"),
           "GAPMAP_CACHE": str(out / "_cache")}
    for name, args in runs.items():
        cmd = [sys.executable, "-c", "from gapmap.cli import main; main()", *[a.format(grid=grid) for a in args],
               "--out", str(out / name)]
        subprocess.run(cmd, cwd=checkout, env=env, check=True)


def compare(a: Path, b: Path) -> list[str]:
    """Relative paths of files that differ or exist on one side only."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "_cache" not in p.parts}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "_cache" not in p.parts}
    bad = sorted(str(p) + " (only one side)" for p in files_a ^ files_b)
    bad += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="HEAD", help="commit whose outputs are the reference (default HEAD)")
    ap.add_argument("--all-regions", action="store_true", help="also compare the batch of every region (analyze --all)")
    args = ap.parse_args()
    runs = {**RUNS, **ALL_REGIONS} if args.all_regions else RUNS
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grid = _grid(tmp / "ck_grid.graphml")
        ref = tmp / "ref-src"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(ref), args.against], check=True,
                       capture_output=True)
        try:
            run_all(ref, tmp / "before", grid, runs)
            run_all(REPO, tmp / "after", grid, runs)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(ref)], check=False)
        bad = compare(tmp / "before", tmp / "after")
        n = sum(1 for p in (tmp / "after").rglob("*") if p.is_file() and "_cache" not in p.parts)
        if bad:
            print(f"{len(bad)} of {n} output files differ from {args.against}:")
            print("\n".join(f"  {b}" for b in bad))
            return 1
        print(f"all {n} output files of {len(runs)} runs are byte-identical to {args.against}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
