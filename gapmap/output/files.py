"""Write the output contract of ``gapmap analyze``.

``map.html``, ``layers.gpkg`` (boundary, areas, services, worker_hexagons (public) or sites
(internal), population, catchments, hexes; styled for QGIS), ``project.qgz``,
``sites.csv``, ``areas.csv``, ``report.html``, ``summary.json`` and ``rejects.csv`` (when anything was
rejected). Same inputs give the same bytes: no timestamps, sorted rows, fixed GeoPackage
dates, stable map element ids.

Privacy (``docs/privacy.md``): in ``public`` mode (default) there is no ``sites.csv`` (it is
per employer, with the distances that locate a site); every worker and site figure of the
other files comes from :func:`gapmap.analysis.privacy.public_outputs` (threshold rule with
complementary suppression); the GeoPackage ``worker_hexagons`` layer and the map hold only the published
H3 hexagons; ``rejects.csv`` carries postal codes cut to the FSA. ``--privacy internal``
writes the full per-site table with coordinates.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gapmap import __version__
from gapmap.sources import catalog
from gapmap.analysis import privacy
from gapmap.output import atomic, qgis, webmap
from gapmap.analysis.gaps import coverage_summary

FIXED_DATE = "2000-01-01T00:00:00.000Z"
#: GDAL options set around a GeoPackage write (and cleared after: they are process-wide).
_GPKG_CONFIG = {"OGR_CURRENT_DATE": FIXED_DATE, "OGR_SQLITE_SYNCHRONOUS": "OFF"}


def _clean(obj):
    """JSON-safe, NaN-free structure with numpy scalars converted."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _dataset_info(ids) -> list[dict]:
    out = []
    for d in ids:
        if d in catalog.DATASETS:
            e = catalog.DATASETS[d]
            out.append({"id": e.id, "title": e.title, "publisher": e.publisher, "licence": e.licence, "source": e.source})
        else:
            out.append({"id": d, "title": "user file", "publisher": "user", "licence": "as supplied", "source": d})
    return out


def attributions(result) -> list[str]:
    """Attribution line of every source used, once each, in order."""
    seen = []
    for lay in result.layers.values():
        for d in lay.datasets:
            line = catalog.DATASETS[d].attribution if d in catalog.DATASETS else f"User file {Path(d).name}"
            if line not in seen:
                seen.append(line)
    if result.transit_source:
        src = result.transit_source
        seen.append(catalog.DATASETS[src].attribution if src in catalog.DATASETS else f"GTFS {Path(src).name}")
    if "OpenStreetMap" in result.method:
        seen.append("© OpenStreetMap contributors (ODbL)")
    return seen


def sites_table(result) -> pd.DataFrame:
    """Per-site table (one row per employer, with nearest services and distances).

    Written as ``sites.csv`` in ``--privacy internal`` only, with coordinates. In public mode it
    is for in-memory use (e.g. a notebook on the analyst's machine): no coordinates or full
    postal codes, and :func:`write_outputs` never writes it (docs/privacy.md).
    """
    df = pd.DataFrame(result.sites.drop(columns="geometry"))
    if result.settings.privacy == "internal":
        ll = result.sites.geometry.to_crs("EPSG:4326")
        df["lon"], df["lat"] = ll.x.round(5), ll.y.round(5)
    else:
        df = df.drop(columns=["postal_code"], errors="ignore")
    return df.sort_values("site_id").reset_index(drop=True)


