"""User-supplied layers (services, sites, population, boundaries): read, check, account for every row.

Formats: CSV (latitude/longitude or x/y columns found by common names, or an address /
community / postal-code column geocoded offline), GeoJSON, GeoPackage, Shapefile.

Each problem gets the same treatment everywhere: a file-level problem (unreadable, empty,
no coordinate columns, wrong CRS for the whole file) raises :class:`InputError` with one
sentence naming the file and the fix; a row-level problem sends the row to the rejects with
its line and reason; a repaired geometry is kept and counted in the layer's notes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gapmap import sources
from gapmap.geo import find_column
from gapmap.sources import geocode
from gapmap.sources.readers import check_case_duplicates
from gapmap.errors import InputError, reject_rows

LAT_NAMES = ("latitude", "lat", "y_lat", "lat_dd", "latitude_dd", "ycoord_lat")
LON_NAMES = ("longitude", "lon", "lng", "long", "x_lon", "lon_dd", "longitude_dd")
X_NAMES = ("x", "easting", "xcoord", "point_x")
Y_NAMES = ("y", "northing", "ycoord", "point_y")
ADDRESS_NAMES = ("community", "city", "town", "place", "address", "municipality")
POSTAL_NAMES = ("postal_code", "postalcode", "postal", "postcode", "code_postal")
ID_NAMES = ("id", "service_id", "site_id", "dauid", "fid", "objectid")
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb"}

# How far outside the region a point may be before the whole file's CRS is suspect.
FAR_M = 200_000.0


@dataclasses.dataclass
class Table:
    """Rows read from a user file, before geometry checks."""

    path: Path
    gdf: gpd.GeoDataFrame  # EPSG:4326 or the file's CRS; 'source_row' column
    rows_read: int
    rejects: pd.DataFrame
    notes: list[str]


def read_table(path: str | Path, *, layer: str, required: tuple[str, ...] = (), crs: str | None = None,
               gazetteers: geocode.Gazetteers | None = None) -> Table:
    """Read a user file into points or polygons with row accounting (no region checks yet).

    Parameters
    ----------
    layer : str
        Layer name for messages and rejects (``services``, ``sites``, ``population``, ``boundary``).
    required : tuple of str
        Attribute columns that must exist (case-insensitive), e.g. ``("name", "category")``.
    crs : str, optional
        CRS of x/y columns in a CSV (e.g. ``EPSG:26917``); latitude/longitude are EPSG:4326.
    gazetteers : Gazetteers, optional
        For CSVs with only a community / postal-code column: the geocoding cascade's tables
        (:func:`gapmap.sources.geocode.load_tables`).
    """
    path = Path(path)
    what = f"{layer.capitalize()} file"
    if not path.exists():
        raise InputError(f"{what} {path} does not exist; check the path.")
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in VECTOR_SUFFIXES:
        gdf = sources.read_vector(path, what=layer.capitalize())
        gdf = gdf.reset_index(drop=True)
        gdf.insert(0, "source_row", np.arange(1, len(gdf) + 1))  # feature number, 1-based
        check_case_duplicates([c for c in gdf.columns if c != gdf.geometry.name], path, what)
        _require(gdf, required, path, what)
        return Table(path, gdf, len(gdf), reject_rows(layer, path, [], []), notes)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError(f"{what} {path} has an unknown type {suffix or '(no extension)'}; give CSV, GeoJSON, GeoPackage or Shapefile.")
    df = sources.read_csv(path, [], what=layer.capitalize())
    if df.empty:
        raise InputError(f"{what} {path} has a header but no rows; add at least one row.")
    _require(df, required, path, what)
    n = len(df)
    dc = df.attrs.get("decimal_comma", False)
    lat_c, lon_c = find_column(df.columns, LAT_NAMES), find_column(df.columns, LON_NAMES)
    x_c, y_c = find_column(df.columns, X_NAMES), find_column(df.columns, Y_NAMES)
    rejects = []
    if lat_c and lon_c:
        lat, lon = sources.to_float(df[lat_c], dc), sources.to_float(df[lon_c], dc)
        bad_num = lat.isna() | lon.isna()
        rejects.append(reject_rows(layer, path, df.loc[bad_num, "source_row"], [f"{lat_c}/{lon_c} not a number ({a!r}, {b!r})" for a, b in zip(df.loc[bad_num, lat_c], df.loc[bad_num, lon_c])]))
        out_range = ~bad_num & ~(lat.between(-90, 90) & lon.between(-180, 180))
        rejects.append(reject_rows(layer, path, df.loc[out_range, "source_row"], [f"{lat_c}={a} / {lon_c}={b} out of range (latitude -90..90, longitude -180..180)"
                             for a, b in zip(df.loc[out_range, lat_c], df.loc[out_range, lon_c])]))
        ok = ~bad_num & ~out_range
        gdf = gpd.GeoDataFrame(df[ok], geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326")
    elif x_c and y_c:
        x, y = sources.to_float(df[x_c], dc), sources.to_float(df[y_c], dc)
        bad_num = x.isna() | y.isna()
        rejects.append(reject_rows(layer, path, df.loc[bad_num, "source_row"], f"{x_c}/{y_c} not a number"))
        ok = ~bad_num
        if crs is None:
            if (x[ok].between(-180, 180) & y[ok].between(-90, 90)).all():
                crs = "EPSG:4326"
                notes.append(f"{path.name}: {x_c}/{y_c} read as longitude/latitude (EPSG:4326); pass --crs if they are not.")
            else:
                raise InputError(f"{what} {path} has projected {x_c}/{y_c} columns but no CRS; pass --crs (e.g. --crs EPSG:26917).")
        gdf = gpd.GeoDataFrame(df[ok], geometry=gpd.points_from_xy(x[ok], y[ok]), crs=crs)
    else:
        place_c, postal_c = find_column(df.columns, ADDRESS_NAMES), find_column(df.columns, POSTAL_NAMES)
        if not (place_c or postal_c):
            raise InputError(
                f"{what} {path} has no coordinate columns (looked for latitude/longitude, lat/lon, x/y) and no "
                f"community or postal-code column to geocode; add latitude and longitude columns."
            )
        if gazetteers is None or gazetteers.fsa is None:
            raise InputError(f"{what} {path} needs geocoding but no postal-area table is available; add latitude/longitude.")
        places = df[place_c] if place_c else pd.Series("", index=df.index)
        codes = df[postal_c] if postal_c else pd.Series("", index=df.index)
        geo = geocode.geocode(places, codes, gazetteers)
        miss = geo["lon"].isna()
        rejects.append(reject_rows(layer, path, df.loc[miss, "source_row"], [f"could not geocode: {n}" for n in geo.loc[miss, "geocode_note"]]))
        ok = ~miss
        gdf = gpd.GeoDataFrame(pd.concat([df[ok], geo.loc[ok, geocode.GEOCODE_COLUMNS[2:]]], axis=1),
                               geometry=gpd.points_from_xy(geo.loc[ok, "lon"], geo.loc[ok, "lat"]), crs="EPSG:4326")
        notes.append(f"{path.name}: {int(ok.sum())} rows geocoded offline from {place_c or postal_c} (approximate locations).")
    return Table(path, gdf, n, pd.concat(rejects, ignore_index=True), notes)


def _require(df, required, path, what) -> None:
    lower = {c.lower() for c in df.columns}
    missing = [c for c in required if c.lower() not in lower]
    if missing:
        raise InputError(
            f"{what} {path} lacks column(s) {', '.join(missing)} (found: {sources.column_list(df.columns)}); "
            "rename the header or use the right file."
        )


def check_against_region(table: Table, boundary: gpd.GeoDataFrame, *, layer: str, id_col: str | None = None,
                         keep_outside_m: float = 0.0, points: bool = False) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """Repair geometries, reject duplicates and rows outside the region, catch a wrong CRS.

    ``points``: the layer must be points (services, sites); a one-point MultiPoint is taken as
    its point and any other geometry goes to the rejects.

    Returns the usable rows (in the boundary's CRS), all rejects and notes.
    """
    gdf, path = table.gdf, table.path
    rejects = [table.rejects]
    notes = list(table.notes)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    rejects.append(reject_rows(layer, path, gdf.loc[empty, "source_row"], "empty geometry"))
    gdf = gdf[~empty]
    if points:
        gdf = _single_points(gdf)
        other = ~gdf.geom_type.eq("Point")
        rejects.append(reject_rows(layer, path, gdf.loc[other, "source_row"], [f"geometry is a {t}, not a point; give one point per row" for t in gdf.geom_type[other]]))
        gdf = gdf[~other]
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry[invalid].values)
        notes.append(f"{path.name}: {int(invalid.sum())} invalid geometries repaired (rows "
                     f"{', '.join(map(str, gdf.loc[invalid, 'source_row'].head(5)))}{'...' if invalid.sum() > 5 else ''}).")
    if gdf.empty:
        raise InputError(f"{layer.capitalize()} file {path} has no usable rows (see rejects); fix the coordinates.")
    id_c = find_column(gdf.columns, (id_col, *ID_NAMES) if id_col else ID_NAMES)
    if id_c:
        key = gdf[id_c].astype(str).str.strip()
        dup = key.duplicated(keep="first")
        if dup.any():  # the group-by costs ~100 MB on a million ids: only when there is something to report
            first_row = gdf.groupby(key)["source_row"].transform("first")
            rejects.append(reject_rows(layer, path, gdf.loc[dup, "source_row"], [f"duplicate {id_c} {k!r} (first at row {r})" for k, r in zip(key[dup], first_row[dup])]))
            gdf = gdf[~dup]
    proj = gdf.to_crs(boundary.crs)
    outline = boundary.geometry.iloc[0]
    dist = proj.distance(outline)
    if (dist > FAR_M).all():
        swapped = _swapped_inside(gdf, outline, boundary.crs)
        if swapped.all():
            raise InputError(f"{layer.capitalize()} file {path}: latitude and longitude look swapped in every row; swap the two column names.")
        raise InputError(
            f"{layer.capitalize()} file {path}: every point lies over {FAR_M / 1000:.0f} km from the region ("
            f"{_nearest_text(dist.to_numpy())}), so its CRS ({gdf.crs.to_string() if gdf.crs else 'none'}) is probably wrong or "
            "it is another region's file; fix the CRS (--crs) or the file."
        )
    outside = dist > keep_outside_m
    if outside.any():
        swapped = _swapped_inside(gdf[outside], outline, boundary.crs)
        reasons = ["latitude and longitude look swapped (swapped, the point falls inside the region)" if s
                   else f"outside the region ({d / 1000:.1f} km from its boundary)" for s, d in zip(swapped, dist[outside])]
        rejects.append(reject_rows(layer, path, proj.loc[outside, "source_row"], reasons))
    rej = pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    return proj[~outside], rej, notes


def _nearest_text(dist_m: np.ndarray) -> str:
    finite = dist_m[np.isfinite(dist_m)]
    return f"the nearest {finite.min() / 1000:,.0f} km" if len(finite) else "none can be placed on the earth in that CRS"


def _single_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One-point MultiPoints (common in GeoJSON exports) as plain points."""
    multi = gdf.geom_type.eq("MultiPoint") & (shapely.get_num_geometries(gdf.geometry.values) == 1)
    if not multi.any():
        return gdf
    gdf = gdf.copy()
    gdf.loc[multi, gdf.geometry.name] = shapely.get_geometry(gdf.geometry[multi].values, 0)
    return gdf


def uncovered_km(points: gpd.GeoSeries, boundary: gpd.GeoDataFrame, tolerance_m: float = 1_000.0) -> float | None:
    """Distance in km from the region to the nearest of ``points`` when none lies within ``tolerance_m`` of it, else None.

    Used to refuse a road network, GTFS feed or file that does not cover the region at all.
    """
    if points.empty:
        return None
    # Equidistant around the region's centre: a feed on another continent is measured in true km,
    # which the region's UTM zone would distort beyond use.
    centre = boundary.to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    aeqd = f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
    outline = boundary.to_crs(aeqd).geometry.iloc[0]
    near = points.to_crs(aeqd).distance(outline).to_numpy()
    near = near[np.isfinite(near)]
    if len(near) == 0:
        return float("inf")
    return None if near.min() <= tolerance_m else float(near.min()) / 1000.0


def _swapped_inside(gdf: gpd.GeoDataFrame, outline, crs) -> np.ndarray:
    if gdf.crs is None or not gdf.crs.is_geographic or not gdf.geom_type.eq("Point").all():
        return np.zeros(len(gdf), dtype=bool)
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    ok = (np.abs(x) <= 90) & (np.abs(y) <= 180)
    flipped = gpd.GeoSeries(gpd.points_from_xy(np.where(ok, y, 0), np.where(ok, x, 0)), crs=gdf.crs).to_crs(crs)
    return ok & flipped.within(outline).to_numpy()
