"""How sure is each number: travel-time ranges per site, and lower / upper bounds of every gap count.

A site's travel time is a point estimate resting on two approximations, and each has a
range the data allow:

- **Location.** ESDC lists employers by community and postal code, so a site stands for an
  area, not a farm gate. ``Settings.location_radius_m`` gives, per ``geocode_precision``,
  how far the farm may be from the point used (defaults below). Moving a point by ``r``
  metres changes its straight-line distance to the nearest service by at most ``r`` (the
  distance to the nearest of a set of points is 1-Lipschitz), so for the straight-line
  method the distance range ``[max(d - r, 0), d + r]`` is exact, not a guess. On a road
  network the same ``r`` is converted to time at the mode speed x the highest circuity
  (documented approximation: the farm is ``r`` away along the roads of its area).
- **Method.** The straight-line approximation's circuity over ``Settings.circuity_range``
  and every speed scaled by ``Settings.speed_factor_range``; road networks over the same
  speed range (their speeds are assigned by road class or tag); transit over the departure
  window: the median departure is the point, the best is the median and the worst the 90th
  percentile (both already computed by the schedule scan).

``best <= point <= worst`` always. A site is **surely within** a threshold ``T`` when
``worst <= T``, **surely beyond** when ``best > T``, and **uncertain** otherwise; the
uncertain sites whose point estimate is on one side and whose range reaches the other are
the **knife-edge** sites. Every count of workers / sites beyond ``T`` gets a lower bound
(surely beyond) and an upper bound (not surely within). Widening any range never narrows a
bound (each bound is monotone in every range end).

Default ranges and their sources:

- ``circuity_range`` (1.2, 1.6): road / straight-line distance. 1.2-1.4 is the range reported
  for rural grid networks (Levinson & El-Geneidy 2009, *Regional Science and Urban
  Economics* 39; Ballou, Rahardja & Sakai 2002, *Transportation Research A* 36); Boscoe,
  Henry & Zdeb (2012, *The Professional Geographer* 64(2)) found a mean ratio of 1.42 for
  trips to hospitals across the United States, higher where water or sparse roads force
  detours, so the upper end is 1.6.
- ``speed_factor_range`` (0.85, 1.15): door-to-door speeds within 15 % of the assumed
  average (slower in towns, winter roads and at intersections; faster on highways).
- ``location_radius_m``: ``user coordinates`` 0; ``postal_code`` (an urban six-character
  code's own point) 500 m; ``community`` (a gazetteer point for the community an employer
  names) 5 km, the reach of a rural community's mailing addresses; ``post_office`` (a rural
  post office's point) 10 km, its rural delivery area; ``postal_area`` (FSA centroid) 25 km,
  as rural FSAs span tens of kilometres. Unknown precisions use the ``postal_area`` radius.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapmap.settings import Settings
from gapmap.travel import straight

STATUS_WITHIN, STATUS_BEYOND, STATUS_UNCERTAIN = "surely within", "surely beyond", "uncertain"


def location_radius(precision: pd.Series, settings: Settings) -> np.ndarray:
    """Metres a site may be from its point, by its ``geocode_precision`` (see module docstring)."""
    radii = settings.location_radius_m
    fallback = radii.get("postal_area", max(radii.values(), default=0.0))
    return precision.map(lambda p: radii.get(str(p), fallback)).to_numpy(dtype=float)


def time_ranges(tt: pd.DataFrame, radius_m: pd.Series, settings: Settings) -> pd.DataFrame:
    """Best and worst minutes per origin and category.

    Parameters
    ----------
    tt : DataFrame
        The long travel-time table of the run (``origin_id, category, distance_m, minutes,
        method`` and, for transit, ``minutes_p90``).
    radius_m : Series
        Location radius (m) per ``origin_id``; origins not in it have radius 0.
    settings : Settings
        The run's mode, speeds, circuity and uncertainty ranges.

    Returns
    -------
    DataFrame
        ``origin_id, category, minutes, minutes_best, minutes_worst``; unreachable origins
        (NaN minutes) are infinite in both bounds.
    """
    # A point setting outside its range widens the range: the point estimate always lies inside.
    c_lo, c_hi = min(settings.circuity_range[0], settings.circuity), max(settings.circuity_range[1], settings.circuity)
    f_lo, f_hi = min(settings.speed_factor_range[0], 1.0), max(settings.speed_factor_range[1], 1.0)
    r = radius_m.reindex(tt["origin_id"].astype(str)).fillna(0.0).to_numpy(dtype=float)
    minutes = tt["minutes"].astype(float).to_numpy()
    method = tt["method"].astype(str).to_numpy()
    if settings.mode == "transit":
        speed_ms = settings.speeds_kmh["walk"] / 3.6
        shift = straight.seconds(r, speed_ms, c_hi) / 60.0
        p90 = tt["minutes_p90"].astype(float).to_numpy() if "minutes_p90" in tt else minutes
        best = np.minimum(minutes, p90) - shift
        worst = np.maximum(minutes, p90) + shift
    else:
        speed_ms = settings.speed_ms()
        is_straight = np.char.startswith(method.astype(str), straight.STRAIGHT_LINE)
        # Straight line: the exact distance range, at the extreme circuities and speeds.
        d = straight.straight_m(tt["distance_m"].astype(float).to_numpy(), settings.circuity)
        best_sl = straight.seconds(np.maximum(d - r, 0.0), speed_ms * f_hi, c_lo) / 60.0
        worst_sl = straight.seconds(d + r, speed_ms * f_lo, c_hi) / 60.0
        # Road network: its times over the speed range, plus the location shift along roads.
        shift = straight.seconds(r, speed_ms, c_hi) / 60.0
        best_net, worst_net = minutes / f_hi - shift, minutes / f_lo + shift
        best = np.where(is_straight, best_sl, best_net)
        worst = np.where(is_straight, worst_sl, worst_net)
    unreachable = ~np.isfinite(minutes)
    best = np.where(unreachable, np.inf, np.clip(best, 0.0, None))
    worst = np.where(unreachable, np.inf, worst)
    # Point estimates lie inside their range by construction; guard the float edges.
    best = np.minimum(best, np.where(unreachable, np.inf, minutes))
    worst = np.maximum(worst, np.where(unreachable, np.inf, minutes))
    return pd.DataFrame({"origin_id": tt["origin_id"].astype(str).to_numpy(), "category": tt["category"].to_numpy(),
                         "minutes": minutes, "minutes_best": best, "minutes_worst": worst})


def status(best: np.ndarray, worst: np.ndarray, threshold: float) -> np.ndarray:
    """``surely within`` / ``surely beyond`` / ``uncertain`` per row for ``threshold`` minutes."""
    return np.where(worst <= threshold, STATUS_WITHIN, np.where(best > threshold, STATUS_BEYOND, STATUS_UNCERTAIN))


def attach(frame: pd.DataFrame, ids: pd.Series, ranges: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Add ``<cat>_min_best``, ``<cat>_min_worst`` and ``<cat>_<T>min_status`` columns to a wide table."""
    out = frame.copy()
    key = ids.astype(str).to_numpy()
    for cat in settings.categories:
        sub = ranges[ranges["category"] == cat].set_index("origin_id").reindex(key)
        best = sub["minutes_best"].fillna(np.inf).to_numpy(dtype=float)
        worst = sub["minutes_worst"].fillna(np.inf).to_numpy(dtype=float)
        out[f"{cat}_min_best"] = np.round(best, 1)
        out[f"{cat}_min_worst"] = np.round(worst, 1)
        for t in settings.thresholds_min:
            out[f"{cat}_{t:g}min_status"] = status(best, worst, t)
    return out


