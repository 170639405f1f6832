"""Ctrl-C (SIGINT) at any moment of `gapmap analyze`: one line, exit 130, previous outputs intact (issue 13).

Each test starts the real command in a subprocess and sends it the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(out: Path, quiet: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gapmap", "analyze", "--region", "chatham-kent", "--out", str(out), *(["-q"] if quiet else [])]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def _interrupt_after_line(proc: subprocess.Popen, marker: str) -> tuple[str, list[str]]:
    """Read stderr until a line containing ``marker``, send SIGINT, return (stdout, all stderr lines)."""
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if marker in line:
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    return out, lines + err.splitlines()


def test_sigint_during_imports(tmp_path):
    proc = _start(tmp_path / "out", quiet=True)
    # Signal once the process is past the interpreter's own start-up (before any gapmap code, Python's own
    # handler applies: a loaded machine can spend over 0.5 s there) and is importing the heavy modules:
    # numpy's extension is mapped only after gapmap's handler is installed.
    maps, deadline = Path(f"/proc/{proc.pid}/maps"), time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if "numpy" in maps.read_text():
                break
        except OSError:  # no /proc (not Linux): fall back to a fixed wait
            time.sleep(0.5)
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "Interrupted.\n" and out == ""
    assert not (tmp_path / "out").exists()


def test_sigint_during_analysis(mirror, tmp_path):
    proc = _start(tmp_path / "out")
    out, err = _interrupt_after_line(proc, "[2/5]")
    assert proc.returncode == 130, err
    assert err[-1] == "Interrupted." and not any("Traceback" in line for line in err)
    assert not (tmp_path / "out").exists()


def test_sigint_while_writing_keeps_previous_outputs(mirror, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    old = {"summary.json": b'{"old": true}\n', "map.html": b"<html>old</html>\n", "sites.csv": b"site_id\nold\n"}
    for name, data in old.items():
        (out / name).write_bytes(data)
    proc = _start(out)
    _, err = _interrupt_after_line(proc, "writing outputs to")
    assert proc.returncode == 130, err
    assert err[-1] == f"Interrupted before the outputs were complete; the previous files in {out} are unchanged."
    assert not any("Traceback" in line for line in err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder or lock left behind
