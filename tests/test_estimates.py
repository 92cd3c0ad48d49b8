"""ACS margin-of-error arithmetic, checked against the Census handbook's worked examples.

"Handbook" is *Understanding and Using American Community Survey Data: What All
Data Users Need to Know* (Census Bureau, 2020), chapter 8. The same tables
(never-married women and men in Fairfax County, Arlington County and
Alexandria city, Virginia) are used in datadesk/census-data-aggregator's
test.py, which is where the numbers were read from.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from equity import estimates
from equity.errors import ValidationError

# Handbook Table 8.1: never-married women (estimate, MOE) by county.
NEVER_MARRIED_WOMEN = [(135173, 3860), (43104, 2642), (24842, 1957)]
# Handbook Table 8.4: women 15 years and over.
WOMEN_15_AND_OVER = [(466037, 391), (97360, 572), (67101, 459)]
# Handbook Table 8.5: never-married men.
NEVER_MARRIED_MEN = [(156720, 4222), (44613, 2819), (25507, 2259)]


def _split(pairs):
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_sum_of_never_married_women_matches_handbook_table_8_1():
    """Handbook ch. 8, aggregated count data, Table 8.1: 203,119 with MOE 5,070."""
    values, moes = _split(NEVER_MARRIED_WOMEN)
    assert estimates.moe_of_sum(values, moes) == pytest.approx(5070.4647715963865)
    total, moe = estimates.sum_across(values, moes)
    assert total == 203119
    assert moe == pytest.approx(5070.4647715963865)


def test_standard_error_and_cv_match_handbook_table_8_1_aggregate():
    """Handbook ch. 8, Table 8.1: SE = 5,070 / 1.645 = 3,082; CV = 1.5 percent."""
    assert estimates.standard_error(5070) == pytest.approx(3082.07, abs=0.01)
    cv = estimates.coefficient_of_variation(203119, 5070)
    assert cv == pytest.approx(1.517, abs=0.001)
    assert estimates.reliability(cv) == "reliable"


def test_sum_counts_largest_zero_moe_once():
    """Zero-estimate rule (census-data-aggregator test_sum): 0/22, 0/22, 0/29, 41/37 -> 47.01."""
    expected = math.sqrt(29**2 + 37**2)
    assert expected == pytest.approx(47.01063709417264)
    assert estimates.moe_of_sum([0, 0, 0, 41], [22, 22, 29, 37]) == pytest.approx(expected)
    total, moe = estimates.sum_across([0, 0, 0, 41], [22, 22, 29, 37])
    assert (total, moe) == (41, pytest.approx(expected))


def test_sum_across_applies_zero_rule_row_by_row():
    """Row 1 has two zeros (only MOE 30 counts); row 2 has none (all MOEs count)."""
    total, moe = estimates.sum_across(
        [np.array([0.0, 5.0]), np.array([0.0, 7.0]), np.array([10.0, 0.0])],
        [np.array([20.0, 3.0]), np.array([30.0, 4.0]), np.array([12.0, 25.0])],
    )
    np.testing.assert_allclose(total, [10.0, 12.0])
    np.testing.assert_allclose(moe, [math.sqrt(30**2 + 12**2), math.sqrt(3**2 + 4**2 + 25**2)])


def test_grouped_sum_counts_largest_zero_moe_once_per_group():
    """Each group's zero estimates contribute only their largest MOE, once."""
    frame = pd.DataFrame(
        {
            "community_area": ["A", "A", "A", "A", "B", "B", "C"],
            "estimate": [0, 0, 0, 41, 0, 0, 7],
            "moe": [22, 22, 29, 37, 19, 27, 5],
        }
    )
    result = estimates.grouped_sum(frame, "community_area")
    assert list(result.columns) == ["community_area", "estimate", "moe"]
    by_area = result.set_index("community_area")
    assert by_area.loc["A", "estimate"] == 41
    assert by_area.loc["A", "moe"] == pytest.approx(math.sqrt(29**2 + 37**2))
    assert by_area.loc["B", "estimate"] == 0
    assert by_area.loc["B", "moe"] == pytest.approx(27)
    assert by_area.loc["C", "moe"] == pytest.approx(5)


