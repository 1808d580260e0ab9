"""Read a spreadsheet as a table of raw cells: CSV (any of ``,`` ``;`` tab), XLSX or GeoJSON.

Nothing is interpreted here beyond the file format: cells stay as written (text, or the
dates and numbers a workbook stores), each row keeps the line, row or feature number it came
from, and a row that cannot be read cleanly (a quote left open, more cells than headers, a
polygon in a GeoJSON of points) carries a problem instead of being dropped.

Encodings are tried in the order researchers' files use them: UTF-8 (with or without the BOM
Excel writes), UTF-16 with a BOM (Excel's "Unicode text"), then Windows-1252, whose printable
range is a superset of Latin-1's.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gc
import io
import json
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap.errors import InputFileError

#: Most uncompressed bytes a workbook may expand to.
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
#: Highest compression ratio of a large workbook member (zip bombs reach thousands).
MAX_XLSX_RATIO = 200
#: Largest CSV or GeoJSON file read.
MAX_TEXT_BYTES = 512 * 1024 * 1024
#: How many leading rows are searched for the header row (titles often sit above it).
HEADER_SEARCH_ROWS = 10
DELIMITERS = (",", ";", "\t")
#: Control characters a text file does not hold (all below 32 but tab and line ends).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Recognise = Callable[[str], "str | None"]


@dataclass
class RawTable:
    """Cells of one sheet as read, before any header or value is interpreted."""

    #: The file read.
    path: Path
    #: Original headers (made unique) as columns; cells as written, ``""`` when empty.
    frame: pd.DataFrame
    #: Where each row starts in the file (line, row or feature number, 1-based).
    lines: list[int]
    #: What :attr:`lines` counts: ``"line"``, ``"row"`` or ``"feature"``.
    unit: str
    #: ``"csv"``, ``"xlsx"`` or ``"geojson"``.
    format: str
    #: Text encoding of a CSV.
    encoding: str | None = None
    #: Delimiter of a CSV.
    delimiter: str | None = None
    #: Worksheet read from a workbook.
    sheet: str | None = None
    #: Headers whose canonical column is fixed by the format (a GeoJSON point's lat and lon).
    forced: dict[str, str] = field(default_factory=dict)
    #: Position of each row that could not be read cleanly -> why.
    problems: dict[int, str] = field(default_factory=dict)
    #: Things the user should know that are not errors.
    warnings: list[str] = field(default_factory=list)


def read_raw(path: Path, *, recognise: Recognise) -> RawTable:
    """Read ``path`` as a table, choosing the reader by content and extension.

    Parameters
    ----------
    path
        CSV, TSV, TXT, XLSX or (Geo)JSON file.
    recognise
        Maps a header to its canonical column (or ``None``); used to find the header row.

    Raises
    ------
    InputFileError
        If the file is missing, empty, binary, or not a readable table.
    """
    with collector_paused():
        return _read_any(path, recognise=recognise)


def _read_any(path: Path, *, recognise: Recognise) -> RawTable:
    if not path.is_file():
        msg = f"{path}: no such file"
        raise InputFileError(msg)
    try:
        data = path.read_bytes()
    except OSError as e:
        msg = f"{path}: cannot read the file ({e.strerror or e})"
        raise InputFileError(msg) from e
    if not data or data.isspace():
        msg = f"{path}: the file is empty; export the spreadsheet again with its rows"
        raise InputFileError(msg)
    suffix = path.suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(path, recognise=recognise)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        msg = (
            f"{path}: an old Excel .xls workbook or a password-protected one; "
            "save it as an unprotected .xlsx or as CSV"
        )
        raise InputFileError(msg)
    if suffix in {".xlsx", ".xlsm"}:
        msg = f"{path}: not an Excel workbook (.xlsx files are zip archives); is it a CSV?"
        raise InputFileError(msg)
    if len(data) > MAX_TEXT_BYTES:
        msg = f"{path}: {len(data) // 2**20} MB is too big to import; split the file"
        raise InputFileError(msg)
    text, encoding = _decode(path, data)
    if suffix in {".geojson", ".json"} or text.lstrip()[:1] == "{":
        return _read_geojson(path, text)
    # The text as UTF-8 is the file itself when the file is UTF-8: no need to encode it again.
    utf8 = data.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8" else None
    return _read_csv(path, text, encoding=encoding, recognise=recognise, utf8=utf8)


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            msg = f"{path}: broken UTF-16 text ({e.reason} at byte {e.start})"
            raise InputFileError(msg) from e
    if b"\x00" in data[:65536]:
        msg = f"{path}: a binary file, not a spreadsheet; export it as CSV or XLSX"
        raise InputFileError(msg)
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    controls = len(_CONTROLS.findall(text, 0, 65536))
    if controls > max(32, len(text[:65536]) // 20):
        msg = f"{path}: a binary file, not a spreadsheet; export it as CSV or XLSX"
        raise InputFileError(msg)
    return text, "utf-8" if encoding == "utf-8-sig" else encoding


def _sniff(text: str) -> str:
    """Return the delimiter whose first rows have the most consistent, widest shape."""
    best, best_score = ",", (-1.0, 0)
    sample = text[:65536]
    for delim in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim)
        try:
            rows = [r for _, r in zip(range(50), reader, strict=False) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows:
            continue
        width = max(len(r) for r in rows[:HEADER_SEARCH_ROWS])
        if width < 2:
            continue
        same = sum(len(r) == width for r in rows) / len(rows)
        score = (same, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(
    path: Path, text: str, *, encoding: str, recognise: Recognise, utf8: bytes | None = None
) -> RawTable:
    delimiter = _sniff(text)
    table = _read_csv_columns(path, text, delimiter=delimiter, recognise=recognise, utf8=utf8)
    if table is None:
        table = _read_csv_rows(path, text, delimiter=delimiter, recognise=recognise)
    table.encoding, table.delimiter = encoding, delimiter
    return table


def _read_csv_rows(path: Path, text: str, *, delimiter: str, recognise: Recognise) -> RawTable:
    """Read a CSV record by record with :mod:`csv`, keeping the line each record starts on."""
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 2**20))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as e:
        msg = f"{path}, line {reader.line_num}: not readable as CSV ({one_line(e)})"
        raise InputFileError(msg) from e
    # First line -> (last line, cells) of each record that spans several lines.
    spans: dict[int, tuple[int, int]] = {}
    if reader.line_num == len(records):
        # As many records as lines: each record is its line.
        rows: list[tuple[int, Sequence[object]]] = list(enumerate(records, start=1))
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows, start = [], 1
        for row in reader:
            end = reader.line_num
            rows.append((start, row))
            if end > start:
                spans[start] = (end, len(row))
            start = end + 1
    table, _ = _tabulate(path, rows, recognise=recognise, unit="line", fmt="csv")
    width = len(table.frame.columns)
    for i, line in enumerate(table.lines):
        if line not in spans or i in table.problems:
            continue
        end, cells = spans[line]
        if cells != width:
            table.problems[i] = (
                f"lines {line}-{end} run together: a quotation mark is probably not closed; "
                "fix the quotes and import the file again"
            )
    return table


def _read_csv_columns(
    path: Path, text: str, *, delimiter: str, recognise: Recognise, utf8: bytes | None = None
) -> RawTable | None:
    """Read a plain CSV column by column with pyarrow; ``None`` when the file is not plain.

    Plain: one record per line, every line as wide as the first, no blank line, and every
    quotation mark in a field quoted the standard way (``"a, ""b"" c"``). On such a file
    pyarrow's parser gives the cells :mod:`csv` gives, at a fraction of the cost; any other
    file is read by :func:`_read_csv_rows`, so that line numbers and messages stay its own.
    ``utf8`` is ``text`` encoded as UTF-8, when the caller has it (the file's own bytes).
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - streamlit depends on pyarrow
        return None
    if utf8 is None:
        try:
            utf8 = text.encode("utf-8")
        except UnicodeError:
            return None
    # The tests are made on the bytes: every character they look for is ASCII, which UTF-8
    # writes as itself and never inside another character, and a byte is cheaper to scan.
    if not _plain_bytes(utf8, delimiter):
        return None
    lines = utf8.count(b"\n") + (not utf8.endswith(b"\n"))
    end = text.find("\n")
    first = (text if end < 0 else text[:end]).removesuffix("\r")
    width = len(next(csv.reader([first], delimiter=delimiter)))
    names = [f"c{i}" for i in range(width)]
    try:
        data = pacsv.read_csv(
            pa.py_buffer(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeError):
        return None
    if data.num_rows != lines:
        return None
    coded: list[tuple[np.ndarray, np.ndarray]] = []
    for column in data.columns:
        # Each distinct cell once: one text object per value.
        encoded = column.dictionary_encode().combine_chunks()
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        coded.append((distinct, encoded.indices.to_numpy()))
    return _tabulate_columns(path, coded, _blank_rows(coded, lines), recognise=recognise)


def _blank_rows(coded: Sequence[tuple[np.ndarray, np.ndarray]], rows: int) -> np.ndarray:
    """Tell which rows are blank (each cell is, as :func:`_filled` tells of the joined cells).

    ``coded`` holds each column's distinct cells and each row's code. The columns with the
    fewest distinct cells are tested first, and each only on the rows still blank: the strips
    of a column of ids, every cell its own, are seldom needed.
    """
    blank = np.ones(rows, dtype=bool)
    for distinct, codes in sorted(coded, key=lambda c: len(c[0])):
        still = np.flatnonzero(blank)
        if not len(still):
            break
        held = codes[still]
        used = np.zeros(len(distinct), dtype=bool)
        used[held] = True
        at = np.flatnonzero(used)
        empty = np.zeros(len(distinct), dtype=bool)
        empty[at] = [not v.strip() for v in distinct[at].tolist()]
        blank[still] = empty[held]
    return blank


def _plain_bytes(data: bytes, delimiter: str) -> bool:
    r"""Tell whether the UTF-8 ``data`` of a CSV has one record per line, quoted the standard way.

    No NUL, no byte-order mark left, no line end but ``\n`` or ``\r\n``, no blank line (nor
    a line end first), and each quotation mark in a field quoted the standard way: once every
    such field (opening after a delimiter or a line end, closing before one, with no line end
    inside) is taken out, no quotation mark is left.
    """
    if b"\x00" in data or data.startswith((codecs.BOM_UTF8, b"\n", b"\r")) or b"\n\n" in data:
        return False
    if b"\r" in data and (data.count(b"\r") != data.count(b"\r\n") or b"\n\r\n" in data):
        return False
    return b'"' not in data or b'"' not in _QUOTED_FIELDS[delimiter].sub(b"", data)


def _quoted_fields(delimiter: str) -> re.Pattern[bytes]:
    d, inside = re.escape(delimiter.encode()), rb'[^"\r\n]*'
    # The quotation mark comes first, so that the search skips to the next one at C speed.
    return re.compile(rb'"(?<![^%b\n]")%b(?:""%b)*"(?![^%b\r\n])' % (d, inside, inside, d))


#: A field quoted the standard way, opening at a field's start and closing at its end.
_QUOTED_FIELDS = {d: _quoted_fields(d) for d in DELIMITERS}


def _read_xlsx(path: Path, *, recognise: Recognise) -> RawTable:
    _check_zip(path)
    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        msg = f"{path}: refusing to read a workbook without defusedxml installed"
        raise InputFileError(msg)
    tables: list[tuple[RawTable, bool]] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; the cells are unaffected.
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                for sheet in book.worksheets:
                    rows = [
                        (i, [_cell(v) for v in values])
                        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                    ]
                    if any(any(_text(c) for c in r) for _, r in rows):
                        table, recognised = _tabulate(
                            path, rows, recognise=recognise, unit="row", fmt="xlsx"
                        )
                        table.sheet = sheet.title
                        tables.append((table, recognised))
            finally:
                book.close()
    except InputFileError:
        raise
    except Exception as e:  # openpyxl and defusedxml raise many types for a broken workbook
        msg = (
            f"{path}: not a readable Excel workbook ({type(e).__name__}: {one_line(e)}); "
            "save it again"
        )
        raise InputFileError(msg) from e
    if not tables:
        msg = f"{path}: the workbook has no rows; export the spreadsheet again with its rows"
        raise InputFileError(msg)
    # The first sheet whose header is recognised; else the first sheet, to report on.
    chosen = next((t for t, ok in tables if ok), tables[0][0])
    ignored = [t.sheet or "" for t, _ in tables if t is not chosen]
    if ignored:
        chosen.warnings.append(
            f"read sheet {chosen.sheet!r} only; sheet(s) {', '.join(map(repr, ignored))} ignored "
            "(save each sheet as its own file to import it)"
        )
    return chosen


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        msg = f"{path}: a damaged workbook ({one_line(e)}); save it again from Excel"
        raise InputFileError(msg) from e
    total = sum(i.file_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
    if (
        total > MAX_XLSX_UNCOMPRESSED
        or len(infos) > 10_000
        or (worst > MAX_XLSX_RATIO and total > 16 * 2**20)
    ):
        msg = (
            f"{path}: refused: the workbook expands to {total // 2**20} MB "
            f"(compression ratio {worst:.0f}:1), an absurd size for an incident log; "
            "save it as CSV or split it"
        )
        raise InputFileError(msg)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | int | float):
        return value
    return str(value)


def _read_geojson(path: Path, text: str) -> RawTable:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"{path}, line {e.lineno}: not valid JSON ({e.msg})"
        raise InputFileError(msg) from e
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
    elif kind == "Feature":
        features = [doc]
    else:
        msg = f"{path}: not a GeoJSON FeatureCollection (type is {kind!r})"
        raise InputFileError(msg)
    crs = doc.get("crs")
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
    if name and not name.upper().endswith(("CRS84", ":4326", "::4326")):
        msg = (
            f"{path}: coordinates are in {name}, not longitude/latitude (WGS84); "
            "reproject the file to EPSG:4326 first"
        )
        raise InputFileError(msg)
    records: list[dict[str, object]] = []
    problems: dict[int, str] = {}
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        record = {k: _json_cell(v) for k, v in (props or {}).items()}
        record["__geometry_lat__"] = record["__geometry_lon__"] = ""
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        record["__geometry__"] = "" if geom is None else json.dumps(geom, ensure_ascii=False)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems[i] = "not a GeoJSON Feature"
        elif geom is not None:
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            gtype = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
            if gtype != "Point":
                problems[i] = f"geometry is a {gtype}; only Point features (or none) are imported"
            elif (
                not isinstance(coords, list)
                or len(coords) < 2
                or not all(isinstance(c, int | float) for c in coords[:2])
            ):
                problems[i] = f"point coordinates {coords!r} are not [longitude, latitude]"
            else:
                record["__geometry_lon__"], record["__geometry_lat__"] = coords[0], coords[1]
        records.append(record)
    columns = list(dict.fromkeys(k for r in records for k in r))
    frame = pd.DataFrame(
        [[r.get(c, "") for c in columns] for r in records], columns=columns, dtype=object
    )
    return RawTable(
        path=path,
        frame=frame,
        lines=list(range(1, len(records) + 1)),
        unit="feature",
        format="geojson",
        encoding="utf-8",
        forced={"__geometry_lat__": "lat", "__geometry_lon__": "lon"},
        problems=problems,
    )


def _json_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _tabulate(
    path: Path,
    rows: Sequence[tuple[int, Sequence[object]]],
    *,
    recognise: Recognise,
    unit: str,
    fmt: str,
) -> tuple[RawTable, bool]:
    """Find the header among the first rows; return the table below it and whether it was found."""
    filled = [(n, r) for n, r in rows if _filled(r)]
    if not filled:
        msg = f"{path}: the file has no rows; export the spreadsheet again with its rows"
        raise InputFileError(msg)
    header_at, recognised = _find_header([r for _, r in filled[:HEADER_SEARCH_ROWS]], recognise)
    header_line, header = filled[header_at]
    body = filled[header_at + 1 :]
    names = _unique_headers([_text(c) for c in header])
    width = len(names)
    lines: list[int] = []
    cells: list[Sequence[object]] = []
    problems: dict[int, str] = {}
    for i, (n, row) in enumerate(body):
        lines.append(n)
        if len(row) == width:
            cells.append(row)
            continue
        values = list(row)
        extra = values[width:]
        if any(_text(c) for c in extra):
            problems[i] = (
                f"the {unit} has {len(values)} cells but the header has {width} columns "
                "(a stray delimiter or an unquoted comma?)"
            )
        cells.append(values[:width] + [""] * (width - len(values)))
    frame = pd.DataFrame(cells, columns=names, dtype=object)
    table = _raw_table(path, frame, lines, unit=unit, fmt=fmt, header=(header_at, header_line))
    table.problems = problems
    return table, recognised


def _tabulate_columns(
    path: Path,
    coded: Sequence[tuple[np.ndarray, np.ndarray]],
    blank: np.ndarray,
    *,
    recognise: Recognise,
) -> RawTable:
    """Do what :func:`_tabulate` does with the lines of a plain CSV, given column by column.

    ``coded`` holds each column's distinct cells and the code of its cell on each line: line
    ``k + 1`` holds cell ``k`` of each column (every line as wide as the header), and is blank
    where ``blank`` is true.
    """
    filled = np.flatnonzero(~blank)
    if not len(filled):
        msg = f"{path}: the file has no rows; export the spreadsheet again with its rows"
        raise InputFileError(msg)
    head = [[d[c[i]] for d, c in coded] for i in filled[:HEADER_SEARCH_ROWS].tolist()]
    header_at, _ = _find_header(head, recognise)
    names = _unique_headers([_text(c) for c in head[header_at]])
    body = filled[header_at + 1 :]
    # The lines below the header are most often all the others: a slice, not a selection.
    start = int(body[0]) if len(body) else 0
    rows = slice(start, start + len(body)) if len(body) == len(blank) - start else body
    frame = pd.DataFrame(
        {name: d[c[rows]] for name, (d, c) in zip(names, coded, strict=True)},
        index=pd.RangeIndex(len(body)),
        dtype=object,
    )
    lines = (body + 1).tolist()
    return _raw_table(
        path, frame, lines, unit="line", fmt="csv", header=(header_at, int(filled[header_at]) + 1)
    )


def _find_header(rows: Sequence[Sequence[object]], recognise: Recognise) -> tuple[int, bool]:
    """Return the position of the header among the first filled rows, and whether it is one."""
    for i, row in enumerate(rows):
        known = {recognise(_text(c)) for c in row} - {None}
        if len(known) >= 2 and known & {"date", "incident_types"}:
            return i, True
    return 0, False


def _raw_table(
    path: Path,
    frame: pd.DataFrame,
    lines: list[int],
    *,
    unit: str,
    fmt: str,
    header: tuple[int, int],
) -> RawTable:
    """Return the table of ``frame`` without Excel's trailing empty columns."""
    header_at, header_line = header
    warn = []
    if header_at:
        warn.append(
            f"skipped {header_at} {unit}(s) above the header on {unit} {header_line} "
            "(titles or notes, not incidents)"
        )
    # Columns with neither a header nor a value are Excel's trailing empties.
    empty = [c for c in frame.columns if c.startswith("column_") and not frame[c].map(_text).any()]
    return RawTable(
        path=path,
        frame=frame.drop(columns=empty),
        lines=lines,
        unit=unit,
        format=fmt,
        warnings=warn,
    )


def _unique_headers(raw: list[str]) -> list[str]:
    names: list[str] = []
    for i, name in enumerate(raw, start=1):
        base = name.strip() or f"column_{i}"
        candidate, n = base, 2
        while candidate in names:
            candidate, n = f"{base} ({n})", n + 1
        names.append(candidate)
    return names


def one_line(error: BaseException) -> str:
    """Return an exception's message on one line (the CLI prints errors as one line)."""
    return " ".join(str(error).split())


def _filled(row: Sequence[object]) -> bool:
    """Tell whether a row has a cell that is not blank."""
    try:
        # A CSV row is all text: one join and strip instead of a test per cell.
        return bool("".join(row).strip())  # type: ignore[arg-type]
    except TypeError:
        return any(_text(c) for c in row)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the cells of a table are made (or checked).

    The cells form no reference cycles, and the collector's passes over the millions of new
    objects cost more than the reading itself (2.5 times at 100k rows).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))
