"""Keyed messages (gapmap.messages.Message, rendered by gapmap.output.i18n): the English text stays the record, French is
rendered from the key with French number formats; the expected sentences are written out by hand."""

from __future__ import annotations

import json
import pickle

import pytest

from gapmap.output.i18n import Message, message_html, render


def test_message_is_its_english_text_everywhere_text_is_expected():
    m = Message("15 sites are placed at postal-code points.", "note_postal_licence", n=15)
    assert m == "15 sites are placed at postal-code points." and isinstance(m, str)
    assert json.dumps([m]) == json.dumps(["15 sites are placed at postal-code points."])
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.key == "note_postal_licence" and back.params == {"n": 15}
    assert render(m, "en") == str(m)


@pytest.mark.parametrize("msg, french", [
    (Message("x", "appx_straight", mode="drive", kmh=60.0, circuity=1.3),
     "Les temps de déplacement sont une approximation à vol d'oiseau (voiture 60\u00a0km/h, facteur de détour 1,3) : "
     "distance à vol d'oiseau × 1,3 / 60\u00a0km/h, et non un trajet sur le réseau routier."),
    (Message("x", "note_postal_licence", n=1),
     "1 site est placé à des points de codes postaux ou de bureaux de poste ruraux tirés d'une table dont la licence "
     "n'est pas indiquée (PyPI cazipcode 0.0.2); passez --postal-points FICHIER (p. ex. le FCCP de Statistique Canada) "
     "pour utiliser le vôtre."),
    (Message("x", "note_odhf_locations", flagged=3, rejected=0, reject_km=100.0),
     "Contrôles de localisation de la BDOES : 3 établissements proches de la région se trouvent loin de leur propre "
     "code postal ou de leur région de tri (0 rejeté : à plus de 100\u00a0km des deux; les autres conservés avec un "
     "location_flag)."),
    (Message("x", "appx_sites", counts={"community": 1234, "postal_area": 2}, unstated=0),
     "Les sites ne sont pas à l'adresse des fermes (EDSC n'indique que la localité et le code postal) : 1\u202f234 au "
     "point d'une localité citée (environ 1\u00a0km); 2 seulement au centroïde d'une région de tri d'acheminement (RTA; "
     "grossier, parfois à plus de 30\u00a0km; comptés dans « secteur inconnu », jamais dans un quartier)."),
    (Message("x", "appx_location_candidates", sites=91, households=9489, post_offices=22, radius_sites=1),
     "Fourchettes d'emplacement : 91 sites placés au point d'une localité, d'un bureau de poste ou d'une région de tri "
     "varient sur les positions qu'ils peuvent représenter (9\u202f489 pseudo-ménages de Chatham-Kent le long des routes "
     "nommées, C. Belanger / Statistique Canada 2021, et 22 points de bureaux de poste ruraux, chacun rattaché au point "
     "de localité le plus proche); 1 autre site utilise le rayon indiqué pour la précision de son géocodage."),
    (Message("x", "appx_road", method="road network (OSM)", walk_kmh=4.5, far=1200, snap_m=1000.0),
     "Les temps sur le réseau routier (road network (OSM)) partent et arrivent au point le plus proche de la route la "
     "plus proche, le trajet hors route étant fait à pied à 4,5\u00a0km/h; 1\u202f200 sites ou points d'AD sont à plus de "
     "1\u00a0km de toute route (snap_flag)."),
    (Message("x", "appx_road_legs", method="road network (OSM)", far=3, snap_m=1000.0, kmh=60.0, circuity=1.3, lo=1.2, hi=1.6),
     "Les temps sur le réseau routier (road network (OSM)) partent et arrivent au point le plus proche de la route la "
     "plus proche, les trajets jusqu'à elle sont une approximation à vol d'oiseau (distance × 1,3 à 60\u00a0km/h; facteur "
     "de détour 1,2-1,6 dans les fourchettes); 3 sites ou points d'AD sont à plus de 1\u00a0km de toute route (snap_flag)."),
    (Message("x", "note_blocks", n=8559, people=1017449),
     "Population : 8\u202f559 îlots de diffusion de 2021 (1\u202f017\u202f449 personnes), chacun en un point à l'intérieur "
     "de l'îlot (plus fin que les AD)."),
    (Message("x", "appx_assumed_hours", hours={"hospital": "24/7"}),
     "Horaires d'ouverture supposés (faute de données) pour hôpital : 24/7, pour les services sans horaires propres."),
    (Message("x", "note_new_das", n=53, people=75001.0),
     "53 AD sont nouvelles depuis 2016 (75\u202f001 personnes) et sans point représentatif hors ligne : elles ne sont pas "
     "placées, et les totaux de population les omettent."),
    (Message("x", "note_rest_areas", n=1, wards=False),
     "1 secteur « Reste de … » couvre la partie de la région hors des secteurs de recensement disponibles hors ligne."),
    (Message("x", "note_no_lmia_rows", streams=["Primary Agriculture"]),
     "Aucune ligne EIMT du volet Agriculture primaire n'est placée dans la région."),
    (Message("x", "appx_sites", counts={"postal_code": 1, "post_office": 2}, unstated=3),
     "Les sites ne sont pas à l'adresse des fermes (EDSC n'indique que la localité et le code postal) : 1 à son propre "
     "point de code postal urbain (environ un pâté de maisons); 2 au point d'un bureau de poste rural (environ 1\u00a0km "
     "du village; les fermes peuvent être à plusieurs kilomètres). 3 d'entre eux reposent sur des points de codes postaux "
     "dont la licence n'est pas indiquée."),
])
def test_french_renderings(msg, french):
    assert render(msg, "fr") == french


