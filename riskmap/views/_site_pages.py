"""The pages of the static public site (:mod:`riskmap.views.site`): HTML around folium's map.

Each map page is folium's stand-alone page of :func:`riskmap.views.maps.dashboard_map`, pointed
at the vendored Leaflet (``../vendor/``; CDN links the map does not use are dropped), with its
random element ids renumbered in order of appearance (so the same release gives the same bytes)
and the site's header, figures, notes and downloads placed around the map. All text from the
data or the strings is HTML-escaped.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

import folium
import pandas as pd

from riskmap import __version__
from riskmap.filters import Filters
from riskmap.release.audience import Audience
from riskmap.views import dashboard, export, maps, viewstate
from riskmap.views.columns import DATA_DICTIONARY
from riskmap.views.i18n import LANGUAGES, t

#: Formats of the downloads, in the order the pages list them.
FORMATS: tuple[str, ...] = ("csv", "geojson")

_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")
_ASSET = re.compile(
    r'\s*<(?:script src|link rel="stylesheet" href)="(https?://[^"]+)"[^>]*>(?:</script>)?'
)


@dataclass(frozen=True)
class TakeAway:
    """A file another output module adds to a language's pages (a brief, a feed, an embed).

    ``path`` is inside the language's folder (``"brief.pdf"`` is written to ``en/brief.pdf``
    for English); each page of that language links it with ``label``. An Atom or RSS feed
    (``media_type`` ``application/atom+xml`` or ``application/rss+xml``) is also announced in
    each page's head, so feed readers find it.
    """

    path: str
    data: bytes
    label: str
    media_type: str = ""


@dataclass(frozen=True)
class Page:
    """One map page: a language and a city (``None``: all data)."""

    lang: str
    city: str | None

    @property
    def path(self) -> str:
        """Return the page's path in the site."""
        return f"{self.lang}/{'index' if self.city is None else slug(self.city)}.html"


def slug(city: str) -> str:
    """Return a city's name as a file name: ``"Nuevo Laredo"`` -> ``"nuevo-laredo"``."""
    text = re.sub(r"[^a-z0-9]+", "-", city.lower().translate(_ACCENTS)).strip("-")
    return text or "city"


_ACCENTS = str.maketrans("áéíóúüñ", "aeiouun")


def cities(audience: Audience) -> list[str]:
    """Return the cities the release shows incidents in, sorted (a page each)."""
    return sorted({str(c) for c in audience.table["city"].dropna()})


def data_name(audience: Audience, fmt: str) -> str:
    """Return the download's file name (stable from one release to the next)."""
    synthetic = "-synthetic" if audience.synthetic else ""
    return f"riskmap-incidents{synthetic}{export.FORMATS[fmt][1]}"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


_CSS = """<style>
body{font:15px/1.45 system-ui,sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:0 12px}
html,body{height:auto}
header h1{font-size:1.35rem;margin:.6rem 0 .2rem}
nav a{margin-right:.7rem}
.rm-banner{background:#fff3cd;border:2px solid #8a1c1c;color:#8a1c1c;font-weight:bold;
 padding:.5rem .8rem;border-radius:6px}
.rm-figures{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.6rem 0}
.rm-figure b{font-size:1.3rem;display:block}
.rm-figure small{color:#555}
.rm-notes,.rm-downloads,footer{font-size:.9rem}
footer{color:#555;border-top:1px solid #ddd;margin-top:1rem;padding:.5rem 0 1rem}
</style>"""


def _head(title: str, *, viewport: bool = True) -> str:
    # A map page has folium's viewport already.
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    return f"<title>{_esc(title)}</title>\n" + (meta if viewport else "") + _CSS


def _relative(target: str, source: str) -> str:
    """Return the link from the page ``source`` to the file ``target`` (both site paths)."""
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


def _nav(page: Page, pages: list[Page]) -> str:
    links = []
    for other in (p for p in pages if p.lang == page.lang):
        name = t("site_all", page.lang) if other.city is None else other.city
        here = ' aria-current="page"' if other == page else ""
        links.append(f'<a href="{_relative(other.path, page.path)}"{here}>{_esc(name)}</a>')
    for lang in LANGUAGES:
        if lang != page.lang:
            twin = Page(lang, page.city).path
            links.append(
                f'<a href="{_relative(twin, page.path)}" hreflang="{lang}" lang="{lang}">'
                f"{_esc(t('site_language_name', lang))}</a>"
            )
    return "<nav>" + " ".join(links) + "</nav>"


