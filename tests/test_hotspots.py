"""Hotspot analysis: hand-computed rankings, radii, intervals, Gi* values and FDR behaviour."""

from __future__ import annotations

import json
import math

import h3
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pyproj import Geod

from riskmap.analysis import hotspots
from riskmap.analysis.hexgrid import _run_gi, neighbours, spatial_incidents, study_area
from riskmap.cli import main
from riskmap.errors import InputFileError, SettingsError
from riskmap.filters import Filters
from riskmap.release.audience import public_audience
from riskmap.schema import INCIDENT_TYPES, SITE_TYPES, conform
from riskmap.settings import Settings
from riskmap.store import read_incidents

GEOD = Geod(ellps="WGS84")
# A made-up site in central Matamoros; test points are placed at exact geodesic distances.
SITE_LAT, SITE_LON = 25.8800, -97.5000


def offset(distance_m: float, azimuth: float = 90.0) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(SITE_LON, SITE_LAT, azimuth, distance_m)
    return lat, lon


def incidents(rows: list[dict]) -> pd.DataFrame:
    base = {
        "incident_types": "kidnapping",
        "city": "Matamoros",
        "geo_precision": "site",
        "victims": 1,
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["incident_id"] = [f"T{i:03d}" for i in range(len(frame))]
    return conform(frame)


def place_table(rows: list[tuple], *, confidence: str = "high") -> pd.DataFrame:
    """Places (place_id, kind, lat, lon[, site_group]); every point of ``confidence``."""
    return pd.DataFrame(
        [
            {"place_id": r[0], "name": r[0].upper(), "place_type": r[1], "city": "Matamoros"}
            | {"lat": r[2], "lon": r[3], "aliases": "", "confidence": confidence}
            | {"site_group": r[4] if len(r) > 4 else r[0], "name_es": f"ES {r[0]}"}
            for r in rows
        ]
    )


# --- intervals and FDR ------------------------------------------------------------------------


def test_poisson_interval_matches_the_closed_forms_and_garwood_table():
    # k = 0: upper = -ln(0.025); k = 1: lower = -ln(0.975) (chi-square with 2 df is exponential).
    assert_allclose(hotspots.poisson_interval(0), (0.0, -math.log(0.025)), rtol=1e-12)
    assert_allclose(hotspots.poisson_interval(1)[0], -math.log(0.975), rtol=1e-12)
    # Published exact limits (e.g. Ulm 1990, Am J Epidemiol 131:373) for k = 1, 5, 10.
    assert_allclose(hotspots.poisson_interval(1), (0.0253, 5.5716), atol=1e-4)
    assert_allclose(hotspots.poisson_interval(5), (1.6235, 11.6683), atol=1e-4)
    assert_allclose(hotspots.poisson_interval(10), (4.7954, 18.3904), atol=1e-4)
    low, high = hotspots.poisson_interval(3, level=0.9)
    assert low > hotspots.poisson_interval(3)[0]  # a 90% interval is narrower
    assert high < hotspots.poisson_interval(3)[1]


@pytest.mark.parametrize(("count", "level"), [(-1, 0.95), (1.5, 0.95), (2, 1.0), (2, 0.0)])
def test_poisson_interval_rejects_bad_input(count, level):
    with pytest.raises(SettingsError):
        hotspots.poisson_interval(count, level=level)


def test_fdr_qvalues_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 -> p*m/rank = 0.02, 0.02, 0.04, 0.04 (already monotone).
    q = hotspots.fdr_qvalues([0.01, 0.04, 0.03, 0.005])
    assert_allclose(q, [0.02, 0.04, 0.04, 0.02])
    # Step-up: a later small ratio pulls earlier q-values down; capped at 1.
    assert_allclose(hotspots.fdr_qvalues([0.02, 0.025, 0.9]), [0.0375, 0.0375, 0.9])
    assert_allclose(hotspots.fdr_qvalues([0.8, 0.9]), [0.9, 0.9])
    assert hotspots.fdr_qvalues([]).size == 0


def test_fdr_qvalues_reject_what_benjamini_hochberg_rejects():
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 0.002, 8), rng.uniform(0, 1, 92)])
    q = hotspots.fdr_qvalues(p)
    ranked = np.sort(p)
    passing = np.flatnonzero(ranked <= 0.05 * np.arange(1, 101) / 100)
    cutoff = ranked[passing.max()]
    assert set(np.flatnonzero(q <= 0.05)) == set(np.flatnonzero(p <= cutoff))


# --- site ranking -----------------------------------------------------------------------------


