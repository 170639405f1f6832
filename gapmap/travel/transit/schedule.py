"""Public transit from GTFS: route and stop layers, and door-to-door transit travel times.

Reading
    :func:`read_feed` opens a GTFS zip or folder and checks the files gapmap needs; a missing
    core file or column raises :class:`~gapmap.errors.InputError` naming the feed, the file and
    the fix. A feed without ``stop_times.txt`` (or without any calendar) still gives route and
    stop layers, with one message in ``Feed.warnings``; schedule analysis on it raises.

Layers (EPSG:4326; the caller reprojects)
    ``Feed.routes_layer()``: one (Multi)LineString per route, from ``shapes.txt`` or, where a
    route's trips have no shape, from its stop sequences. ``Feed.stops_layer(date, window)``:
    boarding points and stations with trips per hour in the window and the routes serving them.

Travel times (:func:`transit_travel_times`)
    Door to door for every minute of a departure window on one service day: walk to a stop,
    wait, ride, transfer on foot, ride ..., walk to the nearest service of each category. The
    median (and a high percentile) over the departure minutes is reported, as R5/r5py do.

Model and defaults

- Walking is "straight-line walk": straight-line distance x circuity 1.3 (``config.Settings``)
  at 4.8 km/h, rounded up to whole seconds. ``max_walk_m`` (access and egress, default
  1000 m) and ``max_transfer_m`` (default 400 m) limit that *walked* distance, i.e.
  straight-line distance x circuity. A ``walk_time_fn`` (e.g. a street-network lookup) can
  replace the straight-line model; a precomputed matrix can be wrapped in such a function.
- Stops with the same ``parent_station`` are always linked by a transfer walk, whatever the
  distance; routing uses the child stops that trips serve (``location_type`` 0).
- Boarding needs 60 s at the stop before departure (R5's minimum board wait), also for the
  first vehicle. After each vehicle, one transfer walk; walks are never chained.
- Times past 24:00 belong to the service day they are listed under: a 25:10:00 arrival on
  Wednesday's service is Thursday 01:10, and Tuesday's after-midnight trips count on Wednesday.
- Percentiles are the non-interpolated nearest rank R5 uses: the value at sorted index
  ``ceil(p/100 * n) - 1`` of the ``n`` departure minutes; departures with no trip within
  ``max_minutes`` count as infinitely long, so a percentile above the reachable share is NaN.
- A walk-only trip (origin straight to the service, within ``max_walk_m``) is taken whenever it
  is not longer than the best transit trip, and ``walk_only`` reports the share of departure
  minutes where that happened. An origin with no stop within ``max_walk_m`` that it can board
  a vehicle at during the window is *unreachable by transit*: NaN minutes,
  ``has_transit=False``, ``reachable=False`` - never a walking time in disguise.
- The window is departures every minute in ``[start, end)``, e.g. 17:00, 17:01, ... 18:59.

Algorithms
    ``algorithm="profile"`` (default) runs one backward profile Connection Scan per category
    (:mod:`gapmap.travel.transit.csa`): every stop gets its whole "departure time -> arrival at nearest
    service" function, then all origins x minutes are looked up with numpy. ``"per_departure"``
    runs a plain forward RAPTOR for every origin and minute (:mod:`gapmap.travel.transit.raptor`); it is the
    test oracle and benchmark baseline, and gives identical results.

frequencies.txt trips are expanded into one trip per headway at exact times; transfers.txt is
not used (transfers are the straight-line walks above).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from pathlib import Path
from typing import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gapmap import geo
from gapmap.travel import straight
from gapmap.travel.transit import csa as _csa
from gapmap.travel.transit import gtfs as _gtfs
from gapmap.travel.transit import raptor as _raptor
from gapmap.errors import InputError

__all__ = ["Feed", "read_feed", "transit_travel_times", "DEFAULT_ROUTE_COLOR", "DEFAULT_TEXT_COLOR"]

#: Colour for routes without ``route_color``. GTFS's own default (white) vanishes on light
#: basemaps, so gapmap uses a mid blue (matplotlib "tab:blue") with white text instead.
DEFAULT_ROUTE_COLOR = "#1F77B4"
#: Text colour for routes without ``route_text_color`` but with a ``route_color`` (GTFS default).
DEFAULT_TEXT_COLOR = "#000000"

WalkTimeFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``fn(from_xy, to_xy) -> seconds``: (n, 2) arrays of coordinates in the origins' CRS; inf/NaN = no path."""

_WGS84 = "EPSG:4326"


# ----------------------------------------------------------------------------------------------
# Feed


