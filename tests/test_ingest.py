import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmap.cli import main
from riskmap.errors import InputFileError
from riskmap.ingest import ColumnMapping, guard_formula, import_file, load_mapping, read_table
from riskmap.ingest.dates import DateProblem, guess_dayfirst, parse_date
from riskmap.schema import INCIDENT_TYPES
from riskmap.store import quarantine_path, read_incidents

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2024, 6, 1)

SPANISH_HEADER = "Fecha;Tipo de incidente;Ciudad;Lugar;Víctimas;Menores;Responsable;Fuente;Notas"
SPANISH_ROWS = [
    "20/11/2019;secuestro y extorsión;H. Matamoros;Puente Nuevo;3;1;crimen organizado;ONG;Ñandú",
    "21/11/2019;intento de secuestro;Nuevo Laredo;central de autobuses;2;;policía;ONG;",
    "02/12/2019;Secuestro exprés;Nuevo Laredo;;1;0;Policía Municipal;ONG;",
    "noviembre 2019;violación;Matamoros;;1;0;desconocido;ONG;",
    "3 de diciembre de 2019;robo;Reynosa;una casa en algún lugar;1;;;ONG;",
]


def write(path: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run(tmp_path: Path, source: Path, *args: str, capsys) -> tuple[int, dict, str]:
    code = main(["import", str(source), "--store", str(tmp_path / "s.gpkg"), "--json", *args])
    out = capsys.readouterr()
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["read"] == summary["imported"] + summary["quarantined"] + summary["duplicates"]
    return code, summary, out.err


def quarantined(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


# --- reading files ---------------------------------------------------------------------------


def test_spanish_csv_latin1_semicolons_with_a_title_row(tmp_path, capsys):
    source = write(
        tmp_path / "registro.csv",
        ["Registro de incidentes 2019", "", SPANISH_HEADER, *SPANISH_ROWS],
        encoding="cp1252",
    )
    code, summary, err = run(tmp_path, source, capsys=capsys)
    assert code == 0, err
    assert summary == {
        "read": 5,
        "imported": 5,
        "quarantined": 0,
        "duplicates": 0,
        "quarantine_file": None,
    }
    assert "skipped 1 line(s) above the header" in err
    got = read_incidents(tmp_path / "s.gpkg").set_index("date")
    first = got.loc["2019-11-20"]
    assert first["incident_types"] == "kidnapping|extortion"
    assert first["city"] == "Matamoros"
    assert first["perpetrator"] == "criminal_group"
    assert first["notes"] == "Ñandú"
    assert (first["victims"], first["children"]) == (3, 1)
    assert first["place_id"] == "mat_gateway_bridge"
    assert got.loc["2019-11-21", "incident_types"] == "attempted_kidnapping"
    assert got.loc["2019-12-02", "incident_types"] == "express_kidnapping"
    assert got.loc["2019-12-02", "perpetrator"] == "police"
    month = got.loc["2019-11-01"]
    assert (month["date_precision"], month["incident_types"]) == ("month", "sexual_assault")
    assert got.loc["2019-12-03", "incident_types"] == "robbery"
    assert got["synthetic"].eq(False).all()


def test_english_csv_with_bom_and_month_first_dates(tmp_path, capsys):
    source = write(
        tmp_path / "log.csv",
        [
            "Incident date,Incident type,City,Location,Victims,Children,Perpetrator",
            "11/20/2019,Kidnapping,Matamoros,Gateway Bridge,2,1,Organized crime",
            '"Nov 21, 2019",extortion,Nuevo Laredo,,1,0,unknown',
            "2019-11-22,Attempted kidnapping,Matamoros,,4,2,police",
        ],
        encoding="utf-8-sig",
    )
    code, summary, err = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"]) == (0, 3), err
    dates = sorted(read_incidents(tmp_path / "s.gpkg")["date"].dt.date)
    assert dates == [dt.date(2019, 11, 20), dt.date(2019, 11, 21), dt.date(2019, 11, 22)]


def test_tab_delimited_utf16_from_excel(tmp_path, capsys):
    source = tmp_path / "unicode.txt"
    text = "fecha\ttipo\tciudad\n2019-11-20\tsecuestro\tMatamoros\n2019-11-21\textorsión\tReynosa\n"
    source.write_bytes(text.encode("utf-16"))
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"]) == (0, 2)


def test_ambiguous_dates_follow_the_language_or_the_flag(tmp_path, capsys):
    lines = ["fecha,tipo", "03/04/2020,secuestro"]
    source = write(tmp_path / "a.csv", lines)
    code, _, err = run(tmp_path, source, capsys=capsys)
    assert code == 0
    assert "as day/month/year" in err
    assert read_incidents(tmp_path / "s.gpkg")["date"].iloc[0] == pd.Timestamp("2020-04-03")
    other = tmp_path / "other"
    other.mkdir()
    code, _, _ = run(other, source, "--monthfirst", capsys=capsys)
    assert read_incidents(other / "s.gpkg")["date"].iloc[0] == pd.Timestamp("2020-03-04")


def test_a_column_with_a_day_above_12_decides_the_order(tmp_path, capsys):
    source = write(tmp_path / "a.csv", ["date,type", "03/04/2020,kidnapping", "03/25/2020,robbery"])
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"]) == (0, 2)
    dates = set(read_incidents(tmp_path / "s.gpkg")["date"].dt.date)
    assert dates == {dt.date(2020, 3, 4), dt.date(2020, 3, 25)}


def test_wrong_date_order_flag_quarantines_with_a_hint(tmp_path, capsys):
    source = write(tmp_path / "a.csv", ["fecha,tipo", "25/11/2019,secuestro"])
    code, summary, _ = run(tmp_path, source, "--monthfirst", capsys=capsys)
    assert (code, summary["quarantined"]) == (3, 1)
    reason = quarantined(Path(summary["quarantine_file"]))["quarantine_reason"][0]
    assert "--dayfirst" in reason


def _workbook(path: Path, rows: list[list[object]], *, title: str = "Incidentes") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    notes = book.create_sheet("Notas")
    notes.append(["Este libro fue preparado por el equipo"])
    book.save(path)
    return path


def test_spanish_xlsx(tmp_path, capsys):
    source = _workbook(
        tmp_path / "registro.xlsx",
        [
            ["Fecha", "Tipo", "Ciudad", "Ubicación", "Víctimas", "Niños", "Perpetrador", "Folio"],
            [
                dt.datetime(2019, 11, 20),
                "Secuestro",
                "Matamoros",
                "Puente Nuevo",
                3,
                1,
                "Policía",
                "A1",
            ],
            ["2019-11", "extorsión", "Nuevo Laredo", None, 1, 0, None, "A2"],
            [dt.datetime(2019, 11, 22), "volcadura", "Reynosa", None, 1, 0, None, "A3"],
            [None, None, None, None, None, None, None, None],
            [dt.datetime(2019, 11, 23), "robo", "Reynosa", None, -1, 0, None, "A4"],
        ],
    )
    code, summary, err = run(tmp_path, source, capsys=capsys)
    assert code == 3
    assert summary["read"] == 4  # the blank row is not a row
    assert (summary["imported"], summary["quarantined"]) == (2, 2)
    assert "sheet(s) 'Notas' ignored" in err
    q = quarantined(Path(summary["quarantine_file"]))
    assert list(q["quarantine_line"]) == ["4", "6"]  # workbook row numbers
    assert "'volcadura' is not known" in q["quarantine_reason"][0]
    assert all(t in q["quarantine_reason"][0] for t in INCIDENT_TYPES)
    assert "negative" in q["quarantine_reason"][1]
    assert list(q.columns[2:]) == [
        "Fecha", "Tipo", "Ciudad", "Ubicación", "Víctimas", "Niños", "Perpetrador", "Folio"
    ]  # fmt: skip
    assert q["Fecha"][0].startswith("2019-11-22")
    got = read_incidents(tmp_path / "s.gpkg").set_index("incident_id")
    assert got.loc["A1", "perpetrator"] == "police"
    assert got.loc["A2", "date_precision"] == "month"


def test_xlsx_zip_bomb_is_refused(tmp_path, capsys):
    bomb = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as member,
    ):
        for _ in range(24):
            member.write(b"\0" * 2**20)
    code = main(["import", str(bomb), "--store", str(tmp_path / "s.gpkg")])
    err = capsys.readouterr().err
    assert code == 2
    assert "absurd size" in err
    assert "bomb.xlsx" in err
    assert not (tmp_path / "s.gpkg").exists()


def test_geojson_points_null_geometries_and_polygons(tmp_path, capsys):
    features = [
        {
            "type": "Feature",
            "properties": {"id": "G1", "fecha": "2019-11-20", "tipo": "secuestro"},
            "geometry": {"type": "Point", "coordinates": [-97.497222, 25.898333]},
        },
        {
            "type": "Feature",
            "properties": {
                "id": "G2",
                "fecha": "2019-11-21",
                "tipo": "robo",
                "ciudad": "Matamoros",
            },
            "geometry": None,
        },
        {
            "type": "Feature",
            "properties": {"id": "G3", "fecha": "2019-11-22", "tipo": "robo"},
            "geometry": {"type": "Polygon", "coordinates": [[[-97, 25], [-97, 26], [-98, 25]]]},
        },
        {
            "type": "Feature",
            "properties": {"id": "G4", "fecha": "2019-11-23", "tipo": "robo"},
            "geometry": {"type": "Point", "coordinates": [25.9, -97.5]},
        },
    ]
    source = tmp_path / "points.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"], summary["quarantined"]) == (3, 2, 2)
    got = read_incidents(tmp_path / "s.gpkg").set_index("incident_id")
    assert got.loc["G1", "place_id"] == "mat_gateway_bridge"
    assert got.loc["G2", "geo_precision"] == "city"
    q = quarantined(Path(summary["quarantine_file"]))
    assert "Polygon" in q["quarantine_reason"][0]
    assert "swapped" in q["quarantine_reason"][1]
    assert json.loads(q["geometry"][0])["type"] == "Polygon"


