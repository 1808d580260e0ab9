import datetime as dt
import io
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from riskmap.cli import main
from riskmap.errors import SchemaError
from riskmap.filters import Filters, apply
from riskmap.geo.gazetteer import load_places
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.release.privacy import pseudonym_key, pseudonyms, restricted_view
from riskmap.release.public import LEVELS, ROW_COLUMNS, TYPE_GROUPS
from riskmap.schema import COLUMNS, conform
from riskmap.settings import Settings
from riskmap.store import read_incidents, write_incidents
from riskmap.views.export import (
    HXL_TAGS,
    data_dictionary,
    export,
    export_view,
    manifest,
    release_summary,
    to_csv,
    to_geojson,
    to_gpkg,
)

WHEN = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
KEY = b"test-key"
# A fixed pseudonym key: no key file is written beside the default store.
SETTINGS = Settings(pseudonym_key=KEY.decode())


@pytest.fixture(scope="module")
def public(sample, places):
    """The public audience of the sample: its k-anonymous release."""
    return public_audience(sample, places=places, settings=SETTINGS)


@pytest.fixture(scope="module")
def staff(sample, places):
    """The restricted audience of the sample: every recorded column."""
    return restricted_audience(sample, places=places, settings=SETTINGS)


def _read_csv(data: bytes, **kwargs) -> pd.DataFrame:
    kwargs.setdefault("keep_default_na", False)
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", **kwargs)


@pytest.fixture
def tricky() -> pd.DataFrame:
    """Three incidents whose text cells a spreadsheet would run as formulas."""
    return conform(
        pd.DataFrame(
            {
                "incident_id": ["=1+1", "+A1", "ok"],
                "date": pd.to_datetime(["2019-11-20", "2019-11-21", "2019-12-01"]),
                "date_precision": ["day", "day", "month"],
                "incident_types": ["kidnapping|extortion", "robbery", "threat"],
                "city": ["Matamoros", "Nuevo Laredo", "Matamoros"],
                "location_text": ["@SUM(A1)", "\tcmd", "-2+3"],
                "lat": [25.898333, 27.5, None],
                "lon": [-97.497222, -99.5, None],
                "geo_precision": ["site", "site", "unresolved"],
                "perpetrator": ["police", None, "unknown"],
                "victims": [3, 1, None],
                "children": [1, 0, None],
                "source": ["ONG", "ONG", "ONG"],
                "notes": ["\r=cmd|' /C calc'!A0", "Ñandú, «citado»", None],
                "synthetic": [False, False, False],
            }
        )
    )


def test_csv_neutralises_formulas_and_keeps_numbers(tricky):
    data = to_csv(tricky)
    assert data.startswith(b"\xef\xbb\xbf")
    back = _read_csv(data, dtype=str)
    assert list(back.columns) == list(COLUMNS)
    assert list(back["incident_id"]) == ["'=1+1", "'+A1", "ok"]
    assert list(back["location_text"]) == ["'@SUM(A1)", "'\tcmd", "'-2+3"]
    assert back["notes"][0].startswith("'\r=cmd")
    assert back["notes"][1] == "Ñandú, «citado»"
    assert list(back["lon"]) == ["-97.497222", "-99.5", ""]  # numbers are not touched
    assert list(back["date"]) == ["2019-11-20", "2019-11-21", "2019-12-01"]
    assert list(back["victims"]) == ["3", "1", ""]
    assert list(back["synthetic"]) == ["false", "false", "false"]


def test_csv_round_trip(sample):
    back = _read_csv(to_csv(sample), parse_dates=["date"], keep_default_na=True)
    pd.testing.assert_frame_equal(conform(back), conform(sample))


def test_hxl_row(tricky):
    back = _read_csv(to_csv(tricky, hxl=True), dtype=str)
    tags = back.iloc[0]
    assert tags["date"] == "#date+start"
    assert tags["date_precision"] == "#meta+precision+date"  # not a date: not under #date
    assert tags["incident_types"] == "#event+type"
    assert (tags["lat"], tags["lon"]) == ("#geo+lat", "#geo+lon")
    assert tags["city"] == "#adm2+name"
    assert tags["victims"] == "#affected+total"  # everyone targeted, whatever the incident
    assert tags["children"] == "#affected+children"
    assert tags["perpetrator"] == "#group+perpetrator"
    assert HXL_TAGS["place_name"] == "#loc+name"
    assert len(back) == 4
    # Every column a public export can hold has its hashtag.
    assert set(ROW_COLUMNS) <= set(HXL_TAGS)