@dataclasses.dataclass(eq=False)
class Feed:
    """A GTFS feed read by :func:`read_feed`.

    Attributes
    ----------
    path : Path
        The zip or folder read.
    tables : dict of str -> DataFrame
        The GTFS files gapmap uses, as strings (``stops.txt`` -> DataFrame ...).
    warnings : list of str
        Problems that limit the analysis, one sentence each (e.g. no ``stop_times.txt``).
    """

    path: Path
    tables: dict[str, pd.DataFrame]
    warnings: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.stops = self._clean_stops()
        self.stop_index = pd.Index(self.stops["stop_id"])

    # -- basics ---------------------------------------------------------------------------

    @property
    def agency(self) -> str:
        """Agency name(s) for labels, e.g. ``"Barrie Transit"``."""
        ag = self.tables.get("agency.txt")
        if ag is not None and ag["agency_name"].notna().any():
            return " / ".join(dict.fromkeys(ag["agency_name"].dropna()))
        info = self.tables.get("feed_info.txt")
        if info is not None and "feed_publisher_name" in info and info["feed_publisher_name"].notna().any():
            return str(info["feed_publisher_name"].dropna().iloc[0])
        return self.path.stem

    @property
    def schedule_problem(self) -> str | None:
        """Why travel times cannot be computed from this feed (one sentence), or None."""
        return _gtfs.schedule_problem(self.tables, self.path)

    @property
    def has_schedule(self) -> bool:
        """True when the feed has a timetable and service calendar."""
        return self.schedule_problem is None

    def _require_schedule(self) -> None:
        problem = self.schedule_problem
        if problem:
            raise InputError(problem)

    @functools.cached_property
    def _calendar(self) -> _gtfs.Calendar:
        return _gtfs.parse_calendar(self.tables, self.path)

    @functools.cached_property
    def _stop_times(self) -> _gtfs.StopTimes:
        self._require_schedule()
        st = _gtfs.parse_stop_times(self.tables, self.stop_index, self.path, self.warnings)
        used = np.unique(st.stop)
        lacking = used[~np.isfinite(self.stops["lat"].to_numpy()[used])]
        if len(lacking):
            sid = self.stops["stop_id"].iloc[lacking[0]]
            raise InputError(
                f"GTFS feed {self.path}: stops.txt has no stop_lat/stop_lon for stop {sid!r}, which trips serve; "
                f"add its coordinates."
            )
        return st

    @functools.cached_property
    def _trip_service(self) -> np.ndarray:
        return self.tables["trips.txt"]["service_id"].to_numpy(dtype=object)[self._stop_times.trip_row]

    def service_dates(self) -> list[dt.date]:
        """Dates on which at least one service with trips runs (calendar and calendar_dates), ascending."""
        services = self.tables["trips.txt"]["service_id"].dropna().unique()
        return _gtfs.service_dates(self._calendar, services)

    def active_services(self, date: dt.date) -> list[str]:
        """Sorted service_ids running on ``date`` (calendar.txt pattern plus calendar_dates.txt exceptions)."""
        return sorted(self._calendar.active(_as_date(date)))

    def default_date(self) -> dt.date:
        """First Wednesday with service in the feed (a typical weekday), else the first service date."""
        dates = self.service_dates()
        if not dates:
            raise InputError(
                f"GTFS feed {self.path} has no date on which any trip runs (check calendar.txt/calendar_dates.txt "
                f"against trips.txt service_id); use a feed with current service."
            )
        wednesdays = [d for d in dates if d.weekday() == 2]
        return (wednesdays or dates)[0]

    # -- stops ----------------------------------------------------------------------------

    def _clean_stops(self) -> pd.DataFrame:
        raw = self.tables["stops.txt"]
        name = "stops.txt"
        out = pd.DataFrame({"stop_id": raw["stop_id"].astype(object)})
        if raw["stop_id"].isna().any():
            i = int(np.flatnonzero(raw["stop_id"].isna().to_numpy())[0])
            raise InputError(f"GTFS feed {self.path}: {name} line {i + 2} has no stop_id; fix that row.")
        dup = raw["stop_id"].duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"GTFS feed {self.path}: {name} line {i + 2} repeats stop_id {raw['stop_id'].iloc[i]!r}; stop ids must be unique."
            )
        out["stop_name"] = raw["stop_name"] if "stop_name" in raw else pd.Series(pd.NA, index=raw.index, dtype="str")
        lt = raw["location_type"] if "location_type" in raw else pd.Series(np.nan, index=raw.index)
        out["location_type"] = pd.to_numeric(lt, errors="coerce").fillna(0).astype(int).to_numpy()
        parent = raw["parent_station"] if "parent_station" in raw else pd.Series(pd.NA, index=raw.index, dtype="str")
        out["parent_station"] = parent
        lat = _gtfs.to_float(raw, "stop_lat", name, self.path, required=False)
        lon = _gtfs.to_float(raw, "stop_lon", name, self.path, required=False)
        # Boarding areas and generic nodes may omit coordinates: use their parent's.
        missing = np.isnan(lat) | np.isnan(lon)
        if missing.any():
            pidx = pd.Index(out["stop_id"]).get_indexer(parent)
            for _ in range(3):  # boarding area -> platform -> station
                fill = missing & (pidx >= 0)
                lat[fill], lon[fill] = lat[pidx[fill]], lon[pidx[fill]]
                missing = np.isnan(lat) | np.isnan(lon)
        out["lat"], out["lon"] = lat, lon
        return out

    # -- layers ---------------------------------------------------------------------------

    def routes_layer(self) -> gpd.GeoDataFrame:
        """One row per route with its drawn geometry.

        Returns
        -------
        GeoDataFrame (EPSG:4326)
            ``route_id, route_short_name, route_long_name, route_type, color, text_color, agency,
            geometry_source`` ("shapes.txt", "stop sequence" or "none") and a LineString or
            MultiLineString ``geometry`` (None for routes with neither shapes nor timetable).
        """
        routes = self.tables["routes.txt"]
        n = len(routes)
        col = lambda c: routes[c].astype(object).where(routes[c].notna(), "") if c in routes else pd.Series([""] * n)  # noqa: E731
        color_raw = col("route_color")
        text_raw = col("route_text_color")
        color = [_hex(c) or DEFAULT_ROUTE_COLOR for c in color_raw]
        text = [_hex(t) or (DEFAULT_TEXT_COLOR if _hex(c) else "#FFFFFF") for c, t in zip(color_raw, text_raw)]
        route_type = _gtfs.to_float(routes, "route_type", "routes.txt", self.path).astype(int)
        geoms, sources = self._route_geometries(routes["route_id"])
        return gpd.GeoDataFrame(
            {
                "route_id": routes["route_id"].to_numpy(dtype=object),
                "route_short_name": col("route_short_name").to_numpy(),
                "route_long_name": col("route_long_name").to_numpy(),
                "route_type": route_type,
                "color": color,
                "text_color": text,
                "agency": self._route_agencies(routes),
                "geometry_source": sources,
            },
            geometry=gpd.GeoSeries(geoms, crs=_WGS84),
        ).astype({c: "str" for c in ("route_id", "route_short_name", "route_long_name", "color", "text_color", "agency", "geometry_source")})

    def _route_agencies(self, routes: pd.DataFrame) -> list[str]:
        ag = self.tables.get("agency.txt")
        if ag is None:
            return [self.agency] * len(routes)
        names = ag["agency_name"].fillna("").tolist()
        if "agency_id" in ag and "agency_id" in routes:
            lookup = dict(zip(ag["agency_id"].fillna(""), names))
            return [lookup.get(a if isinstance(a, str) else "", names[0] if len(names) == 1 else "") for a in routes["agency_id"]]
        return [names[0] if len(names) == 1 else self.agency] * len(routes)

    def _route_geometries(self, route_ids: pd.Series) -> tuple[list, list[str]]:
        trips = self.tables["trips.txt"]
        lines_by_route: dict[str, list] = {r: [] for r in route_ids}
        source = {r: "none" for r in route_ids}
        shapes = self.tables.get("shapes.txt")
        shaped_routes: set[str] = set()
        if shapes is not None and len(shapes) and "shape_id" in trips:
            shape_lines = self._shape_lines(shapes)
            pairs = trips[["route_id", "shape_id"]].dropna().drop_duplicates().sort_values(["route_id", "shape_id"])
            for r, sh in zip(pairs["route_id"], pairs["shape_id"]):
                if sh in shape_lines and r in lines_by_route:
                    lines_by_route[r].append(shape_lines[sh])
                    source[r] = "shapes.txt"
                    shaped_routes.add(r)
        if self.has_schedule:
            # Routes (or trips) without shapes are drawn through their stops in order.
            st = self._stop_times
            trip_route = trips["route_id"].to_numpy(dtype=object)[st.trip_row]
            has_shape = (
                trips["shape_id"].notna().to_numpy()[st.trip_row] if "shape_id" in trips else np.zeros(len(st.trip_row), bool)
            )
            if shapes is None:
                has_shape[:] = False
            lat, lon = self.stops["lat"].to_numpy(), self.stops["lon"].to_numpy()
            seen: dict[str, set] = {}
            for t in np.flatnonzero(~has_shape | ~np.isin(trip_route, list(shaped_routes))):
                r = trip_route[t]
                if r in shaped_routes or r not in lines_by_route:
                    continue
                seq = tuple(st.stop[st.trip_first[t]:st.trip_end[t]].tolist())
                if len(seq) < 2 or seq in seen.setdefault(r, set()):
                    continue
                seen[r].add(seq)
                idx = np.array(seq)
                lines_by_route[r].append(shapely.linestrings(np.c_[lon[idx], lat[idx]]))
                source[r] = "stop sequence"
        geoms = []
        for r in route_ids:
            lines = lines_by_route.get(r, [])
            geoms.append(None if not lines else lines[0] if len(lines) == 1 else shapely.multilinestrings(lines))
        return geoms, [source.get(r, "none") for r in route_ids]

    def _shape_lines(self, shapes: pd.DataFrame) -> dict[str, shapely.LineString]:
        name = "shapes.txt"
        df = pd.DataFrame(
            {
                "shape_id": shapes["shape_id"].to_numpy(dtype=object),
                "seq": _gtfs.to_float(shapes, "shape_pt_sequence", name, self.path),
                "lat": _gtfs.to_float(shapes, "shape_pt_lat", name, self.path),
                "lon": _gtfs.to_float(shapes, "shape_pt_lon", name, self.path),
            }
        ).sort_values(["shape_id", "seq"], kind="stable")
        counts = df.groupby("shape_id", sort=True).size()
        df = df[df["shape_id"].isin(counts.index[counts >= 2])]
        codes, ids = pd.factorize(df["shape_id"], sort=True)
        lines = shapely.linestrings(df[["lon", "lat"]].to_numpy(), indices=codes)
        return dict(zip(ids, lines))

    def stops_layer(self, date: dt.date | None = None, window: tuple[str, str] = ("17:00", "19:00")) -> gpd.GeoDataFrame:
        """Boarding points (``location_type`` 0) and stations (1) with their service level.

        Parameters
        ----------
        date : date, optional
            Service day; default :meth:`default_date`.
        window : (str, str)
            Start (inclusive) and end (exclusive) clock times, ``"HH:MM"``.

        Returns
        -------
        GeoDataFrame (EPSG:4326)
            ``stop_id, stop_name, location_type, parent_station, trips_per_hour`` (boardable vehicle
            departures per hour in the window on ``date``; a station sums its child stops),
            ``routes`` (route short names serving the stop that day, comma-separated) and Point
            ``geometry``. Without a timetable, ``trips_per_hour`` is NaN and ``routes`` is missing.
        """
        stops = self.stops
        keep = stops["location_type"].isin([0, 1]).to_numpy() & np.isfinite(stops["lat"].to_numpy())
        tph = np.full(len(stops), np.nan)
        served: list = [pd.NA] * len(stops)
        if self.has_schedule:
            day = _as_date(date) if date is not None else self.default_date()
            ws, we = _parse_window(window)
            st = self._stop_times
            ev = _gtfs.day_events(st, self._trip_service, self._calendar, day, ws, we - 1)
            last = np.r_[ev.trip[1:] != ev.trip[:-1], True] if len(ev) else np.zeros(0, bool)
            boardable = ev.pickup & ~last & (ev.dep >= ws) & (ev.dep < we)
            counts = np.bincount(ev.stop[boardable], minlength=len(stops)).astype(float)
            hours = (we - ws) / 3600
            # Routes serving each stop over the whole service day.
            whole = _gtfs.day_events(st, self._trip_service, self._calendar, day, 0, 2 * _gtfs.DAY_S)
            whole_day = np.repeat(whole.trip_day, np.bincount(whole.trip, minlength=len(whole.trip_day)))
            routes = self.tables["routes.txt"]
            short = routes["route_short_name"] if "route_short_name" in routes else routes["route_id"]
            label = dict(zip(routes["route_id"], short.fillna(routes["route_id"])))
            trip_route = self.tables["trips.txt"]["route_id"].to_numpy(dtype=object)[st.trip_row]
            ev_route = trip_route[whole.trip_index[whole.trip]]
            by_stop: dict[int, set] = {}
            for s, r in set(zip(whole.stop[whole_day == 0].tolist(), ev_route[whole_day == 0].tolist())):
                by_stop.setdefault(s, set()).add(label.get(r, r))
            # Stations aggregate their children.
            pidx = self.stop_index.get_indexer(stops["parent_station"])
            child = np.flatnonzero(pidx >= 0)
            station_counts = np.bincount(pidx[child], weights=counts[child], minlength=len(stops))
            is_station = stops["location_type"].to_numpy() == 1
            counts = np.where(is_station, station_counts, counts)
            for c in child.tolist():
                if c in by_stop and is_station[pidx[c]]:
                    by_stop.setdefault(int(pidx[c]), set()).update(by_stop[c])
            tph = counts / hours
            served = [", ".join(sorted(by_stop[i], key=_natural)) if i in by_stop else "" for i in range(len(stops))]
        out = gpd.GeoDataFrame(
            {
                "stop_id": stops["stop_id"].astype("str"),
                "stop_name": stops["stop_name"],
                "location_type": stops["location_type"],
                "parent_station": stops["parent_station"],
                "trips_per_hour": tph,
                "routes": pd.array(served, dtype="str"),
            },
            geometry=gpd.points_from_xy(stops["lon"], stops["lat"], crs=_WGS84),
        )
        return out[keep].reset_index(drop=True)


