"""Disclosure control for migrant-worker sites (the policy is ``docs/privacy.md``).

In ``public`` mode (default) every worker or site figure that reaches a file, the map or the
console goes through this module:

- :func:`check_settings`: public-mode floors (``k >= MIN_K``, hexagons no finer than
  ``MAX_HEX_RESOLUTION``).
- :func:`protect`: the one suppression rule. A cell (area, hexagon, region) is suppressed when
  it holds 1 to k-1 sites or 1 to k-1 workers (primary suppression); more cells are then
  suppressed (complementary suppression) until no suppressed cell can be computed from the
  published ones, and what is suppressed under any published total adds up to at least k
  sites and k workers.
- :func:`public_outputs`: the public copies of the area, hexagon and coverage tables, and the
  hexagon site layer, built with :func:`protect` over the sites split by (hexagon, area).
- :func:`published_curve` (the report's worker curve), :func:`public_recommendations`, :func:`public_recommendation_totals`, :func:`public_whatif`, :func:`public_filter_effect`, :func:`public_rejects`, :func:`suppress_coverage`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Iterable

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from gapmap.errors import InputError
from gapmap.sources.geocode import AREA_UNKNOWN

MIN_K = 5
"""Smallest ``k_anonymity`` allowed in public mode."""
MAX_HEX_RESOLUTION = 7
"""Finest H3 resolution allowed in public mode: res 7 cells average 5.2 km2 (several farms);
res 8 cells average 0.74 km2, about one farm with its bunkhouses."""
REGION = "region"


#: Uncertainty-bound columns of a category x threshold (gapmap.analysis.uncertainty), blanked with their count.
_BOUNDS = ("sites_not_lower", "sites_not_upper", "workers_not_lower", "workers_not_upper", "sites_knife_edge")


def check_settings(settings) -> None:
    """Raise :class:`InputError` when public-mode settings are weaker than the floors.

    Parameters
    ----------
    settings : gapmap.settings.Settings
        The run's settings; ``privacy = "internal"`` lifts the floors.
    """
    if settings.privacy != "public":
        return
    if not isinstance(settings.k_anonymity, (int, np.integer)) or settings.k_anonymity < MIN_K:
        raise InputError(f"k_anonymity = {settings.k_anonymity!r} is below the public-mode floor of {MIN_K}; "
                         f"use k_anonymity >= {MIN_K} or --privacy internal.")
    if not isinstance(settings.hex_resolution, (int, np.integer)) or settings.hex_resolution > MAX_HEX_RESOLUTION:
        raise InputError(f"hex_resolution = {settings.hex_resolution!r} is finer than the public-mode limit of H3 resolution "
                         f"{MAX_HEX_RESOLUTION} (~5 km2); use hex_resolution <= {MAX_HEX_RESOLUTION} or --privacy internal.")


def is_small(sites, workers, k: int):
    """The threshold rule: 1 to k-1 sites or 1 to k-1 workers (scalars or arrays)."""
    sites, workers = np.asarray(sites, dtype=float), np.asarray(workers, dtype=float)
    return ((sites > 0) & (sites < k)) | ((workers > 0) & (workers < k))


def counts_hidden(site_counts: Iterable[float], settings) -> bool:
    """Whether a run's site counts by placement or location basis are left out: public mode and any of them
    1 to k-1 (then all are, so none comes back as the total minus the others)."""
    return settings.privacy == "public" and bool(np.any(is_small(list(site_counts), 0, settings.k_anonymity)))


def hex_ids(points: gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """H3 cell of each point."""
    ll = points.geometry.to_crs("EPSG:4326")
    return pd.Series([h3.latlng_to_cell(y, x, resolution) for x, y in zip(ll.x, ll.y)], index=points.index, dtype=object)


def hex_polygons(cells: list[str], crs) -> gpd.GeoSeries:
    """Polygons of H3 cells, in ``crs``."""
    from gapmap.layers.demand import cell_polygons

    return cell_polygons(cells, crs)


# --------------------------------------------------------------------------- the rule


def protect(values: np.ndarray, cells: dict[str, np.ndarray], groups: Iterable[tuple[str, list[str]]],
            k: int, *, primary: Iterable[str] = ()) -> set[str]:
    """Primary and complementary suppression over cells built from disjoint pieces.

    Parameters
    ----------
    values : ndarray, shape (n_pieces, m)
        Per piece, the counts the rule looks at: (sites, workers) pairs, one pair per column
        pair (``m`` even). A piece is the smallest set the tables are built from (the sites of
        one hexagon in one area).
    cells : dict of str to bool ndarray (n_pieces,)
        The published cells and the pieces each one sums.
    groups : iterable of (parent, children)
        Additive relations a reader can use: the parent's pieces include the children's.
    k : int
        Threshold.
    primary : iterable of str
        Cells suppressed whatever their counts (e.g. suppressed in a coarser rule).

    Returns
    -------
    set of str
        The suppressed cells: each primary cell (any (sites, workers) pair small by
        :func:`is_small`), and complements so that (a) no suppressed cell is a linear
        combination of published cells, and (b) under every published parent the pieces of its
        suppressed children add up, for every pair, to 0 or at least k sites and k workers.
        Complements are the smallest published cells of the offending group that make its
        hidden total safe (else the smallest), ties by name, so the same input gives the same
        cells.
    """
    values = np.asarray(values, dtype=float)
    groups = [(p, list(ch)) for p, ch in groups]
    names = sorted(cells)
    sums = {c: values[cells[c]].sum(axis=0) for c in names}
    nonempty = {c for c in names if cells[c].any()}
    suppressed = {c for c in primary if c in cells}
    suppressed |= {c for c in nonempty if _small_pairs(sums[c], k)}

    def size(c: str, within: np.ndarray | None = None) -> tuple:
        # Complements are chosen smallest first: fewest workers, then sites, then by name.
        v = values[cells[c] & within].sum(axis=0) if within is not None else sums[c]
        return (float(v[1::2].max(initial=0)), float(v[0::2].max(initial=0)), c)

    while True:
        add = _residual_violation(values, cells, groups, suppressed, nonempty, k, size)
        if add is None:
            add = _derivable(cells, groups, suppressed, nonempty, size)
        if add is None:
            return suppressed
        suppressed.add(add)


def _small_pairs(v: np.ndarray, k: int) -> bool:
    """Any (sites, workers) pair of ``v`` small by the threshold rule."""
    return bool(np.any(is_small(v[0::2], v[1::2], k)))


def _residual_violation(values: np.ndarray, cells: dict[str, np.ndarray], groups: list[tuple[str, list[str]]],
                        suppressed: set[str], nonempty: set[str], k: int, size: Callable[..., tuple]) -> str | None:
    """First cell to add so that what is hidden under each published parent is itself >= k."""
    for parent, children in groups:
        if parent in suppressed or parent not in nonempty:
            continue
        hidden = [c for c in children if c in suppressed]
        if not hidden:
            continue
        mask = cells[parent] & np.logical_or.reduce([cells[c] for c in hidden])
        if not _small_pairs(values[mask].sum(axis=0), k):
            continue
        pool = [c for c in children if c not in suppressed and c in nonempty and (cells[c] & cells[parent]).any()]
        if not pool:
            return parent
        # Prefer the smallest cell that makes the hidden total safe on its own.
        fixes = [c for c in pool if not _small_pairs(values[mask | (cells[c] & cells[parent])].sum(axis=0), k)]
        return min(fixes or pool, key=lambda c: size(c, cells[parent]))
    return None


def _derivable(cells: dict[str, np.ndarray], groups: list[tuple[str, list[str]]], suppressed: set[str],
               nonempty: set[str], size: Callable[..., tuple]) -> str | None:
    """A published cell to add when some suppressed cell is a sum/difference of published ones."""
    published = [c for c in sorted(cells) if c not in suppressed and c in nonempty]
    targets = sorted(suppressed & nonempty)
    if not targets:
        return None
    if published:
        # Orthonormal basis of what the published cells span; a suppressed cell is computable
        # exactly when its membership vector lies in that span.
        _, sv, vt = np.linalg.svd(np.array([cells[c] for c in published], dtype=float), full_matrices=False)
        basis = vt[sv > 1e-9 * max(sv.max(initial=0), 1.0)]
    for c in targets:
        v = cells[c].astype(float)
        if not published or np.linalg.norm(v - basis.T @ (basis @ v)) > 1e-6:
            continue
        # c can be computed: hide a sibling under a shared parent (or the parent, last resort).
        pool = []
        for parent, children in groups:
            if c == parent:
                pool += children
            elif c in children:
                pool += [ch for ch in children if (cells[ch] & cells[parent]).any()] + [parent]
        pool = [p for p in dict.fromkeys(pool) if p in published] or published
        return min(pool, key=size)
    return None


# --------------------------------------------------------------------------- public tables


@dataclasses.dataclass
class PublicOutputs:
    """The public copies of every table that carries worker or site figures.

    Attributes
    ----------
    areas : DataFrame
        ``areas.csv`` (last row the region) with suppressed figures blank.
    hexes : GeoDataFrame or None
        ``hexes.csv`` / GeoPackage ``hexes``: people per hexagon; worker and site figures only
        where published (blank means none or suppressed, so a blank does not single out a cell).
        Hexagons with no people and no published workers are left out.
    site_hexes : GeoDataFrame
        The GeoPackage / map ``sites`` layer: only hexagons whose figures are published.
    coverage : list of dict
        The ``summary.json`` coverage rows, region figures blank where suppressed.
    stats : dict
        ``summary.json`` ``privacy`` section.
    """

    areas: pd.DataFrame
    hexes: gpd.GeoDataFrame | None
    site_hexes: gpd.GeoDataFrame
    coverage: list[dict]
    stats: dict


def _measures(sites: pd.DataFrame) -> dict[str, list[np.ndarray]]:
    """Per category x threshold, the site sets whose counts a reader can get for one cell.

    ``<cat>_<T>min``: the sites beyond (published), those covered (total minus beyond) and, for
    each lower threshold t, those between t and T (beyond t minus beyond T). ``...:postal``: the
    same for the sites placed only at a postal-area centroid, against the other sites beyond.
    """
    coarse = (sites["geocode_precision"].eq("postal_area").to_numpy() if "geocode_precision" in sites
              else np.zeros(len(sites), dtype=bool))
    flags = [c for c in sites.columns if "_within_" in c]
    out = {}
    for col in flags:
        cat, t = col.split("_within_")
        minutes = float(t.removesuffix("min"))
        beyond = ~sites[col].astype(bool).to_numpy()
        lower = [~sites[c].astype(bool).to_numpy() for c in flags
                 if c.split("_within_")[0] == cat and float(c.split("_within_")[1].removesuffix("min")) < minutes]
        bands = [b & ~beyond for b in lower]  # beyond the lower threshold, within this one
        out[f"{cat}_{t}"] = [beyond, ~beyond, *bands]
        # The postal-area sites within count too: the area-unknown row publishes all of them, so
        # its workers minus those beyond would give it.
        out[f"{cat}_{t}:postal"] = [beyond & coarse, beyond & ~coarse, ~beyond & coarse, *[b & coarse for b in bands]]
        status = f"{cat}_{t}_status"  # uncertainty: the bounds are counts of their own sites
        if status in sites:
            st = sites[status].to_numpy()
            out[f"{cat}_{t}:bounds"] = [st == "surely beyond", st != "surely within", st == "uncertain"]
    return out


def site_pieces(keys: pd.DataFrame) -> tuple[list[tuple], np.ndarray]:
    """The pieces :func:`protect` sums cells from: the distinct rows of ``keys`` (one row per site).

    Returns the pieces' keys, sorted (by their text, so None and numbers sort too), and each
    site's piece number.
    """
    if not len(keys):
        return [], np.zeros(0, dtype=int)
    rows = list(map(tuple, keys.to_numpy(dtype=object).tolist()))
    piece_ids = sorted(set(rows), key=lambda t: tuple(map(str, t)))
    number = {p: i for i, p in enumerate(piece_ids)}
    return piece_ids, np.array([number[r] for r in rows], dtype=int)


def piece_sums(piece_of: np.ndarray, n: int, workers: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per piece, the (sites, workers) of the sites in ``mask`` (default all): the ``values`` of :func:`protect`."""
    sel = np.arange(len(piece_of)) if mask is None else mask
    out = np.zeros((n, 2))
    np.add.at(out[:, 0], piece_of[sel], 1.0)
    np.add.at(out[:, 1], piece_of[sel], workers[sel])
    return out


