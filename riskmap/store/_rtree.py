"""Rebuild a GeoPackage's SQLite R-tree in one pass: sort-tile-recursive packing.

SQLite's R-tree module adds one entry at a time: it chooses a leaf, rewrites it and adjusts
its parents, a dozen microseconds an entry. When an append brings about as many points as the
index holds, writing the whole tree again from sorted tiles (Leutenegger, Lopez & Edgington,
"STR: a simple and efficient algorithm for R-tree packing", ICDE 1997) costs a fraction of
that. The tree is written in the format of SQLite's ``rtree.c``, so SQLite (and GDAL through
it) reads, queries, extends and checks it (``rtreecheck``) as one it built itself:

- ``<name>_node(nodeno, data)``: node 1 is the root; a node is a 2-byte depth (the tree's
  height, in the root only), a 2-byte cell count, then cells of an 8-byte id (a row's id in a
  leaf, a child node's number above) and the box as four 4-byte floats (min x, max x, min y,
  max y), all big-endian, padded with zeros to the node size;
- ``<name>_rowid(rowid, nodeno)``: the leaf of each entry;
- ``<name>_parent(nodeno, parentnode)``: the parent of each node but the root.

A box is stored as 32-bit floats rounded outwards exactly as ``rtreeValueDown`` and
``rtreeValueUp`` round them, so each entry holds the values an ``INSERT`` would have stored.
"""

from __future__ import annotations

import math
import re
import sqlite3
import struct

import numpy as np

#: SQLite's most cells per node (``RTREE_MAXCELLS``).
MAX_CELLS = 51
_CELL = np.dtype([("id", ">i8"), ("x0", ">f4"), ("x1", ">f4"), ("y0", ">f4"), ("y1", ">f4")])
_SAVEPOINT = "riskmap_rtree"
_TOWARDS = 1.0 - 1.0 / 8388608.0  # rtree.c's RNDTOWARDS
_AWAY = 1.0 + 1.0 / 8388608.0  # rtree.c's RNDAWAY


