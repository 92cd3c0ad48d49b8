"""Map first in a real browser (dashboard/map_first.py): the map is drawn before any choice has come, the
rest then arrives around it without moving it, and the drawn map is kept (the same canvas)."""

import pytest

from .conftest import wait_until_idle

pytestmark = pytest.mark.browser

MAP = '[data-testid="stDeckGlJsonChart"]'

#: At the first frame with the map's canvas sized: mark that canvas, and say where it is and what else is there.
FIRST_DRAWN = """() => {
  const canvas = [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas')]
    .find(c => c.width > 0 && c.height > 0);
  if (!canvas) return null;
  canvas.dataset.firstDrawn = 'yes';
  return {top: canvas.getBoundingClientRect().top - document.querySelector(MAIN).getBoundingClientRect().top,
          widgets: document.querySelectorAll('[data-testid="stRadio"], [data-testid="stSelectbox"], '
                                             + '[data-testid="stCheckbox"], [data-testid="stDownloadButton"]').length};
}""".replace("MAIN", "'[data-testid=\"stMainBlockContainer\"]'")

#: Where a canvas is in the page (Streamlit scrolls its main block, not the window).
TOP = """c => c.getBoundingClientRect().top
                - document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect().top"""

#: Pixels the map may move when the choices arrive above it (the room kept for them is measured per width).
SHIFT = 12


@pytest.mark.parametrize("path, choices", [("/map?geography=community_area", "map-choices"),
                                           ("/map?geography=tract&view=change", "map-choices"),
                                           ("/ward?ward=20", "ward-pickers"),
                                           ("/libraries", "lib-choices")])
@pytest.mark.parametrize("width", [1280, 1400, 1920])
def test_the_map_comes_first_and_stays_where_it_was_drawn(page, streamlit_server, path, choices, width):
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{streamlit_server}{path}")
    first = page.wait_for_function(FIRST_DRAWN, polling="raf", timeout=180_000).json_value()
    assert first["widgets"] == 0, "choices or downloads were drawn before the map"
    wait_until_idle(page, MAP, since=0, timeout=180_000)
    canvas = page.locator(f"{MAP} canvas").first
    assert canvas.get_attribute("data-first-drawn") == "yes", "the map was drawn again"
    top = canvas.evaluate(TOP)
    assert abs(top - first["top"]) <= SHIFT, f"the map moved {top - first['top']:+.0f} px when the rest came"
    chosen = page.locator(f".st-key-{choices}")
    assert chosen.get_by_role("combobox").count() + chosen.get_by_role("radio").count() > 0


#: A browser without WebGL (switched off, or a graphics driver chromium refuses): every canvas refuses a
#: WebGL context, before any script of the page runs.
NO_WEBGL = """(() => {
  const native = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/i.test(String(kind)) ? null : native.call(this, kind, ...rest);
  };
})()"""


@pytest.mark.parametrize("path, choices, rest", [("/map?geography=community_area", "map-choices", "Download"),
                                                 ("/ward?ward=20", "ward-pickers", "Over time"),
                                                 ("/libraries", "lib-choices", "Download")])
def test_without_webgl_the_rest_of_the_page_still_comes(page, streamlit_server, path, choices, rest):
    """No map can be drawn, so none is waited for: the choices and what follows the map come at once."""
    page.add_init_script(NO_WEBGL)
    page.goto(f"{streamlit_server}{path}")
    wait_until_idle(page, since=0, timeout=180_000)
    assert page.evaluate("() => !document.createElement('canvas').getContext('webgl2')"), "WebGL was not off"
    chosen = page.locator(f".st-key-{choices}")
    assert chosen.get_by_role("combobox").count() + chosen.get_by_role("radio").count() > 0
    assert page.get_by_text(rest).count() > 0, f"no {rest!r} below the map"


#: Streamlit's browser code for a pydeck map, loaded when a page first shows one (its file name is
#: Streamlit's build's: the test below fails loudly if it is no longer requested under that name).
DECK_CODE = "**/static/js/DeckGlJsonChart.*.js"


def test_when_the_map_cannot_be_drawn_the_rest_of_the_page_comes_after_the_give_up_time(page, streamlit_server):
    """WebGL works but the map's code never arrives (a network failure), so no map is ever drawn: the page
    stops waiting after ``map_first.GIVE_UP_SECONDS`` and draws its choices and what follows the map."""
    blocked = []
    page.route(DECK_CODE, lambda route: (blocked.append(route.request.url), route.abort()))
    page.goto(f"{streamlit_server}/map?geography=community_area")
    wait_until_idle(page, since=0, timeout=180_000)
    assert blocked, f"no request matched {DECK_CODE}: Streamlit's map code has another name now"
    assert page.locator(f"{MAP} canvas").count() == 0, "a map was drawn after all"
    chosen = page.locator(".st-key-map-choices")
    assert chosen.get_by_role("combobox").count() + chosen.get_by_role("radio").count() > 0
    assert page.get_by_text("Download").count() > 0
