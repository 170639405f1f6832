"""Disclosure control (docs/privacy.md): the re-identification attacks of issue 13 run against real
public outputs and recover nothing; hand-computed cases of complementary suppression; floors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from gapmap.analysis import privacy
from gapmap.errors import InputError
from gapmap.settings import Settings, load_settings

K = 5
USER_SITES = Path(__file__).parents[1] / "fixtures" / "privacy" / "user_sites.csv"
POSTAL = re.compile(r"\b[A-Z]\d[A-Z][ -]?\d[A-Z]\d\b", re.IGNORECASE)
# Column names that would give a site's distance, time or nearest service (trilateration input).
LOCATING = re.compile(r"(_km$|_min$|_m$|nearest|distance|^lon$|^lat$|employer|site_id|postal_code)")


# --------------------------------------------------------------------------- hand-computed cases


def _areas(sites: list[int], workers: list[int]) -> tuple[np.ndarray, dict, list]:
    n = len(sites)
    cells = {f"a{i}": np.eye(n, dtype=bool)[i] for i in range(n)} | {"region": np.ones(n, dtype=bool)}
    return np.c_[sites, workers], cells, [("region", [f"a{i}" for i in range(n)])]


def test_four_areas_small_one_and_a_complement_hidden():
    # 3 sites is below k = 5; with the region total published, hiding it alone would give it
    # back as 45 - 10 - 12 - 20, so the smallest other area (10 sites) is hidden too.
    values, cells, groups = _areas([3, 10, 12, 20], [30, 100, 120, 200])
    hidden = privacy.protect(values, cells, groups, K)
    assert hidden == {"a0", "a1"}
    published = 45 - 12 - 20  # what a reader gets by subtraction: a0 + a1 together
    assert published == 13 and published >= K


def test_residual_below_k_needs_more_complements():
    # Two small areas (1 and 2 sites): together 3 < k, so a third area must be hidden as well.
    values, cells, groups = _areas([1, 2, 10, 12], [10, 20, 100, 120])
    hidden = privacy.protect(values, cells, groups, K)
    assert {"a0", "a1", "a2"} <= hidden and "region" not in hidden
    assert values[[int(c[1:]) for c in hidden], 0].sum() >= K


def test_small_worker_count_alone_triggers():
    # 6 sites but 4 workers: small on workers.
    values, cells, groups = _areas([6, 10, 12], [4, 100, 120])
    assert privacy.protect(values, cells, groups, K) == {"a0", "a1"}


def test_nothing_small_nothing_hidden():
    values, cells, groups = _areas([5, 10, 12], [50, 100, 120])
    assert privacy.protect(values, cells, groups, K) == set()


def test_hexagon_alone_in_its_area_is_protected_against_the_area_total():
    # Area A = hexes h1 (1 site) + h2 (8 sites); area B = h3 (9 sites). Hiding h1 alone gives it
    # back as A - h2; the rule must hide h2 too (or A).
    pieces = np.array([[1, 10], [8, 80], [9, 90]])
    cells = {"region": np.array([1, 1, 1], bool), "A": np.array([1, 1, 0], bool), "B": np.array([0, 0, 1], bool),
             "h1": np.array([1, 0, 0], bool), "h2": np.array([0, 1, 0], bool), "h3": np.array([0, 0, 1], bool)}
    groups = [("region", ["A", "B"]), ("region", ["h1", "h2", "h3"]), ("A", ["h1", "h2", "h3"]), ("B", ["h1", "h2", "h3"])]
    hidden = privacy.protect(pieces, cells, groups, K)
    assert "h1" in hidden and ({"h2", "A"} & hidden)
    # Independent check: every way a reader could isolate h1 (A - h2, region - B - h2) needs a hidden cell.
    for route in (["A", "h2"], ["region", "B", "h2"]):
        assert set(route) & hidden, route


def test_recommendation_counts_below_k_and_their_complement_are_blank():
    recs = pd.DataFrame({"rank": [1, 2, 3], "workers_newly_covered": [50.0, 3.0, 20.0], "objective_gain": [50.0, 3.0, 20.0]})
    out = privacy.public_recommendations(recs, 73.0, K)
    blank = out["workers_newly_covered"].isna()
    assert blank.tolist() == [False, True, True]  # 3 < k; 20 hidden so 73 - 50 does not give 3 back
    assert out["objective_gain"].isna().tolist() == blank.tolist()


def test_fsa_only():
    assert privacy.fsa_only("Florence (N0P 1R0) is in Dawn-Euphemia") == "Florence (N0P) is in Dawn-Euphemia"
    assert privacy.fsa_only("n7m5j4 and N0P-2L0") == "N7M and N0P"


# --------------------------------------------------------------------------- floors


@pytest.mark.parametrize("change, setting", [({"k_anonymity": 1}, "k_anonymity"), ({"k_anonymity": 4}, "k_anonymity"),
                                             ({"hex_resolution": 15}, "hex_resolution"), ({"hex_resolution": 8}, "hex_resolution")])
def test_public_floors_refused_and_internal_allowed(change, setting):
    with pytest.raises(InputError, match=setting):
        Settings().replace(**change).validate()
    Settings().replace(privacy="internal", **change).validate()


def test_config_file_with_weak_settings_refused(tmp_path):
    cfg = tmp_path / "weak.toml"
    cfg.write_text("k_anonymity = 1\nhex_resolution = 15\n")
    with pytest.raises(InputError, match="k_anonymity.*--privacy internal"):
        load_settings(cfg)
    assert load_settings(cfg, privacy="internal").k_anonymity == 1


# --------------------------------------------------------------------------- attacks on real outputs


@pytest.fixture(scope="module")
def user_run(mirror, tmp_path_factory):
    """Chatham-Kent with a user sites file of 17 sites (one with 3 workers), public and internal."""
    import gapmap

    pub, files = gapmap.run("chatham-kent", out_dir=tmp_path_factory.mktemp("user"), sites_file=str(USER_SITES))
    internal = load_settings(privacy="internal")
    _, ifiles = gapmap.run("chatham-kent", out_dir=tmp_path_factory.mktemp("user_internal"), sites_file=str(USER_SITES),
                           settings=internal)
    return pub, files, ifiles


def _truth(result) -> pd.DataFrame:
    return result.areas_table.set_index("area_id")


def _published_tables(files: dict) -> dict[str, pd.DataFrame]:
    out = {}
    for name, path in files.items():
        if name.endswith(".csv"):
            out[name] = pd.read_csv(path, dtype=str)
    gpkg = files["layers.gpkg"]
    for layer in pyogrio.list_layers(gpkg)[:, 0]:
        out[f"layers.gpkg:{layer}"] = pd.DataFrame(gpd.read_file(gpkg, layer=layer).drop(columns="geometry", errors="ignore"))
    return out


@pytest.mark.parametrize("which", ["ck", "user"])
def test_no_site_row_distance_or_nearest_service_is_published(which, ck_run, user_run):
    result, files = ck_run if which == "ck" else user_run[:2]
    assert "sites.csv" not in files and not (Path(files["map.html"]).parent / "sites.csv").exists()
    for name, table in _published_tables(files).items():
        if name.split(":")[-1] in ("services", "boundary", "population", "catchments", "transit_routes", "transit_stops"):
            continue  # public reference data, no worker figures
        bad = [c for c in table.columns if LOCATING.search(c)]
        assert not bad, f"{name} has locating columns {bad}"
        assert len(table) != len(result.sites) or name.endswith("areas.csv"), f"{name} has one row per site"
    html = Path(files["map.html"]).read_text(encoding="utf-8")
    for emp in result.sites["employer"].dropna().astype(str):
        if len(emp) > 6:
            assert emp not in html


def test_trilateration_finds_no_distance(user_run):
    # Trilateration needs a column of per-site distances or times to services whose places are
    # public. A leaked column would hold most of the sites' true values; no published numeric
    # column (CSV or GeoPackage) holds more than chance coincidences.
    result, files, _ = user_run
    truth = {}
    for cat in result.settings.categories:
        truth[f"{cat}_km"] = set(result.sites[f"{cat}_km"].round(2))
        truth[f"{cat}_min"] = set(result.sites[f"{cat}_min"].round(1))
    for name, table in _published_tables(files).items():
        if name.split(":")[-1] in ("services", "boundary", "population", "catchments"):
            continue
        for col in table.columns:
            vals = pd.to_numeric(table[col], errors="coerce").dropna()
            if vals.empty:
                continue
            for what, true in truth.items():
                hits = len(true & set(vals.round(2 if what.endswith("km") else 1)) - {0.0})
                # Shares in [0, 1] meet a few short times by chance; a leak would meet nearly all 17.
                assert hits < 0.3 * len(true), f"{name}:{col} holds {hits} of the sites' {what} values"


def _area_attacks(public: pd.DataFrame, truth: pd.DataFrame, k: int) -> list[str]:
    """Region minus the published areas, per count column: fails when it isolates one hidden area
    or leaves a hidden total below k."""
    found = []
    areas, region = public[public["area_id"] != "region"], public[public["area_id"] == "region"].iloc[0]
    for col in [c for c in public.columns if c in ("sites", "workers") or c.endswith(("_sites_not", "_workers_not",
                                                                                      "_workers_covered", "_postal_area"))]:
        if pd.isna(region[col]):
            continue
        vals = pd.to_numeric(areas[col], errors="coerce")
        hidden = areas.loc[vals.isna(), "area_id"].tolist()
        rest = float(region[col]) - vals.sum()
        true_hidden = truth.loc[hidden, col].astype(float)
        if len(hidden) == 1 and true_hidden.iloc[0] > 0:
            found.append(f"{col}: {hidden[0]} = {rest:g}")
        elif hidden and 0 < rest < k:
            found.append(f"{col}: hidden areas together = {rest:g}")
    return found


@pytest.mark.parametrize("which", ["ck", "user"])
def test_areas_vs_region_differencing_recovers_nothing(which, ck_run, user_run):
    result, files = ck_run if which == "ck" else user_run[:2]
    public = pd.read_csv(files["areas.csv"], dtype={"area_id": str})
    truth = _truth(result)
    # There is something to attack: a blank cell (CK: Ward 3's 2 sites beyond 30 min; user file: small wards).
    assert public.drop(columns=["area_id", "area_name", "suppressed"]).isna().any().any()
    assert _area_attacks(public, truth, K) == []
    # The console prints the same table, so it cannot give more.


def test_the_attack_finds_the_old_leak(user_run):
    # Not vacuous: with primary suppression alone (the old rule) the same attack gives a small ward
    # back as region minus the other wards. (Before the geocoding cascade of issue 14 it gave back
    # Chatham-Kent's Ward 1: 1 site, 31 workers; Wheatley's farms now sit in Ward 1 too.)
    result = user_run[0]
    truth = result.areas_table.copy()
    old = truth.copy()
    small = (old["sites"] > 0) & (old["sites"] < K)
    for col in [c for c in old.columns if c in ("sites", "workers") or "_workers_" in c or c.endswith("_sites_not")]:
        old[col] = old[col].astype(float).mask(small)
    found = _area_attacks(old, truth.set_index("area_id"), K)
    assert found  # the old rule leaks: some hidden cell is given back exactly


def test_report_curve_uses_published_figures_only(user_run):
    # The per-site step curve gave each site's minutes to 1 min; public mode plots the coverage table.
    result, files, ifiles = user_run
    summ = json.loads(Path(files["summary.json"]).read_text())
    x, y = privacy.published_curve(summ["coverage"], "hospital")
    shares = {float(c["threshold_min"]): c["workers_covered_share"] for c in summ["coverage"] if c["category"] == "hospital"}
    assert x == sorted(t for t, v in shares.items() if v is not None) and y == [shares[t] for t in x]
    assert Path(files["report.html"]).read_bytes() != Path(ifiles["report.html"]).read_bytes()


def test_console_prints_only_published_figures(mirror, tmp_path):
    from click.testing import CliRunner

    from gapmap.cli import main

    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    public = pd.read_csv(tmp_path / "areas.csv", dtype={"area_id": str}).set_index("area_id")
    lines = {ln.split("  ")[1].strip(): ln for ln in res.stdout.splitlines() if ln.startswith("  Ward")}
    assert len(lines) == 6  # the six wards, each printed or marked suppressed
    for name, ln in lines.items():
        row = public[public["area_name"] == name].iloc[0]
        if pd.isna(row["workers"]):
            assert "suppressed" in ln
        else:
            assert f"{int(row['workers']):,}" in ln
    # The region line and the printed wards leave what is hidden at >= k (no "region minus wards").
    shown = sum(int(public.loc[a, "workers"]) for a in public.index[:-1] if not pd.isna(public.loc[a, "workers"]))
    rest = int(public.loc["region", "workers"]) - shown
    assert rest == 0 or rest >= K


def test_internal_run_warns(mirror, tmp_path):
    from click.testing import CliRunner

    from gapmap.cli import main

    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q", "--privacy", "internal"])
    assert res.exit_code == 0 and "WARNING: --privacy internal" in res.stderr


def test_whatif_after_and_change_follow_the_rule():
    areas = pd.DataFrame({"area_id": ["a", "b", "c", "region"], "area_name": list("abcr"), "sites": [1, 10, 12, 23],
                          "workers": [10, 100, 120, 230], "x_30min_workers_not": [None, 50, 60, 120], "suppressed": [True, False, False, False]})
    whatif = pd.DataFrame({"area_id": ["a", "b", "c", "region"], "area_name": list("abcr"), "sites": [1, 10, 12, 23],
                           "workers": [10, 100, 120, 230], "population": [1.0, 2.0, 3.0, 6.0],
                           "x_30min_workers_not_before": [10, 50, 60, 120], "x_30min_workers_not_after": [10, 47, 60, 117],
                           "x_30min_workers_not_change": [0, -3, 0, -3]})
    out = privacy.public_whatif(whatif, areas, K).set_index("area_id")
    assert out.loc["a", ["workers", "x_30min_workers_not_before", "x_30min_workers_not_after"]].isna().all()
    # b's change of 3 workers is below k: hidden, and with it one more so region minus c does not give it back.
    assert pd.isna(out.loc["b", "x_30min_workers_not_change"]) and pd.isna(out.loc["b", "x_30min_workers_not_after"])
    pub_after = pd.to_numeric(out["x_30min_workers_not_after"], errors="coerce")
    hidden = pub_after.iloc[:-1].isna().sum()
    assert hidden >= 2 or pd.isna(pub_after["region"])


def _hex_inside(hexes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Published hexagons lying wholly in each area (what a reader can subtract exactly)."""
    out = {}
    for a in areas.itertuples():
        inside = hexes[hexes.geometry.buffer(-1).within(a.geometry)]
        out[a.area_id] = inside["hex_id"].tolist()
    return out


