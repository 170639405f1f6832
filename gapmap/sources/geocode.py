"""Offline geocoding of employer sites from a community name and a postal code: a cascade.

Each row is placed by the first rule that can place it, and records which rule
(``geocode_precision``), the table used (``geocode_source``), that table's licence
(``geocode_licence``), the key that matched (``geocode_match``) and, in ``geocode_note``,
why every earlier rule could not place it:

1. ``postal_code``: the six-character postal code's own point, **only for an urban code**
   (second character not ``0``). In an urban forward sortation area (FSA) a code is a block
   face, a building or one large mail receiver, so its point is within a few hundred metres
   of the address: more precise than any community point. In a rural FSA (second character
   ``0``, e.g. ``N0P``) a code is one post office's whole delivery area (the village and its
   rural routes), so its point is a community-level point and it is *not* more precise than
   the cited gazetteer point: such codes wait for rule 3. A code whose point is shared with
   another code (``codes_sharing_this_point > 1``: a default point given to many codes) is
   not located and is skipped.
2. ``community``: the named point of the community in a cited gazetteer (CGNDB-keyed,
   about 1 km). Names are matched case-, accent- and punctuation-insensitively with up to 2
   edits (``Blenehim``); a name meaning the whole municipality (``Chatham-Kent``) never matches.
3. ``post_office``: the rural post office's point: the row's own rural code if it has a point
   of its own, else the rural post office named like the row's community (in the row's FSA;
   the classic ``X0X #X0`` code of that office first). About 1 km from the village centre,
   like rule 2, but from a table whose licence is not stated.
4. ``postal_area``: the centre of the FSA (GeoNames). Coarse: a rural FSA spans hundreds of
   km2 (N0P covers most of rural Chatham-Kent and parts of Essex and Lambton), so such a site
   is never assigned to a ward (:data:`AREA_UNKNOWN`).

A row no rule places gets NaN coordinates and the reasons in ``geocode_note``. Matches and
notes never quote a six-character postal code (near an address in towns: sensitive); they
name the community, the post office or the FSA. The point
tables for rules 1 and 3 are the mirror's ``postal-points-ontario`` subset (PyPI
``cazipcode``, licence not stated) or a user's own file (``--postal-points``: Statistics
Canada's PCCF or any ``postal_code, latitude, longitude`` CSV), which then replaces it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from gapmap.errors import InputError

POSTAL_CODE = "postal_code"
COMMUNITY = "community"
POST_OFFICE = "post_office"
POSTAL_AREA = "postal_area"
#: The cascade, most precise first.
PRECISIONS = (POSTAL_CODE, COMMUNITY, POST_OFFICE, POSTAL_AREA)

PRECISION_LABELS = {
    POSTAL_CODE: "six-character postal-code point (urban code, about an address block)",
    COMMUNITY: "community point (gazetteer, about 1 km)",
    POST_OFFICE: "rural post-office point (about 1 km from the village; farms can be several km away)",
    POSTAL_AREA: "postal-area (FSA) centroid approximation (coarse, can be 30+ km off)",
}

#: Short words for messages ("placed by its best point (rural post office: Florence post office)").
PRECISION_WORDS = {POSTAL_CODE: "own postal-code point", COMMUNITY: "community point",
                   POST_OFFICE: "rural post office", POSTAL_AREA: "postal-area centroid"}

#: ``area_id`` of a site placed only at a postal-area centroid: it is in no ward we could name.
AREA_UNKNOWN = "unknown"
AREA_UNKNOWN_NAME = "area unknown (postal-area only)"

GEOCODE_COLUMNS = ["lon", "lat", "geocode_precision", "geocode_match", "geocode_source", "geocode_licence", "geocode_note"]

_TRAILING_PROVINCE = re.compile(r"[\s,]+(ontario|ont|on)\.?$")
_CODE = re.compile(r"^[A-Z]\d[A-Z]\d[A-Z]\d$")
_POSTAL_NAMES = ("postal_code", "postalcode", "postal", "postcode", "pc", "code_postal")
_LAT_NAMES = ("latitude", "lat")
_LON_NAMES = ("longitude", "lon", "long", "lng")


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


def normalize_code(code: str) -> str:
    """Upper-case postal code without spaces (``"n0p 2p0"`` -> ``"N0P2P0"``)."""
    return re.sub(r"\s+", "", str(code)).upper()


def is_urban_code(code: str) -> bool:
    """True for a complete six-character code in an urban FSA (second character not ``0``).

    Only such a code's point is more precise than a community point (see the module docstring).

    >>> is_urban_code("N7M 5J7"), is_urban_code("N0P 2P0"), is_urban_code("N7M")
    (True, False, False)
    """
    code = normalize_code(code)
    return bool(_CODE.match(code)) and code[1] != "0"


def match_names(names: pd.Series, gazetteer_names: list[str], max_edits: int = 2) -> pd.Series:
    """Map each name to a gazetteer name, allowing small typos (``Blenehim`` -> ``Blenheim``).

    A fuzzy match needs at most ``max_edits`` edits and a name of 5+ characters, so short
    names never match by accident. Unmatched names give ``None``.
    """
    norm_gaz = {normalize_place(g): g for g in gazetteer_names}
    return names.map({raw: _match_one(raw, norm_gaz, max_edits) for raw in names.dropna().unique()})


def _match_one(raw: str, norm_gaz: dict[str, str], max_edits: int = 2) -> str | None:
    """:func:`match_names` for one name against ``{normalized name: name}``."""
    key = normalize_place(raw)
    if key in norm_gaz:
        return norm_gaz[key]
    hit = None
    if len(key) >= 5 and norm_gaz:
        hit = process.extractOne(key, list(norm_gaz), scorer=Levenshtein.distance, score_cutoff=max_edits)
    return norm_gaz[hit[0]] if hit else None


# --------------------------------------------------------------------------- tables


@dataclasses.dataclass(frozen=True)
class PointTable:
    """One geocoding table, with the source id and licence note every point it gives carries.

    ``frame`` is indexed by its unique key (code ``A1A1A1``, FSA, or gazetteer name) with
    ``latitude``, ``longitude``; postal tables also ``postal_code``, ``place`` (may be empty)
    and ``codes_sharing_this_point``.
    """

    frame: pd.DataFrame
    source: str  # catalog dataset id or user file path
    licence: str
    #: Lookups derived from ``frame`` once (the rural offices per FSA); a batch shares the table.
    derived: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class Gazetteers:
    """The tables of the cascade; any may be None (that rule is then skipped)."""

    fsa: PointTable | None
    community: PointTable | None = None
    postal: tuple[PointTable, ...] = ()  # six-character code points (rules 1 and 3)
    municipality_names: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """Source ids of the tables present, cascade order."""
        tables = [self.community, *self.postal, self.fsa]
        return tuple(dict.fromkeys(t.source for t in tables if t is not None))


def read_postal_points(path: str | Path, *, what: str = "Postal points") -> pd.DataFrame:
    """A postal-code point table: the mirror's ``postal-points-ontario`` CSVs or a user's file.

    Accepts any CSV with a postal-code column and latitude/longitude columns (names matched
    case-insensitively: ``postal_code, latitude, longitude``, or a PCCF export's ``PC, LAT,
    LONG``). Without a ``codes_sharing_this_point`` column, codes at the exact same
    coordinates are counted here. A code listed twice keeps its first row, or its single-link
    row where a PCCF ``SLI`` column marks one (``SLI = 1``). Rows with a malformed code or
    coordinates are dropped.

    Returns
    -------
    DataFrame
        ``postal_code`` (``A1A1A1``), ``place``, ``latitude``, ``longitude``, ``codes_sharing_this_point``.
    """
    from gapmap.sources.readers import read_csv, to_float

    df = read_csv(path, [], what=what)
    lower = {c.lower(): c for c in df.columns}
    pc, lat, lon = (next((lower[n] for n in names if n in lower), None) for names in (_POSTAL_NAMES, _LAT_NAMES, _LON_NAMES))
    if pc is None or lat is None or lon is None:
        raise InputError(f"{what} file {path} needs postal_code, latitude and longitude columns "
                         f"(found: {', '.join(df.columns[:12])}); rename the header.")
    out = pd.DataFrame({
        "postal_code": df[pc].map(normalize_code),
        "place": df[lower["place"]] if "place" in lower else "",
        "latitude": to_float(df[lat]),
        "longitude": to_float(df[lon]),
    })
    ok = out["postal_code"].str.match(_CODE.pattern) & out["latitude"].between(-90, 90) & out["longitude"].between(-180, 180)
    out = out[ok]
    if "sli" in lower:
        # PCCF: several records per code; the single-link indicator names the one to use.
        out = out.iloc[np.argsort(df.loc[out.index, lower["sli"]].ne("1").to_numpy(), kind="stable")]
    out = out.drop_duplicates("postal_code", keep="first").sort_index()
    if "codes_sharing_this_point" in lower:
        out["codes_sharing_this_point"] = pd.to_numeric(df.loc[out.index, lower["codes_sharing_this_point"]],
                                                        errors="coerce").fillna(1).astype(int)
    else:
        out["codes_sharing_this_point"] = out.groupby(["latitude", "longitude"])["postal_code"].transform("size").astype(int)
    return out.reset_index(drop=True)


def postal_table(frame: pd.DataFrame, source: str, licence: str) -> PointTable:
    """Wrap :func:`read_postal_points` output for the cascade."""
    return PointTable(frame.set_index(frame["postal_code"].rename("key")), source, licence)


def _postal_point_table(path: Path, source: str, licence: str) -> PointTable:
    """:func:`postal_table` of a file, built once per process per file version: a batch
    geocodes every region against the same province-wide tables, and the table keeps what
    the cascade derives from it (:attr:`PointTable.derived`)."""
    from gapmap.sources.readers import derived

    return derived(f"postal table {source} {licence}", [path],
                   lambda: postal_table(read_postal_points(path), source, licence))


def community_table(gazetteer: pd.DataFrame, source: str, licence: str) -> PointTable:
    """Wrap a ``name, latitude, longitude`` gazetteer for the cascade (``key`` = the name as written)."""
    gazetteer = gazetteer.drop_duplicates("name")
    return PointTable(gazetteer.set_index(gazetteer["name"].rename("key")), source, licence)


def fsa_table(fsas: pd.DataFrame, source: str, licence: str) -> PointTable:
    """Wrap an ``fsa, latitude, longitude`` table for the cascade."""
    fsas = fsas.drop_duplicates("fsa")
    return PointTable(fsas.set_index(fsas["fsa"].rename("key")), source, licence)


# --------------------------------------------------------------------------- the cascade


def geocode(places: pd.Series, postal_codes: pd.Series, tables: Gazetteers) -> pd.DataFrame:
    """Place each row by the first rule of the cascade that can (see the module docstring).

    Parameters
    ----------
    places : Series
        Community name per row (may be empty).
    postal_codes : Series
        Postal code per row, six characters or just the FSA (same index; may be empty).
    tables : Gazetteers
        The cascade's tables.

    Returns
    -------
    DataFrame
        Same index; :data:`GEOCODE_COLUMNS`. Unplaced rows have NaN ``lon, lat``, None
        precision and every rule's reason in ``geocode_note``.
    """
    keys = pd.DataFrame({"place": places.fillna("").astype(str), "code": postal_codes.fillna("").map(normalize_code)})
    # Each distinct (community, code) pair is geocoded once, then mapped back to its rows.
    pairs = keys.drop_duplicates().reset_index(drop=True)
    placed = _cascade(pairs["place"], pairs["code"], tables)
    pair_of = keys.merge(pairs.reset_index(), on=["place", "code"], how="left")["index"].to_numpy()
    out = placed.iloc[pair_of].set_axis(places.index)
    for col in GEOCODE_COLUMNS[2:]:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _cascade(places: pd.Series, codes: pd.Series, tables: Gazetteers) -> pd.DataFrame:
    """:func:`geocode` on distinct rows."""
    notes: dict = {i: [] for i in places.index}
    placed: dict = {}  # row -> (lon, lat, precision, match, source, licence); the frame is built once at the end
    todo = pd.Series(True, index=places.index)
    for precision, step in ((POSTAL_CODE, _by_own_code), (COMMUNITY, _by_community),
                            (POST_OFFICE, _by_post_office), (POSTAL_AREA, _by_postal_area)):
        if not todo.any():
            break
        found, why = step(places[todo], codes[todo], tables)
        for i, reason in why.items():
            notes[i].append(reason)
        for i, (lon, lat, match, table) in found.items():
            placed[i] = (lon, lat, precision, match, table.source, table.licence)
        todo &= ~places.index.isin(list(found))
    none = (np.nan, np.nan, None, None, None, None)
    rows = [placed.get(i, none) for i in places.index]
    out = pd.DataFrame({c: pd.Series([r[k] for r in rows], index=places.index, dtype=float if k < 2 else object)
                        for k, c in enumerate(GEOCODE_COLUMNS[:-1])})
    out["geocode_note"] = [("; ".join(notes[i]) or None) for i in out.index]
    return out


_Found = dict  # row index -> (lon, lat, match, PointTable): the rows a rule placed


def _own_point(code: str, table: PointTable) -> tuple[pd.Series | None, str | None]:
    """The table row of a code with a point of its own, or the reason it has none."""
    if code not in table.frame.index:
        return None, "not in the postal-point table"
    hit = table.frame.loc[code]
    shared = int(hit["codes_sharing_this_point"])
    if shared > 1:
        return None, f"shares its point with {shared - 1} other code(s), so it is not located"
    return hit, None


def _lookup_code(code: str, tables: Gazetteers) -> tuple[tuple | None, str | None]:
    """First postal table giving ``code`` a point of its own: ``(row, table)``, else the reason."""
    reason = "no postal-point table"
    for table in tables.postal:
        hit, why = _own_point(code, table)
        if hit is not None:
            return (hit, table), None
        if reason == "no postal-point table" or why.startswith("shares"):
            reason = why
    return None, reason


def _post_office_name(hit: pd.Series) -> str:
    """How a post-office point is named in ``geocode_match`` (its place, never its code)."""
    place = str(hit.get("place", "") or "").strip()
    return f"{place} post office" if place else f"post office in {hit['postal_code'][:3]}"


def _by_own_code(places: pd.Series, codes: pd.Series, tables: Gazetteers) -> tuple[_Found, dict]:
    """Rule 1: an urban six-character code with a point of its own."""
    found, why = {}, {}
    for i, code in codes.items():
        if not is_urban_code(code):
            continue  # rural or incomplete: a community-level code at best (rule 3)
        got, reason = _lookup_code(code, tables)
        if got is None:
            why[i] = f"its postal code {reason}"
            continue
        hit, table = got
        found[i] = (float(hit["longitude"]), float(hit["latitude"]), f"own postal code in {code[:3]}", table)
    return found, why


def _by_community(places: pd.Series, codes: pd.Series, tables: Gazetteers) -> tuple[_Found, dict]:
    """Rule 2: the community's named point in the cited gazetteer."""
    found, why = {}, {}
    gaz = tables.community
    norm = places.map(normalize_place)
    whole = norm.isin(tables.municipality_names)
    for i in places.index[whole]:
        why[i] = f"community {places[i]!r} names the whole municipality, not a place"
    named = ~whole & norm.ne("")
    if gaz is None:
        return found, why
    matched = match_names(places[named], gaz.frame.index.tolist())
    pts = gaz.frame
    for i, name in matched.items():
        if name is None or pd.isna(name):
            why[i] = f"community {places[i]!r} not in the gazetteer"
            continue
        found[i] = (float(pts.at[name, "longitude"]), float(pts.at[name, "latitude"]), name, gaz)
    return found, why


