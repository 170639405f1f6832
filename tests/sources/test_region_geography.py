"""Region boundaries, sub-areas and city census totals, checked against published facts."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gapmap import layers, sources
from gapmap.cli import main
from gapmap.errors import InputError
from gapmap.sources import catalog, regions

# Statistics Canada, 2021 Census of Population, Census Profile (98-316-X2021001).
CALGARY_CITY_2021 = 1_306_784  # CSD 4806016, City of Calgary
DIVISION_6_2021 = 1_590_639  # CD 4806, Division No. 6 (Calgary, Airdrie, Rocky View...)
TORONTO_2021 = 2_794_356  # CSD 3520005 = CD 3520, City of Toronto


def _built(slug):
    region = regions.get_region(slug)
    boundary, areas = layers.build_boundary(region)
    return region, boundary, areas


def test_calgary_census_total_is_the_citys_not_the_divisions(mirror):
    region, boundary, areas = _built("calgary")
    pop, total = layers.build_population(region, boundary.gdf, areas.gdf)
    assert total == CALGARY_CITY_2021 and total != DIVISION_6_2021
    pop.check_accounting()
    # The mirror cannot place every DA: 2021 DAs new since 2016 have no point. The city total must lie
    # between the people placed inside the city and those plus every unplaced DA of the division.
    placed = pop.gdf["pop2021"].sum()
    da = sources.read_da_population(catalog.resolve("da_population_2021"))
    assert da.loc[da["dauid"] == "4806", "pop2021"].item() == DIVISION_6_2021  # the mirror's division row
    no_point = pop.rejects[pop.rejects["reason"].str.startswith("DA has no 2016")]
    unplaced = da[da["source_row"].isin(no_point["row"])]["pop2021"].sum()
    assert placed <= CALGARY_CITY_2021 <= placed + unplaced <= DIVISION_6_2021
    note = " ".join(pop.notes)
    assert f"{CALGARY_CITY_2021:,}" in note and f"{placed:,.0f}" in note  # the gap is explained where it shows
    # Calgary's 14 wards are its sub-areas and its boundary (no Airdrie: 51.29 N is north of the city).
    assert len(areas.gdf) == 14
    airdrie = gpd.GeoSeries([shapely.Point(-114.01, 51.29)], crs="EPSG:4326").to_crs(boundary.gdf.crs).iloc[0]
    assert not boundary.gdf.geometry.iloc[0].contains(airdrie)


def test_toronto_city_wide_runs_offline_with_its_25_wards(mirror):
    region, boundary, areas = _built("toronto")
    assert len(areas.gdf) == 25 and areas.gdf["area_id"].is_unique
    assert "Etobicoke North" in set(areas.gdf["area_name"])  # ward names from the source
    pop, total = layers.build_population(region, boundary.gdf, areas.gdf)
    assert total == TORONTO_2021


def test_ottawa_24_wards_and_st_johns_5_ward_boundary(mirror):
    assert len(_built("ottawa")[2].gdf) == 24
    _, boundary, areas = _built("st-johns")
    assert len(areas.gdf) == 5
    # represent-canada-wards PROVENANCE: the union of Wards 1-5 is the city, 478.7 km2.
    assert boundary.gdf.area.sum() / 1e6 == pytest.approx(478.7, rel=0.01)


def test_city_lips_use_their_city(mirror):
    # 2021 Census populations (Census Profile, CSDs 3510010 and 3558004): the DAs placed in the wards add up to them.
    for slug, published in (("kingston", 132_485), ("thunder-bay", 108_843)):
        region, boundary, areas = _built(slug)
        pop, total = layers.build_population(region, boundary.gdf, areas.gdf)
        assert total == published and pop.gdf["pop2021"].sum() == published
    for slug in ("timmins", "sault-ste-marie", "smiths-falls"):
        assert "has no boundary offline" in regions.get_region(slug).note


def test_halifax_view_leaves_out_sable_island(mirror):
    _, boundary, areas = _built("halifax")
    # Sable Island (43.93 N, 59.9 W) is in the boundary, not in the initial view.
    sable = gpd.GeoSeries([shapely.Point(-59.95, 43.935)], crs="EPSG:4326").to_crs(boundary.gdf.crs).iloc[0]
    assert boundary.gdf.geometry.iloc[0].buffer(2000).contains(sable)
    minx, miny, maxx, maxy = layers.build.initial_bounds(boundary.gdf)
    assert maxx < -61.5 and miny > 44.0 and minx < -64.0  # mainland HRM only
    assert len(areas.gdf) == 17 and areas.gdf["area_id"].iloc[-1] == "rest-1209034"


@pytest.mark.parametrize("slug", ["london-middlesex", "durham", "waterloo"])
def test_sub_areas_with_rest_cover_the_region(mirror, slug):
    _, boundary, areas = _built(slug)
    outline = boundary.gdf.geometry.iloc[0]
    covered = areas.gdf.union_all().intersection(outline).area
    assert covered / outline.area > 0.99  # only slivers under 2 km2 at the simplified CD edge are left out
    assert areas.gdf["area_id"].is_unique
    areas.check_accounting()


def test_areas_file_replaces_sub_areas_and_is_validated(mirror, tmp_path):
    region = regions.get_region("chatham-kent")
    _, wards = layers.build_boundary(region)
    two = wards.gdf.iloc[:2].assign(name=["North", "South"])[["name", "geometry"]]
    far = gpd.GeoDataFrame({"name": ["Elsewhere"]}, geometry=[shapely.box(-70, 40, -69.9, 40.1)], crs="EPSG:4326")
    good = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        gpd.pd.concat([two.to_crs("EPSG:4326"), far], ignore_index=True), geometry="geometry", crs="EPSG:4326"
    ).to_file(good)
    _, areas = layers.build_boundary(region, areas_file=good)
    assert areas.gdf["area_name"].tolist() == ["North", "South"]
    assert areas.rows_read == 3 and areas.rows_rejected == 1
    assert areas.rejects["reason"].tolist() == ["area does not touch the region boundary"]
    areas.check_accounting()

    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(-82.2, 42.4)], crs="EPSG:4326").to_file(points)
    nocol = tmp_path / "nocol.geojson"
    gpd.GeoDataFrame({"colour": ["red"]}, geometry=[wards.gdf.geometry.iloc[0]], crs=wards.gdf.crs).to_file(nocol)
    for path, message in ((points, "is a Point, not a polygon"), (nocol, "has no id or name column")):
        with pytest.raises(InputError, match=message) as err:
            layers.build_boundary(region, areas_file=path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_regions_command_shows_annex_status_sources_and_counts(mirror):
    res = CliRunner().invoke(main, ["regions"])
    assert res.exit_code == 0, res.output
    lines = {ln.split(" | ")[0]: ln.split(" | ") for ln in res.stdout.splitlines() if " | " in ln}
    assert lines["toronto"][3] == "yes" and lines["toronto"][5].endswith("(25)")
    assert lines["perth"][3].startswith("no")
    assert lines["calgary"][2] == "United Way of Calgary and Area"
    assert lines["toronto-north"][4].startswith("none offline")
    assert "38 of the 2012-13 annex, 3 formed later" in res.stdout


def test_cli_areas_option(mirror, tmp_path):
    region = regions.get_region("chatham-kent")
    _, wards = layers.build_boundary(region)
    halves = wards.gdf.assign(group=["west", "west", "west", "east", "east", "east"]).dissolve("group").reset_index()
    path = tmp_path / "halves.gpkg"
    halves[["group", "geometry"]].rename(columns={"group": "name"}).to_file(path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--areas", str(path), "--network", "straight",
                                    "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    table = gpd.pd.read_csv(out / "areas.csv")
    assert table["area_name"].tolist()[:2] == ["east", "west"]
    # Same workers in total as with the wards: the areas only regroup them.
    assert "of 2,507 estimated workers" in res.stdout
    bad = CliRunner().invoke(main, ["analyze", "--region", "kingston", "--region", "huron", "--areas", str(path), "-q"])
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --areas applies to one region")


def test_user_boundary_clips_population_and_claims_no_census_total(mirror):
    # With --boundary, the region's census total no longer describes the area analysed.
    region = regions.get_region("chatham-kent")
    boundary, areas = layers.build_boundary(region)
    half = boundary.gdf.assign(geometry=areas.gdf.iloc[:3].union_all())
    full, total = layers.build_population(region, boundary.gdf, areas.gdf)
    clipped, none = layers.build_population(region, half, areas.gdf, clip=True)
    assert total == 104_316 and none is None  # Chatham-Kent, 2021 Census (CD 3536)
    assert 0 < len(clipped.gdf) < len(full.gdf)
    clipped.check_accounting()
