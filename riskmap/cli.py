"""The ``riskmap`` command.

Each subcommand is a thin wrapper over a library function. Errors the user can cause
(:class:`~riskmap.errors.RiskmapError`) are caught once here and printed as one line on stderr
with exit code 2; anything else is a bug and is allowed to surface.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from riskmap import __version__
from riskmap.errors import RiskmapError
from riskmap.settings import Settings, local_path

if TYPE_CHECKING:
    import pandas as pd

    from riskmap.release.audience import Audience

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="riskmap",
        description="Risk maps of violence against asylum seekers on the US-Mexico border.",
    )
    parser.add_argument("--version", action="version", version=f"riskmap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sample", help="write the synthetic sample incidents (CSV)")
    p.add_argument(
        "-o", "--output", type=Path, default=Path("sample_incidents.csv"), help="CSV to write"
    )
    p.add_argument("--seed", type=int, default=2020, help="random seed (default 2020)")
    p.set_defaults(handler=_cmd_sample)

    # --- subcommands: geodata (geocode, places) ---
    p = sub.add_parser("geocode", help="add coordinates, place and precision to each row of a CSV")
    p.add_argument("input", type=Path, metavar="INPUT.csv", help="CSV with place descriptions")
    p.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    p.add_argument(
        "--text-column",
        default="location_text",
        help="column of place descriptions (default location_text)",
    )
    p.add_argument(
        "--city-column", default=None, help="column of city hints (default city, if present)"
    )
    p.add_argument(
        "--places", type=Path, default=None, help="extra gazetteer CSV merged over the shipped one"
    )
    p.set_defaults(handler=_cmd_geocode)

    p = sub.add_parser(
        "release-report",
        help="say what the public release keeps: k, the levels chosen, incidents suppressed",
        description="Build the public release of the store (k-anonymous, k = RISKMAP_MIN_CELL) "
        "and report how many incidents are shown at each level of place, date, types, "
        "perpetrator and children, and how many are not in the release.",
    )
    _store_option(p)
    p.add_argument("--lang", choices=("en", "es"), default="en", help="language of the report")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=_cmd_release_report)

    p = sub.add_parser(
        "places",
        help="list the gazetteer (with staff-verified locations); set, confirm, show history",
        description="Without a subcommand: list the gazetteer, with the confidence of each place "
        "and the staff-verified locations of the store laid over it. `set` proposes a location "
        "(with a reason), `confirm` confirms it (a second staff member: two-person rule), "
        "`history` prints a place's trail.",
    )
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    p.add_argument(
        "--places", type=Path, default=None, help="extra gazetteer CSV merged over the shipped one"
    )
    _store_option(p)
    p.set_defaults(handler=_cmd_places, action=None)
    actions = p.add_subparsers(dest="action", metavar="{set,confirm,history}")
    q = actions.add_parser("set", help="propose a place's location (waits for confirmation)")
    q.add_argument("place_id")
    q.add_argument("--lat", type=float, required=True, help="latitude, WGS84")
    q.add_argument("--lon", type=float, required=True, help="longitude, WGS84")
    q.add_argument("--reason", required=True, help="why: how the location is known")
    q.add_argument("--by", required=True, help="your e-mail (staff)")
    q = actions.add_parser("confirm", help="confirm the location another staff member set")
    q.add_argument("place_id")
    q.add_argument("--by", required=True, help="your e-mail (not the one who set it)")
    q.add_argument("--reason", default="", help="optional note")
    q = actions.add_parser("history", help="print a place's location trail")
    q.add_argument("place_id")
    for q in actions.choices.values():
        q.add_argument(
            "--store",
            type=Path,
            default=argparse.SUPPRESS,
            help="incident store (default: setting)",
        )
    # --- subcommands: import / export ---
    p = sub.add_parser(
        "import",
        help="import an incident spreadsheet (CSV, XLSX or GeoJSON) into the store",
        description=(
            "Import a spreadsheet of incidents. Every row ends in the store or in a quarantine "
            "CSV beside it with its line number and the reason. Exit 0: all rows imported; "
            "3: some rows quarantined; 2: the file is unusable."
        ),
    )
    p.add_argument("file", type=Path, help="CSV (, ; or tab), XLSX or GeoJSON file")
    p.add_argument(
        "--store",
        type=_store_arg,
        help="GeoPackage store or postgresql:// URL (default: $RISKMAP_STORE or "
        "data/incidents.gpkg)",
    )
    p.add_argument(
        "--mapping", type=Path, help="JSON file mapping headers and values to the incident model"
    )
    order = p.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        dest="dayfirst",
        action="store_const",
        const=True,
        default=None,
        help="read 03/04/2020 as 3 April (default for Spanish headers)",
    )
    order.add_argument(
        "--monthfirst",
        dest="dayfirst",
        action="store_const",
        const=False,
        help="read 03/04/2020 as March 4",
    )
    p.add_argument(
        "--publish",
        action="store_true",
        help="publish the imported incidents at once (only for RISKMAP_PUBLISHERS; needs --as); "
        "without it they wait for review in the app",
    )
    p.add_argument(
        "--as",
        dest="by",
        default="",
        metavar="EMAIL",
        help="who imports (written in the audit log)",
    )
    p.add_argument(
        "--json", action="store_true", help="end the output with a one-line JSON summary of counts"
    )
    p.set_defaults(handler=_cmd_import)

    p = sub.add_parser(
        "export",
        help="export incidents (the public view by default) as CSV, GeoJSON or GeoPackage",
        description=(
            "Export the selected incidents with a manifest (OUT without its suffix + "
            "'.manifest.json'). The public view drops free text and masks locations. "
            "--package adds a Frictionless data package that `frictionless validate` reads."
        ),
    )
    p.add_argument(
        "--store",
        type=Path,
        help="GeoPackage store (default: $RISKMAP_STORE or data/incidents.gpkg)",
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=("csv", "geojson", "gpkg"),
        help="output format (default: from the suffix of OUT)",
    )
    p.add_argument("--from", dest="start", type=_iso_day, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_iso_day, help="last day, YYYY-MM-DD")
    p.add_argument(
        "--type",
        dest="types",
        nargs="+",
        action="extend",
        default=[],
        metavar="T",
        help="incident type(s), e.g. kidnapping extortion",
    )
    p.add_argument(
        "--city",
        dest="cities",
        nargs="+",
        action="extend",
        default=[],
        metavar="C",
        help="city or cities",
    )
    p.add_argument(
        "--perpetrator",
        dest="perpetrators",
        nargs="+",
        action="extend",
        default=[],
        metavar="P",
        help="perpetrator(s), e.g. police criminal_group",
    )
    p.add_argument("--hxl", action="store_true", help="add a row of HXL hashtags (CSV only)")
    p.add_argument(
        "--lang",
        choices=("en", "es"),
        default="en",
        help="language of the place names and, unless --headers says otherwise, of the column "
        "headers (en); codes and values are the same in both",
    )
    p.add_argument(
        "--headers",
        choices=("en", "es"),
        default=None,
        help="language of the column headers (default: --lang)",
    )
    p.add_argument(
        "--package",
        action="store_true",
        help="also write a Frictionless data package beside OUT: OUT's stem + "
        "'.datapackage.json' (and '.properties.json' for GeoJSON and GeoPackage)",
    )
    p.add_argument(
        "--restricted",
        action="store_true",
        help="export every column, free text included (not for publication)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser(
        "site",
        help="write the static public site (map, figures, downloads; ES/EN) into a folder",
        description="Write the public map for all data and per city, the headline figures and "
        "the public release as CSV/GeoJSON with manifest, data package and dictionary, in "
        "Spanish and English, into FOLDER: any static web host serves it, no Python needed. "
        "Built from the public release only; the same release gives the same files.",
    )
    _store_option(p)
    p.add_argument(
        "--app-url", default=None, help="address of the live dashboard, linked from every page"
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FOLDER", help="folder")
    p.set_defaults(handler=_cmd_site)
    # --- subcommands: hotspots ---
    p = sub.add_parser(
        "hotspots",
        help="rank sites by recent incidents nearby, with exact intervals (or Gi* hotspots)",
        description="Rank gazetteer sites by the incidents within a radius in a period, beside "
        "the previous period, with exact Poisson 95%% intervals. Only incidents located at a site "
        "or in a neighbourhood count; the others are reported as left out.",
    )
    _store_option(p)
    p.add_argument(
        "--period", type=_period_days, default=90, help="period length: 90d, 12w or days (90d)"
    )
    p.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=None,
        help="last day of the period, YYYY-MM-DD (default: the latest incident date)",
    )
    p.add_argument("--radius", type=float, default=None, help="radius in metres (default 500)")
    p.add_argument("--type", action="append", default=[], help="only incidents of this type")
    p.add_argument("--city", action="append", default=[], help="only incidents and sites here")
    p.add_argument("--top", type=int, default=None, help="show only the first N sites")
    p.add_argument(
        "--places", type=Path, default=None, help="extra gazetteer CSV merged over the shipped one"
    )
    p.add_argument(
        "--public",
        action="store_true",
        help="rank the public view, as the public dashboard does: public points and dates, "
        "public sites only (no shelters or camp); by default the recorded data and every site",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--gi-star",
        action="store_true",
        help="Getis-Ord Gi* hotspots of the H3 grid for the period, instead of the ranking",
    )
    what.add_argument(
        "--returns",
        type=Path,
        default=None,
        metavar="CSV",
        help="people returned per port and month (port,month,returned): incidents per 1,000",
    )
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="file to write (default stdout)")
    p.set_defaults(handler=_cmd_hotspots)

    # --- subcommands: what people carry away (brief, feed) ---
    p = sub.add_parser(
        "brief",
        help="write the printable city brief (PDF, one page per city) from the public release",
        description="Write a one-page brief per city for printing: the sites ranked by the "
        "incidents attributed to them, with their uncertainty in words, a small map, the period "
        "and the data's last day, what to avoid, where the data come from and a QR code to the "
        "same view. Always the public release.",
    )
    _store_option(p)
    p.add_argument(
        "--city",
        dest="cities",
        nargs="+",
        action="extend",
        default=[],
        metavar="C",
        help="city or cities, a page each (default: every city in the data)",
    )
    p.add_argument(
        "--period",
        default="30d",
        help="30d, 90d, 12w (up to the data's last day), a month 2019-12, or all (default 30d)",
    )
    p.add_argument("--lang", choices=("es", "en"), default="es", help="language (default es)")
    p.add_argument("--page", choices=("a4", "letter"), default="a4", help="page size (a4)")
    p.add_argument(
        "--url",
        default=None,
        help="the dashboard's public address, for the QR code (without it, no QR code)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="PDF to write")
    p.set_defaults(handler=_cmd_brief)

    p = sub.add_parser(
        "feed",
        help="write an Atom feed of the public release's incidents (by city, place or type)",
        description="Write an Atom 1.0 feed of the incidents of the public release that the "
        "filters select, newest first, for a static host that feed readers poll; rewrite it "
        "when the store changes. An entry says no more than its release row.",
    )
    _store_option(p)
    for flag, dest, meaning in (
        ("--city", "cities", "city or cities"),
        ("--place", "places", "site(s) by place_id, e.g. mat_bus_terminal"),
        ("--type", "types", "incident type(s), e.g. kidnapping"),
    ):
        p.add_argument(
            flag, dest=dest, nargs="+", action="extend", default=[], metavar="X", help=meaning
        )
    p.add_argument("--lang", choices=("es", "en"), default="es", help="language (default es)")
    p.add_argument("--limit", type=int, default=50, help="most entries, the newest (default 50)")
    p.add_argument("--url", default=None, help="the dashboard's public address (entry links)")
    p.add_argument("--feed-url", default=None, help="where the feed is published (its self link)")
    p.add_argument("-o", "--output", type=Path, required=True, help="Atom file to write")
    p.set_defaults(handler=_cmd_feed)

    # --- subcommands: store ---
    p = sub.add_parser(
        "store",
        help="manage the incident store (migrate between GeoPackage and PostGIS)",
        description="Manage the incident store: a GeoPackage file or a postgresql:// URL.",
    )
    store_sub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    m = store_sub.add_parser(
        "migrate",
        help="copy every incident into an empty store and check that nothing was lost",
        description=(
            "Copy every incident (with its version) from one store into an empty one, then "
            "compare counts and content hashes. Exit 0: identical; 1: they differ; 2: error."
        ),
    )
    m.add_argument("--from", dest="source", type=_store_arg, required=True, help="source store")
    m.add_argument("--to", dest="target", type=_store_arg, required=True, help="target store")
    m.add_argument("--json", action="store_true", help="print the report as one JSON line")
    m.set_defaults(handler=_cmd_store_migrate)
    return parser


def _store_arg(text: str) -> str | Path:
    """Read ``--store``: a ``postgresql://`` URL stays text, anything else is a path."""
    from riskmap.store import is_url

    return text.strip() if is_url(text) else Path(text)


