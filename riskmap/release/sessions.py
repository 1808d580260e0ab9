"""Restricted sessions that end: sign-outs kept beside the store, expiry, private file names.

Streamlit's login cookie is signed, lasts 30 days and is checked against nothing on the server,
so logging out in one tab leaves every other tab, and every saved copy of the cookie, logged in.
This module keeps the server's side of a login:

- a **sign-out record** beside the store (``<store>.signouts.csv``), one line a sign-out. A
  plain sign-out ends that login (every tab and every copy of its cookie); *sign out
  everywhere* ends every login of that e-mail issued until then. Each rerun of a restricted
  session checks its login against the record (:func:`session_status`);
- an **expiry**: a login opens the restricted view for ``Settings.session_hours`` after the
  provider issued it (the ID token's ``iat`` claim, OpenID Connect Core 1.0 §2), whatever the
  cookie says;
- **private file names** for restricted downloads: Streamlit serves a generated file at
  ``/media/<id>`` to anyone holding the URL, and the id is a hash of the file's bytes, type
  and name. A random token in the name (:func:`private_filename`), new on every rerun, makes
  the URL one that no other session, and no later run of the same session, can produce;
- a **return path**: the query string (view and language) a browser had when it asked to log
  in, handed back once after the provider sends it to the app's front page
  (:class:`ReturnPaths`).
"""

from __future__ import annotations

import binascii
import csv
import datetime as dt
import hashlib
import io
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from riskmap.settings import Settings
from riskmap.store import replace_atomically, store_lock

#: Columns of the sign-out record.
SIGNOUT_COLUMNS = ("at", "email", "scope", "login", "before")
#: What a sign-out ends: one login, or every login of the e-mail issued until then.
Scope = Literal["login", "everywhere"]
#: A login's standing: ``ok``, or why it no longer opens the restricted view.
Status = Literal["ok", "signed_out", "expired", "no_issue_time"]


def signouts_path(store: str | os.PathLike[str]) -> Path:
    """Return the sign-out record of a store (beside it)."""
    store = Path(store)
    return store.with_name(f"{store.name}.signouts.csv")


def issued_at(user: Mapping[str, object]) -> int | None:
    """Return when the provider issued the login (the ID token's ``iat``), in epoch seconds."""
    value = user.get("iat")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def login_id(user: Mapping[str, object]) -> str | None:
    """Return an id of this login, the same in every tab and every copy of its cookie.

    It hashes the issuer, subject, issue time and nonce of the ID token (the nonce is new on
    every login), so the record holds no token and no claim beyond the e-mail.
    """
    iat = issued_at(user)
    if iat is None:
        return None
    parts = [str(user.get(k) or "") for k in ("iss", "sub", "nonce")]
    return hashlib.sha256("\x1f".join([*parts, str(iat)]).encode()).hexdigest()[:32]


def _email(user: Mapping[str, object]) -> str:
    return str(user.get("email") or "").strip().lower()


def record_signout(
    store: str | os.PathLike[str],
    user: Mapping[str, object],
    *,
    everywhere: bool = False,
    now: float | None = None,
) -> None:
    """Record that ``user`` signed out, atomically and under the store's lock.

    Parameters
    ----------
    store
        The incident store; the record is kept beside it.
    user
        The signed-in user (``st.user.to_dict()``).
    everywhere
        End every login of the user's e-mail issued until now, not only this one.
    now
        The time of the sign-out (epoch seconds); the current time if not given.

    Raises
    ------
    StoreError
        If the record cannot be written.
    """
    email = _email(user)
    if not email:
        return
    when = time.time() if now is None else now
    # A provider's clock may run ahead of ours: "until now" includes this login itself.
    before = max(int(when), issued_at(user) or 0)
    row = {
        "at": dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="seconds"),
        "email": email,
        "scope": "everywhere" if everywhere else "login",
        "login": login_id(user) or "",
        "before": str(before),
    }
    path = signouts_path(store)
    with store_lock(Path(store)):
        old = path.read_bytes() if path.exists() else b""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=SIGNOUT_COLUMNS, lineterminator="\n")
        if not old:
            writer.writeheader()
        writer.writerow(row)
        data = old + buffer.getvalue().encode("utf-8")
        replace_atomically(path, lambda tmp: Path(tmp).write_bytes(data), what="the sign-outs")


