"""English and French labels for the map and report (``--lang en|fr``).

Category names come from the registry (:mod:`gapmap.categories`). French templates that the
map fills with only ``{cat}`` are phrased to need no article ("du service le plus proche
(hôpital)"); the headline uses the registry's gendered "d'un hôpital" / "d'une clinique".
"""

from __future__ import annotations

import re
from typing import Any

from gapmap.messages import Message  # noqa: F401  (re-exported: the keyed sentences rendered below)

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
        "data_line": "ODHF v1.1 (2020), ESDC LMIA 2022-2023, Census 2021",
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
        "data_line": "ODHF v1.1 (2020), EIMT d'EDSC 2022-2023, Recensement de 2021",
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


# --------------------------------------------------------------------------- report (report.html)
# Keys of the report only (gapmap.output.report); the map's keys are above. Every sentence the
# report prints is here in both languages; numbers go through report_int / report_pct.

REPORT_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "map_title": "Workers beyond {t} min {of_cat}, by area",
        "map_share": "share of workers beyond {t} min",
        "map_suppressed": "not published (fewer than {k} sites or workers)",
        "map_boundary": "region boundary", "map_proposed": "proposed new {cat}",
        "map_caption": "Areas shaded by the published share of their workers beyond {t} min {of_cat}; services marked by "
                       "category. No worker site is drawn.",
        "gaps_title": "Where the gaps are",
        "gaps_intro_public": "Areas ranked by workers beyond {t} min {of_cat} (published values; a dash is not published).",
        "gaps_intro_internal": "Communities ranked by workers beyond {t} min {of_cat} (INTERNAL: per-community figures).",
        "area": "Area", "community": "Community", "sites": "Sites", "workers": "Workers (est.)",
        "workers_beyond": "Workers beyond {t} min", "range": "Range (lowest to highest)", "share_beyond": "Share of workers beyond",
        "people": "People", "people_beyond": "People beyond {t} min", "people_range": "People: range",
        "range_fmt": "{lo} to {hi}",
        "close_title": "What would close them",
        "close_intro": "The best places for a new {cat} within {t} min of the workers not yet covered (maximal covering "
                       "location, existing services kept; candidates: hexagon centres; straight-line times).",
        "rank": "Rank", "place": "Where", "newly_workers": "Workers newly within {t} min", "newly_people": "People newly within {t} min",
        "near": "near {place} ({km} km)", "candidate": "hexagon {id}",
        "fewer_all": "{sites_rec}, not {p}: every worker that {p} new sites could reach is already reached with these, "
                     "so more would add nothing.",
        "sites_rec_one": "Only 1 site recommended", "sites_rec_many": "Only {n} sites recommended",
        "data_line": "Data: ODHF v1.1 (2020), ESDC LMIA 2022-2023, Census 2021",
        "fewer_none": "No site recommended: existing services already cover every worker that a new {cat} could reach.",
        "close_totals": "With them, workers within {t} min {of_cat}: {before} before, {after} after.",
        "close_totals_people": "People within {t} min {of_cat}: {before} before, {after} after.",
        "close_default": "Computed for this report with {p} sites; run with --recommend N for the file and the map markers.",
        "sure_title": "How sure is this",
        "sure_point": "Point estimate: {n} workers beyond {t} min {of_cat}; between {lo} and {hi} when locations and travel "
                      "speeds vary over the ranges below.",
        "sure_people": "People beyond {t} min: {n}, between {lo} and {hi}.",
        "sure_knife": "Knife-edge sites (their status flips inside the ranges): {n}.",
        "sure_rests": "The range rests on:",
        "sure_candidates": "where each site may be{for_sites}: the positions it can stand for ({households} Chatham-Kent "
                           "pseudo-households along named roads and {post_offices} rural post-office points, each timed like "
                           "the site), not a radius;",
        "sure_radius": "where each site may be{for_sites}: anywhere within a stated radius of its point: {radii} (ESDC "
                       "lists employers by community and postal code, not by farm);",
        "sure_exact": "no location range for the sites at coordinates of their own ({n});",
        "sure_transit": "departures from {start} to {end}: from the median trip to the 90th percentile;",
        "site_one": "site", "site_many": "sites", "for_sites": ", for {n} {sites}", "count_sites": " ({n} {sites})",
        "sure_circuity": "road distance from {lo} to {hi} times the straight-line distance (published rural detour indices);",
        "sure_speed": "speeds from {lo} to {hi} of the assumed average.",
        "sure_speed_network": "road speeds from {lo} to {hi} of those the network assigns (by road class, or the mode's speed).",
        "sure_sweep_caption": "Workers beyond {t} min {of_cat} as the circuity varies (straight-line approximation; band: "
                              "location and speed ranges; published values only).",
        "sure_sweep_x": "circuity (road distance / straight-line distance)", "sure_sweep_y": "workers beyond {t} min",
        "sure_point_label": "point estimate", "sure_band_label": "range (location and speed)",
        "sure_sweep_none": "No circuity plot: transit times do not use a circuity factor.",
        "prec_postal_code": "own postal-code point", "prec_community": "community point", "prec_post_office": "rural post office",
        "prec_postal_area": "postal-area centre", "prec_user": "user coordinates",
        "coverage_title": "Coverage by threshold",
        "cov_category": "Service", "cov_mode": "Travel mode", "cov_threshold": "Within (min)", "cov_sites": "Sites covered",
        "cov_workers": "Workers covered", "cov_workers_share": "Share of workers covered", "cov_people": "People covered",
        "cov_people_share": "Share of people covered",
        "mode_drive": "car", "mode_walk": "walking", "mode_bike": "bicycle", "mode_transit": "public transit",
        "headline": "<b>{n}</b> of {total} estimated workers ({sn} of {st} sites) are beyond {t} min {of_cat}; "
                    "between {lo} and {hi}. {p} of {ptotal} people are beyond {t} min.",
        "method_straight": "straight-line approximation: straight-line distance × {c} at {v} km/h by {mode}, not a road-network route",
    },
    "fr": {
        "map_title": "Travailleurs à plus de {t} min {of_cat}, par secteur",
        "map_share": "part des travailleurs à plus de {t} min",
        "map_suppressed": "non publié (moins de {k} sites ou travailleurs)",
        "map_boundary": "limite de la région", "map_proposed": "nouveau service proposé ({cat})",
        "map_caption": "Secteurs colorés selon la part publiée de leurs travailleurs à plus de {t} min {of_cat}; services "
                       "marqués par catégorie. Aucun site de travailleurs n'est dessiné.",
        "gaps_title": "Où sont les lacunes",
        "gaps_intro_public": "Secteurs classés selon le nombre de travailleurs à plus de {t} min {of_cat} (valeurs publiées; "
                             "un tiret signale une valeur non publiée).",
        "gaps_intro_internal": "Localités classées selon le nombre de travailleurs à plus de {t} min {of_cat} (INTERNE : "
                               "chiffres par localité).",
        "area": "Secteur", "community": "Localité", "sites": "Sites", "workers": "Travailleurs (est.)",
        "workers_beyond": "Travailleurs à plus de {t} min", "range": "Fourchette (du plus bas au plus haut)",
        "share_beyond": "Part des travailleurs au-delà",
        "people": "Personnes", "people_beyond": "Personnes à plus de {t} min", "people_range": "Personnes : fourchette",
        "range_fmt": "{lo} à {hi}",
        "close_title": "Ce qui les comblerait",
        "close_intro": "Les meilleurs emplacements pour {a_cat} à moins de {t} min des travailleurs non encore couverts "
                       "(couverture maximale, services existants conservés; candidats : centres d'hexagones; temps à vol "
                       "d'oiseau).",
        "rank": "Rang", "place": "Emplacement", "newly_workers": "Travailleurs nouvellement à moins de {t} min",
        "newly_people": "Personnes nouvellement à moins de {t} min",
        "near": "près de {place} ({km} km)", "candidate": "hexagone {id}",
        "fewer_all": "{sites_rec} et non {p} : tous les travailleurs que {p} nouveaux sites pourraient atteindre le sont "
                     "déjà avec ceux-ci; davantage n'ajouterait rien.",
        "sites_rec_one": "Seulement 1 site recommandé", "sites_rec_many": "Seulement {n} sites recommandés",
        "data_line": "Données : ODHF v1.1 (2020), EIMT d'EDSC 2022-2023, Recensement de 2021",
        "fewer_none": "Aucun site recommandé : les services existants couvrent déjà tous les travailleurs qu'{a_cat} "
                      "pourrait atteindre.",
        "close_totals": "Avec eux, travailleurs à moins de {t} min {of_cat} : {before} avant, {after} après.",
        "close_totals_people": "Personnes à moins de {t} min {of_cat} : {before} avant, {after} après.",
        "close_default": "Calculé pour ce rapport avec {p} sites; lancez avec --recommend N pour le fichier et les marqueurs "
                         "de la carte.",
        "sure_title": "Quelle est la fiabilité",
        "sure_point": "Estimation ponctuelle : {n} travailleurs à plus de {t} min {of_cat}; entre {lo} et {hi} lorsque les "
                      "emplacements et les vitesses varient dans les fourchettes ci-dessous.",
        "sure_people": "Personnes à plus de {t} min : {n}, entre {lo} et {hi}.",
        "sure_knife": "Sites sur le fil (leur statut bascule à l'intérieur des fourchettes) : {n}.",
        "sure_rests": "La fourchette repose sur :",
        "sure_candidates": "l'endroit où chaque site peut se trouver{for_sites} : les positions qu'il peut représenter "
                           "({households} pseudo-ménages de Chatham-Kent le long des routes nommées et {post_offices} points "
                           "de bureaux de poste ruraux, chacun chronométré comme le site), et non un rayon;",
        "sure_radius": "l'endroit où chaque site peut se trouver{for_sites} : n'importe où dans un rayon indiqué autour "
                       "de son point : {radii} (EDSC indique les employeurs par localité et code postal, pas par ferme);",
        "sure_exact": "aucune fourchette d'emplacement pour les sites aux coordonnées fournies ({n});",
        "sure_transit": "les départs de {start} à {end} : du trajet médian au 90e centile;",
        "site_one": "site", "site_many": "sites", "for_sites": ", pour {n} {sites}", "count_sites": " ({n} {sites})",
        "sure_circuity": "une distance routière de {lo} à {hi} fois la distance à vol d'oiseau (indices de détour rural "
                         "publiés);",
        "sure_speed": "des vitesses de {lo} à {hi} de la moyenne supposée.",
        "sure_speed_network": "des vitesses routières de {lo} à {hi} de celles que le réseau attribue (par classe de route, ou celle du mode).",
        "sure_sweep_caption": "Travailleurs à plus de {t} min {of_cat} selon le facteur de détour (approximation à vol "
                              "d'oiseau; bande : fourchettes d'emplacement et de vitesse; valeurs publiées seulement).",
        "sure_sweep_x": "facteur de détour (distance routière / distance à vol d'oiseau)",
        "sure_sweep_y": "travailleurs à plus de {t} min",
        "sure_point_label": "estimation ponctuelle", "sure_band_label": "fourchette (emplacement et vitesse)",
        "sure_sweep_none": "Pas de graphique du facteur de détour : les temps en transport en commun n'en utilisent pas.",
        "prec_postal_code": "point de son code postal", "prec_community": "point de la localité",
        "prec_post_office": "bureau de poste rural", "prec_postal_area": "centre de la région de tri",
        "prec_user": "coordonnées fournies",
        "coverage_title": "Couverture par seuil",
        "cov_category": "Service", "cov_mode": "Mode de déplacement", "cov_threshold": "À moins de (min)",
        "cov_sites": "Sites couverts", "cov_workers": "Travailleurs couverts", "cov_workers_share": "Part des travailleurs couverts",
        "cov_people": "Personnes couvertes", "cov_people_share": "Part des personnes couvertes",
        "mode_drive": "voiture", "mode_walk": "marche", "mode_bike": "vélo", "mode_transit": "transport en commun",
        "headline": "<b>{n}</b> des {total} travailleurs estimés ({sn} des {st} sites) sont à plus de {t} min {of_cat}; "
                    "entre {lo} et {hi}. {p} des {ptotal} personnes sont à plus de {t} min.",
        "method_straight": "approximation à vol d'oiseau : distance à vol d'oiseau × {c} à {v} km/h en {mode}, et non un "
                           "trajet sur le réseau routier",
    },
}


