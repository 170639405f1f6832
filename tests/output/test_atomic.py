"""Interrupted and concurrent runs (issue 13): outputs appear all at once or not at all, one writer per folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gapmap.output import atomic, files, webmap

REPO = Path(__file__).resolve().parents[2]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture()
def previous_run(ck_run, tmp_path):
    """A folder holding a complete earlier run (the shared Chatham-Kent run's files)."""
    result, written = ck_run
    out = tmp_path / "out"
    out.mkdir()
    for name, path in written.items():
        (out / name).write_bytes(path.read_bytes())
    return result, out, _snapshot(out)


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith("."))


def test_failure_mid_write_leaves_previous_outputs_untouched(previous_run, monkeypatch):
    result, out, before = previous_run

    def broken(m):  # the map is written after the CSVs and the GeoPackage: they exist by now, staged
        raise RuntimeError("disk full")

    monkeypatch.setattr(webmap, "render_html", broken)
    with pytest.raises(RuntimeError) as err:
        files.write_outputs(result, out)
    assert _snapshot(out) == before
    assert err.value.__notes__ == [f"No output was changed: the previous files in {out} are as they were."]
    assert _leftovers(out) == []  # staging folder and lock removed


def test_ctrl_c_mid_write_says_previous_outputs_unchanged(previous_run, monkeypatch):
    result, out, before = previous_run
    real = files._write_gpkg

    def interrupted(path, layers, *args):
        real(path, layers, *args)  # a complete GeoPackage in the staging folder, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_write_gpkg", interrupted)
    with pytest.raises(atomic.OutputsInterrupted) as err:
        files.write_outputs(result, out)
    assert err.value.message == (f"Interrupted before the outputs were complete; the previous files in {out} are "
                                 "unchanged.")
    assert _snapshot(out) == before and _leftovers(out) == []


def test_complete_write_replaces_all_files_and_removes_stale_optional_ones(previous_run):
    result, out, before = previous_run
    (out / "whatif.csv").write_text("from an older run with --add-services\n")
    (out / "sites.csv").write_text("site_id,employer\nsite-1,an earlier internal run's employer\n")
    (out / "notes.txt").write_text("the user's own file\n")
    written = files.write_outputs(result, out)
    after = _snapshot(out)
    assert "whatif.csv" not in after  # this run wrote none: the old one would mix two runs
    assert "sites.csv" not in after  # a public run never leaves an internal run's per-employer table
    assert after["notes.txt"] == b"the user's own file\n"
    assert {n: after[n] for n in written} == {n: before[n] for n in written}  # same inputs, same bytes
    assert all(p.parent == out for p in written.values()) and _leftovers(out) == []


_HOLDER = """
import sys, time
from gapmap.output.atomic import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_second_writer_into_the_same_folder_is_refused(previous_run):
    result, out, before = previous_run
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(atomic.OutputsLocked) as err:
            files.write_outputs(result, out)
        assert str(err.value) == (
            f"Another gapmap run (process {holder.pid}) is writing to {out}; wait for it to finish or give another "
            f"--out (if no run is active, delete {atomic.lock_path(out.absolute())}).")
        assert _snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()
    # A holder that died (kill -9 leaves the lock file) does not block the next run.
    files.write_outputs(result, out)
    assert _leftovers(out) == []


def test_two_concurrent_cli_runs_one_refused(mirror, tmp_path):
    out = tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "gapmap", "analyze", "--region", "chatham-kent", "--out", str(out), "-q"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lock = atomic.lock_path(out.absolute())
    deadline = time.monotonic() + 120
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env)
    first_out, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    assert second.stderr.startswith(f"Error: Another gapmap run (process {first.pid}) is writing to {out};")
    assert len(second.stderr.strip().splitlines()) == 1
    assert (out / "summary.json").exists() and not lock.exists()


def test_spreadsheet_formulas_neutralised_numbers_kept():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1 519 555", "-3.5", "-", "@SUM(A1)", "\tx", "\rx",
                                "Clinic", None, "1e-3"],
                       "n": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    safe = atomic.spreadsheet_safe(df)
    names = safe["name"].tolist()
    assert pd.isna(names[8])  # a missing value stays missing
    assert names[:8] + names[9:] == ["'=HYPERLINK(\"http://x\")", "'+1 519 555", "-3.5", "'-", "'@SUM(A1)", "'\tx",
                                     "'\rx", "Clinic", "1e-3"]
    assert safe["n"].tolist() == df["n"].tolist()
    clean = pd.DataFrame({"a": ["x", "y"]})
    assert atomic.spreadsheet_safe(clean) is clean  # nothing to change: no copy


def test_spreadsheet_formulas_in_a_mixed_object_column():
    # text and numbers in one object column: only the text is looked at, numbers stay numbers
    df = pd.DataFrame({"v": pd.Series(["=1+1", 5, -2.5, "ok", None, "-x"], dtype=object)})
    out = atomic.spreadsheet_safe(df)["v"].tolist()
    assert out[:4] == ["'=1+1", 5, -2.5, "ok"] and out[4] is None and out[5] == "'-x"
