"""The fast paths of ``read_csv`` (numbers parsed by pandas, strip only where needed) against the plain path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gapmap.sources import readers

TRICKY = ["12", " 12 ", "1,234", "", "  ", "x", "\xa012", "1e3", "nan", "NaN", "inf", "-Infinity", "0x10", "1_000",
          "+5", ".5", "5.", "-0", "1e400", "46.932976", "-55.362007", "True", "12\t", "9223372036854775808", "007"]


@pytest.mark.parametrize("value", TRICKY)
@pytest.mark.parametrize("others", [["1.5", "2"], ["3", "4"], ["", "7"]])
def test_numeric_columns_equal_strings_then_to_float(tmp_path, value, others):
    path = tmp_path / "t.csv"
    rows = [value, *others]
    quoted = [f'"{v}"' if "," in v else v for v in rows]
    path.write_text("id,v,w\n" + "".join(f"0{i},{v}, a{i} \n" for i, v in enumerate(quoted)), encoding="utf-8")
    fast = readers.read_csv(path, ["id", "v"], what="T", columns=("w",), numeric=("v",))
    slow = readers.read_csv(path, ["id", "v"], what="T", columns=("w",))
    got, want = readers.to_float(fast["v"]), readers.to_float(slow["v"])
    assert str(got.dtype) == str(want.dtype)
    assert np.array_equal(got.to_numpy(dtype=float), want.to_numpy(dtype=float), equal_nan=True)
    assert fast["id"].tolist() == slow["id"].tolist() == [f"0{i}" for i in range(3)]  # ids keep their digits
    assert fast["w"].tolist() == slow["w"].tolist() == ["a0", "a1", "a2"]


def test_numeric_path_keeps_the_malformed_line_error(tmp_path):
    from gapmap.errors import InputError

    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not a valid CSV \(.*Expected 3 fields in line 3, saw 4"):
        readers.read_csv(path, ["a"], what="T", columns=[], numeric=("b",))


@pytest.mark.parametrize("value", ["x", " x", "x ", "\tx", "x\u3000", "\xa0x", "é ", " é", "é\u2009", "é", "a b",
                                   "\u2028x", "x\x85", "«x»"])
def test_needs_strip_exactly_when_a_value_changes(value):
    col = pd.Series(["ab", value, "cd"], dtype="str")
    changes = (col.str.strip() != col).any()
    assert readers._needs_strip(col) or not changes
    assert not readers._needs_strip(col) or changes or not value.isascii()


def test_space_list_is_complete():
    assert set(readers._SPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_upper_skipped_only_when_unchanged():
    col = pd.Series(["N8S", "n0p"], dtype="str")
    assert readers._upper(col).tolist() == ["N8S", "N0P"]
    same = pd.Series(["N8S", "N0P"], dtype="str")
    assert readers._upper(same).tolist() == ["N8S", "N0P"]


@pytest.mark.parametrize("lat", ["42.4", "", "x", "1,234", " 42 "])
def test_geonames_coordinates_equal_the_string_path(tmp_path, lat):
    path = tmp_path / "CA.txt"
    path.write_text(f"CA\tn0p\tChatham\tOntario\tON\t\t\t\t\t{lat}\t-82.1\t6\nCA\tN7M\tX\tOntario\tON\t\t\t\t\t42.5\t-82.2\t6\n",
                    encoding="utf-8")
    got = readers.read_fsa_centroids(path)
    want = readers.to_float(pd.Series([lat, "42.5"], dtype="str"))
    assert np.array_equal(got["latitude"].to_numpy(dtype=float), want.to_numpy(dtype=float), equal_nan=True)
    assert got["fsa"].tolist() == ["N0P", "N7M"] and got["longitude"].tolist() == [-82.1, -82.2]
