"""E2SFCA on straight-line times in bounded memory gives exactly the matrix method's numbers (issue 13)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gapmap.analysis import access

CRS = "EPSG:32617"


def _points(n: int, prefix: str, rng: np.random.Generator) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({f"{prefix}_id": [f"{prefix}{i}" for i in range(n)], "category": "x"},
                            geometry=gpd.points_from_xy(rng.uniform(0, 60_000, n), rng.uniform(0, 60_000, n)), crs=CRS)


@pytest.mark.parametrize("max_pairs", [2_000_000, 5_000, 1])
def test_blocked_sums_equal_the_matrix_method_bit_for_bit(max_pairs):
    rng = np.random.default_rng(1)
    origins, services = _points(300, "origin", rng), _points(2_000, "service", rng)
    demand = pd.Series(rng.uniform(0, 100, 300), index=origins["origin_id"])
    demand.iloc[::7] = np.nan  # NaN demand counts as 0 in both
    supply = access.supply_values(services.set_index("service_id"))
    matrix = access.od_matrix_straight_line(origins, services, max_minutes=30, speed_kmh=60, circuity=1.3)
    expected = access.e2sfca(matrix, demand, supply).origins["access_per_1000"].to_numpy()
    got = access.e2sfca_straight_line(origins, services, demand, supply, speed_kmh=60, circuity=1.3, max_pairs=max_pairs)
    assert np.array_equal(got, expected)
    assert (got > 0).mean() > 0.9  # the comparison is not vacuous


def test_hand_computed_two_origins_one_service():
    """One service (supply 1) 5 km from A (demand 10) and 15 km from B (demand 30), 60 km/h, circuity 1:
    A is 5 min away (weight 1), B 15 min (0.68): ratio = 1 / (10 + 0.68 * 30); access A = ratio, B = 0.68 ratio."""
    origins = gpd.GeoDataFrame({"origin_id": ["A", "B"]}, geometry=gpd.points_from_xy([0, 20_000], [0, 0]), crs=CRS)
    services = gpd.GeoDataFrame({"service_id": ["s"]}, geometry=gpd.points_from_xy([5_000], [0]), crs=CRS)
    got = access.e2sfca_straight_line(origins, services, pd.Series([10.0, 30.0], index=["A", "B"]),
                                      pd.Series([1.0], index=["s"]), speed_kmh=60, circuity=1.0)
    ratio = 1 / (10 + 0.68 * 30)
    assert got == pytest.approx([1000 * ratio, 1000 * 0.68 * ratio])
