"""Honest ranges: hand-computed location and method bounds, monotone widening, knife-edge sites, sweeps."""

import filecmp

import pytest

import numpy as np
import pandas as pd
from hypothesis import given, settings as hsettings, strategies as st

from gapmap.analysis import uncertainty
from gapmap.settings import load_settings
from gapmap.travel.straight import method_label

SL = method_label("drive", 60, 1.3)


def _tt(minutes, circuity=1.3, speed_kmh=60.0, method=SL):
    """A long travel-time table for straight-line sites ``minutes`` away (distance_m is the travelled distance)."""
    minutes = np.asarray(minutes, float)
    travelled = minutes * 60 * speed_kmh / 3.6
    return pd.DataFrame({"origin_id": [f"s{i}" for i in range(len(minutes))], "category": "hospital",
                         "distance_m": travelled, "minutes": minutes, "method": method})


def test_hand_computed_29_minutes_3_km_is_uncertain_and_5_minutes_is_surely_within():
    # 60 km/h = 1000 m/min; at circuity 1.3 a 29-min trip is 29,000 m travelled = 22,307.7 m straight.
    # Moving 3 km: (22,307.7 - 3,000) x 1.3 / 1000 = 25.1 min and (22,307.7 + 3,000) x 1.3 / 1000 = 32.9 min.
    s = load_settings(circuity_range=(1.3, 1.3), speed_factor_range=(1.0, 1.0))
    r = uncertainty.time_ranges(_tt([29.0, 5.0]), pd.Series({"s0": 3000.0, "s1": 3000.0}), s)
    np.testing.assert_allclose(r["minutes_best"], [25.1, 1.1], atol=1e-9)
    np.testing.assert_allclose(r["minutes_worst"], [32.9, 8.9], atol=1e-9)
    st_ = uncertainty.status(r["minutes_best"].to_numpy(), r["minutes_worst"].to_numpy(), 30.0)
    assert list(st_) == ["uncertain", "surely within"]


def test_method_ranges_alone_move_a_straight_line_time_by_circuity_and_speed():
    # No location radius: 30 min at circuity 1.3 -> [30 x 1.2/1.3 / 1.15, 30 x 1.6/1.3 / 0.85] by hand.
    s = load_settings()
    r = uncertainty.time_ranges(_tt([30.0]), pd.Series(dtype=float), s)
    assert r["minutes_best"].iloc[0] == __import__("pytest").approx(30 * 1.2 / 1.3 / 1.15)
    assert r["minutes_worst"].iloc[0] == __import__("pytest").approx(30 * 1.6 / 1.3 / 0.85)


def test_unreachable_is_surely_beyond_and_transit_uses_the_departure_window():
    s = load_settings()
    tt = _tt([np.nan, 20.0])
    r = uncertainty.time_ranges(tt, pd.Series(dtype=float), s)
    assert np.isinf(r["minutes_best"].iloc[0]) and np.isinf(r["minutes_worst"].iloc[0])
    transit = load_settings(mode="transit")
    tt = pd.DataFrame({"origin_id": ["a"], "category": "hospital", "distance_m": np.nan, "minutes": [24.0],
                       "minutes_p90": [41.0], "method": "transit schedule"})
    r = uncertainty.time_ranges(tt, pd.Series(dtype=float), transit)
    assert (r["minutes_best"].iloc[0], r["minutes_worst"].iloc[0]) == (24.0, 41.0)


ranges = st.tuples(st.floats(1.0, 1.5), st.floats(0.0, 0.6), st.floats(0.5, 1.0), st.floats(0.0, 0.6),
                   st.floats(0.0, 30_000.0))


@hsettings(max_examples=60, deadline=None)
@given(minutes=st.lists(st.floats(0.0, 200.0), min_size=1, max_size=8), a=ranges, widen=ranges)
def test_bounds_bracket_the_point_and_widening_never_narrows(minutes, a, widen):
    c_lo, c_span, f_lo, f_span, radius = a
    narrow = load_settings(circuity_range=(c_lo, c_lo + c_span), speed_factor_range=(f_lo, f_lo + f_span))
    wide = load_settings(circuity_range=(max(1.0, c_lo - widen[1]), c_lo + c_span + widen[1]),
                         speed_factor_range=(max(0.05, f_lo - widen[3] / 2), f_lo + f_span + widen[3]))
    tt = _tt(minutes)
    rad = pd.Series({o: radius for o in tt["origin_id"]})
    r1 = uncertainty.time_ranges(tt, rad, narrow)
    r2 = uncertainty.time_ranges(tt, rad + widen[4], wide)
    point = tt["minutes"].to_numpy()
    assert (r1["minutes_best"] <= point + 1e-9).all() and (r1["minutes_worst"] >= point - 1e-9).all()
    assert (r2["minutes_best"] <= r1["minutes_best"] + 1e-9).all()
    assert (r2["minutes_worst"] >= r1["minutes_worst"] - 1e-9).all()


