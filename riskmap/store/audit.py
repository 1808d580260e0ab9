"""The audit trail and the pending revisions, kept in the store itself on both backends.

``audit_log`` is **append-only**: one line per change of an incident (who, when, the action,
the status and the values before and after). GeoPackage keeps it as a plain SQLite table with
triggers that abort any ``UPDATE`` or ``DELETE``; PostGIS keeps it as a table with a trigger
that raises on ``UPDATE``, ``DELETE`` and ``TRUNCATE`` (so a client that can write incidents
still cannot rewrite history). Nothing in riskmap offers to edit it.

``revisions`` holds edits of published incidents while they wait for review: the incident row
keeps its published values (what the public release shows) until a second person approves the
edit (:mod:`riskmap.workflow.review`).

The SQL here is written once, with ``?`` placeholders, for both SQLite and PostgreSQL
(:class:`Connection` translates); each backend creates the tables when it opens a store.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskmap.schema import STATUS, STATUSES

AUDIT_TABLE = "audit_log"
REVISIONS_TABLE = "revisions"
#: Columns of the audit log, in order.
AUDIT_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "changed_at",
    "changed_by",
    "incident_id",
    "action",
    "status_before",
    "status_after",
    "version",
    "before",
    "after",
    "comment",
)
#: Columns of the revisions table, in order.
REVISION_COLUMNS: tuple[str, ...] = (
    "revision_id",
    "incident_id",
    "base_version",
    "changes",
    "submitted_by",
    "submitted_at",
    "state",
    "closed_by",
    "closed_at",
    "comment",
)
#: States of a revision.
REVISION_STATES: tuple[str, ...] = ("pending", "approved", "returned", "rejected")
APPEND_ONLY_MESSAGE = "the audit log is append-only: its lines cannot be changed or deleted"


class Connection:
    """A database connection's ``execute`` with ``?`` placeholders, on either dialect.

    Parameters
    ----------
    con
        A :mod:`sqlite3` or psycopg connection.
    dialect
        ``"sqlite"`` or ``"postgresql"``.
    """

    def __init__(self, con: Any, dialect: str) -> None:
        self.con, self.dialect = con, dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; return its rows (none for a statement that returns none)."""
        cur = self.con.execute(self._sql(sql), tuple(params))
        return list(cur.fetchall()) if cur.description else []

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Run one statement for each row of parameters."""
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        if self.dialect == "postgresql":
            with self.con.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        else:
            self.con.executemany(sql, rows)


def schema_sql(dialect: str, *, incidents: str = "incidents") -> list[str]:
    """Return the statements that create the audit log and the revisions table if absent."""
    key = (
        "INTEGER PRIMARY KEY AUTOINCREMENT"
        if dialect == "sqlite"
        else "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    states = ", ".join(f"'{s}'" for s in REVISION_STATES)
    out = [
        f"""CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
            audit_id {key},
            changed_at text NOT NULL,
            changed_by text NOT NULL,
            incident_id text NOT NULL,
            action text NOT NULL,
            status_before text CHECK (status_before IN ({statuses})),
            status_after text CHECK (status_after IN ({statuses})),
            version integer,
            before text,
            after text,
            comment text
        )""",
        f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_incident ON {AUDIT_TABLE} (incident_id)",
        f"""CREATE TABLE IF NOT EXISTS {REVISIONS_TABLE} (
            revision_id {key},
            incident_id text NOT NULL,
            base_version integer NOT NULL,
            changes text NOT NULL,
            submitted_by text NOT NULL,
            submitted_at text NOT NULL,
            state text NOT NULL CHECK (state IN ({states})),
            closed_by text,
            closed_at text,
            comment text
        )""",
        f"CREATE INDEX IF NOT EXISTS {REVISIONS_TABLE}_incident ON {REVISIONS_TABLE} (incident_id)",
    ]
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {AUDIT_TABLE}_no_{event.lower()} "
                f"BEFORE {event} ON {AUDIT_TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    else:
        out.append(
            "CREATE OR REPLACE FUNCTION riskmap_audit_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
        )
        out.append(
            f"CREATE OR REPLACE TRIGGER {AUDIT_TABLE}_append_only "
            f"BEFORE UPDATE OR DELETE ON {AUDIT_TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION riskmap_audit_append_only()"
        )
        out.append(
            f"CREATE OR REPLACE TRIGGER {AUDIT_TABLE}_no_truncate "
            f"BEFORE TRUNCATE ON {AUDIT_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit_append_only()"
        )
    return out


@dataclass(frozen=True)
class Entry:
    """One line of the audit log, before it is written (the store adds its id and time)."""

    incident_id: str
    action: str
    by: str
    status_before: str | None = None
    status_after: str | None = None
    version: int | None = None
    before: Mapping[str, object] | None = None
    after: Mapping[str, object] | None = None
    comment: str = ""


def now_text(now: dt.datetime | None = None) -> str:
    """Return the time of a change as ISO 8601 in UTC, to the second."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")


