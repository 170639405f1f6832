"""Opening hours (OSM subset and weekly tables), analysis windows and the service filter."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gapmap.layers import hours as hr
from gapmap.errors import InputError

MO, TU, WE, TH, FR, SA, SU = range(7)


def at(day, hhmm):
    h, m = map(int, hhmm.split(":"))
    return day * 1440 + h * 60 + m


def test_weekdays_and_saturday():
    h = hr.parse_opening_hours("Mo-Fr 08:00-17:00; Sa 09:00-12:00")
    assert h.intervals[0] == (at(MO, "08:00"), at(MO, "17:00"))
    assert h.intervals[-1] == (at(SA, "09:00"), at(SA, "12:00"))
    assert h.open_minutes_per_week == 5 * 9 * 60 + 3 * 60
    assert not h.is_open_at(SU, 600) and h.is_open_at(WE, 16 * 60 + 59) and not h.is_open_at(WE, 17 * 60)


def test_24_7():
    h = hr.parse_opening_hours("24/7")
    assert h.always_open and hr.open_during(h, "Su 03:00-04:00")


def test_overnight_spans_midnight_and_week_end():
    h = hr.parse_opening_hours("Mo-Su 22:00-06:00")
    assert h.is_open_at(TU, 2 * 60) and h.is_open_at(MO, 23 * 60) and not h.is_open_at(MO, 12 * 60)
    # Sunday 22:00 runs into Monday 06:00 (wraps the week)
    assert h.intervals[0] == (0, 360) and h.intervals[-1] == (at(SU, "22:00"), 7 * 1440)
    assert h.is_open_at(MO, 5 * 60)
    # a window straddling the week's end sees one contiguous 8-hour stretch
    assert h.longest_open(at(SU, "21:00"), at(SU, "21:00") + 10 * 60) == 8 * 60
    assert hr.open_during(h, "Su 23:00-02:00", min_minutes=180)  # 3 h window, open the whole time
    assert not hr.open_during(h, "weekday 09:00-17:00")


def test_closed_days_override_earlier_rules():
    h = hr.parse_opening_hours("Mo-Sa 08:00-18:00; We off; Su closed")
    assert not h.is_open_at(WE, 10 * 60) and h.is_open_at(TH, 10 * 60) and not h.is_open_at(SU, 10 * 60)
    assert hr.parse_opening_hours("off").intervals == ()


def test_multiple_ranges_day_lists_and_additional_rules():
    h = hr.parse_opening_hours("Mo-Fr 08:00-12:00,13:00-17:00")
    assert (at(MO, "12:00"), at(MO, "13:00")) not in h.intervals and not h.is_open_at(MO, 12 * 60 + 30)
    assert hr.open_during(h, "weekday 11:00-14:00") is True  # 60 contiguous minutes 11-12 (and 13-14)
    assert hr.open_during(h, "weekday 11:30-13:30", min_minutes=60) is False  # only 30 + 30 minutes
    lst = hr.parse_opening_hours("Mo,We,Fr 09:00-17:00")
    assert [lst.is_open_at(d, 600) for d in range(7)] == [True, False, True, False, True, False, False]
    # ", We 14:00-18:00" adds to (does not replace) Wednesday
    add = hr.parse_opening_hours("Mo-Fr 08:00-12:00, We 14:00-18:00")
    assert add.is_open_at(WE, 9 * 60) and add.is_open_at(WE, 15 * 60) and not add.is_open_at(TH, 15 * 60)
    wrap = hr.parse_opening_hours("Fr-Mo 10:00-12:00")
    assert [wrap.is_open_at(d, 660) for d in range(7)] == [True, False, False, False, True, True, True]


def test_public_holiday_rules_are_ignored_with_a_note():
    h = hr.parse_opening_hours("Mo-Fr 08:00-17:00; PH off")
    assert h.open_minutes_per_week == 5 * 9 * 60
    assert any("holiday" in n for n in h.notes)


@pytest.mark.parametrize("text, reason", [
    ("Mo-Fr 8-17", "not HH:MM"),
    ("May-Oct Mo-Fr 08:00-17:00", "month"),
    ("Mo-Fr sunrise-sunset", "sunrise"),
    ("Xx 10:00-12:00", "not a day"),
    ("Mo-Fr 10:00+", "open-ended"),
    ("Mo-Fr 09:00-17:00 || Sa off", "fallback"),
])
def test_unparsable_hours_name_the_service(text, reason):
    with pytest.raises(InputError) as e:
        hr.parse_opening_hours(text, service="'Erie Clinic' (svc-3)")
    msg = str(e.value)
    assert "'Erie Clinic' (svc-3)" in msg and repr(text) in msg and reason in msg and msg.count(". ") == 0


def test_window_parsing():
    w = hr.parse_window("weekday 18:00-21:00")
    assert w.slots == tuple((at(d, "18:00"), at(d, "21:00")) for d in range(5))
    assert hr.parse_window("Sunday").slots == ((at(SU, "00:00"), 7 * 1440),)
    assert hr.parse_window("Sa 10:00-14:00").slots == ((at(SA, "10:00"), at(SA, "14:00")),)
    assert hr.parse_window("any").any and hr.parse_window(None).any
    assert len(hr.parse_window("weekend").slots) == 2
    assert hr.parse_window("Fr 22:00-02:00").slots == ((at(FR, "22:00"), at(SA, "02:00")),)
    assert hr.parse_window("18:00-21:00").slots[-1] == (at(SU, "18:00"), at(SU, "21:00"))
    with pytest.raises(InputError, match="not understood"):
        hr.parse_window("tomorrow morning")


def test_open_during_needs_min_minutes_or_whole_short_window():
    h = hr.parse_opening_hours("Mo-Fr 08:00-18:30")
    assert hr.open_during(h, "weekday 18:00-21:00", min_minutes=30)
    assert not hr.open_during(h, "weekday 18:00-21:00")  # only 30 of the 60 minutes needed
    assert hr.open_during(h, "Mo 18:00-18:30")  # window shorter than 60 min: open for all of it
    assert not hr.open_during(h, "Sunday") and hr.open_during(h, "any")
    assert not hr.open_during(hr.parse_opening_hours("off"), "any")


def test_hours_table(tmp_path):
    path = tmp_path / "hours.csv"
    path.write_text("service_id,day,open,close\n"
                    "s1,Mo-Fr,08:00,12:00\n"
                    "s1,Mo-Fr,13:00,17:00\n"
                    "s1,Sunday,10:00,14:00\n"
                    "s2,Sa,22:00,02:00\n"
                    "s3,Mo,closed,\n", encoding="utf-8")
    t = hr.read_hours_table(path)
    assert hr.open_during(t["s1"], "Sunday") and not hr.open_during(t["s1"], "Sa 10:00-14:00")
    assert t["s2"].is_open_at(SU, 60) and t["s3"].intervals == ()
    bad = pd.DataFrame({"service_id": ["s9"], "day": ["Someday"], "open": ["08:00"], "close": ["17:00"]})
    with pytest.raises(InputError, match=r"row 2 \(service s9"):
        hr.read_hours_table(bad)


@pytest.fixture
def services():
    return gpd.GeoDataFrame({
        "service_id": ["a", "b", "c", "d", "e"],
        "name": ["Day clinic", "Evening clinic", "No hours", "Sunday centre", "Spanish only"],
        "opening_hours": ["Mo-Fr 08:00-17:00", "Mo-Fr 08:00-21:00", None, "Su 10:00-16:00", "24/7"],
        "languages": ["en;fr", "en; ES", "", None, "es"],
    }, geometry=[Point(i, 0) for i in range(5)], crs="EPSG:26917")


def test_filter_services_by_window(services):
    out = hr.filter_services(services, "weekday 18:00-21:00")
    assert out["service_id"].tolist() == ["b", "c", "e"]
    stats = out.attrs[hr.FILTER_ATTR]
    assert stats["hours_missing_assumed_open"] == 1 and stats["closed_in_window"] == 2 and stats["services_kept"] == 3
    assert out.set_index("service_id")["hours_assumed"].to_dict() == {"b": False, "c": True, "e": False}
    strict = hr.filter_services(services, "Sunday", missing_hours="drop")
    assert strict["service_id"].tolist() == ["d", "e"] and strict.attrs[hr.FILTER_ATTR]["hours_missing_dropped"] == 1
    assert len(hr.filter_services(services, "any")) == 5


def test_filter_services_by_language(services):
    es = hr.filter_services(services, language="es")
    assert es["service_id"].tolist() == ["b", "e"]  # case and spaces tolerated; no data -> assumed English
    stats = es.attrs[hr.FILTER_ATTR]
    assert stats["languages_assumed"] == 2 and stats["language_excluded"] == 3
    en = hr.filter_services(services, language="en")
    assert en["service_id"].tolist() == ["a", "b", "c", "d"]
    both = hr.filter_services(services, "Sunday", language="es")
    assert both["service_id"].tolist() == ["e"]
    with pytest.raises(InputError, match="ISO 639-1"):
        hr.filter_services(services, language="spanish")


def test_filter_services_bad_hours_names_the_service(services):
    services.loc[2, "opening_hours"] = "Mo-Fr 9am-5pm"
    with pytest.raises(InputError, match=r"'No hours' \(c\) has opening_hours 'Mo-Fr 9am-5pm'"):
        hr.filter_services(services, "Sunday")
