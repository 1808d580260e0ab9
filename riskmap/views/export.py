"""Export incidents as CSV, GeoJSON or GeoPackage, with a manifest; the app's downloads too.

:func:`export` is the one path every download takes: the audience selects its rows (in public,
rows of the k-anonymous release: no free text, generalised values, pseudonymous ids), the
format is written, and a manifest describes the result (filters, row count, time, synthetic
flag, data dictionary and, in public, the release report).

Spreadsheet programs run a cell that starts with ``=`` ``+`` ``-`` ``@``, a tab or a carriage
return as a formula, so :func:`to_csv` prefixes such text cells with ``'`` (OWASP, "CSV
Injection"); numbers are left alone. CSV is written as UTF-8 with a byte-order mark, which Excel
needs to show accents. ``hxl=True`` adds a row of Humanitarian Exchange Language hashtags
(HXL 1.1, hxlstandard.org) under the header; the tags pass libhxl's core schema, and each one is
true of every row (a date column holds dates, ``#affected+kidnapped`` counts people kidnapped).
``headers="es"`` writes Spanish column headers (codes and values stay as they are).

Every export also describes itself as a Frictionless data package
(:mod:`riskmap.views.package`), shipped in :meth:`ExportResult.to_zip`. GeoPackages are written
as version 1.2, which GDAL 3.6 (Debian 12, many QGIS installs) reads without warnings.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from riskmap import __version__
from riskmap.errors import SchemaError
from riskmap.filters import Filters, describe
from riskmap.ingest import guard_formula
from riskmap.release.audience import Audience
from riskmap.release.public import ROW_COLUMNS
from riskmap.schema import MULTI_SEP, WGS84, type_flags
from riskmap.store import replace_atomically
from riskmap.views import package
from riskmap.views.columns import (
    DATA_DICTIONARY,
    HEADER_LANGUAGES,
    HEADERS_ES,
    HXL_TAGS,
    data_dictionary,
    header_names,
    hxl_dictionary,
)
from riskmap.views.maps import named_in

#: Export formats: name -> (media type, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "geojson": ("application/geo+json", ".geojson"),
    "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
}
#: People columns a restricted export adds beside ``victims``: who was kidnapped, who was
#: targeted in an attempt only, who was targeted in an incident without kidnapping.
PEOPLE_COLUMNS: tuple[str, ...] = ("people_kidnapped", "people_in_attempts", "people_other")
#: Columns that never leave the tool in a public export, whatever the privacy module returns.
PRIVATE_COLUMNS: tuple[str, ...] = ("location_text", "notes", "source", "geometry")
#: GeoPackage version written: 1.2 is read by GDAL 3.6 without its "1.4 may only be partially
#: supported" warning, and holds everything an export needs.
GPKG_VERSION = "1.2"
_LAYER = "incidents"


@dataclass(frozen=True)
class ExportResult:
    """An export ready to save or download, with its manifest and its data package.

    The bytes are written on first use of :attr:`data` (or a call of :meth:`render`), so the
    app can offer a large download without writing it on every rerun.
    """

    #: Writes the file's bytes.
    render: Callable[[], bytes] = field(repr=False)
    #: What the file holds (see :func:`manifest`).
    manifest: dict[str, object]
    #: Suggested file name.
    filename: str
    #: MIME type of :attr:`data`.
    media_type: str
    #: Table Schema of the exported columns (see :func:`riskmap.views.package.table_schema`).
    schema: dict[str, object] = field(default_factory=dict, repr=False)
    #: Writes the features' properties as a JSON table (GeoJSON and GeoPackage exports).
    render_properties: Callable[[], bytes] | None = field(default=None, repr=False)

    @cached_property
    def data(self) -> bytes:
        """The file's bytes (written once, on first use)."""
        return self.render()

    @cached_property
    def properties(self) -> bytes | None:
        """The features' properties as a JSON array, or ``None`` for a CSV export."""
        return None if self.render_properties is None else self.render_properties()

    @property
    def manifest_filename(self) -> str:
        """Return the suggested name of the manifest file."""
        return f"{Path(self.filename).stem}.manifest.json"

    @property
    def zip_filename(self) -> str:
        """Return the suggested name of the zip archive (:meth:`to_zip`)."""
        return f"{Path(self.filename).stem}.zip"

    def manifest_json(self) -> bytes:
        """Return the manifest as indented UTF-8 JSON."""
        return _json_bytes(self.manifest)

    def datapackage(self, *, path: str | None = None) -> dict[str, object]:
        """Return the Frictionless ``datapackage.json`` descriptor of this export.

        Parameters
        ----------
        path
            The name the data file is saved under, beside the descriptor (default
            :attr:`filename`); a properties table is named after it (``<stem>.properties.json``).
        """
        name = path or self.filename
        fmt = str(self.manifest.get("format", "csv"))
        tabular = self.properties is None
        resources = [
            package.resource(
                "incidents",
                path=name,
                data=self.data,
                media_type=self.media_type,
                schema=self.schema if tabular else None,
                hxl=bool(self.manifest.get("hxl")),
                description=f"The incidents ({fmt}).",
            )
        ]
        if self.properties is not None:
            resources.append(
                package.resource(
                    "incidents-properties",
                    path=properties_filename(name),
                    data=self.properties,
                    media_type="application/json",
                    schema=self.schema,
                    description=f"The properties of each feature of {name}, in the same order: "
                    "one JSON object per feature.",
                )
            )
        return package.descriptor(self.manifest, resources=resources)

    def datapackage_json(self, *, path: str | None = None) -> bytes:
        """Return :meth:`datapackage` as indented UTF-8 JSON."""
        return _json_bytes(self.datapackage(path=path))

    def package_files(self, *, path: str | None = None) -> dict[str, bytes]:
        """Return every file of the data package by name, as saved beside the data file.

        Parameters
        ----------
        path
            The name of the data file (default :attr:`filename`); the others are named after it,
            the descriptor ``<stem>.datapackage.json`` (``frictionless validate`` reads it).
        """
        name = path or self.filename
        stem = Path(name).stem
        files = {name: self.data}
        if self.properties is not None:
            files[properties_filename(name)] = self.properties
        files[f"{stem}.manifest.json"] = self.manifest_json()
        files[f"{stem}.datapackage.json"] = self.datapackage_json(path=name)
        return files

    def to_zip(self) -> bytes:
        """Return a zip archive: the data, ``datapackage.json``, the manifest, the dictionary.

        A GeoJSON or GeoPackage archive also holds the features' properties as a JSON table.
        """
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(self.filename, self.data)
            if self.properties is not None:
                archive.writestr(properties_filename(self.filename), self.properties)
            archive.writestr("datapackage.json", self.datapackage_json())
            archive.writestr(self.manifest_filename, self.manifest_json())
            if DATA_DICTIONARY.exists():
                archive.write(DATA_DICTIONARY, DATA_DICTIONARY.name)
        return buffer.getvalue()


