"""Numbers, ranges and uncertainty marks of the map, hand-computed."""

import math

import geopandas as gpd
import pytest

from gapmap.output import webmap
from gapmap.output.i18n import labels


def test_counts_and_shares_for_people():
    assert webmap.fmt_int(10833.0, "en") == "10,833"
    assert webmap.fmt_int(10833, "fr") == "10\u202f833"
    assert webmap.fmt_pct(0.4938, "en") == "49%"
    assert webmap.fmt_pct(0.4938, "fr") == "49\u202f%"
    assert webmap.fmt_int(math.nan, "en", "suppressed") == "suppressed"


def test_range_reads_as_the_headline_style():
    en, fr = labels("en"), labels("fr")
    assert webmap.fmt_range(14, 0, 1639, en, "en") == "14 (between 0 and 1,639)"
    assert webmap.fmt_range(14, 0, 1639, fr, "fr") == "14 (entre 0 et 1\u202f639)"
    # A blanked point is "suppressed", its published bounds stay; a blanked bound is left out.
    assert webmap.fmt_range(math.nan, 0, 1639, en, "en") == "suppressed (between 0 and 1,639)"
    assert webmap.fmt_range(5, math.nan, 9, en, "en") == "5"
    assert webmap.fmt_range(0, 0, 0, en, "en") == "0"


def test_uncertain_only_where_published_bounds_differ():
    assert webmap.is_uncertain(0, 352)
    assert not webmap.is_uncertain(0, 0)
    assert not webmap.is_uncertain(math.nan, 352)


@pytest.mark.parametrize("value, colour", [(0, "#fff7bc"), (1, "#fec44f"), (24, "#fec44f"), (25, "#fe9929"),
                                           (250, "#993404"), (math.nan, webmap.SUPPRESSED_COLOUR)])
def test_hexagon_classes(value, colour):
    assert webmap.hex_colour(value) == colour


def test_french_method_label():
    class R:
        method = "straight-line approximation (drive 60 km/h, circuity 1.3)"
    assert webmap.method_label(R, "fr") == "approximation à vol d'oiseau (voiture 60 km/h, facteur de détour 1,3)"
    assert webmap.method_label(R, "en") == R.method


def test_place_labels_are_public_names_near_the_region(ck_run):
    result, _ = ck_run
    pts = webmap.place_labels(result)
    names = list(pts["name"])
    assert {"Blenheim", "Bothwell", "Chatham"} <= set(names)
    assert len(names) == len({n.casefold() for n in names})  # one label per name
    assert names == sorted(names, key=str.casefold)  # same inputs, same order
    boundary = result.layers["boundary"].gdf
    near = boundary.geometry.union_all().buffer(webmap.LABEL_NEAR_M + 1)
    assert gpd.GeoSeries(pts.geometry, crs="EPSG:4326").to_crs(boundary.crs).within(near).all()


def test_view_is_clipped_to_the_framed_region(ck_run):
    from gapmap.layers.build import initial_bounds

    result, _ = ck_run
    v, f = webmap.view_bounds(result), initial_bounds(result.layers["boundary"].gdf)
    assert f[0] <= v[0] < v[2] <= f[2] and f[1] <= v[1] < v[3] <= f[3]
