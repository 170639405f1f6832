"""The region's boundary and areas: wards, census tracts, census divisions, or the user's polygons; the initial map view."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gapmap import geo, sources
from gapmap.sources import catalog
from gapmap.errors import InputError
from gapmap.sources.regions import Region
from gapmap.layers.base import Layer, reject_rows, utm_crs
from gapmap.messages import Message

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
    empty = reject_rows("boundary", "", [], [])
    area_rejects = empty.assign(layer="areas")
    area_notes: list[str] = []
    if boundary_file is not None:
        gdf = sources.read_vector(boundary_file, what="Boundary")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        had_polygons = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any()
        gdf = gdf.set_geometry(geo.polygonal(gdf.geometry.make_valid()))
        gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"]) & ~gdf.geometry.is_empty]
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
                area_notes.append(Message(
                    f"{len(rest)} area(s) 'Rest of ...' hold the part of the region outside the "
                    f"{'wards' if region.wards else 'census tracts'} available offline.",
                    "note_rest_areas", n=len(rest), wards=bool(region.wards)))
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
                                       geometry=geo.polygonal(gdf.geometry.make_valid()).to_numpy(), crs="EPSG:4326"))
    wards = pd.concat(frames, ignore_index=True)
    wards = wards.iloc[sorted(range(len(wards)), key=lambda k: (wards["_file"].iat[k], _natural(wards["area_id"].iat[k])))]
    wards = gpd.GeoDataFrame(wards.drop(columns="_file"), geometry="geometry", crs="EPSG:4326").reset_index(drop=True)
    return wards, len(wards), tuple(dataset_ids)


def _sub_areas(region: Region, outline, crs, data_dir):
    """Wards or census tracts of the region in ``crs``; (None, 0, rejects, ()) when it has neither."""
    no_rejects = reject_rows("areas", "", [], [])
    if region.wards:
        wards, n, used = _read_wards(region.wards, data_dir)
        return wards.to_crs(crs), n, no_rejects, used
    if region.tracts:
        path = catalog.resolve(region.tracts, data_dir)
        ct = sources.read_vector(path, what="Census tracts").to_crs(crs).reset_index(drop=True)
        ct = ct.assign(source_row=np.arange(1, len(ct) + 1)).sort_values("CTUID").reset_index(drop=True)
        inside = ct.geometry.representative_point().within(outline).to_numpy()
        rej = reject_rows("areas", path, ct.loc[~inside, "source_row"], "census tract outside the region")
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
    rejects = [reject_rows("areas", path, gdf.loc[no_geom, "source_row"], "no geometry")]
    gdf = gdf[~no_geom]
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        first = gdf[bad].iloc[0]
        raise InputError(f"Areas file {path} feature {int(first['source_row'])} is a {first.geometry.geom_type}, not a "
                         "polygon; give polygons only.")
    gdf = gdf.set_geometry(geo.polygonal(gdf.geometry.make_valid())).to_crs(crs)
    ids = gdf[id_col].astype(str) if id_col else pd.Series([f"area-{r}" for r in gdf["source_row"]], index=gdf.index)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"Areas file {path} repeats area id {dup.iloc[0]!r}; give each area a unique id.")
    names = gdf[name_col].astype(str) if name_col else ids
    outside = ~gdf.intersects(outline)
    rejects.append(reject_rows("areas", path, gdf.loc[outside, "source_row"], "area does not touch the region boundary"))
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

