"""Demand from rasters, polygons and points; H3 hex grids and aggregation (hand-computed cases)."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from gapmap.layers import demand
from gapmap.errors import InputError

# rasterio 1.4 itself multiplies affine transforms with `*`, which affine >= 2.4 flags as pending deprecation.
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

CRS = "EPSG:26917"
X0, Y0, CELL = 500_000.0, 4_700_000.0, 100.0  # top-left corner, 100 m cells


@pytest.fixture
def tif(tmp_path):
    """4 x 4 GeoTIFF, values 0..15 row by row, cell (0, 0) is nodata (-9999).

    Cell (row r, col c) has its centre at (X0 + 100 c + 50, Y0 - 100 r - 50).
    """
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    data = np.arange(16, dtype="float32").reshape(4, 4)
    data[0, 0] = -9999
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=4, width=4, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(X0, Y0, CELL, CELL), nodata=-9999) as dst:
        dst.write(data, 1)
    return path


def _poly(*geoms, crs=CRS):
    return gpd.GeoDataFrame({"zone": [f"z{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs)


def test_zonal_sum_hand_computed(tif):
    # Box holding the centres of cells (1,1) (1,2) (2,1) (2,2) only: x 150/250 m, y -150/-250 m.
    inner = box(X0 + 120, Y0 - 280, X0 + 280, Y0 - 120)
    whole = box(X0 - 10, Y0 - 410, X0 + 410, Y0 + 10)
    outside = box(X0 + 5000, Y0, X0 + 6000, Y0 + 1000)
    sums = demand.raster_zonal_sums(tif, _poly(inner, whole, outside))
    assert sums.tolist() == [5 + 6 + 9 + 10, sum(range(1, 16)), 0.0]  # nodata cell (0, 0) counts 0
    assert sums.name == "raster_sum"


def test_zonal_sum_reprojects_zones_and_centre_rule(tif):
    inner = _poly(box(X0 + 120, Y0 - 280, X0 + 280, Y0 - 120)).to_crs("EPSG:4326")
    assert demand.raster_zonal_sums(tif, inner).iloc[0] == pytest.approx(30)
    # A sliver inside cell (3, 3) that misses its centre: 0 by the centre rule, 15 if any touch counts.
    sliver = _poly(box(X0 + 305, Y0 - 395, X0 + 320, Y0 - 380))
    assert demand.raster_zonal_sums(tif, sliver).iloc[0] == 0
    assert demand.raster_zonal_sums(tif, sliver, all_touched=True).iloc[0] == 15


def test_raster_to_points_and_stable_ids(tif):
    pts = demand.raster_to_points(tif)
    assert len(pts) == 15 and pts["demand"].sum() == 120  # cell (0, 0) is nodata: values 1..15 remain
    first = pts.iloc[0]
    assert first["origin_id"] == "cell-0-1" and first.geometry.equals(Point(X0 + 150, Y0 - 50))
    cropped = demand.raster_to_points(tif, boundary=_poly(box(X0 + 120, Y0 - 280, X0 + 280, Y0 - 120)))
    assert cropped["origin_id"].tolist() == ["cell-1-1", "cell-1-2", "cell-2-1", "cell-2-2"]
    assert cropped["demand"].tolist() == [5, 6, 9, 10]
    assert set(cropped["origin_id"]) <= set(pts["origin_id"])


def test_read_demand_from_raster_polygons_and_points(tif):
    r = demand.read_demand(str(tif))
    assert list(r.columns) == demand.DEMAND_COLUMNS and r["demand"].sum() == 120
    polys = gpd.GeoDataFrame({"origin_id": ["a", "b"], "pop": [10.0, None]},
                             geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=CRS)
    d = demand.read_demand(polys, "pop")
    assert d["demand"].tolist() == [10.0, 0.0] and (d.geom_type == "Point").all()
    assert d.geometry.iloc[0].within(polys.geometry.iloc[0])
    pts = gpd.GeoDataFrame({"w": [3, 4]}, geometry=[Point(1, 1), Point(50, 50)], crs=CRS)
    inside = demand.read_demand(pts, "w", boundary=_poly(box(0, 0, 10, 10)))
    assert inside["origin_id"].tolist() == ["0"] and inside["demand"].tolist() == [3.0]
    with pytest.raises(InputError, match="value column"):
        demand.read_demand(pts, "nope")


def test_areal_interpolation_hand_computed():
    # Source squares 10 x 10 m with 100 and 40 people; the target covers the right half of
    # the first and all of the second: 100 x 0.5 + 40 = 90; the other target gets 100 x 0.5.
    src = gpd.GeoDataFrame({"pop": [100.0, 40.0]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=CRS)
    tgt = gpd.GeoDataFrame({"area_id": ["left", "right"]}, geometry=[box(0, 0, 5, 10), box(5, 0, 20, 10)], crs=CRS)
    out = demand.areal_interpolate(src, tgt, "pop")
    assert out["pop"].tolist() == pytest.approx([50.0, 90.0])
    assert out["pop"].sum() == pytest.approx(src["pop"].sum())


def test_polygons_to_points_keeps_values():
    polys = gpd.GeoDataFrame({"pop": [7]}, geometry=[box(0, 0, 10, 1)], crs=CRS)
    pts = demand.polygons_to_points(polys, "pop")
    assert pts.geom_type.tolist() == ["Point"] and pts["pop"].tolist() == [7]


@pytest.fixture
def boundary():
    # ~20 x 15 km near Chatham, Ontario
    return gpd.GeoDataFrame({"name": ["b"]}, geometry=[box(420_000, 4_690_000, 440_000, 4_705_000)], crs=CRS)


def test_hex_grid_covers_boundary(boundary):
    grid = demand.hex_grid(boundary, 7)
    assert grid.crs == boundary.crs and grid["hex_id"].is_unique
    assert grid["hex_id"].tolist() == sorted(grid["hex_id"])
    assert grid.union_all().covers(boundary.union_all())
    assert grid.intersects(boundary.union_all()).all()
    centre = demand.hex_grid(boundary, 7, contain="center")
    assert set(centre["hex_id"]) < set(grid["hex_id"])
    with pytest.raises(InputError, match="resolution"):
        demand.hex_grid(boundary, 16)


def test_aggregate_to_hexes_preserves_totals(boundary):
    rng = np.random.default_rng(0)
    n = 200
    pts = gpd.GeoDataFrame({"workers": rng.integers(0, 50, n).astype(float), "people": rng.random(n) * 100},
                           geometry=gpd.points_from_xy(rng.uniform(420_000, 440_000, n), rng.uniform(4_690_000, 4_705_000, n)),
                           crs=CRS)
    pts.loc[3, "people"] = np.nan  # counts as 0
    hexes = demand.aggregate_to_hexes(pts, ["workers", "people"], 7)
    assert hexes["n_points"].sum() == n
    assert hexes["workers"].sum() == pytest.approx(pts["workers"].sum())
    assert hexes["people"].sum() == pytest.approx(np.nansum(pts["people"]))
    assert hexes["hex_id"].tolist() == sorted(hexes["hex_id"])
    # each point lies in its hexagon
    joined = gpd.sjoin(pts, hexes[["hex_id", "geometry"]], predicate="within")
    assert len(joined) >= n - 2  # reprojected hexagon edges may miss a point on a boundary


def test_demand_points_combines_sites_and_population():
    sites = gpd.GeoDataFrame({"site_id": ["site-1"], "workers": [12]}, geometry=[Point(0, 0)], crs=CRS)
    pop = gpd.GeoDataFrame({"dauid": ["35360001"], "pop2021": [450.0]}, geometry=[Point(5, 5)], crs=CRS)
    d = demand.demand_points(sites, pop)
    assert d["origin_id"].tolist() == ["site-1", "da-35360001"]
    assert d["workers"].tolist() == [12, 0] and d["people"].tolist() == [0, 450]


def test_hex_cells_are_the_centre_grid_ids(mirror):
    """hex_cells (ids only) equals hex_grid(contain="center")'s ids on a real boundary."""
    from gapmap import layers
    from gapmap.layers.demand import hex_cells, hex_grid
    from gapmap.sources.regions import get_region

    boundary, _ = layers.build_boundary(get_region("chatham-kent"))
    grid = hex_grid(boundary.gdf, 8, contain="center")
    assert hex_cells(boundary.gdf, 8) == grid["hex_id"].tolist()
    assert len(grid) > 1000