def test_sites_count_the_incidents_attributed_to_them():
    # Five incidents all at site A's point, but only three name site A: attribution, not radius.
    frame = incidents(
        [
            {
                "lat": SITE_LAT,
                "lon": SITE_LON,
                "date": "2020-01-10",
                "victims": i + 1,
                "place_id": p,
            }
            for i, p in enumerate(["site_a", "site_a", "site_a", "site_b", None])
        ]
    )
    places = place_table(
        [
            ("site_a", "bus_terminal", SITE_LAT, SITE_LON),
            ("site_b", "plaza", *offset(100)),
        ]
    )
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES).set_index("place_id")
    assert ranked.loc["site_a", "incidents"] == 3
    assert ranked.loc["site_a", "people"] == 1 + 2 + 3
    assert ranked.loc["site_b", "incidents"] == 1
    # The radius is a second figure only, for high-confidence points: 5 located within 500 m.
    assert ranked.loc["site_a", "nearby"] == 5
    assert ranked.loc["site_b", "nearby"] == 5
    wide = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES, radius_m=50)
    assert wide.set_index("place_id").loc["site_b", "nearby"] == 0
    assert ranked.attrs["unattributed"] == 1
    unsure = hotspots.rank_sites(
        frame,
        places=place_table(
            [("site_a", "bus_terminal", SITE_LAT, SITE_LON)], confidence="approximate"
        ),
        site_types=SITE_TYPES,
    )
    assert unsure["nearby"].isna().all()


def test_a_place_without_a_point_is_ranked_by_name():
    frame = incidents(
        [{"date": "2020-01-10", "place_id": "terminal", "geo_precision": "site"} for _ in range(4)]
    )
    places = place_table([("terminal", "bus_terminal", np.nan, np.nan)], confidence="approximate")
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES)
    assert ranked.loc[0, "incidents"] == 4
    assert np.isnan(ranked.loc[0, "lat"])


def test_ranking_by_hand_with_periods_change_and_intervals():
    rows = (
        # site A: 3 in the period (one on its first day, one on the end day), 1 before it.
        [
            {"date": d, "victims": v, "place_id": "site_a"}
            for d, v in (("2020-01-31", 2), ("2020-01-02", 1), ("2020-01-15", 4), ("2020-01-01", 5))
        ]
        # site B: 1 in the period, 3 in the previous period; one too old for either.
        + [
            {"date": d, "place_id": "site_b"}
            for d in ("2020-01-20", "2019-12-03", "2019-12-31", "2019-12-10", "2019-12-02")
        ]
        # a city-level incident names no site and counts for none.
        + [{"lat": SITE_LAT, "lon": SITE_LON, "date": "2020-01-20", "geo_precision": "city"}]
    )
    frame = incidents(rows)
    places = place_table(
        [
            ("site_a", "bus_terminal", SITE_LAT, SITE_LON),
            ("site_b", "immigration_office", *offset(3000)),
            ("site_c", "plaza", *offset(8000)),
            ("hood", "neighborhood", SITE_LAT, SITE_LON),  # not a site type
        ]
    )
    # The latest incident is 2020-01-31: a 30-day period is 2020-01-02..31, the previous one
    # 2019-12-03..2020-01-01.
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES, period_days=30)
    assert ranked.attrs["end"].isoformat() == "2020-01-31"
    assert ranked.attrs["start"].isoformat() == "2020-01-02"
    assert ranked.attrs["previous_start"].isoformat() == "2019-12-03"
    assert ranked.attrs["data_through"].isoformat() == "2020-01-31"
    assert ranked.attrs["unattributed"] == 1
    assert list(ranked["place_id"]) == ["site_a", "site_b", "site_c"]
    a, b, c = (ranked.iloc[i] for i in range(3))
    assert (a["incidents"], a["people"], a["previous_incidents"], a["previous_people"]) == (
        3,
        7,
        1,
        5,
    )
    assert (b["incidents"], b["previous_incidents"], b["change"]) == (1, 3, -2)
    assert (c["incidents"], c["previous_incidents"]) == (0, 0)
    assert list(ranked["rank"]) == [1, 2, 3]
    assert_allclose(a[["ci_low", "ci_high"]].to_numpy(float), hotspots.poisson_interval(3))
    assert_allclose(c[["ci_low", "ci_high"]].to_numpy(float), (0.0, -math.log(0.025)))
    # Exact conditional test: 3 of 4 under Binomial(4, 1/2), two-sided: 2 * 5/16 = 0.625.
    assert_allclose(a["change_p"], 0.625)
    assert_allclose(c["change_p"], 1.0)
    assert c["tie_note"] == "no incidents in the period"
    assert c["tie_reason"] == "no_incidents"
    for col in ("incidents", "previous_incidents", "change", "rank"):
        assert ranked[col].dtype == "int64", col
    for col in ("people", "previous_people"):  # missing where rows carry no people (public)
        assert ranked[col].dtype == "Int64", col
    # An explicit end date moves the window.
    earlier = hotspots.rank_sites(
        frame, places=places, site_types=SITE_TYPES, period_days=30, end="2020-01-01"
    )
    assert earlier.set_index("place_id").loc["site_b", "incidents"] == 3


