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