def summary(result, public_stats: dict | None, files: list[str], areas: pd.DataFrame | None = None,
            coverage: list[dict] | None = None) -> dict:
    """The ``summary.json`` structure (``areas`` / ``coverage``: the copies to publish, default unsuppressed)."""
    s = result.settings
    lay_info = {}
    for name, lay in result.layers.items():
        lay_info[name] = {
            "rows_read": lay.rows_read, "rows_used": lay.rows_used, "rows_rejected": lay.rows_rejected,
            "rejected_by_reason": lay.rejects["reason"].value_counts().sort_index().to_dict(),
            "features": int(len(lay.gdf)), "sources": _dataset_info(lay.datasets),
        }
    lay_info["services"]["features_by_category"] = result.layers["services"].gdf.groupby("category").size().to_dict()
    lay_info["services"]["in_region_by_category"] = (
        result.layers["services"].gdf.query("in_region").groupby("category").size().to_dict())
    lay_info["sites"]["workers"] = int(result.sites["workers"].sum())
    lay_info["sites"]["geocode_precision"] = result.sites["geocode_precision"].value_counts().sort_index().to_dict()
    if s.privacy == "public":
        region = areas.iloc[-1] if areas is not None else None
        if region is not None and bool(region.get("suppressed", False)):
            lay_info["sites"]["workers"] = lay_info["sites"]["features"] = None
        tally = lay_info["sites"]["geocode_precision"]
        # One blank tally would come back as the site total minus the others: blank them all then.
        if lay_info["sites"]["features"] is None or privacy.counts_hidden(tally.values(), s):
            tally = dict.fromkeys(tally)
        lay_info["sites"]["geocode_precision"] = tally
        lay_info["sites"]["rejected_by_reason"] = {
            privacy.fsa_only(r): n for r, n in lay_info["sites"]["rejected_by_reason"].items()}
    lay_info["population"]["population"] = float(result.population["pop2021"].sum())
    lay_info["population"]["census_total"] = result.census_total
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    areas = result.areas_table if areas is None else areas
    if coverage is None:
        coverage = coverage_summary(result.sites, result.population, s, result.method)
    num = lambda v: None if pd.isna(v) else float(v)  # noqa: E731  (suppressed counts are null)
    return _clean({
        "gapmap_version": __version__,
        "region": {"slug": result.region.slug, "name": result.region.name, "province": result.region.province,
                   "lead": result.region.lead, "boundary": result.region.boundary_how},
        "settings": {"mode": s.mode, "speeds_kmh": s.speeds_kmh, "circuity": s.circuity, "thresholds_min": list(s.thresholds_min),
                     "categories": list(s.categories), "streams": list(s.streams), "privacy": s.privacy,
                     "headline": {"category": s.headline_category, "threshold_min": s.headline_threshold}},
        "method": {"travel_time": result.method, "approximations": result.approximations,
                   "crs": str(result.layers["boundary"].gdf.crs)},
        "layers": lay_info,
        "coverage": coverage,
        "headline": {
            "category": s.headline_category, "threshold_min": s.headline_threshold, "method": result.method,
            "workers_beyond": num(areas.iloc[-1][f"{pre}_workers_not"]),
            "sites_beyond": num(areas.iloc[-1][f"{pre}_sites_not"]),
            "workers_beyond_at_postal_area_centroids": num(areas.iloc[-1][f"{pre}_workers_not_postal_area"]),
            "by_area": [{"area_id": r["area_id"], "area_name": r["area_name"], "workers": num(r["workers"]),
                         "workers_beyond": num(r[f"{pre}_workers_not"]), "sites_beyond": num(r[f"{pre}_sites_not"]),
                         "population_beyond": float(r[f"{pre}_pop_not"]), "suppressed": bool(r.get("suppressed", False))}
                        for _, r in areas.iloc[:-1].iterrows()],
        },
        "notes": list(result.notes),
        "privacy": {"mode": s.privacy, **(public_stats or {})},
        "attribution": attributions(result),
        "outputs": sorted(files),
    })


def _gpkg_column(col: pd.Series) -> pd.Series:
    """Booleans stay booleans (GDAL writes them as integers with the ``Boolean`` subtype); an
    object column of booleans and nulls becomes pandas' nullable boolean."""
    if col.dtype == object and col.notna().any() and col.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return col.astype("boolean")
    return col


