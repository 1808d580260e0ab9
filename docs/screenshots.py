"""Take the README's screenshots of the dashboard (Debian chromium, the sample store).

Run ``.venv/bin/python docs/screenshots.py`` from the checkout with ``make run``'s store built;
it starts ``streamlit run app.py`` on a free port, opens the first screen in English on a
1400 x 900 laptop and in Spanish on a 390 x 844 phone, and writes ``docs/*.png``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    """Serve the app, take both screenshots, stop the server."""
    port = _port()
    streamlit = Path(sys.executable).parent / "streamlit"
    server = subprocess.Popen(
        [str(streamlit), "run", "app.py", "--server.headless=true", f"--server.port={port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, lang, width, height in (
                ("screenshot_en.png", "en", 1400, 900),
                ("screenshot_es_phone.png", "es", 390, 844),
            ):
                phone = width < 640
                page = browser.new_page(
                    viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
                )
                page.goto(f"{url}/?lang={lang}")
                frame = page.frame_locator("iframe[title*='st_folium']")
                frame.locator(".rm-title").wait_for(timeout=60_000)
                page.wait_for_timeout(2500)  # the fit to the selection, then the tiles
                page.screenshot(path=str(ROOT / "docs" / name))
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
