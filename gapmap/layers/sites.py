"""The migrant-worker sites layer: LMIA employers (placed, worker estimate) or the user's sites file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gapmap import sources
from gapmap.sources import catalog
from gapmap.sources import geocode
from gapmap.errors import InputError
from gapmap.sources.regions import Region
from gapmap.layers.base import Layer, assign_areas, lonlat_points, nonnegative_rows, number_column, reject_rows
from gapmap.messages import Message

_GEOCODE_KEEP = ["geocode_precision", "geocode_match", "geocode_source", "geocode_licence", "geocode_note"]
SITE_COLUMNS = ["site_id", "employer", "community", "postal_code", "fsa", "stream", "noc_codes", "workers",
                "quarters_listed", "lmia_rows", "requested_rows", *_GEOCODE_KEEP, "area_id", "geometry"]
WORKER_NAMES = ("workers", "worker_count", "positions", "approved_positions", "count")


# --------------------------------------------------------------------------- sites


def _norm_employer(name: pd.Series) -> pd.Series:
    text = name.str.casefold().str.replace(r"[^\w\s]", " ", regex=True)
    text = text.str.replace(r"\b(inc|ltd|limited|incorporated|corp|corporation|co)\b", " ", regex=True)
    return text.str.replace(r"\s+", " ", regex=True).str.strip()


def estimate_workers(rows: pd.DataFrame) -> pd.DataFrame:
    """Worker estimate per site from approved LMIA positions.

    Positions approved in different quarters of one calendar year are different positions
    (separate LMIA approvals for separate arrivals), so they are summed within a year. The
    same farm applies again every year for largely the same seasonal jobs, so years are not
    summed: ``workers`` is the largest calendar-year total (the peak annual positions). This
    never counts one job twice across years; it can undercount a farm that grew. Positions
    are approvals, not workers present, so ``workers`` is an upper-bound style estimate.

    Parameters
    ----------
    rows : DataFrame
        ``site_id, year, quarter, approved_positions`` (one row per LMIA list row).
    """
    per_year = rows.groupby(["site_id", "year"])["approved_positions"].sum().unstack("year", fill_value=0)
    per_year.columns = [f"positions_{int(y)}" for y in per_year.columns]
    out = per_year.copy()
    out["workers"] = per_year.max(axis=1).round().astype(int)
    # Distinct (year, quarter) per site, without a Python function per group.
    out["quarters_listed"] = rows[["site_id", "year", "quarter"]].drop_duplicates().groupby("site_id").size()
    return out


def _empty_sites(crs) -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=object) for c in SITE_COLUMNS[:-1]}
    cols["workers"] = pd.Series(dtype=int)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def build_sites(region: Region, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, data_dir=None, *,
                streams: tuple[str, ...] = ("Primary Agriculture",),
                postal_points_file: str | Path | None = None) -> Layer:
    """Migrant-worker employer sites from ESDC positive LMIAs, placed by the geocoding cascade.

    Rows are placed by :func:`gapmap.sources.geocode.geocode` (own urban postal-code point,
    cited community point, rural post-office point, postal-area centroid); a row no rule
    places, or whose best point lies outside the boundary, is rejected with the reason.
    ``postal_points_file`` replaces the mirror's postal-code points (``--postal-points``).
    """
    crs = boundary.crs
    if region.province != "ON" and region.lmia_dataset is None:
        # The mirror holds the Ontario rows of the national LMIA lists only.
        return Layer("sites", _empty_sites(crs), 0, 0, reject_rows("sites", "", [], []), (),
                     (f"No offline LMIA employer list for {region.province}: the sites layer is empty (only Ontario rows are in the mirror).",))
    dataset_id = region.lmia_dataset or "lmia_ontario"
    path = catalog.resolve(dataset_id, data_dir)
    df = sources.read_lmia(path)
    n_read = len(df)
    df, rejects = _lmia_rows_in_streams(df, streams, path)
    tables = geocode.load_tables(gazetteer_dataset=region.gazetteer_dataset, municipality_names=region.municipality_names,
                                 data_dir=data_dir, postal_points_file=postal_points_file)
    codes = df["postal_code"].where(df["postal_code"].str.len() > 0, df["fsa"])
    gdf, placing_rejects = _place_rows(df, df["city"], codes, tables, boundary, layer="sites", source=path)
    rejects.append(placing_rejects)
    rej = pd.concat(rejects, ignore_index=True)
    if gdf.empty:
        return Layer("sites", _empty_sites(crs), n_read, 0, rej, (dataset_id,),
                     (Message(f"No {', '.join(streams)} LMIA rows placed inside the region.", "note_no_lmia_rows",
                              streams=list(streams)),))
    sites = _lmia_sites(gdf, areas)
    return Layer("sites", sites, n_read, int(len(gdf)), rej, (dataset_id, *_sources_used(sites, tables)),
                 _postal_licence_notes(sites))


def _lmia_rows_in_streams(df: pd.DataFrame, streams: tuple[str, ...], path) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """LMIA rows of the selected streams with a usable count; the rest as rejects."""
    known_streams = sorted(df["program_stream"].unique())
    unknown = [s for s in streams if s not in known_streams]
    if unknown:
        raise InputError(f"Unknown LMIA stream(s) {', '.join(map(repr, unknown))}; choose from {', '.join(known_streams)}.")
    other = ~df["program_stream"].isin(streams)
    rejects = [reject_rows("sites", path, df.loc[other, "source_row"],
                        [f"stream {s!r} not selected (--stream)" for s in df.loc[other, "program_stream"]])]
    df = df[~other]
    no_count = df["approved_positions"].isna() | (df["approved_positions"] < 0) | df["year"].isna()
    rejects.append(reject_rows("sites", path, df.loc[no_count, "source_row"], "approved positions or year missing or not a number"))
    return df[~no_count], rejects


def _place_rows(df: pd.DataFrame, places: pd.Series, codes: pd.Series, tables: geocode.Gazetteers,
               boundary: gpd.GeoDataFrame, *, layer: str, source) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Geocode rows by the cascade and keep those whose best point is inside the boundary.

    Parameters
    ----------
    df : DataFrame
        Rows with a ``source_row`` column; ``places`` and ``codes`` share its index.
    tables : Gazetteers
        The cascade's tables (:func:`gapmap.sources.geocode.load_tables`).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        Placed rows in the boundary's CRS (with the :data:`geocode.GEOCODE_COLUMNS`), and the
        rejects: rows no rule places (every rule's reason) and rows placed outside the region
        (the distance from the boundary in km).
    """
    geo = geocode.geocode(places, codes, tables)
    df = pd.concat([df.drop(columns=[c for c in geocode.GEOCODE_COLUMNS if c in df.columns]), geo], axis=1)
    unplaced = df["lon"].isna()
    rejects = [reject_rows(layer, source, df.loc[unplaced, "source_row"],
                        [f"not placed: {n}" for n in df.loc[unplaced, "geocode_note"]])]
    gdf = lonlat_points(df[~unplaced], "lon", "lat", boundary.crs)
    outline = boundary.geometry.iloc[0]
    # Distance > 0 exactly where a point does not intersect the outline: measured only there.
    pts = gdf.geometry.to_numpy()
    shapely.prepare(outline)
    outside = pd.Series(~shapely.intersects(pts, outline) & ~(shapely.is_missing(pts) | shapely.is_empty(pts)), index=gdf.index)
    km = pd.Series(0.0, index=gdf.index)
    km[outside] = shapely.distance(pts[outside.to_numpy()], outline) / 1000.0
    rejects.append(reject_rows(layer, source, gdf.loc[outside, "source_row"], [
        f"placed outside the region by its best point ({geocode.PRECISION_WORDS[p]}: {m}), {d:.1f} km from the boundary"
        for p, m, d in zip(gdf.loc[outside, "geocode_precision"], gdf.loc[outside, "geocode_match"], km[outside])]))
    return gdf[~outside], pd.concat(rejects, ignore_index=True)


