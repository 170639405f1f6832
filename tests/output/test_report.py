"""report.html: map, where the gaps are, what would close them, how sure, EN/FR, public mode.

Expectations come from the written ``areas.csv`` / the in-memory per-site table and the
siting module, read independently of the report code.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import re

import numpy as np
import pandas as pd
import pytest

from gapmap.output import report

PRE = "hospital_30min"


def _visible(page: str) -> str:
    """The page's text without tags, styles and embedded images, entities decoded."""
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _section(page: str, title: str) -> str:
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<h2>", start + 4)
    return page[start:end if end > 0 else None]


def _table_rows(fragment: str) -> tuple[list[str], list[list[str]]]:
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", fragment)]
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", fragment.split("</thead>", 1)[1])]
    return heads, rows


def _int(text: str) -> float:
    text = text.replace(",", "").replace("\u202f", "")
    return np.nan if text == "–" else float(text)


@pytest.fixture(scope="module")
def en(ck_run):
    result, files = ck_run
    return result, files["report.html"].read_text(encoding="utf-8"), pd.read_csv(files["areas.csv"])


@pytest.fixture(scope="module")
def fr(mirror, tmp_path_factory):
    import gapmap

    out = tmp_path_factory.mktemp("ck_fr")
    result, files = gapmap.run("chatham-kent", out_dir=out, settings=gapmap.load_settings(lang="fr"))
    return result, files["report.html"].read_text(encoding="utf-8"), pd.read_csv(files["areas.csv"])


def test_report_has_the_region_map_first(en):
    from PIL import Image

    _, page, _ = en
    imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(imgs) == 4  # map, circuity plot, one coverage curve per category (2)
    first_fig = page.index("<figure>")
    assert first_fig < page.index("<h2>Where the gaps are</h2>")  # the map comes right after the headline
    im = Image.open(io.BytesIO(base64.b64decode(imgs[0]))).convert("RGB")
    assert im.size == (950, 640)
    colours = np.asarray(im).reshape(-1, 3)
    assert len(np.unique(colours, axis=0)) > 50  # a drawn map, not a blank sheet
    # the suppressed ward is hatched grey (#d5d5d5 fill), the published ones shaded (pale yellow for 0 %)
    assert (np.all(colours == (213, 213, 213), axis=1)).sum() > 1000


def test_map_draws_no_site(en):
    """Moving every site 5 km leaves the map's pixels unchanged: no site is drawn (areas and services only)."""
    result, _, areas = en
    moved = result.sites.copy()
    moved["geometry"] = moved.geometry.translate(5000, -5000)
    shifted = dataclasses.replace(result, sites=moved)
    Lr, W = report.report_labels("en"), report._words(result)
    a = report._map_png(result, areas, None, None, Lr, W)
    b = report._map_png(shifted, areas, None, None, Lr, W)
    assert a == b


def test_gaps_table_ranked_by_workers_beyond_with_published_ranges(en):
    _, page, areas = en
    heads, rows = _table_rows(_section(page, "Where the gaps are"))
    assert heads[:5] == ["Area", "Sites", "Workers (est.)", "Workers beyond 30 min", "Range (lowest to highest)"]
    beyond = [_int(r[3]) for r in rows]
    known = [b for b in beyond if not np.isnan(b)]
    assert known == sorted(known, reverse=True)
    assert all(np.isnan(b) for b in beyond[len(known):])  # unpublished rows last
    pub = areas[areas["area_id"] != "region"].set_index("area_name")
    assert sorted(r[0] for r in rows) == sorted(pub.index)
    for r in rows:
        a = pub.loc[r[0]]
        exp = a[f"{PRE}_workers_not"]
        assert (np.isnan(_int(r[3])) and pd.isna(exp)) or _int(r[3]) == exp
        lo, hi = a[f"{PRE}_workers_not_lower"], a[f"{PRE}_workers_not_upper"]
        assert r[4] == ("–" if pd.isna(lo) or pd.isna(hi) else f"{int(lo):,} to {int(hi):,}")


def test_human_headers_everywhere(en, fr):
    for _, page, _ in (en, fr):
        heads = re.findall(r"<th>(.*?)</th>", page)
        assert heads and not [h for h in heads if "_" in h or re.search(r"\b[a-z]+min\b", h)]
        text = _visible(page)
        assert "_share" not in text and "workers_covered" not in text and "threshold_min" not in text


ENGLISH = ["the", "of", "and", "workers", "beyond", "within", "share", "people", "between", "where", "would", "close",
           "sure", "is", "are", "not", "published", "hospital", "primary care", "clinic", "straight-line", "range",
           "knife-edge", "Ward", "Census", "Municipality", "Statistics", "licence not", "notes", "site(s)", "recommended",
           "covered", "travel", "travel mode", "car", "Data", "stated", "unknown"]


