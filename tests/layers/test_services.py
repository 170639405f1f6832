"""Services layer: ODHF classification against hand labels, category map, location checks,
ODCAF libraries, user files, and the category registry flowing to labels and the map."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gapmap import categories
from gapmap.errors import InputError
from gapmap.layers import build
from gapmap.sources import catalog, readers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def ck_boundary(mirror) -> gpd.GeoDataFrame:
    return gpd.read_file(catalog.resolve("ck_boundary")).to_crs("EPSG:26917")


@pytest.fixture(scope="module")
def odhf(mirror) -> pd.DataFrame:
    return readers.read_odhf(catalog.resolve("odhf"))


@pytest.fixture(scope="module")
def ck_services(ck_boundary) -> build.Layer:
    return build.build_services(ck_boundary)


def _within_30km(odhf: pd.DataFrame, boundary: gpd.GeoDataFrame) -> pd.DataFrame:
    ok = odhf.dropna(subset=["latitude", "longitude"])
    pts = gpd.GeoSeries(gpd.points_from_xy(ok["longitude"], ok["latitude"]), crs="EPSG:4326", index=ok.index).to_crs(boundary.crs)
    return ok[pts.distance(boundary.union_all()) <= 30_000]


def test_hand_labels_reproduced_exactly(odhf, ck_boundary):
    """Every ODHF facility within 30 km of Chatham-Kent, labelled by hand from its name and type."""
    labels = pd.read_csv(FIXTURES / "odhf_ck_labels.csv", dtype=str)
    near = _within_30km(odhf, ck_boundary)
    assert sorted(near["index"]) == sorted(labels["index"])  # the fixture lists every one of them (65)
    assert len(labels) == 65
    got = build.classify_odhf(near).assign(index=near["index"]).set_index("index")["category"]
    want = labels.set_index("index")["category"]
    diff = [(i, labels.set_index("index").loc[i, "facility_name"], want[i], got[i]) for i in want.index if got[i] != want[i]]
    assert diff == []
    # Hand count: 6 clinics, 5 hospitals, 14 support agencies/offices (3 of them First Nation CSS entries), 40 homes.
    assert want.value_counts().to_dict() == {"residential_care": 40, "community_support": 14, "primary_care": 6, "hospital": 5}


@pytest.mark.parametrize("name", [
    "Alzheimer Society of Chatham-Kent",
    "New Beginnings Abi and Stroke Recovery Association",
    "Erie St. Clair Local Health Integration Network",
    "Erie St. Clair Lhin-Home Care",
    "Family Service Kent",
    "Canadian Mental Health Association (Cmha) Lambton Kent Branch",
    "Maple City Centre for Older Adults o/a Active Lifestyle Centre",
])
def test_support_agencies_named_in_issue_are_not_primary_care(odhf, name):
    row = odhf[odhf["facility_name"] == name]
    assert len(row) == 1
    assert build.classify_odhf(row)["category"].iloc[0] == "community_support"


def test_clinic_kinds_are_primary_care():
    """Name rules: the clinic kinds the issue lists, and what must not become primary care."""
    df = pd.DataFrame({
        "index": ["1", "2", "3", "4", "5", "6", "7"],
        "facility_name": ["Sandy Lake Family Health Team", "Walk-In Clinic Downtown", "Sudbury Nurse Practitioner-Led Clinic",
                          "Anishnawbe Aboriginal Health Access Centre", "Riverside Physiotherapy Clinic", "Some Agency",
                          "Ajax Medical Clinic"],
        "source_facility_type": ["", "", "", "", "clinic", "", ""],
        "odhf_facility_type": ["Ambulatory health care services"] * 7,
        "provider": ["x"] * 7,
    })
    got = build.classify_odhf(df)["category"].tolist()
    # physiotherapy is clinical but not primary care; an unknown agency is never primary care by default
    assert got == ["primary_care", "primary_care", "primary_care", "primary_care", "other_health", "other_health", "primary_care"]


def test_services_layer_accounts_and_carries_rules(ck_services):
    lay = ck_services
    lay.check_accounting()
    g = lay.gdf
    assert g["category_rule"].notna().all() and (g["category_rule"] != "").all()
    odhf = g[g["source"] == "odhf"]
    assert len(odhf) == 64  # the 65 within 30 km less Georgina Island (rejected by the location check)
    assert (odhf["category"] == "primary_care").sum() == 6
    ids = set(odhf.loc[odhf["category"] == "primary_care", "service_id"])
    assert ids == {"odhf-2929", "odhf-3122", "odhf-4168", "odhf-5565", "odhf-5745", "odhf-6012"}


def test_georgina_island_flagged(ck_services, odhf, ck_boundary):
    """A Lake Simcoe address (L0E 1R0, Georgina) plotted in West Elgin: rejected with the reason."""
    rej = ck_services.rejects
    georgina = odhf[odhf["facility_name"] == "Chippewas of Georgina Island First Nations"]
    row = rej[(rej["row"] == int(georgina["source_row"].iloc[0])) & rej["source"].str.endswith("odhf_v1.1.csv")]
    assert len(row) == 1 and row["reason"].iloc[0].startswith("location check:")
    assert "(in L0E)" in row["reason"].iloc[0]
    assert "odhf-3146" not in set(ck_services.gdf["service_id"])
    assert any("ODHF location checks: 1 facility" in n for n in ck_services.notes)
    # check_odhf_locations on its own: Georgina Island is ~260 km from its postal point.
    near = _within_30km(odhf, ck_boundary)
    gdf = gpd.GeoDataFrame(near, geometry=gpd.points_from_xy(near["longitude"], near["latitude"]), crs="EPSG:4326").to_crs(ck_boundary.crs)
    loc = build.check_odhf_locations(gdf)
    g = loc.loc[georgina.index[0]]
    assert bool(g["reject"]) and 240 < g["postal_km"] < 290
    assert int(loc["reject"].sum()) == 1


def test_location_check_flags_point_outside_its_stated_cd(mirror):
    """A point 1 km from its own postal point but in the wrong census division is flagged, kept."""
    df = pd.DataFrame({"postal_code": ["N0P 2P0", "N0P 2P0"], "latitude": [42.092141, 42.092141],
                       "longitude": [-82.46171, -82.46171], "CSDuid": ["3536020", "3539027"], "CSDname": ["Chatham-Kent", "Southwest Middlesex"]})
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326").to_crs("EPSG:26917")
    loc = build.check_odhf_locations(gdf)
    assert loc["flag"].iloc[0] == "" and loc["postal_km"].iloc[0] < 0.01
    assert "outside its stated census subdivision Southwest Middlesex" in loc["flag"].iloc[1]
    assert not loc["reject"].any()


def test_category_map_overrides_and_errors(ck_boundary, tmp_path):
    cmap = tmp_path / "map.csv"
    cmap.write_text("facility_id,pattern,category\n3130,,primary_care\n,Alzheimer,other_health\n")
    lay = build.build_services(ck_boundary, category_map=cmap)
    g = lay.gdf.set_index("service_id")
    assert g.loc["odhf-3130", "category"] == "primary_care" and "facility override" in g.loc["odhf-3130", "category_rule"]
    assert g.loc["odhf-2473", "category"] == "other_health"
    bad = tmp_path / "bad.csv"
    bad.write_text("facility_id,category\n3130,clinique\n")
    with pytest.raises(InputError, match=r"row 2: unknown category 'clinique'"):
        build.read_category_map(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("facility_id,category\n99999999,hospital\n")
    with pytest.raises(InputError, match="names facility 'odhf-99999999', which is not in ODHF"):
        build.build_services(ck_boundary, category_map=missing)
    regex = tmp_path / "regex.csv"
    regex.write_text("pattern,category\n(unclosed,hospital\n")
    with pytest.raises(InputError, match="not a valid regular expression"):
        build.read_category_map(regex)


def test_user_files_several_and_unknown_category_rejected(ck_boundary, tmp_path):
    a = tmp_path / "settlement.csv"
    a.write_text("name,category,latitude,longitude,opening_hours,languages\n"
                 "Newcomer Centre,settlement,42.405,-82.19,Mo-Fr 09:00-17:00,en;es\n"
                 "Dentist,dentist,42.41,-82.19,,\n")
    b = tmp_path / "linc.csv"
    b.write_text("name,category,latitude,longitude\nLINC class,LINC,42.40,-82.18\nNo place,employment,,\n")
    lay = build.build_services(ck_boundary, services_file=[a, b])
    lay.check_accounting()
    user = lay.gdf[lay.gdf["source_type"] == "user"].set_index("name")
    assert user.loc["Newcomer Centre", "category"] == "settlement"
    assert user.loc["LINC class", "category"] == "language"  # alias
    assert user.loc["Newcomer Centre", "languages"] == "en;es"
    assert user.index.is_unique and user["service_id"].is_unique  # row 2 of each file keeps its own id
    reasons = lay.rejects.loc[lay.rejects["source"] == str(a), "reason"].tolist()
    assert reasons == [f"unknown category 'dentist' (use one of {', '.join(categories.keys())})"]
    assert (lay.rejects["source"] == str(b)).sum() == 1  # the row without coordinates


def test_services_template_reads(ck_boundary):
    template = Path(build.__file__).resolve().parents[2] / "data" / "services_template.csv"
    rows = list(csv.DictReader(template.open(encoding="utf-8")))
    assert {"name", "category", "latitude", "longitude", "opening_hours", "languages"} <= set(rows[0])
    assert {r["category"] for r in rows} == {"settlement", "language", "employment"}
    lay = build.build_services(ck_boundary, services_file=template)
    lay.check_accounting()
    assert (lay.gdf["source_type"] == "user").sum() == len(rows)


def test_odcaf_libraries_near_ck(ck_services):
    """ODCAF has no Chatham-Kent library (PROVENANCE); the border libraries within 30 km come in."""
    lib = ck_services.gdf[ck_services.gdf["category"] == "library"]
    assert set(lib["name"]) == {"Essex County", "Glencoe Library", "Melbourne Library", "Newbury Library", "Wardsville Library"}
    assert not lib["in_region"].any()


def test_registry_defaults_and_french_article():
    from gapmap.settings import Settings

    assert Settings().categories == ("hospital", "primary_care") == categories.default_categories()
    assert Settings().headline_category == "hospital"
    assert Settings().thresholds_min == categories.default_thresholds() == (15.0, 30.0, 60.0)
    assert categories.of_a("hospital", "fr") == "d'un hôpital"
    assert categories.of_a("library", "fr") == "d'une bibliothèque"
    assert categories.of_a("primary_care", "en") == "of a primary care clinic"
    assert categories.of_a("other_health", "en") == "of an other health service"


def test_new_category_flows_to_labels_and_legend():
    """A category registered in one place reaches the labels, colours, glyphs and ODHF rules."""
    from gapmap.output import i18n, webmap

    dental = categories.Category(
        "dental", "dental clinic", "clinique dentaire", "f", "#123456", "D",
        odhf_rules=(categories.OdhfRule(35, "facility_name", r"dental|dentist", "name: dental clinic"),),
    )
    df = pd.DataFrame({"index": ["1"], "facility_name": ["Kent Dental Clinic"], "source_facility_type": ["clinic"],
                       "odhf_facility_type": ["Ambulatory health care services"], "provider": ["x"]})
    with categories.registered(dental):
        assert i18n.cat_label("dental", "fr") == "clinique dentaire"
        assert i18n.cat_of_a("dental", "fr") == "d'une clinique dentaire"
        assert webmap.category_colour("dental") == "#123456"
        assert "D</div>" in webmap._icon("dental", 0).options["html"]  # the map glyph
        assert build.classify_odhf(df)["category"].iloc[0] == "dental"
    assert "dental" not in categories.REGISTRY
    assert build.classify_odhf(df)["category"].iloc[0] == "primary_care"


def test_docs_list_every_rule():
    """docs/service-categories.md shows every built-in ODHF rule (order, category, pattern)."""
    doc = (Path(build.__file__).resolve().parents[2] / "docs" / "service-categories.md").read_text(encoding="utf-8")
    for rule, cat in categories.odhf_rules():
        assert f"| {rule.order} | `{cat}` | `{rule.field}` | `{rule.pattern.replace('|', chr(92) + '|')}` |" in doc


def test_cli_several_services_category_map_and_osm_file(mirror, tmp_path):
    """--services twice, --category-map and --osm-services FILE reach the services layer."""
    import json

    from click.testing import CliRunner

    from gapmap.cli import main

    a, b, cmap = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "map.csv"
    a.write_text("name,category,latitude,longitude\nNewcomer centre,settlement,42.405,-82.19\n")
    b.write_text("name,category,latitude,longitude\nLINC,esl,42.41,-82.18\nTypo,setlement,42.41,-82.18\n")
    cmap.write_text("facility_id,category\n3130,primary_care\n")
    osm_file = catalog.resolve("osm_toronto_uoft")
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--services", str(a), "--services", str(b),
                                    "--category-map", str(cmap), "--osm-services", str(osm_file),
                                    "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.stderr
    assert "beyond 30 min of a primary care clinic" in res.stdout
    summ = json.loads((tmp_path / "o" / "summary.json").read_text())
    svc = summ["layers"]["services"]
    assert svc["features_by_category"]["settlement"] == 1 and svc["features_by_category"]["language"] == 1
    assert svc["rejected_by_reason"][f"unknown category 'setlement' (use one of {', '.join(categories.keys())})"] == 1
    # Toronto's 23 amenities are read and accounted for as outside Chatham-Kent.
    assert svc["rows_read"] == svc["rows_used"] + svc["rows_rejected"]
    assert any(n.startswith("OSM amenities read from toronto_uoft_2020-11.osm: none in or near the region") for n in summ["notes"])
    services = gpd.read_file(tmp_path / "o" / "layers.gpkg", layer="services").set_index("service_id")
    assert services.loc["odhf-3130", "category"] == "primary_care"
    bad = tmp_path / "badmap.csv"
    bad.write_text("facility_id,category\n3130,clinique\n")
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--category-map", str(bad), "--out", str(tmp_path / "x"), "-q"])
    assert res.exit_code != 0 and res.stderr.count("\n") == 1 and "row 2: unknown category 'clinique'" in res.stderr


def test_registered_category_reaches_map_legend_and_layers(mirror, tmp_path):
    """A category added to a temporary registry shows in the map's legend and layer names, in French too."""
    import gapmap

    dental = categories.Category("dental", "dental clinic", "clinique dentaire", "f", "#123456", "D")
    svc = tmp_path / "dental.csv"
    svc.write_text("name,category,latitude,longitude\nKent Dental,dental,42.405,-82.19\n")
    with categories.registered(dental):
        settings = gapmap.load_settings(categories=("hospital", "dental"), lang="fr")
        _, files = gapmap.run("chatham-kent", out_dir=tmp_path / "o", settings=settings, services_file=svc)
    page = files["map.html"].read_text(encoding="utf-8")
    assert "Services : clinique dentaire" in page and "#123456" in page
    assert "clinique dentaire" in files["report.html"].read_text(encoding="utf-8")


