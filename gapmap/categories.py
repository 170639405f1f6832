"""The service-category registry: one :class:`Category` per kind of service.

Everything gapmap knows about a category lives in its entry: the key used in tables and
options, English and French labels (with the French grammatical gender, for "d'un
hôpital" / "d'une bibliothèque"), the map colour and glyph, how public sources map to it
(ODHF rules, ODCAF facility types, OSM tags), default thresholds and whether it is analysed
and headlined by default. :mod:`gapmap.layers.build`, :mod:`gapmap.output.webmap`,
:mod:`gapmap.output.i18n` and :mod:`gapmap.settings` read it; adding a category means adding
one entry here (plus its tests).

ODHF classification
-------------------
ODHF's ``odhf_facility_type`` has three classes; "Ambulatory health care services" mixes
clinics with support agencies and offices. Each ODHF row gets the category of the first
matching :class:`OdhfRule` over all categories, in ``order`` (lower first). The rules and
their reasons are listed in ``docs/service-categories.md``; a row no rule matches is
``other_health`` (never ``primary_care``: a clinical label needs positive evidence). A
``--category-map FILE`` overrides single facilities or adds pattern rules (see
:func:`gapmap.layers.build.read_category_map`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import Iterator

from gapmap.errors import InputError


@dataclasses.dataclass(frozen=True)
class OdhfRule:
    """One ODHF classification rule: ``field`` matches ``pattern`` (case-insensitive regex search).

    ``field`` is an ODHF column: ``odhf_facility_type``, ``source_facility_type``,
    ``provider`` or ``facility_name``. ``within``, when set, is a pattern the row's
    ``odhf_facility_type`` must match too (a rule for one ODHF class only).
    """

    order: int
    field: str
    pattern: str
    reason: str
    within: str = ""

    def compiled(self) -> re.Pattern:
        return re.compile(self.pattern, re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Category:
    """A service category and everything gapmap shows or derives for it."""

    key: str
    label_en: str
    label_fr: str
    gender_fr: str  # "m" or "f": article of the French label ("d'un hôpital", "d'une bibliothèque")
    colour: str
    glyph: str
    glyph_radius: str = "50%"  # CSS border-radius of the map icon: "50%" round, "3px" square
    odhf_rules: tuple[OdhfRule, ...] = ()
    odcaf_types: tuple[str, ...] = ()  # ODCAF_Facility_Type values (exact)
    osm_tags: tuple[tuple[str, str], ...] = ()  # (key, value) pairs, e.g. ("amenity", "clinic")
    thresholds_min: tuple[float, ...] = (15.0, 30.0, 60.0)
    default: bool = False  # analysed when no --category is given
    headline: bool = False  # the default headline category (exactly one)
    clinical: bool = False  # delivers clinical care (what "health care access" headlines should count)
    aliases: tuple[str, ...] = ()  # other spellings accepted in user services files ("clinic", "linc")

    def label(self, lang: str) -> str:
        """Label in ``lang`` (``en`` or ``fr``)."""
        return self.label_fr if lang == "fr" else self.label_en

    def of_a(self, lang: str) -> str:
        """"of a <label>" in ``lang`` with the right French article: "d'un hôpital", "d'une bibliothèque"."""
        if lang == "fr":
            return f"d'{'une' if self.gender_fr == 'f' else 'un'} {self.label_fr}"
        return f"of {'an' if self.label_en[:1].lower() in 'aeiou' else 'a'} {self.label_en}"


def _r(order: int, field: str, pattern: str, reason: str, within: str = "") -> OdhfRule:
    return OdhfRule(order, field, pattern, reason, within)


_AMB = "odhf_facility_type"
_SRC = "source_facility_type"
_NAME = "facility_name"

_BUILTIN: tuple[Category, ...] = (
    Category(
        "hospital", "hospital", "hôpital", "m", "#c0392b", "H", "3px",
        odhf_rules=(_r(10, _AMB, r"^hospitals$", "ODHF class Hospitals"),),
        osm_tags=(("amenity", "hospital"),),
        default=True, headline=True, clinical=True,
    ),
    Category(
        "residential_care", "residential care home", "résidence de soins", "f", "#7d3c98", "R",
        odhf_rules=(_r(20, _AMB, r"^nursing and residential care facilities$",
                       "ODHF class Nursing and residential care facilities (long-term care, retirement homes)"),),
        osm_tags=(("social_facility", "nursing_home"), ("social_facility", "assisted_living")),
    ),
    Category(
        "other_health", "other health service", "autre service de santé", "m", "#a04000", "O",
        odhf_rules=(
            # ODHF's class Hospitals holds psychiatric and rehabilitation hospitals, day hospitals and
            # ambulatory centres (Quebec lists them all as CHSGS): a "hospital" headline means emergency care.
            _r(5, _SRC, r"^psychiatri(c|que)$|^rehabilitation$|^chpsy\b",
               "ODHF class Hospitals, but a psychiatric or rehabilitation hospital by its source type (no general "
               "emergency department)", within=r"^hospitals$"),
            _r(6, _NAME, r"^(?!.*(general hospital|union hospital|regional health centre))"
                         r".*(sant[ée] mentale|mental health cent|psychiatr|h[oô]pital de jour|day hospital|"
                         r"services ambulatoires|rehabilitation (hospital|centre|institute)|^h[oô]tel\s+(?!dieu\b))",
               "ODHF class Hospitals, but by name a mental-health, psychiatric, rehabilitation or day hospital, an "
               "ambulatory-care centre or a hotel (not an emergency hospital)", within=r"^hospitals$"),
            _r(30, _NAME, r"physio|rehab|chiropract|massage|kneaded care|orthop(a)?edic|laborator|diagnostic|imaging",
               "name: rehabilitation, laboratory or diagnostic provider, not primary care"),
            _r(35, _NAME, r"maison de naissance",
               "name: a Quebec birth centre (midwifery; listed as a CLSC), not primary care"),
            _r(70, _SRC, r"^crd|children's treatment|laborat|labratory|diagnostic|rehabilitation|oncolog|psychiatric|midwifery",
               "source type: rehabilitation, laboratory, specialised or midwifery service, not primary care"),
            _r(99, _AMB, r".", "ambulatory service of no recognised kind: not counted as primary care without evidence"),
        ),
    ),
    Category(
        "primary_care", "primary care clinic", "clinique de soins primaires", "f", "#2471a3", "+",
        odhf_rules=(
            _r(4, _NAME, r"groupe de m[ée]decine de famille",
               "ODHF class Hospitals, but by name a Quebec family medicine group (GMF: primary care)", within=r"^hospitals$"),
            _r(40, _NAME, r"family health (team|organi[sz]ation|centre|center)|\bfht\b|\bfho\b|community health cent(re|er)|\bchc\b"
                          r"|nurse[- ]practitioner|\bnplc\b|walk[- ]in|aboriginal health access|health access cent(re|er)"
                          r"|centre de sant[ée] communautaire",
               "name: family health team, community health centre (also French), nurse-practitioner-led, walk-in or "
               "Aboriginal health access clinic"),
            _r(60, _SRC, r"family health team|community health cent|nurse practitioner|walk-in|medical clinic|medical cent|"
                         r"^clinic|primary care|^health centre$|^clsc|street clinic|^community health$",
               "source type: clinic, family health team, community health centre or CLSC"),
            _r(65, _NAME, r"\bclinic\b|\bclinique\b|medical cent(re|er)|centre m[ée]dical|\bmedical\b",
               "name: a clinic or medical centre"),
        ),
        osm_tags=(("amenity", "clinic"), ("amenity", "doctors"), ("healthcare", "clinic"), ("healthcare", "doctor")),
        default=True, clinical=True, aliases=("clinic", "walk_in_clinic", "walk-in clinic", "doctors", "doctor", "family_doctor"),
    ),
    Category(
        "community_support", "community support agency", "organisme de soutien communautaire", "m", "#117a65", "S",
        odhf_rules=(
            _r(50, _NAME, r"alzheimer|brain injury|\babi\b|stroke recovery|\(css\)|community support|family service|older adults|"
                          r"seniors?'? (centre|center)|community council|local health integration|\blhin\b|health unit|"
                          r"public health|mental health association|\bcmha\b|society|association",
               "name: support, advocacy or administrative agency (community support service, society, association, "
               "health unit, regional health network office)"),
            _r(62, _SRC, r"community support|local health integration|health unit|public health|offices/public health|"
                         r"health office|home care|aids bureau|mental health and (addiction|substance)",
               "source type: community support, public health, home care or mental-health organisation (not a clinic)"),
        ),
        osm_tags=(("amenity", "social_facility"),),
    ),
    Category(
        "pharmacy", "pharmacy", "pharmacie", "f", "#1f618d", "Rx",
        osm_tags=(("amenity", "pharmacy"), ("healthcare", "pharmacy")),
    ),
    Category(
        "library", "library", "bibliothèque", "f", "#5d6d7e", "L",
        odcaf_types=("library or archives",),
        osm_tags=(("amenity", "library"),),
    ),
    Category(
        "community_centre", "community centre", "centre communautaire", "m", "#b7950b", "C",
        # ODCAF's "art or cultural centre" class holds park visitor centres and galleries, not
        # community centres, so no ODCAF type maps here; OSM and user files supply them.
        osm_tags=(("amenity", "community_centre"),), aliases=("community_center",),
    ),
    Category("settlement", "settlement agency", "organisme d'établissement", "m", "#1e8449", "N",
             aliases=("newcomer", "settlement_agency")),
    Category("language", "language class (LINC/ESL)", "cours de langue (CLIC/ALS)", "m", "#b9770e", "A",
             aliases=("linc", "esl", "language_class")),
    Category("employment", "employment service", "service d'emploi", "m", "#6c3483", "E",
             aliases=("employment_service", "employment_ontario")),
)

REGISTRY: dict[str, Category] = {c.key: c for c in _BUILTIN}


def get(key: str) -> Category | None:
    """The registered category ``key``, or None for a user category the registry does not know."""
    return REGISTRY.get(key)


def keys() -> tuple[str, ...]:
    """All registered category keys, in registry order."""
    return tuple(REGISTRY)


def require(key: str, *, where: str) -> Category:
    """The category ``key``; raise one-sentence :class:`InputError` naming ``where`` when unknown."""
    cat = REGISTRY.get(key)
    if cat is None:
        raise InputError(f"{where}: unknown category {key!r}; use one of {', '.join(REGISTRY)}.")
    return cat


def resolve(name: str) -> str | None:
    """Registry key for a key or alias as written in a user file (case and spaces ignored), else None."""
    norm = str(name).strip().lower()
    if norm in REGISTRY:
        return norm
    under = norm.replace(" ", "_")
    for c in REGISTRY.values():
        if under == c.key or norm in c.aliases or under in c.aliases:
            return c.key
    return None


def label(key: str, lang: str = "en") -> str:
    """Label of ``key`` in ``lang``; an unregistered (user) category keeps its own name."""
    cat = REGISTRY.get(key)
    return cat.label(lang) if cat else key.replace("_", " ")


def of_a(key: str, lang: str = "en") -> str:
    """"of a <label>" / "d'un(e) <label>" for ``key`` (unregistered keys get "d'un(e)")."""
    cat = REGISTRY.get(key)
    if cat is not None:
        return cat.of_a(lang)
    text = label(key, lang)
    return f"d'un(e) {text}" if lang == "fr" else f"of {'an' if text[:1].lower() in 'aeiou' else 'a'} {text}"


_FALLBACK_COLOURS = ("#17a589", "#a04000", "#566573", "#d4ac0d", "#884ea0")


def colour(key: str, i: int = 0) -> str:
    """Map colour of ``key``; unregistered categories cycle through a fallback palette by position ``i``."""
    cat = REGISTRY.get(key)
    return cat.colour if cat else _FALLBACK_COLOURS[i % len(_FALLBACK_COLOURS)]


def glyph(key: str) -> tuple[str, str]:
    """(glyph text, CSS border-radius) of the map icon; unregistered: the key's first letter, round."""
    cat = REGISTRY.get(key)
    return (cat.glyph, cat.glyph_radius) if cat else (key[:1].upper(), "50%")


