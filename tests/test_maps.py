"""The folium map, rendered to HTML and checked for what matters."""

import json
import re

import pandas as pd
import pytest

from riskmap.filters import Filters
from riskmap.release.audience import public_audience, restricted_audience
from riskmap.release.privacy import pseudonym_key, pseudonyms, restricted_view
from riskmap.settings import Settings
from riskmap.views import maps
from riskmap.views.maps import (
    aggregate_locations,
    build_map,
    centre_and_zoom,
    dashboard_map,
    selection_bounds,
)

K = 3
# A fixed key: no key file is written beside the default store.
SETTINGS = Settings(min_cell=K, pseudonym_key="test-key")
# DivIcon html is written into the page as a JSON string: < is \u003c, & is \u0026.
COUNT = re.compile(r'rm-count\\" style=\\"background:#[0-9A-Fa-f]{6}\\"\\u003e(.*?)\\u003c/div')


@pytest.fixture(scope="module")
def public(sample, places):
    return public_audience(sample, places=places, settings=SETTINGS)


@pytest.fixture(scope="module")
def release(public):
    """The public release table: shown columns plus the people counts the map sums."""
    return public.table


def _html(view, places, *, min_cell=K, **kw):
    return build_map(view, places=places, min_cell=min_cell, **kw).get_root().render()


def _dashboard_html(shown):
    for layer in shown.layers:
        layer.add_to(shown.base)
    return shown.base.get_root().render()


def test_map_has_layers_legend_and_attribution(release, places):
    html = _html(release, places, lang="en")
    for name in (
        "Heatmap",
        "Incidents",
        "Incidents placed by area",
        "International bridge",
        "Bus terminal",
        "INM office",
        "Shelter",
        "Camp",
    ):
        assert name in html, name
    assert "HeatLayer" in html or "heatLayer" in html
    assert "markerClusterGroup" in html
    assert "rm-legend" in html
    assert "OpenStreetMap" in html
    assert "L.control.layers" in html
    assert "fullscreen" in html.lower()


def test_spanish_labels(release, places):
    html = _html(release, places, lang="es")
    assert "Mapa de calor" in html
    assert "Puente internacional" in html
    assert "Heatmap" not in html
    assert "Acercar" in html
    assert "Pantalla completa" in html


def test_counts_drawn_add_up_and_rows_without_a_shown_place_are_not_drawn(release, sample, places):
    located = aggregate_locations(release)
    drawn = int(located["incidents"].sum())
    assert drawn == int(release["lat"].notna().sum())
    # Only rows whose place the release withholds go undrawn.
    assert drawn == len(release) - int((release["public_location"] == "none").sum())
    assert drawn < len(release)
    assert set(located["kind"]) == {"site", "area", "city"}
    # Incidents recorded as unresolved are among the undrawn ones.
    unresolved = sample.loc[sample["geo_precision"] == "unresolved", "incident_id"]
    assert len(unresolved) > 0
    ids = set(pseudonyms(unresolved, pseudonym_key(SETTINGS)))
    undrawn = release[release["incident_id"].isin(ids)]
    assert len(undrawn) == len(ids)
    assert undrawn["lat"].isna().all()
    # The release holds no number of people: no popup shows any.
    assert "victims" not in release.columns
    assert located["people"].isna().all()


def test_public_map_holds_no_raw_coordinate_or_free_text(release, sample, places):
    html = _html(release, places)
    non_site = sample[sample["geo_precision"] == "neighborhood"]
    assert len(non_site) >= 2
    for lat, lon in zip(non_site["lat"], non_site["lon"], strict=True):
        assert f"{lat:.6f}".rstrip("0") not in html
        assert f"{lon:.6f}".rstrip("0") not in html
    for text in sample["location_text"].dropna():
        assert text not in html
    assert "Synthetic record" not in html
    for incident_id in sample["incident_id"]:
        assert incident_id not in html


def test_text_from_the_data_is_escaped(places):
    evil = '<img src=x onerror="alert(1)">'
    view = pd.DataFrame(
        {
            "lat": [25.8983],
            "lon": [-97.4972],
            "public_location": ["site"],
            "geo_precision": ["site"],
            "victims": [3],
            "date": [pd.Timestamp("2019-12-01")],
            "incident_types": ["kidnapping"],
            "place_name": [evil],
        }
    )
    html = _html(view, places)
    assert evil not in html
    assert "&lt;img src=x onerror=" in html


