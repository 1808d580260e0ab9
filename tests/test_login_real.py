"""Staff login for real: Streamlit's ``st.login`` against a local OpenID Connect provider
(oidc-provider-mock, real signed ID tokens), in Debian's chromium. Nothing here mocks
``st.user``: every user goes through the provider's authorization page and Streamlit's callback.

Under CI=true a missing browser or provider fails the run.
"""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest

pytestmark = pytest.mark.browser

#: A selection with a handful of rows, named in the URL: the login must come back to it.
VIEW = "/?lang=en&type=kidnapping&from=2019-12-01&to=2019-12-31"
RESTRICTED_NOTE = "Restricted view: exact locations"


def _settled(page, timeout=90_000):
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def _wait_for_app(page, timeout=90_000):
    page.wait_for_selector("[data-testid='stMetric']", timeout=timeout)
    _settled(page, timeout)


def _open(context, server, path=VIEW):
    page = context.new_page()
    page.goto(f"{server}{path}", wait_until="domcontentloaded")
    _wait_for_app(page)
    return page


def _log_in(page, server, sub):
    """Log in as the provider's user ``sub`` by clicking through its authorization page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # The map reports its first view right after the page opens, and that rerun replaces the
    # sidebar: a click that lands during it is dropped, so it is tried again.
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
    page.wait_for_url(f"{server}/**", timeout=60_000)
    page.get_by_role("button", name="Log out", exact=True).wait_for(timeout=90_000)
    _wait_for_app(page)


def _log_out(page, server, *, everywhere=False):
    name = "Log out everywhere" if everywhere else "Log out"
    page.get_by_role("button", name=name, exact=True).click()
    # The provider's end-session page, then back to the app.
    page.wait_for_url("**/oauth2/end_session**", timeout=60_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{server}/**", timeout=60_000)
    # Back in the view and language it left (the provider sent it to /).
    page.get_by_role("button", name="Log in (staff)").wait_for(timeout=90_000)
    _wait_for_app(page)


def _toggle(page):
    return page.get_by_text("Restricted view", exact=True)


def _switch_on(page):
    _toggle(page).click()
    page.get_by_text(RESTRICTED_NOTE).wait_for(timeout=60_000)
    _settled(page)


def _data_heading(page) -> str:
    page.get_by_role("tab", name="Data").click()
    _settled(page)
    return page.locator("h3").filter(has_text="Filtered incidents").first.inner_text()


def _download_url(page, label="Download CSV"):
    """Click a restricted download; return its URL and bytes (once more if a click drops)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.get_by_role("button", name=label)
    for attempt in range(2):
        button.wait_for(state="visible", timeout=60_000)
        try:
            with page.expect_download(timeout=45_000) as info:
                button.click()
            return info.value.url, info.value.path().read_bytes()
        except PlaywrightTimeout:
            if attempt:
                raise
            _settled(page)
    raise AssertionError("unreachable")


