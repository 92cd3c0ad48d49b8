"""CSV and GeoJSON extracts with a data dictionary and a provenance note.

One code path serves the app's download buttons and ``python -m equity
export``. Every number travels with its margin of error. Text cells are
neutralised against spreadsheet formula injection (OWASP "CSV Injection":
prefix a single quote to cells starting with ``= + - @`` tab or CR); numbers
are left as numbers.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from . import geography, metrics

ID_COLUMNS = {
    "city": [("area_name", "Area")],
    "community_area": [("area_id", "Community area number"), ("area_name", "Community area")],
    "ward": [("area_id", "Ward")],
    "tract": [("area_id", "Census tract GEOID"), ("area_name", "Census tract")],
    "custom": [("area_name", "Area")],
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
]

COLUMN_MEANINGS = {
    "Area": "Name of the area (the whole city, or a custom combination of areas).",
    "Community area number": "Chicago community area number (1–77).",
    "Community area": "Chicago community area name.",
    "Ward": "Chicago City Council ward, 2023 ward map (in force from May 2023).",
    "Census tract GEOID": "11-digit census tract identifier (state, county, tract).",
    "Census tract": "Census tract name.",
    "ACS period": "American Community Survey 5-year period the estimate describes.",
    "Measure": "What is counted; see the measures below for Census variables.",
    "Households (estimate)": "Estimated number of households with the characteristic.",
    "Households MOE (90%)": "Margin of error at 90% confidence: the estimate ± this value is the 90% "
                            "confidence interval.",
    "Households CV (%)": "Coefficient of variation = (MOE / 1.645) / estimate × 100.",
    "Households reliability": "'reliable' (CV < 15%), 'use with caution' (15–30%), 'unreliable' (> 30%).",
    "Share of households": "Estimate divided by the universe (0–1).",
    "Share MOE (90%)": "Margin of error of the share, ACS handbook ch. 8 proportion formula "
                       "(ratio formula where the proportion formula fails).",
    "Share CV (%)": "Coefficient of variation of the share.",
    "Share reliability": "Reliability of the share, same thresholds as above.",
    "Universe: households (estimate)": "Estimated households in the area (the share's denominator).",
    "Universe MOE (90%)": "Margin of error of the universe.",
}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula; numbers untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def extract(metric_rows: pd.DataFrame, geography_name: str) -> pd.DataFrame:
    """Readable extract of metric rows (one row per area, measure and ACS period)."""
    rows = metric_rows.copy()
    rows["metric_label"] = rows["metric"].map(lambda k: metrics.METRICS[k].label)
    if "period" not in rows:
        rows["period"] = rows["year"].map(metrics.period_label)
    columns = ID_COLUMNS[geography_name] + VALUE_COLUMNS
    out = rows[[c for c, _ in columns]].rename(columns=dict(columns))
    if geography_name == "ward":
        out["Ward"] = out["Ward"].astype(int)
    return out.reset_index(drop=True)


def data_dictionary(extract_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column of an extract, then one per measure with its Census variables."""
    rows = [{"Column or measure": c, "Meaning": COLUMN_MEANINGS.get(c, ""), "Universe": "",
             "Census variables": "", "Formula": ""} for c in extract_frame.columns]
    shown = set(extract_frame["Measure"]) if "Measure" in extract_frame else set()
    for metric in metrics.METRICS.values():
        if metric.label not in shown:
            continue
        formula = " + ".join(metric.numerator)
        if metric.denominator:
            formula = f"share = ({formula}) / {metric.denominator}"
        rows.append({"Column or measure": metric.label, "Meaning": metric.description,
                     "Universe": metric.universe, "Census variables": "; ".join(metric.variable_labels),
                     "Formula": formula})
    return pd.DataFrame(rows)


def provenance(manifest: dict) -> str:
    """Plain-text note: sources, checksums or API years, build date, crosswalk method."""
    lines = ["Chicago Digital Equity Dashboard: provenance of this extract", "",
             f"Built: {manifest.get('built_at', 'unknown')}", "", "ACS periods:"]
    for year, info in manifest.get("years", {}).items():
        source = ("Social Explorer export of ACS tract tables B28002, B28003, B28011 (raw snapshot)"
                  if info["source"] == "snapshot" else f"Census API, ACS 5-year {year} (api.census.gov)")
        lines.append(f"  {info['period']}: {source}; {info['tract_vintage']} census tracts")
    lines += ["", "Geography:",
              "  Community areas: CMAP tract-to-community-area household shares (cmapgeo, hh_pct).",
              f"  Wards (2023 map): {manifest.get('ward_crosswalk', {}).get('method', '')}; "
              "the project's own crosswalk.",
              "", "Margins of error: 90% confidence; sums, shares and differences follow the Census Bureau's "
              "ACS handbook (2020), chapter 8.", "", "Input file checksums (SHA-256):"]
    lines += [f"  {name}: {digest}" for name, digest in sorted(manifest.get("input_sha256", {}).items())]
    return "\n".join(lines) + "\n"


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so Excel detects the encoding; pandas reads it with encoding='utf-8-sig'."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def to_geojson(extract_frame: pd.DataFrame, boundaries: gpd.GeoDataFrame, geography_name: str) -> str:
    """GeoJSON FeatureCollection of an extract joined to its boundaries (WGS84)."""
    id_label = dict(ID_COLUMNS[geography_name]).get("area_id")
    if id_label is None:
        raise ValueError(f"GeoJSON needs an area id; '{geography_name}' has none")
    shapes = boundaries[["area_id", "geometry"]].copy()
    frame = neutralise_formulas(extract_frame).copy()
    frame["_area_id"] = frame[id_label].astype(str)
    joined = shapes.merge(frame, left_on="area_id", right_on="_area_id", how="inner").drop(columns=["_area_id", "area_id"])
    return joined.to_json(na="null")


def export_text(data, geography_name: str, year: int | None, metric_keys: list[str] | None = None,
                fmt: str = "csv") -> bytes:
    """The CLI's export: one geography and ACS year (latest by default) as CSV or GeoJSON bytes."""
    if geography_name not in geography.GEOGRAPHIES:
        raise ValueError(f"unknown geography '{geography_name}'; choose one of {', '.join(geography.GEOGRAPHIES)}")
    year = year or data.latest_year
    if year not in data.years:
        raise ValueError(f"ACS year {year} is not loaded; loaded years: {', '.join(map(str, data.years))}. "
                         f"Add one with `python -m equity fetch --year {year}`.")
    unknown = [k for k in metric_keys or [] if k not in metrics.METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(metrics.METRICS)}")
    rows = data.metrics[(data.metrics["geography"] == geography_name) & (data.metrics["year"] == year)]
    if metric_keys:
        rows = rows[rows["metric"].isin(metric_keys)]
    table = extract(rows, geography_name)
    if fmt == "geojson":
        if geography_name == "city":
            raise ValueError("GeoJSON is available for community areas, wards and tracts, not the city row")
        return to_geojson(table, data.boundaries(geography_name, web=False), geography_name).encode("utf-8")
    if fmt != "csv":
        raise ValueError(f"unknown format '{fmt}'; choose csv or geojson")
    return to_csv_bytes(table)
