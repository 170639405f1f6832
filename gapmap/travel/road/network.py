"""Road-network travel times from OpenStreetMap (``--network auto|straight|PATH``).

A :class:`RoadNetwork` is a directed road graph in a projected CRS: node coordinates, one
row per road segment (a two-way street is one row travelled both ways), and sparse
matrices of travel time and length. Shortest paths run on scipy's compiled Dijkstra: one
multi-source pass per service category gives every node and every origin its nearest
service, which service that is, and the time and distance to it.

Method and defaults (all documented constants below, overridable per call where noted):

- Speeds. ``drive``: the OSM ``maxspeed`` tag where present, else :data:`DRIVE_SPEEDS_KMH`
  by ``highway`` type (typical Ontario posted limits), else the mean tagged speed of that
  type, else :data:`DRIVE_FALLBACK_KMH` (OSMnx ``add_edge_speeds``). ``walk`` 4.8 km/h and
  ``bike`` 15 km/h on every edge, matching :mod:`gapmap.settings`.
- One-way streets are respected for ``drive`` and ``bike`` (OSMnx/pyrosm rules); ``walk``
  networks are two-way. Times run *from* an origin *to* a service, so the search runs from
  the services over the reversed graph.
- Snapping. Origins and services attach to the nearest point on the nearest road segment
  (not the nearest node). The off-road leg is timed at ``access_speed_kmh`` (default 4.8
  km/h, walking) for origins and services alike; from the attachment point travel follows
  the segment to its end nodes, only forwards on a one-way segment. Points farther than
  ``snap_limit_m`` (default 1000 m) from every road are kept and flagged (``snap_flag``).
- Isochrones. The road parts, whole or partial segments, from which a service is reachable
  within the threshold, buffered by :data:`ISOCHRONE_BUFFER_M` (100 m, about a rural road
  allowance plus a farmyard) and unioned. The access leg of the place inside the polygon
  is not included. Larger thresholds give polygons that contain the smaller ones.
- Unreachable (no route to any service of the category, e.g. an island, or a one-way
  dead end at the region's edge): ``service_id`` None and NaN minutes, never inf.
- ``--network auto`` caches the processed network as ``.npz`` in
  :func:`default_cache_dir`, keyed by a hash of the boundary geometry and the mode; with
  no cache and no connection :func:`load_network` returns no network and a reason, and the
  caller falls back to straight lines. Downloads and PBF reads keep the largest weakly
  connected road component (OSMnx and pyrosm defaults).
- Network data © OpenStreetMap contributors, ODbL (:data:`ATTRIBUTION`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse.csgraph import dijkstra

from gapmap import geo
from gapmap.travel import modes
from gapmap.travel.road import graph as _graph
from gapmap.errors import InputError

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
#: Default of ``access_speed_kmh`` (the off-road leg): the walking speed of the mode registry. Runs pass
#: their own ``speeds_kmh['walk']`` setting.
ACCESS_SPEED_KMH = modes.MODES["walk"].default_speed_kmh
SNAP_LIMIT_M = 1000.0
ISOCHRONE_BUFFER_M = 100.0
DRIVE_FALLBACK_KMH = 50.0
#: km/h by OSM ``highway`` type for edges without a ``maxspeed`` tag: Ontario's statutory
#: 80 km/h outside built-up areas for rural collectors, 50 km/h and below in towns.
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 80.0,
    "primary_link": 50.0,
    "secondary": 80.0,
    "secondary_link": 50.0,
    "tertiary": 70.0,
    "tertiary_link": 40.0,
    "unclassified": 60.0,
    "residential": 40.0,
    "living_street": 20.0,
    "service": 20.0,
    "road": 50.0,
}
CACHE_VERSION = 1

def _check_mode(mode: str) -> None:
    if mode not in modes.ROAD_MODES:
        raise InputError(f"Road networks support modes {', '.join(modes.ROAD_MODES)}, not {mode!r}; pick one with --mode.")


# --------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class RoadNetwork:
    """A directed road network in a projected CRS.

    Attributes
    ----------
    mode : str
        ``"drive"``, ``"walk"`` or ``"bike"``.
    crs : pyproj.CRS
        Projected CRS (metres) of ``node_xy`` and ``edges``.
    node_ids : ndarray, shape (n,)
        OSM node ids (or the source graph's node keys) by node index.
    node_xy : ndarray of float, shape (n, 2)
        Node coordinates.
    edges : GeoDataFrame
        One row per road segment: ``u``, ``v`` (node indices; geometry runs u -> v),
        ``key``, ``length_m``, ``time_s`` (u -> v), ``time_back_s`` (v -> u, NaN when
        one-way), ``oneway`` (bool) and ``geometry``.
    source : str
        Where the data came from (file or download), for reports.
    attribution : str
        Licence notice to print with any output.
    """

    mode: str
    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    source: str
    attribution: str = ATTRIBUTION
    #: Data provider in the method label; ``speed_note`` labels speeds that rest on an assumption.
    provider: str = "OpenStreetMap"
    speed_note: str | None = None

    def __post_init__(self) -> None:
        self.crs = pyproj.CRS.from_user_input(self.crs)
        if self.crs.is_geographic:
            raise InputError(f"Road network CRS {self.crs.name} is in degrees; project it to metres (e.g. UTM) first.")
        e = self.edges
        two = ~e["oneway"].to_numpy(bool)
        u, v = e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64)
        length = e["length_m"].to_numpy(float)
        self._graph = _graph.directed_edges(
            len(self.node_xy),
            np.concatenate([u, v[two]]),
            np.concatenate([v, u[two]]),
            np.concatenate([e["time_s"].to_numpy(float), e["time_back_s"].to_numpy(float)[two]]),
            np.concatenate([length, length[two]]),
        )
        self._projected: dict[str, RoadNetwork] = {}

    # ---- construction -----------------------------------------------------------------

    @classmethod
    def from_segments(
        cls,
        node_xy: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        length_m: np.ndarray,
        time_s: np.ndarray,
        *,
        time_back_s: np.ndarray | None = None,
        geometry: Any = None,
        crs: Any,
        mode: str,
        source: str,
        node_ids: np.ndarray | None = None,
        key: np.ndarray | None = None,
    ) -> "RoadNetwork":
        """Build a network from arrays of road segments.

        Parameters
        ----------
        node_xy : ndarray, shape (n, 2)
            Node coordinates in ``crs`` (projected, metres).
        u, v : ndarray of int
            Segment end node indices; travel ``u -> v`` takes ``time_s`` seconds.
        length_m, time_s : ndarray of float
            Segment length and forward travel time.
        time_back_s : ndarray of float, optional
            Travel time ``v -> u``; NaN (or omitted) for one-way segments.
        geometry : array of LineString, optional
            Segment shapes running from ``u`` to ``v``; straight lines if omitted.
        crs, mode, source, node_ids, key
            See :class:`RoadNetwork`.
        """
        _check_mode(mode)
        node_xy = np.asarray(node_xy, dtype=float)
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        n_seg = len(u)
        back = np.full(n_seg, np.nan) if time_back_s is None else np.asarray(time_back_s, dtype=float)
        if geometry is None:
            xy = np.stack([node_xy[u], node_xy[v]], axis=1).reshape(-1, 2)
            geometry = shapely.linestrings(xy, indices=np.repeat(np.arange(n_seg), 2))
        edges = gpd.GeoDataFrame(
            {
                "u": u,
                "v": v,
                "key": np.zeros(n_seg, dtype=np.int64) if key is None else np.asarray(key),
                "length_m": np.asarray(length_m, dtype=float),
                "time_s": np.asarray(time_s, dtype=float),
                "time_back_s": back,
                "oneway": np.isnan(back),
            },
            geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object)).values,
            crs=crs,
        )
        ids = np.arange(len(node_xy)) if node_ids is None else np.asarray(node_ids)
        return cls(mode=mode, crs=edges.crs, node_ids=ids, node_xy=node_xy, edges=edges, source=source)

    @classmethod
    def from_graph(cls, G: Any, mode: str = "drive", *, source: str = "networkx graph", crs: Any = None) -> "RoadNetwork":
        """Build a network from an OSMnx-style ``networkx.MultiDiGraph``.

        The graph needs ``G.graph["crs"]``, node ``x``/``y`` and edge ``length`` (metres;
        projected geometry length if missing). Drive speeds come from existing
        ``speed_kph`` attributes if every edge has one, else from OSM tags via
        ``osmnx.add_edge_speeds`` with :data:`DRIVE_SPEEDS_KMH` (on a copy: ``G`` is left
        unchanged). The network is projected to ``crs``, or to the local UTM zone when
        ``G`` is in degrees.
        """
        import osmnx as ox

        _check_mode(mode)
        if G.number_of_edges() == 0:
            raise InputError(f"The road network from {source} has no {mode} roads; use a file that covers the region.")
        nodes, edges = ox.graph_to_gdfs(G, fill_edge_geometry=True)
        if mode == "drive" and ("speed_kph" not in edges or edges["speed_kph"].isna().any()):
            H = ox.add_edge_speeds(G.copy(), hwy_speeds=DRIVE_SPEEDS_KMH, fallback=DRIVE_FALLBACK_KMH)
            nodes, edges = ox.graph_to_gdfs(H, fill_edge_geometry=True)
        target = crs if crs is not None else (nodes.estimate_utm_crs() if nodes.crs.is_geographic else nodes.crs)
        nodes, edges = nodes.to_crs(target), edges.to_crs(target)

        node_index = pd.Index(nodes.index)
        u = node_index.get_indexer(edges.index.get_level_values(0))
        v = node_index.get_indexer(edges.index.get_level_values(1))
        geom = edges.geometry.to_numpy()
        xy = np.column_stack([nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()])
        # Geometry must run u -> v for partial-edge times; flip any stored the other way.
        start = shapely.get_point(geom, 0)
        flip = shapely.distance(start, shapely.points(xy[v])) < shapely.distance(start, shapely.points(xy[u]))
        geom = np.where(flip, shapely.reverse(geom), geom)
        length = edges["length"].to_numpy(float) if "length" in edges else shapely.length(geom)
        length = np.where(np.isnan(length), shapely.length(geom), length)
        m = modes.get(mode)
        kmh = np.full(len(edges), m.default_speed_kmh) if m.constant_network_speed else edges["speed_kph"].to_numpy(float)
        time = length / (kmh / 3.6)
        oneway = _as_bool(edges["oneway"]) if "oneway" in edges else np.zeros(len(edges), bool)

        twin = _graph.pair_twins(u, v, length, oneway)
        keep = _graph.segment_rows(u, v, twin)
        back = np.where(twin >= 0, time[np.maximum(twin, 0)], np.nan)
        keys = edges.index.get_level_values(2).to_numpy()
        return cls.from_segments(
            xy, u[keep], v[keep], length[keep], time[keep], time_back_s=back[keep], geometry=geom[keep],
            crs=target, mode=mode, source=source, node_ids=node_index.to_numpy(), key=keys[keep],
        )

    # ---- derived views ----------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @functools.cached_property
    def times(self):
        """``scipy.sparse.csr_matrix`` of directed edge travel times (s); parallel edges: min."""
        return self._graph.csr("time")

    @functools.cached_property
    def lengths(self):
        """``scipy.sparse.csr_matrix`` of the lengths (m) of the edges in :attr:`times`."""
        return self._graph.csr("length")

    @property
    def method(self) -> str:
        """Label for output tables, e.g. ``road network (OpenStreetMap, drive)`` or ``(..., walk 4.8 km/h)``."""
        speed = self.speed_kmh
        note = f"; {self.speed_note}" if self.speed_note else ""
        return f"road network ({self.provider}, {self.mode}{f' {speed:g} km/h' if speed is not None else ''}{note})"

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """Nodes as points, indexed by node index, with their ``node_id``."""
        return gpd.GeoDataFrame(
            {"node_id": self.node_ids}, geometry=shapely.points(self.node_xy), crs=self.crs
        )

    @functools.cached_property
    def _geoms(self) -> np.ndarray:
        return self.edges.geometry.to_numpy()

    @functools.cached_property
    def _reverse(self) -> _graph.DirectedEdges:
        return self._graph.reversed()

    @functools.cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._geoms)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork(mode={self.mode!r}, nodes={self.n_nodes:,}, segments={len(self.edges):,}, "
            f"crs={self.crs.to_string()!r}, source={self.source!r})"
        )

    def to_crs(self, crs: Any) -> "RoadNetwork":
        """The same network in another projected CRS (memoised; times and lengths unchanged)."""
        target = pyproj.CRS.from_user_input(crs)
        if target.is_geographic:
            raise InputError(f"CRS {target.name} is in degrees; reproject the layers to a metre-based CRS (e.g. UTM).")
        if target.equals(self.crs):
            return self
        key = target.to_wkt()
        if key not in self._projected:
            tf = pyproj.Transformer.from_crs(self.crs, target, always_xy=True)
            x, y = tf.transform(self.node_xy[:, 0], self.node_xy[:, 1])
            self._projected[key] = RoadNetwork(
                mode=self.mode, crs=target, node_ids=self.node_ids, node_xy=np.column_stack([x, y]),
                edges=self.edges.to_crs(target), source=self.source, attribution=self.attribution,
                provider=self.provider, speed_note=self.speed_note,
            )
        return self._projected[key]

    def with_speed(self, speed_kmh: float) -> "RoadNetwork":
        """The same network with every edge travelled at ``speed_kmh`` (walk and bike networks).

        Drive networks keep their per-edge speeds (tags, road class): a ``--speed drive=``
        setting applies to the straight-line approximation only.
        """
        if not modes.get(self.mode).constant_network_speed:
            raise ValueError(f"{self.mode} networks have per-edge speeds; with_speed applies to walk and bike networks")
        if not (np.isfinite(speed_kmh) and speed_kmh > 0):
            raise InputError(f"Speed {speed_kmh} km/h for the {self.mode} network must be a positive number; fix --speed.")
        e = self.edges.copy()
        t = e["length_m"].to_numpy(float) / (speed_kmh / 3.6)
        if np.array_equal(t, e["time_s"].to_numpy(float)):
            return self
        e["time_s"] = t
        e["time_back_s"] = np.where(e["oneway"].to_numpy(bool), np.nan, t)
        return RoadNetwork(mode=self.mode, crs=self.crs, node_ids=self.node_ids, node_xy=self.node_xy, edges=e,
                           source=self.source, attribution=self.attribution, provider=self.provider, speed_note=None)

    @property
    def speed_kmh(self) -> float | None:
        """The single edge speed of a walk / bike network (None for drive networks)."""
        if not modes.get(self.mode).constant_network_speed or len(self.edges) == 0:
            return None
        e = self.edges
        return float(np.median(e["length_m"].to_numpy(float) / e["time_s"].to_numpy(float)) * 3.6)

    # ---- cache format -----------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network to a ``.npz`` file (no pickles; loads in well under a second)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        coords, owner = shapely.get_coordinates(self._geoms, return_index=True)
        ids = self.node_ids if self.node_ids.dtype != object else self.node_ids.astype(str)
        e = self.edges
        tmp = path.with_name(path.name + ".part.npz")
        np.savez(
            tmp,
            meta=np.array(json.dumps({
                "version": CACHE_VERSION, "mode": self.mode, "crs": self.crs.to_wkt(),
                "source": self.source, "attribution": self.attribution,
                "provider": self.provider, "speed_note": self.speed_note,
            })),
            node_ids=ids, node_xy=self.node_xy,
            u=e["u"].to_numpy(np.int64), v=e["v"].to_numpy(np.int64), key=e["key"].to_numpy(np.int64),
            length_m=e["length_m"].to_numpy(float), time_s=e["time_s"].to_numpy(float),
            time_back_s=e["time_back_s"].to_numpy(float), coords=coords, owner=owner,
        )
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written cache file
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "RoadNetwork":
        """Read a network written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("version") != CACHE_VERSION:
                    raise ValueError(f"cache format {meta.get('version')} is not {CACHE_VERSION}")
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"Road network file {path} is not a gapmap network ({exc}); delete it and rerun with --network auto.") from None
        geometry = shapely.linestrings(arrays["coords"], indices=arrays["owner"])
        net = cls.from_segments(
            arrays["node_xy"], arrays["u"], arrays["v"], arrays["length_m"], arrays["time_s"],
            time_back_s=arrays["time_back_s"], geometry=geometry, crs=meta["crs"], mode=meta["mode"],
            source=meta["source"], node_ids=arrays["node_ids"], key=arrays["key"],
        )
        net.attribution = meta.get("attribution", ATTRIBUTION)
        net.provider = meta.get("provider", "OpenStreetMap")
        net.speed_note = meta.get("speed_note")
        return net


