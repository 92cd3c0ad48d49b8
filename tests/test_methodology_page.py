"""The Methodology page under Streamlit's AppTest: its figures come from the library, for every reader alike."""

from __future__ import annotations

from tests.conftest import open_app_page

from equity import geography, queries

PAGE = "pages/methodology.py"


def reliability_table(at):
    return next(t.value for t in at.table if "Areas" in t.value.columns)


def test_the_reliability_counts_are_the_librarys_for_every_reader(data):
    """The counts are made once per build and shared (``st.cache_resource``): the second reader must see
    what a fresh ``queries.reliability_summary`` gives, labelled with the geographies' names."""
    expected = queries.reliability_summary(data, "unconnected", data.latest_year)
    for _ in range(2):
        shown = reliability_table(open_app_page(PAGE)).set_index("Areas")
        assert list(shown.index) == [geography.GEOGRAPHY_LABELS[g] for g in expected.index]
        assert shown.to_numpy().tolist() == expected.to_numpy().tolist()


def test_the_split_tract_figures_are_the_crosswalks(data):
    summary = queries.crosswalk_summary(data).set_index(["geography", "vintage"])
    text = " ".join(m.value for m in open_app_page(PAGE).markdown)
    row = summary.loc[("community_area", 2020)]
    assert f"{row['split_tracts']} of the {row['tracts']} tracts with Chicago households are split" in text


def test_the_change_tables_columns_are_listed_as_the_library_declares_them():
    from equity import change

    shown = next(t.value for t in open_app_page(PAGE).table if "Meaning" in t.value.columns)
    declared = change.change_columns("community_area")
    assert list(shown["Column"]) == [column.label for column in declared]
    assert list(shown["Meaning"]) == [column.meaning for column in declared]
