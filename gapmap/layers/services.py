"""The services layer: ODHF facilities (classified and location-checked), ODCAF, OSM and user files."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gapmap import sources
from gapmap.sources import catalog
from gapmap.errors import InputError
from gapmap.layers.base import Layer, farther_than, lonlat_points, reject_rows
from gapmap.messages import Message

# --------------------------------------------------------------------------- services

# ODHF location checks (see docs/service-categories.md). A six-character postal code is a
# block face in town, so a facility more than LOCATION_FLAG_POSTAL_KM from its own code's
# point is suspect; a rural code (second character 0) is a post-office community serving a
# township (LOCATION_FLAG_POSTAL_RURAL_KM). Rural FSAs span 60+ km (N0P: Tilbury to
# Wardsville), so their centroid flags only beyond LOCATION_FLAG_FSA_RURAL_KM. Beyond
# LOCATION_REJECT_KM from both its own six-character code's point and its FSA centre, the
# facility cannot be at its stated address (another part of the province), unless its own
# census subdivision (which StatCan derived from the point) names its city or itself (then the
# postal code is the error: Chippewas of the Thames, N0H 2L0 is Southampton's). Northern
# Ontario (FSAs starting with P) is only flagged: its FSAs are hundreds of km across and its
# cazipcode points are unreliable (measured: Hornepayne, Attawapiskat, Osnaburgh and Britt
# points lie 100-330 km from those communities).
LOCATION_FLAG_POSTAL_KM = 5.0
LOCATION_FLAG_POSTAL_RURAL_KM = 15.0
LOCATION_FLAG_FSA_KM = 15.0
LOCATION_FLAG_FSA_RURAL_KM = 75.0
LOCATION_REJECT_KM = 100.0
# Slack for the simplified census-division polygons before "outside its stated CSD" is flagged.
_CD_TOLERANCE_M = 2_000.0

SERVICE_COLUMNS = ["service_id", "name", "category", "category_rule", "source_type", "provider", "address",
                   "in_region", "location_flag", "source", "source_row"]


@dataclasses.dataclass(frozen=True)
class CategoryMap:
    """A user's ``--category-map``: single-facility overrides and pattern rules tried before the built-in ones."""

    by_id: dict[str, str]
    patterns: tuple[tuple[str, re.Pattern, str], ...]  # (field, regex, category)
    path: str


def read_category_map(path: str | Path) -> CategoryMap:
    """Read a category map CSV: ``category`` plus ``facility_id`` (ODHF ``index`` or ``odhf-<index>``)
    and/or ``pattern`` (regex on ``field``, default ``facility_name``).

    Raises
    ------
    InputError
        An unknown category, a row with neither id nor pattern, or a bad regex (naming the row).
    """
    from gapmap import categories

    df = sources.read_csv(path, ["category"], what="Category map")
    cols = {c.lower(): c for c in df.columns}
    id_col = cols.get("facility_id") or cols.get("index") or cols.get("service_id")
    pat_col = cols.get("pattern")
    if id_col is None and pat_col is None:
        raise InputError(f"Category map {path} needs a facility_id (or index) column and/or a pattern column; add one.")
    by_id: dict[str, str] = {}
    patterns = []
    for _, row in df.iterrows():
        where = f"Category map {path} row {row['source_row']}"
        cat = row[cols["category"]].strip().lower()
        categories.require(cat, where=where)
        fid = row[id_col].strip() if id_col else ""
        pat = row[pat_col].strip() if pat_col else ""
        if not fid and not pat:
            raise InputError(f"{where} has neither a facility_id nor a pattern; fill one in or delete the row.")
        if fid:
            by_id[fid if fid.startswith("odhf-") else f"odhf-{fid}"] = cat
        if pat:
            field = row[cols["field"]].strip() if "field" in cols and row[cols["field"]].strip() else "facility_name"
            if field not in ("facility_name", "source_facility_type", "odhf_facility_type", "provider"):
                raise InputError(f"{where}: unknown field {field!r}; use facility_name, source_facility_type, odhf_facility_type or provider.")
            try:
                patterns.append((field, re.compile(pat, re.IGNORECASE), cat))
            except re.error as exc:
                raise InputError(f"{where}: pattern {pat!r} is not a valid regular expression ({exc}); fix it.") from None
    return CategoryMap(by_id, tuple(patterns), str(path))


