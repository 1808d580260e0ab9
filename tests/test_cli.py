import json
import subprocess
import sys

import pytest

from riskmap import __version__
from riskmap.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "sample" in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "riskmap.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: riskmap" in out.stdout


def test_sample_subcommand_writes_the_csv(tmp_path, capsys):
    target = tmp_path / "s.csv"
    assert main(["sample", "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("incident_id,date,")
    assert text.count("\n") == 47  # header + 46 incidents
    assert "SYNTHETIC" in text


def test_user_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "places.csv"
    bad.write_text("not,a,gazetteer\n1,2,3\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "riskmap.cli", "sample", "-o", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        env={"RISKMAP_PLACES": str(bad), "PATH": ""},
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert str(bad) in out.stderr or "places.csv" in out.stderr


def _store_release(store):
    """The public release of ``store``, built as the commands build it."""
    from riskmap.geo.gazetteer import load_places
    from riskmap.release.audience import public_audience
    from riskmap.settings import Settings
    from riskmap.store import read_incidents

    return public_audience(
        read_incidents(store), places=load_places(), settings=Settings(), store=store
    )


def test_release_report_says_what_the_release_keeps(sample_store, capsys):
    from riskmap.views.export import release_summary

    assert main(["release-report", "--store", str(sample_store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == release_summary(_store_release(sample_store).report)
    assert "generated_at" not in report
    assert set(report) >= {
        "k", "levels", "suppressed", "released", "incidents", "detail", "data_through"
    }  # fmt: skip
    assert report["k"] == 3
    assert report["released"] + report["suppressed"] == report["incidents"] == 46
    for attribute, counts in report["levels"].items():
        assert sum(counts.values()) == report["released"], attribute

    assert main(["release-report", "--store", str(sample_store)]) == 0
    text = capsys.readouterr().out
    assert "Public release: k = 3" in text
    assert report["suppressed"] == 0
    assert f"All {report['incidents']} incidents are in the public release." in text
    assert f"Detail kept: {report['detail']:.0%}" in text
    assert f"Data through {report['data_through']}." in text
    assert "**" not in text  # plain text on a terminal, not Markdown
    for name in ("Place", "Date", "Incident types", "Perpetrator", "Children affected"):
        assert f"- {name}: " in text, name

    assert main(["release-report", "--store", str(sample_store), "--lang", "es"]) == 0
    spanish = capsys.readouterr().out
    assert "Publicación pública: k = 3" in spanish
    assert f"Los {report['incidents']} incidentes están en la publicación pública." in spanish
    assert "- Lugar: " in spanish


def test_release_report_reads_the_store_it_is_given(sample, tmp_path, capsys):
    from riskmap.store import write_incidents

    small = write_incidents(sample.head(5), tmp_path / "small.gpkg")
    assert main(["release-report", "--store", str(small), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["incidents"] == 5
    assert report["suppressed"] == _store_release(small).release.suppressed > 0
    assert main(["release-report", "--store", str(small)]) == 0
    text = capsys.readouterr().out
    assert f"{report['released']} of 5 incidents are in the public release; " in text
    assert f"{report['suppressed']} are not" in text
    assert main(["release-report", "--store", str(tmp_path / "missing.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "no incident store" in err
    assert len(err.strip().splitlines()) == 1


def test_public_commands_keep_the_release_beside_the_store(sample, tmp_path, capsys):
    from riskmap.release import cache
    from riskmap.store import write_incidents

    store = write_incidents(sample.head(12), tmp_path / "kept.gpkg")
    assert not any(p.exists() for p in cache.cache_paths(store))
    assert main(["release-report", "--store", str(store), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    # Built once and kept: the next public command loads it instead of building it again.
    assert all(p.exists() for p in cache.cache_paths(store))
    kept = [p.stat().st_mtime_ns for p in cache.cache_paths(store)]
    out = tmp_path / "public.csv"
    assert main(["export", "-o", str(out), "--store", str(store)]) == 0
    capsys.readouterr()
    assert [p.stat().st_mtime_ns for p in cache.cache_paths(store)] == kept
    assert (
        json.loads(out.with_name("public.manifest.json").read_text())["rows"] == first["released"]
    )
    # A changed store is built again, never served from the old release.
    write_incidents(sample.head(20), store)
    assert main(["release-report", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["incidents"] == 20