def report_labels(lang: str) -> dict[str, str]:
    """The report's label table for ``lang`` (raises like :func:`labels` on an unknown language)."""
    labels(lang)
    return REPORT_LABELS[lang]


def report_int(value, lang: str, missing: str = "–") -> str:
    """A count for people: ``10,833`` (en) / ``10 833`` (fr, narrow no-break space); blank -> ``missing``."""
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)) or repr(value) == "<NA>":
        return missing
    text = f"{round(float(value)):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def report_pct(value, lang: str, digits: int = 0, missing: str = "–") -> str:
    """A share (0-1) for people: ``49%`` (en) / ``49 %`` (fr, no-break space, decimal comma)."""
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)) or repr(value) == "<NA>":
        return missing
    text = f"{float(value) * 100:.{digits}f}"
    return f"{text.replace('.', ',')}\u00a0%" if lang == "fr" else f"{text}%"


def report_num(value: float, lang: str) -> str:
    """A short decimal (circuity 1.3, factor 0.85): decimal comma in French."""
    text = f"{float(value):g}"
    return text.replace(".", ",") if lang == "fr" else text


# --------------------------------------------------------------------------- keyed messages
# The approximations and notes of a run are written by the pipeline and the layers in English
# (summary.json records them as they are); each one that a planner reads is a Message: its
# English text plus a key and parameters, from which the French sentence below is rendered with
# French number formats. A sentence with no key (a user file's own warning) stays English and is
# marked lang="en" where it is shown.