def properties_filename(path: str) -> str:
    """Return the name of the properties table that goes with a GeoJSON or GeoPackage file."""
    return f"{Path(path).stem}.properties.json"


def export(
    audience: Audience,
    *,
    filters: Filters,
    fmt: str,
    hxl: bool = False,
    lang: str = "en",
    headers: str = "en",
    url: str | None = None,
    generated_at: dt.datetime | None = None,
) -> ExportResult:
    """Select an audience's rows and write them in one format, with a manifest.

    Parameters
    ----------
    audience
        Whose rows: the public release (what may be published), or the restricted view (every
        column, for allowed staff).
    filters
        The selection, applied by the audience (on shown values, in public).
    fmt
        ``"csv"``, ``"geojson"`` or ``"gpkg"``.
    hxl
        Add the HXL hashtag row (CSV only).
    lang
        Language of the place names (``place_name``); codes are the same in every language.
    headers
        Language of the column headers: ``"en"`` (the canonical names) or ``"es"`` (Spanish
        labels, :data:`HEADERS_ES`); values and codes are the same in both.
    url
        Address of the view the export was taken from; the manifest's citation names it.
    generated_at
        Time stamp of the manifest (default: now).

    Returns
    -------
    ExportResult
        The bytes, the manifest, the data package and a file name.

    Raises
    ------
    SchemaError
        If the format or header language is unknown, or HXL is asked for a format other than
        CSV.
    """
    return export_view(
        audience.rows(audience.select(filters)),
        audience=audience,
        filters=filters,
        fmt=fmt,
        hxl=hxl,
        lang=lang,
        headers=headers,
        url=url,
        generated_at=generated_at,
    )


