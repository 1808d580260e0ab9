"""Publication-grade downloads, checked with the tools that read them: libhxl (HXL), frictionless
(data packages) and pyogrio/SQLite (GeoPackage version). No network: a guard refuses every
connection while these tests run, so a validator that fetched a remote schema would fail."""

import collections
import datetime as dt
import io
import json
import socket
import sqlite3
import zipfile
from pathlib import Path

import frictionless
import hxl
import pandas as pd
import pyogrio
import pytest

from riskmap.analysis.metrics import headline_counts, load_published
from riskmap.cli import main
from riskmap.errors import SchemaError
from riskmap.filters import Filters, apply
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.release.public import ROW_COLUMNS
from riskmap.schema import COLUMNS, PERPETRATORS, conform
from riskmap.settings import Settings
from riskmap.views.export import (
    DATA_DICTIONARY,
    GPKG_VERSION,
    HEADERS_ES,
    HXL_TAGS,
    PEOPLE_COLUMNS,
    data_dictionary,
    export,
    hxl_dictionary,
    people_by_outcome,
    release_summary,
    to_csv,
)
from riskmap.views.package import FIELDS

WHEN = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
SETTINGS = Settings(pseudonym_key="test-key")
CANARY = "CANARY-7f3a"
#: Columns a public file must never describe, by name or by value.
RESTRICTED = ("location_text", "notes", "source", "victims", "children", *PEOPLE_COLUMNS)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse every connection: validation must not fetch a schema or a profile."""

    def refuse(*args, **kwargs):
        msg = "network access during a publication test"
        raise OSError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def hostile(places, random_store) -> pd.DataFrame:
    """A red-team store: formula-like and accented text, missing counts, canary free text."""
    frame = random_store(places, n=240, seed=18)
    frame.loc[::7, "location_text"] = f"=HYPERLINK('http://x', '{CANARY}')"
    frame.loc[::5, "notes"] = f"@SUM(A1) {CANARY} Ñandú «citado»"
    frame.loc[::3, "incident_id"] = [f"+{i}-{CANARY}" for i in range(len(frame.loc[::3]))]
    frame["victims"] = frame["victims"].astype("Int64")
    frame.loc[::11, "victims"] = pd.NA
    frame["children"] = frame["children"].astype("Int64").where(frame["victims"].notna(), pd.NA)
    return conform(frame)


@pytest.fixture(scope="module")
def stores(sample, hostile):
    return {"sample": sample, "hostile": hostile}


def _audience(kind, incidents, places):
    build = public_audience if kind == "public" else restricted_audience
    return build(incidents, places=places, settings=SETTINGS)


def _hxl_issues(path: Path) -> collections.Counter:
    """Validate an HXL file against libhxl's built-in core schema; count issues by severity."""
    # From the file's bytes: libhxl leaves a file it opens itself unclosed.
    found: list = []
    schema = hxl.schema(callback=found.append)
    schema.validate(hxl.data(io.BytesIO(path.read_bytes())))
    return collections.Counter(e.rule.severity for e in found)


def _hxl_rows(path: Path) -> list:
    """Read an HXL file's rows (from its bytes: libhxl leaves a file it opens unclosed)."""
    return list(hxl.data(io.BytesIO(path.read_bytes())))


def _save(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return next(folder.glob("*datapackage.json"))


def _errors(report) -> list:
    return report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])


# --- HXL ---------------------------------------------------------------------------------------


def test_libhxl_finds_the_old_date_precision_tag_wrong(tmp_path):
    """The validator is real: the tag the issue reported gives one error per row."""
    path = tmp_path / "old.csv"
    path.write_text("date,date_precision\n#date+occurred,#date+precision\n2019-11-01,day\n")
    assert _hxl_issues(path)["error"] == 1


@pytest.mark.parametrize("store", ["sample", "hostile"])
@pytest.mark.parametrize("kind", ["public", "restricted"])
@pytest.mark.parametrize("headers", ["en", "es"])
def test_every_hxl_export_passes_the_core_schema(tmp_path, stores, places, store, kind, headers):
    audience = _audience(kind, stores[store], places)
    result = export(audience, filters=Filters(), fmt="csv", hxl=True, headers=headers)
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    rows = _hxl_rows(path)
    assert len(rows) == result.manifest["rows"] > 0
    assert _hxl_issues(path)["error"] == 0
    # The tags are the same whatever the language of the headers.
    tags = pd.read_csv(path, encoding="utf-8-sig", dtype=str, nrows=1).iloc[0].tolist()
    names = [c["name"] for c in result.manifest["columns"]]
    assert tags == [HXL_TAGS[c] for c in names]
    if kind == "public":
        assert not [t for t in tags if t.startswith("#affected")]  # no number of people


