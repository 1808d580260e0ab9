"""SQLite-level edits of a GeoPackage store: append and update in place, in one transaction.

GDAL writes the store; these helpers add rows to it and edit them without rewriting the file.
SQLite's rollback journal makes each transaction atomic and crash-safe: a writer killed
mid-transaction leaves a journal that the next connection rolls back. GeoPackage geometries are
a small header (``GP``, version, flags, SRS id) followed by WKB (GeoPackage 1.2, §2.1.3); the
spatial index triggers GDAL installs call ``ST_IsEmpty`` and ``ST_MinX``…, which plain SQLite
lacks, so they are registered here for points.

A large append (:data:`BULK_ROWS` rows or more) sets those per-row triggers aside: its rows go
in 100 to a statement, the spatial index is filled from them in one statement (or rebuilt
packed by :mod:`riskmap.store._rtree` when they are at least half as many points as it holds)
and the feature count is raised once; all of it under a savepoint, so a failed row undoes it.
Binding the values is most of what is left of its cost, so they are bound as what Python's
:mod:`sqlite3` binds fastest among the values SQLite stores alike: NaN for NULL, 0/1 for
booleans, ``bytearray`` for blobs (``None``, ``bool`` and ``bytes`` first go through its
adapter lookup). The journal and ``synchronous`` stay SQLite's defaults (a rollback journal,
``FULL``): a crash at any point leaves the old store or the new one.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from riskmap.schema import COLUMNS, conform
from riskmap.store import _rtree

#: Seconds a writer waits for another one's transaction before giving up.
BUSY_TIMEOUT_S = 60.0
#: Appends of at least this many rows fill the spatial index in bulk (see :func:`insert`).
BULK_ROWS = 1000
#: Page cache of a connection, in KiB: a large append touches the pages of the table, its two
#: indexes and the R-tree all over the file (SQLite's default of 2 MiB re-reads them).
CACHE_KIB = 64 * 1024
_SAVEPOINT = "riskmap_insert"
#: Rows in one ``INSERT`` statement of a large append (fewer if SQLite binds fewer values).
_ROWS_PER_INSERT = 100
#: Most ``?`` parameters in one SQLite statement that every SQLite build accepts.
_MAX_PARAMS = 900
_HEADER = struct.pack("<2sBBi", b"GP", 0, 0x01, 4326)  # little-endian, no envelope, EPSG:4326
_EMPTY_FLAG = 0x10
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_POINT_BLOB = np.dtype(
    [("header", "S8"), ("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")]
)


def connect(path: Path) -> sqlite3.Connection:
    """Open the store for a transaction the caller begins (``BEGIN IMMEDIATE``)."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    for name, fn in (
        ("ST_IsEmpty", _is_empty),
        ("ST_MinX", _x),
        ("ST_MaxX", _x),
        ("ST_MinY", _y),
        ("ST_MaxY", _y),
    ):
        con.create_function(name, 1, fn, deterministic=True)
    return con


def geometry_column(con: sqlite3.Connection, layer: str) -> str:
    """Return the name of ``layer``'s geometry column."""
    row = con.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
    ).fetchone()
    return str(row[0]) if row else "geom"


