"""Check and normalise one incident row; say exactly what is wrong when it cannot be imported.

Every problem of a row is reported at once ("date … ; victims …") so that whoever fixes the
quarantine file fixes it in one pass. Coordinates must fall in the study area (Tamaulipas and the
neighbouring border region); a point that would fall there with latitude and longitude swapped,
or with the minus sign of the (western) longitude restored, is rejected saying so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from riskmap.ingest.dates import DateProblem, parse_date
from riskmap.ingest.synonyms import (
    CITY_SYNONYMS,
    COORDINATES,
    EMPTY_VALUES,
    NUMBER_WORDS,
    PERPETRATOR_SYNONYMS,
    TYPE_SEPARATORS,
    TYPE_SYNONYMS,
    key,
)
from riskmap.schema import (
    DATE_PRECISIONS,
    GEO_PRECISIONS,
    INCIDENT_TYPES,
    PERPETRATORS,
    PLACE_TYPES,
    join_types,
)

#: Study area as (min lon, min lat, max lon, max lat): Tamaulipas, the Nuevo León and Coahuila
#: border strip and South Texas, generous enough for the roads between the border cities.
STUDY_AREA = (-101.5, 22.0, -96.5, 29.0)
#: Longest text accepted per column, in characters.
TEXT_LIMITS: dict[str, int] = {
    "incident_id": 100,
    "city": 100,
    "location_text": 500,
    "source": 1000,
    "notes": 5000,
    "place_id": 100,
}
#: Most people one incident may count (more is a typing error, or a total row).
MAX_COUNT = 10_000
#: Columns whose content identifies a record for duplicate detection (coordinates apart).
CONTENT_COLUMNS: tuple[str, ...] = (
    "date",
    "date_precision",
    "incident_types",
    "city",
    "location_text",
    "perpetrator",
    "victims",
    "children",
    "source",
    "notes",
    "synthetic",
)
_FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r])")
_TRUE = {"true", "1", "yes", "si", "t", "y", "x", "verdadero"}
_FALSE = {"false", "0", "no", "f", "n", "falso"}


@dataclass(frozen=True)
class RowRules:
    """How to read the cells of one file."""

    #: Read numeric dates day-first.
    dayfirst: bool = True
    #: Latest date accepted.
    today: dt.date = field(default_factory=dt.date.today)
    #: Extra value synonyms from a mapping file: column -> normalised value -> canonical value.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def clean_row(raw: Mapping[str, object], rules: RowRules) -> tuple[dict[str, object], list[str]]:
    """Check one row's cells and return its canonical values and its problems.

    Parameters
    ----------
    raw
        Canonical column (or ``"coordinates"``) -> the cell as read.
    rules
        Date order, today, mapping-file value synonyms.

    Returns
    -------
    tuple
        Canonical values (``coords_given`` tells whether the row had a point) and a list of
        problems; the row may be imported only if the list is empty.
    """
    out: dict[str, object] = {}
    problems: list[str] = []
    texts: dict[str, str | None] = {}
    for col, limit in TEXT_LIMITS.items():
        text = texts[col] = _text(raw.get(col))
        if text is not None and len(text) > limit:
            problems.append(f"{col} is {len(text)} characters long (at most {limit}); shorten it")
        out[col] = text
    out["incident_id"] = _blank(texts["incident_id"])
    _date(raw, out, problems, rules)
    _types(raw.get("incident_types"), out, problems, rules)
    city = _blank(texts["city"])
    out["city"] = None if city is None else _lookup(city, "city", CITY_SYNONYMS, rules) or city
    _perpetrator(raw.get("perpetrator"), out, problems, rules)
    _counts(raw, out, problems)
    _coordinates(raw, out, problems)
    synthetic = _blank(_text(raw.get("synthetic")))
    if synthetic is None or key(synthetic) in _FALSE:
        out["synthetic"] = False
    elif key(synthetic) in _TRUE:
        out["synthetic"] = True
    else:
        problems.append(f"synthetic {synthetic!r} is not true or false")
    for col, allowed in (("geo_precision", GEO_PRECISIONS), ("place_type", PLACE_TYPES)):
        value = _blank(_text(raw.get(col)))
        if value is not None and value not in allowed:
            problems.append(f"{col} {value!r} is not one of {', '.join(allowed)}")
        out[col] = value
    out["place_id"] = _blank(texts["place_id"])
    return out, problems


def signature(row: Mapping[str, object]) -> tuple[str, ...]:
    """Return the content of an incident as comparable text (coordinates apart).

    The same incident read from a CSV, a workbook or the store gives the same signature.
    """
    return tuple(_canon(row.get(col)) for col in CONTENT_COLUMNS)


def content_id(row: Mapping[str, object], *, lat: object = None, lon: object = None) -> str:
    """Return an incident id derived from the content, for rows that come without one."""
    parts = [*signature(row), _canon(lat), _canon(lon)]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"h-{digest[:16]}"


def _canon(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.5f}" if not value.is_integer() else str(int(value))
    return str(value).strip()


def _text(value: object) -> str | None:
    """Return a cell as stripped text (``None`` when empty), undoing a formula guard."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\x00", "").strip()
    # Exports prefix "'" to cells that spreadsheets would run as formulas; take it off again.
    text = _FORMULA_GUARD.sub("", text)
    return text or None


