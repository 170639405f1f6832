"""The vectorised geometry shortcuts of the layer builders give the plain answers (hand-computed cases)."""

import geopandas as gpd
import h3
import numpy as np
from shapely.geometry import Point, Polygon

from gapmap.analysis.uncertainty import _within
from gapmap.layers.base import farther_than
from gapmap.layers.demand import cell_polygons

# An L: the 10 x 10 square minus its upper-right 8 x 8 (arms 2 wide along the axes).
L_SHAPE = Polygon([(0, 0), (10, 0), (10, 2), (2, 2), (2, 10), (0, 10)])


def _points(xy):
    return gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in xy], crs="EPSG:26917")


def test_farther_than_measures_points_inside_the_box_but_outside_the_shape():
    # distances by hand: (5, 5) is 3 from the inner corner edges; (13, 0) 3 beyond x = 10;
    # (11, 1) 1; (1, 1) inside; (-2.4, 5) 2.4 left of x = 0; (20, 20) 20.6 from (2, 10) and (10, 2)
    pts = _points([(5, 5), (13, 0), (11, 1), (1, 1), (-2.4, 5), (20, 20)])
    assert farther_than(pts, L_SHAPE, 2.5).tolist() == [True, True, False, False, False, True]
    assert farther_than(pts, L_SHAPE, 3.5).tolist() == [False, False, False, False, False, True]
    assert farther_than(pts, L_SHAPE, 21.0).tolist() == [False] * 6


def test_farther_than_keeps_the_index_and_takes_no_points():
    pts = _points([(30, 0), (1, 1)]).set_axis([7, 3])
    out = farther_than(pts, L_SHAPE, 5.0)
    assert out.index.tolist() == [7, 3] and out.tolist() == [True, False]
    assert farther_than(_points([]), L_SHAPE, 5.0).tolist() == []


def test_within_is_interior_only():
    pts = _points([(1, 1), (0, 5), (5, 5), (10, 1), (1, 9.5)])  # inside, on an edge, in the notch, on an edge, inside
    assert _within(pts, L_SHAPE).tolist() == [True, False, False, False, True]


def test_cell_polygons_are_the_closed_h3_boundaries_of_rings_of_any_length():
    # A hexagon (6 vertices) next to a resolution-5 pentagon (10: H3 adds distortion vertices).
    cells = [h3.latlng_to_cell(42.4, -82.2, 7), h3.get_pentagons(5)[0]]
    polys = cell_polygons(cells, "EPSG:4326")
    for cell, poly in zip(cells, polys):
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        assert list(poly.exterior.coords) == ring + ring[:1] and poly.is_valid
    assert [len(p.exterior.coords) - 1 for p in polys] == [6, 10]


def test_cell_polygons_of_several_cells_keep_their_order_and_project():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(42.4, -82.2, 7), 1))
    polys = cell_polygons(cells, "EPSG:26917")
    assert len(polys) == 7 and polys.crs.to_epsg() == 26917
    centres = gpd.GeoSeries([Point(h3.cell_to_latlng(c)[::-1]) for c in cells], crs="EPSG:4326").to_crs("EPSG:26917")
    assert np.all(polys.contains(centres, align=False))
    assert cell_polygons([], "EPSG:26917").empty


def test_polygonal_keeps_the_polygons_of_a_repaired_geometry():
    """A square with a dangling spike repairs (make_valid) to polygon + line; only the 1 x 1 square is kept."""
    import geopandas as gpd
    import shapely

    from gapmap import geo

    spiked = shapely.Polygon([(0, 0), (1, 0), (1, 1), (1, 2), (1, 1), (0, 1)])
    repaired = gpd.GeoSeries([shapely.make_valid(spiked), shapely.box(5, 5, 7, 6)], crs="EPSG:26917")
    assert repaired.geom_type.tolist() == ["GeometryCollection", "Polygon"]
    out = geo.polygonal(repaired)
    assert out.geom_type.tolist() == ["Polygon", "Polygon"]
    assert out.area.tolist() == [1.0, 2.0]
    assert out.iloc[1].equals(repaired.iloc[1])


def test_every_ward_is_a_polygon_for_the_map_tooltips(mirror):
    """Windsor-Essex's Ward 1 and Ward 8 came out of make_valid as GeometryCollections, which folium's
    tooltips and popups skip (hovering them showed nothing)."""
    from gapmap import layers
    from gapmap.sources.regions import get_region

    _, areas = layers.build_boundary(get_region("windsor-essex"))
    assert set(areas.gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert {"Ward 1", "Ward 8"} <= set(areas.gdf["area_name"])
