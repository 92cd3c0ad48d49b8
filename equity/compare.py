"""Comparing areas: against the city, against each other, ranked with uncertainty, combined.

The neighbourhood explorer's arithmetic, as pure functions over the cache's
tables (no Streamlit):

- ``read_sides``: the City of Chicago's nine "sides" (``data/sides.csv``),
  checked to hold each of the 77 community areas exactly once.
- ``ward_sides`` / ``community_areas_in_wards``: sides and wards across the
  two geographies, through the ward x community area household overlap.
- ``compare_with_city`` / ``compare_with_first`` / ``pairwise_comparison``:
  differences with margins of error and the handbook's significance test.
- ``rank_ranges``: each area's rank and the range of ranks its MOE allows.
- ``gap_concentration``: areas ranked by how many households a measure counts
  in them (unconnected households, say), with running totals: where the gap
  is (a Pareto table).
- ``within_range``: threshold filters on any metric.
- ``combine_areas``: combined figures with MOEs for any set of community
  areas or tracts (a custom area, as NYC's Population FactFinder offers).

Significance follows the ACS handbook (2020) ch. 7 through
``equity.estimates``. Community areas and wards are parts of the city, so an
area and the city are not independent samples; the handbook's test ignores
that covariance, as the Census Bureau's own comparison tools do. The bias is
conservative (the true standard error of the difference is smaller).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, estimates, geography, metrics
from .columns import Column, table
from .errors import ValidationError

SIDES = ("Far North Side", "Northwest Side", "North Side", "West Side", "Central", "South Side",
         "Southwest Side", "Far Southwest Side", "Far Southeast Side")
"""The nine sides in the City of Chicago's customary order, north to south."""

SIDES_FILE = config.PROJECT_DATA / "sides.csv"
COMMUNITY_AREA_COUNT = 77

HIGHER_THAN_CITY = "higher than city"
LOWER_THAN_CITY = "lower than city"
NOT_DIFFERENT = "not significantly different"
NO_ESTIMATE = estimates.NO_ESTIMATE
CITY_COMPARISONS = (HIGHER_THAN_CITY, LOWER_THAN_CITY, NOT_DIFFERENT, NO_ESTIMATE)

CUSTOM_ID = "custom"

# ---- the columns of the explorer's tables, declared once -------------------------------------------

_TEST = (f"{estimates.FORMULAS['difference_moe']}; significant when |Z| > {estimates.Z_90}, "
         f"{estimates.FORMULAS['z']}, {estimates.FORMULAS['standard_error']} (ACS handbook 2020, ch. 7 and 8)")
SIDE = Column("side", "Side", "The side of the city the area is on, one of the City's nine: " + ", ".join(SIDES) + ".",
              f"Community areas: the City's standard assignment (project file {SIDES_FILE.name}). Wards: the side "
              "where most of the ward's households live (ACS 2017–2021 households in each ward × community area "
              "overlap), ties to the side listed first.")
COMPARED_WITH_CITY = Column(
    "comparison", "Compared with city (90% test)",
    f"Whether the area's share of households (its households, for a measure without a share) differs from the City "
    f"of Chicago's: '{HIGHER_THAN_CITY}', '{LOWER_THAN_CITY}', '{NOT_DIFFERENT}', or '{NO_ESTIMATE}' where the "
    "area's figure is missing.",
    f"A = area, B = city; {_TEST}. The area is part of the city; like the Census Bureau's tools the test ignores "
    "that, which makes it cautious.")
RANK = Column("rank", "Rank (1 = highest)", "Rank of the area's estimate among all areas of its kind with an estimate "
              "(1 = highest; tied areas share the best rank).", "Ranked on the estimate alone.", kind="whole number")
RANK_BEST = Column("rank_best", "Possible ranks: best",
                   "Best rank the area could hold given the margins of error: ranks from best to worst cannot be told "
                   "apart statistically.",
                   f"1 + the number of areas significantly higher (pairwise tests, |Z| > {estimates.Z_90}, no "
                   "multiple-comparison correction; Wright, Klein & Wieczorek, The American Statistician 73(2), 2019).",
                   kind="whole number")
