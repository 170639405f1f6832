"""The population layer: dissemination areas or blocks, or the user's points or GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap import sources
from gapmap.sources import catalog
from gapmap.errors import InputError
from gapmap.sources.regions import Region
from gapmap.layers.base import Layer, assign_areas, lonlat_points, nonnegative_rows, number_column, reject_rows
from gapmap.messages import Message

POP_NAMES = ("pop2021", "population", "pop", "value", "people", "dbpop")


# --------------------------------------------------------------------------- population


def build_population(region: Region, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, data_dir=None, *,
                     clip: bool = False) -> tuple[Layer, float | None]:
    """2021 DA population and CIMD scores at the 2016 DA representative points.

    A region made of whole census divisions takes every DA of its CDs (the DAUID carries the CD
    code, exact where the simplified CD polygon is not). A city smaller than its CD
    (``region.city_csd``), a region without a standard boundary, or ``clip=True`` (a user
    ``--boundary``) takes the DAs whose point falls inside the boundary.

    Returns
    -------
    (layer, census_total)
        ``census_total``: the total 2021 population of the region's CDs (from the CD rows of the
        population file), or the city's published population for a city LIP
        (``region.census_population``), or None when neither applies (a user boundary).
    """
    if region.blocks_dataset and catalog.available(region.blocks_dataset, data_dir):
        return _block_population(region, boundary, areas, data_dir)
    crs = boundary.crs
    pop_path = catalog.resolve("da_population_2021", data_dir)
    pop = sources.read_da_population(pop_path)
    cds = region.cd_codes
    by_point = clip or region.city_csd is not None or region.boundary_kind == "none offline"
    totals = pop[pop["dauid"].isin(cds)]
    if clip:
        census_total = None
    elif region.city_csd is not None:
        census_total = float(region.census_population) if region.census_population else None
    else:
        census_total = float(totals["pop2021"].sum()) if len(totals) == len(cds) and cds else None
    pop = pop[pop["dauid"].str.len() == 8]
    pts = sources.read_da_points(catalog.resolve("da_centroids_2016", data_dir))
    cimd = sources.read_cimd(catalog.resolve("da_cimd_2021", data_dir))
    if cds:
        cand = pop[pop["dauid"].str[:4].isin(cds)]
    else:
        # No census code (user boundary): candidates are the DAs whose point falls in its bbox.
        minx, miny, maxx, maxy = boundary.to_crs("EPSG:4326").total_bounds
        inbox = pts[pts["lon"].between(minx, maxx) & pts["lat"].between(miny, maxy)]["dauid"]
        cand = pop[pop["dauid"].isin(inbox)]
    cand = cand.merge(pts, on="dauid", how="left").merge(cimd, on="dauid", how="left")
    n_read = len(cand)
    rejects = []
    nopt = cand["lon"].isna()
    rejects.append(reject_rows("population", pop_path, cand.loc[nopt, "source_row"], "DA has no 2016 representative point (new since 2016)"))
    notes = []
    if nopt.any() and not by_point:
        notes.append(Message(
            f"{int(nopt.sum())} DAs ({cand.loc[nopt, 'pop2021'].sum():,.0f} people) are new since 2016 and have no "
            "representative point offline, so they are not placed; population totals leave them out.",
            "note_new_das", n=int(nopt.sum()), people=float(cand.loc[nopt, "pop2021"].sum())))
    unplaced = float(cand.loc[nopt, "pop2021"].sum())
    cand = cand[~nopt]
    gdf = lonlat_points(cand, "lon", "lat", crs)
    if by_point:
        outside = ~gdf.within(boundary.geometry.iloc[0])
        rejects.append(reject_rows("population", pop_path, gdf.loc[outside, "source_row"], "DA point outside the region boundary"))
        gdf = gdf[~outside]
        if nopt.any():
            placed = float(gdf["pop2021"].sum())
            gap, gap_params = "", {}
            if census_total and placed < census_total:
                gap_params = {"gap": "fewer", "placed": placed, "missing": census_total - placed,
                              "share": (census_total - placed) / census_total, "census_total": float(census_total),
                              "census_source": region.census_source}
                gap = (f"; the placed DAs hold {placed:,.0f} people, {census_total - placed:,.0f} "
                       f"({(census_total - placed) / census_total:.1%}) fewer than the census total of {census_total:,.0f} "
                       f"({region.census_source})")
            elif census_total:
                gap = f"; the placed DAs already hold the census total of {census_total:,.0f} ({region.census_source})"
                gap_params = {"gap": "full", "census_total": float(census_total), "census_source": region.census_source}
            notes.append(Message(
                f"{int(nopt.sum())} DAs ({unplaced:,.0f} people) of census division {'+'.join(cds)} are new since 2016 "
                "and have no representative point offline, so it is unknown whether they lie inside the region; "
                f"they are not placed{gap}.",
                "note_new_das_cd", n=int(nopt.sum()), people=unplaced, cds="+".join(cds), **gap_params))
    gdf = gdf.drop(columns=["lon", "lat", "source_row"])
    gdf["area_id"] = assign_areas(gdf, areas).to_numpy()
    cols = ["dauid", "pop2021", *[c for c in gdf.columns if c.startswith("cimd_")], "area_id", "geometry"]
    gdf = gdf[cols].sort_values("dauid").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    layer = Layer("population", gpd.GeoDataFrame(gdf, geometry="geometry", crs=crs), n_read, len(gdf), rej,
                  ("da_population_2021", "da_centroids_2016", "da_cimd_2021"), tuple(notes))
    return layer, census_total


def _block_population(region: Region, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, data_dir=None) -> tuple[Layer, float | None]:
    """The region's 2021 dissemination blocks (finer than DAs) at representative points, CIMD joined by DA."""
    from gapmap.layers.demand import read_block_population

    path = catalog.resolve(region.blocks_dataset, data_dir)
    gdf = read_block_population(path, layer="dissemination_blocks_pop2021" if path.suffix == ".gpkg" else None).to_crs(boundary.crs)
    if catalog.available("da_cimd_2021", data_dir):
        gdf = gdf.merge(sources.read_cimd(catalog.resolve("da_cimd_2021", data_dir)), on="dauid", how="left")
    gdf["area_id"] = assign_areas(gdf, areas).to_numpy()
    # Ids stay in the ``dauid`` column (the pipeline's demand id); the block's DA is kept as ``da``.
    gdf = gdf.rename(columns={"dauid": "da"}).rename(columns={"dbuid": "dauid"})
    cols = ["dauid", "pop2021", *[c for c in gdf.columns if c.startswith("cimd_")], "area_id", "da", "geometry"]
    gdf = gpd.GeoDataFrame(gdf[cols], geometry="geometry", crs=boundary.crs)
    note = Message(f"Population: {len(gdf):,} 2021 dissemination blocks ({gdf['pop2021'].sum():,.0f} people), each at a point "
                   "inside the block (finer than the DAs).", "note_blocks", n=len(gdf), people=int(round(float(gdf["pop2021"].sum()))))
    layer = Layer("population", gdf, len(gdf), len(gdf), reject_rows("population", path, [], []),
                  (region.blocks_dataset, "da_cimd_2021"), (note,))
    census_total = None
    if catalog.available("da_population_2021", data_dir) and region.cd_codes:
        # The published CD totals, independent of the block file, so the two can be compared.
        pop = sources.read_da_population(catalog.resolve("da_population_2021", data_dir))
        totals = pop[pop["dauid"].isin(region.cd_codes)]
        census_total = float(totals["pop2021"].sum()) if len(totals) == len(region.cd_codes) else None
    return layer, census_total