def test_ties_are_ties_of_counts_and_one_site_is_one_entry():
    frame = incidents(
        [{"date": "2020-01-10", "victims": 2, "place_id": "bridge"} for _ in range(2)]
        + [{"date": "2020-01-10", "victims": 5, "place_id": "office"}]
        + [{"date": "2020-01-10", "victims": 1, "place_id": "plaza"} for _ in range(3)]
        + [{"date": "2020-01-10", "victims": 1, "place_id": "terminal"}]
    )
    places = place_table(
        [
            ("bridge", "port_of_entry", SITE_LAT, SITE_LON, "gateway"),
            ("office", "immigration_office", SITE_LAT, SITE_LON, "gateway"),  # one site
            ("plaza", "plaza", *offset(150)),
            ("terminal", "bus_terminal", *offset(900)),
        ]
    )
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES).set_index("place_id")
    # The bridge and the INM post at its foot are one entry, named after the bridge.
    assert "office" not in ranked.index
    assert ranked.loc["bridge", "members"] == "bridge|office"
    assert ranked.loc["bridge", "incidents"] == 3
    assert "one site: bridge, office" in ranked.loc["bridge", "tie_note"]
    # Equal counts share a rank whatever the people; the next rank skips (1, 1, 3).
    assert ranked.loc[["bridge", "plaza"], "rank"].tolist() == [1, 1]
    assert ranked.loc["terminal", "rank"] == 3
    assert ranked.loc["plaza", "tie_reason"] == "equal_counts"
    assert ranked.loc["plaza", "tied_with"] == "bridge"
    assert "the same number of incidents" in ranked.loc["plaza", "tie_note"]
    assert ranked.loc["terminal", "tie_reason"] == ""
    assert set(ranked["tie_reason"]) <= set(hotspots.TIE_REASONS)


def test_ranking_notes_a_previous_period_before_the_data():
    frame = incidents([{"date": "2020-01-10", "place_id": "a"}])
    places = place_table([("a", "plaza", SITE_LAT, SITE_LON)])
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES)
    assert any("may reflect missing records" in n for n in ranked.attrs["notes"])
    assert ranked.attrs["previous_covered"] is False
    assert ranked["change_p"].isna().all()  # no test of a change the data cannot show
    assert ranked.loc[0, "change"] == 1


def test_ranking_of_no_incidents_and_bad_options(places):
    empty = incidents([{"lat": SITE_LAT, "lon": SITE_LON, "date": "2020-01-10"}]).iloc[0:0]
    ranked = hotspots.rank_sites(empty, places=places, site_types=SITE_TYPES, end="2020-01-31")
    assert (ranked["incidents"] == 0).all()
    assert (ranked["rank"] == 1).all()
    for kwargs in ({"radius_m": 0}, {"period_days": 0}, {"period_days": 1.5}, {"end": "soon"}):
        with pytest.raises(SettingsError):
            hotspots.rank_sites(empty, places=places, site_types=SITE_TYPES, **kwargs)
    with pytest.raises(TypeError):
        hotspots.rank_sites(empty, places=places)  # no default kinds of site: the caller says


def test_sample_ranking_follows_attribution(sample, places):
    ranked = hotspots.rank_sites(sample, places=places, site_types=SITE_TYPES)
    assert list(ranked.columns) == list(hotspots.RANKING_COLUMNS)
    assert set(ranked["place_type"]) <= SITE_TYPES
    assert ranked["incidents"].is_monotonic_decreasing
    assert (ranked["ci_low"] <= ranked["incidents"]).all()
    assert (ranked["incidents"] <= ranked["ci_high"]).all()
    period = pd.to_datetime(sample["date"]) >= pd.Timestamp(ranked.attrs["start"])
    # Every entry's count is the incidents naming one of its members, in the period.
    for row in ranked.itertuples():
        members = row.members.split("|")
        assert row.incidents == int((sample["place_id"].isin(members) & period).sum())
    # No tie is explained by a shared coordinate any more.
    assert not ranked["tie_note"].str.contains("point|same incidents").any()