def _figures(selection: dashboard.Selection, audience: Audience, lang: str) -> str:
    items = []
    for key, text, published in dashboard.headline_items(selection, audience=audience):
        note = (
            f"<small>{_esc(t('published_short', lang, value=published))}</small>"
            if published is not None
            else ""
        )
        items.append(
            f'<div class="rm-figure" data-key="{key}"><b>{_esc(text)}</b>'
            f"{_esc(t(f'm_{key}', lang))} {note}</div>"
        )
    return '<section class="rm-figures">' + "".join(items) + "</section>"


def _notes(selection: dashboard.Selection, audience: Audience, lang: str) -> str:
    notes = []
    if selection.empty:
        notes.append(t("no_incidents", lang))
    if selection.unresolved:
        notes.append(t("unresolved_note", lang, n=audience.format_count(selection.unresolved)))
    listed = dashboard.listed_places(selection.drawn, places=audience.places, lang=lang)
    if len(listed):
        notes.append(
            t("listed_places", lang)
            + " "
            + "; ".join(
                f"{r.name} ({r.city}): {audience.format_count(r.incidents)}"
                for r in listed.itertuples()
            )
        )
    notes.append(t("site_release_note", lang, k=audience.k))
    suppressed = audience.release.suppressed if audience.release is not None else 0
    if suppressed:
        notes.append(t("release_suppressed", lang, n=suppressed))
    return '<section class="rm-notes">' + "".join(f"<p>{_esc(n)}</p>" for n in notes) + "</section>"


def _size(n: int) -> str:
    """Write a file size as people read it on a phone before downloading: 840 kB, 12 MB."""
    return f"{max(n / 1e3, 1):.0f} kB" if n < 1e6 else f"{n / 1e6:.0f} MB"


def _downloads(audience: Audience, page: Page, parts: Parts) -> str:
    lang = page.lang
    rows = []
    for fmt in FORMATS:
        folder = f"data/{lang}/{fmt}"
        name = data_name(audience, fmt)
        stem = Path(name).stem
        links = [
            (t(f"download_{fmt}", lang), f"{folder}/{name}", True),
            (t("site_manifest", lang), f"{folder}/{stem}.manifest.json", False),
            (t("site_datapackage", lang), f"{folder}/{stem}.datapackage.json", False),
        ]
        rows.append(
            "<li>"
            + " · ".join(
                f'<a href="{_relative(path, page.path)}"'
                + (f' download="{_esc(Path(path).name)}"' if main else "")
                + f' data-format="{fmt}">{_esc(text)}</a>'
                + (f" ({_size(parts.sizes.get(path, 0))})" if main else "")
                for text, path, main in links
            )
            + "</li>"
        )
    dictionary = f"data/{lang}/csv/{DATA_DICTIONARY.name}"
    rows.append(
        f'<li><a href="{_relative(dictionary, page.path)}">{_esc(t("data_dictionary", lang))}'
        "</a></li>"
    )
    return (
        f'<section class="rm-downloads"><h2>{_esc(t("site_downloads", lang))}</h2>'
        f"<ul>{''.join(rows)}</ul><p>{_esc(t('cite_this', lang, citation=parts.citation))}</p>"
        "</section>"
    )


def _taken(page: Page, taken: list[TakeAway]) -> tuple[str, str]:
    """Return the head links (feeds) and the section that link the take-away files."""
    if not taken:
        return "", ""
    head = "".join(
        f'<link rel="alternate" type="{_esc(item.media_type)}" title="{_esc(item.label)}" '
        f'href="{_esc(item.path)}">'
        for item in taken
        if item.media_type in {"application/atom+xml", "application/rss+xml"}
    )
    links = "".join(
        f'<li><a href="{_esc(item.path)}">{_esc(item.label)}</a></li>' for item in taken
    )
    return head, (
        f'<section class="rm-takeaway"><h2>{_esc(t("site_take_away", page.lang))}</h2>'
        f"<ul>{links}</ul></section>"
    )


def _map_html(view: pd.DataFrame, audience: Audience, lang: str, title: str) -> str:
    """Render the dashboard's map as a whole page (folium's CDN links; see :func:`_finish`)."""
    shown = maps.dashboard_map(
        view, audience=audience, lang=lang, asset_base=None, title_html=title
    )
    for layer in shown.layers:
        layer.add_to(shown.base)
    folium.LayerControl(collapsed=True).add_to(shown.base)
    return shown.base.get_root().render()


@dataclass(frozen=True)
class Parts:
    """What every page of a language shares."""

    pages: list[Page]
    app_url: str | None
    taken: list[TakeAway]
    citation: str
    published: pd.DataFrame
    #: Size in bytes of each download, by path in the site (shown beside its link).
    sizes: dict[str, int]