def public_outputs(sites: gpd.GeoDataFrame, areas_table: pd.DataFrame, hexes: gpd.GeoDataFrame | None,
                   coverage: list[dict], *, k: int, resolution: int) -> PublicOutputs:
    """Suppress every worker and site figure of the public outputs with one :func:`protect` pass per measure.

    Parameters
    ----------
    sites : GeoDataFrame
        The ``sites`` layer (``area_id``, ``workers``, ``*_within_*`` flags, ``geocode_precision``).
    areas_table : DataFrame
        :func:`gapmap.analysis.gaps.area_table` output (last row the region).
    hexes : GeoDataFrame or None
        :func:`gapmap.analysis.plan.hex_table` output at ``resolution``.
    coverage : list of dict
        :func:`gapmap.analysis.gaps.coverage_summary` rows.
    k, resolution : int
        Threshold and H3 resolution.

    Returns
    -------
    PublicOutputs
    """
    hex_of = hex_ids(sites, resolution) if len(sites) else pd.Series([], dtype=object)
    area_of = sites["area_id"].astype(object).where(sites["area_id"].notna(), None) if len(sites) else pd.Series([], dtype=object)
    piece_ids, piece_of = site_pieces(pd.DataFrame({"hex": hex_of.to_numpy(), "area": area_of.to_numpy()}))
    n = len(piece_ids)
    area_ids = [a for a in areas_table["area_id"] if a != REGION]
    hex_cells = sorted({p[0] for p in piece_ids})
    cells = {REGION: np.ones(n, dtype=bool)}
    cells.update({f"area:{a}": np.array([p[1] == a for p in piece_ids], dtype=bool) for a in area_ids})
    cells.update({f"hex:{h}": np.array([p[0] == h for p in piece_ids], dtype=bool) for h in hex_cells})
    a_names, h_names = [f"area:{a}" for a in area_ids], [f"hex:{h}" for h in hex_cells]
    groups = [(REGION, a_names), (REGION, h_names), *[(a, h_names) for a in a_names]]
    workers = sites["workers"].fillna(0).to_numpy(dtype=float)
    whole = protect(piece_sums(piece_of, n, workers), cells, groups, k)
    measures = _measures(sites)
    values = {name: np.hstack([piece_sums(piece_of, n, workers, m) for m in masks]) for name, masks in measures.items()}
    by_measure = {name: protect(v, cells, groups, k, primary=whole) for name, v in values.items()}
    # Figures published under two measures are hidden under both; protect() runs again with them
    # as primary cells, so their complements are found too.
    for _ in range(len(measures) + 1):
        extra = _tied_cells(by_measure, area_ids)
        if not extra:
            break
        for name, more in extra.items():
            by_measure[name] = protect(values[name], cells, groups, k, primary=whole | by_measure[name] | more)

    areas = _public_areas(areas_table, whole, by_measure)
    site_hexes = _site_hexes(sites, hex_of, whole, by_measure)
    pub_hexes = _public_hexes(hexes, whole, by_measure) if hexes is not None else None
    stats = {"k": k, "hex_resolution": resolution,
             "hexes_published": int(len(site_hexes)),
             "areas_suppressed": int(sum(a in whole for a in a_names)),
             "rule": "docs/privacy.md: threshold k on sites and workers, complementary suppression"}
    return PublicOutputs(areas, pub_hexes, site_hexes, _public_coverage(coverage, whole, by_measure), stats)


