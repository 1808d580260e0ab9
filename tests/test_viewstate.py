"""A view of the dashboard and its link: periods stay relative, dates clamp with a message,
every part of the view round-trips through the URL and through the widgets' values."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmap.filters import Filters
from riskmap.schema import INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES
from riskmap.views import viewstate
from riskmap.views.viewstate import ViewState

BOUNDS = (dt.date(2019, 10, 1), dt.date(2020, 1, 25))


def test_a_relative_period_stays_relative_in_the_link():
    state = ViewState(period="last90", tab="hotspots", hidden=("heat",), lang="en")
    params = state.to_query_params()
    assert params == {"period": "last90", "tab": "hotspots", "hide": ["heat"], "lang": "en"}
    assert "from" not in params  # a bookmark moves forward with the data
    again = ViewState.from_query_params(params)
    assert again == state
    # The range follows the data's last day, whatever it is when the link is opened.
    later = (BOUNDS[0], BOUNDS[1] + dt.timedelta(days=40))
    one = viewstate.resolve_period("last90", bounds=BOUNDS, lang="en")
    two = viewstate.resolve_period("last90", bounds=later, lang="en")
    assert one.end == BOUNDS[1]
    assert two.end == later[1]
    assert (one.end - one.start).days == 89


def test_a_custom_range_and_a_map_view_round_trip():
    state = ViewState(
        filters=Filters(
            start=dt.date(2019, 12, 1),
            end=dt.date(2019, 12, 31),
            types=("kidnapping",),
            cities=("Nuevo Laredo",),
        ),
        period="custom",
        view=(27.48912, -99.50731, 13),
        lang="es",
    )
    params = state.to_query_params()
    assert params["map"] == "13/27.48912/-99.50731"
    assert params["from"] == "2019-12-01"
    assert ViewState.from_query_params(params) == state


def test_old_links_and_bad_values_open():
    # A link from before periods existed is a custom range.
    old = ViewState.from_query_params({"from": "2019-12-01", "to": "2019-12-31"})
    assert old.period == "custom"
    assert old.filters.start == dt.date(2019, 12, 1)
    bad = ViewState.from_query_params(
        {"period": "last7000", "tab": "admin", "map": "99/1/2", "hide": ["heat", "x"]}
    )
    assert (bad.period, bad.tab, bad.view, bad.hidden) == ("all", "map", None, ("heat",))
    # Dates in a link are ignored unless the period is custom.
    assert ViewState.from_query_params({"period": "last30", "from": "2019-12-01"}).filters == (
        Filters()
    )


def test_month_presets_span_the_data_and_are_named_in_both_languages():
    months = viewstate.month_periods(BOUNDS)
    assert months == ["2020-01", "2019-12", "2019-11", "2019-10"]
    assert viewstate.period_label("2020-01", "es") == "Enero 2020"
    assert viewstate.period_label("2020-01", "en") == "January 2020"
    got = viewstate.resolve_period("2019-12", bounds=BOUNDS, lang="en")
    assert (got.start, got.end, got.notes) == (dt.date(2019, 12, 1), dt.date(2019, 12, 31), ())


def test_the_period_filter_names_a_period_from_its_choice_and_month():
    months = viewstate.month_periods(BOUNDS)
    chosen = viewstate.chosen_period
    assert [viewstate.period_span(p) for p in ("all", "last30", "2019-12", "custom")] == [
        "all",
        "last30",
        "month",
        "custom",
    ]
    assert chosen("last90", month="2019-12", previous="all", months=months) == "last90"
    # "Month" names the month field's month, else the month shown before, else the latest.
    assert chosen("month", month="2019-11", previous="all", months=months) == "2019-11"
    assert chosen("month", month="1999-01", previous="2019-12", months=months) == "2019-12"
    assert chosen("month", month=None, previous="last30", months=months) == "2020-01"
    assert chosen("month", month=None, previous="all", months=[]) == "all"
    # No choice (the chosen one clicked again) keeps what was shown.
    assert chosen(None, month="2019-11", previous="2019-12", months=months) == "2019-12"
    assert chosen(None, month=None, previous="custom", months=months) == "custom"
    # Every choice has a short name in both languages.
    for lang in ("en", "es"):
        names = [viewstate.span_label(s, lang) for s in viewstate.SPANS]
        assert len(set(names)) == len(viewstate.SPANS)
        assert all(0 < len(n) <= 8 for n in names), names


def test_dates_beyond_the_data_are_clamped_with_a_message():
    got = viewstate.resolve_period(
        "custom", picked=(dt.date(2020, 1, 1), dt.date(2020, 1, 31)), bounds=BOUNDS, lang="en"
    )
    assert (got.start, got.end) == (dt.date(2020, 1, 1), BOUNDS[1])
    assert got.notes == (
        "The data run from 2019-10-01 to 2020-01-25: the range shown is trimmed to them.",
    )
    # In Spanish too.
    es = viewstate.resolve_period(
        "custom", picked=(dt.date(2020, 1, 1), dt.date(2020, 1, 31)), bounds=BOUNDS, lang="es"
    )
    assert "Los datos van del 2019-10-01 al 2020-01-25" in es.notes[0]


def test_reversed_one_sided_and_outside_ranges_say_what_they_do():
    swapped = viewstate.resolve_period(
        "custom", picked=(dt.date(2019, 12, 31), dt.date(2019, 12, 1)), bounds=BOUNDS, lang="en"
    )
    assert (swapped.start, swapped.end) == (dt.date(2019, 12, 1), dt.date(2019, 12, 31))
    assert "swapped" in swapped.notes[0]
    open_end = viewstate.resolve_period(
        "custom", picked=(dt.date(2019, 12, 1),), bounds=BOUNDS, lang="en"
    )
    assert (open_end.start, open_end.end) == (dt.date(2019, 12, 1), BOUNDS[1])
    assert "choose an end date" in open_end.notes[0]
    outside = viewstate.resolve_period(
        "custom", picked=(dt.date(2021, 1, 1), dt.date(2021, 2, 1)), bounds=BOUNDS, lang="en"
    )
    assert (outside.start, outside.end) == (dt.date(2021, 1, 1), dt.date(2021, 2, 1))
    assert "No data in these dates" in outside.notes[-1]


def test_the_summary_names_every_filter_and_the_last_day():
    state = ViewState(
        filters=Filters(types=("kidnapping",), cities=("Matamoros",), children_only=True),
        period="last30",
    )
    dates = viewstate.resolve_period("last30", bounds=BOUNDS, lang="es")
    text = viewstate.summary(state, dates, data_through=BOUNDS[1], lang="es")
    assert text == (
        "Últimos 30 días de los datos (2019-12-27 – 2020-01-25) · Secuestro · Matamoros · "
        "Con menores afectados · datos hasta el 2020-01-25"
    )


def test_dates_read_at_their_precision():
    assert viewstate.date_text("2019-12-01", "month", "es") == "2019-12"
    assert viewstate.date_text("2019-10-01", "quarter", "en") == "2019-Q4"
    assert viewstate.date_text("2019-12-14", "day", "en") == "2019-12-14"
    assert viewstate.date_text(None, "day", "en") == ""
    assert viewstate.span_text("2019-12-01", "2019-12-31") == "2019-12"
    assert viewstate.span_text("2019-10-01", "2019-12-31") == "2019-Q4"
    assert viewstate.span_text("2019-11-01", "2020-01-31") == "2019-11 – 2020-01"
    assert viewstate.span_text("2020-01-03", "2020-01-09") == "2020-01-03 – 2020-01-09"
    assert viewstate.month_text("2019-12-01", "es") == "Dic 2019"


def test_a_link_is_built_from_the_page_address():
    state = ViewState(filters=Filters(types=("kidnapping", "extortion")), lang="en")
    got = viewstate.link("http://example.org/riskmap/?old=1#x", state)
    parts = urlsplit(got)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "example.org", "/riskmap/")
    assert parse_qs(parts.query) == {"type": ["extortion", "kidnapping"], "lang": ["en"]}
    assert viewstate.link(None, state).startswith("?")


def test_the_map_component_view_is_read_safely():
    assert viewstate.map_view({"center": {"lat": 26.1234567, "lng": -97.5}, "zoom": 12}) == (
        26.12346,
        -97.5,
        12,
    )
    for bad in (None, {}, {"center": None, "zoom": 3}, {"center": {"lat": "x"}, "zoom": 3}):
        assert viewstate.map_view(bad) is None


_dates = st.one_of(st.none(), st.dates(dt.date(2018, 1, 1), dt.date(2022, 12, 31)))


@st.composite
def _states(draw):
    start, end = draw(_dates), draw(_dates)
    if start and end and start > end:
        start, end = end, start
    period = draw(st.sampled_from(["all", "last30", "last90", "2019-12", "custom"]))
    if period != "custom":
        start = end = None
    view = draw(
        st.one_of(
            st.none(),
            st.tuples(
                st.floats(25, 28).map(lambda v: round(v, 5)),
                st.floats(-100, -97).map(lambda v: round(v, 5)),
                st.integers(1, 19),
            ),
        )
    )
    return ViewState(
        filters=Filters(
            start=start,
            end=end,
            types=tuple(draw(st.lists(st.sampled_from(INCIDENT_TYPES), max_size=3))),
            cities=tuple(draw(st.lists(st.sampled_from(["Matamoros", "Nuevo Laredo"])))),
            perpetrators=tuple(draw(st.lists(st.sampled_from(PERPETRATORS), max_size=2))),
            place_types=tuple(draw(st.lists(st.sampled_from(PLACE_TYPES), max_size=2))),
            children_only=draw(st.booleans()),
        ),
        period=period,
        tab=draw(st.sampled_from(viewstate.TABS)),
        view=view,
        hidden=tuple(x for x in viewstate.LAYERS if draw(st.booleans())),
        lang=draw(st.sampled_from(["es", "en"])),
    )


@given(_states())
def test_every_view_round_trips_through_the_url_and_the_widgets(state):
    assert ViewState.from_query_params(state.to_query_params()) == state
    # Start-open ranges gain the earliest accepted day as their start in the date field.
    values = viewstate.widget_values(state)
    back = viewstate.from_widgets(values, lang=state.lang)
    if state.filters.start is None and state.filters.end is not None:
        assert back.filters.start == viewstate.DATE_FLOOR
        back = back.with_(filters=back.filters.with_(start=None))
    assert back == state


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_new_text_exists_in_both_languages(lang):
    from riskmap.views.i18n import STRINGS

    assert set(STRINGS["es"]) == set(STRINGS["en"])
    assert viewstate.period_label("custom", lang)


def test_a_click_on_the_map_is_read_from_what_the_component_returned():
    returned = {"last_clicked": {"lat": 27.4991123456, "lng": -99.5073198765}, "zoom": 13}
    assert viewstate.clicked_point(returned) == (27.499112, -99.50732)
    for bad in (
        None,
        {},
        {"last_clicked": None},
        {"last_clicked": {"lat": "x", "lng": 1}},
        {"last_clicked": {"lat": float("nan"), "lng": -99.5}},
        {"last_clicked": [1, 2]},
    ):
        assert viewstate.clicked_point(bad) is None
