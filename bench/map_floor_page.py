"""The floor for ``bench/map_time.py``: a Streamlit page holding nothing but one pydeck polygon.

Run as its own Streamlit app, served the same way as the dashboard; it draws
one square with the dashboard's own deck setup (``dashboard.map_view``), so a
page's ratio to it is the cost of everything that page adds to a bare map.
"""

import streamlit as st

from dashboard import map_view

st.set_page_config(page_title="Map floor", layout="wide")

square = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"id": "1", "name": "Floor", "fill": [65, 182, 196], "count": "1 ± 1",
                                      "share": "1.0% ± 1.0 pts", "reliability": "Reliable"},
    "geometry": {"type": "Polygon", "coordinates": [[[-87.8, 41.8], [-87.6, 41.8], [-87.6, 41.95],
                                                     [-87.8, 41.95], [-87.8, 41.8]]]}}]}
st.title("Map floor")
st.pydeck_chart(map_view.deck([map_view.area_layer(square)], {"longitude": -87.73, "latitude": 41.83, "zoom": 9.6},
                              map_view.tooltip("unconnected", "share")),
                height=620, on_select="rerun", selection_mode="single-object", key="floor-chart")