def ensure_version(con: sqlite3.Connection, layer: str, column: str) -> None:
    """Add the row-version column to a store written before versions existed."""
    names = {r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')}
    if column not in names:
        con.execute(f'ALTER TABLE "{layer}" ADD COLUMN "{column}" INTEGER NOT NULL DEFAULT 1')


def ensure_status(con: sqlite3.Connection, layer: str, column: str, *, legacy: str) -> None:
    """Add the review-status column to a store written before statuses existed.

    The incidents of such a store were all public, so they get ``legacy`` (``published``);
    the column has no default: every later insert names its status.
    """
    names = {r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')}
    if column not in names:
        con.execute(f'ALTER TABLE "{layer}" ADD COLUMN "{column}" TEXT')
        con.execute(f'UPDATE "{layer}" SET "{column}" = ?', (legacy,))


def encode_points(lat: Sequence[object], lon: Sequence[object]) -> list[bytes | None]:
    """Return GeoPackage point blobs for coordinates (``None`` where either is missing)."""
    blobs = _point_blobs(_floats(lon), _floats(lat))
    return [bytes(blob) if isinstance(blob, bytearray) else None for blob in blobs]


def _point_blobs(x: np.ndarray, y: np.ndarray, *, missing: object = None) -> list[object]:
    """Return the blobs of :func:`encode_points` as ``bytearray`` (``missing`` where none).

    Python's :mod:`sqlite3` binds a ``bytearray`` as the same BLOB as ``bytes``, in a
    quarter of the time (it offers ``bytes`` to its adapters first).
    """
    ok = ~(np.isnan(x) | np.isnan(y))
    # Header and little-endian 2D WKB point (the bytes shapely.to_wkb writes), built as one
    # array instead of one geometry object per row.
    packed = np.zeros(len(x), dtype=_POINT_BLOB)
    packed["header"], packed["order"], packed["kind"] = _HEADER, 1, 1
    packed["x"], packed["y"] = x, y
    data, size = bytearray(packed.tobytes()), _POINT_BLOB.itemsize
    return [data[i * size : (i + 1) * size] if good else missing for i, good in enumerate(ok)]


def _floats(values: Sequence[object]) -> np.ndarray:
    try:
        # Floats and None (what records() gives): None becomes NaN.
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
            dtype=float
        )


def select(
    con: sqlite3.Connection,
    layer: str,
    ids: Iterable[str],
    *,
    version: str,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Return the stored incidents among ``ids`` with their versions, by index lookups.

    ``extra`` names more columns to return as they are stored (the review status).
    """
    wanted = list(dict.fromkeys(str(i) for i in ids))
    cols = ", ".join(f'"{c}"' for c in (*COLUMNS, version, *extra))
    rows: list[tuple[object, ...]] = []
    for start in range(0, len(wanted), _MAX_PARAMS):
        chunk = wanted[start : start + _MAX_PARAMS]
        marks = ", ".join("?" * len(chunk))
        sql = f'SELECT {cols} FROM "{layer}" WHERE "incident_id" IN ({marks})'
        rows += con.execute(sql, chunk).fetchall()
    frame = pd.DataFrame(rows, columns=[*COLUMNS, version, *extra], dtype=object)
    out = conform(frame)
    out[version] = frame[version].astype("int64")
    for col in extra:
        out[col] = frame[col].astype("string")
    return out


def insert(
    con: sqlite3.Connection,
    layer: str,
    columns: Sequence[Sequence[object]],
    *,
    geometry: str,
    version: str,
    versions: Sequence[int] | None = None,
    extra: Mapping[str, Sequence[object]] | None = None,
    appended: Callable[[str, int], None] | None = None,
) -> bool:
    """Insert canonical rows given column by column (:func:`riskmap.store.base.record_columns`).

    A missing value may be ``None`` or NaN (both are stored as NULL). ``extra`` maps more
    columns (the review status) to one value per row. After a large append
    ``appended`` is called with the layer's quoted name and the largest rowid it had before:
    the new rows are those above it, in their order (to copy the audit lines from them in one
    statement). Return whether it was called.
    """
    cols = list(COLUMNS)
    count = len(columns[0]) if columns else 0
    lat, lon = columns[cols.index("lat")], columns[cols.index("lon")]
    more = dict(extra or {})
    names = ", ".join(f'"{c}"' for c in (geometry, *cols, version, *more))
    marks = ", ".join("?" * (len(cols) + 2 + len(more)))
    statement = f'INSERT INTO "{layer}" ({names}) VALUES ({marks})'
    # Missing values are bound as NaN, which SQLite stores as NULL, and which Python binds
    # faster than None (see record_columns).
    x, y = _floats(lon), _floats(lat)
    values = [
        _point_blobs(x, y, missing=math.nan),
        *columns,
        versions if versions is not None else [1] * count,
        *more.values(),
    ]
    for column in values:
        if len(column) != count:
            msg = f"{len(column)} values for {count} rows"
            raise ValueError(msg)
    if not nan_is_null(con):
        values = [_nulls(column) for column in values]
    # A savepoint makes the append all or nothing within the caller's transaction (a failed
    # row undoes the rows before it and the triggers set aside).
    con.execute(f'SAVEPOINT "{_SAVEPOINT}"')
    try:
        if count < BULK_ROWS or not has_rtree(con, layer, geometry=geometry):
            con.executemany(statement, zip(*values, strict=True))
            called = False
        else:
            _insert_bulk(con, layer, statement, values, count, geometry, appended, x=x, y=y)
            called = appended is not None
    except BaseException:
        con.execute(f'ROLLBACK TO "{_SAVEPOINT}"')
        con.execute(f'RELEASE "{_SAVEPOINT}"')
        raise
    con.execute(f'RELEASE "{_SAVEPOINT}"')
    return called


def _insert_bulk(
    con: sqlite3.Connection,
    layer: str,
    statement: str,
    values: list[Sequence[object]],
    count: int,
    geometry: str,
    appended: Callable[[str, int], None] | None,
    *,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    # GDAL's per-row triggers (spatial index, feature count) call back into Python for every
    # row: for a large append they are set aside, the index and the count are brought up to
    # date in one statement each, and the triggers are put back.
    triggers = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        "AND (name = ? OR name = ?)",
        (layer, f"rtree_{layer}_{geometry}_insert", f"trigger_insert_feature_count_{layer}"),
    ).fetchall()
    for name, _ in triggers:
        con.execute(f'DROP TRIGGER "{name}"')
    # AUTOINCREMENT numbers new rows above every rowid the table ever had: the appended rows
    # are exactly those above the largest rowid before the append, in their order.
    before = int(con.execute(f'SELECT coalesce(max(rowid), 0) FROM "{layer}"').fetchone()[0])
    _insert_many(con, statement, values)
    # A point's box is the point; a row without one has no geometry and no index entry.
    rtree = f"rtree_{layer}_{geometry}"
    new = f'FROM "{layer}" WHERE rowid > ? AND "{geometry}" IS NOT NULL ORDER BY rowid'
    first, last = con.execute(
        f'SELECT min(rowid), max(rowid) FROM "{layer}" WHERE rowid > ?', (before,)
    ).fetchone()
    if count and last - first + 1 == count:
        # The new rows are numbered one after the other: the points are the ones bound.
        ok = ~(np.isnan(x) | np.isnan(y))
        ids = np.arange(first, last + 1, dtype=np.int64)[ok]
        x, y = x[ok], y[ok]
    else:
        points = con.execute(f'SELECT rowid, "lon", "lat" {new}', (before,)).fetchall()
        ids = np.array([p[0] for p in points], dtype=np.int64)
        x, y = (np.array([p[k] for p in points], dtype=float) for k in (1, 2))
    if not _rtree.add_points(con, rtree, ids, x, y):
        con.execute(
            f'INSERT INTO "{rtree}" (id, minx, maxx, miny, maxy) '
            f'SELECT rowid, "lon", "lon", "lat", "lat" {new}',
            (before,),
        )
    if any(name.startswith("trigger_insert_feature_count_") for name, _ in triggers):
        con.execute(
            "UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
            "WHERE lower(table_name) = lower(?)",
            (count, layer),
        )
    for _, text in triggers:
        con.execute(text)
    if appended is not None:
        appended(f'"{layer}"', before)


def _insert_many(con: sqlite3.Connection, statement: str, values: list[Sequence[object]]) -> None:
    """Run ``INSERT … VALUES (?, …)`` for each row of ``values``, many rows to a statement.

    ``values`` holds one sequence per column. The rows go in in their order, with the values
    ``executemany`` binds: a statement per row costs about twice as much, most of it in
    running the statement once per row.
    """
    head, marks = statement.rsplit(" VALUES ", 1)
    width = marks.count("?")
    per = max(1, min(_ROWS_PER_INSERT, con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    full = f"{head} VALUES {', '.join([marks] * per)}"
    # The cells row after row in one list, each statement's a slice of it (no tuple per row).
    flat = list(itertools.chain.from_iterable(zip(*values, strict=True)))
    step = per * width
    for start in range(0, len(flat), step):
        chunk = flat[start : start + step]
        rows = len(chunk) // width
        sql = full if rows == per else f"{head} VALUES {', '.join([marks] * rows)}"
        con.execute(sql, chunk)


def _nulls(column: Sequence[object]) -> list[object]:
    """Return ``column`` with None for each missing value (NaN or None)."""
    missing = pd.isna(np.fromiter(column, dtype=object, count=len(column)))
    return [None if m else v for v, m in zip(column, missing.tolist(), strict=True)]


def nan_is_null(con: sqlite3.Connection) -> bool:
    """Tell whether SQLite stores a bound NaN as NULL (as every SQLite since 3.0 does)."""
    return bool(con.execute("SELECT ? IS NULL", (math.nan,)).fetchone()[0])


def update(
    con: sqlite3.Connection,
    layer: str,
    row: tuple[object, ...],
    *,
    geometry: str,
    version: str,
    new_version: int,
) -> None:
    """Overwrite one incident (matched by ``incident_id``) with ``row`` and its new version."""
    cols = list(COLUMNS)
    blob = encode_points([row[cols.index("lat")]], [row[cols.index("lon")]])[0]
    sets = ", ".join(f'"{c}" = ?' for c in (geometry, *cols[1:], version))
    con.execute(
        f'UPDATE "{layer}" SET {sets} WHERE "incident_id" = ?',
        (blob, *row[1:], new_version, row[0]),
    )


def widen_extent(
    con: sqlite3.Connection, layer: str, lat: Sequence[object], lon: Sequence[object]
) -> None:
    """Widen the extent in ``gpkg_contents`` to appended points and record the change time.

    An append only adds points (``lat`` and ``lon`` of each new row, ``None`` or NaN where
    missing), so the stored extent grows by their bounds: the cost follows the new rows, not
    the store (:func:`refresh_extent` scans the whole index).
    """
    x, y = _floats(lon), _floats(lat)
    ok = ~(np.isnan(x) | np.isnan(y))
    if not ok.any():
        con.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE table_name = ?",
            (layer,),
        )
        return
    xs, ys = x[ok], y[ok]
    con.execute(
        """UPDATE gpkg_contents SET
            min_x = min(coalesce(min_x, :x0), :x0), max_x = max(coalesce(max_x, :x1), :x1),
            min_y = min(coalesce(min_y, :y0), :y0), max_y = max(coalesce(max_y, :y1), :y1),
            last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE table_name = :layer""",
        {
            "x0": float(xs.min()),
            "x1": float(xs.max()),
            "y0": float(ys.min()),
            "y1": float(ys.max()),
            "layer": layer,
        },
    )


def refresh_extent(con: sqlite3.Connection, layer: str, *, geometry: str) -> None:
    """Record the new extent and change time in ``gpkg_contents`` (as GDAL does on close)."""
    con.execute(
        f"""UPDATE gpkg_contents SET
            min_x = (SELECT min(minx) FROM "rtree_{layer}_{geometry}"),
            max_x = (SELECT max(maxx) FROM "rtree_{layer}_{geometry}"),
            min_y = (SELECT min(miny) FROM "rtree_{layer}_{geometry}"),
            max_y = (SELECT max(maxy) FROM "rtree_{layer}_{geometry}"),
            last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE table_name = ?""",
        (layer,),
    )


def has_rtree(con: sqlite3.Connection, layer: str, *, geometry: str) -> bool:
    """Tell whether the layer has GDAL's spatial index table."""
    name = f"rtree_{layer}_{geometry}"
    found = con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return found is not None


def _point(blob: bytes | None) -> tuple[float, float] | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & _EMPTY_FLAG:
        return None
    start = 8 + _ENVELOPE_BYTES.get((blob[3] >> 1) & 0x07, 0)
    if (
        len(blob) == start + 21
        and blob[start] == 1
        and blob[start + 1 : start + 5] == b"\x01\0\0\0"
    ):
        x, y = struct.unpack_from("<dd", blob, start + 5)  # a little-endian 2D point
        return None if x != x or y != y else (x, y)
    geom = shapely.from_wkb(bytes(blob[start:]))
    if geom.is_empty:
        return None
    bounds = geom.bounds
    return float(bounds[0]), float(bounds[1])


def _is_empty(blob: bytes | None) -> int:
    return int(_point(blob) is None)


def _x(blob: bytes | None) -> float | None:
    p = _point(blob)
    return None if p is None else p[0]


def _y(blob: bytes | None) -> float | None:
    p = _point(blob)
    return None if p is None else p[1]
