"""Shared fixtures: the shipped gazetteer, the generated sample, a real GeoPackage store, and a
real ``streamlit run`` server with Debian's chromium for the browser tests."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmap.geo.gazetteer import load_places
from riskmap.sample import generate
from riskmap.store import write_incidents

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
#: A string in every free-text field of generated stores: no public output may contain it.
CANARY = "CANARY-93c1"


@pytest.fixture
def auth_secrets() -> dict[str, dict[str, str]]:
    """An ``[auth]`` section that makes ``st.login`` usable (the provider is never called)."""
    return {
        "auth": {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "a-long-random-test-secret",
            "client_id": "id",
            "client_secret": "secret",
            "server_metadata_url": "https://example.org/.well-known/openid-configuration",
        }
    }


@pytest.fixture(scope="session")
def places() -> pd.DataFrame:
    return load_places()


@pytest.fixture(scope="session")
def sample(places: pd.DataFrame) -> pd.DataFrame:
    return generate(places=places)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, sample: pd.DataFrame) -> Path:
    """A real GeoPackage store holding the sample (do not modify it in a test)."""
    return write_incidents(sample, tmp_path_factory.mktemp("store") / "incidents.gpkg")


def _random_store(places: pd.DataFrame, *, n: int, seed: int) -> pd.DataFrame:
    """Random incidents at the gazetteer's places, in neighbourhoods, by city or unplaced."""
    rng = np.random.default_rng(seed)
    located = places[places["place_type"] != "city"].reset_index(drop=True)
    pick = located.iloc[rng.integers(0, len(located), n)].reset_index(drop=True)
    kind = rng.choice(["site", "neighborhood", "city", "unresolved"], n, p=[0.5, 0.3, 0.1, 0.1])
    jitter = rng.normal(0, 0.01, (n, 2))
    lat = np.where(kind == "site", pick["lat"], pick["lat"] + jitter[:, 0])
    lon = np.where(kind == "site", pick["lon"], pick["lon"] + jitter[:, 1])
    types = np.array(
        [
            "kidnapping",
            "extortion",
            "kidnapping|extortion",
            "attempted_kidnapping",
            "robbery",
            "sexual_assault",
            "threat",
            "express_kidnapping|extortion",
        ]
    )
    frame = pd.DataFrame(
        {
            "incident_id": [f"R-{seed}-{i}" for i in range(n)],
            "date": pd.Timestamp("2019-10-01") + pd.to_timedelta(rng.integers(0, 200, n), "D"),
            "date_precision": rng.choice(["day", "month"], n, p=[0.85, 0.15]),
            "incident_types": rng.choice(types, n, p=[0.3, 0.2, 0.1, 0.1, 0.1, 0.05, 0.1, 0.05]),
            "city": pick["city"],
            "location_text": [f"{CANARY} text {i}" for i in range(n)],
            "lat": np.where(kind == "unresolved", np.nan, lat),
            "lon": np.where(kind == "unresolved", np.nan, lon),
            "geo_precision": kind,
            "place_id": np.where(kind == "site", pick["place_id"], None),
            "place_type": np.where(kind == "site", pick["place_type"], "neighborhood"),
            "perpetrator": rng.choice(["criminal_group", "police", "unknown"], n),
            "victims": rng.integers(1, 6, n),
            "children": rng.integers(0, 2, n),
            "source": f"{CANARY} source",
            "notes": f"{CANARY} note",
            "synthetic": True,
        }
    )
    month = frame["date_precision"] == "month"
    frame.loc[month, "date"] = frame.loc[month, "date"].dt.to_period("M").dt.start_time
    return frame


@pytest.fixture(scope="session")
def random_store():
    """Make a random store: ``random_store(places, n=..., seed=...)`` (canary free text)."""
    return _random_store


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when Debian's chromium is missing."""
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} not found: install Debian's chromium (`apt-get install chromium`) to run "
        "the browser tests; never `playwright install`"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


