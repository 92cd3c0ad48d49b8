"""The columns of a table someone can download, each declared once: key, label, meaning, formula.

A downloadable table is made by one function, and its columns are a list of
``Column`` beside that function. The page shows the table under the labels,
and the data dictionary (``exports.data_dictionary``) explains each label
with the meaning and formula declared here: a renamed column keeps its
meaning because there is nothing else to rename. A column's ``kind`` says
how a page writes its figures (a count, a share, ...), so the page formats
it from the same list and a renamed column keeps its format too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    key: str
    """Name of the column in the library's own table."""
    label: str
    """Header in the table shown and downloaded."""
    meaning: str
    formula: str = ""
    measure: str = ""
    """Label of the measure a column is named after; the data dictionary adds that measure's own row."""
    kind: str = ""
    """How a page writes the column's figures, when it formats them: "count" (whole households, with thousands
    separators), "share" (a fraction shown as a percentage), "points" (a share's MOE or change), "one decimal",
    "whole number" (a number or a rank), "dollars", "four decimals" and "four significant digits" (figures in
    the row's own unit, a share or households). Presentation only: a file written from the table is the same
    whatever the kind."""


def table(values: Mapping[str, object], columns: Sequence[Column]) -> pd.DataFrame:
    """A table headed by the columns' labels, in their order, from ``values`` keyed by the columns' keys."""
    return pd.DataFrame({column.label: values[column.key] for column in columns})


def renamed(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """``frame``'s columns (named by key) in the order of ``columns``, headed by their labels."""
    return frame[[column.key for column in columns]].rename(columns={c.key: c.label for c in columns})
