"""What every store backend offers, and the pieces they share.

A backend is a class with the methods of :class:`IncidentStore`: the embedded GeoPackage
(:class:`riskmap.store.geopackage.GeoPackageStore`) and PostgreSQL/PostGIS
(:class:`riskmap.store.postgis.PostGISStore`). Each incident carries a row ``version`` that
every edit increments: an edit names the version it was made from and is refused with
:class:`StoreConflictError` when the store holds a newer one (optimistic concurrency, as
HTTP's ``If-Match``), so two writers never silently overwrite each other.

Each incident also has a review ``status`` (:data:`riskmap.schema.STATUSES`), and each change
is appended to the store's audit log (:mod:`riskmap.store.audit`): appends, edits and review
steps (:mod:`riskmap.workflow.review`) write it in the same transaction as the change.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.errors import SchemaError, StoreError
from riskmap.schema import COLUMNS, STATUS, STATUSES, conform, validate
from riskmap.settings import local_path
from riskmap.store import audit

#: Name of the row-version column in both backends.
VERSION = "version"
#: URL schemes that select the PostGIS backend.
URL_SCHEMES: tuple[str, ...] = ("postgresql://", "postgres://")
#: Columns an edit may change (the id names the incident and never changes).
EDITABLE: tuple[str, ...] = tuple(c for c in COLUMNS if c != "incident_id")


class StoreConflictError(StoreError):
    """An edit was made from an older version of an incident than the store holds."""


class StoreWriter(Protocol):
    """A writer's view of the store: lookups, appends and edits, all in one transaction."""

    #: The status appended incidents get unless they carry one, and who writes.
    status: str
    by: str
    #: The transaction's connection (audit log, revisions, statuses).
    con: audit.Connection

    def lookup(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids`` (canonical columns)."""
        ...

    def incidents(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids`` with ``version`` and ``status``, locked."""
        ...

    def append(self, frame: pd.DataFrame, *, action: str = "import", audited: bool = True) -> None:
        """Add new incidents; committed when the writer's block ends without an error."""
        ...

    def append_placed(
        self, ids: Sequence[str], place: Callable[[], pd.DataFrame], *, action: str = "import"
    ) -> None:
        """Append the new incidents ``place()`` returns, ``ids`` in order, as :meth:`append`.

        They take the writer's status and version 1. A backend may write their audit lines
        while ``place()`` runs.
        """
        ...

    def write(self, row: pd.DataFrame, *, version: int) -> None:
        """Overwrite one stored incident's canonical columns and set its version."""
        ...


class IncidentStore(Protocol):
    """The interface every backend implements."""

    #: How messages name the store (a path, or a URL without its password).
    name: str

    def exists(self) -> bool:
        """Tell whether the store has been created."""
        ...

    def read(self, *, versions: bool = False) -> gpd.GeoDataFrame:
        """Return every incident (canonical columns and geometry; ``version`` if asked)."""
        ...

    def count(self) -> int:
        """Return the number of incidents."""
        ...

    def writer(
        self, *, status: str = "in_review", by: str = ""
    ) -> contextlib.AbstractContextManager[StoreWriter]:
        """Open a write transaction (exclusive among writers)."""
        ...

    def connection(self) -> contextlib.AbstractContextManager[audit.Connection]:
        """Open a connection for reading the store's tables."""
        ...

    def store_version(self) -> dict[str, object] | None:
        """Identify this state of the store: it changes with every change of the store."""
        ...

    def get(self, incident_id: str) -> tuple[dict[str, object], int]:
        """Return one incident's canonical values and its version."""
        ...

    def update(
        self,
        incident_id: str,
        changes: Mapping[str, object],
        *,
        expected_version: int,
        by: str = "",
    ) -> int:
        """Apply ``changes`` if the incident is at ``expected_version``; return the new one."""
        ...

    def quarantine_path(self, source: str | Path) -> Path:
        """Return where an import of ``source`` writes its quarantined rows."""
        ...


def is_url(location: object) -> bool:
    """Tell whether ``location`` names a PostGIS store (a ``postgresql://`` URL)."""
    return isinstance(location, str) and location.strip().lower().startswith(URL_SCHEMES)


def content_hash(frame: pd.DataFrame) -> str:
    """Return a SHA-256 of the canonical incident table, independent of row order.

    Two stores hold the same incidents exactly when their hashes agree: rows are sorted by
    ``incident_id`` and every canonical column is written in one fixed text form (ISO dates,
    floats to 17 significant digits, a marker for missing values).
    """
    table = conform(pd.DataFrame(frame).drop(columns="geometry", errors="ignore"))
    table = table.sort_values("incident_id", kind="stable").reset_index(drop=True)
    digest = hashlib.sha256(",".join(COLUMNS).encode("utf-8"))
    columns = [_text(table[c]) for c in COLUMNS]
    for row in zip(*columns, strict=True):
        digest.update(("\x1f".join(row) + "\n").encode("utf-8"))
    return digest.hexdigest()


def _text(series: pd.Series) -> list[str]:
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.dt.strftime("%Y-%m-%d").tolist()
    elif pd.api.types.is_float_dtype(series):
        values = [format(v, ".17g") for v in series.to_numpy(dtype=float, na_value=0.0)]
    else:
        values = [str(v) for v in series.astype(object).tolist()]
    return ["\x00" if m else v for v, m in zip(values, missing, strict=True)]


def records(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Return conformed incidents as rows of plain Python values, in :data:`COLUMNS` order.

    Dates become ISO text; missing values become ``None``: what SQLite and PostgreSQL bind.
    """
    columns = record_columns(frame)
    return list(zip(*columns, strict=True)) if columns else []


def record_columns(frame: pd.DataFrame, *, sqlite: bool = False) -> list[list[object]]:
    """Return the values of :func:`records`, one list per column of :data:`COLUMNS`.

    A large append binds them column by column, without building a tuple per row.

    Parameters
    ----------
    frame
        Incidents in the canonical columns.
    sqlite
        Give the values SQLite stores the same but Python's :mod:`sqlite3` binds faster:
        missing values as NaN (SQLite stores a NaN as NULL; ``None`` and ``bool`` are first
        offered to the module's adapters, several times the cost of a float) and booleans as
        the integers 0 and 1 they are stored as.
    """
    # A conformed table (what an import appends) is taken as it is: conform would copy it
    # unchanged.
    typed = frame.columns.is_unique and all(
        c in frame.columns and str(frame[c].dtype) == t for c, t in COLUMNS.items()
    )
    table = frame if typed else conform(frame)
    fill: object = math.nan if sqlite else None
    columns: list[list[object]] = []
    for col, dtype in COLUMNS.items():
        series = table[col]
        missing = series.isna().to_numpy()
        if dtype.startswith("datetime"):
            values: list[object] = _by_value(series, lambda days: days.strftime("%Y-%m-%d"))
        elif dtype == "float64":
            values = series.to_numpy(dtype=float, na_value=math.nan).tolist()
        elif dtype == "Int64":
            values = series.to_numpy(dtype="int64", na_value=0).tolist()
        elif dtype == "boolean":
            flags = series.to_numpy(dtype=bool, na_value=False)
            values = flags.astype("int64").tolist() if sqlite else flags.tolist()
        elif col == "incident_id":  # every value its own
            values = series.astype(object).tolist()
        else:
            values = _by_value(series, lambda texts: texts)
        if not (sqlite and dtype == "float64"):  # NaN already
            for i in np.flatnonzero(missing).tolist():
                values[i] = fill
        columns.append(values)
    return columns


def _by_value(series: pd.Series, render: Callable[[pd.Index], object]) -> list[object]:
    """Return ``series`` as a list of Python values, each distinct value rendered once.

    Dates and most text columns repeat a few values: converting those (and formatting dates)
    once each, then taking them by position, costs a fraction of converting every cell.
    Missing cells come out as some value; the caller replaces them.
    """
    codes, uniques = pd.factorize(series)
    if not len(uniques):
        return [None] * len(series)
    table = np.asarray(render(pd.Index(uniques)), dtype=object)
    return list(table[codes].tolist())


def edited_row(
    current: Mapping[str, object], changes: Mapping[str, object], *, incident_id: str
) -> pd.DataFrame:
    """Return the one-row canonical table of ``current`` with ``changes`` applied and checked.

    Raises
    ------
    SchemaError
        If a change names a column that cannot be edited or leaves the incident invalid.
    """
    unknown = [c for c in changes if c not in EDITABLE]
    if unknown:
        msg = (
            f"incident {incident_id}: cannot edit column(s) {', '.join(map(repr, unknown))}; "
            f"editable columns: {', '.join(EDITABLE)}"
        )
        raise SchemaError(msg)
    row = {**current, **changes, "incident_id": incident_id}
    try:
        return validate(pd.DataFrame([row]))
    except SchemaError as e:
        msg = f"incident {incident_id}: edit refused: {str(e).replace('row 0, ', '')}"
        raise SchemaError(msg) from e


def placed(ids: Sequence[str], place: Callable[[], pd.DataFrame], *, status: str) -> pd.DataFrame:
    """Return ``place()``, checked to be the new incidents ``ids`` in order, at ``status``.

    Raises
    ------
    ValueError
        If its rows are other incidents, or in another order, or carry another status or a
        version other than 1 (what :meth:`StoreWriter.append_placed` promises its audit lines).
    """
    frame = place()
    got = frame["incident_id"].astype(str).tolist() if len(frame) else []
    if got != [str(i) for i in ids]:
        msg = f"the placed rows are not the {len(ids)} incident(s) announced, in order"
        raise ValueError(msg)
    statuses = statuses_of(frame, default=status)
    versions = frame[VERSION] if VERSION in frame else pd.Series(1, index=frame.index)
    if len(frame) and (not (statuses == status).all() or not (versions == 1).all()):
        msg = f"placed incidents are new: status {status!r} and version 1 only"
        raise ValueError(msg)
    return frame


def statuses_of(frame: pd.DataFrame, *, default: str) -> pd.Series:
    """Return the review status of each row: its ``status`` column, else ``default``.

    Raises
    ------
    SchemaError
        If a status is not one of :data:`riskmap.schema.STATUSES`.
    """
    if STATUS in frame:
        status = pd.Series(frame[STATUS].to_numpy(dtype=object), index=frame.index)
        status = status.where(status.notna(), default)
    else:
        status = pd.Series(default, index=frame.index, dtype=object)
    bad = sorted({str(s) for s in status.unique()} - set(STATUSES))
    if bad:
        msg = f"unknown status {', '.join(map(repr, bad))}; choose one of {', '.join(STATUSES)}"
        raise SchemaError(msg)
    return status.astype("string")


def changed_values(
    before: Mapping[str, object], after: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Return the canonical values that differ between two versions of an incident."""
    old: dict[str, object] = {}
    new: dict[str, object] = {}
    for col in EDITABLE:
        a, b = audit.plain(before.get(col)), audit.plain(after.get(col))
        if a != b:
            old[col], new[col] = a, b
    return old, new


def import_entries(
    rows: Iterable[tuple[object, ...]],
    statuses: Iterable[object],
    versions: Iterable[int] | None,
    *,
    by: str,
    action: str,
) -> list[audit.Entry]:
    """Return the audit lines of appended rows (a ``create`` records every value)."""
    names = list(COLUMNS)
    vers = list(versions) if versions is not None else None
    out = []
    for i, (row, status) in enumerate(zip(rows, statuses, strict=True)):
        after = dict(zip(names, row, strict=True)) if action == "create" else None
        out.append(
            audit.Entry(
                str(row[0]),
                action,
                by or "unknown",
                None,
                str(status),
                vers[i] if vers is not None else 1,
                None,
                after,
            )
        )
    return out


def conflict(name: str, incident_id: str, *, expected: int, current: int) -> StoreConflictError:
    """Build the error for an edit made from a stale version."""
    msg = (
        f"{name}: incident {incident_id} was changed by someone else (it is at version "
        f"{current}, this edit was made from version {expected}); nothing was saved: reload "
        "the incident and make the edit again"
    )
    return StoreConflictError(msg)


def not_found(name: str, incident_id: str) -> StoreError:
    """Build the error for an edit of an incident the store does not hold."""
    return StoreError(f"{name}: no incident {incident_id!r} in the store")


__all__ = [
    "EDITABLE",
    "URL_SCHEMES",
    "VERSION",
    "IncidentStore",
    "StoreConflictError",
    "StoreWriter",
    "changed_values",
    "conflict",
    "content_hash",
    "edited_row",
    "import_entries",
    "is_url",
    "local_path",
    "not_found",
    "placed",
    "record_columns",
    "records",
    "statuses_of",
]
