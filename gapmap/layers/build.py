"""Region layers built from the catalog: boundary, areas, services, sites, population.

Every builder returns a :class:`Layer`: a GeoDataFrame in the region's projected CRS
(NAD83 / UTM zone of the region) plus the accounting of its input rows
(``rows_read = rows_used + rows_rejected``; every rejected row is in ``rejects`` with
its file, line and reason).

Schemas (column -> meaning); geometry is always the last column:

``boundary``
    region (slug), name, geometry (Polygon/MultiPolygon).
``areas``
    area_id (str), area_name, geometry. Wards where the region has a ward file.
``services``
    service_id (str, ``odhf-<index>``), name, category (hospital | primary_care |
    residential_care | user categories), source_type, provider, address, in_region (bool;
    services within ``edge_buffer_m`` outside the boundary are kept because people cross
    borders for care), source (dataset id), source_row, geometry (Point).
``sites`` (migrant-worker employers; sensitive)
    site_id (stable hash of employer + location), employer, community, postal_code, fsa,
    stream, noc_codes, workers (estimate, see :func:`estimate_workers`), positions_<year>,
    quarters_listed, lmia_rows, requested_rows, geocode_precision (community |
    postal_area), geocode_match, area_id, geometry (Point).
``population``
    dauid (str), pop2021 (float), cimd_ethnocult and the other CIMD scores, area_id,
    geometry (Point: 2016 population-weighted DA representative point).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap import sources
from gapmap.sources import catalog
from gapmap.sources import geocode
from gapmap.errors import InputError
from gapmap.sources.regions import Region

REJECT_COLUMNS = ["layer", "source", "row", "reason"]

SITE_COLUMNS = ["site_id", "employer", "community", "postal_code", "fsa", "stream", "noc_codes", "workers",
                "quarters_listed", "lmia_rows", "requested_rows", "geocode_precision", "geocode_match", "area_id", "geometry"]

ODHF_CATEGORIES = {
    "Hospitals": "hospital",
    "Ambulatory health care services": "primary_care",
    "Nursing and residential care facilities": "residential_care",
}


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


def _rejects(layer: str, source: str | os.PathLike, rows, reasons) -> pd.DataFrame:
    rows = list(rows)
    reasons = list(reasons) if not isinstance(reasons, str) else [reasons] * len(rows)
    return pd.DataFrame({"layer": layer, "source": str(source), "row": pd.Series(rows, dtype="int64"), "reason": reasons},
                        columns=REJECT_COLUMNS)


def utm_crs(boundary_4326: gpd.GeoSeries) -> str:
    """NAD83 / UTM CRS of the zone holding the boundary's centre (metres; <0.1% scale error)."""
    lon = boundary_4326.union_all().centroid.x
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{26900 + zone}" if 7 <= zone <= 23 else "EPSG:3347"


