"""Registry of the 38 Local Immigration Partnership (LIP) regions gapmap knows.

The list follows the annex of the LIP outcomes report: 30 Ontario LIPs outside Toronto,
5 Toronto LIPs, Calgary, Halifax and St. John's. Each region says how its boundary is
obtained offline:

- ``ward file``: a municipal ward layer in the catalog (boundary = union of the wards);
- ``census division``: one or more StatCan census division (CD) codes, from the 2016 CD file;
- ``census subdivision``: a StatCan census subdivision (CSD) code, from the 2011 CSD file;
- ``none offline``: no standard geography matches (Toronto's quadrants, St. John's city);
  pass ``--boundary FILE``.
"""

from __future__ import annotations

import dataclasses
import difflib

from gapmap.sources import catalog
from gapmap.errors import InputError

# Provinces (2-digit SGC code) covered by the offline DA population file.
_DA_PROVINCES = {"NS": "12", "NB": "13", "QC": "24", "ON": "35", "MB": "46", "SK": "47", "AB": "48", "BC": "59"}


@dataclasses.dataclass(frozen=True)
class Region:
    """One LIP region."""

    slug: str
    name: str
    province: str  # two-letter code
    lead: str
    boundary_kind: str  # "ward file" | "census division" | "census subdivision" | "none offline"
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
    network_dataset: str | None = None  # offline road network used by --network auto
    blocks_dataset: str | None = None  # 2021 dissemination blocks with population (finer than DAs)

    @property
    def boundary_how(self) -> str:
        """Human description of how the boundary is obtained."""
        if self.boundary_kind == "ward file":
            return f"ward file ({self.wards_dataset})"
        if self.boundary_kind == "census division":
            return "census division " + "+".join(self.codes)
        if self.boundary_kind == "census subdivision":
            return "census subdivision " + "+".join(self.codes)
        return "none offline: pass --boundary FILE"

    @property
    def cd_codes(self) -> tuple[str, ...]:
        """Census division codes covering the region (first 4 digits of CSD codes)."""
        return tuple(sorted({c[:4] for c in self.codes}))


def _cd(slug, name, lead, *codes, note="", transit=()):
    return Region(slug, name, "ON", lead, "census division", tuple(codes), note=note, transit_datasets=transit)


_CK_NOTE = (
    "Florence (N0P 1R0) is in Dawn-Euphemia, Lambton County; LMIA rows naming it are not Chatham-Kent."
)

