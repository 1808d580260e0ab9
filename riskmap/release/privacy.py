"""Privacy primitives of the release: pseudonyms, H3 cells, count formatting, the staff view.

The public release (:mod:`riskmap.release.public`) is built from these; nothing here decides
what the public sees by itself:

* incident ids are replaced by a keyed one-way pseudonym (HMAC-SHA256), keyed per store;
* located incidents that are not at a public site are shown at the centre of their H3 cell
  (Uber H3, resolution 8 by default, about 0.74 km²; :func:`cell_centres`);
* free text (``location_text``, ``notes``, ``source``) never appears in public outputs;
* :func:`format_count` writes ``"<k"`` for counts from 1 to k-1 (kept as a second guard: every
  public count from the release is 0 or at least k already);
* :func:`restricted_view` is every recorded column, for allowed staff only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from itertools import repeat

import h3
import numpy as np
import pandas as pd
from h3.api.basic_int import latlng_to_cell as _cell_int

from riskmap.schema import STATUS, WITHDRAWN, conform
from riskmap.settings import Settings, local_path

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


def pseudonym_key(settings: Settings, *, store: str | os.PathLike[str] | None = None) -> bytes:
    """Return the secret key of the public ids of ``store`` (default ``settings.store``).

    ``RISKMAP_PSEUDONYM_KEY`` when set; otherwise a random key kept in a file beside the store
    that was read (created on first use, readable by its owner only), so that the app and the CLI
    give one incident the same id and ids stay the same between runs.
    If that file cannot be written the key lives for this process only: ids are then stable
    within a run but differ between runs, which is safe, only less convenient.
    """
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    path = local_path(store if store is not None else settings.store).with_name(
        ".riskmap-pseudonym.key"
    )
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
    out_lat, out_lon, code, ids = cell_index(lat, lon, resolution)
    cells = np.full(code.shape, None, dtype=object)
    ok = code >= 0
    if ok.any():
        cells[ok] = np.asarray(ids, dtype=object)[code[ok]]
    return out_lat, out_lon, cells.tolist()


def cell_index(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Return each point's cell centre and cell as a number into the list of distinct cells.

    What :func:`cell_centres` gives, without a million cell id strings: the third item is each
    point's position in the fourth (the distinct cell ids), -1 where there was no point.
    """
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    out_lat = np.full(lat_a.shape, np.nan)
    out_lon = np.full(lat_a.shape, np.nan)
    code = np.full(lat_a.shape, -1, dtype=np.int64)
    ids: list[str] = []
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
        code[ok] = row_cell
    return out_lat, out_lon, code, ids


def pseudonyms(ids: pd.Series, key: bytes) -> list[str]:
    """Return :func:`pseudonym` of each id (inlined: this runs once per incident)."""
    return ["inc-" + digest.hex() for digest in pseudonym_digests(ids, key)]


def pseudonym_digests(ids: pd.Series, key: bytes) -> list[bytes]:
    """Return the part of each id's HMAC that its pseudonym spells: 6 bytes, 12 hex digits."""
    # The key is set up once and each id's HMAC continues from a copy of it: the same bytes
    # as hmac.digest(key, id), which sets the key up again for every id (twice as slow).
    keyed = hmac.new(key, digestmod="sha256")

    def one(incident_id: object) -> bytes:
        mac = keyed.copy()
        mac.update(str(incident_id).encode("utf-8"))
        return mac.digest()[:6]

    return [one(i) for i in ids.to_numpy(dtype=object)]


def format_count(n: int, *, k: int) -> str:
    """Show a count: ``"<k"`` for 1 to k-1, the number otherwise (``k=0`` shows every number)."""
    return f"<{k}" if 0 < n < k else str(n)


def restricted_view(incidents: pd.DataFrame, *, places: pd.DataFrame) -> pd.DataFrame:
    """Return every canonical column plus ``place_name``: for logged-in, allowed staff only.

    Incidents rejected or retracted in review (:data:`riskmap.schema.WITHDRAWN`) are left out:
    staff counts, maps and hotspots take the published incidents and those still waiting for
    review (draft, in review), never a record the review took out.
    """
    frame = pd.DataFrame(incidents)
    if STATUS in frame.columns:
        withdrawn = frame[STATUS].astype("string").isin(WITHDRAWN).fillna(False)
        frame = frame[~withdrawn.to_numpy(dtype=bool)]
    df = conform(frame.drop(columns=["geometry"], errors="ignore"))
    names = places.drop_duplicates("place_id").set_index("place_id")["name"]
    df.insert(
        df.columns.get_loc("place_id") + 1,
        "place_name",
        names.reindex(df["place_id"].to_numpy(dtype=object)).to_numpy(),
    )
    df["place_name"] = df["place_name"].astype("string")
    return df
