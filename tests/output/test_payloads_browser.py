"""Hostile text in every input field that reaches the HTML outputs runs nowhere, in real Chromium.

The payloads (``fixtures/bad_inputs/payloads/strings.json``) go into every text field of a
services CSV, a sites CSV (internal mode, so employer and community names are drawn), a GTFS
feed (stop, route and agency names), a candidates file for siting, a boundary file (area
names), a category name and the region name; the comparison page gets them as region names,
methods, reasons and slugs. Each page is opened in headless Chromium, every layer is shown,
every popup and tooltip is opened through Leaflet, and the page must not have run anything
(``window.__pwned``, ``alert``), must have drawn the map, must show the payloads as text, and
must log no JavaScript error.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAYLOADS: list[str] = json.loads((FIXTURES / "bad_inputs" / "payloads" / "strings.json").read_text(encoding="utf-8"))
# Single-valued fields (a region, an agency, a category) carry the whole corpus at once.
ALL = " | ".join(PAYLOADS)
# A category id made of payloads that call alert (trapped below): labels show a user category
# with "_" as spaces, so it has none, to be found verbatim in the layer control.
CATEGORY = "cat </script><script>alert(1)</script> ${alert(2)} `+alert(3)+` \"><img src=x onerror=alert(4)> '-alert(5)-'"

# Installed before any page script: record what a payload would do instead of blocking on it.
_TRAPS = """
window.__alerts = [];
window.__pageErrors = [];
['alert', 'confirm', 'prompt'].forEach(function (f) { window[f] = function (m) { window.__alerts.push(f + ':' + m); }; });
window.addEventListener('error', function (e) { window.__pageErrors.push(String(e.message)); });
"""

# Show every overlay, then open every popup and tooltip through Leaflet. A layer on the map gets
# the click and mouseover a user would give it (group-bound popups and GeoJSON table tooltips
# open through the event, as they do for a user); a clustered marker, not on the map by
# itself, has its popup and tooltip content opened in a Leaflet popup and tooltip.
_OPEN_ALL = """
var map = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0];
var control = Object.keys(window).filter(k => k.startsWith('layer_control_') && k.endsWith('_layers')).map(k => window[k])[0];
if (!map || !control) {  // the page's own script died before it drew the map
  return {popups: 0, tooltips: 0, texts: [], labels: [], layers: 0, leaves: 0, pwned: typeof window.__pwned,
          alerts: window.__alerts, pageErrors: window.__pageErrors, containers: 0, boxes: ''};
}
Object.values(control.overlays).forEach(l => map.addLayer(l));
function leaves(layer, out) { if (layer.getLayers) layer.getLayers().forEach(c => leaves(c, out)); else out.push(layer); return out; }
var all = new Set();
map.eachLayer(l => leaves(l, []).forEach(x => all.add(x)));
Object.values(control.overlays).forEach(l => leaves(l, []).forEach(x => all.add(x)));
var popups = 0, tooltips = 0, texts = [];
function grab(sel) {
  var els = document.querySelectorAll(sel);
  if (!els.length) return 0;
  texts.push(els[els.length - 1].textContent);
  return 1;
}
all.forEach(function (leaf) {
  if (!(leaf instanceof L.Path || leaf instanceof L.Marker)) return;  // tiles, the canvas renderer
  if (leaf._map) {
    var ll = leaf.getLatLng ? leaf.getLatLng() : leaf.getBounds().getCenter();
    leaf.fire('click', {latlng: ll}, true);  // true: on to the groups, as a real click
    popups += grab('.leaflet-popup-content');
    map.closePopup();
    leaf.fire('mouseover', {latlng: ll}, true);
    tooltips += grab('.leaflet-tooltip');
    leaf.fire('mouseout', {latlng: ll}, true);
  } else {
    if (leaf.getPopup && leaf.getPopup()) {
      L.popup().setLatLng(map.getCenter()).setContent(leaf.getPopup().getContent()).openOn(map);
      popups += grab('.leaflet-popup-content');
      map.closePopup();
    }
    if (leaf.getTooltip && leaf.getTooltip()) {
      var t = L.tooltip().setLatLng(map.getCenter()).setContent(leaf.getTooltip().getContent()).addTo(map);
      tooltips += grab('.leaflet-tooltip');
      map.removeLayer(t);
    }
  }
});
var labels = Array.from(document.querySelectorAll('.leaflet-control-layers label')).map(e => e.textContent);
var n = 0; map.eachLayer(function () { n++; });
return {popups: popups, tooltips: tooltips, texts: texts, labels: labels, layers: n, leaves: all.size,
        pwned: typeof window.__pwned, alerts: window.__alerts, pageErrors: window.__pageErrors,
        containers: document.querySelectorAll('.leaflet-container').length,
        boxes: Array.from(document.querySelectorAll('.gapmap-box, .gm-table-wrap')).map(e => e.textContent).join('\\n')};
