"""The geocoder: place descriptions to gazetteer places, honestly.

A description such as "secuestrado afuera de la Central de Autobuses, Matamoros" is normalised
(:func:`normalize`: case, accents, punctuation, filler words, abbreviations such as "Nvo.",
"Pte.", "Int'l", "Cd."), then matched against the names and aliases of the gazetteer
(:mod:`riskmap.gazetteer`):

1. **exact**: an alias occurs in the text as a run of whole words; the longest wins, and a city
   name beats a place alias that only partly overlaps it ("Puente Nuevo Laredo" is a bridge of
   Nuevo Laredo, not the "Puente Nuevo");
2. **fuzzy**: otherwise a run of words within :data:`FUZZY_THRESHOLD` (rapidfuzz's
   normalised Indel similarity) of an alias of five letters or more, with the same numbers
   ("Puente 1" never matches "Puente 2");
3. the **city** hint (a column, or a city named in the text) chooses between places that share an
   alias in different cities ("Puente Viejo" is the B&M bridge in Matamoros and Bridge I in Nuevo
   Laredo). US twins and Colombia, N.L. count as their Mexican neighbour's metropolitan area
   (:data:`riskmap.gazetteer.METRO_AREAS`); a city named after "from"/"desde" is an origin, not
   the place of the incident;
4. **city_fallback**: when no place is credible but the city is known, the city point.

Precision follows ACLED's ``geo_precision`` codes spelled as words (see :mod:`riskmap.schema`):
``site`` for a named place, ``neighborhood`` for a neighbourhood or for "near"/"cerca de" a named
place, ``city`` when only the city is known, ``unresolved`` otherwise. Honesty comes before
coverage: an alias shared by two cities with no city to choose, two cities named with no column
to choose, a road between places ("carretera", "highway") or a state ("Tamaulipas") give
``unresolved``, with no coordinates.

``geocode_score`` (0-1) says how sure the match is: 1 for a unique alias found verbatim, less for
an alias that needed the city to choose, for a fuzzy match, for "near", and 0.4-0.6 for a city
point.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from unidecode import unidecode

from riskmap.errors import SchemaError
from riskmap.gazetteer import METRO_AREAS, US_CITIES, aliases, load_places
from riskmap.schema import CITIES, GEO_PRECISIONS, PUBLIC_SITE_TYPES

#: How a row was geocoded.
METHODS: tuple[str, ...] = ("exact", "fuzzy", "city_fallback", "given", "none")
#: Lowest rapidfuzz ratio (0-100) for a fuzzy alias match.
FUZZY_THRESHOLD = 85.0
#: A row with coordinates takes the place_id of the nearest site within this distance.
GIVEN_RADIUS_M = 150.0
#: Two matched sites closer than this are one location (the camp at the foot of the bridge).
COLOCATED_M = 300.0
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

_EARTH_RADIUS_M = 6_371_008.8
_MIN_FUZZY_CHARS = 5
#: Fuzzy matching looks at this many words at most (exact matching reads them all).
_MAX_FUZZY_WORDS = 80
#: Lowest ratio between a misspelt word and its alias word.
_MIN_WORD_RATIO = 75.0

# --- normalisation vocabularies -------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Abbreviations and English synonyms, each mapped to one canonical word.
_ABBREVIATIONS: dict[str, str] = {
    "nvo": "nuevo",
    "nva": "nueva",
    "pte": "puente",
    "pto": "puerto",
    "intl": "internacional",
    "int": "internacional",
    "international": "internacional",
    "bridge": "puente",
    "cd": "ciudad",
    "col": "colonia",
    "fracc": "fraccionamiento",
    "av": "avenida",
    "ave": "avenida",
    "avda": "avenida",
    "blvd": "bulevar",
    "blvr": "bulevar",
    "boulevard": "bulevar",
    "bulevard": "bulevar",
    "gral": "general",
    "sta": "santa",
    "sto": "santo",
    "tamps": "tamaulipas",
    "tamp": "tamaulipas",
    "tam": "tamaulipas",
    "tx": "texas",
    "tex": "texas",
    "mex": "mexico",
    "mx": "mexico",
    "edo": "estado",
    "ctral": "central",
    "inst": "instituto",
    "nal": "nacional",
    "migr": "migracion",
    "hwy": "highway",
    "carr": "carretera",
}
#: Articles and prepositions that carry no place information.
_FILLER: frozenset[str] = _words(
    "el la los las lo de del en a al e y u un una unos unas con por para se que su sus the "
    "of at in on an and to by into onto"
)
#: Words that may stand between "puente" and its number ("Puente No. 2").
_NUMBER_WORDS: frozenset[str] = frozenset({"no", "num", "numero", "number", "nro", "n"})
#: Spelled and Roman bridge numbers, converted only right after "puente"/"internacional".
_NUMERALS: dict[str, str] = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "one": "1",
    "two": "2",
    "three": "3",
}
_NUMBERED: frozenset[str] = frozenset({"puente", "internacional"})
#: Verbs of coming from somewhere: their "de" means "from" ("viene de Reynosa").
_MOTION_VERBS: frozenset[str] = _words(
    "viene venia venian vienen vino vinieron llego llegaron llegamos salio salieron "
    "salimos procedente procedentes proveniente provenientes originario originaria"
)
_APOSTROPHES = re.compile(r"['`\u2019]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# --- matching vocabularies (normalised words) -----------------------------------------------

#: A city named right after one of these is where someone came from.
_FROM_WORDS: frozenset[str] = frozenset(
    {"from", "desde", "procedente", "procedentes", "proveniente", "provenientes"}
)
#: After one of these a US city is where the person was returned from.
_RETURN_WORDS: frozenset[str] = _words(
    "returned deported sent expelled removed devuelto devuelta devueltos devueltas "
    "deportado deportada deportados deportadas retornado retornada retornados retornadas "
    "regresado regresada regresados regresadas expulsado expulsada expulsados via"
)
#: A city name right after one of these is a street or neighbourhood ("Calle Matamoros").
_STREET_WORDS: frozenset[str] = _words(
    "calle avenida bulevar colonia fraccionamiento privada andador callejon street avenue"
)
#: "near X" is near, not at, X: ACLED's precision 2.
_PROXIMITY_WORDS: frozenset[str] = _words(
    "near nearby cerca cercano cercana cercanias inmediaciones alrededores around rumbo "
    "vicinity proximidades close cuadras blocks"
)
#: A road is not a point: without a named site such a row stays unresolved.
_ROAD_WORDS: frozenset[str] = frozenset(
    {"carretera", "highway", "autopista", "freeway", "brecha", "riberena"}
)
#: Generic nouns of each place type: "cerca del puente" after a bridge's name is near it.
_TYPE_NOUNS: dict[str, frozenset[str]] = {
    "port_of_entry": frozenset({"puente", "garita", "port"}),
    "bus_terminal": frozenset({"central", "terminal", "camionera", "station", "estacion"}),
    "shelter": frozenset({"albergue", "casa", "shelter", "refugio"}),
    "immigration_office": frozenset({"oficina", "oficinas", "inm", "migracion", "office"}),
    "camp": frozenset({"campamento", "camp", "encampment"}),
    "plaza": frozenset({"plaza", "catedral", "square", "cathedral"}),
}
_BETWEEN_WORDS: frozenset[str] = frozenset({"entre", "between"})
#: Towns outside the gazetteer: a row placed there must not fall back to a border city.
_OTHER_TOWNS: frozenset[str] = frozenset(
    {
        "monterrey",
        "ciudad victoria",
        "san fernando",
        "valle hermoso",
        "tampico",
        "saltillo",
        "piedras negras",
        "miguel aleman",
        "ciudad mier",
    }
)
#: "centro" followed by one of these is a building, not the downtown.
_CENTRO_NOT_DOWNTOWN: frozenset[str] = _words(
    "comercial salud detencion atencion integrador readaptacion rehabilitacion comunitario "
    "cristiano medico penitenciario migratorio mall"
)
#: "INM agents" name a perpetrator, not the INM office.
_AGENT_WORDS: frozenset[str] = _words(
    "agente agentes agent agents officer officers oficial oficiales elementos personal "
    "funcionario funcionarios official officials"
)
_AGENCY_WORDS: frozenset[str] = frozenset({"inm", "migracion", "immigration"})


@dataclass(frozen=True)
class GeocodeResult:
    """Where a description was placed, and how surely.

    Attributes
    ----------
    lat, lon
        WGS84 coordinates, or None when unresolved.
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