_FR_MODES = {"drive": "voiture", "walk": "marche", "bike": "vélo", "transit": "transport en commun"}

def _fr_distance(metres: float) -> str:
    return f"{report_num(metres / 1000, 'fr')}\u00a0km" if metres >= 1000 else f"{report_int(metres, 'fr')}\u00a0m"


def _plural(n, one: str, many: str) -> str:
    """French agreement: singular for 0 and 1 (« 0 site », « 1 site »), plural from 2."""
    return one if abs(float(n)) < 2 else many


def _fr_sites(p: dict) -> str:
    # ESDC lists employers by community and postal code: how many sites each geocoding rule placed.
    words = {
        "postal_code": "à {their} propre point de code postal urbain (environ un pâté de maisons)",
        "community": "au point d'une localité citée (environ 1\u00a0km)",
        "post_office": "au point d'un bureau de poste rural (environ 1\u00a0km du village; les fermes peuvent être à "
                       "plusieurs kilomètres)",
        "postal_area": "seulement au centroïde d'une région de tri d'acheminement (RTA; grossier, parfois à plus de "
                       "30\u00a0km; comptés dans « secteur inconnu », jamais dans un quartier)",
    }
    if p.get("hide_counts"):  # public mode with a small count: no count is shown (see the English sentence)
        parts = "; ".join(f"certains {words[k].format(their='leur')}" for k in p["counts"])
        text = (f"Les sites ne sont pas à l'adresse des fermes (EDSC n'indique que la localité et le code postal) : {parts}. "
                f"Les effectifs par placement ne sont pas publiés (l'un d'eux compte moins de {report_int(p['k'], 'fr')} sites).")
        if p.get("unstated"):
            text += " Certains d'entre eux reposent sur des points de codes postaux dont la licence n'est pas indiquée."
        return text
    parts = "; ".join(f"{report_int(n, 'fr')} {words[k].format(their=_plural(n, 'son', 'leur'))}" for k, n in p["counts"].items())
    text = f"Les sites ne sont pas à l'adresse des fermes (EDSC n'indique que la localité et le code postal) : {parts}."
    if p.get("unstated"):
        n = p["unstated"]
        text += (f" {report_int(n, 'fr')} d'entre eux reposent sur des points de codes postaux dont la licence n'est pas "
                 "indiquée.")
    return text


