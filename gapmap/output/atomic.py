"""How output files reach disk: all at once or not at all, one run per folder, safe in spreadsheets.

- :func:`staged_outputs`: files are written into a temporary folder beside the target and
  moved into place only when every one is complete, so an error or Ctrl-C leaves the previous
  run's files untouched (and the message says so).
- :func:`output_lock`: a second run writing into the same folder at the same time is refused
  with a clear message instead of interleaving files.
- :func:`spreadsheet_safe`: text cells that a spreadsheet would run as a formula (``=``, ``+``,
  ``-``, ``@``, tab, carriage return) get a leading ``'``; genuine numbers such as ``-3.5`` stay.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from gapmap.errors import GapmapError

try:  # POSIX; elsewhere the lock falls back to an exclusive create
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_held: dict[Path, list] = {}  # lock path -> [fd, depth]: re-entrant within one process
_held_guard = threading.Lock()


class OutputsInterrupted(KeyboardInterrupt):
    """Ctrl-C while outputs were being written; the message says the previous files are unchanged."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutputsLocked(GapmapError):
    """Another run is writing into the same output folder."""


def lock_path(out: Path) -> Path:
    """The lock file of output folder ``out``: beside it, so the folder holds only outputs."""
    return out.parent / f".{out.name}.gapmap-lock"


@contextlib.contextmanager
def output_lock(out: str | os.PathLike) -> Iterator[None]:
    """Hold the write lock of output folder ``out`` (re-entrant in one process).

    Raises
    ------
    OutputsLocked
        When another process holds it.
    """
    path = lock_path(Path(out).absolute())
    with _held_guard:
        if path in _held:
            _held[path][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[path][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, Path(out))
    with _held_guard:
        _held[path] = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            del _held[path]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _acquire(path: Path, out: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif os.fstat(fd).st_size:  # pragma: no cover - no flock: a non-empty file means held
                raise BlockingIOError
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputsLocked(f"Another gapmap run (process {holder}) is writing to {out}; wait for it to finish or "
                                f"give another --out (if no run is active, delete {path}).") from None
        # The holder before us may have unlinked the file after we opened it: lock the file on disk.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)


@contextlib.contextmanager
def staged_outputs(out: str | os.PathLike, *, remove_if_absent: Iterable[str] = ()) -> Iterator[Path]:
    """A temporary folder beside ``out``; on success its files replace those in ``out``.

    Parameters
    ----------
    out : path
        The output folder (created if needed).
    remove_if_absent : iterable of str
        Optional output names: a previous run's copy is deleted when this run did not write one,
        so the folder never mixes two runs.

    Raises
    ------
    OutputsInterrupted
        On Ctrl-C before the files were moved into place (``out`` is unchanged).
    """
    out = Path(out)
    with output_lock(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in out.parent.glob(f".{out.name}.*.partial"):  # left by a killed run; nobody else holds the lock
            shutil.rmtree(stale, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        committed = False
        try:
            yield stage
            _commit(stage, out, set(remove_if_absent))
            committed = True
        except KeyboardInterrupt:
            if committed:
                raise
            raise OutputsInterrupted(f"Interrupted before the outputs were complete; the previous files in {out} "
                                     "are unchanged.") from None
        except BaseException as exc:
            if not committed:
                exc.add_note(f"No output was changed: the previous files in {out} are as they were.")
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _commit(stage: Path, out: Path, optional: set[str]) -> None:
    """Move every staged file into ``out`` with Ctrl-C held back, so the folder is never half old, half new."""
    with _signals_deferred():
        out.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in stage.iterdir())
        for name in names:
            os.replace(stage / name, out / name)
        for name in sorted(optional - set(names)):
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Block SIGINT/SIGTERM for a few renames; a signal that arrives meanwhile is delivered after."""
    sigs = {signal.SIGINT, getattr(signal, "SIGTERM", signal.SIGINT)}
    can = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs) if can else None
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` whose text cells cannot run as spreadsheet formulas (prefix ``'``), numbers kept.

    Only text (object / string) columns change, and only cells that start with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return and are not a plain number such as ``-3.5``.
    """
    out = None
    for col in df.columns:
        s = df[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        # A string dtype holds only text (and NA); an object column may mix in numbers and others.
        text = s if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object else s.where(s.map(lambda v: isinstance(v, str)), None)
        starts = text.str.startswith(_FORMULA_START, na=False)
        if not starts.any():  # the usual case, without a regex per cell (rejects.csv has ~15,000 rows)
            continue
        risky = starts & ~text.str.fullmatch(_NUMBER.pattern, na=False)
        if risky.any():
            out = df.copy() if out is None else out
            values = s.astype(object).copy()
            values[risky] = "'" + text[risky].astype(str)
            out[col] = values
    return df if out is None else out


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """The one way output tables are written: spreadsheet-safe, no index, ``\\n`` line ends."""
    spreadsheet_safe(df).to_csv(path, index=False, lineterminator="\n")
