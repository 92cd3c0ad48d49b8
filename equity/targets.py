"""Progress against plan targets; program milestones.

The targets and milestones themselves are read and checked by
``equity.target_files``. ``progress`` compares every loaded ACS
period with the baseline (difference and significance with the ACS
handbook's formulas in ``equity.estimates``, adjusted where 5-year periods
overlap), sets the pace needed against the pace observed and gives a status
in plain words. ``milestone_progress`` sets each milestone's latest report
against its target.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from . import estimates, metrics
from .columns import Column, table
from .errors import ValidationError
from .target_files import TARGET_COLUMNS, TARGET_GEOGRAPHIES

PERIOD_YEARS = 5
"""Length of the ACS periods compared (5-year estimates)."""

ON_TRACK, BEHIND, CANNOT_TELL = "on track", "behind", "cannot tell yet"
BASELINE = "baseline"
"""Status of the baseline period's own row when a later period is loaded (nothing to judge there)."""

ILLUSTRATIVE_MARK = "illustrative"
"""A milestone whose source starts with this word holds example values, not program data."""


# ---- milestones --------------------------------------------------------------------------------------

def is_illustrative(source: pd.Series) -> pd.Series:
    """Whether each milestone's source says its values are illustrative (examples, not program data)."""
    return source.str.strip().str.lower().str.startswith(ILLUSTRATIVE_MARK)


def milestone_progress(milestones: pd.DataFrame) -> pd.DataFrame:
    """The latest dated value of each milestone against its target.

    ``fraction`` is value / target, capped at 1 for drawing a bar
    (``fraction_uncapped`` keeps the true ratio); ``illustrative`` flags
    example values; ``reports`` counts the dated rows;
    ``target_date_passed`` marks a latest report after the target date with
    the target not reached. Sourced milestones
    come first, then illustrative ones, each by name.
    """
    latest = milestones.sort_values(["name", "date"]).groupby("name", sort=True).tail(1).copy()
    ratio = latest["value"].astype(float) / latest["target"].astype(float)
    latest["fraction_uncapped"] = ratio
    latest["fraction"] = ratio.clip(upper=1.0)
    latest["illustrative"] = is_illustrative(latest["source"])
    latest["reports"] = latest["name"].map(milestones.groupby("name").size())
    latest["target_date_passed"] = (latest["date"] > latest["target_date"]) & (ratio < 1)
    return latest.sort_values(["illustrative", "name"]).reset_index(drop=True)


def overlap_years(year, baseline_year, period_years: int = PERIOD_YEARS):
    """Years two ACS periods share: ``max(0, period_years - (year - baseline_year))``.

    2017–2021 and 2019–2023 share 3 years; 2017–2021 and 2022–2026 none.
    """
    return np.maximum(0, period_years - np.abs(np.asarray(year) - np.asarray(baseline_year)))


def target_label(targets: pd.DataFrame, names: Mapping[tuple[str, str], str]) -> pd.Series:
    """'Households without an internet subscription, City of Chicago: 0 households by 2030'."""
    def label(row) -> str:
        goal = (f"{row['target_value'] * 100:g}% of households" if row["measure"] == "share"
                else f"{row['target_value']:,.0f} households")
        area = names.get((row["geography"], row["area_id"]), row["area_id"])
        return f"{metrics.METRICS[row['metric']].label}, {area}: {goal} by {row['target_year']}"
    return targets.apply(label, axis=1) if len(targets) else pd.Series(dtype=object)


PROGRESS_COLUMNS = [
    "target_id", "target", "metric", "geography", "area_id", "area_name", "measure", "source",
    "baseline_year", "baseline_period", "baseline_value", "baseline_moe", "target_value", "target_year",
    "year", "period", "value", "moe", "value_low", "value_high", "reliability",
    "change", "change_moe", "significant", "overlap_years", "first_separate_year", "years_elapsed",
    "pace_needed", "pace_observed", "pace_observed_moe", "pace_needed_from_now",
    "status", "reason", "preferred",
]