# --- whole files that cannot be imported -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\r\n \r\n", "empty"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", "damaged"),
        ("fake.xlsx", b"fecha,tipo\n2019-11-20,secuestro\n", "not an Excel workbook"),
        ("nodate.csv", b"tipo,ciudad\nsecuestro,Matamoros\n", "no column for a date"),
        ("notype.csv", b"fecha,ciudad\n2019-11-20,Matamoros\n", "no column for a type"),
        ("bad.geojson", b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
        ("list.geojson", b'{"type": "Polygon", "coordinates": []}', "not a GeoJSON"),
        (
            "utm.geojson",
            b'{"type": "FeatureCollection", "features": [], "crs": {"type": "name", '
            b'"properties": {"name": "urn:ogc:def:crs:EPSG::32614"}}}',
            "reproject",
        ),
    ],
)
def test_unusable_files_exit_2_with_one_line(tmp_path, capsys, name, content, expected):
    source = tmp_path / name
    source.write_bytes(content)
    code = main(["import", str(source), "--store", str(tmp_path / "s.gpkg"), "--json"])
    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    assert len(out.err.strip().splitlines()) == 1
    assert name in out.err
    assert expected in out.err
    assert not (tmp_path / "s.gpkg").exists()


def test_missing_file_and_header_only_file(tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.csv"), "--store", str(tmp_path / "s.gpkg")]) == 2
    assert "no such file" in capsys.readouterr().err
    source = write(tmp_path / "h.csv", ["fecha,tipo,ciudad"])
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["read"]) == (0, 0)


