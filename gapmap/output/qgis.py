"""QGIS styling of ``layers.gpkg`` and the ``project.qgz`` that opens it.

Pure Python, no QGIS needed at run time:

* :func:`layer_qml` builds a QML style per layer with the web map's symbology (areas graduated
  by the share of workers beyond the headline threshold on the web map's ramp; services
  categorised by category with the registry's colours; catchments categorised by category and
  threshold with the web map's band colours, the headline category on; hexagons graduated by
  workers or people beyond) and human field aliases (``<aliases>``) in the run's language.
* :func:`write_styles` stores them in the GeoPackage's ``layer_styles`` table (the table and
  columns QGIS itself writes), so QGIS applies them when a layer is loaded.
* :func:`write_project` writes ``project.qgz``: a hand-written ``.qgs`` (same QML bodies) with
  the GeoPackage at a relative path, zipped with fixed timestamps.

Same inputs give the same bytes: no dates (a fixed ``update_time``), no random layer ids.
Symbol layers use ``<prop k= v=>`` properties, which every QGIS 3 release reads.
"""

from __future__ import annotations

import functools
import math
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gapmap import categories

QGIS_VERSION = "3.22.16-Białowieża"
#: ``layer_styles.update_time`` (fixed: same inputs, same bytes).
STYLE_DATE = pd.Timestamp("2000-01-01T00:00:00")
#: The web map's area ramp (:func:`gapmap.output.webmap._add_areas`), 0 to 1.
AREA_RAMP = ("#ffffcc", "#fd8d3c", "#bd0026")
NO_DATA = "#cccccc"

# --------------------------------------------------------------------------- aliases

_FIXED = {
    "en": {
        "area_id": "Area id", "area_name": "Area", "sites": "Employer sites", "workers": "Workers (est.)",
        "population": "Population", "suppressed": "Figures suppressed (privacy)", "hex_id": "H3 hexagon",
        "people": "People", "service_id": "Service id", "name": "Name", "category": "Category",
        "category_rule": "Why this category", "source_type": "Source facility type", "provider": "Provider",
        "address": "Address", "in_region": "In the region", "location_flag": "Location check", "source": "Source",
        "source_row": "Source row", "dauid": "Dissemination area", "pop2021": "Population 2021",
        "cimd_resid_instab": "CIMD residential instability", "cimd_ethnocult": "CIMD ethno-cultural composition",
        "cimd_econ_dep": "CIMD economic dependency", "cimd_sit_vuln": "CIMD situational vulnerability",
        "threshold_min": "Within (minutes)", "mode": "Travel mode", "method": "Travel-time method", "region": "Region",
        "opening_hours": "Opening hours", "languages": "Languages", "capacity": "Capacity", "site_id": "Site id",
        "employer": "Employer", "community": "Community", "postal_code": "Postal code",
        "geocode_precision": "Located at", "geocode_match": "Geocode match", "geocode_source": "Geocode source",
        "geocode_licence": "Geocode licence", "geocode_note": "Geocode note", "rank": "Rank",
        "candidate_id": "Candidate id", "workers_newly_covered": "Workers newly covered",
        "people_newly_covered": "People newly covered", "objective_gain": "Objective gain",
        "stop_id": "Stop id", "stop_name": "Stop", "trips_per_hour": "Trips per hour", "route_id": "Route id",
        "route_short_name": "Route", "route_long_name": "Route name", "color": "Route colour",
    },
    "fr": {
        "area_id": "Identifiant du secteur", "area_name": "Secteur", "sites": "Sites d'employeurs",
        "workers": "Travailleurs (est.)", "population": "Population", "suppressed": "Chiffres masqués (confidentialité)",
        "hex_id": "Hexagone H3", "people": "Personnes", "service_id": "Identifiant du service", "name": "Nom",
        "category": "Catégorie", "category_rule": "Raison de la catégorie", "source_type": "Type d'établissement (source)",
        "provider": "Fournisseur", "address": "Adresse", "in_region": "Dans la région", "location_flag": "Vérification du lieu",
        "source": "Source", "source_row": "Ligne de la source", "dauid": "Aire de diffusion", "pop2021": "Population 2021",
        "cimd_resid_instab": "IMDC instabilité résidentielle", "cimd_ethnocult": "IMDC composition ethnoculturelle",
        "cimd_econ_dep": "IMDC dépendance économique", "cimd_sit_vuln": "IMDC vulnérabilité situationnelle",
        "threshold_min": "À moins de (minutes)", "mode": "Mode de déplacement", "method": "Méthode des temps de trajet",
        "region": "Région", "opening_hours": "Heures d'ouverture", "languages": "Langues", "capacity": "Capacité",
        "site_id": "Identifiant du site", "employer": "Employeur", "community": "Localité", "postal_code": "Code postal",
        "geocode_precision": "Localisé à", "geocode_match": "Correspondance du géocodage", "geocode_source": "Source du géocodage",
        "geocode_licence": "Licence du géocodage", "geocode_note": "Note de géocodage", "rank": "Rang",
        "candidate_id": "Identifiant du candidat", "workers_newly_covered": "Travailleurs nouvellement couverts",
        "people_newly_covered": "Personnes nouvellement couvertes", "objective_gain": "Gain de l'objectif",
        "stop_id": "Identifiant de l'arrêt", "stop_name": "Arrêt", "trips_per_hour": "Passages par heure",
        "route_id": "Identifiant de la ligne", "route_short_name": "Ligne", "route_long_name": "Nom de la ligne",
        "color": "Couleur de la ligne",
    },
}