def _tied_cells(by_measure: dict[str, set[str]], area_ids: list[str]) -> dict[str, set[str]]:
    """Cells to hide in addition, per measure, so that a number published twice is hidden in both places.

    Postal-area sites are never put in a ward, so the region's ``<m>_workers_not_postal_area``
    (measure ``<m>:postal``) is the area-unknown row's ``<m>_workers_not`` (measure ``<m>``), and
    that row's own ``_not_postal_area`` is the same number again. Whichever is hidden, all are.
    """
    unknown = f"area:{AREA_UNKNOWN}"
    if AREA_UNKNOWN not in area_ids:
        return {}
    extra: dict[str, set[str]] = {}
    for name in [n for n in by_measure if n.endswith(":postal")]:
        main, postal = name[:-7], name
        if unknown in by_measure.get(main, set()) or REGION in by_measure[postal] or unknown in by_measure[postal]:
            if unknown not in by_measure.get(main, {unknown}):
                extra[main] = {unknown}
            missing = {REGION, unknown} - by_measure[postal]
            if missing:
                extra[postal] = missing
    return extra


def _blank(df: pd.DataFrame, rows: pd.Series, cols: list[str], as_int: bool = True) -> None:
    """Blank ``cols`` of ``df`` in place where ``rows``; counts become nullable integers."""
    mask = np.asarray(rows, dtype=bool)
    for col, values in _blanked(df, dict.fromkeys(cols, mask), set(cols) if as_int else set()).items():
        df[col] = values


