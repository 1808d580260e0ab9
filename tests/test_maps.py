"""The folium map, rendered to HTML and checked for what matters."""

import re

import pandas as pd

from riskmap.release.privacy import public_view
from riskmap.views.maps import aggregate_locations, build_map, centre_and_zoom, selection_bounds


def _html(view, places, **kw):
    return build_map(view, places=places, **kw).get_root().render()


def test_map_has_layers_legend_and_attribution(sample, places):
    html = _html(public_view(sample, places=places), places, lang="en")
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


def test_spanish_labels(sample, places):
    html = _html(public_view(sample, places=places), places, lang="es")
    assert "Mapa de calor" in html
    assert "Puente internacional" in html
    assert "Heatmap" not in html
    assert "Acercar" in html
    assert "Pantalla completa" in html


def test_counts_drawn_add_up_and_unresolved_are_not_drawn(sample, places):
    view = public_view(sample, places=places)
    located = aggregate_locations(view)
    drawn = int(located["incidents"].sum())
    assert drawn == int(view["lat"].notna().sum())
    assert drawn == len(sample) - int((sample["geo_precision"] == "unresolved").sum())
    assert set(located["kind"]) == {"site", "area", "city"}


def test_public_map_holds_no_raw_coordinate_or_free_text(sample, places):
    html = _html(public_view(sample, places=places), places)
    non_site = sample[sample["geo_precision"] == "neighborhood"]
    assert len(non_site) >= 2
    for lat, lon in zip(non_site["lat"], non_site["lon"], strict=True):
        assert f"{lat:.6f}".rstrip("0") not in html
        assert f"{lon:.6f}".rstrip("0") not in html
    for text in sample["location_text"].dropna():
        assert text not in html
    assert "Synthetic record" not in html


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


def test_small_counts_are_suppressed_when_asked(sample, places):
    view = public_view(sample, places=places)
    html = _html(view, places, min_cell=3)
    # DivIcon html is written into the page as a JSON string: < is \u003c, & is \u0026.
    counts = re.findall(r'rm-count\\"\\u003e(.*?)\\u003c/div', html)
    assert counts
    assert any(c == "\\u0026lt;3" for c in counts)
    assert all(c == "\\u0026lt;3" or int(c) >= 3 for c in counts)


def test_local_assets_replace_cdn_links(sample, places):
    html = _html(public_view(sample, places=places), places, asset_base="app/static/vendor")
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    assert all(s.startswith("/app/static/vendor/") for s in scripts)
    assert "cdn" not in " ".join(re.findall(r'href="([^"]+\.css)"', html))


def test_many_incidents_make_a_page_of_constant_size(sample, places):
    view = public_view(sample, places=places)
    small = len(_html(view, places, marker_limit=10))
    big = pd.concat([view] * 50, ignore_index=True)
    large = len(_html(big, places, marker_limit=10))
    # Aggregated by location: 50x the incidents changes only the numbers in the page.
    assert large < small * 1.2


def test_bounds_and_zoom():
    view = pd.DataFrame({"lat": [25.88, 25.90], "lon": [-97.52, -97.49]})
    bounds = selection_bounds(view)
    assert bounds == [[25.88, -97.52], [25.90, -97.49]]
    (lat, lon), zoom = centre_and_zoom(bounds)
    assert lat == 25.89
    assert 12 <= zoom <= 15
    _, wide = centre_and_zoom([[25.8, -99.6], [27.6, -97.4]])
    assert wide < zoom
