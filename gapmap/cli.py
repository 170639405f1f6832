"""Command-line interface: a thin click shell over :mod:`gapmap.pipeline` (no analysis logic here)."""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
import traceback

import click

from gapmap import categories as registry
from gapmap._interrupt import interrupted_early as _interrupted_early
from gapmap.errors import GapmapError
from gapmap.settings import MODES, load_settings
from gapmap.sources.regions import REGIONS, alias_note, get_region, offline_layers, sub_area_count


def _user_errors(func):
    """Turn user errors into one line on stderr and a non-zero exit; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # While the command runs, Ctrl-C raises KeyboardInterrupt so staged outputs are cleaned up.
        early = signal.getsignal(signal.SIGINT) is _interrupted_early
        if early:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return func(*args, **kwargs)
        except GapmapError as exc:
            click.echo(f"Error: {_with_notes(exc)}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # output piped into `head` and closed: not an error
            sys.stderr.close()
            sys.exit(0)
        except KeyboardInterrupt as exc:
            # No import here: Ctrl-C may have stopped one half-way (an interrupted numpy cannot be imported
            # again). OutputsInterrupted carries the message about the previous outputs.
            click.echo(getattr(exc, "message", None) or "Interrupted.", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: still one line, the traceback only on request
            if os.environ.get("GAPMAP_DEBUG"):
                traceback.print_exc()
            click.echo(f"Internal error: {type(exc).__name__}: {_with_notes(exc)} (set GAPMAP_DEBUG=1 for the traceback "
                       "and report it).", err=True)
            sys.exit(70)
        finally:
            if early:
                signal.signal(signal.SIGINT, _interrupted_early)

    return wrapper


def _with_notes(exc: BaseException) -> str:
    """The message and any notes (e.g. that the previous outputs are unchanged), on one line."""
    return " ".join([str(exc), *getattr(exc, "__notes__", ())])


def _missing(value) -> bool:
    """None or NaN (pandas imported here: ``import gapmap.cli`` stays light for ``--help``)."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _people(value) -> str:
    return "suppressed" if _missing(value) else f"{float(value):,.0f}"


def _speeds(values: tuple[str, ...]) -> dict[str, float] | None:
    out = {}
    for v in values:
        mode, _, kmh = v.partition("=")
        try:
            out[mode.strip()] = float(kmh)
        except ValueError:
            raise GapmapError(f"--speed {v!r} is not MODE=KMH (e.g. --speed drive=70).") from None
    return out or None


def _pairs(values: tuple[str, ...], option: str, example: str) -> dict[str, str] | None:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise GapmapError(f"{option} {v!r} is not KEY=VALUE (e.g. {option} \"{example}\").")
        out[key.strip()] = val.strip()
    return out or None