def test_ranking_is_fast_on_many_incidents(places):
    rng = np.random.default_rng(1)
    n = 100_000
    ids = places.loc[places["place_type"].isin(SITE_TYPES), "place_id"].to_numpy()
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp("2019-06-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "lat": 25.88 + rng.normal(0, 0.02, n),
            "lon": -97.50 + rng.normal(0, 0.02, n),
            "geo_precision": "site",
            "place_id": rng.choice(ids, n),
            "victims": 1,
            "incident_types": "robbery",
        }
    )
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES)
    recent = frame["date"] >= pd.Timestamp(ranked.attrs["start"])
    assert ranked["incidents"].sum() == int(recent.sum())
    # Brute force for one high-confidence site with the geodesic distance agrees with "nearby".
    site = ranked[ranked["place_id"] == "mat_gateway_bridge"].iloc[0]
    _, _, dist = GEOD.inv(
        np.full(n, site["lon"]), np.full(n, site["lat"]), frame["lon"], frame["lat"]
    )
    expected = int(((dist <= 500) & recent).sum())
    assert abs(int(site["nearby"]) - expected) <= 2  # UTM scale: ~0.1 m at 500 m


def _periods(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """Release-like rows at site A: each shown period as (date, date_end)."""
    frame = incidents([{"date": d, "place_id": "site_a"} for d, _ in rows])
    frame["date_end"] = pd.to_datetime([e for _, e in rows])
    return frame


def test_release_rows_count_only_in_a_period_holding_their_whole_shown_period():
    frame = _periods(
        [
            ("2020-01-01", "2020-01-31"),  # the month of the period: current
            ("2020-01-10", "2020-01-10"),  # a day in it: current
            ("2019-12-01", "2019-12-31"),  # the previous month: previous
            ("2019-10-01", "2019-12-31"),  # a quarter reaching back before the previous period
            ("2019-12-22", "2020-01-04"),  # straddles the two periods: in neither
            ("2020-01-29", "2020-02-04"),  # runs past the end: in neither
        ]
    )
    places = place_table([("site_a", "bus_terminal", SITE_LAT, SITE_LON)])
    ranked = hotspots.rank_sites(
        frame, places=places, site_types=SITE_TYPES, end="2020-01-31", period_days=31
    )
    assert ranked.attrs["start"].isoformat() == "2020-01-01"
    assert ranked.attrs["previous_start"].isoformat() == "2019-12-01"
    row = ranked.iloc[0]
    assert (row["incidents"], row["previous_incidents"]) == (2, 1)
    # Recorded rows (no date_end) count by their day, as before.
    plain = hotspots.rank_sites(
        frame.drop(columns="date_end"),
        places=places,
        site_types=SITE_TYPES,
        end="2020-01-31",
        period_days=31,
    )
    assert (plain.loc[0, "incidents"], plain.loc[0, "previous_incidents"]) == (3, 2)


def test_the_default_end_is_the_end_of_the_latest_shown_period():
    # "Now" is the data's last day; for release rows that is the end of the latest period.
    frame = _periods([("2020-01-01", "2020-01-31"), ("2019-12-01", "2019-12-31")])
    places = place_table([("site_a", "bus_terminal", SITE_LAT, SITE_LON)])
    ranked = hotspots.rank_sites(frame, places=places, site_types=SITE_TYPES, period_days=31)
    assert ranked.attrs["end"].isoformat() == "2020-01-31"
    assert (ranked.loc[0, "incidents"], ranked.loc[0, "previous_incidents"]) == (1, 1)


@pytest.fixture(scope="module")
def audiences(sample, places):
    from riskmap.release.audience import restricted_audience

    settings = Settings(pseudonym_key="test-key")  # no key file beside the default store
    return (
        public_audience(sample, places=places, settings=settings),
        restricted_audience(sample, places=places, settings=settings),
    )


def _same_ranking(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b)
    assert {k: v for k, v in a.attrs.items() if k != "notes"} == {
        k: v for k, v in b.attrs.items() if k != "notes"
    }


def test_rank_selection_ranks_what_the_audience_may_see(audiences, sample, places):
    from riskmap.schema import PUBLIC_SITE_TYPES

    public, staff = audiences
    # Staff: the recorded rows and every site, up to the latest incident.
    ours = hotspots.rank_selection(staff, Filters(), radius_m=500)
    _same_ranking(ours, hotspots.rank_sites(sample, places=places, site_types=SITE_TYPES))
    assert {"shelter", "camp"} <= set(ours["place_type"])
    # Public: the release rows, public sites only, up to the end of the latest shown period.
    shown = hotspots.rank_selection(public, Filters(), radius_m=500)
    last = public.table["date_end"].max().date()
    assert shown.attrs["end"] == last
    expected = hotspots.rank_sites(
        public.table, places=places, radius_m=500, end=last, site_types=PUBLIC_SITE_TYPES
    )
    _same_ranking(shown, expected)
    assert not {"shelter", "camp"} & set(shown["place_type"])
    # Release rows count only inside periods that hold their whole shown period.
    assert shown["incidents"].sum() <= ours["incidents"].sum()


def test_rank_selection_takes_its_period_and_places_from_the_filters(audiences, places):
    import datetime as dt

    _, staff = audiences
    december = Filters(start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31))
    ranked = hotspots.rank_selection(staff, december, radius_m=500)
    assert (ranked.attrs["start"], ranked.attrs["end"]) == (december.start, december.end)
    assert ranked.attrs["period_days"] == 31
    # The dates choose the period only: November is still there as the previous period.
    assert ranked["previous_incidents"].sum() > 0
    _same_ranking(
        ranked,
        hotspots.rank_sites(
            staff.table, places=places, site_types=SITE_TYPES, end=december.end, period_days=31
        ),
    )
    # The other filters choose the rows, and a city the sites too.
    kidnappings = Filters(types=("kidnapping",), cities=("Matamoros",))
    ranked = hotspots.rank_selection(staff, kidnappings, radius_m=500, period_days=30)
    assert set(ranked["city"]) == {"Matamoros"}
    chosen = staff.select(kidnappings)
    # "Now" is the latest incident of the selection.
    assert ranked.attrs["end"] == chosen["date"].max().date()
    _same_ranking(
        ranked,
        hotspots.rank_sites(
            chosen,
            places=places[places["city"] == "Matamoros"],
            site_types=SITE_TYPES,
            period_days=30,
        ),
    )


