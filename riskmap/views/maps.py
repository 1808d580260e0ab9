"""The folium map: heatmap, incidents by precision, reference places, legend.

Everything drawn comes from the frame it is given; in public that is a selection of the public
release (:mod:`riskmap.release.public`), so no raw victim coordinate can reach the page.
Incidents are aggregated by drawn location before anything reaches folium: the page grows with
the number of distinct places, not with the number of incidents (folium writes every marker into
the page, which is what makes naive maps unusable past ~10k points).

Precision decides the symbol: a site gets a numbered marker at the site; an area (an H3 cell or a
neighbourhood) a circle whose radius shows the uncertainty; a city-level count a badge at the city
point; unresolved incidents are not drawn (the app counts them beside the map). All text from the
data is HTML-escaped before it is placed in a popup or tooltip.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import folium
import folium.plugins
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from riskmap.geo.gazetteer import names as gazetteer_names
from riskmap.release.audience import Audience
from riskmap.release.privacy import format_count
from riskmap.release.public import TYPE_GROUP_NAMES, TYPE_GROUPS
from riskmap.schema import MULTI_SEP, distinct_codes, split_types
from riskmap.views._render import quick_render as quick_render  # the app renders with it
from riskmap.views.i18n import label, t
from riskmap.views.tiles import OSM, Basemap, add_basemap
from riskmap.views.viewstate import span_text

#: Reference layers: place type -> (colour, one-letter symbol).
REFERENCE_STYLE: dict[str, tuple[str, str]] = {
    "port_of_entry": ("#1f4e79", "P"),
    "bus_terminal": ("#6a3d9a", "B"),
    "immigration_office": ("#b15928", "I"),
    "shelter": ("#33a02c", "S"),
    "camp": ("#e6550d", "C"),
}
#: Colour of each incident type group (Okabe & Ito's colour-blind-safe palette), and of a
#: location where no group leads. Reference places are squares, incidents circles.
GROUP_COLOURS: dict[str, str] = {
    "kidnapping_any": "#D55E00",
    "extortion_robbery": "#E69F00",
    "violence": "#CC79A7",
    "threat_other": "#0072B2",
    "mixed": "#555555",
}
#: Radius (m) drawn around an area-level incident: about the edge of an H3 resolution-8 cell.
AREA_RADIUS_M = 500
#: Grid (degrees, about 550 m) that bins a restricted view's recorded points when the selection
#: is past the marker limit.
GRID_DEG = 0.005
#: Leaflet files the app serves from ./static/vendor (see .streamlit/config.toml), keyed by the
#: file name of folium's CDN link (jQuery is needed by folium's popups). Links to anything else
#: (Bootstrap, awesome-markers: unused here) are dropped, so the page loads nothing from a CDN.
VENDOR_FILES = {
    "leaflet.js": "leaflet.js",
    "jquery-3.7.1.min.js": "jquery-3.7.1.min.js",
    "leaflet.css": "leaflet.css",
    "leaflet.markercluster.js": "leaflet.markercluster.js",
    "markercluster.css": "MarkerCluster.css",
    "markercluster.default.css": "MarkerCluster.Default.css",
    "leaflet_heat.min.js": "leaflet_heat.min.js",
    "control.fullscreen.min.js": "Control.FullScreen.js",
    "control.fullscreen.js": "Control.FullScreen.js",
    "control.fullscreen.css": "Control.FullScreen.css",
    "pmtiles.js": "pmtiles.js",
}
#: The vendored files every dashboard map loads, joined into one script and one stylesheet in
#: load order (``static/vendor/riskmap-leaflet.js``/``.css``, written by :func:`vendor_bundle`):
#: the map component loads its scripts one after another, so five files cost five round trips
#: before the map can start. The files themselves stay as they are (the static site uses them).
BUNDLES = {
    "riskmap-leaflet.js": (
        "leaflet.js",
        "jquery-3.7.1.min.js",
        "leaflet_heat.min.js",
        "leaflet.markercluster.js",
        "Control.FullScreen.js",
    ),
    "riskmap-leaflet.css": (
        "leaflet.css",
        "MarkerCluster.css",
        "MarkerCluster.Default.css",
        "Control.FullScreen.css",
    ),
}
#: The app's vendored files (served as ``static/vendor``, see .streamlit/config.toml).
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
_DEFAULT_CENTRE = (26.69, -98.5)
#: Where a dashboard map starts, before its layers place it: the view the map component reports
#: first, which is nobody's choice (``(lat, lon, zoom)``).
INITIAL_VIEW: tuple[float, float, int] = (*_DEFAULT_CENTRE, 7)
# A cluster shows the incidents it holds, not the number of markers. A suppressed child ("<k")
# adds at least one, so the total reads "n+" and gives no small count away.
_CLUSTER_ICON_JS = """
function (cluster) {
  var total = 0, hidden = false;
  cluster.getAllChildMarkers().forEach(function (m) {
    var text = (m.options.icon.options.html || '').replace(/<[^>]*>/g, '');
    if (text.indexOf('&lt;') === 0 || text.indexOf('<') === 0) { hidden = true; }
    else { total += parseInt(text, 10) || 0; }
  });
  var label = hidden ? (total > 0 ? total + '+' : '1+') : String(total);
  return L.divIcon({html: '<div class="rm-count">' + label + '</div>', className: 'rm-cluster',
                    iconSize: L.point(34, 34), iconAnchor: L.point(17, 17)});
}
"""  # between Matamoros and Nuevo Laredo

_CSS = """
<style>
.rm-ref{width:22px;height:22px;border-radius:4px;color:#fff;font:bold 13px/22px sans-serif;
 text-align:center;border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6)}
