"""The incident store on a PostgreSQL server with PostGIS, shared by several app servers.

Select it with ``RISKMAP_STORE=postgresql://user@host/db`` or ``--store postgresql://…``. The
table ``incidents`` mirrors the canonical columns (:mod:`riskmap.schema`); its enumerations are
CHECK constraints, so the server itself refuses a value the model does not know. ``geom`` is a
``geometry(Point, 4326)`` generated from ``lon``/``lat`` (it can never disagree with them) with a
GiST index; ``version`` counts the edits of each row; ``fid`` keeps the order of arrival;
``status`` is the review status (a CHECK constraint over :data:`riskmap.schema.STATUSES`; a
table from before statuses is upgraded when first opened, its incidents ``published``). The audit
log (with a trigger refusing ``UPDATE``, ``DELETE`` and ``TRUNCATE``) and the pending revisions
are tables in the same database (:mod:`riskmap.store.audit`).

Every import is one transaction under an advisory lock (lookups in the primary key, the audit
lines written from the new ids while the client geocodes, then one ``COPY``), so a failed import
adds nothing; an edit locks its row (``SELECT … FOR UPDATE``)
and checks its version before writing. Uses psycopg 3 (https://www.psycopg.org/psycopg3/).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from riskmap.errors import StoreError
from riskmap.schema import (
    COLUMNS,
    INCIDENT_TYPES,
    PUBLISHED,
    STATUS,
    STATUSES,
    VOCABULARIES,
    conform,
)
from riskmap.store import audit
from riskmap.store.base import (
    VERSION,
    changed_values,
    conflict,
    edited_row,
    import_entries,
    not_found,
    placed,
    record_columns,
    records,
    statuses_of,
)
from riskmap.store.geopackage import quarantine_path, to_geoframe, with_status

TABLE = "incidents"
#: Seconds to wait for the server to answer a connection.
CONNECT_TIMEOUT_S = 10
#: Key of the advisory lock that serialises imports (and schema creation).
_LOCK_KEY = 0x5249534B  # "RISK"
_SQL_TYPES = {
    "string": "text",
    "datetime64[ns]": "date",
    "float64": "double precision",
    "Int64": "integer",
    "boolean": "boolean",
}
#: Types of the columns in a binary ``COPY``, by canonical dtype.
_COPY_TYPES = {
    "string": "text",
    "datetime64[ns]": "date",
    "float64": "float8",
    "Int64": "int4",
    "boolean": "bool",
}


def schema_sql() -> list[str]:
    """Return the statements that create the incident table and its indexes if absent."""
    cols = []
    for col, dtype in COLUMNS.items():
        line = f"{col} {_SQL_TYPES[dtype]}"
        if col == "incident_id":
            line += " PRIMARY KEY CHECK (incident_id <> '')"
        elif col in {"date", "incident_types"}:
            line += " NOT NULL"
        if col == "incident_types":
            line += f" CHECK ({types_check()})"
        elif col in VOCABULARIES:
            allowed = ", ".join(f"'{v}'" for v in VOCABULARIES[col])
            line += f" CHECK ({col} IN ({allowed}))"
        elif col in {"victims", "children"}:
            line += f" CHECK ({col} >= 0)"
        elif col == "lat":
            line += " CHECK (lat BETWEEN -90 AND 90)"
        elif col == "lon":
            line += " CHECK (lon BETWEEN -180 AND 180)"
        cols.append(line)
    body = ",\n    ".join(
        [
            "fid bigint GENERATED ALWAYS AS IDENTITY UNIQUE",
            *cols,
            "geom geometry(Point, 4326) GENERATED ALWAYS AS "
            "(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED",
            f"{VERSION} integer NOT NULL DEFAULT 1 CHECK ({VERSION} >= 1)",
            "CONSTRAINT incidents_children_within_victims "
            "CHECK (coalesce(children, 0) <= coalesce(victims, 0))",
        ]
    )
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (\n    {body}\n)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_geom_idx ON {TABLE} USING gist (geom)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_date_idx ON {TABLE} (date)",
        *audit.schema_sql("postgresql", incidents=TABLE),
    ]


def types_check() -> str:
    """Return the condition on ``incident_types``: known types joined by ``|``, none empty.

    The same values as the regular expression ``^(t1|…)([|](t1|…))*$`` of earlier tables
    (compared on 80k strings), at a tenth of its cost to the server for every row inserted
    (the expression took 2.6 µs a row, a fifth of the server's time in a bulk ``COPY``).
    """
    known = ", ".join(f"'{t}'" for t in INCIDENT_TYPES)
    return (
        f"incident_types <> '' AND string_to_array(incident_types, '|') <@ ARRAY[{known}]::text[]"
    )


def upgrade_sql(checks: Mapping[str, str]) -> list[str]:
    """Return the statements that bring an older table's constraints to :func:`schema_sql`'s.

    Parameters
    ----------
    checks
        The table's constraint names and definitions (``pg_get_constraintdef``).
    """
    name = f"{TABLE}_incident_types_check"
    if "~" not in checks.get(name, ""):
        return []
    # The same values in a cheaper form, swapped in one statement (the table is checked once).
    return [
        f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} CHECK ({types_check()})"
    ]


def status_sql() -> list[str]:
    """Return the statements that add the review status to a table from before statuses."""
    allowed = ", ".join(f"'{s}'" for s in STATUSES)
    return [
        f"ALTER TABLE {TABLE} ADD COLUMN {STATUS} text CHECK ({STATUS} IN ({allowed}))",
        # Its incidents were all public; later inserts name their status (no default).
        f"UPDATE {TABLE} SET {STATUS} = '{PUBLISHED}'",
        f"ALTER TABLE {TABLE} ALTER COLUMN {STATUS} SET NOT NULL",
    ]


def redact(url: str) -> str:
    """Return ``url`` without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostGISStore:
    """The PostGIS backend of :class:`riskmap.store.base.IncidentStore`.

    Parameters
    ----------
    url
        A libpq connection URL, ``postgresql://user:password@host:port/database``.

    Raises
    ------
    StoreError
        If ``url`` is not a PostgreSQL URL or psycopg is not installed.
    """

    def __init__(self, url: str) -> None:
        self.url = url.strip()
        self.name = redact(self.url)
        try:
            import psycopg.conninfo
        except ImportError as e:
            msg = (
                f"{self.name}: the PostGIS store needs psycopg; install it with "
                "`pip install 'riskmap[postgis]'`"
            )
            raise StoreError(msg) from e
        try:
            self._info = psycopg.conninfo.conninfo_to_dict(self.url)
        except psycopg.ProgrammingError as e:
            msg = (
                f"{self.name}: not a usable PostgreSQL URL ({' '.join(str(e).split())}); "
                "write it as postgresql://user:password@host:port/database"
            )
            raise StoreError(msg) from e
        self._ready = False

    def exists(self) -> bool:
        """Tell whether the server holds the incident table."""
        with self._connect() as con:
            found = con.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
        return found is not None and found[0] is not None

    def read(self, *, versions: bool = False) -> gpd.GeoDataFrame:
        """Return every incident with its ``status``, in order of arrival.

        With ``versions``, a ``version`` column too.
        """
        self._ensure()
        with self._connect() as con:
            cur = con.execute(
                f"SELECT {_select_list()}, {VERSION}, {STATUS} FROM {TABLE} ORDER BY fid"
            )
            rows = cur.fetchall()
        frame = _frame(rows, extra=(STATUS,))
        out = with_status(to_geoframe(frame), frame[STATUS])
        if versions:
            out[VERSION] = frame[VERSION].astype("int64").to_numpy()
        return out

    def count(self) -> int:
        """Return the number of incidents (0 before the table exists)."""
        if not self.exists():
            return 0
        with self._connect() as con:
            row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(row[0]) if row else 0

    def store_version(self) -> dict[str, object] | None:
        """Identify this state of the store: counts, versions and the last audit line.

        Every change appends to the audit log (and an edit or review step raises a version),
        so the pair changes whenever what a release would hold can change.
        """
        self._ensure()
        with self._connect() as con:
            row = con.execute(
                f"SELECT count(*), coalesce(sum({VERSION}), 0), coalesce(max(fid), 0), "
                f"(SELECT coalesce(max(audit_id), 0) FROM {audit.AUDIT_TABLE}) FROM {TABLE}"
            ).fetchone()
        count, versions, last, audit_id = (int(v) for v in row)
        return {
            "backend": "postgis",
            "store": self.name,
            "count": count,
            "versions": versions,
            "last_fid": last,
            "last_audit_id": audit_id,
        }

    @contextlib.contextmanager
    def connection(self) -> Iterator[audit.Connection]:
        """Open a connection for reading the store's tables."""
        self._ensure()
        with self._connect() as con:
            yield audit.Connection(con, "postgresql")

    @contextlib.contextmanager
    def writer(self, *, status: str = "in_review", by: str = "") -> Iterator[_PostGISWriter]:
        """Open one transaction under the import lock; commit if the block succeeds.

        Parameters
        ----------
        status
            The status of appended incidents that do not carry one.
        by
            Who writes (for the audit log).
        """
        self._ensure()
        with self._connect() as con:
            try:
                with con.transaction():
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                    yield _PostGISWriter(self, con, status=status, by=by)
            except self._psycopg.errors.UniqueViolation as e:
                detail = e.diag.message_detail or str(e)
                msg = f"{self.name}: nothing added: {detail}; give new incidents new ids"
                raise StoreError(msg) from e
            except (self._psycopg.errors.IntegrityError, self._psycopg.DataError) as e:
                msg = f"{self.name}: nothing added: {_explain(e)}"
                raise StoreError(msg) from e

    def get(self, incident_id: str) -> tuple[dict[str, object], int]:
        """Return one incident's canonical values and its version.

        Raises
        ------
        StoreError
            If the store does not hold the incident.
        """
        self._ensure()
        with self._connect() as con:
            found = _frame(
                con.execute(
                    f"SELECT {_select_list()}, {VERSION} FROM {TABLE} WHERE incident_id = %s",
                    (incident_id,),
                ).fetchall()
            )
        if found.empty:
            raise not_found(self.name, incident_id)
        row = found.iloc[0]
        return {c: row[c] for c in COLUMNS}, int(row[VERSION])

    def update(
        self,
        incident_id: str,
        changes: Mapping[str, object],
        *,
        expected_version: int,
        by: str = "",
    ) -> int:
        """Apply ``changes`` if the incident is still at ``expected_version`` (audited).

        A store-level edit, in place whatever the status: the app edits through
        :mod:`riskmap.workflow.review`, which holds an edit of a published incident for review.

        Returns
        -------
        int
            The incident's new version.

        Raises
        ------
        StoreConflictError
            If the store holds another version (nothing is written).
        SchemaError
            If the edited incident would not be valid.
        """
        self._ensure()
        cols = list(COLUMNS)
        with self._connect() as con, con.transaction():
            found = _frame(
                con.execute(
                    f"SELECT {_select_list()}, {VERSION}, {STATUS} FROM {TABLE} "
                    "WHERE incident_id = %s FOR UPDATE",
                    (incident_id,),
                ).fetchall(),
                extra=(STATUS,),
            )
            if found.empty:
                raise not_found(self.name, incident_id)
            current = int(found.iloc[0][VERSION])
            if current != expected_version:
                raise conflict(self.name, incident_id, expected=expected_version, current=current)
            edited = edited_row(found.iloc[0].to_dict(), changes, incident_id=incident_id)
            row = records(edited)
            sets = ", ".join(f"{c} = %s" for c in cols[1:])
            con.execute(
                f"UPDATE {TABLE} SET {sets}, {VERSION} = {VERSION} + 1 WHERE incident_id = %s",
                (*row[0][1:], incident_id),
            )
            before, after = changed_values(found.iloc[0], edited.iloc[0])
            status = str(found.iloc[0][STATUS])
            audit.record(
                audit.Connection(con, "postgresql"),
                [
                    audit.Entry(
                        incident_id,
                        "edit",
                        by or "unknown",
                        status,
                        status,
                        current + 1,
                        before,
                        after,
                    )
                ],
            )
        return current + 1

    def quarantine_path(self, source: str | os.PathLike[str]) -> Path:
        """Return the quarantine CSV for ``source``: in the current folder, named by database."""
        return quarantine_path(Path(f"{self._info.get('dbname') or TABLE}.gpkg"), source)

    @property
    def _psycopg(self) -> Any:
        import psycopg

        return psycopg

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        psycopg = self._psycopg
        try:
            con = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as e:
            first = (str(e).strip().splitlines() or ["no answer"])[-1]
            msg = (
                f"{self.name}: cannot connect to the PostGIS store ({first}); check the URL, "
                "that the server is running and that it accepts this user"
            )
            raise StoreError(msg) from e
        try:
            with con:
                yield con
        except psycopg.OperationalError as e:
            msg = f"{self.name}: the connection to the PostGIS store failed ({_explain(e)})"
            raise StoreError(msg) from e

    def _ensure(self) -> None:
        """Create the PostGIS extension, the table and its indexes if absent (once a process)."""
        if self._ready:
            return
        psycopg = self._psycopg
        with self._connect() as con:
            try:
                with con.transaction():
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                    has = con.execute(
                        "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
                    ).fetchone()
                    if has is None:
                        con.execute("CREATE EXTENSION postgis")
                    for statement in schema_sql():
                        con.execute(statement)
                    has_status = con.execute(
                        "SELECT 1 FROM information_schema.columns "
                        "WHERE table_name = %s AND column_name = %s",
                        (TABLE, STATUS),
                    ).fetchone()
                    if has_status is None:
                        for statement in status_sql():
                            con.execute(statement)
                    checks = con.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass",
                        (TABLE,),
                    ).fetchall()
                    for statement in upgrade_sql(dict(checks)):
                        con.execute(statement)
            except psycopg.Error as e:
                msg = (
                    f"{self.name}: cannot create the incident table ({_explain(e)}); the database "
                    "needs the PostGIS extension (`CREATE EXTENSION postgis;` as its owner) and a "
                    "user allowed to create tables"
                )
                raise StoreError(msg) from e
        self._ready = True


