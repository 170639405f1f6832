"""Registry of the Local Immigration Partnership (LIP) regions gapmap knows.

The registry holds exactly the 38 LIPs funded in 2012-13, as listed in the annex of
*Local Immigration Partnerships: Outcomes 2008-2013* (CIC; copied to
``../shared/reference/lip-annex-2012-13.md``): 30 Ontario LIPs outside Toronto, 5 in Toronto,
Calgary and the two pilots (Halifax, St. John's). Names and lead organisations are written as
the annex writes them (for the first rows, the partnership's name in the report's words: the
quoted name when there is one, without a leading "the"). Three LIPs formed later
(Northumberland, Oxford, Perth) are kept and marked ``annex_no=None``.

Each region says how its boundary is obtained offline (``boundary_kind``):

- ``wards``: the union of the municipality's own ward file(s) (the wards tile the city);
- ``ward file``: Chatham-Kent's ward file with its merged boundary (a dataset of its own);
- ``census division``: StatCan census divisions (CD), from the simplified 2016 CD file;
- ``census subdivision``: the city's census subdivision (CSD) in the 2011 CSD file;
- ``none offline``: no standard geography (the Toronto quadrants): pass ``--boundary FILE``.

and where its sub-areas come from: the municipal wards in ``wards`` (the part of the region
outside them becomes a "rest of" area), else the census tracts of ``tracts``, else the CDs.

A city LIP inside a larger CD (Calgary, Kingston, Thunder Bay, Halifax, St. John's) sets
``city_csd``: its population is the DAs whose point falls inside the city and its census
total is the city's published 2021 population (``census_population``, with its source), not
the division's.
"""

from __future__ import annotations

import dataclasses
import difflib

from gapmap.errors import InputError
from gapmap.sources import catalog

# Provinces (2-digit SGC code) covered by the offline DA population file.
_DA_PROVINCES = {"NS": "12", "NB": "13", "QC": "24", "ON": "35", "MB": "46", "SK": "47", "AB": "48", "BC": "59"}

_CENSUS_2021 = "Statistics Canada, 2021 Census of Population, Census Profile (98-316-X2021001)"


@dataclasses.dataclass(frozen=True)
class Region:
    """One LIP region.

    Attributes
    ----------
    slug, name, province, lead : str
        Identifier, the annex's name, two-letter province code and lead organisation.
    boundary_kind : str
        ``wards`` | ``ward file`` | ``census division`` | ``census subdivision`` | ``none offline``.
    codes : tuple of str
        CD codes (``census division``) or the city's CSD code.
    cds : tuple of str
        Census divisions whose DAs hold the region's people (default: from ``codes``).
    city_csd : str, optional
        The city's CSD when the LIP is a city smaller than its CD.
    wards : tuple of str
        Ward dataset ids: sub-areas, and the boundary when ``boundary_kind == "wards"``.
    tracts : str, optional
        Census-tract dataset id: sub-areas of a region without wards.
    census_population : int, optional
        Published 2021 population of the city (``census_source``) for ``city_csd`` regions.
    annex_no : int, optional
        Row of the 2012-13 annex; None for a LIP formed later.
    """

    slug: str
    name: str
    province: str
    lead: str
    boundary_kind: str
    codes: tuple[str, ...] = ()
    wards_dataset: str | None = None
    boundary_dataset: str | None = None
    lmia_dataset: str | None = None  # a region-specific LMIA subset, else the provincial file
    gazetteer_dataset: str | None = None
    note: str = ""
    # Place names in the LMIA list that mean "somewhere in the municipality" (no point of their own).
    municipality_names: tuple[str, ...] = ()
    # Place names that a name heuristic puts in the region but that lie outside it: (name, reason).
    excluded_places: tuple[tuple[str, str], ...] = ()
    transit_datasets: tuple[str, ...] = ()
    cds: tuple[str, ...] = ()
    city_csd: str | None = None
    wards: tuple[str, ...] = ()
    tracts: str | None = None
    census_population: int | None = None
    census_source: str = ""
    annex_no: int | None = None

    @property
    def in_annex(self) -> bool:
        """True when the LIP is in the 2012-13 annex list."""
        return self.annex_no is not None
    network_dataset: str | None = None  # offline road network used by --network auto
    blocks_dataset: str | None = None  # 2021 dissemination blocks with population (finer than DAs)

    @property
    def boundary_how(self) -> str:
        """Human description of how the boundary is obtained."""
        if self.boundary_kind == "ward file":
            return f"ward file ({self.wards_dataset})"
        if self.boundary_kind == "wards":
            return "union of wards (" + "+".join(self.wards) + ")"
        if self.boundary_kind == "census division":
            return "census division " + "+".join(self.codes)
        if self.boundary_kind == "census subdivision":
            return "census subdivision " + "+".join(self.codes) + " (2011)"
        return "none offline: pass --boundary FILE"

    @property
    def sub_areas_how(self) -> str:
        """Human description of where the sub-areas come from."""
        if self.boundary_kind == "ward file":
            return f"wards ({self.wards_dataset})"
        if self.wards:
            rest = "" if self.boundary_kind == "wards" else " + rest of region"
            files = "+".join(self.wards) if len(self.wards) <= 2 else f"{len(self.wards)} municipal ward files"
            return f"wards ({files}){rest}"
        if self.tracts:
            return f"census tracts ({self.tracts}) + rest of region"
        if self.boundary_kind == "census division":
            return "census division" + ("s" if len(self.codes) > 1 else "")
        if self.boundary_kind == "census subdivision":
            return "census subdivision"
        return "none offline: pass --boundary or --areas FILE"

    @property
    def cd_codes(self) -> tuple[str, ...]:
        """Census division codes covering the region (first 4 digits of CSD codes)."""
        return self.cds or tuple(sorted({c[:4] for c in self.codes}))


