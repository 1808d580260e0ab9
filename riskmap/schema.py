"""The incident model: canonical columns, their types and their allowed values.

Every other module imports its column names and vocabularies from here. The precision
vocabulary follows ACLED's ``geo_precision`` codes (1 = exact site, 2 = near a named place or
neighbourhood, 3 = only the city or region is known), spelled out as words; ``unresolved`` marks
a place description the geocoder could not place at all.

A single incident may carry several types (a kidnapping with extortion and sexual assault), so
``incident_types`` is a set, written in files as values joined by ``|``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from riskmap.errors import SchemaError

WGS84 = "EPSG:4326"
#: Metric CRS for distances: UTM zone 14N covers both Matamoros and Nuevo Laredo.
METRIC_CRS = "EPSG:32614"
#: Separator of multi-valued cells (``incident_types``) in CSV and GeoPackage files.
MULTI_SEP = "|"

INCIDENT_TYPES: tuple[str, ...] = (
    "kidnapping",
    "attempted_kidnapping",
    "express_kidnapping",
    "extortion",
    "sexual_assault",
    "robbery",
    "assault",
    "threat",
    "other",
)
#: Types that count as "a kidnapping or attempted kidnapping" in published reports.
KIDNAPPING_TYPES: frozenset[str] = frozenset(
    {"kidnapping", "attempted_kidnapping", "express_kidnapping"}
)
DATE_PRECISIONS: tuple[str, ...] = ("day", "month")
GEO_PRECISIONS: tuple[str, ...] = ("site", "neighborhood", "city", "unresolved")
PLACE_TYPES: tuple[str, ...] = (
    "port_of_entry",
    "bus_terminal",
    "immigration_office",
    "shelter",
    "camp",
    "plaza",
    "neighborhood",
    "city",
    "other",
)
#: Public sites: an incident there may be shown at the site's point in public views. Shelters
#: and the camp are left out on purpose: pinning an incident to a shelter points at its residents.
PUBLIC_SITE_TYPES: frozenset[str] = frozenset(
    {"port_of_entry", "bus_terminal", "immigration_office", "plaza"}
)
#: Place types the hotspot ranking treats as sites.
SITE_TYPES: frozenset[str] = frozenset(
    {"port_of_entry", "bus_terminal", "immigration_office", "shelter", "camp", "plaza"}
)
PERPETRATORS: tuple[str, ...] = (
    "criminal_group",
    "police",
    "immigration_agent",
    "military",
    "unknown",
    "other",
)
#: Cities the gazetteer and the sample data know, with their canonical spelling.
CITIES: tuple[str, ...] = (
    "Matamoros",
    "Nuevo Laredo",
    "Reynosa",
    "Colombia",
    "Brownsville",
    "Laredo",
)

#: Canonical columns in order, with their pandas dtype.
COLUMNS: dict[str, str] = {
    "incident_id": "string",
    "date": "datetime64[ns]",
    "date_precision": "string",
    "incident_types": "string",
    "city": "string",
    "location_text": "string",
    "lat": "float64",
    "lon": "float64",
    "geo_precision": "string",
    "place_id": "string",
    "place_type": "string",
    "perpetrator": "string",
    "victims": "Int64",
    "children": "Int64",
    "source": "string",
    "notes": "string",
    "synthetic": "boolean",
}
REQUIRED_COLUMNS: tuple[str, ...] = ("incident_id", "date", "incident_types")

#: Review status of a stored incident (kept beside the canonical columns, not among them):
#: ``draft -> in_review -> published``, or ``rejected``; a published one may be ``retracted``.
#: Only ``published`` incidents enter the public release.
STATUSES: tuple[str, ...] = ("draft", "in_review", "published", "rejected", "retracted")
#: The one status the public release takes.
PUBLISHED = "published"
#: Name of the status column in both store backends.
STATUS = "status"
#: Statuses that take an incident out of every count, staff views included: a record found
#: false or duplicated (``rejected``), or withdrawn after publication (``retracted``).
WITHDRAWN: frozenset[str] = frozenset({"rejected", "retracted"})

#: Allowed values of the enumerated columns (``incident_types`` is checked value by value).
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "date_precision": DATE_PRECISIONS,
    "incident_types": INCIDENT_TYPES,
    "geo_precision": GEO_PRECISIONS,
    "place_type": PLACE_TYPES,
    "perpetrator": PERPETRATORS,
}


def split_types(value: object) -> list[str]:
    """Split a ``|``-joined ``incident_types`` cell into its types, in canonical order.

    Parameters
    ----------
    value
        A cell: a string such as ``"kidnapping|extortion"``, a list of types, or a missing value.

    Returns
    -------
    list of str
        The distinct types, ordered as :data:`INCIDENT_TYPES` orders them (unknown ones last).
    """
    if isinstance(value, str):
        parts: Iterable[str] = value.split(MULTI_SEP)
    elif isinstance(value, list | tuple | set):
        parts = [str(v) for v in value]
    else:
        return []  # None, NaN, pd.NA: no types
    found = {p.strip() for p in parts if p and p.strip()}
    order = {t: i for i, t in enumerate(INCIDENT_TYPES)}
    return sorted(found, key=lambda t: (order.get(t, len(order)), t))


def join_types(types: Iterable[str]) -> str:
    """Join incident types into one canonical ``|``-separated cell."""
    return MULTI_SEP.join(split_types(list(types)))


def empty_frame() -> pd.DataFrame:
    """Return an empty incident table with every canonical column and dtype."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, with canonical dtypes.

    Missing optional columns are added empty; extra columns are dropped; the index is kept.

    Raises
    ------
    SchemaError
        If a required column is missing or a column cannot take its canonical type.
    """
    return conform_columns({c: frame[c] for c in COLUMNS if c in frame.columns}, index=frame.index)


def conform_columns(
    columns: Mapping[str, pd.Series | np.ndarray | list[object]], *, index: pd.Index
) -> pd.DataFrame:
    """Return the table :func:`conform` makes of ``columns``, without a table to start from.

    Parameters
    ----------
    columns
        Canonical column -> its cells, one per row of ``index``: a series on ``index``, or the
        cells themselves (taken as objects); other columns are ignored.
    index
        The index of the table returned.

    Raises
    ------
    SchemaError
        If a required column is missing or a column cannot take its canonical type.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        msg = f"incident table lacks required column(s) {', '.join(missing)}"
        raise SchemaError(msg)
    out = pd.DataFrame(index=index)
    for col, dtype in COLUMNS.items():
        cells = columns.get(col)
        if cells is None:
            series = pd.Series([None] * len(index), index=index, dtype=object)
        elif isinstance(cells, pd.Series):
            series = cells
        else:
            series = pd.Series(cells, index=index, dtype=object)
        try:
            if dtype.startswith("datetime"):
                out[col] = pd.to_datetime(series, errors="raise").astype(dtype)
            elif dtype == "boolean":
                out[col] = _booleans(series)
            elif dtype == "Int64":
                out[col] = _integers(series)
            else:
                out[col] = series.astype(dtype)
        except (ValueError, TypeError) as e:
            msg = f"column {col!r} cannot be read as {dtype}: {e}"
            raise SchemaError(msg) from e
    return out


