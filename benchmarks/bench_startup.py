"""Benchmark start-up and the end-to-end Chatham-Kent run (run on demand, offline mirror needed).

    python benchmarks/bench_startup.py            # best of 5 (~1.5 min on a quiet 2-core box)
    python benchmarks/bench_startup.py --quick    # best of 1

Every figure is a fresh process (``python -m gapmap.cli ...``), the runs interleaved so that
load on a shared machine hits all of them alike; the best of N is kept.

1. ``import gapmap`` and ``import gapmap.cli``: wall time, and that neither imports folium,
   matplotlib or osmnx.
2. The connectivity probe ``_overpass_reachable`` offline: its time and that it imports no osmnx.
3. ``gapmap analyze --region chatham-kent`` with the default ``--network auto`` (an empty
   network cache, so it probes the internet, finds it unreachable and falls back) against
   ``--network straight`` (same result). Target: auto within 1.15x of straight.
4. The same straight run against a floor script that only imports geopandas and reads the
   same source files with plain pandas/pyogrio (the needed columns). Target: within 3x.
5. For scale (no target): the floor plus importing the libraries the run's outputs need
   (matplotlib with geopandas' plotting, folium with its plugins, scipy.optimize for the
   report's siting): the part of a run that lazy imports cannot remove, since every default run
   writes the map and the report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IMPORTS = """
import sys, time
t0 = time.perf_counter()
import {module}
dt = time.perf_counter() - t0
heavy = [m for m in ("folium", "matplotlib", "osmnx") if m in sys.modules]
print(dt, ",".join(heavy) or "-")
"""

PROBE = """
import sys, time
from gapmap.travel.road import load as road_load
t0 = time.perf_counter()
ok = road_load._overpass_reachable()
print(time.perf_counter() - t0, ok, "osmnx" in sys.modules)
"""

#: What the CK run reads: the source files and the columns it uses of each.
FLOOR = """
import geopandas as gpd
import pandas as pd
from gapmap.sources import catalog  # path lookup only (gapmap.sources imports geopandas anyway)

def csv(ds, cols, **kw):
    return pd.read_csv(catalog.resolve(ds), usecols=cols, **kw)

csv("odhf", ["index", "facility_name", "source_facility_type", "odhf_facility_type", "provider", "street_no",
             "street_name", "postal_code", "city", "province", "CSDuid", "latitude", "longitude"], encoding="cp1252")
csv("lmia_chatham_kent", ["year", "quarter", "program_stream", "employer", "address", "city", "postal_code", "fsa",
                          "approved_positions", "noc2011_code", "count_header_in_source"])
csv("ck_communities", None)
pd.read_csv(catalog.resolve("geonames_fsa"), sep="\\t", header=None, usecols=[1, 2, 4, 9, 10])
csv("da_population_2021", ["DAUID", "Population"])
csv("da_centroids_2016", ["DAUID_2016", "lon", "lat"])
csv("da_cimd_2021", None)
gpd.read_file(catalog.resolve("ck_wards"))
"""

#: The floor plus the libraries a default run's outputs import (the report's curves and map,
#: the web map, the report's default siting) and gapmap's own modules on the run's path.
FLOOR_IMPORTS = FLOOR + """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot, geopandas.plotting, folium, folium.plugins, scipy.optimize, scipy.spatial
import gapmap.pipeline, gapmap.output.files, gapmap.output.report, gapmap.analysis.plan
"""


def _python(code: str | None = None, args: list[str] | None = None, env: dict | None = None) -> tuple[float, str]:
    cmd = [sys.executable, *(["-c", code] if code is not None else args)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed:\n{out.stderr[-2000:]}")
    return dt, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="best of 1")
    ap.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    args = ap.parse_args()
    n = 1 if args.quick else args.repeat
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GAPMAP_OFFLINE", None)  # the default run must take the probe path

    print("== imports (fresh process, in-process wall time)")
    for module in ("gapmap", "gapmap.cli"):
        best, heavy = min((_python(IMPORTS.format(module=module), env=env)[1].split() for _ in range(n)),
                          key=lambda r: float(r[0]))
        print(f"import {module:<12} {float(best):6.3f} s   heavy modules imported: {heavy}   (target: none)")

    t, stdout = _python(PROBE, env=env)
    probe_s, reachable, ox = stdout.split()
    print(f"\n== connectivity probe: {float(probe_s):.4f} s, reachable={reachable}, imported osmnx={ox} "
          f"(target: < 0.1 s offline, no osmnx)")

    with tempfile.TemporaryDirectory() as tmp:
        env_run = {**env, "GAPMAP_CACHE": str(Path(tmp) / "cache")}  # empty: auto must probe
        runs = {"auto": [], "straight": [], "floor": [], "floor+imports": []}
        for i in range(n):
            for name in runs:
                if name.startswith("floor"):
                    dt, _ = _python(FLOOR if name == "floor" else FLOOR_IMPORTS, env=env_run)
                else:
                    dt, _ = _python(args=["-m", "gapmap.cli", "analyze", "--region", "chatham-kent", "--network", name,
                                          "--out", str(Path(tmp) / f"{name}{i}"), "-q"], env=env_run)
                runs[name].append(dt)
        best = {k: min(v) for k, v in runs.items()}
        files = sorted(f.name for f in (Path(tmp) / "straight0").iterdir())
        differ = [f for f in files if (Path(tmp) / "auto0" / f).read_bytes() != (Path(tmp) / "straight0" / f).read_bytes()]

    print(f"\n== Chatham-Kent run, fresh process, best of {n} (all runs: "
          + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v) for k, v in runs.items()) + " s)")
    print(f"gapmap analyze --network auto (offline, falls back)  {best['auto']:6.2f} s")
    print(f"gapmap analyze --network straight                    {best['straight']:6.2f} s")
    ratio = best["auto"] / best["straight"]
    print(f"auto / straight = {ratio:.3f}  (target <= 1.15: {'met' if ratio <= 1.15 else 'MISSED'})")
    print(f"outputs of the two runs: {len(files) - len(differ)} of {len(files)} files identical"
          + (f"; {', '.join(differ)} differ (they carry the fallback note)" if differ else ""))
    floor = best["floor"]
    print(f"\nfloor: import geopandas + read the same source files (needed columns)  {floor:6.2f} s")
    r2 = best["straight"] / floor
    print(f"straight run / floor = {r2:.2f}  (target <= 3: {'met' if r2 <= 3 else 'MISSED'})")
    fi = best["floor+imports"]
    print(f"floor + the output libraries' imports (matplotlib, folium, scipy.optimize, gapmap's modules)  {fi:6.2f} s"
          f"  = {fi / floor:.2f}x the floor; the run does {best['straight'] - fi:.2f} s of work beyond it")


if __name__ == "__main__":
    main()
