"""Chicago Public Library branches: where people can get online, beside the need.

The branches and their public computer sessions come from the snapshot's raw
files through ``equity.library_files``; this module measures access and
sessions over the years.

Distances are measured in EPSG:3435 (NAD83 / Illinois East, US survey feet)
and reported in miles (5,280 feet).

Access beside the need (``area_access``), for every community area and ward:

- ``branches_inside``: branch points inside the area's polygon;
- ``branches_near``: branches inside the area or within ``NEAR_MILES`` (1 mile)
  of its boundary, the branches the area's residents can reasonably use;
- ``mean_miles_to_nearest_branch``: household-weighted straight-line miles to
  the nearest branch, over the pieces of 2020 block groups in the area (each
  piece's representative point carrying its share of the block group's ACS
  2017–2021 households), never the polygon centroid;
- ``unconnected_per_branch``: unconnected households in the area divided by
  ``branches_near``, with its MOE (a fixed count scales the MOE);
- ``access_gap``: the flag ``flag_access_gaps`` defines: at least the median
  number of unconnected households among areas of the same geography and
  period, AND households on average more than ``CLOSE_MILES`` (0.75 mile,
  about a 15-minute walk) from their nearest branch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import STRtree

from . import estimates, geography, library_files, metrics
from .columns import Column, renamed, table
from .errors import ValidationError

PROJECTED_CRS = "EPSG:3435"  # NAD83 / Illinois East, US survey feet
GEOGRAPHIC_CRS = "EPSG:4326"
# A US survey mile is 5,280 US survey feet; it differs from the international
# mile by 2 parts per million, far below the precision of a branch location.
FEET_PER_MILE = 5280.0

ANNUAL_COLUMNS = ["branch_key", "branch", "year", "sessions", "months_reported",
                  "months_with_sessions", "partial_year"]

NEAR_MILES = 1.0
"""A branch is "nearby" an area when it is inside it or within this many miles of its boundary."""
CLOSE_MILES = 0.75
"""Households are "close" to a branch when their mean distance to the nearest one is at most this
(0.75 mile is about a 15-minute walk at 3 miles an hour)."""
SURROUNDING_MILES = 1.0
"""A branch's surrounding tracts: tracts whose representative point is within this many miles."""
MANY_UNCONNECTED_QUANTILE = 0.5
"""Areas at or above this quantile (the median) of unconnected households among areas of the same
geography and ACS period have "many" unconnected households."""

ACCESS_COLUMNS = ["geography", "area_id", "area_name", "year", "branches_inside", "branch_names",
                  "branches_near", "mean_miles_to_nearest_branch", "households_located",
                  "unconnected", "unconnected_moe", "unconnected_per_branch",
                  "unconnected_per_branch_moe", "many_unconnected", "branch_close", "access_gap"]
SURROUNDING_COLUMNS = ["branch_key", "year", "tracts", "unconnected", "unconnected_moe"]


def branches_geodataframe(branches: pd.DataFrame) -> gpd.GeoDataFrame:
    """The branches as WGS84 (EPSG:4326) points from ``longitude``/``latitude``."""
    missing = [column for column in ("latitude", "longitude") if column not in branches.columns]
    if missing:
        raise ValidationError(f"branches table has no {', '.join(missing)} column(s).")
    return gpd.GeoDataFrame(branches.copy(),
                            geometry=gpd.points_from_xy(branches["longitude"], branches["latitude"]),
                            crs=GEOGRAPHIC_CRS)


