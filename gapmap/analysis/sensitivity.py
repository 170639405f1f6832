"""One-parameter sweeps: how the headline moves when one setting moves.

:func:`sweep` runs the analysis once per value of one numeric setting (``circuity``, a speed
such as ``speeds_kmh.drive``, ``headline_threshold``...), with every other setting fixed,
and tabulates the headline (workers and people beyond the headline threshold of the
headline category, with their uncertainty bounds). With an output folder, each value's run
is written exactly as ``gapmap analyze`` would write it (so a sweep of one value reproduces
the plain run byte for byte), beside ``sensitivity.csv`` and a line plot ``sensitivity.png``.

Public mode blanks the headline counts by the same rule as the area tables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from gapmap.errors import InputError
from gapmap.settings import Settings, load_settings

COLUMNS = ["parameter", "value", "workers", "workers_not", "workers_not_lower", "workers_not_upper", "sites_knife_edge",
           "population", "pop_not", "pop_not_lower", "pop_not_upper"]


def with_value(settings: Settings, parameter: str, value: float) -> Settings:
    """``settings`` with one numeric setting replaced; ``speeds_kmh.drive`` style names reach into tables."""
    if "." in parameter:
        table, key = parameter.split(".", 1)
        if table != "speeds_kmh":
            raise InputError(f"Sweep parameter {parameter!r}: only speeds_kmh.MODE reaches into a table; e.g. speeds_kmh.drive.")
        return settings.replace(speeds_kmh={key: value}).validate()
    current = getattr(settings, parameter, None)
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise InputError(f"Sweep parameter {parameter!r} is not a numeric setting; sweep circuity, speeds_kmh.drive, "
                         "headline_threshold or another number.")
    changes: dict[str, Any] = {parameter: value}
    if parameter == "headline_threshold" and value not in settings.thresholds_min:
        changes["thresholds_min"] = (*settings.thresholds_min, value)
    return settings.replace(**changes).validate()


def headline_row(result, parameter: str, value: float) -> dict:
    """The headline counts of one run, public suppression applied when the run is public."""
    from gapmap.analysis import privacy
    from gapmap.analysis.gaps import coverage_summary

    s = result.settings
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    table = result.areas_table
    if s.privacy == "public":  # the same disclosure pass as areas.csv
        coverage = coverage_summary(result.sites, result.population, s, result.method)
        table = privacy.public_outputs(result.sites, result.areas_table, result.hexes, coverage, k=s.k_anonymity,
                                       resolution=s.hex_resolution).areas
    total = table.iloc[-1]
    get = lambda col: total.get(f"{pre}_{col}")  # noqa: E731
    return {"parameter": parameter, "value": value, "workers": total["workers"], "workers_not": get("workers_not"),
            "workers_not_lower": get("workers_not_lower"), "workers_not_upper": get("workers_not_upper"),
            "sites_knife_edge": get("sites_knife_edge"), "population": total["population"], "pop_not": get("pop_not"),
            "pop_not_lower": get("pop_not_lower"), "pop_not_upper": get("pop_not_upper")}


def sweep(region: str, parameter: str, values: Sequence[float], *, settings: Settings | None = None,
          out_dir: str | os.PathLike | None = None, progress: Callable[[str], None] | None = None,
          **analyze_kwargs: Any) -> pd.DataFrame:
    """Run ``region`` once per value of ``parameter`` and tabulate the headline.

    Parameters
    ----------
    region : str
        Region slug.
    parameter : str
        A numeric :class:`~gapmap.settings.Settings` field, or ``speeds_kmh.<mode>``.
    values : sequence of float
        The values, in the order given (duplicates removed).
    settings : Settings, optional
        Every other setting (default :func:`gapmap.settings.load_settings`).
    out_dir : path, optional
        When given: each run's outputs in ``out_dir/<parameter>=<value>/``, plus
        ``sensitivity.csv`` and ``sensitivity.png``.
    **analyze_kwargs
        Passed to :func:`gapmap.pipeline.analyze` (``network``, ``data_dir``, ``sites_file``...).

    Returns
    -------
    DataFrame
        One row per value, columns :data:`COLUMNS`.
    """
    from gapmap import pipeline

    base = settings or load_settings()
    values = list(dict.fromkeys(float(v) for v in values))
    if not values:
        raise InputError("Give at least one value to sweep, e.g. --values 1.2,1.3,1.4.")
    rows = []
    for v in values:
        s = with_value(base, parameter, v)
        if progress is not None:
            progress(f"sensitivity: {parameter} = {v:g}")
        if out_dir is not None:
            result, _ = pipeline.run(region, Path(out_dir) / f"{parameter}={v:g}", settings=s, **analyze_kwargs)
        else:
            result = pipeline.analyze(region, settings=s, **analyze_kwargs)
        rows.append(headline_row(result, parameter, v))
    table = pd.DataFrame(rows, columns=COLUMNS)
    if out_dir is not None:
        out = Path(out_dir)
        table.to_csv(out / "sensitivity.csv", index=False, lineterminator="\n")
        plot(table, result.settings, out / "sensitivity.png")
    return table


def plot(table: pd.DataFrame, settings: Settings, path: Path) -> Path:
    """Line plot of the headline and its band against the swept value (PNG, deterministic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    num = lambda col: pd.to_numeric(table[col], errors="coerce").astype(float)  # noqa: E731 - blanks (public) plot as gaps
    x = num("value")
    lo, hi = num("workers_not_lower"), num("workers_not_upper")
    ax.fill_between(x, lo, hi, color="#fdae6b", alpha=0.4, label="range (location and method)")
    ax.plot(x, num("workers_not"), "o-", color="#d94801", label="point estimate")
    ax.set_xlabel(table["parameter"].iloc[0])
    ax.set_ylabel(f"workers beyond {settings.headline_threshold:g} min")
    ax.set_title(f"{settings.headline_category.replace('_', ' ')}: sensitivity", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path
