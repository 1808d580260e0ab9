"""Shared fixtures: the shipped gazetteer, the generated sample, a real GeoPackage store, and a
real ``streamlit run`` server with Debian's chromium for the browser tests."""

from __future__ import annotations

import contextlib
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


@pytest.fixture(scope="session")
def server(sample_store: Path) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port against the sample store."""
    require_browser()
    port = _free_port()
    env = {
        **os.environ,
        "RISKMAP_STORE": str(sample_store),
        # The browser clicks the downloads: make them the on-click kind (AppTest covers the
        # eager kind, which it can read without a browser).
        "RISKMAP_EAGER_DOWNLOAD_ROWS": "0",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    log = (sample_store.parent / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            streamlit,
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = (sample_store.parent / "streamlit.log").read_text(errors="replace")
                pytest.fail(f"streamlit did not start:\n{text[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "a-long-random-test-secret-for-the-login-tests"\n'
        'client_id = "riskmap-tests"\n'
        'client_secret = "riskmap-tests-secret"\n'
        f'server_metadata_url = "{oidc_provider}"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "RISKMAP_STORE": str(store),
        "RISKMAP_ALLOWED_EMAILS": ALLOWED,
        # An idle restricted tab checks for sign-outs every few seconds (30 by default).
        "RISKMAP_SESSION_CHECK_SECONDS": "3",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    log_path = folder / "streamlit.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                streamlit,
                "run",
                "app.py",
                "--server.headless=true",
                f"--server.port={port}",
                "--server.address=127.0.0.1",
                f"--secrets.files={secrets}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    text = log_path.read_text(errors="replace")
                    pytest.fail(f"streamlit did not start:\n{text[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


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