def _points(df: pd.DataFrame, lon: str, lat: str, crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326").to_crs(crs)


# --------------------------------------------------------------------------- boundary, areas


def build_boundary(region: Region, data_dir=None, boundary_file: str | Path | None = None) -> tuple[Layer, Layer]:
    """Region boundary and its analysis areas (wards, census divisions, or the user's polygons).

    Returns
    -------
    (boundary, areas) : tuple of Layer
    """
    if boundary_file is not None:
        gdf = sources.read_vector(boundary_file, what="Boundary")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        had_polygons = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any()
        gdf = gdf.set_geometry(gdf.geometry.make_valid())
        gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"])]
        if gdf.empty and had_polygons:  # repairing a flat polygon leaves a line
            raise InputError(f"Boundary file {boundary_file} has only polygons of zero area; give the region's real outline.")
        if gdf.empty:
            raise InputError(f"Boundary file {boundary_file} has no polygons; give a polygon layer of the region.")
        _check_boundary_extent(gdf, boundary_file)
        name_col = next((c for c in gdf.columns if c.lower() in ("name", "area_name", "ward_name", "label")), None)
        id_col = next((c for c in gdf.columns if c.lower() in ("id", "area_id", "ward_no", "ward_id", "code")), None)
        areas = gpd.GeoDataFrame(
            {
                "area_id": gdf[id_col].astype(str).to_numpy() if id_col else [f"area-{i + 1}" for i in range(len(gdf))],
                "area_name": gdf[name_col].astype(str).to_numpy() if name_col else [f"Area {i + 1}" for i in range(len(gdf))],
            },
            geometry=gdf.geometry.to_crs("EPSG:4326").to_numpy(), crs="EPSG:4326",
        )
        used = (str(boundary_file),)
        n_read = len(gdf)
    elif region.boundary_kind == "ward file":
        path = catalog.resolve(region.wards_dataset, data_dir)
        wards = sources.read_vector(path, what="Wards").to_crs("EPSG:4326")
        wards = wards.sort_values("WARD_NO")
        areas = gpd.GeoDataFrame(
            {"area_id": [f"ward-{int(n)}" for n in wards["WARD_NO"]], "area_name": [f"Ward {int(n)}" for n in wards["WARD_NO"]]},
            geometry=wards.geometry.to_numpy(), crs="EPSG:4326",
        )
        used = (region.wards_dataset,)
        n_read = len(wards)
    elif region.boundary_kind == "census division":
        path = catalog.resolve("census_divisions_2016", data_dir)
        cds = gpd.read_file(path, where=f"cduid IN ({', '.join(repr(c) for c in region.codes)})").to_crs("EPSG:4326")
        if cds.empty:
            raise InputError(f"Census division(s) {', '.join(region.codes)} not found in {path}; check the region's codes.")
        cds = cds.sort_values("cduid")
        areas = gpd.GeoDataFrame({"area_id": "cd-" + cds["cduid"].astype(str), "area_name": cds["cdname"].astype(str)},
                                 geometry=cds.geometry.to_numpy(), crs="EPSG:4326")
        used = ("census_divisions_2016",)
        n_read = len(cds)
    elif region.boundary_kind == "census subdivision":
        path = catalog.resolve("census_subdivisions_2011", data_dir)
        csd = sources.read_vector(path, what="Census subdivisions").to_crs("EPSG:4326")
        csd = csd[csd["ID"].astype(str).isin(region.codes)]
        if csd.empty:
            raise InputError(f"Census subdivision(s) {', '.join(region.codes)} not found in {path}; pass --boundary FILE.")
        areas = gpd.GeoDataFrame({"area_id": "csd-" + csd["ID"].astype(str), "area_name": csd["Name"].astype(str)},
                                 geometry=csd.geometry.to_numpy(), crs="EPSG:4326")
        used = ("census_subdivisions_2011",)
        n_read = len(csd)
    else:
        raise InputError(
            f"Region {region.slug!r} has no offline boundary ({region.note or 'no standard geography'}); "
            "pass --boundary FILE with its polygon(s)."
        )
    crs = utm_crs(areas.geometry)
    areas = areas.to_crs(crs).reset_index(drop=True)
    outline = gpd.GeoDataFrame({"region": [region.slug], "name": [region.name]}, geometry=[areas.union_all()], crs=crs)
    empty = _rejects("boundary", "", [], [])
    return (
        Layer("boundary", outline, n_read, n_read, empty, used),
        Layer("areas", areas, n_read, n_read, empty.assign(layer="areas"), used),
    )


#: A user boundary wider than this (degrees of longitude / latitude) is not one region.
MAX_BOUNDARY_SPAN_DEG = (40.0, 25.0)


def _check_boundary_extent(gdf: gpd.GeoDataFrame, path) -> None:
    """Refuse zero-area and continent- or world-sized boundaries, which no region's analysis can use."""
    ll = gdf.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = ll.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        raise InputError(f"Boundary file {path} has coordinates that cannot be placed on the earth; check its CRS.")
    if maxx - minx > MAX_BOUNDARY_SPAN_DEG[0] or maxy - miny > MAX_BOUNDARY_SPAN_DEG[1]:
        raise InputError(f"Boundary file {path} spans {maxx - minx:.0f} degrees of longitude and {maxy - miny:.0f} of "
                         f"latitude, far more than one region (at most {MAX_BOUNDARY_SPAN_DEG[0]:g} x "
                         f"{MAX_BOUNDARY_SPAN_DEG[1]:g}); give the region's own polygon(s).")
    area = float(ll.to_crs(utm_crs(ll.geometry)).area.sum())
    if not area >= 1.0:
        raise InputError(f"Boundary file {path} has polygons of zero area ({area:.2g} m²); give the region's real outline.")


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


# --------------------------------------------------------------------------- services


def build_services(boundary: gpd.GeoDataFrame, data_dir=None, *, edge_buffer_m: float = 30_000.0,
                   services_file: str | Path | list | None = None) -> Layer:
    """ODHF health facilities inside the region and within ``edge_buffer_m`` of it.

    ``services_file`` (CSV with ``name, category, latitude, longitude``) adds user services,
    e.g. settlement agencies or walk-in clinics that ODHF does not list.
    """
    crs = boundary.crs
    path = catalog.resolve("odhf", data_dir)
    df = sources.read_odhf(path)
    rejects = []
    category = df["odhf_facility_type"].map(ODHF_CATEGORIES)
    bad_type = category.isna()
    rejects.append(_rejects("services", path, df.loc[bad_type, "source_row"],
                            [f"unknown facility type {t!r}" for t in df.loc[bad_type, "odhf_facility_type"]]))
    no_xy = ~bad_type & (df["latitude"].isna() | df["longitude"].isna())
    rejects.append(_rejects("services", path, df.loc[no_xy, "source_row"], "no coordinates"))
    ok = df[~bad_type & ~no_xy].assign(category=category)
    gdf = _points(ok, "longitude", "latitude", crs)
    outline = boundary.geometry.iloc[0]
    dist = gdf.distance(outline)
    far = dist > edge_buffer_m
    rejects.append(_rejects("services", path, gdf.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    gdf = gdf[~far]
    address = (gdf["street_no"] + " " + gdf["street_name"]).str.strip() + ", " + gdf["city"] + " " + gdf["postal_code"]
    services = gpd.GeoDataFrame(
        {
            "service_id": "odhf-" + gdf["index"].astype(str),
            "name": gdf["facility_name"],
            "category": gdf["category"],
            "source_type": gdf["source_facility_type"],
            "provider": gdf["provider"],
            "address": address.str.strip(" ,"),
            "in_region": gdf.within(outline).to_numpy(),
            "source": "odhf",
            "source_row": gdf["source_row"].astype(int),
        },
        geometry=gdf.geometry, crs=crs,
    )
    layer_rejects = [pd.concat(rejects, ignore_index=True)]
    n_read = len(df)
    datasets = ["odhf"]
    notes: list[str] = []
    user_files = [] if services_file is None else services_file if isinstance(services_file, (list, tuple)) else [services_file]
    for f in user_files:
        extra, extra_rejects, n_extra, extra_notes = read_user_services(f, boundary, edge_buffer_m=edge_buffer_m)
        services = pd.concat([services, extra], ignore_index=True)
        layer_rejects.append(extra_rejects)
        notes += extra_notes
        n_read += n_extra
        datasets.append(str(f))
    services = services.sort_values("service_id").reset_index(drop=True)
    rej = pd.concat(layer_rejects, ignore_index=True)
    return Layer("services", gpd.GeoDataFrame(services, geometry="geometry", crs=crs), n_read, len(services), rej,
                 tuple(datasets), tuple(notes))


def read_user_services(path: str | Path, boundary: gpd.GeoDataFrame, *, edge_buffer_m: float = 30_000.0,
                       crs: str | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, list[str]]:
    """A user services file: ``name, category`` + coordinates (see :mod:`gapmap.sources.inputs`).

    Optional columns: ``service_id``, ``address``, ``capacity``, ``opening_hours``, ``languages``.
    """
    from gapmap.sources import inputs

    table = inputs.read_table(path, layer="services", required=("name", "category"), crs=crs)
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="services", id_col="service_id",
                                                  keep_outside_m=edge_buffer_m, points=True)
    cols = {c.lower(): c for c in gdf.columns}
    get = lambda name, default="": gdf[cols[name]] if name in cols else default  # noqa: E731
    ids = get("service_id", None)
    out = gpd.GeoDataFrame(
        {"service_id": ids.astype(str) if ids is not None else "user-" + gdf["source_row"].astype(str),
         "name": get("name"), "category": get("category").str.strip().str.lower(), "source_type": "user",
         "provider": get("provider"), "address": get("address"),
         "in_region": gdf.within(boundary.geometry.iloc[0]).to_numpy(),
         "source": str(path), "source_row": gdf["source_row"].astype(int)},
        geometry=gdf.geometry, crs=boundary.crs,
    )
    for extra in ("capacity", "opening_hours", "languages"):
        if extra in cols:
            out[extra] = gdf[cols[extra]].to_numpy()
    return out, rej, table.rows_read, notes


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
    out["quarters_listed"] = rows.groupby("site_id")[["year", "quarter"]].apply(lambda g: len(g.drop_duplicates()))
    return out


def _empty_sites(crs) -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=object) for c in SITE_COLUMNS[:-1]}
    cols["workers"] = pd.Series(dtype=int)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def build_sites(region: Region, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, data_dir=None, *,
                streams: tuple[str, ...] = ("Primary Agriculture",)) -> Layer:
    """Migrant-worker employer sites from ESDC positive LMIAs, geocoded offline."""
    crs = boundary.crs
    if region.province != "ON" and region.lmia_dataset is None:
        # The mirror holds the Ontario rows of the national LMIA lists only.
        return Layer("sites", _empty_sites(crs), 0, 0, _rejects("sites", "", [], []), (),
                     (f"No offline LMIA employer list for {region.province}: the sites layer is empty (only Ontario rows are in the mirror).",))
    dataset_id = region.lmia_dataset or "lmia_ontario"
    path = catalog.resolve(dataset_id, data_dir)
    df = sources.read_lmia(path)
    n_read = len(df)
    known_streams = sorted(df["program_stream"].unique())
    unknown = [s for s in streams if s not in known_streams]
    if unknown:
        raise InputError(f"Unknown LMIA stream(s) {', '.join(map(repr, unknown))}; choose from {', '.join(known_streams)}.")
    rejects = []
    other = ~df["program_stream"].isin(streams)
    rejects.append(_rejects("sites", path, df.loc[other, "source_row"],
                            [f"stream {s!r} not selected (--stream)" for s in df.loc[other, "program_stream"]]))
    df = df[~other]
    no_count = df["approved_positions"].isna() | (df["approved_positions"] < 0) | df["year"].isna()
    rejects.append(_rejects("sites", path, df.loc[no_count, "source_row"], "approved positions or year missing or not a number"))
    df = df[~no_count]
    norm_city = df["city"].map(geocode.normalize_place)
    excluded = dict(region.excluded_places)
    is_excl = norm_city.isin(list(excluded))
    rejects.append(_rejects("sites", path, df.loc[is_excl, "source_row"], norm_city[is_excl].map(excluded)))
    df = df[~is_excl]
    gaz = sources.read_gazetteer(catalog.resolve(region.gazetteer_dataset, data_dir)) if region.gazetteer_dataset else None
    fsa = sources.read_fsa_centroids(catalog.resolve("geonames_fsa", data_dir))
    geo = geocode.geocode_places(df["city"], df["fsa"], gaz, fsa, municipality_names=region.municipality_names)
    df = pd.concat([df, geo], axis=1)
    unplaced = df["lon"].isna()
    rejects.append(_rejects("sites", path, df.loc[unplaced, "source_row"],
                            "community not in the gazetteer and no valid postal code to fall back on"))
    df = df[~unplaced]
    gdf = _points(df, "lon", "lat", crs)
    outside = ~gdf.within(boundary.geometry.iloc[0])
    rejects.append(_rejects("sites", path, gdf.loc[outside, "source_row"],
                            [f"geocoded outside the region ({p})" for p in gdf.loc[outside, "geocode_precision"]]))
    gdf = gdf[~outside]
    if gdf.empty:
        rej = pd.concat(rejects, ignore_index=True)
        return Layer("sites", _empty_sites(crs), n_read, 0, rej, (dataset_id,),
                     (f"No {', '.join(streams)} LMIA rows placed inside the region.",))
    # One site per employer location: the same employer at the same postal code and community.
    location = gdf["postal_code"].where(gdf["postal_code"].str.len() == 6, gdf["fsa"])
    key = _norm_employer(gdf["employer"]) + "|" + location + "|" + gdf["city"].map(geocode.normalize_place)
    gdf["site_id"] = "site-" + key.map(lambda k: hashlib.sha1(k.encode()).hexdigest()[:10])
    counts = estimate_workers(gdf)
    first = gdf.sort_values(["site_id", "year", "quarter", "source_row"]).groupby("site_id").first()
    agg = gdf.groupby("site_id").agg(
        noc_codes=("noc2011_code", lambda s: ";".join(sorted(set(s)))),
        lmia_rows=("source_row", "size"),
        requested_rows=("count_header_in_source", lambda s: int((s == "Requested").sum())),
    )
    sites = first[["employer", "city", "postal_code", "fsa", "program_stream", "geocode_precision", "geocode_match", "geometry"]]
    sites = sites.rename(columns={"city": "community", "program_stream": "stream"}).join(agg).join(counts)
    sites = gpd.GeoDataFrame(sites.reset_index(), geometry="geometry", crs=crs)
    sites["area_id"] = assign_areas(sites, areas).to_numpy()
    year_cols = sorted(c for c in sites.columns if c.startswith("positions_"))
    cols = [*SITE_COLUMNS[:8], *year_cols, *SITE_COLUMNS[8:]]
    sites = sites[cols].sort_values("site_id").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    datasets = tuple(d for d in (dataset_id, region.gazetteer_dataset, "geonames_fsa") if d)
    return Layer("sites", sites, n_read, int(len(gdf)), rej, datasets)


