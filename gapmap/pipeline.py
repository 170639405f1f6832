"""The Python API shared by the CLI and notebooks: one call runs a region end to end.

Pipeline: sources -> layers -> travel times -> gaps (analysis) -> outputs. :func:`analyze` builds the
layers and computes times and gaps (no files written); :func:`gapmap.output.files.write_outputs`
writes the output contract.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap import layers, travel
from gapmap.analysis import gaps, uncertainty
from gapmap.errors import InputError
from gapmap.layers.demand import da_origin_ids, site_origin_ids
from gapmap.messages import Message
from gapmap.settings import Settings, load_settings
from gapmap.sources import catalog
from gapmap.sources.inputs import uncovered_km
from gapmap.sources.regions import Region, alias_note, get_region

Progress = Callable[[str], None]

if TYPE_CHECKING:  # annotations only: siting and privacy load on first use
    from gapmap.analysis.privacy import PublicOutputs
    from gapmap.analysis.siting import SitingResult
    from gapmap.travel.road.network import RoadNetwork


@dataclasses.dataclass
class Result:
    """Everything one analysis produced, in memory.

    Attributes
    ----------
    layers : dict of str -> Layer
        ``boundary, areas, services, sites, population`` with their row accounting.
    sites, population : GeoDataFrame
        The layers with per-category nearest service, minutes and ``*_within_*`` flags.
    areas_table : DataFrame
        Per-area (and whole-region) counts, see :func:`gapmap.analysis.gaps.area_table`.
    catchments : GeoDataFrame
        Catchment band polygons per category and threshold.
    travel_times : DataFrame
        Long travel-time table for sites and DA points.
    recommendations : SitingResult or None
        The siting run of :func:`run` (``recommend=`` / ``recommend_target=``), if any.
    network : RoadNetwork or None
        The road network the times are on (None: straight-line approximation), for follow-up
        work on the same network (:func:`gapmap.analysis.plan.recommend`).

    Published tables
    ----------------
    The methods :meth:`areas`, :meth:`hexes_table`, :meth:`site_table`, :meth:`coverage` and
    :meth:`map` return what the output files hold. With ``public=True`` (the default, whatever
    ``settings.privacy`` says) every worker and site figure goes through the one disclosure rule,
    :func:`gapmap.analysis.privacy.public_outputs`, exactly as :func:`gapmap.output.files.write_outputs`
    applies it in public mode: ``result.areas()`` equals ``areas.csv`` read back,
    ``result.map()`` renders to ``map.html``. ``public=False`` gives the internal tables (never
    publish them: docs/privacy.md).

    The fields ``sites``, ``hexes`` and ``areas_table`` stay the full internal data the pipeline
    and the output writers work on; the published views are methods with other names
    (``site_table``, ``hexes_table``, ``areas``), not callables under the same names, so
    ``result.sites`` is always an ordinary GeoDataFrame and existing code keeps working.
    """

    region: Region
    settings: Settings
    layers: dict[str, layers.Layer]
    sites: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    areas_table: pd.DataFrame
    catchments: gpd.GeoDataFrame
    travel_times: pd.DataFrame
    method: str
    approximations: list[str]
    census_total: float | None
    data_dir: Path | None
    notes: list[str] = dataclasses.field(default_factory=list)
    transit_routes: gpd.GeoDataFrame | None = None
    transit_stops: gpd.GeoDataFrame | None = None
    transit_source: str | None = None
    filter_effect: dict | None = None
    raster_sums: dict | None = None
    access: pd.DataFrame | None = None
    hexes: gpd.GeoDataFrame | None = None
    elapsed_s: float = 0.0
    recommendations: "SitingResult | None" = None
    network: "RoadNetwork | None" = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def rejects(self) -> pd.DataFrame:
        """Every rejected input row: layer, source, row, reason."""
        frames = [lay.rejects for lay in self.layers.values() if len(lay.rejects)]
        if not frames:
            return pd.DataFrame(columns=layers.REJECT_COLUMNS)
        return pd.concat(frames, ignore_index=True).sort_values(["layer", "source", "row"]).reset_index(drop=True)

    def headline(self, public: bool = True) -> pd.DataFrame:
        """Workers and sites beyond the headline threshold of the headline category, per area.

        Parameters
        ----------
        public : bool
            True (default): the columns of :meth:`areas` (public ``areas.csv``, small cells blank,
            with ``suppressed``); False: of the internal :attr:`areas_table`.
        """
        pre = f"{self.settings.headline_category}_{self.settings.headline_threshold:g}min"
        cols = ["area_id", "area_name", "sites", "workers", f"{pre}_sites_not", f"{pre}_workers_not",
                f"{pre}_workers_not_share", f"{pre}_pop_not"]
        table = self.areas(public)
        return table[cols + (["suppressed"] if "suppressed" in table else [])]

    # ------------------------------------------------------------------ published views

    def published(self) -> "PublicOutputs":
        """The disclosure-controlled tables of this result (public mode of the output files).

        Returns
        -------
        PublicOutputs
            ``areas``, ``hexes``, ``site_hexes``, ``coverage`` and ``stats`` from
            :func:`gapmap.analysis.privacy.public_outputs`, called with the same arguments as
            :func:`gapmap.output.files.write_outputs` uses.
        """
        from gapmap.analysis import privacy

        s = self.settings
        return privacy.public_outputs(self.sites, self.areas_table, self.hexes, self._coverage_rows(),
                                      k=s.k_anonymity, resolution=s.hex_resolution)

    def _coverage_rows(self) -> list[dict]:
        return gaps.coverage_summary(self.sites, self.population, self.settings, self.method)

    def areas(self, public: bool = True) -> pd.DataFrame:
        """Per-area (and whole-region, last row) table, as ``areas.csv``.

        Parameters
        ----------
        public : bool
            True (default): small cells blank and the ``suppressed`` column, as public
            ``areas.csv``; False: the internal table (:attr:`areas_table`).
        """
        return self.published().areas if public else self.areas_table.copy()

    def hexes_table(self, public: bool = True) -> gpd.GeoDataFrame | None:
        """People and workers per H3 hexagon, as ``hexes.csv`` (with the hexagon polygons).

        Parameters
        ----------
        public : bool
            True (default): the published copy (worker figures blank where small; hexagons with
            neither people nor published workers left out); False: the internal :attr:`hexes`.

        Returns
        -------
        GeoDataFrame or None
            None when the run has no population (no hexagon table).
        """
        if self.hexes is None:
            return None
        return self.published().hexes if public else self.hexes.copy()

    def site_table(self, public: bool = True) -> gpd.GeoDataFrame | pd.DataFrame:
        """The worker sites as they may be shown.

        Parameters
        ----------
        public : bool
            True (default): no site at all, only the published H3 hexagons of sites and workers
            (the map's and the GeoPackage's site layer in public mode); False: one row per site
            with nearest services, minutes and ``lon, lat``, as ``--privacy internal`` writes
            ``sites.csv`` (names employers: never publish it).

        Returns
        -------
        GeoDataFrame (public) or DataFrame (internal)
        """
        if public:
            return self.published().site_hexes
        from gapmap.output.files import sites_table

        return sites_table(dataclasses.replace(self, settings=self.settings.replace(privacy="internal")))

    def coverage(self, public: bool = True) -> pd.DataFrame:
        """Sites, workers and people covered per category and threshold, as ``summary.json`` ``coverage``.

        Parameters
        ----------
        public : bool
            True (default): the disclosure-controlled rows (blank where small); False: all figures.
        """
        rows = self.published().coverage if public else self._coverage_rows()
        return pd.DataFrame(rows)

    def map(self, public: bool = True):
        """The web map, built as ``map.html`` is (displays inline in Jupyter).

        Parameters
        ----------
        public : bool
            True (default): the public map (areas and hexagons disclosure-controlled, no site
            points, recommendations with small figures blank), whatever ``settings.privacy``;
            False: the internal map with site points.

        Returns
        -------
        folium.Map
            ``gapmap.output.webmap.render_html(result.map())`` is the text of ``map.html`` for the
            same privacy mode; in a notebook the map shows as the cell's output.
        """
        from gapmap.output import files, webmap

        recs = self.recommendations.recommendations if self.recommendations is not None else None
        if not public:
            return webmap.build_map(self, public_sites=None, areas_table=self.areas_table, hexes=self.hexes,
                                    recommendations=recs, attributions=files.attributions(self))
        pub = self.published()
        if recs is not None:
            recs = self._public_recommendations(pub)
        return webmap.build_map(self, public_sites=pub.site_hexes, areas_table=pub.areas, hexes=pub.hexes,
                                recommendations=recs, attributions=files.attributions(self))

    def _public_recommendations(self, pub) -> gpd.GeoDataFrame:
        """The recommendation rows as public mode writes them (figures blank where small)."""
        from gapmap.analysis import privacy

        s = self.settings
        return privacy.public_siting(self.recommendations, pub.coverage, s.headline_category, s.k_anonymity)[0]


def _say(progress: Progress | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def analyze(
    region: str | Region,
    *,
    settings: Settings | None = None,
    data_dir: str | os.PathLike | None = None,
    boundary_file: str | os.PathLike | None = None,
    areas_file: str | os.PathLike | None = None,
    services_file: str | os.PathLike | list | tuple | None = None,
    category_map: str | os.PathLike | None = None,
    osm_services: str | os.PathLike | bool | None = None,
    sites_file: str | os.PathLike | None = None,
    population_file: str | os.PathLike | None = None,
    postal_points_file: str | os.PathLike | None = None,
    gtfs: str | os.PathLike | None = None,
    when: str | None = None,
    language: str | None = None,
    hours_file: str | os.PathLike | None = None,
    assume_hours: dict[str, str] | None = None,
    network="auto",
    network_map: str | os.PathLike | None = None,
    speed_table: str | os.PathLike | None = None,
    network_crs: str | None = None,
    client=None,
    progress: Progress | None = None,
) -> Result:
    """Run the service-gap analysis for one region, in memory.

    Parameters
    ----------
    region : str or Region
        Region slug (see ``gapmap regions``), e.g. ``"chatham-kent"``.
    settings : Settings, optional
        Modes, speeds, thresholds, categories...; defaults from :mod:`gapmap.settings`.
    data_dir : path, optional
        Data mirror root; found automatically when ``../shared/data`` exists.
    boundary_file : path, optional
        Polygon file replacing the region's boundary (its polygons become the areas).
    areas_file : path, optional
        Polygon file of sub-areas (an id or name column) replacing the region's wards / tracts.
    services_file : path or list of paths, optional
        Extra services (CSV with ``name, category`` and coordinates, or any vector file; see
        ``data/services_template.csv``), e.g. settlement agencies, LINC classes, walk-in clinics.
    category_map : path, optional
        CSV overriding the ODHF classification (``facility_id`` or ``pattern``, ``category``;
        see ``docs/service-categories.md``).
    osm_services : True or path, optional
        OpenStreetMap amenities: True downloads them for the region (osmnx, cached), a path
        reads an ``.osm`` / ``.pbf`` file (see :mod:`gapmap.sources.osm`).
    sites_file, population_file : path, optional
        User layers replacing the LMIA sites / DA population (see :mod:`gapmap.sources.inputs`).
    postal_points_file : path, optional
        Your own postal-code points (Statistics Canada's PCCF or any ``postal_code, latitude,
        longitude`` CSV), replacing the mirror's table whose licence is not stated (see
        :mod:`gapmap.sources.geocode`).
    gtfs : path, optional
        GTFS zip or folder; default the region's feed in the catalog, if any. Its routes and
        stops are mapped in every mode; ``mode="transit"`` uses its schedule.
    when : str, optional
        Analysis window, e.g. ``"weekday 18:00-21:00"`` or ``"Sunday"``: only services open then
        count (services without hours are assumed open, and counted in a note).
    language : str, optional
        ISO 639-1 code, e.g. ``"es"``: only services offering it count.
    hours_file : path, optional
        CSV ``service_id, opening_hours`` (OSM syntax) or ``service_id, day, open, close``.
    assume_hours : dict, optional
        ``{category: "Mo-Fr 09:00-17:00"}`` for services of that category with no hours: a
        stated assumption, listed in the approximations.
    network : str, path or RoadNetwork, optional
        ``"auto"`` (the default, as for ``gapmap analyze``: cached network for the region, else an
        OSMnx download, else the labelled straight-line fallback, said once in the notes),
        ``"straight"`` (or None), a ``.osm.pbf`` /
        ``.osm`` / ``.graphml`` path, a road centreline file (shapefile, GeoPackage, GeoJSON, CSV;
        see :mod:`gapmap.travel.road.segments`), a network dataset id (``rnf_ottawa_2021``), or a
        loaded :class:`gapmap.travel.road.network.RoadNetwork`. With ``"auto"``, a region whose
        network is in the offline mirror (Ottawa, Hamilton, Kingston) uses it, without internet.
    network_map, speed_table, network_crs : optional
        Centreline files: the mapping (``rnf``, ``hamilton``, ``kingston`` or a TOML file), a CSV
        ``class,speed_kmh`` replacing its speeds, and the file's CRS when it states none.
    client : distributed.Client, optional
        Runs the road-network shortest-path work as one Dask task per category.
    progress : callable, optional
        Called with one line per step.

    Returns
    -------
    Result
    """
    t0 = time.perf_counter()
    notes: list[str] = []
    if isinstance(region, str) and alias_note(region):
        notes.append(f"Region slug: {alias_note(region)}.")
        _say(progress, f"note: {notes[-1]}")
    region = get_region(region) if isinstance(region, str) else region
    settings = (settings or load_settings()).validate()
    mirror = catalog.find_mirror(data_dir)
    _say(progress, f"[1/5] boundary and areas for {region.name}")
    boundary, areas = layers.build_boundary(region, data_dir, boundary_file, areas_file)
    network = _resolve_network(network, boundary.gdf, settings, notes, progress, region=region, data_dir=data_dir,
                               network_map=network_map, speed_table=speed_table, network_crs=network_crs)
    service_sources = {"services_file": services_file, "category_map": category_map, "osm_services": osm_services}
    all_layers, census_total = _build_layers(region, settings, boundary, areas, data_dir, service_sources, sites_file,
                                             population_file, notes, progress, clip=boundary_file is not None,
                                             postal_points_file=postal_points_file)
    services, sites, population = all_layers["services"], all_layers["sites"], all_layers["population"]
    settings = _drop_absent_categories(settings, services.gdf, notes, progress)
    feed, transit_routes, transit_stops, transit_source = _read_transit(region, gtfs, data_dir, boundary.gdf, settings,
                                                                        notes, progress)
    _say(progress, f"[4/5] travel times ({settings.mode}) to {', '.join(settings.categories)}")
    origins = _origins(sites.gdf, population.gdf, boundary.gdf.crs)
    services_used, assumed_hours_note = _services_in_window(services, hours_file, assume_hours, when, language, notes)
    travel.check_categories(services.gdf, settings.categories)  # before filters: a category must exist at all
    tt = _times_allowing_empty(origins, services_used, settings, network, feed, client if network is not None else None)
    method = str(tt["method"].iloc[0]) if len(tt) else travel.straight_line_label(settings)
    bands = travel.bands(services.gdf, settings, boundary.gdf, network=network, feed=feed)

    _say(progress, "[5/5] gaps per site and area")
    location_notes: list[str] = []
    sites_w, pop_w, area_tab = _gaps(tt, sites.gdf, population.gdf, areas.gdf, settings, region.name,
                                     times=lambda o: _times_allowing_empty(o, services_used, settings, network, feed),
                                     boundary=boundary.gdf, data_dir=data_dir, notes=location_notes)
    filter_effect = None
    if when or language:
        tt_any = travel.travel_times(origins, services.gdf, settings, network=network, feed=feed)
        filter_effect = _filter_effect(tt_any, tt, sites.gdf, population.gdf, settings, when, language, services_used)
    raster_sums = _raster_sums(population_file, bands, areas.gdf)
    approximations = _approximations(settings, network, tt, method, sites.gdf, sites_file, population_file,
                                     assumed_hours_note, tuple(population.datasets))
    approximations += location_notes
    approximations += _beyond_note(network, services_used, settings)
    crs = boundary.gdf.crs
    result = Result(
        region=region, settings=settings, layers=all_layers, sites=gpd.GeoDataFrame(sites_w, geometry="geometry", crs=crs),
        population=gpd.GeoDataFrame(pop_w, geometry="geometry", crs=crs), areas_table=area_tab,
        catchments=bands, travel_times=tt, method=method, approximations=approximations,
        census_total=census_total, data_dir=mirror, notes=notes, transit_routes=transit_routes,
        transit_stops=transit_stops, transit_source=transit_source, filter_effect=filter_effect, raster_sums=raster_sums,
        network=network,
    )
    if len(pop_w):
        _attach_plan(result, network)
    result.elapsed_s = time.perf_counter() - t0
    return result


def _build_layers(region, settings, boundary, areas, data_dir, service_sources: dict, sites_file, population_file,
                  notes: list[str], progress, clip: bool = False,
                  postal_points_file=None) -> tuple[dict[str, "layers.Layer"], float | None]:
    """Step 1-3: services, sites and population beside the boundary and areas, each row accounted for."""
    _say(progress, "[2/5] services (ODHF, ODCAF" + (", OSM" if service_sources.get("osm_services") else "") + ")")
    services = layers.build_services(boundary.gdf, data_dir, **service_sources)
    _say(progress, f"[3/5] sites (ESDC LMIA, streams: {', '.join(settings.streams)}) and population (2021 DAs)")
    if sites_file is not None:
        sites = layers.build_user_sites(sites_file, boundary.gdf, areas.gdf, data_dir=data_dir, region=region,
                                        postal_points_file=postal_points_file)
    else:
        sites = layers.build_sites(region, boundary.gdf, areas.gdf, data_dir, streams=settings.streams,
                                   postal_points_file=postal_points_file)
    if population_file is not None:
        if isinstance(population_file, str) and population_file in catalog.DATASETS:
            population_file = catalog.resolve(population_file, data_dir)  # e.g. ck_pseudohouseholds_2021
        population, census_total = layers.build_user_population(population_file, boundary.gdf, areas.gdf), None
    else:
        population, census_total = layers.build_population(region, boundary.gdf, areas.gdf, data_dir, clip=clip)
    all_layers = {lay.name: lay for lay in (boundary, areas, services, sites, population)}
    layer_notes = [n for lay in all_layers.values() for n in lay.notes]
    for n in layer_notes:
        _say(progress, f"note: {n}")
    notes += layer_notes
    for lay in all_layers.values():
        lay.check_accounting()
    return all_layers, census_total


def _drop_absent_categories(settings: Settings, services: gpd.GeoDataFrame, notes: list[str], progress) -> Settings:
    """Default categories with no service in the region are dropped with a note (named ones are kept: an error later)."""
    present = set(services["category"])
    missing = [c for c in settings.categories if c not in present]
    if missing and not settings.require_categories and len(missing) < len(settings.categories):
        kept = tuple(c for c in settings.categories if c in present)
        head = settings.headline_category if settings.headline_category in kept else kept[0]
        settings = settings.replace(categories=kept, headline_category=head)
        notes.append(Message(f"No {', '.join(missing)} services in or near the region in the offline data; analysed "
                             f"{', '.join(kept)} only.", "note_categories_absent", missing=list(missing), kept=list(kept)))
        _say(progress, f"note: {notes[-1]}")
    return settings


def _read_transit(region, gtfs, data_dir, boundary: gpd.GeoDataFrame, settings: Settings, notes: list[str], progress):
    """The region's (or the given) GTFS feed with its routes and stops layers; Nones when there is none."""
    gtfs_path, transit_source = gtfs, None
    if gtfs_path is None and region.transit_datasets and catalog.available(region.transit_datasets[0], data_dir):
        gtfs_path = catalog.resolve(region.transit_datasets[0], data_dir)
        transit_source = region.transit_datasets[0]
    if gtfs_path is None:
        return None, None, None, None
    from gapmap.travel.transit.schedule import read_feed

    _say(progress, f"      transit feed {Path(gtfs_path).name}")
    feed = read_feed(gtfs_path)
    transit_source = transit_source or str(gtfs_path)
    for w in feed.warnings:
        notes.append(f"Transit feed {Path(gtfs_path).name}: {w}")
        _say(progress, f"note: {notes[-1]}")
    crs = boundary.crs
    stops_ll = feed.stops.dropna(subset=["lat", "lon"])
    km = uncovered_km(gpd.GeoSeries(gpd.points_from_xy(stops_ll["lon"], stops_ll["lat"]), crs="EPSG:4326"), boundary)
    if km is not None:
        raise InputError(f"GTFS feed {gtfs_path} does not cover the region: its nearest stop is {km:,.0f} km from the "
                         "region's boundary; give this region's feed.")
    routes = feed.routes_layer().to_crs(crs)
    stops = feed.stops_layer(**({"window": settings.transit_window} if feed.has_schedule else {})).to_crs(crs)
    if settings.mode == "transit" and not feed.has_schedule:
        raise InputError(feed.schedule_problem)
    return feed, routes, stops, transit_source


