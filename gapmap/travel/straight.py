"""The straight-line approximation: the only place its formula is written.

minutes = straight-line distance (m, in the region's projected CRS) x circuity / speed (m/s) / 60.

Used when no road network or schedule is available; every result carries its label
(:func:`straight_line_label`) so the approximation is named wherever a number appears.
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gapmap.errors import InputError
from gapmap.settings import Settings

STRAIGHT_LINE = "straight-line approximation"
TT_COLUMNS = ["origin_id", "category", "service_id", "service_name", "distance_m", "minutes", "method"]


def method_label(mode: str, speed_kmh: float, circuity: float) -> str:
    """Method label with its parameters, e.g. ``straight-line approximation (drive 60 km/h, circuity 1.3)``."""
    return f"{STRAIGHT_LINE} ({mode} {speed_kmh:g} km/h, circuity {circuity:g})"


def straight_line_label(settings: Settings) -> str:
    """:func:`method_label` of the run's mode."""
    return method_label(settings.mode, settings.speeds_kmh[settings.mode], settings.circuity)


def travelled_m(distance_m: np.ndarray | float, circuity: float) -> np.ndarray | float:
    """Distance travelled for a straight-line ``distance_m``: the distance x circuity."""
    return distance_m * circuity


def straight_m(travelled: np.ndarray | float, circuity: float) -> np.ndarray | float:
    """The straight-line distance that ``travelled`` metres of road cover: the inverse of :func:`travelled_m`."""
    return travelled / circuity


def seconds(distance_m: np.ndarray | float, speed_ms: float, circuity: float) -> np.ndarray | float:
    """Straight-line seconds: ``distance_m`` x circuity / speed (m/s)."""
    return travelled_m(distance_m, circuity) / speed_ms


def reach_m(minutes: float, speed_ms: float, circuity: float) -> float:
    """The straight-line radius reachable in ``minutes``: the inverse of :func:`seconds`."""
    return minutes * 60.0 * speed_ms / circuity


def _coords(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()])


def straight_line_times(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, categories: Sequence[str],
                        settings: Settings) -> pd.DataFrame:
    """Nearest service per category by straight-line distance (k-d tree, vectorised).

    Parameters
    ----------
    origins : GeoDataFrame
        Points in a projected CRS (metres); the index is the origin id.
    services : GeoDataFrame
        Points in the same CRS with ``service_id, name, category``.
    """
    if origins.crs is None or not origins.crs.is_projected or origins.crs != services.crs:
        raise InputError("Origins and services must share a projected CRS (metres); reproject them (gdf.to_crs).")
    xy = _coords(origins)
    speed = settings.speed_ms()
    frames = []
    for cat in categories:
        svc = services[services["category"] == cat].sort_values("service_id")
        if svc.empty or len(origins) == 0:
            continue
        # Ties go to the lowest service_id (sorted above), so results do not depend on row order.
        dist, idx = cKDTree(_coords(svc)).query(xy, k=1)
        travelled = travelled_m(dist, settings.circuity)
        frames.append(pd.DataFrame({
            "origin_id": origins.index.astype(str),
            "category": cat,
            "service_id": svc["service_id"].to_numpy()[idx],
            "service_name": svc["name"].to_numpy()[idx],
            "distance_m": travelled,
            "minutes": seconds(dist, speed, settings.circuity) / 60.0,
            "method": straight_line_label(settings),
        }))
    if not frames:
        return pd.DataFrame(columns=TT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TT_COLUMNS]


#: Above this many services per category, catchment disks are merged in chunks of this size.
BAND_CHUNK = 20_000


def _disk_union(pts: gpd.GeoSeries, radius: float, clip_geom) -> "shapely.Geometry":
    """Union of disks around many points in bounded memory: disks that cannot reach the clip
    area are skipped and the rest merged a chunk at a time (a million disks at once need GBs)."""
    import shapely

    if clip_geom is not None:
        pts = pts[pts.distance(clip_geom) <= radius]
    merged = []
    for a in range(0, len(pts), BAND_CHUNK):
        merged.append(pts.iloc[a:a + BAND_CHUNK].buffer(radius, quad_segs=32).union_all())
    return shapely.union_all(merged) if merged else shapely.Polygon()


def straight_line_bands(services: gpd.GeoDataFrame, categories: Sequence[str], settings: Settings,
                        clip_to: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Catchment polygons: the area within each threshold of a service, straight-line method.

    Radius = threshold x speed / circuity. Nested thresholds give nested polygons.
    """
    speed = settings.speed_ms()
    rows = []
    clip_geom = clip_to.union_all() if clip_to is not None else None
    for cat in categories:
        pts = services[services["category"] == cat].geometry
        for t in sorted(settings.thresholds_min):
            radius = reach_m(t, speed, settings.circuity)
            geom = _disk_union(pts, radius, clip_geom) if len(pts) > BAND_CHUNK else pts.buffer(radius, quad_segs=32).union_all()
            if clip_geom is not None:
                geom = geom.intersection(clip_geom)
            rows.append({"category": cat, "threshold_min": float(t), "mode": settings.mode,
                         "method": straight_line_label(settings), "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["category", "threshold_min", "mode", "method", "geometry"],
                            geometry="geometry", crs=services.crs)


