"""The embeddable map (``?embed=1``): its links and snippet, the page in AppTest, and the page
in a real browser at 600 x 400 (Debian's chromium, against `streamlit run`)."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import map_frame
from streamlit.testing.v1 import AppTest

from riskmap.filters import Filters
from riskmap.views import embed
from riskmap.views.viewstate import ViewState

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
VIEW = ViewState(filters=Filters(cities=("Matamoros",), types=("kidnapping",)), lang="en")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"embed": ["1"]}, True),
        ({"embed": "true"}, True),
        ({"embed": ["0"]}, False),
        ({"embed": []}, False),
        ({}, False),
    ],
)
def test_embed_is_asked_for_by_its_parameter(params, expected):
    assert embed.requested(params) is expected


def test_links_carry_the_view_with_and_without_embed():
    on_tab = VIEW.with_(tab="data")
    framed = parse_qs(urlsplit(embed.embed_link("https://example.org/?old=1#x", on_tab)).query)
    assert framed == {"city": ["Matamoros"], "type": ["kidnapping"], "lang": ["en"], "embed": ["1"]}
    full = embed.full_view_link("https://example.org/", on_tab)
    assert full.startswith("https://example.org/?")
    assert ViewState.from_query_params(parse_qs(urlsplit(full).query)) == VIEW
    assert "embed" not in full
    line = embed.link_markdown("https://example.org/", VIEW, lang="es")
    text = "Abrir la vista completa (filtros, cifras, descargas) ↗"
    assert line == f"[{text}]({full})"


def test_the_snippet_is_an_escaped_iframe_of_the_embed_link():
    snippet = embed.iframe_snippet("https://example.org/", VIEW, lang="en")
    assert snippet.startswith("<iframe ")
    assert snippet.endswith("</iframe>")
    src = snippet.split('src="', 1)[1].split('"', 1)[0]
    assert html.unescape(src) == embed.embed_link("https://example.org/", VIEW)
    assert "&amp;" in src  # the query's ampersands are escaped in the attribute


@pytest.fixture
def embedded(monkeypatch, sample_store):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"lang": "en", "embed": "1", "city": "Matamoros"}.items():
        at.query_params[key] = value
    return at.run()


def test_the_embedded_page_holds_the_map_and_a_link_only(embedded):
    at = embedded
    assert not at.exception
    # No page title, counts, tabs or banner (the sidebar is drawn, hidden: it holds the view).
    assert not [h for h in at.title if h.tag == "h1"]
    assert not at.metric
    assert not at.tabs
    assert not at.warning
    links = [m.value for m in at.markdown if "Open the full view" in m.value]
    assert len(links) == 1
    target = links[0].split("](", 1)[1].rstrip(")")
    assert parse_qs(urlsplit(target).query) == {"city": ["Matamoros"], "lang": ["en"]}
    # The address keeps asking for the embed on reruns.
    assert at.query_params["embed"] in ("1", ["1"])
    assert at.query_params["city"] in ("Matamoros", ["Matamoros"])


def test_the_full_page_offers_the_iframe_snippet(monkeypatch, sample_store):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    snippets = [c.value for c in at.code if c.value.startswith("<iframe ")]
    assert len(snippets) == 1
    assert "embed=1" in snippets[0]


@pytest.mark.browser
def test_the_embed_view_in_a_600_by_400_frame(server, chromium):
    context = chromium.new_context(viewport={"width": 600, "height": 400})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/?lang=en&embed=1&city=Matamoros", wait_until="domcontentloaded")
        page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000
        )
        frame = map_frame(page)
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        frame.locator(".rm-legend").wait_for(timeout=30_000)
        title = frame.locator(".rm-title")
        title.wait_for(timeout=30_000)
        assert "Matamoros" in title.inner_text()
        assert "SYNTHETIC DATA" in title.inner_text()
        assert frame.locator(".rm-count, .rm-city, .marker-cluster").count() > 0
        # Nothing of the dashboard around it: no sidebar, no heading, no counts, no tabs.
        assert not page.locator("[data-testid='stSidebar']").is_visible()
        assert page.locator("h1").count() == 0
        assert page.locator("[data-testid='stMetric']").count() == 0
        assert page.locator("[data-testid='stTab']").count() == 0
        # The map and its link fit in the frame: nothing to scroll to.
        box = page.locator("iframe[title*='st_folium']").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 600
        assert box["y"] >= 0
        assert box["y"] + box["height"] <= 400
        assert box["width"] >= 560
        link = page.get_by_role("link", name="Open the full view", exact=False)
        link.wait_for(timeout=30_000)
        link_box = link.bounding_box()
        assert link_box is not None
        assert link_box["y"] + link_box["height"] <= 400
        href = link.get_attribute("href") or ""
        assert "embed" not in href
        assert "city=Matamoros" in href
        page.screenshot(path=str(ARTIFACTS / "embed_600x400.png"))
        assert not errors, errors
    finally:
        context.close()
