"""Benchmark riskmap's load, filter and map against a naive folium map, at N incidents.

``make bench`` (or ``python benchmarks/run.py``) prints one JSON line per N on stdout (progress
and the machine go to stderr). Each N is measured in fresh subprocesses, so that peak memory
(``ru_maxrss`` of the process, the resident set's high-water mark) belongs to that N alone:

``riskmap``
    ``load_s``: ``store.read_incidents`` + ``public.build_release`` (the k-anonymous public
    release, what the app caches per store version), median of ``--load-runs``;
    ``load_cached_s``: the same through the GeoParquet cache (``riskmap.store.cache``);
    ``app_load_s``: everything the app's ``_load`` does (adds the restricted view).
    ``filter_ms``: ``dashboard.select`` on the public audience (filters on shown values +
    headline counts). ``map_ms``: what a filter change costs: ``dashboard.select`` +
    ``maps.build_map`` (aggregation, layers, base map) + rendering the whole standalone page,
    whose size is ``map_bytes``. ``app_ms``: the same change as the app makes it: select +
    ``maps.dashboard_map`` (base map and incident layers) + ``st_folium``'s own Python work (its
    component call captured), sending ``app_bytes_max`` at most. Medians over ``--runs`` runs of
    each filter scenario (:data:`SCENARIOS`) after one warm-up run, as a long-running app server
    is warm; ``*_max`` fields are the worst scenario's. ``peak_rss_mb`` covers the loads and the
    runs; ``cache_data_hit_ms`` is what unpickling ``_load``'s result would cost per rerun under
    ``st.cache_data``; ``geocode_s`` geocodes every row's description (once per distinct text
    and city).
``release``
    ``public.build_release`` alone on the store's incidents (read once, not timed), local
    recoding as the app builds it: ``build_s`` (median of ``--load-runs``) and ``build_cpu_s``
    (the process's CPU time, less sensitive to other work on the machine), ``peak_rss_read_mb``
    (the store read, before a build), ``peak_rss_build_mb``, ``peak_rss_mb``, and what the
    release keeps: ``detail`` (the report's detail share, 1 = every attribute at
    its most detailed level), ``suppressed_share`` (incidents of the store not in the release)
    and ``place`` (the share of incidents shown at each level of the place hierarchy).
    ``benchmarks/release_utility.py`` compares local with global recoding.
``naive``
    A map as typical demos draw it: one ``folium.Marker`` with a popup per incident plus a
    ``HeatMap`` of every point, rendered with ``get_root().render()``; the filter is plain pandas
    on the release's shown values (a regular expression per type and its group, shown periods
    overlapping the dates; no headline counts); the load is ``geopandas.read_file`` +
    ``public.build_release``. Each scenario's build is stopped after ``--baseline-timeout``
    seconds and then left out (``timed_out``), so ``speedup`` and ``smaller`` (naive / riskmap
    medians) compare the scenarios the baseline finished, measured in the same run.
``app``, ``app_cached`` (with ``--app``)
    Whole runs of ``app.py`` under Streamlit's ``AppTest`` (:func:`measure_app`): the first
    visit of a fresh process, a second visit, reruns after type-filter changes and tab
    switches; ``app`` with no release kept beside the store (it is built and written),
    ``app_cached`` in a new process that loads it.

Each line also records the machine's 1-minute load average before and after (``load_avg``):
other work on the machine slows every figure. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: Filter states a user steps through: name -> Filters keyword arguments.
SCENARIOS: dict[str, dict[str, object]] = {
    "all": {},
    "type": {"types": ("kidnapping",)},
    "type+dates": {
        "types": ("kidnapping", "express_kidnapping"),
        "start": dt.date(2023, 1, 1),
        "end": dt.date(2024, 6, 30),
    },
    "type+dates+city": {
        "types": ("extortion",),
        "start": dt.date(2021, 1, 1),
        "end": dt.date(2022, 12, 31),
        "cities": ("Matamoros",),
    },
    "city+last90": {
        "cities": ("Nuevo Laredo",),
        "start": dt.date(2024, 10, 3),
        "end": dt.date(2024, 12, 31),
    },
}


class _Timeout(Exception):
    pass


def _median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 1)


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)


def _current_rss_mb() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="utf-8").split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure_riskmap(store: Path, *, runs: int, load_runs: int) -> dict[str, object]:
    """Measure riskmap on one store (run in its own process)."""
    import folium
    import streamlit_folium

    from riskmap.analysis.metrics import load_published
    from riskmap.filters import Filters
    from riskmap.geo.gazetteer import load_places
    from riskmap.release import privacy
    from riskmap.release.audience import Audience
    from riskmap.release.public import build_release
    from riskmap.settings import Settings
    from riskmap.store import cache, read_incidents
    from riskmap.views import dashboard, maps

    settings = Settings()
    places = load_places()
    published = load_published()
    key = privacy.pseudonym_key(settings, store=store)  # as the app finds it: beside the store
    rss_imports = _peak_rss_mb()

    def load(read: Callable[[Path], Any]) -> Any:
        return build_release(read(store), places=places, settings=settings, key=key)

    load_times = []
    release: Any = None
    for _ in range(max(load_runs, 1)):  # one store in memory at a time
        release = None
        elapsed, release = _timed(lambda: load(read_incidents))
        load_times.append(elapsed)
    rss_loaded = _current_rss_mb()
    audience = Audience.from_release(release, places=places, settings=settings)

    captured: dict[str, object] = {}
    streamlit_folium._component_func = lambda **kw: captured.update(kw)  # no browser here

    def select(f: Filters) -> Any:
        return dashboard.select(audience, f, published=published)

    def page(f: Filters) -> int:
        selection = select(f)
        m = maps.build_map(
            selection.incidents,
            places=places,
            lang="en",
            asset_base=settings.asset_base,
            marker_limit=settings.marker_limit,
            min_cell=audience.k,
        )
        return len(m.get_root().render().encode("utf-8"))

    def app(f: Filters) -> int:
        selection = select(f)
        shown = maps.dashboard_map(
            selection.incidents, audience=audience, lang="en", asset_base=settings.asset_base
        )
        captured.clear()
        streamlit_folium.st_folium(
            shown.base,
            key="map_en",
            feature_group_to_add=shown.layers,
            layer_control=folium.LayerControl(collapsed=True),
            returned_objects=[],
            use_container_width=True,
            height=560,
        )
        sent = ("script", "header", "html", "feature_group", "layer_control")
        return sum(len(str(captured.get(k) or "").encode("utf-8")) for k in sent)

    filters = {name: Filters(**kw) for name, kw in SCENARIOS.items()}
    times: dict[str, dict[str, list[float]]] = {
        what: {name: [] for name in filters} for what in ("filter", "map", "app")
    }
    sizes: dict[str, dict[str, int]] = {"map": {}, "app": {}}
    selected: dict[str, int] = {}
    locations: dict[str, int] = {}
    for name, f in filters.items():  # warm-up, and what each scenario selects
        selection = select(f)
        selected[name] = len(selection.incidents)
        locations[name] = len(maps.aggregate_locations(selection.incidents))
        page(f)
        app(f)
    for _ in range(runs):
        for name, f in filters.items():
            times["filter"][name].append(_timed(lambda f=f: select(f))[0])
            elapsed, size = _timed(lambda f=f: page(f))
            times["map"][name].append(elapsed)
            sizes["map"][name] = int(size)
            elapsed, size = _timed(lambda f=f: app(f))
            times["app"][name].append(elapsed)
            sizes["app"][name] = int(size)

    peak = _peak_rss_mb()  # load, filters and maps; the extras below hold more copies
    cache.read_incidents_cached(store)  # writes the cache if absent: not timed
    cached = [_timed(lambda: load(cache.read_incidents_cached))[0] for _ in range(load_runs)]
    restricted_s, unpickle_s, geocode_s = _app_extras(
        cache.read_incidents_cached(store), release, places
    )

    def overall(what: str) -> float:
        return _median_ms([t for ts in times[what].values() for t in ts])

    def worst(what: str) -> float:
        return max(_median_ms(ts) for ts in times[what].values())

    return {
        "load_s": round(statistics.median(load_times), 2),
        "load_cached_s": round(statistics.median(cached), 2),
        "app_load_s": round(statistics.median(load_times) + restricted_s, 2),
        "filter_ms": overall("filter"),
        "map_ms": overall("map"),
        "map_ms_max": worst("map"),
        "app_ms": overall("app"),
        "app_ms_max": worst("app"),
        "map_bytes": int(statistics.median(sizes["map"].values())),
        "map_bytes_max": max(sizes["map"].values()),
        "app_bytes_max": max(sizes["app"].values()),
        "locations_max": max(locations.values()),
        "peak_rss_mb": peak,
        "loaded_rss_mb": rss_loaded,
        "import_rss_mb": rss_imports,
        "cache_data_hit_ms": round(unpickle_s * 1000, 1),
        "geocode_s": round(geocode_s, 2),
        "scenarios": {
            name: {
                "selected": selected[name],
                "filter_ms": _median_ms(times["filter"][name]),
                "map_ms": _median_ms(times["map"][name]),
                "app_ms": _median_ms(times["app"][name]),
                "map_bytes": sizes["map"][name],
            }
            for name in filters
        },
    }


def measure_release(store: Path, *, load_runs: int) -> dict[str, object]:
    """Time ``build_release`` on one store and say what it keeps (run in its own process).

    Also the release kept beside the store (:mod:`riskmap.release.cache`), in a scratch folder
    so that the app's own cache is left alone: ``cache_write_s``, ``cache_load_s`` (median of
    ``--load-runs``), ``cache_mb`` (both files) and ``cache_equal`` (the loaded release equals
    the one built, checked with ``pandas.testing``).
    """
    import shutil
    import tempfile

    import pandas as pd

    from riskmap.geo.gazetteer import load_places
    from riskmap.release import cache
    from riskmap.release.public import build_release
    from riskmap.settings import Settings
    from riskmap.store import read_incidents

    settings = Settings()
    places = load_places()
    incidents = read_incidents(store)
    read_rss = _peak_rss_mb()  # the store as read, before any build
    times = []
    cpu = []
    report: dict[str, Any] = {}
    kept: Any = None
    for _ in range(max(load_runs, 1)):
        kept = None
        started = time.process_time()
        elapsed, kept = _timed(
            lambda: build_release(incidents, places=places, settings=settings, key=b"bench")
        )
        cpu.append(time.process_time() - started)
        times.append(elapsed)
        report = kept.report
    incidents = None
    peak_build = _peak_rss_mb()
    scratch = Path(tempfile.mkdtemp(prefix="riskmap-release-bench-"))
    try:
        beside = scratch / store.name
        beside.touch()  # stands for the store: the cache is keyed by its file's version
        version = cache.release_version(beside, places=places, settings=settings, key=b"bench")
        if version is None:
            msg = f"{beside}: cannot stat the stand-in store"
            raise RuntimeError(msg)
        write_s, paths = _timed(lambda: cache.write_cached(kept, beside, version=version))
        loads = []
        loaded: Any = None
        for _ in range(max(load_runs, 1)):
            loaded = None
            elapsed, loaded = _timed(lambda: cache.read_cached(beside, version=version))
            loads.append(elapsed)
        equal = loaded is not None and loaded.report == kept.report
        if equal:
            pd.testing.assert_frame_equal(loaded.table, kept.table, check_exact=True)
        cache_mb = round(sum(p.stat().st_size for p in paths) / 2**20, 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n = max(int(report["incidents"]), 1)
    return {
        "build_s": round(statistics.median(times), 2),
        "build_cpu_s": round(statistics.median(cpu), 2),
        "cache_write_s": round(write_s, 2),
        "cache_load_s": round(statistics.median(loads), 2),
        "cache_mb": cache_mb,
        "cache_equal": bool(equal),
        "peak_rss_build_mb": peak_build,
        "peak_rss_read_mb": read_rss,
        "k": report["k"],
        "recoding": report["recoding"],
        "detail": report["detail"],
        "suppressed_share": round(int(report["suppressed"]) / n, 4),
        "place": {level: round(c / n, 3) for level, c in report["levels"]["location"].items()},
        "peak_rss_mb": _peak_rss_mb(),
    }


def _app_extras(raw: Any, release: Any, places: Any) -> tuple[float, float, float]:
    """Time the rest of the app's load, a ``st.cache_data`` hit, and geocoding every row."""
    import pickle

    from riskmap.geo.geocoder import geocode_frame
    from riskmap.release import privacy

    restricted_s, restricted = _timed(lambda: privacy.restricted_view(raw, places=places))
    # st.cache_data pickles what _load returns and unpickles it on every rerun.
    pickled = pickle.dumps((places, restricted, release), protocol=pickle.HIGHEST_PROTOCOL)
    unpickle_s = statistics.median(_timed(lambda: pickle.loads(pickled))[0] for _ in range(3))
    geocode_s, _ = _timed(lambda: geocode_frame(raw[["location_text", "city"]], places=places))
    return restricted_s, unpickle_s, geocode_s


