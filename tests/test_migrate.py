"""``riskmap store migrate``: a GeoPackage store moved to PostGIS (and back) loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from riskmap.cli import main
from riskmap.errors import StoreError
from riskmap.store import content_hash, open_store, read_incidents, update_incident, write_incidents
from riskmap.store.migrate import migrate_store

ROOT = Path(__file__).resolve().parent.parent


def test_migrate_moves_everything_with_versions(tmp_path, sample, postgis_url):
    path = write_incidents(sample, tmp_path / "incidents.gpkg")
    first = sample["incident_id"].iloc[0]
    update_incident(path, first, {"perpetrator": "police"}, expected_version=1)
    report = migrate_store(path, postgis_url)
    assert report.ok
    assert report.source_count == report.target_count == len(sample)
    assert report.target_hash == content_hash(read_incidents(path))
    moved = open_store(postgis_url).read(versions=True).set_index("incident_id")
    assert moved.loc[first, "version"] == 2
    assert moved.loc[first, "perpetrator"] == "police"
    # ... and back again, into a new GeoPackage.
    back = migrate_store(postgis_url, tmp_path / "again.gpkg")
    assert back.ok
    assert back.target_hash == report.source_hash


def test_cli_migrate_prints_counts_and_hashes(tmp_path, sample, postgis_url, capsys):
    path = write_incidents(sample.head(20), tmp_path / "incidents.gpkg")
    assert main(["store", "migrate", "--from", str(path), "--to", postgis_url, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True
    assert summary["source_count"] == summary["target_count"] == 20
    assert summary["source_hash"] == summary["target_hash"]
    # A second migration into the now full target is refused, saying why.
    assert main(["store", "migrate", "--from", str(path), "--to", postgis_url]) == 2
    err = capsys.readouterr().err
    assert "already holds 20 incident(s)" in err
    assert open_store(postgis_url).count() == 20


def test_a_rejected_row_fails_the_whole_migration(tmp_path, sample, postgis_url):
    bad = sample.head(5).copy()
    bad.loc[bad.index[2], "perpetrator"] = "aliens"  # the GeoPackage takes it, PostGIS does not
    path = write_incidents(bad, tmp_path / "incidents.gpkg")
    with pytest.raises(StoreError, match="perpetrator"):
        migrate_store(path, postgis_url)
    assert open_store(postgis_url).count() == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://nobody@/riskmap?host=/nonexistent-socket-dir", "cannot connect"),
        ("postgresql://u@localhost:notaport/db", "postgresql://u@localhost:notaport/db"),
    ],
)
def test_a_bad_url_or_an_unreachable_server_is_one_clear_line(tmp_path, sample, url, message):
    path = write_incidents(sample.head(3), tmp_path / "incidents.gpkg")
    result = subprocess.run(
        [sys.executable, "-m", "riskmap.cli", "store", "migrate", "--from", str(path), "--to", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("riskmap store: error: ")
    assert message in result.stderr


def test_the_password_never_shows_in_messages(tmp_path, sample):
    path = write_incidents(sample.head(3), tmp_path / "incidents.gpkg")
    url = "postgresql://staff:s3cret@/riskmap?host=/nonexistent-socket-dir"
    with pytest.raises(StoreError) as caught:
        migrate_store(path, url)
    assert "s3cret" not in str(caught.value)
    assert "staff:***@" in str(caught.value)


def test_migrate_keeps_statuses_the_audit_log_and_waiting_edits(tmp_path, places, postgis_url):
    import datetime as dt

    from riskmap.ingest import form
    from riskmap.settings import Settings
    from riskmap.store.audit import read_log
    from riskmap.workflow import review

    path = tmp_path / "incidents.gpkg"
    staff = Settings(allowed_emails=frozenset({"a@x.org", "b@x.org"}))
    ids = []
    for day in (3, 4):
        row = form.prepare(
            {"date": dt.date(2019, 12, day), "incident_types": ["kidnapping"], "city": "Reynosa"},
            places=places,
        ).row
        ids.append(review.record_incident(path, row, by="a@x.org").incident_id)
    review.approve(path, ids[0], by="b@x.org", settings=staff)
    review.edit_incident(path, ids[0], {"victims": 2}, by="a@x.org", expected_version=2)
    report = migrate_store(path, postgis_url)
    assert report.ok
    assert report.source_audit == report.target_audit == 4
    moved = open_store(postgis_url).read().set_index("incident_id")
    assert moved.loc[ids, "status"].tolist() == ["published", "in_review"]
    with open_store(postgis_url).connection() as con:
        log = read_log(con)
    with open_store(path).connection() as con:
        source = read_log(con)
    columns = ["changed_at", "changed_by", "incident_id", "action", "before", "after"]
    assert log[columns].equals(source[columns])
    assert review.pending_edits(postgis_url)["changes"].tolist() == [{"victims": 2}]