def _blanked(df: pd.DataFrame, hide: dict[str, np.ndarray], as_int: set[str]) -> dict[str, object]:
    """Each column of ``hide`` with the rows where its mask is True blank.

    Columns in ``as_int`` become nullable integers (rounded), the others floats with NaN.
    One numpy pass per column: the pandas chain astype/mask/round/astype per rule and column
    was most of :func:`public_outputs` (called five times per run with the report's sweep).
    """
    out = {}
    for col, mask in hide.items():
        vals = df[col].to_numpy(dtype=float, na_value=np.nan)
        if col in as_int:
            blank = mask | np.isnan(vals)
            out[col] = pd.arrays.IntegerArray(np.where(blank, 0, np.round(vals)).astype(np.int64), blank)
        else:
            out[col] = np.where(mask, np.nan, vals)
    return out


def _public_areas(table: pd.DataFrame, whole: set[str], by_measure: dict[str, set[str]]) -> pd.DataFrame:
    out = table.copy()
    cell = out["area_id"].map(lambda a: REGION if a == REGION else f"area:{a}")
    # Counts include the uncertainty bounds (``_sites_not_lower``, ``_workers_not_upper``, ``_sites_knife_edge``...):
    # a bound is blanked wherever its count is.
    counts = [c for c in out.columns if c == "sites" or c == "workers" or "_sites_" in c
              or (("_workers_" in c) and not c.endswith("_share"))]
    shares = [c for c in out.columns if "_workers_" in c and c.endswith("_share")]
    hidden = cell.isin(whole).to_numpy()
    out["suppressed"] = hidden
    # The rows to blank per column, accumulated over the rules, then applied once per column.
    hide = {c: hidden.copy() for c in [*counts, *shares]}

    def add(rows: np.ndarray, cols: Iterable[str]) -> None:
        for c in cols:
            hide[c] = hide[c] | rows if c in hide else rows.copy()

    for name, cut in by_measure.items():
        rows = cell.isin(cut).to_numpy()
        if name.endswith(":bounds"):
            # Own rule, and wherever the count itself is blank: a shown bound must not pin a hidden count.
            rows = rows | cell.isin(by_measure.get(name[:-7], set())).to_numpy()
            add(rows, [c for c in (f"{name[:-7]}_{b}" for b in _BOUNDS) if c in out.columns])
        elif name.endswith(":postal"):
            add(rows, [f"{name[:-7]}_workers_not_postal_area"])
        else:
            add(rows, [f"{name}_sites_not", f"{name}_workers_covered", f"{name}_workers_not", f"{name}_workers_not_share"])
    share_set = set(shares) | {f"{name}_workers_not_share" for name in by_measure}
    new = _blanked(out, hide, as_int={c for c in hide if c not in share_set})
    # One frame built at once: assigning ~90 columns one by one cost more than computing them.
    return pd.DataFrame({c: new[c] if c in new else out[c] for c in out.columns}, index=out.index)