RANK_WORST = Column("rank_worst", "Possible ranks: worst", "Worst rank the area could hold given the margins of error.",
                    f"Number of ranked areas − the number of areas significantly lower (pairwise tests, |Z| > "
                    f"{estimates.Z_90}).", kind="whole number")
SIGNIFICANCE = Column("comparison", "Significance (90% test)",
                      "Whether the area differs from the first area chosen: 'higher than …', 'lower than …', "
                      f"'{NOT_DIFFERENT}', or '{NO_ESTIMATE}'.", f"A = area, B = first area; {_TEST}.")
COMPARED_ON = Column("compared_on", "Compared on", "What is compared: the share of households, or households for a "
                     "measure without a share.")
DIFFERENCE = Column("difference", "Difference (estimate)", "The area's figure minus the first area's: shares as "
                    "fractions (0.05 = 5 percentage points), households as counts.", "A − B, A = area, B = first area",
                    kind="four decimals")
DIFFERENCE_MOE = Column("difference_moe", "Difference MOE (90%)", "Margin of error of the difference.",
                        estimates.FORMULAS["difference_moe"] + " (ACS handbook ch. 8)", kind="four decimals")
CITY_SHARE = Column("city_share", "City share", "The City of Chicago's share of households for the measure, as a "
                    "fraction from 0 to 1.", "share = estimate / universe", kind="share")


def difference_from(area_name: str) -> Column:
    """The column giving each area's difference from ``area_name`` in words."""
    return Column("difference_in_words", f"Difference from {area_name} ± MOE",
                  f"The area's figure minus {area_name}'s, ± its 90% margin of error, in words (shares in percentage "
                  "points).", f"{estimates.FORMULAS['difference_moe']}, A = area, B = {area_name} (ACS handbook ch. 8)")


# ---- sides of the city ---------------------------------------------------------

def read_sides(path: Path | None = None) -> pd.DataFrame:
    """The community area -> side assignment: ``community_area`` (number as text), ``name``, ``side``.

    The standard assignment of the 77 community areas to nine sides (City of
    Chicago; as listed in Wikipedia's "Community areas in Chicago"). Raises
    ``ValidationError`` naming the problem when the file is missing, lacks a
    column, names an unknown side, or does not hold areas 1-77 exactly once.
    """
    path = Path(path) if path is not None else SIDES_FILE
    if not path.exists():
        raise ValidationError(f"The sides-of-the-city file is missing: {path}.")
    frame = pd.read_csv(path, dtype=str)
    missing = [c for c in ("community_area", "name", "side") if c not in frame.columns]
    if missing:
        raise ValidationError(f"{path}: missing column(s) {', '.join(missing)}; "
                              "expected community_area, name, side.")
    frame = frame[["community_area", "name", "side"]].apply(lambda c: c.str.strip())
    unknown = sorted(set(frame["side"]) - set(SIDES))
    if unknown:
        raise ValidationError(f"{path}: unknown side(s) {', '.join(map(repr, unknown))}; "
                              f"the sides are {', '.join(SIDES)}.")
    expected = {str(n) for n in range(1, COMMUNITY_AREA_COUNT + 1)}
    repeated = sorted(frame.loc[frame["community_area"].duplicated(), "community_area"], key=_numbers_first)
    absent = sorted(expected - set(frame["community_area"]), key=_numbers_first)
    extra = sorted(set(frame["community_area"]) - expected, key=_numbers_first)
    if repeated or absent or extra:
        problems = [f"{label} {', '.join(values)}" for label, values in
                    (("repeated", repeated), ("missing", absent), ("not a community area", extra)) if values]
        raise ValidationError(f"{path}: each of the 77 community areas must appear exactly once ("
                              + "; ".join(problems) + ").")
    return frame.sort_values("community_area", key=lambda c: c.astype(int), ignore_index=True)


def _numbers_first(text: str) -> float:
    """Sort key for ids read from a file: numbers in numeric order, anything else after them."""
    try:
        return float(text)
    except ValueError:
        return float("inf")


