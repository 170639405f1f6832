"""Escaping for every text that reaches HTML or JavaScript, and the HTML pieces the pages share.

One rule per context, and no other way in:

- HTML text and quoted attribute values: :func:`esc` (``& < > " ' {`` as entities). Never build
  an unquoted attribute. ``{`` is there for folium: branca compiles every rendered script as a
  Jinja template a second time, so ``{{ ... }}`` reaching a layer name, a GeoJSON property or a
  tooltip would be evaluated in Python.
- URLs in ``href``: :func:`url_path`, relative paths from percent-encoded segments, so no
  scheme (``javascript:``) can appear.
- JavaScript: :func:`js_string`, a JSON string literal with ``< > & {`` and U+2028/U+2029 as
  ``\\u`` escapes, so it can neither close the ``<script>`` element nor a string. Input text is
  never placed in a JS template literal (backticks), where ``${...}`` would run.

HTML meant for a popup or tooltip is built in Python from escaped pieces and reaches the page
only through :func:`js_string` (:class:`gapmap.output.webmap.SafePopup`, ``SafeTooltip``).
Boxes of HTML go into folium as :class:`gapmap.output.webmap.RawHtml`: ``folium.Element``
would compile input text as a Jinja template and evaluate ``{{ ... }}`` in Python.
"""

from __future__ import annotations

import html
import json
from typing import Any, Iterable
from urllib.parse import quote

MISSING = "–"

# After json.dumps, these are the characters that still matter inside <script>: "<" can open
# "</script>" or "<!--", ">" and "&" are escaped as folium's own tojson does, "{" can open a
# Jinja tag (folium renders scripts twice), and the two line separators end a string literal
# in pre-2019 JavaScript.
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "{": "\\u007b", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers (NA, NaT)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT differ from themselves
    except (TypeError, ValueError):  # pd.NA refuses bool()
        return repr(value) == "<NA>"


def esc(value: Any, missing: str = MISSING) -> str:
    """Text for HTML body text or a quoted attribute value.

    Parameters
    ----------
    value : any
        Converted with ``str``; None and NaN give ``missing`` (already safe text).
    missing : str
        What to show for a missing value.

    Returns
    -------
    str
        ``value`` with ``& < > " ' {`` replaced by character references.
    """
    if is_missing(value):
        return missing
    return html.escape(str(value), quote=True).replace("{", "&#123;")


def url_path(*segments: Any) -> str:
    """A relative URL of percent-encoded path segments, HTML-escaped for an ``href`` attribute.

    Every character outside ``A-Z a-z 0-9 _ . - ~`` is encoded, ``/`` and ``:`` included, so a
    segment such as ``javascript:alert(1)`` stays a harmless relative path.
    """
    return esc("/".join(quote(str(s), safe="") for s in segments))


def js_string(value: Any) -> str:
    """A JavaScript string literal (JSON) holding ``str(value)``, safe inside a ``<script>`` element.

    Examples
    --------
    >>> js_string("</script>")
    '"\\\\u003c/script\\\\u003e"'
    """
    out = json.dumps(str(value), ensure_ascii=False)
    for ch, rep in _JS_ESCAPES.items():
        out = out.replace(ch, rep)
    return out


def ramp_legend(caption: str, colours: Iterable[str], suppressed: str) -> str:
    """The colour-ramp legend of the map and of the comparison page (HTML, inner part).

    Parameters
    ----------
    caption : str
        Plain text above the ramp (escaped here).
    colours : iterable of str
        CSS colours from 0 % to 100 %, left to right (our own colormap output, not input).
    suppressed : str
        Plain text next to the grey swatch (escaped here).
    """
    ramp = ", ".join(colours)
    return (f"<div>{esc(caption)}</div><div style='height:10px;width:200px;background:linear-gradient(to right, {ramp})'></div>"
            "<div style='width:200px;display:flex;justify-content:space-between'><span>0%</span><span>50%</span><span>100%</span></div>"
            f"<div><span style='display:inline-block;width:10px;height:10px;background:#ccc'></span> {esc(suppressed)}</div>")
