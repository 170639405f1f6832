"""Analysis settings: documented defaults, overridable from a TOML file and the CLI.

Defaults (all overridable):

- ``speeds_kmh``: drive 60, bike 15, walk 4.8 km/h. 60 km/h is a door-to-door average
  for rural Southwestern Ontario (80 km/h concession roads, slower in towns).
- ``circuity``: 1.3. Road distance / straight-line distance; 1.2-1.4 is the range
  reported for rural grid networks (Levinson & El-Geneidy 2009; Ballou et al. 2002).
- ``thresholds_min``: 15, 30 and 60 minutes for every category.
- ``categories``: the service categories analysed (``hospital``, ``primary_care``).
- ``headline``: the category and threshold the map shades areas by (hospital, 30 min).

Straight-line minutes = distance_m x circuity / (speed_kmh / 3.6) / 60.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

from gapmap.errors import InputError

MODES = ("drive", "bike", "walk", "transit")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Parameters of one analysis run (see module docstring for the defaults' sources)."""

    mode: str = "drive"
    speeds_kmh: dict[str, float] = dataclasses.field(
        default_factory=lambda: {"drive": 60.0, "bike": 15.0, "walk": 4.8}
    )
    circuity: float = 1.3
    thresholds_min: tuple[float, ...] = (15.0, 30.0, 60.0)
    categories: tuple[str, ...] = ("hospital", "primary_care")
    streams: tuple[str, ...] = ("Primary Agriculture",)
    headline_category: str = "hospital"
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

    def speed_ms(self, mode: str | None = None) -> float:
        """Speed of ``mode`` (default: the run's mode) in metres per second."""
        return self.speeds_kmh[mode or self.mode] / 3.6

    def validate(self) -> "Settings":
        """Return self, or raise :class:`InputError` naming the bad setting."""
        # NaN passes every `<= 0` test below, so finiteness is checked first, by name.
        numbers = {**{f"thresholds_min[{i}]": t for i, t in enumerate(self.thresholds_min)},
                   **{f"speeds_kmh.{k}": v for k, v in self.speeds_kmh.items()},
                   "circuity": self.circuity, "headline_threshold": self.headline_threshold, "max_walk_m": self.max_walk_m,
                   "max_transfers": self.max_transfers, "k_anonymity": self.k_anonymity, "hex_resolution": self.hex_resolution}
        for name, v in numbers.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InputError(f"Setting {name} = {v!r} is not a finite non-negative number; fix it in the config file or option.")
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
        settings = settings.replace(**data)
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
