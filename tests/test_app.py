"""The dashboard through Streamlit's AppTest: every control, the URL round-trip, the language,
and the downloads' rows (captured from Streamlit's real media storage)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from riskmap.analysis.metrics import headline_counts, load_published
from riskmap.filters import Filters
from riskmap.geo.gazetteer import load_places
from riskmap.release.audience import public_audience
from riskmap.release.public import PERPETRATOR_GROUPS, ROW_COLUMNS, TYPE_GROUPS
from riskmap.settings import Settings
from riskmap.store import read_incidents
from riskmap.views import dashboard
from riskmap.views.i18n import t

ROOT = Path(__file__).resolve().parent.parent
K = Settings().min_cell
DECEMBER = Filters(start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31))
POLICE = ["police", PERPETRATOR_GROUPS["police"]]


def store_audience(store):
    """The public audience the app builds for ``store`` (its release, with the store's key)."""
    return public_audience(
        read_incidents(store), places=load_places(), settings=Settings(), store=store
    )


@pytest.fixture(scope="module")
def public(sample_store):
    return store_audience(sample_store)


def overlaps(rows: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Whether each row's shown period overlaps ``[start, end]`` (how public dates select)."""
    first, last = pd.to_datetime(rows["date"]), pd.to_datetime(rows["date_end"])
    return (first <= pd.Timestamp(end)) & (last >= pd.Timestamp(start))


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


@pytest.fixture
def data_app(app):
    """The app opened on the Data tab (only the open tab computes its content)."""
    app.query_params["tab"] = "data"
    return app


@pytest.fixture
def hotspots_app(app):
    """The app opened on the Hotspots tab."""
    app.query_params["tab"] = "hotspots"
    return app


def open_tab(at: AppTest, tab: str, *, lang: str = "en") -> AppTest:
    """Switch to ``tab`` (an id of ``viewstate.TABS``) as a click would, and rerun."""
    at.session_state[f"tab__{lang}"] = t(f"tab_{tab}", lang)
    return at.run()


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


def test_app_runs_with_banner_map_and_counts(app, downloads, public):
    config.set_option("client.disableDataExport", False)
    try:
        at = app.run()
        assert not at.exception
        # Streamlit's own table download would bypass the formula guard and the manifest.
        assert config.get_option("client.disableDataExport") is True
    finally:
        config.set_option("client.disableDataExport", False)
    assert any("SYNTHETIC DATA" in w.value for w in at.warning)
    # The public counts are those of the release: k-anonymous, some detail generalised away.
    counts = headline_counts(public.table)
    assert metric(at, "Incidents") == str(public.report["released"]) == "46"
    assert metric(at, "Kidnappings and attempts") == str(counts["kidnapping_or_attempt"])
    # No number of people in public: incidents with children, not children.
    assert metric(at, "Incidents with children") == str(counts["incidents_with_children"])
    assert not {"Children", "People affected"} & {m.label for m in at.metric}
    assert metric(at, "Express kidnappings by police") == public.format_count(
        counts["express_by_police"]
    )
    # Never more than the published figures, which sit beside the counts (the staff's exact
    # counts equal them: tests/test_access.py).
    published = dashboard.select(public, Filters(), published=load_published()).published
    assert published["kidnapping_or_attempt"] == 32
    for key, value in published.items():
        if key in counts:  # the published numbers of people have no public counterpart
            assert counts[key] <= value, key
    assert counts["kidnapping_or_attempt"] < published["kidnapping_or_attempt"]
    assert any("Human Rights Watch" in c.value for c in at.caption)
    # The release guarantee is stated beside the page.
    assert any(f"is 0 or at least {K}" in c.value for c in at.caption)
    # The map is a custom component.
    assert at.get("component_instance") or at.get("iframe") or "st_folium" in str(at)
    # Only the open tab computes its content: no table and no download yet.
    assert not downloads
    assert not [d for d in at.dataframe if "incident_id" in d.value.columns]
    open_tab(at, "data")
    assert not at.exception
    rows = csv_rows(downloads)
    assert list(rows.columns) == list(ROW_COLUMNS)
    assert set(rows["incident_id"]) == set(public.table["incident_id"])
    table = next(d.value for d in at.dataframe if "incident_id" in d.value.columns)
    assert list(table.columns) == list(ROW_COLUMNS)
    assert list(table.index) == list(range(len(table)))  # no store row number
    # About tells what the release kept.
    open_tab(at, "about")
    about = "\n".join(m.value for m in at.markdown)
    assert f"Public release: k = {K}" in about
    assert f"All {public.report['incidents']} incidents are in the public release." in about


def test_type_filter_changes_counts_downloads_and_url(app, downloads, public):
    at = app.run()
    at.multiselect(key="types__en").set_value(["kidnapping"]).run()
    assert not at.exception
    n = int(metric(at, "Incidents"))
    assert n == len(public.select(Filters(types=("kidnapping",))))
    assert K <= n < 46
    # Published figures are for all incidents: not shown beside a subset.
    assert not any("Human Rights Watch" in c.value for c in at.caption)
    open_tab(at, "data")
    rows = csv_rows(downloads)
    assert len(rows) == n
    # The type itself, or its group where the release shows only the group.
    exact = rows["type_precision"] == "exact"
    types = rows["incident_types"].str.split("|")
    assert types[exact].map(lambda t: "kidnapping" in t).all()
    assert types[~exact].map(lambda t: TYPE_GROUPS["kidnapping"] in t).all()
    assert (rows["type_precision"] != "withheld").all()
    assert at.query_params["type"] == ["kidnapping"] or at.query_params["type"] == "kidnapping"


@pytest.mark.parametrize(
    ("key", "value", "column", "check"),
    [
        ("cities", ["Matamoros"], "city", lambda s: (s == "Matamoros").all()),
        # Public rows show the perpetrator or its group (police: a state agent).
        ("perpetrators__en", ["police"], "perpetrator", lambda s: s.isin(POLICE).all()),
        (
            "place_types__en",
            ["port_of_entry"],
            "place_type",
            lambda s: (s == "port_of_entry").all(),
        ),
    ],
)
def test_each_multiselect_filters_the_download(data_app, downloads, key, value, column, check):
    at = data_app.run()
    at.multiselect(key=key).set_value(value).run()
    assert not at.exception
    rows = csv_rows(downloads)
    assert K <= len(rows) < 46
    assert check(rows[column])
    assert int(metric(at, "Incidents")) == len(rows)


def test_children_checkbox(data_app, downloads, public):
    at = data_app.run()
    at.checkbox(key="children_only").check().run()
    assert not at.exception
    rows = csv_rows(downloads)
    assert len(rows) == len(public.select(Filters(children_only=True))) >= K
    assert rows["children_affected"].astype(bool).all()
    assert int(metric(at, "Incidents")) == len(rows)
    assert at.query_params["children"] in ("1", ["1"])


def test_date_presets_and_custom_range(data_app, downloads, public):
    at = data_app.run()
    at.segmented_control(key="span__en").set_value("last30").run()
    assert not at.exception
    last30 = csv_rows(downloads)
    assert K <= len(last30) < 46
    # The last 30 days up to the end of the latest shown period; a row is in when its shown
    # period overlaps them.
    start, end = dashboard.preset_range("last30", dashboard.date_bounds(public.table))
    assert end == public.table["date_end"].max().date()
    assert overlaps(last30, start, end).all()
    assert len(last30) == len(public.select(Filters(start=start, end=end)))
    at.segmented_control(key="span__en").set_value("custom").run()
    at.date_input(key="dates").set_value((DECEMBER.start, DECEMBER.end)).run()
    assert not at.exception
    dec = csv_rows(downloads)
    assert overlaps(dec, DECEMBER.start, DECEMBER.end).all()
    assert len(dec) == len(public.select(DECEMBER))
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
            "tab": "data",
        }
    )
    at.run()
    assert not at.exception
    assert at.multiselect(key="types__es").value == ["kidnapping"]
    assert at.multiselect(key="cities").value == ["Nuevo Laredo"]
    assert at.segmented_control(key="span__es").value == "custom"
    assert at.radio(key="lang").value == "es"
    rows = csv_rows(downloads)
    assert len(rows) >= K
    assert (rows["city"] == "Nuevo Laredo").all()
    assert overlaps(rows, DECEMBER.start, DECEMBER.end).all()
    assert metric(at, "Incidentes") == str(len(rows))


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
    assert at.segmented_control(key="span__es").format_func("all") == "Todo"
    assert at.query_params["lang"] in ("es", ["es"])


