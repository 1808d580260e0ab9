"""Privacy primitives: keyed pseudonyms, the key of the store read, H3 cells, count formatting."""

import hashlib

import h3
import numpy as np
import pandas as pd
import pytest

from riskmap.release.privacy import (
    cell_centres,
    format_count,
    pseudonym,
    pseudonym_key,
    pseudonyms,
    restricted_view,
)
from riskmap.settings import Settings


def test_pseudonym_is_keyed_and_stable(tmp_path):
    key = b"k" * 32
    assert pseudonym("SYN-001", key=key) == pseudonym("SYN-001", key=key)
    assert pseudonym("SYN-001", key=key) != pseudonym("SYN-002", key=key)
    assert pseudonym("SYN-001", key=key) != pseudonym("SYN-001", key=b"other")
    # Hashing every guessable id without the key does not find the public id.
    unkeyed = {
        f"inc-{hashlib.sha256(f'SYN-{i:03d}'.encode()).hexdigest()[:12]}" for i in range(1000)
    }
    assert pseudonym("SYN-001", key=key) not in unkeyed
    assert pseudonyms(pd.Series(["SYN-001", "SYN-002"]), key) == [
        pseudonym("SYN-001", key=key),
        pseudonym("SYN-002", key=key),
    ]


def test_the_key_lives_beside_the_store_that_was_read(tmp_path):
    settings = Settings(store=tmp_path / "default.gpkg")
    first = pseudonym_key(settings)
    assert len(first) == 64
    assert (tmp_path / ".riskmap-pseudonym.key").stat().st_mode & 0o077 == 0
    assert pseudonym_key(settings) == first
    # Another store (the CLI's --store) has its own key, found beside it, not the setting's.
    other = tmp_path / "elsewhere"
    other.mkdir()
    theirs = pseudonym_key(settings, store=other / "x.gpkg")
    assert theirs != first
    assert pseudonym_key(Settings(store=other / "x.gpkg")) == theirs
    assert pseudonym_key(Settings(pseudonym_key="configured"), store=other / "x.gpkg") == (
        b"configured"
    )


def test_cell_centres_match_h3():
    lat, lon, cells = cell_centres([25.88, np.nan, 27.5], [-97.5, -99.0, np.nan], 8)
    cell = h3.latlng_to_cell(25.88, -97.5, 8)
    assert cells == [cell, None, None]
    assert (lat[0], lon[0]) == pytest.approx(h3.cell_to_latlng(cell))
    assert np.isnan(lat[1:]).all()


def test_format_count_needs_k():
    assert [format_count(n, k=3) for n in (0, 1, 2, 3, 10)] == ["0", "<3", "<3", "3", "10"]
    assert format_count(1, k=0) == "1"
    with pytest.raises(TypeError):
        format_count(1)  # type: ignore[call-arg]


def test_restricted_view_names_places(sample, places):
    view = restricted_view(sample, places=places)
    assert len(view) == len(sample)
    named = view.dropna(subset=["place_id"])
    assert named["place_name"].notna().all()
    assert "location_text" in view.columns
