"""Road centreline files (gapmap.travel.road.segments) on the real Ottawa, Hamilton and Kingston networks.

Expectations are independent of the reader: networkx graphs built here from the raw files, the
right-hand-traffic rule on divided highways, the carriageway names (EB/WB, NB/SB), the City of
Kingston's downtown one-way couplet, and published population totals.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from gapmap.errors import InputError
from gapmap.sources import catalog
from gapmap.travel.road import network as rn
from gapmap.travel.road import segments

MAPPINGS = Path(segments.__file__).parent / "mappings"


@pytest.fixture(scope="module")
def ottawa(mirror):
    return segments.read_segments(catalog.resolve("rnf_ottawa_2021"), "rnf", layer="roads")


@pytest.fixture(scope="module")
def hamilton_raw(mirror):
    return gpd.read_file(catalog.resolve("hamilton_centreline_2020"))


@pytest.fixture(scope="module")
def hamilton(mirror):
    return segments.read_segments(catalog.resolve("hamilton_centreline_2020"))


@pytest.fixture(scope="module")
def kingston(mirror):
    return segments.read_segments(catalog.resolve("kingston_road_segment_2017"))


# ------------------------------------------------------------------ independent oracle


def _oracle_graph(raw: gpd.GeoDataFrame, kmh: np.ndarray, direction: np.ndarray) -> nx.DiGraph:
    """A networkx DiGraph from raw segments: nodes at ends rounded to 1 cm, weight seconds.

    ``direction``: +1 one-way as digitised, -1 against, 0 two-way.
    """
    G = nx.DiGraph()
    starts = shapely.get_coordinates(shapely.get_point(raw.geometry.values, 0))
    ends = shapely.get_coordinates(shapely.get_point(raw.geometry.values, -1))
    length = raw.geometry.length.to_numpy()
    key = lambda xy: (round(float(xy[0]), 2), round(float(xy[1]), 2))  # noqa: E731
    for a, b, L, s, d in zip(starts, ends, length, kmh, direction):
        t = L / (s / 3.6)
        pairs = [(key(a), key(b))] if d == 1 else [(key(b), key(a))] if d == -1 else [(key(a), key(b)), (key(b), key(a))]
        for p, q in pairs:
            if p != q and (not G.has_edge(p, q) or G[p][q]["w"] > t):
                G.add_edge(p, q, w=t)
    return G


def _points(xy: np.ndarray, crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(index=[str(i) for i in range(len(xy))], geometry=shapely.points(xy), crs=crs)


def test_hamilton_times_equal_an_independent_networkx_graph(hamilton_raw, mirror, tmp_path):
    """One-way directions included; the test's own mapping file and speeds per ROAD_CLASS (not the shipped table)."""
    own = {"Provincial Highway": 97.0, "Parkway": 83.0, "Arterial": 61.0, "Collector": 47.0, "Local": 37.0}
    shipped = (MAPPINGS / "hamilton.toml").read_text()
    oneway = shipped[shipped.index("[oneway]"):shipped.index("[exclude_walk]")]
    mapping = tmp_path / "hamilton-own.toml"
    mapping.write_text('name = "own"\nclass_fields = ["ROAD_CLASS", "ROAD_TYPE"]\n[speeds_kmh]\n'
                       + "".join(f'"{k}" = {v}\n' for k, v in own.items())
                       + '[exclude]\n"Local/Pedestrian" = "pedestrian"\n' + oneway)
    net, _ = segments.read_segments(catalog.resolve("hamilton_centreline_2020"), mapping, snap_m=0.005, split_m=0.0)
    raw = hamilton_raw[~((hamilton_raw["ROAD_TYPE"] == "Pedestrian") | (hamilton_raw["ONE_WAY_CO"] == "no traffic permitted"))]
    d = raw["ONE_WAY_CO"].map({"2-way traffic flow": 0, "1-way traffic with the direction of digitization": 1,
                               "1-way traffic flow against direction of digitization": -1}).to_numpy()
    G = _oracle_graph(raw, raw["ROAD_CLASS"].map(own).to_numpy(float), d)
    rng = np.random.default_rng(18)
    nodes = net.node_xy
    svc_xy = nodes[rng.choice(len(nodes), 5, replace=False)]
    org_xy = nodes[rng.choice(len(nodes), 60, replace=False)]
    services = _points(svc_xy, net.crs).assign(service_id=[f"s{i}" for i in range(5)], category="x")
    tt = rn.network_travel_times(net, _points(org_xy, net.crs), services, ["x"])
    key = lambda xy: (round(float(xy[0]), 2), round(float(xy[1]), 2))  # noqa: E731
    expect = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), {key(p) for p in svc_xy}, weight="w")
    want = np.array([expect.get(key(p), np.inf) for p in org_xy]) / 60.0
    got = tt["minutes"].to_numpy()
    assert np.isfinite(want).sum() >= 50
    np.testing.assert_allclose(np.where(np.isnan(got), np.inf, got), want, rtol=1e-9)