def _fetch(url) -> tuple[int, bytes]:
    """GET ``url`` with no cookie at all, as anyone holding the URL could."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_logged_out_visitor_sees_login_and_the_public_view(login_server, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = _open(context, login_server)
    assert page.get_by_role("button", name="Log in (staff)").count() == 1
    assert _toggle(page).count() == 0
    assert "public columns" in _data_heading(page)
    context.close()


@pytest.mark.parametrize(
    ("sub", "message"),
    [
        ("visitor", "visitor@example.org is not on the list"),
        # An allowed address that the provider says it has not verified, and a provider that
        # sends no email_verified claim (not trusted unless a setting names it).
        ("unverified", "has not verified the e-mail unverified@example.org"),
        ("noclaim", "has not verified the e-mail noclaim@example.org"),
    ],
)
def test_refused_logins_stay_public_and_say_why(login_server, chromium, sub, message):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = _open(context, login_server)
    _log_in(page, login_server, sub)
    page.get_by_text(message).wait_for(timeout=30_000)
    assert _toggle(page).count() == 0
    assert "public columns" in _data_heading(page)
    context.close()


@pytest.mark.parametrize("sub", ["staff", "shouty"])
def test_allowed_login_returns_to_the_view_and_opens_the_restricted_view(
    login_server, chromium, sub
):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = _open(context, login_server)
    _log_in(page, login_server, sub)
    # Back at the same selection, in the same language (the provider sent the browser to /).
    page.wait_for_url("**type=kidnapping**", timeout=30_000)
    assert "lang=en" in page.url
    assert "from=2019-12-01" in page.url
    _switch_on(page)
    assert "restricted" in _data_heading(page)
    assert "public columns" not in _data_heading(page)
    context.close()


def test_restricted_files_have_no_shared_or_lasting_url(login_server, chromium):
    first = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    second = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = _open(first, login_server)
    _log_in(page, login_server, "staff")
    _switch_on(page)
    _data_heading(page)
    url, data = _download_url(page)
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert {"location_text", "notes", "source"} <= set(rows.columns)
    assert "/media/" in url
    # The same selection in another session (another staff member) gets another URL.
    other = _open(second, login_server)
    _log_in(other, login_server, "staff2")
    _switch_on(other)
    _data_heading(other)
    other_url, other_data = _download_url(other)
    assert pd.read_csv(io.BytesIO(other_data), encoding="utf-8-sig").shape == rows.shape
    assert other_url != url
    # The file is dropped at Streamlit's clean-ups after the session's next reruns (the
    # restricted tab checks its login every 3 s here): fetched without a cookie, nothing.
    deadline = time.monotonic() + 45
    status, body = _fetch(url)
    while status == 200 and time.monotonic() < deadline:
        time.sleep(1)
        status, body = _fetch(url)
    assert status == 404, status
    assert b"location_text" not in body
    # A logged-out client fetching the other session's URL after it logged out: nothing.
    _log_out(other, login_server)
    deadline = time.monotonic() + 45
    status, body = _fetch(other_url)
    while status == 200 and time.monotonic() < deadline:
        time.sleep(1)
        status, body = _fetch(other_url)
    assert status == 404, status
    first.close()
    second.close()


def test_logout_closes_the_second_tab_and_a_saved_cookie_does_not_reopen(login_server, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    tab1 = _open(context, login_server)
    _log_in(tab1, login_server, "tabs")
    saved = context.cookies()
    assert any(c["name"].startswith("_streamlit_user") for c in saved)
    tab2 = _open(context, login_server)
    _switch_on(tab2)
    _log_out(tab1, login_server)
    # The idle second tab blanks itself at its next check (every 3 s here), with no click.
    tab2.get_by_text(RESTRICTED_NOTE).wait_for(state="detached", timeout=30_000)
    tab2.get_by_text("was ended").wait_for(timeout=30_000)
    _wait_for_app(tab2)  # the rerun's last elements replace the old ones once it has finished
    assert _toggle(tab2).count() == 0
    assert "public columns" in _data_heading(tab2)
    context.close()
    # The login cookie copied before the logout, replayed in a fresh browser: still signed
    # by Streamlit, but the server's record ends that login.
    replay = chromium.new_context(viewport={"width": 1400, "height": 1000})
    replay.add_cookies(saved)
    page = _open(replay, login_server)
    page.get_by_text("was ended").wait_for(timeout=30_000)
    assert _toggle(page).count() == 0
    assert "public columns" in _data_heading(page)
    replay.close()


def test_log_out_everywhere_ends_the_other_browsers_login(login_server, chromium):
    laptop = chromium.new_context(viewport={"width": 1400, "height": 1000})
    phone = chromium.new_context(viewport={"width": 1400, "height": 1000})
    on_laptop = _open(laptop, login_server)
    _log_in(on_laptop, login_server, "replay")
    on_phone = _open(phone, login_server)
    _log_in(on_phone, login_server, "replay")
    _switch_on(on_phone)
    _log_out(on_laptop, login_server, everywhere=True)
    on_phone.get_by_text(RESTRICTED_NOTE).wait_for(state="detached", timeout=30_000)
    on_phone.get_by_text("was ended").wait_for(timeout=30_000)
    # A fresh login after that is live again.
    _log_in(on_laptop, login_server, "replay")
    _switch_on(on_laptop)
    laptop.close()
    phone.close()
