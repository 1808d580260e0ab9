"""The geocoder places real descriptions right, and vague ones nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmap.cli import main
from riskmap.errors import SchemaError
from riskmap.geo import geocoder
from riskmap.geo.gazetteer import in_city, load_places
from riskmap.geo.geocoder import (
    GIVEN_RADIUS_M,
    RESULT_COLUMNS,
    GeocodeResult,
    geocode,
    geocode_frame,
    normalize,
)
from riskmap.schema import GEO_PRECISIONS

CASES_FILE = Path(__file__).parent / "data" / "geocode_cases.csv"
CASES = pd.read_csv(CASES_FILE, dtype=str, keep_default_na=False)
_PLACES = load_places().set_index("place_id")
#: The columns a user's gazetteer file must have (name_es, site_group, beside may be left out).
USER_HEADER = "place_id,name,aliases,place_type,city,lat,lon,source,confidence,notes"


def _case_id(row: pd.Series) -> str:
    return f"{row['text'][:40]!r}/{row['city'] or '-'}"


# --- the table of descriptions ---------------------------------------------------------------


def test_case_table_is_big_and_varied():
    assert len(CASES) >= 60
    kinds = CASES["kind"].value_counts()
    for kind in ("spanish", "english", "misspelled", "vague", "unresolvable", "ambiguous"):
        assert kinds.get(kind, 0) >= 3, kind
    assert set(CASES["expected_precision"]) == set(GEO_PRECISIONS)


@pytest.mark.parametrize(
    "case", [row for _, row in CASES.iterrows()], ids=[_case_id(r) for _, r in CASES.iterrows()]
)
def test_description_is_placed_as_expected(case, places):
    result = geocode(case["text"], city=case["city"] or None)
    assert result.geo_precision == case["expected_precision"]
    assert (result.place_id or "") == case["expected_place_id"]
    if case["expected_precision"] == "unresolved":
        assert result.lat is None
        assert result.lon is None
        assert result.geocode_method == "none"
        assert result.geocode_score == 0
    else:
        place = places.set_index("place_id").loc[result.place_id]
        assert place["city"] == case["expected_city"]
        assert result.place_type == place["place_type"]
        if np.isnan(place["lat"]):
            # A place without a sourced point is found, attributed and not pinned.
            assert result.lat is None
            assert result.lon is None
        else:
            assert in_city(result.lat, result.lon, case["expected_city"])
            if result.geo_precision == "site":
                assert (result.lat, result.lon) == (place["lat"], place["lon"])
        assert 0 < result.geocode_score <= 1


def test_table_score_is_at_least_95_percent():
    hits = 0
    for _, case in CASES.iterrows():
        result = geocode(case["text"], city=case["city"] or None)
        hits += (result.place_id or "") == case["expected_place_id"] and (
            result.geo_precision == case["expected_precision"]
        )
    assert hits / len(CASES) >= 0.95


def test_no_confident_site_for_vague_or_unresolvable_text():
    vague = CASES[CASES["kind"].isin({"vague", "unresolvable", "ambiguous"})]
    for text in vague["text"]:
        result = geocode(text)
        assert result.geo_precision in {"unresolved", "city"}, text
    for text in (
        "a hotel near the bridge",
        "on the highway between Reynosa and Matamoros",
        "a house somewhere in Tamaulipas",
        "Puente Nuevo",
        "Puente Viejo",
        "la Casa del Migrante",
        "kilómetro 15 de la carretera a Monterrey",
        "xyzzy plugh",
    ):
        result = geocode(text)
        assert result.geo_precision == "unresolved", text
        assert result.lat is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from([None, "Matamoros", "Nuevo Laredo", "Tamaulipas"]))
def test_any_text_gives_a_well_formed_result(text, city):
    result = geocode(text, city=city)
    assert result.geo_precision in GEO_PRECISIONS
    assert 0 <= result.geocode_score <= 1
    assert (result.lat is None) == (result.lon is None)
    if result.geo_precision == "unresolved":
        assert (result.lat, result.place_id) == (None, None)
    elif result.lat is None:
        # Only a place without a point of its own comes back without coordinates.
        assert np.isnan(_PLACES.at[result.place_id, "lat"])
    assert (result.geocode_method == "none") == (result.geo_precision == "unresolved")


def test_a_long_paragraph_is_geocoded():
    # Speed is measured by the benchmarks, not asserted here.
    filler = "the family waited for many days and nights without news " * 200
    result = geocode(filler + " at Casa Nazareth")
    assert result.place_id == "nld_casa_nazareth"


# --- disambiguation by city ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "city", "expected"),
    [
        ("Puente Nuevo", "Matamoros", "mat_gateway_bridge"),
        ("Puente Nuevo", "Nuevo Laredo", "nld_bridge_2"),
        ("Puente Viejo", "Matamoros", "mat_bm_bridge"),
        ("Puente Viejo", "Nuevo Laredo", "nld_bridge_1"),
        ("Puente Nuevo", "Brownsville", "mat_gateway_bridge"),
        ("Puente Viejo", "Laredo", "nld_bridge_1"),
        ("el puente nuevo de Matamoros", None, "mat_gateway_bridge"),
        ("el puente nuevo de Nvo. Laredo", None, "nld_bridge_2"),
        ("el puente viejo, H. Matamoros", None, "mat_bm_bridge"),
        ("old bridge in Laredo", None, "nld_bridge_1"),
        ("Puente Nuevo", "Reynosa", "rey_city"),
    ],
)
def test_puente_nuevo_and_viejo_depend_on_the_city(text, city, expected):
    assert geocode(text, city=city).place_id == expected


def test_ambiguous_alias_without_city_is_unresolved():
    for text in ("Puente Nuevo", "puente viejo", "la central de autobuses", "el INM", "centro"):
        assert geocode(text) == geocoder.UNRESOLVED, text


def test_city_named_after_from_is_an_origin_not_the_place():
    result = geocode("llegó de Reynosa y lo secuestraron en la central de autobuses de Matamoros")
    assert result.place_id == "mat_bus_terminal"
    assert geocode("came from Reynosa, robbed at the bus station").geo_precision == "unresolved"
    assert geocode("viene de Reynosa", city="Matamoros").place_id == "mat_city"
    # A street named after a city is no city.
    assert geocode("calle Matamoros", city="Nuevo Laredo").place_id == "nld_city"


def test_near_a_site_is_neighbourhood_precision():
    at = geocode("en la central de autobuses", city="Matamoros")
    near = geocode("cerca de la central de autobuses", city="Matamoros")
    assert (at.place_id, at.geo_precision) == ("mat_bus_terminal", "site")
    assert (near.place_id, near.geo_precision) == ("mat_bus_terminal", "neighborhood")
    assert near.geocode_score < at.geocode_score


def test_site_at_a_bridge_is_the_site_not_the_bridge():
    # The camp has no point: the gazetteer puts it beside the Gateway bridge.
    camp = geocode("the camp at the foot of the Gateway bridge")
    assert (camp.place_id, camp.geo_precision, camp.lat) == ("mat_camp", "site", None)
    # The INM post is one site with Puente II, at its point.
    inm = geocode("INM, Puente Internacional 2")
    assert (inm.place_id, inm.lat) == ("nld_inm_office", _PLACES.at["nld_bridge_2", "lat"])
    assert geocode("estación migratoria, puente viejo", city="Matamoros").place_id == (
        "mat_inm_detention"
    )
    # Two sites far apart, or a place without a point that no row puts beside the bridge:
    # the row only tells the city.
    both = geocode("walked from the bus station to the B&M bridge", city="Matamoros")
    assert (both.place_id, both.geo_precision) == ("mat_city", "city")
    camp_elsewhere = geocode("the camp by the B&M bridge")
    assert (camp_elsewhere.place_id, camp_elsewhere.geo_precision) == ("mat_city", "city")


def test_a_place_without_a_point_is_found_but_not_pinned():
    result = geocode("afuera de la central camionera", city="Nuevo Laredo")
    assert (result.place_id, result.place_type) == ("nld_bus_terminal", "bus_terminal")
    assert (result.geo_precision, result.geocode_method) == ("site", "exact")
    assert (result.lat, result.lon) == (None, None)
    near = geocode("cerca de la central camionera", city="Nuevo Laredo")
    assert (near.place_id, near.geo_precision, near.lat) == (
        "nld_bus_terminal",
        "neighborhood",
        None,
    )
    hood = geocode("en el centro", city="Nuevo Laredo")
    assert (hood.place_id, hood.geo_precision, hood.lat) == ("nld_centro", "neighborhood", None)
    frame = geocode_frame(
        pd.DataFrame({"location_text": ["la central camionera"], "city": ["Nuevo Laredo"]})
    )
    assert frame.at[0, "place_id"] == "nld_bus_terminal"
    assert frame.at[0, "geo_precision"] == "site"
    assert np.isnan(frame.at[0, "lat"])
    assert np.isnan(frame.at[0, "lon"])


def test_scores_and_methods():
    exact = geocode("Juárez-Lincoln International Bridge")
    fuzzy = geocode("Juares Lincon")
    city = geocode("una casa", city="Reynosa")
    assert (exact.geocode_method, exact.geocode_score) == ("exact", 1.0)
    assert fuzzy.geocode_method == "fuzzy"
    assert fuzzy.place_id == exact.place_id
    assert 0.8 <= fuzzy.geocode_score < exact.geocode_score
    assert (city.geocode_method, city.geo_precision, city.place_id) == (
        "city_fallback",
        "city",
        "rey_city",
    )
    assert city.geocode_score <= 0.6


def test_fuzzy_never_confuses_bridge_numbers_or_other_words():
    assert geocode("Puente Internacional 3").place_id == "nld_world_trade_bridge"
    assert geocode("Puente 3", city="Nuevo Laredo").place_id == "nld_world_trade_bridge"
    # "general" is not a misspelling of "gateway".
    assert geocode("Puente Internacional General Ignacio Zaragoza").place_id == (
        "mat_veterans_bridge"
    )
    assert geocode("lo mata", city="Matamoros").place_id == "mat_city"


def test_city_hint_variants_are_understood():
    for hint in ("Nuevo Laredo", "nuevo laredo", "Nvo. Laredo", "NUEVO LAREDO, TAMPS.", "NLD"):
        assert geocode("central camionera", city=hint).place_id == "nld_bus_terminal", hint
    assert geocode("central camionera", city="Monterrey") == geocoder.UNRESOLVED


def test_result_is_frozen():
    result = geocode("Casa Nazareth")
    assert isinstance(result, GeocodeResult)
    with pytest.raises(AttributeError):
        result.lat = 0.0  # type: ignore[misc]


def test_user_places_are_matched(tmp_path: Path):
    extra = tmp_path / "mine.csv"
    extra.write_text(
        USER_HEADER + "\n"
        "mat_albergue_x,Albergue Xochitl,Casa Xochitl|Xochitl shelter,shelter,Matamoros,"
        "25.8612,-97.5011,field visit 2024,medium,\n",
        encoding="utf-8",
    )
    places = load_places(extra)
    result = geocode("afuera de la Casa Xochitl", places=places)
    assert (result.place_id, result.lat, result.lon) == ("mat_albergue_x", 25.8612, -97.5011)
    assert geocode("afuera de la Casa Xochitl").place_id is None


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pte. Int'l Nvo. Laredo", "puente internacional nuevo laredo"),
        ("Cd. Reynosa, Tamps.", "ciudad reynosa tamaulipas"),
        ("PUENTE INTERNACIONAL II", "puente internacional 2"),
        ("Bridge No. 2", "puente 2"),
        ("Puente Internacional Número Uno", "puente internacional 1"),
        ("el Puente de los Tomates", "puente tomates"),
        ("B&M Bridge", "b m puente"),
        ("Juárez–Lincoln", "juarez lincoln"),
        ("  Plaza   Hidalgo!!  ", "plaza hidalgo"),
        ("viene de Reynosa", "viene desde reynosa"),
        (None, ""),
        (float("nan"), ""),
        ("", ""),
    ],
)
def test_normalize_examples(text, expected):
    assert normalize(text) == expected


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["puente", "no", "ii", "i", "uno", "de", "del", "viene", "Nvo.", "Int'l", "la", "2"]
            + ["bridge", "número", "dos", "three", "llegó", "Cd.", "&", "-", "Tamps"]
        ),
        max_size=12,
    )
)
def test_normalize_is_idempotent_on_tricky_words(words):
    once = normalize(" ".join(words))
    assert normalize(once) == once


# --- tables ----------------------------------------------------------------------------------


def test_geocode_frame_keeps_rows_order_and_columns():
    frame = pd.DataFrame(
        {
            "incident_id": ["a", "b", "c", "d", "e"],
            "location_text": ["Puente Nuevo", "Puente Nuevo", None, "Casa Nazareth", "xyzzy"],
            "city": ["Matamoros", "Nuevo Laredo", "Reynosa", None, None],
        },
        index=[10, 11, 12, 13, 14],
    )
    out = geocode_frame(frame)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out.columns[:3]) == ["incident_id", "location_text", "city"]
    assert set(RESULT_COLUMNS) <= set(out.columns)
    assert list(out["place_id"].astype(object).where(out["place_id"].notna(), None)) == [
        "mat_gateway_bridge",
        "nld_bridge_2",
        "rey_city",
        "nld_casa_nazareth",
        None,
    ]
    assert list(out["geo_precision"]) == ["site", "site", "city", "site", "unresolved"]
    assert list(out["geocode_method"]) == ["exact", "exact", "city_fallback", "exact", "none"]
    assert out["lat"].dtype == "float64"
    assert np.isnan(out.at[14, "lat"])
    assert "place_id" not in frame.columns  # the input is untouched


def test_given_coordinates_are_kept_and_get_the_nearest_site():
    frame = pd.DataFrame(
        {
            "location_text": ["somewhere", "Casa Nazareth", "x", "y", "Casa Nazareth"],
            # On the B&M bridge; 1 km from any site; invalid; (0, 0); none.
            "lat": ["25.8920", "25.9100", "north", "0", None],
            "lon": ["-97.5045", "-97.4000", "-97.5", "0", None],
            "geo_precision": [None, "neighborhood", None, None, None],
            "place_id": [None, "mat_colonia_x", None, None, None],
        }
    )
    out = geocode_frame(frame)
    assert list(out["geocode_method"]) == ["given", "given", "none", "none", "exact"]
    assert out.at[0, "place_id"] == "mat_bm_bridge"
    assert out.at[0, "geo_precision"] == "site"
    assert (out.at[0, "lat"], out.at[0, "lon"]) == (25.892, -97.5045)
    assert out.at[1, "place_id"] == "mat_colonia_x"
    assert out.at[1, "geo_precision"] == "neighborhood"
    assert out.at[4, "place_id"] == "nld_casa_nazareth"
    assert GIVEN_RADIUS_M == 150


def test_given_coordinates_on_colocated_places_prefer_the_sourced_one(places):
    gateway = places.set_index("place_id").loc["mat_gateway_bridge"]
    out = geocode_frame(pd.DataFrame({"lat": [gateway["lat"]], "lon": [gateway["lon"]]}))
    # The INM post is one site with the bridge, at its point; the bridge is sourced.
    assert out.at[0, "place_id"] == "mat_gateway_bridge"


def test_given_coordinates_never_snap_to_a_place_without_a_point(places):
    # The Matamoros terminal and shelters have no point: a coordinate on the old city point
    # is the city's, not theirs, and a site is taken only within the radius.
    city = places.set_index("place_id").loc["mat_city"]
    out = geocode_frame(pd.DataFrame({"lat": [city["lat"]], "lon": [city["lon"]]}))
    assert out.at[0, "place_id"] not in set(places.loc[places["lat"].isna(), "place_id"])
    assert out.at[0, "geo_precision"] == "site"  # the cathedral plaza, 80 m away
    assert out.at[0, "place_id"] == "mat_plaza_hidalgo"


def test_geocode_frame_needs_a_text_column():
    with pytest.raises(SchemaError, match="'where'"):
        geocode_frame(pd.DataFrame({"x": [1]}), text_column="where")
    empty = geocode_frame(pd.DataFrame({"location_text": pd.Series([], dtype=object)}))
    assert empty.empty
    assert set(RESULT_COLUMNS) <= set(empty.columns)


def test_geocode_frame_geocodes_each_distinct_pair_once(monkeypatch):
    calls: list[str] = []
    real = geocoder._geocode_words

    def counting(index, text, city):
        calls.append(text)
        return real(index, text, city)

    geocoder._geocode_cached.cache_clear()
    monkeypatch.setattr(geocoder, "_geocode_words", counting)
    rng = np.random.default_rng(42)
    texts = [f"casa {i} cerca de la central de autobuses" for i in range(300)] + ["Puente Nuevo"]
    frame = pd.DataFrame(
        {
            "location_text": rng.choice(texts, size=100_000),
            "city": rng.choice(["Matamoros", "Nuevo Laredo", ""], size=100_000),
        }
    )
    out = geocode_frame(frame)
    pairs = frame.drop_duplicates()
    # Each distinct (text, city) is geocoded once: the cost follows the distinct texts.
    assert len(calls) == len(pairs)
    assert len(out) == 100_000
    nuevo = out[(frame["location_text"] == "Puente Nuevo") & (frame["city"] == "Matamoros")]
    assert set(nuevo["place_id"]) == {"mat_gateway_bridge"}
    geocoder._geocode_cached.cache_clear()


# --- command line ----------------------------------------------------------------------------


def test_cli_geocode_writes_every_row_and_a_summary(tmp_path: Path, capsys):
    source = tmp_path / "in.csv"
    pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "donde": [
                "Puente Nuevo",
                "somewhere in Tamaulipas",
                "Casa AMAR",
                "somewhere in Tamaulipas",
            ],
            "ciudad": ["Matamoros", "", "", ""],
        }
    ).to_csv(source, index=False)
    target = tmp_path / "out.csv"
    code = main(
        [
            "geocode",
            str(source),
            "-o",
            str(target),
            "--text-column",
            "donde",
            "--city-column",
            "ciudad",
        ]
    )
    assert code == 0
    out = pd.read_csv(target, keep_default_na=False)
    assert list(out["id"]) == [1, 2, 3, 4]
    assert list(out["place_id"]) == ["mat_gateway_bridge", "", "nld_casa_amar", ""]
    assert set(RESULT_COLUMNS) <= set(out.columns)
    printed = capsys.readouterr().out
    assert "site" in printed
    assert "unresolved" in printed
    assert "2  'somewhere in Tamaulipas'" in printed


def test_cli_geocode_errors(tmp_path: Path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("location_text\nPuente Nuevo\n")
    target = tmp_path / "out.csv"
    assert main(["geocode", str(tmp_path / "nope.csv"), "-o", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["geocode", str(source), "-o", str(target), "--text-column", "lugar"]) == 2
    assert "--text-column" in capsys.readouterr().err
    assert main(["geocode", str(source), "-o", str(target), "--city-column", "ciudad"]) == 2
    assert "'ciudad'" in capsys.readouterr().err
    bad = tmp_path / "bad_places.csv"
    bad.write_text(USER_HEADER + "\nmat_x,X,,hotel,Matamoros,25.8,-97.5,s,medium,\n")
    assert main(["geocode", str(source), "-o", str(target), "--places", str(bad)]) == 2
    assert "column place_type" in capsys.readouterr().err
    assert not target.exists()


def test_cli_places_lists_the_gazetteer(capsys, places):
    assert main(["places"]) == 0
    listed = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(listed["place_id"]) == list(places["place_id"])
    assert "confidence" in listed.columns
    assert main(["places", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["place_id"]: r["confidence"] for r in records}["mat_camp"] == "approximate"


@pytest.mark.parametrize(
    ("text", "city", "expected"),
    [
        ("Laredo bus station", None, "lar_city"),
        ("bus station in Laredo, Texas", None, "lar_city"),
        ("bus station", "Brownsville", "bro_city"),
    ],
)
def test_a_generic_place_in_a_us_city_is_not_the_mexican_one(text, city, expected):
    # Found in a blind evaluation: the Mexican terminal across the river was returned as a site.
    result = geocode(text, city=city)
    assert result.place_id == expected
    assert result.geo_precision == "city"


def test_blind_set_scores_at_least_95_percent_and_never_a_wrong_site(places):
    """50 descriptions written by a reviewer who saw only place names, never the aliases or the
    code (scored 50/50 when written). Kept as a regression set."""
    import math

    cases = pd.read_csv(Path(__file__).parent / "data" / "geocode_blind.csv", dtype=str)
    by_id = places.set_index("place_id")
    right = wrong_sites = 0
    for case in cases.itertuples(index=False):
        hint = case.city_hint if isinstance(case.city_hint, str) and case.city_hint else None
        got = geocode(case.text, city=hint, places=places)
        if case.expected_precision == "unresolved":
            ok = got.geo_precision in {"city", "unresolved"}
        elif case.expected_precision == "city":
            ok = got.geo_precision == "city" and got.place_id == case.expected_place_id
        else:
            want = by_id.loc[case.expected_place_id]
            near = (
                got.lat is not None
                and not math.isnan(got.lat)
                and (
                    abs(got.lat - want["lat"]) * 111_000 < 500
                    and abs(got.lon - want["lon"]) * 100_000 < 500
                )
            )
            ok = got.place_id == case.expected_place_id or (near and got.geo_precision == "site")
        right += ok
        wrong_sites += (not ok) and got.geo_precision == "site"
    assert right / len(cases) >= 0.95, right
    assert wrong_sites == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "terminal", "Terminal ", "puente", "ñ"]),
            st.sampled_from(["", "Matamoros", "Nuevo Laredo"]),
        ),
        max_size=40,
    )
)
def test_distinct_text_and_city_pairs_are_coded_as_a_multiindex_codes_them(rows):
    texts = np.array([t for t, _ in rows], dtype=object)
    hints = np.array([h for _, h in rows], dtype=object)
    codes, uniques = pd.MultiIndex.from_arrays([texts, hints]).factorize()
    got_codes, got_uniques = geocoder._pairs(texts, hints)
    np.testing.assert_array_equal(got_codes, codes)
    assert got_uniques == list(uniques)