def _store_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--store``: a GeoPackage path or a ``postgresql://`` URL (default: the setting)."""
    parser.add_argument(
        "--store", type=_store_arg, default=None, help="incident store (default: setting)"
    )


def _store_location(args: argparse.Namespace, settings: Settings) -> str | Path:
    """Return ``--store``, else a ``postgresql://`` URL in ``$RISKMAP_STORE``, else the setting."""
    import os

    from riskmap.store import is_url

    if args.store is not None:
        return args.store
    env = os.environ.get("RISKMAP_STORE", "")
    return env.strip() if is_url(env) else settings.store


def _cmd_store_migrate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from riskmap.store.migrate import migrate_store

    report = migrate_store(args.source, args.target)
    if args.json:
        print(json.dumps(report.summary()))
    else:
        print(f"source {report.source}: {report.source_count} incidents, {report.source_hash}")
        print(f"target {report.target}: {report.target_count} incidents, {report.target_hash}")
        print("identical: nothing lost" if report.ok else "MISMATCH: the stores differ")
    if not report.ok:
        print(
            f"riskmap store: error: {report.target} differs from {report.source} after the copy",
            file=sys.stderr,
        )
    return 0 if report.ok else 1


def _cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from riskmap.sample import write_sample

    path = write_sample(args.output, seed=args.seed, places_file=settings.places)
    print(f"wrote {path}")
    return 0


