"""Invariants checked with hypothesis, and fuzzed inputs that must give a clear error or rejects."""

import json
import string

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from shapely.geometry import Point

from gapmap import travel, layers
from gapmap.sources import regions
from gapmap.errors import InputError
from gapmap.settings import Settings

CRS = "EPSG:26917"
coord = st.floats(min_value=0, max_value=50_000, allow_nan=False)
points = st.lists(st.tuples(coord, coord), min_size=1, max_size=25)


def _svc(xy):
    return gpd.GeoDataFrame({"service_id": [f"s{i:03d}" for i in range(len(xy))], "name": [f"S{i}" for i in range(len(xy))],
                             "category": "hospital"}, geometry=[Point(p) for p in xy], crs=CRS)


def _org(xy):
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs=CRS, index=[f"o{i:03d}" for i in range(len(xy))])


@settings(max_examples=60, deadline=None)
@given(origins=points, services=points, extra=st.tuples(coord, coord))
def test_adding_a_service_never_increases_a_time(origins, services, extra):
    s = Settings(categories=("hospital",))
    before = travel.straight_line_times(_org(origins), _svc(services), ["hospital"], s).set_index("origin_id")
    after = travel.straight_line_times(_org(origins), _svc([*services, extra]), ["hospital"], s).set_index("origin_id")
    assert (after["minutes"] <= before["minutes"] + 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(origins=points, services=points, seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(origins, services, seed):
    s = Settings(categories=("hospital",))
    a = travel.straight_line_times(_org(origins), _svc(services), ["hospital"], s).set_index("origin_id").sort_index()
    rng = np.random.default_rng(seed)
    o, v = _org(origins), _svc(services)
    b = travel.straight_line_times(o.iloc[rng.permutation(len(o))], v.iloc[rng.permutation(len(v))], ["hospital"], s)
    b = b.set_index("origin_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(services=points, thresholds=st.lists(st.floats(1, 120), min_size=2, max_size=4, unique=True))
def test_catchments_nested_across_thresholds(services, thresholds):
    s = Settings(categories=("hospital",), thresholds_min=tuple(sorted(thresholds)), headline_threshold=sorted(thresholds)[0])
    bands = travel.straight_line_bands(_svc(services), ["hospital"], s).sort_values("threshold_min")
    geoms = list(bands.geometry)
    for small, big in zip(geoms, geoms[1:]):
        assert small.difference(big).area <= 1e-6 * max(small.area, 1)


@pytest.fixture(scope="module")
def ck_boundary(mirror):
    return layers.build_boundary(regions.get_region("chatham-kent"))[0].gdf


cell = st.one_of(st.text(string.printable, max_size=8), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.sampled_from(["42.4", "-82.1", "", "NaN", "1e400", "42,4", '"', "\u00e9"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(["name", "category", "latitude", "longitude", "lat", "lon", "x", "y", "id", "service_id",
                                         "community", "postal_code", "junk", ""]), min_size=0, max_size=6),
       rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=6),
       sep=st.sampled_from([",", ";", "\t"]))
def test_fuzzed_csv_gives_error_or_rejects(tmp_path_factory, ck_boundary, header, rows, sep):
    path = tmp_path_factory.mktemp("fz") / "fuzz.csv"
    path.write_text("\n".join(sep.join(r) for r in [header, *rows]), encoding="utf-8")
    try:
        gdf, rej, n_read, _ = layers.read_user_services(path, ck_boundary)
    except InputError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert n_read == len(gdf) + len(rej)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=5)),
                           lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)),
                           max_leaves=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(
    st.fixed_dictionaries({"type": st.just("Feature"), "properties": st.dictionaries(st.sampled_from(["name", "category"]), st.text(max_size=4)),
                           "geometry": st.one_of(st.none(), st.fixed_dictionaries({"type": st.sampled_from(["Point", "Polygon", "Nope"]),
                                                                                   "coordinates": json_values}))}), max_size=3)})))
def test_fuzzed_geojson_gives_error_or_rejects(tmp_path_factory, ck_boundary, doc):
    path = tmp_path_factory.mktemp("fz") / "fuzz.geojson"
    path.write_text(json.dumps(doc))
    try:
        gdf, rej, n_read, _ = layers.read_user_services(path, ck_boundary)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert n_read == len(gdf) + len(rej)


def test_html_escapes_input_text(mirror, tmp_path):
    import gapmap

    svc = tmp_path / "svc.csv"
    svc.write_text('name,category,latitude,longitude\n"<img src=x onerror=alert(1)>",hospital,42.40,-82.15\n')
    result = gapmap.analyze("chatham-kent", services_file=svc)
    files = gapmap.write_outputs(result, tmp_path / "out")
    html = files["map.html"].read_text()
    assert "<img src=x onerror=alert(1)>" not in html
    # HTML-escaped, then inside a JSON string literal ("&" as \u0026): the popup and tooltip.
    assert html.count("\\u0026lt;img src=x onerror=alert(1)\\u0026gt;") == 2