def test_no_traceback_from_the_console_script(tmp_path):
    source = tmp_path / "x.csv"
    source.write_bytes(b"\x00\x01\x02binary")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "riskmap.cli",
            "import",
            str(source),
            "--store",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("riskmap import: error:")


# --- rows that cannot be imported ---------------------------------------------------------

BAD_ROWS = [
    ("31/02/2020,secuestro,,,,,", "does not exist"),
    ("01/01/2031,secuestro,,,,,", "in the future"),
    ("01/01/1990,secuestro,,,,,", "before 2000"),
    ("ayer,secuestro,,,,,", "cannot read 'ayer' as a date"),
    (",secuestro,,,,,", "no date"),
    ("2019,secuestro,,,,,", "only a year"),
    ("20/11/2019,abducción alienígena,,,,,", "valid types: kidnapping, attempted_kidnapping"),
    ("20/11/2019,,,,,,", "no incident type"),
    ("20/11/2019,secuestro,-2,,,,", "cannot be negative"),
    ("20/11/2019,secuestro,1.5,,,,", "not a whole number"),
    ("20/11/2019,secuestro,1,3,,,", "children (3) is more than victims (1)"),
    ("20/11/2019,secuestro,,2,,,", "victims is empty"),
    ("20/11/2019,secuestro,1,0,-97.5,25.88,", "look swapped"),
    ("20/11/2019,secuestro,1,0,25.88,97.5,", "lacks its minus sign"),
    ("20/11/2019,secuestro,1,0,19.43,-99.13,", "outside the study area"),
    ("20/11/2019,secuestro,1,0,125.88,-297.5,", "out of range"),
    ("20/11/2019,secuestro,1,0,25.88,,", "lon is empty"),
    ("20/11/2019,secuestro,1,0,norte,oeste,", "not decimal degrees"),
    ("20/11/2019,secuestro,1,0,,,los marcianos", "perpetrator 'los marcianos' is not known"),
    ("20/11/2019,secuestro,1,0,,,,extra", "the line has 8 cells but the header has 7"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_each_bad_row_is_quarantined_with_its_reason(tmp_path, capsys, row, reason):
    header = "fecha,tipo,victimas,menores,lat,lon,responsable"
    good = "21/11/2019,robo,1,0,25.88,-97.5,policía"
    source = write(tmp_path / "in.csv", [header, good, row, good.replace("21/", "22/")])
    code, summary, err = (
        run(tmp_path, source, capsys=capsys, today=None)
        if False
        else run(tmp_path, source, capsys=capsys)
    )
    assert code == 3
    assert (summary["read"], summary["imported"], summary["quarantined"]) == (3, 2, 1)
    q = quarantined(Path(summary["quarantine_file"]))
    assert list(q["quarantine_line"]) == ["3"]
    assert reason in q["quarantine_reason"][0]
    assert "line 3: " in err
    assert reason in err
    # The original cells are kept as written.
    cells = [guard_formula(c) for c in next(csv.reader([row]))[:7]]
    assert list(q.iloc[0, 2:]) == cells + [""] * (7 - len(cells))


def test_every_problem_of_a_row_is_reported_at_once(tmp_path, capsys):
    source = write(tmp_path / "in.csv", ["fecha,tipo,victimas", "31/02/2020,abducción,-1"])
    _, summary, _ = run(tmp_path, source, capsys=capsys)
    reason = quarantined(Path(summary["quarantine_file"]))["quarantine_reason"][0]
    assert "does not exist" in reason
    assert "not known" in reason
    assert "negative" in reason


def test_oversized_text_is_quarantined(tmp_path, capsys):
    source = write(tmp_path / "in.csv", ["fecha,tipo,notas", f"20/11/2019,robo,{'x' * 6000}"])
    _, summary, _ = run(tmp_path, source, capsys=capsys)
    reason = quarantined(Path(summary["quarantine_file"]))["quarantine_reason"][0]
    assert "notes is 6000 characters long (at most 5000)" in reason


def test_an_unclosed_quote_quarantines_the_lines_it_swallows(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv",
        [
            "fecha,tipo,notas,ciudad",
            '20/11/2019,robo,"bien,Matamoros',
            "21/11/2019,robo,nada,Matamoros",
            "22/11/2019,robo,nada,Matamoros",
        ],
    )
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["read"], summary["quarantined"]) == (3, 1, 1)
    reason = quarantined(Path(summary["quarantine_file"]))["quarantine_reason"][0]
    assert "lines 2-4 run together" in reason


def test_unknown_columns_are_dropped_with_a_warning(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv", ["fecha,tipo,Nombre de la víctima,Teléfono", "20/11/2019,robo,Ana,555"]
    )
    code, summary, err = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"]) == (0, 1)
    assert "ignored column(s)" in err
    assert "'Nombre de la víctima'" in err
    assert "Ana" not in read_incidents(tmp_path / "s.gpkg").astype(str).to_numpy().ravel()


def test_unresolved_places_are_stored_without_a_point(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv", ["fecha,tipo,lugar", "20/11/2019,robo,una casa en algún lugar"]
    )
    run(tmp_path, source, capsys=capsys)
    got = read_incidents(tmp_path / "s.gpkg").iloc[0]
    assert got["geo_precision"] == "unresolved"
    assert pd.isna(got["lat"])
    assert got.geometry is None


def test_a_place_without_a_point_is_stored_with_its_place_and_no_point(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv",
        [
            "fecha,tipo,ciudad,lugar",
            "20/11/2019,robo,Nuevo Laredo,afuera de la central camionera",
            "21/11/2019,robo,Nuevo Laredo,cerca de la Casa Nazareth",
            "22/11/2019,robo,Nuevo Laredo,Puente 2",
        ],
    )
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["imported"]) == (0, 3)
    got = read_incidents(tmp_path / "s.gpkg").set_index("place_id")
    # Not unresolved: the place is known, only its point is not.
    assert got.at["nld_bus_terminal", "geo_precision"] == "site"
    assert got.at["nld_bus_terminal", "place_type"] == "bus_terminal"
    assert pd.isna(got.at["nld_bus_terminal", "lat"])
    assert got.loc["nld_bus_terminal"].geometry is None
    assert got.at["nld_casa_nazareth", "geo_precision"] == "neighborhood"
    assert pd.isna(got.at["nld_casa_nazareth", "lon"])
    assert got.at["nld_bridge_2", "lat"] == pytest.approx(27.500216)


