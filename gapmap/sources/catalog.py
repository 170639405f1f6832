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
