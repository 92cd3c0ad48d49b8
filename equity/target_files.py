"""Plan targets and program milestones as files: the project's own under ``data/``, or a person's upload.

Two small CSVs, described in ``data/README.md``:

- **targets** (``TARGET_COLUMNS``): one row per target: a metric of
  ``equity.metrics.METRICS``, an area (the city, a community area or a
  ward), whether the target is a ``count`` of households or a ``share``
  (0–1), the baseline ACS year, the target value and year, and the target's
  source in words. The baseline *value* is never typed: it is the pipeline's
  estimate for the baseline ACS period (``equity.targets.progress``).
- **milestones** (``MILESTONE_COLUMNS``): dated counts of things the ACS
  cannot measure (Wi-Fi sites, enrolments, devices, trainings) against a
  target, each with its source.

``validate_targets`` / ``validate_milestones`` check a file row by row and
return ``(frame, problems)``: a file with any problem gives an empty frame,
so a bad upload changes nothing. ``load_targets`` / ``load_milestones`` read
the project's files and raise ``ValidationError`` naming each problem;
``to_csv`` writes a validated frame back in the same form.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, exports, geography, metrics
from .errors import ValidationError

TARGETS_FILE = config.PROJECT_DATA / "targets.csv"
MILESTONES_FILE = config.PROJECT_DATA / "milestones.csv"

TARGET_COLUMNS = ["metric", "geography", "area_id", "measure", "baseline_year", "target_value",
                  "target_year", "source"]
MILESTONE_COLUMNS = ["name", "date", "value", "target", "target_date", "source", "unit"]

TARGET_COLUMN_MEANINGS = {
    "metric": "What is measured: one of " + ", ".join(metrics.METRICS) + ".",
    "geography": "city, community_area or ward.",
    "area_id": "Empty (or 'chicago') for the city; the community area number (1–77) or ward number (1–50).",
    "measure": "count (households) or share (a fraction 0–1: write 90% as 0.9).",
    "baseline_year": "Last year of the baseline ACS 5-year period (2021 = 2017–2021). Its value is computed, "
                     "never typed.",
    "target_value": "The number of households (count) or share (0–1) to reach.",
    "target_year": "The year to reach it by (after the baseline year, at most 2035).",
    "source": "Where the target comes from, in words, with any assumption.",
}
MILESTONE_COLUMN_MEANINGS = {
    "name": "What the milestone counts; rows with the same name are successive reports.",
    "date": "The date the count refers to (YYYY-MM-DD).",
    "value": "The count on that date (0 or more).",
    "target": "The count to reach (above 0).",
    "target_date": "The date to reach it by (YYYY-MM-DD).",
    "source": "Where the value comes from; start with 'Illustrative' for example values.",
    "unit": "What is counted, e.g. parks, households, devices.",
}

TARGET_GEOGRAPHIES = ("city", "community_area", "ward")
MEASURES = ("count", "share")

FIRST_YEAR = 2017
"""First year a target may name: the 2013–2017 ACS 5-year is the first with the computer and internet tables."""
LAST_YEAR = 2035
"""Last year a target may name: beyond any plan in force."""

MAX_FILE_BYTES = 1_000_000
"""Largest file accepted (1 MB): a targets or milestones file is a few kilobytes."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (spreadsheet row, header = row 1; column) and what."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


# ---- reading a CSV a person gives us -----------------------------------------------------------

