"""A GeoParquet copy of the incident store, beside it, for fast loads of big stores.

Reading a GeoPackage of a million incidents takes about 3 s (GDAL turns SQLite rows into Arrow
batches); the same table as GeoParquet (Apache Parquet with GeoParquet 1.1 metadata, points in
the native GeoArrow encoding) loads in about 1 s from a file some 30 times smaller
(``benchmarks/RESULTS.md``). The GeoPackage stays the one store that imports write; the cache
is a derived copy, written the first time the store is read through :func:`read_incidents_cached`
and rebuilt whenever the store's modification time, size or inode (an atomic replace makes a new
file) no longer match the ones recorded in the cache.

The cache holds the same restricted data as the store: it lives in the store's folder, with the
same permissions, and must never be committed or published.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd

from riskmap.errors import StoreError
from riskmap.schema import COLUMNS
from riskmap.store import is_url, open_store, read_incidents, replace_atomically

#: Appended to the store's file name to name its cache.
CACHE_SUFFIX = ".cache.parquet"
#: Key under ``DataFrame.attrs`` (saved in the Parquet file) that records which store it copies.
_ATTR = "riskmap_store"
#: Bumped when the cache's layout changes, so older caches are rebuilt.
_FORMAT = 2  # 2: the review status travels with the incidents


def cache_path(store: str | os.PathLike[str]) -> Path:
    """Return where the cache of ``store`` is kept (``incidents.gpkg.cache.parquet``)."""
    store = Path(store)
    return store.with_name(store.name + CACHE_SUFFIX)


def read_incidents_cached(
    store: str | os.PathLike[str], *, cache: str | os.PathLike[str] | None = None
) -> gpd.GeoDataFrame:
    """Read the incident store through its GeoParquet cache.

    Returns what :func:`riskmap.store.read_incidents` returns. When the cache is missing, stale
    or unreadable, the store is read and the cache (re)written; a folder that cannot be written
    (or a missing pyarrow) only means there is no cache.

    Parameters
    ----------
    store
        The GeoPackage file.
    cache
        Where to keep the cache; :func:`cache_path` by default.

    Raises
    ------
    StoreError
        If the store is missing or is not an incident store.
    """
    store = Path(store)
    cache = Path(cache) if cache is not None else cache_path(store)
    key = _store_key(store)
    if key is not None and cache.exists():
        with contextlib.suppress(Exception):  # any unreadable cache is simply rebuilt
            frame = gpd.read_parquet(cache)
            if frame.attrs.get(_ATTR) == key:
                frame.attrs = {}
                return frame
    frame = read_incidents(store)
    if key is not None:
        # pyarrow cannot encode a column of only null geometries: such a store has no cache.
        with contextlib.suppress(StoreError, ImportError, ValueError, NotImplementedError):
            write_cache(frame, cache, key=key)
    return frame


def read_store(store: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read every incident with its status: a GeoPackage through its cache, PostGIS directly.

    Raises
    ------
    StoreError
        If the store cannot be read.
    """
    if is_url(store):
        return open_store(store).read()
    return read_incidents_cached(store)


def write_cache(frame: gpd.GeoDataFrame, cache: Path, *, key: dict[str, object]) -> Path:
    """Write ``frame`` as the GeoParquet cache at ``cache``, recording ``key``, atomically.

    Raises
    ------
    StoreError
        If the folder cannot be written.
    ImportError
        If pyarrow is not installed.
    """
    tagged = frame.copy(deep=False)
    tagged.attrs = {_ATTR: key}

    def write(tmp: Path) -> None:
        tagged.to_parquet(tmp, geometry_encoding="geoarrow", compression="zstd")

    replace_atomically(cache, write, what="the store's cache")
    return cache


def _store_key(store: Path) -> dict[str, object] | None:
    """Identify one version of the store file and of the incident model."""
    try:
        stat = store.stat()
    except OSError:
        return None  # read_incidents reports the missing store
    model = hashlib.sha256(json.dumps(COLUMNS).encode("utf-8")).hexdigest()[:16]
    return {
        "format": _FORMAT,
        "model": model,
        "mtime_ns": stat.st_mtime_ns,
        "size": stat.st_size,
        "inode": stat.st_ino,
    }


__all__ = ["CACHE_SUFFIX", "cache_path", "read_incidents_cached", "read_store", "write_cache"]
