"""The public release: k-anonymous over every shown attribute, generalised along hierarchies."""

from __future__ import annotations

import datetime as dt

import h3
import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity

from riskmap.filters import Filters
from riskmap.release import public
from riskmap.release.public import (
    LEVELS,
    QI_COLUMNS,
    ROW_COLUMNS,
    build_release,
    detail,
    global_levels,
    select,
)
from riskmap.schema import PUBLIC_SITE_TYPES
from riskmap.settings import Settings

KEY = b"test-key"


def _release(frame, places, *, k=3, **kw):
    return build_release(frame, places=places, settings=Settings(min_cell=k), key=KEY, **kw)


def _classes(rows: pd.DataFrame) -> pd.Series:
    """Size of each row's class: rows equal on every shown attribute but the id."""
    shown = rows[list(QI_COLUMNS)].astype(object).where(rows[list(QI_COLUMNS)].notna(), "∅")
    key = shown.astype(str).agg("\x1f".join, axis=1)
    return key.map(key.value_counts())


def _k_of(rows: pd.DataFrame) -> int:
    """k as pycanon, an independent checker, measures it over the shown attributes."""
    shown = rows[list(QI_COLUMNS)].astype(object).where(rows[list(QI_COLUMNS)].notna(), "∅")
    return int(anonymity.k_anonymity(shown.astype(str), list(QI_COLUMNS)))


@pytest.mark.parametrize(("n", "seed", "k"), [(46, 1, 3), (300, 2, 3), (300, 3, 5), (2000, 4, 3)])
def test_release_is_k_anonymous(places, n, seed, k, random_store):
    release = _release(random_store(places, n=n, seed=seed), places, k=k)
    rows = release.rows()
    assert release.report["released"] + release.suppressed == n
    if len(rows):
        assert _k_of(rows) >= k
    assert list(rows.columns) == list(ROW_COLUMNS)


def test_the_sample_release_is_3_anonymous_and_loses_no_incident(sample, places):
    release = _release(sample, places)
    assert _k_of(release.rows()) >= 3
    assert release.suppressed == 0
    assert len(release.table) == len(sample)
    # No number of people: two sums could be subtracted to tell those of a few incidents.
    assert not {"victims", "children"} & set(release.table.columns)


def test_rows_carry_no_store_order_id_or_text(sample, places):
    release = _release(sample, places)
    rows = release.rows()
    assert isinstance(rows.index, pd.RangeIndex)
    assert not rows["incident_id"].isin(sample["incident_id"]).any()
    assert rows["incident_id"].str.match(r"^inc-[0-9a-f]{12}$").all()
    assert "SYNTHETIC" not in rows.to_csv()
    # Ordered by the shown date, then the pseudonym: nothing of the recorded order remains.
    order = rows.sort_values(["date", "incident_id"], kind="stable").index
    assert list(order) == list(rows.index)


def test_sites_points_and_cells(places, random_store):
    release = _release(random_store(places, n=3000, seed=7), places)
    rows = release.rows()
    by_id = places.set_index("place_id")
    site = rows[rows["public_location"] == "site"]
    assert len(site) > 30
    assert set(site["place_type"]) <= PUBLIC_SITE_TYPES
    np.testing.assert_allclose(site["lat"], by_id.loc[site["place_id"], "lat"].round(6))
    assert (site["place_type"].to_numpy() == by_id.loc[site["place_id"], "place_type"]).all()
    hexes = rows[rows["public_location"] == "hex"]
    assert len(hexes) > 30
    for lat, lon in hexes[["lat", "lon"]].drop_duplicates().itertuples(index=False):
        cell = h3.latlng_to_cell(lat, lon, 8)
        assert h3.cell_to_latlng(cell) == pytest.approx((lat, lon), abs=1e-6)
    assert hexes["place_id"].isna().all()
    cities = rows[rows["public_location"] == "city"]
    city_points = places[places["place_type"] == "city"].set_index("city")
    np.testing.assert_allclose(cities["lat"], city_points.loc[cities["city"], "lat"])


def test_shelters_and_the_camp_are_never_named_or_pinned(places, random_store):
    frame = random_store(places, n=3000, seed=11)
    rows = _release(frame, places).rows()
    private = places.loc[places["place_type"].isin(["shelter", "camp"]), "place_id"]
    assert not rows["place_id"].isin(private).any()
    assert not rows["place_type"].isin(["shelter", "camp"]).any()