def test_geojson_round_trip(tricky):
    data = to_geojson(tricky)
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection"
    assert doc["features"][0]["geometry"]["coordinates"] == [-97.497222, 25.898333]
    assert doc["features"][2]["geometry"] is None
    assert doc["features"][0]["properties"]["date"] == "2019-11-20"
    assert doc["features"][2]["properties"]["victims"] is None
    back = gpd.read_file(io.BytesIO(data))
    assert len(back) == 3
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[2] is None or back.geometry.iloc[2].is_empty
    assert back["incident_id"].tolist() == ["=1+1", "+A1", "ok"]
    assert back.geometry.iloc[1].x == -99.5


def test_gpkg_round_trip(tmp_path, tricky):
    path = to_gpkg(tricky, tmp_path / "out.gpkg")
    back = pyogrio.read_dataframe(path)
    assert len(back) == 3
    assert back["notes"].iloc[1] == "Ñandú, «citado»"
    assert back.geometry.iloc[0].y == pytest.approx(25.898333)
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]


def test_public_export_hides_what_could_identify_a_person(sample, public):
    result = export(public, filters=Filters(), fmt="csv", generated_at=WHEN)
    back = _read_csv(result.data, dtype=str)
    assert len(back) == public.report["released"] == result.manifest["rows"]
    # Exactly the shown columns of the release: no free text, no people counts on a row.
    assert list(back.columns) == list(ROW_COLUMNS)
    for private in ("notes", "location_text", "source", "victims", "children"):
        assert private not in back.columns
    text = result.data.decode("utf-8-sig")
    for value in sample["location_text"].dropna().unique():
        assert value not in text
    assert not set(back["incident_id"]) & set(sample["incident_id"])
    assert set(back["incident_id"]) == set(pseudonyms(sample["incident_id"], KEY))
    assert back["place_name"].str.len().gt(0).any()  # gazetteer names of public sites are kept
    assert set(back["synthetic"]) == {"true"}
    # Periods are written as ISO days, their ends too.
    dated = back[back["date"] != ""]
    assert dated["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert dated["date_end"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (dated["date"] <= dated["date_end"]).all()
    assert set(back["date_precision"]) <= set(LEVELS["date"])
    assert result.manifest["synthetic"] is True
    assert "SYNTHETIC" in result.manifest["warning"]
    assert result.filename == "riskmap-incidents-synthetic-20240601.csv"
    assert result.manifest["view"] == "public"


def test_public_manifest_carries_the_release_report(public):
    result = export(public, filters=Filters(), fmt="geojson", generated_at=WHEN)
    release = result.manifest["release"]
    assert release == release_summary(public.report)
    assert "generated_at" not in release
    assert release["k"] == public.k == 3
    assert release["released"] + release["suppressed"] == release["incidents"]
    assert set(release["levels"]) == set(LEVELS)
    for attribute, counts in release["levels"].items():
        assert sum(counts.values()) == release["released"], attribute
    assert 0 <= release["detail"] <= 1
    assert release["data_through"] == public.table["date_end"].max().date().isoformat()
    # The manifest is written as JSON whole, the report included.
    assert json.loads(result.manifest_json())["release"] == release


def test_filters_apply_and_the_manifest_says_so(public):
    filters = Filters(
        start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31), types=("kidnapping",),
        cities=("Nuevo Laredo",),
    )  # fmt: skip
    result = export(public, filters=filters, fmt="geojson", generated_at=WHEN)
    doc = json.loads(result.data)
    assert len(doc["features"]) == result.manifest["rows"] == len(public.select(filters)) > 0
    for feature in doc["features"]:
        props = feature["properties"]
        assert props["city"] == "Nuevo Laredo"
        # The type itself, or its group where the release shows only the group.
        shown = set(props["incident_types"].split("|"))
        wanted = "kidnapping" if props["type_precision"] == "exact" else TYPE_GROUPS["kidnapping"]
        assert wanted in shown
        # The shown period overlaps December.
        assert props["date"] <= "2019-12-31"
        assert props["date_end"] >= "2019-12-01"
        for private in ("notes", "victims", "children"):
            assert private not in props
    assert result.manifest["filters"]["types"] == ["kidnapping"]
    assert result.manifest["filters"]["start"] == "2019-12-01"
    assert result.manifest["generated_at"] == "2024-06-01T12:00:00+00:00"


