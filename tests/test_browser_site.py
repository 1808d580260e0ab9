"""The static public site in a real browser: Debian's chromium through playwright, against the
folder `riskmap site` writes, served by Python's http.server on a free port (no riskmap code
runs while the pages are viewed). Tile requests are answered by nobody: the test is offline,
and it checks that tiles are the only requests that would leave the host."""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

from riskmap.cli import main
from riskmap.filters import Filters
from riskmap.geo.gazetteer import load_places
from riskmap.release.audience import Audience
from riskmap.release.cache import load_release
from riskmap.release.privacy import pseudonym_key
from riskmap.settings import Settings
from riskmap.views import site
from riskmap.views.export import export
from riskmap.views.i18n import LANGUAGES, t

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: A tile of the basemap (maps.TILES_URL): the one kind of request allowed off the host.
TILE = re.compile(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png")

pytestmark = pytest.mark.browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory, sample_store) -> Iterator[tuple[str, Path]]:
    """Build the site of a copy of the sample store and serve it on a free local port."""
    folder = tmp_path_factory.mktemp("site-browser")
    store = Path(shutil.copyfile(sample_store, folder / "incidents.gpkg"))
    out = folder / "public_site"
    assert main(["site", "--store", str(store), "-o", str(out)]) == 0
    handler = functools.partial(_Quiet, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def context(chromium, served) -> Iterator[tuple[object, list[str]]]:
    """A browser context whose requests are recorded; only the local server answers."""
    url, _ = served
    local = urlparse(url).netloc
    seen: list[str] = []
    ctx = chromium.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)

    def route(request_route) -> None:
        seen.append(request_route.request.url)
        if urlparse(request_route.request.url).netloc == local:
            request_route.continue_()
        else:  # tiles (and anything else) never leave the machine in a test
            request_route.abort()

    ctx.route("**/*", route)
    try:
        yield ctx, seen
    finally:
        ctx.close()


def _open(ctx, address: str):
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(address, wait_until="load")
    page.wait_for_selector(".leaflet-container .rm-legend", timeout=60_000)
    # Leaflet markers: counts at sites, badges by city (clusters at low zoom); and tiles asked.
    page.wait_for_selector(".leaflet-marker-icon", timeout=60_000)
    page.wait_for_selector("img.leaflet-tile", state="attached", timeout=60_000)
    return page, errors


def test_every_page_draws_its_map_and_only_tiles_leave_the_host(served, context):
    url, _ = served
    ctx, seen = context
    listing = json.loads(ctx.request.get(f"{url}/{site.SITE_MANIFEST}").body())
    front = ctx.new_page()
    front.goto(f"{url}/", wait_until="load")
    assert len(front.locator("a").all()) == len(listing["pages"])
    for path in listing["pages"]:
        page, errors = _open(ctx, f"{url}/{path}")
        lang = path.split("/")[0]
        assert page.locator(".leaflet-marker-icon").count() > 0, path
        assert page.locator(".rm-count, .rm-city, .rm-cluster").count() > 0, path
        assert t("synthetic_short", lang) in page.locator(".rm-title").inner_text(), path
        assert page.locator(".rm-banner").inner_text() == t("synthetic_banner", lang), path
        assert page.locator(".rm-figure").count() > 0, path
        if path == "en/index.html":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "site_en.png"), full_page=True)
        assert not errors, (path, errors)
        page.close()
    outside = [u for u in seen if urlparse(u).netloc != urlparse(url).netloc]
    assert outside, "the maps asked for no tile"
    assert [u for u in outside if not TILE.fullmatch(u)] == []


def _fetch(page, address: str) -> bytes:
    """Fetch ``address`` from inside the page (through the browser, as a visitor would)."""
    data = page.evaluate(
        "async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", address
    )
    return bytes(data)


def test_the_download_links_give_the_public_release(served, context):
    url, store = served
    ctx, _ = context
    settings = Settings.from_env({})
    places = load_places()
    key = pseudonym_key(settings, store=store)
    release = load_release(store, places=places, settings=settings, key=key)
    audience = Audience.from_release(release, places=places, settings=settings)
    when = site.release_time(audience)
    for lang in LANGUAGES:
        page, _ = _open(ctx, f"{url}/{lang}/index.html")
        for fmt in site.FORMATS:
            expected = export(
                audience, filters=Filters(), fmt=fmt, lang=lang, headers=lang, generated_at=when
            ).package_files(path=site.data_name(audience, fmt))
            links = page.locator(f"a[data-format='{fmt}']")
            assert links.count() == 3
            # The data file: a click downloads it.
            with page.expect_download(timeout=30_000) as info:
                links.nth(0).click()
            download = info.value
            assert download.suggested_filename == site.data_name(audience, fmt)
            assert Path(download.path()).read_bytes() == expected[download.suggested_filename]
            # Its manifest and data package: what the links fetch is what the export writes.
            for i in (1, 2):
                address = links.nth(i).evaluate("a => a.href")
                name = address.rsplit("/", 1)[-1]
                assert _fetch(page, address) == expected[name], (lang, name)
        page.close()
