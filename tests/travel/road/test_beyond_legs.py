"""Services beyond the road network's roads (a hospital past the edge of a city's road file).

Hand-computed cases on a 10 km road, the uncertainty bounds of those legs, the run's sentence in English and
French, and on the real Ottawa RNF extract a brute-force count of the services far from every road.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gapmap.analysis import uncertainty
from gapmap.messages import Message
from gapmap.output import i18n
from gapmap.settings import Settings
from gapmap.travel.road import network as nw
from gapmap.travel.road import routing

CRS = "EPSG:32617"


@pytest.fixture()
def road():
    """One two-way road (0, 0) -> (20 km, 0) at 60 km/h (0.06 s a metre)."""
    xy = np.array([[0.0, 0.0], [20_000.0, 0.0]])
    return nw.RoadNetwork.from_segments(xy, np.array([0]), np.array([1]), np.array([20_000.0]), np.array([1200.0]),
                                        time_back_s=np.array([1200.0]), crs=CRS, mode="drive", source="hand-made")


DRIVE = dict(access_speed_kmh=4.8, leg_kmh=60.0, leg_circuity=1.3)


def _inputs():
    origins = gpd.GeoDataFrame(geometry=shapely.points([[0.0, 0.0]]), crs=CRS, index=["o"])
    # A: 3 km off the road at 5 km (past its roads). B: on the road at 8.75 km (525 s).
    services = gpd.GeoDataFrame({"service_id": ["A", "A2", "B"], "name": ["A. Hospital", "A. Hospital", "B"],
                                 "category": ["h", "x", "x"]},
                                geometry=shapely.points([[5_000.0, 3_000.0], [5_000.0, 3_000.0], [8_750.0, 0.0]]), crs=CRS)
    return origins, services


def test_off_road_legs_are_driven_as_the_straight_line_approximation(road):
    origins, services = _inputs()
    tt = routing.network_travel_times(road, origins, services, ["h", "x"], snap_limit_m=1000.0, leg_circuity_range=(1.2, 1.6),
                                      **DRIVE)
    h, x = tt.iloc[0], tt.iloc[1]
    # h: 300 s of road, then 3000 m x 1.3 = 3900 m at 60 km/h = 234 s.
    assert h["service_id"] == "A" and np.isclose(h["minutes"] * 60, 534.0, rtol=1e-12)
    assert np.isclose(h["distance_m"], 8_900.0, rtol=1e-12) and h["beyond_m"] == pytest.approx(3000.0, rel=1e-12)
    # The circuity range: 3000 m x 1.2 and x 1.6 at 60 km/h = 216 s and 288 s.
    assert np.isclose(h["minutes_lo"] * 60, 516.0, rtol=1e-12) and np.isclose(h["minutes_hi"] * 60, 588.0, rtol=1e-12)
    # x: B (525 s) is nearer than A (534 s); at circuity 1.2 A (516 s) is, at 1.6 B still.
    assert x["service_id"] == "B" and np.isclose(x["minutes"] * 60, 525.0, rtol=1e-12) and x["beyond_m"] == 0.0
    assert np.isclose(x["minutes_lo"] * 60, 516.0, rtol=1e-12) and np.isclose(x["minutes_hi"] * 60, 525.0, rtol=1e-12)
    # An origin 2 km off the road at 10 km drives its lane too: 2000 x 1.3 m at 60 km/h = 156 s, then 1.25 km back to B.
    lane = routing.network_travel_times(road, gpd.GeoDataFrame(geometry=[shapely.Point(10_000.0, 2_000.0)], crs=CRS, index=["f"]),
                                        services, ["x"], **DRIVE)
    assert np.isclose(lane["minutes"].iloc[0] * 60, 156.0 + 75.0, rtol=1e-12) and lane["snap_flag"].iloc[0]
    assert np.isclose(lane["distance_m"].iloc[0], 2_600.0 + 1_250.0, rtol=1e-12)


def test_without_a_mode_speed_or_walking_the_legs_are_walked(road):
    origins, services = _inputs()
    walked = 300.0 + 3000.0 / (4.8 / 3.6)  # 2,550 s
    for kw in ({}, {"leg_kmh": 4.8, "leg_circuity": 1.3}):  # walking in a straight line x 1.3 is slower than walking
        tt = routing.network_travel_times(road, origins, services, ["h"], access_speed_kmh=4.8, **kw)
        assert np.isclose(tt["minutes"].iloc[0] * 60, walked, rtol=1e-12) and tt["beyond_m"].iloc[0] == pytest.approx(3000.0)
    # The same legs in the origin-service matrix (E2SFCA) and from the nodes.
    od = routing.network_od_matrix(road, origins, services[services.category == "h"], max_minutes=60, **DRIVE)
    assert np.isclose(od["minutes"].iloc[0] * 60, 534.0, rtol=1e-12)
    nodes = routing.node_travel_times(road, services[services.category == "h"], ["h"], **DRIVE)
    assert np.allclose(nodes["minutes"].to_numpy() * 60, [534.0, 900.0 + 234.0], rtol=1e-12)


def test_unreachable_rows_have_no_beyond_distance(road):
    origins = gpd.GeoDataFrame(geometry=[shapely.Point(5000.0, 0.0), None], crs=CRS, index=["on", "none"])
    _, services = _inputs()
    tt = routing.network_travel_times(road, origins, services, ["h"], **DRIVE)
    assert tt["beyond_m"].iloc[0] == pytest.approx(3000.0) and np.isnan(tt["beyond_m"].iloc[1])


def test_bounds_take_the_legs_at_both_ends_of_the_circuity_range():
    tt = pd.DataFrame({"origin_id": ["o"], "category": ["x"], "distance_m": [13_000.0], "minutes": [13.7],
                       "minutes_lo": [13.6], "minutes_hi": [13.7], "method": ["road network (hand-made, drive)"]})
    r = uncertainty.time_ranges(tt, pd.Series(dtype=float), Settings(mode="drive"))
    # Speeds within 15 %: the low end at the fastest speeds, the high end at the slowest.
    assert r["minutes_best"].iloc[0] == pytest.approx(13.6 / 1.15, rel=1e-12)
    assert r["minutes_worst"].iloc[0] == pytest.approx(13.7 / 0.85, rel=1e-12)


def test_the_runs_sentence_names_the_services_and_reads_in_french(road):
    from gapmap.pipeline import _beyond_note

    _, services = _inputs()
    [note] = _beyond_note(road, services, Settings(mode="drive", categories=("h", "x")))
    assert isinstance(note, Message) and note.key == "appx_beyond"
    assert str(note) == ("2 of the 3 services analysed lie more than 1 km from every road of the network, past the roads it "
                         "holds (nearest first: A. Hospital 3.0 km, A. Hospital 3.0 km); their legs to it are a straight-line "
                         "approximation (distance x 1.3 at 60 km/h; circuity 1.2-1.6 in the ranges).")
    fr = i18n.render(note, "fr")
    assert fr.startswith("2 services sur les 3 analysés sont à plus de 1\u00a0km de toute route du réseau")
    assert "A. Hospital 3,0\u00a0km" in fr and "leurs trajets jusqu'à elle sont une approximation à vol d'oiseau (distance × 1,3 à 60\u00a0km/h" in fr
    [walk] = _beyond_note(road, services, Settings(mode="walk", categories=("h", "x")))
    assert str(walk).endswith("; their legs to it are walked at 4.8 km/h.")
    assert i18n.render(walk, "fr").endswith("; leurs trajets jusqu'à elle se font à pied à 4,8\u00a0km/h.")


def test_ottawa_services_far_from_every_rnf_road_by_brute_force(mirror):
    """The offline RNF extract holds the City of Ottawa's roads only: hospitals in Kemptville, Carleton Place or Gatineau lie
    kilometres past them. Oracle: each service's distance to the union of every road line (no STRtree)."""
    from gapmap import layers
    from gapmap.sources import catalog
    from gapmap.sources.regions import get_region
    from gapmap.travel.road import segments

    boundary, _ = layers.build_boundary(get_region("ottawa"))
    net, _ = segments.read_segments(catalog.resolve("rnf_ottawa_2021"), "rnf", layer="roads", crs=boundary.gdf.crs,
                                    boundary=boundary.gdf)
    services = layers.build_services(boundary.gdf).gdf
    services = services[services["category"].isin(["hospital", "primary_care"])].reset_index(drop=True)
    roads = shapely.union_all(net.edges.geometry.to_numpy())
    far = shapely.distance(services.geometry.to_numpy(), roads) > 1000.0
    s = routing.snap(net, services)
    assert ((s["snap_m"] > 1000.0).to_numpy() == far).all()
    kemptville = services["name"].str.contains("Kemptville District Hospital", regex=False)
    assert kemptville.sum() == 1 and far[kemptville.to_numpy()].all()
    # 58 once psychiatric, rehabilitation and day hospitals and birth centres are not hospitals or clinics (docs/service-categories.md)
    assert int(far.sum()) == 32 and len(services) == 58