def test_restricted_export_keeps_everything(sample, places, staff):
    result = export(staff, filters=Filters(), fmt="csv")
    back = _read_csv(result.data, dtype=str)
    assert set(COLUMNS) <= set(back.columns)
    assert "place_name" in back.columns
    assert set(back["incident_id"]) == set(sample["incident_id"])
    assert "restricted" in result.filename
    assert result.manifest["view"] == "restricted"
    assert "release" not in result.manifest
    table = restricted_view(sample, places=places)
    assert list(table.columns).index("place_name") == list(table.columns).index("place_id") + 1
    # Staff filters act on recorded values: exactly what filters.apply selects.
    december = Filters(start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31))
    assert export(staff, filters=december, fmt="csv").manifest["rows"] == len(
        apply(sample, december)
    )


def test_a_public_export_takes_only_rows_of_the_release(sample, public, staff):
    everything = Filters()
    for rows in (
        sample,  # raw incidents
        public.table.assign(victims=1),  # release rows with a number of people added
        public.rows(public.select(everything)).drop(columns="synthetic"),
        staff.rows(staff.select(everything)),
    ):
        with pytest.raises(SchemaError, match="rows of the public release"):
            export_view(rows, audience=public, filters=everything, fmt="csv")
    shown = public.rows(public.select(everything))
    result = export_view(shown, audience=public, filters=everything, fmt="csv")
    assert result.manifest["rows"] == len(shown)
    assert result.data == export(public, filters=everything, fmt="csv").data
    # Staff exports take any of the staff's columns.
    staff_rows = export_view(sample, audience=staff, filters=everything, fmt="csv")
    assert staff_rows.manifest["rows"] == len(sample)


def test_gpkg_export_bytes_and_zip(public, tmp_path):
    result = export(public, filters=Filters(), fmt="gpkg", generated_at=WHEN)
    assert result.data[:16] == b"SQLite format 3\x00"
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    back = pyogrio.read_dataframe(path)
    assert len(back) == public.report["released"]
    assert "victims" not in back.columns
    with zipfile.ZipFile(io.BytesIO(result.to_zip())) as archive:
        names = set(archive.namelist())
        assert names == {
            result.filename,
            "riskmap-incidents-synthetic-20240601.properties.json",
            "datapackage.json",
            result.manifest_filename,
            "DATA_DICTIONARY.md",
        }
        info = json.loads(archive.read(result.manifest_filename))
        assert info["rows"] == len(back)
        assert info["data_dictionary"] in names


def test_manifest_has_the_data_dictionary(tricky):
    info = manifest(tricky, filters=Filters(), synthetic=False, generated_at=WHEN)
    assert info["rows"] == 3
    assert info["synthetic"] is False
    assert "warning" not in info
    assert info["data_dictionary"] == "DATA_DICTIONARY.md"  # its name in the zip archive
    columns = {c["name"]: c for c in info["columns"]}
    assert list(columns) == list(COLUMNS)
    assert columns["victims"]["hxl"] == "#affected+total"
    assert columns["victims"]["header"] == "victims"
    assert "People targeted" in columns["victims"]["description"]
    assert "lat" in data_dictionary()
    assert "lon" in data_dictionary()


def test_bad_export_requests(public):
    with pytest.raises(SchemaError, match="unknown export format"):
        export(public, filters=Filters(), fmt="xls")
    with pytest.raises(SchemaError, match="CSV exports only"):
        export(public, filters=Filters(), fmt="geojson", hxl=True)


