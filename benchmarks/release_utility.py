"""How much detail the public release keeps: local against global recoding, sample and 100k.

For each store and recoding, prints one JSON line: the share of incidents shown at each level of
place and date, the suppressed share, the detail score (:func:`riskmap.release.public.detail`)
and the build time (median of ``--repeat`` runs). Run ``python benchmarks/release_utility.py``
(``make bench-release``); the figures in ``benchmarks/RESULTS.md`` come from it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_store  # noqa: E402

from riskmap.geo.gazetteer import load_places  # noqa: E402
from riskmap.release.public import build_release  # noqa: E402
from riskmap.sample import generate  # noqa: E402
from riskmap.settings import Settings  # noqa: E402
from riskmap.store import read_incidents  # noqa: E402


def measure(name: str, incidents, *, places, recoding: str, repeat: int) -> dict[str, object]:
    """Build the release ``repeat`` times; return its level shares and the median time."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        release = build_release(
            incidents, places=places, settings=Settings(), key=b"bench", recoding=recoding
        )
        times.append(time.perf_counter() - start)
    report = release.report
    n = int(report["incidents"])  # type: ignore[call-overload]
    levels = report["levels"]
    assert isinstance(levels, dict)
    return {
        "store": name,
        "recoding": recoding,
        "incidents": n,
        "suppressed_share": round(int(report["suppressed"]) / n, 4),  # type: ignore[call-overload]
        "place": {k: round(v / n, 3) for k, v in levels["location"].items()},
        "date": {k: round(v / n, 3) for k, v in levels["date"].items()},
        "detail": report["detail"],
        "median_s": round(statistics.median(times), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    places = load_places()
    stores = [("sample", generate(places=places))]
    stores += [(f"{n}", read_incidents(ensure_store(n))) for n in args.sizes]
    for name, incidents in stores:
        for recoding in ("local", "global"):
            repeat = 1 if recoding == "global" else args.repeat
            row = measure(name, incidents, places=places, recoding=recoding, repeat=repeat)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
