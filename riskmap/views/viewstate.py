"""What one view of the dashboard is, and how a link carries it.

A :class:`ViewState` is everything a person set on the page: the filters, the period (kept
relative when it is relative, so a bookmarked "last 90 days" moves forward with the data), the
open tab, the map's centre and zoom, the layers switched off and the language. It round-trips
through URL query parameters, so a copied link reopens the same view in a fresh browser.

:func:`resolve_period` turns the period and the dates a person typed into the range that is
applied, and says in words what it did with dates outside the data — the page never keeps
showing an old range while a new one is refused.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import pandas as pd

from riskmap.filters import Filters
from riskmap.views.i18n import label, normalize_language, t

#: Relative periods, counted back from the data's last day.
RELATIVE_PERIODS: dict[str, int] = {"last30": 30, "last90": 90}
#: Tabs, in page order (their ids travel in links; labels are translated).
TABS: tuple[str, ...] = ("map", "trends", "hotspots", "data", "about")
#: Map layers a person can switch off.
LAYERS: tuple[str, ...] = ("heat", "incidents", "places")
#: Earliest and latest day a date field accepts: dates beyond the data are clamped with a
#: message, not refused by the widget.
DATE_FLOOR = dt.date(2000, 1, 1)
DATE_CEILING = dt.date(2035, 12, 31)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MONTHS = {
    "en": [
        *("January", "February", "March", "April", "May", "June", "July", "August"),
        *("September", "October", "November", "December"),
    ],
    "es": [
        *("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"),
        *("septiembre", "octubre", "noviembre", "diciembre"),
    ],
}


@dataclass(frozen=True)
class ViewState:
    """One view of the dashboard, as a link carries it."""

    #: The selection; its dates are used only when :attr:`period` is ``"custom"``.
    filters: Filters = field(default_factory=Filters)
    #: ``"all"``, a key of :data:`RELATIVE_PERIODS`, a month ``"YYYY-MM"`` or ``"custom"``.
    period: str = "all"
    #: The open tab (one of :data:`TABS`).
    tab: str = "map"
    #: Map centre and zoom ``(lat, lon, zoom)``; ``None`` fits the map to the selection.
    view: tuple[float, float, int] | None = None
    #: Layers switched off (of :data:`LAYERS`).
    hidden: tuple[str, ...] = ()
    #: Page language.
    lang: str = "es"

    def to_query_params(self) -> dict[str, str | list[str]]:
        """Return the URL query parameters of this view (defaults omitted)."""
        dated = self.period == "custom"
        params = self.filters.with_(
            start=self.filters.start if dated else None, end=self.filters.end if dated else None
        ).to_query_params()
        if self.period != "all":
            params["period"] = self.period
        if self.tab != "map":
            params["tab"] = self.tab
        if self.view is not None:
            lat, lon, zoom = self.view
            # OpenStreetMap's convention: zoom/lat/lon; 5 decimals are about a metre.
            params["map"] = f"{zoom}/{lat:.5f}/{lon:.5f}"
        if self.hidden:
            params["hide"] = list(self.hidden)
        params["lang"] = self.lang
        return params

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | Iterable[str]]) -> ViewState:
        """Parse URL query parameters; a bad value falls back to the default for its field.

        A link written before periods existed (``from``/``to`` only) opens as a custom range.
        """

        def first(key: str) -> str:
            raw = params.get(key)
            if raw is None:
                return ""
            items = [raw] if isinstance(raw, str) else list(raw)
            return str(items[0]) if items else ""

        filters = Filters.from_query_params(params)
        period = first("period")
        if not valid_period(period):
            period = "custom" if (filters.start or filters.end) else "all"
        if period != "custom":
            filters = filters.with_(start=None, end=None)
        tab = first("tab") if first("tab") in TABS else "map"
        raw_hide = params.get("hide") or []
        hide = [raw_hide] if isinstance(raw_hide, str) else list(raw_hide)
        hidden = tuple(h for h in LAYERS if h in {str(x) for x in hide})
        return cls(
            filters=filters,
            period=period,
            tab=tab,
            view=_parse_view(first("map")),
            hidden=hidden,
            lang=normalize_language(first("lang")),
        )

    def with_(self, **changes: object) -> ViewState:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]


def link(page_url: str | None, state: ViewState) -> str:
    """Return the address that reopens ``state`` on the page at ``page_url``.

    Any query string already in ``page_url`` is replaced; with no page address (a test run)
    the link is relative.
    """
    base = (page_url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(state.to_query_params(), doseq=True)}"


def _parse_view(text: str) -> tuple[float, float, int] | None:
    parts = text.split("/")
    if len(parts) != 3:
        return None
    try:
        zoom, lat, lon = int(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None
    if not (1 <= zoom <= 19 and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, zoom


def valid_period(period: str) -> bool:
    """Return whether ``period`` names a period (see :attr:`ViewState.period`)."""
    if period in {"all", "custom", *RELATIVE_PERIODS}:
        return True
    match = _MONTH.match(period)
    if match is None:
        return False
    return 1 <= int(match.group(2)) <= 12 and 1990 <= int(match.group(1)) <= 2100


def month_periods(bounds: tuple[dt.date, dt.date] | None) -> list[str]:
    """Return the months the data span, latest first (``"YYYY-MM"``)."""
    if bounds is None:
        return []
    (y, m), out = (bounds[1].year, bounds[1].month), []
    while (y, m) >= (bounds[0].year, bounds[0].month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


#: The period filter's choices, in the order shown; a month is then picked in a field of its own.
SPANS: tuple[str, ...] = ("all", *RELATIVE_PERIODS, "month", "custom")


def period_span(period: str) -> str:
    """Return the period filter's choice that shows ``period`` (``"month"`` for ``"2019-12"``)."""
    return "month" if _MONTH.match(period) else period


