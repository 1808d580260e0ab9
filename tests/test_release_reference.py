"""The fast release build gives the release of the frozen reference build, exactly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from riskmap.release import public
from riskmap.release.public import build_release
from riskmap.schema import COLUMNS
from riskmap.settings import Settings
from riskmap.store import read_incidents

KEY = b"reference-key"
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    return _load("release_reference", Path(__file__).resolve().parent / "_release_reference.py")


@pytest.fixture(scope="module")
def bench_generate():
    return _load("bench_generate_reference", BENCHMARKS / "generate.py")


def _assert_same(frame: pd.DataFrame, places: pd.DataFrame, reference, *, k: int, **kw) -> None:
    settings = Settings(min_cell=k)
    fast = build_release(frame, places=places, settings=settings, key=KEY, **kw)
    slow = reference.build_release(frame, places=places, settings=settings, key=KEY, **kw)
    pd.testing.assert_frame_equal(fast.table, slow.table, check_exact=True)
    mine = {key: v for key, v in fast.report.items() if key != "generated_at"}
    theirs = {key: v for key, v in slow.report.items() if key != "generated_at"}
    assert mine == theirs


@pytest.mark.parametrize(
    ("n", "seed", "k"),
    [(0, 1, 3), (5, 1, 3), (60, 2, 3), (400, 3, 3), (400, 4, 5), (2500, 5, 2), (8000, 6, 3)],
)
def test_random_stores_give_the_reference_release(places, random_store, reference, n, seed, k):
    _assert_same(random_store(places, n=n, seed=seed), places, reference, k=k)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_the_sample_gives_the_reference_release(sample, places, reference, k):
    _assert_same(sample, places, reference, k=k)


@pytest.mark.parametrize(("n", "seed", "k"), [(3000, 11, 3), (30000, 12, 3), (30000, 13, 7)])
def test_benchmark_stores_give_the_reference_release(places, bench_generate, reference, n, seed, k):
    frame = bench_generate.generate(n, seed=seed, places=places)
    _assert_same(frame, places, reference, k=k)


def test_global_recoding_gives_the_reference_release(places, random_store, reference):
    _assert_same(random_store(places, n=1500, seed=21), places, reference, k=3, recoding="global")


@pytest.mark.parametrize("limit", [1 << 12, 1 << 24])
def test_keys_that_need_re_coding_give_the_reference_release(
    places, random_store, reference, monkeypatch, limit
):
    # A store whose class keys do not fit the key limit takes the paths that re-code them.
    monkeypatch.setattr(public, "_KEY_LIMIT", limit)
    _assert_same(random_store(places, n=3000, seed=31), places, reference, k=3)


def test_a_store_as_read_gives_the_reference_release(sample_store, places, reference):
    # Canonical columns and dtypes with the review status and geometry beside them.
    incidents = read_incidents(sample_store)
    assert list(incidents.columns) != list(COLUMNS)
    _assert_same(incidents, places, reference, k=3)
    _assert_same(
        incidents.assign(synthetic=incidents["synthetic"].astype(object)), places, reference, k=3
    )
