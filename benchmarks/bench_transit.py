"""Benchmark gapmap.travel.transit.schedule on the Barrie GTFS feed (run on demand, not in CI).

1. Profile search (one backward profile connection scan per category) against a
   **vectorised per-departure search** (RAPTOR rounds in numpy over all origins at once, one
   search per departure minute: the strong baseline, :func:`vectorised_transit`), at 40
   served origins and at the whole 32 x 32 grid (1,024 origins), on the same window and
   preprocessing; target: profile >= 10x faster. The pure-Python per-departure RAPTOR
   (``algorithm="per_departure"``) stays the oracle: on a few origins all three must give
   identical per-minute travel times and services.
2. All ~1000 grid origins over Barrie's stops to all Barrie ODHF facilities, end to end.

Usage::

    python benchmarks/bench_transit.py [--grid 32] [--subset 40] [--oracle 12] [--repeat 3]
    python benchmarks/bench_transit.py --quick      # oracle on 4 origins, 40 origins only, best of 1 (~30 s)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy
from gapmap.sources import catalog  # noqa: E402
from gapmap.travel.transit import csa as _csa  # noqa: E402
from gapmap.travel.transit import raptor as _raptor  # noqa: E402
from gapmap.travel.transit import schedule as transit  # noqa: E402

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


# ----------------------------------------------------------------------------------------------
# The vectorised per-departure baseline


class _FlatPatterns:
    """All RAPTOR trip patterns laid end to end: one column per (pattern, position)."""

    def __init__(self, pats: _raptor.Patterns, lo: int, hi: int) -> None:
        INF = _csa.INF
        lens = np.array([len(x) for x in pats.stops], np.int64)
        trips = np.array([len(x) for x in pats.arr], np.int64)
        self.n_pat = len(lens)
        self.pid = np.repeat(np.arange(self.n_pat, dtype=np.int64), lens)
        self.pos = np.arange(lens.sum(), dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
        self.start = self.pos == 0
        self.stops = np.concatenate([np.asarray(x, np.int64) for x in pats.stops])
        self.board = np.concatenate([np.asarray(x, bool) for x in pats.board])
        self.alight = np.concatenate([np.asarray(x, bool) for x in pats.alight])
        self.n_trips = trips[self.pid]  # per column
        # departures of column c (trips sorted) in band c: one searchsorted for every column
        self.band = np.int64(1 << 42)  # > INF + slack
        col = np.arange(len(self.stops), dtype=np.int64)
        self.dep_keys = np.concatenate([
            (col[self.pid == i][:, None] * self.band + np.asarray(pats.dep[i], np.int64)).ravel()
            for i in range(self.n_pat)])
        self.dep_start = np.r_[0, np.cumsum(self.n_trips)[:-1]]  # first key of each column
        # next[c, t - lo]: first trip at column c leaving at or after t, for every second of
        # [lo, hi] (a gather instead of a search per query); column hi - lo + 1 is "none"
        self.lo, self.hi = int(lo), int(hi)
        t = np.arange(self.lo, self.hi + 1, dtype=np.int64)
        nxt = np.searchsorted(self.dep_keys, (col[:, None] * self.band + t[None, :]).ravel()).reshape(len(col), -1)
        nxt = (nxt - self.dep_start[:, None]).astype(np.int32)
        self.next = np.hstack([nxt, self.n_trips[:, None].astype(np.int32)]).ravel()
        self.width = len(t) + 1
        # arrival of trip j at column c is arr[arr_base[c] + j * len(pattern) + pos]; last entry INF
        base = np.r_[0, np.cumsum(trips * lens)[:-1]]
        self.arr = np.r_[np.concatenate([np.asarray(x, np.int64).ravel() for x in pats.arr]), INF]
        self.arr_base, self.len = base[self.pid], lens[self.pid]
        # columns grouped by stop, for the per-stop minimum
        self.by_stop = np.argsort(self.stops, kind="stable")
        srt = self.stops[self.by_stop]
        self.stop_starts = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]])
        self.stop_ids = srt[self.stop_starts]


def vectorised_transit(p: transit._Problem, egress: np.ndarray, egress_svc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-departure RAPTOR with numpy over all origins at once, one search per departure minute.

    The same model and answers as :func:`gapmap.travel.transit.raptor.raptor_query` (the
    oracle): rounds of "ride one vehicle along every trip pattern, then one footpath". Each
    round is a few array operations on (origins x pattern positions): every pattern and
    position boards with one ``searchsorted``, the trip ridden is a running minimum along
    each pattern (segmented by offsetting each pattern's values), and arrivals are reduced
    per stop with ``minimum.reduceat``. Patterns are scanned whole in every round: RAPTOR's
    marking only skips work that cannot improve an arrival. Rounds stop when no stop improves.

    Returns
    -------
    transit, tsvc : ndarray (origins, departures)
        Earliest arrival (INF: none) and the index of the service reached (-1).
    """
    n_o, n_d, n_st = len(p.origin_ids), len(p.departures), p.n_stops
    INF = _csa.INF
    big = np.iinfo(np.int64).max
    transit_ = np.full((n_o, n_d), INF, np.int64)
    tsvc = np.full((n_o, n_d), -1, np.int64)
    served = np.unique(p.access_o)
    if not len(served) or not len(p.events.trip):
        return transit_, tsvc
    fl = _FLAT.get(id(p))
    if fl is None:  # shared by the categories of one problem (the profile scan shares its inputs too)
        fl = _FLAT[id(p)] = _FlatPatterns(
            _raptor.build_patterns(p.events.trip, p.events.stop, p.events.arr, p.events.dep,
                                   p.events.pickup, p.events.dropoff, n_st), int(p.departures[0]), p.t_hi)
    fp = p.footpaths
    fp_from = np.repeat(np.arange(n_st, dtype=np.int64), np.diff(fp.ptr))
    by_to = np.argsort(fp.to, kind="stable")
    fp_from, fp_to, fp_secs = fp_from[by_to], fp.to[by_to], fp.secs[by_to][:, None]
    to_starts = np.flatnonzero(np.r_[True, fp_to[1:] != fp_to[:-1]]) if len(fp_to) else np.zeros(0, np.int64)
    to_stops = fp_to[to_starts]
    n_svc = np.int64(max(len(p.service_ids), 1) + 1)
    eg_stops = np.flatnonzero(egress < INF)
    eg, eg_svc = egress[eg_stops][:, None], egress_svc[eg_stops][:, None]
    local = np.searchsorted(served, p.access_o)
    B = len(served)
    # Arrays are (stops or pattern columns) x origins, so gathers copy whole rows.
    row = (np.arange(len(fl.stops), dtype=np.int64) * fl.width)[:, None]
    seg = ((fl.n_pat - fl.pid) * np.int64(1 << 32))[:, None]  # later patterns get smaller offsets
    board, alight = fl.board[:, None], fl.alight[:, None]
    n_trips, start = fl.n_trips[:, None], fl.start
    arr_at = (fl.arr_base + fl.pos)[:, None]
    for d, t0 in enumerate(p.departures.tolist()):
        ready = np.full((n_st, B), INF, np.int64)
        np.minimum.at(ready, (p.access_s, local), t0 + p.access_w)
        best = np.full(B, big, np.int64)
        for _ in range(p.max_legs):
            r = ready[fl.stops]
            # boarding after hi would arrive after the window's last useful time: no trip
            t = np.where((r < INF) & board, np.minimum(r + p.slack - fl.lo, fl.width - 1), fl.width - 1)
            j = fl.next[row + t]
            run = np.minimum.accumulate(seg + j, axis=0) - seg  # running minimum within each pattern
            cur = np.empty_like(run)
            cur[1:] = run[:-1]
            cur[start] = n_trips[start]  # nothing boarded before a pattern's first stop
            idx = np.where((cur < n_trips) & alight, arr_at + cur * fl.len[:, None], len(fl.arr) - 1)
            a = fl.arr[idx]
            vehicle = np.full((n_st, B), INF, np.int64)
            vehicle[fl.stop_ids] = np.minimum.reduceat(a[fl.by_stop], fl.stop_starts, axis=0)
            if len(eg_stops):
                v = vehicle[eg_stops]
                best = np.minimum(best, np.where(v < INF, (v + eg) * n_svc + eg_svc, big).min(axis=0))
            if not len(fp_to):
                break
            walk = vehicle[fp_from]
            walk = np.where(walk < INF, walk + fp_secs, INF)
            old = ready[to_stops]
            new = np.minimum(old, np.minimum.reduceat(walk, to_starts, axis=0))
            if not (new < old).any():
                break
            ready[to_stops] = new
        found = best < big
        transit_[served, d] = np.where(found, best // n_svc, INF)
        tsvc[served, d] = np.where(found, best % n_svc, -1)
    return transit_, tsvc


_FLAT: dict[int, _FlatPatterns] = {}


def vectorised_departure_matrix(p: transit._Problem, category: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``schedule._departure_matrix`` with the vectorised per-departure search in place of RAPTOR."""
    n_o = len(p.origin_ids)
    ss = p.stop_service[p.categories.index(category)]
    egress = np.full(p.n_stops, _csa.INF, np.int64)
    egress_svc = np.full(p.n_stops, -1, np.int64)
    if len(ss[0]):
        order = np.lexsort((ss[1], ss[2], ss[0]))
        first = np.r_[True, ss[0][order][1:] != ss[0][order][:-1]]
        egress[ss[0][order][first]] = ss[2][order][first]
        egress_svc[ss[0][order][first]] = ss[1][order][first]
    transit_, tsvc = vectorised_transit(p, egress, egress_svc)
    travel = np.where(transit_ < _csa.INF, transit_ - p.departures[None, :], _csa.INF)
    return transit.with_walking(p, category, travel, tsvc)  # the same walking step as the code under test


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=32, help="grid side; origins = grid^2 (default 32 -> 1024)")
    ap.add_argument("--subset", type=int, default=40, help="served origins for the profile vs vectorised comparison")
    ap.add_argument("--oracle", type=int, default=12, help="origins also run through the pure-Python RAPTOR oracle")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the timed comparisons")
    ap.add_argument("--quick", action="store_true", help="--oracle 4 --repeat 1; skip the whole grid and the end-to-end run")
    ap.add_argument("--window", nargs=2, default=["17:00", "19:00"])
    args = ap.parse_args()
    if args.quick:
        args.oracle, args.repeat = 4, 1
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

    # 1. Same origins, same preprocessing: the profile scan against the vectorised
    # per-departure search (the strong baseline) at 40 served origins and the whole grid,
    # and the pure-Python RAPTOR (the oracle) on a few origins.
    opts = dict(date=date, window=window, max_walk_m=1000.0, max_transfers=3, walk_speed_kmh=4.8,
                percentiles=(50, 90), max_minutes=120, max_transfer_m=400.0, circuity=1.3, board_slack_s=60,
                walk_time_fn=None)
    probe = transit._prepare(feed, origins, services, cats, **opts)
    served = np.unique(probe.access_o)

    def pick(k: int) -> gpd.GeoDataFrame:
        return origins.iloc[served[np.linspace(0, len(served) - 1, min(k, len(served))).round().astype(int)]]

    def run(problem, algo):
        fn = (lambda c: vectorised_departure_matrix(problem, c)) if algo == "vectorised" else (
            lambda c: transit._departure_matrix(problem, c, algo))
        t = time.perf_counter()
        res = [fn(c) for c in cats]
        return time.perf_counter() - t, res

    def same(ra, rb) -> bool:
        return all(np.array_equal(a, b) for xa, xb in zip(ra, rb) for a, b in zip(xa, xb))

    n_or = min(args.oracle, args.subset)
    sub = pick(n_or)
    problem = transit._prepare(feed, sub, services, cats, **opts)
    n_dep = len(problem.departures)
    t_r, r_r = run(problem, "per_departure")
    t_v, r_v = run(problem, "vectorised")
    t_p, r_p = run(problem, "profile")
    print(f"\n[1] oracle check, {len(sub)} served origins x {n_dep} departure minutes x {len(cats)} categories")
    print(f"    per-departure RAPTOR, pure Python (oracle): {t_r:8.2f} s")
    print(f"    vectorised per-departure (numpy, baseline): {t_v:8.2f} s   ({t_r / t_v:.1f}x faster than RAPTOR)")
    print(f"    profile connection scan:                   {t_p:8.2f} s")
    print(f"    identical: vectorised == RAPTOR {same(r_v, r_r)}, profile == RAPTOR {same(r_p, r_r)}")
    cases = [(f"{args.subset} served origins", pick(args.subset), args.repeat)]
    if not args.quick:  # the baseline needs ~2 min here, so best of 1
        cases.append((f"all {len(origins)} grid origins ({len(served)} with a stop in reach)", origins, 1))
    for label, sub, repeat in cases:
        problem = transit._prepare(feed, sub, services, cats, **opts)
        times_v, times_p = [], []
        for _ in range(repeat):  # interleaved, best of N: the box is shared
            t_v, r_v = run(problem, "vectorised")
            t_p, r_p = run(problem, "profile")
            times_v.append(t_v)
            times_p.append(t_p)
        t_v, t_p = min(times_v), min(times_p)
        ratio = t_v / t_p
        print(f"\n[1] {label} x {n_dep} minutes x {len(cats)} categories, best of {repeat}")
        print(f"    vectorised per-departure search: {t_v:8.2f} s")
        print(f"    profile connection scan:         {t_p:8.2f} s")
        print(f"    profile speed-up {ratio:.1f}x (target >= 10x: {'met' if ratio >= 10 else 'MISSED'}); "
              f"identical results: {same(r_v, r_p)}")

    if args.quick:
        return
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
