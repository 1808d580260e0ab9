"""What a person waits for, in a real browser: page open → map drawn, filter change → map updated.

Run ``.venv/bin/python benchmarks/browser.py [--store PATH] [--runs 5]`` (``make bench-browser``)
from the checkout. It starts ``streamlit run app.py`` on a free port against the store, opens the
page once to warm the server's cache, then, ``--runs`` times, in a fresh browser context of
Debian's chromium:

- **open**: from ``page.goto`` to the map drawn (the map's title box is on the map, which
  happens once the incident layers are evaluated, after the base map);
- **filter**: from a click on "Involving children" to the map updated (the title box names the
  new filter: the layers were replaced).

It prints one JSON line with the medians, every run's figures and the machine's load, like
``benchmarks/run.py``. The browser shares the machine with the server, so both figures include
the browser's own work, as a person's would.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
MAP = "iframe[title*='st_folium']"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settled(page) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000
    )


def _one_run(browser, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.frame_locator(MAP).locator(".rm-title").wait_for(timeout=120_000)
        opened = time.perf_counter() - start
        _settled(page)
        checkbox = page.locator("[data-testid='stSidebar']").get_by_text("Involving children")
        start = time.perf_counter()
        checkbox.click()
        page.frame_locator(MAP).locator(".rm-title", has_text="Involving children").wait_for(
            timeout=120_000
        )
        filtered = time.perf_counter() - start
    finally:
        context.close()
    return {"open_s": round(opened, 3), "filter_s": round(filtered, 3)}


def main(argv: list[str] | None = None) -> int:
    """Serve the app on the store, time ``--runs`` visits, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/incidents.gpkg", help="incident store")
    parser.add_argument("--runs", type=int, default=5, help="timed visits (default 5)")
    args = parser.parse_args(argv)
    port = _port()
    streamlit = Path(sys.executable).parent / "streamlit"
    env = {**os.environ, "RISKMAP_STORE": str(Path(args.store).resolve())}
    server = subprocess.Popen(
        [str(streamlit), "run", "app.py", "--server.headless=true", f"--server.port={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/?lang=en"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            print("warm-up visit (fills the server's cache)", file=sys.stderr)
            _one_run(browser, url)
            runs = []
            for i in range(args.runs):
                runs.append(_one_run(browser, url))
                print(f"run {i + 1}: {runs[-1]}", file=sys.stderr)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        json.dumps(
            {
                "benchmark": "browser",
                "store": Path(args.store).name,
                "runs": len(runs),
                "open_to_map_median_s": statistics.median(r["open_s"] for r in runs),
                "filter_to_map_median_s": statistics.median(r["filter_s"] for r in runs),
                "each": runs,
                "load_1min": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
