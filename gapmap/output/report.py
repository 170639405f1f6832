"""``report.html``: a council-ready page on one region's service gaps.

Sections, in order: headline (point value and range), a static map of the region (areas
shaded by the published share of workers beyond the headline threshold, services marked),
"where the gaps are" (areas, or communities in internal mode, ranked by workers beyond with
their lower-upper range), "what would close them" (the top sites from location-allocation for
the headline category), "how sure is this" (range, knife-edge sites, what the ranges rest on,
a circuity line plot), coverage by threshold with curves, method, approximations, notes,
sources. English and French (every sentence from :mod:`gapmap.output.i18n`, numbers in the
language's format).

Privacy: in public mode every worker or site figure shown is a published one (the areas table
and coverage rows from :func:`gapmap.analysis.privacy.public_outputs`, recommendations from
:func:`~gapmap.analysis.privacy.public_recommendations`); the map draws areas and public
services only, never a site; the circuity plot's points and bands go through the same
disclosure pass for each circuity value.

Same inputs give the same bytes: images are PNGs of fixed size with no software stamp,
embedded as base64.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd

from gapmap import categories
from gapmap.output.html import esc
from gapmap.output.i18n import (cat_label, labels, message_html, place_name, report_int, report_labels, report_num,
                                report_pct)

_CSS = """
body{font:14px/1.45 Georgia,serif;max-width:900px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:24px;margin-bottom:0}h2{font-size:18px;border-bottom:1px solid #999;margin-top:28px}
table{border-collapse:collapse;width:100%;font:12px/1.3 sans-serif;margin:8px 0}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:right}th{background:#eee}td:first-child,th:first-child,td.t{text-align:left}
.headline{font-size:17px;background:#fff4e5;border-left:4px solid #e67e22;padding:8px 12px}
.small{font-size:12px;color:#555}img{max-width:100%}figure{margin:8px 0}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,img{page-break-inside:avoid}}
"""

#: Circuity values of the "how sure" line plot.
SWEEP_CIRCUITIES = (1.2, 1.3, 1.4, 1.5)
#: Sites the report's "what would close them" section asks for when the run did no siting.
DEFAULT_SITES = 3


def coverage_curve(minutes: pd.Series, weights: pd.Series, grid: np.ndarray) -> np.ndarray:
    """Share of total weight whose minutes are <= each grid value (unreachable never covered)."""
    w = weights.fillna(0).to_numpy(dtype=float)
    m = minutes.astype(float).fillna(np.inf).to_numpy()
    total = w.sum()
    if total == 0:
        return np.full(len(grid), np.nan)
    order = np.argsort(m, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    return cum[np.searchsorted(m[order], grid, side="right")] / total


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return matplotlib, plt


def _png(fig) -> str:
    _, plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version stamp: same bytes every run
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _img(png: str, caption: str) -> str:
    return f"<figure><img alt='{caption}' src='data:image/png;base64,{png}'><figcaption class='small'>{caption}</figcaption></figure>"


def _mpl(text) -> str:
    """Plain text for a matplotlib label: ``$`` would start mathtext (and fail on input text)."""
    return str(text).replace("$", r"\$")


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or repr(v) == "<NA>"


def _words(result) -> dict:
    """The format fields every report sentence may use."""
    s = result.settings
    lang = s.lang
    cat = s.headline_category
    of_cat = categories.of_a(cat, lang)
    a_cat = of_cat[2:] if lang == "fr" else of_cat[3:]  # "d'un hôpital" -> "un hôpital"; "of a hospital" -> "a hospital"
    return {"t": report_num(s.headline_threshold, lang), "cat": esc(cat_label(cat, lang)), "of_cat": esc(of_cat),
            "a_cat": esc(a_cat), "k": s.k_anonymity}


def _curve_png(result, cat: str, L: dict, coverage: list[dict] | None = None) -> str:
    matplotlib, plt = _plt()
    s = result.settings
    grid = np.arange(0, max(90, max(s.thresholds_min) * 1.5) + 1)
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    if len(result.sites) and s.privacy == "public" and coverage is not None:
        # A per-site step curve gives each site's minutes (a circle around a known service):
        # public mode draws only the published coverage figures.
        from gapmap.analysis.privacy import published_curve

        ax.plot(*published_curve(coverage, cat), label=L["workers"], color="#6c3483", lw=2, marker="o")
    elif len(result.sites):
        ax.plot(grid, coverage_curve(result.sites[f"{cat}_min"], result.sites["workers"], grid), label=L["workers"], color="#6c3483", lw=2)
    ax.plot(grid, coverage_curve(result.population[f"{cat}_min"], result.population["pop2021"], grid), label=L["population"],
            color="#2471a3", lw=2)
    for t in s.thresholds_min:
        ax.axvline(t, color="#999", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, grid[-1])
    ax.set_xlabel(L["minutes_axis"])
    ax.set_ylabel(L["share_covered"])
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: report_pct(v, s.lang)))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _png(fig)


def _table(headers: list[str], rows: list[list[str]], text_cols: frozenset[int] = frozenset()) -> str:
    """An HTML table of already formatted (escaped) cells; ``text_cols`` are left-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td class='t'>{c}</td>" if i in text_cols else f"<td>{c}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------- places


def _gazetteer(result) -> pd.DataFrame | None:
    """The region's community points (name, x, y in the run's CRS), or None when it has none."""
    from gapmap.sources import catalog, read_gazetteer

    ds = getattr(result.region, "gazetteer_dataset", None)
    if not ds or not catalog.available(ds, result.data_dir):
        return None
    import geopandas as gpd

    g = read_gazetteer(catalog.resolve(ds, result.data_dir)).dropna(subset=["latitude", "longitude"])
    pts = gpd.GeoSeries(gpd.points_from_xy(g["longitude"], g["latitude"]), crs="EPSG:4326").to_crs(result.sites.crs)
    return pd.DataFrame({"name": g["name"].astype(str).to_numpy(), "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})


def _near(point, places: pd.DataFrame | None, lang: str, Lr: dict) -> str | None:
    if places is None or not len(places):
        return None
    d = np.hypot(places["x"].to_numpy() - point.x, places["y"].to_numpy() - point.y)
    i = int(np.argmin(d))
    return Lr["near"].format(place=esc(places["name"].iloc[i]), km=report_num(round(d[i] / 1000.0, 1), lang))


# --------------------------------------------------------------------------- map


def _map_png(result, areas_table: pd.DataFrame, recs, places, Lr: dict, W: dict) -> str:
    """Static map: areas shaded by the published headline share, suppressed hatched grey, services by category."""
    matplotlib, plt = _plt()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    s = result.settings
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    areas = result.layers["areas"].gdf[["area_id", "area_name", "geometry"]].merge(
        areas_table[["area_id", f"{pre}_workers_not_share", *(["suppressed"] if "suppressed" in areas_table else [])]],
        on="area_id", how="left")
    share = pd.to_numeric(areas[f"{pre}_workers_not_share"], errors="coerce").astype(float)
    boundary = result.layers["boundary"].gdf
    fig, ax = plt.subplots(figsize=(9.5, 6.4), dpi=100)
    cmap = matplotlib.colormaps["YlOrRd"]
    norm = matplotlib.colors.Normalize(0, 1)
    shown = share.notna().to_numpy()
    if shown.any():
        areas[shown].plot(ax=ax, color=[cmap(norm(v)) for v in share[shown]], edgecolor="#555", linewidth=0.8)
    if (~shown).any():
        areas[~shown].plot(ax=ax, facecolor="#d5d5d5", edgecolor="#555", hatch="///", linewidth=0.8)
    boundary.boundary.plot(ax=ax, color="#222", linewidth=1.4)
    xmin, ymin, xmax, ymax = boundary.total_bounds
    pad = 0.04 * max(xmax - xmin, ymax - ymin)
    services = result.layers["services"].gdf
    handles = [Patch(facecolor="#d5d5d5", edgecolor="#555", hatch="///", label=Lr["map_suppressed"].format(**W))]
    markers = ["s", "P", "^", "D", "v", "o"]
    for i, cat in enumerate(s.categories):
        svc = services[services["category"] == cat]
        xy = np.c_[svc.geometry.x, svc.geometry.y] if len(svc) else np.zeros((0, 2))
        keep = (xy[:, 0] >= xmin - pad) & (xy[:, 0] <= xmax + pad) & (xy[:, 1] >= ymin - pad) & (xy[:, 1] <= ymax + pad)
        ax.scatter(xy[keep, 0], xy[keep, 1], s=60 if i == 0 else 40, marker=markers[i % len(markers)],
                   color=categories.colour(cat, i), edgecolor="white", linewidth=0.6, zorder=4)
        handles.append(Line2D([], [], ls="", marker=markers[i % len(markers)], color=categories.colour(cat, i),
                              markeredgecolor="white", markersize=8, label=_mpl(cat_label(cat, s.lang))))
    if recs is not None and len(recs):
        ax.scatter(recs.geometry.x, recs.geometry.y, s=170, marker="*", color="#111", edgecolor="white", zorder=5)
        handles.append(Line2D([], [], ls="", marker="*", color="#111", markersize=12,
                              label=_mpl(Lr["map_proposed"].format(cat=cat_label(s.headline_category, s.lang)))))
    if places is not None:
        inside = places[(places["x"].between(xmin, xmax)) & (places["y"].between(ymin, ymax))]
        ax.scatter(inside["x"], inside["y"], s=6, color="#333", zorder=3)
        for r in inside.sort_values("name").itertuples():
            ax.annotate(_mpl(r.name), (r.x, r.y), xytext=(3, 3), textcoords="offset points", fontsize=7, color="#222", zorder=6)
    for r in areas.itertuples():
        pt = r.geometry.representative_point()
        ax.annotate(_mpl(place_name(r.area_name, s.lang)), (pt.x, pt.y), ha="center", fontsize=8, fontweight="bold", color="#1b2631", alpha=0.75)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, shrink=0.6)
    cb.set_label(_mpl(Lr["map_share"].format(**W)))
    cb.ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: report_pct(v, s.lang)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, framealpha=0.9, borderaxespad=0)
    ax.set_title(_mpl(Lr["map_title"].format(**{**W, "of_cat": categories.of_a(s.headline_category, s.lang)})),
                 fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.66, top=0.94, bottom=0.06)  # room for the legend at the right
    return _png(fig)


# --------------------------------------------------------------------------- where the gaps are


def gap_rows(result, areas_table: pd.DataFrame) -> pd.DataFrame:
    """Rows of "where the gaps are", ranked by workers beyond the headline threshold (most first).

    Public mode: the published areas (suppressed rows last, by name). Internal mode: the
    communities the sites name, from the per-site table. Columns ``name, sites, workers,
    beyond, lower, upper, share, people_beyond, people_lower, people_upper``.
    """
    s = result.settings
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    if s.privacy == "public" or "community" not in result.sites:
        t = areas_table[areas_table["area_id"] != "region"]
        g = lambda c: pd.to_numeric(t[c], errors="coerce").astype(float).to_numpy() if c in t else np.full(len(t), np.nan)  # noqa: E731
        out = pd.DataFrame({"name": [place_name(a, s.lang) for a in t["area_name"].astype(str)], "sites": g("sites"), "workers": g("workers"),
                            "beyond": g(f"{pre}_workers_not"), "lower": g(f"{pre}_workers_not_lower"),
                            "upper": g(f"{pre}_workers_not_upper"), "share": g(f"{pre}_workers_not_share"),
                            "people_beyond": g(f"{pre}_pop_not"), "people_lower": g(f"{pre}_pop_not_lower"),
                            "people_upper": g(f"{pre}_pop_not_upper")})
    else:
        st = result.sites
        w = st["workers"].astype(float)
        status = st.get(f"{pre}_status")
        beyond = np.where(st[f"{s.headline_category}_within_{s.headline_threshold:g}min"].astype(bool), 0.0, w)
        lower = np.where(status == "surely beyond", w, 0.0) if status is not None else np.full(len(st), np.nan)
        upper = np.where(status != "surely within", w, 0.0) if status is not None else np.full(len(st), np.nan)
        df = pd.DataFrame({"name": st["community"].fillna("?").astype(str), "sites": 1.0, "workers": w, "beyond": beyond,
                           "lower": lower, "upper": upper})
        out = df.groupby("name", sort=True).sum().reset_index()
        out["share"] = out["beyond"] / out["workers"].where(out["workers"] > 0)
        out["people_beyond"] = out["people_lower"] = out["people_upper"] = np.nan
    known = out["beyond"].notna()
    ranked = out[known].sort_values(["beyond", "upper", "people_beyond", "name"], ascending=[False, False, False, True],
                                    kind="mergesort")
    return pd.concat([ranked, out[~known].sort_values("name", kind="mergesort")], ignore_index=True)


def _gaps_section(result, areas_table, Lr, W) -> str:
    s = result.settings
    lang = s.lang
    rows = gap_rows(result, areas_table)
    public = s.privacy == "public" or "community" not in result.sites
    rng = lambda lo, hi: "–" if _missing(lo) or _missing(hi) else Lr["range_fmt"].format(  # noqa: E731
        lo=report_int(lo, lang), hi=report_int(hi, lang))
    headers = [Lr["area"] if public else Lr["community"], Lr["sites"], Lr["workers"], Lr["workers_beyond"].format(**W),
               Lr["range"], Lr["share_beyond"]]
    if public:
        headers += [Lr["people_beyond"].format(**W), Lr["people_range"]]
    body = []
    for r in rows.itertuples():
        cells = [esc(r.name), report_int(r.sites, lang), report_int(r.workers, lang), report_int(r.beyond, lang),
                 rng(r.lower, r.upper), report_pct(r.share, lang)]
        if public:
            cells += [report_int(r.people_beyond, lang), rng(r.people_lower, r.people_upper)]
        body.append(cells)
    intro = Lr["gaps_intro_public" if public else "gaps_intro_internal"].format(**W)
    return f"<h2>{Lr['gaps_title']}</h2><p>{intro}</p>" + _table(headers, body)


# --------------------------------------------------------------------------- what would close them


def published_siting(siting, coverage: list[dict], settings):
    """Recommendations and totals as published (:func:`gapmap.analysis.privacy.public_siting` in public mode)."""
    from gapmap.analysis import privacy

    if settings.privacy != "public":
        return siting.recommendations, siting.totals
    return privacy.public_siting(siting, coverage, settings.headline_category, settings.k_anonymity)


def default_siting(result, p: int = DEFAULT_SITES):
    """Location-allocation of ``p`` new services for the headline (None when the run has no demand)."""
    from gapmap.analysis import plan

    if not len(result.sites) or not float(result.sites["workers"].fillna(0).sum()):
        return None  # no workers: nothing for a workers objective to close
    return plan.recommend(result, p=p, data_dir=result.data_dir)


def _close_section(result, recs, totals, requested: int | None, computed_here: bool, places, Lr, W) -> str:
    s = result.settings
    lang = s.lang
    parts = [f"<h2>{Lr['close_title']}</h2><p>{Lr['close_intro'].format(**W)}</p>"]
    n = 0 if recs is None else len(recs)
    if n:
        body = []
        for r in recs.sort_values("rank").itertuples():
            where = _near(r.geometry, places, lang, Lr) or Lr["candidate"].format(id=esc(r.candidate_id))
            body.append([report_int(r.rank, lang), where, report_int(r.workers_newly_covered, lang),
                         report_int(r.people_newly_covered, lang)])
        parts.append(_table([Lr["rank"], Lr["place"], Lr["newly_workers"].format(**W), Lr["newly_people"].format(**W)], body,
                            frozenset({1})))
    if requested and n < requested:
        rec = Lr["sites_rec_one" if n == 1 else "sites_rec_many"].format(n=report_int(n, lang))
        parts.append(f"<p>{Lr['fewer_none' if n == 0 else 'fewer_all'].format(sites_rec=rec, p=requested, **W)}</p>")
    if totals:
        for who, key in (("workers", "close_totals"), ("people", "close_totals_people")):
            before, after = totals.get(f"{who}_covered_before"), totals.get(f"{who}_covered_after")
            if not _missing(before) and not _missing(after):  # unpublished totals are left out, not dashed
                parts.append(f"<p>{Lr[key].format(before=report_int(before, lang), after=report_int(after, lang), **W)}</p>")
    if computed_here:
        parts.append(f"<p class='small'>{Lr['close_default'].format(p=requested)}</p>")
    return "".join(parts)


# --------------------------------------------------------------------------- how sure


def circuity_sweep(result, values=SWEEP_CIRCUITIES) -> pd.DataFrame:
    """The headline (workers beyond the headline threshold) at each circuity, straight-line approximation.

    Each value re-times sites and DA points to the headline category's services by straight
    line at the run's mode speed, with the location radii and speed range (not the circuity
    range) for the band, and passes the result through the same disclosure pass as
    ``areas.csv`` in public mode. Columns ``circuity, workers_not, workers_not_lower,
    workers_not_upper, sites_knife_edge`` (blank where not published).
    """
    import geopandas as gpd

    from gapmap.analysis import gaps, privacy, uncertainty
    from gapmap.layers.demand import da_origin_ids, site_origin_ids
    from gapmap.travel import straight

    s = result.settings
    cat = s.headline_category
    pre = f"{cat}_{s.headline_threshold:g}min"
    services = result.layers["services"].gdf
    site_ids = site_origin_ids(result.sites["site_id"]).to_numpy()
    da_ids = da_origin_ids(result.population["dauid"]).to_numpy()
    keep_s = [c for c in ("site_id", "workers", "area_id", "geocode_precision", "geometry") if c in result.sites]
    keep_p = [c for c in ("dauid", "pop2021", "area_id", "geometry") if c in result.population]
    sites0 = gpd.GeoDataFrame(result.sites[keep_s].set_axis(site_ids), geometry="geometry", crs=result.sites.crs)
    pop0 = gpd.GeoDataFrame(result.population[keep_p].set_axis(da_ids), geometry="geometry", crs=result.population.crs)
    origins = pd.concat([sites0[["geometry"]], pop0[["geometry"]]])
    radius = pd.Series(uncertainty.location_radius(sites0["geocode_precision"], s), index=site_ids)
    rows = []
    for c in values:
        sub = s.replace(categories=(cat,), circuity=float(c), circuity_range=(float(c), float(c)))
        tt = straight.straight_line_times(gpd.GeoDataFrame(origins, geometry="geometry", crs=sites0.crs), services, [cat], sub)
        sw = gaps.wide_times(sites0, tt[tt["origin_id"].isin(site_ids)], sub)
        pw = gaps.wide_times(pop0, tt[tt["origin_id"].isin(da_ids)], sub)
        ranges = uncertainty.time_ranges(tt, radius, sub)
        sw = uncertainty.attach(sw, pd.Series(site_ids), ranges, sub).reset_index(drop=True)
        pw = uncertainty.attach(pw, pd.Series(da_ids), ranges, sub).reset_index(drop=True)
        table = gaps.area_table(result.layers["areas"].gdf, sw, pw, sub, result.region.name)
        if s.privacy == "public":
            cov = gaps.coverage_summary(sw, pw, sub, result.method)
            table = privacy.public_outputs(gpd.GeoDataFrame(sw, geometry="geometry", crs=sites0.crs), table, None, cov,
                                           k=s.k_anonymity, resolution=s.hex_resolution).areas
        total = table.iloc[-1]
        rows.append({"circuity": float(c), **{k: total.get(f"{pre}_{k}") for k in
                                               ("workers_not", "workers_not_lower", "workers_not_upper", "sites_knife_edge")}})
    return pd.DataFrame(rows)


def _sweep_png(table: pd.DataFrame, lang: str, Lr: dict, W: dict) -> str:
    matplotlib, plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    num = lambda col: pd.to_numeric(table[col], errors="coerce").astype(float)  # noqa: E731 - blanks plot as gaps
    x = table["circuity"].astype(float)
    ax.fill_between(x, num("workers_not_lower"), num("workers_not_upper"), color="#fdae6b", alpha=0.45,
                    label=Lr["sure_band_label"])
    ax.plot(x, num("workers_not"), "o-", color="#d94801", label=Lr["sure_point_label"])
    ax.set_xticks(list(x))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: report_num(round(v, 2), lang)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: report_int(v, lang)))
    ax.set_xlabel(Lr["sure_sweep_x"])
    ax.set_ylabel(Lr["sure_sweep_y"].format(**W))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return _png(fig)


def _sure_section(result, areas_table, Lr, W) -> str:
    s = result.settings
    lang = s.lang
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    total = areas_table.iloc[-1]
    g = lambda c: total.get(f"{pre}_{c}")  # noqa: E731
    parts = [f"<h2>{Lr['sure_title']}</h2><ul>",
             f"<li>{Lr['sure_point'].format(n=report_int(g('workers_not'), lang), lo=report_int(g('workers_not_lower'), lang), hi=report_int(g('workers_not_upper'), lang), **W)}</li>",
             f"<li>{Lr['sure_knife'].format(n=report_int(g('sites_knife_edge'), lang))}</li>",
             f"<li>{Lr['sure_people'].format(n=report_int(g('pop_not'), lang), lo=report_int(g('pop_not_lower'), lang), hi=report_int(g('pop_not_upper'), lang), **W)}</li></ul>"]
    parts.append(f"<p>{Lr['sure_rests']}</p><ul>" + "".join(f"<li>{item}</li>" for item in rests_on(result, Lr)) + "</ul>")
    if s.mode == "transit":
        parts.append(f"<p class='small'>{Lr['sure_sweep_none']}</p>")
    else:
        png = _sweep_png(circuity_sweep(result), lang, Lr, W)
        parts.append(_img(png, Lr["sure_sweep_caption"].format(**W)))
    return "".join(parts)


_PRECISION_KEYS = {"postal_code": "prec_postal_code", "community": "prec_community", "post_office": "prec_post_office",
                   "postal_area": "prec_postal_area", "user coordinates": "prec_user", "user": "prec_user"}


def location_basis(result) -> tuple[dict, dict[str, int], int]:
    """What each site's location range rests on in this run.

    Returns
    -------
    candidates : dict
        The keyed candidate-positions approximation's parameters (``sites``, ``households``,
        ``post_offices``), empty when no site used candidate positions.
    radius : dict of str -> int
        Sites using the stated radius, per geocode precision (radius above 0).
    exact : int
        Sites with no location range (radius 0: user coordinates).
    """
    from gapmap.analysis import uncertainty

    sites = result.sites
    if not len(sites) or "geocode_precision" not in sites:
        return {}, {}, 0
    radius = uncertainty.location_radius(sites["geocode_precision"], result.settings)
    exact = int((radius <= 0).sum())
    note = next((a for a in result.approximations if getattr(a, "key", None) == "appx_location_candidates"), None)
    if note is not None:
        return dict(note.params), dict(note.params.get("radius_by_precision", {})), exact
    counts = sites["geocode_precision"].astype(str)[radius > 0].value_counts().sort_index()
    return {}, {str(p): int(n) for p, n in counts.items()}, exact


def rests_on(result, Lr: dict) -> list[str]:
    """The items (HTML) of "The range rests on:" for this run: candidate positions and radii where
    each was used, with their site counts, then the method ranges the run's travel times use."""
    from gapmap.travel import straight

    from gapmap.analysis import privacy

    s = result.settings
    lang = s.lang
    cand, radius, exact = location_basis(result)
    radii = s.location_radius_m
    counts = [cand.get("sites", 0), *radius.values(), exact]
    # Site counts by geocoding are blanked as summary.json's tally is: all of them when one is small.
    shown = not privacy.counts_hidden(counts, s)

    def many(n: int, key: str) -> str:
        return Lr[key].format(n=report_int(n, lang), sites=Lr["site_one"] if n == 1 else Lr["site_many"]) if shown else ""

    items = []
    if cand.get("sites"):
        items.append(Lr["sure_candidates"].format(for_sites=many(cand["sites"], "for_sites"),
                                                  households=report_int(cand.get("households", 0), lang),
                                                  post_offices=report_int(cand.get("post_offices", 0), lang)))
    if radius:
        order = [p for p in radii if p in radius] + sorted(p for p in radius if p not in radii)
        text = ", ".join(f"{Lr[_PRECISION_KEYS[p]] if p in _PRECISION_KEYS else esc(p)} "
                         f"{_distance(radii.get(p, radii.get('postal_area', 0.0)), lang)}{many(radius[p], 'count_sites')}"
                         for p in order)
        items.append(Lr["sure_radius"].format(for_sites=many(sum(radius.values()), "for_sites"), radii=text))
    if exact:
        items.append(Lr["sure_exact"].format(n=report_int(exact, lang) if shown else "–"))
    f_lo, f_hi = s.speed_factor_range
    speeds = dict(lo=report_pct(f_lo, lang), hi=report_pct(f_hi, lang))
    if s.mode == "transit":  # the window's spread is the method range; no speed factor applies
        items.append(Lr["sure_transit"].format(start=esc(s.transit_window[0]), end=esc(s.transit_window[1])))
    elif result.method.startswith(straight.STRAIGHT_LINE):
        c_lo, c_hi = s.circuity_bounds()
        items.append(Lr["sure_circuity"].format(lo=report_num(c_lo, lang), hi=report_num(c_hi, lang)))
        items.append(Lr["sure_speed"].format(**speeds))
    else:
        items.append(Lr["sure_speed_network"].format(**speeds))
    return items


def _distance(metres: float, lang: str) -> str:
    if metres >= 1000:
        return f"{report_num(metres / 1000, lang)}\u00a0km"
    return f"{report_int(metres, lang)}\u00a0m"


# --------------------------------------------------------------------------- method, approximations


def method_text(result, Lr: dict) -> str:
    """The method in the report's language (HTML)."""
    from gapmap.travel import straight

    s = result.settings
    if s.lang == "en":
        return esc(result.method)
    if not result.method.startswith(straight.STRAIGHT_LINE):  # road network or transit schedule
        from gapmap.output.i18n import network_method_fr

        return esc(network_method_fr(result.method) or result.method)
    return Lr["method_straight"].format(c=report_num(s.circuity, "fr"), v=report_num(s.speeds_kmh[s.mode], "fr"),
                                        mode=Lr.get(f"mode_{s.mode}", esc(s.mode)))


def approximations_text(result, Lr: dict) -> list[str]:
    """The approximations as HTML items in the report's language (:func:`gapmap.output.i18n.message_html`)."""
    return [message_html(a, result.settings.lang) for a in result.approximations]


def _headline(result, areas_table, Lr, W) -> str:
    s = result.settings
    lang = s.lang
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    tot = areas_table.iloc[-1]
    n = lambda c: report_int(tot.get(c), lang)  # noqa: E731
    return Lr["headline"].format(n=n(f"{pre}_workers_not"), total=n("workers"), sn=n(f"{pre}_sites_not"), st=n("sites"),
                                 lo=n(f"{pre}_workers_not_lower"), hi=n(f"{pre}_workers_not_upper"), p=n(f"{pre}_pop_not"),
                                 ptotal=n("population"), **W)


def _coverage_section(result, coverage, L, Lr) -> str:
    s = result.settings
    lang = s.lang
    body = [[esc(cat_label(r["category"], lang)), Lr.get(f"mode_{r['mode']}", esc(r["mode"])), report_num(r["threshold_min"], lang),
             report_int(r.get("sites_covered"), lang), report_int(r.get("workers_covered"), lang),
             report_pct(r.get("workers_covered_share"), lang), report_int(r.get("population_covered"), lang),
             report_pct(r.get("population_covered_share"), lang)] for r in coverage]
    headers = [Lr[k] for k in ("cov_category", "cov_mode", "cov_threshold", "cov_sites", "cov_workers", "cov_workers_share",
                               "cov_people", "cov_people_share")]
    parts = [f"<h2>{Lr['coverage_title']}</h2>", _table(headers, body)]
    for cat in s.categories:
        png = _curve_png(result, cat, L, coverage)
        mode = Lr.get(f"mode_{s.mode}", esc(s.mode))
        cap = L["curve_caption"].format(cat=esc(cat_label(cat, lang)), mode=mode, method=method_text(result, Lr))
        parts.append(_img(png, cap))
    return "".join(parts)


def build_report(result, areas_table: pd.DataFrame, coverage: list[dict], attributions: list[str],
                 recommendations: pd.DataFrame | None = None, siting=None) -> str:
    """HTML text of the report.

    Parameters
    ----------
    areas_table, coverage : the published copies (public mode) or the full ones (internal).
    recommendations : GeoDataFrame, optional
        The run's published recommendation rows (``files.py``); with ``siting`` (its
        :class:`~gapmap.analysis.siting.SitingResult`) for the notes and totals.
    siting : SitingResult, optional
        Without ``recommendations``, the report computes :data:`DEFAULT_SITES` sites for the
        headline itself (:func:`default_siting`) and publishes them by the same rule.
    """
    s = result.settings
    lang = s.lang
    L = labels(lang)
    Lr = report_labels(lang)
    W = _words(result)
    places = _gazetteer(result)
    computed_here = False
    totals, requested = None, None
    if recommendations is not None and siting is not None:
        recs = recommendations
        _, totals = published_siting(siting, coverage, s)
        requested = _requested(siting)
    else:
        siting = default_siting(result) if recommendations is None else None
        computed_here = siting is not None
        recs, totals = published_siting(siting, coverage, s) if siting is not None else (recommendations, None)
        requested = DEFAULT_SITES if computed_here else None
    close = _close_section(result, recs, totals, requested, computed_here, places, Lr, W) if recs is not None else ""
    region = esc(place_name(result.region.name, lang))
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{region}: {L['report_title']}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{region}</h1><p class='small'>{L['report_title']} · {esc(place_name(result.region.lead, lang))} · "
             f"{Lr['data_line']} · gapmap</p>",
             f"<p class='headline'>{_headline(result, areas_table, Lr, W)}</p>",
             _img(_map_png(result, areas_table, recs, places, Lr, W), Lr["map_caption"].format(**W)),
             _gaps_section(result, areas_table, Lr, W),
             close,
             _sure_section(result, areas_table, Lr, W),
             _coverage_section(result, coverage, L, Lr),
             f"<h2>{L['method']}</h2><p>{_capital(method_text(result, Lr))}.</p>",
             f"<h2>{L['approximations']}</h2><ul>" + "".join(f"<li>{a}</li>" for a in approximations_text(result, Lr)) + "</ul>"]
    if result.notes:
        items = [message_html(n, lang) for n in result.notes]
        parts.append(f"<h2>{L['notes']}</h2><ul>" + "".join(f"<li>{n}</li>" for n in items) + "</ul>")
    parts.append(f"<h2>{L['sources']}</h2><ul>" + "".join(f"<li>{esc(place_name(a, lang))}</li>" for a in attributions)
                 + "</ul></body></html>")
    return "\n".join(parts) + "\n"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _requested(siting) -> int | None:
    """The ``p`` a siting run asked for (MCLP), from its problem text; None for a target-share run."""
    m = re.search(r"at most (\d+) new site", str(siting.totals.get("problem", "")))
    return int(m.group(1)) if m else None
