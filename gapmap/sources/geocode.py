"""Offline geocoding of community names and postal codes.

Two precisions, recorded on every geocoded row:

- ``community``: the named point of the community in a gazetteer (CGNDB-keyed, ~1 km);
  an employer "in Blenheim" may still be several km outside the village.
- ``postal_area``: the centre of the forward sortation area (first 3 characters of the
  postal code, GeoNames). Rural FSAs are huge (N0P spans most of rural Chatham-Kent and
  parts of Essex and Lambton): coarse, possibly 30+ km off.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

COMMUNITY = "community"
POSTAL_AREA = "postal_area"

PRECISION_LABELS = {
    COMMUNITY: "community point (gazetteer, about 1 km)",
    POSTAL_AREA: "postal-area (FSA) centroid approximation (coarse, can be 30+ km off)",
}

_TRAILING_PROVINCE = re.compile(r"[\s,]+(ontario|ont|on)\.?$")


def normalize_place(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a place name.

    >>> normalize_place("  Wallaceburg Ontario")
    'wallaceburg'
    >>> normalize_place("Chatham-kent")
    'chatham kent'
    """
    text = str(name).casefold().strip()
    text = _TRAILING_PROVINCE.sub("", text)
    text = re.sub(r"[-_/.,']+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def match_names(names: pd.Series, gazetteer_names: list[str], max_edits: int = 2) -> pd.Series:
    """Map each name to a gazetteer name, allowing small typos (``Blenehim`` -> ``Blenheim``).

    A fuzzy match needs at most ``max_edits`` edits and a name of 5+ characters, so short
    names never match by accident. Unmatched names give ``None``.
    """
    norm_gaz = {normalize_place(g): g for g in gazetteer_names}
    choices = list(norm_gaz)
    out = {}
    for raw in names.dropna().unique():
        key = normalize_place(raw)
        if key in norm_gaz:
            out[raw] = norm_gaz[key]
            continue
        hit = None
        if len(key) >= 5 and choices:
            hit = process.extractOne(key, choices, scorer=Levenshtein.distance, score_cutoff=max_edits)
        out[raw] = norm_gaz[hit[0]] if hit else None
    return names.map(out)


def geocode_places(
    places: pd.Series,
    fsas: pd.Series,
    gazetteer: pd.DataFrame | None,
    fsa_table: pd.DataFrame,
    *,
    municipality_names: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Geocode community names, falling back to the postal-area centroid.

    Parameters
    ----------
    places, fsas : Series
        Community name and 3-character FSA per row (same index).
    gazetteer : DataFrame or None
        ``name, latitude, longitude`` of named community points.
    fsa_table : DataFrame
        ``fsa, latitude, longitude`` of postal-area centres.
    municipality_names : tuple of str
        Normalised names that mean the whole municipality (never a community point).

    Returns
    -------
    DataFrame
        Same index; ``lon, lat, geocode_precision, geocode_match`` (NaN/None when neither works).
    """
    out = pd.DataFrame(index=places.index, columns=["lon", "lat", "geocode_precision", "geocode_match"], dtype=object)
    out[["lon", "lat"]] = np.nan
    norm = places.fillna("").map(normalize_place)
    if gazetteer is not None and len(gazetteer):
        matched = match_names(places.where(~norm.isin(municipality_names)), gazetteer["name"].tolist())
        pts = gazetteer.set_index("name")
        has = matched.notna()
        out.loc[has, "lon"] = matched[has].map(pts["longitude"]).to_numpy()
        out.loc[has, "lat"] = matched[has].map(pts["latitude"]).to_numpy()
        out.loc[has, "geocode_precision"] = COMMUNITY
        out.loc[has, "geocode_match"] = matched[has]
    fsa_pts = fsa_table.drop_duplicates("fsa").set_index("fsa")
    need = out["lon"].isna() & fsas.fillna("").str.len().eq(3) & fsas.isin(fsa_pts.index)
    out.loc[need, "lon"] = fsas[need].map(fsa_pts["longitude"]).to_numpy()
    out.loc[need, "lat"] = fsas[need].map(fsa_pts["latitude"]).to_numpy()
    out.loc[need, "geocode_precision"] = POSTAL_AREA
    out.loc[need, "geocode_match"] = fsas[need]
    out["lon"] = out["lon"].astype(float)
    out["lat"] = out["lat"].astype(float)
    for col in ("geocode_precision", "geocode_match"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
