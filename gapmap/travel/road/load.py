"""Resolve ``--network auto|straight|PATH`` to a :class:`~gapmap.travel.road.network.RoadNetwork`.

``auto`` reads the ``.npz`` cache in :func:`default_cache_dir` (keyed by a hash of the boundary
geometry and the mode), else downloads the roads with OSMnx after a quick connectivity probe,
and caches them; with no cache and no connection :func:`load_network` returns no network and a
reason, and the caller falls back to straight lines. A path is read as a ``.osm.pbf`` (pyrosm),
``.osm``/``.osm.xml`` or ``.graphml`` (OSMnx), a gapmap ``.npz`` cache file, or a road
centreline file / dataset id (:mod:`gapmap.travel.road.segments`). Downloads and PBF reads keep
the largest weakly connected road component (OSMnx and pyrosm defaults).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj
import shapely

from gapmap.travel import modes
from gapmap.travel.road.network import CACHE_VERSION, RoadNetwork, check_mode
from gapmap.errors import InputError


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
    report : SegmentReport or None
        What reading a centreline file did (``reason`` is its sentence), for notes in other languages.
    """

    network: RoadNetwork | None
    reason: str
    cache_path: Path | None = None
    downloaded: bool = False
    report: Any = None


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
    check_mode(mode)
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
        load = NetworkLoad(net, report.sentence(), report=report)
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
    check_mode(mode)
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
