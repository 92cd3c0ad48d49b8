"""What the dashboard measures, defined once.

Each metric is a count of households (the sum of one or more ACS variables)
and its share of a household universe, both with 90% margins of error, a
coefficient of variation and a reliability label. Census variable codes
appear here and nowhere else in the app.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import estimates


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    description: str
    universe: str
    numerator: tuple[str, ...]
    denominator: str | None
    variable_labels: tuple[str, ...]
    higher_is_better: bool

    @property
    def variables(self) -> tuple[str, ...]:
        return self.numerator + ((self.denominator,) if self.denominator else ())


HOUSEHOLDS_B28002 = "B28002_001"

METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("unconnected", "Households without an internet subscription",
           "Households with internet access but no paid subscription, plus households with no internet "
           "access at all. The Digital Equity Plan's measure of 'unconnected' households.",
           "Households", ("B28002_012", "B28002_013"), HOUSEHOLDS_B28002,
           ("B28002_012 Internet access without a subscription", "B28002_013 No internet access"), False),
    Metric("no_internet_access", "Households with no internet access",
           "Households where no one can use the internet at home, with or without paying for it.",
           "Households", ("B28002_013",), HOUSEHOLDS_B28002, ("B28002_013 No internet access",), False),
    Metric("no_computer", "Households without a computer",
           "Households with no desktop, laptop, tablet or smartphone.",
           "Households", ("B28003_006",), "B28003_001", ("B28003_006 No computer",), False),
    Metric("broadband_any", "Households with broadband of any type",
           "Households with a broadband subscription of any type, including a cellular data plan.",
           "Households", ("B28002_004",), HOUSEHOLDS_B28002, ("B28002_004 Broadband of any type",), True),
    Metric("high_speed_broadband", "Households with cable, fiber or DSL broadband",
           "Households with a high-speed wired subscription (cable, fiber optic or DSL), alone or with "
           "other types: the What Works Cities outcome measure.",
           "Households", ("B28002_007",), HOUSEHOLDS_B28002,
           ("B28002_007 Broadband such as cable, fiber optic or DSL",), True),
    Metric("cellular_only", "Households with only a cellular data plan",
           "Households whose only internet subscription is a cellular data plan.",
           "Households", ("B28002_006",), HOUSEHOLDS_B28002,
           ("B28002_006 Cellular data plan with no other type of internet subscription",), False),
    Metric("households", "Households", "All occupied housing units (households).",
           "Households", (HOUSEHOLDS_B28002,), None, ("B28002_001 Total households",), True),
]}

METRIC_COLUMNS = ["area_id", "year", "metric", "count", "count_moe", "count_cv", "count_reliability",
                  "share", "share_moe", "share_cv", "share_reliability", "universe", "universe_moe", "note"]


def _missing_note(missing_tracts: pd.Series) -> pd.Series:
    """Why an area's figure is missing: tracts whose estimate or MOE the Census Bureau did not publish."""
    return missing_tracts.map(lambda n: "" if n == 0 else
                              f"not available: {int(n)} tract(s) in this area have no published estimate or MOE")


def period_label(year: int) -> str:
    """'2017–2021 ACS 5-year' for the period ending in ``year``."""
    return f"{year - 4}–{year} ACS 5-year"


