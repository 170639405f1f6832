"""User-facing errors: one sentence naming the file, row and fix."""

from __future__ import annotations


class GapmapError(Exception):
    """An error the user can fix; the CLI prints its message as one line and exits non-zero.

    Parameters
    ----------
    message : str
        One sentence: what is wrong, where (file, row), and how to fix it.
    exit_code : int
        Process exit code used by the CLI.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class MissingDataError(GapmapError):
    """A catalog dataset is not present in the local mirror."""


class InputError(GapmapError, ValueError):
    """A user-supplied file, setting or option is unusable (also a ``ValueError``, as r5py's errors are)."""
