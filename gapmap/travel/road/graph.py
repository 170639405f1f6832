"""Array helpers for :mod:`gapmap.travel.road.network`: sparse graphs, twin edges, tree sums, substrings.

Everything here works on whole numpy arrays; nothing loops over nodes, edges or sources.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely


@dataclasses.dataclass(frozen=True)
class DirectedEdges:
    """A directed graph as sorted ``(row, col)`` arrays with two weights per entry.

    Built by :func:`directed_edges`; parallel edges are already merged (minimum time, with
    the length of that fastest edge), so entry ``k`` is *the* edge ``rows[k] -> cols[k]``.
    """

    n: int
    rows: np.ndarray
    cols: np.ndarray
    time: np.ndarray
    length: np.ndarray

    @property
    def indptr(self) -> np.ndarray:
        return np.searchsorted(self.rows, np.arange(self.n + 1)).astype(np.int64)

    def csr(self, weight: str = "time") -> sp.csr_matrix:
        """CSR matrix of ``weight``; explicit zeros are kept (scipy treats them as edges)."""
        data = self.time if weight == "time" else self.length
        return sp.csr_matrix((data, self.cols, self.indptr), shape=(self.n, self.n))

    def reversed(self) -> "DirectedEdges":
        """The same edges pointing the other way (the CSR transpose).

        The entries are unique and sorted by ``(row, col)``, so no merge or four-key sort
        (:func:`directed_edges`) is needed: scipy's CSR -> CSC conversion (a counting sort,
        O(edges + nodes)) of the entry numbers gives the order of the reversed entries, and
        both weights follow it. At 1M nodes this takes ~0.4 s against ~10 s for a re-sort
        and ~1 s for ``np.argsort(cols, kind="stable")``.
        """
        entry = np.arange(self.rows.size, dtype=np.int64)
        t = sp.csc_matrix((entry, self.cols, self.indptr), shape=(self.n, self.n)).tocsr()
        order = t.data
        return DirectedEdges(
            n=self.n, rows=self.cols[order], cols=self.rows[order], time=self.time[order], length=self.length[order]
        )

    @functools.cached_property
    def keys(self) -> np.ndarray:
        """``row * n + col`` of each entry: sorted, as the entries are."""
        return self.rows.astype(np.int64) * self.n + self.cols

    def lookup(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Positions of the entries ``rows[i] -> cols[i]`` (all must exist)."""
        return np.searchsorted(self.keys, rows.astype(np.int64) * self.n + cols)

    def extended(
        self, n: int, rows: np.ndarray, cols: np.ndarray, time: np.ndarray, length: np.ndarray
    ) -> "DirectedEdges":
        """These edges plus new ones on a graph grown to ``n`` nodes.

        The new edges may repeat each other (the fastest is kept) but not an existing
        ``(row, col)``. Merging by insertion keeps this O(edges) instead of a full re-sort.
        """
        new = directed_edges(n, rows, cols, time, length)
        at = np.searchsorted(self.rows.astype(np.int64) * n + self.cols, new.keys)
        return DirectedEdges(
            n=int(n),
            rows=np.insert(self.rows, at, new.rows),
            cols=np.insert(self.cols, at, new.cols),
            time=np.insert(self.time, at, new.time),
            length=np.insert(self.length, at, new.length),
        )


