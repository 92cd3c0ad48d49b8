"""Chicago Public Library raw files: the branches and their public computer sessions, read in place.

Two raw sources in the snapshot's ``libraries/`` folder:

- the City of Chicago list of the 81 branches (name, hours, address, ZIP,
  phone, website, ``LOCATION`` as "(lat, lon)");
- one file of public computer sessions per branch and month for each year
  2011–2023 (``Libraries_-_YYYY_Computer_Sessions_by_Location.csv``).

The sessions files spell branch names differently from year to year, so each
row is matched to a branch of the locations list in this order:

1. ``exact``: the normalised name (``branch_key``) equals a branch's key;
2. ``alias``: the normalised name is in ``ALIASES`` (older spellings of the
   same building);
3. rows named in ``NOT_BRANCHES`` (closed branches, special spaces) and
   blank or "Total" rows are reported as unmatched with their reason;
4. ``fuzzy``: ``difflib`` closest key with a ratio of at least
   ``FUZZY_CUTOFF``, as a last resort for typos;
5. anything else is reported as unmatched ("no branch of the locations list
   matches").

No row is dropped silently: every row of every file is either in the sessions
table or in the unmatched table, with the file, year, raw name and reason.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SnapshotError

LIBRARIES_DIR = Path("libraries")
LOCATIONS_FILE = (LIBRARIES_DIR
                  / "Libraries_-_Locations___Contact_Information__and_Usual_Hours_of_Operation.csv")
SESSIONS_FILE = "Libraries_-_{year}_Computer_Sessions_by_Location.csv"
SESSION_YEARS = tuple(range(2011, 2024))

MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY",
          "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER")

BRANCH_COLUMNS = ["branch", "branch_key", "address", "zip", "hours", "phone", "website",
                  "latitude", "longitude"]
SESSION_COLUMNS = ["branch_key", "branch", "year", "month", "sessions", "raw_name", "match"]
UNMATCHED_COLUMNS = ["file", "year", "line", "raw_name", "ytd", "reason"]

# Misspellings in the locations file itself, corrected for display.
DISPLAY_NAME_FIXES = {
    "Harold Washtington Library Center": "Harold Washington Library Center",
}

# Older spellings of a branch that normalisation alone cannot reconcile: the
# building is the same (same address in the files that carry one), only the
# published name changed. Keys and values are normalised (see branch_key).
ALIASES = {
    # 2011–2018 files add the neighbourhood; 3400 S. Halsted St. throughout.
    "daley-richard-j-bridgeport": "daley-richard-j",
    # 2011–2018 and 2020–2023 add the neighbourhood; 733 N. Kedzie Ave. throughout.
    "daley-richard-m-west-humboldt": "daley-richard-m",
    # The sessions files use the short name; 163 E. Pearson St. throughout.
    "water-works": "popular-library-at-water-works",
}

# Locations in the sessions files that are not branches of the locations list.
# They are reported, never merged into a branch, so that each branch's series
# describes one building.
NOT_BRANCHES = {
    "roosevelt": ("closed branch: Roosevelt (1101 W. Taylor St.) closed at the end of 2018 and was "
                  "replaced by the new Little Italy branch (1336 W. Taylor St.) in January 2019"),
    "youmedia": ("not a branch: YOUmedia is the teen digital space inside Harold Washington "
                 "Library Center (400 S. State St.), reported separately until 2018"),
}

FUZZY_CUTOFF = 0.9

SNAPSHOT_FILES = [LOCATIONS_FILE, *(LIBRARIES_DIR / SESSIONS_FILE.format(year=year) for year in SESSION_YEARS)]

# Generic words dropped from the end of a name ("Sulzer Regional Library",
# "Legler Regional") so that suffix variants share one key.
_GENERIC_SUFFIXES = {"library", "branch", "regional", "center", "centre"}
# Abbreviations expanded before matching ("W. Humboldt", "Mt. Greenwood").
_ABBREVIATIONS = {"mt": "mount", "w": "west", "e": "east", "n": "north", "s": "south",
                  "ave": "avenue", "ctr": "center", "lib": "library", "br": "branch"}
_LAT_LON = re.compile(r"^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)$")


def branch_key(name: str) -> str:
    """The matching key of a branch name.

    Method: Unicode to ASCII, lower case, "&" to "and", every run of other
    punctuation or spaces to one separator, common abbreviations expanded
    (``_ABBREVIATIONS``), generic trailing words ("Library", "Branch",
    "Regional", "Center") dropped, words joined by "-".
    ``branch_key("Daley, Richard M. -W. Humboldt") == "daley-richard-m-west-humboldt"``;
    ``branch_key("Sulzer Regional Library") == branch_key("Sulzer Regional") == "sulzer"``.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    words = [_ABBREVIATIONS.get(word, word) for word in re.split(r"[^a-z0-9]+", text) if word]
    while len(words) > 1 and words[-1] in _GENERIC_SUFFIXES:
        words.pop()
    return "-".join(words)


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise SnapshotError(f"{what} file not found: {path}. Expected it inside the snapshot "
                            f"directory's '{LIBRARIES_DIR}' folder.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SnapshotError(f"Could not read {what} file {path}: {exc}") from exc
    frame.columns = [str(column).strip().upper() for column in frame.columns]
    return frame


def _require_columns(frame: pd.DataFrame, path: Path, columns) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise SnapshotError(f"{path}: missing column(s) {', '.join(missing)}; "
                            f"found {', '.join(frame.columns)}.")


def read_branches(snapshot_dir: Path) -> pd.DataFrame:
    """The branches of the City's locations list, one row each.

    Method: read ``LOCATIONS_FILE`` as text; strip every field (the header
    ``NAME `` has a trailing space); correct known misspellings for display
    (``DISPLAY_NAME_FIXES``); ``branch_key`` is ``branch_key(branch)``;
    ``latitude``/``longitude`` are parsed from ``LOCATION`` "(lat, lon)".
    Raises ``SnapshotError`` naming the file and column when a column is
    missing, a location does not parse, or two branches share a key.
    """
    path = Path(snapshot_dir) / LOCATIONS_FILE
    raw = _read_csv(path, "Library locations")
    _require_columns(raw, path, ["NAME", "HOURS OF OPERATION", "ADDRESS", "ZIP", "PHONE", "WEBSITE",
                                 "LOCATION"])
    if raw.empty:
        raise SnapshotError(f"{path} has a header but no branch rows.")
    raw = raw.apply(lambda column: column.str.strip())

    blank = raw.index[raw["NAME"] == ""]
    if len(blank):
        raise SnapshotError(f"{path}: column NAME is blank on data row {blank[0] + 1}.")
    coordinates = raw["LOCATION"].str.extract(_LAT_LON)
    bad = coordinates.index[coordinates.isna().any(axis=1)]
    if len(bad):
        raise SnapshotError(f"{path}: column LOCATION has {raw.at[bad[0], 'LOCATION']!r} for "
                            f"{raw.at[bad[0], 'NAME']!r}; expected '(latitude, longitude)'.")
    latitude = coordinates[0].astype(float)
    longitude = coordinates[1].astype(float)
    # Chicago lies near 41.6–42.1 N, 87.5–88.0 W; swapped or unsigned pairs land elsewhere.
    outside = raw.index[~(latitude.between(41.0, 43.0) & longitude.between(-89.0, -87.0))]
    if len(outside):
        raise SnapshotError(f"{path}: column LOCATION for {raw.at[outside[0], 'NAME']!r} is "
                            f"{raw.at[outside[0], 'LOCATION']!r}, not a Chicago (latitude, longitude).")

    names = raw["NAME"].replace(DISPLAY_NAME_FIXES)
    branches = pd.DataFrame({
        "branch": names,
        "branch_key": names.map(branch_key),
        "address": raw["ADDRESS"],
        "zip": raw["ZIP"],
        "hours": raw["HOURS OF OPERATION"],
        "phone": raw["PHONE"],
        "website": raw["WEBSITE"],
        "latitude": latitude,
        "longitude": longitude,
    })
    duplicated = branches["branch_key"][branches["branch_key"].duplicated()]
    if len(duplicated):
        raise SnapshotError(f"{path}: column NAME has two branches with the key "
                            f"{duplicated.iloc[0]!r}; branch names must be distinct.")
    return branches.sort_values("branch").reset_index(drop=True)[BRANCH_COLUMNS]


def _name_column(frame: pd.DataFrame, path: Path) -> str:
    """The column holding branch names: ``BRANCH`` (2020–), else ``LOCATION``.

    From 2020 ``LOCATION`` holds a WKT point, so a column whose values are
    points is never taken for names.
    """
    for column in ("BRANCH", "LOCATION", "NAME"):
        if column in frame.columns:
            values = frame[column].str.strip()
            if not values[values != ""].str.upper().str.startswith("POINT").any():
                return column
    raise SnapshotError(f"{path}: no branch name column; expected BRANCH or LOCATION holding "
                        f"names, found {', '.join(frame.columns)}.")


def _numbers(frame: pd.DataFrame, path: Path, columns) -> pd.DataFrame:
    """Session counts as floats: blank is NaN (not reported); text raises."""
    out = {}
    for column in columns:
        text = frame[column].str.strip().str.replace(",", "", regex=False)
        values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            row = bad.idxmax()
            raise SnapshotError(f"{path}: column {column} has a non-numeric value "
                                f"{frame.at[row, column]!r} on line {row + 2}.")
        if (values < 0).any():
            row = (values < 0).idxmax()
            raise SnapshotError(f"{path}: column {column} has a negative session count "
                                f"{values[row]} on line {row + 2}.")
        out[column] = values.astype(float)
    return pd.DataFrame(out, index=frame.index)


def _match(raw_name: str, keys: list[str]) -> tuple[str | None, str]:
    """(branch_key, method) for a raw name, or (None, reason)."""
    key = branch_key(raw_name)
    if key in keys:
        return key, "exact"
    if ALIASES.get(key) in keys:
        return ALIASES[key], "alias"
    if key in NOT_BRANCHES:
        return None, NOT_BRANCHES[key]
    if key == "" or key.startswith("total") or key.startswith("grand-total"):
        return None, "total row"
    close = difflib.get_close_matches(key, keys, n=1, cutoff=FUZZY_CUTOFF)
    if close:
        return close[0], "fuzzy"
    return None, "no branch of the locations list matches this name"


def _read_sessions_file(path: Path, year: int, branches: pd.DataFrame):
    raw = _read_csv(path, f"{year} computer sessions")
    name_column = _name_column(raw, path)
    _require_columns(raw, path, [*MONTHS, "YTD"])
    counts = _numbers(raw, path, [*MONTHS, "YTD"])
    names = raw[name_column].str.strip()
    keys = branches["branch_key"].tolist()

    matched = [_match(name, keys) for name in names]
    frame = pd.DataFrame({
        "line": raw.index + 2,  # header is line 1
        "raw_name": names,
        "branch_key": [key for key, _ in matched],
        "how": [how for _, how in matched],
        "ytd": counts["YTD"],
    })
    # Blank-name rows: a total when their YTD is the sum of the named rows.
    blank = frame["raw_name"] == ""
    named_total = frame.loc[~blank, "ytd"].sum()
    frame.loc[blank, "how"] = np.where(np.isclose(frame.loc[blank, "ytd"], named_total),
                                       "total row (blank name; YTD equals the sum of all named rows)",
                                       "blank branch name")
    # Two rows claiming one branch: report both rather than pick one.
    claimed = frame["branch_key"].notna()
    twice = claimed & frame["branch_key"].duplicated(keep=False)
    frame.loc[twice, "how"] = ("ambiguous: more than one row of this file matches branch "
                               + frame.loc[twice, "branch_key"].astype(str))
    frame.loc[twice, "branch_key"] = None

    is_matched = frame["branch_key"].notna()
    unmatched = frame.loc[~is_matched].assign(file=path.name, year=year)
    unmatched = unmatched.rename(columns={"how": "reason"})[UNMATCHED_COLUMNS]

    months = counts.loc[is_matched, list(MONTHS)]
    months.columns = range(1, 13)
    long = (months.join(frame.loc[is_matched, ["branch_key", "raw_name", "how"]])
            .melt(id_vars=["branch_key", "raw_name", "how"], var_name="month", value_name="sessions"))
    long = long.rename(columns={"how": "match"}).assign(year=year)
    return long, unmatched


def read_computer_sessions(snapshot_dir: Path, years=SESSION_YEARS, branches: pd.DataFrame | None = None):
    """Public computer sessions per branch and month, and the rows matching no branch.

    Method: for each year, read ``libraries/Libraries_-_YYYY_Computer_Sessions_by_Location.csv``
    as text with stripped, upper-cased headers; the branch name is in
    ``BRANCH`` (2020 on) or ``LOCATION`` (2011–2019; from 2020 ``LOCATION``
    is a WKT point and is ignored); month columns JANUARY..DECEMBER become
    ``month`` 1–12. Each row is matched to the locations list as the module
    docstring describes. A blank month is NaN (not reported: 2023 stops in
    April) and is kept so that ``libraries.annual_sessions`` can count reported months.

    Returns ``(sessions, unmatched)``:
    ``sessions`` has ``SESSION_COLUMNS`` (``raw_name`` is the file's spelling,
    ``match`` is exact/alias/fuzzy), one row per matched branch, year and month;
    ``unmatched`` has ``UNMATCHED_COLUMNS``: file, year, line in the file,
    raw name, YTD sessions and the reason, one row per row that matched no
    branch. Raises ``SnapshotError`` naming the file and column for a missing
    file or column, or a non-numeric or negative count.
    """
    snapshot_dir = Path(snapshot_dir)
    if branches is None:
        branches = read_branches(snapshot_dir)
    parts, unmatched = [], []
    for year in years:
        long, rest = _read_sessions_file(snapshot_dir / LIBRARIES_DIR / SESSIONS_FILE.format(year=year),
                                         int(year), branches)
        parts.append(long)
        unmatched.append(rest)
    names = branches.set_index("branch_key")["branch"]
    sessions = pd.concat(parts, ignore_index=True)
    sessions["branch"] = sessions["branch_key"].map(names)
    sessions["month"] = sessions["month"].astype(int)
    sessions = sessions.sort_values(["year", "branch", "month"]).reset_index(drop=True)[SESSION_COLUMNS]
    unmatched = pd.concat(unmatched, ignore_index=True)[UNMATCHED_COLUMNS]
    return sessions, unmatched
