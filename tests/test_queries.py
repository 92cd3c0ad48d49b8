"""The query layer on the real snapshot: each question answered once, from the city row, the same on every page."""

from __future__ import annotations

import pandas as pd

from equity import compare, queries


def test_the_city_total_is_the_city_row_not_a_sum_of_areas(data):
    year = data.latest_year
    city = queries.city_row(data, "unconnected", year)
    summed = compare.gap_concentration(data.metrics, "community_area", "unconnected", year).iloc[-1]
    gap, areas, total = queries.gap(data, "community_area", "unconnected", year)
    assert round(city["count"]) == round(summed["cumulative_count"]) == 171_879
    assert round(city["count_moe"]) == 3_436 and round(summed["cumulative_count_moe"]) == 3_432
    assert total.equals(city) and areas == 77 and len(gap) == 77


def test_a_question_is_answered_once_and_each_reader_gets_its_own_copy(data):
    first = queries.metric_rows(data, "ward", "unconnected", data.latest_year)
    before = first["count"].copy()
    first["count"] = 0.0
    again = queries.metric_rows(data, "ward", "unconnected", data.latest_year)
    pd.testing.assert_series_equal(again["count"], before)
    assert sum(key[0] == "metric_rows" and key[1] == "ward" for key in data.answers) >= 1


def test_the_crosswalk_of_a_period_is_on_its_tract_vintage(data):
    carried = queries.crosswalk(data, "community_area", data.latest_year)
    assert set(carried["vintage"]) == {2020} and set(carried["geography"]) == {"community_area"}


def test_chosen_areas_keeps_those_passing_every_filter_in_number_order(data):
    year = data.latest_year
    shares = queries.metric_rows(data, "community_area", "unconnected", year)["share"]
    high = queries.chosen_areas(data, "community_area", year, threshold=("unconnected", 0.3, 1.0))
    assert high == sorted(shares.index[shares >= 0.3], key=int)
    assert queries.chosen_areas(data, "community_area", year, names=["8", "1", "32"]) == ["1", "8", "32"]
    in_ward = queries.chosen_areas(data, "community_area", year, wards=["42"])
    assert in_ward == compare.community_areas_in_wards(data.ward_community_areas, ["42"])


def test_a_wards_brief_ranks_and_compares_it_as_the_ranking_does(data):
    year = data.latest_year
    brief = queries.area_brief(data, "ward", "20", year, "unconnected")
    ranked = queries.ranking(data, "ward", "unconnected", year, "share").set_index("area_id").loc["20"]
    assert (brief["rank"], brief["rank_best"], brief["rank_worst"]) == (ranked["rank"], ranked["rank_best"],
                                                                        ranked["rank_worst"])
    assert brief["comparison"] == ranked["comparison"] and brief["areas"] == 50
    assert brief["city"]["count_moe"] == queries.city_row(data, "unconnected", year)["count_moe"]
