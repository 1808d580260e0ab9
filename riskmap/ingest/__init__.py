"""Import researchers' incident spreadsheets into the store, losing nothing.

Each row of the input ends in exactly one of three places: the store (imported), the quarantine
CSV beside the store with its original cells, its line number and the reason (quarantined), or
nowhere because the store already holds it (a duplicate). ``read == imported + quarantined +
duplicates`` always holds.

Headers and values are matched to the incident model through Spanish and English synonyms
(:mod:`riskmap.ingest.synonyms`) or a mapping file; dates through :mod:`riskmap.ingest.dates`; each
row
is checked by :mod:`riskmap.ingest.rows`. Rows without coordinates are placed by
:func:`riskmap.geo.geocoder.geocode_frame`; those it cannot place are stored with
``geo_precision = "unresolved"``. A row with an ``incident_id`` the store already has is a
duplicate when its content is the same and a conflict (quarantined, never overwritten) when it is
not; a row without an id gets one derived from its content, so re-importing a file adds nothing.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from riskmap.errors import InputFileError
from riskmap.ingest.dates import guess_dayfirst, is_ambiguous
from riskmap.ingest.read import RawTable, collector_paused, read_raw
from riskmap.ingest.rows import (
    CHECK_STEPS,
    CONTENT_COLUMNS,
    RowRules,
    clean_columns,
    content_id,
    signature,
)
from riskmap.ingest.synonyms import COORDINATES, HEADER_SYNONYMS, SPANISH_HEADERS, key
from riskmap.schema import COLUMNS, VOCABULARIES, conform_columns, empty_frame
from riskmap.store import (
    IncidentStore,
    is_url,
    open_store,
    remove_stale_temporaries,
    write_bytes_atomically,
)

#: Columns a file must have (under any synonym) to be imported at all.
NEEDED_COLUMNS: tuple[str, ...] = ("date", "incident_types")
#: Leading columns of a quarantine file; the input's own columns follow.
QUARANTINE_COLUMNS: tuple[str, ...] = ("quarantine_line", "quarantine_reason")
#: Characters that make a spreadsheet cell run as a formula (OWASP CSV injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Rows between two progress reports.
PROGRESS_EVERY = 500

Progress = Callable[[int, int], None]
_TARGETS = frozenset(COLUMNS) | {COORDINATES}
_GEOMETRY = ("__geometry_lat__", "__geometry_lon__")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ColumnMapping:
    """A user's mapping of headers and values to the incident model (``--mapping`` file)."""

    #: Normalised header -> canonical column, or ``None`` to ignore the column quietly.
    columns: Mapping[str, str | None] = field(default_factory=dict)
    #: Column -> normalised value -> canonical value (incident_types, perpetrator, city).
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Read numeric dates day-first (``True``), month-first (``False``) or guess (``None``).
    dayfirst: bool | None = None


