"""One filter state for everything: map, counts, charts, table, downloads and the URL.

:class:`Filters` is immutable; :func:`apply` selects the matching incidents, and
:meth:`Filters.to_query_params` / :meth:`Filters.from_query_params` round-trip it through a URL,
so a copied link reopens exactly the same view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from riskmap.errors import SchemaError
from riskmap.schema import INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES, has_type

_LIST_FIELDS = ("types", "cities", "perpetrators", "place_types")
_PARAM_NAMES = {
    "start": "from",
    "end": "to",
    "types": "type",
    "cities": "city",
    "perpetrators": "perp",
    "place_types": "place",
    "children_only": "children",
}


@dataclass(frozen=True)
class Filters:
    """A selection of incidents. Empty tuples and ``None`` mean "no restriction"."""

    #: First day included.
    start: dt.date | None = None
    #: Last day included.
    end: dt.date | None = None
    #: Incidents carrying any of these types.
    types: tuple[str, ...] = field(default_factory=tuple)
    #: Incidents in any of these cities.
    cities: tuple[str, ...] = field(default_factory=tuple)
    #: Incidents by any of these perpetrators.
    perpetrators: tuple[str, ...] = field(default_factory=tuple)
    #: Incidents at any of these kinds of place.
    place_types: tuple[str, ...] = field(default_factory=tuple)
    #: Only incidents in which at least one child was affected.
    children_only: bool = False

    def __post_init__(self) -> None:
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(sorted(dict.fromkeys(value))))
        for name, allowed in (
            ("types", INCIDENT_TYPES),
            ("perpetrators", PERPETRATORS),
            ("place_types", PLACE_TYPES),
        ):
            bad = [v for v in getattr(self, name) if v not in allowed]
            if bad:
                msg = f"unknown {name}: {', '.join(bad)}; valid: {', '.join(allowed)}"
                raise SchemaError(msg)
        if self.start and self.end and self.start > self.end:
            msg = f"the start date {self.start} is after the end date {self.end}"
            raise SchemaError(msg)

    def with_(self, **changes: object) -> Filters:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_query_params(self) -> dict[str, str | list[str]]:
        """Return the URL query parameters that encode this selection (defaults omitted)."""
        params: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            key = _PARAM_NAMES[f.name]
            if f.name in _LIST_FIELDS and value:
                params[key] = list(value)
            elif isinstance(value, dt.date):
                params[key] = value.isoformat()
            elif value is True:
                params[key] = "1"
        return params

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | Iterable[str]]) -> Filters:
        """Parse URL query parameters; unknown or malformed values are ignored.

        A shared link must always open, so a bad value falls back to "no restriction"
        for that field rather than failing.
        """

        def values(key: str) -> list[str]:
            raw = params.get(key)
            if raw is None:
                return []
            items = [raw] if isinstance(raw, str) else list(raw)
            # Lists travel as repeated parameters: a value may itself hold a comma.
            return [str(item) for item in items if item]

        def day(key: str) -> dt.date | None:
            got = values(key)
            try:
                return dt.date.fromisoformat(got[0]) if got else None
            except ValueError:
                return None

        allowed = {
            "types": INCIDENT_TYPES,
            "perpetrators": PERPETRATORS,
            "place_types": PLACE_TYPES,
            "cities": None,
        }
        kwargs: dict[str, object] = {}
        for name, vocab in allowed.items():
            got = values(_PARAM_NAMES[name])
            kwargs[name] = tuple(v for v in got if vocab is None or v in vocab)
        start, end = day("from"), day("to")
        if start and end and start > end:
            start, end = end, start
        kwargs.update(start=start, end=end, children_only=values("children")[:1] == ["1"])
        return cls(**kwargs)  # type: ignore[arg-type]


def apply(incidents: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Return the incidents that match ``filters``, in their original order.

    Parameters
    ----------
    incidents
        An incident table (a GeoDataFrame keeps its geometry).
    filters
        The selection.
    """
    # Plain numpy masks: no index alignment per condition, one selection at the end.
    mask = np.ones(len(incidents), dtype=bool)
    if filters.start is not None:
        mask &= _bools(incidents["date"] >= pd.Timestamp(filters.start))
    if filters.end is not None:
        mask &= _bools(incidents["date"] < pd.Timestamp(filters.end) + pd.Timedelta(days=1))
    if filters.types:
        mask &= _bools(has_type(incidents, filters.types))
    for name, col in (
        ("cities", "city"),
        ("perpetrators", "perpetrator"),
        ("place_types", "place_type"),
    ):
        chosen = getattr(filters, name)
        if chosen:
            mask &= _bools(incidents[col].isin(chosen))
    if filters.children_only:
        mask &= _bools(incidents["children"].fillna(0) > 0)
    return incidents.loc[mask]


def _bools(condition: pd.Series) -> np.ndarray:
    """Return a condition as a numpy mask, missing values as false."""
    return condition.to_numpy(dtype=bool, na_value=False)


def describe(filters: Filters) -> dict[str, object]:
    """Return the selection as plain values, for manifests and logs."""
    out: dict[str, object] = {}
    for f in fields(filters):
        value = getattr(filters, f.name)
        out[f.name] = value.isoformat() if isinstance(value, dt.date) else value
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