def classify_odhf(df: pd.DataFrame, category_map: CategoryMap | None = None) -> pd.DataFrame:
    """Category and the rule that gave it, per ODHF row (see :mod:`gapmap.categories`).

    Order: the user's single-facility overrides, the user's pattern rules, then the registry's
    rules by ``order``; the first match wins.

    Returns
    -------
    DataFrame
        ``category, category_rule`` aligned with ``df``.
    """
    from gapmap import categories

    cat = pd.Series(None, index=df.index, dtype=object)
    why = pd.Series(None, index=df.index, dtype=object)
    if category_map is not None:
        if category_map.by_id:
            ids = "odhf-" + df["index"].astype(str)
            unknown = sorted(set(category_map.by_id) - set(ids))
            if unknown:
                raise InputError(f"Category map {category_map.path} names facility {unknown[0]!r}, which is not in ODHF; "
                                 "use the ODHF index (service_id odhf-<index> in services).")
            hit = ids.map(category_map.by_id)
            cat[hit.notna()] = hit[hit.notna()]
            why[hit.notna()] = f"category map {Path(category_map.path).name}: facility override"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for field, rx, c in category_map.patterns:
                m = cat.isna() & df[field].astype(str).str.contains(rx, na=False)
                cat[m], why[m] = c, f"category map {Path(category_map.path).name}: {field} ~ /{rx.pattern}/"
    # First match wins, so each rule only needs the rows no earlier rule matched: the regexes run
    # on a shrinking remainder, not on all 7,000 ODHF rows per rule (0.33 s -> 0.15 s per region).
    cats, whys = cat.to_numpy(dtype=object, copy=True), why.to_numpy(dtype=object, copy=True)
    with warnings.catch_warnings():  # groups in a pattern are fine: only the match matters
        warnings.simplefilter("ignore", UserWarning)
        for rule, c in categories.odhf_rules():
            todo = np.flatnonzero(pd.isna(cats))
            if not len(todo):
                break
            match = df[rule.field].iloc[todo].astype(str).str.contains(rule.compiled(), na=False).to_numpy(dtype=bool)
            if rule.within:  # a rule for one ODHF class only
                match = match & df["odhf_facility_type"].iloc[todo].astype(str).str.contains(
                    re.compile(rule.within, re.IGNORECASE), na=False).to_numpy(dtype=bool)
            hit = todo[match]
            cats[hit], whys[hit] = c, rule.reason
    return pd.DataFrame({"category": pd.Series(cats, index=df.index, dtype=object),
                         "category_rule": pd.Series(whys, index=df.index, dtype=object)})


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))


def _norm_place(text: pd.Series) -> pd.Series:
    text = text.astype(str).str.casefold().str.replace(r"[^\w\s]", " ", regex=True)
    return text.str.replace(r"\s+", " ", regex=True).str.strip()


def _place_agrees(df: pd.DataFrame) -> pd.Series:
    """True where the facility's own CSD name contains its city, or its name contains the CSD's
    (without the reserve number / "First Nation" suffix): the point matches the address place."""
    city = _norm_place(df["city"]) if "city" in df else pd.Series("", index=df.index)
    csd = _norm_place(df["CSDname"]) if "CSDname" in df else pd.Series("", index=df.index)
    core = csd.str.replace(r"\b(first nation|indian reserve)\b|\b\d+[a-z]?\b", " ", regex=True).str.split().str.join(" ")
    name = _norm_place(df["facility_name"]) if "facility_name" in df else pd.Series("", index=df.index)
    return pd.Series([bool(c) and (c in d) or bool(k) and (k in n) for c, d, k, n in zip(city, csd, core, name)], index=df.index)


def _own_postal_points(paths: list[Path]) -> pd.DataFrame:
    """``lat, lon`` indexed by code without space, of the codes with a point of their own
    (the first table listing a code wins)."""
    frames = [sources.read_csv(p, ["postal_code", "latitude", "longitude", "codes_sharing_this_point"], what="Postal points")
              for p in paths]
    pts = pd.concat(frames).drop_duplicates("postal_code")
    pts = pts[pts["codes_sharing_this_point"] == "1"]  # shared points are defaults, not locations
    return pts.assign(code=pts["postal_code"].str.replace(" ", ""), lat=sources.to_float(pts["latitude"]),
                      lon=sources.to_float(pts["longitude"])).set_index("code")[["lat", "lon"]]