@dataclass
class ImportReport:
    """What an import did with each row of the file."""

    source: Path
    #: The GeoPackage file, or the PostGIS URL without its password.
    store: Path | str
    #: Where quarantined rows go (beside a GeoPackage; the current folder for PostGIS).
    quarantine_target: Path | None = None
    #: Data rows in the file (blank rows are not rows).
    read: int = 0
    imported: int = 0
    quarantined: int = 0
    duplicates: int = 0
    quarantine_file: Path | None = None
    #: ``"line"``, ``"row"`` or ``"feature"``: what the numbers in :attr:`rejected` count.
    unit: str = "line"
    #: (line, reason) of each quarantined row.
    rejected: list[tuple[int, str]] = field(default_factory=list)
    #: Input header -> canonical column, as used.
    columns: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = True
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Return the counts as the one-line JSON summary of ``riskmap import --json``."""
        return {
            "read": self.read,
            "imported": self.imported,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "quarantine_file": None if self.quarantine_file is None else str(self.quarantine_file),
        }


def load_mapping(path: str | os.PathLike[str]) -> ColumnMapping:
    """Read a mapping file.

    The file is JSON: ``{"columns": {"Fecha del hecho": "date", "Nombre": null}, "values":
    {"incident_types": {"levantón": "kidnapping"}}, "dayfirst": true}``. A flat object of
    header -> column is read as ``columns``. ``null`` ignores a column without a warning.

    Raises
    ------
    InputFileError
        If the file is not such JSON or names a column or value the model does not have.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"{path}: not a readable JSON mapping file ({' '.join(str(e).split())})"
        raise InputFileError(msg) from e
    if not isinstance(doc, dict):
        msg = f"{path}: a mapping file must be a JSON object"
        raise InputFileError(msg)
    if not ({"columns", "values", "dayfirst"} & doc.keys()):
        doc = {"columns": doc}
    columns: dict[str, str | None] = {}
    for header, target in (doc.get("columns") or {}).items():
        if target is not None and target not in _TARGETS:
            msg = (
                f"{path}: column {header!r} maps to {target!r}, which is not a column of the "
                f"incident model ({', '.join(sorted(_TARGETS))}) or null"
            )
            raise InputFileError(msg)
        columns[key(header)] = target
    values: dict[str, dict[str, str]] = {}
    for col, table in (doc.get("values") or {}).items():
        allowed = VOCABULARIES.get(col)
        if col != "city" and allowed is None or not isinstance(table, dict):
            msg = f"{path}: values can be mapped for incident_types, perpetrator, city; not {col!r}"
            raise InputFileError(msg)
        for raw, target in table.items():
            if allowed is not None and target not in allowed:
                msg = (
                    f"{path}: {col} value {raw!r} maps to {target!r}, which is not one of "
                    f"{', '.join(allowed)}"
                )
                raise InputFileError(msg)
        values[col] = {key(raw): target for raw, target in table.items()}
    dayfirst = doc.get("dayfirst")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        msg = f"{path}: dayfirst must be true, false or null"
        raise InputFileError(msg)
    return ColumnMapping(columns=columns, values=values, dayfirst=dayfirst)


def read_table(
    path: str | os.PathLike[str], *, mapping: ColumnMapping | None = None
) -> tuple[RawTable, dict[str, str]]:
    """Read a CSV, XLSX or GeoJSON file and match its headers to the incident model.

    Parameters
    ----------
    path
        The file.
    mapping
        Header and value mapping that wins over the built-in synonyms.

    Returns
    -------
    tuple
        The raw table (cells as written, a line number per row, warnings) and the header ->
        canonical column assignment. Unknown headers are left out of the assignment and named
        in a warning.

    Raises
    ------
    InputFileError
        If the file is unusable: unreadable, empty, binary, or without a date or type column.
    """
    mapping = mapping or ColumnMapping()
    path = Path(path)

    def recognise(header: str) -> str | None:
        k = key(header)
        return mapping.columns[k] if k in mapping.columns else HEADER_SYNONYMS.get(k)

    table = read_raw(path, recognise=recognise)
    frame = table.frame
    if all(c in frame for c in _GEOMETRY) and (frame[list(_GEOMETRY)] == "").all().all():
        # A GeoJSON without geometries: coordinates may still be in the properties.
        table.frame = frame = frame.drop(columns=list(_GEOMETRY))
        table.forced = {}
    assigned: dict[str, str] = {}
    used: dict[str, str] = {}
    unknown: list[str] = []
    forced_first = sorted(frame.columns, key=lambda c: c not in table.forced)
    for header in forced_first:
        if header == "__geometry__" or key(header) in {key(c) for c in QUARANTINE_COLUMNS}:
            continue
        target = table.forced.get(header) or recognise(header)
        if target is None:
            if key(header) not in mapping.columns:
                unknown.append(header)
        elif target in used:
            table.warnings.append(
                f"column {header!r} also looks like {target}; {used[target]!r} is used instead"
                " (map one of them to null in a --mapping file to silence this)"
            )
        else:
            assigned[header], used[target] = target, header
    if unknown:
        shown = ", ".join(repr(h) for h in unknown)
        table.warnings.append(
            f"ignored column(s) not in the incident model: {shown} "
            "(name them in a --mapping file to import them)"
        )
    missing = [c for c in NEEDED_COLUMNS if c not in used]
    if missing:
        headers = ", ".join(repr(h) for h in frame.columns if not h.startswith("__")) or "none"
        names = {"date": "a date (fecha, date)", "incident_types": "a type (tipo, type)"}
        msg = (
            f"{path}: no column for {' or '.join(names[c] for c in missing)}; headers found: "
            f"{headers}; rename the header or map it with --mapping"
        )
        raise InputFileError(msg)
    return table, dict(sorted(assigned.items(), key=lambda kv: list(frame.columns).index(kv[0])))