def _as_bool(col: pd.Series) -> np.ndarray:
    """OSMnx ``oneway`` values (bool, "True"/"False" strings, or lists after simplification)."""
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(bool)
    def one(x: Any) -> bool:
        if isinstance(x, (list, tuple)):
            return any(one(y) for y in x)
        if isinstance(x, str):
            return x.strip().lower() in ("true", "yes", "1")
        return bool(x) if not pd.isna(x) else False

    return np.fromiter((one(x) for x in col), dtype=bool, count=len(col))


# --------------------------------------------------------------------------------------
# Loading: --network auto | straight | PATH
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NetworkLoad:
    """Outcome of :func:`load_network`.

    Attributes
    ----------
    network : RoadNetwork or None
        None means: use straight-line distances.
    reason : str
        One sentence saying where the network came from, or why there is none (for logs
        and the report's method note).
    cache_path : Path or None
        The cache file read or written by ``auto``.
    downloaded : bool
        True when ``auto`` fetched the network from OpenStreetMap in this call.
    """

    network: RoadNetwork | None
    reason: str
    cache_path: Path | None = None
    downloaded: bool = False


def default_cache_dir() -> Path:
    """``$GAPMAP_CACHE/networks``, else ``$XDG_CACHE_HOME/gapmap/networks`` (``~/.cache``)."""
    if os.environ.get("GAPMAP_CACHE"):
        return Path(os.environ["GAPMAP_CACHE"]) / "networks"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gapmap" / "networks"