def round_down(values: np.ndarray) -> np.ndarray:
    """Return the 32-bit floats SQLite's R-tree stores as the minimum of ``values``."""
    out = values.astype(np.float32)
    over = out.astype(np.float64) > values
    d = values[over]
    out[over] = (d * np.where(d < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return out


def round_up(values: np.ndarray) -> np.ndarray:
    """Return the 32-bit floats SQLite's R-tree stores as the maximum of ``values``."""
    out = values.astype(np.float32)
    under = out.astype(np.float64) < values
    d = values[under]
    out[under] = (d * np.where(d < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return out


def add_points(
    con: sqlite3.Connection, name: str, ids: np.ndarray, x: np.ndarray, y: np.ndarray
) -> bool:
    """Add points to the 2-D R-tree ``name`` by rebuilding it; return whether it was done.

    Nothing is written (``False``) unless rebuilding pays: the tree is 2-D, none of ``ids``
    is in it yet, and the points are at least half as many as the entries it holds (a
    rebuild handles every entry once; an insert costs several times that per entry); nor
    when the connection may not write the tree's tables.
    """
    (schema,) = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    root = con.execute(f'SELECT length(data) FROM "{name}_node" WHERE nodeno = 1').fetchone()
    columns = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
    # 32-bit float boxes in two dimensions, no auxiliary columns: the format written here.
    floats = re.search(r"\busing\s+rtree\s*\(", str(schema), re.IGNORECASE) is not None
    if not floats or root is None or len(columns) != 5 or not len(ids):
        return False
    size = int(root[0])
    (held,) = con.execute(f'SELECT count(*) FROM "{name}_rowid"').fetchone()
    if 2 * len(ids) < held:
        return False
    old = _entries(con, name)
    if len(old) != held or np.isin(ids, old["id"]).any():
        return False
    new = np.empty(len(ids), dtype=_CELL)
    new["id"] = ids
    # Stored entries are 32-bit floats already; new points are rounded outwards as SQLite does.
    new["x0"], new["x1"] = round_down(x), round_up(x)
    new["y0"], new["y1"] = round_down(y), round_up(y)
    cells = np.empty(held + len(ids), dtype=_CELL)
    cells[:held], cells[held:] = old, new
    # A connection that may not write the tree's tables (SQLite's defensive mode) inserts the
    # points one by one instead: nothing of the rebuild is kept.
    con.execute(f'SAVEPOINT "{_SAVEPOINT}"')
    try:
        _write(con, name, cells, size=size)
    except sqlite3.DatabaseError:
        con.execute(f'ROLLBACK TO "{_SAVEPOINT}"')
        con.execute(f'RELEASE "{_SAVEPOINT}"')
        return False
    con.execute(f'RELEASE "{_SAVEPOINT}"')
    return True


def _entries(con: sqlite3.Connection, name: str) -> np.ndarray:
    """Return the cells of the tree's leaves, read from its nodes (root first, level by level)."""
    blobs = dict(con.execute(f'SELECT nodeno, data FROM "{name}_node"'))
    depth = struct.unpack_from(">H", blobs[1])[0]
    level = [1]
    for _ in range(depth):
        level = [int(c) for n in level for c in _cells(blobs[n])["id"]]
    # The leaves' cells joined as bytes and read as one array (not an array per leaf).
    runs = b"".join(
        blobs[n][4 : 4 + struct.unpack_from(">H", blobs[n], 2)[0] * _CELL.itemsize] for n in level
    )
    return np.frombuffer(runs, dtype=_CELL).copy()


def _cells(blob: bytes) -> np.ndarray:
    count = struct.unpack_from(">H", blob, 2)[0]
    return np.frombuffer(blob, dtype=_CELL, count=count, offset=4)


def _write(con: sqlite3.Connection, name: str, cells: np.ndarray, *, size: int) -> None:
    """Write the packed tree of leaf ``cells`` over the tree ``name`` (nodes of ``size``)."""
    per = min(MAX_CELLS, (size - 4) // _CELL.itemsize)
    # Each level, leaves first, as its cells in node order and the number of cells of each node.
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    level = cells
    while True:
        packed, sizes = _tiles(level, per)
        levels.append((packed, sizes))
        if len(sizes) == 1:
            break
        # A node's box bounds its cells' boxes: one reduction per column over all the nodes.
        starts = _starts(sizes)
        level = np.empty(len(sizes), dtype=_CELL)
        level["id"] = np.arange(len(sizes))
        level["x0"] = np.minimum.reduceat(packed["x0"], starts)
        level["x1"] = np.maximum.reduceat(packed["x1"], starts)
        level["y0"] = np.minimum.reduceat(packed["y0"], starts)
        level["y1"] = np.maximum.reduceat(packed["y1"], starts)
    # Number the nodes from the root down (the root is node 1); a cell above the leaves holds
    # the position of its child in the level below until the numbers are known.
    numbers: list[np.ndarray] = []
    first = 1
    for _, sizes in reversed(levels):
        numbers.append(np.arange(first, first + len(sizes)))
        first += len(sizes)
    numbers.reverse()
    blobs: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    depth = len(levels) - 1
    for height, (packed, sizes) in enumerate(levels):
        if height:
            owner = np.repeat(np.arange(len(sizes)), sizes)
            children = numbers[height - 1][packed["id"]]
            parents += zip(children.tolist(), numbers[height][owner].tolist(), strict=True)
            packed["id"] = children
        # Each node as SQLite lays it out: depth (the root only) and cell count, the cells
        # (big-endian), zeros up to the node size; each node's cells copied as one run.
        head = np.zeros(len(sizes), dtype=[("depth", ">u2"), ("count", ">u2")])
        head["depth"][numbers[height] == 1] = depth
        head["count"] = sizes
        out = np.zeros((len(sizes), size), dtype=np.uint8)
        out[:, :4] = head.view(np.uint8).reshape(-1, 4)
        cell_bytes = np.ascontiguousarray(packed).view(np.uint8)
        width = _CELL.itemsize
        for k, (start, cells_in) in enumerate(
            zip(_starts(sizes).tolist(), sizes.tolist(), strict=True)
        ):
            out[k, 4 : 4 + cells_in * width] = cell_bytes[
                start * width : (start + cells_in) * width
            ]
        blobs += zip(numbers[height].tolist(), map(bytes, out), strict=True)
    leaves = np.repeat(numbers[0], levels[0][1])
    entries = levels[0][0]["id"].astype(np.int64)
    for table in ("node", "rowid", "parent"):
        con.execute(f'DELETE FROM "{name}_{table}"')
    con.executemany(f'INSERT INTO "{name}_node" (nodeno, data) VALUES (?, ?)', blobs)
    # Many entries per statement: one statement per entry would cost most of the rebuild;
    # in rowid order, each one extends the table's B-tree at its end.
    order = np.argsort(entries, kind="stable")
    pairs = np.column_stack([entries[order], leaves[order]]).astype(np.int64)
    per_insert = max(1, min(500, con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 2))

    def insert(k: int) -> str:
        return f'INSERT INTO "{name}_rowid" (rowid, nodeno) VALUES ' + ", ".join(["(?, ?)"] * k)

    full = insert(per_insert)
    for start in range(0, len(pairs), per_insert):
        part = pairs[start : start + per_insert]
        con.execute(full if len(part) == per_insert else insert(len(part)), part.ravel().tolist())
    con.executemany(f'INSERT INTO "{name}_parent" (nodeno, parentnode) VALUES (?, ?)', parents)


def _starts(sizes: np.ndarray) -> np.ndarray:
    """Return where each node's cells start among a level's cells."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _tiles(cells: np.ndarray, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``cells`` into nodes of at most ``per`` cells (sort-tile-recursive).

    The centres sorted by x make vertical slices; the cells sorted by slice, then by y, are
    cut into runs of nearly equal size. Return the cells in node order and each node's size.
    """
    n = len(cells)
    count = math.ceil(n / per)
    if count == 1:
        return cells.copy(), np.array([n], dtype=np.int64)
    slices = math.ceil(math.sqrt(count))
    cx = cells["x0"].astype(np.float64) + cells["x1"]
    cy = cells["y0"].astype(np.float64) + cells["y1"]
    by_x = np.argsort(cx, kind="stable")
    band = np.empty(n, dtype=np.int64)
    band[by_x] = np.arange(n) * slices // n
    order = np.lexsort((cy, band))
    # As numpy's array_split cuts: the first n % count runs one cell longer.
    sizes = np.full(count, n // count, dtype=np.int64)
    sizes[: n % count] += 1
    return cells[order], sizes
