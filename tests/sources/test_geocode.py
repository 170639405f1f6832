"""The geocoding cascade: rule order, bad input, and Chatham-Kent against cited points (issue 14)."""

from __future__ import annotations

import csv
import dataclasses
import itertools

import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod

import gapmap
from gapmap import layers
from gapmap.errors import InputError
from gapmap.sources import catalog, geocode, regions

GEOD = Geod(ellps="WGS84")

# Cited positions, written here from their sources (not read from the code's tables):
# rural post-office points quoted in postal-points-ontario/PROVENANCE.md ("Wheatley N0P 2P0
# (42.092141, -82.46171)") and its CSV rows for the other four codes.
POST_OFFICES = {
    "Wheatley": (42.092141, -82.46171),
    "Charing Cross": (42.328942, -82.107755),
    "Grande Pointe": (42.418122, -82.369488),
    "Dover Centre": (42.477867, -82.373492),
    "Kent Bridge": (42.494717, -82.043381),
}
# GeoNames N0P centroid (geonames_postal_ca/PROVENANCE.md: "N0P Kent (Blenheim) 42.4045,-81.9107"),
# where all five used to be stacked.
N0P_CENTROID = (42.4045, -81.9107)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in km between two (lat, lon) points."""
    return GEOD.inv(a[1], a[0], b[1], b[0])[2] / 1000.0


def latlon(gdf) -> list[tuple[float, float]]:
    pts = gdf.geometry.to_crs("EPSG:4326")
    return list(zip(pts.y, pts.x))


@pytest.fixture(scope="module")
def ck(mirror):
    region = regions.get_region("chatham-kent")
    boundary, areas = layers.build_boundary(region)
    return region, boundary, areas


@pytest.fixture(scope="module")
def ck_sites(ck):
    region, boundary, areas = ck
    return layers.build_sites(region, boundary.gdf, areas.gdf)


# --------------------------------------------------------------------------- the rule itself


def test_urban_codes_are_the_only_more_precise_ones():
    # Canada Post: a 0 in second position marks a rural FSA, whose codes are post-office delivery areas.
    assert geocode.is_urban_code("N7L 1X6") and geocode.is_urban_code("n8a4l1")
    assert not geocode.is_urban_code("N0P 2P0")  # Wheatley post office: community-level, not more precise
    assert not geocode.is_urban_code("N7M") and not geocode.is_urban_code("N7M 5J") and not geocode.is_urban_code("")


def _tables(**postal_rows) -> geocode.Gazetteers:
    """Tiny tables on a 1-degree grid so that each rule's point is recognisable."""
    postal = pd.DataFrame(
        [(code, place, lat, lon, n) for code, (place, lat, lon, n) in postal_rows.items()],
        columns=["postal_code", "place", "latitude", "longitude", "codes_sharing_this_point"])
    gaz = pd.DataFrame({"name": ["Blenheim"], "latitude": [2.0], "longitude": [-2.0]})
    fsa = pd.DataFrame({"fsa": ["N0P", "N7M"], "latitude": [4.0, 5.0], "longitude": [-4.0, -5.0]})
    return geocode.Gazetteers(fsa=geocode.fsa_table(fsa, "fsa-src", "CC BY 4.0"),
                              community=geocode.community_table(gaz, "gaz-src", "OGL"),
                              postal=(geocode.postal_table(postal, "pc-src", "licence not stated"),),
                              municipality_names=("chatham kent",))


