"""Scaling out: two ``streamlit run app.py`` processes on one PostGIS store, behind a proxy.

A throwaway PostgreSQL/PostGIS cluster holds the sample (published through the CLI). Two app
processes (A and B) serve it on two free ports, with the same settings and secrets, behind a
tiny reverse proxy with cookie stickiness (:class:`StickyProxy`, the part nginx or Caddy plays
in production): a browser's first response sets a cookie naming its process, and every later
request and websocket of that browser goes there. Staff log in for real (the local OpenID
Connect provider of ``oidc_provider.py``), through the proxy's one address:

- a member of staff pinned to A records an incident in A's workspace (in review);
- the public page served by B does not show it;
- a second member of staff pinned to B approves it in B's review queue;
- the public page served by B, and the one served by A, show one incident more, without
  restarting either process (each rerun checks the store's version);
- *Log out everywhere* through A ends the approver's open restricted tab on B (the sign-outs
  of a PostGIS store are a file in ``data/`` of the working folder both processes share).

The public count is read at k = 1 (``RISKMAP_MIN_CELL=1``), so the one new incident is counted
as soon as it is published. Under CI=true a missing browser, server or provider fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, _free_port, _stop, _wait_until_served, require_browser

pytestmark = pytest.mark.browser

SAMPLE = ROOT / "riskmap" / "data" / "sample_incidents.csv"
#: The staff of this test, by the provider's subject: one records, the other approves.
RECORDER, APPROVER = "staff", "staff2"
PUBLISHER = "sample@riskmap.invalid"
COOKIE = "riskmap_backend"


@dataclass
class StickyProxy:
    """A reverse proxy on ``127.0.0.1`` that keeps each browser on one backend, by a cookie.

    The first request of a connection picks the backend: the one its ``riskmap_backend``
    cookie names, else the next in turn (and the first response then sets the cookie). The
    rest of the connection, a websocket upgrade included, is piped as bytes, with the
    ``Host`` header untouched: the backends see the proxy's address, as behind nginx.
    """

    backends: dict[str, int]
    #: (backend, request line) of every connection's first request, in order.
    routed: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(sorted(self.backends))
        self._loop = asyncio.new_event_loop()
        self.port = 0

    def start(self) -> int:
        """Start serving in a background thread; return the port."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            pytest.fail("the test proxy did not start")
        return self.port

    def stop(self) -> None:
        """Stop serving; open connections are dropped."""
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        try:
            self._loop.run_until_complete(self._serve(ready))
        finally:
            self._loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self._stopped.wait()
        server.close()
        connections = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream, tasks = None, []
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            found = re.search(rb"(?im)^cookie:.*\b" + COOKIE.encode() + rb"=(\w+)", head)
            chosen = found.group(1).decode() if found else None
            name = chosen if chosen in self.backends else next(self._turn)
            self.routed.append((name, head.split(b"\r\n", 1)[0].decode("latin-1")))
            up_reader, upstream = await asyncio.open_connection("127.0.0.1", self.backends[name])
            upstream.write(head)

            async def back() -> None:
                if chosen != name:
                    answer = await up_reader.readuntil(b"\r\n\r\n")
                    cookie = f"Set-Cookie: {COOKIE}={name}; Path=/; HttpOnly\r\n\r\n"
                    writer.write(answer[:-2] + cookie.encode())
                await _pipe(up_reader, writer)

            tasks = [asyncio.ensure_future(_pipe(reader, upstream)), asyncio.ensure_future(back())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for w in (writer, upstream):
                if w is not None:
                    with contextlib.suppress(OSError, RuntimeError):
                        w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


@pytest.fixture
def published_store(postgis_url: str, tmp_path: Path) -> str:
    """A PostGIS database holding the sample, imported and published through the CLI."""
    riskmap = shutil.which("riskmap", path=str(Path(sys.executable).parent)) or "riskmap"
    done = subprocess.run(
        [riskmap, "import", str(SAMPLE), "--store", postgis_url, "--publish", "--as", PUBLISHER],
        env={**os.environ, "RISKMAP_PUBLISHERS": PUBLISHER},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "46 imported" in done.stdout + done.stderr
    return postgis_url


@pytest.fixture
def two_apps(tmp_path: Path, published_store: str, oidc_provider: str) -> Iterator[dict]:
    """Run processes A and B of the app on one store behind :class:`StickyProxy`.

    Both get the same environment (store URL, pseudonym key, allow-list) and the same secrets
    file (one ``redirect_uri``, the proxy's, and one ``cookie_secret``).
    """
    from oidc_provider import ALLOWED

    require_browser()
    ports = {"a": _free_port(), "b": _free_port()}
    proxy = StickyProxy(ports)
    url = f"http://localhost:{proxy.start()}"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "a-long-random-test-secret-shared-by-every-process"\n'
        'client_id = "riskmap-tests"\n'
        'client_secret = "riskmap-tests-secret"\n'
        f'server_metadata_url = "{oidc_provider}"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "RISKMAP_STORE": published_store,
        "RISKMAP_PSEUDONYM_KEY": "a-pseudonym-key-shared-by-every-process",
        "RISKMAP_ALLOWED_EMAILS": ALLOWED,
        "RISKMAP_MIN_CELL": "1",
        # An idle restricted tab checks for sign-outs every few seconds (30 by default).
        "RISKMAP_SESSION_CHECK_SECONDS": "3",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    # Both run from one working folder (its data/ holds the sign-outs of a PostGIS store), a
    # fresh one, so nothing is left in the checkout; it gets the checkout's Streamlit config.
    folder = tmp_path / "work"
    (folder / ".streamlit").mkdir(parents=True)
    shutil.copyfile(ROOT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    procs, logs = [], []
    try:
        for name, port in ports.items():
            log_path = tmp_path / f"streamlit-{name}.log"
            log = log_path.open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        streamlit,
                        "run",
                        str(ROOT / "app.py"),
                        "--server.headless=true",
                        f"--server.port={port}",
                        "--server.address=127.0.0.1",
                        f"--secrets.files={secrets}",
                    ],
                    cwd=folder,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_until_served(f"http://127.0.0.1:{port}", procs[-1], log, log_path)
        yield {"url": url, "proxy": proxy, "procs": procs, "folder": folder}
    finally:
        for proc in procs:
            _stop(proc)
        for log in logs:
            log.close()
        proxy.stop()


def _settled(page, timeout=90_000):
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def _wait_for_app(page, timeout=90_000):
    page.wait_for_selector("[data-testid='stMetric']", timeout=timeout)
    _settled(page, timeout)


def _browser(chromium, url: str, backend: str):
    """Return a new browser (context) whose cookie pins it to ``backend``."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": backend, "url": url}])
    return context


def _incidents(page) -> int:
    """Return the public headline count of incidents on the open page."""
    _wait_for_app(page)
    for metric in page.locator("[data-testid='stMetric']").all():
        label = metric.locator("[data-testid='stMetricLabel']").inner_text().strip()
        if label == "Incidents":
            value = metric.locator("[data-testid='stMetricValue']").inner_text()
            return int(value.replace(",", "").strip())
    raise AssertionError("no Incidents metric on the page")


def _public_count(context, url: str) -> int:
    page = context.new_page()
    page.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
    count = _incidents(page)
    page.close()
    return count


def _log_in(page, url: str, sub: str) -> None:
    """Log in as the provider's user ``sub`` (a click dropped by a rerun is tried again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        page.get_by_role("button", name="Log in (staff)").click()
        try:
            page.wait_for_url("**/oauth2/authorize**", timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            _wait_for_app(page)
    page.locator(f"button[name='sub'][value='{sub}']").click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.get_by_role("button", name="Log out", exact=True).wait_for(timeout=90_000)
    _wait_for_app(page)


def _staff_workspace(context, url: str, sub: str):
    """Open the app, log in as ``sub`` and switch the restricted view (and workspace) on."""
    page = context.new_page()
    page.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
    _wait_for_app(page)
    _log_in(page, url, sub)
    page.get_by_text("Restricted view", exact=True).click()
    page.get_by_text("Restricted view: exact locations").wait_for(timeout=60_000)
    page.locator(".st-key-ws_save").wait_for(timeout=60_000)
    _settled(page)
    return page


def _choose(page, key: str, text: str) -> None:
    """Pick ``text`` in the select box or multiselect keyed ``key``."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.press_sequentially(text)
    page.locator("[role='option']").filter(has_text=text).first.click()
    page.keyboard.press("Escape")
    _settled(page)


def _record(page) -> str:
    """Fill the record form, save it; return the new incident's id."""
    # The date field is three spin buttons (year, month, day), typed through in one go.
    page.locator(".st-key-ws_date [data-type='year']").click()
    page.keyboard.type("20191203")
    page.keyboard.press("Tab")
    _settled(page)
    _choose(page, "ws_types__en", "Kidnapping")
    _choose(page, "ws_city", "Nuevo Laredo")
    location = page.locator(".st-key-ws_location input")
    location.fill("afuera de la central camionera")
    location.press("Enter")
    page.get_by_text("Did you mean Central Camionera de Nuevo Laredo?").wait_for(timeout=60_000)
    _settled(page)
    page.locator(".st-key-ws_save button").click()
    saved = page.get_by_text(re.compile(r"Saved \S+ \(in review\)"))
    saved.wait_for(timeout=90_000)
    return saved.inner_text().split("Saved ", 1)[1].split(" ", 1)[0]


def _approve(page, incident_id: str) -> None:
    """Approve ``incident_id`` in the review queue."""
    page.get_by_text("Review queue", exact=True).click()
    button = page.locator(f".st-key-ws_approve_new_{incident_id} button")
    button.wait_for(timeout=60_000)
    _settled(page)
    button.click()
    page.get_by_text(re.compile(rf"{re.escape(incident_id)}: \w+ done \(published\)")).wait_for(
        timeout=90_000
    )


def test_a_record_made_through_one_process_is_public_through_the_other(two_apps, chromium):
    url, proxy = two_apps["url"], two_apps["proxy"]
    visitor_b = _browser(chromium, url, "b")
    visitor_a = _browser(chromium, url, "a")
    before = _public_count(visitor_b, url)
    assert before == 46
    assert _public_count(visitor_a, url) == before

    recorder = _browser(chromium, url, "a")
    incident_id = _record(_staff_workspace(recorder, url, RECORDER))
    # In review: no process shows it to the public yet.
    assert _public_count(visitor_b, url) == before

    approver = _browser(chromium, url, "b")
    on_b = _staff_workspace(approver, url, APPROVER)
    _approve(on_b, incident_id)

    # Published: B, which approved it, and A, which recorded it, both count it, unrestarted.
    assert _public_count(visitor_b, url) == before + 1
    assert _public_count(visitor_a, url) == before + 1
    assert all(proc.poll() is None for proc in two_apps["procs"])

    # Every websocket went to the process its browser's cookie named, and both served one.
    streams = {name for name, line in proxy.routed if "/_stcore/stream" in line}
    assert streams == {"a", "b"}

    # A browser with no cookie yet is given one, and stays on the process it names.
    newcomer = chromium.new_context(viewport={"width": 1400, "height": 1000})
    start = len(proxy.routed)
    assert _public_count(newcomer, url) == before + 1
    given = {c["value"] for c in newcomer.cookies() if c["name"] == COOKIE}
    assert len(given) == 1
    assert {name for name, _ in proxy.routed[start:]} == given

    # The sign-outs are shared too: "Log out everywhere" through A ends the approver's login
    # in the restricted tab that B serves, at that tab's next check, with no click.
    laptop = _browser(chromium, url, "a")
    on_a = laptop.new_page()
    on_a.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
    _wait_for_app(on_a)
    _log_in(on_a, url, APPROVER)
    on_a.get_by_role("button", name="Log out everywhere", exact=True).click()
    on_a.wait_for_url("**/oauth2/end_session**", timeout=60_000)
    on_a.get_by_role("button", name="End session").click()
    on_a.get_by_role("button", name="Log in (staff)").wait_for(timeout=90_000)
    on_b.get_by_text("Restricted view: exact locations").wait_for(state="detached", timeout=60_000)
    on_b.get_by_text("was ended").wait_for(timeout=60_000)
    assert list((two_apps["folder"] / "data").glob("*.postgis.signouts.csv"))
    for context in (visitor_a, visitor_b, recorder, approver, newcomer, laptop):
        context.close()
