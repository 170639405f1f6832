"""The GeoPackage's QGIS styles and ``project.qgz``, checked in real QGIS (headless).

PyQGIS runs under the system Python (Debian's ``qgis`` / ``python3-qgis``, which ``.ci/run``
installs) as a subprocess with ``QT_QPA_PLATFORM=offscreen`` (``qgis_probe.py``). Only the
tests that need QGIS skip where it cannot be imported.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pyogrio
import pytest

from gapmap.output import qgis

SYSTEM_PYTHON = os.environ.get("GAPMAP_QGIS_PYTHON", "/usr/bin/python3")  # the Python that has PyQGIS
PROBE = Path(__file__).with_name("qgis_probe.py")


def _qgis_missing() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    res = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    last = (res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
    return None if res.returncode == 0 else f"{SYSTEM_PYTHON} cannot import qgis.core: {last}"


@pytest.fixture(scope="module")
def probe(ck_run, tmp_path_factory):
    """Real QGIS opens the default Chatham-Kent outputs and renders the project to a PNG."""
    why = _qgis_missing()
    if why:
        pytest.skip(f"QGIS is not installed ({why}); .ci/run installs Debian's qgis and python3-qgis")
    _, files = ck_run
    png = tmp_path_factory.mktemp("qgis") / "project.png"
    res = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(files["layers.gpkg"].parent), str(png)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                         cwd=png.parent)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1]), png, files, ck_run[0].settings


def test_project_loads_without_errors_and_every_layer_is_valid(probe):
    out, _, files, _ = probe
    assert out["read"] is True and out["error"] == ""
    assert out["bad_layers"] == []
    gpkg_layers = {n for n, _ in pyogrio.list_layers(files["layers.gpkg"])} - {"layer_styles"}
    assert set(out["layers"]) == gpkg_layers
    assert all(lay["valid"] and lay["features"] > 0 for lay in out["layers"].values())
    assert out["crs"] == "EPSG:26917"
    # relative path: the project opens the GeoPackage beside it
    with zipfile.ZipFile(files["project.qgz"]) as z:
        qgs = z.read("project.qgs").decode()
    assert "./layers.gpkg|layername=areas" in qgs and str(files["layers.gpkg"].parent) not in qgs
    assert out["messages"] == [], out["messages"]


def test_each_layer_has_the_web_map_symbology(probe):
    out, _, files, s = probe
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    lay = out["layers"]
    areas = lay["areas"]
    assert areas["renderer"] == "graduatedSymbol" and f'"{pre}_workers_not_share"' in areas["attr"]
    assert len(areas["classes"]) == 6 and areas["features_without_symbol"] == 0  # 5 classes + "no figures"
    assert lay["worker_hexagons"]["renderer"] == "graduatedSymbol"
    assert f'"{pre}_workers_not"' in lay["worker_hexagons"]["attr"]
    assert lay["worker_hexagons"]["features_without_symbol"] == 0
    assert lay["hexes"]["renderer"] == "graduatedSymbol" and lay["hexes"]["features_without_symbol"] == 0
    services = lay["services"]
    svc = pyogrio.read_dataframe(files["layers.gpkg"], layer="services", read_geometry=False)
    assert services["renderer"] == "categorizedSymbol" and services["attr"] == "category"
    assert len(services["classes"]) == svc["category"].nunique()
    assert services["shown"] == ["hospital", "primary care clinic"]  # the analysed categories, as on the web map
    assert services["features_without_symbol"] == int((~svc["category"].isin(["hospital", "primary_care"])).sum())
    catch = lay["catchments"]
    cat_df = pyogrio.read_dataframe(files["layers.gpkg"], layer="catchments", read_geometry=False)
    assert catch["renderer"] == "categorizedSymbol" and len(catch["classes"]) == len(cat_df) == 6
    assert catch["shown"] == ["hospital · within 15 min", "hospital · within 30 min", "hospital · within 60 min"]
    assert catch["features_without_symbol"] == int((cat_df["category"] != "hospital").sum())  # hidden, not unmatched
    assert lay["boundary"]["renderer"] == "singleSymbol"
    assert out["visible"] == ["services", "worker_hexagons", "boundary", "catchments", "areas"]


def test_layers_loaded_from_the_geopackage_get_their_style(probe):
    """``layer_styles``: QGIS applies the default style when a layer is added from the GeoPackage alone."""
    out, _, _, _ = probe
    for name, lay in out["from_gpkg"].items():
        assert lay["valid"], name
        assert lay["renderer"] == out["layers"][name]["renderer"], name
    assert out["from_gpkg"]["areas"]["classes"] == 6 and out["from_gpkg"]["areas"]["alias_areas"] == "Area"


def test_fields_have_human_aliases_and_booleans(probe):
    out, _, _, _ = probe
    aliases = out["layers"]["areas"]["aliases"]
    assert aliases["hospital_60min_workers_not_share"] == "Share of workers beyond 60 min of a hospital"
    assert aliases["primary_care_30min_workers_not_upper"] == "Workers beyond 30 min of a primary care clinic (high estimate)"
    named = [f for f, a in aliases.items() if f != "fid"]
    assert named and all(aliases[f] and "_" not in aliases[f] for f in named)
    assert out["layers"]["areas"]["bool_fields"] == ["suppressed"]
    assert out["layers"]["services"]["bool_fields"] == ["in_region"]
    assert "hospital_within_60min" in out["layers"]["population"]["bool_fields"]
    assert out["layers"]["services"]["aliases"]["in_region"] == "In the region"


def test_project_renders_to_a_png_that_is_not_blank(probe):
    out, png, _, _ = probe
    r = out["render"]
    assert png.stat().st_size > 10_000 and r["errors"] == []
    assert r["non_background"] > 0.2 * r["sampled"]  # the region fills much of the frame
    assert r["colours"] > 20  # shaded areas, bands and markers, not one flat colour


def test_geopackage_styles_table_and_booleans(ck_run):
    """The ``layer_styles`` table has QGIS's columns, one default style per layer; booleans have the Boolean subtype."""
    _, files = ck_run
    gpkg = files["layers.gpkg"]
    info = pyogrio.read_info(gpkg, layer="layer_styles")
    assert list(info["fields"]) == ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                                    "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]
    with sqlite3.connect(gpkg) as db:
        rows = db.execute("SELECT f_table_name, f_table_schema, f_geometry_column, useAsDefault, styleQML FROM layer_styles").fetchall()
        subtypes = dict(db.execute("SELECT column_name, mime_type FROM gpkg_data_columns WHERE table_name='services'").fetchall()
                        ) if db.execute("SELECT 1 FROM sqlite_master WHERE name='gpkg_data_columns'").fetchone() else {}
        version = db.execute("PRAGMA user_version").fetchone()[0]
    layers = {n for n, _ in pyogrio.list_layers(gpkg)} - {"layer_styles"}
    assert {r[0] for r in rows} == layers and len(rows) == len(layers)
    assert all(r[1] == "" and r[2] == "geom" and r[3] == 1 and r[4].startswith("<!DOCTYPE qgis") for r in rows)
    assert "worker_hexagons" in layers and "sites" not in layers  # public mode: hexagons, named as such
    assert version == 10200 and subtypes.get("in_region") is None
    svc = pyogrio.read_dataframe(gpkg, layer="services", read_geometry=False)
    assert svc["in_region"].dtype == bool


