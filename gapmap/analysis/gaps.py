"""Coverage and gaps: who is within each threshold of each service category, per site and area.

Column naming: ``<category>_<threshold>min_<what>``, e.g. ``hospital_30min_workers_not``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap.analysis import uncertainty
from gapmap.settings import Settings
from gapmap.sources.geocode import AREA_UNKNOWN, AREA_UNKNOWN_NAME


#: Appended to a site's method where its nearest service lies beyond the road network's roads.
BEYOND_NOTE = "; the nearest service lies past the network's roads (its leg to them is approximate)"


def _tkey(t: float) -> str:
    return f"{t:g}min"


def wide_times(origins: gpd.GeoDataFrame, tt: pd.DataFrame, settings: Settings) -> gpd.GeoDataFrame:
    """Attach nearest service, distance, minutes and covered flags per category to ``origins``.

    Adds ``<cat>_nearest_id, <cat>_nearest, <cat>_km, <cat>_min, <cat>_method`` and
    ``<cat>_within_<T>min`` (bool; False when unreachable).
    """
    out = origins.copy()
    if "snap_m" in tt:
        first = tt.drop_duplicates("origin_id").set_index("origin_id").reindex(origins.index.astype(str))
        out["snap_m"] = first["snap_m"].astype(float).round(1).to_numpy()
        out["snap_flag"] = first["snap_flag"].fillna(False).astype(bool).to_numpy()
    for cat in settings.categories:
        sub = tt[tt["category"] == cat].set_index("origin_id").reindex(origins.index.astype(str))
        out[f"{cat}_nearest_id"] = sub["service_id"].to_numpy()
        out[f"{cat}_nearest"] = sub["service_name"].to_numpy()
        out[f"{cat}_km"] = (sub["distance_m"].astype(float) / 1000.0).round(2).to_numpy()
        out[f"{cat}_min"] = sub["minutes"].astype(float).round(1).to_numpy()
        if "minutes_p90" in sub:
            out[f"{cat}_min_p90"] = sub["minutes_p90"].astype(float).round(1).to_numpy()
        if "walk_only" in sub:
            out[f"{cat}_walk_only_share"] = sub["walk_only"].astype(float).round(3).to_numpy()
        method = sub["method"].to_numpy()
        if "beyond_m" in sub:  # the nearest service lies beyond the network's roads: its last leg is a straight line
            method = np.where(sub["beyond_m"].fillna(0.0).to_numpy(dtype=float) > 0, method + BEYOND_NOTE, method)
        out[f"{cat}_method"] = method
        minutes = sub["minutes"].astype(float).to_numpy()
        for t in settings.thresholds_min:
            out[f"{cat}_within_{_tkey(t)}"] = np.nan_to_num(minutes, nan=np.inf) <= t
    return out


def area_table(areas: gpd.GeoDataFrame, sites: pd.DataFrame, population: pd.DataFrame, settings: Settings,
               region_name: str) -> pd.DataFrame:
    """Per-area and whole-region counts of sites, workers and population covered and not.

    The last row (``area_id == "region"``) is the whole region. Sites placed only at a
    postal-area centroid (``area_id == "unknown"``) are in no area: when there are any, the
    row ``area unknown (postal-area only)`` before the region row counts them (no population),
    and the region row includes them.
    """
    keys = [(c, t) for c in settings.categories for t in settings.thresholds_min]
    groups = [(a.area_id, a.area_name, sites["area_id"] == a.area_id, population["area_id"] == a.area_id)
              for a in areas.itertuples()]
    unknown = sites["area_id"].eq(AREA_UNKNOWN)
    if unknown.any():
        groups.append((AREA_UNKNOWN, AREA_UNKNOWN_NAME, unknown, pd.Series(False, index=population.index)))
    groups.append(("region", region_name, pd.Series(True, index=sites.index), pd.Series(True, index=population.index)))
    # Whole columns as arrays once; each area takes its rows in their order, so every sum adds the
    # same values in the same order as summing the area's sub-frame (same bytes, no frame per area x key).
    workers = sites["workers"].fillna(0).to_numpy()
    workers_f = sites["workers"].to_numpy(dtype=float)
    people = population["pop2021"].fillna(0).to_numpy(dtype=float)
    coarse = sites["geocode_precision"].eq("postal_area").to_numpy(dtype=bool) if "geocode_precision" in sites else np.zeros(len(sites), dtype=bool)
    cols = {}
    for cat, t in keys:
        col, status = f"{cat}_within_{_tkey(t)}", f"{cat}_{t:g}min_status"
        cols[cat, t] = (sites[col].astype(bool).to_numpy(), population[col].astype(bool).to_numpy(),
                        sites[status].to_numpy() if status in sites else None,
                        population[status].to_numpy() if status in population else None)
    rows = []
    for area_id, name, smask, pmask in groups:
        si, pi = np.flatnonzero(smask.to_numpy(dtype=bool)), np.flatnonzero(pmask.to_numpy(dtype=bool))
        w, wf, pp, co = workers[si], workers_f[si], people[pi], coarse[si]
        row = {"area_id": area_id, "area_name": name, "sites": len(si), "workers": int(w.sum()),
               "population": float(pp.sum())}
        for cat, t in keys:
            pre = f"{cat}_{_tkey(t)}"
            cov_s_all, cov_p_all, st_s, st_p = cols[cat, t]
            not_s, not_p = ~cov_s_all[si], ~cov_p_all[pi]
            workers_not = int(w[not_s].sum())
            pop_not = float(pp[not_p].sum())
            row.update({
                f"{pre}_sites_not": int(not_s.sum()),
                f"{pre}_workers_covered": row["workers"] - workers_not,
                f"{pre}_workers_not": workers_not,
                f"{pre}_workers_not_share": round(workers_not / row["workers"], 4) if row["workers"] else None,
                # Of those, workers at sites placed only at a postal-area centroid: their distance is uncertain.
                f"{pre}_workers_not_postal_area": int(w[not_s & co].sum()),
                f"{pre}_pop_covered": row["population"] - pop_not,
                f"{pre}_pop_not": pop_not,
                f"{pre}_pop_not_share": round(pop_not / row["population"], 4) if row["population"] else None,
            })
            # Lower / upper bounds over the location and method ranges (gapmap.analysis.uncertainty).
            bounds = uncertainty.bound_counts_arrays(None if st_s is None else (st_s[si], wf),
                                                     None if st_p is None else (st_p[pi], pp))
            row.update({f"{pre}_{k}": v for k, v in bounds.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def coverage_summary(sites: pd.DataFrame, population: pd.DataFrame, settings: Settings, method: str) -> list[dict]:
    """Per category x mode x threshold: counts and shares of sites, workers and people covered."""
    out = []
    for cat in settings.categories:
        for t in settings.thresholds_min:
            col = f"{cat}_within_{_tkey(t)}"
            cs, cp = sites[col].astype(bool), population[col].astype(bool)
            workers = float(sites["workers"].sum())
            pop = float(population["pop2021"].fillna(0).sum())
            w_cov = float(sites.loc[cs, "workers"].sum())
            coarse = sites["geocode_precision"].eq("postal_area") if "geocode_precision" in sites else pd.Series(False, index=sites.index)
            p_cov = float(population.loc[cp, "pop2021"].fillna(0).sum())
            out.append({
                "category": cat, "mode": settings.mode, "threshold_min": t, "method": method,
                "sites": int(len(sites)), "sites_covered": int(cs.sum()),
                "sites_covered_share": round(cs.mean(), 4) if len(sites) else None,
                "workers": int(workers), "workers_covered": int(w_cov),
                "workers_covered_share": round(w_cov / workers, 4) if workers else None,
                "workers_not_covered_at_postal_area_centroids": int(sites.loc[~cs & coarse, "workers"].sum()),
                "population": int(pop), "population_covered": int(p_cov),
                "population_covered_share": round(p_cov / pop, 4) if pop else None,
                **{f"{k}": v for k, v in uncertainty.bound_counts(sites, population, cat, t).items()},
            })
    return out
