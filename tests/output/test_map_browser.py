"""The default map answers a planner in real Chromium: hovering each area shows its figures,
a click opens its popup, the console stays clean and the French map has no English sentence.

Pointer events are real (W3C actions at the area's pixel position), so a layer drawn above
the areas that caught the pointer (boundary or catchment outlines) would fail these tests.
"""

import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains

pytestmark = pytest.mark.browser

#: Words of English sentences that must not appear in the French map's texts.
ENGLISH_WORDS = ["workers", "beyond", "within", "hospital", "people", "share", "suppressed", "between",
                 "sites and", "Region boundary", "Services:", "Legend", "straight-line", "uncertain",
                 # the Approximations and Sources lists (English sentences of the pipeline and the catalogue)
                 "Travel times", "not a road", "Sites are", "farm addresses", "approvals", "head count", "Population sits",
                 "Location ranges", "pseudo-households", "post-office", "postal-area", "licence not stated",
                 "publisher unknown", "not republished", "Statistics Canada", "Natural Resources", "Municipality",
                 "Census", "positive LMIA", "circuity", "assumed", "road class", "speeds"]

_MAP = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0]"


def _errors(driver):
    # Base-map tiles come from the internet, which CI does not have: only page errors count.
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "tile.openstreetmap.org" not in e["message"]]


def _candidate_points(result, area_id, n=40):
    """Points inside one area away from every interactive marker and hexagon (EPSG:4326 lat, lon)."""
    import geopandas as gpd
    import shapely

    areas = result.layers["areas"].gdf
    poly = areas.loc[areas["area_id"] == area_id].geometry.iloc[0]
    from gapmap.analysis import privacy

    # Markers are DOM elements (skipped by _pixel_on_map); site hexagons share the areas' canvas.
    res = result.settings.hex_resolution
    cells = sorted(set(privacy.hex_ids(result.sites, res)))
    inner = poly.buffer(-150).difference(privacy.hex_polygons(cells, areas.crs).buffer(200).union_all())
    if inner.is_empty:
        inner = poly
    minx, miny, maxx, maxy = inner.bounds
    xs, ys = np.meshgrid(np.linspace(minx, maxx, 25), np.linspace(miny, maxy, 25))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(inner, pts)]
    # Nearest the area's own inner point first.
    rp = inner.representative_point()
    pts = sorted(pts, key=lambda p: p.distance(rp))[:n]
    ll = gpd.GeoSeries(pts, crs=areas.crs).to_crs("EPSG:4326")
    return [[round(p.y, 6), round(p.x, 6)] for p in ll]


def _pixel_on_map(driver, latlngs):
    """The first viewport pixel of ``latlngs`` where the topmost element is the map's own drawing."""
    return driver.execute_script(
        f"var m = {_MAP}; var r = m.getContainer().getBoundingClientRect();"
        "for (const ll of arguments[0]) {"
        "  var p = m.latLngToContainerPoint(ll); var x = r.left + p.x, y = r.top + p.y;"
        "  if (x < 5 || y < 5 || x > window.innerWidth - 5 || y > window.innerHeight - 5) continue;"
        "  var el = document.elementFromPoint(x, y);"
        "  if (el && (el.tagName === 'CANVAS' || el.tagName === 'path') && m.getContainer().contains(el)) return [x, y];"
        "} return null;", latlngs)


def _move(driver, xy):
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(xy[0]), int(xy[1]))
    actions.perform()


def _click(driver, xy):
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(xy[0]), int(xy[1]))
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def _tooltip_text(driver):
    return " ".join(e.text for e in driver.find_elements("css selector", ".leaflet-tooltip"))


def test_hover_and_click_every_area_of_the_default_map(driver, ck_run, tmp_path):
    result, files = ck_run
    driver.get(files["map.html"].resolve().as_uri())
    time.sleep(1.5)
    assert _errors(driver) == []
    areas = result.layers["areas"].gdf
    assert len(areas) >= 2
    view = driver.execute_script(f"var m = {_MAP}; var c = m.getCenter(); return [[c.lat, c.lng], m.getZoom()];")
    for area_id, name in zip(areas["area_id"], areas["area_name"]):
        pts = _candidate_points(result, area_id)
        xy = _pixel_on_map(driver, pts)
        if xy is None:  # a small town ward under markers at the initial zoom: zoom onto it, as a planner would
            b = areas.loc[areas["area_id"] == area_id].to_crs("EPSG:4326").total_bounds
            driver.execute_script(f"{_MAP}.fitBounds([[arguments[1], arguments[0]], [arguments[3], arguments[2]]], {{animate: false}});",
                                  *[float(v) for v in b])
            time.sleep(0.3)
            xy = _pixel_on_map(driver, pts)
        assert xy is not None, f"no free pixel of {name}"
        _move(driver, (xy[0] + 1, xy[1] + 1))  # a move into the shape, then onto the point
        _move(driver, xy)
        time.sleep(0.25)
        tip = _tooltip_text(driver)
        assert name in tip, (name, tip)
        assert "Workers beyond 30 min" in tip and "Population" in tip and "Places" in tip, tip
        assert "within 60 min" not in tip  # catchments do not catch the pointer
        assert not re.search(r"\d\.\d{3}", tip) and not re.search(r"\d{5}", tip), tip  # 49%, 10,833: not 0.4938, 10833
        _click(driver, xy)
        time.sleep(0.3)
        popup = " ".join(e.text for e in driver.find_elements("css selector", ".leaflet-popup-content"))
        assert name in popup and "Share beyond" in popup, (name, popup)
        if area_id == areas["area_id"].iloc[2]:
            shot = tmp_path / "map_ward_popup.png"
            driver.save_screenshot(str(shot))
            assert shot.stat().st_size > 20_000
            shutil.copy(shot, Path(tempfile.gettempdir()) / "gapmap_map_ward_popup.png")
        # The popup pans the map to fit: close it and return to the initial view.
        driver.execute_script(f"var m = {_MAP}; m.closePopup(); m.setView(arguments[0], arguments[1], {{animate: false}});",
                              view[0], view[1])
        time.sleep(0.2)
    assert _errors(driver) == []