def _site_hexes(sites: gpd.GeoDataFrame, hex_of: pd.Series, whole: set[str], by_measure: dict[str, set[str]]) -> gpd.GeoDataFrame:
    df = pd.DataFrame({"hex_id": hex_of.to_numpy(dtype=object), "workers": sites["workers"].fillna(0).to_numpy(dtype=float)})
    measures = [m for m in by_measure if not m.endswith((":postal", ":bounds"))]
    for col in [c for c in sites.columns if "_within_" in c]:
        df[col.replace("_within_", "_") + "_workers_not"] = np.where(sites[col].astype(bool).to_numpy(), 0.0, df["workers"])
    # Per hexagon (sorted by id): the number of sites and the sums (numpy: a pandas groupby-agg
    # of a few dozen rows cost more than the rest of the function).
    cells, inv = np.unique(df["hex_id"].to_numpy(dtype=str), return_inverse=True)
    agg = pd.DataFrame({"hex_id": cells.astype(object), "sites": np.bincount(inv, minlength=len(cells)),
                        **{c: np.bincount(inv, weights=df[c].to_numpy(dtype=float), minlength=len(cells))
                           for c in df.columns if c != "hex_id"}})
    agg = agg[~("hex:" + agg["hex_id"]).isin(whole)].reset_index(drop=True)
    for c in ["sites", *[c for c in agg.columns if c == "workers" or c.endswith("_workers_not")]]:
        agg[c] = agg[c].astype(float).round().astype("Int64")
    for m in measures:
        _blank(agg, ("hex:" + agg["hex_id"]).isin(by_measure[m]), [f"{m}_workers_not"])
    crs = sites.crs
    return gpd.GeoDataFrame(agg, geometry=hex_polygons(agg["hex_id"].tolist(), crs).to_numpy(), crs=crs)


