"""What a page (or the command line) asks of the loaded data, each answered in one place.

Functions here take the loaded data (``cache.DashboardData``) and give back
the rows a page shows: an extract for a choice of areas, measures and
periods; the figures the Methodology page quotes. Pages format and draw
what they get; they do not filter, merge or group the tables themselves.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from . import compare, estimates, exports, geography, metrics
from .columns import Column, table

COMBINABLE_GEOGRAPHIES = ("community_area", "ward", "tract")
FORMATS = ("csv", "geojson", "dictionary")
MAX_NAMES_IN_CUSTOM_LABEL = 4


# ---- extracts ------------------------------------------------------------------------------

def area_names(data, geography_name: str) -> pd.Series:
    """Readable name of every area of a geography, indexed by area id."""
    rows = data.metrics[data.metrics["geography"] == geography_name].drop_duplicates("area_id")
    names = rows.set_index("area_id")["area_name"]
    if geography_name == "tract":
        return pd.Series([geography.tract_name(a) for a in names.index], index=names.index)
    return names


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
        return exports.extract(rows, geography.CUSTOM_GEOGRAPHY)
    rows = data.metrics[(data.metrics["geography"] == geography_name) & data.metrics["year"].isin(years)
                        & data.metrics["metric"].isin(metric_keys)]
    return exports.extract(rows, geography_name)


def export_bytes(data, geography_name: str, years: list[int] | None = None, metric_keys: list[str] | None = None,
                 fmt: str = "csv", combine: list[str] | None = None) -> bytes:
    """An extract as file bytes: ``csv``, ``geojson`` or its ``dictionary`` (CSV); the app and CLI both call this."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose {', '.join(FORMATS)}")
    table = build_extract(data, geography_name, years, metric_keys, combine)
    if fmt == "dictionary":
        columns = exports.extract_columns(geography.CUSTOM_GEOGRAPHY if combine is not None else geography_name)
        return exports.to_csv_bytes(exports.data_dictionary(table, columns))
    if fmt == "geojson":
        if combine is not None or geography_name not in exports.GEOJSON_GEOGRAPHIES:
            raise ValueError("GeoJSON is available for community areas, wards and tracts, not for the city "
                             "or a custom area")
        return exports.to_geojson(table, data.boundaries(geography_name, web=True), geography_name).encode("utf-8")
    return exports.to_csv_bytes(table)


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
    return counts.reindex(index=[g for g in geography.GEOGRAPHIES if g in counts.index],
                          columns=list(estimates.RELIABILITY_LABELS), fill_value=0)


# ---- the explorer ------------------------------------------------------------------------------

def context_table(points: pd.DataFrame, context: pd.DataFrame, geography_name: str,
                  metric_key: str) -> tuple[pd.DataFrame, list[Column]]:
    """One measure beside income, poverty and age for the areas shown, and the table's columns.

    ``points`` are the areas' metric rows for the measure and ``context``
    their context rows, both indexed by area id in the order shown. The
    measure is shown as a share, or as households when it has no share.
    """
    field = metrics.METRICS[metric_key].compared_on
    name = (geography.COMMUNITY_AREA if geography_name == "community_area"
            else dataclasses.replace(geography.WARD, key="area_name"))
    estimate, moe = metrics.measure_columns(metric_key, field)
    shown = [c for c in metrics.CONTEXT_COLUMNS if c.key != "population"]
    columns = [name, estimate, moe, *shown]
    values = {"area_name": points["area_name"], estimate.key: points[field], moe.key: points[f"{field}_moe"],
              **{c.key: context[c.key] for c in shown}}
    return table(values, columns).reset_index(drop=True), columns
