"""The interactive folium map (``map.html``): self-contained, offline once opened, deterministic.

Leaflet is inlined from the vendored copy in ``static`` (no CDN); element ids that folium
draws at random are renumbered so the same inputs give the same bytes. Every text taken
from input data is HTML-escaped before it reaches a popup or tooltip.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Iterable

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CATEGORY_COLOURS = {
    "hospital": "#c0392b",
    "primary_care": "#2471a3",
    "residential_care": "#7d3c98",
    "settlement": "#1e8449",
    "language": "#b9770e",
    "library": "#5d6d7e",
}
_FALLBACK_COLOURS = ["#17a589", "#a04000", "#566573", "#d4ac0d", "#884ea0"]
BAND_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59"]


#: Above this many services of one category the map draws them as plain dots, not markers.
MAP_SERVICE_MARKERS = 2000


def category_colour(cat: str, i: int = 0) -> str:
    return CATEGORY_COLOURS.get(cat, _FALLBACK_COLOURS[i % len(_FALLBACK_COLOURS)])


def _esc(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return html.escape(str(value))


def to_geojson(gdf: gpd.GeoDataFrame, props: Iterable[str], *, simplify_m: float = 0.0, precision: int = 5) -> dict:
    """GeoJSON dict in EPSG:4326 with rounded coordinates and only ``props`` (escaped strings or numbers)."""
    geom = gdf.geometry
    if simplify_m:
        geom = geom.simplify(simplify_m, preserve_topology=True)
    geom = gpd.GeoSeries(geom, crs=gdf.crs).to_crs("EPSG:4326")
    geom = shapely.set_precision(geom.values, 10.0 ** -precision)
    feats = []
    for (_, row), g in zip(gdf.iterrows(), geom):
        if g is None or g.is_empty:
            continue
        properties = {}
        for p in props:
            v = row[p]
            if isinstance(v, (bool, np.bool_)):
                properties[p] = bool(v)
            elif isinstance(v, (int, np.integer)):
                properties[p] = int(v)
            elif isinstance(v, (float, np.floating)):
                properties[p] = None if np.isnan(v) else round(float(v), 4)
            else:
                properties[p] = None if v is None else html.escape(str(v))
        feats.append({"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def _inline_assets(page: str) -> str:
    """Replace CDN script/link tags with the vendored Leaflet files; drop the ones not needed."""
    static = resources.files("gapmap.output") / "static"
    inline = {
        "leaflet.js": ("script", "leaflet.js"),
        "leaflet.css": ("style", "leaflet.css"),
        "leaflet.markercluster.js": ("script", "leaflet.markercluster.js"),
        "MarkerCluster.css": ("style", "MarkerCluster.css"),
        "MarkerCluster.Default.css": ("style", "MarkerCluster.Default.css"),
    }

    def repl(match: re.Match) -> str:
        url = match.group("url")
        name = url.rsplit("/", 1)[-1]
        if name not in inline:
            return ""
        tag, fname = inline[name]
        body = (static / fname).read_text(encoding="utf-8")
        return f"<script>{body}</script>" if tag == "script" else f"<style>{body}</style>"

    page = re.sub(r'<script src="(?P<url>[^"]+)"></script>', repl, page)
    page = re.sub(r'<link rel="stylesheet" href="(?P<url>[^"]+)"/>', repl, page)
    return page


def _stable_ids(page: str) -> str:
    """Renumber folium's random 32-hex element ids in order of first appearance."""
    seen: dict[str, str] = {}

    def repl(match: re.Match) -> str:
        key = match.group(0)
        if key not in seen:
            seen[key] = f"{len(seen):032x}"
        return seen[key]

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", repl, page)


def render_html(m: folium.Map) -> str:
    """Full, self-contained and deterministic HTML of a folium map."""
    return _stable_ids(_inline_assets(m.get_root().render()))


def _box(html_text: str, position: str, extra_style: str = "") -> folium.Element:
    pos = {"bottomleft": "bottom:20px;left:10px", "bottomright": "bottom:20px;right:10px", "topcenter": "top:10px;left:60px"}[position]
    return folium.Element(
        f'<div class="gapmap-box" style="position:fixed;{pos};z-index:9999;background:rgba(255,255,255,.94);'
        f'padding:8px 10px;border:1px solid #888;border-radius:4px;font:12px/1.35 sans-serif;max-width:380px;{extra_style}">{html_text}</div>'
    )


_ICON = ("<div style='background:{c};color:#fff;border:1.5px solid #fff;border-radius:{r};width:18px;height:18px;"
         "line-height:17px;text-align:center;font:bold 12px sans-serif;box-shadow:0 0 2px #000'>{g}</div>")
_GLYPHS = {"hospital": ("H", "3px"), "primary_care": ("+", "50%"), "residential_care": ("R", "50%")}