def test_chatham_kent_headline_has_a_range_and_the_status_follows_the_hand_rule(ck_run):
    result, _ = ck_run
    s = result.settings
    region = result.areas_table.iloc[-1]
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    assert region[f"{pre}_workers_not_lower"] <= region[f"{pre}_workers_not"] <= region[f"{pre}_workers_not_upper"]


def test_real_sites_with_a_3_km_radius_are_uncertain_exactly_within_3_9_minutes_of_30(mirror):
    """Every Chatham-Kent site, 3 km radius, no method range: 3 km x 1.3 at 1000 m/min is 3.9 min either way."""
    import gapmap

    s = gapmap.load_settings(circuity_range=(1.3, 1.3), speed_factor_range=(1.0, 1.0), location_candidates=False,
                             location_radius_m={k: 3000.0 for k in ("community", "post_office", "postal_code",
                                                                      "postal_area", "user coordinates")})
    r = gapmap.analyze("chatham-kent", settings=s, network="straight")
    tt = r.travel_times[(r.travel_times["category"] == "hospital")].set_index("origin_id")["minutes"]
    from gapmap.layers.demand import site_origin_ids

    minutes = tt.reindex(site_origin_ids(r.sites["site_id"]).to_numpy()).to_numpy()
    expected = np.where(minutes + 3.9 <= 30, "surely within", np.where(minutes - 3.9 > 30, "surely beyond", "uncertain"))
    near = np.abs(np.abs(minutes - 30) - 3.9) > 1e-6  # leave float ties at the exact edge out of the comparison
    assert (r.sites["hospital_30min_status"].to_numpy()[near] == expected[near]).all()
    assert (expected == "uncertain").sum() > 0 and (expected == "surely within").sum() > 0
    knife = uncertainty.knife_edge(r.sites, r.settings)
    assert len(knife) == int((r.sites["hospital_30min_status"] == "uncertain").sum())


def test_a_sweep_of_one_value_reproduces_the_plain_run_byte_for_byte(mirror, tmp_path):
    import gapmap
    from gapmap.analysis.sensitivity import sweep

    s = gapmap.load_settings(circuity=1.25)
    table = sweep("chatham-kent", "circuity", [1.25], settings=gapmap.load_settings(), out_dir=tmp_path / "sweep",
                  network="straight")
    gapmap.run("chatham-kent", tmp_path / "plain", settings=s, network="straight")
    swept = tmp_path / "sweep" / "circuity=1.25"
    names = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert names == sorted(p.name for p in swept.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "plain", swept, names, shallow=False)
    assert not mismatch and not errors
    assert len(table) == 1 and table["value"].iloc[0] == 1.25
    assert (tmp_path / "sweep" / "sensitivity.png").stat().st_size > 1000


def _candidate_case(cand_xy, site_xy=(20_000.0, 0.0), settings=None):
    """One hospital at the origin, one site at ``site_xy`` with candidate positions ``cand_xy`` (metres, EPSG:3347)."""
    import geopandas as gpd

    from gapmap.travel.straight import straight_line_times

    s = settings or load_settings(circuity_range=(1.3, 1.3), speed_factor_range=(1.0, 1.0))
    crs = "EPSG:3347"
    services = gpd.GeoDataFrame({"service_id": ["h"], "name": ["H"], "category": ["hospital"]},
                                geometry=gpd.points_from_xy([0.0], [0.0]), crs=crs)
    site = gpd.GeoDataFrame(geometry=gpd.points_from_xy([site_xy[0]], [site_xy[1]]), index=["site:a"], crs=crs)
    times = lambda o: straight_line_times(o, services, ["hospital"], s)  # noqa: E731
    tt = times(site)
    ranges = uncertainty.time_ranges(tt, pd.Series({"site:a": 5000.0}), s)
    pts = np.vstack([[site_xy], np.asarray(cand_xy, float).reshape(-1, 2)])
    cands = pd.DataFrame({"origin_id": "site:a", "cand": np.arange(len(pts)), "x": pts[:, 0], "y": pts[:, 1]})
    return tt, ranges, uncertainty.candidate_ranges(ranges, cands, times, s, crs=crs)


def test_hand_computed_candidates_three_points_10_20_30_km_from_one_hospital():
    # 60 km/h = 1000 m/min, circuity 1.3: 10, 20 and 30 km straight are 13, 26 and 39 min; the site
    # itself is at 20 km (26 min). The 5 km radius would give [19.5, 32.5]; the candidates give [13, 39].
    tt, radius, cand = _candidate_case([(10_000.0, 0.0), (0.0, 20_000.0), (0.0, -30_000.0)])
    assert tt["minutes"].iloc[0] == pytest.approx(26.0)
    assert (radius["minutes_best"].iloc[0], radius["minutes_worst"].iloc[0]) == (pytest.approx(19.5), pytest.approx(32.5))
    assert cand["minutes_best"].iloc[0] == pytest.approx(13.0)
    assert cand["minutes_worst"].iloc[0] == pytest.approx(39.0)
    assert cand["minutes"].iloc[0] == tt["minutes"].iloc[0]  # the point estimate is kept