def plain(value: object) -> object:
    """Return a cell as a JSON value: ISO dates, ``None`` for missing, Python numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_json(values: Mapping[str, object] | None) -> str | None:
    """Return values as a compact JSON object (``None`` stays ``None``)."""
    if values is None:
        return None
    return json.dumps({str(k): plain(v) for k, v in values.items()}, ensure_ascii=False)


def record(con: Connection, entries: Iterable[Entry], *, now: dt.datetime | None = None) -> None:
    """Append entries to the audit log (inside the caller's transaction)."""
    at = now_text(now)
    names = ", ".join(AUDIT_COLUMNS[1:])
    marks = ", ".join("?" * (len(AUDIT_COLUMNS) - 1))
    con.executemany(
        f"INSERT INTO {AUDIT_TABLE} ({names}) VALUES ({marks})",
        (
            (
                at,
                e.by,
                e.incident_id,
                e.action,
                e.status_before,
                e.status_after,
                e.version,
                to_json(e.before),
                to_json(e.after),
                e.comment or None,
            )
            for e in entries
        ),
    )


def record_appends(
    con: Connection,
    ids: Sequence[object],
    statuses: Sequence[object],
    versions: Sequence[int] | None,
    *,
    by: str,
    action: str = "import",
    now: dt.datetime | None = None,
) -> None:
    """Append one ``import`` line per appended incident (the fast path of a large import).

    The line names the incident, its status and version; the values are the row itself.
    """
    at, who = now_text(now), by or "unknown"
    vers = versions if versions is not None else [1] * len(ids)
    names = "changed_at, changed_by, incident_id, action, status_after, version"
    lines = [(str(i), str(s), int(v)) for i, s, v in zip(ids, statuses, vers, strict=True)]
    if not lines:
        return
    if con.dialect == "postgresql":
        with con.con.cursor() as cur, cur.copy(f"COPY {AUDIT_TABLE} ({names}) FROM STDIN") as copy:
            for line in lines:
                copy.write_row((at, who, line[0], action, line[1], line[2]))
        return
    # One statement for all the lines: run once per line, SQLite would also update the
    # AUTOINCREMENT counter of the log once per line (most of the cost of a large import's log).
    con.execute(
        f"INSERT INTO {AUDIT_TABLE} ({names}) SELECT ?, ?, json_extract(value, '$[0]'), ?, "
        "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?) ORDER BY key",
        (at, who, action, json.dumps(lines, ensure_ascii=False)),
    )


def record_new(
    con: Connection,
    ids: Sequence[str],
    *,
    status: str,
    by: str,
    action: str = "import",
    now: dt.datetime | None = None,
) -> None:
    """Append one line per new incident of ``ids``, in order: status ``status``, version 1.

    The lines of :func:`record_appends` for incidents that take one status and start at version
    1 (an import's); on PostgreSQL one statement over the ids sent as one array.
    """
    if con.dialect != "postgresql":
        record_appends(con, ids, [status] * len(ids), None, by=by, action=action, now=now)
        return
    # The ids go as one binary array (%b): a third of the client's time of a text one.
    con.execute(
        f"INSERT INTO {AUDIT_TABLE} (changed_at, changed_by, incident_id, action, status_after, "
        "version) SELECT ?, ?, i, ?, ?, 1 FROM unnest(%b::text[]) WITH ORDINALITY AS u (i, n) "
        "ORDER BY n",
        (now_text(now), by or "unknown", action, status, list(ids)),
    )


def record_from_table(
    con: Connection,
    table: str,
    *,
    by: str,
    action: str = "import",
    columns: tuple[str, str, str] = ("incident_id", STATUS, "version"),
    after_rowid: int = 0,
    now: dt.datetime | None = None,
) -> None:
    """Append one line per row of a table's rows above ``after_rowid``, in one statement.

    The lines are those of :func:`record_appends` for those rows in their order (a large
    append's new rows); ``columns`` names the table's id, status and version columns. The order
    is SQLite's ``rowid``, or in PostgreSQL the table's ``fid`` (its order of arrival).
    """
    ident, status, version = (f'"{c}"' for c in columns)
    key = "rowid" if con.dialect == "sqlite" else "fid"
    statement = (
        f"INSERT INTO {AUDIT_TABLE} (changed_at, changed_by, incident_id, action, status_after, "
        f"version) SELECT ?, ?, {ident}, ?, {status}, {version} FROM {table} WHERE {key} > ? "
        f"ORDER BY {key}"
    )
    params = (now_text(now), by or "unknown", action, after_rowid)
    listed = ", ".join(f"'{s}'" for s in STATUSES)
    if con.dialect != "sqlite" or con.execute(
        f"SELECT 1 FROM {table} WHERE rowid > ? AND {status} NOT IN ({listed}) LIMIT 1",
        (after_rowid,),
    ):
        con.execute(statement, params)  # a status the log's check refuses: it says so
        return
    # SQLite builds the list of a CHECK's IN anew for each row it checks (most of the cost of a
    # large import's log): the statuses checked above in one pass, the lines go in without the
    # checks, which every one of them passes (the log's NOT NULLs still apply).
    (ignored,) = con.execute("PRAGMA ignore_check_constraints")[0]
    con.execute("PRAGMA ignore_check_constraints = ON")
    try:
        con.execute(statement, params)
    finally:
        con.execute(f"PRAGMA ignore_check_constraints = {int(ignored)}")


def read_log(con: Connection, incident_id: str | None = None) -> pd.DataFrame:
    """Return the audit log (all of it, or one incident's), oldest first."""
    sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {AUDIT_TABLE}"
    params: tuple[object, ...] = ()
    if incident_id is not None:
        sql += " WHERE incident_id = ?"
        params = (incident_id,)
    rows = con.execute(sql + " ORDER BY audit_id", params)
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS), dtype=object)
    frame["audit_id"] = frame["audit_id"].astype("int64")
    frame["version"] = pd.array(frame["version"].tolist(), dtype="Int64")
    return frame


