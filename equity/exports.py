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

import geopandas as gpd
import numpy as np
import pandas as pd

from . import cache, compare, estimates, geography, metrics, sources

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
        "Area": ("Name of the area: the City of Chicago, or a custom area made of several areas combined.", ""),
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
        "Note": ("Why a figure is missing (tracts whose estimate or MOE the Census Bureau did not publish); "
                 "empty when every figure is present.", ""),
    }


def data_dictionary(extract_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column of an extract, then one per measure it shows, with universe and Census variables.

    Columns the library does not know (a page's own table) are listed with an
    empty meaning rather than left out, so the dictionary always covers every
    column.
    """
    meanings = _column_meanings()
    shown = set(extract_frame["Measure"]) if "Measure" in extract_frame else set()
    shown_metrics = [m for m in metrics.METRICS.values() if m.label in shown]
    universes = sorted({m.denominator for m in shown_metrics if m.denominator})
    numerators = sorted({v for m in shown_metrics for v in m.numerator})
    variables = {"Households (estimate)": "; ".join(numerators), "Households MOE (90%)": "; ".join(numerators),
                 "Universe: households (estimate)": "; ".join(universes), "Universe MOE (90%)": "; ".join(universes)}
    rows = []
    for column in extract_frame.columns:
        meaning, formula = meanings.get(column, ("", ""))
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
            source = f"SYNTHETIC, NOT CENSUS DATA: {info.get('source_note', 'made-up figures')}"
        else:
            source = (info.get("source_note")
                      or f"Census Data API, ACS 5-year {year} (api.census.gov/data/{year}/acs/acs5)")
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