def _fr_transit(p: dict) -> str:
    walk = (f"sur le réseau piétonnier à {report_num(p['walk_kmh'], 'fr')}\u00a0km/h" if p["network"] else
            f"comptés en distance à vol d'oiseau × {report_num(p['circuity'], 'fr')} à {report_num(p['walk_kmh'], 'fr')}\u00a0km/h")
    return (f"Les temps en transport en commun vont de porte à porte, sur chaque minute de départ de {p['start']} à {p['end']} "
            f"(médiane; 90e centile dans les tableaux), trajets à pied {walk}; les lieux sans arrêt utilisable sont "
            "inaccessibles.")


def _fr_hours(p: dict) -> str:
    items = "; ".join(f"{cat_label(k, 'fr')} : {v}" for k, v in p["hours"].items())
    return f"Horaires d'ouverture supposés (faute de données) pour {items}, pour les services sans horaires propres."


def _fr_candidates(p: dict) -> str:
    n = p["radius_sites"]
    hide = p.get("hide_counts")
    if not n:
        tail = "aucun site ne se replie sur un rayon indiqué."
    elif hide:
        tail = ("d'autres sites utilisent le rayon indiqué pour la précision de leur géocodage (effectifs non publiés : "
                f"l'un d'eux est inférieur à {report_int(p['k'], 'fr')}).")
    else:
        tail = f"{report_int(n, 'fr')} " + _plural(n, "autre site utilise le rayon indiqué pour la précision de son géocodage.",
                                                  "autres sites utilisent le rayon indiqué pour la précision de leur géocodage.")
    placed = "les sites placés" if hide else f"{report_int(p['sites'], 'fr')} {_plural(p['sites'], 'site placé', 'sites placés')}"
    return (f"Fourchettes d'emplacement : {placed} au point "
            "d'une localité, d'un bureau de poste ou d'une région de tri varient sur les positions qu'ils peuvent représenter "
            f"({report_int(p['households'], 'fr')} pseudo-ménages de Chatham-Kent le long des routes nommées, C. Belanger / "
            f"Statistique Canada 2021, et {report_int(p['post_offices'], 'fr')} points de bureaux de poste ruraux, chacun "
            f"rattaché au point de localité le plus proche); {tail}")