def test_hxl_people_add_up_to_the_headline_and_the_published_figures(tmp_path, sample, places):
    staff = _audience("restricted", sample, places)
    published = load_published().set_index("metric")["value"]
    report = Filters(start=dt.date(2019, 11, 1), end=dt.date(2020, 1, 31))
    for name, filters in {
        "report": report,
        "matamoros": Filters(cities=("Matamoros",)),
        "december": Filters(start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31)),
    }.items():
        result = export(staff, filters=filters, fmt="csv", hxl=True)
        path = tmp_path / f"{name}.csv"
        path.write_bytes(result.data)
        rows = _hxl_rows(path)

        def total(tag, rows=rows):
            return sum(int(r.get(tag) or 0) for r in rows)

        counts = headline_counts(apply(sample, filters))
        assert total("#affected+kidnapped") == counts["people_kidnapped"], name
        assert total("#affected+kidnap_attempt") == counts["people_in_attempts"], name
        assert total("#affected+children") == counts["children"], name
        assert total("#affected+total") == counts["people_affected"], name
        # Each row's people are split, never counted twice.
        for row in rows:
            parts = ("#affected+kidnapped", "#affected+kidnap_attempt", "#affected+other_incidents")
            assert sum(int(row.get(t) or 0) for t in parts) == int(row.get("#affected+total") or 0)
        if name == "report":
            assert total("#affected+kidnapped") == published["people_kidnapped"] == 80
            assert total("#affected+kidnap_attempt") == published["people_in_attempts"] == 19
            assert total("#affected+children") == published["children"] == 38


def test_public_hxl_counts_incidents_as_the_headline_does(tmp_path, sample, places):
    public = _audience("public", sample, places)
    filters = Filters(types=("kidnapping",))
    result = export(public, filters=filters, fmt="csv", hxl=True)
    path = tmp_path / "public.csv"
    path.write_bytes(result.data)
    rows = _hxl_rows(path)
    counts = headline_counts(public.select(filters))
    assert len(rows) == counts["incidents"] > 0
    with_children = [r for r in rows if r.get("#indicator+children") == "true"]
    assert len(with_children) == counts["incidents_with_children"]


def test_people_split_by_outcome_on_a_hostile_store(hostile):
    split = people_by_outcome(hostile)
    at = list(split.columns).index("victims")
    assert list(split.columns)[at + 1 : at + 4] == list(PEOPLE_COLUMNS)
    parts = split[list(PEOPLE_COLUMNS)].fillna(0).sum(axis=1)
    pd.testing.assert_series_equal(parts, split["victims"].fillna(0), check_names=False)
    types = split["incident_types"]
    other = ~types.str.contains("kidnapping")
    assert (split.loc[~other, "people_other"] == 0).all()
    assert (split.loc[other, "people_kidnapped"] == 0).all()
    assert split["victims"].isna().any()  # a missing count stays missing, in its own column


# --- Frictionless data package -----------------------------------------------------------------


@pytest.mark.parametrize("store", ["sample", "hostile"])
@pytest.mark.parametrize("kind", ["public", "restricted"])
@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_the_data_package_validates(tmp_path, stores, places, store, kind, fmt):
    audience = _audience(kind, stores[store], places)
    for headers in ("en", "es"):
        result = export(
            audience, filters=Filters(), fmt=fmt, hxl=fmt == "csv", headers=headers, lang=headers
        )
        descriptor = _save(result.package_files(), tmp_path / headers)
        report = frictionless.validate(str(descriptor))
        assert report.valid, _errors(report)
        tables = [t for t in report.tasks if t.type == "table"]
        assert len(tables) == 1
        assert tables[0].stats["rows"] == result.manifest["rows"] > 0
        assert tables[0].stats["fields"] == len(result.manifest["columns"])


def test_the_data_package_in_the_zip_validates(tmp_path, sample, places):
    public = _audience("public", sample, places)
    result = export(public, filters=Filters(), fmt="geojson", generated_at=WHEN)
    with zipfile.ZipFile(io.BytesIO(result.to_zip())) as archive:
        archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, _errors(report)
    # The properties table is the GeoJSON's properties, feature by feature.
    geo = json.loads((tmp_path / result.filename).read_text(encoding="utf-8"))
    table = json.loads(
        (tmp_path / result.filename.replace(".geojson", ".properties.json")).read_text()
    )
    assert table == [f["properties"] for f in geo["features"]]