def test_outputs_are_byte_identical(ck_run, tmp_path):
    """Same inputs, same bytes: the styled GeoPackage and the zipped project."""
    import gapmap

    result, files = ck_run
    again = gapmap.write_outputs(result, tmp_path)
    for name in ("layers.gpkg", "project.qgz"):
        assert again[name].read_bytes() == files[name].read_bytes(), name
    with zipfile.ZipFile(again["project.qgz"]) as z:
        assert [i.date_time for i in z.infolist()] == [(2000, 1, 1, 0, 0, 0)]


def test_french_aliases_and_labels():
    assert qgis.alias("hospital_60min_workers_not_share", "fr") == "Part des travailleurs à plus de 60 min d'un hôpital"
    assert qgis.alias("library_within_30min", "fr") == "À moins de 30 min d'une bibliothèque"
    assert qgis.alias("in_region", "fr") == "Dans la région"
    assert qgis.alias("primary_care_min", "en") == "Minutes to the nearest primary care clinic"
    assert qgis.alias("some_new_column") == "Some new column"
    assert qgis.alias("primary_care_nearest", "fr") == "Clinique de soins primaires la plus proche"
    assert qgis.alias("hospital_nearest", "fr") == "Hôpital le plus proche"


def test_internal_french_project_with_recommendations_in_qgis(mirror, tmp_path):
    """Internal mode (site points as ``sites``), French names and a recommendations layer, in real QGIS."""
    why = _qgis_missing()
    if why:
        pytest.skip(f"QGIS is not installed ({why}); .ci/run installs Debian's qgis and python3-qgis")
    import gapmap
    from gapmap.settings import Settings

    result, files = gapmap.run("chatham-kent", out_dir=tmp_path / "o", recommend=1,
                               settings=Settings(privacy="internal", lang="fr"))
    png = tmp_path / "fr.png"
    res = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(files["layers.gpkg"].parent), str(png)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["read"] and out["bad_layers"] == [] and out["messages"] == []
    lay = out["layers"]
    assert {"sites", "recommendations"} <= set(lay) and "worker_hexagons" not in lay
    assert lay["sites"]["features"] == len(result.sites) and lay["recommendations"]["features"] >= 1
    assert lay["areas"]["name"].startswith("Secteurs")
    assert lay["areas"]["classes"][0] == "aucun chiffre (aucun site ou masqué)"
    assert lay["catchments"]["shown"][0] == "hôpital · à moins de 15 min"
    assert lay["areas"]["aliases"]["workers"] == "Travailleurs (est.)"
    assert out["visible"][:3] == ["recommendations", "services", "sites"]
    assert out["render"]["non_background"] > 0.2 * out["render"]["sampled"] and out["render"]["errors"] == []


