"""The synthetic sample adds up exactly to the published figures, and the committed file is
what the generator writes."""

from pathlib import Path

import pandas as pd

from riskmap.analysis.metrics import headline_counts, load_published
from riskmap.sample import PERIOD_END, PERIOD_START, TARGETS, generate, write_sample
from riskmap.schema import validate

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "riskmap" / "data" / "sample_incidents.csv"


def test_sample_matches_every_published_figure(sample):
    counts = headline_counts(sample)
    published = load_published().set_index("metric")["value"].to_dict()
    assert published  # the file is there and read
    for metric, value in published.items():
        assert counts[metric] == value, metric
    assert counts["kidnapping_or_attempt"] == 32
    assert counts["people_kidnapped"] == 80
    assert counts["people_in_attempts"] == 19
    assert counts["children"] == 38
    assert counts["sexual_assault"] == 4
    assert counts["express_by_police"] == 5


def test_express_kidnappings_by_police_are_counted_among_the_32(sample):
    express = sample[sample["incident_types"].str.contains("express_kidnapping")]
    assert len(express) == TARGETS.express_by_police
    assert set(express["perpetrator"]) == {"police"}
    assert TARGETS.kidnapping_or_attempt == 32


def test_sample_is_valid_synthetic_and_in_period(sample):
    out = validate(sample)
    assert out["synthetic"].all()
    assert out["source"].str.startswith("SYNTHETIC").all()
    assert out["date"].min() >= pd.Timestamp(PERIOD_START)
    assert out["date"].max() <= pd.Timestamp(PERIOD_END)
    assert set(out["city"].dropna()) <= {"Matamoros", "Nuevo Laredo"}
    assert out["incident_id"].is_unique


def test_sample_sits_at_the_kinds_of_places_the_reports_name(sample, places):
    sites = sample[sample["geo_precision"] == "site"]
    assert {"bus_terminal", "immigration_office", "port_of_entry"} <= set(sites["place_type"])
    # A site-precision incident sits exactly at its gazetteer site, or has no point when the
    # site has none (attributed to the place, not pinned).
    merged = sites.merge(places, on="place_id", suffixes=("", "_place"))
    assert len(merged) == len(sites)
    pinned = merged["lat_place"].notna()
    assert pinned.any()
    assert (~pinned).any()
    assert (merged.loc[pinned, "lat"] - merged.loc[pinned, "lat_place"]).abs().max() < 1e-9
    assert (merged.loc[pinned, "lon"] - merged.loc[pinned, "lon_place"]).abs().max() < 1e-9
    assert merged.loc[~pinned, ["lat", "lon"]].isna().all().all()
    assert (merged["place_type"] == merged["place_type_place"]).all()
    # Neighbourhoods without a sourced centre give their incidents no point either.
    hoods = sample[sample["geo_precision"] == "neighborhood"].merge(
        places, on="place_id", suffixes=("", "_place")
    )
    assert hoods.loc[hoods["lat_place"].isna(), "lat"].isna().all()
    # No incident is pinned on a city point unless only its city is known.
    cities = places[places["place_type"] == "city"]
    on_city = sample.merge(cities, on=["lat", "lon"], suffixes=("", "_city"))
    assert set(on_city["geo_precision"]) <= {"city"}
    # Enough precisely placed incidents for the spatial statistics to run on the sample.
    assert sample["geo_precision"].isin(["site", "neighborhood"]).sum() >= 30
    assert (sample["geo_precision"] == "unresolved").sum() >= 1


def test_generator_is_deterministic(places):
    a = generate(seed=2020, places=places)
    b = generate(seed=2020, places=places)
    pd.testing.assert_frame_equal(a, b)
    c = generate(seed=7, places=places)
    assert not a["date"].equals(c["date"])
    assert headline_counts(c)["people_kidnapped"] == 80  # totals hold for any seed


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    fresh = write_sample(tmp_path / "sample.csv", places_file=None)
    assert fresh.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "riskmap/data/sample_incidents.csv is stale: run `make sample` and commit it"
    )


def test_sample_descriptions_geocode_back_to_their_places(sample, places):
    from riskmap.geo.geocoder import geocode_frame

    texts = sample.drop(columns=["lat", "lon", "place_id", "place_type", "geo_precision"])
    found = geocode_frame(texts, places=places)
    assert (found["geo_precision"] == sample["geo_precision"]).all()
    assert (found["place_id"].fillna("") == sample["place_id"].fillna("")).all()
