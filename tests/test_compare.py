"""equity.compare: sides, significance against the city, rank ranges, where the gap is, filters, custom areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity import compare, estimates, geography, metrics
from equity.errors import ValidationError


# ---- sides of the city -------------------------------------------------------------

def test_sides_file_puts_each_of_the_77_community_areas_on_exactly_one_of_nine_sides():
    sides = compare.read_sides()
    assert sorted(sides["community_area"].astype(int)) == list(range(1, 78))
    assert set(sides["side"]) == set(compare.SIDES)
    assert len(compare.SIDES) == 9


def test_sides_file_central_is_near_north_loop_and_near_south():
    sides = compare.read_sides()
    central = sides.loc[sides["side"] == "Central", "community_area"]
    assert sorted(central.astype(int)) == [8, 32, 33]


def test_sides_file_names_match_the_community_area_boundaries(data):
    names = data.boundaries("community_area").set_index("area_id")["area_name"]
    sides = compare.read_sides().set_index("community_area")["name"]
    assert (sides.sort_index() == names.reindex(sides.index).sort_index()).all()


@pytest.mark.parametrize("edit, message", [
    (lambda f: pd.concat([f, f.iloc[[0]]]), "repeated 1"),
    (lambda f: f.iloc[1:], "missing 1"),
    (lambda f: f.assign(side=f["side"].replace("Central", "Downtown")), "Downtown"),
    (lambda f: f.drop(columns="side"), "side"),
    # Numbers first in numeric order, then what is not a number (78 before x1).
    (lambda f: pd.concat([f, f.iloc[[0, 0]].assign(community_area=["x1", "78"])]), "not a community area 78, x1"),
])
def test_read_sides_names_what_is_wrong_with_a_bad_file(tmp_path, edit, message):
    path = tmp_path / "sides.csv"
    edit(compare.read_sides()).to_csv(path, index=False)
    with pytest.raises(ValidationError, match=message):
        compare.read_sides(path)


def test_ward_is_put_on_the_side_holding_most_of_its_households():
    overlap = pd.DataFrame({"ward": ["1", "1", "1", "2"], "community_area": ["8", "32", "24", "24"],
                            "households": [30.0, 25.0, 45.0, 10.0], "share_of_ward": [0.30, 0.25, 0.45, 1.0]})
    sides = pd.DataFrame({"community_area": ["8", "32", "24"], "name": ["a", "b", "c"],
                          "side": ["Central", "Central", "West Side"]})
    out = compare.ward_sides(overlap, sides).set_index("ward")
    assert out.loc["1", "side"] == "Central"  # two Central areas together outweigh the largest single area
    assert out.loc["1", "share_of_ward"] == pytest.approx(0.55)
    assert out.loc["2", "side"] == "West Side"


def test_ward_sides_covers_every_ward_once(data):
    out = compare.ward_sides(data.ward_community_areas, compare.read_sides())
    assert sorted(out["ward"].astype(int)) == list(range(1, 51))
    assert set(out["side"]) <= set(compare.SIDES)


def test_community_areas_in_wards_are_those_overlapping_the_wards(data):
    overlap = data.ward_community_areas
    chosen = ["2", "42"]
    expected = set(overlap.loc[overlap["ward"].isin(chosen), "community_area"])
    assert set(compare.community_areas_in_wards(overlap, chosen)) == expected
    assert compare.community_areas_in_wards(overlap, []) == []


# ---- filters -----------------------------------------------------------------------

def test_threshold_filter_keeps_values_within_inclusive_bounds_and_drops_missing():
    values = pd.Series([0.05, 0.10, 0.20, 0.30, np.nan])
    assert compare.within_range(values, minimum=0.10).tolist() == [False, True, True, True, False]
    assert compare.within_range(values, maximum=0.20).tolist() == [True, True, True, False, False]
    assert compare.within_range(values, 0.10, 0.20).tolist() == [False, True, True, False, False]
    assert compare.within_range(values).tolist() == [True] * 5


# ---- significance against the city ----------------------------------------------------

def test_city_comparison_labels_follow_the_handbook_test():
    estimate = pd.Series([0.30, 0.10, 0.21, np.nan], index=list("abcd"))
    moe = pd.Series([0.02, 0.02, 0.02, 0.02], index=list("abcd"))
    out = compare.compare_with_city(estimate, moe, 0.20, 0.005)
    z = estimates.significance_z(estimate, moe, pd.Series(0.20, index=estimate.index),
                                 pd.Series(0.005, index=estimate.index))
    assert abs(z["c"]) < estimates.Z_90 < abs(z["a"])  # the cases cover both sides of the cut-off
    assert out["comparison"].tolist() == [compare.HIGHER_THAN_CITY, compare.LOWER_THAN_CITY,
                                          compare.NOT_DIFFERENT, compare.NO_ESTIMATE]
    assert out.loc["a", "difference"] == pytest.approx(0.10)
    assert out.loc["a", "difference_moe"] == pytest.approx(np.hypot(0.02, 0.005))


def test_city_comparison_on_real_areas_agrees_with_significantly_different(data):
    rows, city = _unconnected(data, "community_area")
    ranked = compare.ranking(rows, city)
    for _, row in ranked.iterrows():
        different = estimates.significantly_different(row["share"], row["share_moe"], city["share"], city["share_moe"])
        if not different:
            assert row["comparison"] == compare.NOT_DIFFERENT
        else:
            assert row["comparison"] == (compare.HIGHER_THAN_CITY if row["share"] > city["share"]
                                         else compare.LOWER_THAN_CITY)


# ---- rank ranges --------------------------------------------------------------------

def test_rank_range_spans_areas_not_significantly_different():
    estimate = pd.Series([0.50, 0.49, 0.10], index=["A", "B", "C"])
    moe = pd.Series([0.01, 0.01, 0.01], index=estimate.index)
    out = compare.rank_ranges(estimate, moe)
    assert out["rank"].tolist() == [1, 2, 3]
    assert out[["rank_best", "rank_worst"]].values.tolist() == [[1, 2], [1, 2], [3, 3]]
    ascending = compare.rank_ranges(estimate, moe, descending=False)
    assert ascending["rank"].tolist() == [3, 2, 1]
    assert ascending[["rank_best", "rank_worst"]].values.tolist() == [[2, 3], [2, 3], [1, 1]]


def test_rank_range_leaves_out_missing_estimates():
    estimate = pd.Series([0.5, np.nan, 0.1])
    moe = pd.Series([0.01, 0.01, 0.01])
    out = compare.rank_ranges(estimate, moe)
    assert out["rank"].isna().tolist() == [False, True, False]
    assert out["rank_worst"].max() == 2


def test_rank_range_counts_significantly_higher_and_lower_areas(data):
    rows, _ = _unconnected(data, "community_area")
    rows = rows.reset_index(drop=True)
    out = compare.rank_ranges(rows["share"], rows["share_moe"])
    n = len(rows)
    for i in [0, 20, 40, 60]:
        different = estimates.significantly_different(
            rows["share"], rows["share_moe"], pd.Series(rows.loc[i, "share"], index=rows.index),
            pd.Series(rows.loc[i, "share_moe"], index=rows.index))
        higher = int((different & (rows["share"] > rows.loc[i, "share"])).sum())
        lower = int((different & (rows["share"] < rows.loc[i, "share"])).sum())
        assert out.loc[i, "rank_best"] == 1 + higher
        assert out.loc[i, "rank_worst"] == n - lower
        assert out.loc[i, "rank_best"] <= out.loc[i, "rank"] <= out.loc[i, "rank_worst"]


# ---- comparing chosen areas ---------------------------------------------------------

def test_compare_with_first_tests_each_metric_against_the_first_area(data):
    rows = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["year"] == data.latest_year)]
    out = compare.compare_with_first(rows, ["8", "67"])
    assert out["area_id"].tolist() == ["8"] * len(metrics.METRICS) + ["67"] * len(metrics.METRICS)
    assert (out.loc[out["area_id"] == "8", "comparison"] == "").all()
    second = out[out["area_id"] == "67"].set_index("metric")
    first = rows[rows["area_id"] == "8"].set_index("metric")
    for key in ["unconnected", "no_computer"]:
        diff, moe = estimates.difference(second.loc[key, "share"], second.loc[key, "share_moe"],
                                         first.loc[key, "share"], first.loc[key, "share_moe"])
        assert second.loc[key, "difference"] == pytest.approx(diff)
        assert second.loc[key, "difference_moe"] == pytest.approx(moe)
        significant = estimates.significantly_different(second.loc[key, "share"], second.loc[key, "share_moe"],
                                                        first.loc[key, "share"], first.loc[key, "share_moe"])
        expected = (("higher" if diff > 0 else "lower") + " than Near North Side") if significant \
            else compare.NOT_DIFFERENT
        assert second.loc[key, "comparison"] == expected
    households = second.loc["households"]
    assert households["compared"] == "count"
    assert households["difference"] == pytest.approx(households["count"] - first.loc["households", "count"])


def test_side_by_side_puts_each_measure_in_a_row_and_each_area_in_a_column_in_the_order_chosen(data):
    rows = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["year"] == data.latest_year)]
    chosen = ["67", "8", "32"]
    side_by_side = compare.compare_with_first(rows, chosen)
    names = {"67": "West Englewood", "8": "Near North Side", "32": "Loop", "1": "Rogers Park"}
    shown = side_by_side["area_id"] + ":" + side_by_side["metric"]
    wide = compare.side_by_side_table(side_by_side, chosen, names, shown)
    assert list(wide.columns) == [metrics.MEASURE.label, "West Englewood", "Near North Side", "Loop"]
    assert list(wide[metrics.MEASURE.label]) == [m.label for m in metrics.METRICS.values()]
    assert list(wide.index) == list(range(len(metrics.METRICS)))
    first = list(metrics.METRICS)[0]
    assert wide.loc[0, "Loop"] == f"32:{first}" and wide.loc[0, "West Englewood"] == f"67:{first}"


def test_pairwise_matrix_is_antisymmetric():
    names = pd.Series(["A", "B", "C"])
    out = compare.pairwise_comparison(names, pd.Series([0.5, 0.49, 0.1]), pd.Series([0.01, 0.01, 0.01]))
    assert out.loc["A", "C"] == "higher" and out.loc["C", "A"] == "lower"
    assert out.loc["A", "B"] == out.loc["B", "A"] == "not different"
    assert out.loc["A", "A"] == ""


# ---- where the gap is ----------------------------------------------------------------

def ward_counts(counts: dict[str, tuple[float, float]], year: int = 2021) -> pd.DataFrame:
    """A metric table of the wards' unconnected households, ``{ward: (count, moe)}``, for one ACS year."""
    return pd.DataFrame([{"geography": "ward", "area_id": ward, "area_name": f"Area {ward}", "year": year,
                          "metric": "unconnected", "count": count, "count_moe": moe, "count_reliability": "reliable"}
                         for ward, (count, moe) in counts.items()])