def test_location_check_fsa_centre_flags_but_never_rejects(mirror):
    """A town code with no point of its own: only its FSA centre is known (N7M: Chatham Southeast,
    42.4238,-82.1183). Ridgetown is ~19 km away: flagged (town FSA > 15 km), kept; 1 km away: fine."""
    df = pd.DataFrame({"postal_code": ["N7M 9Z9", "N7M 9Z9"], "latitude": [42.4400, 42.4300],
                       "longitude": [-81.8900, -82.1100], "CSDuid": ["3536020", "3536020"], "CSDname": ["Chatham-Kent"] * 2})
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326").to_crs("EPSG:26917")
    loc = build.check_odhf_locations(gdf)
    assert loc["postal_km"].isna().all()
    assert loc["flag"].iloc[0] == "19 km from its postal area N7M's centre"
    assert loc["flag"].iloc[1] == "" and not loc["reject"].any()


def test_location_check_across_ontario_rejects_only_georgina(odhf):
    """Province-wide: the only point with both its postal code's point and its FSA centre > 100 km away,
    in southern Ontario, that its own CSD does not corroborate, is Georgina Island. Chippewas of the
    Thames (postal code N0H 2L0 is Southampton's, but its point is on its own reserve) is only flagged;
    northern points (cazipcode's P0 points are themselves off, e.g. Hornepayne) are only flagged."""
    on = odhf[odhf["province"] == "ON"].dropna(subset=["latitude", "longitude"])
    gdf = gpd.GeoDataFrame(on, geometry=gpd.points_from_xy(on["longitude"], on["latitude"]), crs="EPSG:4326").to_crs("EPSG:3347")
    loc = build.check_odhf_locations(gdf).join(on[["facility_name"]])
    assert loc.loc[loc["reject"], "facility_name"].tolist() == ["Chippewas of Georgina Island First Nations"]
    flagged = set(loc.loc[loc["flag"] != "", "facility_name"])
    assert {"Chippewas of the Thames Band (Css)", "Hornepayne Community Hospital", "Residence Lefebvre"} <= flagged


