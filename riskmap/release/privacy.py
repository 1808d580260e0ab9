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
* counts below ``k`` (default 3) in aggregated public outputs are shown as ``"<k"``
  (:func:`format_count`), and a figure that would give such a count away (a change, an interval,
  a heatmap weight) is hidden or floored at ``k`` too; a selection of fewer than ``k`` incidents
  publishes no rows. Row-level outputs of larger selections remain countable: suppression
  protects aggregates from casual reading, not rows from being counted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from h3.api.basic_int import latlng_to_cell as _cell_int

from riskmap.schema import COLUMNS, PUBLIC_SITE_TYPES, conform, has_type
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


def pseudonym(incident_id: object, *, key: bytes) -> str:
    """Return the public id of an incident id: an HMAC-SHA256 under a secret key.

    A plain hash of a guessable id ("MAT-2019-0001") can be reversed by hashing every
    candidate; without the key it cannot.
    """
    digest = hmac.new(key, str(incident_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"inc-{digest[:12]}"


def pseudonym_key(settings: Settings) -> bytes:
    """Return the secret key of the public ids.

    ``RISKMAP_PSEUDONYM_KEY`` when set; otherwise a random key kept in a file beside the store
    (created on first use, readable by its owner only), so ids stay the same between runs.
    If that file cannot be written the key lives for this process only: ids are then stable
    within a run but differ between runs, which is safe, only less convenient.
    """
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    path = Path(settings.store).with_name(".riskmap-pseudonym.key")
    try:
        return path.read_bytes().strip()
    except OSError:
        pass
    key = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    except OSError:
        return _PROCESS_KEY
    return key


_PROCESS_KEY = secrets.token_hex(32).encode("ascii")


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
    cells = np.full(lat_a.shape, None, dtype=object)
    ok = ~(np.isnan(lat_a) | np.isnan(lon_a))
    if ok.any():
        # Many incidents share a point (a site, a neighbourhood) and many points share a cell:
        # index each distinct point once (hashed, not sorted) and find each cell's centre once.
        # Integer cell ids are twice as fast to compute as strings; only distinct cells get one.
        point, points = pd.factorize(lat_a[ok] + 1j * lon_a[ok])
        point_cells = np.fromiter(
            map(_cell_int, points.real.tolist(), points.imag.tolist(), repeat(resolution)),
            dtype=np.int64,
            count=len(points),
        )
        cell, distinct = pd.factorize(point_cells)
        ids = [h3.int_to_str(int(c)) for c in distinct]
        centres = np.array([h3.cell_to_latlng(c) for c in ids], dtype=float).reshape(-1, 2)
        row_cell = cell[point]
        out_lat[ok] = centres[row_cell, 0]
        out_lon[ok] = centres[row_cell, 1]
        cells[ok] = np.asarray(ids, dtype=object)[row_cell]
    return out_lat, out_lon, cells.tolist()


def public_view(
    incidents: pd.DataFrame, *, places: pd.DataFrame, settings: Settings | None = None
) -> pd.DataFrame:
    """Return the incidents as the public may see them.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns (a GeoDataFrame's geometry is ignored).
    places
        The gazetteer (``riskmap.geo.gazetteer.load_places``): site and city points.
    settings
        H3 resolutions; defaults to :class:`~riskmap.settings.Settings`.

    Returns
    -------
    pandas.DataFrame
        :data:`PUBLIC_COLUMNS` only, one row per incident, ordered by the date shown and then
        by pseudonym; each row keeps its incident's index label.
    """
    settings = settings or Settings()
    df = _canonical(incidents)
    n = len(df)
    by_id = places.drop_duplicates("place_id").set_index("place_id")
    city_points = places[places["place_type"] == "city"].drop_duplicates("city").set_index("city")

    # Column-wise tests on the Arrow-backed columns: a million rows never become Python objects.
    sensitive = has_type(df, SENSITIVE_TYPES).to_numpy(dtype=bool)
    precision = df["geo_precision"].astype("string").fillna("unresolved")
    is_site, is_city, is_unresolved = (
        _bools(precision == value) for value in ("site", "city", "unresolved")
    )
    place_id = df["place_id"].astype("string")
    place_type = df["place_type"].astype("string")
    known_place = _bools(place_id.isin(by_id.index))
    at_site = is_site & known_place & _bools(place_type.isin(PUBLIC_SITE_TYPES))
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
    located = ~(np.isnan(lat) | np.isnan(lon)) & ~is_unresolved

    out_lat = np.full(n, np.nan)
    out_lon = np.full(n, np.nan)
    how = np.full(n, PUBLIC_LOCATIONS.index("none"), dtype=np.int8)

    # 1. Located incidents that are not at a public site: their H3 cell centre.
    use_hex = located & ~at_site & ~sensitive & ~is_city
    hex_lat, hex_lon, _ = cell_centres(
        np.where(use_hex, lat, np.nan), np.where(use_hex, lon, np.nan), settings.h3_resolution
    )
    out_lat[use_hex], out_lon[use_hex] = hex_lat[use_hex], hex_lon[use_hex]
    how[use_hex] = PUBLIC_LOCATIONS.index("hex")

    # 2. Public sites: the gazetteer's point, whatever coordinate the record carried.
    site = at_site & ~sensitive
    if site.any():
        out_lat[site], out_lon[site] = _lookup(by_id, place_id[site])
        how[site] = PUBLIC_LOCATIONS.index("site")

    # 3. City level, and every sensitive incident: the city point when the city is known.
    city = df["city"].astype("string")
    has_city_point = _bools(city.isin(city_points.index))
    to_city = has_city_point & (is_city | (sensitive & (located | at_site)))
    if to_city.any():
        out_lat[to_city], out_lon[to_city] = _lookup(city_points, city[to_city])
        how[to_city] = PUBLIC_LOCATIONS.index("city")

    # 4. Sensitive incidents with no known city point: a coarse H3 cell.
    coarse = sensitive & located & ~has_city_point
    if coarse.any():
        c_lat, c_lon, _ = cell_centres(
            np.where(coarse, lat, np.nan),
            np.where(coarse, lon, np.nan),
            settings.h3_resolution_sensitive,
        )
        out_lat[coarse], out_lon[coarse] = c_lat[coarse], c_lon[coarse]
        how[coarse] = PUBLIC_LOCATIONS.index("hex")

    keep_place = how == PUBLIC_LOCATIONS.index("site")
    dates = pd.to_datetime(df["date"]).to_numpy()
    month_only = sensitive | _bools(df["date_precision"].astype("string") == "month")
    month_start = dates.astype("datetime64[M]").astype(dates.dtype)
    site_ids = place_id.where(keep_place)
    # The precision shown is that of the point shown: a site, an area (H3 cell), the city.
    shown_precision = np.array(["site", "neighborhood", "city", "unresolved"], dtype=object)
    geo_precision = pd.Series(shown_precision[how], index=df.index, dtype="string")
    # A kind of place is shown only where it names no private place: a shelter or the camp
    # is never named, and a sensitive incident's place never.
    shown_type = place_type.where(keep_place | place_type.isin(["neighborhood", "city"]))

    out = pd.DataFrame(
        {
            "incident_id": pd.array(
                _pseudonyms(df["incident_id"], pseudonym_key(settings)), dtype="string"
            ),
            "date": np.where(month_only, month_start, dates),
            "date_precision": _labels(month_only.astype(np.int8), ("day", "month")),
            "incident_types": _text(df["incident_types"]),
            "city": _text(city),
            "place_id": site_ids.array,
            "place_name": _site_names(by_id, site_ids),
            "place_type": _text(shown_type.where(keep_place | ~sensitive)),
            "lat": out_lat.round(6),
            "lon": out_lon.round(6),
            "geo_precision": geo_precision.array,
            "public_location": _labels(how, PUBLIC_LOCATIONS),
            "perpetrator": _text(df["perpetrator"]),
            "victims": df["victims"].astype("Int64").to_numpy(),
            "children": df["children"].astype("Int64").to_numpy(),
            "synthetic": df["synthetic"].astype("boolean").to_numpy(),
        },
        index=df.index,
    )
    # Rows in the order of the dates shown, then of the pseudonyms: kept in the recorded order, a
    # month-only row would sit among the rows of its true day and give that day away.
    order = np.lexsort((out["incident_id"].to_numpy(dtype=object), out["date"].to_numpy()))
    return out.iloc[order][list(PUBLIC_COLUMNS)]


def _canonical(incidents: pd.DataFrame) -> pd.DataFrame:
    """Return the canonical table; one already canonical (a store read) is used as it is."""
    frame = pd.DataFrame(incidents).drop(columns=["geometry"], errors="ignore")
    if list(frame.columns) == list(COLUMNS) and all(
        frame[col].dtype == pd.api.types.pandas_dtype(dtype) for col, dtype in COLUMNS.items()
    ):
        return frame
    return conform(frame)


def _bools(condition: pd.Series) -> np.ndarray:
    return condition.to_numpy(dtype=bool, na_value=False)


def _lookup(points: pd.DataFrame, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``lat`` and ``lon`` of ``points`` for each key (one lookup per distinct key)."""
    code, distinct = pd.factorize(keys)
    found = points.loc[np.asarray(distinct, dtype=object), ["lat", "lon"]].to_numpy(dtype=float)
    return found[code, 0], found[code, 1]


def _site_names(by_id: pd.DataFrame, site_ids: pd.Series) -> pd.api.extensions.ExtensionArray:
    code, distinct = pd.factorize(site_ids)
    return _labels(code, by_id["name"].reindex(np.asarray(distinct, dtype=object)).tolist())


def _labels(codes: np.ndarray, labels: Sequence[object]) -> pd.api.extensions.ExtensionArray:
    """Return a ``string`` column of ``labels[code]`` (missing where the code is -1).

    Built in Arrow from the codes: a million Python strings would cost a second.
    """
    codes = np.asarray(codes, dtype=np.int32)
    labels = [None if pd.isna(v) else str(v) for v in labels]
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas without pyarrow
        return pd.array(np.asarray([*labels, None], dtype=object)[codes], dtype="string")
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=codes < 0), pa.array(labels, type=pa.string())
    )
    return pd.array(dictionary.cast(pa.string()), dtype="string")


def _text(column: pd.Series) -> object:
    """Return a text column as the public table has always typed it: ``str``, missing as NaN.

    (A column with no text at all stays ``object``, as pandas infers it from the values.)
    """
    text = column.astype("string")
    if text.notna().any():
        return text.astype("str").array
    return text.to_numpy()


def _pseudonyms(ids: pd.Series, key: bytes) -> list[str]:
    """Return :func:`pseudonym` of each id (inlined: this runs once per incident)."""
    mac, sha256 = hmac.new, hashlib.sha256
    return [
        "inc-" + mac(key, str(i).encode("utf-8"), sha256).digest()[:6].hex()
        for i in ids.to_numpy(dtype=object)
    ]


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
