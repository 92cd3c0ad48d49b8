"""The Census API path, checked offline against recorded replies in tests/fixtures/census_api."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from equity.census_api import (
    BROADBAND_VARIABLES, FIRST_YEAR, SERVED_YEARS, TRACT_COLUMNS, ReplaySession,
    decode_annotation_values, fetch_acs_tracts,
)
from equity.errors import CensusAPIError

REPLIES = Path(__file__).parent / "fixtures" / "census_api"
COOK_2019 = REPLIES / "2019" / "acs" / "acs5" / "state-17_county-031"
KEY = "SECRET-test-key-0123456789"


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    monkeypatch.delenv("CENSUS_API_KEY", raising=False)
    monkeypatch.delenv("EQUITY_CENSUS_REPLAY", raising=False)


@pytest.fixture(scope="module")
def tracts_2019():
    return fetch_acs_tracts(2019, api_key=KEY, session=ReplaySession(REPLIES))


@pytest.fixture(scope="module")
def tracts_2023():
    return fetch_acs_tracts(2023, session=ReplaySession(REPLIES))


def recorded(path: Path) -> pd.DataFrame:
    """A recorded reply as the API sent it: header row, then string rows, indexed by tract id."""
    header, *rows = json.loads(path.read_text(encoding="utf-8"))
    reply = pd.DataFrame(rows, columns=header)
    return reply.set_index(reply["state"] + reply["county"] + reply["tract"])


def value(table: pd.DataFrame, tract: str, variable: str) -> pd.Series:
    return table[(table["tract"] == tract) & (table["variable"] == variable)].iloc[0]


class StubSession:
    """Stands in for requests.Session: fails the way a network does, or records what was asked."""

    def __init__(self, error=None):
        self.error = error
        self.headers = {}
        self.params = []

    def get(self, url, params=None, **_):
        self.params.append(params)
        raise self.error


def test_broadband_variables_are_the_27_table_lines():
    assert len(BROADBAND_VARIABLES) == 27
    assert BROADBAND_VARIABLES[0] == "B28002_001"
    assert BROADBAND_VARIABLES[12] == "B28002_013"
    assert BROADBAND_VARIABLES[-1] == "B28011_008"


def test_reply_becomes_the_tidy_tract_table(tracts_2019):
    assert list(tracts_2019.columns) == TRACT_COLUMNS
    assert tracts_2019["tract"].nunique() == 7
    assert len(tracts_2019) == 7 * 27
    assert set(tracts_2019["tract"].str.len()) == {11}
    assert set(tracts_2019["year"]) == {2019}
    assert tracts_2019["estimate"].dtype == float and tracts_2019["moe"].dtype == float
    assert tracts_2019.equals(tracts_2019.sort_values(["tract", "variable"], ignore_index=True))


def test_values_are_read_from_the_strings_the_api_sends(tracts_2019):
    reply = recorded(COOK_2019 / "B28002_001E--GEO_ID--50.json")
    row = value(tracts_2019, "17031010100", "B28002_013")
    assert row["estimate"] == float(reply.loc["17031010100", "B28002_013E"])
    assert row["moe"] == float(reply.loc["17031010100", "B28002_013M"])
    assert row["note"] == ""


def test_chunks_are_merged_on_geo_id_when_rows_come_in_another_order(tracts_2019):
    first = recorded(COOK_2019 / "B28002_001E--GEO_ID--50.json")
    second = recorded(COOK_2019 / "B28011_006M--GEO_ID--6.json")
    assert list(first.index) != list(second.index)
    for tract in first.index:
        row = value(tracts_2019, tract, "B28011_006")
        assert row["estimate"] == float(first.loc[tract, "B28011_006E"])
        assert row["moe"] == float(second.loc[tract, "B28011_006M"])
        assert value(tracts_2019, tract, "B28011_008")["estimate"] == float(second.loc[tract, "B28011_008E"])


def test_values_parse_the_same_when_the_package_leaves_them_as_strings(tracts_2019, tmp_path):
    # Without variable definitions the census package does not cast values to float.
    shutil.copytree(REPLIES / "2019", tmp_path / "2019", ignore=shutil.ignore_patterns("variables.json"))
    as_strings = fetch_acs_tracts(2019, session=ReplaySession(tmp_path))
    pd.testing.assert_frame_equal(as_strings, tracts_2019)


@pytest.mark.parametrize("tract, variable, estimate, moe, note", [
    ("17031010201", "B28002_009", np.nan, np.nan,
     "estimate could not be computed: too few sample observations (Census code -666666666); "
     "margin of error could not be computed: too few sample observations (Census code -222222222)"),
    ("17031010201", "B28002_003", np.nan, np.nan,
     "estimate cannot be displayed: too few sample cases in this tract (Census code -999999999); "
     "margin of error cannot be displayed: too few sample cases in this tract (Census code -999999999)"),
    ("17031010201", "B28011_003", 0.0, np.nan,
     "margin of error is not applicable or not available (Census code -888888888)"),
    ("17031010201", "B28011_005", 128.0, np.nan,
     "margin of error could not be computed: the median falls in an open-ended interval (Census code -333333333)"),
    ("17031010202", "B28002_010", np.nan, 25.0, "no estimate for this tract (null in the Census reply)"),
    ("17043840101", "B28011_006", 0.0, np.nan, "margin of error has unrecognised Census annotation value -111111111"),
])
def test_annotation_codes_become_missing_with_a_note(tracts_2019, tract, variable, estimate, moe, note):
    row = value(tracts_2019, tract, variable)
    np.testing.assert_equal([row["estimate"], row["moe"]], [estimate, moe])
    assert row["note"] == note


def test_controlled_estimate_has_moe_zero_not_missing(tracts_2019):
    row = value(tracts_2019, "17031010201", "B28003_001")
    assert row["estimate"] == 2996.0
    assert row["moe"] == 0.0
    assert "controlled" in row["note"] and "-555555555" in row["note"]


def test_zero_estimates_are_kept_as_zero(tracts_2019):
    lake_michigan = tracts_2019[tracts_2019["tract"] == "17031990000"]
    assert (lake_michigan["estimate"] == 0).all()
    assert (lake_michigan["moe"] == 12).all()
    assert (lake_michigan["note"] == "").all()


def test_no_annotation_code_leaks_as_a_number(tracts_2019, tracts_2023):
    for table in (tracts_2019, tracts_2023):
        numbers = table[["estimate", "moe"]]
        assert not (numbers < 0).any().any()
        assert (table["note"] != "").sum() == numbers.isna().any(axis=1).sum() + (table["note"].str.contains("-555555555")).sum()


def test_decoding_works_on_whole_columns_of_any_value_type():
    decoded = decode_annotation_values(pd.Series([5.0, "7", None, "x", -888888888.0]),
                                       pd.Series(["3", 2.0, "1", "-555555555", -999999999.0]))
    np.testing.assert_equal(decoded["estimate"].to_numpy(), [5.0, 7.0, np.nan, np.nan, np.nan])
    np.testing.assert_equal(decoded["moe"].to_numpy(), [3.0, 2.0, 1.0, 0.0, np.nan])
    assert decoded["note"][3].startswith("estimate 'x' in the Census reply is not a number")
    assert decoded["note"][4].startswith("estimate is not applicable or not available")


def test_replay_of_2023_has_every_cook_and_dupage_tract(tracts_2023):
    assert tracts_2023["tract"].nunique() == 1551
    assert len(tracts_2023) == 1551 * 27
    assert set(tracts_2023["variable"]) == set(BROADBAND_VARIABLES)
    assert tracts_2023["tract"].drop_duplicates().str[:5].value_counts().to_dict() == {"17031": 1332, "17043": 219}
    assert set(tracts_2023["year"]) == {2023}


def test_2023_stand_in_keeps_households_in_one_total(tracts_2023):
    wide = tracts_2023.pivot(index="tract", columns="variable", values="estimate").dropna()
    parts = wide["B28002_002"] + wide["B28002_012"] + wide["B28002_013"]
    assert (parts == wide["B28002_001"]).all()
    assert (wide["B28011_001"] == wide["B28002_001"]).all()
    assert (wide["B28003_002"] + wide["B28003_006"] == wide["B28003_001"]).all()


def test_replay_is_switched_on_by_environment_without_a_key(monkeypatch, tracts_2019):
    monkeypatch.setenv("EQUITY_CENSUS_REPLAY", str(REPLIES))
    pd.testing.assert_frame_equal(fetch_acs_tracts(2019), tracts_2019)


def test_replay_names_the_reply_file_it_lacks(tmp_path):
    with pytest.raises(CensusAPIError) as error:
        fetch_acs_tracts(2019, api_key=KEY, session=ReplaySession(tmp_path))
    message = str(error.value)
    assert "No recorded Census reply" in message and "B28002_001E--GEO_ID--50.json" in message
    assert KEY not in message


def test_replay_directory_must_exist(tmp_path):
    with pytest.raises(CensusAPIError, match="replay directory not found"):
        ReplaySession(tmp_path / "absent")


@pytest.mark.parametrize("year", [2009, 2016, FIRST_YEAR - 1, SERVED_YEARS[-1] + 1, 2100, "2019"])
def test_years_without_the_broadband_tables_are_refused(year):
    with pytest.raises(CensusAPIError) as error:
        fetch_acs_tracts(year, api_key=KEY, session=StubSession(AssertionError("no request expected")))
    assert f"{FIRST_YEAR}–{SERVED_YEARS[-1]}" in str(error.value)
    assert SERVED_YEARS[0] == FIRST_YEAR == 2017


def test_missing_key_says_to_set_census_api_key():
    with pytest.raises(CensusAPIError, match="set CENSUS_API_KEY"):
        fetch_acs_tracts(2019, session=StubSession(AssertionError("no request expected")))


def test_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CENSUS_API_KEY", KEY)
    session = StubSession(requests.ConnectionError("refused"))
    with pytest.raises(CensusAPIError):
        fetch_acs_tracts(2019, session=session)
    assert session.params[0]["key"] == KEY


@pytest.mark.parametrize("case, expected", [
    ("invalid_key", ["refused the API key", "Invalid Key", "CENSUS_API_KEY"]),
    ("unknown_variable", ["HTTP 400", "https://api.census.gov/data/2019/acs/acs5?get=B28002_001E",
                          "error: unknown variable 'B28002_001E'"]),
    ("server_error", ["HTTP 500", "https://api.census.gov/data/2019/acs/acs5?get=", "try again later"]),
    ("not_found", ["HTTP 404", "https://api.census.gov/data/2019/acs/acs5?get=", "no such dataset"]),
    ("empty_body", ["empty reply (no body)", "Cook County (17031)"]),
    ("empty_list", ["sent an empty list", "header row"]),
    ("no_content", ["returned no tracts", "Cook County (17031), ACS 5-year 2019"]),
    ("missing_column", ["lacks requested column(s) B28002_013M"]),
])
def test_failed_replies_name_their_cause_and_hide_the_key(case, expected):
    with pytest.raises(CensusAPIError) as error:
        fetch_acs_tracts(2019, api_key=KEY, session=ReplaySession(REPLIES / "errors" / case))
    message = str(error.value)
    for part in expected:
        assert part in message
    assert KEY not in message and "key=" not in message


def test_reply_that_is_not_json_is_quoted(tmp_path):
    reply = tmp_path / "2019" / "acs" / "acs5" / "state-17_county-031" / "B28002_001E--GEO_ID--50.html"
    reply.parent.mkdir(parents=True)
    reply.write_text("<html><body>Service Unavailable</body></html>")
    with pytest.raises(CensusAPIError) as error:
        fetch_acs_tracts(2019, api_key=KEY, session=ReplaySession(tmp_path))
    assert "is not JSON" in str(error.value) and "Service Unavailable" in str(error.value)


@pytest.mark.parametrize("failure, expected", [
    (requests.ReadTimeout("read timed out"), "did not answer within 60 s"),
    (requests.ConnectionError("Name or service not known"), "Could not reach the Census API"),
])
def test_network_failures_name_the_cause_and_hide_the_key(failure, expected):
    with pytest.raises(CensusAPIError) as error:
        fetch_acs_tracts(2019, api_key=KEY, session=StubSession(failure))
    message = str(error.value)
    assert expected in message
    assert "https://api.census.gov/data/2019/acs/acs5?get=B28002_001E" in message
    assert KEY not in message