# --------------------------------------------------------------------------- population


def build_population(region: Region, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, data_dir=None, *,
                     clip: bool = False) -> tuple[Layer, float | None]:
    """2021 DA population and CIMD scores at the 2016 DA representative points.

    Returns the layer and the census total population of the region's census divisions
    (from the CD rows of the population file), or None when the region has no CD code or
    ``clip`` is set. ``clip`` (a user ``--boundary``): DA points outside the boundary are
    rejected even for regions whose own boundary is their census divisions or wards.
    """
    crs = boundary.crs
    pop_path = catalog.resolve("da_population_2021", data_dir)
    pop = sources.read_da_population(pop_path)
    cds = region.cd_codes
    totals = pop[pop["dauid"].isin(cds)]
    census_total = float(totals["pop2021"].sum()) if len(totals) == len(cds) and cds and not clip else None
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
    rejects.append(_rejects("population", pop_path, cand.loc[nopt, "source_row"], "DA has no 2016 representative point (new since 2016)"))
    notes = []
    if nopt.any():
        notes.append(f"{int(nopt.sum())} DAs ({cand.loc[nopt, 'pop2021'].sum():,.0f} people) are new since 2016 and have no "
                     "representative point offline, so they are not placed; population totals leave them out.")
    cand = cand[~nopt]
    gdf = _points(cand, "lon", "lat", crs)
    outside = ~gdf.within(boundary.geometry.iloc[0])
    if clip or region.boundary_kind not in ("ward file", "census division"):
        rejects.append(_rejects("population", pop_path, gdf.loc[outside, "source_row"], "DA point outside the region boundary"))
        gdf = gdf[~outside]
    gdf = gdf.drop(columns=["lon", "lat", "source_row"])
    gdf["area_id"] = assign_areas(gdf, areas).to_numpy()
    cols = ["dauid", "pop2021", *[c for c in gdf.columns if c.startswith("cimd_")], "area_id", "geometry"]
    gdf = gdf[cols].sort_values("dauid").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    layer = Layer("population", gpd.GeoDataFrame(gdf, geometry="geometry", crs=crs), n_read, len(gdf), rej,
                  ("da_population_2021", "da_centroids_2016", "da_cimd_2021"), tuple(notes))
    return layer, census_total


