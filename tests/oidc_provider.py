"""A real OpenID Connect provider for the login tests: oidc-provider-mock, run as a subprocess.

It signs real ID tokens (with ``iat``, ``nonce`` and the claims given here) and shows an
authorization page where the browser picks one of the users below by clicking its button.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The users the provider offers, by subject: their claims decide what the app lets them see.
USERS: dict[str, dict[str, object]] = {
    "staff": {"email": "staff@example.org", "email_verified": True},
    "staff2": {"email": "staff2@example.org", "email_verified": True},
    "tabs": {"email": "tabs@example.org", "email_verified": True},
    "replay": {"email": "replay@example.org", "email_verified": True},
    "visitor": {"email": "visitor@example.org", "email_verified": True},
    "unverified": {"email": "unverified@example.org", "email_verified": False},
    # An allowed address as a provider may send it: other case, spaces around it.
    "shouty": {"email": "  Shouty@Example.ORG ", "email_verified": True},
    # A provider that sends no email_verified claim at all.
    "noclaim": {"email": "noclaim@example.org"},
}
#: The allow-list the app is started with (every user above but the visitor).
ALLOWED = (
    "staff@example.org,staff2@example.org,tabs@example.org,replay@example.org,"
    "unverified@example.org,shouty@example.org,noclaim@example.org"
)


def require_provider() -> None:
    """Fail under CI, skip elsewhere, when oidc-provider-mock is not installed."""
    # Found, not imported: it runs in its own process (its imports warn of deprecations).
    if importlib.util.find_spec("oidc_provider_mock") is None:
        message = "oidc-provider-mock is not installed: `make setup` installs the test extra"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def run_provider(port: int, log: Path) -> Iterator[str]:
    """Run the provider on ``localhost:port``; yield its metadata URL."""
    require_provider()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for sub, claims in USERS.items():
        args += ["--user-claims", json.dumps({"sub": sub, **claims})]
    base = f"http://localhost:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"}
        )
        try:
            deadline = time.monotonic() + 30
            metadata = f"{base}/.well-known/openid-configuration"
            while True:
                try:
                    with urllib.request.urlopen(metadata, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    out.flush()
                    pytest.fail(f"the OIDC provider did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield metadata
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
