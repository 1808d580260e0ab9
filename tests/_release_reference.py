"""A frozen copy of the release build as it was before it was made fast (commit 89342b5).

The tests compare :func:`riskmap.release.public.build_release` with :func:`build_release` here:
the faster build must give the same table and report for the same store, settings and key.
Never edit this file to make a test pass; the release's own documentation is in
:mod:`riskmap.release.public`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import Any

import h3
import numpy as np
import pandas as pd
from h3.api.basic_int import latlng_to_cell as _cell_int

from riskmap.filters import Filters
from riskmap.release.privacy import SENSITIVE_TYPES
from riskmap.schema import (
    COLUMNS,
    INCIDENT_TYPES,
    MULTI_SEP,
    PERPETRATORS,
    PUBLIC_SITE_TYPES,
    PUBLISHED,
    STATUS,
    conform,
    type_flags,
)
from riskmap.settings import Settings

# The privacy primitives as they were (commit 89342b5), frozen with the rest.


def cell_centres(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Return the H3 cell and its centre for each point (NaN in, NaN out).

    Parameters
    ----------
    lat, lon
        WGS84 coordinates.
    resolution
        H3 resolution (0-15).

    Returns
    -------
    tuple
        Centre latitudes, centre longitudes, and cell ids (``None`` where there was no point).
    """
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    out_lat = np.full(lat_a.shape, np.nan)
    out_lon = np.full(lat_a.shape, np.nan)
    cells = np.full(lat_a.shape, None, dtype=object)
    ok = ~(np.isnan(lat_a) | np.isnan(lon_a))
    if ok.any():
        # Many incidents share a point (a site, a neighbourhood) and many points share a cell:
        # index each distinct point once (hashed, not sorted) and find each cell's centre once.
        # Integer cell ids are twice as fast to compute as strings; only distinct cells get one.
        point, points = pd.factorize(lat_a[ok] + 1j * lon_a[ok])
        point_cells = np.fromiter(
            map(_cell_int, points.real.tolist(), points.imag.tolist(), repeat(resolution)),
            dtype=np.int64,
            count=len(points),
        )
        cell, distinct = pd.factorize(point_cells)
        ids = [h3.int_to_str(int(c)) for c in distinct]
        centres = np.array([h3.cell_to_latlng(c) for c in ids], dtype=float).reshape(-1, 2)
        row_cell = cell[point]
        out_lat[ok] = centres[row_cell, 0]
        out_lon[ok] = centres[row_cell, 1]
        cells[ok] = np.asarray(ids, dtype=object)[row_cell]
    return out_lat, out_lon, cells.tolist()


def pseudonyms(ids: pd.Series, key: bytes) -> list[str]:
    """Return :func:`pseudonym` of each id (inlined: this runs once per incident)."""
    # hmac.digest is the one-shot HMAC in C: the same bytes as hmac.new(...).digest(), faster.
    mac = hmac.digest
    return [
        "inc-" + mac(key, str(i).encode("utf-8"), "sha256")[:6].hex()
        for i in ids.to_numpy(dtype=object)
    ]


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
#: A missing value, as numpy's ``where`` and ``select`` take it for object arrays.
_NONE = np.array(None, dtype=object)
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
    table = _shown(df, hier, levels, places=places, key=key)[kept]
    table = table.take(_release_order(table)).reset_index(drop=True)
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


