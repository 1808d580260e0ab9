"""The public location policy, the pseudonyms and small-cell suppression."""

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmap.release.privacy import (
    PRIVATE_COLUMNS,
    PUBLIC_COLUMNS,
    format_count,
    pseudonym,
    pseudonym_key,
    public_view,
)
from riskmap.schema import INCIDENT_TYPES, PUBLIC_SITE_TYPES
from riskmap.settings import Settings


def test_public_view_has_only_public_columns(sample, places):
    view = public_view(sample, places=places).loc[sample.index]
    assert list(view.columns) == list(PUBLIC_COLUMNS)
    assert not set(PRIVATE_COLUMNS) & set(view.columns)
    assert len(view) == len(sample)
    assert view.index.sort_values().equals(sample.index.sort_values())
    assert not view["incident_id"].isin(sample["incident_id"]).any()
    assert view["incident_id"].str.match(r"^inc-[0-9a-f]{12}$").all()


def test_public_sites_keep_the_site_point(sample, places):
    view = public_view(sample, places=places).loc[sample.index]
    at_site = (
        (sample["geo_precision"] == "site")
        & sample["place_type"].isin(PUBLIC_SITE_TYPES)
        & ~sample["incident_types"].str.contains("sexual_assault")
    )
    assert at_site.sum() > 5
    site_pts = places.set_index("place_id").loc[sample.loc[at_site, "place_id"], ["lat", "lon"]]
    np.testing.assert_allclose(view.loc[at_site, "lat"], site_pts["lat"].round(6))
    assert (view.loc[at_site, "public_location"] == "site").all()


def test_other_incidents_move_to_their_cell_centre(sample, places):
    view = public_view(sample, places=places).loc[sample.index]
    hood = (sample["geo_precision"] == "neighborhood") & ~sample["incident_types"].str.contains(
        "sexual_assault"
    )
    assert hood.sum() >= 2
    for i in sample.index[hood]:
        cell = h3.latlng_to_cell(sample.at[i, "lat"], sample.at[i, "lon"], 8)
        centre = h3.cell_to_latlng(cell)
        assert view.at[i, "lat"] == pytest.approx(centre[0], abs=1e-6)
        assert view.at[i, "lon"] == pytest.approx(centre[1], abs=1e-6)
        assert (view.at[i, "lat"], view.at[i, "lon"]) != (sample.at[i, "lat"], sample.at[i, "lon"])
        assert view.at[i, "public_location"] == "hex"
        assert pd.isna(view.at[i, "place_id"])


def test_shelters_and_camp_are_not_pinned(places):
    rows = []
    for i, pid in enumerate(["nld_casa_nazareth", "mat_camp"]):
        p = places.set_index("place_id").loc[pid]
        rows.append(
            {
                "incident_id": f"x{i}",
                "date": "2019-12-01",
                "incident_types": "kidnapping",
                "city": p["city"],
                "lat": p["lat"],
                "lon": p["lon"],
                "geo_precision": "site",
                "place_id": pid,
                "place_type": p["place_type"],
                "victims": 3,
                "children": 0,
                "synthetic": True,
            }
        )
    view = public_view(pd.DataFrame(rows), places=places)
    assert (view["public_location"] == "hex").all()
    assert view["place_id"].isna().all()


def test_sexual_assault_goes_to_city_point_and_month(sample, places):
    view = public_view(sample, places=places).loc[sample.index]
    sa = sample["incident_types"].str.contains("sexual_assault") & sample["city"].notna()
    assert sa.sum() == 4
    cities = places[places["place_type"] == "city"].set_index("city")
    for i in sample.index[sa]:
        assert view.at[i, "public_location"] == "city"
        assert view.at[i, "lat"] == pytest.approx(cities.at[sample.at[i, "city"], "lat"])
        assert view.at[i, "date"].day == 1
        assert view.at[i, "date_precision"] == "month"
        assert pd.isna(view.at[i, "place_id"])


def test_unresolved_have_no_coordinates(sample, places):
    view = public_view(sample, places=places).loc[sample.index]
    un = sample["geo_precision"] == "unresolved"
    assert view.loc[un, "lat"].isna().all()
    assert (view.loc[un, "public_location"] == "none").all()


