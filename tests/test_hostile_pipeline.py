"""Silent wrong answers turned into right answers or refusals, end to end (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from pyproj import Geod
from scipy.spatial import cKDTree

import gapmap
from gapmap import pipeline
from gapmap.cli import main
from gapmap.errors import InputError

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad_inputs"
TINY_GTFS = Path(__file__).resolve().parent / "fixtures" / "gtfs" / "tiny"


def _geodesic_km_to_region(lon: float, lat: float, boundary: gpd.GeoDataFrame) -> float:
    """Geodesic km from a point to the nearest vertex of the region's outline (independent of gapmap's CRS)."""
    outline = boundary.to_crs("EPSG:4326").geometry.iloc[0]
    parts = getattr(outline, "geoms", [outline])
    xs = np.concatenate([np.asarray(p.exterior.xy[0]) for p in parts])
    ys = np.concatenate([np.asarray(p.exterior.xy[1]) for p in parts])
    _, _, d = Geod(ellps="WGS84").inv(np.full(len(xs), lon), np.full(len(xs), lat), xs, ys)
    return float(d.min()) / 1000


@pytest.fixture(scope="module")
def odd_ids(mirror):
    return gapmap.analyze("chatham-kent", sites_file=CORPUS / "sites_odd_ids.csv",
                          population_file=CORPUS / "population_da_1.csv", network="straight")


def test_site_ids_of_any_form_keep_their_own_travel_times(odd_ids):
    """Ids `farm 1`, `da-1` and `12`, beside a population point with dauid `1`: each gets its own nearest hospital."""
    res = odd_ids
    s = res.settings
    hosp = res.layers["services"].gdf.query("category == 'hospital'").sort_values("service_id")
    tree = cKDTree(np.column_stack([hosp.geometry.x, hosp.geometry.y]))
    speed_ms = s.speeds_kmh["drive"] / 3.6
    for frame, key in ((res.sites, "site_id"), (res.population, "dauid")):
        d, i = tree.query(np.column_stack([frame.geometry.x, frame.geometry.y]))
        expected = np.round(d * s.circuity / speed_ms / 60, 1)
        assert frame["hospital_min"].tolist() == expected.tolist(), key
        assert frame["hospital_nearest_id"].tolist() == hosp["service_id"].to_numpy()[i].tolist()
    assert sorted(res.sites["site_id"]) == ["12", "da-1", "farm 1"]
    # The site "da-1" and the DA "1" are different places with different times: no collision.
    site_da1 = res.sites.set_index("site_id").loc["da-1", "hospital_min"]
    pop_1 = res.population.set_index("dauid").loc["1", "hospital_min"]
    assert site_da1 != pop_1
    assert res.access["origin_id"].is_unique and {"site:da-1", "da-1"} <= set(res.access["origin_id"])
    assert res.sites["hospital_e2sfca_per_1000"].notna().all() and res.population["hospital_e2sfca_per_1000"].notna().all()


def test_a_tiny_boundary_clips_population_sites_and_services(mirror):
    """A 9 m box in Chatham: nobody lives in it (the whole region kept 104,316 people before)."""
    res = gapmap.analyze("chatham-kent", boundary_file=CORPUS / "boundary_9m_box.geojson", network="straight")
    pop = res.layers["population"]
    assert len(res.population) == 0 and pop.rows_used == 0 and pop.rows_read == pop.rows_rejected > 0
    assert set(pop.rejects["reason"]) == {"DA point outside the region boundary"}
    assert res.census_total is None  # the census division's total does not describe a user boundary
    assert len(res.sites) == 0
    assert not res.layers["services"].gdf["in_region"].any()


def test_a_network_on_another_continent_is_refused_with_the_distance(mirror, tmp_path):
    import osmnx as ox

    G = nx.MultiDiGraph(crs="epsg:4326")
    for k, (x, y) in enumerate([(2.35, 48.85), (2.36, 48.85), (2.36, 48.86)]):  # Paris
        G.add_node(k, x=x, y=y)
    for u, v in ((0, 1), (1, 2), (1, 0), (2, 1)):
        G.add_edge(u, v, length=1000.0, highway="secondary", oneway=False, speed_kph=50.0, osmid=u * 10 + v)
    path = ox.save_graphml(G, tmp_path / "paris.graphml") or tmp_path / "paris.graphml"
    with pytest.raises(InputError) as err:
        gapmap.analyze("chatham-kent", network=str(tmp_path / "paris.graphml"))
    msg = str(err.value)
    assert msg.startswith(f"Road network {tmp_path / 'paris.graphml'} does not cover the region: its nearest node is ")
    assert msg.endswith(" km from the region's boundary; give a network of this region (or --network straight).")
    km = float(msg.split("nearest node is ")[1].split(" km")[0].replace(",", ""))
    boundary, _ = gapmap.layers.build_boundary(gapmap.get_region("chatham-kent"))
    assert abs(km - _geodesic_km_to_region(2.35, 48.85, boundary.gdf)) / km < 0.02


def test_a_gtfs_feed_of_another_region_is_refused_with_the_distance(mirror):
    """The tiny feed sits at 44.0 N, 79.0 W (north-east of Toronto), far from Chatham-Kent."""
    with pytest.raises(InputError) as err:
        gapmap.analyze("chatham-kent", gtfs=TINY_GTFS, network="straight")
    msg = str(err.value)
    assert msg.startswith(f"GTFS feed {TINY_GTFS} does not cover the region: its nearest stop is ")
    km = float(msg.split("nearest stop is ")[1].split(" km")[0].replace(",", ""))
    boundary, _ = gapmap.layers.build_boundary(gapmap.get_region("chatham-kent"))
    assert abs(km - _geodesic_km_to_region(-79.0, 44.0, boundary.gdf)) / km < 0.02


def test_nan_threshold_on_the_command_line_is_one_line(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--threshold", "nan", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip() == "Error: Setting 'thresholds_min' is (nan,); it must be a finite number (not NaN or infinity)."


def test_console_summary_prints_blanked_counts_as_suppressed(mirror, tmp_path, monkeypatch):
    """Public mode may blank any count (None / NaN); the summary after writing the files must not crash."""
    real_run = pipeline.run

    def blanked(*args, **kwargs):
        result, files = real_run(*args, **kwargs)
        table = result.areas_table.copy()
        counts = [c for c in table.columns if c in ("sites", "workers", "population") or c.endswith(("_not", "_postal_area"))]
        table[counts] = np.nan
        result.areas_table = table
        return result, files

    monkeypatch.setattr(pipeline, "run", blanked)
    # Internal mode: the console prints the in-memory table (public mode prints the written areas.csv).
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--network", "straight", "--privacy", "internal",
                                    "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    first = res.stdout.splitlines()[0]
    assert first.startswith("Chatham-Kent LIP: – of – estimated workers (– of – sites) beyond 30 min of a hospital, "
                            "and suppressed of suppressed people")
    assert json.loads((tmp_path / "summary.json").read_text())["region"]["slug"] == "chatham-kent"
