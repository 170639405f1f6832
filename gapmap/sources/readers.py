"""Readers for the raw public files: encodings, id types and column quirks handled here, once.

Every reader returns a DataFrame with a ``source_row`` column: the 1-based line number of the
row in its file (the header is line 1), so rejects can name the exact row.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import re
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap.errors import InputError


#: Largest input file read, in MB; raise it with the ``GAPMAP_MAX_INPUT_MB`` environment variable.
MAX_INPUT_MB = 512.0
_SAMPLE = 1 << 16


def max_input_bytes() -> int:
    """The input size limit in bytes: ``GAPMAP_MAX_INPUT_MB`` when set, else :data:`MAX_INPUT_MB`."""
    env = os.environ.get("GAPMAP_MAX_INPUT_MB", "").strip()
    try:
        mb = float(env) if env else MAX_INPUT_MB
    except ValueError:
        raise InputError(f"GAPMAP_MAX_INPUT_MB={env!r} is not a number of megabytes; set it to e.g. 2048.") from None
    if not mb > 0 or mb == float("inf"):
        raise InputError(f"GAPMAP_MAX_INPUT_MB={env!r} must be a positive number of megabytes, e.g. 2048.")
    return int(mb * 1e6)


def check_size(path: str | Path, what: str, size: int | None = None, *, fix: str = "split the file") -> None:
    """Refuse a file above the input limit before anything is loaded (``size``: bytes, default the file's)."""
    limit = max_input_bytes()
    size = Path(path).stat().st_size if size is None else size
    if size > limit:
        mb = lambda n: f"{n / 1e6:,.1f}" if n < 1e7 else f"{n / 1e6:,.0f}"  # noqa: E731
        raise InputError(f"{what} file {path} is {mb(size)} MB, above the {mb(limit)} MB input limit; "
                         f"{fix}, or raise the limit with GAPMAP_MAX_INPUT_MB.")


def _encoding(path: Path, what: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM, else cp1252 (ODHF is latin-1); read in chunks, never whole."""
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if b"\x00" in head:
            raise InputError(f"{what} file {path} is not a text file (it holds NUL bytes; UTF-16 without a byte-order mark, "
                             "or binary); save it as CSV UTF-8.")
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = fh.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _read_text(path: Path) -> str:
    """Decode a small text file as UTF-8 (with or without BOM), else cp1252 (ODHF is latin-1)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_csv(path: str | Path, required: list[str], *, what: str, columns: Sequence[str] | None = None,
             numeric: Sequence[str] = (), **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as strings, check ``required`` columns and add ``source_row``.

    The file is size-checked (:func:`check_size`) and parsed straight from disk, so memory
    is that of the table, not of the file's text held twice.

    Parameters
    ----------
    path
        The CSV file (UTF-8 with or without BOM, else cp1252).
    required
        Columns that must be present (names compared after stripping whitespace).
    what
        What the file is, for messages (``"ODHF"``).
    columns
        Further columns to keep when present; ``None`` keeps every column. Only kept columns
        are stripped (stripping a column costs about as much as parsing it).
    numeric
        Columns the caller converts with :func:`to_float`: when every value of them is a plain
        number or blank, pandas parses them in C (int64 or float64, blanks NaN), which is what
        :func:`to_float` gives for those strings; otherwise (thousands separators, decimal
        commas, text) the whole file is read as strings, as without ``numeric``.
    **kwargs
        Passed to :func:`pandas.read_csv` (``sep`` is sniffed when not given).

    Raises
    ------
    InputError
        One sentence naming the file and the missing columns, or the malformed line.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} path {path} is a folder, not a CSV file; give the file itself.")
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist; check the path.")
    check_size(path, what)
    encoding = _encoding(path, what)
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(_SAMPLE)
    if not sample.strip() and path.stat().st_size <= _SAMPLE * 4:
        raise InputError(f"{what} file {path} is empty; it needs a header row"
                         f"{' with ' + ', '.join(required) if required else ''}.")
    if "sep" not in kwargs:
        kwargs["sep"] = sniff_delimiter(sample.lstrip("\ufeff"))
    keep = None if columns is None else {*required, *columns}
    df = _parse_numeric(path, encoding, sample, numeric, keep, kwargs) if numeric else None
    if df is None:
        df = _parse(path, encoding, what, dtype=str, **kwargs)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    check_case_duplicates(df.columns, path, what)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} file {path} lacks column(s) {', '.join(missing)} (found: {column_list(df.columns)}); "
            "rename the header or use the right file."
        )
    if keep is not None:
        df = df.loc[:, [c in keep for c in df.columns]]
    for col in df.columns:  # one column at a time: a whole-frame copy would double the peak memory
        if df[col].dtype == object or isinstance(df[col].dtype, pd.StringDtype):
            if _needs_strip(df[col]):
                df[col] = df[col].str.strip()
    df.insert(0, "source_row", range(2, len(df) + 2))
    # Semicolon-separated files come from French-locale spreadsheets, which write 42,4 for 42.4.
    df.attrs["decimal_comma"] = kwargs["sep"] == ";"
    return df


