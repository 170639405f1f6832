"""Travel time from origins (sites, DA points) to the nearest service of each category.

Methods:

- ``straight-line approximation``: straight-line distance x circuity / mode speed, in the
  region's projected CRS. Used when no road network is available; labelled everywhere.
- road network and transit methods plug in through :func:`travel_times` (``network=`` /
  ``transit=``) and return the same long table.

The long table (one row per origin x category) has columns
``origin_id, category, service_id, service_name, distance_m, minutes, method``;
``distance_m`` is the travelled distance (straight line x circuity for the approximation),
``minutes`` is NaN when nothing is reachable.
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ._errors import InputError
from .config import Settings

STRAIGHT_LINE = "straight-line approximation"
TT_COLUMNS = ["origin_id", "category", "service_id", "service_name", "distance_m", "minutes", "method"]


def straight_line_label(settings: Settings) -> str:
    """Method label with its parameters, e.g. ``straight-line approximation (drive 60 km/h, circuity 1.3)``."""
    return f"{STRAIGHT_LINE} ({settings.mode} {settings.speeds_kmh[settings.mode]:g} km/h, circuity {settings.circuity:g})"


def _coords(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()])


def check_categories(services: gpd.GeoDataFrame, categories: Sequence[str]) -> None:
    """Raise one sentence when an analysed category has no service at all."""
    have = sorted(services["category"].unique())
    missing = [c for c in categories if c not in have]
    if missing:
        raise InputError(
            f"No services of category {', '.join(map(repr, missing))} in or near the region; "
            f"analyse one of {', '.join(have)} (--category) or add a services file (--services FILE)."
        )


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
        raise ValueError("origins and services must share a projected CRS")
    xy = _coords(origins)
    speed = settings.speed_ms()
    frames = []
    for cat in categories:
        svc = services[services["category"] == cat].sort_values("service_id")
        if svc.empty or len(origins) == 0:
            continue
        # Ties go to the lowest service_id (sorted above), so results do not depend on row order.
        dist, idx = cKDTree(_coords(svc)).query(xy, k=1)
        travelled = dist * settings.circuity
        frames.append(pd.DataFrame({
            "origin_id": origins.index.astype(str),
            "category": cat,
            "service_id": svc["service_id"].to_numpy()[idx],
            "service_name": svc["name"].to_numpy()[idx],
            "distance_m": travelled,
            "minutes": travelled / speed / 60.0,
            "method": straight_line_label(settings),
        }))
    if not frames:
        return pd.DataFrame(columns=TT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TT_COLUMNS]


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
            radius = t * 60.0 * speed / settings.circuity
            geom = pts.buffer(radius, quad_segs=32).union_all()
            if clip_geom is not None:
                geom = geom.intersection(clip_geom)
            rows.append({"category": cat, "threshold_min": float(t), "mode": settings.mode,
                         "method": straight_line_label(settings), "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["category", "threshold_min", "mode", "method", "geometry"],
                            geometry="geometry", crs=services.crs)


def _transit_kwargs(settings: Settings, walk_network=None) -> dict:
    """Options of :func:`gapmap.transit.transit_travel_times`; walking legs on ``walk_network`` when given."""
    kw = dict(date=settings.transit_date, window=settings.transit_window, max_walk_m=settings.max_walk_m,
              max_transfers=settings.max_transfers, walk_speed_kmh=settings.speeds_kmh["walk"], circuity=settings.circuity)
    if walk_network is not None:
        from .network import walk_time_function

        kw["walk_time_fn"] = walk_time_function(walk_network, access_speed_kmh=settings.speeds_kmh["walk"])
    return kw


def transit_bands(feed, boundary: gpd.GeoDataFrame, services: gpd.GeoDataFrame, settings: Settings,
                  resolution: int = 8, walk_network=None) -> gpd.GeoDataFrame:
    """Transit catchments: H3 cells (resolution 8, ~0.7 km2) whose centre reaches a service by the
    median departure within each threshold. Only cells within walking range of a stop are computed;
    nested thresholds give nested unions of cells.
    """
    import h3
    from shapely.geometry import Polygon

    from .transit import transit_travel_times

    outline = boundary.to_crs("EPSG:4326").geometry.iloc[0]
    stops = feed.stops_layer().to_crs(boundary.crs)
    polys = [outline] if outline.geom_type == "Polygon" else list(outline.geoms)
    cells = sorted({c for poly in polys for c in h3.geo_to_cells(poly, resolution)})
    centres = gpd.GeoSeries(gpd.points_from_xy([h3.cell_to_latlng(c)[1] for c in cells], [h3.cell_to_latlng(c)[0] for c in cells]),
                            crs="EPSG:4326").to_crs(boundary.crs)
    near = centres.distance(stops.union_all()) <= settings.max_walk_m / settings.circuity if len(stops) else centres.x < 0
    origins = gpd.GeoDataFrame(geometry=centres[near].to_numpy(), crs=boundary.crs, index=[c for c, n in zip(cells, near) if n])
    label = None
    rows = []
    tt = (transit_travel_times(feed, origins, services, settings.categories, **_transit_kwargs(settings, walk_network))
          if len(origins) else None)
    for cat in settings.categories:
        sub = tt[tt["category"] == cat].set_index("origin_id") if tt is not None else pd.DataFrame(columns=["minutes", "method"])
        label = str(sub["method"].iloc[0]) if len(sub) else "transit schedule"
        for t in sorted(settings.thresholds_min):
            ok = sub.index[sub["minutes"].fillna(np.inf) <= t]
            geom = gpd.GeoSeries([Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in sorted(ok)],
                                 crs="EPSG:4326").to_crs(boundary.crs).union_all() if len(ok) else Polygon()
            rows.append({"category": cat, "threshold_min": float(t), "mode": "transit", "method": label, "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["category", "threshold_min", "mode", "method", "geometry"], geometry="geometry",
                            crs=boundary.crs)


def travel_times(origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, settings: Settings, *,
                 network=None, feed=None, client=None) -> pd.DataFrame:
    """Long travel-time table by the best available method for ``settings.mode``.

    With ``settings.mode == "transit"`` and a GTFS ``feed``, door-to-door schedule times (median
    over the departure window; ``minutes_p90`` and ``walk_only`` extra columns). With ``network``
    (a :class:`gapmap.network.RoadNetwork`), times are on the road network; otherwise the
    straight-line approximation is used. With a Dask ``client``, road-network work runs as one
    task per category (:func:`gapmap.network.network_travel_times_distributed`).
    """
    check_categories(services, settings.categories)
    if settings.mode == "transit":
        from .transit import transit_travel_times

        if feed is None:
            raise InputError("Mode transit needs a GTFS feed; this region has none in the catalog, so pass --gtfs PATH.")
        # In transit mode ``network`` is a walking network: it times the walk legs.
        tt = transit_travel_times(feed, origins, services, settings.categories, **_transit_kwargs(settings, network))
        tt["distance_m"] = np.nan  # a transit trip has no single distance
        return tt
    if network is not None:
        from .network import network_travel_times, network_travel_times_distributed

        if client is not None:
            return network_travel_times_distributed(network, origins, services, settings.categories, client)
        return network_travel_times(network, origins, services, settings.categories)
    return straight_line_times(origins, services, settings.categories, settings)