def test_french_templates_need_no_guessed_article():
    """No "d'un(e)" left: templates filled with a bare category name are phrased without an article."""
    from gapmap.output import i18n

    fr = i18n.labels("fr")
    assert not [k for k, v in fr.items() if "d'un(e)" in v or "(de la)" in v]
    assert fr["areas_layer"].format(t=30, cat=i18n.cat_label("primary_care", "fr")) == (
        "Secteurs : part des travailleurs à plus de 30 min du service le plus proche (clinique de soins primaires)")


def test_categories_kept_per_process_follow_the_rules(ck_boundary, monkeypatch):
    """The ODHF categories a batch keeps are those of the rules in force: a changed rule set classifies afresh."""
    first = build.build_services(ck_boundary).gdf
    again = build.build_services(ck_boundary).gdf  # from the kept classification
    pd.testing.assert_frame_equal(first, again)
    hospital_rules = [rc for rc in categories.odhf_rules() if rc[1] == "hospital"]
    assert hospital_rules
    monkeypatch.setattr(categories, "odhf_rules", lambda: [rc for rc in hospital_rules])  # only hospitals classified
    odhf_rows = lambda g: g[g["service_id"].astype(str).str.startswith("odhf-")]  # noqa: E731 - ODCAF adds libraries
    only = odhf_rows(build.build_services(ck_boundary).gdf)
    assert set(only["category"]) == {"hospital"}
    assert len(only) == int((odhf_rows(first)["category"] == "hospital").sum())


