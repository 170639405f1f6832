"""Road networks from centreline files (``--network FILE --network-map MAP``): one reader, a mapping per source.

A centreline file is one row per road segment (shapefile, GeoPackage, GeoJSON, or CSV with a
WKT or GeoJSON geometry column). A :class:`SegmentMapping` (a small TOML file) says how to read
one source: which fields give the road class, the speed of each class (a cited table: none of
the shipped sources has a speed field), which classes carry no cars, and the one-way rule with
its direction. gapmap ships mappings for Statistics Canada's Road Network File (``rnf``), the
City of Hamilton's Street Centreline (``hamilton``) and the City of Kingston's Road_Segment
(``kingston``) in ``gapmap/travel/road/mappings/``.

Reading (every drop is counted in :class:`SegmentReport`):

1. Fields named by the mapping must exist; a class without a speed, or a one-way value outside
   the declared set, is an :class:`~gapmap.errors.InputError` naming the file and the field. So
   are coordinates that cannot be in the file's CRS (rows past +-180/+-90 in a geographic CRS,
   rows that look like degrees beside rows in metres in a projected one).
2. Multi-part lines are exploded into their parts; rows without a line geometry are dropped.
3. Classes the mapping excludes (rapid transit, pedestrian ways; freeways when walking) and
   one-way value ``none`` ("no traffic permitted") are dropped.
4. Segment ends within ``snap_m`` (default 0.5 m) of each other become one node (single
   linkage: a chain of close ends is one node).
5. T-junctions: a dead end within ``split_m`` (default 1 m) of another segment's interior splits
   that segment there, unless either is off the ground level (``level_field``): bridges stay
   bridges.
6. Segments whose ends fall on one node and that are no longer than ``snap_m`` (zero length)
   are dropped (closed loops such as crescents are kept); the largest weakly connected component is kept, the rest counted with its share
   of the length.

Speeds per class are the mapping's table, or ``--speed-table FILE`` (CSV ``class,speed_kmh``,
overriding entries by the same key). A table key is the class fields joined by ``/``; the
longest key matching the start of a segment's class wins (``12/1`` before ``12``). Every
network read this way is labelled with the mapping's ``speed_note`` ("speeds assigned by road
class") wherever its method appears.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gapmap.errors import InputError

if TYPE_CHECKING:
    from gapmap.travel.road.network import RoadNetwork

SNAP_M = 0.5
SPLIT_M = 1.0
SHIPPED = ("rnf", "hamilton", "kingston")
_ONEWAY_RULES = ("both", "forward", "backward", "none")
#: Catalog dataset id -> (mapping, GeoPackage layer) of the centreline files in the data mirror.
NETWORK_DATASETS: dict[str, tuple[str, str | None]] = {
    "rnf_ottawa_2021": ("rnf", "roads"),
    "hamilton_centreline_2020": ("hamilton", None),
    "kingston_road_segment_2017": ("kingston", None),
}
_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".csv", ".zip", ".fgb")


@dataclasses.dataclass(frozen=True)
class SegmentMapping:
    """How to read one source's centreline file.

    Attributes
    ----------
    name : str
        The source, for notes ("City of Hamilton Street Centreline").
    provider : str
        Short name in method labels ("Statistics Canada RNF").
    class_fields : tuple of str
        Fields whose values, joined by ``/``, are a segment's class key.
    speeds_kmh : dict
        Class key (or a leading part of one) -> km/h.
    exclude, exclude_walk : dict
        Class key (or leading part) -> reason: dropped for every mode / for walk and bike only.
    oneway_field : str or None
        Field with the one-way rule; None: every segment two-way.
    oneway_values : dict
        Field value -> ``both``, ``forward`` (digitised direction), ``backward`` or ``none`` (no traffic).
    level_field, ground_values
        Grade: segments whose level is not a ground value are never split at T-junctions.
    speed_note : str
        Label of the speed assumption, shown with every result.
    attribution : str
        Licence notice.
    geometry_field : str or None
        CSV only: the geometry column (WKT or GeoJSON text); found by name when None.
    crs : str or None
        CRS to assume when the file states none.
    detect_fields : tuple of str
        Fields whose presence identifies the source (automatic choice of a shipped mapping).
    path : str
        Where the mapping was read from.
    """

    name: str
    provider: str
    class_fields: tuple[str, ...]
    speeds_kmh: dict[str, float]
    exclude: dict[str, str] = dataclasses.field(default_factory=dict)
    exclude_walk: dict[str, str] = dataclasses.field(default_factory=dict)
    oneway_field: str | None = None
    oneway_values: dict[str, str] = dataclasses.field(default_factory=dict)
    level_field: str | None = None
    ground_values: tuple[str, ...] = ()
    speed_note: str = "speeds assigned by road class"
    attribution: str = ""
    geometry_field: str | None = None
    crs: str | None = None
    detect_fields: tuple[str, ...] = ()
    path: str = ""

    def with_speeds(self, table: dict[str, float]) -> "SegmentMapping":
        """The mapping with speed entries replaced or added (``--speed-table``)."""
        return dataclasses.replace(self, speeds_kmh={**self.speeds_kmh, **table})


@dataclasses.dataclass(frozen=True)
class SegmentReport:
    """What reading a centreline file did, for the summary."""

    source: str
    mapping: str
    rows_read: int
    parts_exploded: int
    dropped_no_geometry: int
    dropped_excluded: dict[str, int]
    dropped_zero_length: int
    junctions_split: int
    components: int
    dropped_small_components: int
    share_length_dropped: float
    segments: int
    nodes: int
    oneway_segments: int
    speed_table: str = ""

    def sentence(self) -> str:
        """One sentence for the notes."""
        excl = "; ".join(f"{n:,} {why}" for why, n in self.dropped_excluded.items() if n)
        return (
            f"{self.source} read with {self.mapping}: {self.rows_read:,} rows, {self.segments:,} segments "
            f"({self.oneway_segments:,} one-way) and {self.nodes:,} nodes kept; "
            + (f"{self.parts_exploded:,} multi-part lines exploded, " if self.parts_exploded else "")
            + (f"dropped: {excl}; " if excl else "")
            + (f"{self.dropped_no_geometry:,} rows without a line dropped; " if self.dropped_no_geometry else "")
            + f"{self.dropped_zero_length:,} zero-length dropped; {self.junctions_split:,} T-junctions split; "
            f"largest of {self.components:,} components kept ({self.dropped_small_components:,} segments, "
            f"{self.share_length_dropped:.1%} of the length dropped)"
            + (f"; speeds by class from {self.speed_table} where it names a class" if self.speed_table else "")
        )


# --------------------------------------------------------------------------- mappings


def read_mapping(spec: str | os.PathLike) -> SegmentMapping:
    """A shipped mapping by name (``rnf``, ``hamilton``, ``kingston``) or a mapping TOML file.

    Raises
    ------
    InputError
        Unknown name, unreadable TOML, or a mapping without ``class_fields`` / ``speeds_kmh``.
    """
    name = str(spec)
    if name in SHIPPED:
        text = resources.files("gapmap.travel.road").joinpath("mappings", f"{name}.toml").read_text(encoding="utf-8")
        where = f"the gapmap mapping {name!r}"
    else:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"Network mapping {name} is neither a shipped mapping ({', '.join(SHIPPED)}) nor a file; "
                             "check --network-map.")
        text, where = path.read_text(encoding="utf-8"), f"mapping {path}"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Network mapping {where} is not valid TOML ({exc}); fix the file.") from None
    for key in ("class_fields", "speeds_kmh"):
        if not raw.get(key):
            raise InputError(f"Network mapping {where} has no {key}; add it (see gapmap/travel/road/mappings/rnf.toml).")
    oneway = raw.get("oneway", {})
    values = {str(k): str(v) for k, v in oneway.get("values", {}).items()}
    bad = [v for v in values.values() if v not in _ONEWAY_RULES]
    if bad:
        raise InputError(f"Network mapping {where}: one-way rule {bad[0]!r} is not one of {', '.join(_ONEWAY_RULES)}; fix oneway.values.")
    try:
        speeds = {str(k): float(v) for k, v in raw["speeds_kmh"].items()}
    except (TypeError, ValueError):
        raise InputError(f"Network mapping {where}: every speeds_kmh value must be a number of km/h; fix speeds_kmh.") from None
    _check_speeds(speeds, where)
    return SegmentMapping(
        name=str(raw.get("name", where)), provider=str(raw.get("provider", raw.get("name", where))),
        class_fields=tuple(raw["class_fields"]), speeds_kmh=speeds,
        exclude={str(k): str(v) for k, v in raw.get("exclude", {}).items()},
        exclude_walk={str(k): str(v) for k, v in raw.get("exclude_walk", {}).items()},
        oneway_field=oneway.get("field"), oneway_values=values, level_field=raw.get("level_field"),
        ground_values=tuple(raw.get("ground_values", ())), speed_note=str(raw.get("speed_note", "speeds assigned by road class")),
        attribution=str(raw.get("attribution", "")), geometry_field=raw.get("geometry_field"), crs=raw.get("crs"),
        detect_fields=tuple(raw.get("detect_fields", ())), path=where,
    )


def _check_speeds(speeds: dict[str, float], where: str) -> None:
    for key, kmh in speeds.items():
        if not (np.isfinite(kmh) and kmh > 0):
            raise InputError(f"{where}: speed {kmh:g} km/h for class {key!r} must be a positive number; fix it.")


def read_speed_table(path: str | os.PathLike) -> dict[str, float]:
    """``--speed-table FILE``: a CSV with columns ``class`` and ``speed_kmh`` (class keys as in the mapping)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Speed table {path} does not exist; check --speed-table.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    cols = {c.strip().lower(): c for c in table.columns}
    if "class" not in cols or "speed_kmh" not in cols:
        raise InputError(f"Speed table {path} needs columns class and speed_kmh (found {', '.join(table.columns)}); rename them.")
    kmh = pd.to_numeric(table[cols["speed_kmh"]], errors="coerce")
    if kmh.isna().any():
        row = int(np.flatnonzero(kmh.isna().to_numpy())[0])
        raise InputError(f"Speed table {path}, field speed_kmh, row {row + 2}: {table[cols['speed_kmh']].iloc[row]!r} is not a number of km/h.")
    out = dict(zip(table[cols["class"]].str.strip(), kmh.astype(float)))
    _check_speeds(out, f"Speed table {path}")
    return out