@pytest.mark.parametrize("which", ["ck", "user"])
def test_hexes_vs_areas_and_region_differencing_recovers_nothing(which, ck_run, user_run):
    result, files = ck_run if which == "ck" else user_run[:2]
    hexes = gpd.read_file(files["layers.gpkg"], layer="hexes")
    areas = gpd.read_file(files["layers.gpkg"], layer="areas")
    public_areas = pd.read_csv(files["areas.csv"], dtype={"area_id": str}).set_index("area_id")
    pub = hexes[hexes["workers"].notna()]
    # True per-hexagon counts, independently from the site points.
    ll = result.sites.geometry.to_crs("EPSG:4326")
    import h3

    true_hex = pd.Series([h3.latlng_to_cell(y, x, result.settings.hex_resolution) for x, y in zip(ll.x, ll.y)])
    hidden_hexes = set(true_hex) - set(pub["hex_id"])
    assert hidden_hexes, "the run must have suppressed hexagons to attack"
    # No suppressed hexagon id is published anywhere (site layer, hexes with people keep only blanks).
    sites_layer = gpd.read_file(files["layers.gpkg"], layer="worker_hexagons")
    assert not set(sites_layer["hex_id"]) & hidden_hexes
    assert hexes.loc[hexes["hex_id"].isin(hidden_hexes), ["workers", "sites"]].isna().all().all()
    zero = hexes[(hexes["people"] > 0) & ~hexes["hex_id"].isin(set(true_hex))]
    assert zero["workers"].isna().all()  # zero and suppressed look the same
    inside = _hex_inside(pub.to_crs(areas.crs), areas)
    region = public_areas.loc["region"]
    for col in ("sites", "workers"):
        if not pd.isna(region[col]):
            rest = float(region[col]) - pub[col].astype(float).sum()
            assert rest == 0 or rest >= K, f"region minus hexagons: {col} {rest}"
        for area_id, ids in inside.items():
            total = public_areas.loc[area_id, col]
            if pd.isna(total):
                continue
            rest = float(total) - pub.loc[pub["hex_id"].isin(ids), col].astype(float).sum()
            assert rest == 0 or rest >= K, f"{area_id} minus its hexagons: {col} {rest}"
    # The summary's privacy section gives no per-hexagon or small count either.
    stats = json.loads(Path(files["summary.json"]).read_text())["privacy"]
    assert stats["mode"] == "public" and stats["k"] >= K


