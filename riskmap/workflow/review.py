"""The review workflow: nothing reaches the public until a second person has checked it.

An incident's status (:data:`riskmap.schema.STATUSES`) moves along these steps, each one
recorded in the store's append-only audit log (:mod:`riskmap.store.audit`) with who, when, the
status before and after, and a comment:

=============  ======================  =============  ==========================================
step           from                    to             who
=============  ======================  =============  ==========================================
record         (new)                   draft or       any staff member (the form's "submit"
                                       in_review      sends it for review at once)
import         (new)                   in_review      ``riskmap import``, the app's upload;
                                       (published)    ``--publish`` by someone who may publish
submit         draft                   in_review      any staff member
approve        in_review               published      someone who may publish, not an author
send_back      in_review               draft          a reviewer, with a comment
reject         draft, in_review        rejected       a reviewer
retract        published               retracted      someone who may publish, with a reason
=============  ======================  =============  ==========================================

**Two-person rule** (``Settings.two_person_rule``, on by default), as for staff-verified place
locations (:mod:`riskmap.workflow.places`): nobody approves a record they created, imported or
edited since it was last approved.

**Edits of published incidents are held for review**: :func:`edit_incident` on a published
incident stores the edit as a pending revision and leaves the incident as it is, so the public
release keeps the published version; approving the revision applies it (same rule: not by its
author). Drafts and incidents in review are edited in place. Every step checks the incident's
row version when the caller names the one it showed, so two reviewers never act on a record
that changed under them (:class:`riskmap.store.StoreConflictError`).

Only ``published`` incidents enter the public release (:func:`riskmap.release.public.
build_release` drops the others itself, so no caller can forget to).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from riskmap.errors import RiskmapError
from riskmap.schema import PUBLISHED, STATUS, split_types
from riskmap.settings import Settings
from riskmap.store import IncidentStore, StoreWriter, open_store
from riskmap.store import audit as _audit
from riskmap.store.base import VERSION, changed_values, conflict, edited_row, not_found

#: Review steps: the statuses they start from and the one they lead to.
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "in_review"),
    "approve": (frozenset({"in_review"}), PUBLISHED),
    "send_back": (frozenset({"in_review"}), "draft"),
    "reject": (frozenset({"draft", "in_review"}), "rejected"),
    "retract": (frozenset({PUBLISHED}), "retracted"),
}
#: Audit actions that change what an incident says (their authors may not approve it).
AUTHOR_ACTIONS: frozenset[str] = frozenset({"create", "import", "edit"})
#: Audit actions after which a record counts as checked (authors start afresh).
APPROVALS: frozenset[str] = frozenset({"approve", "approve_edit"})
#: Columns of the review queue, in order.
QUEUE_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "kind",
    "version",
    "submitted_by",
    "submitted_at",
    "date",
    "date_precision",
    "incident_types",
    "perpetrator",
    "city",
    "location_text",
    "place_id",
    "place_type",
    "geo_precision",
    "lat",
    "lon",
    "changes",
    "duplicates",
)

Store = str | os.PathLike[str] | IncidentStore
_DONE = {
    "submit": "submitted",
    "approve": "approved",
    "send_back": "sent back",
    "reject": "rejected",
    "retract": "retracted",
}


class ReviewError(RiskmapError, ValueError):
    """A review step that cannot be taken (wrong status, same person twice, no right)."""


@dataclass(frozen=True)
class Outcome:
    """What a step did."""

    incident_id: str
    #: The audit action written.
    action: str
    #: The incident's status and version afterwards.
    status: str
    version: int


def may_publish(email: str, settings: Settings) -> bool:
    """Tell whether ``email`` may publish: ``Settings.publishers``, else the staff list."""
    who = str(email or "").strip().lower()
    allowed = settings.publishers or settings.allowed_emails
    return bool(who) and who in allowed


def record_incident(store: Store, row: pd.DataFrame, *, by: str, submit: bool = True) -> Outcome:
    """Add one incident typed in by a staff member (see :func:`riskmap.ingest.form.prepare`).

    Parameters
    ----------
    store
        The store.
    row
        One canonical row, checked.
    by
        The staff member's e-mail.
    submit
        Send it for review at once (``in_review``); else keep it as a ``draft``.

    Raises
    ------
    StoreError
        If the id is already in the store or the store cannot be written.
    """
    by = _who(by)
    status = "in_review" if submit else "draft"
    with open_store(store).writer(status=status, by=by) as writer:
        writer.append(row.drop(columns=[STATUS], errors="ignore"), action="create")
    return Outcome(str(row["incident_id"].iloc[0]), "create", status, 1)


def edit_incident(
    store: Store,
    incident_id: str,
    changes: Mapping[str, object],
    *,
    by: str,
    expected_version: int,
) -> Outcome:
    """Edit an incident: in place while it is a draft or in review; held for review if published.

    Raises
    ------
    ReviewError
        If the incident is rejected or retracted, or an edit of it already waits for review.
    StoreConflictError
        If the incident changed since ``expected_version``.
    SchemaError
        If the edit names an unknown column or makes the incident invalid.
    """
    by = _who(by)
    target = open_store(store)
    with target.writer(by=by) as writer:
        current, version, status = _locked(writer, target, incident_id, expected_version)
        row = edited_row(current, changes, incident_id=incident_id)
        before, after = changed_values(current, row.iloc[0])
        if not after:
            return Outcome(incident_id, "none", status, version)
        if status == PUBLISHED:
            if len(_audit.read_revisions(writer.con, incident_id=incident_id)):
                msg = (
                    f"incident {incident_id}: an edit of it already waits for review; approve, "
                    "send back or reject that one first"
                )
                raise ReviewError(msg)
            _audit.add_revision(writer.con, incident_id, base_version=version, changes=after, by=by)
            _log(writer, incident_id, "propose_edit", by, status, status, version, before, after)
            return Outcome(incident_id, "propose_edit", status, version)
        if status not in {"draft", "in_review"}:
            msg = f"incident {incident_id} is {status}: it cannot be edited"
            raise ReviewError(msg)
        writer.write(row, version=version + 1)
        _log(writer, incident_id, "edit", by, status, status, version + 1, before, after)
        return Outcome(incident_id, "edit", status, version + 1)


def submit(
    store: Store, incident_id: str, *, by: str, expected_version: int | None = None
) -> Outcome:
    """Send a draft for review."""
    return _step(store, incident_id, "submit", by=by, expected_version=expected_version)


def approve(
    store: Store,
    incident_id: str,
    *,
    by: str,
    settings: Settings,
    expected_version: int | None = None,
    comment: str = "",
) -> Outcome:
    """Publish an incident in review, or apply the edit of a published one that waits.

    Raises
    ------
    ReviewError
        If ``by`` may not publish, is an author of what waits (two-person rule), or nothing
        of the incident waits for review.
    """
    by = _who(by)
    if not may_publish(by, settings):
        msg = f"{by} may not publish: ask someone in RISKMAP_PUBLISHERS to approve this record"
        raise ReviewError(msg)
    target = open_store(store)
    with target.writer(by=by) as writer:
        current, version, status = _locked(writer, target, incident_id, expected_version)
        revision = _pending(writer, incident_id)
        if revision is not None and status == PUBLISHED:
            if settings.two_person_rule and revision["submitted_by"] == by:
                raise ReviewError(_own(by, incident_id, "edit"))
            if int(revision["base_version"]) != version:
                msg = (
                    f"incident {incident_id} changed since this edit was proposed (version "
                    f"{revision['base_version']}, now {version}); send the edit back"
                )
                raise ReviewError(msg)
            row = edited_row(current, revision["changes"], incident_id=incident_id)
            before, after = changed_values(current, row.iloc[0])
            writer.write(row, version=version + 1)
            _audit.close_revision(
                writer.con, int(revision["revision_id"]), state="approved", by=by, comment=comment
            )
            _log(
                writer,
                incident_id,
                "approve_edit",
                by,
                status,
                status,
                version + 1,
                before,
                after,
                comment,
            )
            return Outcome(incident_id, "approve_edit", status, version + 1)
        if settings.two_person_rule and by in authors(writer.con, incident_id):
            raise ReviewError(_own(by, incident_id, "record"))
        return _move(writer, incident_id, "approve", by, status, version, comment)


def send_back(
    store: Store,
    incident_id: str,
    *,
    by: str,
    comment: str,
    expected_version: int | None = None,
) -> Outcome:
    """Return a record in review (or a waiting edit) to its author, saying what to fix.

    Raises
    ------
    ReviewError
        Without a comment, or if nothing of the incident waits for review.
    """
    if not str(comment or "").strip():
        msg = "say what needs fixing (a comment is required to send a record back)"
        raise ReviewError(msg)
    return _close_or_step(store, incident_id, "send_back", by, comment, expected_version)


def reject(
    store: Store,
    incident_id: str,
    *,
    by: str,
    comment: str = "",
    expected_version: int | None = None,
) -> Outcome:
    """Reject a draft or a record in review (it never reaches the public), or a waiting edit."""
    return _close_or_step(store, incident_id, "reject", by, comment, expected_version)


def retract(
    store: Store,
    incident_id: str,
    *,
    by: str,
    settings: Settings,
    comment: str,
    expected_version: int | None = None,
) -> Outcome:
    """Take a published incident out of the public release, with the reason.

    Raises
    ------
    ReviewError
        If ``by`` may not publish, no reason is given, or the incident is not published.
    """
    if not may_publish(by, settings):
        msg = f"{_who(by)} may not retract published incidents (RISKMAP_PUBLISHERS)"
        raise ReviewError(msg)
    if not str(comment or "").strip():
        msg = "say why the incident is retracted (a reason is required)"
        raise ReviewError(msg)
    return _step(
        store, incident_id, "retract", by=by, expected_version=expected_version, comment=comment
    )


def authors(con: _audit.Connection, incident_id: str) -> set[str]:
    """Return who created, imported or edited an incident since it was last approved."""
    log = _audit.read_log(con, incident_id)
    approvals = log.index[log["action"].isin(APPROVALS)]
    if len(approvals):
        log = log.loc[approvals[-1] + 1 :]
    return set(log.loc[log["action"].isin(AUTHOR_ACTIONS), "changed_by"].astype(str))


def authors_of(store: Store, incident_id: str) -> set[str]:
    """Return who may not approve an incident under the two-person rule (:func:`authors`)."""
    with open_store(store).connection() as con:
        return authors(con, incident_id)


def status_counts(store: Store) -> dict[str, int]:
    """Return how many incidents the store holds in each status."""
    target = open_store(store)
    with target.connection() as con:
        rows = con.execute(f"SELECT {STATUS}, count(*) FROM incidents GROUP BY {STATUS}")
    return {str(s): int(n) for s, n in rows}


def queue(store: Store, *, incidents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return what waits for review: records in review and edits of published incidents.

    Each line carries the incident's geocoding (place, precision, point) and its possible
    duplicates (:func:`possible_duplicates`); an edit line carries its ``changes``.

    Parameters
    ----------
    store
        The store.
    incidents
        The store's incidents with ``status`` and ``version`` (read here if not given).
    """
    target = open_store(store)
    frame = incidents if incidents is not None else target.read(versions=True)
    with target.connection() as con:
        log = _audit.read_log(con)
        revisions = _audit.read_revisions(con)
    latest = log[log["action"].isin(AUTHOR_ACTIONS | {"submit"})].groupby("incident_id").tail(1)
    submitted = latest.set_index("incident_id")[["changed_by", "changed_at"]]
    lines = []
    by_id = frame.set_index("incident_id", drop=False)
    for _, row in frame[frame[STATUS] == "in_review"].iterrows():
        who = submitted.loc[row["incident_id"]] if row["incident_id"] in submitted.index else None
        lines.append(_line(row, "new", who=who, changes=None, dups=possible_duplicates(frame, row)))
    for rev in revisions.itertuples(index=False):
        if rev.incident_id not in by_id.index:
            continue
        row = by_id.loc[rev.incident_id].copy()
        for col, value in rev.changes.items():
            row[col] = value
        who = pd.Series({"changed_by": rev.submitted_by, "changed_at": rev.submitted_at})
        lines.append(
            _line(row, "edit", who=who, changes=rev.changes, dups=possible_duplicates(frame, row))
        )
    return pd.DataFrame(lines, columns=list(QUEUE_COLUMNS))