def naive_select(frame: Any, spec: dict[str, Any]) -> Any:
    """Filter the way a typical demo does: pandas masks, a regular expression per type.

    On release rows the masks test shown values, as the public filters do: a shown period
    overlaps the dates (``date`` to ``date_end``), and a type matches itself or its group.
    """
    import pandas as pd

    from riskmap.release.public import TYPE_GROUPS

    df = frame
    last = df["date_end"] if "date_end" in df.columns else df["date"]
    mask = pd.Series(True, index=df.index)
    if spec.get("start"):
        mask &= last >= pd.Timestamp(spec["start"])
    if spec.get("end"):
        mask &= df["date"] < pd.Timestamp(spec["end"]) + pd.Timedelta(days=1)
    if spec.get("types"):
        names = [*spec["types"], *{TYPE_GROUPS[t] for t in spec["types"]}]
        pattern = r"(?:^|\|)(?:" + "|".join(names) + r")(?:\||$)"
        mask &= df["incident_types"].fillna("").str.contains(pattern, regex=True)
    if spec.get("cities"):
        mask &= df["city"].isin(spec["cities"]).fillna(False)
    return df[mask.to_numpy(dtype=bool)]


def naive_page(selection: Any) -> int:
    """Draw one marker with a popup per incident and a heat map of every point."""
    import folium
    import folium.plugins
    import pandas as pd

    df = selection
    points = df[df["lat"].notna() & df["lon"].notna()]
    m = folium.Map(location=(26.69, -98.5), zoom_start=7)
    for row in points.itertuples(index=False):
        when = "" if pd.isna(row.date) else f"{row.date:%Y-%m-%d}"  # a release may withhold it
        text = f"<b>{row.incident_types}</b><br>{when}<br>{row.city}"
        folium.Marker((row.lat, row.lon), popup=folium.Popup(text, max_width=300)).add_to(m)
    folium.plugins.HeatMap(points[["lat", "lon"]].to_numpy().tolist()).add_to(m)
    return len(m.get_root().render().encode("utf-8"))


