"""Shortest paths on a :class:`~gapmap.travel.road.network.RoadNetwork`: snapping, the augmented graph, nearest services.

Origins and services attach to the nearest point on the nearest road segment (:func:`snap`);
:func:`solve` splits the segments at those points, puts every service behind its off-road
leg and runs one multi-source Dijkstra per category over the reversed graph (scipy's compiled
``dijkstra``, ``min_only``). The off-road legs (a point to its road) are walked, or with
``leg_kmh`` travelled by the run's mode as the straight-line approximation (:func:`off_road_legs`):
a farm lane is driven, and a service past the roads the network holds (a hospital beyond the
edge of a city's road file) is reached across the unmapped roads, not on foot. On that: :func:`network_travel_times` (origin -> nearest service),
:func:`network_od_matrix` (all pairs within a bound, for 2SFCA), :func:`walk_time_function`
(walking legs of transit trips), :func:`network_travel_times_distributed` (one Dask task per
category) and :func:`node_travel_times`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Callable, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse.csgraph import dijkstra

from gapmap import geo
from gapmap.travel.road import graph as _graph
from gapmap.travel.road.network import ACCESS_SPEED_KMH, SNAP_LIMIT_M, RoadNetwork
from gapmap.errors import InputError




@dataclasses.dataclass
class Snap:
    """Where each point attaches to the road: segment row, fraction along it, off-road metres, attachment point."""

    seg: np.ndarray  # segment row, -1 where the geometry is missing
    frac: np.ndarray  # position along the segment, 0..1 of its length
    dist: np.ndarray  # off-road distance, m (NaN where missing)
    xy: np.ndarray  # attachment point


_SNAP_LOCK = threading.Lock()


class _SnapMemo:
    """Snaps of points already placed on one network, keyed by their exact coordinates.

    A point's snap depends on its coordinates and the network only (each point is its own
    STRtree search), so a memo hit gives the bytes a fresh search would. Kept on the network
    (``RoadNetwork._snap_memo``): the origins and services of an analysis are snapped once
    per network, not once per call (travel times, isochrones, node times, repeated runs).
    """

    #: A call that would take the memo past this many points starts it afresh (~60 B a point).
    max_points = 2_000_000

    def __init__(self) -> None:
        self.index = pd.Index(np.empty(0, dtype=np.complex128))
        self.seg = np.empty(0, dtype=np.int64)
        self.frac = np.empty(0)
        self.dist = np.empty(0)
        self.xy = np.empty((0, 2))

    def find(self, key: np.ndarray) -> np.ndarray:
        """Memo rows of ``key`` (``x + 1j * y``), -1 where not yet seen."""
        return self.index.get_indexer(key) if len(self.index) else np.full(len(key), -1, dtype=np.intp)

    def add(self, key: np.ndarray, seg: np.ndarray, frac: np.ndarray, dist: np.ndarray, xy: np.ndarray) -> None:
        """Append unique, unseen keys and their snaps."""
        self.index = self.index.append(pd.Index(key))
        self.seg = np.concatenate([self.seg, seg])
        self.frac = np.concatenate([self.frac, frac])
        self.dist = np.concatenate([self.dist, dist])
        self.xy = np.concatenate([self.xy, xy])


def _snap_points(net: RoadNetwork, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest segment, fraction along it, off-road metres and attachment point of non-empty points."""
    (i, j), _ = net.segment_tree.query_nearest(pts, return_distance=True, all_matches=False)
    lines = net.segment_geoms[j]
    f = shapely.line_locate_point(lines, pts[i], normalized=True)
    f = np.clip(np.nan_to_num(f), 0.0, 1.0)  # NaN for zero-length segments
    on_road = shapely.line_interpolate_point(lines, f, normalized=True)
    seg, frac, dist, xy = np.full(len(pts), -1, dtype=np.int64), np.zeros(len(pts)), np.full(len(pts), np.nan), np.full((len(pts), 2), np.nan)
    seg[i], frac[i] = j, f
    dist[i] = shapely.distance(pts[i], on_road)
    xy[i] = shapely.get_coordinates(on_road)
    return seg, frac, dist, xy