def test_the_gazetteer_kind_of_place_wins_and_unknown_cities_are_reported(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv",
        [
            "date,incident_types,city,lat,lon,geo_precision,place_id,place_type",
            "2019-12-02,kidnapping,Matamoros,25.8985,-97.4966,site,mat_camp,port_of_entry",
            "2019-12-03,robbery,Casa de Juan,25.8797,-97.5042,city,,city",
        ],
    )
    code, summary, err = run(tmp_path, source, capsys=capsys)
    assert code == 0
    assert summary["imported"] == 2
    assert "line 2: place_type 'port_of_entry' disagrees with the gazetteer's 'camp'" in err
    assert "line 3: city 'Casa de Juan' is not a gazetteer city" in err
    stored = read_incidents(tmp_path / "s.gpkg").set_index("place_id", drop=False)
    assert stored.loc["mat_camp", "place_type"] == "camp"


# --- nothing lost, nothing silently changed -----------------------------------------------


def test_reimporting_adds_nothing_with_ids_and_without(tmp_path, capsys):
    for name, header, rows in (
        ("with_ids.csv", "id,fecha,tipo", ["A,20/11/2019,robo", "B,21/11/2019,secuestro"]),
        ("no_ids.csv", "fecha,tipo", ["20/11/2019,robo", "21/11/2019,secuestro"]),
    ):
        source = write(tmp_path / name, [header, *rows])
        store = tmp_path / f"{name}.gpkg"
        for expected in ({"imported": 2, "duplicates": 0}, {"imported": 0, "duplicates": 2}):
            code = main(["import", str(source), "--store", str(store), "--json"])
            summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
            assert code == 0
            assert {k: summary[k] for k in expected} == expected
            before = hashlib.sha256(store.read_bytes()).hexdigest()
        assert hashlib.sha256(store.read_bytes()).hexdigest() == before
        assert len(read_incidents(store)) == 2