def measure_naive(store: Path, *, runs: int, timeout: int) -> dict[str, object]:
    """Measure the naive map on one store (run in its own process)."""
    import geopandas as gpd

    from riskmap.geo.gazetteer import load_places
    from riskmap.release.public import build_release
    from riskmap.settings import Settings

    places = load_places()
    settings = Settings()

    def alarm(signum: int, frame: object) -> None:
        raise _Timeout

    signal.signal(signal.SIGALRM, alarm)
    load_s, release = _timed(
        lambda: build_release(gpd.read_file(store), places=places, settings=settings, key=b"b")
    )
    public = release.table
    filter_t: dict[str, list[float]] = {}
    map_t: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    timed_out: list[str] = []
    for name, spec in SCENARIOS.items():
        for _ in range(runs):
            signal.alarm(timeout)
            try:
                elapsed, selection = _timed(lambda spec=spec: naive_select(public, spec))
                filter_t.setdefault(name, []).append(elapsed)
                start = time.perf_counter()
                sizes[name] = naive_page(selection)
                map_t.setdefault(name, []).append(time.perf_counter() - start + elapsed)
            except _Timeout:
                timed_out.append(name)
                map_t.pop(name, None)
                break
            finally:
                signal.alarm(0)
    return {
        "load_s": round(load_s, 2),
        "filter_ms": _median_ms([t for ts in filter_t.values() for t in ts]),
        "map_ms": _median_ms([t for ts in map_t.values() for t in ts]) if map_t else None,
        "map_bytes": int(statistics.median(sizes[k] for k in map_t)) if map_t else None,
        "map_bytes_max": max(sizes[k] for k in map_t) if map_t else None,
        "peak_rss_mb": _peak_rss_mb(),
        "timed_out": timed_out,
        "scenarios": {
            name: {"map_ms": _median_ms(ts), "map_bytes": sizes[name]} for name, ts in map_t.items()
        },
    }


