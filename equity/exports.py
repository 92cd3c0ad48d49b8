"""CSV and GeoJSON extracts with a data dictionary and a provenance note.

One code path serves the app's Downloads page, the download buttons under
every table and ``python -m equity export``: ``build_extract`` chooses the
rows (a geography, or several areas combined into one custom area; measures;
ACS periods), ``extract`` gives them readable headers, and ``to_csv_bytes``,
``to_geojson``, ``data_dictionary`` and ``provenance`` write them out.

Layout: long, one row per area x measure x ACS period, the same columns for
every measure. A wide layout (one column per measure and period) would need
six columns per measure and period (estimate, MOE, share, share MOE, CV,
reliability) and different headers for every choice; the long one keeps one
data dictionary, loads straight into a pivot table or ``pandas.pivot_table``,
and lets a reader filter by measure.

Every number travels with its margin of error. Text cells are neutralised
against spreadsheet formula injection (OWASP "CSV Injection": prefix a single
quote to text cells starting with ``= + - @`` tab or CR); numeric columns are
left as numbers, negative ones included.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from . import cache, compare, estimates, geography, libraries, metrics, sources, targets

CUSTOM = compare.CUSTOM_GEOGRAPHY
EXTRACT_GEOGRAPHIES = (*geography.GEOGRAPHIES, CUSTOM)
GEOJSON_GEOGRAPHIES = ("community_area", "ward", "tract")
COMBINABLE_GEOGRAPHIES = ("community_area", "ward", "tract")
FORMATS = ("csv", "geojson", "dictionary")

ID_COLUMNS = {
    "city": [("area_name", "Area")],
    "community_area": [("area_id", "Community area number"), ("area_name", "Community area")],
    "ward": [("area_id", "Ward")],
    "tract": [("area_id", "Census tract GEOID"), ("area_name", "Census tract")],
    CUSTOM: [("area_name", "Area"), ("members", "Made of")],
}

VALUE_COLUMNS = [
    ("period", "ACS period"),
    ("metric_label", "Measure"),
    ("count", "Households (estimate)"),
    ("count_moe", "Households MOE (90%)"),
    ("count_cv", "Households CV (%)"),
    ("count_reliability", "Households reliability"),
    ("share", "Share of households"),
    ("share_moe", "Share MOE (90%)"),
    ("share_cv", "Share CV (%)"),
    ("share_reliability", "Share reliability"),
    ("universe", "Universe: households (estimate)"),
    ("universe_moe", "Universe MOE (90%)"),
    ("note", "Note"),
]

# Decimals written out. Figures are computed unrounded; apportioned counts
# are fractions of households, so whole households is the honest precision.
DECIMALS = {"count": 0, "count_moe": 0, "universe": 0, "universe_moe": 0,
            "share": 4, "share_moe": 4, "count_cv": 1, "share_cv": 1}
WHOLE_NUMBER_COLUMNS = ("count", "count_moe", "universe", "universe_moe")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

MAX_NAMES_IN_CUSTOM_LABEL = 4


# ---- neutralising text cells ------------------------------------------------

def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula; numbers untouched.

    OWASP "CSV Injection": a cell beginning with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return is read as a formula by Excel, LibreOffice and
    Google Sheets; a leading single quote makes it text. Only text cells
    (``str`` values in object, pandas string or categorical columns) are
    changed, so numeric columns keep their type and a negative number stays
    a number.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        elif not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        out[column] = values.map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


# ---- choosing rows -------------------------------------------------------------

def area_names(data, geography_name: str) -> pd.Series:
    """Readable name of every area of a geography, indexed by area id."""
    rows = data.metrics[data.metrics["geography"] == geography_name].drop_duplicates("area_id")
    names = rows.set_index("area_id")["area_name"]
    if geography_name == "tract":
        return pd.Series([compare.tract_name(a) for a in names.index], index=names.index)
    return names


def area_order(area_ids: pd.Series) -> pd.Series:
    """Sort key for area ids: numbers in numeric order (ward 2 before ward 10), GEOIDs as text."""
    numeric = pd.to_numeric(area_ids, errors="coerce")
    return numeric.fillna(np.inf).astype(float) if numeric.notna().all() else area_ids.astype(str)


def custom_area_name(data, geography_name: str, area_ids: list[str]) -> tuple[str, str]:
    """Name and membership of a custom area: ("Rogers Park + West Ridge", "Community areas 1, 2")."""
    labels = area_names(data, geography_name)
    ordered = sorted(area_ids, key=lambda a: (len(a), a) if a.isdigit() else (0, a))
    names = [labels.get(a, a) for a in ordered]
    kind = geography.GEOGRAPHY_LABELS[geography_name].lower()
    if len(names) <= MAX_NAMES_IN_CUSTOM_LABEL:
        name = " + ".join(names)
    else:
        name = (f"{len(names)} {kind}s combined: " + ", ".join(names[:MAX_NAMES_IN_CUSTOM_LABEL])
                + f" and {len(names) - MAX_NAMES_IN_CUSTOM_LABEL} more")
    plural = kind[0].upper() + kind[1:] + ("s" if len(ordered) > 1 else "")
    return name, f"{plural} {', '.join(ordered)}"


def _check_choice(data, geography_name: str, years: list[int], metric_keys: list[str]) -> None:
    if geography_name not in geography.GEOGRAPHIES:
        raise ValueError(f"unknown geography '{geography_name}'; choose one of {', '.join(geography.GEOGRAPHIES)}")
    absent = [y for y in years if y not in data.years]
    if absent:
        raise ValueError(f"ACS year {', '.join(map(str, absent))} is not loaded; loaded years: "
                         f"{', '.join(map(str, data.years))}. Add one with `python -m equity fetch --year {absent[0]}`.")
    unknown = [k for k in metric_keys if k not in metrics.METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(metrics.METRICS)}")


def build_extract(data, geography_name: str, years: list[int] | None = None, metric_keys: list[str] | None = None,
                  combine: list[str] | None = None) -> pd.DataFrame:
    """The readable extract for a choice: geography, ACS years and measures (all when None).

    ``combine`` lists area ids of ``geography_name`` to merge into one custom
    area (``compare.combine_areas``: recomputed from its tracts, MOEs
    included); otherwise every area of the geography
    is included. Rows are ordered by area, period, then measure. Raises
    ValueError naming what is wrong with the choice.
    """
    years = sorted({int(y) for y in years}) if years else [data.latest_year]
    metric_keys = list(metric_keys) if metric_keys else list(metrics.METRICS)
    _check_choice(data, geography_name, years, metric_keys)
    if combine is not None:
        if geography_name not in COMBINABLE_GEOGRAPHIES:
            raise ValueError(f"areas can be combined from community areas, wards or tracts, not '{geography_name}'")
        area_ids = list(dict.fromkeys(str(a).strip() for a in combine if str(a).strip()))
        if not area_ids:
            raise ValueError("choose at least one area to combine")
        known = set(area_names(data, geography_name).index)
        unknown = [a for a in area_ids if a not in known]
        if unknown:
            raise ValueError(f"unknown {geography.GEOGRAPHY_LABELS[geography_name].lower()} id(s) "
                             f"{', '.join(unknown[:5])}")
        name, members = custom_area_name(data, geography_name, area_ids)
        tract_table = data.tract_estimates()
        rows = pd.concat([compare.combine_areas(tract_table, data.crosswalks, geography_name, area_ids, year, name)
                          for year in years], ignore_index=True)
        rows["members"] = members
        rows = rows[rows["metric"].isin(metric_keys)]
        return extract(rows, CUSTOM)
    rows = data.metrics[(data.metrics["geography"] == geography_name) & data.metrics["year"].isin(years)
                        & data.metrics["metric"].isin(metric_keys)]
    return extract(rows, geography_name)


def extract(metric_rows: pd.DataFrame, geography_name: str) -> pd.DataFrame:
    """Readable extract of metric rows: one row per area, ACS period and measure.

    ``metric_rows`` are rows of ``DashboardData.metrics`` (or of
    ``compare.combine_areas`` with ``members`` added, for ``geography_name``
    "custom"). Headers are ``ID_COLUMNS`` then
    ``VALUE_COLUMNS``; numbers are rounded as in ``DECIMALS``; ward and
    community area numbers are whole numbers, tract GEOIDs text.
    """
    rows = metric_rows.copy()
    order = {key: i for i, key in enumerate(metrics.METRICS)}
    rows["_area"] = area_order(rows["area_id"])
    rows["_metric"] = rows["metric"].map(order)
    rows = rows.sort_values(["_area", "year", "_metric"], kind="stable")
    rows["metric_label"] = rows["metric"].map(lambda k: metrics.METRICS[k].label)
    if "period" not in rows:
        rows["period"] = rows["year"].map(metrics.period_label)
    if "note" not in rows:
        rows["note"] = ""
    if geography_name == "tract":
        rows["area_name"] = rows["area_id"].map(compare.tract_name)
    for column, decimals in DECIMALS.items():
        rows[column] = rows[column].astype(float).round(decimals)
    for column in WHOLE_NUMBER_COLUMNS:
        rows[column] = rows[column].astype("Int64")
    columns = ID_COLUMNS[geography_name] + VALUE_COLUMNS
    out = rows[[c for c, _ in columns]].rename(columns=dict(columns))
    for label in ("Ward", "Community area number"):
        if label in out:
            out[label] = out[label].astype(int)
    text = [label for column, label in columns if column not in DECIMALS and label not in ("Ward", "Community area number")]
    out[text] = out[text].astype("str")
    return out.reset_index(drop=True)


# ---- data dictionary -------------------------------------------------------------

def _column_meanings() -> dict[str, tuple[str, str]]:
    """Meaning and formula of every extract column, with the constants the code uses."""
    caution, unreliable = estimates.RELIABILITY_THRESHOLDS
    z = estimates.Z_90
    reliability = (f"'reliable' when the CV is under {caution:g}%, 'use with caution' from {caution:g}% to "
                   f"{unreliable:g}%, 'unreliable' above {unreliable:g}%, 'no estimate' when the CV cannot be "
                   "computed (a zero or missing estimate).")
    apportioned = ("Sum over census tracts of (tract estimate × share of the tract's households living in the "
                   "area); MOE = square root of the sum of the squared, equally scaled tract MOEs, the largest "
                   "MOE among zero estimates counted once (ACS handbook 2020, ch. 8, aggregated count data).")
    return {
        "Area": ("Name of the area: the City of Chicago, a community area, ward or tract, or a custom area made "
                 "of several areas combined.", ""),
        "Made of": ("The community areas, wards or tracts combined into the custom area.",
                    "Each tract's household shares in the chosen areas are added (at most 1) before summing, "
                    "so a tract split between two chosen areas is counted once."),
        "Community area number": ("Chicago community area number (1–77).", ""),
        "Community area": ("Chicago community area name.", ""),
        "Ward": ("Chicago City Council ward number, 2023 ward map (in force from May 2023).", ""),
        "Census tract GEOID": ("11-digit census tract identifier: state (17), county (031 Cook, 043 DuPage), "
                               "tract. Read it as text to keep it exact.", ""),
        "Census tract": ("Census tract name as the Census Bureau writes it.", ""),
        "ACS period": ("American Community Survey 5-year period the estimate describes (pooled survey "
                       "responses over the five years, not one year's value).", ""),
        "Measure": ("What is counted; see the measure rows below for Census variables and formulas.", ""),
        "Households (estimate)": ("Estimated number of households with the characteristic, rounded to whole "
                                  "households (computed before rounding).",
                                  "Sum of the measure's Census variables. " + apportioned),
        "Households MOE (90%)": ("Margin of error at 90% confidence: the estimate ± this value is the 90% "
                                 "confidence interval.", apportioned),
        "Households CV (%)": ("Coefficient of variation: the standard error as a percentage of the estimate. "
                              "Lower is more reliable.", f"CV = (MOE / {z}) / estimate × 100"),
        "Households reliability": (reliability, f"From the CV; thresholds {caution:g}% and {unreliable:g}%."),
        "Share of households": ("Estimate divided by the universe, as a fraction from 0 to 1 (0.1545 = 15.45%). "
                                "Blank for the total households measure.", "share = estimate / universe"),
        "Share MOE (90%)": ("Margin of error of the share, as a fraction (0.0120 = ±1.2 percentage points).",
                            "MOE = √(MOE_estimate² − share² × MOE_universe²) / universe; where the value under "
                            "the root is negative, √(MOE_estimate² + share² × MOE_universe²) / universe "
                            "(ACS handbook 2020, ch. 8, proportions)."),
        "Share CV (%)": ("Coefficient of variation of the share.", f"CV = (share MOE / {z}) / share × 100"),
        "Share reliability": ("Reliability of the share. " + reliability,
                              f"From the share's CV; thresholds {caution:g}% and {unreliable:g}%."),
        "Universe: households (estimate)": ("Estimated households in the area: the share's denominator.",
                                            "Census variable in the measure's 'Formula'. " + apportioned),
        "Universe MOE (90%)": ("Margin of error of the universe.", apportioned),
        "Note": ("Why a figure is missing (tracts whose estimate or MOE the Census Bureau did not publish) or "
                 "must be read with care (a library's partial year); empty when there is nothing to note.", ""),
        **_page_column_meanings(),
    }


def _page_column_meanings() -> dict[str, tuple[str, str]]:
    """Meaning and formula of the columns the app's pages add to the tables they offer for download."""
    caution, unreliable = estimates.RELIABILITY_THRESHOLDS
    z = estimates.Z_90
    test = (f"difference = a − b, MOE = √(MOE_a² + MOE_b²); significant when |Z| > {z}, Z = difference / "
            f"(MOE / {z}) (ACS handbook 2020, ch. 7 and 8)")
    reliability = (f"From the estimate's CV: 'reliable' under {caution:g}%, 'use with caution' from {caution:g}% "
                   f"to {unreliable:g}%, 'unreliable' above {unreliable:g}%, 'no estimate' when it cannot be computed.")
    period = targets.PERIOD_YEARS
    per_branch = ("estimate / branches; the number of branches is a fixed count, so the MOE is divided by the same "
                  "number (ACS handbook ch. 8, an estimate times a constant).")
    sessions = ("Sum of the branch's monthly public computer sessions in the City of Chicago's 'Libraries – "
                "Computer Sessions by Location' file of the year.")
    running = "Sum of this area's and every higher-ranked area's households"
    return {
        # neighbourhood explorer: ranking, comparisons, custom area, context
        "Side": ("The side of the city the area is on, one of the City's nine: " + ", ".join(compare.SIDES) + ".",
                 f"Community areas: the City's standard assignment (project file {compare.SIDES_FILE.name}). "
                 "Wards: the side where most of the ward's households live (ACS 2017–2021 households in each "
                 "ward × community area overlap), ties to the side listed first."),
        "Compared with city (90% test)": (
            f"Whether the area's share of households (its households, for a measure without a share) differs "
            f"from the City of Chicago's: '{compare.HIGHER_THAN_CITY}', '{compare.LOWER_THAN_CITY}', "
            f"'{compare.NOT_DIFFERENT}', or '{compare.NO_ESTIMATE}' where the area's figure is missing.",
            f"a = area, b = city; {test}. The area is part of the city; like the Census Bureau's tools the test "
            "ignores that, which makes it cautious."),
        "Rank (1 = highest)": ("Rank of the area's estimate among all areas of its kind with an estimate "
                               "(1 = highest; tied areas share the best rank).", "Ranked on the estimate alone."),
        "Possible ranks: best": (
            "Best rank the area could hold given the margins of error: ranks from best to worst cannot be told "
            "apart statistically.",
            f"1 + the number of areas significantly higher (pairwise tests, |Z| > {z}, no multiple-comparison "
            "correction; Wright, Klein & Wieczorek, The American Statistician 73(2), 2019)."),
        "Possible ranks: worst": (
            "Worst rank the area could hold given the margins of error.",
            f"Number of ranked areas − the number of areas significantly lower (pairwise tests, |Z| > {z})."),
        "Significance (90% test)": (
            "Whether the area differs from the first area chosen: 'higher than …', 'lower than …', "
            f"'{compare.NOT_DIFFERENT}', or '{compare.NO_ESTIMATE}'.", f"a = area, b = first area; {test}."),
        "Compared on": ("What is compared: the share of households, or households for a measure without a share.", ""),
        "Difference (estimate)": ("The area's figure minus the first area's: shares as fractions (0.05 = 5 "
                                  "percentage points), households as counts.", "a − b"),
        "Difference MOE (90%)": ("Margin of error of the difference.", "√(MOE_a² + MOE_b²) (ACS handbook ch. 8)"),
        "City share": ("The City of Chicago's share of households for the measure, as a fraction from 0 to 1.",
                       "share = estimate / universe"),
        "Population": ("Residents of the area (estimated, no margin of error).",
                       "Tract populations summed through the crosswalk; the snapshot's context tables carry no "
                       "standard errors."),
        "Median household income (estimated, $)": (
            "Median household income in dollars, rounded to $100; approximate, without a margin of error.",
            "Tract household-income brackets summed through the crosswalk; median by linear interpolation within "
            "the median's bracket (Census Bureau, 'Calculating Medians'); the open top bracket gives its lower "
            "bound."),
        "Adults 18–64 in poverty (share)": (
            "Share of residents aged 18 to 64 (whose poverty status is known) below the poverty line, as a fraction "
            "from 0 to 1; approximate, without a margin of error.",
            "in poverty 18–64 / poverty universe 18–64, each summed over the area's tracts"),
        "Residents under 18 (share)": ("Share of residents under 18, as a fraction from 0 to 1; approximate, "
                                       "without a margin of error.", "residents under 18 / population"),
        "Residents 65 and over (share)": ("Share of residents 65 and over, as a fraction from 0 to 1; "
                                          "approximate, without a margin of error.", "residents 65+ / population"),
        # progress to targets
        "Target": ("The target in words: measure, area, value and year to reach.", ""),
        "Unit": ("What the row's figures count: households, or a share of households as a fraction from 0 to 1.",
                 ""),
        "Estimate": ("The measure for this ACS period, in the row's unit.",
                     "Households as in 'Households (estimate)', or share = estimate / universe."),
        "Margin of error (90%)": ("Margin of error of the estimate at 90% confidence.", ""),
        "Reliability": ("Reliability of the row's estimate. " + reliability, ""),
        "Change since baseline": ("The estimate minus the baseline period's, in the row's unit; blank for the "
                                  "baseline period itself.", "estimate − baseline estimate"),
        "Change MOE (90%)": (
            "Margin of error of the change.",
            f"√(MOE² + MOE_baseline²) × √(1 − shared years / {period}) for {period}-year periods that share years "
            "(Census Bureau, A Compass for Understanding and Using ACS Data, 2008, appendix)."),
        "Statistically significant (90%)": ("Whether the change is statistically significant at 90% confidence.",
                                            f"|change| / (change MOE / {z}) > {z}"),
        "Years shared with the baseline period": (
            f"How many years this {period}-year ACS period shares with the baseline period; overlapping periods "
            "are partly the same survey responses.", f"max(0, {period} − (year − baseline year))"),
        "Pace needed per year": ("Change per year needed on a straight line from the baseline to the target.",
                                 "(target − baseline estimate) / (target year − baseline year)"),
        "Pace observed per year": ("Change per year since the baseline.",
                                   "change since baseline / (year − baseline year)"),
        "Pace observed MOE (90%)": ("Margin of error of the observed pace.",
                                    "change MOE / (year − baseline year)"),
        "Status": (f"'{targets.ON_TRACK}', '{targets.BEHIND}', '{targets.CANNOT_TELL}', or '{targets.BASELINE}' for "
                   "the baseline period's own row; 'Why' gives the reason.",
                   f"{targets.ON_TRACK}: the target is reached, or the change is significant and at least the "
                   f"progress due on the straight line by this period; {targets.BEHIND}: even the favourable end of "
                   f"the change's margin of error falls short of the progress due; otherwise {targets.CANNOT_TELL}."),
        "Why": ("The reason for the status, in words.", ""),
        "Target source": ("Where the target comes from, with any assumption.", ""),
        # progress: where the gap is
        "Rank": ("Rank by households counted, most first.", ""),
        "Households": ("Households counted by the measure in the area (estimate).", ""),
        "Share of the total": ("The area's part of the households counted in all areas, as a fraction from 0 to 1.",
                               "households / total of all areas; MOE by the ACS handbook's proportion formula "
                               "(ch. 8), the area being part of the total."),
        "Share of the total MOE (90%)": ("Margin of error of the share of the total, as a fraction.",
                                         "MOE = √(MOE_area² − share² × MOE_total²) / total (ACS handbook 2020, "
                                         "ch. 8, proportions; the ratio formula where the root is negative)."),
        "Running total": ("Households in this area and every area ranked above it.",
                          running + " (ACS handbook ch. 8, aggregated counts)."),
        "Running total MOE (90%)": ("Margin of error of the running total.",
                                    "√(sum of the squared MOEs of the areas summed), the largest MOE among zero "
                                    "estimates counted once (ACS handbook ch. 8)."),
        "Running share": ("The running total as a fraction of the total of all areas.",
                          "running total / total of all areas"),
        "Among the areas holding half": ("True for the fewest top-ranked areas that together hold at least half of "
                                         "the households counted.", "True while the running share before this "
                                                                    "area is under half."),
        # libraries
        "Branches inside": ("Chicago Public Library branches inside the area's boundary.",
                            f"Branch points intersecting the area's polygon ({libraries.PROJECTED_CRS}); a branch on "
                            "a shared boundary counts for both areas."),
        "Branch names inside": ("Names of the branches inside the area, separated by '; '.", ""),
        "Mean miles to the nearest branch (household-weighted)": (
            "Average straight-line distance in miles from the area's households to their nearest branch.",
            f"sum(households × miles) / sum(households) over the pieces of 2020 block groups in the area (ACS "
            f"2017–2021 households), each at its representative point; distances in {libraries.PROJECTED_CRS}, "
            f"{libraries.FEET_PER_MILE:,.0f} feet a mile."),
        "Unconnected households per nearby branch": (
            "Unconnected households in the area per branch inside it or nearby; blank where there is none.",
            per_branch),
        "Per branch MOE (90%)": ("Margin of error of the unconnected households per nearby branch.", per_branch),
        "Many unconnected households": (
            "True when the area's unconnected households are at or above the median of the areas of its kind "
            "and ACS period.",
            f"estimate ≥ quantile {libraries.MANY_UNCONNECTED_QUANTILE:g} of the estimates of all areas of the same "
            "geography and period."),
        "Flagged": ("True for areas with many unconnected households and no branch close by: where a branch's "
                    "public computers are hardest to reach for those without a connection.",
                    f"many unconnected households AND mean miles to the nearest branch > {libraries.CLOSE_MILES:g}"),
        "Branch": ("Chicago Public Library branch, named as in the City of Chicago's list of locations.", ""),
        "Year": ("Calendar year the sessions were counted in.", ""),
        "Public computer sessions": ("Public computer sessions at the branch in the year.", sessions),
        "Months reported": ("Months with a value in the year's file (a zero is a report; a blank is not).", ""),
        "Months with sessions": ("Months with more than zero sessions; zero months mark closures such as "
                                 "renovations.", ""),
        "Change from the previous year": (
            "Sessions minus the previous calendar year's; blank when either year is partial (fewer than 12 "
            "months reported) or missing.", "sessions − previous year's sessions"),
        "Change (%)": ("Change from the previous year as a percentage of the previous year's sessions; blank "
                       "where the change is blank or the previous year had none.",
                       "change / previous year's sessions × 100"),
        "Miles from the branch": ("Straight-line miles from the branch to the tract's representative point.",
                                  f"Tracts whose representative point lies within {libraries.SURROUNDING_MILES:g} "
                                  f"mile of the branch, measured in {libraries.PROJECTED_CRS}."),
        "Address": ("Street address of the branch.", ""),
        "ZIP": ("ZIP code of the branch.", ""),
        "Hours": ("Usual opening hours, as the City of Chicago lists them.", ""),
        "Phone": ("Telephone number of the branch.", ""),
        "Latitude": ("Latitude of the branch (WGS84, degrees).", ""),
        "Longitude": ("Longitude of the branch (WGS84, degrees).", ""),
        "File": ("Sessions file the row comes from, in the raw snapshot's libraries folder.", ""),
        "Line in the file": ("Line number of the row in that file (the header is line 1).", ""),
        "Name in the file": ("Location name as the file spells it.", ""),
        "Sessions in the year": ("Year-to-date sessions the file gives for the row.", ""),
        "Why it is not matched": ("Why the row is not counted for any branch of the City's list (a closed branch, "
                                  "a space that is not a branch, a total row, or no matching name).", ""),
    }


