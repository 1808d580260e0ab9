"""A burst of visitors: N sessions at once against one ``streamlit run app.py`` server.

Run ``.venv/bin/python benchmarks/load.py [--store PATH ...] [--sizes N ...] [--visitors 1 10 50]``
(``make bench-load``: the sample store and the 100k synthetic store, 1 / 10 / 50 visitors).

Each visitor is a real Streamlit session driven through the server's own websocket protocol
(``/_stcore/stream``: ``BackMsg`` protobufs up, ``ForwardMsg`` down, as Streamlit's front end
speaks it), which costs the machine far less than a browser per visitor, so the figures are the
server's. A visitor does what a browser was recorded doing on this page (Debian chromium,
``page.on("websocket")``):

1. **open**: the first run of the page (``lang=en``), until the map's component message;
   then the map component reports its view twice (where it starts, then where its layers
   fitted it), each report a run of the page, as the browser's map does;
2. **filter 1**: tick "Involving children", until the new map's component message; the map
   reports its fitted view (a run);
3. **filter 2**: pick an incident type (visitor *i* picks the *i*-th of the list, so visitors
   differ), the same way.

A visitor waits for each run to finish before the next action, as a person does. Every visitor
of a burst starts at once. The server is started once per store and warmed by one visitor (its
first visit loads the release); each burst is then measured on the warm server. One JSON line
per (store, N):

- ``cpu_s_per_visitor``: the server process's CPU time (user + system, ``psutil``) over the
  burst, divided by N: the open, the two filter changes and the map's view reports;
- ``open_to_map_p50_s`` / ``_p95_s``: from the visitor's first message to the map's component
  message; ``filter_to_map_p50_s`` / ``_p95_s``: from a filter change to the new map message
  (both filters of every visitor). The client does almost no work, so these are the server's
  times (queueing included);
- ``rss_mb`` after the burst, ``peak_rss_mb`` (``VmHWM``, the process's high-water mark since
  it started), ``errors`` (a run that raised, a run that did not finish, a lost connection or
  a step that took longer than ``--timeout``) with the first few reasons, ``wall_s`` of the
  burst, and the machine's 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _server  # noqa: E402

MAP_COMPONENT = "streamlit_folium.st_folium"
#: The map's view reports as the browser sent them: where a new map starts (``INITIAL_VIEW``),
#: then where its layers fitted it; each filter change fits it again (a little elsewhere).
START_VIEW = {"zoom": 7, "center": {"lat": 26.69, "lng": -98.5}}


def _fitted(step: int) -> dict[str, object]:
    return {"zoom": 8, "center": {"lat": 26.6928 - 0.01 * step, "lng": -98.5103 + 0.001 * step}}


@dataclass
class Run:
    """What one run of the page sent back."""

    map_at: float | None = None
    finished: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class Visitor:
    """One session: its widgets (user key -> widget id and options) and what it measured."""

    widgets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    map_id: str | None = None
    #: The fragment the map is drawn in, if any: its view reports rerun that fragment only.
    map_fragment: str = ""
    open_s: float | None = None
    filter_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _read_delta(msg: ForwardMsg, visitor: Visitor, run: Run, now: float) -> None:
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind is None:
        return
    if kind == "exception":
        run.errors.append(f"exception: {element.exception.message[:200]}")
        return
    widget = getattr(element, kind)
    if kind == "component_instance" and widget.component_name == MAP_COMPONENT:
        visitor.map_id = widget.id
        visitor.map_fragment = msg.delta.fragment_id
        if run.map_at is None:
            run.map_at = now
        return
    widget_id = getattr(widget, "id", "") if hasattr(widget, "DESCRIPTOR") else ""
    if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
        key = widget_id.split("-", 2)[2]
        options = list(getattr(widget, "options", []) or [])
        visitor.widgets[key] = (widget_id, options)


async def _run(
    ws, visitor: Visitor, query: str, states: list[WidgetState], *, timeout: float, fragment=""
):
    """Ask for a run of the page (or of one fragment) with ``states``; return what it sent."""
    back = BackMsg()
    back.rerun_script.query_string = query
    back.rerun_script.fragment_id = fragment
    back.rerun_script.widget_states.widgets.extend(states)
    started = time.perf_counter()
    await ws.send(back.SerializeToString())
    run = Run()
    deadline = started + timeout
    while not run.finished:
        left = deadline - time.perf_counter()
        if left <= 0:
            run.errors.append(f"a run took more than {timeout:.0f} s")
            break
        payload = await asyncio.wait_for(ws.recv(), timeout=left)
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        kind = msg.WhichOneof("type")
        if kind == "delta":
            _read_delta(msg, visitor, run, time.perf_counter())
        elif kind == "script_finished":
            status = msg.script_finished
            run.finished = True
            if status not in (
                ForwardMsg.FINISHED_SUCCESSFULLY,
                ForwardMsg.FINISHED_EARLY_FOR_RERUN,
                # a move of the map reruns its fragment only
                ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ):
                run.errors.append(f"script finished with status {status}")
    return started, run


def _json_state(widget_id: str, value: object) -> WidgetState:
    state = WidgetState(id=widget_id)
    state.json_value = json.dumps(value)
    return state


async def _report_view(ws, visitor: Visitor, query: str, view: dict, *, timeout: float) -> None:
    if visitor.map_id is None:
        visitor.errors.append("no map component to report a view from")
        return
    # As the browser does: a widget inside a fragment reruns that fragment.
    states = [_json_state(visitor.map_id, view)]
    _, run = await _run(ws, visitor, query, states, timeout=timeout, fragment=visitor.map_fragment)
    visitor.errors.extend(run.errors)


async def visit(url: str, *, index: int, timeout: float, map_reports: bool) -> Visitor:
    """Open the page, make two filter changes; return the visitor's timings and errors."""
    visitor = Visitor()
    query = "lang=en"
    try:
        async with connect(
            # No keepalive pings: a browser sends none, and a busy server answers them late.
            url,
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
        ) as ws:
            started, run = await _run(ws, visitor, query, [], timeout=timeout)
            visitor.errors.extend(run.errors)
            if run.map_at is None:
                visitor.errors.append("the first run sent no map")
                return visitor
            visitor.open_s = run.map_at - started
            if map_reports:
                await _report_view(ws, visitor, query, START_VIEW, timeout=timeout)
                await _report_view(ws, visitor, query, _fitted(0), timeout=timeout)
            children = WidgetState(id=visitor.widgets["children_only"][0])
            children.bool_value = True
            types_id, type_options = visitor.widgets["types__en"]
            picked = WidgetState(id=types_id)
            # Visitors pick different types, so most second changes are not in any cache.
            picked.string_array_value.data.append(type_options[index % len(type_options)])
            changes = ([children], [children, picked])
            for step, states in enumerate(changes, start=1):
                started, run = await _run(ws, visitor, query, states, timeout=timeout)
                visitor.errors.extend(run.errors)
                if run.map_at is None:
                    visitor.errors.append(f"filter change {step} sent no map")
                    continue
                visitor.filter_s.append(run.map_at - started)
                if map_reports:
                    await _report_view(ws, visitor, query, _fitted(step), timeout=timeout)
    except Exception as e:  # a lost connection or a missing widget is this visitor's error
        visitor.errors.append(f"{type(e).__name__}: {e}")
    return visitor


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 3)


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def burst(url: str, n: int, *, timeout: float, map_reports: bool) -> list[Visitor]:
    """Start ``n`` visitors at once and wait for all of them."""
    return list(
        await asyncio.gather(
            *(visit(url, index=i, timeout=timeout, map_reports=map_reports) for i in range(n))
        )
    )