def test_grouped_sum_matches_moe_of_sum_group_by_group():
    """On a random frame with many zeros, the vectorised groupby equals moe_of_sum per group."""
    rng = np.random.default_rng(20240501)
    n = 600
    frame = pd.DataFrame(
        {
            "ward": rng.integers(1, 51, n),
            "year": rng.choice([2019, 2023], n),
            "households": np.where(rng.random(n) < 0.4, 0.0, rng.integers(1, 900, n).astype(float)),
            "households_moe": rng.uniform(5, 300, n).round(0),
        }
    )
    frame.loc[rng.choice(n, 5, replace=False), "households"] = np.nan
    result = estimates.grouped_sum(
        frame, ["ward", "year"], estimate="households", moe="households_moe"
    )
    assert list(result.columns) == ["ward", "year", "households", "households_moe"]
    assert len(result) == frame.groupby(["ward", "year"]).ngroups
    expected_totals, expected_moes = [], []
    for row in result.itertuples(index=False):
        group = frame[(frame["ward"] == row.ward) & (frame["year"] == row.year)]
        expected_totals.append(group["households"].sum(skipna=False))
        expected_moes.append(estimates.moe_of_sum(group["households"], group["households_moe"]))
    np.testing.assert_allclose(result["households"], expected_totals)
    np.testing.assert_allclose(result["households_moe"], expected_moes)
    assert result["households_moe"].isna().sum() >= 1


def test_proportion_matches_handbook_table_8_4():
    """Handbook ch. 8, Table 8.4: 203,119 +/- 5,070 of 630,498 +/- 831 is 0.322 +/- 0.008."""
    women, women_moes = _split(WOMEN_15_AND_OVER)
    total, total_moe = estimates.sum_across(women, women_moes)
    assert total == 630498
    assert round(total_moe) == 831
    share, moe = estimates.proportion(203119, 5070, total, total_moe)
    assert share == pytest.approx(0.322, abs=0.0005)
    assert moe == pytest.approx(0.008, abs=0.0005)


def test_proportion_falls_back_to_ratio_formula_when_root_negative():
    """Handbook ch. 8: if MOE_X^2 - P^2 MOE_Y^2 < 0, use the ratio formula; never raise.

    census-data-aggregator raises DataError for the handbook numbers swapped
    round; here the same call returns the ratio MOE.
    """
    numerator, numerator_moe, denominator, denominator_moe = 10.0, 5.0, 20.0, 30.0
    assert numerator_moe**2 - (numerator / denominator) ** 2 * denominator_moe**2 < 0
    share, moe = estimates.proportion(numerator, numerator_moe, denominator, denominator_moe)
    assert share == 0.5
    assert moe == pytest.approx(math.sqrt(5**2 + 0.25 * 30**2) / 20)
    assert (share, moe) == estimates.ratio(numerator, numerator_moe, denominator, denominator_moe)

    shares, moes = estimates.proportion(
        np.array([203119.0, 10.0]), np.array([5070.0, 5.0]), np.array([630498.0, 20.0]), np.array([831.0, 30.0])
    )
    assert moes[0] == pytest.approx(0.008, abs=0.0005)
    assert moes[1] == pytest.approx(math.sqrt(5**2 + 0.25 * 30**2) / 20)


def test_ratio_matches_handbook_table_8_5():
    """Handbook ch. 8, Table 8.5: never-married men / women is 1.117 +/- 0.039."""
    men, men_moes = _split(NEVER_MARRIED_MEN)
    total, total_moe = estimates.sum_across(men, men_moes)
    assert total == 226840
    assert total_moe == pytest.approx(5556, abs=1)
    value, moe = estimates.ratio(total, total_moe, 203119, 5070)
    assert value == pytest.approx(1.117, abs=0.0005)
    assert moe == pytest.approx(0.039, abs=0.0005)


def test_product_matches_handbook_example():
    """Handbook ch. 8, product: 74,506,512 +/- 228,238 x 0.824 +/- 0.001 = 61,393,366 +/- 202,289."""
    value, moe = estimates.product(74506512, 228238, 0.824, 0.001)
    assert value == pytest.approx(61393366, abs=0.5)
    assert moe == pytest.approx(202289, abs=0.5)