def _column_patterns() -> list[tuple[str, str, str]]:
    """(regex, meaning, formula) for column names a page builds from a year, a measure or a distance.

    The regex must match the whole name; ``{name}`` in the meaning and
    formula is filled from the regex's group of that name.
    """
    measures = "|".join(re.escape(m.label) for m in metrics.METRICS.values())
    with_share = "|".join(re.escape(m.label) for m in metrics.METRICS.values() if m.denominator)
    miles = r"(?P<miles>\d+(?:\.\d+)? miles?)"
    return [
        (rf"(?P<measure>{with_share}) \(share\) \(estimate\)",
         "{measure}: the area's estimate, as a share of households from 0 to 1.",
         "share = estimate / universe; see the measure's row."),
        (rf"(?P<measure>{with_share}) \(share\) MOE \(90%\)",
         "Margin of error of the area's share of households, {measure}.",
         "As for 'Share MOE (90%)': the ACS handbook's proportion formula (ch. 8)."),
        (rf"(?P<measure>{measures}) \(estimate\)", "{measure}: the area's estimate, in households.",
         "Sum of the measure's Census variables; see the measure's row."),
        (rf"(?P<measure>{measures}) MOE \(90%\)", "Margin of error of the area's households, {measure}.",
         "√(sum of the squared MOEs of the variables and tracts summed) (ACS handbook ch. 8)."),
        (rf"Branches within {miles}",
         "Branches inside the area or within {miles} of its boundary: the branches its residents can reasonably "
         "use.", "The area's polygon buffered by {feet} feet in " + libraries.PROJECTED_CRS + "; branch points "
         "intersecting the buffer."),
        (rf"Branch close by \(≤ {miles}\)",
         "True when the area's households are on average at most {miles} from their nearest branch.",
         "mean miles to the nearest branch (household-weighted) ≤ {miles}"),
        (r"Public computer sessions (?P<year>\d{4})", "Public computer sessions at the branch in {year}.",
         "Sum of the branch's monthly sessions in the City of Chicago's {year} 'Libraries – Computer Sessions by "
         "Location' file."),
        (r"Change from (?P<year>\d{4})",
         "Public computer sessions in {next_year} minus those in {year}; blank when either year is partial (fewer "
         "than 12 months reported) or missing.", "sessions {next_year} − sessions {year}"),
        (r"Difference from (?P<area>.+) ± MOE",
         "The area's figure minus {area}'s, ± its 90% margin of error, in words (shares in percentage points).",
         "√(MOE of the area² + MOE of {area}²) (ACS handbook ch. 8)"),
    ]