def read_feed(path: str | Path) -> Feed:
    """Read a GTFS feed (zip file or folder of .txt files).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Feed
        With ``Feed.warnings`` listing problems that limit the analysis (one sentence each).

    Raises
    ------
    InputError
        The path is not a feed, or stops.txt, routes.txt, trips.txt or a required column is missing.
    """
    path = Path(path)
    tables, warnings = _gtfs.read_tables(path)
    return Feed(path=path, tables=tables, warnings=warnings)


# ----------------------------------------------------------------------------------------------
# Travel times


@dataclasses.dataclass
class _Problem:
    """Everything both routing algorithms need, in stop/origin/service index space."""

    origin_ids: list[str]
    categories: list[str]
    max_walk_m: float
    service_ids: np.ndarray  # sorted, object
    service_names: np.ndarray
    service_cat: np.ndarray
    departures: np.ndarray  # int seconds
    t_hi: int
    max_sec: int
    max_legs: int
    slack: int
    n_stops: int
    conns: _csa.Connections
    events: _gtfs.DayEvents
    footpaths: _csa.Footpaths
    access_o: np.ndarray  # access pairs sorted by origin
    access_s: np.ndarray
    access_w: np.ndarray
    has_transit: np.ndarray  # per origin
    stop_service: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (stop, service, secs) pairs per
    origin_service: tuple[np.ndarray, np.ndarray, np.ndarray]  # (origin, service, secs) pairs
    no_service_reason: str | None
    method: str