def test_pseudonym_is_keyed_and_stable(tmp_path):
    import hashlib

    key = b"k" * 32
    assert pseudonym("SYN-001", key=key) == pseudonym("SYN-001", key=key)
    assert pseudonym("SYN-001", key=key) != pseudonym("SYN-002", key=key)
    assert pseudonym("SYN-001", key=key) != pseudonym("SYN-001", key=b"other")
    # Hashing every guessable id without the key does not find the public id.
    unkeyed = {
        f"inc-{hashlib.sha256(f'SYN-{i:03d}'.encode()).hexdigest()[:12]}" for i in range(1000)
    }
    assert pseudonym("SYN-001", key=key) not in unkeyed
    # Without a configured key, one is made beside the store and kept between runs.
    settings = Settings(store=tmp_path / "s.gpkg")
    first = pseudonym_key(settings)
    assert len(first) == 64
    assert (tmp_path / ".riskmap-pseudonym.key").stat().st_mode & 0o077 == 0
    assert pseudonym_key(settings) == first
    assert pseudonym_key(Settings(pseudonym_key="configured")) == b"configured"


def test_public_ids_use_the_key(sample, places, tmp_path):
    settings = Settings(store=tmp_path / "s.gpkg")
    view = public_view(sample, places=places, settings=settings).loc[sample.index]
    key = pseudonym_key(settings)
    assert view["incident_id"].tolist() == [pseudonym(i, key=key) for i in sample["incident_id"]]


def test_private_places_are_not_named(sample, places):
    view = public_view(sample, places=places)
    assert not set(view["place_type"].dropna()) & {"shelter", "camp"}
    # The precision shown is that of the point shown.
    by_how = {k: set(g) for k, g in view.groupby("public_location")["geo_precision"]}
    assert by_how["site"] == {"site"}
    assert by_how["hex"] == {"neighborhood"}
    assert by_how["city"] == {"city"}


def test_format_count():
    assert [format_count(n, k=3) for n in (0, 1, 2, 3, 10)] == ["0", "<3", "<3", "3", "10"]


_point = st.tuples(
    st.floats(min_value=25.80, max_value=27.60, allow_nan=False),
    st.floats(min_value=-99.60, max_value=-97.40, allow_nan=False),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            _point,
            st.sets(st.sampled_from(INCIDENT_TYPES), min_size=1, max_size=3),
            st.sampled_from(["site", "neighborhood", "city", "unresolved"]),
            st.sampled_from(["Matamoros", "Nuevo Laredo", None]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_public_view_never_shows_a_raw_non_site_coordinate(places, rows):
    frame = pd.DataFrame(
        [
            {
                "incident_id": f"r{i}",
                "date": "2019-12-15",
                "incident_types": "|".join(sorted(types)),
                "city": city,
                "lat": lat,
                "lon": lon,
                "geo_precision": prec,
                "victims": 1,
                "children": 0,
                "location_text": "secret text",
                "notes": "secret note",
                "synthetic": True,
            }
            for i, ((lat, lon), types, prec, city) in enumerate(rows)
        ]
    )
    view = public_view(frame, places=places)
    raw = set(zip(frame["lat"].round(6), frame["lon"].round(6), strict=True))
    site_points = set(zip(places["lat"].round(6), places["lon"].round(6), strict=True))
    for lat, lon in zip(view["lat"], view["lon"], strict=True):
        if pd.isna(lat):
            continue
        # Every shown point is a gazetteer point or an H3 cell centre, never a raw input point
        # (unless that raw point happens to be a gazetteer point itself).
        assert (lat, lon) not in raw - site_points
    text = view.to_csv()
    assert "secret" not in text


def test_row_order_does_not_reveal_a_hidden_day(sample, places):
    view = public_view(sample, places=places)
    # Sorted by the date shown: a month-only row sits with the other rows of the 1st of the
    # month, not among the rows of its true day.
    assert view["date"].is_monotonic_increasing
    same_day = view.groupby("date")["incident_id"].apply(lambda s: s.is_monotonic_increasing)
    assert same_day.all()
