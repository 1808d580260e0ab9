"""Describe an export as a Frictionless data package: ``datapackage.json`` and its Table Schema.

A data package (Frictionless Data, "Data Package" and "Table Schema", datapackage.org) is the
machine-readable description data portals and ``frictionless validate`` read: each column's
type, allowed values, missing value and unit, the licence, the sources, and here the release
report and the synthetic flag. The descriptor is written by hand (no ``frictionless`` import at
run time) and names no remote profile, so validating it fetches nothing.

The descriptor describes only the columns of the export it ships with: a public package names
the release's columns and vocabularies, never a restricted column.

A GeoJSON or GeoPackage file is not a table a validator reads, so its package also carries the
features' properties as a JSON table (``<name>.properties.json``, one object per feature, in the
file's order) under the same Table Schema.

:func:`citation` writes the "cite this" line every manifest and package carries (EN/ES).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from riskmap.release.privacy import PUBLIC_LOCATIONS
from riskmap.release.public import LEVELS, PERPETRATOR_GROUP_NAMES, TYPE_GROUP_NAMES
from riskmap.schema import (
    DATE_PRECISIONS,
    GEO_PRECISIONS,
    INCIDENT_TYPES,
    MULTI_SEP,
    PERPETRATORS,
    PLACE_TYPES,
    PUBLIC_SITE_TYPES,
    SITE_TYPES,
)

#: The licence of the exported data (Open Definition / SPDX identifier).
LICENSES: tuple[dict[str, str], ...] = (
    {
        "name": "CC-BY-4.0",
        "title": "Creative Commons Attribution 4.0 International",
        "path": "https://creativecommons.org/licenses/by/4.0/",
    },
)
#: Where every record of a store comes from (the per-record source is restricted).
STORE_SOURCE: dict[str, str] = {
    "title": "riskmap incident store: reports collected by shelters and partner organisations "
    "(the source of each record is kept for staff and never published)",
}
#: Where the figures the synthetic sample reproduces were published.
SAMPLE_SOURCE: dict[str, str] = {
    "title": "Human Rights Watch, \"US: Investigate 'Remain in Mexico' Program\" (2 June 2020): "
    "the totals the synthetic sample reproduces",
    "path": "https://www.hrw.org/news/2020/06/02/us-investigate-remain-mexico-program",
}
#: Kinds of place a public row never names (pinning an incident there points at residents).
PRIVATE_PLACE_TYPES: frozenset[str] = SITE_TYPES - PUBLIC_SITE_TYPES
#: The only cell written for a missing value, in every format.
MISSING_VALUES: tuple[str, ...] = ("",)
_BOOLEAN: dict[str, object] = {"type": "boolean", "trueValues": ["true"], "falseValues": ["false"]}
_PEOPLE: dict[str, object] = {"type": "integer", "constraints": {"minimum": 0}, "unit": "people"}
#: Table Schema type, constraints and unit of each column that an export can hold.
FIELDS: dict[str, dict[str, object]] = {
    "incident_id": {"type": "string", "constraints": {"required": True, "unique": True}},
    "date": {"type": "date"},
    "date_end": {"type": "date"},
    "date_precision": {"type": "string"},
    "incident_types": {"type": "string"},
    "type_precision": {"type": "string"},
    "city": {"type": "string"},
    "location_text": {"type": "string"},
    "lat": {
        "type": "number",
        "constraints": {"minimum": -90, "maximum": 90},
        "unit": "degrees north (WGS84, EPSG:4326)",
    },
    "lon": {
        "type": "number",
        "constraints": {"minimum": -180, "maximum": 180},
        "unit": "degrees east (WGS84, EPSG:4326)",
    },
    "geo_precision": {"type": "string"},
    "place_id": {"type": "string"},
    "place_name": {"type": "string"},
    "place_type": {"type": "string"},
    "public_location": {"type": "string"},
    "perpetrator": {"type": "string"},
    "perpetrator_precision": {"type": "string"},
    "victims": _PEOPLE,
    "people_kidnapped": _PEOPLE,
    "people_in_attempts": _PEOPLE,
    "people_other": _PEOPLE,
    "children": _PEOPLE,
    "children_affected": _BOOLEAN,
    "source": {"type": "string"},
    "notes": {"type": "string"},
    "synthetic": {**_BOOLEAN, "constraints": {"required": True}},
}


def vocabularies(*, public: bool, cities: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Return the allowed values of each enumerated column, for a public or restricted export.

    Parameters
    ----------
    public
        The public release's vocabularies (periods, groups, how a point was obtained) instead of
        the incident model's.
    cities
        The gazetteer's cities: a public ``city`` is always one of them.
    """
    if not public:
        return {
            "date_precision": DATE_PRECISIONS,
            "geo_precision": GEO_PRECISIONS,
            "place_type": PLACE_TYPES,
            "perpetrator": PERPETRATORS,
        }
    return {
        "date_precision": LEVELS["date"],
        "type_precision": LEVELS["types"],
        "perpetrator_precision": LEVELS["perpetrator"],
        # A located public row is at a site, in a cell (neighbourhood) or at the city point.
        "geo_precision": tuple(p for p in GEO_PRECISIONS if p != "unresolved"),
        # Never a shelter or the camp.
        "place_type": tuple(p for p in PLACE_TYPES if p not in PRIVATE_PLACE_TYPES),
        "public_location": PUBLIC_LOCATIONS,
        "perpetrator": tuple(dict.fromkeys((*PERPETRATORS, *PERPETRATOR_GROUP_NAMES))),
        "city": tuple(sorted(set(cities))),
    }


