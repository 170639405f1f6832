"""map.html and report.html in a real headless Chromium (Debian's chromium + chromedriver)."""

import time

import pytest

pytestmark = pytest.mark.browser

def _errors(driver):
    # Base-map tiles come from the internet, which CI does not have: only page errors count.
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "tile.openstreetmap.org" not in e["message"]]


def _overlay_count(driver):
    # Layers drawn on canvas leave no DOM nodes: ask Leaflet how many layers the map holds.
    return driver.execute_script(
        "var m = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0];"
        "var n = 0; m.eachLayer(function () { n++; }); return n;")


def test_map_loads_layers_toggle_and_screenshot(driver, ck_run, tmp_path):
    _, files = ck_run
    driver.get(files["map.html"].resolve().as_uri())
    time.sleep(1.5)
    assert _errors(driver) == []
    labels = [e.text for e in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")]
    for expected in ["Areas: share of workers", "Region boundary", "Catchments: hospital", "Services: hospital",
                     "Services: primary care", "Migrant-worker sites (hexagons"]:
        assert any(lbl.startswith(expected) for lbl in labels), (expected, labels)
    # Toggling a layer off removes its features from the map; on again restores them.
    before = _overlay_count(driver)
    boxes = driver.find_elements("css selector", ".leaflet-control-layers-overlays input")
    areas_box = next(b for b, lbl in zip(boxes, labels) if lbl.startswith("Areas"))
    areas_box.click()
    time.sleep(0.3)
    after = _overlay_count(driver)
    assert after < before
    areas_box.click()
    time.sleep(0.3)
    assert _overlay_count(driver) == before
    # A popup opens on a service marker.
    marker = driver.find_elements("css selector", ".leaflet-marker-icon:not(.marker-cluster):not(.gapmap-label-icon)")[0]
    driver.execute_script("arguments[0].click();", marker)  # the title box may cover it at this zoom
    time.sleep(0.3)
    assert driver.find_elements("css selector", ".leaflet-popup-content b")
    assert _errors(driver) == []
    shot = tmp_path / "map.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_escaped_names_render_as_text(driver, mirror, tmp_path):
    import gapmap

    svc = tmp_path / "svc.csv"
    svc.write_text('name,category,latitude,longitude\n"<img src=x onerror=alert(1)>",hospital,42.40,-82.15\n')
    files = gapmap.write_outputs(gapmap.analyze("chatham-kent", services_file=svc), tmp_path / "out")
    driver.get(files["map.html"].resolve().as_uri())
    time.sleep(1.0)
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert _errors(driver) == []


def test_report_renders_printable(driver, ck_run):
    _, files = ck_run
    driver.get(files["report.html"].resolve().as_uri())
    time.sleep(0.5)
    assert _errors(driver) == []
    imgs = driver.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
    assert imgs and all(w > 100 for w in imgs)
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {})
    assert len(pdf["data"]) > 10_000


def test_a_hostile_service_name_past_the_networks_roads_renders_as_text(driver, mirror, lonlat_grid, tmp_path):
    """The sentence naming the services past a road network's roads quotes input names (map title box, report)."""
    import gapmap

    grid = lonlat_grid(tmp_path / "grid.graphml", [-82.5 + 0.1 * i for i in range(10)], [42.02 + 0.1 * j for j in range(7)],
                       highway="secondary", speed_kph=60.0)
    name = "<img src=x onerror=alert(1)>{{7*7}}"
    svc = tmp_path / "svc.csv"  # 1.7 km south of the grid's southern road: past its roads, the nearest such service
    svc.write_text(f'name,category,latitude,longitude\n"{name}",hospital,42.005,-82.05\n')
    res = gapmap.analyze("chatham-kent", services_file=svc, network=str(grid))
    assert any(name in a for a in res.approximations)
    files = gapmap.write_outputs(res, tmp_path / "out")
    for page in ("map.html", "report.html"):
        driver.get(files[page].resolve().as_uri())
        time.sleep(1.0)
        assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert name in driver.execute_script("return document.body.textContent")  # shown as text, not evaluated (no 49)
        assert _errors(driver) == []
