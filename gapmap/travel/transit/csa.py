"""Profile Connection Scan (private): all departure times at once, towards a set of targets.

This is the profile variant of the Connection Scan Algorithm (Dibbelt, Pajor, Strasser &
Wagner, "Connection Scan Algorithm", ACM JEA 23, 2018) run *backwards from the services*:
connections are scanned once by decreasing departure time, and every stop gets a Pareto
profile "leave this stop at or after time t -> earliest arrival at the nearest service of the
category". One scan per category answers every origin and every departure minute of the
window, instead of one search per (origin, minute). Transfer limits are handled as in the
paper's "limited number of transfers" variant: each profile entry is a vector whose k-th
component is the earliest arrival using at most k+1 vehicles.

Model (shared with the per-departure oracle in :mod:`gapmap.travel.transit.raptor`):

- a vehicle is boarded at stop ``u`` only if ``pickup_type != 1`` there, and left at ``v``
  only if ``drop_off_type != 1``;
- boarding needs ``slack`` seconds at the stop before departure (R5 uses 60 s, for schedule
  noise), including the first boarding;
- ties in arrival time go to the lower service index, everywhere, so results are deterministic;
- after leaving a vehicle, one transfer footpath (incl. a zero-length one to the same stop)
  may be walked before the next boarding; footpaths are not chained with each other, nor with
  the access walk from the origin or the egress walk to the service.

The scan loop is plain Python over lists: it is sequential by nature and numpy per-element
calls on 4-vectors cost more than they save. Queries over origins x minutes are vectorised.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right

import numpy as np

INF = 1 << 40  # "never", kept integral so all times stay int64


@dataclasses.dataclass(frozen=True)
class Connections:
    """Elementary connections (one vehicle between two consecutive stops), any order."""

    trip: np.ndarray
    u: np.ndarray
    v: np.ndarray
    dep: np.ndarray
    arr: np.ndarray
    seq: np.ndarray  # position of the connection within its trip (tie-break)
    board: np.ndarray  # bool: pickup allowed at u
    alight: np.ndarray  # bool: drop-off allowed at v

    def __len__(self) -> int:
        return len(self.trip)


@dataclasses.dataclass(frozen=True)
class Footpaths:
    """Transfer footpaths in CSR form: from ``v`` to ``to[ptr[v]:ptr[v+1]]`` in ``secs`` seconds."""

    ptr: np.ndarray
    to: np.ndarray
    secs: np.ndarray

    def lists(self) -> list[list[tuple[int, int]]]:
        to, secs, ptr = self.to.tolist(), self.secs.tolist(), self.ptr.tolist()
        return [list(zip(to[ptr[i]:ptr[i + 1]], secs[ptr[i]:ptr[i + 1]])) for i in range(len(ptr) - 1)]


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Per stop, step function "ready to board at >= key -> arrival at target, reached service".

    Entries of stop ``s`` are ``keys[start[s]:start[s+1]]`` ascending; the value for a ready time
    ``q`` is the first entry with ``key >= q`` (entries are cumulative minima, so that entry is
    the best of all later ones too). ``arr`` / ``svc`` hold the at-most-``max_legs`` component.
    """

    start: np.ndarray
    keys: np.ndarray
    arr: np.ndarray
    svc: np.ndarray

    def query(self, stops: np.ndarray, ready: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrival time and service index for being at ``stops`` at times ``ready`` (broadcast).

        Parameters
        ----------
        stops : int array, shape (n,) or (n, 1)
        ready : int array broadcastable with ``stops``, seconds.

        Returns
        -------
        arrival : int64 array (INF when no journey), service : int64 array (-1 when none).
        """
        stops, ready = np.broadcast_arrays(np.asarray(stops, np.int64), np.asarray(ready, np.int64))
        lo, hi = self.start[stops], self.start[stops + 1]
        # One searchsorted over the concatenation: shift each stop's keys into its own band.
        band = np.int64(1 << 22)  # > any time in a day window (about 48 days of seconds)
        comp_keys = self._banded(band)
        q = stops * band + np.clip(ready, -band // 4, band // 2)
        idx = np.searchsorted(comp_keys, q, side="left")
        ok = (idx < hi) & (idx >= lo)
        safe = np.where(ok, idx, 0)
        if len(self.arr) == 0:
            return np.full(stops.shape, INF, np.int64), np.full(stops.shape, -1, np.int64)
        return np.where(ok, self.arr[safe], INF), np.where(ok, self.svc[safe], -1)

    def _banded(self, band: np.int64) -> np.ndarray:
        cached = self.__dict__.get("_banded_keys")
        if cached is None:
            owner = np.repeat(np.arange(len(self.start) - 1, dtype=np.int64), np.diff(self.start))
            cached = owner * band + self.keys
            object.__setattr__(self, "_banded_keys", cached)
        return cached


def profile_scan(
    conns: Connections,
    n_stops: int,
    footpaths: Footpaths,
    egress_secs: np.ndarray,
    egress_svc: np.ndarray,
    max_legs: int,
    slack: int,
) -> Profiles:
    """Backward profile scan towards the targets described by the egress arrays.

    A documented hot loop: one pass over every connection of the day on plain Python lists (faster
    per element than numpy indexing), deliberately kept in one function, since helper calls per
    connection would cost more than the scan itself.

    Parameters
    ----------
    conns : Connections
        Connections of the day, already restricted to the time range of interest.
    n_stops : int
    footpaths : Footpaths
        Transfer walks, including each stop to itself at 0 s.
    egress_secs : int array (n_stops,)
        Walk from each stop to its nearest service of the category; INF when none in reach.
    egress_svc : int array (n_stops,)
        Index of that service; -1 when none.
    max_legs : int
        Maximum number of vehicles (max_transfers + 1), >= 1.
    slack : int
        Seconds needed at a stop before boarding.
    """
    L = max_legs
    # Latest departure first. On equal departures, later arrivals first, then later legs of a trip:
    # that puts a zero-minute connection after those leaving its arrival stop at that minute.
    order = np.lexsort((-conns.seq, -conns.arr, -conns.dep))
    c_trip = conns.trip[order].tolist()
    c_u = conns.u[order].tolist()
    c_v = conns.v[order].tolist()
    c_dep = conns.dep[order].tolist()
    c_arr = conns.arr[order].tolist()
    c_board = conns.board[order].tolist()
    c_alight = conns.alight[order].tolist()
    egress = egress_secs.tolist()
    esvc = egress_svc.tolist()
    nbrs = footpaths.lists()

    inf_vec = (INF,) * L
    none_vec = (-1,) * L
    n_trips = int(conns.trip.max()) + 1 if len(conns) else 0
    trip_t: list[tuple[int, ...]] = [inf_vec] * n_trips
    trip_s: list[tuple[int, ...]] = [none_vec] * n_trips
    negkeys: list[list[int]] = [[] for _ in range(n_stops)]  # -key, ascending (keys are appended decreasing)
    vals: list[list[tuple[int, ...]]] = [[] for _ in range(n_stops)]
    svcs: list[list[tuple[int, ...]]] = [[] for _ in range(n_stops)]
    rng = range(L)
    rng1 = range(1, L)

    for i in range(len(c_trip)):
        z = c_trip[i]
        t_vec = trip_t[z]
        s_vec = trip_s[z]
        if c_alight[i]:
            a = c_arr[i]
            v = c_v[i]
            best = list(t_vec)
            bsvc = list(s_vec)
            changed = False
            e = egress[v]
            if e < INF:
                t1 = a + e
                sv = esvc[v]
                for k in rng:
                    if t1 < best[k] or (t1 == best[k] and sv < bsvc[k]):
                        best[k] = t1
                        bsvc[k] = sv
                        changed = True
            if L > 1:
                for w, f in nbrs[v]:
                    nk = negkeys[w]
                    if not nk:
                        continue
                    j = bisect_right(nk, -(a + f)) - 1
                    if j < 0:
                        continue
                    pv = vals[w][j]
                    ps = svcs[w][j]
                    for k in rng1:
                        x = pv[k - 1]
                        if x < best[k] or (x == best[k] and ps[k - 1] < bsvc[k]):
                            best[k] = x
                            bsvc[k] = ps[k - 1]
                            changed = True
            if changed:
                t_vec = tuple(best)
                s_vec = tuple(bsvc)
                trip_t[z] = t_vec
                trip_s[z] = s_vec
        if c_board[i] and t_vec[L - 1] < INF:
            u = c_u[i]
            key = c_dep[i] - slack
            nk = negkeys[u]
            if nk:
                last = vals[u][-1]
                lsvc = svcs[u][-1]
                new = list(last)
                nsvc = list(lsvc)
                improved = False
                for k in rng:
                    if t_vec[k] < new[k] or (t_vec[k] == new[k] and s_vec[k] < nsvc[k]):
                        new[k] = t_vec[k]
                        nsvc[k] = s_vec[k]
                        improved = True
                if not improved:
                    continue
                if nk[-1] == -key:  # same ready time: the merged entry replaces the last one
                    vals[u][-1] = tuple(new)
                    svcs[u][-1] = tuple(nsvc)
                else:
                    nk.append(-key)
                    vals[u].append(tuple(new))
                    svcs[u].append(tuple(nsvc))
            else:
                nk.append(-key)
                vals[u].append(t_vec)
                svcs[u].append(s_vec)

    counts = np.fromiter((len(k) for k in negkeys), np.int64, n_stops)
    start = np.r_[0, np.cumsum(counts)].astype(np.int64)
    keys = np.empty(start[-1], np.int64)
    arr = np.empty(start[-1], np.int64)
    svc = np.empty(start[-1], np.int64)
    for s in np.flatnonzero(counts).tolist():
        lo, hi = start[s], start[s + 1]
        keys[lo:hi] = [-x for x in reversed(negkeys[s])]
        arr[lo:hi] = [x[L - 1] for x in reversed(vals[s])]
        svc[lo:hi] = [x[L - 1] for x in reversed(svcs[s])]
    return Profiles(start, keys, arr, svc)
