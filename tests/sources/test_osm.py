"""OSM amenities as services: the real Toronto extract (.osm and .pbf) and a recorded Overpass download."""

from __future__ import annotations

import geopandas as gpd
import osmnx as ox
import pytest
import shapely

from gapmap.errors import InputError
from gapmap.sources import catalog, osm


@pytest.fixture(scope="module")
def osm_xml(mirror):
    return catalog.resolve("osm_toronto_uoft")


@pytest.fixture(scope="module")
def toronto_boundary() -> gpd.GeoDataFrame:
    # The extract's requested bbox (PROVENANCE.md), in UTM 17N.
    box = shapely.box(-79.40178, 43.65992, -79.38563, 43.66665)
    return gpd.GeoDataFrame({"region": ["uoft"]}, geometry=[box], crs="EPSG:4326").to_crs("EPSG:26917")


def _counts(services) -> dict[str, int]:
    return services["source_type"].value_counts().to_dict()


@pytest.mark.parametrize("suffix", ["", ".pbf"])
def test_toronto_extract_counts(osm_xml, toronto_boundary, suffix):
    """PROVENANCE.md: 15 libraries, 4 pharmacies, 3 doctors (and Women's College Hospital)."""
    svc, rej, n_read, notes = osm.osm_services(toronto_boundary, f"{osm_xml}{suffix}", edge_buffer_m=5_000)
    assert _counts(svc) == {"amenity=library": 15, "amenity=pharmacy": 4, "amenity=doctors": 3, "amenity=hospital": 1}
    assert svc["category"].value_counts().to_dict() == {"library": 15, "pharmacy": 4, "primary_care": 3, "hospital": 1}
    assert n_read == len(svc) + len(rej) == 23
    assert "Robarts Library" in set(svc["name"]) and svc["service_id"].is_unique
    assert "15 library" in notes[0]


def test_pbf_and_xml_agree(osm_xml, toronto_boundary):
    a, *_ = osm.osm_services(toronto_boundary, osm_xml, edge_buffer_m=5_000)
    b, *_ = osm.osm_services(toronto_boundary, f"{osm_xml}.pbf", edge_buffer_m=5_000)
    cols = ["service_id", "name", "category"]
    assert a[cols].equals(b[cols])


def test_hours_and_languages_tags(toronto_boundary):
    """``opening_hours`` and ``language:xx=yes`` are carried to the services (made-up features)."""
    raw = gpd.GeoDataFrame({"element": ["node", "node"], "osmid": [2, 1], "amenity": ["clinic", "social_facility"],
                            "name": ["Clínica", None], "opening_hours": ["Mo-Fr 09:00-17:00", None],
                            "language:es": ["yes", None], "language:en": ["yes", None], "language:fr": ["no", None]},
                           geometry=gpd.points_from_xy([-79.39, -79.395], [43.663, 43.662]), crs="EPSG:4326")
    svc, rej, n = osm.amenities_to_services(raw, toronto_boundary, source="test")
    by_id = svc.set_index("service_id")
    assert by_id.loc["osm-node-2", "opening_hours"] == "Mo-Fr 09:00-17:00"
    assert by_id.loc["osm-node-2", "languages"] == "en;es"
    assert by_id.loc["osm-node-2", "category"] == "primary_care"
    assert by_id.loc["osm-node-1", "category"] == "community_support"
    assert by_id.loc["osm-node-1", "name"] == "(unnamed amenity=social_facility)"
    assert list(svc["source_row"]) == [1, 2]  # sorted by element and id: stable row numbers


def test_recorded_download_then_cache(osm_xml, toronto_boundary, tmp_path, monkeypatch):
    """features_from_polygon against a recorded Overpass answer (built from the .osm), cached once."""
    calls = []
    response = ox._osm_xml._overpass_json_from_xml(osm_xml, "utf-8")  # Overpass JSON, as the server sends it

    def fake_download(polygon, tags):
        calls.append(tags)
        yield response

    monkeypatch.setattr(ox._overpass, "_download_overpass_features", fake_download)
    svc, rej, n, notes = osm.osm_services(toronto_boundary, None, edge_buffer_m=5_000, cache_dir=tmp_path)
    assert len(calls) == 1 and set(calls[0]) == {"amenity", "healthcare", "social_facility"}
    assert _counts(svc) == {"amenity=library": 15, "amenity=pharmacy": 4, "amenity=doctors": 3, "amenity=hospital": 1}
    assert "downloaded from Overpass" in notes[0]
    again, *_, notes2 = osm.osm_services(toronto_boundary, None, edge_buffer_m=5_000, cache_dir=tmp_path)
    assert len(calls) == 1 and "read from the cache" in notes2[0]  # not downloaded again
    cols = ["service_id", "name", "category", "source_row"]
    assert again[cols].equals(svc[cols])
    assert len(list(tmp_path.glob("osm-services-*.geojson"))) == 1


def test_bad_files(tmp_path, toronto_boundary):
    with pytest.raises(InputError, match="does not exist"):
        osm.read_amenities(tmp_path / "missing.osm")
    txt = tmp_path / "amenities.csv"
    txt.write_text("x\n")
    with pytest.raises(InputError, match="is not .osm, .osm.xml or .osm.pbf"):
        osm.read_amenities(txt)
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1'")
    with pytest.raises(InputError, match="cannot be read as OSM XML"):
        osm.read_amenities(broken)