UNRESOLVED = GeocodeResult(None, None, None, None, None, "unresolved", 0.0, "none")


def normalize(text: object) -> str:
    """Normalise a place description for matching.

    Lower-cases, strips accents and punctuation, expands abbreviations ("Nvo." -> "nuevo",
    "Pte." -> "puente", "Int'l" -> "internacional", "Cd." -> "ciudad"), maps English words
    that have a Spanish twin ("bridge" -> "puente"), drops articles and prepositions in both
    languages and writes bridge numbers as digits ("Puente II", "Bridge Two" -> "puente 2").
    ``normalize(normalize(t)) == normalize(t)`` for every text.

    Parameters
    ----------
    text
        Any value; missing values give ``""``.

    Returns
    -------
    str
        Words separated by single spaces.
    """
    if text is None or (not isinstance(text, str) and _is_missing(text)):
        return ""
    ascii_text = unidecode(str(text)).lower()
    ascii_text = _APOSTROPHES.sub("", ascii_text)
    words = _NON_ALNUM.sub(" ", ascii_text).split()
    words = [_ABBREVIATIONS.get(w, w) for w in words]
    # "viene de Reynosa": this "de" means "from", which matching needs after fillers are gone.
    words = [
        "desde" if w in {"de", "del"} and i > 0 and words[i - 1] in _MOTION_VERBS else w
        for i, w in enumerate(words)
    ]
    words = [w for w in words if w not in _FILLER]
    # Right to left, so that a run of "no no 2" loses every "no" in one pass.
    kept: list[str] = []
    for w in reversed(words):
        if w in _NUMBER_WORDS and kept and (kept[-1].isdigit() or kept[-1] in _NUMERALS):
            continue
        kept.append(w)
    kept.reverse()
    out: list[str] = []
    for w in kept:
        if w in _NUMERALS and out and out[-1] in _NUMBERED:
            w = _NUMERALS[w]
        out.append(w)
    return " ".join(out)


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --- the matching index ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    alias: str
    kind: str  # "site", "neighborhood" or "city"
    places: tuple[int, ...]
    score: float  # 1 for exact, ratio / 100 for fuzzy
    fuzzy: bool


