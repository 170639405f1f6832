"""The corpus of bad inputs in tests/fixtures/bad_inputs: each file and the exact outcome it must produce.

File-level problems: one sentence (``InputError``) naming the file. Row-level problems: the row
goes to the rejects with this reason and every row is accounted for.
"""

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from gapmap import layers
from gapmap.sources import regions
from gapmap.errors import InputError
from gapmap.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"

# file -> exact error message ({path} = the file's path)
FILE_ERRORS = {
    "missing_column.csv": "Services file {path} lacks column(s) category (found: name, latitude, longitude); "
                          "rename the header or use the right file.",
    "misnamed_coordinates.csv": "Services file {path} has no coordinate columns (looked for latitude/longitude, lat/lon, x/y) "
                                "and no community or postal-code column to geocode; add latitude and longitude columns.",
    "no_coordinates.csv": "Services file {path} has no coordinate columns (looked for latitude/longitude, lat/lon, x/y) "
                          "and no community or postal-code column to geocode; add latitude and longitude columns.",
    "swapped_all.csv": "Services file {path}: latitude and longitude look swapped in every row; swap the two column names.",
    "header_only.csv": "Services file {path} has a header but no rows; add at least one row.",
    "empty.csv": "Services file {path} is empty; it needs a header row.",
    "projected_no_crs.csv": "Services file {path} has projected x/y columns but no CRS; pass --crs (e.g. --crs EPSG:26917).",
    "services.xlsx": "Services file {path} has an unknown type .xlsx; give CSV, GeoJSON, GeoPackage or Shapefile.",
    "empty.geojson": "Services file {path} has no features; give a file with at least one feature.",
    "wrong_crs.geojson": "Services file {path}: every point lies over 200 km from the region "
                         "(none can be placed on the earth in that CRS), so its CRS (EPSG:4326) is "
                         "probably wrong or it is another region's file; fix the CRS (--crs) or the file.",
    # issue 13: careless and hostile files
    "utf16_no_bom.csv": "Services file {path} is not a text file (it holds NUL bytes; UTF-16 without a byte-order mark, "
                        "or binary); save it as CSV UTF-8.",
    "case_duplicate_columns.csv": "Services file {path} has columns 'Latitude' and 'latitude', which differ only in case; "
                                  "rename or remove one of them.",
    # Manitoulin / Lake Huron: ~316 km north of Chatham-Kent's northern edge (geodesic check below).
    "far_away.csv": "Services file {path}: every point lies over 200 km from the region (the nearest 316 km), so its CRS "
                    "(EPSG:4326) is probably wrong or it is another region's file; fix the CRS (--crs) or the file.",
}
# boundary file -> exact error message
BOUNDARY_ERRORS = {
    "boundary_world.geojson": "Boundary file {path} spans 360 degrees of longitude and 180 of latitude, far more than one "
                              "region (at most 40 x 25); give the region's own polygon(s).",
    "boundary_zero_area.geojson": "Boundary file {path} has only polygons of zero area; give the region's real outline.",
}
# config file -> exact error message
CONFIG_ERRORS = {
    "nan_threshold.toml": "Config file {path}: setting 'thresholds_min' is [nan]; it must be a finite number (not NaN or infinity).",
    "negative_speed.toml": "Setting speeds_kmh.drive = -60 is negative; give a value of 0 or more in the config file or option.",
}
# file -> (rows read, rows used, {row: exact reason})
ROW_REJECTS = {
    "non_numeric.csv": (2, 1, {3: "latitude/longitude not a number ('forty-two', '-82.1')"}),
    "out_of_range.csv": (2, 1, {3: "latitude=142.4 / longitude=-82.1 out of range (latitude -90..90, longitude -180..180)"}),
    "swapped_row.csv": (2, 1, {3: "latitude and longitude look swapped (swapped, the point falls inside the region)"}),
    # Montreal: 731.3 km geodesic to the nearest boundary vertex; 732.0 km measured in UTM 17N.
    "outside_region.csv": (2, 1, {3: "outside the region (732.0 km from its boundary)"}),
    "duplicate_ids.csv": (2, 1, {3: "duplicate service_id 'a' (first at row 2)"}),
    "semicolon_decimal_comma.csv": (2, 2, {}),
    "latin1.csv": (1, 1, {}),
    "utf16.csv": (1, 1, {}),  # Excel "Unicode text": UTF-16 with BOM, tab-separated
    # feature numbers: 1 point, 2 polygon, 3 line, 4 one-point MultiPoint (kept as its point)
    "non_point_services.geojson": (4, 2, {2: "geometry is a Polygon, not a point; give one point per row",
                                          3: "geometry is a LineString, not a point; give one point per row"}),
}


