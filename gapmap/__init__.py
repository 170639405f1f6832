"""gapmap: map service gaps for newcomers and migrant workers in Local Immigration Partnership regions.

The pipeline, one package per step::

    sources -> layers -> travel (straight, road, transit) -> analysis -> output

Notebooks and the CLI call the same API::

    import gapmap
    result = gapmap.analyze("chatham-kent")
    gapmap.write_outputs(result, "outputs/chatham-kent")

``import gapmap`` is cheap: the API names below load their modules on first use, so folium,
matplotlib and osmnx are imported only by the steps that need them.
"""

from __future__ import annotations

from gapmap import _interrupt

_interrupt.install_if_command()  # first, so Ctrl-C during the command's imports is one line

import importlib  # noqa: E402
from typing import Any

__version__ = "0.1.0"

from gapmap import _compat  # noqa: E402  (old module paths, deprecated)
from gapmap.errors import GapmapError, InputError, MissingDataError  # noqa: E402

#: public name -> module that defines it
_LAZY = {
    "Result": "gapmap.pipeline", "analyze": "gapmap.pipeline", "run": "gapmap.pipeline",
    "Settings": "gapmap.settings", "load_settings": "gapmap.settings",
    "write_outputs": "gapmap.output.files",
    "REGIONS": "gapmap.sources.regions", "get_region": "gapmap.sources.regions",
}

__all__ = ["GapmapError", "InputError", "MissingDataError", *_LAZY, "__version__"]

_compat.install()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gapmap' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
