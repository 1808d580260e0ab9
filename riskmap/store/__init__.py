"""The incident store: one interface over its backends.

Today one backend, the embedded GeoPackage (:mod:`riskmap.store.geopackage`), written
atomically under a lock, and a GeoParquet read cache beside it (:mod:`riskmap.store.cache`).
"""

from riskmap.store.geopackage import (
    LAYER,
    TMP_SUFFIX,
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

__all__ = [
    "LAYER",
    "TMP_SUFFIX",
    "append_incidents",
    "merge_incidents",
    "quarantine_path",
    "read_incidents",
    "read_or_empty",
    "remove_stale_temporaries",
    "replace_atomically",
    "store_lock",
    "to_geoframe",
    "write_bytes_atomically",
    "write_incidents",
]
