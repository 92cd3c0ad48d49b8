"""Change between two ACS periods: the arithmetic on the handbook's worked example, verdicts, overlap and coverage
flags, each area's part of the citywide targets, where the gap closed; then the pipeline with the synthetic
2019–2023 stand-in loaded, and the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from equity import __main__ as cli
from equity import change, estimates, exports, metrics, queries, targets
from dashboard import common
from tests.conftest import SNAPSHOT, open_app_page
from tests.test_progress_page import build_cache_with_2023


def metric_row(geography: str, area_id: str, year: int, metric: str, count: float, count_moe: float,
               universe: float = float("nan"), universe_moe: float = float("nan"), name: str | None = None) -> dict:
    """One row of a metric table, its share computed with the handbook's proportion formula."""
    share, share_moe = (estimates.proportion(count, count_moe, universe, universe_moe)
                        if not math.isnan(universe) else (float("nan"), float("nan")))
    return {"geography": geography, "area_id": area_id, "area_name": name or f"{geography} {area_id}", "year": year,
            "metric": metric, "count": count, "count_moe": count_moe, "share": share, "share_moe": share_moe,
            "universe": universe, "universe_moe": universe_moe, "period": metrics.period_label(year),
            "count_reliability": estimates.reliability(estimates.coefficient_of_variation(count, count_moe)),
            "share_reliability": estimates.reliability(estimates.coefficient_of_variation(share, share_moe))}


def one_change(rows: list[dict], earlier: int, later: int, coverage=None) -> pd.DataFrame:
    return change.between(pd.DataFrame(rows), earlier, later, coverage)


# ---- the arithmetic ---------------------------------------------------------------------------------------

def test_change_follows_the_handbooks_worked_difference_for_periods_that_share_no_year():
    """Handbook 2020 ch. 8 (sums and differences share one formula), estimates of Tables 8.1 and 8.5:
    226,840 ± 5,556 minus 203,119 ± 5,070 is 23,721 ± 7,522; Z = 23,721 / (7,522 / 1.645) = 5.19 > 1.645."""
    rows = one_change([metric_row("community_area", "1", 2016, "households", 203_119, 5_070),
                       metric_row("community_area", "1", 2021, "households", 226_840, 5_556)], 2016, 2021)
    row = rows.iloc[0]
    assert row["overlap_years"] == 0 and not row["overlapping"]
    assert row["count_change"] == pytest.approx(23_721)
    assert round(row["count_change_moe"]) == 7_522
    assert row["count_change"] / (row["count_change_moe"] / 1.645) == pytest.approx(5.19, abs=0.01)
    assert row["count_significant"] and row["significant"]
    assert row["compared_on"] == "count" and row["verdict"] == change.IMPROVED  # more households: "higher is better"


def test_a_change_inside_the_margin_of_error_cannot_be_told_from_none():
    """The handbook's percent-change pair: 135,173 ± 3,860 then 139,301 ± 4,047, Z = 1.21 < 1.645."""
    rows = one_change([metric_row("ward", "3", 2016, "households", 135_173, 3_860),
                       metric_row("ward", "3", 2021, "households", 139_301, 4_047)], 2016, 2021)
    row = rows.iloc[0]
    assert row["count_change"] == pytest.approx(4_128)
    assert row["count_change_moe"] == pytest.approx(math.sqrt(3_860**2 + 4_047**2))
    assert not row["significant"] and row["verdict"] == change.CANNOT_TELL


def test_overlapping_periods_get_the_progress_pages_overlap_rule_and_are_flagged():
    """2017–2021 and 2019–2023 share three years: the MOE is scaled by √(1 − 3/5), as targets.progress does."""
    before = metric_row("city", "chicago", 2021, "unconnected", 171_879, 3_436, 1_112_450, 4_000)
    after = metric_row("city", "chicago", 2023, "unconnected", 166_000, 3_300, 1_112_450, 4_000)
    row = one_change([before, after], 2021, 2023).iloc[0]
    assert row["overlap_years"] == 3 and row["overlapping"]
    assert row["count_change_moe"] == pytest.approx(math.sqrt(3_436**2 + 3_300**2) * math.sqrt(1 - 3 / 5))
    share_moe = math.sqrt(before["share_moe"] ** 2 + after["share_moe"] ** 2) * math.sqrt(0.4)
    assert row["share_change"] == pytest.approx(after["share"] - before["share"])
    assert row["share_change_moe"] == pytest.approx(share_moe)
    z = abs(row["share_change"]) / (share_moe / 1.645)
    assert row["share_significant"] == (z > 1.645)
    progress = targets.progress(pd.DataFrame([{"metric": "unconnected", "geography": "city", "area_id": "chicago",
                                               "measure": "share", "baseline_year": 2021, "target_value": 0.0,
                                               "target_year": 2030, "source": "test"}]),
                                pd.DataFrame([before, after]))
    later = progress[progress["year"] == 2023].iloc[0]
    assert later["change_moe"] == pytest.approx(row["share_change_moe"])
    assert later["significant"] == row["share_significant"]


