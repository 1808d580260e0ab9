import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from riskmap.errors import StoreError
from riskmap.schema import conform, empty_frame
from riskmap.store import (
    append_incidents,
    merge_incidents,
    quarantine_path,
    read_incidents,
    read_or_empty,
    remove_stale_temporaries,
    write_bytes_atomically,
    write_incidents,
)
from riskmap.store import geopackage as store

ROOT = Path(__file__).resolve().parent.parent


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(n: int, *, start: int = 0) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "incident_id": [f"T-{i}" for i in range(start, start + n)],
                "date": pd.date_range("2019-11-01", periods=n, freq="D"),
                "date_precision": "day",
                "incident_types": "kidnapping|extortion",
                "city": "Matamoros",
                "lat": [25.88 + i * 1e-3 for i in range(n)],
                "lon": -97.5,
                "geo_precision": "site",
                "victims": 2,
                "children": 1,
                "synthetic": True,
            }
        )
    )


def test_write_and_read_round_trip(tmp_path, sample):
    path = write_incidents(sample, tmp_path / "s.gpkg")
    back = read_incidents(path)
    assert len(back) == len(sample)
    pd.testing.assert_frame_equal(back.drop(columns=["geometry", "status"]), conform(sample))
    # A store written without statuses is a store from before them: all of it was public.
    assert set(back["status"]) == {"published"}
    unresolved = back["lat"].isna()
    assert back.geometry[unresolved].isna().all()
    assert not back.geometry[~unresolved].isna().any()


def test_empty_store_round_trips(tmp_path):
    path = write_incidents(empty_frame(), tmp_path / "e.gpkg")
    assert read_incidents(path).empty
    assert read_or_empty(tmp_path / "absent.gpkg").empty


def test_missing_or_foreign_store_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="riskmap import"):
        read_incidents(tmp_path / "nothing.gpkg")
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage", encoding="utf-8")
    with pytest.raises(StoreError, match="junk.gpkg"):
        read_incidents(junk)


def test_repeated_ids_are_refused(tmp_path):
    rows = pd.concat([_rows(2), _rows(1)], ignore_index=True)
    with pytest.raises(StoreError, match="T-0"):
        write_incidents(rows, tmp_path / "s.gpkg")
    assert not (tmp_path / "s.gpkg").exists()


def test_append_and_merge(tmp_path):
    path = tmp_path / "s.gpkg"
    assert append_incidents(_rows(3), path) == 3
    assert append_incidents(_rows(2, start=3), path) == 5
    assert list(read_incidents(path)["incident_id"]) == [f"T-{i}" for i in range(5)]
    with pytest.raises(StoreError, match="already in the store: T-1"):
        append_incidents(_rows(2, start=1), path)
    assert len(read_incidents(path)) == 5
    merged = merge_incidents(_rows(1), empty_frame())
    assert list(merged["incident_id"]) == ["T-0"]