def _write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame], settings=None) -> None:
    """Write ``layers`` and, with ``settings``, their QGIS styles (``layer_styles``, :mod:`gapmap.output.qgis`)."""
    if path.exists():
        path.unlink()
    # A fixed "last change" date keeps the GeoPackage byte-identical between runs. SQLite's
    # synchronous mode only decides when it waits for the disk, not what it writes: off, the
    # eight commits (one per layer) skip their fsyncs, which were half the GeoPackage's time
    # (0.19 s instead of 0.35-0.70 s for CK); the file is in a staging folder until complete
    # anyway (output/atomic.py), as the CSV and HTML files, which are not synced either.
    pyogrio.set_gdal_config_options(_GPKG_CONFIG)
    try:
        for name, gdf in layers.items():
            gdf = gdf.copy()
            for col in gdf.columns:
                if col != gdf.geometry.name:
                    gdf[col] = _gpkg_column(gdf[col])
            # GeoPackage 1.2: read without warnings by the GDAL of older QGIS releases (Debian's 3.22 LTR).
            opts = {"append": True} if path.exists() else {"dataset_options": {"VERSION": "1.2"}}
            pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", **opts)
        if settings is not None:
            qgis.write_styles(path, layers, settings)
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(_GPKG_CONFIG))


#: Outputs only some runs write: a previous run's copy is removed when this run writes none.
OPTIONAL_OUTPUTS = ("sites.csv", "rejects.csv", "hexes.csv", "recommendations.csv", "whatif.csv")


