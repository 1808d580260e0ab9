"""The least a Streamlit page with a map does, for the browser benchmark: this machine's floor.

``streamlit run benchmarks/floor_app.py``. One checkbox ("Involving children") and an empty
folium map (folium's defaults, which the benchmark answers from riskmap's vendored copies as it
does for the naive page; no incident, no tiles) with the title box
(class ``rm-title``) that ``benchmarks/browser.py`` waits for, naming the filter. Whatever
riskmap does, opening its page cannot be faster than opening this one on the same machine: the
difference between the two is riskmap's share of "page open → map drawn".
"""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

st.set_page_config(page_title="floor", layout="wide")
with st.sidebar:
    children = st.checkbox("Involving children", key="children")
m = folium.Map(location=(26.69, -98.5), zoom_start=7, tiles=None)
title = "Involving children" if children else "All incidents"
folium.Marker(
    (26.69, -98.5),
    icon=folium.DivIcon(html=f'<div class="rm-title">{title}</div>', icon_size=(160, 20)),
).add_to(m)
st_folium(m, key="map", returned_objects=[], use_container_width=True, height=540)