def test_write_interrupted_by_an_exception_keeps_the_old_store(tmp_path, monkeypatch):
    path = write_incidents(_rows(3), tmp_path / "s.gpkg")
    before = _digest(path)

    def boom(tmp: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "_add_indexes", boom)
    with pytest.raises(StoreError, match="disk full"):
        write_incidents(_rows(5), path)
    assert _digest(path) == before
    assert len(read_incidents(path)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.gpkg"]


def test_a_bug_mid_write_also_leaves_no_partial_file(tmp_path, monkeypatch):
    path = write_incidents(_rows(3), tmp_path / "s.gpkg")
    before = _digest(path)
    monkeypatch.setattr(store, "_add_indexes", lambda tmp: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_incidents(_rows(5), path)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.gpkg"]


KILLED_WRITE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pandas as pd
    from riskmap.store import geopackage as store

    marker = Path(sys.argv[1])
    real = store._add_indexes

    def slow(tmp):
        real(tmp)  # the new store is complete in its temporary file ...
        marker.write_text(str(tmp))
        time.sleep(60)  # ... and the process is killed before it is moved into place

    store._add_indexes = slow
    rows = pd.DataFrame({"incident_id": ["N-1"], "date": ["2019-12-01"], "incident_types":
                         ["kidnapping"]})
    store.write_incidents(rows, sys.argv[2])
    """
)

KILLED_IMPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from riskmap.store import _gpkg_sql as sql
    from riskmap.cli import main

    marker = Path(sys.argv[1])
    real = sql.insert

    def slow(*args, **kwargs):
        real(*args, **kwargs)  # the new rows are in the open transaction ...
        marker.write_text("inserted")
        time.sleep(60)  # ... and the process is killed before it commits

    sql.insert = slow
    sys.exit(main(["import", sys.argv[2], "--store", sys.argv[3]]))
    """
)


def _kill_when_marked(proc: subprocess.Popen, marker: Path) -> None:
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline, "the writer never reached the write"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


def test_whole_store_write_killed_leaves_the_old_store_readable_and_unchanged(tmp_path):
    path = write_incidents(_rows(3), tmp_path / "s.gpkg")
    before = _digest(path)
    marker = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITE, str(marker), str(path)], cwd=ROOT)
    _kill_when_marked(proc, marker)
    assert _digest(path) == before
    assert list(read_incidents(path)["incident_id"]) == ["T-0", "T-1", "T-2"]
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".s.gpkg.")]
    assert leftovers, "the killed writer's temporary file should still be there"
    # The next writer clears what the killed one left, then the import goes through.
    assert remove_stale_temporaries(path) == leftovers
    assert append_incidents(_rows(1, start=10), path) == 4


