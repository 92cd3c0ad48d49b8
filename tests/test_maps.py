"""Map classes, colours, estimate flags, compact layers and ranks in words (equity.maps), on small tables."""

import json

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from equity import compare, estimates, geography, maps, metrics


def metric_rows(counts, count_moes, universes, universe_moes, ids=None) -> pd.DataFrame:
    """Metric rows as the cache holds them, computed with the library's own formulas."""
    count = pd.Series(counts, dtype=float)
    count_moe = pd.Series(count_moes, dtype=float)
    universe = pd.Series(universes, dtype=float)
    universe_moe = pd.Series(universe_moes, dtype=float)
    share, share_moe = estimates.proportion(count, count_moe, universe, universe_moe)
    share = share.where(universe > 0)
    share_moe = share_moe.where(universe > 0)
    frame = pd.DataFrame({"count": count, "count_moe": count_moe, "share": share, "share_moe": share_moe,
                          "universe": universe, "universe_moe": universe_moe})
    for value in ("count", "share"):
        frame[f"{value}_cv"] = estimates.coefficient_of_variation(frame[value], frame[f"{value}_moe"])
        frame[f"{value}_reliability"] = estimates.reliability(frame[f"{value}_cv"])
    frame.index = ids or [str(i + 1) for i in range(len(frame))]
    return frame


# ---- classes ---------------------------------------------------------------------------------------

def test_quantile_classes_match_mapclassify_and_put_equal_numbers_of_areas_in_each_class():
    values = np.arange(1, 21, dtype=float)
    classes = maps.classify(values, "quantiles")
    assert classes.bins == tuple(mapclassify.Quantiles(values, k=5).bins)
    assert np.bincount(classes.assign(values)).tolist() == [4, 4, 4, 4, 4]


def test_natural_breaks_separate_clusters_of_values():
    clusters = [1.0, 1.1, 1.2, 5.0, 5.1, 9.0, 9.2, 20.0, 21.0, 40.0]
    classes = maps.classify(clusters, "natural_breaks")
    groups = classes.assign(clusters)
    assert groups.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4]


def test_classes_ignore_missing_values_and_give_them_no_class():
    values = [np.nan, 3.0, 1.0, 2.0, np.nan, 4.0, 5.0]
    classes = maps.classify(values, "quantiles")
    assert classes.minimum == 1.0 and classes.bins[-1] == 5.0
    assert classes.assign(values).tolist()[0] == -1 and classes.assign(values).tolist()[4] == -1


def test_fewer_distinct_values_than_classes_gives_one_class_per_value():
    classes = maps.classify([2.0, 2.0, 7.0, 7.0, 7.0], "natural_breaks")
    assert classes.count == 2
    assert classes.assign([2.0, 7.0]).tolist() == [0, 1]


def test_a_single_value_makes_one_class_and_no_values_make_none():
    assert maps.classify([3.0, 3.0], "quantiles").count == 1
    assert maps.classify([np.nan], "quantiles") is None


def test_values_outside_the_city_classes_fall_in_the_end_classes():
    classes = maps.classify(np.arange(10, dtype=float), "quantiles")
    assert classes.assign([-5.0, 100.0]).tolist() == [0, classes.count - 1]


def test_class_ranges_run_from_the_minimum_through_each_upper_bound():
    classes = maps.classify(np.arange(1, 11, dtype=float), "quantiles")
    ranges = classes.ranges()
    assert ranges[0][0] == 1.0
    assert [high for _, high in ranges] == list(classes.bins)
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))


def test_unknown_classification_is_refused_by_name():
    with pytest.raises(ValueError, match="equal_interval"):
        maps.classify([1.0, 2.0], "equal_interval")


# ---- colours -----------------------------------------------------------------------------------------

def test_five_classes_use_the_whole_palette_light_to_dark():
    assert maps.class_colours(5) == list(maps.PALETTE)


def test_reversed_colours_put_the_darkest_on_the_lowest_values():
    assert maps.class_colours(5, higher_is_darker=False) == list(maps.PALETTE)[::-1]


def test_fewer_classes_still_span_light_to_dark():
    colours = maps.class_colours(3)
    assert colours[0] == maps.PALETTE[0] and colours[-1] == maps.PALETTE[-1] and len(set(colours)) == 3


def test_palette_gets_darker_step_by_step_and_grey_is_not_on_it():
    def luminance(rgb):
        return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    lightness = [luminance(c) for c in maps.PALETTE]
    assert lightness == sorted(lightness, reverse=True)
    assert maps.NO_ESTIMATE_COLOUR not in maps.PALETTE
    grey = maps.NO_ESTIMATE_COLOUR
    assert grey[0] == grey[1] == grey[2]


