"""The folium elements of gapmap.output.webmap that carry input text, rendered and read back."""

import json
import re

import folium

from gapmap.output.webmap import RawHtml, SafePopup, SafeTooltip, prop_key, render_html, safe_colour


def _page(*children) -> str:
    m = folium.Map(tiles=None)
    marker = folium.Marker([42.4, -82.2])
    for c in children:
        marker.add_child(c)
    marker.add_to(m)
    return render_html(m)


def test_tooltip_is_a_json_string_not_a_template_literal():
    page = _page(SafeTooltip("a `${x}` \\ </script>"))
    call = re.search(r"\.bindTooltip\((.*?), \{", page, re.S).group(1)
    assert call == '"\\u003cdiv\\u003ea `$\\u007bx}` \\\\ \\u003c/script\\u003e\\u003c/div\\u003e"'
    assert json.loads(call) == "<div>a `${x}` \\ </script></div>"
    assert '"sticky": true' in page


def test_popup_sets_its_content_from_a_json_string():
    page = _page(SafePopup("<b>x</b>\u2028y", max_width=250))
    assert 'L.popup({\n  "maxWidth": 250,\n})' in page
    content = re.search(r"popup_0+2\.setContent\((.*?)\);", page).group(1)
    assert content == '"\\u003cdiv\\u003e\\u003cb\\u003ex\\u003c/b\\u003e\\u2028y\\u003c/div\\u003e"'
    assert re.search(r"marker_0+1\.bindPopup\(popup_0+2\);", page)
    assert "$(`" not in page  # folium's jQuery-based popup is not used


def test_raw_html_is_not_a_jinja_template():
    m = folium.Map(tiles=None)
    m.get_root().html.add_child(RawHtml("<div>{{ 7*7 }}{% if 1 %}x{% endif %}{# c #}</div>"))
    assert "<div>{{ 7*7 }}{% if 1 %}x{% endif %}{# c #}</div>" in render_html(m)


def test_folium_element_would_evaluate_jinja():
    # Why RawHtml exists: folium.Element compiles its text as a template, in Python.
    m = folium.Map(tiles=None)
    m.get_root().html.add_child(folium.Element("<div>{{ 7*7 }}</div>"))
    assert "<div>49</div>" in render_html(m)


def test_safe_colour():
    assert safe_colour("#AA0000", "#1F77B4") == "#AA0000"
    for bad in ["AA0000", "#AA00", "red", "#AA0000;background:url(x)", None, "</script>"]:
        assert safe_colour(bad, "#1F77B4") == "#1F77B4"


def test_prop_key_drops_jinja_openers_only():
    assert prop_key("hospital_30min_workers_not") == "hospital_30min_workers_not"
    assert prop_key("{{ 7*7 }}_30min_pop_not") == "(( 7*7 }}_30min_pop_not"
