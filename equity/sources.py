"""Read raw inputs into one tidy tract table.

Sources:
- the Social Explorer export of ACS 2017–2021 5-year tract tables in the raw
  snapshot (``acs/R13395758_SL140.csv``), read in place;
- the Census API (``equity.census_api``), which returns the same shape.

The tidy tract table has the columns in ``TRACT_COLUMNS``: one row per tract,
ACS year (last year of the 5-year period) and Census variable.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SnapshotError

TRACT_COLUMNS = ["tract", "year", "variable", "estimate", "moe", "note"]

SOCIAL_EXPLORER_FILE = Path("acs") / "R13395758_SL140.csv"
SOCIAL_EXPLORER_YEAR = 2021
SOCIAL_EXPLORER_ENCODING = "latin-1"

# Social Explorer publishes standard errors it derived as MOE / 1.65, so
# SE x 1.65 recovers the Census Bureau's published whole-number 90% MOE
# (snapshot README). Using it keeps snapshot and API MOEs identical; the
# statistical z of 1.645 lives in equity.estimates.Z_90.
SOCIAL_EXPLORER_SE_TO_MOE = 1.65

BROADBAND_TABLES = {"B28002": 13, "B28003": 6, "B28011": 8}
BROADBAND_VARIABLES = [
    f"{table}_{line:03d}" for table, lines in BROADBAND_TABLES.items() for line in range(1, lines + 1)
]

# Context columns (Social Explorer's own tables, published without standard
# errors in this export): shown beside connectivity, never summed with MOEs.
INCOME_BRACKETS = [  # Social Explorer table A14001 (household income), lower bounds in dollars
    ("SE_A14001_002", 0), ("SE_A14001_003", 10_000), ("SE_A14001_004", 15_000),
    ("SE_A14001_005", 20_000), ("SE_A14001_006", 25_000), ("SE_A14001_007", 30_000),
    ("SE_A14001_008", 35_000), ("SE_A14001_009", 40_000), ("SE_A14001_010", 45_000),
    ("SE_A14001_011", 50_000), ("SE_A14001_012", 60_000), ("SE_A14001_013", 75_000),
    ("SE_A14001_014", 100_000), ("SE_A14001_015", 125_000), ("SE_A14001_016", 150_000),
    ("SE_A14001_017", 200_000),
]

# Context columns (Social Explorer's own tables, published without standard
# errors in this export): shown beside connectivity, never given MOEs.
CONTEXT_COLUMNS = {
    "population": ["SE_A00001_001"],
    "population_under_18": ["SE_A02002_003", "SE_A02002_004", "SE_A02002_005", "SE_A02002_006",
                            "SE_A02002_016", "SE_A02002_017", "SE_A02002_018", "SE_A02002_019"],
    "population_65_plus": ["SE_A02002_012", "SE_A02002_013", "SE_A02002_014",
                           "SE_A02002_025", "SE_A02002_026", "SE_A02002_027"],
    "poverty_universe_18_64": ["SE_A13003B_001"],
    "poverty_18_64": ["SE_A13003B_002"],
    **{f"income_bracket_{low}": [column] for column, low in INCOME_BRACKETS},
}

_TRACT_ID = re.compile(r"^\d{11}$")


def _se_column(variable: str) -> str:
    return f"ACS21_5yr_{variable.replace('_', '')}s"


def _estimate_column(variable: str) -> str:
    return f"ACS21_5yr_{variable.replace('_', '')}"


def read_social_explorer_header(path: Path) -> list[str]:
    """The variable-code header (second row) of a Social Explorer export."""
    if not path.exists():
        raise SnapshotError(f"ACS tract file not found: {path}. Expected the Social Explorer export "
                            f"'{SOCIAL_EXPLORER_FILE}' inside the snapshot directory.")
    try:
        with path.open(encoding=SOCIAL_EXPLORER_ENCODING, newline="") as handle:
            reader = csv.reader(handle)
            labels = next(reader, None)
            codes = next(reader, None)
    except (OSError, csv.Error) as exc:
        raise SnapshotError(f"Could not read {path}: {exc}") from exc
    if not labels or not codes:
        raise SnapshotError(f"{path} is empty or truncated: expected two header rows "
                            "(labels, then variable codes such as Geo_FIPS).")
    if "Geo_FIPS" not in codes:
        raise SnapshotError(f"{path}: the second header row has no 'Geo_FIPS' column; expected "
                            "Social Explorer's variable codes in row 2.")
    return codes


def read_social_explorer(path: Path) -> pd.DataFrame:
    """Read the Social Explorer tract export as a wide frame of strings-checked numbers.

    Checks the file is latin-1 text with two header rows, that every broadband
    estimate and standard-error column is present, that tract ids are
    11-digit GEOIDs without duplicates and that cells are numeric.
    """
    codes = read_social_explorer_header(path)
    needed = ["Geo_FIPS"] + [c for v in BROADBAND_VARIABLES for c in (_estimate_column(v), _se_column(v))]
    missing = [c for c in needed if c not in codes]
    if missing:
        raise SnapshotError(f"{path}: missing column(s) {', '.join(missing[:6])}"
                            f"{' …' if len(missing) > 6 else ''}; expected ACS tables "
                            f"{', '.join(BROADBAND_TABLES)} with standard errors (columns ending 's').")
    try:
        frame = pd.read_csv(path, encoding=SOCIAL_EXPLORER_ENCODING, skiprows=[0], dtype=str,
                            keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise SnapshotError(f"{path} could not be parsed as a latin-1 CSV: {exc}") from exc
    if frame.empty:
        raise SnapshotError(f"{path} has header rows but no tract rows.")
    bad_ids = frame.loc[~frame["Geo_FIPS"].str.match(_TRACT_ID), "Geo_FIPS"]
    if len(bad_ids):
        raise SnapshotError(f"{path}: column Geo_FIPS has {len(bad_ids)} value(s) that are not 11-digit "
                            f"tract GEOIDs, e.g. {bad_ids.iloc[0]!r} (row {bad_ids.index[0] + 3}).")
    dupes = frame.loc[frame["Geo_FIPS"].duplicated(), "Geo_FIPS"]
    if len(dupes):
        raise SnapshotError(f"{path}: tract {dupes.iloc[0]} appears more than once "
                            f"({len(dupes)} duplicate row(s)); each tract must appear once.")
    return frame


def _numeric(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(frame[column].str.strip().replace("", np.nan), errors="coerce")
    bad = values.isna() & frame[column].str.strip().ne("")
    if bad.any():
        row = bad.idxmax()
        raise SnapshotError(f"{path}: column {column} has a non-numeric value {frame.at[row, column]!r} "
                            f"for tract {frame.at[row, 'Geo_FIPS']} (line {row + 3}); expected a number.")
    return values.astype(float)


def snapshot_tract_table(snapshot: Path) -> pd.DataFrame:
    """ACS 2017–2021 broadband variables for every tract in the snapshot, tidy.

    MOE = standard error x 1.65 (see ``SOCIAL_EXPLORER_SE_TO_MOE``). A blank
    cell becomes a missing value with a note, never zero.
    """
    path = snapshot / SOCIAL_EXPLORER_FILE
    frame = read_social_explorer(path)
    pieces = []
    for variable in BROADBAND_VARIABLES:
        estimate = _numeric(frame, _estimate_column(variable), path)
        moe = _numeric(frame, _se_column(variable), path) * SOCIAL_EXPLORER_SE_TO_MOE
        note = np.where(estimate.isna(), "no estimate published", "")
        pieces.append(pd.DataFrame({"tract": frame["Geo_FIPS"], "year": SOCIAL_EXPLORER_YEAR,
                                    "variable": variable, "estimate": estimate,
                                    "moe": moe.round(0), "note": note}))
    return tidy(pd.concat(pieces, ignore_index=True))


def snapshot_context_table(snapshot: Path) -> pd.DataFrame:
    """Context counts per tract (population, age, poverty, low income), no MOEs."""
    path = snapshot / SOCIAL_EXPLORER_FILE
    frame = read_social_explorer(path)
    out = pd.DataFrame({"tract": frame["Geo_FIPS"]})
    for name, columns in CONTEXT_COLUMNS.items():
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise SnapshotError(f"{path}: context column(s) {', '.join(absent)} missing (needed for {name}).")
        out[name] = sum(_numeric(frame, c, path).fillna(0) for c in columns)
    return out


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    """Put any tract table in the canonical column order, types and sort."""
    table = table[TRACT_COLUMNS].copy()
    table["tract"] = table["tract"].astype(str)
    table["year"] = table["year"].astype(int)
    table["variable"] = table["variable"].astype(str)
    table["estimate"] = table["estimate"].astype(float)
    table["moe"] = table["moe"].astype(float)
    table["note"] = table["note"].fillna("").astype(str)
    return table.sort_values(["year", "tract", "variable"], ignore_index=True)
