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
    """One two-way road (0, 0) -> (10 km, 0) at 60 km/h (600 s)."""
    xy = np.array([[0.0, 0.0], [10_000.0, 0.0]])
    return nw.RoadNetwork.from_segments(xy, np.array([0]), np.array([1]), np.array([10_000.0]), np.array([600.0]),
                                        time_back_s=np.array([600.0]), crs=CRS, mode="drive", source="hand-made")


def _inputs():
    origins = gpd.GeoDataFrame(geometry=shapely.points([[0.0, 0.0]]), crs=CRS, index=["o"])
    # A: 3 km past the road's end (beyond it). B: 536 m off the road at 7 km (walked: 536 / (4.8 / 3.6) = 402 s).
    services = gpd.GeoDataFrame({"service_id": ["A", "A2", "B"], "name": ["A. Hospital", "A. Hospital", "B"], "category": ["h", "x", "x"]},
                                geometry=shapely.points([[13_000.0, 0.0], [13_000.0, 0.0], [7_000.0, 536.0]]), crs=CRS)
    return origins, services


def test_a_service_past_the_roads_is_reached_by_the_straight_line_leg(road):
    origins, services = _inputs()
    tt = routing.network_travel_times(road, origins, services, ["h", "x"], access_speed_kmh=4.8, snap_limit_m=1000.0,
                                      beyond_kmh=60.0, beyond_circuity=1.3, beyond_circuity_range=(1.2, 1.6))
    h, x = tt.iloc[0], tt.iloc[1]
    # h: 600 s of road, then 3000 m x 1.3 = 3900 m at 60 km/h = 234 s.
    assert h["service_id"] == "A" and np.isclose(h["minutes"] * 60, 834.0, rtol=1e-12)
    assert np.isclose(h["distance_m"], 13_900.0, rtol=1e-12) and h["beyond_m"] == pytest.approx(3000.0, rel=1e-12)
    # The circuity range: 3000 m x 1.2 and x 1.6 at 60 km/h = 216 s and 288 s.
    assert np.isclose(h["minutes_lo"] * 60, 816.0, rtol=1e-12) and np.isclose(h["minutes_hi"] * 60, 888.0, rtol=1e-12)
    # x: B (420 s of road + 402 s walked = 822 s) is nearer than A (834 s); at circuity 1.2 A (816 s) is, at 1.6 B still.
    assert x["service_id"] == "B" and np.isclose(x["minutes"] * 60, 822.0, rtol=1e-12) and x["beyond_m"] == 0.0
    assert np.isclose(x["minutes_lo"] * 60, 816.0, rtol=1e-12) and np.isclose(x["minutes_hi"] * 60, 822.0, rtol=1e-12)


def test_without_a_beyond_speed_or_walking_the_leg_is_walked(road):
    origins, services = _inputs()
    walked = 600.0 + 3000.0 / (4.8 / 3.6)  # 2,850 s
    for kw in ({}, {"beyond_kmh": 4.8, "beyond_circuity": 1.3}):  # walking in a straight line x 1.3 is slower than walking
        tt = routing.network_travel_times(road, origins, services, ["h"], access_speed_kmh=4.8, **kw)
        assert np.isclose(tt["minutes"].iloc[0] * 60, walked, rtol=1e-12) and tt["beyond_m"].iloc[0] == 0.0
    # The same legs in the origin-service matrix (E2SFCA) and from the nodes.
    od = routing.network_od_matrix(road, origins, services[services.category == "h"], max_minutes=60, access_speed_kmh=4.8,
                                   beyond_kmh=60.0, beyond_circuity=1.3)
    assert np.isclose(od["minutes"].iloc[0] * 60, 834.0, rtol=1e-12)
    nodes = routing.node_travel_times(road, services[services.category == "h"], ["h"], access_speed_kmh=4.8,
                                      beyond_kmh=60.0, beyond_circuity=1.3)
    assert np.allclose(nodes["minutes"].to_numpy() * 60, [834.0, 234.0], rtol=1e-12)


def test_unreachable_rows_have_no_beyond_distance(road):
    origins = gpd.GeoDataFrame(geometry=[shapely.Point(5000.0, 0.0), None], crs=CRS, index=["on", "none"])
    _, services = _inputs()
    tt = routing.network_travel_times(road, origins, services, ["h"], beyond_kmh=60.0, beyond_circuity=1.3)
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
                         "holds (nearest first: A. Hospital 3.0 km, A. Hospital 3.0 km); the leg from each to its nearest road is a straight-line "
                         "approximation (distance x 1.3 at 60 km/h; circuity 1.2-1.6 in the ranges).")
    fr = i18n.render(note, "fr")
    assert fr.startswith("2 services sur les 3 analysés sont à plus de 1\u00a0km de toute route du réseau")
    assert "A. Hospital 3,0\u00a0km" in fr and "1,3 à 60\u00a0km/h" in fr
    assert _beyond_note(road, services, Settings(mode="walk", categories=("h", "x"))) == []  # walked: no straight legs


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
    assert int(far.sum()) == 40 and len(services) == 69


def test_a_sites_method_says_when_its_nearest_service_lies_past_the_roads(road):
    from gapmap.analysis.gaps import wide_times

    origins = gpd.GeoDataFrame(geometry=shapely.points([[0.0, 0.0], [9_000.0, 0.0]]), crs=CRS, index=["far", "near"])
    _, services = _inputs()
    services = services[services["service_id"] != "A2"]
    services.loc[services["service_id"] == "B", "category"] = "h"
    tt = routing.network_travel_times(road, origins, services, ["h"], access_speed_kmh=4.8, beyond_kmh=60.0, beyond_circuity=1.3)
    out = wide_times(origins, tt, Settings(mode="drive", categories=("h",), thresholds_min=(30.0,)))
    # From (0, 0) B (822 s) is nearer than A (834 s); from 9 km, A (1 km + 234 s) beats B (2 km back + 402 s).
    assert out["h_nearest_id"].tolist() == ["B", "A"]
    assert out["h_method"].tolist() == [
        "road network (OpenStreetMap, drive)",
        "road network (OpenStreetMap, drive); the service lies past the network's roads, its last leg a straight-line approximation",
    ]