def detect_mapping(columns: Any) -> str | None:
    """The shipped mapping whose ``detect_fields`` are all among ``columns``, or None."""
    have = set(columns)
    for name in SHIPPED:
        if set(read_mapping(name).detect_fields) <= have:
            return name
    return None


def is_segment_file(path: str | os.PathLike) -> bool:
    """True for the file types the segment reader handles (not OSM, GraphML or a gapmap cache)."""
    name = str(path).lower()
    return name.endswith(_SUFFIXES) and not name.endswith(".osm.pbf")


# --------------------------------------------------------------------------- reading


def _read_table(path: Path, mapping: SegmentMapping | None, layer: str | None, source_crs: Any) -> gpd.GeoDataFrame:
    """The file as a GeoDataFrame with a CRS (the file's, else ``source_crs``, else the mapping's)."""
    if not path.exists():
        raise InputError(f"Road segments file {path} does not exist; check the --network path.")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        gcol = mapping.geometry_field if mapping is not None and mapping.geometry_field else next(
            (c for c in df.columns if c.strip().lower() in ("geometry", "wkt", "geojson", "the_geom", "geom", "shape")), None)
        if gcol is None or gcol not in df.columns:
            raise InputError(f"Road segments file {path} has no geometry column (WKT or GeoJSON text named geometry, wkt or "
                             "geojson); add one or set geometry_field in the mapping.")
        text = df[gcol].str.strip()
        is_json = text.str.startswith("{")
        geom = np.full(len(df), None, dtype=object)
        with np.errstate(all="ignore"):
            geom[is_json.to_numpy()] = shapely.from_geojson(text[is_json].to_numpy(), on_invalid="ignore")
            rest = (~is_json & (text != "")).to_numpy()
            geom[rest] = shapely.from_wkt(text[rest].to_numpy(), on_invalid="ignore")
        gdf = gpd.GeoDataFrame(df.drop(columns=[gcol]), geometry=gpd.GeoSeries(geom).values, crs=None)
    else:
        try:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        except Exception as exc:  # noqa: BLE001 - GDAL raises several types for unreadable files
            raise InputError(f"Road segments file {path} cannot be read ({type(exc).__name__}: {exc}); export it again as "
                             "GeoPackage or shapefile.") from None
    if source_crs is not None:
        if gdf.crs is not None and not pyproj.CRS.from_user_input(source_crs).equals(gdf.crs):
            raise InputError(f"Road segments file {path} states CRS {gdf.crs.to_string()} but --crs says {source_crs}; "
                             "drop --crs or reproject the file.")
        gdf = gdf.set_crs(source_crs, allow_override=True)
    elif gdf.crs is None:
        if mapping is not None and mapping.crs:
            gdf = gdf.set_crs(mapping.crs)
        else:
            raise InputError(f"Road segments file {path} states no CRS; give it with --crs (e.g. --crs EPSG:26918).")
    return gdf


