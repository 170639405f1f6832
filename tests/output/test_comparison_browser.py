"""comparison.html of a real batch in headless Chromium: the initial view frames every region
(Calgary and Halifax too), the layer control works, the table sorts by any header, and the
console stays clean."""

import time

import pytest

pytestmark = pytest.mark.browser

#: Two Ontario regions (one with postal-area sites), the two analysed regions outside Ontario.
REGIONS = ["chatham-kent", "elgin-st-thomas", "calgary", "halifax"]

_MAP = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0]"

#: Downtown points, independent of the boundaries drawn (lat, lon).
CITY_HALLS = {"calgary": (51.0453, -114.0581), "halifax": (44.6488, -63.5752), "chatham-kent": (42.4048, -82.1910)}


def _errors(driver):
    # Base-map tiles come from the internet, which CI does not have: only page errors count.
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "tile.openstreetmap.org" not in e["message"]]


@pytest.fixture(scope="module")
def batch_page(mirror, tmp_path_factory):
    from gapmap import batch

    out = tmp_path_factory.mktemp("comparison")
    res = batch.run_batch(REGIONS, out)
    assert [o.status for o in res.outcomes] == ["ok"] * len(REGIONS)
    return res, out / "comparison.html"


def _open(driver, page):
    driver.get(page.resolve().as_uri())
    time.sleep(1.0)


def _column(driver, index):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.gm-table tbody tr'))"
        ".map(r => r.cells[arguments[0]].textContent.trim());", index)


def _header_index(driver, starts):
    heads = driver.execute_script("return Array.from(document.querySelectorAll('table.gm-table th')).map(h => h.textContent);")
    return next(i for i, h in enumerate(heads) if h.startswith(starts))


def test_initial_view_frames_every_region(driver, batch_page):
    _, page = batch_page
    _open(driver, page)
    assert _errors(driver) == []
    for city, (lat, lon) in CITY_HALLS.items():
        inside = driver.execute_script(f"var m = {_MAP}; return m.getBounds().contains(L.latLng(arguments[0], arguments[1]));",
                                       lat, lon)
        assert inside, city
    # Each city lies on the visible part of the map (not under the page edge or the table).
    for city, (lat, lon) in CITY_HALLS.items():
        xy = driver.execute_script(f"var m = {_MAP}; var p = m.latLngToContainerPoint([arguments[0], arguments[1]]);"
                                   "var s = m.getSize(); return [p.x, p.y, s.x, s.y];", lat, lon)
        assert 0 <= xy[0] <= xy[2] and 0 <= xy[1] <= xy[3], (city, xy)


def test_layer_control_lists_and_toggles_the_regions(driver, batch_page):
    _, page = batch_page
    _open(driver, page)
    labels = driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
    assert [lbl.text.strip() for lbl in labels] == ["Regions: share of workers beyond 30 min of a hospital"]
    count = f"var m = {_MAP}; var n = 0; m.eachLayer(function (l) {{ if (l.feature) n++; }}); return n;"
    shown = driver.execute_script(count)
    assert shown == len(REGIONS)
    box = driver.find_element("css selector", ".leaflet-control-layers-overlays input")
    box.click()
    time.sleep(0.3)
    assert driver.execute_script(count) == 0
    box.click()
    time.sleep(0.3)
    assert driver.execute_script(count) == len(REGIONS)
    assert _errors(driver) == []


def test_header_click_sorts_rows_numbers_numerically_blanks_last(driver, batch_page):
    res, page = batch_page
    _open(driver, page)
    assert _column(driver, 0)[0].startswith(res.outcomes[0].name)  # request order at first
    col = _header_index(driver, "Workers")
    # Expected order worked out from comparison.csv, independently of the page.
    table = res.comparison.set_index("slug")
    known = table["workers"].dropna().astype(int).sort_values(kind="stable")
    blank = [s for s in REGIONS if pd_isna(table.loc[s, "workers"])]
    button = driver.find_elements("css selector", "table.gm-table th button")[col]
    button.click()
    time.sleep(0.2)
    th = driver.find_elements("css selector", "table.gm-table th")[col]
    assert th.get_attribute("aria-sort") == "ascending"
    slugs = driver.execute_script("return Array.from(document.querySelectorAll('table.gm-table tbody tr small'))"
                                  ".map(s => s.textContent);")
    assert slugs == list(known.index) + blank
    button.click()
    time.sleep(0.2)
    assert th.get_attribute("aria-sort") == "descending"
    slugs = driver.execute_script("return Array.from(document.querySelectorAll('table.gm-table tbody tr small'))"
                                  ".map(s => s.textContent);")
    # Descending from the ascending order: ties keep their order (a stable sort), blanks stay last.
    assert slugs == sorted(known.index, key=lambda slug: -known[slug]) + blank
    # Every other header is back to unsorted; the name column sorts alphabetically.
    others = [h.get_attribute("aria-sort") for i, h in enumerate(driver.find_elements("css selector", "table.gm-table th"))
              if i != col]
    assert set(others) == {"none"}
    driver.find_elements("css selector", "table.gm-table th button")[0].click()
    time.sleep(0.2)
    names = [n.split("\n")[0] for n in _column(driver, 0)]
    assert [n.lower() for n in names] == sorted(n.lower() for n in names)
    assert _errors(driver) == []


def test_headers_are_keyboard_buttons(driver, batch_page):
    from selenium.webdriver.common.keys import Keys

    _, page = batch_page
    _open(driver, page)
    col = _header_index(driver, "Workers placed only at a postal area")
    button = driver.find_elements("css selector", "table.gm-table th button")[col]
    assert button.tag_name == "button" and button.get_attribute("type") == "button"
    button.send_keys(Keys.ENTER)
    time.sleep(0.2)
    th = driver.find_elements("css selector", "table.gm-table th")[col]
    assert th.get_attribute("aria-sort") == "ascending"
    cells = _column(driver, col)
    # Ascending percentages, numerically (not as text), then the blanks.
    values = [float(c.rstrip("%")) for c in cells if c != "–"]
    assert values == sorted(values) and cells[len(values):] == ["–"] * (len(cells) - len(values))
    assert _errors(driver) == []


def pd_isna(v):
    import pandas as pd

    return bool(pd.isna(v))
