"""Every private name of Streamlit or pydeck the dashboard relies on, and why; nowhere else.

Each has no public equivalent that keeps the behaviour, and each is checked by
tests/test_streamlit_internals.py, which fails with a clear message when an
upgrade removes or changes it:

- ``PagesManager.uses_pages_directory``: with a ``pages/`` folder beside
  app.py, a fresh server routes the first request the old directory way
  (running the page file without app.py) until app.py calls
  ``st.navigation``. No option turns that off; ``use_app_navigation`` does.
- ``streamlit.elements.vega_charts._convert_altair_to_vega_lite_spec``: the
  exact spec ``st.altair_chart`` sends (Streamlit's theme, data as Arrow), so
  a chart can be converted once and drawn with the public
  ``st.vega_lite_chart``. Altair's public ``to_dict`` gives another theme
  and inline JSON data.
- ``st.pydeck_chart`` reads a deck's ``to_json()``, its ``_tooltip`` and its
  ``layers``; ``PreparedDeck`` is a deck whose JSON was written before, so a
  500 KiB layer is serialised once, not on every run. pydeck's
  ``default_serialize`` writes the JSON without indentation.
"""

from __future__ import annotations

import json

import pydeck as pdk
import streamlit as st
from pydeck.bindings.json_tools import default_serialize
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
from streamlit.runtime.pages_manager import PagesManager


def use_app_navigation() -> None:
    """Route every request through app.py's ``st.navigation``.

    A deep link such as ``/map?geography=ward`` opened before anyone loaded
    the home page would run the page file without app.py (wrong sidebar, no
    page config). When that happens, switch the server to app.py's navigation
    and rerun; the URL and its query parameters are kept.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def altair_spec(chart) -> dict:
    """The Vega-Lite spec ``st.altair_chart`` would send for an Altair chart."""
    return _convert_altair_to_vega_lite_spec(chart)


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON has no indentation: pydeck indents by 2, which more than doubles what
    Streamlit sends for a layer of polygon coordinates."""

    def to_json(self):
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


class PreparedDeck(CompactDeck):
    """A deck whose JSON was made before: ``st.pydeck_chart`` reads only its ``to_json``, its tooltip and
    its ``layers`` (none left to convert)."""

    def __init__(self, json_text: str, tooltip):
        self._json, self._tooltip, self.layers = json_text, tooltip, []

    def to_json(self):
        return self._json


def prepared(deck: CompactDeck, json_text: str) -> PreparedDeck:
    """``deck`` drawn from ``json_text``, its JSON written before."""
    return PreparedDeck(json_text, deck._tooltip)