def _check_coordinates(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """InputError when rows' coordinates cannot be in the file's stated CRS.

    Two mistakes reach here from real exports: rows appended in another CRS (a file mixing
    degrees and metres), and a geographic CRS stated for metres. Rows past +-180/+-90 cannot be
    degrees. Degrees read as metres lie within 180 m of a projected CRS's false origin; they are
    named when other rows lie over 10 km from there (a toy network drawn at the origin is not
    flagged) and the CRS's area of use does not reach the origin.
    """
    b = shapely.bounds(gdf.geometry.to_numpy())
    has = np.isfinite(b).all(axis=1)
    if not has.any():
        return
    crs = gdf.crs
    in_degrees = has & (np.abs(b[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(b[:, [1, 3]]) <= 90).all(axis=1)
    if crs.is_geographic:
        bad, seen = has & ~in_degrees, "coordinates past longitude/latitude (+-180, +-90)"
    else:
        far = has & (np.abs(b) > 10_000).any(axis=1)
        aou = crs.area_of_use
        if not (in_degrees.any() and far.any()) or aou is None:
            return
        x0, y0, x1, y1 = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform_bounds(
            aou.west, aou.south, aou.east, aou.north)
        if not np.isfinite([x0, y0, x1, y1]).all() or (x0 <= 180 and x1 >= -180 and y0 <= 90 and y1 >= -90):
            return
        bad, seen = in_degrees, "coordinates that look like longitude/latitude degrees"
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    ex = ", ".join(f"{c:.10g}" for c in shapely.get_coordinates(gdf.geometry.iloc[rows[0]])[0])
    name = crs.to_string()
    if bad[has].all():
        raise InputError(f"Road segments file {path} states CRS {name} but every row has {seen} (e.g. {ex}); set the file's "
                         "CRS to its coordinates' one (e.g. ogr2ogr -a_srs EPSG:26917).")
    listed = ", ".join(str(r + 1) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
    raise InputError(f"Road segments file {path} states CRS {name} but {len(rows):,} of {int(has.sum()):,} rows have {seen} "
                     f"(rows {listed}, counting from 1; e.g. {ex}): the file mixes CRSs; reproject those rows to {name}.")


def _keys(gdf: gpd.GeoDataFrame, fields: tuple[str, ...]) -> np.ndarray:
    parts = [gdf[f].astype("string").fillna("").str.strip() for f in fields]
    out = parts[0]
    for p in parts[1:]:
        out = out + "/" + p
    return out.to_numpy(dtype=object)


def _lookup(keys: np.ndarray, table: dict[str, float] | dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """For each class key, the table key that is its longest leading match (``12/1`` before ``12``); '' if none."""
    uniq, inv = np.unique(keys.astype(str), return_inverse=True)
    hit = np.full(len(uniq), "", dtype=object)
    for i, k in enumerate(uniq):
        parts = k.split("/")
        for n in range(len(parts), 0, -1):
            cand = "/".join(parts[:n])
            if cand in table:
                hit[i] = cand
                break
    return hit[inv], uniq


def read_segments(
    path: str | os.PathLike,
    mapping: SegmentMapping | str | os.PathLike | None = None,
    *,
    mode: str = "drive",
    crs: Any = None,
    source_crs: Any = None,
    boundary: Any = None,
    layer: str | None = None,
    speed_table: dict[str, float] | str | os.PathLike | None = None,
    snap_m: float = SNAP_M,
    split_m: float = SPLIT_M,
    source: str | None = None,
) -> tuple["RoadNetwork", SegmentReport]:
    """Read a centreline file into a :class:`~gapmap.travel.road.network.RoadNetwork`.

    Parameters
    ----------
    path : path
        Shapefile, GeoPackage, GeoJSON, or CSV with a WKT / GeoJSON geometry column.
    mapping : SegmentMapping, name or path, optional
        Default: the shipped mapping whose ``detect_fields`` the file has.
    mode : {"drive", "walk", "bike"}
        Walk and bike networks are two-way everywhere and drop ``exclude_walk`` classes; their
        edge speed is the mode's (set later by :meth:`RoadNetwork.with_speed`).
    crs : CRS, optional
        Projected CRS of the network; default the file's CRS if projected, else its UTM zone.
    source_crs : CRS, optional
        The file's CRS when it states none (``--crs``).
    boundary : GeoDataFrame, optional
        Keep only segments intersecting the region (buffered 2 km so roads leaving it connect).
    layer : str, optional
        GeoPackage layer.
    speed_table : dict or CSV path, optional
        Class key -> km/h, overriding the mapping's entries.
    snap_m, split_m : float
        Node snapping and T-junction tolerances, metres.
    source : str, optional
        Name for reports; default the file name.

    Returns
    -------
    RoadNetwork, SegmentReport
    """
    from gapmap.travel import modes
    from gapmap.travel.road.network import RoadNetwork, check_mode

    check_mode(mode)
    path = Path(path)
    mp = mapping if isinstance(mapping, SegmentMapping) else read_mapping(mapping) if mapping is not None else None
    gdf = _read_table(path, mp, layer, source_crs)
    _check_coordinates(path, gdf)
    mp = _resolve_mapping(path, gdf, mp, speed_table)
    rows_read = len(gdf)
    gdf, no_geom, exploded = _lines_only(gdf.assign(_row=np.arange(rows_read)))
    gdf, keys, kmh, rule, dropped = _classify(path, gdf, mp, mode)
    gdf, target = _project(gdf, crs, path)
    if boundary is not None:
        region = boundary.to_crs(target).geometry.union_all().buffer(2000.0)
        inside = gdf.geometry.intersects(region).to_numpy()
        dropped["outside the region"] = int((~inside).sum())
        gdf, keys, kmh, rule = gdf[inside].reset_index(drop=True), keys[inside], kmh[inside], rule[inside]
    geoms = shapely.force_2d(gdf.geometry.to_numpy())
    ground = (np.ones(len(gdf), bool) if not mp.level_field else
              gdf[mp.level_field].astype("string").fillna("").str.strip().isin(list(mp.ground_values)).to_numpy())

    # Nodes at segment ends, after splitting T-junctions (a line ending on another line's middle).
    geoms, parent, n_split = _split_t_junctions(geoms, ground, snap_m, split_m)
    keys, kmh, rule = keys[parent], kmh[parent], rule[parent]
    node_xy, u, v = _nodes(geoms, snap_m)
    lengths = shapely.length(geoms)
    sel, zero, n_comp, n_small, share = _largest_component(len(node_xy), u, v, lengths, snap_m)

    used = np.unique(np.concatenate([u[sel], v[sel]]))
    renum = np.full(len(node_xy), -1, dtype=np.int64)
    renum[used] = np.arange(len(used))
    g, uu, vv, r = geoms[sel], renum[u[sel]], renum[v[sel]], rule[sel]
    length = lengths[sel]
    # One-way against the digitised direction: store it reversed, so u -> v is the travel direction.
    back = r == "backward"
    g = np.where(back, shapely.reverse(g), g)
    uu, vv = np.where(back, vv, uu), np.where(back, uu, vv)
    # One-way rules bind drivers and cyclists; walking networks are two-way (as for OSM networks).
    oneway = (r != "both") & (mode != "walk")
    speed = kmh[sel] if not modes.get(mode).constant_network_speed else np.full(len(sel), modes.get(mode).default_speed_kmh)
    time = length / (speed / 3.6)
    net = RoadNetwork.from_segments(
        node_xy[used], uu, vv, length, time, time_back_s=np.where(oneway, np.nan, time), geometry=g,
        crs=target, mode=mode, source=source or path.name, key=gdf["_row"].to_numpy()[parent][sel],
    )
    net.attribution = mp.attribution
    net.provider = mp.provider
    net.speed_note = mp.speed_note if mode == "drive" else None
    net.edges["road_class"] = keys[sel]
    net.edges["speed_kmh"] = speed
    report = SegmentReport(
        source=source or path.name, mapping=mp.path, rows_read=rows_read, parts_exploded=exploded,
        dropped_no_geometry=no_geom, dropped_excluded=dropped, dropped_zero_length=int(zero.sum()),
        junctions_split=n_split, components=n_comp, dropped_small_components=n_small, share_length_dropped=share,
        segments=len(sel), nodes=len(used), oneway_segments=int(oneway.sum()),
        speed_table="" if speed_table is None else ("the given table" if isinstance(speed_table, dict) else Path(speed_table).name),
    )
    return net, report


def _resolve_mapping(path: Path, gdf: gpd.GeoDataFrame, mp: SegmentMapping | None,
                     speed_table: dict[str, float] | str | os.PathLike | None) -> SegmentMapping:
    """The mapping to use (given, else detected from the fields), with the speed table applied and its fields checked."""
    if mp is None:
        name = detect_mapping(gdf.columns)
        if name is None:
            raise InputError(f"Road segments file {path} matches no shipped mapping ({', '.join(SHIPPED)}); give one with "
                             "--network-map MAP (a TOML file naming its class field and speeds).")
        mp = read_mapping(name)
    if speed_table is not None:
        mp = mp.with_speeds(speed_table if isinstance(speed_table, dict) else read_speed_table(speed_table))
    for field in (*mp.class_fields, *([mp.oneway_field] if mp.oneway_field else []), *([mp.level_field] if mp.level_field else [])):
        if field not in gdf.columns:
            raise InputError(f"Road segments file {path} has no field {field!r} named by the mapping {mp.path}; "
                             f"fix the mapping or the file (fields: {', '.join(map(str, gdf.columns[:15]))}).")
    return mp


def _lines_only(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int, int]:
    """Line rows with multi-part lines exploded; also the number of rows without a line and of extra parts."""
    gtype = gdf.geom_type.to_numpy(dtype=object)
    is_line = np.isin(gtype, ["LineString", "MultiLineString"]) & ~gdf.geometry.is_empty.to_numpy()
    no_geom = int((~is_line).sum())
    gdf = gdf[is_line]
    multi = gdf.geom_type.to_numpy(dtype=object) == "MultiLineString"
    n_parts = shapely.get_num_geometries(gdf.geometry.to_numpy()[multi])
    exploded = int((n_parts - 1).sum()) if multi.any() else 0
    return gdf.explode(index_parts=False, ignore_index=True), no_geom, exploded


def _classify(path: Path, gdf: gpd.GeoDataFrame, mp: SegmentMapping, mode: str
              ) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Rows kept after the mapping's exclusions and one-way "none", with class key, km/h and one-way rule.

    Returns the kept rows, their class keys, speeds (km/h) and one-way rules (``both``,
    ``forward``, ``backward``), and the count of dropped rows by reason.
    """
    keys = _keys(gdf, mp.class_fields)
    dropped: dict[str, int] = {}
    drop = np.zeros(len(gdf), bool)
    for table in (mp.exclude, mp.exclude_walk if mode != "drive" else {}):
        hit, _ = _lookup(keys, table)
        for k in sorted({h for h in hit if h}):
            sel = (hit == k) & ~drop
            dropped[table[k]] = dropped.get(table[k], 0) + int(sel.sum())
            drop |= hit == k
    if mp.oneway_field:
        raw = gdf[mp.oneway_field].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        unknown = sorted(set(raw) - set(mp.oneway_values))
        if unknown:
            raise InputError(f"Road segments file {path}, field {mp.oneway_field}: value {unknown[0]!r} is not in the mapping's "
                             f"declared one-way values ({', '.join(map(repr, mp.oneway_values))}); add it to {mp.path}.")
        rule = np.array([mp.oneway_values[v] for v in raw], dtype=object)
        none = (rule == "none") & ~drop
        if none.any():
            dropped["no traffic permitted"] = int(none.sum())
        drop |= rule == "none"
    else:
        rule = np.full(len(gdf), "both", dtype=object)
    hit, _ = _lookup(keys, mp.speeds_kmh)
    missing = (hit == "") & ~drop
    if missing.any():
        k = sorted(set(keys[missing]))[0]
        raise InputError(f"Road segments file {path}, field {'/'.join(mp.class_fields)}: class {k!r} has no speed in {mp.path}; "
                         "add it to the mapping's speeds_kmh or a --speed-table FILE (CSV class,speed_kmh).")
    keep = ~drop
    kmh = np.array([mp.speeds_kmh[h] for h in hit[keep]], dtype=float)
    return gdf[keep].reset_index(drop=True), keys[keep], kmh, rule[keep], dropped


def _project(gdf: gpd.GeoDataFrame, crs: Any, path: Path) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """``gdf`` in ``crs``; by default its own CRS if projected, else its UTM zone."""
    if crs is None and gdf.crs.is_geographic and not np.isfinite(gdf.total_bounds).all():
        raise InputError(f"Road segments file {path} has no line with coordinates, so no UTM zone can be chosen; check its geometry.")
    target = pyproj.CRS.from_user_input(crs) if crs is not None else (
        gdf.crs if not gdf.crs.is_geographic else pyproj.CRS.from_user_input(gdf.estimate_utm_crs()))
    return gdf.to_crs(target), target


def _largest_component(n_nodes: int, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, snap_m: float
                       ) -> tuple[np.ndarray, np.ndarray, int, int, float]:
    """Segments of the longest connected piece, without zero-length pieces.

    Returns the kept segment indices, the zero-length mask, the number of components, the
    number of segments in the dropped smaller components and their share of the length.
    """
    # Ends on one node: a zero-length piece (dropped) or a closed loop such as a crescent (kept).
    zero = (u == v) & (lengths <= snap_m)
    good = ~zero
    n_comp, label = _components(n_nodes, u[good], v[good])
    comp_len = np.bincount(label[u[good]], weights=lengths[good], minlength=n_comp)
    big = int(np.argmax(comp_len)) if n_comp else 0
    in_big = good & (label[u] == big)
    share = float(lengths[good & ~in_big].sum() / lengths[good].sum()) if good.any() else 0.0
    return np.flatnonzero(in_big), zero, n_comp, int((good & ~in_big).sum()), share


def _nodes(geoms: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node coordinates and the end nodes of each line: ends within ``snap_m`` are one node (single linkage)."""
    n = len(geoms)
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    pts = np.concatenate([start, end])
    # Exact duplicates first (the common case), then close pairs among the distinct points.
    uniq, inv = np.unique(pts, axis=0, return_inverse=True)
    inv = inv.ravel()
    tree = shapely.STRtree(shapely.points(uniq))
    a, b = tree.query(shapely.points(uniq), predicate="dwithin", distance=snap_m)
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(len(uniq), len(uniq))), directed=False)
    # Node position: the first (lowest sorted) point of each cluster, so results do not depend on row order.
    first = np.full(label.max() + 1 if len(label) else 0, -1, dtype=np.int64)
    order = np.arange(len(uniq))[::-1]
    first[label[order]] = order
    node_xy = uniq[first]
    node = label[inv]
    return node_xy, node[:n], node[n:]


def _split_t_junctions(geoms: np.ndarray, ground: np.ndarray, snap_m: float, split_m: float
                       ) -> tuple[np.ndarray, np.ndarray, int]:
    """Split lines where another line's dead end touches their interior.

    Returns the new lines, the input row of each, and the number of dead ends joined.
    """
    node_xy, u, v = _nodes(geoms, snap_m)
    deg = np.bincount(np.concatenate([u, v]), minlength=len(node_xy))
    dead = np.flatnonzero(deg == 1)
    if dead.size == 0:
        return geoms, np.arange(len(geoms)), 0
    seg_of = np.full(len(node_xy), -1, dtype=np.int64)
    seg_of[u] = np.arange(len(u))
    seg_of[v] = np.arange(len(v))
    owner = seg_of[dead]
    pts = shapely.points(node_xy[dead])
    tree = shapely.STRtree(geoms)
    pi, li = tree.query(pts, predicate="dwithin", distance=split_m)
    ok = (li != owner[pi]) & ground[li] & ground[owner[pi]]
    pi, li = pi[ok], li[ok]
    if pi.size == 0:
        return geoms, np.arange(len(geoms)), 0
    d = shapely.distance(pts[pi], geoms[li])
    pos = shapely.line_locate_point(geoms[li], pts[pi])
    length = shapely.length(geoms[li])
    interior = (pos > snap_m) & (pos < length - snap_m)
    pi, li, d, pos = pi[interior], li[interior], d[interior], pos[interior]
    # One line per dead end: the nearest (ties: the lowest row).
    order = np.lexsort((li, d, pi))
    pi, li, pos = pi[order], li[order], pos[order]
    firsts = np.r_[True, pi[1:] != pi[:-1]] if pi.size else np.zeros(0, bool)
    pi, li, pos = pi[firsts], li[firsts], pos[firsts]
    if pi.size == 0:
        return geoms, np.arange(len(geoms)), 0
    out, parent = [], []
    cut_at: dict[int, list[tuple[float, np.ndarray]]] = {}
    for p, line, at in zip(pi, li, pos):
        cut_at.setdefault(int(line), []).append((float(at), node_xy[dead[p]]))
    for row in range(len(geoms)):
        cuts = cut_at.get(row)
        if not cuts:
            out.append(geoms[row])
            parent.append(row)
            continue
        out_pieces = _cut(geoms[row], sorted(cuts, key=lambda c: c[0]))
        out.extend(out_pieces)
        parent.extend([row] * len(out_pieces))
    return np.asarray(out, dtype=object), np.asarray(parent, dtype=np.int64), int(pi.size)


def _cut(line: shapely.LineString, cuts: list[tuple[float, np.ndarray]]) -> list[shapely.LineString]:
    """``line`` cut at distances along it, each cut point moved onto the dead end that caused it."""
    coords = np.asarray(line.coords)[:, :2]
    seg_len = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.r_[0.0, np.cumsum(seg_len)]
    pieces, current, last = [], [coords[0]], 0.0
    i = 1
    for at, xy in cuts:
        while i < len(coords) and cum[i] <= at:
            if cum[i] > last:
                current.append(coords[i])
            i += 1
        current.append(xy)
        if len(current) >= 2:
            pieces.append(shapely.LineString(current))
        current, last = [xy], at
    current.extend(coords[i:])
    if len(current) >= 2:
        pieces.append(shapely.LineString(current))
    return pieces


def _components(n: int, u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """Weakly connected components of the segment graph."""
    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    return connected_components(adj, directed=False)
