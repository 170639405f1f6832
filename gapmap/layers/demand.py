"""Demand layers: population or workers from points, polygons or a GeoTIFF raster, and H3 hexagons.

Where demand can come from, and how it becomes origins (points with a value):

- **points** (a GeoDataFrame with a value column): used as they are.
- **polygons** (census areas, wards): each polygon's value sits at its representative point
  (:func:`polygons_to_points`; always inside the polygon, unlike the centroid), or is spread
  onto other areas in proportion to the overlapping area (:func:`areal_interpolate`, the
  usual areal weighting for extensive counts: it assumes people are spread evenly inside
  each source polygon).
- **rasters** (e.g. a WorldPop / GHSL population GeoTIFF): zonal sums inside any polygons
  such as catchment bands or wards (:func:`raster_zonal_sums`), or one origin per populated
  cell at the cell centre (:func:`raster_to_points`).

Zonal sums count a cell when its **centre** is inside the polygon (the rasterio / GDAL
default, ``all_touched=False``): a cell is counted once across polygons that tile an area,
so sums over wards add up to the sum over the region up to cells cut by the outer edge.
Nodata and NaN cells count as 0.

H3 hexagons (:func:`hex_grid`, :func:`aggregate_to_hexes`) give an equal-area-ish grid for
demand maps and siting candidates; ``hex_id`` is the H3 cell index (h3 4.x).

Every function returns rows in a deterministic order (input order, or sorted ids).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from gapmap import geo
from gapmap.errors import InputError

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")
DEMAND_COLUMNS = ["origin_id", "demand", "geometry"]

# --------------------------------------------------------------------------- helpers


def _str_ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """Ids from ``column`` when present, else the index, as strings (not required unique here)."""
    ids = frame[column] if column in frame.columns else frame.index.to_series()
    return pd.Series(ids.astype(str).to_numpy(), name=column)


def _open_raster(raster):
    """(dataset, should_close) for a path or an open rasterio dataset."""
    import rasterio

    if hasattr(raster, "read") and hasattr(raster, "transform"):
        return raster, False
    path = Path(raster)
    if not path.exists():
        raise InputError(f"Raster file {path} does not exist; check the path.")
    try:
        return rasterio.open(path), True
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"Raster file {path} cannot be read as a GeoTIFF ({exc}); give a GeoTIFF raster.") from None


def _raster_crs(src) -> object:
    if src.crs is None:
        raise InputError(f"Raster {src.name} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:26917) before using it.")
    return src.crs


def _band_values(arr: np.ma.MaskedArray, nodata) -> np.ndarray:
    """Float values with masked, nodata and NaN cells set to 0."""
    data = np.ma.filled(arr.astype("float64"), 0.0)
    if nodata is not None and not np.isnan(nodata):
        data[np.ma.getdata(arr) == nodata] = 0.0
    return np.nan_to_num(data, nan=0.0)


# --------------------------------------------------------------------------- points and polygons


def polygons_to_points(polygons: gpd.GeoDataFrame, value_cols: str | Sequence[str]) -> gpd.GeoDataFrame:
    """Each polygon's values placed at its representative point (always inside the polygon).

    Returns
    -------
    GeoDataFrame
        The input rows (same index and columns) with Point geometry.
    """
    polygons = geo.as_gdf(polygons, "Demand polygons")
    cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    missing = [c for c in cols if c not in polygons.columns]
    if missing:
        raise InputError(f"Demand polygons lack value column(s) {', '.join(missing)}; name an existing column.")
    out = polygons.copy()
    out[out.geometry.name] = polygons.geometry.representative_point()
    return out


def areal_interpolate(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame,
                      value_cols: str | Sequence[str]) -> gpd.GeoDataFrame:
    """Spread extensive counts (people, workers) from source polygons onto target polygons by area.

    ``target_value = sum over sources of value x area(source & target) / area(source)``.
    Assumes values are spread evenly inside each source polygon; a source partly outside all
    targets loses that part (so totals are preserved only where targets cover the sources).

    Returns
    -------
    GeoDataFrame
        ``target`` (same index, CRS and columns) with ``value_cols`` added (0 where no overlap).
    """
    source = geo.as_gdf(source, "Source polygons")
    target = geo.as_gdf(target, "Target polygons")
    cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    missing = [c for c in cols if c not in source.columns]
    if missing:
        raise InputError(f"Source polygons lack value column(s) {', '.join(missing)}; name an existing column.")
    # Areas in metres: project both to the target's CRS, or a UTM zone if it is geographic.
    tgt = geo.projected(target)
    src = source.to_crs(tgt.crs)
    s = gpd.GeoDataFrame({"_s": np.arange(len(src))}, geometry=src.geometry.make_valid().to_numpy(), crs=tgt.crs)
    t = gpd.GeoDataFrame({"_t": np.arange(len(tgt))}, geometry=tgt.geometry.make_valid().to_numpy(), crs=tgt.crs)
    pieces = gpd.overlay(s, t, how="intersection", keep_geom_type=True)
    src_area = s.geometry.area.to_numpy()
    frac = np.divide(pieces.geometry.area.to_numpy(), src_area[pieces["_s"].to_numpy()],
                     out=np.zeros(len(pieces)), where=src_area[pieces["_s"].to_numpy()] > 0)
    out = target.copy()
    for c in cols:
        vals = pd.to_numeric(source[c], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        out[c] = np.bincount(pieces["_t"].to_numpy(), weights=vals[pieces["_s"].to_numpy()] * frac, minlength=len(tgt))
    return out


# --------------------------------------------------------------------------- rasters


def raster_zonal_sums(raster, polygons: gpd.GeoDataFrame | gpd.GeoSeries, *, band: int = 1,
                      all_touched: bool = False) -> pd.Series:
    """Sum of raster cell values inside each polygon (e.g. people inside each catchment band).

    Parameters
    ----------
    raster : path or open rasterio dataset
        A single- or multi-band GeoTIFF with a CRS (cell values are counts, e.g. people per cell).
    polygons : GeoDataFrame or GeoSeries
        Any polygons with a CRS; reprojected to the raster's CRS. Overlapping polygons (nested
        catchment bands) are each summed in full.
    band : int
        1-based band index.
    all_touched : bool
        False (default): a cell counts when its centre is inside; True: any touched cell counts
        (over-counts along edges; use only for very coarse rasters).

    Returns
    -------
    Series
        Float sums indexed like ``polygons``, named ``raster_sum`` (0 for empty or outside polygons).
    """
    import rasterio.mask

    polys = geo.as_gdf(polygons, "Zones")
    src, close = _open_raster(raster)
    try:
        geoms = polys.geometry.to_crs(_raster_crs(src))
        sums = np.zeros(len(geoms))
        for k, geom in enumerate(geoms):
            if geom is None or geom.is_empty:
                continue
            try:
                arr, _ = rasterio.mask.mask(src, [mapping(geom)], crop=True, all_touched=all_touched,
                                            filled=False, indexes=band)
            except ValueError:  # "Input shapes do not overlap raster."
                continue
            sums[k] = _band_values(arr, src.nodata).sum()
    finally:
        if close:
            src.close()
    return pd.Series(sums, index=polys.index, name="raster_sum")


def raster_to_points(raster, *, boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None, band: int = 1,
                     value_col: str = "demand", crs=None, min_value: float = 0.0) -> gpd.GeoDataFrame:
    """One origin per raster cell holding more than ``min_value`` (default: every populated cell).

    Parameters
    ----------
    boundary : GeoDataFrame or GeoSeries, optional
        Keep only cells whose centre is inside it (read window limited to its extent).
    crs : optional
        Output CRS (default: the raster's).

    Returns
    -------
    GeoDataFrame
        ``origin_id`` (``cell-<row>-<col>`` in the full raster grid, stable), ``value_col``,
        geometry (cell-centre Point); ordered by row then column.
    """
    import rasterio.mask

    src, close = _open_raster(raster)
    try:
        rcrs = _raster_crs(src)
        if boundary is not None:
            geoms = geo.as_gdf(boundary, "Boundary").geometry.to_crs(rcrs)
            try:
                arr, tr = rasterio.mask.mask(src, [mapping(g) for g in geoms if g is not None and not g.is_empty],
                                             crop=True, filled=False, indexes=band)
            except ValueError:
                arr, tr = np.ma.masked_all((0, 0)), src.transform
        else:
            arr, tr = src.read(band, masked=True), src.transform
        values = _band_values(arr, src.nodata)
        rows, cols = np.nonzero(values > min_value)
        cx, cy = cols + 0.5, rows + 0.5
        xs, ys = tr.c + tr.a * cx + tr.b * cy, tr.f + tr.d * cx + tr.e * cy
        # Offsets of the (cropped) window in the full grid, so ids do not depend on the boundary.
        col0 = int(round((tr.c - src.transform.c) / src.transform.a))
        row0 = int(round((tr.f - src.transform.f) / src.transform.e))
    finally:
        if close:
            src.close()
    ids = [f"cell-{r}-{c}" for r, c in zip(rows + row0, cols + col0)]
    out = gpd.GeoDataFrame({"origin_id": pd.Series(ids, dtype="str"), value_col: values[rows, cols]},
                           geometry=gpd.points_from_xy(xs, ys), crs=rcrs)
    return out.to_crs(crs) if crs is not None else out


# --------------------------------------------------------------------------- one entry point


def read_demand(source, value_col: str | None = None, *, crs=None, id_col: str | None = None,
                boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None, band: int = 1) -> gpd.GeoDataFrame:
    """Demand origins from points, polygons or a raster, in one schema.

    Parameters
    ----------
    source : GeoDataFrame, or path to a vector file or a GeoTIFF (``.tif``)
        Points are used as they are; polygons contribute their value at their representative
        point; raster cells become one origin per populated cell (``value_col`` is ignored).
    value_col : str
        The demand column (people, workers); required for vector sources.
    crs : optional
        Output CRS (default: the boundary's, else the source's).
    id_col : str, optional
        Origin id column (default: ``origin_id`` if present, else the index).
    boundary : optional
        Keep origins inside it (points / representative points / cell centres).

    Returns
    -------
    GeoDataFrame
        ``origin_id`` (str), ``demand`` (float, NaN -> 0), geometry (Point).
    """
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() in RASTER_SUFFIXES:
        pts = raster_to_points(source, boundary=boundary, band=band, value_col="demand")
    else:
        if isinstance(source, (str, os.PathLike)):
            from gapmap.sources import read_vector

            source = read_vector(source, what="Demand")
        gdf = geo.as_gdf(source, "Demand layer")
        if value_col is None or value_col not in gdf.columns:
            have = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            raise InputError(f"Demand layer needs a value column (got {value_col!r}); name one of: {have}.")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        ids = pd.Index(_str_ids(gdf, id_col or "origin_id"), name=id_col or "origin_id")
        if ids.has_duplicates:
            dup = ids[ids.duplicated()][0]
            raise InputError(f"Demand layer has duplicate origin id {dup!r}; give a unique id column (id_col).")
        geom = gdf.geometry
        polys = geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        if polys.any():
            geom = geom.where(~polys, geom.representative_point())
        if not geom.geom_type.eq("Point").all():
            raise InputError("Demand layer must hold points or polygons (found "
                             f"{', '.join(sorted(set(geom.geom_type) - {'Point'}))}); convert it first.")
        pts = gpd.GeoDataFrame(
            {"origin_id": pd.Series(ids, dtype="str"),
             "demand": pd.to_numeric(gdf[value_col], errors="coerce").fillna(0.0).to_numpy(dtype=float)},
            geometry=geom.to_numpy(), crs=gdf.crs)
        if boundary is not None:
            b = geo.as_gdf(boundary, "Boundary").to_crs(pts.crs).union_all()
            pts = pts[pts.within(b).to_numpy()]
    target = crs if crs is not None else (boundary.crs if boundary is not None else pts.crs)
    return pts.to_crs(target).reset_index(drop=True)[DEMAND_COLUMNS]


def read_block_population(path: str | os.PathLike, *, layer: str | None = None, pop_col: str = "dbpop2021",
                          id_col: str = "DBUID") -> gpd.GeoDataFrame:
    """2021 dissemination blocks (DBs) with population, each at a point inside the block.

    A DB is the smallest census area (a city block, or a rural patch bounded by roads); its
    11-digit id starts with the 8-digit DA id, so DA attributes (CIMD) join on ``dauid``.

    Returns
    -------
    GeoDataFrame
        ``dbuid, dauid, pop2021, geometry`` (representative points, always inside the block), in
        the file's CRS, sorted by ``dbuid``. Every block is kept, including those with no people.
    """
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - GDAL raises several types for unreadable files
        raise InputError(f"Dissemination block file {path} cannot be read ({type(exc).__name__}: {exc}).") from None
    for col in (id_col, pop_col):
        if col not in gdf.columns:
            raise InputError(f"Dissemination block file {path} has no {col} column; use the 2021 DB file with populations.")
    pop = pd.to_numeric(gdf[pop_col], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        raise InputError(f"Dissemination block file {path}, field {pop_col}: every block needs a non-negative population.")
    ids = gdf[id_col].astype(str).str.strip()
    out = gpd.GeoDataFrame({"dbuid": ids.to_numpy(), "dauid": ids.str[:8].to_numpy(), "pop2021": pop.to_numpy(float)},
                           geometry=gdf.geometry.representative_point().to_numpy(), crs=gdf.crs)
    return out.sort_values("dbuid").reset_index(drop=True)


def site_origin_ids(site_ids) -> pd.Series:
    """Origin ids of sites in one run's travel-time and access tables: ``site:<site_id>``.

    The prefix keeps user site ids of any form (``12``, ``farm 1``, ``da-1``) apart from the
    ``da-<dauid>`` ids of population points, so no two origins can share an id.
    """
    return "site:" + pd.Series(site_ids, dtype="str").reset_index(drop=True)


def da_origin_ids(dauids) -> pd.Series:
    """Origin ids of population points: ``da-<dauid>`` (never starting with ``site:``)."""
    return "da-" + pd.Series(dauids, dtype="str").reset_index(drop=True)


def demand_points(sites: gpd.GeoDataFrame | None = None, population: gpd.GeoDataFrame | None = None, *,
                  workers_col: str = "workers", people_col: str = "pop2021") -> gpd.GeoDataFrame:
    """Sites (workers) and population points (people) as one demand table for siting and access.

    Ids follow :func:`gapmap.pipeline.analyze`: ``site_id`` for sites, ``da-<dauid>`` for DA points.

    Returns
    -------
    GeoDataFrame
        ``origin_id, workers, people, geometry``; a site has ``people = 0`` and a DA point
        ``workers = 0`` (workers are not assumed to be counted in the census population).
    """
    frames = []
    if sites is not None and len(sites):
        ids = sites["site_id"] if "site_id" in sites.columns else _str_ids(sites, "origin_id")
        frames.append(gpd.GeoDataFrame(
            {"origin_id": ids.astype(str).to_numpy(),
             "workers": pd.to_numeric(sites[workers_col], errors="coerce").fillna(0).to_numpy(dtype=float),
             "people": 0.0}, geometry=sites.geometry.to_numpy(), crs=sites.crs))
    if population is not None and len(population):
        ids = ("da-" + population["dauid"].astype(str)) if "dauid" in population.columns \
            else _str_ids(population, "origin_id")
        frames.append(gpd.GeoDataFrame(
            {"origin_id": ids.astype(str).to_numpy(), "workers": 0.0,
             "people": pd.to_numeric(population[people_col], errors="coerce").fillna(0).to_numpy(dtype=float)},
            geometry=population.geometry.to_numpy(), crs=population.crs))
    if not frames:
        raise InputError("No demand given; pass sites and/or population points.")
    crs = frames[0].crs
    out = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)[["origin_id", "workers", "people", "geometry"]]


# --------------------------------------------------------------------------- H3 hexagons


def cell_polygons(cells: Iterable[str], crs) -> gpd.GeoSeries:
    """Polygons of H3 cells, reprojected to ``crs``."""
    rings = [h3.cell_to_boundary(c) for c in cells]
    if not rings:
        return gpd.GeoSeries([], crs="EPSG:4326").to_crs(crs)
    # One vectorised shapely call for all cells (a Python Polygon per cell cost ~50 us each,
    # 0.16 s for a region's 3,000 siting candidates); the same closed rings, the same vertices.
    lat_lng = np.array([v for ring in rings for v in ring], dtype=float)
    owner = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
    polys = shapely.polygons(shapely.linearrings(lat_lng[:, ::-1], indices=owner))
    return gpd.GeoSeries(polys, crs="EPSG:4326").to_crs(crs)


def point_cells(points: gpd.GeoDataFrame | gpd.GeoSeries, resolution: int) -> np.ndarray:
    """H3 cell id of each point (any CRS)."""
    ll = geo.as_gdf(points, "Points").geometry.to_crs("EPSG:4326")
    return np.array([h3.latlng_to_cell(y, x, resolution) for x, y in zip(ll.x, ll.y)], dtype=object)


def hex_grid(boundary: gpd.GeoDataFrame | gpd.GeoSeries, resolution: int, *,
             contain: str = "overlap") -> gpd.GeoDataFrame:
    """H3 hexagons over a boundary.

    Parameters
    ----------
    contain : {"overlap", "center"}
        ``overlap`` (default): every cell touching the boundary, so the grid covers it
        completely (edge cells stick out). ``center``: cells whose centre is inside.

    Returns
    -------
    GeoDataFrame
        ``hex_id``, geometry (Polygon) in the boundary's CRS, sorted by ``hex_id``.

    Notes
    -----
    Built from stable h3 4.x calls only (``geo_to_cells`` with centre containment): for
    ``overlap`` the boundary is first buffered by two average edge lengths (a cell overlapping
    the boundary has its centre within one circumradius = one edge length of it; x2 absorbs
    H3's size variation), then cells that do not intersect the boundary are dropped.
    """
    geo.check_h3_resolution(resolution)
    if contain not in ("overlap", "center"):
        raise InputError(f"Unknown hex containment {contain!r}; use 'overlap' or 'center'.")
    bnd = geo.as_gdf(boundary, "Boundary")
    proj = geo.projected(bnd)
    shape = proj.geometry.make_valid().union_all()
    cells = _centre_cells(shape, proj.crs, resolution, 2.0 if contain == "overlap" else 0.0)[0]
    polys = cell_polygons(cells, proj.crs)
    if contain == "overlap":
        keep = polys.intersects(shape).to_numpy() & ~polys.touches(shape).to_numpy()
        cells = [c for c, k in zip(cells, keep) if k]
        polys = polys[keep]
    out = gpd.GeoDataFrame({"hex_id": pd.Series(cells, dtype="str")}, geometry=polys.to_numpy(), crs=proj.crs)
    return out.to_crs(bnd.crs)


def hex_cells(boundary: gpd.GeoDataFrame | gpd.GeoSeries, resolution: int) -> list[str]:
    """Ids of the H3 cells whose centre is inside ``boundary``, sorted: ``hex_grid(contain="center")``'s
    ids without building the polygons (Northwestern Ontario has 688,914 cells at resolution 8)."""
    return hex_cell_centres(boundary, resolution)[0]


def hex_cell_centres(boundary: gpd.GeoDataFrame | gpd.GeoSeries, resolution: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`hex_cells` with each cell's centre: ``(ids, lat, lng)``, the centres in degrees
    as ``h3.cell_to_latlng`` gives them (found on the way; asking h3 again cost the siting
    candidates of Northwestern Ontario ~0.8 s)."""
    geo.check_h3_resolution(resolution)
    proj = geo.projected(geo.as_gdf(boundary, "Boundary"))
    return _centre_cells(proj.geometry.make_valid().union_all(), proj.crs, resolution, 0.0)


def _centre_cells(shape, crs, resolution: int, buffer_edges: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(ids, lat, lng)``: the sorted ids of the cells whose centre is inside ``shape`` (projected)
    buffered by that many average edges, and those centres in degrees."""
    search = shape.buffer(buffer_edges * h3.average_hexagon_edge_length(resolution, unit="m")) if buffer_edges else shape
    search_ll = gpd.GeoSeries([search], crs=crs).to_crs("EPSG:4326").iloc[0]
    # h3 tests every cell centre against every vertex of the shape (Northwestern Ontario: 8 s for
    # 689k cells and 4.6k vertices); the cells of the convex hull, kept where GEOS finds their
    # centre inside the shape (the same planar lat/lng test), are the same cells in ~1/3 of the time
    # (checked on every region's boundary, with and without the buffer). A degenerate hull: h3 on the shape.
    none = [], np.empty(0), np.empty(0)
    if search_ll.is_empty:
        return none
    hull = search_ll.convex_hull
    by_hull = hull.geom_type == "Polygon"
    cells = np.array(h3.geo_to_cells(hull if by_hull else search_ll, resolution), dtype=object)
    if cells.size == 0:
        return none
    lat, lng = np.array([h3.cell_to_latlng(c) for c in cells]).T
    inside = shapely.contains_xy(search_ll, lng, lat) if by_hull else np.ones(cells.size, dtype=bool)
    # np.unique orders str by code point, as sorted() does (h3 ids are ASCII hex).
    ids, first = np.unique(cells[inside].astype(str), return_index=True)
    return ids.tolist(), lat[inside][first], lng[inside][first]


def aggregate_to_hexes(points: gpd.GeoDataFrame, value_cols: str | Sequence[str], resolution: int) -> gpd.GeoDataFrame:
    """Sum point values per H3 cell (the cell holding each point).

    Returns
    -------
    GeoDataFrame
        ``hex_id, n_points, <value_cols...>`` (sums; NaN counts as 0, so the column totals equal
        the input totals), geometry (hexagon Polygon in the points' CRS); sorted by ``hex_id``;
        only cells holding at least one point.
    """
    geo.check_h3_resolution(resolution)
    points = geo.as_gdf(points, "Points")
    cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    missing = [c for c in cols if c not in points.columns]
    if missing:
        raise InputError(f"Points lack value column(s) {', '.join(missing)}; name existing columns.")
    pts = points[points.geometry.notna() & ~points.geometry.is_empty]
    df = pd.DataFrame({c: pd.to_numeric(pts[c], errors="coerce").fillna(0.0).to_numpy(dtype=float) for c in cols})
    df.insert(0, "hex_id", pd.Series(point_cells(pts, resolution), dtype="str"))
    grouped = df.groupby("hex_id", sort=True)
    agg = grouped[cols].sum()
    agg.insert(0, "n_points", grouped.size())
    agg = agg.reset_index()
    return gpd.GeoDataFrame(agg, geometry=cell_polygons(agg["hex_id"], points.crs).to_numpy(), crs=points.crs)
