"""``--network rnf``: Statistics Canada's national Road Network File, downloaded once, clipped per region.

Statistics Canada publishes the 2021 Census Road Network File (catalogue no. 92-500-X) as one national
file on its download page, https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/rnf-frr/index2021-eng.cfm
(reference guide: catalogue no. 92-500-G, https://www150.statcan.gc.ca/n1/pub/92-500-g/92-500-g2021001-eng.htm).
The shapefile archive is :data:`RNF_2021_URL` (``lrnf000r21a_e.zip``, ``a`` = ArcGIS shapefile, in Statistics
Canada's Lambert conformal conic, EPSG:3347). Licence: Statistics Canada Open Licence (:data:`ATTRIBUTION`).

Steps of :func:`load_rnf` (each step's output is cached, so later runs skip it):

1. The national archive, streamed to ``default_cache_dir()/rnf/lrnf000r21a_e.zip`` (a ``.part`` file renamed
   when complete, so an interrupted download is never taken for the file).
2. The region's extract: read from inside the zip by GDAL (``/vsizip/``) with ``bbox=`` and ``mask=`` set to the
   region buffered by :data:`CLIP_MARGIN_M` (``mask=``: GDAL's spatial filter, the layer's spatial index then the
   geometry), so the national file (the whole country) is never loaded whole; written to ``rnf/rnf2021-<hash>.gpkg`` (hash of the boundary geometry, as the OSM cache).
3. The extract read with the ``rnf`` mapping (:mod:`gapmap.travel.road.segments`): class speeds, the largest
   component, the region's 2 km margin.

Offline (``offline=True`` or ``GAPMAP_OFFLINE``) with neither the extract nor the national file cached, or a
failed download: no network and a reason, and the caller uses the straight-line approximation, as ``auto`` does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj
import shapely

from gapmap.errors import InputError

#: The national 2021 RNF shapefile archive, by the file-name pattern of Statistics Canada's RNF download page
#: (module docstring; not fetched from this offline build box: override with ``GAPMAP_RNF_URL`` if it moves).
RNF_2021_URL = "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/rnf-frr/files-fichiers/lrnf000r21a_e.zip"
RNF_PAGE = "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/rnf-frr/index2021-eng.cfm"
ATTRIBUTION = ("Adapted from Statistics Canada, 2021 Census Road Network File. This does not constitute an endorsement "
               "by Statistics Canada of this product.")
#: The extract keeps segments within this distance of the region: more than the 2 km margin that
#: :func:`~gapmap.travel.road.segments.read_segments` keeps, so the reader's own clip decides.
CLIP_MARGIN_M = 3000.0
DOWNLOAD_TIMEOUT_S = 30.0
_VERSION = "rnf2021-v1"


def rnf_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    from gapmap.travel.road.network import default_cache_dir

    return Path(cache_dir or default_cache_dir()) / "rnf"


def _region(boundary: Any) -> gpd.GeoDataFrame:
    from gapmap.travel.road.network import boundary_polygon

    return gpd.GeoDataFrame(geometry=[boundary_polygon(boundary)], crs=4326)


def extract_path(boundary: Any, cache_dir: str | os.PathLike | None = None, url: str = RNF_2021_URL) -> Path:
    """Cache file of the region's extract: keyed by the boundary geometry and the source archive's name."""
    poly = shapely.normalize(shapely.set_precision(_region(boundary).geometry.iloc[0], 1e-7))
    digest = hashlib.sha256(shapely.to_wkb(poly, output_dimension=2) + f"|{url.rsplit('/', 1)[-1]}|{_VERSION}".encode())
    return rnf_cache_dir(cache_dir) / f"rnf2021-{digest.hexdigest()[:16]}.gpkg"


def download(url: str, dest: Path, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Stream ``url`` to ``dest`` (via ``dest.part``, renamed when complete). Raises ``OSError``/``URLError``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
        shutil.copyfileobj(resp, out, length=1 << 20)
    if not zipfile.is_zipfile(part):
        part.unlink(missing_ok=True)
        raise OSError(f"{url} did not return a zip archive")
    os.replace(part, dest)
    return dest


def _member(archive: Path) -> str:
    """The road layer inside the archive: its ``.gpkg``, else its ``.shp``, as a GDAL ``/vsizip/`` path."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    for ext in (".gpkg", ".shp"):
        hits = sorted(n for n in names if n.lower().endswith(ext))
        if hits:
            return f"/vsizip/{archive}/{hits[0]}"
    raise InputError(f"Road Network File archive {archive} holds no .gpkg or .shp; delete it so it is downloaded again.")


