"""The map page in a real browser: the deck canvas, switching views, tooltip, detail and shared links."""

import re

import pytest

from equity import metrics

from .conftest import after_rerun, open_page

pytestmark = pytest.mark.browser

MAP = '[data-testid="stDeckGlJsonChart"]'


def heading(page) -> str:
    return page.get_by_test_id("stHeading").filter(has_text=" by ").first.inner_text()


MAP_SERVICES = ("cartocdn", "carto.com", "mapbox", "maptiler", "openstreetmap", "tile", "style.json")


def test_map_page_draws_the_map_canvas_with_its_legend_and_asks_no_tile_server(page, streamlit_server):
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(streamlit_server) and any(s in r.url for s in MAP_SERVICES) else None)
    open_page(page, f"{streamlit_server}/map", MAP)
    assert page.locator(f"{MAP} canvas").count() >= 1
    legend = page.locator(".equity-legend").inner_text()
    assert "Darker = higher share" in legend and "Share of all households" in legend
    assert "Unreliable share (CV over 30%)" in legend
    assert outside == []


def test_switching_geography_and_measure_redraws_the_map_and_updates_the_link(page, streamlit_server):
    open_page(page, f"{streamlit_server}/map", MAP)
    with after_rerun(page, MAP):
        page.get_by_test_id("stRadio").filter(has_text="Areas").get_by_text("Wards").click()
    assert "by ward" in heading(page)
    assert "geography=ward" in page.url
    page.get_by_test_id("stSelectbox").filter(has_text="Measure").click()
    with after_rerun(page, MAP):
        page.get_by_role("option", name=metrics.METRICS["no_computer"].label).click()
    assert heading(page).startswith(metrics.METRICS["no_computer"].label)
    assert "metric=no_computer" in page.url
    assert page.locator(f"{MAP} canvas").count() >= 1


def test_hovering_over_the_city_shows_an_areas_figures_with_moes(page, streamlit_server):
    open_page(page, f"{streamlit_server}/map", MAP)
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert re.search(r"Share of households: \d+\.\d% ± \d+\.\d pts", text)
    assert "Reliability of the share:" in text


def test_clicking_an_area_opens_its_detail_and_puts_it_in_the_link(page, streamlit_server):
    open_page(page, f"{streamlit_server}/map", MAP)
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    with after_rerun(page, ".st-key-map-area-detail"):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"area=\d+"))
    chosen = re.search(r"area=(\d+)", page.url).group(1)
    detail = page.locator(".st-key-map-area-detail")
    detail.wait_for()
    name = page.get_by_test_id("stSelectbox").filter(has_text="Detail for one").locator("input").input_value()
    assert detail.get_by_role("heading", name=name).is_visible()
    assert "Share compared with the city" in detail.get_by_test_id("stTable").first.inner_text()
    assert detail.get_by_test_id("stDataFrame").count() >= 1  # the tracts it contains
    assert chosen


def test_a_shared_link_restores_geography_measure_and_mode(page, streamlit_server):
    open_page(page, f"{streamlit_server}/map?geography=ward&metric=no_computer&mode=count", MAP)
    assert page.get_by_test_id("stRadio").filter(has_text="Areas").get_by_role("radio", name="Wards").is_checked()
    assert page.get_by_test_id("stRadio").filter(has_text="Show as").get_by_role(
        "radio", name="Number of households").is_checked()
    measure = page.get_by_test_id("stSelectbox").filter(has_text="Measure").locator("input").input_value()
    assert measure == metrics.METRICS["no_computer"].label
    assert "(number of households)" in heading(page)
    assert "by ward" in heading(page)


def test_a_bad_link_shows_a_notice_and_the_default_map(page, streamlit_server):
    open_page(page, f"{streamlit_server}/map?geography=county", MAP)
    notice = page.get_by_test_id("stAlert").first.inner_text()
    assert "geography" in notice and "county" in notice
    assert "by community area" in heading(page)


def test_the_map_tables_download_is_made_on_click_and_holds_the_maps_figures(page, streamlit_server, data):
    """The CSV (and its dictionary) are made only when asked for; what arrives is the map's table."""
    import pandas as pd

    from .test_downloads_browser import download

    open_page(page, f"{streamlit_server}/map?geography=ward&metric=unconnected", MAP)
    table = pd.read_csv(download(page, "Download this table (CSV)"), encoding="utf-8-sig")
    truth = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["year"] == data.latest_year)
                         & (data.metrics["metric"] == "unconnected")]
    assert len(table) == len(truth) == 50
    got = table.set_index("Ward")["Households (estimate)"].sort_index()
    expected = truth.set_index(truth["area_id"].astype(int))["count"].round(0).astype(int).sort_index()
    assert got.tolist() == expected.tolist()
    dictionary = pd.read_csv(download(page, "Data dictionary (CSV)"), encoding="utf-8-sig")
    assert set(table.columns) <= set(dictionary["Column or measure"])
