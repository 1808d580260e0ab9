"""Who may see the restricted view: exact points, location text, notes and sources.

The restricted view exists only when login is configured (Streamlit's ``st.login``, OpenID
Connect, set up in ``.streamlit/secrets.toml``) and only for a logged-in user whose verified
e-mail is on the allow-list (``RISKMAP_ALLOWED_EMAILS``). There is no default password and no
bypass flag: with no login configured, everyone gets the public view.
"""

from __future__ import annotations

from collections.abc import Mapping

from riskmap.settings import Settings

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
        claim ``email_verified``, which must be true.
    secrets
        The app's secrets; without a usable ``[auth]`` section nobody is allowed.
    settings
        ``allowed_emails`` is the allow-list (lower case).
    """
    if not auth_configured(secrets):
        return False
    if user.get("is_logged_in") is not True:
        return False
    # An address the provider has not verified could be anyone's.
    if user.get("email_verified") is not True:
        return False
    email = str(user.get("email") or "").strip().lower()
    return bool(email) and email in settings.allowed_emails


def provider_name(secrets: Mapping[str, object]) -> str | None:
    """Return the named OIDC provider to pass to ``st.login``, or ``None`` for the default one."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or auth.get("client_id"):
        return None
    for name, value in auth.items():
        if isinstance(value, Mapping) and value.get("client_id"):
            return str(name)
    return None
