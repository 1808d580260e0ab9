"""The store contract: the same tests on both backends (a GeoPackage file, a real PostGIS)."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmap.errors import SchemaError, StoreError
from riskmap.ingest import import_file
from riskmap.schema import conform
from riskmap.store import (
    StoreConflictError,
    content_hash,
    get_incident,
    open_store,
    update_incident,
)


def _rows(n: int, *, start: int = 0) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "incident_id": [f"K-{i}" for i in range(start, start + n)],
                "date": pd.date_range("2020-01-01", periods=n, freq="D"),
                "date_precision": "day",
                "incident_types": ["kidnapping|extortion", "robbery"] * (n // 2)
                + ["threat"] * (n % 2),
                "city": "Matamoros",
                "location_text": "puente internacional",
                "lat": [25.88 + i * 1e-4 if i % 3 else None for i in range(n)],
                "lon": [-97.5 if i % 3 else None for i in range(n)],
                "geo_precision": ["site" if i % 3 else "unresolved" for i in range(n)],
                "victims": [2 if i % 2 else None for i in range(n)],
                "children": [1 if i % 2 else None for i in range(n)],
                "notes": ["", "ñandú «quoted» | pipe"] * (n // 2) + [None] * (n % 2),
                "synthetic": [True, False] * (n // 2) + [None] * (n % 2),
            }
        )
    )


def _append(location, frame: pd.DataFrame) -> None:
    with open_store(location).writer() as writer:
        writer.append(frame)


def test_an_append_reads_back_exactly(store_location):
    rows = _rows(7)
    _append(store_location, rows)
    store = open_store(store_location)
    back = store.read()
    assert store.count() == 7
    pd.testing.assert_frame_equal(back.drop(columns=["geometry", "status"]), rows)
    # Appended incidents wait for review unless the writer or the rows say otherwise.
    assert set(back["status"]) == {"in_review"}
    assert content_hash(back) == content_hash(rows)
    located = rows["lat"].notna()
    assert back.geometry[located].x.tolist() == rows.loc[located, "lon"].tolist()
    assert back.geometry[~located].isna().all()
    assert back.crs == "EPSG:4326"


def test_appends_keep_the_order_of_arrival_and_start_at_version_1(store_location):
    _append(store_location, _rows(3))
    _append(store_location, _rows(2, start=10))
    back = open_store(store_location).read(versions=True)
    assert back["incident_id"].tolist() == ["K-0", "K-1", "K-2", "K-10", "K-11"]
    assert back["version"].tolist() == [1] * 5


def test_a_clashing_append_adds_nothing(store_location):
    _append(store_location, _rows(3))
    with pytest.raises(StoreError, match="K-2"):
        _append(store_location, _rows(3, start=2))  # K-2 clashes, K-3 and K-4 are new
    assert open_store(store_location).read()["incident_id"].tolist() == ["K-0", "K-1", "K-2"]


def test_an_error_inside_the_writer_rolls_the_append_back(store_location):
    _append(store_location, _rows(2))

    def fail():
        with open_store(store_location).writer() as writer:
            writer.append(_rows(2, start=5))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()
    assert open_store(store_location).count() == 2


def test_placed_rows_are_logged_in_order_like_appended_ones(store_location):
    from riskmap.store.audit import read_log

    _append(store_location, _rows(1, start=90))
    rows = _rows(3)
    with open_store(store_location).writer(by="ana@example.org", status="published") as writer:
        writer.append_placed(["K-0", "K-1", "K-2"], lambda: rows)
        writer.append_placed([], lambda: rows.head(0))
    store = open_store(store_location)
    back = store.read(versions=True)
    assert back["incident_id"].tolist() == ["K-90", "K-0", "K-1", "K-2"]
    assert back["status"].tolist() == ["in_review", "published", "published", "published"]
    assert back["version"].tolist() == [1] * 4
    with store.connection() as con:
        log = read_log(con)
    assert log["incident_id"].tolist() == ["K-90", "K-0", "K-1", "K-2"]
    assert log["action"].tolist() == ["import"] * 4
    assert log["changed_by"].tolist() == ["unknown"] + ["ana@example.org"] * 3
    assert log["status_before"].isna().all()
    assert log["status_after"].tolist() == ["in_review", "published", "published", "published"]
    assert log["version"].tolist() == [1] * 4
    assert log[["before", "after", "comment"]].isna().all().all()


@pytest.mark.parametrize(
    ("ids", "error", "message"),
    [
        (["K-0", "K-2", "K-1"], ValueError, "announced"),  # other order
        (["K-0", "K-1"], ValueError, "announced"),
        (["K-0", "K-1", "K-2"], RuntimeError, "geocoder down"),
        (["K-0", "K-1", "K-2"], ValueError, "status 'in_review' and version 1 only"),
    ],
)
def test_placed_rows_that_fail_add_nothing_not_even_log_lines(store_location, ids, error, message):
    from riskmap.store.audit import read_log

    _append(store_location, _rows(1, start=90))

    def place() -> pd.DataFrame:
        if error is RuntimeError:
            raise RuntimeError(message)
        rows = _rows(3)
        if "status" in message:
            rows["status"] = ["in_review", "draft", "in_review"]
        return rows

    with pytest.raises(error, match=message), open_store(store_location).writer() as writer:
        writer.append_placed(ids, place)
    store = open_store(store_location)
    assert store.read()["incident_id"].tolist() == ["K-90"]
    with store.connection() as con:
        assert read_log(con)["incident_id"].tolist() == ["K-90"]


def test_lookup_finds_only_the_asked_ids(store_location):
    _append(store_location, _rows(5))
    with open_store(store_location).writer() as writer:
        found = writer.lookup(["K-1", "K-4", "nope", "K-1"])
        assert sorted(found["incident_id"]) == ["K-1", "K-4"]
        assert list(found.columns) == list(conform(_rows(1)).columns)
        assert writer.lookup([]).empty


def test_update_bumps_the_version_and_keeps_other_columns(store_location):
    _append(store_location, _rows(3))
    values, version = get_incident(store_location, "K-1")
    assert version == 1
    new = update_incident(
        store_location,
        "K-1",
        {"perpetrator": "police", "lat": 25.9, "lon": -97.4},
        expected_version=1,
    )
    assert new == 2
    after, version = get_incident(store_location, "K-1")
    assert version == 2
    assert after["perpetrator"] == "police"
    assert after["incident_types"] == values["incident_types"]
    back = open_store(store_location).read()
    moved = back.set_index("incident_id").loc["K-1", "geometry"]
    assert (moved.x, moved.y) == (-97.4, 25.9)


def test_a_stale_edit_is_refused_and_changes_nothing(store_location):
    _append(store_location, _rows(2))
    update_incident(store_location, "K-0", {"perpetrator": "police"}, expected_version=1)
    before = content_hash(open_store(store_location).read())
    with pytest.raises(StoreConflictError, match=r"K-0 was changed by someone else.*version 2"):
        update_incident(store_location, "K-0", {"perpetrator": "military"}, expected_version=1)
    assert content_hash(open_store(store_location).read()) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"perpetrator": "aliens"}, "perpetrator"),
        ({"children": 5}, "more children than victims"),
        ({"incident_id": "X"}, "cannot edit"),
        ({"colour": "red"}, "cannot edit"),
    ],
)
def test_an_invalid_edit_is_refused_with_the_column(store_location, changes, message):
    _append(store_location, _rows(2))
    with pytest.raises(SchemaError, match=message):
        update_incident(store_location, "K-1", changes, expected_version=1)
    assert get_incident(store_location, "K-1")[1] == 1


def test_an_edit_of_a_missing_incident_names_it(store_location):
    _append(store_location, _rows(1))
    with pytest.raises(StoreError, match="no incident 'K-9'"):
        update_incident(store_location, "K-9", {"perpetrator": "police"}, expected_version=1)


def test_import_appends_new_rows_and_counts_duplicates(store_location, tmp_path, places):
    source = tmp_path / "in.csv"
    source.write_text(
        "incident_id,date,incident_types,city,lat,lon\n"
        "N-1,2019-12-01,kidnapping,Matamoros,25.88,-97.5\n"
        "N-2,2019-12-02,extortion,Matamoros,25.89,-97.5\n",
        encoding="utf-8",
    )
    first = import_file(source, store=store_location, places=places, today=None)
    assert (first.imported, first.duplicates) == (2, 0)
    source.write_text(
        source.read_text(encoding="utf-8")
        + "N-3,2019-12-03,robbery,Matamoros,25.87,-97.5\n"
        + "N-1,2019-12-01,threat,Matamoros,25.88,-97.5\n",
        encoding="utf-8",
    )
    second = import_file(source, store=store_location, places=places)
    assert (second.imported, second.duplicates, second.quarantined) == (1, 2, 1)
    assert "conflict: incident_id 'N-1'" in second.rejected[0][1]
    back = open_store(store_location).read()
    assert back["incident_id"].tolist() == ["N-1", "N-2", "N-3"]
    assert back.set_index("incident_id").loc["N-1", "incident_types"] == "kidnapping"


def test_an_empty_store_reads_as_an_empty_table(store_location):
    with open_store(store_location).writer():
        pass
    store = open_store(store_location)
    assert store.exists()
    assert store.count() == 0
    assert store.read().empty


def test_every_change_is_in_the_audit_log(store_location):
    from riskmap.store.audit import read_log

    with open_store(store_location).writer(by="ana@example.org") as writer:
        writer.append(_rows(2))
    update_incident(store_location, "K-1", {"perpetrator": "police"}, expected_version=1)
    store = open_store(store_location)
    with store.connection() as con:
        log = read_log(con)
    assert log["action"].tolist() == ["import", "import", "edit"]
    assert log["changed_by"].tolist() == ["ana@example.org", "ana@example.org", "unknown"]
    assert log["version"].tolist() == [1, 1, 2]
    assert log.loc[2, "before"] == '{"perpetrator": null}'
    assert log.loc[2, "after"] == '{"perpetrator": "police"}'
    assert log["audit_id"].is_monotonic_increasing
    assert store.store_version() is not None


def test_an_unknown_status_is_refused(store_location):
    rows = _rows(1)
    rows["status"] = "approved-ish"
    with pytest.raises(SchemaError, match="unknown status"):
        _append(store_location, rows)