def _cmd_geocode(args: argparse.Namespace, settings: Settings) -> int:
    import pandas as pd

    from riskmap.errors import InputFileError, StoreError
    from riskmap.geo.gazetteer import load_places
    from riskmap.geo.geocoder import geocode_frame
    from riskmap.schema import GEO_PRECISIONS

    try:
        frame = pd.read_csv(args.input, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as e:
        msg = f"input file {args.input} does not exist"
        raise InputFileError(msg) from e
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        msg = f"input file {args.input} cannot be read as UTF-8 CSV: {e}"
        raise InputFileError(msg) from e
    columns = ", ".join(map(str, frame.columns))
    if args.text_column not in frame.columns:
        msg = (
            f"input file {args.input} has no column {args.text_column!r} (it has: {columns}); "
            "name the column of place descriptions with --text-column"
        )
        raise InputFileError(msg)
    if args.city_column is not None and args.city_column not in frame.columns:
        msg = f"input file {args.input} has no column {args.city_column!r} (it has: {columns})"
        raise InputFileError(msg)
    places = load_places(args.places or settings.places)
    result = geocode_frame(
        frame,
        text_column=args.text_column,
        city_column=args.city_column or "city",
        places=places,
    )
    try:
        result.to_csv(args.output, index=False)
    except OSError as e:
        msg = f"cannot write {args.output}: {e}"
        raise StoreError(msg) from e
    counts = result["geo_precision"].value_counts()
    print(f"geocoded {len(result)} rows of {args.input} into {args.output}")
    for precision in GEO_PRECISIONS:
        print(f"  {precision:<13}{int(counts.get(precision, 0)):>8}")
    unresolved = result.loc[result["geo_precision"] == "unresolved", args.text_column]
    if not unresolved.empty:
        print("unresolved texts, most frequent first:")
        for text, count in unresolved.value_counts().head(20).items():
            print(f"  {count:>6}  {text!r}")
    return 0


def _cmd_places(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from riskmap.geo.gazetteer import load_places
    from riskmap.workflow import places as verified

    store = local_path(args.store or settings.store)
    places = verified.apply_verified(load_places(args.places or settings.places), store)
    if args.action == "set":
        change = verified.set_location(
            store,
            args.place_id,
            lat=args.lat,
            lon=args.lon,
            reason=args.reason,
            by=args.by,
            places=places,
        )
        print(
            f"{args.place_id}: location {change.lat:.6f}, {change.lon:.6f} set by {change.by}; "
            "it is used publicly once a second staff member confirms it "
            f"(riskmap places confirm {args.place_id} --by EMAIL)"
        )
        return 0
    if args.action == "confirm":
        change = verified.confirm_location(store, args.place_id, by=args.by, reason=args.reason)
        print(
            f"{args.place_id}: location {change.lat:.6f}, {change.lon:.6f} confirmed by {change.by}"
        )
        return 0
    if args.action == "history":
        trail = verified.history(store, args.place_id)
        if trail.empty:
            print(f"{args.place_id}: no staff location changes")
        else:
            trail.to_csv(sys.stdout, index=False)
        return 0
    if args.format == "json":
        # Approximate places have no point: null, not NaN (which is not JSON).
        records = places.astype(object).where(places.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    else:
        places.to_csv(sys.stdout, index=False)
    return 0


def _iso_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date in the form YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None


class _ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal, a few plain lines otherwise."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        # Small files need no bar; on a log file only big ones earn a line per 10 %.
        if total < (1000 if self.tty else 20_000):
            return
        step = 100 * done // max(total, 1)
        if self.tty:
            bar = "#" * (step // 4)
            end = "\n" if done >= total else ""
            print(f"\r{self.name}: [{bar:<25}] {done}/{total} rows", end=end, file=sys.stderr)
        elif step // 10 > self.shown:
            self.shown = step // 10
            print(f"{self.name}: {done}/{total} rows checked", file=sys.stderr)


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from riskmap.ingest import import_file
    from riskmap.workflow.review import ReviewError, may_publish

    status = "in_review"
    if args.publish:
        if not args.by:
            msg = "--publish needs --as EMAIL: say who publishes (it is written in the audit log)"
            raise ReviewError(msg)
        if not may_publish(args.by, settings):
            msg = (
                f"{args.by} may not publish (not in RISKMAP_PUBLISHERS); import without "
                "--publish and have the rows approved in the app"
            )
            raise ReviewError(msg)
        status = "published"
    places = None
    if settings.places is not None:
        from riskmap.geo.gazetteer import load_places

        places = load_places(settings.places)
    store = _store_location(args, settings)
    report = import_file(
        args.file,
        store=store,
        mapping=args.mapping,
        dayfirst=args.dayfirst,
        places=places,
        progress=_ProgressBar(f"importing {args.file.name}"),
        status=status,
        by=args.by,
    )
    for warning in report.warnings:
        print(f"riskmap import: warning: {warning}", file=sys.stderr)
    for line, reason in report.rejected[:20]:
        print(f"riskmap import: {args.file}, {report.unit} {line}: {reason}", file=sys.stderr)
    if len(report.rejected) > 20:
        print(f"riskmap import: ... and {len(report.rejected) - 20} more", file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary()))
    else:
        print(
            f"{args.file}: read {report.read} rows: {report.imported} imported, "
            f"{report.quarantined} quarantined, {report.duplicates} already in the store "
            f"-> {report.store}"
            + (" (published)" if status == "published" else " (waiting for review)")
        )
        if report.quarantine_file is not None:
            print(
                f"quarantined rows (with line and reason) are in {report.quarantine_file}; "
                "fix them there and import that file again"
            )
    return 3 if report.quarantined else 0


def _public_audience(store: str | Path, *, places: pd.DataFrame, settings: Settings) -> Audience:
    """Return the public audience of ``store``: its release kept beside it when current.

    As the app does, staff-verified locations are laid over ``places`` first, so the app and
    the CLI build the same release and share one cache. The release is built (and kept) only
    when the store, the gazetteer, k, the resolution or the key changed since it was kept
    (:func:`riskmap.release.cache.load_release`).
    """
    from riskmap.release.audience import Audience as _Audience
    from riskmap.release.cache import load_release
    from riskmap.release.privacy import pseudonym_key
    from riskmap.workflow import places as verified

    places = verified.apply_verified(places, local_path(store))

    release = load_release(
        store, places=places, settings=settings, key=pseudonym_key(settings, store=store)
    )
    return _Audience.from_release(release, places=places, settings=settings)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from riskmap.errors import SchemaError
    from riskmap.filters import Filters
    from riskmap.geo.gazetteer import load_places
    from riskmap.release.audience import restricted_audience
    from riskmap.store import open_store, write_bytes_atomically
    from riskmap.views.export import FORMATS, export

    fmt = args.fmt or next(
        (name for name, (_, suffix) in FORMATS.items() if args.output.suffix.lower() == suffix),
        None,
    )
    if fmt is None:
        msg = f"{args.output}: say which format to write with --format csv|geojson|gpkg"
        raise SchemaError(msg)
    filters = Filters(
        start=args.start,
        end=args.end,
        types=tuple(args.types),
        cities=tuple(args.cities),
        perpetrators=tuple(args.perpetrators),
    )
    manifest_name = f"{args.output.stem}.manifest.json"
    store = _store_location(args, settings)
    places = load_places(settings.places)
    audience = (
        restricted_audience(open_store(store).read(), places=places, settings=settings)
        if args.restricted
        else _public_audience(store, places=places, settings=settings)
    )
    result = export(
        audience,
        filters=filters,
        fmt=fmt,
        hxl=args.hxl,
        lang=args.lang,
        headers=args.headers or args.lang,
    )
    files = result.package_files(path=args.output.name)
    if not args.package:
        files = {n: b for n, b in files.items() if n in {args.output.name, manifest_name}}
    written = [args.output.with_name(name) for name in files]
    for path, data in zip(written, files.values(), strict=True):
        write_bytes_atomically(path, data)
    view = "restricted" if args.restricted else "public"
    print(
        f"wrote {args.output} ({result.manifest['rows']} incidents, {view} view) and "
        + ", ".join(str(p) for p in written[1:])
    )
    return 0


def _cmd_site(args: argparse.Namespace, settings: Settings) -> int:
    from riskmap.geo.gazetteer import load_places
    from riskmap.views.site import SITE_MANIFEST, build_site, take_aways

    # The release the app shows: staff-verified places applied, kept beside the store.
    store = _store_location(args, settings)
    audience = _public_audience(store, places=load_places(settings.places), settings=settings)
    written = build_site(
        audience, args.output, app_url=args.app_url, extras=take_aways(app_url=args.app_url)
    )
    print(
        f"wrote {len(written)} changed files of the public site into {args.output} "
        f"({audience.report['released']} incidents; list in {args.output / SITE_MANIFEST}); "
        f"try it with: python -m http.server -d {args.output}"
    )
    return 0


def _cmd_release_report(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from riskmap.geo.gazetteer import load_places
    from riskmap.views.about import release_report
    from riskmap.views.export import release_summary

    store = _store_location(args, settings)
    audience = _public_audience(store, places=load_places(settings.places), settings=settings)
    if args.json:
        print(json.dumps(release_summary(audience.report), ensure_ascii=False, indent=2))
    else:
        print(release_report(audience.report, args.lang).replace("**", ""))
    return 0


def _period_days(text: str) -> int:
    """Parse a period such as ``90d``, ``12w`` or ``90`` into days (argparse type)."""
    raw = text.strip().lower()
    unit = {"d": 1, "w": 7}.get(raw[-1:])
    number = raw[:-1] if unit else raw
    try:
        days = int(number) * (unit or 1)
    except ValueError:
        days = 0
    if days < 1:
        msg = f"invalid period {text!r}: write a number of days or weeks, such as 90d or 12w"
        raise argparse.ArgumentTypeError(msg)
    return days


def _cmd_hotspots(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from riskmap.analysis import hotspots
    from riskmap.errors import StoreError
    from riskmap.filters import Filters
    from riskmap.geo.gazetteer import load_places
    from riskmap.release.audience import restricted_audience
    from riskmap.store import open_store

    places = load_places(args.places or settings.places)
    store = _store_location(args, settings)
    # --public ranks the public release, as the public dashboard does; by default the recorded
    # data (this command runs on the server, for staff).
    audience = (
        _public_audience(store, places=places, settings=settings)
        if args.public
        else restricted_audience(open_store(store).read(), places=places, settings=settings)
    )
    chosen = Filters(types=tuple(args.type), cities=tuple(args.city))
    incidents = audience.select(chosen)
    radius = settings.radius_m if args.radius is None else args.radius
    ranking = hotspots.rank_selection(
        audience, chosen, radius_m=radius, period_days=args.period, end=args.end
    )
    if args.city:
        places = places[places["city"].isin(args.city)]
    meta = {k: str(v) if isinstance(v, dt.date) else v for k, v in ranking.attrs.items()}
    lines: list[str] = []
    if args.gi_star:
        window = chosen.with_(start=ranking.attrs["start"], end=ranking.attrs["end"])
        gi = hotspots.gi_star(audience.select(window), resolution=settings.h3_resolution)
        table = gi.cells if args.format == "csv" else gi.hotspots
        payload: object = {
            "period": {"start": meta["start"], "end": meta["end"]},
            "ran": gi.ran,
            "reason": gi.reason,
            "summary": gi.summary(),
            "excluded": gi.excluded,
            "notes": list(gi.notes),
            "cells": json.loads(gi.cells.to_json(orient="records")),
        }
        lines = [gi.summary(), *(f"note: {n}" for n in gi.notes)]
        if gi.ran and not table.empty:
            lines += ["", table.round(4).to_string(index=False)]
    elif args.returns is not None:
        table = hotspots.exposure_rates(incidents, args.returns, places=places)
        payload = {
            "unmatched": table.attrs["unmatched"],
            "rates": json.loads(table.to_json(orient="records")),
        }
        shown = table.assign(
            per_1000=table["per_1000"].round(2),
            interval=[
                f"{a:.2f}-{b:.2f}"
                for a, b in zip(table["ci_low_per_1000"], table["ci_high_per_1000"], strict=True)
            ],
        ).drop(columns=["ci_low_per_1000", "ci_high_per_1000"])
        lines = [
            "Incidents per 1,000 people returned (exact Poisson 95% interval)",
            shown.to_string(index=False),
            f"without a denominator: {table.attrs['unmatched']}",
        ]
    else:
        table = ranking if args.top is None else ranking.head(args.top)
        payload = {**meta, "sites": json.loads(table.to_json(orient="records"))}
        lines = [hotspots.ranking_text(ranking, top=args.top).rstrip("\n")]
    if args.format == "json":
        text = json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n"
    elif args.format == "csv":
        text = table.to_csv(index=False)
    else:
        text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        msg = f"cannot write {args.output}: {e}"
        raise StoreError(msg) from e
    print(f"wrote {args.output}")
    return 0


def _public(args: argparse.Namespace, settings: Settings) -> Audience:
    """Return the public audience of ``--store`` (or the setting's store)."""
    from riskmap.geo.gazetteer import load_places

    store = _store_location(args, settings)
    return _public_audience(store, places=load_places(settings.places), settings=settings)


def _cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    from riskmap.analysis.metrics import load_published
    from riskmap.store import write_bytes_atomically
    from riskmap.views import brief

    audience = _public(args, settings)
    published = load_published()
    briefs = brief.city_briefs(
        audience,
        cities=args.cities,
        period=args.period,
        lang=args.lang,
        page_url=args.url,
        published_source=str(published["source"].iloc[0]) if len(published) else "",
    )
    write_bytes_atomically(args.output, brief.render_pdf(briefs, page_size=args.page))
    print(f"wrote {args.output} ({len(briefs)} page(s): {', '.join(b.city for b in briefs)})")
    if not args.url:
        print("no QR code: give --url with the dashboard's public address", file=sys.stderr)
    return 0


def _cmd_feed(args: argparse.Namespace, settings: Settings) -> int:
    from riskmap.errors import SchemaError
    from riskmap.filters import Filters
    from riskmap.store import write_bytes_atomically
    from riskmap.views import feed

    audience = _public(args, settings)
    known = set(audience.places["place_id"].astype(str))
    unknown = [p for p in args.places if p not in known]
    if unknown:
        msg = f"unknown place {', '.join(unknown)}: see `riskmap places` for the place ids"
        raise SchemaError(msg)
    data = feed.atom_feed(
        audience,
        filters=Filters(cities=tuple(args.cities), types=tuple(args.types)),
        place_ids=args.places,
        lang=args.lang,
        limit=args.limit,
        page_url=args.url,
        feed_url=args.feed_url,
    )
    write_bytes_atomically(args.output, data)
    print(f"wrote {args.output} ({data.count(b'<entry>')} entries)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        settings = Settings.from_env()
        return handler(args, settings)
    except RiskmapError as e:
        print(f"riskmap {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"riskmap {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
