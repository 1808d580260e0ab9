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

**Statistical hotspots** (:func:`gi_star`, implemented in :mod:`riskmap.hexgrid` with the hex
counts :func:`hex_counts`). The local Getis-Ord Gi* statistic (Getis & Ord, Geographical
Analysis 24, 1992) on the H3 grid, with permutation inference and the Benjamini-Hochberg
false-discovery rate. It runs only on at least 30 incidents located at a site or in a
neighbourhood; otherwise it says why not.

**Exposure** (:func:`exposure_rates`). Incidents per 1,000 people returned through a city's ports
of entry, per month, with the same exact interval scaled by the number returned.

Only incidents whose ``geo_precision`` is ``site`` or ``neighborhood`` enter the spatial work;
city-level and unresolved incidents are left out and counted (``attrs["excluded"]`` of the ranking
and the hex counts, :attr:`GiStarResult.excluded`). All counts are exact integers: small-cell
suppression for public output (:func:`riskmap.privacy.suppress`) is the caller's job.

"Now", for historical data, is the data's last day: the period ends on the latest incident date
unless an end date is given.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from riskmap.errors import InputFileError, SettingsError
from riskmap.hexgrid import (
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
#: Columns of :func:`exposure_rates`, in order.
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "city",
    "ports",
    "month",
    "returned",
    "incidents",
    "people",
    "per_1000",
    "ci_low_per_1000",
    "ci_high_per_1000",
)
_NAMES_SHOWN = 3


def poisson_interval(count: int, *, level: float = 0.95) -> tuple[float, float]:
    """Return the exact (Garwood) confidence interval of a Poisson count.

    The limits are the chi-square quantiles ``chi2(a/2; 2k) / 2`` and ``chi2(1 - a/2; 2k + 2) / 2``
    with ``a = 1 - level``; the lower limit of a zero count is 0. The interval covers the true
    rate with at least the stated probability (it is conservative, never too narrow).

    Parameters
    ----------
    count
        The observed count ``k`` (a non-negative integer).
    level
        Confidence level, between 0 and 1.

    Returns
    -------
    tuple of float
        The lower and upper limits of the expected count.

    Raises
    ------
    SettingsError
        If ``count`` is negative or not a whole number, or ``level`` is not in (0, 1).
    """
    if not 0 < level < 1:
        msg = f"confidence level must be between 0 and 1, not {level}"
        raise SettingsError(msg)
    if isinstance(count, bool) or count < 0 or int(count) != count:
        msg = f"a Poisson count must be a non-negative integer, not {count!r}"
        raise SettingsError(msg)
    k = int(count)
    alpha = 1 - level
    low = 0.0 if k == 0 else float(stats.chi2.ppf(alpha / 2, 2 * k)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * k + 2)) / 2
    return low, high


def _poisson_limits(counts: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`poisson_interval`."""
    k = np.asarray(counts, dtype=float)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low.astype(float), np.asarray(high, dtype=float)


def _end_day(incidents: pd.DataFrame, end: dt.date | str | None) -> pd.Timestamp:
    if end is not None:
        try:
            return pd.Timestamp(end).normalize()
        except (ValueError, TypeError) as e:
            msg = f"end date {end!r} is not a date; write it as YYYY-MM-DD"
            raise SettingsError(msg) from e
    dates = pd.to_datetime(incidents["date"]).dropna()
    if dates.empty:
        return pd.Timestamp(dt.date.today())
    return dates.max().normalize()


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        msg = f"{name} must be a positive number, not {value!r}"
        raise SettingsError(msg)


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
        The gazetteer (:func:`riskmap.gazetteer.load_places`).
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
    current = (days >= start_ts.to_datetime64()) & (days <= end_ts.to_datetime64())
    previous = (days >= prev_ts.to_datetime64()) & (days < start_ts.to_datetime64())
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

    low, high = _poisson_limits(counts["cur"], level)
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


def read_returns(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a table of people returned per port of entry and month.

    Parameters
    ----------
    source
        A CSV file or a DataFrame with columns ``port`` (a gazetteer ``place_id``, name or
        alias of a port of entry), ``month`` (``YYYY-MM`` or any date in the month) and
        ``returned`` (people, a non-negative whole number).

    Returns
    -------
    pandas.DataFrame
        Columns ``port`` (string), ``month`` (monthly period), ``returned`` (int64).

    Raises
    ------
    InputFileError
        If the file cannot be read or a column or value is missing or invalid; the message
        names the row (as its line in the file).
    """
    name = "returns table"
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        name = str(source)
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            msg = f"{name}: cannot read the returns CSV ({e})"
            raise InputFileError(msg) from e
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("port", "month", "returned") if c not in frame.columns]
    if missing:
        msg = f"{name}: missing column(s) {', '.join(missing)}; need port, month, returned"
        raise InputFileError(msg)
    rows = []
    for i, row in enumerate(frame[["port", "month", "returned"]].itertuples(index=False)):
        line = i + 2
        port = str(row.port).strip()
        if not port or port.lower() == "nan":
            msg = f"{name}, line {line}: empty port"
            raise InputFileError(msg)
        try:
            month = pd.Period(str(row.month).strip()[:7], freq="M")
        except (ValueError, TypeError) as e:
            msg = f"{name}, line {line}: month {row.month!r} is not YYYY-MM"
            raise InputFileError(msg) from e
        try:
            value = float(str(row.returned).replace(",", "").strip())
        except ValueError as e:
            msg = f"{name}, line {line}: returned {row.returned!r} is not a number"
            raise InputFileError(msg) from e
        if value < 0 or value != int(value):
            msg = f"{name}, line {line}: returned must be a non-negative whole number"
            raise InputFileError(msg)
        rows.append((port, month, int(value)))
    return pd.DataFrame(
        {
            "port": pd.array([r[0] for r in rows], dtype="string"),
            "month": pd.PeriodIndex([r[1] for r in rows], freq="M"),
            "returned": np.array([r[2] for r in rows], dtype="int64"),
        }
    )