def _parse(path: Path, encoding: str, what: str, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_csv`` straight from disk; a malformed file is one sentence, Ctrl-C stays Ctrl-C."""
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        src = InterruptibleFile(fh)
        try:
            return pd.read_csv(src, keep_default_na=False, **kwargs)
        except (pd.errors.ParserError, csv.Error) as exc:
            src.reraise_interrupt()
            raise InputError(f"{what} file {path} is not a valid CSV ({str(exc).strip()}); fix that line.") from None


def _parse_numeric(path: Path, encoding: str, sample: str, numeric: Sequence[str], keep: set[str] | None,
                   kwargs: dict[str, Any]) -> pd.DataFrame | None:
    """Parse with pandas' C number parsing for the ``numeric`` columns, strings for the other kept ones.

    Columns not in ``keep`` (``None``: all kept) are parsed with pandas' inference, which
    is cheaper than strings for numbers and never fails; they are dropped afterwards.

    ``None`` when that cannot be the same as strings + :func:`to_float` (a header pandas would
    name differently, a value that is not a plain number, an int beyond int64, a parse error):
    the caller then reads the file as strings, which also gives the usual error messages.
    """
    if set(kwargs) != {"sep"} or len(kwargs["sep"]) != 1 or "\n" not in sample:
        return None
    try:
        header = next(csv.reader([sample.lstrip("\ufeff").splitlines()[0]], delimiter=kwargs["sep"]))
    except (csv.Error, StopIteration):
        return None
    names = [str(c).strip() for c in header]
    if len(set(header)) != len(header) or len(set(names)) != len(names):
        return None  # pandas would rename duplicates ("a.1"): keep to the plain path
    raw = dict(zip(names, header))
    nums = [raw[c] for c in numeric if c in raw]
    if not nums:
        return None
    kept = [h for h, n in zip(header, names) if keep is None or n in keep]
    dtype = {h: str for h in kept if h not in nums}
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        src = InterruptibleFile(fh)
        try:
            with warnings.catch_warnings():  # mixed types in a dropped column are no concern
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                df = pd.read_csv(src, dtype=dtype, keep_default_na=False, na_values={h: [""] for h in nums}, **kwargs)
        except (ValueError, OverflowError, csv.Error):  # ParserError is a ValueError
            src.reraise_interrupt()
            return None
    if list(df.columns) != header:
        return None
    for h in kept:
        kind = df[h].dtype
        if h in nums:
            if kind not in ("int64", "float64"):
                return None
        elif kind != object and not isinstance(kind, pd.StringDtype):
            return None
    return df


#: Every character ``str.strip`` removes (``str.isspace``; a test checks the list is complete).
_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"
_ASCII_SPACE = tuple(c for c in _SPACE if c.isascii())
_WS_BYTE = np.zeros(256, dtype=bool)
_WS_BYTE[[ord(c) for c in _ASCII_SPACE]] = True


def _needs_strip(col: pd.Series) -> bool:
    """Whether any value of a text column may have leading or trailing whitespace, tested in numpy.

    The values are joined with NUL and encoded as UTF-8; the bytes beside each NUL are looked
    up in a table of whitespace bytes. A non-ASCII character beside a NUL is decoded and
    tested (too many of them: answer yes). A NUL inside a value can only make the answer yes.
    About a tenth of the cost of ``str.strip`` on every value.
    """
    try:
        joined = "\x00".join(col.to_numpy(dtype=object).tolist())
    except TypeError:  # a missing value (short row)
        return True
    raw = ("\x00" + joined + "\x00").encode("utf-8", "surrogatepass")
    a = np.frombuffer(raw, dtype=np.uint8)
    nul = np.flatnonzero(a == 0)
    after, before = a[nul[:-1] + 1], a[nul[1:] - 1]
    if _WS_BYTE[after].any() or _WS_BYTE[before].any():
        return True
    first = nul[:-1][after >= 0x80] + 1  # a value starting with a non-ASCII character
    last = nul[1:][before >= 0x80]  # ... or ending with one
    if len(first) + len(last) > 256:
        return True
    return any(raw[i:i + 4].decode("utf-8", "ignore")[:1].isspace() for i in first.tolist()) \
        or any(raw[max(i - 4, 0):i].decode("utf-8", "ignore")[-1:].isspace() for i in last.tolist())

def _upper(col: pd.Series) -> pd.Series:
    """``col.str.upper()``, skipped (one C-level test) when every value is upper-case already."""
    try:
        joined = "\x00".join(col.to_numpy(dtype=object).tolist())
    except TypeError:  # a missing value
        return col.str.upper()
    return col if joined.upper() == joined else col.str.upper()


class InterruptibleFile:
    """A file for pandas' C parser that lets Ctrl-C through.

    The parser reports any exception raised while it reads as a ``ParserError`` ("Calling
    read(nbytes) on source failed"), which would turn Ctrl-C into "not a valid CSV"; this
    wrapper remembers the interrupt so :meth:`reraise_interrupt` can raise it again.
    """

    def __init__(self, fh) -> None:
        self._fh = fh
        self.interrupted = False

    def read(self, size: int = -1):
        try:
            return self._fh.read(size)
        except KeyboardInterrupt:
            self.interrupted = True
            raise

    def __iter__(self):
        return iter(self._fh)

    def reraise_interrupt(self) -> None:
        """Raise ``KeyboardInterrupt`` if one happened inside :meth:`read`."""
        if self.interrupted:
            raise KeyboardInterrupt


def check_case_duplicates(columns, path, what: str) -> None:
    """Refuse two columns whose names differ only in case or spacing (``Latitude`` and ``latitude``)."""
    seen: dict[str, str] = {}
    for c in columns:
        key = str(c).strip().lower()
        if key in seen:
            raise InputError(f"{what} file {path} has columns {seen[key]!r} and {str(c)!r}, which differ only in case; "
                             "rename or remove one of them.")
        seen[key] = str(c)


def column_list(columns, limit: int = 12) -> str:
    """Column names for a one-line message: whitespace collapsed, internal columns left out."""
    names = [re.sub(r"\s+", " ", str(c)).strip() or "(blank)" for c in columns if c != "source_row"]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (French-locale spreadsheets), tab or pipe, whichever splits the header most."""
    header = text.lstrip().splitlines()[0]
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def to_float(series: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Numbers from text; blanks and non-numbers become NaN.

    Commas are thousands separators (``1,234``), or the decimal mark when ``decimal_comma``.
    """
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        if series.dtype in ("int64", "float64"):
            return series.copy()  # what the text of these numbers parses back to
    text = series.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
    else:
        text = text.str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce")


#: Parsed province-wide tables of this process: (reader, ((path, mtime, size),)) -> frame.
_TABLES: dict[tuple, pd.DataFrame] = {}
_TABLES_MAX = 8
#: Values :func:`derived` from such tables: (name, ((path, mtime, size), ...)) -> value.
_DERIVED: dict[tuple, Any] = {}
_DERIVED_MAX = 16


def _memo(store: dict[tuple, Any], name: Hashable, paths: Sequence[str | Path], build: Callable[[], Any], limit: int) -> Any:
    """``build()``, kept in ``store`` under ``name`` and the version (resolved path, mtime, size)
    of each file it reads: an edited file is read again, and its older version is dropped. At
    most ``limit`` entries (oldest first out). A file that cannot be stat'ed is not cached:
    ``build`` then gives the reader's own message."""
    try:
        versions = tuple((str(r), st.st_mtime_ns, st.st_size) for r in (Path(p).resolve() for p in paths) for st in (r.stat(),))
    except OSError:
        return build()
    key = (name, versions)
    if key not in store:
        value = build()
        for stale in [k for k in store if k[0] == name and [v[0] for v in k[1]] == [v[0] for v in versions]]:
            del store[stale]  # an older version of the same files
        while len(store) >= limit:
            del store[next(iter(store))]
        store[key] = value
    return store[key]


def _cached(reader: Callable[[str | Path], pd.DataFrame]) -> Callable[[str | Path], pd.DataFrame]:
    """Parse a province-wide table once per process (a batch reads it for every region).

    Keyed by the resolved path, modification time and size, so an edited file is read again.
    Each call returns a shallow copy: with pandas copy-on-write, changing it leaves the
    cached frame alone.
    """

    @functools.wraps(reader)
    def read(path: str | Path) -> pd.DataFrame:
        return _memo(_TABLES, reader.__name__, [path], lambda: reader(path), _TABLES_MAX).copy(deep=False)

    return read


def clear_table_cache() -> None:
    """Forget the parsed province-wide tables (see :func:`read_odhf` and the DA readers)."""
    _TABLES.clear()
    _DERIVED.clear()


def derived(name: Hashable, paths: Sequence[str | Path], build: Callable[[], Any]) -> Any:
    """``build()``, once per process per version (path, mtime, size) of the files it reads.

    For lookups a batch derives from the same province-wide tables for every region (the
    postal-point tables of the geocoder and of the ODHF location check, the ODHF categories).
    ``name`` holds whatever else the value depends on (the rules, for the categories). Callers
    treat the value as read-only.
    """
    return _memo(_DERIVED, name, paths, build, _DERIVED_MAX)


#: Optional columns the layers use besides each reader's required ones; the rest are not stripped.
_ODHF_EXTRA = ("source_facility_type", "provider", "street_no", "street_name", "postal_code", "city", "CSDname")
_LMIA_EXTRA = ("noc2011_code", "count_header_in_source")


@_cached
def read_odhf(path: str | Path) -> pd.DataFrame:
    """ODHF v1.1: latin-1, ``CSDuid`` like ``3536020.0``, province codes lower-case.

    Columns used for classification (:func:`gapmap.layers.build.classify_odhf`) are always
    present: ``facility_name, source_facility_type, odhf_facility_type, provider``; the class
    is stripped and case-folded to ODHF's spelling ("nursing and residential ..." occurs too).
    """
    df = read_csv(
        path,
        ["index", "facility_name", "source_facility_type", "odhf_facility_type", "provider", "province", "CSDuid",
         "latitude", "longitude"],
        what="ODHF", columns=_ODHF_EXTRA, numeric=("latitude", "longitude"),
    )
    df["odhf_facility_type"] = df["odhf_facility_type"].str.strip().str.capitalize()
    df["CSDuid"] = df["CSDuid"].str.replace(r"\.0$", "", regex=True)
    df["province"] = _upper(df["province"])
    df["latitude"] = to_float(df["latitude"])
    df["longitude"] = to_float(df["longitude"])
    return df


@_cached
def read_odcaf(path: str | Path) -> pd.DataFrame:
    """ODCAF v1.0 (cp1252): numeric ``Latitude``/``Longitude``; ``..`` marks an empty field."""
    df = read_csv(path, ["Index", "Facility_Name", "ODCAF_Facility_Type", "Latitude", "Longitude"], what="ODCAF")
    df["Latitude"] = to_float(df["Latitude"].replace("..", ""))
    df["Longitude"] = to_float(df["Longitude"].replace("..", ""))
    return df


@_cached
def read_lmia(path: str | Path) -> pd.DataFrame:
    """The cleaned LMIA CSV (Ontario or a subset) with numeric counts and an upper-case FSA.

    Keeps the required columns and the NOC code and count header the sites layer uses.
    """
    df = read_csv(
        path,
        ["year", "quarter", "program_stream", "employer", "address", "city", "postal_code", "fsa", "approved_positions"],
        what="LMIA", columns=_LMIA_EXTRA, numeric=("approved_positions", "year", "quarter"),
    )
    df["approved_positions"] = to_float(df["approved_positions"])
    df["year"] = pd.to_numeric(df["year"], errors="coerce").astype("Int64")
    df["quarter"] = pd.to_numeric(df["quarter"], errors="coerce").astype("Int64")
    df["postal_code"] = _upper(df["postal_code"]).str.replace(" ", "", regex=False)
    df["fsa"] = _upper(df["fsa"])
    return df


def read_gazetteer(path: str | Path) -> pd.DataFrame:
    """A community gazetteer (``name, latitude, longitude`` and optional ``gnbc_code``)."""
    df = read_csv(path, ["name", "latitude", "longitude"], what="Gazetteer", numeric=("latitude", "longitude"))
    df["latitude"] = to_float(df["latitude"])
    df["longitude"] = to_float(df["longitude"])
    return df


_GEONAMES_COLS = [
    "country", "fsa", "place_name", "admin_name1", "admin_code1",
    "admin_name2", "admin_code2", "admin_name3", "admin_code3", "latitude", "longitude", "accuracy",
]


@_cached
def read_fsa_centroids(path: str | Path) -> pd.DataFrame:
    """GeoNames ``CA.txt``: tab-separated, no header, one row per FSA."""
    path = Path(path)
    check_size(path, "GeoNames postal-area")
    text = io.StringIO(_read_text(path))
    df = None
    try:  # coordinates parsed by pandas when they are plain numbers (as in read_csv(numeric=...))
        df = pd.read_csv(text, sep="\t", header=None, names=_GEONAMES_COLS, keep_default_na=False,
                         dtype={c: str for c in _GEONAMES_COLS if c not in ("latitude", "longitude")},
                         na_values={"latitude": [""], "longitude": [""]})
        if not all(str(df[c].dtype) in ("int64", "float64") for c in ("latitude", "longitude")):
            df = None
    except (ValueError, OverflowError):
        df = None
    if df is None:
        text.seek(0)
        df = pd.read_csv(text, sep="\t", header=None, names=_GEONAMES_COLS, dtype=str, keep_default_na=False)
    df["latitude"] = to_float(df["latitude"])
    df["longitude"] = to_float(df["longitude"])
    df["fsa"] = df["fsa"].str.upper().str.strip()
    return df[["fsa", "place_name", "admin_code1", "latitude", "longitude"]]


@_cached
def read_da_population(path: str | Path) -> pd.DataFrame:
    """2021 population by DA; 8-digit DAUIDs are DAs, 4-digit codes are census-division totals."""
    df = read_csv(path, ["DAUID", "Population"], what="DA population", columns=(), numeric=("Population",))
    df = df.rename(columns={"DAUID": "dauid", "Population": "pop2021"})
    df["pop2021"] = to_float(df["pop2021"])
    return df[["source_row", "dauid", "pop2021"]]


_CIMD_EXTRA = ("Residential instability Scores", "Economic dependency Scores", "Situational vulnerability Scores")


@_cached
def read_cimd(path: str | Path) -> pd.DataFrame:
    """CIMD 2021 factor scores by DA, with short column names."""
    df = read_csv(path, ["DAUID", "Ethno-cultural composition Scores"], what="CIMD", columns=_CIMD_EXTRA,
                  numeric=("Ethno-cultural composition Scores", *_CIMD_EXTRA))
    names = {
        "DAUID": "dauid",
        "Residential instability Scores": "cimd_resid_instab",
        "Ethno-cultural composition Scores": "cimd_ethnocult",
        "Economic dependency Scores": "cimd_econ_dep",
        "Situational vulnerability Scores": "cimd_sit_vuln",
    }
    df = df.rename(columns=names)[[c for c in names.values() if c in df.rename(columns=names).columns]]
    for col in df.columns[1:]:
        df[col] = to_float(df[col])
    return df


@_cached
def read_da_points(path: str | Path) -> pd.DataFrame:
    """2016 population-weighted DA representative points (``DAUID_2016, lon, lat``)."""
    df = read_csv(path, ["DAUID_2016", "lon", "lat"], what="DA points", columns=(), numeric=("lon", "lat"))
    df = df.rename(columns={"DAUID_2016": "dauid"})
    df["lon"] = to_float(df["lon"])
    df["lat"] = to_float(df["lat"])
    return df[["dauid", "lon", "lat"]]


def read_vector(path: str | Path, *, what: str) -> gpd.GeoDataFrame:
    """Any vector file pyogrio reads (GeoJSON, GeoPackage, Shapefile), with a clear error."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist; check the path.")
    if path.is_file():
        check_size(path, what)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{what} file {path} cannot be read as a vector layer ({exc}); give a GeoJSON, GeoPackage or Shapefile.") from None
    if gdf.empty:
        raise InputError(f"{what} file {path} has no features; give a file with at least one feature.")
    if gdf.crs is None:
        raise InputError(f"{what} file {path} has no coordinate reference system; save it with a CRS (e.g. EPSG:4326).")
    return gdf
