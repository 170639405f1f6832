"""Road networks: the :class:`RoadNetwork` class and its cache format (``--network auto|straight|PATH``).

The road package by concern: this module holds the network and its ``.npz`` cache,
:mod:`~gapmap.travel.road.load` resolves ``--network`` (cache, download, file readers),
:mod:`~gapmap.travel.road.routing` snaps points and runs the shortest-path passes, and
:mod:`~gapmap.travel.road.isochrones` draws the reachable areas. Their public names stay
importable from here (``gapmap.travel.road.network.load_network``).

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
  (not the nearest node). The off-road leg is walked at ``access_speed_kmh`` (default 4.8
  km/h), or with ``leg_kmh`` (runs pass their mode's speed) travelled by the mode as the
  straight-line approximation (:func:`~gapmap.travel.road.routing.off_road_legs`); from the
  attachment point travel follows the segment to its end nodes, only forwards on a one-way
  segment. Points farther than ``snap_limit_m`` (default 1000 m) from every road are kept and
  flagged (``snap_flag``; services that far lie past the roads the network holds: ``beyond_m``).
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
import importlib
import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

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

def check_mode(mode: str) -> None:
    """Raise :class:`~gapmap.errors.InputError` unless ``mode`` is a road mode (drive, walk, bike)."""
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
        # Snaps of points already placed on this network (routing._SnapMemo, made on first use):
        # a repeat call with the same origins or services skips the STRtree search.
        self._snap_memo: Any = None
        # The last augmented graph and its inputs (routing._augmented).
        self._aug_memo: Any = None

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
        check_mode(mode)
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

        check_mode(mode)
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
    def segment_geoms(self) -> np.ndarray:
        """Segment geometries (rows of ``edges``) as a shapely array."""
        return self.edges.geometry.to_numpy()

    @functools.cached_property
    def segment_arrays(self) -> dict[str, np.ndarray]:
        """``u``, ``v`` (int64), ``time_s``, ``time_back_s``, ``length_m`` (float) of :attr:`edges` as arrays."""
        e = self.edges
        return {"u": e["u"].to_numpy(np.int64), "v": e["v"].to_numpy(np.int64), "time_s": e["time_s"].to_numpy(float),
                "time_back_s": e["time_back_s"].to_numpy(float), "length_m": e["length_m"].to_numpy(float)}

    @functools.cached_property
    def reverse_edges(self) -> _graph.DirectedEdges:
        """The directed edges reversed (service -> origin), for the multi-source searches."""
        return self._graph.reversed()

    @functools.cached_property
    def segment_tree(self) -> shapely.STRtree:
        """STRtree over :attr:`segment_geoms`, for snapping."""
        return shapely.STRtree(self.segment_geoms)

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
        coords, owner = shapely.get_coordinates(self.segment_geoms, return_index=True)
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
# Names that moved to the other road modules, importable from here as before
# --------------------------------------------------------------------------------------

#: public name -> module now defining it (resolved on first use: those modules import this one)
_MOVED = {
    **dict.fromkeys(("NetworkLoad", "default_cache_dir", "boundary_polygon", "network_cache_path", "load_network",
                     "read_network_file"), "gapmap.travel.road.load"),
    **dict.fromkeys(("Snap", "Augmented", "Nearest", "snap", "prepare_services", "solve", "network_travel_times",
                     "network_od_matrix", "walk_time_function", "network_travel_times_distributed",
                     "node_travel_times"), "gapmap.travel.road.routing"),
    "isochrones": "gapmap.travel.road.isochrones",
}


def __getattr__(name: str) -> Any:
    """Names defined in :mod:`~gapmap.travel.road.load`, ``routing`` and ``isochrones``."""
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))
