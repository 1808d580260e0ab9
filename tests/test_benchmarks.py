"""The benchmark's synthetic data and its naive baseline (no timings: those are benchmarks)."""

import importlib.util
import json
import sys
from pathlib import Path

import folium
import pandas as pd
import pytest

from riskmap.filters import Filters
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.release.privacy import restricted_view
from riskmap.schema import COLUMNS, has_type, type_flags, validate
from riskmap.settings import Settings
from riskmap.store import read_incidents
from riskmap.views import dashboard, maps

# A fixed pseudonym key: no key file is written beside the default store.
SETTINGS = Settings(pseudonym_key="bench-test")

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


@pytest.fixture(scope="module")
def public(rows, places):
    """The public audience of the benchmark rows, as the benchmark and the app build it."""
    return public_audience(rows, places=places, settings=SETTINGS)


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


def test_scenarios_are_valid_filters_that_select_rows(run, public, rows, places):
    staff = restricted_audience(rows, places=places, settings=SETTINGS)
    for name, spec in run.SCENARIOS.items():
        selection = dashboard.select(public, Filters(**spec))
        assert len(selection.incidents) > 0, name
        # Public filters select whole shown periods and type groups: never fewer rows than
        # k, and no public count is below k.
        assert len(selection.incidents) >= public.k, name
        assert len(dashboard.select(staff, Filters(**spec)).incidents) > 0, name


def test_naive_baseline_selects_the_same_rows(run, public, rows, places):
    for name, spec in run.SCENARIOS.items():
        ours = dashboard.select(public, Filters(**spec)).incidents
        naive = run.naive_select(public.table, spec)
        assert naive.index.equals(ours.index), name
    # On recorded rows (the staff's), the same masks select what the filters do.
    staff = restricted_audience(rows, places=places, settings=SETTINGS)
    for name, spec in run.SCENARIOS.items():
        ours = dashboard.select(staff, Filters(**spec)).incidents
        assert run.naive_select(staff.table, spec).index.equals(ours.index), name


def test_naive_page_has_one_marker_per_located_incident(run, public):
    view = public.table.head(200)
    located = int(view["lat"].notna().sum())
    assert located > 100
    small = run.naive_page(view.head(20))
    assert run.naive_page(view) > small * 5
    # riskmap's page for the same incidents draws one object per location instead.
    assert len(maps.aggregate_locations(view)) < located


def test_a_release_without_dates_still_draws_a_naive_page(run, public):
    undated = public.table[public.table["date"].isna() & public.table["lat"].notna()]
    assert len(undated) > 0
    assert run.naive_page(undated) > 0


# The optimised library paths on benchmark-shaped data, against plain pandas. (They belong with
# each module's tests; kept here with the data that exercises them.)


def test_aggregate_matches_a_plain_groupby(public):
    view = public.table
    located = maps.aggregate_locations(view)
    drawn = view.dropna(subset=["lat", "lon"])
    # A release row stands for its shown period: a location's last day is its periods' end.
    plain = drawn.groupby(["lat", "lon"]).agg(
        incidents=("incident_id", "size"), last=("date_end", "max")
    )
    ours = located.groupby(["lat", "lon"]).agg(incidents=("incidents", "sum"), last=("last", "max"))
    # The release holds no number of people: the map shows none.
    assert located["people"].isna().all()
    pd.testing.assert_frame_equal(ours, plain, check_dtype=False)
    exploded = drawn["incident_types"].str.split("|").explode().value_counts()
    totals = pd.Series(
        {t: sum(d.get(t, 0) for d in located["types"]) for t in exploded.index}, name="count"
    )
    pd.testing.assert_series_equal(totals, exploded, check_names=False, check_dtype=False)


def test_the_release_benchmark_reports_detail_and_suppression(run, generate, tmp_path):
    store = generate.ensure_store(500, folder=tmp_path)
    result = run.measure_release(store, load_runs=1)
    assert set(result) >= {"build_s", "detail", "suppressed_share", "place", "k"}
    assert 0 < result["detail"] <= 1
    assert 0 <= result["suppressed_share"] < 1
    assert result["k"] == Settings().min_cell
    assert sum(result["place"].values()) == pytest.approx(1 - result["suppressed_share"], abs=0.01)
    assert result["build_s"] >= 0
    json.dumps(result)  # one JSON line, like the others


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
    for layer in maps.incident_layers(raw, marker_limit=100, min_cell=0):
        layer.add_to(m)
    page = m.get_root().render()
    # Binned to a grid before drawing: far fewer compact rows ("],[") than recorded points, and
    # no recorded street point in the page.
    assert page.count("],[") < exact / 2
    for lat in raw.loc[raw["geo_precision"] == "neighborhood", "lat"].head(50):
        assert f"{lat:.5f}," not in page


def test_load_benchmark_drives_real_sessions_against_a_real_server(sample_store):
    """``make bench-load``'s visitors open the page and change two filters through the protocol."""
    load = _module("load")
    (line,) = load.measure(sample_store, visitors=[2], timeout=300, map_reports=True)
    assert line["errors"] == 0, line["error_examples"]
    assert line["warm_up_errors"] == 0
    # Every visitor got its map, and a new map after each of its two filter changes.
    assert line["maps_opened"] == 2
    assert line["filter_maps"] == 4
    assert line["cpu_s_per_visitor"] > 0
    assert line["rss_mb"] > 0
    json.dumps(line)
