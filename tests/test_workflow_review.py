"""The review workflow and the audit log, on both backends (a GeoPackage file, a real PostGIS)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from riskmap.errors import SettingsError, StoreError
from riskmap.ingest import form, import_file
from riskmap.release.cache import release_version
from riskmap.release.public import build_release
from riskmap.settings import Settings
from riskmap.store import StoreConflictError, open_store, write_incidents
from riskmap.store.audit import APPEND_ONLY_MESSAGE
from riskmap.workflow import review

ANA, BEN, CARA = "ana@example.org", "ben@example.org", "cara@example.org"
# k = 1: every published incident is in the release, so a test sees exactly which ones are.
SETTINGS = Settings(allowed_emails=frozenset({ANA, BEN, CARA}), pseudonym_key="test", min_cell=1)
KEY = b"test"


def _form(**over: object) -> dict[str, object]:
    values: dict[str, object] = {
        "date": dt.date(2019, 12, 3),
        "date_precision": "day",
        "incident_types": ["kidnapping", "extortion"],
        "perpetrator": "criminal_group",
        "victims": 3,
        "children": 1,
        "city": "Nuevo Laredo",
        "location_text": "afuera de la central camionera",
        "place_id": None,
        "source": "shelter intake",
        "notes": "told by a relative",
    }
    return values | over


def _record(location, places, *, by=ANA, submit=True, **over) -> str:
    prepared = form.prepare(_form(**over), places=places)
    assert prepared.ok, prepared.problems
    return review.record_incident(location, prepared.row, by=by, submit=submit).incident_id


def _status(location, incident_id: str) -> str:
    frame = open_store(location).read()
    return str(frame.set_index("incident_id").loc[incident_id, "status"])


def _released(location, places) -> int:
    """Return how many incidents the public release of the store holds."""
    release = build_release(open_store(location).read(), places=places, settings=SETTINGS, key=KEY)
    assert release.report["incidents"] == release.report["released"]  # k = 1: none suppressed
    return len(release.table)


def test_a_record_is_public_only_after_a_second_person_approves_it(store_location, places):
    iid = _record(store_location, places)
    assert _status(store_location, iid) == "in_review"
    assert review.queue(store_location)["incident_id"].tolist() == [iid]
    assert _released(store_location, places) == 0
    with pytest.raises(review.ReviewError, match="two-person rule"):
        review.approve(store_location, iid, by=ANA, settings=SETTINGS)
    assert _status(store_location, iid) == "in_review"
    done = review.approve(store_location, iid, by=BEN, settings=SETTINGS, expected_version=1)
    assert (done.status, done.version) == ("published", 2)
    assert _released(store_location, places) == 1
    assert review.queue(store_location).empty
    log = review.audit_log(store_location, iid)
    assert log["action"].tolist() == ["create", "approve"]
    assert log["changed_by"].tolist() == [ANA, BEN]
    assert log["status_after"].tolist() == ["in_review", "published"]
    assert log["version"].tolist() == [1, 2]
    assert '"location_text": "afuera de la central camionera"' in log["after"].iloc[0]


def test_the_form_places_the_description_and_refuses_bad_fields(places):
    prepared = form.prepare(_form(), places=places)
    assert prepared.ok
    row = prepared.row.iloc[0]
    assert row["place_id"] == "nld_bus_terminal"
    assert row["geo_precision"] == "site"
    bad = form.prepare(
        _form(incident_types=[], children=5, victims=2, date=dt.date(2999, 1, 1)), places=places
    )
    assert not bad.ok
    text = "; ".join(bad.problems)
    assert "incident_types" in text or "type" in text
    assert "date" in text


def test_a_point_clicked_on_the_map_places_the_record_at_neighbourhood_precision(places):
    prepared = form.prepare(_form(lat=27.49911, lon=-99.50731), places=places)
    assert prepared.ok, prepared.problems
    row = prepared.row.iloc[0]
    # The point wins over the geocoder's answer for the description, as staff saw it...
    assert (row["lat"], row["lon"]) == (27.49911, -99.50731)
    # ...but it is nobody's site: never shown at a point in public.
    assert row["geo_precision"] == "neighborhood"
    assert row["place_type"] == "neighborhood"
    assert pd.isna(row["place_id"])
    assert row["city"] == "Nuevo Laredo"
    # A place chosen among the suggestions wins over the point.
    chosen = form.prepare(
        _form(lat=27.49911, lon=-99.50731, place_id="nld_bus_terminal"), places=places
    )
    assert chosen.row.iloc[0]["place_id"] == "nld_bus_terminal"
    assert chosen.row.iloc[0]["geo_precision"] == "site"
    # A point outside the study area is refused as an imported one is; nothing is saved.
    far = form.prepare(_form(lat=40.0, lon=-99.5), places=places)
    assert not far.ok
    assert far.row is None
    assert "outside the study area" in "; ".join(far.problems)


def test_suggestions_offer_did_you_mean(places):
    found = form.suggest("centrl camionra", city="Nuevo Laredo", places=places)
    assert found
    assert found[0].place_id == "nld_bus_terminal"
    assert found[0].name == "Central Camionera de Nuevo Laredo"
    assert form.suggest("ab", places=places) == []


def test_a_rejected_record_never_reaches_the_release(store_location, places):
    iid = _record(store_location, places)
    review.reject(store_location, iid, by=BEN, comment="not in our area")
    assert _status(store_location, iid) == "rejected"
    with pytest.raises(review.ReviewError, match="is rejected"):
        review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    assert _released(store_location, places) == 0


def test_send_back_needs_a_comment_and_returns_a_draft(store_location, places):
    iid = _record(store_location, places)
    with pytest.raises(review.ReviewError, match="comment is required"):
        review.send_back(store_location, iid, by=BEN, comment=" ")
    review.send_back(store_location, iid, by=BEN, comment="which terminal?")
    assert _status(store_location, iid) == "draft"
    review.edit_incident(
        store_location, iid, {"notes": "the Central Camionera"}, by=ANA, expected_version=2
    )
    review.submit(store_location, iid, by=ANA)
    # Ben edited nothing: he may approve Ana's corrected record.
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    log = review.audit_log(store_location, iid)
    assert log["action"].tolist() == ["create", "send_back", "edit", "submit", "approve"]
    assert log.loc[1, "comment"] == "which terminal?"
    assert log.loc[2, "before"] == '{"notes": "told by a relative"}'
    assert log.loc[2, "after"] == '{"notes": "the Central Camionera"}'


def test_an_editor_of_a_record_may_not_approve_it(store_location, places):
    iid = _record(store_location, places)
    review.edit_incident(store_location, iid, {"victims": 4}, by=BEN, expected_version=1)
    with pytest.raises(review.ReviewError, match="two-person rule"):
        review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    review.approve(store_location, iid, by=CARA, settings=SETTINGS)
    assert _status(store_location, iid) == "published"


def test_the_two_person_rule_is_a_setting(store_location, places):
    iid = _record(store_location, places)
    alone = Settings(allowed_emails=frozenset({ANA}), two_person_rule=False)
    review.approve(store_location, iid, by=ANA, settings=alone)
    assert _status(store_location, iid) == "published"


def test_only_publishers_approve(store_location, places):
    iid = _record(store_location, places)
    only_cara = Settings(allowed_emails=frozenset({ANA, BEN, CARA}), publishers=frozenset({CARA}))
    with pytest.raises(review.ReviewError, match="may not publish"):
        review.approve(store_location, iid, by=BEN, settings=only_cara)
    review.approve(store_location, iid, by=CARA, settings=only_cara)


def test_an_edit_of_a_published_incident_waits_and_the_public_keeps_the_old(store_location, places):
    iid = _record(store_location, places)
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    before = open_store(store_location).read()
    public_before = build_release(before, places=places, settings=SETTINGS, key=KEY).table
    done = review.edit_incident(
        store_location, iid, {"perpetrator": "police"}, by=ANA, expected_version=2
    )
    assert done.action == "propose_edit"
    after = open_store(store_location).read()
    assert after.set_index("incident_id").loc[iid, "perpetrator"] == "criminal_group"
    public_after = build_release(after, places=places, settings=SETTINGS, key=KEY).table
    assert len(public_after) == 1
    pd.testing.assert_frame_equal(public_before, public_after)
    waiting = review.queue(store_location)
    assert waiting[["incident_id", "kind"]].values.tolist() == [[iid, "edit"]]
    assert waiting["changes"].iloc[0] == {"perpetrator": "police"}
    with pytest.raises(review.ReviewError, match="already waits"):
        review.edit_incident(store_location, iid, {"victims": 9}, by=CARA, expected_version=2)
    with pytest.raises(review.ReviewError, match="two-person rule"):
        review.approve(store_location, iid, by=ANA, settings=SETTINGS)
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    now = open_store(store_location).read(versions=True).set_index("incident_id").loc[iid]
    assert (now["perpetrator"], now["status"], now["version"]) == ("police", "published", 3)
    assert review.pending_edits(store_location).empty
    assert review.audit_log(store_location, iid)["action"].tolist() == [
        "create",
        "approve",
        "propose_edit",
        "approve_edit",
    ]


def test_a_returned_edit_leaves_the_published_version(store_location, places):
    iid = _record(store_location, places)
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    review.edit_incident(store_location, iid, {"victims": 7}, by=ANA, expected_version=2)
    review.send_back(store_location, iid, by=BEN, comment="source?")
    assert review.pending_edits(store_location).empty
    row = open_store(store_location).read().set_index("incident_id").loc[iid]
    assert (row["victims"], row["status"]) == (3, "published")


def test_retract_takes_a_published_incident_out(store_location, places):
    iid = _record(store_location, places)
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    with pytest.raises(review.ReviewError, match="reason is required"):
        review.retract(store_location, iid, by=BEN, settings=SETTINGS, comment="")
    assert _released(store_location, places) == 1
    review.retract(store_location, iid, by=BEN, settings=SETTINGS, comment="duplicate")
    assert _released(store_location, places) == 0


def test_a_stale_review_step_is_refused(store_location, places):
    iid = _record(store_location, places)
    review.edit_incident(store_location, iid, {"victims": 4}, by=ANA, expected_version=1)
    with pytest.raises(StoreConflictError, match="changed by someone else"):
        review.approve(store_location, iid, by=BEN, settings=SETTINGS, expected_version=1)
    assert _status(store_location, iid) == "in_review"


def test_possible_duplicates_same_day_place_and_type(store_location, places):
    first = _record(store_location, places)
    second = _record(store_location, places, by=BEN, incident_types=["kidnapping"])
    _record(store_location, places, by=BEN, date=dt.date(2019, 12, 4))
    _record(store_location, places, by=BEN, incident_types=["robbery"])
    waiting = review.queue(store_location).set_index("incident_id")
    assert waiting.loc[first, "duplicates"] == [second]
    assert waiting.loc[second, "duplicates"] == [first]


def test_import_lands_in_review_unless_published(store_location, tmp_path, places):
    source = tmp_path / "in.csv"
    source.write_text(
        "incident_id,date,incident_types,city,lat,lon\n"
        "N-1,2019-12-01,kidnapping,Matamoros,25.88,-97.5\n"
        "N-2,2019-12-02,extortion,Matamoros,25.89,-97.5\n",
        encoding="utf-8",
    )
    import_file(source, store=store_location, places=places, by=ANA)
    assert set(open_store(store_location).read()["status"]) == {"in_review"}
    assert review.queue(store_location)["incident_id"].tolist() == ["N-1", "N-2"]
    # The importer is an author: a second person approves.
    with pytest.raises(review.ReviewError, match="two-person rule"):
        review.approve(store_location, "N-1", by=ANA, settings=SETTINGS)
    other = tmp_path / "other.csv"
    other.write_text(
        "incident_id,date,incident_types,city\nP-1,2019-12-05,robbery,Reynosa\n", encoding="utf-8"
    )
    import_file(other, store=store_location, places=places, status="published", by=CARA)
    assert _status(store_location, "P-1") == "published"
    log = review.audit_log(store_location)
    assert log[["incident_id", "action", "changed_by", "status_after"]].values.tolist() == [
        ["N-1", "import", ANA, "in_review"],
        ["N-2", "import", ANA, "in_review"],
        ["P-1", "import", CARA, "published"],
    ]
    assert review.audit_csv(store_location).decode("utf-8-sig").startswith("audit_id,changed_at")


def test_the_audit_log_refuses_updates_and_deletes(store_location, places):
    _record(store_location, places)
    store = open_store(store_location)
    for statement in ("UPDATE audit_log SET changed_by = 'x'", "DELETE FROM audit_log"):
        # sqlite3's or psycopg's error: the database itself refuses.
        with pytest.raises(Exception, match="append-only"), store.writer() as writer:  # noqa: PT011
            writer.con.execute(statement)
    assert review.audit_log(store_location)["changed_by"].tolist() == [ANA]
    assert "append-only" in APPEND_ONLY_MESSAGE


def test_the_release_version_changes_with_a_status(store_location, places, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a PostGIS store keeps its release in data/
    iid = _record(store_location, places)
    first = release_version(store_location, places=places, settings=SETTINGS, key=KEY)
    review.approve(store_location, iid, by=BEN, settings=SETTINGS)
    second = release_version(store_location, places=places, settings=SETTINGS, key=KEY)
    assert first is not None
    assert second is not None
    assert first != second


def test_a_store_from_before_statuses_is_published(tmp_path, sample):
    path = write_incidents(sample, tmp_path / "old.gpkg")
    with sqlite3.connect(path) as con:
        con.execute('ALTER TABLE incidents DROP COLUMN "status"')
    assert set(open_store(path).read()["status"]) == {"published"}
    with sqlite3.connect(path) as con:
        names = {r[1] for r in con.execute('PRAGMA table_info("incidents")')}
    assert "status" in names  # upgraded on open


def test_unknown_incident_and_missing_author(store_location, places):
    _record(store_location, places)
    with pytest.raises(StoreError, match="no incident 'nope'"):
        review.submit(store_location, "nope", by=ANA)
    with pytest.raises(review.ReviewError, match="say who"):
        review.submit(store_location, "nope", by=" ")


def test_cli_import_publishes_only_for_a_publisher(tmp_path, monkeypatch, capsys):
    from riskmap.cli import main

    source = tmp_path / "in.csv"
    source.write_text(
        "incident_id,date,incident_types,city\nC-1,2019-12-01,kidnapping,Matamoros\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.gpkg"
    monkeypatch.setenv("RISKMAP_PUBLISHERS", CARA)
    assert main(["import", str(source), "--store", str(store), "--publish"]) == 2
    assert "--publish needs --as EMAIL" in capsys.readouterr().err
    assert main(["import", str(source), "--store", str(store), "--publish", "--as", BEN]) == 2
    assert f"{BEN} may not publish" in capsys.readouterr().err
    assert not store.exists()
    assert main(["import", str(source), "--store", str(store), "--publish", "--as", CARA]) == 0
    assert "(published)" in capsys.readouterr().out
    assert _status(store, "C-1") == "published"
    assert review.audit_log(store)["changed_by"].tolist() == [CARA]


def test_settings_take_a_postgresql_url_and_the_review_settings():
    url = "postgresql://user:secret@db.example.org:5432/riskmap"
    settings = Settings.from_env(
        {
            "RISKMAP_STORE": url,
            "RISKMAP_PUBLISHERS": "Ana@Example.org, ben@example.org",
            "RISKMAP_TWO_PERSON_RULE": "false",
        }
    )
    assert settings.store == url
    assert str(settings.local_store) == str(Path("data", "riskmap.postgis"))
    assert settings.publishers == frozenset({ANA, BEN})
    assert settings.two_person_rule is False
    assert Settings.from_env({}).two_person_rule is True
    with pytest.raises(SettingsError, match="RISKMAP_TWO_PERSON_RULE"):
        Settings.from_env({"RISKMAP_TWO_PERSON_RULE": "maybe"})
    assert review.may_publish(ANA, settings)
    assert not review.may_publish(CARA, settings)
    assert review.may_publish(CARA, SETTINGS)  # no publishers: every allowed e-mail
