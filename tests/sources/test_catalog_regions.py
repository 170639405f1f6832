
import re
from pathlib import Path

import pytest

from gapmap import layers
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


ANNEX = Path("/work/shared/reference/lip-annex-2012-13.md")


def _annex_rows() -> list[tuple[int, str, str]]:
    """(row, LIP name, lead) of every numbered row of the annex tables, parsed here on its own.

    Ontario rows outside Toronto are ``| # | lead | community | hint |``: the name is the quoted
    text when the cell quotes the report, else the cell before a parenthesis, without a leading
    "the". The other tables are ``| # | LIP | lead | ... |``.
    """
    path = ANNEX if ANNEX.exists() else catalog.find_mirror().parent / "reference" / ANNEX.name
    rows = []
    header = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "#":
            header = cells
            continue
        if not cells[0].isdigit():
            continue
        if header[1].startswith("lead"):
            lead, community = cells[1], cells[2]
            quoted = re.match(r'^"([^"]+)"', community)
            name = quoted.group(1) if quoted else community.split(" (")[0]
            name = re.sub(r"^the ", "", name)
            name = name[0].upper() + name[1:]
        else:
            name, lead = cells[1], cells[2]
        rows.append((int(cells[0]), name, lead))
    return rows


def test_registry_equals_the_annex_row_by_row():
    annex = _annex_rows()
    assert [n for n, _, _ in annex] == list(range(1, 39))  # the annex's own count: 38 LIPs
    by_row = {r.annex_no: r for r in regions.REGIONS.values() if r.in_annex}
    assert sorted(by_row) == list(range(1, 39))
    for n, name, lead in annex:
        assert (by_row[n].name, by_row[n].lead) == (name, lead), n


def test_registry_shape_and_later_lips_marked():
    regs = list(regions.REGIONS.values())
    annexed = [r for r in regs if r.in_annex]
    assert len(annexed) == 38
    toronto = [r for r in annexed if r.slug.startswith("toronto")]
    assert len(toronto) == 5 and len([r for r in annexed if r.province == "ON"]) == 35
    assert {r.slug for r in regs if r.province != "ON"} == {"calgary", "halifax", "st-johns"}
    assert {r.slug for r in regs if not r.in_annex} == {"northumberland", "oxford", "perth"}
    assert all(r.boundary_kind == "none offline" for r in toronto if r.slug != "toronto")
    # Geography hints of the annex: Prescott-Russell is one of the Five Eastern Counties, Grand Erie is Brant + H-N.
    assert regions.get_region("five-eastern-counties").codes == ("3501", "3502")
    assert set(regions.get_region("grand-erie").codes) == {"3528", "3529"}
    assert set(regions.get_region("northwestern-ontario").codes) == {"3558", "3559", "3560"}


def test_renamed_slugs_are_aliases_and_retired_ones_explain():
    assert regions.get_region("cornwall-sdg").slug == "five-eastern-counties"
    assert "Prescott and Russell" in regions.alias_note("cornwall-sdg")
    assert regions.get_region("brantford-brant").slug == "grand-erie"
    assert regions.alias_note("chatham-kent") is None
    with pytest.raises(InputError, match="not a LIP of the 2012-13 list") as err:
        regions.get_region("toronto-central")
    assert "\n" not in str(err.value)


def test_quadrants_keep_boundary_with_a_clear_message():
    with pytest.raises(InputError, match="no published ward grouping.*--boundary FILE") as err:
        layers.build_boundary(regions.get_region("toronto-north"))
    assert "\n" not in str(err.value)


def test_unknown_region_suggests_closest():
    with pytest.raises(InputError, match="did you mean 'chatham-kent'"):
        regions.get_region("chatham kentt")


def test_offline_layers(mirror):
    ck = regions.offline_layers(regions.get_region("chatham-kent"))
    assert ck == {"boundary": True, "services": True, "sites": True, "population": True, "transit": False}
    assert regions.offline_layers(regions.get_region("simcoe"))["transit"]
    sj = regions.offline_layers(regions.get_region("st-johns"))
    assert sj["boundary"] and not sj["population"]  # its 5 wards; NL is not in the DA population file
    assert regions.offline_layers(regions.get_region("toronto"))["boundary"]
    assert not regions.offline_layers(regions.get_region("toronto-east"))["boundary"]
