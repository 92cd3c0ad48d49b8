"""The library branches in a real browser: turn them on, hover over a branch, read its tooltip, click it."""

from __future__ import annotations

import math
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from equity import libraries, maps

from .conftest import after_rerun, open_page, wait_until_idle

pytestmark = pytest.mark.browser

MAP = '[data-testid="stDeckGlJsonChart"]'
TILE_PIXELS = 512  # deck.gl's Web Mercator world is 512 pixels across at zoom 0


def _mercator(longitude: float, latitude: float, zoom: float) -> tuple[float, float]:
    """World pixel coordinates of a point in deck.gl's Web Mercator viewport."""
    scale = TILE_PIXELS * 2 ** zoom / (2 * math.pi)
    x = scale * (math.radians(longitude) + math.pi)
    y = scale * (math.pi - math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2)))
    return x, y


def _branch_pixel(chart_box: dict, view: dict, longitude: float, latitude: float) -> tuple[float, float]:
    """Page pixel of a branch on a deck whose initial view is ``view`` (centre of the canvas)."""
    centre_x, centre_y = _mercator(view["longitude"], view["latitude"], view["zoom"])
    x, y = _mercator(longitude, latitude, view["zoom"])
    return (chart_box["x"] + chart_box["width"] / 2 + x - centre_x,
            chart_box["y"] + chart_box["height"] / 2 + y - centre_y)


#: The text of the deck's tooltip once it is shown, or null.
TOOLTIP = """() => { const tip = document.querySelector('.deck-tooltip');
  return tip && tip.checkVisibility() && tip.innerText.trim() ? tip.innerText : null; }"""


def _hover_tooltip(page, chart, view: dict, branch, wanted, timeout: float = 30) -> str:
    """Hover over the branch (and a few pixels around it), again and again, until the deck's tooltip reads
    as ``wanted(text)`` expects (a deck redraws its layers after the script's run, and its tooltip follows
    the pointer's next move) or ``timeout`` s have passed; the tooltip's last text ("" if none appeared)."""
    wait_until_idle(page, MAP)  # the deck draws its layers after the element appears
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    x, y = _branch_pixel(box, view, branch["longitude"], branch["latitude"])
    text, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        for dx, dy in [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2), (4, 4), (-4, -4), (4, -4), (-4, 4)]:
            page.mouse.move(x + dx - 30, y + dy - 30)
            page.mouse.move(x + dx, y + dy, steps=5)
            try:  # the tooltip follows a move within a frame or two; a point off every shape shows none
                text = page.wait_for_function(TOOLTIP, polling="raf", timeout=2_000).json_value()
            except PlaywrightTimeout:
                continue
            if wanted(text):
                return text
    return text


def _largest_branch(data, year: int):
    annual = libraries.annual_sessions(data.library_table("sessions"))
    in_year = annual[annual["year"] == year].set_index("branch_key")["sessions"]
    branches = data.library_table("branches").set_index("branch_key")
    key = in_year.idxmax()
    return branches.loc[key], in_year[key]


def _view(data) -> dict:
    return maps.view_of(data.boundaries("community_area", web=True))


def test_branch_tooltip_appears_when_the_layer_is_turned_on(page, streamlit_server, data):
    year = max(libraries.full_years(libraries.annual_sessions(data.library_table("sessions"))))
    branch, sessions = _largest_branch(data, year)
    open_page(page, f"{streamlit_server}/libraries", MAP)
    chart = page.get_by_test_id("stDeckGlJsonChart").first
    toggle = page.get_by_text("Show public library branches")

    with after_rerun(page, MAP):
        toggle.click()
    off = _hover_tooltip(page, chart, _view(data), branch, lambda text: branch["branch"] not in text)
    assert off and branch["branch"] not in off  # the area under it answers, not the branch

    with after_rerun(page, MAP):
        toggle.click()
    text = _hover_tooltip(page, chart, _view(data), branch, lambda text: branch["branch"] in text)
    assert branch["branch"] in text
    assert branch["address"] in text
    assert f"Public computer sessions in {year}: {sessions:,.0f}" in text
    assert "Hours:" in text


def test_map_page_branch_layer_turns_on_and_shows_its_tooltip(page, streamlit_server, data):
    year = max(libraries.full_years(libraries.annual_sessions(data.library_table("sessions"))))
    branch, sessions = _largest_branch(data, year)
    open_page(page, f"{streamlit_server}/map", MAP)
    with after_rerun(page, MAP):
        page.get_by_text("Show public library branches").click()
    text = _hover_tooltip(page, page.get_by_test_id("stDeckGlJsonChart").first, _view(data), branch,
                          lambda text: branch["branch"] in text)
    assert branch["branch"] in text
    assert f"Public computer sessions in {year}: {sessions:,.0f}" in text
    assert "{" not in text  # every field of the shared template is filled


def test_a_click_on_a_branch_leaves_the_picked_area_as_it_was(page, streamlit_server, data):
    """On the Map page the branches are drawn in the areas' layer: a click on one must not pick (or unpick)
    an area, as a click on an area does."""
    from shapely.geometry import Point

    year = max(libraries.full_years(libraries.annual_sessions(data.library_table("sessions"))))
    branch, _ = _largest_branch(data, year)
    areas = data.boundaries("community_area", web=True)
    under = set(areas.loc[areas.contains(Point(branch["longitude"], branch["latitude"])), "area_id"])
    picked = next(area_id for area_id in areas["area_id"] if area_id not in under)
    open_page(page, f"{streamlit_server}/map?geography=community_area&area={picked}", MAP)
    with after_rerun(page, MAP):
        page.get_by_text("Show public library branches").click()
    text = _hover_tooltip(page, page.get_by_test_id("stDeckGlJsonChart").first, _view(data), branch,
                          lambda text: branch["branch"] in text)
    assert branch["branch"] in text, "the pointer is not on the branch"
    with after_rerun(page, MAP):
        page.mouse.down()
        page.mouse.up()
    assert f"area={picked}" in page.url
