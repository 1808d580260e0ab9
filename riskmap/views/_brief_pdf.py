"""Draw a city brief (:class:`riskmap.views.brief.CityBrief`) as a PDF page with ReportLab.

The text is set in the Bitstream Vera fonts ReportLab ships (they cover Spanish: ñ, á, ¿, ¡),
embedded in the file; the small map is drawn from the release's own points (no tiles); the QR
code is segno's.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
from riskmap.errors import SchemaError
from riskmap.views.i18n import t
from riskmap.views.viewstate import period_label

if TYPE_CHECKING:
    from riskmap.views.brief import CityBrief

#: Page sizes a brief prints on.
PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
FONT, FONT_BOLD = "RiskmapSans", "RiskmapSans-Bold"
_RED = colors.HexColor("#8a1c1c")
_SITE = colors.HexColor("#D55E00")
_PLACE = colors.HexColor("#1f4e79")


def _fonts() -> None:
    """Register the TrueType fonts ReportLab ships (embedded in every PDF written)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))


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


def _page(
    brief: CityBrief, styles: dict[str, ParagraphStyle], width: float, *, printed: dt.date
) -> list[object]:
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
            _esc(t("brief_printed", lang, day=printed.isoformat(), version=__version__)),
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


def render_pdf(
    briefs: Sequence[CityBrief], *, page_size: str = "a4", printed: dt.date | None = None
) -> bytes:
    """Write the briefs as a PDF, one page each (a page's content shrinks to fit, never spills).

    ``printed`` is the day the footer names (default today); the same briefs and day give the
    same bytes (the PDF's own dates are fixed), as a static site's rebuild needs.

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
    day = printed or dt.date.today()
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
        story.append(
            KeepInFrame(width, height - 2, _page(brief, styles, width, printed=day), mode="shrink")
        )
    doc.build(story)
    return out.getvalue()