# ``<cat>_<T>min_<suffix>``: {t} minutes, {of} "of a hospital" / "d'un hôpital".
_BY_THRESHOLD = {
    "en": {
        "sites_not": "Sites beyond {t} min {of}", "workers_covered": "Workers within {t} min {of}",
        "workers_not": "Workers beyond {t} min {of}", "workers_not_share": "Share of workers beyond {t} min {of}",
        "workers_not_postal_area": "Workers beyond {t} min {of}, placed at postal-area points",
        "pop_covered": "People within {t} min {of}", "pop_not": "People beyond {t} min {of}",
        "pop_not_share": "Share of people beyond {t} min {of}", "people_not": "People beyond {t} min {of}",
        "sites_knife_edge": "Sites near the {t} min edge {of}", "status": "Within {t} min {of}: status",
    },
    "fr": {
        "sites_not": "Sites à plus de {t} min {of}", "workers_covered": "Travailleurs à moins de {t} min {of}",
        "workers_not": "Travailleurs à plus de {t} min {of}",
        "workers_not_share": "Part des travailleurs à plus de {t} min {of}",
        "workers_not_postal_area": "Travailleurs à plus de {t} min {of}, placés au point de la région postale",
        "pop_covered": "Personnes à moins de {t} min {of}", "pop_not": "Personnes à plus de {t} min {of}",
        "pop_not_share": "Part des personnes à plus de {t} min {of}", "people_not": "Personnes à plus de {t} min {of}",
        "sites_knife_edge": "Sites près de la limite de {t} min {of}", "status": "À moins de {t} min {of} : statut",
    },
}
_BOUNDS = {"en": {"lower": "low estimate", "upper": "high estimate"},
           "fr": {"lower": "estimation basse", "upper": "estimation haute"}}
