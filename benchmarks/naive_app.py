"""The naive folium page, for the browser benchmark: what typical demos serve.

``streamlit run benchmarks/naive_app.py`` with ``RISKMAP_STORE`` set. The store is read with
``geopandas.read_file`` and its public release built once per process (``st.cache_resource``,
as a demo would cache it); every run filters the release with pandas (one checkbox, "Involving
children") and draws one ``folium.Marker`` with a popup per incident plus a ``HeatMap`` of every
point (:func:`run.naive_page`), sent whole to the browser by ``st_folium``. A last marker carries
a title box (class ``rm-title``) naming the filter, so that ``benchmarks/browser.py`` waits for
the same thing on both pages: the title is drawn once every layer before it was evaluated.
"""

from __future__ import annotations

import os

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from riskmap.geo.gazetteer import load_places
from riskmap.release.public import Release, build_release
from riskmap.settings import Settings
from riskmap.views.maps import use_local_assets

st.set_page_config(page_title="naive", layout="wide")


@st.cache_resource(show_spinner=False)
def _release(store: str) -> Release:
    return build_release(
        gpd.read_file(store), places=load_places(), settings=Settings(), key=b"naive"
    )


table = _release(os.environ["RISKMAP_STORE"]).table
with st.sidebar:
    children = st.checkbox("Involving children", key="children")
rows = table[table["children_affected"].fillna(False).to_numpy(dtype=bool)] if children else table
points = rows[rows["lat"].notna() & rows["lon"].notna()]
m = folium.Map(location=(26.69, -98.5), zoom_start=7)
for row in points.itertuples(index=False):
    when = "" if pd.isna(row.date) else f"{row.date:%Y-%m-%d}"
    text = f"<b>{row.incident_types}</b><br>{when}<br>{row.city}"
    folium.Marker((row.lat, row.lon), popup=folium.Popup(text, max_width=300)).add_to(m)
folium.plugins.HeatMap(points[["lat", "lon"]].to_numpy().tolist()).add_to(m)
title = "Involving children" if children else "All incidents"
folium.Marker(
    (26.69, -98.5),
    icon=folium.DivIcon(html=f'<div class="rm-title">{title}</div>', icon_size=(160, 20)),
).add_to(m)
st.caption(f"{len(points):,} markers")
# Leaflet from the vendored copies (``benchmarks/static`` links to ``static``): a demo would
# load it from a CDN, which this machine cannot reach; the naive part is what the map holds.
use_local_assets(m, Settings().asset_base)
st_folium(m, key="map", returned_objects=[], use_container_width=True, height=540)