def test_french_report_has_no_english_sentence(fr):
    _, page, _ = fr
    text = _visible(page)
    found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, flags=re.I)]
    assert found == []
    assert "2\u202f507" in text and "104\u202f316" in text  # French thousands
    assert re.search(r"\d\u00a0%", text) and "%" not in re.sub(r"\d\u00a0%", "", text)
    assert "d'un hôpital" in text and "Quelle est la fiabilité" in text and "Où sont les lacunes" in text


def test_how_sure_shows_the_published_region_range(en, fr):
    for (_, page, areas), lang in ((en, "en"), (fr, "fr")):
        region = areas[areas["area_id"] == "region"].iloc[0]
        lo, hi, knife = (region[f"{PRE}_{c}"] for c in ("workers_not_lower", "workers_not_upper", "sites_knife_edge"))
        title = "How sure is this" if lang == "en" else "Quelle est la fiabilité"
        text = _visible(_section(page, title))
        sep = "," if lang == "en" else "\u202f"
        fmt = lambda v: "–" if v != v else f"{int(v):,}".replace(",", sep)  # noqa: E731 - NaN (suppressed) prints as a dash
        word = "and" if lang == "en" else "et"
        assert f"{fmt(lo)} {word} {fmt(hi)}" in text
        assert f": {fmt(knife)}." in text
        # the point value as published (blank here: 2 sites are beyond, under k)
        point = region[f"{PRE}_workers_not"]
        assert ("– " if pd.isna(point) else fmt(point)) in text
        # what the ranges rest on, from Settings
        s = en[0].settings
        assert (f"{s.circuity_range[0]:g} to {s.circuity_range[1]:g}" if lang == "en"
                else f"{s.circuity_range[0]:g} à {s.circuity_range[1]:g}".replace(".", ",")) in text
        # Chatham-Kent ranges every site over its candidate positions (docs/uncertainty.md): no radius is named.
        n_sites = f"{len(en[0].sites)} sites"
        assert (f"where each site may be, for {n_sites}: the positions it can stand for" if lang == "en" else
                f"l'endroit où chaque site peut se trouver, pour {n_sites} : les positions qu'il peut représenter") in text
        assert "pseudo-" in text and "radius of its point" not in text and "rayon indiqué" not in text
        assert f"{s.location_radius_m['community'] / 1000:g}\u00a0km" not in text
        assert "data:image/png;base64," in _section(page, title)


def test_circuity_sweep_reproduces_the_run_and_grows_with_circuity(en):
    result, _, areas = en
    internal = dataclasses.replace(result, settings=result.settings.replace(privacy="internal"))
    table = report.circuity_sweep(internal, (1.2, 1.3, 1.4, 1.5))
    at_run = table[table["circuity"] == result.settings.circuity].iloc[0]
    region = result.areas_table.iloc[-1]
    assert at_run["workers_not"] == region[f"{PRE}_workers_not"] == 14
    assert list(table["workers_not"]) == sorted(table["workers_not"])  # longer roads, more workers beyond
    assert (table["workers_not_lower"] <= table["workers_not"]).all() and (table["workers_not"] <= table["workers_not_upper"]).all()
    # public: the point at the run's circuity is blank exactly as in areas.csv
    pub = report.circuity_sweep(result, (result.settings.circuity,)).iloc[0]
    exp = areas[areas["area_id"] == "region"].iloc[0][f"{PRE}_workers_not"]
    assert pd.isna(pub["workers_not"]) and pd.isna(exp)


def test_what_would_close_them_says_why_fewer(en):
    from gapmap.analysis import plan

    result, page, _ = en
    sec = _section(page, "What would close them")
    n = len(plan.recommend(result, p=3).recommendations)
    heads, rows = _table_rows(sec)
    assert heads[0] == "Rank" and len(rows) == n
    if n < 3:
        assert (f"Only {n} site{'s' if n != 1 else ''} recommended, not 3" in _visible(sec))
    assert "near " in rows[0][1]  # named by the nearest community, not an H3 id
    # public: the newly covered workers (14 at 2 sites, under k) are not published
    assert rows[0][2] == "–"


def test_public_report_has_no_site_coordinates_or_employer(en, fr):
    result, _, _ = en
    ll = result.sites.geometry.to_crs("EPSG:4326")
    for _, page, _ in (en, fr):
        text = _visible(page)
        for emp in result.sites["employer"].dropna().astype(str):
            if len(emp) >= 5:
                assert emp not in text and html.escape(emp) not in page
        for x, y in zip(ll.x, ll.y):
            for d in (3, 4, 5):
                assert f"{y:.{d}f}" not in page and f"{x:.{d}f}" not in page
        xy = result.sites.geometry
        for x, y in zip(xy.x, xy.y):
            assert f"{x:.0f}" not in text or f"{y:.0f}" not in text


