"""The data catalog: dataset id -> file in a local mirror, publisher, licence and official source.

The mirror is the folder of read-only public data beside the checkout (``../shared/data``).
It is found, in order, from an explicit ``data_dir`` argument (CLI ``--data-dir``), the
``GAPMAP_DATA`` environment variable, then ``../shared/data`` relative to the current
directory and to the installed package's checkout. No data file is copied into the repo.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from gapmap.errors import MissingDataError


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One catalog entry."""

    id: str
    path: str  # relative to the mirror root
    title: str
    publisher: str
    licence: str
    source: str  # official download / landing page
    attribution: str


_OGL = "Open Government Licence - Canada"
_STATCAN = "Statistics Canada Open Licence"
# cazipcode ships the table without any publisher or licence: say so wherever a point from it is used.
_POSTAL_LICENCE = ("licence not stated (no publisher or licence in the package or its repository; "
                   "Statistics Canada's licensed PCCF is the authoritative equivalent, see --postal-points)")

DATASETS: dict[str, Dataset] = {
    d.id: d
    for d in [
        Dataset(
            "ck_wards",
            "represent-canada-ck-wards/chatham-kent-wards.geojson",
            "Chatham-Kent wards (6)",
            "Municipality of Chatham-Kent (via Open North Represent)",
            "Open Government Licence - The Corporation of the Municipality of Chatham-Kent",
            "https://github.com/opennorth/represent-canada-data/tree/master/boundaries/ocd-division/country:ca/csd:3536020",
            "Municipality of Chatham-Kent (OGL)",
        ),
        Dataset(
            "ck_boundary",
            "represent-canada-ck-wards/chatham-kent-boundary-from-wards.geojson",
            "Chatham-Kent municipal boundary (union of the wards)",
            "Municipality of Chatham-Kent (via Open North Represent)",
            "Open Government Licence - The Corporation of the Municipality of Chatham-Kent",
            "https://github.com/opennorth/represent-canada-data",
            "Municipality of Chatham-Kent (OGL)",
        ),
        Dataset(
            "census_divisions_2016",
            "canadamaps-cd2016/census_divisions_2016_simplified.gpkg",
            "Census divisions 2016 (simplified)",
            "Statistics Canada",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2011/geo/bound-limit/bound-limit-2016-eng.cfm",
            "Statistics Canada",
        ),
        Dataset(
            "census_subdivisions_2011",
            "open-data-canada-csd/census-subdivisions-open-data-2011.geojson",
            "Census subdivisions 2011 (100 municipalities)",
            "Statistics Canada",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2011/geo/bound-limit/bound-limit-2011-eng.cfm",
            "Statistics Canada",
        ),
        Dataset(
            "odhf",
            "odhf/odhf_v1.1.csv",
            "Open Database of Healthcare Facilities v1.1",
            "Statistics Canada",
            _OGL,
            "https://www.statcan.gc.ca/en/lode/databases/odhf",
            "Statistics Canada, ODHF v1.1 (OGL - Canada)",
        ),
        Dataset(
            "odcaf",
            "odcaf/ODCAF_v1.0.csv",
            "Open Database of Cultural and Art Facilities v1.0",
            "Statistics Canada",
            _OGL,
            "https://www.statcan.gc.ca/en/lode/databases/odcaf",
            "Statistics Canada, ODCAF v1.0 (OGL - Canada)",
        ),
        Dataset(
            "lmia_ontario",
            "esdc_lmia/lmia_positive_ontario_2022q1_2023q4.csv",
            "Positive LMIA employers, Ontario, 2022 Q1 - 2023 Q4",
            "Employment and Social Development Canada",
            _OGL,
            "https://open.canada.ca/data/en/dataset/90fed587-1364-4f33-a9ee-208181dc0b97",
            "ESDC, TFWP positive LMIA employers (OGL - Canada)",
        ),
        Dataset(
            "lmia_chatham_kent",
            "esdc_lmia/lmia_positive_chatham_kent_2022q1_2023q4.csv",
            "Positive LMIA employers naming a Chatham-Kent community, 2022 Q1 - 2023 Q4",
            "Employment and Social Development Canada",
            _OGL,
            "https://open.canada.ca/data/en/dataset/90fed587-1364-4f33-a9ee-208181dc0b97",
            "ESDC, TFWP positive LMIA employers (OGL - Canada)",
        ),
        Dataset(
            "ck_communities",
            "ck-community-points/ck_communities.csv",
            "Chatham-Kent community points (CGNDB-keyed gazetteer)",
            "Natural Resources Canada, CGNDB; Wikipedia",
            f"{_OGL}; CC BY-SA",
            "https://geonames.nrcan.gc.ca/",
            "Natural Resources Canada, CGNDB (OGL - Canada); Wikipedia (CC BY-SA)",
        ),
        Dataset(
            "geonames_fsa",
            "geonames_postal_ca/CA.txt",
            "GeoNames postal areas (FSA) with centre points",
            "GeoNames",
            "CC BY 4.0",
            "https://download.geonames.org/export/zip/CA.zip",
            "GeoNames (CC-BY 4.0)",
        ),
        # --- postal-code points (geocoding cascade, issue 14; keep these entries together)
        Dataset(
            "postal_points_lmia_ontario",
            "postal-points-ontario/lmia_ontario_postal_points.csv",
            "Six-character postal-code points of the codes in the LMIA Ontario list",
            "unknown (third-party postal-code database, via PyPI cazipcode 0.0.2)",
            _POSTAL_LICENCE,
            "https://pypi.org/project/cazipcode/0.0.2/",
            "Postal-code points: PyPI cazipcode 0.0.2, publisher unknown, licence not stated (not republished)",
        ),
        Dataset(
            "postal_points_rural_ontario",
            "postal-points-ontario/ontario_rural_postal_points.csv",
            "Rural post-office postal-code points, Ontario",
            "unknown (third-party postal-code database, via PyPI cazipcode 0.0.2)",
            _POSTAL_LICENCE,
            "https://pypi.org/project/cazipcode/0.0.2/",
            "Rural post-office points: PyPI cazipcode 0.0.2, publisher unknown, licence not stated (not republished)",
        ),
        # --- end postal-code points
        # --- services: the OSM amenity fixture (issue 16)
        Dataset(
            "osm_toronto_uoft",
            "osm-toronto-uoft-2020/toronto_uoft_2020-11.osm",
            "OpenStreetMap extract, downtown Toronto (U of T), Nov 2020",
            "OpenStreetMap contributors",
            "ODbL 1.0",
            "https://www.openstreetmap.org/export",
            "© OpenStreetMap contributors (ODbL)",
        ),
        Dataset(
            "da_points_swon",
            "gapmap-derived-swon-da-points/swon-da-points-pop2021-cimd.geojson",
            "2021 DA points with population and CIMD (Chatham-Kent, Essex, Lambton)",
            "Statistics Canada (joined by gapmap)",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2021/dp-pd/prof/index.cfm",
            "Statistics Canada (Census 2021, CIMD 2021)",
        ),
        Dataset(
            "da_population_2021",
            "street-tree-equity-da2021/Population_Data.csv",
            "2021 population per DA",
            "Statistics Canada",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2021/dp-pd/prof/index.cfm",
            "Statistics Canada (Census 2021)",
        ),
        Dataset(
            "da_cimd_2021",
            "street-tree-equity-da2021/CIMD_Variables.csv",
            "Canadian Index of Multiple Deprivation 2021 per DA",
            "Statistics Canada",
            _STATCAN,
            "https://www150.statcan.gc.ca/n1/pub/45-20-0001/452000012023002-eng.htm",
            "Statistics Canada (CIMD 2021)",
        ),
        Dataset(
            "da_centroids_2016",
            "curbcut-da-centroids-2016/da_centroids_popw_2016.csv",
            "Population-weighted DA representative points 2016",
            "Statistics Canada",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/boundary-limites/index2021-eng.cfm",
            "Statistics Canada",
        ),
        # --- real road networks and fine demand (issues 18, 20): read by gapmap.travel.road.segments
        Dataset(
            "rnf_ottawa_2021",
            "statcan-rnf2021-ottawa/ottawa_rnf2021.gpkg",
            "Road Network File 2021, City of Ottawa (layer roads)",
            "Statistics Canada (via the pseudohouseholds R package)",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/rnf-frr/index2021-eng.cfm",
            "Adapted from Statistics Canada, 2021 Census Road Network File, 2022-09-28",
        ),
        Dataset(
            "db_population_ottawa_2021",
            "statcan-rnf2021-ottawa/ottawa_rnf2021.gpkg",
            "2021 dissemination blocks with population, City of Ottawa (layer dissemination_blocks_pop2021)",
            "Statistics Canada (via the pseudohouseholds R package)",
            _STATCAN,
            "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/boundary-limites/index2021-eng.cfm",
            "Statistics Canada (Census 2021 dissemination blocks)",
        ),
        Dataset(
            "hamilton_centreline_2020",
            "hamilton-street-centreline-2020/Street_Centreline/Street_Centreline.shp",
            "City of Hamilton Street Centreline (2020)",
            "City of Hamilton (via paezha/Accessibility-Sobi-Hamilton)",
            "Open Government Licence - City of Hamilton",
            "https://open.hamilton.ca/",
            "Contains information licensed under the Open Government Licence – City of Hamilton",
        ),
        Dataset(
            "kingston_road_segment_2017",
            "kingston-road-segment-2017/kingston_road_segment_epsg26918.gpkg",
            "City of Kingston road centrelines (2017 copy; CRS EPSG:26918 inferred, the CSV states none)",
            "City of Kingston (via mayors-ic/mayors-ic.github.io)",
            "Open Government Licence - City of Kingston",
            "https://www.cityofkingston.ca/explore/data-catalogue",
            "Contains information licensed under the Open Government Licence – City of Kingston",
        ),
        Dataset(
            "osm_toronto_uoft_2020_osm",
            "osm-toronto-uoft-2020/toronto_uoft_2020-11.osm",
            "OpenStreetMap extract, downtown Toronto around the U of T campus (Nov 2020), OSM XML",
            "OpenStreetMap contributors (via osman-sultan/osm-pathfinder)",
            "ODbL 1.0",
            "https://www.openstreetmap.org/export",
            "© OpenStreetMap contributors (ODbL)",
        ),
        Dataset(
            "osm_toronto_uoft_2020_pbf",
            "osm-toronto-uoft-2020/toronto_uoft_2020-11.osm.pbf",
            "OpenStreetMap extract, downtown Toronto around the U of T campus (Nov 2020), PBF",
            "OpenStreetMap contributors (via osman-sultan/osm-pathfinder)",
            "ODbL 1.0",
            "https://www.openstreetmap.org/export",
            "© OpenStreetMap contributors (ODbL)",
        ),
        Dataset(
            "ck_pseudohouseholds_2021",
            "ck-pseudohouseholds-2021/3536-phhs-2023-07-17.shp",
            "Chatham-Kent pseudo-households 2021 (9,497 population-weighted points along roads)",
            "C. Belanger, phh_generator, from Statistics Canada 2021 dissemination blocks and RNF",
            _STATCAN,
            "https://github.com/chris31415926535/phh_generator",
            "Statistics Canada (Census 2021, RNF 2021); pseudohouseholds by C. Belanger",
        ),
        Dataset(
            "gtfs_barrie",
            "gtfs_barrie_2025/barrie_transit_gtfs_20251128.zip",
            "Barrie Transit GTFS (Nov 2025 - Feb 2026)",
            "City of Barrie, Barrie Transit",
            "City of Barrie Open Data Licence",
            "https://www.barrie.ca/services-payments/transportation-parking/barrie-transit",
            "Barrie Transit",
        ),
        Dataset(
            "gtfs_kingston",
            "gtfs_kingston_2017/kingston_transit_gtfs_20171009.zip",
            "Kingston Transit GTFS (Oct 2017 - Jan 2018)",
            "City of Kingston, Kingston Transit",
            "City of Kingston Open Data Licence",
            "https://opendatakingston.cityofkingston.ca/",
            "Kingston Transit",
        ),
        Dataset(
            "gtfs_windsor_partial",
            "gtfs_windsor_2025_partial",
            "Transit Windsor GTFS without stop_times.txt",
            "City of Windsor, Transit Windsor",
            "City of Windsor Open Data Licence",
            "https://opendata.citywindsor.ca/",
            "Transit Windsor",
        ),
    ]
}