def _post_office_by_name(place: str, fsa: str, tables: Gazetteers) -> tuple[tuple | None, str | None]:
    """The rural post office named like ``place`` (in ``fsa`` when given), classic code first.

    Each table keeps its rural offices per FSA (:func:`_rural_offices`): a region asks for
    hundreds of names, and filtering the province's postal table again for each was most of a
    batch region's time (Huron, Durham: ~1 s each).
    """
    for table in tables.postal:
        offices = _rural_offices(table, fsa)
        if offices is None:
            continue
        rural, names, norm_gaz = offices
        hit = _match_one(place, norm_gaz)
        if hit is None:
            continue
        cand = rural[names == hit]
        if cand["postal_code"].str[:3].nunique() > 1:
            return None, f"post office {hit!r} exists in several postal areas"
        # The post office's own classic code (e.g. N0P 2P0) before its newer numbered codes.
        cand = cand.assign(classic=~cand["postal_code"].str.endswith("0")).sort_values(["classic", "postal_code"])
        return (cand.iloc[0], table), None
    return None, f"no rural post office named {place!r}" + (f" in {fsa}" if fsa else "")


def _rural_offices(table: PointTable, fsa: str) -> tuple[pd.DataFrame, pd.Series, dict[str, str]] | None:
    """The table's rural post-office rows (in ``fsa`` when given), their names and
    ``{normalized name: name}`` of the sorted distinct names; None when the table names no places.
    Kept in ``table.derived`` (every region of a batch asks the same table)."""
    cache = table.derived
    key = ("rural offices", fsa)
    if key not in cache:
        whole = ("rural offices", None)
        if whole not in cache:
            frame = table.frame
            if "place" not in frame or not frame["place"].astype(str).str.len().any():
                cache[whole] = None
            else:
                cache[whole] = frame[frame["postal_code"].str[1].eq("0") & frame["codes_sharing_this_point"].eq(1)]
        rural = cache[whole]
        if rural is not None and fsa:
            by_fsa = ("rural offices", "by FSA")
            if by_fsa not in cache:  # one split of the province's offices, in table order, for every FSA asked
                cache[by_fsa] = dict(list(rural.groupby(rural["postal_code"].str[:3], sort=False)))
            rural = cache[by_fsa].get(fsa, rural.iloc[0:0])
        if rural is None:
            cache[key] = None
        else:
            names = rural["place"].astype(str)
            cache[key] = (rural, names, {normalize_place(g): g for g in sorted(set(names))})
    return cache[key]