def test_three_worker_site_is_in_no_published_cell_below_k(user_run):
    result, files, _ = user_run
    small = result.sites[result.sites["workers"] == 3]
    assert len(small) == 1
    area_id = small["area_id"].iloc[0]
    public = pd.read_csv(files["areas.csv"], dtype={"area_id": str}).set_index("area_id")
    assert pd.isna(public.loc[area_id, "workers"])  # its ward has 3 sites / 101 workers: hidden
    for name in ("hexes.csv", "areas.csv"):
        t = pd.read_csv(files[name])
        for col in [c for c in t.columns if c in ("sites", "workers") or "_workers_" in c and not c.endswith("_share")]:
            v = pd.to_numeric(t[col], errors="coerce").dropna()
            assert not ((v > 0) & (v < K)).any(), f"{name}:{col} publishes a count below k"


def test_comparison_vs_areas_recovers_nothing(ck_run):
    from gapmap.batch import RegionOutcome, comparison_table

    result, files = ck_run
    summ = json.loads(Path(files["summary.json"]).read_text())
    comp = comparison_table([RegionOutcome("chatham-kent", result.region.name, "ON", "ok", summary=summ)], result.settings)
    areas = pd.read_csv(files["areas.csv"], dtype={"area_id": str})
    region = areas.iloc[-1]
    row = comp.iloc[0]
    pre = f"{result.settings.headline_category}_{result.settings.headline_threshold:g}min"
    # comparison.csv repeats the region row (or less): it adds nothing a subtraction could use.
    for comp_col, area_col in (("sites", "sites"), ("workers", "workers"), ("workers_beyond", f"{pre}_workers_not")):
        if not pd.isna(row[comp_col]):
            assert float(row[comp_col]) == float(region[area_col])
    patched = areas.copy()
    patched.loc[patched.index[-1], "workers"] = row["workers"]
    assert _area_attacks(patched, _truth(result), K) == []