def ward_sides(ward_community_areas: pd.DataFrame, sides: pd.DataFrame) -> pd.DataFrame:
    """The side holding the largest share of each ward's households: ``ward, side, share_of_ward``.

    Wards cross side boundaries; a ward is put on the side where most of its
    households live (ACS 2017-2021 households in each ward x community area
    overlap, from ``geography.ward_community_area_overlap``). Ties go to the
    side listed first in ``SIDES``.
    """
    joined = ward_community_areas.merge(sides[["community_area", "side"]], on="community_area", how="inner")
    by_side = joined.groupby(["ward", "side"], as_index=False)["share_of_ward"].sum()
    by_side["_order"] = by_side["side"].map({s: i for i, s in enumerate(SIDES)})
    by_side = by_side.sort_values(["ward", "share_of_ward", "_order"], ascending=[True, False, True])
    out = by_side.drop_duplicates("ward")[["ward", "side", "share_of_ward"]]
    return out.sort_values("ward", key=lambda c: c.astype(int), ignore_index=True)


def community_areas_in_wards(ward_community_areas: pd.DataFrame, wards: Iterable[str]) -> list[str]:
    """Community areas that share households with any of ``wards`` (sorted by number).

    Uses the ward x community area overlap, which already drops boundary
    slivers holding under 0.5% of a ward's households.
    """
    chosen = {str(w) for w in wards}
    rows = ward_community_areas[ward_community_areas["ward"].astype(str).isin(chosen)]
    return sorted(rows["community_area"].astype(str).unique(), key=int)


# ---- filters --------------------------------------------------------------------

def within_range(values: pd.Series, minimum: float | None = None, maximum: float | None = None) -> pd.Series:
    """Which values lie in ``[minimum, maximum]`` (either bound may be None: open).

    A missing value passes only when no bound is set: a threshold cannot be
    said to be met by an estimate the Census Bureau did not publish.
    """
    keep = pd.Series(True, index=values.index)
    if minimum is not None:
        keep &= values >= minimum
    if maximum is not None:
        keep &= values <= maximum
    if minimum is not None or maximum is not None:
        keep &= values.notna()
    return keep.fillna(False).astype(bool)


# ---- significance ---------------------------------------------------------------

def compare_with_city(estimate: pd.Series, moe: pd.Series, city_estimate, city_moe,
                      z: float = estimates.Z_90) -> pd.DataFrame:
    """Each area's difference from the city value, its MOE, Z and a label in words.

    ``city_estimate`` and ``city_moe`` are one value for all rows, or Series
    on the same index as ``estimate`` (e.g. one city value per metric).

    ``difference = estimate - city`` with ``MOE = sqrt(MOE_area^2 +
    MOE_city^2)`` (handbook ch. 8) and the ch. 7 test ``|Z| > 1.645``
    (``estimates.significantly_different``). Labels: "higher than city",
    "lower than city", "not significantly different", or "no estimate"
    where the area's figure is missing. See the module docstring on the
    area being part of the city.
    """
    city = pd.Series(city_estimate, index=estimate.index, dtype=float)
    city_err = pd.Series(city_moe, index=estimate.index, dtype=float)
    difference, difference_moe = estimates.difference(estimate, moe, city, city_err)
    statistic = estimates.significance_z(estimate, moe, city, city_err)
    significant = estimates.significantly_different(estimate, moe, city, city_err, z=z)
    label = np.select([estimate.isna() | moe.isna(), significant & (difference > 0), significant],
                      [NO_ESTIMATE, HIGHER_THAN_CITY, LOWER_THAN_CITY], default=NOT_DIFFERENT)
    return pd.DataFrame({"difference": difference, "difference_moe": difference_moe, "z": statistic,
                         "comparison": pd.Series(label, index=estimate.index, dtype=object)})