def _booleans(series: pd.Series) -> pd.Series:
    """Return :func:`_to_bool` of each cell as a ``boolean`` series."""
    if isinstance(series.dtype, pd.BooleanDtype):
        return series.astype("boolean")
    cells = series.to_numpy(dtype=object)
    if set(map(type, cells)) <= {bool, str, type(None)}:
        # A column of a few distinct cells (a file's "true"/"false"): each is read once. No two
        # cells of these types are equal without being the same value.
        codes, distinct = pd.factorize(cells)
        read = [*map(_to_bool, distinct), pd.NA]
        values = np.array([r is True for r in read], dtype=bool)[codes]
        missing = np.array([r is pd.NA for r in read], dtype=bool)[codes]
        return pd.Series(pd.arrays.BooleanArray(values, missing), index=series.index)
    return series.map(_to_bool).astype("boolean")


def _integers(series: pd.Series) -> pd.Series:
    """Return ``series`` as ``Int64``; a column of whole numbers and blanks without a detour."""
    cells = series.to_numpy(dtype=object) if series.dtype == object else None
    if cells is not None and set(map(type, cells)) <= {int, type(None)}:
        missing = pd.isna(cells)
        try:
            values = np.where(missing, 0, cells).astype(np.int64)
        except OverflowError:  # beyond 64 bits: as astype tells it
            return series.astype("Int64")
        return pd.Series(pd.arrays.IntegerArray(values, missing), index=series.index)
    return series.astype("Int64")