def test_percent_change_matches_handbook_example():
    """Handbook ch. 8, percent change (census-data-aggregator test_percentchange).

    Never-married women in Fairfax, 135,173 +/- 3,860 to 139,301 +/- 4,047:
    +3.05 percent with MOE 4.20 percentage points.
    """
    pct, moe = estimates.percent_change(135173, 3860, 139301, 4047)
    assert pct == pytest.approx(3.0538643072211165)
    assert moe == pytest.approx(4.198069852261231)


def test_significance_test_follows_handbook_formula():
    """Handbook ch. 7, "Determining Statistical Significance": Z = (A - B) / sqrt(SE_A^2 + SE_B^2).

    The estimates are the handbook's ch. 8 ones (not a worked test printed in
    the handbook): Fairfax never-married women 139,301 +/- 4,047 vs
    135,173 +/- 3,860 gives Z = 4,128 / 3,399.8 = 1.21, not significant at
    90%; never-married men 226,840 +/- 5,556 vs women 203,119 +/- 5,070 gives
    Z = 5.19, significant.
    """
    z = estimates.significance_z(139301, 4047, 135173, 3860)
    assert z == pytest.approx(4128 / (math.sqrt(4047**2 + 3860**2) / 1.645))
    assert z == pytest.approx(1.214, abs=0.001)
    assert estimates.significantly_different(139301, 4047, 135173, 3860) is False
    assert estimates.significance_z(226840, 5556, 203119, 5070) == pytest.approx(5.188, abs=0.001)
    assert estimates.significantly_different(226840, 5556, 203119, 5070) is True
    assert estimates.significantly_different(139301, 4047, 135173, 3860, z=1.0) is True


def test_overlap_adjustment_shrinks_moe_by_sqrt_of_non_overlapping_share():
    """Compass appendix / 2008-2012 testing instructions: SE x sqrt(1 - C), C = 4/5 for adjacent 5-year periods."""
    _, plain = estimates.difference(226840, 5556, 203119, 5070)
    value, adjusted = estimates.difference(226840, 5556, 203119, 5070, overlap_years=4, period_years=5)
    assert value == 23721
    assert plain == pytest.approx(math.sqrt(5556**2 + 5070**2))
    assert adjusted == pytest.approx(plain * math.sqrt(1 - 4 / 5))
    z_plain = estimates.significance_z(139301, 4047, 135173, 3860)
    z_overlap = estimates.significance_z(139301, 4047, 135173, 3860, overlap_years=4)
    assert z_overlap == pytest.approx(z_plain / math.sqrt(0.2))
    assert estimates.significantly_different(139301, 4047, 135173, 3860, overlap_years=4) is True


@pytest.mark.parametrize("overlap_years", [-1, 5, 6])
def test_overlap_outside_the_period_is_refused(overlap_years):
    with pytest.raises(ValidationError, match="overlap_years"):
        estimates.difference(1, 1, 2, 1, overlap_years=overlap_years, period_years=5)


@pytest.mark.parametrize(
    ("cv", "label"),
    [
        (0.0, "reliable"),
        (14.999, "reliable"),
        (15.0, "use with caution"),
        (30.0, "use with caution"),
        (30.001, "unreliable"),
        (float("nan"), "no estimate"),
    ],
)
def test_reliability_labels_at_the_thresholds(cv, label):
    assert estimates.RELIABILITY_THRESHOLDS == (15.0, 30.0)
    assert estimates.reliability(cv) == label


def test_series_in_series_out_keeps_the_index():
    index = pd.Index(["17031010100", "17031010201", "17031010202"], name="tract")
    count = pd.Series([120.0, 0.0, 45.0], index=index)
    count_moe = pd.Series([40.0, 13.0, 30.0], index=index)
    total = pd.Series([800.0, 650.0, 0.0], index=index)
    total_moe = pd.Series([60.0, 70.0, 13.0], index=index)

    cv = estimates.coefficient_of_variation(count, count_moe)
    labels = estimates.reliability(cv)
    share, share_moe = estimates.proportion(count, count_moe, total, total_moe)
    summed, summed_moe = estimates.sum_across([count, total], [count_moe, total_moe])
    diff, diff_moe = estimates.difference(total, total_moe, count, count_moe)
    different = estimates.significantly_different(total, total_moe, count, count_moe)
    for result in (cv, labels, share, share_moe, summed, summed_moe, diff, diff_moe, different):
        assert isinstance(result, pd.Series)
        assert result.index.equals(index)
    assert labels.tolist() == ["use with caution", "no estimate", "unreliable"]
    assert share.iloc[0] == pytest.approx(0.15)
    assert np.isnan(share.iloc[2])
    assert different.dtype == bool
    assert different.tolist() == [True, True, True]