# ``<cat>_<suffix>``: {label} "hospital", {of} "of a hospital".
_BY_CATEGORY = {
    "en": {"nearest_id": "Nearest {label}: id", "nearest": "Nearest {label}", "km": "Kilometres to the nearest {label}",
           "min": "Minutes to the nearest {label}", "method": "Travel-time method ({label})",
           "min_best": "Minutes to the nearest {label} (best case)", "min_worst": "Minutes to the nearest {label} (worst case)",
           "e2sfca_per_1000": "Access to {label} services (E2SFCA per 1,000)"},
    "fr": {"nearest_id": "{Label} {le} plus proche : identifiant", "nearest": "{Label} {le} plus proche",
           "km": "Kilomètres jusqu'au service le plus proche ({label})",
           "min": "Minutes jusqu'au service le plus proche ({label})", "method": "Méthode des temps de trajet ({label})",
           "min_best": "Minutes jusqu'au service le plus proche ({label}, meilleur cas)",
           "min_worst": "Minutes jusqu'au service le plus proche ({label}, pire cas)",
           "e2sfca_per_1000": "Accessibilité ({label}, E2SFCA pour 1 000)"},
}
_WITHIN = {"en": "Within {t} min {of}", "fr": "À moins de {t} min {of}"}


def _split_category(col: str, cats: list[str]) -> tuple[str, str] | None:
    for c in sorted(cats, key=len, reverse=True):
        if col.startswith(c + "_"):
            return c, col[len(c) + 1:]
    return None


def alias(col: str, lang: str = "en", cats: list[str] | None = None) -> str:
    """Human name of a GeoPackage field in ``lang`` (``en``/``fr``); unknown fields read as words."""
    lang = "fr" if lang == "fr" else "en"
    if col in _FIXED[lang]:
        return _FIXED[lang][col]
    split = _split_category(col, list(cats or []) + list(categories.keys()))
    if split:
        cat, rest = split
        of, label = categories.of_a(cat, lang), categories.label(cat, lang)
        head, sep, tail = rest.partition("min_")
        if sep and head.replace(".", "", 1).isdigit():
            t = head
            bound = None
            for b in ("lower", "upper"):
                if tail.endswith("_" + b):
                    tail, bound = tail[: -len(b) - 1], b
            if tail in _BY_THRESHOLD[lang]:
                text = _BY_THRESHOLD[lang][tail].format(t=t, of=of)
                return f"{text} ({_BOUNDS[lang][bound]})" if bound else text
        if rest.startswith("within_") and rest.endswith("min"):
            return _WITHIN[lang].format(t=rest[len("within_"):-3], of=of)
        if rest in _BY_CATEGORY[lang]:
            reg = categories.get(cat)
            le = "la" if reg is not None and reg.gender_fr == "f" else "le"
            return _BY_CATEGORY[lang][rest].format(label=label, Label=label[:1].upper() + label[1:], of=of, le=le)
    words = col.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


# --------------------------------------------------------------------------- symbols

def _rgba(hex_colour: str, alpha: float = 1.0) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{int(round(alpha * 255))}"


def _ramp(stops: tuple[str, ...], x: float) -> str:
    """Linear interpolation on ``stops`` (evenly spaced over 0..1), as ``#rrggbb``."""
    x = min(max(x, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    f = x - i
    a, b = stops[i].lstrip("#"), stops[i + 1].lstrip("#")
    rgb = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (0, 2, 4)]
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _props(d: dict) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in d.items())


def _fill(name: str, fill: str, fill_alpha: float, line: str, width_px: float, *, no_fill: bool = False) -> str:
    p = {"color": _rgba(fill, fill_alpha), "outline_color": _rgba(line), "outline_style": "solid",
         "outline_width": f"{width_px:g}", "outline_width_unit": "Pixel", "style": "no" if no_fill else "solid",
         "joinstyle": "round"}
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" pass="0" enabled="1" locked="0">{_props(p)}</layer></symbol>')


