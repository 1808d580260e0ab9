"""The printable city brief: one page per city, for a shelter's wall and for people arriving.

Each page says, in one language, where incidents were reported in a period: the sites ranked
by the incidents attributed to them (:func:`riskmap.analysis.hotspots.rank_selection`, as the
app's hotspot tab ranks them) with their uncertainty in plain words, a small map drawn from the
release's own points (no tiles: it prints anywhere), the period and the last day of the data,
what to avoid, where the data come from, "synthetic data" when it is, and a QR code that opens
the same view in the dashboard. Everything comes from the audience's selection, so in public
every count is one the public release shows (0 or at least k).

This module computes what a page says (:class:`CityBrief`); :mod:`riskmap.views._brief_pdf`
draws it (:func:`render_pdf`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from riskmap.analysis.hotspots import rank_selection
from riskmap.errors import SchemaError
from riskmap.filters import Filters
from riskmap.release.audience import Audience
from riskmap.views import dashboard
from riskmap.views._brief_pdf import PAGE_SIZES, map_drawing, qr_drawing, render_pdf
from riskmap.views.i18n import label, t
from riskmap.views.viewstate import (
    RELATIVE_PERIODS,
    DateRange,
    ViewState,
    link,
    period_label,
    resolve_period,
    valid_period,
)

__all__ = [
    "MAP_PLACE_TYPES",
    "MAX_SITES",
    "PAGE_SIZES",
    "CityBrief",
    "SiteLine",
    "city_brief",
    "city_briefs",
    "map_drawing",
    "parse_period",
    "qr_drawing",
    "render_pdf",
    "view_for",
]

#: Most sites listed on a page (the rest are in the dashboard).
MAX_SITES = 8
#: Kinds of place drawn on the brief's map as reference points (the places to avoid).
MAP_PLACE_TYPES: tuple[str, ...] = ("port_of_entry", "bus_terminal", "immigration_office")
_PERIOD = re.compile(r"^(\d+)\s*([dw]?)$")


@dataclass(frozen=True)
class SiteLine:
    """One ranked site on a brief."""

    rank: int
    name: str
    kind: str
    #: The count as the audience writes it (``"<3"`` below k).
    count: str
    #: The uncertainty in words, or ``""`` when the count is hidden.
    uncertainty: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class CityBrief:
    """What one city's page says (rendered by :func:`render_pdf`)."""

    city: str
    lang: str
    view: ViewState
    dates: DateRange
    #: The period in words, with its dates.
    period: str
    data_through: dt.date | None
    #: The headline sentence (incidents, kidnappings and attempts).
    headline: str
    sites: tuple[SiteLine, ...]
    #: Drawn locations: ``lat``, ``lon``, ``kind`` (site, area, city) and ``count`` (text).
    points: pd.DataFrame = field(repr=False)
    #: Reference places of :data:`MAP_PLACE_TYPES` in the city: ``lat``, ``lon``, ``name``.
    places: pd.DataFrame = field(repr=False)
    synthetic: bool = False
    k: int = 0
    #: The address that reopens this view in the dashboard (the QR code's), or ``""``.
    url: str = ""
    #: The release's guarantee and the published reference figures, in words.
    sources: str = ""
    #: Incidents counted in the city but not placed on the map.
    unplaced: str = "0"


def parse_period(text: str) -> str:
    """Return the view period of a brief's ``--period``: ``30d``, ``12w``, ``all`` or a month.

    ``30d`` and ``90d`` are the dashboard's relative periods (``last30``, ``last90``); any other
    number of days or weeks is returned as ``"<days>d"`` and applied as a custom range ending on
    the data's last day (:func:`view_for`).

    Raises
    ------
    SchemaError
        If ``text`` names no period.
    """
    raw = text.strip().lower()
    if raw in {"all", *RELATIVE_PERIODS}:
        return raw
    if valid_period(raw) and raw not in {"custom"}:
        return raw  # a month, YYYY-MM
    match = _PERIOD.match(raw)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1) if match else 0
    if days < 1:
        msg = (
            f"invalid period {text!r}: write a number of days or weeks (30d, 12w), a month "
            "(2019-12) or all"
        )
        raise SchemaError(msg)
    named = {n: key for key, n in RELATIVE_PERIODS.items()}
    return named.get(days, f"{days}d")


def view_for(
    period: str,
    *,
    filters: Filters,
    bounds: tuple[dt.date, dt.date] | None,
    lang: str,
) -> tuple[ViewState, DateRange]:
    """Return the dashboard view and the dates of a brief's period (see :func:`parse_period`)."""
    if period.endswith("d") and period[:-1].isdigit():
        if bounds is None:
            return ViewState(filters=filters, lang=lang), DateRange(None, None)
        end = bounds[1]
        start = end - dt.timedelta(days=int(period[:-1]) - 1)
        dates = DateRange(max(start, bounds[0]), end)
        return ViewState(
            filters=filters.with_(start=dates.start, end=dates.end), period="custom", lang=lang
        ), dates
    return ViewState(filters=filters, period=period, lang=lang), resolve_period(
        period, bounds=bounds, lang=lang
    )


