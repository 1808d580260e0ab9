"""The gazetteer: named places of the border cities, with sourced coordinates.

The shipped table is ``data/gazetteer.csv``; a user's own file in the same columns adds places or
corrects them, merged over the shipped one by ``place_id`` (the ``--places`` option and the
``places`` setting). Every row cites the ``source`` of its coordinate and a ``confidence``:

``high``
    two independent sources agree within about 200 m;
``medium``
    one source;
``approximate``
    placed by a rule stated in ``notes`` (for example "the Mexican foot of the bridge where
    returnees are processed"), because no public coordinate of the building was found.

Coordinates of bridges come from their encyclopedia articles and the CBP port list, city points
from GeoNames (see each row's ``source``). :data:`CITY_BOUNDS` holds a bounding box per city,
taken generously around the municipality's built-up area and its ports of entry; it is used to
check that every place lies inside its city.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

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
    "aliases",
    "place_type",
    "city",
    "lat",
    "lon",
    "source",
    "confidence",
    "notes",
)
#: Columns a user's file may leave out (they are read as empty).
OPTIONAL_COLUMNS: frozenset[str] = frozenset({"aliases", "notes"})
#: Confidence of a coordinate, best first.
CONFIDENCES: tuple[str, ...] = ("high", "medium", "approximate")
#: Separator of the ``aliases`` cell.
ALIAS_SEP = "|"
_PLACE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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
        A CSV file in the gazetteer's columns (``aliases`` and ``notes`` may be left out). Its
        rows replace shipped rows with the same ``place_id`` and add the others.

    Returns
    -------
    pandas.DataFrame
        One row per place, columns :data:`COLUMNS`; ``lat`` and ``lon`` are floats, every other
        column a string (empty when missing). Shipped rows come first, in file order.

    Raises
    ------
    GazetteerError
        If a file cannot be read or a row is invalid; the message names the file, the row (as
        its line number in the file) and the column.
    """
    places = read_places(GAZETTEER_FILE)
    if extra is None:
        return places
    added = read_places(extra).set_index("place_id")
    merged = places.set_index("place_id")
    # Corrections keep the shipped row's position; new places go at the end.
    common = merged.index[merged.index.isin(added.index)]
    for col in merged.columns:
        merged.loc[common, col] = added.loc[common, col]
    new = added[~added.index.isin(merged.index)]
    return pd.concat([merged, new]).reset_index()[list(COLUMNS)]


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
    path = Path(path)
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
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    seen: dict[str, int] = {}
    for i in frame.index:
        line = int(i) + 2  # header is line 1
        _check_row(path, line, frame.loc[i], lat[i], lon[i], seen)
    out = frame.drop(columns=["lat", "lon"])
    out.insert(COLUMNS.index("lat"), "lat", lat.astype("float64"))
    out.insert(COLUMNS.index("lon"), "lon", lon.astype("float64"))
    return out.reset_index(drop=True)


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    if name not in raw.columns:
        return pd.Series("", index=raw.index, dtype=object)
    return raw[name].astype(str).str.strip()


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
    if row["place_type"] not in PLACE_TYPES:
        raise fail("place_type", f"{row['place_type']!r} is not one of {', '.join(PLACE_TYPES)}")
    if row["city"] not in CITIES:
        raise fail("city", f"{row['city']!r} is not one of {', '.join(CITIES)}")
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
    if row["confidence"] not in CONFIDENCES:
        raise fail("confidence", f"{row['confidence']!r} is not one of {', '.join(CONFIDENCES)}")
    if not row["source"]:
        raise fail("source", "empty; cite where the coordinate comes from")
    if row["confidence"] == "approximate" and not row["notes"]:
        raise fail("notes", "empty; an approximate place must state the rule that placed it")


def aliases(place: pd.Series) -> list[str]:
    """List a place's name and its aliases, name first, without empty entries."""
    names = [str(place["name"])]
    names += [a.strip() for a in str(place.get("aliases", "")).split(ALIAS_SEP)]
    return [n for n in dict.fromkeys(names) if n]


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