def test_numpy_in_numpy_out_and_scalar_in_scalar_out():
    arr = estimates.standard_error(np.array([1.645, 3.29]))
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, [1.0, 2.0])
    assert isinstance(estimates.standard_error(16.45), float)


def test_series_with_different_indexes_are_refused():
    with pytest.raises(ValueError, match="share one index"):
        estimates.ratio(pd.Series([1.0], index=["a"]), 1.0, pd.Series([2.0], index=["b"]), 1.0)


def test_missing_values_propagate():
    assert math.isnan(estimates.moe_of_sum([10, np.nan, 0], [5, 3, 2]))
    total, moe = estimates.sum_across(
        [np.array([1.0, np.nan]), np.array([2.0, 3.0])], [np.array([1.0, 1.0]), np.array([1.0, 1.0])]
    )
    assert not np.isnan(total[0]) and np.isnan(total[1]) and np.isnan(moe[1])
    frame = pd.DataFrame({"ward": [1, 1, 2], "estimate": [5.0, np.nan, 4.0], "moe": [1.0, 1.0, 2.0]})
    grouped = estimates.grouped_sum(frame, "ward").set_index("ward")
    assert np.isnan(grouped.loc[1, "estimate"]) and np.isnan(grouped.loc[1, "moe"])
    assert grouped.loc[2, "moe"] == 2.0
    share, share_moe = estimates.proportion(np.nan, 5.0, 100.0, 10.0)
    assert math.isnan(share) and math.isnan(share_moe)
    assert math.isnan(estimates.coefficient_of_variation(100.0, np.nan))
    assert estimates.significantly_different(np.nan, 1.0, 5.0, 1.0) is False


def test_zero_denominators_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(estimates.coefficient_of_variation(0, 12))
        share, moe = estimates.proportion(0, 12, 0, 12)
        assert math.isnan(share) and math.isnan(moe)
        change, change_moe = estimates.percent_change(0, 12, 40, 20)
        assert math.isnan(change) and math.isnan(change_moe)
        assert estimates.significance_z(7, 0, 7, 0) == 0.0
        assert estimates.significantly_different(8, 0, 7, 0) is True


# ---- confidence intervals and reliability --------------------------------------------------------

def test_confidence_interval_floors_at_zero_and_caps_shares_at_one():
    lower, upper = estimates.confidence_interval(pd.Series([0.02, 0.5, 0.97]), pd.Series([0.05, 0.1, 0.05]),
                                                 ceiling=1.0)
    assert lower.tolist() == pytest.approx([0.0, 0.4, 0.92])
    assert upper.tolist() == pytest.approx([0.07, 0.6, 1.0])


def test_confidence_interval_of_a_count_keeps_it_at_or_above_zero_and_missing_stays_missing():
    assert estimates.confidence_interval(50.0, 80.0) == (0.0, 130.0)
    lower, upper = estimates.confidence_interval(np.array([np.nan, 10.0]), np.array([1.0, 2.0]),
                                                 ceiling=np.array([1.0, np.inf]))
    assert np.isnan(lower[0]) and np.isnan(upper[0]) and list(upper[1:]) == [12.0]


def test_the_reliability_words_are_the_labels_reliability_gives():
    cv = np.array([0.0, estimates.RELIABILITY_THRESHOLDS[0], estimates.RELIABILITY_THRESHOLDS[1] + 1, np.nan])
    assert tuple(estimates.reliability(cv)) == estimates.RELIABILITY_LABELS
    assert set(estimates.CV_RANGES) == set(estimates.RELIABILITY_LABELS) - {estimates.NO_ESTIMATE}
    assert all(f"'{label}'" in estimates.RELIABILITY_RULE for label in estimates.RELIABILITY_LABELS)
