"""Checks and conversions every pipeline step shares: frames, CRS, points, ids, H3 resolutions.

Each was written two to four times before; the messages are the user-facing ones (one
sentence naming what is wrong and the fix).
"""

from __future__ import annotations

from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gapmap.errors import InputError


def as_gdf(obj: Any, what: str) -> gpd.GeoDataFrame:
    """A GeoDataFrame from a GeoDataFrame, GeoSeries or one shapely geometry (CRS required)."""
    if isinstance(obj, gpd.GeoDataFrame):
        gdf = obj
    elif isinstance(obj, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=obj)
    else:
        raise InputError(f"{what} must be a GeoDataFrame or GeoSeries with a CRS, not {type(obj).__name__}.")
    if gdf.crs is None:
        raise InputError(f"{what} has no CRS; set one (e.g. gdf.set_crs('EPSG:4326')) before using it.")
    return gdf


def projected(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in its own CRS when projected, else in its UTM zone (metres for buffers and areas)."""
    return gdf if gdf.crs.is_projected else gdf.to_crs(gdf.estimate_utm_crs())


def metre_crs(gdf: gpd.GeoDataFrame, what: str, *, required: bool = False) -> pyproj.CRS | None:
    """The CRS of ``gdf`` when it is in metres; InputError when in degrees (or unset and ``required``)."""
    crs = gdf.crs
    if crs is None:
        if required:
            raise InputError(f"{what} has no CRS; set the region's UTM zone (gdf.set_crs) before using it.")
        return None
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic or (crs.axis_info and crs.axis_info[0].unit_name not in ("metre", "meter")):
        unit = "degrees" if crs.is_geographic else crs.axis_info[0].unit_name
        raise InputError(f"The {what} layer is in {unit} ({crs.name}), not a projected CRS in metres; "
                         "reproject it (gdf.to_crs) to the region's UTM zone.")
    return crs


def point_xy(gdf: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """(n, 2) coordinates of a layer of non-empty points; InputError naming the other geometry types."""
    geom = gdf.geometry
    bad = ~geom.geom_type.eq("Point") | geom.is_empty
    if len(gdf) and bad.any():
        kinds = sorted(set(geom[bad].geom_type.fillna("missing")))
        raise InputError(f"{what} must be non-empty points (found {', '.join(kinds)}); use representative points.")
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def ids_from_column(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Unique string ids from ``column`` when present, else from the index."""
    ids = (frame[column] if column in frame.columns else frame.index.to_series()).astype(str).to_numpy()
    seen = pd.Series(ids)
    if seen.duplicated().any():
        dup = seen[seen.duplicated()].iloc[0]
        raise InputError(f"{what} have duplicate {column} {dup!r}; give each row a unique {column}.")
    return ids


def find_column(columns: Iterable[str], names: Iterable[str]) -> str | None:
    """The first of ``names`` present in ``columns``, case- and space-insensitively."""
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def check_h3_resolution(resolution: Any) -> None:
    """InputError unless ``resolution`` is an H3 resolution (an integer 0-15)."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise InputError(f"H3 resolution {resolution!r} is invalid; use an integer 0-15 (7 is ~5 km2, 8 is ~0.7 km2).")


def polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """``geoms`` with each GeometryCollection reduced to its polygonal parts.

    ``make_valid`` repairs a ring that touches itself into polygons plus the lines it leaves
    over, as a GeometryCollection; maps (Leaflet's GeoJSON tooltips and popups), QGIS styles
    and area arithmetic expect (Multi)Polygons. The parts of a repaired geometry do not
    overlap, so they form a valid MultiPolygon as they are. Other geometries are unchanged.
    """
    arr = geoms.to_numpy()
    mixed = np.flatnonzero(shapely.get_type_id(arr) == 7)  # GeometryCollection
    if not len(mixed):
        return geoms
    out = arr.copy()
    for i in mixed.tolist():
        parts = shapely.get_parts(shapely.get_parts(arr[i]))  # collection -> members -> single parts
        polys = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
        out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys) if polys else shapely.Polygon()
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)