def boundary_polygon(boundary: Any) -> shapely.Polygon | shapely.MultiPolygon:
    """The region as one (Multi)Polygon in EPSG:4326.

    ``boundary`` is a GeoDataFrame/GeoSeries with a CRS, or a shapely geometry in degrees.
    """
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if boundary.crs is None:
            raise InputError("The region boundary has no CRS; set one (e.g. EPSG:4326) in the boundary file.")
        geom = shapely.union_all(boundary.to_crs(4326).geometry.to_numpy())
    else:
        geom = boundary
    geom = shapely.make_valid(geom)
    if isinstance(geom, shapely.GeometryCollection):
        geom = shapely.union_all([g for g in geom.geoms if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))])
    if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)) or geom.is_empty:
        raise InputError("The region boundary is not a polygon; use a boundary file with polygon geometry.")
    return geom


def network_cache_path(boundary: Any, mode: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Cache file for ``boundary`` and ``mode``: keyed by a hash of the boundary geometry."""
    poly = shapely.normalize(shapely.set_precision(boundary_polygon(boundary), 1e-7))
    digest = hashlib.sha256(shapely.to_wkb(poly, output_dimension=2) + f"|{mode}|{CACHE_VERSION}".encode()).hexdigest()
    return Path(cache_dir or default_cache_dir()) / f"roads-{mode}-{digest[:16]}.npz"


def load_network(
    spec: str | os.PathLike | None,
    *,
    boundary: Any = None,
    mode: str = "drive",
    cache_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
    speed_kmh: float | None = None,
    network_map: str | os.PathLike | None = None,
    speed_table: str | os.PathLike | None = None,
    source_crs: Any = None,
    data_dir: str | os.PathLike | None = None,
) -> NetworkLoad:
    """Resolve ``--network auto|straight|PATH`` to a road network, or to none.

    Parameters
    ----------
    spec : str or path or None
        ``"straight"`` (or None): no network. ``"auto"``: the cached network for
        ``boundary`` and ``mode``, else download it with OSMnx and cache it. ``"rnf"``: Statistics
        Canada's national Road Network File, downloaded once and clipped to ``boundary``
        (:mod:`gapmap.travel.road.rnf_download`). A path: read a
        local ``.osm.pbf`` (pyrosm), ``.osm``/``.osm.xml`` (OSMnx) or ``.graphml`` file, or a
        gapmap ``.npz`` cache file.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The region; needed by ``auto``. A PBF is clipped to it. If it has a projected CRS the
        network is returned in that CRS, else in the local UTM zone.
    mode : {"drive", "walk", "bike"}
        ``"transit"`` returns no network (road networks do not model transit).
    cache_dir : path, optional
        Default :func:`default_cache_dir`.
    offline : bool, optional
        True: never download. None: download, but fall back quietly if there is no
        connection (also True when the ``GAPMAP_OFFLINE`` environment variable is set).
    speed_kmh : float, optional
        The run's speed setting for ``mode``. Walk and bike networks are travelled at it
        (:meth:`RoadNetwork.with_speed`); it is applied after reading, so the cache holds
        geometry and lengths and one cached network serves every speed. Drive networks keep
        their per-edge speeds.
    network_map, speed_table, source_crs : optional
        For centreline files and dataset ids (:mod:`gapmap.travel.road.segments`): the mapping
        (``rnf``, ``hamilton``, ``kingston`` or a TOML file; default detected from the fields), a
        CSV ``class,speed_kmh`` overriding its speeds, and the file's CRS when it states none.
    data_dir : path, optional
        Data mirror root, for dataset ids such as ``rnf_ottawa_2021``.

    Returns
    -------
    NetworkLoad
        ``.network`` is None when the caller should fall back to straight lines, with
        ``.reason`` saying why. Unreadable files raise :class:`~gapmap.errors.InputError`.
    """
    if spec is None or str(spec) == "straight":
        return NetworkLoad(None, "straight-line distances were requested (--network straight)")
    if mode == "transit":
        return NetworkLoad(None, "road networks do not model transit; using the transit method instead")
    _check_mode(mode)
    crs = _boundary_crs(boundary)
    from gapmap.travel.road import segments

    if str(spec) == "auto":
        load = _load_auto(boundary, mode, cache_dir, offline, crs)
    elif str(spec) == "rnf":  # national Statistics Canada Road Network File, downloaded once, clipped (rnf_download)
        from gapmap.travel.road.rnf_download import load_rnf

        load = load_rnf(boundary, mode=mode, cache_dir=cache_dir, offline=offline, crs=crs, speed_table=speed_table,
                        network_map=network_map)
    elif str(spec) in segments.NETWORK_DATASETS or segments.is_segment_file(spec) or network_map is not None:
        from gapmap.sources import catalog

        layer = None
        path, default_map = Path(spec), network_map
        if str(spec) in segments.NETWORK_DATASETS:
            default_map, layer = segments.NETWORK_DATASETS[str(spec)]
            path = catalog.resolve(str(spec), data_dir)
            default_map = network_map or default_map
        net, report = segments.read_segments(path, default_map, mode=mode, crs=crs, source_crs=source_crs,
                                             boundary=boundary if isinstance(boundary, gpd.GeoDataFrame) else None,
                                             layer=layer, speed_table=speed_table)
        load = NetworkLoad(net, report.sentence())
    else:
        net = read_network_file(spec, mode=mode, boundary=boundary, crs=crs)
        load = NetworkLoad(net, f"road network read from {net.source}")
    if load.network is not None and speed_kmh is not None and modes.get(mode).constant_network_speed:
        load = dataclasses.replace(load, network=load.network.with_speed(speed_kmh))
    return load


def _boundary_crs(boundary: Any) -> pyproj.CRS | None:
    crs = getattr(boundary, "crs", None)
    return crs if crs is not None and not crs.is_geographic else None


def _load_auto(boundary: Any, mode: str, cache_dir: Any, offline: bool | None, crs: Any) -> NetworkLoad:
    if boundary is None:
        return NetworkLoad(None, "--network auto needs the region boundary to fetch roads; none was given")
    path = network_cache_path(boundary, mode, cache_dir)
    if path.exists():
        try:
            net = RoadNetwork.load(path)
        except InputError:
            pass  # stale or damaged cache: fetch again
        else:
            return NetworkLoad(net.to_crs(crs) if crs is not None else net, f"cached road network {path}", cache_path=path)
    if offline is None:
        offline = os.environ.get("GAPMAP_OFFLINE", "").strip().lower() in ("1", "true", "yes")
    if offline:
        return NetworkLoad(None, f"no cached road network ({path.name}) and offline mode is on", cache_path=path)
    if not _overpass_reachable():
        # Probe first: a blocked network otherwise costs a minute of HTTP retries before failing.
        return NetworkLoad(None, "no cached road network and no internet connection to OpenStreetMap (Overpass API unreachable)",
                           cache_path=path)
    try:
        G = _download(boundary_polygon(boundary), mode, path.parent)
    except Exception as exc:  # noqa: BLE001 - classified below; programming errors re-raised
        why = _download_failure(exc)
        if why is None:
            raise
        return NetworkLoad(None, f"no cached road network and {why}", cache_path=path)
    net = RoadNetwork.from_graph(G, mode, source="OpenStreetMap via Overpass API (OSMnx)", crs=crs)
    try:
        net.save(path)
    except OSError as exc:  # a read-only cache must not cost the user the download
        return NetworkLoad(net, f"road network downloaded from OpenStreetMap (not cached: {exc})", downloaded=True)
    return NetworkLoad(net, "road network downloaded from OpenStreetMap and cached", cache_path=path, downloaded=True)


#: ``osmnx.settings.overpass_url``'s default: the probe must not import osmnx (~1.8 s) just to learn
#: that the internet is unreachable.
_OVERPASS_URL = "https://overpass-api.de/api"


def _overpass_reachable(timeout: float = 3.0) -> bool:
    """True when the Overpass API host accepts a TCP connection within ``timeout`` seconds.

    Uses ``osmnx.settings.overpass_url`` when osmnx is already imported (a user may have
    pointed it at another server), else :data:`_OVERPASS_URL`, without importing osmnx.
    """
    import socket
    import sys
    from urllib.parse import urlparse

    ox = sys.modules.get("osmnx")
    settings = getattr(ox, "settings", None)
    url = urlparse(getattr(settings, "overpass_url", None) or _OVERPASS_URL)
    try:
        with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def _download(polygon: Any, mode: str, cache_dir: Path) -> Any:
    """``ox.graph_from_polygon`` with OSMnx's HTTP cache kept beside gapmap's cache."""
    import osmnx as ox

    old = ox.settings.cache_folder
    try:
        ox.settings.cache_folder = str(cache_dir / "overpass")
        return ox.graph_from_polygon(polygon, network_type=mode)
    finally:
        ox.settings.cache_folder = old


def _download_failure(exc: Exception) -> str | None:
    """A short reason for a failed download, or None for errors that are bugs."""
    import requests
    from osmnx import _errors as ox_errors

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return f"no internet connection to OpenStreetMap ({type(exc).__name__})"
    if isinstance(exc, ox_errors.InsufficientResponseError):
        return f"OpenStreetMap returned no usable roads for the region ({exc})"
    if isinstance(exc, (requests.RequestException, ox_errors.ResponseStatusCodeError, OSError)):
        return f"the OpenStreetMap download failed ({exc})"
    return None


def read_network_file(
    path: str | os.PathLike, *, mode: str = "drive", boundary: Any = None, crs: Any = None
) -> RoadNetwork:
    """Read a road network file: ``.osm.pbf``, ``.osm``/``.osm.xml``, ``.graphml`` or ``.npz``.

    Raises
    ------
    InputError
        The file is missing, has an unknown extension, cannot be parsed, or has no roads.
    """
    _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Road network file {path} does not exist; check the --network path or use --network auto.")
    name = path.name.lower()
    if name.endswith(".npz"):
        net = RoadNetwork.load(path)
        return net.to_crs(crs) if crs is not None else net
    if name.endswith(".pbf"):
        G = _read_pbf(path, mode, boundary)
    elif name.endswith((".osm", ".osm.xml", ".xml")):
        G = _read_osm_xml(path, mode)
    elif name.endswith(".graphml"):
        G = _read_graphml(path)
    else:
        raise InputError(
            f"Road network file {path} has an unknown extension; use .osm.pbf, .osm, .osm.xml, .graphml, or a road "
            "centreline file (.shp, .gpkg, .geojson, .csv) with --network-map."
        )
    if G.number_of_edges() == 0:
        raise InputError(f"Road network file {path} has no {mode} roads; use a file that covers the region.")
    return RoadNetwork.from_graph(G, mode, source=f"{path.name} (© OpenStreetMap contributors)", crs=crs)


def _read_pbf(path: Path, mode: str, boundary: Any) -> Any:
    import pyrosm

    bbox = None
    if boundary is not None:
        # 500 m margin, as OSMnx's graph_from_polygon, so roads leaving the region connect
        region = gpd.GeoSeries([boundary_polygon(boundary)], crs=4326)
        bbox = region.to_crs(region.estimate_utm_crs()).buffer(500).to_crs(4326).iloc[0]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Could not find any", UserWarning)  # reported below
            osm = pyrosm.OSM(str(path), bounding_box=bbox)
            nodes, edges = osm.get_network(network_type=modes.get(mode).pyrosm_network, nodes=True) or (None, None)
    except Exception as exc:  # noqa: BLE001 - pyrosm raises many types for a bad file
        raise InputError(
            f"Could not read {path} as an OpenStreetMap PBF extract ({type(exc).__name__}: {exc}); download it again (e.g. from Geofabrik)."
        ) from None
    if edges is None or len(edges) == 0:
        raise InputError(f"Road network file {path} has no {mode} roads in the region; use an extract that covers it.")
    return osm.to_graph(nodes, edges, graph_type="networkx", network_type=modes.get(mode).pyrosm_network, progress=False)


def _read_osm_xml(path: Path, mode: str) -> Any:
    import osmnx as ox

    try:
        G = ox.graph_from_xml(path, bidirectional=(mode == "walk"), retain_all=True)
    except Exception as exc:  # noqa: BLE001 - XML parse errors, missing nodes, ...
        raise InputError(f"Could not read {path} as OpenStreetMap XML ({type(exc).__name__}: {exc}); export it again from OSM.") from None
    excluded = modes.get(mode).osm_excluded_highways

    def first(h: Any) -> Any:
        return h[0] if isinstance(h, list) else h

    drop = [(u, v, k) for u, v, k, h in G.edges(keys=True, data="highway") if h is None or first(h) in excluded]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n, d in G.degree() if d == 0])
    if G.number_of_edges():
        G = ox.truncate.largest_component(G, strongly=False)
    return G


def _read_graphml(path: Path) -> Any:
    import osmnx as ox

    try:
        return ox.load_graphml(path)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"Could not read {path} as GraphML ({type(exc).__name__}: {exc}); save it with osmnx.save_graphml.") from None


# --------------------------------------------------------------------------------------
# Snapping and the augmented graph
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Snap:
    seg: np.ndarray  # segment row, -1 where the geometry is missing
    frac: np.ndarray  # position along the segment, 0..1 of its length
    dist: np.ndarray  # off-road distance, m (NaN where missing)
    xy: np.ndarray  # attachment point


def _snap(net: RoadNetwork, geoms: np.ndarray) -> _Snap:
    n = len(geoms)
    seg = np.full(n, -1, dtype=np.int64)
    frac = np.zeros(n)
    dist = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if ok.size == 0 or len(net.edges) == 0:
        return _Snap(seg, frac, dist, xy)
    pts = geoms[ok]
    not_point = shapely.get_type_id(pts) != 0
    pts[not_point] = shapely.point_on_surface(pts[not_point])  # areas: a point inside them
    (i, j), _ = net._tree.query_nearest(pts, return_distance=True, all_matches=False)
    lines = net._geoms[j]
    f = shapely.line_locate_point(lines, pts[i], normalized=True)
    f = np.clip(np.nan_to_num(f), 0.0, 1.0)  # NaN for zero-length segments
    on_road = shapely.line_interpolate_point(lines, f, normalized=True)
    rows = ok[i]
    seg[rows], frac[rows] = j, f
    dist[rows] = shapely.distance(pts[i], on_road)
    xy[rows] = shapely.get_coordinates(on_road)
    return _Snap(seg, frac, dist, xy)


def snap(
    network: RoadNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, *, snap_limit_m: float = SNAP_LIMIT_M
) -> pd.DataFrame:
    """Where each point attaches to the road network (nearest point on the nearest segment).

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``edge`` (row of ``network.edges``, -1 if the geometry is
        missing), ``fraction`` (0..1 along the segment from ``u``), ``x``, ``y`` (attachment
        point), ``snap_m`` (off-road distance) and ``snap_flag`` (``snap_m > snap_limit_m``
        or missing geometry).
    """
    net = network.to_crs(points.crs) if points.crs is not None else network
    s = _snap(net, points.geometry.to_numpy())
    return pd.DataFrame(
        {"edge": s.seg, "fraction": s.frac, "x": s.xy[:, 0], "y": s.xy[:, 1], "snap_m": s.dist,
         "snap_flag": ~(s.dist <= snap_limit_m)},
        index=points.index,
    )


@dataclasses.dataclass
class _Augmented:
    """The road graph with every snapped point as an extra node and every service as a node
    behind its access leg. Node numbering: road nodes ``[0, n)``, snapped points
    ``[n, n + p)``, services ``[n + p, n + p + s)``."""

    n: int
    p: int
    reverse: _graph.DirectedEdges  # edges point from service towards origin
    pieces: dict[str, np.ndarray]  # road pieces between consecutive nodes on each segment


def _augment(net: RoadNetwork, snap: _Snap, service_point: np.ndarray, access_s: np.ndarray, access_m: np.ndarray) -> _Augmented:
    """Split segments at the snapped points and attach services (all vectorised)."""
    n, p = net.n_nodes, len(snap.seg)
    e = net.edges
    u, v = e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64)
    t, tb, length = e["time_s"].to_numpy(float), e["time_back_s"].to_numpy(float), e["length_m"].to_numpy(float)
    on = np.flatnonzero(snap.seg >= 0)
    order = on[np.lexsort((on, snap.frac[on], snap.seg[on]))]
    s, f, node = snap.seg[order], snap.frac[order], n + order
    first = np.r_[True, s[1:] != s[:-1]] if s.size else np.zeros(0, bool)
    last = np.r_[s[1:] != s[:-1], True] if s.size else np.zeros(0, bool)
    prev_node = np.where(first, u[s], np.r_[-1, node[:-1]])
    prev_f = np.where(first, 0.0, np.r_[0.0, f[:-1]])
    split = np.zeros(len(e), bool)
    split[s] = True
    whole = np.flatnonzero(~split)
    pieces = {
        "seg": np.concatenate([whole, s, s[last]]),
        "f0": np.concatenate([np.zeros(whole.size), prev_f, f[last]]),
        "f1": np.concatenate([np.ones(whole.size), f, np.ones(last.sum())]),
        "a": np.concatenate([u[whole], prev_node, node[last]]),
        "b": np.concatenate([v[whole], node, v[s[last]]]),
    }
    # Only pieces of split segments are new edges; whole segments are already in net._graph.
    new = slice(whole.size, None)
    ps, pa, pb = pieces["seg"][new], pieces["a"][new], pieces["b"][new]
    span = (pieces["f1"] - pieces["f0"])[new]
    two = ~np.isnan(tb[ps])
    # A point snapped onto a segment's end is at that node, whatever the one-way rule of
    # the segment: join them both ways at no cost (1 cm tolerance).
    at_start = f * length[s] <= 0.01
    at_end = (1.0 - f) * length[s] <= 0.01
    ends = np.concatenate([u[s[at_start]], v[s[at_end]]])
    ends_p = np.concatenate([node[at_start], node[at_end]])
    attach = np.isfinite(access_s)  # services that could not be placed get no edge
    svc_nodes = (n + p + np.arange(len(service_point)))[attach]
    service_point, access_s, access_m = service_point[attach], access_s[attach], access_m[attach]
    # New edges, reversed: (row, col) = (to, from) of each forward edge. Each touches a
    # snapped point or a service, so none repeats a road edge.
    zeros = np.zeros(2 * ends.size)
    rows = np.concatenate([pb, pa[two], svc_nodes, ends, ends_p])
    cols = np.concatenate([pa, pb[two], n + service_point, ends_p, ends])
    time = np.concatenate([span * t[ps], (span * tb[ps])[two], access_s, zeros])
    dist = np.concatenate([span * length[ps], (span * length[ps])[two], access_m, zeros])
    reverse = net._reverse.extended(n + p + len(attach), rows, cols, time, dist)
    return _Augmented(n=n, p=p, reverse=reverse, pieces=pieces)


@dataclasses.dataclass
class _Nearest:
    """Per category, for every node of the augmented graph: seconds and metres to the
    nearest service and that service's row (-1 if none is reachable)."""

    time: dict[str, np.ndarray]
    dist: dict[str, np.ndarray]
    service: dict[str, np.ndarray]


def _prepare_services(services: gpd.GeoDataFrame, categories: Sequence[str], crs: Any) -> gpd.GeoDataFrame:
    missing = {"service_id", "category"} - set(services.columns)
    if missing:
        raise InputError(f"The services layer lacks column(s) {', '.join(sorted(missing))}; add them to the services file.")
    if crs is not None and services.crs is not None and not pyproj.CRS.from_user_input(services.crs).equals(crs):
        services = services.to_crs(crs)
    svc = services[services["category"].isin(list(categories))]
    svc = svc[~(svc.geometry.is_empty | svc.geometry.isna())]
    return svc.reset_index(drop=True)


def _nearest(net: RoadNetwork, aug: _Augmented, categories: Sequence[str], svc_category: np.ndarray, with_dist: bool = True) -> _Nearest:
    """One multi-source Dijkstra per category over the reversed augmented graph."""
    m = aug.reverse.n
    first_service = aug.n + aug.p
    csr = aug.reverse.csr("time")
    out = _Nearest({}, {}, {})
    for cat in categories:  # one compiled pass per category, never per source
        src = first_service + np.flatnonzero(svc_category == cat)
        if src.size == 0:
            out.time[cat], out.dist[cat] = np.full(m, np.inf), np.full(m, np.nan)
            out.service[cat] = np.full(m, -1, dtype=np.int64)
            continue
        time, pred, nearest = dijkstra(csr, directed=True, indices=src, min_only=True, return_predecessors=True)
        out.time[cat] = time
        out.service[cat] = np.where(nearest >= 0, nearest.astype(np.int64) - first_service, -1)
        if with_dist:
            has = np.flatnonzero(pred >= 0)
            step = np.zeros(m)
            step[has] = aug.reverse.length[aug.reverse.lookup(pred[has], has)]
            dist = _graph.tree_sums(pred, step)
            out.dist[cat] = np.where(np.isfinite(time), dist, np.nan)
    return out


def _solve(net: RoadNetwork, extra_geoms: np.ndarray, svc: gpd.GeoDataFrame, categories: Sequence[str], access_speed_kmh: float, with_dist: bool = True):
    """Snap ``extra_geoms`` (origins) and the services, build the graph, run the passes."""
    if access_speed_kmh <= 0:
        raise InputError(f"Access speed {access_speed_kmh} km/h must be positive; fix the access speed setting.")
    k = len(extra_geoms)
    snap = _snap(net, np.concatenate([extra_geoms, svc.geometry.to_numpy()]).astype(object))
    svc_point = np.arange(k, k + len(svc))
    svc_ok = snap.seg[svc_point] >= 0
    access_m = np.where(svc_ok, snap.dist[svc_point], np.inf)
    aug = _augment(net, snap, svc_point, access_m / (access_speed_kmh / 3.6), access_m)
    res = _nearest(net, aug, categories, svc["category"].to_numpy(), with_dist)
    return snap, aug, res


# --------------------------------------------------------------------------------------
# Public computations
# --------------------------------------------------------------------------------------


def _objects(reach: np.ndarray, values: np.ndarray, pick: np.ndarray) -> pd.Series:
    """``values[pick]`` where reached, else None, as an object column (pandas 3 would
    otherwise infer its string dtype and turn None into NaN)."""
    out = np.full(len(reach), None, dtype=object)
    out[reach] = values[pick[reach]]
    return pd.Series(out, dtype=object)


def network_travel_times(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    *,
    snap_limit_m: float = SNAP_LIMIT_M,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
) -> pd.DataFrame:
    """Travel time and distance from every origin to its nearest service of each category.

    Parameters
    ----------
    network : RoadNetwork
        Reprojected to the origins' CRS when it differs.
    origins : GeoDataFrame
        Points (areas use a point inside them) in a projected CRS; the index is the origin
        id.
    services : GeoDataFrame
        Points with ``service_id``, ``name`` and ``category``; reprojected to the origins'
        CRS if needed.
    categories : sequence of str
        Categories to report; one row per origin and category, in this order.
    snap_limit_m : float
        Origins farther than this from every road get ``snap_flag=True`` (still timed).
    access_speed_kmh : float
        Speed of the off-road legs of origins and services.

    Returns
    -------
    DataFrame
        ``origin_id`` (str), ``category``, ``service_id`` and ``service_name`` (None if no
        service is reachable), ``distance_m`` and ``minutes`` (NaN if unreachable; both
        include the off-road legs), ``method``, ``snap_m`` and ``snap_flag``.
    """
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    svc = _prepare_services(services, categories, crs)
    geoms = origins.geometry.to_numpy()
    snap, aug, res = _solve(net, geoms, svc, categories, access_speed_kmh)
    k = len(origins)
    origin_node = aug.n + np.arange(k)
    access_m = snap.dist[:k]
    access_s = access_m / (access_speed_kmh / 3.6)
    ids = np.asarray(origins.index.astype(str), dtype=object)
    svc_ids = svc["service_id"].astype(str).to_numpy(dtype=object)
    svc_names = (svc["name"] if "name" in svc else svc["service_id"]).to_numpy(dtype=object)
    frames = []
    for cat in categories:
        time = res.time[cat][origin_node] + access_s
        reach = np.isfinite(time) & (snap.seg[:k] >= 0)
        row = res.service[cat][origin_node]
        pick = np.where(reach, row, 0)
        frames.append(pd.DataFrame({
            "origin_id": pd.Series(ids, dtype=object),
            "category": pd.Series(np.full(k, cat, dtype=object), dtype=object),
            "service_id": _objects(reach, svc_ids, pick),
            "service_name": _objects(reach, svc_names, pick),
            "distance_m": np.where(reach, res.dist[cat][origin_node] + access_m, np.nan),
            "minutes": np.where(reach, time / 60.0, np.nan),
            "method": pd.Series(np.full(k, net.method, dtype=object), dtype=object),
            "snap_m": access_m,
            "snap_flag": ~(access_m <= snap_limit_m),
        }))
    columns = ["origin_id", "category", "service_id", "service_name", "distance_m", "minutes", "method", "snap_m", "snap_flag"]
    if not frames or k == 0:
        return pd.DataFrame({c: pd.Series(dtype=bool if c == "snap_flag" else float if c in ("distance_m", "minutes", "snap_m") else object) for c in columns})
    out = pd.concat(frames, ignore_index=True)
    # frames are category blocks; regroup so each origin's categories are adjacent
    out = out.iloc[np.arange(len(out)).reshape(len(categories), k).T.ravel()].reset_index(drop=True)
    return out


def network_od_matrix(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    max_minutes: float,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
) -> pd.DataFrame:
    """Every origin-service pair within ``max_minutes`` on the road network (for 2SFCA).

    Same snapping and graph as :func:`network_travel_times`; one bounded Dijkstra from every
    service over the reversed graph in a single compiled call (``indices`` = all services,
    ``limit`` = the bound), so memory is services x nodes: fine for a region.

    Returns
    -------
    DataFrame
        ``origin_id, service_id, minutes, method``, sorted by origin then service.
    """
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    svc = _prepare_services(services, sorted(services["category"].unique()), crs)
    k = len(origins)
    columns = ["origin_id", "service_id", "minutes", "method"]
    if k == 0 or svc.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "minutes" else object) for c in columns})
    snap, aug, _ = _solve(net, origins.geometry.to_numpy(), svc, [], access_speed_kmh, with_dist=False)
    limit = max_minutes * 60.0
    origin_access = snap.dist[:k] / (access_speed_kmh / 3.6)
    sources = aug.n + aug.p + np.arange(len(svc))
    times = dijkstra(aug.reverse.csr("time"), directed=True, indices=sources, limit=limit)[:, aug.n + np.arange(k)]
    times = times + origin_access[None, :]
    times[:, snap.seg[:k] < 0] = np.inf  # origins that could not be placed on a road
    si, oi = np.nonzero(times <= limit)
    out = pd.DataFrame({
        "origin_id": pd.Series(np.asarray(origins.index.astype(str), dtype=object)[oi], dtype=object),
        "service_id": pd.Series(svc["service_id"].astype(str).to_numpy(dtype=object)[si], dtype=object),
        "minutes": times[si, oi] / 60.0,
        "method": net.method,
    })
    return out.sort_values(["origin_id", "service_id"], kind="stable").reset_index(drop=True)