"""


@pytest.fixture(scope="module", autouse=True)
def _trap(driver):
    """Install :data:`_TRAPS` in this module's Chromium session, before every page's scripts."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _TRAPS})


def _open(driver, path: Path) -> dict:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.resolve().as_uri())
    time.sleep(1.0)
    state = driver.execute_script(_OPEN_ALL)
    time.sleep(0.3)
    state["console"] = _console_errors(driver)
    return state


def _console_errors(driver) -> list[str]:
    # Base-map tiles come from the internet, which the test machine does not have (a late tile
    # request of the previous page can land here too).
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and "tile.openstreetmap.org" not in e["message"]]


def _assert_inert(state: dict, page: str) -> None:
    assert state["pwned"] == "undefined", f"a payload ran in {page}"
    assert state["alerts"] == [], f"a payload called alert in {page}: {state['alerts']}"
    assert state["pageErrors"] == [] and state["console"] == [], (page, state["pageErrors"], state["console"])
    assert state["containers"] == 1 and state["layers"] > 3, f"{page} did not draw its map"


def _shown(state: dict, text: str) -> bool:
    # Leaflet turns U+2028/2029 into nothing special: textContent keeps them.
    return any(text in t for t in state["texts"]) or any(text in lbl for lbl in state["labels"]) or text in state["boxes"]