@pytest.mark.parametrize("which", ["ck", "user"])
def test_rejects_carry_only_fsa(which, ck_run, user_run):
    _, files = ck_run if which == "ck" else user_run[:2]
    if "rejects.csv" in files:
        assert not POSTAL.search(Path(files["rejects.csv"]).read_text(encoding="utf-8"))
    assert not POSTAL.search(Path(files["summary.json"]).read_text(encoding="utf-8"))


def test_internal_keeps_the_full_site_table(user_run):
    _, _, ifiles = user_run
    table = pd.read_csv(ifiles["sites.csv"])
    assert len(table) == 17 and {"employer", "lon", "lat", "hospital_km", "hospital_nearest_id"} <= set(table.columns)


def test_public_recommendations_show_no_small_or_single_site_count(mirror, tmp_path):
    # With the user file, each recommended place newly covers one site (90 and 16 workers):
    # one employer each, so the counts are blank; people counts stay.
    import gapmap

    result, files = gapmap.run("chatham-kent", out_dir=tmp_path, sites_file=str(USER_SITES), recommend=3)
    recs = pd.read_csv(files["recommendations.csv"])
    assert len(recs) >= 1 and recs["workers_newly_covered"].isna().all() and recs["people_newly_covered"].notna().all()
    totals = json.loads(Path(files["summary.json"]).read_text())["recommendations"]["totals"]
    # The region's 30-min hospital coverage is blank in public mode (2 sites beyond): the siting
    # totals must not give it back.
    assert totals["workers_covered_before"] is None and totals["workers_covered_after"] is None