def export_view(
    view: pd.DataFrame,
    *,
    audience: Audience,
    filters: Filters,
    fmt: str,
    hxl: bool = False,
    lang: str = "en",
    headers: str = "en",
    url: str | None = None,
    generated_at: dt.datetime | None = None,
) -> ExportResult:
    """Write rows already selected for ``audience``, with their manifest.

    The app calls this with the rows it shows; :func:`export` calls it after selecting.

    Parameters
    ----------
    view
        Rows of ``audience`` (:meth:`~riskmap.release.audience.Audience.rows` of a selection).
    audience, filters, fmt, hxl, lang, headers, url, generated_at
        As for :func:`export`.

    Raises
    ------
    SchemaError
        If the format or header language is unknown, HXL is asked for a format other than
        CSV, or a public export is given rows that are not the release's.
    """
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}"
        raise SchemaError(msg)
    if headers not in HEADER_LANGUAGES:
        msg = f"unknown header language {headers!r}; choose one of {', '.join(HEADER_LANGUAGES)}"
        raise SchemaError(msg)
    if hxl and fmt != "csv":
        msg = "HXL hashtags can be added to CSV exports only; use --format csv with --hxl"
        raise SchemaError(msg)
    public = audience.public
    if public and list(view.columns) != list(ROW_COLUMNS):
        msg = "a public export takes rows of the public release (Audience.rows), not other rows"
        raise SchemaError(msg)
    table = view.drop(columns=[c for c in PRIVATE_COLUMNS if c in view.columns]) if public else view
    table = named_in(table, audience.places, lang)
    if not public and "victims" in table.columns:
        table = people_by_outcome(table)
    synthetic = bool(table["synthetic"].fillna(False).astype(bool).any())
    writers: dict[str, Callable[[], bytes]] = {
        "csv": lambda: to_csv(table, hxl=hxl, headers=headers),
        "geojson": lambda: to_geojson(table, headers=headers),
        "gpkg": lambda: _gpkg_bytes(table, headers=headers),
    }
    when = generated_at or dt.datetime.now(dt.UTC)
    info = manifest(table, filters=filters, synthetic=synthetic, generated_at=when, headers=headers)
    info.update(view=audience.kind, format=fmt, hxl=hxl, lang=lang, headers=headers)
    if audience.release is not None:
        # Restricted files are not the release, but their manifest still says what it held back.
        info["release"] = release_summary(audience.report)
    if url:
        info["url"] = url
    info["citation"] = {code: package.citation(info, lang=code) for code in HEADER_LANGUAGES}
    dictionary = data_dictionary(lang=headers)
    schema = package.table_schema(
        [c for c in table.columns if c != "geometry"],
        public=public,
        headers=HEADERS_ES if headers == "es" else {},
        descriptions={c: d["description"] for c, d in dictionary.items()},
        hxl_tags=HXL_TAGS,
        cities=audience.places["city"].dropna().astype(str),
    )
    media_type, suffix = FORMATS[fmt]
    name = "riskmap-incidents" + ("" if public else "-restricted")
    name += ("-synthetic" if synthetic else "") + f"-{when:%Y%m%d}{suffix}"
    return ExportResult(
        render=writers[fmt],
        manifest=info,
        filename=name,
        media_type=media_type,
        schema=schema,
        render_properties=None if fmt == "csv" else lambda: properties_json(table, headers=headers),
    )