def _marker(name: str, fill: str, shape: str, size_px: float, glyph: str | None = None) -> str:
    p = {"name": shape, "color": _rgba(fill), "outline_color": "255,255,255,255", "outline_style": "solid",
         "outline_width": "1.5", "outline_width_unit": "Pixel", "size": f"{size_px:g}", "size_unit": "Pixel",
         "angle": "0", "joinstyle": "miter", "scale_method": "diameter", "vertical_anchor_point": "1",
         "horizontal_anchor_point": "1"}
    layers = f'<layer class="SimpleMarker" pass="0" enabled="1" locked="0">{_props(p)}</layer>'
    if glyph:
        g = {"chr": glyph, "font": "DejaVu Sans", "font_style": "Bold", "color": "255,255,255,255",
             "size": f"{size_px * (0.6 if len(glyph) == 1 else 0.45):g}", "size_unit": "Pixel", "angle": "0",
             "outline_width": "0", "joinstyle": "miter", "vertical_anchor_point": "1", "horizontal_anchor_point": "1",
             "offset": "0,0", "offset_unit": "Pixel"}
        layers += f'<layer class="FontMarker" pass="0" enabled="1" locked="0">{_props(g)}</layer>'
    return (f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f"{layers}</symbol>")


def _line(name: str, colour: str, width_px: float, colour_field: str | None = None) -> str:
    p = {"line_color": _rgba(colour, 0.85), "line_style": "solid", "line_width": f"{width_px:g}",
         "line_width_unit": "Pixel", "capstyle": "round", "joinstyle": "round"}
    dd = ""
    if colour_field:  # GTFS route_color, as the web map draws it (a bad value falls back to the symbol colour)
        expr = (f"if(regexp_match(\"{colour_field}\", '^#?[0-9A-Fa-f]{{6}}$'), "
                f"concat(if(left(\"{colour_field}\", 1) = '#', '', '#'), \"{colour_field}\"), '{colour}')")
        dd = ('<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/>'
              '<Option name="properties" type="Map"><Option name="outlineColor" type="Map">'
              '<Option name="active" type="bool" value="true"/>'
              f'<Option name="expression" type="QString" value={quoteattr(expr)}/>'
              '<Option name="type" type="int" value="3"/></Option></Option>'
              '<Option name="type" type="QString" value="collection"/></Option></data_defined_properties>')
    return (f'<symbol type="line" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleLine" pass="0" enabled="1" locked="0">{_props(p)}{dd}</layer></symbol>')


def _single(symbol: str) -> str:
    return f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbol}</symbols></renderer-v2>'


def _graduated(attr: str, ranges: list[tuple[float, float, str, str]]) -> str:
    """``ranges``: (lower, upper, label, symbol xml with name = index)."""
    rs = "".join(f'<range lower="{lo!r}" upper="{hi!r}" label={quoteattr(lab)} symbol="{i}" render="true"/>'
                 for i, (lo, hi, lab, _) in enumerate(ranges))
    syms = "".join(s for *_, s in ranges)
    return (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(attr)} graduatedMethod="GraduatedColor" '
            f'symbollevels="0" enableorderby="0" forceraster="0"><ranges>{rs}</ranges><symbols>{syms}</symbols>'
            '<mode name="fixed"/><rotation/><sizescale/></renderer-v2>')


def _categorized(attr: str, cats: list[tuple[str, str, bool, str]]) -> str:
    """``cats``: (value, label, shown, symbol xml with name = index)."""
    cs = "".join(f'<category value={quoteattr(v)} label={quoteattr(lab)} symbol="{i}" render="{str(on).lower()}"/>'
                 for i, (v, lab, on, _) in enumerate(cats))
    syms = "".join(s for *_, s in cats)
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" enableorderby="0" '
            f'forceraster="0"><categories>{cs}</categories><symbols>{syms}</symbols><rotation/><sizescale/></renderer-v2>')


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def _count_classes(values: pd.Series, n: int = 4) -> list[tuple[float, float]]:
    """``n`` equal classes of whole numbers from 1 to the (rounded up) maximum."""
    top = float(np.nanmax(values.to_numpy(dtype=float))) if len(values) and values.notna().any() else 0.0
    top = max(top, 1.0)
    n = max(1, min(n, int(top)))
    step = 10 ** math.floor(math.log10(top / n))
    width = math.ceil(top / n / step) * step
    return [(0.5 + i * width if i else 0.5, (i + 1) * width + 0.5) for i in range(n)]


