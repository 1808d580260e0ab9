"""Restricted sessions: sign-outs beside the store, expiry, private download names, return paths."""

import threading

import pytest

from riskmap.release import sessions
from riskmap.release.access import standing
from riskmap.settings import Settings

NOW = 1_800_000_000


def _user(email="staff@example.org", iat=NOW - 60, nonce="n1", **extra):
    return {
        "is_logged_in": True,
        "email": email,
        "email_verified": True,
        "iss": "http://localhost:9400",
        "sub": email.split("@")[0],
        "iat": iat,
        "nonce": nonce,
        **extra,
    }


@pytest.fixture
def settings(tmp_path):
    return Settings(
        store=tmp_path / "incidents.gpkg", allowed_emails=frozenset({"staff@example.org"})
    )


def test_a_sign_out_ends_that_login_and_only_that_one(settings):
    this, other = _user(nonce="n1"), _user(nonce="n2")
    assert sessions.session_status(this, store=settings.store, settings=settings, now=NOW) == "ok"
    sessions.record_signout(settings.store, this, now=NOW)
    status = sessions.session_status(this, store=settings.store, settings=settings, now=NOW + 1)
    assert status == "signed_out"
    # Another login of the same person (another browser) goes on.
    assert sessions.session_status(other, store=settings.store, settings=settings, now=NOW) == "ok"
    row = sessions.signouts(settings.store)[0]
    assert row["email"] == "staff@example.org"
    assert row["scope"] == "login"
    # The record holds a hash of the login, not its nonce.
    assert "n1" not in sessions.signouts_path(settings.store).read_text()


def test_sign_out_everywhere_ends_every_earlier_login_not_later_ones(settings):
    sessions.record_signout(settings.store, _user(nonce="a"), everywhere=True, now=NOW)
    for nonce in ("a", "b"):
        user = _user(nonce=nonce)
        assert (
            sessions.session_status(user, store=settings.store, settings=settings, now=NOW) != "ok"
        )
    # An e-mail is matched as the allow-list matches it; other people are untouched.
    shouty = _user(email=" Staff@Example.ORG ", nonce="c")
    assert sessions.session_status(shouty, store=settings.store, settings=settings, now=NOW) == (
        "signed_out"
    )
    someone = _user(email="other@example.org")
    assert (
        sessions.session_status(someone, store=settings.store, settings=settings, now=NOW) == "ok"
    )
    later = _user(iat=NOW + 5, nonce="d")
    assert sessions.session_status(later, store=settings.store, settings=settings, now=NOW + 6) == (
        "ok"
    )


def test_a_provider_clock_ahead_of_ours_does_not_outlive_sign_out_everywhere(settings):
    ahead = _user(iat=NOW + 30)
    sessions.record_signout(settings.store, ahead, everywhere=True, now=NOW)
    assert sessions.session_status(ahead, store=settings.store, settings=settings, now=NOW) == (
        "signed_out"
    )


def test_a_login_expires_after_the_set_hours_whatever_the_cookie(settings):
    user = _user(iat=NOW)
    hours = Settings(store=settings.store, session_hours=8)
    assert (
        sessions.session_status(user, store=hours.store, settings=hours, now=NOW + 7.9 * 3600)
        == "ok"
    )
    assert sessions.session_status(user, store=hours.store, settings=hours, now=NOW + 8 * 3600) == (
        "expired"
    )
    no_iat = {k: v for k, v in user.items() if k != "iat"}
    assert sessions.session_status(no_iat, store=hours.store, settings=hours) == "no_issue_time"


def test_concurrent_sign_outs_are_all_kept(settings):
    users = [_user(nonce=str(i)) for i in range(8)]
    threads = [
        threading.Thread(target=sessions.record_signout, args=(settings.store, u)) for u in users
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sessions.signouts(settings.store)) == len(users)


def test_standing_says_why(settings, auth_secrets):
    def at(user):
        return standing(user, secrets=auth_secrets, settings=settings, now=NOW)

    assert standing(_user(), secrets={}, settings=settings) == "no_login"
    assert at({"is_logged_in": False}) == "logged_out"
    assert at(_user(email_verified=False)) == "not_verified"
    assert at(_user(email="visitor@example.org")) == "not_allowed"
    assert at(_user()) == "allowed"
    assert at(_user(iat=NOW - 9 * 3600)) == "expired"
    sessions.record_signout(settings.store, _user(), now=NOW)
    assert at(_user()) == "signed_out"


def test_missing_email_verified_is_trusted_only_from_a_named_provider(settings, auth_secrets):
    user = {k: v for k, v in _user(provider="default").items() if k != "email_verified"}
    assert standing(user, secrets=auth_secrets, settings=settings, now=NOW) == "not_verified"
    trusting = Settings(
        store=settings.store,
        allowed_emails=settings.allowed_emails,
        trust_missing_email_verified=frozenset({"default"}),
    )
    assert standing(user, secrets=auth_secrets, settings=trusting, now=NOW) == "allowed"
    # An explicit false is never trusted; another provider's tokens are not either.
    refused = {**user, "email_verified": False}
    assert standing(refused, secrets=auth_secrets, settings=trusting, now=NOW) == "not_verified"
    other = {**user, "provider": "google"}
    assert standing(other, secrets=auth_secrets, settings=trusting, now=NOW) == "not_verified"


def test_settings_read_the_session_fields_from_the_environment():
    s = Settings.from_env(
        {
            "RISKMAP_SESSION_HOURS": "1.5",
            "RISKMAP_SESSION_CHECK_SECONDS": "10",
            "RISKMAP_TRUST_MISSING_EMAIL_VERIFIED": "okta, default",
        }
    )
    assert s.session_hours == 1.5
    assert s.session_check_seconds == 10
    assert s.trust_missing_email_verified == frozenset({"okta", "default"})
    assert Settings().session_hours == 8
    assert Settings().trust_missing_email_verified == frozenset()


def test_private_names_differ_per_run_and_keep_the_suffix():
    a, b = sessions.download_token(), sessions.download_token()
    assert a != b
    assert len(a) == 16
    name = sessions.private_filename("riskmap-incidents-restricted-20191201.csv", a)
    assert name == f"riskmap-incidents-restricted-20191201-{a}.csv"


def test_browser_key_unmasks_the_xsrf_token():
    token = bytes(range(16))
    masks = (bytes([7] * 4), bytes([1, 2, 3, 4]))

    def cookie(mask):
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
        return f"2|{mask.hex()}|{masked.hex()}|1700000000"

    keys = {sessions.browser_key(cookie(m)) for m in masks}
    assert len(keys) == 1
    assert None not in keys
    assert sessions.browser_key(None) is None
    assert sessions.browser_key("garbage") is None


def test_return_paths_are_handed_back_once():
    paths = sessions.ReturnPaths()
    paths.put("k", {"lang": ["en"], "type": ["kidnapping"]})
    assert paths.pop("other") is None
    assert paths.pop("k") == {"lang": ["en"], "type": ["kidnapping"]}
    assert paths.pop("k") is None
    gone = sessions.ReturnPaths(ttl_seconds=-1)
    gone.put("k", {"lang": ["en"]})
    assert gone.pop("k") is None