# --- hex grid ---------------------------------------------------------------------------------


def test_hex_counts_by_hand():
    cell_a = h3.latlng_to_cell(SITE_LAT, SITE_LON, 8)
    far = offset(4000)
    frame = incidents(
        [
            {
                "lat": SITE_LAT,
                "lon": SITE_LON,
                "date": "2020-01-01",
                "victims": 3,
                "incident_types": "kidnapping|extortion",
            },
            {
                "lat": SITE_LAT,
                "lon": SITE_LON,
                "date": "2020-01-02",
                "victims": None,
                "incident_types": "extortion",
            },
            {
                "lat": far[0],
                "lon": far[1],
                "date": "2020-01-03",
                "victims": 2,
                "incident_types": "sexual_assault",
                "geo_precision": "neighborhood",
            },
            {"lat": SITE_LAT, "lon": SITE_LON, "date": "2020-01-04", "geo_precision": "city"},
            {"lat": None, "lon": None, "date": "2020-01-04", "geo_precision": "site"},
        ]
    )
    counts = hotspots.hex_counts(frame, resolution=8)
    assert list(counts.columns) == ["cell", "lat", "lon", "incidents", "people", *INCIDENT_TYPES]
    assert counts.attrs["excluded"] == {
        "city": 1,
        "unresolved": 0,
        "unknown": 0,
        "missing_coordinates": 1,
    }
    first = counts.iloc[0]
    assert first["cell"] == cell_a
    assert (first["incidents"], first["people"], first["kidnapping"], first["extortion"]) == (
        2,
        3,
        1,
        2,
    )
    assert_allclose((first["lat"], first["lon"]), h3.cell_to_latlng(cell_a))
    assert counts.iloc[1][["incidents", "people", "sexual_assault"]].tolist() == [1, 2, 1]
    assert counts["incidents"].sum() == 3
    for col in ("incidents", "people", *INCIDENT_TYPES):
        assert counts[col].dtype == "int64"
    coarse = hotspots.hex_counts(frame, resolution=5)
    assert len(coarse) == 1
    assert coarse.loc[0, "incidents"] == 3
    with pytest.raises(SettingsError):
        hotspots.hex_counts(frame, resolution=16)


def test_hex_counts_of_nothing_has_the_columns():
    empty = incidents([{"date": "2020-01-01", "geo_precision": "unresolved"}])
    counts = hotspots.hex_counts(empty)
    assert counts.empty
    assert "sexual_assault" in counts.columns
    assert counts.attrs["excluded"]["unresolved"] == 1


def test_study_area_fills_the_hull_and_keeps_far_groups_apart():
    a = h3.latlng_to_cell(25.88, -97.50, 8)
    b = h3.latlng_to_cell(*offset(2500, 90), 8)
    c = h3.latlng_to_cell(*offset(2500, 0), 8)
    far = h3.latlng_to_cell(27.48, -99.51, 8)
    area = set(study_area([a, b, c, far]))
    assert {a, b, c, far} <= area
    inside = h3.latlng_to_cell(*offset(900, 45), 8)  # inside the triangle
    outside = h3.latlng_to_cell(*offset(1500, 225), 8)  # behind a
    assert inside in area
    assert outside not in area
    # The far group stays a lone cell; nothing is filled in between the cities.
    assert all(
        h3.great_circle_distance(h3.cell_to_latlng(x), (25.88, -97.5)) < 10 for x in area - {far}
    )
    assert neighbours(sorted(area))[far] == []


