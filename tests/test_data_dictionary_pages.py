"""Every table a page offers for download comes with a data dictionary that explains each column.

The pages are read from app.py's ``st.Page`` calls, so a page added to the
navigation is covered without touching this file. ``pages.common.download_extract``
is replaced by a spy that records each table (the pages call it through the
module at run time) and then draws the buttons as usual.
"""

from __future__ import annotations

import ast
import re

import pandas as pd
import pytest

from equity import config, exports, libraries, metrics
from pages import common
from tests.conftest import open_app_page

APP = config.REPO_ROOT / "app.py"


def navigation_pages() -> list[str]:
    """The script of every ``st.Page(...)`` in app.py, in navigation order."""
    calls = [node for node in ast.walk(ast.parse(APP.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page"]
    return [call.args[0].value for call in calls
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)]


PAGES = navigation_pages()
# The explorer's compare and custom-area tabs only offer their tables once areas are chosen.
CHOSEN_AREAS = {"community_area": ["1", "2", "3"], "ward": ["1", "2"]}
STATES = ([(page, {}) for page in PAGES]
          + [("pages/explorer.py", {"geo": geo, "compare": ",".join(ids), "custom": ",".join(ids)})
             for geo, ids in CHOSEN_AREAS.items()])


def offered_tables(monkeypatch, page: str, params: dict) -> dict[str, pd.DataFrame]:
    """Open ``page`` with ``params`` in the URL; every table it offers for download, by file name."""
    offered = {}
    draw = common.download_extract

    def spy(table, file_stem, key, *args, **kwargs):
        offered[file_stem] = (table() if callable(table) else table).copy()  # a page may pass a function
        return draw(table, file_stem, key, *args, **kwargs)

    monkeypatch.setattr(common, "download_extract", spy)
    open_app_page(page, **params)
    return offered


def empty_meanings(table: pd.DataFrame) -> list[str]:
    dictionary = exports.data_dictionary(table)
    return list(dictionary.loc[dictionary["Meaning"].str.strip() == "", "Column or measure"])


def test_navigation_lists_the_pages():
    scripts = [p.name for p in (config.REPO_ROOT / "pages").glob("*.py")]
    assert PAGES and all(page.removeprefix("pages/") in scripts for page in PAGES)


@pytest.mark.parametrize("page, params", STATES, ids=[f"{p.removeprefix('pages/')}{'-' + v['geo'] if v else ''}"
                                                      for p, v in STATES])
def test_every_column_offered_for_download_has_a_meaning(monkeypatch, data, page, params):
    offered = offered_tables(monkeypatch, page, params)
    if "download_extract(" in (config.REPO_ROOT / page).read_text(encoding="utf-8"):
        assert offered, f"{page} calls download_extract but offered no table: the spy saw nothing"
    # The side-by-side and pairwise tables name a column after each chosen area; the library
    # cannot know those names (reported: the page could use a long layout instead).
    area_columns = set()
    if params:
        rows = data.metrics[(data.metrics["geography"] == params["geo"])
                            & data.metrics["area_id"].isin(CHOSEN_AREAS[params["geo"]])]
        area_columns = set(rows["area_name"])
    missing = {stem: [c for c in empty_meanings(table) if c not in area_columns] for stem, table in offered.items()}
    assert not {stem: columns for stem, columns in missing.items() if columns}


# ---- the pattern rules, on small tables ---------------------------------------------------------

def meaning_of(column: str) -> tuple[str, str]:
    row = exports.data_dictionary(pd.DataFrame(columns=[column])).iloc[0]
    assert row["Column or measure"] == column
    return row["Meaning"], row["Formula"]


def test_a_sessions_column_named_after_a_year_gets_that_years_meaning():
    for year in (libraries.SESSION_YEARS[0], libraries.SESSION_YEARS[-1]):
        meaning, formula = meaning_of(f"Public computer sessions {year}")
        assert str(year) in meaning and "sessions" in meaning.lower()
        change, change_formula = meaning_of(f"Change from {year}")
        assert str(year) in change and str(year + 1) in change and str(year) in change_formula


def test_distance_columns_quote_the_distance_in_their_name():
    near = f"Branches within {libraries.NEAR_MILES:g} mile"
    close = f"Branch close by (≤ {libraries.CLOSE_MILES:g} mile)"
    for column, miles in ((near, libraries.NEAR_MILES), (close, libraries.CLOSE_MILES)):
        meaning, formula = meaning_of(column)
        assert f"{miles:g} mile" in meaning
    assert f"{libraries.NEAR_MILES * libraries.FEET_PER_MILE:,.0f}" in meaning_of(near)[1]
    other = libraries.NEAR_MILES * 2
    assert f"{other:g} mile" in meaning_of(f"Branches within {other:g} miles")[0]


@pytest.mark.parametrize("metric", list(metrics.METRICS.values()), ids=list(metrics.METRICS))
def test_a_column_named_after_a_measure_is_explained_with_the_measure(metric):
    shares = [f"{metric.label} (share) (estimate)", f"{metric.label} (share) MOE (90%)"] if metric.denominator else []
    counts = [f"{metric.label} (estimate)", f"{metric.label} MOE (90%)"]
    dictionary = exports.data_dictionary(pd.DataFrame(columns=shares + counts)).set_index("Column or measure")
    for column in shares + counts:
        assert dictionary.loc[column, "Meaning"], column
    for column in shares:
        assert "share of households" in dictionary.loc[column, "Meaning"]
    if counts[0] not in exports._column_meanings():  # "Households (estimate)" is an extract column, exactly named
        assert dictionary.loc[metric.label, "Meaning"] == metric.description


def test_exact_names_take_precedence_over_patterns():
    # "Households (estimate)" is also "<measure label> (estimate)" for the households measure.
    assert "Households" in {m.label for m in metrics.METRICS.values()}
    meaning, formula = meaning_of("Households (estimate)")
    assert (meaning, formula) == exports._column_meanings()["Households (estimate)"]


def test_an_unknown_column_is_still_listed_with_an_empty_meaning():
    columns = ["Branch", "Something no code computes", "Public computer sessions in spring"]
    dictionary = exports.data_dictionary(pd.DataFrame(columns=columns))
    assert list(dictionary["Column or measure"]) == columns
    assert list(dictionary["Meaning"] == "") == [False, True, True]
    assert re.fullmatch(r"\s*", dictionary["Formula"].iloc[1])