def table_schema(
    columns: Sequence[str],
    *,
    public: bool,
    headers: Mapping[str, str],
    descriptions: Mapping[str, str],
    hxl_tags: Mapping[str, str],
    cities: Iterable[str] = (),
) -> dict[str, object]:
    """Return the Table Schema of an export's columns.

    Parameters
    ----------
    columns
        The exported columns (canonical names), in file order.
    public
        Whether the export is of the public release (its vocabularies apply).
    headers
        The header written for each column (canonical or Spanish); the field's ``name``.
    descriptions
        The data dictionary's meaning of each column, in the language of the headers.
    hxl_tags
        The HXL hashtag of each column (kept in the field as ``hxl``).
    cities
        The gazetteer's cities (a public ``city`` is one of them).

    Returns
    -------
    dict
        ``{"fields": [...], "missingValues": [""], "primaryKey": ...}``.
    """
    allowed = vocabularies(public=public, cities=cities)
    types = (*INCIDENT_TYPES, *TYPE_GROUP_NAMES) if public else INCIDENT_TYPES
    fields: list[dict[str, object]] = []
    for column in columns:
        spec = dict(FIELDS.get(column, {"type": "string"}))
        constraints = dict(spec.pop("constraints", {}))  # type: ignore[call-overload]
        if column in allowed:
            constraints["enum"] = list(allowed[column])
        if column == "incident_types":
            # One or more codes joined with "|" (the Table Schema pattern is anchored).
            code = "(?:" + "|".join(types) + ")"
            constraints["pattern"] = f"{code}(?:\\{MULTI_SEP}{code})*"
        if column == "incident_id" and public:
            constraints["pattern"] = "inc-[0-9a-f]+"
        field: dict[str, object] = {"name": headers.get(column, column), **spec}
        if field["name"] != column:
            field["title"] = column  # the canonical name beside a Spanish header
        if descriptions.get(column):
            field["description"] = descriptions[column]
        if hxl_tags.get(column):
            field["hxl"] = hxl_tags[column]
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema: dict[str, object] = {"fields": fields, "missingValues": list(MISSING_VALUES)}
    if "incident_id" in columns:
        schema["primaryKey"] = [headers.get("incident_id", "incident_id")]
    return schema