def people_by_outcome(frame: pd.DataFrame) -> pd.DataFrame:
    """Add, after ``victims``, the people of each row split by what happened to them.

    ``people_kidnapped``: the victims of an incident with a kidnapping or an express
    kidnapping; ``people_in_attempts``: of an incident with an attempted kidnapping only;
    ``people_other``: of an incident without any kidnapping (extortion, threats, assault...).
    The three add up to ``victims`` on every row, as the published report counts them.

    Parameters
    ----------
    frame
        Rows with ``victims`` and ``incident_types`` (exact types: a restricted view).
    """
    flags = type_flags(frame, ("kidnapping", "attempted_kidnapping", "express_kidnapping"))
    kidnapped = (flags["kidnapping"] | flags["express_kidnapping"]).to_numpy()
    attempt = flags["attempted_kidnapping"].to_numpy() & ~kidnapped
    victims = pd.to_numeric(frame["victims"]).astype("Int64")
    zero = pd.Series(0, index=frame.index, dtype="Int64")
    split = {
        "people_kidnapped": victims.where(kidnapped, zero),
        "people_in_attempts": victims.where(attempt, zero),
        "people_other": victims.where(~kidnapped & ~attempt, zero),
    }
    out = frame.drop(columns=[c for c in split if c in frame.columns])
    at = out.columns.get_loc("victims") + 1
    for offset, (column, values) in enumerate(split.items()):
        out.insert(at + offset, column, values)
    return out


def release_summary(report: dict[str, object]) -> dict[str, object]:
    """Return the release report as a manifest records it (without its build time)."""
    return {k: v for k, v in report.items() if k != "generated_at"}


