"""Record -> approve -> public, in Debian's chromium, with real logins (a local OIDC provider).

One staff member records an incident in the workspace, a second approves it, and the public
page counts it. The server has its own copy of the sample store and k = 1, so the one new
incident is counted as soon as it is published. Under CI=true a missing browser fails the run.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import _free_port, login_secrets, map_frame, require_browser, serve_app
from test_login_real import _log_in, _open, _settled, _switch_on

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def workspace_server(
    tmp_path_factory: pytest.TempPathFactory, sample_store: Path, oidc_provider: str
) -> Iterator[str]:
    """Run ``streamlit run app.py`` with real login on a copy of the sample store (k = 1)."""
    from oidc_provider import ALLOWED

    require_browser()
    folder = tmp_path_factory.mktemp("workspace")
    store = folder / "incidents.gpkg"
    shutil.copyfile(sample_store, store)
    port = _free_port()
    url = f"http://localhost:{port}"
    secrets = login_secrets(
        folder / "secrets.toml",
        url=url,
        provider=oidc_provider,
        cookie_secret="a-long-random-test-secret-for-the-workspace-tests",
    )
    env = {"RISKMAP_STORE": str(store), "RISKMAP_ALLOWED_EMAILS": ALLOWED, "RISKMAP_MIN_CELL": "1"}
    with serve_app(
        env, log_path=folder / "streamlit.log", port=port, host="localhost", secrets=secrets
    ) as served:
        _STORES[served] = store
        yield served


#: The store each workspace server writes to, by its URL.
_STORES: dict[str, Path] = {}


def _incidents(page) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Incidents").first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def _staff_page(chromium, server: str, sub: str):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = _open(context, server, "/?lang=en")
    _log_in(page, server, sub)
    _switch_on(page)
    page.get_by_role("heading", name="Staff workspace").wait_for(timeout=60_000)
    return context, page


def _widget(main, testid: str, label: str):
    return main.locator(f"[data-testid='{testid}']").filter(has_text=label).first


def _pick(page, widget, option: str, *, typed: str | None = None) -> None:
    """Open a select widget and choose ``option`` (once more if a rerun closed the list).

    On a loaded machine the click can land while a rerun replaces the widget: the list never
    opens, or closes again before the option is clicked.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    choice = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):
        _settled(page)
        widget.click()
        if typed:
            page.keyboard.type(typed)
        try:
            choice.click(timeout=20_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def test_record_approve_and_the_public_page_counts_it(workspace_server, chromium):
    server = workspace_server
    public = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = _open(public, server, "/?lang=en")
    assert _incidents(page) == "46"

    # The first staff member records an incident, with the geocoder's suggestion.
    context, page = _staff_page(chromium, server, "staff")
    main = page.locator("[data-testid='stMain']")
    main.get_by_role("spinbutton", name="year, Date", exact=True).click()
    page.keyboard.type("20191203", delay=40)
    page.keyboard.press("Enter")
    _settled(page)
    _pick(page, _widget(main, "stMultiSelect", "Incident types"), "Kidnapping", typed="Kidnapping")
    page.keyboard.press("Escape")
    _pick(page, _widget(main, "stSelectbox", "City"), "Nuevo Laredo")
    _settled(page)
    where = main.get_by_label(re.compile("Place description"))
    where.fill("afuera de la centrl camionera")
    where.press("Enter")
    page.get_by_text("Did you mean Central Camionera de Nuevo Laredo?").wait_for(timeout=60_000)
    _settled(page)
    main.get_by_role("button", name="Save the record").click()
    saved = page.get_by_text(re.compile(r"Saved rec-[0-9a-f]+ \(in review\)"))
    saved.wait_for(timeout=60_000)
    # Her own record: she may not approve it.
    page.get_by_text("Review queue", exact=True).click()
    _settled(page)
    approve = main.get_by_role("button", name="Approve and publish")
    approve.wait_for(timeout=60_000)
    assert approve.is_disabled()
    context.close()

    page = _open(public, server, "/?lang=en")
    assert _incidents(page) == "46"

    # A second staff member approves it.
    context, page = _staff_page(chromium, server, "staff2")
    page.get_by_text("Review queue", exact=True).click()
    _settled(page)
    main = page.locator("[data-testid='stMain']")
    approve = main.get_by_role("button", name="Approve and publish")
    approve.wait_for(timeout=60_000)
    assert approve.is_enabled()
    approve.click()
    page.get_by_text(re.compile(r"approve done \(published\)")).wait_for(timeout=60_000)
    context.close()

    # The public page counts it.
    page = _open(public, server, "/?lang=en")
    assert _incidents(page) == "47"
    public.close()


def test_a_point_clicked_on_the_forms_map_places_the_record(workspace_server, chromium):
    from riskmap.store import open_store

    context, page = _staff_page(chromium, workspace_server, "staff")
    main = page.locator("[data-testid='stMain']")
    main.get_by_role("spinbutton", name="year, Date", exact=True).click()
    page.keyboard.type("20191205", delay=40)
    page.keyboard.press("Enter")
    _pick(page, _widget(main, "stMultiSelect", "Incident types"), "Extortion", typed="Extortion")
    page.keyboard.press("Escape")
    _pick(page, _widget(main, "stSelectbox", "City"), "Nuevo Laredo")
    _settled(page)
    # The form's map (360 px high; the dashboard's is 540) starts at the city: click in it.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shown = main.get_by_text(re.compile(r"Point on the map: 2[67]\.\d{6}, -99\.\d{6}"))
    for attempt in range(3):
        # Below the middle, away from the controls and the city's reference places; once more
        # if the map was not ready for the click (a loaded machine).
        container = map_frame(page, "iframe[title*='st_folium'][height='360']").locator(
            ".leaflet-container"
        )
        container.wait_for(timeout=60_000)
        box = container.bounding_box()
        container.click(position={"x": box["width"] * 0.4, "y": box["height"] * 0.7})
        try:
            shown.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    lat, lon = (float(v) for v in shown.inner_text().split(": ", 1)[1].split(", "))
    _settled(page)
    main.get_by_role("button", name="Save the record").click()
    saved = page.get_by_text(re.compile(r"Saved (rec-[0-9a-f]+) \(in review\)"))
    saved.wait_for(timeout=60_000)
    incident = re.search(r"rec-[0-9a-f]+", saved.inner_text()).group(0)
    context.close()
    rows = open_store(_STORES[workspace_server]).read(versions=True).set_index("incident_id")
    row = rows.loc[incident]
    assert (round(row["lat"], 6), round(row["lon"], 6)) == (lat, lon)
    assert row["geo_precision"] == "neighborhood"
    assert row["status"] == "in_review"
