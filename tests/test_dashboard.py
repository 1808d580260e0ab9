"""What the dashboard panels say, computed without Streamlit: ranking cards, places listed."""

import pandas as pd
import pytest

from riskmap.analysis import hotspots
from riskmap.filters import Filters
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.settings import Settings
from riskmap.views import dashboard

SETTINGS = Settings(pseudonym_key="dashboard-tests")


@pytest.fixture(scope="module")
def staff(sample, places):
    return restricted_audience(sample, places=places, settings=SETTINGS)


def test_cards_say_what_a_rank_rests_on(staff):
    ranking = hotspots.rank_selection(staff, Filters(), radius_m=500)
    cards = dashboard.ranking_cards(ranking, lang="en", audience=staff)
    active = ranking[(ranking["incidents"] > 0) | (ranking["previous_incidents"] > 0)]
    assert len(cards) == len(active)
    first = active.iloc[0]
    assert cards[0].startswith(f"**1. {first['name']}**")
    assert f"**{first['incidents']}** incidents" in cards[0]
    # The sample starts inside the previous period: no change is shown.
    assert ranking.attrs["previous_covered"] is False
    assert not any("Previous" in c for c in cards)
    grouped = [c for c, m in zip(cards, active["members"], strict=True) if "|" in m]
    assert all("One site:" in c for c in grouped)
    pointless = [c for c, lat in zip(cards, active["lat"], strict=True) if pd.isna(lat)]
    assert all("No map point" in c for c in pointless)
    spanish = dashboard.ranking_cards(ranking, lang="es", audience=staff)
    assert spanish[0].startswith(f"**1. {first['name_es']}**")


def test_a_covered_previous_period_shows_the_change(staff):
    ranking = hotspots.rank_selection(staff, Filters(), radius_m=500, period_days=30)
    assert ranking.attrs["previous_covered"] is True
    cards = dashboard.ranking_cards(ranking, lang="en", audience=staff)
    assert any("Previous 30 days" in c for c in cards)


def test_places_without_a_point_are_listed_by_name(sample, places):
    public = public_audience(sample, places=places, settings=SETTINGS)
    selection = public.select(Filters())
    listed = dashboard.listed_places(selection, places=places, lang="es")
    pointless = selection[selection["lat"].isna() & selection["place_id"].notna()]
    assert listed["incidents"].sum() == len(pointless)
    assert ((listed["incidents"] == 0) | (listed["incidents"] >= 3)).all()
    names = dict(zip(places["place_id"], places["name_es"], strict=True))
    assert (listed["name"] == listed["place_id"].map(names)).all()


def test_shown_dates_are_each_rows_own_text():
    """Dates are written once per distinct pair, and each row gets its own pair's text."""
    from riskmap.views.viewstate import date_text, span_text

    dates = pd.to_datetime(
        ["2019-12-01", "2019-12-01", "2019-10-01", None, "2020-01-06", "2019-12-01"]
    )
    ends = pd.to_datetime(
        ["2019-12-31", "2019-12-01", "2019-12-31", None, "2020-01-12", "2019-12-31"]
    )
    rows = pd.DataFrame({"date": dates, "date_end": ends, "x": range(6)})
    shown = dashboard.with_shown_dates(rows)
    assert shown["date"].tolist() == [span_text(a, b) for a, b in zip(dates, ends, strict=True)]
    assert shown["date"].tolist()[:4] == ["2019-12", "2019-12-01", "2019-Q4", ""]
    precision = pd.Series(["month", "day", "quarter", "day", "week", None])
    by_precision = rows.drop(columns="date_end").assign(date_precision=precision)
    plain = dashboard.with_shown_dates(by_precision)
    assert plain["date"].tolist() == [
        date_text(a, p, "en") for a, p in zip(dates, precision, strict=True)
    ]
    assert plain["date"].tolist()[2:4] == ["2019-Q4", ""]
    assert dashboard.with_shown_dates(rows.head(0))["date"].tolist() == []
