"""Hexagonal grids of incidents: H3 cell counts, and Getis-Ord Gi* hotspots on them.

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

Hotspots (:func:`gi_star`) are cells whose neighbourhood holds significantly many incidents by the
local Getis-Ord Gi* statistic (Getis & Ord, *The analysis of spatial association by use of
distance statistics*, Geographical Analysis 24, 1992; Ord & Getis, Geographical Analysis 27,
1995), computed by esda with binary weights (a cell and its six neighbours, the cell included),
conditional permutation inference (Anselin, Geographical Analysis 27, 1995) and the
Benjamini-Hochberg false-discovery-rate procedure over all cells (Benjamini & Hochberg, JRSS B
57, 1995; :func:`fdr_qvalues`). The statistic is refused below 30 incidents located at a site or
in a neighbourhood, and on study areas of fewer than :data:`MIN_CELLS` cells.

Counts here stay exact integers of the rows given: public callers give rows of the public
release, whose every selection holds 0 or at least k incidents.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import h3
import numpy as np
import pandas as pd
import pyproj
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, Polygon

from riskmap.errors import SettingsError
from riskmap.release.privacy import cell_centres
from riskmap.schema import INCIDENT_TYPES, METRIC_CRS, WGS84, has_type

#: Precisions precise enough to place an incident on a map grid or within a site's radius.
SPATIAL_PRECISIONS: tuple[str, ...] = ("site", "neighborhood")
#: Reasons an incident is left out of spatial work, in report order.
EXCLUSIONS: tuple[str, ...] = ("city", "unresolved", "unknown", "missing_coordinates")
#: Incident cells closer than this (metres, centre to centre) share one study area.
LINK_M = 5000.0

#: Columns of :attr:`GiStarResult.cells`, in order.
GI_COLUMNS: tuple[str, ...] = (
    "cell",
    "lat",
    "lon",
    "incidents",
    "gi",
    "z",
    "p_sim",
    "q",
    "significant",
    "label",
)
#: Fewest cells in a study area for Gi*: with fewer, a cell's neighbourhood of seven is most of
#: the area and "more than the area's average" says little.
MIN_CELLS = 10
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
            "people": pd.to_numeric(used["victims"]).fillna(0).to_numpy(dtype="int64")
            if "victims" in used.columns
            else np.zeros(len(used), dtype="int64"),
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
    if "victims" not in used.columns:  # the public release holds no number of people
        out["people"] = pd.array([pd.NA] * len(out), dtype="Int64")
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


def fdr_qvalues(p_values: Iterable[float]) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values).

    A test is a discovery at false-discovery rate ``alpha`` when its q-value is at most
    ``alpha``; this rejects exactly the hypotheses the step-up procedure of Benjamini & Hochberg
    (1995) rejects, and controls the FDR for independent or positively dependent tests.

    Parameters
    ----------
    p_values
        One p-value per test.

    Returns
    -------
    numpy.ndarray
        ``q_i = min over j with p_j >= p_i of (m p_j / rank_j)``, capped at 1, in input order.
    """
    p = np.asarray(list(p_values), dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


@dataclass(frozen=True)
class GiStarResult:
    """The outcome of :func:`gi_star`: statistics per cell, or the reason there are none."""

    #: Whether the statistic was computed.
    ran: bool
    #: Why it was not computed (``None`` when it ran).
    reason: str | None
    #: Incidents analysed: located at a site or in a neighbourhood (and, when the statistic
    #: ran, not in an isolated cell).
    incidents: int
    #: Incidents left out of the statistics, by reason (see
    #: :data:`riskmap.analysis.hexgrid.EXCLUSIONS`).
    excluded: dict[str, int]
    #: One row per cell of the study area, columns :data:`GI_COLUMNS` (empty when not run).
    cells: pd.DataFrame
    resolution: int
    permutations: int
    seed: int
    #: False-discovery rate at which cells are called significant.
    alpha: float
    #: Caveats in words (for example the smallest p-value the permutations can give).
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def significant_hot(self) -> int:
        """Number of cells that are significant hotspots."""
        return int((self.cells["label"] == "hot").sum()) if self.ran else 0

    @property
    def significant_cold(self) -> int:
        """Number of cells that are significant cold spots."""
        return int((self.cells["label"] == "cold").sum()) if self.ran else 0

    @property
    def hotspots(self) -> pd.DataFrame:
        """The significant hotspot cells, most incidents first."""
        if not self.ran:
            return self.cells
        hot = self.cells[self.cells["label"] == "hot"]
        return hot.sort_values(["incidents", "cell"], ascending=[False, True]).reset_index(
            drop=True
        )

    def summary(self) -> str:
        """Describe the result in one or two sentences."""
        left_out = describe_exclusions(self.excluded)
        if not self.ran:
            return f"Getis-Ord Gi* not computed: {self.reason}"
        return (
            f"Getis-Ord Gi* on {len(self.cells)} H3 cells (resolution {self.resolution}), "
            f"{self.incidents} incidents, {self.permutations} permutations (seed {self.seed}): "
            f"{self.significant_hot} hotspot cell(s) and {self.significant_cold} cold-spot "
            f"cell(s) at a false-discovery rate of {self.alpha:g}. Left out: {left_out}."
        )


def gi_star(
    incidents: pd.DataFrame,
    *,
    resolution: int = 8,
    permutations: int = 9999,
    seed: int = 2020,
    alpha: float = 0.05,
    min_incidents: int = 30,
) -> GiStarResult:
    """Find hex cells whose neighbourhood holds significantly many (or few) incidents.

    The variable is the incident count per H3 cell over the study area of
    :func:`riskmap.analysis.hexgrid.study_area`; weights are binary, a cell and its six neighbours
    (Gi*, the cell itself included). Inference is by conditional permutation (esda): the cell's
    own count is held and the others are shuffled, so a single busy cell amid empty ones is not a
    cluster; the site ranking is the tool for single places. The p-value is two-sided,
    ``min(1, 2 min(P(G >= g), P(G <= g)))`` counted over the permutations with ``+1`` in
    numerator and denominator, and cells are significant when their Benjamini-Hochberg q-value
    is at most ``alpha``. A hot cell has a high neighbourhood count, a cold cell a low one.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns (the current selection).
    resolution
        H3 resolution of the grid.
    permutations
        Number of permutations. The smallest p-value they can give is
        ``2 / (permutations + 1)``; with ``m`` cells a lone cell passes the FDR only when
        ``p <= alpha / m``, so too few permutations make hotspots undetectable (the result's
        ``notes`` say so).
    seed
        Seed of the permutations: the same data and seed give the same result.
    alpha
        False-discovery rate.
    min_incidents
        Fewest incidents with site or neighbourhood precision for which the statistic is
        computed; below it the result says why not.

    Returns
    -------
    GiStarResult
        With ``ran=False`` and a ``reason`` when there are too few incidents or cells.

    Raises
    ------
    SettingsError
        If an option is out of range.
    """
    check_resolution(resolution)
    if not 0 < alpha < 1:
        msg = f"alpha must be between 0 and 1, not {alpha}"
        raise SettingsError(msg)
    if permutations < 99:
        msg = f"permutations must be at least 99 (9999 recommended), not {permutations}"
        raise SettingsError(msg)
    if min_incidents < 1:
        msg = f"min_incidents must be at least 1, not {min_incidents}"
        raise SettingsError(msg)
    used, excluded = spatial_incidents(incidents)
    n = len(used)
    left_out = describe_exclusions(excluded)

    def refuse(reason: str) -> GiStarResult:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in GI_COLUMNS})
        return GiStarResult(
            False, reason, n, excluded, empty, resolution, permutations, seed, alpha
        )

    if n < min_incidents:
        return refuse(
            f"only {n} incident(s) located at a site or in a neighbourhood are selected, and "
            f"the statistic needs at least {min_incidents}: with fewer, one or two incidents "
            f"would make a 'hotspot'. Left out of spatial statistics: {left_out}."
        )
    counts = incident_cells(used, resolution=resolution).value_counts()
    area = study_area(counts.index)
    adjacency = neighbours(area)
    grid = [c for c in area if adjacency[c]]
    lone = [c for c in area if not adjacency[c]]
    if len(grid) < MIN_CELLS:
        return refuse(
            f"the {n} incidents fall in a study area of only {len(grid)} connected H3 cell(s) "
            f"(resolution {resolution}); at least {MIN_CELLS} are needed to tell a cluster from "
            "the area's average. The incidents sit on too few places for a spatial statistic; "
            "use the site ranking."
        )
    adjacency = {c: adjacency[c] for c in grid}
    y = counts.reindex(grid, fill_value=0).to_numpy(dtype=float)
    if y.sum() < min_incidents:
        return refuse(
            f"only {int(y.sum())} of the {n} incidents lie in cells with a neighbouring cell in "
            f"their study area, and the statistic needs at least {min_incidents}; the others "
            "are isolated places. Left out of spatial statistics: "
            f"{left_out}."
        )
    gi, z, p, hot = _run_gi(y, adjacency, grid, permutations=permutations, seed=seed)
    q = fdr_qvalues(p)
    significant = q <= alpha
    label = np.where(significant, np.where(hot, "hot", "cold"), "none")
    centres = np.array([h3.cell_to_latlng(c) for c in grid])
    cells = pd.DataFrame(
        {
            "cell": pd.array(grid, dtype="string"),
            "lat": centres[:, 0],
            "lon": centres[:, 1],
            "incidents": y.astype("int64"),
            "gi": gi,
            "z": z,
            "p_sim": p,
            "q": q,
            "significant": significant,
            "label": pd.array(label, dtype="string"),
        }
    )
    notes = []
    floor = 2 / (permutations + 1)
    if floor > alpha / len(grid):
        notes.append(
            f"with {permutations} permutations the smallest p-value is {floor:.2g}, above "
            f"alpha/cells = {alpha / len(grid):.2g}: a hotspot of a single cell cannot reach "
            "significance; use more permutations"
        )
    if lone:
        in_lone = int(counts.reindex(lone, fill_value=0).sum())
        notes.append(
            f"{len(lone)} isolated cell(s) with {in_lone} incident(s) have no neighbouring cell "
            "in a study area and were left out"
        )
    used_n = int(y.sum())
    return GiStarResult(
        True, None, used_n, excluded, cells, resolution, permutations, seed, alpha, tuple(notes)
    )