def measure(
    store: Path, *, visitors: list[int], timeout: float, map_reports: bool
) -> list[dict[str, object]]:
    """Serve the app on ``store``; warm it with one visitor; time a burst of each size."""
    port = _server.free_port()
    server = _server.start("app.py", store, port=port)
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    lines: list[dict[str, object]] = []
    try:
        process = psutil.Process(server.pid)
        print(f"{store.name}: warm-up visitor (loads the release)", file=sys.stderr)
        warm = asyncio.run(burst(url, 1, timeout=max(timeout, 600), map_reports=map_reports))
        for n in visitors:
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_s(process)
            start = time.perf_counter()
            done = asyncio.run(burst(url, n, timeout=timeout, map_reports=map_reports))
            wall = time.perf_counter() - start
            cpu = _cpu_s(process) - cpu_before
            opens = [v.open_s for v in done if v.open_s is not None]
            filters = [s for v in done for s in v.filter_s]
            errors = [e for v in done for e in v.errors]
            line: dict[str, object] = {
                "benchmark": "load",
                "store": store.name,
                "visitors": n,
                "map_reports": map_reports,
                "cpu_s_per_visitor": round(cpu / n, 3),
                "cpu_s": round(cpu, 2),
                "open_to_map_p50_s": _quantile(opens, 0.5),
                "open_to_map_p95_s": _quantile(opens, 0.95),
                "filter_to_map_p50_s": _quantile(filters, 0.5),
                "filter_to_map_p95_s": _quantile(filters, 0.95),
                "maps_opened": len(opens),
                "filter_maps": len(filters),
                "errors": len(errors),
                "error_examples": sorted(set(errors))[:3],
                "wall_s": round(wall, 2),
                "rss_mb": round(process.memory_info().rss / 2**20, 1),
                "peak_rss_mb": _server.peak_rss_mb(server.pid),
                "warm_up_errors": sum(len(v.errors) for v in warm),
                "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            }
            print(json.dumps(line), flush=True)
            lines.append(line)
    finally:
        _server.stop(server)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Serve the app on each store, send bursts of visitors, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", nargs="*", default=[], help="incident stores")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="synthetic stores")
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--timeout", type=float, default=300, help="seconds a run may take")
    parser.add_argument(
        "--no-map-reports",
        action="store_true",
        help="do not send the map's view reports (the runs a browser's map asks for)",
    )
    args = parser.parse_args(argv)
    stores = [Path(s) for s in args.store]
    if args.sizes:
        from generate import ensure_store

        stores += [ensure_store(n) for n in args.sizes]
    for store in stores or [Path("data/incidents.gpkg")]:
        measure(
            store, visitors=args.visitors, timeout=args.timeout, map_reports=not args.no_map_reports
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