def test_public_map_counts_are_never_below_k(release, places):
    # Every class of the release holds at least k incidents and a class has one shown place,
    # so every drawn location counts at least k: the "<k" guard has nothing to hide.
    counts = COUNT.findall(_html(release, places))
    assert counts
    assert all(c.isdigit() and int(c) >= K for c in counts), counts
    assert (aggregate_locations(release)["incidents"] >= K).all()


def test_small_counts_are_suppressed_when_asked(sample, places):
    # The second guard, on rows that are not k-anonymous (the staff view).
    staff = restricted_view(sample, places=places)
    assert (aggregate_locations(staff)["incidents"] < K).any()
    counts = COUNT.findall(_html(staff, places, min_cell=K))
    assert counts
    assert any(c == "\\u0026lt;3" for c in counts)
    assert all(c == "\\u0026lt;3" or int(c) >= K for c in counts)
    # min_cell=0 (staff) writes every number.
    exact = COUNT.findall(_html(staff, places, min_cell=0))
    assert exact
    assert all(c.isdigit() for c in exact)
    assert any(0 < int(c) < K for c in exact)


def test_local_assets_replace_cdn_links(release, places):
    html = _html(release, places, asset_base="app/static/vendor")
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    assert all(s.startswith("/app/static/vendor/") for s in scripts)
    assert "cdn" not in " ".join(re.findall(r'href="([^"]+\.css)"', html))


def test_the_vendored_files_load_as_one_script_and_one_stylesheet(release, places, tmp_path):
    # The map component loads its scripts one after another: one bundle, not five round trips.
    html = _html(release, places, asset_base="app/static/vendor")
    scripts = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'href="([^"]+\.css)"', html)
    assert scripts == ["/app/static/vendor/riskmap-leaflet.js"]
    assert styles == ["/app/static/vendor/riskmap-leaflet.css"]
    # The bundles are the vendored files, joined in load order (Leaflet before its plugins).
    for bundle, parts in maps.BUNDLES.items():
        joined = (maps.VENDOR / bundle).read_bytes()
        offsets = [joined.index((maps.VENDOR / part).read_bytes()) for part in parts]
        assert offsets == sorted(offsets)
        sizes = sum(len((maps.VENDOR / part).read_bytes()) for part in parts)
        assert len(joined) - sizes < 4 * len(parts)
    # A folder the bundle cannot be written into leaves the files one by one.
    assert maps.vendor_bundle(tmp_path / "missing") == {}
    copy = tmp_path / "vendor"
    copy.mkdir()
    for part in maps.BUNDLES["riskmap-leaflet.js"]:
        (copy / part).write_bytes((maps.VENDOR / part).read_bytes())
    (copy / "leaflet.js").write_bytes(b"// changed")
    assert maps.vendor_bundle(copy) == {}  # the stylesheets are missing: no bundle at all
    for part in maps.BUNDLES["riskmap-leaflet.css"]:
        (copy / part).write_bytes((maps.VENDOR / part).read_bytes())
    assert set(maps.vendor_bundle(copy).values()) == set(maps.BUNDLES)
    assert (copy / "riskmap-leaflet.js").read_bytes().startswith(b"// changed\n;\n")


def test_many_incidents_make_a_page_of_constant_size(release, places):
    small = len(_html(release, places, marker_limit=10))
    big = pd.concat([release] * 50, ignore_index=True)
    large = len(_html(big, places, marker_limit=10))
    # Aggregated by location: 50x the incidents changes only the numbers in the page.
    assert large < small * 1.2


def test_popups_span_the_shown_period(release, places):
    # A release row stands for its whole shown period: a popup's dates run to its end.
    located = aggregate_locations(release)
    drawn = release[release["lat"].notna()]
    assert located["last"].max() == drawn["date_end"].max()
    assert located["first"].min() == drawn["date"].min()
    html = _html(release, places)
    # A month-level row reads as its month, never as the first day of it.
    latest = drawn[drawn["date_end"] == drawn["date_end"].max()].iloc[0]
    assert latest["date_precision"] == "month"
    assert re.search(rf"Date: [^<\"]*{latest['date']:%Y-%m}(?!-)", html)
    assert f"{latest['date']:%Y-%m-%d}" not in html