def walk_time_function(network: RoadNetwork, *, max_minutes: float = 30.0,
                       access_speed_kmh: float = ACCESS_SPEED_KMH) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A ``walk_time_fn`` for :func:`gapmap.travel.transit.schedule.transit_travel_times`: seconds on the network.

    The returned function takes two (n, 2) coordinate arrays in the network's CRS (pairs
    a[i] -> b[i]) and returns the walking time of each pair via :func:`network_od_matrix`
    (edge snapping, off-road legs), ``inf`` beyond ``max_minutes`` or off the network.
    """
    def seconds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(a) == 0:
            return np.zeros(0)
        ua, ia = np.unique(np.asarray(a, float), axis=0, return_inverse=True)
        ub, ib = np.unique(np.asarray(b, float), axis=0, return_inverse=True)
        origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(ua[:, 0], ua[:, 1]), crs=network.crs,
                                   index=[str(i) for i in range(len(ua))])
        targets = gpd.GeoDataFrame({"service_id": [str(j) for j in range(len(ub))], "category": "walk"},
                                   geometry=gpd.points_from_xy(ub[:, 0], ub[:, 1]), crs=network.crs)
        od = network_od_matrix(network, origins, targets, max_minutes=max_minutes, access_speed_kmh=access_speed_kmh)
        table = np.full((len(ua), len(ub)), np.inf)
        table[od["origin_id"].astype(int).to_numpy(), od["service_id"].astype(int).to_numpy()] = od["minutes"].to_numpy() * 60.0
        return table[ia.ravel(), ib.ravel()]

    return seconds


def network_travel_times_distributed(
    network: RoadNetwork,
    origins: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    client: Any,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`network_travel_times` with one Dask task per category, the graph scattered once.

    Each category's multi-source search is independent of the others, so the split gives the
    same rows as the serial call (same ties, same order). Worth it for large networks (a
    province), where one category's pass takes seconds; for a county the scheduling costs more.

    Parameters
    ----------
    client : distributed.Client
        Any Dask client (a LocalCluster's, a remote scheduler's, or ``worker_client()`` inside a task).
    **kwargs
        Passed to :func:`network_travel_times` (``snap_limit_m``, ``access_speed_kmh``).
    """
    crs = geo.metre_crs(origins, "origins")
    net = network.to_crs(crs) if crs is not None else network
    net_future = client.scatter(net, broadcast=True, hash=False)
    futures = [
        client.submit(network_travel_times, net_future, origins, services[services["category"] == cat], [cat],
                      pure=False, key=f"gapmap-network-{cat}-{id(net)}", **kwargs)
        for cat in categories
    ]
    parts = client.gather(futures)
    k = len(origins)
    out = pd.concat(parts, ignore_index=True)
    if k and len(categories):
        # Category blocks -> each origin's categories adjacent, as the serial call returns them.
        out = out.iloc[np.arange(len(out)).reshape(len(categories), k).T.ravel()].reset_index(drop=True)
    return out