def signouts(store: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Return the sign-out record, oldest first (empty if nobody signed out yet)."""
    try:
        text = signouts_path(store).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return list(csv.DictReader(io.StringIO(text)))


def session_status(
    user: Mapping[str, object],
    *,
    store: str | os.PathLike[str],
    settings: Settings,
    now: float | None = None,
) -> Status:
    """Return whether a login still opens the restricted view, or why not.

    Parameters
    ----------
    user
        The signed-in user (``st.user.to_dict()``), with the ID token's claims.
    store
        The incident store, beside which the sign-outs are kept.
    settings
        ``session_hours`` is how long a login lasts.
    now
        The current time (epoch seconds); the clock if not given.

    Returns
    -------
    str
        ``ok``; ``no_issue_time`` if the login carries no ``iat`` (it cannot be checked, so it
        does not count); ``expired`` after ``session_hours``; ``signed_out`` if the record ends
        this login.
    """
    iat = issued_at(user)
    if iat is None:
        return "no_issue_time"
    clock = time.time() if now is None else now
    if clock - iat >= settings.session_hours * 3600:
        return "expired"
    email, this = _email(user), login_id(user)
    for row in signouts(store):
        if row.get("email") != email:
            continue
        if row.get("scope") == "login" and row.get("login") == this:
            return "signed_out"
        if row.get("scope") == "everywhere":
            try:
                before = int(row.get("before") or "")
            except ValueError:
                continue
            if iat <= before:
                return "signed_out"
    return "ok"


def download_token() -> str:
    """Return a new random token for the names of one run's restricted downloads."""
    return secrets.token_hex(8)


def private_filename(filename: str, token: str) -> str:
    """Return ``filename`` with ``token`` before its suffix (``a-b.csv`` -> ``a-b-<token>.csv``).

    Streamlit names a served file by a hash of its bytes, type and name: with the token in the
    name, two sessions (or two runs) with the same selection never share a URL.
    """
    path = Path(filename)
    return f"{path.stem}-{token}{path.suffix}"


def browser_key(xsrf_cookie: str | None) -> str | None:
    """Return a key for the browser that holds ``xsrf_cookie``, stable across page loads.

    Streamlit's XSRF cookie is a tornado version-2 token, ``2|mask|masked token|time``, masked
    anew on each page load; the unmasked token stays the browser's until it closes. The key
    is a hash of it, so the token itself is kept nowhere.
    """
    if not xsrf_cookie:
        return None
    parts = xsrf_cookie.strip("\"'").split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
    except (binascii.Error, ValueError):
        return None
    if not mask or not masked:
        return None
    token = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
    return hashlib.sha256(b"riskmap-return\x1f" + token).hexdigest()


@dataclass
class ReturnPaths:
    """Query strings kept for browsers gone to log in, each handed back once.

    The provider sends a browser back to the app's front page, without the view or language it
    left: the app keeps the query parameters under :func:`browser_key` and restores them on
    the first run after the login. Kept in memory for ``ttl_seconds``; thread-safe (one
    object serves every session of a server).
    """

    ttl_seconds: float = 600.0

    def __post_init__(self) -> None:
        self._paths: dict[str, tuple[float, dict[str, list[str]]]] = {}
        self._lock = threading.Lock()

    def put(self, key: str | None, params: Mapping[str, list[str]]) -> None:
        """Keep ``params`` for the browser ``key`` (nothing without a key)."""
        if not key:
            return
        with self._lock:
            self._expire()
            self._paths[key] = (time.monotonic(), {k: list(v) for k, v in params.items()})

    def pop(self, key: str | None) -> dict[str, list[str]] | None:
        """Return and forget the parameters kept for ``key``, if any are still kept."""
        if not key:
            return None
        with self._lock:
            self._expire()
            kept = self._paths.pop(key, None)
        return None if kept is None else kept[1]

    def _expire(self) -> None:
        oldest = time.monotonic() - self.ttl_seconds
        for key in [k for k, (at, _) in self._paths.items() if at < oldest]:
            del self._paths[key]
