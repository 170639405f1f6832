"""Region layers built from the catalog: boundary, areas, services, sites, population.

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
import hashlib
import os
import re
import warnings
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

REJECT_COLUMNS = ["layer", "source", "row", "reason"]

_GEOCODE_KEEP = ["geocode_precision", "geocode_match", "geocode_source", "geocode_licence", "geocode_note"]
SITE_COLUMNS = ["site_id", "employer", "community", "postal_code", "fsa", "stream", "noc_codes", "workers",
                "quarters_listed", "lmia_rows", "requested_rows", *_GEOCODE_KEEP, "area_id", "geometry"]



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


def build_boundary(region: Region, data_dir=None, boundary_file: str | Path | None = None,
                   areas_file: str | Path | None = None) -> tuple[Layer, Layer]:
    """Region boundary and its analysis areas (wards, census tracts, census divisions, or the user's polygons).

    Parameters
    ----------
    region : Region
        The region; its registry entry says where boundary and sub-areas come from.
    data_dir : path, optional
        Data mirror root.
    boundary_file : path, optional
        Polygons replacing the region's boundary (they also become the areas).
    areas_file : path, optional
        Polygons replacing the sub-areas (``--areas``), with an id or name column; the boundary
        stays the region's (or ``boundary_file``'s).

    Returns
    -------
    (boundary, areas) : tuple of Layer
    """
    empty = _rejects("boundary", "", [], [])
    area_rejects = empty.assign(layer="areas")
    area_notes: list[str] = []
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
        crs = utm_crs(areas.geometry)
        areas = areas.to_crs(crs).reset_index(drop=True)
        outline_geom = areas.union_all()
        area_read, area_used = n_read, n_read
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
        crs = utm_crs(areas.geometry)
        areas = areas.to_crs(crs).reset_index(drop=True)
        outline_geom = areas.union_all()
        area_read, area_used = n_read, n_read
    else:
        parts, used = _region_parts(region, data_dir)
        n_read = len(parts)
        crs = utm_crs(parts.geometry)
        parts = parts.to_crs(crs).reset_index(drop=True)
        outline_geom = parts.union_all()
        sub, area_read, area_rejects, sub_used = _sub_areas(region, outline_geom, crs, data_dir)
        if sub is None:
            areas, area_read, area_used = parts, n_read, n_read
        else:
            used = tuple(dict.fromkeys((*used, *sub_used)))
            area_used = len(sub)
            rest = _rest_areas(parts, sub, region)
            if len(rest):
                area_notes.append(
                    f"{len(rest)} area(s) 'Rest of ...' hold the part of the region outside the "
                    f"{'wards' if region.wards else 'census tracts'} available offline.")
            areas = pd.concat([sub, rest], ignore_index=True)
            areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=crs)
    if areas_file is not None:
        areas, area_read, area_rejects, area_notes = _user_areas(areas_file, outline_geom, crs)
        area_used = len(areas)
        used = (*used, str(areas_file))
    outline = gpd.GeoDataFrame({"region": [region.slug], "name": [region.name]}, geometry=[outline_geom], crs=crs)
    return (
        Layer("boundary", outline, n_read, n_read, empty, used),
        Layer("areas", areas[["area_id", "area_name", "geometry"]].reset_index(drop=True), area_read, area_used,
              area_rejects, used, tuple(area_notes)),
    )


def _region_parts(region: Region, data_dir) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """The polygons that make up the region (EPSG:4326) as ``area_id, area_name``, and the datasets read."""
    if region.boundary_kind == "wards":
        wards, _, _ = _read_wards(region.wards, data_dir)
        geom = shapely.union_all(wards.geometry.to_numpy())
        parts = gpd.GeoDataFrame({"area_id": [f"city-{region.city_csd or region.slug}"], "area_name": [region.name]},
                                 geometry=[geom], crs="EPSG:4326")
        return parts, tuple(region.wards)
    if region.boundary_kind == "census division":
        path = catalog.resolve("census_divisions_2016", data_dir)
        cds = gpd.read_file(path, where=f"cduid IN ({', '.join(repr(c) for c in region.codes)})").to_crs("EPSG:4326")
        if cds.empty:
            raise InputError(f"Census division(s) {', '.join(region.codes)} not found in {path}; check the region's codes.")
        cds = cds.sort_values("cduid")
        parts = gpd.GeoDataFrame({"area_id": "cd-" + cds["cduid"].astype(str), "area_name": cds["cdname"].astype(str)},
                                 geometry=cds.geometry.to_numpy(), crs="EPSG:4326")
        return parts, ("census_divisions_2016",)
    if region.boundary_kind == "census subdivision":
        path = catalog.resolve("census_subdivisions_2011", data_dir)
        csd = sources.read_vector(path, what="Census subdivisions").to_crs("EPSG:4326")
        csd = csd[csd["ID"].astype(str).isin(region.codes)]
        if csd.empty:
            raise InputError(f"Census subdivision(s) {', '.join(region.codes)} not found in {path}; pass --boundary FILE.")
        parts = gpd.GeoDataFrame({"area_id": "csd-" + csd["ID"].astype(str), "area_name": csd["Name"].astype(str)},
                                 geometry=csd.geometry.to_numpy(), crs="EPSG:4326")
        return parts, ("census_subdivisions_2011",)
    raise InputError(
        f"Region {region.slug!r} has no offline boundary ({region.note or 'no standard geography'}); "
        "pass --boundary FILE with its polygon(s)."
    )


def _natural(text: str) -> tuple:
    """Sort key putting ward 2 before ward 10."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def _read_wards(dataset_ids: tuple[str, ...], data_dir) -> tuple[gpd.GeoDataFrame, int, tuple[str, ...]]:
    """The wards of one or more ward files (EPSG:4326) as ``area_id, area_name``; ids carry the
    municipality when there are several files. Returns the wards, features read, datasets."""
    frames = []
    for i, did in enumerate(dataset_ids):
        gdf = sources.read_vector(catalog.resolve(did, data_dir), what="Wards").to_crs("EPSG:4326")
        # Some source files store ward numbers as floats ("6.0"): normalise ids and names.
        ids = gdf["area_id"].astype(str).str.replace(r"^(\d+)\.0$", r"\1", regex=True)
        names = gdf["area_name"].astype(str).str.replace(r"\b(\d+)\.0\b", r"\1", regex=True)
        muni = catalog.dataset(did).title.rsplit(" (", 1)[0].replace(" wards", "").replace(" districts", "")
        muni = re.sub(r" \(\d{4}\)$", "", muni)
        if len(dataset_ids) > 1:
            key = re.sub(r"[^a-z0-9]+", "-", muni.lower()).strip("-")
            names = (muni + " " + names).where(names.str.startswith("Ward"), names + " (" + muni + ")")
            ids = f"ward-{key}-" + ids
        else:
            ids = "ward-" + ids
        frames.append(gpd.GeoDataFrame({"area_id": ids.to_numpy(), "area_name": names.to_numpy(), "_file": i},
                                       geometry=gdf.geometry.make_valid().to_numpy(), crs="EPSG:4326"))
    wards = pd.concat(frames, ignore_index=True)
    wards = wards.iloc[sorted(range(len(wards)), key=lambda k: (wards["_file"].iat[k], _natural(wards["area_id"].iat[k])))]
    wards = gpd.GeoDataFrame(wards.drop(columns="_file"), geometry="geometry", crs="EPSG:4326").reset_index(drop=True)
    return wards, len(wards), tuple(dataset_ids)