@pytest.fixture(scope="module")
def ck_boundary(mirror):
    boundary, areas = layers.build_boundary(regions.get_region("chatham-kent"))
    return boundary.gdf, areas.gdf


@pytest.mark.parametrize("name", sorted(FILE_ERRORS))
def test_file_level_errors(name, ck_boundary):
    path = CORPUS / name
    with pytest.raises(InputError) as err:
        layers.read_user_services(path, ck_boundary[0])
    assert str(err.value) == FILE_ERRORS[name].format(path=path)


@pytest.mark.parametrize("name", sorted(ROW_REJECTS))
def test_row_level_rejects(name, ck_boundary):
    gdf, rej, n_read, _ = layers.read_user_services(CORPUS / name, ck_boundary[0], edge_buffer_m=0)
    read, used, reasons = ROW_REJECTS[name]
    assert (n_read, len(gdf)) == (read, used)
    assert n_read == len(gdf) + len(rej)
    assert dict(zip(rej["row"], rej["reason"])) == reasons
    assert set(rej["source"]) <= {str(CORPUS / name)}


def test_decimal_comma_and_latin1_values(ck_boundary):
    gdf, *_ = layers.read_user_services(CORPUS / "semicolon_decimal_comma.csv", ck_boundary[0])
    ll = gdf.to_crs("EPSG:4326").geometry
    assert ll.y.round(4).tolist() == [42.4, 42.41]
    gdf, *_ = layers.read_user_services(CORPUS / "latin1.csv", ck_boundary[0])
    assert gdf["name"].tolist() == ["Clinique Ste-Th\u00e9r\u00e8se"]


def test_malformed_quotes_is_one_sentence(ck_boundary):
    with pytest.raises(InputError) as err:
        layers.read_user_services(CORPUS / "malformed_quotes.csv", ck_boundary[0])
    msg = str(err.value)
    assert msg.startswith(f"Services file {CORPUS / 'malformed_quotes.csv'} is not a valid CSV (") and "\n" not in msg


def test_truncated_geojson(ck_boundary):
    with pytest.raises(InputError, match=r"truncated\.geojson cannot be read as a vector layer"):
        layers.read_user_services(CORPUS / "truncated.geojson", ck_boundary[0])


def test_shapefile_without_crs(ck_boundary, tmp_path):
    shp = tmp_path / "svc.shp"
    gpd.GeoDataFrame({"name": ["A"], "category": ["clinic"]}, geometry=[Point(-82.1, 42.4)], crs="EPSG:4326").to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputError) as err:
        layers.read_user_services(shp, ck_boundary[0])
    assert str(err.value) == f"Services file {shp} has no coordinate reference system; save it with a CRS (e.g. EPSG:4326)."


def test_sites_bad_workers(ck_boundary):
    lay = layers.build_user_sites(CORPUS / "sites_bad_workers.csv", *ck_boundary)
    assert lay.rows_read == 3 and lay.rows_used == 1
    assert dict(zip(lay.rejects["row"], lay.rejects["reason"])) == {
        3: "workers '-3' is not a non-negative number", 4: "workers '' is not a non-negative number"}


