"""Mode transit end to end on the real Kingston feed, and the Windsor feed without stop_times."""

import json
import re

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
    # The map title and report headline use the public table too: no worker count appears.
    for page in ("map.html", "report.html"):
        text = (kingston / page).read_text()
        assert "estimated workers" in text
        # No worker or site count: every figure before "estimated workers" / "sites" is blank.
        assert not re.search(r"\d[\d,\u202f ]*</?b?>? ?(?:of )?estimated workers", text), page
        assert not re.search(r"of \d[\d,]* estimated workers|\(\d[\d,]* of \d[\d,]* sites\)|\d[\d,]* sites in all", text), page


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


@pytest.fixture(scope="module")
def kingston_walk_grid(mirror, lonlat_grid, tmp_path_factory):
    """A two-way footpath grid every 0.003 degrees (~250-330 m) over Kingston's stops, as GraphML."""
    import numpy as np

    from gapmap.sources import catalog
    from gapmap.travel.transit.schedule import read_feed

    stops = read_feed(catalog.resolve("gtfs_kingston")).stops_layer()
    x0, y0, x1, y1 = stops.total_bounds
    lons, lats = np.arange(x0 - 0.01, x1 + 0.01, 0.003), np.arange(y0 - 0.01, y1 + 0.01, 0.003)
    return lonlat_grid(tmp_path_factory.mktemp("walk") / "kingston_walk.graphml", lons, lats, highway="footway")


def test_transit_walk_legs_on_a_walk_network(kingston, kingston_walk_grid, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "kingston", "--mode", "transit", "--category", "hospital",
                                    "--threshold", "30", "--threshold", "60", "--network", str(kingston_walk_grid),
                                    "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert "network walk" in summ["method"]["travel_time"]
    assert any("on the walking network" in a for a in summ["method"]["approximations"])
    walk_net = gpd.read_file(tmp_path / "layers.gpkg", layer="population").set_index("dauid")["hospital_min"]
    straight = gpd.read_file(kingston / "layers.gpkg", layer="population").set_index("dauid")["hospital_min"]
    both = pd.concat([walk_net, straight], axis=1, keys=["net", "sl"]).dropna()
    assert len(both) > 50
    # Same timetable, different walking model: the medians agree to within a third.
    assert 0.67 < both["net"].median() / both["sl"].median() < 1.5
