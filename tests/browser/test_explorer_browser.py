"""The Neighborhood explorer in a real browser: filters shrink the table, a copied URL restores the view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from equity import compare, metrics

from .conftest import after_rerun, open_page

pytestmark = pytest.mark.browser


GRID = '[data-testid="stDataFrame"]'


def ranking_grid(page):
    """The ranking table: the first data grid on the page (the Ranking tab is open by default)."""
    return page.get_by_test_id("stDataFrame").first


def shown_rows(page) -> int:
    """Data rows in the ranking table, from the grid's ARIA row count (header row excluded)."""
    return int(ranking_grid(page).locator('[role="grid"]').first.get_attribute("aria-rowcount")) - 1


def first_column(page) -> set[str]:
    grid = ranking_grid(page).locator('[role="grid"]').first
    return {cell.strip() for cell in grid.locator('tr td:first-child').all_inner_texts()}


def open_explorer(page, base_url: str, query: str = "") -> None:
    open_page(page, f"{base_url}/explorer{query}", GRID)


def test_side_filter_shrinks_the_table_to_that_sides_areas(page, streamlit_server, data):
    open_page(page, streamlit_server)
    with after_rerun(page, GRID):
        page.get_by_test_id("stSidebarNav").get_by_text("Neighborhood explorer").click()
    assert shown_rows(page) == 77

    sides = compare.read_sides()
    expected = set(sides.loc[sides["side"] == "Far Southwest Side", "community_area"])
    box = page.get_by_test_id("stMultiSelect").filter(has_text="By side of the city")
    box.locator("input").fill("Far Southwest")
    with after_rerun(page, GRID):
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stMain")).to_contain_text(f"showing {len(expected)} of 77")
    # the grid draws its new rows after the script's run: wait for them, fail if they never come
    expect(ranking_grid(page).locator('[role="grid"]').first).to_have_attribute("aria-rowcount",
                                                                               str(len(expected) + 1))
    assert shown_rows(page) == len(expected)
    assert first_column(page) == expected
    assert parse_qs(urlparse(page.url).query)["sides"] == ["Far Southwest Side"]


def test_copied_url_restores_geography_measure_and_side(page, streamlit_server, data):
    open_explorer(page, streamlit_server, "?geo=ward&metric=no_computer&sides=Central")
    wards = compare.ward_sides(data.ward_community_areas, compare.read_sides())
    expected = set(wards.loc[wards["side"] == "Central", "ward"])
    assert shown_rows(page) == len(expected)
    assert first_column(page) == expected
    main = page.get_by_test_id("stMain").inner_text()
    period = metrics.period_label(data.latest_year)
    assert f"Households without a computer, {period}: showing {len(expected)} of 50 wards" in main
    assert "Central" in page.get_by_test_id("stMultiSelect").filter(has_text="By side of the city").inner_text()


def test_bad_link_parameter_shows_a_notice_and_keeps_every_area(page, streamlit_server):
    open_explorer(page, streamlit_server, "?sides=Atlantis")
    notice = page.get_by_test_id("stAlert").first.inner_text()
    assert "sides" in notice and "Atlantis" in notice
    assert shown_rows(page) == 77
