"""The union step of :func:`gapmap.travel.road.isochrones.isochrones`: chained parts, nested thresholds.

The polygon of a threshold is the set of points within the buffer distance of the reached road parts. GEOS
spends most of the time (Ottawa RNF, hospital 15 min: 26,621 parts, ~1.07M buffer vertices) overlaying
tens of thousands of overlapping capsules. These keep the set and shrink that work (threads: the wall time only):

- **chains**: reached parts that meet end to end at a road node and continue almost straight (turn of at most
  :data:`MAX_TURN_DEG`) are joined into one line, found by graph topology (numpy pairing of part ends at
  each node, list ranking along the pairings) instead of GEOS noding. The
  buffer of a chain is the union of its pieces' buffers, without the pair of round caps at every joint that
  the union would otherwise intersect and dissolve: 26,621 parts -> 8,670 lines (1.07M -> 0.48M buffer vertices),
  buffer + union 2.0-2.1x less CPU (``benchmarks/README.md``). A joint becomes a round join instead of two round
  caps; both are GEOS polygons inscribed in the same circle, so the sets differ only within the arcs' sagitta
  (0.48 m for 100 m; measured with nesting: 6e-7 to 1.05e-6 of the area on Ottawa, up to 1.1e-6 on Helsinki's
  small polygons). A 30-degree limit was faster but reached 4.6e-6 on Helsinki; any continuation (180 degrees)
  was slower (long, self-overlapping lines);
- **nesting**: thresholds nest, so the polygon for threshold ``k`` is the polygon for ``k-1`` unioned (in one
  overlay) with the union of the chains of the parts (and lone points) that are new at ``k``, a part being new when its ``(segment, s0, s1)``
  was not a part at ``k-1`` (an extended partial segment is new). Each part at ``k-1`` lies inside a part at
  ``k``, so the set is the same up to slivers where the smaller part's approximated round cap pokes past the
  larger one's approximated join (2.5e-9 of the area on Ottawa, 30 min); the result keeps them, so nesting
  holds by construction, up to the overlay's rounding.
- **shared parts**: the categories reach mostly the same roads (Ottawa, 15 min: 26,279 of hospital's 26,621 and
  primary care's 30,494 parts), so at each threshold the new parts all categories share are unioned once and
  each category's polygon is that union plus its own new parts (Ottawa 1.4-1.5x less CPU than one union per
  category). The same sets, up to the same join and overlay slivers;
- **threads**: GEOS releases the GIL, so the unions of the pieces (shared parts, each category's new parts at
  each threshold) run as independent tasks on a thread pool and only the nesting waits for them. Each task's
  input is fixed before any runs, so the bytes do not depend on the number of threads or on timing; the CPU
  time does not shrink, the wall time does when a second core is free.

Measured and left out (``benchmarks/README.md``): ``disjoint_subset_union_all``, a Hilbert order or a
neighbours-first union tree of the buffers, ``union_all(grid_size=...)``, simplifying the lines first (GEOS
simplifies buffer input itself), flat caps (no cheaper: the overlaps cost, not the caps); buffering one MultiLineString or the ``line_merge`` of all
lines (GEOS nodes every offset curve at once: 158-227 s), per-tile unions, dropping parts inside a cell grid's proven core, and a face
decomposition of the reached graph (``polygonize``; faces minus their inward buffer as a coverage): each no
faster than this on Ottawa, because the buffers of the parts on the rim (dead ends, the outer edge) still need
a general union.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gapmap.travel.road import graph as _graph


MAX_TURN_DEG = 10.0
"""Largest change of direction (degrees) at a node through which two reached parts are chained."""


Parts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""One threshold's reached parts of one category: ``(seg, s0, s1, ends, alone)``, as from ``_reachable_parts``."""


