"""Tests for the array machinery under road routing: edge sort, graph growth, row lookup, tree sums, the snap memo.

Oracles are written differently from the code: Python dicts and loops over the edges, a brute-force
nearest segment over every road, and a network built afresh (no memo) for the same points.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gapmap.travel.road import graph as _graph
from gapmap.travel.road import network as nw
from gapmap.travel.road import routing

CRS = "EPSG:32617"


def random_edges(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, ...]:
    """Edges with many parallel copies, ties in time and length, and explicit zeros."""
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    return rows, cols, rng.integers(0, 4, m).astype(float), rng.integers(0, 3, m).astype(float)


def dict_oracle(rows, cols, time, length) -> list[tuple[int, int, float, float]]:
    """Per (row, col): the fastest edge, then the shortest; sorted by (row, col)."""
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for r, c, t, l in zip(rows.tolist(), cols.tolist(), time.tolist(), length.tolist()):
        if (r, c) not in best or (t, l) < best[r, c]:
            best[r, c] = (t, l)
    return [(r, c, t, l) for (r, c), (t, l) in sorted(best.items())]


def as_list(g: _graph.DirectedEdges) -> list[tuple[int, int, float, float]]:
    return list(zip(g.rows.tolist(), g.cols.tolist(), g.time.tolist(), g.length.tolist()))


@pytest.mark.parametrize("n,m", [(3, 0), (3, 1), (5, 200), (400, 3000), (50_000, 20_000)])
def test_directed_edges_keeps_fastest_then_shortest(n, m):
    rows, cols, time, length = random_edges(np.random.default_rng(m), n, m)
    g = _graph.directed_edges(n, rows, cols, time, length)
    assert as_list(g) == dict_oracle(rows, cols, time, length)
    assert g.rows.dtype == np.int32 and g.cols.dtype == np.int32
    # row pointers: entry k of row r sits at indptr[r] + k
    counts = np.zeros(n, int)
    for r in g.rows.tolist():
        counts[r] += 1
    np.testing.assert_array_equal(g.indptr, np.r_[0, np.cumsum(counts)])


@pytest.mark.parametrize("seed", range(4))
def test_extended_equals_building_all_edges_at_once(seed):
    rng = np.random.default_rng(seed)
    n, grow = 300, 50
    base = _graph.directed_edges(n, *random_edges(rng, n, 1500))
    # new edges touch the new nodes only (as snapped points and services do), with repeats
    k = 700
    new_nodes = rng.integers(n, n + grow, k)
    other = rng.integers(0, n + grow, k)
    flip = rng.random(k) < 0.5
    rows, cols = np.where(flip, new_nodes, other), np.where(flip, other, new_nodes)
    time, length = rng.integers(0, 4, k).astype(float), rng.random(k)
    got = base.extended(n + grow, rows, cols, time, length)
    want = dict_oracle(np.r_[base.rows, rows], np.r_[base.cols, cols], np.r_[base.time, time], np.r_[base.length, length])
    assert as_list(got) == want
    starts = {}
    for i, r in enumerate(got.rows.tolist()):
        starts.setdefault(r, i)
    for r in range(n + grow):
        assert got.indptr[r] == starts.get(r, got.indptr[r + 1]) and got.indptr[r] <= got.indptr[r + 1]
    assert got.indptr[-1] == got.rows.size


def test_lookup_finds_every_entry():
    rng = np.random.default_rng(7)
    g = _graph.directed_edges(500, *random_edges(rng, 500, 6000))
    where = {(r, c): i for i, (r, c) in enumerate(zip(g.rows.tolist(), g.cols.tolist()))}
    pick = rng.integers(0, g.rows.size, 3000)
    rows, cols = g.rows[pick], g.cols[pick]
    np.testing.assert_array_equal(g.lookup(rows, cols), [where[r, c] for r, c in zip(rows.tolist(), cols.tolist())])
    assert g.lookup(np.zeros(0, int), np.zeros(0, int)).size == 0


def test_tree_sums_on_a_random_forest():
    rng = np.random.default_rng(3)
    m = 5000
    # parents have smaller numbers: a forest of deep chains; 10 % roots / unreached
    pred = np.array([-9999 if i == 0 or rng.random() < 0.1 else int(rng.integers(max(0, i - 3), i)) for i in range(m)])
    step = rng.random(m) * 100
    want = np.zeros(m)
    for i in range(m):  # walk up each chain
        j, total = i, 0.0
        while pred[j] >= 0:
            total += step[j]
            j = pred[j]
        want[i] = total
    np.testing.assert_allclose(_graph.tree_sums(pred, step), want, rtol=1e-12)


def grid_network() -> nw.RoadNetwork:
    """A 6 x 6 grid of 100 m two-way streets plus a one-way diagonal."""
    xy = np.array([(x * 100.0, y * 100.0) for y in range(6) for x in range(6)])
    u, v = [], []
    for y in range(6):
        for x in range(6):
            i = y * 6 + x
            if x < 5:
                u.append(i), v.append(i + 1)
            if y < 5:
                u.append(i), v.append(i + 6)
    u, v = np.array(u + [0]), np.array(v + [35])
    length = np.hypot(*(xy[u] - xy[v]).T)
    back = np.where(np.arange(len(u)) < len(u) - 1, length / 10.0, np.nan)
    return nw.RoadNetwork.from_segments(xy, u, v, length, length / 10.0, time_back_s=back, crs=CRS, mode="drive", source="grid")


def test_snap_memo_gives_a_fresh_search_result():
    rng = np.random.default_rng(11)
    pts = list(shapely.points(rng.uniform(-80, 580, (300, 2))))
    pts += [shapely.Point(250, 250), shapely.Point(100, 100), shapely.Point(50, 150)]  # ties: a node, an equidistant point
    pts += [None, shapely.Point(), shapely.box(120, 120, 180, 180)]
    pts += pts[:40]  # repeats within one call
    layer = gpd.GeoDataFrame(geometry=pts, crs=CRS)
    fresh = routing.snap(grid_network(), layer)

    net = grid_network()
    routing.snap(net, layer.iloc[::3])  # part of them first, in another order
    again = routing.snap(net, layer.iloc[::-1]).iloc[::-1]
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)
    pd.testing.assert_frame_equal(routing.snap(net, layer), fresh, check_exact=True)

    # the snap is to the nearest segment: brute force over every segment
    seg_geoms = net.segment_geoms
    for i, g in enumerate(pts):
        if g is None or g.is_empty:
            assert fresh["edge"].iloc[i] == -1 and np.isnan(fresh["snap_m"].iloc[i])
            continue
        p = g if g.geom_type == "Point" else g.point_on_surface()
        d = shapely.distance(p, seg_geoms)
        assert fresh["snap_m"].iloc[i] == pytest.approx(d.min(), abs=1e-9)
        assert d[fresh["edge"].iloc[i]] == pytest.approx(d.min(), abs=1e-9)


def test_repeat_travel_time_calls_are_identical():
    net = grid_network()
    rng = np.random.default_rng(2)
    origins = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, 500, (200, 2))), crs=CRS,
                               index=[f"o{i}" for i in range(200)])
    services = gpd.GeoDataFrame({"service_id": [1, 2, 3], "name": ["A", None, "C"], "category": ["a", "b", "a"]},
                                geometry=[shapely.Point(10, 490), shapely.Point(480, 30), shapely.Point(260, 240)], crs=CRS)
    first = nw.network_travel_times(net, origins, services, ["a", "b", "none"])
    again = nw.network_travel_times(net, origins, services, ["a", "b", "none"])
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    fresh = nw.network_travel_times(grid_network(), origins, services, ["a", "b", "none"])
    pd.testing.assert_frame_equal(fresh, first, check_exact=True)
    # origin-major rows, categories in the given order; ids as text; none reachable for "none"
    assert first["origin_id"].tolist()[:6] == ["o0"] * 3 + ["o1"] * 3
    assert first["category"].tolist()[:3] == ["a", "b", "none"]
    assert set(first.loc[first.category == "b", "service_id"]) == {"2"}
    assert first.loc[first.category == "none", "service_id"].isna().all()
    assert first.loc[first.category == "none", "minutes"].isna().all()
    # hand check: the origin at a node next to service 2's road, straight along the grid
    one = nw.network_travel_times(net, gpd.GeoDataFrame(geometry=[shapely.Point(500, 0)], crs=CRS, index=["corner"]),
                                  services, ["b"])
    # service 2 at (480, 30) snaps to the street x = 500 at (500, 30), 20 m off the road; the corner
    # is 30 m of road away at 10 m/s
    assert one["distance_m"].iloc[0] == pytest.approx(30.0 + 20.0)
    assert one["minutes"].iloc[0] == pytest.approx((30.0 / 10.0 + 20.0 / (4.8 / 3.6)) / 60.0)


def test_node_times_without_distances():
    net = grid_network()
    services = gpd.GeoDataFrame({"service_id": ["x", "y"], "category": ["a", "b"]},
                                geometry=[shapely.Point(0, 0), shapely.Point(500, 500)], crs=CRS)
    full = nw.node_travel_times(net, services, ["a", "b"])
    quick = nw.node_travel_times(net, services, ["a", "b"], distances=False)
    pd.testing.assert_frame_equal(quick.drop(columns="distance_m"), full.drop(columns="distance_m"), check_exact=True)
    assert quick["distance_m"].isna().all()
    # node 35 (500, 500): 1000 m of grid from (0, 0) at 10 m/s, but the one-way diagonal runs 0 -> 35 only
    far = full[(full.node == 35) & (full.category == "a")].iloc[0]
    assert far["distance_m"] == pytest.approx(1000.0) and far["minutes"] == pytest.approx(100.0 / 60.0)


def test_snap_memo_shared_by_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    layers = [gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, 500, (400, 2))), crs=CRS) for _ in range(6)]
    want = [routing.snap(grid_network(), layer) for layer in layers]
    net = grid_network()
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda layer: routing.snap(net, layer), layers * 3))
    for g, w in zip(got, want * 3):
        pd.testing.assert_frame_equal(g, w, check_exact=True)


def test_remembered_graph_follows_changed_inputs():
    """The last augmented graph is reused only for the same snaps and services: alternating
    origins, services and access speeds on one network gives what a fresh network gives."""
    rng = np.random.default_rng(8)
    origin_sets = [gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, 500, (60, 2))), crs=CRS,
                                    index=[f"o{i}" for i in range(60)]) for _ in range(2)]
    service_sets = [
        gpd.GeoDataFrame({"service_id": [1, 2], "name": ["A", "B"], "category": ["a", "a"]},
                         geometry=[shapely.Point(10, 490), shapely.Point(480, 30)], crs=CRS),
        gpd.GeoDataFrame({"service_id": [1, 2], "name": ["A", "B"], "category": ["a", "a"]},
                         geometry=[shapely.Point(10, 490), shapely.Point(260, 205)], crs=CRS),  # one service moved
    ]
    net = grid_network()
    calls = [(0, 0, 4.8), (0, 0, 4.8), (0, 1, 4.8), (1, 1, 4.8), (1, 1, 9.6), (0, 0, 4.8)]
    for o, s, speed in calls:
        got = nw.network_travel_times(net, origin_sets[o], service_sets[s], ["a"], access_speed_kmh=speed)
        want = nw.network_travel_times(grid_network(), origin_sets[o], service_sets[s], ["a"], access_speed_kmh=speed)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # the moved service is what changed the answer (hand check): the origin lies on the street
    # y = 200; service 2 first at (480, 30): 20 m off the street x = 500, then 170 m up it and 240 m
    # along y = 200 (430 m); then at (260, 205), 5 m off the origin's street right beside it
    near = gpd.GeoDataFrame(geometry=[shapely.Point(260, 200)], crs=CRS, index=["x"])
    d = [nw.network_travel_times(net, near, svc, ["a"]).iloc[0] for svc in service_sets + service_sets]
    assert [r["service_id"] for r in d] == ["2"] * 4
    assert [r["distance_m"] for r in d] == pytest.approx([430.0, 5.0, 430.0, 5.0])


def test_method_column_labels_every_row_with_the_networks_words():
    """The table's ``method`` is one object column carrying the network's label on each row (the default provider's label,
    written out by hand here, not taken from ``RoadNetwork.method``)."""
    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0]])
    net = nw.RoadNetwork.from_segments(xy, np.array([0, 1]), np.array([1, 2]), np.array([1000.0, 1000.0]),
                                       np.array([60.0, 60.0]), time_back_s=np.array([60.0, 60.0]), crs=CRS, mode="drive",
                                       source="hand-made")
    origins = gpd.GeoDataFrame(geometry=shapely.points([[10.0, 5.0], [1500.0, -3.0], [1990.0, 1.0]]), crs=CRS)
    services = gpd.GeoDataFrame({"service_id": ["a", "b"], "name": ["A", "B"], "category": ["hospital", "clinic"]},
                                geometry=shapely.points([[0.0, 0.0], [2000.0, 0.0]]), crs=CRS)
    tt = routing.network_travel_times(net, origins, services, ["hospital", "clinic"])
    assert tt["method"].dtype == object and len(tt) == 6
    assert tt["method"].tolist() == ["road network (OpenStreetMap, drive)"] * 6
    tt.loc[0, "method"] = "changed"  # one row's label is its own cell, not a view shared with the others
    assert tt["method"].tolist()[1:] == ["road network (OpenStreetMap, drive)"] * 5