def directed_edges(
    n: int, rows: np.ndarray, cols: np.ndarray, time: np.ndarray, length: np.ndarray
) -> DirectedEdges:
    """Sort edges by ``(row, col)`` and keep, of parallel edges, the fastest one.

    Ties in time are broken by the shorter length so results are deterministic.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    time = np.asarray(time, dtype=np.float64)
    length = np.asarray(length, dtype=np.float64)
    order = np.lexsort((length, time, cols, rows))
    rows, cols, time, length = rows[order], cols[order], time[order], length[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return DirectedEdges(
        n=int(n),
        rows=rows[first].astype(np.int32),
        cols=cols[first].astype(np.int32),
        time=time[first],
        length=length[first],
    )


def pair_twins(
    u: np.ndarray, v: np.ndarray, length: np.ndarray, oneway: np.ndarray, tol_m: float = 1.0
) -> np.ndarray:
    """Pair each two-way directed edge ``u -> v`` with its reverse ``v -> u``.

    OSMnx stores a two-way street as two directed edges with reversed geometry. Within each
    unordered node pair, the forward (``u < v``) and backward edges not flagged one-way are
    matched in order of length and accepted when the lengths agree within ``tol_m``.

    Returns
    -------
    twin : ndarray of int
        For each edge, the index of its matched twin, or -1 (the edge then stands alone as
        a one-way segment).
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    length = np.asarray(length, dtype=np.float64)
    cand = ~np.asarray(oneway, dtype=bool) & (u != v)
    frame = pd.DataFrame(
        {"lo": np.minimum(u, v), "hi": np.maximum(u, v), "length": length, "edge": np.arange(len(u))}
    )

    def ranked(mask: np.ndarray) -> pd.DataFrame:
        part = frame[mask].sort_values(["lo", "hi", "length", "edge"], kind="stable")
        return part.assign(rank=part.groupby(["lo", "hi"], sort=False).cumcount())

    pairs = ranked(cand & (u < v)).merge(
        ranked(cand & (u > v)), on=["lo", "hi", "rank"], suffixes=("_f", "_b")
    )
    pairs = pairs[(pairs["length_f"] - pairs["length_b"]).abs() <= tol_m]
    # A two-way loop (u == v) is two edges with the same ends: pair them up by length.
    loops = ranked(~np.asarray(oneway, dtype=bool) & (u == v))
    loops = loops.assign(pair=loops["rank"] // 2, side=loops["rank"] % 2)
    lp = loops[loops["side"] == 0].merge(loops[loops["side"] == 1], on=["lo", "hi", "pair"], suffixes=("_f", "_b"))
    pairs = pd.concat([pairs, lp[(lp["length_f"] - lp["length_b"]).abs() <= tol_m]])
    twin = np.full(len(u), -1, dtype=np.int64)
    f, b = pairs["edge_f"].to_numpy(), pairs["edge_b"].to_numpy()
    twin[f], twin[b] = b, f
    return twin


def segment_rows(u: np.ndarray, v: np.ndarray, twin: np.ndarray) -> np.ndarray:
    """Mask of the edges that stand for a road segment: one edge of each twin pair."""
    own = np.arange(len(u))
    return (twin < 0) | (u < v) | ((u == v) & (own < twin))


def tree_sums(pred: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Sum ``step`` along each node's predecessor chain to its root (pointer jumping).

    ``pred[i]`` is the parent of ``i`` or negative for roots and unreached nodes; ``step[i]``
    the value of the edge ``pred[i] -> i``. Runs in O(n log depth) vectorised steps.
    """
    acc = np.where(pred >= 0, step, 0.0).astype(np.float64)
    anc = np.where(pred >= 0, pred, -1).astype(np.int64)
    active = np.flatnonzero(anc >= 0)
    while active.size:
        parent = anc[active]
        acc[active] += acc[parent]
        anc[active] = anc[parent]
        active = active[anc[active] >= 0]
    return acc


def substrings(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Parts of ``lines`` between fractions ``start`` and ``end`` of their length.

    Vectorised equivalent of ``shapely.ops.substring(line, s, e, normalized=True)`` for
    ``0 <= s < e <= 1``; keeps the original vertices strictly inside the range.
    """
    lines = np.asarray(lines, dtype=object)
    n = len(lines)
    if n == 0:
        return np.empty(0, dtype=object)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    total = shapely.length(lines)
    seg = np.zeros(len(coords))
    same = owner[1:] == owner[:-1]
    seg[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(seg)
    first = np.searchsorted(owner, np.arange(n))
    cum -= cum[first][owner]  # distance of each vertex from its line's start
    d0, d1 = start * total, end * total
    inner = (cum > d0[owner]) & (cum < d1[owner])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, d0))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, d1))
    ids = np.concatenate([np.arange(n), owner[inner], np.arange(n)])
    pos = np.concatenate([np.zeros(n), np.ones(inner.sum()), np.full(n, 2.0)])
    along = np.concatenate([d0, cum[inner], d1])
    xy = np.concatenate([p0, coords[inner], p1])
    order = np.lexsort((pos, along, ids))
    return shapely.linestrings(xy[order], indices=ids[order])