def _window(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    start, sep, end = text.partition("-")
    if not sep or len(start.split(":")) != 2 or len(end.split(":")) != 2:
        raise GapmapError(f"--window {text!r} is not HH:MM-HH:MM (e.g. --window 17:00-19:00).")
    return start.strip(), end.strip()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gapmap")
def main() -> None:
    """gapmap: map service gaps for newcomers and migrant workers in LIP regions."""


@main.command()
@click.option("--region", "region", multiple=True,
              help="Region slug, e.g. chatham-kent (see `gapmap regions`); repeat it to run several as a batch.")
@click.option("--all", "all_regions", is_flag=True, help="Run every region with offline data (batch; others are skipped with the reason).")
@click.option("--scheduler", default="serial", show_default=True,
              help="serial, local (a Dask LocalCluster) or a Dask scheduler ADDRESS such as tcp://host:8786: regions run as "
                   "tasks, and road-network searches as one task per category.")
@click.option("--workers", type=int, default=2, show_default=True, help="Batch runs with --scheduler local: worker processes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Output folder [default: outputs/REGION; batch: outputs, one folder per region plus comparison.csv/html].")
@click.option("--data-dir", type=click.Path(), help="Data mirror root [default: ../shared/data or $GAPMAP_DATA].")
@click.option("--config", "config_file", type=click.Path(), help="TOML file of settings (see gapmap.settings).")
@click.option("--mode", type=click.Choice(list(MODES)), help="Travel mode [default: drive]; transit needs a GTFS feed.")
@click.option("--gtfs", type=click.Path(), help="GTFS zip or folder [default: the region's feed in the catalog].")
@click.option("--date", "transit_date", help="Transit service date YYYY-MM-DD [default: first Wednesday with service].")
@click.option("--window", "transit_window", help="Transit departure window HH:MM-HH:MM [default: 17:00-19:00].")
@click.option("--max-walk", "max_walk_m", type=float, help="Transit: longest walk to or from a stop, metres [default: 1000].")
@click.option("--max-transfers", type=int, help="Transit: most transfers [default: 3].")
@click.option("--category", "categories", multiple=True, help="Service category to analyse (repeatable) [default: the registry's defaults, hospital and clinical primary_care].")
@click.option("--threshold", "thresholds", multiple=True, type=float, help="Threshold in minutes (repeatable) [default: 15 30 60].")
@click.option("--stream", "streams", multiple=True, help="LMIA program stream (repeatable) [default: Primary Agriculture].")
@click.option("--speed", "speeds", multiple=True, help="Mode speed override MODE=KMH (repeatable), e.g. drive=70.")
@click.option("--circuity", type=float, help="Road / straight-line distance ratio [default: 1.3].")
@click.option("--headline-category", help="Category the map shades areas by [default: hospital].")
@click.option("--headline-threshold", type=float, help="Threshold the map shades areas by [default: 30].")
@click.option("--privacy", type=click.Choice(["public", "internal"]), help="public (default): aggregates only, small cells suppressed (docs/privacy.md); internal: per-site table and points.")
@click.option("--boundary", "boundary_file", type=click.Path(), help="Polygon file replacing the region's boundary.")
@click.option("--areas", "areas_file", type=click.Path(),
              help="Polygon file of sub-areas (with an id or name column) replacing the region's wards / census tracts.")
@click.option("--services", "services_file", type=click.Path(), multiple=True, help="Extra services file (CSV name, category, latitude, longitude; or GeoJSON/GPKG/SHP); repeatable.")
@click.option("--category-map", type=click.Path(), help="CSV overriding the ODHF categories: facility_id or pattern, category.")
@click.option("--osm-services", help="Add OpenStreetMap amenities: 'download' (osmnx, cached) or an .osm/.pbf FILE.")
@click.option("--sites", "sites_file", type=click.Path(), help="Worker sites file replacing the LMIA sites (coordinates or community/postal code, workers).")
@click.option("--population", "population_file", type=click.Path(), help="Population file replacing the DA points (points or polygons, population).")
@click.option("--postal-points", "postal_points_file", type=click.Path(),
              help="Your postal-code points (PCCF or CSV postal_code, latitude, longitude) for geocoding sites, "
                   "replacing the bundled table whose licence is not stated.")
@click.option("--network", "network_spec", default="auto", show_default=True,
              help="Road network: auto (cached, else OSMnx download, else the labelled straight-line fallback), "
                   "straight, rnf (Statistics Canada's national Road Network File, downloaded once and clipped to the region), "
                   "or a .osm.pbf / .osm / .graphml PATH, or a road centreline FILE (shapefile, GeoPackage, "
                   "GeoJSON, CSV with WKT/GeoJSON geometry). Ottawa, Hamilton and Kingston use their offline network by default.")
@click.option("--network-map", "network_map", help="How to read a centreline FILE: rnf, hamilton, kingston or a mapping TOML "
                                                    "(class field, speeds, one-way rule) [default: detected from the fields].")
@click.option("--speed-table", "speed_table", type=click.Path(), help="CSV class,speed_kmh replacing the network mapping's speeds by road class.")
@click.option("--crs", "network_crs", help="CRS of a centreline FILE that states none, e.g. EPSG:26918.")
@click.option("--when", help='Analysis window: only services open then count, e.g. "weekday 18:00-21:00", "Sunday".')
@click.option("--language", help="Only services offering this language count (ISO 639-1, e.g. es).")
@click.option("--hours", "hours_file", type=click.Path(), help="Opening hours CSV: service_id, opening_hours (or day, open, close).")
@click.option("--assume-hours", "assume_hours", multiple=True, help='Assumed hours for a category without data, e.g. "primary_care=Mo-Fr 09:00-17:00".')
@click.option("--recommend", type=int, help="Recommend this many new services for the headline category and threshold.")
@click.option("--recommend-target", type=float, help="Recommend the fewest new services covering this share (0-1) of coverable demand.")
@click.option("--candidates", default="hex", show_default=True, help="Siting candidates: hex, odcaf, da, or a points FILE.")
@click.option("--objective", type=click.Choice(["workers", "people"]), default="workers", show_default=True, help="Siting objective.")
@click.option("--add-services", type=click.Path(), help="What-if: add these services and compare each area before / after (whatif.csv).")
@click.option("--lang", type=click.Choice(["en", "fr"]), help="Language of the map and report labels [default: en].")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@_user_errors
def analyze(region, all_regions, scheduler, workers, out_dir, data_dir, config_file, mode, gtfs, transit_date, transit_window, max_walk_m, max_transfers, categories, thresholds, streams, speeds, circuity,
            headline_category, headline_threshold, privacy, boundary_file, areas_file, services_file, category_map, osm_services, sites_file, population_file,
            postal_points_file, network_spec, network_map, speed_table, network_crs, when, language, hours_file, assume_hours, recommend, recommend_target, candidates, objective,
            add_services, lang, quiet):
    """Run the service-gap analysis for one region and write map, GeoPackage, tables and summary.

    With --all or several --region, run a batch: each region into OUT/REGION, plus OUT/comparison.csv and
    OUT/comparison.html; a region that fails is reported and the others complete (exit status 1 if any failed).
    """
    t0 = time.perf_counter()
    import pandas as pd

    from gapmap import pipeline

    services_file = list(services_file) or None
    osm_services = True if osm_services == "download" else osm_services
    if all_regions and region:
        raise GapmapError("Give either --all or --region, not both.")
    if not all_regions and not region:
        raise GapmapError("Missing option --region; give a region slug (e.g. --region chatham-kent, repeatable) or --all.")
    batch = all_regions or len(dict.fromkeys(get_region(r).slug for r in region)) > 1
    region = region[0] if not batch else region
    settings = load_settings(
        config_file, mode=mode, categories=categories, thresholds_min=thresholds, streams=streams,
        speeds_kmh=_speeds(speeds), circuity=circuity, headline_category=headline_category,
        headline_threshold=headline_threshold, privacy=privacy, transit_date=transit_date,
        transit_window=_window(transit_window), max_walk_m=max_walk_m, max_transfers=max_transfers, lang=lang,
    )
    say = (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))
    if batch:
        single = {"--boundary": boundary_file, "--areas": areas_file, "--sites": sites_file, "--population": population_file, "--gtfs": gtfs,
                  "--recommend": recommend, "--recommend-target": recommend_target, "--add-services": add_services,
                  "--category-map": category_map, "--osm-services": osm_services}
        given = [opt for opt, v in single.items() if v is not None]
        if given:
            raise GapmapError(f"{given[0]} applies to one region; run that region alone, not with --all or several --region.")
        # Batches default to the straight-line method: --network auto would try an OSM download per region.
        explicit = click.get_current_context().get_parameter_source("network_spec") != click.core.ParameterSource.DEFAULT
        _analyze_batch(None if all_regions else region, out_dir, settings, data_dir, network_spec if explicit else "straight",
                       scheduler, workers, say, t0, services_file=services_file, postal_points_file=postal_points_file,
                       when=when, language=language,
                       hours_file=hours_file, assume_hours=_pairs(assume_hours, "--assume-hours", "primary_care=Mo-Fr 09:00-17:00"))
        return
    reg = get_region(region)
    if alias_note(region):
        say(f"note: {alias_note(region)}.")
    from gapmap.batch import dask_client

    # One region on Dask: its road-network searches run as one task per category.
    with dask_client(scheduler if network_spec != "straight" else "serial", workers) as client:
        result, files = pipeline.run(reg, out_dir, settings=settings, data_dir=data_dir, boundary_file=boundary_file,
                                areas_file=areas_file, services_file=services_file, category_map=category_map,
                                osm_services=osm_services, sites_file=sites_file, population_file=population_file,
                                postal_points_file=postal_points_file, gtfs=gtfs, network=network_spec, network_map=network_map,
                                speed_table=speed_table, network_crs=network_crs, client=client, progress=say, when=when, language=language,
                                hours_file=hours_file,
                                assume_hours=_pairs(assume_hours, "--assume-hours", "primary_care=Mo-Fr 09:00-17:00"),
                                recommend=recommend, recommend_target=recommend_target, candidates=candidates,
                                objective=objective, add_services=add_services)
    settings = result.settings  # the analysis may drop default categories a region lacks
    pre = f"{settings.headline_category}_{settings.headline_threshold:g}min"
    # The console prints what areas.csv publishes: in public mode the disclosure-controlled copy.
    table = pd.read_csv(files["areas.csv"], dtype={"area_id": str}) if settings.privacy == "public" else result.areas_table
    total = table.iloc[-1]
    click.echo(f"{result.region.name}: {_count(total[f'{pre}_workers_not'])} of {_count(total['workers'])} estimated workers "
               f"({_count(total[f'{pre}_sites_not'])} of {_count(total['sites'])} sites) beyond {settings.headline_threshold:g} min "
               f"{registry.of_a(settings.headline_category)}, and {_people(total[f'{pre}_pop_not'])} of "
               f"{_people(total['population'])} people [{result.method}].")
    if f"{pre}_workers_not_lower" in total:
        click.echo(f"  how sure: between {_count(total[f'{pre}_workers_not_lower'])} and {_count(total[f'{pre}_workers_not_upper'])} "
                   f"workers ({_count(total[f'{pre}_sites_knife_edge'])} knife-edge sites) and between "
                   f"{_count(total[f'{pre}_pop_not_lower'])} and {_count(total[f'{pre}_pop_not_upper'])} people, over the location "
                   f"and method ranges (gapmap sensitivity shows one parameter at a time).")
    coarse = total[f"{pre}_workers_not_postal_area"]
    # (When the headline itself is blank, its postal-area share says nothing more.)
    if (pd.isna(coarse) and not pd.isna(total[f"{pre}_workers_not"])) or (not pd.isna(coarse) and coarse):
        click.echo(f"  {_count(coarse)} of those workers are at sites placed only at a postal-area centroid: their distance is uncertain.")
    for cat in settings.categories:  # the other clinical categories get a line of their own (issue 16)
        other = f"{cat}_{settings.headline_threshold:g}min"
        if cat != settings.headline_category and getattr(registry.get(cat), "clinical", False) and f"{other}_workers_not" in total:
            click.echo(f"  and {_count(total[f'{other}_workers_not'])} workers ({_count(total[f'{other}_sites_not'])} sites) beyond "
                       f"{settings.headline_threshold:g} min {registry.of_a(cat)}.")
    for _, row in table.iloc[:-1].iterrows():
        if bool(row.get("suppressed", False)):
            click.echo(f"  {row['area_name']:<24} (suppressed: fewer than {settings.k_anonymity} sites or workers, or needed to protect one that is)")
        else:
            click.echo(f"  {row['area_name']:<24} {_count(row[f'{pre}_workers_not']):>6} of {_count(row['workers']):>6} workers beyond")
    if result.filter_effect:
        from gapmap.analysis import privacy

        effect = (privacy.public_filter_effect(result.filter_effect, settings.k_anonymity)
                  if settings.privacy == "public" else result.filter_effect)
        lost = [r for r in effect["coverage_lost"] if r["category"] == settings.headline_category
                and r["threshold_min"] == settings.headline_threshold][0]
        click.echo(f"  hours/language filter: {_count(lost['sites_lost'])} sites ({_count(lost['workers_lost'])} workers) lose coverage.")
    if "recommendations.csv" in files:
        rec = pd.read_csv(files["recommendations.csv"])
        for r in rec.itertuples():
            click.echo(f"  recommended #{r.rank}: {r.name} — {_count(r.workers_newly_covered)} workers, {_people(r.people_newly_covered)} people newly covered")
    shortfall = result.recommendations.shortfall if result.recommendations is not None else None
    if shortfall:  # fewer sites than --recommend asked for: say why, on the console as in summary.json
        click.secho(f"note: --recommend {recommend} gave {len(result.recommendations.recommendations)}: {shortfall}",
                    fg="yellow", bold=True, err=True)
    for line in (result.filter_effect or {}).get("warnings", []):  # --when / --language with no data behind them
        click.secho(line, fg="yellow", bold=True, err=True)
    rej = len(result.rejects)
    _warn_internal(settings)
    click.echo(f"Wrote {len(files)} files to {files['map.html'].parent} in {time.perf_counter() - t0:.1f} s"
               + (f" ({rej:,} input rows rejected or filtered: see rejects.csv)." if rej else "."))


