"""The incident store: one GeoPackage file, written atomically and under a lock.

The store is written to a temporary file beside the target, flushed to disk, and moved into place
with :func:`os.replace`, which is atomic on POSIX and Windows: a crash or a kill mid-write leaves
the previous store intact, and a temporary file left behind by a killed writer is removed by the
next one. A read-modify-write (an import) holds an exclusive lock on the store's folder so that
two imports cannot interleave and lose each other's rows. Rows whose place could not be resolved
have no geometry.

Rows an import cannot accept go to a quarantine CSV beside the store
(:func:`quarantine_path`), never into the store.

Each incident has a review ``status`` (:data:`riskmap.schema.STATUSES`) beside its canonical
columns; a store written before statuses existed is upgraded when it is opened, its incidents
``published`` (they were all public). The audit log and the pending revisions are plain tables
in the same file (:mod:`riskmap.store.audit`).

:class:`GeoPackageStore` is this backend behind the interface of :mod:`riskmap.store.base`: an
import appends its new rows in one SQLite transaction (found by lookups in the unique
``incident_id`` index, so its cost grows with the new rows, not with the store) and an edit
checks the row's ``version`` inside its transaction. Both hold the folder lock too, so that they
never write to a file that a whole-store writer is replacing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from riskmap.errors import StoreError
from riskmap.schema import COLUMNS, PUBLISHED, STATUS, WGS84, conform, empty_frame
from riskmap.store import _gpkg_sql as sql
from riskmap.store import audit
from riskmap.store.base import (
    VERSION,
    changed_values,
    conflict,
    edited_row,
    import_entries,
    not_found,
    placed,
    record_columns,
    records,
    statuses_of,
)

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
        Canonical columns plus ``geometry`` and the review ``status`` (``published`` for a
        store written before statuses existed); empty if the file holds no incidents.

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
        return with_status(to_geoframe(empty_frame()), None)
    frame = pd.DataFrame(raw.drop(columns="geometry"))
    try:
        out = to_geoframe(frame)
    except Exception as e:  # a GeoPackage that is not an incident store
        msg = f"{path}: not an incident store ({' '.join(str(e).split())})"
        raise StoreError(msg) from e
    return with_status(out, frame.get(STATUS))


def with_status(frame: gpd.GeoDataFrame, status: pd.Series | None) -> gpd.GeoDataFrame:
    """Return ``frame`` with its review ``status`` column (a store without one: published)."""
    frame[STATUS] = (
        pd.Series(PUBLISHED, index=frame.index, dtype="string")
        if status is None
        else pd.Series(status.to_numpy(dtype=object), index=frame.index, dtype="string")
    )
    return frame


def read_or_empty(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the incident store, or return an empty one if the file does not exist yet.

    Raises
    ------
    StoreError
        If the file exists but cannot be read as an incident store.
    """
    path = Path(path)
    if not path.exists():
        return with_status(to_geoframe(empty_frame()), None)
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
    if STATUS in frame:
        # The statuses travel with a whole-store write (without them the store reads as legacy,
        # every incident published).
        out[STATUS] = pd.Series(frame[STATUS].to_numpy(dtype=object), index=out.index)

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
    # Stored incidents keep their status; new ones wait for review unless they carry one.
    old[STATUS] = statuses_of(existing, default=PUBLISHED)
    add[STATUS] = statuses_of(new, default="in_review")
    clash = add["incident_id"][add["incident_id"].isin(old["incident_id"])]
    if not clash.empty:
        shown = ", ".join(map(str, clash.unique()[:5]))
        msg = f"incident_id already in the store: {shown}; give new incidents new ids"
        raise StoreError(msg)
    if old.empty:
        return add
    if add.empty:
        return old
    status = pd.concat([old[STATUS], add[STATUS]], ignore_index=True)
    out = conform(pd.concat([old, add], ignore_index=True))
    out[STATUS] = status
    return out


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
    with contextlib.closing(sql.connect(path)) as con:
        con.execute("BEGIN")
        con.execute(f'CREATE INDEX IF NOT EXISTS "{LAYER}_date" ON "{LAYER}" ("date")')
        con.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{LAYER}_incident_id" ON "{LAYER}" ("incident_id")'
        )
        sql.ensure_version(con, LAYER, VERSION)
        sql.ensure_status(con, LAYER, STATUS, legacy=PUBLISHED)
        con.commit()


