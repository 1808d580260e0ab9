"""Hexagonal grids of incidents: H3 cell counts and the study area of the hotspot statistics.

Incidents are binned into Uber's H3 cells (Brodsky, *H3: Uber's Hexagonal Hierarchical Spatial
Index*, 2018); resolution 8, the default, has cells of about 0.74 km². Only incidents located at
a site or in a neighbourhood (ACLED ``geo_precision`` 1 and 2) are binned: a city-level incident
sits on the city's reference point and an unresolved one nowhere, so binning either would invent
a place. They are left out and counted (:func:`spatial_incidents`).

The study area of the Getis-Ord statistics (:func:`study_area`) is, for each group of incident
cells lying within :data:`LINK_M` of one another, every cell of their convex hull: the zeros
inside it are places where an incident could have been recorded and was not, and they matter.
It is deliberately *not* the incident cells plus a ring of empty neighbours: such a ring is a band
of zeros that exists only because the data stop there, and against it the interior of evenly
spread incidents looks "hot". (In simulations of 600 uniform incidents over a 6 km square at
resolution 8, one ring gave a false hotspot in 4 of 20 runs and two rings in 15 of 20; the hull
in none.) Neighbours are H3 grid neighbours: each hexagon's six adjacent cells.

Hex counts are aggregates and may be shown publicly only after small-cell suppression
(:func:`riskmap.privacy.suppress`), which the callers apply; counts here stay exact integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import h3
import numpy as np
import pandas as pd
import pyproj
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, Polygon

from riskmap.errors import SettingsError
from riskmap.privacy import cell_centres
from riskmap.schema import INCIDENT_TYPES, METRIC_CRS, WGS84, has_type

#: Precisions precise enough to place an incident on a map grid or within a site's radius.
SPATIAL_PRECISIONS: tuple[str, ...] = ("site", "neighborhood")
#: Reasons an incident is left out of spatial work, in report order.
EXCLUSIONS: tuple[str, ...] = ("city", "unresolved", "unknown", "missing_coordinates")
#: Incident cells closer than this (metres, centre to centre) share one study area.
LINK_M = 5000.0

_TO_METRIC = pyproj.Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)


def check_resolution(resolution: int) -> None:
    """Raise :class:`~riskmap.errors.SettingsError` unless ``resolution`` is an H3 resolution."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        msg = f"H3 resolution must be an integer from 0 to 15, not {resolution!r}"
        raise SettingsError(msg)
    if not 0 <= resolution <= 15:
        msg = f"H3 resolution must be from 0 to 15, not {resolution}"
        raise SettingsError(msg)