def _warn_internal(settings) -> None:
    """The loud line of docs/privacy.md: internal outputs locate worker sites."""
    if settings.privacy == "internal":
        click.secho("WARNING: --privacy internal: these outputs name employers and locate worker sites "
                    "(sites.csv, map points, exact small counts). Do not publish or share them; see docs/privacy.md.",
                    fg="red", bold=True, err=True)


def _count(v) -> str:
    """A count for the console; blank (suppressed in public mode) prints as a dash."""
    return "–" if _missing(v) else f"{int(round(float(v))):,}"


def _analyze_batch(regions, out_dir, settings, data_dir, network, scheduler, workers, say, t0, **shared) -> None:
    """The batch branch of ``analyze``: run the regions, print one line each, exit 1 if any failed."""
    import pandas as pd

    from gapmap.batch import run_batch

    res = run_batch(regions, out_dir or "outputs", settings=settings, data_dir=data_dir, network=network,
                    scheduler=scheduler, workers=workers, progress=say, **shared)
    head = f"beyond {settings.headline_threshold:g} min of a {settings.headline_category.replace('_', ' ')}"
    for row in res.comparison.to_dict("records"):
        if row["status"] != "ok":
            click.echo(f"{row['slug']:<18} {row['status']}: {row['reason']}")
        elif pd.isna(row["workers_beyond_share"]):
            k = settings.k_anonymity
            why = (f"suppressed: fewer than {k} sites" if row["suppressed"] else "no LMIA workers"
                   if pd.isna(row["workers"]) or not row["workers"] else f"suppressed: fewer than {k} sites or workers beyond, or protecting a cell that is")
            click.echo(f"{row['slug']:<18} ok: workers {head}: - ({why}) [{row['method']}]")
        else:
            click.echo(f"{row['slug']:<18} ok: {int(row['workers_beyond']):,} of {int(row['workers']):,} workers "
                       f"({row['workers_beyond_share']:.1%}) {head} [{row['method']}]")
    n = res.status_counts()
    out = res.files["comparison.csv"].parent
    _warn_internal(settings)
    click.echo(f"Wrote {n['ok']} region folders, comparison.csv and comparison.html to {out} in {time.perf_counter() - t0:.1f} s "
               f"({n['skipped']} skipped, {n['failed']} failed).")
    if n["failed"]:
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--region", default="chatham-kent", show_default=True, help="Region the files must fall in.")
@click.option("--kind", type=click.Choice(["auto", "services", "sites", "population", "boundary"]), default="auto",
              show_default=True, help="What each file is; auto guesses from its columns.")