def _projected(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValidationError(f"{what} must be a GeoDataFrame, got {type(frame).__name__}.")
    if frame.crs is None:
        raise ValidationError(f"{what} has no CRS; set one (e.g. EPSG:4326) before measuring distances.")
    return frame.to_crs(PROJECTED_CRS)


def nearest_branch_distance(points: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> pd.Series:
    """Straight-line miles from each point to its nearest branch.

    Method: both layers projected to EPSG:3435 (US feet); a shapely STRtree
    of the branches answers ``query_nearest`` for every point; feet / 5,280.
    Indexed like ``points``; NaN for empty or missing geometries.
    """
    points_ft = _projected(points, "points")
    branches_ft = _projected(branches, "branches")
    branch_geometries = branches_ft.geometry.values
    branch_geometries = branch_geometries[~(branch_geometries.isna() | branch_geometries.is_empty)]
    if len(branch_geometries) == 0:
        raise ValidationError("branches has no geometries to measure distances to.")
    miles = np.full(len(points_ft), np.nan)
    geometries = points_ft.geometry.values
    present = np.flatnonzero(~(geometries.isna() | geometries.is_empty))
    if len(present):
        tree = STRtree(np.asarray(branch_geometries))
        (inputs, _), feet = tree.query_nearest(np.asarray(geometries[present]), return_distance=True,
                                               all_matches=False)
        miles[present[inputs]] = feet / FEET_PER_MILE
    return pd.Series(miles, index=points.index, name="miles_to_nearest_branch")


def household_weighted_distance(points: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> pd.DataFrame:
    """Household-weighted mean miles to the nearest branch, per area.

    Method: for each point (e.g. a block group's or tract's representative
    point, carrying its ``households``), the miles to its nearest branch
    (``nearest_branch_distance``); per ``area_id``,
    sum(households x miles) / sum(households). The polygon centroid of the
    area is not used: the mean follows where households live. An area whose
    points hold no households has a NaN mean.
    Returns ``area_id``, ``mean_miles_to_nearest_branch``, ``households``.
    """
    missing = [column for column in ("area_id", "households") if column not in points.columns]
    if missing:
        raise ValidationError(f"points has no {', '.join(missing)} column(s); expected area_id and "
                              f"households.")
    households = pd.to_numeric(points["households"], errors="coerce")
    if households.isna().any() or (households < 0).any():
        bad = points.loc[households.isna() | (households < 0), "households"].iloc[0]
        raise ValidationError(f"points column households has {bad!r}; expected a count of 0 or more.")
    miles = nearest_branch_distance(points, branches)
    frame = pd.DataFrame({"area_id": points["area_id"].to_numpy(),
                          "weighted": (households * miles).to_numpy(),
                          "households": households.to_numpy()})
    totals = frame.groupby("area_id", sort=False)[["weighted", "households"]].sum()
    totals["mean_miles_to_nearest_branch"] = (totals["weighted"] / totals["households"]
                                             ).where(totals["households"] > 0)
    return totals.reset_index()[["area_id", "mean_miles_to_nearest_branch", "households"]]


def _count_branches(areas_ft: gpd.GeoDataFrame, branches_ft: gpd.GeoDataFrame, count_column: str):
    names = branches_ft["branch"] if "branch" in branches_ft.columns else pd.Series(
        [str(index) for index in branches_ft.index], index=branches_ft.index)
    joined = gpd.sjoin(gpd.GeoDataFrame({"branch": names}, geometry=branches_ft.geometry),
                       areas_ft[["area_id", "geometry"]], predicate="intersects")
    grouped = joined.groupby("area_id")["branch"]
    counts = grouped.size().reindex(areas_ft["area_id"], fill_value=0)
    listed = grouped.apply(lambda values: "; ".join(sorted(values))).reindex(areas_ft["area_id"],
                                                                             fill_value="")
    return pd.DataFrame({"area_id": areas_ft["area_id"].to_numpy(),
                         count_column: counts.to_numpy().astype(int),
                         "branch_names": listed.to_numpy()})


def _areas_projected(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "area_id" not in getattr(areas, "columns", []):
        raise ValidationError("areas has no area_id column.")
    repeated = areas["area_id"][areas["area_id"].duplicated()]
    if len(repeated):
        raise ValidationError(f"areas column area_id repeats {repeated.iloc[0]!r}; "
                              f"dissolve to one polygon per area first.")
    return _projected(areas, "areas")


def branches_within(areas: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> pd.DataFrame:
    """Branches inside each area: ``area_id``, ``branches_inside``, ``branch_names``.

    Method: spatial join in EPSG:3435, a branch counts for an area when its
    point intersects the polygon (a branch exactly on a shared boundary counts
    for both areas). Every area is returned; ``branch_names`` is "; "-joined
    and sorted, empty when there is none.
    """
    return _count_branches(_areas_projected(areas), _projected(branches, "branches"), "branches_inside")


def branches_near(areas: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, miles: float = 1.0) -> pd.DataFrame:
    """Branches within ``miles`` of each area: ``area_id``, ``branches_near``, ``branch_names``.

    Method: each area's polygon is buffered by ``miles`` x 5,280 feet in
    EPSG:3435 and the branches intersecting the buffer are counted; branches
    inside the area are included.
    """
    if not np.isfinite(miles) or miles < 0:
        raise ValidationError(f"miles must be a distance of 0 or more, got {miles!r}.")
    areas_ft = _areas_projected(areas)
    buffered = areas_ft.assign(geometry=areas_ft.geometry.buffer(miles * FEET_PER_MILE))
    return _count_branches(buffered, _projected(branches, "branches"), "branches_near")


# ---- sessions over the years ---------------------------------------------------------------------

def annual_sessions(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions per branch and year, with how many months were reported.

    Method: sum of the monthly sessions (the files' YTD equals this sum in
    every year of the snapshot); ``months_reported`` counts months with a
    value (blank months are not reported; zero is a report);
    ``months_with_sessions`` counts months above zero (zero months mark
    closures such as renovations); ``partial_year`` is true when fewer than
    12 months were reported, as for 2023 (January–April).
    """
    keys = ["branch_key", "branch", "year"]
    grouped = sessions.groupby(keys, sort=True)["sessions"]
    positive = (sessions["sessions"] > 0).astype(int).groupby([sessions[k] for k in keys], sort=True)
    annual = pd.DataFrame({
        "sessions": grouped.sum(min_count=1),
        "months_reported": grouped.count(),
        "months_with_sessions": positive.sum(),
    }).reset_index()
    annual["partial_year"] = annual["months_reported"] < 12
    return annual[ANNUAL_COLUMNS]


def full_years(annual: pd.DataFrame) -> list[int]:
    """Years in which every branch reporting sessions reported all 12 months (2023 is not one)."""
    partial = annual.groupby("year")["partial_year"].any()
    return sorted(int(year) for year in partial.index[~partial])


def year_over_year(annual: pd.DataFrame) -> pd.DataFrame:
    """Annual sessions with the change from the previous year, for full years only.

    Method: per branch, sorted by year, ``previous_sessions`` is the sessions of
    the calendar year before; ``change`` = sessions - previous_sessions and
    ``percent_change`` = change / previous_sessions x 100. Both are NaN when
    either year is partial (fewer than 12 months reported, as 2023) or
    missing, so a partial year is never compared as if it were whole; also
    NaN for the percent when the previous year had no sessions.
    """
    out = annual.sort_values(["branch_key", "year"]).reset_index(drop=True)
    previous = out.groupby("branch_key")[["year", "sessions", "partial_year"]].shift(1)
    comparable = ((previous["year"] == out["year"] - 1) & ~out["partial_year"]
                  & (previous["partial_year"] == False))  # noqa: E712 (NaN for a first year is not False)
    out["previous_sessions"] = previous["sessions"].where(comparable)
    out["change"] = out["sessions"] - out["previous_sessions"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["percent_change"] = (out["change"] / out["previous_sessions"] * 100).where(
            out["previous_sessions"] > 0)
    return out


# ---- access beside the need ------------------------------------------------------------------------

def household_points(block_groups: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Where the households of each area live: one point per block-group piece, with its households.

    Method: the block groups (``geography.read_block_groups``: 2020 TIGER
    block groups with ACS 2017–2021 households) are cut by the areas in
    EPSG:3435 and each piece gets the block group's households times its share
    of the block group's land (the ward crosswalk's own split,
    ``geography.household_pieces``). The piece's representative point
    (always inside the piece) stands for its households. Pieces without
    households are dropped. Returns ``area_id``, ``households``, geometry
    (EPSG:3435).
    """
    if "households" not in block_groups.columns:
        raise ValidationError("block_groups has no households column; read it with "
                              "geography.read_block_groups.")
    areas_ft = _areas_projected(areas)
    pieces = geography.household_pieces(block_groups, areas_ft)
    pieces = pieces[pieces["households_in_piece"] > 0]
    return gpd.GeoDataFrame({"area_id": pieces["area_id"].to_numpy(),
                             "households": pieces["households_in_piece"].to_numpy()},
                            geometry=pieces.geometry.representative_point().to_numpy(), crs=PROJECTED_CRS)


def unconnected_per_branch(unconnected, unconnected_moe, branches) -> tuple[pd.Series, pd.Series]:
    """Unconnected households per nearby branch, with its 90% MOE.

    Method: estimate / branches. The number of branches is a fixed count, not
    a survey estimate, so the MOE is divided by the same number (ACS handbook
    ch. 8: multiplying an estimate by a constant multiplies its MOE by the
    constant; the CV is unchanged). NaN where there is no branch (the ratio is
    undefined; such areas are reported by ``branches_near`` = 0).
    Example: 4,562 +/- 622 unconnected households and 3 branches give
    1,520.7 +/- 207.4 per branch.
    """
    count = pd.Series(branches, dtype=float)
    count = count.where(count > 0)
    value = pd.Series(unconnected, dtype=float).to_numpy() / count.to_numpy()
    moe = pd.Series(unconnected_moe, dtype=float).to_numpy() / count.to_numpy()
    index = getattr(unconnected, "index", count.index)
    return pd.Series(value, index=index), pd.Series(moe, index=index)


def flag_access_gaps(table: pd.DataFrame, close_miles: float = CLOSE_MILES,
                     quantile: float = MANY_UNCONNECTED_QUANTILE) -> pd.DataFrame:
    """Flag areas with many unconnected households and no branch close by.

    Method, per ``geography`` and ``year`` (areas are compared with areas of
    the same kind and ACS period):

    - ``many_unconnected``: the area's unconnected-household estimate is at or
      above the ``quantile`` (0.5, the median) of the estimates of all areas;
    - ``branch_close``: the household-weighted mean distance to the nearest
      branch is at most ``close_miles`` (0.75 mile);
    - ``access_gap`` = many_unconnected AND NOT branch_close.

    An area without an estimate or without located households is never
    flagged (the flags are False). Needs columns ``geography``, ``year``,
    ``unconnected``, ``mean_miles_to_nearest_branch``; returns a copy with
    the three flag columns.
    """
    missing = [c for c in ("geography", "year", "unconnected", "mean_miles_to_nearest_branch")
               if c not in table.columns]
    if missing:
        raise ValidationError(f"table has no {', '.join(missing)} column(s).")
    out = table.copy()
    threshold = out.groupby(["geography", "year"])["unconnected"].transform(lambda v: v.quantile(quantile))
    out["many_unconnected"] = (out["unconnected"] >= threshold).fillna(False).astype(bool)
    miles = out["mean_miles_to_nearest_branch"]
    out["branch_close"] = (miles <= close_miles).fillna(False).astype(bool)
    out["access_gap"] = out["many_unconnected"] & miles.notna() & (miles > close_miles)
    return out


def area_access(geography_name: str, areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                branches: gpd.GeoDataFrame, unconnected: pd.DataFrame,
                near_miles: float = NEAR_MILES) -> pd.DataFrame:
    """Library access beside the need for every area and ACS period (``ACCESS_COLUMNS``).

    ``areas``: polygons with ``area_id`` and ``area_name``; ``points``: the
    areas' household points (``household_points``); ``branches``: branch
    points with ``branch``; ``unconnected``: one row per area and year with
    ``area_id``, ``year``, ``count``, ``count_moe`` (the unconnected metric).
    Combines ``branches_within``, ``branches_near`` (``near_miles``),
    ``household_weighted_distance``, ``unconnected_per_branch`` and
    ``flag_access_gaps``. ``households_located`` is the number of households
    (ACS 2017–2021 block groups) the distance is averaged over.
    """
    inside = branches_within(areas, branches)
    near = branches_near(areas, branches, miles=near_miles).drop(columns="branch_names")
    distance = household_weighted_distance(points, branches).rename(
        columns={"households": "households_located"})
    place = (areas[["area_id", "area_name"]].merge(inside, on="area_id").merge(near, on="area_id")
             .merge(distance, on="area_id", how="left"))
    place["households_located"] = place["households_located"].fillna(0.0)
    need = unconnected.rename(columns={"count": "unconnected", "count_moe": "unconnected_moe"})
    table = place.merge(need[["area_id", "year", "unconnected", "unconnected_moe"]], on="area_id",
                        how="left")
    table["unconnected_per_branch"], table["unconnected_per_branch_moe"] = unconnected_per_branch(
        table["unconnected"], table["unconnected_moe"], table["branches_near"])
    table.insert(0, "geography", geography_name)
    return flag_access_gaps(table)[ACCESS_COLUMNS]


def surrounding_tracts(tracts: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                       miles: float = SURROUNDING_MILES) -> pd.DataFrame:
    """The tracts around each branch: ``branch_key``, ``tract``, ``miles``.

    Method: a tract surrounds a branch when its representative point (always
    inside the tract) is within ``miles`` of the branch, measured in
    EPSG:3435. A tract is counted whole or not at all, so the sum of its
    estimates keeps the ACS tract MOEs.
    """
    if not np.isfinite(miles) or miles < 0:
        raise ValidationError(f"miles must be a distance of 0 or more, got {miles!r}.")
    if "branch_key" not in branches.columns:
        raise ValidationError("branches has no branch_key column.")
    tracts_ft = _projected(tracts, "tracts")
    centres = gpd.GeoDataFrame({"tract": tracts_ft["area_id"].to_numpy()},
                               geometry=tracts_ft.geometry.representative_point().to_numpy(),
                               crs=PROJECTED_CRS)
    branches_ft = _projected(branches, "branches")[["branch_key", "geometry"]]
    circles = branches_ft.assign(geometry=branches_ft.geometry.buffer(miles * FEET_PER_MILE, 64))
    pairs = gpd.sjoin(centres, circles, predicate="within")
    location = branches_ft.set_index("branch_key").geometry
    pairs["miles"] = [point.distance(location[key]) / FEET_PER_MILE
                      for point, key in zip(pairs.geometry, pairs["branch_key"])]
    return (pd.DataFrame(pairs[["branch_key", "tract", "miles"]])
            .sort_values(["branch_key", "miles"]).reset_index(drop=True))


def surrounding_need(pairs: pd.DataFrame, tract_unconnected: pd.DataFrame) -> pd.DataFrame:
    """Unconnected households in each branch's surrounding tracts, per ACS period (``SURROUNDING_COLUMNS``).

    ``pairs``: ``surrounding_tracts``; ``tract_unconnected``: ``area_id``
    (tract GEOID), ``year``, ``count``, ``count_moe``. Sum with
    ``estimates.grouped_sum`` (ACS handbook ch. 8 aggregated counts, largest
    zero-estimate MOE once); a tract without a published figure makes the sum
    missing. ``tracts`` counts the tracts summed.
    """
    joined = pairs.merge(tract_unconnected.rename(columns={"area_id": "tract"}), on="tract", how="inner")
    summed = estimates.grouped_sum(joined, by=["branch_key", "year"], estimate="count", moe="count_moe")
    counted = joined.groupby(["branch_key", "year"], as_index=False).size().rename(columns={"size": "tracts"})
    out = summed.merge(counted, on=["branch_key", "year"]).rename(
        columns={"count": "unconnected", "count_moe": "unconnected_moe"})
    return out[SURROUNDING_COLUMNS]


def dashboard_tables(snapshot_dir: Path, areas: dict, block_groups: gpd.GeoDataFrame,
                     area_metrics: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The library tables the cache stores, by name (written as ``libraries_<name>.parquet``).

    ``areas``: boundaries by geography (``community_area``, ``ward``, ``tract``);
    ``area_metrics``: the cache's metrics table. Returns ``branches``,
    ``sessions`` (monthly), ``unmatched``, ``access`` (``area_access`` for
    community areas and wards, every ACS period), ``surrounding_tracts`` and
    ``surrounding_need``.
    """
    branches = library_files.read_branches(snapshot_dir)
    sessions, unmatched = library_files.read_computer_sessions(snapshot_dir, branches=branches)
    points = branches_geodataframe(branches)
    unconnected = area_metrics[area_metrics["metric"] == "unconnected"]
    access = [area_access(name, areas[name], household_points(block_groups, areas[name]), points,
                          unconnected[unconnected["geography"] == name])
              for name in ("community_area", "ward")]
    pairs = surrounding_tracts(areas["tract"], points)
    need = surrounding_need(pairs, unconnected[unconnected["geography"] == "tract"])
    return {"branches": branches, "sessions": sessions, "unmatched": unmatched,
            "access": pd.concat(access, ignore_index=True), "surrounding_tracts": pairs,
            "surrounding_need": need}


# ---- the tables the Libraries page offers, and their columns ----------------------------------------

def _miles(miles: float) -> str:
    return f"{miles:g} mile"


def branches_within_column(miles: float) -> Column:
    return Column("branches_near", f"Branches within {_miles(miles)}",
                  f"Branches inside the area or within {_miles(miles)} of its boundary: the branches its residents can "
                  "reasonably use.", f"The area's polygon buffered by {miles * FEET_PER_MILE:,.0f} feet in "
                  f"{PROJECTED_CRS}; branch points intersecting the buffer.")


def branch_close_column(miles: float) -> Column:
    return Column("branch_close", f"Branch close by (≤ {_miles(miles)})",
                  f"True when the area's households are on average at most {_miles(miles)} from their nearest branch.",
                  f"mean miles to the nearest branch (household-weighted) ≤ {_miles(miles)}")


def sessions_in_column(year: int) -> Column:
    return Column("sessions", f"Public computer sessions {year}", f"Public computer sessions at the branch in {year}.",
                  f"Sum of the branch's monthly sessions in the City of Chicago's {year} 'Libraries – Computer "
                  "Sessions by Location' file.")


def change_from_column(year: int) -> Column:
    return Column("change", f"Change from {year}",
                  f"Public computer sessions in {year + 1} minus those in {year}; blank when either year is partial "
                  "(fewer than 12 months reported) or missing.", f"sessions {year + 1} − sessions {year}")


_PER_BRANCH = ("estimate / branches; the number of branches is a fixed count, so the MOE is divided by the same number "
               "(ACS handbook ch. 8, an estimate times a constant).")
_SESSIONS = ("Sum of the branch's monthly public computer sessions in the City of Chicago's 'Libraries – Computer "
             "Sessions by Location' file of the year.")
BRANCH = Column("branch", "Branch", "Chicago Public Library branch, named as in the City of Chicago's list of locations.")
YEAR = Column("year", "Year", "Calendar year the sessions were counted in.")


def access_columns(geography_name: str) -> list[Column]:
    """The columns of ``access_table`` for community areas or wards."""
    name = geography.COMMUNITY_AREA if geography_name == "community_area" else geography.WARD
    return [
        dataclasses.replace(name, key="area_name", kind=""), metrics.PERIOD, metrics.MEASURE,
        dataclasses.replace(metrics.COUNT, key="unconnected"), dataclasses.replace(metrics.COUNT_MOE, key="unconnected_moe"),
        Column("branches_inside", "Branches inside", "Chicago Public Library branches inside the area's boundary.",
               f"Branch points intersecting the area's polygon ({PROJECTED_CRS}); a branch on a shared boundary "
               "counts for both areas."),
        branches_within_column(NEAR_MILES),
        Column("branch_names", "Branch names inside", "Names of the branches inside the area, separated by '; '."),
        Column("mean_miles_to_nearest_branch", "Mean miles to the nearest branch (household-weighted)",
               "Average straight-line distance in miles from the area's households to their nearest branch.",
               f"sum(households × miles) / sum(households) over the pieces of 2020 block groups in the area (ACS "
               f"2017–2021 households), each at its representative point; distances in {PROJECTED_CRS}, "
               f"{FEET_PER_MILE:,.0f} feet a mile."),
        Column("unconnected_per_branch", "Unconnected households per nearby branch",
               "Unconnected households in the area per branch inside it or nearby; blank where there is none.",
               _PER_BRANCH),
        Column("unconnected_per_branch_moe", "Per branch MOE (90%)",
               "Margin of error of the unconnected households per nearby branch.", _PER_BRANCH),
        Column("many_unconnected", "Many unconnected households",
               "True when the area's unconnected households are at or above the median of the areas of its kind and "
               "ACS period.", f"estimate ≥ quantile {MANY_UNCONNECTED_QUANTILE:g} of the estimates of all areas of "
               "the same geography and period."),
        branch_close_column(CLOSE_MILES),
        Column("access_gap", "Flagged", "True for areas with many unconnected households and no branch close by: "
               "where a branch's public computers are hardest to reach for those without a connection.",
               f"many unconnected households AND mean miles to the nearest branch > {CLOSE_MILES:g}"),
    ]


def access_table(access: pd.DataFrame, geography_name: str, year: int) -> tuple[pd.DataFrame, list[Column]]:
    """The areas' access to a branch beside their unconnected households (rows of the ``access`` table for
    one geography and ACS period), most unconnected households per nearby branch first; and its columns."""
    columns = access_columns(geography_name)
    values = {**access, "period": metrics.period_label(year), "metric_label": metrics.METRICS["unconnected"].label}
    out = table(values, columns)
    per_branch = next(c.label for c in columns if c.key == "unconnected_per_branch")
    return out.sort_values(per_branch, ascending=False, na_position="last"), columns


SESSIONS_TABLE_COLUMNS = [
    BRANCH, YEAR,
    Column("sessions", "Public computer sessions", "Public computer sessions at the branch in the year.", _SESSIONS),
    Column("months_reported", "Months reported", "Months with a value in the year's file (a zero is a report; a blank "
           "is not)."),
    Column("months_with_sessions", "Months with sessions", "Months with more than zero sessions; zero months mark "
           "closures such as renovations."),
    Column("change", "Change from the previous year", "Sessions minus the previous calendar year's; blank when either "
           "year is partial (fewer than 12 months reported) or missing.", "sessions − previous year's sessions"),
    Column("percent_change", "Change (%)", "Change from the previous year as a percentage of the previous year's "
           "sessions; blank where the change is blank or the previous year had none.",
           "change / previous year's sessions × 100"),
    metrics.NOTE,
]


def sessions_table(history: pd.DataFrame) -> pd.DataFrame:
    """One branch's sessions year by year (rows of ``year_over_year``), ``SESSIONS_TABLE_COLUMNS``."""
    note = history["partial_year"].map({True: "Partial year: not compared with whole years", False: ""})
    return table({**history, "note": note}, SESSIONS_TABLE_COLUMNS)


SURROUNDING_TABLE_COLUMNS = [
    dataclasses.replace(geography.TRACT, key="tract_label"), dataclasses.replace(geography.TRACT_GEOID, key="tract"),
    Column("miles", "Miles from the branch", "Straight-line miles from the branch to the tract's representative point.",
           f"Tracts whose representative point lies within {SURROUNDING_MILES:g} mile of the branch, measured in "
           f"{PROJECTED_CRS}."),
    metrics.PERIOD, metrics.MEASURE, metrics.COUNT, metrics.COUNT_MOE, metrics.COUNT_RELIABILITY,
]


def surrounding_table(pairs: pd.DataFrame, tract_rows: pd.DataFrame, year: int,
                      tract_labels: pd.Series) -> pd.DataFrame:
    """The tracts around one branch (rows of ``surrounding_tracts``) with their unconnected households
    (``tract_rows``: the tracts' metric rows indexed by GEOID), ``SURROUNDING_TABLE_COLUMNS``."""
    values = {**pairs, "tract_label": tract_labels, "period": metrics.period_label(year),
              "metric_label": metrics.METRICS["unconnected"].label,
              **{key: pairs["tract"].map(tract_rows[key]) for key in ("count", "count_moe", "count_reliability")}}
    return table(values, SURROUNDING_TABLE_COLUMNS)


def branches_columns(year: int) -> list[Column]:
    return [
        BRANCH,
        Column("address", "Address", "Street address of the branch."),
        Column("zip", "ZIP", "ZIP code of the branch."),
        Column("hours", "Hours", "Usual opening hours, as the City of Chicago lists them."),
        Column("phone", "Phone", "Telephone number of the branch."),
        Column("latitude", "Latitude", "Latitude of the branch (WGS84, degrees)."),
        Column("longitude", "Longitude", "Longitude of the branch (WGS84, degrees)."),
        sessions_in_column(year), change_from_column(year - 1),
    ]


def branches_table(branches: pd.DataFrame, changes: pd.DataFrame, year: int) -> tuple[pd.DataFrame, list[Column]]:
    """Every branch with its sessions in ``year`` and the change from the year before; and its columns."""
    in_year = changes[changes["year"] == year].set_index("branch_key")
    values = {**branches, "sessions": branches["branch_key"].map(in_year["sessions"]),
              "change": branches["branch_key"].map(in_year["change"])}
    columns = branches_columns(year)
    return table(values, columns), columns


UNMATCHED_TABLE_COLUMNS = [
    Column("file", "File", "Sessions file the row comes from, in the raw snapshot's libraries folder."),
    YEAR,
    Column("line", "Line in the file", "Line number of the row in that file (the header is line 1)."),
    Column("raw_name", "Name in the file", "Location name as the file spells it."),
    Column("ytd", "Sessions in the year", "Year-to-date sessions the file gives for the row."),
    Column("reason", "Why it is not matched", "Why the row is not counted for any branch of the City's list (a closed "
           "branch, a space that is not a branch, a total row, or no matching name)."),
]


def unmatched_table(unmatched: pd.DataFrame) -> pd.DataFrame:
    """The sessions rows that match no branch (``library_files.read_computer_sessions``),
    ``UNMATCHED_TABLE_COLUMNS``."""
    return renamed(unmatched, UNMATCHED_TABLE_COLUMNS)