def _snap(net: RoadNetwork, geoms: np.ndarray) -> Snap:
    n = len(geoms)
    seg = np.full(n, -1, dtype=np.int64)
    frac = np.zeros(n)
    dist = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if ok.size == 0 or len(net.edges) == 0:
        return Snap(seg, frac, dist, xy)
    pts = geoms[ok]
    not_point = shapely.get_type_id(pts) != 0
    pts[not_point] = shapely.point_on_surface(pts[not_point])  # areas: a point inside them
    coords = shapely.get_coordinates(pts)
    if len(coords) != len(pts) or not np.isfinite(coords).all():  # an empty point_on_surface: no memo
        seg[ok], frac[ok], dist[ok], xy[ok] = _snap_points(net, pts)
        return Snap(seg, frac, dist, xy)
    key = np.ascontiguousarray(coords).view(np.complex128).ravel()
    with _SNAP_LOCK:  # threads share a network (Dask workers run one task per category)
        memo = net._snap_memo
        if memo is None or len(memo.index) + len(key) > _SnapMemo.max_points:
            memo = net._snap_memo = _SnapMemo()
        row = memo.find(key)
        miss = np.flatnonzero(row < 0)
        if miss.size:
            new, first, inverse = np.unique(key[miss], return_index=True, return_inverse=True)
            memo.add(new, *_snap_points(net, pts[miss[first]]))
            row[miss] = len(memo.index) - len(new) + inverse.ravel()
        seg[ok], frac[ok], dist[ok], xy[ok] = memo.seg[row], memo.frac[row], memo.dist[row], memo.xy[row]
    return Snap(seg, frac, dist, xy)


def snap(
    network: RoadNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, *, snap_limit_m: float = SNAP_LIMIT_M
) -> pd.DataFrame:
    """Where each point attaches to the road network (nearest point on the nearest segment).

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``edge`` (row of ``network.edges``, -1 if the geometry is
        missing), ``fraction`` (0..1 along the segment from ``u``), ``x``, ``y`` (attachment
        point), ``snap_m`` (off-road distance) and ``snap_flag`` (``snap_m > snap_limit_m``
        or missing geometry).
    """
    net = network.to_crs(points.crs) if points.crs is not None else network
    s = _snap(net, points.geometry.to_numpy())
    return pd.DataFrame(
        {"edge": s.seg, "fraction": s.frac, "x": s.xy[:, 0], "y": s.xy[:, 1], "snap_m": s.dist,
         "snap_flag": ~(s.dist <= snap_limit_m)},
        index=points.index,
    )


@dataclasses.dataclass
class Augmented:
    """The road graph with every snapped point as an extra node and every service as a node
    behind its access leg. Node numbering: road nodes ``[0, n)``, snapped points
    ``[n, n + p)``, services ``[n + p, n + p + s)``."""

    n: int
    p: int
    reverse: _graph.DirectedEdges  # edges point from service towards origin
    pieces: dict[str, np.ndarray]  # road pieces between consecutive nodes on each segment


