"""The Overview and Neighborhood explorer pages under Streamlit's AppTest: figures, filters, URL state, bad links."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_app_page

from equity import compare, metrics

TIMEOUT = 180
EXPLORER = "pages/explorer.py"
CA_ID = "Community area number"
CA_NAME = "Community area"


def open_page(page: str, **params) -> AppTest:
    return open_app_page(page, timeout=TIMEOUT, **params)


def table_with(at: AppTest, column: str):
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with {column!r}; tables: {[list(f.value.columns) for f in at.dataframe]}")


def ranking_ids(at: AppTest) -> set[str]:
    return set(table_with(at, CA_ID)[CA_ID].astype(str))


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def rows(data, geography, metric="unconnected"):
    m = data.metrics
    return m[(m["geography"] == geography) & (m["metric"] == metric) & (m["year"] == data.latest_year)]


def side_ids(side: str) -> set[str]:
    sides = compare.read_sides()
    return set(sides.loc[sides["side"] == side, "community_area"])


# ---- overview -------------------------------------------------------------------------

def test_overview_shows_three_headline_counts_with_moe_and_the_acs_period(data):
    at = open_page("pages/overview.py")
    city = rows(data, "city", "unconnected").iloc[0]
    values = {m.label: m.value for m in at.metric}
    assert len(values) == 3
    for key in ["unconnected", "no_computer", "high_speed_broadband"]:
        row = rows(data, "city", key).iloc[0]
        assert f"{row['count']:,.0f} ± {row['count_moe']:,.0f}" in values.values()
    text = " ".join(m.value for m in at.markdown)
    assert f"{city['share'] * 100:.1f}% ± {city['share_moe'] * 100:.1f} pts" in text
    assert metrics.period_label(data.latest_year) in " ".join(c.value for c in at.caption)


def test_overview_states_reliability_in_words(data):
    at = open_page("pages/overview.py")
    text = " ".join(m.value for m in at.markdown)
    labels = {rows(data, "city", k).iloc[0]["share_reliability"]
              for k in ["unconnected", "no_computer", "high_speed_broadband"]}
    if labels == {"reliable"}:
        assert "Reliable estimate" in text and "all reliable" in text
    else:
        assert "not all reliable" in text


# ---- explorer: filters ----------------------------------------------------------------

def test_explorer_lists_every_community_area_by_default(data):
    at = open_page(EXPLORER)
    assert ranking_ids(at) == set(rows(data, "community_area")["area_id"])
    assert not at.warning


def test_side_filter_keeps_only_that_sides_areas_and_goes_into_the_url():
    at = open_page(EXPLORER)
    at.multiselect(key="explorer-sides").set_value(["Far Southwest Side"]).run()
    assert ranking_ids(at) == side_ids("Far Southwest Side")
    assert at.query_params["sides"] in ("Far Southwest Side", ["Far Southwest Side"])


def test_side_filter_restored_from_the_url():
    at = open_page(EXPLORER, sides="Central")
    assert ranking_ids(at) == side_ids("Central") == {"8", "32", "33"}


def test_ward_filter_keeps_community_areas_overlapping_the_ward(data):
    at = open_page(EXPLORER, wards="42")
    assert ranking_ids(at) == set(compare.community_areas_in_wards(data.ward_community_areas, ["42"]))


def test_name_and_side_filters_combine():
    at = open_page(EXPLORER, sides="Central", areas="8,25")
    assert ranking_ids(at) == {"8"}


def test_threshold_filter_keeps_areas_at_or_above_the_share(data):
    at = open_page(EXPLORER, tmetric="no_computer", tmin="12")
    shares = rows(data, "community_area", "no_computer").set_index("area_id")["share"]
    assert ranking_ids(at) == set(shares.index[shares >= 0.12])
    assert 0 < len(ranking_ids(at)) < len(shares)


def test_filter_matching_nothing_says_so():
    at = open_page(EXPLORER, sides="Central", tmetric="unconnected", tmin="90")
    assert any("No area matches" in i.value for i in at.info)


def test_geography_toggle_switches_to_the_50_wards(data):
    at = open_page(EXPLORER)
    at.radio(key="explorer-geo").set_value("ward").run()
    table = table_with(at, "Ward")
    assert sorted(table["Ward"].astype(int)) == list(range(1, 51))
    assert at.query_params["geo"] in ("ward", ["ward"])


def test_sorting_by_name_orders_the_table_alphabetically():
    at = open_page(EXPLORER, sort="name")
    names = list(table_with(at, CA_NAME)[CA_NAME])
    assert names == sorted(names)


def test_ranking_table_carries_comparison_and_rank_range(data):
    at = open_page(EXPLORER)
    table = table_with(at, CA_ID).set_index(CA_ID)
    city = rows(data, "city").iloc[0]
    expected = compare.ranking(rows(data, "community_area"), city).set_index("area_id")
    for area_id in ["25", "72"]:
        row = table.loc[int(area_id)]
        assert row["Compared with city (90% test)"] == expected.loc[area_id, "comparison"]
        assert row["Possible ranks: best"] == expected.loc[area_id, "rank_best"]
        assert row["Possible ranks: worst"] == expected.loc[area_id, "rank_worst"]


def test_the_next_reader_gets_the_ranking_a_fresh_computation_gives(data):
    """The ranking is made once per choice and shared by every session (``st.cache_resource``): a page that
    changed it while filtering, sorting or labelling would change every later reader's table."""
    first = open_page(EXPLORER, sides=compare.SIDES[0], sort="name")
    first.selectbox(key="explorer-sort").set_value("lowest").run()
    second = open_page(EXPLORER)
    table = table_with(second, CA_ID)
    expected = compare.ranking(rows(data, "community_area"), rows(data, "city").iloc[0])
    expected = expected.sort_values(["value", "area_id"], ascending=[False, True])
    assert table[CA_ID].astype(str).tolist() == expected["area_id"].tolist()
    assert table["Rank (1 = highest)"].tolist() == expected["rank"].tolist()
    assert table["Households MOE (90%)"].tolist() == expected["count_moe"].round(0).tolist()
    side_of = compare.read_sides().set_index("community_area")["side"]
    assert table["Side"].tolist() == expected["area_id"].map(side_of).tolist()