def test_cascade_order_and_reasons():
    tables = _tables(N7M1A1=("Chatham", 1.0, -1.0, 1), N7M1A2=("Chatham", 9.0, -9.0, 3),
                     N0P1A0=("Blenheim", 3.0, -3.0, 1), N0P2P0=("Wheatley", 3.5, -3.5, 1),
                     N0P0B1=("Wheatley", 8.0, -8.0, 16))
    rows = pd.DataFrame([
        ("Blenheim", "N7M 1A1"),   # urban own point beats the community point
        ("Blenheim", "N0P 1A0"),   # rural code is not more precise: the cited community point wins
        ("Blenheim", "N7M 1A2"),   # urban code sharing its point: skipped, community point
        ("Wheatley", "N0P 2P0"),   # not in the gazetteer: its own rural post office
        ("Wheatley", "N0P 0B1"),   # shared rural code: the post office named Wheatley in N0P
        ("Chatham-kent", "N0P 9Z9"),  # whole municipality, unknown code, no such post office: FSA centroid
        ("Nowhere", ""),           # nothing to go on: not placed
    ], columns=["place", "code"])
    out = geocode.geocode(rows["place"], rows["code"], tables)
    assert list(out["geocode_precision"]) == ["postal_code", "community", "community", "post_office", "post_office",
                                              "postal_area", None]
    assert list(zip(out["lat"][:6], out["lon"][:6])) == [(1.0, -1.0), (2.0, -2.0), (2.0, -2.0), (3.5, -3.5),
                                                        (3.5, -3.5), (4.0, -4.0)]
    assert list(out["geocode_source"][:6]) == ["pc-src", "gaz-src", "gaz-src", "pc-src", "pc-src", "fsa-src"]
    assert out["geocode_licence"][0] == "licence not stated" and out["geocode_licence"][5] == "CC BY 4.0"
    assert "shares its point with 2 other code(s)" in out["geocode_note"][2]
    assert "rural postal code shares its point with 15" in out["geocode_note"][4]
    assert "names the whole municipality" in out["geocode_note"][5]
    assert "not in the postal-point table" in out["geocode_note"][5]
    assert pd.isna(out["lon"][6]) and "no valid postal code" in out["geocode_note"][6]
    # Sensitive: no message quotes a six-character code.
    text = " ".join(str(v) for v in out[["geocode_match", "geocode_note"]].to_numpy().ravel())
    assert not any(c in text.replace(" ", "") for c in ("N7M1A1", "N0P1A0", "N7M1A2", "N0P2P0", "N0P0B1", "N0P9Z9"))


def test_read_postal_points_counts_shared_points(tmp_path):
    f = tmp_path / "pccf.csv"
    f.write_text("POSTAL_CODE,LATITUDE,LONGITUDE\nn0p 2p0,42.1,-82.4\nN0P0A1,42.3,-82.1\nN0P0A2,42.3,-82.1\n"
                 "BAD,1,1\nN7M1A1,not a number,-82\n")
    pts = geocode.read_postal_points(f)
    assert pts.set_index("postal_code")["codes_sharing_this_point"].to_dict() == {"N0P2P0": 1, "N0P0A1": 2, "N0P0A2": 2}
    # A PCCF-style export: PC / LAT / LONG, two records for one code, the single-link one (SLI=1) wins.
    (tmp_path / "pccf.csv").write_text("PC,LAT,LONG,SLI\nN0P2P0,42.0,-82.0,0\nN0P2P0,42.1,-82.4,1\n")
    pccf = geocode.read_postal_points(tmp_path / "pccf.csv")
    assert pccf[["postal_code", "latitude", "longitude"]].values.tolist() == [["N0P2P0", 42.1, -82.4]]
    (tmp_path / "bad.csv").write_text("code,x,y\nN0P2P0,1,2\n")
    with pytest.raises(InputError, match="needs postal_code, latitude and longitude columns"):
        geocode.read_postal_points(tmp_path / "bad.csv")


# --------------------------------------------------------------------------- Chatham-Kent, real data


def test_five_stacked_communities_land_at_their_own_points(ck, ck_sites):
    _, boundary, _ = ck
    sites = ck_sites.gdf
    outline = boundary.gdf.geometry.iloc[0]
    seen = {}
    for name, cited in POST_OFFICES.items():
        mine = sites[sites["community"].str.casefold() == name.casefold()]
        assert len(mine), name
        assert (mine["geocode_precision"] == "post_office").all(), name
        assert mine.within(outline).all(), name
        assert mine["area_id"].str.startswith("ward-").all(), name
        for pt in latlon(mine):
            assert km(pt, cited) < 2.0, name
        seen[name] = latlon(mine)[0]
    # No longer stacked: each pair of communities at least 5 km apart, each far from the N0P centroid.
    for a, b in itertools.combinations(seen, 2):
        assert km(seen[a], seen[b]) > 5.0, (a, b)
    assert all(km(p, N0P_CENTROID) > 8.0 for p in seen.values())


