"""Facts of the real offline data, checked against independent reads of the raw files."""

import csv

import pandas as pd
import pytest
from pyproj import Geod

from gapmap import layers, sources
from gapmap.sources import catalog
from gapmap.sources import geocode
from gapmap.sources import regions
from gapmap.errors import InputError


@pytest.fixture(scope="module")
def ck(mirror):
    region = regions.get_region("chatham-kent")
    boundary, areas = layers.build_boundary(region)
    return region, boundary, areas


def test_odhf_latin1_and_id_quirks(mirror):
    df = sources.read_odhf(catalog.resolve("odhf"))
    assert len(df) == 7033
    assert df["facility_name"].str.contains("Extendicare \u2014 Athabasca").any()  # cp1252 em dash decoded
    assert (df.loc[df["CSDuid"] != "", "CSDuid"].str.fullmatch(r"\d{7}")).all()
    assert set(df["province"]) >= {"ON", "QC", "BC"}


def test_boundary_and_six_wards(ck):
    region, boundary, areas = ck
    assert list(areas.gdf["area_id"]) == [f"ward-{i}" for i in range(1, 7)]
    assert boundary.gdf.crs.to_epsg() == 26917
    km2 = boundary.gdf.area.iloc[0] / 1e6
    # Oracle: the ellipsoidal area. (PROVENANCE's 2663.3 km2 was measured in EPSG:3347, whose
    # conformal scale at 42 N inflates areas by about 6%; that is why gapmap works in UTM.)
    geo_m2, _ = Geod(ellps="GRS80").geometry_area_perimeter(boundary.gdf.to_crs("EPSG:4326").geometry.iloc[0])
    assert km2 == pytest.approx(abs(geo_m2) / 1e6, rel=2e-3)
    assert 2400 < km2 < 2600


def test_services_inside_region_match_odhf_csd(ck, mirror):
    _, boundary, _ = ck
    lay = layers.build_services(boundary.gdf)
    lay.check_accounting()
    with open(catalog.resolve("odhf"), encoding="cp1252", newline="") as fh:
        ck_rows = {f"odhf-{r['index']}" for r in csv.DictReader(fh) if r["CSDuid"] == "3536020.0"}
    assert len(ck_rows) == 32
    inside = set(lay.gdf.loc[lay.gdf["in_region"], "service_id"])
    # The 32 CSD rows plus Delaware Nation at Moraviantown, its own CSD inside the boundary.
    assert inside - ck_rows == {"odhf-3359"} and ck_rows <= inside
    hosp = lay.gdf[lay.gdf["in_region"] & (lay.gdf["category"] == "hospital")]
    assert len(hosp) == 2
    # Every ODHF row (7,033) and every ODCAF row (7,972, for its libraries) is read and accounted for.
    assert lay.rows_read == 7033 + 7972
    assert set(lay.gdf["source"]) == {"odhf", "odcaf"}


def test_population_sums_to_census_total(ck):
    region, boundary, areas = ck
    lay, total = layers.build_population(region, boundary.gdf, areas.gdf)
    assert len(lay.gdf) == 269
    assert total == 104_316
    assert lay.gdf["pop2021"].sum() == 104_316
    # Independent: the derived SW Ontario file of the mirror agrees DA by DA.
    import geopandas as gpd

    ref = gpd.read_file(catalog.resolve("da_points_swon"))
    ref = ref[ref["CDUID"] == "3536"].set_index("DAUID")["pop2021"]
    mine = lay.gdf.set_index("dauid")["pop2021"]
    assert mine.sort_index().equals(ref.sort_index().astype(float))
    assert set(lay.gdf["area_id"]) == {f"ward-{i}" for i in range(1, 7)}


