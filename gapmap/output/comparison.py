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
.gm-table th button{font:inherit;font-weight:bold;background:none;border:0;padding:0;cursor:pointer;text-align:inherit;color:inherit}
.gm-table th button:focus-visible{outline:2px solid #1f78b4;outline-offset:1px}
.gm-table th[aria-sort=ascending] button::after{content:" \\25B2"}
.gm-table th[aria-sort=descending] button::after{content:" \\25BC"}
.gm-note{font-size:12px;color:#444;max-width:900px}
.leaflet-control-layers{font-size:12px}
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
        gdf = gpd.GeoDataFrame({"slug": [o.slug for o in drawn]},
                               geometry=[o.boundary for o in drawn], crs="EPSG:4326")
        # Frame every region drawn, whatever its province: the page compares all of them.
        b = gdf.total_bounds
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
        # Expanded: the collapsed toggle needs Leaflet's images/layers.png, which is not inlined.
        folium.LayerControl(collapsed=False).add_to(m)
    else:
        m.fit_bounds([[41.7, -141.0], [83.1, -52.6]])  # Canada; no region drawn, so no layer to control
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


#: Sorts the table by a clicked header (plain JS, no library: the page works offline). Blanks
#: (no data-v) stay last in both directions; ties keep their order (Array.sort is stable).
_SORT_JS = """<script>
(function () {
  var table = document.querySelector("table.gm-table");
  if (!table) return;
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = th.getAttribute("data-type") === "num";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        var xBlank = x === null || x === "", yBlank = y === null || y === "";
        if (xBlank || yBlank) return xBlank === yBlank ? 0 : (xBlank ? 1 : -1);
        var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>"""


def _cell(text: str, value, *, cls: str = "") -> str:
    """A ``<td>`` showing ``text`` (HTML, escaped by the caller) and sorting by ``value`` (blank: none)."""
    if value is None or pd.isna(value):
        sort = ""
    elif isinstance(value, str):
        sort = f" data-v=\"{esc(value)}\""
    else:
        sort = f" data-v=\"{float(value):.6g}\""
    attr = f" class='{cls}'" if cls else ""
    return f"<td{attr}{sort}>{text}</td>"


def _table_html(table: pd.DataFrame, settings: Settings, what: str) -> str:
    keys = [c[: -len("_workers_covered_share")] for c in table.columns if c.endswith("_workers_covered_share")]
    n = table["status"].value_counts()
    methods = sorted({m for m in table.loc[table["status"] == "ok", "method"]})
    k = settings.k_anonymity
    head = [("Region", "text"), ("Status", "text"), ("Sites", "num"), ("Workers", "num"), ("People", "num"),
            (f"Workers beyond {settings.headline_threshold:g} min of a {settings.headline_category.replace('_', ' ')}", "num"),
            ("Share", "num"), ("Workers placed only at a postal area*", "num")]
    head += [(f"{key.rsplit('_', 1)[0].replace('_', ' ')} {key.rsplit('_', 1)[1][:-3]} min: workers / people covered", "num")
             for key in keys]
    out = ["<div class='gm-table-wrap'><h1>LIP regions compared</h1>",
           f"<p>{int(n.get('ok', 0))} regions analysed, {int(n.get('skipped', 0))} skipped (no offline data), "
           f"{int(n.get('failed', 0))} failed. Method: {esc('; '.join(methods) or 'none')}. "
           f"Map shading: {esc(what)}; click a region for its own map. Worker figures from fewer than "
           f"{k} sites are blanked in public mode. Workers are LMIA-approved positions "
           "(Primary Agriculture by default), placed at postal-code, community or rural post-office points, "
           "else at a postal-area centroid (the starred column). "
           "Click a column header to sort by it (again to reverse); blanks stay last.</p>",
           "<table class='gm-table'><thead><tr>"
           + "".join(f"<th scope='col' data-type='{kind}' aria-sort='none'><button type='button'>{esc(h)}</button></th>"
                     for h, kind in head) + "</tr></thead><tbody>"]
    for r in table.to_dict("records"):
        name = esc(r["name"])
        if r["status"] == "ok":
            name = f"<a href=\"{url_path(r['slug'], 'map.html')}\">{name}</a>"
        status = r["status"] + (f": {r['reason']}" if r["reason"] else "")
        cells = [_cell(f"{name}<br><small>{esc(r['slug'])}</small>", str(r["name"]), cls="t"),
                 _cell(esc(status), status, cls="t status")]
        cells += [_cell(_fmt(r[c]), r[c]) for c in ("sites", "workers", "population", "workers_beyond")]
        cells += [_cell(_fmt(r[c], "share"), r[c]) for c in ("workers_beyond_share", "workers_postal_area_share")]
        cells += [_cell(f"{_fmt(r[f'{key}_workers_covered_share'], 'share')} / {_fmt(r[f'{key}_population_covered_share'], 'share')}",
                        r[f"{key}_workers_covered_share"]) for key in keys]
        out.append(f"<tr class='{esc(r['status'])}'>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.append("<p class='gm-note'>* Workers placed only at a postal area: the share of the region's workers whose site is "
               "known only to its postal area (FSA): their travel times rest on the area's centroid, which can be "
               f"30 km or more from the farm. Blank where it would rest on fewer than {k} sites or workers, or would "
               "let a blanked figure of the region be worked out from the ones published. Columns of two shares sort "
               "by the workers' share.</p></div>")
    out.append(_SORT_JS)
    return "".join(out)