def transit_travel_times(
    feed: Feed,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    *,
    date: dt.date | None = None,
    window: tuple[str, str] = ("17:00", "19:00"),
    max_walk_m: float = 1000.0,
    max_transfers: int = 3,
    walk_speed_kmh: float = 4.8,
    percentiles: tuple[int, int] = (50, 90),
    max_minutes: float = 120,
    max_transfer_m: float = 400.0,
    circuity: float = 1.3,
    board_slack_s: int = 60,
    walk_time_fn: WalkTimeFn | None = None,
    algorithm: str = "profile",
) -> pd.DataFrame:
    """Door-to-door transit travel time from each origin to the nearest service of each category.

    Parameters
    ----------
    feed : Feed
        From :func:`read_feed`; must have a timetable.
    origins : GeoDataFrame
        Points in a projected CRS in metres; the index is the origin id.
    services : GeoDataFrame
        Points in the same CRS with columns ``service_id``, ``name``, ``category``.
    categories : sequence of str
        Categories to report, in output order.
    date : date, optional
        Service day; default the feed's first Wednesday with service.
    window : (str, str)
        Departure minutes ``[start, end)``, ``"HH:MM"`` (hours may pass 24).
    max_walk_m : float
        Longest walk to the first stop, from the last stop, or for a walk-only trip (walked metres).
    max_transfers : int
        Transfers allowed (vehicles = transfers + 1).
    walk_speed_kmh : float
    percentiles : (int, int)
        Low (reported as ``minutes``) and high (``minutes_p{high}``) percentile over departures.
    max_minutes : float
        Longer trips count as no trip.
    max_transfer_m : float
        Longest transfer walk between stops (walked metres); siblings in a station always connect.
    circuity : float
        Walked / straight-line distance for the straight-line walk model.
    board_slack_s : int
        Seconds needed at a stop before a vehicle departs.
    walk_time_fn : callable, optional
        ``fn(from_xy, to_xy) -> seconds`` replacing the straight-line walk (e.g. network walk times);
        called on candidate pairs within ``max_walk_m`` straight-line, results over
        ``max_walk_m / speed`` are dropped.
    algorithm : {"profile", "per_departure"}
        Profile connection scan (fast) or a RAPTOR query per origin and minute (oracle).

    Returns
    -------
    DataFrame
        One row per (origin, category), origins in input order: ``origin_id, category, service_id,
        service_name`` (the service reached at the low-percentile departure), ``minutes``,
        ``minutes_p{high}``, ``walk_only`` (share of departure minutes whose best trip is walking
        only), ``reachable``, ``has_transit``, ``reason`` (why unreachable, else missing) and
        ``method``.

    Raises
    ------
    InputError
        The feed has no timetable, or an input or option is unusable.
    """
    categories = list(dict.fromkeys(categories)) if not isinstance(categories, str) else categories
    problem = _prepare(
        feed, origins, services, categories, date=date, window=window, max_walk_m=max_walk_m,
        max_transfers=max_transfers, walk_speed_kmh=walk_speed_kmh, percentiles=percentiles,
        max_minutes=max_minutes, max_transfer_m=max_transfer_m, circuity=circuity,
        board_slack_s=board_slack_s, walk_time_fn=walk_time_fn,
    )
    if algorithm not in ("profile", "per_departure"):
        raise InputError(f"Unknown transit algorithm {algorithm!r}; use 'profile' or 'per_departure'.")
    frames = []
    for cat in categories:
        times, svc, walk = _departure_matrix(problem, cat, algorithm)
        frames.append(_summarise(problem, cat, times, svc, walk, percentiles, max_minutes))
    out = pd.concat(frames, ignore_index=True)
    # Origins in input order, categories in the order asked.
    order = {o: i for i, o in enumerate(problem.origin_ids)}
    cat_order = {c: i for i, c in enumerate(categories)}
    out = out.iloc[np.lexsort((out["category"].map(cat_order).to_numpy(), out["origin_id"].map(order).to_numpy()))]
    return out.reset_index(drop=True)