def test_the_same_rows_in_another_format_are_duplicates(tmp_path, capsys):
    csv_file = write(tmp_path / "a.csv", ["fecha,tipo,victimas", "20/11/2019,secuestro,2"])
    xlsx_file = _workbook(
        tmp_path / "b.xlsx",
        [["Fecha", "Tipo", "Víctimas"], [dt.datetime(2019, 11, 20), "secuestro", 2]],
    )
    run(tmp_path, csv_file, capsys=capsys)
    _, summary, _ = run(tmp_path, xlsx_file, capsys=capsys)
    assert (summary["imported"], summary["duplicates"]) == (0, 1)


def test_an_id_with_different_content_is_a_conflict_not_an_overwrite(tmp_path, capsys):
    first = write(tmp_path / "a.csv", ["id,fecha,tipo,notas", "A,20/11/2019,robo,uno"])
    run(tmp_path, first, capsys=capsys)
    second = write(
        tmp_path / "b.csv",
        [
            "id,fecha,tipo,notas",
            "A,20/11/2019,robo,dos",
            "B,21/11/2019,robo,x",
            "B,21/11/2019,robo,y",
        ],
    )
    code, summary, _ = run(tmp_path, second, capsys=capsys)
    assert (code, summary["imported"], summary["quarantined"]) == (3, 1, 2)
    q = quarantined(Path(summary["quarantine_file"]))
    assert (
        "conflict: incident_id 'A' is already in the store with a different notes"
        in (q["quarantine_reason"][0])
    )
    assert "earlier in this file" in q["quarantine_reason"][1]
    got = read_incidents(tmp_path / "s.gpkg").set_index("incident_id")
    assert (got.loc["A", "notes"], got.loc["B", "notes"]) == ("uno", "x")


def test_quarantine_file_can_be_fixed_and_imported_again(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv",
        ["fecha,tipo,notas", "20/11/2019,abducción,=1+1", "21/11/2019,robo,-ok"],
    )
    _, summary, _ = run(tmp_path, source, capsys=capsys)
    qfile = Path(summary["quarantine_file"])
    assert qfile == quarantine_path(tmp_path / "s.gpkg", source)
    raw = qfile.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b",'=1+1" in raw  # a spreadsheet must not run it
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes(raw.replace("abducción".encode(), b"secuestro"))
    code, summary2, err = run(tmp_path, fixed, capsys=capsys)
    assert (code, summary2["imported"]) == (0, 1)
    assert "ignored column" not in err  # the quarantine columns are known
    notes = set(read_incidents(tmp_path / "s.gpkg")["notes"])
    assert notes == {"=1+1", "-ok"}  # stored as written, the guard taken off again
    # Importing the fixed source again leaves no stale quarantine file for it.
    source.write_text("fecha,tipo\n20/11/2019,robo\n", encoding="utf-8")
    run(tmp_path, source, capsys=capsys)
    assert not qfile.exists()


def test_mapping_file_for_headers_and_values(tmp_path, capsys):
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {"Día del hecho": "date", "Qué pasó": "incident_types", "Nombre": None},
                "values": {
                    "incident_types": {"levantón y cobro": "kidnapping"},
                    "perpetrator": {"Los de la camioneta": "criminal_group"},
                },
                "dayfirst": False,
            }
        ),
        encoding="utf-8",
    )
    source = write(
        tmp_path / "in.csv",
        [
            "Día del hecho,Qué pasó,Nombre,Responsable",
            "11/20/2019,Levantón y cobro,Ana,Los de la camioneta",
        ],
    )
    code, summary, err = run(tmp_path, source, "--mapping", str(mapping), capsys=capsys)
    assert (code, summary["imported"]) == (0, 1), err
    assert "ignored column" not in err
    got = read_incidents(tmp_path / "s.gpkg").iloc[0]
    assert (got["incident_types"], got["perpetrator"]) == ("kidnapping", "criminal_group")
    assert got["date"] == pd.Timestamp("2019-11-20")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a readable JSON"),
        ('{"columns": {"Fecha": "when"}}', "'when', which is not a column"),
        ('{"values": {"incident_types": {"x": "alien"}}}', "not one of"),
        ('{"values": {"notes": {"x": "y"}}}', "not 'notes'"),
        ('{"dayfirst": "yes"}', "dayfirst must be"),
    ],
)
def test_bad_mapping_files(tmp_path, content, expected):
    mapping = tmp_path / "map.json"
    mapping.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=expected):
        load_mapping(mapping)


