"""Mode transit end to end on the real Kingston feed, and the Windsor feed without stop_times."""

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from gapmap.cli import main


@pytest.fixture(scope="module")
def kingston(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("kingston")
    res = CliRunner().invoke(main, ["analyze", "--region", "kingston", "--mode", "transit", "--category", "hospital",
                                    "--threshold", "30", "--threshold", "60", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    return out


def test_transit_run_labels_and_layers(kingston):
    summ = json.loads((kingston / "summary.json").read_text())
    assert summ["settings"]["mode"] == "transit"
    assert summ["method"]["travel_time"].startswith("transit schedule (GTFS Kingston Transit 2017-10-11 17:00-19:00")
    assert any("door to door" in a for a in summ["method"]["approximations"])
    names = {n for n, _ in pyogrio.list_layers(kingston / "layers.gpkg")}
    assert {"transit_routes", "transit_stops"} <= names
    stops = gpd.read_file(kingston / "layers.gpkg", layer="transit_stops")
    assert stops["trips_per_hour"].max() > 0
    assert "Kingston Transit" in summ["attribution"]
    # Kingston has 4 Primary-Agriculture sites (< k = 5): public outputs carry no worker figure.
    assert summ["layers"]["sites"]["features"] is None and summ["layers"]["sites"]["workers"] is None
    lay = summ["layers"]["sites"]  # LMIA rows (public ESDC data) stay accounted for
    assert lay["rows_used"] > 0 and lay["rows_read"] == lay["rows_used"] + lay["rows_rejected"]
    assert all(c["workers"] is None and c["workers_covered"] is None for c in summ["coverage"])
    assert all(c["population"] > 0 for c in summ["coverage"])


def test_transit_bands_nested_and_tables_consistent(kingston):
    bands = gpd.read_file(kingston / "layers.gpkg", layer="catchments").sort_values("threshold_min")
    b30, b60 = bands.geometry
    assert b30.difference(b60).area < 1.0 and b60.area >= b30.area > 0
    pop = gpd.read_file(kingston / "layers.gpkg", layer="population")
    # A DA covered at 30 min is covered at 60; unreachable DAs (no minutes) are never covered.
    assert not (pop["hospital_within_30min"].astype(bool) & ~pop["hospital_within_60min"].astype(bool)).any()
    assert not pop.loc[pop["hospital_min"].isna(), "hospital_within_60min"].astype(bool).any()
    assert (pop["hospital_min_p90"].dropna() >= pop.loc[pop["hospital_min_p90"].notna(), "hospital_min"] - 1e-9).all()


def test_windsor_feed_without_stop_times(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "windsor-essex", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert sum("stop_times.txt" in n for n in summ["notes"]) == 1
    routes = gpd.read_file(tmp_path / "layers.gpkg", layer="transit_routes")
    assert len(routes) == 18
    res = CliRunner().invoke(main, ["analyze", "--region", "windsor-essex", "--mode", "transit", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert err.startswith("Error: ") and "stop_times.txt" in err and "\n" not in err
