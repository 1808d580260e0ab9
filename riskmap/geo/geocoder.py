"""The geocoder: place descriptions to gazetteer places, honestly.

A description such as "secuestrado afuera de la Central de Autobuses, Matamoros" is normalised
(:func:`normalize`: case, accents, punctuation, filler words, abbreviations such as "Nvo.",
"Pte.", "Int'l", "Cd."), then matched against the names and aliases of the gazetteer
(:mod:`riskmap.geo.gazetteer`):

1. **exact**: an alias occurs in the text as a run of whole words; the longest wins, and a city
   name beats a place alias that only partly overlaps it ("Puente Nuevo Laredo" is a bridge of
   Nuevo Laredo, not the "Puente Nuevo");
2. **fuzzy**: otherwise a run of words within :data:`FUZZY_THRESHOLD` (rapidfuzz's
   normalised Indel similarity) of an alias of five letters or more, with the same numbers
   ("Puente 1" never matches "Puente 2");
3. the **city** hint (a column, or a city named in the text) chooses between places that share an
   alias in different cities ("Puente Viejo" is the B&M bridge in Matamoros and Bridge I in Nuevo
   Laredo). US twins and Colombia, N.L. count as their Mexican neighbour's metropolitan area
   (:data:`riskmap.geo.gazetteer.METRO_AREAS`); a city named after "from"/"desde" is an origin, not
   the place of the incident;
4. **city_fallback**: when no place is credible but the city is known, the city point.

Precision follows ACLED's ``geo_precision`` codes spelled as words (see :mod:`riskmap.schema`):
``site`` for a named place, ``neighborhood`` for a neighbourhood or for "near"/"cerca de" a named
place, ``city`` when only the city is known, ``unresolved`` otherwise. Honesty comes before
coverage: an alias shared by two cities with no city to choose, two cities named with no column
to choose, a road between places ("carretera", "highway") or a state ("Tamaulipas") give
``unresolved``, with no coordinates.

A place the gazetteer knows without a point (``approximate``, no public coordinate: most bus
terminals, shelters and offices) is still found: the result carries its ``place_id``,
``place_type`` and precision (``site``, or ``neighborhood`` for a neighbourhood or "near" it)
with empty ``lat``/``lon``, so the incident is attributed to the place and listed by name
instead of being pinned where it is not. Such a place stands with a bridge named in the same
text only when the gazetteer says so (same ``site_group``, or ``beside``): its distance is
unknown.

``geocode_score`` (0-1) says how sure the match is: 1 for a unique alias found verbatim, less for
an alias that needed the city to choose, for a fuzzy match, for "near", and 0.4-0.6 for a city
point.

This module is the public face; the work is done in private modules, one step each:
:mod:`riskmap.geo._normalize` (the text), :mod:`riskmap.geo._match` (the alias index; exact and
fuzzy
matches; cities named in the text) and :mod:`riskmap.geo._resolve` (what the matches mean).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmap.errors import SchemaError
from riskmap.geo._match import Index, canonical_city, index_for
from riskmap.geo._normalize import is_missing, normalize
from riskmap.geo._resolve import COLOCATED_M, EARTH_RADIUS_M, resolve_place
from riskmap.schema import GEO_PRECISIONS

#: How a row was geocoded.
METHODS: tuple[str, ...] = ("exact", "fuzzy", "city_fallback", "given", "none")
#: Lowest rapidfuzz ratio (0-100) for a fuzzy alias match.
FUZZY_THRESHOLD = 85.0
#: A row with coordinates takes the place_id of the nearest site within this distance.
GIVEN_RADIUS_M = 150.0
#: Columns that :func:`geocode_frame` sets.
RESULT_COLUMNS: tuple[str, ...] = (
    "lat",
    "lon",
    "place_id",
    "place_name",
    "place_type",
    "geo_precision",
    "geocode_score",
    "geocode_method",
)

__all__ = [
    "COLOCATED_M",
    "FUZZY_THRESHOLD",
    "GIVEN_RADIUS_M",
    "METHODS",
    "RESULT_COLUMNS",
    "UNRESOLVED",
    "GeocodeResult",
    "geocode",
    "geocode_frame",
    "normalize",
]


@dataclass(frozen=True)
class GeocodeResult:
    """Where a description was placed, and how surely.

    Attributes
    ----------
    lat, lon
        WGS84 coordinates; None when unresolved, and None for a place the gazetteer knows
        without a point (an ``approximate`` place: a bus terminal, shelter or office with no
        public coordinate), which keeps its ``place_id``, ``place_type`` and precision.
    place_id, place_name, place_type
        The gazetteer place, or None (a city point carries its city row's id).
    geo_precision
        ``site``, ``neighborhood``, ``city`` or ``unresolved``.
    geocode_score
        Confidence of the match, 0 (none) to 1 (a unique alias found verbatim).
    geocode_method
        ``exact``, ``fuzzy``, ``city_fallback``, ``given`` or ``none``.
    """

    lat: float | None
    lon: float | None
    place_id: str | None
    place_name: str | None
    place_type: str | None
    geo_precision: str
    geocode_score: float
    geocode_method: str


_SCALAR_TYPES = frozenset({str, float, type(None), type(pd.NA), type(pd.NaT)})
# Points per block of the points x sites distance matrix.
_NEAREST_CHUNK = 16384

UNRESOLVED = GeocodeResult(None, None, None, None, None, "unresolved", 0.0, "none")


def _geocode_words(index: Index, text: str, city: str | None) -> GeocodeResult:
    placed = resolve_place(index, text, city, fuzzy_threshold=FUZZY_THRESHOLD)
    if placed is None:
        return UNRESOLVED
    i = placed.row
    # A place without a point is still the place: its id and kind, and no coordinates.
    pinned = bool(index.has_point[i])
    return GeocodeResult(
        lat=float(index.lat[i]) if pinned else None,
        lon=float(index.lon[i]) if pinned else None,
        place_id=index.ids[i],
        place_name=index.names[i],
        place_type=index.types[i],
        geo_precision=placed.precision,
        geocode_score=round(min(max(placed.score, 0.0), 1.0), 3),
        geocode_method=placed.method,
    )


@functools.lru_cache(maxsize=65536)
def _geocode_cached(index: Index, text: str, city: str | None) -> GeocodeResult:
    return _geocode_words(index, text, city)


def geocode(
    text: object, *, city: str | None = None, places: pd.DataFrame | None = None
) -> GeocodeResult:
    """Place one description.

    Parameters
    ----------
    text
        The place description, in Spanish or English ("afuera de la central camionera").
    city
        The row's city, if known: a name of :data:`riskmap.schema.CITIES` or a variant of one
        ("H. Matamoros", "Nvo. Laredo"); anything else is ignored.
    places
        The gazetteer (:func:`riskmap.geo.gazetteer.load_places`); the shipped one by default.

    Returns
    -------
    GeocodeResult
        ``unresolved`` with no coordinates when nothing credible matches; a place without a
        point has its ``place_id`` and precision but no coordinates.
    """
    index = index_for(places)
    hint = canonical_city(index, city) if city is not None else None
    return _geocode_cached(index, normalize(text), hint)


def geocode_frame(
    frame: pd.DataFrame,
    *,
    text_column: str = "location_text",
    city_column: str = "city",
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Geocode every row of a table.

    Each distinct (text, city) pair is geocoded once, so a table of 100,000 rows that repeat a
    few thousand descriptions takes seconds.

    A row whose ``lat`` and ``lon`` already hold valid coordinates (finite, within range, not
    0,0) keeps them, with method ``given`` and score 1. Its ``place_id`` becomes the nearest
    site with a point (a :data:`riskmap.schema.PUBLIC_SITE_TYPES` place) within
    :data:`GIVEN_RADIUS_M`; its precision is then ``site``. With no site that close, the row
    keeps its own ``place_id`` and ``geo_precision`` if it has them (the coordinates may be of a
    neighbourhood or a city), and is taken to be ``site`` precision otherwise, since someone
    chose those coordinates.

    Parameters
    ----------
    frame
        The table; it is not modified.
    text_column
        Column of place descriptions. It may be absent only if the table has ``lat`` and
        ``lon`` columns.
    city_column
        Column of city hints; ignored if absent.
    places
        The gazetteer; the shipped one by default.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame``, rows in the same order, with the columns of
        :data:`RESULT_COLUMNS` set.

    Raises
    ------
    SchemaError
        If the table has neither the text column nor coordinates.
    """
    has_coords = {"lat", "lon"} <= set(frame.columns)
    if text_column not in frame.columns and not has_coords:
        msg = (
            f"no column {text_column!r} of place descriptions (columns: "
            f"{', '.join(map(str, frame.columns))}); name the right one"
        )
        raise SchemaError(msg)
    index = index_for(places)
    out = frame.copy()
    n = len(out)
    blank = np.full(n, "", dtype=object)
    texts = _texts(out[text_column], missing="") if text_column in out.columns else blank
    hints = _texts(out[city_column], missing="") if city_column in out.columns else blank
    codes, uniques = _pairs(texts, hints)
    city_cache: dict[str, str | None] = {}
    results: list[GeocodeResult] = []
    for text, hint in uniques:
        if hint not in city_cache:
            city_cache[hint] = canonical_city(index, hint) if hint else None
        results.append(_geocode_cached(index, normalize(text), city_cache[hint]))
    table = pd.DataFrame(results, columns=list(RESULT_COLUMNS)) if results else None
    columns: dict[str, np.ndarray] = {}
    for col in RESULT_COLUMNS:
        if table is None:
            columns[col] = np.full(n, np.nan if col in {"lat", "lon", "geocode_score"} else None)
        else:
            columns[col] = table[col].to_numpy()[codes]

    if has_coords:
        lat = pd.to_numeric(out["lat"], errors="coerce").to_numpy(dtype="float64")
        lon = pd.to_numeric(out["lon"], errors="coerce").to_numpy(dtype="float64")
        given = (
            np.isfinite(lat)
            & np.isfinite(lon)
            & (np.abs(lat) <= 90)
            & (np.abs(lon) <= 180)
            & ~((lat == 0) & (lon == 0))
        )
        if given.any():
            _apply_given(index, out, columns, given, lat, lon)

    for col in RESULT_COLUMNS:
        if col in {"lat", "lon", "geocode_score"}:
            out[col] = pd.array(columns[col], dtype="float64")
        else:
            out[col] = pd.array(_texts(columns[col], missing=None), dtype="string")
    return out


def _pairs(texts: np.ndarray, hints: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Code each distinct (text, hint) pair in order of appearance, as a MultiIndex would.

    Each column is coded on its own and the pairs of codes then, without a tuple per row.
    """
    text_codes, text_values = pd.factorize(texts)
    hint_codes, hint_values = pd.factorize(hints)
    width = max(len(hint_values), 1)
    codes, pairs = pd.factorize(text_codes.astype(np.int64) * width + hint_codes)
    uniques = [(text_values[p // width], hint_values[p % width]) for p in pairs.tolist()]
    return codes, uniques


def _texts(values: pd.Series | np.ndarray, *, missing: str | None) -> np.ndarray:
    """Return each cell as text, ``missing`` where it is missing (None, NaN, NA, NaT)."""
    cells = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    kinds = set(map(type, cells))
    if not kinds <= _SCALAR_TYPES:
        # A list or an array in a cell is text, not missing: one cell at a time.
        return np.array(
            [missing if is_missing(v) else str(v) for v in cells], dtype=object, ndmin=1
        )
    # Text and missing scalars only: one whole-column test instead of one call per cell.
    out = np.array(cells, dtype=object)
    absent = pd.isna(out)
    out[absent] = missing
    if float in kinds and float in set(map(type, out[~absent])):
        numbers = np.flatnonzero(~absent)
        numbers = numbers[[type(v) is float for v in out[numbers]]]
        out[numbers] = [str(v) for v in out[numbers]]
    return out


def _texts_or_none(values: np.ndarray) -> np.ndarray:
    """Return :func:`_text_or_none` of each cell, computed once per distinct text."""
    texts = _texts(values, missing=None)
    present = np.flatnonzero(~pd.isna(texts))
    stripped = {t: t.strip() or None for t in set(texts[present])}
    out = np.full(len(texts), None, dtype=object)
    out[present] = [stripped[t] for t in texts[present]]
    return out


def _apply_given(
    index: Index,
    frame: pd.DataFrame,
    columns: dict[str, np.ndarray],
    given: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
) -> None:
    rows = np.flatnonzero(given)
    nearest, dist = _nearest_sites(index, lat[rows], lon[rows])
    own_id = frame["place_id"].to_numpy() if "place_id" in frame.columns else None
    own_precision = frame["geo_precision"].to_numpy() if "geo_precision" in frame.columns else None
    own_type = frame["place_type"].to_numpy() if "place_type" in frame.columns else None
    for col in RESULT_COLUMNS:
        columns[col] = columns[col].astype(object)
    columns["lat"][rows], columns["lon"][rows] = lat[rows], lon[rows]
    columns["geocode_method"][rows], columns["geocode_score"][rows] = "given", 1.0
    close = (nearest >= 0) & (dist <= GIVEN_RADIUS_M)
    at, site = rows[close], nearest[close].astype(int)
    for col, names in (("place_id", index.ids), ("place_name", index.names)):
        columns[col][at] = np.array(names, dtype=object)[site]
    columns["place_type"][at] = np.array(index.types, dtype=object)[site]
    columns["geo_precision"][at] = "site"
    first: dict[str, int] = {}  # as list.index finds it, in one lookup
    for i, place in enumerate(index.ids):
        first.setdefault(place, i)
    far = rows[~close]
    none = np.full(len(far), None, dtype=object)
    pid = _texts_or_none(own_id[far]) if own_id is not None else none
    known = np.array([first.get(p, -1) if p is not None else -1 for p in pid], dtype=int)
    found = known >= 0
    names = np.array(index.names, dtype=object)[known[found]]
    kinds = np.array(index.types, dtype=object)[known[found]]
    place_type = _texts_or_none(own_type[far]) if own_type is not None else none.copy()
    place_type[found] = kinds
    place_name = none.copy()
    place_name[found] = names
    precision = _texts_or_none(own_precision[far]) if own_precision is not None else none
    placed = [p for p in GEO_PRECISIONS if p != "unresolved"]
    ok = pd.Series(precision, dtype=object).isin(placed).to_numpy()
    columns["place_id"][far] = pid
    columns["place_name"][far] = place_name
    columns["place_type"][far] = place_type
    columns["geo_precision"][far] = np.where(ok, precision, "site")


def _text_or_none(value: object) -> str | None:
    if value is None or is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _nearest_sites(index: Index, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return, per point, the index of the nearest site (-1 if none) and its distance in m.

    Ties (co-located places) go to the better-sourced place, then to gazetteer order.
    """
    if index.site_idx.size == 0:
        return np.full(lat.shape, -1), np.full(lat.shape, np.inf)
    if lat.shape[0] > _NEAREST_CHUNK:
        # Points x sites distances a chunk at a time: the same answer in bounded memory.
        parts = [
            _nearest_sites(index, lat[i : i + _NEAREST_CHUNK], lon[i : i + _NEAREST_CHUNK])
            for i in range(0, lat.shape[0], _NEAREST_CHUNK)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    slat = np.radians(index.lat[index.site_idx])[None, :]
    slon = np.radians(index.lon[index.site_idx])[None, :]
    plat = np.radians(lat)[:, None]
    plon = np.radians(lon)[:, None]
    a = (
        np.sin((slat - plat) / 2) ** 2
        + np.cos(plat) * np.cos(slat) * np.sin((slon - plon) / 2) ** 2
    )
    dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    # Round to the metre so that co-located places tie, then prefer the better source.
    rank = index.confidence_rank[index.site_idx][None, :]
    key = np.round(dist) * 10 + rank
    best = np.argmin(key, axis=1)
    rows = np.arange(lat.shape[0])
    return index.site_idx[best], dist[rows, best]
