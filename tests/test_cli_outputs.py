"""The CLI through click's runner, the output contract, privacy and determinism."""

import json
import re

import geopandas as gpd
import pandas as pd
import pyogrio
from click.testing import CliRunner

from gapmap.cli import main


def _one_line_error(res):
    assert res.exit_code != 0
    # stderr also carries progress ("[n/5] ...", indented details, "note: ..."): the error is one line of its own.
    lines = res.stderr.splitlines()
    errors = [line for line in lines if line.startswith(("Error", "Internal error"))]
    assert len(errors) == 1 and errors[0].startswith("Error: ") and lines[-1] == errors[0], res.stderr
    assert "Traceback" not in res.output + res.stderr
    return errors[0]


def test_analyze_ck_writes_the_contract(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output + res.stderr
    assert "straight-line approximation" in res.stdout
    for name in ["map.html", "layers.gpkg", "project.qgz", "areas.csv", "summary.json", "rejects.csv", "report.html", "hexes.csv"]:
        assert (tmp_path / name).stat().st_size > 0
    assert not (tmp_path / "sites.csv").exists()  # per employer: internal mode only (docs/privacy.md)
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "layers.gpkg")}
    assert layers == {"boundary", "areas", "services", "worker_hexagons", "population", "catchments", "hexes", "layer_styles"}
    summ = json.loads((tmp_path / "summary.json").read_text())
    for name, lay in summ["layers"].items():
        assert lay["rows_read"] == lay["rows_used"] + lay["rows_rejected"], name
        assert lay["sources"] and all(s["licence"] for s in lay["sources"])
    assert summ["layers"]["population"]["population"] == summ["layers"]["population"]["census_total"] == 104316
    assert summ["layers"]["services"]["in_region_by_category"]["hospital"] == 2
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert len(rejects) == sum(lay["rows_rejected"] for lay in summ["layers"].values())
    assert list(rejects.columns) == ["layer", "source", "row", "reason"]
    cov = pd.DataFrame(summ["coverage"])
    assert len(cov) == 2 * 3  # hospital, primary_care x 15/30/60
    assert (cov["method"].str.contains("straight-line approximation")).all()
    # Coverage grows with the threshold.
    for cat, g in cov.groupby("category"):  # (public mode may blank some; the published ones still grow)
        assert g.sort_values("threshold_min")["workers_covered"].dropna().is_monotonic_increasing
    head = summ["headline"]
    # Public mode blanks the wards with fewer than 5 sites; the others add up to at most the total.
    shown = [a["workers_beyond"] for a in head["by_area"] if not a["suppressed"]]
    assert all(v is None or v >= 5 or v == 0 for v in shown)
    if head["workers_beyond"] is not None:  # CK: 14 workers at 2 sites beyond 30 min: blank in public mode
        assert sum(v or 0 for v in shown) <= head["workers_beyond"]
    # Issue 14: Wheatley's 4 sites now sit in ward 1 (with Merlin's), so no ward has fewer than 5 sites.
    assert [a["area_id"] for a in head["by_area"] if a["suppressed"]] == []
    assert any("straight-line" in a for a in summ["method"]["approximations"])


def test_area_table_agrees_with_site_table(ck_run):
    result, files = ck_run
    sites = pd.DataFrame(result.sites.drop(columns="geometry"))  # the per-site table is not published in public mode
    areas = pd.read_csv(files["areas.csv"]).set_index("area_id")
    # Clinical primary care at 30 min: 16 sites beyond, in several wards (hospital's 2 sites are suppressed).
    beyond = sites[~sites["primary_care_within_30min"]].groupby("area_id")["workers"].sum()
    published = 0
    for area, n in beyond.items():
        if not pd.isna(areas.loc[area, "primary_care_30min_workers_not"]):  # blank: suppressed
            assert areas.loc[area, "primary_care_30min_workers_not"] == n
            published += 1
    assert published >= 1
    assert areas.loc["region", "workers"] == sites["workers"].sum()
    coarse = sites[(sites["geocode_precision"] == "postal_area") & ~sites["hospital_within_30min"]]["workers"].sum()
    # Issue 14: every Chatham-Kent site has a community or post-office point now, none an FSA centroid.
    published = areas.loc["region", "hospital_30min_workers_not_postal_area"]  # blank with its suppressed measure
    assert coarse == 0 and (pd.isna(published) or published == 0)
    assert "unknown" not in areas.index
    assert json.loads(files["summary.json"].read_text())["headline"]["workers_beyond_at_postal_area_centroids"] in (None, 0)
    # Independent re-derivation of a site's minutes from its km: km x 1000 / (60 km/h) in min.
    assert (sites["hospital_min"] - sites["hospital_km"] / 60 * 60).abs().max() < 0.06