def test_sites_accounting_and_florence(ck, mirror):
    region, boundary, areas = ck
    lay = layers.build_sites(region, boundary.gdf, areas.gdf)
    lay.check_accounting()
    raw = pd.read_csv(catalog.resolve("lmia_chatham_kent"), dtype=str)
    assert lay.rows_read == len(raw) == 389
    pa = raw[raw["program_stream"] == "Primary Agriculture"]
    assert len(pa) == 291
    # Florence (N0P 1R0) is in Dawn-Euphemia, Lambton County (ck-community-points PROVENANCE): its rows are
    # rejected because their best point lies outside the boundary, with the distance, not by a name rule.
    florence = lay.rejects[lay.rejects["reason"].str.contains("Florence post office")]
    assert len(florence) == 5 == (pa["city"] == "Florence").sum()
    assert florence["reason"].str.fullmatch(r"placed outside the region by its best point .*, \d+\.\d km from the boundary").all()
    assert lay.rows_used == 291 - 5
    assert int(lay.gdf["lmia_rows"].sum()) == lay.rows_used
    # Issue 14: every CK site now has a community or rural post-office point; none rests on an FSA centroid.
    assert set(lay.gdf["geocode_precision"]) == {"community", "post_office"}
    assert (lay.gdf.loc[lay.gdf["community"] == "Wheatley", "geocode_precision"] == "post_office").all()


def test_worker_estimate_hand_computed(ck, mirror):
    """Peak calendar-year sum of positions, recomputed from the raw CSV for the biggest employer."""
    region, boundary, areas = ck
    lay = layers.build_sites(region, boundary.gdf, areas.gdf)
    raw = pd.read_csv(catalog.resolve("lmia_chatham_kent"), dtype=str)
    raw = raw[raw["program_stream"] == "Primary Agriculture"]
    top = lay.gdf.sort_values("workers").iloc[-1]
    rows = raw[(raw["employer"] == top["employer"]) & (raw["city"] == top["community"])].copy()
    rows["n"] = rows["approved_positions"].astype(float)
    by_year = rows.groupby("year")["n"].sum()
    assert top["workers"] == by_year.max()
    assert top["workers"] < rows["n"].sum() or len(by_year) == 1  # years are never summed


def test_geocode_typos_and_municipality():
    gaz = pd.DataFrame({"name": ["Blenheim", "Chatham"], "latitude": [42.33, 42.40], "longitude": [-81.99, -82.18]})
    fsa = pd.DataFrame({"fsa": ["N0P"], "latitude": [42.40], "longitude": [-81.91]})
    out = geocode.geocode_places(pd.Series(["Blenehim", "CHATHAM ", "Chatham-kent", "Nowhere", "Wallaceburg Ontario"]),
                                 pd.Series(["N0P", "N7M", "N0P", "", "XXX"]), gaz, fsa, municipality_names=("chatham kent",))
    assert list(out["geocode_match"]) == ["Blenheim", "Chatham", "N0P", None, None]
    assert list(out["geocode_precision"][:3]) == ["community", "community", "postal_area"]
    assert out["lon"][3:].isna().all()
    assert geocode.normalize_place("Wallaceburg Ontario") == "wallaceburg"


def test_utm_distances_match_geodesic(ck):
    """The work CRS keeps distances within 0.1% of the ellipsoidal distance (independent oracle)."""
    import geopandas as gpd
    from shapely.geometry import Point

    _, boundary, _ = ck
    pts = gpd.GeoSeries([Point(-82.1937, 42.4051), Point(-81.9986, 42.3333)], crs="EPSG:4326")
    proj = pts.to_crs(boundary.gdf.crs)
    d_utm = proj.iloc[0].distance(proj.iloc[1])
    _, _, d_geo = Geod(ellps="GRS80").inv(-82.1937, 42.4051, -81.9986, 42.3333)
    assert d_utm == pytest.approx(d_geo, rel=1e-3)


def test_malformed_csv_is_one_sentence(tmp_path):
    bad = tmp_path / "services.csv"
    bad.write_text('name,category,latitude\n"unclosed,hospital,42\n')
    with pytest.raises(InputError) as err:
        sources.read_csv(bad, ["name", "category", "latitude", "longitude"], what="Services")
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("title,kind\nA,b\n")
    with pytest.raises(InputError, match="lacks column"):
        sources.read_csv(wrong, ["name", "category"], what="Services")