REGIONS: dict[str, Region] = {
    r.slug: r
    for r in [
        Region(
            "chatham-kent",
            "Chatham-Kent Local Immigration Partnership",
            "ON",
            "Municipality of Chatham-Kent",
            "ward file",
            ("3536020",),
            wards_dataset="ck_wards",
            boundary_dataset="ck_boundary",
            lmia_dataset="lmia_chatham_kent",
            gazetteer_dataset="ck_communities",
            note=_CK_NOTE,
            municipality_names=("chatham kent",),
            excluded_places=(("florence", "Florence (N0P 1R0) is in Dawn-Euphemia, Lambton County, not Chatham-Kent"),),
        ),
        _cd("brantford-brant", "Brantford-Brant Local Immigration Partnership", "City of Brantford", "3529"),
        _cd("cornwall-sdg", "Cornwall and SDG Local Immigration Partnership", "Cornwall Economic Development", "3501"),
        _cd("durham", "Durham Local Immigration Partnership", "Regional Municipality of Durham", "3518"),
        _cd("elgin-st-thomas", "St. Thomas-Elgin Local Immigration Partnership", "City of St. Thomas", "3534"),
        _cd("guelph-wellington", "Guelph-Wellington Local Immigration Partnership", "County of Wellington", "3523"),
        _cd("halton", "Halton Newcomer Strategy (LIP)", "Regional Municipality of Halton", "3524"),
        _cd("hamilton", "Hamilton Immigration Partnership Council", "City of Hamilton", "3525"),
        _cd("huron", "Huron County Immigration Partnership", "County of Huron", "3540"),
        _cd("kingston", "Kingston Immigration Partnership", "KEYS Job Centre", "3510", transit=("gtfs_kingston",)),
        _cd("london-middlesex", "London & Middlesex Local Immigration Partnership", "City of London", "3539"),
        _cd("niagara", "Niagara Local Immigration Partnership", "Niagara Region", "3526"),
        _cd("north-bay", "North Bay Newcomer Network (LIP)", "North Bay & District Multicultural Centre", "3548"),
        _cd("northumberland", "Northumberland Local Immigration Partnership", "County of Northumberland", "3514"),
        _cd("ottawa", "Ottawa Local Immigration Partnership", "OCISO / City of Ottawa", "3506"),
        _cd("oxford", "Oxford County Local Immigration Partnership", "County of Oxford", "3532"),
        _cd("peel", "Peel Newcomer Strategy Group (LIP)", "Region of Peel", "3521"),
        _cd("perth", "Perth County & Stratford Local Immigration Partnership", "City of Stratford", "3531"),
        _cd("peterborough", "Peterborough Partnership Council on Immigrant Integration", "City of Peterborough", "3515"),
        _cd("quinte", "Quinte Local Immigration Partnership", "Quinte United Immigrant Services", "3512", "3513"),
        _cd("renfrew-lanark", "Renfrew & Lanark Local Immigration Partnership", "Algonquin College / County of Renfrew", "3547", "3509"),
        _cd("sarnia-lambton", "Sarnia-Lambton Local Immigration Partnership", "Sarnia-Lambton Workforce Development Board", "3538"),
        _cd("sault-ste-marie", "Sault Ste. Marie Local Immigration Partnership", "Sault Community Career Centre", "3557",
            note="Algoma census division: larger than the city."),
        _cd("simcoe", "Simcoe County Local Immigration Partnership", "County of Simcoe", "3543", transit=("gtfs_barrie",)),
        _cd("sudbury", "Sudbury Local Immigration Partnership", "City of Greater Sudbury", "3553"),
        _cd("thunder-bay", "Thunder Bay Local Immigration Partnership", "Thunder Bay Multicultural Association", "3558"),
        _cd("timmins", "Timmins Local Immigration Partnership", "Timmins Economic Development Corporation", "3556",
            note="Cochrane census division: larger than the city."),
        _cd("waterloo", "Waterloo Region Immigration Partnership", "Region of Waterloo", "3530"),
        _cd("windsor-essex", "Windsor-Essex Local Immigration Partnership", "YMCA of Windsor-Essex County", "3537", transit=("gtfs_windsor_partial",)),
        _cd("york", "York Region Local Immigration Partnership", "Regional Municipality of York", "3519"),
        *[
            Region(f"toronto-{q.lower()}", f"Toronto {q}{' Quadrant' if q == 'East' else ''} Local Immigration Partnership",
                   "ON", lead, "none offline", ("3520005",),
                   note="a quadrant of the City of Toronto, no standard geography")
            for q, lead in [
                ("North", "Working Women Community Centre"),
                ("East", "Agincourt Community Services Association"),
                ("South", "Toronto South LIP partners"),
                ("West", "Toronto West LIP partners"),
                ("Central", "Toronto Central LIP partners"),
            ]
        ],
        Region("calgary", "Calgary Local Immigration Partnership", "AB", "City of Calgary", "census subdivision", ("4806016",)),
        Region("halifax", "Halifax Local Immigration Partnership", "NS", "Halifax Regional Municipality", "census subdivision", ("1209034",)),
        Region("st-johns", "St. John's Local Immigration Partnership", "NL", "City of St. John's", "none offline", ("1001519",),
               note="City of St. John's (CSD 1001519) is not in the offline CSD file"),
    ]
}

# Real road networks in the mirror (issues 18, 20) and Ottawa's dissemination blocks.
for _slug, _net, _blocks in (("ottawa", "rnf_ottawa_2021", "db_population_ottawa_2021"),
                             ("hamilton", "hamilton_centreline_2020", None), ("kingston", "kingston_road_segment_2017", None)):
    REGIONS[_slug] = dataclasses.replace(REGIONS[_slug], network_dataset=_net, blocks_dataset=_blocks)


def get_region(slug: str) -> Region:
    """Return the region for ``slug``, or raise one sentence suggesting the closest slug."""
    key = slug.strip().lower().replace(" ", "-").replace("_", "-")
    if key in REGIONS:
        return REGIONS[key]
    close = difflib.get_close_matches(key, REGIONS, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(f"Unknown region {slug!r}; {hint}run `gapmap regions` to list the 38 known slugs.")


def offline_layers(region: Region, data_dir=None) -> dict[str, bool]:
    """Which layers can be built offline for ``region`` from the mirror found (or ``data_dir``)."""
    have = lambda d: catalog.available(d, data_dir)  # noqa: E731
    boundary = {
        "ward file": bool(region.wards_dataset) and have(region.wards_dataset or ""),
        "census division": have("census_divisions_2016"),
        "census subdivision": have("census_subdivisions_2011") and region.province != "NL",
        "none offline": False,
    }[region.boundary_kind]
    return {
        "boundary": boundary,
        "services": have("odhf"),
        "sites": region.province == "ON" and have(region.lmia_dataset or "lmia_ontario"),
        "population": region.province in _DA_PROVINCES and have("da_population_2021") and have("da_centroids_2016"),
        "transit": any(have(d) for d in region.transit_datasets),
    }
