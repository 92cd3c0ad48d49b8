"""The Affordable Connectivity Program (ACP): enrollment by ZIP code, read and carried to Chicago's areas.

Source: the Institute for Local Self-Reliance's ACP Dashboard file
``ACP_DASHBOARD_EnrollByZip.csv`` (github.com/ILSR-GIS-DATA/Affordable-Connectivity-Program-Analysis),
one row per U.S. ZIP code, kept in the snapshot as one file per release named
by the date it was published (``ACP_DASHBOARD_EnrollByZip_YYYY-MM-DD.csv``).
Enrollment counts are USAC's; the households (``totalHH``) are ACS households
of the ZIP's ZCTA; eligible households (``eligible_adj``) are ILSR's estimate
(income under 200% of the poverty line from ACS B19001, adjusted per state
with PUMS for the program's other ways to qualify). None of it is a survey
estimate with a margin of error.

Quirks of the file, handled in ``read_release``:

- ZIP codes are text: ``00601`` keeps its leading zeros.
- PO-box ZIP codes have no ZCTA of their own (``zcta`` differs from
  ``zipcode``): they repeat their ZCTA's households and eligible households
  and report no enrollment. Their denominators are blanked, so that adding
  ZIPs never counts a ZCTA's households twice.
- Suppressed counts: USAC withholds some ZIPs' enrollment, and the file
  shows them as zero enrolled households. A ZIP (with its own ZCTA) showing
  zero although claims were paid there (``total_support`` > 0) is marked
  ``suppressed`` and its enrollment made missing, never taken as a real zero.
  The claims are cumulative since 2022, so some of these may be ZIPs whose
  last enrolled household left; the file cannot tell them apart. None of the
  ZIPs reaching into Chicago is suppressed in the seven releases.

``by_geography`` carries every release to the city, community areas and
wards through the household-weighted ZIP crosswalks of ``equity.zip_crosswalk``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import Column
from .errors import SnapshotError

ACP_DIR = Path("programs") / "acp"
FILE_PATTERN = "ACP_DASHBOARD_EnrollByZip_*.csv"
_FILE_NAME = re.compile(r"^ACP_DASHBOARD_EnrollByZip_(\d{4}-\d{2}-\d{2})\.csv$")
_ZIP = re.compile(r"^\d{5}$")

# Source column -> tidy column. The first six must be present in every release.
REQUIRED_COLUMNS = {"zipcode": "zip", "zcta": "zcta", "state": "state", "totalHH": "households",
                    "enrollments": "enrolled_households", "eligible_adj": "eligible_households"}
OPTIONAL_COLUMNS = {"eligible_adj_perc": "eligible_percent_source",
                    "HHEoE_adj": "uptake_percent_source", "total_support": "claimed_support"}
_NUMERIC = ["totalHH", "enrollments", "eligible_adj", "eligible_adj_perc", "HHEoE_adj", "total_support"]
_MISSING = {"", "NA"}  # how R's write.csv writes a missing value

RELEASE_COLUMNS = ["zip", "zcta", "state", "release", "enrolled_households", "eligible_households",
                   "households", "eligible_percent_source", "uptake_percent_source", "claimed_support",
                   "po_box", "suppressed"]
"""The tidy ZIP table, one row per ZIP code and release:

- ``zip``, ``zcta``: five-digit text (``zcta`` missing for the few ZIPs
  without one); ``state``: postal abbreviation.
- ``release``: the date the file was published (its name), not the date the
  counts are "as of" (the source's commit messages give those, e.g. the
  2024-03-13 file holds counts as of 8 February 2024).
- ``enrolled_households``: USAC's count of enrolled households; missing where suppressed.
- ``eligible_households``: ILSR's estimate; missing for PO-box ZIPs.
- ``households``: ACS households of the ZIP's ZCTA; missing for PO-box ZIPs.
- ``eligible_percent_source``, ``uptake_percent_source``: the file's own
  ``eligible_adj_perc`` and ``HHEoE_adj`` (both capped by the source at 101).