MAP_FRAME = "iframe[title*='st_folium']"


def map_frame(page, selector: str = MAP_FRAME, timeout: float = 60_000):
    """The one map frame of a settled page (a frame locator).

    While a rerun replaces a map, the page briefly holds two of its frames, the new one not yet
    measured (``width="-1"``); a strict locator then fails. Wait until one measured frame is left.
    """
    page.wait_for_function(
        "s => document.querySelectorAll(s).length === 1"
        " && document.querySelectorAll(s + \":not([width='-1'])\").length === 1",
        arg=selector,
        timeout=timeout,
    )
    return page.locator(selector).first.content_frame


def _wait_until_served(url: str, proc: subprocess.Popen, log, log_path: Path) -> None:
    """Wait until ``streamlit run`` answers its health check; fail with its log if it dies."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.flush()
            text = log_path.read_text(errors="replace")
            pytest.fail(f"streamlit did not start:\n{text[-3000:]}")
        time.sleep(0.5)


def _stop(proc: subprocess.Popen) -> None:
    """Stop a server started by a fixture (killed if it does not end within 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serve_app(
    env: dict[str, str],
    *,
    log_path: Path,
    cwd: Path = ROOT,
    port: int | None = None,
    host: str = "127.0.0.1",
    secrets: Path | None = None,
    script: str = "app.py",
) -> Iterator[str]:
    """Run ``streamlit run app.py`` (in ``cwd``) with ``env`` added; yield its URL, then stop it.

    ``host`` is how the URL names the server (``localhost`` where a login's ``redirect_uri``
    must match it); ``secrets`` is a secrets file for ``[auth]``; ``script`` another page
    (a benchmark's, say) to serve instead of ``app.py``.
    """
    port = port or _free_port()
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    command = [
        streamlit,
        "run",
        script,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        *([f"--secrets.files={secrets}"] if secrets else []),
    ]
    full_env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **env}
    url = f"http://{host}:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_served(url, proc, log, log_path)
            yield url
        finally:
            _stop(proc)


def login_secrets(path: Path, *, url: str, provider: str, cookie_secret: str) -> Path:
    """Write a secrets file whose ``[auth]`` logs in at :func:`oidc_provider` for ``url``."""
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        'client_id = "riskmap-tests"\n'
        'client_secret = "riskmap-tests-secret"\n'
        f'server_metadata_url = "{provider}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def server(sample_store: Path) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port against the sample store."""
    require_browser()
    env = {
        "RISKMAP_STORE": str(sample_store),
        # The browser clicks the downloads: make them the on-click kind (AppTest covers the
        # eager kind, which it can read without a browser).
        "RISKMAP_EAGER_DOWNLOAD_ROWS": "0",
    }
    with serve_app(env, log_path=sample_store.parent / "streamlit.log") as url:
        yield url


@pytest.fixture
def browser_page(server: str) -> Iterator[object]:
    """A playwright page in Debian's headless chromium."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on a free port: its metadata URL."""
    from oidc_provider import run_provider

    folder = tmp_path_factory.mktemp("oidc")
    with run_provider(_free_port(), folder / "provider.log") as metadata:
        yield metadata


@pytest.fixture(scope="session")
def login_server(
    tmp_path_factory: pytest.TempPathFactory, sample_store: Path, oidc_provider: str
) -> Iterator[str]:
    """Run ``streamlit run app.py`` with real login against :func:`oidc_provider`.

    The app gets its own copy of the sample store (the sign-outs are written beside it) and an
    ``[auth]`` section in a temporary secrets file; it is served at ``http://localhost:PORT``,
    the origin of its ``redirect_uri`` (Streamlit refuses a login cookie from another origin).
    """
    from oidc_provider import ALLOWED

    require_browser()
    folder = tmp_path_factory.mktemp("login")
    store = folder / "incidents.gpkg"
    shutil.copyfile(sample_store, store)
    port = _free_port()
    url = f"http://localhost:{port}"
    secrets = login_secrets(
        folder / "secrets.toml",
        url=url,
        provider=oidc_provider,
        cookie_secret="a-long-random-test-secret-for-the-login-tests",
    )
    env = {
        "RISKMAP_STORE": str(store),
        "RISKMAP_ALLOWED_EMAILS": ALLOWED,
        # An idle restricted tab checks for sign-outs every few seconds (30 by default).
        "RISKMAP_SESSION_CHECK_SECONDS": "3",
    }
    with serve_app(
        env, log_path=folder / "streamlit.log", port=port, host="localhost", secrets=secrets
    ) as served:
        yield served


