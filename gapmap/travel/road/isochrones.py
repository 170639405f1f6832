"""Isochrones on a road network: the areas within a time of the nearest service of a category.

The road parts, whole or partial segments, from which a service is reachable within the
threshold, buffered by :data:`~gapmap.travel.road.network.ISOCHRONE_BUFFER_M` and unioned
(:func:`isochrones`); the search is :func:`gapmap.travel.road.routing.solve`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from gapmap import geo
from gapmap.travel.road import isochrones_fast
from gapmap.travel.road.network import ACCESS_SPEED_KMH, ISOCHRONE_BUFFER_M, RoadNetwork
from gapmap.travel.road.routing import prepare_services, solve


def isochrones(
    network: RoadNetwork,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    thresholds_min: Sequence[float],
    *,
    buffer_m: float = ISOCHRONE_BUFFER_M,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
    leg_kmh: float | None = None,
    leg_circuity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Areas within ``thresholds_min`` minutes of the nearest service, per category.

    Each polygon is the union of the road parts (whole segments, and the partial segment
    where the time runs out, cut at the remaining-time fraction) from which some service of
    the category is reachable in time, buffered by ``buffer_m``. One-way segments count only
    in their direction of travel. Rows with no reachable road have an empty polygon. The
    services' off-road legs follow :func:`gapmap.travel.road.routing.off_road_legs` (walked, or
    with ``leg_kmh`` the mode's straight-line approximation at ``leg_circuity``).

    Returns
    -------
    GeoDataFrame
        ``category``, ``threshold_min``, ``mode``, ``method``, ``geometry`` in the services'
        CRS, one row per category and threshold (ascending).
    """
    crs = geo.metre_crs(services, "services")
    net = network.to_crs(crs) if crs is not None else network
    svc = prepare_services(services, categories, crs)
    snap, aug, res = solve(net, np.empty(0, dtype=object), svc, categories, access_speed_kmh, with_dist=False,
                           leg_kmh=leg_kmh, leg_circuity=leg_circuity)
    a = net.segment_arrays
    pc = aug.pieces
    seg, f0, f1 = pc["seg"], pc["f0"], pc["f1"]
    span = f1 - f0
    t_fwd = span * a["time_s"][seg]
    t_back = span * a["time_back_s"][seg]  # NaN: one-way
    point_xy = np.concatenate([net.node_xy, snap.xy])  # augmented road nodes, services excluded
    thresholds = sorted(float(x) for x in thresholds_min)
    geoms = net.segment_geoms  # built here, not lazily by two threads at once

    parts = []
    for cat in categories:
        node_time = res.time[cat][: aug.n + aug.p]
        mine = []
        for thr in thresholds:
            part_seg, s0, s1, ends, touched = _reachable_parts(pc, t_fwd, t_back, node_time, thr * 60.0)
            # Reached nodes that no road part touches (e.g. a service at the start of a
            # one-way dead end) still count, as points.
            alone = (node_time <= thr * 60.0) & ~touched & np.isfinite(point_xy[:, 0])
            mine.append((part_seg, s0, s1, ends, np.flatnonzero(alone)))
        parts.append(mine)
    # GEOS releases the GIL: the unions run on threads (wall time, not CPU); the result does not depend
    # on the number of threads or on timing.
    polys = isochrones_fast.nested_polygons(geoms, point_xy, buffer_m, parts, workers=min(4, os.cpu_count() or 1))
    rows = [
        {"category": cat, "threshold_min": thr, "mode": net.mode, "method": net.method,
         "geometry": shapely.Polygon() if geom.is_empty else geom}
        for cat, mine in zip(categories, polys) for thr, geom in zip(thresholds, mine)
    ]
    return gpd.GeoDataFrame(rows, columns=["category", "threshold_min", "mode", "method", "geometry"], geometry="geometry", crs=net.crs)


def _reachable_parts(
    pc: dict[str, np.ndarray], t_fwd: np.ndarray, t_back: np.ndarray, node_time: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The parts of the road pieces from which the nearest service is within ``limit`` s.

    A traveller at fraction ``x`` of a piece ``a -> b`` either drives on to ``b``, taking
    ``(1 - x) * t_fwd + time(b)``, or (two-way pieces) back to ``a``, taking
    ``x * t_back + time(a)``. So the reachable set is ``[lo, 1]`` plus ``[0, hi]``.

    Returns
    -------
    seg, s0, s1 : ndarray
        Segment rows and the fractions of the segment's length where each part starts and
        ends (``s0 < s1``).
    ends : ndarray of int, shape (parts, 2)
        The (augmented) node at the start and at the end of each part, -1 where the part
        ends inside a piece.
    touched : ndarray of bool
        Nodes at the end of some part of positive length.
    """
    ta, tb = node_time[pc["a"]], node_time[pc["b"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.clip(np.where(t_fwd > 0, 1.0 - (limit - tb) / t_fwd, 0.0), 0.0, 1.0)
        hi = np.clip(np.where(t_back > 0, (limit - ta) / t_back, 1.0), 0.0, 1.0)
    fwd = tb <= limit
    back = (ta <= limit) & ~np.isnan(t_back)
    whole = fwd & back & (lo <= hi)  # the two reachable ends meet
    fwd, back = fwd & ~whole, back & ~whole
    span = pc["f1"] - pc["f0"]
    idx = np.concatenate([np.flatnonzero(whole), np.flatnonzero(fwd), np.flatnonzero(back)])
    x0 = np.concatenate([np.zeros(whole.sum()), lo[fwd], np.zeros(back.sum())])
    x1 = np.concatenate([np.ones(whole.sum()), np.ones(fwd.sum()), hi[back]])
    s0 = pc["f0"][idx] + x0 * span[idx]
    s1 = pc["f0"][idx] + x1 * span[idx]
    keep = s1 > s0
    ends = np.stack([np.where(x0 == 0, pc["a"][idx], -1), np.where(x1 == 1, pc["b"][idx], -1)], axis=1)
    touched = np.zeros(len(node_time), bool)
    touched[pc["b"][(whole | fwd) & (span > 0) & (lo < 1)]] = True
    touched[pc["a"][(whole | back) & (span > 0) & (hi > 0)]] = True
    return pc["seg"][idx[keep]], s0[keep], s1[keep], ends[keep], touched
