"""Tables drawn as plain HTML: for the tables beside a map, so that the map draws first.

Why not ``st.dataframe`` there: its grid is a large script the browser must
fetch and start before the page settles (with Arrow's formatting code, about
1.2 MB more than a bare map), and it draws on a canvas. A tract table of 795
rows needs the grid's sorting and scrolling; a table of 77 community areas or
50 wards does not, and a real ``<table>`` is what screen readers read best
(WAI tutorial "Tables": a caption, column headers with ``scope="col"``, and
each row named by its first cell with ``scope="row"``). It also prints whole.
``bench/map_time.py`` measures the difference.

A page that wants such a table sortable offers :func:`sort_choice` (a
selectbox: reachable by keyboard, its choice kept in the link by the page).

A table drawn with ``st.dataframe`` is formatted by :func:`column_config`
from its declared columns (``equity.columns.Column.kind``), in the same
formats as :func:`grid`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from equity.columns import Column

#: How each kind of value is written: counts with thousands separators, shares as percentages.
FORMATS = {
    "text": lambda value: str(value),
    "count": lambda value: f"{value:,.0f}",
    "share": lambda value: f"{value:.1%}",
    "points": lambda value: f"{value * 100:.1f} pts",
    "one decimal": lambda value: f"{value:,.1f}",
    "two decimals": lambda value: f"{value:,.2f}",
    "yes/no": lambda value: "yes" if value else "no",
}
MISSING = "—"

_STYLE = """<style>
.equity-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.equity-table caption { text-align: left; font-weight: 600; padding: 0 0 6px 0; }
.equity-table th, .equity-table td { padding: 4px 8px; border-bottom: 1px solid #d5d8dc; vertical-align: top; }
.equity-table thead th { text-align: left; border-bottom: 2px solid #4a4f57; }
.equity-table td.number, .equity-table th.number { text-align: right; font-variant-numeric: tabular-nums; }
.equity-table tbody th { text-align: left; font-weight: normal; }
.equity-table-scroll { max-height: 560px; overflow-y: auto; }
.equity-table-scroll:focus-visible { outline: 2px solid #1c4f8a; outline-offset: 2px; }
@media print { .equity-table-scroll { max-height: none; overflow: visible; } }
</style>"""


def _cell(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING
    return html.escape(FORMATS[kind](value))


def html_table(frame: pd.DataFrame, kinds: Mapping[str, str], caption: str, labels: Mapping[str, str] = {}) -> str:
    """``frame``'s columns named in ``kinds`` (in that order) as an accessible HTML table.

    ``kinds`` maps a column to how it is written (a key of :data:`FORMATS`);
    ``labels`` renames column headers. The first column names each row. Each
    header keeps its column's name (``data-column``) and each cell its
    unformatted value (``data-value``), so the table can be read back exactly."""
    columns = list(kinds)
    numeric = {column for column, kind in kinds.items() if kind != "text"}
    head = "".join(f'<th scope="col" data-column="{html.escape(column)}" data-kind="{kinds[column]}"'
                   f'{" class=number" if column in numeric else ""}>{html.escape(labels.get(column, column))}</th>'
                   for column in columns)
    rows = []
    for values in frame[columns].itertuples(index=False):
        cells = []
        for position, (column, value) in enumerate(zip(columns, values)):
            text = _cell(value, kinds[column])
            raw = "" if text == MISSING else html.escape(str(value), quote=True)
            if position == 0:
                cells.append(f'<th scope="row" data-value="{raw}">{text}</th>')
            else:
                cells.append(f'<td data-value="{raw}"{" class=number" if column in numeric else ""}>{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # A table taller than the box scrolls inside it: the box is a named region that takes keyboard focus,
    # so it can be scrolled with the arrow keys (WCAG 2.1.1; axe's scrollable-region-focusable).
    return (f'{_STYLE}<div class="equity-table-scroll" role="region" tabindex="0" '
            f'aria-label="{html.escape(caption, quote=True)}"><table class="equity-table">'
            f"<caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def show(frame: pd.DataFrame, kinds: Mapping[str, str], caption: str, labels: Mapping[str, str] = {}) -> None:
    """Draw :func:`html_table` on the page."""
    st.html(html_table(frame, kinds, caption, labels))


#: How each kind of value is written in an interactive grid (``grid``, ``column_config``): the nearest of its
#: formats. A share's MOE or change ("points") is a fraction too, so it is a percentage here. "four decimals" and
#: "four significant digits" are for columns whose rows mix units (a share as a fraction, or households).
GRID_FORMATS = {"count": "localized", "share": "percent", "points": "percent", "one decimal": "%.1f",
                "two decimals": "%.2f", "whole number": "%d", "dollars": "dollar", "four decimals": "%.4f",
                "four significant digits": "%.4g"}


def grid(frame: pd.DataFrame, kinds: Mapping[str, str], key: str, labels: Mapping[str, str] = {}) -> None:
    """``frame``'s columns named in ``kinds`` as Streamlit's interactive grid, for a table too long for
    :func:`show` (sorting by any column, scrolling); the same ``kinds`` and ``labels`` as :func:`show`."""
    config = {column: (st.column_config.TextColumn(labels.get(column, column)) if kind in ("text", "yes/no")
                       else st.column_config.NumberColumn(labels.get(column, column), format=GRID_FORMATS[kind]))
              for column, kind in kinds.items()}
    st.dataframe(frame[list(kinds)], hide_index=True, key=key, width="stretch", column_config=config)


def column_config(columns: Sequence[Column], helps: Mapping[str, str] = {}) -> dict:
    """Streamlit's ``column_config`` for a table headed by ``columns``' labels: each column of a numeric kind
    (``Column.kind``, a key of :data:`GRID_FORMATS`) as a number in its kind's format, with the page's words
    from ``helps`` (by label) as its tooltip. Columns without a numeric kind are shown as they are."""
    return {column.label: st.column_config.NumberColumn(format=GRID_FORMATS[column.kind],
                                                        help=helps.get(column.label))
            for column in columns if column.kind in GRID_FORMATS}


def sort_choice(options: Mapping[str, str], key: str, label: str = "Sort the table by") -> str:
    """A selectbox of ways to sort a table (option key -> words); returns the chosen key."""
    return st.selectbox(label, list(options), format_func=options.get, key=key)
