"""Layer builders, re-exported from their modules (kept so ``gapmap.layers.build.X`` keeps working).

:mod:`~gapmap.layers.base` (the :class:`Layer` record and its schemas), :mod:`~gapmap.layers.areas`,
:mod:`~gapmap.layers.services`, :mod:`~gapmap.layers.sites`, :mod:`~gapmap.layers.population`.
"""

from gapmap.layers.base import (  # noqa: F401
    Layer, REJECT_COLUMNS, assign_areas, utm_crs,
)
from gapmap.layers.areas import (  # noqa: F401
    MAX_BOUNDARY_SPAN_DEG, build_boundary, initial_bounds,
)
from gapmap.layers.services import (  # noqa: F401
    CategoryMap, LOCATION_FLAG_FSA_KM, LOCATION_FLAG_FSA_RURAL_KM, LOCATION_FLAG_POSTAL_KM, LOCATION_FLAG_POSTAL_RURAL_KM,
    LOCATION_REJECT_KM, SERVICE_COLUMNS, build_services, check_odhf_locations, classify_odhf, read_category_map,
    read_user_services,
)
from gapmap.layers.sites import (  # noqa: F401
    SITE_COLUMNS, WORKER_NAMES, build_sites, build_user_sites, estimate_workers,
)
from gapmap.layers.population import (  # noqa: F401
    POP_NAMES, build_population, build_user_population,
)