def test_wheatley_is_near_leamington(ck_sites, mirror):
    """Wikipedia (Wheatley, Ontario): "It lies about 12 km east of Leamington"; issue 14: ~13.5 km from its hospital."""
    with open(catalog.resolve("odhf"), encoding="cp1252", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["facility_name"] == "Leamington District Memorial Hospital")
    hospital = (float(row["latitude"]), float(row["longitude"]))
    wheatley = latlon(ck_sites.gdf[ck_sites.gdf["community"] == "Wheatley"])
    for pt in wheatley:
        assert 11.0 < km(pt, hospital) < 16.0
        assert pt[1] > hospital[1]  # east of Leamington
    assert km(N0P_CENTROID, hospital) > 50.0  # where the old geocoding put Wheatley's 321 workers


def test_florence_is_rejected_by_geometry_not_by_name(ck):
    region, boundary, areas = ck
    no_rule = dataclasses.replace(region, excluded_places=())
    lay = layers.build_sites(no_rule, boundary.gdf, areas.gdf)
    lay.check_accounting()
    out = lay.rejects[lay.rejects["reason"].str.startswith("placed outside the region")]
    assert len(out) == 5 and out["reason"].str.contains("Florence post office").all()
    # Florence post office (42.659318, -82.011338) is north of the CK line; the message gives the distance.
    assert out["reason"].str.contains(r", [01]\.\d km from the boundary").all()


def test_sources_carry_the_unstated_licence(ck_sites):
    assert "postal_points_lmia_ontario" in ck_sites.datasets
    entry = catalog.dataset("postal_points_lmia_ontario")
    assert entry.licence.startswith("licence not stated") and "licence not stated" in entry.attribution
    pos = ck_sites.gdf[ck_sites.gdf["geocode_precision"] == "post_office"]
    assert pos["geocode_licence"].str.startswith("licence not stated").all()
    assert any("licence is not stated" in n for n in ck_sites.notes)


# --------------------------------------------------------------------------- bad input, user files


SITES_CSV = """employer,community,postal_code,workers
Urban farm,Chatham,N7L 1X6,10
Unknown code,Chatham,N7M 5J8,20
Shared code,Wheatley,N0P 0B1,30
FSA only,Nowhere,N0P 9Z9,40
Over the line,Florence,N0P 1R0,50
No clue,Nowhere,,60
Essex,Leamington,N8H 9Z9,70
Bad count,Blenheim,N0P 1A0,-3
"""


def test_bad_input_rows_placed_by_next_rule_or_rejected(ck, tmp_path):
    region, boundary, areas = ck
    f = tmp_path / "sites.csv"
    f.write_text(SITES_CSV)
    lay = layers.build_user_sites(f, boundary.gdf, areas.gdf, region=region)
    lay.check_accounting()
    assert (lay.rows_read, lay.rows_used, lay.rows_rejected) == (8, 4, 4)
    got = lay.gdf.set_index("employer")
    assert got["geocode_precision"].to_dict() == {"Urban farm": "postal_code", "Unknown code": "community",
                                                  "Shared code": "post_office", "FSA only": "postal_area"}
    # Independent: the Chatham-Kent infobox point 42 deg 24' N, 82 deg 11' W, and N7L 1X6's point ~1.5 km from it.
    pts = dict(zip(got.index, latlon(got)))
    assert km(pts["Unknown code"], (42.4, -82.18333)) < 0.01
    assert 0.5 < km(pts["Urban farm"], (42.4, -82.18333)) < 3.0
    assert km(pts["Shared code"], POST_OFFICES["Wheatley"]) < 2.0
    assert got.loc["FSA only", "area_id"] == geocode.AREA_UNKNOWN
    assert got.drop(index="FSA only")["area_id"].str.startswith("ward-").all()
    reasons = dict(zip(lay.rejects["row"], lay.rejects["reason"]))
    assert "outside the region" in reasons[6] and "km from its boundary" in reasons[6]  # Florence
    assert reasons[7].startswith("could not geocode") and "no valid postal code" in reasons[7]
    assert "outside the region" in reasons[8]  # Leamington's FSA centroid is in Essex
    assert "not a non-negative number" in reasons[9]