def _label(lang: str, key: str, **kw) -> str:
    texts = {
        "en": {"none": "no figures (no sites or suppressed)", "zero": "none", "within": "within {t} min",
               "beyond_range": "{a} to {b}", "outline": "outline"},
        "fr": {"none": "aucun chiffre (aucun site ou masqué)", "zero": "aucun", "within": "à moins de {t} min",
               "beyond_range": "{a} à {b}", "outline": "contour"},
    }
    return texts["fr" if lang == "fr" else "en"][key].format(**kw)


def _range_label(lang: str, lo: float, hi: float) -> str:
    a, b = math.ceil(lo), math.floor(hi)
    sep = "\u202f" if lang == "fr" else ","
    fmt = lambda v: f"{v:,}".replace(",", sep)  # noqa: E731
    return fmt(a) if a == b else _label(lang, "beyond_range", a=fmt(a), b=fmt(b))


# --------------------------------------------------------------------------- renderers per layer

def _renderer(name: str, gdf: gpd.GeoDataFrame, settings) -> tuple[str, str]:
    """(renderer-v2 xml, display expression) of one GeoPackage layer."""
    lang = settings.lang
    pre = f"{settings.headline_category}_{settings.headline_threshold:g}min"
    if name == "areas":
        col = f"{pre}_workers_not_share"
        ranges = [(-1.0, -0.5, _label(lang, "none"), _fill("0", NO_DATA, 0.6, "#444444", 1.2))]
        for i in range(5):
            lo, hi = i / 5, (i + 1) / 5
            ranges.append((lo if i else -0.5, hi, f"{_pct(lo)} – {_pct(hi)}",
                           _fill(str(i + 1), _ramp(AREA_RAMP, (lo + hi) / 2), 0.6, "#444444", 1.2)))
        return _graduated(f'coalesce("{col}", -1)', ranges), '"area_name"'
    if name == "boundary":
        return _single(_fill("0", "#000000", 0.0, "#000000", 2.5, no_fill=True)), '"name"'
    if name == "services":
        present = list(dict.fromkeys(gdf["category"].dropna().astype(str))) if "category" in gdf else []
        order = [c for c in categories.keys() if c in present] + sorted(c for c in present if categories.get(c) is None)
        cats = []
        for i, c in enumerate(order):
            g, radius = categories.glyph(c)
            pos = list(settings.categories).index(c) if c in settings.categories else i
            cats.append((c, categories.label(c, lang), c in settings.categories,
                         _marker(str(i), categories.colour(c, pos), "square" if radius != "50%" else "circle", 18, g)))
        return _categorized("category", cats), '"name"'
    if name == "catchments":
        cats = []
        for ci, cat in enumerate(dict.fromkeys(gdf["category"].astype(str))):
            ts = sorted({float(t) for t in gdf.loc[gdf["category"] == cat, "threshold_min"]})
            for bi, t in enumerate(ts):
                from gapmap.output.webmap import BAND_COLOURS

                colour = BAND_COLOURS[min(bi, len(BAND_COLOURS) - 1)]
                cats.append((f"{cat} {t:g}", f"{categories.label(cat, lang)} · {_label(lang, 'within', t=f'{t:g}')}",
                             cat == settings.headline_category, _fill(str(len(cats)), colour, 0.12, colour, 1.5)))
        return (_categorized("concat(\"category\", ' ', to_string(\"threshold_min\"))", cats),
                "concat(\"category\", ' ', to_string(\"threshold_min\"))")
    if name == "worker_hexagons":
        col = f"{pre}_workers_not"
        ranges = [(-1.0, -0.5, _label(lang, "none"), _fill("0", NO_DATA, 0.5, "#4a235a", 1.0)),
                  (-0.5, 0.5, _label(lang, "zero"), _fill("1", "#e8daef", 0.5, "#4a235a", 1.0))]
        classes = _count_classes(gdf[col]) if col in gdf else _count_classes(pd.Series([], dtype=float))
        for i, (lo, hi) in enumerate(classes):
            ranges.append((lo, hi, _range_label(lang, lo, hi),
                           _fill(str(i + 2), _ramp(("#c39bd3", "#6c3483", "#3b1a47"), (i + 0.5) / len(classes)), 0.6,
                                 "#4a235a", 1.0)))
        return _graduated(f'coalesce("{col}", -1)', ranges), '"hex_id"'
    if name == "hexes":
        col = f"{pre}_people_not"
        ranges = [(-1.0, 0.5, _label(lang, "zero"), _fill("0", "#08519c", 0.05, "#08519c", 0.3))]
        classes = _count_classes(gdf[col]) if col in gdf else _count_classes(pd.Series([], dtype=float))
        for i, (lo, hi) in enumerate(classes):
            ranges.append((lo, hi, _range_label(lang, lo, hi),
                           _fill(str(i + 1), "#08519c", 0.1 + 0.7 * (i + 1) / len(classes), "#08519c", 0.3)))
        return _graduated(f'coalesce("{col}", 0)', ranges), '"hex_id"'
    if name == "sites":  # internal mode: the exact employer sites
        return _single(_marker("0", "#8e44ad", "circle", 8)), '"employer"'
    if name == "population":
        return _single(_marker("0", "#7f8c8d", "circle", 4)), '"dauid"'
    if name == "recommendations":
        return _single(_marker("0", "#111111", "square", 18, "★")), 'concat(\'#\', "rank", \' \', "name")'
    if name == "transit_routes":
        return _single(_line("0", "#1F77B4", 3, "color")), '"route_short_name"'
    if name == "transit_stops":
        return _single(_marker("0", "#333333", "circle", 5)), '"stop_name"'
    kind = str(gdf.geom_type.dropna().iloc[0]) if len(gdf) and gdf.geom_type.notna().any() else "Point"
    sym = (_fill("0", "#888888", 0.4, "#444444", 1) if "Polygon" in kind
           else _line("0", "#444444", 2) if "Line" in kind else _marker("0", "#444444", "circle", 6))
    return _single(sym), "$id"