def _fr_odhf(p: dict) -> str:
    n = p["flagged"]
    return (f"Contrôles de localisation de la BDOES : {report_int(n, 'fr')} "
            f"{_plural(n, 'établissement proche de la région se trouve', 'établissements proches de la région se trouvent')} "
            f"loin de {_plural(n, 'son propre code postal ou de sa région', 'leur propre code postal ou de leur région')} de tri "
            f"({report_int(p['rejected'], 'fr')} {_plural(p['rejected'], 'rejeté', 'rejetés')} : à plus de "
            f"{report_num(p['reject_km'], 'fr')}\u00a0km des deux; les autres conservés avec un location_flag).")


def _fr_census_source(text: str) -> str:
    text = text.replace("Statistics Canada, 2021 Census of Population, Census Profile",
                        "Statistique Canada, Recensement de la population de 2021, Profil du recensement")
    return re.sub(r", CSD (\d+)", r", SDR \1", text)


def _fr_segment_report(r: dict) -> str:
    """:meth:`gapmap.travel.road.segments.SegmentReport.sentence` in French. The exclusion labels
    come from the mapping file (its own words), so they are quoted as they are."""
    n = lambda v: report_int(v, "fr")  # noqa: E731
    shipped = re.fullmatch(r"the gapmap mapping '(.+)'", r["mapping"])
    mapping = f"la correspondance gapmap « {shipped[1]} »" if shipped else r["mapping"]
    excl = "; ".join(f"{n(k)} « {why} »" for why, k in r["dropped_excluded"].items() if k)
    return (
        f"{r['source']} lu avec {mapping} : {n(r['rows_read'])} lignes, {n(r['segments'])} segments "
        f"({n(r['oneway_segments'])} à sens unique) et {n(r['nodes'])} nœuds conservés; "
        + (f"{n(r['parts_exploded'])} lignes multiparties éclatées, " if r["parts_exploded"] else "")
        + (f"retirés : {excl}; " if excl else "")
        + (f"{n(r['dropped_no_geometry'])} lignes sans géométrie retirées; " if r["dropped_no_geometry"] else "")
        + f"{n(r['dropped_zero_length'])} de longueur nulle retirés; {n(r['junctions_split'])} jonctions en T coupées; "
        f"la plus grande des {n(r['components'])} composantes conservée ({n(r['dropped_small_components'])} segments, "
        f"{report_pct(r['share_length_dropped'], 'fr', 1)} de la longueur retirés)"
        + (f"; vitesses par classe selon {'la table donnée' if r['speed_table'] == 'the given table' else r['speed_table']} "
           "là où elle nomme une classe" if r["speed_table"] else "")
    )


def _fr_road_network(p: dict) -> str | None:
    """The note saying which road network a run used (``pipeline._resolve_network``)."""
    chosen = (f"choisi par défaut pour {place_name(p['region'], 'fr')} dans le miroir hors ligne ({p['title']}) : "
              if p.get("region") else "")
    reason = p["reason"]
    if p.get("report") is not None:
        body = _fr_segment_report(p["report"])
    elif reason.startswith("road network read from "):
        body = "réseau routier lu depuis " + reason.removeprefix("road network read from ")
    elif reason.startswith("cached road network "):
        body = "réseau routier en cache " + reason.removeprefix("cached road network ")
    else:
        return None  # e.g. a download's own error text
    label = ""
    if p.get("method"):
        method = network_method_fr(p["method"])
        if method is None:
            return None
        label = f" Temps de déplacement : {method}."
    return f"Réseau routier : {chosen}{body}.{label}"


def _fr_legs(p: dict) -> str:
    """The off-road legs travelled by the mode, as in ``pipeline._leg_words``."""
    return (f"sont une approximation à vol d'oiseau (distance × {report_num(p['circuity'], 'fr')} à "
            f"{report_num(p['kmh'], 'fr')}\u00a0km/h; facteur de détour {report_num(p['lo'], 'fr')}-{report_num(p['hi'], 'fr')} "
            "dans les fourchettes)")


