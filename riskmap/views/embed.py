"""The embeddable map: ``?embed=1`` shows the map of a view and nothing else.

A journalist or an advocate puts the map in an article with an ``<iframe>``: the page then holds
only the map (with its legend and its one-line title box, which names the filters and says
"synthetic data" when it is), and a link that opens the same view with the whole dashboard. The
map is the public map, of the same release and selection as the full page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from riskmap.views.i18n import t
from riskmap.views.viewstate import ViewState

#: The query parameter that asks for the embeddable map, and its value.
EMBED_PARAM = "embed"
#: Height (px) of the map in an embedded page: it fills a 400 px high frame with its link.
EMBED_MAP_HEIGHT = 340
#: The iframe's size in the snippet the page offers (a width of 100% fills an article column).
SNIPPET_HEIGHT = 420

# Streamlit's sidebar, header, toolbar and padding go: the map and its link fill the frame.
_CSS = (
    "<style>"
    '[data-testid="stSidebar"],[data-testid="stSidebarCollapsedControl"],'
    '[data-testid="stExpandSidebarButton"],[data-testid="stHeader"],'
    '[data-testid="stToolbar"],[data-testid="stDecoration"],footer{display:none!important}'
    ".block-container{padding:.25rem .4rem 0 .4rem!important;max-width:100%!important}"
    '[data-testid="stMainBlockContainer"]{padding:.25rem .4rem 0 .4rem!important}'
    '[data-testid="stVerticalBlock"]{gap:.2rem!important}'
    "</style>"
)


def requested(params: Mapping[str, str | Iterable[str]]) -> bool:
    """Return whether the page's query parameters ask for the embeddable map (``embed=1``)."""
    raw = params.get(EMBED_PARAM)
    if raw is None:
        return False
    values = [raw] if isinstance(raw, str) else list(raw)
    return any(str(v).strip().lower() in {"1", "true", "yes"} for v in values)


def embed_params(state: ViewState) -> dict[str, str | list[str]]:
    """Return the query parameters of ``state``'s embeddable map (the view's, plus ``embed=1``).

    The tab is left out: an embedded page shows the map whatever tab the view had open.
    """
    params = state.with_(tab="map").to_query_params()
    params[EMBED_PARAM] = "1"
    return params


def embed_link(page_url: str | None, state: ViewState) -> str:
    """Return the address of ``state``'s embeddable map on the page at ``page_url``."""
    base = (page_url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(embed_params(state), doseq=True)}"


def full_view_link(page_url: str | None, state: ViewState) -> str:
    """Return the address that opens ``state`` with the whole dashboard (no ``embed``)."""
    base = (page_url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(state.with_(tab='map').to_query_params(), doseq=True)}"


def page_css() -> str:
    """Return the style element that hides everything of the page but the map and its link."""
    return _CSS


def link_markdown(page_url: str | None, state: ViewState, *, lang: str) -> str:
    """Return the line under the embedded map: a Markdown link that opens the full view.

    Streamlit opens a Markdown link in a new tab, so the article that holds the frame stays open.
    """
    url = full_view_link(page_url, state)  # urlencoded: no parenthesis or space to end the link
    return f"[{t('embed_full_view', lang)}]({url})"


def iframe_snippet(page_url: str | None, state: ViewState, *, lang: str) -> str:
    """Return the HTML that embeds ``state``'s map in another page (an ``<iframe>``)."""
    src = html.escape(embed_link(page_url, state), quote=True)
    title = html.escape(t("embed_frame_title", lang), quote=True)
    return (
        f'<iframe src="{src}" title="{title}" width="100%" height="{SNIPPET_HEIGHT}" '
        'style="border:0" loading="lazy" referrerpolicy="no-referrer"></iframe>'
    )