def _augment(net: RoadNetwork, snap: Snap, service_point: np.ndarray, access_s: np.ndarray, access_m: np.ndarray) -> Augmented:
    """Split segments at the snapped points and attach services (all vectorised)."""
    n, p = net.n_nodes, len(snap.seg)
    a = net.segment_arrays
    u, v, t, tb, length = a["u"], a["v"], a["time_s"], a["time_back_s"], a["length_m"]
    on = np.flatnonzero(snap.seg >= 0)
    order = on[np.lexsort((snap.frac[on], snap.seg[on]))]  # stable: ties stay in point order (``on`` ascends)
    s, f, node = snap.seg[order], snap.frac[order], n + order
    first = np.r_[True, s[1:] != s[:-1]] if s.size else np.zeros(0, bool)
    last = np.r_[s[1:] != s[:-1], True] if s.size else np.zeros(0, bool)
    prev_node = np.where(first, u[s], np.r_[-1, node[:-1]])
    prev_f = np.where(first, 0.0, np.r_[0.0, f[:-1]])
    split = np.zeros(len(u), bool)
    split[s] = True
    whole = np.flatnonzero(~split)
    pieces = {
        "seg": np.concatenate([whole, s, s[last]]),
        "f0": np.concatenate([np.zeros(whole.size), prev_f, f[last]]),
        "f1": np.concatenate([np.ones(whole.size), f, np.ones(last.sum())]),
        "a": np.concatenate([u[whole], prev_node, node[last]]),
        "b": np.concatenate([v[whole], node, v[s[last]]]),
    }
    # Only pieces of split segments are new edges; whole segments are already in net._graph.
    new = slice(whole.size, None)
    ps, pa, pb = pieces["seg"][new], pieces["a"][new], pieces["b"][new]
    span = (pieces["f1"] - pieces["f0"])[new]
    two = ~np.isnan(tb[ps])
    # A point snapped onto a segment's end is at that node, whatever the one-way rule of
    # the segment: join them both ways at no cost (1 cm tolerance).
    at_start = f * length[s] <= 0.01
    at_end = (1.0 - f) * length[s] <= 0.01
    ends = np.concatenate([u[s[at_start]], v[s[at_end]]])
    ends_p = np.concatenate([node[at_start], node[at_end]])
    attach = np.isfinite(access_s)  # services that could not be placed get no edge
    svc_nodes = (n + p + np.arange(len(service_point)))[attach]
    service_point, access_s, access_m = service_point[attach], access_s[attach], access_m[attach]
    # New edges, reversed: (row, col) = (to, from) of each forward edge. Each touches a
    # snapped point or a service, so none repeats a road edge.
    zeros = np.zeros(2 * ends.size)
    rows = np.concatenate([pb, pa[two], svc_nodes, ends, ends_p])
    cols = np.concatenate([pa, pb[two], n + service_point, ends_p, ends])
    time = np.concatenate([span * t[ps], (span * tb[ps])[two], access_s, zeros])
    dist = np.concatenate([span * length[ps], (span * length[ps])[two], access_m, zeros])
    reverse = net.reverse_edges.extended(n + p + len(attach), rows, cols, time, dist)
    return Augmented(n=n, p=p, reverse=reverse, pieces=pieces)


def _augmented(net: RoadNetwork, snap: Snap, service_point: np.ndarray, access_s: np.ndarray, access_m: np.ndarray) -> Augmented:
    """:func:`_augment`, remembered for the last inputs on this network (``RoadNetwork._aug_memo``).

    The graph is a function of the snaps and the services' access legs only, so equal
    inputs give the same arrays; a run calls the router several times with the same origins
    and services (sweeps, uncertainty, isochrones), and building the graph was a quarter of
    such a call on Ottawa. Only the last graph is kept (its size is the network's).
    """
    key = (snap.seg, snap.frac, service_point, access_s, access_m)
    with _SNAP_LOCK:
        memo = net._aug_memo
        if memo is not None and all(a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                                    for a, b in zip(memo[0], key)):
            return memo[1]
    aug = _augment(net, snap, service_point, access_s, access_m)
    with _SNAP_LOCK:
        net._aug_memo = (tuple(np.array(a, copy=True) for a in key), aug)
    return aug


@dataclasses.dataclass
class Nearest:
    """Per category, for every node of the augmented graph: seconds and metres to the
    nearest service and that service's row (-1 if none is reachable)."""

    time: dict[str, np.ndarray]
    dist: dict[str, np.ndarray]
    service: dict[str, np.ndarray]


def prepare_services(services: gpd.GeoDataFrame, categories: Sequence[str], crs: Any) -> gpd.GeoDataFrame:
    """The services of ``categories`` with a geometry, in ``crs``; InputError without ``service_id`` / ``category``."""
    rows, geoms, _ = _service_rows(services, categories, crs)
    svc = services.iloc[rows].reset_index(drop=True)
    if _reprojects(services.crs, crs):
        svc = svc.set_crs(crs, allow_override=True)
    svc[svc.geometry.name] = geoms
    return svc


def _check_service_columns(services: gpd.GeoDataFrame) -> None:
    """InputError when ``services`` lacks ``service_id`` or ``category``."""
    missing = {"service_id", "category"} - set(services.columns)
    if missing:
        raise InputError(f"The services layer lacks column(s) {', '.join(sorted(missing))}; add them to the services file.")


