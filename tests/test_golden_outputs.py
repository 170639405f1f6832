"""The default Chatham-Kent run publishes the recorded tables, byte for byte (issue 19).

Speed work (readers, routing, the disclosure pass, writing) must not move a published number;
this catches a change that does, with the lines that changed. The map, report and GeoPackage
are left out: their bytes also follow folium, matplotlib and GDAL releases, which a fresh
install may update (``scripts/compare_outputs.py`` compares them against a given commit in
one environment). After a change meant to alter the numbers: ``python scripts/update_golden.py``.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

import pytest

from gapmap.sources import catalog

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "chatham-kent"


def _recorder():
    spec = importlib.util.spec_from_file_location("update_golden", Path(__file__).parents[1] / "scripts" / "update_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["summary.json", "areas.csv", "hexes.csv"])
def test_published_table_is_the_recorded_one(ck_run, name):
    _, files = ck_run
    got, want = files[name].read_text(encoding="utf-8"), (GOLDEN / name).read_text(encoding="utf-8")
    if got != want:
        diff = "".join(list(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "recorded", "this run"))[:40])
        pytest.fail(f"{name} differs from the recorded copy (run scripts/update_golden.py only if the change is meant):\n{diff}")


def test_rejects_file_is_the_recorded_one(ck_run):
    _, files = ck_run
    sums = dict(reversed(line.split("  ")) for line in (GOLDEN / "SHA256SUMS").read_text().splitlines())
    assert _recorder().location_free_digest(files["rejects.csv"], catalog.find_mirror()) == sums["rejects.csv"]


def test_rejects_digest_does_not_depend_on_where_the_mirror_sits(tmp_path):
    # CI's clean checkout puts the mirror somewhere else than a developer's: the digest must agree.
    a, b = tmp_path / "a" / "data", tmp_path / "elsewhere" / "deeper" / "data"
    for root in (a, b):
        root.mkdir(parents=True)
        (root.parent / "rejects.csv").write_text(f"layer,source,row,reason\nservices,{root}/odhf/x.csv,2,why\n")
    digest = _recorder().location_free_digest
    assert digest(a.parent / "rejects.csv", a) == digest(b.parent / "rejects.csv", b)
    (b.parent / "rejects.csv").write_text(f"layer,source,row,reason\nservices,{b}/odhf/x.csv,3,why\n")
    assert digest(a.parent / "rejects.csv", a) != digest(b.parent / "rejects.csv", b)