def test_ottawa_sites_and_blocks_equal_an_independent_graph_with_edge_snapping(ottawa, mirror):
    """Sampled dissemination blocks and services off the road: nearest point of the nearest segment,
    the off-road leg walked at 4.8 km/h; the graph and the snapping are rebuilt here from the raw file."""
    net, _ = ottawa
    raw = gpd.read_file(catalog.resolve("rnf_ottawa_2021"), layer="roads").to_crs(net.crs)
    table = tomllib.loads((MAPPINGS / "rnf.toml").read_text())["speeds_kmh"]
    raw = raw[raw["CLASS"] != "27"].reset_index(drop=True)
    kmh = np.array([table.get(f"{c}/{r}", table.get(c)) for c, r in zip(raw["CLASS"], raw["RANK"])], dtype=float)
    G = _oracle_graph(raw, kmh, np.zeros(len(raw)))
    blocks = gpd.read_file(catalog.resolve("db_population_ottawa_2021"), layer="dissemination_blocks_pop2021").to_crs(net.crs)
    rng = np.random.default_rng(20)
    org = blocks.geometry.representative_point().to_numpy()[rng.choice(len(blocks), 40, replace=False)]
    svc = shapely.points(np.column_stack([rng.uniform(430000, 460000, 4), rng.uniform(5010000, 5030000, 4)]))
    lines = raw.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    walk = 4.8 / 3.6
    key = lambda xy: (round(float(xy[0]), 2), round(float(xy[1]), 2))  # noqa: E731

    def attach(H: nx.DiGraph, name: str, p, outgoing: bool) -> None:
        j = int(tree.query_nearest(p)[0])
        line = lines[j]
        f = shapely.line_locate_point(line, p, normalized=True)
        t = float(shapely.length(line)) / (kmh[j] / 3.6)
        access = float(shapely.distance(p, shapely.line_interpolate_point(line, f, normalized=True))) / walk
        a = key(shapely.get_coordinates(shapely.get_point(line, 0))[0])
        b = key(shapely.get_coordinates(shapely.get_point(line, -1))[0])
        for end, share in ((a, f), (b, 1 - f)):
            H.add_edge(name, end, w=access + share * t) if outgoing else H.add_edge(end, name, w=access + share * t)

    H = G.copy()
    for i, p in enumerate(org):
        attach(H, f"o{i}", p, True)
    for i, p in enumerate(svc):
        attach(H, f"s{i}", p, False)
    expect = nx.multi_source_dijkstra_path_length(H.reverse(copy=False), {f"s{i}" for i in range(len(svc))}, weight="w")
    services = gpd.GeoDataFrame({"service_id": [f"s{i}" for i in range(len(svc))], "category": "x"}, geometry=svc, crs=net.crs)
    tt = rn.network_travel_times(net, gpd.GeoDataFrame(index=[f"o{i}" for i in range(len(org))], geometry=org, crs=net.crs),
                                 services, ["x"])
    want = np.array([expect[f"o{i}"] for i in range(len(org))]) / 60.0
    np.testing.assert_allclose(tt["minutes"].to_numpy(), want, rtol=1e-9)


# ------------------------------------------------------------------ speeds as documented


