"""The Atom feed: valid Atom (feedparser, and RFC 4287's required elements), newest first, by
city, place or type, and no more than the public release says (canaries and a property test)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmap.cli import main
from riskmap.filters import Filters
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.release.public import PERPETRATOR_GROUPS, TYPE_GROUPS
from riskmap.schema import INCIDENT_TYPES
from riskmap.settings import Settings
from riskmap.store import read_incidents, write_incidents
from riskmap.views import feed
from riskmap.views.i18n import label, t

A = "{http://www.w3.org/2005/Atom}"
K = 3
CANARY = "CANARY-93c1"


@pytest.fixture(scope="module")
def busy(tmp_path_factory, places, random_store):
    """A canary store of 300 random incidents (fixed seed) and its public audience."""
    frame = random_store(places, n=300, seed=7)
    store = write_incidents(frame, tmp_path_factory.mktemp("feed") / "incidents.gpkg")
    audience = public_audience(
        read_incidents(store), places=places, settings=Settings(), store=store
    )
    return store, frame, audience


def _check_atom(data: bytes) -> feedparser.FeedParserDict:
    """Parse ``data`` with feedparser and check the elements RFC 4287 requires."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = ET.fromstring(data)
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{A}{tag}")) == 1, tag
    ids = []
    for entry in root.findall(f"{A}entry"):
        for tag in ("id", "title", "updated", "content"):
            assert len(entry.findall(f"{A}{tag}")) == 1, tag
        ids.append(entry.findtext(f"{A}id"))
    assert len(ids) == len(set(ids))  # an id names one entry
    return parsed


def test_the_cli_feed_is_valid_atom_newest_first(busy, tmp_path, capsys):
    store, _, audience = busy
    out = tmp_path / "feed.xml"
    args = ["feed", "--store", str(store), "--city", "Matamoros", "--lang", "en"]
    args += ["--url", "https://riskmap.example.org/", "--feed-url", "https://h.example/m.xml"]
    assert main([*args, "-o", str(out)]) == 0
    parsed = _check_atom(out.read_bytes())
    rows = feed.select_feed(audience, filters=Filters(cities=("Matamoros",)))
    assert f"({len(parsed.entries)} entries)" in capsys.readouterr().out
    assert len(parsed.entries) == len(rows) == min(feed.DEFAULT_LIMIT, len(rows))
    assert [e.id for e in parsed.entries] == [f"urn:riskmap:incident:{i}" for i in rows.incident_id]
    assert parsed.feed.id == "https://h.example/m.xml"
    assert any(link.rel == "self" for link in parsed.feed.links)
    assert "Matamoros" in parsed.feed.title
    updated = [e.updated_parsed for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    assert all(
        e.link == "https://riskmap.example.org/?city=Matamoros&lang=en" for e in parsed.entries
    )
    assert "SYNTHETIC DATA" in parsed.feed.subtitle


def test_by_place_and_by_type(busy):
    _, _, audience = busy
    table = audience.table
    place = str(table.loc[table["public_location"] == "site", "place_id"].mode().iloc[0])
    at_place = _check_atom(feed.atom_feed(audience, place_ids=[place], lang="es", limit=500))
    expected = table[table["place_id"] == place]
    assert {e.id.rsplit(":", 1)[1] for e in at_place.entries} == set(expected["incident_id"])
    assert len(at_place.entries) >= K
    kidnapping = _check_atom(
        feed.atom_feed(audience, filters=Filters(types=("kidnapping",)), lang="en", limit=500)
    )
    assert kidnapping.entries
    for entry in kidnapping.entries:
        terms = {tag.term for tag in entry.tags}
        # The type, or its group where the release generalised the types.
        assert terms & {"kidnapping", TYPE_GROUPS["kidnapping"]}, terms
    assert feed.select_feed(audience, limit=5).shape[0] == 5


def test_an_entry_says_only_what_its_release_row_shows(busy):
    _, frame, audience = busy
    data = feed.atom_feed(audience, lang="en", limit=1000)
    text = data.decode("utf-8")
    assert CANARY not in text
    assert not [i for i in frame["incident_id"] if f">{i}<" in text or f":{i}<" in text]
    rows = audience.table.set_index("incident_id")
    names = dict(zip(audience.places["place_id"], audience.places["name"], strict=True))
    for entry in ET.fromstring(data).findall(f"{A}entry"):
        row = rows.loc[entry.findtext(f"{A}id").rsplit(":", 1)[1]]
        content = entry.findtext(f"{A}content")
        # Every line is one shown field of the row, in words.
        shown = [] if pd.isna(row["incident_types"]) else str(row["incident_types"]).split("|")
        allowed = {label(v, "en") for v in shown} or {label("unknown", "en")}
        for line in content.splitlines():
            key, _, value = line.partition(": ")
            if key == "Types":
                assert set(value.split(", ")) == allowed
            elif key == "Perpetrator":
                assert value == label(row["perpetrator"], "en")
            elif key == "Place":
                if row["public_location"] == "site":
                    assert value == f"{names[row['place_id']]}, {row['city']}"
                else:
                    assert value in {
                        t("feed_area", "en", city=row["city"]),
                        t("feed_city", "en", city=row["city"]),
                        t("feed_no_place", "en"),
                    }
            elif key == "Date":
                if pd.isna(row["date"]):
                    assert value == t("feed_undated", "en")
                else:
                    assert value[:4] == str(row["date"].year)
            else:
                assert line in {"Involving children", "SYNTHETIC DATA — not real events"}, line
        # No coordinate is written at all.
        assert f"{row['lat']:.4f}" not in content


def test_a_feed_is_public_only(busy, places):
    _, frame, _ = busy
    staff = restricted_audience(frame, places=places, settings=Settings())
    with pytest.raises(ValueError, match="public output"):
        feed.atom_feed(staff)


def test_an_unknown_place_is_one_line(busy, tmp_path, capsys):
    store, _, _ = busy
    code = main(["feed", "--store", str(store), "--place", "nowhere", "-o", str(tmp_path / "f")])
    assert code == 2
    assert "unknown place nowhere" in capsys.readouterr().err


_choice = st.lists(st.sampled_from(INCIDENT_TYPES), max_size=2).map(tuple)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    types=_choice,
    cities=st.lists(st.sampled_from(["Matamoros", "Nuevo Laredo"]), max_size=1).map(tuple),
    perpetrators=st.lists(st.sampled_from(sorted(PERPETRATOR_GROUPS)), max_size=1).map(tuple),
    other=_choice,
)
def test_two_feeds_differ_by_0_or_at_least_k(busy, types, cities, perpetrators, other):
    """A feed is a public selection: alone, and against another feed, 0 or at least k."""
    _, _, audience = busy

    def ids(f: Filters) -> set[str]:
        parsed = feedparser.parse(feed.atom_feed(audience, filters=f, lang="en", limit=10_000))
        assert not parsed.bozo
        return {e.id for e in parsed.entries}

    a = ids(Filters(types=types, cities=cities, perpetrators=perpetrators))
    b = ids(Filters(types=other, cities=cities))
    for n in (len(a), len(b), len(a - b), len(b - a)):
        assert n == 0 or n >= K, n
