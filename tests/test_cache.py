"""The GeoParquet cache beside the store: the store's frame, rebuilt when the store changes."""

import os

import geopandas as gpd
import pandas as pd
import pytest

from riskmap.errors import StoreError
from riskmap.store import read_incidents, write_incidents
from riskmap.store.cache import cache_path, read_incidents_cached


@pytest.fixture
def store(tmp_path, sample):
    return write_incidents(sample, tmp_path / "incidents.gpkg")


def _same(a, b):
    assert isinstance(a, gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    assert a.crs == b.crs
    assert a.geometry.name == b.geometry.name
    assert a.attrs == b.attrs == {}


def test_first_read_writes_the_cache_and_later_reads_use_it(store):
    first = read_incidents_cached(store)
    cache = cache_path(store)
    assert cache.name == "incidents.gpkg.cache.parquet"
    assert cache.exists()
    _same(first, read_incidents(store))
    stamp = cache.stat().st_mtime_ns
    _same(read_incidents_cached(store), read_incidents(store))
    assert cache.stat().st_mtime_ns == stamp


def test_a_changed_store_rebuilds_the_cache(store, sample):
    read_incidents_cached(store)
    write_incidents(sample.head(5), store)
    again = read_incidents_cached(store)
    assert len(again) == 5
    _same(again, read_incidents(store))


def test_a_broken_cache_is_rebuilt(store):
    read_incidents_cached(store)
    cache_path(store).write_bytes(b"not parquet")
    _same(read_incidents_cached(store), read_incidents(store))
    assert cache_path(store).read_bytes() != b"not parquet"


def test_a_cache_of_another_store_is_not_used(tmp_path, store, sample):
    other = write_incidents(sample.head(3), tmp_path / "other.gpkg")
    read_incidents_cached(other, cache=cache_path(store))
    _same(read_incidents_cached(store), read_incidents(store))


def test_a_read_only_folder_means_no_cache(store, monkeypatch):
    import riskmap.store.cache

    def refuse(*args, **kwargs):
        raise StoreError("read-only folder")

    monkeypatch.setattr(riskmap.store.cache, "replace_atomically", refuse)
    _same(read_incidents_cached(store), read_incidents(store))
    assert not cache_path(store).exists()


def test_a_missing_store_is_reported(tmp_path):
    with pytest.raises(StoreError, match="no incident store"):
        read_incidents_cached(tmp_path / "missing.gpkg")
    assert not os.listdir(tmp_path)


def test_the_cache_gives_the_same_public_release(store, places):
    # The app builds the release from the cached frame: it must be the release of the store.
    from riskmap.release.public import build_release
    from riskmap.settings import Settings

    settings = Settings()
    read_incidents_cached(store)  # writes the cache
    assert cache_path(store).exists()
    cached = build_release(read_incidents_cached(store), places=places, settings=settings, key=b"k")
    direct = build_release(read_incidents(store), places=places, settings=settings, key=b"k")
    pd.testing.assert_frame_equal(cached.table, direct.table)
    assert {k: v for k, v in cached.report.items() if k != "generated_at"} == {
        k: v for k, v in direct.report.items() if k != "generated_at"
    }