def progress(targets: pd.DataFrame, metric_table: pd.DataFrame) -> pd.DataFrame:
    """Every target against every loaded ACS period from its baseline on (``PROGRESS_COLUMNS``).

    - ``value``/``moe``: the target's metric (count or share) for the period;
      ``baseline_value``/``baseline_moe`` the same for the baseline period,
      computed by the pipeline (never typed).
    - ``change``/``change_moe``: ``estimates.difference`` with
      ``overlap_years`` = years the two 5-year periods share, which scales
      the MOE by sqrt(1 - overlap/5) (Census Bureau, *A Compass for
      Understanding and Using ACS Data*, 2008, appendix; see
      ``estimates._overlap_factor``). ``significant``:
      ``estimates.significantly_different`` at 90%.
    - ``pace_needed``: change per year needed on a straight line from the
      baseline to the target; ``pace_observed`` (± ``pace_observed_moe``):
      the change per year since the baseline; ``pace_needed_from_now``: per
      year from this period's estimate to the target.
    - ``status`` / ``reason``: see ``status``.
    - ``first_separate_year``: the first period (by its last year) that
      shares no year with the baseline period.
    - ``preferred``: the comparison to headline for each target: the latest
      period with an estimate, which overlaps the baseline least (the Census
      Bureau advises comparing non-overlapping periods where available).

    A target whose baseline period is not loaded gets one row, status
    "cannot tell yet", and a reason saying how to load it.
    """
    if missing := [c for c in TARGET_COLUMNS if c not in targets]:
        raise ValidationError(f"targets table lacks column(s) {', '.join(missing)}")
    if targets.empty:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    table = metric_table[metric_table["geography"].isin(TARGET_GEOGRAPHIES)]
    names = dict(zip(zip(table["geography"], table["area_id"]), table["area_name"]))
    loaded = sorted(int(y) for y in table["year"].unique())
    base = targets.reset_index(drop=True).copy()
    base.insert(0, "target_id", np.arange(1, len(base) + 1))
    base["target"] = target_label(base, names).to_numpy()
    base["area_name"] = [names.get(k, a) for k, a in zip(zip(base["geography"], base["area_id"]), base["area_id"])]
    base["baseline_year"] = base["baseline_year"].astype(int)
    base["target_year"] = base["target_year"].astype(int)
    base["target_value"] = base["target_value"].astype(float)

    pairs = [(tid, year) for tid, b in zip(base["target_id"], base["baseline_year"])
             for year in sorted({b} | {y for y in loaded if y >= b})]
    rows = pd.DataFrame(pairs, columns=["target_id", "year"]).merge(base, on="target_id")

    long = table[["geography", "area_id", "year", "metric", "count", "count_moe", "count_reliability",
                  "share", "share_moe", "share_reliability"]]
    values = pd.concat([
        long.rename(columns={"count": "value", "count_moe": "moe", "count_reliability": "reliability"})
            .assign(measure="count")[["geography", "area_id", "year", "metric", "measure", "value", "moe", "reliability"]],
        long.rename(columns={"share": "value", "share_moe": "moe", "share_reliability": "reliability"})
            .assign(measure="share")[["geography", "area_id", "year", "metric", "measure", "value", "moe", "reliability"]],
    ], ignore_index=True)
    values["year"] = values["year"].astype(int)
    keys = ["geography", "area_id", "metric", "measure"]
    rows = rows.merge(values, on=keys + ["year"], how="left")
    baseline = values.rename(columns={"year": "baseline_year", "value": "baseline_value", "moe": "baseline_moe"})
    rows = rows.merge(baseline.drop(columns="reliability"), on=keys + ["baseline_year"], how="left")

    rows["period"] = rows["year"].map(metrics.period_label)
    rows["value_low"], rows["value_high"] = estimates.confidence_interval(
        rows["value"], rows["moe"], ceiling=np.where(rows["measure"] == "share", 1.0, np.inf))
    rows["baseline_period"] = rows["baseline_year"].map(metrics.period_label)
    rows["years_elapsed"] = rows["year"] - rows["baseline_year"]
    rows["overlap_years"] = overlap_years(rows["year"], rows["baseline_year"]).astype(int)
    rows["first_separate_year"] = rows["baseline_year"] + PERIOD_YEARS
    rows["change"] = np.nan
    rows["change_moe"] = np.nan
    rows["significant"] = False
    later = rows["years_elapsed"] > 0
    for overlap in sorted(rows.loc[later, "overlap_years"].unique()):
        part = later & (rows["overlap_years"] == overlap)
        args = (rows.loc[part, "value"], rows.loc[part, "moe"], rows.loc[part, "baseline_value"],
                rows.loc[part, "baseline_moe"])
        change, change_moe = estimates.difference(*args, overlap_years=int(overlap), period_years=PERIOD_YEARS)
        rows.loc[part, "change"] = change
        rows.loc[part, "change_moe"] = change_moe
        rows.loc[part, "significant"] = estimates.significantly_different(
            *args, overlap_years=int(overlap), period_years=PERIOD_YEARS)
    span = rows["target_year"] - rows["baseline_year"]
    elapsed = rows["years_elapsed"].where(later)
    rows["pace_needed"] = (rows["target_value"] - rows["baseline_value"]) / span
    rows["pace_observed"] = rows["change"] / elapsed
    rows["pace_observed_moe"] = rows["change_moe"] / elapsed
    remaining = (rows["target_year"] - rows["year"]).where(rows["target_year"] > rows["year"])
    rows["pace_needed_from_now"] = (rows["target_value"] - rows["value"]) / remaining
    rows["status"], rows["reason"] = status(rows, loaded)
    rows["preferred"] = _preferred(rows)
    return rows[PROGRESS_COLUMNS].sort_values(["target_id", "year"]).reset_index(drop=True)


