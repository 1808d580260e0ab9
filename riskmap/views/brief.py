"""The printable city brief: one page per city, for a shelter's wall and for people arriving.

Each page says, in one language, where incidents were reported in a period: the sites ranked
by the incidents attributed to them (:func:`riskmap.analysis.hotspots.rank_selection`, as the
app's hotspot tab ranks them) with their uncertainty in plain words, a small map drawn from the
release's own points (no tiles: it prints anywhere), the period and the last day of the data,
what to avoid, where the data come from, "synthetic data" when it is, and a QR code that opens
the same view in the dashboard. Everything comes from the audience's selection, so in public
every count is one the public release shows (0 or at least k).

The PDF is written with ReportLab in the Bitstream Vera fonts ReportLab ships (they cover
Spanish: ñ, á, ¿, ¡), embedded in the file; the QR code is made by segno.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import segno
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from riskmap import __version__
from riskmap.analysis.hotspots import rank_selection
from riskmap.errors import SchemaError
from riskmap.filters import Filters
from riskmap.release.audience import Audience
from riskmap.views import dashboard
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

#: Page sizes a brief prints on.
PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
#: Most sites listed on a page (the rest are in the dashboard).
MAX_SITES = 8
#: Kinds of place drawn on the brief's map as reference points (the places to avoid).
MAP_PLACE_TYPES: tuple[str, ...] = ("port_of_entry", "bus_terminal", "immigration_office")
FONT, FONT_BOLD = "RiskmapSans", "RiskmapSans-Bold"
_PERIOD = re.compile(r"^(\d+)\s*([dw]?)$")
_RED = colors.HexColor("#8a1c1c")
_SITE = colors.HexColor("#D55E00")
_PLACE = colors.HexColor("#1f4e79")


def _fonts() -> None:
    """Register the TrueType fonts ReportLab ships (embedded in every PDF written)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))


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


# --- the PDF --------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5, alignment=TA_LEFT)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=19, leading=23),
        "head": ParagraphStyle(
            "head", parent=base, fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=6
        ),
        "flag": ParagraphStyle(
            "flag", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, textColor=_RED
        ),
        "big": ParagraphStyle("big", parent=base, fontSize=11, leading=14),
    }


