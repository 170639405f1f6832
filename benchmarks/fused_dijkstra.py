"""Would a compiled one-pass search close the Ottawa floor gap? (run on demand; needs ``pip install numba``)

    python benchmarks/fused_dijkstra.py

gapmap's nearest-service call on Ottawa's RNF is ~2.1x the bare ``csgraph.dijkstra(min_only=True)``
call (``bench_ottawa.py``): scipy gives the times, and gapmap then needs which service is nearest
(``return_predecessors``) and the road distance along the tree (an edge lookup and a pointer-jumping
sum). This measures the alternative the issue-18 note names: one compiled multi-source Dijkstra
(binary heap, numba) that carries time, distance and source in the same pass, on the same reversed
augmented CSR arrays gapmap builds. It checks that the kernel gives scipy's times exactly, gapmap's
distances (1e-9) and gapmap's nearest services, and prints its time against the floor and against
scipy with predecessors. numba is not a gapmap dependency: this is an experiment, not a code path.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_network import interleaved  # noqa: E402  (this folder is on sys.path)
from bench_ottawa import CATEGORIES, ottawa_inputs  # noqa: E402  (the same Ottawa inputs as bench_ottawa.py)
from gapmap.travel.road import network as nw  # noqa: E402


def _kernel():
    import numba as nb

    @nb.njit(cache=False, nogil=True)
    def search(indptr, indices, w, ln, src):  # pragma: no cover - compiled
        n = indptr.size - 1
        t = np.full(n, np.inf)
        d = np.full(n, np.nan)
        s = np.full(n, -1, np.int64)
        done = np.zeros(n, np.bool_)
        hk = np.empty(indices.size + src.size + 1)
        hv = np.empty(indices.size + src.size + 1, np.int64)
        size = 0
        for i in range(src.size):
            v = src[i]
            if t[v] > 0.0:
                t[v], d[v], s[v] = 0.0, 0.0, v
                j = size
                size += 1
                while j > 0 and hk[(j - 1) >> 1] > 0.0:
                    hk[j], hv[j] = hk[(j - 1) >> 1], hv[(j - 1) >> 1]
                    j = (j - 1) >> 1
                hk[j], hv[j] = 0.0, v
        while size > 0:
            key, u = hk[0], hv[0]
            size -= 1
            lk, lv = hk[size], hv[size]
            j = 0
            while True:  # sift the last entry down from the root
                c = 2 * j + 1
                if c >= size:
                    break
                if c + 1 < size and hk[c + 1] < hk[c]:
                    c += 1
                if hk[c] >= lk:
                    break
                hk[j], hv[j] = hk[c], hv[c]
                j = c
            hk[j], hv[j] = lk, lv
            if done[u] or key > t[u]:
                continue  # a stale entry (lazy deletion instead of decrease-key)
            done[u] = True
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nt = key + w[e]
                if nt < t[v]:
                    t[v], d[v], s[v] = nt, d[u] + ln[e], s[u]
                    j = size
                    size += 1
                    while j > 0 and hk[(j - 1) >> 1] > nt:
                        hk[j], hv[j] = hk[(j - 1) >> 1], hv[(j - 1) >> 1]
                        j = (j - 1) >> 1
                    hk[j], hv[j] = nt, v
        return t, d, s

    return search


def main() -> None:
    try:
        search = _kernel()
    except ImportError:
        print("numba is not installed: pip install numba (an experiment; gapmap does not use it)")
        return
    net, services, origins = ottawa_inputs()
    svc = nw.prepare_services(services, CATEGORIES, net.crs)
    _, aug, res = nw.solve(net, origins.geometry.to_numpy(), svc, CATEGORIES, nw.ACCESS_SPEED_KMH)
    csr, lcsr = aug.reverse.csr("time"), aug.reverse.csr("length")
    assert np.array_equal(csr.indices, lcsr.indices) and np.array_equal(csr.indptr, lcsr.indptr)
    first = aug.n + aug.p
    src = {c: first + np.flatnonzero(svc["category"].to_numpy() == c) for c in CATEGORIES}
    ip, ix = csr.indptr.astype(np.int64), csr.indices.astype(np.int64)
    t0 = time.perf_counter()
    search(ip, ix, csr.data, lcsr.data, src[CATEGORIES[0]])
    t_compile = time.perf_counter() - t0
    for c in CATEGORIES:
        t, d, s = search(ip, ix, csr.data, lcsr.data, src[c])
        assert np.array_equal(t, res.time[c]), c  # the same times as scipy, bit for bit
        ok = np.isfinite(t)
        assert np.allclose(d[ok], res.dist[c][ok], rtol=1e-9, atol=1e-6), c
        assert np.array_equal(np.where(s >= 0, s - first, -1), res.service[c]), c
    (t_fused, _), (t_floor, _), (t_pred, _) = interleaved([
        lambda: {c: search(ip, ix, csr.data, lcsr.data, src[c]) for c in CATEGORIES},
        lambda: {c: dijkstra(csr, directed=True, indices=src[c], min_only=True) for c in CATEGORIES},
        lambda: {c: dijkstra(csr, directed=True, indices=src[c], min_only=True, return_predecessors=True) for c in CATEGORIES},
    ], repeat=15)
    print(f"graph: {csr.shape[0]:,} nodes, {csr.nnz:,} edges; {len(CATEGORIES)} categories; numba compile {t_compile:.2f} s")
    print(f"fused numba pass (time, distance, source)   {t_fused * 1e3:7.2f} ms -> {t_fused / t_floor:4.2f}x the floor")
    print(f"floor: csgraph.dijkstra(min_only=True)      {t_floor * 1e3:7.2f} ms")
    print(f"csgraph.dijkstra with predecessors          {t_pred * 1e3:7.2f} ms -> {t_pred / t_floor:4.2f}x the floor "
          "(gapmap then adds the edge lookup and the tree sum)")


if __name__ == "__main__":
    main()