@pytest.mark.parametrize("which", ["ck", "user"])
def test_threshold_bands_give_no_small_group(which, ck_run, user_run):
    # "beyond 15 min" minus "beyond 30 min" of one row is the sites between 15 and 30 min.
    result, files = ck_run if which == "ck" else user_run[:2]
    for name, site_col in (("areas.csv", "_sites_not"), ("hexes.csv", None)):
        table = pd.read_csv(files[name])
        for cat in result.settings.categories:
            ts = sorted(result.settings.thresholds_min)
            for i, lo in enumerate(ts):
                for hi in ts[i + 1:]:
                    for suffix in ([site_col] if site_col else []) + ["_workers_not"]:
                        a = pd.to_numeric(table[f"{cat}_{lo:g}min{suffix}"], errors="coerce")
                        b = pd.to_numeric(table[f"{cat}_{hi:g}min{suffix}"], errors="coerce")
                        d = (a - b).dropna()
                        assert not ((d > 0) & (d < K)).any(), f"{name} {cat} {lo:g}-{hi:g} min{suffix}: {d[(d > 0) & (d < K)].tolist()}"


@pytest.mark.parametrize("which", ["ck", "user"])
def test_hexagon_breakdowns_vs_region_recover_nothing(which, ck_run, user_run):
    result, files = ck_run if which == "ck" else user_run[:2]
    hexes = pd.read_csv(files["hexes.csv"])
    region = pd.read_csv(files["areas.csv"]).iloc[-1]
    for col in [c for c in hexes.columns if c.endswith("_workers_not")]:
        if pd.isna(region.get(col)):
            continue
        vals = pd.to_numeric(hexes[col], errors="coerce")
        rest = float(region[col]) - vals.sum()
        assert rest == 0 or rest >= K, f"region minus hexagons, {col}: {rest}"


