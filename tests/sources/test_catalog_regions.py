
import pytest

from gapmap.sources import catalog
from gapmap.sources import regions
from gapmap.errors import InputError, MissingDataError


def test_mirror_found_without_flags(mirror):
    assert (mirror / "odhf" / "odhf_v1.1.csv").exists()
    assert catalog.resolve("odhf") == mirror / "odhf" / "odhf_v1.1.csv"


def test_env_and_explicit_dir_override(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("GAPMAP_DATA", str(tmp_path))
    assert catalog.find_mirror() == tmp_path
    assert catalog.find_mirror(mirror) == mirror  # an explicit --data-dir wins over the environment


def test_missing_dataset_is_one_sentence_naming_path_and_source(tmp_path):
    with pytest.raises(MissingDataError) as err:
        catalog.resolve("odhf", tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(tmp_path / "odhf" / "odhf_v1.1.csv") in msg
    assert "statcan.gc.ca" in msg


def test_every_catalog_entry_exists_in_the_mirror(mirror):
    missing = [d for d in catalog.DATASETS if not catalog.available(d)]
    assert missing == []


def test_registry_has_the_38_lips():
    regs = list(regions.REGIONS.values())
    assert len(regs) == 38
    toronto = [r for r in regs if r.slug.startswith("toronto-")]
    assert len(toronto) == 5
    assert len([r for r in regs if r.province == "ON" and r not in toronto]) == 30
    assert {r.slug for r in regs if r.province != "ON"} == {"calgary", "halifax", "st-johns"}
    assert all(r.boundary_kind == "none offline" for r in toronto)
    assert all(r.lead and r.name for r in regs)


def test_unknown_region_suggests_closest():
    with pytest.raises(InputError, match="did you mean 'chatham-kent'"):
        regions.get_region("chatham kentt")


def test_offline_layers(mirror):
    ck = regions.offline_layers(regions.get_region("chatham-kent"))
    assert ck == {"boundary": True, "services": True, "sites": True, "population": True, "transit": False}
    assert regions.offline_layers(regions.get_region("simcoe"))["transit"]
    sj = regions.offline_layers(regions.get_region("st-johns"))
    assert not sj["boundary"] and not sj["population"]  # NL is not in the DA population file
