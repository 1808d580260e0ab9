"""The gazetteer: named places of the border cities, with sourced coordinates.

The shipped table is ``data/gazetteer.csv``; a user's own file in the same columns adds places or
corrects them, merged over the shipped one by ``place_id`` (the ``--places`` option and the
``places`` setting). Every row cites its ``source`` and a ``confidence``:

``high``
    two independent sources agree on the coordinate within about 200 m;
``medium``
    one source;
``approximate``
    no public coordinate of the place itself was found. Its ``lat`` and ``lon`` are then empty:
    the place is known (descriptions resolve to it, incidents are attributed to it and listed by
    name) but not pinned. The only exception is a place that is one site with a sourced place
    (the INM repatriation post at the foot of its bridge): it shares that place's
    ``site_group`` and its point. ``notes`` states the rule either way.

Two places share a coordinate only when they are one site, that is when they share a
``site_group``; every other place is its own group (``site_group`` = ``place_id``), so the city
points coincide with nothing. ``beside`` lists the places the sources put a place next to (the
Matamoros camp beside the Gateway bridge): a description naming both means the place, not its
neighbour, even when the place has no point to measure the distance from. ``name`` is the
English or official name, ``name_es`` the name a Spanish-speaking shelter worker uses
(:func:`names`).

Coordinates of bridges come from their encyclopedia articles and the CBP port list, city points
from GeoNames, and the facts about places without a coordinate from news reports and public
files (see each row's ``source``). :data:`CITY_BOUNDS` holds a bounding box per city, taken
generously around the municipality's built-up area and its ports of entry; it is used to check
that every point lies inside its city.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap.errors import GazetteerError
from riskmap.schema import CITIES, PLACE_TYPES
from riskmap.settings import DATA_DIR

#: The shipped gazetteer.
GAZETTEER_FILE = DATA_DIR / "gazetteer.csv"
#: Columns of a gazetteer file, in order.
COLUMNS: tuple[str, ...] = (
    "place_id",
    "name",
    "name_es",
    "aliases",
    "place_type",
    "city",
    "site_group",
    "beside",
    "lat",
    "lon",
    "source",
    "confidence",
    "notes",
)
#: Columns a user's file may leave out: ``aliases``, ``beside`` and ``notes`` are then empty,
#: ``name_es`` is the ``name`` and ``site_group`` the ``place_id``.
OPTIONAL_COLUMNS: frozenset[str] = frozenset(
    {"aliases", "name_es", "site_group", "beside", "notes"}
)
#: Confidence of a coordinate, best first.
CONFIDENCES: tuple[str, ...] = ("high", "medium", "approximate")
#: Languages of :func:`names`: English (``name``) and Spanish (``name_es``).
LANGUAGES: tuple[str, ...] = ("en", "es")
#: Separator of the ``aliases`` and ``beside`` cells.
ALIAS_SEP = "|"
_PLACE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: Points closer than this (degrees, about 0.1 m) are the same coordinate.
_SAME_POINT_DEG = 1e-6


@dataclass(frozen=True)
class CityBounds:
    """A latitude/longitude box around a city (WGS84 degrees)."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        """Tell whether the point lies inside the box (edges included)."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east


#: Box around each city of :data:`riskmap.schema.CITIES`. Matamoros reaches west to the Los
#: Indios - Lucio Blanco bridge (in its municipality), Nuevo Laredo north to the World Trade
#: Bridge. Boxes of twin cities overlap across the river: a box cannot follow the Rio Grande.
CITY_BOUNDS: dict[str, CityBounds] = {
    "Matamoros": CityBounds(south=25.60, west=-97.85, north=26.10, east=-97.14),
    "Nuevo Laredo": CityBounds(south=27.30, west=-99.70, north=27.65, east=-99.40),
    "Reynosa": CityBounds(south=25.90, west=-98.50, north=26.20, east=-98.10),
    "Colombia": CityBounds(south=27.62, west=-99.85, north=27.78, east=-99.65),
    "Brownsville": CityBounds(south=25.85, west=-97.60, north=26.10, east=-97.30),
    "Laredo": CityBounds(south=27.40, west=-99.60, north=27.75, east=-99.35),
}

