"""Every table a page offers for download comes with a data dictionary that explains each column.

The pages are read from app.py's ``st.Page`` calls, so a page added to the
navigation is covered without touching this file. ``dashboard.common.download_extract``
is replaced by a spy that records each table with the columns the library
declares for it (the pages call it through the module at run time) and then
draws the buttons as usual.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from equity import config, exports, libraries, library_files, metrics
from equity.columns import Column
from dashboard import frame
from tests.conftest import open_app_page



def navigation_pages() -> list[str]:
    """The script of every page app.py navigates to (``dashboard.frame.PAGES``), in navigation order."""
    return [script for script, _, _ in frame.PAGES]


PAGES = navigation_pages()
# The explorer's compare and custom-area tabs only offer their tables once areas are chosen.
CHOSEN_AREAS = {"community_area": ["1", "2", "3"], "ward": ["1", "2"]}
STATES = ([(page, {}) for page in PAGES]
          + [("pages/explorer.py", {"geo": geo, "compare": ",".join(ids), "custom": ",".join(ids)})
             for geo, ids in CHOSEN_AREAS.items()])


def offered_tables(offered_downloads, page: str, params: dict) -> dict[str, tuple[pd.DataFrame, list[Column]]]:
    """Open ``page`` with ``params`` in the URL; every table it offers for download with its columns, by file name."""
    open_app_page(page, **params)
    return {offer["file_stem"]: (offer["table"], offer["columns"]) for offer in offered_downloads.values()}


def empty_meanings(table: pd.DataFrame, columns: list[Column]) -> list[str]:
    dictionary = exports.data_dictionary(table, columns)
    return list(dictionary.loc[dictionary["Meaning"].str.strip() == "", "Column or measure"])


def test_navigation_lists_the_pages():
    scripts = [p.name for p in (config.REPO_ROOT / "pages").glob("*.py")]
    assert PAGES and all(page.removeprefix("pages/") in scripts for page in PAGES)


@pytest.mark.parametrize("page, params", STATES, ids=[f"{p.removeprefix('pages/')}{'-' + v['geo'] if v else ''}"
                                                      for p, v in STATES])
def test_every_column_offered_for_download_has_a_meaning(offered_downloads, data, page, params):
    offered = offered_tables(offered_downloads, page, params)
    if "download_extract(" in (config.REPO_ROOT / page).read_text(encoding="utf-8"):
        assert offered, f"{page} calls download_extract but offered no table: the spy saw nothing"
    # The side-by-side and pairwise tables name a column after each chosen area; the library
    # cannot know those names (reported: the page could use a long layout instead).
    area_columns = set()
    if params:
        rows = data.metrics[(data.metrics["geography"] == params["geo"])
                            & data.metrics["area_id"].isin(CHOSEN_AREAS[params["geo"]])]
        area_columns = set(rows["area_name"])
    missing = {stem: [c for c in empty_meanings(table, columns) if c not in area_columns]
               for stem, (table, columns) in offered.items()}
    assert not {stem: columns for stem, columns in missing.items() if columns}


# ---- columns named after a year, a distance or a measure --------------------------------------------------

def meaning_of(column: Column) -> tuple[str, str]:
    row = exports.data_dictionary(pd.DataFrame(columns=[column.label]), [column]).iloc[0]
    assert row["Column or measure"] == column.label
    return row["Meaning"], row["Formula"]


def test_a_sessions_column_named_after_a_year_gets_that_years_meaning():
    for year in (library_files.SESSION_YEARS[0], library_files.SESSION_YEARS[-1]):
        column = libraries.sessions_in_column(year)
        meaning, formula = meaning_of(column)
        assert str(year) in column.label and str(year) in meaning and "sessions" in meaning.lower()
        change, change_formula = meaning_of(libraries.change_from_column(year))
        assert str(year) in change and str(year + 1) in change and str(year) in change_formula


def test_distance_columns_quote_the_distance_in_their_name():
    near = libraries.branches_within_column(libraries.NEAR_MILES)
    close = libraries.branch_close_column(libraries.CLOSE_MILES)
    for column, miles in ((near, libraries.NEAR_MILES), (close, libraries.CLOSE_MILES)):
        assert f"{miles:g} mile" in column.label
        assert f"{miles:g} mile" in meaning_of(column)[0]
    assert f"{libraries.NEAR_MILES * libraries.FEET_PER_MILE:,.0f}" in meaning_of(near)[1]
    other = libraries.NEAR_MILES * 2
    assert f"{other:g} mile" in meaning_of(libraries.branches_within_column(other))[0]


@pytest.mark.parametrize("metric", list(metrics.METRICS.values()), ids=list(metrics.METRICS))
def test_a_column_named_after_a_measure_is_explained_with_the_measure(metric):
    shares = list(metrics.measure_columns(metric.key, "share")) if metric.denominator else []
    counts = list(metrics.measure_columns(metric.key, "count"))
    table = pd.DataFrame(columns=[c.label for c in shares + counts])
    dictionary = exports.data_dictionary(table, shares + counts).set_index("Column or measure")
    for column in shares + counts:
        assert dictionary.loc[column.label, "Meaning"], column.label
        assert metric.label in column.label
    for column in shares:
        assert "share of households" in dictionary.loc[column.label, "Meaning"]
    if counts[0] is not metrics.COUNT:  # "Households (estimate)" is an extract column, exactly named
        assert dictionary.loc[metric.label, "Meaning"] == metric.description


def test_the_households_measure_is_counted_in_the_extracts_own_columns():
    # "Households (estimate)" is also "<measure label> (estimate)" for the households measure: one header, one meaning.
    assert metrics.measure_columns("households", "count") == (metrics.COUNT, metrics.COUNT_MOE)


def test_an_undeclared_column_is_still_listed_with_an_empty_meaning():
    columns = ["Branch", "Something no code computes", "Public computer sessions in spring"]
    dictionary = exports.data_dictionary(pd.DataFrame(columns=columns), [libraries.BRANCH])
    assert list(dictionary["Column or measure"]) == columns
    assert list(dictionary["Meaning"] == "") == [False, True, True]
    assert re.fullmatch(r"\s*", dictionary["Formula"].iloc[1])


def test_no_table_declares_two_columns_under_one_label():
    from equity import compare, targets

    lists = [exports.extract_columns(g) for g in exports.EXTRACT_GEOGRAPHIES] + [
        compare.CUSTOM_AREA_COLUMNS, targets.PROGRESS_TABLE_COLUMNS, compare.GAP_TABLE_COLUMNS,
        libraries.SESSIONS_TABLE_COLUMNS, libraries.SURROUNDING_TABLE_COLUMNS, libraries.UNMATCHED_TABLE_COLUMNS,
        libraries.access_columns("community_area"), libraries.access_columns("ward"), libraries.branches_columns(2022)]
    for columns in lists:
        labels = [c.label for c in columns]
        assert len(labels) == len(set(labels)), labels