@pytest.mark.parametrize("metric, after, verdict", [
    ("unconnected", 1_500, change.IMPROVED),     # fewer unconnected households: better
    ("unconnected", 2_500, change.WORSENED),
    ("broadband_any", 2_500, change.IMPROVED),   # more broadband: better
    ("broadband_any", 1_500, change.WORSENED),
])
def test_the_verdict_follows_the_measures_direction(metric, after, verdict):
    rows = one_change([metric_row("community_area", "8", 2016, metric, 2_000, 100, 10_000, 100),
                       metric_row("community_area", "8", 2021, metric, after, 100, 10_000, 100)], 2016, 2021)
    assert rows.iloc[0]["compared_on"] == "share"
    assert rows.iloc[0]["verdict"] == verdict


def test_ward_comparisons_resting_on_partial_coverage_say_so_and_others_do_not():
    rows = one_change([metric_row("ward", "1", 2019, "unconnected", 2_000, 300, 10_000, 300),
                       metric_row("ward", "1", 2023, "unconnected", 1_700, 300, 10_000, 300),
                       metric_row("community_area", "1", 2019, "unconnected", 2_000, 300, 10_000, 300),
                       metric_row("community_area", "1", 2023, "unconnected", 1_700, 300, 10_000, 300)],
                      2019, 2023, coverage={"2019": {"ward_household_coverage": 0.9312}})
    ward, area = rows.set_index("geography").loc["ward"], rows.set_index("geography").loc["community_area"]
    assert ward["partial_coverage"] and ward["ward_coverage"] == pytest.approx(0.9312)
    assert "93.1%" in ward["note"] and "partial coverage" in ward["note"]
    assert not area["partial_coverage"] and area["note"] == ""
    assert "partial coverage" not in one_change(
        [metric_row("ward", "1", 2021, "unconnected", 2_000, 300, 10_000, 300),
         metric_row("ward", "1", 2023, "unconnected", 1_700, 300, 10_000, 300)], 2021, 2023,
        coverage={"2019": {"ward_household_coverage": 0.93}}).iloc[0]["note"]


def test_a_tract_in_one_period_only_keeps_its_row_with_no_change_and_a_note():
    rows = one_change([metric_row("tract", "17031010100", 2019, "unconnected", 400, 100, 1_500, 100),
                       metric_row("tract", "17031010100", 2023, "unconnected", 300, 90, 1_500, 100),
                       metric_row("tract", "17031080100", 2019, "unconnected", 200, 80, 1_000, 90),
                       metric_row("tract", "17031080101", 2023, "unconnected", 100, 60, 600, 80)], 2019, 2023)
    gone = rows.set_index("area_id")
    assert pd.isna(gone.loc["17031080100", "count_change"]) and gone.loc["17031080100", "verdict"] == change.CANNOT_TELL
    assert "one period only" in gone.loc["17031080101", "note"]
    assert "2010 census tracts" in gone.loc["17031010100", "note"]


def test_the_earlier_period_must_come_first():
    with pytest.raises(ValueError, match="end before"):
        change.between(pd.DataFrame([metric_row("city", "chicago", 2021, "households", 1, 1)]), 2021, 2021)


