"""The basemap under the map: OpenStreetMap's tiles, your own, a local PMTiles file, or none.

Every tile the browser asks for tells the tile server which streets someone is looking at; for
a shelter worker that is itself sensitive, and OpenStreetMap's tile usage policy does not allow
a busy public deployment to use its servers. ``RISKMAP_TILES`` chooses the basemap
(:func:`parse_tiles`):

``""`` (unset)
    OpenStreetMap's standard tiles, with their attribution (the default; see the README's note
    on OpenStreetMap's tile usage policy).
``URL_TEMPLATE|ATTRIBUTION``
    A tile server of your own or a provider's, e.g.
    ``https://tiles.example.org/{z}/{x}/{y}.png|© Example, © OpenStreetMap contributors``.
    The attribution is required: every tile provider's terms ask for one.
``PATH.pmtiles[|ATTRIBUTION]``
    A raster PMTiles archive (PNG, JPEG or WebP tiles) inside the app's ``static/`` folder,
    which the app serves itself (Streamlit's static file serving answers the range requests the
    PMTiles reader makes), drawn with the PMTiles Leaflet layer vendored in ``static/vendor``:
    no tile request leaves the app's own host. The attribution defaults to the archive's own.
``none``
    No basemap: the incidents, places and legend on a blank background.

The PMTiles header is read here (the format's fixed 127-byte header, spec version 3:
https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md), so the server needs no PMTiles
library: only the browser reads the tiles.
"""

from __future__ import annotations

import gzip
import json
import os
import posixpath
import string
import struct
from dataclasses import dataclass
from pathlib import Path

import folium
import xyzservices
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from riskmap.errors import SettingsError

#: OpenStreetMap's standard tiles (the default basemap) and their required attribution.
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: Deepest zoom the map offers (Leaflet scales the deepest tiles an archive has beyond it).
MAX_ZOOM = 19
#: The browser build of the PMTiles reader (``pmtiles.js``), vendored in ``static/vendor``.
PMTILES_JS = "https://unpkg.com/pmtiles@4.5.0/dist/pmtiles.js"
#: Largest file Streamlit's static file serving sends (its own limit, 200 MiB).
STATIC_LIMIT_BYTES = 200 * 1024 * 1024
# magic, version; offsets and lengths of root directory, metadata, leaves, tile data; counts of
# addressed tiles, entries, contents; clustered, internal and tile compression, tile type, min and
# max zoom; bounds (E7 degrees); centre zoom, lon, lat.
_HEADER = struct.Struct("<7sB8Q3Q6B4iB2i")
_RASTER = {2: "png", 3: "jpeg", 4: "webp", 5: "avif"}
_TILE_TYPES = {0: "unknown", 1: "vector (MVT)", **_RASTER}


@dataclass(frozen=True)
class Basemap:
    """What the map draws under the incidents."""

    #: ``"url"`` (a tile URL template), ``"pmtiles"`` (a local archive) or ``"none"``.
    kind: str
    #: The tile URL template, or the URL path at which the app serves the archive.
    url: str = ""
    #: Attribution HTML shown in the map's corner (from the setting or the archive).
    attribution: str = ""
    #: Deepest zoom level the tiles have (Leaflet scales them beyond it).
    max_native_zoom: int = MAX_ZOOM
    #: The archive file (``"pmtiles"`` only).
    path: Path | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        """Return the tile host the browser asks (empty for a local archive or no basemap)."""
        if self.kind != "url" or "://" not in self.url:
            return ()
        return (self.url.split("://", 1)[1].split("/", 1)[0],)


#: The default: OpenStreetMap's tiles.
OSM = Basemap("url", OSM_URL, OSM_ATTRIBUTION)


@dataclass(frozen=True)
class PMTilesHeader:
    """The fields of a PMTiles v3 header the map needs."""

    tile_type: str
    min_zoom: int
    max_zoom: int
    #: ``(west, south, east, north)`` in degrees.
    bounds: tuple[float, float, float, float]
    #: The archive's JSON metadata (its ``attribution``, if any).
    metadata: dict[str, object]