- ``claimed_support``: dollars claimed for the ZIP's households (``total_support``).
- ``po_box``: the ZIP has no ZCTA of its own; ``suppressed``: see the module docstring.
"""

AREA_COLUMN_DEFINITIONS = [
    # key, label, meaning, formula
    ("geography", "Geography", "city, community_area or ward", ""),
    ("area_id", "Area", "Community area number, ward number, or 'chicago' for the city", ""),
    ("release", "ACP release", "Date the ACP Dashboard file was published (counts as of a few days "
     "earlier: the 2024-03-13 release holds counts as of 8 February 2024)", ""),
    ("enrolled_households", "ACP enrolled households",
     "Households enrolled in the Affordable Connectivity Program (USAC), carried from ZIP codes by "
     "households; missing if a contributing ZIP's count was suppressed",
     "sum over ZIPs of enrollments × ZIP household weight"),
    ("eligible_households", "ACP eligible households (ILSR estimate)",
     "Households estimated eligible by the Institute for Local Self-Reliance (income under 200% of "
     "the poverty line, adjusted per state), carried from ZIP codes by households",
     "sum over ZIPs of eligible_adj × ZIP household weight"),
    ("households", "Households (ACP file)", "ACS households of the ZIP codes' ZCTAs as given in the "
     "release, carried by households", "sum over ZIPs of totalHH × ZIP household weight"),
    ("uptake", "ACP uptake", "Share of eligible households enrolled (no margin of error: the counts "
     "are administrative and the eligibility a model estimate)",
     "enrolled_households ÷ eligible_households"),
    ("zips", "ZIP codes", "ZIP codes contributing households to the area", ""),
    ("suppressed_zips", "Suppressed ZIP codes", "Contributing ZIP codes whose enrollment count was "
     "withheld (the area's enrolled households and uptake are then missing, never silently smaller)", ""),
]
AREA_COLUMNS = [key for key, *_ in AREA_COLUMN_DEFINITIONS]
KINDS = {"enrolled_households": "count", "eligible_households": "count", "households": "count", "uptake": "share",
         "zips": "whole number", "suppressed_zips": "whole number"}
"""How a page writes each area column's figures (``Column.kind``)."""
COLUMNS = {key: Column(key, label, meaning, formula, kind=KINDS.get(key, ""))
           for key, label, meaning, formula in AREA_COLUMN_DEFINITIONS}
"""The area table's columns as ``columns.Column``, by key, for the tables shown and downloaded."""

SOURCE = ("Affordable Connectivity Program enrollment by ZIP code: the Institute for Local Self-Reliance's "
          "ACP Dashboard file (github.com/ILSR-GIS-DATA/Affordable-Connectivity-Program-Analysis, "
          "ACP_DASHBOARD_EnrollByZip.csv), one file per release in the raw snapshot (programs/acp/); enrolled "
          "households are USAC's counts, eligible households ILSR's estimate (income under 200% of the poverty "
          "line from ACS B19001, adjusted per state with PUMS), households the ACS households of each ZIP's ZCTA. "
          "Carried to community areas and wards by households: the City of Chicago's ZIP code boundaries "
          "(geo/chicago_zip_codes.zip) cut by 2020 block groups with ACS 2017-2021 households; ZIP codes on the "
          "city limit count in the proportion of their households living in the city. No margins of error: "
          "the counts are administrative and the eligibility a model estimate.")
"""Where the ACP figures come from, in words, for the provenance note and the pages."""


def release_files(snapshot: Path) -> list[Path]:
    """Every release file in the snapshot, oldest first."""
    folder = snapshot / ACP_DIR
    files = sorted(folder.glob(FILE_PATTERN))
    if not files:
        raise SnapshotError(f"No ACP enrollment files ({FILE_PATTERN}) found in {folder}.")
    return files


def release_date(path: Path) -> pd.Timestamp:
    """The publication date in a release's file name (``..._2024-03-13.csv``)."""
    match = _FILE_NAME.match(path.name)
    if not match:
        raise SnapshotError(f"{path}: the file name must be ACP_DASHBOARD_EnrollByZip_YYYY-MM-DD.csv, "
                            "the date being the release date.")
    try:
        return pd.Timestamp(pd.to_datetime(match.group(1), format="%Y-%m-%d"))
    except ValueError as exc:
        raise SnapshotError(f"{path}: {match.group(1)!r} in the file name is not a valid date "
                            "(YYYY-MM-DD).") from exc