def _public_hexes(hexes: gpd.GeoDataFrame, whole: set[str], by_measure: dict[str, set[str]]) -> gpd.GeoDataFrame:
    out = hexes.copy()
    if "sites" not in out:
        return out
    cell = "hex:" + out["hex_id"].astype(str)
    worker_cols = ["sites", *[c for c in out.columns if c == "workers" or c.endswith("_workers_not")]]
    # Zero and suppressed print alike (blank), so a blank row does not point at a suppressed hexagon.
    hidden = cell.isin(whole) | (out["sites"].astype(float) == 0)
    _blank(out, hidden, worker_cols)
    for m in [m for m in by_measure if not m.endswith((":postal", ":bounds"))]:
        if f"{m}_workers_not" in out:
            _blank(out, cell.isin(by_measure[m]), [f"{m}_workers_not"])
    keep = (out["people"].astype(float) > 0) | out["sites"].notna() if "people" in out else out["sites"].notna()
    return out[keep.to_numpy()].reset_index(drop=True)


def _public_coverage(rows: list[dict], whole: set[str], by_measure: dict[str, set[str]]) -> list[dict]:
    out = []
    for r in rows:
        r = dict(r)
        pre = f"{r['category']}_{float(r['threshold_min']):g}min"
        if REGION in whole:
            r.update({key: None for key in r if "worker" in key or key.startswith("sites")})
        if REGION in by_measure.get(pre, set()):
            r.update({key: None for key in ("sites_covered", "sites_covered_share", "workers_covered", "workers_covered_share")})
        if REGION in by_measure.get(f"{pre}:postal", set()):
            r["workers_not_covered_at_postal_area_centroids"] = None
        if REGION in by_measure.get(f"{pre}:bounds", set()) or REGION in by_measure.get(pre, set()):
            r.update({key: None for key in _BOUNDS if key in r})
        out.append(r)
    return out


def suppress_coverage(rows: list[dict], k: int) -> list[dict]:
    """Region coverage rows (e.g. from a ``summary.json``) blanked by the threshold rule alone.

    Idempotent on rows :func:`public_outputs` already protected; for tables with one cell per
    region (``comparison.csv``), where no finer published table shares the region's total.
    """
    out = []
    for r in rows:
        r = dict(r)
        sites, workers = r.get("sites"), r.get("workers")
        if sites is None or workers is None or is_small(sites, workers, k):
            r.update({key: None for key in r if "worker" in key or key.startswith("sites")})
        elif r.get("sites_covered") is not None and r.get("workers_covered") is not None:
            sc, wc = r["sites_covered"], r["workers_covered"]
            if is_small(sc, wc, k) or is_small(sites - sc, workers - wc, k):
                r.update({key: None for key in ("sites_covered", "sites_covered_share", "workers_covered", "workers_covered_share")})
        post = r.get("workers_not_covered_at_postal_area_centroids")
        if post is not None and is_small(0, post, k):
            r["workers_not_covered_at_postal_area_centroids"] = None
        out.append(r)
    return out


