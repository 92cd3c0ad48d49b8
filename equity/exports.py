"""CSV and GeoJSON extracts with a data dictionary and a provenance note.

One code path serves the app's Downloads page, the download buttons under
every table and ``python -m equity export``: ``queries.build_extract``
chooses the rows (a geography, or several areas combined into one custom
area; measures; ACS periods), ``extract`` gives them readable headers, and
``to_csv_bytes``, ``to_geojson``, ``data_dictionary`` and ``provenance``
write them out. This module writes tables and knows no page: it imports
nothing above ``metrics``, and a table's columns (``columns.Column``) are
declared beside the function that makes it and handed to
``data_dictionary``.

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

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from . import estimates, geography, metrics, sources
from .columns import Column, renamed

CUSTOM = geography.CUSTOM_GEOGRAPHY
EXTRACT_GEOGRAPHIES = (*geography.GEOGRAPHIES, CUSTOM)
GEOJSON_GEOGRAPHIES = ("community_area", "ward", "tract")

# Decimals written out. Figures are computed unrounded; apportioned counts
# are fractions of households, so whole households is the honest precision.
DECIMALS = {"count": 0, "count_moe": 0, "universe": 0, "universe_moe": 0,
            "share": 4, "share_moe": 4, "count_cv": 1, "share_cv": 1}
WHOLE_NUMBER_COLUMNS = ("count", "count_moe", "universe", "universe_moe")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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


# ---- readable extracts ---------------------------------------------------------

def area_order(area_ids: pd.Series) -> pd.Series:
    """Sort key for area ids: numbers in numeric order (ward 2 before ward 10), GEOIDs as text."""
    numeric = pd.to_numeric(area_ids, errors="coerce")
    return numeric.fillna(np.inf).astype(float) if numeric.notna().all() else area_ids.astype(str)


def extract(metric_rows: pd.DataFrame, geography_name: str,
            figures: Sequence[Column] = tuple(metrics.VALUE_COLUMNS)) -> pd.DataFrame:
    """Readable extract of metric rows: one row per area, ACS period and measure, in the rows' own order.

    ``metric_rows`` are rows of ``DashboardData.metrics`` (or of
    ``compare.combine_areas`` with ``members`` added, for ``geography_name``
    "custom"), in the order the reader is given them (``in_extract_order`` sorts
    by area, period and measure). The columns are the area's (``geography.ID_COLUMNS``) then
    ``figures`` (all of ``metrics.VALUE_COLUMNS`` unless a table shows fewer), headed by their labels;
    numbers are rounded as in ``DECIMALS``; ward and community area numbers are whole numbers, tract
    GEOIDs text.
    """
    rows = metric_rows.copy()
    rows["metric_label"] = rows["metric"].map(lambda k: metrics.METRICS[k].label)
    if "period" not in rows:
        rows["period"] = rows["year"].map(metrics.period_label)
    if "note" not in rows:
        rows["note"] = ""
    for column, decimals in DECIMALS.items():
        rows[column] = rows[column].astype(float).round(decimals)
    for column in WHOLE_NUMBER_COLUMNS:
        rows[column] = rows[column].astype("Int64")
    columns = extract_columns(geography_name, figures)
    out = renamed(rows, columns)
    numbered = [c.label for c in columns if c in (geography.WARD, geography.COMMUNITY_AREA_NUMBER)]
    out[numbered] = out[numbered].astype(int)
    text = [c.label for c in columns if c.key not in DECIMALS and c.label not in numbered]
    out[text] = out[text].astype("str")
    return out.reset_index(drop=True)


def in_extract_order(metric_rows: pd.DataFrame) -> pd.DataFrame:
    """``metric_rows`` by area (``area_order``), then ACS period, then measure in ``metrics.METRICS``' order."""
    measure_order = {key: i for i, key in enumerate(metrics.METRICS)}
    keys = pd.DataFrame({"area": area_order(metric_rows["area_id"]).to_numpy(), "year": metric_rows["year"].to_numpy(),
                         "measure": metric_rows["metric"].map(measure_order).to_numpy()})
    return metric_rows.iloc[keys.sort_values(["area", "year", "measure"], kind="stable").index]


# ---- data dictionary -------------------------------------------------------------

def extract_columns(geography_name: str, figures: Sequence[Column] = tuple(metrics.VALUE_COLUMNS)) -> list[Column]:
    """The columns of an extract of ``geography_name`` (``extract``): the area's, then the figures'."""
    return geography.ID_COLUMNS[geography_name] + list(figures)


def data_dictionary(table: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """One row per column of ``table``, then one per measure it shows, with universe and Census variables.

    Each column is explained by the ``Column`` of ``columns`` carrying its
    label (the list declared beside the function that made the table); a
    column named after a measure gets that measure's row too. A column not
    declared is listed with an empty meaning rather than left out, so the
    dictionary always covers every column.
    """
    declared: dict[str, Column] = {}
    for column in columns:
        declared.setdefault(column.label, column)
    described = {label: declared.get(label, Column(label, label, "")) for label in table.columns}
    shown = set(table[metrics.MEASURE.label]) if metrics.MEASURE.label in table else set()
    shown |= {column.measure for column in described.values() if column.measure}
    shown_metrics = [m for m in metrics.METRICS.values() if m.label in shown]
    universes = "; ".join(sorted({m.denominator for m in shown_metrics if m.denominator}))
    numerators = "; ".join(sorted({v for m in shown_metrics for v in m.numerator}))
    variables = {metrics.COUNT.label: numerators, metrics.COUNT_MOE.label: numerators,
                 metrics.UNIVERSE.label: universes, metrics.UNIVERSE_MOE.label: universes}
    rows = []
    for label, column in described.items():
        universe = "Households" if label in variables or label.startswith("Share") else ""
        rows.append({"Column or measure": label, "Meaning": column.meaning, "Universe": universe,
                     "Census variables": variables.get(label, ""), "Formula": column.formula})
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
                          for g, feet in geography.WEB_TOLERANCE_FEET.items())
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


# ---- writing -------------------------------------------------------------------------

def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so Excel detects the encoding; pandas reads it with encoding='utf-8-sig'."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_geojson(extract_frame: pd.DataFrame, boundaries: gpd.GeoDataFrame, geography_name: str) -> str:
    """GeoJSON FeatureCollection of an extract joined to its boundaries (WGS84), same columns.

    One feature per extract row: with several measures or periods an area's
    shape repeats, once per row.
    """
    id_label = next((c.label for c in geography.ID_COLUMNS.get(geography_name, []) if c.key == "area_id"), None)
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
        label = next(c.label for c in metrics.VALUE_COLUMNS if c.key == column)
        if label in joined:
            joined[label] = joined[label].astype(float)
    return joined.to_json(na="null", drop_id=True)


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
