"""Travel: minutes from every origin to the nearest service of each category.

- :mod:`~gapmap.travel.modes`: the travel-mode registry (what each mode needs and computes).
- :mod:`~gapmap.travel.dispatch`: :func:`travel_times` and :func:`bands` by mode.
- :mod:`~gapmap.travel.straight`: the labelled straight-line approximation (its only formula).
- :mod:`gapmap.travel.road`: road networks (loading, graph, routing, isochrones).
- :mod:`gapmap.travel.transit`: GTFS feeds and schedule scans.

The names below load their modules on first use (the settings import the mode registry
from here, and road / transit code is imported only when a run uses it).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "bands": "dispatch", "check_categories": "dispatch", "transit_bands": "dispatch", "travel_times": "dispatch",
    "STRAIGHT_LINE": "straight", "TT_COLUMNS": "straight", "straight_line_bands": "straight",
    "straight_line_label": "straight", "straight_line_times": "straight",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"gapmap.travel.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gapmap.travel' has no attribute {name!r}")