def last_audit_id(con: Connection) -> int:
    """Return the id of the latest audit line (0 for an empty log)."""
    rows = con.execute(f"SELECT coalesce(max(audit_id), 0) FROM {AUDIT_TABLE}")
    return int(rows[0][0]) if rows else 0


def log_csv(log: pd.DataFrame) -> bytes:
    """Return the audit log as UTF-8 CSV (with a BOM, for spreadsheets), formulas guarded."""
    out = log.astype(object).where(log.notna(), "")
    for col in out.columns:
        out[col] = [_guard(str(v)) for v in out[col]]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8-sig")


def _guard(text: str) -> str:
    # A cell a spreadsheet would run as a formula (OWASP CSV injection) gets a leading quote.
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def set_status(con: Connection, incident_id: str, *, status: str, version: int) -> None:
    """Give an incident a new status and version (inside the caller's transaction)."""
    con.execute(
        f"UPDATE incidents SET {STATUS} = ?, version = ? WHERE incident_id = ?",
        (status, version, incident_id),
    )


def add_revision(
    con: Connection,
    incident_id: str,
    *,
    base_version: int,
    changes: Mapping[str, object],
    by: str,
    now: dt.datetime | None = None,
) -> int:
    """Add a pending revision of a published incident; return its id."""
    con.execute(
        f"INSERT INTO {REVISIONS_TABLE} (incident_id, base_version, changes, submitted_by, "
        "submitted_at, state) VALUES (?, ?, ?, ?, ?, 'pending')",
        (incident_id, base_version, to_json(changes), by, now_text(now)),
    )
    rows = con.execute(
        f"SELECT max(revision_id) FROM {REVISIONS_TABLE} WHERE incident_id = ?", (incident_id,)
    )
    return int(rows[0][0])


def close_revision(
    con: Connection,
    revision_id: int,
    *,
    state: str,
    by: str,
    comment: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Mark a pending revision approved, returned or rejected."""
    con.execute(
        f"UPDATE {REVISIONS_TABLE} SET state = ?, closed_by = ?, closed_at = ?, comment = ? "
        "WHERE revision_id = ? AND state = 'pending'",
        (state, by, now_text(now), comment or None, revision_id),
    )


def read_revisions(
    con: Connection, *, incident_id: str | None = None, state: str | None = "pending"
) -> pd.DataFrame:
    """Return revisions (by default the pending ones), oldest first; ``changes`` parsed."""
    sql = f"SELECT {', '.join(REVISION_COLUMNS)} FROM {REVISIONS_TABLE} WHERE 1 = 1"
    params: list[object] = []
    if incident_id is not None:
        sql += " AND incident_id = ?"
        params.append(incident_id)
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    rows = con.execute(sql + " ORDER BY revision_id", params)
    frame = pd.DataFrame(rows, columns=list(REVISION_COLUMNS), dtype=object)
    frame["changes"] = [json.loads(c) for c in frame["changes"]]
    for col in ("revision_id", "base_version"):
        frame[col] = frame[col].astype("int64")
    return frame


__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_TABLE",
    "REVISIONS_TABLE",
    "REVISION_COLUMNS",
    "REVISION_STATES",
    "Connection",
    "Entry",
    "add_revision",
    "close_revision",
    "last_audit_id",
    "log_csv",
    "now_text",
    "plain",
    "read_log",
    "read_revisions",
    "record",
    "record_appends",
    "record_from_table",
    "record_new",
    "schema_sql",
    "set_status",
    "to_json",
]
