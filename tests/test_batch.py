"""Batch runs (gapmap.batch, `gapmap analyze --all / --region a --region b`): outputs, comparison, Dask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gapmap import batch
from gapmap.errors import GapmapError
from gapmap.cli import main
from gapmap.settings import load_settings

# Three small, fast regions: a ward-file region, a census division with a GTFS feed and fewer
# than 5 LMIA sites (suppressed in public mode), and a plain census division; plus one region
# with no offline boundary.
REGIONS = ["chatham-kent", "kingston", "elgin-st-thomas", "toronto-north"]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def serial_run(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-serial")
    lines: list[str] = []
    res = batch.run_batch(REGIONS, out, scheduler="serial", progress=lines.append)
    return res, out, lines


def test_serial_batch_writes_regions_and_comparison(serial_run):
    res, out, lines = serial_run
    assert [o.slug for o in res.outcomes] == REGIONS
    assert [o.status for o in res.outcomes] == ["ok", "ok", "ok", "skipped"]
    for slug in REGIONS[:3]:
        for name in ["map.html", "layers.gpkg", "areas.csv", "summary.json", "report.html"]:
            assert (out / slug / name).stat().st_size > 0, (slug, name)
        assert not (out / slug / "sites.csv").exists()  # per-employer table: internal mode only
    assert not (out / "toronto-north").exists()
    assert (out / "comparison.csv").exists() and (out / "comparison.html").exists()
    # One start and one finish line per analysed region, with seconds; one line for the skipped one.
    for slug in REGIONS[:3]:
        assert sum(f"{slug}: started" in ln for ln in lines) == 1
        assert sum(f"{slug}: ok in " in ln and ln.endswith(" s") for ln in lines) == 1
    assert sum("toronto-north: skipped: no offline boundary" in ln for ln in lines) == 1


def test_dask_local_cluster_gives_the_same_bytes(serial_run, tmp_path):
    pytest.importorskip("distributed")
    _, serial_out, _ = serial_run
    lines: list[str] = []
    res = batch.run_batch(REGIONS, tmp_path, scheduler="local", workers=2, progress=lines.append)
    assert [o.status for o in res.outcomes] == ["ok", "ok", "ok", "skipped"]
    a, b = _tree(serial_out), _tree(tmp_path)
    assert sorted(a) == sorted(b)
    assert len(a) >= 3 * 7 + 2
    for name in a:
        assert a[name] == b[name], name
    assert sum(": ok in " in ln for ln in lines) == 3


def _trim_threshold():
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_local_cluster_workers_keep_glibcs_adaptive_malloc(monkeypatch):
    """Dask's default MALLOC_TRIM_THRESHOLD_=65536 is not passed to gapmap's LocalCluster workers
    (it made each region's task ~1.2x slower); a value the user exported is still inherited."""
    pytest.importorskip("distributed")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with batch.dask_client("local", 1) as client:
        assert list(client.run(_trim_threshold).values()) == [None]
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    with batch.dask_client("local", 1) as client:
        assert list(client.run(_trim_threshold).values()) == ["131072"]


def test_same_bytes_as_a_single_region_run(serial_run, tmp_path):
    import gapmap

    _, out, _ = serial_run
    _, files = gapmap.run("elgin-st-thomas", out_dir=tmp_path, network="straight")
    for name, path in files.items():
        assert path.read_bytes() == (out / "elgin-st-thomas" / name).read_bytes(), name


def test_comparison_csv_matches_each_summary(serial_run):
    _, out, _ = serial_run
    table = pd.read_csv(out / "comparison.csv").set_index("slug")
    skipped = table.loc["toronto-north"]
    assert skipped["status"] == "skipped" and "no offline boundary" in skipped["reason"]
    assert skipped["method"] == "not run" and pd.isna(skipped["workers"])
    for slug in REGIONS[:3]:
        row = table.loc[slug]
        summ = json.loads((out / slug / "summary.json").read_text())
        assert row["status"] == "ok" and pd.isna(row["reason"])
        assert row["method"] == summ["method"]["travel_time"]
        assert "straight-line approximation" in row["method"]
        assert row["population"] == int(summ["layers"]["population"]["population"])
        cov = {(c["category"], c["threshold_min"]): c for c in summ["coverage"]}
        for (cat, t), c in cov.items():
            pre = f"{cat}_{t:g}min"
            assert row[f"{pre}_population_covered_share"] == c["population_covered_share"]
            if not row["suppressed"]:
                for key in ("workers_covered", "workers_covered_share"):  # blank (None) in both, or equal
                    got, want = row[f"{pre}_{key}"], c[key]
                    assert (pd.isna(got) and want is None) or got == want, (slug, pre, key)
        if row["suppressed"]:
            # Fewer than 5 sites: public mode blanks every worker figure, as areas.csv does for the region row.
            assert summ["layers"]["sites"]["features"] is None  # the public summary blanks it too
            assert all(c["workers"] is None for c in summ["coverage"])
            assert row[["sites", "workers", "workers_beyond", "workers_beyond_share"]].isna().all()
            areas = pd.read_csv(out / slug / "areas.csv").set_index("area_id")
            assert pd.isna(areas.loc["region", "workers"])
        else:
            assert row["sites"] == summ["layers"]["sites"]["features"]
            assert row["workers"] == summ["layers"]["sites"]["workers"]
            want = summ["headline"]["workers_beyond"]
            assert (pd.isna(row["workers_beyond"]) and want is None) or row["workers_beyond"] == want
            if not pd.isna(row["workers_beyond"]):
                assert row["workers_beyond_share"] == pytest.approx(row["workers_beyond"] / row["workers"], abs=1e-4)
    assert table.loc["kingston", "suppressed"]
    # Chatham-Kent's headline is 14 workers at 2 sites (issue 14 geocoding): below k sites, blank in public mode.
    assert pd.isna(table.loc["chatham-kent", "workers_beyond"])


def test_comparison_html_links_each_region(serial_run):
    _, out, _ = serial_run
    page = (out / "comparison.html").read_text()
    for slug in REGIONS[:3]:
        assert f'href="{slug}/map.html"' in page
    assert 'href="toronto-north/map.html"' not in page
    assert "<script src=" not in page and "L.map(" in page  # Leaflet inlined: self-contained
    assert "no offline boundary" in page


def test_failed_region_is_reported_and_the_others_complete(mirror, tmp_path, monkeypatch):
    from gapmap import pipeline

    real = pipeline.analyze

    def flaky(region, **kwargs):
        if region.slug == "elgin-st-thomas":
            raise GapmapError("Simulated failure for Elgin; fix the data.")
        return real(region, **kwargs)

    monkeypatch.setattr(pipeline, "analyze", flaky)
    lines: list[str] = []
    res = batch.run_batch(["elgin-st-thomas", "chatham-kent", "st-johns"], tmp_path, progress=lines.append)
    status = {o.slug: (o.status, o.reason) for o in res.outcomes}
    assert status["elgin-st-thomas"] == ("failed", "Simulated failure for Elgin; fix the data.")
    assert status["chatham-kent"] == ("ok", "")
    assert status["st-johns"][0] == "skipped" and "NL is not in the DA population file" in status["st-johns"][1]
    assert (tmp_path / "chatham-kent" / "summary.json").exists() and not (tmp_path / "elgin-st-thomas").exists()
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert table["status"].tolist() == ["failed", "ok", "skipped"]
    assert table.loc[0, "reason"] == "Simulated failure for Elgin; fix the data."
    assert any("elgin-st-thomas: failed in" in ln and "Simulated failure" in ln for ln in lines)


def test_cli_batch_two_regions(serial_run, tmp_path):
    _, serial_out, _ = serial_run
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--region", "kingston", "--scheduler", "serial",
                                    "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output + res.stderr
    assert "chatham-kent       ok: workers beyond 30 min of a hospital: - (suppressed" in res.stdout
    assert "kingston           ok:" in res.stdout and "suppressed" in res.stdout
    assert "Wrote 2 region folders, comparison.csv and comparison.html" in res.stdout
    assert "chatham-kent: started" in res.stderr and "kingston: ok in" in res.stderr
    for slug in ("chatham-kent", "kingston"):
        # Default network for batches is straight-line, so the folders equal the API batch's.
        assert _tree(tmp_path / slug) == _tree(serial_out / slug)
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert table["slug"].tolist() == ["chatham-kent", "kingston"]


@pytest.mark.parametrize("args, message", [
    (["--all", "--region", "kingston"], "Error: Give either --all or --region, not both."),
    ([], "Error: Missing option --region"),
    (["--region", "kingston", "--region", "huron", "--boundary", "x.geojson"], "Error: --boundary applies to one region"),
    (["--all", "--scheduler", "nowhere"], "Error: --scheduler 'nowhere' is not serial, local or a scheduler address"),
    (["--region", "kingston", "--region", "nowhere"], "Error: Unknown region 'nowhere'"),
])
def test_cli_batch_errors_are_one_line(tmp_path, args, message):
    res = CliRunner().invoke(main, ["analyze", *args, "--out", str(tmp_path), "-q"])
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(message) and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not (tmp_path / "comparison.csv").exists()


def test_comparison_escapes_text_and_greys_regions_without_workers(tmp_path):
    """Unit test of the comparison builders on hand-made outcomes (no analysis run)."""
    settings = load_settings()

    def cov(workers, covered):
        return [{"category": c, "threshold_min": t, "sites": 10, "workers": workers, "workers_covered": covered,
                 "workers_covered_share": round(covered / workers, 4) if workers else None, "population": 1000,
                 "population_covered": 900, "population_covered_share": 0.9}
                for c in ("hospital", "primary_care") for t in (15.0, 30.0, 60.0)]

    box = shapely.box(-82.5, 42.0, -82.0, 42.5)
    outcomes = [
        batch.RegionOutcome("a", "<b>A & Co</b>", "ON", "ok", method="straight <line>", boundary=box,
                            summary={"coverage": cov(100, 75), "privacy": {"mode": "public"}}),
        batch.RegionOutcome("b", "B", "ON", "ok", method="m", boundary=shapely.box(-81.5, 42.0, -81.0, 42.5),
                            summary={"coverage": cov(0, 0), "privacy": {"mode": "public"}}),
        batch.RegionOutcome("c", "C", "NL", "skipped", reason="no <boundary>"),
    ]
    table = batch.comparison_table(outcomes, settings)
    assert table.loc[0, "workers_beyond"] == 25 and table.loc[0, "workers_beyond_share"] == 0.25
    assert pd.isna(table.loc[1, "workers_beyond_share"])
    page = batch.comparison_html(outcomes, table, settings)
    assert "<b>A & Co</b>" not in page and "&lt;b&gt;A &amp; Co&lt;/b&gt;" in page
    assert "straight <line>" not in page and "no <boundary>" not in page
    assert "#cccccc" in page  # region b: no workers, grey
    assert page == batch.comparison_html(outcomes, table, settings)  # deterministic


def _sites_frame(rows):
    """Sites of a hand-made region: (area_id, geocode_precision, workers, within 30 min of a hospital)."""
    return pd.DataFrame(rows, columns=["area_id", "geocode_precision", "workers", "hospital_within_30min"])


def _areas_csv(published: dict, region_workers=1.0, postal_beyond=0.0):
    """A public areas.csv: per area its workers (NaN = blank), then the region row."""
    rows = [{"area_id": a, "workers": w, "hospital_30min_workers_not_postal_area": np.nan} for a, w in published.items()]
    rows.append({"area_id": "region", "workers": region_workers, "hospital_30min_workers_not_postal_area": postal_beyond})
    return pd.DataFrame(rows)


def _public(**kw):
    from gapmap.settings import Settings

    return Settings(**kw)


POSTAL5 = [("unknown", "postal_area", 20, True)] * 5
OTHER5 = [("w1", "community", 40, True)] * 5


def test_postal_area_share_published_when_every_cell_is_large():
    share = batch.public_postal_area_share(_sites_frame(POSTAL5 + OTHER5), _areas_csv({"unknown": 100, "w1": 200}, 300),
                                           _public())
    assert share == round(100 / 300, 4)


def test_postal_area_share_zero_is_published():
    share = batch.public_postal_area_share(_sites_frame(OTHER5), _areas_csv({"w1": 200}, 200), _public())
    assert share == 0.0


@pytest.mark.parametrize("why, sites, areas, postal_beyond", [
    ("3 postal-area sites", POSTAL5[:3] + OTHER5, {"unknown": np.nan, "w1": 200}, 0.0),
    ("4 other sites: total minus postal-area gives them", POSTAL5 + OTHER5[:4], {"unknown": 100, "w1": np.nan}, 0.0),
    ("postal-area workers minus the published postal-area workers beyond gives 2 sites",
     POSTAL5[:2] + [("unknown", "postal_area", 20, False)] * 5 + OTHER5, {"unknown": 140, "w1": 200}, 100.0),
    ("the postal-area sites' area is blank in areas.csv (a complement there)", POSTAL5 + OTHER5,
     {"unknown": np.nan, "w1": 200}, 0.0),
])
def test_postal_area_share_blanked(why, sites, areas, postal_beyond):
    frame = _sites_frame(sites)
    assert batch.public_postal_area_share(frame, _areas_csv(areas, frame["workers"].sum(), postal_beyond), _public()) is None, why


def test_postal_area_share_published_when_a_small_split_needs_a_blank():
    """2 postal-area sites within 30 min are small, but the postal-area workers beyond are blank in areas.csv:
    the share minus a blank gives nothing, so the share (already areas.csv's 'area unknown' row) is published."""
    frame = _sites_frame(POSTAL5[:2] + [("unknown", "postal_area", 20, False)] * 5 + OTHER5)
    share = batch.public_postal_area_share(frame, _areas_csv({"unknown": 140, "w1": 200}, 340, np.nan), _public())
    assert share == round(140 / 340, 4)


def test_postal_area_share_internal_mode_is_exact():
    frame = _sites_frame(POSTAL5[:1] + OTHER5)
    share = batch.public_postal_area_share(frame, None, _public(privacy="internal", k_anonymity=1))
    assert share == round(20 / 220, 4)


def test_postal_area_share_of_real_regions(serial_run):
    """Elgin-St. Thomas places 7 sites only at a postal area (summary.json tally); Chatham-Kent none."""
    res, out, _ = serial_run
    table = pd.read_csv(out / "comparison.csv").set_index("slug")
    summ = json.loads((out / "elgin-st-thomas" / "summary.json").read_text())
    assert summ["layers"]["sites"]["geocode_precision"]["postal_area"] == 7
    share = table.loc["elgin-st-thomas", "workers_postal_area_share"]
    # Postal-area sites are never put in a ward: they are areas.csv's "area unknown" row.
    areas = pd.read_csv(out / "elgin-st-thomas" / "areas.csv").set_index("area_id")
    assert share == pytest.approx(areas.loc["unknown", "workers"] / areas.loc["region", "workers"], abs=5e-5)
    assert table.loc["chatham-kent", "workers_postal_area_share"] == 0
    assert pd.isna(table.loc["kingston", "workers_postal_area_share"])  # fewer than 5 sites: the row is blank
    page = (out / "comparison.html").read_text()
    assert f"{share:.1%}" in page and "known only to its postal area" in page