def test_the_sentence_says_a_significant_drop_or_no_detectable_change():
    drop = one_change([metric_row("ward", "20", 2016, "unconnected", 3_000, 200, 15_000, 300),
                       metric_row("ward", "20", 2021, "unconnected", 2_400, 200, 15_000, 300)], 2016, 2021).iloc[0]
    assert change.in_words(drop) == ("fell from 20.0% (± 1.3 pts) in 2012–2016 ACS 5-year to 16.0% (± 1.3 pts) in "
                                     "2017–2021 ACS 5-year, a significant drop")
    flat = one_change([metric_row("ward", "20", 2021, "unconnected", 3_000, 400, 15_000, 300),
                       metric_row("ward", "20", 2023, "unconnected", 2_950, 400, 15_000, 300)], 2021, 2023).iloc[0]
    assert change.in_words(flat).endswith("no change that the survey can detect (the two periods share 3 of their "
                                          "5 years)")


# ---- each area's part of the citywide targets -------------------------------------------------------------

def small_city(year_values: dict[int, dict[str, tuple[float, float]]], metric: str = "unconnected") -> pd.DataFrame:
    """A city of two community areas: ``{year: {area: (count, moe)}}``, universe 10,000 each; the city sums them."""
    rows = []
    for year, areas in year_values.items():
        for area, (count, moe) in areas.items():
            rows.append(metric_row("community_area", area, year, metric, count, moe, 10_000, 150, f"Area {area}"))
        total, total_moe = estimates.sum_across([c for c, _ in areas.values()], [m for _, m in areas.values()])
        rows.append(metric_row("city", "chicago", year, metric, total, total_moe, 10_000 * len(areas),
                               150 * math.sqrt(len(areas)), "City of Chicago"))
    return pd.DataFrame(rows)


def city_target(metric="unconnected", measure="count", value=0.0) -> pd.DataFrame:
    return pd.DataFrame([{"metric": metric, "geography": "city", "area_id": "chicago", "measure": measure,
                          "baseline_year": 2021, "target_value": value, "target_year": 2030, "source": "test plan"}])


def test_a_count_target_is_split_by_each_areas_share_of_the_baseline_gap():
    table = small_city({2021: {"1": (3_000, 300), "2": (1_000, 200)}})
    split = change.area_targets(city_target(value=2_000.0), table, "community_area").set_index("area_id")
    assert split.loc["1", "part_of_gap"] == pytest.approx(0.75) and split.loc["2", "part_of_gap"] == pytest.approx(0.25)
    assert list(split["target_value"]) == pytest.approx([1_500, 500])
    baseline = pd.Series({"1": 3_000, "2": 1_000})
    assert (baseline - split["target_value"]).sum() == pytest.approx(4_000 - 2_000)  # the parts make up the city's gap


def test_a_share_target_is_split_by_the_households_each_area_is_short_of_it():
    table = small_city({2021: {"1": (6_000, 300), "2": (9_500, 200)}}, metric="broadband_any")
    goal = city_target("broadband_any", "share", 0.9)
    split = change.area_targets(goal, table, "community_area").set_index("area_id")
    short_1, short_2 = (0.9 - 0.6) * 10_000, 0.0  # area 2 (95%) is past the target
    city_short = (0.9 - 15_500 / 20_000) * 20_000
    assert split.loc["1", "part_of_gap"] == pytest.approx(short_1 / city_short)
    assert split.loc["2", "part_of_gap"] == pytest.approx(short_2)
    assert (split["target_value"] == 0.9).all()


def test_an_areas_status_follows_the_citys_rules():
    table = small_city({2021: {"1": (3_000, 150), "2": (1_000, 200)}, 2026: {"1": (1_000, 150), "2": (1_050, 200)}})
    status = change.area_progress(city_target(), table, "community_area").set_index("area_id")
    direct = targets.headline(targets.progress(pd.DataFrame([
        {"metric": "unconnected", "geography": "community_area", "area_id": a, "measure": "count",
         "baseline_year": 2021, "target_value": 0.0, "target_year": 2030, "source": "x"} for a in ("1", "2")]), table))
    assert list(status["status"]) == list(direct["status"])
    assert status.loc["1", "status"] == targets.ON_TRACK   # two thirds gone in 5 of 9 years: more than the 5/9 due
    assert status.loc["2", "status"] == targets.BEHIND     # no fall where 5/9 of its gap was due