def _cd(n, slug, name, lead, *codes, note="", transit=(), wards=(), tracts=None):
    return Region(slug, name, "ON", lead, "census division", tuple(codes), note=note, transit_datasets=transit,
                  wards=tuple(wards), tracts=tracts, annex_no=n)


def _wards(n, slug, name, province, lead, cds, wards, *, csd=None, population=None, note="", transit=()):
    return Region(slug, name, province, lead, "wards", (csd,) if csd else tuple(cds), cds=tuple(cds), city_csd=csd,
                  wards=tuple(wards), census_population=population,
                  census_source=f"{_CENSUS_2021}, CSD {csd}" if population else "", note=note,
                  transit_datasets=transit, annex_no=n)


_CK_NOTE = (
    "Florence (N0P 1R0) is in Dawn-Euphemia, Lambton County; LMIA rows naming it are not Chatham-Kent."
)
_QUADRANT_NOTE = (
    "a quadrant of the City of Toronto: no published ward grouping is available offline to cite, so gapmap does "
    "not guess one; pass --boundary FILE with the quadrant's polygon (e.g. the union of its wards from "
    "represent-canada-wards/csd-3520005_2018_toronto-wards-2018.geojson), or run 'toronto' for the whole city"
)
_DURHAM = ("wards_pickering", "wards_ajax", "wards_whitby", "wards_oshawa", "wards_clarington", "wards_scugog",
           "wards_uxbridge", "wards_brock")
_HALTON = ("wards_oakville", "wards_burlington", "wards_milton", "wards_halton_hills")

