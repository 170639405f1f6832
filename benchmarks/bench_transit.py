"""Benchmark gapmap.travel.transit.schedule on the Barrie GTFS feed (run on demand, not in CI).

1. Profile search (one backward profile connection scan per category) vs the plain
   per-departure RAPTOR, on the same origins, window and preprocessing; prints the speed-up
   and checks that both give identical per-minute travel times.
2. All ~1000 grid origins over Barrie's stops to all Barrie ODHF facilities, end to end.

Usage::

    /work/venv/bin/python benchmarks/bench_transit.py [--grid 32] [--subset 30] [--window 17:00 19:00]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap.sources import catalog
from gapmap.travel.transit import schedule as transit

UTM17 = "EPSG:32617"
CATEGORIES = {
    "Hospitals": "hospital",
    "Ambulatory health care services": "primary_care",
    "Nursing and residential care facilities": "long_term_care",
}


def grid_origins(feed: transit.Feed, n: int) -> gpd.GeoDataFrame:
    """An n x n grid of points over the bounding box of the feed's stops."""
    s = feed.stops[feed.stops["location_type"] == 0]
    lon, lat = np.meshgrid(np.linspace(s["lon"].min(), s["lon"].max(), n), np.linspace(s["lat"].min(), s["lat"].max(), n))
    pts = gpd.points_from_xy(lon.ravel(), lat.ravel(), crs="EPSG:4326")
    return gpd.GeoDataFrame(index=[f"g{i:04d}" for i in range(n * n)], geometry=pts).to_crs(UTM17)


def barrie_services() -> gpd.GeoDataFrame:
    """ODHF facilities whose city is Barrie and that have coordinates."""
    odhf = pd.read_csv(catalog.resolve("odhf"), encoding="latin-1", dtype=str)
    b = odhf[(odhf["city"].str.lower() == "barrie") & odhf["latitude"].notna()]
    return gpd.GeoDataFrame(
        {"service_id": "odhf-" + b["index"], "name": b["facility_name"], "category": b["odhf_facility_type"].map(CATEGORIES)},
        geometry=gpd.points_from_xy(b["longitude"].astype(float), b["latitude"].astype(float), crs="EPSG:4326"),
    ).to_crs(UTM17).reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=32, help="grid side; origins = grid^2 (default 32 -> 1024)")
    ap.add_argument("--subset", type=int, default=30, help="origins for the profile vs per-departure comparison")
    ap.add_argument("--window", nargs=2, default=["17:00", "19:00"])
    args = ap.parse_args()
    window = tuple(args.window)

    t = time.perf_counter()
    feed = transit.read_feed(catalog.resolve("gtfs_barrie"))
    feed._stop_times  # parse the timetable now so it is not charged to the searches below
    t_read = time.perf_counter() - t
    date = feed.default_date()
    origins = grid_origins(feed, args.grid)
    services = barrie_services()
    cats = list(dict.fromkeys(services["category"]))
    print(f"Barrie Transit GTFS: read + parse {t_read:.2f} s; date {date} (first Wednesday), window {window[0]}-{window[1]}")
    print(f"{len(origins)} grid origins, {len(services)} ODHF services: "
          + ", ".join(f"{c} {n}" for c, n in services["category"].value_counts().items()))

    # 1. Same origins, both algorithms. Origins with a stop in reach, so the baseline does real work.
    opts = dict(date=date, window=window, max_walk_m=1000.0, max_transfers=3, walk_speed_kmh=4.8,
                percentiles=(50, 90), max_minutes=120, max_transfer_m=400.0, circuity=1.3, board_slack_s=60,
                walk_time_fn=None)
    probe = transit._prepare(feed, origins, services, cats, **opts)
    served = np.unique(probe.access_o)
    pick = served[np.linspace(0, len(served) - 1, min(args.subset, len(served))).round().astype(int)]
    sub = origins.iloc[pick]
    problem = transit._prepare(feed, sub, services, cats, **opts)
    n_dep = len(problem.departures)
    timings = {}
    results = {}
    for algo in ("profile", "per_departure"):
        t = time.perf_counter()
        results[algo] = [transit._departure_matrix(problem, c, algo) for c in cats]
        timings[algo] = time.perf_counter() - t
    same = all(np.array_equal(a, b) for ra, rb in zip(results["profile"], results["per_departure"]) for a, b in zip(ra, rb))
    queries = len(sub) * n_dep * len(cats)
    print(f"\n[1] {len(sub)} origins x {n_dep} departure minutes x {len(cats)} categories = {queries} queries")
    print(f"    profile connection scan (1 per category): {timings['profile']:.2f} s")
    print(f"    per-departure RAPTOR (oracle):            {timings['per_departure']:.2f} s "
          f"({1000 * timings['per_departure'] / queries:.1f} ms/query)")
    print(f"    speed-up {timings['per_departure'] / timings['profile']:.0f}x; identical results: {same}")

    # 2. Everything, end to end through the public function.
    t = time.perf_counter()
    out = transit.transit_travel_times(feed, origins, services, cats, date=date, window=window)
    t_all = time.perf_counter() - t
    print(f"\n[2] all {len(origins)} origins x {len(services)} services, {len(cats)} categories, "
          f"{n_dep} minutes: {t_all:.2f} s end to end")
    summary = out.groupby("category").agg(
        reachable=("reachable", "mean"), has_transit=("has_transit", "mean"),
        median_min=("minutes", "median"), p90_of_p90=("minutes_p90", lambda s: s.quantile(0.9)),
        walk_only=("walk_only", "mean"),
    )
    print(summary.round(2).to_string())
    stops = feed.stops_layer(date, window)
    top = stops.nlargest(5, "trips_per_hour")[["stop_id", "stop_name", "trips_per_hour", "routes"]]
    print(f"\nBusiest stops {window[0]}-{window[1]} on {date} (boardable departures per hour):")
    print(top.to_string(index=False))


if __name__ == "__main__":
    main()
