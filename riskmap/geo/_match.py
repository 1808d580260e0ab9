"""Find gazetteer aliases in a normalised description: the index, exact and fuzzy matches.

The :class:`Index` holds every name and alias of a gazetteer, normalised like the descriptions
(:func:`riskmap.geo._normalize.normalize`). A description's words are matched against it as runs of
whole words: exactly, then, among the words no exact alias took, fuzzily (rapidfuzz's
normalised Indel similarity, with the same numbers and each word a misspelling of its alias
word). :func:`select` keeps the best non-overlapping matches, and :func:`city_mentions` says
which of the cities they name are an origin rather than the place of the event.
:mod:`riskmap.geo._resolve` decides what the matches mean.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from riskmap.geo._normalize import normalize, word_set
from riskmap.geo.gazetteer import METRO_AREAS, US_CITIES, aliases, beside_ids, load_places
from riskmap.schema import CITIES, PUBLIC_SITE_TYPES

_MIN_FUZZY_CHARS = 5
#: Fuzzy matching looks at this many words at most (exact matching reads them all).
_MAX_FUZZY_WORDS = 80
#: Lowest ratio between a misspelt word and its alias word.
_MIN_WORD_RATIO = 75.0

# --- matching vocabularies (normalised words) -----------------------------------------------

#: A city named right after one of these is where someone came from.
FROM_WORDS: frozenset[str] = frozenset(
    {"from", "desde", "procedente", "procedentes", "proveniente", "provenientes"}
)
#: After one of these a US city is where the person was returned from.
_RETURN_WORDS: frozenset[str] = word_set(
    "returned deported sent expelled removed devuelto devuelta devueltos devueltas "
    "deportado deportada deportados deportadas retornado retornada retornados retornadas "
    "regresado regresada regresados regresadas expulsado expulsada expulsados via"
)
#: A city name right after one of these is a street or neighbourhood ("Calle Matamoros").
STREET_WORDS: frozenset[str] = word_set(
    "calle avenida bulevar colonia fraccionamiento privada andador callejon street avenue"
)
#: "centro" followed by one of these is a building, not the downtown.
_CENTRO_NOT_DOWNTOWN: frozenset[str] = word_set(
    "comercial salud detencion atencion integrador readaptacion rehabilitacion comunitario "
    "cristiano medico penitenciario migratorio mall"
)
#: "INM agents" name a perpetrator, not the INM office.
_AGENT_WORDS: frozenset[str] = word_set(
    "agente agentes agent agents officer officers oficial oficiales elementos personal "
    "funcionario funcionarios official officials"
)
_AGENCY_WORDS: frozenset[str] = frozenset({"inm", "migracion", "immigration"})


@dataclass(frozen=True)
class Match:
    """An alias found in a description: words ``start:end`` name the gazetteer rows ``places``."""

    start: int
    end: int
    alias: str
    kind: str  # "site", "neighborhood" or "city"
    places: tuple[int, ...]
    score: float  # 1 for exact, ratio / 100 for fuzzy
    fuzzy: bool


# --- the matching index ---------------------------------------------------------------------


class Index:
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
        #: Whether each place has a point; a place without one is found but not pinned.
        self.has_point = np.isfinite(self.lat) & np.isfinite(self.lon)
        # One site's places share a group; a frame without the column makes each its own.
        self.groups: list[str] = (
            self.places["site_group"].astype(str).tolist()
            if "site_group" in self.places.columns
            else list(self.ids)
        )
        self.beside: list[frozenset[str]] = [
            frozenset(beside_ids(self.places.iloc[i])) for i in range(len(self.places))
        ]
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
        # Sites a given coordinate can be snapped to: those with a point.
        site_idx = [
            i
            for i, t in enumerate(self.types)
            if (t in PUBLIC_SITE_TYPES or t == "other") and self.has_point[i]
        ]
        self.site_idx = np.asarray(site_idx, dtype=int)
        confidence_rank = {"high": 0, "medium": 1, "approximate": 2}
        self.confidence_rank = np.asarray(
            [confidence_rank.get(c, 3) for c in self.places["confidence"].astype(str)], dtype=int
        )
        self.city_names: dict[str, str] = {normalize(c): c for c in CITIES}


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
def _shipped_index() -> Index:
    return Index(load_places())


#: Indexes of user gazetteers by content hash: derived data, identical for every session.
_INDEXES: dict[int, Index] = {}


def index_for(places: pd.DataFrame | None) -> Index:
    """Return the index of a gazetteer, the shipped one if ``places`` is None, built once."""
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
        index = _INDEXES[fingerprint] = Index(places)
    return index


# --- matching ---------------------------------------------------------------------------------


def blocked_words(words: Sequence[str]) -> list[bool]:
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


def exact_matches(index: Index, words: Sequence[str], blocked: Sequence[bool]) -> list[Match]:
    """Find every alias that occurs verbatim as a run of words, none of them blocked."""
    found: list[Match] = []
    n = len(words)
    for start in range(n):
        for end in range(start + 1, min(n, start + index.max_words) + 1):
            if blocked[end - 1]:
                break
            key = " ".join(words[start:end])
            for kind in ("city", "neighborhood", "site"):
                places = index.by_alias.get((key, kind))
                if places:
                    found.append(Match(start, end, key, kind, places, 1.0, fuzzy=False))
    return found


def fuzzy_matches(
    index: Index,
    words: Sequence[str],
    free: Sequence[bool],
    kinds: set[str],
    *,
    threshold: float,
) -> list[Match]:
    """Match runs of free words to aliases of ``kinds`` within the fuzzy ``threshold`` (0-100)."""
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
        score_cutoff=threshold,
        workers=1,
    )
    found: list[Match] = []
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
            Match(start, end, alias, key[1], index.by_alias[key], float(scores[wi, ci]) / 100, True)
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


def select(matches: list[Match], taken: list[bool]) -> list[Match]:
    """Choose non-overlapping matches, best first, marking their words in ``taken``."""
    cities = [m for m in matches if m.kind == "city"]

    def partly_overlaps_city(m: Match) -> bool:
        return m.kind != "city" and any(
            c.start < m.end and m.start < c.end and (c.start < m.start or c.end > m.end)
            for c in cities
        )

    ranked = sorted(
        (m for m in matches if not partly_overlaps_city(m)),
        key=lambda m: (-m.score, -len(m.alias), m.kind != "city", m.start),
    )
    chosen: list[Match] = []
    for m in ranked:
        if any(taken[m.start : m.end]):
            continue
        for k in range(m.start, m.end):
            taken[k] = True
        chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


# --- cities named in the text -----------------------------------------------------------------


@dataclass(frozen=True)
class CityMention:
    """A city a description names: where the event was, or an ``origin`` someone came from."""

    city: str
    origin: bool
    fuzzy: bool


def city_mentions(index: Index, words: Sequence[str], matches: list[Match]) -> list[CityMention]:
    """List the cities the chosen matches name, telling origins from places of the event."""
    mentions: list[CityMention] = []
    for m in matches:
        if m.kind != "city":
            # A place alias that names its city ("Nuevo Laredo bus station") names the city too.
            for city in _cities_within(index, m.alias.split()):
                mentions.append(CityMention(city, origin=False, fuzzy=m.fuzzy))
            continue
        before = words[max(0, m.start - 2) : m.start]
        if before and before[-1] in STREET_WORDS:
            continue
        city = index.cities[m.places[0]]
        origin_words = FROM_WORDS | (_RETURN_WORDS if city in US_CITIES else frozenset())
        # "from the Nuevo Laredo bus terminal": the city names the place, not an origin.
        names_place = any(o.kind != "city" and o.start == m.end for o in matches)
        origin = not names_place and any(w in origin_words for w in before)
        mentions.append(CityMention(city, origin, m.fuzzy))
    return mentions


def _cities_within(index: Index, words: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            places = index.by_alias.get((" ".join(words[start:end]), "city"))
            if places:
                found.add(index.cities[places[0]])
    return found


def canonical_city(index: Index, value: object) -> str | None:
    """Return the canonical city a city cell names, or None."""
    key = normalize(value)
    if not key:
        return None
    if key in index.city_names:
        return index.city_names[key]
    words = key.split()
    taken = [False] * len(words)
    matches = select(exact_matches(index, words, [False] * len(words)), taken)
    cities = {index.cities[m.places[0]] for m in matches if m.kind == "city"}
    return cities.pop() if len(cities) == 1 else None
