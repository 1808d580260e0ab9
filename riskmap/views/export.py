"""Export incidents as CSV, GeoJSON or GeoPackage, with a manifest; the app's downloads too.

:func:`export` is the one path every download takes: the audience selects its rows (in public,
rows of the k-anonymous release: no free text, generalised values, pseudonymous ids), the
format is written, and a manifest describes the result (filters, row count, time, synthetic
flag, data dictionary and, in public, the release report).

Spreadsheet programs run a cell that starts with ``=`` ``+`` ``-`` ``@``, a tab or a carriage
return as a formula, so :func:`to_csv` prefixes such text cells with ``'`` (OWASP, "CSV
Injection"); numbers are left alone. CSV is written as UTF-8 with a byte-order mark, which Excel
needs to show accents. ``hxl=True`` adds a row of Humanitarian Exchange Language hashtags
(HXL 1.1, hxlstandard.org) under the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
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
from riskmap.schema import MULTI_SEP, WGS84
from riskmap.settings import DATA_DIR
from riskmap.store import replace_atomically
from riskmap.views.maps import named_in

#: Export formats: name -> (media type, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "geojson": ("application/geo+json", ".geojson"),
    "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
}
#: The documented data dictionary; the manifest embeds its column descriptions.
DATA_DICTIONARY = DATA_DIR / "DATA_DICTIONARY.md"
#: HXL hashtag of each column (HXL 1.1 core hashtags and attributes).
HXL_TAGS: dict[str, str] = {
    "incident_id": "#event+id",
    "date": "#date+occurred",
    "date_end": "#date+end",
    "date_precision": "#date+precision",
    "type_precision": "#meta+precision+type",
    "perpetrator_precision": "#meta+precision+perpetrator",
    "children_affected": "#indicator+children",
    "incident_types": "#event+type",
    "city": "#adm2+name",
    "location_text": "#loc+description",
    "lat": "#geo+lat",
    "lon": "#geo+lon",
    "geo_precision": "#geo+precision",
    "place_id": "#loc+code",
    "place_name": "#loc+name",
    "place_type": "#loc+type",
    "public_location": "#geo+method",
    "perpetrator": "#group+perpetrator",
    "victims": "#affected+abducted",
    "children": "#affected+children",
    "source": "#meta+source",
    "notes": "#description+notes",
    "synthetic": "#meta+synthetic",
}
#: Columns that never leave the tool in a public export, whatever the privacy module returns.
PRIVATE_COLUMNS: tuple[str, ...] = ("location_text", "notes", "source", "geometry")
_LAYER = "incidents"


@dataclass(frozen=True)
class ExportResult:
    """An export ready to save or download.

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

    @cached_property
    def data(self) -> bytes:
        """The file's bytes (written once, on first use)."""
        return self.render()

    @property
    def manifest_filename(self) -> str:
        """Return the suggested name of the manifest file."""
        return f"{Path(self.filename).stem}.manifest.json"

    def manifest_json(self) -> bytes:
        """Return the manifest as indented UTF-8 JSON."""
        return json.dumps(self.manifest, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"

    def to_zip(self) -> bytes:
        """Return a zip archive of the data, its manifest and the data dictionary."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(self.filename, self.data)
            archive.writestr(self.manifest_filename, self.manifest_json())
            if DATA_DICTIONARY.exists():
                archive.write(DATA_DICTIONARY, DATA_DICTIONARY.name)
        return buffer.getvalue()


def export(
    audience: Audience,
    *,
    filters: Filters,
    fmt: str,
    hxl: bool = False,
    lang: str = "en",
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
    generated_at
        Time stamp of the manifest (default: now).

    Returns
    -------
    ExportResult
        The bytes, the manifest and a file name.

    Raises
    ------
    SchemaError
        If the format is unknown or HXL is asked for a format other than CSV.
    """
    return export_view(
        audience.rows(audience.select(filters)),
        audience=audience,
        filters=filters,
        fmt=fmt,
        hxl=hxl,
        lang=lang,
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
    generated_at: dt.datetime | None = None,
) -> ExportResult:
    """Write rows already selected for ``audience``, with their manifest.

    The app calls this with the rows it shows; :func:`export` calls it after selecting.

    Parameters
    ----------
    view
        Rows of ``audience`` (:meth:`~riskmap.release.audience.Audience.rows` of a selection).
    audience, filters, fmt, hxl, lang, generated_at
        As for :func:`export`.

    Raises
    ------
    SchemaError
        If the format is unknown, HXL is asked for a format other than CSV, or a public export
        is given rows that are not the release's.
    """
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}"
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
    synthetic = bool(table["synthetic"].fillna(False).astype(bool).any())
    writers: dict[str, Callable[[], bytes]] = {
        "csv": lambda: to_csv(table, hxl=hxl),
        "geojson": lambda: to_geojson(table),
        "gpkg": lambda: _gpkg_bytes(table),
    }
    when = generated_at or dt.datetime.now(dt.UTC)
    info = manifest(table, filters=filters, synthetic=synthetic, generated_at=when)
    info.update(view=audience.kind, format=fmt, hxl=hxl, lang=lang)
    if audience.release is not None:
        # Restricted files are not the release, but their manifest still says what it held back.
        info["release"] = release_summary(audience.report)
    media_type, suffix = FORMATS[fmt]
    name = "riskmap-incidents" + ("" if public else "-restricted")
    name += ("-synthetic" if synthetic else "") + f"-{when:%Y%m%d}{suffix}"
    return ExportResult(render=writers[fmt], manifest=info, filename=name, media_type=media_type)


