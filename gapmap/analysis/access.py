"""Capacity-aware spatial accessibility: two-step floating catchment area (2SFCA) and E2SFCA.

Nearest-service minutes (:mod:`gapmap.travel`) say how far help is, not how much of it
there is for how many people. 2SFCA adds both: a clinic shared by 20,000 people within
reach gives each of them less access than the same clinic shared by 2,000.

Method (Luo & Wang 2003; enhanced with distance decay by Luo & Qi 2009)
----------------------------------------------------------------------
Step 1, per service ``j``: supply-to-demand ratio over the demand within reach,

    R_j = S_j / sum_i P_i W(t_ij)

Step 2, per origin ``i``: sum of the ratios of the services within reach,

    A_i = sum_j R_j W(t_ij)

``P_i`` is demand (people or workers), ``S_j`` supply (capacity), ``t_ij`` travel minutes.

- **2SFCA**: ``W = 1`` for ``t <= max_minutes`` (default 30, the headline threshold), else 0.
- **E2SFCA**: step weights per travel-time band, defaults from Luo & Qi (2009): bands
  ``(0-10], (10-20], (20-30]`` minutes weighted ``1.00, 0.68, 0.22`` (their "slow" Gaussian
  decay); beyond the last band ``W = 0``. Band upper bounds are inclusive, as in PySAL
  ``access.weights.step_fn``. These bands suit driving in a rural region; pass other
  ``bands`` / ``weights`` for walking or urban transit.

``A_i`` is supply per person; it is reported per 1,000 people (``access_per_1000``): for
supply = facilities, "facilities per 1,000 people within reach, shared with everyone else
who can reach them". A service with no demand within reach has ``R_j`` = NaN (undefined)
and adds nothing to any origin.

Supply defaults (:func:`supply_values`)
--------------------------------------
The explicit ``capacity`` column, else a ``capacity`` column, else ``beds`` (hospitals);
rows missing a value get the median of the known values of the same category (an unknown
hospital counts as a typical one); with no value at all supply is 1.0 per facility
(``DEFAULT_SUPPLY``), so the score becomes facilities per 1,000 people.

Travel-time matrix
------------------
All origin x service pairs within ``max_minutes`` as a long table ``origin_id, service_id,
distance_m, minutes, method`` (:func:`od_matrix_straight_line`: straight-line distance x
circuity / speed, k-d tree, vectorised). A road-network or transit matrix in the same
columns (``origin_id, service_id, minutes``) can be passed instead.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gapmap import geo
from gapmap.errors import InputError
from gapmap.settings import Settings
from gapmap.travel import straight

DEFAULT_MAX_MINUTES = 30.0
DEFAULT_BANDS_MIN: tuple[float, ...] = (10.0, 20.0, 30.0)
DEFAULT_BAND_WEIGHTS: tuple[float, ...] = (1.0, 0.68, 0.22)
DEFAULT_SUPPLY = 1.0
MATRIX_COLUMNS = ["origin_id", "service_id", "distance_m", "minutes", "method"]
ORIGIN_COLUMNS = ["origin_id", "demand", "services_reachable", "access", "access_per_1000"]
SERVICE_COLUMNS = ["service_id", "supply", "demand_reached", "ratio", "ratio_per_1000"]


@dataclasses.dataclass
class AccessResult:
    """Scores of one 2SFCA / E2SFCA run.

    Attributes
    ----------
    origins : DataFrame
        ``origin_id, demand, services_reachable`` (services with ``W > 0``), ``access`` (A_i,
        supply per person), ``access_per_1000``; one row per origin given, in input order.
    services : DataFrame
        ``service_id, supply, demand_reached`` (sum of P_i W_ij), ``ratio`` (R_j, supply per
        person; NaN when no demand is within reach), ``ratio_per_1000``; in input order.
    method : str
        ``2SFCA`` or ``E2SFCA`` with its parameters, for labels.
    params : dict
    """

    origins: pd.DataFrame
    services: pd.DataFrame
    method: str
    params: dict


# --------------------------------------------------------------------------- travel-time matrix


def od_matrix_straight_line(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, settings: Settings | None = None,
                            max_minutes: float | None = None, *, speed_kmh: float | None = None,
                            circuity: float | None = None, origin_id: str = "origin_id",
                            service_id: str = "service_id") -> pd.DataFrame:
    """All origin x service pairs within ``max_minutes``, straight-line approximation.

    minutes = straight-line metres x circuity / (speed_kmh / 3.6) / 60, as in
    :func:`gapmap.travel.straight_line_times`.

    Parameters
    ----------
    origins, services : GeoDataFrame
        Points in one projected CRS (metres). Ids from the ``origin_id`` / ``service_id``
        column when present, else the index (as str).
    settings : Settings, optional
        Supplies the mode's speed and the circuity (defaults: :class:`gapmap.settings.Settings`).
    max_minutes : float, optional
        Pairs farther than this are left out (inclusive); default the largest threshold of
        ``settings``.
    speed_kmh, circuity : float, optional
        Override ``settings``.

    Returns
    -------
    DataFrame
        ``origin_id, service_id, distance_m`` (straight line x circuity), ``minutes, method``;
        sorted by origin then service input order.
    """
    pairs = straight_pairs(origins, services, settings, max_minutes, speed_kmh=speed_kmh, circuity=circuity,
                           origin_id=origin_id, service_id=service_id)
    if pairs is None:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("distance_m", "minutes") else "str") for c in MATRIX_COLUMNS})
    order = np.lexsort((pairs.j, pairs.i))
    i, j, d, minutes = pairs.i[order], pairs.j[order], pairs.d[order], pairs.minutes[order]
    travelled = straight.travelled_m(d, pairs.circuity)
    return pd.DataFrame({
        "origin_id": pd.Series(pairs.o_ids[i], dtype="str"),
        "service_id": pd.Series(pairs.s_ids[j], dtype="str"),
        "distance_m": travelled,
        "minutes": minutes,
        "method": pd.Series([pairs.method] * len(i), dtype="str"),
    })


@dataclasses.dataclass
class StraightPairs:
    """Origin x service pairs within the cut-off, as positions (unsorted): what
    :func:`od_matrix_straight_line` publishes, before its sort and its table of ids."""

    i: np.ndarray  # origin positions
    j: np.ndarray  # service positions
    d: np.ndarray  # straight-line metres
    minutes: np.ndarray
    o_ids: np.ndarray
    s_ids: np.ndarray
    method: str
    circuity: float


def straight_pairs(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, settings: Settings | None = None,
                   max_minutes: float | None = None, *, speed_kmh: float | None = None, circuity: float | None = None,
                   origin_id: str = "origin_id", service_id: str = "service_id") -> StraightPairs | None:
    """The pairs of :func:`od_matrix_straight_line` as arrays (None when either side is empty).

    Siting needs only which pairs are within the threshold: at Ottawa's 8.6k demand points x
    H3 candidates the sorted table of string ids cost ~8 s of a 9 s recommendation.
    """
    settings = settings or Settings()
    if speed_kmh is None:
        if settings.mode not in settings.speeds_kmh:
            raise InputError(f"No speed for mode {settings.mode!r}; straight-line times need drive, bike or walk (or speed_kmh=).")
        speed_kmh = settings.speeds_kmh[settings.mode]
    circuity = settings.circuity if circuity is None else circuity
    max_minutes = max(settings.thresholds_min) if max_minutes is None else float(max_minutes)
    if speed_kmh <= 0 or circuity < 1 or max_minutes <= 0:
        raise InputError(f"Speed {speed_kmh} km/h, circuity {circuity} and max {max_minutes} min must be positive (circuity >= 1).")
    if origins.crs is None or not origins.crs.is_projected or origins.crs != services.crs:
        raise InputError("Origins and services must share a projected CRS (metres); reproject them (gdf.to_crs).")
    o_ids, s_ids = geo.ids_from_column(origins, origin_id, "Origins"), geo.ids_from_column(services, service_id, "Services")
    method = straight.method_label(settings.mode, speed_kmh, circuity)
    if len(o_ids) == 0 or len(s_ids) == 0:
        return None
    speed_ms = speed_kmh / 3.6
    radius = straight.reach_m(max_minutes, speed_ms, circuity)
    # Search slightly wider, then apply the exact minutes cut-off (no float edge effects at the radius).
    pairs = cKDTree(geo.point_xy(origins, "Origins")).sparse_distance_matrix(
        cKDTree(geo.point_xy(services, "Services")), radius * (1 + 1e-9) + 1e-6, output_type="ndarray")
    minutes = straight.seconds(pairs["v"], speed_ms, circuity) / 60.0
    keep = minutes <= max_minutes
    return StraightPairs(i=pairs["i"][keep], j=pairs["j"][keep], d=pairs["v"][keep], minutes=minutes[keep],
                         o_ids=o_ids, s_ids=s_ids, method=method, circuity=circuity)


# --------------------------------------------------------------------------- supply and weights


def supply_values(services: pd.DataFrame, capacity: str | None = None, *, default: float = DEFAULT_SUPPLY,
                  service_id: str = "service_id") -> pd.Series:
    """Supply per service (see the module docstring for the rule).

    Returns
    -------
    Series
        Float supply indexed by service id (str); ``attrs["supply_note"]`` says which column
        was used and how many values were filled.
    """
    ids = geo.ids_from_column(services, service_id, "Services")
    col = capacity if capacity is not None else next((c for c in ("capacity", "beds") if c in services.columns), None)
    if capacity is not None and capacity not in services.columns:
        raise InputError(f"Services have no capacity column {capacity!r}; name an existing column or leave it out (1 per facility).")
    if col is None:
        out = pd.Series(default, index=pd.Index(ids, name="service_id"), dtype=float, name="supply")
        out.attrs["supply_note"] = f"no capacity column: supply = {default:g} per facility"
        return out
    vals = pd.to_numeric(services[col], errors="coerce").astype(float)
    if (vals < 0).any():
        bad = ids[(vals < 0).to_numpy()][0]
        raise InputError(f"Service {bad} has a negative {col}; capacities must be >= 0.")
    missing = vals.isna()
    if missing.any():
        groups = services["category"] if "category" in services.columns else pd.Series("all", index=services.index)
        fill = vals.groupby(groups.to_numpy()).transform("median")
        vals = vals.fillna(fill).fillna(default)
    out = pd.Series(vals.to_numpy(), index=pd.Index(ids, name="service_id"), name="supply")
    out.attrs["supply_note"] = (f"supply = {col}; {int(missing.sum())} of {len(out)} services had none and got their "
                                f"category's median (or {default:g})")
    return out


def band_weights(minutes: np.ndarray | pd.Series, bands: Sequence[float] = DEFAULT_BANDS_MIN,
                 weights: Sequence[float] = DEFAULT_BAND_WEIGHTS) -> np.ndarray:
    """Step distance-decay weight of each travel time (upper bounds inclusive; 0 beyond the last band)."""
    bands, weights = np.asarray(bands, dtype=float), np.asarray(weights, dtype=float)
    if len(bands) == 0 or len(bands) != len(weights) or np.any(np.diff(bands) <= 0) or np.any(weights < 0):
        raise InputError(f"Bands {tuple(bands)} and weights {tuple(weights)} must be the same length, bands increasing "
                         "and weights >= 0.")
    t = np.asarray(minutes, dtype=float)
    k = np.searchsorted(bands, t, side="left")  # first band whose upper bound >= t
    return np.where(k < len(bands), np.append(weights, 0.0)[np.minimum(k, len(bands))], 0.0)


# --------------------------------------------------------------------------- 2SFCA core


def _as_series(values, what: str, index_name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        raise InputError(f"{what} must be a Series indexed by id, not a DataFrame; select the value column.")
    s = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values
    s = pd.to_numeric(s, errors="coerce").astype(float).fillna(0.0)
    s.index = s.index.astype(str)
    if s.index.has_duplicates:
        raise InputError(f"{what} has duplicate id {s.index[s.index.duplicated()][0]!r}; ids must be unique.")
    if (s < 0).any():
        raise InputError(f"{what} has a negative value at {s.index[(s < 0).to_numpy()][0]!r}; values must be >= 0.")
    s.index.name = index_name
    return s


def _fca(matrix: pd.DataFrame, demand, supply, weight: np.ndarray, method: str, params: dict) -> AccessResult:
    demand = _as_series(demand, "Demand", "origin_id")
    supply = _as_series(supply, "Supply", "service_id")
    o_pos = pd.Index(demand.index).get_indexer(matrix["origin_id"].astype(str))
    s_pos = pd.Index(supply.index).get_indexer(matrix["service_id"].astype(str))
    # Pairs whose origin or service is not analysed (other category, outside the region) drop out.
    ok = (o_pos >= 0) & (s_pos >= 0) & (weight > 0)
    o_pos, s_pos, w = o_pos[ok], s_pos[ok], weight[ok]
    P, S = demand.to_numpy(), supply.to_numpy()
    reached = np.bincount(s_pos, weights=P[o_pos] * w, minlength=len(S))
    ratio = np.divide(S, reached, out=np.full(len(S), np.nan), where=reached > 0)
    access = np.bincount(o_pos, weights=np.nan_to_num(ratio, nan=0.0)[s_pos] * w, minlength=len(P))
    n_reach = np.bincount(o_pos, minlength=len(P))
    origins = pd.DataFrame({"origin_id": pd.Series(demand.index, dtype="str"), "demand": P, "services_reachable": n_reach,
                            "access": access, "access_per_1000": access * 1000.0})
    services = pd.DataFrame({"service_id": pd.Series(supply.index, dtype="str"), "supply": S, "demand_reached": reached,
                             "ratio": ratio, "ratio_per_1000": ratio * 1000.0})
    return AccessResult(origins=origins, services=services, method=method, params=params)


def e2sfca_straight_line(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, demand, supply, *, speed_kmh: float,
                         circuity: float, bands: Sequence[float] = DEFAULT_BANDS_MIN,
                         weights: Sequence[float] = DEFAULT_BAND_WEIGHTS, max_pairs: int = 2_000_000) -> np.ndarray:
    """E2SFCA access per 1000 of each origin on straight-line times, in bounded memory.

    The same numbers as :func:`od_matrix_straight_line` followed by :func:`e2sfca` (the sums
    run in the same order), without the matrix: pairs are found for blocks of origins, at
    most about ``max_pairs`` at a time, and never become a table of id strings. A region
    with a million services thus needs tens of MB here, not tens of GB.

    Parameters
    ----------
    origins, services : GeoDataFrame
        Points in one projected CRS (metres), in the order of ``demand`` and ``supply``.
    demand, supply : Series
        Per origin and per service (NaN -> 0), as for :func:`e2sfca`.
    """
    demand = _as_series(demand, "Demand", "origin_id")
    supply = _as_series(supply, "Supply", "service_id")
    if len(demand) != len(origins) or len(supply) != len(services):
        raise InputError("Demand and supply must align with origins and services (one value per point, same order).")
    band_weights(np.zeros(1), bands, weights)  # validate bands and weights once
    P, S = demand.to_numpy(), supply.to_numpy()
    if len(P) == 0 or len(S) == 0:
        return np.zeros(len(P))
    speed_ms = speed_kmh / 3.6
    max_minutes = float(max(bands))
    radius = straight.reach_m(max_minutes, speed_ms, circuity)
    o_xy, s_tree = geo.point_xy(origins, "Origins"), cKDTree(geo.point_xy(services, "Services"))
    step = max(1, int(max_pairs // max(len(S), 1)))

    def blocks():
        for a in range(0, len(P), step):
            pairs = cKDTree(o_xy[a:a + step]).sparse_distance_matrix(s_tree, radius * (1 + 1e-9) + 1e-6,
                                                                     output_type="ndarray")
            order = np.lexsort((pairs["j"], pairs["i"]))
            i, j, d = pairs["i"][order], pairs["j"][order], pairs["v"][order]
            minutes = straight.seconds(d, speed_ms, circuity) / 60.0
            w = band_weights(minutes, bands, weights)
            ok = (minutes <= max_minutes) & (w > 0)
            yield a, min(a + step, len(P)), i[ok], j[ok], w[ok]

    reached = np.zeros(len(S))
    for a, _, i, j, w in blocks():
        np.add.at(reached, j, P[a + i] * w)  # in pair order, as one bincount over all pairs would
    ratio = np.nan_to_num(np.divide(S, reached, out=np.full(len(S), np.nan), where=reached > 0), nan=0.0)
    access = np.zeros(len(P))
    for a, b, i, j, w in blocks():
        access[a:b] = np.bincount(i, weights=ratio[j] * w, minlength=b - a)
    return access * 1000.0


def _check_matrix(matrix: pd.DataFrame) -> None:
    missing = [c for c in ("origin_id", "service_id", "minutes") if c not in matrix.columns]
    if missing:
        raise InputError(f"Travel-time matrix lacks column(s) {', '.join(missing)}; it needs origin_id, service_id, minutes.")


def two_sfca(matrix: pd.DataFrame, demand: pd.Series, supply: pd.Series, *,
             max_minutes: float = DEFAULT_MAX_MINUTES) -> AccessResult:
    """Classic 2SFCA: every pair within ``max_minutes`` (inclusive) counts fully.

    Parameters
    ----------
    matrix : DataFrame
        ``origin_id, service_id, minutes`` (e.g. :func:`od_matrix_straight_line`).
    demand : Series
        People or workers per origin, indexed by origin id (NaN -> 0).
    supply : Series
        Capacity per service, indexed by service id (e.g. :func:`supply_values`).
    """
    _check_matrix(matrix)
    t = matrix["minutes"].to_numpy(dtype=float)
    w = np.where(np.nan_to_num(t, nan=np.inf) <= max_minutes, 1.0, 0.0)
    return _fca(matrix, demand, supply, w, f"2SFCA (catchment {max_minutes:g} min)", {"max_minutes": max_minutes})


def e2sfca(matrix: pd.DataFrame, demand: pd.Series, supply: pd.Series, *,
           bands: Sequence[float] = DEFAULT_BANDS_MIN, weights: Sequence[float] = DEFAULT_BAND_WEIGHTS) -> AccessResult:
    """Enhanced 2SFCA (Luo & Qi 2009): step distance-decay weights per travel-time band in both steps."""
    _check_matrix(matrix)
    w = band_weights(matrix["minutes"].to_numpy(dtype=float), bands, weights)
    label = ", ".join(f"<={b:g} min: {x:g}" for b, x in zip(bands, weights))
    return _fca(matrix, demand, supply, w, f"E2SFCA ({label})", {"bands": tuple(bands), "weights": tuple(weights)})


def accessibility(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, demand: str, *,
                  method: str = "e2sfca", category: str | None = None, settings: Settings | None = None,
                  matrix: pd.DataFrame | None = None, capacity: str | None = None,
                  max_minutes: float | None = None, bands: Sequence[float] = DEFAULT_BANDS_MIN,
                  weights: Sequence[float] = DEFAULT_BAND_WEIGHTS) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, AccessResult]:
    """2SFCA / E2SFCA from layers: the convenience entry point for the pipeline.

    Parameters
    ----------
    origins : GeoDataFrame
        Demand points (sites, DA points, raster cells); ids from ``origin_id`` or the index.
    services : GeoDataFrame
        The services layer; filtered to ``category`` when given.
    demand : str
        Demand column of ``origins`` (``workers``, ``pop2021``, ``people``).
    method : {"e2sfca", "2sfca"}
    matrix : DataFrame, optional
        Precomputed ``origin_id, service_id, minutes`` (road network, transit); straight-line
        approximation from ``settings`` otherwise.
    max_minutes : float, optional
        2SFCA catchment (default 30 min); E2SFCA uses the last band.

    Returns
    -------
    (origins, services, result)
        The two layers with the :data:`ORIGIN_COLUMNS` / :data:`SERVICE_COLUMNS` scores joined
        (geometry kept), and the raw :class:`AccessResult`.
    """
    if method not in ("2sfca", "e2sfca"):
        raise InputError(f"Unknown accessibility method {method!r}; use 2sfca or e2sfca.")
    if demand not in origins.columns:
        raise InputError(f"Origins have no demand column {demand!r}; use one of {', '.join(map(str, origins.columns))}.")
    if category is not None:
        services = services[services["category"] == category]
        if services.empty:
            raise InputError(f"No services of category {category!r}; choose a category present in the services layer.")
    reach = (max_minutes or DEFAULT_MAX_MINUTES) if method == "2sfca" else float(max(bands))
    if matrix is None:
        matrix = od_matrix_straight_line(origins, services, settings, reach)
    o_ids = geo.ids_from_column(origins, "origin_id", "Origins")
    geo.ids_from_column(services, "service_id", "Services")  # duplicate service ids are an error, not a silent merge
    dem = pd.Series(pd.to_numeric(origins[demand], errors="coerce").to_numpy(dtype=float), index=o_ids)
    sup = supply_values(services, capacity)
    res = (two_sfca(matrix, dem, sup, max_minutes=reach) if method == "2sfca"
           else e2sfca(matrix, dem, sup, bands=bands, weights=weights))
    res.params["supply_note"] = sup.attrs.get("supply_note", "")
    o = origins.copy()
    for c in ORIGIN_COLUMNS[2:]:
        o[c] = res.origins[c].to_numpy()
    s = services.copy()
    for c in SERVICE_COLUMNS[1:]:
        s[c] = res.services[c].to_numpy()
    return o, s, res
