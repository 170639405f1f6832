"""How sure is each number: travel-time ranges per site, and lower / upper bounds of every gap count.

A site's travel time is a point estimate resting on two approximations, and each has a
range the data allow:

- **Location.** ESDC lists employers by community and postal code, so a site stands for an
  area, not a farm gate. ``Settings.location_radius_m`` gives, per ``geocode_precision``,
  how far the farm may be from the point used (defaults below). Moving a point by ``r``
  metres changes its straight-line distance to the nearest service by at most ``r`` (the
  distance to the nearest of a set of points is 1-Lipschitz), so for the straight-line
  method the distance range ``[max(d - r, 0), d + r]`` is exact, not a guess. On a road
  network the same ``r`` is converted to time at the mode speed x the highest circuity
  (documented approximation: the farm is ``r`` away along the roads of its area).
- **Candidate positions** (better than a radius, where the data allow: Chatham-Kent). A site
  at a ``community``, ``post_office`` or ``postal_area`` point ranges over the pseudo-household
  and rural post-office points it can stand for (:func:`candidate_sets` defines the
  catchments); each unique candidate is timed by the run's own method (straight line, road
  network or transit, same services), its method range taken (below), and the site's
  ``[best, worst]`` is the min / max over its candidates (its own point included, so the point
  estimate stays inside). Sites without a candidate set keep the stated radius, and the
  approximations say how many do (``Settings.location_candidates = false`` turns candidates
  off, for the before / after comparison in ``docs/uncertainty.md``).
- **Method.** The straight-line approximation's circuity over ``Settings.circuity_range``
  and every speed scaled by ``Settings.speed_factor_range``. Road networks: the network's own
  speeds by road class (OSM ``maxspeed`` or the ``highway``-type table
  ``gapmap.travel.road.network.DRIVE_SPEEDS_KMH``; centreline files by their class mapping or
  ``--speed-table``) scaled by the same factor range. The bound ``[t / f_hi, t / f_lo]`` holds
  even when every road class has its own factor anywhere in ``[f_lo, f_hi]``: every path's time
  lies in that interval of its time at the assigned speeds, so the shortest path's does too
  (the off-road walking leg is scaled with it, which only widens the range). Where the mode
  travels the off-road legs (a point to its nearest road: a farm lane, the roads past the edge
  of the network's data), each is a straight line x ``circuity`` at the mode speed; the router
  also times every origin with those legs at both ends of ``circuity_range`` (``minutes_lo``,
  ``minutes_hi``: the nearest service may change), and the bounds take those, each over the
  speed range. Transit over the
  departure window: the median departure is the point and the best, the 90th percentile the
  worst (both computed by the schedule scan over every departure minute; the fastest single
  departure is not kept, so the best end is the median, not lower).

``best <= point <= worst`` always. A site is **surely within** a threshold ``T`` when
``worst <= T``, **surely beyond** when ``best > T``, and **uncertain** otherwise; the
uncertain sites whose point estimate is on one side and whose range reaches the other are
the **knife-edge** sites. Every count of workers / sites beyond ``T`` gets a lower bound
(surely beyond) and an upper bound (not surely within). Widening any range never narrows a
bound (each bound is monotone in every range end).

Default ranges and their sources:

- ``circuity_range`` (1.2, 1.6): road / straight-line distance. 1.2-1.4 is the range reported
  for rural grid networks (Levinson & El-Geneidy 2009, *Regional Science and Urban
  Economics* 39; Ballou, Rahardja & Sakai 2002, *Transportation Research A* 36); Boscoe,
  Henry & Zdeb (2012, *The Professional Geographer* 64(2)) found a mean ratio of 1.42 for
  trips to hospitals across the United States, higher where water or sparse roads force
  detours, so the upper end is 1.6.
- ``speed_factor_range`` (0.85, 1.15): door-to-door speeds within 15 % of the assumed
  average (slower in towns, winter roads and at intersections; faster on highways).
- ``location_radius_m``: ``user coordinates`` 0; ``postal_code`` (an urban six-character
  code's own point) 500 m; ``community`` (a gazetteer point for the community an employer
  names) 5 km, the reach of a rural community's mailing addresses; ``post_office`` (a rural
  post office's point) 10 km, its rural delivery area; ``postal_area`` (FSA centroid) 25 km,
  as rural FSAs span tens of kilometres. Unknown precisions use the ``postal_area`` radius.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapmap.settings import Settings
from gapmap.travel import straight

STATUS_WITHIN, STATUS_BEYOND, STATUS_UNCERTAIN = "surely within", "surely beyond", "uncertain"


def location_radius(precision: pd.Series, settings: Settings) -> np.ndarray:
    """Metres a site may be from its point, by its ``geocode_precision`` (see module docstring)."""
    radii = settings.location_radius_m
    fallback = radii.get("postal_area", max(radii.values(), default=0.0))
    return precision.map(lambda p: radii.get(str(p), fallback)).to_numpy(dtype=float)


def time_ranges(tt: pd.DataFrame, radius_m: pd.Series, settings: Settings) -> pd.DataFrame:
    """Best and worst minutes per origin and category.

    Parameters
    ----------
    tt : DataFrame
        The long travel-time table of the run (``origin_id, category, distance_m, minutes,
        method`` and, for transit, ``minutes_p90``).
    radius_m : Series
        Location radius (m) per ``origin_id``; origins not in it have radius 0.
    settings : Settings
        The run's mode, speeds, circuity and uncertainty ranges.

    Returns
    -------
    DataFrame
        ``origin_id, category, minutes, minutes_best, minutes_worst``; unreachable origins
        (NaN minutes) are infinite in both bounds.
    """
    # A point setting outside its range widens the range: the point estimate always lies inside.
    c_lo, c_hi = settings.circuity_bounds()
    f_lo, f_hi = min(settings.speed_factor_range[0], 1.0), max(settings.speed_factor_range[1], 1.0)
    r = radius_m.reindex(tt["origin_id"].astype(str)).fillna(0.0).to_numpy(dtype=float)
    minutes = tt["minutes"].astype(float).to_numpy()
    method = tt["method"].astype(str).to_numpy()
    if settings.mode == "transit":
        speed_ms = settings.speeds_kmh["walk"] / 3.6
        shift = straight.seconds(r, speed_ms, c_hi) / 60.0
        p90 = tt["minutes_p90"].astype(float).to_numpy() if "minutes_p90" in tt else minutes
        best = np.minimum(minutes, p90) - shift
        worst = np.maximum(minutes, p90) + shift
    else:
        speed_ms = settings.speed_ms()
        is_straight = np.char.startswith(method.astype(str), straight.STRAIGHT_LINE)
        # Straight line: the exact distance range, at the extreme circuities and speeds.
        d = straight.straight_m(tt["distance_m"].astype(float).to_numpy(), settings.circuity)
        best_sl = straight.seconds(np.maximum(d - r, 0.0), speed_ms * f_hi, c_lo) / 60.0
        worst_sl = straight.seconds(d + r, speed_ms * f_lo, c_hi) / 60.0
        # Road network: its times over the speed range, plus the location shift along roads; the
        # off-road legs the mode travels over the circuity range (``minutes_lo`` / ``_hi``).
        shift = straight.seconds(r, speed_ms, c_hi) / 60.0
        lo = tt["minutes_lo"].astype(float).to_numpy() if "minutes_lo" in tt else minutes
        hi = tt["minutes_hi"].astype(float).to_numpy() if "minutes_hi" in tt else minutes
        best_net, worst_net = np.minimum(lo, minutes) / f_hi - shift, np.maximum(hi, minutes) / f_lo + shift
        best = np.where(is_straight, best_sl, best_net)
        worst = np.where(is_straight, worst_sl, worst_net)
    unreachable = ~np.isfinite(minutes)
    best = np.where(unreachable, np.inf, np.clip(best, 0.0, None))
    worst = np.where(unreachable, np.inf, worst)
    # Point estimates lie inside their range by construction; guard the float edges.
    best = np.minimum(best, np.where(unreachable, np.inf, minutes))
    worst = np.maximum(worst, np.where(unreachable, np.inf, minutes))
    return pd.DataFrame({"origin_id": tt["origin_id"].astype(str).to_numpy(), "category": tt["category"].to_numpy(),
                         "minutes": minutes, "minutes_best": best, "minutes_worst": worst})


def status(best: np.ndarray, worst: np.ndarray, threshold: float) -> np.ndarray:
    """``surely within`` / ``surely beyond`` / ``uncertain`` per row for ``threshold`` minutes."""
    return np.where(worst <= threshold, STATUS_WITHIN, np.where(best > threshold, STATUS_BEYOND, STATUS_UNCERTAIN))


def attach(frame: pd.DataFrame, ids: pd.Series, ranges: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Add ``<cat>_min_best``, ``<cat>_min_worst`` and ``<cat>_<T>min_status`` columns to a wide table."""
    out = frame.copy()
    key = ids.astype(str).to_numpy()
    for cat in settings.categories:
        sub = ranges[ranges["category"] == cat].set_index("origin_id").reindex(key)
        best = sub["minutes_best"].fillna(np.inf).to_numpy(dtype=float)
        worst = sub["minutes_worst"].fillna(np.inf).to_numpy(dtype=float)
        out[f"{cat}_min_best"] = np.round(best, 1)
        out[f"{cat}_min_worst"] = np.round(worst, 1)
        for t in settings.thresholds_min:
            out[f"{cat}_{t:g}min_status"] = status(best, worst, t)
    return out


