"""riskmap works installed outside the checkout: the shipped data come with the package.

The package is built by pip from a copy of the sources and installed into a temporary folder
(``pip install --target``; its dependencies are the dev environment's). Every command then runs
in a subprocess from another folder with only that folder on ``PYTHONPATH``, so nothing can be
read from the checkout.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("DATA_DICTIONARY.md", "gazetteer.csv", "published_figures.csv", "sample_incidents.csv")
TIMEOUT = 300

# Runs the dashboard with Streamlit's AppTest, then reports what it showed and where every
# riskmap module it imported came from.
APP_DRIVER = """
import json
import sys

from streamlit.testing.v1 import AppTest

at = AppTest.from_file(sys.argv[1], default_timeout=60)
at.query_params["lang"] = "en"
at.run()
from riskmap.settings import DATA_DIR

print(json.dumps({
    "exceptions": [e.message for e in at.exception],
    "errors": [e.value for e in at.error],
    "metrics": {m.label: m.value for m in at.metric},
    "warnings": [w.value for w in at.warning],
    "modules": sorted(
        m.__file__ for name, m in sys.modules.items()
        if name.split(".")[0] == "riskmap" and getattr(m, "__file__", None)
    ),
    "data_dir": str(DATA_DIR),
}))
"""

WHERE = "import riskmap, riskmap.settings as s; print(riskmap.__file__); print(s.DATA_DIR)"


def _run(args: list[str], *, cwd: Path, target: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``args`` from ``cwd`` with only ``target`` on the path; fail with its output."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    environ.update(PYTHONPATH=str(target), PYTHONNOUSERSITE="1", **env)
    done = subprocess.run(
        args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build riskmap with pip and install it, without its dependencies, into a fresh folder."""
    # Build from a copy: setuptools writes build/ and *.egg-info into the folder it builds.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "riskmap",
        source / "riskmap",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    folder = tmp_path_factory.mktemp("site-packages")
    # Build isolation on, as `pip install .` does: the build needs a newer setuptools than a
    # dev environment may hold.
    args = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target"]
    _run([*args, str(folder), str(source)], cwd=source, target=folder)
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder with neither the checkout nor its data/ in it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_the_shipped_data_are_installed_with_the_package(target):
    assert sorted(p.name for p in (target / "riskmap" / "data").iterdir()) == sorted(SHIPPED)
    for name in SHIPPED:
        shipped = (target / "riskmap" / "data" / name).read_bytes()
        assert shipped == (ROOT / "riskmap" / "data" / name).read_bytes(), name


def test_the_installed_copy_is_the_one_imported(target, elsewhere):
    out = _run([sys.executable, "-c", WHERE], cwd=elsewhere, target=target).stdout.split()
    assert Path(out[0]).is_relative_to(target / "riskmap"), out
    assert Path(out[1]) == target / "riskmap" / "data"


def test_riskmap_places_lists_the_shipped_gazetteer(target, elsewhere):
    out = _run([str(target / "bin" / "riskmap"), "places"], cwd=elsewhere, target=target).stdout
    listed = [row["place_id"] for row in csv.DictReader(io.StringIO(out))]
    with (ROOT / "riskmap" / "data" / "gazetteer.csv").open(encoding="utf-8", newline="") as f:
        shipped = [row["place_id"] for row in csv.DictReader(f)]
    assert shipped
    assert sorted(listed) == sorted(shipped)


def test_dashboard_runs_on_a_store_built_from_the_packaged_sample(target, elsewhere):
    store = elsewhere / "store" / "incidents.gpkg"
    sample = target / "riskmap" / "data" / "sample_incidents.csv"
    riskmap = str(target / "bin" / "riskmap")
    # Published at once, as `make run` imports the synthetic sample.
    publisher = "sample@riskmap.invalid"
    _run(
        [riskmap, "import", str(sample), "--store", str(store), "--publish", "--as", publisher],
        cwd=elsewhere,
        target=target,
        RISKMAP_PUBLISHERS=publisher,
    )
    assert store.exists()
    # A copy of app.py: Streamlit puts the script's folder first on sys.path, and the checkout
    # holds the source package.
    app = elsewhere / "app.py"
    shutil.copy2(ROOT / "app.py", app)
    driver = elsewhere / "drive_app.py"
    driver.write_text(APP_DRIVER, encoding="utf-8")
    done = _run(
        [sys.executable, str(driver), str(app)],
        cwd=elsewhere,
        target=target,
        RISKMAP_STORE=str(store),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["exceptions"] == []
    assert shown["errors"] == []
    assert shown["modules"]
    assert all(Path(m).is_relative_to(target / "riskmap") for m in shown["modules"]), shown
    assert Path(shown["data_dir"]) == target / "riskmap" / "data"
    assert any("SYNTHETIC DATA" in w for w in shown["warnings"])
    metrics = shown["metrics"]
    # The installed dashboard shows the public release's counts, as the checkout computes them.
    from riskmap.analysis.metrics import headline_counts
    from riskmap.geo.gazetteer import load_places
    from riskmap.release.audience import public_audience
    from riskmap.settings import Settings
    from riskmap.store import read_incidents

    public = public_audience(
        read_incidents(store), places=load_places(), settings=Settings(pseudonym_key="x")
    )
    expected = headline_counts(public.table)
    assert metrics["Incidents"] == str(expected["incidents"]) == "46", metrics
    assert metrics["Kidnappings and attempts"] == str(expected["kidnapping_or_attempt"])
    assert metrics["Incidents with children"] == str(expected["incidents_with_children"])
    assert metrics["Express kidnappings by police"] == str(expected["express_by_police"])
