"""Ctrl-C while the `gapmap` command starts: one line and exit 130, never an import traceback.

Installed by ``gapmap/__init__.py`` (the first gapmap code that runs) only when the process is
the `gapmap` command (console script or ``python -m gapmap``), never in a notebook or a host
program. :func:`gapmap.cli` switches back to ``KeyboardInterrupt`` while a command runs, so
staged outputs are cleaned up; the interpreter's own start-up (before any gapmap code) stays
Python's.
"""

from __future__ import annotations

import os
import signal
import sys


def interrupted_early(signum, frame) -> None:
    """Nothing to clean up yet: say so in one line and leave with the conventional code."""
    os.write(2, b"Interrupted.\n")
    os._exit(130)


def _is_command() -> bool:
    """The `gapmap` console script, ``python -m gapmap`` or ``python -m gapmap.cli``."""
    if os.path.basename(sys.argv[0] if sys.argv else "").removesuffix(".exe") == "gapmap":
        return True
    orig = list(getattr(sys, "orig_argv", []))
    return "-m" in orig[:-1] and orig[orig.index("-m") + 1] in ("gapmap", "gapmap.cli")


def install_if_command() -> None:
    """Install :func:`interrupted_early` for SIGINT when running as the command and SIGINT is not ignored."""
    if _is_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupted_early)