def _fr_road_legs(p: dict) -> str:
    method = network_method_fr(p["method"]) or p["method"]
    return (f"Les temps sur le réseau routier ({method}) partent et arrivent au point le plus proche de la route la plus proche, "
            f"les trajets jusqu'à elle {_fr_legs(p)}; {report_int(p['far'], 'fr')} sites ou points d'AD sont à plus de "
            f"{_fr_distance(p['snap_m'])} de toute route (snap_flag).")


def _fr_beyond(p: dict) -> str:
    """Services past the roads the network holds (``pipeline._beyond_note``)."""
    ex = ", ".join(f"{name} {f'{km:.1f}'.replace('.', ',')}\u00a0km" for name, km in p["examples"])
    more = ", ..." if p["n"] > len(p["examples"]) else ""
    how = (f"leurs trajets jusqu'à elle {_fr_legs(p)}" if p["driven"] else
           f"leurs trajets jusqu'à elle se font à pied à {report_num(p['walk_kmh'], 'fr')}\u00a0km/h")
    return (f"{report_int(p['n'], 'fr')} {_plural(p['n'], 'service', 'services')} sur les {report_int(p['total'], 'fr')} "
            f"analysés {_plural(p['n'], 'est', 'sont')} à plus de {_fr_distance(p['snap_m'])} de toute route du réseau, au-delà "
            f"des routes qu'il contient (les plus proches d'abord : {ex}{more}); {how}.")


def _fr_new_das(p: dict) -> str:
    n = p["n"]
    return (f"{report_int(n, 'fr')} {_plural(n, 'AD est nouvelle', 'AD sont nouvelles')} depuis 2016 "
            f"({report_int(p['people'], 'fr')} personnes) et sans point représentatif hors ligne : "
            + _plural(n, "elle n'est pas placée, et les totaux de population l'omettent.",
                      "elles ne sont pas placées, et les totaux de population les omettent."))


def _fr_new_das_cd(p: dict) -> str:
    n = p["n"]
    text = (f"{report_int(n, 'fr')} AD ({report_int(p['people'], 'fr')} personnes) de la division de "
            f"recensement {p['cds']} {_plural(n, 'est nouvelle', 'sont nouvelles')} depuis 2016 et sans point représentatif "
            f"hors ligne : on ne sait pas si {_plural(n, 'elle se trouve', 'elles se trouvent')} dans la région; "
            + _plural(n, "elle n'est pas placée", "elles ne sont pas placées"))
    source = _fr_census_source(p.get("census_source", ""))
    if p.get("gap") == "fewer":
        text += (f"; les AD placées comptent {report_int(p['placed'], 'fr')} personnes, soit {report_int(p['missing'], 'fr')} "
                 f"({report_pct(p['share'], 'fr', 1)}) de moins que le total du recensement de "
                 f"{report_int(p['census_total'], 'fr')} ({source})")
    elif p.get("gap") == "full":
        text += (f"; les AD placées atteignent déjà le total du recensement de {report_int(p['census_total'], 'fr')} "
                 f"({source})")
    return text + "."


def _fr_rest_areas(p: dict) -> str:
    n = p["n"]
    what = "quartiers" if p["wards"] else "secteurs de recensement"
    return (f"{report_int(n, 'fr')} {_plural(n, 'secteur « Reste de … » couvre', 'secteurs « Reste de … » couvrent')} la partie "
            f"de la région hors des {what} disponibles hors ligne.")


def _fr_categories_absent(p: dict) -> str:
    missing = ", ".join(cat_label(c, "fr") for c in p["missing"])
    kept = ", ".join(cat_label(c, "fr") for c in p["kept"])
    return (f"Aucun service de ces catégories dans la région ou à proximité dans les données hors ligne : {missing}; "
            f"seules ces catégories sont analysées : {kept}.")


#: French names of the TFWP streams (ESDC's own French titles).
_FR_STREAMS = {"Primary Agriculture": "Agriculture primaire", "High Wage": "Postes à haut salaire",
               "Low Wage": "Postes à bas salaire", "Global Talent Stream": "Volet des talents mondiaux",
               "Permanent Resident Only": "Résidence permanente seulement"}

#: Road-network fallback reasons (gapmap.travel.road.load) the notes quote, in French.
_FR_ROAD_REASONS = {
    "no internet": "aucun réseau routier en cache et pas de connexion Internet vers OpenStreetMap (API Overpass injoignable)",
    "offline": "aucun réseau routier en cache ({file}) et le mode hors ligne est activé",
}

