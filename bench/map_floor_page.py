"""Bench-only floors for ``bench/map_time.py`` (run as its own Streamlit app; not part of the dashboard).

- default: the map page itself (``pages/map.py``: same widgets, legend, table and downloads) with its
  layer cut to ONE polygon and no unreliable markers; the ratio to it is the cost of the polygons.
- ``?bare=1``: a page holding only a one-polygon deck with the map page's pydeck setup; the ratio to
  it is the cost of the whole map page.
"""

import runpy
from pathlib import Path

import streamlit as st

from dashboard import map_view

st.set_page_config(page_title="Map floor", layout="wide")

if not getattr(map_view.choropleth, "one_polygon", False):
    full_view = map_view.choropleth

    def one_polygon(*args, **kwargs) -> dict:
        view = dict(full_view(*args, **kwargs))
        view["features"] = {**view["features"], "features": view["features"]["features"][:1]}
        view["markers"] = []
        return view

    one_polygon.one_polygon = True
    map_view.choropleth = one_polygon

if st.query_params.get("bare"):
    square = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"id": "1", "name": "Floor", "fill": [65, 182, 196], "count": "1 ± 1",
                                          "share": "1.0% ± 1.0 pts", "reliability": "Reliable"},
        "geometry": {"type": "Polygon", "coordinates": [[[-87.8, 41.8], [-87.6, 41.8], [-87.6, 41.95],
                                                         [-87.8, 41.95], [-87.8, 41.8]]]}}]}
    st.title("Map floor")
    st.pydeck_chart(map_view.deck([map_view.area_layer(square), map_view.marker_layer([])],
                                  {"longitude": -87.73, "latitude": 41.83, "zoom": 9.6},
                                  map_view.tooltip("unconnected", "share")),
                    height=620, on_select="rerun", selection_mode="single-object", key="floor-chart")
else:
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "pages" / "map.py"), run_name="__main__")
