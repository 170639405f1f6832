"""The per-process cache of province-wide tables: one parse, fresh copies, re-read on change."""

from __future__ import annotations

import os

import pandas as pd

from gapmap.sources import readers

HEADER = "DAUID,Population,Population Density per Square Kilometre\n"


def _write(path, rows: str) -> None:
    path.write_text(HEADER + rows, encoding="utf-8")


def test_parsed_once_and_copies_are_independent(tmp_path, monkeypatch):
    path = tmp_path / "pop.csv"
    _write(path, "35360001, 120 ,3\n3536,5000,1\n")
    readers.clear_table_cache()
    calls = []
    real = readers.read_csv
    monkeypatch.setattr(readers, "read_csv", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    first = readers.read_da_population(path)
    first["pop2021"] = -1.0  # a caller changing its copy
    first.loc[0, "dauid"] = "x"
    second = readers.read_da_population(str(path))
    assert len(calls) == 1
    assert second["pop2021"].tolist() == [120.0, 5000.0]
    assert second["dauid"].tolist() == ["35360001", "3536"]
    assert list(second.columns) == ["source_row", "dauid", "pop2021"]


def test_changed_file_is_read_again(tmp_path):
    path = tmp_path / "pop.csv"
    _write(path, "35360001,120,3\n")
    readers.clear_table_cache()
    assert readers.read_da_population(path)["pop2021"].tolist() == [120.0]
    _write(path, "35360001,7,3\n35360002,8,3\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert readers.read_da_population(path)["pop2021"].tolist() == [7.0, 8.0]
    assert len(readers._TABLES) == 1  # the stale version is dropped


def test_only_needed_columns_are_kept_and_stripped(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a, b ,c\n x ,  y,z \n", encoding="utf-8")
    full = readers.read_csv(path, ["a"], what="T")
    assert full.to_dict("records") == [{"source_row": 2, "a": "x", "b": "y", "c": "z"}]
    some = readers.read_csv(path, ["a"], what="T", columns=["c", "missing"])
    assert list(some.columns) == ["source_row", "a", "c"]
    assert some["c"].tolist() == ["z"]


def test_malformed_line_still_an_error_with_columns(tmp_path):
    import pytest

    from gapmap.errors import InputError

    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid CSV"):
        readers.read_csv(path, ["a"], what="T", columns=[])


def test_derived_value_built_once_per_version_of_all_its_files(tmp_path):
    """readers.derived: one build per (files, versions); any file changed -> built again, old one dropped."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    readers.clear_table_cache()
    builds = []
    build = lambda: builds.append(1) or object()  # noqa: E731
    first = readers.derived("test lookup", [a, b], build)
    assert readers.derived("test lookup", [str(a), b], build) is first and len(builds) == 1
    assert readers.derived("other lookup", [a, b], build) is not first and len(builds) == 2  # names do not collide
    st = b.stat()
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = readers.derived("test lookup", [a, b], build)
    assert again is not first and len(builds) == 3
    assert sum(k[0] == "test lookup" for k in readers._DERIVED) == 1
    missing = readers.derived("test lookup", [tmp_path / "gone.csv"], lambda: "built, not cached")
    assert missing == "built, not cached" and sum(k[0] == "test lookup" for k in readers._DERIVED) == 1
