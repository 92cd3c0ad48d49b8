"""The Libraries page under Streamlit's AppTest: what it shows, its URL state and bad links."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from equity import config, libraries
from tests.conftest import app_test, drawn_features, html_tables

PAGE = "pages/libraries.py"


def _open(data, **params) -> AppTest:
    at = app_test()
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def page(data):
    return _open(data)


def test_page_shows_map_access_table_and_branch_view(page, data):
    assert page.title[0].value == "Libraries: where to get online"
    assert len(page.get("deck_gl_json_chart")) == 1
    subheaders = " ".join(s.value for s in page.subheader)
    assert "no branch close by" in subheaders and "One branch" in subheaders
    assert not page.error


def test_access_table_lists_every_community_area_sorted_by_need_per_branch(page, data):
    access = data.library_table("access")
    expected = access[(access["geography"] == "community_area") & (access["year"] == data.latest_year)]
    table = next(frame for frame in html_tables(page) if "Unconnected households per nearby branch" in frame.columns)
    assert len(table) == len(expected)
    per_branch = table["Unconnected households per nearby branch"]
    assert per_branch.dropna().is_monotonic_decreasing
    top = expected.sort_values("unconnected_per_branch", ascending=False).iloc[0]
    assert table.iloc[0]["Community area"] == top["area_name"]
    assert per_branch.iloc[0] == pytest.approx(top["unconnected_per_branch"])


def test_flagged_areas_are_named_with_the_rule(page, data):
    access = data.library_table("access")
    flagged = access[(access["geography"] == "community_area") & (access["year"] == data.latest_year)
                     & access["access_gap"]]
    text = " ".join(m.value for m in page.markdown)
    assert f"{libraries.CLOSE_MILES:g} mile" in text
    for name in flagged["area_name"]:
        assert name in text


def test_branch_view_shows_surrounding_need_with_moe(page, data):
    branches = data.library_table("branches")
    first = branches.iloc[0]
    need = data.library_table("surrounding_need")
    row = need[(need["branch_key"] == first["branch_key"]) & (need["year"] == data.latest_year)].iloc[0]
    values = [m.value for m in page.metric]
    assert f"{row['unconnected']:,.0f} ± {row['unconnected_moe']:,.0f}" in values
    assert page.query_params["branch"] == first["branch_key"]


def test_choosing_a_branch_and_wards_updates_the_url(data):
    at = _open(data)
    branches = data.library_table("branches")
    chosen = branches.iloc[-1]
    at.selectbox(key="lib-branch").select(chosen["branch_key"]).run()
    at.radio(key="lib-geography").set_value("ward").run()
    assert not at.exception
    assert at.query_params["branch"] == chosen["branch_key"]
    assert at.query_params["geography"] == "ward"
    access = next(frame for frame in html_tables(at) if "Unconnected households per nearby branch" in frame.columns)
    assert len(access) == 50 and "Ward" in access.columns


def test_partial_year_is_not_offered_for_the_map_sizes(page, data):
    options = page.selectbox(key="lib-sessions-year").options
    assert "2023" not in options
    assert options[-1] == str(max(libraries.full_years(libraries.annual_sessions(data.library_table("sessions")))))


def test_bad_link_values_fall_back_with_a_notice(data):
    at = _open(data, branch="no-such-branch", sessions="2023", geography="county")
    warnings = " ".join(w.value for w in at.warning)
    assert "no-such-branch" in warnings and "2023" in warnings and "county" in warnings
    assert at.selectbox(key="lib-branch").value == data.library_table("branches")["branch_key"].iloc[0]


def test_turning_the_branches_off_removes_them_from_the_map(data):
    at = _open(data)
    dots_on = drawn_features(at.get("deck_gl_json_chart")[0], "dot")
    at.toggle(key="lib-show-branches").set_value(False).run()
    assert {dot["properties"]["name"] for dot in dots_on} == set(data.library_table("branches")["branch"])
    assert drawn_features(at.get("deck_gl_json_chart")[0], "dot") == []


def test_unmatched_rows_are_shown(page, data):
    unmatched = data.library_table("unmatched")
    expander = [e for e in page.expander if "match no branch" in e.label][0]
    assert f"({len(unmatched)})" in expander.label
    frames = [f.value for f in expander.dataframe]
    assert len(frames[0]) == len(unmatched)


def test_map_page_toggle_lays_the_branches_over_its_choropleth(data):
    at = app_test()
    at.run()
    at.switch_page("pages/map.py")
    at.run()
    assert drawn_features(at.get("deck_gl_json_chart")[0], "dot") == []
    at.toggle(key="map-libraries").set_value(True).run()
    assert not at.exception
    dots = drawn_features(at.get("deck_gl_json_chart")[0], "dot")
    assert {dot["properties"]["name"] for dot in dots} == set(data.library_table("branches")["branch"])
    # One tooltip template for areas and branches: every feature carries both fields.
    assert "{details}" in at.get("deck_gl_json_chart")[0].proto.tooltip
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    features = {layer["id"]: layer for layer in deck["layers"]}["areas"]["data"]["features"]
    assert all(feature["properties"]["details"] and feature["properties"]["name"] for feature in features)


def test_flagged_areas_are_outlined_on_the_map(page, data):
    access = data.library_table("access")
    flagged = access[(access["geography"] == "community_area") & (access["year"] == data.latest_year)
                     & access["access_gap"]]
    outlines = drawn_features(page.get("deck_gl_json_chart")[0], "outline")
    assert {feature["properties"]["id"] for feature in outlines} == set(flagged["area_id"])
    assert {feature["geometry"]["type"] for feature in outlines} == {"MultiLineString"}
    assert all(feature["properties"]["details"] for feature in outlines), "hovering an outline shows its area"


def test_the_map_follows_each_choice_of_the_reader(data):
    """The map's layers and deck are made once per set of choices and shared: each choice gets its own."""
    access = data.library_table("access")
    at = _open(data)

    def drawn(kind: str) -> list[dict]:
        return drawn_features(at.get("deck_gl_json_chart")[0], kind)

    for geography_name, count in (("ward", 50), ("community_area", 77)):
        at.radio(key="lib-geography").set_value(geography_name).run()
        assert len({f["properties"]["id"] for f in drawn("area")}) == count
        flagged = access[(access["geography"] == geography_name) & (access["year"] == data.latest_year)
                         & access["access_gap"]]
        assert {f["properties"]["id"] for f in drawn("outline")} == set(flagged["area_id"])
    years = at.selectbox(key="lib-sessions-year").options
    sizes = {}
    for sessions_year in (years[0], years[-1]):
        at.selectbox(key="lib-sessions-year").set_value(sessions_year).run()
        sizes[sessions_year] = [dot["properties"]["line_pixels"] for dot in drawn("dot")]
    assert sizes[years[0]] != sizes[years[-1]], "the branch circles are sized by the chosen year's sessions"


def test_the_access_table_can_be_sorted_by_distance(data):
    at = _open(data)
    at.selectbox(key="lib-access-order").set_value("miles").run()
    table = next(frame for frame in html_tables(at) if "Unconnected households per nearby branch" in frame.columns)
    miles = table["Mean miles to the nearest branch (household-weighted)"].dropna().tolist()
    assert miles == sorted(miles, reverse=True) and len(table) == 77
