"""Sources: where the data comes from and how it is read.

- :mod:`~gapmap.sources.catalog`: dataset id -> file in the mirror, publisher, licence.
- :mod:`~gapmap.sources.regions`: the LIP regions and how each boundary is obtained.
- :mod:`~gapmap.sources.readers`: raw-file readers (encodings, id types, column quirks).
- :mod:`~gapmap.sources.inputs` and :mod:`~gapmap.sources.validate`: user files and their checks.
- :mod:`~gapmap.sources.geocode`: offline geocoding of communities and postal codes.

The reader functions are re-exported here (``gapmap.sources.read_csv``).
"""

from gapmap.sources.readers import (  # noqa: F401
    column_list, read_cimd, read_csv, read_da_points, read_da_population, read_fsa_centroids, read_gazetteer,
    read_lmia, read_odcaf, read_odhf, read_vector, sniff_delimiter, to_float,
)