def possible_duplicates(incidents: pd.DataFrame, row: Mapping[str, object]) -> list[str]:
    """Return ids of other stored incidents of the same day, place and type as ``row``.

    Same day: the same date (a month-precision record matches any day of its month). Same
    place: the same gazetteer ``place_id`` when both have one, else the same city and the same
    description. Same type: at least one incident type in common. Rejected records are left out.
    """
    others = incidents[
        (incidents["incident_id"] != row["incident_id"]) & (incidents[STATUS] != "rejected")
    ]
    if others.empty:
        return []
    day = pd.Timestamp(row["date"])
    same_day = others["date"] == day
    month = (others["date_precision"] == "month").fillna(False).astype(bool)
    if _plain_text(row.get("date_precision")) == "month":
        month[:] = True
    same_day |= month & (others["date"].dt.to_period("M") == day.to_period("M"))
    pid = _plain_text(row.get("place_id"))
    if pid:
        same_place = others["place_id"] == pid
    else:
        text = _plain_text(row.get("location_text")).lower()
        same_place = (others["city"] == _plain_text(row.get("city"))) & (
            others["location_text"].fillna("").str.strip().str.lower() == text
        )
    wanted = set(split_types(row.get("incident_types")))
    same_type = others["incident_types"].map(lambda v: bool(wanted & set(split_types(v))))
    hit = (same_day & same_place & same_type).fillna(False).astype(bool)
    return others.loc[hit, "incident_id"].astype(str).tolist()