def test_gap_ranks_areas_and_marks_the_fewest_that_hold_half():
    counts = {"1": (10, 5), "2": (40, 8), "3": (30, 6), "4": (20, 0)}
    gap = compare.gap_concentration(ward_counts(counts), "ward", "unconnected", 2021)
    assert list(gap["area_id"]) == ["2", "3", "4", "1"]
    total = sum(v for v, _ in counts.values())
    running = np.cumsum([counts[a][0] for a in gap["area_id"]]) / total
    assert list(gap["cumulative_share"]) == pytest.approx(list(running))
    expected_half = np.concatenate([[True], running[:-1] < 0.5])
    assert list(gap["holds_first_half"]) == list(expected_half)
    for k in range(1, len(gap) + 1):
        top = [counts[a] for a in gap["area_id"][:k]]
        assert gap["cumulative_count_moe"].iloc[k - 1] == pytest.approx(
            estimates.moe_of_sum([v for v, _ in top], [m for _, m in top]))


def test_gap_stops_at_the_area_that_brings_the_total_to_exactly_half():
    counts = {"1": (50, 5), "2": (30, 5), "3": (20, 5)}
    gap = compare.gap_concentration(ward_counts(counts), "ward", "unconnected", 2021)
    assert list(gap["holds_first_half"]) == [True, False, False]


