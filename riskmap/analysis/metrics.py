"""Headline counts, counted the way the published reports count.

An incident is counted once whatever its types; "people kidnapped" are the victims of
kidnappings and express kidnappings, and "people in attempts" those of attempted kidnappings
only; children are counted among the people kidnapped or targeted. The published figures
(``data/published_figures.csv``, Human Rights Watch 2020) are shown beside the data when the
selection covers their whole period.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap.release.public import TYPE_GROUPS
from riskmap.schema import KIDNAPPING_TYPES, type_flags
from riskmap.settings import DATA_DIR

#: The group of the public release that stands for any kind of kidnapping or attempt.
KIDNAPPING_GROUP = TYPE_GROUPS["kidnapping"]
#: Headline keys, in display order.
HEADLINES: tuple[str, ...] = (
    "incidents",
    "people_affected",
    "children",
    "incidents_with_children",
    "kidnapping_or_attempt",
    "people_kidnapped",
    "people_in_attempts",
    "sexual_assault",
    "express_by_police",
)


def headline_counts(incidents: pd.DataFrame) -> dict[str, int]:
    """Count the selected incidents and people.

    Parameters
    ----------
    incidents
        An incident table (any selection of the store).

    Returns
    -------
    dict
        One integer per key of :data:`HEADLINES` that the rows can give: counts of people only
        where the rows carry ``victims`` and ``children`` (not the public release).
    """
    # One pass over the types for every count (a million rows hold a few dozen combinations).
    flags = type_flags(
        incidents, [*sorted(KIDNAPPING_TYPES | {"sexual_assault"}), KIDNAPPING_GROUP]
    )
    # A release row may show only the group "kidnapping or attempt": it counts as one, but its
    # people go to neither "kidnapped" nor "in attempts", which it cannot tell apart.
    group_only = flags[KIDNAPPING_GROUP].to_numpy()
    kid = flags[sorted(KIDNAPPING_TYPES)].to_numpy().any(axis=1) | group_only
    attempt_only = (
        flags["attempted_kidnapping"].to_numpy()
        & ~flags["kidnapping"].to_numpy()
        & ~flags["express_kidnapping"].to_numpy()
    )
    if "children_affected" in incidents.columns:
        with_children = incidents["children_affected"].fillna(False).to_numpy(dtype=bool)
    else:
        with_children = _counts(incidents["children"]) > 0
    police = (incidents["perpetrator"] == "police").fillna(False).to_numpy(dtype=bool)
    express_police = flags["express_kidnapping"].to_numpy() & police
    counts = {
        "incidents": len(incidents),
        "incidents_with_children": int(with_children.sum()),
        "kidnapping_or_attempt": int(kid.sum()),
        "sexual_assault": int(flags["sexual_assault"].sum()),
        "express_by_police": int(express_police.sum()),
    }
    # The public release holds no number of people (subtracting two sums would tell those of a
    # few incidents): people are counted where the rows carry them, for staff.
    if "victims" in incidents.columns and "children" in incidents.columns:
        victims = _counts(incidents["victims"])
        counts.update(
            people_affected=int(victims.sum()),
            children=int(_counts(incidents["children"]).sum()),
            people_kidnapped=int(victims[kid & ~attempt_only & ~group_only].sum()),
            people_in_attempts=int(victims[attempt_only].sum()),
        )
    return {k: counts[k] for k in HEADLINES if k in counts}


def _counts(column: pd.Series) -> np.ndarray:
    """Return a count column as floats, missing counts as 0."""
    return pd.to_numeric(column).fillna(0).to_numpy(dtype=float)


def load_published(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the published figures (metric, value, period_start, period_end, area, source)."""
    frame = pd.read_csv(Path(path) if path else DATA_DIR / "published_figures.csv")
    for col in ("period_start", "period_end"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def published_for(
    published: pd.DataFrame, *, start: dt.date | None, end: dt.date | None
) -> dict[str, int]:
    """Return the published figures whose whole period lies inside ``[start, end]``.

    ``None`` bounds are open. A selection that covers only part of a period gets nothing: a
    partial comparison would mislead.
    """
    out: dict[str, int] = {}
    for row in published.itertuples(index=False):
        if (start is None or start <= row.period_start) and (end is None or row.period_end <= end):
            out[str(row.metric)] = int(row.value)
    return out
