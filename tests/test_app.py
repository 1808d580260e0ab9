"""The dashboard through Streamlit's AppTest: every control, the URL round-trip, the language,
and the downloads' rows (captured from Streamlit's real media storage)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


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
def app(monkeypatch, sample_store):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    return at


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def csv_rows(downloads: dict[str, bytes]) -> pd.DataFrame:
    names = [n for n in downloads if n.endswith(".csv")]
    assert names, list(downloads)
    data = downloads[names[-1]]
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", comment=None)


def test_app_runs_with_banner_map_and_counts(app, downloads):
    at = app.run()
    assert not at.exception
    assert any("SYNTHETIC DATA" in w.value for w in at.warning)
    assert metric(at, "Incidents") == "46"
    assert metric(at, "Kidnappings and attempts") == "32"
    assert metric(at, "Children") == "38"
    assert metric(at, "Express kidnappings by police") == "5"
    # The published figures sit beside the counts when the selection covers their period.
    assert any("Human Rights Watch" in c.value for c in at.caption)
    # The map is a custom component.
    assert at.get("component_instance") or at.get("iframe") or "st_folium" in str(at)
    assert len(csv_rows(downloads)) == 46


def test_type_filter_changes_counts_downloads_and_url(app, downloads):
    at = app.run()
    at.multiselect(key="types__en").set_value(["kidnapping"]).run()
    assert not at.exception
    n = int(metric(at, "Incidents"))
    assert 0 < n < 32
    rows = csv_rows(downloads)
    assert len(rows) == n
    assert rows["incident_types"].str.contains("kidnapping").all()
    assert at.query_params["type"] == ["kidnapping"] or at.query_params["type"] == "kidnapping"
    # Published figures are for all incidents: not shown beside a subset.
    assert not any("Human Rights Watch" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("key", "value", "column", "check"),
    [
        ("cities", ["Matamoros"], "city", lambda s: (s == "Matamoros").all()),
        ("perpetrators__en", ["police"], "perpetrator", lambda s: (s == "police").all()),
        ("place_types__en", ["bus_terminal"], "place_type", lambda s: (s == "bus_terminal").all()),
    ],
)
def test_each_multiselect_filters_the_download(app, downloads, key, value, column, check):
    at = app.run()
    at.multiselect(key=key).set_value(value).run()
    assert not at.exception
    rows = csv_rows(downloads)
    assert 0 < len(rows) < 46
    assert check(rows[column])
    assert int(metric(at, "Incidents")) == len(rows)


def test_children_checkbox(app, downloads):
    at = app.run()
    at.checkbox(key="children_only").check().run()
    assert not at.exception
    rows = csv_rows(downloads)
    assert (rows["children"] > 0).all()
    assert int(metric(at, "Incidents")) == len(rows)
    assert at.query_params["children"] in ("1", ["1"])


def test_date_presets_and_custom_range(app, downloads, sample):
    import datetime as dt

    at = app.run()
    at.selectbox(key="preset__en").set_value("last30").run()
    assert not at.exception
    last30 = csv_rows(downloads)
    assert 0 < len(last30) < 46
    first_day = sample["date"].max() - pd.Timedelta(days=29)
    assert pd.to_datetime(last30["date"]).min() >= first_day
    at.selectbox(key="preset__en").set_value("custom").run()
    at.date_input(key="dates").set_value((dt.date(2019, 12, 1), dt.date(2019, 12, 31))).run()
    assert not at.exception
    dec = csv_rows(downloads)
    assert pd.to_datetime(dec["date"]).dt.month.eq(12).all()
    assert at.query_params["from"] in ("2019-12-01", ["2019-12-01"])


def test_url_round_trip_restores_the_view(monkeypatch, sample_store, downloads):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(
        {
            "lang": "es",
            "type": ["kidnapping"],
            "city": "Nuevo Laredo",
            "from": "2019-12-01",
            "to": "2019-12-31",
        }
    )
    at.run()
    assert not at.exception
    assert at.multiselect(key="types__es").value == ["kidnapping"]
    assert at.multiselect(key="cities").value == ["Nuevo Laredo"]
    assert at.selectbox(key="preset__es").value == "custom"
    assert at.radio(key="lang").value == "es"
    rows = csv_rows(downloads)
    assert (rows["city"] == "Nuevo Laredo").all()
    assert pd.to_datetime(rows["date"]).dt.month.eq(12).all()
    assert metric(at, "Incidentes") == str(len(rows)) or metric(at, "Incidentes") == "<3"


def test_spanish_labels_appear(app):
    at = app.run()
    at.multiselect(key="types__en").set_value(["kidnapping"]).run()
    at.radio(key="lang").set_value("es").run()
    assert not at.exception
    assert any("DATOS SINTÉTICOS" in w.value for w in at.warning)
    labels = {m.label for m in at.metric}
    assert "Secuestros e intentos" in labels
    assert at.multiselect(key="types__es").label == "Tipos de incidente"
    # The selection survives the switch, shown with Spanish option labels.
    assert at.multiselect(key="types__es").value == ["kidnapping"]
    assert at.selectbox(key="preset__es").format_func("all") == "Todas las fechas"
    assert at.query_params["lang"] in ("es", ["es"])


def test_missing_store_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("RISKMAP_STORE", str(tmp_path / "nowhere.gpkg"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("nowhere.gpkg" in e.value for e in at.error)


def test_hotspot_panel_gives_the_cli_ranking(app, sample_store, capsys):
    import json

    from riskmap.cli import main

    at = app.run()
    assert not at.exception
    panel = next(d.value for d in at.dataframe if "Site" in d.value.columns)
    assert main(["hotspots", "--store", str(sample_store), "--format", "json", "--public"]) == 0
    cli = json.loads(capsys.readouterr().out)["sites"]
    active = [s for s in cli if s["incidents"] or s["previous_incidents"]]
    assert panel["Site"].tolist() == [s["name"] for s in active]
    assert panel["Rank"].tolist() == [s["rank"] for s in active]
    intervals = [f"{s['ci_low']:.1f}–{s['ci_high']:.1f}" for s in active if s["incidents"] >= 3]
    assert [i for i in panel["95% interval"] if i != "–"] == intervals


def test_gi_star_runs_only_on_request_and_says_why_not(app):
    at = app.run()
    assert not any("Not computed" in i.value for i in at.info)
    at.toggle(key="gi_run").set_value(True).run()
    assert not at.exception
    refusals = [i.value for i in at.info if i.value.startswith("Not computed")]
    assert refusals
    assert "cells" in refusals[0] or "incidents" in refusals[0]


def test_a_tiny_public_selection_shows_no_rows(app, downloads):
    at = app.run()
    at.multiselect(key="perpetrators__en").set_value(["immigration_agent"]).run()
    at.multiselect(key="cities").set_value(["Matamoros"]).run()
    assert not at.exception
    assert metric(at, "Incidents") == "<3"
    assert any("Fewer than 3 incidents match" in i.value for i in at.info)
    table = next(d.value for d in at.dataframe if "incident_id" in d.value.columns)
    assert table.empty
    assert at.download_button(key="download_csv").disabled


def test_published_figures_stay_beside_a_range_that_holds_all_the_data(app, sample):
    at = app.run()
    at.selectbox(key="preset__en").set_value("custom").run()
    first, last = sample["date"].min().date(), sample["date"].max().date()
    at.date_input(key="dates").set_value((first, last)).run()
    assert not at.exception
    assert any("Human Rights Watch" in c.value for c in at.caption)


@pytest.mark.parametrize("query", [{"from": "2030-01-01"}, {"to": "2001-01-01"}])
def test_a_link_with_dates_beyond_the_data_opens(app, query):
    app.query_params.update(query)
    at = app.run()
    assert not at.exception
    # The bounds are put in order; at most the data's first or last days remain.
    assert metric(at, "Incidents") in {"0", "<3"}


@pytest.mark.parametrize("kind", ["unresolved", "empty"])
def test_odd_stores_open(monkeypatch, tmp_path, sample, kind):
    from riskmap.store import write_incidents

    rows = sample.head(0) if kind == "empty" else sample.head(5)
    if kind == "unresolved":
        rows = rows.assign(lat=float("nan"), lon=float("nan"), geo_precision="unresolved")
    store = write_incidents(rows, tmp_path / f"{kind}.gpkg")
    monkeypatch.setenv("RISKMAP_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert metric(at, "Incidents") == ("0" if kind == "empty" else "5")
    # Twice: the second run goes through the (cached or refused) GeoParquet cache.
    at.run()
    assert not at.exception


def test_hotspots_warn_when_the_previous_period_is_not_covered(app):
    at = app.run()
    assert not at.exception
    # The sample starts on 2019-11-01; the 90 days before its last 90 are not covered.
    assert any("inside the previous period" in c.value for c in at.caption)