def _blank(text: str | None) -> str | None:
    return None if text is None or key(text) in EMPTY_VALUES else text


def _lookup(text: str, col: str, table: Mapping[str, str], rules: RowRules) -> str | None:
    k = key(text)
    return rules.values.get(col, {}).get(k) or table.get(k)


def _date(
    raw: Mapping[str, object], out: dict[str, object], problems: list[str], rules: RowRules
) -> None:
    value = raw.get("date")
    text = value if not isinstance(value, str) else _blank(_text(value))
    out["date"], out["date_precision"] = None, None
    try:
        day, precision = parse_date(
            "" if text is None else text, dayfirst=rules.dayfirst, today=rules.today
        )
    except DateProblem as e:
        problems.append(str(e))
        return
    given = _blank(_text(raw.get("date_precision")))
    if given is not None and given not in DATE_PRECISIONS:
        problems.append(f"date_precision {given!r} is not one of {', '.join(DATE_PRECISIONS)}")
    if given == "month":
        precision = "month"
        day = day.replace(day=1)
    out["date"], out["date_precision"] = day, precision


def _types(value: object, out: dict[str, object], problems: list[str], rules: RowRules) -> None:
    text = _blank(_text(value))
    out["incident_types"] = None
    if text is None:
        problems.append(f"no incident type; give one of {', '.join(INCIDENT_TYPES)}")
        return
    whole = _lookup(text, "incident_types", TYPE_SYNONYMS, rules)
    parts = [text] if whole else [p for p in TYPE_SEPARATORS.split(text) if p.strip()]
    found: list[str] = []
    unknown: list[str] = []
    for part in parts:
        got = _lookup(part, "incident_types", TYPE_SYNONYMS, rules)
        (found if got else unknown).append(got or part)
    if unknown:
        problems.append(
            f"incident type {', '.join(map(repr, unknown))} is not known; valid types: "
            f"{', '.join(INCIDENT_TYPES)} (Spanish names such as secuestro, extorsión, robo are "
            "understood; map others in a --mapping file)"
        )
        return
    out["incident_types"] = join_types(found)


def _perpetrator(
    value: object, out: dict[str, object], problems: list[str], rules: RowRules
) -> None:
    text = _blank(_text(value))
    out["perpetrator"] = None
    if text is None:
        return
    got = _lookup(text, "perpetrator", PERPETRATOR_SYNONYMS, rules)
    if got is None:
        problems.append(
            f"perpetrator {text!r} is not known; valid: {', '.join(PERPETRATORS)} (policía, "
            "crimen organizado, INM, ejército are understood; map others in a --mapping file)"
        )
    out["perpetrator"] = got