def map_page(audience: Audience, page: Page, parts: Parts) -> str:
    """Return a map page: header, banner, figures, the map, notes, downloads, take-away, footer.

    The selection is the page's city (or everything), made by the audience as the app makes it;
    the map is the app's (:func:`riskmap.views.maps.dashboard_map`) with a layer switcher.
    """
    lang = page.lang
    filters = Filters(cities=() if page.city is None else (page.city,))
    selection = dashboard.select(audience, filters, published=parts.published)
    bounds = dashboard.date_bounds(audience.table)
    summary = viewstate.summary(
        viewstate.ViewState(filters=filters, lang=lang),
        viewstate.DateRange(None, None, ()),
        data_through=bounds[1] if bounds else None,
        lang=lang,
    )
    title = maps.title_html(summary, synthetic=audience.synthetic, lang=lang)
    page_html = _map_html(selection.drawn, audience, lang, title)
    head_links, take_away = _taken(page, parts.taken)
    banner = (
        f'<p class="rm-banner" role="alert">{_esc(t("synthetic_banner", lang))}</p>'
        if audience.synthetic
        else ""
    )
    live = (
        f'<p><a href="{_esc(parts.app_url)}">{_esc(t("site_live_app", lang))}</a></p>'
        if parts.app_url
        else ""
    )
    top = (
        f"<header><h1>{_esc(t('title', lang))}</h1><p>{_esc(t('subtitle', lang))}</p>"
        f"{_nav(page, parts.pages)}</header>{banner}<h2>{_esc(summary)}</h2>"
        f"{_figures(selection, audience, lang)}"
    )
    bottom = (
        _notes(selection, audience, lang)
        + live
        + _downloads(audience, page, parts)
        + take_away
        + f"<footer>{_footer(audience, lang)}</footer>"
    )
    return _finish(
        page_html,
        lang=lang,
        head=_head(f"riskmap · {summary}", viewport=False) + head_links,
        top=top,
        bottom=bottom,
    )


def _footer(audience: Audience, lang: str) -> str:
    stamp = str(audience.report.get("generated_at", ""))
    return f"<p>{_esc(t('site_built', lang, when=stamp))} riskmap {_esc(__version__)}.</p>"


def _finish(page: str, *, lang: str, head: str, top: str, bottom: str) -> str:
    """Point folium's page at the vendored assets, renumber its ids and add the site's parts."""
    vendor = "../vendor/"  # pages are one folder down, in their language's

    def local(match: re.Match[str]) -> str:
        name = maps.VENDOR_FILES.get(match.group(1).rsplit("/", 1)[-1].lower())
        if name is None:  # Bootstrap, awesome-markers: unused, and never fetched
            return ""
        tag = match.group(0).strip()
        return "\n    " + tag.replace(match.group(1), vendor + name)

    page = _ASSET.sub(local, page)
    ids: dict[str, str] = {}
    page = _ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), page)
    page = page.replace("<html>", f'<html lang="{lang}">', 1)
    page = page.replace("</head>", head + "\n</head>", 1)
    page = page.replace("<body>", "<body>\n" + top, 1)
    return page.replace("</body>", bottom + "\n</body>", 1)


def index_page(audience: Audience, *, pages: list[Page]) -> str:
    """Return the site's front page: every language and city, in each language."""
    parts = []
    for lang in LANGUAGES:
        links = " · ".join(
            f'<a href="{p.path}">{_esc(t("site_all", lang) if p.city is None else p.city)}</a>'
            for p in pages
            if p.lang == lang
        )
        banner = (
            f'<p class="rm-banner">{_esc(t("synthetic_banner", lang))}</p>'
            if audience.synthetic
            else ""
        )
        parts.append(
            f'<section lang="{lang}"><h1>{_esc(t("title", lang))}</h1>'
            f"<p>{_esc(t('subtitle', lang))}</p>{banner}"
            f"<p><b>{_esc(t('site_language_name', lang))}</b>: {links}</p></section>"
        )
    title = " / ".join(t("site_index_title", lang) for lang in LANGUAGES)
    return (
        f'<!DOCTYPE html>\n<html lang="{LANGUAGES[0]}">\n<head>\n<meta charset="utf-8">\n'
        f"{_head(title)}\n</head>\n<body>\n{''.join(parts)}\n"
        f"<footer>{''.join(_footer(audience, lang) for lang in LANGUAGES)}</footer>\n"
        "</body>\n</html>\n"
    )
