"""Chatham-Kent's headline with its range: fixed radii (before) vs candidate positions (after).

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/uncertainty_ck.py

Prints, for the straight-line drive run (internal privacy, so nothing is suppressed), the
headline (hospital, 30 min: workers and sites beyond) with its lower / upper bounds, first
with every range (location + method), then with location alone (method ranges pinned to the
point settings), each with the stated radii and with candidate positions; then the knife-edge
sites by community for the candidate run. Numbers go into docs/uncertainty.md.
"""

from __future__ import annotations

import gapmap
from gapmap.analysis import uncertainty


def headline(settings):
    r = gapmap.analyze("chatham-kent", settings=settings, network="straight")
    s = r.settings
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    a = r.areas_table.iloc[-1]
    w = (int(a[f"{pre}_workers_not"]), int(a[f"{pre}_workers_not_lower"]), int(a[f"{pre}_workers_not_upper"]))
    n = (int(a[f"{pre}_sites_not"]), int(a[f"{pre}_sites_not_lower"]), int(a[f"{pre}_sites_not_upper"]))
    return r, w, n


def main() -> None:
    base = dict(privacy="internal")
    pinned = dict(circuity_range=(1.3, 1.3), speed_factor_range=(1.0, 1.0))
    print("ranges            locations   workers beyond 30 min (lower-upper)   sites beyond (lower-upper)   knife-edge sites")
    runs = {}
    for label, extra in (("location+method", {}), ("location only", pinned)):
        for loc, cand in (("radius", False), ("candidates", True)):
            r, w, n = headline(gapmap.load_settings(**base, **extra, location_candidates=cand))
            runs[(label, loc)] = r
            knife = uncertainty.knife_edge(r.sites, r.settings)
            print(f"{label:17s} {loc:11s} {w[0]:5d} ({w[1]}-{w[2]}){'':18s} {n[0]:3d} ({n[1]}-{n[2]}){'':14s} {len(knife)}")
    r = runs[("location+method", "candidates")]
    s = r.settings
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    sites = r.sites
    print("\nknife-edge sites by community (location + method, candidates):")
    knife = uncertainty.knife_edge(sites, s)
    by = (knife.assign(community=knife["community"].fillna("(none)"))
          .groupby("community").agg(sites=("site_id", "size"), workers=("workers", "sum"),
                                   point_min=(f"{s.headline_category}_min", "median"),
                                   best=(f"{s.headline_category}_min_best", "min"),
                                   worst=(f"{s.headline_category}_min_worst", "max"))
          .sort_values(["sites", "workers"], ascending=False))
    print(by.to_string())
    print(f"\nall sites: {len(sites)}; status counts: {sites[f'{pre}_status'].value_counts().to_dict()}")
    r2 = runs[("location only", "candidates")]
    k2 = uncertainty.knife_edge(r2.sites, r2.settings)
    print("\nknife-edge sites by community (location only, candidates):")
    print(k2.assign(community=k2["community"].fillna("(none)")).groupby("community")
          .agg(sites=("site_id", "size"), workers=("workers", "sum"),
               best=(f"{s.headline_category}_min_best", "min"), worst=(f"{s.headline_category}_min_worst", "max"))
          .sort_values("sites", ascending=False).to_string())


if __name__ == "__main__":
    main()
