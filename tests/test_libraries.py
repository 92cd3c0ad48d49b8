"""Library branches: distances to the nearest branch, sessions over the years, access beside the need.

The distance and access tests build small geometries of their own; the cache tests check the real build.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from equity import estimates, libraries
from equity.errors import ValidationError

MILE = libraries.FEET_PER_MILE
# A spot in the middle of Chicago in EPSG:3435 feet.
X0, Y0 = 1_160_000.0, 1_900_000.0


# Distances ----------------------------------------------------------------------

def _points(coordinates, crs=libraries.PROJECTED_CRS, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(x, y) for x, y in coordinates], crs=crs)


@pytest.fixture
def two_branches():
    return _points([(X0, Y0), (X0 + 20 * MILE, Y0)], branch=["Near", "Far"])


def test_point_one_mile_east_of_a_branch_is_one_mile(two_branches):
    points = _points([(X0 + MILE, Y0), (X0 + 3 * MILE, Y0 + 4 * MILE), (X0 + 19 * MILE, Y0)])
    miles = libraries.nearest_branch_distance(points, two_branches)
    assert miles.tolist() == pytest.approx([1.0, 5.0, 1.0])
    assert miles.index.equals(points.index)


def test_distance_is_measured_after_reprojecting_wgs84_layers(two_branches):
    points = _points([(X0, Y0 + 2 * MILE)]).to_crs(libraries.GEOGRAPHIC_CRS)
    branches = two_branches.to_crs(libraries.GEOGRAPHIC_CRS)
    assert libraries.nearest_branch_distance(points, branches).iloc[0] == pytest.approx(2.0, rel=1e-6)


def test_branches_geodataframe_places_points_at_longitude_latitude():
    frame = pd.DataFrame({"branch": ["A"], "latitude": [41.88], "longitude": [-87.63]})
    layer = libraries.branches_geodataframe(frame)
    assert layer.crs.to_epsg() == 4326
    assert (layer.geometry.x.iloc[0], layer.geometry.y.iloc[0]) == (-87.63, 41.88)


def test_layer_without_crs_is_refused(two_branches):
    points = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    with pytest.raises(ValidationError, match="CRS"):
        libraries.nearest_branch_distance(points, two_branches)


def test_household_weighted_mean_follows_households_not_the_centroid(two_branches):
    coordinates = [(X0 + MILE, Y0), (X0 + 3 * MILE, Y0), (X0, Y0 - 2 * MILE)]
    households = [30.0, 10.0, 5.0]
    points = _points(coordinates, area_id=["A", "A", "B"], households=households)
    distances = [((x - X0) ** 2 + (y - Y0) ** 2) ** 0.5 / MILE for x, y in coordinates]

    result = libraries.household_weighted_distance(points, two_branches).set_index("area_id")

    expected_a = ((households[0] * distances[0] + households[1] * distances[1])
                  / (households[0] + households[1]))
    assert result.at["A", "mean_miles_to_nearest_branch"] == pytest.approx(expected_a)
    assert result.at["A", "households"] == households[0] + households[1]
    assert result.at["B", "mean_miles_to_nearest_branch"] == pytest.approx(distances[2])
    # The centroid of A's points is 2 miles away; the household-weighted mean is not.
    assert expected_a != pytest.approx(2.0)


def test_area_without_households_has_no_mean(two_branches):
    points = _points([(X0 + MILE, Y0)], area_id=["A"], households=[0.0])
    result = libraries.household_weighted_distance(points, two_branches)
    assert result["mean_miles_to_nearest_branch"].isna().all()


def test_negative_households_are_refused(two_branches):
    points = _points([(X0 + MILE, Y0)], area_id=["A"], households=[-1.0])
    with pytest.raises(ValidationError, match="households"):
        libraries.household_weighted_distance(points, two_branches)


@pytest.fixture
def two_squares():
    return gpd.GeoDataFrame(
        {"area_id": ["west", "east"]},
        geometry=[box(X0, Y0, X0 + MILE, Y0 + MILE), box(X0 + 3 * MILE, Y0, X0 + 4 * MILE, Y0 + MILE)],
        crs=libraries.PROJECTED_CRS)


def test_branch_inside_a_polygon_is_counted_there(two_squares):
    branches = _points([(X0 + MILE / 2, Y0 + MILE / 2), (X0 + MILE / 4, Y0 + MILE / 4),
                        (X0 + 2 * MILE, Y0 + MILE / 2)], branch=["Middle", "Corner", "Between"])
    inside = libraries.branches_within(two_squares, branches.to_crs(libraries.GEOGRAPHIC_CRS))
    inside = inside.set_index("area_id")
    assert inside.at["west", "branches_inside"] == 2
    assert inside.at["west", "branch_names"] == "Corner; Middle"
    assert inside.at["east", "branches_inside"] == 0
    assert inside.at["east", "branch_names"] == ""


def test_branch_near_an_area_is_counted_within_the_buffer(two_squares):
    branches = _points([(X0 + 1.5 * MILE, Y0 + MILE / 2)], branch=["Half a mile east of west"])
    near_1 = libraries.branches_near(two_squares, branches, miles=1.0).set_index("area_id")
    near_quarter = libraries.branches_near(two_squares, branches, miles=0.25).set_index("area_id")
    assert near_1["branches_near"].to_dict() == {"west": 1, "east": 0}
    assert near_quarter["branches_near"].to_dict() == {"west": 0, "east": 0}
    assert libraries.branches_within(two_squares, branches)["branches_inside"].sum() == 0


# Sessions over the years --------------------------------------------------------

def _annual(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["branch_key", "year", "sessions", "months_reported"])
    frame["branch"] = frame["branch_key"].str.title()
    frame["months_with_sessions"] = frame["months_reported"]
    frame["partial_year"] = frame["months_reported"] < 12
    return frame[libraries.ANNUAL_COLUMNS]


def test_year_over_year_compares_full_consecutive_years_only():
    annual = _annual([("a", 2019, 1000.0, 12), ("a", 2020, 400.0, 12), ("a", 2021, 600.0, 12),
                      ("a", 2023, 300.0, 4), ("b", 2020, 50.0, 12), ("b", 2022, 80.0, 12)])
    changes = libraries.year_over_year(annual).set_index(["branch_key", "year"])
    assert changes.at[("a", 2020), "change"] == 400.0 - 1000.0
    assert changes.at[("a", 2020), "percent_change"] == pytest.approx((400.0 - 1000.0) / 1000.0 * 100)
    assert changes.at[("a", 2021), "previous_sessions"] == 400.0
    # The partial year is never compared, and neither are years with a gap between them.
    assert pd.isna(changes.at[("a", 2023), "change"])
    assert pd.isna(changes.at[("b", 2022), "change"])
    assert pd.isna(changes.at[("a", 2019), "change"])


def test_a_year_after_a_partial_year_is_not_compared():
    annual = _annual([("a", 2022, 500.0, 7), ("a", 2023, 900.0, 12)])
    changes = libraries.year_over_year(annual).set_index("year")
    assert pd.isna(changes.at[2023, "change"])


def test_full_years_leave_out_any_year_with_a_partial_branch():
    annual = _annual([("a", 2021, 1.0, 12), ("b", 2021, 1.0, 12), ("a", 2022, 1.0, 12),
                      ("b", 2022, 1.0, 9), ("a", 2023, 1.0, 4)])
    assert libraries.full_years(annual) == [2021]


# Access beside the need --------------------------------------------------------------

def _block_groups(boxes, households) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"block_group": [f"17031{i:07d}" for i in range(len(boxes))],
                              "households": households},
                             geometry=[box(*b) for b in boxes], crs=libraries.PROJECTED_CRS)
    frame["land_sq_ft"] = frame.geometry.area
    return frame


def test_household_points_split_a_block_group_between_areas_by_land(two_squares):
    # One block group straddles the two squares: 1 mile in the west square, 1 mile in the east one,
    # and 1 mile in between, outside both.
    straddling = (X0 + 0.5 * MILE, Y0, X0 + 3.5 * MILE, Y0 + MILE)
    points = libraries.household_points(_block_groups([straddling], [300.0]), two_squares)
    by_area = points.groupby("area_id")["households"].sum()
    # Half a square mile of the block group's three lies in each square.
    assert by_area["west"] == pytest.approx(300.0 * 0.5 / 3.0)
    assert by_area["east"] == pytest.approx(300.0 * 0.5 / 3.0)
    for point, area_id in zip(points.geometry, points["area_id"]):
        assert two_squares.set_index("area_id").geometry[area_id].contains(point)


def test_area_distance_follows_where_households_live_not_the_centroid(two_squares):
    # The west square's households all live in its south-west quarter; a branch sits on its
    # centroid's east side, 2 miles away from the centroid.
    quarter = (X0, Y0, X0 + MILE / 2, Y0 + MILE / 2)
    empty = (X0 + MILE / 2, Y0 + MILE / 2, X0 + MILE, Y0 + MILE)
    block_groups = _block_groups([quarter, empty], [100.0, 0.0])
    points = libraries.household_points(block_groups, two_squares)
    branch = _points([(X0 + MILE / 2 + 2 * MILE, Y0 + MILE / 2)], branch=["East"])
    distance = libraries.household_weighted_distance(points, branch).set_index("area_id")
    representative = points.geometry.iloc[0]
    expected = representative.distance(branch.geometry.iloc[0]) / MILE
    assert distance.at["west", "mean_miles_to_nearest_branch"] == pytest.approx(expected)
    assert expected > 2.0
    assert distance.at["west", "households"] == pytest.approx(100.0)
    assert "east" not in distance.index  # no households located there


def test_unconnected_per_branch_divides_estimate_and_moe_by_the_count():
    unconnected = pd.Series([4562.0, 900.0, 300.0])
    moe = pd.Series([622.0, 150.0, 80.0])
    branches = pd.Series([3, 1, 0])
    value, value_moe = libraries.unconnected_per_branch(unconnected, moe, branches)
    assert value.iloc[0] == pytest.approx(unconnected.iloc[0] / branches.iloc[0])
    assert value_moe.iloc[0] == pytest.approx(moe.iloc[0] / branches.iloc[0])
    assert value.iloc[1] == unconnected.iloc[1] and value_moe.iloc[1] == moe.iloc[1]
    assert estimates.coefficient_of_variation(value.iloc[0], value_moe.iloc[0]) == pytest.approx(
        estimates.coefficient_of_variation(unconnected.iloc[0], moe.iloc[0]))
    assert pd.isna(value.iloc[2]) and pd.isna(value_moe.iloc[2])


def _flag_table(unconnected, miles, geography="community_area", year=2021):
    return pd.DataFrame({"geography": geography, "year": year, "area_id": [str(i) for i in range(len(miles))],
                         "unconnected": unconnected, "mean_miles_to_nearest_branch": miles})


def test_flag_needs_many_unconnected_and_no_branch_close():
    close, far = libraries.CLOSE_MILES, libraries.CLOSE_MILES + 0.5
    unconnected = [5000.0, 4000.0, 100.0, 200.0, 3000.0]
    miles = [far, close, far, close / 2, far]
    flagged = libraries.flag_access_gaps(_flag_table(unconnected, miles))
    median = float(np.median(unconnected))
    expected_many = [value >= median for value in unconnected]
    assert flagged["many_unconnected"].tolist() == expected_many
    assert flagged["branch_close"].tolist() == [m <= close for m in miles]
    assert flagged["access_gap"].tolist() == [many and m > close
                                              for many, m in zip(expected_many, miles)]
    # At exactly the "close" distance an area counts as close.
    assert not flagged["access_gap"].iloc[1]


def test_flag_compares_areas_within_their_own_geography_and_period():
    far = libraries.CLOSE_MILES + 1
    table = pd.concat([_flag_table([100.0, 200.0], [far, far], geography="community_area"),
                       _flag_table([5000.0, 6000.0], [far, far], geography="ward")])
    flagged = libraries.flag_access_gaps(table)
    # 200 is many among community areas although every ward has more.
    assert flagged["access_gap"].tolist() == [False, True, False, True]


def test_area_without_estimate_or_located_households_is_not_flagged():
    far = libraries.CLOSE_MILES + 1
    flagged = libraries.flag_access_gaps(_flag_table([np.nan, 5000.0, 10.0], [far, np.nan, far]))
    assert not flagged["access_gap"].any()


def test_area_access_combines_branches_distance_need_and_flag(two_squares):
    block_groups = _block_groups([(X0, Y0, X0 + MILE, Y0 + MILE), (X0 + 3 * MILE, Y0, X0 + 4 * MILE, Y0 + MILE)],
                                 [1000.0, 800.0])
    areas = two_squares.assign(area_name=["West", "East"])
    points = libraries.household_points(block_groups, areas)
    branches = _points([(X0 + MILE / 2, Y0 + MILE / 2), (X0 + 1.5 * MILE, Y0 + MILE / 2)],
                       branch=["Inside west", "Between"]).to_crs(libraries.GEOGRAPHIC_CRS)
    unconnected = pd.DataFrame({"area_id": ["west", "east"], "year": [2021, 2021],
                                "count": [300.0, 600.0], "count_moe": [60.0, 90.0]})
    table = libraries.area_access("community_area", areas, points, branches, unconnected).set_index("area_id")
    assert list(table.columns) == [c for c in libraries.ACCESS_COLUMNS if c != "area_id"]
    assert table.at["west", "branches_inside"] == 1 and table.at["east", "branches_inside"] == 0
    assert table.at["west", "branches_near"] == 2 and table.at["east", "branches_near"] == 0
    assert table.at["west", "unconnected_per_branch"] == pytest.approx(300.0 / 2)
    assert table.at["west", "unconnected_per_branch_moe"] == pytest.approx(60.0 / 2)
    assert pd.isna(table.at["east", "unconnected_per_branch"])
    east_distance = libraries.nearest_branch_distance(points[points["area_id"] == "east"], branches)
    assert table.at["east", "mean_miles_to_nearest_branch"] == pytest.approx(east_distance.iloc[0])
    assert table.at["east", "access_gap"] and not table.at["west", "access_gap"]


def test_surrounding_tracts_are_those_whose_point_is_within_the_distance():
    tracts = gpd.GeoDataFrame(
        {"area_id": ["near", "edge", "far"]},
        geometry=[box(X0, Y0, X0 + MILE / 2, Y0 + MILE / 2),
                  box(X0 + 0.6 * MILE, Y0, X0 + 1.6 * MILE, Y0 + 0.1 * MILE),  # reaches within a mile, centre does not
                  box(X0 + 3 * MILE, Y0, X0 + 4 * MILE, Y0 + MILE)],
        crs=libraries.PROJECTED_CRS)
    branches = _points([(X0, Y0)], branch=["A"], branch_key=["a"])
    pairs = libraries.surrounding_tracts(tracts, branches, miles=1.0)
    centres = tracts.set_index("area_id").geometry.representative_point()
    expected = {t for t, p in centres.items() if p.distance(branches.geometry.iloc[0]) <= MILE}
    assert set(pairs["tract"]) == expected == {"near"}
    assert pairs["miles"].iloc[0] == pytest.approx(centres["near"].distance(branches.geometry.iloc[0]) / MILE)


def test_surrounding_need_sums_tract_estimates_with_their_moes():
    pairs = pd.DataFrame({"branch_key": ["a", "a", "b"], "tract": ["t1", "t2", "t2"]})
    tract_rows = pd.DataFrame({"area_id": ["t1", "t2", "t3"], "year": 2021, "count": [120.0, 0.0, 50.0],
                               "count_moe": [40.0, 25.0, 20.0]})
    need = libraries.surrounding_need(pairs, tract_rows).set_index("branch_key")
    assert need.at["a", "unconnected"] == 120.0
    assert need.at["a", "unconnected_moe"] == pytest.approx(estimates.moe_of_sum([120.0, 0.0], [40.0, 25.0]))
    assert need.at["a", "tracts"] == 2 and need.at["b", "tracts"] == 1
    assert need.at["b", "unconnected_moe"] == 25.0


# The cache's library tables (real snapshot) -----------------------------------------

def test_cache_access_table_covers_every_area_and_period(data):
    access = data.library_table("access")
    for geography_name, expected in (("community_area", 77), ("ward", 50)):
        rows = access[access["geography"] == geography_name]
        assert rows.groupby("year")["area_id"].nunique().eq(expected).all()
        assert set(rows["year"]) == set(data.years)
    unconnected = data.metrics[(data.metrics["metric"] == "unconnected")
                               & data.metrics["geography"].isin(["community_area", "ward"])]
    merged = access.merge(unconnected, on=["geography", "area_id", "year"])
    assert len(merged) == len(access)
    assert np.allclose(merged["unconnected"], merged["count"], equal_nan=True)


def test_cache_households_located_match_the_city_in_both_geographies(data):
    access = data.library_table("access")
    latest = access[access["year"] == data.latest_year]
    totals = latest.groupby("geography")["households_located"].sum()
    # Both geographies place the same block-group households (they tile the same city).
    assert totals["ward"] == pytest.approx(totals["community_area"], rel=0.002)
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["metric"] == "households")
                        & (data.metrics["year"] == 2021)]["count"].iloc[0]
    assert totals["community_area"] == pytest.approx(city, rel=0.02)


def test_cache_branch_counts_are_consistent(data):
    access = data.library_table("access")
    branches = data.library_table("branches")
    latest = access[(access["year"] == data.latest_year) & (access["geography"] == "community_area")]
    assert (latest["branches_near"] >= latest["branches_inside"]).all()
    # Every branch lies in exactly one community area (none sits on a boundary).
    assert latest["branches_inside"].sum() == len(branches)
    need = data.library_table("surrounding_need")
    assert set(need["branch_key"]) == set(branches["branch_key"])
