"""Layers: the region's GeoDataFrames (boundary, areas, services, sites, population) with row accounting.

- :mod:`~gapmap.layers.build`: building each layer from sources or user files, rejects.
- :mod:`~gapmap.layers.demand`: demand points (people, workers) and H3 hexagons.
- :mod:`~gapmap.layers.hours`: opening hours and languages of services.

The builders are re-exported here (``gapmap.layers.build_sites``).
"""

from gapmap.layers.build import (  # noqa: F401
    POP_NAMES, REJECT_COLUMNS, SITE_COLUMNS, WORKER_NAMES, CategoryMap, Layer, assign_areas, build_boundary,
    check_odhf_locations, classify_odhf, read_category_map,
    build_population, build_services, build_sites, build_user_population, build_user_sites, estimate_workers,
    read_user_services, utm_crs,
)