def test_dashboard_map_follows_the_audience(sample, places, public):
    view = public.select(Filters())
    shown = dashboard_map(view, audience=public, lang="en", asset_base="app/static/vendor")
    assert shown.bounds == selection_bounds(view)
    html = _dashboard_html(shown)
    # The browser fits the map to the selection at its real size.
    assert f"map.fitBounds({json.dumps(shown.bounds, separators=(',', ':'))}" in html
    counts = COUNT.findall(html)
    assert counts
    assert all(int(c) >= K for c in counts)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    assert all(s.startswith("/app/static/vendor/") for s in scripts)
    assert "Types: " in html  # within the marker limit: every location has a popup
    # Staff (k = 0) see every number, small ones included.
    staff = restricted_audience(sample, places=places, settings=SETTINGS)
    assert staff.k == 0
    staff_html = _dashboard_html(
        dashboard_map(staff.select(Filters()), audience=staff, lang="en", asset_base=None)
    )
    assert any(0 < int(c) < K for c in COUNT.findall(staff_html))
    assert "\\u0026lt;" not in staff_html
    # The audience's marker limit decides whether locations get popups.
    few = public_audience(
        sample, places=places, settings=Settings(min_cell=K, pseudonym_key="k", marker_limit=5)
    )
    brief = _dashboard_html(dashboard_map(few.table, audience=few, lang="en", asset_base=None))
    assert COUNT.findall(brief)
    assert "Types: " not in brief


def test_bounds_and_zoom():
    view = pd.DataFrame({"lat": [25.88, 25.90], "lon": [-97.52, -97.49]})
    bounds = selection_bounds(view)
    assert bounds == [[25.88, -97.52], [25.90, -97.49]]
    (lat, lon), zoom = centre_and_zoom(bounds)
    assert lat == 25.89
    assert 12 <= zoom <= 15
    _, wide = centre_and_zoom([[25.8, -99.6], [27.6, -97.4]])
    assert wide < zoom


def test_quick_render_gives_the_same_page_character_for_character(
    sample, places, public, monkeypatch
):
    import branca.element
    import folium
    import streamlit_folium

    from riskmap.views.maps import quick_render

    def pages() -> list[str]:
        # The same ids in both renders: branca draws them at random.
        ids = iter(range(10**6))
        monkeypatch.setattr(
            branca.element.Element, "_generate_id", classmethod(lambda cls: f"{next(ids):032x}")
        )
        staff = restricted_audience(sample, places=places, settings=SETTINGS)
        out = []
        for audience, lang in ((public, "en"), (staff, "es")):
            shown = dashboard_map(
                audience.select(Filters()), audience=audience, lang=lang, asset_base=None
            )
            out.append(_dashboard_html(shown))
            # What the app sends through st_folium (its component call captured).
            shown = dashboard_map(
                audience.select(Filters()), audience=audience, lang=lang, asset_base=None
            )
            sent: dict = {}
            monkeypatch.setattr(streamlit_folium, "_component_func", sent.update)
            streamlit_folium.st_folium(shown.base, key="m", feature_group_to_add=shown.layers)
            sent.pop("on_change")  # a callback, new at every call
            out.append(json.dumps(sent, sort_keys=True))
        # Text that Jinja reads as syntax, and Windows line endings, take branca's own way.
        m = folium.Map()
        folium.Marker([25.9, -97.5], popup="{{ 7 * 7 }} {# c #}\r\nline").add_to(m)
        out.append(m.get_root().render())
        return out

    usual = pages()
    with quick_render():
        quick = pages()
    assert quick == usual
    assert "49" in usual[-1]  # branca rendered the popup's template syntax, as before


def test_the_record_forms_map_shows_the_chosen_point_and_the_reference_places(places):
    from riskmap.views.maps import point_map

    html = point_map(places, point=(27.49911, -99.50731), lang="es").get_root().render()
    assert "[27.49911, -99.50731]" in html
    assert "El punto del incidente" in html
    # The reference places with a point are there to click beside (the bridges, among them).
    assert html.count("rm-ref") >= 5
    assert "Puente" in html
    empty = point_map(places, point=None, city="Nuevo Laredo", lang="en").get_root().render()
    assert "The incident's point" not in empty
