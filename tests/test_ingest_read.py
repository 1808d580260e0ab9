"""The two CSV readers of :mod:`riskmap.ingest.read` give the same table, cell for cell.

A plain CSV (one record per line, as wide as its header, standard quoting) is read column by
column with pyarrow; every other file record by record with :mod:`csv`. Each file here is read
both ways (the pyarrow reader switched off for the second), and everything the rest of the
import sees must be equal: cells and their types, line numbers, problems, warnings, encoding,
delimiter; then whole imports (report, quarantine file, stored rows).
"""

import dataclasses
import datetime as dt
import random
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from riskmap.errors import InputFileError
from riskmap.ingest import import_file
from riskmap.ingest import read as reader
from riskmap.ingest.synonyms import HEADER_SYNONYMS, key

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2024, 6, 1)
SHIPPED = sorted(
    [*(ROOT / "riskmap" / "data").glob("*.csv"), *(ROOT / "tests" / "data").glob("*.csv")]
)

HEADER = ["incident_id", "fecha", "tipo", "ciudad", "lugar", "lat", "lon", "víctimas", "notas"]
# Cells that both readers take as they are, and cells that only the csv module reads right.
PLAIN_CELLS = [
    "",
    "robo",
    "secuestro y extorsión",
    "Matamoros",
    "H. Matamoros",
    "Nuevo Laredo",
    "Ñandú ‘comillas’ 🙂",
    "  espacios  ",
    " ",
    "\u00a0",
    "\t",
    '"entre comillas"',
    '"a, b"',
    '"dice ""hola"""',
    '""',
    '"=1+2"',
    "'=SUM(A1)",
    "25.87",
    "-97.50",
    "3",
    "20/11/2019",
    "2019-11-20",
]
ODD_CELLS = ['ab"c', '"a"b', ' "a"', '"dos\nlíneas"', '"sin cerrar']
TYPES = ["robo", "secuestro", "extorsión", "violación", "nada"]


def _recognise(header: str) -> str | None:
    return HEADER_SYNONYMS.get(key(header))


def _cell(rng: random.Random, *, odd: bool) -> str:
    pool = PLAIN_CELLS + (ODD_CELLS if odd else [])
    return rng.choice(pool)


def _messy(rng: random.Random, *, odd: bool) -> tuple[str, str, str]:
    """Return (text, delimiter, newline) of a random incident CSV, plain unless ``odd``."""
    delimiter = rng.choice([",", ";", "\t"])
    newline = rng.choice(["\n", "\r\n"] + (["\r"] if odd else []))
    width = len(HEADER) + rng.choice([0, 0, 1])  # sometimes an unnamed trailing column
    lines = []
    if rng.random() < 0.3:
        lines.append(delimiter.join(["Registro de incidentes"] + [""] * (width - 1)))
    lines.append(delimiter.join(HEADER + [""] * (width - len(HEADER))))
    for n in range(rng.randint(0, 40)):
        cells = [
            f"X-{n}" if rng.random() < 0.8 else "",
            rng.choice(["20/11/2019", "2019-11-21", "noviembre 2019", "", "31/02/2019"]),
            rng.choice(TYPES),
            *(_cell(rng, odd=odd) for _ in range(width - 3)),
        ]
        if rng.random() < 0.6:  # a row that can be imported, but for its type or date
            cells[5:8] = [f"{25.8 + rng.random():.5f}", f"{-97.9 + rng.random():.5f}", "2"]
        cells = [c.replace(delimiter, " ") if not c.startswith('"') else c for c in cells]
        if rng.random() < 0.05:
            cells = [""] * width  # a row of delimiters only
        if odd and rng.random() < 0.1:
            cells = cells[: rng.randint(1, width)] + (["extra"] if rng.random() < 0.5 else [])
        lines.append(delimiter.join(cells))
        if odd and rng.random() < 0.05:
            lines.append(rng.choice(["", "   "]))
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    return text, delimiter, newline


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """Read ``path`` as the import does, then again with the csv module only."""
    results = []
    for columns in (True, False):
        with monkeypatch.context() as patch:
            if not columns:
                patch.setattr(reader, "_read_csv_columns", lambda *a, **k: None)
            try:
                results.append(reader.read_raw(path, recognise=_recognise))
            except Exception as e:  # the same error both ways
                results.append((type(e), str(e)))
    return results[0], results[1]


def _assert_same(fast: object, slow: object) -> None:
    if isinstance(slow, tuple):
        assert fast == slow
        return
    assert isinstance(fast, reader.RawTable)
    assert isinstance(slow, reader.RawTable)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    cells = fast.frame.to_numpy(dtype=object).ravel().tolist()
    assert [type(c) for c in cells] == [
        type(c) for c in slow.frame.to_numpy(dtype=object).ravel().tolist()
    ]
    for f in dataclasses.fields(reader.RawTable):
        if f.name != "frame":
            assert getattr(fast, f.name) == getattr(slow, f.name), f.name


