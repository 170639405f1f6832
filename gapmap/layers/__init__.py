"""Layers: the region's GeoDataFrames (boundary, areas, services, sites, population) with row accounting.

- :mod:`~gapmap.layers.base`: the :class:`Layer` record (schemas, rejects), region CRS, area assignment.
- :mod:`~gapmap.layers.areas`: boundary and areas (wards, tracts, divisions, user polygons).
- :mod:`~gapmap.layers.services`: services (ODHF classification and location checks, ODCAF, OSM, user files).
- :mod:`~gapmap.layers.sites`: migrant-worker sites (LMIA, worker estimate, user files).
- :mod:`~gapmap.layers.population`: population (dissemination areas, blocks, user points or rasters).
- :mod:`~gapmap.layers.demand`: demand points (people, workers) and H3 hexagons.
- :mod:`~gapmap.layers.hours`: opening hours and languages of services.
- :mod:`~gapmap.layers.build`: the builders re-exported under their old module.

The builders are re-exported here (``gapmap.layers.build_sites``).
"""

from gapmap.layers.base import REJECT_COLUMNS, Layer, assign_areas, utm_crs  # noqa: F401
from gapmap.layers.areas import build_boundary  # noqa: F401
from gapmap.layers.services import (  # noqa: F401
    CategoryMap, build_services, check_odhf_locations, classify_odhf, read_category_map, read_user_services,
)
from gapmap.layers.sites import SITE_COLUMNS, WORKER_NAMES, build_sites, build_user_sites, estimate_workers  # noqa: F401
from gapmap.layers.population import POP_NAMES, build_population, build_user_population  # noqa: F401
from gapmap.layers import build  # noqa: F401,E402  (``gapmap.layers.build.initial_bounds`` as before)