def read_pmtiles_header(path: str | os.PathLike[str]) -> PMTilesHeader:
    """Read the header and metadata of a PMTiles v3 archive.

    Raises
    ------
    SettingsError
        If the file cannot be read or is not a PMTiles v3 archive.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(_HEADER.size)
            if len(head) < _HEADER.size or head[:7] != b"PMTiles":
                msg = f"RISKMAP_TILES: {path} is not a PMTiles archive (no PMTiles header)"
                raise SettingsError(msg)
            fields = _HEADER.unpack(head)
            version = fields[1]
            if version != 3:
                msg = (
                    f"RISKMAP_TILES: {path} is PMTiles version {version}; convert it to version 3 "
                    "with `pmtiles convert`"
                )
                raise SettingsError(msg)
            meta_offset, meta_length = fields[4], fields[5]
            internal_compression, tile_type = fields[14], fields[16]
            f.seek(meta_offset)
            raw = f.read(meta_length)
    except OSError as e:
        msg = f"RISKMAP_TILES: cannot read {path}: {e}"
        raise SettingsError(msg) from e
    try:
        text = gzip.decompress(raw) if internal_compression == 2 else raw
        metadata = json.loads(text or b"{}")
    except (OSError, ValueError):
        metadata = {}  # a metadata block we cannot read only loses the default attribution
    west, south, east, north = (v / 1e7 for v in fields[19:23])
    return PMTilesHeader(
        tile_type=_TILE_TYPES.get(tile_type, f"type {tile_type}"),
        min_zoom=int(fields[17]),
        max_zoom=int(fields[18]),
        bounds=(west, south, east, north),
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def parse_tiles(
    value: str,
    *,
    static_dir: str | os.PathLike[str],
    asset_base: str = "app/static/vendor",
) -> Basemap:
    """Return the basemap that a ``RISKMAP_TILES`` value names (see the module docstring).

    Parameters
    ----------
    value
        The setting: empty (OpenStreetMap), ``none``, ``URL_TEMPLATE|ATTRIBUTION`` or
        ``PATH.pmtiles[|ATTRIBUTION]``.
    static_dir
        The app's ``static/`` folder (beside ``app.py``), which Streamlit serves at
        ``/app/static/``; a PMTiles archive must be inside it.
    asset_base
        URL path of ``static/vendor`` (``RISKMAP_ASSET_BASE``); the archive's URL is its sibling.

    Raises
    ------
    SettingsError
        If the value names no usable basemap; the message says how to fix it.
    """
    text = value.strip()
    if not text:
        return OSM
    if text.lower() == "none":
        return Basemap("none")
    source, _, attribution = (part.strip() for part in text.partition("|"))
    if source.lower().endswith(".pmtiles"):
        return _pmtiles(Path(source), attribution, static_dir=Path(static_dir), base=asset_base)
    if not (source.startswith(("https://", "http://", "/"))):
        msg = (
            f"RISKMAP_TILES={value!r}: give a tile URL template (https://…/{{z}}/{{x}}/{{y}}.png"
            "|ATTRIBUTION), a .pmtiles file in the app's static/ folder, or none"
        )
        raise SettingsError(msg)
    if not all(part in source for part in ("{z}", "{x}")) or not (
        "{y}" in source or "{-y}" in source
    ):
        msg = f"RISKMAP_TILES={value!r}: the URL template needs {{z}}, {{x}} and {{y}}"
        raise SettingsError(msg)
    if not attribution:
        msg = (
            f"RISKMAP_TILES={value!r}: add the tiles' attribution after a '|' (every tile "
            "provider's terms ask for one), e.g. URL|© Provider, © OpenStreetMap contributors"
        )
        raise SettingsError(msg)
    return Basemap("url", source, attribution)


def _pmtiles(path: Path, attribution: str, *, static_dir: Path, base: str) -> Basemap:
    static = static_dir.resolve()
    try:
        resolved = (path if path.is_absolute() else Path.cwd() / path).resolve(strict=True)
    except OSError as e:
        msg = f"RISKMAP_TILES: {path} not found ({e.strerror}); put the .pmtiles file in {static}"
        raise SettingsError(msg) from e
    if not resolved.is_relative_to(static):
        # Streamlit serves only the static folder, and follows no link out of it.
        msg = (
            f"RISKMAP_TILES: {path} is not inside the app's static folder {static}: move or copy "
            "it there (for example static/tiles/), the app serves only that folder"
        )
        raise SettingsError(msg)
    size = resolved.stat().st_size
    if size > STATIC_LIMIT_BYTES:
        msg = (
            f"RISKMAP_TILES: {path} is {size / 2**20:.0f} MiB; Streamlit serves files up to "
            f"{STATIC_LIMIT_BYTES // 2**20} MiB: extract a smaller area or fewer zoom levels "
            "(`pmtiles extract --bbox=… --maxzoom=…`), or serve it from a tile server"
        )
        raise SettingsError(msg)
    header = read_pmtiles_header(resolved)
    if header.tile_type not in _RASTER.values():
        msg = (
            f"RISKMAP_TILES: {path} holds {header.tile_type} tiles; the map draws raster "
            "archives (PNG, JPEG or WebP tiles): render the vector tiles to raster first, or "
            "serve a raster tile URL"
        )
        raise SettingsError(msg)
    relative = resolved.relative_to(static).as_posix()
    url = posixpath.normpath(f"/{base.strip('/')}/../{relative}")
    own = str(header.metadata.get("attribution") or "")
    return Basemap(
        "pmtiles",
        url,
        attribution or own or f"Basemap: {resolved.name}",
        max_native_zoom=header.max_zoom,
        path=resolved,
    )


class _PMTilesLayer(JSCSSMixin, MacroElement):
    """A raster PMTiles archive drawn by the PMTiles Leaflet layer (``pmtiles.js``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var map = {{ this._parent.get_name() }};
          pmtiles.leafletRasterLayer(new pmtiles.PMTiles({{ this.url_js }}),
                                     {{ this.options_js }}).addTo(map);
        })();
        {% endmacro %}
        """
    )
    default_js = [("pmtiles", PMTILES_JS)]

    def __init__(self, url: str, *, options: dict[str, object]):
        super().__init__()
        self._name = "PMTilesLayer"
        # JSON that cannot end the script it is written into.
        self.url_js = json.dumps(url).replace("<", "\\u003c").replace(">", "\\u003e")
        self.options_js = json.dumps(options).replace("<", "\\u003c").replace(">", "\\u003e")


def _provider(basemap: Basemap) -> str | xyzservices.TileProvider:
    """Return a URL basemap as folium takes it without a search of xyzservices' catalogue.

    folium looks any string up among the named providers first (several milliseconds on every
    map); a provider object is taken as it is. A URL with placeholders other than Leaflet's
    ``{s} {z} {x} {y} {r}`` stays a string (the provider would try to fill them).
    """
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(basemap.url) if name}
    except ValueError:  # braces that are not placeholders
        return basemap.url
    if not fields <= {"s", "z", "x", "y", "r"}:
        return basemap.url
    return xyzservices.TileProvider(
        name="basemap", url=basemap.url, attribution=basemap.attribution
    )


def add_basemap(m: folium.Map, basemap: Basemap) -> None:
    """Add ``basemap``'s tiles (and attribution) to ``m``; nothing for ``none``."""
    if basemap.kind == "url":
        folium.TileLayer(
            _provider(basemap),
            attr=basemap.attribution,
            name="basemap",
            max_zoom=MAX_ZOOM,
            max_native_zoom=min(basemap.max_native_zoom, MAX_ZOOM),
            control=False,
        ).add_to(m)
    elif basemap.kind == "pmtiles":
        _PMTilesLayer(
            basemap.url,
            options={
                "attribution": basemap.attribution,
                "maxZoom": MAX_ZOOM,
                "maxNativeZoom": basemap.max_native_zoom,
            },
        ).add_to(m)