def _origins(sites: gpd.GeoDataFrame, population: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Every place a trip starts from: sites as ``site:<site_id>``, DA points as ``da-<dauid>`` (never equal)."""
    origins = pd.concat([
        sites[["geometry"]].set_axis(site_origin_ids(sites["site_id"]).to_numpy()),
        population[["geometry"]].set_axis(da_origin_ids(population["dauid"]).to_numpy()),
    ])
    return gpd.GeoDataFrame(origins, geometry="geometry", crs=crs)


def _services_in_window(services: "layers.Layer", hours_file, assume_hours, when, language,
                        notes: list[str]) -> tuple[gpd.GeoDataFrame, str | None]:
    """Services with hours attached (``services.gdf`` is updated) and those usable in the window / language."""
    crs = services.gdf.crs
    assumed_hours_note = None
    if hours_file is not None or assume_hours:
        services.gdf = _with_hours(services.gdf, hours_file, assume_hours or {})
        if assume_hours:
            assumed_hours_note = Message("Opening hours assumed (no data) for "
                                         + "; ".join(f"{k}: {v}" for k, v in assume_hours.items())
                                         + ", for services without hours of their own.",
                                         "appx_assumed_hours", hours=dict(assume_hours))
    services_used = services.gdf
    if when or language:
        from gapmap.layers.hours import filter_services, missing_data_warnings

        services_used = filter_services(services.gdf, window=when, language=language)
        st = services_used.attrs["service_filter"]
        st["warnings"] = missing_data_warnings(st)
        notes.append(
            f"Services filtered ({'open ' + when if when else ''}{' and ' if when and language else ''}"
            f"{'offering ' + language if language else ''}): {st['services_kept']} of {st['services_in']} kept; "
            f"{st['hours_missing_assumed_open']} without opening hours assumed open; "
            f"{st['languages_assumed']} without language data assumed English only."
        )
        notes += [w[9].upper() + w[10:] if w.startswith("warning: ") else w for w in st["warnings"]]
        services_used = gpd.GeoDataFrame(services_used, geometry="geometry", crs=crs)
    return services_used, assumed_hours_note


def _gaps(tt: pd.DataFrame, sites: gpd.GeoDataFrame, population: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
          settings: Settings, region_name: str, *, times=None, boundary: gpd.GeoDataFrame | None = None, data_dir=None,
          notes: list[str] | None = None):
    """Wide per-site and per-DA tables with their time ranges, and the per-area table with bounds.

    With ``times`` (the run's travel-time function of an origins frame) and ``boundary``, sites at a
    community, post-office or postal-area point range over their candidate positions
    (:func:`gapmap.analysis.uncertainty.candidate_sets`) where the data hold them; all other sites
    use the stated radius of their precision. The sentence saying which is appended to ``notes``.
    """
    site_ids, da_ids = site_origin_ids(sites["site_id"]).to_numpy(), da_origin_ids(population["dauid"]).to_numpy()
    site_tt = tt[tt["origin_id"].isin(site_ids)]
    pop_tt = tt[tt["origin_id"].isin(da_ids)]
    sites_w = gaps.wide_times(sites.set_axis(site_ids), site_tt, settings).reset_index(drop=True)
    pop_w = gaps.wide_times(population.set_axis(da_ids), pop_tt, settings).reset_index(drop=True)
    # Sites stand for the area their geocode precision allows; DA points carry method uncertainty only.
    radius = pd.Series(uncertainty.location_radius(sites["geocode_precision"], settings), index=site_ids)
    ranges = uncertainty.time_ranges(tt, radius, settings)
    if times is not None and boundary is not None and settings.location_candidates:
        candidates = uncertainty.candidate_sets(sites, site_ids, boundary, data_dir)
        ranges = uncertainty.candidate_ranges(ranges, candidates, times, settings, crs=boundary.crs)
        with_radius = ((radius > 0) & ~radius.index.isin(candidates["origin_id"])).to_numpy()
        by_precision = sites["geocode_precision"].astype(str)[with_radius].value_counts().sort_index()
        sentence = uncertainty.candidate_note(candidates, int(with_radius.sum()),
                                              {str(p): int(n) for p, n in by_precision.items()},
                                              settings=settings)
        if sentence and notes is not None:
            notes.append(sentence)
    sites_w = uncertainty.attach(sites_w, pd.Series(site_ids), ranges, settings)
    pop_w = uncertainty.attach(pop_w, pd.Series(da_ids), ranges, settings)
    return sites_w, pop_w, gaps.area_table(areas, sites_w, pop_w, settings, region_name)


def _raster_sums(population_file, bands: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> dict | None:
    """People inside each catchment band and each area, summed from a population raster's own cells."""
    if population_file is None or Path(population_file).suffix.lower() not in (".tif", ".tiff"):
        return None
    from gapmap.layers.demand import raster_zonal_sums

    return {
        "catchments": [{"category": r.category, "threshold_min": r.threshold_min, "people": float(v)}
                       for r, v in zip(bands.itertuples(), raster_zonal_sums(population_file, bands))],
        "areas": {a: float(v) for a, v in zip(areas["area_id"], raster_zonal_sums(population_file, areas))},
    }


def _approximations(settings: Settings, network, tt: pd.DataFrame, method: str, sites: gpd.GeoDataFrame, sites_file,
                    population_file, assumed_hours_note: str | None, population_sources: tuple = ()) -> list[str]:
    """Every approximation a number of this run rests on, in words, for the map, report and summary."""
    approximations = []
    if settings.mode == "transit":
        approximations.append(Message(
            f"Transit times are door to door over every departure minute of {settings.transit_window[0]}-"
            f"{settings.transit_window[1]} (median; p90 in the tables), walking legs "
            + (f"on the walking network at {settings.speeds_kmh['walk']:g} km/h" if network is not None else
               f"as straight-line distance x {settings.circuity:g} at {settings.speeds_kmh['walk']:g} km/h")
            + "; places with no usable stop are unreachable.",
            "appx_transit", start=settings.transit_window[0], end=settings.transit_window[1], network=network is not None,
            walk_kmh=float(settings.speeds_kmh["walk"]), circuity=float(settings.circuity)))
    if network is not None and "snap_m" in tt and settings.mode != "transit":
        far = tt.drop_duplicates("origin_id")
        n_far = int(far["snap_flag"].sum())
        legs = _leg_words(settings)
        if legs is None:
            approximations.append(Message(
                f"Road-network times ({method}) start and end at the nearest point on the nearest road, the off-road leg walked "
                f"at {settings.speeds_kmh['walk']:g} km/h; {n_far} sites or DA points lie more than "
                f"{_distance_words(settings.snap_limit_m)} from any road (snap_flag).",
                "appx_road", method=method, walk_kmh=float(settings.speeds_kmh["walk"]), far=n_far,
                snap_m=float(settings.snap_limit_m)))
        else:
            approximations.append(Message(
                f"Road-network times ({method}) start and end at the nearest point on the nearest road, the legs to and from it "
                f"{legs}; {n_far} sites or DA points lie more than {_distance_words(settings.snap_limit_m)} from any road "
                "(snap_flag).",
                "appx_road_legs", method=method, far=n_far, snap_m=float(settings.snap_limit_m), **_leg_params(settings)))
    if travel.STRAIGHT_LINE in method:
        approximations.append(Message(
            f"Travel times are a {method}: straight-line distance x {settings.circuity:g} / "
            f"{settings.speeds_kmh[settings.mode]:g} km/h, not a road-network route.",
            "appx_straight", mode=settings.mode, kmh=float(settings.speeds_kmh[settings.mode]),
            circuity=float(settings.circuity)))
    geocoded = _geocoding_sentence(sites, settings)
    if geocoded:
        approximations.append(geocoded)
    if sites_file is None and len(sites):
        approximations.append(Message(
            "Workers per site = the largest calendar-year total of LMIA-approved positions (quarters summed within a "
            "year, years not summed): approvals, not a head count.", "appx_workers"))
    if assumed_hours_note:
        approximations.append(assumed_hours_note)
    if population_file is None and "da_centroids_2016" in population_sources:
        approximations.append(Message("Population sits at 2016 DA representative points carrying 2021 counts.", "appx_pop_2016"))
    elif population_file is None:
        approximations.append(Message("Population sits at a point inside each 2021 dissemination block (representative point).",
                                      "appx_pop_block"))
    return approximations


def _leg_params(settings: Settings) -> dict:
    """Speed and circuity (with its range) of the off-road legs travelled by the mode."""
    lo, hi = settings.circuity_bounds()
    return dict(kmh=float(settings.speeds_kmh[settings.mode]), circuity=float(settings.circuity), lo=float(lo), hi=float(hi))


def _leg_words(settings: Settings) -> str | None:
    """How the off-road legs are timed, in words, when the mode travels them (None: walked)."""
    from gapmap.travel.dispatch import road_kwargs
    from gapmap.travel.road.routing import legs_by_mode

    kw = road_kwargs(settings)
    if not legs_by_mode(kw["access_speed_kmh"], kw["leg_kmh"], kw["leg_circuity"]):
        return None
    p = _leg_params(settings)
    return (f"are a straight-line approximation (distance x {p['circuity']:g} at {p['kmh']:g} km/h; circuity "
            f"{p['lo']:g}-{p['hi']:g} in the ranges)")


def _beyond_note(network, services: gpd.GeoDataFrame, settings: Settings) -> list[Message]:
    """The sentence naming the services past the roads the network holds (over ``snap_limit_m`` from every road), or none."""
    if network is None or settings.mode == "transit":
        return []
    from gapmap.travel.road.routing import snap

    svc = services[services["category"].isin(settings.categories)]
    if svc.empty:
        return []
    s = snap(network, svc)
    access = np.where(s["edge"].to_numpy() >= 0, s["snap_m"].to_numpy(dtype=float), np.inf)
    beyond = np.isfinite(access) & (access > settings.snap_limit_m)
    if not beyond.any():
        return []
    order = np.flatnonzero(beyond)[np.argsort(access[beyond], kind="stable")]
    examples = [(str(svc["name"].iloc[i] if "name" in svc else svc["service_id"].iloc[i]), float(access[i]) / 1000.0) for i in order[:3]]
    ex = ", ".join(f"{name} {km:.1f} km" for name, km in examples)
    legs = _leg_words(settings)
    how = (f"their legs to it {legs}" if legs is not None else
           f"their legs to it are walked at {settings.speeds_kmh['walk']:g} km/h")
    n = int(beyond.sum())
    return [Message(
        f"{n} of the {len(svc)} services analysed {'lies' if n == 1 else 'lie'} more than {_distance_words(settings.snap_limit_m)} "
        f"from every road of the network, past the roads it holds (nearest first: {ex}{', ...' if n > 3 else ''}); {how}.",
        "appx_beyond", n=n, total=len(svc), snap_m=float(settings.snap_limit_m), examples=examples,
        walk_kmh=float(settings.speeds_kmh["walk"]), driven=legs is not None, **(_leg_params(settings) if legs else {}))]


def _distance_words(metres: float) -> str:
    """``1 km`` for 1000 m, ``500 m`` for 500 m."""
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _geocoding_sentence(sites: gpd.GeoDataFrame, settings: Settings) -> str | None:
    """How the sites were placed, rule by rule of the geocoding cascade, or None for user coordinates.

    In public mode the site counts are left out when one of them is small (1 to k-1), as
    summary.json's tally of sites by precision is blanked whole then.
    """
    from gapmap.analysis import privacy
    from gapmap.sources import geocode

    n = sites["geocode_precision"].value_counts()
    words = {
        geocode.POSTAL_CODE: "at their own urban postal-code point (about an address block)",
        geocode.COMMUNITY: "at a cited community point (about 1 km)",
        geocode.POST_OFFICE: "at a rural post-office point (about 1 km from the village; farms can be several km away)",
        geocode.POSTAL_AREA: f"only at a postal-area (FSA) centroid (coarse, can be 30+ km off; counted in "
                             f"'{geocode.AREA_UNKNOWN_NAME}', never in a ward)",
    }
    counts = {p: int(n[p]) for p in geocode.PRECISIONS if n.get(p, 0)}
    if not counts:
        return None
    unstated = int(sites["geocode_licence"].fillna("").str.startswith("licence not stated").sum()) if "geocode_licence" in sites else 0
    k = settings.k_anonymity
    hide = privacy.counts_hidden([*counts.values(), unstated], settings)
    if hide:
        text = ("Sites are not at farm addresses (ESDC lists only community and postal code): "
                + "; ".join(f"some {words[p]}" for p in counts)
                + f". Counts by placement are not published (one of them is under {k} sites)."
                + (" Some of them rest on postal-code points whose licence is not stated." if unstated else ""))
    else:
        text = ("Sites are not at farm addresses (ESDC lists only community and postal code): "
                + "; ".join(f"{c} {words[p]}" for p, c in counts.items()) + "."
                + (f" {unstated} of them rest on postal-code points whose licence is not stated." if unstated else ""))
    return Message(text, "appx_sites", counts=counts, unstated=unstated, hide_counts=hide, k=k)


def _attach_plan(result: Result, network) -> None:
    """Hexagon table and E2SFCA scores, the scores copied onto the site and DA rows."""
    from gapmap.analysis import plan

    result.hexes = plan.hex_table(result)
    result.access = plan.accessibility_scores(result, network=network if result.settings.mode != "transit" else None)
    scores = result.access.set_index("origin_id")
    for frame, ids in ((result.sites, site_origin_ids(result.sites["site_id"])),
                       (result.population, da_origin_ids(result.population["dauid"]))):
        for col in scores.columns:
            frame[col] = scores[col].reindex(ids.to_numpy()).round(4).to_numpy()


def _resolve_network(spec, boundary: gpd.GeoDataFrame, settings: Settings, notes: list[str], progress, *,
                     region: Region | None = None, data_dir=None, network_map=None, speed_table=None, network_crs=None):
    """A RoadNetwork or None, from a spec; the fallback reason goes into ``notes`` once."""
    if spec is None or isinstance(spec, str) and spec == "straight":
        return None
    if not isinstance(spec, (str, os.PathLike)):
        return spec  # already a RoadNetwork
    from gapmap.travel.road.load import load_network

    chosen, chosen_params = "", {}
    if (str(spec) == "auto" and network_map is None and region is not None and region.network_dataset
            and catalog.available(region.network_dataset, data_dir)):
        # The region's own network is in the offline mirror: no download, no flag needed.
        spec = region.network_dataset
        chosen_params = {"region": region.name, "title": catalog.dataset(spec).title}
        chosen = "chosen by default for {region} from the offline mirror ({title}): ".format(**chosen_params)
    # Transit runs use a walking network for the legs to, between and from stops.
    net_mode = "walk" if settings.mode == "transit" else settings.mode
    _say(progress, f"      road network: {spec} ({net_mode})")
    load = load_network(spec, boundary=boundary, mode=net_mode, speed_kmh=settings.speeds_kmh.get(net_mode),
                        network_map=network_map, speed_table=speed_table, source_crs=network_crs, data_dir=data_dir)
    if load.network is not None:
        nodes = gpd.GeoSeries(gpd.points_from_xy(*load.network.node_xy.T), crs=load.network.crs)
        km = uncovered_km(nodes, boundary)
        if km is not None:
            raise InputError(f"Road network {spec} does not cover the region: its nearest node is {km:,.0f} km from the "
                             "region's boundary; give a network of this region (or --network straight).")
    first = len(notes)
    if load.network is None:
        notes.append(Message(f"Road network: {load.reason}; travel times use the straight-line approximation.",
                             "note_road_fallback", **_road_reason_key(load.reason)))
    else:
        net = load.network
        label = f" Travel times: {net.method}." if net.speed_note else ""
        report = dataclasses.asdict(load.report) if load.report is not None else None
        notes.append(Message(f"Road network: {chosen}{load.reason}.{label}", "note_road_network", **chosen_params,
                             reason=load.reason, report=report, method=net.method if net.speed_note else None))
        outside = _uncovered_share(net, boundary)
        if outside > 0.05:
            # e.g. the City of Kingston's centreline inside the larger Frontenac census division
            notes.append(Message(f"The road network covers only {1 - outside:.0%} of the region's area: places beyond it are "
                                 "timed with a long off-road walk (snap_flag), not on roads.", "note_road_partial",
                                 share=1 - outside))
    for n in notes[first:]:
        _say(progress, f"note: {n}")
    return load.network


def _road_reason_key(reason: str) -> dict:
    """The key of a road-network fallback reason the French notes know (gapmap.travel.road.load), with its file."""
    if reason.startswith("no cached road network and no internet connection"):
        return {"reason_key": "no internet"}
    m = re.fullmatch(r"no cached road network \((.+)\) and offline mode is on", reason)
    return {"reason_key": "offline", "file": m.group(1)} if m else {}


def _uncovered_share(net, boundary: gpd.GeoDataFrame) -> float:
    """Share of the region's area farther than 2 km from the network's outline (convex hull of its nodes)."""
    import shapely

    region = shapely.union_all(boundary.to_crs(net.crs).geometry.to_numpy())
    cover = shapely.convex_hull(shapely.multipoints(net.node_xy)).buffer(2000.0)
    return float(shapely.difference(region, cover).area / region.area) if region.area > 0 else 0.0


def _with_hours(services: gpd.GeoDataFrame, hours_file, assume: dict[str, str]) -> gpd.GeoDataFrame:
    """Attach ``opening_hours`` from a file (by service_id) and assumed hours per category."""
    from gapmap import sources
    from gapmap.layers.hours import parse_opening_hours

    out = services.copy()
    if "opening_hours" not in out:
        out["opening_hours"] = None
    if hours_file is not None:
        table = sources.read_csv(hours_file, ["service_id"], what="Hours")
        if "opening_hours" in table:
            given = table.set_index("service_id")["opening_hours"]
        elif {"day", "open", "close"} <= set(table.columns):
            given = table.groupby("service_id").apply(
                lambda g: "; ".join(f"{d} {o}-{c}" for d, o, c in zip(g["day"], g["open"], g["close"])))
        else:
            raise InputError(f"Hours file {hours_file} needs an opening_hours column or day, open, close columns.")
        unknown = sorted(set(given.index) - set(out["service_id"]))
        if unknown:
            raise InputError(f"Hours file {hours_file} names unknown service_id {unknown[0]!r}; use ids from services (layers.gpkg).")
        hit = out["service_id"].isin(given.index)
        out.loc[hit, "opening_hours"] = out.loc[hit, "service_id"].map(given).to_numpy()
    for cat, spec in assume.items():
        parse_opening_hours(spec, service=f"--assume-hours {cat}")  # fail early on a bad spec
        empty = (out["category"] == cat) & (out["opening_hours"].isna() | (out["opening_hours"].astype(str) == ""))
        out.loc[empty, "opening_hours"] = spec
    return out


def _times_allowing_empty(origins, services, settings, network, feed, client=None) -> pd.DataFrame:
    """Travel times; a category with no usable service (e.g. none open in the window) is unreachable."""
    present = tuple(c for c in settings.categories if (services["category"] == c).any())
    frames = []
    if present:
        frames.append(travel.travel_times(origins, services, settings.replace(categories=present), network=network, feed=feed,
                                              client=client))
    for cat in settings.categories:
        if cat not in present:
            frames.append(pd.DataFrame({"origin_id": origins.index.astype(str), "category": cat, "service_id": None,
                                        "service_name": None, "distance_m": np.nan, "minutes": np.nan,
                                        "method": f"no {cat} service usable (hours/language filter)"}))
    return pd.concat(frames, ignore_index=True)


def _filter_effect(tt_any, tt, sites, population, settings, when, language, services_used) -> dict:
    """How many sites, workers and people lose coverage once hours / language are considered."""
    def covered(table, ids, cat, t):
        sub = table[table["category"] == cat].set_index("origin_id")["minutes"].reindex(ids)
        return sub.fillna(np.inf).to_numpy() <= t

    site_ids = site_origin_ids(sites["site_id"]).to_numpy()
    da_ids = da_origin_ids(population["dauid"]).to_numpy()
    rows = []
    for cat in settings.categories:
        for t in settings.thresholds_min:
            s_any, s_f = covered(tt_any, site_ids, cat, t), covered(tt, site_ids, cat, t)
            p_any, p_f = covered(tt_any, da_ids, cat, t), covered(tt, da_ids, cat, t)
            lost_s = s_any & ~s_f
            lost_p = p_any & ~p_f
            rows.append({"category": cat, "threshold_min": t, "sites_covered_any_time": int(s_any.sum()),
                         "sites_covered_filtered": int(s_f.sum()), "sites_lost": int(lost_s.sum()),
                         "workers_lost": int(sites["workers"].to_numpy()[lost_s].sum()),
                         "people_lost": float(population["pop2021"].fillna(0).to_numpy()[lost_p].sum())})
    return {"when": when, "language": language, **services_used.attrs.get("service_filter", {}), "coverage_lost": rows}


def run(region: str | Region, out_dir: str | os.PathLike | None = None, *, recommend: int | None = None,
        recommend_target: float | None = None, candidates: str = "hex", objective: str = "workers",
        add_services: str | os.PathLike | None = None, **kwargs) -> tuple[Result, dict[str, Path]]:
    """:func:`analyze`, optional siting and what-if, then write the outputs to ``out_dir``
    (default ``outputs/<region>``).

    Parameters
    ----------
    recommend, recommend_target : optional
        Recommend ``recommend`` new services, or the fewest covering ``recommend_target`` (0-1)
        of the coverable demand, for the headline category and threshold (see :func:`gapmap.analysis.plan.recommend`).
    candidates : str
        ``hex``, ``odcaf``, ``da`` or a candidates file.
    add_services : path, optional
        What-if: services to add; ``whatif.csv`` compares each area before and after.
    """
    from gapmap.output.atomic import output_lock

    region = get_region(region) if isinstance(region, str) else region
    out = Path(out_dir) if out_dir is not None else Path("outputs") / region.slug
    # Held from the start, so a second run into the same folder stops at once, not after its analysis.
    with output_lock(out):
        return _run_locked(region, out, recommend=recommend, recommend_target=recommend_target, candidates=candidates,
                           objective=objective, add_services=add_services, **kwargs)


def _run_locked(region: Region, out: Path, *, recommend, recommend_target, candidates, objective, add_services,
                **kwargs) -> tuple[Result, dict[str, Path]]:
    from gapmap.analysis import plan
    from gapmap.output.files import write_outputs

    progress = kwargs.get("progress")
    result = analyze(region, **kwargs)
    rec = None
    if recommend is not None or recommend_target is not None:
        _say(progress, f"siting: {'p=' + str(recommend) if recommend else 'target ' + str(recommend_target)} "
                       f"({result.settings.headline_category}, {result.settings.headline_threshold:g} min, candidates {candidates})")
        rec = plan.recommend(result, p=recommend, target_share=recommend_target, candidates=candidates, objective=objective,
                             data_dir=kwargs.get("data_dir"))
    whatif = None
    if add_services is not None:
        _say(progress, f"what-if: adding services from {add_services}")
        extra = kwargs.get("services_file")
        files_in = [*(list(extra) if isinstance(extra, (list, tuple)) else [extra] if extra else []), add_services]
        after = analyze(result.region, **{**kwargs, "services_file": files_in, "progress": None})
        whatif = plan.what_if(result, after)
    result.recommendations = rec
    files = write_outputs(result, out, progress=progress, recommendations=rec, whatif=whatif)
    return result, files