def test_hospital_means_an_emergency_hospital_not_every_odhf_hospital_row(mirror):
    """Hand labels of ODHF class Hospitals rows, read from their names and types: psychiatric, rehabilitation and day
    hospitals, ambulatory centres and a hotel are not emergency hospitals; Hôtel-Dieu hospitals, CHEO and Weyburn's
    general hospital (whose name mentions a mental health centre) are; a Quebec family medicine group is primary care."""
    from gapmap.sources import catalog
    from gapmap.sources.readers import read_odhf

    df = read_odhf(catalog.resolve("odhf"))
    got = dict(zip(df["facility_name"], build.classify_odhf(df)["category"]))
    expected = {
        "Royal Ottawa Mental Health Centre": "other_health",
        "Waypoint Centre for Mental Health Care": "other_health",
        "THE OTTAWA HOSPITAL/L'HÔPITAL D'OTTAWA - THE REHABILITATION CENTRE": "other_health",
        "HÔPITAL DE JOUR - PAVILLON MARCEL D'AMOUR": "other_health",
        "CENTRE DE SERVICES AMBULATOIRES CORBEIL": "other_health",
        "HÔPITAL EN SANTÉ MENTALE PIERRE-JANET": "other_health",
        "HÔTEL QUALITY INN SUR LA RUE BELLEHUMEUR - CLIENTÈLE JEUNESSE": "other_health",
        "GROUPE DE MÉDECINE DE FAMILLE UNIVERSITAIRE ET CENTRE DE SERVICES AMBULATOIRES EN PÉDIATRIE DE L’OUTAOUAIS": "primary_care",
        "Kemptville District Hospital": "hospital",
        "Hotel Dieu Hospital of Cornwall": "hospital",
        "HÔTEL-DIEU DE LÉVIS": "hospital",
        "HÔPITAL DE HULL": "hospital",
        "Children's Hospital of Eastern Ontario": "hospital",
        "Alexandra Marine and General Hospital of Goderich": "hospital",
        "Weyburn General Hospital and Mental Health Centre — Weyburn General Hospital": "hospital",
        "MAISON DE NAISSANCE DE L'OUTAOUAIS": "other_health",  # a midwives' birth centre, listed as a CLSC
    }
    assert {name: got.get(name) for name in expected} == expected