def _count(value: object) -> int | None:
    """Return a cell as a whole number (``None`` if empty); raise ``ValueError`` if it is not."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _blank(_text(value))
        if text is None:
            return None
        k = key(text)
        if k in NUMBER_WORDS:
            return NUMBER_WORDS[k]
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _counts(raw: Mapping[str, object], out: dict[str, object], problems: list[str]) -> None:
    for col in ("victims", "children"):
        out[col] = None
        try:
            n = _count(raw.get(col))
        except ValueError as e:
            problems.append(f"{col}: {e}; give a whole number of people (0 or more)")
            continue
        if n is not None and n < 0:
            problems.append(f"{col} is {n}; a count cannot be negative")
            continue
        if n is not None and n > MAX_COUNT:
            problems.append(f"{col} is {n}, more than {MAX_COUNT} people in one incident; check it")
            continue
        out[col] = n
    victims, children = out["victims"], out["children"]
    if isinstance(children, int) and children > 0:
        if victims is None:
            problems.append(
                f"children is {children} but victims is empty; children count among the "
                "victims, so give the number of victims too"
            )
        elif isinstance(victims, int) and children > victims:
            problems.append(
                f"children ({children}) is more than victims ({victims}); children count "
                "among the victims"
            )


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("°", " ").replace("º", " ")
    sign = 1.0
    m = re.fullmatch(r"([NSEWO])?\s*([^NSEWO]+?)\s*([NSEWO])?", text.upper())
    if m:
        hemisphere = m.group(1) or m.group(3)
        text = m.group(2)
        sign = -1.0 if hemisphere in {"S", "W", "O"} else 1.0
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return sign * number


def _coordinates(raw: Mapping[str, object], out: dict[str, object], problems: list[str]) -> None:
    out["lat"] = out["lon"] = None
    out["coords_given"] = False
    lat_raw, lon_raw = _blank(_text(raw.get("lat"))), _blank(_text(raw.get("lon")))
    pair = _blank(_text(raw.get(COORDINATES)))
    if lat_raw is None and lon_raw is None and pair is not None:
        parts = [p for p in re.split(r"[;,\s]+", pair) if p]
        if len(parts) != 2:
            problems.append(f"coordinates {pair!r} are not 'latitude, longitude'")
            return
        lat_raw, lon_raw = parts
    if lat_raw is None and lon_raw is None:
        return
    if lat_raw is None or lon_raw is None:
        missing = "lat" if lat_raw is None else "lon"
        problems.append(f"{missing} is empty but the other coordinate is given; give both or none")
        return
    try:
        lat, lon = _number(lat_raw), _number(lon_raw)
    except ValueError:
        problems.append(f"coordinates ({lat_raw!r}, {lon_raw!r}) are not decimal degrees")
        return
    reason = _where(lat, lon)
    if reason:
        problems.append(reason)
        return
    out["lat"], out["lon"], out["coords_given"] = lat, lon, True


def _inside(lat: float, lon: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = STUDY_AREA
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


def _where(lat: float, lon: float) -> str | None:
    """Return why a point is unacceptable, or ``None``."""
    if _inside(lat, lon):
        return None
    if _inside(lon, lat):
        return (
            f"lat {lat} and lon {lon} look swapped (the point lies in the study area the other "
            "way round); put the latitude (about 26) in lat and the longitude (about -98) in lon"
        )
    if _inside(lat, -lon):
        return (
            f"lon {lon} lacks its minus sign: longitudes west of Greenwich, as in Mexico, are "
            "negative"
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"coordinates ({lat}, {lon}) are out of range (lat -90..90, lon -180..180)"
    return (
        f"point ({lat}, {lon}) is outside the study area (Tamaulipas and the border region, "
        f"lon {STUDY_AREA[0]}..{STUDY_AREA[2]}, lat {STUDY_AREA[1]}..{STUDY_AREA[3]})"
    )
