"""The staff workspace through Streamlit's AppTest: record, approve, publish; the audit log.

Two staff members (Ana, Ben) sign in to the same store in turn: Ana records an incident, cannot
approve her own, Ben approves it and it appears in the public view and its CSV export; a
rejected one never appears; an edit of a published incident stays invisible until approved; the
audit log shows every step. The public count is read at k = 1 (``RISKMAP_MIN_CELL=1``), so the
one new incident is counted as soon as it is published.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from riskmap.store import open_store
from riskmap.views.i18n import t

ROOT = Path(__file__).resolve().parent.parent
ANA, BEN = "ana@example.org", "ben@example.org"


@pytest.fixture
def store(tmp_path, sample_store) -> Path:
    """A copy of the sample store (published: written before statuses existed)."""
    path = tmp_path / "incidents.gpkg"
    shutil.copyfile(sample_store, path)
    return path


@pytest.fixture
def downloads(monkeypatch):
    """Record what the app hands to Streamlit's download buttons, by file name."""
    captured: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes | str):
            data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
            captured[filename] = data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return captured


@pytest.fixture
def open_app(monkeypatch, store, auth_secrets):
    """Return ``open_app(email)``: the app signed in as ``email`` (or public for ``None``)."""
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    monkeypatch.setenv("RISKMAP_ALLOWED_EMAILS", f"{ANA},{BEN}")
    monkeypatch.setenv("RISKMAP_MIN_CELL", "1")

    def open_app(email: str | None, *, section: str = "record", tab: str = "map") -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"lang": "en", "tab": tab})
        if email is None:
            return at.run()
        at.secrets.update(auth_secrets)
        at.user = {
            "email": email,
            "is_logged_in": True,
            "email_verified": True,
            "iat": int(time.time()),
        }
        at.run()
        at.toggle(key="restricted").set_value(True).run()
        at.radio(key="ws_section__en").set_value(section).run()
        assert not at.exception
        return at

    return open_app


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _success(at: AppTest) -> str:
    assert not at.exception
    errors = [e.value for e in at.error if e.value != t("restricted_note", "en")]
    assert not errors, errors
    return " ".join(s.value for s in at.success)


def _audit_table(at: AppTest) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if "changed_by" in d.value.columns]
    assert len(tables) == 1
    return tables[0]


def _record(at: AppTest, *, types: list[str], perpetrator: str = "criminal_group") -> str:
    """Fill the record form and save it; return the new incident's id."""
    at.date_input(key="ws_date").set_value(dt.date(2019, 12, 3))
    at.multiselect(key="ws_types__en").set_value(types)
    at.selectbox(key="ws_perpetrator__en").set_value(perpetrator)
    at.number_input(key="ws_victims").set_value(2)
    at.selectbox(key="ws_city").set_value("Nuevo Laredo")
    at.text_input(key="ws_location").set_value("afuera de la centrl camionera").run()
    assert any("Did you mean Central Camionera de Nuevo Laredo?" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]
    at.button(key="ws_save").click().run()
    message = _success(at)
    assert "(in review)" in message
    return message.split("Saved ", 1)[1].split(" ", 1)[0]


def _public_rows(open_app, downloads) -> pd.DataFrame:
    """Open the public Data tab; return its CSV download."""
    downloads.clear()
    at = open_app(None, tab="data")
    assert not at.exception
    names = [n for n in downloads if n.endswith(".csv")]
    assert names, list(downloads)
    return pd.read_csv(io.BytesIO(downloads[names[-1]]), encoding="utf-8-sig")