def test_where_the_gap_closed_ranks_areas_by_their_part_of_the_citys_change():
    table = small_city({2016: {"1": (3_000, 100), "2": (2_000, 100), "3": (1_000, 100)},
                        2021: {"1": (2_400, 100), "2": (1_700, 100), "3": (1_100, 100)}})
    rows = change.between(table, 2016, 2021)
    closed = change.gap_closed(rows[rows["geography"] == "community_area"], rows[rows["geography"] == "city"].iloc[0])
    assert list(closed["area_id"]) == ["1", "2", "3"]
    assert list(closed["part_of_city_change"]) == pytest.approx([600 / 800, 300 / 800, -100 / 800])
    assert list(closed["accounts_for_half"]) == [True, False, False]
    assert closed["cumulative_part"].iloc[-1] == pytest.approx(1.0)


def test_the_change_table_explains_every_column():
    rows = one_change([metric_row("ward", "1", 2016, "unconnected", 2_000.4, 300.2, 10_000, 300),
                       metric_row("ward", "1", 2021, "unconnected", 1_700.6, 300.1, 10_000, 300)], 2016, 2021)
    shown, columns = change.change_table(rows, "ward")
    dictionary = exports.data_dictionary(shown, columns)
    assert not (dictionary["Meaning"].str.strip() == "").any()
    assert {"Earlier ACS period", "Later ACS period", "Change in households", "Change in households MOE (90%)",
            "Change in share significant (90%)", "Years the periods share", "Households covered by the ward figures"
            } <= set(shown.columns)
    assert shown["Change in households"].iloc[0] == -300 and shown["Ward"].iloc[0] == 1


# ---- the pipeline, with the synthetic 2019–2023 stand-in loaded ---------------------------------------------

@pytest.fixture(scope="module")
def with_2023(tmp_path_factory) -> tuple[Path, object]:
    """A cache of the real snapshot plus the recorded replies' SYNTHETIC 2019–2023 (see its README)."""
    root = tmp_path_factory.mktemp("change-cache")
    return root, build_cache_with_2023(root)


def test_the_citys_change_is_its_own_rows_difference_and_community_areas_add_up_to_it(with_2023):
    _, data = with_2023
    city = queries.city_change(data, "unconnected", 2021, 2023)
    rows = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "unconnected")]
    by_year = rows.set_index("year")
    assert city["count_change"] == pytest.approx(by_year.loc[2023, "count"] - by_year.loc[2021, "count"])
    assert city["overlap_years"] == 3 and city["verdict"] == change.IMPROVED
    areas = queries.change_rows(data, "community_area", "unconnected", 2021, 2023)
    assert len(areas) == 77 and areas["count_change"].sum() == pytest.approx(city["count_change"])
    assert len(queries.change_rows(data, "ward", "unconnected", 2021, 2023)) == 50
    assert set(queries.changes(data, 2021, 2023)["geography"]) == {"city", "community_area", "ward", "tract"}


def test_with_the_synthetic_period_no_area_worsens_and_many_improve(with_2023):
    """The stand-in cuts unconnected households by about 15% everywhere: no area can worsen significantly, and
    where the margins of error are wide the survey cannot tell."""
    _, data = with_2023
    for geography_name, areas in (("community_area", 77), ("ward", 50)):
        counts = queries.verdict_counts(data, geography_name, "unconnected", 2021, 2023)
        assert counts.sum() == areas and counts[change.WORSENED] == 0 and counts[change.IMPROVED] > areas / 3


def test_every_area_has_a_status_against_its_part_of_each_citywide_target(with_2023):
    _, data = with_2023
    shipped = queries.project_targets(data)
    for geography_name, areas in (("community_area", 77), ("ward", 50)):
        rows = queries.area_progress(data, geography_name)
        assert len(rows) == areas * len(shipped)
        assert set(rows["status"]) <= {targets.ON_TRACK, targets.BEHIND, targets.CANNOT_TELL}
        parts = rows.groupby("city_target")["part_of_gap"].sum()
        assert parts.to_numpy() == pytest.approx(1.0, abs=0.01)  # the areas' parts make up the citywide gap
    table, columns = queries.area_progress_table(data, "ward")
    assert not (exports.data_dictionary(table, columns)["Meaning"].str.strip() == "").any()


def test_with_one_period_there_is_nothing_to_compare(data):
    assert data.years == [2021] and queries.earlier_years(data) == []


