"""English and French labels for the map and report (``--lang en|fr``).

Category names come from the registry (:mod:`gapmap.categories`). French templates that the
map fills with only ``{cat}`` are phrased to need no article ("du service le plus proche
(hôpital)"); the headline uses the registry's gendered "d'un hôpital" / "d'une clinique".
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "areas_layer": "Areas: share of workers beyond {t} min of a {cat}",
        "share_caption": "Share of workers beyond {t} min of a {cat}",
        "boundary": "Region boundary", "catchments": "Catchments: {cat}", "services": "Services: {cat}",
        "sites_public": "Migrant-worker sites (hexagons)",
        "sites_internal": "Migrant-worker sites (INTERNAL: exact geocoded points)",
        "recommended": "Recommended new services", "transit_routes": "Transit routes", "transit_stops": "Transit stops",
        "area": "Area", "sites": "Sites", "workers": "Workers (est.)", "workers_beyond": "Workers beyond {t} min",
        "share_beyond": "Share beyond", "population": "Population", "people_beyond": "People beyond {t} min",
        "suppressed": "suppressed (fewer than {k} sites)", "within": "within {t} min",
        "headline": "<b>{n}</b> of {total} estimated workers ({sn} of {st} sites) are beyond {t} min {of_cat}.",
        "people_headline": "{n} of {total} people are beyond {t} min.",
        "method": "Method", "approximations": "Approximations", "legend": "Legend", "sources": "Sources",
        "worker_sites": "worker sites", "title_sub": "Migrant-worker sites and {cats}", "data_as_of": "Data",
        "in_region": "in region", "outside_region": "outside the region (serves its edge)",
        "minutes": "min", "nearest": "Nearest {cat}", "trips_h": "trips/h", "route": "Route",
        "internal_banner": "INTERNAL MAP: shows geocoded worker-site points. Do not publish.",
        "report_title": "Service-gap report", "per_area": "Per area", "coverage_curves": "Coverage curves",
        "curve_caption": "Share covered within x minutes of the nearest {cat} ({mode}; {method})",
        "share_covered": "share covered", "minutes_axis": "minutes to the nearest service",
        "notes": "Notes", "recommendations": "Recommended new services", "newly_workers": "Workers newly covered",
        "newly_people": "People newly covered", "name": "Name", "rank": "Rank",
        "hex_layer": "Hexagons: people beyond {t} min of a {cat}",
        "suppressed_short": "suppressed", "between": "between {lo} and {hi}",
        "uncertain_area": "uncertain: the count changes within the stated range",
        "certain_area": "no site near the threshold", "certainty": "How sure",
        "labels_layer": "Place names", "places": "Places", "uncertain_legend": "dashed outline: uncertain count (range straddles {t} min)",
        "hex_legend": "Hexagons: workers beyond {t} min", "hex_note": "Cells under {k} sites or workers are not shown.",
        "map_headline": "<b>{n}</b> of {total} estimated workers ({sites}) are beyond {t} min {of_cat}.",
        "map_sites_of": "{sn} of {st} sites", "map_sites_all": "{st} sites in all",
        "knife_note": "{n} sites lie near the threshold (knife-edge).",
        "map_people_headline": "{n} of {total} people are beyond {t} min.",
        "method_note": "All times on this map use this method.",
        "coarse_note": "{n} of them work at sites placed only at a postal-area centroid, so their distance is uncertain.",
    },
    "fr": {
        "areas_layer": "Secteurs : part des travailleurs à plus de {t} min du service le plus proche ({cat})",
        "share_caption": "Part des travailleurs à plus de {t} min du service le plus proche ({cat})",
        "boundary": "Limite de la région", "catchments": "Zones de desserte : {cat}", "services": "Services : {cat}",
        "sites_public": "Sites de travailleurs migrants (hexagones)",
        "sites_internal": "Employeurs de travailleurs migrants (INTERNE : points géocodés exacts)",
        "recommended": "Nouveaux services recommandés", "transit_routes": "Lignes de transport en commun",
        "transit_stops": "Arrêts de transport en commun",
        "area": "Secteur", "sites": "Sites", "workers": "Travailleurs (est.)", "workers_beyond": "Travailleurs à plus de {t} min",
        "share_beyond": "Part au-delà", "population": "Population", "people_beyond": "Personnes à plus de {t} min",
        "suppressed": "masqué (moins de {k} sites)", "within": "à moins de {t} min",
        "headline": "<b>{n}</b> des {total} travailleurs estimés ({sn} des {st} sites) sont à plus de {t} min {of_cat}.",
        "people_headline": "{n} des {total} personnes sont à plus de {t} min.",
        "method": "Méthode", "approximations": "Approximations", "legend": "Légende", "sources": "Sources",
        "worker_sites": "sites de travailleurs", "title_sub": "Sites de travailleurs migrants et {cats}", "data_as_of": "Données",
        "in_region": "dans la région", "outside_region": "hors de la région (dessert sa bordure)",
        "minutes": "min", "nearest": "Service le plus proche ({cat})", "trips_h": "passages/h", "route": "Ligne",
        "internal_banner": "CARTE INTERNE : montre les points géocodés des sites. Ne pas publier.",
        "report_title": "Rapport sur les lacunes de services", "per_area": "Par secteur", "coverage_curves": "Courbes de couverture",
        "curve_caption": "Part couverte à moins de x minutes du service le plus proche ({cat}; {mode}; {method})",
        "share_covered": "part couverte", "minutes_axis": "minutes jusqu'au service le plus proche",
        "notes": "Remarques", "recommendations": "Nouveaux services recommandés", "newly_workers": "Travailleurs nouvellement couverts",
        "newly_people": "Personnes nouvellement couvertes", "name": "Nom", "rank": "Rang",
        "hex_layer": "Hexagones : personnes à plus de {t} min du service le plus proche ({cat})",
        "suppressed_short": "masqué", "between": "entre {lo} et {hi}",
        "uncertain_area": "incertain : le nombre varie dans la fourchette indiquée",
        "certain_area": "aucun site près du seuil", "certainty": "Fiabilité",
        "labels_layer": "Noms de lieux", "places": "Lieux", "uncertain_legend": "contour en tirets : nombre incertain (la fourchette chevauche {t} min)",
        "hex_legend": "Hexagones : travailleurs à plus de {t} min", "hex_note": "Les cellules de moins de {k} sites ou travailleurs ne sont pas montrées.",
        "map_headline": "<b>{n}</b> des {total} travailleurs estimés ({sites}) sont à plus de {t} min {of_cat}.",
        "map_sites_of": "{sn} des {st} sites", "map_sites_all": "{st} sites au total",
        "knife_note": "{n} sites sont près du seuil (cas limites).",
        "map_people_headline": "{n} des {total} personnes sont à plus de {t} min.",
        "method_note": "Tous les temps de cette carte suivent cette méthode.",
        "coarse_note": "{n} d'entre eux travaillent sur des sites placés seulement au centre de la région de tri d'acheminement : leur distance est incertaine.",
    },
}


def labels(lang: str) -> dict[str, str]:
    """Label table for ``lang`` (``en`` or ``fr``)."""
    from gapmap.errors import InputError

    if lang not in LABELS:
        raise InputError(f"Unknown language {lang!r}; use en or fr.")
    return LABELS[lang]


def cat_label(cat: str, lang: str) -> str:
    """Human name of a service category, from :mod:`gapmap.categories` (unregistered keys keep their own name)."""
    from gapmap import categories

    return categories.label(cat, lang)


def cat_of_a(cat: str, lang: str) -> str:
    """"of a <label>" / "d'un hôpital", "d'une clinique de soins primaires" (French article from the registry's gender)."""
    from gapmap import categories

    return categories.of_a(cat, lang)


def headline_text(total, settings, lang: str) -> str:
    """The headline sentences (HTML) from an area table's whole-region row: workers beyond the
    headline threshold (with how many sit at postal-area centroids) and people beyond it."""
    import html

    import pandas as pd

    L = LABELS[lang]
    pre = f"{settings.headline_category}_{settings.headline_threshold:g}min"
    t = f"{settings.headline_threshold:g}"

    def n(col):  # counts blanked by public-mode suppression print as a dash
        v = total.get(col)
        return "–" if v is None or pd.isna(v) else f"{int(v):,}"

    head = ""
    if pd.isna(total["workers"]) or total["workers"]:
        head = L["headline"].format(n=n(f"{pre}_workers_not"), total=n("workers"), sn=n(f"{pre}_sites_not"), st=n("sites"),
                                    t=t, cat=html.escape(cat_label(settings.headline_category, lang)),
                                    of_cat=html.escape(cat_of_a(settings.headline_category, lang)))
        coarse = total.get(f"{pre}_workers_not_postal_area")
        if coarse is not None and not pd.isna(coarse) and coarse:
            head += " " + L["coarse_note"].format(n=f"{int(coarse):,}")
    people = L["people_headline"].format(n=f"{total[f'{pre}_pop_not']:,.0f}", total=f"{total['population']:,.0f}", t=t)
    return f"{head} {people}"
