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
