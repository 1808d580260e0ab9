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
from riskmap.release.privacy import restricted_view
from riskmap.schema import COLUMNS, conform
from riskmap.settings import Settings
from riskmap.views.export import (
    HXL_TAGS,
    data_dictionary,
    export,
    manifest,
    to_csv,
    to_geojson,
    to_gpkg,
)

WHEN = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


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
    assert tags["date"] == "#date+occurred"
    assert tags["incident_types"] == "#event+type"
    assert (tags["lat"], tags["lon"]) == ("#geo+lat", "#geo+lon")
    assert tags["city"] == "#adm2+name"
    assert tags["victims"] == "#affected+abducted"
    assert tags["children"] == "#affected+children"
    assert tags["perpetrator"] == "#group+perpetrator"
    assert HXL_TAGS["place_name"] == "#loc+name"
    assert len(back) == 4


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


def test_public_export_hides_what_could_identify_a_person(sample, places):
    result = export(
        sample, filters=Filters(), fmt="csv", places=places, settings=Settings(), generated_at=WHEN
    )
    back = _read_csv(result.data, dtype=str)
    assert len(back) == len(sample)
    for private in ("notes", "location_text", "source"):
        assert private not in back.columns
    text = result.data.decode("utf-8-sig")
    for value in sample["location_text"].dropna().unique():
        assert value not in text
    assert not set(back["incident_id"]) & set(sample["incident_id"])
    assert back["place_name"].str.len().gt(0).any()  # gazetteer names of public sites are kept
    assert set(back["synthetic"]) == {"true"}
    assert result.manifest["synthetic"] is True
    assert "SYNTHETIC" in result.manifest["warning"]
    assert result.filename == "riskmap-incidents-synthetic-20240601.csv"
    assert result.manifest["view"] == "public"


def test_filters_apply_and_the_manifest_says_so(sample, places):
    filters = Filters(
        start=dt.date(2019, 12, 1), end=dt.date(2019, 12, 31), types=("kidnapping",),
        cities=("Nuevo Laredo",),
    )  # fmt: skip
    result = export(sample, filters=filters, fmt="geojson", places=places, generated_at=WHEN)
    doc = json.loads(result.data)
    assert len(doc["features"]) == result.manifest["rows"] == len(apply(sample, filters)) > 0
    for feature in doc["features"]:
        props = feature["properties"]
        assert props["city"] == "Nuevo Laredo"
        assert "kidnapping" in props["incident_types"].split("|")
        assert "notes" not in props
    assert result.manifest["filters"]["types"] == ["kidnapping"]
    assert result.manifest["filters"]["start"] == "2019-12-01"
    assert result.manifest["generated_at"] == "2024-06-01T12:00:00+00:00"


def test_restricted_export_keeps_everything(sample, places):
    result = export(sample, filters=Filters(), fmt="csv", public=False, places=places)
    back = _read_csv(result.data, dtype=str)
    assert set(COLUMNS) <= set(back.columns)
    assert "place_name" in back.columns
    assert set(back["incident_id"]) == set(sample["incident_id"])
    assert "restricted" in result.filename
    table = restricted_view(sample, places=places)
    assert list(table.columns).index("place_name") == list(table.columns).index("place_id") + 1


def test_gpkg_export_bytes_and_zip(sample, places, tmp_path):
    result = export(sample, filters=Filters(), fmt="gpkg", places=places, generated_at=WHEN)
    assert result.data[:16] == b"SQLite format 3\x00"
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    assert len(pyogrio.read_dataframe(path)) == len(sample)
    with zipfile.ZipFile(io.BytesIO(result.to_zip())) as archive:
        names = set(archive.namelist())
        assert names == {result.filename, result.manifest_filename, "DATA_DICTIONARY.md"}
        assert json.loads(archive.read(result.manifest_filename))["rows"] == len(sample)


def test_manifest_has_the_data_dictionary(tricky):
    info = manifest(tricky, filters=Filters(), synthetic=False, generated_at=WHEN)
    assert info["rows"] == 3
    assert info["synthetic"] is False
    assert "warning" not in info
    assert info["data_dictionary"] == "data/DATA_DICTIONARY.md"
    columns = {c["name"]: c for c in info["columns"]}
    assert list(columns) == list(COLUMNS)
    assert columns["victims"]["hxl"] == "#affected+abducted"
    assert "People targeted" in columns["victims"]["description"]
    assert "lat" in data_dictionary()
    assert "lon" in data_dictionary()


def test_bad_export_requests(sample, places):
    with pytest.raises(SchemaError, match="unknown export format"):
        export(sample, filters=Filters(), fmt="xls", places=places)
    with pytest.raises(SchemaError, match="CSV exports only"):
        export(sample, filters=Filters(), fmt="geojson", places=places, hxl=True)


def test_cli_export(sample_store, tmp_path, capsys):
    out = tmp_path / "kid.csv"
    code = main(
        ["export", "--store", str(sample_store), "--type", "kidnapping", "attempted_kidnapping",
         "--city", "Matamoros", "--from", "2019-11-01", "--hxl", "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    assert "public view" in capsys.readouterr().out
    back = _read_csv(out.read_bytes(), dtype=str)
    assert back.iloc[0]["date"] == "#date+occurred"
    assert set(back.iloc[1:]["city"]) == {"Matamoros"}
    info = json.loads((tmp_path / "kid.manifest.json").read_text(encoding="utf-8"))
    assert info["rows"] == len(back) - 1
    assert info["filters"]["cities"] == ["Matamoros"]
    assert info["hxl"] is True
    geo = tmp_path / "all.geojson"
    assert main(["export", "--store", str(sample_store), "-o", str(geo)]) == 0
    assert len(gpd.read_file(geo)) == 46


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


def test_an_empty_selection_exports_an_empty_file(sample, places):
    none = Filters(start=dt.date(2001, 1, 1), end=dt.date(2001, 1, 2))
    for fmt in ("csv", "geojson", "gpkg"):
        result = export(sample, filters=none, fmt=fmt, places=places)
        assert result.manifest["rows"] == 0
        assert result.manifest["synthetic"] is False
    assert _read_csv(export(sample, filters=none, fmt="csv", places=places).data).empty


def test_a_narrow_date_filter_cannot_reveal_a_hidden_day(sample, places):
    """Public exports filter the public view, where sexual assaults are dated by month."""
    import datetime as dt

    from riskmap.filters import Filters
    from riskmap.release.privacy import pseudonym, pseudonym_key
    from riskmap.settings import Settings
    from riskmap.views.export import export

    sa = sample[sample["incident_types"].str.contains("sexual_assault")]
    hidden = sa[sa["date"].dt.day != 1].iloc[0]
    day = hidden["date"].date()
    result = export(
        sample, filters=Filters(start=day, end=day), fmt="csv", public=True, places=places
    )
    public_id = pseudonym(hidden["incident_id"], key=pseudonym_key(Settings())).encode()
    assert public_id not in result.data
    month = export(
        sample,
        filters=Filters(start=day.replace(day=1), end=day.replace(day=1)),
        fmt="csv",
        places=places,
    )
    assert public_id in month.data
    assert dt.date(2019, 11, 1) <= day