#: French templates of every keyed message (``str.format`` fields, or a function of the params).
#: Numbers reach a string template already formatted (:func:`render`).
MESSAGES_FR: dict[str, Any] = {
    "appx_straight": "Les temps de déplacement sont une approximation à vol d'oiseau ({mode} {kmh}\u00a0km/h, facteur de "
                     "détour {circuity}) : distance à vol d'oiseau × {circuity} / {kmh}\u00a0km/h, et non un trajet sur le "
                     "réseau routier.",
    "appx_road": "Les temps sur le réseau routier ({method}) partent et arrivent au point le plus proche de la route la plus "
                 "proche, le trajet hors route étant fait à pied à {walk_kmh}\u00a0km/h; {far} sites ou points d'AD sont à "
                 "plus de {snap} de toute route (snap_flag).",
    "appx_transit": _fr_transit,
    "appx_beyond": _fr_beyond,
    "appx_road_legs": _fr_road_legs,
    "appx_sites": _fr_sites,
    "appx_workers": "Travailleurs par site = le plus grand total annuel de postes approuvés par EIMT (trimestres additionnés "
                    "dans une année, années non additionnées) : des approbations, pas un décompte de personnes.",
    "appx_assumed_hours": _fr_hours,
    "appx_pop_2016": "La population est placée aux points représentatifs des AD de 2016, avec les effectifs de 2021.",
    "appx_pop_block": "La population est placée en un point de chaque îlot de diffusion de 2021 (point représentatif).",
    "appx_location_candidates": _fr_candidates,
    "note_road_fallback": lambda p: (f"Réseau routier : {_FR_ROAD_REASONS[p['reason_key']].format(**p)}; les temps de "
                                     "déplacement suivent l'approximation à vol d'oiseau." if p.get("reason_key") in _FR_ROAD_REASONS
                                     else None),
    "note_road_network": _fr_road_network,
    "note_road_partial": lambda p: (f"Le réseau routier ne couvre que {report_pct(p['share'], 'fr')} de la superficie de la "
                                    "région : les lieux au-delà sont chronométrés avec une longue marche hors route "
                                    "(snap_flag), et non sur les routes."),
    "note_odhf_locations": _fr_odhf,
    "note_no_lmia_rows": lambda p: ("Aucune ligne EIMT du volet " + ", ".join(_FR_STREAMS.get(s, s) for s in p["streams"])
                                    + " n'est placée dans la région."),
    "note_new_das": _fr_new_das,
    "note_blocks": "Population : {n} îlots de diffusion de 2021 ({people} personnes), chacun en un point à l'intérieur de "
                   "l'îlot (plus fin que les AD).",
    "note_new_das_cd": _fr_new_das_cd,
    "note_rest_areas": _fr_rest_areas,
    "note_categories_absent": _fr_categories_absent,
    "note_postal_licence": "{n} {sites_placed} à des points de codes postaux ou de bureaux de poste ruraux tirés d'une table "
                           "dont la licence n'est pas indiquée (PyPI cazipcode 0.0.2); passez --postal-points FICHIER (p. ex. "
                           "le FCCP de Statistique Canada) pour utiliser le vôtre.",
}


def _fr_params(msg: Message) -> dict:
    """The parameters of a string template, formatted for French (numbers, modes, plurals)."""
    p = dict(msg.params)
    out = {}
    for k, v in p.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out[k] = v
        elif isinstance(v, int):
            out[k] = report_int(v, "fr")
        else:
            out[k] = report_num(v, "fr")
    if "mode" in p:
        out["mode"] = _FR_MODES.get(p["mode"], p["mode"])
    if "snap_m" in p:
        out["snap"] = _fr_distance(p["snap_m"])
    if isinstance(p.get("method"), str):
        out["method"] = network_method_fr(p["method"]) or p["method"]
    if msg.key == "note_postal_licence":
        out["sites_placed"] = _plural(p["n"], "site est placé", "sites sont placés")
    return out


def render(text: str, lang: str) -> str | None:
    """``text`` in ``lang``: English as it is; another language from its key, or None when it has none.

    Parameters
    ----------
    text : str or Message
        An approximation or note of a run.
    lang : str
        ``en`` or ``fr``.

    Returns
    -------
    str or None
        Plain text (escape it for HTML); None when ``text`` carries no key for ``lang`` (or its
        parameters are ones the templates do not know, e.g. an unforeseen road-network reason).
    """
    if lang == "en":
        return str(text)
    if not isinstance(text, Message) or text.key not in MESSAGES_FR:
        return None
    template = MESSAGES_FR[text.key]
    if callable(template):
        return template(text.params)
    return template.format(**_fr_params(text))


def message_html(text: str, lang: str) -> str:
    """An approximation or note as HTML in ``lang``; one with no translation stays English, marked ``lang="en"``."""
    from gapmap.output.html import esc

    rendered = render(text, lang)
    if rendered is None:
        return f"<span lang='en'>{esc(text)}</span>"
    return esc(rendered)


