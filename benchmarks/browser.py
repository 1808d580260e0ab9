"""What a person waits for, in a real browser: page open → map drawn, filter change → map updated.

Run ``.venv/bin/python benchmarks/browser.py [--store PATH | --sizes N ...] [--naive] [--runs 5]``
(``make bench-browser``; ``make bench-browser-sizes`` for 1k / 100k / 1M with the naive page)
from the checkout. For each store (``--sizes``: the synthetic stores of ``benchmarks/generate.py``)
it starts ``streamlit run app.py`` on a free port, opens the page once to warm the server's cache
(the first visit also builds the release and keeps it beside the store), then, ``--runs`` times,
in a fresh browser context (a new session) of Debian's chromium, timed once the new window is
idle (Chromium draws its own interface for a new window first, about 2.5 s of CPU here: a
person's browser is open before they follow a link):

- **open**: from ``page.goto`` to the map drawn (the map's title box is on the map, which
  happens once the incident layers are evaluated, after the base map);
- **filter**: from a click on "Involving children" to the map updated (the title box names the
  new filter: the layers were replaced).

It prints one JSON line per store and page with the medians, every run's figures, the server
process's peak resident memory (``VmHWM``: its high-water mark over the whole visit, first load
included) and the machine's load, like ``benchmarks/run.py``. With ``--naive`` the naive folium
page (``benchmarks/naive_app.py``: a marker and a popup per incident plus a heat map) is timed
the same way beside it, and with ``--floor`` the least page with a map
(``benchmarks/floor_app.py``: an empty map and one checkbox), this machine's floor for any
Streamlit page with a map component; a visit that does not finish within ``--timeout`` seconds
is recorded as ``timed_out`` and the page is not visited again on that store or a larger one.
The browser shares the machine with the server, so both figures include the browser's own work,
as a person's would.
Every page loads Leaflet from riskmap's vendored copies (no CDN) and nothing else leaves the
machine: other hosts fail at once (``--host-resolver-rules``), with no request interception.
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

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: Every host but this machine fails at once (map tiles: this machine has no network), without
#: intercepting requests: Playwright's request interception (``context.route``) sends every
#: request of the page through its driver and cost riskmap's page open 0.9 s of 2.8 s here
#: (``benchmarks/RESULTS.md``), time a person's browser does not spend.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
MAP = "iframe[title*='st_folium']"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settled(page, *, timeout_ms: float = 120_000) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )


def _chromium_cpu_s() -> float:
    """Return the CPU seconds used so far by every Chromium process on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            if "chromium" not in fields[0]:
                continue
            utime, stime = fields[1].split()[11:13]
            total += int(utime) + int(stime)
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
    return total / tick


def _browser_idle(*, timeout_s: float = 15.0, window_s: float = 0.25) -> float:
    """Wait until Chromium is idle (under 10 % of a core for two windows); return the wait.

    A new browser window draws Chromium's own interface in a renderer of its own (about 2.5 s
    of CPU on this 2-core machine): a person's browser is open before they follow a link, so
    the timed visit starts once that is done, for every page alike.
    """
    start = time.perf_counter()
    quiet = 0
    used = _chromium_cpu_s()
    while quiet < 2 and time.perf_counter() - start < timeout_s:
        time.sleep(window_s)
        now = _chromium_cpu_s()
        quiet = quiet + 1 if now - used < 0.1 * window_s else 0
        used = now
    return time.perf_counter() - start


def _one_run(browser, url: str, *, timeout_s: float, idle: bool = True) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    idle_s = _browser_idle() if idle else 0.0
    wait_ms = timeout_s * 1000
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=wait_ms)
        page.frame_locator(MAP).locator(".rm-title").wait_for(timeout=wait_ms)
        opened = time.perf_counter() - start
        _settled(page, timeout_ms=wait_ms)
        checkbox = page.locator("[data-testid='stSidebar']").get_by_text("Involving children")
        start = time.perf_counter()
        checkbox.click(timeout=wait_ms)
        # A page that redraws its map whole (naive, floor) holds the old frame for a moment.
        page.frame_locator(MAP).last.locator(".rm-title", has_text="Involving children").wait_for(
            timeout=wait_ms
        )
        filtered = time.perf_counter() - start
    finally:
        context.close()
    return {"open_s": round(opened, 3), "filter_s": round(filtered, 3), "idle_s": round(idle_s, 2)}