def _sub_areas(region: Region, outline, crs, data_dir):
    """Wards or census tracts of the region in ``crs``; (None, 0, rejects, ()) when it has neither."""
    no_rejects = _rejects("areas", "", [], [])
    if region.wards:
        wards, n, used = _read_wards(region.wards, data_dir)
        return wards.to_crs(crs), n, no_rejects, used
    if region.tracts:
        path = catalog.resolve(region.tracts, data_dir)
        ct = sources.read_vector(path, what="Census tracts").to_crs(crs).reset_index(drop=True)
        ct = ct.assign(source_row=np.arange(1, len(ct) + 1)).sort_values("CTUID").reset_index(drop=True)
        inside = ct.geometry.representative_point().within(outline).to_numpy()
        rej = _rejects("areas", path, ct.loc[~inside, "source_row"], "census tract outside the region")
        ct = ct[inside]
        tracts = gpd.GeoDataFrame({"area_id": ("ct-" + ct["CTUID"].astype(str)).to_numpy(),
                                   "area_name": ("Census tract " + ct["CTNAME"].astype(str)).to_numpy()},
                                  geometry=ct.geometry.to_numpy(), crs=crs)
        return tracts, len(inside), rej, (region.tracts,)
    return None, 0, no_rejects, ()


# "Rest of" pieces smaller than this are slivers between a simplified CD edge and the exact
# ward edges: their points go to the nearest ward instead (assign_areas).
_REST_MIN_M2 = 2e6