def test_rnf_speeds_follow_the_documented_table(ottawa):
    net, report = ottawa
    doc = tomllib.loads((MAPPINGS / "rnf.toml").read_text())
    e = net.edges
    kmh = e["length_m"] / e["time_s"] * 3.6
    cls, rank = e["road_class"].str.split("/").str[0], e["road_class"].str.split("/").str[1]
    # The Trans-Canada Highway (417, class 12 rank 1) and local streets (class 23), read from the documented table.
    assert np.allclose(kmh[(cls == "12") & (rank == "1")], doc["speeds_kmh"]["12/1"])
    assert np.allclose(kmh[(cls == "23")], doc["speeds_kmh"]["23"])
    assert np.allclose(kmh[(cls == "12") & (rank == "4")], doc["speeds_kmh"]["12"])  # no 12/4 key: the class entry
    assert not (cls == "27").any() and report.dropped_excluded["rapid transit (Ottawa's bus-only Transitway)"] == 143
    assert net.edges["time_back_s"].notna().all()  # the RNF has no one-way data: all two-way
    assert "speeds assigned by road class" in net.method


def test_speed_table_file_overrides_the_class_speeds(mirror, tmp_path):
    table = tmp_path / "speeds.csv"
    table.write_text("class,speed_kmh\n23,25\n")
    net, _ = segments.read_segments(catalog.resolve("rnf_ottawa_2021"), "rnf", layer="roads", speed_table=table)
    e = net.edges
    local = e["road_class"].str.startswith("23/")
    assert np.allclose((e["length_m"] / e["time_s"] * 3.6)[local], 25.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("class,speed_kmh\n23,fast\n")
    with pytest.raises(InputError, match="speed_kmh"):
        segments.read_speed_table(bad)


# ------------------------------------------------------------------ one-way streets


def _time(net, a_xy, b_xy) -> float:
    svc = _points(np.array([b_xy]), net.crs).assign(service_id="b", category="x")
    return float(rn.network_travel_times(net, _points(np.array([a_xy]), net.crs), svc, ["x"])["minutes"].iloc[0])


def _street_ends(net, raw, name: str, west: float, east: float) -> tuple[np.ndarray, np.ndarray]:
    """Points on a street near two eastings (UTM 17N), taken from the raw file."""
    line = shapely.union_all(raw.loc[raw["STREET_NAM"] == name].geometry.to_numpy())
    def at(x):
        probe = shapely.points(x, float(raw.loc[raw["STREET_NAM"] == name].geometry.centroid.y.mean()))
        return shapely.get_coordinates(shapely.ops.nearest_points(line, probe)[0])[0]
    return at(west), at(east)


def test_hamilton_king_and_main_are_one_way_in_opposite_directions(hamilton, hamilton_raw):
    """Downtown Hamilton's couplet: the City's ONE_WAY_CO gives King St westbound and Main St eastbound
    between James St and Wellington St (eastings ~591,900-593,400, UTM 17N)."""
    net, _ = hamilton
    kw, ke = _street_ends(net, hamilton_raw, "King Street East", 592000.0, 593300.0)
    mw, me = _street_ends(net, hamilton_raw, "Main Street East", 592000.0, 593300.0)
    king_west, king_east = _time(net, ke, kw), _time(net, kw, ke)
    main_west, main_east = _time(net, me, mw), _time(net, mw, me)
    assert king_west < king_east and main_east < main_west
    # Straight along the street is about 1.3 km at 60 km/h (arterial): well under the detour.
    assert king_west < 2.5 and main_east < 2.5


def test_hamilton_direction_rule_matches_the_carriageway_names(hamilton):
    """Divided parkways named EB/WB and NB/SB: the one-way rule makes EB run east, NB run north."""
    net, _ = hamilton
    raw = gpd.read_file(catalog.resolve("hamilton_centreline_2020"))
    e = net.edges.assign(name=raw["STREET_NAM"].to_numpy()[net.edges["key"].to_numpy()])
    d = shapely.get_coordinates(shapely.get_point(e.geometry.values, -1)) - shapely.get_coordinates(shapely.get_point(e.geometry.values, 0))
    for name, axis, sign in (("Lincoln M. Alexander Py EB", 0, 1), ("Lincoln M. Alexander Py WB", 0, -1),
                             ("Red Hill Valley Py NB", 1, 1), ("Red Hill Valley Py SB", 1, -1)):
        sel = ((e["name"] == name) & e["oneway"]).to_numpy()
        assert sel.sum() >= 15
        # The carriageway as a whole runs the named way (single pieces curve at the interchanges).
        assert np.sign(d[sel, axis].sum()) == sign and (np.sign(d[sel, axis]) == sign).mean() > 0.75, name


def test_kingston_up_down_rule_against_the_401_and_the_downtown_couplet(kingston):
    """UP = with the digitised direction: checked on Highway 401 (right-hand traffic: the opposite
    carriageway lies to the left of travel) and on Brock St (one-way westbound) / Johnson St
    (one-way eastbound), the City of Kingston's downtown one-way pair."""
    net, _ = kingston
    raw = gpd.read_file(catalog.resolve("kingston_road_segment_2017"))
    e = net.edges
    street = raw["STREET"].to_numpy()[e["key"].to_numpy()]  # key = the row in the source file
    g = e.geometry.to_numpy()
    d = shapely.get_coordinates(shapely.get_point(g, -1)) - shapely.get_coordinates(shapely.get_point(g, 0))
    hwy = np.flatnonzero((street == "HWY 401") & e["oneway"].to_numpy())
    assert len(hwy) >= 25
    left = 0
    mids = shapely.line_interpolate_point(g[hwy], 0.5, normalized=True)
    for i, m in zip(hwy, mids):
        opp = hwy[(d[hwy] @ d[i]) < 0]
        j = opp[np.argmin(shapely.distance(m, g[opp]))]
        w = shapely.get_coordinates(shapely.ops.nearest_points(g[j], m)[0])[0] - shapely.get_coordinates(m)[0]
        left += (d[i, 0] * w[1] - d[i, 1] * w[0]) > 0
    assert left == len(hwy)
    brock = (street == "BROCK ST") & e["oneway"].to_numpy()
    johnson = (street == "JOHNSON ST") & e["oneway"].to_numpy()
    assert brock.sum() >= 20 and johnson.sum() >= 20
    assert (d[brock, 0] < 0).all() and (d[johnson, 0] > 0).all()


def test_kingston_t_junctions_are_split(kingston):
    net, report = kingston
    # PROVENANCE: 159 dead ends lie within 1 m of another segment's interior; overpasses are left alone.
    assert 140 <= report.junctions_split <= 170
    assert report.components >= 1 and report.share_length_dropped < 0.05
    assert report.parts_exploded == 1


# ------------------------------------------------------------------ bad input


def _write(tmp_path, gdf: gpd.GeoDataFrame, name="roads.gpkg") -> Path:
    path = tmp_path / name
    gdf.to_file(path)
    return path


def _mini(crs="EPSG:26917", **cols) -> gpd.GeoDataFrame:
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 100)]),
             shapely.MultiLineString([[(100, 100), (200, 100)], [(200, 100), (200, 200)]]),
             shapely.LineString([(200, 200), (200, 200.0001)])]
    base = {"ROAD_CLASS": ["Local"] * 4, "ROAD_TYPE": ["Minor"] * 4, "OFFICIAL_P": ["Urban"] * 4,
            "ONE_WAY_CO": ["2-way traffic flow"] * 4}
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=lines, crs=crs)