def node_travel_times(
    network: RoadNetwork,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    *,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
) -> pd.DataFrame:
    """Time and distance from every network node to its nearest service of each category.

    Returns
    -------
    DataFrame
        One row per node and category (categories in blocks): ``node`` (index into
        ``network.node_xy``), ``node_id``, ``category``, ``service_id`` (None if
        unreachable), ``distance_m``, ``minutes`` (NaN if unreachable). Times include the
        service's off-road leg; the node itself is on the road.
    """
    crs = geo.metre_crs(services, "services")
    net = network.to_crs(crs) if crs is not None else network
    svc = _prepare_services(services, categories, crs)
    _, aug, res = _solve(net, np.empty(0, dtype=object), svc, categories, access_speed_kmh)
    n = net.n_nodes
    svc_ids = svc["service_id"].astype(str).to_numpy(dtype=object)
    frames = []
    for cat in categories:
        time = res.time[cat][:n]
        reach = np.isfinite(time)
        pick = np.where(reach, res.service[cat][:n], 0)
        frames.append(pd.DataFrame({
            "node": np.arange(n),
            "node_id": net.node_ids,
            "category": pd.Series(np.full(n, cat, dtype=object), dtype=object),
            "service_id": _objects(reach, svc_ids, pick),
            "distance_m": np.where(reach, res.dist[cat][:n], np.nan),
            "minutes": np.where(reach, time / 60.0, np.nan),
        }))
    return pd.concat(frames, ignore_index=True)