REGIONS: dict[str, Region] = {
    r.slug: r
    for r in [
        Region(
            "chatham-kent", "Chatham-Kent LIP", "ON", "Municipality of Chatham-Kent", "ward file", ("3536020",),
            wards_dataset="ck_wards", boundary_dataset="ck_boundary", lmia_dataset="lmia_chatham_kent",
            gazetteer_dataset="ck_communities", note=_CK_NOTE, municipality_names=("chatham kent",),
            excluded_places=(("florence", "Florence (N0P 1R0) is in Dawn-Euphemia, Lambton County, not Chatham-Kent"),),
            annex_no=1,
        ),
        _cd(2, "durham", "Durham LIP", "Regional Municipality of Durham", "3518", wards=_DURHAM),
        _cd(3, "five-eastern-counties", "Five Eastern Counties LIP", "Eastern Ontario Training Board", "3501", "3502"),
        _cd(4, "grand-erie", "Grand Erie", "Workforce Planning Board of Grand Erie", "3528", "3529",
            wards=("wards_haldimand_county", "wards_norfolk_county", "wards_brantford")),
        _wards(5, "sudbury", "Greater Sudbury LIP", "ON", "City of Greater Sudbury", ("3553",), ("wards_greater_sudbury",)),
        _cd(6, "guelph-wellington", "Guelph-Wellington", "Corporation of the City of Guelph", "3523", wards=("wards_guelph",)),
        _wards(7, "halton", "Halton", "ON", "Regional Municipality of Halton", ("3524",), _HALTON),
        _wards(8, "hamilton", "Hamilton Immigration Partnership Council", "ON", "City of Hamilton", ("3525",),
               ("wards_hamilton",)),
        _cd(9, "huron", "Huron County", "County of Huron", "3540"),
        _wards(10, "kingston", "Kingston Immigration Partnership", "ON", "Kingston Community Health Centres", ("3510",),
               ("wards_kingston",), csd="3510010", population=132_485, transit=("gtfs_kingston",)),
        _cd(11, "leeds-grenville", "Leeds and Grenville partnership", "United Way of Leeds & Grenville", "3507"),
        _cd(12, "london-middlesex", "London & Middlesex LIP", "Corporation of the City of London", "3539",
            wards=("wards_london",)),
        _cd(13, "niagara", "Niagara LIP", "Regional Municipality of Niagara", "3526",
            wards=("wards_st_catharines", "wards_welland", "wards_lincoln", "wards_grimsby")),
        _cd(14, "north-bay", "North Bay Newcomer Network", "North Bay & District Multicultural Center", "3548",
            note="Nipissing census division: the City of North Bay has no boundary offline, so the division "
                 "(larger than the city) is used."),
        _cd(15, "northwestern-ontario", "Northwestern Ontario Immigration Partnership", "Thunder Bay Multicultural Association",
            "3558", "3559", "3560", wards=("wards_thunder_bay",)),
        _wards(16, "ottawa", "Ottawa LIP", "ON", "Catholic Centre for Immigrants", ("3506",), ("wards_ottawa",)),
        _wards(17, "peel", "Peel", "ON", "Peel Newcomer Strategy Group", ("3521",), ("wards_peel",)),
        _cd(18, "peterborough", "Peterborough", "New Canadians Centre", "3515", wards=("wards_peterborough",)),
        _cd(19, "quinte", "Quinte", "Quinte United Immigrant Services", "3512", "3513", wards=("wards_quinte_west",)),
        _cd(20, "renfrew-lanark", "Renfrew & Lanark", "Algonquin College", "3547", "3509"),
        _cd(21, "sarnia-lambton", "Sarnia-Lambton", "County of Lambton", "3538", tracts="tracts_sarnia"),
        _cd(22, "sault-ste-marie", "Sault Ste. Marie", "Corporation of the City of Sault Ste. Marie", "3557",
            note="Algoma census division: the City of Sault Ste. Marie (CSD 3557061) has no boundary offline, so "
                 "the division (larger than the city) is used and its figures are the division's."),
        _cd(23, "simcoe", "Simcoe County LIP", "County of Simcoe", "3543", transit=("gtfs_barrie",), wards=("wards_barrie",)),
        _cd(24, "smiths-falls", "Smiths Falls LIP", "Corporation of the Town of Smiths Falls", "3509",
            note="Lanark census division: the Town of Smiths Falls (CSD 3509004) has no boundary offline, so the "
                 "division (larger than the town) is used and its figures are the division's."),
        _cd(25, "elgin-st-thomas", "St. Thomas-Elgin Local Immigration Partnership", "YWCA", "3534",
            tracts="tracts_london"),
        _wards(26, "thunder-bay", "Thunder Bay Immigration Committee", "ON", "Thunder Bay Multicultural Association",
               ("3558",), ("wards_thunder_bay",), csd="3558004", population=108_843),
        _cd(27, "timmins", "Timmins Local Immigration Partnership", "Timmins Economic Development Corporation", "3556",
            note="Cochrane census division: the City of Timmins (CSD 3556027) has no boundary offline, so the "
                 "division (larger than the city) is used and its figures are the division's."),
        _cd(28, "waterloo", "Waterloo Region Immigration Partnership Council", "Regional Municipality of Waterloo", "3530",
            tracts="tracts_kitchener_cambridge_waterloo"),
        _cd(29, "windsor-essex", "Windsor Essex Local Immigration Partnership", "Corporation of the City of Windsor", "3537",
            transit=("gtfs_windsor_partial",), wards=("wards_windsor",)),
        _cd(30, "york", "York Region Local Immigration Partnership / Community Partnership Council",
            "Regional Municipality of York", "3519", wards=("wards_markham", "wards_newmarket", "wards_king")),
        _wards(31, "toronto", "Toronto City-Wide Local Immigration Partnership", "ON", "City of Toronto", ("3520",),
               ("wards_toronto_2018",)),
        *[
            Region(f"toronto-{q}", f"Toronto {q.title()}{' Quadrant' if q == 'east' else ''} Local Immigration Partnership",
                   "ON", lead, "none offline", ("3520005",), note=_QUADRANT_NOTE, annex_no=n)
            for n, q, lead in [
                (32, "north", "JVS Toronto"),
                (33, "west", "JobStart"),
                (34, "south", "St. Stephen's Community House"),
                (35, "east", "Catholic Crosscultural Services"),
            ]
        ],
        _wards(36, "calgary", "Calgary Local Immigration Partnership", "AB", "United Way of Calgary and Area", ("4806",),
               ("wards_calgary",), csd="4806016", population=1_306_784),
        Region("halifax", "Halifax Local Immigration Partnership – Phase 1", "NS",
               "Immigrant Settlement and Integration Services", "census subdivision", ("1209034",), cds=("1209",),
               city_csd="1209034", wards=("wards_halifax",), census_population=439_819,
               census_source=f"{_CENSUS_2021}, CSD 1209034", annex_no=37,
               note="Halifax Regional Municipality (CSD 1209034, 2011 boundary incl. Sable Island); sub-areas are its "
                    "16 council districts"),
        _wards(38, "st-johns", "St. John's Local Immigration Partnership - Needs Assessment", "NL",
               "Association for New Canadians", ("1001",), ("wards_st_john_s",), csd="1001519", population=110_525,
               note="City of St. John's: boundary = union of its 5 wards; NL has no DA population offline"),
        # Formed after 2013: kept, marked as not in the 2012-13 annex.
        _cd(None, "northumberland", "Northumberland Local Immigration Partnership", "County of Northumberland", "3514"),
        _cd(None, "oxford", "Oxford County Local Immigration Partnership", "County of Oxford", "3532"),
        _cd(None, "perth", "Perth County & Stratford Local Immigration Partnership", "City of Stratford", "3531"),
    ]
}

