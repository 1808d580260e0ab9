"""Move an incident store from one backend to another, and prove nothing was lost.

The target must be empty. Every incident is copied with its version and review status, and the
audit log and the revisions line by line (their times and authors kept), in one transaction;
the target is then read back and its count, :func:`riskmap.store.base.content_hash`, statuses
and number of audit lines compared with the source's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from riskmap.errors import StoreError
from riskmap.schema import STATUS
from riskmap.store import audit
from riskmap.store.base import VERSION, IncidentStore, content_hash


@dataclass(frozen=True)
class MigrationReport:
    """Counts and content hashes of both stores after a migration."""

    source: str
    target: str
    source_count: int
    target_count: int
    source_hash: str
    target_hash: str
    #: Lines of the audit log in each store.
    source_audit: int = 0
    target_audit: int = 0

    @property
    def ok(self) -> bool:
        """Tell whether the target holds exactly the source's incidents and audit log."""
        return (
            self.source_count == self.target_count
            and self.source_hash == self.target_hash
            and self.source_audit == self.target_audit
        )

    def summary(self) -> dict[str, object]:
        """Return the report as the JSON of ``riskmap store migrate --json``."""
        return {
            "source": self.source,
            "target": self.target,
            "source_count": self.source_count,
            "target_count": self.target_count,
            "source_hash": self.source_hash,
            "target_hash": self.target_hash,
            "source_audit": self.source_audit,
            "target_audit": self.target_audit,
            "ok": self.ok,
        }


def migrate_store(
    source: str | os.PathLike[str] | IncidentStore, target: str | os.PathLike[str] | IncidentStore
) -> MigrationReport:
    """Copy every incident of ``source`` into the empty store ``target``.

    Parameters
    ----------
    source
        The store to copy (a GeoPackage path or a ``postgresql://`` URL, or an opened store).
    target
        The store to fill; it must not exist yet or hold no incidents.

    Returns
    -------
    MigrationReport
        Both counts and hashes; check :attr:`MigrationReport.ok`.

    Raises
    ------
    StoreError
        If the source cannot be read, the target already holds incidents or cannot be written.
    """
    from riskmap.store import open_store

    src = open_store(source)
    dst = open_store(target)
    if src.name == dst.name:
        msg = f"{src.name}: the source and the target are the same store"
        raise StoreError(msg)
    if not src.exists():
        msg = f"{src.name}: no incident store here to migrate"
        raise StoreError(msg)
    frame = src.read(versions=True)
    held = dst.count()
    if held:
        msg = (
            f"{dst.name}: already holds {held} incident(s); migrate only into an empty store "
            "(or import into it with `riskmap import`)"
        )
        raise StoreError(msg)
    with src.connection() as con:
        log = audit.read_log(con)
        revisions = audit.read_revisions(con, state=None)
    with dst.writer() as writer:
        writer.append(frame, audited=False)
        _copy_rows(writer.con, audit.AUDIT_TABLE, log)
        revisions["changes"] = [audit.to_json(c) for c in revisions["changes"]]
        _copy_rows(writer.con, audit.REVISIONS_TABLE, revisions)
    copied = dst.read(versions=True)
    copied_versions = copied.set_index("incident_id")[VERSION].reindex(frame["incident_id"])
    copied_statuses = copied.set_index("incident_id")[STATUS].reindex(frame["incident_id"])
    lost = frame[VERSION].ne(copied_versions.to_numpy()) | frame[STATUS].ne(
        copied_statuses.to_numpy()
    )
    if lost.any():
        msg = (
            f"{dst.name}: versions or statuses differ after the copy for {int(lost.sum())} "
            "incident(s)"
        )
        raise StoreError(msg)
    with dst.connection() as con:
        copied_log = len(audit.read_log(con))
    return MigrationReport(
        source=src.name,
        target=dst.name,
        source_count=len(frame),
        target_count=len(copied),
        source_hash=content_hash(frame),
        target_hash=content_hash(copied),
        source_audit=len(log),
        target_audit=copied_log,
    )


def _copy_rows(con: audit.Connection, table: str, rows: pd.DataFrame) -> None:
    """Insert rows read from another store (their ids are given anew, in the same order)."""
    columns = [c for c in rows.columns if not c.endswith("_id") or c == "incident_id"]
    names, marks = ", ".join(columns), ", ".join("?" * len(columns))
    values = rows[columns].astype(object).where(rows[columns].notna(), None)
    con.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})",
        (tuple(audit.plain(v) for v in row) for row in values.itertuples(index=False)),
    )


__all__ = ["MigrationReport", "migrate_store"]
