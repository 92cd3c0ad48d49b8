"""The dashboard's shared page helpers (Streamlit): what two pages need alike, drawn one way.

``pages/`` holds only the page scripts ``app.py`` navigates to; they import
from here:

- ``frame``: the page setup and the list of pages ``app.py`` navigates;
- ``common``: loading the data, page state in the URL, number formatting,
  cached charts, downloads with their data dictionary;
- ``map_view``: the pydeck choropleth, its legend and one area's tables;
- ``library_layer``: the library branches as a map layer;
- ``streamlit_internals``: the only place that touches Streamlit's or
  pydeck's private names (each checked by tests/test_streamlit_internals.py).

Nothing here computes a figure: the numbers come from ``equity.queries``.
"""
