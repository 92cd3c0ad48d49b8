"""The progress page in Streamlit's AppTest: baseline-only notice, targets, uploads, where the gap is, a second ACS year."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from equity import cache, census_api, compare, config, target_files, targets
from dashboard import common

from .conftest import SNAPSHOT, open_app_page

REPLAY = config.REPO_ROOT / "tests" / "fixtures" / "census_api"
HEADER = "metric,geography,area_id,measure,baseline_year,target_value,target_year,source\n"


def build_cache_with_2023(root: Path):
    """A cache of the real snapshot plus the recorded-API 2019–2023 stand-in (synthetic; see its README)."""
    table = census_api.fetch_acs_tracts(2023, session=census_api.ReplaySession(REPLAY))
    cache.write_parquet_atomic(table, cache.api_year_path(root, 2023))
    return cache.load(SNAPSHOT, root)


def open_progress(data_dir: Path | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=180)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/progress.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [m.value for m in at.info] + [m.value for m in at.warning]
                     + [m.value for m in at.error] + [m.value for m in at.success] + [c.value for c in at.caption])


def headings(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("### ")]


@pytest.fixture
def fresh_data():
    """Each test starts from the dashboard data of the current EQUITY_CACHE, and leaves none behind."""
    common.dashboard_data.clear()
    yield
    common.dashboard_data.clear()


def test_with_only_the_baseline_the_page_says_so_and_how_to_add_a_year(data, fresh_data):
    assert data.years == [2021]
    at = open_progress()
    notice = " ".join(i.value for i in at.info)
    assert "Only the baseline period is loaded" in notice
    assert "python -m equity fetch --year 2023" in notice and "CENSUS_API_KEY" in notice
    shipped = target_files.load_targets(target_files.known_areas(data.metrics))
    assert len(headings(at)) == len(shipped)
    assert all("Cannot tell yet" in h for h in headings(at))
    assert len(at.get("vega_lite_chart")) == 2, ("only the where-the-gap-is chart and the ACP enrollment series, "
                                                 "no empty progress charts")


def test_baseline_card_shows_the_pipeline_estimate_with_its_moe(data, fresh_data):
    at = open_progress()
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "unconnected")
                        & (data.metrics["year"] == 2021)].iloc[0]
    values = [m.value for m in at.metric]
    assert f"{city['count']:,.0f} ± {city['count_moe']:,.0f}" in values


def half_of_gap(data, geography_name: str, year: int) -> int:
    rows = data.metrics[(data.metrics["geography"] == geography_name) & (data.metrics["metric"] == "unconnected")
                        & (data.metrics["year"] == year)].sort_values("count", ascending=False)
    running = rows["count"].cumsum() / rows["count"].sum()
    return int((running.shift(fill_value=0) < 0.5).sum())


def test_where_the_gap_is_counts_the_community_areas_holding_half(data, fresh_data):
    at = open_progress()
    expected = half_of_gap(data, "community_area", 2021)
    assert f"**{expected} of 77 community areas** together hold half" in texts(at)


def test_where_the_gap_is_per_ward_from_the_link(data, fresh_data):
    at = open_progress(query={"gap": "ward"})
    expected = half_of_gap(data, "ward", 2021)
    assert f"**{expected} of 50 wards** together hold half" in texts(at)
    assert at.radio(key="gap-geography").value == "ward"


@pytest.mark.parametrize("gap", ["community_area", "ward"])
def test_the_city_total_is_the_city_row_on_the_overview_and_where_the_gap_is(data, fresh_data, gap):
    # Summed over community areas the MOE would be 3,432 (over wards 3,166); the city row's is 3,436.
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "unconnected")
                        & (data.metrics["year"] == data.latest_year)].iloc[0]
    total = common.count_with_moe(city)
    assert total == "171,879 ± 3,436"
    overview = open_app_page("pages/overview.py")
    assert any(m.value == total for m in overview.metric)
    assert f"half of the city's {total} households" in texts(open_progress(query={"gap": gap}))


def test_a_bad_gap_link_value_falls_back_with_a_notice(data, fresh_data):
    at = open_progress(query={"gap": "county"})
    assert any("`gap`" in w.value and "county" in w.value for w in at.warning)
    assert "of 77 community areas" in texts(at)


def shown_table(at: AppTest, column: str) -> pd.DataFrame:
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def test_the_next_reader_gets_the_figures_a_fresh_computation_gives(data, fresh_data):
    """The project's targets, their progress and the gap tables are made once and shared by every session
    (``st.cache_resource``): a page that changed one would change every later reader's figures."""
    first = open_progress()
    first.radio(key="gap-geography").set_value("ward").run()
    first.radio(key="gap-geography").set_value("community_area").run()
    second = open_progress()

    progress = targets.progress(target_files.load_targets(target_files.known_areas(data.metrics)), data.metrics)
    detail = shown_table(second, "Change since baseline")
    assert detail["Estimate"].tolist() == progress["value"].tolist()
    assert detail["Margin of error (90%)"].tolist() == progress["moe"].tolist()
    assert detail["Status"].tolist() == progress["status"].tolist()
    gap = compare.gap_concentration(data.metrics, "community_area", "unconnected", data.latest_year)
    shown = shown_table(second, "Among the areas holding half")
    assert shown["Area"].tolist() == gap["area_name"].tolist()
    assert shown["Running total MOE (90%)"].tolist() == gap["cumulative_count_moe"].tolist()


