"""Staff-verified place locations: set by one staff member, confirmed by another, never lost.

No public coordinate exists for many of the places the users ask about (bus terminals, shelters,
INM offices), but the people who use the tool know where they are. A signed-in staff member can
**set** a place's location, with a reason; a second staff member **confirms** it (two-person
rule: the one who set it cannot). Every change is appended to a history file beside the store
(``<store>.places-history.csv``) with who, when, why and the previous value — never overwritten,
never in the shipped gazetteer. :func:`apply_verified` lays the latest confirmed location of each
place over the gazetteer (confidence ``staff-verified``); the public map uses nothing else. A
location that is set but not yet confirmed is shown to staff only (:func:`pending`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskmap.errors import RiskmapError
from riskmap.store import replace_atomically, store_lock

#: Columns of the history file, in order.
HISTORY_COLUMNS: tuple[str, ...] = (
    "change_id",
    "place_id",
    "action",
    "lat",
    "lon",
    "previous_lat",
    "previous_lon",
    "reason",
    "by",
    "at",
)
#: Confidence given to a place whose location staff set and a second member confirmed.
STAFF_VERIFIED = "staff-verified"
#: The border area the tool covers: a location outside it is a typing error.
BOUNDS = {"lat": (25.0, 28.5), "lon": (-100.5, -96.8)}


class PlaceChangeError(RiskmapError, ValueError):
    """A location change that cannot be made (unknown place, bad point, same person twice)."""


@dataclass(frozen=True)
class Change:
    """One line of the history."""

    change_id: str
    place_id: str
    action: str
    lat: float
    lon: float
    reason: str
    by: str
    at: str


def history_path(store: str | os.PathLike[str]) -> Path:
    """Return the history file of a store (beside it)."""
    store = Path(store)
    return store.with_name(f"{store.name}.places-history.csv")


def history(store: str | os.PathLike[str], place_id: str | None = None) -> pd.DataFrame:
    """Return the history (all places, or one), oldest first, as strings and floats."""
    path = history_path(store)
    if not path.exists():
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("lat", "lon", "previous_lat", "previous_lon"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if place_id is not None:
        frame = frame[frame["place_id"] == place_id]
    return frame.reset_index(drop=True)


def set_location(
    store: str | os.PathLike[str],
    place_id: str,
    *,
    lat: float | None,
    lon: float | None,
    reason: str,
    by: str,
    places: pd.DataFrame,
    now: dt.datetime | None = None,
) -> Change:
    """Propose a location for a place; it waits for a second staff member's confirmation.

    Raises
    ------
    PlaceChangeError
        If the place is unknown, the point lies outside the border area, or no reason or
        author is given.
    """
    known = places.drop_duplicates("place_id").set_index("place_id")
    if place_id not in known.index:
        msg = f"unknown place {place_id!r}; see `riskmap places` for the place ids"
        raise PlaceChangeError(msg)
    point: dict[str, float] = {}
    for name, value in (("lat", lat), ("lon", lon)):
        low, high = BOUNDS[name]
        if not isinstance(value, int | float) or not low <= float(value) <= high:
            msg = f"{name} {value!r} is outside the border area ({low} to {high})"
            raise PlaceChangeError(msg)
        point[name] = float(value)
    reason, by = str(reason or "").strip(), _who(by)
    if not reason:
        msg = "say why the location changes (a reason is required)"
        raise PlaceChangeError(msg)
    current = apply_verified(places, store).set_index("place_id").loc[place_id]
    change = Change(
        uuid.uuid4().hex[:12], place_id, "set", point["lat"], point["lon"], reason, by, _now(now)
    )
    _append(store, change, previous=(current["lat"], current["lon"]))
    return change


def confirm_location(
    store: str | os.PathLike[str],
    place_id: str,
    *,
    by: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Change:
    """Confirm the latest location set for a place; the public map then uses it.

    Raises
    ------
    PlaceChangeError
        If nothing waits for confirmation, or ``by`` is the person who set it.
    """
    waiting = pending(store).set_index("place_id")
    if place_id not in waiting.index:
        msg = f"no location of {place_id!r} waits for confirmation"
        raise PlaceChangeError(msg)
    proposal = waiting.loc[place_id]
    by = _who(by)
    if by == str(proposal["by"]):
        msg = f"{by} set this location: a second staff member must confirm it (two-person rule)"
        raise PlaceChangeError(msg)
    change = Change(
        str(proposal["change_id"]),
        place_id,
        "confirm",
        float(proposal["lat"]),
        float(proposal["lon"]),
        str(reason or "").strip(),
        by,
        _now(now),
    )
    _append(store, change, previous=(proposal["previous_lat"], proposal["previous_lon"]))
    return change


def pending(store: str | os.PathLike[str]) -> pd.DataFrame:
    """Return, per place, the latest location set and not yet confirmed."""
    trail = history(store)
    if trail.empty:
        return trail
    latest = trail[trail["action"] == "set"].groupby("place_id").tail(1)
    confirmed = set(trail.loc[trail["action"] == "confirm", "change_id"])
    return latest[~latest["change_id"].isin(confirmed)].reset_index(drop=True)


def apply_verified(places: pd.DataFrame, store: str | os.PathLike[str] | None) -> pd.DataFrame:
    """Return the gazetteer with each place's latest confirmed staff location laid over it.

    Such a place gets ``confidence = "staff-verified"`` and its ``source`` says who set and who
    confirmed it, and when. Without a history file the gazetteer is returned as it is.
    """
    if store is None:
        return places
    trail = history(store)
    confirmed = trail[trail["action"] == "confirm"].groupby("place_id").tail(1)
    if confirmed.empty:
        return places
    sets = trail[trail["action"] == "set"].set_index("change_id")
    out = places.copy()
    for row in confirmed.itertuples(index=False):
        where = out["place_id"] == row.place_id
        setter = sets.loc[row.change_id] if row.change_id in sets.index else None
        who = f"set by {setter['by']} on {setter['at']}, " if setter is not None else ""
        out.loc[where, ["lat", "lon"]] = [row.lat, row.lon]
        out.loc[where, "confidence"] = STAFF_VERIFIED
        out.loc[where, "source"] = f"staff-verified: {who}confirmed by {row.by} on {row.at}"
    return out


def verified_names(places: pd.DataFrame) -> list[str]:
    """Return the ids of staff-verified places (for the About page)."""
    if "confidence" not in places.columns:
        return []
    return sorted(places.loc[places["confidence"] == STAFF_VERIFIED, "place_id"].astype(str))


def _who(by: str) -> str:
    who = str(by or "").strip().lower()
    if not who:
        msg = "say who makes the change (the staff member's e-mail)"
        raise PlaceChangeError(msg)
    return who


def _now(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


def _append(
    store: str | os.PathLike[str], change: Change, *, previous: tuple[object, object]
) -> None:
    """Append one line to the history, atomically and under the store's lock."""
    path = history_path(store)
    with store_lock(Path(store)):
        old = path.read_bytes() if path.exists() else b""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not old:
            writer.writerow(HISTORY_COLUMNS)
        prev_lat, prev_lon = (None if pd.isna(v) else float(v) for v in previous)  # type: ignore[arg-type]
        writer.writerow(
            [
                change.change_id,
                change.place_id,
                change.action,
                f"{change.lat:.6f}",
                f"{change.lon:.6f}",
                "" if prev_lat is None else f"{prev_lat:.6f}",
                "" if prev_lon is None else f"{prev_lon:.6f}",
                change.reason,
                change.by,
                change.at,
            ]
        )
        data = old + buffer.getvalue().encode("utf-8")
        replace_atomically(path, lambda tmp: Path(tmp).write_bytes(data), what="the place history")
