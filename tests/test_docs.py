"""Documentation tests: every column, setting and subcommand is documented."""

from dataclasses import fields
from pathlib import Path

from riskmap.cli import build_parser
from riskmap.release.privacy import PUBLIC_LOCATIONS
from riskmap.release.public import (
    LEVELS,
    PERPETRATOR_GROUP_NAMES,
    ROW_COLUMNS,
    TYPE_GROUP_NAMES,
)
from riskmap.schema import COLUMNS, INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES
from riskmap.settings import Settings
from riskmap.views.i18n import LANGUAGES, STRINGS, VALUE_LABELS

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY = (ROOT / "riskmap" / "data" / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(heading: str) -> str:
    return DICTIONARY.split(heading, 1)[1].split("\n## ", 1)[0]


def test_every_column_is_in_the_dictionary_in_both_languages():
    for heading in ("## English", "## Español"):
        part = _section(heading)
        for column in [*COLUMNS, *ROW_COLUMNS]:
            assert f"`{column}`" in part, f"{column} missing from {heading}"


#: Values a public row can show beyond the incident model's: type and perpetrator groups, the
#: precision of each generalised column, how the point was obtained.
ROW_VALUES = tuple(
    dict.fromkeys(
        [
            *TYPE_GROUP_NAMES,
            *PERPETRATOR_GROUP_NAMES,
            *LEVELS["date"],
            *LEVELS["types"],
            *LEVELS["perpetrator"],
            *PUBLIC_LOCATIONS,
        ]
    )
)
#: Every level the release report names (About and ``riskmap release-report`` label each one).
REPORT_LEVELS = tuple(dict.fromkeys(level for levels in LEVELS.values() for level in levels))


def test_every_vocabulary_value_is_in_the_dictionary():
    for value in (*INCIDENT_TYPES, *PERPETRATORS, *PLACE_TYPES, *ROW_VALUES):
        assert f"`{value}`" in DICTIONARY, value


def test_every_setting_is_documented_in_the_readme():
    for f in fields(Settings):
        assert f"RISKMAP_{f.name.upper()}" in README, f.name


def test_every_subcommand_is_in_the_readme():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices
    for name in sub.choices:
        assert f"riskmap {name}" in README, name


def test_readme_has_the_two_commands_and_says_the_data_are_synthetic():
    assert "make run" in README
    assert "make test" in README
    assert "synthetic" in README.lower()
    assert "DATA_DICTIONARY.md" in README


def test_every_text_exists_in_both_languages():
    assert set(STRINGS["en"]) == set(STRINGS["es"])
    assert set(VALUE_LABELS["en"]) == set(VALUE_LABELS["es"])
    for lang in LANGUAGES:
        for value in (*INCIDENT_TYPES, *PERPETRATORS, *PLACE_TYPES, *ROW_VALUES, *REPORT_LEVELS):
            assert value in VALUE_LABELS[lang], (lang, value)
