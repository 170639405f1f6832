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

from gapmap.errors import InputError
from gapmap.settings import Settings

from gapmap.travel.straight import STRAIGHT_LINE, TT_COLUMNS, straight_line_bands, straight_line_label, straight_line_times, straight_m  # noqa: F401


def check_categories(services: gpd.GeoDataFrame, categories: Sequence[str]) -> None:
    """Raise one sentence when an analysed category has no service at all."""
    have = sorted(services["category"].unique())
    missing = [c for c in categories if c not in have]
    if missing:
        raise InputError(
            f"No services of category {', '.join(map(repr, missing))} in or near the region; "
            f"analyse one of {', '.join(have)} (--category) or add a services file (--services FILE)."
        )


def _transit_kwargs(settings: Settings, walk_network=None) -> dict:
    """Options of :func:`gapmap.travel.transit.schedule.transit_travel_times`; walking legs on ``walk_network`` when given."""
    kw = dict(date=settings.transit_date, window=settings.transit_window, max_walk_m=settings.max_walk_m,
              max_transfers=settings.max_transfers, walk_speed_kmh=settings.speeds_kmh["walk"], circuity=settings.circuity)
    if walk_network is not None:
        from gapmap.travel.road.routing import walk_time_function

        kw["walk_time_fn"] = walk_time_function(walk_network, access_speed_kmh=settings.speeds_kmh["walk"])
    return kw


def road_kwargs(settings: Settings) -> dict:
    """The road router's off-road leg options from the settings, for every road-network call of a run.

    A point's leg to its nearest road is the run's straight-line approximation (``circuity`` at
    the mode's speed) where that beats walking at ``speeds_kmh['walk']``, so walked only in walk
    mode (:func:`gapmap.travel.road.routing.off_road_legs`).
    """
    return dict(access_speed_kmh=settings.speeds_kmh["walk"], leg_kmh=settings.speeds_kmh.get(settings.mode),
                leg_circuity=settings.circuity)


def transit_bands(feed, boundary: gpd.GeoDataFrame, services: gpd.GeoDataFrame, settings: Settings,
                  resolution: int = 8, walk_network=None) -> gpd.GeoDataFrame:
    """Transit catchments: H3 cells (resolution 8, ~0.7 km2) whose centre reaches a service by the
    median departure within each threshold. Only cells within walking range of a stop are computed;
    nested thresholds give nested unions of cells.
    """
    import h3
    from shapely.geometry import Polygon

    from gapmap.travel.transit.schedule import transit_travel_times

    outline = boundary.to_crs("EPSG:4326").geometry.iloc[0]
    stops = feed.stops_layer().to_crs(boundary.crs)
    polys = [outline] if outline.geom_type == "Polygon" else list(outline.geoms)
    cells = sorted({c for poly in polys for c in h3.geo_to_cells(poly, resolution)})
    centres = gpd.GeoSeries(gpd.points_from_xy([h3.cell_to_latlng(c)[1] for c in cells], [h3.cell_to_latlng(c)[0] for c in cells]),
                            crs="EPSG:4326").to_crs(boundary.crs)
    reach = straight_m(settings.max_walk_m, settings.circuity)
    near = centres.distance(stops.union_all()) <= reach if len(stops) else centres.x < 0
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
    (a :class:`gapmap.travel.road.network.RoadNetwork`), times are on the road network; otherwise the
    straight-line approximation is used. With a Dask ``client``, road-network work runs as one
    task per category (:func:`gapmap.travel.road.routing.network_travel_times_distributed`).
    """
    check_categories(services, settings.categories)
    if settings.mode == "transit":
        from gapmap.travel.transit.schedule import transit_travel_times

        if feed is None:
            raise InputError("Mode transit needs a GTFS feed; this region has none in the catalog, so pass --gtfs PATH.")
        # In transit mode ``network`` is a walking network: it times the walk legs.
        tt = transit_travel_times(feed, origins, services, settings.categories, **_transit_kwargs(settings, network))
        tt["distance_m"] = np.nan  # a transit trip has no single distance
        return tt
    if network is not None:
        from gapmap.travel.road.routing import network_travel_times, network_travel_times_distributed

        road = dict(road_kwargs(settings), snap_limit_m=settings.snap_limit_m, leg_circuity_range=settings.circuity_bounds())
        if client is not None:
            return network_travel_times_distributed(network, origins, services, settings.categories, client, **road)
        return network_travel_times(network, origins, services, settings.categories, **road)
    return straight_line_times(origins, services, settings.categories, settings)


def bands(services: gpd.GeoDataFrame, settings: Settings, boundary: gpd.GeoDataFrame, *, network=None,
          feed=None) -> gpd.GeoDataFrame:
    """Catchment polygons per category and threshold by the run's method, clipped to ``boundary``.

    Transit: H3 cells reaching a service by the median departure (:func:`transit_bands`); road
    network: isochrones (:func:`gapmap.travel.road.isochrones.isochrones`); otherwise straight-line
    discs (:func:`gapmap.travel.straight.straight_line_bands`).
    """
    if settings.mode == "transit":
        return transit_bands(feed, boundary, services, settings, walk_network=network)
    if network is None:
        return straight_line_bands(services, settings.categories, settings, clip_to=boundary)
    from gapmap.travel.road.isochrones import isochrones

    iso = isochrones(network, services, settings.categories, settings.thresholds_min, **road_kwargs(settings))
    return gpd.clip(iso, boundary)