def bound_counts(sites: pd.DataFrame, population: pd.DataFrame, cat: str, t: float) -> dict[str, float]:
    """Lower / upper bounds of the sites, workers and people beyond ``t`` minutes of ``cat``.

    Lower = the surely beyond; upper = all not surely within. ``knife_edge`` counts the
    sites whose status is uncertain.
    """
    col = f"{cat}_{t:g}min_status"
    sites_status = (sites[col].to_numpy(), sites["workers"].to_numpy(dtype=float)) if col in sites else None
    pop_status = (population[col].to_numpy(), population["pop2021"].fillna(0).to_numpy(dtype=float)) if col in population else None
    return bound_counts_arrays(sites_status, pop_status)


def bound_counts_arrays(sites_status: tuple[np.ndarray, np.ndarray] | None,
                        pop_status: tuple[np.ndarray, np.ndarray] | None) -> dict[str, float]:
    """:func:`bound_counts` on arrays: (status, workers) of the sites and (status, people) of the
    population, each None when the run has no status column (a per-area table subsets them)."""
    out: dict[str, float] = {}
    if sites_status is not None:
        st, w = sites_status
        out.update({"sites_not_lower": int((st == STATUS_BEYOND).sum()), "sites_not_upper": int((st != STATUS_WITHIN).sum()),
                    "workers_not_lower": int(w[st == STATUS_BEYOND].sum()),
                    "workers_not_upper": int(w[st != STATUS_WITHIN].sum()),
                    "sites_knife_edge": int((st == STATUS_UNCERTAIN).sum())})
    if pop_status is not None:
        st, p = pop_status
        out.update({"pop_not_lower": float(p[st == STATUS_BEYOND].sum()), "pop_not_upper": float(p[st != STATUS_WITHIN].sum())})
    return out