def _read_rows(raw: bytes, required: list[str], what: str) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """The data rows of a CSV as ``(spreadsheet row, {column: text})``, or the file-level problems.

    File-level checks, in order: size, emptiness, binary content, UTF-8
    text, CSV syntax, required columns, at least one data row. Header names
    are matched without regard to case or surrounding spaces; extra columns
    are ignored.
    """
    if len(raw) > MAX_FILE_BYTES:
        return [], [Problem(None, None, f"The {what} file is {len(raw) / 1_000_000:.1f} MB; the limit is "
                                        f"{MAX_FILE_BYTES / 1_000_000:.0f} MB. A {what} file is a few kilobytes: "
                                        "check that this is the right file.")]
    if not raw.strip():
        return [], [Problem(None, None, f"The {what} file is empty. Expected a CSV with the columns "
                                        f"{', '.join(required)}.")]
    if b"\x00" in raw[:8192]:
        return [], [Problem(None, None, f"The {what} file is not a text CSV (it contains binary data; an Excel "
                                        "workbook perhaps). Save it as 'CSV UTF-8' and upload that.")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(None, None, f"The {what} file is not UTF-8 text (undecodable byte at position "
                                        f"{exc.start}). Save it as 'CSV UTF-8' and upload that.")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        return [], [Problem(reader.line_num, None, f"The {what} file is not valid CSV: {exc}.")]
    records = [(line, row) for line, row in records if any(cell.strip() for cell in row)]
    if not records:
        return [], [Problem(None, None, f"The {what} file is empty. Expected a CSV with the columns "
                                        f"{', '.join(required)}.")]
    header_line, header = records[0]
    names = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        return [], [Problem(header_line, None,
                            f"the header is missing the column(s) {', '.join(missing)}. A {what} file needs the "
                            f"columns {', '.join(required)} (found: {', '.join(n for n in names if n) or 'none'}).")]
    position = {name: names.index(name) for name in required}
    rows, problems = [], []
    for line, cells in records[1:]:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            problems.append(Problem(line, None, f"has {len(cells)} cells but the header has {len(header)} "
                                                "columns (a comma inside a value needs quotes)."))
            continue
        rows.append((line, {name: (cells[i].strip() if i < len(cells) else "") for name, i in position.items()}))
    if not rows and not problems:
        problems.append(Problem(None, None, f"The {what} file has a header but no data rows."))
    return rows, problems


def _year(text: str, row: int, column: str, problems: list[Problem]) -> int | None:
    if not re.fullmatch(r"\d+(\.0*)?", text):
        problems.append(Problem(row, column, f"'{text}' is not a year; write a whole year such as 2021."
                                if text else "is empty; write a whole year such as 2021."))
        return None
    year = int(float(text))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(Problem(row, column, f"{year} is outside {FIRST_YEAR}–{LAST_YEAR} (ACS broadband tables "
                                             f"start with the period ending {FIRST_YEAR})."))
        return None
    return year


def _number(text: str, row: int, column: str, problems: list[Problem]) -> float | None:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = None
    if value is None or not np.isfinite(value):
        problems.append(Problem(row, column, f"'{text}' is not a number." if text else "is empty; write a number."))
        return None
    return value


def _date(text: str, row: int, column: str, problems: list[Problem]) -> date | None:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(row, column, f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2024-06-06."
                                if text else "is empty; write a date as YYYY-MM-DD."))
        return None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        problems.append(Problem(row, column, f"{text} is outside {FIRST_YEAR}–{LAST_YEAR}."))
        return None
    return value


def _text(text: str, row: int, column: str, problems: list[Problem], hint: str) -> str | None:
    if not text:
        problems.append(Problem(row, column, f"is empty; {hint}."))
        return None
    return text


# ---- targets ---------------------------------------------------------------------------------------

def known_areas(metric_table: pd.DataFrame) -> dict[str, set[str]]:
    """Area ids a target may name, per geography, from the loaded metric table."""
    rows = metric_table[metric_table["geography"].isin(TARGET_GEOGRAPHIES)]
    areas = {g: set() for g in TARGET_GEOGRAPHIES}
    for name, ids in rows.groupby("geography")["area_id"]:
        areas[str(name)] = set(ids.astype(str))
    return areas


def _area(geography_name: str, text: str, areas: Mapping[str, Collection[str]], row: int,
          problems: list[Problem]) -> str | None:
    if geography_name == "city":
        if text.lower() in ("", geography.CITY_ID):
            return geography.CITY_ID
        problems.append(Problem(row, "area_id", f"'{text}' is not the city; leave area_id empty or write "
                                                f"'{geography.CITY_ID}' for a citywide target."))
        return None
    label = geography.GEOGRAPHY_LABELS[geography_name].lower()
    area_id = str(int(text)) if text.isdigit() else text
    known = areas.get(geography_name, ())
    if area_id not in known:
        numbers = sorted(int(a) for a in known if a.isdigit())
        span = f" (1–{numbers[-1]})" if numbers else ""
        problems.append(Problem(row, "area_id", f"'{text}' is not a {label} number{span}." if text else
                                f"is empty; write the {label} number{span}."))
        return None
    return area_id


