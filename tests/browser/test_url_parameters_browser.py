"""Bad input in links, in a real browser: hostile values are shown as text, never run, and the pages keep working.

The full catalogue (every parameter of every page, every kind of bad value)
runs under AppTest in tests/test_url_parameters.py; these cases check what
only a browser shows: how the notice renders, that no script or dialog runs,
and that the server keeps serving after very long links.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from .conftest import open_page, script_runs, wait_until_idle

pytestmark = pytest.mark.browser

NOTICE_LIMIT = 400
MARKUP_ELEMENTS = "a, strong, em, img, script, iframe, h1, h2, li, .katex, [data-testid='stIconMaterial']"
"""Elements a notice would hold if a link's value were rendered as markdown, HTML or LaTeX."""
INJECTIONS = {
    "geo": "[Click here](https://example.com) **now**",
    "metric": "<img src=x onerror=alert(1)>",
    "cunit": "<script>alert(1)</script>",
    "sort": "x\n\n# Heading\n- item",
    "value": "`` ` **x** ``",
    "tmetric": ":red[x] $x^2$ :material/home:",
    "areas": "=HYPERLINK(\"http://x\")",
    "sides": "'; DROP TABLE x;--",
    "wards": "\u202eevil\x00 📶",
}


@pytest.fixture
def watched(page):
    """The browser page, failing the test if any JavaScript dialog (alert, confirm, prompt) opens."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    assert dialogs == [], f"a dialog opened: {dialogs}"


def notice_for(page, name: str):
    """The warning naming query parameter ``name``."""
    alerts = page.get_by_test_id("stAlert").filter(has_text=f"The link's {name} value")
    assert alerts.count() == 1, [a.inner_text() for a in page.get_by_test_id("stAlert").all()]
    return alerts.first


#: A page's table: a data grid, or the plain HTML table beside a map (dashboard/tables.py).
TABLE = '[data-testid="stMain"] :is([data-testid="stDataFrame"], table.equity-table)'


def assert_page_works(page) -> None:
    # a grid's code arrives as its own file the first time a browser shows one: wait for the table to be drawn
    wait_until_idle(page, TABLE)
    assert page.locator(TABLE).first.is_visible()
    assert page.get_by_test_id("stException").count() == 0


def query(page) -> dict:
    return {name: values[-1] for name, values in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def test_injected_markup_in_a_link_is_shown_as_text_and_nothing_runs(watched, streamlit_server, data):
    page = watched
    open_page(page, f"{streamlit_server}/explorer?{urlencode(INJECTIONS)}")
    for name, value in INJECTIONS.items():
        notice = notice_for(page, name)
        assert notice.locator(MARKUP_ELEMENTS).count() == 0, notice.inner_html()
        assert notice.locator("code").count() == 2  # the parameter's name and its value
        text = notice.inner_text()
        assert len(text) <= NOTICE_LIMIT
        if name in ("metric", "cunit", "areas", "sides"):
            assert value in text  # shown exactly as the link has it
    assert "\\u202eevil\\x00 📶" in notice_for(page, "wards").inner_text()
    assert_page_works(page)
    community_areas = data.metrics.loc[data.metrics["geography"] == "community_area", "area_id"].nunique()
    assert f"showing {community_areas} of {community_areas}" in page.get_by_test_id("stMain").inner_text()
    assert not set(INJECTIONS.values()) & set(query(page).values())
    assert query(page)["geo"] == "community_area"


def test_a_10000_character_link_value_gets_a_short_notice_and_keeps_the_valid_values(watched, streamlit_server):
    page = watched
    open_page(page, f"{streamlit_server}/map?metric=no_computer&geography={'x' * 10_000}")
    text = notice_for(page, "geography").inner_text()
    assert len(text) <= NOTICE_LIMIT and "x" * 41 not in text
    assert_page_works(page)
    assert page.get_by_role("radio", name="Community areas").is_checked()
    assert query(page)["geography"] == "community_area" and query(page)["metric"] == "no_computer"


@pytest.mark.parametrize("path, name, kept", [
    ("map", "geography", {"metric": "no_computer"}),
    ("downloads", "geo", {"metrics": "no_computer"}),
])
def test_a_100000_character_value_reaching_a_page_gets_a_short_notice(watched, streamlit_server, path, name, kept):
    """The browser hands the page a 100,000-character value through history navigation (back to a pushed URL).

    A link that long opened directly is often refused by the web server
    before the app sees it (see the next test); this is the way such a value
    can still reach the page in a browser.
    """
    page = watched
    start = f"/{path}?{urlencode(kept)}"
    open_page(page, streamlit_server + start)
    long_url = f"/{path}?{urlencode({**kept, name: '<b>' * 33_334})}"
    runs = script_runs(page)
    page.evaluate("([long, start]) => { history.pushState(null, '', long); history.pushState(null, '', start);"
                  " history.back(); }", [long_url, start])
    page.wait_for_function(f"() => !location.search.includes('%3Cb%3E') && location.search.includes('{name}=')")
    wait_until_idle(page, since=runs)
    text = notice_for(page, name).inner_text()
    assert len(text) <= NOTICE_LIMIT and "<b>" * 14 not in text
    assert notice_for(page, name).locator(MARKUP_ELEMENTS).count() == 0
    assert_page_works(page)
    for other, value in kept.items():
        assert query(page)[other] == value


def test_a_100000_character_link_opened_directly_does_not_stop_the_server(watched, streamlit_server, data):
    """The web server may refuse a request line this long (HTTP 400; HAProxy in front of the dashboard: 414 with a
    message naming why) or pass it on; either way the next load works."""
    page = watched
    long_link = f"{streamlit_server}/ward?ward={'x' * 100_000}"
    with page.expect_response(lambda response: response.url.startswith(f"{streamlit_server}/ward?")) as answer:
        try:
            page.goto(long_link)
        except Exception as refused:  # chromium reports an error status of the document as a navigation failure
            assert "ERR_HTTP_RESPONSE_CODE_FAILURE" in str(refused)
    if answer.value.status == 200:
        wait_until_idle(page, since=0)
        assert len(notice_for(page, "ward").inner_text()) <= NOTICE_LIMIT
        assert page.get_by_test_id("stException").count() == 0
    elif answer.value.status == 414:
        assert "This link cannot be opened" in answer.value.text() and "Shorten it" in answer.value.text()
    else:
        assert answer.value.status == 400

    open_page(page, f"{streamlit_server}/ward?ward=20")
    assert page.get_by_role("heading", name="Ward 20").count() >= 1
    assert page.get_by_test_id("stException").count() == 0
    # no notice about the link's values (the brief's own notes, e.g. how to see change, may show)
    assert page.get_by_test_id("stAlert").filter(has_text="The link's").count() == 0