def _body(name: str, gdf: gpd.GeoDataFrame, settings) -> str:
    """The children of a QML ``<qgis>`` / project ``<maplayer>``: renderer, aliases, display expression."""
    renderer, display = _renderer(name, gdf, settings)
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    cats = list(settings.categories)
    aliases = "".join(f'<alias field={quoteattr(c)} index="{i}" name={quoteattr(alias(c, settings.lang, cats))}/>'
                      for i, c in enumerate(fields))
    return (f"{renderer}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity>"
            f"<aliases>{aliases}</aliases><previewExpression>{escape(display)}</previewExpression>")


def layer_qml(name: str, gdf: gpd.GeoDataFrame, settings) -> str:
    """The QML style of GeoPackage layer ``name`` (holding ``gdf``) for a run with ``settings``."""
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Fields">{_body(name, gdf, settings)}</qgis>\n')


def write_styles(path: Path, layers: dict[str, gpd.GeoDataFrame], settings) -> None:
    """Add the ``layer_styles`` table (one default QML per layer) to the GeoPackage ``path``.

    The columns are those QGIS creates when it saves a style to a GeoPackage; ``f_table_catalog``
    and ``f_table_schema`` are empty strings (QGIS selects on ``f_table_schema=''``).
    """
    geom = {n: (g.geometry.name if g.geometry.name != "geometry" else "geom") for n, g in layers.items()}
    rows = [{"f_table_catalog": "", "f_table_schema": "", "f_table_name": n, "f_geometry_column": geom[n],
             "styleName": n, "styleQML": layer_qml(n, g, settings), "styleSLD": "", "useAsDefault": True,
             "description": f"gapmap style ({settings.lang})", "owner": "", "ui": "", "update_time": STYLE_DATE}
            for n, g in layers.items()]
    df = pd.DataFrame(rows)
    df["useAsDefault"] = df["useAsDefault"].astype(bool)
    pyogrio.write_dataframe(df, path, layer="layer_styles", driver="GPKG", append=path.exists())