def test_import_killed_mid_append_leaves_the_old_store_readable_and_unchanged(tmp_path):
    path = write_incidents(_rows(3), tmp_path / "s.gpkg")
    source = tmp_path / "new.csv"
    source.write_text(
        "incident_id,date,incident_types,city,lat,lon\n"
        "N-1,2019-12-01,kidnapping,Matamoros,25.88,-97.5\n"
        "N-2,2019-12-02,extortion,Matamoros,25.89,-97.5\n",
        encoding="utf-8",
    )
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, str(marker), str(source), str(path)], cwd=ROOT
    )
    _kill_when_marked(proc, marker)
    # The killed transaction is rolled back by the next reader: the old store, whole.
    assert list(read_incidents(path)["incident_id"]) == ["T-0", "T-1", "T-2"]
    # And the next import goes through (its connection rolls the hot journal back first).
    result = subprocess.run(
        [sys.executable, "-m", "riskmap.cli", "import", str(source), "--store", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(read_incidents(path)["incident_id"]) == ["T-0", "T-1", "T-2", "N-1", "N-2"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith("-journal")]


def test_concurrent_imports_lose_nothing(tmp_path):
    path = tmp_path / "s.gpkg"
    sources = []
    for k in range(3):
        src = tmp_path / f"in{k}.csv"
        lines = ["incident_id,date,incident_types,city,lat,lon"]
        lines += [f"C{k}-{i},2019-12-0{i + 1},kidnapping,Matamoros,25.88,-97.5" for i in range(5)]
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        sources.append(src)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "riskmap.cli", "import", str(src), "--store", str(path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for src in sources
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert len(read_incidents(path)) == 15


def test_quarantine_path_sits_beside_the_store(tmp_path):
    target = quarantine_path(tmp_path / "incidents.gpkg", Path("logs/Matamoros 2019 (v2).xlsx"))
    assert target == tmp_path / "incidents.matamoros-2019-v2.quarantine.csv"
    assert quarantine_path(tmp_path / "incidents.gpkg") == tmp_path / "incidents.quarantine.csv"


def test_unwritable_folder_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot write"):
        write_bytes_atomically(blocker / "out.csv", b"data")
    with pytest.raises(StoreError, match="cannot write"):
        write_incidents(_rows(1), blocker / "s.gpkg")


def _index_state(path: Path) -> tuple[list, list, list, list]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        rtree = con.execute("SELECT * FROM rtree_incidents_geom ORDER BY id").fetchall()
        count = con.execute("SELECT feature_count FROM gpkg_ogr_contents").fetchall()
        extent = con.execute("SELECT min_x, max_x, min_y, max_y FROM gpkg_contents").fetchall()
        triggers = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).fetchall()
    finally:
        con.close()
    return rtree, count, extent, triggers


def test_a_large_append_indexes_as_gdal_triggers_do(tmp_path, monkeypatch):
    from riskmap.store import _gpkg_sql

    rows = _rows(1500, start=10)
    rows.loc[rows.index[::7], ["lat", "lon"]] = None  # some incidents have no point
    bulk, single = tmp_path / "bulk.gpkg", tmp_path / "single.gpkg"
    for path in (bulk, single):
        write_incidents(_rows(10), path)
    assert append_incidents(rows, bulk) == 1510
    monkeypatch.setattr(_gpkg_sql, "BULK_ROWS", 10**9)  # GDAL's per-row triggers
    assert append_incidents(rows, single) == 1510
    assert _index_state(bulk) == _index_state(single)
    rtree, count, extent, triggers = _index_state(bulk)
    assert count == [(1510,)]
    assert len(rtree) == 1510 - len(rows.index[::7])
    assert any(name.endswith("_insert") for name, _ in triggers)
    # GDAL reads the store through its index the same way.
    import pyogrio

    box = (-97.6, 25.8, -97.4, 26.0)
    assert len(pyogrio.read_dataframe(bulk, bbox=box)) == len(
        pyogrio.read_dataframe(single, bbox=box)
    )


def test_a_large_append_that_fails_keeps_the_triggers(tmp_path):
    path = tmp_path / "s.gpkg"
    write_incidents(_rows(10), path)
    before = _index_state(path)
    with pytest.raises(StoreError, match="already in the store"):
        append_incidents(_rows(1500, start=5), path)
    assert _index_state(path) == before


def _whole_state(path: Path) -> dict[str, list]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return {
            "rows": con.execute("SELECT * FROM incidents ORDER BY fid").fetchall(),
            # 1 == 1.0 == True in Python: the storage classes tell the values apart.
            "types": con.execute(
                "SELECT "
                + ", ".join(f'typeof("{c}")' for c in _layer_columns(con))
                + " FROM incidents ORDER BY fid"
            ).fetchall(),
            "rtree": con.execute("SELECT * FROM rtree_incidents_geom ORDER BY id").fetchall(),
            "count": con.execute("SELECT feature_count FROM gpkg_ogr_contents").fetchall(),
            "extent": con.execute(
                "SELECT min_x, max_x, min_y, max_y FROM gpkg_contents"
            ).fetchall(),
            "triggers": con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
            ).fetchall(),
            "audit": con.execute(
                "SELECT audit_id, changed_by, incident_id, action, status_before, status_after, "
                "version, before, after FROM audit_log ORDER BY audit_id"
            ).fetchall(),
            "sequence": con.execute("SELECT * FROM sqlite_sequence ORDER BY name").fetchall(),
        }
    finally:
        con.close()


def _layer_columns(con) -> list[str]:
    return [r[1] for r in con.execute('PRAGMA table_info("incidents")')]


@pytest.mark.parametrize("n", [3, 1500])
def test_an_append_that_fails_inside_a_writer_that_goes_on_adds_nothing(tmp_path, n):
    # The rows go in one INSERT each: the clash of the last one undoes the ones before it and
    # puts back the triggers a large append sets aside, even if the writer then commits.
    from riskmap.store import open_store

    path = tmp_path / "s.gpkg"
    write_incidents(_rows(10), path)
    with open_store(path).writer():
        pass
    before = _whole_state(path)
    rows = pd.concat([_rows(n, start=100), _rows(1, start=5)], ignore_index=True)
    with (
        open_store(path).writer() as writer,
        pytest.raises(StoreError, match="already in the store: T-5"),
    ):
        writer.append(rows)
    assert _whole_state(path) == before
    with open_store(path).writer() as writer:
        writer.append(_rows(n, start=100))
    after = _whole_state(path)
    assert after["count"] == [(10 + n,)]
    assert len(after["rtree"]) == 10 + n
    assert len(after["audit"]) == n


def test_a_large_append_through_the_writer_stores_what_the_per_row_path_stores(
    tmp_path, monkeypatch
):
    # The bulk path (100 rows per INSERT, the spatial index rebuilt packed or filled in one
    # statement, the audit lines in one statement) against GDAL's per-row triggers and one
    # INSERT per row.
    from riskmap.store import _gpkg_sql, open_store

    rows = _rows(1500, start=10)
    rows.loc[rows.index[::7], ["lat", "lon"]] = None  # some incidents have no point
    rows.loc[rows.index[::5], "notes"] = "nota con acentos: Ñandú, ‘comillas’"
    rows["status"] = ["published" if i % 3 else "in_review" for i in range(len(rows))]
    bulk, single = tmp_path / "bulk.gpkg", tmp_path / "single.gpkg"
    for path in (bulk, single):
        write_incidents(_rows(10), path)
    for path in (bulk, single):
        if path == single:
            monkeypatch.setattr(_gpkg_sql, "BULK_ROWS", 10**9)
        with open_store(path).writer(by="ana@example.org") as writer:
            writer.append(rows)
    assert _whole_state(bulk) == _whole_state(single)
    state = _whole_state(bulk)
    assert state["count"] == [(1510,)]
    assert len(state["rtree"]) == 10 + 1500 - len(rows.index[::7])
    assert len(state["audit"]) == 1500
    assert {name for name, _ in state["triggers"]} >= {
        "rtree_incidents_geom_insert",
        "trigger_insert_feature_count_incidents",
    }
    with open_store(bulk).writer() as writer:  # the triggers work again afterwards
        writer.append(_rows(1, start=5000))
    assert _whole_state(bulk)["count"] == [(1511,)]
    assert not list(tmp_path.glob("*.tmp*"))


def test_a_large_append_through_the_writer_that_fails_adds_nothing(tmp_path):
    from riskmap.store import open_store

    path = tmp_path / "s.gpkg"
    write_incidents(_rows(10), path)
    with open_store(path).writer():
        pass  # the review tables and columns, as every writer makes them
    before = _whole_state(path)
    with (
        pytest.raises(StoreError, match="already in the store: T-5"),
        open_store(path).writer() as writer,
    ):
        writer.append(_rows(1500, start=5))
    assert _whole_state(path) == before


def _scalar(path: Path, sql: str) -> object:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _rtree_check(path: Path) -> object:
    return _scalar(path, "SELECT rtreecheck('rtree_incidents_geom')")


def _node_count(path: Path) -> object:
    return _scalar(path, "SELECT count(*) FROM rtree_incidents_geom_node")


def _spread_rows(n: int, *, start: int, seed: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = _rows(n, start=start)
    rows["lat"] = rng.uniform(22.1, 28.9, n)
    rows["lon"] = rng.uniform(-101.4, -96.6, n)
    rows.loc[rows.index[::9], ["lat", "lon"]] = None
    return rows


@pytest.mark.parametrize(("held", "added"), [(10, 1500), (3000, 1600), (3000, 1200)])
def test_a_large_append_indexes_what_sqlite_indexes_one_point_at_a_time(
    tmp_path, monkeypatch, held, added
):
    # Appends of at least half as many points as the index holds rebuild the R-tree packed
    # (sort-tile-recursive) in SQLite's own format; smaller ones insert into it. Either way the
    # index holds the entries (ids, boxes rounded as SQLite rounds them) that GDAL's per-row
    # triggers give, passes SQLite's own check, answers box queries alike, and takes edits,
    # deletions and more appends afterwards.
    import sqlite3

    import pyogrio

    from riskmap.store import _gpkg_sql, open_store

    rows = _spread_rows(added, start=held, seed=held + added)
    bulk, single = tmp_path / "bulk.gpkg", tmp_path / "single.gpkg"
    for path in (bulk, single):
        write_incidents(_spread_rows(held, start=0, seed=1), path)
    for path in (bulk, single):
        if path == single:
            monkeypatch.setattr(_gpkg_sql, "BULK_ROWS", 10**9)
        with open_store(path).writer(by="ana@example.org") as writer:
            writer.append(rows)
    monkeypatch.undo()
    assert _whole_state(bulk) == _whole_state(single)
    assert _rtree_check(bulk) == "ok"
    entries = len(_whole_state(bulk)["rtree"])
    packed, level = 0, entries
    while level > 1:  # nodes of a packed tree: 51 cells a node at every level
        level = -(-level // 51)
        packed += level
    before = held - len(range(0, held, 9))
    assert (_node_count(bulk) == max(packed, 1)) == (2 * (entries - before) >= before)
    for box in (
        (-97.6, 25.8, -97.4, 26.0),
        (-101.5, 22.0, -99.0, 25.0),
        (-98.0, 24.0, -97.0, 29.0),
    ):
        assert sorted(
            pyogrio.read_dataframe(bulk, layer="incidents", bbox=box)["incident_id"]
        ) == sorted(pyogrio.read_dataframe(single, layer="incidents", bbox=box)["incident_id"])
    for path in (bulk, single):
        store = open_store(path)
        store.update("T-3", {"lat": 26.5, "lon": -98.25}, expected_version=1)
        with store.writer() as writer:
            writer.append(_spread_rows(40, start=10**6, seed=3))
        con = sqlite3.connect(path)
        con.create_function("ST_IsEmpty", 1, lambda g: int(g is None))
        with con:
            con.execute("DELETE FROM incidents WHERE fid % 5 = 0")
        con.close()
    assert _index_state(bulk)[0] == _index_state(single)[0]
    assert _rtree_check(bulk) == "ok"


def test_points_are_rounded_outwards_as_sqlite_rounds_them():
    import sqlite3

    import numpy as np

    from riskmap.store import _rtree

    rng = np.random.default_rng(5)
    values = np.concatenate(
        [
            rng.uniform(-180, 180, 2000),
            np.round(rng.uniform(-101.5, -96.5, 2000), 5),
            np.round(rng.uniform(22, 29, 2000), 6),
            [0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 3.4e38, 25.0, -97.5],
        ]
    )
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING rtree(id, minx, maxx, miny, maxy)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, 0, 0)",
        ((i, float(v), float(v)) for i, v in enumerate(values)),
    )
    stored = np.array(con.execute("SELECT minx, maxx FROM t ORDER BY id").fetchall())
    con.close()
    assert stored[:, 0].tolist() == _rtree.round_down(values).astype(float).tolist()
    assert stored[:, 1].tolist() == _rtree.round_up(values).astype(float).tolist()


def test_only_a_float_rtree_of_two_dimensions_is_rebuilt():
    import sqlite3

    import numpy as np

    from riskmap.store import _rtree

    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE i USING rtree_i32(id, minx, maxx, miny, maxy)")
    con.execute("CREATE VIRTUAL TABLE c USING rtree(id, minx, maxx, miny, maxy, minz, maxz)")
    con.execute("CREATE VIRTUAL TABLE f USING rtree(id, minx, maxx, miny, maxy)")
    points = (np.arange(1, 101), np.linspace(-99, -98, 100), np.linspace(25, 26, 100))
    assert not _rtree.add_points(con, "i", *points)
    assert not _rtree.add_points(con, "c", *points)
    assert _rtree.add_points(con, "f", *points)
    assert con.execute("SELECT rtreecheck('f')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM f WHERE minx > -98.5").fetchone()[0] == 50
    con.close()


def test_a_tree_that_cannot_be_rewritten_is_filled_point_by_point(tmp_path, monkeypatch):
    # As under SQLite's defensive mode, where the R-tree's own tables refuse writes from SQL.
    import sqlite3

    from riskmap.store import _gpkg_sql, open_store

    rows = _spread_rows(1500, start=10, seed=4)
    bulk, single = tmp_path / "bulk.gpkg", tmp_path / "single.gpkg"
    for path in (bulk, single):
        write_incidents(_spread_rows(10, start=0, seed=1), path)
    con = sqlite3.connect(bulk)
    with con:
        con.execute(
            "CREATE TRIGGER no_rebuild BEFORE DELETE ON rtree_incidents_geom_rowid "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    con.close()
    for path in (bulk, single):
        if path == single:
            monkeypatch.setattr(_gpkg_sql, "BULK_ROWS", 10**9)
        with open_store(path).writer(by="ana@example.org") as writer:
            writer.append(rows)
    state, expected = _whole_state(bulk), _whole_state(single)
    assert state["rtree"] == expected["rtree"]
    assert state["rows"] == expected["rows"]
    assert _rtree_check(bulk) == "ok"
    # Grown by SQLite's inserts in the triggers' order (the same tree), not rewritten packed.
    assert _node_count(bulk) == _node_count(single) > 1


def _gappy_rows(n: int, *, start: int) -> pd.DataFrame:
    # A missing value in every kind of column (text, real, integer, boolean, the point) and
    # text beyond ASCII: what the writer binds for each must store what GDAL stores.
    rows = _rows(n, start=start)
    rows["victims"] = pd.array([None if i % 4 == 0 else i % 9 for i in range(n)], dtype="Int64")
    rows["synthetic"] = pd.array([None if i % 6 == 0 else i % 2 == 0 for i in range(n)], "boolean")
    rows["city"] = pd.array([None if i % 3 == 0 else "Reynosa" for i in range(n)], "string")
    rows["notes"] = pd.array([None if i % 2 else f"nota {i}: Ñandú" for i in range(n)], "string")
    rows.loc[rows.index[::7], ["lat", "lon"]] = None
    return conform(rows)


@pytest.mark.parametrize("nan_is_null", [True, False])
@pytest.mark.parametrize("n", [3, 1500])
def test_appended_values_are_stored_as_gdal_stores_them(tmp_path, monkeypatch, n, nan_is_null):
    # Missing values are bound as NaN, which SQLite stores as NULL; were a SQLite to store a
    # NaN, the writer would bind None instead (the same rows).
    import sqlite3

    from riskmap.schema import COLUMNS
    from riskmap.store import _gpkg_sql, open_store

    if not nan_is_null:
        monkeypatch.setattr(_gpkg_sql, "nan_is_null", lambda con: False)
    rows = _gappy_rows(n, start=10)
    appended, written = tmp_path / "appended.gpkg", tmp_path / "written.gpkg"
    write_incidents(_rows(10), appended)
    with open_store(appended).writer() as writer:
        writer.append(rows)
    write_incidents(pd.concat([_rows(10), rows], ignore_index=True), written)
    names = ["geom", *COLUMNS]
    select = (
        "SELECT "
        + ", ".join([*(f'"{c}"' for c in names), *(f'typeof("{c}")' for c in names)])
        + " FROM incidents ORDER BY fid"
    )
    stored = {}
    for path in (appended, written):
        con = sqlite3.connect(path)
        try:
            stored[path] = con.execute(select).fetchall()
        finally:
            con.close()
    assert stored[appended] == stored[written]
    assert {t for row in stored[appended] for t in row[len(names) :]} == {
        "blob",
        "text",
        "real",
        "integer",
        "null",
    }


def test_the_log_copied_from_a_table_keeps_its_status_check(tmp_path):
    # The lines of a large append go in with SQLite's CHECKs set aside, once the statuses
    # have passed the same check in one query: a status the log refuses is still refused,
    # and the checks apply again afterwards.
    import sqlite3

    from riskmap.store import audit

    con = sqlite3.connect(tmp_path / "log.db", isolation_level=None)
    for statement in audit.schema_sql("sqlite"):
        con.execute(statement)
    con.execute("CREATE TABLE t (incident_id TEXT, status TEXT, version INTEGER)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [("A-1", "in_review", 1), ("A-2", None, 2), ("A-3", "published", 1)],
    )
    log = audit.Connection(con, "sqlite")
    audit.record_from_table(log, "t", by="ana", after_rowid=1)
    assert con.execute(
        "SELECT incident_id, status_before, status_after, version FROM audit_log"
    ).fetchall() == [("A-2", None, None, 2), ("A-3", None, "published", 1)]
    assert con.execute("PRAGMA ignore_check_constraints").fetchone() == (0,)
    con.execute("INSERT INTO t VALUES ('A-4', 'lost', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        audit.record_from_table(log, "t", by="ana", after_rowid=3)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        audit.record(log, [audit.Entry("A-5", "edit", "ana", "lost", "published", 1)])
    assert con.execute("SELECT count(*) FROM audit_log").fetchone() == (2,)
    con.close()


def test_new_ids_are_logged_as_their_appends_are(tmp_path):
    # record_new is record_appends for incidents at one status and version 1.
    import datetime as dt
    import sqlite3

    from riskmap.store import audit

    con = sqlite3.connect(tmp_path / "log.db", isolation_level=None)
    for statement in audit.schema_sql("sqlite"):
        con.execute(statement)
    log = audit.Connection(con, "sqlite")
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    ids = ["B-2", "A-1", "ñ|x"]
    audit.record_appends(log, ids, ["draft"] * 3, [1, 1, 1], by="ana", now=now)
    audit.record_new(log, ids, status="draft", by="ana", now=now)
    lines = con.execute(f"SELECT {', '.join(audit.AUDIT_COLUMNS[1:])} FROM audit_log").fetchall()
    assert lines[3:] == lines[:3]
    assert [line[2] for line in lines[:3]] == ids
    con.close()


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
@pytest.mark.parametrize("sqlite", [False, True])
def test_record_columns_give_each_cell_as_a_plain_value(storage, sqlite):
    # Distinct values are converted once and taken by position: the cells must come out as
    # converting each one by itself gives them.
    import math

    from riskmap.schema import COLUMNS
    from riskmap.store.base import record_columns

    rows = _gappy_rows(40, start=0)
    rows.loc[rows.index[::5], "date"] = pd.NaT
    rows.loc[rows.index[1::3], "date"] = pd.Timestamp("2020-02-29")
    rows["perpetrator"] = None  # a column without any value
    text = [c for c, t in COLUMNS.items() if t == "string"]
    rows = rows.astype({c: f"string[{storage}]" for c in text})
    missing = math.nan if sqlite else None

    def plain(value, dtype):
        if pd.isna(value):
            return missing
        if dtype.startswith("datetime"):
            return value.strftime("%Y-%m-%d")
        if dtype == "boolean":
            return int(value) if sqlite else bool(value)
        return {"float64": float, "Int64": int}.get(dtype, str)(value)

    columns = record_columns(rows, sqlite=sqlite)
    for (col, dtype), values in zip(COLUMNS.items(), columns, strict=True):
        expected = [plain(v, dtype) for v in rows[col]]
        assert [type(v) for v in values] == [type(v) for v in expected], col
        assert [repr(v) for v in values] == [repr(v) for v in expected], col
