"""dashboard.tables: the plain HTML tables drawn beside maps."""

import math

import pandas as pd

from dashboard import tables
from equity import change, compare, exports, metrics, queries, targets
from equity import program_queries as programs
from equity.columns import Column


def _frame():
    return pd.DataFrame({"name": ["Rogers Park", "<b>Uptown</b>"], "count": [1234.4, math.nan], "share": [0.1234, 0.5]})


def test_cells_are_formatted_by_kind_and_a_missing_value_is_a_dash():
    markup = tables.html_table(_frame(), {"name": "text", "count": "count", "share": "share"}, "Caption")
    assert ">1,234<" in markup and ">12.3%<" in markup and ">50.0%<" in markup
    assert f">{tables.MISSING}<" in markup


def test_the_table_has_a_caption_column_headers_and_row_headers_for_screen_readers():
    markup = tables.html_table(_frame(), {"name": "text", "share": "share"}, "Shares by area",
                               labels={"name": "Community area"})
    assert "<caption>Shares by area</caption>" in markup
    assert markup.count('<th scope="col"') == 2 and ">Community area</th>" in markup
    assert markup.count('<th scope="row"') == 2


def test_text_from_the_data_is_escaped_not_drawn_as_markup():
    markup = tables.html_table(_frame(), {"name": "text"}, "Names")
    assert "<b>Uptown</b>" not in markup and "&lt;b&gt;Uptown&lt;/b&gt;" in markup


def test_every_cell_keeps_its_unformatted_value():
    markup = tables.html_table(_frame(), {"name": "text", "share": "share"}, "Shares")
    assert 'data-value="0.1234"' in markup and 'data-column="share"' in markup


def test_the_scrolling_box_can_be_reached_by_keyboard_and_is_named():
    markup = tables.html_table(_frame(), {"name": "text"}, "Names of areas")
    assert 'role="region" tabindex="0" aria-label="Names of areas"' in markup


# ---- st.dataframe's formats from the declared columns ----------------------------------------------

def _format(config) -> str:
    return config["type_config"]["format"]


def test_column_config_formats_each_column_by_its_kind_and_leaves_text_alone():
    declared = [Column("area_name", "Area", ""), Column("count", "Households", "", kind="count"),
                Column("share", "Share", "", kind="share"), Column("share_moe", "Share MOE", "", kind="points")]
    config = tables.column_config(declared, helps={"Share MOE": "± percentage points"})
    assert list(config) == ["Households", "Share", "Share MOE"]
    assert _format(config["Households"]) == tables.GRID_FORMATS["count"]
    assert _format(config["Share"]) == _format(config["Share MOE"]) == "percent"
    assert config["Share MOE"]["help"] == "± percentage points" and config["Share"].get("help") is None


def _numeric(frame: pd.DataFrame) -> set[str]:
    return {label for label, values in frame.items()
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)}


def _pages_tables(data):
    """Every table a page draws with ``st.dataframe`` from declared columns, with those columns."""
    year = data.latest_year
    for geography_name in ("community_area", "ward"):
        ids = list(queries.chosen_areas(data, geography_name, year))
        for metric_key, value in (("unconnected", "share"), ("unconnected", "count"), ("households", "count")):
            ranked = queries.ranked_areas(data, geography_name, metric_key, year, value, ids)
            has_share = metrics.METRICS[metric_key].denominator is not None
            yield compare.ranking_table(ranked, geography_name, value, has_share)
            points, context = queries.context_rows(data, geography_name, year, metric_key, ids)
            yield queries.context_table(points, context, geography_name, metric_key)
        yield compare.differences_table(queries.compared_areas(data, geography_name, year, ids[:3]), ids[0])
        if len(data.years) > 1:
            moved = queries.ranked_changes(data, geography_name, "unconnected", data.years[0], year, ids)
            yield change.change_table(moved.reset_index(drop=True), geography_name)
        gap, _, _ = queries.gap(data, geography_name, "unconnected", year)
        yield compare.gap_table(gap), compare.GAP_TABLE_COLUMNS
        yield queries.area_progress_table(data, geography_name, None, next(iter(queries.city_target_labels(data))))
        yield programs.shown_table(programs.where_end_leaves(data, geography_name), geography_name, ranked=True), \
            programs.shown_columns(geography_name, ranked=True)
        yield programs.extract(data, geography_name), programs.extract_columns(geography_name)
    yield queries.custom_area(data, "community_area", ("1", "2"), year)[1], compare.CUSTOM_AREA_COLUMNS
    for geography_name in ("city", "community_area", "ward", "tract"):
        yield queries.build_extract(data, geography_name, [year]), exports.extract_columns(geography_name)
    yield queries.build_extract(data, "ward", [year], combine=["1", "2"]), exports.extract_columns(exports.CUSTOM)
    yield targets.progress_table(targets.progress(queries.project_targets(data), data.metrics)), \
        targets.PROGRESS_TABLE_COLUMNS


def test_every_number_a_page_shows_in_a_grid_is_formatted_by_its_declared_kind(data):
    for table, columns in _pages_tables(data):
        config = tables.column_config(columns)
        assert list(table.columns) == [column.label for column in columns]
        assert _numeric(table) <= set(config), (columns[0].label, _numeric(table) - set(config))
        for column in columns:
            if column.label in config:
                assert _format(config[column.label]) == tables.GRID_FORMATS[column.kind]
