"""A shared link opened on a freshly started server goes through app.py's navigation."""

import pytest

from .conftest import open_page, start_server, stop_server

pytestmark = pytest.mark.browser


def test_a_deep_link_to_a_fresh_server_shows_the_app_navigation_and_keeps_the_query(page, data):
    process, url = start_server()
    try:
        open_page(page, f"{url}/map?geography=ward", '[data-testid="stSidebarNav"] a')
        nav = page.get_by_test_id("stSidebarNav").inner_text()
        assert "Overview" in nav and "Neighborhood explorer" in nav
        assert "common" not in nav.split()
        assert "geography=ward" in page.url
        assert page.get_by_role("radio", name="Wards").is_checked()
    finally:
        stop_server(process)