# --------------------------------------------------------------------------- inputs


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _grid_point(i: int) -> tuple[float, float]:
    """Distinct inland points around Chatham (lat, lon), 0.012 degrees apart."""
    return round(42.36 + 0.012 * (i % 6), 5), round(-82.32 + 0.03 * (i // 6), 5)


def _services(tmp: Path) -> Path:
    rows = []
    for i, p in enumerate(PAYLOADS):
        lat, lon = _grid_point(i)
        rows.append([p, "hospital" if i % 2 else "primary_care", lat, lon, p, p, p, p])
    lat, lon = _grid_point(len(PAYLOADS))
    rows.append([ALL, CATEGORY, lat, lon, ALL, ALL, ALL, ALL])
    return _write_csv(tmp / "services.csv", ["name", "category", "latitude", "longitude", "address", "opening_hours", "languages",
                                             "capacity"], rows)


# Two rural spots (near Wheatley and Bothwell), beyond 30 min of the services around Chatham:
# sites there leave workers uncovered, so candidates there get recommended and drawn.
_FAR = ((42.13, -82.42), (42.60, -81.85))


def _far_point(i: int) -> tuple[float, float]:
    lat, lon = _FAR[i % 2]
    return round(lat + 0.002 * (i // 2), 5), round(lon + 0.002 * (i // 2), 5)


def _sites(tmp: Path) -> Path:
    rows = [[p, p, *_far_point(i), 5 + i] for i, p in enumerate(PAYLOADS)]
    return _write_csv(tmp / "sites.csv", ["employer", "community", "latitude", "longitude", "workers"], rows)


def _candidates(tmp: Path) -> Path:
    rows = [[f"c{i}", p, *_far_point(i)] for i, p in enumerate(PAYLOADS)]
    return _write_csv(tmp / "candidates.csv", ["candidate_id", "name", "latitude", "longitude"], rows)


def _boundary(tmp: Path) -> Path:
    # Two areas over central Chatham-Kent, named by payloads.
    def box(x0, y0, x1, y1):
        return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]

    feats = [{"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": coords}}
             for name, coords in ((ALL, box(-82.40, 42.30, -82.15, 42.55)), (PAYLOADS[1], box(-82.15, 42.30, -81.90, 42.55)))]
    path = tmp / "boundary.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def _gtfs(tmp: Path) -> Path:
    """The tiny test feed moved to Chatham (same shape, timetable and ids) with payload names."""
    feed = tmp / "gtfs"
    shutil.copytree(FIXTURES / "gtfs" / "tiny", feed)
    (feed / "README.md").unlink()
    dlat, dlon = 42.40 - 44.0, -82.19 + 79.0

    def rewrite(name: str, edit) -> None:
        with (feed / name).open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for i, r in enumerate(rows):
            edit(i, r)
        with (feed / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    def stop(i, r):
        r["stop_name"] = PAYLOADS[i % len(PAYLOADS)]
        r["stop_lat"] = f"{float(r['stop_lat']) + dlat:.5f}"
        r["stop_lon"] = f"{float(r['stop_lon']) + dlon:.5f}"

    def route(i, r):
        r["route_short_name"] = PAYLOADS[(2 * i) % len(PAYLOADS)]
        r["route_long_name"] = PAYLOADS[(2 * i + 1) % len(PAYLOADS)]

    rewrite("stops.txt", stop)
    rewrite("routes.txt", route)
    rewrite("agency.txt", lambda i, r: r.update(agency_name=ALL))
    return feed


def _hostile_region():
    from gapmap.sources.regions import get_region

    return dataclasses.replace(get_region("chatham-kent"), name=ALL, lead=ALL)


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def internal_run(mirror, tmp_path_factory):
    """Straight-line, internal mode: services, sites, candidates, a payload category, a payload region."""
    import gapmap
    from gapmap.settings import Settings

    tmp = tmp_path_factory.mktemp("payloads")
    # A 10-minute headline leaves the rural sites uncovered, so the candidates beside them are recommended.
    settings = Settings(categories=("hospital", "primary_care", CATEGORY), privacy="internal", thresholds_min=(10.0, 30.0),
                        headline_threshold=10.0)
    _, files = gapmap.run(_hostile_region(), out_dir=tmp / "out", settings=settings, services_file=_services(tmp),
                          sites_file=_sites(tmp), recommend=2, candidates=str(_candidates(tmp)))
    return files


@pytest.fixture(scope="module")
def boundary_transit_run(mirror, tmp_path_factory):
    """Transit on a payload-named GTFS feed, over a payload-named boundary, public mode."""
    import gapmap
    from gapmap.settings import Settings

    tmp = tmp_path_factory.mktemp("payloads_gtfs")
    settings = Settings(mode="transit", transit_date="2025-01-15", transit_window=("17:00", "19:00"))
    _, files = gapmap.run("chatham-kent", out_dir=tmp / "out", settings=settings, gtfs=_gtfs(tmp), boundary_file=_boundary(tmp),
                          services_file=_services(tmp))
    return files


def test_internal_map_runs_no_payload(driver, internal_run):
    state = _open(driver, internal_run["map.html"])
    _assert_inert(state, "map.html (internal)")
    assert state["popups"] >= 2 * len(PAYLOADS) and state["tooltips"] >= len(PAYLOADS)
    for p in ("</script><script>window.__pwned=1</script>", "${window.__pwned=1}", "`;window.__pwned=1;`", "trailing backslash \\",
              '"><img src=x onerror="window.__pwned=1">', "line\u2028separator\u2029paragraph",
              "{{ 7*7 }}{% if 1 %}jinja{% endif %}"):
        assert _shown(state, p), f"payload not shown as text: {p!r}"
    # Categories come from the registry (issue 16): the payload category's row is rejected with its reason and
    # never reaches the layer control.
    assert not any(CATEGORY in lbl for lbl in state["labels"])
    rejects = pd.read_csv(internal_run["rejects.csv"])
    assert rejects["reason"].str.contains("categor", case=False).any()
    assert ALL in state["boxes"], "the region name is not shown verbatim in the title"
    # Both rural clusters get a recommendation, drawn as "#<rank> <candidate name>: ...", the name as text.
    recommended = sorted(t for t in state["texts"] if t.startswith("#"))
    assert [t[:3] for t in recommended] == ["#1 ", "#2 "], recommended
    assert all(any(t.startswith(f"{t[:3]}{p}: ") for p in PAYLOADS) for t in recommended), recommended


def test_transit_boundary_map_runs_no_payload(driver, boundary_transit_run):
    state = _open(driver, boundary_transit_run["map.html"])
    _assert_inert(state, "map.html (transit, boundary)")
    assert state["tooltips"] >= 7  # seven stops at least
    assert _shown(state, PAYLOADS[5]), "a stop name is not shown as text"
    # The agency name (all payloads, Jinja included) is in the method, stated once in the title box
    # (layer names and catchments no longer repeat it); the payload-named area shows in the areas tooltip table.
    assert ALL in state["boxes"], "the agency name is not verbatim in the title box"
    assert any(ALL in t and t.strip().startswith("Area") for t in state["texts"]), "the area name is not verbatim in its tooltip"


@pytest.mark.parametrize("run", ["internal_run", "boundary_transit_run"])
def test_report_runs_no_payload(driver, run, request):
    files = request.getfixturevalue(run)
    driver.get_log("browser")
    driver.get(files["report.html"].resolve().as_uri())
    time.sleep(0.5)
    state = driver.execute_script("return {pwned: typeof window.__pwned, alerts: window.__alerts, errors: window.__pageErrors,"
                                  " imgs: document.querySelectorAll('img[src=\"x\"]').length, body: document.body.textContent}")
    assert state["pwned"] == "undefined" and state["alerts"] == [] and state["errors"] == [] and state["imgs"] == 0
    assert _console_errors(driver) == []
    assert PAYLOADS[0] in state["body"]


def test_comparison_page_runs_no_payload(driver, tmp_path):
    import shapely

    from gapmap import batch
    from gapmap.settings import Settings

    settings = Settings()
    cov = [{"category": c, "threshold_min": t, "sites": 10, "workers": 100, "workers_covered": 75, "workers_covered_share": 0.75,
            "population": 1000, "population_covered": 900, "population_covered_share": 0.9}
           for c in settings.categories for t in settings.thresholds_min]
    outcomes = [batch.RegionOutcome(p, p, "ON", "ok", method=p, boundary=shapely.box(-82.5 + i * 0.2, 42.0, -82.4 + i * 0.2, 42.5),
                                    summary={"coverage": cov, "privacy": {"mode": "public"}}) for i, p in enumerate(PAYLOADS)]
    outcomes.append(batch.RegionOutcome("skipped-one", ALL, "ON", "skipped", reason=ALL))
    page = tmp_path / "comparison.html"
    page.write_text(batch.comparison_html(outcomes, batch.comparison_table(outcomes, settings), settings), encoding="utf-8")
    state = _open(driver, page)
    _assert_inert(state, "comparison.html")
    assert state["popups"] == len(PAYLOADS) and state["tooltips"] == len(PAYLOADS)
    assert all(_shown(state, p) for p in PAYLOADS)
    # Links built from a slug stay relative paths: no javascript: URL anywhere.
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert hrefs and not any(h.lower().startswith("javascript:") for h in hrefs)