def _esc(text: object) -> str:
    """Escape text for a ReportLab paragraph (its markup is a small XML)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def map_drawing(brief: CityBrief, *, width: float, height: float) -> Drawing:
    """Draw the city's small map: reference places, ranked sites (numbers) and counts.

    An equirectangular projection scaled by the cosine of the latitude (a city is a few
    kilometres across: the distortion is below a percent), with a scale bar; no tiles.
    """
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#f4f4f0"), strokeColor=colors.grey))
    # The map spans the incidents and the listed sites; reference places only when there are
    # none (a far bridge would otherwise shrink the city to a corner).
    lats = [*brief.points["lat"], *(s.lat for s in brief.sites if s.lat)] or list(
        brief.places["lat"]
    )
    lons = [*brief.points["lon"], *(s.lon for s in brief.sites if s.lon)] or list(
        brief.places["lon"]
    )
    if not lats:
        d.add(String(8, height / 2, t("no_incidents", brief.lang), fontName=FONT, fontSize=8))
        return d
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    kx = math.cos(math.radians((south + north) / 2))
    span = max((east - west) * kx, north - south, 0.01)
    pad = 18.0
    scale = min(
        (width - 2 * pad) / max((east - west) * kx, span * 0.2),
        (height - 2 * pad) / max(north - south, span * 0.2),
    )
    cx, cy = (west + east) / 2, (south + north) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return width / 2 + (lon - cx) * kx * scale, height / 2 + (lat - cy) * scale

    for place in brief.places.itertuples(index=False):
        x, y = xy(place.lat, place.lon)
        if not (3 <= x <= width - 3 and 3 <= y <= height - 3):
            continue  # outside the map's frame
        d.add(Rect(x - 3, y - 3, 6, 6, fillColor=_PLACE, strokeColor=colors.white))
    for p in brief.points.itertuples(index=False):
        x, y = xy(p.lat, p.lon)
        city = p.kind == "city"
        r = 9.0 if city else 7.5
        fill = colors.HexColor("#fff3cd") if city else _SITE
        d.add(
            Circle(
                x,
                y,
                r,
                fillColor=fill,
                strokeColor=colors.HexColor("#8a6d3b") if city else colors.white,
                strokeDashArray=[2, 1.5] if city else None,
            )
        )
        d.add(
            String(
                x,
                y - 2.8,
                str(p.count),
                fontName=FONT_BOLD,
                fontSize=7.5,
                textAnchor="middle",
                fillColor=colors.black if city else colors.white,
            )
        )
    for s in brief.sites:
        if s.lat is None or s.lon is None:
            continue
        x, y = xy(s.lat, s.lon)
        d.add(Circle(x + 9, y + 9, 5.5, fillColor=colors.white, strokeColor=colors.black))
        d.add(
            String(x + 9, y + 6.8, str(s.rank), fontName=FONT_BOLD, fontSize=7, textAnchor="middle")
        )
    # Scale bar: a round number of kilometres, about a quarter of the width.
    km_per_point = 111.32 / scale
    target = width / 4 * km_per_point
    bar_km = next((v for v in (0.5, 1, 2, 5, 10, 20, 50) if v >= target * 0.6), 50.0)
    length = bar_km / km_per_point
    d.add(Line(8, 8, 8 + length, 8, strokeWidth=2))
    d.add(String(8, 12, f"{bar_km:g} km", fontName=FONT, fontSize=7))
    return d


def qr_drawing(text: str, *, size: float) -> Drawing:
    """Draw a QR code of ``text`` (segno's matrix, one square per dark module)."""
    code = segno.make(text, error="m")
    matrix = [list(row) for row in code.matrix]
    n = len(matrix) + 8  # the quiet zone of four modules on each side
    cell = size / n
    d = Drawing(size, size)
    d.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for i, row in enumerate(matrix):
        for j, dark in enumerate(row):
            if dark:
                d.add(
                    Rect(
                        (j + 4) * cell,
                        size - (i + 5) * cell,
                        cell,
                        cell,
                        fillColor=colors.black,
                        strokeColor=None,
                        strokeWidth=0,
                    )
                )
    return d


def _page(brief: CityBrief, styles: dict[str, ParagraphStyle], width: float) -> list[object]:
    lang = brief.lang
    story: list[object] = [
        Paragraph(_esc(t("brief_title", lang, city=brief.city)), styles["title"])
    ]
    if brief.synthetic:
        story.append(Paragraph(_esc(t("synthetic_banner", lang)), styles["flag"]))
    through = t("data_through", lang, day=brief.data_through) if brief.data_through else ""
    story += [
        Paragraph(
            _esc(t("brief_period", lang, period=brief.period or period_label("all", lang)))
            + (f" · {_esc(through)}" if through else ""),
            styles["big"],
        ),
        Paragraph(_esc(brief.headline), styles["big"]),
        Spacer(1, 3 * mm),
    ]
    left: list[object] = [Paragraph(_esc(t("brief_sites_title", lang)), styles["head"])]
    if brief.sites:
        for s in brief.sites:
            line = f"<b>{s.rank}. {_esc(s.name)}</b> ({_esc(s.kind)}): " + _esc(
                t("brief_site_count", lang, n=s.count)
            )
            if s.uncertainty:
                line += f" — {_esc(s.uncertainty)}"
            left.append(Paragraph(line, styles["base"]))
        left.append(Paragraph(_esc(t("brief_uncertain", lang)), styles["small"]))
    else:
        left.append(Paragraph(_esc(t("brief_no_sites", lang)), styles["base"]))
    map_w = width * 0.44
    right: list[object] = [
        map_drawing(brief, width=map_w, height=map_w * 0.9),
        Paragraph(_esc(t("brief_map_note", lang, k=brief.k)), styles["small"]),
    ]
    if brief.unplaced not in {"0", ""}:
        right.append(Paragraph(_esc(t("brief_unplaced", lang, n=brief.unplaced)), styles["small"]))
    columns = Table([[left, right]], colWidths=[width - map_w - 4 * mm, map_w + 4 * mm])
    columns.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 4 * mm),
            ]
        )
    )
    story.append(columns)
    story.append(Paragraph(_esc(t("brief_avoid_title", lang)), styles["head"]))
    named = ", ".join(s.name for s in brief.sites[:3])
    for key in ("brief_avoid_1", "brief_avoid_2", "brief_avoid_3", "brief_avoid_4"):
        text = t(key, lang, places=named or t("brief_avoid_none", lang))
        story.append(Paragraph("• " + _esc(text), styles["base"]))
    story.append(Paragraph(_esc(t("brief_sources_title", lang)), styles["head"]))
    story.append(Paragraph(_esc(brief.sources), styles["small"]))
    footer_text = [
        Paragraph(
            _esc(t("brief_qr", lang) if brief.url else t("brief_no_qr", lang)), styles["base"]
        ),
    ]
    if brief.url:
        footer_text.append(Paragraph(_esc(brief.url), styles["small"]))
    footer_text.append(
        Paragraph(
            _esc(t("brief_printed", lang, day=dt.date.today().isoformat(), version=__version__)),
            styles["small"],
        )
    )
    qr = qr_drawing(brief.url, size=30 * mm) if brief.url else Spacer(1, 1)
    footer = Table([[qr, footer_text]], colWidths=[34 * mm, width - 34 * mm])
    footer.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story += [Spacer(1, 3 * mm), footer]
    return story


def render_pdf(briefs: Sequence[CityBrief], *, page_size: str = "a4") -> bytes:
    """Write the briefs as a PDF, one page each (a page's content shrinks to fit, never spills).

    Raises
    ------
    SchemaError
        If ``page_size`` is not one of :data:`PAGE_SIZES` or there is no brief.
    """
    if page_size not in PAGE_SIZES:
        msg = f"unknown page size {page_size!r}; choose one of {', '.join(PAGE_SIZES)}"
        raise SchemaError(msg)
    if not briefs:
        msg = "no city to write a brief for: the public release holds no incident with a city"
        raise SchemaError(msg)
    styles = _styles()
    size = PAGE_SIZES[page_size]
    margin = 14 * mm
    out = io.BytesIO()
    lang = briefs[0].lang
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=t("brief_title", lang, city=", ".join(b.city for b in briefs)),
        author="riskmap",
        subject=t("brief_subject", lang),
        lang=lang,
        invariant=True,
        # Every glyph in the embedded fonts: no unembedded Helvetica for a printer to substitute.
        initialFontName=FONT,
    )
    width, height = doc.width, doc.height
    story: list[object] = []
    for i, brief in enumerate(briefs):
        if i:
            story.append(PageBreak())
        story.append(KeepInFrame(width, height - 2, _page(brief, styles, width), mode="shrink"))
    doc.build(story)
    return out.getvalue()


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