class _Index:
    """Aliases of a gazetteer, normalised, with the arrays the matcher needs."""

    def __init__(self, places: pd.DataFrame) -> None:
        self.places = places.reset_index(drop=True)
        self.ids: list[str] = self.places["place_id"].astype(str).tolist()
        self.names: list[str] = self.places["name"].astype(str).tolist()
        self.types: list[str] = self.places["place_type"].astype(str).tolist()
        self.cities: list[str] = self.places["city"].astype(str).tolist()
        self.metros: list[str] = [METRO_AREAS.get(c, c) for c in self.cities]
        self.lat = self.places["lat"].to_numpy(dtype="float64")
        self.lon = self.places["lon"].to_numpy(dtype="float64")
        self.kinds: list[str] = [t if t in {"city", "neighborhood"} else "site" for t in self.types]
        self.by_alias: dict[tuple[str, str], tuple[int, ...]] = {}
        collected: dict[tuple[str, str], list[int]] = {}
        for i in range(len(self.places)):
            for name in _name_variants(aliases(self.places.iloc[i])):
                alias = normalize(name)
                if alias:
                    collected.setdefault((alias, self.kinds[i]), []).append(i)
        for pair, idx in collected.items():
            self.by_alias[pair] = tuple(dict.fromkeys(idx))
        self.max_words = max((len(a.split()) for a, _ in self.by_alias), default=1)
        self.fuzzy_keys: list[tuple[str, str]] = [
            k for k in self.by_alias if len(k[0]) >= _MIN_FUZZY_CHARS
        ]
        self.fuzzy_choices: list[str] = [k[0] for k in self.fuzzy_keys]
        self.city_rows: dict[str, int] = {}
        for i, (kind, city) in enumerate(zip(self.kinds, self.cities, strict=True)):
            if kind == "city":
                self.city_rows.setdefault(city, i)
        site_idx = [i for i, t in enumerate(self.types) if t in PUBLIC_SITE_TYPES or t == "other"]
        self.site_idx = np.asarray(site_idx, dtype=int)
        confidence_rank = {"high": 0, "medium": 1, "approximate": 2}
        self.confidence_rank = np.asarray(
            [confidence_rank.get(c, 3) for c in self.places["confidence"].astype(str)], dtype=int
        )
        self.city_names: dict[str, str] = {normalize(c): c for c in CITIES}

    def result(self, i: int, precision: str, score: float, method: str) -> GeocodeResult:
        return GeocodeResult(
            lat=float(self.lat[i]),
            lon=float(self.lon[i]),
            place_id=self.ids[i],
            place_name=self.names[i],
            place_type=self.types[i],
            geo_precision=precision,
            geocode_score=round(min(max(score, 0.0), 1.0), 3),
            geocode_method=method,
        )