@click.option("--crs", help="CRS of x/y columns in CSVs, e.g. EPSG:26917.")
@click.option("--data-dir", type=click.Path(), help="Data mirror root.")
@_user_errors
def validate(files, region, kind, crs, data_dir):
    """Check input FILES without analysing: what would be used and rejected, and why."""
    from gapmap.sources.validate import validate_file

    worst = 0
    for path in files:
        try:
            report = validate_file(path, region=region, kind=kind, crs=crs, data_dir=data_dir)
        except GapmapError as exc:
            click.echo(f"{path}: REJECTED FILE: {exc}")
            worst = max(worst, exc.exit_code)
            continue
        click.echo(f"{path}: {report.kind}, {report.rows_read} rows read, {report.rows_used} would be used, "
                   f"{report.rows_rejected} rejected")
        for reason, n in report.reasons.items():
            click.echo(f"  {n:>5} x {reason}")
        for note in report.notes:
            click.echo(f"  note: {note}")
        for row in report.rejects.head(20).itertuples():
            click.echo(f"  row {row.row}: {row.reason}")
        if len(report.rejects) > 20:
            click.echo(f"  ... {len(report.rejects) - 20} more rejected rows")
    sys.exit(worst)


@main.command()
@click.option("--data-dir", type=click.Path(), help="Data mirror root.")
@_user_errors
def regions(data_dir):
    """List the LIP regions: the 38 of the 2012-13 annex and later ones, with lead, boundary and sub-area sources,
    and which layers exist offline."""
    cols = ["boundary", "services", "sites", "population", "transit"]
    rows = sorted(REGIONS.values(), key=lambda r: (r.annex_no is None, r.province != "ON", r.slug))
    click.echo("slug | name | lead | in 2012-13 list | boundary source | sub-areas (count) | offline layers")
    for r in rows:
        avail = offline_layers(r, data_dir)
        have = ",".join(c for c in cols if avail[c]) or "none"
        n = sub_area_count(r, data_dir)
        count = f"{n}" if n is not None else "-"
        click.echo(f"{r.slug} | {r.name} | {r.lead} | {'yes' if r.in_annex else 'no (formed later)'} | {r.boundary_how} | "
                   f"{r.sub_areas_how} ({count}) | {have}")
    n_annex = sum(r.in_annex for r in rows)
    click.echo(f"{len(rows)} regions: {n_annex} of the 2012-13 annex, {len(rows) - n_annex} formed later. "
               "Notes: gapmap.REGIONS[slug].note.")


