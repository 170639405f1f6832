"""``--network rnf``: the national Road Network File downloaded once, cached, clipped to the region.

The recorded fixture is a slice of the real 2021 RNF (the Ottawa copy in the mirror), written as the national
archive is published (a zipped shapefile in Statistics Canada's Lambert, EPSG:3347, named lrnf000r21a_e.zip) and
served by a local HTTP server on 127.0.0.1: no internet is used.
"""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gapmap.sources import catalog
from gapmap.travel.road import network as rn
from gapmap.travel.road import rnf_download, segments

# A slice of central Ottawa (degrees) and a region inside it.
SLICE = (-75.75, 45.36, -75.62, 45.44)
REGION = shapely.box(-75.72, 45.38, -75.66, 45.42)


@pytest.fixture(scope="module")
def archive(mirror, tmp_path_factory) -> Path:
    roads = gpd.read_file(catalog.resolve("rnf_ottawa_2021"), layer="roads", bbox=SLICE, engine="pyogrio")
    assert 1000 < len(roads) < 20000
    d = tmp_path_factory.mktemp("rnf-fixture")
    roads.to_crs(3347).to_file(d / "lrnf000r21a_e.shp", engine="pyogrio")
    zpath = d / "served" / "lrnf000r21a_e.zip"
    zpath.parent.mkdir()
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(d.glob("lrnf000r21a_e.*")):
            zf.write(f, f.name)
    return zpath


@pytest.fixture
def server(archive):
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(archive.parent)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{archive.name}", hits, httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _same(a: rn.RoadNetwork, b: rn.RoadNetwork) -> None:
    assert a.crs == b.crs
    np.testing.assert_array_equal(a.node_xy, b.node_xy)
    for col in ("u", "v", "length_m", "time_s"):
        np.testing.assert_array_equal(a.edges[col].to_numpy(), b.edges[col].to_numpy())
    assert shapely.equals_exact(a.segment_geoms, b.segment_geoms, tolerance=0).all()


def test_first_call_downloads_and_caches_second_reads_the_cache(server, archive, tmp_path, monkeypatch):
    url, hits, httpd = server
    monkeypatch.setenv("GAPMAP_RNF_URL", url)
    monkeypatch.delenv("GAPMAP_OFFLINE", raising=False)
    boundary = gpd.GeoDataFrame(geometry=[REGION], crs=4326).to_crs(32618)

    first = rn.load_network("rnf", boundary=boundary, cache_dir=tmp_path)
    assert first.network is not None and first.downloaded
    assert hits == ["/lrnf000r21a_e.zip"]
    assert (tmp_path / "rnf" / "lrnf000r21a_e.zip").read_bytes() == archive.read_bytes()
    assert first.cache_path.exists() and first.cache_path.parent == tmp_path / "rnf"
    assert "downloaded national file lrnf000r21a_e.zip" in first.reason
    assert first.network.crs.to_epsg() == 32618

    # Second call: the server is gone and offline mode is on; the cached extract is read.
    httpd.shutdown()
    second = rn.load_network("rnf", boundary=boundary, cache_dir=tmp_path, offline=True)
    assert second.network is not None and not second.downloaded
    assert hits == ["/lrnf000r21a_e.zip"]
    assert "cached extract" in second.reason

    # Equal to reading the slice directly with the rnf mapping and the same region.
    direct, _ = segments.read_segments(archive.parent.parent / "lrnf000r21a_e.shp", "rnf", crs=boundary.crs, boundary=boundary)
    _same(first.network, direct)
    _same(second.network, direct)


def test_the_extract_is_clipped_not_the_whole_file(server, archive, tmp_path, monkeypatch):
    url, _, _ = server
    monkeypatch.setenv("GAPMAP_RNF_URL", url)
    load = rn.load_network("rnf", boundary=REGION, cache_dir=tmp_path)
    extract = gpd.read_file(load.cache_path, engine="pyogrio")
    whole = gpd.read_file(f"/vsizip/{archive}/lrnf000r21a_e.shp", engine="pyogrio")
    assert 0 < len(extract) < len(whole)
    # Every segment within 2 km of the region (what the reader keeps) is in the extract.
    zone = gpd.GeoSeries([REGION], crs=4326).to_crs(3347).buffer(2000).iloc[0]
    near = set(whole.loc[whole.intersects(zone), "NGD_UID"])
    assert near <= set(extract["NGD_UID"])


def test_offline_without_cache_falls_back_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("GAPMAP_RNF_URL", "http://127.0.0.1:9/lrnf000r21a_e.zip")
    off = rn.load_network("rnf", boundary=REGION, cache_dir=tmp_path, offline=True)
    assert off.network is None and "offline mode is on" in off.reason
    # Online but unreachable (nothing listens on port 9): the download fails, straight lines, a reason.
    down = rn.load_network("rnf", boundary=REGION, cache_dir=tmp_path, offline=False)
    assert down.network is None and "download from Statistics Canada failed" in down.reason
    assert not any((tmp_path / "rnf").glob("*.zip"))


def test_the_official_url_is_the_statcan_2021_rnf_archive():
    assert rnf_download.RNF_2021_URL.startswith("https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/rnf-frr/")
    assert rnf_download.RNF_2021_URL.endswith("/lrnf000r21a_e.zip")
