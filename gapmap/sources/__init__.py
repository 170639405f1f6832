"""Sources: where the data comes from and how it is read.

- :mod:`~gapmap.sources.catalog`: dataset id -> file in the mirror, publisher, licence.
- :mod:`~gapmap.sources.regions`: the LIP regions and how each boundary is obtained.
- :mod:`~gapmap.sources.readers`: raw-file readers (encodings, id types, column quirks).
- :mod:`~gapmap.sources.inputs` and :mod:`~gapmap.sources.validate`: user files and their checks.
- :mod:`~gapmap.sources.geocode`: offline geocoding of communities and postal codes.

The reader functions are re-exported here (``gapmap.sources.read_csv``), on first use: the catalog and
the regions stay importable without pandas (``gapmap --help``).
"""

from typing import Any

#: Names of :mod:`gapmap.sources.readers` re-exported here.
_READERS = (
    "column_list", "derived", "read_cimd", "read_csv", "read_da_points", "read_da_population", "read_fsa_centroids", "read_gazetteer",
    "read_lmia", "read_odcaf", "read_odhf", "read_vector", "sniff_delimiter", "to_float",
)


def __getattr__(name: str) -> Any:
    if name in _READERS:
        from gapmap.sources import readers

        return getattr(readers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_READERS))