def write_outputs(result, out_dir: str | Path, progress=None, *, recommendations=None, whatif: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write every output file of the contract to ``out_dir``; return name -> path.

    ``recommendations`` (a :class:`gapmap.analysis.siting.SitingResult`) adds ``recommendations.csv``,
    a GeoPackage layer and map markers; ``whatif`` (from :func:`gapmap.analysis.plan.what_if`) adds
    ``whatif.csv``.

    All files are written into a temporary folder beside ``out_dir`` and moved into place when
    complete (:mod:`gapmap.output.atomic`): if writing fails or is interrupted, the previous
    run's files stay as they were. Another run writing to ``out_dir`` at the same time is refused.
    """
    final = Path(out_dir)
    with atomic.staged_outputs(final, remove_if_absent=OPTIONAL_OUTPUTS) as stage:
        if progress:
            progress(f"writing outputs to {final}")
        written = _write_files(result, stage, recommendations=recommendations, whatif=whatif)
    return {name: final / name for name in written}


def _write_files(result, out: Path, *, recommendations=None, whatif: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write the contract into the (empty, staging) folder ``out``."""
    s = result.settings
    files: dict[str, Path] = {}
    # Every worker or site figure below comes from one disclosure-control pass (public mode).
    coverage = coverage_summary(result.sites, result.population, s, result.method)
    pub = None
    if s.privacy == "public":
        pub = privacy.public_outputs(result.sites, result.areas_table, result.hexes, coverage,
                                     k=s.k_anonymity, resolution=s.hex_resolution)
        coverage = pub.coverage

    areas_out = pub.areas if pub is not None else result.areas_table
    # Internal mode only; a public run leaves none, and the staged move removes an earlier internal
    # run's per-site table (OPTIONAL_OUTPUTS), so it cannot sit next to public outputs.
    if pub is None:
        files["sites.csv"] = out / "sites.csv"
        atomic.write_csv(sites_table(result), files["sites.csv"])
    files["areas.csv"] = out / "areas.csv"
    atomic.write_csv(areas_out, files["areas.csv"])
    rejects = result.rejects if pub is None else privacy.public_rejects(result.rejects)
    if len(rejects):
        files["rejects.csv"] = out / "rejects.csv"
        atomic.write_csv(rejects, files["rejects.csv"])

    areas = result.layers["areas"].gdf.merge(areas_out, on=["area_id", "area_name"], how="left")
    public_sites = pub.site_hexes if pub is not None else None
    sites_layer = public_sites if public_sites is not None else result.sites
    gpkg_layers = {
        "boundary": result.layers["boundary"].gdf,
        "areas": areas,
        "services": result.layers["services"].gdf,
        # Public mode publishes hexagons, not sites: the layer says so (formerly ``sites``; see README).
        ("worker_hexagons" if public_sites is not None else "sites"): sites_layer,
        "population": result.population,
        "catchments": result.catchments,
    }
    hexes = None
    if result.hexes is not None:
        hexes = pub.hexes if pub is not None else result.hexes
        gpkg_layers["hexes"] = hexes
        files["hexes.csv"] = out / "hexes.csv"
        atomic.write_csv(pd.DataFrame(hexes.drop(columns="geometry")), files["hexes.csv"])
    recs, rec_totals = None, None
    if recommendations is not None:
        recs, rec_totals = recommendations.recommendations, recommendations.totals
        if pub is not None:
            recs, rec_totals = privacy.public_siting(recommendations, coverage, s.headline_category, s.k_anonymity)
        gpkg_layers["recommendations"] = recs
        files["recommendations.csv"] = out / "recommendations.csv"
        ll = recs.geometry.to_crs("EPSG:4326")
        atomic.write_csv(pd.DataFrame(recs.drop(columns="geometry")).assign(lon=ll.x.round(5), lat=ll.y.round(5)),
                         files["recommendations.csv"])
    if whatif is not None:
        files["whatif.csv"] = out / "whatif.csv"
        wi = privacy.public_whatif(whatif, areas_out, s.k_anonymity) if pub is not None else whatif
        atomic.write_csv(wi, files["whatif.csv"])
    if result.transit_routes is not None:
        gpkg_layers["transit_routes"] = result.transit_routes
        gpkg_layers["transit_stops"] = result.transit_stops
    files["layers.gpkg"] = out / "layers.gpkg"
    _write_gpkg(files["layers.gpkg"], gpkg_layers, s)
    files["project.qgz"] = out / "project.qgz"
    qgis.write_project(files["project.qgz"], gpkg_layers, s, qgis.layer_titles(s, result.method),
                       title=f"gapmap: {result.region.name}")

    m = webmap.build_map(result, public_sites=public_sites, areas_table=areas_out, hexes=hexes, recommendations=recs,
                         attributions=attributions(result))
    files["map.html"] = out / "map.html"
    files["map.html"].write_text(webmap.render_html(m), encoding="utf-8")

    from gapmap.output.report import build_report

    files["report.html"] = out / "report.html"
    files["report.html"].write_text(
        build_report(result, areas_out, coverage, attributions(result), recs, siting=recommendations),
        encoding="utf-8")

    files["summary.json"] = out / "summary.json"
    summ = summary(result, pub.stats if pub is not None else None, [*files], areas_out, coverage)
    if result.raster_sums is not None:
        summ["population_raster_zonal_sums"] = _clean(result.raster_sums)
    if result.filter_effect is not None:
        effect = privacy.public_filter_effect(result.filter_effect, s.k_anonymity) if pub is not None else result.filter_effect
        summ["hours_language"] = _clean(effect)
    if recommendations is not None:
        summ["recommendations"] = _clean({"totals": rec_totals, "notes": recommendations.notes,
                                          "sites": pd.DataFrame(recs.drop(columns="geometry")).to_dict("records")})
    if result.access is not None:
        summ["accessibility"] = _clean({
            "method": "E2SFCA (Luo & Qi 2009 bands 10/20/30 min, weights 1/0.68/0.22), demand = people + workers, "
                      "supply = 1 per facility (no capacity data), travel times: " + result.access.attrs.get("method", "straight-line"),
            **{c: {"median": float(result.access[c].median()), "zero_share": float((result.access[c].fillna(0) == 0).mean())}
               for c in result.access.columns[1:]}})
    files["summary.json"].write_text(json.dumps(summ, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
    return files