def test_the_table_schema_catches_a_value_outside_the_vocabulary(tmp_path, sample, places):
    """The enumerations are real: a precision the release never writes is an error."""
    public = _audience("public", sample, places)
    result = export(public, filters=Filters(), fmt="csv", hxl=True)
    files = result.package_files(path="bad.csv")
    text = files["bad.csv"].decode("utf-8-sig").replace(",quarter,", ",fortnight,", 1)
    files["bad.csv"] = text.encode("utf-8-sig")
    doc = json.loads(files["bad.datapackage.json"])
    for key in ("bytes", "hash"):  # the edit changed them: check the values alone
        doc["resources"][0].pop(key)
    files["bad.datapackage.json"] = json.dumps(doc).encode("utf-8")
    report = frictionless.validate(str(_save(files, tmp_path)))
    assert not report.valid
    assert [(e[2], e[3]) for e in _errors(report)] == [("date_precision", "constraint-error")]


def test_the_package_says_what_the_data_are(sample, places):
    public = _audience("public", sample, places)
    result = export(public, filters=Filters(), fmt="csv", hxl=True, generated_at=WHEN)
    doc = result.datapackage()
    assert doc["licenses"][0]["name"] == "CC-BY-4.0"
    assert doc["sources"]
    assert all(s["title"] for s in doc["sources"])
    assert doc["synthetic"] is True
    assert "SYNTHETIC" in doc["description"]
    assert doc["release"] == release_summary(public.report)
    assert doc["created"] == "2024-06-01T12:00:00+00:00"
    schema = doc["resources"][0]["schema"]
    assert schema["missingValues"] == [""]
    assert schema["primaryKey"] == ["incident_id"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert list(fields) == list(ROW_COLUMNS)
    assert fields["date"]["type"] == "date"
    assert fields["lat"]["unit"].startswith("degrees north")
    assert set(PERPETRATORS) <= set(fields["perpetrator"]["constraints"]["enum"])
    assert "shelter" not in fields["place_type"]["constraints"]["enum"]
    assert fields["children_affected"]["type"] == "boolean"
    assert fields["date_precision"]["hxl"] == "#meta+precision+date"
    assert doc["resources"][0]["dialect"]["commentRows"] == [2]  # the HXL row is not data


def test_a_public_package_describes_only_public_columns(hostile, places):
    public = _audience("public", hostile, places)
    for fmt in ("csv", "geojson"):
        result = export(public, filters=Filters(), fmt=fmt)
        files = result.package_files()
        descriptor = json.loads(files[f"{Path(result.filename).stem}.datapackage.json"])
        names = [
            f["name"]
            for r in descriptor["resources"]
            for f in r.get("schema", {}).get("fields", [])
        ]
        assert names == list(ROW_COLUMNS)
        for data in files.values():
            assert b"CANARY" not in data  # the store's free text, and this test's
        # (The release report names its "children" level: a level, not a column.)
        text = json.dumps(descriptor["resources"])
        for column in RESTRICTED:
            assert f'"{column}"' not in text, column
    staff = _audience("restricted", hostile, places)
    staff_doc = export(staff, filters=Filters(), fmt="csv").datapackage()
    staff_fields = [f["name"] for f in staff_doc["resources"][0]["schema"]["fields"]]
    assert {"victims", *PEOPLE_COLUMNS, "notes"} <= set(staff_fields)
    assert staff_doc["name"] == "riskmap-incidents-restricted"


# --- GeoPackage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["public", "restricted"])
def test_gpkg_exports_are_geopackage_1_2(tmp_path, sample, places, kind):
    audience = _audience(kind, sample, places)
    result = export(audience, filters=Filters(), fmt="gpkg")
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
    assert GPKG_VERSION == "1.2"
    layers = pyogrio.list_layers(path)
    assert [str(name) for name, _ in layers] == ["incidents"]
    info = pyogrio.read_info(path, layer="incidents")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == result.manifest["rows"] == len(audience.table)
    assert info["geometry_type"] == "Point"


# --- Spanish headers -----------------------------------------------------------------------------


def _read(data: bytes, **kwargs) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("kind", ["public", "restricted"])
def test_spanish_headers_change_the_names_only(sample, places, kind):
    audience = _audience(kind, sample, places)
    english = export(audience, filters=Filters(), fmt="csv", hxl=True, lang="es")
    spanish = export(audience, filters=Filters(), fmt="csv", hxl=True, lang="es", headers="es")
    en, es = _read(english.data), _read(spanish.data)
    assert list(es.columns) == [HEADERS_ES[c] for c in en.columns]
    # Codes, values, dates, the HXL row: all the same.
    assert es.to_numpy().tolist() == en.to_numpy().tolist()
    assert es["fecha"].iloc[1:].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    assert "precision_fecha" in es.columns
    assert [c["header"] for c in spanish.manifest["columns"]] == list(es.columns)
    assert spanish.manifest["headers"] == "es"
    geo = export(audience, filters=Filters(), fmt="geojson", headers="es")
    props = json.loads(geo.data)["features"][0]["properties"]
    assert list(props) == list(es.columns)


def test_spanish_headers_keep_the_formula_guard():
    frame = conform(
        pd.DataFrame(
            {
                "incident_id": ["=1+1"],
                "date": pd.to_datetime(["2019-11-20"]),
                "incident_types": ["robbery"],
                "notes": ["@SUM(A1)"],
                "synthetic": [False],
            }
        )
    )
    back = _read(to_csv(frame, hxl=True, headers="es"))
    assert list(back.columns) == [HEADERS_ES[c] for c in COLUMNS]
    assert back["id_incidente"].tolist() == ["#event+id", "'=1+1"]
    assert back["notas"].tolist() == ["#description+notes", "'@SUM(A1)"]


def test_an_unknown_header_language_is_a_clear_error(sample, places):
    public = _audience("public", sample, places)
    with pytest.raises(SchemaError, match="unknown header language 'fr'; choose one of en, es"):
        export(public, filters=Filters(), fmt="csv", headers="fr")


# --- The data dictionary -------------------------------------------------------------------------


def test_the_dictionary_has_the_hxl_table_and_both_names_of_every_column(sample, places):
    assert hxl_dictionary() == HXL_TAGS
    english, spanish = data_dictionary(), data_dictionary(lang="es")
    staff = export(_audience("restricted", sample, places), filters=Filters(), fmt="csv")
    exported = [c["name"] for c in staff.manifest["columns"]] + list(ROW_COLUMNS)
    assert set(exported) == set(HXL_TAGS) == set(HEADERS_ES) == set(FIELDS)
    for column in exported:
        assert english[column]["description"], column
        assert spanish[column]["description"], column
    text = DATA_DICTIONARY.read_text(encoding="utf-8")
    section = text.split("## Español", 1)[1].split("\n### ", 1)[0]
    for column, header in HEADERS_ES.items():
        cells = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
        row = next(c for c in cells if f"`{column}`" in c[0])
        assert f"`{header}`" in row[1], column


# --- The command line ----------------------------------------------------------------------------


def test_cli_export_package(sample_store, tmp_path, capsys):
    out = tmp_path / "kid.csv"
    argv = ["export", "--store", str(sample_store), "--type", "kidnapping", "--hxl"]
    assert main([*argv, "--package", "--lang", "es", "-o", str(out)]) == 0
    assert "kid.datapackage.json" in capsys.readouterr().out
    report = frictionless.validate(str(tmp_path / "kid.datapackage.json"))
    assert report.valid, _errors(report)
    back = _read(out.read_bytes())
    assert list(back.columns) == [HEADERS_ES[c] for c in ROW_COLUMNS]
    info = json.loads((tmp_path / "kid.manifest.json").read_text(encoding="utf-8"))
    assert info["headers"] == info["lang"] == "es"
    # Spanish place names with English headers; and no package unless asked.
    plain = tmp_path / "plain" / "all.geojson"
    assert main(["export", "--store", str(sample_store), "--lang", "es", "--headers", "en",
                 "-o", str(plain)]) == 0  # fmt: skip
    assert sorted(p.name for p in plain.parent.iterdir()) == ["all.geojson", "all.manifest.json"]
    props = json.loads(plain.read_text(encoding="utf-8"))["features"][0]["properties"]
    assert "incident_id" in props


def test_cli_export_rejects_an_unknown_header_language(sample_store, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "export",
                "--store",
                str(sample_store),
                "--headers",
                "fr",
                "-o",
                str(tmp_path / "x.csv"),
            ]
        )
    assert stop.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


