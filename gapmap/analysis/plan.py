"""Gap analysis a council can act on, built on an analysis :class:`~gapmap.pipeline.Result`.

- :func:`accessibility_scores`: capacity-aware E2SFCA per category (people + workers as demand).
- :func:`hex_table`: people and workers covered / not per H3 hexagon.
- :func:`recommend`: where p new services (or the fewest for a target share) close the most gap.
- :func:`what_if`: before / after per area when services are added (``--add-services``).

Hours and languages are applied earlier, in :func:`gapmap.pipeline.analyze` (``when=``, ``language=``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap.analysis import access
from gapmap.layers import demand
from gapmap.analysis import siting
from gapmap.errors import InputError
from gapmap.travel import straight


def _demand(result) -> gpd.GeoDataFrame:
    """Demand points: sites (workers) and DA points (people), ids ``site:<site_id>`` / ``da-<dauid>``."""
    pts = demand.demand_points(result.sites, result.population)
    ids = [*demand.site_origin_ids(result.sites["site_id"]), *demand.da_origin_ids(result.population["dauid"])]
    pts["origin_id"] = pd.Series(ids, dtype="str").to_numpy()
    return pts


def accessibility_scores(result, network=None) -> pd.DataFrame:
    """E2SFCA per category; returns per origin ``origin_id, <cat>_e2sfca_per_1000`` columns.

    The travel-time matrix is the road network's (``network``, all pairs within 30 min) when the
    run has one, else the straight-line approximation at the mode speed (also for transit, whose
    search yields nearest-service times only). ``attrs["method"]`` says which.
    """
    s = result.settings
    pts = _demand(result)
    pts["demand"] = pts["workers"].fillna(0) + pts["people"].fillna(0)
    services = result.layers["services"].gdf
    out = pd.DataFrame({"origin_id": pts["origin_id"].to_numpy()})
    mode_speed = s.speeds_kmh.get(s.mode, s.speeds_kmh["walk"])
    reach = max(access.DEFAULT_BANDS_MIN)
    method = straight.method_label(s.mode if s.mode != "transit" else "walk", mode_speed, s.circuity)
    for cat in s.categories:
        svc = services[services["category"] == cat]
        if svc.empty:
            continue
        if network is not None:
            from gapmap.travel.dispatch import road_kwargs
            from gapmap.travel.road.routing import network_od_matrix

            matrix = network_od_matrix(network, pts.set_index("origin_id"), svc, max_minutes=reach, **road_kwargs(s))
            method = str(matrix["method"].iloc[0]) if len(matrix) else network.method
        else:
            # No origin x service table: with a large services file it would not fit in memory.
            out[f"{cat}_e2sfca_per_1000"] = access.e2sfca_straight_line(
                pts, svc, pts.set_index("origin_id")["demand"], access.supply_values(svc.set_index("service_id")),
                speed_kmh=mode_speed, circuity=s.circuity)
            continue
        res = access.e2sfca(matrix, pts.set_index("origin_id")["demand"], access.supply_values(svc.set_index("service_id")))
        out[f"{cat}_e2sfca_per_1000"] = res.origins.set_index("origin_id")["access_per_1000"].reindex(out["origin_id"]).to_numpy()
    out.attrs["method"] = method
    return out


def hex_table(result, resolution: int | None = None) -> gpd.GeoDataFrame:
    """People and workers per H3 hexagon, and those beyond each threshold of each category."""
    s = result.settings
    res = resolution or s.hex_resolution
    frames = []
    for layer, weight in ((result.population, "pop2021"), (result.sites, "workers")):
        if not len(layer):
            continue
        pts = layer[["geometry"]].copy()
        who = "people" if weight == "pop2021" else "workers"
        pts[who] = layer[weight].fillna(0).astype(float).to_numpy()
        if who == "workers":
            pts["sites"] = 1.0
        for c in [c for c in layer.columns if "_within_" in c]:
            pts[f"{c.replace('_within_', '_')}_{who}_not"] = np.where(layer[c].astype(bool), 0.0, pts[who])
        frames.append(demand.aggregate_to_hexes(gpd.GeoDataFrame(pts, geometry="geometry", crs=layer.crs),
                                                [c for c in pts.columns if c != "geometry"], res).drop(columns="n_points"))
    if not frames:
        return gpd.GeoDataFrame(columns=["hex_id", "geometry"], geometry="geometry", crs=result.population.crs)
    out = frames[0]
    for f in frames[1:]:
        out = out.drop(columns="geometry").merge(f.drop(columns="geometry"), on="hex_id", how="outer")
        out = gpd.GeoDataFrame(out, geometry=demand.cell_polygons(out["hex_id"], frames[0].crs).to_numpy(), crs=frames[0].crs)
    num = [c for c in out.columns if c not in ("hex_id", "geometry")]
    out[num] = out[num].fillna(0.0)
    return out.sort_values("hex_id").reset_index(drop=True)


def candidates_for(result, kind: str, *, data_dir=None) -> gpd.GeoDataFrame:
    """Candidate points: ``hex`` (H3 centres, res 8), ``odcaf`` (cultural / community facilities),
    ``da`` (DA points) or a file path (points with a ``name`` column)."""
    boundary = result.layers["boundary"].gdf
    if kind == "hex":
        return siting.hex_centres(boundary, 8)
    if kind == "odcaf":
        cands = siting.odcaf_candidates(boundary, data_dir)
        if cands.empty:
            raise InputError("No ODCAF facilities inside the region to use as candidates; use --candidates hex or a file.")
        return cands
    if kind == "da":
        pop = result.population
        return gpd.GeoDataFrame({"candidate_id": "da-" + pop["dauid"], "name": "DA " + pop["dauid"]}, geometry=pop.geometry, crs=pop.crs)
    from gapmap.sources import inputs

    table = inputs.read_table(kind, layer="candidates")
    gdf, rej, _ = inputs.check_against_region(table, boundary, layer="candidates")
    cols = {c.lower(): c for c in gdf.columns}
    ids = gdf[cols["candidate_id"]].astype(str) if "candidate_id" in cols else "cand-" + gdf["source_row"].astype(str)
    names = gdf[cols["name"]].astype(str) if "name" in cols else ids
    return gpd.GeoDataFrame({"candidate_id": ids.to_numpy(), "name": names.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=boundary.crs)


def recommend(result, *, p: int | None = None, target_share: float | None = None, category: str | None = None,
              threshold_min: float | None = None, candidates: str = "hex", objective: str = "workers",
              data_dir=None, network="run") -> siting.SitingResult:
    """Location-allocation for ``category`` within ``threshold_min`` (defaults: the headline).

    Existing services of the category stay fixed. On the run's road network (``network="run"``,
    the default: ``result.network``; or a given one) coverage is the run's own: a demand point is
    covered before when its nearest-service time (``result.travel_times``) is within the threshold,
    and the candidates' times come from one bounded search from each demand point not yet
    covered, with the run's off-road legs. Without a network (or in transit mode, whose search
    gives nearest-service times only) the matrix is the straight-line approximation at the run's
    mode speed, and ``totals["method"]`` says which.
    """
    s = result.settings
    cat = category or s.headline_category
    t = threshold_min or s.headline_threshold
    services = result.layers["services"].gdf
    existing = services[services["category"] == cat]
    cands = candidates_for(result, candidates, data_dir=data_dir)
    dem = _demand(result)
    net = result.network if isinstance(network, str) and network == "run" else network
    if net is None or s.mode == "transit":
        return siting.locate(dem, cands, threshold_min=t, p=p, target_share=target_share, existing=existing,
                             objective=objective, settings=s if s.mode != "transit" else s.replace(mode="drive"))
    from gapmap.travel.dispatch import road_kwargs
    from gapmap.travel.road.routing import network_od_matrix

    tt = result.travel_times
    near = tt[(tt["category"] == cat) & tt["service_id"].notna()][["origin_id", "service_id", "minutes"]]
    covered = set(near.loc[near["minutes"].to_numpy(dtype=float) <= t, "origin_id"].astype(str))
    todo = dem[~dem["origin_id"].astype(str).isin(covered)]
    matrix = network_od_matrix(
        net, todo.set_index("origin_id")[["geometry"]], cands.assign(service_id=cands["candidate_id"], category="candidate"),
        max_minutes=t, search_from="origins", **road_kwargs(s))
    return siting.locate(dem, cands, threshold_min=t, p=p, target_share=target_share, existing=existing,
                         objective=objective, settings=s, matrix=matrix.rename(columns={"service_id": "candidate_id"}),
                         existing_matrix=near, matrix_method=net.method)


def what_if(before, after) -> pd.DataFrame:
    """Per area (and region): workers and people beyond each threshold before and after."""
    keys = ["area_id", "area_name"]
    cols = [c for c in before.areas_table.columns if c.endswith("_workers_not") or c.endswith("_pop_not")]
    b = before.areas_table[keys + ["sites", "workers", "population"] + cols]
    a = after.areas_table[keys + cols]
    out = b.merge(a, on=keys, suffixes=("_before", "_after"))
    for c in cols:
        out[f"{c}_change"] = out[f"{c}_after"] - out[f"{c}_before"]
    return out
