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
from .columns import Column


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

    @property
    def compared_on(self) -> str:
        """What areas are compared, ranked and mapped on by default: the ``share`` of households, or the
        ``count`` for a measure that has no share (the households themselves)."""
        return "share" if self.denominator else "count"


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


# ---- the columns of a table of metric rows (an extract), declared once ----------------------------------

_CAUTION, _UNRELIABLE = estimates.RELIABILITY_THRESHOLDS
APPORTIONED = ("Sum over census tracts of (tract estimate × share of the tract's households living in the area); "
               "MOE = square root of the sum of the squared, equally scaled tract MOEs, the largest MOE among zero "
               "estimates counted once (ACS handbook 2020, ch. 8, aggregated count data).")

PERIOD = Column("period", "ACS period", "American Community Survey 5-year period the estimate describes (pooled "
                "survey responses over the five years, not one year's value).")
MEASURE = Column("metric_label", "Measure", "What is counted; see the measure rows below for Census variables and "
                 "formulas.")
COUNT = Column("count", "Households (estimate)", "Estimated number of households with the characteristic, rounded "
               "to whole households (computed before rounding).", "Sum of the measure's Census variables. " + APPORTIONED,
               kind="count")
COUNT_MOE = Column("count_moe", "Households MOE (90%)", "Margin of error at 90% confidence: the estimate ± this value "
                   "is the 90% confidence interval.", APPORTIONED, kind="count")
COUNT_CV = Column("count_cv", "Households CV (%)", "Coefficient of variation: the standard error as a percentage of "
                  "the estimate. Lower is more reliable.", estimates.FORMULAS["cv"], kind="one decimal")
COUNT_RELIABILITY = Column("count_reliability", "Households reliability", estimates.RELIABILITY_RULE,
                           f"From the CV; thresholds {_CAUTION:g}% and {_UNRELIABLE:g}%.")
SHARE = Column("share", "Share of households", "Estimate divided by the universe, as a fraction from 0 to 1 (0.1545 = "
               "15.45%). Blank for the total households measure.", "share = estimate / universe", kind="share")
SHARE_MOE = Column("share_moe", "Share MOE (90%)", "Margin of error of the share, as a fraction (0.0120 = ±1.2 "
                   "percentage points).", f"{estimates.FORMULAS['share_moe']}, X the estimate and Y the universe; "
                   f"where the value under the root is negative, {estimates.FORMULAS['share_moe_fallback']} (ACS "
                   "handbook 2020, ch. 8, proportions).", kind="points")
SHARE_CV = Column("share_cv", "Share CV (%)", "Coefficient of variation of the share.",
                  estimates.FORMULAS["cv"] + ", the estimate being the share", kind="one decimal")
SHARE_RELIABILITY = Column("share_reliability", "Share reliability", "Reliability of the share. " + estimates.RELIABILITY_RULE,
                           f"From the share's CV; thresholds {_CAUTION:g}% and {_UNRELIABLE:g}%.")
RELIABILITY = Column("reliability", "Reliability", "Reliability of the row's estimate, from its CV: "
                     + estimates.RELIABILITY_RULE)
"""The reliability of a table whose rows each show one figure, a count or a share."""
UNIVERSE = Column("universe", "Universe: households (estimate)", "Estimated households in the area: the share's "
                  "denominator.", "Census variable in the measure's 'Formula'. " + APPORTIONED, kind="count")
UNIVERSE_MOE = Column("universe_moe", "Universe MOE (90%)", "Margin of error of the universe.", APPORTIONED,
                      kind="count")
NOTE = Column("note", "Note", "Why a figure is missing (tracts whose estimate or MOE the Census Bureau did not publish) "
              "or must be read with care (a library's partial year); empty when there is nothing to note.")

VALUE_COLUMNS = [PERIOD, MEASURE, COUNT, COUNT_MOE, COUNT_CV, COUNT_RELIABILITY, SHARE, SHARE_MOE, SHARE_CV,
                 SHARE_RELIABILITY, UNIVERSE, UNIVERSE_MOE, NOTE]
"""The figures of an extract's row (after the area's own columns, ``geography.ID_COLUMNS``)."""


def measure_columns(metric_key: str, field: str) -> tuple[Column, Column]:
    """The estimate and MOE columns of a table showing one measure's ``share`` or ``count``, named after it."""
    label = METRICS[metric_key].label
    if field == "share":
        return (Column("share", f"{label} (share) (estimate)",
                       f"{label}: the area's estimate, as a share of households from 0 to 1.",
                       "share = estimate / universe; see the measure's row.", label, kind="share"),
                Column("share_moe", f"{label} (share) MOE (90%)",
                       f"Margin of error of the area's share of households, {label}.",
                       "As for 'Share MOE (90%)': the ACS handbook's proportion formula (ch. 8).", label,
                       kind="points"))
    if f"{label} (estimate)" == COUNT.label:  # the households measure: the extract's own columns
        return COUNT, COUNT_MOE
    return (Column("count", f"{label} (estimate)", f"{label}: the area's estimate, in households.",
                   "Sum of the measure's Census variables; see the measure's row.", label, kind="count"),
            Column("count_moe", f"{label} MOE (90%)", f"Margin of error of the area's households, {label}.",
                   f"{estimates.FORMULAS['sum']} over the variables and tracts summed (ACS handbook ch. 8).", label,
                   kind="count"))


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

    The variables are laid side by side once (one row per area and period, one column per variable and
    figure); each measure's row is then computed from its variables' columns, and the measures are
    stacked into the long table the app reads (one row per area, period and measure).
    """
    figures = ["estimate", "moe"] + (["missing_tracts"] if "missing_tracts" in area_table else [])
    wide = area_table.pivot_table(index=["target", "year"], columns="variable", values=figures,
                                  aggfunc="first", dropna=False)
    estimate, moe = wide["estimate"], wide["moe"]
    missing = (wide["missing_tracts"].fillna(0) if "missing_tracts" in figures
               else pd.DataFrame(0, index=estimate.index, columns=estimate.columns))
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


_WITHOUT_MOE = "approximate, without a margin of error."
CONTEXT_COLUMNS = [
    Column("median_household_income", "Median household income (estimated, $)",
           "Median household income in dollars, rounded to $100; " + _WITHOUT_MOE,
           "Tract household-income brackets summed through the crosswalk; median by linear interpolation within the "
           "median's bracket (Census Bureau, 'Calculating Medians'); the open top bracket gives its lower bound.",
           kind="dollars"),
    Column("poverty_rate_18_64", "Adults 18–64 in poverty (share)",
           "Share of residents aged 18 to 64 (whose poverty status is known) below the poverty line, as a fraction "
           "from 0 to 1; " + _WITHOUT_MOE, "in poverty 18–64 / poverty universe 18–64, each summed over the area's "
           "tracts", kind="share"),
    Column("share_under_18", "Residents under 18 (share)", "Share of residents under 18, as a fraction from 0 to 1; "
           + _WITHOUT_MOE, "residents under 18 / population", kind="share"),
    Column("share_65_plus", "Residents 65 and over (share)", "Share of residents 65 and over, as a fraction from 0 "
           "to 1; " + _WITHOUT_MOE, "residents 65+ / population", kind="share"),
    Column("population", "Population", "Residents of the area (estimated, no margin of error).",
           "Tract populations summed through the crosswalk; the snapshot's context tables carry no standard errors."),
]
"""The context measures of ``compute_context`` (no MOEs: the snapshot's context tables have none)."""
CONTEXT_LABELS = {column.key: column.label for column in CONTEXT_COLUMNS}


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
