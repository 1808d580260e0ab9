"""The PostGIS store's own schema: constraints in the form the server checks cheaply."""

from __future__ import annotations

import random

import pandas as pd
import psycopg
import pytest

from riskmap.errors import StoreError
from riskmap.schema import INCIDENT_TYPES, conform
from riskmap.store import open_store
from riskmap.store.postgis import TABLE, schema_sql, types_check

_ONE = "(" + "|".join(INCIDENT_TYPES) + ")"
#: The check of ``incident_types`` before it became an array containment.
OLD_TYPES_CHECK = f"incident_types ~ '^{_ONE}(\\|{_ONE})*$'"


def _candidates() -> list[str | None]:
    """Return type values near the edge: separators, case, spaces, prefixes, a fixed seed."""
    parts = [*INCIDENT_TYPES, "", "|", "||", " ", "\n", "Robbery", "robber", "robberyx", "é", "{"]
    values: set[str] = set(parts)
    for a in parts:
        for b in parts:
            values |= {a + b, f"{a}|{b}"}
    rng = random.Random(42)
    for _ in range(3000):
        k = rng.randint(1, 5)
        values.add("|".join(rng.choice(INCIDENT_TYPES) for _ in range(k)))
        values.add("".join(rng.choice(parts) for _ in range(k)))
    return [*sorted(values), None]


def test_the_types_check_accepts_exactly_what_the_pattern_accepted(postgis_url):
    values = _candidates()
    with psycopg.connect(postgis_url) as con:
        con.execute("CREATE TEMP TABLE candidates (incident_types text)")
        with con.cursor() as cur, cur.copy("COPY candidates FROM STDIN") as copy:
            for value in values:
                copy.write_row((value,))
        differ, accepted = con.execute(
            f"SELECT count(*) FILTER (WHERE ({OLD_TYPES_CHECK}) IS DISTINCT FROM "
            f"({types_check()})), count(*) FILTER (WHERE {types_check()}) FROM candidates"
        ).fetchone()
    assert differ == 0
    assert 0 < accepted < len(values)


def _constraint(url: str) -> str:
    with psycopg.connect(url) as con:
        (definition,) = con.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            (f"{TABLE}_incident_types_check",),
        ).fetchone()
    return str(definition)


def test_a_table_with_the_old_types_pattern_is_upgraded_when_opened(postgis_url):
    name = f"{TABLE}_incident_types_check"
    with psycopg.connect(postgis_url) as con:
        for statement in schema_sql():
            con.execute(statement)
        con.execute(f"ALTER TABLE {TABLE} ADD COLUMN status text NOT NULL")
        con.execute(
            f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}, "
            f"ADD CONSTRAINT {name} CHECK ({OLD_TYPES_CHECK})"
        )
    assert "~" in _constraint(postgis_url)

    store = open_store(postgis_url)
    assert store.count() == 0
    store.read()  # opening the store upgrades the table
    assert "~" not in _constraint(postgis_url)
    assert "string_to_array" in _constraint(postgis_url)

    row = conform(
        pd.DataFrame(
            {"incident_id": ["P-1"], "date": ["2021-03-04"], "incident_types": ["robbery||threat"]}
        )
    )
    with pytest.raises(StoreError, match="incident_types"), store.writer() as writer:
        writer.append(row)
    assert store.count() == 0
