"""dashboard.tables: the plain HTML tables drawn beside maps."""

import math

import pandas as pd

from dashboard import tables


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
