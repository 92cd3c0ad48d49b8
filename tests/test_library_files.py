"""The library raw files: branches, computer sessions and branch-name matching (equity.library_files).

The pipeline tests read the real snapshot in place; the reader tests build small files of their own.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from equity import config, libraries, library_files
from equity.errors import SnapshotError

SNAPSHOT = config.snapshot_dir()
needs_snapshot = pytest.mark.skipif(not (SNAPSHOT / library_files.LOCATIONS_FILE).exists(),
                                    reason=f"library snapshot not found under {SNAPSHOT}")


# Real snapshot ---------------------------------------------------------------

@pytest.fixture(scope="module")
def branches():
    return library_files.read_branches(SNAPSHOT)


@pytest.fixture(scope="module")
def sessions_and_unmatched(branches):
    return library_files.read_computer_sessions(SNAPSHOT, branches=branches)


def _file_rows(year: int) -> list[dict]:
    path = SNAPSHOT / library_files.LIBRARIES_DIR / library_files.SESSIONS_FILE.format(year=year)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [row for row in csv.DictReader(handle) if any(value.strip() for value in row.values())]


@needs_snapshot
def test_branches_have_distinct_keys_and_chicago_coordinates(branches):
    with (SNAPSHOT / library_files.LOCATIONS_FILE).open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(branches) == len(rows)
    assert branches["branch_key"].is_unique
    assert branches["branch"].str.strip().eq(branches["branch"]).all()
    assert branches["latitude"].between(41.64, 42.03).all()
    assert branches["longitude"].between(-87.95, -87.52).all()
    assert branches[["address", "zip", "hours", "phone", "website"]].ne("").all().all()


@needs_snapshot
def test_every_session_year_parses_with_most_branches_matched(sessions_and_unmatched, branches):
    sessions, _ = sessions_and_unmatched
    per_year = sessions.groupby("year")["branch_key"].nunique()
    assert list(per_year.index) == list(library_files.SESSION_YEARS)
    # Nearly every branch of today's list already existed in 2011.
    assert (per_year >= 70).all(), per_year[per_year < 70]
    assert per_year.max() <= len(branches)
    assert sessions["month"].between(1, 12).all()
    assert sessions["branch"].notna().all()


@needs_snapshot
@pytest.mark.parametrize("year", library_files.SESSION_YEARS)
def test_every_row_is_matched_or_reported(sessions_and_unmatched, year):
    sessions, unmatched = sessions_and_unmatched
    file_rows = _file_rows(year)
    matched_rows = sessions.loc[sessions["year"] == year, "raw_name"].nunique()
    reported_rows = (unmatched["year"] == year).sum()
    assert matched_rows + reported_rows == len(file_rows)


@needs_snapshot
@pytest.mark.parametrize("year", library_files.SESSION_YEARS)
def test_matched_and_reported_sessions_add_up_to_the_file_ytd(sessions_and_unmatched, year):
    sessions, unmatched = sessions_and_unmatched
    file_ytd = sum(float(row["YTD"]) for row in _file_rows(year))
    matched = sessions.loc[sessions["year"] == year, "sessions"].sum()
    reported = unmatched.loc[unmatched["year"] == year, "ytd"].sum()
    assert matched + reported == pytest.approx(file_ytd)


@needs_snapshot
def test_no_branch_is_matched_twice_in_one_year(sessions_and_unmatched):
    sessions, _ = sessions_and_unmatched
    rows_per_branch = sessions.groupby(["year", "branch_key"])["raw_name"].nunique()
    assert (rows_per_branch == 1).all(), rows_per_branch[rows_per_branch > 1]
    assert not sessions.duplicated(["year", "branch_key", "month"]).any()


@needs_snapshot
def test_unmatched_rows_each_carry_file_name_and_reason(sessions_and_unmatched):
    _, unmatched = sessions_and_unmatched
    assert unmatched["reason"].str.len().gt(0).all()
    for row in unmatched.itertuples():
        assert str(row.year) in row.file
        assert row.raw_name == "" or library_files.branch_key(row.raw_name) not in library_files.ALIASES


@needs_snapshot
def test_every_unmatched_row_has_a_documented_reason(sessions_and_unmatched):
    _, unmatched = sessions_and_unmatched
    undocumented = unmatched[unmatched["reason"].str.startswith("no branch")]
    assert undocumented.empty, undocumented[["year", "raw_name"]].to_dict("records")


@needs_snapshot
def test_every_listed_branch_reports_sessions_in_the_latest_year(sessions_and_unmatched, branches):
    sessions, _ = sessions_and_unmatched
    latest = sessions.loc[sessions["year"] == max(library_files.SESSION_YEARS), "branch_key"]
    assert set(branches["branch_key"]) <= set(latest)


@needs_snapshot
def test_2023_is_partial_and_earlier_years_are_full(sessions_and_unmatched):
    annual = libraries.annual_sessions(sessions_and_unmatched[0])
    latest = annual[annual["year"] == 2023]
    assert latest["partial_year"].all()
    assert (latest["months_reported"] < 12).all()
    earlier = annual[annual["year"] < 2023]
    assert (earlier["months_reported"] == 12).all()
    assert not earlier["partial_year"].any()


@needs_snapshot
def test_annual_sessions_equal_each_rows_ytd(sessions_and_unmatched):
    annual = libraries.annual_sessions(sessions_and_unmatched[0]).set_index(["year", "branch"])
    sessions = sessions_and_unmatched[0]
    for year in (2011, 2019, 2023):
        ytd = {row.get("LOCATION", row.get("BRANCH")): float(row["YTD"]) for row in _file_rows(year)}
        ytd = {name.strip(): value for name, value in ytd.items()}
        raw = sessions[sessions["year"] == year].drop_duplicates("branch_key")
        for row in raw.itertuples():
            assert annual.at[(year, row.branch), "sessions"] == pytest.approx(ytd[row.raw_name])


# Name matching ----------------------------------------------------------------

@pytest.mark.parametrize("spellings", [
    ("Albany Park ", "ALBANY PARK", "Albany Park Branch"),
    ("Sulzer Regional", "Sulzer Regional Library"),
    ("Galewood Mont-Clare", "Galewood-Mont Clare"),
    ("Daley, Richard M.-W Humboldt", "Daley, Richard M. -W. Humboldt"),
    ("Mt. Greenwood", "Mount Greenwood"),
])
def test_spelling_variants_share_one_key(spellings):
    assert len({library_files.branch_key(name) for name in spellings}) == 1


def test_different_branches_keep_different_keys():
    names = ["Austin", "Austin-Irving", "North Austin", "Lincoln Park", "Lincoln Belmont",
             "Daley, Richard J.", "Daley, Richard M.", "West Pullman", "Pullman"]
    assert len({library_files.branch_key(name) for name in names}) == len(names)


# Small snapshots built by the tests -------------------------------------------

LOCATIONS_HEADER = ["NAME ", "HOURS OF OPERATION", "ADDRESS", "CITY", "STATE", "ZIP", "PHONE",
                    "WEBSITE", "LOCATION"]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _location(name: str, lat: float = 41.9, lon: float = -87.7) -> list:
    return [name, "Mon., 9-5", "1 N. State St.", "Chicago", "IL", "60602", "(312) 555-0100",
            "https://www.chipublib.org/", f"({lat}, {lon})"]


def _small_snapshot(tmp_path: Path, session_rows: list[list], year: int = 2020,
                    header: list[str] | None = None) -> Path:
    _write(tmp_path / library_files.LOCATIONS_FILE, LOCATIONS_HEADER,
           [_location("Albany Park"), _location("Sulzer Regional Library"),
            _location("Harold Washtington Library Center")])
    header = header or ["BRANCH", *library_files.MONTHS, "YTD", "LOCATION"]
    _write(tmp_path / library_files.LIBRARIES_DIR / library_files.SESSIONS_FILE.format(year=year), header,
           session_rows)
    return tmp_path


def _row(name: str, months: list, point: str = "POINT (-87.7 41.9)") -> list:
    values = [value for value in months if value != ""]
    return [name, *months, sum(values), point]


def test_display_name_misspelling_is_corrected(tmp_path):
    branches = library_files.read_branches(_small_snapshot(tmp_path, []))
    assert "Harold Washington Library Center" in set(branches["branch"])
    assert not branches["branch"].str.contains("Washtington").any()


def test_reader_matches_variants_and_reports_the_rest(tmp_path):
    rows = [_row("Albany Park Branch", [1] * 12), _row("Sulzer Regional", [2] * 12),
            _row("Harold Washington Library Ctr.", [3] * 12), _row("Roosevelt", [4] * 12),
            _row("Somewhere Else", [5] * 12)]
    sessions, unmatched = library_files.read_computer_sessions(_small_snapshot(tmp_path, rows), years=[2020])
    assert set(sessions["branch"]) == {"Albany Park", "Sulzer Regional Library",
                                       "Harold Washington Library Center"}
    assert sessions.groupby("branch")["sessions"].sum().to_dict() == {
        "Albany Park": 12, "Sulzer Regional Library": 24, "Harold Washington Library Center": 36}
    assert sorted(unmatched["raw_name"]) == ["Roosevelt", "Somewhere Else"]
    assert unmatched.set_index("raw_name").at["Roosevelt", "reason"].startswith("closed branch")
    assert (unmatched["file"] == library_files.SESSIONS_FILE.format(year=2020)).all()


def test_misspelt_name_is_matched_fuzzily(tmp_path):
    sessions, unmatched = library_files.read_computer_sessions(
        _small_snapshot(tmp_path, [_row("Albany Prk", [1] * 12)]), years=[2020])
    assert unmatched.empty
    assert set(sessions["match"]) == {"fuzzy"}
    assert set(sessions["branch"]) == {"Albany Park"}


def test_two_rows_for_one_branch_are_both_reported(tmp_path):
    rows = [_row("Albany Park", [1] * 12), _row("ALBANY PARK LIBRARY", [1] * 12),
            _row("Sulzer Regional", [2] * 12)]
    sessions, unmatched = library_files.read_computer_sessions(_small_snapshot(tmp_path, rows), years=[2020])
    assert set(sessions["branch_key"]) == {"sulzer"}
    assert len(unmatched) == 2
    assert unmatched["reason"].str.startswith("ambiguous").all()


def test_blank_total_row_is_reported_as_total(tmp_path):
    rows = [_row("Albany Park", [1, 2, 3, 4] + [""] * 8), _row("Sulzer Regional", [5, 6, 7, 8] + [""] * 8)]
    total = ["", *([""] * 12), 36, ""]
    snapshot = _small_snapshot(tmp_path, rows + [total], year=2023)
    sessions, unmatched = library_files.read_computer_sessions(snapshot, years=[2023])
    assert len(unmatched) == 1
    assert unmatched["reason"].iloc[0].startswith("total row")
    assert unmatched["ytd"].iloc[0] == 36
    annual = libraries.annual_sessions(sessions)
    assert annual["months_reported"].tolist() == [4, 4]
    assert annual["partial_year"].all()
    assert annual.set_index("branch")["sessions"].to_dict() == {"Albany Park": 10,
                                                                "Sulzer Regional Library": 26}


def test_location_header_with_names_is_read_when_there_is_no_branch_column(tmp_path):
    header = ["LOCATION", "ADDRESS", "CITY", "ZIP CODE", *library_files.MONTHS, "YTD"]
    rows = [["Albany Park ", "5150 N. Kimball Avenue", "CHICAGO", "60625", *([7] * 12), 84]]
    sessions, unmatched = library_files.read_computer_sessions(
        _small_snapshot(tmp_path, rows, year=2011, header=header), years=[2011])
    assert unmatched.empty
    assert sessions["sessions"].sum() == 84


def test_zero_months_count_as_reported_but_not_as_sessions(tmp_path):
    rows = [_row("Albany Park", [0] * 6 + [3] * 6)]
    sessions, _ = library_files.read_computer_sessions(_small_snapshot(tmp_path, rows), years=[2020])
    annual = libraries.annual_sessions(sessions)
    assert annual["months_reported"].iloc[0] == 12
    assert annual["months_with_sessions"].iloc[0] == 6
    assert not annual["partial_year"].iloc[0]


def test_missing_sessions_file_names_the_file(tmp_path):
    snapshot = _small_snapshot(tmp_path, [_row("Albany Park", [1] * 12)], year=2020)
    with pytest.raises(SnapshotError, match="2019_Computer_Sessions"):
        library_files.read_computer_sessions(snapshot, years=[2019])


def test_missing_month_column_names_the_column(tmp_path):
    header = ["BRANCH", *[m for m in library_files.MONTHS if m != "MARCH"], "YTD"]
    snapshot = _small_snapshot(tmp_path, [["Albany Park", *([1] * 11), 11]], header=header)
    with pytest.raises(SnapshotError, match="MARCH"):
        library_files.read_computer_sessions(snapshot, years=[2020])


def test_text_in_a_month_column_names_file_and_column(tmp_path):
    row = _row("Albany Park", [1] * 12)
    row[5] = "n/a"  # MAY
    snapshot = _small_snapshot(tmp_path, [row])
    with pytest.raises(SnapshotError, match=r"2020_Computer_Sessions.*MAY"):
        library_files.read_computer_sessions(snapshot, years=[2020])


def test_malformed_location_names_the_column(tmp_path):
    _write(tmp_path / library_files.LOCATIONS_FILE, LOCATIONS_HEADER,
           [_location("Albany Park")[:-1] + ["41.9 -87.7"]])
    with pytest.raises(SnapshotError, match="LOCATION"):
        library_files.read_branches(tmp_path)


def test_missing_locations_file_names_the_file(tmp_path):
    with pytest.raises(SnapshotError, match="Libraries_-_Locations"):
        library_files.read_branches(tmp_path)


def test_missing_name_column_names_the_column(tmp_path):
    _write(tmp_path / library_files.LOCATIONS_FILE, ["BRANCH_NAME", *LOCATIONS_HEADER[1:]],
           [_location("Albany Park")])
    with pytest.raises(SnapshotError, match="NAME"):
        library_files.read_branches(tmp_path)
