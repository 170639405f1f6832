"""Analysis settings: documented defaults, overridable from a TOML file, the CLI and Python.

One settings path: every option is a :class:`Settings` field, and every module that uses it
receives it from the run's settings (no module constant shadows a setting). Defaults (all
overridable):

- ``speeds_kmh``: from the travel-mode registry (:mod:`gapmap.travel.modes`): drive 60,
  bike 15, walk 4.8 km/h. On road networks the mode's speed and ``circuity`` time the
  off-road leg to the nearest road (walked at the walking speed in walk mode); the walking
  speed also times the walking legs of transit trips; on walk and bike road networks every
  edge is travelled at the mode's speed.
- ``circuity``: 1.3. Road distance / straight-line distance; 1.2-1.4 is the range
  reported for rural grid networks (Levinson & El-Geneidy 2009; Ballou et al. 2002). Used by
  the straight-line approximation and by road networks' off-road legs (``circuity_range`` for
  both in the bounds).
- ``thresholds_min``: 15, 30 and 60 minutes for every category (the default categories'
  thresholds in the registry).
- ``categories``: the service categories analysed: the registry's defaults
  (:func:`gapmap.categories.default_categories`: ``hospital``, clinical ``primary_care``).
- ``headline``: the category and threshold the map shades areas by (the registry's headline
  category, hospital, at 30 min).
- ``snap_limit_m``: 1000 m; places farther than this from every road are flagged (never dropped);
  services farther than this lie past the roads the network holds and are named in the notes.

Straight-line minutes: see :mod:`gapmap.travel.straight`.

Types are checked when settings load (TOML, CLI or ``Settings(...)``): a wrong type, a
non-finite number or an unknown key is one :class:`~gapmap.errors.InputError` naming the key
and the expected type.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from pathlib import Path
from typing import Any

from gapmap import categories as _categories
from gapmap.errors import InputError
from gapmap.travel import modes as _modes

MODES = tuple(_modes.MODES)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Parameters of one analysis run (see module docstring for the defaults' sources)."""

    mode: str = "drive"
    speeds_kmh: dict[str, float] = dataclasses.field(default_factory=_modes.default_speeds)
    circuity: float = 1.3
    thresholds_min: tuple[float, ...] = dataclasses.field(default_factory=_categories.default_thresholds)
    categories: tuple[str, ...] = dataclasses.field(default_factory=_categories.default_categories)
    streams: tuple[str, ...] = ("Primary Agriculture",)
    headline_category: str = dataclasses.field(default_factory=_categories.default_headline)
    headline_threshold: float = 30.0
    privacy: str = "public"
    k_anonymity: int = 5
    hex_resolution: int = 7
    # True when the user named the categories: a category with no services is then an error,
    # not a note (default categories missing in a region are dropped with a note).
    require_categories: bool = False
    # Transit (mode "transit"): service date (ISO, default the first Wednesday with service),
    # departure window, walking limits and transfers (see gapmap.travel.transit.schedule).
    transit_date: str | None = None
    transit_window: tuple[str, str] = ("17:00", "19:00")
    max_walk_m: float = 1000.0
    max_transfers: int = 3
    lang: str = "en"
    snap_limit_m: float = 1000.0
    # Uncertainty ranges (see gapmap.analysis.uncertainty for the sources of the defaults).
    circuity_range: tuple[float, float] = (1.2, 1.6)
    speed_factor_range: tuple[float, float] = (0.85, 1.15)
    location_radius_m: dict[str, float] = dataclasses.field(default_factory=lambda: {
        "user coordinates": 0.0, "postal_code": 500.0, "community": 5000.0, "post_office": 10000.0,
        "postal_area": 25000.0,
    })
    # Where the offline data hold them (Chatham-Kent's pseudo-households and rural post-office
    # points), sites range over their candidate positions instead of the stated radius.
    location_candidates: bool = True

    def circuity_bounds(self) -> tuple[float, float]:
        """``circuity_range`` widened to contain ``circuity`` (a point setting outside its range widens it)."""
        return min(self.circuity_range[0], self.circuity), max(self.circuity_range[1], self.circuity)

    def speed_ms(self, mode: str | None = None) -> float:
        """Speed of ``mode`` (default: the run's mode) in metres per second."""
        return self.speeds_kmh[mode or self.mode] / 3.6

    def validate(self) -> "Settings":
        """Return self, or raise :class:`InputError` naming the bad setting."""
        check_types({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, "")
        # check_types has refused wrong types and NaN/infinity; what is left is the sign.
        numbers = {**{f"thresholds_min[{i}]": t for i, t in enumerate(self.thresholds_min)},
                   **{f"speeds_kmh.{k}": v for k, v in self.speeds_kmh.items()},
                   "circuity": self.circuity, "headline_threshold": self.headline_threshold, "max_walk_m": self.max_walk_m,
                   "max_transfers": self.max_transfers, "k_anonymity": self.k_anonymity, "hex_resolution": self.hex_resolution}
        for name, v in numbers.items():
            if v < 0:
                raise InputError(f"Setting {name} = {v:g} is negative; give a value of 0 or more in the config file or option.")
        if self.mode not in MODES:
            raise InputError(f"Unknown mode {self.mode!r}; use one of {', '.join(MODES)}.")
        if self.mode == "transit" and "walk" not in self.speeds_kmh:
            raise InputError("Transit needs a walking speed; set speeds_kmh.walk in the config file.")
        if self.mode != "transit" and self.mode not in self.speeds_kmh:
            raise InputError(f"No speed set for mode {self.mode!r}; add speeds_kmh.{self.mode} to the config file.")
        if any(v <= 0 for v in self.speeds_kmh.values()):
            raise InputError("Speeds must be positive km/h; fix speeds_kmh in the config file.")
        if self.circuity < 1:
            raise InputError(f"Circuity {self.circuity} is below 1 (roads are never shorter than a straight line); use a value >= 1.")
        if not self.thresholds_min or any(t <= 0 for t in self.thresholds_min):
            raise InputError("Thresholds must be positive minutes, e.g. --threshold 30.")
        if not self.categories:
            raise InputError("No service categories to analyse; name at least one with --category.")
        if self.max_walk_m <= 0 or self.snap_limit_m <= 0:
            raise InputError("max_walk_m and snap_limit_m must be positive metres; fix them in the config file.")
        lo, hi = self.circuity_range
        if not 1 <= lo <= hi:
            raise InputError(f"circuity_range {list(self.circuity_range)} must be [low, high] with 1 <= low <= high.")
        lo, hi = self.speed_factor_range
        if not 0 < lo <= hi:
            raise InputError(f"speed_factor_range {list(self.speed_factor_range)} must be [low, high] with 0 < low <= high.")
        if any(r < 0 for r in self.location_radius_m.values()):
            raise InputError("location_radius_m values must be metres >= 0; fix [location_radius_m] in the config file.")
        if self.max_transfers < 0 or self.k_anonymity < 1:
            raise InputError("max_transfers must be >= 0 and k_anonymity >= 1; fix them in the config file.")
        if self.headline_threshold not in self.thresholds_min:
            raise InputError(
                f"Headline threshold {self.headline_threshold:g} min is not among the thresholds "
                f"{', '.join(f'{t:g}' for t in self.thresholds_min)}; add it with --threshold."
            )
        if self.headline_category not in self.categories:
            raise InputError(
                f"Headline category {self.headline_category!r} is not analysed; add it with --category."
            )
        if self.lang not in ("en", "fr"):
            raise InputError(f"Unknown language {self.lang!r}; use en or fr.")
        if self.privacy not in ("public", "internal"):
            raise InputError(f"Unknown privacy level {self.privacy!r}; use public or internal.")
        from gapmap.analysis.privacy import check_settings  # public-mode floors live with the disclosure rule

        check_settings(self)
        return self

    def replace(self, **changes: Any) -> "Settings":
        """Copy with ``changes`` applied; ``None`` values are ignored."""
        changes = {k: v for k, v in changes.items() if v is not None and v != ()}
        for key in ("thresholds_min", "categories", "streams"):
            if key in changes:
                changes[key] = tuple(sorted(set(changes[key]), key=changes[key].index)) if key != "thresholds_min" else tuple(sorted(set(float(t) for t in changes[key])))
        if "transit_window" in changes:
            changes["transit_window"] = tuple(changes["transit_window"])
        if "speeds_kmh" in changes:
            changes["speeds_kmh"] = {**self.speeds_kmh, **changes["speeds_kmh"]}
        if "location_radius_m" in changes:
            changes["location_radius_m"] = {**self.location_radius_m, **changes["location_radius_m"]}
        for key in ("circuity_range", "speed_factor_range"):
            if key in changes:
                changes[key] = tuple(changes[key])
        return dataclasses.replace(self, **changes)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the defaults, then a TOML ``path``, then keyword overrides.

    The TOML keys are the :class:`Settings` field names, e.g.::

        mode = "drive"
        circuity = 1.25
        thresholds_min = [20, 40]
        [speeds_kmh]
        drive = 70
    """
    settings = Settings()
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"Config file {path} does not exist; check the --config path.") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"Config file {path} is not valid TOML ({exc}); fix that line.") from None
        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"Config file {path} has unknown key(s) {', '.join(unknown)}; valid keys are {', '.join(sorted(known))}."
            )
        data = check_types(data, f"Config file {path}")
        settings = settings.replace(**data)
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(Settings)})
    if unknown:
        raise InputError(f"Unknown setting(s) {', '.join(unknown)}; valid settings are the fields of gapmap.Settings.")
    overrides = check_types({k: v for k, v in overrides.items() if v is not None and v != ()}, "")
    explicit = {k for k, v in overrides.items() if v not in (None, ())} | (set(data) if path is not None else set())
    settings = settings.replace(**overrides)
    if "categories" in explicit:
        settings = settings.replace(require_categories=True)
    # Analysing other categories or thresholds moves the headline along unless it was set explicitly.
    if "headline_category" not in explicit and settings.headline_category not in settings.categories:
        settings = settings.replace(headline_category=settings.categories[0])
    if "headline_threshold" not in explicit and settings.headline_threshold not in settings.thresholds_min:
        closest = min(settings.thresholds_min, key=lambda t: (abs(t - 30.0), t))
        settings = settings.replace(headline_threshold=closest)
    return settings.validate()


# ------------------------------------------------------------------------------------
# Type checks
# ------------------------------------------------------------------------------------

def _describe(hint: Any) -> str:
    """Expected type in words, for messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float:
        return "a number"
    if hint is int:
        return "a whole number"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a text string"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
        return f"a list of {len(args)} values"
    if origin is dict:
        return f"a table of {_describe(args[1]).removeprefix('a ')}s by name"
    if type(None) in args:
        return " or ".join(_describe(a) for a in args if a is not type(None)) + " (or left out)"
    return str(hint)


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` as ``hint`` (lists become tuples, ints become floats), or raise TypeError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        if not math.isfinite(value):
            raise ValueError
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if hint in (bool, str):
        if not isinstance(value, hint):
            raise TypeError
        return value
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise TypeError
        inner = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(inner) != len(value):
            raise TypeError
        return tuple(_coerce(v, h) for v, h in zip(value, inner))
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError
        return {k: _coerce(v, args[1]) for k, v in value.items()}
    if type(None) in args:
        if value is None:
            return None
        return _coerce(value, next(a for a in args if a is not type(None)))
    return value


def check_types(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Check and normalise setting values by the :class:`Settings` field types.

    Parameters
    ----------
    values : dict
        Setting name -> value (from TOML, the CLI or Python).
    where : str
        Where they came from, for the message (``"Config file gapmap.toml"``; empty for options).

    Returns
    -------
    dict
        The values with lists as tuples and whole numbers as floats where a number is expected.

    Raises
    ------
    InputError
        Naming the key, the expected type and the value given.
    """
    hints = typing.get_type_hints(Settings)
    pre = f"{where}: setting" if where else "Setting"
    out = {}
    for key, value in values.items():
        if key not in hints:
            raise InputError(f"{pre} {key!r} is unknown; valid settings are {', '.join(sorted(hints))}.")
        try:
            out[key] = _coerce(value, hints[key])
        except ValueError:
            raise InputError(f"{pre} {key!r} is {value!r}; it must be a finite number (not NaN or infinity).") from None
        except TypeError:
            raise InputError(
                f"{pre} {key!r} must be {_describe(hints[key])}, not {value!r} ({type(value).__name__})."
            ) from None
    return out
