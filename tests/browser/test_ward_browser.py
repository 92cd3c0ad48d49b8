"""The ward brief in a real browser: the ward from the link, its figures, its map, and print layout."""

import pytest
from playwright.sync_api import expect

from .conftest import open_page

pytestmark = pytest.mark.browser


def test_ward_link_shows_that_wards_figures_and_map(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/ward?ward=20", '[data-testid="stDeckGlJsonChart"]')
    row = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["area_id"] == "20")
                       & (data.metrics["metric"] == "unconnected") & (data.metrics["year"] == data.latest_year)].iloc[0]
    assert page.get_by_test_id("stHeading").first.inner_text().startswith("Ward 20")
    metric = page.get_by_test_id("stMetric").first.inner_text()
    assert f"{row['count']:,.0f} ± {row['count_moe']:,.0f}" in metric
    assert "highest of 50" in page.get_by_test_id("stMain").inner_text()
    assert page.locator('[data-testid="stDeckGlJsonChart"] canvas').count() >= 1


#: The page's style sheets drawn by its script (st.html with only a style sheet is drawn outside the main area).
PAGE_STYLE = '[data-testid="stApp"] [data-testid="stHtml"] style'


def test_printing_the_brief_leaves_out_the_sidebar_and_the_ward_picker(page, streamlit_server):
    # The print rules arrive with the script's run: read the page once they are drawn.
    open_page(page, f"{streamlit_server}/ward?ward=20", PAGE_STYLE)
    styles = page.locator(PAGE_STYLE).evaluate_all("sheets => sheets.map(sheet => sheet.textContent)")
    assert any("@media print" in text for text in styles), "the ward page drew no print style sheet"
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    expect(page.locator(".st-key-ward-choice")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.locator(".st-key-ward-choice")).to_be_hidden()
    expect(page.get_by_test_id("stHeading").first).to_be_visible()