def release_summary(report: dict[str, object]) -> dict[str, object]:
    """Return the release report as a manifest records it (without its build time)."""
    return {k: v for k, v in report.items() if k != "generated_at"}


def to_csv(frame: pd.DataFrame, *, hxl: bool = False) -> bytes:
    """Write incidents as CSV: UTF-8 with BOM, ISO dates, formula-neutralised text.

    Parameters
    ----------
    frame
        Incidents (a geometry column is left out; ``lat``/``lon`` carry the point).
    hxl
        Add a row of HXL hashtags under the header.
    """
    table = _cells(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    if hxl:
        writer.writerow([HXL_TAGS.get(c, "") for c in table.columns])
    text_columns = {c for c in frame.columns if _is_text(frame[c])}
    guards = [c in text_columns for c in table.columns]
    for row in table.itertuples(index=False, name=None):
        writer.writerow([guard_formula(v) if g else v for v, g in zip(row, guards, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def to_geojson(frame: pd.DataFrame) -> bytes:
    """Write incidents as an RFC 7946 GeoJSON FeatureCollection of points (WGS84).

    Incidents without coordinates become features with a ``null`` geometry, so that they are
    still counted.
    """
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
    features = []
    for record in table.to_dict("records"):
        props = {str(k): _json_value(v) for k, v in record.items()}
        lat, lon = props.get("lat"), props.get("lon")
        geometry = None
        if isinstance(lat, float | int) and isinstance(lon, float | int):
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


def to_gpkg(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write incidents as a GeoPackage layer ``incidents`` of points, atomically.

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
    if "date" in table:
        table["date"] = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d")
    gdf = gpd.GeoDataFrame(table, geometry=points, crs=WGS84)
    replace_atomically(
        path,
        lambda tmp: pyogrio.write_dataframe(gdf, tmp, layer=_LAYER, driver="GPKG"),
        what="the export",
    )
    return path


def manifest(
    frame: pd.DataFrame,
    *,
    filters: Filters,
    synthetic: bool,
    generated_at: dt.datetime | None = None,
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
            {"name": c, **dictionary.get(c, {}), "hxl": HXL_TAGS.get(c, "")} for c in columns
        ],
    }
    if synthetic:
        info["warning"] = (
            "SYNTHETIC DATA: some or all rows are invented demonstration records (see the "
            "'synthetic' column); they describe no real event or person."
        )
    return info


def data_dictionary(path: str | os.PathLike[str] = DATA_DICTIONARY) -> dict[str, dict[str, str]]:
    """Read the English column table of the data dictionary: column -> type and meaning.

    Returns an empty mapping if the file is missing.
    """
    path = Path(path)
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8").split("\n## ", 2)
    english = next((s for s in text if s.startswith("English")), text[0])
    out: dict[str, dict[str, str]] = {}
    for line in english.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([a-z_]+)`", cells[0]):
            out[name] = {"type": cells[1].replace("\\|", "|"), "description": cells[2]}
    return out


def _gpkg_bytes(frame: pd.DataFrame) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="riskmap-export-") as folder:
        path = to_gpkg(frame, Path(folder) / "incidents.gpkg")
        return path.read_bytes()


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
    "FORMATS",
    "HXL_TAGS",
    "ExportResult",
    "data_dictionary",
    "export",
    "manifest",
    "release_summary",
    "export_view",
    "to_csv",
    "to_geojson",
    "to_gpkg",
]