def test_multipart_and_zero_length_pieces_are_counted(tmp_path):
    net, report = segments.read_segments(_write(tmp_path, _mini()), "hamilton")
    assert report.parts_exploded == 1 and report.dropped_zero_length == 1
    assert report.segments == 4 and np.isclose(net.edges["length_m"].sum(), 400.0)


def test_mapping_field_missing_names_file_and_field(tmp_path):
    path = _write(tmp_path, _mini().drop(columns=["ROAD_CLASS"]))
    with pytest.raises(InputError, match=r"roads\.gpkg.*'ROAD_CLASS'"):
        segments.read_segments(path, "hamilton")


def test_class_without_speed_and_unknown_oneway_value(tmp_path):
    with pytest.raises(InputError, match=r"class 'Boulevard/Minor/Urban' has no speed"):
        segments.read_segments(_write(tmp_path, _mini(ROAD_CLASS=["Boulevard"] * 4), "a.gpkg"), "hamilton")
    with pytest.raises(InputError, match=r"field ONE_WAY_CO: value 'sometimes'"):
        segments.read_segments(_write(tmp_path, _mini(ONE_WAY_CO=["sometimes"] * 4), "b.gpkg"), "hamilton")


def test_rows_in_another_crs_are_named_not_read_as_roads(tmp_path):
    """Degrees appended to a metre file (read as 0.001 m roads, "zero-length dropped") and metres in a degree file
    (a UTM-zone failure deep in the reader, before this check): both an InputError naming the rows."""
    metres = [shapely.LineString([(417000, 4695000), (417100, 4695000)]), shapely.LineString([(417100, 4695000), (417100, 4695100)])]
    degrees = [shapely.LineString([(-82.0, 42.4), (-82.0, 42.401)]), shapely.LineString([(-82.0, 42.401), (-82.001, 42.401)])]
    cols = {"ROAD_CLASS": ["Local"] * 4, "ROAD_TYPE": ["Minor"] * 4, "OFFICIAL_P": ["Urban"] * 4, "ONE_WAY_CO": ["2-way traffic flow"] * 4}
    utm = _write(tmp_path, gpd.GeoDataFrame(cols, geometry=metres + degrees, crs="EPSG:26917"), "utm.gpkg")
    with pytest.raises(InputError, match=r"utm\.gpkg states CRS EPSG:26917 but 2 of 4 rows have coordinates that look like "
                                         r"longitude/latitude degrees \(rows 3, 4, counting from 1; e\.g\. -82, 42\.4\)"):
        segments.read_segments(utm, "hamilton")
    geo = _write(tmp_path, gpd.GeoDataFrame(cols, geometry=degrees + metres, crs="EPSG:4326"), "geo.gpkg")
    with pytest.raises(InputError, match=r"geo\.gpkg states CRS EPSG:4326 but 2 of 4 rows have coordinates past longitude/latitude "
                                         r".*\(rows 3, 4, .*e\.g\. 417000, 4695000\): the file mixes CRSs"):
        segments.read_segments(geo, "hamilton")
    wrong = _write(tmp_path, gpd.GeoDataFrame(cols, geometry=metres * 2, crs="EPSG:4326"), "wrong.gpkg")
    with pytest.raises(InputError, match=r"wrong\.gpkg states CRS EPSG:4326 but every row has coordinates past .*ogr2ogr -a_srs"):
        segments.read_segments(wrong, "hamilton")
    # The same file with one CRS throughout reads (the check does not trip on real metres).
    net, report = segments.read_segments(_write(tmp_path, gpd.GeoDataFrame({k: v[:2] for k, v in cols.items()},
                                                                           geometry=metres, crs="EPSG:26917"), "ok.gpkg"), "hamilton")
    assert report.segments == 2 and np.isclose(net.edges["length_m"].sum(), 200.0)