def read_release(path: Path) -> pd.DataFrame:
    """One release as the tidy ZIP table (``RELEASE_COLUMNS``), checked.

    Raises ``SnapshotError`` naming the file and the column when a required
    column is missing, a ZIP code is not five digits (leading zeros lost in
    a spreadsheet), a ZIP code repeats, or a count is not a number.
    """
    released = release_date(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SnapshotError(f"{path} could not be read as a CSV file: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise SnapshotError(f"{path}: missing column(s) {', '.join(missing)}; expected the ACP Dashboard "
                            f"columns {', '.join(REQUIRED_COLUMNS)}; found "
                            f"{', '.join(c for c in frame.columns if c)}.")
    if frame.empty:
        raise SnapshotError(f"{path} has a header but no ZIP code rows.")
    for column in ("zipcode", "zcta"):
        values = frame[column].str.strip()
        # A few Pacific ZIPs (Palau, Micronesia, Marshall Islands) have no ZCTA.
        bad = ~values.str.match(_ZIP) & ~(values.isin(_MISSING) & (column == "zcta"))
        if bad.any():
            row = bad.idxmax()
            raise SnapshotError(f"{path}: column {column} has {int(bad.sum())} value(s) that are not "
                                f"five-digit ZIP codes, e.g. {frame.at[row, column]!r} (line {row + 2}); "
                                "ZIP codes must be read as text with their leading zeros.")
        frame[column] = values.where(~values.isin(_MISSING))
    dupes = frame.loc[frame["zipcode"].duplicated(), "zipcode"]
    if len(dupes):
        raise SnapshotError(f"{path}: ZIP code {dupes.iloc[0]} appears more than once in column zipcode.")

    out = pd.DataFrame({"zip": frame["zipcode"], "zcta": frame["zcta"],
                        "state": frame["state"].str.strip(), "release": released})
    for column in _NUMERIC:
        name = REQUIRED_COLUMNS.get(column) or OPTIONAL_COLUMNS[column]
        out[name] = _numeric(frame, column, path) if column in frame.columns else np.nan
    if (out["enrolled_households"] < 0).any():
        row = (out["enrolled_households"] < 0).idxmax()
        raise SnapshotError(f"{path}: column enrollments is negative for ZIP code {out.at[row, 'zip']}.")

    out["po_box"] = out["zcta"].notna() & (out["zip"] != out["zcta"])
    out.loc[out["po_box"], ["households", "eligible_households"]] = np.nan
    withheld = (out["enrolled_households"] == 0) & (out["claimed_support"] > 0)
    out["suppressed"] = ~out["po_box"] & (out["enrolled_households"].isna() | withheld)
    out.loc[out["suppressed"], "enrolled_households"] = np.nan
    return out[RELEASE_COLUMNS]


def _numeric(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = frame[column].str.strip()
    values = pd.to_numeric(text.where(~text.isin(_MISSING)), errors="coerce")
    bad = values.isna() & ~text.isin(_MISSING)
    if bad.any():
        row = bad.idxmax()
        raise SnapshotError(f"{path}: column {column} has a non-numeric value {frame.at[row, column]!r} "
                            f"for ZIP code {frame.at[row, 'zipcode']} (line {row + 2}); expected a number "
                            "or NA.")
    return values.astype(float)


def read_releases(snapshot: Path) -> pd.DataFrame:
    """Every release in the snapshot as one tidy ZIP table (``RELEASE_COLUMNS``), oldest first."""
    frames = [read_release(path) for path in release_files(snapshot)]
    dates = [f["release"].iloc[0] for f in frames]
    if len(set(dates)) != len(dates):
        raise SnapshotError(f"Two ACP files in {snapshot / ACP_DIR} carry the same release date.")
    return pd.concat(frames, ignore_index=True)


def zip_households(releases: pd.DataFrame, release: pd.Timestamp | None = None) -> pd.DataFrame:
    """``zip, zcta, households`` of one release (default: the earliest), for ``zip_crosswalk``.

    The earliest releases give ACS 2017–2021 ZCTA households, the period of
    the block-group households the crosswalk measures against them; the
    files published from 2024-01-26 on carry different ``totalHH`` figures
    (a later ACS period, as far as the file shows).
    """
    chosen = releases["release"].min() if release is None else pd.Timestamp(release)
    rows = releases[releases["release"] == chosen]
    if rows.empty:
        raise SnapshotError(f"No ACP release dated {chosen.date()}; releases: "
                            f"{', '.join(str(d.date()) for d in sorted(releases['release'].unique()))}.")
    return rows[["zip", "zcta", "households"]].reset_index(drop=True)


def carry(releases: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Carry the tidy ZIP table through one ZIP crosswalk (``zip, target, weight``), every release.

    Counts are multiplied by the ZIP's weight in the target and summed; a
    suppressed ZIP makes its targets' enrolled households missing (a ZIP
    without published households or eligible households, theirs). PO-box
    ZIPs add their enrollment only: their denominators are their ZCTA's.
    Returns ``area_id, release, enrolled_households, eligible_households,
    households, uptake, zips, suppressed_zips``.
    """
    joined = releases.merge(crosswalk[["zip", "target", "weight"]], on="zip", how="inner")
    counts = ["enrolled_households", "eligible_households", "households"]
    # A PO-box ZIP's households are its ZCTA's: they add nothing here, and are not unknown.
    joined.loc[joined["po_box"], ["eligible_households", "households"]] = 0.0
    joined[counts] = joined[counts].mul(joined["weight"], axis=0)
    joined["zips"] = 1
    joined["suppressed_zips"] = joined["suppressed"].astype(int)
    grouped = joined.groupby(["target", "release"])
    out = grouped[counts].sum(skipna=False).join(grouped[["zips", "suppressed_zips"]].sum()).reset_index()
    out["uptake"] = out["enrolled_households"] / out["eligible_households"].where(out["eligible_households"] > 0)
    return out.rename(columns={"target": "area_id"})[AREA_COLUMNS[1:]]


def by_geography(releases: pd.DataFrame, crosswalks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """ACP enrollment for every release at each geography of ``crosswalks`` (``AREA_COLUMN_DEFINITIONS``).

    ``crosswalks`` maps a geography name (``city``, ``community_area``,
    ``ward``) to its ZIP crosswalk, as ``zip_crosswalk.zip_crosswalks`` returns.
    """
    frames = [carry(releases, crosswalk).assign(geography=geo) for geo, crosswalk in crosswalks.items()]
    return pd.concat(frames, ignore_index=True)[AREA_COLUMNS]