@main.command()
@click.option("--data-dir", type=click.Path(), help="Data mirror root.")
@_user_errors
def datasets(data_dir):
    """List the data catalog: dataset id, present in the mirror or not, publisher and licence."""
    from gapmap.sources import catalog

    root = catalog.find_mirror(data_dir)
    click.echo(f"mirror: {root if root else 'not found (set GAPMAP_DATA or --data-dir)'}")
    for d in catalog.DATASETS.values():
        mark = "ok " if catalog.available(d.id, data_dir) else "-- "
        click.echo(f"{mark}{d.id:<24} {d.path:<66} {d.publisher}; {d.licence}")


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command()
@click.option("--region", required=True, help="Region slug, e.g. chatham-kent.")
@click.option("--param", "parameter", required=True,
              help="Numeric setting to sweep: circuity, speeds_kmh.drive, headline_threshold, ...")
@click.option("--values", required=True, help="Comma-separated values, e.g. 1.2,1.3,1.4,1.5.")
@click.option("--out", "out_dir", type=click.Path(), help="Folder for each run, sensitivity.csv and sensitivity.png.")
@click.option("--config", "config_file", type=click.Path(), help="TOML file of the other settings.")
@click.option("--network", "network_spec", default="straight", show_default=True, help="As for analyze.")
@click.option("--privacy", type=click.Choice(["public", "internal"]), help="Privacy level [default: public].")
@click.option("--data-dir", type=click.Path(), help="Data mirror root.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@_user_errors
def sensitivity(region, parameter, values, out_dir, config_file, network_spec, privacy, data_dir, quiet):
    """Sweep one setting and print how the headline (with its range) moves."""
    from gapmap.analysis.sensitivity import sweep

    try:
        vals = [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise GapmapError(f"--values {values!r} must be comma-separated numbers, e.g. 1.2,1.3,1.4.") from None
    settings = load_settings(config_file, privacy=privacy)
    say = (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))
    table = sweep(region, parameter, vals, settings=settings, out_dir=out_dir, network=network_spec, data_dir=data_dir,
                  progress=say)
    s = settings
    click.echo(f"{get_region(region).name}: workers beyond {s.headline_threshold:g} min of a "
               f"{s.headline_category.replace('_', ' ')}, by {parameter}:")
    fmt = lambda v: "suppressed" if _missing(v) else f"{v:,.0f}"  # noqa: E731
    for r in table.itertuples():
        click.echo(f"  {parameter} = {r.value:<8g} {fmt(r.workers_not):>10} (between {fmt(r.workers_not_lower)} and "
                   f"{fmt(r.workers_not_upper)}); people {fmt(r.pop_not)}")
    if out_dir:
        click.echo(f"Wrote sensitivity.csv, sensitivity.png and one folder per value to {out_dir}.")