# Region geography (regions engineer): municipal wards (Open North Represent, each with its city's
# licence), census tracts, and the sub-area files the region registry names. One contiguous block.
_REPRESENT = "https://github.com/opennorth/represent-canada-data/tree/master/boundaries/ocd-division/country:ca"
_WARD_FILES = [  # (dataset id, file in represent-canada-wards/, title, authority, licence)
    ('wards_peel', 'cd-3521_peel-wards.geojson', 'Peel wards (27)', 'Regional Municipality of Peel', 'Regional Municipality of Peel open data licence (https://data.peelregion.ca/pages/license)'),
    ('wards_st_john_s', 'csd-1001519_st-john-s-wards.geojson', "St. John's wards (5)", "City of St. John's", "distributed with the permission of the City of St. John's (represent-canada-wards/csd-1001519_LICENSE.txt)"),
    ('wards_halifax', 'csd-1209034_halifax-districts.geojson', 'Halifax districts (16)', 'Halifax Regional Municipality', 'Halifax Regional Municipality open data licence (https://data-hrm.hub.arcgis.com/pages/open-data-licence)'),
    ('wards_ottawa', 'csd-3506008_ottawa-wards.geojson', 'Ottawa wards (24)', 'City of Ottawa', 'City of Ottawa open data licence (https://ottawa.ca/en/city-hall/open-transparent-and-accountable-government/open-data)'),
    ('wards_kingston', 'csd-3510010_kingston-wards.geojson', 'Kingston wards (12)', 'City of Kingston', 'City of Kingston open data licence (https://www.cityofkingston.ca/documents/10180/144997/CityofKingston_OpenDataLicense.pdf)'),
    ('wards_quinte_west', 'csd-3512015_quinte-west-wards.geojson', 'Quinte West wards (4)', 'City of Quinte West', 'distributed with the permission of the City of Quinte West (represent-canada-wards/csd-3512015_LICENSE.txt)'),
    ('wards_peterborough', 'csd-3515014_peterborough-wards.geojson', 'Peterborough wards (5)', 'City of Peterborough', 'distributed with the permission of the City of Peterborough (represent-canada-wards/csd-3515014_LICENSE.txt)'),
    ('wards_pickering', 'csd-3518001_pickering-wards.geojson', 'Pickering wards (3)', 'City of Pickering', 'City of Pickering open data licence (https://www.pickering.ca/en/city-hall/resources/OpenDataLicencePickeringV1.pdf)'),
    ('wards_ajax', 'csd-3518005_ajax-wards.geojson', 'Ajax wards (3)', 'Town of Ajax', 'Town of Ajax open data licence (http://townofajax.maps.arcgis.com/sharing/rest/content/items/22e2d8e248724d7cb0310dc2db675abd/data)'),
    ('wards_whitby', 'csd-3518009_whitby-wards.geojson', 'Whitby wards (4)', 'Town of Whitby', 'Town of Whitby open data licence (https://whitby.maps.arcgis.com/sharing/rest/content/items/223810efc31c40b3aff99dd74f809a97/data)'),
    ('wards_oshawa', 'csd-3518013_oshawa-wards.geojson', 'Oshawa wards (5)', 'City of Oshawa', 'City of Oshawa open data licence (https://map.oshawa.ca/OpenData/Open%20Government%20Licence%20version%202.0%20-%20Oshawa.pdf)'),
    ('wards_clarington', 'csd-3518017_clarington-wards.geojson', 'Clarington wards (4)', 'Municipality of Clarington', 'distributed with the permission of the Municipality of Clarington (represent-canada-wards/csd-3518017_LICENSE.txt)'),
    ('wards_scugog', 'csd-3518020_scugog-wards.geojson', 'Scugog wards (5)', 'Township of Scugog', 'Township of Scugog open data licence (https://www.durham.ca/en/regional-government/resources/Documents/OpenDataLicenceAgreement.pdf)'),
    ('wards_uxbridge', 'csd-3518029_uxbridge-wards.geojson', 'Uxbridge wards (5)', 'Township of Uxbridge', 'Township of Uxbridge open data licence (https://www.durham.ca/en/regional-government/resources/Documents/OpenDataLicenceAgreement.pdf)'),
    ('wards_brock', 'csd-3518039_brock-wards.geojson', 'Brock wards (5)', 'Township of Brock', 'Township of Brock open data licence (https://www.durham.ca/en/regional-government/resources/Documents/OpenDataLicenceAgreement.pdf)'),
    ('wards_markham', 'csd-3519036_markham-wards.geojson', 'Markham wards (8)', 'City of Markham', 'City of Markham open data licence (http://data-markham.opendata.arcgis.com/pages/terms-of-use)'),
    ('wards_newmarket', 'csd-3519048_newmarket-wards.geojson', 'Newmarket wards (7)', 'Town of Newmarket', 'Town of Newmarket open data licence (https://www.newmarket.ca/TownGovernment/Documents/Newmarket_OpenData_Licence.pdf)'),
    ('wards_king', 'csd-3519049_king-wards.geojson', 'King wards (7)', 'Township of King', 'distributed with the permission of the Township of King (represent-canada-wards/csd-3519049_LICENSE.txt)'),
    ('wards_toronto_2010', 'csd-3520005_2010_toronto-wards-2010.geojson', 'Toronto wards (2010) (44)', 'City of Toronto', 'City of Toronto open data licence (https://www.toronto.ca/city-government/data-research-maps/open-data/open-data-licence/)'),
    ('wards_toronto_2018', 'csd-3520005_2018_toronto-wards-2018.geojson', 'Toronto wards (2018) (25)', 'City of Toronto', 'City of Toronto open data licence (https://www.toronto.ca/city-government/data-research-maps/open-data/open-data-licence/)'),
    ('wards_guelph', 'csd-3523008_guelph-wards.geojson', 'Guelph wards (6)', 'City of Guelph', 'City of Guelph open data licence (http://data.open.guelph.ca/pages/open-government-licence)'),
    ('wards_oakville', 'csd-3524001_oakville-wards.geojson', 'Oakville wards (7)', 'Town of Oakville', 'Town of Oakville open data licence (https://www.oakville.ca/data/open_data_licence.html)'),
    ('wards_burlington', 'csd-3524002_burlington-wards.geojson', 'Burlington wards (6)', 'City of Burlington', 'City of Burlington open data licence (https://www.burlington.ca/en/services-for-you/resources/Ongoing_Projects/Open_Data/OpenDataBurlingtonTermsOfUseSeptember192011.pdf)'),
    ('wards_milton', 'csd-3524009_milton-wards.geojson', 'Milton wards (4)', 'Town of Milton', 'Town of Milton open data licence (https://www.milton.ca/en/townhall/resources/OpenDataAgreement.pdf)'),
    ('wards_halton_hills', 'csd-3524015_halton-hills-wards.geojson', 'Halton Hills wards (4)', 'Town of Halton Hills', 'distributed with the permission of the Town of Halton Hills (represent-canada-wards/csd-3524015_LICENSE.txt)'),
    ('wards_hamilton', 'csd-3525005_hamilton-wards.geojson', 'Hamilton wards (15)', 'City of Hamilton', 'City of Hamilton open data licence (https://www.hamilton.ca/city-initiatives/strategies-actions/open-data-licence-terms-and-conditions)'),
    ('wards_welland', 'csd-3526032_welland-wards.geojson', 'Welland wards (6)', 'City of Welland', 'City of Welland open data licence (https://niagaraopendata.ca/pages/open-government-license-2-0-city-of-welland)'),
    ('wards_st_catharines', 'csd-3526053_st-catharines-wards.geojson', 'St. Catharines wards (6)', 'City of St. Catharines', 'City of St. Catharines open data licence (https://niagaraopendata.ca/pages/open-government-license-2-0-the-corporation-of-the-city-of-st-catharines)'),
    ('wards_lincoln', 'csd-3526057_lincoln-wards.geojson', 'Lincoln wards (4)', 'Town of Lincoln', 'Town of Lincoln open data licence (https://niagaraopendata.ca/pages/open-government-license-2-0-town-of-lincoln)'),
    ('wards_grimsby', 'csd-3526065_grimsby-wards.geojson', 'Grimsby wards (4)', 'Town of Grimsby', 'Town of Grimsby open data licence (https://niagaraopendata.ca/pages/open-government-license-2-0-grimsby)'),
    ('wards_haldimand_county', 'csd-3528018_haldimand-county-wards.geojson', 'Haldimand County wards (6)', 'Corporation of Haldimand County', 'Corporation of Haldimand County open data licence (http://opendata.haldimandcounty.on.ca/)'),
    ('wards_norfolk_county', 'csd-3528052_norfolk-county-wards.geojson', 'Norfolk County wards (7)', 'City of Norfolk County', 'City of Norfolk County open data licence (http://data-norfolk.opendata.arcgis.com/pages/terms-of-use)'),
    ('wards_brantford', 'csd-3529006_brantford-wards.geojson', 'Brantford wards (5)', 'City of Brantford', 'City of Brantford open data licence (http://data-brantford.opendata.arcgis.com/pages/licence)'),
    ('wards_windsor', 'csd-3537039_windsor-wards.geojson', 'Windsor wards (10)', 'City of Windsor', 'City of Windsor open data licence (https://citywindsor.ca/opendata/Documents/OpenDataTermsofUse.pdf)'),
    ('wards_london', 'csd-3539036_london-wards.geojson', 'London wards (14)', 'City of London', 'City of London open data licence (http://www.london.ca/city-hall/open-data/Pages/OpenData-TermsofUse.aspx)'),
    ('wards_barrie', 'csd-3543042_barrie-wards.geojson', 'Barrie wards (10)', 'City of Barrie', 'City of Barrie open data licence (https://www.barrie.ca/Online%20Services/PublishingImages/OpenData_Images/COB_DataLicense.pdf)'),
    ('wards_greater_sudbury', 'csd-3553005_greater-sudbury-wards.geojson', 'Greater Sudbury wards (13)', 'City of Greater Sudbury', 'City of Greater Sudbury open data licence (https://www.greatersudbury.ca/city-hall/open-government/open-data/licence/)'),
    ('wards_thunder_bay', 'csd-3558004_thunder-bay-wards.geojson', 'Thunder Bay wards (7)', 'City of Thunder Bay', 'distributed with the permission of the City of Thunder Bay (represent-canada-wards/csd-3558004_LICENSE.txt)'),
    ('wards_calgary', 'csd-4806016_calgary-wards.geojson', 'Calgary wards (14)', 'City of Calgary', 'City of Calgary open data licence (https://data.calgary.ca/stories/s/u45n-7awa)'),
]
_TRACT_FILES = [  # (dataset id, file in cbc-census-tracts-2021/, title)
    ("tracts_kitchener_cambridge_waterloo", "on-cma-kitchener-cambridge-waterloo.geojson", "Census tracts 2021, Kitchener-Cambridge-Waterloo CMA (119)"),
    ("tracts_sarnia", "on-ca-sarnia.geojson", "Census tracts 2021, Sarnia CA (26)"),
    ("tracts_london", "on-cma-london.geojson", "Census tracts 2021, London CMA (109)"),
]
DATASETS.update({
    d.id: d
    for d in [
        *[Dataset(i, f"represent-canada-wards/{f}", title, f"{authority} (via Open North Represent)", licence, _REPRESENT,
                  authority) for i, f, title, authority, licence in _WARD_FILES],
        *[Dataset(i, f"cbc-census-tracts-2021/{f}", title, "Statistics Canada (via CBC census-tract maps)", _STATCAN,
                  "https://www12.statcan.gc.ca/census-recensement/2021/geo/sip-pis/boundary-limites/index2021-eng.cfm",
                  "Statistics Canada") for i, f, title in _TRACT_FILES],
    ]
})


