"""The escaping helpers of gapmap.output.html against hand-written expected strings."""

import json
import math

import pandas as pd
import pytest

from gapmap.output.html import esc, js_string, ramp_legend, url_path


@pytest.mark.parametrize("value, expected", [
    ("plain", "plain"),
    ("</script><script>window.__pwned=1</script>", "&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;"),
    ('"><img src=x onerror="window.__pwned=1">', "&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;"),
    ("O'Brien & Sons", "O&#x27;Brien &amp; Sons"),
    ("${window.__pwned=1}", "$&#123;window.__pwned=1}"),
    ("{{ 7*7 }}{% if 1 %}", "&#123;&#123; 7*7 }}&#123;% if 1 %}"),  # no Jinja tag survives (folium renders twice)
    (12, "12"),
    (2.5, "2.5"),
    (None, "–"),
    (math.nan, "–"),
    (pd.NA, "–"),
    (pd.NaT, "–"),
])
def test_esc(value, expected):
    assert esc(value) == expected


def test_esc_missing_marker_is_configurable():
    assert esc(None, missing="") == ""


@pytest.mark.parametrize("value, expected", [
    ("plain", '"plain"'),
    ("</script><script>x</script>", '"\\u003c/script\\u003e\\u003cscript\\u003ex\\u003c/script\\u003e"'),
    ("<!-- a", '"\\u003c!-- a"'),
    ("a & b", '"a \\u0026 b"'),
    ("`${window.__pwned=1}`", '"`$\\u007bwindow.__pwned=1}`"'),
    ("{{ 7*7 }}{# c #}", '"\\u007b\\u007b 7*7 }}\\u007b# c #}"'),
    ("ends with \\", '"ends with \\\\"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("it's", '"it\'s"'),
    ("line\u2028para\u2029end", '"line\\u2028para\\u2029end"'),
    ("new\nline", '"new\\nline"'),
    ("Québec", '"Québec"'),
])
def test_js_string(value, expected):
    assert js_string(value) == expected


@pytest.mark.parametrize("value", ["</script>", "`${1}`", "\\", "\u2028", "'\"", "{{ 7*7 }}", "é & <b>"])
def test_js_string_round_trips_as_json(value):
    # JSON is a subset of JavaScript string syntax: what JSON reads back is what the browser sees.
    assert json.loads(js_string(value)) == value


@pytest.mark.parametrize("segments, expected", [
    (("chatham-kent", "map.html"), "chatham-kent/map.html"),
    (("javascript:window.__pwned=1//", "map.html"), "javascript%3Awindow.__pwned%3D1%2F%2F/map.html"),
    (('a"b', "map.html"), "a%22b/map.html"),
    (("../../etc", "map.html"), "..%2F..%2Fetc/map.html"),
])
def test_url_path(segments, expected):
    assert url_path(*segments) == expected


def test_ramp_legend_escapes_its_texts():
    out = ramp_legend("<b>caption</b>", ["#000000", "#ffffff"], "O'K")
    assert "<div>&lt;b&gt;caption&lt;/b&gt;</div>" in out
    assert "linear-gradient(to right, #000000, #ffffff)" in out
    assert out.endswith("</span> O&#x27;K</div>")