class GeoPackageStore:
    """The GeoPackage backend of :class:`riskmap.store.base.IncidentStore`.

    Parameters
    ----------
    path
        The GeoPackage file (created by the first import).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = str(self.path)

    def exists(self) -> bool:
        """Tell whether the file exists."""
        return self.path.exists()

    def read(self, *, versions: bool = False) -> gpd.GeoDataFrame:
        """Return every incident with its ``status``; with ``versions``, a ``version`` too."""
        if self.exists():
            with self._open():
                pass  # upgrades a store from before statuses, so that it reads as it will stay
        frame = read_incidents(self.path)
        if versions:
            with self._open() as con:
                stored = dict(con.execute(f'SELECT "incident_id", "{VERSION}" FROM "{LAYER}"'))
            frame[VERSION] = frame["incident_id"].map(stored).fillna(1).astype("int64")
        return frame

    def count(self) -> int:
        """Return the number of incidents (0 if the file does not exist)."""
        if not self.exists():
            return 0
        with self._open() as con:
            return int(con.execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])

    def store_version(self) -> dict[str, object] | None:
        """Identify this state of the store (``None`` when the file is missing).

        Every change (an import, an edit, a review step) writes the file, so its modification
        time, size and inode (an atomic replace makes a new file) change.
        """
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return {
            "backend": "geopackage",
            "mtime_ns": stat.st_mtime_ns,
            "size": stat.st_size,
            "inode": stat.st_ino,
        }

    @contextlib.contextmanager
    def connection(self) -> Iterator[audit.Connection]:
        """Open the store for reading its tables (no lock, no transaction)."""
        with self._open() as con:
            yield audit.Connection(con, "sqlite")

    @contextlib.contextmanager
    def writer(self, *, status: str = "in_review", by: str = "") -> Iterator[_GeoPackageWriter]:
        """Hold the store's lock and one SQLite transaction; commit if the block succeeds.

        Parameters
        ----------
        status
            The status of appended incidents that do not carry one (``in_review``: nothing
            reaches the public without a decision).
        by
            Who writes (for the audit log).
        """
        with store_lock(self.path):
            remove_stale_temporaries(self.path)
            if not self.exists():
                write_incidents(empty_frame(), self.path)
            with self._open() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield _GeoPackageWriter(self, con, status=status, by=by)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise

    def get(self, incident_id: str) -> tuple[dict[str, object], int]:
        """Return one incident's canonical values and its version.

        Raises
        ------
        StoreError
            If the store does not hold the incident.
        """
        with self._open() as con:
            found = sql.select(con, LAYER, [incident_id], version=VERSION)
        if found.empty:
            raise not_found(self.name, incident_id)
        row = found.iloc[0]
        return {c: row[c] for c in COLUMNS}, int(row[VERSION])

    def update(
        self,
        incident_id: str,
        changes: Mapping[str, object],
        *,
        expected_version: int,
        by: str = "",
    ) -> int:
        """Apply ``changes`` if the incident is still at ``expected_version`` (audited).

        A store-level edit, in place whatever the status: the app edits through
        :mod:`riskmap.workflow.review`, which holds an edit of a published incident for review.

        Returns
        -------
        int
            The incident's new version.

        Raises
        ------
        StoreConflictError
            If the store holds another version (nothing is written).
        SchemaError
            If the edited incident would not be valid.
        """
        with store_lock(self.path), self._open() as con:
            con.execute("BEGIN IMMEDIATE")  # the version check and the write are one transaction
            try:
                found = sql.select(con, LAYER, [incident_id], version=VERSION, extra=(STATUS,))
                if found.empty:
                    raise not_found(self.name, incident_id)
                current = int(found.iloc[0][VERSION])
                if current != expected_version:
                    raise conflict(
                        self.name, incident_id, expected=expected_version, current=current
                    )
                row = edited_row(found.iloc[0].to_dict(), changes, incident_id=incident_id)
                geometry = sql.geometry_column(con, LAYER)
                sql.update(
                    con,
                    LAYER,
                    records(row)[0],
                    geometry=geometry,
                    version=VERSION,
                    new_version=current + 1,
                )
                before, after = changed_values(found.iloc[0], row.iloc[0])
                status = str(found.iloc[0][STATUS])
                audit.record(
                    audit.Connection(con, "sqlite"),
                    [
                        audit.Entry(
                            incident_id,
                            "edit",
                            by or "unknown",
                            status,
                            status,
                            current + 1,
                            before,
                            after,
                        )
                    ],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return current + 1

    def quarantine_path(self, source: str | os.PathLike[str]) -> Path:
        """Return the quarantine CSV beside the store for ``source``."""
        return quarantine_path(self.path, source)

    @contextlib.contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        if not self.exists():
            msg = (
                f"{self.path}: no incident store here; create it with "
                f"`riskmap import FILE --store {self.path}`"
            )
            raise StoreError(msg)
        try:
            con = sql.connect(self.path)
        except sqlite3.Error as e:
            msg = f"{self.path}: cannot open the incident store ({e})"
            raise StoreError(msg) from e
        try:
            _ensure_review(con)
            yield con
        except sqlite3.Error as e:
            msg = f"{self.path}: the incident store cannot be used ({e})"
            raise StoreError(msg) from e
        finally:
            con.close()


def _ensure_review(con: sqlite3.Connection) -> None:
    """Upgrade a store from before versions and statuses; add the audit tables if absent."""
    names = {r[1] for r in con.execute(f'PRAGMA table_info("{LAYER}")')}
    tables = {
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE name IN (?, ?, ?)",
            (audit.AUDIT_TABLE, audit.REVISIONS_TABLE, f"{audit.AUDIT_TABLE}_no_delete"),
        )
    }
    if {VERSION, STATUS} <= names and len(tables) == 3:
        return
    con.execute("BEGIN IMMEDIATE")  # two first openers must not both add the columns
    try:
        sql.ensure_version(con, LAYER, VERSION)
        sql.ensure_status(con, LAYER, STATUS, legacy=PUBLISHED)
        for statement in audit.schema_sql("sqlite"):
            con.execute(statement)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


class _GeoPackageWriter:
    """Lookups, appends and review steps inside a :meth:`GeoPackageStore.writer` transaction."""

    def __init__(
        self, store: GeoPackageStore, con: sqlite3.Connection, *, status: str, by: str
    ) -> None:
        self._store, self._con = store, con
        self._geometry = sql.geometry_column(con, LAYER)
        self.status, self.by = status, by
        #: The transaction's connection, for the audit log and the revisions.
        self.con = audit.Connection(con, "sqlite")

    def incidents(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids`` with ``version`` and ``status``."""
        return sql.select(self._con, LAYER, ids, version=VERSION, extra=(STATUS,))

    def write(self, row: pd.DataFrame, *, version: int) -> None:
        """Overwrite one stored incident with the one-row canonical table ``row``."""
        sql.update(
            self._con,
            LAYER,
            records(row)[0],
            geometry=self._geometry,
            version=VERSION,
            new_version=version,
        )
        if sql.has_rtree(self._con, LAYER, geometry=self._geometry):
            sql.refresh_extent(self._con, LAYER, geometry=self._geometry)

    def lookup(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids``, found through the id index."""
        found = sql.select(self._con, LAYER, ids, version=VERSION)
        return found.drop(columns=VERSION)

    def append_placed(
        self, ids: Sequence[str], place: Callable[[], pd.DataFrame], *, action: str = "import"
    ) -> None:
        """Insert the new incidents ``place()`` returns (``ids``, in order) as :meth:`append`."""
        self.append(placed(ids, place, status=self.status), action=action)

    def append(self, frame: pd.DataFrame, *, action: str = "import", audited: bool = True) -> None:
        """Insert new incidents, each with one line in the audit log.

        A ``version`` column in ``frame`` is kept (else 1), and so is a ``status`` column
        (else the writer's status).

        Raises
        ------
        StoreError
            If an incident's id is already in the store: the whole append is rolled back.
        """
        if not len(frame):
            return
        versions = frame[VERSION].astype("int64").tolist() if VERSION in frame else None
        statuses = statuses_of(frame, default=self.status).tolist()
        table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
        columns = record_columns(table, sqlite=True)
        ids = columns[0]

        def audit_appended(table: str, after_rowid: int) -> None:
            audit.record_from_table(
                self.con,
                table,
                by=self.by,
                action=action,
                columns=("incident_id", STATUS, VERSION),
                after_rowid=after_rowid,
            )

        try:
            copied = sql.insert(
                self._con,
                LAYER,
                columns,
                geometry=self._geometry,
                version=VERSION,
                versions=versions,
                extra={STATUS: statuses},
                appended=audit_appended if audited and action != "create" else None,
            )
        except sqlite3.IntegrityError as e:
            given = pd.Series(ids)
            clash = self.lookup(given.tolist())["incident_id"].tolist()
            clash += given[given.duplicated()].tolist()
            shown = ", ".join(map(str, list(dict.fromkeys(clash))[:5]))
            msg = (
                f"{self._store.name}: nothing added: incident_id already in the store: {shown}; "
                "give new incidents new ids"
            )
            raise StoreError(msg) from e
        if audited and action == "create":
            audit.record(
                self.con,
                import_entries(records(table), statuses, versions, by=self.by, action=action),
            )
        elif audited and not copied:
            audit.record_appends(self.con, ids, statuses, versions, by=self.by, action=action)
        lat, lon = list(COLUMNS).index("lat"), list(COLUMNS).index("lon")
        sql.widen_extent(self._con, LAYER, columns[lat], columns[lon])


def _arrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = [
    "COLUMNS",
    "LAYER",
    "GeoPackageStore",
    "append_incidents",
    "merge_incidents",
    "quarantine_path",
    "read_incidents",
    "read_or_empty",
    "remove_stale_temporaries",
    "replace_atomically",
    "store_lock",
    "to_geoframe",
    "with_status",
    "write_bytes_atomically",
    "write_incidents",
]
