"""The Programs page in a real browser: what a planner sees of the Affordable Connectivity Program."""

import io

import pandas as pd

from equity import program_queries as programs

from .conftest import after_rerun, open_page

MAP = '[data-testid="stDeckGlJsonChart"]'
CHART = '[data-testid="stMain"] [data-testid="stVegaLiteChart"]'
GRID = '[data-testid="stDataFrame"]'


def test_programs_page_draws_the_map_the_series_and_the_ranked_table(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/programs?geo=ward", f"{MAP}, {CHART}", 3)
    main = page.get_by_test_id("stMain")
    assert page.locator(f"{MAP} canvas").count() >= 1
    legend = page.locator(".equity-legend").inner_text()
    assert "Enrolled households" in legend and "(10 wards)" in legend
    assert page.locator(CHART).count() >= 2
    text = main.inner_text()
    city = programs.city(data, programs.last_release(data))
    assert f"{city['enrolled_households']:,.0f}" in text
    assert "7 February 2024" in text and "1 June 2024" in text
    assert "Where its end leaves households" in text
    assert page.locator(GRID).count() >= 2


def test_hovering_over_the_map_shows_acp_figures_beside_unconnected_households(page, streamlit_server):
    open_page(page, f"{streamlit_server}/programs", MAP)
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "ACP enrolled households:" in text and "Uptake:" in text
    assert "Unconnected households (ACS):" in text and "±" in text


def test_choosing_uptake_and_an_area_updates_the_link_and_the_series(page, streamlit_server):
    open_page(page, f"{streamlit_server}/programs", MAP)
    with after_rerun(page, MAP):
        page.get_by_test_id("stRadio").filter(has_text="Colour by").get_by_text("Uptake").click()
    assert "measure=uptake" in page.url
    assert "Darker = lower uptake" in page.locator(".equity-legend").inner_text()
    box = page.get_by_test_id("stSelectbox").filter(has_text="beside the city")
    box.click()
    box.locator("input").fill("Austin")
    with after_rerun(page, CHART, 2):
        page.get_by_role("option", name="Austin").click()
    assert "area=25" in page.url


def test_the_ranked_table_downloads_with_its_provenance(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/programs?geo=community_area", GRID, 2)
    buttons = page.get_by_test_id("stDownloadButton")
    with page.expect_download() as arrived:
        buttons.filter(has_text="Download this table (CSV)").nth(1).get_by_role("button").click()
    table = pd.read_csv(io.BytesIO(open(arrived.value.path(), "rb").read()), encoding="utf-8-sig")
    ranked = programs.where_end_leaves(data, "community_area")
    assert list(table["Community area"].head(5)) == list(ranked["area_name"].head(5))
    assert list(table["Rank"].head(3)) == [1, 2, 3]
    with page.expect_download() as note:
        buttons.filter(has_text="Provenance note (TXT)").nth(1).get_by_role("button").click()
    assert "Local Self-Reliance" in open(note.value.path(), encoding="utf-8").read()


def test_a_bad_link_parameter_gets_a_notice(page, streamlit_server):
    open_page(page, f"{streamlit_server}/programs?release=yesterday", MAP)
    notice = page.get_by_test_id("stAlert").first.inner_text()
    assert "release value yesterday is not one this page knows" in notice