def chosen_period(
    span: str | None, *, month: str | None, previous: str, months: Sequence[str]
) -> str:
    """Return the period that the period filter's choice and its month field name.

    Parameters
    ----------
    span
        The choice (one of :data:`SPANS`); ``None`` when the chosen one was clicked again,
        which keeps ``previous``.
    month
        The month field's value (``"YYYY-MM"``), read when ``span`` is ``"month"``.
    previous
        The period shown before this change.
    months
        The months the data span, latest first (:func:`month_periods`).

    Returns
    -------
    str
        A period (see :attr:`ViewState.period`). ``"month"`` with a month the data do not span
        names the month shown before if there was one, else the latest; with no months at all
        it names ``"all"``.
    """
    if span is None or span not in SPANS:
        return previous
    if span != "month":
        return span
    for candidate in (month, previous):
        if candidate in months:
            return str(candidate)
    return months[0] if months else "all"


def span_label(span: str, lang: str) -> str:
    """Return the short name of a period filter's choice ("All", "30 days", "A month")."""
    return t(f"span_{span}", lang)


def period_label(period: str, lang: str) -> str:
    """Return how a period is named on the page ("Enero 2020", "Last 90 days of the data")."""
    match = _MONTH.match(period)
    if match:
        name = _MONTHS[lang][int(match.group(2)) - 1]
        return f"{name.capitalize()} {match.group(1)}"
    key = {"all": "preset_all", "last30": "preset_30", "last90": "preset_90"}.get(period)
    return t(key or "preset_custom", lang)


@dataclass(frozen=True)
class DateRange:
    """The dates applied, and what the page says about them."""

    start: dt.date | None
    end: dt.date | None
    #: Sentences about the dates (clamped, reordered, incomplete); empty when there is nothing
    #: to say.
    notes: tuple[str, ...] = ()


