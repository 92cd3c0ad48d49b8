"""The landing page in a real browser: the headline a council member sees first."""

import re

import pytest

from .conftest import after_rerun, open_page

pytestmark = pytest.mark.browser


def test_overview_shows_citywide_unconnected_households_with_moe(page, streamlit_server, data):
    open_page(page, streamlit_server)
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "unconnected")
                        & (data.metrics["year"] == data.latest_year)].iloc[0]
    headline = f"{city['count']:,.0f} ± {city['count_moe']:,.0f}"
    metric = page.get_by_test_id("stMetric").filter(has_text="without an internet subscription").first
    assert headline in metric.inner_text()
    assert re.search(r"\d+\.\d% ± \d+\.\d pts", page.get_by_test_id("stMain").inner_text())


def test_overview_links_into_the_neighborhood_explorer(page, streamlit_server):
    open_page(page, streamlit_server)
    for figure in ["without a computer", "cable, fiber or DSL"]:
        assert page.get_by_test_id("stMetric").filter(has_text=figure).count() == 1
    with after_rerun(page, '[data-testid="stDataFrame"]'):
        page.get_by_test_id("stPageLink").filter(has_text="Neighborhood explorer").click()
    assert page.url.split("?")[0].endswith("/explorer")
    assert page.get_by_role("heading", name="Neighborhood explorer").is_visible()