def test_a_sites_method_says_when_its_nearest_service_lies_past_the_roads(road):
    from gapmap.analysis.gaps import wide_times

    origins, services = _inputs()
    tt = routing.network_travel_times(road, origins, services, ["h", "x"], **DRIVE)
    out = wide_times(origins, tt, Settings(mode="drive", categories=("h", "x"), thresholds_min=(30.0,)))
    assert out["h_nearest_id"].tolist() == ["A"] and out["x_nearest_id"].tolist() == ["B"]
    assert out["h_method"].tolist() == [
        "road network (OpenStreetMap, drive); the nearest service lies past the network's roads (its leg to them is approximate)"]
    assert out["x_method"].tolist() == ["road network (OpenStreetMap, drive)"]


def test_od_matrix_searched_from_the_origins_is_the_one_searched_from_the_services():
    """Siting searches from the few demand points not yet covered (forward graph) instead of from thousands of candidates
    (reversed graph): one-way streets make the two directions differ, so the oracle is networkx on the forward graph."""
    import networkx as nx

    rng = np.random.default_rng(7)
    n = 6  # a 6 x 6 grid, 500 m blocks, every street one-way in a random direction
    xy = np.array([[500.0 * i, 500.0 * j] for i in range(n) for j in range(n)])
    u, v = [], []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    u.append(a if rng.random() < 0.5 else b)
                    v.append(b if u[-1] == a else a)
    u, v = np.array(u), np.array(v)
    length = np.full(len(u), 500.0)
    net = nw.RoadNetwork.from_segments(xy, u, v, length, length / (50 / 3.6), time_back_s=np.full(len(u), np.nan), crs=CRS,
                                       mode="drive", source="hand-made")
    origins = gpd.GeoDataFrame(geometry=shapely.points(xy[[0, 14, 35]]), crs=CRS, index=["a", "b", "c"])
    services = gpd.GeoDataFrame({"service_id": [f"s{i}" for i in range(8)], "category": "x"},
                                geometry=shapely.points(xy[[1, 5, 9, 20, 22, 27, 30, 33]]), crs=CRS)
    kw = dict(max_minutes=4.0, access_speed_kmh=4.8, leg_kmh=50.0, leg_circuity=1.3)
    back = routing.network_od_matrix(net, origins, services, **kw)
    fwd = routing.network_od_matrix(net, origins, services, search_from="origins", **kw)
    pd.testing.assert_frame_equal(back[["origin_id", "service_id"]], fwd[["origin_id", "service_id"]])
    assert np.allclose(back["minutes"], fwd["minutes"], rtol=1e-12)
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), (500.0 / (50 / 3.6),) * len(u)))
    node = {"a": 0, "b": 14, "c": 35}
    svc_node = dict(zip(services["service_id"], [1, 5, 9, 20, 22, 27, 30, 33]))
    expected = set()
    for o, s0 in node.items():
        d = nx.single_source_dijkstra_path_length(G, s0)
        expected |= {(o, s) for s, t in svc_node.items() if t in d and d[t] <= 240.0 + 1e-9}
    assert 0 < len(expected) < 24 and set(zip(fwd["origin_id"], fwd["service_id"])) == expected
    with pytest.raises(Exception, match="search_from"):
        routing.network_od_matrix(net, origins, services, search_from="both", **kw)