def test_gap_share_of_total_uses_the_proportion_formula():
    counts = {"1": (10, 5), "2": (40, 8)}
    gap = compare.gap_concentration(ward_counts(counts), "ward", "unconnected", 2021)
    total_moe = estimates.moe_of_sum([10, 40], [5, 8])
    share, share_moe = estimates.proportion(40, 8, 50, total_moe)
    assert gap["share_of_total"].iloc[0] == pytest.approx(share)
    assert gap["share_of_total_moe"].iloc[0] == pytest.approx(share_moe)


def test_gap_leaves_out_areas_without_an_estimate():
    gap = compare.gap_concentration(ward_counts({"1": (10, 5), "2": (np.nan, np.nan)}), "ward", "unconnected", 2021)
    assert list(gap["area_id"]) == ["1"]


def test_gap_of_an_unloaded_year_is_empty():
    assert compare.gap_concentration(ward_counts({"1": (10, 5)}), "ward", "unconnected", 2023).empty


# ---- custom areas -------------------------------------------------------------------

def _shared_tract_pair(crosswalk: pd.DataFrame) -> tuple[str, str]:
    """Two community areas that split at least one tract between them."""
    split = crosswalk[crosswalk["tract"].duplicated(keep=False)].sort_values(["tract", "target"])
    first = split.groupby("tract")["target"].apply(list).iloc[0]
    return first[0], first[1]


