"""The default Chatham-Kent run publishes the recorded tables, byte for byte (issue 19).

Speed work (readers, routing, the disclosure pass, writing) must not move a published number;
this catches a change that does, with the lines that changed. The map, report and GeoPackage
are left out: their bytes also follow folium, matplotlib and GDAL releases, which a fresh
install may update (``scripts/compare_outputs.py`` compares them against a given commit in
one environment). After a change meant to alter the numbers: ``python scripts/update_golden.py``.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "chatham-kent"


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
    assert hashlib.sha256(files["rejects.csv"].read_bytes()).hexdigest() == sums["rejects.csv"]
