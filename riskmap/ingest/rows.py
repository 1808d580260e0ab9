"""Check and normalise one incident row; say exactly what is wrong when it cannot be imported.

Every problem of a row is reported at once ("date … ; victims …") so that whoever fixes the
quarantine file fixes it in one pass. Coordinates must fall in the study area (Tamaulipas and the
neighbouring border region); a point that would fall there with latitude and longitude swapped,
or with the minus sign of the (western) longitude restored, is rejected saying so.

A file repeats the same few values down a column (a type, a city, a source, a date), so each
column's check runs once per distinct cell and its result is reused for every row that holds
the same cell (memoised in :class:`RowRules`, whose dates and synonyms it depends on): the cost
of a check grows with the distinct values of a column, not with its rows.
:func:`clean_columns` checks a whole table that way, one column (or pair of columns) at a time:
each check runs once per distinct cell and its result is spread back to the rows by code, which
gives every row exactly the values and problems :func:`clean_row` gives it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from riskmap.ingest.dates import DateProblem, parse_date
from riskmap.ingest.synonyms import (
    CITY_SYNONYMS,
    COORDINATES,
    EMPTY_VALUES,
    NUMBER_WORDS,
    PERPETRATOR_SYNONYMS,
    TYPE_SEPARATORS,
    TYPE_SYNONYMS,
    key,
)
from riskmap.schema import (
    DATE_PRECISIONS,
    GEO_PRECISIONS,
    INCIDENT_TYPES,
    PERPETRATORS,
    PLACE_TYPES,
    join_types,
)

#: Study area as (min lon, min lat, max lon, max lat): Tamaulipas, the Nuevo León and Coahuila
#: border strip and South Texas, generous enough for the roads between the border cities.
STUDY_AREA = (-101.5, 22.0, -96.5, 29.0)
#: Longest text accepted per column, in characters.
TEXT_LIMITS: dict[str, int] = {
    "incident_id": 100,
    "city": 100,
    "location_text": 500,
    "source": 1000,
    "notes": 5000,
    "place_id": 100,
}
#: Most people one incident may count (more is a typing error, or a total row).
MAX_COUNT = 10_000
#: Columns whose content identifies a record for duplicate detection (coordinates apart).
CONTENT_COLUMNS: tuple[str, ...] = (
    "date",
    "date_precision",
    "incident_types",
    "city",
    "location_text",
    "perpetrator",
    "victims",
    "children",
    "source",
    "notes",
    "synthetic",
)
_FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r])")
_TRUE = {"true", "1", "yes", "si", "t", "y", "x", "verdadero"}
_FALSE = {"false", "0", "no", "f", "n", "falso"}
# No empty-value word has a digit, and a text with an ASCII digit keeps it in its key: such a
# text is never blank, and its key need not be computed.
_DIGIT = re.compile(r"[0-9]")
# Decimal degrees as most files write them: read by float() exactly as _number reads them.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# What str.strip() takes off: the characters for which str.isspace() is true.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A text that starts or ends with whitespace, in the regex syntax of pyarrow (RE2).
_SPACE_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE)
_EDGE_SPACE = f"^[{_SPACE_CLASS}]|[{_SPACE_CLASS}]$"
# Cells of these types are memoised by (type, value); others (NaN, NaT, lists) are checked anew.
_MEMO_TYPES = frozenset({str, int, bool, type(None), dt.date})
_T = TypeVar("_T")
_MISSING = object()


@dataclass(frozen=True)
class RowRules:
    """How to read the cells of one file.

    Make one per file (or per form): it also remembers the result of each check for the cells
    it has seen, so that a value repeated down a column is checked once.
    """

    #: Read numeric dates day-first.
    dayfirst: bool = True
    #: Latest date accepted.
    today: dt.date = field(default_factory=dt.date.today)
    #: Extra value synonyms from a mapping file: column -> normalised value -> canonical value.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Check -> cell(s) -> result, filled as rows are checked under these rules.
    _memo: dict[str, dict[object, object]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def memo(self, check: str, cells: object, compute: Callable[..., _T], *args: object) -> _T:
        """Return ``compute(*args)``, computed once per distinct ``cells`` of ``check``."""
        # Text cells (every cell of a CSV) are their own key; other cells are told apart by type.
        memo_key = cells if type(cells) is str else _memo_key(cells)
        if memo_key is None:
            return compute(*args)
        table = self._memo.get(check)
        if table is None:
            table = self._memo[check] = {}
        got = table.get(memo_key, _MISSING)
        if got is _MISSING:
            got = table[memo_key] = compute(*args)
        return got  # type: ignore[return-value]


def clean_row(raw: Mapping[str, object], rules: RowRules) -> tuple[dict[str, object], list[str]]:
    """Check one row's cells and return its canonical values and its problems.

    Parameters
    ----------
    raw
        Canonical column (or ``"coordinates"``) -> the cell as read.
    rules
        Date order, today, mapping-file value synonyms.

    Returns
    -------
    tuple
        Canonical values (``coords_given`` tells whether the row had a point) and a list of
        problems; the row may be imported only if the list is empty.
    """
    out: dict[str, object] = {}
    problems: list[str] = []
    memo = rules.memo
    for col, limit in TEXT_LIMITS.items():
        cell = raw.get(col)
        if col in _UNIQUE_TEXT:
            values, found = _text_column(cell, col, limit, rules)
        else:
            values, found = memo(col, cell, _text_column, cell, col, limit, rules)
        out.update(values)
        problems += found
    for check, cols, fn in _CHECKS:
        if len(cols) == 1:
            cell = raw.get(cols[0])
            values, found = memo(check, cell, fn, cell, rules)
        elif len(cols) == 2:
            cells = (raw.get(cols[0]), raw.get(cols[1]))
            values, found = memo(check, cells, fn, *cells, rules)
        else:  # coordinates: nearly every row has its own, memoising would only fill memory
            values, found = fn(*(raw.get(c) for c in cols), rules)
        out.update(values)
        problems += found
    return out, problems


def clean_columns(
    cells: Mapping[str, Sequence[object]],
    rules: RowRules,
    *,
    rows: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, list[object]], dict[int, list[str]]]:
    """Check a table column by column; give each row what :func:`clean_row` gives it.

    Parameters
    ----------
    cells
        Canonical column (or ``"coordinates"``) -> the cells as read, one per row; a column the
        table lacks is left out.
    rules
        Date order, today, mapping-file value synonyms.
    rows
        The number of rows.
    progress
        Called with the number of checks done so far (of :data:`CHECK_STEPS`).

    Returns
    -------
    tuple
        Canonical column -> one value per row (the values of :func:`clean_row`, in its order;
        ``None`` where a rejected row has none), and row position -> its problems, for the rows
        that have any (in :func:`clean_row`'s order).
    """
    values: dict[str, list[object]] = {}
    problems: dict[int, list[str]] = {}
    step = 0

    def done() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step)

    for col, limit in TEXT_LIMITS.items():
        column = cells.get(col)
        if col in _UNIQUE_TEXT and column is not None:
            values[col] = _unique_texts(column, col, limit, rules, problems)
            done()
            continue
        codes, firsts = _codes([column], rows)
        results = _texts([None if column is None else column[i] for i in firsts], col, limit, rules)
        _spread(results, codes, (col,), values, problems)
        done()
    for _, cols, fn in _CHECKS:
        columns = [cells.get(c) for c in cols]
        if cols == _COORDINATE_CELLS:
            _coordinate_columns(columns, rows, rules, values, problems)
        else:
            codes, firsts = _codes(columns, rows)
            results = [fn(*(None if c is None else c[i] for c in columns), rules) for i in firsts]
            _spread(results, codes, _OUTPUTS[fn], values, problems)
        done()
    return values, problems


#: How many steps :func:`clean_columns` reports to its ``progress``.
CHECK_STEPS = len(TEXT_LIMITS) + 8


def _codes(columns: Sequence[Sequence[object] | None], rows: int) -> tuple[np.ndarray, list[int]]:
    """Code the distinct cells (or tuples of cells) of ``columns``, told apart as the memo does.

    Return each row's code and the first row holding each code. Cells the memo does not key
    (NaN, lists) get a code of their own per row.
    """
    present = [c for c in columns if c is not None]
    if not present:
        return np.zeros(rows, dtype=np.intp), [0] if rows else []
    arrays = [np.asarray(c, dtype=object) for c in present]
    if all(pd.api.types.infer_dtype(a, skipna=False) == "string" for a in arrays):
        # Text cells (every cell of a CSV) are their own key, as in RowRules.memo.
        codes = np.zeros(rows, dtype=np.int64)
        for a in arrays:
            part, uniques = pd.factorize(a)
            codes = codes * len(uniques) + part
        if len(arrays) > 1:
            codes = pd.factorize(codes)[0]
        codes = codes.astype(np.intp)
        # Codes are numbered in order of first appearance: a row holds a new one when its code
        # is above every code before it.
        first = np.ones(rows, dtype=bool)
        first[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
        return codes, np.flatnonzero(first).tolist()
    table: dict[object, int] = {}
    out = np.empty(rows, dtype=np.intp)
    firsts: list[int] = []
    for i in range(rows):
        got = tuple(None if c is None else c[i] for c in columns)
        memo_key = _memo_key(got if len(got) > 1 else got[0])
        if memo_key is None:
            memo_key = (_MISSING, i)
        code = table.setdefault(memo_key, len(table))
        if code == len(firsts):
            firsts.append(i)
        out[i] = code
    return out, firsts


def _texts(cells: Sequence[object], col: str, limit: int, rules: RowRules) -> list[Checked]:
    """Return :func:`_text_column` of each cell; plain text that needs no change is taken as is."""
    out: list[Checked] = []
    blankable = col in {"incident_id", "place_id"}
    empty: Checked = (((col, None),), ())
    for cell in cells:
        if type(cell) is str and "\x00" not in cell:
            text = cell.strip()
            if not text:  # blank: no value, whatever the column
                out.append(empty)
                continue
            # No formula guard to undo, not too long, no synonym, and (for an id) never blank.
            plain = col != "city" and text[0] != "'" and len(text) <= limit
            if plain and (not blankable or _DIGIT.search(text)):
                out.append((((col, text),), ()))
                continue
        out.append(_text_column(cell, col, limit, rules))
    return out


def _unique_texts(
    cells: Sequence[object], col: str, limit: int, rules: RowRules, problems: dict[int, list[str]]
) -> list[object]:
    """Return the value :func:`_texts` gives each cell of a column of distinct cells.

    Its problems go to ``problems`` by row, as :func:`_spread` gives them; the values are
    taken straight, without a result per cell to unpack again.
    """
    taken = _taken_as_they_stand(cells, col, limit)
    out: list[object] = [None] * len(cells) if taken is None else taken[0]
    rest: Sequence[int] = range(len(cells)) if taken is None else taken[1]
    blankable = col in {"incident_id", "place_id"}
    digit = _DIGIT.search
    for i in rest:
        cell = cells[i]
        if type(cell) is str and "\x00" not in cell:
            text = cell.strip()
            if not text:
                out[i] = None
                continue
            plain = col != "city" and text[0] != "'" and len(text) <= limit
            if plain and (not blankable or digit(text)):
                out[i] = text
                continue
        found, bad = _text_column(cell, col, limit, rules)
        out[i] = found[0][1] if len(found) == 1 else dict(found).get(col)
        if bad:
            problems.setdefault(i, []).extend(bad)
    return out


def _taken_as_they_stand(
    cells: Sequence[object], col: str, limit: int
) -> tuple[list[object], list[int]] | None:
    """Find, with pyarrow, the text cells that :func:`_unique_texts` takes as they stand.

    Such a cell has no NUL, nothing to strip, no formula guard to undo, fits ``limit`` and (in
    an id column) has a digit: its value is the cell itself; an empty cell's is ``None``.
    Return the values (``None`` for the other cells too) and the positions of the other cells,
    or ``None`` when a cell is not text or pyarrow is missing.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - streamlit depends on pyarrow
        return None
    if col == "city" or not set(map(type, cells)) <= {str}:
        return None
    try:
        text = pa.array(cells, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # a lone surrogate: the loop reads it
        return None
    length = pc.utf8_length(text)
    empty = pc.equal(length, 0)
    taken = pc.and_(pc.invert(empty), pc.less_equal(length, limit))
    for unlike in (
        pc.match_substring(text, "\x00"),
        pc.match_substring_regex(text, _EDGE_SPACE),
        pc.starts_with(text, "'"),
    ):
        taken = pc.and_(taken, pc.invert(unlike))
    if col in {"incident_id", "place_id"}:
        taken = pc.and_(taken, pc.match_substring_regex(text, _DIGIT.pattern))
    keep = taken.to_numpy(zero_copy_only=False)
    values = np.full(len(cells), None, dtype=object)
    values[keep] = np.asarray(cells, dtype=object)[keep]
    rest = np.flatnonzero(~(keep | empty.to_numpy(zero_copy_only=False)))
    return values.tolist(), rest.tolist()


def _coordinate_columns(
    columns: Sequence[Sequence[object] | None],
    rows: int,
    rules: RowRules,
    values: dict[str, list[object]],
    problems: dict[int, list[str]],
) -> None:
    """Check the coordinates of every row into ``values`` and ``problems``.

    Plain decimal degrees inside the study area, the common case and nearly always distinct,
    are read as the first branch of :func:`_coordinates` reads them, in one pass over the
    columns; the other rows (mostly without coordinates) repeat a few cells and are checked
    once per distinct cells.
    """
    lat, lon, _ = columns
    fast = np.zeros(rows, dtype=bool)
    ys: list[object] = [None] * rows
    xs: list[object] = [None] * rows
    given: list[object] = [None] * rows
    if lat is not None and lon is not None:
        x, y = _plain_degrees(lon), _plain_degrees(lat)
        min_lon, min_lat, max_lon, max_lat = STUDY_AREA
        fast = (min_lat <= y) & (y <= max_lat) & (min_lon <= x) & (x <= max_lon)
        ys, xs, given = y.tolist(), x.tolist(), [True] * rows
    slow = np.flatnonzero(~fast)
    if len(slow):
        picked = [
            None if c is None else np.fromiter(c, dtype=object, count=rows)[slow].tolist()
            for c in columns
        ]
        codes, firsts = _codes(picked, len(slow))
        found = [_coordinates(*_cells_at(picked, k), rules) for k in firsts]
        part: dict[str, list[object]] = {}
        part_problems: dict[int, list[str]] = {}
        _spread(found, codes, _OUTPUTS[_coordinates], part, part_problems)
        merged = []
        for name, column in (("lat", ys), ("lon", xs), ("coords_given", given)):
            whole = np.fromiter(column, dtype=object, count=rows)
            whole[slow] = np.fromiter(part[name], dtype=object, count=len(slow))
            merged.append(whole.tolist())
        ys, xs, given = merged
        for k, found_problems in part_problems.items():
            problems.setdefault(int(slow[k]), []).extend(found_problems)
    values["lat"], values["lon"], values["coords_given"] = ys, xs, given


def _cells_at(columns: Sequence[Sequence[object] | None], i: int) -> tuple[object, object, object]:
    lat, lon, pair = (None if c is None else c[i] for c in columns)
    return lat, lon, pair


def _plain_degrees(cells: Sequence[object]) -> np.ndarray:
    """Return each text cell written as plain decimal degrees as a float; NaN for the others."""
    plain, nan = _PLAIN_NUMBER.fullmatch, math.nan
    out = _exact_degrees(cells)
    if out is None:
        return np.array(
            [float(t) if type(c) is str and plain(t := c.strip()) else nan for c in cells],
            dtype=float,
        )
    # The cells that are not plain as they stand (padded, other text) as the loop reads them;
    # an empty cell (a row without coordinates, the common case) is NaN either way.
    for i in np.flatnonzero(np.isnan(out)).tolist():
        c = cells[i]
        if c:
            out[i] = float(t) if type(c) is str and plain(t := c.strip()) else nan
    return out


def _exact_degrees(cells: Sequence[object]) -> np.ndarray | None:
    """Read the text cells that are plain decimal degrees as they stand, with pyarrow.

    Return floats there and NaN elsewhere, or ``None`` when a cell is not text or pyarrow is
    missing. Such a cell has nothing to strip, and pyarrow's conversion, like ``float``, rounds
    correctly: the values are ``float``'s, bit for bit.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - streamlit depends on pyarrow
        return None
    if not set(map(type, cells)) <= {str}:
        return None
    text = pa.array(cells, type=pa.string())
    exact = pc.match_substring_regex(text, f"^{_PLAIN_NUMBER.pattern}$")
    values = pc.cast(pc.if_else(exact, text, "0"), pa.float64())
    out = values.to_numpy(zero_copy_only=False).astype(float, copy=True)
    out[~exact.to_numpy(zero_copy_only=False)] = math.nan
    return out


def _spread(
    results: Sequence[Checked],
    codes: np.ndarray,
    names: tuple[str, ...],
    values: dict[str, list[object]],
    problems: dict[int, list[str]],
) -> None:
    """Give each row the result of its code: the values to ``values``, problems to ``problems``."""
    width = len(names)
    whole = len(results) == len(codes) and bool(np.array_equal(codes, np.arange(len(codes))))
    for j, name in enumerate(names):
        # A check gives its values in the order of ``names``; a rejected cell may give fewer.
        column = [v[j][1] if len(v) == width else dict(v).get(name) for v, _ in results]
        if whole:
            values[name] = column
            continue
        table = np.empty(len(results), dtype=object)
        table[:] = column
        values[name] = table[codes].tolist()
    bad = [k for k, r in enumerate(results) if r[1]]
    if not bad:
        return
    for i in np.flatnonzero(np.isin(codes, bad)).tolist():
        problems.setdefault(i, []).extend(results[codes[i]][1])


def signature(row: Mapping[str, object]) -> tuple[str, ...]:
    """Return the content of an incident as comparable text (coordinates apart).

    The same incident read from a CSV, a workbook or the store gives the same signature.
    """
    return tuple(_canon(row.get(col)) for col in CONTENT_COLUMNS)


def content_id(row: Mapping[str, object], *, lat: object = None, lon: object = None) -> str:
    """Return an incident id derived from the content, for rows that come without one."""
    parts = [*signature(row), _canon(lat), _canon(lon)]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"h-{digest[:16]}"


def _canon(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.5f}" if not value.is_integer() else str(int(value))
    return str(value).strip()


Checked = tuple[tuple[tuple[str, object], ...], tuple[str, ...]]


def _checked(out: Mapping[str, object], problems: list[str]) -> Checked:
    # Immutable, since one result serves every row holding the same cells.
    return tuple(out.items()), tuple(problems)


def _memo_key(cells: object) -> object:
    """Return a hashable key telling ``cells`` apart exactly, or ``None`` not to memoise."""
    if type(cells) is tuple:
        if all(type(c) is str for c in cells):
            return cells
        parts = tuple(_cell_key(c) for c in cells)
        return None if None in parts else parts
    return _cell_key(cells)


def _cell_key(cell: object) -> tuple[object, ...] | None:
    kind = type(cell)
    if kind is float:
        # NaN never equals itself; -0.0 equals 0.0 but is shown differently in a message.
        return None if cell != cell or cell == 0 else (kind, cell)
    if kind in _MEMO_TYPES:
        # The type too: 1, 1.0 and True are equal keys but different cells.
        return (kind, cell)
    if kind is dt.datetime or kind is pd.Timestamp:
        return (kind, cell, cell.tzinfo)  # type: ignore[attr-defined]
    return None


def _text(value: object) -> str | None:
    """Return a cell as stripped text (``None`` when empty), undoing a formula guard."""
    if type(value) is str:
        text = value.replace("\x00", "").strip() if "\x00" in value else value.strip()
    else:
        if value is None or value is pd.NA:
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).replace("\x00", "").strip()
    # Exports prefix "'" to cells that spreadsheets would run as formulas; take it off again.
    if text[:1] == "'":
        text = _FORMULA_GUARD.sub("", text)
    return text or None


def _blank(text: str | None) -> str | None:
    if text is None:
        return None
    if _DIGIT.search(text):
        return text
    return None if key(text) in EMPTY_VALUES else text


def _lookup(text: str, col: str, table: Mapping[str, str], rules: RowRules) -> str | None:
    k = key(text)
    return rules.values.get(col, {}).get(k) or table.get(k)


def _text_column(cell: object, col: str, limit: int, rules: RowRules) -> Checked:
    text = _text(cell)
    problems = []
    if text is not None and len(text) > limit:
        problems.append(f"{col} is {len(text)} characters long (at most {limit}); shorten it")
    value: object = text
    if col in {"incident_id", "place_id"}:
        value = _blank(text)
    elif col == "city":
        city = _blank(text)
        value = None if city is None else _lookup(city, "city", CITY_SYNONYMS, rules) or city
    return ((col, value),), tuple(problems)


def _date(value: object, precision_cell: object, rules: RowRules) -> Checked:
    text = value if not isinstance(value, str) else _blank(_text(value))
    out: dict[str, object] = {"date": None, "date_precision": None}
    problems: list[str] = []
    try:
        day, precision = parse_date(
            "" if text is None else text, dayfirst=rules.dayfirst, today=rules.today
        )
    except DateProblem as e:
        problems.append(str(e))
        return _checked(out, problems)
    given = _blank(_text(precision_cell))
    if given is not None and given not in DATE_PRECISIONS:
        problems.append(f"date_precision {given!r} is not one of {', '.join(DATE_PRECISIONS)}")
    if given == "month":
        precision = "month"
        day = day.replace(day=1)
    out["date"], out["date_precision"] = day, precision
    return _checked(out, problems)


def _types(value: object, rules: RowRules) -> Checked:
    text = _blank(_text(value))
    out: dict[str, object] = {"incident_types": None}
    if text is None:
        return _checked(out, [f"no incident type; give one of {', '.join(INCIDENT_TYPES)}"])
    whole = _lookup(text, "incident_types", TYPE_SYNONYMS, rules)
    parts = [text] if whole else [p for p in TYPE_SEPARATORS.split(text) if p.strip()]
    found: list[str] = []
    unknown: list[str] = []
    for part in parts:
        got = _lookup(part, "incident_types", TYPE_SYNONYMS, rules)
        (found if got else unknown).append(got or part)
    if unknown:
        problem = (
            f"incident type {', '.join(map(repr, unknown))} is not known; valid types: "
            f"{', '.join(INCIDENT_TYPES)} (Spanish names such as secuestro, extorsión, robo are "
            "understood; map others in a --mapping file)"
        )
        return _checked(out, [problem])
    out["incident_types"] = join_types(found)
    return _checked(out, [])


def _perpetrator(value: object, rules: RowRules) -> Checked:
    text = _blank(_text(value))
    if text is None:
        return (("perpetrator", None),), ()
    got = _lookup(text, "perpetrator", PERPETRATOR_SYNONYMS, rules)
    problems = []
    if got is None:
        problems.append(
            f"perpetrator {text!r} is not known; valid: {', '.join(PERPETRATORS)} (policía, "
            "crimen organizado, INM, ejército are understood; map others in a --mapping file)"
        )
    return (("perpetrator", got),), tuple(problems)


def _count(value: object) -> int | None:
    """Return a cell as a whole number (``None`` if empty); raise ``ValueError`` if it is not."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _blank(_text(value))
        if text is None:
            return None
        k = key(text)
        if k in NUMBER_WORDS:
            return NUMBER_WORDS[k]
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _counts(victims_cell: object, children_cell: object, rules: RowRules) -> Checked:
    out: dict[str, object] = {}
    problems: list[str] = []
    for col, cell in (("victims", victims_cell), ("children", children_cell)):
        out[col] = None
        try:
            n = _count(cell)
        except ValueError as e:
            problems.append(f"{col}: {e}; give a whole number of people (0 or more)")
            continue
        if n is not None and n < 0:
            problems.append(f"{col} is {n}; a count cannot be negative")
            continue
        if n is not None and n > MAX_COUNT:
            problems.append(f"{col} is {n}, more than {MAX_COUNT} people in one incident; check it")
            continue
        out[col] = n
    victims, children = out["victims"], out["children"]
    if isinstance(children, int) and children > 0:
        if victims is None:
            problems.append(
                f"children is {children} but victims is empty; children count among the "
                "victims, so give the number of victims too"
            )
        elif isinstance(victims, int) and children > victims:
            problems.append(
                f"children ({children}) is more than victims ({victims}); children count "
                "among the victims"
            )
    return _checked(out, problems)


def _synthetic(cell: object, rules: RowRules) -> Checked:
    synthetic = _blank(_text(cell))
    if synthetic is None or key(synthetic) in _FALSE:
        return (("synthetic", False),), ()
    if key(synthetic) in _TRUE:
        return (("synthetic", True),), ()
    return (), (f"synthetic {synthetic!r} is not true or false",)


def _vocabulary(col: str, allowed: tuple[str, ...]) -> Callable[[object, RowRules], Checked]:
    def check(cell: object, rules: RowRules) -> Checked:
        value = _blank(_text(cell))
        problems = []
        if value is not None and value not in allowed:
            problems.append(f"{col} {value!r} is not one of {', '.join(allowed)}")
        return ((col, value),), tuple(problems)

    return check


def _number(value: object) -> float:
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("°", " ").replace("º", " ")
    sign = 1.0
    m = re.fullmatch(r"([NSEWO])?\s*([^NSEWO]+?)\s*([NSEWO])?", text.upper())
    if m:
        hemisphere = m.group(1) or m.group(3)
        text = m.group(2)
        sign = -1.0 if hemisphere in {"S", "W", "O"} else 1.0
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return sign * number


def _coordinates(lat_cell: object, lon_cell: object, pair_cell: object, rules: RowRules) -> Checked:
    if type(lat_cell) is str and type(lon_cell) is str:
        # Decimal degrees as most files write them: no blank, no hemisphere, no comma.
        lat_text, lon_text = lat_cell.strip(), lon_cell.strip()
        if _PLAIN_NUMBER.fullmatch(lat_text) and _PLAIN_NUMBER.fullmatch(lon_text):
            lat, lon = float(lat_text), float(lon_text)
            reason = _where(lat, lon)
            if reason is None:
                return (("lat", lat), ("lon", lon), ("coords_given", True)), ()
    out: dict[str, object] = {"lat": None, "lon": None, "coords_given": False}
    problems: list[str] = []
    lat_raw, lon_raw = _blank(_text(lat_cell)), _blank(_text(lon_cell))
    pair = _blank(_text(pair_cell))
    if lat_raw is None and lon_raw is None and pair is not None:
        parts = [p for p in re.split(r"[;,\s]+", pair) if p]
        if len(parts) != 2:
            problems.append(f"coordinates {pair!r} are not 'latitude, longitude'")
            return _checked(out, problems)
        lat_raw, lon_raw = parts
    if lat_raw is None and lon_raw is None:
        return _checked(out, problems)
    if lat_raw is None or lon_raw is None:
        missing = "lat" if lat_raw is None else "lon"
        problems.append(f"{missing} is empty but the other coordinate is given; give both or none")
        return _checked(out, problems)
    try:
        lat, lon = _number(lat_raw), _number(lon_raw)
    except ValueError:
        problems.append(f"coordinates ({lat_raw!r}, {lon_raw!r}) are not decimal degrees")
        return _checked(out, problems)
    reason = _where(lat, lon)
    if reason:
        problems.append(reason)
        return _checked(out, problems)
    out["lat"], out["lon"], out["coords_given"] = lat, lon, True
    return _checked(out, problems)


def _inside(lat: float, lon: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = STUDY_AREA
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


def _where(lat: float, lon: float) -> str | None:
    """Return why a point is unacceptable, or ``None``."""
    if _inside(lat, lon):
        return None
    if _inside(lon, lat):
        return (
            f"lat {lat} and lon {lon} look swapped (the point lies in the study area the other "
            "way round); put the latitude (about 26) in lat and the longitude (about -98) in lon"
        )
    if _inside(lat, -lon):
        return (
            f"lon {lon} lacks its minus sign: longitudes west of Greenwich, as in Mexico, are "
            "negative"
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"coordinates ({lat}, {lon}) are out of range (lat -90..90, lon -180..180)"
    return (
        f"point ({lat}, {lon}) is outside the study area (Tamaulipas and the border region, "
        f"lon {STUDY_AREA[0]}..{STUDY_AREA[2]}, lat {STUDY_AREA[1]}..{STUDY_AREA[3]})"
    )


# Text columns whose cells are mostly unique: memoising them would only fill memory.
_UNIQUE_TEXT = frozenset({"incident_id", "notes"})
# (memo name, cells, check) in the order their problems are reported.
_CHECKS: tuple[tuple[str, tuple[str, ...], Callable[..., Checked]], ...] = (
    ("date", ("date", "date_precision"), _date),
    ("incident_types", ("incident_types",), _types),
    ("perpetrator", ("perpetrator",), _perpetrator),
    ("counts", ("victims", "children"), _counts),
    ("coordinates", ("lat", "lon", COORDINATES), _coordinates),
    ("synthetic", ("synthetic",), _synthetic),
    ("geo_precision", ("geo_precision",), _vocabulary("geo_precision", GEO_PRECISIONS)),
    ("place_type", ("place_type",), _vocabulary("place_type", PLACE_TYPES)),
)
_COORDINATE_CELLS = ("lat", "lon", COORDINATES)
# The values each check gives, in the order clean_row adds them.
_OUTPUTS: dict[Callable[..., Checked], tuple[str, ...]] = {
    _date: ("date", "date_precision"),
    _types: ("incident_types",),
    _perpetrator: ("perpetrator",),
    _counts: ("victims", "children"),
    _coordinates: ("lat", "lon", "coords_given"),
    _synthetic: ("synthetic",),
    **{fn: (name,) for name, _, fn in _CHECKS if name in {"geo_precision", "place_type"}},
}
