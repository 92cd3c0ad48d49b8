"""Targets, milestones and progress: arithmetic on small tables built here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from equity import metrics, target_files, targets
from equity.errors import ValidationError
from tests.test_target_files import milestones_frame


def metric_rows(values: dict[int, tuple[float, float]], metric: str = "unconnected", measure: str = "count",
                geography: str = "city", area_id: str = "chicago") -> pd.DataFrame:
    """A metric table with one area's ``{year: (value, moe)}`` for ``measure``; the other measure is NaN."""
    rows = []
    for year, (value, moe) in values.items():
        row = {"geography": geography, "area_id": area_id, "area_name": f"Area {area_id}", "year": year,
               "metric": metric, "count": np.nan, "count_moe": np.nan, "count_reliability": "reliable",
               "share": np.nan, "share_moe": np.nan, "share_reliability": "reliable"}
        row[measure], row[f"{measure}_moe"] = value, moe
        rows.append(row)
    return pd.DataFrame(rows)


def target(baseline_year=2021, target_value=0.0, target_year=2031, metric="unconnected", measure="count",
           geography="city", area_id="chicago") -> pd.DataFrame:
    return pd.DataFrame([{"metric": metric, "geography": geography, "area_id": area_id, "measure": measure,
                          "baseline_year": baseline_year, "target_value": target_value,
                          "target_year": target_year, "source": "test"}])


def latest(table: pd.DataFrame) -> pd.Series:
    return targets.headline(table).iloc[0]


# ---- progress arithmetic -------------------------------------------------------------------------------

def test_change_moe_is_scaled_for_the_years_two_periods_share():
    table = targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (800, 120)}))
    row = latest(table)
    assert row["overlap_years"] == 3
    assert row["change"] == pytest.approx(800 - 1000)
    assert row["change_moe"] == pytest.approx(math.sqrt(100**2 + 120**2) * math.sqrt(1 - 3 / 5))


def test_non_overlapping_periods_get_the_plain_difference_moe():
    row = latest(targets.progress(target(), metric_rows({2021: (1000, 100), 2026: (800, 120)})))
    assert row["overlap_years"] == 0
    assert row["change_moe"] == pytest.approx(math.sqrt(100**2 + 120**2))


def test_overlap_years_count_the_years_two_five_year_periods_share():
    later = np.array([2021, 2022, 2023, 2025, 2026, 2030])
    expected = [len(set(range(2017, 2022)) & set(range(y - 4, y + 1))) for y in later]
    assert list(targets.overlap_years(later, 2021)) == expected


def test_significance_matches_the_z_test_with_the_overlap_adjustment():
    for later, later_moe in [(990, 100), (880, 100), (700, 100), (1150, 80)]:
        row = latest(targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (later, later_moe)})))
        se = math.sqrt(100**2 + later_moe**2) * math.sqrt(1 - 3 / 5) / 1.645
        assert row["significant"] == (abs((later - 1000) / se) > 1.645)


def test_small_change_within_the_margin_is_not_significant_and_a_large_one_is():
    small = latest(targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (990, 100)})))
    large = latest(targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (700, 100)})))
    assert not small["significant"] and large["significant"]


def test_pace_needed_is_a_straight_line_and_pace_observed_is_change_per_year():
    table = targets.progress(target(target_value=100, target_year=2031),
                             metric_rows({2021: (1000, 50), 2023: (700, 50)}))
    row = latest(table)
    assert row["pace_needed"] == pytest.approx((100 - 1000) / (2031 - 2021))
    assert row["pace_observed"] == pytest.approx((700 - 1000) / (2023 - 2021))
    assert row["pace_observed_moe"] == pytest.approx(row["change_moe"] / 2)
    assert row["pace_needed_from_now"] == pytest.approx((100 - 700) / (2031 - 2023))


def test_only_the_baseline_loaded_means_cannot_tell_yet():
    table = targets.progress(target(), metric_rows({2021: (1000, 100)}))
    row = latest(table)
    assert len(table) == 1
    assert row["status"] == targets.CANNOT_TELL
    assert "only the baseline period is loaded" in row["reason"]


def test_significant_change_at_least_the_pace_needed_is_on_track():
    # 1000 -> 0 over 10 years needs 200 fewer by year 2; 700 is 300 fewer.
    row = latest(targets.progress(target(), metric_rows({2021: (1000, 50), 2023: (700, 50)})))
    assert row["status"] == targets.ON_TRACK


def test_significant_change_slower_than_needed_is_behind():
    row = latest(targets.progress(target(), metric_rows({2021: (1000, 20), 2023: (900, 20)})))
    assert row["significant"] and row["status"] == targets.BEHIND
    assert "slower than the pace needed" in row["reason"]


def test_a_significant_move_away_from_the_target_is_behind():
    row = latest(targets.progress(target(), metric_rows({2021: (1000, 20), 2023: (1100, 20)})))
    assert row["status"] == targets.BEHIND and "wrong way" in row["reason"]


def test_no_measurable_change_with_the_needed_pace_inside_the_margin_is_cannot_tell():
    # Needed by 2023: 2 x 10 = 20 fewer; the change's interval spans it.
    row = latest(targets.progress(target(target_value=900), metric_rows({2021: (1000, 100), 2023: (985, 100)})))
    assert not row["significant"]
    assert row["status"] == targets.CANNOT_TELL


