"""The Streamlit and pydeck private names ``dashboard.streamlit_internals`` relies on: if an upgrade removes or
changes one, these fail and say which, before a reader meets a broken page."""

from __future__ import annotations

import inspect
import json

from streamlit.testing.v1 import AppTest


def test_streamlit_still_routes_a_pages_folder_by_the_flag_use_app_navigation_turns_off():
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    assert hasattr(PagesManager, "uses_pages_directory"), (
        "Streamlit no longer has PagesManager.uses_pages_directory: check whether a deep link on a fresh server "
        "still runs a page without app.py, and change dashboard.streamlit_internals.use_app_navigation")
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner), (
        "Streamlit's script runner no longer reads PagesManager.uses_pages_directory: "
        "dashboard.streamlit_internals.use_app_navigation has no effect any more")


def test_streamlit_still_has_the_altair_conversion_st_altair_chart_uses():
    from streamlit.elements import vega_charts

    assert hasattr(vega_charts, "_convert_altair_to_vega_lite_spec"), (
        "streamlit.elements.vega_charts._convert_altair_to_vega_lite_spec is gone: dashboard.common.chart "
        "cannot convert a chart once any more (see dashboard.streamlit_internals.altair_spec)")
    assert "_convert_altair_to_vega_lite_spec" in inspect.getsource(vega_charts.VegaChartsMixin.altair_chart) or (
        "_convert_altair_to_vega_lite_spec" in inspect.getsource(vega_charts)), (
        "st.altair_chart no longer converts through _convert_altair_to_vega_lite_spec")


def _decks():
    import pydeck as pdk
    import streamlit as st

    from dashboard import streamlit_internals

    layer = pdk.Layer("ScatterplotLayer", data=[{"position": [-87.6, 41.9]}], id="points",
                      get_position="position", pickable=True)
    deck = streamlit_internals.CompactDeck(layers=[layer], initial_view_state=pdk.ViewState(latitude=41.9,
                                           longitude=-87.6, zoom=9), map_provider=None,
                                           tooltip={"html": "<b>{name}</b>"})
    st.pydeck_chart(deck, key="made")
    st.pydeck_chart(streamlit_internals.prepared(deck, deck.to_json()), key="prepared")


def test_a_prepared_deck_is_drawn_exactly_as_the_deck_it_was_made_from():
    at = AppTest.from_function(_decks, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    made, prepared = (element.proto for element in at.get("deck_gl_json_chart"))
    assert json.loads(prepared.json) == json.loads(made.json), (
        "st.pydeck_chart no longer sends a deck's to_json(): dashboard.streamlit_internals.PreparedDeck is stale")
    assert prepared.tooltip == made.tooltip and made.tooltip, (
        "st.pydeck_chart no longer reads a deck's _tooltip: dashboard.streamlit_internals.prepared is stale")
    assert "\n" not in made.json, "pydeck's default_serialize no longer gives compact JSON"