def _name_variants(names: Iterable[str]) -> list[str]:
    # "Gateway to the Americas International Bridge (Puente Internacional I)" is also known
    # without its parenthesis; the parenthesis alone may describe rather than name the place.
    out: list[str] = []
    for name in names:
        out.append(name)
        if "(" in name:
            out.append(re.sub(r"\([^)]*\)", " ", name))
    return out


@functools.lru_cache(maxsize=1)
def _shipped_index() -> _Index:
    return _Index(load_places())


#: Indexes of user gazetteers by content hash: derived data, identical for every session.
_INDEXES: dict[int, _Index] = {}


def _index_for(places: pd.DataFrame | None) -> _Index:
    if places is None:
        return _shipped_index()
    # A content hash, so an edited frame is never matched against a stale index.
    fingerprint = int(pd.util.hash_pandas_object(places, index=False).sum()) ^ hash(
        tuple(places.columns)
    )
    index = _INDEXES.get(fingerprint)
    if index is None:
        if len(_INDEXES) >= 8:
            _INDEXES.pop(next(iter(_INDEXES)))
        index = _INDEXES[fingerprint] = _Index(places)
    return index


# --- matching ---------------------------------------------------------------------------------


def _blocked(words: Sequence[str]) -> list[bool]:
    """Mark words that must not match: "centro comercial", "agentes del INM"."""
    blocked = [False] * len(words)
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        prev = words[i - 1] if i > 0 else ""
        if w == "centro" and nxt in _CENTRO_NOT_DOWNTOWN:
            blocked[i] = blocked[i + 1] = True
        if w in _AGENCY_WORDS and (prev in _AGENT_WORDS or nxt in _AGENT_WORDS):
            blocked[i] = True
    return blocked


def _exact_matches(index: _Index, words: Sequence[str], blocked: Sequence[bool]) -> list[_Match]:
    found: list[_Match] = []
    n = len(words)
    for start in range(n):
        for end in range(start + 1, min(n, start + index.max_words) + 1):
            if blocked[end - 1]:
                break
            key = " ".join(words[start:end])
            for kind in ("city", "neighborhood", "site"):
                places = index.by_alias.get((key, kind))
                if places:
                    found.append(_Match(start, end, key, kind, places, 1.0, fuzzy=False))
    return found