def test_default_map_legend_title_and_labels(driver, ck_run):
    _, files = ck_run
    driver.get(files["map.html"].resolve().as_uri())
    time.sleep(1.0)
    boxes = [e.text for e in driver.find_elements("css selector", ".gapmap-box")]
    title, legend = boxes[0], boxes[-1]
    # The headline with its range, the method once; the legend explains hexagons and uncertainty.
    assert "(between " in title or "suppressed" in title, title
    assert "Method:" in title and "straight-line" in title
    assert "dashed outline" in legend and "Hexagons: workers beyond 30 min" in legend and "suppressed" in legend
    labels = [e.text for e in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")]
    assert all("straight-line" not in lbl for lbl in labels), labels  # method stated once, in the title
    assert any(lbl.strip() == "Place names" for lbl in labels), labels
    # Community names read without tiles; hospitals are plain markers, never inside a cluster.
    names = [e.text for e in driver.find_elements("css selector", ".gapmap-label")]
    assert "Blenheim" in names and len(names) >= 10, names
    n_hosp = driver.execute_script(
        "var n = 0; document.querySelectorAll('.leaflet-marker-icon:not(.marker-cluster)').forEach(function (e) {"
        " if (e.innerText.trim() === 'H') n++; }); return n;")
    assert n_hosp >= 4, n_hosp  # Chatham, Wallaceburg, Leamington ... each visible at the initial view
    assert _errors(driver) == []


def test_french_map_has_no_english_sentence(driver, mirror, tmp_path):
    import gapmap
    from gapmap.settings import Settings

    files = gapmap.write_outputs(gapmap.analyze("chatham-kent", settings=Settings(lang="fr")), tmp_path / "fr")
    driver.get(files["map.html"].resolve().as_uri())
    time.sleep(1.2)
    assert _errors(driver) == []
    # textContent, not .text: the Approximations list sits in a closed <details> (not rendered until opened).
    texts = driver.execute_script("return Array.from(document.querySelectorAll('.gapmap-box')).map(e => e.textContent);")
    approx = driver.execute_script("return Array.from(document.querySelectorAll('.gapmap-box details li')).map(e => e.textContent);")
    assert len(approx) >= 5, approx  # method, sites, workers, population, location ranges
    assert driver.execute_script("return document.querySelectorAll('.gapmap-box [lang=en]').length;") == 0
    sources = driver.execute_script("return Array.from(document.querySelectorAll('.gapmap-box')).map(e => e.innerHTML)"
                                    ".filter(h => h.includes('<b>Sources</b>'))[0].split('<b>Sources</b>')[1];")
    assert "Statistique Canada" in sources and "licence non indiquée" in sources, sources
    texts += [e.text for e in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")]
    # A tooltip of an area: hover the first one at a free pixel.
    xy = driver.execute_script(
        f"var m = {_MAP}; var out = null; m.eachLayer(function (l) {{"
        " if (!out && l.feature && l.feature.properties && l.feature.properties.t_area && l.getBounds) {"
        "   var p = m.latLngToContainerPoint(l.getBounds().getCenter()); out = [p.x, p.y]; } }); return out;")
    for dx in range(0, 200, 20):
        _move(driver, (xy[0] + dx, xy[1]))
        time.sleep(0.2)
        tip = _tooltip_text(driver)
        if "Secteur" in tip:
            texts.append(tip)
            break
    assert any("Secteur" in t for t in texts), texts
    joined = "\n".join(texts)
    assert "Travailleurs à plus de 30 min" in joined and "\u202f" in joined
    found = [w for w in ENGLISH_WORDS if w.lower() in joined.lower()]
    assert found == [], (found, joined)