def test_the_command_line_writes_the_change_table_and_its_dictionary(with_2023, tmp_path, capsys):
    root, _ = with_2023
    out, dictionary = tmp_path / "change.csv", tmp_path / "dictionary.csv"
    code = cli.main(["--snapshot", str(SNAPSHOT), "--cache", str(root), "export", "--geography", "ward",
                     "--change-from", "2021", "--metric", "unconnected", "-o", str(out), "--dictionary",
                     str(dictionary)])
    assert code == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert len(table) == 50 and set(table["Earlier ACS period"]) == {metrics.period_label(2021)}
    assert set(table["Later ACS period"]) == {metrics.period_label(2023)}
    assert (table["Overlapping periods"]).all() and set(table["Years the periods share"]) == {3}
    explained = pd.read_csv(dictionary, encoding="utf-8-sig")
    assert set(table.columns) <= set(explained["Column or measure"])
    assert cli.main(["--snapshot", str(SNAPSHOT), "--cache", str(root), "export", "--geography", "ward",
                     "--change-from", "2023"]) == 2
    assert "must end before the later period" in capsys.readouterr().err


# ---- the pages (AppTest) ---------------------------------------------------------------------------------

@pytest.fixture
def loaded_2023(with_2023, monkeypatch):
    """The app reads the cache with the synthetic 2019–2023; no page keeps another build's data."""
    root, data = with_2023
    monkeypatch.setenv("EQUITY_CACHE", str(root))
    common.dashboard_data.clear()
    yield data
    common.dashboard_data.clear()


@pytest.fixture
def snapshot_only(data):
    common.dashboard_data.clear()
    yield data
    common.dashboard_data.clear()


def page_text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info] + [w.value for w in at.warning]
                     + [c.value for c in at.caption])


def test_the_ward_brief_shows_the_trend_the_sentence_and_the_wards_part_of_the_targets(loaded_2023):
    at = open_app_page("pages/ward.py", ward="20")
    moved = queries.change_rows(loaded_2023, "ward", "unconnected", 2021, 2023).loc["20"]
    text = page_text(at)
    assert change.in_words(moved, overlap=False) in text
    assert ("a significant drop" in text) == bool(moved["significant"] and moved["change"] < 0)
    assert len(at.get("vega_lite_chart")) == 1, "the ward's trend beside the city's"
    part = queries.area_target_rows(loaded_2023, "ward", "20").iloc[0]
    assert f"{part['part_of_gap'] * 100:.1f}% of the citywide gap" in text
    assert f"Status: **{part['status']}**" in text
    assert any("synthetic stand-in" in w.value for w in at.warning)


def test_with_one_period_the_ward_brief_says_how_to_load_more_and_draws_no_trend(snapshot_only):
    at = open_app_page("pages/ward.py", ward="20")
    notice = " ".join(i.value for i in at.info)
    assert "Only one ACS period is loaded" in notice and "python -m equity update" in notice
    assert not at.get("vega_lite_chart")
    assert "only the baseline period is loaded" in page_text(at)


def test_the_explorer_filters_areas_by_their_change(loaded_2023):
    at = open_app_page("pages/explorer.py", geo="ward", change=change.CANNOT_TELL)
    counts = queries.verdict_counts(loaded_2023, "ward", "unconnected", 2021, 2023)
    shown = next(d.value for d in at.dataframe if "Change" in d.value.columns)
    assert len(shown) == counts[change.CANNOT_TELL] and set(shown["Change"]) == {change.CANNOT_TELL}
    assert (f"**{counts[change.IMPROVED]} improved significantly**, **{counts[change.WORSENED]} worsened "
            "significantly**") in page_text(at)


def test_the_explorer_ranks_the_most_improved_first(loaded_2023):
    at = open_app_page("pages/explorer.py", geo="community_area", change=change.IMPROVED)
    shown = next(d.value for d in at.dataframe if "Change" in d.value.columns)
    assert set(shown["Change"]) == {change.IMPROVED}
    assert list(shown["Change in share"]) == sorted(shown["Change in share"])  # fewer unconnected: better


def test_with_one_period_the_explorer_says_how_to_see_change(snapshot_only):
    at = open_app_page("pages/explorer.py")
    assert any("Only one ACS period is loaded" in i.value for i in at.info)
    assert not any("Change" in d.value.columns for d in at.dataframe)