def resolve_period(
    period: str,
    *,
    picked: Iterable[dt.date | None] = (),
    bounds: tuple[dt.date, dt.date] | None,
    lang: str,
) -> DateRange:
    """Return the date range that a period (and, for ``"custom"``, the dates picked) applies.

    Parameters
    ----------
    period
        See :attr:`ViewState.period`.
    picked
        The dates typed or picked for a custom range: none, one (a range still being chosen:
        it applies from that day on) or two, in any order.
    bounds
        First and last day of the data (:func:`riskmap.views.dashboard.date_bounds`).
    lang
        Language of the notes.

    Notes
    -----
    Dates beyond the data are clamped to them and the note says so; a range wholly outside
    the data applies as given (it selects nothing) and the note says where the data lie.
    """
    if bounds is None or period == "all":
        return DateRange(None, None)
    if period in RELATIVE_PERIODS:
        latest = bounds[1]
        return DateRange(latest - dt.timedelta(days=RELATIVE_PERIODS[period] - 1), latest)
    match = _MONTH.match(period)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        month_end = calendar.monthrange(year, month)[1]
        return DateRange(dt.date(year, month, 1), dt.date(year, month, month_end))
    days = [d for d in picked if isinstance(d, dt.date)]
    notes: list[str] = []
    if not days:
        return DateRange(None, None)
    start: dt.date = days[0]
    end: dt.date | None = None
    if len(days) == 1:
        notes.append(t("dates_from_only", lang, start=start))
    elif days[1] < start:
        start, end = days[1], start
        notes.append(t("dates_swapped", lang))
    else:
        end = days[1]
    first, last = bounds
    if (end is not None and end < first) or start > last:
        notes.append(t("dates_outside", lang, first=first, last=last))
        return DateRange(start, end, tuple(notes))
    clamped_start, clamped_end = max(start, first), min(last if end is None else end, last)
    if clamped_start != start or (end is not None and clamped_end != end):
        notes.append(t("dates_clamped", lang, first=first, last=last))
    return DateRange(clamped_start, clamped_end, tuple(notes))


def summary(
    state: ViewState,
    dates: DateRange,
    *,
    data_through: dt.date | None,
    lang: str,
) -> str:
    """Return the one-line summary of the active filters (plain text).

    It names the period and its dates, every filter that narrows the selection, and the last
    day of the data, so a screenshot says what it shows.
    """
    parts = [period_label(state.period, lang)]
    if dates.start or dates.end:
        parts[0] += f" ({_day(dates.start)} – {_day(dates.end)})"
    f = state.filters
    for values in (f.types, f.cities, f.perpetrators, f.place_types):
        if values:
            parts.append(", ".join(label(v, lang) for v in values))
    if f.children_only:
        parts.append(t("children_only", lang))
    if data_through:
        parts.append(t("data_through", lang, day=data_through))
    return " · ".join(parts)


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "…"


def month_text(value: object, lang: str) -> str:
    """Return a month as people cite it: ``"dic 2019"`` in Spanish, ``"Dec 2019"`` in English."""
    stamp = _as_date(value)
    if stamp is None:
        return ""
    return f"{_MONTHS[lang][stamp.month - 1][:3].capitalize()} {stamp.year}"


def date_text(value: object, precision: object, lang: str) -> str:
    """Return a date at its precision: a day as ISO, a month as "2019-12", a year as "2019".

    Parameters
    ----------
    value
        The date (the first day of its period when the precision is coarser than a day).
    precision
        ``"day"``, ``"week"``, ``"month"``, ``"quarter"``, ``"year"`` (the store's or the
        release's ``date_precision``); anything else shows the day.
    lang
        Unused for ISO forms; kept so every caller passes it (a month may be spelled).
    """
    stamp = _as_date(value)
    if stamp is None:
        return ""
    kind = str(precision or "day")
    if kind == "month":
        return f"{stamp:%Y-%m}"
    if kind == "quarter":
        return f"{stamp.year}-Q{(stamp.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{stamp.year}"
    if kind == "week":
        return f"{stamp:%Y-%m-%d} ({t('precision_week', lang)})"
    return f"{stamp:%Y-%m-%d}"


def _as_date(value: object) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.date()


#: Session values of the page's widgets (see :func:`widget_values`), by name.
WIDGETS: tuple[str, ...] = (
    "period",
    "dates",
    "types",
    "cities",
    "perpetrators",
    "place_types",
    "children_only",
    "tab",
    "layers",
    "map_view",
)


