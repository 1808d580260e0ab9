"""Property tests of the privacy policy over every public output.

Random datasets and filters go through the same functions the app and the CLI use; no public
output (map HTML, CSV, GeoJSON, tables, chart data) may contain free text, a raw coordinate of a
non-public-site incident, or an aggregated count below k. Injection strings must stay inert.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmap.analysis.hotspots import rank_sites
from riskmap.filters import Filters, apply
from riskmap.release.privacy import public_view
from riskmap.schema import INCIDENT_TYPES, PERPETRATORS, PUBLIC_SITE_TYPES
from riskmap.views.charts import trend_chart, trend_table
from riskmap.views.dashboard import ranking_table
from riskmap.views.export import export, export_view
from riskmap.views.maps import build_map

ROOT = Path(__file__).resolve().parent.parent
K = 3
SECRET = "SECRET-7f3a"
INJECTIONS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)

_site_ids = st.sampled_from(
    [
        "mat_gateway_bridge",
        "mat_bus_terminal",
        "mat_inm_office",
        "mat_camp",
        "nld_bridge_2",
        "nld_bus_terminal",
        "nld_casa_nazareth",
        "nld_plaza_hidalgo",
    ]
)
_incident = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["site", "neighborhood", "city", "unresolved"]),
        "site": _site_ids,
        "dlat": st.floats(min_value=-0.02, max_value=0.02, allow_nan=False),
        "dlon": st.floats(min_value=-0.02, max_value=0.02, allow_nan=False),
        "types": st.sets(st.sampled_from(INCIDENT_TYPES), min_size=1, max_size=3),
        "perp": st.sampled_from(PERPETRATORS),
        "day": st.integers(min_value=0, max_value=120),
        "victims": st.integers(min_value=1, max_value=6),
        "children": st.integers(min_value=0, max_value=3),
        "inject": st.sampled_from(INJECTIONS),
    }
)


def _frame(draws: list[dict], places: pd.DataFrame) -> pd.DataFrame:
    by_id = places.set_index("place_id")
    rows = []
    for i, d in enumerate(draws):
        site = by_id.loc[d["site"]]
        lat, lon = float(site["lat"]), float(site["lon"])
        if d["kind"] != "site":
            lat, lon = round(lat + d["dlat"], 6), round(lon + d["dlon"], 6)
        rows.append(
            {
                "incident_id": f"id-{i}-{d['inject']}",
                "date": dt.date(2019, 11, 1) + dt.timedelta(days=d["day"]),
                "incident_types": "|".join(sorted(d["types"])),
                "city": site["city"],
                "location_text": f"{SECRET} {d['inject']}",
                "lat": None if d["kind"] == "unresolved" else lat,
                "lon": None if d["kind"] == "unresolved" else lon,
                "geo_precision": d["kind"],
                "place_id": d["site"] if d["kind"] == "site" else None,
                "place_type": site["place_type"] if d["kind"] == "site" else "neighborhood",
                "perpetrator": d["perp"],
                "victims": d["victims"],
                "children": min(d["children"], d["victims"]),
                "source": f"{SECRET} source",
                "notes": f"{SECRET} note {d['inject']}",
                "synthetic": True,
            }
        )
    return pd.DataFrame(rows)


def _raw_points(frame: pd.DataFrame, places: pd.DataFrame) -> set[str]:
    """Raw coordinates the public must never see: every located incident not at a public site."""
    public_site = (frame["geo_precision"] == "site") & frame["place_type"].isin(PUBLIC_SITE_TYPES)
    located = frame["lat"].notna() & ~public_site
    # A coordinate equal to a gazetteer coordinate is public anyway (reference layers show it).
    public = {f"{v:.6f}".rstrip("0") for v in (*places["lat"], *places["lon"])}
    out = set()
    for lat, lon in zip(frame.loc[located, "lat"], frame.loc[located, "lon"], strict=True):
        out |= {f"{lat:.6f}".rstrip("0"), f"{lon:.6f}".rstrip("0")}
    return {p for p in out - public if len(p) > 8}  # enough digits to be a point, not a count


_filters = st.builds(
    Filters,
    types=st.lists(st.sampled_from(INCIDENT_TYPES), max_size=2).map(tuple),
    cities=st.lists(st.sampled_from(["Matamoros", "Nuevo Laredo"]), max_size=1).map(tuple),
    children_only=st.booleans(),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draws=st.lists(_incident, min_size=1, max_size=30), filters=_filters)
def test_no_public_output_leaks(places, draws, filters):
    frame = _frame(draws, places)
    view = apply(public_view(frame, places=places), filters)
    raw_points = _raw_points(frame, places)

    html = build_map(view, places=places, min_cell=K).get_root().render()
    csv = export_view(view, filters=filters, fmt="csv").data.decode("utf-8-sig")
    geojson = export_view(view, filters=filters, fmt="geojson").data.decode("utf-8")
    table = view.to_csv(index=False)
    outputs = {"map": html, "csv": csv, "geojson": geojson, "table": table}
    if not view.empty:
        chart = json.dumps(trend_chart(view, by="type", min_cell=K).to_dict())
        outputs["chart"] = chart
        chart_rows = trend_table(view, by="place", min_cell=K)
        assert ((chart_rows["incidents"] >= K) | (chart_rows["shown"] == f"<{K}")).all()

    for name, text in outputs.items():
        assert SECRET not in text, name
        assert "id-0-" not in text, name  # raw ids never appear, only pseudonyms
        for point in raw_points:
            assert point not in text, (name, point)
    # Injection strings are inert: escaped in the page, neutralised in the CSV.
    assert "<script>alert" not in html
    assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
    for cell in pd.read_csv(io.StringIO(csv), dtype=str).fillna("").to_numpy().ravel():
        assert not re.match(r"^[=+\-@\t\r]", cell) or re.match(r"^-?\d", cell), cell
    # Aggregated counts on the map: k or more, or shown as "<k".
    for count in re.findall(r'rm-count\\"\\u003e(.*?)\\u003c/div', html):
        assert count == "\\u0026lt;3" or int(count) >= K


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(draws=st.lists(_incident, min_size=5, max_size=40))
def test_public_ranking_suppresses_small_counts(places, draws):
    frame = _frame(draws, places)
    ranking = rank_sites(frame, places=places, site_types=PUBLIC_SITE_TYPES)
    table = ranking_table(ranking, lang="en", min_cell=K)
    for col in ("Incidents", "Previous period", "People"):
        for value in table[col]:
            assert value == f"<{K}" or value == "0" or int(value) >= K
    hidden = table["Incidents"] == f"<{K}"
    assert (table.loc[hidden, "95% interval"] == "–").all()
    assert (table.loc[hidden, "Change"] == "–").all()


def test_full_export_of_the_store_is_clean(sample, places):
    result = export(sample, filters=Filters(), fmt="geojson", places=places)
    data = result.data.decode("utf-8")
    for text in sample["location_text"].dropna():
        assert text not in data
    assert result.manifest["synthetic"] is True
    assert not set(sample["incident_id"]) & set(json.loads(data)["features"][0]["properties"])


def test_streamlit_hardening_settings():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 20
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert ".streamlit/secrets.toml" in ignored
    assert (ROOT / ".streamlit" / "secrets.toml.example").exists()


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_a_place_name_is_escaped_in_the_map(places, text):
    extra = places.iloc[[0]].copy()
    extra["place_id"] = "zz_evil"
    extra["name"] = text
    extra["place_type"] = "bus_terminal"
    html = build_map(pd.DataFrame(columns=["lat", "lon"]), places=pd.concat([places, extra]))
    rendered = html.get_root().render()
    assert "<script>alert" not in rendered
    assert '<img src=x onerror="alert' not in rendered