def test_progress_lists_every_area_against_its_part_and_where_the_gap_closed(loaded_2023):
    at = open_app_page("pages/progress.py", areas="community_area")
    tables = {tuple(d.value.columns[:2]): d.value for d in at.dataframe}
    parts = tables[("Community area number", "Community area")]
    assert len(parts) == 77 and set(parts["Status"]) <= {targets.ON_TRACK, targets.BEHIND, targets.CANNOT_TELL}
    closed = next(d.value for d in at.dataframe if "Part of the citywide change" in d.value.columns)
    expected = queries.gap_closed(loaded_2023, "community_area", "unconnected", 2021, 2023)
    assert list(closed["Area"]) == list(expected["area_name"])
    assert f"**{int(expected['accounts_for_half'].sum())} of 77 community areas** together account for half" \
        in page_text(at)


def test_with_one_period_progress_says_there_is_no_change_to_split(snapshot_only):
    at = open_app_page("pages/progress.py")
    assert any("no change to split among areas" in i.value for i in at.info)
    parts = next(d.value for d in at.dataframe if "Part of the citywide gap" in d.value.columns)
    assert set(parts["Status"]) == {targets.CANNOT_TELL}


def test_the_change_map_draws_significant_areas_filled_and_the_rest_as_outlines(loaded_2023):
    at = open_app_page("pages/map.py", view="change", geography="community_area")
    chart = at.get("deck_gl_json_chart")[0].proto
    deck = json.loads(chart.json)
    features = {f["properties"]["id"]: f["properties"]
                for f in next(layer for layer in deck["layers"] if layer["id"] == "areas")["data"]["features"]}
    moved = queries.change_rows(loaded_2023, "community_area", "unconnected", 2021, 2023)
    assert set(features) == set(moved.index)
    for area_id, row in moved.iterrows():
        shown = features[area_id]
        hollow = len(shown["fill"]) == 4 and shown["fill"][3] == 0
        assert hollow == (not row["significant"]), area_id
        assert ("not statistically significant" in shown["verdict"]) == (not row["significant"])
        assert shown["change"].startswith(f"{row['change'] * 100:+.1f} pts ±")
        assert "%" in shown["before"] and "%" in shown["after"]
    tooltip = json.loads(chart.tooltip)["html"]
    assert "2017–2021 ACS 5-year: {before}" in tooltip and "2019–2023 ACS 5-year: {after}" in tooltip
    legend = next(h.proto.body for h in at.get("html") if "equity-legend" in h.proto.body)
    assert "Outline only: not statistically significant, cannot be told from no change" in legend
    assert f"({int((~moved['significant']).sum())} community areas)" in legend
    improved = [c for c in change.CHANGE_PALETTE[change.NO_CHANGE_CLASS + 1:]]
    assert all(tuple(f["fill"][:3]) in improved for f in features.values() if len(f["fill"]) == 3)  # all fell
    assert any("synthetic stand-in" in w.value for w in at.warning)


def test_change_classes_are_symmetric_around_no_change():
    improvement = pd.Series([-7.0, -0.5, 0.0, 0.5, 2.0, 4.0, 7.0, float("nan")])
    numbers, bounds = change.change_classes(improvement, spread_quantile=1.0)
    assert bounds == pytest.approx([-5, -3, -1, 1, 3, 5])
    assert list(numbers) == [0, 3, 3, 3, 4, 5, 6, -1]


def test_with_one_period_the_map_says_how_to_see_change_and_draws_the_level_map(snapshot_only):
    at = open_app_page("pages/map.py", view="change")
    assert any("Only one ACS period is loaded" in i.value and "python -m equity update" in i.value for i in at.info)
    legend = next(h.proto.body for h in at.get("html") if "equity-legend" in h.proto.body)
    assert "Outline only" not in legend  # the one period's own map, as labelled


def test_downloads_offers_the_change_between_the_two_periods_chosen(loaded_2023, offered_downloads):
    """With two periods chosen, the Downloads page offers the change table the command line writes."""
    data = loaded_2023
    earlier, later = data.years[0], data.latest_year
    at = open_app_page("pages/downloads.py", timeout=180, geo="ward", metrics="unconnected",
                       years=f"{earlier},{later}")
    table, stem = offered_downloads["downloads-change"]["table"], offered_downloads["downloads-change"]["file_stem"]
    expected, _ = queries.change_extract(data, "ward", earlier, later, ["unconnected"])
    pd.testing.assert_frame_equal(table, expected)
    assert stem == f"chicago-wards-change-{earlier}-{later}" and len(table) == 50
    assert any(f"--change-from {earlier}" in code.value for code in at.code)
