"""Shared fixtures: the real offline data mirror and one Chatham-Kent run reused by many tests."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from gapmap.sources import catalog


def pytest_configure(config):
    """Hermetic network cache: `--network auto` (the CLI's and the API's default) reads a cached road network
    for the region if one exists, so a developer's own cache (~/.cache/gapmap) must not change what the tests
    see. The tests also assume no internet, as CI has (the golden CK run records the offline fallback note)."""
    if "GAPMAP_CACHE" not in os.environ:
        config._gapmap_cache = tempfile.mkdtemp(prefix="gapmap-test-cache-")
        os.environ["GAPMAP_CACHE"] = config._gapmap_cache


def pytest_unconfigure(config):
    made = getattr(config, "_gapmap_cache", None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop("GAPMAP_CACHE", None)


@pytest.fixture(scope="session")
def lonlat_grid():
    """A builder of two-way road grids along lines of longitude and latitude, saved as OSMnx GraphML.

    ``build(path, lons, lats, **edge)``: a node at every crossing, an edge both ways between neighbours with its
    geodesic ``length`` and the given attributes (``highway``, ``speed_kph``, ...); returns ``path``.
    """
    def build(path, lons, lats, **edge):
        import networkx as nx
        import osmnx as ox
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        G = nx.MultiDiGraph(crs="epsg:4326")
        for i, x in enumerate(lons):
            for j, y in enumerate(lats):
                G.add_node(i * 10_000 + j, x=float(x), y=float(y))
        for i, x in enumerate(lons):
            for j, y in enumerate(lats):
                for di, dj in ((1, 0), (0, 1)):
                    if i + di < len(lons) and j + dj < len(lats):
                        a, b = i * 10_000 + j, (i + di) * 10_000 + j + dj
                        length = geod.inv(x, y, lons[i + di], lats[j + dj])[2]
                        for u, v in ((a, b), (b, a)):
                            G.add_edge(u, v, length=length, oneway=False, osmid=u * 100_000 + v, **edge)
        ox.save_graphml(G, path)
        return path

    return build


@pytest.fixture(scope="session")
def mirror():
    root = catalog.find_mirror()
    if root is None or not (root / "README.md").exists():
        pytest.skip("the offline data mirror (../shared/data) is not present")
    return root


@pytest.fixture(scope="session")
def ck_run(mirror, tmp_path_factory):
    """The default Chatham-Kent analysis, written once to a temp folder."""
    import gapmap

    out = tmp_path_factory.mktemp("ck")
    result, files = gapmap.run("chatham-kent", out_dir=out)
    return result, files