def test_hex_cells_equal_h3s_own_fill_on_concave_shapes_with_holes():
    """The hull-then-filter fill gives exactly h3's own polygon fill (the oracle: h3.geo_to_cells on the
    shape itself) on a C-shaped polygon with a hole and a two-part shape (real boundaries: above)."""
    import h3
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    from gapmap.layers.demand import hex_cells

    crs = "EPSG:32617"
    x0, y0 = 420_000.0, 4_680_000.0
    c_shape = Polygon([(x0, y0), (x0 + 30_000, y0), (x0 + 30_000, y0 + 6_000), (x0 + 6_000, y0 + 6_000),
                       (x0 + 6_000, y0 + 24_000), (x0 + 30_000, y0 + 24_000), (x0 + 30_000, y0 + 30_000), (x0, y0 + 30_000)],
                      holes=[[(x0 + 1_000, y0 + 10_000), (x0 + 4_000, y0 + 10_000), (x0 + 4_000, y0 + 20_000), (x0 + 1_000, y0 + 20_000)]])
    two = MultiPolygon([shapely.box(x0, y0, x0 + 8_000, y0 + 8_000), shapely.box(x0 + 40_000, y0, x0 + 41_000, y0 + 900)])
    for shape in (c_shape, two):
        gdf = gpd.GeoDataFrame(geometry=[shape], crs=crs)
        ll = gdf.to_crs("EPSG:4326").geometry.iloc[0]
        want = sorted(set(h3.geo_to_cells(ll, 8)))
        assert len(want) > 10 and hex_cells(gdf, 8) == want


def test_hex_cell_centres_are_h3s_own_centres():
    """The centres returned with the ids are h3's ``cell_to_latlng`` of each id (the oracle, asked afresh)."""
    import h3
    import shapely

    from gapmap.layers.demand import hex_cell_centres, hex_cells

    gdf = gpd.GeoDataFrame(geometry=[shapely.box(420_000, 4_680_000, 436_000, 4_690_000)], crs="EPSG:32617")
    ids, lat, lng = hex_cell_centres(gdf, 8)
    assert ids == hex_cells(gdf, 8) and len(ids) > 100
    want = np.array([h3.cell_to_latlng(c) for c in ids])
    assert np.array_equal(lat, want[:, 0]) and np.array_equal(lng, want[:, 1])
    empty = gpd.GeoDataFrame(geometry=[shapely.box(420_000, 4_680_000, 420_001, 4_680_001)], crs="EPSG:32617")
    ids, lat, lng = hex_cell_centres(empty, 8)  # smaller than a cell: no centre inside
    assert ids == [] and lat.size == 0 and lng.size == 0