def check_odhf_locations(df: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Distance of each facility's point from its own postal code's point and postal-area centroid.

    Parameters
    ----------
    df : DataFrame
        ODHF rows (``postal_code, latitude, longitude, CSDuid`` and ``geometry`` in a metric CRS
        are used when present).

    Returns
    -------
    DataFrame
        ``postal_km`` (to the six-character code's own point; NaN when the code has no point of
        its own), ``fsa_km`` (to the FSA centroid), ``flag`` (reason or ""), ``reject`` (bool: beyond
        :data:`LOCATION_REJECT_KM` of both, outside Northern Ontario, and its CSD does not name its
        city or itself), aligned with ``df``.
    """
    code = df["postal_code"].astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    paths = [catalog.resolve(d, data_dir) for d in ("postal_points_lmia_ontario", "postal_points_rural_ontario")
             if catalog.available(d, data_dir)]
    postal_km = pd.Series(np.nan, index=df.index)
    if paths:
        pts = sources.derived("ODHF check postal points", paths, lambda: _own_postal_points(paths))
        lat, lon = code.map(pts["lat"]), code.map(pts["lon"])
        postal_km = pd.Series(_haversine_km(df["latitude"], df["longitude"], lat, lon), index=df.index)
    fsa = sources.read_fsa_centroids(catalog.resolve("geonames_fsa", data_dir)).drop_duplicates("fsa").set_index("fsa")
    f3 = code.str[:3]
    fsa_km = pd.Series(_haversine_km(df["latitude"], df["longitude"], f3.map(fsa["latitude"]), f3.map(fsa["longitude"])),
                       index=df.index)
    flag = pd.Series("", index=df.index, dtype=object)
    rural = code.str[1] == "0"
    far_postal = postal_km > np.where(rural, LOCATION_FLAG_POSTAL_RURAL_KM, LOCATION_FLAG_POSTAL_KM)
    # Only the FSA is quoted: outputs never carry a full postal code (docs/privacy.md).
    flag[far_postal] = [f"{d:.1f} km from its own postal code's point (in {str(c)[:3]})"
                        for d, c in zip(postal_km[far_postal], df.loc[far_postal, "postal_code"])]
    far_fsa = fsa_km > np.where(rural, LOCATION_FLAG_FSA_RURAL_KM, LOCATION_FLAG_FSA_KM)
    for i in df.index[far_fsa]:
        text = f"{fsa_km[i]:.0f} km from its postal area {f3[i]}'s centre"
        flag[i] = f"{flag[i]}; {text}" if flag[i] else text
    if "geometry" in df and catalog.available("census_divisions_2016", data_dir):
        cd = df["CSDuid"].astype(str).str[:4]
        cds = gpd.read_file(catalog.resolve("census_divisions_2016", data_dir),
                            where=f"cduid IN ({', '.join(repr(c) for c in sorted(set(cd)))})").to_crs(df.crs)
        cds = cds.set_index("cduid")
        for i in df.index:
            if cd[i] in cds.index and df.geometry[i].distance(cds.geometry[cd[i]]) > _CD_TOLERANCE_M:
                text = f"outside its stated census subdivision {df.loc[i, 'CSDname']} (census division {cd[i]})"
                flag[i] = f"{flag[i]}; {text}" if flag[i] else text
    reject = ((postal_km > LOCATION_REJECT_KM) & (fsa_km > LOCATION_REJECT_KM) & (code.str[:1] != "P")
              & ~_place_agrees(df))
    return pd.DataFrame({"postal_km": postal_km, "fsa_km": fsa_km, "flag": flag, "reject": reject}, index=df.index)


def _odhf_services(boundary: gpd.GeoDataFrame, data_dir, edge_buffer_m: float,
                   category_map: CategoryMap | None) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame], int, list[str]]:
    """ODHF rows near the region, classified and location-checked; the rest accounted as rejects."""
    crs = boundary.crs
    path = catalog.resolve("odhf", data_dir)
    df = sources.read_odhf(path)
    rejects = []
    if category_map is None:  # the province's table, classified once per process per version of the rules
        from gapmap import categories

        classes = sources.derived(("ODHF categories", tuple(categories.odhf_rules())), [path], lambda: classify_odhf(df))
    else:
        classes = classify_odhf(df, category_map)
    df = pd.concat([df, classes], axis=1)
    bad_type = df["category"].isna()  # only a class outside ODHF's three escapes every rule
    rejects.append(reject_rows("services", path, df.loc[bad_type, "source_row"],
                            [f"unknown facility type {t!r}" for t in df.loc[bad_type, "odhf_facility_type"]]))
    df_ok = df[~bad_type]
    no_xy = df_ok["latitude"].isna() | df_ok["longitude"].isna()
    rejects.append(reject_rows("services", path, df_ok.loc[no_xy, "source_row"], "no coordinates"))
    gdf = lonlat_points(df_ok[~no_xy], "longitude", "latitude", crs)
    outline = boundary.geometry.iloc[0]
    far = farther_than(gdf, outline, edge_buffer_m)
    rejects.append(reject_rows("services", path, gdf.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    gdf = gdf[~far]
    loc = check_odhf_locations(gdf, data_dir)
    rejects.append(reject_rows("services", path, gdf.loc[loc["reject"], "source_row"],
                            [f"location check: {f} (point is not at its stated address; > {LOCATION_REJECT_KM:g} km from both)"
                             for f in loc.loc[loc["reject"], "flag"]]))
    n_flag = int((loc["flag"] != "").sum())
    notes = []
    if n_flag:
        one = n_flag == 1
        notes.append(Message(
            f"ODHF location checks: {n_flag} facilit{'y' if one else 'ies'} near the region lie{'s' if one else ''} far from "
            f"{'its' if one else 'their'} own postal code or area ({int(loc['reject'].sum())} rejected: more than "
            f"{LOCATION_REJECT_KM:g} km from both; the rest kept with a location_flag).",
            "note_odhf_locations", flagged=n_flag, rejected=int(loc["reject"].sum()), reject_km=float(LOCATION_REJECT_KM)))
    gdf, loc = gdf[~loc["reject"]], loc[~loc["reject"]]
    address = (gdf["street_no"] + " " + gdf["street_name"]).str.strip() + ", " + gdf["city"] + " " + gdf["postal_code"]
    services = gpd.GeoDataFrame(
        {
            "service_id": "odhf-" + gdf["index"].astype(str),
            "name": gdf["facility_name"],
            "category": gdf["category"],
            "category_rule": gdf["category_rule"],
            "source_type": gdf["source_facility_type"],
            "provider": gdf["provider"],
            "address": address.str.strip(" ,"),
            "in_region": gdf.within(outline).to_numpy(),
            "location_flag": loc["flag"],
            "source": "odhf",
            "source_row": gdf["source_row"].astype(int),
        },
        geometry=gdf.geometry, crs=crs,
    )
    return services, rejects, len(df), notes


def _odcaf_services(boundary: gpd.GeoDataFrame, data_dir, edge_buffer_m: float) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame], int, list[str]]:
    """ODCAF libraries and community/cultural centres near the region (registry ``odcaf_types``)."""
    from gapmap import categories

    path = catalog.resolve("odcaf", data_dir)
    df = sources.read_odcaf(path)
    kinds = categories.odcaf_map()
    cat = df["ODCAF_Facility_Type"].map(kinds)
    rejects = [reject_rows("services", path, df.loc[cat.isna(), "source_row"],
                        [f"ODCAF type {t!r} is not a service category" for t in df.loc[cat.isna(), "ODCAF_Facility_Type"]])]
    df = df[cat.notna()].assign(category=cat[cat.notna()])
    no_xy = df["Latitude"].isna() | df["Longitude"].isna()
    rejects.append(reject_rows("services", path, df.loc[no_xy, "source_row"], "no coordinates"))
    gdf = lonlat_points(df[~no_xy], "Longitude", "Latitude", boundary.crs)
    outline = boundary.geometry.iloc[0]
    far = farther_than(gdf, outline, edge_buffer_m)
    rejects.append(reject_rows("services", path, gdf.loc[far, "source_row"], f"outside region (> {edge_buffer_m / 1000:g} km from its boundary)"))
    gdf = gdf[~far]
    address = (gdf["Street_No"].replace("..", "") + " " + gdf["Street_Name"].replace("..", "")).str.strip() + ", " + gdf["City"]
    out = gpd.GeoDataFrame({
        "service_id": "odcaf-" + gdf["Index"].astype(str), "name": gdf["Facility_Name"], "category": gdf["category"],
        "category_rule": "ODCAF type " + gdf["ODCAF_Facility_Type"], "source_type": gdf["ODCAF_Facility_Type"],
        "provider": gdf["Provider"], "address": address.str.strip(" ,"), "in_region": gdf.within(outline).to_numpy(),
        "location_flag": "", "source": "odcaf", "source_row": gdf["source_row"].astype(int),
    }, geometry=gdf.geometry, crs=boundary.crs)
    return out, rejects, len(cat), []


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def build_services(boundary: gpd.GeoDataFrame, data_dir=None, *, edge_buffer_m: float = 30_000.0,
                   services_file: str | Path | list | None = None, category_map: str | Path | None = None,
                   osm_services: str | Path | bool | None = None, cache_dir: str | Path | None = None) -> Layer:
    """Services inside the region and within ``edge_buffer_m`` of it (people cross borders for care).

    Sources: ODHF health facilities (classified by :func:`classify_odhf`, location-checked by
    :func:`check_odhf_locations`), ODCAF libraries and community centres, optional OSM
    amenities (``osm_services``: True downloads, a path reads an ``.osm``/``.pbf`` file; see
    :mod:`gapmap.sources.osm`) and user files (``services_file``: one path or a list of CSVs with
    ``name, category`` and coordinates, e.g. settlement agencies; see ``data/services_template.csv``).

    Parameters
    ----------
    category_map : path, optional
        CSV overriding ODHF categories (see :func:`read_category_map`).
    """
    cmap = read_category_map(category_map) if category_map is not None else None
    services, rejects, n_read, notes = _odhf_services(boundary, data_dir, edge_buffer_m, cmap)
    parts = [services]
    datasets = ["odhf"]
    if catalog.available("odcaf", data_dir):
        extra, rej, n, more = _odcaf_services(boundary, data_dir, edge_buffer_m)
        parts.append(extra)
        rejects += rej
        n_read += n
        notes += more
        datasets.append("odcaf")
    if osm_services:
        from gapmap.sources import osm

        extra, rej, n, more = osm.osm_services(boundary, osm_services if osm_services is not True else None,
                                               edge_buffer_m=edge_buffer_m, cache_dir=cache_dir)
        parts.append(extra)
        rejects.append(rej)
        n_read += n
        notes += more
        datasets.append("osm" if osm_services is True else str(osm_services))
    for f in _as_list(services_file):
        extra, extra_rejects, n_extra, extra_notes = read_user_services(f, boundary, edge_buffer_m=edge_buffer_m)
        parts.append(extra)
        rejects.append(extra_rejects)
        notes += extra_notes
        n_read += n_extra
        datasets.append(str(f))
    services = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    services = services.sort_values("service_id", kind="stable").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    return Layer("services", gpd.GeoDataFrame(services, geometry="geometry", crs=boundary.crs), n_read, len(services), rej,
                 tuple(datasets), tuple(notes))


def read_user_services(path: str | Path, boundary: gpd.GeoDataFrame, *, edge_buffer_m: float = 30_000.0,
                       crs: str | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, list[str]]:
    """A user services file: ``name, category`` + coordinates (see :mod:`gapmap.sources.inputs`).

    Optional columns: ``service_id``, ``address``, ``capacity``, ``opening_hours``, ``languages``.
    """
    from gapmap.sources import inputs

    from gapmap import categories

    table = inputs.read_table(path, layer="services", required=("name", "category"), crs=crs)
    gdf, rej, notes = inputs.check_against_region(table, boundary, layer="services", id_col="service_id",
                                                  keep_outside_m=edge_buffer_m, points=True)
    cols = {c.lower(): c for c in gdf.columns}
    # A category the registry does not know (a typo, "dentist") is an accounted reject, not a new layer.
    resolved = gdf[cols["category"]].map(categories.resolve)
    unknown = resolved.isna()
    rej = pd.concat([rej, reject_rows("services", path, gdf.loc[unknown, "source_row"],
                                   [f"unknown category {c!r} (use one of {', '.join(categories.keys())})"
                                    for c in gdf.loc[unknown, cols["category"]]])], ignore_index=True)
    gdf, resolved = gdf[~unknown], resolved[~unknown]
    get = lambda name, default="": gdf[cols[name]] if name in cols else default  # noqa: E731
    ids = get("service_id", None)
    out = gpd.GeoDataFrame(
        # The file name keeps row ids apart when several files are given.
        {"service_id": ids.astype(str) if ids is not None else f"user-{Path(path).stem}-" + gdf["source_row"].astype(str),
         "name": get("name"), "category": resolved, "category_rule": f"user file {Path(path).name}", "source_type": "user",
         "provider": get("provider"), "address": get("address"),
         "in_region": gdf.within(boundary.geometry.iloc[0]).to_numpy(), "location_flag": "",
         "source": str(path), "source_row": gdf["source_row"].astype(int)},
        geometry=gdf.geometry, crs=boundary.crs,
    )
    for extra in ("capacity", "opening_hours", "languages"):
        if extra in cols:
            out[extra] = gdf[cols[extra]].to_numpy()
    return out, rej, table.rows_read, notes