# --- Gi* --------------------------------------------------------------------------------------


def _points(lat: np.ndarray, lon: np.ndarray, date: str = "2020-01-15") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Timestamp(date),
            "lat": lat,
            "lon": lon,
            "geo_precision": "site",
            "victims": 1,
            "incident_types": "kidnapping",
        }
    )


def _uniform(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return _points(25.88 + rng.uniform(-0.03, 0.03, n), -97.50 + rng.uniform(-0.03, 0.03, n))


def test_gi_star_values_by_hand():
    # A 19-cell disk: 12 incidents in the centre, 3 in each of the 6 cells around it, 0 beyond.
    centre = h3.latlng_to_cell(25.88, -97.50, 8)
    ring1 = sorted(h3.grid_ring(centre, 1))
    grid = sorted(h3.grid_disk(centre, 2))
    y = np.array([12.0 if c == centre else 3.0 if c in ring1 else 0.0 for c in grid])
    gi, z, p, hot = _run_gi(y, neighbours(grid), grid, permutations=9999, seed=1)
    i_centre, i_ring = grid.index(centre), grid.index(ring1[0])
    # Getis & Ord (1992): G*_i = sum_j w_ij y_j / sum y; E = W_i / n;
    # Var = W_i (n - W_i) / (n^2 (n - 1)) * s^2 / ybar^2, with s^2 / ybar^2 = (198*19 - 900)/900.
    ratio = (198 * 19 - 900) / 900
    sd7 = math.sqrt(7 * 12 / (19**2 * 18) * ratio)
    assert_allclose(gi[i_centre], 30 / 30)
    assert_allclose(z[i_centre], (1 - 7 / 19) / sd7)  # 3.11503
    assert_allclose(z[i_centre], 3.11505, atol=1e-5)
    assert_allclose(gi[i_ring], 21 / 30)  # itself 3, the centre 12, two ring-1 cells 3 + 3
    assert_allclose(z[i_ring], (0.7 - 7 / 19) / sd7)  # 1.63540
    assert_allclose(z[i_ring], 1.63540, atol=1e-5)
    # Permutation p for a ring-1 cell, exactly: its neighbours' sum >= 18 needs the centre's
    # 12 (probability 6/18) and two of the five other 3s among five draws from 17:
    # 1/3 * (1 - (C(12,5) + 5 C(12,4)) / C(17,5)) = 0.15735; two-sided: twice that.
    exact = 1 / 3 * (1 - (math.comb(12, 5) + 5 * math.comb(12, 4)) / math.comb(17, 5))
    assert_allclose(p[i_ring], 2 * exact, atol=0.02)
    assert hot[i_ring]
    # The centre: only 1 draw in C(18, 6) = 18564 matches, so p is at its floor 2 / 10000.
    assert_allclose(p[i_centre], 2 / 10_000, atol=2e-4)


def test_gi_star_refuses_below_thirty_and_reports_exclusions():
    rng = np.random.default_rng(3)
    frame = _uniform(rng, 29)
    frame = pd.concat(
        [frame, frame.head(5).assign(geo_precision="city"), frame.head(2).assign(lat=np.nan)],
        ignore_index=True,
    )
    frame.loc[frame.index[-1], "geo_precision"] = "unresolved"
    result = hotspots.gi_star(frame)
    assert not result.ran
    assert "only 29 incident(s)" in result.reason
    assert "at least 30" in result.reason
    assert "5 city-level" in result.reason
    assert result.excluded == {"city": 5, "unresolved": 1, "unknown": 0, "missing_coordinates": 1}
    assert result.significant_hot == 0
    assert result.cells.empty
    assert "not computed" in result.summary()
    assert hotspots.gi_star(pd.concat([frame, _uniform(rng, 1)], ignore_index=True)).ran


def test_gi_star_leaves_out_isolated_cells_and_says_so():
    rng = np.random.default_rng(8)
    lone = _points(np.full(15, 25.70), np.full(15, -97.30))  # ~30 km from the rest
    refused = hotspots.gi_star(pd.concat([_uniform(rng, 20), lone], ignore_index=True))
    assert not refused.ran
    assert "only 20 of the 35 incidents" in refused.reason
    ran = hotspots.gi_star(pd.concat([_uniform(rng, 40), lone], ignore_index=True))
    assert ran.ran
    assert ran.incidents == 40
    assert any("1 isolated cell(s) with 15 incident(s)" in n for n in ran.notes)
    assert h3.latlng_to_cell(25.70, -97.30, 8) not in set(ran.cells["cell"])


def test_gi_star_refuses_too_few_cells():
    # 40 located incidents on three points: enough incidents, too few connected cells.
    points = [offset(0), offset(200), offset(200, azimuth=0)]
    frame = incidents(
        [{"lat": p[0], "lon": p[1], "date": "2020-01-10"} for p in points for _ in range(14)]
    )
    result = hotspots.gi_star(frame)
    assert not result.ran
    assert "connected H3 cell(s)" in result.reason


def test_gi_star_finds_a_planted_cluster():
    # 60 incidents around one point (sd ~650 m) over 100 spread evenly across a 6 km square.
    centre = h3.latlng_to_cell(25.88, -97.50, 8)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        cluster = _points(25.88 + rng.normal(0, 0.006, 60), -97.50 + rng.normal(0, 0.006, 60))
        frame = pd.concat([_uniform(rng, 100), cluster], ignore_index=True)
        result = hotspots.gi_star(frame, seed=seed)
        assert result.ran
        assert result.reason is None
        hot = set(result.hotspots["cell"])
        assert hot & set(h3.grid_disk(centre, 1)), seed
        assert hot <= set(h3.grid_disk(centre, 3)), seed  # no hotspot away from the cluster
        assert result.significant_hot == len(hot)
        assert (result.cells.loc[result.cells["significant"], "q"] <= 0.05).all()
    assert list(result.cells.columns) == list(hotspots.GI_COLUMNS)
    assert "hotspot cell(s)" in result.summary()
    again = hotspots.gi_star(frame, seed=seed)
    assert_allclose(again.cells["p_sim"], result.cells["p_sim"])  # the seed fixes the result


def test_gi_star_finds_nothing_in_uniform_data_at_the_stated_fdr():
    # Under complete spatial randomness every discovery is false, and Benjamini-Hochberg then
    # bounds the chance of any discovery by alpha = 0.05: expect about 0.5 runs in 10.
    runs_with_discoveries = 0
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        result = hotspots.gi_star(_uniform(rng, 150), seed=seed)
        assert result.ran
        runs_with_discoveries += bool(result.cells["significant"].any())
    assert runs_with_discoveries <= 1


def test_gi_star_says_when_permutations_are_too_few():
    rng = np.random.default_rng(4)
    result = hotspots.gi_star(_uniform(rng, 200), permutations=99)
    assert any("smallest p-value" in n for n in result.notes)
    with pytest.raises(SettingsError):
        hotspots.gi_star(_uniform(rng, 50), permutations=10)
    with pytest.raises(SettingsError):
        hotspots.gi_star(_uniform(rng, 50), alpha=0)


def test_spatial_incidents_keeps_sites_and_neighbourhoods():
    frame = incidents(
        [
            {"lat": 1.0, "lon": 1.0, "date": "2020-01-01", "geo_precision": p}
            for p in ("site", "neighborhood", "city", "unresolved")
        ]
        + [{"lat": 1.0, "lon": 1.0, "date": "2020-01-01", "geo_precision": None}]
    )
    used, excluded = spatial_incidents(frame)
    assert list(used["geo_precision"]) == ["site", "neighborhood"]
    assert excluded == {"city": 1, "unresolved": 1, "unknown": 1, "missing_coordinates": 0}


# --- exposure ---------------------------------------------------------------------------------


def test_exposure_rates_by_hand(places):
    returns = pd.DataFrame(
        {
            "port": ["mat_gateway_bridge", "Puente Nuevo", "nld_bridge_2", "Gateway Bridge"],
            "month": ["2019-11", "2019-12", "2019-11", "2019-11-15"],
            "returned": [1500, "1,000", 500, 500],
        }
    )
    rows = (
        [{"date": "2019-11-05", "city": "Matamoros", "victims": 2}] * 3
        + [{"date": "2019-12-05", "city": "Matamoros", "victims": 1}]
        + [{"date": "2019-11-20", "city": "Nuevo Laredo", "victims": 1}] * 2
        + [{"date": "2019-11-20", "city": None}, {"date": "2020-01-05", "city": "Matamoros"}]
    )
    frame = incidents([{**r, "geo_precision": "city"} for r in rows])
    rates = hotspots.exposure_rates(frame, returns, places=places)
    assert list(rates.columns) == list(hotspots.EXPOSURE_COLUMNS)
    got = rates.set_index(["city", "month"])
    mat_nov = got.loc[("Matamoros", "2019-11")]
    assert (mat_nov["returned"], mat_nov["incidents"], mat_nov["people"]) == (2000, 3, 6)
    assert_allclose(mat_nov["per_1000"], 1.5)
    assert_allclose(
        mat_nov[["ci_low_per_1000", "ci_high_per_1000"]].to_numpy(float),
        np.array(hotspots.poisson_interval(3)) / 2,
    )
    assert_allclose(got.loc[("Matamoros", "2019-12"), "per_1000"], 1.0)
    assert_allclose(got.loc[("Nuevo Laredo", "2019-11"), "per_1000"], 4.0)
    assert got.loc[("Nuevo Laredo", "2019-11"), "ports"] == "nld_bridge_2"
    assert rates.attrs["unmatched"] == {"no_city": 1, "not_covered": 1}
    total = hotspots.exposure_rates(frame, returns, places=places, by_month=False)
    mat = total.set_index("city").loc["Matamoros"]
    assert (mat["returned"], mat["incidents"], mat["month"]) == (3000, 4, "2019-11/2019-12")


def test_exposure_rejects_unusable_tables(tmp_path, places):
    frame = incidents([{"date": "2019-11-05", "geo_precision": "city"}])
    bad_port = pd.DataFrame({"port": ["Atlantis bridge"], "month": ["2019-11"], "returned": [1]})
    with pytest.raises(InputFileError, match="Atlantis"):
        hotspots.exposure_rates(frame, bad_port, places=places)
    path = tmp_path / "returns.csv"
    path.write_text("port,month,returned\nmat_gateway_bridge,November,10\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2"):
        hotspots.exposure_rates(frame, path, places=places)
    path.write_text("port,returned\nmat_gateway_bridge,10\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="month"):
        hotspots.exposure_rates(frame, path, places=places)
    path.write_text("port,month,returned\nmat_gateway_bridge,2019-11,-3\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="non-negative"):
        hotspots.exposure_rates(frame, path, places=places)


# --- the command ------------------------------------------------------------------------------


def test_cli_gives_the_library_ranking(sample_store, sample, places, capsys):
    assert main(["hotspots", "--store", str(sample_store), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    library = hotspots.rank_sites(sample, places=places, site_types=SITE_TYPES)
    assert {s["place_type"] for s in out["sites"]} >= {"shelter", "camp"}
    assert main(["hotspots", "--store", str(sample_store), "--format", "json", "--public"]) == 0
    public = json.loads(capsys.readouterr().out)
    assert not {s["place_type"] for s in public["sites"]} & {"shelter", "camp"}
    # --public ranks the release of the store that was read, as the public dashboard does.
    release = public_audience(
        read_incidents(sample_store), places=places, settings=Settings(), store=sample_store
    )
    shown = hotspots.rank_selection(release, Filters(), radius_m=500, period_days=90)
    assert [s["place_id"] for s in public["sites"]] == shown["place_id"].tolist()
    assert [s["incidents"] for s in public["sites"]] == shown["incidents"].tolist()
    assert [s["previous_incidents"] for s in public["sites"]] == (
        shown["previous_incidents"].tolist()
    )
    assert public["end"] == shown.attrs["end"].isoformat()
    assert [s["place_id"] for s in out["sites"]] == library["place_id"].tolist()
    assert [s["rank"] for s in out["sites"]] == library["rank"].tolist()
    assert_allclose([s["ci_high"] for s in out["sites"]], library["ci_high"])
    assert out["unattributed"] == library.attrs["unattributed"]
    assert out["data_through"] == library.attrs["data_through"].isoformat()

    assert main(["hotspots", "--store", str(sample_store), "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert "95% interval" in text
    assert "Sites ranked by the incidents attributed to them" in text
    assert library.loc[0, "name"][:45] in text

    assert main(["hotspots", "--store", str(sample_store), "--format", "csv"]) == 0
    csv_rows = capsys.readouterr().out.strip().splitlines()
    assert csv_rows[0].startswith("rank,place_id,name")
    assert len(csv_rows) == len(library) + 1 or '"' in "".join(csv_rows)


def test_cli_period_radius_gi_star_and_errors(sample_store, tmp_path, capsys):
    args = ["hotspots", "--store", str(sample_store)]
    assert (
        main(
            [*args, "--period", "2w", "--end", "2019-12-31", "--radius", "200", "--format", "json"]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["start"], out["end"], out["radius_m"]) == ("2019-12-18", "2019-12-31", 200.0)
    assert main([*args, "--gi-star"]) == 0
    assert "Gi* not computed" in capsys.readouterr().out
    target = tmp_path / "gi.json"
    assert (
        main([*args, "--gi-star", "--city", "Matamoros", "--format", "json", "-o", str(target)])
        == 0
    )
    gi = json.loads(target.read_text(encoding="utf-8"))
    assert gi["ran"] is False
    assert "at least 30" in gi["reason"]
    returns = tmp_path / "returns.csv"
    returns.write_text("port,month,returned\nmat_gateway_bridge,2019-11,2000\n", encoding="utf-8")
    assert main([*args, "--returns", str(returns)]) == 0
    assert "per 1,000" in capsys.readouterr().out
    assert main(["hotspots", "--store", str(tmp_path / "missing.gpkg")]) == 2
    assert "no incident store" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--period", "3 months"])
