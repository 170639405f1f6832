"""Hand-computed travel times, bands and gap tables on tiny layers."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gapmap import travel
from gapmap.analysis import gaps
from gapmap.errors import InputError
from gapmap.settings import Settings, load_settings

CRS = "EPSG:26917"


def _pts(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in xy], crs=CRS)


@pytest.fixture
def services():
    return _pts([(3000, 4000), (-10000, 0), (0, 20000)], service_id=["h1", "h2", "c1"], name=["H one", "H two", "Clinic"],
                category=["hospital", "hospital", "primary_care"])


def test_straight_line_minutes_hand_computed(services):
    origins = _pts([(0, 0), (-10000, 100)]).set_index(pd.Index(["a", "b"]))
    s = Settings(circuity=1.3, speeds_kmh={"drive": 60.0, "bike": 15.0, "walk": 4.8})
    tt = travel.straight_line_times(origins, services, ["hospital", "primary_care"], s).set_index(["origin_id", "category"])
    # a -> h1: 5 km straight, x1.3 = 6.5 km at 60 km/h = 6.5 min
    assert tt.loc[("a", "hospital"), "service_id"] == "h1"
    assert tt.loc[("a", "hospital"), "distance_m"] == pytest.approx(6500)
    assert tt.loc[("a", "hospital"), "minutes"] == pytest.approx(6.5)
    # b -> h2: 100 m x 1.3 at 60 km/h = 0.13 min; b -> c1: sqrt(10000^2 + 19900^2) x 1.3
    assert tt.loc[("b", "hospital"), "service_id"] == "h2"
    assert tt.loc[("b", "hospital"), "minutes"] == pytest.approx(0.13)
    assert tt.loc[("b", "primary_care"), "distance_m"] == pytest.approx(np.hypot(10000, 19900) * 1.3)
    assert tt["method"].str.startswith("straight-line approximation").all()


def test_walk_mode_speed(services):
    origins = _pts([(0, 0)]).set_index(pd.Index(["a"]))
    s = Settings(mode="walk", circuity=1.0)
    tt = travel.straight_line_times(origins, services, ["hospital"], s)
    assert tt["minutes"].iloc[0] == pytest.approx(5000 / (4.8 / 3.6) / 60)  # 62.5 min


def test_ties_do_not_depend_on_row_order():
    svc = _pts([(1000, 0), (-1000, 0)], service_id=["b", "a"], name=["B", "A"], category=["hospital"] * 2)
    origins = _pts([(0, 0)]).set_index(pd.Index(["o"]))
    s = Settings()
    first = travel.straight_line_times(origins, svc, ["hospital"], s)
    second = travel.straight_line_times(origins, svc.iloc[::-1], ["hospital"], s)
    assert first["service_id"].iloc[0] == second["service_id"].iloc[0] == "a"


def test_bands_are_nested_and_sized(services):
    s = Settings(thresholds_min=(15.0, 30.0), circuity=1.3)
    bands = travel.straight_line_bands(services, ["hospital"], s)
    b15, b30 = bands.sort_values("threshold_min").geometry
    assert b30.contains(b15.buffer(-1))
    # one isolated disc of radius 15 min x 60 km/h / 1.3 = 11538 m around h1 ... overlapping h2's
    r15 = 15 * 60 * (60 / 3.6) / 1.3
    assert b15.contains(Point(3000 + r15 * 0.99, 4000)) and not b15.contains(Point(3000 + r15 * 1.01, 4000))


def test_missing_category_is_clear(services):
    with pytest.raises(InputError, match="No services of category 'library'"):
        travel.travel_times(_pts([(0, 0)]), services, Settings(categories=("library",), headline_category="library"))


def test_area_table_hand_computed():
    s = Settings(categories=("hospital",), thresholds_min=(30.0,))
    areas = gpd.GeoDataFrame({"area_id": ["w1", "w2"], "area_name": ["W1", "W2"]},
                             geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=CRS)
    sites = pd.DataFrame({"area_id": ["w1", "w1", "w2"], "workers": [10, 5, 7], "hospital_within_30min": [True, False, False]})
    pop = pd.DataFrame({"area_id": ["w1", "w2"], "pop2021": [100.0, 50.0], "hospital_within_30min": [True, False]})
    tab = gaps.area_table(areas, sites, pop, s, "Region").set_index("area_id")
    assert tab.loc["w1", "hospital_30min_workers_not"] == 5
    assert tab.loc["w1", "hospital_30min_workers_not_share"] == pytest.approx(5 / 15, abs=1e-4)
    assert tab.loc["w2", "hospital_30min_sites_not"] == 1
    assert tab.loc["region", "hospital_30min_workers_not"] == 12
    assert tab.loc["region", "hospital_30min_pop_not"] == 50
    summ = gaps.coverage_summary(sites, pop, s, "m")
    assert summ[0]["workers_covered_share"] == pytest.approx(10 / 22, abs=1e-4)
    assert summ[0]["population_covered"] == 100


def test_unreachable_counts_as_not_covered():
    s = Settings(categories=("hospital",), thresholds_min=(30.0,))
    origins = _pts([(0, 0), (1, 1)], site_id=["a", "b"]).set_index(pd.Index(["a", "b"]))
    tt = pd.DataFrame({"origin_id": ["a", "b"], "category": "hospital", "service_id": ["h", None], "service_name": ["H", None],
                       "distance_m": [1000.0, np.nan], "minutes": [10.0, np.nan], "method": "x"})
    w = gaps.wide_times(origins, tt, s)
    assert list(w["hospital_within_30min"]) == [True, False]


def test_settings_file_and_overrides(tmp_path):
    cfg = tmp_path / "gapmap.toml"
    cfg.write_text('circuity = 1.2\nthresholds_min = [20, 40]\n[speeds_kmh]\ndrive = 70\n')
    s = load_settings(cfg, circuity=1.4)
    assert s.circuity == 1.4 and s.thresholds_min == (20.0, 40.0) and s.speeds_kmh["drive"] == 70 and s.speeds_kmh["walk"] == 4.8
    assert s.headline_threshold == 20.0  # moved to the threshold closest to 30
    cfg.write_text("speed = 3\n")
    with pytest.raises(InputError, match="unknown key"):
        load_settings(cfg)
    with pytest.raises(InputError, match="below 1"):
        load_settings(circuity=0.5)


def test_area_table_bounds_and_postal_area_rows_hand_computed():
    """Per-area bounds from the status columns, postal-area sites counted apart (hand-computed)."""
    s = Settings(categories=("hospital",), thresholds_min=(30.0,))
    areas = gpd.GeoDataFrame({"area_id": ["w1", "w2"], "area_name": ["W1", "W2"]},
                             geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=CRS)
    st = "hospital_30min_status"
    sites = pd.DataFrame({"area_id": ["w1", "w2", "unknown", "w1", "unknown"], "workers": [4, 9, 30, 6, 2],
                          "geocode_precision": ["exact", "community", "postal_area", "exact", "postal_area"],
                          "hospital_within_30min": [True, False, False, False, True],
                          st: ["surely within", "uncertain", "surely beyond", "surely beyond", "uncertain"]})
    pop = pd.DataFrame({"area_id": ["w1", "w1", "w2"], "pop2021": [10.5, np.nan, 3.25],
                        "hospital_within_30min": [False, False, True],
                        st: ["uncertain", "surely beyond", "surely within"]})
    tab = gaps.area_table(areas, sites, pop, s, "Region").set_index("area_id")
    assert tab.index.tolist() == ["w1", "w2", "unknown", "region"]
    w1, w2, unk, reg = (tab.loc[a] for a in tab.index)
    assert (w1["sites"], w1["workers"], w1["population"]) == (2, 10, 10.5)
    assert w1["hospital_30min_workers_not"] == 6 and w1["hospital_30min_workers_covered"] == 4
    assert w1["hospital_30min_pop_not"] == 10.5 and w1["hospital_30min_pop_covered"] == 0.0
    assert (w1["hospital_30min_workers_not_lower"], w1["hospital_30min_workers_not_upper"]) == (6, 6)
    assert (w1["hospital_30min_pop_not_lower"], w1["hospital_30min_pop_not_upper"]) == (0.0, 10.5)
    assert (w2["hospital_30min_sites_knife_edge"], w2["hospital_30min_workers_not_lower"], w2["hospital_30min_workers_not_upper"]) == (1, 0, 9)
    assert (unk["sites"], unk["workers"], unk["population"]) == (2, 32, 0.0)
    assert unk["hospital_30min_workers_not"] == 30 and unk["hospital_30min_workers_not_postal_area"] == 30
    assert (unk["hospital_30min_workers_not_lower"], unk["hospital_30min_workers_not_upper"]) == (30, 32)
    assert (reg["sites"], reg["workers"], reg["population"]) == (5, 51, 13.75)
    assert reg["hospital_30min_workers_not"] == 45 and reg["hospital_30min_workers_not_postal_area"] == 30
    assert reg["hospital_30min_workers_not_share"] == round(45 / 51, 4)
    assert (reg["hospital_30min_sites_not_lower"], reg["hospital_30min_sites_not_upper"]) == (2, 4)
    assert (reg["hospital_30min_pop_not_lower"], reg["hospital_30min_pop_not_upper"]) == (0.0, 10.5)
