"""Every public output, attacked as an outsider would: property tests and the review's findings.

Random stores with a secret in every free-text field, and random *pairs* of public filter states,
go through the same functions the app and the CLI use. No public output (map HTML, CSV, GeoJSON,
tables, chart data, rankings, Gi* messages) may contain free text, a raw coordinate of an
incident that is not at a public site, or a raw id; every public count, and every difference
between two filter states, is 0 or at least k. Injection strings must stay inert. The tests
named ``test_finding_*`` are the eight findings of the hostile review, each of which failed on
the code before the public release.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycanon import anonymity
from streamlit.testing.v1 import AppTest

from riskmap.analysis.hotspots import gi_star, rank_selection
from riskmap.analysis.metrics import headline_counts
from riskmap.cli import main
from riskmap.filters import Filters
from riskmap.release.audience import public_audience
from riskmap.release.public import QI_COLUMNS
from riskmap.schema import INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES, PUBLIC_SITE_TYPES
from riskmap.settings import Settings
from riskmap.store import read_incidents, write_incidents
from riskmap.views import dashboard
from riskmap.views.brief import city_briefs, render_pdf
from riskmap.views.charts import trend_chart, trend_table
from riskmap.views.dashboard import ranking_table
from riskmap.views.export import export, export_view
from riskmap.views.feed import atom_feed
from riskmap.views.i18n import t
from riskmap.views.maps import build_map
from riskmap.views.site import site_files

ROOT = Path(__file__).resolve().parent.parent
K = 3
SECRET = "SECRET-7f3a"
CANARY = "CANARY-93c1"  # what tests/conftest.py's random stores hold in every free-text field
SETTINGS = Settings(min_cell=K, pseudonym_key="property-tests")
#: Headline keys that count incidents (the others sum people).
INCIDENT_COUNTS = ("incidents", "kidnapping_or_attempt", "sexual_assault", "express_by_police")
INJECTIONS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)

_site_ids = st.sampled_from(
    [
        "mat_gateway_bridge",
        "mat_bus_terminal",
        "mat_inm_office",
        "mat_camp",
        "nld_bridge_2",
        "nld_bus_terminal",
        "nld_casa_nazareth",
        "nld_plaza_hidalgo",
    ]
)
_incident = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["site", "neighborhood", "city", "unresolved"]),
        "site": _site_ids,
        "dlat": st.floats(min_value=-0.02, max_value=0.02, allow_nan=False),
        "dlon": st.floats(min_value=-0.02, max_value=0.02, allow_nan=False),
        "types": st.sets(st.sampled_from(INCIDENT_TYPES), min_size=1, max_size=3),
        "perp": st.sampled_from(PERPETRATORS),
        "day": st.integers(min_value=0, max_value=120),
        "victims": st.integers(min_value=1, max_value=6),
        "children": st.integers(min_value=0, max_value=3),
        "inject": st.sampled_from(INJECTIONS),
    }
)


def _frame(draws: list[dict], places: pd.DataFrame) -> pd.DataFrame:
    by_id = places.set_index("place_id")
    rows = []
    for i, d in enumerate(draws):
        site = by_id.loc[d["site"]]
        lat, lon = float(site["lat"]), float(site["lon"])
        if d["kind"] != "site":
            lat, lon = round(lat + d["dlat"], 6), round(lon + d["dlon"], 6)
        rows.append(
            {
                "incident_id": f"id-{i}-{d['inject']}",
                "date": dt.date(2019, 11, 1) + dt.timedelta(days=d["day"]),
                "incident_types": "|".join(sorted(d["types"])),
                "city": site["city"],
                "location_text": f"{SECRET} {d['inject']}",
                "lat": None if d["kind"] == "unresolved" else lat,
                "lon": None if d["kind"] == "unresolved" else lon,
                "geo_precision": d["kind"],
                "place_id": d["site"] if d["kind"] == "site" else None,
                "place_type": site["place_type"] if d["kind"] == "site" else "neighborhood",
                "perpetrator": d["perp"],
                "victims": d["victims"],
                "children": min(d["children"], d["victims"]),
                "source": f"{SECRET} source",
                "notes": f"{SECRET} note {d['inject']}",
                "synthetic": True,
            }
        )
    return pd.DataFrame(rows)


def _raw_points(frame: pd.DataFrame, places: pd.DataFrame) -> set[str]:
    """Raw coordinates the public must never see: every located incident not at a public site."""
    public_site = (frame["geo_precision"] == "site") & frame["place_type"].isin(PUBLIC_SITE_TYPES)
    located = frame["lat"].notna() & ~public_site
    # A coordinate equal to a gazetteer coordinate is public anyway (reference layers show it).
    public = {f"{v:.6f}".rstrip("0") for v in (*places["lat"], *places["lon"])}
    out = set()
    for lat, lon in zip(frame.loc[located, "lat"], frame.loc[located, "lon"], strict=True):
        out |= {f"{lat:.6f}".rstrip("0"), f"{lon:.6f}".rstrip("0")}
    return {p for p in out - public if len(p) > 8}  # enough digits to be a point, not a count


_days = st.one_of(st.none(), st.integers(min_value=0, max_value=130))


def _dates(a: int | None, b: int | None) -> dict[str, dt.date | None]:
    first = dt.date(2019, 11, 1)
    days = sorted(d for d in (a, b) if d is not None)
    if not days:
        return {"start": None, "end": None}
    return {"start": first + dt.timedelta(days=days[0]), "end": first + dt.timedelta(days=days[-1])}


_filters = st.builds(
    lambda a, b, **kw: Filters(**_dates(a, b), **kw),
    _days,
    _days,
    types=st.lists(st.sampled_from(INCIDENT_TYPES), max_size=2).map(tuple),
    cities=st.lists(st.sampled_from(["Matamoros", "Nuevo Laredo"]), max_size=1).map(tuple),
    perpetrators=st.lists(st.sampled_from(PERPETRATORS), max_size=2).map(tuple),
    place_types=st.lists(st.sampled_from(PLACE_TYPES), max_size=2).map(tuple),
    children_only=st.booleans(),
)


def _zero_or_k(value: int) -> bool:
    return value == 0 or value >= K


def _renderings(audience, selection) -> dict[str, str]:
    """Every public rendering of a selection, as text."""
    rows = audience.rows(selection)
    csv = export_view(rows, audience=audience, filters=Filters(), fmt="csv")
    geojson = export_view(rows, audience=audience, filters=Filters(), fmt="geojson")
    out = {
        "map": build_map(selection, places=audience.places, min_cell=audience.k)
        .get_root()
        .render(),
        "csv": csv.data.decode("utf-8-sig"),
        "geojson": geojson.data.decode("utf-8"),
        "table": rows.to_csv(index=False),
    }
    if not selection.empty:
        out["chart"] = json.dumps(trend_chart(selection, by="type", min_cell=K).to_dict())
    out["brief"] = "\n".join(_brief_text(b) for b in city_briefs(audience, period="all"))
    out["feed"] = atom_feed(audience, limit=10_000, lang="en").decode("utf-8")
    return out


def _brief_text(one) -> str:
    """Everything a city brief prints (its counts as text), without rendering the PDF."""
    parts = [one.headline, one.period, one.sources, one.url, one.unplaced]
    parts += [f"{s.name} {s.count} incident {s.uncertainty}" for s in one.sites]
    parts += [f"{c} incident" for c in one.points["count"]]
    parts += list(one.places["name"])
    return "\n".join(parts)


def _small_counts_in(text: str) -> list[int]:
    found = re.findall(r"(\d+) (?:incident|city-level|unresolved)", text)
    return [int(n) for n in found if not _zero_or_k(int(n))]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draws=st.lists(_incident, min_size=1, max_size=40), first=_filters, second=_filters)
def test_no_output_leaks_and_no_two_states_tell_fewer_than_k(places, draws, first, second):
    frame = _frame(draws, places)
    audience = public_audience(frame, places=places, settings=SETTINGS)
    rows = audience.release.rows()
    if len(rows):
        shown = rows[list(QI_COLUMNS)].astype(object).where(rows[list(QI_COLUMNS)].notna(), "-")
        assert anonymity.k_anonymity(shown.astype(str), list(QI_COLUMNS)) >= K
    a, b = audience.select(first), audience.select(second)
    ids_a, ids_b = set(a["incident_id"]), set(b["incident_id"])
    # Differencing two filter states: what one selects and the other does not is 0 or >= k.
    assert _zero_or_k(len(ids_a - ids_b))
    assert _zero_or_k(len(ids_b - ids_a))
    both = a[a["incident_id"].isin(ids_b)]
    for key in INCIDENT_COUNTS:
        count_a, count_b, shared = (headline_counts(x)[key] for x in (a, b, both))
        for count in (count_a, count_b, count_a - shared, count_b - shared):
            assert _zero_or_k(count), key
    # Chart bars, the ranking and the Gi* messages count the same rows: 0 or >= k too.
    for by in ("type", "place", "perpetrator"):
        assert trend_table(a, by=by, min_cell=K)["incidents"].map(_zero_or_k).all()
    ranking = rank_selection(audience, first, radius_m=500.0)
    assert ranking["incidents"].map(_zero_or_k).all()
    assert ranking["previous_incidents"].map(_zero_or_k).all()
    gi = gi_star(a, resolution=8)
    assert all(_zero_or_k(v) for v in gi.excluded.values())
    assert not _small_counts_in(" ".join([str(gi.reason or ""), *gi.notes]))

    raw_points = _raw_points(frame, places)
    for name, text in _renderings(audience, a).items():
        assert SECRET not in text, name
        assert "id-0-" not in text, name  # raw ids never appear, only pseudonyms
        for point in raw_points:
            assert point not in text, (name, point)
        if name == "map":
            assert "<script>alert" not in text
            for count in re.findall(r'rm-count\\"\\u003e(.*?)\\u003c/div', text):
                assert int(count) >= K, count
        if name == "csv":
            for cell in pd.read_csv(io.StringIO(text), dtype=str).fillna("").to_numpy().ravel():
                assert not re.match(r"^[=+\-@\t\r]", cell) or re.match(r"^-?\d", cell), cell


@pytest.fixture(scope="module")
def canary_store(tmp_path_factory, places, random_store):
    """About 200 incidents with a canary in every free-text field, in a real GeoPackage."""
    frame = random_store(places, n=200, seed=2024)
    # One incident of a kind nobody else has, at a public site on its own day.
    bridge = places.set_index("place_id").loc["mat_gateway_bridge"]
    lone = frame.iloc[[0]].assign(
        incident_id="LONE-1",
        date=pd.Timestamp("2020-03-03"),
        date_precision="day",
        incident_types="robbery|threat",
        perpetrator="military",
        geo_precision="site",
        place_id="mat_gateway_bridge",
        place_type="port_of_entry",
        lat=bridge["lat"],
        lon=bridge["lon"],
    )
    folder = tmp_path_factory.mktemp("canary")
    return write_incidents(pd.concat([frame, lone], ignore_index=True), folder / "incidents.gpkg")


@pytest.fixture(scope="module")
def canary_audience(canary_store, places):
    return public_audience(
        read_incidents(canary_store), places=places, settings=Settings(), store=canary_store
    )


def _cli_rows(store: Path, out: Path, *args: str) -> pd.DataFrame:
    assert main(["export", "--store", str(store), "-o", str(out), *args]) == 0
    return pd.read_csv(out, encoding="utf-8-sig", dtype=str)


def _cli_args(f: Filters) -> list[str]:
    out: list[str] = []
    for flag, values in (
        ("--type", f.types),
        ("--city", f.cities),
        ("--perpetrator", f.perpetrators),
    ):
        if values:
            out += [flag, *values]
    if f.start:
        out += ["--from", f.start.isoformat(), "--to", (f.end or f.start).isoformat()]
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=_filters, second=_filters)
def test_cli_exports_of_two_states_differ_by_0_or_k(canary_store, tmp_path, first, second):
    a = _cli_rows(canary_store, tmp_path / "a.csv", *_cli_args(first))
    b = _cli_rows(canary_store, tmp_path / "b.csv", *_cli_args(second))
    ids_a, ids_b = set(a["incident_id"]), set(b["incident_id"])
    assert _zero_or_k(len(ids_a))
    assert _zero_or_k(len(ids_b))
    assert _zero_or_k(len(ids_a - ids_b))
    assert _zero_or_k(len(ids_b - ids_a))
    assert CANARY not in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")


def test_the_printed_brief_holds_release_counts_only(canary_audience, tmp_path):
    import subprocess

    briefs = city_briefs(canary_audience, period="all", lang="en", page_url="https://x.example/")
    for one in briefs:
        counts = [s.count for s in one.sites] + list(one.points["count"])
        assert all(c.startswith("<") or _zero_or_k(int(c)) for c in counts), counts
        n = int(re.match(r"(\d+)", one.headline).group(1))
        assert _zero_or_k(n)
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(render_pdf(briefs))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    assert CANARY.encode() not in text
    assert b"LONE-1" not in text
    assert b"R-2024-" not in text  # no raw id of the canary store
    for number in re.findall(rb"(\d+) incidents", text):
        assert _zero_or_k(int(number)), number


def test_finding_1_no_index_and_no_sexual_assault_day(canary_store, canary_audience, monkeypatch):
    monkeypatch.setenv("RISKMAP_STORE", str(canary_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["tab"] = "data"  # the table's tab (only the open tab is computed)
    at.run()
    assert not at.exception
    table = at.dataframe[-1].value
    # The table's index is a plain 0..n-1: no store row number reaches the browser.
    assert list(table.index) == list(range(len(table)))
    # A sexual assault is in every one-day range of its shown period: no day can be pinned.
    rows = canary_audience.table
    sa = rows[rows["incident_types"].fillna("").str.contains("sexual_assault")]
    assert len(sa)
    for row in sa.itertuples():
        assert row.date_precision not in {"day", "week"}
        if pd.isna(row.date):
            continue
        for day in (row.date, row.date + (row.date_end - row.date) / 2, row.date_end):
            chosen = canary_audience.select(Filters(start=day.date(), end=day.date()))
            assert row.incident_id in set(chosen["incident_id"])


def test_finding_2_no_count_below_k_in_any_message(canary_audience):
    for filters in (Filters(types=("robbery",)), Filters(perpetrators=("military",)), Filters()):
        selection = dashboard.select(canary_audience, filters)
        assert all(_zero_or_k(selection.counts[k]) for k in INCIDENT_COUNTS)
        gi = gi_star(selection.incidents, resolution=8)
        assert not _small_counts_in(" ".join([gi.reason or "", *gi.notes]))
        ranking = rank_selection(canary_audience, filters, radius_m=500.0)
        shown = ranking_table(ranking, lang="en", audience=canary_audience)
        assert not shown.isin([f"<{K}"]).any().any()
        assert ranking["incidents"].map(_zero_or_k).all()


def test_finding_3_a_lone_incident_is_neither_listed_nor_drawn(canary_audience):
    selection = canary_audience.select(Filters(perpetrators=("military",), types=("robbery",)))
    assert _zero_or_k(len(selection))
    lone = canary_audience.table[canary_audience.table["date"] == pd.Timestamp("2020-03-03")]
    # Its day is shown only if k or more incidents share it: the lone one does not stand out.
    assert _zero_or_k(len(lone))
    html = build_map(selection, places=canary_audience.places, min_cell=K).get_root().render()
    assert "2020-03-03" not in html or len(lone) >= K


def test_finding_4_the_cli_writes_no_selection_below_k(canary_store, tmp_path, capsys):
    rows = _cli_rows(
        canary_store, tmp_path / "x.csv", "--type", "robbery", "--perpetrator", "military"
    )
    assert _zero_or_k(len(rows))
    capsys.readouterr()
    assert main(["hotspots", "--store", str(canary_store), "--public", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["sites"]
    for site in payload["sites"]:
        assert _zero_or_k(site["incidents"])
        assert _zero_or_k(site["previous_incidents"])
    assert not {s["place_type"] for s in payload["sites"]} - PUBLIC_SITE_TYPES


def test_finding_5_and_6_place_and_city_come_from_the_gazetteer(canary_store, tmp_path):
    frame = read_incidents(canary_store)
    camp = frame.index[:12]
    frame.loc[camp, "place_id"] = "mat_camp"
    frame.loc[camp, "place_type"] = "port_of_entry"
    frame.loc[camp, "geo_precision"] = "site"
    odd = frame.index[12:40]
    frame.loc[odd, "city"] = f"{CANARY} Colonia privada"
    frame.loc[odd, "place_id"] = None
    frame.loc[odd, "geo_precision"] = "city"
    store = write_incidents(frame, tmp_path / "odd.gpkg")
    rows = _cli_rows(store, tmp_path / "odd.csv")
    assert "mat_camp" not in set(rows["place_id"].dropna())
    assert not set(rows["place_type"].dropna()) & {"camp", "shelter"}
    assert CANARY not in (tmp_path / "odd.csv").read_text(encoding="utf-8-sig")
    assert set(rows["city"].dropna()) <= {"Matamoros", "Nuevo Laredo", "Reynosa", "Colombia"}


def test_finding_7_the_table_toolbar_offers_no_download(canary_store, monkeypatch):
    import streamlit as st_module

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True
    monkeypatch.setenv("RISKMAP_STORE", str(canary_store))
    st_module.set_option("client.disableDataExport", False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    # The app turns it off itself, even where the config file is not read.
    assert st_module.get_option("client.disableDataExport") is True


def test_finding_8_cli_ids_are_the_apps_ids(canary_store, canary_audience, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("RISKMAP_STORE", str(elsewhere / "other.gpkg"))
    rows = _cli_rows(canary_store, tmp_path / "ids.csv")
    assert set(rows["incident_id"]) <= set(canary_audience.table["incident_id"])
    assert len(rows) == len(canary_audience.table)


def test_full_export_of_the_store_is_clean(sample, places):
    audience = public_audience(sample, places=places, settings=SETTINGS)
    result = export(audience, filters=Filters(), fmt="geojson")
    data = result.data.decode("utf-8")
    for text in sample["location_text"].dropna():
        assert text not in data
    assert result.manifest["synthetic"] is True
    assert not set(sample["incident_id"]) & set(json.loads(data)["features"][0]["properties"])


def test_streamlit_hardening_settings():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 20
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert ".streamlit/secrets.toml" in ignored
    assert (ROOT / ".streamlit" / "secrets.toml.example").exists()


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_a_place_name_is_escaped_in_the_map(places, text):
    extra = places.iloc[[0]].copy()
    extra["place_id"] = "zz_evil"
    extra["name"] = text
    extra["place_type"] = "bus_terminal"
    html = build_map(
        pd.DataFrame(columns=["lat", "lon"]), places=pd.concat([places, extra]), min_cell=K
    )
    rendered = html.get_root().render()
    assert "<script>alert" not in rendered
    assert '<img src=x onerror="alert' not in rendered


def test_review_2_people_sums_cannot_be_differenced(canary_store, canary_audience, monkeypatch):
    """Our own hostile review subtracted two filter states' children counts (5 - 3 = 2)."""
    assert not {"victims", "children"} & set(canary_audience.table.columns)
    for filters in (
        Filters(types=("assault",)),
        Filters(types=("assault",), cities=("Matamoros",)),
    ):
        counts = headline_counts(canary_audience.select(filters))
        assert not {"people_affected", "children", "people_kidnapped", "people_in_attempts"} & set(
            counts
        )
        assert _zero_or_k(counts["incidents_with_children"])
    monkeypatch.setenv("RISKMAP_STORE", str(canary_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.query_params["type"] = "assault"
    at.run()
    assert not at.exception
    assert not {"Children", "People affected"} & {m.label for m in at.metric}


# --- the static public site (riskmap site): every file it writes ---------------------------------

_SITE_MARKERS = re.compile(r'rm-(?:count|city)\\" style=\\"[^"\\]*\\"\\u003e(.*?)\\u003c/div')
_SITE_FIGURES = re.compile(r'data-key="\w+"><b>([^<]*)</b>')
_SITE_POPUPS = re.compile(r"(?:Incidents|Incidentes): (\d+)")


def _assert_site_is_clean(files: dict[str, bytes], *, secret: str, raw_id: str, raw_points) -> None:
    """No free text, raw id or raw point in any file; no count from 1 to k - 1 on any page."""
    checked = 0
    for name, data in files.items():
        if name.startswith("vendor/"):  # Leaflet and its plugins: the same for every release
            continue
        if name.endswith(".pdf"):  # the printable brief: its text, as a reader sees it
            text = subprocess.run(
                ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
            ).stdout.decode("utf-8")
        else:
            text = data.decode("utf-8-sig")
        assert secret not in text, name
        assert raw_id not in text, name
        for point in raw_points:
            assert point not in text, (name, point)
        if not name.endswith(".html"):
            continue
        assert "<script>alert" not in text, name
        # The incidents left out of the release are the release report's figure (the app's
        # note and every manifest publish it): a count of no selection, so not checked here.
        for lang in ("en", "es"):
            text = re.sub(t("release_suppressed", lang, n=r"\d+"), "", text)
        assert not _small_counts_in(text), name
        shown = [*_SITE_MARKERS.findall(text), *_SITE_FIGURES.findall(text)]
        for value in [*shown, *_SITE_POPUPS.findall(text)]:
            assert not value.isdigit() or _zero_or_k(int(value)), (name, value)
            assert value.isdigit() or value.startswith(("<", "\\u003c")), (name, value)
        checked += len(shown)
    assert checked or not any(n.endswith(".html") for n in files)


def test_the_static_site_of_the_canary_store_leaks_nothing(canary_store, places, tmp_path):
    out = tmp_path / "public_site"
    assert main(["site", "--store", str(canary_store), "-o", str(out)]) == 0
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "en/matamoros.html" in files
    assert "es/nuevo-laredo.html" in files
    _assert_site_is_clean(
        files,
        secret=CANARY,
        raw_id="R-2024-",
        raw_points=_raw_points(read_incidents(canary_store), places),
    )
    assert not [name for name, data in files.items() if b"LONE-1" in data]
    assert json.loads(files["site.json"])["release"]["k"] == K


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draws=st.lists(_incident, min_size=1, max_size=40))
def test_no_file_of_the_static_site_leaks(places, draws):
    frame = _frame(draws, places)
    audience = public_audience(frame, places=places, settings=SETTINGS)
    files = site_files(audience)
    _assert_site_is_clean(
        files, secret=SECRET, raw_id="id-0-", raw_points=_raw_points(frame, places)
    )
