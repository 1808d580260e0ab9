"""The audience: chosen by the front end, explicit, the only way to a table of rows."""

import pandas as pd
import pytest

from riskmap.filters import Filters
from riskmap.release.audience import Audience, public_audience, restricted_audience
from riskmap.release.privacy import pseudonym, pseudonym_key
from riskmap.release.public import ROW_COLUMNS
from riskmap.schema import PUBLIC_SITE_TYPES, SITE_TYPES
from riskmap.settings import Settings


def test_public_audience_sees_the_release(sample, places, tmp_path):
    settings = Settings(store=tmp_path / "a.gpkg")
    audience = public_audience(sample, places=places, settings=settings)
    assert audience.public
    assert audience.kind == "public"
    assert audience.k == 3
    assert audience.site_types == PUBLIC_SITE_TYPES
    rows = audience.rows(audience.select(Filters(cities=("Matamoros",))))
    assert list(rows.columns) == list(ROW_COLUMNS)
    assert isinstance(rows.index, pd.RangeIndex)
    assert audience.report["k"] == 3
    assert audience.format_count(2) == "<3"
    assert audience.synthetic


def test_restricted_audience_sees_every_column(sample, places):
    audience = restricted_audience(sample, places=places, settings=Settings())
    assert audience.k == 0
    assert audience.site_types == SITE_TYPES
    rows = audience.rows(audience.select(Filters()))
    assert {"location_text", "notes", "source"} <= set(rows.columns)
    assert audience.format_count(1) == "1"


def test_there_is_no_default_audience(sample, places):
    with pytest.raises(TypeError):
        Audience(table=sample, places=places, settings=Settings())  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="needs the public release"):
        Audience("public", sample, places, Settings())
    with pytest.raises(ValueError, match="unknown audience"):
        Audience("everyone", sample, places, Settings())


def test_public_ids_use_the_key_of_the_store_read(sample, places, tmp_path):
    # Finding 8: the CLI found its key from RISKMAP_STORE, not from the store it read.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    settings = Settings(store=tmp_path / "a" / "incidents.gpkg")
    other = tmp_path / "b" / "incidents.gpkg"
    audience = public_audience(sample, places=places, settings=settings, store=other)
    key = pseudonym_key(Settings(store=other))
    expected = {pseudonym(i, key=key) for i in sample["incident_id"]}
    assert set(audience.table["incident_id"]) == expected
    default = public_audience(sample, places=places, settings=settings)
    assert not set(default.table["incident_id"]) & expected


def test_staff_views_leave_out_what_the_review_took_out(sample, places):
    statuses = ["published", "in_review", "draft", "rejected", "retracted"]
    store = sample.assign(status=[statuses[i % 5] for i in range(len(sample))])
    audience = restricted_audience(store, places=places, settings=Settings())
    kept = store.loc[~store["status"].isin(["rejected", "retracted"]), "incident_id"]
    assert sorted(audience.table["incident_id"]) == sorted(kept)
    assert len(kept) < len(sample)
