"""The Python API's published views equal the files ``write_outputs`` writes, read back.

``result.areas()``, ``result.hexes_table()``, ``result.site_table()``, ``result.coverage()`` and
``result.map()`` apply public-mode suppression by default; the expectations here are the files
of the same run (``areas.csv``, ``hexes.csv``, the GeoPackage site layer, ``summary.json``,
``map.html``), never the functions the API calls.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from gapmap.cli import main
from gapmap.output.webmap import render_html


def _csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"area_id": str, "hex_id": str})


def _same(api: pd.DataFrame, file: pd.DataFrame) -> None:
    """Same columns, rows and values (blank = NaN), dtypes as a CSV reads them back."""
    api = pd.DataFrame(api).drop(columns="geometry", errors="ignore").reset_index(drop=True)
    assert list(api.columns) == list(file.columns)
    assert len(api) == len(file)
    for col in file.columns:
        a, f = api[col], file[col]
        if pd.api.types.is_numeric_dtype(f) or pd.api.types.is_bool_dtype(f):
            np.testing.assert_allclose(pd.to_numeric(a, errors="coerce").astype(float).to_numpy(),
                                       f.astype(float).to_numpy(), rtol=0, atol=1e-9, equal_nan=True, err_msg=col)
        else:
            assert a.astype(str).where(a.notna(), None).tolist() == f.astype(str).where(f.notna(), None).tolist(), col


def _site_layer(gpkg) -> str:
    names = [n for n, _ in pyogrio.list_layers(gpkg)]
    return "worker_hexagons" if "worker_hexagons" in names else "sites"


def test_public_tables_equal_the_files(ck_run):
    result, files = ck_run
    assert result.settings.privacy == "public"
    _same(result.areas(), _csv(files["areas.csv"]))
    _same(result.hexes_table(), _csv(files["hexes.csv"]))
    summary = json.loads(files["summary.json"].read_text())
    _same(result.coverage(), pd.DataFrame(summary["coverage"]).astype(object).fillna(np.nan))
    layer = pyogrio.read_dataframe(files["layers.gpkg"], layer=_site_layer(files["layers.gpkg"]))
    pub = result.site_table()
    assert "site_id" not in pub.columns and "postal_code" not in pub.columns
    assert pub["hex_id"].tolist() == layer["hex_id"].tolist()
    assert np.allclose(pub["workers"].astype(float), layer["workers"].astype(float), equal_nan=True)
    assert pub.geometry.geom_equals_exact(layer.geometry.to_crs(pub.crs), tolerance=1e-6).all()


def test_map_is_map_html(ck_run):
    result, files = ck_run
    m = result.map()
    assert render_html(m) == files["map.html"].read_text(encoding="utf-8")
    assert "<iframe" in m._repr_html_()  # what Jupyter shows inline


def test_internal_differs_where_suppression_applies(ck_run):
    result, _ = ck_run
    pub, full = result.areas(), result.areas(public=False)
    assert "suppressed" in pub.columns and "suppressed" not in full.columns
    blanked = [c for c in full.columns if pd.api.types.is_numeric_dtype(full[c])
               and (pub[c].isna() & full[c].notna()).any()]
    assert blanked, "the default Chatham-Kent run suppresses some area figures"
    assert full[blanked].notna().all().all()
    hx_pub, hx_full = result.hexes_table(), result.hexes_table(public=False)
    assert hx_full["workers"].notna().all() and hx_pub["workers"].isna().any()
    sites = result.site_table(public=False)
    assert len(sites) == len(result.sites) and {"site_id", "lon", "lat"} <= set(sites.columns)
    cov_pub, cov_full = result.coverage(), result.coverage(public=False)
    assert cov_full["workers_covered"].notna().all()
    assert cov_pub["workers_covered"].isna().any() or not cov_pub.equals(cov_full)
    assert result.sites is not None and "site_id" in result.sites  # the field stays the internal GeoDataFrame


def test_internal_views_equal_internal_files(ck_run, tmp_path):
    import gapmap

    result, _ = ck_run
    internal = dataclasses.replace(result, settings=result.settings.replace(privacy="internal"))
    files = gapmap.write_outputs(internal, tmp_path / "internal")
    _same(result.areas(public=False), _csv(files["areas.csv"]))
    _same(result.site_table(public=False), pd.read_csv(files["sites.csv"], dtype=object).apply(
        lambda c: pd.to_numeric(c) if c.name in result.site_table(public=False).select_dtypes("number").columns else c))
    assert render_html(result.map(public=False)) == files["map.html"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ck_recommend(mirror, tmp_path_factory):
    import gapmap

    out = tmp_path_factory.mktemp("ck-rec")
    return gapmap.run("chatham-kent", out_dir=out, recommend=3)


def test_recommendations_shortfall_and_map(ck_recommend):
    result, files = ck_recommend
    rec = result.recommendations
    assert len(rec.recommendations) < 3 and rec.shortfall
    summary = json.loads(files["summary.json"].read_text())
    assert summary["recommendations"]["totals"]["shortfall"] == rec.shortfall
    assert rec.shortfall in summary["recommendations"]["notes"]
    assert render_html(result.map()) == files["map.html"].read_text(encoding="utf-8")


def test_cli_says_why_and_warns_on_filters_without_data(mirror, tmp_path):
    """Hand-check of issue 17: CK ``--recommend 3 --headline-category hospital`` returns 1 with a reason;
    ``--when`` / ``--language`` on the offline services (no hours, no languages) warn loudly."""
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q",
                                    "--recommend", "3", "--headline-category", "hospital",
                                    "--when", "weekday 18:00-21:00", "--language", "es"])
    assert res.exit_code == 0, res.stderr
    rec = pd.read_csv(tmp_path / "recommendations.csv")
    summary = json.loads((tmp_path / "summary.json").read_text())
    n = summary["hours_language"]["services_in"]
    lines = res.stderr.splitlines()
    why = [ln for ln in lines if ln.startswith("note: --recommend 3 gave")]
    assert why == [f"note: --recommend 3 gave {len(rec)}: {summary['recommendations']['totals']['shortfall']}"]
    assert len(rec) == 1 and "1 site covers all the workers that 3 could" in why[0]
    when = [ln for ln in lines if ln.startswith("warning: ") and "--when" in ln]
    lang = [ln for ln in lines if ln.startswith("warning: ") and "--language es" in ln]
    assert len(when) == 1 and f"none of the {n} services has opening hours" in when[0] and "--hours FILE" in when[0]
    assert len(lang) == 1 and f"none of the {n} services has language data" in lang[0]
    assert summary["hours_language"]["warnings"] == [*when, *lang]


def test_cli_quiet_without_filters_or_shortfall(mirror, tmp_path):
    res = CliRunner().invoke(main, ["analyze", "--region", "chatham-kent", "--out", str(tmp_path), "-q",
                                    "--network", "straight"])
    assert res.exit_code == 0, res.stderr
    assert not [ln for ln in res.stderr.splitlines() if ln.startswith(("warning:", "note: --recommend"))]
