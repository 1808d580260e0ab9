"""The dashboard in a real browser: Debian's chromium through playwright, against
`streamlit run app.py` on a free port. Under CI=true a missing browser fails the run."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import map_frame

from riskmap.release.public import ROW_COLUMNS, TYPE_GROUPS
from riskmap.settings import Settings

K = Settings().min_cell
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.browser


def _settled(page, timeout=90_000):
    """Wait until the app's script run has finished (Streamlit marks its root element)."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def _wait_for_app(page, timeout=90_000):
    page.wait_for_selector("[data-testid='stMetric']", timeout=timeout)
    _settled(page, timeout)


def _download(page, label: str) -> bytes:
    """Click a download button and return the file (once more if a loaded machine drops it).

    The file is written on click, in a rerun: under load the first click can land while the
    button is being replaced.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    button = page.get_by_role("button", name=label)
    for attempt in range(3):
        # Streamlit disables every widget while its connection to the server is being
        # re-established (a loaded machine can drop the websocket): wait for the page to be
        # settled and the button enabled before clicking, rather than for the click's own 30 s.
        _settled(page)
        try:
            expect(button).to_be_enabled(timeout=60_000)
            with page.expect_download(timeout=45_000) as info:
                button.click(timeout=30_000)
            return Path(info.value.path()).read_bytes()
        except (PlaywrightTimeout, AssertionError) as error:
            if attempt < 2 and button.count() == 1 and button.is_disabled():
                # Disabled all along: the page lost its connection to the server and has not
                # won it back (a loaded machine). Its address reopens the same view.
                page.reload(wait_until="domcontentloaded")
                _wait_for_app(page)
                continue
            if attempt == 2:
                status = page.locator("[data-testid='stStatusWidget']").all_inner_texts()
                page.screenshot(path=str(ARTIFACTS / "download_failed.png"))
                raise AssertionError(f"{label!r} not downloaded; status widget {status}") from error
    raise AssertionError("unreachable")


def test_leaflet_map_renders_in_the_component(server, browser_page):
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    _wait_for_app(page)
    frame = map_frame(page)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    # Reference places and incident markers are drawn; the legend is there.
    frame.locator(".rm-ref").first.wait_for(timeout=30_000)
    frame.locator(".rm-legend").wait_for(timeout=30_000)
    assert frame.locator(".rm-count, .marker-cluster").count() > 0
    assert page.get_by_text("SYNTHETIC DATA").count() > 0
    page.screenshot(path=str(ARTIFACTS / "app_en.png"), full_page=False)
    assert not errors, errors


def test_filter_updates_counts_and_download_matches(server, browser_page):
    page = browser_page
    page.goto(
        f"{server}/?lang=en&type=kidnapping&from=2019-12-01&to=2019-12-31",
        wait_until="domcontentloaded",
    )
    _wait_for_app(page)
    frame = map_frame(page)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    # The count the page settles on (once the map's first report has been answered as well).
    _settled(page)
    incidents = page.locator("[data-testid='stMetric']").filter(has_text="Incidents").first
    value = incidents.locator("[data-testid='stMetricValue']").inner_text()
    page.get_by_role("tab", name="Data").click()
    _settled(page)
    data = _download(page, "Download CSV")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    # A public selection holds 0 or at least k rows, and the count shown is the rows'.
    assert len(rows) >= K
    assert str(len(rows)) == value
    assert list(rows.columns) == list(ROW_COLUMNS)
    # Each row shows kidnapping, or its group where the release generalised the types.
    types = rows["incident_types"].str.split("|")
    exact = rows["type_precision"] == "exact"
    assert types[exact].map(lambda t: "kidnapping" in t).all()
    assert types[~exact].map(lambda t: TYPE_GROUPS["kidnapping"] in t).all()
    # Each row's shown period overlaps December 2019.
    assert (pd.to_datetime(rows["date"]) <= "2019-12-31").all()
    assert (pd.to_datetime(rows["date_end"]) >= "2019-12-01").all()
    page.screenshot(path=str(ARTIFACTS / "app_filtered.png"))


def test_changing_a_filter_in_the_page_updates_the_counts(server, browser_page):
    page = browser_page
    page.goto(f"{server}/?lang=es", wait_until="domcontentloaded")
    _wait_for_app(page)
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Incidentes").first
    before = metric.locator("[data-testid='stMetricValue']").inner_text()
    map_frame(page).locator(".leaflet-container").wait_for(timeout=60_000)
    iframe = page.locator("iframe[title*='st_folium']").element_handle()
    page.locator("[data-testid='stSidebar']").get_by_text("Con menores afectados").click()
    # A number other than the one before (not a value shown while the page is redrawn), then
    # the value once the run is over: what the page settles on is what is checked.
    page.wait_for_function(
        "(b) => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".find(e => e.innerText.includes('Incidentes')); "
        "const v = m && m.querySelector('[data-testid=stMetricValue]');"
        "const t = v ? v.innerText.trim() : ''; return /^[0-9]+$/.test(t) && t !== b; }",
        arg=before,
        timeout=30_000,
    )
    _settled(page)
    after = metric.locator("[data-testid='stMetricValue']").inner_text()
    assert int(after) < int(before)
    assert "children=1" in page.url
    # The map's layers were swapped in place: the same iframe, never remounted (no blank flash).
    assert iframe.evaluate("e => e.isConnected")
    map_frame(page).locator(".leaflet-container").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "app_es.png"))
    # The download holds exactly the rows counted (once the rerun has replaced the old page).
    _settled(page)
    page.wait_for_function("document.querySelectorAll('[data-testid=stTab]').length === 5")
    page.get_by_role("tab", name="Datos").click()
    _settled(page)
    rows = pd.read_csv(io.BytesIO(_download(page, "Descargar CSV")), encoding="utf-8-sig")
    assert len(rows) == int(after) >= K
    # Public rows show whether children were affected, never how many.
    assert "children" not in rows.columns
    assert rows["children_affected"].astype(bool).all()


def test_the_table_offers_no_download_of_its_own(server, browser_page):
    page = browser_page
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    _wait_for_app(page)
    # The release guarantee is stated on the page.
    assert page.get_by_text(f"is 0 or at least {K}", exact=False).count() > 0
    page.get_by_role("tab", name="Data").click()
    _settled(page)
    table = page.locator("[data-testid='stDataFrame']:visible").first
    table.wait_for(timeout=30_000)
    table.hover()
    toolbar = page.locator("[data-testid='stElementToolbar']:visible").first
    toolbar.wait_for(timeout=30_000)
    buttons = toolbar.locator("button")
    labels = [buttons.nth(i).get_attribute("aria-label") or "" for i in range(buttons.count())]
    assert labels, "the table's toolbar shows no button"
    # Streamlit's own CSV download would bypass the formula guard and the manifest: only the
    # app's download buttons remain.
    assert not [name for name in labels if "download" in name.lower()], labels
    assert page.get_by_role("button", name="Download CSV").count() == 1


def test_hotspot_cards_read_on_a_phone_in_spanish(server, browser_page, places):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/?lang=es", wait_until="domcontentloaded")
    _wait_for_app(page)
    page.get_by_role("tab", name="Puntos de riesgo").click()
    _settled(page)
    name_es = places.set_index("place_id").loc["nld_bridge_2", "name_es"]
    card = page.get_by_text(name_es).first
    card.wait_for(timeout=30_000)
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    assert box is not None
    # The card's text wraps inside the phone's width: nothing to scroll sideways for.
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_text("intervalo 95%").count() > 0
    page.screenshot(path=str(ARTIFACTS / "hotspots_phone_es.png"))
