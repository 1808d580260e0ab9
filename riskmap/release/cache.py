"""The public release of a store, kept beside it, so that a restart does not rebuild it.

Building the release of a million incidents takes seconds (:func:`riskmap.release.public.
build_release`); loading it back takes a fraction of that. The release is written beside the
store as two files:

``incidents.gpkg.release.parquet``
    The release table (:data:`~riskmap.release.public.ROW_COLUMNS` only: what every public
    output is derived from, so nothing in it is more than the public may see).
``incidents.gpkg.release.json``
    The release report and the **version** the table belongs to: the store's own version
    (:meth:`riskmap.store.base.IncidentStore.store_version`: a GeoPackage's modification time,
    size and inode, which every import, edit and review step changes; for PostGIS the count,
    the sum of the row versions and the last audit line), the gazetteer as the release used it
    (a hash of its rows), the settings that shape the release (k, the H3 resolution), a
    fingerprint of the pseudonym key (an HMAC of
    a fixed label: it names the key without revealing it; the key itself is never written), the
    release code (a hash of the modules that build it) and the SHA-256 of the table file.

Each file is replaced atomically (:func:`riskmap.store.replace_atomically`), the table first.
A reader uses the cache only when the report names exactly the version it would build and the
table file has the recorded hash and columns; anything else (a changed store — a status
changed by a review step included —, k, gazetteer or key, a half-written pair, a corrupt file)
is rebuilt and rewritten, never trusted. A folder that cannot be written only means there is no
cache. A PostGIS store keeps its release in ``data/`` (:func:`riskmap.settings.local_path`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from riskmap.errors import StoreError
from riskmap.release import privacy, public
from riskmap.settings import Settings, local_path
from riskmap.store import open_store, replace_atomically

#: Appended to the store's file name to name the release table and its report.
TABLE_SUFFIX = ".release.parquet"
REPORT_SUFFIX = ".release.json"
#: Bumped when the cache's layout changes, so older caches are rebuilt.
FORMAT = 2
#: Settings fields that shape the release (the others only change how it is shown).
RELEASE_SETTINGS: tuple[str, ...] = ("min_cell", "h3_resolution")
_KEY_LABEL = b"riskmap release cache: key fingerprint"
#: The modules whose code decides what the release holds.
_CODE = (public, privacy)


def cache_paths(store: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Return where the release of ``store`` is kept: the table and its report."""
    store = local_path(store)
    return store.with_name(store.name + TABLE_SUFFIX), store.with_name(store.name + REPORT_SUFFIX)


def release_version(
    store: str | os.PathLike[str],
    *,
    places: pd.DataFrame,
    settings: Settings,
    key: bytes,
) -> dict[str, object] | None:
    """Return what identifies the release that :func:`build_release` would build now.

    ``None`` when the store cannot be examined (then there is no cache).

    Parameters
    ----------
    store
        The store (a GeoPackage path or a PostGIS URL).
    places
        The gazetteer the release is built with (staff-verified points applied).
    settings
        The settings the release is built with.
    key
        The store's pseudonym key; only a fingerprint of it is returned.
    """
    try:
        stored = open_store(store).store_version()
    except StoreError:
        return None
    if stored is None:
        return None
    return {
        "format": FORMAT,
        "store": stored,
        "places": _frame_hash(places),
        "settings": {name: getattr(settings, name) for name in RELEASE_SETTINGS},
        "key": hmac.new(key, _KEY_LABEL, hashlib.sha256).hexdigest()[:32],
        "code": _code_hash(),
    }


