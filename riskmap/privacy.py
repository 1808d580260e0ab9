"""Public views: what may leave the tool without locating or identifying a victim.

One policy, used by the map, the tables, the charts and every export:

* an incident at a public site (an international bridge, a bus terminal, an INM office, a plaza)
  is shown at the site's gazetteer point — never at its own recorded coordinate;
* any other located incident is moved to the centre of its H3 cell (resolution 8 by default,
  about 0.74 km²; Uber H3), or to the city point when only the city is known;
* an incident that includes sexual assault is coarsened further: the city point (or an H3 cell of
  resolution 7, about 5 km², when the city is unknown), and its date is shown by month only;
* free text (``location_text``, ``notes``, ``source``) never appears; incident ids are replaced by
  a one-way pseudonym;
* counts below ``k`` (default 3) in aggregated public tables are shown as ``"<k"``, with a second
  cell suppressed wherever a total would give the first away (primary and secondary cell
  suppression, as statistical agencies publish small-area tables).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import h3
import numpy as np
import pandas as pd

from riskmap.schema import PUBLIC_SITE_TYPES, conform, has_type
from riskmap.settings import Settings

#: Columns of a public incident table, in order.
PUBLIC_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "date",
    "date_precision",
    "incident_types",
    "city",
    "place_id",
    "place_name",
    "place_type",
    "lat",
    "lon",
    "geo_precision",
    "public_location",
    "perpetrator",
    "victims",
    "children",
    "synthetic",
)
#: Columns that never appear in a public view.
PRIVATE_COLUMNS: tuple[str, ...] = ("location_text", "notes", "source")
#: How a public row's coordinate was obtained.
PUBLIC_LOCATIONS: tuple[str, ...] = ("site", "hex", "city", "none")
SENSITIVE_TYPES: tuple[str, ...] = ("sexual_assault",)


def pseudonym(incident_id: object) -> str:
    """Return a stable one-way public id for an incident id."""
    digest = hashlib.sha256(str(incident_id).encode("utf-8")).hexdigest()
    return f"inc-{digest[:12]}"


def cell_centres(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Return the H3 cell and its centre for each point (NaN in, NaN out).

    Parameters
    ----------
    lat, lon
        WGS84 coordinates.
    resolution
        H3 resolution (0-15).

    Returns
    -------
    tuple
        Centre latitudes, centre longitudes, and cell ids (``None`` where there was no point).
    """
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    out_lat = np.full(lat_a.shape, np.nan)
    out_lon = np.full(lat_a.shape, np.nan)
    cells: list[str | None] = [None] * len(lat_a)
    # Many incidents share a point (a site, a neighbourhood): index each distinct point once.
    ok = ~(np.isnan(lat_a) | np.isnan(lon_a))
    if ok.any():
        pts = np.column_stack([lat_a[ok], lon_a[ok]])
        uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
        uniq_cells = [h3.latlng_to_cell(float(a), float(b), resolution) for a, b in uniq]
        centres = np.array([h3.cell_to_latlng(c) for c in uniq_cells])
        idx = np.flatnonzero(ok)
        inverse = inverse.ravel()
        out_lat[idx] = centres[inverse, 0]
        out_lon[idx] = centres[inverse, 1]
        for i, j in zip(idx, inverse, strict=True):
            cells[i] = uniq_cells[j]
    return out_lat, out_lon, cells