def _near_any(coords, sites_4326, tol_deg=5e-5):
    """True when any (lon, lat) pair lies within ~5 m of a site point."""
    import numpy as np

    if not len(coords):
        return False
    arr = np.asarray(coords, dtype=float)
    for pt in sites_4326.geometry:
        if (np.abs(arr[:, 0] - pt.x) < tol_deg).__and__(np.abs(arr[:, 1] - pt.y) < tol_deg).any():
            return True
    return False


def test_public_outputs_hold_no_site_coordinate(ck_run):
    import shapely

    from gapmap.sources import catalog

    result, files = ck_run
    sites = result.sites.to_crs("EPSG:4326")
    html = files["map.html"].read_text()
    pairs = [(float(a), float(b)) for a, b in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", html)]
    # The map labels every public place of the region (the cited community points and the rural post offices,
    # whether or not a site names them, issue 17): such a point says nothing about sites, but a site
    # geocoded to a community sits on it. Leave those published place points out of the check; every
    # other coordinate must be far from every site.
    places = pd.concat([pd.read_csv(catalog.resolve(d))[["latitude", "longitude"]]
                        for d in ("ck_communities", "postal_points_rural_ontario")])
    from scipy.spatial import cKDTree

    tree = cKDTree(places[["longitude", "latitude"]].to_numpy(float))
    is_place = lambda xy: tree.query(xy, distance_upper_bound=5e-5)[0] < 5e-5  # noqa: E731
    pairs = [p for p in pairs if not is_place(p) and not is_place((p[1], p[0]))]
    # Leaflet markers are [lat, lon], GeoJSON is [lon, lat]: check both orders.
    assert not _near_any(pairs, sites) and not _near_any([(b, a) for a, b in pairs], sites)
    for layer, geom_type in pyogrio.list_layers(files["layers.gpkg"]):
        if geom_type is None:  # layer_styles (QGIS styles), no geometry
            continue
        gdf = gpd.read_file(files["layers.gpkg"], layer=layer).to_crs("EPSG:4326")
        coords = shapely.get_coordinates(gdf.geometry.values)
        assert not _near_any(coords, sites), layer
    gp = gpd.read_file(files["layers.gpkg"], layer="worker_hexagons")
    assert set(gp.geom_type) == {"Polygon"}
    assert (gp["sites"] >= 5).all() and (gp["workers"] >= 5).all()
    assert "sites.csv" not in files


def test_privacy_check_detects_points(ck_run, tmp_path):
    """The coordinate check above is not vacuous: internal outputs do trip it."""
    import gapmap
    from gapmap.settings import Settings

    result, _ = ck_run
    internal = gapmap.analyze("chatham-kent", settings=Settings(privacy="internal"))
    files = gapmap.write_outputs(internal, tmp_path)
    html = files["map.html"].read_text()
    pairs = [(float(b), float(a)) for a, b in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", html)]
    assert _near_any(pairs, result.sites.to_crs("EPSG:4326"))


def test_map_is_self_contained(ck_run):
    _, files = ck_run
    html = files["map.html"].read_text()
    assert not re.search(r'<script[^>]+src="http', html)
    assert not re.search(r'<link[^>]+href="http', html)
    assert "L.map(" in html and "straight-line approximation" in html
    # No Chatham-Kent site rests on a GeoNames FSA centroid any more (issue 14); the postal-code points
    # that place Wheatley & co. are credited, with their unstated licence.
    for attribution in ["Statistics Canada", "ESDC", "CGNDB", "OpenStreetMap", "cazipcode 0.0.2, publisher unknown, licence not stated"]:
        assert attribution in html


def test_same_inputs_same_bytes(mirror, ck_run, tmp_path):
    import gapmap

    _, first = ck_run
    _, second = gapmap.run("chatham-kent", out_dir=tmp_path)
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name


def test_internal_mode_shows_points(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q", "--privacy", "internal"])
    assert res.exit_code == 0
    assert {"lon", "lat"} <= set(pd.read_csv(tmp_path / "sites.csv").columns)
    assert "INTERNAL" in (tmp_path / "map.html").read_text()


def test_unknown_region(mirror):
    err = _one_line_error(CliRunner().invoke(main, ["analyze", "--region", "atlantis"]))
    assert "Unknown region 'atlantis'" in err


def test_missing_dataset(tmp_path):
    err = _one_line_error(CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--data-dir", str(tmp_path),
                                                    "--out", str(tmp_path / "o")]))
    assert "ck_wards" in err and str(tmp_path) in err


def test_malformed_services_csv(mirror, tmp_path):
    bad = tmp_path / "svc.csv"
    bad.write_text("name;category;lat\nx;y;z\n")
    err = _one_line_error(CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--services", str(bad),
                                                    "--out", str(tmp_path / "o")]))
    assert str(bad) in err and "has no coordinate columns" in err  # ";" is sniffed: name, category, lat only