def test_precision_tally_cannot_be_differenced_from_the_site_total():
    """summary.json's sites-by-precision tally: a blanked count must not be the total minus the others."""
    import geopandas as gpd
    import gapmap
    from gapmap.output import files as out_files

    result = gapmap.analyze("chatham-kent", network="straight")
    # A real run with one site moved to another precision: 90 community/post-office sites + 1 postal-area site.
    sites = result.sites.copy()
    sites.loc[sites.index[0], "geocode_precision"] = "postal_area"
    result.sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=result.sites.crs)
    summ = out_files.summary(result, None, [])
    tally = summ["layers"]["sites"]["geocode_precision"]
    total = summ["layers"]["sites"]["features"]
    shown = [v for v in tally.values() if v is not None]
    hidden = [k for k, v in tally.items() if v is None]
    assert hidden, tally  # the single postal-area site is blanked
    # What the published tallies leave over for the blanked ones is 0 (all blank) or at least k sites.
    assert total is None or not shown or total - sum(shown) >= 5


def test_placement_sentences_carry_no_small_site_count_in_public(mirror):
    """Kingston has 1 site at a postal-code point and 2 at post offices (internal run): the public
    approximations (summary.json, map, report in EN and FR) must not state those counts."""
    from gapmap import pipeline
    from gapmap.output.i18n import render

    internal = pipeline.analyze("kingston", settings=Settings(privacy="internal"))
    tally = internal.sites["geocode_precision"].value_counts()
    assert any(1 <= n <= 4 for n in tally), "the case needs a small placement count"
    public = pipeline.analyze("kingston", settings=Settings(privacy="public"))
    placed = [a for a in public.approximations if a.startswith("Sites are not at farm addresses")]
    assert len(placed) == 1
    for text in (str(placed[0]), render(placed[0], "fr")):
        # Besides distances ("about 1 km", "30+ km"), the only number left is the threshold k (5).
        assert re.findall(r"\d+", re.sub(r"\d+\+?[\s\u00a0]km", "", text)) == ["5"], text
    assert re.search(r"\b1 at their own urban postal-code point", next(
        a for a in internal.approximations if a.startswith("Sites are not at farm addresses")))


