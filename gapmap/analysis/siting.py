"""Location-allocation: where new service sites would cover the most people and workers.

Two problems, both with the **existing services fixed**: demand already within the threshold
of an existing service is not counted as new gain, so recommendations go where the gaps are.

- **MCLP** (maximal covering location problem, Church & ReVelle 1974): choose at most ``p``
  candidates maximising the demand newly covered within ``threshold_min``.
- **LSCP-style** (location set covering with a target): the fewest candidates so that covered
  demand (existing + new) reaches ``target_share`` of the *coverable* demand, i.e. demand
  within the threshold of an existing service or of at least one candidate (demand no
  candidate can reach cannot be covered by any choice, so it is not in the target).

Coverage means travel time <= threshold (inclusive), from a straight-line matrix
(:func:`gapmap.analysis.access.od_matrix_straight_line`) or a given network / transit matrix.
Demand weights are the ``workers`` and ``people`` columns; ``objective`` picks what is
maximised (workers by default: the LIP's question is about migrant workers).

Solver and determinism
----------------------
Integer programs are solved with ``scipy.optimize.milp`` (HiGHS, bundled with SciPy, already
a gapmap dependency) with ``mip_rel_gap = 0`` so optima are exact. We do not use spopt: it
adds ~15 packages (libpysal, esda, matplotlib...), takes seconds to import, has no
target-share set-covering variant, and like any MILP model returns *an* optimum, not a
reproducible one when several exist. Here the answer is unique and independent of row order:

1. optimum coverage ``z*`` (MCLP) or fewest sites ``k*`` (LSCP);
2. fewest sites reaching ``z*`` (MCLP: no site that adds nothing) / most coverage with ``k*``
   sites (LSCP);
3. among all such optimal sets, the lexicographically smallest by ``candidate_id``: each
   candidate in id order is fixed in if an optimal set containing it (and the earlier picks)
   exists, else fixed out (one small feasibility solve each, LP relaxation first).

Before solving, the problem is reduced without changing that answer: demand already covered
or with zero weight is dropped, demand points with the same covering candidates are merged,
and a candidate whose newly covered demand is a subset of a lower-id candidate's is dropped.

Output order (``rank``): the chosen sites are ordered greedily by marginal gain (the site
adding the most, then the site adding the most given the first, ...; ties by id), and each
row reports its *marginal* ``workers_newly_covered`` / ``people_newly_covered``.

Candidates
----------
Any GeoDataFrame of points (``candidate_id`` column or the index; ``name`` if present):
a candidates file, :func:`odcaf_candidates` (libraries and community facilities),
DA points, or :func:`hex_centres` (H3 cell centres).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from gapmap import geo
from gapmap.errors import InputError
from gapmap.analysis.access import od_matrix_straight_line, straight_pairs
from gapmap.settings import Settings
from gapmap.layers.demand import hex_cell_centres

RECOMMENDATION_COLUMNS = ["rank", "candidate_id", "name", "workers_newly_covered", "people_newly_covered",
                          "objective_gain", "geometry"]
SOLVER = "HiGHS via scipy.optimize.milp (exact: mip_rel_gap = 0)"
DEMAND_WEIGHTS = ("workers", "people")


@dataclasses.dataclass
class SitingResult:
    """Recommended sites and the coverage before and after.

    Attributes
    ----------
    recommendations : GeoDataFrame
        ``rank, candidate_id, name, workers_newly_covered, people_newly_covered`` (marginal, in
        rank order), ``objective_gain`` (marginal objective), geometry (candidate point).
    totals : dict
        ``problem, threshold_min, objective, sites_recommended``; for workers and people:
        ``<w>_total, <w>_covered_before, <w>_covered_after, <w>_coverable`` and the shares
        ``<w>_share_before, <w>_share_after`` (of the total); ``candidates, candidates_in_model,
        demand_groups_in_model, solver, method``.
    demand : GeoDataFrame
        Per demand point: ``origin_id, workers, people, covered_before, covered_after,
        covered_by`` (``existing``, the id of the first-ranked recommendation covering it, or
        empty), geometry.
    notes : list of str
    shortfall : str or None
        Why fewer than the ``p`` sites asked for were recommended (MCLP), in one sentence without
        counts of workers or people (safe to publish), e.g. "1 site covers all the workers that 3
        could; more would add nothing." or "Only 2 candidates reach workers not already covered.";
        None when ``p`` sites were recommended or for a coverage target (LSCP). Also the first of
        ``notes`` then, so ``summary.json`` carries it.
    """

    recommendations: gpd.GeoDataFrame
    totals: dict
    demand: gpd.GeoDataFrame
    notes: list[str]
    shortfall: str | None = None


# --------------------------------------------------------------------------- candidates


def hex_centres(boundary: gpd.GeoDataFrame | gpd.GeoSeries, resolution: int) -> gpd.GeoDataFrame:
    """H3 cell centres inside ``boundary`` as siting candidates.

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (H3 id), ``name`` (``H3 <id>``), geometry (Point, boundary CRS),
        sorted by id; only cells whose centre is inside the boundary.
    """
    geo.check_h3_resolution(resolution)
    bnd = geo.as_gdf(boundary, "Boundary")
    cells, lat, lng = hex_cell_centres(bnd, resolution)
    # The centres projected as arrays, with the transformer GeoSeries.to_crs uses (pyproj, always_xy):
    # the same coordinates without first building ~689k lat/lng points (Northwestern Ontario).
    x, y = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input("EPSG:4326"), bnd.crs, always_xy=True).transform(lng, lat)
    pts = gpd.GeoSeries(shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float)), crs=bnd.crs)
    return gpd.GeoDataFrame({"candidate_id": pd.Series(cells, dtype="str"),
                             "name": pd.Series([f"H3 {c}" for c in cells], dtype="str")},
                            geometry=pts.to_numpy(), crs=bnd.crs)


def odcaf_candidates(boundary: gpd.GeoDataFrame | gpd.GeoSeries, data_dir: str | os.PathLike | None = None, *,
                     types: Sequence[str] | None = None, within_m: float = 0.0) -> gpd.GeoDataFrame:
    """Cultural and community facilities (ODCAF v1.0: libraries, museums, cultural centres) as candidates.

    Parameters
    ----------
    types : list of str, optional
        ``ODCAF_Facility_Type`` values to keep (e.g. ``["library or archives", "art or cultural
        centre"]``); default all.
    within_m : float
        Keep facilities up to this far outside the boundary (metres).

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (``odcaf-<Index>``), ``name``, ``facility_type``, ``city``, geometry
        (Point, boundary CRS); rows without coordinates are skipped.
    """
    from gapmap.sources import catalog
    from gapmap.sources import read_csv, to_float

    bnd = geo.as_gdf(boundary, "Boundary")
    path = catalog.resolve("odcaf", data_dir)
    df = read_csv(path, ["Index", "Facility_Name", "ODCAF_Facility_Type", "City", "Latitude", "Longitude"], what="ODCAF")
    if types is not None:
        known = set(df["ODCAF_Facility_Type"])
        unknown = [t for t in types if t not in known]
        if unknown:
            raise InputError(f"Unknown ODCAF facility type(s) {', '.join(map(repr, unknown))}; use some of "
                             f"{', '.join(sorted(known - {'..'}))}.")
        df = df[df["ODCAF_Facility_Type"].isin(list(types))]
    lat, lon = to_float(df["Latitude"]), to_float(df["Longitude"])
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    df, lat, lon = df[ok], lat[ok], lon[ok]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(bnd.crs)
    proj = bnd.to_crs(bnd.estimate_utm_crs()) if not bnd.crs.is_projected else bnd
    area = proj.geometry.union_all().buffer(within_m) if within_m > 0 else proj.geometry.union_all()
    inside = pts.to_crs(proj.crs).within(area).to_numpy()
    out = gpd.GeoDataFrame({
        "candidate_id": ("odcaf-" + df["Index"]).to_numpy()[inside],
        "name": df["Facility_Name"].to_numpy()[inside],
        "facility_type": df["ODCAF_Facility_Type"].to_numpy()[inside],
        "city": df["City"].to_numpy()[inside],
    }, geometry=pts.to_numpy()[inside], crs=bnd.crs)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- coverage


def _coverage(demand_ids: np.ndarray, facility_ids: np.ndarray, matrix: pd.DataFrame, threshold: float,
              what: str) -> sparse.csr_matrix:
    """Boolean demand x facility matrix: minutes <= threshold."""
    fcol = next((c for c in ("candidate_id", "service_id") if c in matrix.columns), None)
    if fcol is None or "origin_id" not in matrix.columns or "minutes" not in matrix.columns:
        raise InputError(f"The {what} travel-time matrix needs columns origin_id, service_id (or candidate_id), minutes.")
    m = matrix[np.nan_to_num(matrix["minutes"].to_numpy(dtype=float), nan=np.inf) <= threshold]
    i = pd.Index(demand_ids).get_indexer(m["origin_id"].astype(str))
    j = pd.Index(facility_ids).get_indexer(m[fcol].astype(str))
    ok = (i >= 0) & (j >= 0)
    data = np.ones(int(ok.sum()), dtype=bool)
    return sparse.csr_matrix((data, (i[ok], j[ok])), shape=(len(demand_ids), len(facility_ids)), dtype=bool)


def _straight_coverage(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, settings: Settings | None,
                       threshold: float) -> tuple[sparse.csr_matrix, str | None]:
    """:func:`_coverage` of the straight-line matrix, from the pairs' positions (no table of ids).

    The same matrix (indices sorted, as the sorted table gave them) and the matrix's method
    label (None without pairs).
    """
    pairs = straight_pairs(demand, facilities, settings, threshold, origin_id="origin_id", service_id="candidate_id")
    shape = (len(demand), len(facilities))
    if pairs is None:
        return sparse.csr_matrix(shape, dtype=bool), None
    cover = sparse.csr_matrix((np.ones(len(pairs.i), dtype=bool), (pairs.i, pairs.j)), shape=shape, dtype=bool)
    cover.sort_indices()
    return cover, (pairs.method if len(pairs.i) else None)


def _weights(demand: pd.DataFrame, objective: str | Mapping[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray], str]:
    cols = {c: pd.to_numeric(demand[c], errors="coerce").fillna(0.0).to_numpy(dtype=float) if c in demand.columns
            else np.zeros(len(demand)) for c in DEMAND_WEIGHTS}
    coefs = {objective: 1.0} if isinstance(objective, str) else dict(objective)
    unknown = [c for c in coefs if c not in demand.columns]
    if unknown or not coefs:
        raise InputError(f"Siting objective {objective!r} needs demand column(s) {', '.join(unknown) or 'workers'}; "
                         "demand points carry workers and/or people (see gapmap.layers.demand.demand_points).")
    w = sum(float(k) * pd.to_numeric(demand[c], errors="coerce").fillna(0.0).to_numpy(dtype=float) for c, k in coefs.items())
    if np.any(w < 0):
        raise InputError("Demand weights must be >= 0; check the workers / people columns.")
    label = objective if isinstance(objective, str) else " + ".join(f"{k:g} x {c}" for c, k in coefs.items())
    return np.asarray(w, dtype=float), cols, label


# --------------------------------------------------------------------------- model


_Y_INTEGER = 1.0  # binary y: HiGHS 1.x (SciPy 1.17) returned a non-optimal "optimum" with continuous y + presolve
_PRESOLVE = True


class _Model:
    """Covering model on reduced demand groups (rows) x candidates (columns, in id order).

    Variables ``[x_1..x_nc, y_1..y_ng]``: x_j = candidate j opens, y_g = group g covered.
    ``weights[k]`` are the per-group weights of objective k (0: primary, 1: tie-break).
    """

    def __init__(self, cover: sparse.csr_matrix, weights: Sequence[np.ndarray], time_limit: float):
        self.n_g, self.n_c = cover.shape
        self.n = self.n_c + self.n_g
        self.time_limit = time_limit
        # y_g - sum_{j covers g} x_j <= 0
        link = sparse.hstack([-cover.astype(float), sparse.identity(self.n_g, format="csr")], format="csr")
        self.link = LinearConstraint(link, -np.inf, 0.0)
        self.count_row = np.concatenate([np.ones(self.n_c), np.zeros(self.n_g)])
        self.rows = [np.concatenate([np.zeros(self.n_c), w]) for w in weights]
        self.integrality = np.concatenate([np.ones(self.n_c), np.full(self.n_g, _Y_INTEGER)])
        self.solves = 0

    def solve(self, c: np.ndarray, constraints: list, lb: np.ndarray | None = None, ub: np.ndarray | None = None,
              relax: bool = False):
        self.solves += 1
        res = milp(c, constraints=[self.link, *constraints],
                   bounds=Bounds(np.zeros(self.n) if lb is None else lb, np.ones(self.n) if ub is None else ub),
                   integrality=np.zeros(self.n) if relax else self.integrality,
                   options={"mip_rel_gap": 0.0, "time_limit": self.time_limit, "presolve": _PRESOLVE})
        if res.status == 1:
            raise InputError(f"The siting model hit its time limit ({self.time_limit:g} s); use fewer candidates "
                             "(coarser hexagons) or raise time_limit.")
        return res if res.status == 0 else None

    def sites(self, lo: float, hi: float) -> LinearConstraint:
        return LinearConstraint(self.count_row, lo, hi)

    def at_least(self, k: int, value: float) -> LinearConstraint:
        return LinearConstraint(self.rows[k], value, np.inf)

    def maximise(self, k: int, cons: list) -> float:
        """Largest weight-k coverage under ``cons``."""
        return float(-self.solve(-self.rows[k], cons).fun)

    def fewest_sites(self, cons: list) -> int | None:
        res = self.solve(self.count_row, cons)
        return None if res is None else int(round(res.fun))

    def lexmin(self, cons: list, k: int) -> np.ndarray:
        """Lexicographically smallest (by column order) set of ``k`` candidates satisfying ``cons``."""
        cons = [self.sites(k, k), *cons]
        lb, ub = np.zeros(self.n), np.ones(self.n)
        # A good incumbent first (lowest sum of id ranks): most later checks then need no solve.
        rank_cost = np.concatenate([np.arange(1, self.n_c + 1, dtype=float), np.zeros(self.n_g)])
        x = np.round(self.solve(rank_cost, cons).x[: self.n_c]).astype(bool)
        fixed_in = 0
        for j in range(self.n_c):
            if fixed_in == k:
                ub[j] = 0.0
                continue
            if not x[j]:
                lb[j] = 1.0
                # LP relaxation first: infeasible there means infeasible, at a fraction of the cost.
                trial = self.solve(rank_cost, cons, lb, ub) if self.solve(np.zeros(self.n), cons, lb, ub, relax=True) else None
                if trial is None:
                    lb[j] = ub[j] = 0.0
                    continue
                x = np.round(trial.x[: self.n_c]).astype(bool)
            lb[j] = 1.0
            fixed_in += 1
        return np.flatnonzero(lb[: self.n_c] > 0.5)


def _reduce(cover: sparse.csr_matrix, weights: Sequence[np.ndarray]) -> tuple[sparse.csr_matrix, list[np.ndarray], np.ndarray]:
    """Merge identical demand rows and drop candidates dominated by a lower-id candidate.

    Returns (group x kept-candidate cover, per-group weights, kept candidate column positions).
    """
    # A candidate whose demand is a subset of a lower-id candidate's (j before j') never appears
    # in the lexicographically smallest fewest-sites optimum: swapping j' for j is no worse.
    # Candidates with the same demand set are compared once, as one set: large regions have
    # hundreds of thousands of hexagons but few distinct sets, and the pairwise test is
    # quadratic in what it compares.
    csc = cover.tocsc()
    csc.sort_indices()
    n_c = cover.shape[1]
    size = np.diff(csc.indptr)
    dominated = size == 0
    cols = np.flatnonzero(size > 0)
    set_of: dict[bytes, int] = {}
    label = np.empty(len(cols), dtype=np.int64)
    for k, c in enumerate(cols.tolist()):
        label[k] = set_of.setdefault(csc.indices[csc.indptr[c]:csc.indptr[c + 1]].tobytes(), len(set_of))
    n_u = len(set_of)
    # Columns are in id order, so a set's first column is its lowest id; later ones are dominated.
    first = np.full(n_u, n_c, dtype=np.int64)
    np.minimum.at(first, label, cols)
    dominated[cols] |= cols > first[label]
    # Distinct sets: A is dominated by a strict superset B whose lowest id comes before A's ids.
    if n_u > 1:
        uniq = csc[:, first].astype(np.int32)  # demand x distinct set, in order of first id
        usize = size[first]
        best_super = np.full(n_u, n_c, dtype=np.int64)  # lowest id among strict supersets
        step = max(1, 4_000_000 // n_u)
        for start in range(0, n_u, step):
            stop = min(n_u, start + step)
            inter = (uniq.T @ uniq[:, start:stop]).toarray()  # inter[a, b] = |set a & set b|
            sup = (inter == usize[start:stop][None, :]) & (usize[:, None] > usize[start:stop][None, :])
            ids = np.where(sup, first[:, None], n_c)
            best_super[start:stop] = ids.min(axis=0)
        dominated[cols] |= best_super[label] < cols
    keep = np.flatnonzero(~dominated)
    reduced = cover[:, keep].tocsr()
    # Demand points covered by the same candidates form one group (weights summed).
    keys: dict[bytes, int] = {}
    group = np.empty(reduced.shape[0], dtype=np.int64)
    for r in range(reduced.shape[0]):
        group[r] = keys.setdefault(reduced.indices[reduced.indptr[r]:reduced.indptr[r + 1]].tobytes(), len(keys))
    agg = sparse.csr_matrix((np.ones(len(group)), (group, np.arange(len(group)))), shape=(len(keys), len(group)))
    gcover = sparse.csr_matrix((agg @ reduced.astype(float)) > 0)
    return gcover, [np.asarray(agg @ w, dtype=float) for w in weights], keep


# --------------------------------------------------------------------------- entry point


def locate(demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *, threshold_min: float,
           p: int | None = None, target_share: float | None = None,
           existing: gpd.GeoDataFrame | None = None, objective: str | Mapping[str, float] = "workers",
           settings: Settings | None = None, matrix: pd.DataFrame | None = None,
           existing_matrix: pd.DataFrame | None = None, tie_break: str | None = "auto",
           time_limit: float = 120.0, matrix_method: str | None = None) -> SitingResult:
    """Recommend new service sites: MCLP (``p``) or fewest sites for a coverage target (``target_share``).

    Parameters
    ----------
    demand : GeoDataFrame
        Demand points with ``workers`` and/or ``people`` (see :func:`gapmap.layers.demand.demand_points`);
        ids from ``origin_id`` or the index.
    candidates : GeoDataFrame
        Candidate points; ids from ``candidate_id`` or the index; ``name`` optional.
    threshold_min : float
        Coverage threshold in minutes (inclusive).
    p : int, optional
        MCLP: at most ``p`` new sites (fewer when fewer already cover everything coverable).
    target_share : float in (0, 1], optional
        LSCP: covered demand (existing + new, objective weight) >= this share of coverable demand.
    existing : GeoDataFrame, optional
        Existing services (fixed), e.g. the ``services`` layer filtered to one category.
    objective : str or dict
        ``"workers"`` (default), ``"people"``, or weights like ``{"workers": 1, "people": 0.1}``.
    settings : Settings, optional
        Speed and circuity for straight-line matrices.
    matrix, existing_matrix : DataFrame, optional
        ``origin_id, service_id`` (or ``candidate_id``), ``minutes`` from demand to candidates /
        existing services (road network, transit); straight-line approximation otherwise.
    tie_break : {"auto", "people", "workers", None}
        Among sets equal in the objective, prefer the one newly covering more of this weight
        (``auto``: people for a workers objective, workers for a people objective); then ids.
    time_limit : float
        Seconds per solver call; hitting it raises :class:`InputError`.
    matrix_method : str, optional
        What a given ``matrix`` rests on (e.g. the road network's method), for ``totals["method"]``.

    Returns
    -------
    SitingResult
    """
    tie = _check_locate_args(p, target_share, threshold_min, tie_break, objective)
    demand = geo.as_gdf(demand, "Demand points")
    candidates = geo.as_gdf(candidates, "Candidates")
    d_ids = geo.ids_from_column(demand, "origin_id", "Demand points")
    c_ids = geo.ids_from_column(candidates, "candidate_id", "Candidates")
    w, cols, label = _weights(demand, objective)
    method = None
    if matrix is None:
        cover, method = _straight_coverage(demand, candidates.to_crs(demand.crs), settings, threshold_min)
    else:
        cover = _coverage(d_ids, c_ids, matrix, threshold_min, "candidate")
        method = matrix_method
    before = _covered_by_existing(demand, d_ids, existing, existing_matrix, settings, threshold_min)
    coverable = before | (np.asarray(cover.sum(axis=1)).ravel() > 0)
    w2 = cols[tie] if tie else np.zeros(len(d_ids))
    sol = _solve(cover, c_ids, w, w2, before, coverable, p=p, target_share=target_share, label=label, tie=tie,
                 time_limit=time_limit)
    recs, covered, covered_by = _rank(cover, sol.chosen, w, w2, cols, before, c_ids, candidates)
    totals = _totals(sol, label, threshold_min, cols, before, covered, coverable, len(recs), len(c_ids), method)
    dem = gpd.GeoDataFrame({"origin_id": pd.Series(d_ids, dtype="str"), "workers": cols["workers"],
                            "people": cols["people"], "covered_before": before, "covered_after": covered,
                            "covered_by": pd.Series(covered_by, dtype="str")},
                           geometry=demand.geometry.to_numpy(), crs=demand.crs)
    totals["shortfall"] = sol.shortfall
    return SitingResult(recommendations=recs, totals=totals, demand=dem, notes=sol.notes, shortfall=sol.shortfall)


def _check_locate_args(p, target_share, threshold_min, tie_break, objective) -> str | None:
    """Validate :func:`locate`'s arguments; return the tie-break weight name (or None)."""
    if (p is None) == (target_share is None):
        raise InputError("Give exactly one of p (number of new sites, MCLP) or target_share (coverage target, LSCP).")
    if p is not None and (not isinstance(p, (int, np.integer)) or p < 0):
        raise InputError(f"p = {p!r} must be a whole number >= 0 of new sites.")
    if target_share is not None and not 0 < target_share <= 1:
        raise InputError(f"target_share = {target_share!r} must be in (0, 1], e.g. 0.9 for 90%.")
    if threshold_min is None or threshold_min <= 0:
        raise InputError(f"threshold_min = {threshold_min!r} must be positive minutes.")
    if tie_break == "auto":
        return {"workers": "people", "people": "workers"}.get(objective) if isinstance(objective, str) else None
    if tie_break is None or tie_break in DEMAND_WEIGHTS:
        return tie_break
    raise InputError(f"tie_break must be 'auto', None, 'workers' or 'people', not {tie_break!r}.")


def _covered_by_existing(demand: gpd.GeoDataFrame, d_ids: np.ndarray, existing: gpd.GeoDataFrame | None,
                         existing_matrix: pd.DataFrame | None, settings: Settings | None,
                         threshold_min: float) -> np.ndarray:
    """Demand points already within the threshold of an existing service."""
    before = np.zeros(len(d_ids), dtype=bool)
    if existing is None or not len(existing):
        return before
    existing = geo.as_gdf(existing, "Existing services")
    e_ids = geo.ids_from_column(existing, "service_id", "Existing services")
    if existing_matrix is None:
        existing_matrix = od_matrix_straight_line(demand, existing.to_crs(demand.crs), settings, threshold_min,
                                                  origin_id="origin_id", service_id="service_id")
    return np.asarray(_coverage(d_ids, e_ids, existing_matrix, threshold_min, "existing-service").sum(axis=1)).ravel() > 0


@dataclasses.dataclass
class _Solution:
    """The solver's picks (positions in the input candidates, id order) and what it took."""

    chosen: np.ndarray
    problem: str
    notes: list[str]
    kept: np.ndarray
    groups: int
    solves: int
    shortfall: str | None = None


def _solve(cover: sparse.csr_matrix, c_ids: np.ndarray, w: np.ndarray, w2: np.ndarray, before: np.ndarray,
           coverable: np.ndarray, *, p: int | None, target_share: float | None, label: str, tie: str | None,
           time_limit: float) -> _Solution:
    """MCLP or LSCP on the reduced problem, then the lexicographic tie-breaks; exact."""
    notes: list[str] = []
    shortfall = None
    # Candidates in id order: column order is the final tie-break order.
    order = np.argsort(c_ids, kind="stable")
    relevant = (~before) & coverable & ((w > 0) | (w2 > 0))
    sub = cover[:, order].tocsc()[np.flatnonzero(relevant), :].tocsr()
    gcover, (gw, gw2), kept = _reduce(sub, [w[relevant], w2[relevant]])
    model = _Model(gcover, [gw, gw2], time_limit) if len(kept) and gw.sum() > 0 else None
    gain_max, base = float(gw.sum()), float(w[before].sum())
    # Coverage constraints ">= optimum - tol": absorbs solver round-off, far below one person.
    tol, tol2 = 1e-7 * max(1.0, gain_max), 1e-7 * max(1.0, float(gw2.sum()))
    k, z = 0, 0.0
    if target_share is not None:
        problem = f"LSCP (fewest sites for {target_share:.0%} of coverable {label})"
        need = target_share * (base + gain_max) - base
        if need <= tol:
            notes.append(f"Existing services already cover {target_share:.0%} of the coverable {label}; no new site needed.")
        elif model is None:
            notes.append("No candidate covers any demand not already covered.")
        else:
            k = model.fewest_sites([model.at_least(0, need - tol)])
            z = model.maximise(0, [model.sites(0, k)])
    else:
        problem = f"MCLP (at most {p} new sites, maximise {label} covered)"
        if p and model is None:
            shortfall = _no_model_reason(label, before, coverable, w)
            notes.append(shortfall)
        elif p:
            z = model.maximise(0, [model.sites(0, p)])
            k = model.fewest_sites([model.at_least(0, z - tol)])
            if k < p:
                shortfall = _fewer_reason(k, p, int(_reaching(sub, w[relevant])), label)
                notes.append(shortfall)
    chosen_pos: np.ndarray = np.array([], dtype=int)
    if k:
        cons = [model.at_least(0, z - tol)]
        if tie and gw2.sum() > 0:
            z2 = model.maximise(1, [model.sites(k, k), *cons])
            cons.append(model.at_least(1, z2 - tol2))
        chosen_pos = kept[model.lexmin(cons, k)]
    chosen = order[chosen_pos]  # positions in the input candidates, in id order
    if len(chosen):
        # Guard against solver numerics: the exact gain of the picks must match the optimum.
        gain = float(w[(~before) & (np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0)].sum())
        if gain < z - 2 * tol:
            raise RuntimeError(f"siting solver returned picks covering {gain} < optimum {z}; please report this input")
    return _Solution(chosen, problem, notes, kept, int(len(gw)), model.solves if model else 0, shortfall)


def _sites(n: int) -> str:
    return f"{n} site" if n == 1 else f"{n} sites"


def _reaching(sub: sparse.csr_matrix, weight: np.ndarray) -> int:
    """Candidates that reach at least one demand point of positive weight not already covered."""
    rows = np.flatnonzero(weight > 0)
    return int((np.asarray(sub[rows, :].sum(axis=0)).ravel() > 0).sum()) if len(rows) else 0


def _fewer_reason(k: int, p: int, reaching: int, label: str) -> str:
    """Why the MCLP optimum uses ``k`` < ``p`` sites: few candidates reach the gap, or ``k`` already close it."""
    if reaching < p and reaching == k:
        verb = "reaches" if reaching == 1 else "reach"
        return (f"Only {reaching} candidate{'' if reaching == 1 else 's'} {verb} {label} not already covered, "
                f"so {_sites(k)} instead of {p}.")
    return (f"{_sites(k)} {'covers' if k == 1 else 'cover'} all the {label} that {p} could; "
            "more would add nothing.")


def _no_model_reason(label: str, before: np.ndarray, coverable: np.ndarray, w: np.ndarray) -> str:
    """Why no site at all is recommended."""
    if not (w > 0).any():
        return f"There are no {label} to cover, so no site is recommended."
    if not ((w > 0) & ~before).any():
        return f"Existing services already cover all the {label}, so no new site is recommended."
    return (f"No candidate is within reach of {label} not already covered (they are beyond the threshold of every "
            "candidate), so no site is recommended.")


def _rank(cover: sparse.csr_matrix, chosen: np.ndarray, w: np.ndarray, w2: np.ndarray, cols: dict[str, np.ndarray],
          before: np.ndarray, c_ids: np.ndarray, candidates: gpd.GeoDataFrame
          ) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Rank the picks greedily by marginal objective gain (ties: id order); coverage after and by whom."""
    covered = before.copy()
    covered_by = np.where(before, "existing", "").astype(object)
    remaining = list(chosen)
    rows = []
    cover_csc = cover.tocsc()
    while remaining:
        fresh = [cover_csc[:, j].indices[~covered[cover_csc[:, j].indices]] for j in remaining]
        gains = [(float(w[f].sum()), float(w2[f].sum())) for f in fresh]
        best = remaining[gains.index(max(gains))]  # first of the best: lowest id among ties
        idx = cover_csc[:, best].indices
        new = idx[~covered[idx]]
        covered[new] = True
        covered_by[new] = c_ids[best]
        rows.append({"rank": len(rows) + 1, "candidate_id": c_ids[best],
                     "name": str(candidates["name"].iloc[best]) if "name" in candidates.columns else c_ids[best],
                     "workers_newly_covered": float(cols["workers"][new].sum()),
                     "people_newly_covered": float(cols["people"][new].sum()),
                     "objective_gain": float(w[new].sum()), "geometry": candidates.geometry.iloc[best]})
        remaining.remove(best)
    recs = gpd.GeoDataFrame(pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS), geometry="geometry", crs=candidates.crs)
    recs["rank"] = recs["rank"].astype(int)
    recs["candidate_id"] = recs["candidate_id"].astype("str")
    recs["name"] = recs["name"].astype("str")
    return recs, covered, covered_by


def _totals(sol: _Solution, label: str, threshold_min: float, cols: dict[str, np.ndarray], before: np.ndarray,
            covered: np.ndarray, coverable: np.ndarray, n_recs: int, n_candidates: int, method: str | None) -> dict:
    """The summary numbers of a siting run, per demand weight."""
    totals: dict = {"problem": sol.problem, "threshold_min": float(threshold_min), "objective": label,
                    "sites_recommended": n_recs}
    for c in DEMAND_WEIGHTS:
        v = cols[c]
        tot = float(v.sum())
        totals.update({f"{c}_total": tot, f"{c}_covered_before": float(v[before].sum()),
                       f"{c}_covered_after": float(v[covered].sum()), f"{c}_coverable": float(v[coverable].sum()),
                       f"{c}_share_before": round(float(v[before].sum()) / tot, 4) if tot else None,
                       f"{c}_share_after": round(float(v[covered].sum()) / tot, 4) if tot else None})
    totals.update({"candidates": n_candidates, "candidates_in_model": int(len(sol.kept)),
                   "demand_groups_in_model": sol.groups, "solves": sol.solves,
                   "solver": SOLVER, "method": method or "given travel-time matrix"})
    return totals