def test_combined_community_areas_equal_the_grouped_sum_of_their_tracts(data):
    year = data.latest_year
    xwalk = data.crosswalks[(data.crosswalks["geography"] == "community_area")
                            & (data.crosswalks["vintage"] == geography.tract_vintage(year))]
    pair = _shared_tract_pair(xwalk)
    tracts = data.tract_estimates()
    tracts = tracts[tracts["year"] == year]

    # Another way: each tract's household share in the pair, then the handbook sum over tract rows.
    weight = xwalk[xwalk["target"].isin(pair)].groupby("tract")["weight"].sum().clip(upper=1.0)
    assert weight.max() > xwalk[xwalk["target"].isin(pair)]["weight"].min()  # a split tract is counted once
    rows = tracts[tracts["tract"].isin(weight.index)].copy()
    rows["estimate"] *= rows["tract"].map(weight)
    rows["moe"] *= rows["tract"].map(weight)
    summed = estimates.grouped_sum(rows, "variable").set_index("variable")

    combined = compare.combine_areas(tracts, data.crosswalks, "community_area", list(pair), year).set_index("metric")
    for key in ["no_computer", "households", "cellular_only"]:
        variable = metrics.METRICS[key].numerator[0]
        assert combined.loc[key, "count"] == pytest.approx(summed.loc[variable, "estimate"])
        assert combined.loc[key, "count_moe"] == pytest.approx(summed.loc[variable, "moe"])
    unconnected = metrics.METRICS["unconnected"]
    count, count_moe = estimates.sum_across([summed.loc[v, "estimate"] for v in unconnected.numerator],
                                            [summed.loc[v, "moe"] for v in unconnected.numerator])
    share, share_moe = estimates.proportion(count, count_moe, summed.loc[unconnected.denominator, "estimate"],
                                            summed.loc[unconnected.denominator, "moe"])
    assert combined.loc["unconnected", "share"] == pytest.approx(share)
    assert combined.loc["unconnected", "share_moe"] == pytest.approx(share_moe)


def test_combined_count_is_the_sum_of_the_published_area_counts(data):
    year = data.latest_year
    tracts = data.tract_estimates()
    combined = compare.combine_areas(tracts, data.crosswalks, "community_area", ["25", "26", "27"], year)
    published = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["year"] == year)
                             & data.metrics["area_id"].isin(["25", "26", "27"])]
    for key, value in published.groupby("metric")["count"].sum().items():
        assert combined.set_index("metric").loc[key, "count"] == pytest.approx(value)
    assert set(combined["geography"]) == {"custom"}


def test_one_tract_combined_is_that_tracts_published_figures(data):
    year = data.latest_year
    tract_rows = data.metrics[(data.metrics["geography"] == "tract") & (data.metrics["year"] == year)]
    tract = tract_rows["area_id"].iloc[0]
    combined = compare.combine_areas(data.tract_estimates(), data.crosswalks, "tract", [tract], year)
    published = tract_rows[tract_rows["area_id"] == tract].set_index("metric")
    for key, row in combined.set_index("metric").iterrows():
        assert row["count"] == pytest.approx(published.loc[key, "count"])
        assert row["count_moe"] == pytest.approx(published.loc[key, "count_moe"])


def test_combine_areas_names_an_unknown_area(data):
    with pytest.raises(ValidationError, match="Not a community area.*99"):
        compare.combine_areas(data.tract_estimates(), data.crosswalks, "community_area", ["8", "99"],
                              data.latest_year)
    with pytest.raises(ValidationError, match="at least one"):
        compare.combine_areas(data.tract_estimates(), data.crosswalks, "community_area", [], data.latest_year)


def _unconnected(data, geography_name):
    m = data.metrics
    year = data.latest_year
    rows = m[(m["geography"] == geography_name) & (m["year"] == year) & (m["metric"] == "unconnected")]
    city = m[(m["geography"] == "city") & (m["year"] == year) & (m["metric"] == "unconnected")].iloc[0]
    return rows, city


# ---- names and comparisons --------------------------------------------------------------

def test_city_comparison_accepts_one_city_value_per_row():
    estimate = pd.Series([0.30, 0.30], index=["unconnected", "no_computer"])
    moe = pd.Series([0.01, 0.01], index=estimate.index)
    city = pd.Series([0.29, 0.10], index=estimate.index)
    out = compare.compare_with_city(estimate, moe, city, pd.Series([0.005, 0.005], index=estimate.index))
    assert out["comparison"].tolist() == [compare.NOT_DIFFERENT, compare.HIGHER_THAN_CITY]


@pytest.mark.parametrize("geoid, name", [("17031010100", "Census tract 101"),
                                         ("17031010201", "Census tract 102.01"),
                                         ("17031840100", "Census tract 8401")])
def test_tract_name_follows_the_census_bureau_form(geoid, name):
    assert geography.tract_name(geoid) == name


def test_tract_label_names_the_community_area_holding_most_households():
    xwalk = pd.DataFrame({"tract": ["17031010100", "17031010201", "17031010201"],
                          "target": ["1", "1", "2"], "weight": [1.0, 0.3, 0.7]})
    labels = compare.tract_labels(xwalk, pd.Series({"1": "Rogers Park", "2": "West Ridge"}))
    assert labels.to_dict() == {"17031010100": "Census tract 101 (Rogers Park)",
                                "17031010201": "Census tract 102.01 (West Ridge)"}
