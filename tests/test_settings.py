"""Settings: one typed path from TOML, the CLI and Python; every wrong type is one InputError naming the key."""

import math

import pytest
from click.testing import CliRunner

from gapmap.cli import main
from gapmap.errors import InputError
from gapmap.settings import Settings, load_settings


def _toml(tmp_path, text):
    p = tmp_path / "gapmap.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, key, expected", [
    ('categories = "hospital"', "categories", "a list of text strings"),
    ('circuity = "1.3"', "circuity", "a number"),
    ("thresholds_min = 30", "thresholds_min", "a list of numbers"),
    ('thresholds_min = [15, "thirty"]', "thresholds_min", "a list of numbers"),
    ("k_anonymity = 5.5", "k_anonymity", "a whole number"),
    ("k_anonymity = true", "k_anonymity", "a whole number"),
    ("mode = 3", "mode", "a text string"),
    ("require_categories = 1", "require_categories", "true or false"),
    ('transit_window = "17:00-19:00"', "transit_window", "a list of 2 values"),
    ('transit_window = ["17:00"]', "transit_window", "a list of 2 values"),
    ('speeds_kmh = 60', "speeds_kmh", "a table of numbers by name"),
    ('[speeds_kmh]\nwalk = "fast"', "speeds_kmh", "a table of numbers by name"),
    ("transit_date = 20251203", "transit_date", "a text string"),
])
def test_each_wrong_type_in_toml_is_one_input_error_naming_key_and_type(tmp_path, text, key, expected):
    path = _toml(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_settings(path)
    msg = str(err.value)
    assert f"'{key}'" in msg and expected in msg and str(path) in msg
    assert "\n" not in msg


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(InputError, match="finite number"):
        load_settings(circuity=value)
    with pytest.raises(InputError, match="finite number"):
        load_settings(thresholds_min=[value])


def test_unknown_keys_are_refused_in_toml_and_python(tmp_path):
    with pytest.raises(InputError, match="unknown key"):
        load_settings(_toml(tmp_path, "circuitty = 1.2"))
    with pytest.raises(InputError, match="circuitty"):
        load_settings(circuitty=1.2)


def test_python_settings_are_checked_too():
    with pytest.raises(InputError, match="'circuity' must be a number"):
        Settings(circuity="1.3").validate()
    with pytest.raises(InputError, match="'categories' must be a list"):
        Settings(categories="hospital").validate()


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):
        load_settings(circuity="1.3")


def test_valid_toml_values_are_normalised(tmp_path):
    s = load_settings(_toml(tmp_path, 'circuity = 1\nthresholds_min = [45, 20]\ncategories = ["hospital"]\n'
                                      '[speeds_kmh]\nwalk = 4'))
    assert s.circuity == 1.0 and isinstance(s.circuity, float)
    assert s.thresholds_min == (20.0, 45.0)
    assert s.categories == ("hospital",)
    assert s.speeds_kmh["walk"] == 4.0 and s.speeds_kmh["drive"] == 60.0


def test_cli_reports_a_bad_config_value_in_one_line(tmp_path):
    path = _toml(tmp_path, 'circuity = "1.3"')
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--config", str(path), "--out",
                                    str(tmp_path / "o"), "-q"])
    assert res.exit_code != 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "'circuity' must be a number" in lines[0], res.output
    assert "Traceback" not in res.output
