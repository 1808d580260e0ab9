"""The least a Streamlit page with a map does, for the browser benchmark: this machine's floor.

``streamlit run benchmarks/floor_app.py``. One checkbox ("Involving children") and an empty
folium map (no incident, no tiles; Leaflet from riskmap's vendored copies, as riskmap loads it:
``benchmarks/static`` is a link to ``static``, which Streamlit serves at ``/app/static``) with
the title box
(class ``rm-title``) that ``benchmarks/browser.py`` waits for, naming the filter. Whatever
riskmap does, opening its page cannot be faster than opening this one on the same machine: the
difference between the two is riskmap's share of "page open → map drawn".
"""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from riskmap.settings import Settings
from riskmap.views.maps import use_local_assets

st.set_page_config(page_title="floor", layout="wide")
with st.sidebar:
    children = st.checkbox("Involving children", key="children")
m = folium.Map(location=(26.69, -98.5), zoom_start=7, tiles=None)
title = "Involving children" if children else "All incidents"
folium.Marker(
    (26.69, -98.5),
    icon=folium.DivIcon(html=f'<div class="rm-title">{title}</div>', icon_size=(160, 20)),
).add_to(m)
use_local_assets(m, Settings().asset_base)
st_folium(m, key="map", returned_objects=[], use_container_width=True, height=540)