def test_flat_mapping_and_read_table(tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text('{"Cuándo": "date", "Qué": "incident_types"}', encoding="utf-8")
    source = write(tmp_path / "in.csv", ["Cuándo;Qué;Ciudad", "2019-11-20;robo;Matamoros"])
    table, assigned = read_table(source, mapping=load_mapping(mapping))
    assert assigned == {"Cuándo": "date", "Qué": "incident_types", "Ciudad": "city"}
    assert (table.delimiter, table.encoding, table.lines) == (";", "utf-8", [2])


def test_progress_is_reported(tmp_path):
    rows = [f"2019-11-{1 + i % 28:02d},robo,{i}" for i in range(1200)]
    source = write(tmp_path / "big.csv", ["fecha,tipo,id", *rows])
    calls = []
    report = import_file(
        source, store=tmp_path / "s.gpkg", progress=lambda done, total: calls.append(done)
    )
    assert report.imported == 1200
    assert calls[0] == 0
    assert calls[-1] == 1200
    assert len(calls) >= 3


def test_sample_imports_unchanged(tmp_path, capsys):
    sample_csv = ROOT / "riskmap" / "data" / "sample_incidents.csv"
    code, summary, err = run(tmp_path, sample_csv, capsys=capsys)
    assert code == 0, err
    assert summary["imported"] == summary["read"] == 46
    stored = read_incidents(tmp_path / "s.gpkg").drop(columns="geometry")
    from riskmap.schema import conform

    assert set(stored.pop("status")) == {"in_review"}  # imported rows wait for review
    pd.testing.assert_frame_equal(stored, conform(pd.read_csv(sample_csv)))


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day", "precision"),
    [
        ("2019-11-20", "2019-11-20", "day"),
        ("2019-11-20T22:15:00", "2019-11-20", "day"),
        ("2019/11/20 10:30", "2019-11-20", "day"),
        ("20191120", "2019-11-20", "day"),
        ("20/11/2019", "2019-11-20", "day"),
        ("20-11-19", "2019-11-20", "day"),
        ("20.11.2019", "2019-11-20", "day"),
        ("Nov 20, 2019", "2019-11-20", "day"),
        ("November 20th, 2019", "2019-11-20", "day"),
        ("Wednesday, November 20, 2019", "2019-11-20", "day"),
        ("20 de noviembre de 2019", "2019-11-20", "day"),
        ("miércoles 20-nov-19", "2019-11-20", "day"),
        ("1ro de diciembre del 2019", "2019-12-01", "day"),
        ("43789", "2019-11-20", "day"),
        ("noviembre 2019", "2019-11-01", "month"),
        ("Nov. 2019", "2019-11-01", "month"),
        ("2019-11", "2019-11-01", "month"),
        ("11/2019", "2019-11-01", "month"),
        (dt.datetime(2019, 11, 20, 8), "2019-11-20", "day"),
    ],
)
def test_dates_as_written(text, day, precision):
    assert parse_date(text, today=TODAY) == (dt.date.fromisoformat(day), precision)


@pytest.mark.parametrize(
    "text", ["29/02/2019", "2019-13-01", "2025-01-01", "hace dos días", "", "20 nov", "12.5"]
)
def test_impossible_dates(text):
    with pytest.raises(DateProblem):
        parse_date(text, today=TODAY)


def test_guess_dayfirst():
    assert guess_dayfirst(["03/04/2020", "25/04/2020"]) is True
    assert guess_dayfirst(["03/04/2020", "04/25/2020"]) is False
    assert guess_dayfirst(["03/04/2020", "2020-01-01"]) is None
    assert guess_dayfirst(["13/04/2020", "04/25/2020"]) is None
    # Each distinct date decides once; a column with an unhashable cell is still read.
    assert guess_dayfirst(["03/04/2020"] * 1000 + ["25/04/2020"]) is True
    assert guess_dayfirst([["25/04/2020"], "04/25/2020", None, 43789.0]) is False


# --- the invariant ------------------------------------------------------------------------