def _pattern_fields(match: re.Match) -> dict[str, str]:
    """A match's named groups, with what the rules derive from them: the next year, a distance in feet."""
    fields = {name: value or "" for name, value in match.groupdict().items()}
    if fields.get("year"):
        fields["next_year"] = str(int(fields["year"]) + 1)
    if fields.get("miles"):
        fields["feet"] = f"{float(fields['miles'].split()[0]) * libraries.FEET_PER_MILE:,.0f}"
    return fields


def column_meaning(column: str, exact: dict[str, tuple[str, str]] | None = None,
                   patterns: list[tuple[str, str, str]] | None = None) -> tuple[str, str, str]:
    """Meaning, formula and (for a column named after a measure) the measure's label; empty when unknown.

    Exact names (``_column_meanings``) take precedence over the pattern
    rules (``_column_patterns``), tried in order; the first full match wins.
    """
    exact = _column_meanings() if exact is None else exact
    if column in exact:
        return (*exact[column], "")
    for pattern, meaning, formula in _column_patterns() if patterns is None else patterns:
        match = re.fullmatch(pattern, column)
        if match:
            fields = _pattern_fields(match)
            return meaning.format(**fields), formula.format(**fields), fields.get("measure", "")
    return "", "", ""


def data_dictionary(extract_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column of an extract, then one per measure it shows, with universe and Census variables.

    Columns are explained by exact name, then by the pattern rules for names
    built from a year, a measure or a distance (``column_meaning``); a measure
    named in a column's name gets its own row too. Columns the library does
    not know are listed with an empty meaning rather than left out, so the
    dictionary always covers every column.
    """
    exact, patterns = _column_meanings(), _column_patterns()
    described = {column: column_meaning(column, exact, patterns) for column in extract_frame.columns}
    shown = set(extract_frame["Measure"]) if "Measure" in extract_frame else set()
    shown |= {measure for _, _, measure in described.values() if measure}
    shown_metrics = [m for m in metrics.METRICS.values() if m.label in shown]
    universes = sorted({m.denominator for m in shown_metrics if m.denominator})
    numerators = sorted({v for m in shown_metrics for v in m.numerator})
    variables = {"Households (estimate)": "; ".join(numerators), "Households MOE (90%)": "; ".join(numerators),
                 "Universe: households (estimate)": "; ".join(universes), "Universe MOE (90%)": "; ".join(universes)}
    rows = []
    for column in extract_frame.columns:
        meaning, formula, _ = described[column]
        universe = "Households" if column in variables or column.startswith("Share") else ""
        rows.append({"Column or measure": column, "Meaning": meaning, "Universe": universe,
                     "Census variables": variables.get(column, ""), "Formula": formula})
    for metric in shown_metrics:
        formula = " + ".join(metric.numerator)
        if metric.denominator:
            formula = f"estimate = {formula}; universe = {metric.denominator}; share = estimate / universe"
        else:
            formula = f"estimate = {formula}"
        rows.append({"Column or measure": metric.label, "Meaning": metric.description,
                     "Universe": f"{metric.universe} ({metric.denominator or metric.numerator[0]})",
                     "Census variables": "; ".join(metric.variable_labels), "Formula": formula})
    return pd.DataFrame(rows)


# ---- provenance ---------------------------------------------------------------------

SOURCE_LABELS = {"snapshot": "raw snapshot (Social Explorer export of the ACS tract tables)",
                 "census_api": "Census Data API (api.census.gov)",
                 "recorded_replies": "recorded Census Data API replies (offline copy)",
                 "synthetic": "SYNTHETIC test data, not Census data"}


def source_label(year_info: dict) -> str:
    """Where a loaded ACS period came from, in words, from the manifest's entry for that year."""
    return SOURCE_LABELS.get(year_info.get("source"), f"unknown source ({year_info.get('source')!r})")


def synthetic_periods(manifest: dict) -> list[str]:
    """ACS periods of the build whose figures are made-up test data (see ``census_api.reply_source``)."""
    return [info["period"] for _, info in sorted(manifest.get("years", {}).items())
            if info.get("source") == "synthetic"]


def provenance(manifest: dict, choice: str | None = None) -> str:
    """Plain-text note: sources, checksums or API years, build date, crosswalk methods, this extract's choice."""
    lines = ["Chicago Digital Equity Dashboard: provenance of this extract", ""]
    if choice:
        lines += [f"This extract: {choice}", ""]
    lines += [f"Data built: {manifest.get('built_at', 'unknown')}", "", "ACS periods:"]
    for year, info in manifest.get("years", {}).items():
        if info["source"] == "snapshot":
            source = ("Social Explorer export of ACS tract tables B28002, B28003, B28011 (raw snapshot file "
                      f"{sources.SOCIAL_EXPLORER_FILE.as_posix()}); MOE = Social Explorer's standard error × "
                      f"{sources.SOCIAL_EXPLORER_SE_TO_MOE}, which recovers the Census Bureau's published 90% MOE")
        elif info["source"] == "synthetic":
            source = f"SYNTHETIC, NOT CENSUS DATA: {info['source_note']}"
        else:
            source = info["source_note"]
        lines.append(f"  {info['period']}: {source}; {info['tract_vintage']} census tracts")
        coverage = manifest.get("coverage", {}).get(str(year), {}).get("ward_household_coverage")
        if coverage is not None:
            lines.append(f"    wards: tracts whose GEOID changed in 2020 are left out; the ward figures cover "
                         f"{coverage:.1%} of the city's households for this period")
    ward = manifest.get("ward_crosswalk", {})
    lines += ["", "Geography:",
              "  Community areas: CMAP tract-to-community-area household shares (cmapgeo R package, "
              "xwalk_tract2cca, column hh_pct; the 2010-tract version for periods ending 2019 or earlier).",
              f"  Wards (2023 map): the project's own crosswalk: {ward.get('method', 'block-group households')}; "
              f"{ward.get('tracts_household_weighted', '?')} tracts weighted by households, "
              f"{ward.get('tracts_area_weighted', '?')} without households by land area.",
              "  City of Chicago: the sum of the community areas' household shares of each tract.",
              "  Custom areas: the chosen areas' tract shares added per tract, then summed like any area.",
              "  GeoJSON boundaries: simplified for the web (within "
              + ", ".join(f"{feet:g} ft for {geography.GEOGRAPHY_LABELS[g].lower()}s"
                          for g, feet in cache.WEB_TOLERANCE_FEET.items())
              + "), WGS84 (EPSG:4326).",
              "", f"Margins of error: 90% confidence (z = {estimates.Z_90}); sums, shares and differences follow "
              "the Census Bureau's 'Understanding and Using American Community Survey Data: What All Data "
              "Users Need to Know' (2020), chapter 8.", "", "Input file checksums (SHA-256):"]
    lines += [f"  {name}: {digest}" for name, digest in sorted(manifest.get("input_sha256", {}).items())]
    return "\n".join(lines) + "\n"


def describe_choice(geography_name: str, years: list[int], metric_keys: list[str],
                    combine: list[str] | None = None) -> str:
    """One line naming an extract's geography, periods and measures (for the provenance note)."""
    where = geography.GEOGRAPHY_LABELS[geography_name]
    if combine is not None:
        where = f"custom area combining {where.lower()}s {', '.join(map(str, combine))}"
    elif geography_name != "city":
        where = f"every {where.lower()}"
    periods = ", ".join(metrics.period_label(int(y)) for y in sorted(years))
    measures = ", ".join(metrics.METRICS[k].label for k in metric_keys)
    return f"{where}; {periods}; {measures}."


# ---- figures for the methodology note ----------------------------------------------------

def crosswalk_summary(crosswalks: pd.DataFrame) -> pd.DataFrame:
    """Per geography and tract vintage: tracts carried, and tracts split between two or more areas.

    ``crosswalks`` is ``DashboardData.crosswalks``. Returns ``geography,
    vintage, tracts, split_tracts``.
    """
    per_tract = crosswalks.groupby(["geography", "vintage", "tract"])["target"].nunique()
    summary = per_tract.groupby(["geography", "vintage"]).agg(tracts="size", split_tracts=lambda n: int((n > 1).sum()))
    return summary.reset_index()


def reliability_summary(metric_table: pd.DataFrame, metric_key: str, year: int) -> pd.DataFrame:
    """How many areas of each geography get each reliability label for one measure's share.

    Returns one row per geography (``geography.GEOGRAPHIES`` order) and one
    column per label, reliable first.
    """
    rows = metric_table[(metric_table["metric"] == metric_key) & (metric_table["year"] == year)]
    counts = pd.crosstab(rows["geography"], rows["share_reliability"])
    caution, unreliable = estimates.RELIABILITY_THRESHOLDS
    labels = list(estimates.reliability(np.array([0.0, caution, unreliable + 1, np.nan])))  # best to worst
    return counts.reindex(index=[g for g in geography.GEOGRAPHIES if g in counts.index],
                          columns=labels, fill_value=0)


# ---- writing -------------------------------------------------------------------------

def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so Excel detects the encoding; pandas reads it with encoding='utf-8-sig'."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_geojson(extract_frame: pd.DataFrame, boundaries: gpd.GeoDataFrame, geography_name: str) -> str:
    """GeoJSON FeatureCollection of an extract joined to its boundaries (WGS84), same columns.

    One feature per extract row: with several measures or periods an area's
    shape repeats, once per row.
    """
    id_label = dict(ID_COLUMNS.get(geography_name, [])).get("area_id")
    if id_label is None:
        raise ValueError(f"GeoJSON needs areas with boundaries; '{geography_name}' has none "
                         f"(choose one of {', '.join(GEOJSON_GEOGRAPHIES)})")
    shapes = boundaries[["area_id", "geometry"]].to_crs(geography.WEB_CRS)
    frame = neutralise_formulas(extract_frame).copy()
    frame["_area_id"] = frame[id_label].astype(str)
    joined = frame.merge(shapes, left_on="_area_id", right_on="area_id", how="inner")
    joined = gpd.GeoDataFrame(joined.drop(columns=["_area_id", "area_id"]), geometry="geometry",
                              crs=geography.WEB_CRS)
    for column in WHOLE_NUMBER_COLUMNS:
        label = dict(VALUE_COLUMNS)[column]
        if label in joined:
            joined[label] = joined[label].astype(float)
    return joined.to_json(na="null", drop_id=True)


def export_bytes(data, geography_name: str, years: list[int] | None = None, metric_keys: list[str] | None = None,
                 fmt: str = "csv", combine: list[str] | None = None) -> bytes:
    """An extract as file bytes: ``csv``, ``geojson`` or its ``dictionary`` (CSV); the app and CLI both call this."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose {', '.join(FORMATS)}")
    table = build_extract(data, geography_name, years, metric_keys, combine)
    if fmt == "dictionary":
        return to_csv_bytes(data_dictionary(table))
    if fmt == "geojson":
        if combine is not None or geography_name not in GEOJSON_GEOGRAPHIES:
            raise ValueError("GeoJSON is available for community areas, wards and tracts, not for the city "
                             "or a custom area")
        return to_geojson(table, data.boundaries(geography_name, web=True), geography_name).encode("utf-8")
    return to_csv_bytes(table)


def command_line(geography_name: str, years: list[int], metric_keys: list[str],
                 combine: list[str] | None = None, fmt: str = "csv") -> str:
    """The ``python -m equity export`` command that writes the same extract (measures omitted when all)."""
    parts = ["python -m equity export", f"--geography {geography_name}"]
    parts += [f"--year {int(y)}" for y in sorted(years)]
    if set(metric_keys) != set(metrics.METRICS):
        parts += [f"--metric {key}" for key in metric_keys]
    if combine is not None:
        parts.append(f"--combine {','.join(map(str, combine))}")
    if fmt != "csv":
        parts.append(f"--format {fmt}")
    return " ".join(parts)


def export_text(data, geography_name: str, year: int | list[int] | None, metric_keys: list[str] | None = None,
                fmt: str = "csv") -> bytes:
    """The CLI's export: one geography and ACS year (or list of years; latest by default) as file bytes."""
    years = year if isinstance(year, (list, tuple)) else ([year] if year else None)
    return export_bytes(data, geography_name, years, metric_keys, fmt)
