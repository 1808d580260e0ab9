"""Where it is dangerous now: ranked sites with honest intervals, and statistical hotspots.

Three analyses, each careful not to claim more than a few dozen incidents can support:

**Site ranking** (:func:`rank_sites`). For each gazetteer site (bridges, bus terminals, INM
offices, shelters, the camp, plazas) the incidents recorded within a radius (default 500 m,
measured in the metric CRS :data:`~riskmap.schema.METRIC_CRS` from the incident's own coordinate)
in a period and in the previous period of equal length. Each count carries an exact Poisson
confidence interval (Garwood, *Fiducial limits for the Poisson distribution*, Biometrika 28,
1936; :func:`poisson_interval`), and the change between periods an exact conditional test of
equal rates: given ``n`` incidents over both periods, the current count is Binomial(``n``, 1/2)
when the rate has not changed (Przyborowski & Wilenski, Biometrika 31, 1940).

**Statistical hotspots** (:func:`gi_star`). The local Getis-Ord Gi* statistic (Getis & Ord,
*The analysis of spatial association by use of distance statistics*, Geographical Analysis 24,
1992; Ord & Getis, Geographical Analysis 27, 1995), computed by esda on the H3 grid of
:mod:`riskmap.hexgrid` with binary weights (a cell and its six neighbours), with conditional
permutation inference and the Benjamini-Hochberg false-discovery-rate procedure (Benjamini &
Hochberg, JRSS B 57, 1995; :func:`fdr_qvalues`). It runs only on at least ``min_incidents``
(default 30) incidents located at a site or in a neighbourhood; otherwise it says why not.

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
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import h3
import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from riskmap.errors import InputFileError, SettingsError
from riskmap.hexgrid import (
    check_resolution,
    describe_exclusions,
    hex_counts,
    incident_cells,
    neighbours,
    project,
    spatial_incidents,
    study_area,
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
    "tie_note",
)
#: Columns of :attr:`GiStarResult.cells`, in order.
GI_COLUMNS: tuple[str, ...] = (
    "cell",
    "lat",
    "lon",
    "incidents",
    "gi",
    "z",
    "p_sim",
    "q",
    "significant",
    "label",
)
#: Fewest cells in a study area for Gi*: with fewer, a cell's neighbourhood of seven is most of
#: the area and "more than the area's average" says little.
MIN_CELLS = 10
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


def fdr_qvalues(p_values: Iterable[float]) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values).

    A test is a discovery at false-discovery rate ``alpha`` when its q-value is at most
    ``alpha``; this rejects exactly the hypotheses the step-up procedure of Benjamini & Hochberg
    (1995) rejects, and controls the FDR for independent or positively dependent tests.

    Parameters
    ----------
    p_values
        One p-value per test.

    Returns
    -------
    numpy.ndarray
        ``q_i = min over j with p_j >= p_i of (m p_j / rank_j)``, capped at 1, in input order.
    """
    p = np.asarray(list(p_values), dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


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
        and people share the lowest rank; ranked by incidents, then people) and ``tie_note``
        explaining ties. Sorted by rank, then ``place_id``. ``attrs`` holds ``start``, ``end``,
        ``previous_start``, ``previous_end`` (dates), ``period_days``, ``radius_m``,
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
    out["tie_note"] = pd.array(_tie_notes(out, in_order, radius_m=radius_m), dtype="string")
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
) -> list[str]:
    """Explain each site's ties, and the incidents it shares with sites of another rank."""
    names = ranked["name"].astype(str).tolist()
    points = list(zip(ranked["lat"], ranked["lon"], strict=True))
    incidents = ranked["incidents"].astype(int).tolist()
    ranks = ranked["rank"].astype(int).tolist()
    notes = []
    for i, n in enumerate(incidents):
        if n == 0:
            notes.append(f"no incidents within {radius_m:g} m in the period")
            continue
        parts = []
        tied = [j for j, r in enumerate(ranks) if r == ranks[i] and j != i]
        if tied:
            if all(points[j] == points[i] for j in tied):
                why = "same gazetteer point, so the same incidents"
            elif all(members[j] == members[i] for j in tied):
                why = f"sites within {radius_m:g} m of each other count the same incidents"
            else:
                why = "equal incidents and people"
            parts.append(f"tied with {_list_names(names, tied)}: {why}")
        level = [j for j, k in enumerate(incidents) if k == n and ranks[j] != ranks[i]]
        if level:
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
        notes.append("; ".join(parts))
    return notes


