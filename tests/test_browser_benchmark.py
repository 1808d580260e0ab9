"""The browser benchmark's own pages in a real browser (Debian's chromium through playwright).

``benchmarks/browser.py`` times riskmap beside the least page with a map (the floor) and the
naive folium page. Its figures mean something only if those pages draw their map as the
benchmark waits for it, with Leaflet from riskmap's vendored copies and no request leaving the
machine but map tiles: the benchmark intercepts no request, so a page that needed a CDN would
never draw.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT, serve_app

sys.path.insert(0, str(ROOT / "benchmarks"))

import browser as bench  # noqa: E402

pytestmark = pytest.mark.browser

#: The naive page's basemap (folium's default): the one kind of request allowed off the host.
TILE = re.compile(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png")


@pytest.mark.parametrize("page", ["floor", "naive"])
def test_a_benchmark_page_draws_its_map_from_this_machine_alone(
    chromium, sample_store, tmp_path, page
):
    env = {"RISKMAP_STORE": str(sample_store)}
    script = str(Path("benchmarks", f"{page}_app.py"))
    with serve_app(env, log_path=tmp_path / "streamlit.log", script=script) as url:
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        requests: list[str] = []
        failed: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        context.on("requestfailed", lambda r: failed.append(r.url))
        try:
            tab = context.new_page()
            tab.goto(url, wait_until="commit")
            tab.frame_locator(bench.MAP).locator(".rm-title").wait_for(timeout=60_000)
            leaflet = tab.frame_locator(bench.MAP).locator(".leaflet-container")
            assert leaflet.count() == 1
            bench._settled(tab, timeout_ms=60_000)
            checkbox = tab.locator("[data-testid='stSidebar']").get_by_text("Involving children")
            checkbox.click()
            tab.frame_locator(bench.MAP).last.locator(
                ".rm-title", has_text="Involving children"
            ).wait_for(timeout=60_000)
        finally:
            context.close()
    served = urlparse(url).netloc
    assert any("/app/static/vendor/riskmap-leaflet.js" in r for r in requests)
    here = [r for r in requests if urlparse(r).netloc in {served, ""}]
    assert [r for r in requests if r not in here and not TILE.fullmatch(r)] == []
    assert [r for r in failed if r in here] == []
