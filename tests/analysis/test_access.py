"""2SFCA / E2SFCA: hand-computed cases, an independent double loop, and agreement with PySAL access."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from gapmap.analysis import access as ac
from gapmap.errors import InputError
from gapmap.settings import Settings

CRS = "EPSG:26917"


@pytest.fixture
def small():
    """3 demand points, 2 services, travel minutes below (c -> s1 is 40 min: out of reach)."""
    demand = pd.Series({"a": 100.0, "b": 200.0, "c": 300.0})
    supply = pd.Series({"s1": 1.0, "s2": 3.0})
    matrix = pd.DataFrame({"origin_id": ["a", "a", "b", "b", "c", "c"],
                           "service_id": ["s1", "s2", "s1", "s2", "s2", "s1"],
                           "minutes": [5.0, 25.0, 12.0, 8.0, 15.0, 40.0]})
    return matrix, demand, supply


def test_2sfca_hand_computed(small):
    matrix, demand, supply = small
    r = ac.two_sfca(matrix, demand, supply, max_minutes=30)
    # Step 1: s1 reaches a, b -> R1 = 1 / (100 + 200) = 1/300
    #         s2 reaches a, b, c -> R2 = 3 / (100 + 200 + 300) = 1/200
    # Step 2: A_a = R1 + R2 = 1/300 + 1/200 = 1/120 -> 8.333 per 1,000
    #         A_b = 1/120 (same services);  A_c = R2 = 1/200 -> 5.0 per 1,000
    svc = r.services.set_index("service_id")
    assert svc.loc["s1", "ratio"] == pytest.approx(1 / 300, rel=1e-12)
    assert svc.loc["s2", "ratio"] == pytest.approx(1 / 200, rel=1e-12)
    assert svc["demand_reached"].tolist() == [300.0, 600.0]
    org = r.origins.set_index("origin_id")
    assert org["access_per_1000"].tolist() == pytest.approx([1000 / 120, 1000 / 120, 5.0], rel=1e-12)
    assert org["services_reachable"].tolist() == [2, 2, 1]
    assert list(r.origins.columns) == ac.ORIGIN_COLUMNS and list(r.services.columns) == ac.SERVICE_COLUMNS


def test_e2sfca_hand_computed(small):
    matrix, demand, supply = small
    r = ac.e2sfca(matrix, demand, supply)  # bands <=10: 1.0, <=20: 0.68, <=30: 0.22
    # Weights: a-s1 5 min 1.0, a-s2 25 min 0.22, b-s1 12 min 0.68, b-s2 8 min 1.0, c-s2 15 min 0.68
    # R1 = 1 / (100 x 1.0 + 200 x 0.68) = 1/236
    # R2 = 3 / (100 x 0.22 + 200 x 1.0 + 300 x 0.68) = 3/426
    r1, r2 = 1 / 236, 3 / 426
    assert r.services["ratio"].tolist() == pytest.approx([r1, r2], rel=1e-12)
    expected = [1.0 * r1 + 0.22 * r2, 0.68 * r1 + 1.0 * r2, 0.68 * r2]
    assert r.origins["access"].tolist() == pytest.approx(expected, rel=1e-12)


def test_unreached_service_and_isolated_origin():
    demand = pd.Series({"a": 10.0, "z": 5.0})
    supply = pd.Series({"s": 2.0, "lonely": 1.0})
    matrix = pd.DataFrame({"origin_id": ["a"], "service_id": ["s"], "minutes": [3.0]})
    r = ac.two_sfca(matrix, demand, supply)
    assert np.isnan(r.services.set_index("service_id").loc["lonely", "ratio"])  # no demand within reach
    assert r.origins.set_index("origin_id").loc["z", "access"] == 0.0
    assert r.origins.set_index("origin_id").loc["a", "access"] == pytest.approx(0.2)


def test_band_weights_inclusive_upper_bounds():
    t = [0, 10, 10.0001, 20, 25, 30, 30.01, np.nan]
    assert ac.band_weights(t).tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0, 0.0]
    with pytest.raises(InputError):
        ac.band_weights([1.0], bands=(10, 5), weights=(1, 0.5))


def test_od_matrix_straight_line_hand_computed():
    origins = gpd.GeoDataFrame({"origin_id": ["o1", "o2"]}, geometry=[Point(0, 0), Point(0, 30_000)], crs=CRS)
    services = gpd.GeoDataFrame({"service_id": ["s1", "s2"]}, geometry=[Point(3000, 4000), Point(0, 20_000)], crs=CRS)
    s = Settings(circuity=1.3)
    m = ac.od_matrix_straight_line(origins, services, s, 30)
    # o1-s1: 5 km x 1.3 = 6.5 km at 60 km/h = 6.5 min; o1-s2: 26 km = 26 min;
    # o2-s2: 10 km x 1.3 = 13 min; o2-s1: hypot(3, 26) km x 1.3 = 34.0 min > 30 (left out).
    assert list(m.columns) == ac.MATRIX_COLUMNS
    assert list(zip(m["origin_id"], m["service_id"])) == [("o1", "s1"), ("o1", "s2"), ("o2", "s2")]
    assert m["minutes"].tolist() == pytest.approx([6.5, 26.0, 13.0])
    assert m["distance_m"].tolist() == pytest.approx([6500, 26000, 13000])
    # The cut-off is inclusive: exactly 26 min is kept at max 26.
    assert len(ac.od_matrix_straight_line(origins, services, s, 26.0)) == 3
    assert m["method"].str.startswith("straight-line approximation").all()


def test_supply_values_rules():
    svc = pd.DataFrame({"service_id": ["h1", "h2", "h3", "c1"], "category": ["hospital"] * 3 + ["primary_care"],
                        "beds": [100, np.nan, 300, np.nan]})
    s = ac.supply_values(svc)
    # h2 gets the hospital median (200); c1 has no primary-care value at all -> default 1.0
    assert s.tolist() == [100, 200, 300, 1.0]
    assert "beds" in s.attrs["supply_note"]
    assert ac.supply_values(svc.drop(columns="beds")).tolist() == [1.0] * 4
    with pytest.raises(InputError, match="capacity column"):
        ac.supply_values(svc, "staff")


def _double_loop(matrix, demand, supply, weight):
    """Independent plain-Python 2SFCA for checking the vectorised one."""
    pairs = [(o, s, weight(t)) for o, s, t in zip(matrix["origin_id"], matrix["service_id"], matrix["minutes"])]
    ratio = {}
    for j in supply.index:
        d = sum(demand[o] * w for o, s, w in pairs if s == j and w > 0)
        ratio[j] = supply[j] / d if d > 0 else 0.0
    return {i: sum(ratio[s] * w for o, s, w in pairs if o == i and w > 0) for i in demand.index}


@pytest.fixture(scope="module")
def random_case():
    rng = np.random.default_rng(42)
    n_o, n_s = 60, 12
    origins = gpd.GeoDataFrame({"origin_id": [f"o{i}" for i in range(n_o)], "pop": rng.integers(50, 3000, n_o).astype(float)},
                               geometry=gpd.points_from_xy(rng.uniform(0, 60_000, n_o), rng.uniform(0, 60_000, n_o)), crs=CRS)
    services = gpd.GeoDataFrame({"service_id": [f"s{j}" for j in range(n_s)], "beds": rng.integers(1, 40, n_s).astype(float),
                                 "category": "hospital"},
                                geometry=gpd.points_from_xy(rng.uniform(0, 60_000, n_s), rng.uniform(0, 60_000, n_s)), crs=CRS)
    matrix = ac.od_matrix_straight_line(origins, services, Settings(), 30)
    demand = origins.set_index("origin_id")["pop"]
    supply = services.set_index("service_id")["beds"]
    return origins, services, matrix, demand, supply


def test_matches_independent_double_loop(random_case):
    _, _, matrix, demand, supply = random_case
    r = ac.e2sfca(matrix, demand, supply)
    loop = _double_loop(matrix, demand, supply, lambda t: ac.band_weights([t])[0])
    assert r.origins["access"].to_numpy() == pytest.approx([loop[i] for i in demand.index], rel=1e-12)
    r2 = ac.two_sfca(matrix, demand, supply, max_minutes=20)
    loop2 = _double_loop(matrix, demand, supply, lambda t: 1.0 if t <= 20 else 0.0)
    assert r2.origins["access"].to_numpy() == pytest.approx([loop2[i] for i in demand.index], rel=1e-12)


def test_agrees_with_pysal_access(random_case):
    pysal = pytest.importorskip("access")
    _, _, matrix, demand, supply = random_case
    acc = pysal.Access(demand_df=demand.to_frame("pop"), demand_index=True, demand_value="pop",
                       supply_df=supply.to_frame("beds"), supply_index=True, supply_value="beds",
                       cost_df=matrix[["origin_id", "service_id", "minutes"]], cost_origin="origin_id",
                       cost_dest="service_id", cost_name="minutes")
    # Each call returns a one-column DataFrame (<name>_<supply>); origins out of reach are absent.
    theirs_2 = acc.two_stage_fca(name="2sfca", max_cost=30)["2sfca_beds"].reindex(demand.index).fillna(0.0)
    theirs_e = acc.enhanced_two_stage_fca(name="e2sfca")["e2sfca_beds"].reindex(demand.index).fillna(0.0)  # Luo & Qi steps
    ours_2 = ac.two_sfca(matrix, demand, supply, max_minutes=30).origins["access"].to_numpy()
    ours_e = ac.e2sfca(matrix, demand, supply).origins["access"].to_numpy()
    assert (theirs_2.to_numpy() > 0).sum() > 30  # a meaningful comparison, not all zeros
    np.testing.assert_allclose(ours_2, theirs_2.to_numpy(), rtol=1e-9, atol=0)
    np.testing.assert_allclose(ours_e, theirs_e.to_numpy(), rtol=1e-9, atol=0)


def test_accessibility_from_layers(random_case):
    origins, services, _, demand, _ = random_case
    svc = pd.concat([services, services.iloc[:2].assign(service_id=["x1", "x2"], category="primary_care")])
    o, s, res = ac.accessibility(origins, svc, "pop", category="hospital", method="e2sfca")
    assert len(s) == len(services) and "access_per_1000" in o.columns and o.geometry.equals(origins.geometry)
    # beds are the supply: total supply shared out equals sum of R_j x demand reached
    assert (s["ratio"] * s["demand_reached"]).sum() == pytest.approx(s.loc[s["demand_reached"] > 0, "supply"].sum())
    assert "beds" in res.params["supply_note"]
    with pytest.raises(InputError, match="demand column"):
        ac.accessibility(origins, svc, "workers")
    with pytest.raises(InputError, match="category"):
        ac.accessibility(origins, svc, "pop", category="dentist")


def test_duplicate_ids_are_rejected():
    pts = gpd.GeoDataFrame({"origin_id": ["a", "a"]}, geometry=[Point(0, 0), Point(1, 1)], crs=CRS)
    svc = gpd.GeoDataFrame({"service_id": ["s"]}, geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(InputError, match="duplicate origin_id 'a'"):
        ac.od_matrix_straight_line(pts, svc, Settings(), 30)
