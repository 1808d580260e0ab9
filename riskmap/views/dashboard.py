"""What the dashboard shows, computed without Streamlit.

``app.py`` only lays out widgets; the selection, the counts, the published figures beside them
and the date presets are computed here, so that tests can check them directly and the app, the
CLI and the exports agree.

Every selection comes from an audience (:class:`~riskmap.release.audience.Audience`): in public,
the filters act on the shown values of the k-anonymous release, so every count shown here —
and the difference between any two filter states — is 0 or at least k.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from riskmap import filters as _filters
from riskmap.analysis.metrics import HEADLINES, headline_counts, published_for
from riskmap.release.audience import Audience, coded, per_table

PRESETS: tuple[str, ...] = ("all", "last30", "last90", "custom")


@dataclass(frozen=True, eq=False)
class Selection:
    """The incidents selected by one filter state, and what is shown about them."""

    filters: _filters.Filters
    #: The selected rows as the map, the headline counts and the listed places read them: in
    #: public, the release's coded copy (:func:`riskmap.release.audience.coded`: the same
    #: values, text columns as categoricals, no pseudonyms); for staff, :attr:`incidents`.
    drawn: pd.DataFrame = field(repr=False)
    #: Headline counts (see :data:`riskmap.analysis.metrics.HEADLINES`).
    counts: dict[str, int]
    #: Published figures for the same keys, when the selection covers their whole period.
    published: dict[str, int]
    #: Selected incidents that could not be placed (counted, not drawn).
    unresolved: int
    #: Returns the selected rows (every column the audience may see), on first use only.
    rows: Callable[[], pd.DataFrame] = field(repr=False)

    @cached_property
    def incidents(self) -> pd.DataFrame:
        """The selected incidents (public columns in the public view), made when first asked."""
        return self.rows()

    @property
    def empty(self) -> bool:
        """Whether nothing is selected."""
        return self.drawn.empty


def date_bounds(incidents: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """Return the first and last incident dates, or ``None`` for an empty table.

    A release row stands for its shown period: the last date is the end of the latest period.
    """
    dates = pd.to_datetime(incidents["date"]).dropna()
    ends = pd.to_datetime(incidents.get("date_end", incidents["date"])).dropna()
    if dates.empty or ends.empty:
        return None
    return dates.min().date(), ends.max().date()


def audience_bounds(audience: Audience) -> tuple[dt.date, dt.date] | None:
    """Return :func:`date_bounds` of an audience's table (computed once per table object)."""
    return per_table(audience.table, "date_bounds", date_bounds)


def preset_range(
    preset: str, bounds: tuple[dt.date, dt.date] | None
) -> tuple[dt.date | None, dt.date | None]:
    """Return the date range of a preset, relative to the data's last day.

    Historical data have no "now": the last 30 days are the 30 days up to the latest incident.
    """
    if bounds is None or preset not in {"last30", "last90"}:
        return None, None
    days = 30 if preset == "last30" else 90
    end = bounds[1]
    return end - dt.timedelta(days=days - 1), end


