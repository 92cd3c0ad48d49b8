"""Change between two ACS periods, for every measure and area; each area's part of the citywide targets.

``between`` sets two loaded periods side by side for every area and measure:
the difference in households and in share, each with its margin of error
(``estimates.difference``: handbook 2020, ch. 8, ``MOE = sqrt(MOE_1^2 +
MOE_2^2)``), and whether it is statistically significant at 90%
(``estimates.significantly_different``: handbook ch. 7, ``|diff| / (MOE /
1.645) > 1.645``).

Overlapping periods (2017–2021 and 2019–2023 share three years) are partly
the same survey responses. The Census Bureau advises against comparing them
without caution; this module applies the rule the Progress page applies to
the plan's targets: the MOE is scaled by ``sqrt(1 - shared years / 5)``
(``targets.overlap_years``, ``estimates._overlap_factor``) and every row says
how many years the periods share.

Periods published on 2010 census tracts (ending 2019 or earlier) reach
community areas through CMAP's 2010 crosswalk, but wards only through the
tracts whose GEOID did not change (``pipeline.crosswalks_by_vintage``); the
share of households covered is in the build's manifest (``coverage``), and a
ward comparison resting on partial coverage is flagged.

``area_targets`` splits each citywide target among the community areas or
wards (each area's share of the baseline gap) so that ``targets.progress``
judges an area with the same rules as the city; ``gap_closed`` ranks the
areas by how much of the citywide change they account for.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import estimates, geography, metrics, target_files, targets
from .columns import Column, table

IMPROVED, WORSENED, CANNOT_TELL = "improved significantly", "worsened significantly", "cannot tell"
VERDICTS = (IMPROVED, WORSENED, CANNOT_TELL)
"""Every area's change in words: better or worse by the measure's own direction, significant at 90%; else
"cannot tell" (no change the survey can detect, or no estimate)."""

_FIGURES = ("count", "count_moe", "share", "share_moe")
CHANGE_KEYS = [
    "geography", "area_id", "area_name", "metric", "year_from", "year_to", "period_from", "period_to",
    "overlap_years", "overlapping",
    "count_from", "count_from_moe", "count_to", "count_to_moe", "count_change", "count_change_moe",
    "count_significant",
    "share_from", "share_from_moe", "share_to", "share_to_moe", "share_change", "share_change_moe",
    "share_significant",
    "compared_on", "change", "change_moe", "significant", "verdict", "ward_coverage", "partial_coverage", "note",
]


def _ward_coverage(coverage: Mapping[str, Mapping], years: tuple[int, int]) -> float:
    """The smaller household coverage of the ward figures of two periods (1 where the manifest records none)."""
    shares = [coverage.get(str(year), {}).get("ward_household_coverage") for year in years]
    return min([1.0] + [float(s) for s in shares if s is not None])


def between(metric_table: pd.DataFrame, earlier: int, later: int,
            coverage: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """Change from the ``earlier`` ACS period to the ``later`` one, for every area and measure (``CHANGE_KEYS``).

    - ``count_change`` / ``share_change``: later minus earlier, with
      ``estimates.difference``'s MOE for periods sharing ``overlap_years``
      of their five years; ``*_significant``: ``estimates.significantly_different``
      at 90% (False where an estimate is missing).
    - ``compared_on``: the measure's ``Metric.compared_on`` (share, or count
      for a measure without a share); ``change``, ``change_moe`` and
      ``significant`` repeat that pair's figures, and ``verdict`` says
      whether the area improved or worsened significantly by the measure's
      direction (``Metric.higher_is_better``), else "cannot tell".
    - ``ward_coverage``: for ward rows, the smaller share of the city's
      households the two periods' ward figures cover (``coverage`` is the
      manifest's); ``partial_coverage`` where it is under 1.
    - ``note``: why a change is missing or must be read with care.

    An area in one period only (a census tract whose boundaries were redrawn
    for 2020) keeps its row with the change missing.
    """
    earlier, later = int(earlier), int(later)
    if not earlier < later:
        raise ValueError(f"the earlier period must end before the later one; got {earlier} and {later}")
    keys = ["geography", "area_id", "metric"]

    def side(year: int, suffix: str) -> pd.DataFrame:
        rows = metric_table[metric_table["year"] == year]
        return rows[keys + ["area_name", *_FIGURES]].rename(
            columns={"area_name": f"area_name_{suffix}", "count": f"count_{suffix}",
                     "count_moe": f"count_{suffix}_moe", "share": f"share_{suffix}",
                     "share_moe": f"share_{suffix}_moe"})

    rows = side(earlier, "from").merge(side(later, "to"), on=keys, how="outer")
    rows["area_name"] = rows["area_name_to"].fillna(rows["area_name_from"])
    rows["year_from"], rows["year_to"] = earlier, later
    rows["period_from"], rows["period_to"] = metrics.period_label(earlier), metrics.period_label(later)
    overlap = int(targets.overlap_years(later, earlier))
    rows["overlap_years"] = overlap
    rows["overlapping"] = overlap > 0
    for field in ("count", "share"):
        args = (rows[f"{field}_to"], rows[f"{field}_to_moe"], rows[f"{field}_from"], rows[f"{field}_from_moe"])
        rows[f"{field}_change"], rows[f"{field}_change_moe"] = estimates.difference(
            *args, overlap_years=overlap, period_years=targets.PERIOD_YEARS)
        rows[f"{field}_significant"] = estimates.significantly_different(
            *args, overlap_years=overlap, period_years=targets.PERIOD_YEARS)
    on_share = rows["metric"].map(lambda key: metrics.METRICS[key].compared_on == "share").to_numpy(dtype=bool)
    rows["compared_on"] = np.where(on_share, "share", "count")
    for what in ("change", "change_moe", "significant"):
        rows[what] = np.where(on_share, rows[f"share_{what}"], rows[f"count_{what}"])
    rows["significant"] = rows["significant"].astype(bool)
    direction = np.where(rows["metric"].map(lambda key: metrics.METRICS[key].higher_is_better), 1.0, -1.0)
    better = rows["change"].to_numpy(dtype=float) * direction
    rows["verdict"] = np.select([rows["significant"] & (better > 0), rows["significant"] & (better < 0)],
                                [IMPROVED, WORSENED], default=CANNOT_TELL)

    is_ward = (rows["geography"] == "ward").to_numpy()
    share_covered = _ward_coverage(coverage or {}, (earlier, later))
    rows["ward_coverage"] = np.where(is_ward, share_covered, np.nan)
    rows["partial_coverage"] = is_ward & (share_covered < 1)
    rows["note"] = _notes(rows, earlier, later, share_covered)
    order = {name: i for i, name in enumerate(geography.GEOGRAPHIES)}
    metric_order = {key: i for i, key in enumerate(metrics.METRICS)}
    rows = rows.assign(_geo=rows["geography"].map(order), _number=pd.to_numeric(rows["area_id"], errors="coerce"),
                       _metric=rows["metric"].map(metric_order))
    return rows.sort_values(["_geo", "_number", "area_id", "_metric"])[CHANGE_KEYS].reset_index(drop=True)


def _notes(rows: pd.DataFrame, earlier: int, later: int, share_covered: float) -> pd.Series:
    vintages = {geography.tract_vintage(earlier), geography.tract_vintage(later)}
    missing = rows["change"].isna()
    one_period = rows["count_from"].isna() & rows["count_to"].notna() | rows["count_to"].isna() & rows[
        "count_from"].notna()
    notes = pd.Series("", index=rows.index, dtype=object)
    notes[missing] = "no change: an estimate is missing in one of the periods"
    if len(vintages) > 1:
        notes[one_period & (rows["geography"] == "tract")] = (
            "no change: the tract is in one period only (tract boundaries were redrawn for 2020)")
        notes[~missing & (rows["geography"] == "tract")] = (
            "the earlier period is on 2010 census tracts: a tract with the same GEOID may have changed slightly")
    if share_covered < 1:
        notes[~missing & (rows["geography"] == "ward")] = (
            f"partial coverage: the ward figures of a period on 2010 census tracts leave out tracts whose GEOID "
            f"changed in 2020 ({share_covered:.1%} of the city's households covered), so part of the change may "
            "come from tracts missing in one period")
    return notes


# ---- the change table someone downloads ---------------------------------------------------------------

_OVERLAP_RULE = (f"{estimates.FORMULAS['overlap_moe']}, {estimates.FORMULAS['overlap']}, A = the later period, "
                 "B = the earlier (ACS handbook 2020, ch. 8, differences; the overlap factor from the Census Bureau's "
                 "A Compass for Understanding and Using ACS Data, 2008, appendix)")
_TEST = (f"|Z| > {estimates.Z_90}, Z = change ÷ SE of the change, {estimates.FORMULAS['standard_error']} (ACS "
         "handbook 2020, ch. 7)")
PERIOD_FROM = Column("period_from", "Earlier ACS period", "The ACS 5-year period the change is measured from.")
PERIOD_TO = Column("period_to", "Later ACS period", "The ACS 5-year period the change is measured to.")
OVERLAP_YEARS = Column("overlap_years", "Years the periods share",
                       f"How many years the two {targets.PERIOD_YEARS}-year periods share. Overlapping periods are "
                       "partly the same survey responses: the Census Bureau advises comparing periods that do not "
                       "overlap, and the change's MOE is adjusted for the overlap.",
                       f"max(0, {targets.PERIOD_YEARS} − (later year − earlier year))", kind="whole number")
OVERLAPPING = Column("overlapping", "Overlapping periods", "True when the two periods share at least one year: read "
                     "the change with caution.", "years the periods share > 0")
COUNT_FROM = Column("count_from", "Households, earlier period (estimate)",
                     "Households counted by the measure in the earlier period.", "As 'Households (estimate)'.",
                     kind="count")
COUNT_FROM_MOE = Column("count_from_moe", "Households, earlier period MOE (90%)",
                         "Margin of error of the earlier period's households.", kind="count")
COUNT_TO = Column("count_to", "Households, later period (estimate)",
                   "Households counted by the measure in the later period.", "As 'Households (estimate)'.",
                   kind="count")
COUNT_TO_MOE = Column("count_to_moe", "Households, later period MOE (90%)",
                       "Margin of error of the later period's households.", kind="count")
COUNT_CHANGE = Column("count_change", "Change in households", "Households in the later period minus the earlier "
                       "period's.", "households later − households earlier", kind="count")
COUNT_CHANGE_MOE = Column("count_change_moe", "Change in households MOE (90%)",
                           "Margin of error of the change in households.", _OVERLAP_RULE, kind="count")
COUNT_SIGNIFICANT = Column("count_significant", "Change in households significant (90%)",
                            "Whether the change in households is statistically significant at 90% confidence.", _TEST)
SHARE_FROM = Column("share_from", "Share, earlier period (estimate)", "Share of households in the earlier period, "
                     "as a fraction from 0 to 1. Blank for the total households measure.",
                     "share = estimate / universe", kind="share")
SHARE_FROM_MOE = Column("share_from_moe", "Share, earlier period MOE (90%)",
                         "Margin of error of the earlier period's share, as a fraction.", metrics.SHARE_MOE.formula,
                         kind="points")
SHARE_TO = Column("share_to", "Share, later period (estimate)", "Share of households in the later period, as a "
                   "fraction from 0 to 1. Blank for the total households measure.", "share = estimate / universe",
                   kind="share")
SHARE_TO_MOE = Column("share_to_moe", "Share, later period MOE (90%)",
                       "Margin of error of the later period's share, as a fraction.", metrics.SHARE_MOE.formula,
                       kind="points")
SHARE_CHANGE = Column("share_change", "Change in share", "The later share minus the earlier, as a fraction (0.02 = "
                       "2 percentage points).", "share later − share earlier", kind="points")
SHARE_CHANGE_MOE = Column("share_change_moe", "Change in share MOE (90%)",
                           "Margin of error of the change in share, as a fraction.", _OVERLAP_RULE, kind="points")
SHARE_SIGNIFICANT = Column("share_significant", "Change in share significant (90%)",
                            "Whether the change in share is statistically significant at 90% confidence.", _TEST)
VERDICT = Column("verdict", "Change", f"'{IMPROVED}' or '{WORSENED}' when the change (in share; in households for a "
                 f"measure without a share) is statistically significant, by whether more of the measure is better "
                 f"or worse; '{CANNOT_TELL}' when the survey cannot tell the change from none (or an estimate is "
                 "missing).", "sign of the significant change × the measure's direction")
WARD_COVERAGE = Column("ward_coverage", "Households covered by the ward figures",
                       "Share of the city's households the ward figures of both periods cover, as a fraction: under "
                       "1 when a period on 2010 census tracts leaves out tracts whose GEOID changed in 2020.",
                       "the smaller of the two periods' coverage recorded in the build's manifest", kind="share")
CHANGE_NOTE = Column("note", "Note", "Why a change is missing or must be read with care; empty when there is "
                     "nothing to note.")
CHANGE_VALUE_COLUMNS = [metrics.MEASURE, PERIOD_FROM, PERIOD_TO, OVERLAP_YEARS, OVERLAPPING,
                        COUNT_FROM, COUNT_FROM_MOE, COUNT_TO, COUNT_TO_MOE, COUNT_CHANGE, COUNT_CHANGE_MOE,
                        COUNT_SIGNIFICANT, SHARE_FROM, SHARE_FROM_MOE, SHARE_TO, SHARE_TO_MOE, SHARE_CHANGE,
                        SHARE_CHANGE_MOE, SHARE_SIGNIFICANT, VERDICT]
_DECIMALS = {"count_from": 0, "count_from_moe": 0, "count_to": 0, "count_to_moe": 0, "count_change": 0,
             "count_change_moe": 0, "share_from": 4, "share_from_moe": 4, "share_to": 4, "share_to_moe": 4,
             "share_change": 4, "share_change_moe": 4}


def change_columns(geography_name: str) -> list[Column]:
    """The columns of ``change_table`` for a geography: the area's, the figures', then coverage and note."""
    coverage = [WARD_COVERAGE] if geography_name == "ward" else []
    return [*geography.ID_COLUMNS[geography_name], *CHANGE_VALUE_COLUMNS, *coverage, CHANGE_NOTE]


def change_table(rows: pd.DataFrame, geography_name: str) -> tuple[pd.DataFrame, list[Column]]:
    """Rows of ``between`` for one geography as the table a reader downloads, and its columns.

    Counts are rounded to whole households and shares to four decimals after
    the test of significance (which uses the unrounded figures).
    """
    columns = change_columns(geography_name)
    values = {**rows, "metric_label": rows["metric"].map(lambda k: metrics.METRICS[k].label),
              **{key: rows[key].astype(float).round(d).astype("Int64" if d == 0 else float)
                 for key, d in _DECIMALS.items()}}
    if geography_name in ("community_area", "ward"):
        values["area_id"] = rows["area_id"].astype(int)
    return table(values, columns).reset_index(drop=True), columns


# ---- one area over every period ------------------------------------------------------------------------

def trend(area_rows: pd.DataFrame, city_rows: pd.DataFrame) -> pd.DataFrame:
    """An area's and the city's share of one measure in every period given, with 90% intervals.

    ``area_rows`` and ``city_rows`` are metric rows of one measure (any
    periods). Returns ``who`` (the area's or the city's name), ``year``,
    ``period``, ``share``, ``share_moe``, ``low``, ``high``
    (``estimates.confidence_interval``, kept within 0–1), area rows first.
    """
    rows = pd.concat([area_rows, city_rows], ignore_index=True)
    low, high = estimates.confidence_interval(rows["share"], rows["share_moe"], ceiling=1.0)
    return pd.DataFrame({"who": rows["area_name"], "year": rows["year"].astype(int), "period": rows["period"],
                         "share": rows["share"], "share_moe": rows["share_moe"], "low": low, "high": high})


def in_words(row: Mapping, overlap: bool = True) -> str:
    """One sentence on an area's change (a row of ``between``), in the measure's terms.

    "fell from 17.2% (± 1.1 pts) in 2017–2021 ACS 5-year to 14.6% (± 1.0 pts) in 2019–2023 ACS 5-year, a
    significant drop", or "... : no change that the survey can detect". For a measure without a share,
    households are used. ``overlap``: end with the years the periods share, if any.
    """
    share = row["compared_on"] == "share"
    field = "share" if share else "count"

    def shown(value, moe) -> str:
        if share:
            return f"{value * 100:.1f}% (± {moe * 100:.1f} pts)"
        return f"{value:,.0f} (± {moe:,.0f})"

    before, after = row[f"{field}_from"], row[f"{field}_to"]
    if pd.isna(before) or pd.isna(after):
        return f"cannot be compared between {row['period_from']} and {row['period_to']}: an estimate is missing"
    span = (f"from {shown(before, row[f'{field}_from_moe'])} in {row['period_from']} to "
            f"{shown(after, row[f'{field}_to_moe'])} in {row['period_to']}")
    if row["significant"]:
        words = f"fell {span}, a significant drop" if row["change"] < 0 else f"rose {span}, a significant rise"
    else:
        words = f"went {span}: no change that the survey can detect"
    if overlap and row["overlap_years"] > 0:
        words += f" (the two periods share {row['overlap_years']} of their {targets.PERIOD_YEARS} years)"
    return words


# ---- each area's part of the citywide targets ------------------------------------------------------------

def area_targets(city_targets: pd.DataFrame, metric_table: pd.DataFrame, geography_name: str) -> pd.DataFrame:
    """Each citywide target split among the areas of ``geography_name``: one target per area (``TARGET_COLUMNS``)
    with ``city_target`` (the citywide target's row number, from 1) and ``part_of_gap``.

    The area's part is its share of the baseline gap:

    - a **count** target (e.g. 0 households without a subscription): the
      area's target is its baseline count scaled as the city's is
      (``area baseline × city target / city baseline``), so its part of the
      gap is ``area baseline / city baseline``;
    - a **share** target (e.g. 100% with cable, fiber or DSL): every area
      has the city's target share; its part of the gap is the households it
      is short of that share over the city's (an area already past the
      target has none).

    Areas with no baseline estimate are left out.
    """
    columns = [*target_files.TARGET_COLUMNS, "city_target", "part_of_gap"]
    city = city_targets.reset_index(drop=True)
    city = city[city["geography"] == "city"]
    table_ = metric_table[metric_table["geography"].isin(["city", geography_name])]
    frames = []
    for number, goal in city.iterrows():
        rows = table_[(table_["metric"] == goal["metric"]) & (table_["year"] == int(goal["baseline_year"]))]
        whole = rows[rows["geography"] == "city"]
        areas = rows[(rows["geography"] == geography_name) & rows["count"].notna()]
        if whole.empty or areas.empty:
            continue
        whole = whole.iloc[0]
        direction = 1.0 if metrics.METRICS[goal["metric"]].higher_is_better else -1.0
        target_value = float(goal["target_value"])
        if goal["measure"] == "count":
            if not whole["count"] > 0:
                continue
            part = areas["count"] / whole["count"]
            value = areas["count"] * target_value / whole["count"]
        else:
            areas = areas[areas["share"].notna()]
            short = np.maximum(0.0, (target_value - areas["share"]) * direction) * areas["universe"]
            city_short = max(0.0, (target_value - whole["share"]) * direction) * whole["universe"]
            part = short / city_short if city_short > 0 else pd.Series(np.nan, index=areas.index)
            value = pd.Series(target_value, index=areas.index)
        frames.append(pd.DataFrame({
            "metric": goal["metric"], "geography": geography_name, "area_id": areas["area_id"].to_numpy(),
            "measure": goal["measure"], "baseline_year": int(goal["baseline_year"]), "target_value": value.to_numpy(),
            "target_year": int(goal["target_year"]),
            "source": [f"{p:.1%} of the citywide target's baseline gap, {name}'s part of it ({goal['source']})"
                       if pd.notna(p) else f"{name}'s part of the citywide target ({goal['source']})"
                       for p, name in zip(part, areas["area_name"])],
            "city_target": number + 1, "part_of_gap": part.to_numpy()}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


AREA_PROGRESS_KEYS = ["city_target", "metric", "measure", "geography", "area_id", "area_name", "part_of_gap",
                      "target_value", "target_year", "baseline_period", "baseline_value", "baseline_moe", "period",
                      "value", "moe", "change", "change_moe", "significant", "overlap_years", "status", "reason"]


def area_progress(city_targets: pd.DataFrame, metric_table: pd.DataFrame, geography_name: str) -> pd.DataFrame:
    """Every area's status against its part of each citywide target (``AREA_PROGRESS_KEYS``), judged by
    ``targets.progress`` and ``targets.status`` exactly as the city's targets are, on each target's preferred
    comparison (the latest loaded period)."""
    split = area_targets(city_targets, metric_table, geography_name)
    if split.empty:
        return pd.DataFrame(columns=AREA_PROGRESS_KEYS)
    measured = targets.headline(targets.progress(split[target_files.TARGET_COLUMNS], metric_table))
    extra = split[["city_target", "part_of_gap"]].assign(target_id=np.arange(1, len(split) + 1))
    return measured.merge(extra, on="target_id")[AREA_PROGRESS_KEYS]


_PART = Column("part_of_gap", "Part of the citywide gap",
               "The area's share of the citywide target's baseline gap, as a fraction from 0 to 1.",
               "count targets: area baseline households / city baseline households; share targets: households the "
               "area is short of the target share / households the city is short", kind="share")
AREA_PROGRESS_COLUMNS = [
    Column("target", "Citywide target", "The citywide target the area's part is taken from."),
    _PART,
    Column("area_target", "Area's target", "The area's part of the target in the target's unit: households, or a "
           "share of households (0–1).", "count targets: area baseline × city target / city baseline; share "
           "targets: the city's target share", kind="four significant digits"),
    Column("baseline", "Baseline", "The area's estimate ± 90% MOE for the target's baseline period."),
    Column("latest", "Latest", "The area's estimate ± 90% MOE for the latest loaded period."),
    Column("change_in_words", "Change since baseline", "The latest estimate minus the baseline's, ± its 90% MOE "
           "(adjusted where the periods overlap).", _OVERLAP_RULE),
    Column("significant", "Statistically significant (90%)", "Whether the change is statistically significant.",
           _TEST),
    Column("status", "Status", "As for the city's targets: "
           + next(c.formula for c in targets.PROGRESS_TABLE_COLUMNS if c.key == "status")),
    Column("reason", "Why", "The reason for the status, in words."),
]


def _with_moe(value, moe, measure: str, signed: bool = False) -> str:
    if pd.isna(value):
        return "—"
    if measure == "share":
        text = f"{value * 100:+.1f} pts" if signed else f"{value * 100:.1f}%"
        return f"{text} ± {moe * 100:.1f} pts"
    return f"{value:+,.0f} ± {moe:,.0f}" if signed else f"{value:,.0f} ± {moe:,.0f}"


def area_progress_table(rows: pd.DataFrame, geography_name: str,
                        city_labels: Mapping[int, str]) -> tuple[pd.DataFrame, list[Column]]:
    """Rows of ``area_progress`` as the table a reader downloads, and its columns; ``city_labels`` names each
    citywide target by its row number."""
    names = ([geography.COMMUNITY_AREA_NUMBER, geography.COMMUNITY_AREA] if geography_name == "community_area"
             else [geography.WARD])
    columns = [*names, *AREA_PROGRESS_COLUMNS]
    measure = rows["measure"]
    values = {
        **rows, "area_id": rows["area_id"].astype(int), "target": rows["city_target"].map(city_labels),
        "area_target": [round(v, 4) if m == "share" else round(v) for v, m in zip(rows["target_value"], measure)],
        "baseline": [_with_moe(v, e, m) for v, e, m in zip(rows["baseline_value"], rows["baseline_moe"], measure)],
        "latest": [_with_moe(v, e, m) + f" ({p})" if pd.notna(v) else "—"
                   for v, e, m, p in zip(rows["value"], rows["moe"], measure, rows["period"])],
        "change_in_words": [_with_moe(v, e, m, signed=True) for v, e, m in
                            zip(rows["change"], rows["change_moe"], measure)],
    }
    return table(values, columns).reset_index(drop=True), columns


# ---- where the gap closed ---------------------------------------------------------------------------------

GAP_CLOSED_KEYS = ["rank", "area_id", "area_name", "count_from", "count_to", "count_change", "count_change_moe",
                   "count_significant", "verdict", "part_of_city_change", "cumulative_part", "accounts_for_half"]


def gap_closed(area_changes: pd.DataFrame, city_change: Mapping, portion: float = 0.5) -> pd.DataFrame:
    """The areas ranked by how much of the citywide change in households they account for (``GAP_CLOSED_KEYS``).

    ``area_changes`` are rows of ``between`` for one geography and measure,
    ``city_change`` the city's row. ``part_of_city_change`` is the area's
    change in households over the city's (areas moving against the city
    count negative); ``accounts_for_half`` marks the fewest top areas that
    together account for at least ``portion`` of it. Empty when the city's
    households did not change or an estimate is missing.
    """
    total = city_change["count_change"]
    rows = area_changes[area_changes["count_change"].notna()]
    if rows.empty or pd.isna(total) or total == 0:
        return pd.DataFrame(columns=GAP_CLOSED_KEYS)
    ranked = rows.assign(part_of_city_change=rows["count_change"] / total)
    ranked = ranked.sort_values(["part_of_city_change", "area_id"], ascending=[False, True]).reset_index(drop=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["cumulative_part"] = ranked["part_of_city_change"].cumsum()
    ranked["accounts_for_half"] = ranked["cumulative_part"].shift(fill_value=0.0) < portion
    return ranked[GAP_CLOSED_KEYS]


GAP_CLOSED_COLUMNS = [
    Column("rank", "Rank", "Rank by the part of the citywide change the area accounts for, most first.",
           kind="whole number"),
    geography.AREA,
    COUNT_FROM, COUNT_TO, COUNT_CHANGE, COUNT_CHANGE_MOE, COUNT_SIGNIFICANT, VERDICT,
    Column("part_of_city_change", "Part of the citywide change", "The area's change in households as a fraction of "
           "the city's (negative for an area that moved the other way).", "area change / city change", kind="share"),
    Column("cumulative_part", "Running part", "The parts of this area and every area ranked above it, added.",
           "sum of 'Part of the citywide change' so far", kind="share"),
    Column("accounts_for_half", "Among the areas accounting for half", "True for the fewest top-ranked areas that "
           "together account for at least half of the citywide change.", "True while the running part before this "
           "area is under half."),
]


def gap_closed_table(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[Column]]:
    """Rows of ``gap_closed`` as the table a reader downloads, and its columns."""
    values = {**rows, **{key: rows[key].astype(float).round(0).astype("Int64") for key in
                         ("count_from", "count_to", "count_change", "count_change_moe")}}
    return table(values, GAP_CLOSED_COLUMNS).reset_index(drop=True), GAP_CLOSED_COLUMNS


# ---- colours of a change map -----------------------------------------------------------------------------

CHANGE_PALETTE = ((179, 88, 6), (241, 163, 64), (254, 224, 182), (247, 247, 247), (216, 218, 235),
                  (153, 142, 195), (84, 39, 136))
"""ColorBrewer PuOr, 7 classes (Brewer & Harrower, colorbrewer2.org: colour-blind safe), from worse (orange)
through about no change (near white) to better (purple)."""
NO_CHANGE_CLASS = len(CHANGE_PALETTE) // 2


def change_classes(improvement: pd.Series, spread_quantile: float = 0.95) -> tuple[pd.Series, list[float]]:
    """Diverging classes centred on no change, for each area's change in the measure's good direction.

    The scale is symmetric: with ``w`` one seventh of the largest change
    (its ``spread_quantile``, so that one extreme area does not wash the rest
    out), the class bounds are ``±w``, ``±3w``, ``±5w``: the middle class
    holds changes within ``w`` of none, the outer ones anything beyond
    ``5w``. Returns each area's class (0 = worst, 6 = best, -1 missing) and
    the six bounds, ascending.
    """
    size = np.abs(improvement.to_numpy(dtype=float))
    spread = float(np.nanquantile(size, spread_quantile)) if np.isfinite(size).any() else 0.0
    step = spread / len(CHANGE_PALETTE) if spread > 0 else 1e-9
    bounds = [k * step for k in (-5, -3, -1, 1, 3, 5)]
    values = improvement.to_numpy(dtype=float)
    numbers = np.where(np.isnan(values), -1, np.digitize(values, bounds))
    return pd.Series(numbers, index=improvement.index), bounds