# --------------------------------------------------------------------------- project

_GEOM = {"Point": ("Point", "Point"), "MultiPoint": ("Point", "MultiPoint"), "Polygon": ("Polygon", "Polygon"),
         "MultiPolygon": ("Polygon", "MultiPolygon"), "LineString": ("Line", "LineString"),
         "MultiLineString": ("Line", "MultiLineString")}

#: Draw order of the project (top first) and what is switched on at start (as the web map).
PROJECT_ORDER = ("recommendations", "services", "sites", "worker_hexagons", "transit_stops", "transit_routes",
                 "boundary", "catchments", "hexes", "population", "areas")
PROJECT_HIDDEN = ("hexes", "population", "transit_stops")


@functools.lru_cache(maxsize=16)
def _srs(crs) -> str:
    # Cached per CRS (pyproj CRSs hash by their WKT): to_epsg() searches the PROJ database, and a
    # project names the same CRS once per layer and twice more.
    epsg = crs.to_epsg()
    return (f"<spatialrefsys><wkt>{escape(crs.to_wkt())}</wkt>"
            f"<srid>{epsg or 0}</srid><authid>{escape(f'EPSG:{epsg}' if epsg else '')}</authid>"
            f"<description>{escape(crs.name)}</description></spatialrefsys>")


def _extent(bounds, tag: str = "extent") -> str:
    x0, y0, x1, y1 = (float(b) for b in bounds)
    return f"<{tag}><xmin>{x0!r}</xmin><ymin>{y0!r}</ymin><xmax>{x1!r}</xmax><ymax>{y1!r}</ymax></{tag}>"


def project_xml(layers: dict[str, gpd.GeoDataFrame], settings, titles: dict[str, str], *, gpkg: str = "layers.gpkg",
                title: str = "gapmap") -> str:
    """The ``.qgs`` XML of a project with every layer of ``layers`` from ``./<gpkg>``, styled as in ``layer_styles``."""
    names = [n for n in PROJECT_ORDER if n in layers] + [n for n in layers if n not in PROJECT_ORDER]
    crs = next(g.crs for g in layers.values() if g.crs is not None)
    frame = layers.get("boundary", next(iter(layers.values())))
    x0, y0, x1, y1 = frame.total_bounds
    pad = 0.05 * max(x1 - x0, y1 - y0, 1.0)
    view = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    tree, maplayers, order = [], [], []
    for n in names:
        gdf = layers[n]
        lid = f"gapmap_{n}"
        src = f"./{gpkg}|layername={n}"
        label = titles.get(n, n)
        checked = "Qt::Unchecked" if n in PROJECT_HIDDEN else "Qt::Checked"
        tree.append(f'<layer-tree-layer expanded="0" checked="{checked}" id="{lid}" name={quoteattr(label)} '
                    f'source={quoteattr(src)} providerKey="ogr"><customproperties/></layer-tree-layer>')
        kinds = [str(t) for t in gdf.geom_type.dropna().unique()] if len(gdf) else []
        kind = "MultiPolygon" if "MultiPolygon" in kinds else kinds[0] if kinds else "Point"
        gtype, wkb = _GEOM.get(kind, ("Point", "Point"))
        bounds = gdf.total_bounds if len(gdf) else view
        maplayers.append(
            f'<maplayer type="vector" geometry="{gtype}" wkbType="{wkb}" hasScaleBasedVisibilityFlag="0" '
            f'minScale="100000000" maxScale="0" simplifyDrawingHints="1" simplifyDrawingTol="1" simplifyLocal="1" '
            f'simplifyAlgorithm="0" simplifyMaxScale="1" readOnly="0" refreshOnNotifyEnabled="0" autoRefreshEnabled="0" '
            f'autoRefreshTime="0" styleCategories="AllStyleCategories">'
            f"{_extent(bounds)}<id>{lid}</id><datasource>{escape(src)}</datasource>"
            f"<keywordList><value></value></keywordList><layername>{escape(label)}</layername>"
            f"<srs>{_srs(gdf.crs or crs)}</srs><provider encoding=\"UTF-8\">ogr</provider>"
            f"{_body(n, gdf, settings)}</maplayer>")
        order.append(f'<layer id="{lid}"/>')
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis projectname={quoteattr(title)} version="{QGIS_VERSION}">\n'
        '<homePath path=""/>\n'
        f"<title>{escape(title)}</title>\n"
        '<autotransaction active="0"/><evaluateDefaultValues active="0"/><trust active="0"/>\n'
        f"<projectCrs>{_srs(crs)}</projectCrs>\n"
        f'<layer-tree-group><customproperties/>{"".join(tree)}</layer-tree-group>\n'
        f'<mapcanvas name="theMapCanvas" annotationsVisible="1"><units>meters</units>{_extent(view)}'
        f"<rotation>0</rotation><destinationsrs>{_srs(crs)}</destinationsrs><rendermaptile>0</rendermaptile></mapcanvas>\n"
        f'<projectlayers>{"".join(maplayers)}</projectlayers>\n'
        f'<layerorder>{"".join(order)}</layerorder>\n'
        '<properties><Paths><Absolute type="bool">false</Absolute></Paths>'
        '<SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled></SpatialRefSys>'
        '<Measurement><DistanceUnits type="QString">meters</DistanceUnits><AreaUnits type="QString">m2</AreaUnits></Measurement>'
        "</properties>\n</qgis>\n")


