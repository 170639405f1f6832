"""GTFS feed reading, validation, service calendars and one day's timetable (private).

Everything is read as strings (ids such as Kingston's ``00799`` keep their leading zeros) and
parsed only where numbers are needed. Times are seconds after midnight of the service day
("noon minus 12 h" in GTFS terms; the two differ only on daylight-saving change days, which
we ignore), so ``25:10:00`` is 90600 s. Problems a user can fix raise
:class:`gapmap.errors.InputError` with one sentence naming the feed, the file and the fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from gapmap.errors import InputError
from gapmap.sources.readers import InterruptibleFile, check_size

#: Most trip instances, and stop events, that frequencies.txt may expand into.
MAX_FREQUENCY_TRIPS = 200_000
MAX_FREQUENCY_EVENTS = 10_000_000
#: Service dates are searched over at most this many days from the calendar's first date.
MAX_CALENDAR_DAYS = 3660

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_S = 86400

# Columns gapmap needs from each file (the GTFS reference requires all of these too).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", *WEEKDAYS, "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "shapes.txt": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "agency.txt": ("agency_name",),
    "feed_info.txt": (),
}
# Optional columns read when present (others are dropped to save memory on big feeds).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_name", "stop_code", "location_type", "parent_station"),
    "routes.txt": ("agency_id", "route_short_name", "route_long_name", "route_color", "route_text_color"),
    "trips.txt": ("shape_id", "direction_id", "trip_headsign"),
    "stop_times.txt": ("pickup_type", "drop_off_type", "shape_dist_traveled"),
    "frequencies.txt": ("exact_times",),
    "agency.txt": ("agency_id",),
    "feed_info.txt": ("feed_publisher_name", "feed_start_date", "feed_end_date", "feed_version"),
}
PURPOSE = {
    "stops.txt": "stop locations",
    "routes.txt": "route names and types",
    "trips.txt": "which route and service day each trip belongs to",
    "stop_times.txt": "the timetable",
    "calendar.txt": "weekly service days",
    "calendar_dates.txt": "service-day exceptions",
}
CORE_FILES = ("stops.txt", "routes.txt", "trips.txt")


class _Source:
    """A GTFS zip or folder; files are found by base name (zips often nest them in a folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            self._members = {p.name: str(p) for p in sorted(path.iterdir()) if p.is_file()}
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise InputError(
                    f"GTFS feed {path} is not a zip archive; pass the feed's .zip file or a folder of its .txt files."
                ) from None
            # Prefer the shallowest copy of each name, e.g. feed/stops.txt over feed/old/stops.txt.
            for name in sorted(self._zip.namelist(), key=lambda n: (n.count("/"), n)):
                base = name.rsplit("/", 1)[-1]
                if base and not name.startswith("__MACOSX") and base not in self._members:
                    self._members[base] = name
            # Uncompressed sizes from the zip directory, before anything is extracted (zip bombs).
            for base, name in self._members.items():
                if base in REQUIRED_COLUMNS:
                    check_size(f"{path}!{name}", "GTFS", self._zip.getinfo(name).file_size,
                               fix="no regional feed is that large (a damaged or hostile zip?); use the publisher's feed")
        else:
            raise InputError(f"GTFS feed {path} does not exist; check the path (a .zip file or a folder of .txt files).")

    def has(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str) -> pd.DataFrame | None:
        """Read ``name`` as strings (empty cells -> NA); None when the file is absent or 0 bytes."""
        if name not in self._members:
            return None
        wanted = set(REQUIRED_COLUMNS.get(name, ())) | set(OPTIONAL_COLUMNS.get(name, ()))
        usecols = (lambda c: c.strip() in wanted) if name in ("stop_times.txt", "shapes.txt", "trips.txt") else None
        if self._zip is None:
            check_size(self._members[name], "GTFS")
        if self._is_blank(name):
            return None
        try:
            # Parsed as a stream from the archive: the file's bytes are never held whole.
            with (self._zip.open(self._members[name]) if self._zip is not None else open(self._members[name], "rb")) as fh:
                src = InterruptibleFile(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""))
                df = pd.read_csv(
                    src, dtype=str, keep_default_na=False, na_values=[""],
                    usecols=usecols, skipinitialspace=True,
                )
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            src.reraise_interrupt()
            raise InputError(
                f"GTFS feed {self.path}: {name} cannot be read as UTF-8 CSV ({str(exc).splitlines()[0]}); "
                f"fix or re-export that file."
            ) from None
        df.columns = [str(c).strip() for c in df.columns]
        for col in df.columns:
            df[col] = df[col].str.strip()
        return df

    def _is_blank(self, name: str) -> bool:
        """True for a 0-byte or whitespace-only member (read in chunks)."""
        with (self._zip.open(self._members[name]) if self._zip is not None else open(self._members[name], "rb")) as fh:
            while chunk := fh.read(1 << 16):
                if chunk.strip():
                    return False
        return True


