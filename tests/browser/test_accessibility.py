"""Accessibility in a real browser: axe-core on every page of the navigation, and keyboard reach.

axe-core (bundled by the axe-playwright-python package) runs against each
page listed in the sidebar navigation, so a new page is checked as soon as it
is added to app.py. Serious and critical violations fail the test.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import open_page, wait_until_idle

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


def _page_urls(page, base: str) -> list[str]:
    open_page(page, base)
    links = page.locator('[data-testid="stSidebarNav"] a')
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    urls = {h if h.startswith("http") else base + "/" + h.lstrip("/") for h in hrefs}
    return sorted(urls | {base + "/"})


def test_every_page_has_no_serious_or_critical_axe_violations(page, streamlit_server):
    axe = Axe()
    problems = []
    for url in _page_urls(page, streamlit_server):
        open_page(page, url)
        page.wait_for_timeout(500)
        wait_until_idle(page)
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
                problems.append(f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    assert not problems, "\n".join(problems)


def test_keyboard_tab_reaches_the_page_controls(page, streamlit_server):
    """Tabbing from the top reaches the navigation and the main area's first control."""
    open_page(page, streamlit_server)
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(
            "() => { const e = document.activeElement; if (!e) return '';"
            " if (e.closest('[data-testid=\"stSidebarNav\"]')) return 'nav';"
            " if (e.closest('[data-testid=\"stMain\"]')) return 'main'; return e.tagName; }"))
        if {"nav", "main"} <= reached:
            break
    assert {"nav", "main"} <= reached, f"keyboard focus reached only {reached}"