.rm-count{border-radius:50%;color:#fff;font:bold 12px/28px sans-serif;text-align:center;
 min-width:28px;height:28px;background:#555;border:2px solid #fff;box-shadow:0 0 4px #000;
 padding:0 3px;box-sizing:border-box;text-shadow:0 0 2px #000}
.rm-cluster .rm-count{background:#333;border-style:double;border-width:4px;line-height:24px}
.rm-title{background:rgba(255,255,255,.92);padding:4px 8px;border-radius:6px;
 font:12px/1.35 sans-serif;box-shadow:0 0 4px rgba(0,0,0,.4);
 max-width:min(520px,calc(100vw - 90px))}
.rm-title .rm-synthetic{color:#8a1c1c;font-weight:bold}
.rm-city{border-radius:6px;color:#222;font:bold 12px/24px sans-serif;text-align:center;
 min-width:34px;height:24px;background:#fff3cd;border:2px dashed #8a6d3b;padding:0 4px}
.rm-legend{background:#fff;padding:6px 8px;border-radius:6px;font:11px/1.45 sans-serif;
 box-shadow:0 0 6px rgba(0,0,0,.4);max-width:340px}
.rm-legend details[open]{min-width:230px}
.rm-legend .rm-grid{display:grid;grid-template-columns:1fr 1fr;column-gap:8px}
.rm-legend .rm-note{color:#444;font-size:11px;line-height:1.3;margin:2px 0 4px}
.rm-legend .sw{display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle}
</style>
"""


class _Legend(MacroElement):
    """A fixed legend in the map's corner (the HTML is built from escaped strings)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function(){
          var legend = L.control({position: 'bottomleft'});
          legend.onAdd = function () {
            var div = L.DomUtil.create('div', 'rm-legend');
            div.innerHTML = {{ this.body_js }};
            L.DomEvent.disableClickPropagation(div);
            return div;
          };
          var map = {{ this._parent.get_name() }};
          legend.addTo(map);
          // On a phone the open legend would cover half the map: it starts folded there.
          if (map.getSize().x < 640) {
            var box = legend.getContainer().querySelector('details');
            if (box) { box.open = false; }
          }
          // Leaflet's own buttons speak English: give them the app's language.
          var titles = {{ this.titles_js }};
          if (map.zoomControl) {
            var box = map.zoomControl.getContainer();
            box.querySelector('.leaflet-control-zoom-in').title = titles.zoom_in;
            box.querySelector('.leaflet-control-zoom-out').title = titles.zoom_out;
          }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, titles: dict[str, str]):
        super().__init__()
        self._name = "Legend"
        self.body = ""
        # Serialised as JS literals; the body holds only escaped text.
        self.body_js = _script_json(body)
        self.titles_js = _script_json(titles)


#: Leaflet options of an area circle (an H3 cell or a neighbourhood: the radius is uncertainty).
_AREA_STYLE: dict[str, object] = {
    "radius": AREA_RADIUS_M,
    "color": "#c0392b",
    "weight": 2,
    "fill": True,
    "fillColor": "#c0392b",
    "fillOpacity": 0.25,
    "dashArray": "4",
}


class _Compact(MacroElement):
    """Many map objects, each with a tooltip and an optional popup, drawn from one JSON array.

    folium writes a script block per object and per tooltip, popup and icon (about 1 kB for a
    circle with its tooltip), and branca compiles every rendered block as a Jinja template: past
    a few dozen objects that is most of a map's page and of its rendering time. These elements
    write one row per object and a loop that draws them. The HTML in the rows is built from
    escaped text (:func:`_esc`), and the JSON cannot end the script it is written into.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var parent = {{ this._parent.get_name() }}, options = {{ this.options_js }};
          {{ this.rows_js }}.forEach(function (r) {
            var layer = {{ this.make_js }};
            layer.bindTooltip('<div>' + r[2] + '</div>', {sticky: true});
            if (r[3]) { layer.bindPopup('<div>' + r[3] + '</div>', {maxWidth: 320}); }
            parent.addLayer(layer);
          });
        })();
        {% endmacro %}
        """
    )
    #: JavaScript expression that makes one layer from a row ``r`` and the shared ``options``.
    make_js = ""

    def __init__(self, rows: list[list[object]], *, options: dict[str, object]):
        super().__init__()
        self._name = type(self).__name__.strip("_")
        self.rows_js = _script_json(rows)
        self.options_js = _script_json(options)


class _Circles(_Compact):
    """Circles: rows are ``[lat, lon, tooltip_html, popup_html or null, colour]``."""

    make_js = "L.circle([r[0], r[1]], Object.assign({}, options, {color: r[4], fillColor: r[4]}))"


class _MapScript(MacroElement):
    """A script run against the map once its layers are drawn (a title, or a fit to bounds).

    In ``st_folium`` the map is ``window.map`` (the layers are evaluated apart from the map's
    own script); in a stand-alone page it is the map's folium name.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){ var map = window.map || {{ this.map_name }}; {{ this.body }} })();
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, body: str):
        super().__init__()
        self._name = "MapScript"
        self.map_name = map_name
        self.body = body


def _title_script(map_name: str, title_html: str) -> _MapScript:
    """Write the title box (filters, "synthetic data") on the map; it shows in full screen too."""
    body = (
        "if (!map._rmTitle) { map._rmTitle = L.control({position: 'topleft'});"
        " map._rmTitle.onAdd = function () { return L.DomUtil.create('div', 'rm-title'); };"
        " map._rmTitle.addTo(map); }"
        f" map._rmTitle.getContainer().innerHTML = {_script_json(title_html)};"
    )
    return _MapScript(map_name, body)


def _fit_script(map_name: str, bounds: list[list[float]]) -> _MapScript:
    """Place the map: a new map at the page address's view, else fitted to ``bounds``.

    A new map takes the view in the page's address (``map=zoom/lat/lon``) if it has one; a
    drawn map fits again only when ``bounds`` change.
    Fitting in the browser uses the map's real size (a phone's map is narrower than a guess).
    The view is read from the page's address, not written here, so the script stays the same
    while the person pans and the layers are not redrawn for it.
    """
    key = _script_json(bounds)
    once = _script_json(key)
    # The address is read now; the map is placed once the map's own script (its first fit)
    # has run.
    body = (
        "var fresh = map._rmFit === undefined, view = null;"
        " if (fresh) { try {"
        " var v = (new URLSearchParams(window.parent.location.search).get('map') || '')"
        ".split('/').map(Number);"
        " if (v.length === 3 && v.every(isFinite)) { view = v; } } catch (e) {} }"
        f" if (!view && map._rmFit === {once}) return; map._rmFit = {once};"
        " setTimeout(function () {"
        " if (view) { map.setView([view[1], view[2]], view[0]); }"
        f" else {{ map.fitBounds({key}, {{padding: [24, 24], maxZoom: 14}}); }} }}, 0);"
    )
    return _MapScript(map_name, body)


def title_html(summary: str, *, synthetic: bool, lang: str) -> str:
    """Return the map's title box: riskmap, what is shown, and "synthetic data" when it is."""
    flag = (
        f'<div class="rm-synthetic">{_esc(t("synthetic_short", lang))}</div>' if synthetic else ""
    )
    return f"<b>riskmap</b> · {_esc(summary)}{flag}"


class _Markers(_Compact):
    """Div-icon markers: rows are ``[lat, lon, tooltip_html, popup_html or null, icon_html]``.

    ``options`` holds the icon's ``size`` and ``anchor``, shared by every row.
    """

    make_js = (
        "L.marker([r[0], r[1]], {icon: L.divIcon({html: r[4], className: 'empty', "
        "iconSize: options.size, iconAnchor: options.anchor}), zIndexOffset: options.z || 0})"
    )


def _script_json(value: object) -> str:
    """Serialise ``value`` as JSON that cannot end the script element it is written into."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")


def _esc(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def vendor_bundle(folder: Path = VENDOR) -> dict[str, str]:
    """Write the joined files of :data:`BUNDLES` into ``folder`` where they are missing or stale.

    Parameters
    ----------
    folder
        Folder of the vendored files (default: the app's ``static/vendor``).

    Returns
    -------
    dict
        Each vendored file name in a bundle → the bundle's name; empty when the bundle cannot be
        written (a read-only install), and the maps then load the files one by one.
    """
    joined: dict[str, str] = {}
    try:
        for bundle, parts in BUNDLES.items():
            separator = b"\n;\n" if bundle.endswith(".js") else b"\n"
            content = separator.join((folder / part).read_bytes() for part in parts)
            target = folder / bundle
            if not target.is_file() or target.read_bytes() != content:
                temporary = target.with_name(f".{bundle}.{os.getpid()}.tmp")
                temporary.write_bytes(content)
                os.replace(temporary, target)
            joined.update(dict.fromkeys(parts, bundle))
    except OSError:
        return {}
    return joined


@functools.cache
def _bundled() -> dict[str, str]:
    return vendor_bundle()


def use_local_assets(element: object, asset_base: str) -> None:
    """Point the JS/CSS of ``element`` and everything in it at the vendored copies (no CDN).

    ``asset_base`` is where the page serves ``static/vendor`` (:attr:`Settings.asset_base`).
    """
    for part in _walk(element):
        _use_local_assets(part, asset_base)


def _use_local_assets(element: folium.MacroElement, asset_base: str) -> None:
    """Point an element's JS/CSS at the app's vendored copies instead of a CDN.

    Files in a bundle (:data:`BUNDLES`) are loaded as their bundle, once: the links keep their
    first position and take the bundle's name, so a page's header holds each bundle once too.
    """
    base = "/" + asset_base.strip("/")
    bundled = _bundled()
    for attr in ("default_js", "default_css"):
        links = getattr(element, attr, None)
        if links is None:
            continue
        local: dict[str, tuple[str, str]] = {}
        for name, url in links:
            vendored = VENDOR_FILES.get(url.rsplit("/", 1)[-1].lower())
            if vendored in bundled:
                bundle = bundled[vendored]
                local.setdefault(bundle, (bundle, f"{base}/{bundle}"))
            elif vendored:
                local.setdefault(vendored, (name, f"{base}/{vendored}"))
        setattr(element, attr, list(local.values()))


def aggregate_locations(view: pd.DataFrame) -> pd.DataFrame:
    """Group incidents by drawn location.

    One pass over the rows (factorised keys and bin counts, no per-row Python), so the cost
    grows linearly with the selection and the result with the number of distinct locations.

    Parameters
    ----------
    view
        Incidents with ``lat``, ``lon``, ``geo_precision`` (and, in public views,
        ``public_location``), ``victims``, ``date``, ``incident_types``, ``place_name``.

    Returns
    -------
    pandas.DataFrame
        One row per (lat, lon, kind), sorted by them, with ``incidents``, ``people``,
        ``first``, ``last``, ``place_name`` and ``types`` (a dict of counts per type); ``kind``
        is site, area or city.
    """
    lat = pd.to_numeric(view["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(view["lon"], errors="coerce").to_numpy(dtype=float)
    # Columns are coded whole and the codes subset: cheaper than selecting the drawn rows first.
    rows = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    if len(rows) == 0:
        return pd.DataFrame(
            columns=[
                "lat",
                "lon",
                "kind",
                "incidents",
                "people",
                "first",
                "last",
                "types",
                "groups",
            ]
        )
    lat, lon = lat[rows], lon[rows]
    if "public_location" in view.columns:
        kind = _codes(view["public_location"], {"site": "site", "hex": "area", "city": "city"})
    else:
        kind = _codes(
            view["geo_precision"], {"site": "site", "neighborhood": "area", "city": "city"}
        )
    kind = kind[rows]
    # A point is its (lat, lon) pair: each coordinate coded alone (a few hundred distinct
    # values), then the pair with the kind, numbered in order of first appearance.
    lat_code, lat_seen = pd.factorize(lat)
    lon_code = pd.factorize(lon)[0]
    point = lon_code.astype(np.int64) * len(lat_seen) + lat_code
    group, _ = pd.factorize(point * len(_KINDS) + kind)
    n_groups = int(group.max()) + 1
    # Codes are numbered in order of first appearance: a group's first row is where the
    # running maximum steps up.
    first_row = np.flatnonzero(np.diff(np.maximum.accumulate(group), prepend=-1) > 0)

    # The public release holds no number of people: its popups count incidents only.
    has_people = "victims" in view.columns
    people = (
        pd.to_numeric(view["victims"]).astype("Float64").fillna(0).to_numpy(dtype=float)
        if has_people
        else np.zeros(len(view))
    )
    if "place_name" in view.columns:
        name_code, names = distinct_codes(view["place_name"])
        name_code = name_code[rows]
    else:
        name_code, names = np.full(len(rows), -1), np.array([], dtype=object)
    # Per group: the first day, the last day (a release row's period end) and the first name a
    # row carries, in one pass each (missing dates and names left out, as a groupby would).
    first = _per_group(pd.to_datetime(view["date"]).to_numpy()[rows], group, n_groups, np.minimum)
    last = _per_group(
        pd.to_datetime(view.get("date_end", view["date"])).to_numpy()[rows],
        group,
        n_groups,
        np.maximum,
    )
    named = np.flatnonzero(name_code >= 0)
    first_named = np.full(n_groups, len(rows), dtype=np.int64)
    np.minimum.at(first_named, group[named], named)
    place_name = [
        None if i == len(rows) else str(names[int(name_code[i])]) for i in first_named.tolist()
    ]
    out = pd.DataFrame(
        {
            "lat": lat[first_row],
            "lon": lon[first_row],
            "kind": np.asarray(_KINDS, dtype=object)[kind[first_row]],
            "incidents": np.bincount(group, minlength=n_groups).astype("int64"),
            "people": pd.array(
                np.rint(np.bincount(group, weights=people[rows], minlength=n_groups)),
                dtype="Int64",
            )
            if has_people
            else pd.array([pd.NA] * n_groups, dtype="Int64"),
            "first": first,
            "last": last,
            "place_name": pd.array(place_name, dtype="string"),
            "types": _type_counts(view["incident_types"], rows, group, n_groups),
            "groups": _type_counts(_as_groups(view["incident_types"]), rows, group, n_groups),
        }
    )
    order = np.lexsort((kind[first_row], out["lon"].to_numpy(), out["lat"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _per_group(dates: np.ndarray, group: np.ndarray, n_groups: int, reduce: np.ufunc) -> np.ndarray:
    """Return the earliest (``np.minimum``) or latest (``np.maximum``) date of each group.

    Missing dates are left out; a group with none gets NaT.
    """
    days = dates.astype("datetime64[ns]")
    known = ~np.isnat(days)
    values = days.view(np.int64)
    empty = np.iinfo(np.int64).max if reduce is np.minimum else np.iinfo(np.int64).min
    out = np.full(n_groups, empty, dtype=np.int64)
    reduce.at(out, group[known], values[known])
    result = out.view("datetime64[ns]")
    result[out == empty] = np.datetime64("NaT")
    return result


#: Kinds of drawn location, in the order the aggregate is sorted by.
_KINDS: tuple[str, ...] = ("area", "city", "site")


def _codes(column: pd.Series, kinds: dict[str, str]) -> np.ndarray:
    """Return the :data:`_KINDS` index of each row's kind (unknown or missing: area)."""
    code, distinct = distinct_codes(column)
    lookup = [_KINDS.index(kinds.get(str(v), "area")) for v in distinct]
    return np.array([*lookup, _KINDS.index("area")], dtype=np.int64)[code]


def _as_groups(cells: pd.Series) -> pd.Series:
    """Return each row's incident types as their groups (:data:`TYPE_GROUPS`), joined."""
    code, distinct = distinct_codes(cells)
    grouped = [
        MULTI_SEP.join(
            sorted({TYPE_GROUPS.get(p, p) for p in str(v).split(MULTI_SEP) if p}, key=_group_order)
        )
        for v in distinct
    ]
    # A categorical: one code per row, each distinct group set written once.
    categories: dict[str, int] = {}
    lookup = np.array([*(categories.setdefault(g, len(categories)) for g in grouped), -1])
    return pd.Series(
        pd.Categorical.from_codes(lookup[code], categories=list(categories)), index=cells.index
    )


def _group_order(name: str) -> int:
    return TYPE_GROUP_NAMES.index(name) if name in TYPE_GROUP_NAMES else len(TYPE_GROUP_NAMES)


def leading_group(groups: dict[str, int], *, min_cell: int) -> str:
    """Return the type group that leads at a location, or ``"mixed"``.

    A group leads when it holds more incidents than every other and at least ``min_cell``: a
    colour never orders two counts that the popup writes as "<k".
    """
    if not groups:
        return "mixed"
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    top, n = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if n < max(min_cell, 1) or n == runner_up or top not in GROUP_COLOURS:
        return "mixed"
    return top


def _type_counts(
    cells: pd.Series, rows: np.ndarray, group: np.ndarray, n_groups: int
) -> list[dict[str, int]]:
    """Count the incidents of each type per group (``rows`` of ``cells``), from distinct cells."""
    cell, distinct = distinct_codes(cells)
    cell = cell[rows]
    parts = [str(v).split(MULTI_SEP) for v in distinct]
    names = sorted({p for ps in parts for p in ps})
    if not names:
        return [{} for _ in range(n_groups)]
    # Incidents per (group, distinct cell), then per type: a cell adds one to each of its types.
    has = np.zeros((len(distinct), len(names)), dtype=np.int64)
    for i, ps in enumerate(parts):
        has[i, [names.index(p) for p in set(ps)]] = 1
    ok = cell >= 0
    pair = group[ok].astype(np.int64) * len(distinct) + cell[ok]
    if n_groups * len(distinct) <= 4_000_000:
        per_cell = np.bincount(pair, minlength=n_groups * len(distinct)).reshape(n_groups, -1)
        counts = per_cell @ has
    else:  # many locations (an unaggregated restricted view): count only the pairs that occur
        pairs, n = np.unique(pair, return_counts=True)
        counts = np.zeros((n_groups, len(names)), dtype=np.int64)
        np.add.at(counts, pairs // len(distinct), has[pairs % len(distinct)] * n[:, None])
    return [{names[j]: int(row[j]) for j in np.flatnonzero(row)} for row in counts]


def base_map(
    places: pd.DataFrame,
    *,
    lang: str = "en",
    asset_base: str | None = None,
    height: int = 560,
    min_cell: int = 0,
    references: bool = True,
    fit: bool = True,
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the part of the map that does not depend on the selection.

    Tiles (with attribution), reference layers, legend and fullscreen control. The app keeps
    this part stable and sends the incident layers separately, so changing a filter updates the
    layers without reloading the map.

    Parameters
    ----------
    places
        The gazetteer, for the reference layers.
    lang
        ``"en"`` or ``"es"``.
    asset_base
        URL path of the app's vendored Leaflet files; ``None`` keeps folium's CDN links (for a
        stand-alone HTML file).
    height
        Map height in pixels.
    min_cell
        The audience's k, for the legend's explanation of "<k" (nothing is counted here).
    references
        Whether to draw the reference places (bridges, terminals, INM offices, shelters).
    fit
        Fit the map to the reference places; ``False`` starts at :data:`INITIAL_VIEW` (the
        dashboard's layers place the map themselves).
    basemap
        The tiles under the map (:func:`riskmap.views.tiles.parse_tiles`: ``RISKMAP_TILES``);
        ``None`` draws OpenStreetMap's.
    """
    m = folium.Map(
        location=_DEFAULT_CENTRE,
        zoom_start=7,
        tiles=None,
        control_scale=True,
        height=height,
        prefer_canvas=True,
    )
    add_basemap(m, OSM if basemap is None else basemap)
    m.get_root().header.add_child(Element(_CSS), name="riskmap_css")  # type: ignore[attr-defined]
    # The incident layers may arrive later, apart from the map: load their plugins up front.
    m.default_js = [
        *m.default_js,
        *folium.plugins.HeatMap.default_js,
        *folium.plugins.MarkerCluster.default_js,
    ]
    m.default_css = [*m.default_css, *folium.plugins.MarkerCluster.default_css]
    if references:
        _add_references(m, places, lang=lang)
    _Legend(
        _legend_html(lang, min_cell=min_cell),
        titles={k: t(k, lang) for k in ("zoom_in", "zoom_out")},
    ).add_to(m)
    folium.plugins.Fullscreen(
        position="topright", title=t("fullscreen", lang), title_cancel=t("fullscreen_exit", lang)
    ).add_to(m)
    if fit:
        bounds = _bounds(places)
        if bounds:
            m.fit_bounds(bounds, padding=(20, 20))
    if asset_base is not None:
        use_local_assets(m, asset_base)
    return m


def point_map(
    places: pd.DataFrame,
    *,
    point: tuple[float, float] | None,
    city: str | None = None,
    lang: str = "en",
    asset_base: str | None = None,
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the record form's map: the reference places, and the point chosen on it.

    Staff click where an incident happened; the map starts at that point (zoom 15), else at the
    chosen city's point (zoom 13), else over every reference place. Nothing recorded is drawn.
    """
    m = base_map(places, lang=lang, asset_base=asset_base, height=360, basemap=basemap, fit=False)
    # The legend explains incident symbols, which this map does not draw: room to click instead.
    for name, child in list(m._children.items()):
        if isinstance(child, _Legend):
            del m._children[name]
    at_city = places[(places["place_type"] == "city") & (places["city"] == city)]
    if point is not None:
        m.location, m.options["zoom"] = list(point), 15
        folium.Marker(point, tooltip=t("ws_point_marker", lang)).add_to(m)
        if asset_base is not None:
            use_local_assets(m, asset_base)
    elif city and len(at_city) and pd.notna(at_city["lat"].iloc[0]):
        m.location = [float(at_city["lat"].iloc[0]), float(at_city["lon"].iloc[0])]
        m.options["zoom"] = 13
    else:
        bounds = _bounds(places)
        if bounds:
            m.fit_bounds(bounds, padding=(20, 20))
    return m


def incident_layers(
    view: pd.DataFrame,
    *,
    lang: str = "en",
    marker_limit: int = 2000,
    min_cell: int,
    asset_base: str | None = None,
) -> list[folium.FeatureGroup]:
    """Build the layers that show the selected incidents.

    Parameters
    ----------
    view
        Incidents to draw (a public view in public mode).
    lang
        ``"en"`` or ``"es"``.
    marker_limit
        Most incidents with per-location popups; above it only per-location totals are shown.
    min_cell
        Counts below it are shown as ``"<min_cell"`` (small-cell suppression; the audience's
        ``k``); 0 shows all, for staff.
    asset_base
        URL path of the vendored Leaflet files (see :func:`base_map`).

    Returns
    -------
    list of folium.FeatureGroup
        Heatmap, incidents at sites (clustered), incidents placed by area, city-level counts.

    Notes
    -----
    Whatever the number of incidents, what reaches folium is one marker or circle per drawn
    location: with at most ``marker_limit`` incidents each location has a popup with its
    details; past it, only its count, and the recorded points of a restricted view are binned
    to a grid of :data:`GRID_DEG` degrees first, so the page stays small at any size.
    """
    detailed = len(view) <= marker_limit
    # A public view is drawn at coarsened points already (sites, H3 cells, cities); a restricted
    # one holds the recorded points, so past the marker limit they are binned first.
    drawn = view if detailed or "public_location" in view.columns else _binned(view)
    located = aggregate_locations(drawn)
    heat = _heatmap_layer(located, lang=lang, min_cell=min_cell)
    groups = [heat, *_incident_groups(located, lang=lang, min_cell=min_cell, detailed=detailed)]
    if asset_base is not None:
        for group in groups:
            use_local_assets(group, asset_base)
    return groups


def _binned(view: pd.DataFrame) -> pd.DataFrame:
    """Move area-level points (not sites or cities) to the centre of their grid square."""
    kind = view["geo_precision"].astype("string")
    area = ~kind.isin(["site", "city"]).to_numpy(dtype=bool, na_value=False)
    lat = pd.to_numeric(view["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(view["lon"], errors="coerce").to_numpy(dtype=float)
    return view.assign(
        lat=np.where(area, (np.floor(lat / GRID_DEG) + 0.5) * GRID_DEG, lat).round(6),
        lon=np.where(area, (np.floor(lon / GRID_DEG) + 0.5) * GRID_DEG, lon).round(6),
        geo_precision=kind.where(~area, "neighborhood"),
    )


@dataclass(frozen=True)
class DashboardMap:
    """The map as the app sends it: a stable base and the layers that follow the filters."""

    base: folium.Map
    #: Incident layers, then the scripts that write the title and fit the map.
    layers: list[folium.FeatureGroup]
    #: ``[[south, west], [north, east]]`` of the drawn selection, or ``None``.
    bounds: list[list[float]] | None


def dashboard_map(
    view: pd.DataFrame,
    *,
    audience: Audience,
    lang: str,
    asset_base: str | None,
    hidden: Iterable[str] = (),
    title_html: str = "",
    basemap: Basemap | None = None,
) -> DashboardMap:
    """Build the dashboard's map in parts (see :func:`base_map` and :func:`incident_layers`).

    Parameters
    ----------
    view
        A selection of ``audience``'s rows (:meth:`~riskmap.release.audience.Audience.select`).
    audience
        Whose map: its places, k and marker limit.
    lang
        ``"en"`` or ``"es"``.
    asset_base
        URL path of the vendored Leaflet files.
    hidden
        Layers switched off (``"heat"``, ``"incidents"``, ``"places"``).
    title_html
        The title box (:func:`title_html`): what is shown and "synthetic data" when it is; it
        stays on the map in full screen and in any screenshot.
    basemap
        The tiles under the map (``None``: OpenStreetMap's; see :func:`base_map`).

    Notes
    -----
    The app passes the base to ``st_folium`` once and the layers as the part that changes with
    the filters, so a filter change never reloads the map. The layers fit the map to the
    selection at its real size in the browser, once per extent; a new map (a link, a language
    switch) takes the view in the page's address instead (see :func:`_fit_script`).
    """
    hidden = set(hidden)
    base = base_map(
        audience.places,
        lang=lang,
        asset_base=asset_base,
        min_cell=audience.k,
        references="places" not in hidden,
        fit=False,
        basemap=basemap,
    )
    view = named_in(view, audience.places, lang)
    heat, *incidents = incident_layers(
        view,
        lang=lang,
        marker_limit=audience.settings.marker_limit,
        min_cell=audience.k,
        asset_base=asset_base,
    )
    layers = ([] if "heat" in hidden else [heat]) + ([] if "incidents" in hidden else incidents)
    bounds = selection_bounds(view)
    scripts = folium.FeatureGroup(name="scripts", control=False)
    if title_html:
        _title_script(base.get_name(), title_html).add_to(scripts)
    if bounds:
        _fit_script(base.get_name(), bounds).add_to(scripts)
    return DashboardMap(base, [*layers, scripts], bounds)


def build_map(
    view: pd.DataFrame,
    *,
    places: pd.DataFrame,
    lang: str = "en",
    asset_base: str | None = None,
    marker_limit: int = 2000,
    min_cell: int,
    height: int = 560,
) -> folium.Map:
    """Build the whole incident map as one folium object (for files, tests and benchmarks).

    Parameters are those of :func:`base_map` and :func:`incident_layers`.

    Returns
    -------
    folium.Map
    """
    m = base_map(places, lang=lang, asset_base=None, height=height, min_cell=min_cell)
    view = named_in(view, places, lang)
    for layer in incident_layers(view, lang=lang, marker_limit=marker_limit, min_cell=min_cell):
        layer.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = selection_bounds(view)
    if bounds:
        m.fit_bounds(bounds, padding=(20, 20), max_zoom=14)
    if asset_base is not None:
        use_local_assets(m, asset_base)
    return m


def selection_bounds(view: pd.DataFrame) -> list[list[float]] | None:
    """Return ``[[south, west], [north, east]]`` of the drawn incidents, or ``None``."""
    lat = pd.to_numeric(view["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(view["lon"], errors="coerce").to_numpy(dtype=float)
    both = ~(np.isnan(lat) | np.isnan(lon))
    if not both.any():
        return None
    lat, lon = lat[both], lon[both]
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


def centre_and_zoom(bounds: list[list[float]] | None) -> tuple[tuple[float, float], int]:
    """Return a centre and a Leaflet zoom level that show ``bounds`` on a ~700 px map."""
    if not bounds:
        return _DEFAULT_CENTRE, 7
    (south, west), (north, east) = bounds
    span = max(north - south, east - west, 0.005)
    # Each zoom level halves the span shown; 360 degrees fit in 256 px at zoom 0.
    zoom = int(max(4, min(15, math.floor(math.log2(360 * 700 / 256 / (span * 1.4))))))
    return ((south + north) / 2, (west + east) / 2), zoom


def _walk(element: object) -> Iterable[folium.MacroElement]:
    if isinstance(element, MacroElement):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _heatmap_layer(located: pd.DataFrame, *, lang: str, min_cell: int) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=t("layer_heatmap", lang), show=True)
    points = located[located["kind"] != "city"]
    if not points.empty:
        # Weights are in the page: a count hidden as "<k" is weighted as k, so no ratio of two
        # weights can give it back.
        weight = np.maximum(points["incidents"].to_numpy(dtype=float), float(min_cell))
        data = np.column_stack(
            [points["lat"].to_numpy(dtype=float), points["lon"].to_numpy(dtype=float)]
            + [weight / weight.max()]
        ).tolist()
        folium.plugins.HeatMap(data, radius=28, blur=22, min_opacity=0.35, max_zoom=13).add_to(
            group
        )
    return group


def _popup(row: dict[str, object], *, lang: str, min_cell: int) -> str:
    types: dict[str, int] = row.get("types") or {}  # type: ignore[assignment]
    type_text = ", ".join(
        f"{_esc(label(k, lang))} ({format_count(int(types[k]), k=min_cell)})"
        for k in split_types(list(types))
    )
    # A month-level row reads "2019-12", not as the first day of its month.
    dates = span_text(row["first"], row["last"])
    name = _esc(row.get("place_name")) or _esc(t("popup_location", lang))
    lines = [
        f"<b>{name}</b>",
        f"{_esc(t('popup_incidents', lang))}: {format_count(int(row['incidents']), k=min_cell)}",  # type: ignore[call-overload]
        *(
            []
            if pd.isna(row["people"])
            else [
                f"{_esc(t('popup_victims', lang))}: {format_count(int(row['people']), k=min_cell)}"  # type: ignore[call-overload]
            ]
        ),
        f"{_esc(t('popup_types', lang))}: {type_text}",
        f"{_esc(t('popup_date', lang))}: {_esc(dates)}",
    ]
    return "<br>".join(lines)


def _incident_groups(
    located: pd.DataFrame, *, lang: str, min_cell: int, detailed: bool
) -> list[folium.FeatureGroup]:
    site_group = folium.FeatureGroup(name=t("layer_incidents", lang))
    sites = folium.plugins.MarkerCluster(
        control=False,
        options={"showCoverageOnHover": False, "maxClusterRadius": 40},
        icon_create_function=_CLUSTER_ICON_JS,
    ).add_to(site_group)
    areas = folium.FeatureGroup(name=t("layer_areas", lang))
    cities = folium.FeatureGroup(name=t("layer_cities", lang))
    circles: list[list[object]] = []
    for row in located.itertuples(index=False):
        n_text = _esc(format_count(int(row.incidents), k=min_cell))
        lead = leading_group(row.groups, min_cell=min_cell)
        colour = GROUP_COLOURS[lead]
        tooltip = f"{_esc(t('popup_incidents', lang))}: {n_text}" + (
            ""
            if lead == "mixed"
            else f" ({_esc(t('legend_mostly', lang))}: {_esc(t(f'group_{lead}', lang))})"
        )
        content = _popup(row._asdict(), lang=lang, min_cell=min_cell) if detailed else None
        if row.kind == "area":  # the many: drawn by one compact element
            circles.append([float(row.lat), float(row.lon), tooltip, content, colour])
            continue
        # Sites and cities are few (public sites, city points): plain folium markers.
        site = row.kind == "site"
        folium.Marker(
            (row.lat, row.lon),
            icon=folium.DivIcon(
                html=f'<div class="rm-count" style="background:{colour}">{n_text}</div>'
                if site
                else f'<div class="rm-city" style="border-color:{colour}">{n_text}</div>',
                icon_size=(28, 28) if site else (40, 24),
                # A city badge sits up and left of the city point, never over the sites there.
                icon_anchor=(14, 14) if site else (46, 44),
            ),
            tooltip=tooltip,
            popup=folium.Popup(content, max_width=320) if content else None,
        ).add_to(sites if site else cities)
    if circles:
        _Circles(circles, options=_AREA_STYLE).add_to(areas)
    return [site_group, areas, cities]


def _reference_rows(places: pd.DataFrame, lang: str) -> dict[str, list[list[object]]]:
    """Return the marker rows of each kind of reference place (kept per gazetteer and language).

    The reference layers do not change with the filters: their rows are computed once for a
    gazetteer frame (the app's is shared and never modified) and language, and reused while
    that frame lives.
    """
    key = (id(places), lang)
    kept = _REFERENCE_ROWS.get(key)
    if kept is not None and kept[0]() is places:
        return kept[1]
    out: dict[str, list[list[object]]] = {}
    for place_type, (colour, letter) in REFERENCE_STYLE.items():
        icon = f'<div class="rm-ref" style="background:{colour}">{letter}</div>'
        kind = _esc(label(place_type, lang))
        of_type = places[places["place_type"] == place_type]
        # An approximate place without a point is not drawn: no pin pretends to be the building.
        of_type = of_type[pd.to_numeric(of_type["lat"], errors="coerce").notna()]
        names = place_names(of_type, lang)
        out[place_type] = [
            [
                float(row.lat),
                float(row.lon),
                f"{_esc(name)} ({kind}; {_esc(getattr(row, 'confidence', ''))})",
                None,
                icon,
            ]
            for row, name in zip(of_type.itertuples(index=False), names, strict=True)
        ]
    if len(_REFERENCE_ROWS) >= 8:
        _REFERENCE_ROWS.clear()
    _REFERENCE_ROWS[key] = (weakref.ref(places), out)
    return out


#: (id of a gazetteer frame, language) -> (a weak reference to that frame, its marker rows).
_REFERENCE_ROWS: dict[tuple[int, str], tuple[weakref.ref, dict[str, list[list[object]]]]] = {}


def _add_references(m: folium.Map, places: pd.DataFrame, *, lang: str) -> None:
    per_type = _reference_rows(places, lang)
    for place_type in REFERENCE_STYLE:
        group = folium.FeatureGroup(name=_esc(label(place_type, lang)), show=True)
        # Copies: folium keeps the rows it is given, and another map may be built from these.
        rows = [list(row) for row in per_type[place_type]]
        if rows:
            # Reference places sit below the incident counts, which must never be hidden.
            _Markers(rows, options={"size": [22, 22], "anchor": [11, 11], "z": -1000}).add_to(group)
        group.add_to(m)


def place_names(places: pd.DataFrame, lang: str) -> list[str]:
    """Return each place's name in ``lang`` (:func:`riskmap.geo.gazetteer.names`), as a list."""
    return gazetteer_names(places, lang).astype(str).tolist()


def named_in(view: pd.DataFrame, places: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return ``view`` with its ``place_name`` column in ``lang`` (looked up by ``place_id``)."""
    if "place_name" not in view.columns or "place_id" not in view.columns:
        return view
    lookup = dict(zip(places["place_id"], place_names(places, lang), strict=True))
    if isinstance(view["place_name"].dtype, pd.CategoricalDtype):
        return view.assign(place_name=_named_codes(view, lookup))
    # Looked up once per distinct place (a few dozen), not once per row.
    code, distinct = pd.factorize(view["place_id"])
    names = np.array([*(lookup.get(str(p)) for p in distinct), None], dtype=object)[code]
    kept = view["place_name"].astype("string")
    found = pd.notna(names)
    if found.all():
        shown = pd.Series(pd.array(names, dtype="string"), index=view.index)
    else:
        shown = kept.where(~found, pd.Series(names, index=view.index, dtype="string"))
    return view.assign(place_name=shown)


def _named_codes(view: pd.DataFrame, lookup: dict[str, str]) -> pd.Categorical:
    """:func:`named_in` on a coded view: the same names, as a categorical (no string per row)."""
    place, places_seen = distinct_codes(view["place_id"])
    kept, kept_names = distinct_codes(view["place_name"])
    # One name per (place, kept name) pair that occurs: the place's name in ``lang`` where the
    # gazetteer has it, else the name the row carries.
    looked = [lookup.get(str(p)) for p in places_seen]
    pair = (place + 1) * (len(kept_names) + 1) + (kept + 1)
    inverse, pairs = pd.factorize(pair)
    categories: dict[str, int] = {}
    pair_code = np.empty(len(pairs), dtype=np.int64)
    for i, value in enumerate(pairs):
        p, n = divmod(int(value), len(kept_names) + 1)
        name = looked[p - 1] if p > 0 else None
        if name is None:
            name = str(kept_names[n - 1]) if n > 0 else None
        pair_code[i] = -1 if name is None else categories.setdefault(name, len(categories))
    return pd.Categorical.from_codes(pair_code[inverse], categories=list(categories))


def _legend_html(lang: str, *, min_cell: int) -> str:
    """Explain every symbol, colour, number and suffix the map can show."""

    def item(style: str, text: str, inner: str = "") -> str:
        return f'<div><span class="sw" style="{style}">{inner}</span>{_esc(text)}</div>'

    numbers = [t("legend_numbers", lang)]
    if min_cell > 1:
        numbers.append(t("legend_fewer", lang, k=min_cell))
    numbers.append(t("legend_cluster", lang))
    colours = [
        item(f"background:{colour};border-radius:50%", t(f"group_{group}", lang))
        for group, colour in GROUP_COLOURS.items()
    ]
    shapes = [
        item("border:2px dashed #555;border-radius:50%", t("legend_area", lang)),
        item("background:#fff3cd;border:2px dashed #8a6d3b", t("legend_city", lang)),
    ]
    references = [
        item(
            f"background:{colour};color:#fff;font-size:10px;text-align:center;line-height:14px",
            label(place_type, lang),
            letter,
        )
        for place_type, (colour, letter) in REFERENCE_STYLE.items()
    ]
    heat = item(
        "background:radial-gradient(circle,#f00,#ff0 45%,#0f0 65%,#00f 85%);border-radius:50%",
        t("legend_heat", lang),
    )
    # A <details> element: the legend folds away so it never hides the map or its controls.
    return (
        f"<details open><summary><b>{_esc(t('legend_title', lang))}</b></summary>"
        f"{heat}<div class='rm-note'>{'<br>'.join(_esc(n) for n in numbers)}</div>"
        f"<div class='rm-grid'>{''.join(colours)}</div>{''.join(shapes)}"
        f"<div class='rm-grid'>{''.join(references)}</div></details>"
    )


def _bounds(places: pd.DataFrame) -> list[list[float]] | None:
    ref = places[places["place_type"].isin(list(REFERENCE_STYLE))]
    return selection_bounds(ref)
