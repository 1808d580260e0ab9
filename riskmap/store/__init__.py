"""The incident store: one interface over two backends.

The embedded GeoPackage (:mod:`riskmap.store.geopackage`, the default; a file path) and
PostgreSQL/PostGIS (:mod:`riskmap.store.postgis`; a ``postgresql://`` URL), both behind
:class:`riskmap.store.base.IncidentStore`: :func:`open_store` picks the backend from the location.
A GeoParquet read cache sits beside a GeoPackage (:mod:`riskmap.store.cache`). Edits go through
:func:`update_incident`, which refuses a stale edit with :class:`StoreConflictError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from riskmap.store.base import (
    VERSION,
    IncidentStore,
    StoreConflictError,
    StoreWriter,
    content_hash,
    is_url,
)
from riskmap.store.geopackage import (
    LAYER,
    TMP_SUFFIX,
    GeoPackageStore,
    append_incidents,
    merge_incidents,
    quarantine_path,
    read_incidents,
    read_or_empty,
    remove_stale_temporaries,
    replace_atomically,
    store_lock,
    to_geoframe,
    write_bytes_atomically,
    write_incidents,
)


def open_store(location: str | os.PathLike[str] | IncidentStore) -> IncidentStore:
    """Return the store at ``location``: PostGIS for a ``postgresql://`` URL, else GeoPackage.

    Parameters
    ----------
    location
        A GeoPackage path, a PostgreSQL URL, or a store already opened (returned as it is).

    Raises
    ------
    StoreError
        If the URL is malformed or the PostGIS backend's driver is not installed.
    """
    if isinstance(location, str | os.PathLike):
        if is_url(location):
            from riskmap.store.postgis import PostGISStore

            return PostGISStore(str(location))
        return GeoPackageStore(location)
    return location


def update_incident(
    store: str | os.PathLike[str] | IncidentStore,
    incident_id: str,
    changes: Mapping[str, object],
    *,
    expected_version: int,
) -> int:
    """Edit one incident, unless someone else changed it since ``expected_version``.

    Parameters
    ----------
    store
        The store (path, URL or opened store).
    incident_id
        The incident to edit.
    changes
        Column -> new value, canonical columns other than ``incident_id``.
    expected_version
        The version the edit was made from (from :func:`get_incident`).

    Returns
    -------
    int
        The incident's new version.

    Raises
    ------
    StoreConflictError
        If the store holds another version: nothing is written.
    SchemaError
        If the edit names an unknown column or makes the incident invalid.
    StoreError
        If the incident is not in the store or the store cannot be written.
    """
    return open_store(store).update(incident_id, changes, expected_version=expected_version)


def get_incident(
    store: str | os.PathLike[str] | IncidentStore, incident_id: str
) -> tuple[dict[str, object], int]:
    """Return one incident's canonical values and its current version.

    Raises
    ------
    StoreError
        If the incident is not in the store.
    """
    return open_store(store).get(incident_id)


__all__ = [
    "LAYER",
    "TMP_SUFFIX",
    "VERSION",
    "GeoPackageStore",
    "IncidentStore",
    "StoreConflictError",
    "StoreWriter",
    "append_incidents",
    "content_hash",
    "get_incident",
    "is_url",
    "merge_incidents",
    "open_store",
    "quarantine_path",
    "read_incidents",
    "read_or_empty",
    "remove_stale_temporaries",
    "replace_atomically",
    "store_lock",
    "to_geoframe",
    "update_incident",
    "write_bytes_atomically",
    "write_incidents",
]