def test_untranslated_text_stays_english_and_is_marked():
    assert render("A user file's own warning <b>", "fr") is None
    assert message_html("A user file's own warning <b>", "fr") == "<span lang='en'>A user file&#x27;s own warning &lt;b&gt;</span>"
    # An unforeseen road-network reason: the whole sentence stays English rather than half-translated.
    odd = Message("Road network: something new; travel times use the straight-line approximation.", "note_road_fallback")
    assert render(odd, "fr") is None


def test_french_run_keeps_the_english_record_and_translates_every_sentence(mirror):
    """summary.json of a French run records the same English sentences; every approximation and note has a French form."""
    import gapmap
    from gapmap.output import files

    en = gapmap.analyze("chatham-kent", network="auto")
    fr = gapmap.analyze("chatham-kent", network="auto", settings=gapmap.load_settings(lang="fr"))
    assert list(fr.approximations) == list(en.approximations) and list(fr.notes) == list(en.notes)
    s_en, s_fr = files.summary(en, None, []), files.summary(fr, None, [])
    assert s_en["method"]["approximations"] == s_fr["method"]["approximations"] and s_en["notes"] == s_fr["notes"]
    untranslated = [t for t in [*fr.approximations, *fr.notes] if render(t, "fr") is None]
    assert untranslated == []
    assert any(t.startswith("Road network: no cached road network") for t in en.notes)  # the offline fallback is covered


def test_notes_of_other_regions_are_translated(mirror):
    """Regions whose runs note new DAs, 'Rest of' areas, no LMIA rows and postal-area sites (seen in a batch of all regions)."""
    import gapmap

    seen = set()
    for slug in ("durham", "kingston", "north-bay"):
        result = gapmap.analyze(slug, settings=gapmap.load_settings(lang="fr"))
        texts = [*result.approximations, *result.notes]
        assert [t for t in texts if render(t, "fr") is None] == [], slug
        seen |= {t.key for t in texts}
    assert {"note_new_das", "note_new_das_cd", "note_rest_areas", "note_no_lmia_rows"} <= seen