def widget_values(state: ViewState) -> dict[str, object]:
    """Return the values the page's widgets start with for ``state`` (a link just opened).

    ``dates`` holds the custom range's days (empty unless the period is custom); ``layers``
    the layers shown; ``map_view`` the map's ``(lat, lon, zoom)`` or ``None``.
    """
    f = state.filters
    # A range open at the start (a link with "to" only) runs from the earliest day accepted.
    start = f.start or (DATE_FLOOR if f.end else None)
    dates = tuple(d for d in (start, f.end) if d) if state.period == "custom" else ()
    return {
        "period": state.period,
        "dates": dates,
        "types": list(f.types),
        "cities": list(f.cities),
        "perpetrators": list(f.perpetrators),
        "place_types": list(f.place_types),
        "children_only": f.children_only,
        "tab": state.tab,
        "layers": [layer for layer in LAYERS if layer not in state.hidden],
        "map_view": state.view,
    }


def from_widgets(values: Mapping[str, object], *, lang: str) -> ViewState:
    """Return the view that the widgets' current values describe.

    The inverse of :func:`widget_values`.
    Values that a widget cannot hold any more (a city the data lost) are the caller's to drop;
    unknown vocabulary values raise :class:`~riskmap.errors.SchemaError` from
    :class:`~riskmap.filters.Filters`.
    """
    period = str(values.get("period") or "all")
    if not valid_period(period):
        period = "all"
    raw_dates = values.get("dates") or ()
    picked = list(raw_dates) if isinstance(raw_dates, tuple | list) else [raw_dates]
    days = [d for d in picked if isinstance(d, dt.date)]
    start = end = None
    if period == "custom" and days:
        start, end = min(days), (max(days) if len(days) > 1 else None)

    def listed(name: str) -> tuple[str, ...]:
        got = values.get(name) or ()
        return tuple(str(v) for v in got) if isinstance(got, tuple | list) else ()

    shown = listed("layers")
    tab = str(values.get("tab") or "map")
    view = values.get("map_view")
    return ViewState(
        filters=Filters(
            start=start,
            end=end,
            types=listed("types"),
            cities=listed("cities"),
            perpetrators=listed("perpetrators"),
            place_types=listed("place_types"),
            children_only=bool(values.get("children_only")),
        ),
        period=period,
        tab=tab if tab in TABS else "map",
        view=view if isinstance(view, tuple) and len(view) == 3 else None,
        hidden=tuple(layer for layer in LAYERS if layer not in shown),
        lang=normalize_language(lang),
    )


def map_view(returned: Mapping[str, object] | None) -> tuple[float, float, int] | None:
    """Return ``(lat, lon, zoom)`` from what the map component returned, or ``None``."""
    if not returned:
        return None
    centre, zoom = returned.get("center"), returned.get("zoom")
    if not isinstance(centre, Mapping) or not isinstance(zoom, int | float):
        return None
    try:
        lat, lon = float(centre["lat"]), float(centre["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    return round(lat, 5), round(lon, 5), int(zoom)


def clicked_point(returned: Mapping[str, object] | None) -> tuple[float, float] | None:
    """Return ``(lat, lon)`` of the last click on a map (what the component returned), or None.

    Rounded to 6 decimals (about 0.1 m): more digits than that describe no place.
    """
    if not returned:
        return None
    click = returned.get("last_clicked")
    if not isinstance(click, Mapping):
        return None
    try:
        lat, lon = float(click["lat"]), float(click["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return round(lat, 6), round(lon, 6)


def span_text(first: object, last: object) -> str:
    """Return the dates from ``first`` to ``last`` at the precision they describe.

    A whole month reads "2019-12", a whole quarter "2019-Q4", a whole year "2019", whole
    months "2019-11 – 2020-01"; anything else as days.
    """
    a, b = _as_date(first), _as_date(last)
    if a is None:
        return ""
    if b is None or a == b:
        return a.isoformat()
    whole_months = a.day == 1 and b.day == calendar.monthrange(b.year, b.month)[1]
    if not whole_months:
        return f"{a.isoformat()} – {b.isoformat()}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a:%Y-%m}"
    if a.year == b.year and a.month == 1 and b.month == 12:
        return str(a.year)
    if a.year == b.year and a.month % 3 == 1 and b.month == a.month + 2:
        return f"{a.year}-Q{(a.month - 1) // 3 + 1}"
    return f"{a:%Y-%m} – {b:%Y-%m}"