def test_the_gazetteer_kind_of_place_wins(places):
    # Finding 5: camp incidents recorded as "port_of_entry" were published named at the camp.
    camp = places.set_index("place_id").loc["mat_camp"]
    frame = pd.DataFrame(
        {
            "incident_id": [f"C{i}" for i in range(6)],
            "date": "2019-12-02",
            "incident_types": "kidnapping",
            "city": "Matamoros",
            "lat": camp["lat"],
            "lon": camp["lon"],
            "geo_precision": "site",
            "place_id": "mat_camp",
            "place_type": "port_of_entry",
            "perpetrator": "criminal_group",
            "victims": 1,
            "children": 0,
            "synthetic": True,
        }
    )
    rows = _release(frame, places).rows()
    assert len(rows) == 6
    assert (rows["public_location"] != "site").all()
    assert rows["place_id"].isna().all()
    assert not rows["place_type"].isin(["port_of_entry", "camp"]).any()


def test_a_city_is_shown_only_when_it_is_a_gazetteer_city(places, random_store):
    # Finding 6: free text in the city column was published verbatim.
    frame = random_store(places, n=60, seed=5)
    frame["geo_precision"] = "city"
    frame["place_id"] = None
    frame["city"] = ["Casa de Juan Pérez, calle 5"] * 30 + ["Matamoros"] * 30
    rows = _release(frame, places).rows()
    assert set(rows["city"].dropna()) <= {"Matamoros"}
    assert "Juan" not in rows.to_csv()


def test_sexual_assault_keeps_its_floor(places, random_store):
    from riskmap.release.privacy import pseudonyms

    frame = random_store(places, n=3000, seed=13)
    frame.loc[frame.index[:300], "incident_types"] = "sexual_assault"
    rows = _release(frame, places).table.set_index("incident_id")
    true_sa = frame["incident_types"].str.contains("sexual_assault")
    ids = [i for i in pseudonyms(frame.loc[true_sa, "incident_id"], KEY) if i in rows.index]
    assert len(ids) > 250
    # A sexual assault is never shown by day or week, nor at a site or a cell ...
    assert not rows.loc[ids, "date_precision"].isin(["day", "week"]).any()
    assert not rows.loc[ids, "public_location"].isin(["site", "hex"]).any()
    # ... and the type is named only in classes of at least k.
    named = rows["incident_types"].fillna("").str.contains("sexual_assault")
    assert named.sum() > 0
    assert _k_of(rows[named].reset_index()) >= 3


def test_month_only_records_are_never_shown_by_day(places, random_store):
    frame = random_store(places, n=2000, seed=17)
    rows = _release(frame, places).table
    release_of = dict(zip(rows["incident_id"], rows["date_precision"], strict=True))
    from riskmap.release.privacy import pseudonyms

    ids = pseudonyms(frame.loc[frame["date_precision"] == "month", "incident_id"], KEY)
    assert ids
    assert not {release_of[i] for i in ids if i in release_of} & {"day", "week"}


def test_what_cannot_be_protected_is_suppressed_and_counted(places, random_store):
    frame = random_store(places, n=2, seed=3)
    release = _release(frame, places)
    assert release.suppressed == 2
    assert release.report["released"] == 0
    assert release.rows().empty


def test_classes_of_k_keep_their_detail(places):
    bridge = places.set_index("place_id").loc["nld_bridge_2"]
    frame = pd.DataFrame(
        {
            "incident_id": [f"B{i}" for i in range(3)],
            "date": "2020-01-10",
            "incident_types": "kidnapping",
            "city": "Nuevo Laredo",
            "lat": bridge["lat"],
            "lon": bridge["lon"],
            "geo_precision": "site",
            "place_id": "nld_bridge_2",
            "place_type": "port_of_entry",
            "perpetrator": "police",
            "victims": 2,
            "children": 1,
            "synthetic": True,
        }
    )
    rows = _release(frame, places).rows()
    assert set(rows["public_location"]) == {"site"}
    assert set(rows["date_precision"]) == {"day"}
    assert set(rows["incident_types"]) == {"kidnapping"}
    assert set(rows["perpetrator"]) == {"police"}
    assert rows["children_affected"].all()


def test_local_recoding_keeps_more_detail_than_global(sample, places):
    local = _release(sample, places)
    glob = _release(sample, places, recoding="global")
    assert local.report["detail"] > glob.report["detail"]
    assert local.suppressed <= glob.suppressed
    assert _k_of(glob.rows()) >= 3


def test_global_levels_respect_the_budget(places, random_store):
    frame = random_store(places, n=400, seed=19)
    hier = public._Hierarchies.of(public._canonical(frame), places=places, settings=Settings())
    node = global_levels(hier, k=3, max_suppressed=0.05)
    levels = np.maximum(hier.start, node)
    sizes = public._class_sizes(hier.keys(levels))
    assert (sizes < 3).mean() <= 0.05
    assert 0 <= detail(levels) <= 1
    assert detail(hier.start) >= detail(levels)