@pytest.mark.parametrize("params, name", [
    ({"sides": "Atlantis"}, "sides"),
    ({"geo": "county"}, "geo"),
    ({"tmin": "abc", "tmetric": "unconnected"}, "tmin"),
    ({"metric": "<script>"}, "metric"),
])
def test_bad_url_parameter_shows_a_notice_and_the_page_still_works(data, params, name):
    at = open_page(EXPLORER, **params)
    assert f"`{name}`" in warnings(at)
    assert ranking_ids(at) == set(rows(data, "community_area")["area_id"])


# ---- explorer: compare, custom area, context ---------------------------------------------

def test_compare_tab_tests_each_area_against_the_first(data):
    at = open_page(EXPLORER, compare="8,67")
    wide = table_with(at, "Measure")
    assert {"Near North Side", "West Englewood"} <= set(wide.columns)
    differences = table_with(at, "Significance (90% test)")
    expected = compare.compare_with_first(
        data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["year"] == data.latest_year)],
        ["8", "67"])
    expected = expected[expected["area_id"] == "67"]
    assert list(differences["Significance (90% test)"]) == list(expected["comparison"])


def test_custom_area_figures_are_the_combined_tracts(data):
    at = open_page(EXPLORER, custom="8,32")
    table = table_with(at, "Households reliability").set_index("Measure")
    combined = compare.combine_areas(data.tract_estimates(), data.crosswalks, "community_area", ["8", "32"],
                                     data.latest_year).set_index("metric")
    label = metrics.METRICS["unconnected"].label
    assert table.loc[label, "Households (estimate)"] == pytest.approx(round(combined.loc["unconnected", "count"]))
    assert table.loc[label, "Share MOE (90%)"] == pytest.approx(combined.loc["unconnected", "share_moe"])


def test_custom_area_from_tracts_restored_from_the_url(data):
    tract = rows(data, "tract")["area_id"].iloc[0]
    at = open_page(EXPLORER, cunit="tract", custom=tract)
    table = table_with(at, "Households reliability").set_index("Measure")
    published = rows(data, "tract").set_index("area_id").loc[tract]
    assert table.loc[metrics.METRICS["unconnected"].label, "Households (estimate)"] == round(published["count"])


def test_context_table_follows_the_filters(data):
    at = open_page(EXPLORER, sides="Central")
    context = table_with(at, metrics.CONTEXT_LABELS["median_household_income"])
    assert set(context[CA_NAME]) == {"Near North Side", "Loop", "Near South Side"}