def import_file(
    path: str | os.PathLike[str],
    *,
    store: str | os.PathLike[str] | IncidentStore,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    dayfirst: bool | None = None,
    places: pd.DataFrame | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    status: str = "in_review",
    by: str = "",
) -> ImportReport:
    """Import one spreadsheet into the store; quarantine the rows that cannot be imported.

    Parameters
    ----------
    path
        CSV (``,`` ``;`` or tab; UTF-8, UTF-16 or Windows-1252), XLSX or GeoJSON.
    store
        A GeoPackage path (created if absent) or a ``postgresql://`` URL. The new rows are
        appended in one transaction, found new by lookups of their ids in the store's index:
        the cost grows with the file, not with the store. A failed import adds nothing.
    mapping
        A :class:`ColumnMapping` or the path of a mapping file (see :func:`load_mapping`).
    dayfirst
        Read ``03/04/2020`` as 3 April (``True``) or March 4 (``False``); ``None`` decides from
        the dates themselves, then from the language of the headers (Spanish: day-first).
    places
        The gazetteer for geocoding; defaults to :func:`riskmap.geo.gazetteer.load_places`.
    today
        Latest date accepted (default: today).
    progress
        Called as ``progress(rows_done, rows_total)`` while rows are checked.
    status
        The review status of the imported incidents: ``in_review`` (the default: nothing
        imported is public until approved), or ``published`` when someone allowed to publish
        imports (``riskmap import --publish --as EMAIL`` checks who).
    by
        Who imports (written in the audit log).

    Returns
    -------
    ImportReport
        Counts, the quarantine file and the reason for each quarantined row.

    Raises
    ------
    InputFileError
        If the file (or the mapping file) is unusable as a whole.
    StoreError
        If the store cannot be read or written; the previous store is then left as it was.
    """
    source = Path(path)
    target = open_store(store)
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    mapping = mapping or ColumnMapping()
    table, assigned = read_table(source, mapping=mapping)
    frame = table.frame
    quarantine_target = target.quarantine_path(source)
    report = ImportReport(
        source=source,
        store=target.name if is_url(store) else Path(target.name),
        quarantine_target=quarantine_target,
        read=len(frame),
        unit=table.unit,
        columns=assigned,
    )
    report.warnings += table.warnings
    report.dayfirst = _dayfirst(table, assigned, choice=dayfirst, mapping=mapping, report=report)
    rules = RowRules(
        dayfirst=report.dayfirst, today=today or dt.date.today(), values=mapping.values
    )

    # The checks and the append make millions of small objects and no reference cycles.
    with collector_paused():
        good, rejected = _check(frame, table, assigned, rules, progress=progress)
        with target.writer(status=status, by=by) as writer:
            remove_stale_temporaries(quarantine_target)
            existing = writer.lookup(map(str, good["incident_id"]))
            new = _deduplicate(good, existing, rejected, report)
            report.imported = len(new)
            report.quarantined = len(rejected)
            report.rejected = [(table.lines[i], reason) for i, reason in sorted(rejected.items())]
            _write_quarantine(table, rejected, report)

            def place() -> pd.DataFrame:
                rows = {col: _take(cells, new) for col, cells in good.items()}
                return _geocode(rows, places=places, report=report, lines=table.lines)

            # The store may log the new ids while their rows are geocoded.
            writer.append_placed([str(good["incident_id"][n]) for n in new], place)
    return report


