"""Change between ACS periods in a real browser, with the synthetic 2019–2023 stand-in loaded: the ward brief's
trend (also on paper) and the explorer's filter by change."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from equity import change, queries

from .conftest import after_rerun, open_page

pytestmark = pytest.mark.browser

CHART = '[data-testid="stMain"] [data-testid="stVegaLiteChart"]'
GRID = '[data-testid="stDataFrame"]'


def test_the_ward_brief_draws_the_wards_trend_beside_the_citys_and_prints_it(page, server_with_2023):
    url, later = server_with_2023
    open_page(page, f"{url}/ward?ward=20", '.st-key-ward-trend [data-testid="stVegaLiteChart"]')
    moved = queries.change_rows(later, "ward", "unconnected", 2021, 2023).loc["20"]
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(change.in_words(moved, overlap=False))
    expect(main).to_contain_text("synthetic stand-in")
    trend = page.locator(".st-key-ward-trend")
    expect(trend).to_be_visible()
    assert "Ward 20" in trend.inner_text() and "City of Chicago" in trend.inner_text()  # the legend names both
    page.emulate_media(media="print")
    expect(trend).to_be_visible()
    expect(page.locator(".st-key-ward-choice")).to_be_hidden()


def test_the_explorer_keeps_only_the_areas_whose_change_the_survey_cannot_tell(page, server_with_2023):
    url, later = server_with_2023
    open_page(page, f"{url}/explorer?geo=ward", GRID)
    page.get_by_role("tab", name="Change over time").click()  # tabs switch in the browser, with no rerun
    panel = page.get_by_role("tabpanel", name="Change over time")
    expect(panel).to_be_visible()
    counts = queries.verdict_counts(later, "ward", "unconnected", 2021, 2023)
    box = panel.get_by_test_id("stMultiSelect").filter(has_text="Show areas whose change is")
    box.locator("input").fill("Cannot tell")
    with after_rerun(page, GRID):
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(panel).to_contain_text(f"Showing {counts[change.CANNOT_TELL]}.")
    grid = panel.get_by_test_id("stDataFrame").locator('[role="grid"]').first
    expect(grid).to_have_attribute("aria-rowcount", str(counts[change.CANNOT_TELL] + 1))
    assert parse_qs(urlparse(page.url).query)["change"] == [change.CANNOT_TELL]
    expect(panel.locator('[data-testid="stVegaLiteChart"]')).to_be_visible()


MAP = '[data-testid="stDeckGlJsonChart"]'


def test_the_change_map_is_drawn_and_its_tooltip_gives_both_periods_and_the_change(page, server_with_2023):
    url, later = server_with_2023
    open_page(page, f"{url}/map?view=change&geography=community_area", MAP)
    legend = page.locator(".equity-legend")
    expect(legend).to_contain_text("Outline only: not statistically significant")
    moved = queries.change_rows(later, "community_area", "unconnected", 2021, 2023)
    expect(legend).to_contain_text(f"({int((~moved['significant']).sum())} community areas)")
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".deck-tooltip")
    expect(tooltip).to_contain_text("Change:")
    text = tooltip.inner_text()
    assert "2017–2021 ACS 5-year:" in text and "2019–2023 ACS 5-year:" in text and "±" in text
    assert "improved significantly" in text or "not statistically significant" in text