def test_record_approve_publish_reject_and_edit(open_app, downloads, store):
    public = open_app(None)
    assert _metric(public, "Incidents") == "46"
    before = _public_rows(open_app, downloads)
    assert len(before) == 46

    # Ana records an incident: it waits for review and she cannot approve it.
    ana = open_app(ANA)
    iid = _record(ana, types=["kidnapping"])
    assert open_store(store).read().set_index("incident_id").loc[iid, "status"] == "in_review"
    ana.radio(key="ws_section__en").set_value("review").run()
    assert ana.button(key=f"ws_approve_new_{iid}").disabled
    assert any(t("ws_own", "en") in c.value for c in ana.caption)
    assert _metric(open_app(None), "Incidents") == "46"

    # Ben approves it: the public view and its export count it.
    ben = open_app(BEN, section="review")
    assert not ben.button(key=f"ws_approve_new_{iid}").disabled
    ben.button(key=f"ws_approve_new_{iid}").click().run()
    assert "approve done (published)" in _success(ben)
    assert _metric(open_app(None), "Incidents") == "47"
    after = _public_rows(open_app, downloads)
    assert len(after) == 47

    # A second record, rejected by Ben, never appears.
    ana = open_app(ANA)
    other = _record(ana, types=["robbery"])
    ben = open_app(BEN, section="review")
    ben.text_input(key=f"ws_comment_new_{other}").set_value("not in our area")
    ben.button(key=f"ws_reject_new_{other}").click().run()
    assert "reject done (rejected)" in _success(ben)
    assert _metric(open_app(None), "Incidents") == "47"

    # Ana edits the published one: the public keeps the published version until Ben approves.
    police_before = int((after["perpetrator"] == "police").sum())
    ana = open_app(ANA, section="edit")
    ana.selectbox(key="ws_edit_id").set_value(iid).run()
    assert any(t("ws_edit_held", "en") in i.value for i in ana.info)
    ana.selectbox(key=f"ws_edit_perpetrator_en_{iid}_2").set_value("police")
    ana.button(key="ws_edit_save").click().run()
    assert "propose_edit done (published)" in _success(ana)
    held = _public_rows(open_app, downloads)
    assert int((held["perpetrator"] == "police").sum()) == police_before
    ben = open_app(BEN, section="review")
    assert any('"perpetrator": "police"' in x.value for x in ben.text)
    ben.button(key=f"ws_approve_edit_{iid}").click().run()
    assert "approve_edit done (published)" in _success(ben)
    edited = _public_rows(open_app, downloads)
    assert len(edited) == 47
    assert int((edited["perpetrator"] == "police").sum()) == police_before + 1

    # The audit log shows every step, per incident, with who did it; it offers no edit.
    ana = open_app(ANA, section="audit")
    ana.selectbox(key="ws_audit_id").set_value(iid).run()
    log = _audit_table(ana)
    assert log["action"].tolist() == ["create", "approve", "propose_edit", "approve_edit"]
    assert log["changed_by"].tolist() == [ANA, BEN, ANA, BEN]
    assert not ana.get("data_editor")
    ana.selectbox(key="ws_audit_id").set_value(other).run()
    log = _audit_table(ana)
    assert log["action"].tolist() == ["create", "reject"]
    assert log["comment"].tolist()[-1] == "not in our area"


def test_a_form_with_problems_saves_nothing(open_app, store):
    ana = open_app(ANA)
    ana.multiselect(key="ws_types__en").set_value([])
    ana.number_input(key="ws_victims").set_value(1)
    ana.number_input(key="ws_children").set_value(3)
    ana.button(key="ws_save").click().run()
    assert not ana.exception
    errors = " ".join(e.value for e in ana.error)
    assert t("ws_not_saved", "en") in errors
    assert "date" in errors
    assert open_store(store).count() == 46


def test_the_workspace_is_bilingual_and_staff_only(open_app, monkeypatch):
    public = open_app(None)
    assert not any(h.value == t("ws_title", "en") for h in public.header)
    ana = open_app(ANA)
    assert any(h.value == t("ws_title", "en") for h in ana.header)
    ana.radio(key="lang").set_value("es").run()
    assert not ana.exception
    assert any(h.value == t("ws_title", "es") for h in ana.header)


def test_an_upload_lands_in_review_with_its_quarantine(open_app, store, downloads):
    ana = open_app(ANA, section="upload")
    data = (
        b"fecha,tipo,ciudad,lugar\n"
        b"2019-12-10,secuestro,Matamoros,puente nuevo\n"
        b"2019-13-45,secuestro,Matamoros,puente nuevo\n"
    )
    ana.get("file_uploader")[0].set_value(("matamoros dic.csv", data, "text/csv")).run()
    ana.button(key="ws_import").click().run()
    message = _success(ana)
    assert "read 2, imported 1 (waiting for review), quarantined 1" in message
    quarantine = [n for n in downloads if "quarantine" in n]
    assert quarantine, list(downloads)
    assert b"quarantine_reason" in downloads[quarantine[-1]]
    frame = open_store(store).read()
    assert (frame["status"] == "in_review").sum() == 1
    assert _metric(open_app(None), "Incidents") == "46"


def test_the_app_reads_and_reviews_a_postgis_store(
    monkeypatch, tmp_path, sample_store, postgis_url, auth_secrets
):
    from riskmap.store.migrate import migrate_store

    assert migrate_store(sample_store, postgis_url).ok
    monkeypatch.chdir(tmp_path)  # a PostGIS store keeps its release cache in data/
    monkeypatch.setenv("RISKMAP_STORE", postgis_url)
    monkeypatch.setenv("RISKMAP_ALLOWED_EMAILS", f"{ANA},{BEN}")
    monkeypatch.setenv("RISKMAP_MIN_CELL", "1")

    def open_app(email: str | None, section: str = "record") -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"lang": "en"})
        if email is None:
            return at.run()
        at.secrets.update(auth_secrets)
        at.user = {"email": email, "is_logged_in": True, "email_verified": True}
        at.user["iat"] = int(time.time())
        at.run()
        at.toggle(key="restricted").set_value(True).run()
        return at.radio(key="ws_section__en").set_value(section).run()

    public = open_app(None)
    assert not public.exception
    assert not public.error, [e.value for e in public.error]
    assert _metric(public, "Incidents") == "46"
    iid = _record(open_app(ANA), types=["extortion"])
    assert _metric(open_app(None), "Incidents") == "46"
    ben = open_app(BEN, "review")
    ben.button(key=f"ws_approve_new_{iid}").click().run()
    assert "approve done (published)" in _success(ben)
    assert _metric(open_app(None), "Incidents") == "47"
    assert (tmp_path / "data").is_dir()  # the release cache, beside no file