def measure_app(store: Path, *, runs: int) -> dict[str, object]:
    """Time whole runs of ``app.py`` (Streamlit's AppTest, no browser), as a server runs them.

    ``first_run_s``: the first visit of a fresh process (``release``: whether the release kept
    beside the store was ``"loaded"``, or ``"built"`` and written); ``warm_open_s``: a second
    visit (a new session) to the same process, whose cache holds the release; ``rerun_ms``:
    whole reruns after type-filter changes on the Map tab, each to a filter state not seen
    before in the process (nothing of it cached), median (``rerun_ms_max``: the worst);
    ``revisit_ms``: the same states again (another visitor, or back to a state: the view's
    results cached); ``same_view_ms``: a rerun with nothing changed (a tab or language switch
    back, a link opened again); ``rerun_cpu_ms`` and ``revisit_cpu_ms``: the process's CPU
    time of those reruns (less sensitive to other work on the machine); ``tab_ms``: a rerun
    that opens each other tab (the tab's content computed).
    """
    os.environ["RISKMAP_STORE"] = str(store)
    from streamlit.testing.v1 import AppTest

    from riskmap.release import cache
    from riskmap.views.i18n import t

    had_cache = all(p.exists() for p in cache.cache_paths(store))

    def visit() -> AppTest:
        at = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=1800)
        at.query_params["lang"] = "en"
        return at

    at = visit()
    first_s, _ = _timed(at.run)
    warm = visit()
    warm_s, _ = _timed(warm.run)
    from riskmap.schema import INCIDENT_TYPES

    # Filter states never seen before in this process: one type, then a pair of types.
    singles = [[t] for t in INCIDENT_TYPES]
    pairs = [[a, b] for a, b in zip(INCIDENT_TYPES, INCIDENT_TYPES[1:], strict=False)]
    changes = (singles + pairs)[:runs]
    reruns, cpu, revisits, revisit_cpu = [], [], [], []
    for change in changes:
        # Widgets with translated options are keyed per language (see app.py).
        at.multiselect(key="types__en").set_value(change)
        cpu_before = time.process_time()
        reruns.append(_timed(at.run)[0])
        cpu.append(time.process_time() - cpu_before)
    for change in changes:
        at.multiselect(key="types__en").set_value(change)
        cpu_before = time.process_time()
        revisits.append(_timed(at.run)[0])
        revisit_cpu.append(time.process_time() - cpu_before)
    same = [_timed(at.run)[0] for _ in range(runs)]
    tabs = {}
    for tab in ("trends", "hotspots", "data", "about", "map"):
        at.session_state["tab__en"] = t(f"tab_{tab}", "en")
        tabs[tab] = round(_timed(at.run)[0] * 1000, 1)
    return {
        "release": "loaded" if had_cache else "built",
        "first_run_s": round(first_s, 2),
        "warm_open_s": round(warm_s, 2),
        "rerun_ms": _median_ms(reruns),
        "rerun_ms_max": round(max(reruns) * 1000, 1),
        "rerun_cpu_ms": _median_ms(cpu),
        "revisit_ms": _median_ms(revisits),
        "revisit_cpu_ms": _median_ms(revisit_cpu),
        "same_view_ms": _median_ms(same),
        "reruns_ms": [round(r * 1000, 1) for r in reruns],
        "tab_ms": tabs,
        "exception": bool(at.exception),
        "peak_rss_mb": _peak_rss_mb(),
    }