def select(
    audience: Audience,
    filters: _filters.Filters,
    *,
    published: pd.DataFrame | None = None,
) -> Selection:
    """Select an audience's rows with ``filters`` and compute the headline counts.

    Parameters
    ----------
    audience
        Whose rows (the public release, or the restricted view).
    filters
        The selection.
    published
        The published figures (:func:`riskmap.analysis.metrics.load_published`). They are shown
        beside the counts only when no filter other than the dates is set and the dates cover their
        whole period: a figure for all incidents is no benchmark for a subset.
    """
    # A bound that leaves out no dated incident is as good as no bound (and then leaves out no
    # undated one either): the decision rests on the shown dates only.
    bounds = audience_bounds(audience)
    start = None if bounds and filters.start and filters.start <= bounds[0] else filters.start
    end = None if bounds and filters.end and filters.end >= bounds[1] else filters.end
    effective = filters.with_(start=start, end=end)
    rows: Callable[[], pd.DataFrame]
    if audience.public:
        # The test and the copy run on integer codes; the rows themselves (pseudonyms, every
        # text column) are copied only when a table, a chart or a download asks for them.
        positions = audience.select_positions(effective)
        table = audience.table
        everything = len(positions) == len(table)
        chosen = coded(table) if everything else coded(table).take(positions)

        def rows() -> pd.DataFrame:
            # Nothing left out: a view of the table (copy-on-write), not a second million rows.
            return table.copy(deep=False) if everything else table.take(positions)

    else:
        chosen = audience.select(effective)

        def rows() -> pd.DataFrame:
            return chosen

    counts = headline_counts(chosen)
    compare: dict[str, int] = {}
    unfiltered = filters.with_(start=None, end=None) == _filters.Filters()
    if published is not None and unfiltered:
        found = published_for(published, start=start, end=end)
        compare = {k: v for k, v in found.items() if k in HEADLINES}
    # Not drawn on the map and not listed beside it: no point and no named place (unresolved,
    # or a release row with its place withheld).
    pointless = pd.to_numeric(chosen["lat"], errors="coerce").isna() & chosen["place_id"].isna()
    unresolved = int(
        pointless.sum()
        if audience.public
        else (chosen["geo_precision"].astype("string").fillna("unresolved") == "unresolved").sum()
    )
    return Selection(filters, chosen, counts, compare, unresolved, rows)


#: Headline figures in the order the published report gives them; people only for staff.
HEADLINE_ORDER: tuple[str, ...] = (
    "incidents",
    "kidnapping_or_attempt",
    "people_kidnapped",
    "people_in_attempts",
    "people_other",
    "children",
    "incidents_with_children",
    "sexual_assault",
    "express_by_police",
)


def headline_items(
    selection: Selection, *, audience: Audience
) -> list[tuple[str, str, int | None]]:
    """Return the headline figures as ``(key, count text, published figure or None)``.

    People are split as the published report counts them: kidnapped, in attempts, and affected
    by the other incidents (``people_other``), so that the three add up to the people affected.
    Incidents with children are shown only where the number of children is not.
    """
    counts = dict(selection.counts)
    if "people_affected" in counts:
        counts["people_other"] = (
            counts["people_affected"] - counts["people_kidnapped"] - counts["people_in_attempts"]
        )
        counts.pop("incidents_with_children", None)
    return [
        (key, audience.format_count(counts[key]), selection.published.get(key))
        for key in HEADLINE_ORDER
        if key in counts
    ]


def headline_markdown(selection: Selection, *, audience: Audience, lang: str) -> str:
    """Return the headline figures as one compact Markdown line (it wraps on a phone).

    Each figure has the published one beside it ("≥ 32 published") when the selection is the
    report's.
    """
    from riskmap.views.i18n import t

    parts = []
    for key, text, published in headline_items(selection, audience=audience):
        part = f"**{text}** {t(f'm_{key}', lang).lower()}"
        if published is not None:
            part += f" ({t('published_short', lang, value=published)})"
        parts.append(part)
    return " · ".join(parts)


def protected_note(filters: _filters.Filters, *, audience: Audience, lang: str) -> str:
    """Return what a place-type filter cannot show this audience, in words ("" if nothing).

    In public, incidents at a shelter or the camp are counted by city only: filtering on those
    kinds of place selects nothing, and the page must say they are protected, not that there
    are none.
    """
    from riskmap.views.i18n import label, t

    kinds = [p for p in filters.place_types if p in audience.protected_place_types]
    if not kinds:
        return ""
    return t("protected_places", lang, kinds=", ".join(label(k, lang) for k in kinds))