def _release_order(table: pd.DataFrame) -> np.ndarray:
    """Return the release's row order: by shown date (undated last), then pseudonym.

    What ``sort_values(["date", "incident_id"], kind="stable")`` gives, on numpy arrays: a
    million Arrow strings sort several times faster as fixed-width ones.
    """
    days = table["date"].to_numpy(dtype="datetime64[s]")
    when = days.astype(np.int64)
    when[np.isnat(days)] = np.iinfo(np.int64).max
    ids = np.asarray(table["incident_id"].to_numpy(dtype=object, na_value=""), dtype=str)
    return np.lexsort((ids, when))


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
        place_id = df["place_id"].astype("string")
        known = place_id.isin(by_id.index).to_numpy(dtype=bool, na_value=False)
        ids = np.asarray(place_id.to_numpy(dtype=object, na_value=None), dtype=object)
        # The gazetteer's kind of place and city win over what a row says (finding: a camp
        # incident recorded as a port of entry must not be pinned as one).
        gaz_type = pd.Series(by_id["place_type"].reindex(ids).to_numpy(dtype=object))
        row_type = df["place_type"].astype("string").to_numpy(dtype=object, na_value=None)
        place_type = np.where(known, gaz_type.to_numpy(dtype=object), row_type)
        gaz_city = by_id["city"].reindex(ids).to_numpy(dtype=object)
        row_city = df["city"].astype("string").to_numpy(dtype=object, na_value=None)
        city = np.where(known, gaz_city, row_city)
        # A city is shown only when it is a gazetteer city: free text never is.
        valid_city = pd.Series(city).isin(cities.index).to_numpy(dtype=bool)
        city = np.where(valid_city, city, None)

        precision = df["geo_precision"].astype("string").fillna("unresolved").to_numpy(dtype=object)
        lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
        located = ~(np.isnan(lat) | np.isnan(lon)) & (precision != "unresolved")
        public_site = known & pd.Series(place_type).isin(PUBLIC_SITE_TYPES).to_numpy(dtype=bool)
        at_site = public_site & (precision == "site") & ~sensitive
        # Shelters and the camp start at the city: the cell of a shelter points at its residents.
        private = pd.Series(place_type).isin(list(PRIVATE_PLACE_TYPES)).to_numpy(dtype=bool)
        in_cell = located & ~at_site & (precision != "city") & ~sensitive & ~private
        # A site is generalised to the cell of its gazetteer point, never of the row's own.
        site_lat, site_lon = _points(by_id, ids, at_site)
        cell_lat = np.where(at_site, site_lat, np.where(in_cell, lat, np.nan))
        cell_lon = np.where(at_site, site_lon, np.where(in_cell, lon, np.nan))
        centre_lat, centre_lon, cell_ids = cell_centres(cell_lat, cell_lon, settings.h3_resolution)

        city_code, city_names = pd.factorize(pd.Series(city, dtype=object), use_na_sentinel=True)
        n_city = len(city_names) + 1
        city_code = np.where(city_code < 0, len(city_names), city_code)  # withheld
        # A site's group (places that are one site: a bridge and the INM post at its foot) is
        # shown as its leading place; a place alone in its group is its own lead.
        lead = _group_leads(places)
        lead_ids = np.asarray([lead.get(p, p) if p else None for p in ids], dtype=object)
        shown_ids = pd.Series(
            np.concatenate([np.where(at_site, ids, _NONE), np.where(at_site, lead_ids, _NONE)])
        )
        site_codes, site_names = pd.factorize(shown_ids)
        own_code, lead_code = site_codes[:n], site_codes[n:]
        cell_code, cell_names = pd.factorize(pd.Series(cell_ids, dtype=object))
        # Location codes: [site or its group's lead | cell | city] x city, then "withheld".
        n_site, n_cell = len(site_names) + 1, len(cell_names) + 1
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
            df["date_precision"].astype("string").fillna("day").to_numpy(dtype=object) == "month"
        )
        date_raw = _date_codes(dates)
        # The key arithmetic wants non-negative codes.
        date = date_raw - (date_raw.min() if date_raw.size else 0)
        date_start = np.where(np.isnat(dates), 5, np.where(month_only, 2, 0))

        type_codes, type_start = _type_codes(df)
        perp = _perpetrator_codes(df["perpetrator"])
        child = _children_codes(df["children"])
        synthetic = df["synthetic"].astype("boolean").to_numpy(dtype=object, na_value=None)
        fixed = pd.factorize(pd.Series(synthetic, dtype=object))[0].astype(np.int64)

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
            "city": city,
            "place_type": place_type,
            "site_ids": np.where(at_site, ids, _NONE),
            "lead_ids": np.where(at_site, lead_ids, _NONE),
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
    no_city = pd.isna(np.asarray(hier.extras["city"], dtype=object))
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