def _service_rows(services: gpd.GeoDataFrame, categories: Sequence[str], crs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`prepare_services` as arrays: the kept rows of ``services``, their geometries in ``crs``, their categories.

    Arrays, not a GeoDataFrame: two boolean GeoDataFrame selections and a reprojection of
    every service were most of a small network's routing call. Points reproject one by one,
    so reprojecting the kept ones alone gives the same coordinates.
    """
    _check_service_columns(services)
    geoms = services.geometry.to_numpy()
    category = services["category"]
    wanted = set(categories)
    if len(services) <= 256:  # pandas' hashing isin costs ~0.1 ms of set-up: most of a small network's call
        in_cats = np.fromiter((c in wanted for c in category.to_numpy()), dtype=bool, count=len(services))
    else:
        in_cats = category.isin(list(wanted)).to_numpy(bool)
    keep = in_cats & ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    rows = np.flatnonzero(keep)
    geoms = geoms[rows]
    if _reprojects(services.crs, crs):
        geoms = gpd.GeoSeries(geoms, crs=services.crs).to_crs(crs).to_numpy()
    return rows, geoms, category.to_numpy()[rows]


def _reprojects(svc_crs: Any, crs: Any) -> bool:
    """Whether services in ``svc_crs`` need reprojecting to ``crs`` (both known and different)."""
    return crs is not None and svc_crs is not None and not (svc_crs is crs or pyproj.CRS.from_user_input(svc_crs).equals(crs))


def legs_by_mode(access_speed_kmh: float, leg_kmh: float | None, leg_circuity: float) -> bool:
    """Whether :func:`off_road_legs` travels the legs by the mode (faster than walking them)."""
    return leg_kmh is not None and leg_kmh / leg_circuity > access_speed_kmh


def off_road_legs(dist_m: np.ndarray, access_speed_kmh: float, leg_kmh: float | None,
                  leg_circuity: float) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of off-road legs of ``dist_m`` straight-line metres (infinite: not placed).

    Walked at ``access_speed_kmh`` in a straight line; with ``leg_kmh`` (the run's mode speed),
    the mode's straight-line approximation instead, ``dist_m x leg_circuity`` metres at
    ``leg_kmh``, where that is faster than walking (so never in walk mode). Driving a mode
    leg is what a run means: the lane of a farm, the car park of a hospital, and the roads past
    the edge of the network's data (Ottawa's RNF extract ends at the city limit; Kemptville's
    hospital lies 5 km beyond it) are driven, not walked.
    """
    if not legs_by_mode(access_speed_kmh, leg_kmh, leg_circuity):
        return dist_m / (access_speed_kmh / 3.6), dist_m
    metres = dist_m * leg_circuity
    return metres / (leg_kmh / 3.6), metres


def _nearest(net: RoadNetwork, aug: Augmented, categories: Sequence[str], svc_category: np.ndarray, with_dist: bool = True) -> Nearest:
    """One multi-source Dijkstra per category over the reversed augmented graph."""
    m = aug.reverse.n
    first_service = aug.n + aug.p
    csr = aug.reverse.csr("time")
    out = Nearest({}, {}, {})
    for cat in categories:  # one compiled pass per category, never per source
        src = first_service + np.flatnonzero(svc_category == cat)
        if src.size == 0:
            out.time[cat], out.dist[cat] = np.full(m, np.inf), np.full(m, np.nan)
            out.service[cat] = np.full(m, -1, dtype=np.int64)
            continue
        time, pred, nearest = dijkstra(csr, directed=True, indices=src, min_only=True, return_predecessors=True)
        out.time[cat] = time
        out.service[cat] = np.where(nearest >= 0, nearest.astype(np.int64) - first_service, -1)
        if with_dist:
            has = np.flatnonzero(pred >= 0)
            step = np.zeros(m)
            step[has] = aug.reverse.length[aug.reverse.lookup(pred[has], has)]
            dist = _graph.tree_sums(pred, step)
            out.dist[cat] = np.where(np.isfinite(time), dist, np.nan)
    return out


def solve(net: RoadNetwork, extra_geoms: np.ndarray, svc: gpd.GeoDataFrame, categories: Sequence[str], access_speed_kmh: float,
          with_dist: bool = True, *, leg_kmh: float | None = None, leg_circuity: float = 1.0) -> tuple[Snap, Augmented, Nearest]:
    """Snap ``extra_geoms`` (origins) and the services, build the graph, run the passes.

    Returns
    -------
    snap, augmented, nearest
        Where the origins then the services attach (:class:`Snap`), the graph with them
        (:class:`Augmented`), and per category the time, distance and service of the nearest
        service from every node (:class:`Nearest`; distances only when ``with_dist``). The
        services' off-road legs follow :func:`off_road_legs`.
    """
    return _solve(net, extra_geoms, svc.geometry.to_numpy(), svc["category"].to_numpy(), categories, access_speed_kmh, with_dist,
                  leg_kmh=leg_kmh, leg_circuity=leg_circuity)


def _solve(net: RoadNetwork, extra_geoms: np.ndarray, svc_geoms: np.ndarray, svc_category: np.ndarray, categories: Sequence[str],
           access_speed_kmh: float, with_dist: bool = True, *, leg_kmh: float | None = None,
           leg_circuity: float = 1.0) -> tuple[Snap, Augmented, Nearest]:
    """:func:`solve` on arrays: the services' geometries and categories."""
    if access_speed_kmh <= 0:
        raise InputError(f"Access speed {access_speed_kmh} km/h must be positive; fix the access speed setting.")
    k = len(extra_geoms)
    snap = _snap(net, np.concatenate([extra_geoms, svc_geoms]).astype(object))
    svc_point = np.arange(k, k + len(svc_geoms))
    svc_ok = snap.seg[svc_point] >= 0
    access_m = np.where(svc_ok, snap.dist[svc_point], np.inf)
    leg_s, leg_m = off_road_legs(access_m, access_speed_kmh, leg_kmh, leg_circuity)
    aug = _augmented(net, snap, svc_point, leg_s, leg_m)
    res = _nearest(net, aug, categories, svc_category, with_dist)
    return snap, aug, res


# --------------------------------------------------------------------------------------
# Public computations
# --------------------------------------------------------------------------------------


def _objects(reach: np.ndarray, values: np.ndarray, pick: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    """``values[pick]`` where reached, else None, as an object column (pandas 3 would
    otherwise infer its string dtype and turn None into NaN)."""
    with_none = np.append(np.asarray(values, dtype=object), None)
    return _column(with_none.take(np.where(reach, pick, len(values))), index)


def _column(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    """An object column on the table's shared index: one index object for all columns spares
    the DataFrame a union of indexes (two thirds of building a 17k-row table)."""
    return pd.Series(values, dtype=object, index=index, copy=False)


def network_travel_times(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    *,
    snap_limit_m: float = SNAP_LIMIT_M,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
    leg_kmh: float | None = None,
    leg_circuity: float = 1.0,
    leg_circuity_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Travel time and distance from every origin to its nearest service of each category.

    Parameters
    ----------
    network : RoadNetwork
        Reprojected to the origins' CRS when it differs.
    origins : GeoDataFrame
        Points (areas use a point inside them) in a projected CRS; the index is the origin
        id.
    services : GeoDataFrame
        Points with ``service_id``, ``name`` and ``category``; reprojected to the origins'
        CRS if needed.
    categories : sequence of str
        Categories to report; one row per origin and category, in this order.
    snap_limit_m : float
        Origins farther than this from every road get ``snap_flag=True`` (still timed); a
        service farther than this lies past the roads the network holds (``beyond_m``).
    access_speed_kmh : float
        Walking speed of the off-road legs of origins and services.
    leg_kmh, leg_circuity : float
        The off-road legs as the run's straight-line approximation instead (mode speed and
        circuity; :func:`off_road_legs`); ``leg_kmh=None`` walks them.
    leg_circuity_range : (float, float), optional
        Also give the times with every off-road leg at both ends of this circuity range
        (``minutes_lo``, ``minutes_hi``; the nearest service may change), for the bounds of
        :mod:`gapmap.analysis.uncertainty`. Equal to ``minutes`` where the legs are walked.

    Returns
    -------
    DataFrame
        ``origin_id`` (str), ``category``, ``service_id`` and ``service_name`` (None if no
        service is reachable), ``distance_m`` and ``minutes`` (NaN if unreachable; both
        include the off-road legs), ``method``, ``snap_m``, ``snap_flag``, ``beyond_m`` (the
        straight-line metres from the nearest service to the network's roads when it lies past
        them, else 0; NaN if unreachable) and, with ``leg_circuity_range``, ``minutes_lo`` and
        ``minutes_hi``.
    """
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    rows, svc_geoms, svc_category = _service_rows(services, categories, crs)
    snap, aug, res = _solve(net, origins.geometry.to_numpy(), svc_geoms, svc_category, categories, access_speed_kmh,
                            leg_kmh=leg_kmh, leg_circuity=leg_circuity)
    k, c = len(origins), len(categories)
    columns = ["origin_id", "category", "service_id", "service_name", "distance_m", "minutes", "method", "snap_m", "snap_flag",
               "beyond_m", *(["minutes_lo", "minutes_hi"] if leg_circuity_range is not None else [])]
    if c == 0 or k == 0:
        return pd.DataFrame({col: pd.Series(dtype=bool if col == "snap_flag" else object if col in ("origin_id", "category", "service_id", "service_name", "method") else float) for col in columns})
    # One table, origin-major (each origin's categories adjacent): (origin, category) arrays raveled.
    origin_node = aug.n + np.arange(k)
    access_m = snap.dist[:k]

    access_s, leg_m = off_road_legs(access_m, access_speed_kmh, leg_kmh, leg_circuity)

    def minutes_at(result: Nearest, origin_leg_s: np.ndarray) -> np.ndarray:
        return np.column_stack([result.time[cat][origin_node] for cat in categories]) + origin_leg_s[:, None]

    time = minutes_at(res, access_s)
    reach = np.isfinite(time) & (snap.seg[:k] >= 0)[:, None]
    row = np.column_stack([res.service[cat][origin_node] for cat in categories])
    dist = np.column_stack([res.dist[cat][origin_node] for cat in categories]) + leg_m[:, None]
    svc_ids = services["service_id"].take(rows).astype(str).to_numpy(dtype=object)
    svc_names = services["name" if "name" in services else "service_id"].take(rows).to_numpy(dtype=object)
    reach, row = reach.ravel(), row.ravel()
    svc_access = np.where(snap.seg[k:] >= 0, snap.dist[k:], np.inf)
    beyond = svc_access > snap_limit_m  # past the roads the network holds (also where a service could not be placed)
    pick = np.where(row >= 0, row, 0)
    index = pd.RangeIndex(k * c)
    out = {  # copy=False: the columns are fresh arrays; consolidating them was a third of the table's time
        "origin_id": _column(np.repeat(np.asarray(origins.index.astype(str), dtype=object), c), index),
        "category": _column(np.tile(np.array(list(categories), dtype=object), k), index),
        "service_id": _objects(reach, svc_ids, row, index),
        "service_name": _objects(reach, svc_names, row, index),
        "distance_m": np.where(reach, dist.ravel(), np.nan),
        "minutes": np.where(reach, time.ravel() / 60.0, np.nan),
        "method": pd.Series(net.method, index=index, dtype=object),  # pandas broadcasts the scalar; np.full(dtype=object) cast it per row (1.4 ms at 17.6k)
        "snap_m": np.repeat(access_m, c),
        "snap_flag": np.repeat(~(access_m <= snap_limit_m), c),
        "beyond_m": np.where(reach, np.where(beyond[pick], svc_access[pick], 0.0), np.nan) if len(svc_access) else np.full(k * c, np.nan),
    }
    if leg_circuity_range is not None:
        walked = not legs_by_mode(access_speed_kmh, leg_kmh, leg_circuity)
        for col, circ in (("minutes_lo", min(leg_circuity_range[0], leg_circuity)),
                          ("minutes_hi", max(leg_circuity_range[1], leg_circuity))):
            if walked or circ == leg_circuity:
                out[col] = out["minutes"]
                continue
            # The snaps are remembered: only the graph with the services' legs and the passes again.
            _, _, other = _solve(net, origins.geometry.to_numpy(), svc_geoms, svc_category, categories, access_speed_kmh,
                                 with_dist=False, leg_kmh=leg_kmh, leg_circuity=circ)
            out[col] = np.where(reach, minutes_at(other, off_road_legs(access_m, access_speed_kmh, leg_kmh, circ)[0]).ravel() / 60.0,
                                np.nan)
    return pd.DataFrame(out, index=index, copy=False)


def network_od_matrix(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    max_minutes: float,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
    leg_kmh: float | None = None,
    leg_circuity: float = 1.0,
    search_from: str = "services",
) -> pd.DataFrame:
    """Every origin-service pair within ``max_minutes`` on the road network (for 2SFCA and siting).

    Same snapping, graph and off-road legs as :func:`network_travel_times`; bounded Dijkstra
    searches in compiled calls (``limit`` = the bound): from every service over the reversed
    graph (``search_from="services"``, one call: memory services x nodes, fine for a region's
    services), or from every origin over the forward graph (``"origins"``, in blocks of rows:
    for many services and few origins, e.g. siting candidates and the demand not yet covered).

    Returns
    -------
    DataFrame
        ``origin_id, service_id, minutes, method``, sorted by origin then service.
    """
    if search_from not in ("services", "origins"):
        raise InputError(f"search_from = {search_from!r} must be 'services' or 'origins'.")
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    svc = prepare_services(services, sorted(services["category"].unique()), crs)
    k = len(origins)
    columns = ["origin_id", "service_id", "minutes", "method"]
    if k == 0 or svc.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "minutes" else object) for c in columns})
    snap, aug, _ = solve(net, origins.geometry.to_numpy(), svc, [], access_speed_kmh, with_dist=False, leg_kmh=leg_kmh,
                         leg_circuity=leg_circuity)
    limit = max_minutes * 60.0
    origin_access = off_road_legs(snap.dist[:k], access_speed_kmh, leg_kmh, leg_circuity)[0]
    sources = aug.n + aug.p + np.arange(len(svc))
    if search_from == "services":
        times = dijkstra(aug.reverse.csr("time"), directed=True, indices=sources, limit=limit)[:, aug.n + np.arange(k)]
        times = times + origin_access[None, :]
        times[:, snap.seg[:k] < 0] = np.inf  # origins that could not be placed on a road
        si, oi = np.nonzero(times <= limit)
        minutes = times[si, oi] / 60.0
    else:
        forward = aug.reverse.csr("time").transpose().tocsr()  # explicit zeros (joins at segment ends) are kept
        placed = np.flatnonzero(snap.seg[:k] >= 0)
        block = max(1, int(2e7 // max(aug.reverse.n, 1)))  # ~160 MB of float64 rows at a time
        parts = []
        for start in range(0, len(placed), block):
            rows = placed[start:start + block]
            t = dijkstra(forward, directed=True, indices=aug.n + rows, limit=limit)[:, sources] + origin_access[rows, None]
            r, c = np.nonzero(t <= limit)
            parts.append((rows[r], c, t[r, c]))
        oi, si, secs = (np.concatenate(a) for a in zip(*parts)) if parts else (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        minutes = secs / 60.0
    out = pd.DataFrame({
        "origin_id": pd.Series(np.asarray(origins.index.astype(str), dtype=object)[oi], dtype=object),
        "service_id": pd.Series(svc["service_id"].astype(str).to_numpy(dtype=object)[si], dtype=object),
        "minutes": minutes,
        "method": net.method,
    })
    return out.sort_values(["origin_id", "service_id"], kind="stable").reset_index(drop=True)


def walk_time_function(network: RoadNetwork, *, max_minutes: float = 30.0,
                       access_speed_kmh: float = ACCESS_SPEED_KMH) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A ``walk_time_fn`` for :func:`gapmap.travel.transit.schedule.transit_travel_times`: seconds on the network.

    The returned function takes two (n, 2) coordinate arrays in the network's CRS (pairs
    a[i] -> b[i]) and returns the walking time of each pair via :func:`network_od_matrix`
    (edge snapping, off-road legs), ``inf`` beyond ``max_minutes`` or off the network.
    """
    def seconds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(a) == 0:
            return np.zeros(0)
        ua, ia = np.unique(np.asarray(a, float), axis=0, return_inverse=True)
        ub, ib = np.unique(np.asarray(b, float), axis=0, return_inverse=True)
        origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(ua[:, 0], ua[:, 1]), crs=network.crs,
                                   index=[str(i) for i in range(len(ua))])
        targets = gpd.GeoDataFrame({"service_id": [str(j) for j in range(len(ub))], "category": "walk"},
                                   geometry=gpd.points_from_xy(ub[:, 0], ub[:, 1]), crs=network.crs)
        od = network_od_matrix(network, origins, targets, max_minutes=max_minutes, access_speed_kmh=access_speed_kmh)
        table = np.full((len(ua), len(ub)), np.inf)
        table[od["origin_id"].astype(int).to_numpy(), od["service_id"].astype(int).to_numpy()] = od["minutes"].to_numpy() * 60.0
        return table[ia.ravel(), ib.ravel()]

    return seconds


def network_travel_times_distributed(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    client: Any,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`network_travel_times` with one Dask task per category, the graph scattered once.

    Each category's multi-source search is independent of the others, so the split gives the
    same rows as the serial call (same ties, same order). Worth it for large networks (a
    province), where one category's pass takes seconds; for a county the scheduling costs more.

    Parameters
    ----------
    client : distributed.Client
        Any Dask client (a LocalCluster's, a remote scheduler's, or ``worker_client()`` inside a task).
    **kwargs
        Passed to :func:`network_travel_times` (``snap_limit_m``, ``access_speed_kmh``).
    """
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    net_future = client.scatter(net, broadcast=True, hash=False)
    futures = [
        client.submit(network_travel_times, net_future, origins, services[services["category"] == cat], [cat],
                      pure=False, key=f"gapmap-network-{cat}-{id(net)}", **kwargs)
        for cat in categories
    ]
    parts = client.gather(futures)
    k = len(origins)
    out = pd.concat(parts, ignore_index=True)
    if k and len(categories):
        # Category blocks -> each origin's categories adjacent, as the serial call returns them.
        out = out.iloc[np.arange(len(out)).reshape(len(categories), k).T.ravel()].reset_index(drop=True)
    return out


def node_travel_times(
    network: RoadNetwork,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    *,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
    distances: bool = True,
    leg_kmh: float | None = None,
    leg_circuity: float = 1.0,
) -> pd.DataFrame:
    """Time and distance from every network node to its nearest service of each category.

    Parameters
    ----------
    distances : bool
        False skips the road distances (``distance_m`` is then NaN): the distance pass
        along the shortest-path tree is about a quarter of a large network's call.
    leg_kmh, leg_circuity : float
        The services' off-road legs, as in :func:`network_travel_times`.

    Returns
    -------
    DataFrame
        One row per node and category (categories in blocks): ``node`` (index into
        ``network.node_xy``), ``node_id``, ``category``, ``service_id`` (None if
        unreachable), ``distance_m``, ``minutes`` (NaN if unreachable). Times include the
        service's off-road leg; the node itself is on the road.
    """
    crs = geo.metre_crs(services, "services")
    net = network.to_crs(crs) if crs is not None else network
    rows, svc_geoms, svc_category = _service_rows(services, categories, crs)
    _, aug, res = _solve(net, np.empty(0, dtype=object), svc_geoms, svc_category, categories, access_speed_kmh,
                         with_dist=distances, leg_kmh=leg_kmh, leg_circuity=leg_circuity)
    if not distances:
        res.dist = {cat: np.full(aug.reverse.n, np.nan) for cat in categories}
    n, c = net.n_nodes, len(categories)
    # One table, categories in blocks: per-category arrays concatenated.
    time = np.concatenate([res.time[cat][:n] for cat in categories]) if c else np.zeros(0)
    reach = np.isfinite(time)
    row = np.concatenate([res.service[cat][:n] for cat in categories]) if c else np.zeros(0, np.int64)
    dist = np.concatenate([res.dist[cat][:n] for cat in categories]) if c else np.zeros(0)
    svc_ids = services["service_id"].take(rows).astype(str).to_numpy(dtype=object)
    category = np.empty(n * c, dtype=object)
    for i, cat in enumerate(categories):
        category[i * n:(i + 1) * n] = cat
    index = pd.RangeIndex(n * c)
    return pd.DataFrame({  # copy=False: fresh arrays; consolidating the object columns cost ~0.1 s at 1M nodes
        "node": np.tile(np.arange(n), c),
        "node_id": np.tile(net.node_ids, c),
        "category": _column(category, index),
        "service_id": _objects(reach, svc_ids, row, index),
        "distance_m": np.where(reach, dist, np.nan),
        "minutes": np.where(reach, time / 60.0, np.nan),
    }, index=index, copy=False)