# Real road networks in the mirror (issues 18, 20) and Ottawa's dissemination blocks.
for _slug, _net, _blocks in (("ottawa", "rnf_ottawa_2021", "db_population_ottawa_2021"),
                             ("hamilton", "hamilton_centreline_2020", None), ("kingston", "kingston_road_segment_2017", None)):
    REGIONS[_slug] = dataclasses.replace(REGIONS[_slug], network_dataset=_net, blocks_dataset=_blocks)

# Old slugs of renamed regions: (new slug, why).
ALIASES: dict[str, tuple[str, str]] = {
    "cornwall-sdg": ("five-eastern-counties", "'cornwall-sdg' is now 'five-eastern-counties': the annex's Five Eastern "
                     "Counties LIP also covers Prescott and Russell (CD 3502)"),
    "brantford-brant": ("grand-erie", "'brantford-brant' is now 'grand-erie': the annex's Grand Erie LIP covers Brant, "
                        "Haldimand and Norfolk (CD 3529 + 3528)"),
    "toronto-city-wide": ("toronto", "'toronto-city-wide' is 'toronto'"),
    "toronto-east-quadrant": ("toronto-east", "'toronto-east-quadrant' is 'toronto-east'"),
}
# Old slugs of regions that are not LIPs of the annex: why, in one clause.
RETIRED: dict[str, str] = {
    "toronto-central": "'toronto-central' is not a LIP of the 2012-13 list (Toronto's are City-Wide, North, West, "
                       "South and East Quadrant); use 'toronto' for the whole city or a quadrant with --boundary FILE",
}


def _key(slug: str) -> str:
    return slug.strip().lower().replace(" ", "-").replace("_", "-")



def get_region(slug: str) -> Region:
    """Return the region for ``slug`` (or a renamed region's old slug), else raise one sentence.

    Raises
    ------
    InputError
        Unknown or retired slug, suggesting the closest known one.
    """
    key = _key(slug)
    if key in REGIONS:
        return REGIONS[key]
    if key in ALIASES:
        return REGIONS[ALIASES[key][0]]
    if key in RETIRED:
        raise InputError(f"Region {slug!r} is retired: {RETIRED[key]}.")
    close = difflib.get_close_matches(key, [*REGIONS, *ALIASES], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(f"Unknown region {slug!r}; {hint}run `gapmap regions` to list the {len(REGIONS)} known slugs.")


def alias_note(slug: str) -> str | None:
    """The renaming note when ``slug`` is an old slug accepted as an alias, else None."""
    hit = ALIASES.get(_key(slug))
    return hit[1] if hit else None


def offline_layers(region: Region, data_dir=None) -> dict[str, bool]:
    """Which layers can be built offline for ``region`` from the mirror found (or ``data_dir``)."""
    have = lambda d: catalog.available(d, data_dir)  # noqa: E731
    boundary = {
        "ward file": bool(region.wards_dataset) and have(region.wards_dataset or ""),
        "wards": bool(region.wards) and all(have(w) for w in region.wards),
        "census division": have("census_divisions_2016"),
        "census subdivision": have("census_subdivisions_2011"),
        "none offline": False,
    }[region.boundary_kind]
    return {
        "boundary": boundary,
        "services": have("odhf"),
        "sites": region.province == "ON" and have(region.lmia_dataset or "lmia_ontario"),
        "population": region.province in _DA_PROVINCES and have("da_population_2021") and have("da_centroids_2016"),
        "transit": any(have(d) for d in region.transit_datasets),
    }


def sub_area_count(region: Region, data_dir=None) -> int | None:
    """Number of sub-areas the region's analysis uses offline (wards, tracts and 'rest of' areas), or None.

    None when the region has no offline boundary. Builds the areas (a few seconds at most).
    """
    from gapmap.errors import GapmapError
    from gapmap.layers.areas import build_boundary  # layers depend on this module: import here

    if not offline_layers(region, data_dir)["boundary"]:
        return None
    try:
        return len(build_boundary(region, data_dir)[1].gdf)
    except GapmapError:
        return None