def find_mirror(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Locate the local data mirror, or return None when there is none.

    Parameters
    ----------
    data_dir : path, optional
        Explicit mirror root; wins over everything else.
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("GAPMAP_DATA")
    if env:
        return Path(env)
    candidates = [Path.cwd() / ".." / "shared" / "data", Path(__file__).resolve().parents[3] / "shared" / "data"]
    for cand in candidates:
        if (cand / "README.md").exists() or cand.is_dir():
            return cand.resolve()
    return None


def dataset(dataset_id: str) -> Dataset:
    """Return the catalog entry for ``dataset_id``."""
    try:
        return DATASETS[dataset_id]
    except KeyError:
        raise MissingDataError(
            f"Unknown dataset id {dataset_id!r}; known ids are {', '.join(sorted(DATASETS))}."
        ) from None


def resolve(dataset_id: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of ``dataset_id`` in the mirror; raise :class:`MissingDataError` in one sentence if absent."""
    entry = dataset(dataset_id)
    root = find_mirror(data_dir)
    if root is None:
        raise MissingDataError(
            f"Dataset {dataset_id!r} ({entry.title}) is needed but no data mirror was found; "
            f"put it at ../shared/data/{entry.path}, or set GAPMAP_DATA / --data-dir to a mirror "
            f"(official source: {entry.source})."
        )
    path = root / entry.path
    if not path.exists():
        raise MissingDataError(
            f"Dataset {dataset_id!r} ({entry.title}) is missing: expected {path} "
            f"(official source: {entry.source}); download it there or point --data-dir at a mirror that has it."
        )
    return path


def available(dataset_id: str, data_dir: str | os.PathLike | None = None) -> bool:
    """True when ``dataset_id`` exists in the mirror."""
    root = find_mirror(data_dir)
    return root is not None and (root / dataset(dataset_id).path).exists()
