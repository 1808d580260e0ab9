"""The audience: who the outputs are for, and the one table of rows they may see.

Every front end chooses an audience and hands it to the renderers; none of them decides what
is private. A **public** audience sees the k-anonymous public release
(:mod:`riskmap.release.public`) of the store that was read, with that store's pseudonym key; a
**restricted** audience (allowed staff, after login) sees every recorded column. Building one is
explicit: there is no default audience, and no renderer falls back to raw rows.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from riskmap import filters as _filters
from riskmap.release import public as _public
from riskmap.release.privacy import format_count, pseudonym_key, restricted_view
from riskmap.schema import PUBLIC_SITE_TYPES, SITE_TYPES
from riskmap.settings import Settings

KINDS: tuple[str, ...] = ("public", "restricted")
T = TypeVar("T")


@dataclass(frozen=True)
class Audience:
    """An audience and its rows.

    Build one with :func:`public_audience` or :func:`restricted_audience` (or, where the
    release is cached, :meth:`from_release`).
    """

    #: ``"public"`` or ``"restricted"``.
    kind: str
    #: The rows this audience may see: the release table, or the restricted view.
    table: pd.DataFrame = field(repr=False)
    #: The gazetteer (site points, names).
    places: pd.DataFrame = field(repr=False)
    settings: Settings
    #: The public release (also kept for a restricted audience, for its report).
    release: _public.Release | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f"unknown audience {self.kind!r}; choose one of {', '.join(KINDS)}"
            raise ValueError(msg)
        if self.kind == "public" and self.release is None:
            msg = "a public audience needs the public release"
            raise ValueError(msg)

    @classmethod
    def from_release(
        cls, release: _public.Release, *, places: pd.DataFrame, settings: Settings
    ) -> Audience:
        """Return the public audience of an already built release."""
        return cls("public", release.table, places, settings, release)

    @property
    def public(self) -> bool:
        """Whether this is the public audience."""
        return self.kind == "public"

    @property
    def k(self) -> int:
        """Counts from 1 to ``k - 1`` are written ``"<k"`` (0 for staff: every number shown)."""
        return max(int(self.settings.min_cell), 1) if self.public else 0

    @property
    def site_types(self) -> frozenset[str]:
        """Kinds of place that may be ranked and named as sites (no shelter or camp in public)."""
        return PUBLIC_SITE_TYPES if self.public else SITE_TYPES

    @property
    def protected_place_types(self) -> frozenset[str]:
        """Kinds of place whose incidents this audience sees only by city (none for staff)."""
        return _public.PRIVATE_PLACE_TYPES if self.public else frozenset()

    @property
    def synthetic(self) -> bool:
        """Whether any row this audience sees is synthetic (invented) data."""
        return bool(self.table["synthetic"].fillna(False).astype(bool).any())

    @property
    def report(self) -> dict[str, object]:
        """The release report (k, levels, suppressed incidents)."""
        return dict(self.release.report) if self.release is not None else {}

    def select(self, filters: _filters.Filters) -> pd.DataFrame:
        """Return the rows selected by ``filters``.

        Public: on the shown values of the release, so every selection is a union of classes
        of at least k incidents. Restricted: on the recorded values.
        """
        if self.public:
            return _public.select(self.table, filters)
        return _filters.apply(self.table, filters)

    def select_positions(self, filters: _filters.Filters) -> np.ndarray:
        """Return the positions in :attr:`table` of the rows a public filter state selects.

        The test runs on the table's coded copy (:func:`coded`): the same rows as
        :meth:`select`, without copying a string column.

        Raises
        ------
        ValueError
            For a restricted audience (its filters test recorded values: use :meth:`select`).
        """
        if not self.public:
            msg = "positions are for the public release; a restricted audience uses select()"
            raise ValueError(msg)
        return np.flatnonzero(_public.select_mask(coded(self.table), filters))

    def rows(self, selection: pd.DataFrame) -> pd.DataFrame:
        """Return the columns of ``selection`` that a table or a download may show.

        The index is dropped: no store row number or import order reaches the browser.
        """
        columns = list(_public.ROW_COLUMNS) if self.public else list(selection.columns)
        return selection[columns].reset_index(drop=True)

    def format_count(self, n: int) -> str:
        """Write a count for this audience."""
        return format_count(int(n), k=self.k)


def per_table(table: pd.DataFrame, what: str, make: Callable[[pd.DataFrame], T]) -> T:
    """Return ``make(table)``, made once per table object and kept while that table lives.

    For results derived from a table that is shared and never modified (the app's release and
    staff view): the coded copy, the date bounds. ``what`` names the result.
    """
    key = (id(table), what)
    with _PER_TABLE_LOCK:
        kept = _PER_TABLE.get(key)
        if kept is not None and kept[0]() is table:
            return kept[1]  # type: ignore[return-value]
    out = make(table)
    with _PER_TABLE_LOCK:
        for stale in [k for k, (ref, _) in _PER_TABLE.items() if ref() is None]:
            del _PER_TABLE[stale]
        _PER_TABLE[key] = (weakref.ref(table), out)
    return out


#: (id of a table, what) -> (a weak reference to the table, the result).
_PER_TABLE: dict[tuple[int, str], tuple[weakref.ref, object]] = {}
_PER_TABLE_LOCK = threading.Lock()


def coded(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with its text columns as categoricals (the same rows, index and values).

    A selection of a million release rows copies a few integer codes per row instead of every
    string; the map, the headline counts and the listed places read the same values from it.
    It is made once per table object (:func:`per_table`).
    """
    return per_table(table, "coded", _coded)


def _coded(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            name: column.astype("category")
            if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object
            else column
            for name, column in table.items()
            # One pseudonym per row: nothing to code, and never drawn or counted.
            if name != "incident_id"
        },
        index=table.index,
    )


def public_audience(
    incidents: pd.DataFrame,
    *,
    places: pd.DataFrame,
    settings: Settings,
    store: str | os.PathLike[str] | None = None,
) -> Audience:
    """Build the public audience of a store: its k-anonymous release.

    Parameters
    ----------
    incidents
        The whole store that was read.
    places
        The gazetteer.
    settings
        k (``min_cell``), H3 resolution, pseudonym key.
    store
        The store file that was read (its pseudonym key lives beside it); default
        ``settings.store``.
    """
    key = pseudonym_key(settings, store=store)
    release = _public.build_release(incidents, places=places, settings=settings, key=key)
    return Audience.from_release(release, places=places, settings=settings)


def restricted_audience(
    incidents: pd.DataFrame,
    *,
    places: pd.DataFrame,
    settings: Settings,
    release: _public.Release | None = None,
) -> Audience:
    """Build the restricted audience (allowed staff only): every recorded column."""
    return Audience(
        "restricted", restricted_view(incidents, places=places), places, settings, release
    )