def with_shown_dates(rows: pd.DataFrame) -> pd.DataFrame:
    """Return ``rows`` with ``date`` written at its precision, for a table people read.

    A month-level date reads "2019-12", a quarter "2019-Q4", a withheld one stays empty; the
    downloads keep ISO dates and ``date_precision``.
    """
    from riskmap.views.viewstate import date_text, span_text

    if "date" not in rows.columns:
        return rows
    # Written once per distinct (date, end or precision) pair: a table of thousands of rows
    # holds a few hundred.
    spans = "date_end" in rows.columns
    if spans:
        second = rows["date_end"]
    else:
        second = rows.get("date_precision", pd.Series(None, index=rows.index, dtype=object))

    def write(value: object, other: object) -> str:
        return span_text(value, other) if spans else date_text(value, other, "en")

    a_code, a_seen = pd.factorize(rows["date"])
    b_code, b_seen = pd.factorize(second)
    pair, pairs = pd.factorize((a_code + 1).astype(np.int64) * (len(b_seen) + 1) + (b_code + 1))
    texts = []
    for value in pairs:
        a, b = divmod(int(value), len(b_seen) + 1)
        texts.append(write(a_seen[a - 1] if a else None, b_seen[b - 1] if b else None))
    shown = np.array(texts, dtype=object)[pair]
    return rows.assign(date=pd.array(shown, dtype="string"))