@pytest.mark.parametrize("method, french", [
    ("road network (Statistics Canada RNF, drive; speeds assigned by road class)",
     "réseau routier (Statistics Canada RNF, voiture; vitesses attribuées par classe de route)"),
    ("road network (OpenStreetMap, walk 4.8 km/h)", "réseau routier (OpenStreetMap, marche 4,8\u00a0km/h)"),
    ("transit schedule (GTFS Barrie Transit 2025-12-03 17:00-18:59; straight-line walk x1.3 at 4.8 km/h)",
     "horaires de transport en commun (GTFS Barrie Transit 2025-12-03 17:00-18:59; marche à vol d'oiseau × 1,3 à 4,8\u00a0km/h)"),
    ("road network (a.graphml, drive; an unknown note)", None),
])
def test_network_and_transit_method_labels_in_french(method, french):
    from gapmap.output.i18n import network_method_fr

    assert network_method_fr(method) == french


def test_road_network_notes_in_french():
    """The note naming the road network a run used, and the partial-coverage note, have French
    (hand-written expectations; the mapping's own exclusion labels are quoted as they are)."""
    report = {"source": "roads.gpkg", "mapping": "the gapmap mapping 'rnf'", "rows_read": 12345, "segments": 12000,
              "oneway_segments": 0, "nodes": 9001, "parts_exploded": 2, "dropped_no_geometry": 0,
              "dropped_excluded": {"rapid transit": 143, "ferry": 0}, "dropped_zero_length": 1, "junctions_split": 3,
              "components": 4, "dropped_small_components": 16, "share_length_dropped": 0.0123, "speed_table": ""}
    note = Message("Road network: (English)", "note_road_network", region="Ottawa LIP", title="RNF 2021",
                   reason="(English)", report=report,
                   method="road network (Statistics Canada RNF, drive; speeds assigned by road class)")
    assert render(note, "fr") == (
        "Réseau routier : choisi par défaut pour PLI d'Ottawa dans le miroir hors ligne (RNF 2021) : roads.gpkg lu avec "
        "la correspondance gapmap « rnf » : 12\u202f345 lignes, 12\u202f000 segments (0 à sens unique) et 9\u202f001 nœuds "
        "conservés; 2 lignes multiparties éclatées, retirés : 143 « rapid transit »; 1 de longueur nulle retirés; "
        "3 jonctions en T coupées; la plus grande des 4 composantes conservée (16 segments, 1,2\u00a0% de la longueur "
        "retirés). Temps de déplacement : réseau routier (Statistics Canada RNF, voiture; vitesses attribuées par "
        "classe de route).")
    cached = Message("Road network: cached road network /c/ck.npz.", "note_road_network", reason="cached road network /c/ck.npz",
                     report=None, method=None)
    assert render(cached, "fr") == "Réseau routier : réseau routier en cache /c/ck.npz."
    # a download's own error text has no French: the note stays English (marked lang="en" in HTML)
    odd = Message("Road network: road network downloaded from OpenStreetMap (not cached: disk full).", "note_road_network",
                  reason="road network downloaded from OpenStreetMap (not cached: disk full)", report=None, method=None)
    assert render(odd, "fr") is None
    partial = Message("The road network covers only 62% of the region's area: ...", "note_road_partial", share=0.62)
    assert render(partial, "fr").startswith("Le réseau routier ne couvre que 62\u00a0% de la superficie de la région")


def test_road_network_note_escapes_the_mapping_files_words():
    """The French note quotes a mapping file's exclusion labels and file name: HTML gets them escaped."""
    report = {"source": "<b>roads</b>.gpkg", "mapping": "my.toml", "rows_read": 1, "segments": 1, "oneway_segments": 0,
              "nodes": 2, "parts_exploded": 0, "dropped_no_geometry": 0,
              "dropped_excluded": {"<script>alert(1)</script>": 3}, "dropped_zero_length": 0, "junctions_split": 0,
              "components": 1, "dropped_small_components": 0, "share_length_dropped": 0.0, "speed_table": ""}
    note = Message("Road network: <script>alert(1)</script>", "note_road_network", reason="x", report=report, method=None)
    for lang in ("fr", "en"):
        html = message_html(note, lang)
        assert "<script>" not in html and "<b>" not in html and "&lt;script&gt;" in html