def nested_polygons(
    geoms: np.ndarray, point_xy: np.ndarray, buffer_m: float, parts: Sequence[Sequence[Parts]], workers: int = 1
) -> list[list[shapely.Geometry]]:
    """The union of the buffers of each category's parts at each threshold, thresholds nested.

    Parameters
    ----------
    geoms : ndarray of LineString
        Road segment geometries, indexed by segment row.
    point_xy : ndarray, shape (n, 2)
        Coordinates of the (augmented) road nodes that part ends and lone points refer to.
    buffer_m : float
        Buffer distance.
    parts : sequence of sequences of Parts
        ``parts[c][k]``: the parts ``(seg, s0, s1)`` of category ``c`` at its ``k``-th (ascending) threshold,
        ``ends`` the nodes at the start and end of each part (``-1`` inside a segment) and ``alone`` the
        lone reached nodes (buffered as points).
    workers : int
        Threads for the GEOS work (it releases the GIL). The result does not depend on it.

    Returns
    -------
    list of lists of Geometry
        ``polygons[c][k]``.
    """
    n_cat = len(parts)
    if n_cat == 0:
        return []
    empty_points = np.empty(0, dtype=np.int64)
    # Each threshold adds only what is new: parts whose (segment, s0, s1) was not added before (an extended
    # partial part is new) and lone points not added before.
    new: list[list[tuple[np.ndarray, ...]]] = []
    for c in range(n_cat):
        known = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
        mine, seen_points = [], empty_points
        for seg, s0, s1, ends, alone in parts[c]:
            fresh = ~_seen(known, (seg, s0, s1))
            mine.append((seg[fresh], s0[fresh], s1[fresh], ends[fresh], alone[~np.isin(alone, seen_points)]))
            known = tuple(np.concatenate([a, b[fresh]]) for a, b in zip(known, (seg, s0, s1)))
            seen_points = np.union1d(seen_points, alone)
        new.append(mine)
    # The new parts that every category shares at a threshold are unioned once (Ottawa, 15 min: 26,279 of
    # hospital's 26,621 and primary care's 30,494 parts; 30 min: 2,480 of 6,639 and 3,256 new ones).
    shared: list[tuple[np.ndarray, ...] | None] = []
    for k in range(len(parts[0]) if n_cat > 1 else 0):
        seg, s0, s1, ends, _ = new[0][k]
        mask = np.ones(len(seg), dtype=bool)
        for c in range(1, n_cat):
            mask &= _seen(new[c][k][:3], (seg, s0, s1))
        if not mask.any():
            shared.append(None)
            continue
        common = (seg[mask], s0[mask], s1[mask])
        shared.append((*common, ends[mask], empty_points))
        for c in range(n_cat):
            keep = ~_seen(common, new[c][k][:3])
            new[c][k] = (*(a[keep] for a in new[c][k][:4]), new[c][k][4])

    def piece(seg: np.ndarray, s0: np.ndarray, s1: np.ndarray, ends: np.ndarray, points: np.ndarray) -> shapely.Geometry | None:
        lines = _chains(geoms, seg, s0, s1, ends, point_xy)
        shapes = np.concatenate([shapely.buffer(lines, buffer_m), shapely.buffer(shapely.points(point_xy[points]), buffer_m)])
        return shapely.union_all(shapes) if len(shapes) else None

    def join(a: shapely.Geometry | None, b: shapely.Geometry | None) -> shapely.Geometry | None:
        return a if b is None else b if a is None else shapely.union(a, b)

    def nest(common: list[list[Future]], pieces: list[Future]) -> list[shapely.Geometry]:
        prev, out = None, []
        for f_common, f in zip(common, pieces):
            shared_k = None
            for half in f_common:
                shared_k = join(shared_k, half.result())
            # One overlay with the (large) previous polygon: inside union_all it would join the cascade at a
            # leaf and be re-overlaid at every level above (Ottawa, 60 min after 30: 1.24 s -> 0.28 s).
            prev = join(prev, join(shared_k, f.result()))
            out.append(prev if prev is not None else shapely.Polygon())
        return out

    # Every piece is independent of the others; only the nesting waits for them. Tasks are submitted in
    # dependency order, so with a FIFO pool a waiting task's inputs are already running or done.
    with _Pool(workers) as pool:
        common = [[pool.submit(piece, *h) for h in _halves(geoms, args)] if args is not None else [] for args in shared]
        common = common or [[] for _ in parts[0]]
        pieces = [[pool.submit(piece, *args) for args in mine] for mine in new]
        nests = [pool.submit(nest, common, pieces[c]) for c in range(n_cat)]
        return [f.result() for f in nests]


SPLIT_PARTS = 10_000
"""Shared pieces with at least this many parts are unioned as a west and an east half (two tasks)."""


def _halves(geoms: np.ndarray, args: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, ...]]:
    """``args`` (parts, ``points``) whole, or split at the median of the parts' west edge, parts kept in order.

    The big shared piece (Ottawa 15 min: 26k parts, ~1 s) is the longest task; its halves run on two threads
    and meet in one overlay. Chains stop at the split (two caps instead of a join: the direct union's shape).
    """
    seg = args[0]
    if len(seg) < SPLIT_PARTS:
        return [args]
    west = shapely.bounds(geoms[seg])[:, 0]
    order = np.argsort(west, kind="stable")
    halves = [np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2:])]
    return [(*(a[h] for a in args[:4]), args[4] if i == 0 else args[4][:0]) for i, h in enumerate(halves)]


class _Pool:
    """A thread pool, or the calling thread when ``workers <= 1`` (same order of work either way)."""

    def __init__(self, workers: int) -> None:
        self._ex = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[..., object], *args: object) -> Future:
        if self._ex is not None:
            return self._ex.submit(fn, *args)
        f: Future = Future()
        f.set_result(fn(*args))
        return f