def test_postal_area_figures_do_not_give_back_the_area_unknown_row(mirror):
    """Durham: 'area unknown' publishes its 548 workers; 3 of them are within 15 min of primary care
    (a small cell, so that row's figures are blank). The postal-area column (beyond, at postal-area
    centroids) is the same set of sites: published, 548 minus it would give the 3 back."""
    from gapmap import pipeline

    internal = pipeline.analyze("durham", settings=Settings(privacy="internal"))
    s = internal.sites
    unknown = s[s["area_id"] == "unknown"]
    within = unknown.loc[unknown["primary_care_within_15min"].astype(bool), "workers"].sum()
    assert 1 <= within <= 4, "the case needs a small postal-area count within 15 min"
    public = pipeline.analyze("durham", settings=Settings(privacy="public")).published().areas
    rows = public.set_index("area_id")
    for col in [c for c in public.columns if c.endswith("_workers_not_postal_area")]:
        m = col.removesuffix("_workers_not_postal_area")
        for row in ("unknown", privacy.REGION):
            shown = rows.loc[row, col]
            if pd.isna(rows.loc["unknown", f"{m}_workers_not"]):
                assert pd.isna(shown), (row, col)
            if not pd.isna(shown) and not pd.isna(rows.loc["unknown", "workers"]):
                assert not (0 < rows.loc["unknown", "workers"] - shown < 5), (row, col)


@pytest.mark.parametrize("dtype", [object, "string", str])
def test_public_rejects_cut_postal_codes_in_every_text_dtype(dtype):
    rejects = pd.DataFrame({"layer": ["sites"], "source": ["lmia.csv"], "row": [7],
                            "reason": ["could not geocode: N0P 2L0 Ridgetown"]}).astype({"reason": dtype})
    out = privacy.public_rejects(rejects)
    assert out.loc[0, "reason"] == "could not geocode: N0P Ridgetown"
    assert out["reason"].dtype == rejects["reason"].dtype


def test_public_rejects_repeated_and_missing_values():
    """Each row cut alike when texts repeat (they are cut once per distinct text); blanks stay blank."""
    rejects = pd.DataFrame({"layer": ["sites"] * 4, "source": ["lmia.csv"] * 4, "row": [2, 3, 4, 5],
                            "reason": ["at N0P 2L0", None, "at N0P 2L0", "at K1A0B1 and N0P2L0"]})
    out = privacy.public_rejects(rejects)
    assert out["reason"].tolist()[:1] + out["reason"].tolist()[2:] == ["at N0P", "at N0P", "at K1A and N0P"]
    assert pd.isna(out.loc[1, "reason"]) and out["row"].tolist() == [2, 3, 4, 5]
    assert out["source"].tolist() == ["lmia.csv"] * 4
