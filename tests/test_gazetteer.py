"""The shipped gazetteer is sourced and well placed; users' files merge over it by place_id."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmap.errors import GazetteerError
from riskmap.geo.gazetteer import (
    CITY_BOUNDS,
    COLUMNS,
    CONFIDENCES,
    GAZETTEER_FILE,
    METRO_AREAS,
    aliases,
    beside_ids,
    city_point,
    in_city,
    load_places,
    names,
    place_name,
)
from riskmap.geo.geocoder import geocode
from riskmap.schema import CITIES, PLACE_TYPES

CONTRACT_IDS = {
    "mat_gateway_bridge",
    "mat_bm_bridge",
    "mat_veterans_bridge",
    "mat_free_trade_bridge",
    "nld_bridge_1",
    "nld_bridge_2",
    "nld_world_trade_bridge",
    "col_solidarity_bridge",
    "rey_mcallen_bridge",
    "mat_camp",
    "mat_bus_terminal",
    "nld_bus_terminal",
    "mat_inm_office",
    "nld_inm_office",
    "nld_casa_nazareth",
    "nld_casa_amar",
    "mat_casa_migrante_san_juan_diego",
    "mat_plaza_hidalgo",
    "nld_plaza_hidalgo",
    "mat_zona_centro",
    "nld_centro",
    "mat_city",
    "nld_city",
    "rey_city",
    "col_city",
    "bro_city",
    "lar_city",
}
#: Places added for "Places that mean something", from shared/reference/.
NEW_PLACES = {
    "rey_pharr_bridge": ("port_of_entry", "Reynosa"),
    "rey_anzalduas_bridge": ("port_of_entry", "Reynosa"),
    "nld_terminal_estrella_blanca": ("bus_terminal", "Nuevo Laredo"),
    "nld_terminal_omnibus_de_mexico": ("bus_terminal", "Nuevo Laredo"),
    "nld_terminal_senda": ("bus_terminal", "Nuevo Laredo"),
    "nld_casa_nazareth_arteaga": ("shelter", "Nuevo Laredo"),
    "mat_inm_detention": ("immigration_office", "Matamoros"),
    "rey_inm_office": ("immigration_office", "Reynosa"),
    "rey_bus_terminal": ("bus_terminal", "Reynosa"),
    "rey_senda_de_vida": ("shelter", "Reynosa"),
    "rey_senda_de_vida_2": ("shelter", "Reynosa"),
}
PREFIX = {
    "Matamoros": "mat_",
    "Nuevo Laredo": "nld_",
    "Reynosa": "rey_",
    "Colombia": "col_",
    "Brownsville": "bro_",
    "Laredo": "lar_",
}
#: A user's file may leave out name_es, site_group and beside (they take defaults).
HEADER = "place_id,name,aliases,place_type,city,lat,lon,source,confidence,notes\n"
FULL_HEADER = ",".join(COLUMNS) + "\n"


def _raw_rows() -> list[dict[str, str]]:
    # Read the file with the csv module, not load_places, so the checks do not trust the code
    # under test.
    with GAZETTEER_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def _point(row: dict[str, str]) -> tuple[float, float] | None:
    if not row["lat"] and not row["lon"]:
        return None
    return float(row["lat"]), float(row["lon"])


def test_every_row_is_sourced_and_inside_its_city():
    rows = _raw_rows()
    assert len(rows) >= len(CONTRACT_IDS)
    assert list(rows[0]) == list(COLUMNS)
    for row in rows:
        pid = row["place_id"]
        assert row["source"].strip(), pid
        assert row["name_es"].strip(), f"{pid}: every place has its Spanish name"
        assert row["site_group"].strip(), pid
        assert row["confidence"] in CONFIDENCES, pid
        if row["confidence"] == "approximate":
            assert "rule" in row["notes"].lower(), f"{pid}: approximate rows state their rule"
        assert row["city"] in CITIES, pid
        point = _point(row)
        if point is None:
            assert row["confidence"] == "approximate", (
                f"{pid}: only approximate places lack a point"
            )
        else:
            assert CITY_BOUNDS[row["city"]].contains(*point), pid
        assert pid.startswith(PREFIX[row["city"]]), pid
        assert row["place_type"] in PLACE_TYPES, pid


def test_no_two_places_share_a_point_unless_they_are_one_site():
    by_point: dict[tuple[float, float], set[str]] = {}
    for row in _raw_rows():
        point = _point(row)
        if point is not None:
            by_point.setdefault(point, set()).add(row["site_group"])
    stacked = {p: groups for p, groups in by_point.items() if len(groups) > 1}
    assert not stacked, f"points shared by different sites: {stacked}"
    # And the other way round: one site has one point (or none).
    by_group: dict[str, set[tuple[float, float] | None]] = {}
    for row in _raw_rows():
        by_group.setdefault(row["site_group"], set()).add(_point(row))
    assert all(len(points) == 1 for points in by_group.values()), by_group


def test_site_groups_are_bridges_and_their_inm_posts_only():
    rows = {r["place_id"]: r for r in _raw_rows()}
    shared = {pid: r["site_group"] for pid, r in rows.items() if r["site_group"] != pid}
    # Every other place is a site of its own; a shared group is named after a member.
    assert shared == {"mat_inm_office": "mat_gateway_bridge", "nld_inm_office": "nld_bridge_2"}
    for pid, group in shared.items():
        assert rows[group]["site_group"] == group
        assert rows[group]["place_type"] == "port_of_entry"
        assert rows[group]["confidence"] in {"high", "medium"}
        assert _point(rows[pid]) == _point(rows[group])
        assert "repatriation" in rows[pid]["source"], pid


def test_city_points_coincide_with_no_other_place():
    rows = _raw_rows()
    cities = {_point(r): r["place_id"] for r in rows if r["place_type"] == "city"}
    assert None not in cities
    for row in rows:
        if row["place_type"] == "city":
            continue
        assert _point(row) not in cities, f"{row['place_id']} sits on {cities.get(_point(row))}"
    # In particular no shelter, camp or bus terminal stands on a city point.
    kinds = {"shelter", "camp", "bus_terminal"}
    on_city = [r["place_id"] for r in rows if r["place_type"] in kinds and _point(r) in cities]
    assert on_city == []


def test_approximate_places_have_no_point_of_their_own():
    rows = {r["place_id"]: r for r in _raw_rows()}
    bridges = {_point(r) for r in rows.values() if r["place_type"] == "port_of_entry"}
    for pid, row in rows.items():
        if row["confidence"] != "approximate":
            continue
        notes = row["notes"].lower()
        assert "rule" in notes, pid
        point = _point(row)
        if point is None:
            assert "no public" in notes, pid
            assert "not pinned" in notes, pid
            continue
        # A point only by being one site with a sourced place, whose point it is.
        group = [r for r in rows.values() if r["site_group"] == row["site_group"] and r is not row]
        assert group, f"{pid}: an approximate place with a point must be one site with another"
        assert all(_point(r) == point and r["confidence"] != "approximate" for r in group), pid
        assert "one site" in notes, pid
    # No shelter, camp, plaza, neighbourhood or terminal borrows a bridge's point.
    for pid, row in rows.items():
        if row["place_type"] in {"shelter", "camp", "plaza", "neighborhood", "bus_terminal"}:
            assert _point(row) not in bridges, pid


def test_beside_names_places_of_the_same_city():
    places = load_places()
    by_id = places.set_index("place_id")
    pairs = {pid: beside_ids(row) for pid, row in by_id.iterrows() if beside_ids(row)}
    assert pairs == {
        "mat_camp": ["mat_gateway_bridge"],
        "mat_inm_detention": ["mat_bm_bridge"],
        "rey_inm_office": ["rey_mcallen_bridge"],
    }
    for pid, others in pairs.items():
        for other in others:
            assert by_id.at[other, "city"] == by_id.at[pid, "city"]


def test_new_places_exist_with_their_sources(places):
    by_id = places.set_index("place_id")
    for pid, (place_type, city) in NEW_PLACES.items():
        assert (by_id.at[pid, "place_type"], by_id.at[pid, "city"]) == (place_type, city), pid
        assert by_id.at[pid, "source"], pid
        assert by_id.at[pid, "site_group"] == pid
        if place_type == "port_of_entry":
            assert by_id.at[pid, "confidence"] == "medium"
        else:
            # No coordinate was found for any of them: known, not pinned.
            assert by_id.at[pid, "confidence"] == "approximate", pid
            assert np.isnan(by_id.at[pid, "lat"]), pid
            assert np.isnan(by_id.at[pid, "lon"]), pid
    assert "lonuevoenlaredo.com" in by_id.at["nld_casa_nazareth_arteaga", "source"]
    assert "expreso.press" in by_id.at["mat_inm_detention", "source"]
    assert "31376942939" in by_id.at["nld_terminal_senda", "source"]


@pytest.mark.parametrize(
    ("text", "city", "expected"),
    [
        ("la central camionera", "Nuevo Laredo", "nld_bus_terminal"),
        ("en la terminal de Estrella Blanca", "Nuevo Laredo", "nld_terminal_estrella_blanca"),
        ("Terminal Nuevo Laredo de Ómnibus de México", None, "nld_terminal_omnibus_de_mexico"),
        ("afuera de la terminal de Grupo Senda", "Nuevo Laredo", "nld_terminal_senda"),
        ("segunda casa del migrante Nazareth", None, "nld_casa_nazareth_arteaga"),
        ("la estación migratoria junto al puente viejo", "Matamoros", "mat_inm_detention"),
        ("oficinas del INM en Reynosa", None, "rey_inm_office"),
        ("la central de autobuses", "Reynosa", "rey_bus_terminal"),
        ("albergue Senda de Vida", None, "rey_senda_de_vida"),
        ("Senda de Vida II", None, "rey_senda_de_vida_2"),
        ("the Matamoros camp", None, "mat_camp"),
        ("Puente Pharr-Reynosa", None, "rey_pharr_bridge"),
        ("Puente Internacional Anzaldúas", None, "rey_anzalduas_bridge"),
    ],
)
def test_places_resolve_from_typical_descriptions(places, text, city, expected):
    result = geocode(text, city=city, places=places)
    assert (result.place_id, result.geo_precision) == (expected, "site")
    row = places.set_index("place_id").loc[expected]
    assert result.place_type == row["place_type"]
    if np.isnan(row["lat"]):
        # Known, attributed, not pinned: no coordinate is made up.
        assert (result.lat, result.lon) == (None, None)
    else:
        assert (result.lat, result.lon) == (row["lat"], row["lon"])


def test_names_in_spanish_and_english(places):
    es = names(places, "es")
    en = names(places, "en")
    assert list(es.index) == list(places.index)
    by_id = dict(zip(places["place_id"], es, strict=True))
    assert by_id["mat_gateway_bridge"] == "Puente Internacional Puerta México"
    assert by_id["nld_bridge_2"] == "Puente Internacional Juárez-Lincoln (Puente II)"
    assert by_id["mat_bus_terminal"] == "Central de Autobuses de Matamoros"
    assert by_id["mat_inm_office"] == "Oficina del INM en el Puente Puerta México"
    assert by_id["mat_camp"] == "Campamento de migrantes de Matamoros"
    assert list(en) == list(places["name"])
    gateway = places.set_index("place_id").loc["mat_gateway_bridge"]
    assert place_name(gateway, "en") == "Gateway International Bridge"
    assert place_name(gateway, "es") == "Puente Internacional Puerta México"
    assert list(place_name(places, "es")) == list(es)
    # A frame without Spanish names (an old user file) names places in English.
    assert list(names(places.drop(columns="name_es"), "es")) == list(en)
    with pytest.raises(ValueError, match="'fr'"):
        names(places, "fr")


def test_spanish_names_are_names_people_write(places):
    gateway = places.set_index("place_id").loc["mat_inm_office"]
    assert aliases(gateway)[:2] == [gateway["name"], gateway["name_es"]]
    assert geocode("Oficina del INM en el Puente Puerta México").place_id == "mat_inm_office"


def test_contract_place_ids_exist_with_their_cities(places):
    by_id = places.set_index("place_id")
    assert set(by_id.index) >= CONTRACT_IDS
    assert by_id.at["mat_free_trade_bridge", "city"] == "Matamoros"
    assert by_id.at["col_solidarity_bridge", "city"] == "Colombia"
    assert by_id.at["nld_centro", "place_type"] == "neighborhood"
    assert by_id.at["mat_zona_centro", "place_type"] == "neighborhood"
    assert places["place_id"].is_unique


@pytest.mark.parametrize("city", ["Matamoros", "Nuevo Laredo"])
@pytest.mark.parametrize(
    "place_type",
    [
        "bus_terminal",
        "immigration_office",
        "shelter",
        "camp",
        "port_of_entry",
        "plaza",
        "neighborhood",
        "city",
    ],
)
def test_sample_generator_finds_every_kind_of_site(places, city, place_type):
    if (city, place_type) == ("Nuevo Laredo", "camp"):
        # No public location of a Nuevo Laredo camp was found: left out rather than guessed.
        assert not ((places["city"] == city) & (places["place_type"] == place_type)).any()
        return
    assert ((places["city"] == city) & (places["place_type"] == place_type)).any()


def test_bridge_points_agree_with_the_reference_within_200_m(places):
    # shared/reference/border_places.csv, beside the repo: bridges checked against two sources.
    reference = {
        "rey_pharr_bridge": (26.066830, -98.205180),
        "rey_anzalduas_bridge": (26.116500, -98.318300),
        "mat_gateway_bridge": (25.898333, -97.497222),
        "mat_bm_bridge": (25.891900, -97.504400),
        "mat_veterans_bridge": (25.883889, -97.476111),
        "mat_free_trade_bridge": (26.029167, -97.738750),
        "nld_bridge_1": (27.499400, -99.507420),
        "nld_bridge_2": (27.500216, -99.502814),
        "nld_world_trade_bridge": (27.597291, -99.537119),
        "col_solidarity_bridge": (27.699716, -99.745646),
        "rey_mcallen_bridge": (26.095000, -98.271400),
    }
    by_id = places.set_index("place_id")
    for pid, (lat, lon) in reference.items():
        assert _haversine_m(by_id.at[pid, "lat"], by_id.at[pid, "lon"], lat, lon) < 200, pid


def test_twin_cities_are_distinct_places(places):
    by_id = places.set_index("place_id")
    # The Matamoros city point is south of the river, Brownsville's north of it.
    assert by_id.at["mat_city", "lat"] < by_id.at["bro_city", "lat"]
    assert by_id.at["nld_city", "lat"] < by_id.at["lar_city", "lat"]
    # Bridges of one city are kilometres from those of the other.
    d = _haversine_m(
        by_id.at["mat_gateway_bridge", "lat"],
        by_id.at["mat_gateway_bridge", "lon"],
        by_id.at["nld_bridge_2", "lat"],
        by_id.at["nld_bridge_2", "lon"],
    )
    assert d > 250_000


def test_city_point(places):
    row = city_point(places, "Nuevo Laredo")
    assert row is not None
    assert row["place_id"] == "nld_city"
    assert city_point(places, "matamoros")["place_id"] == "mat_city"
    assert city_point(places, "Monterrey") is None
    assert set(METRO_AREAS) == set(CITIES)
    assert in_city(25.88, -97.50, "Matamoros")
    assert not in_city(27.48, -99.51, "Matamoros")
    assert not in_city(25.88, -97.50, "Atlantis")


def test_aliases_lists_name_first_without_blanks(places):
    row = places.set_index("place_id").loc["mat_bm_bridge"].copy()
    row["name"] = "B&M"
    names = aliases(pd.concat([pd.Series({"place_id": "mat_bm_bridge"}), row]))
    assert names[0] == "B&M"
    assert "Puente Viejo" in names
    assert "" not in names
    assert len(names) == len(set(names))


def test_extra_file_corrects_and_adds_places(tmp_path: Path, places):
    extra = tmp_path / "mine.csv"
    extra.write_text(
        HEADER
        + "mat_bus_terminal,Central de Autobuses de Matamoros,Central|La Central,bus_terminal,"
        "Matamoros,25.8700,-97.5200,my survey 2024-03,medium,\n"
        + "mat_shelter_x,Albergue X,,shelter,Matamoros,25.86,-97.49,field visit,medium,\n",
        encoding="utf-8",
    )
    merged = load_places(extra)
    assert len(merged) == len(places) + 1
    assert list(merged.columns) == list(COLUMNS)
    by_id = merged.set_index("place_id")
    assert by_id.at["mat_bus_terminal", "lat"] == pytest.approx(25.87)
    assert by_id.at["mat_bus_terminal", "source"] == "my survey 2024-03"
    assert by_id.at["mat_shelter_x", "place_type"] == "shelter"
    # Left-out columns take their defaults: the name, a site of its own, nothing beside.
    assert by_id.at["mat_shelter_x", "name_es"] == "Albergue X"
    assert by_id.at["mat_shelter_x", "site_group"] == "mat_shelter_x"
    assert by_id.at["mat_shelter_x", "beside"] == ""
    # Corrections keep the shipped order; additions come last.
    assert list(merged["place_id"][: len(places)]) == list(places["place_id"])
    assert merged["place_id"].iloc[-1] == "mat_shelter_x"
    assert merged["lat"].dtype == "float64"
    assert merged["lon"].dtype == "float64"
    assert by_id["lat"].isna().sum() == places["lat"].isna().sum() - 1


def test_extra_file_may_leave_out_aliases_and_notes(tmp_path: Path):
    extra = tmp_path / "mine.csv"
    extra.write_text(
        "place_id,name,place_type,city,lat,lon,source,confidence\n"
        "nld_shelter_y,Albergue Y,shelter,Nuevo Laredo,27.49,-99.51,field visit,high\n",
        encoding="utf-8-sig",
    )
    merged = load_places(extra)
    row = merged.set_index("place_id").loc["nld_shelter_y"]
    assert row["aliases"] == ""
    assert row["notes"] == ""


def test_extra_file_in_every_column_and_without_a_point(tmp_path: Path):
    extra = tmp_path / "mine.csv"
    extra.write_text(
        FULL_HEADER
        + "mat_clinic_z,Clinic Z,Clínica Z,Clinica Z,other,Matamoros,mat_clinic_z,mat_bm_bridge,,,"
        "field visit,approximate,Rule: no coordinate yet; not pinned\n",
        encoding="utf-8",
    )
    row = load_places(extra).set_index("place_id").loc["mat_clinic_z"]
    assert row["name_es"] == "Clínica Z"
    assert row["beside"] == "mat_bm_bridge"
    assert np.isnan(row["lat"])
    assert np.isnan(row["lon"])
    result = geocode("Clínica Z, cerca del puente viejo", places=load_places(extra))
    assert (result.place_id, result.lat) == ("mat_clinic_z", None)


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("Bad Id,X,,shelter,Matamoros,25.87,-97.5,s,medium,", "place_id", "identifier"),
        ("mat_x,,,shelter,Matamoros,25.87,-97.5,s,medium,", "name", "empty"),
        ("mat_x,X,,hotel,Matamoros,25.87,-97.5,s,medium,", "place_type", "'hotel'"),
        ("mat_x,X,,shelter,Monterrey,25.87,-97.5,s,medium,", "city", "'Monterrey'"),
        ("mat_x,X,,shelter,Matamoros,north,-97.5,s,medium,", "lat", "'north'"),
        ("mat_x,X,,shelter,Matamoros,25.87,-197.5,s,medium,", "lon", "-197.5"),
        ("mat_x,X,,shelter,Matamoros,-97.5,25.87,s,medium,", "lat", "swapped"),
        ("mat_x,X,,shelter,Matamoros,27.48,-99.51,s,medium,", "lat", "outside Matamoros"),
        ("mat_x,X,,shelter,Matamoros,25.87,-97.5,s,sure,", "confidence", "'sure'"),
        ("mat_x,X,,shelter,Matamoros,25.87,-97.5,,medium,", "source", "cite"),
        ("mat_x,X,,shelter,Matamoros,25.87,-97.5,s,approximate,", "notes", "rule"),
        ("mat_x,X,,shelter,Matamoros,,,s,medium,", "lat", "only an approximate place"),
        ("mat_x,X,,shelter,Matamoros,,,s,approximate,", "notes", "rule"),
        ("mat_x,X,,shelter,Matamoros,25.87,,s,approximate,Rule: r", "lon", "both or neither"),
        ("mat_x,X,,shelter,Matamoros,,-97.5,s,approximate,Rule: r", "lat", "both or neither"),
    ],
)
def test_bad_row_names_file_line_and_column(tmp_path: Path, line, column, words):
    extra = tmp_path / "bad.csv"
    extra.write_text(HEADER + "mat_ok,Ok,,plaza,Matamoros,25.88,-97.50,s,medium,\n" + line + "\n")
    with pytest.raises(GazetteerError) as info:
        load_places(extra)
    message = str(info.value)
    assert str(extra) in message
    assert "line 3" in message
    assert f"column {column}" in message
    assert words in message


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("mat_x,X,,,shelter,Matamoros,mat_x,,25.87,-97.5,s,medium,", "name_es", "Spanish name"),
        ("mat_x,X,X,,shelter,Matamoros,,,25.87,-97.5,s,medium,", "site_group", "identifier"),
        ("mat_x,X,X,,shelter,Matamoros,Site X,,25.87,-97.5,s,medium,", "site_group", "'Site X'"),
        ("mat_x,X,X,,shelter,Matamoros,mat_x,mat_x,25.87,-97.5,s,medium,", "beside", "another"),
        ("mat_x,X,X,,shelter,Matamoros,mat_x,Bad Id,25.87,-97.5,s,medium,", "beside", "Bad Id"),
    ],
)
def test_bad_new_column_names_file_line_and_column(tmp_path: Path, line, column, words):
    extra = tmp_path / "bad.csv"
    ok = "mat_ok,Ok,Ok,,plaza,Matamoros,mat_ok,,25.88,-97.50,s,medium,\n"
    extra.write_text(FULL_HEADER + ok + line + "\n", encoding="utf-8")
    with pytest.raises(GazetteerError) as info:
        load_places(extra)
    message = str(info.value)
    assert f"{extra}, line 3, column {column}" in message
    assert words in message


def test_a_place_on_another_site_s_point_is_refused(tmp_path: Path, places):
    city = places.set_index("place_id").loc["mat_city"]
    extra = tmp_path / "stacked.csv"
    extra.write_text(
        HEADER
        + "mat_ok,Ok,,plaza,Matamoros,25.88,-97.50,s,medium,\n"
        + f"mat_shelter_x,Albergue X,,shelter,Matamoros,{city['lat']},{city['lon']},s,"
        "approximate,Rule: at the city point\n",
        encoding="utf-8",
    )
    with pytest.raises(GazetteerError) as info:
        load_places(extra)
    message = str(info.value)
    assert f"{extra}, line 3, column lat" in message
    assert "mat_city" in message
    assert "Leave lat and lon empty" in message


def test_one_site_with_two_points_is_refused(tmp_path: Path):
    # Moving the Gateway bridge without its INM post would split one site in two.
    extra = tmp_path / "moved.csv"
    extra.write_text(
        HEADER + "mat_gateway_bridge,Gateway International Bridge,,port_of_entry,Matamoros,25.8990,"
        "-97.4970,my survey,medium,\n",
        encoding="utf-8",
    )
    # The default site_group of a corrected row is its own id: the INM post's group still
    # names the bridge, which now has another point.
    with pytest.raises(GazetteerError, match="column lat: site_group 'mat_gateway_bridge'"):
        load_places(extra)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        HEADER + "mat_gateway_bridge,Gateway International Bridge,,port_of_entry,Matamoros,25.8990,"
        "-97.4970,my survey,medium,\n"
        + "mat_inm_office,INM office,,immigration_office,Matamoros,,,reports,approximate,"
        "Rule: no public coordinate; not pinned\n",
        encoding="utf-8",
    )
    by_id = load_places(fixed).set_index("place_id")
    assert np.isnan(by_id.at["mat_inm_office", "lat"])


def test_beside_must_name_a_known_place(tmp_path: Path):
    extra = tmp_path / "beside.csv"
    extra.write_text(
        FULL_HEADER + "mat_x,X,X,,shelter,Matamoros,mat_x,mat_nowhere,,,s,approximate,Rule: r\n",
        encoding="utf-8",
    )
    with pytest.raises(GazetteerError, match="line 2, column beside: 'mat_nowhere' is no place_id"):
        load_places(extra)


def test_duplicate_place_id_in_one_file_is_refused(tmp_path: Path):
    extra = tmp_path / "dup.csv"
    row = "mat_x,X,,plaza,Matamoros,25.88,-97.50,s,medium,\n"
    extra.write_text(HEADER + row + row)
    with pytest.raises(GazetteerError, match="line 3, column place_id: 'mat_x' already used"):
        load_places(extra)


def test_unusable_files_are_refused(tmp_path: Path):
    with pytest.raises(GazetteerError, match="does not exist"):
        load_places(tmp_path / "missing.csv")
    no_coords = tmp_path / "no_coords.csv"
    no_coords.write_text("place_id,name,city\nmat_x,X,Matamoros\n")
    with pytest.raises(GazetteerError, match="lacks column"):
        load_places(no_coords)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    with pytest.raises(GazetteerError, match="cannot be read"):
        load_places(binary)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(GazetteerError, match="cannot be read"):
        load_places(empty)