@pytest.fixture
def chromium() -> Iterator[object]:
    """Debian's headless chromium (playwright): open as many contexts (browsers) as needed."""
    from playwright.sync_api import sync_playwright

    require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# --- PostgreSQL/PostGIS: a throwaway cluster for the store contract tests ----------------------


def _postgres_bin() -> Path | None:
    """Return the folder of Debian's PostgreSQL server programs (the newest), if installed."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")  # other systems put the server programs on the PATH
    if found and Path(found).with_name("pg_config").exists():
        return Path(found).parent
    return None


def require_postgres() -> Path:
    """Return the server programs' folder; fail under CI, skip elsewhere, when missing."""
    folder = _postgres_bin()
    problem = None
    if folder is None:
        problem = "PostgreSQL's initdb not found"
    else:
        share = subprocess.run(
            [str(folder / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not (share and Path(share, "extension", "postgis.control").exists()):
            problem = f"the PostGIS extension is not installed for {folder}"
    if problem is None and os.geteuid() == 0 and not shutil.which("runuser"):
        problem = "running as root needs `runuser` to start PostgreSQL as the postgres user"
    if problem is None:
        assert folder is not None
        return folder
    message = (
        f"{problem}: install Debian's server and PostGIS (`apt-get install postgresql postgis`) "
        "to run the PostGIS store tests"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run the server programs as the postgres user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster on a Unix socket; yield its base URL.

    The cluster lives in a fresh folder under the system's temporary folder (one the postgres
    user can reach when the tests run as root), listens on no TCP port, and is stopped and
    deleted at the end of the session. A template database with PostGIS is made once, so each
    test's database (:func:`postgis_url`) is created in milliseconds.
    """
    import tempfile

    folder = require_postgres()
    base = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
    data, log = base / "data", base / "server.log"
    port = _free_port()
    run = {"cwd": base, "capture_output": True, "text": True, "check": False}
    init = subprocess.run(
        _as_postgres(
            [
                str(folder / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
        **run,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr or init.stdout}")
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=50"
    ctl = [str(folder / "pg_ctl"), "-D", str(data)]
    start = subprocess.run(
        _as_postgres([*ctl, "-o", options, "-l", str(log), "-w", "-t", "60", "start"]), **run
    )
    if start.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"the PostgreSQL server did not start: {text}")
    url = f"postgresql://postgres@/postgres?host={base}&port={port}"
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE DATABASE riskmap_template")
        with psycopg.connect(url.replace("/postgres?", "/riskmap_template?"), autocommit=True) as c:
            c.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        subprocess.run(_as_postgres([*ctl, "-m", "immediate", "stop"]), **run)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgis_url(postgres_server: str) -> str:
    """Return the URL of a new, empty database with PostGIS, for one test."""
    import psycopg

    name = f"t{next(_DATABASE_NUMBERS)}"
    with psycopg.connect(postgres_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE riskmap_template")
    return postgres_server.replace("/postgres?", f"/{name}?")


_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(params=["geopackage", "postgis"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Return an empty store's location on each backend: a GeoPackage path, a PostGIS URL."""
    if request.param == "geopackage":
        return tmp_path / "incidents.gpkg"
    return str(request.getfixturevalue("postgis_url"))