def validate_targets(raw: bytes, areas: Mapping[str, Collection[str]]) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a targets CSV row by row; ``(targets, [])`` if it is good, ``(empty frame, problems)`` if not.

    ``areas`` maps each geography to the area ids it has (``known_areas``).
    Every problem names the row (spreadsheet numbering, header = row 1) and
    column. A row repeating another's metric, area, measure and target year
    is a duplicate.
    """
    rows, problems = _read_rows(raw, TARGET_COLUMNS, "targets")
    good, seen = [], {}
    for line, cells in rows:
        before = len(problems)
        metric = cells["metric"]
        if metric not in metrics.METRICS:
            problems.append(Problem(line, "metric", f"'{metric}' is not a known metric; use one of "
                                                    f"{', '.join(metrics.METRICS)}." if metric else
                                    f"is empty; use one of {', '.join(metrics.METRICS)}."))
        geography_name = re.sub(r"[\s-]+", "_", cells["geography"].lower())
        area_id = None
        if geography_name not in TARGET_GEOGRAPHIES:
            problems.append(Problem(line, "geography", f"'{cells['geography']}' is not a geography targets can "
                                                       f"use; write one of {', '.join(TARGET_GEOGRAPHIES)}."))
        else:
            area_id = _area(geography_name, cells["area_id"], areas, line, problems)
        measure = cells["measure"].lower()
        if measure not in MEASURES:
            problems.append(Problem(line, "measure", f"'{cells['measure']}' is not a measure; write 'count' "
                                                     "(households) or 'share' (0–1)."))
        elif measure == "share" and metric in metrics.METRICS and not metrics.METRICS[metric].denominator:
            problems.append(Problem(line, "measure", f"metric '{metric}' is a count with no share; "
                                                     "write 'count'."))
        baseline_year = _year(cells["baseline_year"], line, "baseline_year", problems)
        target_year = _year(cells["target_year"], line, "target_year", problems)
        if baseline_year and target_year and target_year <= baseline_year:
            problems.append(Problem(line, "target_year", f"{target_year} is not after the baseline year "
                                                         f"{baseline_year}."))
        value = _number(cells["target_value"], line, "target_value", problems)
        if value is not None and measure == "share" and not 0 <= value <= 1:
            problems.append(Problem(line, "target_value", f"{cells['target_value']} is outside 0–1; a share "
                                                          "target is a fraction (write 90% as 0.9)."))
        elif value is not None and measure == "count" and value < 0:
            problems.append(Problem(line, "target_value", f"{cells['target_value']} is negative; a count of "
                                                          "households cannot be."))
        source = _text(cells["source"], line, "source", problems, "say in words where the target comes from")
        if len(problems) > before:
            continue
        key = (metric, geography_name, area_id, measure, target_year)
        if key in seen:
            problems.append(Problem(line, None, f"repeats row {seen[key]} (same metric, area, measure and "
                                                "target year); keep one of them."))
            continue
        seen[key] = line
        good.append({"metric": metric, "geography": geography_name, "area_id": area_id, "measure": measure,
                     "baseline_year": baseline_year, "target_value": value, "target_year": target_year,
                     "source": source})
    if problems:
        return _empty(TARGET_COLUMNS), problems
    return pd.DataFrame(good, columns=TARGET_COLUMNS), []


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _raise_if(problems: list[Problem], path: Path) -> None:
    if problems:
        listed = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValidationError(f"{path} has {len(problems)} problem(s): {listed}{more}")


def load_targets(areas: Mapping[str, Collection[str]], path: Path = TARGETS_FILE) -> pd.DataFrame:
    """The project's targets file, validated; ``ValidationError`` naming each problem if it is bad."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"The targets file {path} could not be read: {exc.strerror}.") from exc
    frame, problems = validate_targets(raw, areas)
    _raise_if(problems, path)
    return frame


def to_csv(frame: pd.DataFrame) -> bytes:
    """A validated targets or milestones frame as CSV bytes that ``validate_*`` reads back unchanged."""
    out = frame.copy()
    for column in ("date", "target_date"):
        if column in out:
            out[column] = out[column].map(lambda d: d.isoformat())
    return exports.to_csv_bytes(out)


# ---- milestones --------------------------------------------------------------------------------------

def validate_milestones(raw: bytes) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a milestones CSV row by row; ``(milestones, [])`` if it is good, ``(empty, problems)`` if not.

    Values and targets are non-negative numbers (targets above zero); dates
    are ``YYYY-MM-DD``; every row states its source and unit. Two rows with
    the same name and date are duplicates.
    """
    rows, problems = _read_rows(raw, MILESTONE_COLUMNS, "milestones")
    good, seen = [], {}
    for line, cells in rows:
        before = len(problems)
        name = _text(cells["name"], line, "name", problems, "name the milestone")
        when = _date(cells["date"], line, "date", problems)
        value = _number(cells["value"], line, "value", problems)
        if value is not None and value < 0:
            problems.append(Problem(line, "value", f"{cells['value']} is negative; a count cannot be."))
        target = _number(cells["target"], line, "target", problems)
        if target is not None and target <= 0:
            problems.append(Problem(line, "target", f"{cells['target']} is not above zero; a target is a "
                                                    "positive count."))
        target_date = _date(cells["target_date"], line, "target_date", problems)
        source = _text(cells["source"], line, "source", problems,
                       "say where the value comes from (or 'Illustrative — replace with program data')")
        unit = _text(cells["unit"], line, "unit", problems, "say what is counted, e.g. 'parks' or 'households'")
        if len(problems) > before:
            continue
        key = (name.lower(), when)
        if key in seen:
            problems.append(Problem(line, None, f"repeats row {seen[key]} (same milestone name and date); "
                                                "keep one of them."))
            continue
        seen[key] = line
        good.append({"name": name, "date": when, "value": value, "target": target, "target_date": target_date,
                     "source": source, "unit": unit})
    if problems:
        return _empty(MILESTONE_COLUMNS), problems
    return pd.DataFrame(good, columns=MILESTONE_COLUMNS), []


def load_milestones(path: Path = MILESTONES_FILE) -> pd.DataFrame:
    """The project's milestones file, validated; ``ValidationError`` naming each problem if it is bad."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"The milestones file {path} could not be read: {exc.strerror}.") from exc
    frame, problems = validate_milestones(raw)
    _raise_if(problems, path)
    return frame
