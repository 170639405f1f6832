"""Plain per-departure RAPTOR (private): the oracle the profile scan is checked against.

Round-based public transit routing (Delling, Pajor & Werneck, "Round-Based Public Transit
Routing", Transportation Science 2015), one query per (origin, departure minute), with the
same model as :mod:`gapmap.travel.transit.csa` (pickup/drop-off flags, boarding slack, one transfer
footpath after each vehicle, no chained walks). It is deliberately a different algorithm
(forward, round-based, over trip patterns) so that agreement between the two is evidence
of correctness, and it is what the profile search is benchmarked against.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left

import numpy as np

from gapmap.travel.transit.csa import INF


@dataclasses.dataclass
class Patterns:
    """Trips grouped by identical stop/pickup/drop-off sequences, split so no trip overtakes another."""

    stops: list[list[int]]
    board: list[list[bool]]
    alight: list[list[bool]]
    dep: list[list[list[int]]]  # per pattern, per position: departure of each trip (sorted)
    arr: list[list[list[int]]]  # per pattern, per trip: arrival at each position
    at_stop: list[list[tuple[int, int]]]  # per stop: (pattern, position) pairs


def build_patterns(trip: np.ndarray, stop: np.ndarray, arr: np.ndarray, dep: np.ndarray,
                   pickup: np.ndarray, dropoff: np.ndarray, n_stops: int) -> Patterns:
    """Group day events (contiguous per trip, in stop order) into FIFO trip patterns."""
    first = np.flatnonzero(np.r_[True, trip[1:] != trip[:-1]]) if len(trip) else np.zeros(0, int)
    ends = np.r_[first[1:], len(trip)]
    groups: dict[tuple, list[tuple[list[int], list[int]]]] = {}
    for lo, hi in zip(first.tolist(), ends.tolist()):
        key = (tuple(stop[lo:hi].tolist()), tuple(pickup[lo:hi].tolist()), tuple(dropoff[lo:hi].tolist()))
        groups.setdefault(key, []).append((dep[lo:hi].tolist(), arr[lo:hi].tolist()))
    pats = Patterns([], [], [], [], [], [[] for _ in range(n_stops)])
    for key in sorted(groups):
        trips = sorted(groups[key])
        # Greedy split into sub-patterns in which every trip is no earlier than the previous at every stop.
        subs: list[list[tuple[list[int], list[int]]]] = []
        for d, a in trips:
            for sub in subs:
                pd_, pa = sub[-1]
                if all(x >= y for x, y in zip(d, pd_)) and all(x >= y for x, y in zip(a, pa)):
                    sub.append((d, a))
                    break
            else:
                subs.append([(d, a)])
        for sub in subs:
            p = len(pats.stops)
            stops, board, alight = list(key[0]), list(key[1]), list(key[2])
            pats.stops.append(stops)
            pats.board.append(board)
            pats.alight.append(alight)
            pats.dep.append([[d[i] for d, _ in sub] for i in range(len(stops))])
            pats.arr.append([a for _, a in sub])
            for pos, s in enumerate(stops):
                pats.at_stop[s].append((p, pos))
    return pats


def raptor_query(
    pats: Patterns,
    nbrs: list[list[tuple[int, int]]],
    access_stops: list[int],
    access_secs: list[int],
    t0: int,
    egress: list[int],
    egress_svc: list[int],
    max_legs: int,
    slack: int,
) -> tuple[int, int]:
    """Earliest arrival at any target leaving the origin at ``t0`` with at most ``max_legs`` vehicles.

    Returns
    -------
    arrival : int
        Seconds, INF when no transit journey exists.
    service : int
        Index of the service reached, -1 when none.
    """
    ready_prev: dict[int, int] = {}  # stop -> earliest time there, ready to board (round k-1)
    for s, w in zip(access_stops, access_secs):
        t = t0 + w
        if t < ready_prev.get(s, INF):
            ready_prev[s] = t
    ready_best = dict(ready_prev)
    marked = set(ready_prev)
    best_arr, best_svc = INF, -1
    for _ in range(max_legs):
        if not marked:
            break
        queue: dict[int, int] = {}
        for s in marked:
            for p, pos in pats.at_stop[s]:
                if pats.board[p][pos] and pos < queue.get(p, 1 << 30):
                    queue[p] = pos
        vehicle: dict[int, int] = {}
        for p in sorted(queue):
            stops, board, alight = pats.stops[p], pats.board[p], pats.alight[p]
            deps, arrs = pats.dep[p], pats.arr[p]
            cur = -1
            for pos in range(queue[p], len(stops)):
                s = stops[pos]
                if cur >= 0 and alight[pos]:
                    a = arrs[cur][pos]
                    if a < vehicle.get(s, INF):
                        vehicle[s] = a
                if board[pos]:
                    r = ready_prev.get(s)
                    if r is not None:
                        j = bisect_left(deps[pos], r + slack)
                        if j < len(deps[pos]) and (cur < 0 or j < cur):
                            cur = j
        for s, a in vehicle.items():
            e = egress[s]
            if e < INF and (a + e < best_arr or (a + e == best_arr and egress_svc[s] < best_svc)):
                best_arr, best_svc = a + e, egress_svc[s]
        ready_new = dict(ready_prev)
        marked = set()
        for v, a in vehicle.items():
            for w, f in nbrs[v]:
                t = a + f
                if t < ready_new.get(w, INF):
                    ready_new[w] = t
                    if t < ready_best.get(w, INF):
                        ready_best[w] = t
                        marked.add(w)
        ready_prev = ready_new
    return best_arr, best_svc
