"""OpenStreetMap amenities as services: clinics, doctors, pharmacies, hospitals, libraries,
social facilities and community centres, mapped to the category registry's ``osm_tags``.

Online, :func:`download_amenities` asks Overpass through osmnx ``features_from_polygon`` for the
region buffered by the services edge, and caches the answer as GeoJSON under
``$GAPMAP_CACHE/osm-services`` (else ``~/.cache/gapmap/osm-services``), keyed by a hash of the
polygon and the tags; offline, :func:`read_amenities` reads an ``.osm`` file (osmnx
``features_from_xml``) or an ``.osm.pbf`` (pyrosm). Each service keeps its ``opening_hours`` and
its languages (``language:xx=yes`` tags, as ``xx;yy``) for ``--when`` / ``--language``.
Polygons (a library building) are placed at a point inside them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gapmap.errors import InputError, reject_rows

_ADDRESS_TAGS = ("addr:housenumber", "addr:street", "addr:city", "addr:postcode")


def amenity_tags() -> dict[str, list[str]]:
    """The OSM tag filter: every ``(key, value)`` the registry maps, grouped by key (sorted)."""
    from gapmap import categories

    tags: dict[str, list[str]] = {}
    for key, value in categories.osm_map():
        tags.setdefault(key, []).append(value)
    return {k: sorted(v) for k, v in sorted(tags.items())}


def cache_dir() -> Path:
    """``$GAPMAP_CACHE/osm-services``, else ``$XDG_CACHE_HOME/gapmap/osm-services`` (``~/.cache``)."""
    if os.environ.get("GAPMAP_CACHE"):
        return Path(os.environ["GAPMAP_CACHE"]) / "osm-services"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gapmap" / "osm-services"


def cache_path(polygon: shapely.Polygon | shapely.MultiPolygon, directory: str | os.PathLike | None = None) -> Path:
    """Cache file of the amenities of ``polygon`` (EPSG:4326) for the current tag filter."""
    key = shapely.to_wkb(shapely.set_precision(polygon, 1e-6)) + json.dumps(amenity_tags()).encode()
    return Path(directory or cache_dir()) / f"osm-services-{hashlib.sha256(key).hexdigest()[:16]}.geojson"


def _tag_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """osmnx / pyrosm output with one column per tag (pyrosm keeps the rest in a JSON ``tags`` column)."""
    if "tags" in gdf.columns:
        extra = gdf["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else t if isinstance(t, dict) else {})
        extra = pd.DataFrame(list(extra), index=gdf.index)
        extra = extra[[c for c in extra.columns if c not in gdf.columns]]
        gdf = pd.concat([gdf.drop(columns="tags"), extra], axis=1)
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs or "EPSG:4326")


def read_amenities(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Amenity features of an ``.osm`` (XML) or ``.osm.pbf`` file, one row per element (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        ``element`` (node/way/relation), ``osmid`` and one column per OSM tag.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM services file {path} does not exist; check the --osm-services path.")
    tags = amenity_tags()
    if path.name.lower().endswith(".pbf"):
        import pyrosm

        try:
            raw = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
                custom_filter=tags, filter_type="keep", keep_nodes=True, keep_ways=True, keep_relations=True)
        except Exception as exc:  # noqa: BLE001 - pyrosm raises many types for a bad file
            raise InputError(f"OSM services file {path} cannot be read as an OSM PBF ({exc}); give a valid .osm.pbf.") from None
        if raw is None or raw.empty:
            return gpd.GeoDataFrame({"element": [], "osmid": []}, geometry=[], crs="EPSG:4326")
        raw = _tag_frame(raw).rename(columns={"osm_type": "element", "id": "osmid"})
        return raw.set_crs("EPSG:4326", allow_override=True)
    if path.suffix.lower() not in (".osm", ".xml"):
        raise InputError(f"OSM services file {path} is not .osm, .osm.xml or .osm.pbf; give an OpenStreetMap file.")
    import osmnx as ox

    try:
        raw = ox.features_from_xml(path, tags=tags)
    except ox._errors.InsufficientResponseError:
        return gpd.GeoDataFrame({"element": [], "osmid": []}, geometry=[], crs="EPSG:4326")
    except Exception as exc:  # noqa: BLE001 - XML errors come in several types
        raise InputError(f"OSM services file {path} cannot be read as OSM XML ({exc}); give a valid .osm file.") from None
    return raw.reset_index().rename(columns={"id": "osmid"})


def download_amenities(polygon: shapely.Polygon | shapely.MultiPolygon, directory: str | os.PathLike | None = None
                       ) -> tuple[gpd.GeoDataFrame, Path, bool]:
    """Amenities inside ``polygon`` (EPSG:4326) from Overpass via osmnx, cached.

    Returns
    -------
    (features, cache file, downloaded) : the features (as :func:`read_amenities`), where they are
    cached, and whether they were downloaded now (False: read from the cache).
    """
    target = cache_path(polygon, directory)
    if target.exists():
        return gpd.read_file(target), target, False
    import osmnx as ox

    try:
        raw = ox.features_from_polygon(polygon, tags=amenity_tags()).reset_index().rename(columns={"id": "osmid"})
    except ox._errors.InsufficientResponseError:
        raw = gpd.GeoDataFrame({"element": [], "osmid": []}, geometry=[], crs="EPSG:4326")
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise InputError(f"OSM amenities could not be downloaded ({type(exc).__name__}: {exc}); "
                         "pass --osm-services FILE with an .osm/.pbf extract instead.") from None
    # Lists (e.g. relation members) do not fit a GeoJSON property: keep text.
    for col in raw.columns:
        if col != "geometry" and raw[col].map(lambda v: isinstance(v, (list, dict))).any():
            raw[col] = raw[col].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    raw.to_file(tmp, driver="GeoJSON")
    os.replace(tmp, target)
    return raw, target, True


def _category(row: pd.Series, mapping: dict[tuple[str, str], str]) -> tuple[str | None, str]:
    for (key, value), cat in mapping.items():
        if key in row.index and str(row[key]) == value:
            return cat, f"{key}={value}"
    return None, ""


def _languages(gdf: pd.DataFrame) -> pd.Series:
    cols = sorted(c for c in gdf.columns if isinstance(c, str) and c.startswith("language:"))
    if not cols:
        return pd.Series("", index=gdf.index, dtype=object)
    yes = gdf[cols].astype(str).apply(lambda s: s.str.lower().isin(["yes", "main"]))
    return yes.apply(lambda r: ";".join(c.split(":", 1)[1] for c, v in r.items() if v), axis=1)


def amenities_to_services(raw: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, *, source: str,
                          edge_buffer_m: float = 30_000.0) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """Services (the services layer schema) from OSM features; unmapped or far features are rejects.

    ``source_row`` is the feature's 1-based position after sorting by element type and id, so
    reruns name the same rows.
    """
    from gapmap import categories

    mapping = categories.osm_map()
    raw = raw.copy()
    raw["osmid"] = pd.to_numeric(raw["osmid"], errors="coerce").astype("Int64")
    raw = raw.sort_values(["element", "osmid"], kind="stable").reset_index(drop=True)
    raw["source_row"] = np.arange(1, len(raw) + 1)
    n_read = len(raw)
    cats = raw.apply(lambda r: _category(r, mapping), axis=1, result_type="expand") if n_read else pd.DataFrame(columns=[0, 1])
    raw["category"], raw["category_rule"] = (cats[0], cats[1]) if n_read else (pd.Series(dtype=object), pd.Series(dtype=object))
    rejects = []
    unmapped = raw["category"].isna()
    rejects.append(reject_rows("services", source, raw.loc[unmapped, "source_row"], "OSM feature with no tag the category registry maps"))
    no_geom = ~unmapped & (raw.geometry.isna() | raw.geometry.is_empty)
    rejects.append(reject_rows("services", source, raw.loc[no_geom, "source_row"], "OSM feature without geometry"))
    raw = raw[~unmapped & ~no_geom]
    pts = gpd.GeoDataFrame(raw, geometry=raw.geometry.representative_point(), crs=raw.crs or "EPSG:4326").to_crs(boundary.crs)
    outline = boundary.geometry.iloc[0]
    far = pts.distance(outline) > edge_buffer_m
    rejects.append(reject_rows("services", source, pts.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    pts = pts[~far]

    def col(name: str) -> pd.Series:
        return pts[name].where(pts[name].notna(), "").astype(str) if name in pts.columns else pd.Series("", index=pts.index)

    address = pd.Series([" ".join(p for p in parts if p) for parts in zip(*(col(t) for t in _ADDRESS_TAGS))], index=pts.index, dtype=object)
    name = col("name").where(col("name") != "", "(unnamed " + pts["category_rule"] + ")")
    out = gpd.GeoDataFrame({
        "service_id": "osm-" + pts["element"].astype(str) + "-" + pts["osmid"].astype(str),
        "name": name, "category": pts["category"], "category_rule": "OSM " + pts["category_rule"],
        "source_type": pts["category_rule"], "provider": col("operator"), "address": address,
        "in_region": pts.within(outline).to_numpy(), "location_flag": "", "source": source,
        "source_row": pts["source_row"].astype(int), "opening_hours": col("opening_hours").replace("", None),
        "languages": _languages(pts).replace("", None),
    }, geometry=pts.geometry, crs=boundary.crs)
    rej = pd.concat(rejects, ignore_index=True)
    rej["row"] = rej["row"].astype("int64")
    return out.reset_index(drop=True), rej, n_read


def osm_services(boundary: gpd.GeoDataFrame, path: str | os.PathLike | None = None, *, edge_buffer_m: float = 30_000.0,
                 cache_dir: str | os.PathLike | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, list[str]]:
    """OSM amenities near the region as services: from ``path`` (.osm / .pbf), else downloaded (cached).

    Returns
    -------
    (services, rejects, rows read, notes)
    """
    if path is not None:
        raw, source = read_amenities(path), str(path)
        note = f"OSM amenities read from {Path(path).name}"
    else:
        area = gpd.GeoSeries([boundary.geometry.iloc[0].buffer(edge_buffer_m)], crs=boundary.crs).to_crs("EPSG:4326").iloc[0]
        raw, target, downloaded = download_amenities(area, cache_dir)
        source = str(target)
        note = f"OSM amenities {'downloaded from Overpass (osmnx) and cached at' if downloaded else 'read from the cache'} {target}"
    services, rejects, n_read = amenities_to_services(raw, boundary, source=source, edge_buffer_m=edge_buffer_m)
    counts = services["category"].value_counts().sort_index()
    summary = ", ".join(f"{n} {c}" for c, n in counts.items()) or "none in or near the region"
    return services, rejects, n_read, [f"{note}: {summary} (© OpenStreetMap contributors, ODbL)."]