def _points(
    by_id: pd.DataFrame, ids: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lat = np.full(len(ids), np.nan)
    lon = np.full(len(ids), np.nan)
    if mask.any():
        found = by_id.reindex(ids[mask])[["lat", "lon"]].to_numpy(dtype=float)
        lat[mask], lon[mask] = found[:, 0], found[:, 1]
    return lat, lon


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
    values = column.astype("string").to_numpy(dtype=object, na_value=None)
    exact = np.array(
        [PERPETRATORS.index(v) if v in PERPETRATORS else -1 for v in values], dtype=np.int64
    )
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
    levels = hier.start.copy()
    for attribute, level in SCHEDULE:
        small = _class_sizes(hier.keys(levels)) < k
        if not small.any():
            break
        j = QUASI_IDENTIFIERS.index(attribute)
        target = LEVELS[attribute].index(level)
        levels[small, j] = np.maximum(levels[small, j], target)
    return _refine(hier, _complete_top(hier, levels, k=k), k=k)


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
    """Lower whole classes one level of one QI at a time while every row stays in a class ≥ k."""
    levels = levels.copy()
    changed = True
    while changed:
        changed = False
        for attribute in REFINE_ORDER:
            j = QUASI_IDENTIFIERS.index(attribute)
            while True:
                keys = hier.keys(levels)
                safe = _class_sizes(keys) >= k
                candidate = safe & (levels[:, j] > hier.start[:, j])
                if not candidate.any():
                    break
                cls = pd.factorize(keys)[0]
                # A class moves only as a whole; rows that cannot move keep the class back.
                blocked = np.zeros(cls.max() + 1, dtype=bool)
                blocked[cls[safe & ~candidate]] = True
                moving = candidate & ~blocked[cls]
                accepted = False
                while moving.any():
                    trial = levels.copy()
                    trial[moving, j] -= 1
                    ok = _class_sizes(hier.keys(trial)) >= k
                    failed = np.zeros_like(blocked)
                    failed[cls[moving & ~ok]] = True
                    if not failed[cls[moving]].any():
                        accepted = True
                        break
                    moving &= ~failed[cls]
                if not accepted:
                    break
                levels[moving, j] -= 1
                changed = True
    return levels


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
    df: pd.DataFrame, hier: _Hierarchies, levels: np.ndarray, *, places: pd.DataFrame, key: bytes
) -> pd.DataFrame:
    n = len(df)
    lv = {a: levels[:, j] for j, a in enumerate(QUASI_IDENTIFIERS)}
    ex = hier.extras
    by_id = places.drop_duplicates("place_id").set_index("place_id")
    cities = places[places["place_type"] == "city"].drop_duplicates("city").set_index("city")

    loc_level = np.asarray(LEVELS["location"], dtype=object)[shown_location(hier, levels)]
    city = np.asarray(ex["city"], dtype=object)
    at_city = (loc_level == "city") & pd.notna(city)
    shown_city = np.where(loc_level == "withheld", _NONE, city)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    site = (loc_level == "site") | (loc_level == "group")
    cell = loc_level == "cell"
    site_lat, site_lon = ex["site_point"]
    centre_lat, centre_lon = ex["cell_centre"]
    # One site's places share one point, so the lead's point is the site's own.
    lat[site], lon[site] = site_lat[site], site_lon[site]
    lat[cell], lon[cell] = centre_lat[cell], centre_lon[cell]
    if at_city.any():
        found = cities.reindex(city[at_city])[["lat", "lon"]].to_numpy(dtype=float)
        lat[at_city], lon[at_city] = found[:, 0], found[:, 1]
    site_ids = np.where(
        loc_level == "site", ex["site_ids"], np.where(loc_level == "group", ex["lead_ids"], _NONE)
    )
    names = by_id["name"].reindex(site_ids).to_numpy(dtype=object)
    lead_kind = by_id["place_type"].reindex(site_ids).to_numpy(dtype=object)
    kind = np.select(
        [loc_level == "site", loc_level == "group", cell, loc_level == "city"],
        [np.asarray(ex["place_type"], dtype=object), lead_kind, "neighborhood", "city"],
        _NONE,
    )

    date_level = lv["date"]
    raw = np.asarray(ex["date_raw"])[date_level, np.arange(n)]
    withheld_date = date_level >= LEVELS["date"].index("withheld")
    start_day = np.where(withheld_date, np.datetime64("NaT"), (raw // 8).astype("datetime64[D]"))
    end_day = np.where(
        withheld_date, np.datetime64("NaT"), period_end(start_day, np.minimum(date_level, 4))
    )

    types = _shown_types(np.asarray(hier.codes["types"]), lv["types"])
    perp = _shown_perpetrators(df["perpetrator"], lv["perpetrator"])
    children = pd.to_numeric(df["children"]).astype("Float64")
    flag = (children.fillna(0) > 0).astype("boolean").where(children.notna())
    flag = flag.where(lv["children"] == 0)
    out = pd.DataFrame(
        {
            "incident_id": pd.array(pseudonyms(df["incident_id"], key), dtype="string"),
            "date": pd.to_datetime(start_day),
            "date_end": pd.to_datetime(end_day),
            "date_precision": pd.array(
                np.asarray(LEVELS["date"], dtype=object)[date_level], dtype="string"
            ),
            "incident_types": pd.array(types, dtype="string"),
            "type_precision": pd.array(
                np.asarray(LEVELS["types"], dtype=object)[lv["types"]], dtype="string"
            ),
            "city": pd.array(shown_city, dtype="string"),
            "place_id": pd.array(site_ids, dtype="string"),
            "place_name": pd.array(names, dtype="string"),
            "place_type": pd.array(kind, dtype="string"),
            "lat": lat.round(6),
            "lon": lon.round(6),
            "geo_precision": pd.array(
                [_SHOWN_PRECISION[x] for x in loc_level] if n else [], dtype="string"
            ),
            "public_location": pd.array(
                [_PUBLIC_LOCATION[x] for x in loc_level] if n else [], dtype="string"
            ),
            "perpetrator": pd.array(perp, dtype="string"),
            "perpetrator_precision": pd.array(
                np.asarray(LEVELS["perpetrator"], dtype=object)[lv["perpetrator"]], dtype="string"
            ),
            "children_affected": flag.to_numpy(dtype=object, na_value=None),
            "synthetic": df["synthetic"].astype("boolean").to_numpy(),
        }
    )
    out["children_affected"] = out["children_affected"].astype("boolean")
    return out


def _shown_types(codes: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Return the shown ``incident_types`` from the type codes (bit masks; one string each)."""
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
    return np.asarray(text, dtype=object)[inverse.ravel()] if len(level) else np.array([], object)


def _shown_perpetrators(column: pd.Series, level: np.ndarray) -> np.ndarray:
    values = column.astype("string").to_numpy(dtype=object, na_value=None)
    group = np.array([PERPETRATOR_GROUPS.get(v) if v else None for v in values], dtype=object)
    out = np.where(level == 0, values, group)
    return np.where(level >= 2, _NONE, out)


def _canonical(incidents: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(incidents).drop(columns=["geometry"], errors="ignore")
    if list(frame.columns) != list(COLUMNS):
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
        types, shown_types = pd.factorize(table["incident_types"])
        precision, shown_precision = pd.factorize(table["type_precision"])
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
    if mask.all():
        # Nothing left out: a view of the table (copy-on-write), not a second million rows.
        return table.copy(deep=False)
    return table.loc[mask]


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