def _icon(cat: str, i: int) -> folium.DivIcon:
    glyph, radius = _GLYPHS.get(cat, (html.escape(cat[:1].upper()), "50%"))
    return folium.DivIcon(html=_ICON.format(c=category_colour(cat, i), r=radius, g=glyph), icon_size=(18, 18), icon_anchor=(9, 9))


def build_map(result, *, public_sites: gpd.GeoDataFrame | None = None, areas_table: pd.DataFrame | None = None,
              recommendations: gpd.GeoDataFrame | None = None, hexes: gpd.GeoDataFrame | None = None,
              attributions: list[str]) -> folium.Map:
    """Folium map of one analysis.

    Parameters
    ----------
    public_sites : GeoDataFrame, optional
        Hexagon aggregates (public mode); without it the exact site points are drawn (internal).
    areas_table : DataFrame, optional
        The area table to show (the suppressed copy in public mode); default ``result.areas_table``.
    recommendations : GeoDataFrame, optional
        Recommended new service sites (``rank, name, workers_newly_covered, people_newly_covered``).
    """
    from gapmap.output.i18n import cat_label, headline_text, labels

    s = result.settings
    L = labels(s.lang)
    head_cat, head_t = s.headline_category, s.headline_threshold
    hc = cat_label(head_cat, s.lang)
    pre = f"{head_cat}_{head_t:g}min"
    table = result.areas_table if areas_table is None else areas_table
    boundary = result.layers["boundary"].gdf
    b4326 = boundary.to_crs("EPSG:4326").total_bounds
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr="© OpenStreetMap contributors (ODbL)").add_to(m)
    m.fit_bounds([[b4326[1], b4326[0]], [b4326[3], b4326[2]]])

    # Areas shaded by the share of workers beyond the headline threshold (grey: no sites or suppressed).
    areas = result.layers["areas"].gdf.merge(table, on=["area_id", "area_name"], how="left")
    share_col = f"{pre}_workers_not_share"
    cmap = cm.LinearColormap(["#ffffcc", "#fd8d3c", "#bd0026"], vmin=0.0, vmax=1.0,
                             caption=L["share_caption"].format(t=f"{head_t:g}", cat=hc))
    props = ["area_name", "sites", "workers", f"{pre}_workers_not", share_col, "population", f"{pre}_pop_not"]
    gj = to_geojson(areas, props, simplify_m=25)

    def area_style(feat):
        v = feat["properties"].get(share_col)
        return {"fillColor": "#cccccc" if v is None else cmap(v), "color": "#444", "weight": 1.2, "fillOpacity": 0.6}

    folium.GeoJson(
        gj, name=L["areas_layer"].format(t=f"{head_t:g}", cat=hc), style_function=area_style,
        tooltip=folium.GeoJsonTooltip(props, aliases=[L["area"], L["sites"], L["workers"], L["workers_beyond"].format(t=f"{head_t:g}"),
                                                      L["share_beyond"], L["population"], L["people_beyond"].format(t=f"{head_t:g}")]),
    ).add_to(m)
    folium.GeoJson(to_geojson(boundary, ["name"], simplify_m=25), name=L["boundary"],
                   style_function=lambda f: {"fill": False, "color": "#000", "weight": 2.5}).add_to(m)

    # People beyond the headline threshold per H3 hexagon (off at start).
    people_col = f"{pre}_people_not"
    if hexes is not None and len(hexes) and people_col in hexes:
        hx = hexes[hexes["people"] > 0]
        top = float(hx[people_col].max()) or 1.0
        folium.GeoJson(
            to_geojson(hx, ["hex_id", "people", people_col]), name=L["hex_layer"].format(t=f"{head_t:g}", cat=hc), show=False,
            style_function=lambda f: {"fillColor": "#08519c", "color": "#08519c", "weight": 0.3,
                                      "fillOpacity": 0.1 + 0.7 * (f["properties"][people_col] or 0) / top},
            tooltip=folium.GeoJsonTooltip(["people", people_col], aliases=[L["population"], L["people_beyond"].format(t=f"{head_t:g}")]),
        ).add_to(m)

    # Catchment bands: outlines with a light fill so the area shading stays readable underneath.
    for ci, cat in enumerate(s.categories):
        fg = folium.FeatureGroup(name=f"{L['catchments'].format(cat=cat_label(cat, s.lang))} ({result.method})", show=(cat == head_cat))
        bands = result.catchments[result.catchments["category"] == cat].sort_values("threshold_min", ascending=False)
        for bi, (_, band) in enumerate(bands.iterrows()):
            colour = BAND_COLOURS[min(len(bands) - 1 - bi, len(BAND_COLOURS) - 1)]
            folium.GeoJson(
                to_geojson(gpd.GeoDataFrame([band], geometry="geometry", crs=result.catchments.crs), ["category", "threshold_min"], simplify_m=50),
                style_function=lambda f, c=colour: {"fillColor": c, "color": c, "weight": 1.5, "fillOpacity": 0.12},
                tooltip=f"{L['within'].format(t=f'{band.threshold_min:g}')} · {_esc(cat_label(cat, s.lang))} ({_esc(result.method)})",
            ).add_to(fg)
        fg.add_to(m)

    # Transit routes in their own colours, and stops with trips per hour in the window.
    if result.transit_routes is not None and len(result.transit_routes):
        routes = result.transit_routes.copy()
        routes["label"] = (routes["route_short_name"].fillna("").astype(str) + " " + routes["route_long_name"].fillna("").astype(str)).str.strip()
        folium.GeoJson(
            to_geojson(routes, ["label", "color"], simplify_m=5), name=L["transit_routes"],
            style_function=lambda f: {"color": f["properties"]["color"] or "#1F77B4", "weight": 3, "opacity": 0.85},
            tooltip=folium.GeoJsonTooltip(["label"], aliases=[L["route"]]),
        ).add_to(m)
        stops = result.transit_stops.to_crs("EPSG:4326")
        fg = folium.FeatureGroup(name=L["transit_stops"], show=False)
        for _, row in stops.iterrows():
            tph = row.get("trips_per_hour")
            tip = _esc(row["stop_name"]) + (f" · {float(tph):g} {L['trips_h']} ({s.transit_window[0]}-{s.transit_window[1]})"
                                             if tph is not None and not pd.isna(tph) else "")
            folium.CircleMarker([round(row.geometry.y, 5), round(row.geometry.x, 5)], radius=2.5, color="#333", weight=1,
                                fill=True, fill_opacity=0.8, tooltip=tip).add_to(fg)
        fg.add_to(m)

    # Services by category: a glyph per category, clustered when dense.
    from folium.plugins import MarkerCluster

    services = result.layers["services"].gdf
    services = services[services["category"].isin(s.categories)].to_crs("EPSG:4326")
    for ci, cat in enumerate(s.categories):
        fg = folium.FeatureGroup(name=L["services"].format(cat=cat_label(cat, s.lang)))
        rows = services[services["category"] == cat]
        if len(rows) > MAP_SERVICE_MARKERS:
            # One element per marker costs ~3 ms and ~30 kB of memory in folium: a large file is drawn
            # as one layer of dots (no text; names and details are in layers.gpkg).
            xy = np.column_stack([rows.geometry.x.to_numpy(), rows.geometry.y.to_numpy()]).round(5)
            folium.GeoJson({"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": xy.tolist()}},
                           marker=folium.CircleMarker(radius=2, weight=0, fill=True, fill_opacity=0.7,
                                                      fill_color=category_colour(cat, ci))).add_to(fg)
            fg.add_to(m)
            continue
        cluster = MarkerCluster(options={"maxClusterRadius": 30, "disableClusteringAtZoom": 13}).add_to(fg)
        for _, row in rows.iterrows():
            extra = "".join(f"<br>{_esc(col.replace('_', ' '))}: {_esc(row[col])}" for col in ("opening_hours", "languages", "capacity")
                            if col in row.index and not pd.isna(row[col]) and str(row[col]) != "")
            popup = (f"<b>{_esc(row['name'])}</b><br>{_esc(cat_label(cat, s.lang))} · {_esc(row['source_type'])}<br>"
                     f"{_esc(row['address'])}<br>{L['in_region'] if row['in_region'] else L['outside_region']}{extra}")
            folium.Marker([round(row.geometry.y, 5), round(row.geometry.x, 5)], icon=_icon(cat, ci),
                          popup=folium.Popup(popup, max_width=300), tooltip=_esc(row["name"])).add_to(cluster)
        fg.add_to(m)

    # Sites: hexagon aggregates in public mode, exact geocoded points in internal mode.
    if public_sites is not None:
        if len(public_sites):
            cols = ["hex_id", "sites", "workers", *[c for c in public_sites.columns if c.endswith("_workers_not")]]
            folium.GeoJson(
                to_geojson(public_sites, cols), name=L["sites_public"].format(k=s.k_anonymity),
                style_function=lambda f: {"fillColor": "#6c3483", "color": "#4a235a", "weight": 1, "fillOpacity": 0.5},
                tooltip=folium.GeoJsonTooltip(["sites", "workers", f"{pre}_workers_not"],
                                              aliases=[L["sites"], L["workers"], L["workers_beyond"].format(t=f"{head_t:g}")]),
            ).add_to(m)
    else:
        fg = folium.FeatureGroup(name=L["sites_internal"])
        for _, row in result.sites.to_crs("EPSG:4326").iterrows():
            mins = row[f"{head_cat}_min"]
            popup = (f"<b>{_esc(row['employer'])}</b><br>{_esc(row['community'])} ({_esc(row['geocode_precision'])})<br>"
                     f"{L['workers']}: {int(row['workers'])}<br>{L['nearest'].format(cat=_esc(hc))}: {_esc(row[f'{head_cat}_nearest'])}, "
                     f"{_esc(mins)} {L['minutes']} ({_esc(result.method)})")
            folium.CircleMarker([round(row.geometry.y, 5), round(row.geometry.x, 5)], radius=float(3 + np.sqrt(row["workers"])),
                                color="#4a235a", weight=1, fill=True, fill_color="#8e44ad", fill_opacity=0.6,
                                popup=folium.Popup(popup, max_width=300)).add_to(fg)
        fg.add_to(m)

    if recommendations is not None and len(recommendations):
        fg = folium.FeatureGroup(name=L["recommended"])
        for _, row in recommendations.to_crs("EPSG:4326").iterrows():
            tip = (f"#{int(row['rank'])} {_esc(row['name'])}: {L['newly_workers']} {_esc(row['workers_newly_covered'])}, "
                   f"{L['newly_people']} {_esc(row['people_newly_covered'])}")
            folium.Marker([round(row.geometry.y, 5), round(row.geometry.x, 5)], tooltip=tip,
                          icon=folium.DivIcon(html=_ICON.format(c="#111", r="3px", g=int(row["rank"])), icon_size=(18, 18),
                                              icon_anchor=(9, 9))).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    # folium builds popup content with jQuery's $(html)[0]; this shim does that one job without
    # shipping jQuery (87 kB) in every map.
    m.get_root().header.add_child(folium.Element(
        "<script>window.$=window.$||function(h){var t=document.createElement('template');"
        "t.innerHTML=String(h).trim();return [t.content.firstChild];};</script>"
        "<style>.leaflet-control-layers{font-size:12px;max-width:360px}.leaflet-control-layers label{line-height:1.25}</style>"))

    approx = "".join(f"<li>{_esc(a)}</li>" for a in result.approximations)
    cats = ", ".join(cat_label(c, s.lang) for c in s.categories)
    title = (f"<b style='font-size:14px'>{_esc(result.region.name)}</b><br>{_esc(L['title_sub'].format(cats=cats))}<br>"
             f"{headline_text(table.iloc[-1], s, s.lang)}<br><i>{L['method']}: {_esc(result.method)}.</i><br>"
             f"{L['data_as_of']}: ODHF v1.1 (2020), ESDC LMIA 2022-2023, Census 2021."
             f"<details><summary>{L['approximations']}</summary><ul style='padding-left:16px;margin:4px 0'>{approx}</ul></details>")
    m.get_root().html.add_child(_box(title, "bottomleft"))
    if public_sites is None:
        m.get_root().html.add_child(_box(f"<b>{L['internal_banner']}</b>", "topcenter", "background:#fdd;border-color:#c00"))
    ramp = ", ".join(cmap(v / 4) for v in range(5))
    legend = (f"<div>{_esc(cmap.caption)}</div><div style='height:10px;width:200px;background:linear-gradient(to right, {ramp})'></div>"
              "<div style='width:200px;display:flex;justify-content:space-between'><span>0%</span><span>50%</span><span>100%</span></div>"
              f"<div><span style='display:inline-block;width:10px;height:10px;background:#ccc'></span> "
              f"{_esc(L['suppressed'].format(k=s.k_anonymity))}</div>")
    legend += "".join(
        f"<div style='display:flex;gap:4px;align-items:center;margin:1px 0'>{_ICON.format(c=category_colour(c, i), r=_GLYPHS.get(c, ('', '50%'))[1], g=_GLYPHS.get(c, (html.escape(c[:1].upper()),))[0])}"
        f" {_esc(cat_label(c, s.lang))}</div>" for i, c in enumerate(s.categories)
    )
    legend += "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;border:1.5px solid {BAND_COLOURS[i]};background:{BAND_COLOURS[i]}40'></span> "
        f"{L['within'].format(t=f'{t:g}')}</div>" for i, t in enumerate(sorted(s.thresholds_min)) if i < len(BAND_COLOURS)
    )
    legend += f"<div><span style='display:inline-block;width:10px;height:10px;background:#6c3483;opacity:.6'></span> {L['worker_sites']}</div>"
    sources = "<br>".join(_esc(a) for a in attributions)
    m.get_root().html.add_child(_box(f"<b>{L['legend']}</b>{legend}<hr style='margin:4px 0'><b>{L['sources']}</b><br>{sources}", "bottomright"))
    return m
