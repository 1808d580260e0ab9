"""Altair trend charts: incidents per week or month by type, place type or perpetrator.

The chart data are computed by :func:`trend_table`, which tests call directly. A row of the
public release is charted in a period only when its whole shown period lies in it (a row known
by quarter is in no monthly bar; the chart says how many are left out). Public counts are 0 or
at least k already; as a second guard a count of 1 to ``min_cell - 1`` would be drawn faded at
the height ``min_cell - 1``, as an empty dashed outline, and labelled ``"<min_cell"``.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from riskmap.release.public import TYPE_GROUP_NAMES
from riskmap.schema import INCIDENT_TYPES, type_flags
from riskmap.views.i18n import label, t

#: Chart dimension -> column of the incident table.
DIMENSIONS: dict[str, str] = {
    "type": "incident_types",
    "place": "place_type",
    "perpetrator": "perpetrator",
}
_TITLE_KEYS = {
    "type": "chart_by_type",
    "place": "chart_by_place",
    "perpetrator": "chart_by_perpetrator",
}
#: Pandas period codes: weeks run Monday to Sunday.
_FREQ = {"week": "W", "month": "M"}


def trend_table(
    incidents: pd.DataFrame,
    *,
    by: str = "type",
    period: str = "month",
    lang: str = "en",
    min_cell: int,
) -> pd.DataFrame:
    """Count incidents per period and category.

    Parameters
    ----------
    incidents
        An incident table (public view or restricted).
    by
        ``"type"`` (an incident with several types counts once under each), ``"place"`` or
        ``"perpetrator"``.
    period
        ``"week"`` (weeks starting on Monday) or ``"month"``.
    lang
        Language of the category labels.
    min_cell
        Small-cell threshold; 0 turns suppression off.

    Returns
    -------
    pandas.DataFrame
        ``period_start``, ``category``, ``incidents`` (true count), ``height`` (drawn),
        ``shown`` (text) and ``suppressed`` (bool).
    """
    incidents, left_out = _chartable(incidents, period)
    col = DIMENSIONS[by]
    # Vectorised for a million incidents: periods are found for the distinct days only, and
    # counts are bincounts over (period, category) codes rather than a groupby over rows.
    days, day_of_row = np.unique(pd.to_datetime(incidents["date"]).to_numpy(), return_inverse=True)
    day_starts = _period_starts(days, period, release="date_end" in incidents.columns)
    periods, period_of_day = np.unique(day_starts, return_inverse=True)
    row_period = period_of_day.ravel()[day_of_row.ravel()]
    if by == "type":
        # An incident with several types counts once under each.
        flags = type_flags(incidents, [*INCIDENT_TYPES, *TYPE_GROUP_NAMES])
        flags = flags.loc[:, flags.any(axis=0) | flags.columns.isin(INCIDENT_TYPES)]
        categories = np.array(flags.columns, dtype=object)
        table = np.column_stack(
            [
                np.bincount(row_period, weights=flags[c].to_numpy(), minlength=len(periods))
                for c in categories
            ]
        ).astype("int64")
    else:
        codes, found = pd.factorize(incidents[col], sort=True)
        categories = np.asarray(found, dtype=object)
        if (codes < 0).any():  # missing values count as "unknown"
            categories = np.append(categories, "unknown")
            codes = np.where(codes < 0, len(categories) - 1, codes)
        cells = np.bincount(
            row_period * len(categories) + codes, minlength=len(periods) * len(categories)
        )
        table = cells.reshape(len(periods), len(categories)).astype("int64")
    p_idx, c_idx = np.nonzero(table)
    counts = pd.DataFrame(
        {
            "period_start": periods[p_idx],
            "category": categories[c_idx].astype(str),
            "incidents": table[p_idx, c_idx],
        }
    )
    counts = counts.sort_values(["period_start", "category"], kind="stable").reset_index(drop=True)
    counts["category"] = [label(c, lang) for c in counts["category"]]
    small = (counts["incidents"] > 0) & (counts["incidents"] < min_cell)
    counts["suppressed"] = small
    counts["height"] = counts["incidents"].where(~small, min_cell - 1)
    counts["shown"] = counts["incidents"].astype(str).where(~small, f"<{min_cell}")
    counts.attrs["left_out"] = left_out
    return counts


def _period_starts(days: np.ndarray, period: str, *, release: bool) -> np.ndarray:
    """Return the first day of each day's chart period.

    Release rows are charted by the release's own weeks (days 1-7, 8-14, 15-21, 22-end of a
    month), which nest in months; recorded rows by weeks starting on Monday.
    """
    if period == "week" and release:
        month = days.astype("datetime64[M]")
        offset = (days.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
        start = month.astype("datetime64[D]") + np.minimum(offset // 7, 3) * 7
        return start.astype(days.dtype)
    return pd.DatetimeIndex(days).to_period(_FREQ[period]).start_time.to_numpy()


def _chartable(incidents: pd.DataFrame, period: str) -> tuple[pd.DataFrame, int]:
    """Return the rows whose shown period lies within one chart period, and how many do not."""
    if "date_end" not in incidents.columns:
        return incidents, 0
    start = pd.to_datetime(incidents["date"]).to_numpy()
    end = pd.to_datetime(incidents["date_end"]).to_numpy()
    inside = ~(np.isnat(start) | np.isnat(end))
    if inside.any():
        first = _period_starts(start[inside], period, release=True)
        last = _period_starts(end[inside], period, release=True)
        inside[np.flatnonzero(inside)] = first == last
    return incidents.loc[inside], int((~inside).sum())


def trend_chart(
    incidents: pd.DataFrame,
    *,
    by: str = "type",
    period: str = "month",
    lang: str = "en",
    min_cell: int,
) -> alt.Chart:
    """Return a grouped bar chart of :func:`trend_table`, titled in ``lang``.

    Bars stand side by side, never stacked: a faded "<k" bar is an upper bound, and a stack
    of upper bounds would show a total larger than the true one. By type, an incident with
    several types counts under each, as the subtitle says.
    """
    table = trend_table(incidents, by=by, period=period, lang=lang, min_cell=min_cell)
    left_out = int(table.attrs.get("left_out", 0))
    faded = bool(table["suppressed"].any())
    if min_cell:
        # The spec is sent to the browser whole: the true small counts must not be in it.
        table = table.drop(columns="incidents")
    title = alt.TitleParams(
        t(_TITLE_KEYS[by], lang, period=t(f"period_{period}", lang)),
        subtitle=[
            *([t("chart_multi_type", lang)] if by == "type" else []),
            *([t("chart_suppressed", lang, k=min_cell)] if faded else []),
            *([t("chart_left_out", lang, n=left_out)] if left_out else []),
        ],
    )
    time_unit = "yearmonth" if period == "month" else "yearmonthdate"
    period_title = t("axis_period", lang)
    return (
        alt.Chart(table, title=title)
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=alt.X(f"{time_unit}(period_start):O", title=period_title),
            xOffset=alt.XOffset("category:N"),
            y=alt.Y("height:Q", title=t("axis_incidents", lang), stack=None),
            color=alt.Color("category:N", title=None),
            # A "<k" bar is an empty dashed outline: never mistaken for a pale colour of the
            # palette.
            stroke=alt.Stroke("category:N", legend=None),
            fillOpacity=alt.condition("datum.suppressed", alt.value(0.0), alt.value(1.0)),
            strokeDash=alt.condition("datum.suppressed", alt.value([4, 3]), alt.value([1, 0])),
            tooltip=[
                alt.Tooltip("category:N", title=t(f"chart_dim_{by}", lang)),
                alt.Tooltip(f"{time_unit}(period_start):T", title=period_title),
                alt.Tooltip("shown:N", title=t("axis_incidents", lang)),
            ],
        )
        .properties(height=280)
    )