def _dayfirst(
    table: RawTable,
    assigned: Mapping[str, str],
    *,
    choice: bool | None,
    mapping: ColumnMapping,
    report: ImportReport,
) -> bool:
    if choice is not None:
        return choice
    if mapping.dayfirst is not None:
        return mapping.dayfirst
    date_header = next(h for h, t in assigned.items() if t == "date")
    guessed = guess_dayfirst(table.frame[date_header])
    if guessed is not None:
        return guessed
    spanish = sum(key(h) in SPANISH_HEADERS for h in assigned)
    english = len(assigned) - spanish
    dayfirst = spanish >= english
    dates = table.frame[date_header].tolist()
    try:
        # A column repeats its dates: each distinct one is tested once.
        flags = {v: is_ambiguous(v) for v in dict.fromkeys(dates)}
        ambiguous = [v for v in dates if flags[v]]
    except TypeError:  # an unhashable cell
        ambiguous = [v for v in dates if is_ambiguous(v)]
    if ambiguous:
        order, other = ("day/month", "--monthfirst") if dayfirst else ("month/day", "--dayfirst")
        language = "Spanish" if dayfirst else "English"
        report.warnings.append(
            f"read {len(ambiguous)} date(s) such as {ambiguous[0]!r} as {order}/year because "
            f"the headers are {language}; import with {other} if that is wrong"
        )
    return dayfirst


