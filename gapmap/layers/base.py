"""The layer record shared by every builder: :class:`Layer`, rejects, the region CRS, area assignment.

Builders by layer: :mod:`~gapmap.layers.areas` (boundary, areas), :mod:`~gapmap.layers.services`,
:mod:`~gapmap.layers.sites`, :mod:`~gapmap.layers.population`.

Every builder returns a :class:`Layer`: a GeoDataFrame in the region's projected CRS
(NAD83 / UTM zone of the region) plus the accounting of its input rows
(``rows_read = rows_used + rows_rejected``; every rejected row is in ``rejects`` with
its file, line and reason).

Schemas (column -> meaning); geometry is always the last column:

``boundary``
    region (slug), name, geometry (Polygon/MultiPolygon).
``areas``
    area_id (str), area_name, geometry. The region's municipal wards (``ward-<n>``, or
    ``ward-<municipality>-<n>`` across several ward files), else its census tracts (``ct-<CTUID>``),
    plus one ``rest-<code>`` area per census division for the part outside them; else its census
    divisions (``cd-<code>``). ``--areas FILE`` replaces them with the user's polygons.
``services``
    service_id (str: ``odhf-<index>``, ``odcaf-<Index>``, ``osm-<element>-<id>``,
    ``user-<file>-<row>`` or the file's own), name, category (a key of
    :mod:`gapmap.categories`), category_rule (the rule or source that gave the category),
    source_type, provider, address, in_region (bool; services within ``edge_buffer_m``
    outside the boundary are kept because people cross borders for care), location_flag
    (ODHF location check, "" when fine), source (dataset id or file), source_row, optional
    opening_hours / languages / capacity, geometry (Point).
``sites`` (migrant-worker employers; sensitive)
    site_id (stable hash of employer + location), employer, community, postal_code, fsa,
    stream, noc_codes, workers (estimate, see :func:`estimate_workers`), positions_<year>,
    quarters_listed, lmia_rows, requested_rows, geocode_precision (postal_code | community |
    post_office | postal_area, see :mod:`gapmap.sources.geocode`), geocode_match, geocode_source
    (dataset id or file), geocode_licence (of that source), geocode_note (why earlier rules did
    not place it), area_id (``unknown`` for a site at a postal-area centroid), geometry (Point).
``population``
    dauid (str), pop2021 (float), cimd_ethnocult and the other CIMD scores, area_id,
    geometry (Point: 2016 population-weighted DA representative point).
"""

from __future__ import annotations

import dataclasses
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gapmap import geo, sources
from gapmap.errors import REJECT_COLUMNS, InputError, reject_rows  # noqa: F401  (re-exported)


def farther_than(points: gpd.GeoDataFrame, outline, metres: float) -> pd.Series:
    """``points.distance(outline) > metres``, with distances computed only where they can decide.

    A point more than ``metres`` from the outline's bounding box is more than ``metres`` from
    the outline: only the others are measured (for Canada-wide ODHF, 7,000 distances to a
    detailed boundary became a few hundred).
    """
    x, y = shapely.get_x(points.geometry.to_numpy()), shapely.get_y(points.geometry.to_numpy())
    x0, y0, x1, y1 = outline.bounds
    box = np.hypot(np.maximum.reduce([x0 - x, np.zeros_like(x), x - x1]), np.maximum.reduce([y0 - y, np.zeros_like(y), y - y1]))
    near = ~(box > metres * (1 + 1e-9) + 1e-6)  # NaN (non-point) stays measured
    far = np.ones(len(points), dtype=bool)
    far[near] = (points.geometry[near].distance(outline) > metres).to_numpy()
    return pd.Series(far, index=points.index)



@dataclasses.dataclass
class Layer:
    """A built layer and the accounting of the rows it was built from."""

    name: str
    gdf: gpd.GeoDataFrame
    rows_read: int
    rows_used: int
    rejects: pd.DataFrame
    datasets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    def check_accounting(self) -> None:
        """Raise AssertionError when a row is unaccounted for (a bug, not user error)."""
        assert self.rows_read == self.rows_used + self.rows_rejected, (
            f"{self.name}: read {self.rows_read} != used {self.rows_used} + rejected {self.rows_rejected}"
        )


def utm_crs(boundary_4326: gpd.GeoSeries) -> str:
    """NAD83 / UTM CRS of the zone holding the boundary's centre (metres; <0.1% scale error)."""
    lon = boundary_4326.union_all().centroid.x
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{26900 + zone}" if 7 <= zone <= 23 else "EPSG:3347"


def lonlat_points(df: pd.DataFrame, lon: str, lat: str, crs: str) -> gpd.GeoDataFrame:
    """``df`` as points from its ``lon``/``lat`` columns (degrees), projected to ``crs``."""
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326").to_crs(crs)


def assign_areas(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Area id of each point (points on a shared edge go to the nearest area, deterministically)."""
    joined = gpd.sjoin(points[["geometry"]], areas[["area_id", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    area = joined["area_id"].reindex(points.index)
    missing = area.isna()
    if missing.any():
        near = gpd.sjoin_nearest(points.loc[missing, ["geometry"]], areas[["area_id", "geometry"]], how="left")
        near = near[~near.index.duplicated(keep="first")]
        area[missing] = near["area_id"]
    return area.astype(object)



def number_column(table, names: tuple[str, ...], layer: str) -> str:
    """The column of a user file (``table.gdf``) holding the numbers, the first of ``names`` present."""
    col = geo.find_column(table.gdf.columns, names)
    if col is None:
        raise InputError(f"{layer.capitalize()} file {table.path} has no {names[0]} column (looked for {', '.join(names)}); "
                         "add one with a number per row.")
    return col


def nonnegative_rows(gdf, col: str, rejects: pd.DataFrame, layer: str, path) -> tuple[gpd.GeoDataFrame, pd.Series, pd.DataFrame]:
    """Rows whose ``col`` is a non-negative number, those values, and the rejects extended with the rest."""
    values = sources.to_float(gdf[col].astype(str))
    bad = values.isna() | (values < 0)
    rejects = pd.concat([rejects, reject_rows(layer, path, gdf.loc[bad, "source_row"],
                                           [f"{col} {v!r} is not a non-negative number" for v in gdf.loc[bad, col]])],
                        ignore_index=True)
    return gdf[~bad], values[~bad], rejects