def test_a_bad_targets_upload_is_explained_and_changes_nothing(data, fresh_data):
    at = open_progress()
    before = headings(at)
    bad = (HEADER + "unconnected,ward,99,count,2021,0,2030,x\nbroadband,city,,count,2021,0,2030,x\n").encode()
    at.file_uploader(key="progress-targets-upload").upload("mine.csv", bad, "text/csv")
    at.run()
    error = " ".join(e.value for e in at.error)
    assert "mine.csv" in error and "2 problem(s)" in error
    assert "Row 2, column 'area_id': '99' is not a ward number (1–50)" in error
    assert "Row 3, column 'metric': 'broadband' is not a known metric" in error
    assert headings(at) == before


def test_a_good_targets_upload_is_used_for_the_session_and_can_be_undone(data, fresh_data):
    at = open_progress()
    before = headings(at)
    good = (HEADER + "unconnected,community_area,25,count,2021,1000,2028,Austin plan\n").encode()
    at.file_uploader(key="progress-targets-upload").upload("austin.csv", good, "text/csv")
    at.run()
    assert not at.exception
    assert len(headings(at)) == 1 and "Austin" in headings(at)[0] and "1,000 households by 2028" in headings(at)[0]
    assert any("austin.csv" in s.value for s in at.success)
    austin = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["area_id"] == "25")
                          & (data.metrics["metric"] == "unconnected") & (data.metrics["year"] == 2021)].iloc[0]
    assert f"{austin['count']:,.0f} ± {austin['count_moe']:,.0f}" in [m.value for m in at.metric]
    at.button(key="progress-targets-reset").click()
    at.run()
    assert headings(at) == before


def test_a_bad_upload_after_a_good_one_keeps_the_good_one(data, fresh_data):
    at = open_progress()
    at.file_uploader(key="progress-targets-upload").upload(
        "austin.csv", (HEADER + "unconnected,community_area,25,count,2021,1000,2028,Austin plan\n").encode())
    at.run()
    at.file_uploader(key="progress-targets-upload").upload("empty.csv", b"")
    at.run()
    assert any("empty.csv" in e.value and "is empty" in e.value for e in at.error)
    assert len(headings(at)) == 1 and "Austin" in headings(at)[0]


def test_a_milestones_upload_redraws_the_progress_bars(data, fresh_data):
    at = open_progress()
    raw = b"name,date,value,target,target_date,source,unit\nHotspots lent,2025-01-31,30,120,2026-06-30,Library,hotspots\n"
    at.file_uploader(key="progress-milestones-upload").upload("m.csv", raw)
    at.run()
    bars = at.get("progress")
    assert len(bars) == 1
    assert bars[0].proto.value == 25  # 30 of 120, as a percentage
    assert "30 of 120 hotspots (25%)" in bars[0].proto.text


def test_shipped_illustrative_milestones_are_labelled(data, fresh_data):
    at = open_progress()
    shown = targets.milestone_progress(target_files.load_milestones())
    labelled = [m.value for m in at.markdown if "Illustrative values" in m.value]
    assert len(labelled) == int(shown["illustrative"].sum()) > 0


@pytest.fixture(scope="module")
def cache_with_2023(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache-2023")
    build_cache_with_2023(root)
    return root


def test_a_second_acs_year_shows_the_change_and_its_significance(cache_with_2023, fresh_data, monkeypatch):
    monkeypatch.setenv("EQUITY_CACHE", str(cache_with_2023))
    common.dashboard_data.clear()
    later = cache.load(SNAPSHOT, cache_with_2023)
    assert later.years == [2021, 2023]
    at = open_progress()
    assert not any("Only the baseline period is loaded" in i.value for i in at.info)
    assert any("Overlapping periods" in w.value and "share 3 of their 5 years" in w.value for w in at.warning)

    city = later.metrics[(later.metrics["geography"] == "city") & (later.metrics["metric"] == "unconnected")]
    shipped = target_files.load_targets(target_files.known_areas(later.metrics))
    row = targets.headline(targets.progress(shipped, later.metrics)).set_index("metric").loc["unconnected"]
    assert row["year"] == 2023
    assert row["change"] == pytest.approx(city.set_index("year").loc[2023, "count"]
                                          - city.set_index("year").loc[2021, "count"])
    words = "statistically significant" if row["significant"] else "not statistically significant"
    sentence = f"**{row['change']:+,.0f} ± {row['change_moe']:,.0f}** households ({words} at the 90% level"
    assert sentence in texts(at)
    heading = next(h for h in headings(at) if h.startswith("### Households without an internet subscription"))
    assert row["status"].capitalize() in heading
    assert len(at.get("vega_lite_chart")) == len(shipped) + 2, ("a progress chart per target, the gap chart and "
                                                                "the ACP enrollment series")


def test_a_synthetic_period_is_flagged_on_every_page_and_the_snapshot_alone_is_not(cache_with_2023, fresh_data,
                                                                                     monkeypatch):
    """The fixture's 2019–2023 is made-up: every page says so at the top; the real snapshot build never does."""
    plain = open_progress()
    assert not any("synthetic" in w.value for w in plain.warning)

    monkeypatch.setenv("EQUITY_CACHE", str(cache_with_2023))
    common.dashboard_data.clear()
    period = cache.load(SNAPSHOT, cache_with_2023).manifest["years"]["2023"]["period"]
    for page in ("pages/overview.py", "pages/map.py", "pages/progress.py", "pages/methodology.py"):
        at = AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=180)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, page
        banner = [w.value for w in at.warning if "synthetic stand-in" in w.value]
        assert banner and period in banner[0] and "not Census Bureau data" in banner[0], page
