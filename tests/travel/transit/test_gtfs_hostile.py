"""Hostile and careless GTFS feeds (issue 13): each is refused with one sentence naming the file and row.

The feeds are the hand-built tiny feed (tests/fixtures/gtfs/tiny) with one file changed.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from gapmap.errors import InputError
from gapmap.travel.transit import schedule as transit
from gapmap.travel.transit import gtfs

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "gtfs" / "tiny"


def _feed(tmp_path: Path, **files: str) -> Path:
    """The tiny feed with ``files`` (name without .txt -> full text) replaced or added."""
    feed = tmp_path / "feed"
    shutil.copytree(TINY, feed)
    for name, text in files.items():
        (feed / f"{name}.txt").write_text(text)
    return feed


def test_zero_and_negative_headway_refused_with_file_and_row(tmp_path):
    for value in ("0", "-600"):
        feed = _feed(tmp_path / value, frequencies="trip_id,start_time,end_time,headway_secs\n"
                                                    "T2,06:00:00,09:00:00,600\n"
                                                    f"T1,06:00:00,09:00:00,{value}\n")
        with pytest.raises(InputError) as err:
            transit.read_feed(feed)._stop_times
        assert str(err.value) == (f"GTFS feed {feed}: frequencies.txt line 3 has headway_secs {value}; "
                                  "headways must be positive seconds - fix that row.")


def test_one_second_headway_over_99_hours_is_refused_before_expanding(tmp_path):
    feed = _feed(tmp_path, frequencies="trip_id,start_time,end_time,headway_secs\nT1,00:00:00,99:00:00,1\n")
    n_stops = sum(1 for line in (TINY / "stop_times.txt").read_text().splitlines() if line.startswith("T1,"))
    with pytest.raises(InputError) as err:
        transit.read_feed(feed)._stop_times
    assert str(err.value) == (
        f"GTFS feed {feed}: frequencies.txt expands into 356,400 trips ({356_400 * n_stops:,} stop events; line 2: "
        f"every 1 s from 00:00:00 to 99:00:00), above the limit of {gtfs.MAX_FREQUENCY_TRIPS:,} trips / "
        f"{gtfs.MAX_FREQUENCY_EVENTS:,} events; check headway_secs and the times.")


def test_frequency_expansion_gives_one_trip_per_headway(tmp_path):
    """The vectorised expansion: 06:00-07:00 every 20 min is three timed copies of T1."""
    feed = transit.read_feed(_feed(tmp_path, frequencies="trip_id,start_time,end_time,headway_secs\n"
                                                        "T1,06:00:00,07:00:00,1200\n"))
    st = feed._stop_times
    labels = [str(t) for t in st.trip_ids if str(t).startswith("T1@")]
    assert labels == ["T1@06:00", "T1@06:20", "T1@06:40"]
    first = [int(st.dep[st.trip_first[k]]) for k, t in enumerate(st.trip_ids) if str(t).startswith("T1@")]
    assert first == [6 * 3600, 6 * 3600 + 1200, 6 * 3600 + 2400]


def test_duplicate_trip_id_refused(tmp_path):
    trips = (TINY / "trips.txt").read_text().rstrip("\n") + "\nR1,WK,T2,1\n"  # header + 6 trips: line 8
    feed = _feed(tmp_path, trips=trips)
    with pytest.raises(InputError) as err:
        transit.read_feed(feed)
    assert str(err.value) == (f"GTFS feed {feed}: trips.txt line 8 repeats trip_id 'T2' (first at line 3); "
                              "trip ids must be unique - fix or re-download the feed.")


def test_unknown_route_refused(tmp_path):
    trips = (TINY / "trips.txt").read_text().replace("R3,WK,T4", "R9,WK,T4")
    feed = _feed(tmp_path, trips=trips)
    with pytest.raises(InputError) as err:
        transit.read_feed(feed)
    assert str(err.value) == (f"GTFS feed {feed}: trips.txt line 5 has route_id 'R9', which routes.txt does not "
                              "list (1 trip(s) in all); fix or re-download the feed.")


def test_placeholder_calendar_end_is_capped_with_a_warning(tmp_path):
    cal = (TINY / "calendar.txt").read_text().replace("20250131", "99991231")
    feed = transit.read_feed(_feed(tmp_path, calendar=cal))
    assert any("service dates are searched over the first 3,660 only" in w for w in feed.warnings)
    dates = feed.service_dates()
    assert len(dates) < 3_700 and str(feed.default_date()) == "2025-01-01"


def test_zip_bomb_refused_from_the_directory_before_extraction(tmp_path, monkeypatch):
    """60 MB of stop_times.txt in a ~0.1 MB zip, limit 50 MB: refused from the zip's directory (sizes), not read."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in TINY.glob("*.txt"):
            if f.name != "stop_times.txt":
                zf.write(f, f.name)
        with zf.open("stop_times.txt", "w", force_zip64=True) as fh:
            fh.write(b"trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
            row = b"T1,08:00:00,08:00:00,A,1\n" * 40_000
            for _ in range(60_000_000 // len(row)):
                fh.write(row)
    assert path.stat().st_size < 2_000_000
    monkeypatch.setenv("GAPMAP_MAX_INPUT_MB", "50")
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: read.append(a) or (_ for _ in ()).throw(AssertionError))
    with pytest.raises(InputError) as err:
        transit.read_feed(path)
    assert str(err.value) == (
        f"GTFS file {path}!stop_times.txt is 60 MB, above the 50 MB input limit; no regional feed is that large "
        "(a damaged or hostile zip?); use the publisher's feed, or raise the limit with GAPMAP_MAX_INPUT_MB.")
    assert read == []  # nothing was extracted