def compute_metrics(area_table: pd.DataFrame) -> pd.DataFrame:
    """Every metric for every area and year in a table of summed ACS variables.

    ``area_table`` has ``target, year, variable, estimate, moe`` (the output
    of ``geography.apportion``). Counts of several variables are combined
    with the handbook's sum formula; shares with the proportion formula (ratio
    formula where the proportion's root would be negative).
    """
    estimate = area_table.pivot_table(index=["target", "year"], columns="variable", values="estimate",
                                      aggfunc="first", dropna=False)
    moe = area_table.pivot_table(index=["target", "year"], columns="variable", values="moe",
                                 aggfunc="first", dropna=False)
    missing = (area_table.pivot_table(index=["target", "year"], columns="variable", values="missing_tracts",
                                      aggfunc="first", dropna=False).fillna(0)
               if "missing_tracts" in area_table else pd.DataFrame(0, index=estimate.index, columns=estimate.columns))
    frames = []
    for metric in METRICS.values():
        absent = [v for v in metric.variables if v not in estimate.columns]
        if absent:
            raise KeyError(f"metric '{metric.key}' needs Census variable(s) {', '.join(absent)}, "
                           "which the tract table does not have")
        count, count_moe = estimates.sum_across([estimate[v] for v in metric.numerator],
                                                [moe[v] for v in metric.numerator])
        if metric.denominator:
            universe, universe_moe = estimate[metric.denominator], moe[metric.denominator]
            share, share_moe = estimates.proportion(count, count_moe, universe, universe_moe)
        else:
            universe = universe_moe = share = share_moe = pd.Series(np.nan, index=count.index)
        count_cv = estimates.coefficient_of_variation(count, count_moe)
        share_cv = estimates.coefficient_of_variation(share, share_moe)
        frame = pd.DataFrame({
            "metric": metric.key,
            "count": count, "count_moe": count_moe, "count_cv": count_cv,
            "count_reliability": estimates.reliability(count_cv),
            "share": share, "share_moe": share_moe, "share_cv": share_cv,
            "share_reliability": estimates.reliability(share_cv),
            "universe": universe, "universe_moe": universe_moe,
            "note": _missing_note(missing[list(metric.variables)].max(axis=1)),
        }, index=count.index)
        frames.append(frame)
    out = pd.concat(frames).reset_index().rename(columns={"target": "area_id"})
    return out[METRIC_COLUMNS]


CONTEXT_LABELS = {
    "median_household_income": "Median household income (estimated, $)",
    "poverty_rate_18_64": "Adults 18–64 in poverty (share)",
    "share_under_18": "Residents under 18 (share)",
    "share_65_plus": "Residents 65 and over (share)",
    "population": "Population",
}


def interpolated_median(bracket_counts: pd.DataFrame, lower_bounds: list[float]) -> pd.Series:
    """Median from binned counts by linear interpolation within the median's bracket.

    The Census Bureau's method for medians of aggregated areas (linear
    interpolation, as in its "Calculating Medians" guidance); the open top
    bracket returns its lower bound. No MOE: the snapshot's income table
    has no standard errors.
    """
    counts = bracket_counts.to_numpy(dtype=float)
    total = counts.sum(axis=1)
    cumulative = counts.cumsum(axis=1)
    half = total / 2
    position = (cumulative < half[:, None]).sum(axis=1).clip(max=counts.shape[1] - 1)
    rows = np.arange(len(counts))
    before = np.where(position > 0, cumulative[rows, np.maximum(position - 1, 0)], 0.0)
    in_bracket = counts[rows, position]
    lower = np.asarray(lower_bounds, dtype=float)
    upper = np.append(lower[1:], np.nan)
    width = upper[position] - lower[position]
    with np.errstate(divide="ignore", invalid="ignore"):
        median = lower[position] + (half - before) / in_bracket * width
    median = np.where(position == counts.shape[1] - 1, lower[-1], median)
    median = np.where(total > 0, median, np.nan)
    return pd.Series(median, index=bracket_counts.index)


def compute_context(area_context: pd.DataFrame) -> pd.DataFrame:
    """Context measures per area from summed context counts (``target`` + count columns)."""
    brackets = sorted((c for c in area_context.columns if c.startswith("income_bracket_")),
                      key=lambda c: int(c.rsplit("_", 1)[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "area_id": area_context["target"],
            "population": area_context["population"].round(0),
            "median_household_income": interpolated_median(
                area_context[brackets], [int(c.rsplit("_", 1)[1]) for c in brackets]).round(-2),
            "poverty_rate_18_64": area_context["poverty_18_64"] / area_context["poverty_universe_18_64"],
            "share_under_18": area_context["population_under_18"] / area_context["population"],
            "share_65_plus": area_context["population_65_plus"] / area_context["population"],
        })
    return out.reset_index(drop=True)