def write_project(path: Path, layers: dict[str, gpd.GeoDataFrame], settings, titles: dict[str, str], *,
                  gpkg: str = "layers.gpkg", title: str = "gapmap") -> None:
    """Write ``project.qgz`` (a zip holding ``project.qgs``) with fixed timestamps."""
    xml = project_xml(layers, settings, titles, gpkg=gpkg, title=title)
    info = zipfile.ZipInfo("project.qgs", date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, xml.encode("utf-8"), compresslevel=6)


_TITLES = {
    "en": {"services": "Services by category", "catchments": "Catchments (travel-time bands, {method})",
           "population": "Population (dissemination-area points)", "hexes": "Hexagons: people beyond {t} min {of}",
           "worker_hexagons": "Worker hexagons: workers beyond {t} min {of} (cells under {k} sites or workers hidden)"},
    "fr": {"services": "Services par catégorie", "catchments": "Zones de desserte (bandes de temps de trajet, {method})",
           "population": "Population (points des aires de diffusion)", "hexes": "Hexagones : personnes à plus de {t} min {of}",
           "worker_hexagons": "Hexagones de travailleurs : travailleurs à plus de {t} min {of} "
                              "(cellules de moins de {k} sites ou travailleurs masquées)"},
}


def layer_titles(settings, method: str) -> dict[str, str]:
    """Human layer names of the project's layer tree, in the run's language."""
    from gapmap.output.i18n import labels

    lang = "fr" if settings.lang == "fr" else "en"
    L, T = labels(lang), _TITLES[lang]
    t = f"{settings.headline_threshold:g}"
    of = categories.of_a(settings.headline_category, lang)
    hc = categories.label(settings.headline_category, lang)
    return {
        "boundary": L["boundary"], "areas": L["areas_layer"].format(t=t, cat=hc), "services": T["services"],
        "catchments": T["catchments"].format(method=method), "population": T["population"],
        "hexes": T["hexes"].format(t=t, of=of),
        "worker_hexagons": T["worker_hexagons"].format(t=t, of=of, k=settings.k_anonymity),
        "sites": L["sites_internal"], "recommendations": L["recommended"],
        "transit_routes": L["transit_routes"], "transit_stops": L["transit_stops"],
    }