def test_no_measurable_change_when_a_large_change_was_due_is_behind():
    row = latest(targets.progress(target(), metric_rows({2021: (1000, 30), 2023: (995, 30)})))
    assert not row["significant"]
    assert row["change"] + row["change_moe"] > 0 > row["change"] - row["change_moe"]
    assert row["status"] == targets.BEHIND and "no measurable change" in row["reason"]


def test_a_share_that_should_rise_is_judged_upward():
    table = targets.progress(
        target(metric="high_speed_broadband", measure="share", target_value=0.9, target_year=2031),
        metric_rows({2021: (0.70, 0.004), 2023: (0.76, 0.004)}, metric="high_speed_broadband", measure="share"))
    row = latest(table)
    assert metrics.METRICS["high_speed_broadband"].higher_is_better
    assert row["pace_needed"] == pytest.approx((0.9 - 0.70) / 10)
    assert row["status"] == targets.ON_TRACK


def test_an_estimate_at_the_target_is_on_track():
    row = latest(targets.progress(target(target_value=950), metric_rows({2021: (1000, 100), 2023: (940, 100)})))
    assert row["status"] == targets.ON_TRACK and "reached the target" in row["reason"]


def test_a_baseline_period_not_loaded_says_how_to_load_it():
    table = targets.progress(target(baseline_year=2019), metric_rows({2021: (1000, 100)}))
    first = table.iloc[0]
    assert first["year"] == 2019 and np.isnan(first["baseline_value"])
    assert set(table["status"]) == {targets.CANNOT_TELL}
    assert "python -m equity fetch --year 2019" in first["reason"]


def test_a_missing_estimate_cannot_be_judged():
    row = targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (np.nan, np.nan)})).iloc[-1]
    assert row["status"] == targets.CANNOT_TELL and "no published estimate" in row["reason"]


def test_the_baseline_row_is_labelled_baseline_once_a_later_period_is_loaded():
    table = targets.progress(target(), metric_rows({2021: (1000, 100), 2023: (800, 100)}))
    assert table.loc[table["year"] == 2021, "status"].item() == targets.BASELINE


def test_the_headline_is_the_latest_period_with_an_estimate():
    rows = metric_rows({2021: (1000, 100), 2023: (900, 100), 2026: (800, 100), 2027: (np.nan, np.nan)})
    row = latest(targets.progress(target(), rows))
    assert row["year"] == 2026 and row["overlap_years"] == 0


def test_progress_reads_the_measure_named_by_the_target():
    rows = pd.concat([metric_rows({2021: (1000, 10), 2023: (900, 10)}),
                      metric_rows({2021: (0.2, 0.01), 2023: (0.18, 0.01)}, measure="share")])
    count = latest(targets.progress(target(), rows))
    share = latest(targets.progress(target(measure="share"), rows))
    assert count["value"] == 900 and share["value"] == pytest.approx(0.18)


def test_progress_without_target_columns_raises_a_validation_error():
    with pytest.raises(ValidationError, match="target_year"):
        targets.progress(target().drop(columns="target_year"), metric_rows({2021: (1000, 100)}))


# ---- milestones ---------------------------------------------------------------------------------------------


def test_milestone_progress_shows_the_latest_report_against_its_target():
    frame = milestones_frame("Enrolled,2020-12-04,50000,100000,2021-06-30,CPS,students\n"
                             "Enrolled,2022-05-04,64000,100000,2021-06-30,City,students\n"
                             "Parks,2024-06-06,70,60,2024-12-31,WTTW,parks\n")
    shown = targets.milestone_progress(frame).set_index("name")
    assert shown.loc["Enrolled", "value"] == 64000 and shown.loc["Enrolled", "reports"] == 2
    assert shown.loc["Enrolled", "fraction"] == pytest.approx(64000 / 100000)
    assert shown.loc["Enrolled", "target_date_passed"]
    assert shown.loc["Parks", "fraction"] == 1.0
    assert shown.loc["Parks", "fraction_uncapped"] == pytest.approx(70 / 60)
    assert not shown.loc["Parks", "target_date_passed"]


def test_illustrative_milestones_are_flagged_and_listed_last():
    frame = milestones_frame("A devices,2024-12-31,1,10,2026-12-31,Illustrative — replace with program data,devices\n"
                             "B parks,2024-06-06,27,60,2024-12-31,WTTW,parks\n")
    shown = targets.milestone_progress(frame)
    assert list(shown["name"]) == ["B parks", "A devices"]
    assert list(shown["illustrative"]) == [False, True]


# ---- the project's own files, against the real pipeline ---------------------------------------------------------

def test_shipped_baseline_is_the_pipeline_estimate_not_a_typed_number(data):
    shipped = target_files.load_targets(target_files.known_areas(data.metrics))
    table = targets.progress(shipped, data.metrics)
    first = table[(table["metric"] == "unconnected") & (table["year"] == 2021)].iloc[0]
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "unconnected")
                        & (data.metrics["year"] == 2021)].iloc[0]
    assert first["baseline_value"] == city["count"] and first["baseline_moe"] == city["count_moe"]


def test_shipped_milestones_are_valid_and_unsourced_ones_are_labelled_illustrative():
    shown = targets.milestone_progress(target_files.load_milestones())
    sourced = shown[~shown["illustrative"]]
    assert len(sourced) and sourced["source"].str.contains("https://").all()
    assert shown["illustrative"].any()