def listed_places(selection: pd.DataFrame, *, places: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return the named places of a selection that have no map point, with their counts.

    An approximate place (no public coordinate) is not pinned where it is not: its incidents are
    listed beside the map by name instead. Counts of a public selection are 0 or at least k.

    Returns
    -------
    pandas.DataFrame
        ``place_id``, ``name`` (in ``lang``), ``city``, ``incidents``; most incidents first.
    """
    lat = pd.to_numeric(selection["lat"], errors="coerce")
    named = selection[lat.isna() & selection["place_id"].notna()]
    counts = named.groupby("place_id", sort=True, observed=True).size()
    names = _member_names(places, lang)
    cities = dict(zip(places["place_id"], places["city"], strict=True))
    out = pd.DataFrame(
        {
            "place_id": counts.index.astype(str),
            "name": [names.get(p, p) for p in counts.index],
            "city": [cities.get(p, "") for p in counts.index],
            "incidents": counts.to_numpy(dtype="int64"),
        }
    )
    return out.sort_values(["incidents", "name"], ascending=[False, True], kind="stable")


def _site_name(row: object, lang: str) -> str:
    name_es = getattr(row, "name_es", None)
    if lang == "es" and isinstance(name_es, str) and name_es:
        return name_es
    return str(getattr(row, "name", ""))


def ranking_table(ranking: pd.DataFrame, *, lang: str, audience: Audience) -> pd.DataFrame:
    """Format a site ranking (:func:`riskmap.analysis.hotspots.rank_sites`) as a table.

    Sites with no incident in either period are left out; names are in ``lang``. Counts are
    written for ``audience``: in public a count below k would be ``"<k"`` (release counts are 0
    or at least k already), and the change and the interval, which would give such a count away,
    are hidden for that site. The previous period and the change are left out when the data do
    not cover the previous period.

    Returns
    -------
    pandas.DataFrame
        Text columns headed in ``lang``.
    """
    from riskmap.release.privacy import format_count
    from riskmap.views.i18n import label, t

    min_cell = audience.k
    covered = bool(ranking.attrs.get("previous_covered", True))
    active = ranking[(ranking["incidents"] > 0) | (ranking["previous_incidents"] > 0)]
    names = {r.place_id: _site_name(r, lang) for r in ranking.itertuples(index=False)}
    rows = []
    for r in active.itertuples(index=False):
        counts = [r.incidents, r.previous_incidents, *([] if pd.isna(r.people) else [r.people])]
        hidden = any(0 < int(n) < min_cell for n in counts)
        reason = str(r.tie_reason) if isinstance(r.tie_reason, str) else ""
        others = ", ".join(
            str(names.get(p, p)) for p in str(r.tied_with or "").split("|") if p and p in names
        )
        note = t(f"tie_{reason}", lang, others=others) if reason else ""
        row = {
            t("col_rank", lang): int(r.rank),
            t("col_site", lang): names[r.place_id],
            t("col_type", lang): label(r.place_type, lang),
            t("col_city", lang): str(r.city),
            t("col_incidents", lang): format_count(int(r.incidents), k=min_cell),
            t("col_interval", lang): "–" if hidden else f"{r.ci_low:.1f}–{r.ci_high:.1f}",
            t("col_previous", lang): format_count(int(r.previous_incidents), k=min_cell),
            t("col_change", lang): "–" if hidden else f"{int(r.change):+d}",
            t("col_people", lang): "–"
            if pd.isna(r.people)
            else format_count(int(r.people), k=min_cell),
            t("col_note", lang): note,
        }
        if not covered:
            del row[t("col_previous", lang)], row[t("col_change", lang)]
        rows.append(row)
    keys = ["col_rank", "col_site", "col_type", "col_city", "col_incidents", "col_interval"]
    keys += ["col_previous", "col_change"] if covered else []
    keys += ["col_people", "col_note"]
    return pd.DataFrame(rows, columns=[t(c, lang) for c in keys])


def ranking_cards(ranking: pd.DataFrame, *, lang: str, audience: Audience) -> list[str]:
    """Return one short Markdown card per ranked site: readable on a 390 px phone.

    Each card has the rank, the name (in ``lang``), its kind and city, the count with its
    interval and people, and — where they apply — the previous period and change (only when the
    data cover it), the ``nearby`` figure, the members of a site of several places, a tie, and
    "no map point" for an approximate place.
    """
    from riskmap.views.i18n import label, t

    covered = bool(ranking.attrs.get("previous_covered", True))
    days = int(ranking.attrs.get("period_days", 0))
    radius = int(ranking.attrs.get("radius_m", 0))
    active = ranking[(ranking["incidents"] > 0) | (ranking["previous_incidents"] > 0)]
    names = {r.place_id: _site_name(r, lang) for r in ranking.itertuples(index=False)}
    by_member = {
        m: names[r.place_id]
        for r in ranking.itertuples(index=False)
        for m in str(r.members).split("|")
    }
    member_names = _member_names(audience.places, lang)
    cards = []
    for r in active.itertuples(index=False):
        count = audience.format_count(int(r.incidents))
        hidden = not count.isdigit()
        lines = [
            f"**{int(r.rank)}. {names[r.place_id]}** · {label(r.place_type, lang)} · {r.city}",
            t(
                "card_count",
                lang,
                n=count,
                low="–" if hidden else f"{r.ci_low:.1f}",
                high="–" if hidden else f"{r.ci_high:.1f}",
            )
            + (
                ""
                if pd.isna(r.people)
                else t("card_people", lang, people=audience.format_count(int(r.people)))
            ),
        ]
        if covered and not hidden:
            lines.append(
                t(
                    "card_previous",
                    lang,
                    days=days,
                    n=audience.format_count(int(r.previous_incidents)),
                    change=int(r.change),
                )
            )
        members = str(r.members).split("|")
        if len(members) > 1:
            lines.append(
                t("card_members", lang, names=", ".join(member_names.get(m, m) for m in members))
            )
        if not pd.isna(r.nearby):
            lines.append(t("card_nearby", lang, n=int(r.nearby), radius=radius))
        if pd.isna(r.lat):
            lines.append(t("card_no_point", lang))
        if r.tie_reason == "equal_counts":
            tied = [by_member.get(p, p) for p in str(r.tied_with or "").split("|") if p]
            lines.append(t("card_tied", lang, names=", ".join(tied[:3])))
        cards.append("  \n".join(lines))
    return cards


def _member_names(places: pd.DataFrame, lang: str) -> dict[str, str]:
    from riskmap.geo.gazetteer import names

    return dict(zip(places["place_id"], names(places, lang).astype(str), strict=True))