def bound_counts(sites: pd.DataFrame, population: pd.DataFrame, cat: str, t: float) -> dict[str, float]:
    """Lower / upper bounds of the sites, workers and people beyond ``t`` minutes of ``cat``.

    Lower = the surely beyond; upper = all not surely within. ``knife_edge`` counts the
    sites whose status is uncertain.
    """
    col = f"{cat}_{t:g}min_status"
    out: dict[str, float] = {}
    if col in sites:
        st = sites[col].to_numpy()
        w = sites["workers"].to_numpy(dtype=float)
        out.update({"sites_not_lower": int((st == STATUS_BEYOND).sum()), "sites_not_upper": int((st != STATUS_WITHIN).sum()),
                    "workers_not_lower": int(w[st == STATUS_BEYOND].sum()),
                    "workers_not_upper": int(w[st != STATUS_WITHIN].sum()),
                    "sites_knife_edge": int((st == STATUS_UNCERTAIN).sum())})
    if col in population:
        st = population[col].to_numpy()
        p = population["pop2021"].fillna(0).to_numpy(dtype=float)
        out.update({"pop_not_lower": float(p[st == STATUS_BEYOND].sum()), "pop_not_upper": float(p[st != STATUS_WITHIN].sum())})
    return out


def knife_edge(sites: pd.DataFrame, settings: Settings, category: str | None = None,
               threshold: float | None = None) -> pd.DataFrame:
    """The sites whose status flips inside the ranges, for the headline (or given) category and threshold."""
    cat = category or settings.headline_category
    t = settings.headline_threshold if threshold is None else threshold
    col = f"{cat}_{t:g}min_status"
    if col not in sites:
        return sites.iloc[0:0]
    return sites[sites[col] == STATUS_UNCERTAIN]
