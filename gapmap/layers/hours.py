"""Opening hours and language: which services a person can actually use, and when.

A clinic 10 minutes away is no help to a farm worker who is free only on weekday evenings
or Sundays if it is closed then, or if nobody there speaks Spanish. :func:`filter_services`
keeps the services usable in an analysis window and/or language, so travel times and gaps
can be recomputed for, e.g., "Sunday" or "weekday 18:00-21:00" and Spanish.

Opening hours
-------------
Read from an OSM ``opening_hours`` column (:func:`parse_opening_hours`) or a weekly table
``service_id, day, open, close`` (:func:`read_hours_table`; the table wins when a service has
both). Supported OSM subset:

- ``24/7``; ``Mo-Fr 08:00-17:00; Sa 09:00-12:00``; day lists ``Mo,We,Fr``; ranges wrapping
  the week ``Fr-Mo``; several time ranges ``Mo-Fr 08:00-12:00,13:00-17:00``; days without
  times (``Sa``: open all day); ``off`` / ``closed`` days (``Mo-Sa 08:00-18:00; We off``).
- overnight ranges ``Mo-Su 22:00-06:00`` (and ``22:00-30:00``): the hours after midnight belong
  to the next morning, including Sunday night into Monday.
- rule semantics as in OSM: a rule after ``;`` replaces what earlier rules said for the days
  it names; a rule after ``,`` (additional rule, ``Mo-Fr 08:00-12:00, We 14:00-18:00``) adds.
- ``PH``/``SH`` (public / school holiday) rules are ignored with a note: the analysis is about
  an ordinary week. Quoted comments are ignored with a note.
- Anything else (months, dates, weeks, ``sunrise``, ``10:00+``, ``||``) raises a one-sentence
  :class:`~gapmap.errors.InputError` naming the service and the text.

Analysis windows (:func:`parse_window`)
---------------------------------------
``"any"``; a day part (``weekday``/``weekdays`` = Mo-Fr, ``weekend`` = Sa-Su, ``daily``,
day names ``Sunday`` / ``Sun`` / ``Su``, ranges ``Mo-Fr``, lists ``Sa,Su``) and/or a time
range (``18:00-21:00``, overnight allowed); a missing day part means every day, a missing time
range the whole day. The window is a set of day-slots, e.g. ``weekday 18:00-21:00`` is five
3-hour slots.

When a service counts as open in a window (:func:`open_during`)
---------------------------------------------------------------
Open for at least ``min_minutes`` (default 60) **contiguous** minutes inside at least one of
the window's day-slots, or for the whole slot when the slot is shorter than that. Rationale:
a visit needs about an hour (travel, waiting, appointment); a service open for the last 15
minutes of the window is not usable, and a worker free every weekday evening can go on
whichever evening it is open. With ``"any"`` a service counts when it is open at any time
of the week.

Missing data policies (:func:`filter_services`)
-----------------------------------------------
- no hours (no table row, empty ``opening_hours``): **kept and assumed open** (most services
  keep ordinary daytime hours; dropping them would empty the map), counted as
  ``hours_missing_assumed_open`` and flagged per row (``hours_assumed``); ``missing_hours=
  "drop"`` excludes them instead.
- no ``languages`` (``;``-separated ISO 639-1 codes, e.g. ``en;fr;es``): assumed to serve in
  ``default_languages`` (``("en",)``: Ontario services work in English), counted as
  ``languages_assumed`` and flagged per row. So a Spanish filter keeps only services
  known to offer Spanish.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from gapmap.errors import InputError

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_MIN = 1440
WEEK_MIN = 7 * DAY_MIN
DEFAULT_MIN_MINUTES = 60
FILTER_ATTR = "service_filter"
_EXAMPLE = "'Mo-Fr 08:00-17:00; Sa 09:00-12:00'"
_PH_NOTE = "public/school holiday rules (PH, SH) are ignored: the analysis is about an ordinary week"
_COMMENT_NOTE = "quoted comments in opening_hours are ignored"

_DAY_NAMES = {
    **{d.lower(): i for i, d in enumerate(DAYS)},
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}
_DAY_GROUPS = {"weekday": range(5), "weekdays": range(5), "weekend": range(5, 7), "weekends": range(5, 7),
               "daily": range(7), "everyday": range(7), "all": range(7)}


class _Unsupported(ValueError):
    """Internal: the reason a piece of opening_hours text cannot be read."""


# --------------------------------------------------------------------------- data model


def _merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted union of [start, end) minute intervals (touching ones joined)."""
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _wrap(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Intervals in minutes since Monday 00:00, folded into one week [0, 10080)."""
    out = []
    for a, b in intervals:
        if b - a >= WEEK_MIN:
            return [(0, WEEK_MIN)]
        a0 = a % WEEK_MIN
        b0 = a0 + (b - a)
        if b0 <= WEEK_MIN:
            out.append((a0, b0))
        else:  # Sunday night into Monday morning
            out += [(a0, WEEK_MIN), (0, b0 - WEEK_MIN)]
    return out


@dataclasses.dataclass(frozen=True)
class WeeklyHours:
    """Open intervals of an ordinary week, in minutes since Monday 00:00.

    Attributes
    ----------
    intervals : tuple of (start, end)
        Sorted, merged, within [0, 10080); Sunday-night opening continues at Monday 0.
    notes : tuple of str
        What was ignored while reading (holiday rules, comments).
    text : str
        The source text (for messages).
    """

    intervals: tuple[tuple[int, int], ...]
    notes: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def from_intervals(cls, intervals: Iterable[tuple[int, int]], notes: Sequence[str] = (), text: str = "") -> "WeeklyHours":
        return cls(_merge(_wrap(intervals)), tuple(dict.fromkeys(notes)), text)

    @property
    def always_open(self) -> bool:
        return self.intervals == ((0, WEEK_MIN),)

    @property
    def open_minutes_per_week(self) -> int:
        return sum(b - a for a, b in self.intervals)

    def longest_open(self, start: int, end: int) -> int:
        """Longest contiguous open stretch in minutes within [start, end) (start in [0, 10080))."""
        # Two weeks laid end to end so Sunday-night opening runs on into Monday contiguously.
        doubled = _merge(list(self.intervals) + [(a + WEEK_MIN, b + WEEK_MIN) for a, b in self.intervals])
        return max([min(end, b) - max(start, a) for a, b in doubled if a < end and b > start] or [0])

    def is_open_at(self, day: int, minute: int) -> bool:
        t = (day * DAY_MIN + minute) % WEEK_MIN
        return any(a <= t < b for a, b in self.intervals)


@dataclasses.dataclass(frozen=True)
class Window:
    """An analysis window: day-slots [start, end) in minutes since Monday 00:00.

    ``any`` windows have no slots and do not restrict hours.
    """

    slots: tuple[tuple[int, int], ...]
    label: str
    any: bool = False


# --------------------------------------------------------------------------- parsing helpers


def _time(text: str, *, allow_past_midnight: bool) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m:
        raise _Unsupported(f"time {text!r} is not HH:MM")
    h, mi = int(m.group(1)), int(m.group(2))
    limit = 48 if allow_past_midnight else 24
    if mi >= 60 or h > limit or (h == limit and mi > 0):
        raise _Unsupported(f"time {text!r} is out of range")
    return h * 60 + mi


def _span(text: str) -> tuple[int, int]:
    """``HH:MM-HH:MM`` -> (start, end) minutes from the day's midnight; end > start (overnight adds 24 h)."""
    if re.search(r"(sunrise|sunset|dawn|dusk)", text, re.I):
        raise _Unsupported("sunrise/sunset times are not supported")
    if text.endswith("+"):
        raise _Unsupported(f"open-ended time {text!r} is not supported")
    parts = text.split("-")
    if len(parts) != 2:
        raise _Unsupported(f"time range {text!r} is not HH:MM-HH:MM")
    a = _time(parts[0].strip(), allow_past_midnight=False)
    b = _time(parts[1].strip(), allow_past_midnight=True)
    if a >= DAY_MIN:
        raise _Unsupported(f"time range {text!r} starts at or after 24:00")
    if b == a:
        raise _Unsupported(f"time range {text!r} is empty (use 00:00-24:00 or 24/7 for all day)")
    if b < a:
        b += DAY_MIN
    if b - a > DAY_MIN:
        raise _Unsupported(f"time range {text!r} is longer than a day")
    return a, b


def _day(token: str) -> int:
    t = token.strip().lower()
    i = _DAY_NAMES.get(t, _DAY_NAMES.get(t[:-1]) if t.endswith("s") else None)  # "Sundays"
    if i is None:
        raise _Unsupported(f"{token!r} is not a day of the week")
    return i


def _day_range(token: str) -> list[int]:
    parts = token.split("-")
    if len(parts) == 1:
        return [_day(parts[0])]
    if len(parts) != 2:
        raise _Unsupported(f"day range {token!r} is not like Mo-Fr")
    a, b = _day(parts[0]), _day(parts[1])
    return [(a + k) % 7 for k in range((b - a) % 7 + 1)]  # Fr-Mo wraps over the weekend


_DAY_TOKEN = r"(?:Mo|Tu|We|Th|Fr|Sa|Su|PH|SH)"
_DAYSEL = re.compile(rf"^({_DAY_TOKEN}(?:-{_DAY_TOKEN})?(?:,{_DAY_TOKEN}(?:-{_DAY_TOKEN})?)*)(?=\s|$)\s*", re.I)
_UNSUPPORTED_SELECTOR = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|week|easter)\b|\b\d{4}\b|\[", re.I)


def _parse_rule(rule: str) -> tuple[list[int] | None, list[tuple[int, int]], bool]:
    """One rule -> (days or None for all days, spans, holiday_part).

    ``spans == []`` means closed on those days; ``days == []`` with ``holiday_part`` is a
    holiday-only rule (ignored by the caller); ``holiday_part`` says PH/SH was named.
    """
    if _UNSUPPORTED_SELECTOR.search(rule):
        raise _Unsupported("month, week, date and nth-weekday selectors are not supported")
    if re.search(r"(sunrise|sunset|dawn|dusk)", rule, re.I):
        raise _Unsupported("sunrise/sunset times are not supported")
    if rule.lower() == "24/7":
        return None, [(0, DAY_MIN)], False
    m = _DAYSEL.match(rule)
    days: list[int] | None = None
    holiday = False
    rest = rule
    if m:
        tokens = m.group(1).split(",")
        hol = [t for t in tokens if t.upper() in ("PH", "SH")]
        if any("-" in t and any(x.upper() in ("PH", "SH") for x in t.split("-")) for t in tokens):
            raise _Unsupported(f"day selector {m.group(1)!r} is not understood")
        days = sorted({d for t in tokens if t.upper() not in ("PH", "SH") for d in _day_range(t)})
        holiday = bool(hol)
        rest = rule[m.end():].strip()
    elif re.match(r"[A-Za-z]", rule) and not re.match(r"(24/7|off|closed|open)\b", rule, re.I):
        raise _Unsupported(f"{rule.split()[0]!r} is not a day selector (use Mo Tu We Th Fr Sa Su, ranges like Mo-Fr)")
    low = rest.lower()
    if low in ("off", "closed"):
        return days, [], holiday
    if low in ("", "open", "24/7"):
        if not m and low != "24/7":
            raise _Unsupported("empty rule")
        return days, [(0, DAY_MIN)], holiday
    if low.endswith((" off", " closed")):
        raise _Unsupported("time ranges marked off/closed are not supported (mark whole days off)")
    if low.endswith(" open"):
        rest = rest[:-5].strip()
    spans = [_span(s.strip()) for s in rest.split(",")]
    return days, spans, holiday


def parse_opening_hours(text: str, *, service: str | None = None) -> WeeklyHours:
    """Parse an OSM ``opening_hours`` value (supported subset: see the module docstring).

    Parameters
    ----------
    text : str
    service : str, optional
        Named in the error message (e.g. ``"'Chatham Clinic' (odhf-12)"``).

    Raises
    ------
    InputError
        One sentence naming the service, the text and the reason.
    """
    raw = "" if text is None else str(text)
    try:
        return _parse_opening_hours(raw)
    except _Unsupported as exc:
        who = f"Service {service}" if service else "A service"
        raise InputError(f"{who} has opening_hours {raw!r} that gapmap cannot read ({exc}); "
                         f"write it as a weekly schedule like {_EXAMPLE}.") from None


def _parse_opening_hours(raw: str) -> WeeklyHours:
    notes: list[str] = []
    s = raw.replace("\u2013", "-").replace("\u2014", "-").replace("\u2009", " ").strip()
    if "||" in s:
        raise _Unsupported("fallback rules (||) are not supported")
    if '"' in s:
        s = re.sub(r'"[^"]*"', "", s).strip()
        notes.append(_COMMENT_NOTE)
    s = re.sub(r"\s*-\s*", "-", re.sub(r"\s+", " ", s))
    if not s:
        raise _Unsupported("it is empty")
    # Additional-rule commas follow a time or off/closed and precede a day: "08:00-12:00, We 14:00-18:00".
    per_day: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for part in [p.strip() for p in s.split(";") if p.strip()]:
        rules = re.split(rf"(?:(?<=\d)|(?<=off)|(?<=closed)|(?<=open))\s*,\s*(?={_DAY_TOKEN}\b)", part, flags=re.I)
        for k, rule in enumerate(r.strip() for r in rules):
            days, spans, holiday = _parse_rule(rule)
            if holiday:
                notes.append(_PH_NOTE)
                if not days:  # "PH off": holiday-only rule
                    continue
            targets = range(7) if days is None else days
            for d in targets:
                # A ';' rule replaces the day's hours; a ',' (additional) rule adds to them.
                per_day[d] = (per_day[d] if k > 0 else []) + list(spans)
    intervals = [(d * DAY_MIN + a, d * DAY_MIN + b) for d, spans in per_day.items() for a, b in spans]
    return WeeklyHours.from_intervals(intervals, notes, raw)


def parse_window(text: str | Window | None) -> Window:
    """Parse an analysis window: ``"any"``, ``"weekday 18:00-21:00"``, ``"Sunday"``, ``"Sa 10:00-14:00"``.

    Raises
    ------
    InputError
        One sentence with examples when the text is not understood.
    """
    if isinstance(text, Window):
        return text
    raw = "" if text is None else str(text).strip()
    s = re.sub(r"\s*-\s*", "-", re.sub(r"\s+", " ", raw.replace("\u2013", "-"))).strip()
    if s.lower() in ("", "any", "anytime", "any time", "all"):
        return Window((), "any", any=True)
    try:
        m = re.fullmatch(r"(?:(?P<days>[A-Za-z][A-Za-z ,\-]*?))?\s*(?P<time>\d{1,2}:\d{2}-\d{1,2}:\d{2})?", s)
        if not m or not (m.group("days") or m.group("time")):
            raise _Unsupported(s)
        days: list[int] = list(range(7))
        if m.group("days"):
            tokens = [t for t in re.split(r"[ ,]+", m.group("days").strip().lower()) if t and t not in ("and", "every")]
            if tokens == ["every", "day"] or tokens == ["day"]:
                tokens = ["daily"]
            found: set[int] = set()
            for t in tokens:
                found.update(_DAY_GROUPS[t] if t in _DAY_GROUPS else _day_range(t))
            days = sorted(found)
        a, b = _span(m.group("time")) if m.group("time") else (0, DAY_MIN)
    except _Unsupported:
        raise InputError(f"Analysis window {raw!r} is not understood; write e.g. 'weekday 18:00-21:00', "
                         "'Sunday', 'Sa 10:00-14:00' or 'any'.") from None
    slots = tuple((d * DAY_MIN + a, d * DAY_MIN + b) for d in days)
    return Window(slots, s)


def open_during(hours: WeeklyHours, window: Window | str, min_minutes: float = DEFAULT_MIN_MINUTES) -> bool:
    """True when the service is usable in ``window`` (rule: see the module docstring).

    Open for ``min(min_minutes, slot length)`` contiguous minutes in at least one day-slot;
    for ``"any"``, open at some time of the week.
    """
    window = parse_window(window)
    if window.any:
        return bool(hours.intervals)
    for s, e in window.slots:
        need = min(float(min_minutes), e - s)
        if hours.longest_open(s, e) >= need:
            return True
    return False


# --------------------------------------------------------------------------- weekly table


def read_hours_table(table: pd.DataFrame | str | os.PathLike) -> dict[str, WeeklyHours]:
    """Weekly hours from a table ``service_id, day, open, close`` (CSV path or DataFrame).

    ``day`` is a day (``Mo``, ``Monday``, ``mon``) or range / list (``Mo-Fr``); ``open`` and
    ``close`` are ``HH:MM`` (``close`` before ``open`` runs past midnight; ``24:00`` allowed);
    a row with ``open`` = ``closed`` / ``off`` or blank times marks the day closed. Several rows
    per service and day add up (split shifts).

    Returns
    -------
    dict
        service_id (str) -> :class:`WeeklyHours`; services with only closed rows are closed all week.
    """
    if not isinstance(table, pd.DataFrame):
        from gapmap.sources import read_csv

        table = read_csv(Path(table), ["service_id", "day", "open", "close"], what="Opening-hours table")
    else:
        missing = [c for c in ("service_id", "day", "open", "close") if c not in table.columns]
        if missing:
            raise InputError(f"Opening-hours table lacks column(s) {', '.join(missing)}; it needs service_id, day, open, close.")
        table = table.copy()
        if "source_row" not in table.columns:
            table.insert(0, "source_row", np.arange(2, len(table) + 2))
    spans: dict[str, list[tuple[int, int]]] = {}
    for row in table.itertuples(index=False):
        sid = str(row.service_id).strip()
        day_txt = "" if pd.isna(row.day) else str(row.day).strip()
        o = "" if pd.isna(row.open) else str(row.open).strip()
        c = "" if pd.isna(row.close) else str(row.close).strip()
        try:
            days = sorted({d for t in re.split(r"\s*,\s*", re.sub(r"\s*-\s*", "-", day_txt)) for d in _day_range(t)})
            if o.lower() in ("", "closed", "off") and c.lower() in ("", "closed", "off"):
                spans.setdefault(sid, [])
                continue
            a, b = _span(f"{o}-{c}")
        except _Unsupported as exc:
            raise InputError(f"Opening-hours table row {row.source_row} (service {sid}: {day_txt} {o}-{c}) cannot be read "
                             f"({exc}); use a day like Mo or Monday and times like 08:00 and 17:00.") from None
        spans.setdefault(sid, []).extend((d * DAY_MIN + a, d * DAY_MIN + b) for d in days)
    return {sid: WeeklyHours.from_intervals(iv, text="table") for sid, iv in spans.items()}


# --------------------------------------------------------------------------- filtering


def _languages(value) -> list[str]:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", str(value))
    return [x.strip().lower() for x in items if str(x).strip()]


def _wanted_languages(language: str | Sequence[str]) -> list[str]:
    codes = _languages(language if not isinstance(language, str) else language)
    bad = [c for c in codes if not re.fullmatch(r"[a-z]{2}", c)]
    if not codes or bad:
        raise InputError(f"Language filter {language!r} is not ISO 639-1; use two-letter codes like 'es' or 'es;pt'.")
    return codes


def filter_services(services: pd.DataFrame, window: str | Window | None = None,
                    language: str | Sequence[str] | None = None, *,
                    hours_table: pd.DataFrame | str | os.PathLike | dict | None = None,
                    hours_column: str = "opening_hours", languages_column: str = "languages",
                    min_minutes: float = DEFAULT_MIN_MINUTES, missing_hours: str = "keep",
                    default_languages: Sequence[str] = ("en",)) -> pd.DataFrame:
    """The services usable in ``window`` and/or offering ``language``.

    Parameters
    ----------
    services : GeoDataFrame
        The services layer (``service_id``, ``name``; optional ``opening_hours``, ``languages``).
    window : str or Window, optional
        Analysis window (:func:`parse_window`); None or ``"any"``: no hours filter.
    language : str or list of str, optional
        ISO 639-1 code(s); a service offering any of them is kept.
    hours_table : DataFrame, path or dict, optional
        Weekly table (:func:`read_hours_table`) or its parsed dict; wins over ``hours_column``.
    min_minutes : float
        Contiguous open minutes needed in a window slot (default 60).
    missing_hours : {"keep", "drop"}
        Services without hours: kept and assumed open (default), or dropped.
    default_languages : sequence of str
        Languages assumed for services without ``languages`` data.

    Returns
    -------
    GeoDataFrame
        The kept rows in input order with ``hours_assumed`` (bool: no hours data, assumed open)
        and ``languages_assumed`` (bool) added. ``result.attrs["service_filter"]`` holds the
        counts: ``window, language, services_in, services_kept, closed_in_window,
        hours_missing_assumed_open, hours_missing_dropped, language_excluded,
        languages_assumed, notes``.

    Raises
    ------
    InputError
        Unparsable hours (naming the service and text), window or language code.
    """
    if missing_hours not in ("keep", "drop"):
        raise InputError(f"missing_hours must be 'keep' or 'drop', not {missing_hours!r}.")
    win = parse_window(window)
    ids = (services["service_id"] if "service_id" in services.columns else services.index.to_series()).astype(str).to_numpy()
    names = services["name"].astype(str).to_numpy() if "name" in services.columns else ids
    n = len(services)
    keep = np.ones(n, dtype=bool)
    hours_assumed = np.zeros(n, dtype=bool)
    langs_assumed = np.zeros(n, dtype=bool)
    stats = {"window": win.label, "language": None, "services_in": n, "closed_in_window": 0,
             "hours_missing_assumed_open": 0, "hours_missing_dropped": 0, "language_excluded": 0,
             "languages_assumed": 0, "notes": []}
    notes: list[str] = []

    if not win.any:
        table = hours_table if isinstance(hours_table, dict) or hours_table is None else read_hours_table(hours_table)
        table = table or {}
        col = services[hours_column].to_numpy(dtype=object) if hours_column in services.columns else np.full(n, None, dtype=object)
        for k in range(n):
            hours = table.get(ids[k])
            if hours is None:
                text = col[k]
                if text is None or pd.isna(text) or not str(text).strip():
                    hours_assumed[k] = missing_hours == "keep"
                    keep[k] = missing_hours == "keep"
                    stats["hours_missing_assumed_open" if missing_hours == "keep" else "hours_missing_dropped"] += 1
                    continue
                hours = parse_opening_hours(str(text), service=f"{names[k]!r} ({ids[k]})")
            notes.extend(hours.notes)
            if not open_during(hours, win, min_minutes):
                keep[k] = False
                stats["closed_in_window"] += 1

    if language is not None:
        wanted = set(_wanted_languages(language))
        stats["language"] = ";".join(sorted(wanted))
        default = [x.lower() for x in default_languages]
        col = services[languages_column].to_numpy(dtype=object) if languages_column in services.columns else np.full(n, None, dtype=object)
        for k in range(n):
            offered = _languages(col[k])
            if not offered:
                offered = default
                langs_assumed[k] = True
            if not wanted & set(offered):
                if keep[k]:
                    stats["language_excluded"] += 1
                keep[k] = False
        stats["languages_assumed"] = int(langs_assumed.sum())

    out = services.copy()
    out["hours_assumed"] = hours_assumed
    out["languages_assumed"] = langs_assumed
    out = out[keep]
    stats["services_kept"] = int(keep.sum())
    stats["notes"] = list(dict.fromkeys(notes))
    out.attrs[FILTER_ATTR] = stats
    return out


def missing_data_warnings(stats: dict) -> list[str]:
    """One warning line per filter that has no data behind it, from :func:`filter_services` counts.

    ``--when`` changes nothing when no service has opening hours (all are assumed open, or all
    dropped with ``missing_hours="drop"``); ``--language`` rests on the assumed default language
    alone when no service has language data.

    Parameters
    ----------
    stats : dict
        ``result.attrs["service_filter"]`` of :func:`filter_services`.

    Returns
    -------
    list of str
        Lines starting ``warning:``, saying how many services had no data and how to supply it;
        empty when every filter asked for has data behind it.
    """
    n = int(stats.get("services_in", 0))
    out: list[str] = []
    if not n:
        return out
    every = f"the {n} services has" if n > 1 else "the 1 service has"
    if stats.get("window") not in (None, "any"):
        no_hours = int(stats.get("hours_missing_assumed_open", 0)) + int(stats.get("hours_missing_dropped", 0))
        if no_hours == n:
            effect = ("so --when changes nothing (all are assumed open)" if stats.get("hours_missing_assumed_open")
                      else "so --when drops every service")
            out.append(f"warning: none of {every} opening hours, {effect}; supply --hours FILE (service_id, "
                       "opening_hours) or --assume-hours CATEGORY=HOURS (e.g. primary_care=\"Mo-Fr 09:00-17:00\").")
    if stats.get("language") and int(stats.get("languages_assumed", 0)) == n:
        kept = stats.get("services_kept")
        out.append(f"warning: none of {every} language data, so --language {stats['language']} rests on the "
                   f"assumed default (English only) for every service" + (f" ({kept} of {n} kept)" if kept is not None else "")
                   + "; supply a languages column (e.g. en;fr;es) in a --services FILE, or --osm-services for "
                   "OpenStreetMap language tags.")
    return out