def test_kingston_csv_states_no_crs_and_takes_crs_option(mirror):
    csv = catalog.find_mirror() / "kingston-road-segment-2017" / "Road_Segment.csv"
    with pytest.raises(InputError, match=r"Road_Segment\.csv states no CRS; give it with --crs"):
        segments.read_segments(csv, "kingston")
    net, report = segments.read_segments(csv, "kingston", source_crs="EPSG:26918")
    ref, ref_report = segments.read_segments(catalog.resolve("kingston_road_segment_2017"), "kingston")
    assert report.segments == ref_report.segments and np.isclose(net.edges["length_m"].sum(), ref.edges["length_m"].sum())


def test_user_mapping_file_and_no_class_column(tmp_path):
    gdf = gpd.GeoDataFrame({"kind": ["a", "b"]}, geometry=[shapely.LineString([(0, 0), (50, 0)]),
                                                           shapely.LineString([(50, 0), (50, 80)])], crs="EPSG:32618")
    path = _write(tmp_path, gdf, "mine.geojson")
    with pytest.raises(InputError, match="matches no shipped mapping"):
        segments.read_segments(path)
    m = tmp_path / "mine.toml"
    m.write_text('name = "mine"\nclass_fields = ["kind"]\n[speeds_kmh]\na = 36.0\nb = 18.0\n')
    net, _ = segments.read_segments(path, m)
    assert np.allclose(sorted(net.edges["time_s"]), [5.0, 16.0])


# ------------------------------------------------------------------ demand