def isochrones(
    network: RoadNetwork,
    services: gpd.GeoDataFrame,
    categories: Sequence[str],
    thresholds_min: Sequence[float],
    *,
    buffer_m: float = ISOCHRONE_BUFFER_M,
    access_speed_kmh: float = ACCESS_SPEED_KMH,
) -> gpd.GeoDataFrame:
    """Areas within ``thresholds_min`` minutes of the nearest service, per category.

    Each polygon is the union of the road parts (whole segments, and the partial segment
    where the time runs out, cut at the remaining-time fraction) from which some service of
    the category is reachable in time, buffered by ``buffer_m``. One-way segments count only
    in their direction of travel. Rows with no reachable road have an empty polygon.

    Returns
    -------
    GeoDataFrame
        ``category``, ``threshold_min``, ``mode``, ``method``, ``geometry`` in the services'
        CRS, one row per category and threshold (ascending).
    """
    crs = geo.metre_crs(services, "services")
    net = network.to_crs(crs) if crs is not None else network
    svc = _prepare_services(services, categories, crs)
    snap, aug, res = _solve(net, np.empty(0, dtype=object), svc, categories, access_speed_kmh, with_dist=False)
    e = net.edges
    pc = aug.pieces
    seg, f0, f1 = pc["seg"], pc["f0"], pc["f1"]
    span = f1 - f0
    t_fwd = span * e["time_s"].to_numpy(float)[seg]
    t_back = span * e["time_back_s"].to_numpy(float)[seg]  # NaN: one-way
    point_xy = np.concatenate([net.node_xy, snap.xy])  # augmented road nodes, services excluded
    rows = []
    from gapmap.travel.road import isochrones_fast  # buffers shared across thresholds, nested unions

    buffers = isochrones_fast.BufferedParts(net._geoms, point_xy, buffer_m)
    for cat in categories:
        node_time = res.time[cat][: aug.n + aug.p]
        nested = isochrones_fast.NestedUnion(buffers)
        for thr in sorted(float(x) for x in thresholds_min):
            part_seg, s0, s1, touched = _reachable_parts(pc, t_fwd, t_back, node_time, thr * 60.0)
            # Reached nodes that no road part touches (e.g. a service at the start of a
            # one-way dead end) still count, as points.
            alone = (node_time <= thr * 60.0) & ~touched & np.isfinite(point_xy[:, 0])
            geom = nested.add(part_seg, s0, s1, np.flatnonzero(alone))
            rows.append({
                "category": cat, "threshold_min": thr, "mode": net.mode, "method": net.method,
                "geometry": shapely.Polygon() if geom.is_empty else geom,
            })
    return gpd.GeoDataFrame(rows, columns=["category", "threshold_min", "mode", "method", "geometry"], geometry="geometry", crs=net.crs)