def test_missing_store_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("RISKMAP_STORE", str(tmp_path / "nowhere.gpkg"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("nowhere.gpkg" in e.value for e in at.error)


def test_hotspot_panel_gives_the_cli_ranking(hotspots_app, sample_store, capsys):
    import json

    from riskmap.cli import main

    at = hotspots_app.run()
    assert not at.exception
    # The panel is one card per site (readable on a phone), in the CLI's order.
    cards = [m.value for m in at.markdown if m.value.startswith("**") and "· " in m.value]
    assert main(["hotspots", "--store", str(sample_store), "--format", "json", "--public"]) == 0
    cli = json.loads(capsys.readouterr().out)["sites"]
    active = [s for s in cli if s["incidents"] or s["previous_incidents"]]
    assert len(cards) == len(active)
    for card, site in zip(cards, active, strict=True):
        assert card.startswith(f"**{site['rank']}. {site['name']}**")
        assert f"**{site['incidents']}** incidents" in card
        assert f"{site['ci_low']:.1f}–{site['ci_high']:.1f}" in card


def test_gi_star_runs_only_on_request_and_says_why_not(hotspots_app):
    at = hotspots_app.run()
    assert not any("Not computed" in i.value for i in at.info)
    at.toggle(key="gi_run").set_value(True).run()
    assert not at.exception
    refusals = [i.value for i in at.info if i.value.startswith("Not computed")]
    assert refusals
    assert "cells" in refusals[0] or "incidents" in refusals[0]


def test_a_public_selection_is_never_smaller_than_k(data_app, downloads, sample):
    # Staff would find one or two immigration agents' incidents in Matamoros; the public sees
    # whole classes of the release only: 0 or at least k, and never a "<k".
    staff = sample[(sample["perpetrator"] == "immigration_agent") & (sample["city"] == "Matamoros")]
    assert 0 < len(staff) < K
    at = data_app.run()
    at.multiselect(key="perpetrators__en").set_value(["immigration_agent"]).run()
    at.multiselect(key="cities").set_value(["Matamoros"]).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "incident_id" in d.value.columns)
    assert len(table) == 0 or len(table) >= K
    assert metric(at, "Incidents") == str(len(table))
    for m in at.metric:
        assert not m.value.startswith("<"), m.label
    assert len(csv_rows(downloads)) == len(table)


def test_published_figures_stay_beside_a_range_that_holds_all_the_data(app, public):
    at = app.run()
    at.segmented_control(key="span__en").set_value("custom").run()
    # The data's range as shown: the first shown period's start to the last one's end.
    first, last = dashboard.date_bounds(public.table)
    at.date_input(key="dates").set_value((first, last)).run()
    assert not at.exception
    assert any("Human Rights Watch" in c.value for c in at.caption)
    # One day less at the end and the figures go: the range no longer covers their period.
    at.date_input(key="dates").set_value((first, last - dt.timedelta(days=1))).run()
    assert not at.exception
    assert not any("Human Rights Watch" in c.value for c in at.caption)


@pytest.mark.parametrize("query", [{"from": "2030-01-01"}, {"to": "2001-01-01"}])
def test_a_link_with_dates_beyond_the_data_opens(app, query, public):
    app.query_params.update(query)
    at = app.run()
    assert not at.exception
    # The dates apply as given and the page says where the data lie: no stale numbers, and no
    # silent reinterpretation of the link.
    first, last = dashboard.date_bounds(public.table)
    assert metric(at, "Incidents") == "0"
    assert any(f"the data run from {first} to {last}" in i.value for i in at.info)
    assert at.segmented_control(key="span__en").value == "custom"


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
    release = store_audience(store).release
    assert metric(at, "Incidents") == str(release.report["released"])
    # Incidents the release leaves out are counted, not dropped silently.
    if release.suppressed:
        note = f"{release.suppressed} incidents are not in the public release."
        assert any(note in c.value for c in at.caption)
    if kind == "unresolved":
        assert 0 < release.suppressed < 5
    # Twice: the second run goes through the (cached or refused) GeoParquet cache.
    at.run()
    assert not at.exception


def test_hotspots_warn_when_the_previous_period_is_not_covered(hotspots_app):
    at = hotspots_app.run()
    assert not at.exception
    # The release starts on 2019-10-01 (a quarter); the 90 days before its last 90 are not
    # covered.
    assert any("inside the previous period" in c.value for c in at.caption)


def test_spanish_place_names_everywhere(app, downloads, places):
    app.query_params.update({"lang": "es", "tab": "hotspots"})
    at = app.run()
    assert not at.exception
    spanish = dict(zip(places["place_id"], places["name_es"], strict=True))
    english = dict(zip(places["place_id"], places["name"], strict=True))
    differ = {p for p in spanish if spanish[p] != english[p]}
    # The ranking cards name the sites in Spanish.
    cards = " ".join(m.value for m in at.markdown if m.value.startswith("**"))
    shown = [p for p in differ if spanish[p] in cards]
    assert shown
    assert not [p for p in differ if f"{english[p]}**" in cards]
    # So do the table and the downloads.
    open_tab(at, "data", lang="es")
    table = next(d.value for d in at.dataframe if "place_name" in d.value.columns)
    named = table.dropna(subset=["place_id"])
    assert len(named)
    assert (named["place_name"] == named["place_id"].map(spanish)).all()
    rows = csv_rows(downloads)
    named = rows.dropna(subset=["place_id"])
    assert (named["place_name"] == named["place_id"].map(spanish)).all()


def test_a_relative_period_tab_and_layers_come_back_from_a_link(app, public):
    app.query_params.update({"period": "last90", "tab": "hotspots", "hide": "heat"})
    at = app.run()
    assert not at.exception
    assert at.segmented_control(key="span__en").value == "last90"
    assert at.session_state["tab__en"] == "Hotspots"
    assert at.session_state["layers__en"] == ["incidents", "places"]
    # The link stays relative: no frozen dates are written back into it.
    assert at.query_params["period"] in ("last90", ["last90"])
    assert "from" not in at.query_params
    start, end = dashboard.preset_range("last90", dashboard.date_bounds(public.table))
    assert metric(at, "Incidents") == str(len(public.select(Filters(start=start, end=end))))
    assert any("Last 90 days of the data" in c.value for c in at.caption)


def test_a_month_preset_selects_its_month(data_app, downloads, public):
    at = data_app.run()
    # "Month" shows the latest month of the data, and a field to pick another.
    at.segmented_control(key="span__en").set_value("month").run()
    assert not at.exception
    latest = dashboard.date_bounds(public.table)[1]
    assert at.query_params["period"] in (f"{latest:%Y-%m}", [f"{latest:%Y-%m}"])
    at.selectbox(key="month__en").set_value("2019-12").run()
    assert not at.exception
    assert at.query_params["period"] in ("2019-12", ["2019-12"])
    assert at.selectbox(key="month__en").format_func("2019-12") == "December 2019"
    assert at.segmented_control(key="span__en").value == "month"
    assert len(csv_rows(downloads)) == len(public.select(DECEMBER))
    # Another span and back: the month picked is kept.
    at.segmented_control(key="span__en").set_value("all").run()
    assert "month__en" not in [box.key for box in at.selectbox]
    at.segmented_control(key="span__en").set_value("month").run()
    assert at.query_params["period"] in ("2019-12", ["2019-12"])
    # In Spanish the same month stays chosen, named in Spanish.
    at.radio(key="lang").set_value("es").run()
    assert not at.exception
    assert at.segmented_control(key="span__es").value == "month"
    assert at.selectbox(key="month__es").value == "2019-12"
    assert at.selectbox(key="month__es").format_func("2019-12") == "Diciembre 2019"
    assert at.query_params["period"] in ("2019-12", ["2019-12"])


def test_clicking_the_chosen_period_again_keeps_it(app):
    app.query_params["period"] = "last90"
    at = app.run()
    # A segmented control clears its value when its chosen segment is clicked again.
    at.segmented_control(key="span__en").set_value(None).run()
    assert not at.exception
    assert at.segmented_control(key="span__en").value == "last90"
    assert at.query_params["period"] in ("last90", ["last90"])


@pytest.mark.parametrize(
    ("period", "span", "month"), [("2019-12", "month", "2019-12"), ("1999-01", "all", None)]
)
def test_a_link_to_a_month_opens_on_it_and_one_outside_the_data_shows_all(app, period, span, month):
    app.query_params["period"] = period
    at = app.run()
    assert not at.exception
    assert at.segmented_control(key="span__en").value == span
    assert [box.value for box in at.selectbox if box.key == "month__en"] == (
        [month] if month else []
    )


def test_a_protected_kind_of_place_is_said_so(app):
    app.query_params["place"] = "shelter"
    at = app.run()
    assert not at.exception
    assert metric(at, "Incidents") == "0"
    assert any("Shelter are protected" in i.value for i in at.info)
    # The protection is said instead of "no incident matches".
    assert not any(i.value == "No incident matches these filters." for i in at.info)


def test_reset_clears_the_filters_and_keeps_the_tab(app):
    app.query_params.update({"type": "kidnapping", "period": "last30", "tab": "data"})
    at = app.run()
    at.button(key="reset").click().run()
    assert not at.exception
    assert at.multiselect(key="types__en").value == []
    assert at.segmented_control(key="span__en").value == "all"
    assert at.query_params["tab"] in ("data", ["data"])
    assert metric(at, "Incidents") == "46"


def test_downloads_with_spanish_headers_on_request(data_app, downloads):
    at = data_app.run()
    assert "ciudad" not in csv_rows(downloads).columns
    at.checkbox(key="headers_es").check().run()
    assert not at.exception
    rows = csv_rows(downloads)
    assert "ciudad" in rows.columns
    # Codes stay codes.
    assert set(rows["ciudad"].dropna()) <= {"Matamoros", "Nuevo Laredo"}
    assert any("Cite this:" in c.value for c in at.caption)


def test_table_dates_read_at_their_precision(data_app):
    at = data_app.run()
    table = next(d.value for d in at.dataframe if "incident_id" in d.value.columns)
    shown = set(table["date"].dropna())
    assert "2019-12" in shown  # a month, not its first day
    assert not any(str(v).endswith("-01") and len(str(v)) == 10 for v in shown)