#: The metropolitan area each city belongs to, named after its Mexican city: the US twin and
#: Colombia, N.L. share their Mexican neighbour's bridges, so a city hint of "Brownsville" or
#: "Laredo" points to the places of Matamoros or Nuevo Laredo.
METRO_AREAS: dict[str, str] = {
    "Matamoros": "Matamoros",
    "Brownsville": "Matamoros",
    "Nuevo Laredo": "Nuevo Laredo",
    "Laredo": "Nuevo Laredo",
    "Colombia": "Nuevo Laredo",
    "Reynosa": "Reynosa",
}
#: Cities on the US side of the river.
US_CITIES: frozenset[str] = frozenset({"Brownsville", "Laredo"})


def load_places(extra: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read the shipped gazetteer, merged with a user's file by ``place_id``.

    Parameters
    ----------
    extra
        A CSV file in the gazetteer's columns (:data:`OPTIONAL_COLUMNS` may be left out). Its
        rows replace shipped rows with the same ``place_id`` and add the others.

    Returns
    -------
    pandas.DataFrame
        One row per place, columns :data:`COLUMNS`; ``lat`` and ``lon`` are floats (NaN for a
        place without a point), every other column a string (empty when missing). Shipped rows
        come first, in file order.

    Raises
    ------
    GazetteerError
        If a file cannot be read or a row is invalid, or if the merged gazetteer stacks two
        places on one point without making them one site, gives one site two points, or names
        an unknown place in ``beside``; the message names the file, the row (as its line
        number in the file) and the column.
    """
    places, lines = _read(GAZETTEER_FILE)
    where = [(GAZETTEER_FILE, line) for line in lines]
    if extra is not None:
        added, added_lines = _read(Path(extra))
        position = {pid: i for i, pid in enumerate(places["place_id"])}
        rows = [places.loc[i] for i in places.index]
        for i, pid in enumerate(added["place_id"]):
            origin = (Path(extra), added_lines[i])
            if pid in position:  # a correction keeps the shipped row's position
                rows[position[pid]] = added.loc[i]
                where[position[pid]] = origin
            else:
                rows.append(added.loc[i])
                where.append(origin)
        places = pd.DataFrame(rows, columns=list(COLUMNS)).reset_index(drop=True)
        places["lat"] = places["lat"].astype("float64")
        places["lon"] = places["lon"].astype("float64")
    _check_sites(places, where)
    return places


def read_places(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate one gazetteer file, without merging.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_places` returns it.

    Raises
    ------
    GazetteerError
        If the file cannot be read, lacks a column or holds an invalid row.
    """
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read and validate one file; return its places and the line of each in the file."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as e:
        msg = f"gazetteer file {path} does not exist"
        raise GazetteerError(msg) from e
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        msg = f"gazetteer file {path} cannot be read as UTF-8 CSV: {e}"
        raise GazetteerError(msg) from e
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns and c not in OPTIONAL_COLUMNS]
    if missing:
        msg = (
            f"gazetteer file {path} lacks column(s) {', '.join(missing)}; "
            f"its header must name {', '.join(COLUMNS)}"
        )
        raise GazetteerError(msg)
    frame = pd.DataFrame({c: _column(raw, c) for c in COLUMNS})
    # A file without the column takes the defaults; a column that is there must be filled.
    if "name_es" not in raw.columns:
        frame["name_es"] = frame["name"]
    if "site_group" not in raw.columns:
        frame["site_group"] = frame["place_id"]
    frame["beside"] = frame["beside"].map(_join_ids)
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    seen: dict[str, int] = {}
    lines = [int(i) + 2 for i in frame.index]  # header is line 1
    for i, line in zip(frame.index, lines, strict=True):
        _check_row(path, line, frame.loc[i], lat[i], lon[i], seen)
    out = frame.drop(columns=["lat", "lon"])
    out.insert(COLUMNS.index("lat"), "lat", lat.astype("float64"))
    out.insert(COLUMNS.index("lon"), "lon", lon.astype("float64"))
    return out.reset_index(drop=True), lines


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    if name not in raw.columns:
        return pd.Series("", index=raw.index, dtype=object)
    return raw[name].astype(str).str.strip()


