"""Where it is dangerous now: ranked sites with honest intervals, and statistical hotspots.

The hotspot analysis the app, the ``riskmap hotspots`` command and the notebook use. Three
analyses, each careful not to claim more than a few dozen incidents can support:

**Site ranking** (:func:`rank_sites`). For each gazetteer site (bridges, bus terminals, INM
offices, shelters, the camp, plazas) the incidents recorded within a radius (default 500 m,
measured in the metric CRS :data:`~riskmap.schema.METRIC_CRS` from the incident's own coordinate)
in a period and in the previous period of equal length. Each count carries an exact Poisson
confidence interval (Garwood, *Fiducial limits for the Poisson distribution*, Biometrika 28,
1936; :func:`poisson_interval`), and the change between periods an exact conditional test of
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

Only incidents whose ``geo_precision`` is ``site`` or ``neighborhood`` enter the spatial work;
city-level and unresolved incidents are left out and counted (``attrs["excluded"]`` of the ranking
and the hex counts, :attr:`GiStarResult.excluded`). All counts are exact integers: small-cell
public outputs rank the rows of the public release (:func:`rank_selection` with a public audience).

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
    describe_exclusions,
    fdr_qvalues,
    gi_star,
    hex_counts,
    project,
    spatial_incidents,
)
from riskmap.errors import SettingsError
from riskmap.filters import Filters
from riskmap.release.audience import Audience
from riskmap.schema import SITE_TYPES

#: Columns of :func:`rank_sites`, in order.
RANKING_COLUMNS: tuple[str, ...] = (
    "rank",
    "place_id",
    "name",
    "place_type",
    "city",
    "lat",
    "lon",
    "incidents",
    "ci_low",
    "ci_high",
    "people",
    "previous_incidents",
    "previous_people",
    "change",
    "change_p",
    "tie_reason",
    "tied_with",
    "tie_note",
)
#: Codes of ``tie_reason`` (for translation): tied sites on one gazetteer point; tied sites
#: apart that count the very same incidents; tied on counts with different incidents; not tied
#: but level on incidents and ordered by people; no incident in the period; nothing to explain.
TIE_REASONS: tuple[str, ...] = (
    "same_point",
    "same_incidents",
    "equal_counts",
    "ordered_by_people",
    "no_incidents",
    "",
)
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
    end: dt.date | str | None = None,
    period_days: int = 90,
    radius_m: float = 500.0,
    site_types: Iterable[str] = SITE_TYPES,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rank the gazetteer's sites by the incidents recorded near them in a recent period.

    An incident counts for a site when its own coordinate lies within ``radius_m`` of the
    site's point; it may count for several sites that lie close together (the Matamoros camp,
    INM office and Gateway bridge share one point). Only incidents with ``site`` or
    ``neighborhood`` precision count: a city-level incident sits on the city's reference point,
    where several sites are also placed, and would be credited to all of them.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns, filtered by anything but date: the period is chosen
        here. (A GeoDataFrame's geometry is ignored.)
    places
        The gazetteer (:func:`riskmap.geo.gazetteer.load_places`).
    end
        Last day of the period (inclusive). Defaults to the latest incident date in
        ``incidents``: historical data's "now" is its last day.
    period_days
        Length of the period in days; the previous period is the same number of days before it.
    radius_m
        Radius around each site, in metres.
    site_types
        Place types ranked as sites (default :data:`~riskmap.schema.SITE_TYPES`).
    level
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per site, columns :data:`RANKING_COLUMNS`: ``incidents`` and ``people``
        (victims, a missing count adding 0) in the period, ``ci_low``/``ci_high`` the exact
        Poisson interval of the incident count, ``previous_incidents``/``previous_people`` in
        the previous period, ``change`` = incidents - previous incidents, ``change_p`` the
        two-sided exact p-value of "the rate did not change" (``NaN`` when the data start
        after the previous period does), ``rank`` (sites equal on incidents
        and people share the lowest rank; ranked by incidents, then people), ``tie_reason`` (a
        code of :data:`TIE_REASONS`), ``tied_with`` (the ``place_id`` of the sites sharing the
        rank, ``|``-joined) and ``tie_note``, which explains ties and the incidents a site shares
        with sites of other ranks, in English. Sorted by rank, then ``place_id``. ``attrs``
        holds ``start``, ``end``, ``previous_start``, ``previous_end`` (dates), ``period_days``,
        ``radius_m``,
        ``excluded`` (incidents left out, by reason) and ``notes`` (caveats in words, such as a
        previous period the data do not cover).

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

    kinds = set(site_types)
    sites = places[places["place_type"].isin(kinds)].copy()
    sites["lat"] = pd.to_numeric(sites["lat"], errors="coerce")
    sites["lon"] = pd.to_numeric(sites["lon"], errors="coerce")
    sites = sites.dropna(subset=["lat", "lon"]).drop_duplicates("place_id")
    sites = sites.sort_values("place_id", kind="stable").reset_index(drop=True)

    used, excluded = spatial_incidents(incidents)
    days = pd.to_datetime(used["date"]).dt.normalize().to_numpy()
    # A row of the public release stands for its whole shown period (a week, a month...): it
    # counts in a period only when all of it lies there, so no count rests on a guessed day.
    last = pd.to_datetime(used.get("date_end", used["date"])).dt.normalize().to_numpy()
    current = (days >= start_ts.to_datetime64()) & (last <= end_ts.to_datetime64())
    previous = (days >= prev_ts.to_datetime64()) & (last < start_ts.to_datetime64())
    victims = pd.to_numeric(used["victims"]).fillna(0).to_numpy(dtype="int64")

    n_sites = len(sites)
    counts = {k: np.zeros(n_sites, dtype="int64") for k in ("cur", "cur_p", "prev", "prev_p")}
    members: list[frozenset[int]] = [frozenset()] * n_sites
    if n_sites and len(used):
        inc_xy = project(used["lat"].to_numpy(dtype=float), used["lon"].to_numpy(dtype=float))
        site_xy = project(sites["lat"].to_numpy(dtype=float), sites["lon"].to_numpy(dtype=float))
        near = cKDTree(inc_xy).query_ball_point(site_xy, r=float(radius_m))
        for i, idx in enumerate(near):
            idx = np.asarray(idx, dtype=int)
            cur, prev = idx[current[idx]], idx[previous[idx]]
            counts["cur"][i], counts["cur_p"][i] = len(cur), victims[cur].sum()
            counts["prev"][i], counts["prev_p"][i] = len(prev), victims[prev].sum()
            members[i] = frozenset(cur.tolist())

    low, high = poisson_limits(counts["cur"], level)
    all_days = pd.to_datetime(incidents["date"]).dropna()
    # Records that start after the previous period began leave it partly unobserved: a test of
    # "the rate did not change" would then measure the data's coverage, not the danger.
    uncovered = not all_days.empty and all_days.min().normalize() > prev_ts
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
            "place_type": sites["place_type"].astype("string"),
            "city": sites["city"].astype("string"),
            "lat": sites["lat"].astype(float),
            "lon": sites["lon"].astype(float),
            "incidents": counts["cur"],
            "ci_low": low,
            "ci_high": high,
            "people": counts["cur_p"],
            "previous_incidents": counts["prev"],
            "previous_people": counts["prev_p"],
            "change": counts["cur"] - counts["prev"],
            "change_p": change_p,
        }
    )
    out["_order"] = np.arange(n_sites)
    out = out.sort_values(
        ["incidents", "people", "place_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    # Competition ranking (1, 2, 2, 4): a row's rank is the position of the first row of its tie.
    key = out[["incidents", "people"]]
    starts = (key != key.shift()).any(axis=1).to_numpy(dtype=bool)
    out["rank"] = np.maximum.accumulate(np.where(starts, np.arange(1, len(out) + 1), 0))
    out["rank"] = out["rank"].astype("int64")
    in_order = [members[i] for i in out["_order"]]
    explained = _tie_notes(out, in_order, radius_m=radius_m)
    for k, col in enumerate(("tie_note", "tie_reason", "tied_with")):
        out[col] = pd.array([e[k] for e in explained], dtype="string")
    out = out[list(RANKING_COLUMNS)]

    notes = []
    if uncovered:
        notes.append(
            f"the data start on {all_days.min().date()}, after the previous period starts "
            f"({prev_ts.date()}): previous counts and changes may reflect missing records, "
            "not fewer incidents, so no change is tested (change_p is empty)"
        )
    if sum(excluded.values()):
        notes.append(
            f"left out (no site or neighbourhood location): {describe_exclusions(excluded)}"
        )
    out.attrs.update(
        start=start_ts.date(),
        end=end_ts.date(),
        previous_start=prev_ts.date(),
        previous_end=(start_ts - pd.Timedelta(days=1)).date(),
        period_days=period_days,
        radius_m=float(radius_m),
        excluded=excluded,
        notes=notes,
    )
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
            "previous": table["previous_incidents"],
            "change": table["change"],
        }
    )
    lines = [
        f"Sites ranked by incidents within {meta.get('radius_m', 0):g} m from "
        f"{meta.get('start')} to {meta.get('end')} ({meta.get('period_days')} days); previous "
        f"period {meta.get('previous_start')} to {meta.get('previous_end')}. Intervals are exact "
        "Poisson 95% intervals of the count.",
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


def _tie_notes(
    ranked: pd.DataFrame, members: list[frozenset[int]], *, radius_m: float
) -> list[tuple[str, str, str]]:
    """Explain each site's ties and shared incidents: (note, reason code, tied place ids)."""
    ids = ranked["place_id"].astype(str).tolist()
    names = ranked["name"].astype(str).tolist()
    points = list(zip(ranked["lat"], ranked["lon"], strict=True))
    incidents = ranked["incidents"].astype(int).tolist()
    ranks = ranked["rank"].astype(int).tolist()
    notes: list[tuple[str, str, str]] = []
    for i, n in enumerate(incidents):
        tied = [j for j, r in enumerate(ranks) if r == ranks[i] and j != i]
        tied_with = "|".join(ids[j] for j in tied)
        if n == 0:
            notes.append((f"no incidents within {radius_m:g} m in the period", "no_incidents", ""))
            continue
        parts = []
        reason = ""
        if tied:
            if all(points[j] == points[i] for j in tied):
                reason, why = "same_point", "same gazetteer point, so the same incidents"
            elif all(members[j] == members[i] for j in tied):
                reason = "same_incidents"
                why = f"sites within {radius_m:g} m of each other count the same incidents"
            else:
                reason, why = "equal_counts", "equal incidents and people"
            parts.append(f"tied with {_list_names(names, tied)}: {why}")
        level = [j for j, k in enumerate(incidents) if k == n and ranks[j] != ranks[i]]
        if level:
            reason = reason or "ordered_by_people"
            parts.append(
                f"same number of incidents as {_list_names(names, level)}, ordered by people"
            )
        shared = {
            j: len(members[i] & members[j])
            for j in range(len(incidents))
            if ranks[j] != ranks[i] and members[i] & members[j]
        }
        if shared:
            most = max(shared.values())
            with_most = [j for j, k in shared.items() if k == most]
            parts.append(
                f"shares {most} of its {n} incidents with {_list_names(names, with_most)} "
                f"(within {radius_m:g} m of both)"
            )
        notes.append(("; ".join(parts), reason, tied_with))
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
