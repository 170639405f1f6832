"""Old module paths (``gapmap.network``, ``gapmap.transit``, ...) for one release, with a DeprecationWarning.

The modules moved into the pipeline packages (see ``docs/architecture.md``). A meta-path
finder maps each old name to its new module, so ``import gapmap.network`` and
``from gapmap import network`` return the new module object itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: old module name -> new module name
MOVED = {
    "gapmap._errors": "gapmap.errors", "gapmap.config": "gapmap.settings",
    "gapmap.catalog": "gapmap.sources.catalog", "gapmap.regions": "gapmap.sources.regions",
    "gapmap.inputs": "gapmap.sources.inputs", "gapmap.validate": "gapmap.sources.validate",
    "gapmap.geocode": "gapmap.sources.geocode", "gapmap.demand": "gapmap.layers.demand",
    "gapmap.hours": "gapmap.layers.hours", "gapmap.catchments": "gapmap.travel",
    "gapmap.network": "gapmap.travel.road.network", "gapmap._graph": "gapmap.travel.road.graph",
    "gapmap.transit": "gapmap.travel.transit.schedule", "gapmap._gtfs": "gapmap.travel.transit.gtfs",
    "gapmap._csa": "gapmap.travel.transit.csa", "gapmap._raptor": "gapmap.travel.transit.raptor",
    "gapmap.gaps": "gapmap.analysis.gaps", "gapmap.access": "gapmap.analysis.access",
    "gapmap.siting": "gapmap.analysis.siting", "gapmap.plan": "gapmap.analysis.plan",
    "gapmap.privacy": "gapmap.analysis.privacy", "gapmap.outputs": "gapmap.output.files",
    "gapmap.webmap": "gapmap.output.webmap", "gapmap.report": "gapmap.output.report",
    "gapmap._i18n": "gapmap.output.i18n", "gapmap.api": "gapmap.pipeline",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} is deprecated and will be removed in gapmap 0.3; import {new} instead.",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """The new module is already executed."""


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
