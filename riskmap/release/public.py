"""The public release: one k-anonymous table from which every public output is derived.

Every attribute that a public user can see or filter on is a quasi-identifier (QI): the shown
location (which carries the city and the kind of place), the shown date, the incident types, the
perpetrator, whether children were affected, and the synthetic flag. The release is
**k-anonymous** over them (Samarati & Sweeney 1998; k = ``Settings.min_cell``): every
combination of shown values is held by 0 or at least k incidents. Public filters test shown
values only (:func:`select`), so every public selection is a union of such classes, and every
public count — and the difference of the counts of any two filter states — is 0 or at least k.

Each QI is generalised along a documented hierarchy (level 0 is the most detailed):

==========  =====================================================================================
location    public site (a bridge, bus terminal, INM office or plaza, at its gazetteer point, or
            named without a point where it has none) → the site it is part of (its
            ``site_group``: a bridge and the INM post at its foot) → H3 cell (resolution
            ``Settings.h3_resolution``, shown at its centre) → city point → withheld. Other
            located incidents start at the cell; shelters, the camp, city-level and unplaced
            incidents with a known city start at the city; sexual assault starts at the city.
date        day → week of the month (days 1–7, 8–14, 15–21, 22–end: weeks nest in months) →
            month → quarter → year → withheld. Month-only records and sexual assault start at
            the month.
types       the exact set → the set of groups (:data:`TYPE_GROUPS`) → withheld.
perpetrator exact → state agent / non-state / unknown (:data:`PERPETRATOR_GROUPS`) → withheld.
children    whether any child was affected → withheld.
==========  =====================================================================================

Recoding is local and bottom-up: rows already in a class of k or more keep their detail; the
rows of smaller classes are generalised one step at a time in a fixed order (:data:`SCHEDULE`:
cheap losses such as the day first, the place last), each row stopping as soon as its class
holds k; rows still in smaller classes at the end get company from the largest classes (which
keep k), or, in a store too small for that, are **suppressed** — counted in the release report,
never dropped silently. A global recoding (one level for every row: the lattice node
that keeps the most detail within a suppression budget,
:func:`global_levels`) is kept for comparison; the benchmark measures both, and local keeps
more detail (``benchmarks/RESULTS.md``).

Numbers of people (``victims``, ``children``) are not in the release at all: summed over two
filter states and subtracted, they would give the number of people of a few incidents (the
hostile review did so for children). Public figures count incidents, e.g. incidents in which
children were affected. Free text never enters the release; incident ids are keyed pseudonyms
(:func:`riskmap.release.privacy.pseudonym`).

What k-anonymity does not protect against: someone who already knows k-1 of the incidents in a
class learns the last; a class whose incidents all share a sensitive value reveals it for every
member (homogeneity); releases of different stores or store versions can be compared.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from riskmap.filters import Filters
from riskmap.release.privacy import (
    SENSITIVE_TYPES,
    cell_index,
    pseudonym_digests,
)
from riskmap.schema import (
    COLUMNS,
    INCIDENT_TYPES,
    MULTI_SEP,
    PERPETRATORS,
    PUBLIC_SITE_TYPES,
    PUBLISHED,
    STATUS,
    conform,
    distinct_codes,
    type_flags,
)
from riskmap.settings import Settings

#: Quasi-identifiers, in the order their ties are broken when generalising.
QUASI_IDENTIFIERS: tuple[str, ...] = ("date", "perpetrator", "children", "types", "location")
#: Levels of each hierarchy, most detailed first.
LEVELS: dict[str, tuple[str, ...]] = {
    "location": ("site", "group", "cell", "city", "withheld"),
    "date": ("day", "week", "month", "quarter", "year", "withheld"),
    "types": ("exact", "group", "withheld"),
    "perpetrator": ("exact", "group", "withheld"),
    "children": ("flag", "withheld"),
}
#: The group of each incident type (the second level of the types hierarchy).
TYPE_GROUPS: dict[str, str] = {
    "kidnapping": "kidnapping_any",
    "attempted_kidnapping": "kidnapping_any",
    "express_kidnapping": "kidnapping_any",
    "extortion": "extortion_robbery",
    "robbery": "extortion_robbery",
    "assault": "violence",
    "sexual_assault": "violence",
    "threat": "threat_other",
    "other": "threat_other",
}
#: Type groups, in display order.
TYPE_GROUP_NAMES: tuple[str, ...] = tuple(dict.fromkeys(TYPE_GROUPS.values()))
#: The group of each perpetrator (the second level of the perpetrator hierarchy).
PERPETRATOR_GROUPS: dict[str, str] = {
    "police": "state_agent",
    "immigration_agent": "state_agent",
    "military": "state_agent",
    "criminal_group": "non_state",
    "other": "non_state",
    "unknown": "unknown",
}
PERPETRATOR_GROUP_NAMES: tuple[str, ...] = ("state_agent", "non_state", "unknown")

#: Kinds of place the release never shows at the place (only by city): a shelter's or the
#: camp's point, or its cell, points at the people who live there.
PRIVATE_PLACE_TYPES: frozenset[str] = frozenset({"shelter", "camp"})

#: Columns of a public row, in order: what the table and the downloads show.
ROW_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "date",
    "date_end",
    "date_precision",
    "incident_types",
    "type_precision",
    "city",
    "place_id",
    "place_name",
    "place_type",
    "lat",
    "lon",
    "geo_precision",
    "public_location",
    "perpetrator",
    "perpetrator_precision",
    "children_affected",
    "synthetic",
)
#: Shown columns that are quasi-identifiers (the id is not: it is unique by design).
QI_COLUMNS: tuple[str, ...] = tuple(c for c in ROW_COLUMNS if c != "incident_id")

#: Keys of classes stay below this (int64 with room to spare).
_KEY_LIMIT = 1 << 62
_SHOWN_PRECISION = {
    "site": "site",
    "group": "site",
    "cell": "neighborhood",
    "city": "city",
    "withheld": None,
}
_PUBLIC_LOCATION = {
    "site": "site",
    "group": "site",
    "cell": "hex",
    "city": "city",
    "withheld": "none",
}


@dataclass(frozen=True)
class Release:
    """The public release of one store version.

    Attributes
    ----------
    table
        One row per released incident, :data:`ROW_COLUMNS` only (no number of people), ordered
        by shown date, then pseudonym, on a fresh ``RangeIndex`` (no store order reaches it).
    report
        What was generalised and suppressed (:meth:`report_lines` says it in words).
    """

    table: pd.DataFrame
    report: dict[str, object] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """The k of the guarantee."""
        return int(self.report["k"])  # type: ignore[call-overload]

    @property
    def suppressed(self) -> int:
        """Incidents of the store that are not in the release."""
        return int(self.report["suppressed"])  # type: ignore[call-overload]

    def rows(self) -> pd.DataFrame:
        """Return the shown columns only (what a table or a download may hold)."""
        return self.table[list(ROW_COLUMNS)]


def build_release(
    incidents: pd.DataFrame,
    *,
    places: pd.DataFrame,
    settings: Settings,
    key: bytes,
    recoding: str = "local",
) -> Release:
    """Build the k-anonymous public release of a store.

    Parameters
    ----------
    incidents
        The whole store (canonical columns and the review ``status``; a geometry column is
        ignored). Only ``published`` incidents enter the release: the others (drafts, records
        in review, rejected or retracted ones) are dropped here, whoever calls. A table without
        a ``status`` column is a store from before the review workflow, whose incidents were
        all public.
    places
        The gazetteer: site points, cities and place types.
    settings
        ``min_cell`` is k; the H3 resolution of the cell level.
    key
        The pseudonym key of the store that was read.
    recoding
        ``"local"`` (the default, keeps more detail) or ``"global"`` (for comparison).

    Returns
    -------
    Release
        The table and its report.
    """
    k = max(int(settings.min_cell), 1)
    df = _canonical(published_only(incidents))
    hier = _Hierarchies.of(df, places=places, settings=settings)
    if recoding == "global":
        levels = np.maximum(hier.start, global_levels(hier, k=k))
    elif recoding == "local":
        levels = _local_recoding(hier, k=k)
    else:
        msg = f"unknown recoding {recoding!r}; choose 'local' or 'global'"
        raise ValueError(msg)
    sizes = _class_sizes(hier.keys(levels))
    kept = sizes >= k
    table = _shown(df, hier, levels, places=places, key=key, rows=np.flatnonzero(kept))
    shown = levels.copy()
    shown[:, QUASI_IDENTIFIERS.index("location")] = shown_location(hier, levels)
    report = _report(shown[kept], n=len(df), k=k, recoding=recoding, dates=table)
    return Release(table=table, report=report)


def published_only(incidents: pd.DataFrame) -> pd.DataFrame:
    """Return the incidents whose review status is ``published`` (all, without a status).

    A missing status (a row appended without one) is not published.
    """
    if STATUS not in incidents.columns:
        return incidents
    keep = (incidents[STATUS].astype("string") == PUBLISHED).fillna(False).to_numpy(dtype=bool)
    return incidents if keep.all() else incidents[keep]


# --- hierarchies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hierarchies:
    """Integer codes of every row at every level of every QI, and each row's starting levels.

    ``codes[a]`` has one row per level of QI ``a`` and one column per incident; a code
    identifies a shown value across all levels of that QI.
    """

    codes: Mapping[str, np.ndarray]
    start: np.ndarray  # (n, len(QUASI_IDENTIFIERS)) int8
    fixed: np.ndarray  # (n,) int64: the synthetic flag, never generalised
    extras: Mapping[str, Any]

    @property
    def top(self) -> np.ndarray:
        return np.array([len(LEVELS[a]) - 1 for a in QUASI_IDENTIFIERS], dtype=np.int8)

    @classmethod
    def of(cls, df: pd.DataFrame, *, places: pd.DataFrame, settings: Settings) -> _Hierarchies:
        n = len(df)
        by_id = places.drop_duplicates("place_id").set_index("place_id")
        cities = places[places["place_type"] == "city"].drop_duplicates("city").set_index("city")
        sensitive = _flags(df, SENSITIVE_TYPES)
        # Each distinct value of a column is looked up once, not once per row: ``place`` is a
        # row's position in the gazetteer (-1: none or not a gazetteer place), ``city`` its
        # gazetteer city's position among the cities.
        place = _positions(df["place_id"], by_id.index)
        known = place >= 0
        some = np.maximum(place, 0)
        # The gazetteer's kind of place and city win over what a row says (finding: a camp
        # incident recorded as a port of entry must not be pinned as one).
        kinds = pd.Series(by_id["place_type"].to_numpy(dtype=object))
        private_kinds = list(PRIVATE_PLACE_TYPES)
        public_site = known & _pick(kinds.isin(PUBLIC_SITE_TYPES).to_numpy(dtype=bool), some)
        row_private = df["place_type"].astype("string").isin(private_kinds)
        private = np.where(
            known,
            _pick(kinds.isin(private_kinds).to_numpy(dtype=bool), some),
            row_private.to_numpy(dtype=bool, na_value=False),
        )
        # A city is shown only when it is a gazetteer city: free text never is.
        place_city = _positions(by_id["city"], cities.index)
        city = np.where(known, _pick(place_city, some), _positions(df["city"], cities.index))
        valid_city = city >= 0

        precision = df["geo_precision"].astype("string").fillna("unresolved")
        site_precision = (precision == "site").to_numpy(dtype=bool)
        city_precision = (precision == "city").to_numpy(dtype=bool)
        unresolved = (precision == "unresolved").to_numpy(dtype=bool)
        lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
        located = ~(np.isnan(lat) | np.isnan(lon)) & ~unresolved
        at_site = public_site & site_precision & ~sensitive
        # Shelters and the camp start at the city: the cell of a shelter points at its residents.
        in_cell = located & ~at_site & ~city_precision & ~sensitive & ~private
        # A site is generalised to the cell of its gazetteer point, never of the row's own.
        points = by_id[["lat", "lon"]].to_numpy(dtype=float).reshape(-1, 2)
        site_lat = np.where(at_site, _pick(points[:, 0], some, np.nan), np.nan)
        site_lon = np.where(at_site, _pick(points[:, 1], some, np.nan), np.nan)
        cell_lat = np.where(at_site, site_lat, np.where(in_cell, lat, np.nan))
        cell_lon = np.where(at_site, site_lon, np.where(in_cell, lon, np.nan))
        centre_lat, centre_lon, cell_code, cell_names = cell_index(
            cell_lat, cell_lon, settings.h3_resolution
        )

        n_city = len(cities) + 1
        city_code = np.where(valid_city, city, len(cities))  # withheld
        # A site's group (places that are one site: a bridge and the INM post at its foot) is
        # shown as its leading place; a place alone in its group is its own lead. Sites and
        # leads are numbered by their place in the gazetteer, so a lead shown for its group
        # and the same place shown as a site are one value.
        lead = _group_leads(places)
        place_lead = by_id.index.get_indexer([lead.get(p, p) for p in by_id.index])
        own_code = np.where(at_site, place, -1)
        lead_code = np.where(at_site, _pick(place_lead, some), -1)
        # Location codes: [site or its group's lead | cell | city] x city, then "withheld".
        n_site, n_cell = len(by_id) + 1, len(cell_names) + 1
        loc = np.empty((5, n), dtype=np.int64)
        base_cell = n_site * n_city
        base_city = base_cell + n_cell * n_city
        withheld = base_city + n_city
        city_only = base_city + city_code
        loc[3] = np.where(valid_city, city_only, withheld)
        loc[2] = np.where(cell_code >= 0, base_cell + cell_code * n_city + city_code, loc[3])
        loc[1] = np.where(lead_code >= 0, lead_code * n_city + city_code, loc[2])
        loc[0] = np.where(own_code >= 0, own_code * n_city + city_code, loc[1])
        loc[4] = withheld
        loc_start = np.where(at_site, 0, np.where(cell_code >= 0, 2, np.where(valid_city, 3, 4)))

        dates = pd.to_datetime(df["date"]).to_numpy(dtype="datetime64[D]")
        month_only = sensitive | (
            df["date_precision"].astype("string").fillna("day") == "month"
        ).to_numpy(dtype=bool)
        date_raw = _date_codes(dates)
        # The key arithmetic wants non-negative codes.
        date = date_raw - (date_raw.min() if date_raw.size else 0)
        date_start = np.where(np.isnat(dates), 5, np.where(month_only, 2, 0))

        type_codes, type_start = _type_codes(df)
        perp = _perpetrator_codes(df["perpetrator"])
        child = _children_codes(df["children"])
        synthetic = df["synthetic"].astype("boolean")
        fixed = pd.factorize(synthetic, use_na_sentinel=True)[0].astype(np.int64)

        codes = {
            "location": loc,
            "date": date,
            "types": type_codes,
            "perpetrator": perp,
            "children": child,
        }
        start = np.zeros((n, len(QUASI_IDENTIFIERS)), dtype=np.int8)
        start[:, QUASI_IDENTIFIERS.index("location")] = loc_start
        start[:, QUASI_IDENTIFIERS.index("date")] = date_start
        start[:, QUASI_IDENTIFIERS.index("types")] = type_start
        extras = {
            "city": np.where(valid_city, city, -1),
            "site_place": own_code,
            "lead_place": lead_code,
            "site_point": (site_lat, site_lon),
            "has_cell": cell_code >= 0,
            "cell_centre": (centre_lat, centre_lon),
            "date_raw": date_raw,
            "sensitive": sensitive,
        }
        return cls(codes=codes, start=start, fixed=fixed, extras=extras)

    @cached_property
    def radices(self) -> tuple[int, ...]:
        """Return the number of codes of the synthetic flag and of each QI (the key's digits)."""
        return (
            int(self.fixed.max(initial=0)) + 1,
            *(int(self.codes[a].max(initial=0)) + 1 for a in QUASI_IDENTIFIERS),
        )

    def keys(self, levels: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Return one int64 key per row: equal keys, equal shown values."""
        index = np.arange(len(self.fixed)) if rows is None else rows
        key = self.fixed[index].astype(np.int64)
        bound = self.radices[0]
        for j, a in enumerate(QUASI_IDENTIFIERS):
            code = self.codes[a][levels[:, j], index]
            top = self.radices[j + 1]
            if bound * top >= _KEY_LIMIT:
                # Re-code first so that the mixed-radix key never overflows (rarely needed:
                # the digits of a real store fit in 62 bits, and re-coding is the slow part).
                key, distinct = pd.factorize(key)
                key, bound = key.astype(np.int64), max(len(distinct), 1)
            key = key * top + code
            bound *= top
        return key


def shown_location(hier: _Hierarchies, levels: np.ndarray) -> np.ndarray:
    """Return each row's location level as shown.

    A level whose value is the next one's counts as that one: a row with no point has no cell,
    a row with no gazetteer city no city.
    """
    level = levels[:, QUASI_IDENTIFIERS.index("location")].astype(np.int8).copy()
    names = LEVELS["location"]
    cell, city, withheld = (names.index(x) for x in ("cell", "city", "withheld"))
    level[(level == cell) & ~hier.extras["has_cell"]] = city
    no_city = hier.extras["city"] < 0
    level[(level == city) & no_city] = withheld
    return level


def _group_leads(places: pd.DataFrame) -> dict[str, str]:
    """Return each place's group lead: the place the ``site_group`` is named after, if any."""
    if "site_group" not in places.columns:
        return {}
    known = set(places["place_id"])
    groups = places["site_group"].fillna(places["place_id"]).astype(str)
    first = dict(zip(groups[::-1], places["place_id"][::-1], strict=True))
    return {
        p: g if g in known else first[g] for p, g in zip(places["place_id"], groups, strict=True)
    }


def _flags(df: pd.DataFrame, types: tuple[str, ...]) -> np.ndarray:
    flags = type_flags(df, list(types))
    return flags.to_numpy(dtype=bool).any(axis=1) if len(flags.columns) else np.zeros(len(df), bool)


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Return each value's position in ``index`` (-1: missing or not there), one look-up a value."""
    codes, distinct = pd.factorize(values)
    found = index.get_indexer(np.asarray(distinct, dtype=object)) if len(distinct) else []
    return np.append(np.asarray(found, dtype=np.int64), -1)[codes]


def _pick(values: np.ndarray, positions: np.ndarray, empty: object = False) -> np.ndarray:
    """Return ``values[positions]``; ``empty`` everywhere when there are no values."""
    if len(values) == 0:
        return np.full(len(positions), empty)
    return values[positions]


def _date_codes(dates: np.ndarray) -> np.ndarray:
    """Return the start day (as days since 1970) of each row's period at every date level.

    The level is added as the low digit: the first of a month as a day and as a month are
    different shown values.
    """
    days = dates.astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    week = month.astype("datetime64[D]") + np.minimum(day_of_month // 7, 3) * 7
    year = days.astype("datetime64[Y]")
    month_no = (month - year.astype("datetime64[M]")).astype(np.int64)
    quarter = year.astype("datetime64[M]") + (month_no // 3) * 3
    starts = [days, week, month.astype("datetime64[D]"), quarter.astype("datetime64[D]"), year]
    out = np.empty((6, len(days)), dtype=np.int64)
    for level, start in enumerate(starts):
        as_int = start.astype("datetime64[D]").astype(np.int64)
        out[level] = np.where(np.isnat(start), -1, as_int) * 8 + level
    out[5] = -8 + 5  # withheld: one value for every row
    return out


def period_end(start: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Return the last day of the period that starts on ``start`` at each date ``level``."""
    start = start.astype("datetime64[D]")
    month = start.astype("datetime64[M]")
    next_month = (month + 1).astype("datetime64[D]")
    day_of_month = (start - month.astype("datetime64[D]")).astype(np.int64)
    week_end = np.where(day_of_month >= 21, next_month - 1, start + 6)
    ends = np.select(
        [level == 0, level == 1, level == 2, level == 3],
        [start, week_end, next_month - 1, (month + 3).astype("datetime64[D]") - 1],
        (start.astype("datetime64[Y]") + 1).astype("datetime64[D]") - 1,
    )
    return ends.astype("datetime64[D]")


def _type_codes(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    flags = type_flags(df, list(INCIDENT_TYPES)).to_numpy(dtype=bool)
    weights = 1 << np.arange(len(INCIDENT_TYPES), dtype=np.int64)
    exact = (flags.astype(np.int64) @ weights).astype(np.int64)
    groups = np.zeros(len(df), dtype=np.int64)
    for i, t in enumerate(INCIDENT_TYPES):
        groups |= flags[:, i].astype(np.int64) << TYPE_GROUP_NAMES.index(TYPE_GROUPS[t])
    span = 1 << len(INCIDENT_TYPES)
    codes = np.stack([exact, span + groups, np.full(len(df), 2 * span, dtype=np.int64)])
    return codes, np.zeros(len(df), dtype=np.int8)


def _perpetrator_codes(column: pd.Series) -> np.ndarray:
    values, distinct = pd.factorize(column.astype("string"))
    exact = np.array(
        [PERPETRATORS.index(v) if v in PERPETRATORS else -1 for v in distinct] + [-1],
        dtype=np.int64,
    )[values]
    n = len(PERPETRATORS)
    lookup = np.array([PERPETRATOR_GROUP_NAMES.index(PERPETRATOR_GROUPS[p]) for p in PERPETRATORS])
    group = np.where(exact >= 0, lookup[np.maximum(exact, 0)], -1)
    # Missing stays missing at the first two levels (a code of its own), then withheld.
    return np.stack(
        [
            np.where(exact >= 0, exact, n),
            np.where(group >= 0, n + 1 + group, n),
            np.full(len(values), 2 * n + 2),
        ]
    ).astype(np.int64)


def _children_codes(column: pd.Series) -> np.ndarray:
    count = pd.to_numeric(column).astype("Float64")
    flag = np.where(count.isna().to_numpy(), 2, (count.fillna(0) > 0).to_numpy(dtype=int))
    return np.stack([flag, np.full(len(flag), 3)]).astype(np.int64)


# --- recoding -----------------------------------------------------------------------------------


def _class_sizes(keys: np.ndarray) -> np.ndarray:
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    codes, _ = pd.factorize(keys)
    return np.bincount(codes)[codes]


#: The order in which the rows of small classes are generalised: cheap losses first, the place
#: last (a map of where things happen is what the users came for). Each step raises one QI to
#: the given level for the rows still in classes smaller than k.
SCHEDULE: tuple[tuple[str, str], ...] = (
    ("date", "week"),
    ("date", "month"),
    ("children", "withheld"),
    ("perpetrator", "group"),
    ("types", "group"),
    ("perpetrator", "withheld"),
    ("location", "group"),
    ("date", "quarter"),
    ("location", "cell"),
    ("date", "year"),
    ("location", "city"),
    ("date", "withheld"),
    ("location", "withheld"),
    ("types", "withheld"),
)


def _local_recoding(hier: _Hierarchies, *, k: int) -> np.ndarray:
    """Generalise small classes step by step (:data:`SCHEDULE`), then refine classes back.

    Rows in classes of at least k keep their detail; a row leaves the schedule as soon as its
    class reaches k. The schedule moves every small row alike, so it may go further than a row
    needs: :func:`_refine` then takes whole classes back down a level wherever every row still
    lands in a class of at least k (top-down specialisation, Fung et al. 2005).
    """
    return _refine(hier, _complete_top(hier, _generalise(hier, k=k), k=k), k=k)


def _generalise(hier: _Hierarchies, *, k: int) -> np.ndarray:
    """Raise the rows of classes smaller than k along :data:`SCHEDULE`, one step at a time.

    A class of k or more never loses a row (only the rows of smaller classes move), so once
    the classes are counted only the rows still in small classes are counted again, with the
    classes they may join. That needs keys that mean the same from one call to the next:
    mixed-radix keys that fit without re-coding, as every real store's do; otherwise every row
    is counted again at every step.
    """
    levels = hier.start.copy()
    keys = hier.keys(levels)
    sizes = _class_sizes(keys)
    small = np.flatnonzero(sizes < k)
    stable = math.prod(hier.radices) < _KEY_LIMIT  # what keys() needs to never re-code
    big = np.sort(pd.unique(keys[sizes >= k]))  # the keys of classes of k or more
    for attribute, level in SCHEDULE:
        if len(small) == 0:
            break
        j = QUASI_IDENTIFIERS.index(attribute)
        target = LEVELS[attribute].index(level)
        levels[small, j] = np.maximum(levels[small, j], target)
        if not stable:
            small = np.flatnonzero(_class_sizes(hier.keys(levels)) < k)
            continue
        cls, moved = pd.factorize(hier.keys(levels[small], rows=small))
        at = np.minimum(np.searchsorted(big, moved), max(len(big) - 1, 0))
        joins = big[at] == moved if len(big) else np.zeros(len(moved), dtype=bool)
        grown = joins | (np.bincount(cls, minlength=len(moved)) >= k)
        new = np.sort(moved[grown & ~joins])  # none of them in ``big`` yet
        big = np.insert(big, np.searchsorted(big, new), new)
        small = small[~grown[cls]]
    return levels


def _complete_top(hier: _Hierarchies, levels: np.ndarray, *, k: int) -> np.ndarray:
    """Give the rows left alone at the top of every hierarchy enough company to reach k.

    Fewer than k rows left in a class with nothing shown would be suppressed; instead, as
    few rows as needed are raised to the top from the largest classes, each of which keeps at
    least k. Only when the store is too small for that are rows suppressed.
    """
    keys = hier.keys(levels)
    sizes = _class_sizes(keys)
    small = np.flatnonzero(sizes < k)
    if len(small) == 0:
        return levels
    top = hier.top
    alone = small[(levels[small] == top).all(axis=1)]
    # Rows at the top share one class per synthetic flag; fill each such class.
    for flag in np.unique(hier.fixed[alone]):
        group = alone[hier.fixed[alone] == flag]
        need = k - len(group)
        if need <= 0:
            continue
        spare = sizes - k  # rows each class can give and still hold k
        donors = np.flatnonzero((hier.fixed == flag) & (spare > 0) & ~(levels == top).all(axis=1))
        # Take from the largest classes first, one row at a time.
        order = donors[np.argsort(-sizes[donors], kind="stable")]
        taken: list[int] = []
        given: dict[int, int] = {}
        for row in order:
            if len(taken) == need:
                break
            key = int(keys[row])
            if given.get(key, 0) < spare[row]:
                given[key] = given.get(key, 0) + 1
                taken.append(int(row))
        if len(taken) == need:
            levels[taken] = top
    return levels


#: The order in which classes are refined: the place first, then the date.
REFINE_ORDER: tuple[str, ...] = ("location", "date", "types", "perpetrator", "children")


def _refine(hier: _Hierarchies, levels: np.ndarray, *, k: int) -> np.ndarray:
    """Lower whole classes one level of one QI at a time while every row stays in a class ≥ k.

    Passes over :data:`REFINE_ORDER` until nothing moves. In a pass over one QI, a step takes
    every class of at least k whose rows can all go down a level (a class moves only as a
    whole) and tries them together; classes whose move would leave one of their rows in a class
    smaller than k drop out and the rest are tried again, until all of them fit (the step is
    made) or none is left (the pass goes on to the next QI).

    Within a pass only that QI's level of a row changes, so every class a row can be in during
    the pass is known when it starts: they are numbered once (:func:`_pass_classes`), and each
    step counts rows per class number instead of hashing a million keys.
    """
    levels = levels.copy()
    # Keys that never need re-coding are kept up to date from pass to pass (see keys()).
    keys = hier.keys(levels) if math.prod(hier.radices) < _KEY_LIMIT else None
    # A pass that moved nothing on the levels as they are now would move nothing again.
    moves = 0
    settled: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for attribute in REFINE_ORDER:
            j = QUASI_IDENTIFIERS.index(attribute)
            floor = hier.start[:, j].astype(np.intp)
            level = levels[:, j].astype(np.intp)
            if settled.get(attribute) == moves or not (level > floor).any():
                continue
            now, free, classes, count = _pass_classes(hier, levels, j=j, keys=keys)
            # Rows at their starting level stay in their class all pass long (and hold it
            # back): they are counted once; each step looks at the others only.
            held = np.bincount(now[level <= floor], minlength=count)
            blocked = held > 0
            low, level_free = floor[free], level[free]
            depth = np.zeros(len(free), dtype=np.intp)  # levels gone down in this pass
            place = np.arange(len(free))
            while True:
                now = classes[depth, place]
                size = held + np.bincount(now, minlength=count)
                # A class moves only as a whole: one row at its starting level keeps it back.
                moving = (size >= k) & ~blocked
                moving[now[level_free <= low]] = False
                if not moving.any():
                    break
                who = np.flatnonzero(moving[now])
                mine = now[who]
                trial = classes[depth[who] + 1, who]
                while True:
                    going = moving[mine]
                    # Rows landing on a class that stays where it is join all of its rows.
                    joined = np.where(moving[trial], 0, size[trial])
                    arrived = np.bincount(trial[going], minlength=count)
                    failed = mine[going & (arrived[trial] + joined < k)]
                    if len(failed) == 0:
                        break
                    moving[failed] = False
                    if not moving[mine].any():
                        break
                going = who[moving[mine]]
                if len(going) == 0:
                    break
                level_free[going] -= 1
                depth[going] += 1
                changed = True
                moves += 1
            if keys is not None:
                went = depth > 0
                rows, codes = free[went], hier.codes[attribute]
                change = codes[level_free[went], rows] - codes[level[rows], rows]
                keys[rows] += change * math.prod(hier.radices[j + 2 :])
            level[free] = level_free
            levels[:, j] = level
            settled[attribute] = moves
    return levels


def _pass_classes(
    hier: _Hierarchies, levels: np.ndarray, *, j: int, keys: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Return a number for every class a row can be in while only QI ``j`` goes down.

    ``keys`` are the rows' keys now when they need no re-coding (``None``: found here).
    Returns each row's class now; the rows above their starting level (``free``); for those,
    ``classes`` (row ``d``: each one's class ``d`` levels below its level now, down to its
    starting level; -1 past it); and how many classes there are.
    """
    n = len(levels)
    rows = np.arange(n)
    attribute = QUASI_IDENTIFIERS[j]
    codes = hier.codes[attribute]
    if keys is not None:
        # QI j's digit of a mixed-radix key weighs the product of the radices after it.
        top = math.prod(hier.radices[j + 2 :])
        rest = keys - codes[levels[:, j], rows] * top
    else:
        top, rest = 1, _rest_key(hier, levels, j=j)
    level = levels[:, j].astype(np.intp)
    span = level - hier.start[:, j]
    deepest = int(span.max(initial=0))
    reach = [np.flatnonzero(span >= d) for d in range(deepest + 1)]
    ids, distinct = pd.factorize(
        np.concatenate([rest[r] + codes[level[r] - d, r] * top for d, r in enumerate(reach)])
    )
    # Every row reaches depth 0 (levels never go below the start), in row order.
    now = ids[:n]
    free = reach[1] if deepest else np.zeros(0, dtype=np.intp)
    classes = np.full((deepest + 2, len(free)), -1, dtype=np.intp)
    classes[0] = now[free]
    at = n
    for d in range(1, deepest + 1):
        classes[d, span[free] >= d] = ids[at : at + len(reach[d])]
        at += len(reach[d])
    return now, free, classes, len(distinct)


def _rest_key(hier: _Hierarchies, levels: np.ndarray, *, j: int) -> np.ndarray:
    """Return keys of every shown value but QI ``j``'s, times its radix (re-coded if needed)."""
    rows = np.arange(len(levels))
    rest = hier.fixed.astype(np.int64)
    bound = hier.radices[0]
    for i, a in enumerate(QUASI_IDENTIFIERS):
        if i == j:
            continue
        digits = hier.radices[i + 1]
        if bound * digits >= _KEY_LIMIT:
            rest, distinct = pd.factorize(rest)
            rest, bound = rest.astype(np.int64), max(len(distinct), 1)
        rest = rest * digits + hier.codes[a][levels[:, i], rows]
        bound *= digits
    top = hier.radices[j + 1]
    if bound * top >= _KEY_LIMIT:
        rest, _ = pd.factorize(rest)
        rest = rest.astype(np.int64)
    return rest * top


#: How much each QI's detail weighs in :func:`detail` (the place most, as for the schedule).
DETAIL_WEIGHTS: dict[str, float] = {
    "location": 4.0,
    "date": 2.0,
    "types": 2.0,
    "perpetrator": 1.0,
    "children": 1.0,
}


def detail(levels: np.ndarray) -> float:
    """Return the share of detail kept: 1 when every QI is at its most detailed level, 0 withheld.

    A weighted mean over rows and QIs (:data:`DETAIL_WEIGHTS`) of ``1 - level / top``.
    """
    if len(levels) == 0:
        return 0.0
    top = np.array([len(LEVELS[a]) - 1 for a in QUASI_IDENTIFIERS], dtype=float)
    weights = np.array([DETAIL_WEIGHTS[a] for a in QUASI_IDENTIFIERS])
    return float(((1 - levels / top) * weights).sum(axis=1).mean() / weights.sum())


def global_levels(hier: _Hierarchies, *, k: int, max_suppressed: float = 0.05) -> np.ndarray:
    """Return the one level vector for every row that keeps the most detail (global recoding).

    A full search of the generalisation lattice (Incognito-style, LeFevre et al. 2005): each
    row's level is the larger of its starting level and the node's; rows left in classes smaller
    than k are suppressed, at most ``max_suppressed`` of them; among the nodes within that budget
    the one with the most :func:`detail` wins.
    """
    shape = [len(LEVELS[a]) for a in QUASI_IDENTIFIERS]
    n = len(hier.fixed)
    best: tuple[float, int] | None = None
    best_node = np.array(hier.top)
    for node in np.ndindex(*shape):
        levels = np.maximum(hier.start, np.array(node, dtype=np.int8))
        kept = _class_sizes(hier.keys(levels)) >= k
        lost = int(n - kept.sum())
        if lost > max_suppressed * n:
            continue
        score = (detail(levels[kept]), -lost)
        if best is None or score > best:
            best, best_node = score, np.array(node, dtype=np.int8)
    return best_node


# --- the shown table ----------------------------------------------------------------------------


def _shown(
    df: pd.DataFrame,
    hier: _Hierarchies,
    levels: np.ndarray,
    *,
    places: pd.DataFrame,
    key: bytes,
    rows: np.ndarray,
) -> pd.DataFrame:
    """Return the shown table of the released ``rows``, in release order (:func:`_release_order`).

    Text columns are built from each row's number into a short list of shown values, and every
    column is taken in release order before it is made, so no million-row table is copied.
    """
    n = len(df)
    lv = {a: levels[:, j] for j, a in enumerate(QUASI_IDENTIFIERS)}
    ex = hier.extras
    by_id = places.drop_duplicates("place_id").set_index("place_id")
    cities = places[places["place_type"] == "city"].drop_duplicates("city").set_index("city")

    site_level, group_level, cell_level, city_level, withheld_level = range(5)
    loc_level = shown_location(hier, levels)
    city = np.asarray(ex["city"])
    at_city = (loc_level == city_level) & (city >= 0)
    shown_city = np.where(loc_level == withheld_level, -1, city)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    site = (loc_level == site_level) | (loc_level == group_level)
    cell = loc_level == cell_level
    site_lat, site_lon = ex["site_point"]
    centre_lat, centre_lon = ex["cell_centre"]
    # One site's places share one point, so the lead's point is the site's own.
    lat[site], lon[site] = site_lat[site], site_lon[site]
    lat[cell], lon[cell] = centre_lat[cell], centre_lon[cell]
    if at_city.any():
        found = cities[["lat", "lon"]].to_numpy(dtype=float)[city[at_city]]
        lat[at_city], lon[at_city] = found[:, 0], found[:, 1]
    site_place = np.where(
        loc_level == site_level,
        ex["site_place"],
        np.where(loc_level == group_level, ex["lead_place"], -1),
    )
    # Kinds of place: a site's (or its group lead's) from the gazetteer, then the two others.
    n_places = len(by_id)
    kind = np.where(
        site,
        site_place,
        np.where(cell, n_places, np.where(loc_level == city_level, n_places + 1, -1)),
    )
    kinds = [*by_id["place_type"].to_numpy(dtype=object), "neighborhood", "city"]

    date_level = lv["date"]
    raw = np.asarray(ex["date_raw"])[date_level, np.arange(n)]
    withheld_date = date_level >= LEVELS["date"].index("withheld")
    start_day = np.where(withheld_date, np.datetime64("NaT"), (raw // 8).astype("datetime64[D]"))
    end_day = np.where(
        withheld_date, np.datetime64("NaT"), period_end(start_day, np.minimum(date_level, 4))
    )

    digests = pseudonym_digests(df["incident_id"].iloc[rows], key)
    order = _release_order(start_day[rows], digests)
    ids = np.asarray(["inc-" + digest.hex() for digest in digests], dtype=object)
    take = rows[order]
    type_code, type_names = _shown_types(np.asarray(hier.codes["types"]), lv["types"])
    perp_code, perp_names = _shown_perpetrators(df["perpetrator"], lv["perpetrator"])
    children = (
        pd.to_numeric(df["children"]).astype("Float64").to_numpy(float, na_value=np.nan)[take]
    )
    flag_known = ~np.isnan(children) & (lv["children"][take] == 0)
    affected = pd.arrays.BooleanArray(np.nan_to_num(children) > 0, ~flag_known)
    location = LEVELS["location"]
    out = pd.DataFrame(
        {
            "incident_id": pd.array(ids[order], dtype="string"),
            "date": pd.to_datetime(start_day[take]),
            "date_end": pd.to_datetime(end_day[take]),
            "date_precision": _strings(date_level[take], LEVELS["date"]),
            "incident_types": _strings(type_code[take], type_names),
            "type_precision": _strings(lv["types"][take], LEVELS["types"]),
            "city": _strings(shown_city[take], cities.index.to_numpy(dtype=object)),
            "place_id": _strings(site_place[take], by_id.index.to_numpy(dtype=object)),
            "place_name": _strings(site_place[take], by_id["name"].to_numpy(dtype=object)),
            "place_type": _strings(kind[take], kinds),
            "lat": lat.round(6)[take],
            "lon": lon.round(6)[take],
            "geo_precision": _strings(loc_level[take], [_SHOWN_PRECISION[x] for x in location]),
            "public_location": _strings(loc_level[take], [_PUBLIC_LOCATION[x] for x in location]),
            "perpetrator": _strings(perp_code[take], perp_names),
            "perpetrator_precision": _strings(lv["perpetrator"][take], LEVELS["perpetrator"]),
            "children_affected": affected,
            "synthetic": df["synthetic"].astype("boolean").to_numpy()[take],
        }
    )
    return out


def _release_order(start: np.ndarray, digests: Sequence[bytes]) -> np.ndarray:
    """Return the release's row order: by shown date (undated last), then pseudonym.

    What ``sort_values(["date", "incident_id"], kind="stable")`` gives, on numbers: a
    pseudonym is ``inc-`` and the hex digits of a 6-byte digest, so it sorts as that number.
    """
    days = start.astype("datetime64[s]")
    when = days.astype(np.int64)
    when[np.isnat(days)] = np.iinfo(np.int64).max
    parts = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 6).astype(np.uint64)
    number = (parts << np.arange(40, -1, -8, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    return np.lexsort((number, when))


def _strings(codes: np.ndarray, values: Sequence[object]) -> pd.api.extensions.ExtensionArray:
    """Return ``values[codes]`` as a string array (-1 or a missing value: missing)."""
    shown = pd.array(np.asarray(list(values), dtype=object), dtype="string")
    return shown.take(np.asarray(codes, dtype=np.intp), allow_fill=True)


def _shown_types(codes: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Return each row's shown ``incident_types`` as a number into the distinct shown values.

    The type codes are bit masks of the types (or of their groups); each distinct one is
    spelled once.
    """
    span = 1 << len(INCIDENT_TYPES)

    def names(mask: int, vocabulary: tuple[str, ...]) -> str | None:
        return MULTI_SEP.join(v for i, v in enumerate(vocabulary) if mask >> i & 1) or None

    shown = codes[np.minimum(level, 2), np.arange(len(level))]
    distinct, inverse = np.unique(shown, return_inverse=True)
    text = [
        names(int(c), INCIDENT_TYPES)
        if c < span
        else names(int(c) - span, TYPE_GROUP_NAMES)
        if c < 2 * span
        else None
        for c in distinct
    ]
    return inverse.ravel(), text


def _shown_perpetrators(column: pd.Series, level: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Return each row's shown perpetrator as a number into the distinct shown values."""
    values, distinct = pd.factorize(column.astype("string"))
    exact = [str(v) for v in distinct]
    groups = list(dict.fromkeys(PERPETRATOR_GROUPS[v] for v in exact if v in PERPETRATOR_GROUPS))
    group = np.array(
        [groups.index(PERPETRATOR_GROUPS[v]) if v in PERPETRATOR_GROUPS else -1 for v in exact]
        + [-1],
        dtype=np.int64,
    )[values]
    out = np.where(level == 0, values, np.where(group >= 0, len(exact) + group, -1))
    return np.where(level >= 2, -1, out), exact + groups


def _canonical(incidents: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(incidents).drop(columns=["geometry"], errors="ignore")
    if list(frame.columns) == list(COLUMNS):
        pass
    elif all(
        c in frame.columns and frame[c].dtype == pd.api.types.pandas_dtype(t)
        for c, t in COLUMNS.items()
    ):
        # A store as read (canonical columns and dtypes, the review status beside them):
        # what conform() returns, without converting a million values again.
        frame = frame[list(COLUMNS)]
    else:
        frame = conform(frame)
    return frame.reset_index(drop=True)


# --- selection on shown values ------------------------------------------------------------------


def select(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Return the release rows that a public filter state selects, testing shown values only.

    A row is selected by a date range when its shown period overlaps the range (a month-level
    row belongs to every range that touches its month); by a type when it shows that type or, on
    a group-level row, that type's group; by a perpetrator likewise; by a city, a kind of place
    or "children affected" when it shows that value. Whatever the filters, the selection is
    therefore a union of whole classes of the release.
    """
    mask = select_mask(table, filters)
    if mask.all():
        # Nothing left out: a view of the table (copy-on-write), not a second million rows.
        return table.copy(deep=False)
    return table.loc[mask]


def select_mask(table: pd.DataFrame, filters: Filters) -> np.ndarray:
    """Return which rows of ``table`` :func:`select` keeps, as a boolean array.

    ``table`` holds the release's shown columns; they may be categoricals (a coded copy of the
    release, :func:`riskmap.release.audience.coded`): the test is the same on the values.
    """
    mask = np.ones(len(table), dtype=bool)
    if filters.start is not None:
        mask &= (table["date_end"] >= pd.Timestamp(filters.start)).to_numpy(dtype=bool)
    if filters.end is not None:
        mask &= (table["date"] <= pd.Timestamp(filters.end)).to_numpy(dtype=bool)
    if filters.types:
        exact = set(filters.types)
        groups = {TYPE_GROUPS[t] for t in filters.types}
        # Decided once per distinct (types, precision) pair, not per row: a missing value in
        # either (code -1) selects nothing.
        types, shown_types = distinct_codes(table["incident_types"])
        precision, shown_precision = distinct_codes(table["type_precision"])
        hit = np.zeros((len(shown_types) + 1, len(shown_precision) + 1), dtype=bool)
        for i, value in enumerate(shown_types):
            names = set(str(value).split(MULTI_SEP))
            for j, level in enumerate(shown_precision):
                hit[i, j] = bool(names & (groups if level == "group" else exact))
        mask &= hit[types, precision]
    if filters.perpetrators:
        wanted = set(filters.perpetrators) | {PERPETRATOR_GROUPS[p] for p in filters.perpetrators}
        mask &= table["perpetrator"].isin(wanted).to_numpy(dtype=bool, na_value=False)
    if filters.cities:
        mask &= table["city"].isin(filters.cities).to_numpy(dtype=bool, na_value=False)
    if filters.place_types:
        mask &= table["place_type"].isin(filters.place_types).to_numpy(dtype=bool, na_value=False)
    if filters.children_only:
        mask &= table["children_affected"].to_numpy(dtype=bool, na_value=False)
    return mask


# --- the report ---------------------------------------------------------------------------------


def _report(
    levels: np.ndarray, *, n: int, k: int, recoding: str, dates: pd.DataFrame
) -> dict[str, object]:
    shares: dict[str, dict[str, int]] = {}
    for j, a in enumerate(QUASI_IDENTIFIERS):
        counts: list[int] = (
            np.bincount(levels[:, j], minlength=len(LEVELS[a])).tolist() if len(levels) else []
        )
        shares[a] = {name: int(c) for name, c in zip(LEVELS[a], counts, strict=False)}
    released = len(levels)
    through = dates["date_end"].max() if released else None
    return {
        "k": k,
        "recoding": recoding,
        "incidents": n,
        "released": released,
        "suppressed": n - released,
        "levels": shares,
        "detail": round(detail(levels), 3),
        "data_through": through.date().isoformat() if isinstance(through, pd.Timestamp) else None,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