def test_cli_export(sample_store, tmp_path, capsys):
    out = tmp_path / "kid.csv"
    code = main(
        ["export", "--store", str(sample_store), "--type", "kidnapping", "attempted_kidnapping",
         "--city", "Matamoros", "--from", "2019-11-01", "--hxl", "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    assert "public view" in capsys.readouterr().out
    back = _read_csv(out.read_bytes(), dtype=str)
    assert back.iloc[0]["date"] == "#date+start"
    assert list(back.columns) == list(ROW_COLUMNS)
    assert set(back.iloc[1:]["city"]) == {"Matamoros"}
    info = json.loads((tmp_path / "kid.manifest.json").read_text(encoding="utf-8"))
    assert info["rows"] == len(back) - 1 > 0
    assert info["filters"]["cities"] == ["Matamoros"]
    assert info["hxl"] is True
    assert info["release"]["k"] == 3
    geo = tmp_path / "all.geojson"
    assert main(["export", "--store", str(sample_store), "-o", str(geo)]) == 0
    exported = gpd.read_file(geo)
    incidents = read_incidents(sample_store)
    # The public audience of the store that was read, with that store's pseudonym key.
    settings = Settings()
    audience = public_audience(
        incidents, places=load_places(), settings=settings, store=sample_store
    )
    assert len(exported) == audience.report["released"]
    key = pseudonym_key(settings, store=sample_store)
    assert set(exported["incident_id"]) == set(pseudonyms(incidents["incident_id"], key))


def test_cli_export_restricted_and_another_store(sample_store, sample, tmp_path, capsys):
    out = tmp_path / "staff.csv"
    assert main(["export", "--store", str(sample_store), "--restricted", "-o", str(out)]) == 0
    assert "restricted view" in capsys.readouterr().out
    back = _read_csv(out.read_bytes(), dtype=str)
    assert {"location_text", "notes", "source"} <= set(back.columns)
    assert set(back["incident_id"]) == set(sample["incident_id"])
    info = json.loads((tmp_path / "staff.manifest.json").read_text(encoding="utf-8"))
    assert info["view"] == "restricted"
    assert "release" not in info
    # Another store has its own pseudonym key: the same incident gets another public id.
    other = write_incidents(sample, tmp_path / "other" / "incidents.gpkg")
    ids = []
    for store in (sample_store, other):
        target = tmp_path / f"{store.parent.name}.csv"
        assert main(["export", "--store", str(store), "-o", str(target)]) == 0
        ids.append(set(_read_csv(target.read_bytes(), dtype=str)["incident_id"]))
    assert len(ids[0]) == len(ids[1]) > 0
    assert not ids[0] & ids[1]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "alien"], "unknown types: alien"),
        (["--from", "2020-01-01", "--to", "2019-01-01"], "after the end date"),
        (["--store", "{tmp}/none.gpkg"], "no incident store"),
        (["-o", "{tmp}/out.txt"], "--format"),
        (["--format", "geojson", "--hxl"], "CSV exports only"),
    ],
)
def test_cli_export_user_errors(sample_store, tmp_path, capsys, args, message):
    argv = ["export", "--store", str(sample_store), "-o", str(tmp_path / "out.csv")]
    argv += [a.format(tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_an_empty_selection_exports_an_empty_file(public):
    none = Filters(start=dt.date(2001, 1, 1), end=dt.date(2001, 1, 2))
    for fmt in ("csv", "geojson", "gpkg"):
        result = export(public, filters=none, fmt=fmt)
        assert result.manifest["rows"] == 0
        assert result.manifest["synthetic"] is False
        assert result.data  # a valid empty file, not nothing
    empty = _read_csv(export(public, filters=none, fmt="csv").data)
    assert empty.empty
    assert list(empty.columns) == list(ROW_COLUMNS)


def test_a_narrow_date_filter_cannot_reveal_a_hidden_day(sample, public):
    """Public filters test shown periods: a one-day filter selects whole periods, not days."""
    sa = sample[sample["incident_types"].str.contains("sexual_assault")]
    hidden = sa[sa["date"].dt.day != 1].iloc[0]
    day = hidden["date"].date()
    public_id = pseudonyms(pd.Series([hidden["incident_id"]]), KEY)[0]
    shown = public.table.set_index("incident_id").loc[public_id]
    assert shown["date_precision"] != "day"  # sexual assault is never shown by day
    one_day = export(public, filters=Filters(start=day, end=day), fmt="csv")
    assert public_id.encode() in one_day.data
    # Any other day of the shown period selects the very same rows: the day cannot be found
    # by narrowing the dates.
    other = shown["date"].date() if shown["date"].date() != day else shown["date_end"].date()
    assert other != day
    also = export(public, filters=Filters(start=other, end=other), fmt="csv")
    assert public_id.encode() in also.data
    back = _read_csv(one_day.data, dtype=str).set_index("incident_id")
    again = _read_csv(also.data, dtype=str).set_index("incident_id")
    # Two selections differ by whole classes of at least k rows, never by one incident.
    assert len(set(back.index) ^ set(again.index)) in {0} | set(range(public.k, len(sample) + 1))
    assert back.loc[public_id, "date"] == shown["date"].date().isoformat()
    assert back.loc[public_id, "date"] != day.isoformat()
    assert dt.date(2019, 11, 1) <= day
