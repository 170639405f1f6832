"""User-facing errors: one sentence naming the file, row and fix; the rejects table for row accounting."""

from __future__ import annotations

from typing import Any, Iterable

#: Columns of every rejects table (``rejects.csv``): one row per rejected input row.
REJECT_COLUMNS = ["layer", "source", "row", "reason"]


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


def reject_rows(layer: str, source: Any, rows: Iterable[int], reasons: str | Iterable[str]) -> Any:
    """Rejects table (:data:`REJECT_COLUMNS`): one row per rejected input ``rows`` of ``source``.

    Parameters
    ----------
    layer : str
        Layer the rows were meant for (``services``, ``sites`` ...).
    source : str or path
        The file (or dataset) the rows came from.
    rows : iterable of int
        Their row numbers in that file (header = row 1).
    reasons : str or iterable of str
        One reason for all rows, or one per row.
    """
    import pandas as pd  # here, so that importing the CLI (which imports this module) stays light

    rows = list(rows)
    reasons = [reasons] * len(rows) if isinstance(reasons, str) else list(reasons)
    return pd.DataFrame({"layer": layer, "source": str(source), "row": pd.Series(rows, dtype="int64"), "reason": reasons},
                        columns=REJECT_COLUMNS)