PROGRESS_TABLE_COLUMNS = [
    Column("target", "Target", "The target in words: measure, area, value and year to reach."),
    metrics.PERIOD,
    Column("unit", "Unit", "What the row's figures count: households, or a share of households as a fraction from "
           "0 to 1."),
    Column("value", "Estimate", "The measure for this ACS period, in the row's unit.",
           "Households as in 'Households (estimate)', or share = estimate / universe.", kind="four significant digits"),
    Column("moe", "Margin of error (90%)", "Margin of error of the estimate at 90% confidence.",
           kind="four significant digits"),
    metrics.RELIABILITY,
    Column("change", "Change since baseline", "The estimate minus the baseline period's, in the row's unit; blank "
           "for the baseline period itself.", "estimate − baseline estimate", kind="four significant digits"),
    Column("change_moe", "Change MOE (90%)", "Margin of error of the change.",
           f"{estimates.FORMULAS['overlap_moe']}, {estimates.FORMULAS['overlap']}, A = this period, B = the "
           "baseline (Census Bureau, A Compass for Understanding and Using ACS Data, 2008, appendix).",
           kind="four significant digits"),
    Column("significant", "Statistically significant (90%)", "Whether the change is statistically significant at 90% "
           "confidence.", f"|Z| > {estimates.Z_90}, Z = change ÷ SE of the change, "
           f"{estimates.FORMULAS['standard_error']}"),
    Column("overlap_years", "Years shared with the baseline period",
           f"How many years this {PERIOD_YEARS}-year ACS period shares with the baseline period; overlapping periods "
           "are partly the same survey responses.", f"max(0, {PERIOD_YEARS} − (year − baseline year))",
           kind="whole number"),
    Column("pace_needed", "Pace needed per year", "Change per year needed on a straight line from the baseline to "
           "the target.", "(target − baseline estimate) / (target year − baseline year)",
           kind="four significant digits"),
    Column("pace_observed", "Pace observed per year", "Change per year since the baseline.",
           "change since baseline / (year − baseline year)", kind="four significant digits"),
    Column("pace_observed_moe", "Pace observed MOE (90%)", "Margin of error of the observed pace.",
           "change MOE / (year − baseline year)", kind="four significant digits"),
    Column("status", "Status", f"'{ON_TRACK}', '{BEHIND}', '{CANNOT_TELL}', or '{BASELINE}' for the baseline period's "
           "own row; 'Why' gives the reason.",
           f"{ON_TRACK}: the target is reached, or the change is significant and at least the progress due on the "
           f"straight line by this period; {BEHIND}: even the favourable end of the change's margin of error falls "
           f"short of the progress due; otherwise {CANNOT_TELL}."),
    Column("reason", "Why", "The reason for the status, in words."),
    Column("source", "Target source", "Where the target comes from, with any assumption."),
]
"""The columns of ``progress_table``: every comparison of a target with its baseline."""