def load_release(
    store: str | os.PathLike[str],
    *,
    places: pd.DataFrame,
    settings: Settings,
    key: bytes,
    read: Callable[[], pd.DataFrame] | None = None,
) -> public.Release:
    """Return the public release of ``store``: from its cache when current, else built.

    A release that had to be built is written to the cache (when the folder is writable).

    Parameters
    ----------
    store
        The store file.
    places
        The gazetteer (staff-verified points applied).
    settings
        k (``min_cell``) and the H3 resolution.
    key
        The store's pseudonym key (:func:`riskmap.release.privacy.pseudonym_key`).
    read
        Returns the store's incidents, called only when the release must be built; by default
        :func:`riskmap.store.cache.read_incidents_cached`.

    Raises
    ------
    StoreError
        If the release must be built and the store cannot be read.
    """
    version = release_version(store, places=places, settings=settings, key=key)
    if version is not None:
        cached = read_cached(store, version=version)
        if cached is not None:
            return cached
    if read is None:
        from riskmap.store.cache import read_store

        def read() -> pd.DataFrame:
            return read_store(store)

    release = public.build_release(read(), places=places, settings=settings, key=key)
    if version is not None:
        with contextlib.suppress(StoreError):  # an unwritable folder: no cache, same release
            write_cached(release, store, version=version)
    return release


def release_unused_memory() -> None:
    """Give back to the system the memory Arrow's pool keeps for reuse.

    A server holds the release for hours; what a load or a filter freed stays in Arrow's pool
    (about 70 MB after loading a release of a million rows) unless it is given back.
    """
    try:
        import pyarrow as pa
    except ImportError:  # no Arrow, no pool
        return
    pa.default_memory_pool().release_unused()


def read_cached(
    store: str | os.PathLike[str], *, version: dict[str, object]
) -> public.Release | None:
    """Return the cached release of ``store`` if it is exactly ``version``, else ``None``.

    Never raises: a missing, stale, half-written or corrupt cache is ``None``.
    """
    table_path, report_path = cache_paths(store)
    try:
        saved = json.loads(report_path.read_text(encoding="utf-8"))
        if saved.get("version") != _jsonable(version):
            return None
        data = table_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != saved.get("table_sha256"):
            return None
        table = pd.read_parquet(io.BytesIO(data))
        # Parquet has no second resolution: the dtypes the release had are put back.
        table = table.astype(saved["dtypes"])
    except Exception:  # noqa: BLE001 - whatever is wrong with the cache, it is rebuilt
        return None
    report = saved.get("report")
    if (
        list(table.columns) != list(public.ROW_COLUMNS)
        or not isinstance(report, dict)
        or len(table) != report.get("released")
    ):
        return None
    release_unused_memory()
    return public.Release(table=table, report=report)


def write_cached(
    release: public.Release, store: str | os.PathLike[str], *, version: dict[str, object]
) -> tuple[Path, Path]:
    """Write ``release`` as the cache of ``store`` at ``version``: the table, then the report.

    Raises
    ------
    StoreError
        If the folder cannot be written.
    """
    table_path, report_path = cache_paths(store)
    buffer = io.BytesIO()
    # Only the shown columns, whatever the table carries: the cache is as public as the release.
    table = release.table[list(public.ROW_COLUMNS)]
    table.to_parquet(buffer, compression="zstd")
    data = buffer.getvalue()
    report = {
        "version": _jsonable(version),
        "table_sha256": hashlib.sha256(data).hexdigest(),
        "dtypes": {str(c): str(t) for c, t in table.dtypes.items()},
        "report": _jsonable(release.report),
    }
    text = json.dumps(report, indent=1, sort_keys=True)
    replace_atomically(table_path, lambda tmp: tmp.write_bytes(data), what="the release cache")
    replace_atomically(
        report_path,
        lambda tmp: tmp.write_text(text, encoding="utf-8"),
        what="the release cache's report",
    )
    return table_path, report_path


def _frame_hash(frame: pd.DataFrame) -> str:
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    columns = json.dumps([str(c) for c in frame.columns]).encode("utf-8")
    return hashlib.sha256(columns + rows).hexdigest()[:32]


def _code_hash() -> str:
    digest = hashlib.sha256()
    for module in _CODE:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:32]


def _jsonable(value: object) -> object:
    """Return ``value`` as JSON gives it back (tuples as lists), to compare like with like."""
    return json.loads(json.dumps(value))


__all__ = [
    "FORMAT",
    "RELEASE_SETTINGS",
    "REPORT_SUFFIX",
    "TABLE_SUFFIX",
    "cache_paths",
    "load_release",
    "read_cached",
    "release_version",
    "write_cached",
]
