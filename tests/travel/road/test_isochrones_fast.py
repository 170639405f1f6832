"""The reusing isochrone union (gapmap.travel.road.isochrones_fast) against the direct one it replaced.

Reference: every part and lone point of a threshold buffered and unioned in one ``shapely.union_all`` (the
previous body of ``isochrones``). The fast polygons must cover the same set up to the documented slivers
(symmetric difference below 1e-6 of the area) and nest (up to the overlay's floating-point rounding).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyrosm
import pytest
import shapely
from shapely.geometry import LineString

from gapmap.travel.road import graph as _graph
from gapmap.travel.road import isochrones as iso
from gapmap.travel.road import network as nw
from gapmap.travel.road import routing

from tests.travel.road.test_network import services


def _direct(net, svc, category, thresholds, buffer_m=nw.ISOCHRONE_BUFFER_M):
    snap, aug, res = routing.solve(net, np.empty(0, dtype=object), svc, [category], nw.ACCESS_SPEED_KMH, with_dist=False)
    e, pc = net.edges, aug.pieces
    span = pc["f1"] - pc["f0"]
    t_fwd = span * e["time_s"].to_numpy(float)[pc["seg"]]
    t_back = span * e["time_back_s"].to_numpy(float)[pc["seg"]]
    point_xy = np.concatenate([net.node_xy, snap.xy])
    node_time = res.time[category][: aug.n + aug.p]
    out = []
    for thr in sorted(thresholds):
        seg, s0, s1, touched = iso._reachable_parts(pc, t_fwd, t_back, node_time, thr * 60.0)
        alone = (node_time <= thr * 60.0) & ~touched & np.isfinite(point_xy[:, 0])
        shapes = np.concatenate([_graph.substrings(net.segment_geoms[seg], s0, s1), shapely.points(point_xy[alone])])
        out.append(shapely.union_all(shapely.buffer(shapes, buffer_m)))
    return out


def _check(net, svc, thresholds):
    fast = nw.isochrones(net, svc, ["hospital"], thresholds)
    ref = _direct(net, routing.prepare_services(svc, ["hospital"], net.crs), "hospital", thresholds)
    for got, want in zip(fast.geometry, ref):
        assert got.is_valid
        assert shapely.area(shapely.symmetric_difference(got, want)) <= 1e-6 * want.area
    geoms = list(fast.geometry)
    for small, big in zip(geoms[:-1], geoms[1:]):
        assert big.buffer(1e-6).contains(small)  # overlay rounding: 1e-9 m2 on Helsinki
    return fast, ref


@pytest.fixture(scope="module")
def grid() -> nw.RoadNetwork:
    """A 12 x 12 grid of 250 m blocks, every third street one-way eastbound / northbound, maxspeed 36 km/h."""
    G = nx.MultiDiGraph(crs="EPSG:32617")
    n = 12
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=250.0 * i, y=250.0 * j)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                a, b = (i, j), (i + di, j + dj)
                if b[0] >= n or b[1] >= n:
                    continue
                line = LineString([(250.0 * a[0], 250.0 * a[1]), (250.0 * b[0], 250.0 * b[1])])
                oneway = (j if di else i) % 3 == 0
                attrs = dict(length=line.length, highway="residential", maxspeed="36", oneway=oneway)
                G.add_edge(a[0] * n + a[1], b[0] * n + b[1], geometry=line, reversed=False, **attrs)
                if not oneway:
                    G.add_edge(b[0] * n + b[1], a[0] * n + a[1], geometry=line.reverse(), reversed=True, **attrs)
    return nw.RoadNetwork.from_graph(G, "drive")


def test_grid_fast_union_equals_the_direct_union(grid):
    svc = services([("a", "hospital", (610.0, 420.0)), ("b", "hospital", (2300.0, 1900.0))], crs=grid.crs)
    fast, ref = _check(grid, svc, [1.0, 2.5, 4.0])
    # On straight two-point segments the caps and joins coincide: exactly the same set.
    for got, want in zip(fast.geometry, ref):
        assert shapely.area(shapely.symmetric_difference(got, want)) < 1e-6


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_helsinki_fast_union_equals_the_direct_union(mode):
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type={"drive": "driving", "walk": "walking"}[mode], nodes=True)
    net = nw.RoadNetwork.from_graph(osm.to_graph(nodes, edges, graph_type="networkx", progress=False), mode)
    rng = np.random.default_rng(5)
    idx = rng.choice(net.n_nodes, 3, replace=False)
    svc = services([(f"s{i}", "hospital", tuple(net.node_xy[i] + 7.0)) for i in idx], crs=net.crs)
    _check(net, svc, [2.0, 5.0, 8.0] if mode == "drive" else [5.0, 10.0, 15.0])