def public_view(
    incidents: pd.DataFrame, *, places: pd.DataFrame, settings: Settings | None = None
) -> pd.DataFrame:
    """Return the incidents as the public may see them.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns (a GeoDataFrame's geometry is ignored).
    places
        The gazetteer (``riskmap.gazetteer.load_places``): site and city points.
    settings
        H3 resolutions; defaults to :class:`~riskmap.settings.Settings`.

    Returns
    -------
    pandas.DataFrame
        :data:`PUBLIC_COLUMNS` only, one row per incident, in the same order.
    """
    settings = settings or Settings()
    df = conform(pd.DataFrame(incidents).drop(columns=["geometry"], errors="ignore"))
    n = len(df)
    by_id = places.drop_duplicates("place_id").set_index("place_id")
    city_points = places[places["place_type"] == "city"].drop_duplicates("city").set_index("city")

    sensitive = has_type(df, SENSITIVE_TYPES).to_numpy(dtype=bool)
    precision = df["geo_precision"].astype("string").fillna("unresolved").to_numpy(dtype=object)
    place_id = df["place_id"].astype("string")
    place_type = df["place_type"].astype("string")
    known_place = place_id.isin(by_id.index).to_numpy(dtype=bool)
    at_site = (
        (precision == "site")
        & known_place
        & place_type.isin(PUBLIC_SITE_TYPES).fillna(False).to_numpy(dtype=bool)
    )
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
    located = ~(np.isnan(lat) | np.isnan(lon)) & (precision != "unresolved")

    out_lat = np.full(n, np.nan)
    out_lon = np.full(n, np.nan)
    how = np.full(n, "none", dtype=object)

    # 1. Located incidents that are not at a public site: their H3 cell centre.
    hex_lat, hex_lon, _ = cell_centres(
        np.where(located, lat, np.nan), np.where(located, lon, np.nan), settings.h3_resolution
    )
    use_hex = located & ~at_site & ~sensitive & (precision != "city")
    out_lat[use_hex], out_lon[use_hex] = hex_lat[use_hex], hex_lon[use_hex]
    how[use_hex] = "hex"

    # 2. Public sites: the gazetteer's point, whatever coordinate the record carried.
    site = at_site & ~sensitive
    if site.any():
        ids = place_id[site].to_numpy(dtype=object)
        out_lat[site] = by_id.loc[ids, "lat"].to_numpy(dtype=float)
        out_lon[site] = by_id.loc[ids, "lon"].to_numpy(dtype=float)
        how[site] = "site"

    # 3. City level, and every sensitive incident: the city point when the city is known.
    city = df["city"].astype("string")
    has_city_point = city.isin(city_points.index).fillna(False).to_numpy(dtype=bool)
    to_city = has_city_point & ((precision == "city") | (sensitive & (located | at_site)))
    if to_city.any():
        names = city[to_city].to_numpy(dtype=object)
        out_lat[to_city] = city_points.loc[names, "lat"].to_numpy(dtype=float)
        out_lon[to_city] = city_points.loc[names, "lon"].to_numpy(dtype=float)
        how[to_city] = "city"

    # 4. Sensitive incidents with no known city point: a coarse H3 cell.
    coarse = sensitive & located & ~has_city_point
    if coarse.any():
        c_lat, c_lon, _ = cell_centres(
            np.where(coarse, lat, np.nan),
            np.where(coarse, lon, np.nan),
            settings.h3_resolution_sensitive,
        )
        out_lat[coarse], out_lon[coarse] = c_lat[coarse], c_lon[coarse]
        how[coarse] = "hex"

    keep_place = how == "site"
    dates = pd.to_datetime(df["date"])
    month_only = sensitive | (df["date_precision"].astype("string") == "month").fillna(False)
    month_only_a = month_only.to_numpy(dtype=bool)
    public_dates = dates.where(~month_only_a, dates.dt.to_period("M").dt.start_time)
    names_for_sites = by_id["name"].reindex(place_id.where(keep_place).to_numpy(dtype=object))

    out = pd.DataFrame(
        {
            "incident_id": [pseudonym(i) for i in df["incident_id"]],
            "date": public_dates.to_numpy(),
            "date_precision": np.where(month_only_a, "month", "day"),
            "incident_types": df["incident_types"].astype("string").to_numpy(),
            "city": city.to_numpy(),
            "place_id": place_id.where(keep_place).to_numpy(),
            "place_name": names_for_sites.to_numpy(),
            "place_type": place_type.where(keep_place | ~sensitive).to_numpy(),
            "lat": out_lat.round(6),
            "lon": out_lon.round(6),
            "geo_precision": np.where(
                how == "site", "site", np.where(how == "none", "unresolved", precision)
            ),
            "public_location": how,
            "perpetrator": df["perpetrator"].astype("string").to_numpy(),
            "victims": df["victims"].astype("Int64").to_numpy(),
            "children": df["children"].astype("Int64").to_numpy(),
            "synthetic": df["synthetic"].astype("boolean").to_numpy(),
        },
        index=df.index,
    )
    for col in ("incident_id", "date_precision", "place_id", "place_name", "geo_precision"):
        out[col] = out[col].astype("string")
    out["public_location"] = out["public_location"].astype("string")
    return out[list(PUBLIC_COLUMNS)]


def suppress(
    table: pd.DataFrame, *, columns: Sequence[str], k: int = 3, total_row: bool = False
) -> pd.DataFrame:
    """Show counts below ``k`` (but above zero) as ``"<k"``, with secondary suppression.

    Parameters
    ----------
    table
        An aggregated table whose ``columns`` hold non-negative integer counts.
    columns
        The count columns to protect.
    k
        The smallest count shown as a number.
    total_row
        Whether the table's last row is a total over the others; if so, a column with exactly
        one suppressed cell gets its next-smallest cell suppressed too, so the total cannot be
        used to recover the hidden one.

    Returns
    -------
    pandas.DataFrame
        A copy in which the count columns are strings.
    """
    out = table.copy()
    label = f"<{k}"
    body = slice(0, len(out) - 1) if total_row else slice(0, len(out))
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(int)
        hide = (values > 0) & (values < k)
        if total_row:
            body_hide = hide.iloc[body]
            # The total itself is suppressed like any cell when small.
            if body_hide.sum() == 1:
                candidates = values.iloc[body][~body_hide & (values.iloc[body] > 0)]
                if not candidates.empty:
                    hide.loc[candidates.idxmin()] = True
                else:
                    hide.iloc[-1] = True
        shown = values.astype(str)
        shown[hide] = label
        out[col] = shown
    return out


def format_count(n: int, *, k: int = 3) -> str:
    """Show a public count: ``"<k"`` for 1 to k-1, the number otherwise."""
    return f"<{k}" if 0 < n < k else str(n)


def restricted_view(incidents: pd.DataFrame, *, places: pd.DataFrame) -> pd.DataFrame:
    """Return every canonical column plus ``place_name``: for logged-in, allowed staff only."""
    df = conform(pd.DataFrame(incidents).drop(columns=["geometry"], errors="ignore"))
    names = places.drop_duplicates("place_id").set_index("place_id")["name"]
    df.insert(
        df.columns.get_loc("place_id") + 1,
        "place_name",
        names.reindex(df["place_id"].to_numpy(dtype=object)).to_numpy(),
    )
    df["place_name"] = df["place_name"].astype("string")
    return df
