"""The interactive folium map (``map.html``): self-contained, offline once opened, deterministic.

Leaflet is inlined from the vendored copy in ``static`` (no CDN); element ids that folium
draws at random are renumbered so the same inputs give the same bytes.

Escaping (see :mod:`gapmap.output.html`): popup and tooltip HTML is built here from escaped
pieces and reaches the page as a JSON string through :class:`SafeTooltip` and
:class:`SafePopup`, never through folium's ``Tooltip``/``Popup``, which paste it into
JavaScript template literals where ``${...}`` runs; layer names are HTML-escaped (Leaflet's
layer control shows them as HTML; folium writes them as JSON keys); GeoJSON properties shown
by ``GeoJsonTooltip`` are HTML-escaped strings inside folium's JSON; boxes of HTML go in as
:class:`RawHtml`, never as folium templates (Jinja would evaluate ``{{ ... }}`` in input).
branca also compiles each rendered script as a Jinja template once more, so escaped text has
no ``{`` left (:func:`gapmap.output.html.esc`, :func:`js_string`) and GeoJSON property names
none either (:func:`prop_key`).

What the map shows (issues 15 and 17): only published values (the suppressed copies from
:func:`gapmap.analysis.privacy.public_outputs`; a blank reads "suppressed"). Areas answer the
pointer: the region outline, catchment bands and place-name labels are non-interactive
(``interactive: false``), so hovering a ward shows its figures and a click opens its popup.
Counts are formatted for people in the chosen language (:func:`fmt_int`, :func:`fmt_pct`), with
their uncertainty range (:func:`fmt_range`); areas whose published range is not one value get a
dashed outline and "uncertain" in the tooltip. Hospitals (and the headline category) are never
clustered. The travel-time method is stated once, in the title box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from gapmap.output.html import esc, is_missing, js_string, ramp_legend

BAND_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59"]


#: Above this many services of one category the map draws them as plain dots, not markers.
MAP_SERVICE_MARKERS = 2000


def category_colour(cat: str, i: int = 0) -> str:
    """Map colour of a category, from :mod:`gapmap.categories`."""
    from gapmap import categories

    return categories.colour(cat, i)


def prop_key(column: str) -> str:
    """The GeoJSON property name of a column: the column name without ``{``.

    Column names carry category ids, which can be input; folium's rendered scripts are compiled
    as Jinja templates once more, so a ``{{`` in a property name would be evaluated in Python.
    Property names are only matched against tooltip fields, which use the same mapping.
    """
    return column.replace("{", "(")


def to_geojson(gdf: gpd.GeoDataFrame, props: Iterable[str], *, simplify_m: float = 0.0, precision: int = 5) -> dict:
    """GeoJSON dict in EPSG:4326 with rounded coordinates and only ``props`` (escaped strings or numbers),
    named by :func:`prop_key`."""
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
            v, key = row[p], prop_key(p)
            if isinstance(v, (bool, np.bool_)):
                properties[key] = bool(v)
            elif isinstance(v, (int, np.integer)):
                properties[key] = int(v)
            elif isinstance(v, (float, np.floating)):
                properties[key] = None if np.isnan(v) else round(float(v), 4)
            else:
                properties[key] = None if v is None else esc(v)
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


class SafeTooltip(MacroElement):
    """A tooltip whose HTML reaches Leaflet as a JSON string literal.

    Parameters
    ----------
    html : str
        Tooltip content, already escaped (build it from :func:`gapmap.output.html.esc` pieces).
    sticky : bool
        Follow the mouse, as folium's default.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.content }}, {{ this.options|tojavascript }});
        {% endmacro %}
        """)

    def __init__(self, html: str, sticky: bool = True):
        super().__init__()
        self._name = "Tooltip"
        self.content = js_string(f"<div>{html}</div>")
        self.options = {"sticky": sticky}


class SafePopup(MacroElement):
    """A popup whose HTML reaches Leaflet as a JSON string literal (no jQuery shim needed).

    Parameters
    ----------
    html : str
        Popup content, already escaped (build it from :func:`gapmap.output.html.esc` pieces).
    max_width : int
        Leaflet's ``maxWidth`` in pixels.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.popup({{ this.options|tojavascript }});
            {{ this.get_name() }}.setContent({{ this.content }});
            {{ this._parent.get_name() }}.bindPopup({{ this.get_name() }});
        {% endmacro %}
        """)

    def __init__(self, html: str, max_width: int = 300):
        super().__init__()
        self._name = "Popup"
        self.content = js_string(f"<div>{html}</div>")
        self.options = {"maxWidth": max_width}


def _geojson_tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    """folium's table tooltip with escaped aliases; it puts aliases and values into innerHTML,
    so the values must be the HTML-escaped strings of :func:`to_geojson`."""
    return folium.GeoJsonTooltip([prop_key(f) for f in fields], aliases=[esc(a) for a in aliases])


def safe_colour(value: Any, default: str) -> str:
    """``value`` when it is a ``#rrggbb`` colour (as GTFS ``route_color`` gives), else ``default``."""
    return value if isinstance(value, str) and _HEX_COLOUR.fullmatch(value) else default


_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def render_html(m: folium.Map) -> str:
    """Full, self-contained and deterministic HTML of a folium map."""
    return _stable_ids(_inline_assets(m.get_root().render()))


class RawHtml(Element):
    """An HTML fragment placed in the page as it is.

    ``folium.Element(text)`` compiles ``text`` as a Jinja template, so ``{{ ... }}`` in input
    text would be evaluated in Python when the page renders; here the text is a value the
    template prints, never a template.
    """

    def __init__(self, html: str):
        super().__init__("{{ this.raw }}")
        self.raw = html


def _box(html_text: str, position: str, extra_style: str = "") -> RawHtml:
    pos = {"bottomleft": "bottom:20px;left:10px", "bottomright": "bottom:20px;right:10px", "topcenter": "top:10px;left:60px"}[position]
    return RawHtml(
        f'<div class="gapmap-box" style="position:fixed;{pos};z-index:9999;background:rgba(255,255,255,.94);'
        f'padding:8px 10px;border:1px solid #888;border-radius:4px;font:12px/1.35 sans-serif;max-width:380px;{extra_style}">{html_text}</div>'
    )


_ICON = ("<div style='background:{c};color:#fff;border:1.5px solid #fff;border-radius:{r};width:18px;height:18px;"
         "line-height:17px;text-align:center;font:bold 12px sans-serif;box-shadow:0 0 2px #000'>{g}</div>")


def _glyph(cat: str) -> tuple[str, str]:
    """(HTML glyph, border radius) of a category's marker, from :mod:`gapmap.categories`."""
    from gapmap import categories

    glyph, radius = categories.glyph(cat)
    return esc(glyph), radius


def _icon(cat: str, i: int) -> folium.DivIcon:
    glyph, radius = _glyph(cat)
    return folium.DivIcon(html=_ICON.format(c=category_colour(cat, i), r=radius, g=glyph), icon_size=(18, 18), icon_anchor=(9, 9))


#: Hexagon colour classes of workers beyond the headline threshold (lower bounds of each class).
HEX_CLASSES = (0, 1, 25, 100, 250)
HEX_COLOURS = ("#fff7bc", "#fec44f", "#fe9929", "#d95f0e", "#993404")
SUPPRESSED_COLOUR = "#cccccc"
#: Place-name points further than this outside the region are not labelled (metres).
LABEL_NEAR_M = 3000.0


def fmt_int(value: Any, lang: str, missing: str = "–") -> str:
    """A count for people: ``10,833`` (en) or ``10 833`` with a narrow no-break space (fr)."""
    if is_missing(value):
        return missing
    text = f"{int(round(float(value))):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def fmt_pct(share: Any, lang: str, missing: str = "–") -> str:
    """A share for people: ``49%`` (en) or ``49 %`` with a narrow no-break space (fr)."""
    if is_missing(share):
        return missing
    pct = f"{round(float(share) * 100):.0f}"
    return f"{pct}\u202f%" if lang == "fr" else f"{pct}%"


def fmt_range(point: Any, lower: Any, upper: Any, L: dict, lang: str) -> str:
    """``14 (between 0 and 1,639)``; a blanked point reads as suppressed, a blanked bound is left out."""
    head = L["suppressed_short"] if is_missing(point) else fmt_int(point, lang)
    if is_missing(lower) or is_missing(upper) or float(lower) == float(upper):
        return head
    return f"{head} ({L['between'].format(lo=fmt_int(lower, lang), hi=fmt_int(upper, lang))})"


def is_uncertain(lower: Any, upper: Any) -> bool:
    """An area or headline whose published range is not one value: its count straddles the threshold."""
    return not (is_missing(lower) or is_missing(upper)) and float(lower) != float(upper)


def method_label(result, lang: str) -> str:
    """The travel-time method in the chosen language (the straight-line label is rebuilt in French)."""
    if lang == "fr" and str(result.method).startswith("straight-line"):
        m = re.search(r"drive (\d+(?:\.\d+)?) km/h, circuity (\d+(?:\.\d+)?)", str(result.method))
        if m:
            speed, circ = m.group(1), m.group(2).replace(".", ",")
            return f"approximation à vol d'oiseau (voiture {speed} km/h, facteur de détour {circ})"
        return "approximation à vol d'oiseau"
    if lang == "fr":
        from gapmap.output.i18n import network_method_fr

        return network_method_fr(str(result.method)) or str(result.method)
    return str(result.method)


@dataclass(frozen=True)
class _Ctx:
    """What every step of :func:`build_map` reads: settings, labels and the headline column prefix."""

    result: Any
    s: Any
    L: dict
    head_cat: str
    head_t: float
    hc: str  # headline category label
    pre: str  # column prefix of the headline category and threshold

    @property
    def t(self) -> str:
        return f"{self.head_t:g}"

    @property
    def lang(self) -> str:
        return self.s.lang


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
    hexes : GeoDataFrame, optional
        People per H3 hexagon with ``<cat>_<T>min_people_not`` (a layer off at start).
    attributions : list of str
        Data sources, listed in the legend.

    Returns
    -------
    folium.Map
        Only what ``areas_table`` / ``public_sites`` / ``hexes`` publish is shown; blank values read "suppressed".
    """
    from gapmap.output.i18n import cat_label, labels

    s = result.settings
    hc = cat_label(s.headline_category, s.lang)
    ctx = _Ctx(result, s, labels(s.lang), s.headline_category, s.headline_threshold, hc,
               f"{s.headline_category}_{s.headline_threshold:g}min")
    table = result.areas_table if areas_table is None else areas_table
    m = _base_map(result)
    cmap = _add_areas(m, ctx, table)
    _add_hexes(m, ctx, hexes)
    _add_catchments(m, ctx)
    _add_transit(m, ctx)
    _add_sites(m, ctx, public_sites)
    _add_labels(m, ctx)
    _add_services(m, ctx)
    _add_recommendations(m, ctx, recommendations)
    _add_controls(m)
    _add_title(m, ctx, table, internal=public_sites is None)
    _add_legend(m, ctx, cmap, attributions, public=public_sites is not None,
                recommendations=recommendations is not None and len(recommendations) > 0)
    return m


def view_bounds(result) -> tuple[float, float, float, float]:
    """Initial view (EPSG:4326 ``minx, miny, maxx, maxy``): where people and services are.

    The bounds of the populated census points and of the services inside the region, clipped to
    :func:`gapmap.layers.build.initial_bounds` (which leaves out far, small parts such as Sable
    Island); the whole framed boundary when neither is there. Site positions are not used.
    """
    from gapmap.layers.build import initial_bounds

    frame = initial_bounds(result.layers["boundary"].gdf)
    pts = []
    pop = result.population
    if pop is not None and len(pop):
        pts.append(pop[pop["pop2021"].fillna(0) > 0].geometry.to_crs("EPSG:4326"))
    svc = result.layers["services"].gdf
    if len(svc):
        inside = svc[svc["in_region"].astype(bool)] if "in_region" in svc else svc
        pts.append(inside[inside["category"].isin(result.settings.categories)].geometry.to_crs("EPSG:4326"))
    pts = [p for p in pts if len(p)]
    if not pts:
        return frame
    b = pd.concat(pts).total_bounds
    out = (max(b[0], frame[0]), max(b[1], frame[1]), min(b[2], frame[2]), min(b[3], frame[3]))
    return frame if out[0] >= out[2] or out[1] >= out[3] else tuple(float(v) for v in out)


def _base_map(result) -> folium.Map:
    """An empty map with the OSM base layer, framed on where people and services are."""
    b4326 = view_bounds(result)
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr="© OpenStreetMap contributors (ODbL)").add_to(m)
    m.fit_bounds([[b4326[1], b4326[0]], [b4326[3], b4326[2]]])
    return m


def _area_fields(areas: pd.DataFrame, ctx: _Ctx) -> pd.DataFrame:
    """Text columns of the area tooltip and popup, formatted for people (published values only)."""
    L, pre, lang = ctx.L, ctx.pre, ctx.lang
    col = lambda c: areas[c] if c in areas else pd.Series(np.nan, index=areas.index)  # noqa: E731
    out = pd.DataFrame(index=areas.index)
    out["t_area"] = areas["area_name"].astype(object)
    out["t_sites"] = [fmt_int(v, lang, L["suppressed_short"]) for v in col("sites")]
    out["t_workers"] = [fmt_int(v, lang, L["suppressed_short"]) for v in col("workers")]
    out["t_beyond"] = [fmt_range(p, lo, hi, L, lang) for p, lo, hi in
                       zip(col(f"{pre}_workers_not"), col(f"{pre}_workers_not_lower"), col(f"{pre}_workers_not_upper"))]
    out["t_share"] = [fmt_pct(v, lang, L["suppressed_short"]) for v in col(f"{pre}_workers_not_share")]
    out["t_pop"] = [fmt_int(v, lang) for v in col("population")]
    out["t_pop_beyond"] = [fmt_range(p, lo, hi, L, lang) for p, lo, hi in
                           zip(col(f"{pre}_pop_not"), col(f"{pre}_pop_not_lower"), col(f"{pre}_pop_not_upper"))]
    unc = [is_uncertain(lo, hi) for lo, hi in zip(col(f"{pre}_workers_not_lower"), col(f"{pre}_workers_not_upper"))]
    out["t_places"] = _places_in(areas, ctx)
    out["uncertain"] = unc
    blank = [is_missing(lo) or is_missing(hi) for lo, hi in zip(col(f"{pre}_workers_not_lower"), col(f"{pre}_workers_not_upper"))]
    out["t_status"] = [L["uncertain_area"] if u else L["suppressed_short"] if b else L["certain_area"] for u, b in zip(unc, blank)]
    return out


#: At most this many place names are listed in an area's tooltip.
AREA_PLACES = 5


def _places_in(areas: gpd.GeoDataFrame, ctx: _Ctx) -> list[str]:
    """The public place names inside each area (alphabetical, at most :data:`AREA_PLACES`),
    so "Ward 5" reads as Wallaceburg's ward: the ward source has numbers only."""
    pts = place_labels(ctx.result)
    if not len(pts):
        return [""] * len(areas)
    pts = pts.to_crs(areas.crs)
    out = []
    for geom in areas.geometry:
        names = [] if geom is None else list(pts.loc[pts.within(geom).to_numpy(), "name"])
        more = len(names) - AREA_PLACES
        text = ", ".join(names[:AREA_PLACES]) + (f" (+{fmt_int(more, ctx.lang)})" if more > 0 else "")
        out.append(text or "–")
    return out


def _add_areas(m: folium.Map, ctx: _Ctx, table: pd.DataFrame) -> cm.LinearColormap:
    """Areas shaded by the share of workers beyond the headline threshold (grey: no sites or
    suppressed), dashed where the count's range straddles the threshold; a tooltip on hover and
    a popup on click with the area's figures. Then the region outline, which takes no pointer
    events. Returns the colour ramp for the legend."""
    L, t, pre, result = ctx.L, ctx.t, ctx.pre, ctx.result
    areas = result.layers["areas"].gdf.merge(table, on=["area_id", "area_name"], how="left")
    share_col = f"{pre}_workers_not_share"
    cmap = cm.LinearColormap(["#ffffcc", "#fd8d3c", "#bd0026"], vmin=0.0, vmax=1.0,
                             caption=L["share_caption"].format(t=t, cat=ctx.hc))
    fields = _area_fields(areas, ctx)
    areas = areas.assign(**{c: fields[c] for c in fields}, _share=areas[share_col] if share_col in areas else np.nan)
    text_cols = ["t_area", "t_places", "t_sites", "t_workers", "t_beyond", "t_share", "t_pop", "t_pop_beyond", "t_status"]
    aliases = [L["area"], L["places"], L["sites"], L["workers"], L["workers_beyond"].format(t=t), L["share_beyond"], L["population"],
               L["people_beyond"].format(t=t), L["certainty"]]
    gj = to_geojson(areas, [*text_cols, "_share", "uncertain"], simplify_m=25)

    def area_style(feat):
        p = feat["properties"]
        v = p.get("_share")
        style = {"fillColor": SUPPRESSED_COLOUR if v is None else cmap(v), "color": "#444", "weight": 1.2, "fillOpacity": 0.6}
        if p.get("uncertain"):
            style.update({"dashArray": "6 4", "weight": 2.2, "color": "#222"})
        return style

    folium.GeoJson(
        gj, name=esc(L["areas_layer"].format(t=t, cat=ctx.hc)), style_function=area_style,
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.75},
        tooltip=_geojson_tooltip(text_cols, aliases),
        popup=folium.GeoJsonPopup([prop_key(f) for f in text_cols], aliases=[esc(a) for a in aliases]),
    ).add_to(m)
    folium.GeoJson(to_geojson(result.layers["boundary"].gdf, ["name"], simplify_m=25), name=esc(L["boundary"]),
                   style_function=lambda f: {"fill": False, "color": "#000", "weight": 2.5}, interactive=False).add_to(m)
    return cmap


def _add_hexes(m: folium.Map, ctx: _Ctx, hexes: gpd.GeoDataFrame | None) -> None:
    """People beyond the headline threshold per H3 hexagon (off at start)."""
    L, t, lang = ctx.L, ctx.t, ctx.lang
    people_col = f"{ctx.pre}_people_not"
    if hexes is None or not len(hexes) or people_col not in hexes:
        return
    hx = hexes[hexes["people"] > 0]
    top = float(hx[people_col].max()) or 1.0
    hx = hx.assign(t_people=[fmt_int(v, lang) for v in hx["people"]], t_beyond=[fmt_int(v, lang) for v in hx[people_col]])
    folium.GeoJson(
        to_geojson(hx, ["hex_id", "t_people", "t_beyond", people_col]), name=esc(L["hex_layer"].format(t=t, cat=ctx.hc)),
        show=False,
        style_function=lambda f: {"fillColor": "#08519c", "color": "#08519c", "weight": 0.3,
                                  "fillOpacity": 0.1 + 0.7 * (f["properties"][prop_key(people_col)] or 0) / top},
        tooltip=_geojson_tooltip(["t_people", "t_beyond"], [L["population"], L["people_beyond"].format(t=t)]),
    ).add_to(m)


def _add_catchments(m: folium.Map, ctx: _Ctx) -> None:
    """Catchment bands: outlines with a light fill so the area shading stays readable underneath;
    they take no pointer events (the areas under them answer the hover). Bands are in the legend."""
    from gapmap.output.i18n import cat_label

    L, s, result = ctx.L, ctx.s, ctx.result
    for cat in s.categories:
        fg = folium.FeatureGroup(name=esc(L["catchments"].format(cat=cat_label(cat, s.lang))), show=(cat == ctx.head_cat))
        bands = result.catchments[result.catchments["category"] == cat].sort_values("threshold_min", ascending=False)
        for bi, (_, band) in enumerate(bands.iterrows()):
            colour = BAND_COLOURS[min(len(bands) - 1 - bi, len(BAND_COLOURS) - 1)]
            folium.GeoJson(
                to_geojson(gpd.GeoDataFrame([band], geometry="geometry", crs=result.catchments.crs), ["category", "threshold_min"], simplify_m=50),
                style_function=lambda f, c=colour: {"fillColor": c, "color": c, "weight": 1.5, "fillOpacity": 0.12},
                interactive=False,
            ).add_to(fg)
        fg.add_to(m)


def _add_transit(m: folium.Map, ctx: _Ctx) -> None:
    """Transit routes in their own colours, and stops with trips per hour in the window."""
    L, s, result = ctx.L, ctx.s, ctx.result
    if result.transit_routes is None or not len(result.transit_routes):
        return
    routes = result.transit_routes.copy()
    routes["label"] = (routes["route_short_name"].fillna("").astype(str) + " " + routes["route_long_name"].fillna("").astype(str)).str.strip()
    folium.GeoJson(
        to_geojson(routes, ["label", "color"], simplify_m=5), name=esc(L["transit_routes"]),
        style_function=lambda f: {"color": safe_colour(f["properties"]["color"], "#1F77B4"), "weight": 3, "opacity": 0.85},
        tooltip=_geojson_tooltip(["label"], [L["route"]]),
    ).add_to(m)
    stops = result.transit_stops.to_crs("EPSG:4326")
    fg = folium.FeatureGroup(name=esc(L["transit_stops"]), show=False)
    for _, row in stops.iterrows():
        tph = row.get("trips_per_hour")
        tip = esc(row["stop_name"]) + (f" · {float(tph):g} {L['trips_h']} ({s.transit_window[0]}-{s.transit_window[1]})"
                                       if tph is not None and not pd.isna(tph) else "")
        folium.CircleMarker([round(row.geometry.y, 5), round(row.geometry.x, 5)], radius=2.5, color="#333", weight=1,
                            fill=True, fill_opacity=0.8).add_child(SafeTooltip(tip)).add_to(fg)
    fg.add_to(m)


def place_labels(result) -> gpd.GeoDataFrame:
    """Public place names in or near the region: the region's gazetteer and the rural post-office
    points (only points of their own, not shared defaults), one point per name, sorted by name.

    Read through :mod:`gapmap.sources.catalog`; never site positions.
    """
    from gapmap import sources
    from gapmap.sources import catalog

    data_dir = getattr(result, "data_dir", None)
    frames = []
    gaz = getattr(result.region, "gazetteer_dataset", None)
    try:
        if gaz and catalog.available(gaz, data_dir):
            g = sources.read_gazetteer(catalog.resolve(gaz, data_dir))
            frames.append(pd.DataFrame({"name": g["name"], "lat": g["latitude"], "lon": g["longitude"], "rank": 0}))
        if catalog.available("postal_points_rural_ontario", data_dir):
            p = sources.read_csv(catalog.resolve("postal_points_rural_ontario", data_dir),
                                 ["place", "latitude", "longitude", "codes_sharing_this_point"], what="Postal points")
            p = p[p["codes_sharing_this_point"] == "1"]
            frames.append(pd.DataFrame({"name": p["place"], "lat": sources.to_float(p["latitude"]),
                                        "lon": sources.to_float(p["longitude"]), "rank": 1}))
    except Exception:  # labels are a reading aid: a missing or malformed file leaves the map without them
        frames = []
    empty = gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    if not frames:
        return empty
    df = pd.concat(frames, ignore_index=True).dropna(subset=["lat", "lon"])
    df = df[df["name"].astype(str).str.strip() != ""]
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    boundary = result.layers["boundary"].gdf
    near = boundary.geometry.union_all().buffer(LABEL_NEAR_M)
    pts = pts[pts.to_crs(boundary.crs).within(near).to_numpy()]
    pts = pts.assign(key=pts["name"].str.casefold().str.strip()).sort_values(["key", "rank"], kind="stable")
    pts = pts.drop_duplicates("key").sort_values("key", kind="stable")
    return pts[["name", "geometry"]].reset_index(drop=True)


def _add_labels(m: folium.Map, ctx: _Ctx) -> None:
    """Community names, so the map reads without tiles; the labels take no pointer events."""
    pts = place_labels(ctx.result)
    if not len(pts):
        return
    fg = folium.FeatureGroup(name=esc(ctx.L["labels_layer"]))
    for _, row in pts.iterrows():
        html_label = (f"<div class='gapmap-label' style='font:600 11px sans-serif;color:#222;white-space:nowrap;"
                      f"text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;pointer-events:none'>{esc(row['name'])}</div>")
        folium.Marker([round(row.geometry.y, 5), round(row.geometry.x, 5)], interactive=False, keyboard=False,
                      icon=folium.DivIcon(html=html_label, icon_size=(0, 0), icon_anchor=(-4, 8), class_name="gapmap-label-icon"),
                      ).add_to(fg)
    fg.add_to(m)


def _add_services(m: folium.Map, ctx: _Ctx) -> None:
    """Services by category: a glyph per category; dense categories cluster, hospitals and the
    headline category never do."""
    from folium.plugins import MarkerCluster

    from gapmap.output.i18n import cat_label

    L, s = ctx.L, ctx.s
    services = ctx.result.layers["services"].gdf
    services = services[services["category"].isin(s.categories)].to_crs("EPSG:4326")
    for ci, cat in enumerate(s.categories):
        fg = folium.FeatureGroup(name=esc(L["services"].format(cat=cat_label(cat, s.lang))))
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
        never_cluster = cat in ("hospital", ctx.head_cat)
        parent = fg if never_cluster else MarkerCluster(options={"maxClusterRadius": 30, "disableClusteringAtZoom": 13}).add_to(fg)
        for _, row in rows.iterrows():
            extra = "".join(f"<br>{esc(col.replace('_', ' '))}: {esc(row[col])}" for col in ("opening_hours", "languages", "capacity")
                            if col in row.index and not pd.isna(row[col]) and str(row[col]) != "")
            popup = (f"<b>{esc(row['name'])}</b><br>{esc(cat_label(cat, s.lang))} · {esc(row['source_type'])}<br>"
                     f"{esc(row['address'])}<br>{L['in_region'] if row['in_region'] else L['outside_region']}{extra}")
            marker = folium.Marker([round(row.geometry.y, 5), round(row.geometry.x, 5)], icon=_icon(cat, ci),
                                   z_index_offset=1000 if never_cluster else 0)
            marker.add_child(SafePopup(popup, max_width=300)).add_child(SafeTooltip(esc(row["name"]))).add_to(parent)
        fg.add_to(m)


def hex_colour(value: Any) -> str:
    """Fill of a site hexagon by its published workers beyond the threshold (grey when suppressed)."""
    if is_missing(value):
        return SUPPRESSED_COLOUR
    i = max(j for j, lo in enumerate(HEX_CLASSES) if float(value) >= lo)
    return HEX_COLOURS[i]


def _hex_class_labels(lang: str) -> list[str]:
    """``0``, ``1–24``, ``25–99``, ``100–249``, ``250+`` in the chosen number format."""
    out = []
    for i, lo in enumerate(HEX_CLASSES):
        hi = HEX_CLASSES[i + 1] - 1 if i + 1 < len(HEX_CLASSES) else None
        out.append(fmt_int(lo, lang) if hi == lo or (i == 0 and lo == 0) else
                   f"{fmt_int(lo, lang)}–{fmt_int(hi, lang)}" if hi is not None else f"{fmt_int(lo, lang)}+")
    return out


def _add_sites(m: folium.Map, ctx: _Ctx, public_sites: gpd.GeoDataFrame | None) -> None:
    """Sites: hexagon aggregates coloured by workers beyond the headline threshold in public
    mode (only published values; grey = suppressed), exact geocoded points in internal mode."""
    L, result, pre, lang = ctx.L, ctx.result, ctx.pre, ctx.lang
    if public_sites is not None:
        if len(public_sites):
            beyond = f"{pre}_workers_not"
            ps = public_sites.assign(
                t_sites=[fmt_int(v, lang, L["suppressed_short"]) for v in public_sites["sites"]],
                t_workers=[fmt_int(v, lang, L["suppressed_short"]) for v in public_sites["workers"]],
                t_beyond=[fmt_int(v, lang, L["suppressed_short"]) for v in
                          (public_sites[beyond] if beyond in public_sites else [np.nan] * len(public_sites))],
                _fill=[hex_colour(v) for v in (public_sites[beyond] if beyond in public_sites else [np.nan] * len(public_sites))])
            folium.GeoJson(
                to_geojson(ps, ["hex_id", "t_sites", "t_workers", "t_beyond", "_fill"]), name=esc(L["sites_public"]),
                style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#4a235a", "weight": 1.2, "fillOpacity": 0.85},
                tooltip=_geojson_tooltip(["t_sites", "t_workers", "t_beyond"],
                                         [L["sites"], L["workers"], L["workers_beyond"].format(t=ctx.t)]),
            ).add_to(m)
        return
    fg = folium.FeatureGroup(name=esc(L["sites_internal"]))
    head_cat = ctx.head_cat
    for _, row in result.sites.to_crs("EPSG:4326").iterrows():
        mins = row[f"{head_cat}_min"]
        popup = (f"<b>{esc(row['employer'])}</b><br>{esc(row['community'])} ({esc(row['geocode_precision'])})<br>"
                 f"{L['workers']}: {fmt_int(row['workers'], lang)}<br>{L['nearest'].format(cat=esc(ctx.hc))}: {esc(row[f'{head_cat}_nearest'])}, "
                 f"{esc(mins)} {L['minutes']}")
        folium.CircleMarker([round(row.geometry.y, 5), round(row.geometry.x, 5)], radius=float(3 + np.sqrt(row["workers"])),
                            color="#4a235a", weight=1, fill=True, fill_color="#8e44ad", fill_opacity=0.6,
                            ).add_child(SafePopup(popup, max_width=300)).add_to(fg)
    fg.add_to(m)


def _rec_icon(rank: int) -> str:
    return _ICON.format(c="#111", r="3px", g=int(rank))


def _add_recommendations(m: folium.Map, ctx: _Ctx, recommendations: gpd.GeoDataFrame | None) -> None:
    """Recommended new service sites, a numbered square each."""
    L, lang = ctx.L, ctx.lang
    if recommendations is None or not len(recommendations):
        return
    fg = folium.FeatureGroup(name=esc(L["recommended"]))
    for _, row in recommendations.to_crs("EPSG:4326").iterrows():
        tip = (f"#{int(row['rank'])} {esc(row['name'])}: {L['newly_workers']} "
               f"{fmt_int(row['workers_newly_covered'], lang, L['suppressed_short'])}, "
               f"{L['newly_people']} {fmt_int(row['people_newly_covered'], lang, L['suppressed_short'])}")
        folium.Marker([round(row.geometry.y, 5), round(row.geometry.x, 5)], z_index_offset=2000,
                      icon=folium.DivIcon(html=_rec_icon(row["rank"]), icon_size=(18, 18),
                                          icon_anchor=(9, 9))).add_child(SafeTooltip(tip)).add_to(fg)
    fg.add_to(m)


def _add_controls(m: folium.Map) -> None:
    """The layer control and its style."""
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().header.add_child(RawHtml(
        "<style>.leaflet-control-layers{font-size:12px;max-width:360px}.leaflet-control-layers label{line-height:1.25}"
        ".gapmap-label-icon{background:none;border:none;pointer-events:none}</style>"))


def headline_html(total: pd.Series, ctx: _Ctx) -> str:
    """The map's headline: workers beyond the threshold with their range ("14 (between 0 and 1,639)"),
    "suppressed" where public mode blanked the count; people beyond with their range."""
    from gapmap.output.i18n import cat_of_a

    L, pre, lang, s = ctx.L, ctx.pre, ctx.lang, ctx.s
    get = lambda c: total.get(c, np.nan)  # noqa: E731
    workers = fmt_range(get(f"{pre}_workers_not"), get(f"{pre}_workers_not_lower"), get(f"{pre}_workers_not_upper"), L, lang)
    sites = (L["map_sites_all"].format(st=fmt_int(get("sites"), lang)) if is_missing(get(f"{pre}_sites_not")) else
             L["map_sites_of"].format(sn=fmt_int(get(f"{pre}_sites_not"), lang), st=fmt_int(get("sites"), lang, L["suppressed_short"])))
    out = ""
    if is_missing(get("workers")) or get("workers"):
        out = L["map_headline"].format(n=esc(workers), total=fmt_int(get("workers"), lang, L["suppressed_short"]),
                                       sites=esc(sites), t=ctx.t,
                                       of_cat=esc(cat_of_a(s.headline_category, lang)))
        knife = get(f"{pre}_sites_knife_edge")
        if not is_missing(knife) and knife:
            out += " " + L["knife_note"].format(n=fmt_int(knife, lang))
    people = fmt_range(get(f"{pre}_pop_not"), get(f"{pre}_pop_not_lower"), get(f"{pre}_pop_not_upper"), L, lang)
    out += " " + L["map_people_headline"].format(n=esc(people), total=fmt_int(get("population"), lang), t=ctx.t)
    return out.strip()


def _add_title(m: folium.Map, ctx: _Ctx, table: pd.DataFrame, *, internal: bool) -> None:
    """The title box (region, headline with its range, the method stated once, approximations)
    and, in internal mode, the warning banner."""
    from gapmap.output.i18n import cat_label, message_html

    L, s, result = ctx.L, ctx.s, ctx.result
    # Each approximation in the map's language; one without a translation is marked lang="en" on its own.
    approx = "".join(f"<li>{message_html(a, s.lang)}</li>" for a in result.approximations)
    cats = ", ".join(cat_label(c, s.lang) for c in s.categories)
    title = (f"<b style='font-size:14px'>{esc(result.region.name)}</b><br>{esc(L['title_sub'].format(cats=cats))}<br>"
             f"<span class='gapmap-headline'>{headline_html(table.iloc[-1], ctx)}</span><br>"
             f"<i>{L['method']}{chr(0x202f) if s.lang == 'fr' else ''}: {esc(method_label(result, s.lang))}. {L['method_note']}</i><br>"
             f"{L['data_as_of']}{chr(0x202f) if s.lang == 'fr' else ''}: {L['data_line']}."
             f"<details><summary>{L['approximations']}</summary><ul style='padding-left:16px;margin:4px 0'>{approx}</ul></details>")
    m.get_root().html.add_child(_box(title, "bottomleft"))
    if internal:
        m.get_root().html.add_child(_box(f"<b>{L['internal_banner']}</b>", "topcenter", "background:#fdd;border-color:#c00"))


def _swatch(style: str) -> str:
    return f"<span style='display:inline-block;width:12px;height:10px;vertical-align:middle;{style}'></span>"


def _add_legend(m: folium.Map, ctx: _Ctx, cmap: cm.LinearColormap, attributions: list[str], *, public: bool,
                recommendations: bool) -> None:
    """The legend box: area ramp, uncertain areas, site hexagons, service glyphs, catchment
    bands, recommendations; then the data sources."""
    from gapmap.output.i18n import cat_label, place_name

    L, s, lang = ctx.L, ctx.s, ctx.lang
    legend = ramp_legend(cmap.caption, (cmap(v / 4) for v in range(5)), L["suppressed"].format(k=s.k_anonymity))
    legend = legend.replace("<span>0%</span><span>50%</span><span>100%</span>",
                            "".join(f"<span>{fmt_pct(v, lang)}</span>" for v in (0, 0.5, 1)))
    legend += f"<div>{_swatch('border:2px dashed #222;background:#fff')} {L['uncertain_legend'].format(t=ctx.t)}</div>"
    if public:
        legend += f"<div style='margin-top:3px'>{esc(L['hex_legend'].format(t=ctx.t))}</div><div>"
        legend += " ".join(f"{_swatch(f'background:{c};border:1px solid #4a235a')} {esc(lbl)}"
                           for c, lbl in zip(HEX_COLOURS, _hex_class_labels(lang)))
        legend += f" {_swatch(f'background:{SUPPRESSED_COLOUR};border:1px solid #4a235a')} {L['suppressed_short']}</div>"
        legend += f"<div style='color:#555'>{esc(L['hex_note'].format(k=s.k_anonymity))}</div>"
    else:
        legend += f"<div>{_swatch('background:#8e44ad;opacity:.6;border-radius:50%')} {L['worker_sites']}</div>"
    legend += "".join(
        f"<div style='display:flex;gap:4px;align-items:center;margin:1px 0'>{_ICON.format(c=category_colour(c, i), r=_glyph(c)[1], g=_glyph(c)[0])}"
        f" {esc(cat_label(c, s.lang))}</div>" for i, c in enumerate(s.categories)
    )
    legend += "".join(
        f"<div>{_swatch(f'border:1.5px solid {BAND_COLOURS[i]};background:{BAND_COLOURS[i]}40')} "
        f"{L['within'].format(t=f'{t:g}')}</div>" for i, t in enumerate(sorted(s.thresholds_min)) if i < len(BAND_COLOURS)
    )
    if recommendations:
        legend += f"<div style='display:flex;gap:4px;align-items:center;margin:1px 0'>{_rec_icon(1)} {L['recommended']}</div>"
    sources = "<br>".join(esc(place_name(a, lang)) for a in attributions)
    m.get_root().html.add_child(_box(f"<b>{L['legend']}</b>{legend}<hr style='margin:4px 0'><b>{L['sources']}</b><br>{sources}", "bottomright"))