def _raster_population(path, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> Layer:
    """Cells of a population GeoTIFF as demand points (rasterio); every cell read is accounted for."""
    from gapmap.layers import demand

    if not Path(path).exists():
        raise InputError(f"Population file {path} does not exist; check the path.")
    try:
        pts = demand.raster_to_points(path, boundary=boundary, value_col="pop2021", min_value=0.0)
    except InputError:
        raise
    except Exception as exc:  # rasterio raises several types for unreadable rasters
        raise InputError(f"Population file {path} cannot be read as a GeoTIFF raster ({exc}); give a single-band GeoTIFF.") from None
    pts = pts.to_crs(boundary.crs)
    out = gpd.GeoDataFrame({"dauid": pts["origin_id"].astype(str).to_numpy(), "pop2021": pts["pop2021"].astype(float).to_numpy(),
                            "cimd_ethnocult": np.nan}, geometry=pts.geometry.to_numpy(), crs=boundary.crs)
    out["area_id"] = assign_areas(out, areas).to_numpy() if len(out) else []
    out = out.sort_values("dauid").reset_index(drop=True)
    note = f"{Path(path).name}: {len(out)} populated raster cells inside the region used as demand points (cell centres)."
    return Layer("population", out, len(out), len(out), reject_rows("population", path, [], []), (str(path),), (note,))


def build_user_population(path: str | Path, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                          crs: str | None = None) -> Layer:
    """Population from a user file of points or polygons (polygons are placed at a representative point),
    or a GeoTIFF population raster (one demand point per populated cell inside the region)."""
    from gapmap.sources import inputs

    if Path(path).suffix.lower() in (".tif", ".tiff"):
        return _raster_population(path, boundary, areas)
    table = inputs.read_table(path, layer="population", crs=crs)
    pcol = number_column(table, POP_NAMES, "population")
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="population", id_col="dauid")
    if not gdf.geom_type.eq("Point").all():
        notes.append(f"{Path(path).name}: polygons placed at their representative points.")
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    gdf, pop, rej = nonnegative_rows(gdf, pcol, rej, "population", path)
    cols = {c.lower(): c for c in gdf.columns}
    ids = gdf[cols["dauid"]].astype(str) if "dauid" in cols else "u" + gdf["source_row"].astype(str)
    out = gpd.GeoDataFrame({"dauid": ids.to_numpy(), "pop2021": pop.to_numpy(),
                            "cimd_ethnocult": sources.to_float(gdf[cols["cimd_ethnocult"]].astype(str)).to_numpy()
                            if "cimd_ethnocult" in cols else np.nan},
                           geometry=gdf.geometry.to_numpy(), crs=boundary.crs)
    out["area_id"] = assign_areas(out, areas).to_numpy() if len(out) else []
    out = out.sort_values("dauid").reset_index(drop=True)
    return Layer("population", out, table.rows_read, len(out), rej, (str(path),), tuple(notes))