def default_categories() -> tuple[str, ...]:
    """Categories analysed when none is named: the registry's ``default`` entries."""
    return tuple(c.key for c in REGISTRY.values() if c.default)


def default_thresholds() -> tuple[float, ...]:
    """Thresholds analysed by default: the union of the default categories' ``thresholds_min``, sorted."""
    return tuple(sorted({t for c in REGISTRY.values() if c.default for t in c.thresholds_min}))


def default_headline() -> str:
    """The default headline category (the registry's one ``headline`` entry)."""
    heads = [c.key for c in REGISTRY.values() if c.headline]
    return heads[0] if heads else default_categories()[0]


def odhf_rules() -> list[tuple[OdhfRule, str]]:
    """Every ODHF rule with its category, in the order they are tried."""
    rules = [(r, c.key) for c in REGISTRY.values() for r in c.odhf_rules]
    return sorted(rules, key=lambda rc: (rc[0].order, rc[1]))


def odcaf_map() -> dict[str, str]:
    """ODCAF facility type -> category."""
    return {t: c.key for c in REGISTRY.values() for t in c.odcaf_types}


def osm_map() -> dict[tuple[str, str], str]:
    """OSM (key, value) -> category (first registered wins)."""
    out: dict[tuple[str, str], str] = {}
    for c in REGISTRY.values():
        for kv in c.osm_tags:
            out.setdefault(kv, c.key)
    return out


@contextlib.contextmanager
def registered(*extra: Category) -> Iterator[dict[str, Category]]:
    """Temporarily add categories (tests, notebooks); the registry is restored on exit."""
    saved = dict(REGISTRY)
    try:
        for c in extra:
            REGISTRY[c.key] = c
        yield REGISTRY
    finally:
        REGISTRY.clear()
        REGISTRY.update(saved)