def audit_log(store: Store, incident_id: str | None = None) -> pd.DataFrame:
    """Return the audit log (all of it, or one incident's), oldest first."""
    with open_store(store).connection() as con:
        return _audit.read_log(con, incident_id)


def audit_csv(store: Store, incident_id: str | None = None) -> bytes:
    """Return the audit log as CSV for download (formula cells guarded)."""
    return _audit.log_csv(audit_log(store, incident_id))


def pending_edits(store: Store, incident_id: str | None = None) -> pd.DataFrame:
    """Return the edits of published incidents that wait for review."""
    with open_store(store).connection() as con:
        return _audit.read_revisions(con, incident_id=incident_id)


# --- the steps ---------------------------------------------------------------------------------


def _step(
    store: Store,
    incident_id: str,
    action: str,
    *,
    by: str,
    expected_version: int | None,
    comment: str = "",
) -> Outcome:
    by = _who(by)
    target = open_store(store)
    with target.writer(by=by) as writer:
        _, version, status = _locked(writer, target, incident_id, expected_version)
        return _move(writer, incident_id, action, by, status, version, comment)


def _close_or_step(
    store: Store,
    incident_id: str,
    action: str,
    by: str,
    comment: str,
    expected_version: int | None,
) -> Outcome:
    """Send back or reject: a waiting edit of a published incident, else the record itself."""
    by = _who(by)
    target = open_store(store)
    with target.writer(by=by) as writer:
        _, version, status = _locked(writer, target, incident_id, expected_version)
        revision = _pending(writer, incident_id)
        if revision is not None and status == PUBLISHED:
            state = "returned" if action == "send_back" else "rejected"
            _audit.close_revision(
                writer.con, int(revision["revision_id"]), state=state, by=by, comment=comment
            )
            name = "return_edit" if action == "send_back" else "reject_edit"
            after = dict(revision["changes"])
            _log(writer, incident_id, name, by, status, status, version, None, after, comment)
            return Outcome(incident_id, name, status, version)
        return _move(writer, incident_id, action, by, status, version, comment)