def _to_bool(value: object) -> object:
    if isinstance(value, bool):
        return value
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return pd.NA
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "si", "sí", "t", "y"}:
        return True
    if text in {"false", "0", "no", "f", "n", ""}:
        return False
    msg = f"not a boolean: {value!r}"
    raise ValueError(msg)


def check_values(frame: pd.DataFrame) -> list[str]:
    """List every value of an enumerated column that the model does not allow.

    Parameters
    ----------
    frame
        A conformed incident table.

    Returns
    -------
    list of str
        One message per offending row and column, naming the row (0-based) and the column.
    """
    problems: list[str] = []
    for col, allowed in VOCABULARIES.items():
        if col not in frame.columns:
            continue
        for i, value in frame[col].items():
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                continue
            values = split_types(value) if col == "incident_types" else [value]
            bad = [v for v in values if v not in allowed]
            if bad:
                problems.append(
                    f"row {i}, column {col}: {', '.join(map(repr, bad))} not one of "
                    f"{', '.join(allowed)}"
                )
    return problems


def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Conform ``frame`` and check its vocabularies and counts.

    Raises
    ------
    SchemaError
        Naming the first offending rows and columns.
    """
    out = conform(frame)
    problems = check_values(out)
    counts = out[["victims", "children"]]
    for col in ("victims", "children"):
        neg = out.index[counts[col].fillna(0) < 0]
        problems += [f"row {i}, column {col}: negative count" for i in neg]
    over = out.index[(counts["children"].fillna(0) > counts["victims"].fillna(0))]
    problems += [f"row {i}, column children: more children than victims" for i in over]
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        msg = f"invalid incident data: {shown}{more}"
        raise SchemaError(msg)
    return out


def has_type(frame: pd.DataFrame, types: Iterable[str]) -> pd.Series:
    """Return a boolean mask of rows whose ``incident_types`` include any of ``types``.

    A type matches a whole ``|``-separated part of the cell, never a part of one
    (``kidnapping`` does not match ``attempted_kidnapping``); missing cells match nothing.
    """
    wanted = set(types)
    if not wanted:
        return pd.Series(False, index=frame.index)
    codes, parts = _distinct_types(frame["incident_types"])
    hit = np.array([not p.isdisjoint(wanted) for p in parts] + [False], dtype=bool)
    return pd.Series(hit[codes], index=frame.index)


def type_flags(frame: pd.DataFrame, types: Iterable[str] = INCIDENT_TYPES) -> pd.DataFrame:
    """Return one boolean column per type: whether each row's ``incident_types`` include it.

    The same test as :func:`has_type`, done once for several types.

    Parameters
    ----------
    frame
        An incident table.
    types
        The types to test, one column each (by default every type of :data:`INCIDENT_TYPES`).

    Returns
    -------
    pandas.DataFrame
        Boolean columns named by type, on ``frame``'s index.
    """
    codes, parts = _distinct_types(frame["incident_types"])
    return pd.DataFrame(
        {t: np.array([t in p for p in parts] + [False], dtype=bool)[codes] for t in types},
        index=frame.index,
    )


def distinct_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index | np.ndarray]:
    """Return each row's code and the distinct values, as :func:`pandas.factorize` does.

    A categorical column (a coded release, :func:`riskmap.release.audience.coded`) gives its own
    codes and categories at no cost; the categories may include values no row holds, and are in
    the categorical's order rather than in order of appearance. Missing values get code -1.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes, dtype=np.int64), column.cat.categories
    return pd.factorize(column, use_na_sentinel=True)


def _distinct_types(cells: pd.Series) -> tuple[np.ndarray, list[frozenset[str]]]:
    """Split each distinct cell once: a million incidents hold only a few dozen combinations.

    Returns the code of each row's cell (-1 for a missing one) and the parts of each distinct
    cell, so that a test on the parts costs one array lookup per row.
    """
    codes, uniques = distinct_codes(cells)
    return codes, [frozenset(str(u).split(MULTI_SEP)) for u in uniques]
