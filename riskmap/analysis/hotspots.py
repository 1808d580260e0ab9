"""Where it is dangerous now: ranked sites with honest intervals, and statistical hotspots.

The hotspot analysis the app, the ``riskmap hotspots`` command and the notebook use. Three
analyses, each careful not to claim more than a few dozen incidents can support:

**Site ranking** (:func:`rank_sites`). For each gazetteer site (bridges, bus terminals, INM
offices, plazas; for staff also shelters and the camp) the incidents *attributed* to it — the
place its description named — in a period and in the previous period of equal length; places
that are one site are one entry. Counting within a radius stays as a second figure for sites
with a high-confidence point (measured in :data:`~riskmap.schema.METRIC_CRS`), never the rank.
Each count carries an exact Poisson confidence interval (Garwood, *Fiducial limits for the
Poisson distribution*, Biometrika 28, 1936; :func:`poisson_interval`), and the change between
periods an exact conditional test of
equal rates: given ``n`` incidents over both periods, the current count is Binomial(``n``, 1/2)
when the rate has not changed (Przyborowski & Wilenski, Biometrika 31, 1940).

**Statistical hotspots** (:func:`gi_star`, implemented in :mod:`riskmap.analysis.hexgrid` with the
hex
counts :func:`hex_counts`). The local Getis-Ord Gi* statistic (Getis & Ord, Geographical
Analysis 24, 1992) on the H3 grid, with permutation inference and the Benjamini-Hochberg
false-discovery rate. It runs only on at least 30 incidents located at a site or in a
neighbourhood; otherwise it says why not.

**Exposure** (:func:`exposure_rates`, implemented in :mod:`riskmap.analysis.exposure` with
:func:`read_returns`). Incidents per 1,000 people returned through a city's ports of entry, per
month, with the same exact interval scaled by the number returned.

Only incidents whose ``geo_precision`` is ``site`` or ``neighborhood`` enter the spatial work
(Gi*, the ``nearby`` figure); city-level and unresolved incidents are left out and counted
(:attr:`GiStarResult.excluded`). All counts are exact integers; public outputs rank the rows of
the public release (:func:`rank_selection` with a public audience).

"Now", for historical data, is the data's last day: the period ends on the latest incident date
unless an end date is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from riskmap.analysis._poisson import poisson_interval, poisson_limits
from riskmap.analysis.exposure import EXPOSURE_COLUMNS, exposure_rates, read_returns
from riskmap.analysis.hexgrid import (
    GI_COLUMNS,
    MIN_CELLS,
    GiStarResult,
    fdr_qvalues,
    gi_star,
    hex_counts,
    project,
    spatial_incidents,
)
from riskmap.errors import SettingsError
from riskmap.filters import Filters
from riskmap.release.audience import Audience

#: Columns of :func:`rank_sites`, in order.
RANKING_COLUMNS: tuple[str, ...] = (
    "rank",
    "place_id",
    "name",
    "name_es",
    "place_type",
    "city",
    "lat",
    "lon",
    "members",
    "incidents",
    "ci_low",
    "ci_high",
    "people",
    "previous_incidents",
    "previous_people",
    "change",
    "change_p",
    "nearby",
    "tie_reason",
    "tied_with",
    "tie_note",
)
#: Codes of ``tie_reason`` (for translation): tied on the number of incidents; no incident in
#: the period; nothing to explain.
TIE_REASONS: tuple[str, ...] = ("equal_counts", "no_incidents", "")
_NAMES_SHOWN = 3


def _end_day(incidents: pd.DataFrame, end: dt.date | str | None) -> pd.Timestamp:
    if end is not None:
        try:
            return pd.Timestamp(end).normalize()
        except (ValueError, TypeError) as e:
            msg = f"end date {end!r} is not a date; write it as YYYY-MM-DD"
            raise SettingsError(msg) from e
    # A release row stands for its whole shown period: "now" is the end of the latest one.
    dates = pd.to_datetime(incidents.get("date_end", incidents["date"])).dropna()
    if dates.empty:
        return pd.Timestamp(dt.date.today())
    return dates.max().normalize()


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        msg = f"{name} must be a positive number, not {value!r}"
        raise SettingsError(msg)


def rank_selection(
    audience: Audience,
    filters: Filters,
    *,
    radius_m: float,
    period_days: int | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Rank the sites an audience may see, for one filter state (the app and the CLI agree).

    The selection is ranked on all its dates (the previous period matters); the period is the
    filter's date range when it has one, else ``period_days`` (default 90) up to ``end`` (default
    the latest incident). A public audience ranks its release rows, public sites only.
    """
    rows = audience.select(filters.with_(start=None, end=None))
    if end is None:
        end = filters.end
    if end is None:
        last = pd.to_datetime(rows.get("date_end", rows["date"])).dropna()
        end = last.max().date() if not last.empty else dt.date.today()
    if period_days is None:
        period_days = (end - filters.start).days + 1 if filters.start else 90
    places = audience.places
    if filters.cities:
        places = places[places["city"].isin(filters.cities)]
    return rank_sites(
        rows,
        places=places,
        end=end,
        period_days=max(int(period_days), 1),
        radius_m=radius_m,
        site_types=audience.site_types,
    )