def _prepare(
    feed: Feed, origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, categories: Sequence[str], *,
    date, window, max_walk_m, max_transfers, walk_speed_kmh, percentiles, max_minutes, max_transfer_m,
    circuity, board_slack_s, walk_time_fn,
) -> _Problem:
    """Everything the scans need, as arrays: checks, the day's events, walks, footpaths, connections."""
    feed._require_schedule()
    _check_options(categories, max_walk_m, max_transfers, walk_speed_kmh, percentiles, max_minutes, max_transfer_m, circuity, board_slack_s)
    origin_ids, svc_sorted = _check_inputs(origins, services)
    crs = origins.crs

    day = _as_date(date) if date is not None else feed.default_date()
    ws, we = _parse_window(window)
    departures = np.arange(ws, we, 60, dtype=np.int64)
    max_sec = int(round(max_minutes * 60))
    t_hi = int(departures[-1]) + max_sec

    events = _gtfs.day_events(feed._stop_times, feed._trip_service, feed._calendar, day, ws, t_hi)
    n_stops = len(feed.stops)
    used, stop_xy = _stops_served(feed, events, crs)
    walk = _Walker(walk_speed_kmh / 3.6, circuity, walk_time_fn)
    o_xy = shapely.get_coordinates(origins.geometry.values)
    s_xy = shapely.get_coordinates(svc_sorted.geometry.values)

    access = walk.pairs(o_xy, stop_xy[used], max_walk_m)
    access_o, access_s, access_w = access[0], used[access[1]], access[2]
    order = np.lexsort((access_s, access_o))
    access_o, access_s, access_w = access_o[order], access_s[order], access_w[order]
    footpaths = _footpaths(feed, walk, used, stop_xy, n_stops, max_transfer_m)
    conns, same = _connections(events, ws, t_hi)
    has_transit = _has_transit(events, same, access_o, access_s, access_w, len(origin_ids), ws, t_hi, board_slack_s)

    stop_service = []
    for cat in categories:
        idx = np.flatnonzero(svc_sorted["category"].astype(str).to_numpy() == cat)
        p = walk.pairs(stop_xy[used], s_xy[idx], max_walk_m)
        stop_service.append((used[p[0]], idx[p[1]], p[2]))
    o_s = walk.pairs(o_xy, s_xy, max_walk_m)

    reason = None
    if not feed._calendar.active(day) and not len(events):  # (the previous day's night trips may still run)
        span = feed._calendar.span()
        covers = f" (the feed covers {span[0]} to {span[1]})" if span else ""
        reason = f"no transit service on {day}{covers}"
    walk_label = (
        "network walk (walk_time_fn)" if walk_time_fn is not None
        else f"straight-line walk x{circuity:g} at {walk_speed_kmh:g} km/h"
    )
    method = f"transit schedule (GTFS {feed.agency} {day.isoformat()} {_gtfs.format_clock(ws)}-{_gtfs.format_clock(we)}; {walk_label})"
    return _Problem(
        origin_ids=origin_ids,
        categories=list(categories),
        max_walk_m=float(max_walk_m),
        service_ids=svc_sorted["service_id"].to_numpy(dtype=object),
        service_names=svc_sorted["name"].astype(str).to_numpy(dtype=object),
        service_cat=svc_sorted["category"].astype(str).to_numpy(dtype=object),
        departures=departures, t_hi=t_hi, max_sec=max_sec, max_legs=int(max_transfers) + 1,
        slack=int(board_slack_s), n_stops=n_stops, conns=conns, events=events, footpaths=footpaths,
        access_o=access_o, access_s=access_s, access_w=access_w, has_transit=has_transit,
        stop_service=stop_service, origin_service=o_s, no_service_reason=reason, method=method,
    )