def test_number_formats():
    from gapmap.output.i18n import report_int, report_pct

    assert report_int(10833, "en") == "10,833" and report_int(10833, "fr") == "10\u202f833"
    assert report_pct(0.4938, "en") == "49%" and report_pct(0.4938, "fr") == "49\u00a0%"
    assert report_int(float("nan"), "fr") == "–" and report_pct(None, "en") == "–"


def test_internal_gaps_rank_communities(en):
    """Internal mode ranks the communities the sites name; figures summed independently from the site table."""
    result, _, _ = en
    internal = dataclasses.replace(result, settings=result.settings.replace(privacy="internal"))
    rows = report.gap_rows(internal, result.areas_table)
    s = result.sites
    beyond = s["workers"].where(~s["hospital_within_30min"].astype(bool), 0).groupby(s["community"]).sum()
    upper = s["workers"].where(s[f"{PRE}_status"] != "surely within", 0).groupby(s["community"]).sum()
    got = rows.set_index("name")
    assert (got["beyond"].reindex(beyond.index) == beyond).all() and (got["upper"].reindex(upper.index) == upper).all()
    assert list(rows["beyond"]) == sorted(rows["beyond"], reverse=True)
    assert rows["beyond"].sum() == result.areas_table.iloc[-1][f"{PRE}_workers_not"] == 14


@pytest.fixture(scope="module")
def ck_radius_run(mirror):
    import gapmap

    return gapmap.analyze("chatham-kent", settings=gapmap.load_settings(location_candidates=False))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_rests_on_lists_the_radii_used_with_their_site_counts(ck_radius_run, lang):
    from gapmap.output.i18n import report_labels

    result = dataclasses.replace(ck_radius_run, settings=ck_radius_run.settings.replace(lang=lang))
    text = " ".join(report.rests_on(result, report_labels(lang)))
    counts = result.sites["geocode_precision"].value_counts()  # community 76, post_office 15 in the mirror
    assert counts.to_dict() == {"community": 76, "post_office": 15}
    if lang == "en":
        assert "for 91 sites: anywhere within a stated radius" in text
        assert "community point 5\u00a0km (76 sites), rural post office 10\u00a0km (15 sites)" in text
    else:
        assert "pour 91 sites : n'importe où dans un rayon indiqué" in text
        assert "point de la localité 5\u00a0km (76 sites), bureau de poste rural 10\u00a0km (15 sites)" in text
    assert "pseudo" not in text  # no candidate positions in this run


def test_rests_on_blanks_small_site_counts(ck_radius_run):
    """3 sites moved to a postal-area point: their count is small, so no count by geocoding is printed."""
    import geopandas as gpd
    from gapmap.output.i18n import report_labels

    sites = ck_radius_run.sites.copy()
    sites.loc[sites.index[:3], "geocode_precision"] = "postal_area"
    result = dataclasses.replace(ck_radius_run, sites=gpd.GeoDataFrame(sites, geometry="geometry", crs=sites.crs))
    text = " ".join(report.rests_on(result, report_labels("en")))
    assert "postal-area centre 25\u00a0km" in text and "community point 5\u00a0km" in text
    assert not re.search(r"\d+ sites?\b", text), text
    internal = dataclasses.replace(result, settings=result.settings.replace(privacy="internal"))
    assert "(3 sites)" in " ".join(report.rests_on(internal, report_labels("en")))


@pytest.mark.parametrize("mode, method, expected, absent", [
    ("drive", "straight-line approximation (drive 60 km/h, circuity 1.3)",
     ["road distance from 1.2 to 1.6 times the straight-line distance", "speeds from 85% to 115% of the assumed average."], ["network assigns"]),
    ("drive", "road network (Statistics Canada RNF, drive; speeds assigned by road class)",
     ["road speeds from 85% to 115% of those the network assigns"], ["straight-line distance", "assumed average"]),
    ("transit", "transit schedule (GTFS)", ["17:00"], ["straight-line distance", "speeds from"]),
])
def test_rests_on_names_the_method_range_the_run_used(ck_radius_run, mode, method, expected, absent):
    """Straight-line runs rest on circuity and speed, road runs on the network's speeds, transit on the window."""
    from gapmap.output.i18n import report_labels

    settings = ck_radius_run.settings.replace(mode=mode, transit_window=("17:00", "18:59"))
    result = dataclasses.replace(ck_radius_run, settings=settings, method=method)
    text = " ".join(report.rests_on(result, report_labels("en")))
    for phrase in expected:
        assert phrase in text, text
    for phrase in absent:
        assert phrase not in text, text
