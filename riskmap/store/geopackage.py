"""The incident store: one GeoPackage file, written atomically and under a lock.

The store is written to a temporary file beside the target, flushed to disk, and moved into place
with :func:`os.replace`, which is atomic on POSIX and Windows: a crash or a kill mid-write leaves
the previous store intact, and a temporary file left behind by a killed writer is removed by the
next one. A read-modify-write (an import) holds an exclusive lock on the store's folder so that
two imports cannot interleave and lose each other's rows. Rows whose place could not be resolved
have no geometry.

Rows an import cannot accept go to a quarantine CSV beside the store
(:func:`quarantine_path`), never into the store.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from riskmap.errors import StoreError
from riskmap.schema import COLUMNS, WGS84, conform, empty_frame

LAYER = "incidents"
#: Suffix of the temporary files a writer creates beside its target.
TMP_SUFFIX = ".tmp"


def to_geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return a conformed incident table as a GeoDataFrame with point geometry in WGS84.

    Rows without ``lat``/``lon`` get an empty (null) geometry.
    """
    table = conform(frame)
    has_xy = table["lat"].notna() & table["lon"].notna()
    geometry = shapely.points(
        table["lon"].where(has_xy).to_numpy(dtype=float),
        table["lat"].where(has_xy).to_numpy(dtype=float),
    )
    geometry[~has_xy.to_numpy()] = None
    return gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84)


