"""Who may reach the restricted view: nobody without login configured, only allowed e-mails."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskmap.analysis.metrics import headline_counts, load_published
from riskmap.release.access import auth_configured, provider_name, restricted_allowed
from riskmap.release.public import ROW_COLUMNS
from riskmap.settings import Settings
from riskmap.views.i18n import t

ROOT = Path(__file__).resolve().parent.parent
STAFF = Settings(allowed_emails=frozenset({"staff@example.org"}))


def test_no_auth_section_means_no_restricted_view():
    assert not auth_configured({})
    assert not auth_configured({"auth": {"redirect_uri": "x"}})
    user = {"is_logged_in": True, "email": "staff@example.org"}
    assert not restricted_allowed(user, secrets={}, settings=STAFF)


def test_only_logged_in_allowed_emails(auth_secrets):
    assert auth_configured(auth_secrets)
    ok = {"is_logged_in": True, "email": "Staff@Example.org", "email_verified": True}
    assert restricted_allowed(ok, secrets=auth_secrets, settings=STAFF)
    unverified = {**ok, "email_verified": False}
    assert not restricted_allowed(unverified, secrets=auth_secrets, settings=STAFF)
    assert not restricted_allowed(
        {k: v for k, v in ok.items() if k != "email_verified"}, secrets=auth_secrets, settings=STAFF
    )
    assert not restricted_allowed(
        {**ok, "is_logged_in": False}, secrets=auth_secrets, settings=STAFF
    )
    assert not restricted_allowed(
        {"is_logged_in": True, "email": "other@example.org"}, secrets=auth_secrets, settings=STAFF
    )
    assert not restricted_allowed(ok, secrets=auth_secrets, settings=Settings())  # empty allow-list


def test_named_provider(auth_secrets):
    named = {"auth": {"redirect_uri": "r", "cookie_secret": "c", "google": auth_secrets["auth"]}}
    assert auth_configured(named)
    assert provider_name(named) == "google"
    assert provider_name(auth_secrets) is None


def _app(monkeypatch, store, *, emails=""):
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    monkeypatch.setenv("RISKMAP_ALLOWED_EMAILS", emails)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    # The table and the downloads are on the Data tab (only the open tab computes its content).
    at.query_params.update({"lang": "en", "tab": "data"})
    return at


def _table_columns(at):
    tables = [d.value for d in at.dataframe if "incident_id" in d.value.columns]
    assert len(tables) == 1
    return list(tables[0].columns)


def test_without_auth_there_is_no_toggle_and_no_private_column(monkeypatch, sample_store):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.user = {"email": "staff@example.org", "is_logged_in": True}
    at.run()
    assert not at.exception
    with pytest.raises(KeyError):
        at.toggle(key="restricted")
    assert "location_text" not in _table_columns(at)


def test_logged_out_user_sees_login_not_restricted(monkeypatch, sample_store, auth_secrets):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert at.button(key="login").label == "Log in (staff)"
    with pytest.raises(KeyError):
        at.toggle(key="restricted")
    assert "notes" not in _table_columns(at)


def test_logged_in_but_not_allowed(monkeypatch, sample_store, auth_secrets):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {"email": "visitor@example.org", "is_logged_in": True}
    at.run()
    assert not at.exception
    assert any("visitor@example.org" in w.value for w in at.warning)
    with pytest.raises(KeyError):
        at.toggle(key="restricted")


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_allowed_staff_can_switch_to_restricted(monkeypatch, sample_store, sample, auth_secrets):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {
        "email": "staff@example.org",
        "is_logged_in": True,
        "email_verified": True,
        "iat": int(time.time()),
    }
    at.run()
    assert _table_columns(at) == list(ROW_COLUMNS)
    public = _metric(at, "Kidnappings and attempts")
    # The release guarantee is said below the map, on the public page only.
    at.session_state["tab__en"] = t("tab_map", "en")
    at.run()
    assert any("Public release" in c.value for c in at.caption)
    at.toggle(key="restricted").set_value(True).run()
    assert not at.exception
    assert not any("Public release" in c.value for c in at.caption)
    at.session_state["tab__en"] = t("tab_data", "en")
    at.run()
    columns = _table_columns(at)
    assert {"location_text", "notes", "source"} <= set(columns)
    assert any("Restricted view" in e.value for e in at.error)
    # Staff count the recorded rows exactly: the sample's totals equal the published figures.
    exact = headline_counts(sample)
    published = dict(zip(load_published()["metric"], load_published()["value"], strict=True))
    for key in (
        "incidents",
        "kidnapping_or_attempt",
        "children",
        "sexual_assault",
        "express_by_police",
    ):
        assert _metric(at, t(f"m_{key}", "en")) == str(exact[key]), key
        if key in published:
            assert exact[key] == published[key], key
    # The public release is coarser: it never counts more kidnappings than staff do.
    assert int(public) <= exact["kidnapping_or_attempt"]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        # An allowed address the provider has not verified: said so, not "not on the list".
        ({"email": "staff@example.org", "email_verified": False}, "has not verified"),
        ({"email": "*other*@example.org", "email_verified": True}, "is not on the list"),
    ],
)
def test_refusals_say_why_and_show_the_claim_as_text(
    monkeypatch, sample_store, user, message, auth_secrets
):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {"is_logged_in": True, **user}
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning if user["email"] in w.value]
    assert warnings
    assert message in warnings[0]
    with pytest.raises(KeyError):
        at.toggle(key="restricted")
    # The e-mail claim is plain text, not Markdown (no emphasis made of its asterisks).
    assert user["email"] in [x.value for x in at.text]


def test_restricted_files_are_not_written_until_clicked(monkeypatch, sample_store, auth_secrets):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    written: list[str] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        written.append(str(filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {
        "email": "staff@example.org",
        "is_logged_in": True,
        "email_verified": True,
        "iat": int(time.time()),
    }
    at.run()
    # The public view of a small selection writes its files on every run (a shared URL is fine).
    assert any(n.startswith("riskmap-incidents-") for n in written)
    assert any("public columns" in h.value for h in at.subheader)
    written.clear()
    at.toggle(key="restricted").set_value(True).run()
    assert not at.exception
    assert not [n for n in written if "restricted" in n], written
    assert any("(restricted" in h.value for h in at.subheader)
    assert not any("public columns" in h.value for h in at.subheader)


def test_an_expired_login_is_public(monkeypatch, sample_store, auth_secrets):
    at = _app(monkeypatch, sample_store, emails="staff@example.org")
    at.secrets.update(auth_secrets)
    at.user = {
        "email": "staff@example.org",
        "is_logged_in": True,
        "email_verified": True,
        "iat": int(time.time()) - 9 * 3600,
    }
    at.run()
    assert not at.exception
    assert any("older than 8 hours" in w.value for w in at.warning)
    with pytest.raises(KeyError):
        at.toggle(key="restricted")
    assert at.button(key="login").label == "Log in (staff)"