def _run_gi(
    y: np.ndarray,
    adjacency: dict[str, list[str]],
    order: list[str],
    *,
    permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run esda's local G*; return G*, its z-score, two-sided p-values and whether hot."""
    import esda
    from libpysal.weights import W

    # Each cell is its own neighbour (weight 1): Gi* includes the focal cell, and a W built with
    # its diagonal keeps esda from rebuilding it. Two cities are two disconnected components of
    # the grid: expected, so libpysal is told not to warn about it.
    w = W(
        {c: [c, *adjacency[c]] for c in order},
        id_order=order,
        silence_warnings=True,
    )
    with warnings.catch_warnings():
        # esda asks for an `alternative` that G_Local cannot pass on; the p-values are
        # recomputed two-sided below from the kept permutations, so its default does not matter.
        warnings.filterwarnings(
            "ignore", message=".*alternative hypothesis for conditional randomization.*"
        )
        g = esda.G_Local(
            y,
            w,
            transform="B",
            star=True,
            permutations=permutations,
            keep_simulations=True,
            n_jobs=1,
            seed=seed,
        )
    sims = np.asarray(g.rGs)
    observed = np.asarray(g.Gs)[:, None]
    # Counts are discrete: ties with the observed value count on both sides (conservative).
    upper = ((sims >= observed).sum(axis=1) + 1) / (permutations + 1)
    lower = ((sims <= observed).sum(axis=1) + 1) / (permutations + 1)
    p = np.minimum(1.0, 2 * np.minimum(upper, lower))
    return np.asarray(g.Gs), np.asarray(g.Zs), p, upper < lower


__all__ = [
    "EXCLUSIONS",
    "GI_COLUMNS",
    "LINK_M",
    "MIN_CELLS",
    "SPATIAL_PRECISIONS",
    "GiStarResult",
    "check_resolution",
    "describe_exclusions",
    "fdr_qvalues",
    "gi_star",
    "hex_counts",
    "incident_cells",
    "neighbours",
    "project",
    "spatial_incidents",
    "study_area",
]
