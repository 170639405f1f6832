"""Many regions in one run: per-region outputs, a province-wide comparison, and scale-out on Dask.

:func:`run_batch` runs :func:`gapmap.pipeline.analyze` for each region with the data it has offline
and writes, under ``out_dir``:

- ``<slug>/``: the usual per-region output contract (:func:`gapmap.output.files.write_outputs`);
- ``comparison.csv``: one row per region: status (ok / skipped / failed and why), method,
  sites, workers, people, the headline gap and the covered shares per category x threshold,
  all taken from the region's own ``summary.json``;
- ``comparison.html``: a map with each region shaded by its headline gap (share of workers
  beyond 30 min of a hospital by default), each linking to ``<slug>/map.html``, and the table.

The unit of work is one region (:func:`run_region`). It runs in this process
(``scheduler="serial"``), on a ``dask.distributed`` LocalCluster (``"local"``) or on any Dask
cluster (``"tcp://host:8786"`` or a :class:`distributed.Client`).

Where the files are written: a task on the client's machine (serial, or a worker of a
LocalCluster) writes ``<out_dir>/<slug>/`` itself with the ordinary
:func:`~gapmap.output.files.write_outputs` and returns only the parsed summary, so two workers
write in parallel and nothing is copied. A task on a cluster given by address may run where
``out_dir`` does not exist: it writes into a private temporary folder, reads the files back and
returns ``{file name: bytes}``, which the client writes under ``out_dir`` (no shared output disk
needed; the cost is shipping each region's files, a few MB, mostly ``rejects.csv``). Both ways go
through ``write_outputs``, so they give the same bytes (the outputs are deterministic and hold no
output path, timestamp or temporary folder name).

Why one task per region and not per shortest-path category: with the default straight-line
method a region takes seconds and there is no graph search at all; with a road network the
search is one multi-source Dijkstra per category (two by default) inside
:func:`gapmap.pipeline.analyze`, so splitting it would at most halve one region's time while the
35 regions already keep every worker busy. See ``docs/cluster.md`` for what to split for an
Ontario-wide network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from gapmap import __version__
from gapmap.errors import GapmapError, InputError
from gapmap.output.comparison import comparison_html
from gapmap.settings import Settings, load_settings
from gapmap.sources.regions import REGIONS, Region, get_region, offline_layers

Progress = Callable[[str], None]

# Every file name write_outputs can produce: stale ones from an earlier run of a region are
# removed when the new run did not write them (as write_outputs does for rejects.csv).
OUTPUT_NAMES = ("map.html", "layers.gpkg", "project.qgz", "sites.csv", "areas.csv", "report.html", "summary.json", "rejects.csv",
                "hexes.csv", "recommendations.csv", "whatif.csv")

# Analysis options that name one region's own files: not meaningful for a batch.
_PER_REGION_OPTIONS = {"boundary_file": "--boundary", "areas_file": "--areas", "sites_file": "--sites",
                       "population_file": "--population", "gtfs": "--gtfs"}

# Boundaries on the comparison map are simplified this much (metres, in the region's UTM CRS):
# the map compares regions, a 1 km wobble in an edge is invisible at province scale.
SIMPLIFY_M = 1000.0

# GDAL configuration is process-wide and write_outputs sets then clears OGR_CURRENT_DATE around
# the GeoPackage write: two threads of one worker writing at once could stamp a real date.
_WRITE_LOCK = threading.Lock()

_PROGRESS_TOPIC = "gapmap-batch-progress"


@dataclasses.dataclass
class RegionOutcome:
    """What one region's task returns (picklable; shipped from a Dask worker to the client).

    Attributes
    ----------
    slug, name, province : str
        The region.
    status : str
        ``ok``, ``skipped`` (data missing offline) or ``failed`` (the analysis raised).
    reason : str
        One line: why skipped or failed; empty when ok.
    method : str
        Travel-time method label (e.g. ``straight-line approximation (drive 60 km/h, circuity 1.3)``).
    summary : dict or None
        The region's ``summary.json``, parsed.
    files : dict of str -> bytes
        Output file name -> content; emptied once the client has written them.
    boundary : shapely geometry or None
        The region outline in EPSG:4326, simplified by :data:`SIMPLIFY_M`, for the comparison map.
    elapsed_s : float
        Wall time of the task on its worker (progress only; never written to a file).
    postal_area_share : float or None
        Share of the region's workers at sites placed only at a postal-area (FSA) centroid, as
        published (:func:`public_postal_area_share`); None when blanked or without workers.
    version : str
        gapmap version that ran the task.
    written : tuple of str
        Names of the files the task wrote itself into ``<out_dir>/<slug>/`` (a task on the
        client's machine, see :func:`run_region`); ``files`` is then empty.
    """

    slug: str
    name: str
    province: str
    status: str
    reason: str = ""
    method: str = ""
    summary: dict | None = None
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    boundary: Any = None
    elapsed_s: float = 0.0
    postal_area_share: float | None = None
    version: str = __version__
    written: tuple[str, ...] = ()


@dataclasses.dataclass
class BatchResult:
    """Outcome of :func:`run_batch`.

    Attributes
    ----------
    outcomes : list of RegionOutcome
        In the order the regions were asked for (file contents already written and dropped).
    comparison : DataFrame
        The ``comparison.csv`` table.
    files : dict of str -> Path
        ``comparison.csv`` and ``comparison.html``.
    region_files : dict of str -> dict of str -> Path
        Per region slug, the files written under ``out_dir/<slug>/``.
    elapsed_s : float
        Wall time of the whole batch.
    """

    outcomes: list[RegionOutcome]
    comparison: pd.DataFrame
    files: dict[str, Path]
    region_files: dict[str, dict[str, Path]]
    elapsed_s: float

    def status_counts(self) -> dict[str, int]:
        """Number of regions per status."""
        return {s: sum(o.status == s for o in self.outcomes) for s in ("ok", "skipped", "failed")}


def all_regions() -> list[str]:
    """Every region slug, in the order of ``gapmap regions`` (Ontario first, then by slug)."""
    return [r.slug for r in sorted(REGIONS.values(), key=lambda r: (r.province != "ON", r.slug))]


def missing_offline(region: Region, data_dir=None) -> str | None:
    """One-line reason the region cannot be analysed from the mirror, or None when it can.

    Sites may be missing outside Ontario (the analysis then runs with an empty sites layer and
    says so); boundary, services and population are required.
    """
    have = offline_layers(region, data_dir)
    if not have["boundary"]:
        why = region.note or region.boundary_how
        return f"no offline boundary ({why})" + ("" if "--boundary" in why else "; run it alone with --boundary FILE")
    need = ["services", "population"] + (["sites"] if region.province == "ON" else [])
    missing = [k for k in need if not have[k]]
    if missing:
        why = f" ({region.province} is not in the DA population file)" if missing == ["population"] else ""
        return f"no offline {', '.join(missing)} data for it in the mirror{why}"
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _notify(topic: str | None, msg: str) -> None:
    """Tell the client a task started (Dask only; best effort, progress is not worth a failure)."""
    if topic is None:
        return
    try:
        from distributed import get_worker

        get_worker().log_event(topic, msg)
    except Exception:  # noqa: BLE001 - not on a worker, or an older distributed
        pass


@contextlib.contextmanager
def _category_client(network: Any):
    """Inside a Dask worker and with a road network: a client for per-category shortest-path tasks.

    A region's task then fans its network searches out over the cluster (``worker_client``
    secedes from the worker's thread pool while it waits, so this cannot deadlock); elsewhere
    (serial runs, the straight-line method) there is nothing to split and None is yielded.
    """
    if network is None or (isinstance(network, str) and network == "straight"):
        yield None
        return
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):
        yield None
        return
    with worker_client() as client:
        yield client


def run_region(slug: str, *, settings: Settings | None = None, data_dir: str | os.PathLike | None = None,
               network: Any = "straight", analyze_kwargs: dict | None = None,
               notify_topic: str | None = None, out_dir: str | os.PathLike | None = None) -> RegionOutcome:
    """Analyse one region and return its output files as bytes: the task of a batch.

    Runs where it is scheduled (this process or a Dask worker): the availability check uses
    that machine's mirror, and the outputs are written to a private temporary folder, read back
    and returned, so no output folder has to be shared.

    Parameters
    ----------
    slug : str
        Region slug.
    settings : Settings, optional
        Analysis settings (validated by the caller).
    data_dir : path, optional
        Mirror root on the machine running the task; default ``GAPMAP_DATA`` or ``../shared/data``.
    network : str, path or RoadNetwork
        As for :func:`gapmap.pipeline.analyze`; batches default to ``"straight"``.
    analyze_kwargs : dict, optional
        Further :func:`gapmap.pipeline.analyze` keywords shared by every region (``services_file``,
        ``when``, ``language``, ``hours_file``, ``assume_hours``).
    notify_topic : str, optional
        Dask event topic on which the start of the task is announced.
    out_dir : path, optional
        The batch's output root, when this task runs on the client's machine (serial, or a
        LocalCluster): the task then writes ``<out_dir>/<slug>/`` itself, with
        :func:`~gapmap.output.files.write_outputs` (staged, so a failure leaves the previous
        files), and returns only the summary: no temporary copy, no bytes shipped back.

    Returns
    -------
    RegionOutcome
        ``failed`` carries the one-line message of a :class:`GapmapError` (or the type and
        message of an unexpected error: one region's bug must not lose the others' work).
    """
    from gapmap import pipeline
    from gapmap.output.files import write_outputs

    t0 = time.perf_counter()
    region = get_region(slug)
    base = dict(slug=region.slug, name=region.name, province=region.province)
    reason = missing_offline(region, data_dir)
    if reason is not None:
        return RegionOutcome(**base, status="skipped", reason=reason)
    _notify(notify_topic, region.slug)
    try:
        with _category_client(network) as client:
            result = pipeline.analyze(region, settings=settings, data_dir=data_dir, network=network, client=client,
                                 **(analyze_kwargs or {}))
        if out_dir is not None:
            with _WRITE_LOCK:
                written = write_outputs(result, Path(out_dir) / region.slug)
            files = {}
            summary = json.loads(written["summary.json"].read_bytes())
        else:
            with tempfile.TemporaryDirectory(prefix="gapmap-batch-") as tmp, _WRITE_LOCK:
                written = write_outputs(result, Path(tmp))
                files = {name: path.read_bytes() for name, path in sorted(written.items())}
            summary = json.loads(files["summary.json"])
    except GapmapError as exc:
        return RegionOutcome(**base, status="failed", reason=_one_line(exc), elapsed_s=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - reported per region; GAPMAP_DEBUG shows the traceback
        if os.environ.get("GAPMAP_DEBUG"):
            import traceback

            traceback.print_exc()
        return RegionOutcome(**base, status="failed", reason=_one_line(f"internal error: {type(exc).__name__}: {exc}"),
                             elapsed_s=time.perf_counter() - t0)
    outline = result.layers["boundary"].gdf.geometry.simplify(SIMPLIFY_M, preserve_topology=True).to_crs("EPSG:4326")
    if "areas.csv" in files:
        public_areas = pd.read_csv(io.BytesIO(files["areas.csv"]), dtype={"area_id": str})
    elif out_dir is not None and "areas.csv" in written:
        public_areas = pd.read_csv(written["areas.csv"], dtype={"area_id": str})
    else:
        public_areas = None
    share = public_postal_area_share(result.sites, public_areas, result.settings)
    return RegionOutcome(**base, status="ok", method=result.method, summary=summary, files=files,
                         boundary=outline.iloc[0], elapsed_s=time.perf_counter() - t0, postal_area_share=share,
                         written=tuple(sorted(written)) if out_dir is not None else ())


def public_postal_area_share(sites: pd.DataFrame, public_areas: pd.DataFrame | None, settings: Settings) -> float | None:
    """Share of workers at sites placed only at a postal-area (FSA) centroid, or None when not publishable.

    In public mode the share (with the region's published worker total, it gives the count) is
    checked by :func:`gapmap.analysis.privacy.protect` together with what the region's own
    outputs already publish, so that nothing blank comes back by subtraction:

    - the region and each area of ``areas.csv`` (areas blank there are suppressed up front);
    - the postal-area sites and, when small, all other sites (the total minus the share's count);
    - per category x threshold, the postal-area sites beyond (``*_workers_not_postal_area`` of the
      region row, suppressed up front when blank) and, when small, those within (the share's
      count minus them).

    Figures only a subtraction gives are cells only when small: they must then stay hidden and
    not computable. The share is published only when the pass hides no published figure beyond
    what is already blank.

    Parameters
    ----------
    sites : DataFrame
        The run's sites (``workers``, ``geocode_precision``, ``area_id``, ``<cat>_within_<T>min``).
    public_areas : DataFrame or None
        The region's ``areas.csv`` as written (public copy in public mode; last row the region).
    settings : Settings
        ``privacy`` and ``k_anonymity``.
    """
    from gapmap.analysis import privacy
    from gapmap.sources.geocode import POSTAL_AREA

    if not len(sites) or "geocode_precision" not in sites:
        return None
    workers = sites["workers"].fillna(0).to_numpy(dtype=float)
    if not workers.sum():
        return None
    coarse = sites["geocode_precision"].eq(POSTAL_AREA).to_numpy()
    share = round(float(workers[coarse].sum() / workers.sum()), 4)
    if settings.privacy != "public":
        return share
    flags = sorted(c for c in sites.columns if "_within_" in c)
    area = sites["area_id"].astype(str).to_numpy() if "area_id" in sites else np.full(len(sites), "")
    # Pieces: the sites split by everything a published cell can select (area, precision, each flag).
    key = pd.DataFrame({"area": area, "coarse": coarse, **{f: sites[f].astype(bool).to_numpy() for f in flags}})
    piece_keys, piece_of = privacy.site_pieces(key)
    values = privacy.piece_sums(piece_of, len(piece_keys), workers)
    pk = pd.DataFrame(piece_keys, columns=key.columns)
    cells = {privacy.REGION: np.ones(len(pk), dtype=bool), "postal_area": pk["coarse"].to_numpy(dtype=bool)}
    primary, unpublished = [], set()

    def derived(name: str, mask: np.ndarray) -> None:
        # A figure nobody publishes but a reader gets by subtraction once the share is out: it only
        # matters when small, and is then a cell that must stay hidden and not computable.
        if privacy.is_small(*values[mask].sum(axis=0), settings.k_anonymity):
            cells[name] = mask
            unpublished.add(name)

    derived("other_precision", ~cells["postal_area"])
    rows = public_areas.set_index("area_id") if public_areas is not None else pd.DataFrame()
    areas = sorted(set(area))
    for a in areas:
        cells[f"area:{a}"] = (pk["area"] == a).to_numpy()
        if a not in rows.index or pd.isna(rows.loc[a, "workers"]):
            primary.append(f"area:{a}")
    groups = [(privacy.REGION, [f"area:{a}" for a in areas])]
    # An additive relation only counts when every part of it is a cell a reader can get.
    if "other_precision" in cells:
        groups.append((privacy.REGION, ["postal_area", "other_precision"]))
    region_row = rows.loc[privacy.REGION] if privacy.REGION in rows.index else pd.Series(dtype=object)
    if pd.isna(region_row.get("workers")):
        primary.append(privacy.REGION)
    for f in flags:
        beyond, within = f"{f}:postal_beyond", f"{f}:postal_within"
        cells[beyond] = cells["postal_area"] & ~pk[f].to_numpy(dtype=bool)
        derived(within, cells["postal_area"] & pk[f].to_numpy(dtype=bool))
        if within in cells:
            groups.append(("postal_area", [beyond, within]))
        published = f"{f.replace('_within_', '_')}_workers_not_postal_area"
        if pd.isna(region_row.get(published)):
            primary.append(beyond)
    hidden = privacy.protect(values, cells, groups, settings.k_anonymity, primary=primary)
    # Published only when the pass hides no figure that is out (or would be: the share itself).
    return None if hidden - set(primary) - unpublished or "postal_area" in hidden else share


# --------------------------------------------------------------------------- schedulers


def _parse_scheduler(scheduler: Any) -> str:
    if not isinstance(scheduler, str):
        return "client"
    if scheduler in ("serial", "local"):
        return scheduler
    if "://" in scheduler or (":" in scheduler and scheduler.rsplit(":", 1)[1].isdigit()):
        return "address"
    raise InputError(f"--scheduler {scheduler!r} is not serial, local or a scheduler address such as tcp://host:8786.")


def _dask_client(kind: str, scheduler: Any, workers: int):
    """(client, owned): a client for the scheduler; ``owned`` ones are closed (with their cluster) after the batch."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler local or ADDRESS needs dask.distributed; pip install \"dask[distributed]\" "
                         "or use --scheduler serial.") from None
    if kind == "client":
        return scheduler, False
    if kind == "local":
        if workers < 1:
            raise InputError(f"--workers {workers} must be at least 1.")
        # One thread per worker process: the analysis is GIL-bound pandas/shapely work and GDAL's
        # configuration is process-wide; processes give real parallelism.
        import dask

        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also switches off glibc's
        # adaptive mmap threshold: every array over 128 KiB is then mapped and zeroed afresh. A
        # region's many short-lived arrays made each task ~1.2x slower than in this process
        # (36 regions, 2 workers: summed task time 105.7 s -> 87.7 s without it; benchmarks/README.md).
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        return Client(cluster), True
    try:
        return Client(scheduler, timeout="20s"), True
    except (OSError, TimeoutError) as exc:
        raise GapmapError(f"Cannot reach the Dask scheduler at {scheduler} ({_one_line(exc)}); start `dask scheduler` "
                          "there or use --scheduler local.") from None


@contextlib.contextmanager
def dask_client(scheduler: Any, workers: int = 2):
    """A Dask client for ``scheduler`` (``local``, an address, or a Client), or None for ``serial``;
    clients and LocalClusters made here are closed on exit."""
    kind = _parse_scheduler(scheduler)
    if kind == "serial":
        yield None
        return
    client, owned = _dask_client(kind, scheduler, workers)
    try:
        yield client
    finally:
        if owned:
            cluster = client.cluster if kind == "local" else None
            client.close()
            if cluster is not None:
                cluster.close()


def _same_machine(client) -> bool:
    """True when every worker of ``client`` is a process of a LocalCluster of this machine.

    Their tasks can then write the region folders themselves (:func:`run_region` ``out_dir``):
    two workers otherwise ship ~180 MB of files to the client, which writes them alone.
    """
    try:
        from distributed import LocalCluster
    except ImportError:  # pragma: no cover - a client needs distributed
        return False
    return isinstance(getattr(client, "cluster", None), LocalCluster)


def _run_serial(slugs: Sequence[str], task_kwargs: dict, on_start: Progress, on_done: Callable[[RegionOutcome], None]) -> None:
    for slug in slugs:
        if missing_offline(get_region(slug), task_kwargs.get("data_dir")) is None:
            on_start(slug)
        on_done(run_region(slug, **task_kwargs))


def _run_dask(client, slugs: Sequence[str], task_kwargs: dict, on_start: Progress,
              on_done: Callable[[RegionOutcome], None]) -> None:
    from distributed import as_completed

    topic = f"{_PROGRESS_TOPIC}-{os.getpid()}-{id(task_kwargs)}"
    try:
        client.subscribe_topic(topic, lambda event: on_start(str(event[1])))
    except Exception:  # noqa: BLE001 - progress is best effort
        topic = None
    futures = {}
    for i, slug in enumerate(slugs):
        # Earlier regions first (priority), one attempt each (a region that kills its worker is reported failed).
        fut = client.submit(run_region, slug, **task_kwargs, notify_topic=topic, pure=False, priority=len(slugs) - i,
                            retries=0, key=f"gapmap-region-{slug}-{os.getpid()}-{time.monotonic_ns()}")
        futures[fut] = slug
    try:
        for fut in as_completed(list(futures)):
            slug = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - worker lost, unpicklable result...: this region failed
                region = get_region(slug)
                outcome = RegionOutcome(region.slug, region.name, region.province, "failed",
                                        _one_line(f"task error: {type(exc).__name__}: {exc}"))
            fut.release()
            on_done(outcome)
    finally:
        if topic is not None:
            try:
                client.unsubscribe_topic(topic)
            except Exception:  # noqa: BLE001
                pass


# --------------------------------------------------------------------------- writing


def write_region(out: Path, files: dict[str, bytes]) -> dict[str, Path]:
    """Write one region's files into ``out`` and remove output files of an earlier run not written now."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in files.items():
        paths[name] = out / name
        paths[name].write_bytes(data)
    for name in OUTPUT_NAMES:
        if name not in files and (out / name).exists():
            (out / name).unlink()
    return paths


def run_batch(
    regions: Iterable[str | Region] | None = None,
    out_dir: str | os.PathLike = "outputs",
    *,
    settings: Settings | None = None,
    data_dir: str | os.PathLike | None = None,
    network: Any = "straight",
    scheduler: Any = "serial",
    workers: int = 2,
    progress: Progress | None = None,
    **analyze_kwargs: Any,
) -> BatchResult:
    """Analyse many regions and write their outputs and the comparison.

    Parameters
    ----------
    regions : iterable of str or Region, optional
        Region slugs (duplicates dropped, order kept); default every region (:func:`all_regions`).
    out_dir : path
        Root folder: ``<slug>/`` per region, ``comparison.csv`` and ``comparison.html``.
    settings : Settings, optional
        Shared by every region; default :func:`gapmap.settings.load_settings`.
    data_dir : path, optional
        Mirror root as seen by whoever runs the tasks (every Dask worker); default
        ``GAPMAP_DATA`` or ``../shared/data`` on each of them.
    network : str, path or RoadNetwork
        ``"straight"`` by default: ``"auto"`` would try an OSM download per region.
    scheduler : str or distributed.Client
        ``"serial"`` (this process), ``"local"`` (a LocalCluster of ``workers`` processes,
        one thread each), a scheduler address (``"tcp://host:8786"``) or a connected Client.
    workers : int
        LocalCluster size.
    progress : callable, optional
        Called with one line when a region starts and when it ends (with its seconds).
    **analyze_kwargs
        Shared :func:`gapmap.pipeline.analyze` options: ``services_file``, ``when``, ``language``,
        ``hours_file``, ``assume_hours``. Per-region files (boundary, sites, population, GTFS)
        are refused.

    Returns
    -------
    BatchResult
    """
    t0 = time.perf_counter()
    for key, option in _PER_REGION_OPTIONS.items():
        if analyze_kwargs.get(key) is not None:
            raise InputError(f"{option} names one region's file; run that region alone, not in a batch of several.")
    unknown = sorted(set(analyze_kwargs) - {"services_file", "postal_points_file", "when", "language", "hours_file", "assume_hours"} - set(_PER_REGION_OPTIONS))
    if unknown:
        raise InputError(f"run_batch got unknown option(s) {', '.join(unknown)}; see gapmap.batch.run_batch.")
    analyze_kwargs = {k: v for k, v in analyze_kwargs.items() if v is not None}
    asked = all_regions() if regions is None else regions
    slugs = list(dict.fromkeys((r.slug if isinstance(r, Region) else get_region(r).slug) for r in asked))
    if not slugs:
        raise InputError("No regions to run; give region slugs or none for all of them.")
    settings = (settings or load_settings()).validate()
    kind = _parse_scheduler(scheduler)
    out = Path(out_dir)
    say = progress or (lambda msg: None)
    width = len(str(len(slugs)))
    done: dict[str, RegionOutcome] = {}
    region_files: dict[str, dict[str, Path]] = {}

    def on_start(slug: str) -> None:
        say(f"[{'-':>{width}}/{len(slugs)}] {slug}: started")

    def on_done(outcome: RegionOutcome) -> None:
        if outcome.status == "ok" and outcome.written:
            region_files[outcome.slug] = {name: out / outcome.slug / name for name in outcome.written}
        elif outcome.status == "ok":
            region_files[outcome.slug] = write_region(out / outcome.slug, outcome.files)
            outcome.files = {}  # written: do not hold 35 regions' bytes in memory
        if outcome.version != __version__:
            say(f"warning: {outcome.slug} ran on gapmap {outcome.version}, this client is {__version__}")
        done[outcome.slug] = outcome
        tail = {"ok": f"ok in {outcome.elapsed_s:.1f} s",
                "skipped": f"skipped: {outcome.reason}",
                "failed": f"failed in {outcome.elapsed_s:.1f} s: {outcome.reason}"}[outcome.status]
        say(f"[{len(done):>{width}}/{len(slugs)}] {outcome.slug}: {tail}")

    task_kwargs = dict(settings=settings, data_dir=data_dir, network=network, analyze_kwargs=analyze_kwargs)
    out.mkdir(parents=True, exist_ok=True)
    if kind == "serial":
        _run_serial(slugs, {**task_kwargs, "out_dir": str(out.absolute())}, on_start, on_done)
    else:
        with dask_client(scheduler, workers) as client:
            if _same_machine(client):
                task_kwargs["out_dir"] = str(out.absolute())
            _run_dask(client, slugs, task_kwargs, on_start, on_done)

    outcomes = [done[s] for s in slugs]  # request order, whatever order the tasks finished in
    table = comparison_table(outcomes, settings)
    files = {"comparison.csv": out / "comparison.csv", "comparison.html": out / "comparison.html"}
    table.to_csv(files["comparison.csv"], index=False, lineterminator="\n")
    files["comparison.html"].write_text(comparison_html(outcomes, table, settings), encoding="utf-8")
    return BatchResult(outcomes, table, files, region_files, time.perf_counter() - t0)


# --------------------------------------------------------------------------- comparison


def _key(cat: str, t: float) -> str:
    return f"{cat}_{t:g}min"


def comparison_table(outcomes: Sequence[RegionOutcome], settings: Settings) -> pd.DataFrame:
    """One row per region, numbers from each region's ``summary.json`` (``coverage`` section).

    Columns: ``slug, name, province, status, reason, method, sites, workers, population,
    headline, workers_beyond, workers_beyond_share, suppressed, workers_postal_area_share`` (the
    share of workers at sites placed only at a postal-area centroid) and per category x threshold
    ``<cat>_<T>min_workers_covered``, ``..._workers_covered_share``,
    ``..._population_covered_share``. ``workers_beyond`` is for the headline category and
    threshold (default hospital, 30 min). In public mode, worker and site figures are blanked
    as in ``areas.csv``: the whole row when the region has fewer than k sites, and any count
    between 1 and k-1 (with its share).
    """
    head_cat, head_t = settings.headline_category, settings.headline_threshold
    cats = list(settings.categories)
    for o in outcomes:
        for c in (o.summary or {}).get("coverage", []):
            if c["category"] not in cats:
                cats.append(c["category"])
    keys = [(c, t) for c in cats for t in sorted(settings.thresholds_min)]
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {"slug": o.slug, "name": o.name, "province": o.province, "status": o.status,
                               "reason": o.reason, "method": o.method or "not run"}
        rows_in = (o.summary or {}).get("coverage", [])
        privacy_mode = ((o.summary or {}).get("privacy") or {}).get("mode", settings.privacy)
        if privacy_mode == "public":
            from gapmap.analysis.privacy import suppress_coverage

            rows_in = suppress_coverage(rows_in, settings.k_anonymity)  # already public in the summary; idempotent
        cov = {(c["category"], float(c["threshold_min"])): c for c in rows_in}
        first = next(iter(cov.values()), None)
        row["sites"] = first["sites"] if first else None
        row["workers"] = first["workers"] if first else None
        row["population"] = first["population"] if first else None
        row["headline"] = f"{head_cat} {head_t:g} min"
        h = cov.get((head_cat, float(head_t)))
        row["workers_beyond"] = (h["workers"] - h["workers_covered"]
                                 if h and h["workers"] is not None and h["workers_covered"] is not None else None)
        row["workers_beyond_share"] = round(1.0 - h["workers_covered_share"], 4) if h and h["workers_covered_share"] is not None else None
        # The region's own figures blank in a public summary: the whole row is suppressed.
        row["suppressed"] = bool(first is not None and first["sites"] is None)
        # Checked against the region's published figures in its own task (public_postal_area_share).
        row["workers_postal_area_share"] = None if row["suppressed"] else o.postal_area_share
        for cat, t in keys:
            c = cov.get((cat, float(t)))
            pre = _key(cat, t)
            row[f"{pre}_workers_covered"] = c["workers_covered"] if c else None
            row[f"{pre}_workers_covered_share"] = c["workers_covered_share"] if c else None
            row[f"{pre}_population_covered_share"] = c["population_covered_share"] if c else None
        if o.status == "ok" and privacy_mode == "public":
            _follow_blanks(row, keys)
        rows.append(row)
    table = pd.DataFrame(rows)
    counts = ["sites", "workers", "population", "workers_beyond", *[f"{_key(c, t)}_workers_covered" for c, t in keys]]
    for col in counts:
        table[col] = table[col].astype("Float64").round().astype("Int64")
    for col in [c for c in table.columns if c.endswith("_share")]:
        table[col] = table[col].astype(float)
    return table


def _follow_blanks(row: dict, keys: list[tuple[str, float]]) -> None:
    """Blank each share whose count :func:`gapmap.analysis.privacy.suppress_coverage` blanked."""
    if row["workers_beyond"] is None:
        row["workers_beyond_share"] = None
    for c, t in keys:
        if row[f"{_key(c, t)}_workers_covered"] is None:
            row[f"{_key(c, t)}_workers_covered_share"] = None