# --------------------------------------------------------------------------- user layers

WORKER_NAMES = ("workers", "worker_count", "positions", "approved_positions", "count")
POP_NAMES = ("pop2021", "population", "pop", "value", "people")


def _number_column(table, names: tuple[str, ...], layer: str) -> str:
    from gapmap.sources.inputs import _find

    col = _find(table.gdf.columns, names)
    if col is None:
        raise InputError(f"{layer.capitalize()} file {table.path} has no {names[0]} column (looked for {', '.join(names)}); "
                         "add one with a number per row.")
    return col


def _nonnegative(gdf, col: str, rejects: pd.DataFrame, layer: str, path) -> tuple[gpd.GeoDataFrame, pd.Series, pd.DataFrame]:
    """Rows whose ``col`` is a non-negative number, those values, and the rejects extended with the rest."""
    values = sources.to_float(gdf[col].astype(str))
    bad = values.isna() | (values < 0)
    rejects = pd.concat([rejects, _rejects(layer, path, gdf.loc[bad, "source_row"],
                                           [f"{col} {v!r} is not a non-negative number" for v in gdf.loc[bad, col]])],
                        ignore_index=True)
    return gdf[~bad], values[~bad], rejects


def build_user_sites(path: str | Path, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, crs: str | None = None,
                     data_dir=None, region: Region | None = None) -> Layer:
    """Sites from a user file: coordinates (or community / postal code) and a worker count per row."""
    from gapmap.sources import inputs

    gaz = None
    if region is not None and region.gazetteer_dataset and catalog.available(region.gazetteer_dataset, data_dir):
        gaz = sources.read_gazetteer(catalog.resolve(region.gazetteer_dataset, data_dir))
    fsa = sources.read_fsa_centroids(catalog.resolve("geonames_fsa", data_dir)) if catalog.available("geonames_fsa", data_dir) else None
    table = inputs.read_table(path, layer="sites", crs=crs, gazetteer=gaz, fsa_table=fsa)
    wcol = _number_column(table, WORKER_NAMES, "sites")
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="sites", id_col="site_id", points=True)
    gdf, workers, rej = _nonnegative(gdf, wcol, rej, "sites", path)
    cols = {c.lower(): c for c in gdf.columns}
    name = gdf[cols["employer"]] if "employer" in cols else gdf[cols["name"]] if "name" in cols else ""
    ids = gdf[cols["site_id"]].astype(str) if "site_id" in cols else "site-u" + gdf["source_row"].astype(str)
    sites = gpd.GeoDataFrame({
        "site_id": ids.to_numpy(), "employer": name, "community": gdf[cols["community"]] if "community" in cols else "",
        "postal_code": "", "fsa": "", "stream": "user", "noc_codes": "", "workers": workers.round().astype(int).to_numpy(),
        "quarters_listed": 0, "lmia_rows": 0, "requested_rows": 0,
        "geocode_precision": gdf["geocode_precision"].to_numpy() if "geocode_precision" in gdf else "user coordinates",
        "geocode_match": None,
    }, geometry=gdf.geometry.to_numpy(), crs=boundary.crs)
    sites["area_id"] = assign_areas(sites, areas).to_numpy() if len(sites) else []
    sites = sites[SITE_COLUMNS].sort_values("site_id").reset_index(drop=True)
    return Layer("sites", sites, table.rows_read, len(sites), rej, (str(path),), tuple(notes))


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
    return Layer("population", out, len(out), len(out), _rejects("population", path, [], []), (str(path),), (note,))