def _reachable_parts(
    pc: dict[str, np.ndarray], t_fwd: np.ndarray, t_back: np.ndarray, node_time: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The parts of the road pieces from which the nearest service is within ``limit`` s.

    A traveller at fraction ``x`` of a piece ``a -> b`` either drives on to ``b``, taking
    ``(1 - x) * t_fwd + time(b)``, or (two-way pieces) back to ``a``, taking
    ``x * t_back + time(a)``. So the reachable set is ``[lo, 1]`` plus ``[0, hi]``.

    Returns
    -------
    seg, s0, s1 : ndarray
        Segment rows and the fractions of the segment's length where each part starts and
        ends (``s0 < s1``).
    touched : ndarray of bool
        Nodes at the end of some part of positive length.
    """
    ta, tb = node_time[pc["a"]], node_time[pc["b"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.clip(np.where(t_fwd > 0, 1.0 - (limit - tb) / t_fwd, 0.0), 0.0, 1.0)
        hi = np.clip(np.where(t_back > 0, (limit - ta) / t_back, 1.0), 0.0, 1.0)
    fwd = tb <= limit
    back = (ta <= limit) & ~np.isnan(t_back)
    whole = fwd & back & (lo <= hi)  # the two reachable ends meet
    fwd, back = fwd & ~whole, back & ~whole
    span = pc["f1"] - pc["f0"]
    idx = np.concatenate([np.flatnonzero(whole), np.flatnonzero(fwd), np.flatnonzero(back)])
    x0 = np.concatenate([np.zeros(whole.sum()), lo[fwd], np.zeros(back.sum())])
    x1 = np.concatenate([np.ones(whole.sum()), np.ones(fwd.sum()), hi[back]])
    s0 = pc["f0"][idx] + x0 * span[idx]
    s1 = pc["f0"][idx] + x1 * span[idx]
    keep = s1 > s0
    touched = np.zeros(len(node_time), bool)
    touched[pc["b"][(whole | fwd) & (span > 0) & (lo < 1)]] = True
    touched[pc["a"][(whole | back) & (span > 0) & (hi > 0)]] = True
    return pc["seg"][idx[keep]], s0[keep], s1[keep], touched
