"""The benchmark's synthetic data and its naive baseline (no timings: those are benchmarks)."""

import importlib.util
import sys
from pathlib import Path

import folium
import pandas as pd
import pytest

from riskmap.filters import Filters
from riskmap.release.privacy import public_view, restricted_view
from riskmap.schema import COLUMNS, has_type, type_flags, validate
from riskmap.store import read_incidents
from riskmap.views import dashboard, maps

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generate():
    return _module("generate")


@pytest.fixture(scope="module")
def run():
    return _module("run")


@pytest.fixture(scope="module")
def rows(generate, places):
    return generate.generate(3000, places=places)


def test_generator_makes_n_valid_synthetic_rows(rows):
    assert len(rows) == 3000
    assert list(rows.columns) == list(COLUMNS)
    valid = validate(rows)
    assert len(valid) == 3000
    assert rows["synthetic"].all()
    assert rows["incident_id"].is_unique


def test_generator_is_deterministic(generate, places, rows):
    pd.testing.assert_frame_equal(generate.generate(3000, places=places), rows)
    other = generate.generate(3000, seed=generate.SEED + 1, places=places)
    assert not other["lat"].equals(rows["lat"])


def test_generator_spreads_rows_like_real_logs(rows, places):
    assert set(rows["city"].dropna()) == {"Matamoros", "Nuevo Laredo"}
    assert set(rows["geo_precision"]) == {"site", "neighborhood", "city", "unresolved"}
    assert rows.loc[rows["geo_precision"] == "unresolved", "lat"].isna().all()
    sites = rows[rows["geo_precision"] == "site"]
    assert sites["place_id"].isin(places["place_id"]).all()
    assert rows["date"].dt.year.nunique() >= 5
    assert rows["incident_types"].str.contains("|", regex=False).any()
    assert rows["incident_types"].str.contains("sexual_assault").any()
    # Street points are scattered: many more distinct points than gazetteer places.
    street = rows[rows["geo_precision"] == "neighborhood"]
    assert street[["lat", "lon"]].drop_duplicates().shape[0] > 0.9 * len(street)


def test_store_is_written_once_and_reused(generate, tmp_path):
    path = generate.ensure_store(500, folder=tmp_path)
    assert path.parent == tmp_path
    stamp = path.stat().st_mtime_ns
    assert generate.ensure_store(500, folder=tmp_path) == path
    assert path.stat().st_mtime_ns == stamp
    assert len(read_incidents(path)) == 500


def test_scenarios_are_valid_filters_that_select_rows(run, rows, places):
    view = public_view(rows, places=places)
    for name, spec in run.SCENARIOS.items():
        selection = dashboard.select(view, Filters(**spec))
        assert len(selection.incidents) > 0, name


def test_naive_baseline_selects_the_same_rows(run, rows, places):
    view = public_view(rows, places=places)
    for name, spec in run.SCENARIOS.items():
        ours = dashboard.select(view, Filters(**spec)).incidents
        naive = run.naive_select(view, spec)
        assert naive.index.equals(ours.index), name


def test_naive_page_has_one_marker_per_located_incident(run, rows, places):
    view = public_view(rows.head(200), places=places)
    located = int(view["lat"].notna().sum())
    assert located > 100
    small = run.naive_page(view.head(20))
    assert run.naive_page(view) > small * 5
    # riskmap's page for the same incidents draws one object per location instead.
    assert len(maps.aggregate_locations(view)) < located


# The optimised library paths on benchmark-shaped data, against plain pandas. (They belong with
# each module's tests; kept here with the data that exercises them.)


def test_aggregate_matches_a_plain_groupby(rows, places):
    view = public_view(rows, places=places)
    located = maps.aggregate_locations(view)
    drawn = view.dropna(subset=["lat", "lon"])
    plain = drawn.groupby(["lat", "lon"]).agg(
        incidents=("incident_id", "size"), people=("victims", "sum"), last=("date", "max")
    )
    ours = located.groupby(["lat", "lon"]).agg(
        incidents=("incidents", "sum"), people=("people", "sum"), last=("last", "max")
    )
    pd.testing.assert_frame_equal(ours, plain, check_dtype=False)
    exploded = drawn["incident_types"].str.split("|").explode().value_counts()
    totals = pd.Series(
        {t: sum(d.get(t, 0) for d in located["types"]) for t in exploded.index}, name="count"
    )
    pd.testing.assert_series_equal(totals, exploded, check_names=False, check_dtype=False)


def test_type_tests_match_a_regular_expression(rows):
    for types in (["kidnapping"], ["extortion", "sexual_assault"], ["attempted_kidnapping"]):
        pattern = r"(?:^|\|)(?:" + "|".join(types) + r")(?:\||$)"
        expected = rows["incident_types"].str.contains(pattern).to_numpy(dtype=bool)
        assert (has_type(rows, types).to_numpy() == expected).all()
        flags = type_flags(rows, types)
        assert (flags.any(axis=1).to_numpy() == expected).all()


def test_restricted_view_past_the_marker_limit_is_binned(rows, places):
    raw = restricted_view(rows, places=places)
    exact = len(maps.aggregate_locations(raw))  # recorded street points, nearly all distinct
    assert exact > 1000
    m = folium.Map()
    for layer in maps.incident_layers(raw, marker_limit=100):
        layer.add_to(m)
    page = m.get_root().render()
    # Binned to a grid before drawing: far fewer compact rows ("],[") than recorded points, and
    # no recorded street point in the page.
    assert page.count("],[") < exact / 2
    for lat in raw.loc[raw["geo_precision"] == "neighborhood", "lat"].head(50):
        assert f"{lat:.5f}," not in page
