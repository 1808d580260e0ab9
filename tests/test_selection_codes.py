"""A public selection runs on the release's coded copy: the same rows, counts and map as the rows.

``dashboard.select`` tests the filters and copies the selection on integer codes
(:func:`riskmap.release.audience.coded`); the rows themselves are copied only when a table, a
chart or a download asks. Everything drawn or counted from the coded copy must be what the rows
give, for any filter state.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from riskmap.analysis.metrics import headline_counts
from riskmap.filters import Filters
from riskmap.release import public as release_public
from riskmap.release.audience import coded, public_audience, restricted_audience
from riskmap.settings import Settings
from riskmap.views import dashboard, maps

SETTINGS = Settings(min_cell=3, pseudonym_key="codes-test-key")

STATES = [
    Filters(),
    Filters(types=("kidnapping",)),
    Filters(types=("extortion", "sexual_assault")),
    Filters(children_only=True),
    Filters(perpetrators=("police",), types=("express_kidnapping",)),
    Filters(cities=("Nuevo Laredo",)),
    Filters(cities=("Matamoros", "Reynosa"), place_types=("bus_terminal", "immigration_office")),
    Filters(start=dt.date(2019, 12, 1), end=dt.date(2020, 1, 31)),
    Filters(start=dt.date(2019, 11, 10), types=("robbery", "threat")),
    Filters(types=("sexual_assault",), children_only=True, cities=("Reynosa",)),
]


@pytest.fixture(scope="module", params=[(400, 1), (1500, 7)], ids=["400", "1500"])
def audience(request, places, random_store):
    n, seed = request.param
    return public_audience(random_store(places, n=n, seed=seed), places=places, settings=SETTINGS)


def _names_free(html: str) -> str:
    """Folium names its elements with random ids: number them by first appearance instead."""
    seen: dict[str, str] = {}
    return re.sub(r"_[0-9a-f]{32}", lambda m: seen.setdefault(m.group(0), f"_{len(seen)}"), html)


def _rendered(shown: maps.DashboardMap) -> str:
    for layer in shown.layers:
        layer.add_to(shown.base)
    return _names_free(shown.base.get_root().render())


def test_the_coded_copy_holds_the_release_values(audience):
    table = audience.table
    codes = coded(table)
    assert codes is coded(table)  # made once per table
    assert "incident_id" not in codes.columns
    assert list(codes.index) == list(table.index)
    for name in codes.columns:
        left = codes[name].astype(object).where(codes[name].notna(), None)
        right = table[name].astype(object).where(table[name].notna(), None)
        assert left.tolist() == right.tolist(), name


@pytest.mark.parametrize("filters", STATES, ids=repr)
def test_a_selection_on_codes_is_the_selection_on_rows(audience, places, filters):
    selection = dashboard.select(audience, filters)
    # select() drops a date bound that leaves out no dated incident; the rows are the rest's.
    first, last = dashboard.date_bounds(audience.table)
    effective = filters.with_(
        start=None if filters.start and filters.start <= first else filters.start,
        end=None if filters.end and filters.end >= last else filters.end,
    )
    expected = release_public.select(audience.table, effective)
    pd.testing.assert_frame_equal(selection.incidents, expected)
    assert list(selection.drawn.index) == list(selection.incidents.index)
    assert selection.empty == selection.incidents.empty
    assert selection.counts == headline_counts(selection.incidents)
    for lang in ("es", "en"):
        pd.testing.assert_frame_equal(
            maps.aggregate_locations(maps.named_in(selection.drawn, places, lang)),
            maps.aggregate_locations(maps.named_in(selection.incidents, places, lang)),
        )
        pd.testing.assert_frame_equal(
            dashboard.listed_places(selection.drawn, places=places, lang=lang),
            dashboard.listed_places(selection.incidents, places=places, lang=lang),
        )
        kw = {"audience": audience, "lang": lang, "asset_base": None, "title_html": "t"}
        assert _rendered(maps.dashboard_map(selection.drawn, **kw)) == _rendered(
            maps.dashboard_map(selection.incidents, **kw)
        )


def test_named_in_gives_the_same_names_coded_or_not(audience, places):
    for lang in ("es", "en"):
        plain = maps.named_in(audience.table, places, lang)["place_name"]
        from_codes = maps.named_in(coded(audience.table), places, lang)["place_name"]
        assert isinstance(from_codes.dtype, pd.CategoricalDtype)
        assert from_codes.astype("string").equals(plain)


def test_positions_are_only_for_the_public_release(places, random_store):
    staff = restricted_audience(
        random_store(places, n=50, seed=3), places=places, settings=SETTINGS
    )
    with pytest.raises(ValueError, match="public release"):
        staff.select_positions(Filters())
    # A staff selection is its rows: nothing coded.
    selection = dashboard.select(staff, Filters(types=("kidnapping",)))
    assert selection.drawn is selection.incidents