def _list_names(names: list[str], idx: list[int]) -> str:
    shown = [names[j] for j in idx[:_NAMES_SHOWN]]
    more = len(idx) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


@dataclass(frozen=True)
class GiStarResult:
    """The outcome of :func:`gi_star`: statistics per cell, or the reason there are none."""

    #: Whether the statistic was computed.
    ran: bool
    #: Why it was not computed (``None`` when it ran).
    reason: str | None
    #: Incidents with site or neighbourhood precision in the selection.
    incidents: int
    #: Incidents left out of the statistics, by reason (see :data:`riskmap.hexgrid.EXCLUSIONS`).
    excluded: dict[str, int]
    #: One row per cell of the study area, columns :data:`GI_COLUMNS` (empty when not run).
    cells: pd.DataFrame
    resolution: int
    permutations: int
    seed: int
    #: False-discovery rate at which cells are called significant.
    alpha: float
    #: Caveats in words (for example the smallest p-value the permutations can give).
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def significant_hot(self) -> int:
        """Number of cells that are significant hotspots."""
        return int((self.cells["label"] == "hot").sum()) if self.ran else 0

    @property
    def significant_cold(self) -> int:
        """Number of cells that are significant cold spots."""
        return int((self.cells["label"] == "cold").sum()) if self.ran else 0

    @property
    def hotspots(self) -> pd.DataFrame:
        """The significant hotspot cells, most incidents first."""
        if not self.ran:
            return self.cells
        hot = self.cells[self.cells["label"] == "hot"]
        return hot.sort_values(["incidents", "cell"], ascending=[False, True]).reset_index(
            drop=True
        )

    def summary(self) -> str:
        """Describe the result in one or two sentences."""
        left_out = describe_exclusions(self.excluded)
        if not self.ran:
            return f"Getis-Ord Gi* not computed: {self.reason}"
        return (
            f"Getis-Ord Gi* on {len(self.cells)} H3 cells (resolution {self.resolution}), "
            f"{self.incidents} incidents, {self.permutations} permutations (seed {self.seed}): "
            f"{self.significant_hot} hotspot cell(s) and {self.significant_cold} cold-spot "
            f"cell(s) at a false-discovery rate of {self.alpha:g}. Left out: {left_out}."
        )