# --------------------------------------------------------------------------- names and sources

#: French for the English words of names and attributions the map and report print (region, wards, sources).
_FR_NAMES = (
    (re.compile(r"^Ward (\d+)$"), r"Quartier \1"),
    (re.compile(r"^([AEIOUÉÈ].*) LIP$"), r"PLI d'\1"),  # elision: PLI d'Ottawa
    (re.compile(r"^(.+) LIP$"), r"PLI de \1"),
    (re.compile(r"^Municipality of "), "Municipalité de "),
    (re.compile(r"^City of "), "Ville de "),
    (re.compile(r"^County of "), "Comté de "),
    (re.compile(r"^Region of "), "Région de "),
    (re.compile(r"Statistics Canada"), "Statistique Canada"),
    (re.compile(r"Natural Resources Canada"), "Ressources naturelles Canada"),
    (re.compile(r"ESDC, TFWP positive LMIA employers"), "EDSC, employeurs ayant obtenu une EIMT favorable (PTET)"),
    (re.compile(r"\(Census (\d{4})\)"), r"(Recensement de \1)"),
    (re.compile(r"\(CIMD (\d{4})\)"), r"(ICDM \1)"),
    (re.compile(r"OGL - Canada"), "LGO - Canada"),
    (re.compile(r"\(OGL\)"), "(LGO)"),
    (re.compile(r"Wikipedia"), "Wikipédia"),
    (re.compile(r"^Postal-code points: (.+), publisher unknown, licence not stated \(not republished\)$"),
     r"Points des codes postaux : \1, éditeur inconnu, licence non indiquée (non republiés)"),
    (re.compile(r"^Rural post-office points: (.+), publisher unknown, licence not stated \(not republished\)$"),
     r"Points des bureaux de poste ruraux : \1, éditeur inconnu, licence non indiquée (non republiés)"),
    (re.compile(r"^Town of "), "Ville de "),
    (re.compile(r"^Township of "), "Canton de "),
    (re.compile(r"^Corporation of "), "Corporation de "),
    (re.compile(r"^User file "), "Fichier de l'utilisateur "),
    (re.compile(r"© OpenStreetMap contributors"), "© les contributeurs d'OpenStreetMap"),
)


def place_name(text: str, lang: str) -> str:
    """A region, area or source name in ``lang`` (French for the known English words)."""
    if lang != "fr":
        return str(text)
    out = str(text)
    for pattern, repl in _FR_NAMES:
        out = pattern.sub(repl, out)
    return out


_ROAD_METHOD = re.compile(r"^road network \((?P<provider>.+?), (?P<mode>drive|walk|bike)(?: (?P<kmh>[\d.]+) km/h)?"
                          r"(?:; (?P<note>[^)]*))?\)$")
_TRANSIT_METHOD = re.compile(r"^transit schedule \(GTFS (?P<feed>.+) (?P<day>\d{4}-\d{2}-\d{2}) (?P<window>\S+); (?P<walk>.+)\)$")
_FR_SPEED_NOTES = {"speeds assigned by road class": "vitesses attribuées par classe de route"}


def network_method_fr(method: str) -> str | None:
    """The French label of a road-network or transit-schedule method label, or None when its form is unknown.

    Provider, feed and agency names stay as they are (they are names); the words around them,
    the mode, the numbers and the speed note are French.
    """
    m = _ROAD_METHOD.match(method)
    if m:
        note = m["note"]
        if note is not None and note not in _FR_SPEED_NOTES:
            return None
        speed = f" {report_num(float(m['kmh']), 'fr')}\u00a0km/h" if m["kmh"] else ""
        tail = f"; {_FR_SPEED_NOTES[note]}" if note else ""
        return f"réseau routier ({m['provider']}, {_FR_MODES[m['mode']]}{speed}{tail})"
    m = _TRANSIT_METHOD.match(method)
    if m:
        walk = m["walk"]
        w = re.fullmatch(r"straight-line walk x([\d.]+) at ([\d.]+) km/h", walk)
        if walk == "network walk (walk_time_fn)":
            walk_fr = "marche sur le réseau piétonnier"
        elif w:
            walk_fr = f"marche à vol d'oiseau × {report_num(float(w[1]), 'fr')} à {report_num(float(w[2]), 'fr')}\u00a0km/h"
        else:
            return None
        return f"horaires de transport en commun (GTFS {m['feed']} {m['day']} {m['window']}; {walk_fr})"
    return None