def _rest_areas(parts: gpd.GeoDataFrame, sub: gpd.GeoDataFrame, region: Region) -> gpd.GeoDataFrame:
    """Per region part (CD, CSD), the piece outside the sub-areas, as a 'Rest of ...' area."""
    if region.boundary_kind == "wards":
        return sub.iloc[0:0]
    covered = sub.union_all()
    districts = any("districts" in catalog.dataset(w).title for w in region.wards)
    kind = ("council districts" if districts else "wards") if region.wards else "census tracts"
    rows = []
    for part in parts.itertuples():
        rest = part.geometry.difference(covered)
        keep = [g for g in getattr(rest, "geoms", [rest]) if g.geom_type == "Polygon" and g.area >= _REST_MIN_M2]
        if keep:
            suffix = part.area_id.split("-", 1)[1]
            rows.append({"area_id": f"rest-{suffix}", "area_name": f"Rest of {part.area_name} (outside the {kind})",
                         "geometry": shapely.MultiPolygon(keep) if len(keep) > 1 else keep[0]})
    return gpd.GeoDataFrame(rows, columns=["area_id", "area_name", "geometry"], geometry="geometry", crs=sub.crs)


_AREA_ID_NAMES = ("area_id", "id", "ward_id", "ward_no", "code", "ctuid", "dauid")
_AREA_NAME_NAMES = ("area_name", "name", "ward_name", "label", "ctname")


def _user_areas(path, outline, crs) -> tuple[gpd.GeoDataFrame, int, pd.DataFrame, list[str]]:
    """Sub-areas from a user polygon file (``--areas``): polygons, a CRS and an id or name column.

    Rows with no geometry, and areas that do not touch the region, are rejected (accounted).
    """
    gdf = sources.read_vector(path, what="Areas")
    cols = {c.lower(): c for c in gdf.columns if c != gdf.geometry.name}
    id_col = next((cols[c] for c in _AREA_ID_NAMES if c in cols), None)
    name_col = next((cols[c] for c in _AREA_NAME_NAMES if c in cols), None)
    if id_col is None and name_col is None:
        raise InputError(f"Areas file {path} has no id or name column (found: {sources.column_list(cols.values())}); "
                         "add an area_id or area_name column.")
    gdf = gdf.reset_index(drop=True).assign(source_row=np.arange(1, len(gdf) + 1))
    no_geom = gdf.geometry.isna() | gdf.geometry.is_empty
    rejects = [_rejects("areas", path, gdf.loc[no_geom, "source_row"], "no geometry")]
    gdf = gdf[~no_geom]
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        first = gdf[bad].iloc[0]
        raise InputError(f"Areas file {path} feature {int(first['source_row'])} is a {first.geometry.geom_type}, not a "
                         "polygon; give polygons only.")
    gdf = gdf.set_geometry(gdf.geometry.make_valid()).to_crs(crs)
    ids = gdf[id_col].astype(str) if id_col else pd.Series([f"area-{r}" for r in gdf["source_row"]], index=gdf.index)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"Areas file {path} repeats area id {dup.iloc[0]!r}; give each area a unique id.")
    names = gdf[name_col].astype(str) if name_col else ids
    outside = ~gdf.intersects(outline)
    rejects.append(_rejects("areas", path, gdf.loc[outside, "source_row"], "area does not touch the region boundary"))
    keep = ~outside
    if not keep.any():
        raise InputError(f"Areas file {path} has no area inside the region; check its CRS or give the region's areas.")
    areas = gpd.GeoDataFrame({"area_id": ids[keep].to_numpy(), "area_name": names[keep].to_numpy()},
                             geometry=gdf.geometry[keep].to_numpy(), crs=crs)
    notes = [f"Sub-areas from {Path(path).name}: {len(areas)} polygons (points outside them go to the nearest)."]
    return areas, len(no_geom), pd.concat(rejects, ignore_index=True), notes


# A boundary part this far from the largest part and this small a share is left out of the initial view
# (Halifax's Sable Island, 160 km offshore): it stays in the data and on the map.
_VIEW_GAP_M = 50_000.0
_VIEW_MIN_SHARE = 0.10


