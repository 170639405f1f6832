"""gapmap: map service gaps for newcomers and migrant workers in Local Immigration Partnership regions.

The pipeline, one module per step::

    catalog / regions -> sources -> layers -> catchments (network, transit) -> gaps -> outputs (webmap)

Notebooks and the CLI call the same API::

    import gapmap
    result = gapmap.analyze("chatham-kent")
    gapmap.write_outputs(result, "outputs/chatham-kent")
"""

__version__ = "0.1.0"

from ._errors import GapmapError, InputError, MissingDataError  # noqa: E402
from .api import Result, analyze, run  # noqa: E402
from .config import Settings, load_settings  # noqa: E402
from .outputs import write_outputs  # noqa: E402
from .regions import REGIONS, get_region  # noqa: E402

__all__ = ["GapmapError", "InputError", "MissingDataError", "Result", "analyze", "run", "Settings", "load_settings",
           "write_outputs", "REGIONS", "get_region", "__version__"]