def test_candidates_with_method_ranges_multiply_by_hand():
    # Default method ranges on top: best 10 km x 1.2 / (1000 m/min x 1.15), worst 30 km x 1.6 / (1000 x 0.85).
    _, _, cand = _candidate_case([(10_000.0, 0.0), (0.0, -30_000.0)], settings=load_settings())
    assert cand["minutes_best"].iloc[0] == pytest.approx(10 * 1.2 / 1.15)
    assert cand["minutes_worst"].iloc[0] == pytest.approx(30 * 1.6 / 0.85)


@hsettings(max_examples=40, deadline=None)
@given(pts=st.lists(st.tuples(st.floats(-40_000, 40_000), st.floats(-40_000, 40_000)), min_size=0, max_size=6),
       extra=st.lists(st.tuples(st.floats(-40_000, 40_000), st.floats(-40_000, 40_000)), min_size=0, max_size=3),
       c_hi=st.floats(1.3, 1.8), f_lo=st.floats(0.5, 1.0))
def test_candidates_bracket_the_point_and_more_candidates_or_wider_ranges_never_narrow(pts, extra, c_hi, f_lo):
    narrow = load_settings(circuity_range=(1.3, 1.3), speed_factor_range=(1.0, 1.0))
    wide = load_settings(circuity_range=(1.2, c_hi), speed_factor_range=(f_lo, 1.15))
    tt, _, a = _candidate_case(pts, settings=narrow)
    _, _, b = _candidate_case(pts + extra, settings=wide)
    point = tt["minutes"].iloc[0]
    assert a["minutes_best"].iloc[0] <= point + 1e-9 <= a["minutes_worst"].iloc[0] + 2e-9
    assert b["minutes_best"].iloc[0] <= a["minutes_best"].iloc[0] + 1e-9
    assert b["minutes_worst"].iloc[0] >= a["minutes_worst"].iloc[0] - 1e-9


def test_chatham_kent_candidate_sets_cover_its_community_sites_and_bracket_every_point(ck_run):
    result, _ = ck_run
    s = result.settings
    assert any(a.startswith("Location ranges:") for a in result.approximations)
    sites = result.sites
    for cat in s.categories:
        point = sites[f"{cat}_min"].to_numpy(dtype=float)
        ok = np.isfinite(point)
        assert (sites[f"{cat}_min_best"].to_numpy()[ok] <= point[ok] + 0.05).all()
        assert (sites[f"{cat}_min_worst"].to_numpy()[ok] >= point[ok] - 0.05).all()


def test_ck_candidate_sets_are_voronoi_cells_with_the_site_point_first(mirror):
    import gapmap
    from gapmap.layers.demand import site_origin_ids

    r = gapmap.analyze("chatham-kent", settings=gapmap.load_settings(privacy="internal"), network="straight")
    ids = site_origin_ids(r.sites["site_id"]).to_numpy()
    cands = uncertainty.candidate_sets(r.sites, ids, r.layers["boundary"].gdf)
    local = r.sites["geocode_precision"].isin(["community", "post_office"]).to_numpy()
    assert set(ids[local]) <= set(cands["origin_id"])
    first = cands[cands["cand"] == 0].set_index("origin_id")
    xy = r.sites.set_axis(ids).geometry
    np.testing.assert_allclose(first["x"], xy.x.reindex(first.index), atol=1e-6)
    # Deterministic: the same inputs give the same table.
    again = uncertainty.candidate_sets(r.sites, ids, r.layers["boundary"].gdf)
    pd.testing.assert_frame_equal(cands, again)


def test_public_areas_csv_blanks_the_bounds_wherever_the_count_is_blank(ck_run):
    result, files = ck_run
    assert result.settings.privacy == "public"
    out = next(p for p in (files.values() if isinstance(files, dict) else files) if str(p).endswith("areas.csv"))
    table = pd.read_csv(out, dtype=str, keep_default_na=False, comment="#")
    checked = blanks = 0
    for col in table.columns:
        for suffix in ("_lower", "_upper"):
            base = col[: -len(suffix)] if col.endswith(suffix) else None
            if base and base in table.columns:
                count_blank = table[base].str.strip() == ""
                bound_blank = table[col].str.strip() == ""
                assert not (count_blank & ~bound_blank).any(), col  # a blank count's bounds are blank
                checked += 1
                blanks += int(count_blank.sum())
    assert checked > 0 and blanks > 0