_CELLS = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["", "A", "B", "C"]),
        "fecha": st.sampled_from(["20/11/2019", "2019-11-21", "31/02/2020", "", "2099-01-01"]),
        "tipo": st.sampled_from(["secuestro", "robo|extorsión", "alien", ""]),
        "victimas": st.sampled_from(["", "1", "2", "-1", "x"]),
        "menores": st.sampled_from(["", "0", "1", "3"]),
        "notas": st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(_CELLS, max_size=6), min_size=1, max_size=3))
def test_every_row_is_imported_quarantined_or_a_duplicate(tmp_path_factory, batches):
    folder = tmp_path_factory.mktemp("prop")
    store = folder / "s.gpkg"
    total_imported = 0
    for k, rows in enumerate(batches):
        source = folder / f"batch{k}.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(_CELLS_KEYS))
            writer.writeheader()
            writer.writerows(rows)
        report = import_file(source, store=store, today=TODAY, mapping=ColumnMapping())
        blank = sum(not any(str(v).strip() for v in r.values()) for r in rows)
        assert report.read == len(rows) - blank
        assert report.read == report.imported + report.quarantined + report.duplicates
        assert len(report.rejected) == report.quarantined
        if report.quarantined:
            assert len(quarantined(report.quarantine_file)) == report.quarantined
        total_imported += report.imported
        stored = read_incidents(store) if store.exists() else []
        assert len(stored) == total_imported


_CELLS_KEYS = ("id", "fecha", "tipo", "victimas", "menores", "notas")


def test_xml_entity_bomb_in_a_workbook_is_refused(tmp_path, capsys):
    good = _workbook(tmp_path / "ok.xlsx", [["fecha", "tipo"], ["2019-11-20", "robo"]])
    bomb = tmp_path / "laughs.xlsx"
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = lol.encode()
            dst.writestr(info, data)
    assert main(["import", str(bomb), "--store", str(tmp_path / "s.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "laughs.xlsx: not a readable Excel workbook" in err
    assert len(err.strip().splitlines()) == 1


def test_absurd_counts_are_quarantined_not_fatal(tmp_path, capsys):
    source = write(
        tmp_path / "in.csv",
        ["fecha,tipo,victimas", "20/11/2019,robo,99999999999999999999999", "21/11/2019,robo,1,000"],
    )
    code, summary, _ = run(tmp_path, source, capsys=capsys)
    assert (code, summary["quarantined"], summary["imported"]) == (3, 2, 0)
    reasons = list(quarantined(Path(summary["quarantine_file"]))["quarantine_reason"])
    assert "more than 10000 people" in reasons[0]
    assert "the line has 4 cells" in reasons[1]


# --- each distinct cell checked once ------------------------------------------------------

_ROW_CELLS = st.fixed_dictionaries(
    {
        "date": st.sampled_from(["20/11/2019", "2019-11", "", "43789", 43789.0, 0.0, -0.0, 1]),
        "date_precision": st.sampled_from(["", "month", "year", None]),
        "incident_types": st.sampled_from(["secuestro", "robo|alien", "", 1, 1.0, True]),
        "victims": st.sampled_from(["", "2", "dos", 1, 1.0, True, -0.0, 2.5, "-1"]),
        "children": st.sampled_from(["", "1", 3, 0.0]),
        "lat": st.sampled_from(["", "25.87", "-97.5", "N 25.87", 25.87, "s d", "1e1"]),
        "lon": st.sampled_from(["", "-97.5", "97,5 O", -97.5, "x"]),
        "coordinates": st.sampled_from(["", "25.87, -97.5", "a;b"]),
        "city": st.sampled_from(["", "H. Matamoros", "Gotham", "na", 5, 5.0]),
        "synthetic": st.sampled_from(["", "sí", "maybe", True, 1, 1.0, 0.0]),
    }
)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_ROW_CELLS, min_size=1, max_size=12))
def test_a_cell_checked_before_gives_the_same_result(rows):
    # Results are reused for equal cells under one RowRules: a warm RowRules must answer every
    # row as a fresh one does, and 1, 1.0, True, 0.0 and -0.0 must not be taken for one another.
    from riskmap.ingest.rows import RowRules, clean_row

    warm = RowRules(today=TODAY)
    for row in [*rows, *reversed(rows)]:
        fresh = clean_row(row, RowRules(today=TODAY))
        again = clean_row(row, warm)
        assert list(again[0].items()) == list(fresh[0].items())
        assert [type(v) for v in again[0].values()] == [type(v) for v in fresh[0].values()]
        assert again[1] == fresh[1]


def test_cells_equal_in_python_but_shown_differently_are_told_apart():
    from riskmap.ingest.rows import RowRules, clean_row

    rules = RowRules(today=TODAY)
    minus, plus = clean_row({"date": -0.0}, rules)[1], clean_row({"date": 0.0}, rules)[1]
    assert "-0.0" in minus[0]
    assert "-0.0" not in plus[0]
    assert clean_row({"victims": True}, rules)[1] != clean_row({"victims": 1}, rules)[1]


def test_no_empty_value_has_a_digit():
    # rows._blank skips the key of a text with a digit: no empty value may have one.
    from riskmap.ingest.synonyms import EMPTY_VALUES

    assert not [v for v in EMPTY_VALUES if any(c.isdigit() for c in v)]


# --- the column-wise checker gives each row what the row checker gives it ------------------


def _columns_agree_with_rows(rows: list[dict[str, object]]) -> None:
    from riskmap.ingest.rows import RowRules, clean_columns, clean_row

    names = list(dict.fromkeys(c for r in rows for c in r))
    cells = {c: [r.get(c) for r in rows] for c in names}
    values, problems = clean_columns(cells, RowRules(today=TODAY), rows=len(rows))
    for i, row in enumerate(rows):
        expected, found = clean_row({c: row.get(c) for c in names}, RowRules(today=TODAY))
        assert problems.get(i, []) == found, (row, found)
        if not found:
            got = {c: values[c][i] for c in expected}
            assert list(values) == list(expected)
            assert list(got.items()) == list(expected.items())
            assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_ROW_CELLS, min_size=1, max_size=25))