def gi_star(
    incidents: pd.DataFrame,
    *,
    resolution: int = 8,
    permutations: int = 9999,
    seed: int = 2020,
    alpha: float = 0.05,
    min_incidents: int = 30,
) -> GiStarResult:
    """Find hex cells whose neighbourhood holds significantly many (or few) incidents.

    The variable is the incident count per H3 cell over the study area of
    :func:`riskmap.hexgrid.study_area`; weights are binary, a cell and its six neighbours
    (Gi*, the cell itself included). Inference is by conditional permutation (esda): the cell's
    own count is held and the others are shuffled, so a single busy cell amid empty ones is not a
    cluster; the site ranking is the tool for single places. The p-value is two-sided,
    ``min(1, 2 min(P(G >= g), P(G <= g)))`` counted over the permutations with ``+1`` in
    numerator and denominator, and cells are significant when their Benjamini-Hochberg q-value
    is at most ``alpha``. A hot cell has a high neighbourhood count, a cold cell a low one.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns (the current selection).
    resolution
        H3 resolution of the grid.
    permutations
        Number of permutations. The smallest p-value they can give is
        ``2 / (permutations + 1)``; with ``m`` cells a lone cell passes the FDR only when
        ``p <= alpha / m``, so too few permutations make hotspots undetectable (the result's
        ``notes`` say so).
    seed
        Seed of the permutations: the same data and seed give the same result.
    alpha
        False-discovery rate.
    min_incidents
        Fewest incidents with site or neighbourhood precision for which the statistic is
        computed; below it the result says why not.

    Returns
    -------
    GiStarResult
        With ``ran=False`` and a ``reason`` when there are too few incidents or cells.

    Raises
    ------
    SettingsError
        If an option is out of range.
    """
    check_resolution(resolution)
    if not 0 < alpha < 1:
        msg = f"alpha must be between 0 and 1, not {alpha}"
        raise SettingsError(msg)
    if permutations < 99:
        msg = f"permutations must be at least 99 (9999 recommended), not {permutations}"
        raise SettingsError(msg)
    if min_incidents < 1:
        msg = f"min_incidents must be at least 1, not {min_incidents}"
        raise SettingsError(msg)
    used, excluded = spatial_incidents(incidents)
    n = len(used)
    left_out = describe_exclusions(excluded)

    def refuse(reason: str) -> GiStarResult:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in GI_COLUMNS})
        return GiStarResult(
            False, reason, n, excluded, empty, resolution, permutations, seed, alpha
        )

    if n < min_incidents:
        return refuse(
            f"only {n} incident(s) located at a site or in a neighbourhood are selected, and "
            f"the statistic needs at least {min_incidents}: with fewer, one or two incidents "
            f"would make a 'hotspot'. Left out of spatial statistics: {left_out}."
        )
    counts = incident_cells(used, resolution=resolution).value_counts()
    area = study_area(counts.index)
    adjacency = neighbours(area)
    grid = [c for c in area if adjacency[c]]
    lone = [c for c in area if not adjacency[c]]
    if len(grid) < MIN_CELLS:
        return refuse(
            f"the {n} incidents fall in a study area of only {len(grid)} connected H3 cell(s) "
            f"(resolution {resolution}); at least {MIN_CELLS} are needed to tell a cluster from "
            "the area's average. The incidents sit on too few places for a spatial statistic; "
            "use the site ranking."
        )
    adjacency = {c: adjacency[c] for c in grid}
    y = counts.reindex(grid, fill_value=0).to_numpy(dtype=float)
    gi, z, p, hot = _run_gi(y, adjacency, grid, permutations=permutations, seed=seed)
    q = fdr_qvalues(p)
    significant = q <= alpha
    label = np.where(significant, np.where(hot, "hot", "cold"), "none")
    centres = np.array([h3.cell_to_latlng(c) for c in grid])
    cells = pd.DataFrame(
        {
            "cell": pd.array(grid, dtype="string"),
            "lat": centres[:, 0],
            "lon": centres[:, 1],
            "incidents": y.astype("int64"),
            "gi": gi,
            "z": z,
            "p_sim": p,
            "q": q,
            "significant": significant,
            "label": pd.array(label, dtype="string"),
        }
    )
    notes = []
    floor = 2 / (permutations + 1)
    if floor > alpha / len(grid):
        notes.append(
            f"with {permutations} permutations the smallest p-value is {floor:.2g}, above "
            f"alpha/cells = {alpha / len(grid):.2g}: a hotspot of a single cell cannot reach "
            "significance; use more permutations"
        )
    if lone:
        in_lone = int(counts.reindex(lone, fill_value=0).sum())
        notes.append(
            f"{len(lone)} isolated cell(s) with {in_lone} incident(s) have no neighbouring cell "
            "in a study area and were left out"
        )
    used_n = int(y.sum())
    return GiStarResult(
        True, None, used_n, excluded, cells, resolution, permutations, seed, alpha, tuple(notes)
    )


def _run_gi(
    y: np.ndarray,
    adjacency: dict[str, list[str]],
    order: list[str],
    *,
    permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run esda's local G*; return G*, its z-score, two-sided p-values and whether hot."""
    import esda
    from libpysal.weights import W

    # Each cell is its own neighbour (weight 1): Gi* includes the focal cell, and a W built with
    # its diagonal keeps esda from rebuilding it. Two cities are two disconnected components of
    # the grid: expected, so libpysal is told not to warn about it.
    w = W(
        {c: [c, *adjacency[c]] for c in order},
        id_order=order,
        silence_warnings=True,
    )
    with warnings.catch_warnings():
        # esda asks for an `alternative` that G_Local cannot pass on; the p-values are
        # recomputed two-sided below from the kept permutations, so its default does not matter.
        warnings.filterwarnings(
            "ignore", message=".*alternative hypothesis for conditional randomization.*"
        )
        g = esda.G_Local(
            y,
            w,
            transform="B",
            star=True,
            permutations=permutations,
            keep_simulations=True,
            n_jobs=1,
            seed=seed,
        )
    sims = np.asarray(g.rGs)
    observed = np.asarray(g.Gs)[:, None]
    # Counts are discrete: ties with the observed value count on both sides (conservative).
    upper = ((sims >= observed).sum(axis=1) + 1) / (permutations + 1)
    lower = ((sims <= observed).sum(axis=1) + 1) / (permutations + 1)
    p = np.minimum(1.0, 2 * np.minimum(upper, lower))
    return np.asarray(g.Gs), np.asarray(g.Zs), p, upper < lower


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
