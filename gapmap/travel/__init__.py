"""Travel: minutes from every origin to the nearest service of each category.

- :mod:`~gapmap.travel.dispatch`: :func:`travel_times` by mode (straight line, road, transit).
- :mod:`~gapmap.travel.straight`: the labelled straight-line approximation (its only formula).
- :mod:`gapmap.travel.road`: road networks (loading, graph, routing, isochrones).
- :mod:`gapmap.travel.transit`: GTFS feeds and schedule scans.

Road and transit modules are imported only when a run uses them.
"""

from gapmap.travel.dispatch import bands, check_categories, transit_bands, travel_times  # noqa: F401
from gapmap.travel.straight import (  # noqa: F401
    STRAIGHT_LINE, TT_COLUMNS, straight_line_bands, straight_line_label, straight_line_times,
)