def test_checking_columns_gives_each_row_what_checking_rows_gives(rows):
    _columns_agree_with_rows(rows)


def test_checking_columns_of_the_messy_rows_gives_the_row_checks_messages():
    # Every bad row of this file and the Spanish sample, read as a CSV reads them (text cells),
    # with the plain-degree fast path next to coordinates it must not take.
    header = ["date", "incident_types", "victims", "children", "lat", "lon", "perpetrator"]
    lines = [row for row, _ in BAD_ROWS] + ["21/11/2019,robo,1,0, 25.88 ,-97.5,policía"]
    rows = [dict(zip(header, next(csv.reader([line])), strict=False)) for line in lines]
    spanish = ["date", "incident_types", "city", "location_text", "victims", "children"]
    spanish += ["perpetrator", "source", "notes"]
    rows += [dict(zip(spanish, line.split(";"), strict=True)) for line in SPANISH_ROWS]
    rows += [{"incident_id": "na", "notes": "'=1+1", "place_id": "", "synthetic": "maybe"}]
    rows += [{"date": "20/11/2019", "incident_types": "robo", "coordinates": "25.88, -97.5"}]
    rows += [{"date": "20/11/2019", "incident_types": "robo", "notes": "x" * 5001}]
    _columns_agree_with_rows(rows)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True),
            st.from_regex(r"\s*-?[0-9]{1,4}[.,]?[0-9]{0,6}\s*", fullmatch=True),
            st.sampled_from(["", " ", "-0", "+1", ".5", "1.", "1e5", "٣", "\u00a025.1", "x"]),
            st.text(max_size=8),
        ),
        max_size=30,
    )
)
def test_plain_degrees_are_read_as_float_reads_them(cells):
    import math

    import numpy as np

    from riskmap.ingest.rows import _PLAIN_NUMBER, _plain_degrees

    expected = [float(t) if _PLAIN_NUMBER.fullmatch(t := c.strip()) else math.nan for c in cells]
    got = _plain_degrees(cells)
    # Bit for bit: the same floats, -0.0 apart from 0.0, NaN where a cell is not plain.
    assert got.tobytes() == np.array(expected, dtype=float).tobytes()


_TEXT_CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "X-1", " X-1", "X-1\u3000", "\u2028", "'=1", "'X-2", "a\x00b", "\x00", "na"]
        + ["n/a", "N/A 1", "x" * 101, "9" * 101, "y" * 5001, "ñandú 3", "\x1c7", "7\x85"]
        + ["\ud800 1", "1\u200b", "\u180e2"]
    ),
    st.text(alphabet=st.sampled_from(list(" \t\u00a0\u3000\x1f'x0\x00é")), max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "incident_id": _TEXT_CELLS,
                "notes": _TEXT_CELLS,
                "date": st.just("20/11/2019"),
                "incident_types": st.just("robo"),
            }
        ),
        min_size=1,
        max_size=25,
    )
)
def test_text_cells_taken_as_they_stand_get_what_the_row_check_gives(rows):
    # Columns of text cells that are mostly distinct (ids, notes) are sorted out with pyarrow:
    # a cell it takes as it stands must be exactly what the row check makes of it.
    _columns_agree_with_rows(rows)


def test_the_whitespace_pyarrow_looks_for_is_what_strip_takes_off():
    from riskmap.ingest.rows import _WHITESPACE

    assert sorted(_WHITESPACE) == [c for c in map(chr, range(0x110000)) if c.isspace()]