def test_fill_colours_make_areas_without_a_class_grey():
    colours = maps.class_colours(5)
    assert maps.fill_colours([0, -1, 4], colours) == [list(colours[0]), list(maps.NO_ESTIMATE_COLOUR), list(colours[4])]


@pytest.mark.parametrize("metric_key", list(metrics.METRICS))
def test_darker_means_more_need_for_shares_and_more_households_for_counts(metric_key):
    metric = metrics.METRICS[metric_key]
    assert maps.darker_means_higher(metric_key, "share") is (not metric.higher_is_better)
    assert maps.darker_means_higher(metric_key, "count") is True


def test_hex_colour_of_the_darkest_class():
    red, green, blue = maps.PALETTE[-1]
    assert maps.hex_colour(maps.PALETTE[-1]) == f"#{red:02x}{green:02x}{blue:02x}"


# ---- estimates shown ---------------------------------------------------------------------------------

def test_area_with_no_households_has_no_estimate_but_a_zero_count_in_a_populated_area_has_one():
    rows = metric_rows([0, 0, 50], [12, 12, 20], [0, 400, 500], [10, 40, 50])
    assert maps.has_estimate(rows, "share").tolist() == [False, True, True]
    assert maps.has_estimate(rows, "count").tolist() == [False, True, True]


def test_missing_published_estimate_has_no_estimate():
    rows = metric_rows([np.nan, 30], [np.nan, 10], [300, 300], [30, 30])
    assert maps.has_estimate(rows, "count").tolist() == [False, True]


def test_unreliable_flag_follows_the_cv_of_the_shown_measure():
    # A count of 20 +/- 15 has CV = 15 / 1.645 / 20 * 100 = 45.6 (unreliable); 400 +/- 30 has CV 4.6.
    rows = metric_rows([20, 400], [15, 30], [1000, 1000], [10, 10])
    expected_count = (estimates.coefficient_of_variation(rows["count"], rows["count_moe"]) > 30).tolist()
    assert maps.is_unreliable(rows, "count").tolist() == expected_count == [True, False]
    expected_share = (rows["share_cv"] > 30).tolist()
    assert maps.is_unreliable(rows, "share").tolist() == expected_share


def test_reliability_words_name_the_cv_band():
    words = maps.reliability_in_words(pd.Series(["reliable", "use with caution", "unreliable", "no estimate"]))
    assert "under 15%" in words[0] and "15–30%" in words[1] and "over 30%" in words[2]
    assert words[3].startswith("No CV")


def test_every_tract_is_named_once_at_build_time_in_the_census_bureau_form(data):
    """The build names tracts (``geography.read_tracts``); the metrics, the extract and the map say the same."""
    tracts = data.metrics[data.metrics["geography"] == "tract"].drop_duplicates("area_id")
    assert (tracts["area_name"] == tracts["area_id"].map(geography.tract_name)).all()
    assert tracts["area_name"].str.fullmatch(r"Census tract \d+(\.\d\d)?").all()


# ---- compact layers ------------------------------------------------------------------------------------

@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    donut = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)], holes=[[(0.4, 0.4), (0.4, 0.6), (0.6, 0.6), (0.6, 0.4)]])
    islands = MultiPolygon([box(2, 0, 2.5, 0.5), box(3, 0, 3.123456789, 0.5)])
    return gpd.GeoDataFrame({"area_id": ["1", "2"], "area_name": ["Donut", "Islands"]},
                            geometry=[donut, islands], crs="EPSG:4326")


def test_compact_geometries_round_coordinates_and_keep_holes_and_parts(squares):
    geometries = maps.compact_geometries(squares, decimals=3)
    assert geometries["1"]["type"] == "Polygon" and len(geometries["1"]["coordinates"]) == 2
    assert geometries["2"]["type"] == "MultiPolygon" and len(geometries["2"]["coordinates"]) == 2
    xs = [x for ring in geometries["2"]["coordinates"][1] for x, _ in ring]
    assert 3.123 in xs and 3.123456789 not in xs


def test_feature_collection_carries_only_the_given_properties_and_skips_areas_without_geometry(squares):
    geometries = maps.compact_geometries(squares)
    properties = pd.DataFrame({"name": ["Donut", "Islands", "Nowhere"], "fill": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]},
                              index=["1", "2", "3"])
    collection = maps.feature_collection(geometries, properties)
    assert [f["properties"] for f in collection["features"]] == [
        {"id": "1", "name": "Donut", "fill": [1, 2, 3]}, {"id": "2", "name": "Islands", "fill": [4, 5, 6]}]
    json.dumps(collection)  # plain JSON, nothing numpy left in it