def initial_bounds(boundary: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Initial map view (EPSG:4326 ``minx, miny, maxx, maxy``): the boundary without small, far parts.

    A polygon part under 10 % of the region's area and more than 50 km from its largest part is
    not framed (Sable Island in Halifax: 4 % of the CSD polygon, which includes water, 160 km
    offshore); every other region frames its whole boundary.
    """
    geom = boundary.geometry.union_all()
    parts = list(getattr(geom, "geoms", [geom]))
    if len(parts) > 1:
        total = sum(p.area for p in parts)
        main = max(parts, key=lambda p: p.area)
        parts = [p for p in parts if p.area >= _VIEW_MIN_SHARE * total or p.distance(main) <= _VIEW_GAP_M]
    framed = gpd.GeoSeries(parts, crs=boundary.crs).to_crs("EPSG:4326")
    return tuple(float(v) for v in framed.total_bounds)


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

# ODHF location checks (see docs/service-categories.md). A six-character postal code is a
# block face in town, so a facility more than LOCATION_FLAG_POSTAL_KM from its own code's
# point is suspect; a rural code (second character 0) is a post-office community serving a
# township (LOCATION_FLAG_POSTAL_RURAL_KM). Rural FSAs span 60+ km (N0P: Tilbury to
# Wardsville), so their centroid flags only beyond LOCATION_FLAG_FSA_RURAL_KM. Beyond
# LOCATION_REJECT_KM from both its own six-character code's point and its FSA centre, the
# facility cannot be at its stated address (another part of the province), unless its own
# census subdivision (which StatCan derived from the point) names its city or itself (then the
# postal code is the error: Chippewas of the Thames, N0H 2L0 is Southampton's). Northern
# Ontario (FSAs starting with P) is only flagged: its FSAs are hundreds of km across and its
# cazipcode points are unreliable (measured: Hornepayne, Attawapiskat, Osnaburgh and Britt
# points lie 100-330 km from those communities).
LOCATION_FLAG_POSTAL_KM = 5.0
LOCATION_FLAG_POSTAL_RURAL_KM = 15.0
LOCATION_FLAG_FSA_KM = 15.0
LOCATION_FLAG_FSA_RURAL_KM = 75.0
LOCATION_REJECT_KM = 100.0
# Slack for the simplified census-division polygons before "outside its stated CSD" is flagged.
_CD_TOLERANCE_M = 2_000.0

SERVICE_COLUMNS = ["service_id", "name", "category", "category_rule", "source_type", "provider", "address",
                   "in_region", "location_flag", "source", "source_row"]


@dataclasses.dataclass(frozen=True)
class CategoryMap:
    """A user's ``--category-map``: single-facility overrides and pattern rules tried before the built-in ones."""

    by_id: dict[str, str]
    patterns: tuple[tuple[str, re.Pattern, str], ...]  # (field, regex, category)
    path: str


def read_category_map(path: str | Path) -> CategoryMap:
    """Read a category map CSV: ``category`` plus ``facility_id`` (ODHF ``index`` or ``odhf-<index>``)
    and/or ``pattern`` (regex on ``field``, default ``facility_name``).

    Raises
    ------
    InputError
        An unknown category, a row with neither id nor pattern, or a bad regex (naming the row).
    """
    from gapmap import categories

    df = sources.read_csv(path, ["category"], what="Category map")
    cols = {c.lower(): c for c in df.columns}
    id_col = cols.get("facility_id") or cols.get("index") or cols.get("service_id")
    pat_col = cols.get("pattern")
    if id_col is None and pat_col is None:
        raise InputError(f"Category map {path} needs a facility_id (or index) column and/or a pattern column; add one.")
    by_id: dict[str, str] = {}
    patterns = []
    for _, row in df.iterrows():
        where = f"Category map {path} row {row['source_row']}"
        cat = row[cols["category"]].strip().lower()
        categories.require(cat, where=where)
        fid = row[id_col].strip() if id_col else ""
        pat = row[pat_col].strip() if pat_col else ""
        if not fid and not pat:
            raise InputError(f"{where} has neither a facility_id nor a pattern; fill one in or delete the row.")
        if fid:
            by_id[fid if fid.startswith("odhf-") else f"odhf-{fid}"] = cat
        if pat:
            field = row[cols["field"]].strip() if "field" in cols and row[cols["field"]].strip() else "facility_name"
            if field not in ("facility_name", "source_facility_type", "odhf_facility_type", "provider"):
                raise InputError(f"{where}: unknown field {field!r}; use facility_name, source_facility_type, odhf_facility_type or provider.")
            try:
                patterns.append((field, re.compile(pat, re.IGNORECASE), cat))
            except re.error as exc:
                raise InputError(f"{where}: pattern {pat!r} is not a valid regular expression ({exc}); fix it.") from None
    return CategoryMap(by_id, tuple(patterns), str(path))


def classify_odhf(df: pd.DataFrame, category_map: CategoryMap | None = None) -> pd.DataFrame:
    """Category and the rule that gave it, per ODHF row (see :mod:`gapmap.categories`).

    Order: the user's single-facility overrides, the user's pattern rules, then the registry's
    rules by ``order``; the first match wins.

    Returns
    -------
    DataFrame
        ``category, category_rule`` aligned with ``df``.
    """
    from gapmap import categories

    cat = pd.Series(None, index=df.index, dtype=object)
    why = pd.Series(None, index=df.index, dtype=object)
    if category_map is not None:
        if category_map.by_id:
            ids = "odhf-" + df["index"].astype(str)
            unknown = sorted(set(category_map.by_id) - set(ids))
            if unknown:
                raise InputError(f"Category map {category_map.path} names facility {unknown[0]!r}, which is not in ODHF; "
                                 "use the ODHF index (service_id odhf-<index> in services).")
            hit = ids.map(category_map.by_id)
            cat[hit.notna()] = hit[hit.notna()]
            why[hit.notna()] = f"category map {Path(category_map.path).name}: facility override"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for field, rx, c in category_map.patterns:
                m = cat.isna() & df[field].astype(str).str.contains(rx, na=False)
                cat[m], why[m] = c, f"category map {Path(category_map.path).name}: {field} ~ /{rx.pattern}/"
    with warnings.catch_warnings():  # groups in a pattern are fine: only the match matters
        warnings.simplefilter("ignore", UserWarning)
        for rule, c in categories.odhf_rules():
            m = cat.isna() & df[rule.field].astype(str).str.contains(rule.compiled(), na=False)
            cat[m], why[m] = c, rule.reason
    return pd.DataFrame({"category": cat, "category_rule": why}, index=df.index)


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))