def resource(
    name: str,
    *,
    path: str,
    data: bytes,
    media_type: str,
    schema: Mapping[str, object] | None = None,
    hxl: bool = False,
    description: str = "",
) -> dict[str, object]:
    """Return the descriptor of one file of the package, with its size and SHA-256 hash.

    Parameters
    ----------
    name
        The resource's name (lower case, ``-``, ``_``, ``.``).
    path
        The file's name, relative to ``datapackage.json``.
    data
        The file's bytes.
    media_type
        Its MIME type (``text/csv; charset=utf-8`` and such).
    schema
        The Table Schema when the file is a table (CSV, or the properties' JSON).
    hxl
        Whether a CSV has a row of HXL hashtags under its header (read as a comment row).
    description
        What the file holds.
    """
    kind = media_type.split(";", 1)[0].strip()
    suffix = path.rsplit(".", 1)[-1].lower()
    out: dict[str, object] = {
        "name": name,
        "path": path,
        "format": suffix,
        "mediatype": kind,
    }
    if not (schema is not None and suffix == "json"):
        # Frictionless counts the bytes of a JSON table as none: its size is not checked.
        out["bytes"] = len(data)
        out["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
    if suffix in {"csv", "json", "geojson"}:
        out["encoding"] = "utf-8"
    if description:
        out["description"] = description
    if schema is not None:
        out["type"] = "table"
        if suffix == "csv":
            # The HXL row is not data: a validator skips it as a comment row.
            dialect: dict[str, object] = {"header": True, "headerRows": [1]}
            if hxl:
                dialect["commentRows"] = [2]
            out["dialect"] = dialect
        out["schema"] = dict(schema)
    return out


def descriptor(
    manifest: Mapping[str, object],
    *,
    resources: Sequence[Mapping[str, object]],
) -> dict[str, object]:
    """Return the ``datapackage.json`` of an export, from its manifest and its files.

    Parameters
    ----------
    manifest
        The export's manifest: selection, rows, time, synthetic flag and, when there is one,
        the release report (which the package carries as ``release``).
    resources
        The package's files (see :func:`resource`), the data file first.
    """
    synthetic = bool(manifest.get("synthetic"))
    public = manifest.get("view") == "public"
    title = "riskmap incidents" + ("" if public else " (restricted: not for publication)")
    description = (
        "Incidents of violence against asylum seekers on the US-Mexico border, one row per "
        "incident. "
        + (
            "Public release: k-anonymous, no free text, pseudonymous ids, generalised values "
            "(see the release report, 'release'). "
            if public
            else "Restricted view for allowed staff: exact places and free text. "
        )
        + "Text cells that begin with = + - @, a tab or a carriage return are written with a "
        "leading ' so that spreadsheets do not run them as formulas."
    )
    if synthetic:
        description = f"{manifest.get('warning', 'SYNTHETIC DATA.')} {description}"
    out: dict[str, object] = {
        "name": "riskmap-incidents" + ("" if public else "-restricted"),
        "title": title,
        "description": description,
        "created": manifest.get("generated_at"),
        "keywords": ["asylum seekers", "violence", "kidnapping", "US-Mexico border", "HXL"],
        "licenses": [dict(license) for license in LICENSES],
        "sources": [dict(STORE_SOURCE), *([dict(SAMPLE_SOURCE)] if synthetic else [])],
        "contributors": [{"title": str(manifest.get("generator", "riskmap")), "role": "creator"}],
        "synthetic": synthetic,
        "view": manifest.get("view"),
        "rows": manifest.get("rows"),
        "filters": manifest.get("filters"),
        "resources": [dict(r) for r in resources],
    }
    for key in ("release", "citation", "url"):
        if key in manifest:
            out[key] = manifest[key]
    return out


def citation(info: dict[str, object], *, lang: str = "en") -> str:
    """Return the "cite this" line of an export: what the data are, when, and where.

    Parameters
    ----------
    info
        The export's manifest (view, release report, time stamp, synthetic flag, URL).
    lang
        ``"en"`` or ``"es"``.
    """
    release = info.get("release")
    k = release.get("k") if isinstance(release, dict) else None
    through = release.get("data_through") if isinstance(release, dict) else None
    es = lang == "es"
    if info.get("view") == "public":
        what = f"publicación pública (k = {k})" if es else f"public release (k = {k})"
    else:
        what = "vista restringida, no publicar" if es else "restricted view, not for publication"
    if info.get("synthetic"):
        what += "; DATOS SINTÉTICOS de demostración" if es else "; SYNTHETIC demonstration data"
    day = str(info.get("generated_at", ""))[:10]
    if es:
        line = (
            "riskmap: incidentes de violencia contra personas solicitantes de asilo en la "
            f"frontera México-Estados Unidos ({what}), descargado el {day}"
        )
        line += f", datos hasta el {through}." if through else "."
    else:
        line = (
            "riskmap: incidents of violence against asylum seekers on the US-Mexico border "
            f"({what}), downloaded {day}"
        )
        line += f", data through {through}." if through else "."
    return f"{line} {info['url']}" if info.get("url") else line


__all__ = [
    "FIELDS",
    "LICENSES",
    "MISSING_VALUES",
    "citation",
    "descriptor",
    "resource",
    "table_schema",
    "vocabularies",
]