def _join_ids(cell: str) -> str:
    return ALIAS_SEP.join(p.strip() for p in cell.split(ALIAS_SEP) if p.strip())


def beside_ids(place: pd.Series) -> list[str]:
    """List the ``place_id`` values of the places a place stands beside (its ``beside`` cell)."""
    return [p for p in str(place.get("beside", "") or "").split(ALIAS_SEP) if p]


def _check_row(
    path: Path, line: int, row: pd.Series, lat: float, lon: float, seen: dict[str, int]
) -> None:
    def fail(column: str, problem: str) -> GazetteerError:
        return GazetteerError(f"gazetteer file {path}, line {line}, column {column}: {problem}")

    pid = row["place_id"]
    if not _PLACE_ID.match(pid):
        raise fail("place_id", f"{pid!r} is not an identifier (lower-case letters, digits and _)")
    if pid in seen:
        raise fail("place_id", f"{pid!r} already used on line {seen[pid]}")
    seen[pid] = line
    if not row["name"]:
        raise fail("name", "empty; every place needs a name")
    if not row["name_es"]:
        raise fail(
            "name_es",
            "empty; give the place's Spanish name (or leave the column out to use the name)",
        )
    if row["place_type"] not in PLACE_TYPES:
        raise fail("place_type", f"{row['place_type']!r} is not one of {', '.join(PLACE_TYPES)}")
    if row["city"] not in CITIES:
        raise fail("city", f"{row['city']!r} is not one of {', '.join(CITIES)}")
    if not _PLACE_ID.match(row["site_group"]):
        raise fail(
            "site_group",
            f"{row['site_group']!r} is not an identifier (lower-case letters, digits and _); "
            "a place that is a site of its own has its place_id",
        )
    for other in beside_ids(row):
        if not _PLACE_ID.match(other) or other == pid:
            raise fail("beside", f"{other!r} is not the place_id of another place")
    if row["confidence"] not in CONFIDENCES:
        raise fail("confidence", f"{row['confidence']!r} is not one of {', '.join(CONFIDENCES)}")
    empty = {c for c in ("lat", "lon") if not row[c]}
    if empty == {"lat", "lon"}:
        if row["confidence"] != "approximate":
            raise fail(
                "lat",
                "empty; only an approximate place may have no coordinate: give the sourced "
                "coordinate, or make the confidence approximate and state the rule in notes",
            )
    elif empty:
        (column,) = empty
        raise fail(column, "empty while the other coordinate is given; give both or neither")
    else:
        for column, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
            if not (isinstance(value, float) and math.isfinite(value) and abs(value) <= limit):
                raise fail(
                    column,
                    f"{row[column]!r} is not a number between -{limit:g} and {limit:g} "
                    "(are lat and lon swapped?)",
                )
        if not CITY_BOUNDS[row["city"]].contains(lat, lon):
            raise fail(
                "lat",
                f"({lat}, {lon}) lies outside {row['city']} ({CITY_BOUNDS[row['city']]}); "
                "check the city, or whether lat and lon are swapped",
            )
    if not row["source"]:
        raise fail("source", "empty; cite where the coordinate or the facts come from")
    if row["confidence"] == "approximate" and not row["notes"]:
        raise fail("notes", "empty; an approximate place must state the rule that placed it")