def test_transit_layers_load_and_draw_in_qgis(tmp_path):
    """Transit routes take their GTFS colour (a bad value falls back); stops load hidden, as on the web map."""
    why = _qgis_missing()
    if why:
        pytest.skip(f"QGIS is not installed ({why}); .ci/run installs Debian's qgis and python3-qgis")
    import geopandas as gpd
    import shapely

    from gapmap.output import files
    from gapmap.settings import Settings

    s = Settings()
    crs = "EPSG:26917"
    layers = {
        "boundary": gpd.GeoDataFrame({"region": ["x"], "name": ["X"]}, geometry=[shapely.box(400000, 4600000, 420000, 4620000)], crs=crs),
        "transit_routes": gpd.GeoDataFrame(
            {"route_id": ["1", "2"], "route_short_name": ["1", "2"], "route_long_name": ["A", "B"], "color": ["FF0000", "bad"]},
            geometry=[shapely.LineString([(401000, 4601000), (419000, 4619000)]),
                      shapely.LineString([(401000, 4619000), (419000, 4601000)])], crs=crs),
        "transit_stops": gpd.GeoDataFrame({"stop_id": ["a"], "stop_name": ["A"], "trips_per_hour": [2.0]},
                                          geometry=[shapely.Point(410000, 4610000)], crs=crs),
    }
    files._write_gpkg(tmp_path / "layers.gpkg", layers, s)
    qgis.write_project(tmp_path / "project.qgz", layers, s, qgis.layer_titles(s, "straight-line"))
    res = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(tmp_path), str(tmp_path / "t.png")], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["read"] and out["bad_layers"] == [] and out["messages"] == []
    assert out["visible"] == ["transit_routes", "boundary"]
    assert out["layers"]["transit_routes"]["aliases"]["route_short_name"] == "Route"
    assert out["render"]["non_background"] > 1000 and out["render"]["errors"] == []