def knife_edge(sites: pd.DataFrame, settings: Settings, category: str | None = None,
               threshold: float | None = None) -> pd.DataFrame:
    """The sites whose status flips inside the ranges, for the headline (or given) category and threshold."""
    cat = category or settings.headline_category
    t = settings.headline_threshold if threshold is None else threshold
    col = f"{cat}_{t:g}min_status"
    if col not in sites:
        return sites.iloc[0:0]
    return sites[sites[col] == STATUS_UNCERTAIN]


# --- Candidate positions: the places a community / post-office / postal-area site can stand for -----

CANDIDATE_DATASETS = ("ck_pseudohouseholds_2021", "postal_points_rural_ontario", "ck_communities")
_SAME_POINT_M = 1.0  # two points closer than this are one anchor


def candidate_sets(sites: pd.DataFrame, site_ids: np.ndarray, boundary, data_dir=None) -> pd.DataFrame:
    """Candidate positions per site from the offline data, or an empty table where none exist.

    Definitions (all points inside the region's ``boundary``, in its projected CRS):

    - **anchors**: the cited community points (``ck_communities``), the rural post-office points
      with a point of their own (``postal_points_rural_ontario``, ``codes_sharing_this_point == 1``)
      and the points of the sites placed at ``community`` / ``post_office`` precision;
    - **households**: the pseudo-household points (``ck_pseudohouseholds_2021``, C. Belanger's
      points along named roads of the 2021 Road Network File, one per ~11 residents);
    - a ``community`` or ``post_office`` site's **catchment**: the households and rural
      post-office points whose nearest anchor is the site's own point (its Voronoi cell among
      the anchors), plus the site's point;
    - a ``postal_area`` site's catchment: the rural post-office points of its FSA and the
      households whose nearest rural post-office point is one of them, plus the site's point.

    A site gets a candidate set only when its catchment holds at least one household (so only
    where the pseudo-households cover the region: Chatham-Kent); every other site keeps the
    stated radius (:func:`location_radius`).

    Returns
    -------
    DataFrame
        ``origin_id`` (the site's), ``cand`` (candidate index), ``x``, ``y``, sorted by
        ``origin_id`` then ``cand``; ``attrs["points"]`` says how many households and post-office
        points were used.
    """
    from gapmap.sources import catalog, geocode, read_csv, to_float

    empty = pd.DataFrame({"origin_id": pd.Series(dtype=str), "cand": pd.Series(dtype=int),
                          "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
    if not len(sites) or not catalog.available("ck_pseudohouseholds_2021", data_dir):
        return empty
    import geopandas as gpd
    from scipy.spatial import cKDTree

    crs = boundary.crs
    geom = boundary.geometry.union_all() if hasattr(boundary.geometry, "union_all") else boundary.unary_union
    phh = _households_near(catalog.resolve("ck_pseudohouseholds_2021", data_dir), boundary).to_crs(crs)
    phh = phh[_within(phh, geom)]
    if not len(phh):
        return empty
    hh = np.column_stack([phh.geometry.x.to_numpy(), phh.geometry.y.to_numpy()])

    def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
        g = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(to_float(frame["longitude"]), to_float(frame["latitude"])),
                             crs="EPSG:4326").to_crs(crs)
        return g[_within(g, geom)]

    po = pd.DataFrame(columns=["postal_code", "latitude", "longitude", "codes_sharing_this_point"])
    if catalog.available("postal_points_rural_ontario", data_dir):
        po = read_csv(catalog.resolve("postal_points_rural_ontario", data_dir),
                      ["postal_code", "latitude", "longitude", "codes_sharing_this_point"],
                      what="Rural post-office points")
        po = po[to_float(po["codes_sharing_this_point"]) == 1]
    po = _points(po.reset_index(drop=True)).sort_values("postal_code", kind="stable")
    po_xy = np.column_stack([po.geometry.x.to_numpy(), po.geometry.y.to_numpy()]).reshape(-1, 2)
    po_fsa = po["postal_code"].astype(str).str.upper().str.replace(r"\s+", "", regex=True).str[:3].to_numpy()
    gaz_xy = np.empty((0, 2))
    if catalog.available("ck_communities", data_dir):
        gaz = _points(read_csv(catalog.resolve("ck_communities", data_dir), ["name", "latitude", "longitude"],
                                    what="Community points"))
        gaz_xy = np.column_stack([gaz.geometry.x.to_numpy(), gaz.geometry.y.to_numpy()]).reshape(-1, 2)

    prec = sites["geocode_precision"].astype(str).to_numpy()
    sxy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    local = np.isin(prec, [geocode.COMMUNITY, geocode.POST_OFFICE])
    anchors = np.unique(np.round(np.vstack([gaz_xy, po_xy, sxy[local]]), 0), axis=0)  # sorted: deterministic
    rows = []
    if len(anchors):
        tree = cKDTree(anchors)
        _, hh_a = tree.query(hh)
        _, po_a = tree.query(po_xy) if len(po_xy) else (None, np.empty(0, int))
        for i in np.flatnonzero(local):
            d, a = tree.query(sxy[i])
            if d > _SAME_POINT_M:
                continue
            pts = np.vstack([hh[hh_a == a]]) if (hh_a == a).any() else np.empty((0, 2))
            if len(pts):
                rows.append((site_ids[i], np.vstack([sxy[i:i + 1], pts, po_xy[po_a == a]])))
    if len(po_xy):
        _, hh_po = cKDTree(po_xy).query(hh)
        fsa = sites["fsa"].astype(str).str.upper().str.replace(r"\s+", "", regex=True).to_numpy() if "fsa" in sites \
            else np.full(len(sites), "")
        for i in np.flatnonzero(prec == geocode.POSTAL_AREA):
            mine = po_fsa == fsa[i]
            pts = hh[np.isin(hh_po, np.flatnonzero(mine))]
            if mine.any() and len(pts):
                rows.append((site_ids[i], np.vstack([sxy[i:i + 1], po_xy[mine], pts])))
    if not rows:
        return empty
    out = pd.concat([pd.DataFrame({"origin_id": oid, "cand": np.arange(len(p)), "x": p[:, 0], "y": p[:, 1]})
                     for oid, p in rows], ignore_index=True)
    out = out.sort_values(["origin_id", "cand"], kind="stable").reset_index(drop=True)
    out.attrs["points"] = {"households": int(len(hh)), "post_offices": int(len(po_xy)), "anchors": int(len(anchors))}
    return out


#: Degrees added around a boundary's lon/lat box before the exact test (its projected edges bow
#: between vertices by far less than this).
_BOX_MARGIN_DEG = 0.05


def _households_near(path, boundary):
    """The pseudo-household points (file CRS) in the boundary's lon/lat box plus a margin.

    The file is read once per process per version (:func:`gapmap.sources.readers.derived`): a batch
    asks for every region, and all but Chatham-Kent keep none, so the box test spares them
    reprojecting it.
    """
    from gapmap.sources.readers import derived

    points, lon, lat = derived("pseudo-household points", [path], lambda: _household_points(path))
    x0, y0, x1, y1 = boundary.to_crs("EPSG:4326").total_bounds
    m = _BOX_MARGIN_DEG
    return points[(lon >= x0 - m) & (lon <= x1 + m) & (lat >= y0 - m) & (lat <= y1 + m)]


def _household_points(path):
    """(points, lon, lat) of a pseudo-household file."""
    import geopandas as gpd

    points = gpd.read_file(path, columns=["phh_id"])
    ll = points.geometry.to_crs("EPSG:4326")
    return points, ll.x.to_numpy(), ll.y.to_numpy()


def _within(points, polygon) -> np.ndarray:
    """``points.within(polygon)`` for a GeoDataFrame of points: ``contains_xy`` is ~10x faster on
    CK's 9,500 pseudo-households and the same test (interior only) for points."""
    import shapely

    geoms = points.geometry.to_numpy()
    if not len(geoms) or not (shapely.get_type_id(geoms) == 0).all() or shapely.is_empty(geoms).any():
        return points.within(polygon).to_numpy()
    return shapely.contains_xy(polygon, shapely.get_x(geoms), shapely.get_y(geoms))


def candidate_ranges(ranges: pd.DataFrame, candidates: pd.DataFrame, times, settings: Settings,
                     crs=None) -> pd.DataFrame:
    """Replace the radius ranges of the sites with candidates by min / max over their candidate positions.

    Parameters
    ----------
    ranges : DataFrame
        :func:`time_ranges` output (every origin); its rows for sites in ``candidates`` are replaced.
    candidates : DataFrame
        :func:`candidate_sets` output (``origin_id, cand, x, y``).
    times : callable
        ``times(origins GeoDataFrame) -> long travel-time table``: the run's own method (straight
        line, road network or transit) with the run's services; each unique candidate point is
        timed once.
    settings : Settings
    crs : optional
        CRS of the candidate coordinates (the region's projected CRS).

    Returns
    -------
    DataFrame
        Same columns as ``ranges``; for a site with candidates, ``minutes_best`` / ``minutes_worst``
        are the min / max over its candidates of their method ranges (:func:`time_ranges`, no
        radius: the candidates are the location range). The site's own point is a candidate, so
        ``best <= point <= worst`` still holds.
    """
    if not len(candidates):
        return ranges
    import geopandas as gpd

    xy = candidates[["x", "y"]].to_numpy()
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    ids = np.array([f"cand:{k}" for k in range(len(uniq))])
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(uniq[:, 0], uniq[:, 1]), index=ids, crs=crs)
    cand_tt = times(origins)
    cr = time_ranges(cand_tt, pd.Series(dtype=float), settings)
    link = pd.DataFrame({"origin_id": candidates["origin_id"].astype(str).to_numpy(), "cand_id": ids[inverse.ravel()]})
    merged = link.merge(cr.rename(columns={"origin_id": "cand_id"}), on="cand_id", how="left")
    agg = merged.groupby(["origin_id", "category"], sort=True).agg(best=("minutes_best", "min"),
                                                                  worst=("minutes_worst", "max"))
    out = ranges.copy()
    key = pd.MultiIndex.from_arrays([out["origin_id"], out["category"]])
    hit = key.isin(agg.index)
    sub = agg.reindex(key[hit])
    finite = np.isfinite(out.loc[hit, "minutes"].to_numpy(dtype=float))
    out.loc[hit, "minutes_best"] = np.where(finite, np.minimum(sub["best"].to_numpy(), out.loc[hit, "minutes"]), np.inf)
    out.loc[hit, "minutes_worst"] = np.where(finite, np.maximum(sub["worst"].to_numpy(), out.loc[hit, "minutes"]), np.inf)
    out.attrs["candidates"] = {"sites": int(candidates["origin_id"].nunique()), "points": int(len(uniq))}
    return out