def _by_post_office(places: pd.Series, codes: pd.Series, tables: Gazetteers) -> tuple[_Found, dict]:
    """Rule 3: the rural post office of the row's code, else of its community name."""
    found, why = {}, {}
    if not tables.postal:
        return found, why
    norm = places.map(normalize_place)
    for i, code in codes.items():
        reasons = []
        if len(code) == 6 and code[1] == "0" and _CODE.match(code):
            got, reason = _lookup_code(code, tables)
            if got is not None:
                hit, table = got
                found[i] = (float(hit["longitude"]), float(hit["latitude"]), _post_office_name(hit), table)
                continue
            reasons.append(f"its rural postal code {reason}")
        if norm[i] and norm[i] not in tables.municipality_names:
            got, reason = _post_office_by_name(places[i], code[:3] if len(code) >= 3 else "", tables)
            if got is not None:
                hit, table = got
                found[i] = (float(hit["longitude"]), float(hit["latitude"]), _post_office_name(hit), table)
                if reasons:  # the code failed, the name placed it: keep why
                    why[i] = reasons[0]
                continue
            reasons.append(reason)
        if reasons:
            why[i] = "; ".join(reasons)
    return found, why


def _by_postal_area(places: pd.Series, codes: pd.Series, tables: Gazetteers) -> tuple[_Found, dict]:
    """Rule 4: the FSA centroid."""
    found, why = {}, {}
    fsa = tables.fsa
    pts = fsa.frame if fsa is not None else None
    for i, code in codes.items():
        key = code[:3]
        if len(key) < 3 or not re.match(r"^[A-Z]\d[A-Z]$", key):
            why[i] = "no valid postal code for a postal-area fallback"
        elif pts is None or key not in pts.index:
            why[i] = f"postal area {key} unknown"
        else:
            found[i] = (float(pts.at[key, "longitude"]), float(pts.at[key, "latitude"]), key, fsa)
    return found, why