def _port_cities(ports: Iterable[str], places: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Map each port as written to its (place_id, city); raise for unknown ports."""
    bridges = places[places["place_type"] == "port_of_entry"]
    lookup: dict[str, tuple[str, str]] = {}
    for row in bridges.itertuples(index=False):
        aliases = str(getattr(row, "aliases", "") or "").split("|")
        for label in [row.place_id, row.name, *aliases]:
            key = str(label).strip().casefold()
            if key and key not in lookup:
                lookup[key] = (str(row.place_id), str(row.city))
    found, unknown = {}, []
    for port in ports:
        hit = lookup.get(port.strip().casefold())
        if hit is None:
            unknown.append(port)
        else:
            found[port] = hit
    if unknown:
        msg = (
            f"returns table: unknown port(s) of entry {', '.join(map(repr, unknown))}; use a "
            "gazetteer place_id such as 'mat_gateway_bridge' (riskmap places lists them)"
        )
        raise InputFileError(msg)
    return found


def exposure_rates(
    incidents: pd.DataFrame,
    returns: str | os.PathLike[str] | pd.DataFrame,
    *,
    places: pd.DataFrame | None = None,
    by_month: bool = True,
    level: float = 0.95,
) -> pd.DataFrame:
    """Compute incidents per 1,000 people returned through each city's ports of entry.

    An incident is attributed to the ports of its ``city`` (any location precision: the city is
    what matters here); incidents without a city, or in a city or month the returns table does
    not cover, have no denominator and are counted in ``attrs["unmatched"]``. Where the table
    lists several ports of one city, their returns are added up: incidents cannot be told apart
    by the bridge a person crossed.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns.
    returns
        People returned per port and month (see :func:`read_returns`).
    places
        The gazetteer; defaults to :func:`riskmap.gazetteer.load_places`.
    by_month
        One row per city and month; if false, one row per city over the months of the table.
    level
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EXPOSURE_COLUMNS`: ``per_1000`` = 1000 incidents / returned and the exact
        Poisson interval of the incident count scaled alike (``NaN`` when nobody was returned).

    Raises
    ------
    InputFileError
        If the returns table is unusable or names an unknown port.
    """
    if places is None:
        from riskmap.gazetteer import load_places

        places = load_places()
    table = read_returns(returns)
    resolved = _port_cities(table["port"].unique().tolist(), places)
    table["city"] = [resolved[p][1] for p in table["port"]]
    table["place_id"] = [resolved[p][0] for p in table["port"]]

    city = incidents["city"].astype("string")
    month = pd.to_datetime(incidents["date"]).dt.to_period("M")
    frame = pd.DataFrame(
        {
            "city": city.to_numpy(),
            "month": month.to_numpy(),
            "people": pd.to_numeric(incidents["victims"]).fillna(0).to_numpy(dtype="int64"),
        }
    )
    covered = set(zip(table["city"], table["month"], strict=True))
    has_cover = np.array(
        [(c, m) in covered for c, m in zip(frame["city"], frame["month"], strict=True)],
        dtype=bool,
    )
    no_city = frame["city"].isna().to_numpy(dtype=bool)
    unmatched = {
        "no_city": int(no_city.sum()),
        "not_covered": int((~no_city & ~has_cover).sum()),
    }
    frame = frame[has_cover]
    keys = ["city", "month"] if by_month else ["city"]
    ret = table.groupby(keys, sort=True).agg(
        returned=("returned", "sum"),
        ports=("place_id", lambda s: " + ".join(sorted(set(s)))),
    )
    inc = frame.groupby(keys, sort=True).agg(incidents=("people", "size"), people=("people", "sum"))
    out = ret.join(inc, how="left").fillna({"incidents": 0, "people": 0}).reset_index()
    if not by_month:
        months = table.groupby("city")["month"].agg(lambda s: f"{s.min()}/{s.max()}")
        out["month"] = out["city"].map(months)
    out["month"] = out["month"].astype(str).astype("string")
    out["incidents"] = out["incidents"].astype("int64")
    out["people"] = out["people"].astype("int64")
    low, high = _poisson_limits(out["incidents"].to_numpy(), level)
    returned = out["returned"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(returned > 0, 1000 / returned, np.nan)
    out["per_1000"] = out["incidents"].to_numpy() * scale
    out["ci_low_per_1000"] = low * scale
    out["ci_high_per_1000"] = high * scale
    out["city"] = out["city"].astype("string")
    out["ports"] = out["ports"].astype("string")
    out = out[list(EXPOSURE_COLUMNS)]
    out.attrs["unmatched"] = unmatched
    return out


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
    "rank_sites",
    "ranking_text",
    "read_returns",
]