def _fuzzy_matches(
    index: _Index, words: Sequence[str], free: Sequence[bool], kinds: set[str]
) -> list[_Match]:
    """Match runs of free words to aliases of ``kinds`` within the fuzzy threshold."""
    keys = [k for k in index.fuzzy_keys if k[1] in kinds]
    if not keys:
        return []
    choices = [k[0] for k in keys]
    alias_words = [len(c.split()) for c in choices]
    windows: list[tuple[int, int, str]] = []
    # Descriptions are short; a pasted paragraph is only searched in its first words.
    n = min(len(words), _MAX_FUZZY_WORDS)
    longest = max(alias_words) + 1
    for start in range(n):
        for end in range(start + 1, min(n, start + longest) + 1):
            if not free[end - 1]:
                break
            text = " ".join(words[start:end])
            if len(text) >= _MIN_FUZZY_CHARS - 1:
                windows.append((start, end, text))
    if not windows:
        return []
    scores = process.cdist(
        [w[2] for w in windows],
        choices,
        scorer=fuzz.ratio,
        score_cutoff=FUZZY_THRESHOLD,
        workers=1,
    )
    found: list[_Match] = []
    for wi, ci in zip(*np.nonzero(scores), strict=True):
        start, end, text = windows[int(wi)]
        alias = choices[int(ci)]
        # A missing or extra word must be a split or joined one, not a dropped name.
        word_gap = abs((end - start) - alias_words[int(ci)])
        if word_gap > 1 or (word_gap == 1 and scores[wi, ci] < 90):
            continue
        if _digits(text) != _digits(alias):
            continue
        if word_gap == 0 and not _words_alike(text.split(), alias.split()):
            continue
        key = keys[int(ci)]
        found.append(
            _Match(
                start, end, alias, key[1], index.by_alias[key], float(scores[wi, ci]) / 100, True
            )
        )
    return found


def _words_alike(words: Sequence[str], alias_words: Sequence[str]) -> bool:
    """Tell whether each word is a misspelling of its alias word, not another word.

    "puente internacional general" is close to "puente internacional gateway" as a whole, but
    "general" is no misspelling of "gateway".
    """
    for w, a in zip(words, alias_words, strict=True):
        if w == a:
            continue
        if min(len(w), len(a)) <= 3 or fuzz.ratio(w, a) < _MIN_WORD_RATIO:
            return False
    return True


def _digits(text: str) -> list[str]:
    return [w for w in text.split() if w.isdigit()]


def _select(matches: list[_Match], taken: list[bool]) -> list[_Match]:
    """Choose non-overlapping matches, best first, marking their words in ``taken``."""
    cities = [m for m in matches if m.kind == "city"]

    def partly_overlaps_city(m: _Match) -> bool:
        return m.kind != "city" and any(
            c.start < m.end and m.start < c.end and (c.start < m.start or c.end > m.end)
            for c in cities
        )

    ranked = sorted(
        (m for m in matches if not partly_overlaps_city(m)),
        key=lambda m: (-m.score, -len(m.alias), m.kind != "city", m.start),
    )
    chosen: list[_Match] = []
    for m in ranked:
        if any(taken[m.start : m.end]):
            continue
        for k in range(m.start, m.end):
            taken[k] = True
        chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


@dataclass(frozen=True)
class _CityMention:
    city: str
    origin: bool
    fuzzy: bool


def _city_mentions(
    index: _Index, words: Sequence[str], matches: list[_Match]
) -> list[_CityMention]:
    mentions: list[_CityMention] = []
    for m in matches:
        if m.kind != "city":
            # A place alias that names its city ("Nuevo Laredo bus station") names the city too.
            for city in _cities_within(index, m.alias.split()):
                mentions.append(_CityMention(city, origin=False, fuzzy=m.fuzzy))
            continue
        before = words[max(0, m.start - 2) : m.start]
        if before and before[-1] in _STREET_WORDS:
            continue
        city = index.cities[m.places[0]]
        origin_words = _FROM_WORDS | (_RETURN_WORDS if city in US_CITIES else frozenset())
        # "from the Nuevo Laredo bus terminal": the city names the place, not an origin.
        names_place = any(o.kind != "city" and o.start == m.end for o in matches)
        origin = not names_place and any(w in origin_words for w in before)
        mentions.append(_CityMention(city, origin, m.fuzzy))
    return mentions