def project(lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray) -> np.ndarray:
    """Project WGS84 points to :data:`~riskmap.schema.METRIC_CRS`; return an ``(n, 2)`` array."""
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def spatial_incidents(incidents: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Split off the incidents precise enough for spatial work.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns (a GeoDataFrame's geometry is ignored: the
        incident's own ``lat`` and ``lon`` are used).

    Returns
    -------
    tuple
        The incidents with ``site`` or ``neighborhood`` precision and a coordinate (original
        index kept), and the number left out for each reason of :data:`EXCLUSIONS`:
        ``city`` and ``unresolved`` by precision, ``unknown`` for a missing or unlisted
        precision, ``missing_coordinates`` for a site or neighbourhood without ``lat``/``lon``.
    """
    precision = incidents["geo_precision"].astype("string").str.strip().str.lower()
    lat = pd.to_numeric(incidents["lat"], errors="coerce")
    lon = pd.to_numeric(incidents["lon"], errors="coerce")
    precise = precision.isin(SPATIAL_PRECISIONS).fillna(False).astype(bool)
    located = lat.notna() & lon.notna()
    known = precision.isin(("city", "unresolved")).fillna(False).astype(bool)
    excluded = {
        "city": int((precision == "city").fillna(False).sum()),
        "unresolved": int((precision == "unresolved").fillna(False).sum()),
        "unknown": int((~precise & ~known).sum()),
        "missing_coordinates": int((precise & ~located).sum()),
    }
    keep = (precise & located).to_numpy(dtype=bool)
    return incidents.loc[keep], excluded


def describe_exclusions(excluded: dict[str, int]) -> str:
    """Say in words which incidents were left out of spatial work, e.g. ``"3 city-level"``."""
    words = {
        "city": "city-level",
        "unresolved": "unresolved",
        "unknown": "without a location precision",
        "missing_coordinates": "site/neighbourhood without coordinates",
    }
    parts = [f"{excluded[k]} {words[k]}" for k in EXCLUSIONS if excluded.get(k)]
    return ", ".join(parts) if parts else "none"


def incident_cells(incidents: pd.DataFrame, *, resolution: int) -> pd.Series:
    """Return each incident's H3 cell (``None`` where it has no coordinate), indexed alike."""
    check_resolution(resolution)
    lat = pd.to_numeric(incidents["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(incidents["lon"], errors="coerce").to_numpy(dtype=float)
    _, _, cells = cell_centres(lat, lon, int(resolution))
    return pd.Series(cells, index=incidents.index, dtype=object)


def hex_counts(incidents: pd.DataFrame, *, resolution: int = 8) -> pd.DataFrame:
    """Count incidents and people per H3 cell, in total and per incident type.

    Only incidents with ``site`` or ``neighborhood`` precision are binned; the others are
    counted in ``result.attrs["excluded"]`` (see :func:`spatial_incidents`).

    Parameters
    ----------
    incidents
        Incidents in the canonical columns.
    resolution
        H3 resolution (0-15); 8 gives cells of about 0.74 km².

    Returns
    -------
    pandas.DataFrame
        One row per cell holding at least one incident, most incidents first: ``cell``, ``lat``
        and ``lon`` of the cell's centre, ``incidents``, ``people`` (victims; a missing count
        adds 0), and one column per type of :data:`~riskmap.schema.INCIDENT_TYPES` counting the
        incidents that carry it (an incident of several types counts in each, so the type
        columns may sum to more than ``incidents``). All counts are ``int64``.

    Raises
    ------
    SettingsError
        If ``resolution`` is not an H3 resolution.
    """
    check_resolution(resolution)
    used, excluded = spatial_incidents(incidents)
    columns = ["cell", "lat", "lon", "incidents", "people", *INCIDENT_TYPES]
    if used.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
        empty = empty.astype({"cell": "string", "lat": "float64", "lon": "float64"})
        empty.attrs["excluded"] = excluded
        return empty
    frame = pd.DataFrame(
        {
            "cell": incident_cells(used, resolution=resolution).to_numpy(dtype=object),
            "incidents": 1,
            "people": pd.to_numeric(used["victims"]).fillna(0).to_numpy(dtype="int64"),
        }
    )
    for kind in INCIDENT_TYPES:
        frame[kind] = has_type(used, [kind]).to_numpy(dtype="int64")
    out = frame.groupby("cell", sort=True).sum().reset_index()
    centres = np.array([h3.cell_to_latlng(c) for c in out["cell"]])
    out.insert(1, "lat", centres[:, 0])
    out.insert(2, "lon", centres[:, 1])
    out["cell"] = out["cell"].astype("string")
    out = out.sort_values(["incidents", "cell"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)[columns]
    out.attrs["excluded"] = excluded
    return out


def study_area(cells: Iterable[str], *, link_m: float = LINK_M) -> list[str]:
    """Return the cells of the study area around incident cells (see the module docstring).

    Parameters
    ----------
    cells
        H3 cells holding incidents, all of one resolution.
    link_m
        Incident cells closer than this (centre to centre, metres) are one group; each group's
        convex hull is filled with cells.

    Returns
    -------
    list of str
        The incident cells and every cell of their groups' hulls, sorted.
    """
    seeds = sorted(set(cells))
    if not seeds:
        return []
    resolution = h3.get_resolution(seeds[0])
    centres = np.array([h3.cell_to_latlng(c) for c in seeds])
    xy = project(centres[:, 0], centres[:, 1])
    pairs = cKDTree(xy).query_pairs(r=link_m, output_type="ndarray")
    n = len(seeds)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    area: set[str] = set(seeds)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        hull = MultiPoint([(centres[i, 1], centres[i, 0]) for i in members]).convex_hull
        ring = list(hull.exterior.coords) if isinstance(hull, Polygon) else list(hull.coords)
        # Cells along the hull's edges: a thin or straight hull still becomes a connected strip.
        for (lon_a, lat_a), (lon_b, lat_b) in zip(ring, ring[1:], strict=False):
            a = h3.latlng_to_cell(lat_a, lon_a, resolution)
            b = h3.latlng_to_cell(lat_b, lon_b, resolution)
            try:
                area.update(h3.grid_path_cells(a, b))
            except h3.H3BaseException:  # no grid path across a pentagon: the fill still holds
                continue
        if isinstance(hull, Polygon):
            shape = h3.LatLngPoly([(lat, lon) for lon, lat in hull.exterior.coords])
            area.update(h3.h3shape_to_cells(shape, resolution))
    return sorted(area)


def neighbours(cells: Sequence[str]) -> dict[str, list[str]]:
    """Return each cell's H3 grid neighbours that are also in ``cells`` (itself excluded)."""
    members = set(cells)
    return {c: sorted(n for n in h3.grid_disk(c, 1) if n != c and n in members) for c in cells}


__all__ = [
    "EXCLUSIONS",
    "LINK_M",
    "SPATIAL_PRECISIONS",
    "check_resolution",
    "describe_exclusions",
    "hex_counts",
    "incident_cells",
    "neighbours",
    "project",
    "spatial_incidents",
    "study_area",
]