def _check_sites(places: pd.DataFrame, where: list[tuple[Path, int]]) -> None:
    """Check the merged gazetteer: one point per site, one site per point, known neighbours."""

    def fail(i: int, column: str, problem: str) -> GazetteerError:
        path, line = where[i]
        return GazetteerError(f"gazetteer file {path}, line {line}, column {column}: {problem}")

    def at(j: int) -> str:
        path, line = where[j]
        return f"{places.at[j, 'place_id']} ({path.name} line {line})"

    ids = set(places["place_id"])
    group_point: dict[str, int] = {}
    point_group: dict[tuple[float, float], int] = {}
    for i in places.index:
        for other in beside_ids(places.loc[i]):
            if other not in ids:
                raise fail(i, "beside", f"{other!r} is no place_id of the gazetteer")
        lat, lon = places.at[i, "lat"], places.at[i, "lon"]
        group = places.at[i, "site_group"]
        has_point = bool(np.isfinite(lat) and np.isfinite(lon))
        first = group_point.setdefault(group, i)
        if first != i:
            flat, flon = places.at[first, "lat"], places.at[first, "lon"]
            same = (not has_point and not np.isfinite(flat)) or (
                has_point
                and np.isfinite(flat)
                and abs(lat - flat) < _SAME_POINT_DEG
                and abs(lon - flon) < _SAME_POINT_DEG
            )
            if not same:
                raise fail(
                    i,
                    "lat",
                    f"site_group {group!r} is one site with {at(first)}, which has another point "
                    "(or none); give both the same point, or give this place its own site_group",
                )
        if not has_point:
            continue
        key = (round(float(lat), 6), round(float(lon), 6))
        other_i = point_group.setdefault(key, i)
        if other_i != i and places.at[other_i, "site_group"] != group:
            raise fail(
                i,
                "lat",
                f"({lat}, {lon}) is also the point of {at(other_i)}; two places share a point "
                "only when they are one site (the same site_group). Leave lat and lon empty "
                "for a place without a coordinate of its own",
            )


def aliases(place: pd.Series) -> list[str]:
    """List a place's names and its aliases, name first, without empty entries.

    The Spanish name (``name_es``) comes second: it is a name people write too.
    """
    names = [str(place["name"]), str(place.get("name_es", "") or "")]
    names += [a.strip() for a in str(place.get("aliases", "")).split(ALIAS_SEP)]
    return [n for n in dict.fromkeys(names) if n]


def names(places: pd.DataFrame, lang: str = "en") -> pd.Series:
    """Return each place's name in a language.

    Parameters
    ----------
    places
        A gazetteer, as :func:`load_places` returns it (a frame without ``name_es`` gives
        the ``name`` in every language).
    lang
        ``"es"`` for ``name_es``, ``"en"`` for ``name``.

    Returns
    -------
    pandas.Series
        Strings, on the index of ``places``; a missing Spanish name falls back to ``name``.

    Raises
    ------
    ValueError
        If ``lang`` is not one of :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        msg = f"language {lang!r} is not one of {', '.join(LANGUAGES)}"
        raise ValueError(msg)
    english = places["name"].astype(str)
    if lang == "en" or "name_es" not in places.columns:
        return english
    spanish = places["name_es"]
    filled = spanish.notna() & (spanish.astype(str).str.strip() != "")
    return spanish.astype(str).where(filled, english)


def place_name(place: pd.Series | pd.DataFrame, lang: str = "en") -> str | pd.Series:
    """Return a place's name in a language (a row gives a string, a frame a Series).

    See :func:`names` for the languages and the fallback.
    """
    if isinstance(place, pd.DataFrame):
        return names(place, lang)
    return str(names(place.to_frame().T, lang).iloc[0])


def city_point(places: pd.DataFrame, city: str) -> pd.Series | None:
    """Return the ``city`` row of a city, or None if the gazetteer has none.

    Parameters
    ----------
    places
        A gazetteer, as :func:`load_places` returns it.
    city
        A city, spelled as in :data:`riskmap.schema.CITIES` (case is ignored).
    """
    wanted = city.strip().casefold()
    rows = places[(places["place_type"] == "city") & (places["city"].str.casefold() == wanted)]
    if rows.empty:
        return None
    return rows.iloc[0]


def in_city(lat: float, lon: float, city: str) -> bool:
    """Tell whether a point lies inside a city's box of :data:`CITY_BOUNDS`."""
    bounds = CITY_BOUNDS.get(city)
    return bounds is not None and bounds.contains(lat, lon)