def _cities_within(index: _Index, words: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            places = index.by_alias.get((" ".join(words[start:end]), "city"))
            if places:
                found.add(index.cities[places[0]])
    return found


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _canonical_city(index: _Index, value: object) -> str | None:
    """Return the canonical city a city cell names, or None."""
    key = normalize(value)
    if not key:
        return None
    if key in index.city_names:
        return index.city_names[key]
    words = key.split()
    taken = [False] * len(words)
    matches = _select(_exact_matches(index, words, [False] * len(words)), taken)
    cities = {index.cities[m.places[0]] for m in matches if m.kind == "city"}
    return cities.pop() if len(cities) == 1 else None


def _geocode_words(index: _Index, text: str, city: str | None) -> GeocodeResult:
    words = text.split()
    blocked = _blocked(words)
    taken = list(blocked)
    chosen = _select(_exact_matches(index, words, blocked), taken)
    # Fuzzy matching sees only the words no exact alias took.
    fuzzy = _fuzzy_matches(index, words, [not t for t in taken], {"city", "site", "neighborhood"})
    chosen = sorted(chosen + _select(fuzzy, taken), key=lambda m: m.start)
    mentions = _city_mentions(index, words, chosen)

    # Which metropolitan area, and which city in it, does the row speak of?
    locations = [m for m in mentions if not m.origin]
    hints = locations + [m for m in mentions if m.origin and m.city in US_CITIES]
    text_metros = {METRO_AREAS.get(m.city, m.city) for m in hints}
    column_metro = METRO_AREAS.get(city, city) if city else None
    metro: str | None
    if len(text_metros) == 1:
        metro = next(iter(text_metros))
    elif len(text_metros) > 1:
        metro = column_metro if column_metro in text_metros else None
        if metro is None:
            return UNRESOLVED  # two cities and nothing to choose between them
    else:
        metro = column_metro

    # Places named in the text, kept when the city allows them. A place found without a city
    # tells the city for the others ("INM, Puente 2" is the INM office of Nuevo Laredo).
    resolved, ambiguous_metros = _resolve(index, chosen, metro)
    if metro is None and resolved:
        metros = {index.metros[p] for p, _ in resolved}
        if len(metros) == 1:
            metro = metros.pop()
            resolved, ambiguous_metros = _resolve(index, chosen, metro)

    for kind in ("site", "neighborhood"):
        found = [(p, m) for p, m in resolved if m.kind == kind]
        if not found:
            continue
        # A shared alias beside a unique one of the same type describes it ("Casa del Migrante
        # Pumarejo").
        unique_types = {index.types[p] for p, m in found if len(m.places) == 1}
        found = [
            (p, m) for p, m in found if len(m.places) == 1 or index.types[p] not in unique_types
        ]
        distinct = list(dict.fromkeys(p for p, _ in found))
        best = _one_site(index, distinct)
        if best is None:
            cities = {index.cities[p] for p in distinct}
            return _city_result(index, cities.pop() if len(cities) == 1 else metro or "", 0.5)
        match = max((m for p, m in found if p == best), key=lambda m: (m.score, len(m.alias)))
        score = match.score * (0.95 if match.fuzzy else 1.0)
        score *= 0.9 if len(match.places) > 1 else 1.0
        precision = "site" if kind == "site" else "neighborhood"
        if kind == "neighborhood":
            score *= 0.9
        elif _near(words, match, index.types[best]):
            precision, score = "neighborhood", score * 0.8
        return index.result(best, precision, score, "fuzzy" if match.fuzzy else "exact")

    # Only a city, perhaps; but not a road, nor a stretch between two towns, nor a town
    # outside the gazetteer.
    if any(w in _ROAD_WORDS for w in words) or _between_towns(words, chosen):
        return UNRESOLVED
    if _elsewhere(words):
        return UNRESOLVED
    if metro is None:
        if len(ambiguous_metros) != 1:
            return UNRESOLVED
        metro = ambiguous_metros.pop()
    in_metro = [m for m in locations if METRO_AREAS.get(m.city, m.city) == metro]
    mexican = {m.city for m in in_metro if m.city not in US_CITIES}
    us = {m.city for m in in_metro if m.city in US_CITIES}
    if len(mexican) == 1:
        named = mexican.pop()
        misspelt = all(m.fuzzy for m in in_metro if m.city == named)
        return _city_result(index, named, 0.5 if misspelt else 0.6)
    if not mexican and len(us) == 1:
        return _city_result(index, us.pop(), 0.6)
    if city and METRO_AREAS.get(city, city) == metro:
        return _city_result(index, city, 0.5)
    return _city_result(index, metro, 0.4)


def _near(words: Sequence[str], match: _Match, place_type: str) -> bool:
    """Tell whether the text puts the event near, rather than at, the matched place.

    "cerca de la central" is near the terminal; so is "en Lucio Blanco, cerca del puente",
    where the word after "cerca" names the matched place's kind again.
    """
    if any(w in _PROXIMITY_WORDS for w in words[max(0, match.start - 3) : match.start]):
        return True
    nouns = _TYPE_NOUNS.get(place_type, frozenset())
    return any(
        w in _PROXIMITY_WORDS and i + 1 < len(words) and words[i + 1] in nouns
        for i, w in enumerate(words[match.end :], start=match.end)
    )


def _town_at(words: Sequence[str], i: int) -> bool:
    return words[i] in _OTHER_TOWNS or " ".join(words[i : i + 2]) in _OTHER_TOWNS


def _between_towns(words: Sequence[str], chosen: list[_Match]) -> bool:
    """Tell whether a town follows "entre"/"between" (a road, not an address between streets)."""
    starts = {m.start for m in chosen if m.kind == "city"}
    return any(
        w in _BETWEEN_WORDS and i + 1 < len(words) and (i + 1 in starts or _town_at(words, i + 1))
        for i, w in enumerate(words)
    )


def _elsewhere(words: Sequence[str]) -> bool:
    """Tell whether the text names a town outside the gazetteer as the place of the event."""
    for i in range(len(words)):
        if _town_at(words, i):
            before = words[max(0, i - 2) : i]
            if not any(b in _FROM_WORDS or b in _STREET_WORDS for b in before):
                return True
    return False


def _resolve(
    index: _Index, chosen: list[_Match], metro: str | None
) -> tuple[list[tuple[int, _Match]], set[str]]:
    """Keep the place matches a metropolitan area allows; note the areas of ambiguous ones."""
    resolved: list[tuple[int, _Match]] = []
    ambiguous: set[str] = set()
    for m in chosen:
        if m.kind == "city":
            continue
        candidates = [p for p in m.places if metro is None or index.metros[p] == metro]
        if len(candidates) == 1 and (metro is not None or len(m.places) == 1):
            resolved.append((candidates[0], m))
        elif candidates:
            ambiguous |= {index.metros[p] for p in candidates}
    return resolved, ambiguous


def _one_site(index: _Index, places: list[int]) -> int | None:
    """Return the one place a row names, or None if it names several.

    A camp, office or shelter named with the bridge it stands at is that place, not the bridge.
    """
    if len(places) == 1:
        return places[0]
    others = [p for p in places if index.types[p] != "port_of_entry"]
    if len(others) != 1:
        return None
    site = others[0]
    close = all(
        _distance_m(index.lat[site], index.lon[site], index.lat[p], index.lon[p]) <= COLOCATED_M
        for p in places
    )
    return site if close else None


def _city_result(index: _Index, city: str, score: float) -> GeocodeResult:
    row = index.city_rows.get(city)
    if row is None:
        return UNRESOLVED
    return index.result(row, "city", score, "city_fallback")


@functools.lru_cache(maxsize=65536)
def _geocode_cached(index: _Index, text: str, city: str | None) -> GeocodeResult:
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
        The gazetteer (:func:`riskmap.gazetteer.load_places`); the shipped one by default.

    Returns
    -------
    GeocodeResult
        ``unresolved`` with no coordinates when nothing credible matches.
    """
    index = _index_for(places)
    hint = _canonical_city(index, city) if city is not None else None
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
    site (a :data:`riskmap.schema.PUBLIC_SITE_TYPES` place) within :data:`GIVEN_RADIUS_M`; its
    precision is then ``site``. With no site that close, the row keeps its own ``place_id`` and
    ``geo_precision`` if it has them (the coordinates may be of a neighbourhood or a city), and
    is taken to be ``site`` precision otherwise, since someone chose those coordinates.

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
    index = _index_for(places)
    out = frame.copy()
    n = len(out)
    texts = (
        out[text_column].map(lambda v: "" if _is_missing(v) else str(v))
        if text_column in out.columns
        else pd.Series("", index=out.index)
    )
    hints = (
        out[city_column].map(lambda v: "" if _is_missing(v) else str(v))
        if city_column in out.columns
        else pd.Series("", index=out.index)
    )
    codes, uniques = pd.MultiIndex.from_arrays([texts.to_numpy(), hints.to_numpy()]).factorize()
    city_cache: dict[str, str | None] = {}
    results: list[GeocodeResult] = []
    for text, hint in uniques:
        if hint not in city_cache:
            city_cache[hint] = _canonical_city(index, hint) if hint else None
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
            out[col] = pd.array(
                [None if v is None or _is_missing(v) else str(v) for v in columns[col]],
                dtype="string",
            )
    return out


def _apply_given(
    index: _Index,
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
    for k, r in enumerate(rows):
        columns["lat"][r], columns["lon"][r] = lat[r], lon[r]
        columns["geocode_method"][r], columns["geocode_score"][r] = "given", 1.0
        if nearest[k] >= 0 and dist[k] <= GIVEN_RADIUS_M:
            p = int(nearest[k])
            columns["place_id"][r] = index.ids[p]
            columns["place_name"][r] = index.names[p]
            columns["place_type"][r] = index.types[p]
            columns["geo_precision"][r] = "site"
            continue
        pid = _text_or_none(own_id[r]) if own_id is not None else None
        known = index.ids.index(pid) if pid in index.ids else None
        columns["place_id"][r] = pid
        columns["place_name"][r] = index.names[known] if known is not None else None
        columns["place_type"][r] = (
            index.types[known]
            if known is not None
            else (_text_or_none(own_type[r]) if own_type is not None else None)
        )
        precision = _text_or_none(own_precision[r]) if own_precision is not None else None
        ok = precision in GEO_PRECISIONS and precision != "unresolved"
        columns["geo_precision"][r] = precision if ok else "site"


def _text_or_none(value: object) -> str | None:
    if value is None or _is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _nearest_sites(
    index: _Index, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per point, the index of the nearest site (-1 if none) and its distance in m.

    Ties (co-located places) go to the better-sourced place, then to gazetteer order.
    """
    if index.site_idx.size == 0:
        return np.full(lat.shape, -1), np.full(lat.shape, np.inf)
    slat = np.radians(index.lat[index.site_idx])[None, :]
    slon = np.radians(index.lon[index.site_idx])[None, :]
    plat = np.radians(lat)[:, None]
    plon = np.radians(lon)[:, None]
    a = (
        np.sin((slat - plat) / 2) ** 2
        + np.cos(plat) * np.cos(slat) * np.sin((slon - plon) / 2) ** 2
    )
    dist = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    # Round to the metre so that co-located places tie, then prefer the better source.
    rank = index.confidence_rank[index.site_idx][None, :]
    key = np.round(dist) * 10 + rank
    best = np.argmin(key, axis=1)
    rows = np.arange(lat.shape[0])
    return index.site_idx[best], dist[rows, best]
