"""Altair trend charts: incidents per week or month by type, place type or perpetrator.

The chart data are computed by :func:`trend_table`, which tests call directly. With small-cell
suppression on, a count of 1 to ``min_cell - 1`` is drawn faded at the height ``min_cell - 1``
(its upper bound) and labelled ``"<min_cell"``: the bar says no more than the table would.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from riskmap.schema import type_flags
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
    min_cell: int = 0,
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
    col = DIMENSIONS[by]
    # Vectorised for a million incidents: periods are found for the distinct days only, and
    # counts are bincounts over (period, category) codes rather than a groupby over rows.
    days, day_of_row = np.unique(pd.to_datetime(incidents["date"]).to_numpy(), return_inverse=True)
    day_starts = pd.DatetimeIndex(days).to_period(_FREQ[period]).start_time.to_numpy()
    periods, period_of_day = np.unique(day_starts, return_inverse=True)
    row_period = period_of_day.ravel()[day_of_row.ravel()]
    if by == "type":
        # An incident with several types counts once under each.
        flags = type_flags(incidents)
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
    return counts


def trend_chart(
    incidents: pd.DataFrame,
    *,
    by: str = "type",
    period: str = "month",
    lang: str = "en",
    min_cell: int = 0,
) -> alt.Chart:
    """Return a grouped bar chart of :func:`trend_table`, titled in ``lang``.

    Bars stand side by side, never stacked: a faded "<k" bar is an upper bound, and a stack
    of upper bounds would show a total larger than the true one. By type, an incident with
    several types counts under each, as the subtitle says.
    """
    table = trend_table(incidents, by=by, period=period, lang=lang, min_cell=min_cell)
    if min_cell:
        # The spec is sent to the browser whole: the true small counts must not be in it.
        table = table.drop(columns="incidents")
    title = alt.TitleParams(
        t(_TITLE_KEYS[by], lang, period=t(f"period_{period}", lang)),
        subtitle=[
            *([t("chart_multi_type", lang)] if by == "type" else []),
            *([t("chart_suppressed", lang, k=min_cell)] if min_cell else []),
        ],
    )
    time_unit = "yearmonth" if period == "month" else "yearmonthdate"
    period_title = t("axis_period", lang)
    return (
        alt.Chart(table, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{time_unit}(period_start):O", title=period_title),
            xOffset=alt.XOffset("category:N"),
            y=alt.Y("height:Q", title=t("axis_incidents", lang), stack=None),
            color=alt.Color("category:N", title=None),
            opacity=alt.condition("datum.suppressed", alt.value(0.35), alt.value(1.0)),
            tooltip=[
                alt.Tooltip("category:N", title=t(f"chart_dim_{by}", lang)),
                alt.Tooltip(f"{time_unit}(period_start):T", title=period_title),
                alt.Tooltip("shown:N", title=t("axis_incidents", lang)),
            ],
        )
        .properties(height=280)
    )