def _move(
    writer: StoreWriter,
    incident_id: str,
    action: str,
    by: str,
    status: str,
    version: int,
    comment: str,
) -> Outcome:
    sources, to = STEPS[action]
    if status not in sources:
        allowed = " or ".join(sorted(sources))
        msg = (
            f"incident {incident_id} is {status}: only a record that is {allowed} can be "
            f"{_DONE[action]}"
        )
        raise ReviewError(msg)
    _audit.set_status(writer.con, incident_id, status=to, version=version + 1)
    _log(writer, incident_id, action, by, status, to, version + 1, None, None, comment)
    return Outcome(incident_id, action, to, version + 1)


def _locked(
    writer: StoreWriter, target: IncidentStore, incident_id: str, expected: int | None
) -> tuple[dict[str, object], int, str]:
    found = writer.incidents([incident_id])
    if found.empty:
        raise not_found(target.name, incident_id)
    row = found.iloc[0]
    version = int(row[VERSION])
    if expected is not None and version != int(expected):
        raise conflict(target.name, incident_id, expected=int(expected), current=version)
    values = {c: row[c] for c in found.columns if c not in {VERSION, STATUS}}
    return values, version, str(row[STATUS])


def _pending(writer: StoreWriter, incident_id: str) -> pd.Series | None:
    waiting = _audit.read_revisions(writer.con, incident_id=incident_id)
    return waiting.iloc[-1] if len(waiting) else None