def published_curve(coverage: list[dict], category: str) -> tuple[list[float], list[float]]:
    """Share of workers covered vs minutes from the published coverage rows only (for the report's
    curve in public mode): the thresholds whose share is published."""
    pts = sorted((float(r["threshold_min"]), float(r["workers_covered_share"])) for r in coverage
                 if r["category"] == category and r.get("workers_covered_share") is not None)
    return [t for t, _ in pts], [v for _, v in pts]


def public_recommendations(recs: pd.DataFrame, workers_total_change: float | None, k: int,
                           sites_newly_covered: np.ndarray | None = None) -> pd.DataFrame:
    """Recommendation rows with ``workers_newly_covered`` (and a workers ``objective_gain``) blank
    where small by :func:`is_small`, plus complements when the published total change would give
    one back.

    Parameters
    ----------
    recs : DataFrame
        :class:`gapmap.analysis.siting.SitingResult` ``recommendations``.
    workers_total_change : float or None
        The published workers covered after minus before (``None`` when not published).
    k : int
        Threshold.
    sites_newly_covered : ndarray, optional
        Sites each row newly covers (from the siting ``demand`` table); without it the rule
        looks at workers alone.
    """
    out = recs.copy()
    w = out["workers_newly_covered"].astype(float).to_numpy()
    n = len(w)
    if not n:
        return out
    sites = w if sites_newly_covered is None else np.asarray(sites_newly_covered, dtype=float)
    cells = {f"rec:{i:06d}": np.eye(n, dtype=bool)[i] for i in range(n)}
    groups = []
    if workers_total_change is not None:
        cells[REGION] = np.ones(n, dtype=bool)
        groups = [(REGION, [c for c in cells if c != REGION])]
    hidden = protect(np.c_[sites, w], cells, groups, k)
    rows = pd.Series([f"rec:{i:06d}" in hidden for i in range(n)], index=out.index)
    same = np.isclose(out["objective_gain"].astype(float), out["workers_newly_covered"].astype(float))
    out["workers_newly_covered"] = out["workers_newly_covered"].astype(float).mask(rows)
    out["objective_gain"] = out["objective_gain"].astype(float).mask(rows & same)
    return out


def public_siting(siting, coverage: list[dict], category: str, k: int):
    """A siting result's recommendations and totals as public outputs may show them.

    Totals are blanked where they would give back suppressed coverage
    (:func:`public_recommendation_totals`); each recommendation's worker counts from fewer
    than ``k`` newly covered sites are blanked (:func:`public_recommendations`).
    """
    totals = public_recommendation_totals(siting.totals, coverage, category, k)
    after, before = totals.get("workers_covered_after"), totals.get("workers_covered_before")
    dem = siting.demand
    newly = dem[(dem["workers"] > 0) & ~dem["covered_before"]].groupby("covered_by").size()
    recs = public_recommendations(siting.recommendations, None if after is None or before is None else after - before,
                                  k, newly.reindex(siting.recommendations["candidate_id"]).fillna(0).to_numpy())
    return recs, totals


def public_recommendation_totals(totals: dict, coverage: list[dict], category: str, k: int) -> dict:
    """Siting totals (``summary.json`` ``recommendations.totals``) with worker figures blank when
    they or their complement are below ``k``, the region is suppressed, or the region's public
    coverage for ``category`` at the siting threshold is blank (the totals would give it back).

    Parameters
    ----------
    totals : dict
        :class:`gapmap.analysis.siting.SitingResult` ``totals``.
    coverage : list of dict
        The public coverage rows (:attr:`PublicOutputs.coverage`).
    category : str
        Category the siting was for.
    k : int
        Threshold.
    """
    out = dict(totals)
    total = totals.get("workers_total")
    row = next((r for r in coverage if r["category"] == category
                and float(r["threshold_min"]) == float(totals.get("threshold_min", -1))), None)
    keys = ["workers_covered_before", "workers_covered_after", "workers_coverable"]
    blank_all = total is None or is_small(0, total, k) or row is None or row.get("workers") is None
    for key in keys:
        v = totals.get(key)
        if blank_all or v is None or is_small(0, v, k) or is_small(0, total - v, k) or row.get("workers_covered") is None:
            out[key] = None
    if blank_all:
        out["workers_total"] = None
    for when in ("before", "after"):
        if out.get(f"workers_covered_{when}") is None:
            out[f"workers_share_{when}"] = None
    return out