def progress_table(progress_rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``progress`` as the table a reader downloads (``PROGRESS_TABLE_COLUMNS``)."""
    values = {**progress_rows, "unit": progress_rows["measure"].map(
        {"count": "households", "share": "share of households (0–1)"})}
    return table(values, PROGRESS_TABLE_COLUMNS)


def _direction(metric_keys: pd.Series) -> np.ndarray:
    """+1 where a higher value is better (the metric's own definition), -1 where lower is better."""
    return np.where(metric_keys.map(lambda k: metrics.METRICS[k].higher_is_better).to_numpy(dtype=bool), 1.0, -1.0)


def status(rows: pd.DataFrame, loaded_years: Collection[int]) -> tuple[pd.Series, pd.Series]:
    """Plain-words status and its reason for each comparison with the baseline.

    With ``progress`` = change in the metric's good direction and the
    straight-line path from baseline to target (``needed`` = the progress
    due by this period, never more than the whole gap):

    - **on track**: the estimate has reached the target; or the change is
      statistically significant (90%) and at least the progress due.
    - **behind**: even the favourable end of the change's 90% margin of
      error (``progress + change_moe``) falls short of the progress due
      (this includes a significant move the wrong way, and no measurable
      change when a large change was due).
    - **cannot tell yet**: only the baseline period is loaded, an estimate
      is missing, or the margin of error spans the progress due.

    The baseline period's own row is "baseline" once a later period is
    loaded (there is nothing to judge in it).
    """
    direction = _direction(rows["metric"])
    span = (rows["target_year"] - rows["baseline_year"]).to_numpy(dtype=float)
    elapsed = rows["years_elapsed"].to_numpy(dtype=float)
    gap = np.maximum(0.0, (rows["target_value"] - rows["baseline_value"]).to_numpy(dtype=float) * direction)
    due = gap * np.clip(elapsed / span, 0.0, 1.0)
    moved = rows["change"].to_numpy(dtype=float) * direction
    moe = rows["change_moe"].to_numpy(dtype=float)
    significant = rows["significant"].to_numpy(dtype=bool)
    reached = (rows["value"] - rows["target_value"]).to_numpy(dtype=float) * direction >= 0
    baseline_missing = rows["baseline_value"].isna().to_numpy()
    baseline_loaded = rows["baseline_year"].isin(list(loaded_years)).to_numpy()
    value_missing = rows["value"].isna().to_numpy()
    is_baseline = elapsed == 0
    later_loaded = np.array([any(y > b for y in loaded_years) for b in rows["baseline_year"]], dtype=bool)

    fetch = "python -m equity fetch --year"
    conditions = [
        baseline_missing & ~baseline_loaded,
        baseline_missing | value_missing,
        is_baseline & ~later_loaded,
        is_baseline,
        reached,
        significant & (moved >= due),
        moved + moe < due,
    ]
    labels = [CANNOT_TELL, CANNOT_TELL, CANNOT_TELL, BASELINE, ON_TRACK, ON_TRACK, BEHIND]
    reasons = [
        [f"the baseline period ({metrics.period_label(b)}) is not loaded; add it with `{fetch} {b}`"
         for b in rows["baseline_year"]],
        ["no published estimate for this area and period"] * len(rows),
        ["only the baseline period is loaded: there is no later period to compare with yet"] * len(rows),
        ["this is the baseline period"] * len(rows),
        ["the estimate has reached the target"] * len(rows),
        ["the change since the baseline is statistically significant and at least the pace needed"] * len(rows),
        [("the change since the baseline is significant but slower than the pace needed" if s and m > 0 else
          "the change since the baseline goes the wrong way" if s else
          "no measurable change since the baseline, and even the favourable end of the margin of error is "
          "slower than the pace needed") for s, m in zip(significant, moved)],
    ]
    default_reason = [("the change is not statistically significant, and its margin of error includes the pace "
                       "needed" if not s else "the margin of error of the change includes the pace needed")
                      for s in significant]
    chosen = np.select(conditions, labels, default=CANNOT_TELL).astype(object)
    reason = np.select(conditions, [np.asarray(r, dtype=object) for r in reasons],
                       default=np.asarray(default_reason, dtype=object)).astype(object)
    return pd.Series(chosen, index=rows.index), pd.Series(reason, index=rows.index)


def _preferred(rows: pd.DataFrame) -> pd.Series:
    """Per target, the latest period with an estimate (else its latest row).

    Every comparison is with the baseline, so the latest period is also the
    one sharing the fewest years with it: the non-overlapping comparison the
    Census Bureau prefers whenever one is loaded.
    """
    ranking = pd.DataFrame({"target_id": rows["target_id"], "usable": rows["value"].notna().astype(int),
                            "year": rows["year"]})
    best = ranking.sort_values(["usable", "year"]).groupby("target_id").tail(1).index
    return pd.Series(rows.index.isin(best), index=rows.index)


def headline(progress_table: pd.DataFrame) -> pd.DataFrame:
    """One row per target: its preferred comparison (see ``progress``)."""
    return progress_table[progress_table["preferred"]].reset_index(drop=True)


def history(progress_table: pd.DataFrame, target_id: int) -> pd.DataFrame:
    """One target's rows of ``progress``: every loaded period from its baseline on."""
    return progress_table[progress_table["target_id"] == target_id]


def overlapping_comparisons(headlines: pd.DataFrame) -> pd.DataFrame:
    """The distinct pairs of overlapping periods the headlines compare: ``baseline_period``, ``period``,
    ``overlap_years`` and ``first_separate_year`` (the first period sharing no year with the baseline)."""
    keys = ["baseline_period", "period", "overlap_years", "first_separate_year"]
    if headlines.empty:
        return pd.DataFrame(columns=keys)
    later = headlines[headlines["overlap_years"].gt(0) & headlines["years_elapsed"].gt(0)]
    return later[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