def _log(
    writer: StoreWriter,
    incident_id: str,
    action: str,
    by: str,
    before_status: str | None,
    after_status: str | None,
    version: int,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    comment: str = "",
) -> None:
    _audit.record(
        writer.con,
        [
            _audit.Entry(
                incident_id,
                action,
                by,
                before_status,
                after_status,
                version,
                before,
                after,
                str(comment or "").strip(),
            )
        ],
    )


def _line(
    row: pd.Series,
    kind: str,
    *,
    who: pd.Series | None,
    changes: Mapping[str, object] | None,
    dups: list[str],
) -> dict[str, object]:
    line = {c: row.get(c) for c in QUEUE_COLUMNS}
    line.update(
        kind=kind,
        submitted_by=None if who is None else who["changed_by"],
        submitted_at=None if who is None else who["changed_at"],
        changes=None if changes is None else dict(changes),
        duplicates=dups,
    )
    return line


def _plain_text(value: object) -> str:
    """Return a cell as stripped text, ``""`` when missing (``pd.NA`` included)."""
    return "" if value is None or pd.isna(value) else str(value).strip()


def _who(by: str) -> str:
    who = str(by or "").strip().lower()
    if not who:
        msg = "say who takes this step (the staff member's e-mail)"
        raise ReviewError(msg)
    return who


def _own(by: str, incident_id: str, what: str) -> str:
    return (
        f"{by} is an author of this {what} of incident {incident_id}: a second staff member "
        "must approve it (two-person rule)"
    )


__all__ = [
    "APPROVALS",
    "AUTHOR_ACTIONS",
    "QUEUE_COLUMNS",
    "STEPS",
    "Outcome",
    "ReviewError",
    "approve",
    "audit_csv",
    "audit_log",
    "authors",
    "authors_of",
    "edit_incident",
    "may_publish",
    "pending_edits",
    "possible_duplicates",
    "queue",
    "record_incident",
    "reject",
    "retract",
    "send_back",
    "status_counts",
    "submit",
]