def read_tables(path: str | Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Read and validate the GTFS files gapmap uses.

    Returns
    -------
    tables : dict
        File name -> DataFrame of strings, for every file present.
    warnings : list of str
        At most one message per problem that limits the analysis (e.g. no ``stop_times.txt``).

    Raises
    ------
    InputError
        When a core file (stops, routes, trips) or a required column is missing.
    """
    src = _Source(Path(path))
    tables: dict[str, pd.DataFrame] = {}
    for name in REQUIRED_COLUMNS:
        df = src.read(name)
        if df is None:
            if name in CORE_FILES:
                raise InputError(
                    f"GTFS feed {src.path} has no {name} ({PURPOSE[name]}); use the publisher's complete feed, "
                    f"which must contain {name}."
                )
            continue
        missing = [c for c in REQUIRED_COLUMNS[name] if c not in df.columns]
        if missing:
            raise InputError(
                f"GTFS feed {src.path}: {name} has no column {', '.join(repr(c) for c in missing)}, which the GTFS "
                f"reference requires; fix the file's header row or re-download the feed."
            )
        tables[name] = df
    _check_trips(tables, src.path)
    warnings: list[str] = []
    span = _calendar_span_days(tables)
    if span is not None and span > MAX_CALENDAR_DAYS:
        warnings.append(f"GTFS feed {src.path}: calendar.txt spans {span:,} days; service dates are searched over the first "
                        f"{MAX_CALENDAR_DAYS:,} only (give --date for a later one).")
    absent = []
    if "stop_times.txt" not in tables or tables["stop_times.txt"].empty:
        absent.append("stop_times.txt (the timetable)")
    if "calendar.txt" not in tables and "calendar_dates.txt" not in tables:
        absent.append("calendar.txt or calendar_dates.txt (service days)")
    if absent:
        warnings.append(
            f"GTFS feed {src.path} has no {' and no '.join(absent)}, so schedule analysis (transit travel times, "
            f"trips per hour) is unavailable; routes and stops layers are still produced - use a complete feed "
            f"for travel times."
        )
    return tables, warnings


def _check_trips(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """trip_id unique in trips.txt and every route_id listed in routes.txt, or an error naming the line."""
    trips, routes = tables["trips.txt"], tables["routes.txt"]
    dup = trips["trip_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        tid = trips["trip_id"].iloc[i]
        first = int(np.flatnonzero((trips["trip_id"] == tid).to_numpy())[0])
        raise InputError(f"GTFS feed {path}: trips.txt line {i + 2} repeats trip_id {tid!r} (first at line {first + 2}); "
                         "trip ids must be unique - fix or re-download the feed.")
    unknown = (~trips["route_id"].isin(routes["route_id"])).to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(f"GTFS feed {path}: trips.txt line {i + 2} has route_id {trips['route_id'].iloc[i]!r}, which "
                         f"routes.txt does not list ({int(unknown.sum())} trip(s) in all); fix or re-download the feed.")


def _calendar_span_days(tables: dict[str, pd.DataFrame]) -> int | None:
    cal = tables.get("calendar.txt")
    if cal is None or cal.empty or "start_date" not in cal or "end_date" not in cal:
        return None
    start = pd.to_datetime(cal["start_date"], format="%Y%m%d", errors="coerce").min()
    end = pd.to_datetime(cal["end_date"], format="%Y%m%d", errors="coerce").max()
    return None if pd.isna(start) or pd.isna(end) else int((end - start).days)


def schedule_problem(tables: dict[str, pd.DataFrame], path: Path) -> str | None:
    """Why schedule analysis is impossible on this feed, as one sentence; None when it is possible."""
    if "stop_times.txt" not in tables or tables["stop_times.txt"].empty:
        return (
            f"GTFS feed {path} has no stop_times.txt, so transit schedule analysis is unavailable; "
            f"use a complete feed that includes stop_times.txt (only routes and stops layers can be drawn from this one)."
        )
    if "calendar.txt" not in tables and "calendar_dates.txt" not in tables:
        return (
            f"GTFS feed {path} has neither calendar.txt nor calendar_dates.txt, so its service days are unknown and "
            f"transit schedule analysis is unavailable; use a complete feed that includes one of them."
        )
    return None


def to_float(df: pd.DataFrame, col: str, name: str, path: Path, *, required: bool = True) -> np.ndarray:
    """Column as float; raise InputError naming the first unparseable (or, if ``required``, empty) line."""
    try:  # fast path; to_numeric only to locate a bad cell
        values = df[col].astype("float64").to_numpy()
    except (ValueError, TypeError):
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & (df[col].notna().to_numpy() | required)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = df[col].iloc[i]
        what = "is empty" if pd.isna(shown) else f"is {shown!r}, not a number"
        raise InputError(f"GTFS feed {path}: {name} line {i + 2} column {col} {what}; fix that row.")
    return values


def parse_times(series: pd.Series, name: str, path: Path) -> np.ndarray:
    """``H:MM:SS`` (hours may pass 24) -> float seconds; NaN for empty cells."""
    # Timetables repeat the same few thousand clock times: parse each distinct value once.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parts = pd.Series(uniques, dtype="str").str.extract(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
    h, m, s = (parts[i].astype("float64").to_numpy() for i in range(3))
    secs_u = np.r_[h * 3600 + m * 60 + s, np.nan]  # last slot serves the NA code -1
    secs = secs_u[codes]
    bad = np.isnan(secs) & series.notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"GTFS feed {path}: {name} line {i + 2} has time {series.iloc[i]!r}; GTFS times are HH:MM:SS "
            f"(e.g. 25:10:00 after midnight) - fix that row."
        )
    return secs


def parse_clock(text: str, what: str = "window") -> int:
    """``"17:00"`` or ``"25:10:00"`` -> seconds after midnight of the service day."""
    parts = str(text).strip().split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or any(n < 0 for n in nums) or any(n > 59 for n in nums[1:]):
        raise InputError(f"The {what} time {text!r} is not HH:MM or HH:MM:SS; use e.g. '17:00' (or '25:10' after midnight).")
    return nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0)


def format_clock(secs: int) -> str:
    """Seconds -> ``HH:MM`` (``HH:MM:SS`` when seconds are not whole minutes)."""
    h, rem = divmod(int(secs), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


# ----------------------------------------------------------------------------------------------
# Service calendar


@dataclasses.dataclass(frozen=True)
class Calendar:
    """Parsed calendar.txt / calendar_dates.txt."""

    weekly: pd.DataFrame  # service_id, start (date), end (date), monday..sunday (bool)
    added: dict[dt.date, frozenset[str]]
    removed: dict[dt.date, frozenset[str]]

    def active(self, day: dt.date) -> frozenset[str]:
        """Service ids running on ``day`` (calendar.txt pattern, then calendar_dates.txt exceptions)."""
        w = self.weekly
        on = set()
        if len(w):
            mask = (w["start"] <= day) & (w["end"] >= day) & w[WEEKDAYS[day.weekday()]]
            on = set(w.loc[mask, "service_id"])
        on |= self.added.get(day, frozenset())
        on -= self.removed.get(day, frozenset())
        return frozenset(on)

    def span(self) -> tuple[dt.date, dt.date] | None:
        """First and last date any calendar row or exception mentions."""
        days = list(self.added) + list(self.removed)
        if len(self.weekly):
            days += [self.weekly["start"].min(), self.weekly["end"].max()]
        return (min(days), max(days)) if days else None


def _dates(series: pd.Series, name: str, col: str, path: Path) -> list[dt.date]:
    parsed = pd.to_datetime(series, format="%Y%m%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"GTFS feed {path}: {name} line {i + 2} column {col} is {series.iloc[i]!r}, not a YYYYMMDD date; fix that row."
        )
    return [d.date() for d in parsed]


def parse_calendar(tables: dict[str, pd.DataFrame], path: Path) -> Calendar:
    """Parse the calendars once; either file may be absent (Kingston has only calendar_dates.txt)."""
    cal = tables.get("calendar.txt")
    cols = ["service_id", "start", "end", *WEEKDAYS]
    if cal is not None and len(cal):
        weekly = pd.DataFrame({"service_id": cal["service_id"].astype(object)})
        weekly["start"] = _dates(cal["start_date"], "calendar.txt", "start_date", path)
        weekly["end"] = _dates(cal["end_date"], "calendar.txt", "end_date", path)
        for day in WEEKDAYS:
            weekly[day] = (cal[day] == "1").to_numpy()
    else:
        weekly = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    added: dict[dt.date, set[str]] = {}
    removed: dict[dt.date, set[str]] = {}
    cd = tables.get("calendar_dates.txt")
    if cd is not None and len(cd):
        days = _dates(cd["date"], "calendar_dates.txt", "date", path)
        for sid, day, kind in zip(cd["service_id"], days, cd["exception_type"]):
            if kind == "1":
                added.setdefault(day, set()).add(sid)
            elif kind == "2":
                removed.setdefault(day, set()).add(sid)
            else:
                raise InputError(
                    f"GTFS feed {path}: calendar_dates.txt has exception_type {kind!r} for service {sid} on {day}; "
                    f"use 1 (service added) or 2 (service removed)."
                )
    return Calendar(
        weekly,
        {k: frozenset(v) for k, v in added.items()},
        {k: frozenset(v) for k, v in removed.items()},
    )


def service_dates(calendar: Calendar, services_with_trips: Iterable[str]) -> list[dt.date]:
    """Dates on which at least one service that has trips runs, ascending."""
    span = calendar.span()
    if span is None:
        return []
    useful = set(services_with_trips)
    out = []
    day = span[0]
    last = min(span[1], span[0] + dt.timedelta(days=MAX_CALENDAR_DAYS))  # placeholder end dates such as 99991231
    while day <= last:
        if calendar.active(day) & useful:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


# ----------------------------------------------------------------------------------------------
# Timetable


@dataclasses.dataclass(frozen=True)
class StopTimes:
    """stop_times.txt parsed into arrays sorted by (trip, stop_sequence); frequencies already expanded."""

    trip: np.ndarray  # int index into ``trip_ids``
    stop: np.ndarray  # int index into the feed's stops table
    seq: np.ndarray  # int stop_sequence
    arr: np.ndarray  # int seconds
    dep: np.ndarray  # int seconds
    pickup: np.ndarray  # bool: boarding allowed (pickup_type != 1)
    dropoff: np.ndarray  # bool: alighting allowed (drop_off_type != 1)
    trip_ids: np.ndarray  # object array of trip_id strings (generated ids for frequency trips)
    trip_row: np.ndarray  # int row in trips.txt for each trip index
    trip_first: np.ndarray  # int first event index of each trip
    trip_end: np.ndarray  # int one past the last event of each trip


def parse_stop_times(
    tables: dict[str, pd.DataFrame], stop_index: pd.Index, path: Path, warnings: list[str]
) -> StopTimes:
    """Parse, sort and clean stop_times.txt; interpolate blank times of untimed stops.

    Blank ``arrival_time``/``departure_time`` at intermediate stops are interpolated linearly by
    ``shape_dist_traveled`` when given, else by stop position, as the GTFS reference suggests.
    Trips whose first or last stop has no time cannot be placed in time and are dropped (one
    warning). Trips in frequencies.txt are expanded into one trip per headway (treated as exact
    times, which is what schedule-based headways mean and a fair average for the others).
    """
    name = "stop_times.txt"
    st = tables[name]
    trips = tables["trips.txt"]
    trip_pos = pd.Index(trips["trip_id"]).get_indexer(st["trip_id"])
    stop_pos = stop_index.get_indexer(st["stop_id"])
    unknown = (trip_pos < 0) | (stop_pos < 0)
    if unknown.all():
        raise InputError(
            f"GTFS feed {path}: no row of {name} refers to a trip in trips.txt and a stop in stops.txt; "
            f"the files do not belong together - re-download the feed."
        )
    if unknown.any():
        warnings.append(
            f"GTFS feed {path}: {int(unknown.sum())} rows of {name} refer to trips or stops missing from "
            f"trips.txt/stops.txt and were ignored."
        )
    keep = ~unknown
    seq = to_float(st, "stop_sequence", name, path)
    arr = parse_times(st["arrival_time"], name, path)
    dep = parse_times(st["departure_time"], name, path)
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    pickup = (st["pickup_type"] != "1").to_numpy() if "pickup_type" in st else np.ones(len(st), bool)
    dropoff = (st["drop_off_type"] != "1").to_numpy() if "drop_off_type" in st else np.ones(len(st), bool)
    dist = (  # only needed to interpolate blank times
        pd.to_numeric(st["shape_dist_traveled"], errors="coerce").to_numpy(dtype=float)
        if "shape_dist_traveled" in st and np.isnan(arr).any()
        else np.full(len(st), np.nan)
    )
    df = pd.DataFrame(
        {"trip": trip_pos, "stop": stop_pos, "seq": seq, "arr": arr, "dep": dep,
         "pickup": pickup, "dropoff": dropoff, "dist": dist}
    )[keep]
    df = df.sort_values(["trip", "seq"], kind="stable").reset_index(drop=True)
    df = _interpolate_times(df, path, warnings)
    df = _expand_frequencies(df, tables, path, trips)
    trip_codes, trip_idx = np.unique(df["trip"].to_numpy(), return_inverse=True)
    first = np.flatnonzero(np.r_[True, trip_idx[1:] != trip_idx[:-1]])
    end = np.r_[first[1:], len(trip_idx)]
    labels = df["label"].to_numpy()[first]
    return StopTimes(
        trip=trip_idx.astype(np.int64),
        stop=df["stop"].to_numpy(np.int64),
        seq=df["seq"].to_numpy(np.int64),
        arr=df["arr"].to_numpy().round().astype(np.int64),
        dep=df["dep"].to_numpy().round().astype(np.int64),
        pickup=df["pickup"].to_numpy(bool),
        dropoff=df["dropoff"].to_numpy(bool),
        trip_ids=labels.astype(object),
        trip_row=df["row"].to_numpy(np.int64)[first],
        trip_end=end.astype(np.int64),
        trip_first=first.astype(np.int64),
    )


def _interpolate_times(df: pd.DataFrame, path: Path, warnings: list[str]) -> pd.DataFrame:
    missing = df["arr"].isna().to_numpy()
    if not missing.any():
        return df
    trip = df["trip"].to_numpy()
    first = np.r_[True, trip[1:] != trip[:-1]]
    last = np.r_[trip[1:] != trip[:-1], True]
    bad_trips = np.unique(trip[missing & (first | last)])
    if len(bad_trips):
        warnings.append(
            f"GTFS feed {path}: {len(bad_trips)} trips have no time at their first or last stop in stop_times.txt "
            f"and were ignored."
        )
        df = df[~np.isin(trip, bad_trips)].reset_index(drop=True)
        trip = df["trip"].to_numpy()
        missing = df["arr"].isna().to_numpy()
        if not missing.any():
            return df
    # Position along the trip: shape_dist_traveled when the whole trip has it, else stop rank.
    rank = df.groupby("trip").cumcount().to_numpy(dtype=float)
    has_dist = df.groupby("trip")["dist"].transform(lambda s: s.notna().all()).to_numpy(bool)
    pos = np.where(has_dist, df["dist"].to_numpy(), rank)
    known = pd.Series(np.where(missing, np.nan, df["arr"].to_numpy()))
    kpos = pd.Series(np.where(missing, np.nan, pos))
    g_t, g_p = known.groupby(trip), kpos.groupby(trip)
    t0, t1 = g_t.ffill().to_numpy(), g_t.bfill().to_numpy()
    p0, p1 = g_p.ffill().to_numpy(), g_p.bfill().to_numpy()
    frac = np.where(p1 > p0, (pos - p0) / np.where(p1 > p0, p1 - p0, 1), 0.0)
    fill = t0 + frac * (t1 - t0)
    df = df.copy()
    df.loc[missing, "arr"] = fill[missing]
    df.loc[missing, "dep"] = fill[missing]
    return df


def _expand_frequencies(df: pd.DataFrame, tables: dict[str, pd.DataFrame], path: Path, trips: pd.DataFrame) -> pd.DataFrame:
    """Add ``row`` (trips.txt row) and ``label`` (trip id) columns; expand frequency-based trips."""
    trip_ids = trips["trip_id"].to_numpy(dtype=object)
    df = df.assign(row=df["trip"], label=trip_ids[df["trip"].to_numpy()])
    freq = tables.get("frequencies.txt")
    if freq is None or freq.empty:
        return df
    name = "frequencies.txt"
    f_trip = pd.Index(trips["trip_id"]).get_indexer(freq["trip_id"])
    start = parse_times(freq["start_time"], name, path)
    end = parse_times(freq["end_time"], name, path)
    headway = to_float(freq, "headway_secs", name, path)
    bad = ~(headway > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"GTFS feed {path}: {name} line {i + 2} has headway_secs {freq['headway_secs'].iloc[i]}; "
                         "headways must be positive seconds - fix that row.")
    templated = set(f_trip[f_trip >= 0].tolist())
    base = df[~df["trip"].isin(templated)]
    rows_of = {t: np.flatnonzero(df["trip"].to_numpy() == t) for t in templated}
    # Count the expansion before building it: a 1 s headway over 99 h would be 356,400 trips.
    n_trips = np.array([len(np.arange(s0, s1, h)) if t >= 0 and len(rows_of[t]) else 0
                        for t, s0, s1, h in zip(f_trip, start, end, headway)], dtype=np.int64)
    n_events = n_trips * np.array([len(rows_of[t]) if t >= 0 else 0 for t in f_trip], dtype=np.int64)
    if n_trips.sum() > MAX_FREQUENCY_TRIPS or n_events.sum() > MAX_FREQUENCY_EVENTS:
        i = int(np.argmax(n_events))
        raise InputError(
            f"GTFS feed {path}: {name} expands into {int(n_trips.sum()):,} trips ({int(n_events.sum()):,} stop events; "
            f"line {i + 2}: every {headway[i]:g} s from {freq['start_time'].iloc[i]} to {freq['end_time'].iloc[i]}), above "
            f"the limit of {MAX_FREQUENCY_TRIPS:,} trips / {MAX_FREQUENCY_EVENTS:,} events; check headway_secs and the times.")
    parts = [base]
    next_code = int(df["trip"].max()) + 1
    for t, s0, s1, h in zip(f_trip, start, end, headway):
        if t < 0 or not len(rows_of[t]):
            continue
        tmpl = df.iloc[rows_of[t]]
        departures = np.arange(s0, s1, h)
        if not len(departures):
            continue
        k, m = len(departures), len(tmpl)
        shift = np.repeat(departures - tmpl["dep"].to_numpy()[0], m)
        inst = tmpl.iloc[np.tile(np.arange(m), k)].assign(
            trip=np.repeat(np.arange(next_code, next_code + k), m),
            arr=np.tile(tmpl["arr"].to_numpy(), k) + shift, dep=np.tile(tmpl["dep"].to_numpy(), k) + shift,
            label=np.repeat(np.array([f"{trip_ids[t]}@{format_clock(int(d))}" for d in departures], dtype=object), m),
        )
        parts.append(inst)
        next_code += k
    return pd.concat(parts, ignore_index=True).sort_values(["trip", "seq"], kind="stable").reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class DayEvents:
    """Stop events of the trips running around one service day, times relative to that day.

    Trips of the previous service day appear with times minus 24 h (their after-midnight part),
    trips of the next day with times plus 24 h, so a window such as 23:30-25:30 is complete.
    """

    trip: np.ndarray  # int trip-instance id, events contiguous per instance and in stop order
    stop: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    trip_index: np.ndarray  # per instance: index into StopTimes trips
    trip_day: np.ndarray  # per instance: -1, 0 or +1 service-day offset

    def __len__(self) -> int:
        return len(self.trip)


def day_events(
    stop_times: StopTimes,
    trip_service: np.ndarray,
    calendar: Calendar,
    day: dt.date,
    t_lo: int,
    t_hi: int,
) -> DayEvents:
    """Events of every trip instance running on ``day`` that has an event within [t_lo, t_hi].

    Parameters
    ----------
    stop_times : StopTimes
    trip_service : ndarray of str
        service_id of each StopTimes trip.
    calendar : Calendar
    day : date
        The service day the times are relative to.
    t_lo, t_hi : int
        Seconds after midnight of ``day``; whole trips are kept if any of their events falls inside.
    """
    st = stop_times
    t_first = st.dep[st.trip_first]
    t_last = st.arr[st.trip_end - 1]
    chunks = []
    for offset in (-1, 0, 1):
        active = calendar.active(day + dt.timedelta(days=offset))
        if not active:
            continue
        shift = offset * DAY_S
        runs = np.isin(trip_service, list(active)) & (t_last + shift >= t_lo) & (t_first + shift <= t_hi)
        for t in np.flatnonzero(runs):
            chunks.append((t, offset))
    if not chunks:
        empty_i = np.zeros(0, np.int64)
        return DayEvents(empty_i, empty_i, empty_i, empty_i, np.zeros(0, bool), np.zeros(0, bool), empty_i, empty_i)
    trip_index = np.array([c[0] for c in chunks], np.int64)
    trip_day = np.array([c[1] for c in chunks], np.int64)
    lengths = st.trip_end[trip_index] - st.trip_first[trip_index]
    inst = np.repeat(np.arange(len(chunks)), lengths)
    # Event indices of each chosen trip, concatenated (vectorised ranges).
    starts = np.repeat(st.trip_first[trip_index], lengths)
    within = np.arange(len(inst)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ev = starts + within
    shift = np.repeat(trip_day * DAY_S, lengths)
    return DayEvents(
        trip=inst.astype(np.int64),
        stop=st.stop[ev],
        arr=st.arr[ev] + shift,
        dep=st.dep[ev] + shift,
        pickup=st.pickup[ev],
        dropoff=st.dropoff[ev],
        trip_index=trip_index,
        trip_day=trip_day,
    )
