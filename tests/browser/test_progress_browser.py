"""The progress page in a real browser: uploading a bad and a good targets file, and a second ACS year."""

from __future__ import annotations

import re

import pytest

from equity import target_files, targets

from .conftest import after_rerun, open_page, wait_until_idle

pytestmark = pytest.mark.browser

CHART = '[data-testid="stMain"] [data-testid="stVegaLiteChart"]'
HEADER = "metric,geography,area_id,measure,baseline_year,target_value,target_year,source\n"


def open_progress(page, base_url: str) -> None:
    open_page(page, base_url)
    with after_rerun(page, CHART, count="all"):
        page.get_by_role("link", name="Progress to targets").click()
    page.get_by_role("heading", name="Progress to the Digital Equity Plan's targets").wait_for()


def target_headings(page) -> list[str]:
    """The target cards' headings ('<measure>, <area>: <goal> by <year>  <status>')."""
    cards = page.locator('[data-testid="stMain"] h3').filter(has_text=re.compile(r": .* by \d{4}"))
    return [h.strip() for h in cards.all_inner_texts()]


def upload(page, name: str, content: bytes) -> None:
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Your targets file")
    with after_rerun(page):
        uploader.locator('input[type="file"]').set_input_files({"name": name, "mimeType": "text/csv",
                                                                 "buffer": content})


def test_bad_upload_shows_each_problem_and_changes_nothing_then_a_good_one_redraws(page, streamlit_server, data):
    open_progress(page, streamlit_server)
    before = target_headings(page)
    shipped = target_files.load_targets(target_files.known_areas(data.metrics))
    assert len(before) == len(shipped)

    upload(page, "bad-targets.csv", (HEADER + "unconnected,ward,51,share,2021,1.5,2030,x\n").encode())
    alert = page.get_by_test_id("stAlertContentError").filter(has_text="bad-targets.csv")
    alert.wait_for()
    message = alert.inner_text()
    assert "Row 2, column 'area_id': '51' is not a ward number (1–50)" in message
    assert "Row 2, column 'target_value': 1.5 is outside 0–1" in message
    assert target_headings(page) == before

    ward = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["area_id"] == "28")
                        & (data.metrics["metric"] == "no_computer") & (data.metrics["year"] == 2021)].iloc[0]
    upload(page, "ward-28.csv", (HEADER + "no_computer,ward,28,count,2021,0,2029,Ward 28 office\n").encode())
    page.get_by_text("In use for this session: your file").wait_for()
    shown = target_headings(page)
    assert len(shown) == 1 and shown[0].startswith("Households without a computer, Ward 28: 0 households by 2029")
    main = page.get_by_test_id("stMain").inner_text()
    assert f"{ward['count']:,.0f} ± {ward['count_moe']:,.0f}" in main


def test_a_second_acs_year_shows_the_change_with_its_significance(page, server_with_2023, tmp_path):
    url, later = server_with_2023
    open_progress(page, url)
    wait_until_idle(page, CHART, count=2)  # the change since the baseline adds its own chart
    main = page.get_by_test_id("stMain").inner_text()
    assert "Only the baseline period is loaded" not in main
    assert "Latest, 2019–2023 ACS 5-year" in main
    assert "share 3 of their 5 years" in main
    shipped = target_files.load_targets(target_files.known_areas(later.metrics))
    row = targets.headline(targets.progress(shipped, later.metrics)).set_index("metric").loc["unconnected"]
    words = "statistically significant" if row["significant"] else "not statistically significant"
    change = page.get_by_text("Change since 2017–2021 ACS 5-year").first.inner_text()
    assert f"{row['change']:+,.0f} ± {row['change_moe']:,.0f} households ({words} at the 90% level" in change
    assert page.locator(CHART).count() >= 2
    page.screenshot(path=str(tmp_path / "progress-2023.png"), full_page=True)