def _check(
    frame: pd.DataFrame,
    table: RawTable,
    assigned: Mapping[str, str],
    rules: RowRules,
    *,
    progress: Progress | None,
) -> tuple[dict[str, list[object]], dict[int, str]]:
    """Check every row; return the good rows column by column and why the others are rejected.

    The good rows' columns are :func:`riskmap.ingest.rows.clean_row`'s values, an id derived
    from the content where the row has none, and ``_pos``, the row's position in ``frame``.
    """
    total = len(frame)
    if progress is not None:
        progress(0, total)
    rejected = dict(table.problems)
    # Rows that could not be read cleanly are quarantined as they are, not checked.
    unread = table.problems
    checked = [i for i in range(total) if i not in unread] if unread else list(range(total))
    # Each column on its own (no table of rows to copy), contiguous.
    cells = {target: frame[h].to_numpy(dtype=object) for h, target in assigned.items()}
    if unread:
        cells = {target: column[checked] for target, column in cells.items()}

    def step(done: int) -> None:
        if progress is not None and done < CHECK_STEPS:
            progress(total * done // CHECK_STEPS, total)

    values, problems = clean_columns(cells, rules, rows=len(checked), progress=step)
    for k, found in problems.items():
        rejected[checked[k]] = "; ".join(found)
    rows = range(len(checked))
    keep = [k for k in rows if k not in problems] if problems else list(rows)
    good = {col: _take(column, keep) for col, column in values.items()}
    ids = good["incident_id"]
    for n, ident in enumerate(ids):
        if ident is None:
            row = {col: good[col][n] for col in CONTENT_COLUMNS}
            ids[n] = content_id(row, lat=good["lat"][n], lon=good["lon"][n])
    good["_pos"] = [*_take(checked, keep)]
    if progress is not None:
        progress(total, total)
    return good, rejected


def _take(values: list[_T], positions: list[int]) -> list[_T]:
    """Return ``values`` at ``positions`` (``values`` itself when that is all of them)."""
    if len(positions) == len(values):
        return values
    return [values[i] for i in positions]


def _deduplicate(
    good: Mapping[str, list[object]],
    existing: pd.DataFrame,
    rejected: dict[int, str],
    report: ImportReport,
) -> list[int]:
    """Drop rows the store already holds; quarantine ids that clash with different content.

    Return the positions (in ``good``) of the new rows.
    """
    known: dict[str, dict[str, object]] = {}
    if len(existing):
        stored = pd.DataFrame(existing).drop(columns="geometry", errors="ignore")
        for record in stored.to_dict("records"):
            known[str(record["incident_id"])] = {str(k): v for k, v in record.items()}
    ids = list(map(str, good["incident_id"]))
    if len(set(ids)) == len(ids) and known.keys().isdisjoint(ids):
        # Every id once and none stored (a file of new incidents): every row is new.
        return list(range(len(ids)))
    first: dict[str, int] = {}
    new: list[int] = []
    for n, ident in enumerate(ids):
        ref = known.get(ident)
        if ref is None:
            seen = first.get(ident)
            if seen is None:
                first[ident] = n
                new.append(n)
                continue
            ref = _row(good, seen)
        row = _row(good, n)
        differs = _differences(ref, row)
        if not differs:
            report.duplicates += 1
        else:
            where = "in the store" if "_pos" not in ref else "earlier in this file"
            rejected[_position(row)] = (
                f"conflict: incident_id {row['incident_id']!r} is already {where} with a "
                f"different {', '.join(differs)}; not overwritten: give this incident a new "
                "id, or correct the stored one"
            )
    return new


def _row(good: Mapping[str, list[object]], n: int) -> dict[str, object]:
    return {col: column[n] for col, column in good.items()}


def _differences(ref: Mapping[str, object], row: Mapping[str, object]) -> list[str]:
    old, new = signature(ref), signature(row)
    differs = [c for c, a, b in zip(CONTENT_COLUMNS, old, new, strict=True) if a != b]
    if row.get("coords_given"):
        for col in ("lat", "lon"):
            a, b = _float(ref.get(col)), _float(row.get(col))
            if a is None or b is None or abs(a - b) > 1e-5:
                differs.append(col)
    return differs


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def _position(row: Mapping[str, object]) -> int:
    pos = row["_pos"]
    if not isinstance(pos, int):  # pragma: no cover - set by import_file
        raise TypeError(pos)
    return pos


def _geocode(
    rows: Mapping[str, list[object]],
    *,
    places: pd.DataFrame | None,
    report: ImportReport,
    lines: Mapping[int, int] | list[int],
) -> pd.DataFrame:
    """Place the new rows; keep the place a canonical input gave with its coordinates.

    A row placed at a gazetteer place without a point keeps that place and its precision with
    empty coordinates; only a row with neither a point nor a known place is ``unresolved``.

    The gazetteer has the last word on a known place: a row whose ``place_type`` disagrees with
    its ``place_id``'s is stored with the gazetteer's, and the conflict is reported; a city the
    gazetteer does not know is kept for staff and reported, since the public release withholds
    it (only gazetteer cities are ever shown).
    """
    if not rows["incident_id"]:
        return empty_frame()
    # Cells as the checks made them, one object array per column (conform gives each column
    # its type once, at the end): no table of objects to build, take apart and type twice.
    cells = {col: _objects(values) for col, values in rows.items()}
    from riskmap.geo.geocoder import geocode_frame

    if places is None:
        from riskmap.geo.gazetteer import load_places

        places = load_places()
    # A row with its own point and precision keeps them: only the others are geocoded (each
    # row is placed on its own, so the result for a row does not depend on the others).
    todo = ~(cells["coords_given"].astype(bool) & ~pd.isna(cells["geo_precision"]))
    if todo.any():
        coded = geocode_frame(
            pd.DataFrame({col: cells[col][todo] for col in _GEOCODE_INPUTS}, dtype=object),
            text_column="location_text",
            city_column="city",
            places=places,
        )
        for col in ("lat", "lon", "geo_precision", "place_id", "place_type"):
            merged = cells[col].copy()
            merged[todo] = coded[col].to_numpy(dtype=object)
            cells[col] = merged
    # A known place without a point (an approximate bus terminal or shelter) is placed: only a
    # row with neither a point nor a gazetteer place is unresolved.
    located = ~pd.isna(cells["lat"]) & ~pd.isna(cells["lon"])
    gazetteer = pd.Series(cells["place_id"], dtype=object).isin(set(places["place_id"]))
    known = gazetteer.to_numpy() & ~pd.isna(cells["geo_precision"])
    cells["geo_precision"] = np.where(located | known, cells["geo_precision"], "unresolved")
    _reconcile(cells, places, report=report, lines=lines)
    return conform_columns(cells, index=pd.RangeIndex(len(cells["incident_id"])))


#: The columns :func:`riskmap.geo.geocoder.geocode_frame` reads.
_GEOCODE_INPUTS = ("location_text", "city", "lat", "lon", "place_id", "geo_precision", "place_type")


def _objects(values: list[object]) -> np.ndarray:
    """Return ``values`` as a one-dimensional array of objects (never split into dimensions)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _reconcile(
    cells: dict[str, np.ndarray],
    places: pd.DataFrame,
    *,
    report: ImportReport,
    lines: Mapping[int, int] | list[int],
) -> None:
    """Make known places take the gazetteer's kind; report conflicts and unknown cities."""
    kinds = places.drop_duplicates("place_id").set_index("place_id")["place_type"]
    cities = set(places.loc[places["place_type"] == "city", "city"])
    # Find the few rows to report with whole-column tests: a per-row loop over 10k rows of
    # pandas cells costs seconds.
    # Each distinct place once (missing ones code -1, and have no kind).
    place_codes, place_ids = pd.factorize(cells["place_id"])
    place_kinds = pd.Series(place_ids, dtype=object).map(kinds).to_numpy(dtype=object)
    gazetteer_kind = pd.Series(np.append(place_kinds, np.nan)[place_codes], dtype=object)
    kind_differs = gazetteer_kind.notna() & (
        pd.Series(cells["place_type"], dtype=object) != gazetteer_kind
    ).fillna(True).astype(bool)
    # A file names a few cities: each distinct cell is told once (missing cells code -1).
    codes, distinct = pd.factorize(cells["city"])
    unknown = [isinstance(c, str) and bool(c) and c not in cities for c in distinct]
    city_unknown = np.array([*unknown, False], dtype=bool)[codes]
    for i in np.flatnonzero(kind_differs.to_numpy() | city_unknown).tolist():
        pid, kind, city = cells["place_id"][i], cells["place_type"][i], cells["city"][i]
        line = f"{report.unit} {lines[int(cells['_pos'][i])]}"
        if isinstance(pid, str) and pid in kinds.index and kind != kinds[pid]:
            report.warnings.append(
                f"{line}: place_type {kind!r} disagrees with the gazetteer's {kinds[pid]!r} for "
                f"{pid}; the gazetteer's is kept"
            )
            cells["place_type"][i] = kinds[pid]
        if isinstance(city, str) and city and city not in cities:
            report.warnings.append(
                f"{line}: city {city!r} is not a gazetteer city ({', '.join(sorted(cities))}); "
                "it is kept for staff and withheld from the public release"
            )


def _write_quarantine(table: RawTable, rejected: Mapping[int, str], report: ImportReport) -> None:
    target = report.quarantine_target
    if target is None:  # pragma: no cover - set by import_file
        return
    if not rejected:
        # The file described the last import of this source; it no longer applies.
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return
    original = [
        c for c in table.frame.columns if c not in _GEOMETRY and c not in QUARANTINE_COLUMNS
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    shown = ["geometry" if c == "__geometry__" else c for c in original]
    writer.writerow([*QUARANTINE_COLUMNS, *shown])
    cells = table.frame[original].to_numpy(dtype=object)
    for i, reason in sorted(rejected.items()):
        writer.writerow(
            [guard_formula(str(x)) for x in (table.lines[i], reason, *map(_plain, cells[i]))]
        )
    write_bytes_atomically(target, buffer.getvalue().encode("utf-8-sig"))
    report.quarantine_file = target


def _plain(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def guard_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``=`` ``+`` ``-`` ``@`` …)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


__all__ = [
    "ColumnMapping",
    "ImportReport",
    "guard_formula",
    "import_file",
    "load_mapping",
    "read_table",
]
