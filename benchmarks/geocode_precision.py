"""Ontario Primary-Agriculture workers by geocode precision, before and after the cascade (issue 14).

Reads every Primary-Agriculture row of the ESDC positive-LMIA Ontario list (2022 Q1 - 2023 Q4),
groups them into sites (same employer, postal code and community) with the pipeline's worker
estimate (:func:`gapmap.layers.build.estimate_workers`: the peak calendar-year sum of approved
positions), and geocodes each site twice, as the pipeline does per region:

- **before**: the old rules only, the cited community point (Chatham-Kent gazetteer, for the rows
  of the Chatham-Kent subset, as the ``chatham-kent`` region used it) else the FSA centroid;
- **after**: the full cascade of :mod:`gapmap.sources.geocode` (own urban postal-code point,
  community point, rural post-office point, FSA centroid) with the mirror's postal points.

No region boundary is applied (sites outside Ontario are counted where they are placed).
``postal_area`` is split into rural FSAs (second character 0: huge) and urban FSAs (a town or a
part of a city).

    PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/geocode_precision.py
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from gapmap import sources
from gapmap.layers.build import estimate_workers
from gapmap.sources import catalog, geocode


def _sites(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per employer location with its worker estimate and geocoding inputs."""
    key = (rows["employer"].str.casefold().str.replace(r"[^\w]+", " ", regex=True).str.strip() + "|"
           + rows["postal_code"].where(rows["postal_code"].str.len() == 6, rows["fsa"]) + "|"
           + rows["city"].map(geocode.normalize_place))
    rows = rows.assign(site_id=key)
    first = rows.sort_values(["site_id", "year", "quarter"]).groupby("site_id").first()
    return first[["city", "postal_code", "fsa", "in_ck_subset"]].join(estimate_workers(rows)[["workers"]])


def _precision(sites: pd.DataFrame, tables_ck: geocode.Gazetteers, tables_other: geocode.Gazetteers) -> pd.Series:
    codes = sites["postal_code"].where(sites["postal_code"].str.len() > 0, sites["fsa"])
    ck = sites["in_ck_subset"]
    out = pd.concat([geocode.geocode(sites.loc[ck, "city"], codes[ck], tables_ck),
                     geocode.geocode(sites.loc[~ck, "city"], codes[~ck], tables_other)]).reindex(sites.index)
    label = out["geocode_precision"].fillna("not placed")
    rural = codes.str[1].eq("0")
    return label.where(label != geocode.POSTAL_AREA, label + rural.map({True: " (rural FSA)", False: " (urban FSA)"}))


def _table(workers: pd.Series, precision: pd.Series) -> pd.DataFrame:
    t = workers.groupby(precision).agg(["size", "sum"]).rename(columns={"size": "sites", "sum": "workers"})
    t["workers_share"] = (t["workers"] / t["workers"].sum()).round(4)
    return t


def main() -> int:
    t0 = time.perf_counter()
    rows = sources.read_lmia(catalog.resolve("lmia_ontario"))
    rows = rows[(rows["program_stream"] == "Primary Agriculture") & rows["approved_positions"].notna() & rows["year"].notna()]
    rows = rows.assign(in_ck_subset=rows["ck_community_name_match"].str.casefold().eq("true"))
    sites = _sites(rows)
    ck = dict(gazetteer_dataset="ck_communities", municipality_names=("chatham kent",))
    full_ck, full_other = geocode.load_tables(**ck), geocode.load_tables()
    old_ck = geocode.Gazetteers(fsa=full_ck.fsa, community=full_ck.community, municipality_names=full_ck.municipality_names)
    old_other = geocode.Gazetteers(fsa=full_other.fsa)
    before = _table(sites["workers"], _precision(sites, old_ck, old_other))
    after = _table(sites["workers"], _precision(sites, full_ck, full_other))
    print(f"Ontario Primary Agriculture: {len(rows):,} LMIA rows, {len(sites):,} sites, {int(sites['workers'].sum()):,} workers")
    print("\nbefore (community point else FSA centroid):")
    print(before.to_string())
    print("\nafter (cascade):")
    print(after.to_string())
    fsa_share = after.loc[after.index.str.startswith(geocode.POSTAL_AREA), "workers"].sum() / after["workers"].sum()
    print(f"\nworkers at postal-area precision after: {fsa_share:.1%} (target < 10 %); {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
