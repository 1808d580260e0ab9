"""Time playback: frames over months (or weeks), window and cumulative modes, and in the app each
frame's counts, summary and map are those of the same dates chosen with the period filter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from conftest import map_frame
from streamlit.testing.v1 import AppTest

from riskmap.filters import Filters
from riskmap.geo.gazetteer import load_places
from riskmap.release.audience import public_audience
from riskmap.settings import Settings
from riskmap.store import read_incidents
from riskmap.views import dashboard, playback
from riskmap.views.viewstate import ViewState, resolve_period

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def public(sample_store):
    return public_audience(
        read_incidents(sample_store), places=load_places(), settings=Settings(), store=sample_store
    )


def test_month_frames_cover_the_data(public):
    bounds = dashboard.date_bounds(public.table)
    assert playback.frame_unit(public.table) == "month"  # the sample is shown by month or coarser
    frames = playback.frames(bounds, unit="month")
    assert frames[0].start <= bounds[0] <= frames[0].end
    assert frames[-1].start <= bounds[1] <= frames[-1].end
    for before, after in zip(frames, frames[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert [f.key for f in frames] == sorted(f.key for f in frames)
    assert playback.frame_label(frames[0], lang="es").split()[1] == str(frames[0].start.year)


def test_week_frames_when_the_release_is_that_fine():
    table = pd.DataFrame(
        {
            "date": pd.to_datetime(["2020-01-01", "2020-01-09", "2020-01-20"]),
            "date_precision": ["day", "week", "month"],
        }
    )
    assert playback.frame_unit(table) == "week"
    weeks = playback.frames((dt.date(2020, 1, 1), dt.date(2020, 1, 20)), unit="week")
    assert [w.start.isoformat() for w in weeks] == [
        "2019-12-30",
        "2020-01-06",
        "2020-01-13",
        "2020-01-20",
    ]
    assert all(w.start.weekday() == 0 and (w.end - w.start).days == 6 for w in weeks)
    assert playback.frame_label(weeks[1], lang="en") == "Week of 2020-01-06"


def test_window_and_cumulative_dates(public):
    frames = playback.frames(dashboard.date_bounds(public.table))
    base = ViewState(filters=Filters(cities=("Matamoros",)), lang="en")
    one, dates = playback.frame_view(base, frames, 2)
    assert one.period == frames[2].key
    assert dates == resolve_period(
        frames[2].key, bounds=dashboard.date_bounds(public.table), lang="en"
    )
    assert one.filters.cities == ("Matamoros",)
    two, dates = playback.frame_view(base, frames, 2, window=2)
    assert (two.period, dates.start, dates.end) == ("custom", frames[1].start, frames[2].end)
    upto, dates = playback.frame_view(base, frames, 2, mode="cumulative")
    assert (upto.period, dates.start, dates.end) == ("custom", frames[0].start, frames[2].end)
    clamped, _ = playback.frame_view(base, frames, 99)
    assert clamped.period == frames[-1].key
    with pytest.raises(ValueError, match="playback mode"):
        playback.frame_view(base, frames, 0, mode="sideways")


def _app(monkeypatch, store, **params: str) -> AppTest:
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"lang": "en", **params}.items():
        at.query_params[key] = value
    return at


def _shown(at: AppTest) -> tuple[dict[str, str], str, str]:
    """The headline counts, the "Showing" line and the map's title box of a run."""
    metrics = {m.label: m.value for m in at.metric}
    showing = next(c.value for c in at.caption if c.value.startswith("**Showing:**"))
    return metrics, showing, showing.replace("\\*", "*")


def test_each_frame_counts_as_the_same_month_chosen_by_filter(monkeypatch, sample_store, public):
    frames = playback.frames(dashboard.date_bounds(public.table))
    playing = _app(monkeypatch, sample_store, city="Nuevo Laredo").run()
    playing.toggle(key="play").set_value(True).run()
    assert not playing.exception
    for i, frame in enumerate(frames):
        playing.select_slider(key="play_frame__en").set_value(i).run()
        assert not playing.exception
        chosen = _app(monkeypatch, sample_store, city="Nuevo Laredo", period=frame.key).run()
        assert not chosen.exception
        assert _shown(playing) == _shown(chosen), frame.key
        # The page's counts are those of the month's selection of the release.
        month = Filters(cities=("Nuevo Laredo",), start=frame.start, end=frame.end)
        expected = dashboard.select(public, month).counts["incidents"]
        assert _shown(playing)[0]["Incidents"] == public.format_count(expected)
    # The address keeps the view chosen, not the frame.
    assert "period" not in playing.query_params


def test_cumulative_frames_count_everything_up_to_them(monkeypatch, sample_store, public):
    frames = playback.frames(dashboard.date_bounds(public.table))
    at = _app(monkeypatch, sample_store).run()
    at.toggle(key="play").set_value(True).run()
    at.radio(key="play_mode__en").set_value("cumulative").run()
    totals = []
    for i, frame in enumerate(frames):
        at.select_slider(key="play_frame__en").set_value(i).run()
        assert not at.exception
        upto = dashboard.select(public, Filters(end=frame.end)).counts["incidents"]
        totals.append(int(_shown(at)[0]["Incidents"]))
        assert totals[-1] == upto
    assert totals == sorted(totals)  # cumulative counts never fall
    assert totals[-1] == len(public.table)


def test_play_advances_a_frame_when_its_time_is_up(monkeypatch, sample_store):
    at = _app(monkeypatch, sample_store).run()
    at.toggle(key="play").set_value(True).run()
    at.button(key="play_run").click().run()
    assert at.session_state["play_running"] is True
    assert at.session_state["play_frame"] == 0
    at.session_state["play_at"] = 0.0  # the frame's time is up
    at.run()
    assert not at.exception
    assert at.session_state["play_frame"] == 1
    at.button(key="play_run").click().run()
    assert at.session_state["play_running"] is False


@pytest.mark.browser
def test_playback_runs_to_the_last_frame_in_a_browser(server, browser_page, public):
    frames = playback.frames(dashboard.date_bounds(public.table))
    last = playback.frame_label(frames[-1], lang="en")
    page = browser_page
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    settled = "[data-testid='stApp'][data-test-script-state='notRunning']"
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_selector(settled, timeout=90_000)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Play over time").click()
    play = sidebar.get_by_role("button", name="Play", exact=True)
    play.wait_for(timeout=60_000)
    page.wait_for_selector(settled, timeout=90_000)
    play.click()
    # The timer moves the frame on by itself, to the last one, then stops.
    sidebar.get_by_role("button", name="Pause", exact=True).wait_for(timeout=60_000)
    page.wait_for_function(
        "(last) => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.startsWith('Showing') && e.innerText.includes(last))",
        arg=last,
        timeout=120_000,
    )
    sidebar.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
    page.wait_for_selector(settled, timeout=90_000)
    showing = page.locator("[data-testid='stCaptionContainer']").filter(has_text="Showing").first
    assert last in showing.inner_text()
    frame = map_frame(page)
    assert last in frame.locator(".rm-title").inner_text()


def test_the_frame_survives_a_language_switch(monkeypatch, sample_store):
    at = _app(monkeypatch, sample_store).run()
    at.toggle(key="play").set_value(True).run()
    at.select_slider(key="play_frame__en").set_value(2).run()
    counts = _shown(at)[0]["Incidents"]
    at.radio(key="lang").set_value("es").run()
    assert not at.exception
    frame = at.select_slider(key="play_frame__es")
    assert frame.value == 2
    assert at.session_state["play_frame"] == 2
    assert {m.label: m.value for m in at.metric}["Incidentes"] == counts