def read_incidents(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the incident store.

    Parameters
    ----------
    path
        The GeoPackage file.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical columns plus ``geometry``; empty if the file holds no incidents.

    Raises
    ------
    StoreError
        If the file is missing or is not an incident store.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no incident store here; create it with `riskmap import FILE --store {path}`"
        raise StoreError(msg)
    try:
        raw = pyogrio.read_dataframe(path, layer=LAYER, use_arrow=_arrow_available())
    except Exception as e:  # pyogrio raises several error types for unreadable files
        msg = f"{path}: cannot read the incident store ({' '.join(str(e).split())})"
        raise StoreError(msg) from e
    if raw.empty:
        return to_geoframe(empty_frame())
    frame = pd.DataFrame(raw.drop(columns="geometry"))
    try:
        return to_geoframe(frame)
    except Exception as e:  # a GeoPackage that is not an incident store
        msg = f"{path}: not an incident store ({' '.join(str(e).split())})"
        raise StoreError(msg) from e


def read_or_empty(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the incident store, or return an empty one if the file does not exist yet.

    Raises
    ------
    StoreError
        If the file exists but cannot be read as an incident store.
    """
    path = Path(path)
    if not path.exists():
        return to_geoframe(empty_frame())
    return read_incidents(path)


def write_incidents(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as the whole incident store, atomically.

    Parameters
    ----------
    frame
        Incidents in the canonical columns.
    path
        The GeoPackage file to create or replace.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    StoreError
        If the folder cannot be written or two incidents share an ``incident_id``.
    """
    path = Path(path)
    gdf = to_geoframe(frame)
    dup = gdf["incident_id"][gdf["incident_id"].duplicated()]
    if not dup.empty:
        shown = ", ".join(map(str, dup.unique()[:5]))
        msg = f"{path}: not written: incident_id repeated ({shown}); every incident needs its own"
        raise StoreError(msg)
    out = gdf.copy()
    # Dates go in as ISO text: portable across GDAL versions and indexable.
    out["date"] = gdf["date"].dt.strftime("%Y-%m-%d")

    def write(tmp: Path) -> None:
        pyogrio.write_dataframe(
            out, tmp, layer=LAYER, driver="GPKG", layer_options={"SPATIAL_INDEX": "YES"}
        )
        _add_indexes(tmp)

    replace_atomically(path, write, what="the incident store")
    return path


def append_incidents(frame: pd.DataFrame, path: str | os.PathLike[str]) -> int:
    """Add new incidents to the store (creating it if absent), atomically and under its lock.

    Parameters
    ----------
    frame
        New incidents in the canonical columns; none of their ids may be in the store already.
    path
        The GeoPackage file.

    Returns
    -------
    int
        The number of incidents in the store afterwards.

    Raises
    ------
    StoreError
        If an id is already in the store (deduplicate first) or the store cannot be written.
    """
    with store_lock(path):
        merged = merge_incidents(read_or_empty(path), frame)
        write_incidents(merged, path)
    return len(merged)


def merge_incidents(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Return the stored incidents followed by ``new`` ones, as one conformed table.

    Raises
    ------
    StoreError
        If an id of ``new`` is already among ``existing`` (an overwrite is never silent).
    """
    old = conform(pd.DataFrame(existing).drop(columns="geometry", errors="ignore"))
    add = conform(pd.DataFrame(new).drop(columns="geometry", errors="ignore"))
    clash = add["incident_id"][add["incident_id"].isin(old["incident_id"])]
    if not clash.empty:
        shown = ", ".join(map(str, clash.unique()[:5]))
        msg = f"incident_id already in the store: {shown}; give new incidents new ids"
        raise StoreError(msg)
    if old.empty:
        return add
    if add.empty:
        return old
    return conform(pd.concat([old, add], ignore_index=True))


@contextlib.contextmanager
def store_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the store for a read-modify-write.

    The lock is an advisory ``flock`` on the store's folder (so no lock file is left behind),
    released by the kernel if the holder dies: a killed import never leaves the store locked.
    On systems without ``fcntl`` it is a no-op. Not re-entrant: do not nest it.
    """
    folder = Path(path).parent
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError as e:
        msg = f"{path}: cannot use the store's folder ({e.strerror or e}); check the path"
        raise StoreError(msg) from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def quarantine_path(
    store: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
) -> Path:
    """Return the quarantine CSV beside ``store`` for rows of ``source`` that were not imported.

    ``data/incidents.gpkg`` and ``logs/Matamoros 2019.xlsx`` give
    ``data/incidents.matamoros-2019.quarantine.csv``: one file per source, rewritten by each
    import of that source, so that re-importing a file never piles up the same rows twice.
    """
    store = Path(store)
    if source is None:
        return store.with_name(f"{store.stem}.quarantine.csv")
    slug = re.sub(r"[^a-z0-9]+", "-", Path(source).stem.lower()).strip("-") or "input"
    return store.with_name(f"{store.stem}.{slug[:60]}.quarantine.csv")


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`.

    Raises
    ------
    StoreError
        If the folder cannot be written.
    """
    path = Path(path)
    replace_atomically(path, lambda tmp: tmp.write_bytes(data), what="the file")
    return path


def replace_atomically(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, what: str = "the file"
) -> None:
    """Create ``path`` by calling ``write(tmp)`` on a temporary path beside it, then moving it.

    Readers see either the old file or the complete new one, never a partial one.

    Parameters
    ----------
    path
        The file to create or replace.
    write
        Writes the new content to the path it is given (which does not exist yet).
    what
        How error messages name the file.

    Raises
    ------
    StoreError
        If the folder cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=TMP_SUFFIX + path.suffix, dir=path.parent
        )
        os.close(fd)
    except OSError as e:
        msg = f"{path}: cannot write {what} ({e}); check that the folder exists and is writable"
        raise StoreError(msg) from e
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # GDAL refuses to create a GeoPackage over an existing empty file
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as e:
        msg = f"{path}: cannot write {what} ({e}); check the free space and the permissions"
        raise StoreError(msg) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files that a killed writer of ``path`` left beside it.

    Call it only while holding :func:`store_lock`, when no other writer can be running.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*{TMP_SUFFIX}{path.suffix}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _add_indexes(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute(f'CREATE INDEX IF NOT EXISTS "{LAYER}_date" ON "{LAYER}" ("date")')
        con.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{LAYER}_incident_id" ON "{LAYER}" ("incident_id")'
        )
        con.commit()


def _arrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = [
    "COLUMNS",
    "LAYER",
    "append_incidents",
    "merge_incidents",
    "quarantine_path",
    "read_incidents",
    "read_or_empty",
    "remove_stale_temporaries",
    "replace_atomically",
    "store_lock",
    "to_geoframe",
    "write_bytes_atomically",
    "write_incidents",
]
