"""``--when`` / ``--language`` with no data behind them: one warning line each, with counts and the fix."""

import pandas as pd

from gapmap.layers.hours import FILTER_ATTR, filter_services, missing_data_warnings


def _services(hours=None, languages=None):
    df = pd.DataFrame({"service_id": ["a", "b", "c"], "name": ["A", "B", "C"]})
    if hours is not None:
        df["opening_hours"] = hours
    if languages is not None:
        df["languages"] = languages
    return df


def test_no_hours_no_languages_warn():
    st = filter_services(_services(), window="weekday 18:00-21:00", language="es").attrs[FILTER_ATTR]
    when, lang = missing_data_warnings(st)
    assert when.startswith("warning: none of the 3 services has opening hours, so --when changes nothing")
    assert "--hours FILE" in when and "--assume-hours" in when
    assert lang.startswith("warning: none of the 3 services has language data, so --language es")
    assert "(0 of 3 kept)" in lang and "languages column" in lang


def test_dropped_when_missing_hours_dropped():
    st = filter_services(_services(), window="Sunday", missing_hours="drop").attrs[FILTER_ATTR]
    assert "so --when drops every service" in missing_data_warnings(st)[0]


def test_some_data_no_warning():
    svc = _services(hours=["Mo-Fr 09:00-17:00", None, None], languages=["en;es", None, None])
    st = filter_services(svc, window="weekday 18:00-21:00", language="es").attrs[FILTER_ATTR]
    assert missing_data_warnings(st) == []
    assert missing_data_warnings(filter_services(_services(), window="any").attrs[FILTER_ATTR]) == []
