"""The public release kept beside the store: equal to a fresh build, rebuilt when anything that
shapes it changes, never trusted when damaged, and never more than the public may see."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import pandas as pd
import pytest

from riskmap.release import cache, public
from riskmap.release.privacy import PRIVATE_COLUMNS, pseudonym_key
from riskmap.settings import Settings
from riskmap.store import read_incidents

SETTINGS = Settings(pseudonym_key="release-cache-test-key")
KEY = pseudonym_key(SETTINGS)


@pytest.fixture
def store(tmp_path, sample_store):
    """A private copy of the sample store (the cache is written beside it)."""
    copy = tmp_path / "incidents.gpkg"
    shutil.copy2(sample_store, copy)
    return copy


class _Reads:
    """Count the reads of the store that loading the release needed."""

    def __init__(self, store):
        self.store, self.n = store, 0

    def __call__(self):
        self.n += 1
        return read_incidents(self.store)


def load(store, places, *, settings=SETTINGS, key=KEY, reads=None):
    return cache.load_release(
        store, places=places, settings=settings, key=key, read=reads or _Reads(store)
    )


def assert_same_release(a: public.Release, b: public.Release, *, built_apart: bool = False):
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    if built_apart:  # two builds differ only in when they were made
        a_report = {k: v for k, v in a.report.items() if k != "generated_at"}
        b_report = {k: v for k, v in b.report.items() if k != "generated_at"}
        assert a_report == b_report
    else:
        assert a.report == b.report


def test_the_cached_release_equals_the_build_and_a_fresh_one(store, places):
    reads = _Reads(store)
    built = load(store, places, reads=reads)
    assert reads.n == 1
    assert all(p.exists() for p in cache.cache_paths(store))
    again = load(store, places, reads=reads)
    assert reads.n == 1  # loaded: the store was not read again
    assert_same_release(again, built)
    assert isinstance(again.table.index, pd.RangeIndex)
    fresh = public.build_release(read_incidents(store), places=places, settings=SETTINGS, key=KEY)
    assert_same_release(again, fresh, built_apart=True)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: dataclasses.replace(s, min_cell=s.min_cell + 2), id="k"),
        pytest.param(lambda s: dataclasses.replace(s, h3_resolution=7), id="h3_resolution"),
    ],
)
def test_a_changed_setting_rebuilds(store, places, change):
    load(store, places)
    settings = change(SETTINGS)
    reads = _Reads(store)
    changed = load(store, places, settings=settings, reads=reads)
    assert reads.n == 1
    fresh = public.build_release(read_incidents(store), places=places, settings=settings, key=KEY)
    assert_same_release(changed, fresh, built_apart=True)
    assert changed.k == settings.min_cell


def test_a_changed_key_rebuilds_with_the_new_ids(store, places):
    first = load(store, places)
    reads = _Reads(store)
    other = load(store, places, key=b"another key", reads=reads)
    assert reads.n == 1
    assert set(other.table["incident_id"]).isdisjoint(first.table["incident_id"])


def test_a_changed_store_rebuilds(store, places, sample):
    first = load(store, places)
    from riskmap.store import write_incidents

    write_incidents(sample.iloc[:30], store)
    reads = _Reads(store)
    smaller = load(store, places, reads=reads)
    assert reads.n == 1
    assert smaller.report["incidents"] == 30 < first.report["incidents"]


def test_a_touched_store_rebuilds(store, places):
    load(store, places)
    stat = store.stat()
    os.utime(store, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    reads = _Reads(store)
    load(store, places, reads=reads)
    assert reads.n == 1


def test_a_changed_gazetteer_rebuilds(store, places):
    load(store, places)
    moved = places.copy()
    moved.loc[moved["place_type"] != "city", "lat"] += 0.01
    reads = _Reads(store)
    load(store, moved, reads=reads)
    assert reads.n == 1


def _corrupt_table(store):
    table, _ = cache.cache_paths(store)
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))


def _truncate_table(store):
    table, _ = cache.cache_paths(store)
    table.write_bytes(table.read_bytes()[:100])


def _garble_report(store):
    _, report = cache.cache_paths(store)
    report.write_text("{not json", encoding="utf-8")


def _drop_report(store):
    cache.cache_paths(store)[1].unlink()


def _forge_rows(store):
    """A table rewritten to other rows, with its report left as it was."""
    table, _ = cache.cache_paths(store)
    frame = pd.read_parquet(table)
    frame.iloc[:5].to_parquet(table)


@pytest.mark.parametrize(
    "damage", [_corrupt_table, _truncate_table, _garble_report, _drop_report, _forge_rows]
)
def test_a_damaged_cache_is_rebuilt_not_trusted(store, places, damage):
    built = load(store, places)
    damage(store)
    reads = _Reads(store)
    again = load(store, places, reads=reads)
    assert reads.n == 1
    assert_same_release(again, built, built_apart=True)
    # ... and written afresh: the next load trusts it again.
    reads = _Reads(store)
    assert_same_release(load(store, places, reads=reads), again)
    assert reads.n == 0


def test_a_report_for_another_table_is_not_trusted(store, places):
    """A crash between the two writes leaves a new table beside an old report."""
    load(store, places)
    table, report = cache.cache_paths(store)
    old_report = report.read_text(encoding="utf-8")
    version = cache.release_version(store, places=places, settings=SETTINGS, key=b"other")
    other = public.build_release(
        read_incidents(store), places=places, settings=SETTINGS, key=b"other"
    )
    cache.write_cached(other, store, version=version)
    report.write_text(old_report, encoding="utf-8")
    assert cache.read_cached(store, version=json.loads(old_report)["version"]) is None


def test_the_cache_holds_only_public_columns_and_never_the_key(store, places, sample):
    load(store, places)
    table, report = cache.cache_paths(store)
    frame = pd.read_parquet(table)
    assert list(frame.columns) == list(public.ROW_COLUMNS)
    for column in (*PRIVATE_COLUMNS, "victims", "children"):
        assert column not in frame.columns
    raw = table.read_bytes() + report.read_bytes()
    assert KEY not in raw
    assert SETTINGS.pseudonym_key.encode() not in raw
    # No recorded id and no free text reaches either file.
    for value in [*sample["incident_id"], *sample["notes"].dropna(), *sample["source"].dropna()]:
        if len(str(value)) >= 8:
            assert str(value).encode("utf-8") not in raw, value
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert set(saved["version"]["settings"]) == set(cache.RELEASE_SETTINGS)


def test_an_unwritable_cache_only_means_no_cache(store, places):
    # A folder where the table would go: it cannot be replaced (root ignores permissions).
    table, report = cache.cache_paths(store)
    table.mkdir()
    (table / "keep").write_text("", encoding="utf-8")
    reads = _Reads(store)
    release = load(store, places, reads=reads)
    assert reads.n == 1
    assert release.report["released"] == len(release.table)
    assert table.is_dir()
    assert not report.exists()
    load(store, places, reads=reads)
    assert reads.n == 2  # still no cache: built again, same as before


def test_a_missing_store_has_no_version(tmp_path, places):
    missing = tmp_path / "absent.gpkg"
    assert cache.release_version(missing, places=places, settings=SETTINGS, key=KEY) is None
