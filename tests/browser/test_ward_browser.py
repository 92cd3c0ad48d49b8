"""The ward brief in a real browser: the ward from the link, its figures, its map, and print layout."""

import pytest

from .conftest import open_page

pytestmark = pytest.mark.browser


def test_ward_link_shows_that_wards_figures_and_map(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/ward?ward=20")
    row = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["area_id"] == "20")
                       & (data.metrics["metric"] == "unconnected") & (data.metrics["year"] == data.latest_year)].iloc[0]
    assert page.get_by_test_id("stHeading").first.inner_text().startswith("Ward 20")
    metric = page.get_by_test_id("stMetric").first.inner_text()
    assert f"{row['count']:,.0f} ± {row['count_moe']:,.0f}" in metric
    assert "highest of 50" in page.get_by_test_id("stMain").inner_text()
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', state="attached")


def test_printing_the_brief_leaves_out_the_sidebar_and_the_ward_picker(page, streamlit_server):
    open_page(page, f"{streamlit_server}/ward?ward=20")
    assert page.get_by_test_id("stSidebar").is_visible()
    page.emulate_media(media="print")
    assert not page.get_by_test_id("stSidebar").is_visible()
    assert not page.locator(".st-key-ward-choice").is_visible()
    assert page.get_by_test_id("stHeading").first.is_visible()