def _seen(known: tuple[np.ndarray, ...], keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Which rows of the key columns ``keys`` (exact values) also occur in ``known``."""
    cols = [np.concatenate([a, b]) for a, b in zip(known, keys)]
    tag = np.r_[np.zeros(len(known[0]), dtype=np.int8), np.ones(len(keys[0]), dtype=np.int8)]
    order = np.lexsort([tag] + cols[::-1])
    step = np.zeros(len(order), dtype=bool)  # a new group of equal keys starts here
    step[:1] = True
    for c in cols:
        step[1:] |= c[order][1:] != c[order][:-1]
    group = np.cumsum(step) - 1
    has_known = np.zeros(group[-1] + 1 if len(group) else 0, dtype=bool)
    has_known[group[tag[order] == 0]] = True
    out = np.empty(len(keys[0]), dtype=bool)
    mine = tag[order] == 1
    out[order[mine] - len(known[0])] = has_known[group[mine]]
    return out


def _chains(
    geoms: np.ndarray, seg: np.ndarray, s0: np.ndarray, s1: np.ndarray, ends: np.ndarray, point_xy: np.ndarray
) -> np.ndarray:
    """Lines covering exactly the parts ``(seg, s0, s1)``, parts meeting almost straight at a node joined.

    Returns
    -------
    ndarray of LineString
        In a deterministic order (by the first end of each chain).
    """
    if len(seg) == 0:
        return np.empty(0, dtype=object)
    coords, owner = _part_coords(geoms[seg], s0, s1, ends, point_xy)
    first, last = _first_last(owner, len(seg))
    # substrings can keep a vertex a rounding error away from an end (its distance along the line and the
    # line's length are summed differently); it would hide the direction the part leaves the node in.
    inner = last - first >= 2
    drop = np.zeros(len(owner), dtype=bool)
    drop[first[inner] + 1] = np.hypot(*(coords[first[inner] + 1] - coords[first[inner]]).T) < 1e-9
    drop[last[inner] - 1] |= np.hypot(*(coords[last[inner] - 1] - coords[last[inner]]).T) < 1e-9
    if drop.any():
        coords, owner = coords[~drop], owner[~drop]
        first, last = _first_last(owner, len(seg))
    partner = _pair_ends(coords, first, last, ends)
    rows, chain = _walk(partner, first, last)
    return shapely.linestrings(coords[rows], indices=chain)


def _part_coords(
    lines: np.ndarray, s0: np.ndarray, s1: np.ndarray, ends: np.ndarray, point_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (and the part of each row) of the parts of ``lines`` between fractions ``s0`` and ``s1``.

    The vertices of :func:`gapmap.travel.road.graph.substrings` (same arithmetic, same bits), except that an
    end at a node takes the node's exact coordinates, so that chained parts meet exactly. Only the ends
    inside a segment are interpolated (GEOS ``line_interpolate_point`` was a third of the chains' time).

    Returns
    -------
    coords : ndarray, shape (rows, 2)
    owner : ndarray of int
        The part of each row, ascending.
    """
    n = len(lines)
    coords, owner, cum, total = _graph.vertex_distances(lines)
    d0, d1 = s0 * total, s1 * total
    inner = np.flatnonzero((cum > d0[owner]) & (cum < d1[owner]))
    tips = []
    for k, d in ((0, d0), (1, d1)):
        xy = np.empty((n, 2))
        at = ends[:, k] >= 0
        xy[at] = point_xy[ends[at, k]]
        xy[~at] = shapely.get_coordinates(shapely.line_interpolate_point(lines[~at], d[~at]))
        tips.append(xy)
    count = np.bincount(owner[inner], minlength=n) + 2
    start = np.cumsum(count) - count
    out = np.empty((int(count.sum()), 2))
    out[start] = tips[0]
    out[start + count - 1] = tips[1]
    rank = np.arange(len(inner)) - (np.cumsum(count - 2) - (count - 2))[owner[inner]]
    out[start[owner[inner]] + 1 + rank] = coords[inner]
    return out, np.repeat(np.arange(n), count)


def _first_last(owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the first and last coordinate of each of ``n`` lines, from the owner of each coordinate row."""
    first = np.searchsorted(owner, np.arange(n))
    return first, np.r_[first[1:], len(owner)] - 1


def _walk(partner: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Follow the pairings through the parts: coordinate rows of each chain in order, and its chain number.

    Part ``p`` is entered through end ``2p`` (then walked forwards) or ``2p + 1`` (backwards); the part
    before it was entered through ``partner[entry] ^ 1``. List ranking by pointer jumping gives every entry
    its chain's first entry (a free end) and its rank; of the two walking directions of a chain, the one
    starting at the lower free end is kept. A closed chain is opened at the start of its lowest part. A
    joint's shared coordinate is kept once. (``line_merge`` would also join unpaired ends that happen to
    meet, i.e. sharp turns.)
    """
    n = len(first)
    partner = partner.copy()
    linked = np.flatnonzero(partner >= 0)
    links = coo_matrix((np.ones(len(linked)), (linked // 2, partner[linked] // 2)), shape=(n, n))
    _, comp = connected_components(links, directed=False)
    free = partner < 0
    closed = np.bincount(comp, weights=free[0::2] | free[1::2], minlength=comp.max() + 1 if n else 0) == 0
    if closed.any():
        in_closed = np.flatnonzero(closed[comp])
        opened = in_closed[np.unique(comp[in_closed], return_index=True)[1]]  # lowest part of each closed chain
        partner[partner[2 * opened]] = -1
        partner[2 * opened] = -1
    entry = np.arange(2 * n)
    prev = np.where(partner >= 0, partner ^ 1, -1)
    rank = (prev >= 0).astype(np.int64)
    head = np.where(prev >= 0, prev, entry)
    anc = prev.copy()
    active = np.flatnonzero(anc >= 0)
    for _ in range(2 * n + 1):  # log2(chain length) rounds; the bound guards against a cycle left closed
        if not active.size:
            break
        up = anc[active]
        rank[active] += rank[up]
        head[active] = head[up]
        anc[active] = anc[up]
        active = active[anc[active] >= 0]
    if active.size:  # pragma: no cover - every closed chain is opened above
        raise RuntimeError("isochrone chains: a closed chain of road parts was not opened")
    lowest_free = np.full(comp.max() + 1 if n else 0, 2 * n, dtype=np.int64)
    starts = np.flatnonzero(partner < 0)
    np.minimum.at(lowest_free, comp[starts // 2], starts)
    keep = np.flatnonzero(head == lowest_free[comp[entry // 2]])
    keep = keep[np.lexsort((rank[keep], head[keep]))]
    part, forward, skip = keep // 2, keep % 2 == 0, (rank[keep] > 0).astype(np.int64)
    count = last[part] - first[part] + 1 - skip
    local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)  # 0.. within each element
    rows = np.where(np.repeat(forward, count), np.repeat(first[part] + skip, count) + local,
                    np.repeat(last[part] - skip, count) - local)
    chain = np.repeat(np.unique(head[keep], return_inverse=True)[1], count)
    return rows, chain


def _pair_ends(coords: np.ndarray, first: np.ndarray, last: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Pair part ends at each node, straightest continuation first, turns up to :data:`MAX_TURN_DEG`.

    End ``2 * i`` is the start of part ``i``, ``2 * i + 1`` its end. Greedy per node: the pair with the
    smallest turn is taken, then the straightest pair of the remaining ends, and so on (a node has at most
    a handful of ends, so a few vectorised rounds).

    Returns
    -------
    ndarray of int
        For each end, the end it is paired with, or -1.
    """
    n = len(first)
    node = ends.reshape(-1)  # row-major: start, end of part 0, then part 1, ...
    away = np.empty((2 * n, 2))  # direction from the node into the part
    away[0::2] = coords[first + 1] - coords[first]
    away[1::2] = coords[last - 1] - coords[last]
    norm = np.hypot(away[:, 0], away[:, 1])
    away /= np.where(norm > 0, norm, 1.0)[:, None]  # zero-length: zero vector, never paired
    at = np.flatnonzero(node >= 0)
    at = at[np.argsort(node[at], kind="stable")]
    by_node = node[at]
    pi_list, pj_list = [], []
    for k in range(1, len(at)):
        same = np.flatnonzero(by_node[k:] == by_node[:-k])
        if same.size == 0:
            break
        pi_list.append(at[same])
        pj_list.append(at[same + k])
    partner = np.full(2 * n, -1, dtype=np.int64)
    if not pi_list:
        return partner
    pi, pj = np.concatenate(pi_list), np.concatenate(pj_list)
    cos = np.einsum("ij,ij->i", away[pi], away[pj])  # -1: straight on
    ok = (pi // 2 != pj // 2) & (cos <= -np.cos(np.radians(MAX_TURN_DEG)))
    pi, pj, cos = pi[ok], pj[ok], cos[ok]
    order = np.lexsort((pj, pi, cos))
    pi, pj = pi[order], pj[order]
    while pi.size:
        _, best = np.unique(node[pi], return_index=True)  # straightest remaining pair per node
        partner[pi[best]], partner[pj[best]] = pj[best], pi[best]
        free = (partner[pi] < 0) & (partner[pj] < 0)
        pi, pj = pi[free], pj[free]
    return partner