def _norm_place(text: pd.Series) -> pd.Series:
    text = text.astype(str).str.casefold().str.replace(r"[^\w\s]", " ", regex=True)
    return text.str.replace(r"\s+", " ", regex=True).str.strip()


def _place_agrees(df: pd.DataFrame) -> pd.Series:
    """True where the facility's own CSD name contains its city, or its name contains the CSD's
    (without the reserve number / "First Nation" suffix): the point matches the address place."""
    city = _norm_place(df["city"]) if "city" in df else pd.Series("", index=df.index)
    csd = _norm_place(df["CSDname"]) if "CSDname" in df else pd.Series("", index=df.index)
    core = csd.str.replace(r"\b(first nation|indian reserve)\b|\b\d+[a-z]?\b", " ", regex=True).str.split().str.join(" ")
    name = _norm_place(df["facility_name"]) if "facility_name" in df else pd.Series("", index=df.index)
    return pd.Series([bool(c) and (c in d) or bool(k) and (k in n) for c, d, k, n in zip(city, csd, core, name)], index=df.index)


def check_odhf_locations(df: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Distance of each facility's point from its own postal code's point and postal-area centroid.

    Parameters
    ----------
    df : DataFrame
        ODHF rows (``postal_code, latitude, longitude, CSDuid`` and ``geometry`` in a metric CRS
        are used when present).

    Returns
    -------
    DataFrame
        ``postal_km`` (to the six-character code's own point; NaN when the code has no point of
        its own), ``fsa_km`` (to the FSA centroid), ``flag`` (reason or ""), ``reject`` (bool: beyond
        :data:`LOCATION_REJECT_KM` of both, outside Northern Ontario, and its CSD does not name its
        city or itself), aligned with ``df``.
    """
    code = df["postal_code"].astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    frames = [sources.read_csv(catalog.resolve(d, data_dir), ["postal_code", "latitude", "longitude", "codes_sharing_this_point"],
                               what="Postal points")
              for d in ("postal_points_lmia_ontario", "postal_points_rural_ontario") if catalog.available(d, data_dir)]
    postal_km = pd.Series(np.nan, index=df.index)
    if frames:
        pts = pd.concat(frames).drop_duplicates("postal_code")
        pts = pts[pts["codes_sharing_this_point"] == "1"]  # shared points are defaults, not locations
        pts = pts.assign(code=pts["postal_code"].str.replace(" ", ""), lat=sources.to_float(pts["latitude"]),
                         lon=sources.to_float(pts["longitude"])).set_index("code")
        lat, lon = code.map(pts["lat"]), code.map(pts["lon"])
        postal_km = pd.Series(_haversine_km(df["latitude"], df["longitude"], lat, lon), index=df.index)
    fsa = sources.read_fsa_centroids(catalog.resolve("geonames_fsa", data_dir)).drop_duplicates("fsa").set_index("fsa")
    f3 = code.str[:3]
    fsa_km = pd.Series(_haversine_km(df["latitude"], df["longitude"], f3.map(fsa["latitude"]), f3.map(fsa["longitude"])),
                       index=df.index)
    flag = pd.Series("", index=df.index, dtype=object)
    rural = code.str[1] == "0"
    far_postal = postal_km > np.where(rural, LOCATION_FLAG_POSTAL_RURAL_KM, LOCATION_FLAG_POSTAL_KM)
    # Only the FSA is quoted: outputs never carry a full postal code (docs/privacy.md).
    flag[far_postal] = [f"{d:.1f} km from its own postal code's point (in {str(c)[:3]})"
                        for d, c in zip(postal_km[far_postal], df.loc[far_postal, "postal_code"])]
    far_fsa = fsa_km > np.where(rural, LOCATION_FLAG_FSA_RURAL_KM, LOCATION_FLAG_FSA_KM)
    for i in df.index[far_fsa]:
        text = f"{fsa_km[i]:.0f} km from its postal area {f3[i]}'s centre"
        flag[i] = f"{flag[i]}; {text}" if flag[i] else text
    if "geometry" in df and catalog.available("census_divisions_2016", data_dir):
        cd = df["CSDuid"].astype(str).str[:4]
        cds = gpd.read_file(catalog.resolve("census_divisions_2016", data_dir),
                            where=f"cduid IN ({', '.join(repr(c) for c in sorted(set(cd)))})").to_crs(df.crs)
        cds = cds.set_index("cduid")
        for i in df.index:
            if cd[i] in cds.index and df.geometry[i].distance(cds.geometry[cd[i]]) > _CD_TOLERANCE_M:
                text = f"outside its stated census subdivision {df.loc[i, 'CSDname']} (census division {cd[i]})"
                flag[i] = f"{flag[i]}; {text}" if flag[i] else text
    reject = ((postal_km > LOCATION_REJECT_KM) & (fsa_km > LOCATION_REJECT_KM) & (code.str[:1] != "P")
              & ~_place_agrees(df))
    return pd.DataFrame({"postal_km": postal_km, "fsa_km": fsa_km, "flag": flag, "reject": reject}, index=df.index)


def _odhf_services(boundary: gpd.GeoDataFrame, data_dir, edge_buffer_m: float,
                   category_map: CategoryMap | None) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame], int, list[str]]:
    """ODHF rows near the region, classified and location-checked; the rest accounted as rejects."""
    crs = boundary.crs
    path = catalog.resolve("odhf", data_dir)
    df = sources.read_odhf(path)
    rejects = []
    df = pd.concat([df, classify_odhf(df, category_map)], axis=1)
    bad_type = df["category"].isna()  # only a class outside ODHF's three escapes every rule
    rejects.append(_rejects("services", path, df.loc[bad_type, "source_row"],
                            [f"unknown facility type {t!r}" for t in df.loc[bad_type, "odhf_facility_type"]]))
    df_ok = df[~bad_type]
    no_xy = df_ok["latitude"].isna() | df_ok["longitude"].isna()
    rejects.append(_rejects("services", path, df_ok.loc[no_xy, "source_row"], "no coordinates"))
    gdf = _points(df_ok[~no_xy], "longitude", "latitude", crs)
    outline = boundary.geometry.iloc[0]
    far = gdf.distance(outline) > edge_buffer_m
    rejects.append(_rejects("services", path, gdf.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    gdf = gdf[~far]
    loc = check_odhf_locations(gdf, data_dir)
    rejects.append(_rejects("services", path, gdf.loc[loc["reject"], "source_row"],
                            [f"location check: {f} (point is not at its stated address; > {LOCATION_REJECT_KM:g} km from both)"
                             for f in loc.loc[loc["reject"], "flag"]]))
    n_flag = int((loc["flag"] != "").sum())
    notes = []
    if n_flag:
        one = n_flag == 1
        notes.append(f"ODHF location checks: {n_flag} facilit{'y' if one else 'ies'} near the region lie{'s' if one else ''} far from "
                     f"{'its' if one else 'their'} own postal code or area ({int(loc['reject'].sum())} rejected: more than "
                     f"{LOCATION_REJECT_KM:g} km from both; the rest kept with a location_flag).")
    gdf, loc = gdf[~loc["reject"]], loc[~loc["reject"]]
    address = (gdf["street_no"] + " " + gdf["street_name"]).str.strip() + ", " + gdf["city"] + " " + gdf["postal_code"]
    services = gpd.GeoDataFrame(
        {
            "service_id": "odhf-" + gdf["index"].astype(str),
            "name": gdf["facility_name"],
            "category": gdf["category"],
            "category_rule": gdf["category_rule"],
            "source_type": gdf["source_facility_type"],
            "provider": gdf["provider"],
            "address": address.str.strip(" ,"),
            "in_region": gdf.within(outline).to_numpy(),
            "location_flag": loc["flag"],
            "source": "odhf",
            "source_row": gdf["source_row"].astype(int),
        },
        geometry=gdf.geometry, crs=crs,
    )
    return services, rejects, len(df), notes


def _odcaf_services(boundary: gpd.GeoDataFrame, data_dir, edge_buffer_m: float) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame], int, list[str]]:
    """ODCAF libraries and community/cultural centres near the region (registry ``odcaf_types``)."""
    from gapmap import categories

    path = catalog.resolve("odcaf", data_dir)
    df = sources.read_odcaf(path)
    kinds = categories.odcaf_map()
    cat = df["ODCAF_Facility_Type"].map(kinds)
    rejects = [_rejects("services", path, df.loc[cat.isna(), "source_row"],
                        [f"ODCAF type {t!r} is not a service category" for t in df.loc[cat.isna(), "ODCAF_Facility_Type"]])]
    df = df[cat.notna()].assign(category=cat[cat.notna()])
    no_xy = df["Latitude"].isna() | df["Longitude"].isna()
    rejects.append(_rejects("services", path, df.loc[no_xy, "source_row"], "no coordinates"))
    gdf = _points(df[~no_xy], "Longitude", "Latitude", boundary.crs)
    outline = boundary.geometry.iloc[0]
    far = gdf.distance(outline) > edge_buffer_m
    rejects.append(_rejects("services", path, gdf.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    gdf = gdf[~far]
    address = (gdf["Street_No"].replace("..", "") + " " + gdf["Street_Name"].replace("..", "")).str.strip() + ", " + gdf["City"]
    out = gpd.GeoDataFrame({
        "service_id": "odcaf-" + gdf["Index"].astype(str), "name": gdf["Facility_Name"], "category": gdf["category"],
        "category_rule": "ODCAF type " + gdf["ODCAF_Facility_Type"], "source_type": gdf["ODCAF_Facility_Type"],
        "provider": gdf["Provider"], "address": address.str.strip(" ,"), "in_region": gdf.within(outline).to_numpy(),
        "location_flag": "", "source": "odcaf", "source_row": gdf["source_row"].astype(int),
    }, geometry=gdf.geometry, crs=boundary.crs)
    return out, rejects, len(cat), []


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def build_services(boundary: gpd.GeoDataFrame, data_dir=None, *, edge_buffer_m: float = 30_000.0,
                   services_file: str | Path | list | None = None, category_map: str | Path | None = None,
                   osm_services: str | Path | bool | None = None, cache_dir: str | Path | None = None) -> Layer:
    """Services inside the region and within ``edge_buffer_m`` of it (people cross borders for care).

    Sources: ODHF health facilities (classified by :func:`classify_odhf`, location-checked by
    :func:`check_odhf_locations`), ODCAF libraries and community centres, optional OSM
    amenities (``osm_services``: True downloads, a path reads an ``.osm``/``.pbf`` file; see
    :mod:`gapmap.sources.osm`) and user files (``services_file``: one path or a list of CSVs with
    ``name, category`` and coordinates, e.g. settlement agencies; see ``data/services_template.csv``).

    Parameters
    ----------
    category_map : path, optional
        CSV overriding ODHF categories (see :func:`read_category_map`).
    """
    cmap = read_category_map(category_map) if category_map is not None else None
    services, rejects, n_read, notes = _odhf_services(boundary, data_dir, edge_buffer_m, cmap)
    parts = [services]
    datasets = ["odhf"]
    if catalog.available("odcaf", data_dir):
        extra, rej, n, more = _odcaf_services(boundary, data_dir, edge_buffer_m)
        parts.append(extra)
        rejects += rej
        n_read += n
        notes += more
        datasets.append("odcaf")
    if osm_services:
        from gapmap.sources import osm

        extra, rej, n, more = osm.osm_services(boundary, osm_services if osm_services is not True else None,
                                               edge_buffer_m=edge_buffer_m, cache_dir=cache_dir)
        parts.append(extra)
        rejects.append(rej)
        n_read += n
        notes += more
        datasets.append("osm" if osm_services is True else str(osm_services))
    for f in _as_list(services_file):
        extra, extra_rejects, n_extra, extra_notes = read_user_services(f, boundary, edge_buffer_m=edge_buffer_m)
        parts.append(extra)
        rejects.append(extra_rejects)
        notes += extra_notes
        n_read += n_extra
        datasets.append(str(f))
    services = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    services = services.sort_values("service_id", kind="stable").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    return Layer("services", gpd.GeoDataFrame(services, geometry="geometry", crs=boundary.crs), n_read, len(services), rej,
                 tuple(datasets), tuple(notes))


def read_user_services(path: str | Path, boundary: gpd.GeoDataFrame, *, edge_buffer_m: float = 30_000.0,
                       crs: str | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, list[str]]:
    """A user services file: ``name, category`` + coordinates (see :mod:`gapmap.sources.inputs`).

    Optional columns: ``service_id``, ``address``, ``capacity``, ``opening_hours``, ``languages``.
    """
    from gapmap.sources import inputs

    from gapmap import categories

    table = inputs.read_table(path, layer="services", required=("name", "category"), crs=crs)
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="services", id_col="service_id",
                                                  keep_outside_m=edge_buffer_m, points=True)
    cols = {c.lower(): c for c in gdf.columns}
    # A category the registry does not know (a typo, "dentist") is an accounted reject, not a new layer.
    resolved = gdf[cols["category"]].map(categories.resolve)
    unknown = resolved.isna()
    rej = pd.concat([rej, _rejects("services", path, gdf.loc[unknown, "source_row"],
                                   [f"unknown category {c!r} (use one of {', '.join(categories.keys())})"
                                    for c in gdf.loc[unknown, cols["category"]]])], ignore_index=True)
    gdf, resolved = gdf[~unknown], resolved[~unknown]
    get = lambda name, default="": gdf[cols[name]] if name in cols else default  # noqa: E731
    ids = get("service_id", None)
    out = gpd.GeoDataFrame(
        # The file name keeps row ids apart when several files are given.
        {"service_id": ids.astype(str) if ids is not None else f"user-{Path(path).stem}-" + gdf["source_row"].astype(str),
         "name": get("name"), "category": resolved, "category_rule": f"user file {Path(path).name}", "source_type": "user",
         "provider": get("provider"), "address": get("address"),
         "in_region": gdf.within(boundary.geometry.iloc[0]).to_numpy(), "location_flag": "",
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
        return Layer("sites", _empty_sites(crs), 0, 0, _rejects("sites", "", [], []), (),
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
                     (f"No {', '.join(streams)} LMIA rows placed inside the region.",))
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
    rejects = [_rejects("sites", path, df.loc[other, "source_row"],
                        [f"stream {s!r} not selected (--stream)" for s in df.loc[other, "program_stream"]])]
    df = df[~other]
    no_count = df["approved_positions"].isna() | (df["approved_positions"] < 0) | df["year"].isna()
    rejects.append(_rejects("sites", path, df.loc[no_count, "source_row"], "approved positions or year missing or not a number"))
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
    rejects = [_rejects(layer, source, df.loc[unplaced, "source_row"],
                        [f"not placed: {n}" for n in df.loc[unplaced, "geocode_note"]])]
    gdf = _points(df[~unplaced], "lon", "lat", boundary.crs)
    outline = boundary.geometry.iloc[0]
    km = gdf.distance(outline) / 1000.0
    outside = km > 0
    rejects.append(_rejects(layer, source, gdf.loc[outside, "source_row"], [
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
    return (f"{int(unstated.sum())} sites are placed at postal-code or rural post-office points from a table whose "
            "licence is not stated (PyPI cazipcode 0.0.2); pass --postal-points FILE (e.g. Statistics Canada's PCCF) "
            "to use your own.",)


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
    rejects.append(_rejects("population", pop_path, cand.loc[nopt, "source_row"], "DA has no 2016 representative point (new since 2016)"))
    notes = []
    if nopt.any() and not by_point:
        notes.append(f"{int(nopt.sum())} DAs ({cand.loc[nopt, 'pop2021'].sum():,.0f} people) are new since 2016 and have no "
                     "representative point offline, so they are not placed; population totals leave them out.")
    unplaced = float(cand.loc[nopt, "pop2021"].sum())
    cand = cand[~nopt]
    gdf = _points(cand, "lon", "lat", crs)
    if by_point:
        outside = ~gdf.within(boundary.geometry.iloc[0])
        rejects.append(_rejects("population", pop_path, gdf.loc[outside, "source_row"], "DA point outside the region boundary"))
        gdf = gdf[~outside]
        if nopt.any():
            placed = float(gdf["pop2021"].sum())
            gap = ""
            if census_total and placed < census_total:
                gap = (f"; the placed DAs hold {placed:,.0f} people, {census_total - placed:,.0f} "
                       f"({(census_total - placed) / census_total:.1%}) fewer than the census total of {census_total:,.0f} "
                       f"({region.census_source})")
            elif census_total:
                gap = f"; the placed DAs already hold the census total of {census_total:,.0f} ({region.census_source})"
            notes.append(
                f"{int(nopt.sum())} DAs ({unplaced:,.0f} people) of census division {'+'.join(cds)} are new since 2016 "
                "and have no representative point offline, so it is unknown whether they lie inside the region; "
                f"they are not placed{gap}.")
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
    note = (f"Population: {len(gdf):,} 2021 dissemination blocks ({gdf['pop2021'].sum():,.0f} people), each at a point "
            "inside the block (finer than the DAs).")
    layer = Layer("population", gdf, len(gdf), len(gdf), _rejects("population", path, [], []),
                  (region.blocks_dataset, "da_cimd_2021"), (note,))
    census_total = None
    if catalog.available("da_population_2021", data_dir) and region.cd_codes:
        # The published CD totals, independent of the block file, so the two can be compared.
        pop = sources.read_da_population(catalog.resolve("da_population_2021", data_dir))
        totals = pop[pop["dauid"].isin(region.cd_codes)]
        census_total = float(totals["pop2021"].sum()) if len(totals) == len(region.cd_codes) else None
    return layer, census_total


# --------------------------------------------------------------------------- user layers

WORKER_NAMES = ("workers", "worker_count", "positions", "approved_positions", "count")
POP_NAMES = ("pop2021", "population", "pop", "value", "people", "dbpop")


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
    wcol = _number_column(table, WORKER_NAMES, "sites")
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="sites", id_col="site_id", points=True)
    gdf, workers, rej = _nonnegative(gdf, wcol, rej, "sites", path)
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