def test_filters_select_whole_classes(places, random_store):
    rows = _release(random_store(places, n=1500, seed=23), places).rows()
    sizes = _classes(rows)
    for filters in (
        Filters(start=dt.date(2019, 12, 3), end=dt.date(2020, 1, 17)),
        Filters(types=("kidnapping",)),
        Filters(types=("express_kidnapping",), cities=("Matamoros",)),
        Filters(perpetrators=("police",), children_only=True),
        Filters(place_types=("bus_terminal", "neighborhood")),
    ):
        chosen = select(rows, filters)
        inside = _classes(chosen)
        # Every class is wholly in or wholly out: a selected row's class is as big as before.
        assert (inside == sizes.loc[chosen.index]).all(), filters
        assert len(chosen) == 0 or len(chosen) >= 3


def test_a_date_range_selects_whole_shown_periods(places, random_store):
    rows = _release(random_store(places, n=500, seed=29), places).rows()
    months = rows[rows["date_precision"] == "month"]
    assert len(months)
    month = months.iloc[0]
    day = (month["date"] + pd.Timedelta(days=10)).date()
    chosen = select(rows, Filters(start=day, end=day))
    assert month["incident_id"] in set(chosen["incident_id"])
    withheld = rows[rows["date_precision"] == "withheld"]
    assert not set(withheld["incident_id"]) & set(chosen["incident_id"])


def test_type_groups_match_their_types(places, random_store):
    rows = _release(random_store(places, n=200, seed=31), places).rows()
    grouped = rows[rows["type_precision"] == "group"]
    assert len(grouped)
    chosen = select(rows, Filters(types=("kidnapping",)))
    kid_groups = grouped[grouped["incident_types"].str.contains("kidnapping_any")]
    assert set(kid_groups["incident_id"]) <= set(chosen["incident_id"])


def test_the_report_says_what_was_kept(sample, places):
    report = _release(sample, places).report
    assert report["k"] == 3
    assert report["recoding"] == "local"
    for attribute, levels in LEVELS.items():
        assert list(report["levels"][attribute]) == list(levels)
        assert sum(report["levels"][attribute].values()) == report["released"]
    assert report["data_through"] >= "2020-01-25"


def test_no_city_point_is_a_shelter_camp_or_terminal_point(places, random_store):
    rows = _release(random_store(places, n=2000, seed=43), places).rows()
    at_city = rows[rows["public_location"] == "city"]
    assert len(at_city)
    private = places[places["place_type"].isin(["shelter", "camp", "bus_terminal"])]
    private = private.dropna(subset=["lat", "lon"])
    points = set(zip(private["lat"].round(6), private["lon"].round(6), strict=True))
    shown = set(zip(at_city["lat"].round(6), at_city["lon"].round(6), strict=True))
    assert not shown & points


def test_a_place_without_a_point_is_shown_by_name_not_pinned(places, random_store):
    frame = random_store(places, n=3000, seed=47)
    pointless = places.loc[places["lat"].isna() & places["place_type"].isin(PUBLIC_SITE_TYPES)]
    assert len(pointless), "the gazetteer has approximate public sites without a point"
    rows = _release(frame, places).rows()
    named = rows[rows["place_id"].isin(pointless["place_id"])]
    assert len(named)
    assert named["lat"].isna().all()
    assert (named["public_location"] == "site").all()


def test_shelters_and_the_camp_start_at_the_city_even_with_a_point(places, random_store):
    # Review: camp incidents shown in the camp's cell, at full detail, located the camp.
    located = places.copy()
    private = located["place_type"].isin(["shelter", "camp"])
    located.loc[private, ["lat", "lon"]] = [25.8801, -97.5201]  # as if staff had verified them
    frame = random_store(located, n=2000, seed=53)
    rows = _release(frame, located).table
    from riskmap.release.privacy import pseudonyms

    at_private = frame["place_id"].isin(located.loc[private, "place_id"])
    ids = set(pseudonyms(frame.loc[at_private, "incident_id"], KEY))
    assert len(ids) > 50
    shown = rows[rows["incident_id"].isin(ids)]
    assert not shown["public_location"].isin(["site", "hex"]).any()


def test_the_report_counts_the_levels_shown(places, random_store):
    # Review: the report counted incidents as cells that the outputs showed at the city.
    release = _release(random_store(places, n=2000, seed=59), places)
    shown = release.rows()["public_location"].value_counts()
    levels = release.report["levels"]["location"]
    assert levels["site"] + levels["group"] == shown.get("site", 0)
    assert levels["cell"] == shown.get("hex", 0)
    assert levels["city"] == shown.get("city", 0)
    assert levels["withheld"] == shown.get("none", 0)
