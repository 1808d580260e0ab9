import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmap.errors import SchemaError
from riskmap.filters import Filters, apply, describe
from riskmap.schema import INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES


def test_apply_each_filter(sample):
    assert len(apply(sample, Filters())) == len(sample)
    dec = apply(sample, Filters(start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31)))
    assert len(dec) > 0
    assert dec["date"].dt.month.eq(12).all()
    kid = apply(sample, Filters(types=("kidnapping",)))
    assert kid["incident_types"].str.split("|").map(lambda t: "kidnapping" in t).all()
    mat = apply(sample, Filters(cities=("Matamoros",)))
    assert set(mat["city"]) == {"Matamoros"}
    police = apply(sample, Filters(perpetrators=("police",)))
    assert set(police["perpetrator"]) == {"police"}
    kids = apply(sample, Filters(children_only=True))
    assert (kids["children"] > 0).all()
    assert len(kids) < len(sample)
    bridges = apply(sample, Filters(place_types=("port_of_entry",)))
    assert set(bridges["place_type"]) == {"port_of_entry"}


def test_end_date_is_inclusive(sample):
    last = sample["date"].max().date()
    assert len(apply(sample, Filters(start=last, end=last))) >= 1


def test_invalid_filters_are_refused():
    with pytest.raises(SchemaError, match="unknown types"):
        Filters(types=("abduction",))
    with pytest.raises(SchemaError, match="after the end"):
        Filters(start=dt.date(2020, 1, 2), end=dt.date(2020, 1, 1))


def test_bad_url_values_fall_back_to_no_restriction():
    f = Filters.from_query_params({"type": ["kidnapping", "nonsense"], "from": "2019-13-40"})
    assert f == Filters(types=("kidnapping",))


@given(
    start=st.none() | st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=400),
    types=st.lists(st.sampled_from(INCIDENT_TYPES), max_size=4),
    cities=st.lists(st.sampled_from(["Matamoros", "Nuevo Laredo", "Reynosa"]), max_size=3),
    perps=st.lists(st.sampled_from(PERPETRATORS), max_size=3),
    places=st.lists(st.sampled_from(PLACE_TYPES), max_size=3),
    children=st.booleans(),
)
def test_url_round_trip(start, days, types, cities, perps, places, children):
    end = start + dt.timedelta(days=days) if start else None
    f = Filters(start, end, tuple(types), tuple(cities), tuple(perps), tuple(places), children)
    assert Filters.from_query_params(f.to_query_params()) == f


def test_describe_is_plain_values():
    d = describe(Filters(start=dt.date(2019, 12, 1), types=("kidnapping",)))
    assert d["start"] == "2019-12-01"
    assert d["types"] == ["kidnapping"]


def test_a_city_with_a_comma_survives_the_url():
    f = Filters(cities=("Ciudad Victoria, Tamaulipas",))
    assert Filters.from_query_params(f.to_query_params()) == f