def build_user_population(path: str | Path, boundary: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                          crs: str | None = None) -> Layer:
    """Population from a user file of points or polygons (polygons are placed at a representative point),
    or a GeoTIFF population raster (one demand point per populated cell inside the region)."""
    from gapmap.sources import inputs

    if Path(path).suffix.lower() in (".tif", ".tiff"):
        return _raster_population(path, boundary, areas)
    table = inputs.read_table(path, layer="population", crs=crs)
    pcol = _number_column(table, POP_NAMES, "population")
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="population", id_col="dauid")
    if not gdf.geom_type.eq("Point").all():
        notes.append(f"{Path(path).name}: polygons placed at their representative points.")
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    gdf, pop, rej = _nonnegative(gdf, pcol, rej, "population", path)
    cols = {c.lower(): c for c in gdf.columns}
    ids = gdf[cols["dauid"]].astype(str) if "dauid" in cols else "u" + gdf["source_row"].astype(str)
    out = gpd.GeoDataFrame({"dauid": ids.to_numpy(), "pop2021": pop.to_numpy(),
                            "cimd_ethnocult": sources.to_float(gdf[cols["cimd_ethnocult"]].astype(str)).to_numpy()
                            if "cimd_ethnocult" in cols else np.nan},
                           geometry=gdf.geometry.to_numpy(), crs=boundary.crs)
    out["area_id"] = assign_areas(out, areas).to_numpy() if len(out) else []
    out = out.sort_values("dauid").reset_index(drop=True)
    return Layer("population", out, table.rows_read, len(out), rej, (str(path),), tuple(notes))