def rank_sites(
    incidents: pd.DataFrame,
    *,
    places: pd.DataFrame,
    site_types: Iterable[str],
    end: dt.date | str | None = None,
    period_days: int = 90,
    radius_m: float = 500.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rank the gazetteer's sites by the incidents attributed to them in a recent period.

    An incident counts for the site its description named (its ``place_id``), wherever the
    site's point is and whether or not it has one: a bus terminal with no public coordinate is
    ranked like a bridge. Places that are one site (the same ``site_group``: a bridge and the
    INM post at its foot) are ranked as one entry with their members listed. Ties are ties of
    counts. As a second figure, for sites whose point is of ``high`` confidence only, ``nearby``
    counts the incidents located within ``radius_m`` of it (never the rank key).

    Parameters
    ----------
    incidents
        Incidents filtered by anything but date: the period is chosen here. (A GeoDataFrame's
        geometry is ignored; release rows count in a period only when their whole shown period
        lies in it.)
    places
        The gazetteer (:func:`riskmap.geo.gazetteer.load_places`).
    site_types
        Place types ranked as sites: :data:`~riskmap.schema.PUBLIC_SITE_TYPES` in public (no
        shelter or camp), :data:`~riskmap.schema.SITE_TYPES` for staff. No default: the caller
        says which.
    end
        Last day of the period (inclusive). Defaults to the end of the latest incident's shown
        period: historical data's "now" is its last day.
    period_days
        Length of the period in days; the previous period is the same number of days before it.
    radius_m
        Radius of the ``nearby`` figure, in metres.
    level
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per site, columns :data:`RANKING_COLUMNS`: ``incidents`` and ``people`` (victims,
        a missing count adding 0) attributed in the period, ``ci_low``/``ci_high`` the exact
        Poisson interval of the incident count, ``previous_incidents``/``previous_people``,
        ``change`` and ``change_p`` (the two-sided exact p-value of "the rate did not change";
        ``NaN`` when the data do not cover the previous period), ``members`` (the ``place_id``
        of the site's places, ``|``-joined), ``nearby`` (``NaN`` unless the point is ``high``
        confidence), ``rank`` (competition ranking by incidents: equal counts share a rank),
        ``tie_reason`` (a code of :data:`TIE_REASONS`), ``tied_with`` and ``tie_note`` (in
        English). Sorted by rank, then people, then ``place_id``. ``attrs`` holds ``start``,
        ``end``, ``previous_start``, ``previous_end``, ``period_days``, ``radius_m``,
        ``data_through`` (the last day the data cover), ``previous_covered``, ``unattributed``
        (incidents in the period attributed to no ranked site) and ``notes``.

    Raises
    ------
    SettingsError
        If ``period_days``, ``radius_m`` or ``end`` is invalid.
    """
    _check_positive("radius_m", radius_m)
    if isinstance(period_days, bool) or int(period_days) != period_days or period_days < 1:
        msg = f"period_days must be a whole number of days, at least 1, not {period_days!r}"
        raise SettingsError(msg)
    period_days = int(period_days)
    end_ts = _end_day(incidents, end)
    start_ts = end_ts - pd.Timedelta(days=period_days - 1)
    prev_ts = start_ts - pd.Timedelta(days=period_days)

    sites = _site_entries(places, set(site_types))
    days = pd.to_datetime(incidents["date"]).dt.normalize().to_numpy()
    # A row of the public release stands for its whole shown period (a week, a month...): it
    # counts in a period only when all of it lies there, so no count rests on a guessed day.
    last = pd.to_datetime(incidents.get("date_end", incidents["date"])).dt.normalize().to_numpy()
    current = (days >= start_ts.to_datetime64()) & (last <= end_ts.to_datetime64())
    previous = (days >= prev_ts.to_datetime64()) & (last < start_ts.to_datetime64())
    # Rows without numbers of people (the public release) rank on incidents alone.
    has_people = "victims" in incidents.columns
    victims = (
        pd.to_numeric(incidents["victims"]).fillna(0).to_numpy(dtype="int64")
        if has_people
        else np.zeros(len(incidents), dtype="int64")
    )

    # Attribution: the entry of each incident's place (-1 for none).
    entry_of_place = {
        p: i for i, members in enumerate(sites["members"]) for p in members.split("|")
    }
    place_ids = incidents["place_id"].astype("string").to_numpy(dtype=object, na_value=None)
    entry = np.array([entry_of_place.get(p, -1) if p else -1 for p in place_ids], dtype=np.int64)
    n_sites = len(sites)

    def tally(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        hit = mask & (entry >= 0)
        w = None if weights is None else weights[hit]
        return np.bincount(entry[hit], weights=w, minlength=n_sites).astype("int64")

    counts = {
        "cur": tally(current),
        "cur_p": tally(current, victims),
        "prev": tally(previous),
        "prev_p": tally(previous, victims),
    }
    nearby = _nearby(incidents, sites, current, radius_m=radius_m)

    low, high = poisson_limits(counts["cur"], level)
    all_days = pd.to_datetime(incidents["date"]).dropna()
    # Records that start after the previous period began leave it partly unobserved: a test of
    # "the rate did not change" would then measure the data's coverage, not the danger.
    uncovered = all_days.empty or all_days.min().normalize() > prev_ts
    both = counts["cur"] + counts["prev"]
    change_p = np.array(
        [
            np.nan if uncovered else stats.binomtest(int(c), int(n), 0.5).pvalue if n else 1.0
            for c, n in zip(counts["cur"], both, strict=True)
        ],
        dtype=float,
    )
    out = pd.DataFrame(
        {
            "place_id": sites["place_id"].astype("string"),
            "name": sites["name"].astype("string"),
            "name_es": sites["name_es"].astype("string"),
            "place_type": sites["place_type"].astype("string"),
            "city": sites["city"].astype("string"),
            "lat": sites["lat"].astype(float),
            "lon": sites["lon"].astype(float),
            "members": sites["members"].astype("string"),
            "incidents": counts["cur"],
            "ci_low": low,
            "ci_high": high,
            "people": _maybe(counts["cur_p"], has_people),
            "previous_incidents": counts["prev"],
            "previous_people": _maybe(counts["prev_p"], has_people),
            "change": counts["cur"] - counts["prev"],
            "change_p": change_p,
            "nearby": nearby,
        }
    )
    out = out.sort_values(
        ["incidents", "people", "place_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    # Competition ranking (1, 2, 2, 4) on incidents: equal counts are a tie, whatever the people.
    starts = (out["incidents"] != out["incidents"].shift()).to_numpy(dtype=bool)
    out["rank"] = np.maximum.accumulate(np.where(starts, np.arange(1, len(out) + 1), 0))
    out["rank"] = out["rank"].astype("int64")
    explained = _tie_notes(out)
    for k, col in enumerate(("tie_note", "tie_reason", "tied_with")):
        out[col] = pd.array([e[k] for e in explained], dtype="string")
    out = out[list(RANKING_COLUMNS)]

    in_period = current | previous
    unattributed = int((current & (entry < 0)).sum())
    notes = []
    if uncovered and not all_days.empty:
        notes.append(
            f"the data start on {all_days.min().date()}, after the previous period starts "
            f"({prev_ts.date()}): previous counts and changes may reflect missing records, "
            "not fewer incidents, so no change is tested (change_p is empty)"
        )
    if unattributed:
        notes.append(
            f"{unattributed} incidents in the period are attributed to no ranked site (areas, "
            "city-level or other places)"
        )
    through = pd.to_datetime(incidents.get("date_end", incidents["date"])).dropna()
    out.attrs.update(
        start=start_ts.date(),
        end=end_ts.date(),
        previous_start=prev_ts.date(),
        previous_end=(start_ts - pd.Timedelta(days=1)).date(),
        period_days=period_days,
        radius_m=float(radius_m),
        data_through=through.max().date() if not through.empty else None,
        previous_covered=not uncovered,
        unattributed=unattributed,
        in_periods=int(in_period.sum()),
        notes=notes,
    )
    return out


def _maybe(values: np.ndarray, known: bool) -> pd.api.extensions.ExtensionArray:
    """Return counts as nullable integers, all missing where they are not known."""
    return pd.array(values if known else [pd.NA] * len(values), dtype="Int64")


#: Kinds of place in the order one is chosen to name a site group (the bridge before its post).
_GROUP_NAMING = ("port_of_entry", "bus_terminal", "plaza", "immigration_office", "shelter", "camp")


def _site_entries(places: pd.DataFrame, kinds: set[str]) -> pd.DataFrame:
    """Return one row per site group of the ranked kinds, named after its leading member."""
    sites = places[places["place_type"].isin(kinds)].drop_duplicates("place_id").copy()
    sites["lat"] = pd.to_numeric(sites["lat"], errors="coerce")
    sites["lon"] = pd.to_numeric(sites["lon"], errors="coerce")
    if "site_group" not in sites.columns:
        sites["site_group"] = sites["place_id"]
    sites["site_group"] = sites["site_group"].fillna(sites["place_id"])
    if "name_es" not in sites.columns:
        sites["name_es"] = sites["name"]
    if "confidence" not in sites.columns:
        sites["confidence"] = ""
    order = {k: i for i, k in enumerate(_GROUP_NAMING)}
    sites["_order"] = sites["place_type"].map(order).fillna(len(order))
    sites = sites.sort_values(["site_group", "_order", "place_id"], kind="stable")
    members = sites.groupby("site_group", sort=True)["place_id"].agg("|".join)
    lead = sites.drop_duplicates("site_group").set_index("site_group")
    lead["members"] = members
    return lead.reset_index().sort_values("place_id", kind="stable").reset_index(drop=True)


def _nearby(
    incidents: pd.DataFrame, sites: pd.DataFrame, current: np.ndarray, *, radius_m: float
) -> np.ndarray:
    """Count incidents located within ``radius_m`` of each high-confidence site point."""
    out = np.full(len(sites), np.nan)
    sure = (sites["confidence"].astype(str) == "high") & sites["lat"].notna()
    used, _ = spatial_incidents(incidents.loc[current])
    if not sure.any():
        return out
    out[sure.to_numpy()] = 0
    if used.empty:
        return out
    inc_xy = project(used["lat"].to_numpy(dtype=float), used["lon"].to_numpy(dtype=float))
    chosen = sites[sure]
    site_xy = project(chosen["lat"].to_numpy(dtype=float), chosen["lon"].to_numpy(dtype=float))
    near = cKDTree(inc_xy).query_ball_point(site_xy, r=float(radius_m))
    out[np.flatnonzero(sure.to_numpy())] = [len(idx) for idx in near]
    return out


def ranking_text(ranking: pd.DataFrame, *, top: int | None = None) -> str:
    """Format a ranking of :func:`rank_sites` as plain text: a table, its ties and caveats.

    Parameters
    ----------
    ranking
        The result of :func:`rank_sites` (its ``attrs`` give the period).
    top
        Show only the first ``top`` sites (caveats are always shown).

    Returns
    -------
    str
        Lines ending in a newline.
    """
    meta = ranking.attrs
    table = ranking if top is None else ranking.head(top)
    shown = pd.DataFrame(
        {
            "rank": table["rank"],
            "site": table["name"].str.slice(0, 45),
            "city": table["city"],
            "incidents": table["incidents"],
            "95% interval": [
                f"{a:.1f}-{b:.1f}" for a, b in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "people": table["people"],
            **(
                {"previous": table["previous_incidents"], "change": table["change"]}
                if meta.get("previous_covered", True)
                else {}
            ),
            f"within {meta.get('radius_m', 0):g} m": [
                "" if np.isnan(v) else str(int(v)) for v in table["nearby"]
            ],
        }
    )
    lines = [
        f"Sites ranked by the incidents attributed to them from {meta.get('start')} to "
        f"{meta.get('end')} ({meta.get('period_days')} days; data through "
        f"{meta.get('data_through')}); previous period {meta.get('previous_start')} to "
        f"{meta.get('previous_end')}. Intervals are exact Poisson 95% intervals of the count; "
        "'within' counts located incidents near sites whose point is of high confidence.",
        shown.to_string(index=False),
        "",
    ]
    lines += [
        f"{r:>4}  {pid}: {note}"
        for r, pid, note in zip(table["rank"], table["place_id"], table["tie_note"], strict=True)
        if note
    ]
    lines += [f"note: {n}" for n in meta.get("notes", [])]
    return "\n".join(lines) + "\n"


def _tie_notes(ranked: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Explain each site's rank: (note, reason code, tied place ids).

    Sites share a rank only when they have the same number of incidents; a site of several
    places says so.
    """
    ids = ranked["place_id"].astype(str).tolist()
    names = ranked["name"].astype(str).tolist()
    ranks = ranked["rank"].astype(int).tolist()
    incidents = ranked["incidents"].astype(int).tolist()
    members = ranked["members"].astype(str).tolist()
    notes: list[tuple[str, str, str]] = []
    for i, n in enumerate(incidents):
        tied = [j for j, r in enumerate(ranks) if r == ranks[i] and j != i]
        parts = []
        if len(members[i].split("|")) > 1:
            parts.append(f"one site: {members[i].replace('|', ', ')}")
        if n == 0:
            notes.append(("; ".join([*parts, "no incidents in the period"]), "no_incidents", ""))
            continue
        reason = ""
        if tied:
            reason = "equal_counts"
            parts.append(f"tied with {_list_names(names, tied)}: the same number of incidents")
        notes.append(("; ".join(parts), reason, "|".join(ids[j] for j in tied)))
    return notes


def _list_names(names: list[str], idx: list[int]) -> str:
    shown = [names[j] for j in idx[:_NAMES_SHOWN]]
    more = len(idx) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


__all__ = [
    "EXPOSURE_COLUMNS",
    "GI_COLUMNS",
    "MIN_CELLS",
    "RANKING_COLUMNS",
    "TIE_REASONS",
    "GiStarResult",
    "exposure_rates",
    "fdr_qvalues",
    "gi_star",
    "hex_counts",
    "poisson_interval",
    "rank_selection",
    "rank_sites",
    "ranking_text",
    "read_returns",
]