def candidate_note(candidates: pd.DataFrame, n_sites_with_radius: int,
                   radius_by_precision: dict[str, int] | None = None, *, settings: Settings | None = None) -> str | None:
    """One sentence for the approximations: which sites use candidate positions and which the stated radius
    (a keyed :class:`gapmap.messages.Message`: the report's "how sure" section reads its counts, and
    ``radius_by_precision``, the sites using the stated radius per geocode precision).

    With public ``settings`` the site counts are left out of the sentence when one of them is
    small (1 to k-1), as summary.json's tally of sites by precision is blanked then; the
    message's parameters keep them for the report, which applies the same rule.
    """
    if not len(candidates):
        return None
    from gapmap.analysis import privacy
    from gapmap.messages import Message

    n = int(candidates["origin_id"].nunique())
    pts = candidates.attrs.get("points", {})
    k = settings.k_anonymity if settings is not None else 0
    hide = settings is not None and privacy.counts_hidden([n, n_sites_with_radius, *(radius_by_precision or {}).values()],
                                                          settings)
    sites_words = "sites" if hide else f"{n} sites"
    if not n_sites_with_radius:
        tail = "no site falls back to a stated radius."
    elif hide:
        tail = f"other sites use the stated radius for their geocode precision (site counts not published: one is under {k})."
    else:
        tail = f"{n_sites_with_radius} other sites use the stated radius for their geocode precision."
    return Message(
        f"Location ranges: {sites_words} placed at a community, post-office or postal-area point range over the positions "
        f"they can stand for ({pts.get('households', 0):,} Chatham-Kent pseudo-households along named roads, "
        f"C. Belanger / Statistics Canada 2021, and {pts.get('post_offices', 0)} rural post-office points, each "
        "assigned to its nearest community point); " + tail,
        "appx_location_candidates", sites=n, households=int(pts.get("households", 0)),
        post_offices=int(pts.get("post_offices", 0)), radius_sites=int(n_sites_with_radius),
        radius_by_precision=dict(radius_by_precision or {}), hide_counts=hide, k=k)
