"""Dates as researchers write them: ISO, day-first or month-first numbers, Spanish or English words.

A date is either a day or, when only the month is known ("noviembre 2019", "2019-11"), the first
of that month with ``date_precision = "month"`` (the ACLED convention of recording the precision of
a date beside it). Numeric dates such as ``03/04/2020`` are read day-first (Mexican usage) unless
the file says otherwise; :func:`guess_dayfirst` looks at a whole column for the evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

from riskmap.ingest.synonyms import key

#: The earliest date accepted: anything before is taken for a typing error.
EARLIEST = dt.date(2000, 1, 1)
#: Day 0 of Excel's serial dates (1900 system, after its leap-year bug).
EXCEL_EPOCH = dt.date(1899, 12, 30)

MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("enero", "ene", "january", "jan"),
        ("febrero", "feb", "february"),
        ("marzo", "mar", "march"),
        ("abril", "abr", "april", "apr"),
        ("mayo", "may"),
        ("junio", "jun", "june"),
        ("julio", "jul", "july"),
        ("agosto", "ago", "august", "aug"),
        ("septiembre", "setiembre", "sep", "sept", "set", "september"),
        ("octubre", "oct", "october"),
        ("noviembre", "nov", "november"),
        ("diciembre", "dic", "december", "dec"),
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names, _n))

_WEEKDAYS = frozenset(
    [
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lun",
        "mie",
        "jue",
        "vie",
        "sab",
        "dom",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
    ]
)
_FILLER = frozenset({"de", "del", "of", "the", "el", "st", "nd", "rd", "th", "ro", "o", "a"})
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"$", re.IGNORECASE)
_ISO_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _TIME + r"$", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")


class DateProblem(ValueError):
    """A cell that is not an acceptable incident date; the message says why."""


def parse_date(
    value: object, *, dayfirst: bool = True, today: dt.date | None = None
) -> tuple[dt.date, str]:
    """Read one date cell.

    Parameters
    ----------
    value
        The cell: text, a :class:`datetime.date` (from a spreadsheet), or a number.
    dayfirst
        Read ``03/04/2020`` as 3 April (``True``) or as March 4 (``False``).
    today
        The latest date allowed (default: today).

    Returns
    -------
    tuple
        The date (the first of the month when only the month is known) and its precision,
        ``"day"`` or ``"month"``.

    Raises
    ------
    DateProblem
        If the cell is empty, unreadable, impossible, too early or in the future.
    """
    today = today or dt.date.today()
    day, precision = _read(value, dayfirst=dayfirst)
    if day < EARLIEST:
        msg = f"date {value!r} is before {EARLIEST.isoformat()}; check the year"
        raise DateProblem(msg)
    latest = today.replace(day=1) if precision == "month" else today
    if day > latest:
        msg = f"date {value!r} is in the future (today is {today.isoformat()})"
        raise DateProblem(msg)
    return day, precision


def guess_dayfirst(values: Iterable[object]) -> bool | None:
    """Tell from a column of dates whether numeric ones are written day-first.

    Returns
    -------
    bool or None
        ``True`` if some date can only be day-first (``20/11/2019``) and none only month-first,
        ``False`` for the reverse, ``None`` when the column does not say (or says both).
    """
    day_first = month_first = False
    for value in _distinct(values):
        pair = _numeric_pair(value.strip()) if isinstance(value, str) else None
        if pair is None:
            continue
        a, b = pair
        day_first |= a > 12 >= b
        month_first |= b > 12 >= a
    if day_first == month_first:
        return None
    return day_first


def is_ambiguous(value: object) -> bool:
    """Tell whether a cell is a numeric date that reads differently day-first and month-first."""
    pair = _numeric_pair(value.strip()) if isinstance(value, str) else None
    if pair is None:
        return False
    a, b = pair
    return a != b and max(a, b) <= 12


def _distinct(values: Iterable[object]) -> Iterable[object]:
    # A column repeats its dates: the verdict depends only on which ones it holds.
    values = list(values)
    try:
        return dict.fromkeys(values)
    except TypeError:  # an unhashable cell
        return values


@functools.lru_cache(maxsize=65536)
def _numeric_pair(text: str) -> tuple[int, int] | None:
    """Return the first two numbers of a numeric date (``20/11/2019``), else ``None``."""
    m = _NUMERIC.match(text)
    return None if m is None else (int(m.group(1)), int(m.group(2)))


def _read(value: object, *, dayfirst: bool) -> tuple[dt.date, str]:
    if isinstance(value, dt.datetime):
        return value.date(), "day"
    if isinstance(value, dt.date):
        return value, "day"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _serial(float(value), value), "day"
    text = str(value).strip()
    if not text:
        msg = "no date; every incident needs one (a day, or a month such as 2019-11)"
        raise DateProblem(msg)
    if m := _ISO.match(text):
        return _make(text, int(m.group(1)), int(m.group(2)), int(m.group(3))), "day"
    if m := _ISO_MONTH.match(text):
        return _make(text, int(m.group(1)), int(m.group(2)), 1), "month"
    if m := _COMPACT.match(text):
        return _make(text, int(m.group(1)), int(m.group(2)), int(m.group(3))), "day"
    if m := _NUMERIC.match(text):
        return _numeric(text, m, dayfirst=dayfirst), "day"
    if m := _MONTH_YEAR.match(text):
        return _make(text, int(m.group(2)), int(m.group(1)), 1), "month"
    if _SERIAL.match(text):
        return _serial(float(text), text), "day"
    return _words(text)


def _make(text: str, year: int, month: int, day: int, *, hint: str = "") -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as e:
        msg = f"date {text!r} does not exist ({e}){hint}"
        raise DateProblem(msg) from None


def _year(raw: str) -> int:
    # Two-digit years are this century's: the program began in 2019.
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def _numeric(text: str, m: re.Match[str], *, dayfirst: bool) -> dt.date:
    a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
    day, month = (a, b) if dayfirst else (b, a)
    order = "day/month/year" if dayfirst else "month/day/year"
    other = "--monthfirst" if dayfirst else "--dayfirst"
    if month > 12:
        msg = (
            f"date {text!r} is not a valid {order} date (month {month}); if the file writes "
            f"dates the other way round, import it with {other}"
        )
        raise DateProblem(msg)
    return _make(text, year, month, day)


def _serial(number: float, shown: object) -> dt.date:
    if not number.is_integer() or not 36526 <= number <= 73050:  # 2000-01-01 .. 2099-12-31
        msg = f"date {shown!r} is a number, not a date; write it as YYYY-MM-DD"
        raise DateProblem(msg)
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def _words(text: str) -> tuple[dt.date, str]:
    # "Nov 20, 2019", "20 de noviembre de 2019", "miércoles 20-nov-19", "noviembre 2019"
    tokens = [t for t in re.split(r"(\d+)", key(text)) for t in t.split()]
    tokens = [t for t in tokens if t not in _WEEKDAYS and t not in _FILLER]
    months = [MONTHS[t] for t in tokens if t in MONTHS]
    numbers = [t for t in tokens if t.isdigit()]
    rest = [t for t in tokens if not t.isdigit() and t not in MONTHS]
    if len(months) != 1 or rest or not numbers or len(numbers) > 2:
        if len(numbers) == 1 and len(numbers[0]) == 4 and not months and not rest:
            msg = f"date {text!r} gives only a year; give at least the month (2019-11)"
        else:
            msg = (
                f"cannot read {text!r} as a date; write it as YYYY-MM-DD (or DD/MM/YYYY, "
                "or '20 de noviembre de 2019', or YYYY-MM when only the month is known)"
            )
        raise DateProblem(msg)
    month = months[0]
    years = [n for n in numbers if len(n) == 4]
    if len(numbers) == 1:
        if not years:
            msg = f"date {text!r} has no year; give the year too"
            raise DateProblem(msg)
        return _make(text, int(years[0]), month, 1), "month"
    # Two numbers: a day and a year; the four-digit one is the year, else the last.
    year_raw = years[0] if len(years) == 1 else numbers[-1]
    numbers.remove(year_raw)
    return _make(text, _year(year_raw), month, int(numbers[0])), "day"