def test_invalid_boundary_repaired_and_reported(mirror):
    boundary, areas = layers.build_boundary(regions.get_region("chatham-kent"), boundary_file=CORPUS / "bowtie_boundary.geojson")
    assert boundary.gdf.geometry.iloc[0].is_valid and boundary.gdf.area.iloc[0] > 0


def test_validate_command_reports_each_case(mirror):
    files = [str(CORPUS / n) for n in ("non_numeric.csv", "swapped_all.csv", "duplicate_ids.csv")]
    res = CliRunner().invoke(main, ["validate", *files, "--kind", "services"])
    assert res.exit_code == 2  # one file is unusable
    out = res.stdout
    assert "non_numeric.csv: services, 2 rows read, 1 would be used, 1 rejected" in out
    assert "row 3: latitude/longitude not a number ('forty-two', '-82.1')" in out
    assert "swapped_all.csv: REJECTED FILE: Services file" in out
    assert "row 3: duplicate service_id 'a' (first at row 2)" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("name", sorted(BOUNDARY_ERRORS))
def test_boundary_errors(name, mirror):
    path = CORPUS / name
    with pytest.raises(InputError) as err:
        layers.build_boundary(regions.get_region("chatham-kent"), boundary_file=path)
    assert str(err.value) == BOUNDARY_ERRORS[name].format(path=path)


@pytest.mark.parametrize("name", sorted(CONFIG_ERRORS))
def test_config_errors(name):
    from gapmap.settings import load_settings

    with pytest.raises(InputError) as err:
        load_settings(CORPUS / name)
    assert str(err.value) == CONFIG_ERRORS[name].format(path=CORPUS / name)


def test_far_away_distance_is_geodesic_within_one_percent(ck_boundary):
    from pyproj import Geod

    outline = ck_boundary[0].to_crs("EPSG:4326").geometry.iloc[0]
    xs, ys = (outline.exterior if outline.geom_type == "Polygon" else max(outline.geoms, key=lambda g: g.area).exterior).xy
    _, _, d = Geod(ellps="WGS84").inv([-82.0] * len(xs), [45.5] * len(xs), list(xs), list(ys))
    assert abs(min(d) / 1000 - 316) / 316 < 0.01


def test_utf16_and_multipoint_values(ck_boundary):
    gdf, *_ = layers.read_user_services(CORPUS / "utf16.csv", ck_boundary[0])
    assert gdf["name"].tolist() == ["Centre d'accueil \u00c9toile"] and gdf["category"].tolist() == ["settlement"]
    gdf, *_ = layers.read_user_services(CORPUS / "non_point_services.geojson", ck_boundary[0])
    ll = gdf.to_crs("EPSG:4326").geometry
    assert gdf.geom_type.tolist() == ["Point", "Point"] and ll.x.round(5).tolist() == [-82.1, -82.12]


def test_validate_reports_non_point_rows_not_a_crash(mirror):
    res = CliRunner().invoke(main, ["validate", str(CORPUS / "non_point_services.geojson"), "--kind", "services"])
    assert res.exit_code == 0, res.output
    assert "geometry is a Polygon, not a point" in res.stdout and "Traceback" not in res.output


def test_file_above_the_size_limit_refused_before_reading(ck_boundary, monkeypatch, tmp_path):
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("name,category,latitude,longitude\n")
        fh.write("A,clinic,42.4,-82.1\n" * 60_000)  # 34 + 20 x 60,000 bytes = 1.2 MB
    monkeypatch.setenv("GAPMAP_MAX_INPUT_MB", "1")
    with pytest.raises(InputError) as err:
        layers.read_user_services(big, ck_boundary[0])
    assert str(err.value) == (f"Services file {big} is 1.2 MB, above the 1.0 MB input limit; split the file, or raise the "
                              "limit with GAPMAP_MAX_INPUT_MB.")
    monkeypatch.setenv("GAPMAP_MAX_INPUT_MB", "lots")
    with pytest.raises(InputError, match=r"GAPMAP_MAX_INPUT_MB='lots' is not a number of megabytes"):
        layers.read_user_services(big, ck_boundary[0])