def clip_archive(archive: Path, boundary: Any, dest: Path) -> int:
    """Write the segments of ``archive`` within :data:`CLIP_MARGIN_M` of ``boundary`` to ``dest``; their count.

    GDAL's spatial filter (pyogrio ``mask=``, in the layer's own CRS) reads only the features whose envelope meets
    the buffered region's, and keeps those whose geometry meets the region.
    """
    import pyogrio

    src = _member(archive)
    info = pyogrio.read_info(src)
    layer_crs = pyproj.CRS.from_user_input(info["crs"]) if info.get("crs") else None
    if layer_crs is None:
        raise InputError(f"Road Network File {src} states no CRS; delete {archive} so it is downloaded again.")
    region = _region(boundary)
    metric = layer_crs if layer_crs.is_projected else region.estimate_utm_crs()
    zone = region.to_crs(metric).buffer(CLIP_MARGIN_M).to_crs(layer_crs).iloc[0]
    gdf = gpd.read_file(src, engine="pyogrio", mask=zone)
    if gdf.crs is None:
        gdf = gdf.set_crs(layer_crs)
    if len(gdf) == 0:
        raise InputError(f"The Road Network File {archive.name} has no roads in the region; is the region in Canada?")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.stem + ".part.gpkg")
    part.unlink(missing_ok=True)
    gdf.to_file(part, layer="roads", driver="GPKG", engine="pyogrio")
    os.replace(part, dest)
    return len(gdf)


def load_rnf(
    boundary: Any,
    *,
    mode: str = "drive",
    cache_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
    crs: Any = None,
    speed_table: str | os.PathLike | None = None,
    network_map: str | os.PathLike | None = None,
    url: str | None = None,
):
    """The region's road network from the national RNF (module docstring); a ``NetworkLoad``."""
    from gapmap.travel.road import segments
    from gapmap.travel.road.network import NetworkLoad

    if boundary is None:
        return NetworkLoad(None, "--network rnf needs the region boundary to clip the national Road Network File; none was given")
    url = url or os.environ.get("GAPMAP_RNF_URL") or RNF_2021_URL
    clip = extract_path(boundary, cache_dir, url)
    archive = rnf_cache_dir(cache_dir) / url.rsplit("/", 1)[-1]
    how = f"cached extract {clip.name}"
    downloaded = False
    if not clip.exists():
        if not archive.exists():
            if offline is None:
                offline = os.environ.get("GAPMAP_OFFLINE", "").strip().lower() in ("1", "true", "yes")
            if offline:
                return NetworkLoad(None, f"no cached Road Network File ({archive.name}) and offline mode is on", cache_path=clip)
            try:
                download(url, archive)
            except (urllib.error.URLError, OSError) as exc:
                why = getattr(exc, "reason", None) or exc
                return NetworkLoad(None, f"no cached Road Network File and the download from Statistics Canada failed ({why})",
                                   cache_path=clip)
            downloaded = True
        n = clip_archive(archive, boundary, clip)
        how = f"{'downloaded' if downloaded else 'cached'} national file {archive.name}, {n:,} segments clipped to the region"
    region = boundary if isinstance(boundary, gpd.GeoDataFrame) else _region(boundary)
    net, report = segments.read_segments(clip, network_map or "rnf", mode=mode, crs=crs, boundary=region, layer="roads",
                                         speed_table=speed_table, source="Statistics Canada Road Network File 2021")
    return NetworkLoad(net, f"{report.sentence()} ({how})", cache_path=clip, downloaded=downloaded)