def test_ottawa_block_population_sums_to_the_census_total(mirror):
    from gapmap.layers.demand import read_block_population

    blocks = read_block_population(catalog.resolve("db_population_ottawa_2021"), layer="dissemination_blocks_pop2021")
    assert len(blocks) == 8559 and blocks["pop2021"].sum() == 1_017_449  # PROVENANCE; 2021 Census, Ottawa CSD
    pop = pd.read_csv(catalog.resolve("da_population_2021"), dtype=str)
    col = [c for c in pop.columns if "pop" in c.lower() and "2021" in c][0] if any("2021" in c for c in pop.columns) else None
    if col is not None:
        idcol = pop.columns[0]
        cd = pd.to_numeric(pop.loc[pop[idcol] == "3506", col], errors="coerce").sum()
        assert cd == 1_017_449


def test_pseudohouseholds_as_population_sum_to_the_census_total(mirror):
    from gapmap.layers import build
    from gapmap.sources.regions import get_region

    region = get_region("chatham-kent")
    boundary, areas = build.build_boundary(region)
    layer = build.build_user_population(catalog.resolve("ck_pseudohouseholds_2021"), boundary.gdf, areas.gdf)
    assert layer.rows_read == 9497
    kept = layer.gdf["pop2021"].sum()
    raw = gpd.read_file(catalog.resolve("ck_pseudohouseholds_2021"))
    assert raw["dbpop"].sum() == pytest.approx(104_316)  # Chatham-Kent's 2021 census population
    assert layer.rows_used + layer.rows_rejected == 9497
    # Points kept = points inside the municipal boundary, by this test's own point-in-polygon.
    inside = raw.to_crs(boundary.gdf.crs).within(boundary.gdf.geometry.iloc[0]).to_numpy()
    assert kept == pytest.approx(raw["dbpop"].to_numpy()[inside].sum(), abs=0.5) or layer.rows_rejected == 0
    assert kept == pytest.approx(104_316, rel=0.01)


# ------------------------------------------------------------------ a real Toronto OSM extract


@pytest.mark.parametrize("dataset", ["osm_toronto_uoft_2020_osm", "osm_toronto_uoft_2020_pbf"])
def test_toronto_osm_extract_reads_with_one_ways_and_a_two_way_walk_network(mirror, dataset):
    drive = rn.read_network_file(catalog.resolve(dataset), mode="drive")
    walk = rn.read_network_file(catalog.resolve(dataset), mode="walk")
    assert drive.edges["oneway"].any()  # downtown Toronto has one-way streets (e.g. around Queen's Park)
    assert not walk.edges["oneway"].any() and walk.n_nodes > drive.n_nodes


def test_toronto_walk_times_equal_networkx_on_the_osmnx_graph(mirror):
    """Walk times against networkx on the graph OSMnx itself builds from the .osm file (lengths / 4.8 km/h)."""
    import osmnx as ox

    path = catalog.resolve("osm_toronto_uoft_2020_osm")
    net = rn.read_network_file(path, mode="walk").with_speed(4.8)
    G = ox.graph_from_xml(path, bidirectional=True, retain_all=True)
    from gapmap.travel import modes

    excluded = modes.get("walk").osm_excluded_highways  # the documented walk filter (motorways, ...)
    first = lambda h: h[0] if isinstance(h, list) else h  # noqa: E731
    keep = [(u, v, k) for u, v, k, h in G.edges(keys=True, data="highway") if h is not None and first(h) not in excluded]
    H = nx.DiGraph()
    for u, v, k in keep:
        w = G.edges[u, v, k]["length"] / (4.8 / 3.6)
        if not H.has_edge(u, v) or H[u][v]["w"] > w:
            H.add_edge(u, v, w=w)
    ids = pd.Index(net.node_ids)
    rng = np.random.default_rng(6)
    svc_idx = rng.choice(net.n_nodes, 3, replace=False)
    services = gpd.GeoDataFrame({"service_id": ["a", "b", "c"], "category": "x"},
                                geometry=shapely.points(net.node_xy[svc_idx]), crs=net.crs)
    nt = rn.node_travel_times(net, services, ["x"])
    expect = nx.multi_source_dijkstra_path_length(H.reverse(copy=False), set(net.node_ids[svc_idx].tolist()), weight="w")
    sample = rng.choice(net.n_nodes, 200, replace=False)
    want = np.array([expect.get(net.node_ids[i], np.inf) for i in sample]) / 60
    got = nt["minutes"].to_numpy()[sample]
    np.testing.assert_allclose(np.where(np.isnan(got), np.inf, got), want, rtol=1e-9)
