"""Siting says why it recommends fewer sites than asked (``SitingResult.shortfall``)."""

import geopandas as gpd
from shapely.geometry import Point

from gapmap.analysis import siting
from gapmap.settings import Settings

CRS = "EPSG:26917"
KM = 1000.0
S = Settings(circuity=1.0)  # 1 km = 1 minute at 60 km/h


def _points(prefix, xs, **cols):
    key = "origin_id" if prefix == "d" else "candidate_id"
    return gpd.GeoDataFrame({key: [f"{prefix}{i}" for i in range(len(xs))], **cols},
                            geometry=[Point(x * KM, 0) for x in xs], crs=CRS)


def test_one_site_covers_what_three_could():
    # Three demand points within 10 km of c0; c1 and c2 reach only some of them.
    dem = _points("d", [0, 5, 8], workers=[10, 10, 10], people=[0, 0, 0])
    cands = _points("c", [4, 0, 8])
    r = siting.locate(dem, cands, threshold_min=10, p=3, settings=S)
    assert len(r.recommendations) == 1
    assert r.shortfall == "1 site covers all the workers that 3 could; more would add nothing."
    assert r.notes[0] == r.shortfall and r.totals["shortfall"] == r.shortfall


def test_only_two_candidates_reach_uncovered_workers():
    # Two far-apart clusters, one candidate each; a third candidate reaches nobody.
    dem = _points("d", [0, 100], workers=[10, 10], people=[0, 0])
    cands = _points("c", [0, 100, 300])
    r = siting.locate(dem, cands, threshold_min=10, p=3, settings=S)
    assert len(r.recommendations) == 2
    assert r.shortfall == "Only 2 candidates reach workers not already covered, so 2 sites instead of 3."


def test_existing_services_cover_everything():
    dem = _points("d", [0, 5], workers=[10, 10], people=[0, 0])
    existing = gpd.GeoDataFrame({"service_id": ["s0"]}, geometry=[Point(2 * KM, 0)], crs=CRS)
    r = siting.locate(dem, _points("c", [3]), threshold_min=10, p=2, settings=S, existing=existing)
    assert len(r.recommendations) == 0
    assert r.shortfall == "Existing services already cover all the workers, so no new site is recommended."


def test_no_candidate_in_reach():
    dem = _points("d", [0], workers=[10], people=[0])
    r = siting.locate(dem, _points("c", [50]), threshold_min=10, p=2, settings=S)
    assert len(r.recommendations) == 0 and r.shortfall.startswith("No candidate is within reach of workers")


def test_no_shortfall_when_p_sites_found_or_target():
    dem = _points("d", [0, 100], workers=[10, 10], people=[0, 0])
    cands = _points("c", [0, 100])
    assert siting.locate(dem, cands, threshold_min=10, p=2, settings=S).shortfall is None
    assert siting.locate(dem, cands, threshold_min=10, target_share=1.0, settings=S).shortfall is None