def _check_inputs(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame) -> tuple[list[str], gpd.GeoDataFrame]:
    """Origin ids, and the services sorted by id (ties in the scans go to the lowest id)."""
    _check_points(origins, "origins")
    _check_points(services, "services")
    if services.crs != origins.crs:
        raise InputError("services and origins are in different CRSs; reproject with services.to_crs(origins.crs).")
    missing = [c for c in ("service_id", "name", "category") if c not in services.columns]
    if missing:
        raise InputError(f"services has no column {', '.join(missing)}; add service_id, name and category columns.")
    origin_ids = [str(i) for i in origins.index]
    if len(set(origin_ids)) != len(origin_ids):
        raise InputError("origins has duplicate index values; the index must be a unique origin id.")
    svc_sorted = services.assign(service_id=services["service_id"].astype(str)).sort_values("service_id", kind="stable")
    if svc_sorted["service_id"].duplicated().any():
        raise InputError("services has duplicate service_id values; make them unique.")
    return origin_ids, svc_sorted


def _stops_served(feed: Feed, events, crs) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the stops served that day, and every stop's coordinates in ``crs`` (NaN if unserved)."""
    used = np.unique(events.stop)
    stop_xy = np.full((len(feed.stops), 2), np.nan)
    if len(used):
        pts = gpd.GeoSeries(gpd.points_from_xy(feed.stops["lon"].to_numpy()[used], feed.stops["lat"].to_numpy()[used]), crs=_WGS84)
        stop_xy[used] = shapely.get_coordinates(pts.to_crs(crs).values)
    return used, stop_xy


def _footpaths(feed: Feed, walk: "_Walker", used: np.ndarray, stop_xy: np.ndarray, n_stops: int,
               max_transfer_m: float) -> _csa.Footpaths:
    """Transfers on foot: within ``max_transfer_m``, plus siblings under one parent station, plus staying put."""
    fp = walk.pairs(stop_xy[used], stop_xy[used], max_transfer_m)
    f_from, f_to, f_secs = [used[fp[0]]], [used[fp[1]]], [fp[2]]
    parent = feed.stops["parent_station"].to_numpy(dtype=object)[used]
    sib = pd.DataFrame({"stop": used, "parent": parent}).dropna()
    if len(sib):
        pairs = sib.merge(sib, on="parent")
        pairs = pairs[pairs["stop_x"] != pairs["stop_y"]]
        a, b = pairs["stop_x"].to_numpy(np.int64), pairs["stop_y"].to_numpy(np.int64)
        f_from.append(a)
        f_to.append(b)
        f_secs.append(walk.seconds(stop_xy[a], stop_xy[b]))
    f_from.append(used)
    f_to.append(used)
    f_secs.append(np.zeros(len(used), np.int64))
    fpf, fpt, fps = (np.concatenate(x) for x in (f_from, f_to, f_secs))
    ok = fps < _csa.INF
    fpf, fpt, fps = fpf[ok], fpt[ok], fps[ok]
    fp_df = pd.DataFrame({"a": fpf, "b": fpt, "s": fps}).sort_values(["a", "b", "s"]).drop_duplicates(["a", "b"])
    ptr = np.r_[0, np.cumsum(np.bincount(fp_df["a"].to_numpy(), minlength=n_stops))].astype(np.int64)
    return _csa.Footpaths(ptr, fp_df["b"].to_numpy(np.int64), fp_df["s"].to_numpy(np.int64))


def _connections(events, ws: int, t_hi: int) -> tuple[_csa.Connections, np.ndarray]:
    """Consecutive events of a trip instance within [window start, last departure + max], and the same-trip mask."""
    same = events.trip[1:] == events.trip[:-1] if len(events) else np.zeros(0, bool)
    i = np.flatnonzero(same)
    c_dep, c_arr = events.dep[i], np.maximum(events.arr[i + 1], events.dep[i])
    keep = (c_dep >= ws) & (c_arr <= t_hi)
    i = i[keep]
    seq_in_trip = i - np.searchsorted(events.trip, events.trip[i], side="left")
    conns = _csa.Connections(
        trip=events.trip[i], u=events.stop[i], v=events.stop[i + 1], dep=c_dep[keep], arr=c_arr[keep],
        seq=seq_in_trip, board=events.pickup[i], alight=events.dropoff[i + 1],
    )
    return conns, same


def _has_transit(events, same: np.ndarray, access_o: np.ndarray, access_s: np.ndarray, access_w: np.ndarray,
                 n_origins: int, ws: int, t_hi: int, board_slack_s: int) -> np.ndarray:
    """Per origin: a stop in walking reach where a vehicle can be boarded during the window."""
    last = np.r_[~same, True] if len(events) else np.zeros(0, bool)
    board = events.pickup & ~last
    b_stop, b_dep = events.stop[board], events.dep[board]
    o_ = np.lexsort((b_dep, b_stop))
    band = np.int64(1 << 22)
    b_key = b_stop[o_] * band + b_dep[o_]
    lo_q = access_s * band + (ws + access_w + board_slack_s)
    hi_q = access_s * band + t_hi
    hits = np.searchsorted(b_key, hi_q, side="right") - np.searchsorted(b_key, lo_q, side="left") > 0
    has_transit = np.zeros(n_origins, bool)
    has_transit[access_o[hits]] = True
    return has_transit