# --- Cite this -----------------------------------------------------------------------------------


def test_every_manifest_says_how_to_cite_it(sample, places):
    public = _audience("public", sample, places)
    url = "https://riskmap.example.org/?lang=es&type=kidnapping"
    result = export(public, filters=Filters(), fmt="csv", url=url, generated_at=WHEN)
    through = public.report["data_through"]
    en, es = result.manifest["citation"]["en"], result.manifest["citation"]["es"]
    assert "public release (k = 3)" in en
    assert "SYNTHETIC" in en
    assert "downloaded 2024-06-01" in en
    assert f"data through {through}" in en
    assert en.endswith(url)
    assert "publicación pública (k = 3)" in es
    assert es.endswith(url)
    assert result.datapackage()["citation"] == result.manifest["citation"]
    staff = export(_audience("restricted", sample, places), filters=Filters(), fmt="csv")
    assert "not for publication" in staff.manifest["citation"]["en"]
    assert "url" not in staff.manifest


def test_the_app_has_labels_for_the_package_and_the_citation(sample, places):
    from riskmap.views.i18n import t

    result = export(_audience("public", sample, places), filters=Filters(), fmt="csv")
    assert result.zip_filename.endswith(".zip")
    for lang in ("en", "es"):
        line = t("cite_this", lang, citation=result.manifest["citation"][lang])
        assert result.manifest["citation"][lang] in line
        assert t("download_package", lang).endswith("(zip)")