def _site_areas(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each site; a site placed only at a postal-area centroid is in no area we can name."""
    out = np.full(len(sites), geocode.AREA_UNKNOWN, dtype=object)
    known = ~sites["geocode_precision"].eq(geocode.POSTAL_AREA).to_numpy() if "geocode_precision" in sites else np.ones(len(sites), bool)
    if known.any():
        out[known] = assign_areas(sites[known], areas).to_numpy()
    return out


def _lmia_sites(gdf: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One site per employer location (same employer, postal code and community), workers estimated."""
    crs = gdf.crs
    location = gdf["postal_code"].where(gdf["postal_code"].str.len() == 6, gdf["fsa"])
    key = _norm_employer(gdf["employer"]) + "|" + location + "|" + gdf["city"].map(geocode.normalize_place)
    gdf = gdf.assign(site_id="site-" + key.map(lambda k: hashlib.sha1(k.encode()).hexdigest()[:10]))
    counts = estimate_workers(gdf)
    first = gdf.sort_values(["site_id", "year", "quarter", "source_row"]).groupby("site_id").first()
    agg = gdf.groupby("site_id").agg(
        noc_codes=("noc2011_code", lambda s: ";".join(sorted(set(s)))),
        lmia_rows=("source_row", "size"),
        requested_rows=("count_header_in_source", lambda s: int((s == "Requested").sum())),
    )
    sites = first[["employer", "city", "postal_code", "fsa", "program_stream", *_GEOCODE_KEEP, "geometry"]]
    sites = sites.rename(columns={"city": "community", "program_stream": "stream"}).join(agg).join(counts)
    sites = gpd.GeoDataFrame(sites.reset_index(), geometry="geometry", crs=crs)
    sites["area_id"] = _site_areas(sites, areas)
    year_cols = sorted(c for c in sites.columns if c.startswith("positions_"))
    cols = [*SITE_COLUMNS[:8], *year_cols, *SITE_COLUMNS[8:]]
    return sites[cols].sort_values("site_id").reset_index(drop=True)


def _sources_used(sites: pd.DataFrame, tables: geocode.Gazetteers) -> tuple[str, ...]:
    """Geocoding tables that placed at least one site, in cascade order (for sources and attribution)."""
    used = set(sites["geocode_source"].dropna())
    return tuple(s for s in tables.sources if s in used)


def _postal_licence_notes(sites: pd.DataFrame) -> tuple[str, ...]:
    """Say how many sites rest on a postal-point table whose licence is not stated."""
    unstated = sites["geocode_licence"].fillna("").str.startswith("licence not stated")
    if not unstated.any():
        return ()
    return (Message(f"{int(unstated.sum())} sites are placed at postal-code or rural post-office points from a table whose "
                    "licence is not stated (PyPI cazipcode 0.0.2); pass --postal-points FILE (e.g. Statistics Canada's PCCF) "
                    "to use your own.", "note_postal_licence", n=int(unstated.sum())),)


def build_user_sites(path: str | Path, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, crs: str | None = None,
                     data_dir=None, region: Region | None = None, postal_points_file: str | Path | None = None) -> Layer:
    """Sites from a user file: coordinates (or community / postal code) and a worker count per row.

    Rows without coordinates are placed by the geocoding cascade (:mod:`gapmap.sources.geocode`)
    with the region's gazetteer and ``postal_points_file`` (else the mirror's postal points).
    """
    from gapmap.sources import inputs

    tables = geocode.load_tables(gazetteer_dataset=region.gazetteer_dataset if region else None,
                                 municipality_names=region.municipality_names if region else (),
                                 data_dir=data_dir, postal_points_file=postal_points_file)
    table = inputs.read_table(path, layer="sites", crs=crs, gazetteers=tables)
    wcol = number_column(table, WORKER_NAMES, "sites")
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="sites", id_col="site_id", points=True)
    gdf, workers, rej = nonnegative_rows(gdf, wcol, rej, "sites", path)
    cols = {c.lower(): c for c in gdf.columns}
    name = gdf[cols["employer"]] if "employer" in cols else gdf[cols["name"]] if "name" in cols else ""
    ids = gdf[cols["site_id"]].astype(str) if "site_id" in cols else "site-u" + gdf["source_row"].astype(str)
    geocoded = "geocode_precision" in gdf
    sites = gpd.GeoDataFrame({
        "site_id": ids.to_numpy(), "employer": name, "community": gdf[cols["community"]] if "community" in cols else "",
        "postal_code": "", "fsa": "", "stream": "user", "noc_codes": "", "workers": workers.round().astype(int).to_numpy(),
        "quarters_listed": 0, "lmia_rows": 0, "requested_rows": 0,
        **{c: gdf[c].to_numpy() if geocoded else None for c in _GEOCODE_KEEP},
    }, geometry=gdf.geometry.to_numpy(), crs=boundary.crs)
    if not geocoded:
        sites["geocode_precision"], sites["geocode_source"] = "user coordinates", str(path)
    sites["area_id"] = _site_areas(sites, areas) if len(sites) else []
    sites = sites[SITE_COLUMNS].sort_values("site_id").reset_index(drop=True)
    datasets = (str(path), *(_sources_used(sites, tables) if geocoded else ()))
    return Layer("sites", sites, table.rows_read, len(sites), rej, datasets, (*notes, *_postal_licence_notes(sites)))