class _Walker:
    """Walk times (whole seconds, rounded up) and pairs within a walked distance."""

    def __init__(self, speed_ms: float, circuity: float, fn: WalkTimeFn | None) -> None:
        self.speed, self.circuity, self.fn = speed_ms, circuity, fn

    def seconds(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(a) == 0:
            return np.zeros(0, np.int64)
        if self.fn is None:
            secs = straight.seconds(np.hypot(*(a - b).T), self.speed, self.circuity)
        else:
            secs = np.asarray(self.fn(np.asarray(a, float), np.asarray(b, float)), float)
            if secs.shape != (len(a),):
                raise InputError(f"walk_time_fn returned shape {secs.shape} for {len(a)} pairs; return one time per pair.")
        secs = np.where(np.isfinite(secs), np.ceil(secs - 1e-9), np.inf)
        return np.where(np.isfinite(secs), secs, _csa.INF).astype(np.int64)

    def pairs(self, a_xy: np.ndarray, b_xy: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, seconds) for points a[i], b[j] within ``max_m`` walked metres."""
        empty = (np.zeros(0, np.int64),) * 3
        if len(a_xy) == 0 or len(b_xy) == 0:
            return empty
        radius = straight.straight_m(max_m, self.circuity) if self.fn is None else max_m
        ta, tb = cKDTree(a_xy), cKDTree(b_xy)
        m = ta.sparse_distance_matrix(tb, radius * (1 + 1e-12), output_type="ndarray")
        i, j = m["i"].astype(np.int64), m["j"].astype(np.int64)
        secs = self.seconds(a_xy[i], b_xy[j])
        ok = secs <= math.ceil(max_m / self.speed - 1e-9)
        order = np.lexsort((j[ok], i[ok]))
        return i[ok][order], j[ok][order], secs[ok][order]


def _departure_matrix(p: _Problem, category: str, algorithm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best door-to-door seconds, service index and walk-only flag per (origin, departure minute)."""
    n_o, n_d = len(p.origin_ids), len(p.departures)
    ss = p.stop_service[p.categories.index(category)]
    egress = np.full(p.n_stops, _csa.INF, np.int64)
    egress_svc = np.full(p.n_stops, -1, np.int64)
    if len(ss[0]):
        order = np.lexsort((ss[1], ss[2], ss[0]))  # per stop: fastest, then lowest service index
        first = np.r_[True, ss[0][order][1:] != ss[0][order][:-1]]
        egress[ss[0][order][first]] = ss[2][order][first]
        egress_svc[ss[0][order][first]] = ss[1][order][first]

    transit = np.full((n_o, n_d), _csa.INF, np.int64)
    tsvc = np.full((n_o, n_d), -1, np.int64)
    if len(p.conns) and len(p.access_o) and (egress < _csa.INF).any():
        if algorithm == "profile":
            prof = _csa.profile_scan(p.conns, p.n_stops, p.footpaths, egress, egress_svc, p.max_legs, p.slack)
            _query_profiles(p, prof, transit, tsvc)
        else:
            pats = _raptor.build_patterns(p.events.trip, p.events.stop, p.events.arr, p.events.dep,
                                          p.events.pickup, p.events.dropoff, p.n_stops)
            nbrs = p.footpaths.lists()
            eg, egs = egress.tolist(), egress_svc.tolist()
            bounds = np.searchsorted(p.access_o, np.arange(n_o + 1))
            for o in range(n_o):
                lo, hi = bounds[o], bounds[o + 1]
                if lo == hi:
                    continue
                stops, secs = p.access_s[lo:hi].tolist(), p.access_w[lo:hi].tolist()
                for d, t0 in enumerate(p.departures.tolist()):
                    a, s = _raptor.raptor_query(pats, nbrs, stops, secs, t0, eg, egs, p.max_legs, p.slack)
                    transit[o, d], tsvc[o, d] = a, s
    travel = np.where(transit < _csa.INF, transit - p.departures[None, :], _csa.INF)

    return with_walking(p, category, travel, tsvc)



def with_walking(p: _Problem, category: str, travel: np.ndarray, tsvc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best seconds, service and walk-only flag per (origin, departure): transit ``travel`` or walking only.

    Walking only is the nearest service of ``category`` within ``max_walk_m``; trips over the
    maximum time are unreachable. Shared by every search (profile scan, RAPTOR oracle, baselines).
    """
    n_o = len(p.origin_ids)
    oo, ssv, sec = p.origin_service
    in_cat = p.service_cat[ssv] == category if len(ssv) else np.zeros(0, bool)
    walk_s = np.full(n_o, _csa.INF, np.int64)
    walk_svc = np.full(n_o, -1, np.int64)
    if in_cat.any():
        oo, ssv, sec = oo[in_cat], ssv[in_cat], sec[in_cat]
        order = np.lexsort((ssv, sec, oo))
        first = np.r_[True, oo[order][1:] != oo[order][:-1]]
        walk_s[oo[order][first]] = sec[order][first]
        walk_svc[oo[order][first]] = ssv[order][first]
    walk_only = (walk_s[:, None] <= travel) & (walk_s[:, None] < _csa.INF)
    best = np.where(walk_only, walk_s[:, None], travel)
    svc = np.where(walk_only, walk_svc[:, None], tsvc)
    too_long = best > p.max_sec
    best = np.where(too_long, _csa.INF, best)
    svc = np.where(too_long, -1, svc)
    walk_only &= ~too_long
    return best, svc, walk_only

def _query_profiles(p: _Problem, prof: _csa.Profiles, transit: np.ndarray, tsvc: np.ndarray) -> None:
    """Fill ``transit``/``tsvc`` (origin x minute) from the stop profiles, in memory-bounded chunks."""
    n_s = max(len(p.service_ids), 1)
    dep = p.departures
    bounds = np.searchsorted(p.access_o, np.arange(len(p.origin_ids) + 1))
    chunk = max(1, 2_000_000 // max(len(dep), 1))
    o_start = 0
    while o_start < len(p.origin_ids):
        # Whole origins per chunk so that each origin's pairs are reduced together.
        o_end = int(np.searchsorted(bounds, bounds[o_start] + chunk, side="right")) - 1
        o_end = min(max(o_end, o_start + 1), len(p.origin_ids))
        lo, hi = bounds[o_start], bounds[o_end]
        if hi > lo:
            s, w, o = p.access_s[lo:hi], p.access_w[lo:hi], p.access_o[lo:hi]
            arr, svc = prof.query(s[:, None], dep[None, :] + w[:, None])
            combined = np.where(arr < _csa.INF, arr * n_s + svc, np.iinfo(np.int64).max)
            starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
            best = np.minimum.reduceat(combined, starts, axis=0)
            rows = o[starts]
            reached = best < np.iinfo(np.int64).max
            transit[rows] = np.where(reached, best // n_s, _csa.INF)
            tsvc[rows] = np.where(reached, best % n_s, -1)
        o_start = o_end


def _summarise(p: _Problem, category: str, best: np.ndarray, svc: np.ndarray, walk_only: np.ndarray,
               percentiles: tuple[int, int], max_minutes: float) -> pd.DataFrame:
    n_o, n_d = best.shape
    lo_p, hi_p = percentiles
    order = np.argsort(best, axis=1, kind="stable")
    rank = lambda pct: max(math.ceil(pct / 100 * n_d) - 1, 0)  # noqa: E731  (R5's nearest rank)
    rows = np.arange(n_o)
    lo_i, hi_i = order[:, rank(lo_p)], order[:, rank(hi_p)]
    lo_v, hi_v = best[rows, lo_i], best[rows, hi_i]
    lo_s = svc[rows, lo_i]
    minutes = np.where(lo_v < _csa.INF, lo_v / 60.0, np.nan)
    minutes_hi = np.where(hi_v < _csa.INF, hi_v / 60.0, np.nan)
    share = walk_only.mean(axis=1) if n_d else np.zeros(n_o)
    has = p.has_transit.copy()
    if p.no_service_reason:
        has[:] = False
    minutes[~has] = np.nan
    minutes_hi[~has] = np.nan
    share = np.where(has, share, 0.0)
    lo_s = np.where(has & np.isfinite(minutes), lo_s, -1)
    reachable = np.isfinite(minutes)
    in_cat = (p.service_cat == category).any()
    reasons = []
    for o in range(n_o):
        if reachable[o]:
            reasons.append(pd.NA)
        elif p.no_service_reason:
            reasons.append(p.no_service_reason)
        elif not has[o]:
            reasons.append(f"no transit stop within {p.max_walk_m:g} m with a departure in the window")
        elif not in_cat:
            reasons.append(f"no services of category {category!r} given")
        else:
            reasons.append(f"no {category} reachable within {max_minutes:g} min at the {lo_p}th percentile")
    sid = np.where(lo_s >= 0, p.service_ids[np.maximum(lo_s, 0)] if len(p.service_ids) else "", None)
    sname = np.where(lo_s >= 0, p.service_names[np.maximum(lo_s, 0)] if len(p.service_names) else "", None)
    return pd.DataFrame(
        {
            "origin_id": pd.array(p.origin_ids, dtype="str"),
            "category": pd.array([category] * n_o, dtype="str"),
            "service_id": pd.array(sid, dtype="str"),
            "service_name": pd.array(sname, dtype="str"),
            "minutes": minutes,
            f"minutes_p{hi_p}": minutes_hi,
            "walk_only": share,
            "reachable": reachable,
            "has_transit": has,
            "reason": pd.array(reasons, dtype="str"),
            "method": pd.array([p.method] * n_o, dtype="str"),
        }
    )


# ----------------------------------------------------------------------------------------------
# Small helpers


def _check_options(categories, max_walk_m, max_transfers, walk_speed_kmh, percentiles, max_minutes,
                   max_transfer_m, circuity, board_slack_s) -> None:
    if isinstance(categories, str) or not len(categories):
        raise InputError("categories must be a non-empty list of category names, e.g. ['hospital'].")
    if not (max_walk_m >= 0 and max_transfer_m >= 0):
        raise InputError("max_walk_m and max_transfer_m must be non-negative metres.")
    if int(max_transfers) != max_transfers or max_transfers < 0:
        raise InputError(f"max_transfers must be a whole number >= 0, not {max_transfers!r}.")
    if not walk_speed_kmh > 0:
        raise InputError(f"walk_speed_kmh must be positive, not {walk_speed_kmh!r}.")
    if not max_minutes > 0:
        raise InputError(f"max_minutes must be positive, not {max_minutes!r}.")
    if circuity < 1:
        raise InputError(f"circuity {circuity} is below 1 (walks are never shorter than a straight line); use >= 1.")
    if board_slack_s < 0:
        raise InputError("board_slack_s must be >= 0 seconds.")
    if len(percentiles) != 2 or not (0 < percentiles[0] <= percentiles[1] <= 100):
        raise InputError(f"percentiles must be two ascending numbers in 1..100, e.g. (50, 90), not {percentiles!r}.")


def _check_points(gdf: gpd.GeoDataFrame, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame of points.")
    geo.metre_crs(gdf, what, required=True)
    geo.point_xy(gdf, what)


def _parse_window(window: tuple[str, str]) -> tuple[int, int]:
    if len(window) != 2:
        raise InputError(f"window must be (start, end) clock times such as ('17:00', '19:00'), not {window!r}.")
    ws, we = _gtfs.parse_clock(window[0], "window start"), _gtfs.parse_clock(window[1], "window end")
    if we <= ws:
        raise InputError(
            f"The window end {window[1]} is not after its start {window[0]}; for windows past midnight "
            f"write e.g. ('23:30', '24:30')."
        )
    return ws, we


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"Date {value!r} is not a date; use YYYY-MM-DD.") from None


def _hex(value: object) -> str | None:
    text = str(value).strip().lstrip("#") if value is not None else ""
    return f"#{text.upper()}" if re.fullmatch(r"[0-9A-Fa-f]{6}", text) else None


def _natural(label: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", str(label)))