def _significance_matrix(estimate: np.ndarray, moe: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """``higher[i, j]``: area i significantly above area j; ``lower[i, j]``: significantly below."""
    a, a_moe = estimate[:, None], moe[:, None]
    b, b_moe = estimate[None, :], moe[None, :]
    significant = np.asarray(estimates.significantly_different(a, a_moe, b, b_moe, z=z), dtype=bool)
    with np.errstate(invalid="ignore"):
        higher = significant & (a - b > 0)
        lower = significant & (a - b < 0)
    return higher, lower


def rank_ranges(estimate: pd.Series, moe: pd.Series, descending: bool = True,
                z: float = estimates.Z_90) -> pd.DataFrame:
    """Each area's rank and the range of ranks consistent with the margins of error.

    ``rank`` is the rank of the estimate (1 = highest when ``descending``;
    ties share the best rank). The range comes from pairwise tests (handbook
    ch. 7, ``estimates.significantly_different``): an area cannot rank above
    the areas significantly higher than it, nor below those significantly
    lower, so ``rank_best = 1 + #(significantly higher)`` and ``rank_worst =
    n - #(significantly lower)``. This is the pairwise reading of the Census
    Bureau's ranking guidance (Wright, Klein & Wieczorek, "A Primer on
    Visualizations for Comparing Populations, Including the Issue of
    Overlapping Confidence Intervals", The American Statistician 73(2), 2019).
    Each pair is tested at 90% without a multiple-comparison correction, so
    the range is narrower than a joint 90% confidence region for all ranks
    (Klein, Wright & Wieczorek, JRSS C 69(3), 2020). Areas with a missing
    estimate or MOE get no rank and are left out of ``n``.
    """
    est = estimate.to_numpy(dtype=float, na_value=np.nan)
    err = moe.to_numpy(dtype=float, na_value=np.nan)
    valid = ~(np.isnan(est) | np.isnan(err))
    rank = pd.Series(np.where(valid, est, np.nan), index=estimate.index).rank(
        ascending=not descending, method="min")
    higher, lower = _significance_matrix(np.where(valid, est, np.nan), np.where(valid, err, np.nan), z)
    above, below = (lower, higher) if descending else (higher, lower)
    n = int(valid.sum())
    best = np.where(valid, 1 + above.sum(axis=1), np.nan)
    worst = np.where(valid, n - below.sum(axis=1), np.nan)
    return pd.DataFrame({"rank": rank.to_numpy(), "rank_best": best, "rank_worst": worst},
                        index=estimate.index).astype("Float64").round(0).astype("Int64")


def ranking(rows: pd.DataFrame, city: pd.Series, value: str = "share", descending: bool = True) -> pd.DataFrame:
    """One metric's rows for one geography and year, ranked with uncertainty and compared with the city.

    ``rows`` are cache metric rows (one per area); ``city`` is the city's
    row for the same metric and year. ``value`` ("share" or "count") is what
    is ranked. The city comparison is always made on the share (a count
    cannot be compared with the whole city's count), or on the count for
    metrics without a share. Adds ``difference``, ``difference_moe``, ``z``,
    ``comparison`` (``compare_with_city``), ``rank``, ``rank_best``,
    ``rank_worst`` (``rank_ranges``), and ``value``, ``value_moe``,
    ``lower``, ``upper`` (the ranked figure and its 90% interval).
    """
    if value not in ("share", "count"):
        raise ValueError(f"value must be 'share' or 'count', not {value!r}")
    out = rows.reset_index(drop=True).copy()
    compared = metrics.METRICS[out["metric"].iloc[0]].compared_on if len(out) else "share"
    vs_city = compare_with_city(out[compared], out[f"{compared}_moe"], city[compared], city[f"{compared}_moe"])
    ranks = rank_ranges(out[value], out[f"{value}_moe"], descending=descending)
    lower, upper = estimates.confidence_interval(out[value], out[f"{value}_moe"],
                                                 ceiling=1.0 if value == "share" else None)
    ranked = pd.DataFrame({"value": out[value], "value_moe": out[f"{value}_moe"], "lower": lower, "upper": upper})
    return pd.concat([out, vs_city, ranks, ranked], axis=1)


def compare_with_first(metric_rows: pd.DataFrame, area_ids: list[str]) -> pd.DataFrame:
    """Every metric for the chosen areas, each later area tested against the first.

    ``metric_rows`` are cache rows for one geography and year. For each
    metric, the share (count for metrics without a share) of each area after
    the first is compared with the first area's: difference, its MOE
    (handbook ch. 8) and "higher than <first>", "lower than <first>" or "not
    significantly different" (ch. 7). The first area's own rows get an empty
    comparison. Rows come in the order of ``area_ids``, then metric order.
    """
    if not area_ids:
        raise ValidationError("Choose at least one area to compare.")
    chosen = metric_rows[metric_rows["area_id"].isin(area_ids)].copy()
    absent = [a for a in area_ids if a not in set(chosen["area_id"])]
    if absent:
        raise ValidationError(f"No figures for area(s) {', '.join(absent)} in these rows.")
    chosen["_area_order"] = chosen["area_id"].map({a: i for i, a in enumerate(area_ids)})
    chosen["_metric_order"] = chosen["metric"].map({k: i for i, k in enumerate(metrics.METRICS)})
    chosen = chosen.sort_values(["_area_order", "_metric_order"], ignore_index=True)
    chosen["compared"] = chosen["metric"].map(lambda k: metrics.METRICS[k].compared_on)
    has_share = chosen["compared"] == "share"
    chosen["value"] = np.where(has_share, chosen["share"], chosen["count"])
    chosen["value_moe"] = np.where(has_share, chosen["share_moe"], chosen["count_moe"])
    first = chosen[chosen["area_id"] == area_ids[0]].set_index("metric")
    first_name = str(first["area_name"].iloc[0])
    base = chosen["metric"].map(first["value"]).astype(float)
    base_moe = chosen["metric"].map(first["value_moe"]).astype(float)
    difference, difference_moe = estimates.difference(chosen["value"].astype(float), chosen["value_moe"].astype(float),
                                                      base, base_moe)
    significant = estimates.significantly_different(chosen["value"].astype(float), chosen["value_moe"].astype(float),
                                                    base, base_moe)
    is_first = chosen["area_id"] == area_ids[0]
    missing = chosen["value"].isna() | base.isna()
    chosen["difference"] = difference.where(~is_first)
    chosen["difference_moe"] = difference_moe.where(~is_first)
    chosen["comparison"] = np.select(
        [is_first, missing, significant & (difference > 0), significant],
        ["", NO_ESTIMATE, f"higher than {first_name}", f"lower than {first_name}"], default=NOT_DIFFERENT)
    return chosen.drop(columns=["_area_order", "_metric_order", "value", "value_moe"])


def pairwise_comparison(names: pd.Series, estimate: pd.Series, moe: pd.Series) -> pd.DataFrame:
    """Matrix of handbook ch. 7 tests: cell (row, column) says whether the row area is higher or lower.

    Cells read "higher", "lower", "not different" or "" on the diagonal;
    rows and columns are labelled with ``names``. Each pair is one test at
    90% (no multiple-comparison correction).
    """
    est = estimate.to_numpy(dtype=float, na_value=np.nan)
    err = moe.to_numpy(dtype=float, na_value=np.nan)
    higher, lower = _significance_matrix(est, err, estimates.Z_90)
    cells = np.where(higher, "higher", np.where(lower, "lower", "not different")).astype(object)
    missing = np.isnan(est) | np.isnan(err)
    cells[missing, :] = NO_ESTIMATE
    cells[:, missing] = NO_ESTIMATE
    np.fill_diagonal(cells, "")
    labels = list(names.astype(str))
    return pd.DataFrame(cells, index=labels, columns=labels)


# ---- where the gap is: areas ranked by households counted ----------------------

GAP_COLUMNS = ["rank", "area_id", "area_name", "count", "count_moe", "count_low", "count_high",
               "count_reliability", "share_of_total",
               "share_of_total_moe", "cumulative_count", "cumulative_count_moe", "cumulative_share",
               "holds_first_half"]


def gap_concentration(metric_table: pd.DataFrame, geography_name: str, metric: str, year: int,
                      portion: float = 0.5) -> pd.DataFrame:
    """Areas ranked by households counted (most first), with running totals: a Pareto table.

    ``share_of_total`` is the area's part of the sum over all areas
    (``estimates.proportion``: the area is a subset of the total);
    ``cumulative_count`` and its MOE sum the areas so far
    (``estimates.grouped_sum``, handbook ch. 8 aggregated counts);
    ``holds_first_half`` marks the fewest top areas that together hold at
    least ``portion`` of the total. Areas with no estimate are left out (the
    caller can report them). Ranks of areas whose intervals overlap are not
    statistically distinguishable.
    """
    rows = metric_table[(metric_table["geography"] == geography_name) & (metric_table["metric"] == metric)
                        & (metric_table["year"] == year) & metric_table["count"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    ranked = rows.sort_values(["count", "area_id"], ascending=[False, True]).reset_index(drop=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    n = len(ranked)
    upto = np.repeat(np.arange(1, n + 1), np.arange(1, n + 1))
    members = np.concatenate([np.arange(k) for k in range(1, n + 1)])
    expanded = pd.DataFrame({"upto": upto, "estimate": ranked["count"].to_numpy()[members],
                             "moe": ranked["count_moe"].to_numpy()[members]})
    cumulative = estimates.grouped_sum(expanded, "upto").sort_values("upto")
    ranked["cumulative_count"] = cumulative["estimate"].to_numpy()
    ranked["cumulative_count_moe"] = cumulative["moe"].to_numpy()
    total, total_moe = ranked["cumulative_count"].iloc[-1], ranked["cumulative_count_moe"].iloc[-1]
    ranked["share_of_total"], ranked["share_of_total_moe"] = estimates.proportion(
        ranked["count"], ranked["count_moe"], pd.Series(total, index=ranked.index),
        pd.Series(total_moe, index=ranked.index))
    ranked["cumulative_share"] = ranked["cumulative_count"] / total
    ranked["count_low"], ranked["count_high"] = estimates.confidence_interval(ranked["count"], ranked["count_moe"])
    before = ranked["cumulative_share"].shift(fill_value=0.0)
    ranked["holds_first_half"] = before < portion
    return ranked[GAP_COLUMNS]


_RUNNING = "Sum of this area's and every higher-ranked area's households"
GAP_TABLE_COLUMNS = [
    Column("rank", "Rank", "Rank by households counted, most first.", kind="whole number"),
    geography.AREA,
    Column("count", "Households", "Households counted by the measure in the area (estimate).", kind="count"),
    metrics.COUNT_MOE,
    dataclasses.replace(metrics.RELIABILITY, key="count_reliability"),
    Column("share_of_total", "Share of the total", "The area's part of the households counted in all areas, as a "
           "fraction from 0 to 1.", "households / total of all areas; MOE by the ACS handbook's proportion formula "
           "(ch. 8), the area being part of the total.", kind="share"),
    Column("share_of_total_moe", "Share of the total MOE (90%)", "Margin of error of the share of the total, as a "
           "fraction.", f"{estimates.FORMULAS['share_moe']}, X the area's households and Y the total (ACS "
           "handbook 2020, ch. 8, proportions; the ratio formula where the root is negative).", kind="points"),
    Column("cumulative_count", "Running total", "Households in this area and every area ranked above it.",
           _RUNNING + " (ACS handbook ch. 8, aggregated counts).", kind="count"),
    Column("cumulative_count_moe", "Running total MOE (90%)", "Margin of error of the running total.",
           f"{estimates.FORMULAS['sum']} over the areas summed, the largest MOE among zero estimates counted once "
           "(ACS handbook ch. 8).", kind="count"),
    Column("cumulative_share", "Running share", "The running total as a fraction of the total of all areas.",
           "running total / total of all areas", kind="share"),
    Column("holds_first_half", "Among the areas holding half", "True for the fewest top-ranked areas that together "
           "hold at least half of the households counted.", "True while the running share before this area is under "
           "half."),
]
"""The columns of ``gap_table``."""


def gap_table(gap: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``gap_concentration`` as the table a reader downloads (``GAP_TABLE_COLUMNS``)."""
    return table(gap, GAP_TABLE_COLUMNS)


# ---- names -----------------------------------------------------------------------

def tract_labels(community_area_crosswalk: pd.DataFrame, community_area_names: pd.Series) -> pd.Series:
    """Label per tract, "Census tract 101 (Rogers Park)": the community area holding most of its households.

    ``community_area_crosswalk`` is ``tract, target, weight`` for one tract
    vintage; ``community_area_names`` maps community area number to name.
    Returns a Series indexed by tract GEOID, in GEOID order.
    """
    main = (community_area_crosswalk.sort_values(["tract", "weight"], ascending=[True, False])
            .drop_duplicates("tract").set_index("tract")["target"])
    names = main.map(community_area_names).fillna("")
    labels = [geography.tract_name(t) + (f" ({n})" if n else "") for t, n in zip(main.index, names)]
    return pd.Series(labels, index=main.index, dtype=object).sort_index()


# ---- custom areas ---------------------------------------------------------------

def combined_crosswalk(crosswalks: pd.DataFrame, geography_name: str, area_ids: Iterable[str], year: int,
                       target: str = CUSTOM_ID) -> pd.DataFrame:
    """Crosswalk carrying the tracts of ``area_ids`` to one target (``tract, target, weight``).

    Rows of the cache's crosswalks for ``geography_name`` on the tract
    vintage of ``year`` (``geography.tract_vintage``), restricted to the
    chosen areas. A tract split between two chosen areas gets the sum of its
    shares (at most 1), so it enters the sum once: its pieces are the same
    survey responses, and adding them as separate estimates would understate
    the MOE (sqrt(w1^2 + w2^2) instead of w1 + w2 times the tract's MOE).
    Raises ``ValidationError`` naming any id that is not an area of that
    geography.
    """
    ids = [str(a) for a in area_ids]
    if not ids:
        raise ValidationError("Choose at least one area to combine.")
    vintage = geography.tract_vintage(int(year))
    rows = crosswalks[(crosswalks["geography"] == geography_name) & (crosswalks["vintage"] == vintage)]
    if rows.empty:
        raise ValidationError(f"There is no {geography_name} crosswalk for {vintage} census tracts.")
    unknown = [a for a in ids if a not in set(rows["target"])]
    if unknown:
        label = geography.GEOGRAPHY_LABELS.get(geography_name, geography_name).lower()
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise ValidationError(f"Not a {label} on {vintage} census tracts: {shown}.")
    chosen = rows[rows["target"].isin(ids)]
    out = chosen.groupby("tract", as_index=False)["weight"].sum()
    out["weight"] = out["weight"].clip(upper=1.0)
    out.insert(1, "target", target)
    return out[geography.CROSSWALK_COLUMNS]


def combine_areas(tract_table: pd.DataFrame, crosswalks: pd.DataFrame, geography_name: str,
                  area_ids: Iterable[str], year: int, name: str = "Custom area") -> pd.DataFrame:
    """Every metric, with MOEs, for the combination of ``area_ids`` (community areas, wards or tracts).

    The chosen areas' tracts are carried to one target with
    ``combined_crosswalk`` and ``geography.apportion`` (household-weighted
    sums, handbook ch. 8 sum formula, zero-estimate rule), then measured
    with ``metrics.compute_metrics`` exactly as the published areas are.
    Returns cache-style metric rows with ``geography`` "custom", ``area_id``
    "custom", ``area_name`` ``name`` and ``period``.
    """
    crosswalk = combined_crosswalk(crosswalks, geography_name, area_ids, year)
    year_table = tract_table[tract_table["year"] == int(year)]
    if year_table.empty:
        raise ValidationError(f"The tract table has no rows for ACS year {year}.")
    rows = metrics.compute_metrics(geography.apportion(year_table, crosswalk))
    rows.insert(0, "geography", geography.CUSTOM_GEOGRAPHY)
    rows["area_name"] = name
    rows["period"] = rows["year"].map(metrics.period_label)
    return rows


# ---- the explorer's tables, under the columns declared above ------------------------------------

def _number(area_id: str) -> int:
    return int(area_id) if area_id.isdigit() else 0


def ranking_table(ranked: pd.DataFrame, geography_name: str, value: str,
                  has_share: bool) -> tuple[pd.DataFrame, list[Column]]:
    """The ranking as a table (rows of ``ranking`` with a ``side``), and its columns.

    Ward tables name a ward by its number only; the share columns are left
    out for a measure without a share. Reliability is that of the ranked
    ``value``.
    """
    if geography_name == "community_area":
        names = [geography.COMMUNITY_AREA_NUMBER, geography.COMMUNITY_AREA]
    else:
        names = [geography.WARD]
    shares = [metrics.SHARE, metrics.SHARE_MOE] if has_share else []
    reliability = metrics.SHARE_RELIABILITY if value == "share" else metrics.COUNT_RELIABILITY
    columns = [*names, SIDE, *shares, metrics.COUNT, metrics.COUNT_MOE, reliability, COMPARED_WITH_CITY, RANK,
               RANK_BEST, RANK_WORST]
    values = {**ranked, "area_id": ranked["area_id"].map(_number), "count": ranked["count"].round(0),
              "count_moe": ranked["count_moe"].round(0)}
    return table(values, columns), columns


def difference_in_words(difference: float, moe: float, compared_on: str) -> str:
    """"+21.9 pts ± 3.1" for shares, "-51,431 ± 1,958" for household counts; "—" when missing."""
    if pd.isna(difference):
        return "—"
    if compared_on == "share":
        return f"{difference * 100:+.1f} pts ± {moe * 100:.1f}"
    return f"{difference:+,.0f} ± {moe:,.0f}"


def differences_table(side_by_side: pd.DataFrame, first_id: str) -> tuple[pd.DataFrame, list[Column]]:
    """Each area's differences from the first (rows of ``compare_with_first``), and the table's columns."""
    first_name = str(side_by_side.loc[side_by_side["area_id"] == first_id, "area_name"].iloc[0])
    rows = side_by_side[side_by_side["area_id"] != first_id]
    columns = [geography.AREA, metrics.MEASURE, difference_from(first_name), SIGNIFICANCE, COMPARED_ON, DIFFERENCE,
               DIFFERENCE_MOE]
    values = {**rows, "metric_label": rows["metric"].map(lambda k: metrics.METRICS[k].label),
              "difference_in_words": [difference_in_words(r["difference"], r["difference_moe"], r["compared"])
                                      for _, r in rows.iterrows()],
              "compared_on": rows["compared"].map({"share": "share of households", "count": "households"})}
    return table(values, columns), columns


def side_by_side_table(side_by_side: pd.DataFrame, area_ids: Sequence[str], names: Mapping[str, str],
                       shown: pd.Series) -> pd.DataFrame:
    """Every measure beside the chosen areas: a row per measure (``metrics.METRICS``' order) named in the first
    column (``metrics.MEASURE``), then a column per area in the order of ``area_ids``, headed by its name from
    ``names``. A cell holds ``shown``, the value to show for that row of ``side_by_side`` (rows of
    ``compare_with_first``; ``shown`` shares their index), such as the figure with its MOE in words."""
    wide = (side_by_side.assign(shown=shown).pivot(index="metric", columns="area_id", values="shown")
            .reindex([k for k in metrics.METRICS if k in set(side_by_side["metric"])])[list(area_ids)])
    wide = wide.rename(columns=names).rename_axis(None, axis=1)
    wide.insert(0, metrics.MEASURE.label, wide.index.map(lambda k: metrics.METRICS[k].label))
    return wide.reset_index(drop=True)


CUSTOM_AREA_COLUMNS = [metrics.MEASURE, metrics.COUNT, metrics.COUNT_MOE, metrics.COUNT_RELIABILITY, metrics.SHARE,
                       metrics.SHARE_MOE, metrics.SHARE_RELIABILITY, CITY_SHARE, COMPARED_WITH_CITY]


def custom_area_table(rows: pd.DataFrame, city_rows: pd.DataFrame) -> pd.DataFrame:
    """A custom area's figures (``combine_areas``) beside the city's share (``CUSTOM_AREA_COLUMNS``).

    ``city_rows`` are the city's metric rows for the same period. The share
    is compared with the city's; a measure without a share gets no comparison.
    """
    rows = rows.set_index("metric")
    city = city_rows.set_index("metric").reindex(rows.index)
    test = compare_with_city(rows["share"], rows["share_moe"], city["share"], city["share_moe"])
    test.loc[rows["share"].isna(), "comparison"] = ""
    values = {**rows, "metric_label": rows.index.map(lambda k: metrics.METRICS[k].label),
              "count": rows["count"].round(0), "count_moe": rows["count_moe"].round(0),
              "city_share": city["share"], "comparison": test["comparison"]}
    return table(values, CUSTOM_AREA_COLUMNS).reset_index(drop=True)