class _PostGISWriter:
    """Lookups, ``COPY`` and review steps inside a :meth:`PostGISStore.writer` transaction."""

    def __init__(self, store: PostGISStore, con: Any, *, status: str, by: str) -> None:
        self._store, self._con = store, con
        self.status, self.by = status, by
        #: The transaction's connection, for the audit log and the revisions.
        self.con = audit.Connection(con, "postgresql")

    def incidents(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids`` with ``version`` and ``status``, locked."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        cur = self._con.execute(
            f"SELECT {_select_list()}, {VERSION}, {STATUS} FROM {TABLE} "
            "WHERE incident_id = ANY(%b) ORDER BY fid FOR UPDATE",
            (wanted,),
        )
        return _frame(cur.fetchall(), extra=(STATUS,))

    def write(self, row: pd.DataFrame, *, version: int) -> None:
        """Overwrite one stored incident with the one-row canonical table ``row``."""
        values = records(row)[0]
        sets = ", ".join(f"{c} = %s" for c in list(COLUMNS)[1:])
        self._con.execute(
            f"UPDATE {TABLE} SET {sets}, {VERSION} = %s WHERE incident_id = %s",
            (*values[1:], version, values[0]),
        )

    def lookup(self, ids: Iterable[str]) -> pd.DataFrame:
        """Return the stored incidents among ``ids``, found through the primary key."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        if not wanted:
            return conform(pd.DataFrame(columns=list(COLUMNS)))
        # The ids as one binary array (%b): half the client's and the server's time of text.
        cur = self._con.execute(
            f"SELECT {_select_list()}, {VERSION} FROM {TABLE} WHERE incident_id = ANY(%b)",
            (wanted,),
        )
        return _frame(cur.fetchall()).drop(columns=VERSION)

    def append_placed(
        self, ids: Sequence[str], place: Callable[[], pd.DataFrame], *, action: str = "import"
    ) -> None:
        """Copy in the new incidents ``place()`` returns (``ids``, in order) as :meth:`append`.

        Their audit lines need only the ids (new incidents take the writer's status and
        version 1), so the server writes them while ``place()`` runs here: a worker thread
        sends the statement and waits for the server without holding the interpreter, and the
        client's work and the server's overlap on two cores. The rows are copied in after, in
        the same transaction; the log's lines keep the order of ``ids``.

        Raises
        ------
        ValueError
            If ``place()`` returns other incidents than ``ids`` (:func:`.base.placed`).
        """
        wanted = [str(i) for i in ids]
        failed: list[BaseException] = []

        def write_lines() -> None:
            try:
                audit.record_new(self.con, wanted, status=self.status, by=self.by, action=action)
            except BaseException as e:  # raised again in the writer's thread below
                failed.append(e)

        worker = threading.Thread(target=write_lines, name="riskmap-audit-lines")
        if wanted:
            worker.start()
        try:
            frame = placed(wanted, place, status=self.status)
        finally:
            if wanted:
                worker.join()
        if failed:
            raise failed[0]
        self.append(frame, action=action, audited=False)

    def append(self, frame: pd.DataFrame, *, action: str = "import", audited: bool = True) -> None:
        """Copy new incidents in, each with one line in the audit log.

        A ``version`` column in ``frame`` is kept (else 1), and so is a ``status`` column
        (else the writer's status).
        """
        if not len(frame):
            return
        statuses = statuses_of(frame, default=self.status).tolist()
        columns = record_columns(pd.DataFrame(frame).drop(columns="geometry", errors="ignore"))
        # Binary COPY spares the server parsing text: dates go as dates, not ISO text.
        dates = columns[list(COLUMNS).index("date")]
        parsed = {d: dt.date.fromisoformat(str(d)) for d in set(dates) if d is not None}
        columns = [
            [parsed.get(d) if d is not None else None for d in dates] if c == "date" else v
            for c, v in zip(COLUMNS, columns, strict=True)
        ]
        names, types = [*COLUMNS, STATUS], [*(_COPY_TYPES[t] for t in COLUMNS.values()), "text"]
        columns.append(statuses)
        versions = None
        if VERSION in frame:
            versions = frame[VERSION].astype("int64").tolist()
            columns.append(versions)
            names.append(VERSION)
            types.append("int4")
        # Appends run under the import lock: the new rows are those above the last fid (asked
        # only when the server writes their audit lines from the table).
        from_table = audited and action != "create"
        if from_table:
            (last,) = self._con.execute(f"SELECT coalesce(max(fid), 0) FROM {TABLE}").fetchone()
        statement = f"COPY {TABLE} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
        with self._con.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(types)
            for row in zip(*columns, strict=True):
                copy.write_row(row)
        if audited and action == "create":
            canonical = records(pd.DataFrame(frame).drop(columns="geometry", errors="ignore"))
            audit.record(
                self.con, import_entries(canonical, statuses, versions, by=self.by, action=action)
            )
        elif from_table:
            # The lines written by the server from the rows just copied, in their order: the
            # client does not send them again.
            audit.record_from_table(self.con, TABLE, by=self.by, action=action, after_rowid=last)


def _select_list() -> str:
    return ", ".join(COLUMNS)


def _frame(rows: list[tuple[object, ...]], *, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*COLUMNS, VERSION, *extra], dtype=object)
    frame["date"] = [d.isoformat() if isinstance(d, dt.date) else d for d in frame["date"]]
    out = conform(frame)
    out[VERSION] = frame[VERSION].astype("int64")
    for col in extra:
        out[col] = frame[col].astype("string")
    return out


def _explain(error: Exception) -> str:
    diag = getattr(error, "diag", None)
    parts = [getattr(diag, "message_primary", None) or str(error).strip().splitlines()[0]]
    for extra in ("message_detail", "context"):
        text = getattr(diag, extra, None)
        if text:
            parts.append(" ".join(text.split()))
    return "; ".join(parts)


__all__ = [
    "TABLE",
    "PostGISStore",
    "redact",
    "schema_sql",
    "status_sql",
    "types_check",
    "upgrade_sql",
]
