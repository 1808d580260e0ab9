"""Who may see the restricted view: exact points, location text, notes and sources.

The restricted view exists only when login is configured (Streamlit's ``st.login``, OpenID
Connect, set up in ``.streamlit/secrets.toml``) and only for a logged-in user whose verified
e-mail is on the allow-list (``RISKMAP_ALLOWED_EMAILS``). There is no default password and no
bypass flag: with no login configured, everyone gets the public view.

A provider that sends no ``email_verified`` claim (some enterprise ones) is trusted only when
named in ``RISKMAP_TRUST_MISSING_EMAIL_VERIFIED``; an explicit ``false`` is never trusted. A
login that passes these checks still has to be live: not signed out, not expired
(:mod:`~riskmap.release.sessions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from riskmap.release import sessions
from riskmap.settings import Settings

#: Where a user stands: ``allowed`` into the restricted view, or why not.
Standing = Literal[
    "no_login", "logged_out", "not_verified", "not_allowed", "signed_out", "expired", "allowed"
]

#: Keys Streamlit needs in ``[auth]`` before ``st.login`` can work.
_AUTH_KEYS = ("redirect_uri", "cookie_secret")


def auth_configured(secrets: Mapping[str, object]) -> bool:
    """Return whether ``secrets`` hold a usable ``[auth]`` section.

    Parameters
    ----------
    secrets
        The app's secrets as a plain mapping (``st.secrets.to_dict()``).
    """
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping):
        return False
    if not all(str(auth.get(k) or "").strip() for k in _AUTH_KEYS):
        return False
    # Either a default provider (client_id + server_metadata_url at the top level) or a named one.
    if auth.get("client_id") and auth.get("server_metadata_url"):
        return True
    return any(
        isinstance(v, Mapping) and v.get("client_id") and v.get("server_metadata_url")
        for v in auth.values()
    )


def restricted_allowed(
    user: Mapping[str, object], *, secrets: Mapping[str, object], settings: Settings
) -> bool:
    """Return whether ``user`` may switch to the restricted view.

    Parameters
    ----------
    user
        The current user (``st.user.to_dict()``): ``is_logged_in``, ``email`` and the OIDC
        claim ``email_verified``, which must be true (or missing, from a provider named in
        ``settings.trust_missing_email_verified``).
    secrets
        The app's secrets; without a usable ``[auth]`` section nobody is allowed.
    settings
        ``allowed_emails`` is the allow-list (lower case).

    This checks who the user is, not whether the login is still live: see :func:`standing`.
    """
    if not auth_configured(secrets):
        return False
    if user.get("is_logged_in") is not True:
        return False
    if not email_verified(user, settings=settings):
        return False
    email = str(user.get("email") or "").strip().lower()
    return bool(email) and email in settings.allowed_emails


def email_verified(user: Mapping[str, object], *, settings: Settings) -> bool:
    """Return whether the user's e-mail counts as verified.

    ``email_verified: true`` counts. A missing claim counts only from a provider named in
    ``settings.trust_missing_email_verified`` (``st.user`` names the provider in ``provider``).
    """
    # An address the provider has not verified could be anyone's.
    if "email_verified" in user:
        return user.get("email_verified") is True
    return str(user.get("provider") or "") in settings.trust_missing_email_verified


def standing(
    user: Mapping[str, object],
    *,
    secrets: Mapping[str, object],
    settings: Settings,
    now: float | None = None,
) -> Standing:
    """Return whether ``user`` may switch to the restricted view now, or why not.

    Parameters
    ----------
    user
        The current user (``st.user.to_dict()``).
    secrets
        The app's secrets.
    settings
        The allow-list, the trusted providers, the session length and the store (beside
        which the sign-outs are kept).
    now
        The current time (epoch seconds); the clock if not given.

    Returns
    -------
    str
        ``no_login`` (login is not configured), ``logged_out``, ``not_verified``,
        ``not_allowed``, ``signed_out`` (in another tab or everywhere), ``expired`` (after
        ``settings.session_hours``, or a login without an issue time) or ``allowed``.
    """
    if not auth_configured(secrets):
        return "no_login"
    if user.get("is_logged_in") is not True:
        return "logged_out"
    if not email_verified(user, settings=settings):
        return "not_verified"
    if not restricted_allowed(user, secrets=secrets, settings=settings):
        return "not_allowed"
    status = sessions.session_status(user, store=settings.local_store, settings=settings, now=now)
    if status == "signed_out":
        return "signed_out"
    if status != "ok":
        return "expired"
    return "allowed"


def provider_name(secrets: Mapping[str, object]) -> str | None:
    """Return the named OIDC provider to pass to ``st.login``, or ``None`` for the default one."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or auth.get("client_id"):
        return None
    for name, value in auth.items():
        if isinstance(value, Mapping) and value.get("client_id"):
            return str(name)
    return None
