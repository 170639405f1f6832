"""``comparison.html`` of a batch run: the regions shaded by their headline gap on one map, then the table.

Self-contained and deterministic like ``map.html`` (it reuses :func:`gapmap.output.webmap.render_html`);
every text is escaped by :mod:`gapmap.output.html` for its context.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from gapmap.output.html import esc, ramp_legend, url_path
from gapmap.settings import Settings

if TYPE_CHECKING:
    from gapmap.batch import RegionOutcome


def _fmt(v, kind: str = "int") -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if kind == "share":
        return f"{float(v):.1%}"
    return f"{int(v):,}"


_CSS = """<style>
.gm-table-wrap{padding:10px 14px;font:13px/1.4 sans-serif;overflow-x:auto}
.gm-table-wrap h1{font-size:18px;margin:6px 0}
.gm-table{border-collapse:collapse;font-size:12px}
.gm-table th,.gm-table td{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}
.gm-table th{background:#f2f2f2;position:sticky;top:0}
.gm-table td.t{text-align:left;white-space:normal;min-width:170px;max-width:340px}
.gm-table tr.skipped td,.gm-table tr.failed td{color:#777}
.gm-table tr.failed td.status{color:#b00}
</style>"""


def comparison_html(outcomes: Sequence[RegionOutcome], table: pd.DataFrame, settings: Settings) -> str:
    """Self-contained, deterministic HTML: a map of the regions shaded by the headline gap, then the table.

    Every text is escaped for its context (:mod:`gapmap.output.html`); popups and tooltips reach
    Leaflet as JSON strings; each region links to ``<slug>/map.html``.
    """
    import branca.colormap as cm
    import folium
    import geopandas as gpd

    from gapmap.output.webmap import RawHtml, SafePopup, SafeTooltip, render_html, to_geojson

    head_cat, head_t = settings.headline_category, settings.headline_threshold
    what = f"share of workers beyond {head_t:g} min of a {head_cat.replace('_', ' ')}"
    rows = table.set_index("slug")
    drawn = [o for o in outcomes if o.status == "ok" and o.boundary is not None and not o.boundary.is_empty]
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, height="62%")
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr="© OpenStreetMap contributors (ODbL)").add_to(m)
    cmap = cm.LinearColormap(["#ffffcc", "#fd8d3c", "#bd0026"], vmin=0.0, vmax=1.0, caption=what)
    if drawn:
        gdf = gpd.GeoDataFrame({"slug": [o.slug for o in drawn], "province": [o.province for o in drawn]},
                               geometry=[o.boundary for o in drawn], crs="EPSG:4326")
        # Frame the shaded regions of the province holding most regions (southern Ontario here):
        # the far-north census divisions and other provinces are a zoom or pan away.
        main_prov = gdf["province"].value_counts().sort_index().idxmax()
        shaded = rows.loc[gdf["slug"], "workers_beyond_share"].notna().to_numpy()
        focus = gdf[(gdf["province"] == main_prov).to_numpy() & shaded]
        b = (focus if len(focus) else gdf[gdf["province"] == main_prov]).total_bounds
        m.fit_bounds([[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]])
        gj = to_geojson(gdf, ["slug"], precision=4)
        fg = folium.FeatureGroup(name=esc(f"Regions: {what}"))
        for o, feat in zip(drawn, gj["features"]):
            r = rows.loc[o.slug]
            share = r["workers_beyond_share"]
            has = not pd.isna(share) and not pd.isna(r["workers"]) and r["workers"] > 0
            colour = cmap(float(share)) if has else "#cccccc"
            k = settings.k_anonymity
            beyond = (f"{_fmt(r['workers_beyond'])} of {_fmt(r['workers'])} workers ({_fmt(share, 'share')})" if has else
                      f"suppressed (fewer than {k} sites)" if bool(r["suppressed"]) else "no LMIA workers"
                      if pd.isna(r["workers"]) or not r["workers"] else f"suppressed (fewer than {k} workers)")
            popup = (f"<b>{esc(o.name)}</b><br>{esc(what)}: {esc(beyond)}<br>"
                     f"<i>{esc(o.method)}</i><br><a href=\"{url_path(o.slug, 'map.html')}\" target=\"_blank\">"
                     f"Open the region map</a> · <a href=\"{url_path(o.slug, 'report.html')}\" target=\"_blank\">report</a>")
            folium.GeoJson(
                {"type": "FeatureCollection", "features": [feat]},
                style_function=lambda f, c=colour: {"fillColor": c, "color": "#555", "weight": 0.8, "fillOpacity": 0.7},
            ).add_child(SafeTooltip(esc(f"{o.name}: {beyond}"))).add_child(SafePopup(popup, max_width=320)).add_to(fg)
        fg.add_to(m)
    else:
        m.fit_bounds([[41.7, -95.2], [56.9, -74.3]])  # Ontario
    # Expanded: the collapsed toggle needs Leaflet's images/layers.png, which is not inlined.
    folium.LayerControl(collapsed=False).add_to(m)
    root = m.get_root()
    root.header.add_child(RawHtml(_CSS))
    legend = ("<div style='position:absolute;top:calc(62% - 96px);right:10px;z-index:9999;background:rgba(255,255,255,.94);"
              "padding:6px 8px;border:1px solid #888;border-radius:4px;font:12px sans-serif'>"
              + ramp_legend(what, (cmap(v / 4) for v in range(5)), "no LMIA workers, or suppressed") + "</div>")
    root.html.add_child(RawHtml(legend))
    page = render_html(m)
    # folium renders the map div after every element added to the page body; the table goes
    # below the map, so it is placed after rendering (it holds no folium id to renumber).
    head, tag, tail = page.rpartition("</body>")
    return head + _table_html(table, settings, what) + "\n" + tag + tail


def _table_html(table: pd.DataFrame, settings: Settings, what: str) -> str:
    keys = [c[: -len("_workers_covered_share")] for c in table.columns if c.endswith("_workers_covered_share")]
    n = table["status"].value_counts()
    methods = sorted({m for m in table.loc[table["status"] == "ok", "method"]})
    head = ["Region", "Status", "Sites", "Workers", "People", f"Workers beyond {settings.headline_threshold:g} min of a "
            f"{settings.headline_category.replace('_', ' ')}", "Share"]
    head += [f"{k.rsplit('_', 1)[0].replace('_', ' ')} {k.rsplit('_', 1)[1][:-3]} min: workers / people covered" for k in keys]
    out = ["<div class='gm-table-wrap'><h1>LIP regions compared</h1>",
           f"<p>{int(n.get('ok', 0))} regions analysed, {int(n.get('skipped', 0))} skipped (no offline data), "
           f"{int(n.get('failed', 0))} failed. Method: {esc('; '.join(methods) or 'none')}. "
           f"Map shading: {esc(what)}; click a region for its own map. Worker figures from fewer than "
           f"{settings.k_anonymity} sites are blanked in public mode. Workers are LMIA-approved positions "
           "(Primary Agriculture by default), sited at community points or postal-area centroids.</p>",
           "<table class='gm-table'><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in table.to_dict("records"):
        name = esc(r["name"])
        if r["status"] == "ok":
            name = f"<a href=\"{url_path(r['slug'], 'map.html')}\">{name}</a>"
        status = esc(r["status"] + (f": {r['reason']}" if r["reason"] else ""))
        cells = [f"<td class='t'>{name}<br><small>{esc(r['slug'])}</small></td>", f"<td class='t status'>{status}</td>"]
        cells += [f"<td>{_fmt(r[c])}</td>" for c in ("sites", "workers", "population", "workers_beyond")]
        cells.append(f"<td>{_fmt(r['workers_beyond_share'], 'share')}</td>")
        cells += [f"<td>{_fmt(r[f'{k}_workers_covered_share'], 'share')} / {_fmt(r[f'{k}_population_covered_share'], 'share')}</td>"
                  for k in keys]
        out.append(f"<tr class='{esc(r['status'])}'>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)
