"""Benchmark on a real Canadian network: Ottawa on Statistics Canada's Road Network File (run on demand).

    python benchmarks/bench_ottawa.py           # ~2-4 min on 2 shared cores
    python benchmarks/bench_ottawa.py --no-iso  # skip the isochrones

Work: every LMIA site and every 2021 dissemination block of the City of Ottawa (the real
``gapmap analyze --region ottawa`` origins) to the nearest ODHF service of each category on
the RNF drive network (23.7k nodes, 33.8k segments). Compared in one run, ratios printed:

- gapmap ``network_travel_times`` (edge snapping of origins and services + one multi-source
  Dijkstra per category), as a repeat call (the network remembers the snapped points) and
  snapping afresh (the memo emptied before each call: the first call on new points);
- the floor: the bare ``scipy.sparse.csgraph.dijkstra(min_only=True)`` call per category on the
  same reversed augmented CSR arrays gapmap builds (snapping excluded: just the search); also
  printed with a bare ``STRtree.query_nearest`` of the same points added, for the fresh-snap call;
- networkx ``multi_source_dijkstra_path_length`` per category on the same augmented graph;
- pandana ``set_pois`` + ``nearest_pois`` with services and origins at their nearest node
  (network build incl. contraction hierarchies timed apart);
- the OSMnx ego-graph recipe (``nx.ego_graph(radius=30 min)`` per service) for one category;
- isochrones for 2 categories x 3 thresholds against the travel-time computation.

Targets (issue 18): within 1.5x of the csgraph floor, >= 5x faster than networkx multi-source,
no slower than a pandana query, isochrones within 10x of the travel-time computation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gapmap import layers  # noqa: E402
from gapmap.sources.regions import get_region  # noqa: E402
from gapmap.travel.road import network as nw  # noqa: E402
from gapmap.travel.road import segments  # noqa: E402
from gapmap.sources import catalog  # noqa: E402
from bench_network import interleaved, interleaved_wall_cpu, timed  # noqa: E402  (best-of-N timer shared by the benchmarks; this folder is on sys.path)

CATEGORIES = ("hospital", "primary_care")
THRESHOLDS_MIN = (15.0, 30.0, 60.0)


def ottawa_inputs() -> tuple[nw.RoadNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The RNF network, the services of :data:`CATEGORIES` and the origins (LMIA sites, then every
    dissemination block) of ``gapmap analyze --region ottawa``; prints what it read."""
    region = get_region("ottawa")
    boundary, areas = layers.build_boundary(region)
    t_read, (net, report) = timed(lambda: segments.read_segments(
        catalog.resolve("rnf_ottawa_2021"), "rnf", layer="roads", crs=boundary.gdf.crs, boundary=boundary.gdf))
    print(f"read RNF: {t_read:.2f} s; {report.sentence()}")
    services = layers.build_services(boundary.gdf).gdf
    services = services[services["category"].isin(CATEGORIES)].reset_index(drop=True)
    sites = layers.build_sites(region, boundary.gdf, areas.gdf).gdf
    pop, _ = layers.build_population(region, boundary.gdf, areas.gdf)
    origins = pd.concat([sites.set_index("site_id")[["geometry"]],
                         pop.gdf.assign(o="db-" + pop.gdf["dauid"]).set_index("o")[["geometry"]]])
    origins = gpd.GeoDataFrame(origins, geometry="geometry", crs=boundary.gdf.crs)
    print(f"{len(origins):,} origins ({len(sites)} sites, {len(pop.gdf):,} blocks), services "
          + ", ".join(f"{c} {int((services.category == c).sum())}" for c in CATEGORIES)
          + f"; network {net.n_nodes:,} nodes, {len(net.edges):,} segments")
    return net, services, origins


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-iso", action="store_true")
    args = ap.parse_args()
    net, services, origins = ottawa_inputs()

    # The same augmented graph gapmap searches (snapped origins and services as nodes).
    svc = nw.prepare_services(services, CATEGORIES, net.crs)
    snap, aug, _ = nw.solve(net, origins.geometry.to_numpy(), svc, [], nw.ACCESS_SPEED_KMH)
    csr = aug.reverse.csr("time")
    first = aug.n + aug.p
    src = {c: first + np.flatnonzero(svc["category"].to_numpy() == c) for c in CATEGORIES}
    pts = np.concatenate([origins.geometry.to_numpy(), svc.geometry.to_numpy()])

    def cold():
        net._snap_memo = net._aug_memo = None  # forget the snaps and the graph: a first call on new origins
        return nw.network_travel_times(net, origins, services, CATEGORIES)

    cold()  # warm-up (STRtree, reversed graph, imports)
    # In turns, best of N each, so other jobs' load hits all alike; the fresh-snap call and the bare
    # STRtree query in a second round (they empty and refill the memo and the CPU caches).
    floor_query = lambda: {c: dijkstra(csr, directed=True, indices=src[c], min_only=True) for c in CATEGORIES}  # noqa: E731
    (t_gap, tt), (t_floor, floor) = interleaved(
        [lambda: nw.network_travel_times(net, origins, services, CATEGORIES), floor_query], repeat=15)
    (t_cold, tt_cold), (t_near, _), (t_floor2, _) = interleaved(
        [cold, lambda: net.segment_tree.query_nearest(pts, return_distance=True, all_matches=False), floor_query], repeat=5)
    # Informative: the same bare call with the predecessors, without which scipy does not say *which*
    # service is nearest (gapmap reports it, and the road distance along the tree).
    (t_gap2, _), (t_floor_pred, _) = interleaved(
        [lambda: nw.network_travel_times(net, origins, services, CATEGORIES),
         lambda: {c: dijkstra(csr, directed=True, indices=src[c], min_only=True, return_predecessors=True) for c in CATEGORIES}],
        repeat=15)
    pd.testing.assert_frame_equal(tt, tt_cold, check_exact=True)
    print(f"gapmap network_travel_times          {t_gap:8.3f} s   (repeat call: origins and services already snapped)")
    print(f"gapmap, snapping afresh              {t_cold:8.3f} s   (first call on these points)")
    ratio = t_gap / t_floor
    print(f"floor: bare csgraph.dijkstra          {t_floor:8.3f} s   -> gapmap / floor = {ratio:5.2f}x "
          f"(target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
    print(f"  same floor with predecessors        {t_floor_pred:8.3f} s   -> gapmap / this = {t_gap2 / t_floor_pred:5.2f}x "
          "(informative: the nearest service's id needs them; not the target's floor)")
    print(f"floor + bare STRtree.query_nearest    {t_floor2 + t_near:8.3f} s   (query {t_near:.3f} s) -> gapmap snapping afresh / "
          f"this floor = {t_cold / (t_floor2 + t_near):5.2f}x")
    k = len(origins)
    for c in CATEGORIES:
        mine = tt.loc[tt.category == c, "minutes"].to_numpy()
        theirs = (floor[c][aug.n + np.arange(k)] + snap.dist[:k] / (nw.ACCESS_SPEED_KMH / 3.6)) / 60
        assert np.allclose(mine, theirs, rtol=1e-9, equal_nan=True), c

    coo = csr.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(csr.shape[0]))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()), weight="w")
    t_nx, nxres = timed(lambda: {c: nx.multi_source_dijkstra_path_length(G, set(src[c].tolist()), weight="w")
                                 for c in CATEGORIES}, repeat=3)  # best of 3, as gapmap's best of 7
    print(f"networkx multi_source_dijkstra        {t_nx:8.3f} s   -> gapmap is {t_nx / t_gap:6.1f}x faster "
          f"(target >= 5: {'met' if t_nx / t_gap >= 5 else 'MISSED'}; snapping afresh {t_nx / t_cold:.1f}x; graph built apart)")
    for c in CATEGORIES:
        o = aug.n + np.arange(k)
        theirs = np.array([nxres[c].get(int(i), np.inf) for i in o])
        assert np.allclose(theirs, floor[c][o], rtol=1e-9), c

    try:
        import pandana
    except ImportError as exc:  # pragma: no cover - reported, not fatal
        print(f"pandana not importable: {exc}")
    else:
        g = net._graph
        t_build, pnet = timed(lambda: pandana.Network(
            pd.Series(net.node_xy[:, 0]), pd.Series(net.node_xy[:, 1]), pd.Series(g.rows.astype(np.int64)),
            pd.Series(g.cols.astype(np.int64)), pd.DataFrame({"time": g.time}), twoway=False))
        max_s = 4 * 3600.0
        ox_, oy_ = origins.geometry.x.to_numpy(), origins.geometry.y.to_numpy()

        def query():
            out = {}
            onodes = pnet.get_node_ids(pd.Series(ox_), pd.Series(oy_))
            for c in CATEGORIES:
                s = svc[svc.category == c]
                pnet.set_pois(c, max_s, 1, s.geometry.x, s.geometry.y)
                out[c] = pnet.nearest_pois(max_s, c, num_pois=1).reindex(onodes.to_numpy())
            return out

        query()
        t_pq, _ = timed(query, repeat=3)
        print(f"pandana get_node_ids+set_pois+nearest {t_pq:8.3f} s   -> gapmap / pandana = {t_gap / t_pq:5.2f}x, "
              f"snapping afresh {t_cold / t_pq:.2f}x (target <= 1: {'met' if t_cold / t_pq <= 1 else 'MISSED'}; "
              f"build incl. CH {t_build:.2f} s, timed apart; pandana snaps to nodes, gapmap to segments)")

    R = nx.DiGraph()
    g = net._graph
    R.add_weighted_edges_from(zip(g.cols.tolist(), g.rows.tolist(), g.time.tolist()), weight="time")
    hosp = svc[svc.category == "hospital"]
    hnodes = net.segment_tree.query_nearest(hosp.geometry.to_numpy())[1]
    hn = net.edges["u"].to_numpy()[hnodes]
    t_ego, _ = timed(lambda: [nx.ego_graph(R, int(s), radius=30 * 60, distance="time") for s in hn])
    t_gap1, _ = timed(lambda: nw.network_travel_times(net, origins, services, ["hospital"]))
    print(f"OSMnx ego_graph recipe (hospital, 30 min, {len(hn)} services) {t_ego:8.3f} s "
          f"-> gapmap (hospital, all origins) is {t_ego / t_gap1:6.1f}x faster")

    if not args.no_iso:
        # Isochrones and the travel-time call a run makes (snapping afresh), in turns, best of 3, wall and CPU
        # (time.process_time counts every thread; the isochrones' unions run on threads, so wall < CPU on a free core).
        (iw, ic, _), (tw, tc, _) = interleaved_wall_cpu(
            [lambda: nw.isochrones(net, services, CATEGORIES, THRESHOLDS_MIN), cold], repeat=3)
        print(f"isochrones 2 categories x 3 thresholds  wall {iw:6.3f} s, CPU {ic:6.3f} s; travel-time call (snapping "
              f"afresh) wall {tw:.3f} s, CPU {tc:.3f} s")
        print(f"  isochrones / travel-time computation: wall {iw / tw:5.1f}x, CPU {ic / tc:5.1f}x (target <= 10: "
              f"{'met' if iw / tw <= 10 else 'MISSED'} by wall, {'met' if ic / tc <= 10 else 'MISSED'} by CPU); "
              f"wall {iw / t_gap:.1f}x the repeat call")

if __name__ == "__main__":
    main()
