"""Staff-verified place locations: set by one, confirmed by another, kept in a trail."""

import datetime as dt
import io
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from riskmap.cli import main
from riskmap.views.maps import base_map
from riskmap.workflow.places import (
    STAFF_VERIFIED,
    PlaceChangeError,
    apply_verified,
    confirm_location,
    history,
    history_path,
    pending,
    set_location,
)

ROOT = Path(__file__).resolve().parent.parent

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path, sample_store):
    copy = tmp_path / "incidents.gpkg"
    copy.write_bytes(sample_store.read_bytes())
    return copy


def test_a_location_needs_a_second_person(store, places):
    change = set_location(
        store,
        "mat_bus_terminal",
        lat=25.8702,
        lon=-97.5101,
        reason="walked there",
        by="A@x.org",
        places=places,
        now=T0,
    )
    assert change.by == "a@x.org"
    # Not used until confirmed.
    assert apply_verified(places, store).equals(places)
    assert list(pending(store)["place_id"]) == ["mat_bus_terminal"]
    with pytest.raises(PlaceChangeError, match="two-person rule"):
        confirm_location(store, "mat_bus_terminal", by="a@x.org")
    confirm_location(store, "mat_bus_terminal", by="b@x.org", now=T0 + dt.timedelta(hours=1))
    moved = apply_verified(places, store).set_index("place_id").loc["mat_bus_terminal"]
    assert (moved["lat"], moved["lon"]) == (25.8702, -97.5101)
    assert moved["confidence"] == STAFF_VERIFIED
    assert "a@x.org" in moved["source"]
    assert "b@x.org" in moved["source"]
    assert pending(store).empty


def test_the_trail_keeps_every_change(store, places):
    set_location(
        store, "nld_casa_amar", lat=27.48, lon=-99.51, reason="first", by="a@x.org", places=places
    )
    confirm_location(store, "nld_casa_amar", by="b@x.org")
    set_location(
        store,
        "nld_casa_amar",
        lat=27.481,
        lon=-99.512,
        reason="moved door",
        by="c@x.org",
        places=apply_verified(places, store),
    )
    trail = history(store, "nld_casa_amar")
    assert list(trail["action"]) == ["set", "confirm", "set"]
    # The previous value is kept with the change; the confirmed location stays until the new one
    # is confirmed.
    assert trail.loc[2, "previous_lat"] == pytest.approx(27.48)
    shown = apply_verified(places, store).set_index("place_id").loc["nld_casa_amar"]
    assert shown["lat"] == pytest.approx(27.48)
    assert history_path(store).read_text(encoding="utf-8").count("\n") == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"place_id": "nowhere"}, "unknown place"),
        ({"lat": 40.0}, "outside the border area"),
        ({"reason": " "}, "reason is required"),
        ({"by": ""}, "who makes the change"),
    ],
)
def test_bad_changes_are_refused(store, places, kwargs, message):
    args = {"place_id": "mat_bus_terminal", "lat": 25.87, "lon": -97.51, "reason": "r", "by": "a"}
    args.update(kwargs)
    place_id = args.pop("place_id")
    with pytest.raises(PlaceChangeError, match=message):
        set_location(store, place_id, places=places, **args)
    assert not history_path(store).exists()


def test_cli_set_confirm_history(store, capsys):
    base = ["places"]
    assert (
        main(
            [
                *base,
                "set",
                "mat_bus_terminal",
                "--lat",
                "25.8702",
                "--lon",
                "-97.5101",
                "--reason",
                "walked there",
                "--by",
                "a@x.org",
                "--store",
                str(store),
            ]
        )
        == 0
    )
    assert (
        main([*base, "confirm", "mat_bus_terminal", "--by", "a@x.org", "--store", str(store)]) == 2
    )
    assert "two-person rule" in capsys.readouterr().err
    assert (
        main([*base, "confirm", "mat_bus_terminal", "--by", "b@x.org", "--store", str(store)]) == 0
    )
    capsys.readouterr()
    assert main([*base, "history", "mat_bus_terminal", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "a@x.org" in out
    assert "b@x.org" in out
    assert main([*base, "--store", str(store), "--format", "json"]) == 0
    listed = pd.read_json(io.StringIO(capsys.readouterr().out)).set_index("place_id")
    assert listed.loc["mat_bus_terminal", "confidence"] == STAFF_VERIFIED


def _staff_app(monkeypatch, store, email, auth_secrets):
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    monkeypatch.setenv("RISKMAP_ALLOWED_EMAILS", "a@x.org,b@x.org")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.secrets.update(auth_secrets)
    at.user = {
        "email": email,
        "is_logged_in": True,
        "email_verified": True,
        "iat": int(time.time()),
    }
    return at


def test_two_staff_members_move_a_place_in_the_app(monkeypatch, store, places, auth_secrets):
    at = _staff_app(monkeypatch, store, "a@x.org", auth_secrets).run()
    at.toggle(key="restricted").set_value(True).run()
    at.selectbox(key="loc_place").set_value("nld_bus_terminal").run()
    at.number_input(key="loc_lat").set_value(27.4801)
    at.number_input(key="loc_lon").set_value(-99.5102)
    at.text_input(key="loc_reason").set_value("the terminal's door, checked on foot")
    at.button(key="loc_set").click().run()
    assert not at.exception
    assert any("confirms it" in s.value for s in at.success)
    # The one who set it cannot confirm it.
    assert at.button(key="loc_confirm_nld_bus_terminal").disabled
    # A second member confirms; the public view then uses the location.
    other = _staff_app(monkeypatch, store, "b@x.org", auth_secrets).run()
    other.toggle(key="restricted").set_value(True).run()
    other.button(key="loc_confirm_nld_bus_terminal").click().run()
    assert not other.exception
    trail = history(store, "nld_bus_terminal")
    assert list(trail["by"]) == ["a@x.org", "b@x.org"]
    public = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    public.query_params.update({"lang": "en", "tab": "about"})
    public.run()
    assert not public.exception
    about = " ".join(m.value for m in public.markdown)
    assert "Staff-verified places" in about
    moved = apply_verified(places, store)
    assert moved.set_index("place_id").loc["nld_bus_terminal", "lat"] == pytest.approx(27.4801)
    # The public map's reference layer now pins the terminal at the confirmed point.
    html = base_map(moved, lang="en").get_root().render()
    assert "27.4801" in html
    assert "27.4801" not in base_map(places, lang="en").get_root().render()


def test_a_visitor_cannot_set_a_location(monkeypatch, store, auth_secrets):
    at = _staff_app(monkeypatch, store, "visitor@x.org", auth_secrets).run()
    assert not at.exception
    with pytest.raises(KeyError):
        at.button(key="loc_set")
    public = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    public.run()
    with pytest.raises(KeyError):
        public.button(key="loc_set")