def to_csv(frame: pd.DataFrame, *, hxl: bool = False, headers: str = "en") -> bytes:
    """Write incidents as CSV: UTF-8 with BOM, ISO dates, formula-neutralised text.

    Parameters
    ----------
    frame
        Incidents (a geometry column is left out; ``lat``/``lon`` carry the point).
    hxl
        Add a row of HXL hashtags under the header (the same tags whatever the headers).
    headers
        ``"en"``: canonical column names; ``"es"``: Spanish ones (:data:`HEADERS_ES`).
    """
    table = _cells(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header_names(table.columns, headers))
    if hxl:
        writer.writerow([HXL_TAGS.get(c, "") for c in table.columns])
    text_columns = {c for c in frame.columns if _is_text(frame[c])}
    guards = [c in text_columns for c in table.columns]
    for row in table.itertuples(index=False, name=None):
        writer.writerow([guard_formula(v) if g else v for v, g in zip(row, guards, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def to_geojson(frame: pd.DataFrame, *, headers: str = "en") -> bytes:
    """Write incidents as an RFC 7946 GeoJSON FeatureCollection of points (WGS84).

    Incidents without coordinates become features with a ``null`` geometry, so that they are
    still counted. ``headers="es"`` names the properties in Spanish.
    """
    features = []
    for props in _properties(frame):
        lat, lon = props.get("lat"), props.get("lon")
        geometry = None
        if isinstance(lat, float | int) and isinstance(lon, float | int):
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        named = dict(zip(header_names(props, headers), props.values(), strict=True))
        features.append({"type": "Feature", "properties": named, "geometry": geometry})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


def properties_json(frame: pd.DataFrame, *, headers: str = "en") -> bytes:
    """Write the GeoJSON features' properties as a JSON array, one object per incident.

    This is the table a data package validates beside a GeoJSON or GeoPackage file: the same
    names and values as the features' properties, in the same order.
    """
    rows = [
        dict(zip(header_names(p, headers), p.values(), strict=True)) for p in _properties(frame)
    ]
    return json.dumps(rows, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


def to_gpkg(frame: pd.DataFrame, path: str | os.PathLike[str], *, headers: str = "en") -> Path:
    """Write incidents as a GeoPackage 1.2 layer ``incidents`` of points, atomically.

    Version 1.2 (:data:`GPKG_VERSION`) because GDAL 3.6 warns that it may read a 1.4 file only
    partially. ``headers="es"`` names the fields in Spanish.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore").reset_index(drop=True)
    lat = pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=float)
    points = shapely.points(lon, lat)
    points[np.isnan(lat) | np.isnan(lon)] = None
    for column in ("date", "date_end"):
        if column in table:
            table[column] = pd.to_datetime(table[column]).dt.strftime("%Y-%m-%d")
    table.columns = header_names(table.columns, headers)
    gdf = gpd.GeoDataFrame(table, geometry=points, crs=WGS84)
    replace_atomically(
        path,
        lambda tmp: pyogrio.write_dataframe(
            gdf, tmp, layer=_LAYER, driver="GPKG", dataset_options={"VERSION": GPKG_VERSION}
        ),
        what="the export",
    )
    return path


def manifest(
    frame: pd.DataFrame,
    *,
    filters: Filters,
    synthetic: bool,
    generated_at: dt.datetime | None = None,
    headers: str = "en",
) -> dict[str, object]:
    """Describe an export: what was selected, how many rows, when, and what each column means.

    Parameters
    ----------
    frame
        The exported table.
    filters
        The selection it came from.
    synthetic
        Whether any exported row is synthetic (invented) data.
    generated_at
        Time stamp (default: now, UTC).
    headers
        Language of the column headers in the file: each column's ``header`` says its name
        there, ``name`` its canonical name.
    """
    when = generated_at or dt.datetime.now(dt.UTC)
    dictionary = data_dictionary()
    columns = [c for c in frame.columns if c != "geometry"]
    info: dict[str, object] = {
        "title": "riskmap incidents",
        "generated_at": when.isoformat(timespec="seconds"),
        "generator": f"riskmap {__version__}",
        "rows": len(frame),
        "filters": describe(filters),
        "synthetic": synthetic,
        "data_dictionary": DATA_DICTIONARY.name,
        "columns": [
            {
                "name": c,
                "header": header,
                **dictionary.get(c, {}),
                "hxl": HXL_TAGS.get(c, ""),
            }
            for c, header in zip(columns, header_names(columns, headers), strict=True)
        ],
    }
    if synthetic:
        info["warning"] = (
            "SYNTHETIC DATA: some or all rows are invented demonstration records (see the "
            "'synthetic' column); they describe no real event or person."
        )
    return info


def _gpkg_bytes(frame: pd.DataFrame, *, headers: str = "en") -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="riskmap-export-") as folder:
        path = to_gpkg(frame, Path(folder) / "incidents.gpkg", headers=headers)
        return path.read_bytes()


def _properties(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Return each row as JSON-native properties, by canonical column name."""
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
    return [{str(k): _json_value(v) for k, v in r.items()} for r in table.to_dict("records")]


def _json_bytes(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _is_text(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_string_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype)
    )


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as text cells: ISO dates, ``true``/``false``, integers without ``.0``."""
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        out[col] = [_text(v) for v in table[col].to_numpy(dtype=object)]
    return out


def _text(value: object) -> str:
    value = _json_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return MULTI_SEP.join(map(str, value))
    return str(value)


def _json_value(value: object) -> object:
    """Return a cell as a JSON-native value (``None`` for every kind of missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return value


__all__ = [
    "DATA_DICTIONARY",
    "FORMATS",
    "GPKG_VERSION",
    "HEADERS_ES",
    "HEADER_LANGUAGES",
    "HXL_TAGS",
    "PEOPLE_COLUMNS",
    "ExportResult",
    "data_dictionary",
    "export",
    "export_view",
    "hxl_dictionary",
    "manifest",
    "people_by_outcome",
    "properties_filename",
    "properties_json",
    "release_summary",
    "to_csv",
    "to_geojson",
    "to_gpkg",
]