def _peak_rss_mb(pid: int) -> float | None:
    """Return the high-water mark of a process's resident memory (Linux ``VmHWM``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def measure(
    store: Path, *, page: str, runs: int, timeout_s: float, idle: bool = True
) -> dict[str, object]:
    """Serve ``page`` (``"riskmap"``, ``"naive"`` or ``"floor"``) on ``store``; time visits."""
    port = _port()
    streamlit = Path(sys.executable).parent / "streamlit"
    script = "app.py" if page == "riskmap" else str(Path("benchmarks", f"{page}_app.py"))
    env = {**os.environ, "RISKMAP_STORE": str(store.resolve())}
    server = subprocess.Popen(
        [str(streamlit), "run", script, "--server.headless=true", f"--server.port={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/?lang=en"
    result: dict[str, object] = {
        "benchmark": "browser",
        "page": page,
        "store": store.name,
        "window": "idle" if idle else "cold",
    }
    each: list[dict[str, float]] = []
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                print(f"{page} {store.name}: warm-up visit (fills the cache)", file=sys.stderr)
                start = time.perf_counter()
                # The first visit of a fresh server: reads (or builds) the release.
                first = _one_run(browser, url, timeout_s=max(timeout_s, 600), idle=idle)
                result["first_visit_s"] = round(time.perf_counter() - start, 1)
                result["first_open_s"] = first["open_s"]
                for i in range(runs):
                    each.append(_one_run(browser, url, timeout_s=timeout_s, idle=idle))
                    print(f"run {i + 1}: {each[-1]}", file=sys.stderr)
            except PlaywrightTimeout:
                first_limit = max(timeout_s, 600)
                result["timed_out"] = (
                    f"the first visit took more than {first_limit:.0f} s"
                    if "first_open_s" not in result
                    else f"a visit took more than {timeout_s:.0f} s"
                )
            finally:
                browser.close()
        result["server_peak_rss_mb"] = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a server still busy loading a store
            server.kill()
            server.wait()
    if each:
        result["open_to_map_median_s"] = statistics.median(r["open_s"] for r in each)
        result["filter_to_map_median_s"] = statistics.median(r["filter_s"] for r in each)
    result.update(
        {
            "runs": len(each),
            "each": each,
            "load_1min": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Serve the app (and the naive page) on each store, time visits, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/incidents.gpkg", help="incident store")
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="synthetic stores of N incidents instead of --store"
    )
    parser.add_argument("--naive", action="store_true", help="also time the naive folium page")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the least page with a map (benchmarks/floor_app.py): the machine's floor",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed visits (default 5)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a visit may take")
    parser.add_argument(
        "--cold-window",
        action="store_true",
        help="start each visit at once, while the new window is still drawn (the old method)",
    )
    args = parser.parse_args(argv)
    if args.sizes:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from generate import ensure_store

        stores = [ensure_store(n) for n in args.sizes]
    else:
        stores = [Path(args.store)]
    gave_up: dict[str, str] = {}  # a page that timed out is not visited on larger stores
    for store in sorted(stores, key=lambda p: p.stat().st_size):
        pages = ["riskmap", *(["naive"] if args.naive else []), *(["floor"] if args.floor else [])]
        for page in pages:
            if page in gave_up:
                line = {"benchmark": "browser", "page": page, "store": store.name}
                line["timed_out"] = f"not visited: timed out on the smaller {gave_up[page]}"
            else:
                line = measure(
                    store,
                    page=page,
                    runs=args.runs,
                    timeout_s=args.timeout,
                    idle=not args.cold_window,
                )
                if "timed_out" in line:
                    gave_up[page] = store.name
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