def test_marker_points_fall_inside_their_areas(squares):
    points = maps.marker_points(squares, ["1", "2"])
    for point in points:
        shape = squares.set_index("area_id").geometry[point["id"]]
        assert shape.contains(gpd.points_from_xy([point["position"][0]], [point["position"][1]])[0])


def test_marker_rings_are_closed_and_sit_at_the_given_ground_radius_around_each_point():
    points = [{"id": "7", "position": [-87.65, 41.85]}]
    radius = 300.0
    ring = maps.marker_rings(points, radius, sides=8)["7"]["coordinates"][0]
    assert len(ring) == 9 and ring[0] == ring[-1]
    vertices = gpd.GeoSeries(gpd.points_from_xy([x for x, _ in ring], [y for _, y in ring]), crs="EPSG:4326")
    centre = gpd.GeoSeries(gpd.points_from_xy([-87.65], [41.85]), crs="EPSG:4326").to_crs("EPSG:3435").iloc[0]
    feet = vertices.to_crs("EPSG:3435").distance(centre)
    assert feet.div(3.28084).between(radius * 0.98, radius * 1.02).all()


def test_a_pixel_at_zoom_0_on_the_equator_is_the_earths_circumference_over_512():
    assert maps.metres_per_pixel(0, 0) == pytest.approx(maps.EARTH_CIRCUMFERENCE_METRES / 512)
    assert maps.metres_per_pixel(3, 60) == pytest.approx(maps.EARTH_CIRCUMFERENCE_METRES * 0.5 / 512 / 8)


def test_point_area_is_proportional_to_sessions():
    sessions = pd.Series([400.0, 100.0, 0.0, np.nan])
    radius = maps.symbol_radius(sessions, largest=400.0, smallest=10.0)
    assert radius.iloc[0] == 400.0
    assert (radius.iloc[1] / radius.iloc[0]) ** 2 == pytest.approx(sessions.iloc[1] / sessions.iloc[0])
    assert radius.iloc[2] == 10.0 and radius.iloc[3] == 10.0


def test_clip_keeps_the_part_inside_and_drops_slivers_and_areas_outside():
    # Around Chicago so that the EPSG:3435 areas are meaningful.
    ward = box(-87.70, 41.80, -87.60, 41.90)
    tracts = gpd.GeoDataFrame({"area_id": ["half", "sliver", "outside"]}, crs="EPSG:4326", geometry=[
        box(-87.65, 41.85, -87.55, 41.87),      # half inside
        box(-87.6005, 41.82, -87.50, 41.83),    # 0.5% inside
        box(-87.50, 41.80, -87.45, 41.85)])     # none inside
    pieces = maps.clip_to(tracts, ward)
    assert pieces["area_id"].tolist() == ["half"]
    local = pieces.to_crs("EPSG:3435").area.iloc[0] / tracts.to_crs("EPSG:3435").area.iloc[0]
    assert local == pytest.approx(0.5, abs=0.01)
    assert pieces.geometry.iloc[0].within(ward.buffer(1e-9))


def test_view_fits_the_boundaries_inside_the_map(squares):
    width, height = 600, 400
    view = maps.view_of(squares, width, height)
    pixels_per_degree = 512 / 360 * 2 ** view["zoom"]
    west, south, east, north = squares.total_bounds
    assert (east - west) * pixels_per_degree <= width
    assert (north - south) / np.cos(np.radians(view["latitude"])) * pixels_per_degree <= height
    assert west < view["longitude"] < east


# ---- ranks in words ------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, word", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                          (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (50, "50th")])
def test_ordinals(number, word):
    assert maps.ordinal(number) == word


def test_rank_description_spells_out_the_range_the_margins_of_error_allow():
    # Three wards: the middle one is not distinguishable from either neighbour.
    shares = pd.Series([0.30, 0.25, 0.20], index=["1", "2", "3"])
    moes = pd.Series([0.01, 0.06, 0.01], index=shares.index)
    ranks = compare.rank_ranges(shares, moes).loc["2"]
    text = maps.describe_rank(ranks["rank"], ranks["rank_best"], ranks["rank_worst"], len(shares))
    assert text.startswith("2nd highest of 3")
    assert "anywhere from 1st to 3rd highest" in text


def test_rank_description_says_when_the_rank_is_certain():
    shares = pd.Series([0.30, 0.20, 0.10], index=["1", "2", "3"])
    moes = pd.Series([0.001, 0.001, 0.001], index=shares.index)
    ranks = compare.rank_ranges(shares, moes).loc["1"]
    text = maps.describe_rank(ranks["rank"], ranks["rank_best"], ranks["rank_worst"], 3)
    assert text.startswith("1st highest of 3") and "no doubt" in text