def load_tables(*, gazetteer_dataset: str | None = None, municipality_names: tuple[str, ...] = (),
                data_dir=None, postal_points_file: str | Path | None = None) -> Gazetteers:
    """The cascade's tables from the catalog (missing optional tables are skipped).

    Parameters
    ----------
    gazetteer_dataset : str, optional
        Catalog id of the region's cited community gazetteer (rule 2).
    postal_points_file : path, optional
        A user's postal-code point file (PCCF or ``postal_code, latitude, longitude`` CSV). It
        replaces the mirror's postal-point tables (licence not stated) for rules 1 and 3.
    """
    from gapmap.sources import catalog
    from gapmap.sources.readers import read_fsa_centroids, read_gazetteer

    def entry(dataset_id: str) -> tuple[Path, str] | None:
        if not catalog.available(dataset_id, data_dir):
            return None
        return catalog.resolve(dataset_id, data_dir), catalog.dataset(dataset_id).licence

    fsa = entry("geonames_fsa")
    gaz = entry(gazetteer_dataset) if gazetteer_dataset else None
    if postal_points_file is not None:
        if not Path(postal_points_file).is_file():
            raise InputError(f"Postal points file {postal_points_file} does not exist; check the --postal-points path.")
        postal = (postal_table(read_postal_points(postal_points_file), str(postal_points_file), "as supplied by the user"),)
    else:
        postal = tuple(_postal_point_table(got[0], ds, got[1])
                       for ds in ("postal_points_lmia_ontario", "postal_points_rural_ontario") if (got := entry(ds)))
    return Gazetteers(
        fsa=fsa_table(read_fsa_centroids(fsa[0]), "geonames_fsa", fsa[1]) if fsa else None,
        community=community_table(read_gazetteer(gaz[0]), gazetteer_dataset, gaz[1]) if gaz else None,
        postal=postal, municipality_names=municipality_names,
    )


def geocode_places(places: pd.Series, fsas: pd.Series, gazetteer: pd.DataFrame | None, fsa_points: pd.DataFrame,
                   *, municipality_names: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rules 2 and 4 only: community name, else the FSA centroid (the cascade without postal points).

    Kept for callers without postal-point tables; see :func:`geocode` for the full cascade.
    """
    tables = Gazetteers(fsa=fsa_table(fsa_points, "geonames_fsa", "CC BY 4.0"),
                        community=None if gazetteer is None else community_table(gazetteer, "gazetteer", ""),
                        municipality_names=municipality_names)
    return geocode(places, fsas, tables)
