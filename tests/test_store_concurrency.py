"""Two processes edit the same incident: one wins, the other is refused; nothing is lost."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pandas as pd

from riskmap.schema import conform
from riskmap.store import StoreConflictError, get_incident, open_store, update_incident


def _edit(location: str, changes: dict, version: int, barrier, results) -> None:
    """Edit one incident from ``version`` once every process is ready (a child process)."""
    barrier.wait(timeout=60)
    try:
        new = update_incident(location, "C-1", changes, expected_version=version)
        results.put((os.getpid(), "ok", new, ""))
    except StoreConflictError as e:
        results.put((os.getpid(), "conflict", 0, str(e)))


def _store(location: str | Path) -> None:
    frame = conform(
        pd.DataFrame(
            {
                "incident_id": ["C-0", "C-1"],
                "date": ["2020-02-01", "2020-02-02"],
                "incident_types": ["kidnapping", "extortion"],
                "victims": [1, 3],
            }
        )
    )
    with open_store(location).writer() as writer:
        writer.append(frame)


def test_two_processes_editing_one_incident_lose_nothing(store_location):
    location = str(store_location)
    _store(location)
    _, version = get_incident(location, "C-1")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    edits = [{"perpetrator": "police"}, {"children": 2}]
    procs = [
        ctx.Process(target=_edit, args=(location, changes, version, barrier, results))
        for changes in edits
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    kinds = sorted(o[1] for o in outcomes)
    assert kinds == ["conflict", "ok"]
    winner = next(o for o in outcomes if o[1] == "ok")
    loser = next(o for o in outcomes if o[1] == "conflict")
    assert winner[2] == version + 1
    assert "changed by someone else" in loser[3]
    assert f"version {version + 1}" in loser[3]
    assert "reload the incident" in loser[3]
    # The refused writer reloads and makes its edit again: both edits are in the store.
    values, current = get_incident(location, "C-1")
    assert current == version + 1
    won = edits[0] if pd.notna(values["perpetrator"]) else edits[1]
    lost = edits[1] if won is edits[0] else edits[0]
    update_incident(location, "C-1", lost, expected_version=current)
    values, current = get_incident(location, "C-1")
    assert (values["perpetrator"], values["children"], current) == ("police", 2, version + 2)
    # The other incident was untouched.
    assert get_incident(location, "C-0")[1] == 1


def _approve(location: str, by: str, barrier, results) -> None:
    """Approve C-1 from version 1 once every process is ready (a child process)."""
    from riskmap.settings import Settings
    from riskmap.workflow import review

    staff = Settings(allowed_emails=frozenset({"b@x.org", "c@x.org"}))
    barrier.wait(timeout=60)
    try:
        review.approve(location, "C-1", by=by, settings=staff, expected_version=1)
        results.put((by, "ok", ""))
    except StoreConflictError as e:
        results.put((by, "conflict", str(e)))


def test_two_reviewers_approving_at_once_publish_once(store_location):
    from riskmap.workflow import review

    location = str(store_location)
    _store(location)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_approve, args=(location, who, barrier, results))
        for who in ("b@x.org", "c@x.org")
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(o[1] for o in outcomes) == ["conflict", "ok"], outcomes
    log = review.audit_log(location, "C-1")
    assert log["action"].tolist() == ["import", "approve"]
    assert get_incident(location, "C-1")[1] == 2
