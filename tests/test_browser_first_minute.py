"""The first minute, in Debian's chromium: the map in the first screen of a phone and a laptop,
typed dates that apply, links that reopen the same view in a fresh browser, layer switches that
hold, and protected places said in words. Under CI=true a missing browser fails the run."""

from __future__ import annotations

import re

import pytest
from conftest import MAP_FRAME, map_frame
from test_browser import ARTIFACTS, _settled, _wait_for_app

pytestmark = pytest.mark.browser

NUEVO_LAREDO = (27.4995, -99.5075)
MATAMOROS = (25.8795, -97.5045)


def _open(chromium, url: str, *, width: int = 1400, height: int = 900, map_tab: bool = True):
    phone = width < 640
    context = chromium.new_context(
        viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    _wait_for_app(page)
    if map_tab:  # the map is drawn in the open tab
        map_frame(page).locator(".leaflet-container").wait_for(timeout=60_000)
    return context, page


def _leaflet(page, expression: str):
    """Evaluate ``expression`` (with ``map``, the Leaflet map) inside the map's iframe."""
    map_frame(page)  # one measured map frame
    frame = page.locator(MAP_FRAME).first.element_handle().content_frame()
    frame.wait_for_function("() => window.map && window.map._loaded", timeout=60_000)
    return frame.evaluate(f"() => {{ const map = window.map; return {expression}; }}")


def _after_a_rerun(page, action) -> None:
    """Do ``action`` and return once the script run it started is over (not before it began).

    The root element's script state is watched from before the action. A run fast enough for
    the browser to draw "running" and "not running" at once leaves no trace there; after 3 s
    without a trace, the page is read once it is not running.
    """
    page.evaluate(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            window.rmRuns = 0;
            window.rmSince = performance.now();
            new MutationObserver((records) => { window.rmRuns += records.length; })
                .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
        }"""
    )
    action()
    page.wait_for_function(
        "() => window.rmRuns > 0 || performance.now() - window.rmSince > 3000", timeout=30_000
    )
    _settled(page)


def _metric(page, name: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=name).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def _wait_for_metric_change(page, name: str, before: str) -> str:
    page.wait_for_function(
        "([n, b]) => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".find(e => e.innerText.includes(n)); "
        "return m && m.querySelector('[data-testid=stMetricValue]').innerText !== b; }",
        arg=[name, before],
        timeout=30_000,
    )
    _settled(page)
    return _metric(page, name)


def _heat_drawn(page) -> bool:
    return bool(_leaflet(page, "document.querySelectorAll('canvas.leaflet-heatmap-layer').length"))


@pytest.mark.parametrize(
    ("width", "height", "lang", "synthetic"),
    [(390, 844, "es", "DATOS SINTÉTICOS"), (1400, 900, "en", "SYNTHETIC DATA")],
)
def test_the_map_is_in_the_first_screen(server, chromium, width, height, lang, synthetic):
    context, page = _open(chromium, f"{server}/?lang={lang}", width=width, height=height)
    try:
        # Both cities fit the map at its real size in the browser.
        page.wait_for_url(re.compile(r"map="), timeout=30_000)
        for lat, lon in (NUEVO_LAREDO, MATAMOROS):
            assert _leaflet(page, f"map.getBounds().contains([{lat}, {lon}])"), (lat, lon)
        assert page.evaluate("window.scrollY") == 0
        box = page.locator("iframe[title*='st_folium']").bounding_box()
        # At least 250 px of the map are on the first screen, with no scrolling.
        assert box["y"] + 250 <= height, box
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # The legend starts folded on a phone and open on a laptop; the title box says what
        # is shown and that the data are synthetic (it stays in full screen and screenshots).
        frame = map_frame(page)
        assert frame.locator(".rm-legend details").evaluate("d => d.open") is (width >= 640)
        title = frame.locator(".rm-title").inner_text()
        assert synthetic in title
        assert re.search(r"2020-01-\d\d", title)  # the data's last day
        page.screenshot(path=str(ARTIFACTS / f"first_screen_{lang}_{width}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("commit", ["Enter", "Tab"])
def test_a_typed_range_applies_and_dates_beyond_the_data_are_trimmed(server, chromium, commit):
    context, page = _open(
        chromium, f"{server}/?lang=en&period=custom&from=2019-11-01&to=2019-11-30"
    )
    try:
        before = _metric(page, "Incidents")
        page.get_by_role("spinbutton", name="year, Date range start date").click()
        page.keyboard.type("20200101", delay=40)
        page.keyboard.press("Tab")
        page.keyboard.type("20200215", delay=40)
        page.keyboard.press(commit)
        if commit == "Tab":  # from the last segment to the calendar button, then out
            page.keyboard.press("Tab")
        after = _wait_for_metric_change(page, "Incidents", before)
        assert int(after) != int(before)
        page.wait_for_url(re.compile(r"from=2020-01-01.*to=2020-02-15|to=2020-02-15.*from="))
        # The data end in January: the page says the range was trimmed, and the summary line
        # shows what is applied.
        page.get_by_text("the range shown is trimmed to them").wait_for(timeout=30_000)
        assert page.get_by_text(re.compile(r"Custom range \(2020-01-01 – 2020-01-3\d\)")).count()
    finally:
        context.close()


def test_the_period_is_chosen_with_one_click_and_a_month_in_its_own_field(server, chromium):
    context, page = _open(chromium, f"{server}/?lang=en")
    try:
        # Streamlit draws the choices as a radio group (role "radio", named by their words).
        period = page.locator("[data-testid='stSidebar'] [role='radiogroup'][aria-label='Period']")
        sidebar = page.locator("[data-testid='stSidebar']")
        before = _metric(page, "Incidents")
        period.get_by_role("radio", name="30 days", exact=True).click()
        page.wait_for_url(re.compile(r"period=last30"), timeout=30_000)
        last30 = _wait_for_metric_change(page, "Incidents", before)
        assert int(last30) < int(before)
        # "Month" opens on the data's latest month, with a field to pick another.
        period.get_by_role("radio", name="Month", exact=True).click()
        page.wait_for_url(re.compile(r"period=2020-01"), timeout=30_000)
        _settled(page)
        field = sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Month")
        field.click()
        page.get_by_role("option", name="December 2019").click()
        page.wait_for_url(re.compile(r"period=2019-12"), timeout=30_000)
        _settled(page)
        assert page.get_by_text(re.compile(r"Showing: December 2019 \(2019-12-01")).count()
        # Clicking the chosen span again keeps it (a segmented control would clear it). The
        # click clears it in the browser and reruns the page, which chooses it again: read the
        # control once that rerun is over.
        _after_a_rerun(page, period.get_by_role("radio", name="Month", exact=True).click)
        assert "period=2019-12" in page.url
        assert field.count() == 1
        month = period.get_by_role("radio", name="Month", exact=True)
        assert month.get_attribute("aria-checked") == "true"
        # "All" takes the month field away and shows every incident again.
        period.get_by_role("radio", name="All", exact=True).click()
        page.wait_for_url(lambda url: "period=" not in url, timeout=30_000)
        _settled(page)
        assert field.count() == 0
        assert _metric(page, "Incidents") == before
    finally:
        context.close()


def test_a_link_reopens_the_same_view_in_a_fresh_browser(server, chromium):
    context, page = _open(chromium, f"{server}/?lang=en&period=last90")
    try:
        assert _heat_drawn(page)
        page.get_by_role("button", name="Heatmap").click()
        page.wait_for_url(re.compile(r"hide=heat"), timeout=30_000)
        _settled(page)
        assert not _heat_drawn(page)
        _leaflet(page, "(map.setView([25.8795, -97.5045], 12), 1)")
        page.wait_for_url(re.compile(r"map=12%2F25\.87"), timeout=30_000)
        page.get_by_role("tab", name="Hotspots").click()
        page.wait_for_url(re.compile(r"tab=hotspots"), timeout=30_000)
        _settled(page)
        link = page.url
        assert "period=last90" in link
        assert "from=" not in link
    finally:
        context.close()

    context, page = _open(chromium, link, width=1200, height=900, map_tab=False)
    try:
        assert page.get_by_role("tab", name="Hotspots").get_attribute("aria-selected") == "true"
        assert page.get_by_text(re.compile(r"Showing: Last 90 days of the data \(")).count()
        _settled(page)
        # Opening the link changed nothing in it.
        assert sorted(page.url.split("?")[1].split("&")) == sorted(link.split("?")[1].split("&"))
        # The map, when its tab is opened, is where the link put it, without the heatmap.
        page.get_by_role("tab", name="Map").click()
        map_frame(page).locator(".leaflet-container").wait_for(timeout=60_000)
        _settled(page)
        assert _leaflet(page, "map.getZoom()") == 12
        lat, lon = _leaflet(page, "[map.getCenter().lat, map.getCenter().lng]")
        assert abs(lat - 25.8795) < 0.001
        assert abs(lon + 97.5045) < 0.001
        assert not _heat_drawn(page)
    finally:
        context.close()


def test_layer_switches_and_the_view_survive_filters_and_languages(server, chromium):
    context, page = _open(chromium, f"{server}/?lang=en")
    try:
        page.get_by_role("button", name="Heatmap").click()
        page.wait_for_url(re.compile(r"hide=heat"), timeout=30_000)
        _settled(page)
        before = _metric(page, "Incidents")
        page.locator("[data-testid='stSidebar']").get_by_text("Involving children").click()
        _wait_for_metric_change(page, "Incidents", before)
        assert "hide=heat" in page.url
        assert not _heat_drawn(page)
        # A moved map keeps its view through a language switch (a new map is drawn).
        _leaflet(page, "(map.setView([27.4995, -99.5075], 11), 1)")
        page.wait_for_url(re.compile(r"map=11%2F27\.4"), timeout=30_000)
        _settled(page)
        page.locator("[data-testid='stSidebar']").get_by_text("Español").click()
        page.get_by_role("tab", name="Mapa").wait_for(timeout=30_000)
        _settled(page)
        map_frame(page).locator(".leaflet-container").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert _leaflet(page, "map.getZoom()") == 11
        assert not _heat_drawn(page)
        assert "hide=heat" in page.url
        assert "lang=es" in page.url
    finally:
        context.close()


def test_a_protected_kind_of_place_is_said_so_not_zero(server, chromium):
    context, page = _open(chromium, f"{server}/?lang=en&place=camp")
    try:
        note = page.get_by_text("are protected: the public view counts them only in their city")
        note.first.wait_for(timeout=30_000)
        assert not page.get_by_text("No incident matches these filters.").first.is_visible()
    finally:
        context.close()
