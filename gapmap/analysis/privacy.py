"""Privacy for migrant-worker sites: public outputs never carry a site coordinate.

In ``public`` mode sites are aggregated to H3 hexagons; a hexagon holding fewer than
``k`` sites or fewer than ``k`` workers has its counts suppressed (set to null, with
``suppressed = True``), so no single employer can be singled out.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from shapely.geometry import Polygon


def hex_ids(points: gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """H3 cell of each point."""
    ll = points.geometry.to_crs("EPSG:4326")
    return pd.Series([h3.latlng_to_cell(y, x, resolution) for x, y in zip(ll.x, ll.y)], index=points.index)


def hex_polygons(cells: list[str], crs) -> gpd.GeoSeries:
    """Polygons of H3 cells, in ``crs``."""
    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoSeries(polys, crs="EPSG:4326").to_crs(crs)


def aggregate_sites(sites: gpd.GeoDataFrame, *, resolution: int, k: int,
                    flag_columns: list[str]) -> tuple[gpd.GeoDataFrame, dict]:
    """Sites per H3 hexagon with worker totals; small cells suppressed.

    Parameters
    ----------
    sites : GeoDataFrame
        The ``sites`` layer plus boolean coverage columns.
    flag_columns : list of str
        Boolean ``*_within_*`` columns; for each, the hexagon gets ``<col>_workers_not``
        (workers at sites NOT covered).

    Returns
    -------
    (hexes, stats)
        The hexagons that pass the threshold (suppressed cells are left out entirely, so
        not even their outline hints at a site), and counts of what was suppressed.
    """
    cells = hex_ids(sites, resolution)
    df = pd.DataFrame({"hex_id": cells, "workers": sites["workers"].to_numpy()}, index=sites.index)
    for col in flag_columns:
        df[col.replace("_within_", "_") + "_workers_not"] = np.where(sites[col].astype(bool), 0, sites["workers"])
    agg = df.groupby("hex_id").agg(sites=("workers", "size"), **{c: (c, "sum") for c in df.columns if c != "hex_id"})
    agg = agg.reset_index().sort_values("hex_id").reset_index(drop=True)
    suppressed = (agg["sites"] < k) | (agg["workers"] < k)
    stats = {"k": k, "hex_resolution": resolution, "hexes": int(len(agg)), "hexes_suppressed": int(suppressed.sum()),
             "sites_in_suppressed_hexes": int(agg.loc[suppressed, "sites"].sum())}
    agg = agg[~suppressed].reset_index(drop=True)
    agg[["sites", "workers"]] = agg[["sites", "workers"]].astype(int)
    return gpd.GeoDataFrame(agg, geometry=hex_polygons(agg["hex_id"].tolist(), sites.crs).to_numpy(), crs=sites.crs), stats


def suppress_areas(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """Public copy of an area table: worker and site counts from fewer than ``k`` sites, or
    below ``k``, are blanked (``NaN``), with their shares; ``suppressed`` marks areas blanked whole.

    The whole-region row (``area_id == "region"``) keeps its totals unless it too has < k sites.
    """
    out = table.copy()
    site_cols = [c for c in out.columns if c == "sites" or "_sites_" in c]
    worker_cols = [c for c in out.columns if c == "workers" or "_workers_" in c]
    small_area = (out["sites"] > 0) & (out["sites"] < k)
    out["suppressed"] = small_area
    for col in site_cols + worker_cols:
        if col.endswith("_share"):
            continue
        vals = out[col].astype(float)
        out[col] = vals.mask(small_area | ((vals > 0) & (vals < k))).round().astype("Int64")
    for col in [c for c in worker_cols if c.endswith("_share")]:
        base = col[: -len("_share")]
        out[col] = out[col].astype(float).mask(small_area | out[base].isna())
    return out


def suppress_hexes(hexes: pd.DataFrame, k: int) -> pd.DataFrame:
    """Public copy of a hexagon table: worker and site counts blanked where a cell has fewer than
    ``k`` sites or ``k`` workers (people counts, from public census data, stay)."""
    out = hexes.copy()
    if "sites" not in out:
        return out
    small = (out["sites"] > 0) & ((out["sites"] < k) | (out["workers"] < k))
    cols = ["sites", *[c for c in out.columns if c == "workers" or c.endswith("_workers_not")]]
    for col in cols:
        out[col] = out[col].astype(float).mask(small).round().astype("Int64")
    out["workers_suppressed"] = small
    return out


def suppress_coverage(rows: list[dict], sites: int, k: int) -> list[dict]:
    """Public copy of coverage rows: worker and site figures blanked when the region has fewer than ``k`` sites."""
    if sites == 0 or sites >= k:
        return rows
    return [{key: (None if ("worker" in key or key.startswith("sites")) else val) for key, val in r.items()} for r in rows]
