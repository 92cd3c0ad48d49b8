"""Map first (dashboard/map_first.py): the first run of a page with a map draws the map and its legend
and waits; the browser's report of the map drawn starts the run that draws the rest. AppTest runs no
JavaScript, so these tests make the report themselves (the flag the component's callback sets)."""

from __future__ import annotations

import ast
import json

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import map_first
from equity import config
from tests.conftest import MAP_FIRST_PAGES, app_test, open_app_page

#: Each map-first page, a link to it, and the widget keys of the choices drawn only with the rest.
PAGES = {
    "map": ("pages/map.py", {"geography": "ward"}, ["map-geography", "map-metric", "map-view"]),
    "ward": ("pages/ward.py", {"ward": "20"}, ["ward-choice", "ward-year"]),
    "libraries": ("pages/libraries.py", {}, ["lib-geography", "lib-year", "lib-show-branches"]),
}


def first_run(page: str) -> AppTest:
    script, params, _ = PAGES[page]
    return open_app_page(script, map_drawn=False, **params)


def widget_keys(at: AppTest) -> set[str]:
    return {widget.key for kind in ("radio", "selectbox", "toggle", "checkbox") for widget in at.get(kind)}


@pytest.mark.parametrize("page", list(PAGES))
def test_the_first_run_draws_the_map_alone_and_the_report_brings_the_rest_around_the_same_map(page, data):
    at = first_run(page)
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    first_deck = decks[0].proto.json
    choices = PAGES[page][2]
    assert not set(choices) & widget_keys(at), "the choices came with the map"
    assert not at.get("download_button")
    # What the component's callback does when the browser reports the map drawn, and the rerun it starts.
    at.session_state[map_first.drawn_flag(page)] = True
    at.run()
    assert not at.exception, at.exception
    assert set(choices) <= widget_keys(at)
    decks = at.get("deck_gl_json_chart")
    assert decks[0].proto.json == first_deck, "the second run must send the same map, so the browser keeps it"


def test_later_runs_draw_the_whole_page_at_once(data):
    at = first_run("map")
    at.session_state[map_first.drawn_flag("map")] = True
    at.run()
    at.radio(key="map-geography").set_value("community_area").run()
    assert not at.exception
    assert "map-metric" in widget_keys(at) and len(at.get("deck_gl_json_chart")) == 1


def test_a_link_s_choices_hold_in_the_first_run(data):
    at = app_test(map_drawn=False)
    at.query_params["geography"] = "tract"
    at.query_params["metric"] = "no_computer"
    at.run()
    at.switch_page("pages/map.py").run()
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert len(deck["layers"][0]["data"]["features"]) > 700  # tracts, not the default community areas
    assert any("computer" in heading.value for heading in at.subheader)


def test_every_page_that_draws_its_map_first_is_listed_for_the_tests():
    """tests/conftest.py's ``MAP_FIRST_PAGES`` sets each one's flag so that AppTests see whole pages."""
    named = set()
    for script in (config.REPO_ROOT / "pages").glob("*.py"):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "rest_after_map"):
                named.add(node.args[0].value)
    assert named == set(MAP_FIRST_PAGES) == set(PAGES)


def test_the_room_kept_for_the_choices_follows_the_window_width():
    css = map_first._spacer("equity-room-map", {0: 320, 1400: 202, 1100: 235})
    assert ".equity-room-map { height: 320px; }" in css
    narrow, wide = css.index("(min-width: 1100px) { .equity-room-map { height: 235px; }"), css.index("(min-width: 1400px)")
    assert narrow < wide  # later rules win: the wider window's rule must come last
    assert "aria-hidden='true'" in css