def machine() -> dict[str, object]:
    """Describe the machine and the library versions."""
    import folium
    import geopandas
    import h3
    import pandas
    import pyogrio

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "geopandas": geopandas.__version__,
        "pyogrio": pyogrio.__version__,
        "folium": folium.__version__,
        "streamlit_folium": version("streamlit-folium"),
        "h3": h3.__version__,
    }


def _child(kind: str, n: int, args: argparse.Namespace, timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; return its JSON, or why there is none."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--sizes",
        str(n),
        "--runs",
        str(args.runs),
        "--load-runs",
        str(args.load_runs),
        "--baseline-runs",
        str(args.baseline_runs),
        "--baseline-timeout",
        str(args.baseline_timeout),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        return {"skipped": f"exit code {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each scenario")
    parser.add_argument("--load-runs", type=int, default=3, help="timed loads of the store")
    parser.add_argument("--baseline-runs", type=int, default=3, help="naive runs per scenario")
    parser.add_argument("--baseline-timeout", type=int, default=60, help="seconds per naive map")
    parser.add_argument("--no-baseline", action="store_true", help="measure riskmap only")
    parser.add_argument(
        "--app", action="store_true", help="also time whole reruns of app.py (slow at large N)"
    )
    parser.add_argument(
        "--skip-riskmap", action="store_true", help="leave out the load/filter/map measurements"
    )
    parser.add_argument(
        "--child", choices=["riskmap", "release", "naive", "app"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from generate import ensure_store

    if args.child:
        store = ensure_store(args.sizes[0])
        if args.child == "riskmap":
            result = measure_riskmap(store, runs=args.runs, load_runs=args.load_runs)
        elif args.child == "app":
            result = measure_app(store, runs=args.runs)
        elif args.child == "release":
            result = measure_release(store, load_runs=args.load_runs)
        else:
            result = measure_naive(store, runs=args.baseline_runs, timeout=args.baseline_timeout)
        print(json.dumps(result))
        return 0

    print(json.dumps({"machine": machine()}), file=sys.stderr)
    for n in args.sizes:
        start = time.perf_counter()
        store = ensure_store(n)
        print(f"n={n}: store {store} ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        load_before = os.getloadavg()[0]
        ours = (
            {"skipped": "--skip-riskmap"}
            if args.skip_riskmap
            else _child("riskmap", n, args, timeout=1800)
        )
        line: dict[str, object] = {"n": n, "riskmap": ours}
        line["release"] = _child("release", n, args, timeout=1800)
        if args.no_baseline:
            line["naive"] = {"skipped": "--no-baseline"}
        else:
            budget = 120 + len(SCENARIOS) * args.baseline_runs * args.baseline_timeout * 1.5
            naive = _child("naive", n, args, timeout=budget)
            line["naive"] = naive
            line.update(_ratios(ours, naive))
        if args.app:
            # First with no release beside the store (built and written), then loaded from it.
            from riskmap.release import cache

            for path in cache.cache_paths(store):
                path.unlink(missing_ok=True)
            line["app"] = _child("app", n, args, timeout=3600)
            line["app_cached"] = _child("app", n, args, timeout=3600)
        # Other work on the machine slows every figure: the 1-minute load average says how much.
        line["load_avg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        print(json.dumps(line), flush=True)
    return 0


def _ratios(ours: dict[str, Any], naive: dict[str, Any]) -> dict[str, Any]:
    """Naive over riskmap, on the scenarios the naive map finished."""
    done: dict[str, dict[str, float]] = naive.get("scenarios") or {}
    mine: dict[str, dict[str, float]] = ours.get("scenarios") or {}
    common = [name for name in done if name in mine]
    if not common:
        return {"speedup": None, "smaller": None, "compared": []}
    return {
        "speedup": round(
            statistics.median(done[s]["map_ms"] for s in common)
            / statistics.median(mine[s]["map_ms"] for s in common),
            1,
        ),
        "smaller": round(
            statistics.median(done[s]["map_bytes"] for s in common)
            / statistics.median(mine[s]["map_bytes"] for s in common),
            1,
        ),
        "compared": common,
    }


if __name__ == "__main__":
    sys.exit(main())