def public_whatif(whatif: pd.DataFrame, public_areas: pd.DataFrame, k: int) -> pd.DataFrame:
    """``whatif.csv`` for public mode: rows blank as in ``public_areas``; per measure the after and
    change figures blank by :func:`protect` over the areas and the region (workers only: the
    table has no per-site flags after the change), always where the before figure is blank.

    Parameters
    ----------
    whatif : DataFrame
        :func:`gapmap.analysis.plan.what_if` output (last row the region).
    public_areas : DataFrame
        The public ``areas.csv`` of the same run (before the change).
    k : int
        Threshold.
    """
    out = whatif.copy()
    pub = public_areas.set_index("area_id").reindex(out["area_id"])
    hidden_rows = pd.Series(pub["suppressed"].fillna(False).to_numpy(dtype=bool), index=out.index)
    counts = [c for c in out.columns if c in ("sites", "workers") or "_workers_not_" in c]
    _blank(out, hidden_rows, counts)
    is_region = (out["area_id"] == REGION).to_numpy()
    n = int((~is_region).sum())
    names = [f"area:{a}" for a in out.loc[~is_region, "area_id"]]
    cells = {name: np.eye(n, dtype=bool)[i] for i, name in enumerate(names)}
    cells[REGION] = np.ones(n, dtype=bool)
    for col in [c for c in out.columns if c.endswith("_workers_not_after")]:
        pre = col[: -len("_workers_not_after")]
        before_blank = pub[f"{pre}_workers_not"].isna().to_numpy() if f"{pre}_workers_not" in pub else hidden_rows.to_numpy()
        after = whatif[col].astype(float).to_numpy()
        change = np.abs(whatif[f"{pre}_workers_not_change"].astype(float).to_numpy())
        area_vals = np.c_[after, after, change, change][~is_region]
        primary = [nm for nm, b in zip([*names, REGION] if is_region[-1] else names, before_blank) if b]
        hidden = protect(area_vals, cells, [(REGION, names)], k, primary=primary)
        rows = pd.Series([(REGION if r else f"area:{a}") in hidden for a, r in zip(out["area_id"], is_region)], index=out.index)
        _blank(out, rows, [col, f"{pre}_workers_not_change"])
    return out


def public_filter_effect(effect: dict, k: int) -> dict:
    """The hours / language effect (``summary.json`` ``hours_language``) with small losses blank.

    ``sites_lost`` and ``workers_lost`` are blank when small by :func:`is_small`, and with them
    ``sites_covered_filtered`` (the lost sites are the any-time count minus it).
    """
    out = dict(effect)
    rows = []
    for r in effect.get("coverage_lost", []):
        r = dict(r)
        if is_small(r.get("sites_lost", 0), r.get("workers_lost", 0), k):
            r.update(sites_lost=None, workers_lost=None, sites_covered_filtered=None)
        rows.append(r)
    out["coverage_lost"] = rows
    return out


_POSTAL = re.compile(r"\b([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])[ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b", re.IGNORECASE)


def fsa_only(text: str) -> str:
    """``text`` with every full Canadian postal code cut to its FSA (first three characters)."""
    return _POSTAL.sub(lambda m: m.group(1).upper(), text)


def public_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """``rejects.csv`` for public mode: postal codes cut to the FSA in every text column."""
    out = rejects.copy()
    for col in out.columns:
        # Text columns are object or pandas' string dtype (the default for text in pandas 3).
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            # Each distinct text once (a region's rejects repeat a few file names and reasons thousands of times).
            codes, uniques = pd.factorize(out[col], use_na_sentinel=False)
            cut = np.array([fsa_only(v) if isinstance(v, str) else v for v in uniques], dtype=object)
            out[col] = pd.Series(cut[codes], index=out.index, dtype=object).astype(out[col].dtype)
    return out