def city_brief(
    audience: Audience,
    *,
    city: str,
    view: ViewState,
    dates: DateRange,
    page_url: str | None = None,
    radius_m: float | None = None,
    published_source: str = "",
) -> CityBrief:
    """Compute what ``city``'s page says for a view of the dashboard.

    Parameters
    ----------
    audience
        Whose rows (the public audience for anything printed for the public).
    city
        The city of the page (a value of the release's ``city``).
    view
        The dashboard view (filters, period, language); its cities are replaced by ``city``.
    dates
        The view's dates (:func:`riskmap.views.viewstate.resolve_period`, or :func:`view_for`).
    page_url
        The dashboard's address, for the QR code; ``None`` prints no code.
    radius_m
        The ranking's "nearby" radius (default the audience's setting).
    published_source
        Where the published reference figures come from (named under "where the data come from").
    """
    lang = view.lang
    filters = view.filters.with_(cities=(city,), start=dates.start, end=dates.end)
    selection = dashboard.select(audience, filters)
    bounds = dashboard.date_bounds(audience.table)
    radius = float(audience.settings.radius_m if radius_m is None else radius_m)
    # "All dates" ranks over the whole data, not the ranking's default of the last 90 days.
    whole = filters.with_(start=bounds[0], end=bounds[1]) if bounds and not dates.start else filters
    ranking = rank_selection(audience, whole, radius_m=radius)
    shown = view.with_(filters=view.filters.with_(cities=(city,)), tab="map", view=None)
    counts = selection.counts
    headline = t(
        "brief_headline",
        lang,
        n=audience.format_count(counts["incidents"]),
        kidnap=audience.format_count(counts["kidnapping_or_attempt"]),
        city=city,
    )
    when = period_label(view.period, lang) if view.period != "custom" else ""
    if dates.start or dates.end:
        span = f"{_day(dates.start)} – {_day(dates.end)}"
        when = f"{when} ({span})" if when else span
    return CityBrief(
        city=city,
        lang=lang,
        view=shown,
        dates=dates,
        period=when,
        data_through=bounds[1] if bounds else None,
        headline=headline,
        sites=_sites(ranking, audience=audience, lang=lang),
        points=_points(selection.incidents, audience=audience),
        places=_reference(audience.places, city=city, lang=lang),
        synthetic=audience.synthetic,
        k=audience.k,
        url=link(page_url, shown) if page_url else "",
        sources=t("brief_sources", lang, k=audience.k)
        + (" " + t("published_note", lang, source=published_source) if published_source else ""),
        unplaced=audience.format_count(selection.unresolved),
    )


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "…"


def _sites(ranking: pd.DataFrame, *, audience: Audience, lang: str) -> tuple[SiteLine, ...]:
    active = ranking[ranking["incidents"] > 0].head(MAX_SITES)
    out = []
    for r in active.itertuples(index=False):
        count = audience.format_count(int(r.incidents))
        hidden = not count.isdigit()
        name = r.name_es if lang == "es" and isinstance(r.name_es, str) and r.name_es else r.name
        out.append(
            SiteLine(
                rank=int(r.rank),
                name=str(name),
                kind=label(r.place_type, lang),
                count=count,
                uncertainty=""
                if hidden
                else t("brief_interval", lang, low=f"{r.ci_low:.1f}", high=f"{r.ci_high:.1f}"),
                lat=None if pd.isna(r.lat) else float(r.lat),
                lon=None if pd.isna(r.lon) else float(r.lon),
            )
        )
    return tuple(out)


def _points(incidents: pd.DataFrame, *, audience: Audience) -> pd.DataFrame:
    """Count the selection by drawn point (the release's public points)."""
    located = incidents.dropna(subset=["lat", "lon"])
    if located.empty:
        return pd.DataFrame(columns=["lat", "lon", "kind", "count"])
    kind = located["geo_precision"].astype("string").fillna("city")
    kind = kind.where(kind.isin(["site", "city"]), "area")
    grouped = (
        located.assign(kind=kind.to_numpy())
        .groupby(["lat", "lon", "kind"], sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
    return grouped.assign(count=[audience.format_count(int(n)) for n in grouped["n"]])


def _reference(places: pd.DataFrame, *, city: str, lang: str) -> pd.DataFrame:
    from riskmap.geo.gazetteer import names

    chosen = places[(places["city"] == city) & places["place_type"].isin(MAP_PLACE_TYPES)]
    chosen = chosen[pd.to_numeric(chosen["lat"], errors="coerce").notna()]
    return pd.DataFrame(
        {
            "lat": chosen["lat"].astype(float).to_numpy(),
            "lon": chosen["lon"].astype(float).to_numpy(),
            "name": names(chosen, lang).astype(str).to_numpy(),
            "place_type": chosen["place_type"].to_numpy(),
        }
    )


def city_briefs(
    audience: Audience,
    *,
    cities: Iterable[str] = (),
    period: str = "30d",
    lang: str = "es",
    filters: Filters | None = None,
    page_url: str | None = None,
    published_source: str = "",
) -> list[CityBrief]:
    """Return the briefs of ``cities`` (default every city of the audience's rows) for a period.

    Raises
    ------
    SchemaError
        If the period names none, or a city is not in the data (the message lists them).
    """
    known = sorted({str(c) for c in audience.table["city"].dropna().unique()})
    chosen = list(cities) or known
    missing = [c for c in chosen if c not in known]
    if missing:
        msg = f"no incident in {', '.join(missing)}; cities in the data: {', '.join(known)}"
        raise SchemaError(msg)
    view, dates = view_for(
        parse_period(period),
        filters=filters or Filters(),
        bounds=dashboard.date_bounds(audience.table),
        lang=lang,
    )
    return [
        city_brief(
            audience,
            city=city,
            view=view,
            dates=dates,
            page_url=page_url,
            published_source=published_source,
        )
        for city in chosen
    ]