def test_user_services_and_options(mirror, tmp_path):
    svc = tmp_path / "svc.csv"
    # A category ODHF lacks (settlement) comes only from the user's file; "clinic" is now an alias of primary_care.
    svc.write_text("name,category,latitude,longitude\nNewcomer centre,settlement,42.33,-81.99\nBad row,settlement,north,west\n")
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--services", str(svc), "--category", "settlement",
                                    "--threshold", "10", "--threshold", "20", "--speed", "drive=50", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.stderr
    summ = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summ["settings"]["headline"] == {"category": "settlement", "threshold_min": 20.0}
    assert summ["layers"]["services"]["rejected_by_reason"]["latitude/longitude not a number ('north', 'west')"] == 1
    assert "50 km/h" in summ["method"]["travel_time"]


def test_regions_command(mirror):
    res = CliRunner().invoke(main, ["regions"])
    assert res.exit_code == 0
    lines = [l for l in res.stdout.splitlines() if re.match(r"^[a-z]", l) and not l.startswith("slug")]
    assert len(lines) == 41  # the 38 LIPs of the 2012-13 annex and 3 formed later
    assert sum(" | yes | " in l for l in lines) == 38
    ck = next(l for l in lines if l.startswith("chatham-kent"))
    assert "ward file" in ck and "population" in ck


def test_region_without_lmia_or_primary_care_runs_with_notes(mirror, tmp_path):
    """Calgary: no offline LMIA list for Alberta and no ODHF primary care nearby: run, and say so."""
    res = CliRunner().invoke(main, ["analyze", "--region", "calgary", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert summ["layers"]["sites"]["features"] == 0
    assert any("No offline LMIA employer list for AB" in n for n in summ["notes"])
    assert summ["settings"]["categories"] == ["hospital"]
    # Calgary renumbered many DAs after 2016: those have no offline point, and the summary says how many.
    assert summ["layers"]["population"]["population"] > 900_000
    new_das = summ["layers"]["population"]["rejected_by_reason"]["DA has no 2016 representative point (new since 2016)"]
    assert any(n.startswith(f"{new_das} DAs (") for n in summ["notes"])
    # Asking for the missing category explicitly is an error, not a silent drop.
    res = CliRunner().invoke(main, ["analyze", "--region", "calgary", "--category", "primary_care", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 2 and "No services of category 'primary_care'" in res.stderr


def test_french_labels_and_report(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--lang", "fr", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    html = (tmp_path / "map.html").read_text()
    # Layer names sit inside JavaScript strings, where folium writes non-ASCII as \u escapes.
    assert "Limite de la r\\u00e9gion" in html and "Services : h\\u00f4pital" in html and "Légende" in html
    report = (tmp_path / "report.html").read_text()
    assert "<html lang='fr'>" in report and "Où sont les lacunes" in report and report.count("data:image/png;base64,") == 4


def test_internal_headline_adds_up(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--privacy", "internal", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0
    head = json.loads((tmp_path / "summary.json").read_text())["headline"]
    assert head["workers_beyond"] == sum(a["workers_beyond"] for a in head["by_area"])
    areas = pd.read_csv(tmp_path / "areas.csv")
    assert areas["sites"].notna().all()  # nothing suppressed in internal mode


def test_python_api_and_cli_give_the_same_files(ck_run, tmp_path):
    """`gapmap.run("chatham-kent")` (Jupyter) and `gapmap analyze --region chatham-kent` share every
    default, the road network's included: the same bytes."""
    _, api_files = ck_run
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(api_files)
    for name, path in api_files.items():
        assert (tmp_path / name).read_bytes() == path.read_bytes(), name