def test_postal_area_site_is_in_no_ward(ck, tmp_path, mirror):
    f = tmp_path / "sites.csv"
    f.write_text(SITES_CSV)
    result = gapmap.analyze("chatham-kent", sites_file=f)
    tab = result.areas_table.set_index("area_id")
    assert tab.loc[geocode.AREA_UNKNOWN, "area_name"] == "area unknown (postal-area only)"
    assert tab.loc[geocode.AREA_UNKNOWN, "workers"] == 40 and tab.loc[geocode.AREA_UNKNOWN, "population"] == 0
    wards = tab[tab.index.str.startswith("ward-")]
    assert wards["workers"].sum() == 10 + 20 + 30  # the FSA-only site shades no ward
    assert tab.loc["region", "workers"] == 100  # but the region total counts it
    assert list(tab.index[-2:]) == [geocode.AREA_UNKNOWN, "region"]
    assert any("postal-area (FSA) centroid" in a and "never in a ward" in a for a in result.approximations)


def test_user_postal_points_replace_the_bundled_table(ck, tmp_path):
    region, boundary, areas = ck
    pccf = tmp_path / "pccf.csv"
    pccf.write_text("postal_code,latitude,longitude\nN0P 2P0,42.10,-82.45\n")
    lay = layers.build_sites(region, boundary.gdf, areas.gdf, postal_points_file=pccf)
    lay.check_accounting()
    wheat = lay.gdf[lay.gdf["community"] == "Wheatley"]
    assert (wheat["geocode_source"] == str(pccf)).all() and (wheat["geocode_licence"] == "as supplied by the user").all()
    assert all(km(p, (42.10, -82.45)) < 0.01 for p in latlon(wheat))
    assert not {"postal_points_lmia_ontario", "postal_points_rural_ontario"} & set(lay.datasets)
    assert str(pccf) in lay.datasets
    # Without place names in the user's file, Grande Pointe (code in the file? no) falls to the FSA centroid.
    assert (lay.gdf.loc[lay.gdf["community"] == "Grande Pointe", "geocode_precision"] == "postal_area").all()


def test_cli_postal_points_missing_file(mirror, tmp_path):
    from gapmap.cli import main

    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--postal-points", str(tmp_path / "nope.csv"),
                                    "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code != 0
    assert "Postal points file" in res.output + res.stderr and "--postal-points" in res.output + res.stderr


def test_outputs_say_the_licence_is_not_stated(ck_run):
    import json

    _, files = ck_run
    summ = json.loads(files["summary.json"].read_text())
    postal = [s for s in summ["layers"]["sites"]["sources"] if s["id"] == "postal_points_lmia_ontario"]
    assert len(postal) == 1 and postal[0]["licence"].startswith("licence not stated")
    assert any("licence not stated" in a for a in summ["attribution"])
    for name in ("map.html", "report.html"):
        assert "licence not stated" in files[name].read_text(), name


def test_mirror_postal_table_built_once_per_file_version(tmp_path, monkeypatch):
    """A batch geocodes every region against one table object; an edited file is read again."""
    import os

    f = tmp_path / "points.csv"
    f.write_text("postal_code,latitude,longitude,place\nN0P2P0,42.1,-82.4,Merlin\n")
    calls = []
    real = geocode.read_postal_points
    monkeypatch.setattr(geocode, "read_postal_points", lambda p, **k: calls.append(p) or real(p, **k))
    first = geocode._postal_point_table(f, "pc-src", "licence not stated")
    assert geocode._postal_point_table(str(f), "pc-src", "licence not stated") is first and len(calls) == 1
    assert geocode._rural_offices(first, "N0P")[1].tolist() == ["Merlin"]
    f.write_text("postal_code,latitude,longitude,place\nN0P2P0,42.1,-82.4,Merlin\nN0P1A0,42.2,-82.3,Blenheim\n")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = geocode._postal_point_table(f, "pc-src", "licence not stated")
    assert second is not first and len(calls) == 2
    assert sorted(geocode._rural_offices(second, "N0P")[1]) == ["Blenheim", "Merlin"]  # not the first table's lookups
    from gapmap.sources import readers

    versions = [k for k in readers._DERIVED if k[1][0][0] == str(f.resolve())]
    assert len(versions) == 1 and versions[0][1][0][1] == f.stat().st_mtime_ns  # the stale version is dropped
