"""Targets and milestones files: every validation message, round trips, and the project's own files."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from equity import target_files
from equity.errors import ValidationError

AREAS = {"city": {"chicago"}, "community_area": {str(n) for n in range(1, 78)},
         "ward": {str(n) for n in range(1, 51)}}
HEADER = "metric,geography,area_id,measure,baseline_year,target_value,target_year,source\n"
GOOD_ROW = "unconnected,city,chicago,count,2021,0,2030,Digital Equity Plan\n"
MILESTONE_HEADER = "name,date,value,target,target_date,source,unit\n"
GOOD_MILESTONE = "Parks with Wi-Fi,2024-06-06,27,60,2024-12-31,WTTW 2024,parks\n"


def milestones_frame(text: str) -> pd.DataFrame:
    """A milestones file of ``text`` rows under the header, validated (it must have no problem)."""
    frame, problems = target_files.validate_milestones((MILESTONE_HEADER + text).encode())
    assert problems == []
    return frame


# ---- validation: whole-file problems ------------------------------------------------------------------------

def only_problem(raw: bytes, kind: str = "targets") -> target_files.Problem:
    frame, problems = (target_files.validate_targets(raw, AREAS) if kind == "targets"
                       else target_files.validate_milestones(raw))
    assert frame.empty and len(problems) == 1, problems
    return problems[0]


def test_an_empty_file_is_refused():
    assert "is empty" in str(only_problem(b""))
    assert "is empty" in str(only_problem(b"  \n\n"))


def test_a_header_without_rows_is_refused():
    assert "no data rows" in str(only_problem(HEADER.encode()))


def test_a_missing_column_is_named():
    problem = only_problem(HEADER.replace(",source", "").encode() + b"unconnected,city,chicago,count,2021,0,2030\n")
    assert "missing the column(s) source" in problem.message and problem.row == 1


def test_a_binary_file_is_refused():
    assert "binary" in str(only_problem(b"PK\x03\x04\x00\x00" + bytes(range(256))))


def test_a_file_that_is_not_utf8_is_refused():
    problem = only_problem((HEADER + "unconnected,city,chicago,count,2021,0,2030,Plan caf\xe9\n").encode("latin-1"))
    assert "not UTF-8" in problem.message


def test_a_file_over_the_size_limit_is_refused():
    raw = (HEADER + GOOD_ROW * (target_files.MAX_FILE_BYTES // len(GOOD_ROW) + 1)).encode()
    assert len(raw) > target_files.MAX_FILE_BYTES
    assert "the limit is 1 MB" in str(only_problem(raw))


def test_a_row_with_too_many_cells_is_named():
    problem = only_problem((HEADER + "unconnected,city,chicago,count,2021,0,2030,Plan,1,000\n").encode())
    assert problem.row == 2 and "10 cells" in problem.message


# ---- validation: targets, row by row ------------------------------------------------------------------------

def target_problem(row: str) -> target_files.Problem:
    return only_problem((HEADER + GOOD_ROW + row).encode())


@pytest.mark.parametrize("row, column, words", [
    ("broadband,city,chicago,count,2021,0,2030,x\n", "metric", "'broadband' is not a known metric"),
    (",city,chicago,count,2021,0,2030,x\n", "metric", "is empty"),
    ("unconnected,county,chicago,count,2021,0,2030,x\n", "geography", "'county' is not a geography"),
    ("unconnected,community_area,78,count,2021,0,2030,x\n", "area_id", "'78' is not a community area number (1–77)"),
    ("unconnected,ward,0,count,2021,0,2030,x\n", "area_id", "'0' is not a ward number (1–50)"),
    ("unconnected,ward,,count,2021,0,2030,x\n", "area_id", "is empty; write the ward number"),
    ("unconnected,city,cook,count,2021,0,2030,x\n", "area_id", "'cook' is not the city"),
    ("unconnected,city,chicago,percent,2021,0,2030,x\n", "measure", "'percent' is not a measure"),
    ("households,city,chicago,share,2021,0.5,2030,x\n", "measure", "is a count with no share"),
    ("unconnected,city,chicago,count,20x1,0,2030,x\n", "baseline_year", "'20x1' is not a year"),
    ("unconnected,city,chicago,count,2021.5,0,2030,x\n", "baseline_year", "'2021.5' is not a year"),
    ("unconnected,city,chicago,count,2016,0,2030,x\n", "baseline_year", "2016 is outside 2017–2035"),
    ("unconnected,city,chicago,count,2021,0,2036,x\n", "target_year", "2036 is outside 2017–2035"),
    ("unconnected,city,chicago,count,2021,0,,x\n", "target_year", "is empty"),
    ("unconnected,city,chicago,count,2021,0,2020,x\n", "target_year", "2020 is not after the baseline year 2021"),
    ("unconnected,city,chicago,count,2021,0,2021,x\n", "target_year", "2021 is not after the baseline year 2021"),
    ("unconnected,city,chicago,count,2021,none,2030,x\n", "target_value", "'none' is not a number"),
    ("unconnected,city,chicago,count,2021,inf,2030,x\n", "target_value", "'inf' is not a number"),
    ("unconnected,city,chicago,share,2021,90,2030,x\n", "target_value", "90 is outside 0–1"),
    ("unconnected,city,chicago,share,2021,-0.1,2030,x\n", "target_value", "-0.1 is outside 0–1"),
    ("unconnected,city,chicago,count,2021,-5,2030,x\n", "target_value", "-5 is negative"),
    ("unconnected,city,chicago,count,2021,0,2031,\n", "source", "is empty; say in words where the target comes from"),
])
def test_each_bad_target_cell_is_reported_with_its_row_and_column(row, column, words):
    problem = target_problem(row)
    assert problem.row == 3 and problem.column == column
    assert words in problem.message
    assert str(problem).startswith(f"Row 3, column '{column}': ")


def test_a_duplicate_target_row_names_the_row_it_repeats():
    problem = target_problem("unconnected,city,,count,2021,100,2030,another source\n")
    assert problem.row == 3 and "repeats row 2" in problem.message


def test_every_problem_in_a_file_is_reported_not_just_the_first():
    raw = (HEADER + "broadband,city,chicago,count,2021,0,2030,x\n"
           + "unconnected,ward,99,count,2021,abc,2030,x\n").encode()
    frame, problems = target_files.validate_targets(raw, AREAS)
    assert frame.empty
    assert [(p.row, p.column) for p in problems] == [(2, "metric"), (3, "area_id"), (3, "target_value")]


def test_row_numbers_follow_the_spreadsheet_even_after_blank_lines():
    problem = only_problem((HEADER + GOOD_ROW + "\n\nbroadband,city,chicago,count,2021,0,2030,x\n").encode())
    assert problem.row == 5


def test_a_good_targets_file_is_read_with_types_and_normalised_areas():
    raw = (" Metric ,GEOGRAPHY,area_id,measure,baseline_year,target_value,target_year,source,notes\n"
           "unconnected,city,,count,2021,\"1,000\",2030,Plan,ignored\n"
           "high_speed_broadband,Community area,07,share,2021,0.9,2030.0,Assumption,\n").encode("utf-8-sig")
    frame, problems = target_files.validate_targets(raw, AREAS)
    assert problems == []
    assert list(frame.columns) == target_files.TARGET_COLUMNS
    assert list(frame["area_id"]) == ["chicago", "7"]
    assert list(frame["geography"]) == ["city", "community_area"]
    assert list(frame["target_value"]) == [1000.0, 0.9]
    assert list(frame["target_year"]) == [2030, 2030]


def test_a_good_targets_file_downloads_back_to_the_same_table():
    raw = (HEADER + GOOD_ROW + "no_computer,ward,12,count,2021,500,2028,\"=cmd, a formula-looking source\"\n").encode()
    frame, problems = target_files.validate_targets(raw, AREAS)
    again, problems_again = target_files.validate_targets(target_files.to_csv(frame), AREAS)
    assert problems == problems_again == []
    assert again.drop(columns="source").equals(frame.drop(columns="source"))
    assert again["source"].iloc[1] == "'" + frame["source"].iloc[1]


def test_load_targets_raises_a_validation_error_naming_the_problem(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + "broadband,city,chicago,count,2021,0,2030,x\n")
    with pytest.raises(ValidationError, match="Row 2, column 'metric'"):
        target_files.load_targets(AREAS, path)
    with pytest.raises(ValidationError, match="could not be read"):
        target_files.load_targets(AREAS, tmp_path / "absent.csv")


# ---- validation: milestones, row by row ------------------------------------------------------------------------

@pytest.mark.parametrize("row, column, words", [
    (",2024-06-06,27,60,2024-12-31,WTTW,parks\n", "name", "is empty; name the milestone"),
    ("Parks,06/06/2024,27,60,2024-12-31,WTTW,parks\n", "date", "'06/06/2024' is not a date"),
    ("Parks,2040-01-01,27,60,2024-12-31,WTTW,parks\n", "date", "2040-01-01 is outside 2017–2035"),
    ("Parks,2024-06-06,lots,60,2024-12-31,WTTW,parks\n", "value", "'lots' is not a number"),
    ("Parks,2024-06-06,-1,60,2024-12-31,WTTW,parks\n", "value", "-1 is negative"),
    ("Parks,2024-06-06,27,0,2024-12-31,WTTW,parks\n", "target", "0 is not above zero"),
    ("Parks,2024-06-06,27,60,,WTTW,parks\n", "target_date", "is empty; write a date"),
    ("Parks,2024-06-06,27,60,2024-12-31,,parks\n", "source", "is empty; say where the value comes from"),
    ("Parks,2024-06-06,27,60,2024-12-31,WTTW,\n", "unit", "is empty; say what is counted"),
])
def test_each_bad_milestone_cell_is_reported_with_its_row_and_column(row, column, words):
    problem = only_problem((MILESTONE_HEADER + "Devices,2024-01-01,1,10,2026-12-31,Illustrative,devices\n"
                            + row).encode(), kind="milestones")
    assert problem.row == 3 and problem.column == column
    assert words in problem.message


def test_a_duplicate_milestone_name_and_date_is_refused():
    problem = only_problem((MILESTONE_HEADER + GOOD_MILESTONE + GOOD_MILESTONE.replace("27", "30")).encode(),
                           kind="milestones")
    assert problem.row == 3 and "repeats row 2" in problem.message


def test_a_milestones_file_missing_a_column_is_named():
    problem = only_problem(b"name,date,value,target,source,unit\nParks,2024-06-06,27,60,WTTW,parks\n",
                           kind="milestones")
    assert "target_date" in problem.message


def test_the_column_guides_describe_exactly_the_required_columns():
    assert list(target_files.TARGET_COLUMN_MEANINGS) == target_files.TARGET_COLUMNS
    assert list(target_files.MILESTONE_COLUMN_MEANINGS) == target_files.MILESTONE_COLUMNS


def test_a_good_milestones_file_round_trips_with_dates():
    frame = milestones_frame(GOOD_MILESTONE)
    assert frame["date"].iloc[0] == date(2024, 6, 6)
    again, problems = target_files.validate_milestones(target_files.to_csv(frame))
    assert problems == [] and again.equals(frame)


# ---- the project's own files, against the real pipeline ---------------------------------------------------------

def test_shipped_targets_are_valid_and_have_the_plan_defaults(data):
    shipped = target_files.load_targets(target_files.known_areas(data.metrics))
    city = shipped[shipped["geography"] == "city"].set_index("metric")
    assert city.loc["unconnected", "target_value"] == 0 and city.loc["unconnected", "target_year"] == 2030
    assert city.loc["no_computer", "target_value"] == 0 and city.loc["no_computer", "target_year"] == 2030
    assert city.loc["high_speed_broadband", "measure"] == "share"
    assert "assumption" in city.loc["unconnected", "source"].lower()
