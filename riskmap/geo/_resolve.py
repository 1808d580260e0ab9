"""Decide what the matches in a description mean: one place, a city, or nothing.

The rules of :mod:`riskmap.geo.geocoder`, applied to the matches :mod:`riskmap.geo._match` finds:
the
city hint (a column, or a city named in the text; US twins count as their Mexican neighbour's
metropolitan area, :data:`riskmap.geo.gazetteer.METRO_AREAS`) chooses between places that share an
alias; "near"/"cerca de" a place is ``neighborhood`` precision (ACLED's precision 2); with no
credible place, the city point, unless the text speaks of a road, a stretch between two towns or
a town outside the gazetteer. Two cities with nothing to choose between them, like an alias
shared by two cities, give nothing: honesty before coverage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from riskmap.geo._match import (
    FROM_WORDS,
    STREET_WORDS,
    CityMention,
    Index,
    Match,
    blocked_words,
    city_mentions,
    exact_matches,
    fuzzy_matches,
    select,
)
from riskmap.geo._normalize import word_set
from riskmap.geo.gazetteer import METRO_AREAS, US_CITIES

#: Two matched sites with points closer than this are one location (a shelter at a bridge's foot).
COLOCATED_M = 300.0
#: Mean Earth radius (IUGG), for great-circle distances.
EARTH_RADIUS_M = 6_371_008.8

#: "near X" is near, not at, X: ACLED's precision 2.
_PROXIMITY_WORDS: frozenset[str] = word_set(
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


@dataclass(frozen=True)
class Placement:
    """Where a description is placed: gazetteer row ``row``, at ``precision``, how surely."""

    row: int
    precision: str
    score: float  # not yet clipped to 0-1
    method: str  # "exact", "fuzzy" or "city_fallback"


def resolve_place(
    index: Index, text: str, city: str | None, *, fuzzy_threshold: float
) -> Placement | None:
    """Place a normalised description, or return None when nothing credible matches.

    Parameters
    ----------
    index
        The gazetteer's index (:func:`riskmap.geo._match.index_for`).
    text
        The description, normalised (:func:`riskmap.geo._normalize.normalize`).
    city
        The canonical city of the row's city column, or None.
    fuzzy_threshold
        Lowest rapidfuzz ratio (0-100) for a fuzzy alias match.

    Returns
    -------
    Placement or None
        The place, or the city point; None when the row stays unresolved.
    """
    words = text.split()
    blocked = blocked_words(words)
    taken = list(blocked)
    chosen = select(exact_matches(index, words, blocked), taken)
    # Fuzzy matching sees only the words no exact alias took.
    fuzzy = fuzzy_matches(
        index,
        words,
        [not t for t in taken],
        {"city", "site", "neighborhood"},
        threshold=fuzzy_threshold,
    )
    chosen = sorted(chosen + select(fuzzy, taken), key=lambda m: m.start)
    mentions = city_mentions(index, words, chosen)

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
            return None  # two cities and nothing to choose between them
    else:
        metro = column_metro

    # Places named in the text, kept when the city allows them. A place found without a city
    # tells the city for the others ("INM, Puente 2" is the INM office of Nuevo Laredo).
    resolved, ambiguous_metros = _allowed(index, chosen, metro)
    if metro is None and resolved:
        metros = {index.metros[p] for p, _ in resolved}
        if len(metros) == 1:
            metro = metros.pop()
            resolved, ambiguous_metros = _allowed(index, chosen, metro)

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
            return _city_point(index, cities.pop() if len(cities) == 1 else metro or "", 0.5)
        match = max((m for p, m in found if p == best), key=lambda m: (m.score, len(m.alias)))
        us_city = _us_location(locations, city)
        if us_city and len(match.places) > 1 and index.types[best] != "port_of_entry":
            # "the bus station in Laredo, Texas": a generic name in a US city is not the
            # Mexican place of that name across the river; only the city is known.
            return _city_point(index, us_city, 0.5)
        score = match.score * (0.95 if match.fuzzy else 1.0)
        score *= 0.9 if len(match.places) > 1 else 1.0
        precision = "site" if kind == "site" else "neighborhood"
        if kind == "neighborhood":
            score *= 0.9
        elif _near(words, match, index.types[best]):
            precision, score = "neighborhood", score * 0.8
        return Placement(best, precision, score, "fuzzy" if match.fuzzy else "exact")

    # Only a city, perhaps; but not a road, nor a stretch between two towns, nor a town
    # outside the gazetteer.
    if any(w in _ROAD_WORDS for w in words) or _between_towns(words, chosen):
        return None
    if _elsewhere(words):
        return None
    if metro is None:
        if len(ambiguous_metros) != 1:
            return None
        metro = ambiguous_metros.pop()
    in_metro = [m for m in locations if METRO_AREAS.get(m.city, m.city) == metro]
    mexican = {m.city for m in in_metro if m.city not in US_CITIES}
    us = {m.city for m in in_metro if m.city in US_CITIES}
    if len(mexican) == 1:
        named = mexican.pop()
        misspelt = all(m.fuzzy for m in in_metro if m.city == named)
        return _city_point(index, named, 0.5 if misspelt else 0.6)
    if not mexican and len(us) == 1:
        return _city_point(index, us.pop(), 0.6)
    if city and METRO_AREAS.get(city, city) == metro:
        return _city_point(index, city, 0.5)
    return _city_point(index, metro, 0.4)


def _us_location(locations: Sequence[CityMention], city: str | None) -> str | None:
    """Return the US city where the text (or the city column) puts the event, if only that."""
    named = {m.city for m in locations}
    if city:
        named.add(city)
    us = named & US_CITIES
    return us.pop() if len(us) == 1 and not (named - US_CITIES) else None


def _near(words: Sequence[str], match: Match, place_type: str) -> bool:
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


def _between_towns(words: Sequence[str], chosen: list[Match]) -> bool:
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
            if not any(b in FROM_WORDS or b in STREET_WORDS for b in before):
                return True
    return False


def _allowed(
    index: Index, chosen: list[Match], metro: str | None
) -> tuple[list[tuple[int, Match]], set[str]]:
    """Keep the place matches a metropolitan area allows; note the areas of ambiguous ones."""
    resolved: list[tuple[int, Match]] = []
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


def _one_site(index: Index, places: list[int]) -> int | None:
    """Return the one place a row names, or None if it names several.

    A camp, office or shelter named with the bridge it stands at is that place, not the bridge.
    """
    if len(places) == 1:
        return places[0]
    others = [p for p in places if index.types[p] != "port_of_entry"]
    if len(others) != 1:
        return None
    site = others[0]
    return site if all(_together(index, site, p) for p in places) else None


def _together(index: Index, a: int, b: int) -> bool:
    """Tell whether two places stand together: one site, beside each other, or close.

    A place without a point is together only with the places its gazetteer row (or theirs)
    puts it beside: its distance is unknown, so two such places are never assumed close.
    """
    if a == b or index.groups[a] == index.groups[b]:
        return True
    if index.ids[b] in index.beside[a] or index.ids[a] in index.beside[b]:
        return True
    if not (index.has_point[a] and index.has_point[b]):
        return False
    return distance_m(index.lat[a], index.lon[a], index.lat[b], index.lon[b]) <= COLOCATED_M


def _city_point(index: Index, city: str, score: float) -> Placement | None:
    row = index.city_rows.get(city)
    if row is None:
        return None
    return Placement(row, "city", score, "city_fallback")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