def _plain(path: Path) -> bool:
    """Tell whether the pyarrow reader takes the file."""
    text, _ = reader._decode(path, path.read_bytes())
    delimiter = reader._sniff(text)
    return (
        reader._read_csv_columns(path, text, delimiter=delimiter, recognise=_recognise) is not None
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_csv_files_read_the_same_both_ways(path, monkeypatch):
    assert _plain(path)
    _assert_same(*_both(path, monkeypatch))


@pytest.mark.parametrize("odd", [False, True], ids=["plain", "odd"])
def test_generated_messy_files_read_the_same_both_ways(tmp_path, monkeypatch, odd):
    rng = random.Random(42 + odd)
    taken = 0
    for k in range(120):
        text, _, _ = _messy(rng, odd=odd)
        encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252", "utf-16"])
        path = tmp_path / f"f{k}.csv"
        try:
            path.write_bytes(text.encode(encoding))
        except UnicodeEncodeError:  # an emoji in Windows-1252
            path.write_bytes(text.encode("utf-8"))
        taken += _plain(path)
        _assert_same(*_both(path, monkeypatch))
    # Both readers were compared: plain files go through pyarrow, most odd ones do not.
    assert taken > 100 if not odd else taken < 60


@pytest.mark.parametrize(
    "text",
    [
        'fecha,tipo,notas\r\n20/11/2019,robo,"a\r\nb"\r\n',  # a record over two lines
        'fecha,tipo,notas\n20/11/2019,robo,"bien\n21/11/2019,robo,nada\n',  # unclosed quote
        "fecha,tipo,notas\n\n20/11/2019,robo,nada\n",  # a blank line
        "fecha,tipo,notas\r20/11/2019,robo,nada\r",  # old Mac line ends
        "fecha,tipo\n20/11/2019,robo,de más\n",  # a ragged row
        "\ufeff\ufefffecha,tipo\n20/11/2019,robo\n",  # a second byte-order mark
        'fecha,tipo,notas\n20/11/2019,robo,a"b\n',  # a quotation mark inside a field
        'fecha,tipo,notas\n20/11/2019,robo,"a"b\n',  # text after a closing quotation mark
    ],
)
def test_files_that_are_not_plain_are_read_by_the_csv_module(tmp_path, monkeypatch, text):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert not _plain(path)
    _assert_same(*_both(path, monkeypatch))


def _plain_by_lines(text: str, delimiter: str) -> bool:
    """Tell whether a CSV is plain as the reader first told it: line by line, with a regex."""
    if (
        "\x00" in text
        or text.startswith(("\ufeff", "\n", "\r"))
        or text.count("\r") != text.count("\r\n")
        or "\n\n" in text
        or "\n\r\n" in text
    ):
        return False
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    d = re.escape(delimiter)
    one = f'(?:"[^"\\r\\n]*(?:""[^"\\r\\n]*)*"|[^"{d}\\r\\n]*)'
    field = re.compile(f"{one}(?:{d}{one})*\\r?")
    return all(field.fullmatch(line) for line in lines if '"' in line)


def test_the_quoting_check_on_the_bytes_agrees_with_the_check_line_by_line():
    rng = random.Random(11)
    pieces = ['"', '""', ",", ";", "\t", "a", "ñ", "\n", "\r\n", "\r", " ", "\ufeff", "\x00"]
    weights = [6, 2, 4, 2, 2, 6, 1, 3, 1, 0.3, 1, 0.1, 0.05]
    seen = {True: 0, False: 0}
    for _ in range(40_000):
        text = "".join(rng.choices(pieces, weights, k=rng.randint(1, 14)))
        delimiter = rng.choice(reader.DELIMITERS)
        expected = _plain_by_lines(text, delimiter)
        assert reader._plain_bytes(text.encode("utf-8"), delimiter) == expected, (text, delimiter)
        seen[expected] += 1
    assert min(seen.values()) > 5_000, seen


def _store_rows(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return (
            con.execute("SELECT * FROM incidents ORDER BY fid").fetchall()
            + con.execute(
                "SELECT incident_id, action, status_after, version FROM audit_log ORDER BY audit_id"
            ).fetchall()
        )
    finally:
        con.close()


def test_imports_of_messy_files_are_the_same_both_ways(tmp_path, monkeypatch):
    rng = random.Random(7)
    seen = {"imported": 0, "quarantined": 0}
    for k in range(12):
        text, _, _ = _messy(rng, odd=k % 3 == 0)
        source = tmp_path / f"in{k}.csv"
        source.write_text(text, encoding="utf-8", newline="")
        outcomes = []
        for columns in (True, False):
            folder = tmp_path / f"{k}-{columns}"
            with monkeypatch.context() as patch:
                if not columns:
                    patch.setattr(reader, "_read_csv_columns", lambda *a, **k: None)
                try:
                    report = import_file(source, store=folder / "s.gpkg", today=TODAY)
                except InputFileError as e:  # the same message both ways
                    outcomes.append(str(e).replace(str(folder), ""))
                    continue
            quarantine = report.quarantine_file
            outcomes.append(
                (
                    report.summary() | {"quarantine_file": None},
                    report.rejected,
                    report.warnings,
                    report.columns,
                    report.dayfirst,
                    None if quarantine is None else quarantine.read_bytes(),
                    _store_rows(folder / "s.gpkg"),
                )
            )
        assert outcomes[0] == outcomes[1]
        if not isinstance(outcomes[0], str):
            summary = outcomes[0][0]
            seen["imported"] += summary["imported"]
            seen["quarantined"] += summary["quarantined"]
    assert seen["imported"] > 20, seen
    assert seen["quarantined"] > 20, seen
