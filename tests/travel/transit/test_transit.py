"""GTFS transit: feed reading, layers and door-to-door travel times (gapmap.travel.transit.schedule).

The tiny feed in fixtures/gtfs/tiny is hand-built (see its README.md); every expected number
below is worked out by hand from its timetable. Times are nearest-rank percentiles over the
departure minutes (R5's definition): for 5 minutes, p50 is the 3rd fastest, p90 the 5th.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gapmap.sources import catalog
from gapmap.travel.transit import schedule as transit
from gapmap.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "gtfs" / "tiny"
UTM17 = "EPSG:32617"
WED = dt.date(2025, 1, 15)


def _points(coords: dict[str, tuple[float, float]], crs: str = UTM17) -> gpd.GeoDataFrame:
    """GeoDataFrame indexed by id from {id: (lat, lon)}, projected to ``crs``."""
    lat = [c[0] for c in coords.values()]
    lon = [c[1] for c in coords.values()]
    return gpd.GeoDataFrame(index=list(coords), geometry=gpd.points_from_xy(lon, lat, crs="EPSG:4326")).to_crs(crs)


def _services(rows: list[tuple[str, str, float, float]], crs: str = UTM17) -> gpd.GeoDataFrame:
    """Services from (service_id, category, lat, lon)."""
    return gpd.GeoDataFrame(
        {"service_id": [r[0] for r in rows], "name": [f"{r[1]} {r[0]}" for r in rows], "category": [r[1] for r in rows]},
        geometry=gpd.points_from_xy([r[3] for r in rows], [r[2] for r in rows], crs="EPSG:4326"),
    ).to_crs(crs)


STOP = {"A": (44.0, -79.0), "X": (44.0, -78.995), "B1": (44.0, -78.99), "B2": (44.0005, -78.99),
        "C": (44.01, -78.99), "D": (44.005, -79.0)}


@pytest.fixture(scope="module")
def tiny():
    return transit.read_feed(TINY)


def _one(df: pd.DataFrame, origin: str, category: str = "hospital") -> pd.Series:
    row = df[(df["origin_id"] == origin) & (df["category"] == category)]
    assert len(row) == 1
    return row.iloc[0]


# ---------------------------------------------------------------------------------------------
# Tiny feed: hand-computed answers


def test_transfer_between_sibling_platforms(tiny):
    """A 17:05 -> B1 17:15 (R1), walk ~56 m to sibling B2 (~55 s) + 60 s slack misses T2 17:16:30,
    so T3 B2 17:25 -> C 17:40. Leaving A at 17:00..17:04: 40, 39, 38, 37, 36 min -> p50 38, p90 40."""
    origins = _points({"home": STOP["A"]})
    services = _services([("H1", "hospital", *STOP["C"])])
    out = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=WED, window=("17:00", "17:05"))
    row = _one(out, "home")
    assert row["minutes"] == 38.0 and row["minutes_p90"] == 40.0
    assert row["service_id"] == "H1" and row["service_name"] == "hospital H1"
    assert row["reachable"] and row["has_transit"] and row["walk_only"] == 0.0 and pd.isna(row["reason"])
    assert row["method"].startswith("transit schedule (GTFS Tiny Transit 2025-01-15 17:00-17:05; straight-line walk")
    assert list(out.columns) == ["origin_id", "category", "service_id", "service_name", "minutes", "minutes_p90",
                                 "walk_only", "reachable", "has_transit", "reason", "method"]

    # Siblings connect even when the transfer distance would not allow it.
    strict = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=WED, window=("17:00", "17:05"),
                                          max_transfer_m=10)
    assert _one(strict, "home")["minutes"] == 38.0
    # Without boarding slack, 17:15:00 + 55 s walk catches T2 at 17:16:30 -> C 17:30: 30..26 min.
    no_slack = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=WED,
                                            window=("17:00", "17:05"), board_slack_s=0)
    assert (_one(no_slack, "home")["minutes"], _one(no_slack, "home")["minutes_p90"]) == (28.0, 30.0)
    # No transfer allowed: there is transit at A, but no single vehicle reaches C in the window.
    direct = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=WED,
                                          window=("17:00", "17:05"), max_transfers=0)
    row = _one(direct, "home")
    assert not row["reachable"] and row["has_transit"] and math.isnan(row["minutes"])
    assert "no hospital reachable within 120 min" in row["reason"]
    # Configurable percentiles: p20 of 5 is the fastest, p100 the slowest.
    pct = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=WED,
                                       window=("17:00", "17:05"), percentiles=(20, 100))
    assert (_one(pct, "home")["minutes"], _one(pct, "home")["minutes_p100"]) == (36.0, 40.0)


def test_overnight_trip_past_midnight(tiny):
    """T4: A 23:50 -> D 24:40 -> C 25:10 on weekday service WK."""
    services = _services([("H1", "hospital", *STOP["C"])])
    # Wednesday evening at A: 23:45..23:49 -> arrive 01:10 Thursday: 85..81 min.
    wed = transit.transit_travel_times(tiny, _points({"a": STOP["A"]}), services, ["hospital"], date=WED,
                                       window=("23:45", "23:50"))
    assert (_one(wed, "a")["minutes"], _one(wed, "a")["minutes_p90"]) == (83.0, 85.0)
    # Thursday 00:30..00:34 at D: Wednesday's T4 passes D at 00:40 -> C 01:10: 40..36 min.
    d = _points({"d": STOP["D"]})
    thu = transit.transit_travel_times(tiny, d, services, ["hospital"], date=dt.date(2025, 1, 16), window=("00:30", "00:35"))
    assert _one(thu, "d")["minutes"] == 38.0
    # Saturday 00:30 still has Friday's night trip; Monday 00:30 has none (Sunday has no service).
    sat = transit.transit_travel_times(tiny, d, services, ["hospital"], date=dt.date(2025, 1, 18), window=("00:30", "00:35"))
    assert _one(sat, "d")["minutes"] == 38.0
    mon = transit.transit_travel_times(tiny, d, services, ["hospital"], date=dt.date(2025, 1, 20), window=("00:30", "00:35"))
    row = _one(mon, "d")
    assert not row["reachable"] and not row["has_transit"] and "no transit stop within 1000 m" in row["reason"]


def test_calendar_exception_removes_and_adds_service(tiny):
    """Wed 2025-01-22: WK removed, HOL added (calendar_dates only): T5 A 17:10 -> C 17:30, 30..26 min."""
    assert tiny.active_services(WED) == ["WK"]
    assert tiny.active_services(dt.date(2025, 1, 22)) == ["HOL"]
    assert tiny.active_services(dt.date(2025, 1, 18)) == []
    origins = _points({"home": STOP["A"]})
    services = _services([("H1", "hospital", *STOP["C"])])
    out = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=dt.date(2025, 1, 22),
                                       window=("17:00", "17:05"))
    assert (_one(out, "home")["minutes"], _one(out, "home")["minutes_p90"]) == (28.0, 30.0)
    dates = tiny.service_dates()
    assert dates[0] == dt.date(2025, 1, 1) and dates[-1] == dt.date(2025, 1, 31)
    assert dt.date(2025, 1, 22) in dates and dt.date(2025, 1, 19) not in dates
    assert tiny.default_date() == dt.date(2025, 1, 1)  # first Wednesday with service


def test_no_service_day_is_unreachable_not_walking(tiny):
    origins = _points({"home": STOP["A"]})
    services = _services([("H1", "hospital", *STOP["C"]), ("K1", "clinic", 44.0, -78.9975)])
    sunday = transit.transit_travel_times(tiny, origins, services, ["hospital", "clinic"], date=dt.date(2025, 1, 19))
    assert not sunday["reachable"].any() and sunday["minutes"].isna().all() and not sunday["has_transit"].any()
    assert sunday["reason"].str.contains("no transit service on 2025-01-19").all()
    # A date outside the feed says so.
    later = transit.transit_travel_times(tiny, origins, services, ["hospital"], date=dt.date(2025, 6, 4))
    assert "the feed covers 2025-01-01 to 2025-01-31" in later["reason"].iloc[0]


def test_walk_only_trips_are_labelled_and_never_replace_missing_transit(tiny):
    """Clinic ~200 m east of A: walking (~3.3 min) beats any bus, so every departure is walk-only.
    An origin 5 km from any stop with a clinic next door is unreachable by transit (NaN), not 'walkable'."""
    origins = _points({"near": STOP["A"], "far": (44.05, -79.05)})
    services = _services([("K1", "clinic", 44.0, -78.9975), ("K2", "clinic", 44.0502, -79.05)])
    out = transit.transit_travel_times(tiny, origins, services, ["clinic"], date=WED, window=("17:00", "17:05"))
    near, far = _one(out, "near", "clinic"), _one(out, "far", "clinic")
    metres = origins.distance(services.set_index("service_id").geometry["K1"])["near"]
    expected_s = math.ceil(metres * 1.3 / (4.8 / 3.6))
    assert near["walk_only"] == 1.0 and near["service_id"] == "K1"
    assert near["minutes"] == pytest.approx(expected_s / 60) and near["minutes"] == pytest.approx(3.25, abs=0.05)
    assert not far["reachable"] and not far["has_transit"] and math.isnan(far["minutes"]) and far["walk_only"] == 0.0


def test_walk_time_function_replaces_straight_line(tiny):
    """A network-walk stand-in twice as slow as the straight-line model doubles the walk-only time."""
    origins = _points({"near": STOP["A"]})
    services = _services([("K1", "clinic", 44.0, -78.9975)])

    def slow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.hypot(*(a - b).T) * 2.6 / (4.8 / 3.6)

    base = transit.transit_travel_times(tiny, origins, services, ["clinic"], date=WED, window=("17:00", "17:05"))
    net = transit.transit_travel_times(tiny, origins, services, ["clinic"], date=WED, window=("17:00", "17:05"),
                                       walk_time_fn=slow)
    assert _one(net, "near", "clinic")["minutes"] == pytest.approx(2 * _one(base, "near", "clinic")["minutes"], abs=1 / 60)
    assert "network walk" in net["method"].iloc[0] and "straight-line walk" in base["method"].iloc[0]


def test_untimed_stop_is_interpolated(tiny):
    """T6 has no time at X, halfway between A 17:20 and B1 17:30 -> 17:25; leaving X at 17:23 -> B1 17:30 = 7 min."""
    out = transit.transit_travel_times(tiny, _points({"x": STOP["X"]}), _services([("P", "pharmacy", *STOP["B1"])]),
                                       ["pharmacy"], date=WED, window=("17:23", "17:24"), max_walk_m=100)
    assert _one(out, "x", "pharmacy")["minutes"] == 7.0


def test_tiny_layers(tiny):
    routes = tiny.routes_layer()
    assert routes.crs == "EPSG:4326" and list(routes["route_id"]) == ["R1", "R2", "R3", "R4"]
    assert set(routes["geometry_source"]) == {"stop sequence"}
    r = routes.set_index("route_id")
    assert r.loc["R1", "color"] == "#AA0000" and r.loc["R1", "text_color"] == "#FFFFFF"
    assert r.loc["R2", "color"] == transit.DEFAULT_ROUTE_COLOR and r.loc["R3", "text_color"] == "#000000"
    assert r.loc["R1", "agency"] == "Tiny Transit" and r.loc["R3", "route_type"] == 3
    assert r.loc["R1"].geometry.geom_type == "MultiLineString"  # A-B1 and A-X-B1
    stops = tiny.stops_layer(WED, ("17:00", "19:00")).set_index("stop_id")
    assert "BS" in stops.index and stops.loc["BS", "location_type"] == 1
    # Boardable departures 17:00-19:00: A has T1 17:05, T6 17:20; B2 has T2, T3; B1 only terminates trips.
    assert stops.loc["A", "trips_per_hour"] == 1.0 and stops.loc["B2", "trips_per_hour"] == 1.0
    assert stops.loc["B1", "trips_per_hour"] == 0.0 and stops.loc["BS", "trips_per_hour"] == 1.0
    assert stops.loc["A", "routes"] == "R1, R3" and stops.loc["BS", "routes"] == "R1, R2"
    assert stops.loc["B2", "parent_station"] == "BS"


def test_profile_equals_per_departure_on_tiny(tiny):
    origins = _points({k: v for k, v in STOP.items()})
    services = _services([("H1", "hospital", *STOP["C"]), ("K1", "clinic", 44.0, -78.9975), ("P", "pharmacy", *STOP["B1"])])
    for date, window in [(WED, ("17:00", "17:30")), (dt.date(2025, 1, 16), ("00:20", "00:45")), (WED, ("23:40", "23:55"))]:
        kw = dict(date=date, window=window)
        fast = transit.transit_travel_times(tiny, origins, services, ["hospital", "clinic", "pharmacy"], **kw)
        slow = transit.transit_travel_times(tiny, origins, services, ["hospital", "clinic", "pharmacy"],
                                            algorithm="per_departure", **kw)
        pd.testing.assert_frame_equal(fast, slow)


# ---------------------------------------------------------------------------------------------
# Validation


def test_missing_file_and_column_errors(tmp_path):
    feed = tmp_path / "feed"
    shutil.copytree(TINY, feed)
    (feed / "stops.txt").unlink()
    with pytest.raises(InputError, match=r"has no stops\.txt .*complete feed"):
        transit.read_feed(feed)
    shutil.copy(TINY / "stops.txt", feed / "stops.txt")
    routes = pd.read_csv(TINY / "routes.txt", dtype=str).drop(columns="route_type")
    routes.to_csv(feed / "routes.txt", index=False)
    with pytest.raises(InputError, match=r"routes\.txt has no column 'route_type'"):
        transit.read_feed(feed)
    shutil.copy(TINY / "routes.txt", feed / "routes.txt")
    text = (TINY / "stop_times.txt").read_text().replace("T3,17:25:00", "T3,17:5:00")
    (feed / "stop_times.txt").write_text(text)
    with pytest.raises(InputError, match=r"stop_times\.txt line 6 has time '17:5:00'"):
        transit.read_feed(feed)._stop_times
    with pytest.raises(InputError, match="does not exist"):
        transit.read_feed(tmp_path / "nope.zip")
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        transit.read_feed(tmp_path / "bad.zip")


def test_zip_with_nested_folder_and_bom(tmp_path):
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in TINY.glob("*.txt"):
            zf.writestr(f"gtfs/{f.name}", "\ufeff" + f.read_text())
    feed = transit.read_feed(path)
    assert feed.warnings == [] and feed.agency == "Tiny Transit"
    assert feed.active_services(WED) == ["WK"]


def test_calendar_dates_only_and_no_stop_times(tmp_path):
    feed = tmp_path / "feed"
    shutil.copytree(TINY, feed)
    (feed / "stop_times.txt").unlink()
    partial = transit.read_feed(feed)
    assert len(partial.warnings) == 1 and "stop_times.txt" in partial.warnings[0]
    assert len(partial.routes_layer()) == 4 and partial.routes_layer()["geometry_source"].eq("none").all()
    assert partial.stops_layer()["trips_per_hour"].isna().all()
    with pytest.raises(InputError, match="no stop_times.txt, so transit schedule analysis is unavailable"):
        transit.transit_travel_times(partial, _points({"a": STOP["A"]}), _services([("H", "hospital", *STOP["C"])]), ["hospital"])


def test_bad_inputs(tiny):
    services = _services([("H1", "hospital", *STOP["C"])])
    with pytest.raises(InputError, match="projected CRS in metres"):
        transit.transit_travel_times(tiny, _points({"a": STOP["A"]}, crs="EPSG:4326"), services, ["hospital"])
    with pytest.raises(InputError, match="different CRSs"):
        transit.transit_travel_times(tiny, _points({"a": STOP["A"]}), services.to_crs("EPSG:3347"), ["hospital"])
    with pytest.raises(InputError, match="window end"):
        transit.transit_travel_times(tiny, _points({"a": STOP["A"]}), services, ["hospital"], window=("19:00", "17:00"))
    with pytest.raises(InputError, match="no column category"):
        transit.transit_travel_times(tiny, _points({"a": STOP["A"]}), services.drop(columns="category"), ["hospital"])


# ---------------------------------------------------------------------------------------------
# Real feeds (skipped without the data mirror)


def _real(dataset_id: str) -> Path:
    if not catalog.available(dataset_id):
        pytest.skip(f"{dataset_id} is not in the data mirror")
    return catalog.resolve(dataset_id)


@pytest.fixture(scope="module")
def barrie():
    return transit.read_feed(_real("gtfs_barrie"))


def _barrie_table(path: Path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        return pd.read_csv(io.BytesIO(zf.read(name)), dtype=str)


def test_barrie_trip_matches_timetable(barrie):
    """Read stop_times with plain pandas, pick the first weekday trip leaving its first stop after
    17:30, and check the one-vehicle travel time between its 1st and 11th stops."""
    path = barrie.path
    cal = _barrie_table(path, "calendar.txt")
    weekday = set(cal.loc[cal["wednesday"] == "1", "service_id"])
    trips = _barrie_table(path, "trips.txt")
    trips = trips[trips["service_id"].isin(weekday)]
    st = _barrie_table(path, "stop_times.txt")
    st = st[st["trip_id"].isin(trips["trip_id"])].copy()
    st["seq"] = st["stop_sequence"].astype(int)
    st["dep_s"] = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in st["departure_time"].str.split(":")]
    st["arr_s"] = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in st["arrival_time"].str.split(":")]
    st = st.sort_values(["trip_id", "seq"])
    firsts = st.groupby("trip_id").head(1)
    trip = firsts[firsts["dep_s"] >= 17 * 3600 + 30 * 60].sort_values(["dep_s", "trip_id"]).iloc[0]["trip_id"]
    legs = st[st["trip_id"] == trip].reset_index(drop=True)
    u, v = legs.loc[0], legs.loc[10]
    t0 = (u["dep_s"] - 60) // 60 * 60  # the last whole minute that still makes the 60 s boarding slack
    # Independent answer: earliest arrival at v over all weekday trips boarding at u at or after t0 + 60 s.
    at_u = st[(st["stop_id"] == u["stop_id"]) & (st["pickup_type"] != "1") & (st["dep_s"] >= t0 + 60)]
    at_v = st[(st["stop_id"] == v["stop_id"]) & (st["drop_off_type"] != "1")]
    both = at_u.merge(at_v, on="trip_id", suffixes=("_u", "_v"))
    expected = (both.loc[both["seq_v"] > both["seq_u"], "arr_s_v"].min() - t0) / 60
    assert expected == (v["arr_s"] - t0) / 60  # no other trip does better: the answer is the sampled trip

    stops = barrie.stops.set_index("stop_id")
    origins = _points({"u": (stops.loc[u["stop_id"], "lat"], stops.loc[u["stop_id"], "lon"])})
    services = _services([("V", "hospital", stops.loc[v["stop_id"], "lat"], stops.loc[v["stop_id"], "lon"])])
    clock = f"{t0 // 3600:02d}:{t0 % 3600 // 60:02d}"
    end = f"{(t0 + 60) // 3600:02d}:{(t0 + 60) % 3600 // 60:02d}"
    date = barrie.default_date()
    assert date == dt.date(2025, 12, 3)
    out = transit.transit_travel_times(barrie, origins, services, ["hospital"], date=date, window=(clock, end),
                                       max_walk_m=1, max_transfers=0)
    assert _one(out, "u")["minutes"] == pytest.approx(expected)


def test_barrie_profile_agrees_with_per_departure_search(barrie):
    """Every (origin, minute) of a 30-minute window, for 8 origins near random stops, both algorithms."""
    rng = np.random.default_rng(7)
    stops = barrie.stops[barrie.stops["location_type"] == 0]
    picks = stops.sample(8, random_state=11)
    origins = _points({f"o{i}": (la + rng.normal(0, 0.003), lo + rng.normal(0, 0.003))
                       for i, (la, lo) in enumerate(zip(picks["lat"], picks["lon"]))})
    targets = stops.sample(6, random_state=5)
    services = _services([(f"s{i}", ["hospital", "clinic"][i % 2], la, lo + 0.001)
                          for i, (la, lo) in enumerate(zip(targets["lat"], targets["lon"]))])
    kw = dict(date=dt.date(2025, 12, 3), window=("17:00", "17:30"), max_walk_m=1000.0, max_transfers=3,
              walk_speed_kmh=4.8, percentiles=(50, 90), max_minutes=120, max_transfer_m=400.0, circuity=1.3,
              board_slack_s=60, walk_time_fn=None)
    problem = transit._prepare(barrie, origins, services, ["hospital", "clinic"], **kw)
    for cat in ("hospital", "clinic"):
        fast = transit._departure_matrix(problem, cat, "profile")
        slow = transit._departure_matrix(problem, cat, "per_departure")
        for a, b in zip(fast, slow):
            np.testing.assert_array_equal(a, b)
        assert (fast[0] < 1 << 40).mean() > 0.5  # most departures do reach a service


def test_barrie_layers(barrie):
    routes = barrie.routes_layer()
    assert len(routes) == 13 and (routes["geometry_source"] == "shapes.txt").all() and routes.geometry.notna().all()
    assert routes["color"].str.fullmatch(r"#[0-9A-F]{6}").all()
    stops = barrie.stops_layer()
    assert len(stops) == 560 and stops["trips_per_hour"].max() > 5
    assert stops.sort_values("trips_per_hour").iloc[-1]["stop_name"] == "Park Place"


def test_kingston_calendar_dates_only():
    feed = transit.read_feed(_real("gtfs_kingston"))
    assert "calendar.txt" not in feed.tables and feed.warnings == []
    assert len(feed.active_services(dt.date(2017, 10, 18))) > 0
    assert feed.active_services(dt.date(2019, 1, 2)) == []
    date = feed.default_date()
    assert date.weekday() == 2 and dt.date(2017, 10, 9) <= date <= dt.date(2018, 1, 7)
    stops = feed.stops_layer(date)
    assert stops["stop_id"].str.startswith("0").any()  # ids such as 00799 keep their zeros
    assert stops["trips_per_hour"].max() > 5


def test_windsor_partial_feed_layers_and_one_message():
    feed = transit.read_feed(_real("gtfs_windsor_partial"))
    assert len(feed.warnings) == 1 and "no stop_times.txt" in feed.warnings[0]
    routes = feed.routes_layer()
    assert len(routes) == 18 and routes.geometry.notna().all() and (routes["geometry_source"] == "shapes.txt").all()
    stops = feed.stops_layer()
    assert len(stops) == 1351 and stops["trips_per_hour"].isna().all()
    assert len(feed.warnings) == 1
    with pytest.raises(InputError, match="stop_times.txt"):
        transit.transit_travel_times(feed, _points({"a": (42.3, -83.0)}), _services([("H", "hospital", 42.31, -83.0)]), ["hospital"])
