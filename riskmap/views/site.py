"""The static public site: the public map, its figures and downloads as files any host serves.

A link in a news story sends hundreds of people to the map at once; a folder of files on any
static host (or ``python -m http.server``) serves them with no Python at view time. The site is
rendered by the app's own renderers from **one** public release (an
:class:`~riskmap.release.audience.Audience` of kind ``public``; never store rows):

- a page per language (:data:`~riskmap.views.i18n.LANGUAGES`) for all data and for each city of
  the release: the title, the synthetic-data banner when it applies, the headline figures
  (:func:`riskmap.views.dashboard.headline_items`), the map of :func:`riskmap.views.maps.
  dashboard_map` (same symbols, legend and title box) drawn with the vendored Leaflet copied to
  ``vendor/``, what the map does not draw, and the downloads;
- the release as CSV and GeoJSON with manifest, data package and data dictionary, written by
  :func:`riskmap.views.export.export` (the function behind the app's downloads and
  ``riskmap export``), under ``data/<lang>/<format>/``;
- ``index.html``, linking every language and city, and ``site.json``, listing every file with
  its SHA-256 (what a host or a later build checks against).

Building is idempotent: the only time written anywhere is the release's own
(``report["generated_at"]``), folium's random element ids are renumbered in order, and the zip
archive of the app (whose entries carry the time of writing) is left out: the same release gives
the same bytes. Outputs of other modules (a brief, a feed, an embed) join through ``extras``:
a function ``extra(audience, lang)`` returning :class:`TakeAway` files (:data:`Extra`), passed
by ``riskmap site`` to :func:`build_site`; each page of that language then links them under
"Take away" (and announces a feed in its head), and ``site.json`` lists them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from riskmap import __version__
from riskmap.analysis.metrics import load_published
from riskmap.errors import SchemaError, StoreError
from riskmap.filters import Filters
from riskmap.release.audience import Audience
from riskmap.release.public import Release
from riskmap.store import write_bytes_atomically
from riskmap.views import export, package
from riskmap.views._site_pages import (
    FORMATS,
    Page,
    Parts,
    TakeAway,
    cities,
    data_name,
    index_page,
    map_page,
    slug,
)
from riskmap.views.columns import DATA_DICTIONARY
from riskmap.views.i18n import LANGUAGES

#: The vendored Leaflet and plugins the app serves (copied to the site's ``vendor/``).
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
#: The site's own listing: every other file with its size and SHA-256.
SITE_MANIFEST = "site.json"

#: Makes the take-away files of one language from the public audience: ``extra(audience, lang)``.
Extra = Callable[[Audience, str], Iterable[TakeAway]]


def release_time(audience: Audience) -> dt.datetime:
    """Return when the release was built: the one time stamp the site carries."""
    stamp = audience.report.get("generated_at")
    if not isinstance(stamp, str):
        msg = "the public release has no build time (report['generated_at']): rebuild it"
        raise SchemaError(msg)
    return dt.datetime.fromisoformat(stamp)


def downloads(audience: Audience, *, lang: str) -> dict[str, export.ExportResult]:
    """Return the release's exports for ``lang`` by format, as ``riskmap export`` writes them.

    Place names and column headers are in ``lang`` (``riskmap export --lang``); the manifest's
    time is the release's.
    """
    when = release_time(audience)
    return {
        fmt: export.export(
            audience, filters=Filters(), fmt=fmt, lang=lang, headers=lang, generated_at=when
        )
        for fmt in FORMATS
    }


def download_files(
    audience: Audience, *, lang: str, results: Mapping[str, export.ExportResult] | None = None
) -> dict[str, bytes]:
    """Return the download files of ``lang`` by path in the site (``data/<lang>/<format>/``).

    Each format's folder is a data package (``frictionless validate`` reads its
    ``.datapackage.json``) with the data dictionary its manifest names.

    Parameters
    ----------
    audience
        The public audience.
    lang
        Language of the place names and headers.
    results
        The exports of :func:`downloads` for ``lang``, when already made.
    """
    files: dict[str, bytes] = {}
    dictionary = DATA_DICTIONARY.read_bytes()
    for fmt, result in (results or downloads(audience, lang=lang)).items():
        folder = f"data/{lang}/{fmt}"
        for name, data in result.package_files(path=data_name(audience, fmt)).items():
            files[f"{folder}/{name}"] = data
        files[f"{folder}/{DATA_DICTIONARY.name}"] = dictionary
    return files


def site_files(
    audience: Audience,
    *,
    app_url: str | None = None,
    extras: Sequence[Extra] = (),
    vendor: str | Path = VENDOR,
) -> dict[str, bytes]:
    """Return every file of the static site by path (nothing is written).

    Parameters
    ----------
    audience
        The public audience (:func:`~riskmap.release.audience.public_audience`, or
        :meth:`~riskmap.release.audience.Audience.from_release` of a cached release).
    app_url
        Address of the live dashboard, linked from every page for filters, trends and hotspots.
    extras
        Makers of take-away files (:data:`Extra`), called once per language.
    vendor
        Folder of the vendored Leaflet files (default: the app's ``static/vendor``).

    Raises
    ------
    SchemaError
        If ``audience`` is not the public one (the site is for everyone), or a take-away file
        would leave its language's folder or replace another file.
    StoreError
        If the vendored files are missing.
    """
    if not audience.public:
        msg = (
            "the static site is public: build it from the public release (public_audience), "
            "never from a restricted view"
        )
        raise SchemaError(msg)
    audience = _as_kept(audience)
    files = _vendor_files(Path(vendor))
    pages = [Page(lang, city) for lang in LANGUAGES for city in (None, *cities(audience))]
    if len({p.path for p in pages}) < len(pages):
        msg = f"two cities of the release share a page name: {', '.join(cities(audience))}"
        raise SchemaError(msg)
    published = load_published()
    for lang in LANGUAGES:
        results = downloads(audience, lang=lang)
        data = download_files(audience, lang=lang, results=results)
        files.update(data)
        taken = [item for extra in extras for item in extra(audience, lang)]
        for item in taken:
            files[_take_away_path(item, lang, taken=files, pages=pages)] = item.data
        parts = Parts(
            pages=pages,
            app_url=app_url,
            taken=taken,
            citation=package.citation(results["csv"].manifest, lang=lang),
            published=published,
            sizes={path: len(content) for path, content in data.items()},
        )
        for page in (p for p in pages if p.lang == lang):
            files[page.path] = map_page(audience, page, parts).encode("utf-8")
    files["index.html"] = index_page(audience, pages=pages).encode("utf-8")
    files[SITE_MANIFEST] = _listing(audience, files, pages=pages)
    return dict(sorted(files.items()))


def build_site(
    audience: Audience,
    out: str | Path,
    *,
    app_url: str | None = None,
    extras: Sequence[Extra] = (),
    vendor: str | Path = VENDOR,
) -> list[Path]:
    """Write the static site into the folder ``out`` and return the files written.

    A file whose bytes have not changed is left alone; a file an earlier build wrote (it is in
    the old ``site.json``) that this build does not is removed. Nothing else in ``out`` is
    touched, and a folder that holds other files but no ``site.json`` is refused.

    Parameters are those of :func:`site_files`.

    Raises
    ------
    StoreError
        If ``out`` is a file, holds files that are not a site's, or cannot be written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        msg = f"{out} is a file: choose a folder for the site (riskmap site -o FOLDER)"
        raise StoreError(msg)
    listing = out / SITE_MANIFEST
    old: set[str] = set()
    if out.is_dir() and any(out.iterdir()):
        try:
            old = set(json.loads(listing.read_text(encoding="utf-8"))["files"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            msg = (
                f"{out} holds files but no riskmap site ({SITE_MANIFEST} is missing or "
                "unreadable): choose an empty or new folder, or one an earlier "
                "`riskmap site` wrote"
            )
            raise StoreError(msg) from e
    files = site_files(audience, app_url=app_url, extras=extras, vendor=vendor)
    written = []
    for name, data in files.items():
        path = out / name
        if path.is_file() and path.read_bytes() == data:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            msg = f"cannot create the folder {path.parent}: {e}"
            raise StoreError(msg) from e
        write_bytes_atomically(path, data)
        written.append(path)
    for name in sorted(old - set(files)):
        (out / name).unlink(missing_ok=True)
    return written


def _take_away_path(
    item: TakeAway, lang: str, *, taken: Mapping[str, bytes], pages: list[Page]
) -> str:
    """Return where a take-away file goes: inside its language's folder, beside no other file."""
    path = PurePosixPath(item.path)
    where = f"{lang}/{path}"
    if path.is_absolute() or ".." in path.parts or not path.parts:
        msg = f"take-away file {item.path!r}: give a path inside the language's folder"
        raise SchemaError(msg)
    if where in taken or where in {p.path for p in pages}:
        msg = f"take-away file {item.path!r}: {where} is already a file of the site; rename it"
        raise SchemaError(msg)
    return where


def _as_kept(audience: Audience) -> Audience:
    """Return ``audience`` with its release report as the release cache keeps it (sorted JSON).

    A release just built and the same release read back from its cache then give the same
    bytes: the manifests carry the report.
    """
    kept = audience.release
    if kept is None:  # not reached: a public audience always has its release
        return audience
    report = json.loads(json.dumps(kept.report, sort_keys=True))
    release = Release(table=kept.table, report=report)
    return Audience.from_release(release, places=audience.places, settings=audience.settings)


def _vendor_files(folder: Path) -> dict[str, bytes]:
    paths = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if not paths:
        msg = (
            f"the vendored Leaflet files are not in {folder}: run `riskmap site` from a "
            "checkout of riskmap (they are in static/vendor)"
        )
        raise StoreError(msg)
    return {f"vendor/{p.relative_to(folder).as_posix()}": p.read_bytes() for p in paths}


def _listing(audience: Audience, files: Mapping[str, bytes], *, pages: list[Page]) -> bytes:
    doc = {
        "generator": f"riskmap {__version__}",
        "release": {
            "generated_at": audience.report.get("generated_at"),
            "data_through": audience.report.get("data_through"),
            "k": audience.k,
            "released": audience.report.get("released"),
            "synthetic": audience.synthetic,
        },
        "languages": list(LANGUAGES),
        "cities": {slug(c): c for c in cities(audience)},
        "pages": [p.path for p in pages],
        "files": {
            name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"


__all__ = [
    "FORMATS",
    "SITE_MANIFEST",
    "VENDOR",
    "Extra",
    "Page",
    "TakeAway",
    "build_site",
    "cities",
    "data_name",
    "download_files",
    "downloads",
    "release_time",
    "site_files",
    "slug",
]
