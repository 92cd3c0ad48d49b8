"""ACS arithmetic with margins of error: sums, shares, ratios, differences, tests.

Formulas follow the Census Bureau's *Understanding and Using American Community
Survey Data: What All Data Users Need to Know* (2020; "the handbook"), chapter 7
"Understanding Error and Determining Statistical Significance" and chapter 8
"Calculating Measures of Error for Derived Estimates". The worked examples in
the docstrings are the handbook's own (Tables 8.1-8.5: never-married women and
men in Fairfax, Arlington and Alexandria, Virginia) as reproduced in datadesk's
census-data-aggregator tests.

Every function takes scalars, numpy arrays or pandas Series and gives back the
same kind: a Series in gives a Series out with the same index. Series given
together must share one index (align them first); arithmetic is positional.
Missing values (NaN) propagate: anything computed from a missing estimate or
MOE is missing. All MOEs are 90% margins of error, as published.

These are the handbook's approximations: they ignore covariance between the
estimates combined, and the handbook warns they grow less accurate the more
estimates are combined.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from equity.errors import ValidationError

Z_90 = 1.645
"""z of the 90% confidence level that ACS MOEs are published at (2006 onwards)."""

FORMULAS = {
    "sum": "MOE of the sum = √( MOE₁² + MOE₂² + … + MOEₙ² )",
    "share": "share p = X ÷ Y",
    "share_moe": "MOE of the share = √( MOE(X)² − p² × MOE(Y)² ) ÷ Y",
    "share_moe_fallback": "MOE of the share = √( MOE(X)² + p² × MOE(Y)² ) ÷ Y",
    "difference_moe": "MOE of A − B = √( MOE(A)² + MOE(B)² )",
    "z": "Z = (A − B) ÷ √( SE(A)² + SE(B)² )",
    "standard_error": f"standard error SE = MOE ÷ {Z_90}",
    "overlap_moe": "MOE of A − B = √(1 − C) × √( MOE(A)² + MOE(B)² )",
    "overlap": "C = years the two periods share ÷ 5",
    "cv": f"CV = SE ÷ estimate × 100%, with SE = MOE ÷ {Z_90}",
}
"""The handbook's formulas in words and symbols, written once: the Methodology page shows them and the
data dictionaries quote them. Each function below cites the one it computes."""

RELIABILITY_THRESHOLDS = (15.0, 30.0)
"""CV (percent) cut-offs between "reliable", "use with caution" and "unreliable".

The Census Bureau sets no hard-and-fast threshold (handbook ch. 7: the
acceptable error "depends on the analysis"). 15 and 30 are the cut-offs
circulated with the Bureau's ACS case studies and widely used by planning
agencies: CV < 15 high reliability, 15-30 use with care, > 30 low
reliability. (Esri's Business Analyst uses a looser 12 / 40.)
"""

RELIABLE, USE_WITH_CAUTION, UNRELIABLE, NO_ESTIMATE = "reliable", "use with caution", "unreliable", "no estimate"
RELIABILITY_LABELS = (RELIABLE, USE_WITH_CAUTION, UNRELIABLE, NO_ESTIMATE)
"""The labels ``reliability`` gives, best first; the only reliability words the app uses."""

CV_RANGES = {RELIABLE: f"CV under {RELIABILITY_THRESHOLDS[0]:g}%",
             USE_WITH_CAUTION: f"CV {RELIABILITY_THRESHOLDS[0]:g}–{RELIABILITY_THRESHOLDS[1]:g}%",
             UNRELIABLE: f"CV over {RELIABILITY_THRESHOLDS[1]:g}%"}
"""The CV range of each label, in words ("CV under 15%")."""

RELIABILITY_RULE = (f"'{RELIABLE}' when the CV is under {RELIABILITY_THRESHOLDS[0]:g}%, '{USE_WITH_CAUTION}' from "
                    f"{RELIABILITY_THRESHOLDS[0]:g}% to {RELIABILITY_THRESHOLDS[1]:g}%, '{UNRELIABLE}' above "
                    f"{RELIABILITY_THRESHOLDS[1]:g}%, '{NO_ESTIMATE}' when the CV cannot be computed (a zero or "
                    "missing estimate).")
"""``reliability``'s rule in one sentence, for data dictionaries."""


def _index_of(*values):
    """The index of the Series among ``values`` (None if there is none).

    Raises ValueError when several Series disagree on their index, because the
    functions here combine values by position.
    """
    index = None
    for value in values:
        if isinstance(value, pd.Series):
            if index is None:
                index = value.index
            elif not index.equals(value.index):
                raise ValueError(
                    "estimates: pandas Series given together must share one index; "
                    "align them first (e.g. with .reindex)."
                )
    return index


def _is_scalar(*values) -> bool:
    return all(np.ndim(v) == 0 and not isinstance(v, (pd.Series, np.ndarray)) for v in values)


def _array(value) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(value, dtype=float)


def _like(result, *inputs):
    """Give ``result`` back in the kind of the inputs: float, ndarray or Series."""
    index = _index_of(*inputs)
    if index is not None:
        return pd.Series(result, index=index)
    if _is_scalar(*inputs):
        return np.asarray(result).item()
    return np.asarray(result)


def standard_error(moe):
    """Standard error from a 90% margin of error: ``SE = MOE / 1.645``.

    Handbook ch. 7, "Calculating Standard Errors" (Equation 1). Worked example
    (handbook Table 8.1 aggregate): ``standard_error(5070)`` = 3,082.
    """
    return _like(_array(moe) / Z_90, moe)


def coefficient_of_variation(estimate, moe):
    """Coefficient of variation in percent: ``CV = SE / |estimate| * 100``.

    Handbook ch. 7, "Calculating a Measure of Reliability" (CV = SE / estimate
    x 100). The absolute value keeps the CV of a negative difference positive.
    NaN where the estimate is zero (undefined) or either value is missing.
    Worked example (handbook Table 8.1): 203,119 never-married women with MOE
    5,070 have SE 3,082 and CV 1.5 percent.
    """
    est = _array(estimate)
    se = _array(moe) / Z_90
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est == 0, np.nan, se / np.abs(est) * 100.0)
    return _like(cv, estimate, moe)


def reliability(cv):
    """Reliability label for a CV in percent, using ``RELIABILITY_THRESHOLDS``.

    ``cv < 15`` -> "reliable"; ``15 <= cv <= 30`` -> "use with caution";
    ``cv > 30`` -> "unreliable"; missing CV -> "no estimate". The handbook
    (ch. 7) leaves the thresholds to the user; see ``RELIABILITY_THRESHOLDS``.
    Example: ``reliability(1.5)`` (handbook Table 8.1 aggregate) is "reliable".
    """
    values = _array(cv)
    caution, unreliable = RELIABILITY_THRESHOLDS
    labels = np.select(
        [np.isnan(values), values < caution, values <= unreliable],
        [NO_ESTIMATE, RELIABLE, USE_WITH_CAUTION],
        default=UNRELIABLE,
    ).astype(object)
    index = _index_of(cv)
    if index is not None:
        return pd.Series(labels, index=index, dtype=object)
    if _is_scalar(cv):
        return str(labels.item())
    return labels


def _sum_rows(estimates: np.ndarray, moes: np.ndarray):
    """Row sums of a 2-D block of estimates and their MOEs, with the zero rule.

    Handbook ch. 8, "Calculating Measures of Error for Aggregated Count Data":
    MOE = sqrt(sum of squared MOEs), except that among estimates of zero only
    the largest MOE is counted, once. A row with any missing value is missing.
    """
    is_zero = estimates == 0
    nonzero_squares = np.where(is_zero, 0.0, moes**2).sum(axis=1)
    zero_moes = np.where(is_zero, moes, -np.inf)
    largest_zero = zero_moes.max(axis=1, initial=-np.inf)
    largest_zero = np.where(np.isneginf(largest_zero), 0.0, largest_zero)
    missing = (np.isnan(estimates) | np.isnan(moes)).any(axis=1)
    total = np.where(missing, np.nan, estimates.sum(axis=1))
    moe = np.where(missing, np.nan, np.sqrt(nonzero_squares + largest_zero**2))
    return total, moe


def moe_of_sum(estimates, moes) -> float:
    """MOE of the sum of one group of estimates.

    Handbook ch. 8, "Calculating Measures of Error for Aggregated Count Data"
    (Equation 1): ``MOE = sqrt(sum MOE_i^2)``; where several estimates are zero,
    only the largest of their MOEs is counted, once (the Bureau's zero-estimate
    rule, as in its ACS training "Using ACS Estimates and Margins of Error",
    2016 slides p. 26, followed by census-data-aggregator). Missing if any
    estimate or MOE is missing.

    Zero-rule example (census-data-aggregator's test): estimates 0, 0, 0, 41
    with MOEs 22, 22, 29, 37 have MOE sqrt(29^2 + 37^2) = 47.0.

    Worked example (handbook Table 8.1, never-married women in Fairfax,
    Arlington and Alexandria): estimates 135,173 / 43,104 / 24,842 with MOEs
    3,860 / 2,642 / 1,957 sum to 203,119 with MOE 5,070.
    """
    est = _array(estimates).reshape(1, -1)
    moe = _array(moes).reshape(1, -1)
    if est.shape != moe.shape:
        raise ValueError(
            f"moe_of_sum: {est.size} estimates but {moe.size} MOEs; give one MOE per estimate."
        )
    return float(_sum_rows(est, moe)[1][0])


def grouped_sum(frame: pd.DataFrame, by, estimate: str = "estimate", moe: str = "moe") -> pd.DataFrame:
    """Sum estimates by group with ``moe_of_sum``'s rule, without a loop per group.

    Handbook ch. 8, "Calculating Measures of Error for Aggregated Count Data",
    including the zero-estimate rule (largest zero-estimate MOE counted once
    per group). A group with any missing estimate or MOE is missing. Rows whose
    group key is missing form their own group rather than vanishing.

    Returns one row per group: the ``by`` columns, then ``estimate`` and
    ``moe`` (named as passed in).

    Worked example (handbook Table 8.1 as three rows of one group): 135,173
    +/- 3,860, 43,104 +/- 2,642 and 24,842 +/- 1,957 give 203,119 +/- 5,070.
    """
    keys = [by] if isinstance(by, str) else list(by)
    est = frame[estimate].to_numpy(dtype=float, na_value=np.nan)
    err = frame[moe].to_numpy(dtype=float, na_value=np.nan)
    is_zero = est == 0
    parts = pd.DataFrame(
        {
            "total": est,
            "nonzero_squares": np.where(is_zero, 0.0, err**2),
            "zero_moe": np.where(is_zero, err, np.nan),
            "missing": np.isnan(est) | np.isnan(err),
        },
        index=frame.index,
    )
    grouped = parts.groupby([frame[k] for k in keys], sort=True, dropna=False, observed=True).agg(
        total=("total", "sum"),
        nonzero_squares=("nonzero_squares", "sum"),
        zero_moe=("zero_moe", "max"),
        missing=("missing", "any"),
    )
    largest_zero = grouped["zero_moe"].fillna(0.0).to_numpy()
    missing = grouped["missing"].to_numpy(dtype=bool)
    result = grouped.index.to_frame(index=False)
    result[estimate] = np.where(missing, np.nan, grouped["total"].to_numpy())
    result[moe] = np.where(
        missing, np.nan, np.sqrt(grouped["nonzero_squares"].to_numpy() + largest_zero**2)
    )
    return result


def sum_across(estimates: Sequence, moes: Sequence) -> tuple:
    """Element-wise sum of several aligned estimate columns (e.g. two answer categories per tract).

    Same rule as ``moe_of_sum`` (handbook ch. 8, aggregated count data, with the
    zero-estimate rule) applied row by row. Returns ``(estimate, moe)`` of the
    kind of the inputs.

    Worked example (handbook Table 8.1): ``sum_across([135173, 43104, 24842],
    [3860, 2642, 1957])`` is ``(203119, 5070.46...)``.
    """
    if len(estimates) != len(moes) or not estimates:
        raise ValueError(
            f"sum_across: {len(estimates)} estimate columns but {len(moes)} MOE columns; "
            "give one MOE column per estimate column (at least one)."
        )
    everything = list(estimates) + list(moes)
    index = _index_of(*everything)
    columns = np.broadcast_arrays(*(np.atleast_1d(_array(v)) for v in everything))
    est = np.column_stack(columns[: len(estimates)])
    err = np.column_stack(columns[len(estimates) :])
    total, moe = _sum_rows(est, err)
    if index is not None:
        return pd.Series(total, index=index), pd.Series(moe, index=index)
    if _is_scalar(*everything):
        return float(total[0]), float(moe[0])
    return total, moe


def ratio(numerator, numerator_moe, denominator, denominator_moe) -> tuple:
    """Ratio of two estimates where the numerator is not a subset of the denominator.

    Handbook ch. 8, "Calculating Measures of Error for Derived Ratios":
    ``R = X / Y``, ``MOE(R) = sqrt(MOE_X^2 + R^2 * MOE_Y^2) / Y``. NaN where
    ``Y`` is zero.

    Worked example (handbook Table 8.5): never-married men 226,840 +/- 5,556
    over never-married women 203,119 +/- 5,070 is 1.117 +/- 0.039.
    """
    x, y = _array(numerator), _array(denominator)
    moe_x, moe_y = _array(numerator_moe), _array(denominator_moe)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(y == 0, np.nan, x / y)
        moe = np.sqrt(moe_x**2 + r**2 * moe_y**2) / y
    inputs = (numerator, numerator_moe, denominator, denominator_moe)
    return _like(r, *inputs), _like(moe, *inputs)


def proportion(numerator, numerator_moe, denominator, denominator_moe) -> tuple:
    """Share of a total where the numerator is a subset of the denominator.

    Handbook ch. 8, "Calculating Measures of Error for Derived Proportions and
    Percentages": ``P = X / Y``, ``MOE(P) = sqrt(MOE_X^2 - P^2 * MOE_Y^2) / Y``.
    Where the value under the root is negative, the handbook advises the ratio
    formula instead, ``sqrt(MOE_X^2 + P^2 * MOE_Y^2) / Y``; that is what is
    returned there (never an error). NaN where ``Y`` is zero. Multiply both by
    100 for a percentage.

    Worked example (handbook Table 8.4): never-married women 203,119 +/- 5,070
    out of women 15 and over 630,498 +/- 831 is 0.322 +/- 0.008.
    """
    x, y = _array(numerator), _array(denominator)
    moe_x, moe_y = _array(numerator_moe), _array(denominator_moe)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(y == 0, np.nan, x / y)
        under_root = moe_x**2 - p**2 * moe_y**2
        under_root = np.where(under_root < 0, moe_x**2 + p**2 * moe_y**2, under_root)
        moe = np.sqrt(under_root) / y
    inputs = (numerator, numerator_moe, denominator, denominator_moe)
    return _like(p, *inputs), _like(moe, *inputs)


def product(a, a_moe, b, b_moe) -> tuple:
    """Product of two estimates, e.g. a count times a share.

    Handbook ch. 8, "Calculating Measures of Error for the Product of Two
    Estimates": ``MOE(A*B) = sqrt(A^2 * MOE_B^2 + B^2 * MOE_A^2)``.

    Worked example (handbook ch. 8): 74,506,512 +/- 228,238 owner-occupied
    units times 0.824 +/- 0.001 single-unit detached is 61,393,366 +/- 202,289.
    """
    va, vb = _array(a), _array(b)
    ma, mb = _array(a_moe), _array(b_moe)
    value = va * vb
    moe = np.sqrt(va**2 * mb**2 + vb**2 * ma**2)
    inputs = (a, a_moe, b, b_moe)
    return _like(value, *inputs), _like(moe, *inputs)


def _overlap_factor(overlap_years, period_years) -> float:
    """``sqrt(1 - C)`` with ``C = overlap_years / period_years``.

    Source: *A Compass for Understanding and Using ACS Data: What General Data
    Users Need to Know* (2008), appendix on comparing multiyear estimates, and
    the Bureau's "Instructions for Applying Statistical Testing to the
    2008-2012 ACS 5-Year Data": for periods sharing a fraction C of their
    years, ``SE(A - B) = sqrt(1 - C) * sqrt(SE_A^2 + SE_B^2)``. The 2020
    handbook (ch. 3 and 8) still urges caution with overlapping periods.
    """
    if not period_years > 0:
        raise ValidationError(f"period_years must be a positive number of years; got {period_years!r}.")
    if not 0 <= overlap_years < period_years:
        raise ValidationError(
            f"overlap_years must be at least 0 and less than period_years ({period_years}); "
            f"got {overlap_years!r}."
        )
    return float(np.sqrt(1.0 - overlap_years / period_years))


def difference(a, a_moe, b, b_moe, overlap_years=0, period_years=5) -> tuple:
    """Difference ``a - b`` and its MOE, for periods that may overlap.

    Handbook ch. 8 (sums and differences use the same formula):
    ``MOE = sqrt(MOE_a^2 + MOE_b^2)``. When two multiyear periods share
    ``overlap_years`` of their ``period_years`` (e.g. 2018-2022 vs 2019-2023:
    4 of 5), the MOE is multiplied by ``sqrt(1 - overlap_years/period_years)``
    (Compass appendix / 2008-2012 statistical testing instructions; see
    ``_overlap_factor``).

    Worked example (handbook Tables 8.1/8.5 estimates): never-married men
    226,840 +/- 5,556 minus never-married women 203,119 +/- 5,070 is
    23,721 +/- 7,522. With 4 of 5 years overlapping the MOE would be
    7,522 * sqrt(0.2) = 3,364.
    """
    factor = _overlap_factor(overlap_years, period_years)
    va, vb = _array(a), _array(b)
    value = va - vb
    moe = np.sqrt(_array(a_moe) ** 2 + _array(b_moe) ** 2) * factor
    inputs = (a, a_moe, b, b_moe)
    return _like(value, *inputs), _like(moe, *inputs)


def percent_change(old, old_moe, new, new_moe) -> tuple:
    """Percent change from ``old`` to ``new`` and its MOE, in percentage points.

    Handbook ch. 8, "Calculating Measures of Error for Percent Change":
    ``100 * (new - old) / old``, with MOE ``100 *`` the ratio MOE of
    ``new / old``. NaN where ``old`` is zero.

    Worked example (handbook ch. 8; datadesk's test): never-married women in
    Fairfax from 135,173 +/- 3,860 to 139,301 +/- 4,047 is +3.05% +/- 4.20.
    """
    v_old, v_new = _array(old), _array(new)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(v_old == 0, np.nan, (v_new - v_old) / v_old * 100.0)
    _, ratio_moe = ratio(v_new, _array(new_moe), v_old, _array(old_moe))
    inputs = (old, old_moe, new, new_moe)
    return _like(pct, *inputs), _like(np.asarray(ratio_moe) * 100.0, *inputs)


def significance_z(a, a_moe, b, b_moe, overlap_years=0, period_years=5):
    """Z statistic for the difference ``a - b`` (signed).

    Handbook ch. 7, "Determining Statistical Significance":
    ``Z = (a - b) / sqrt(SE_a^2 + SE_b^2)`` with ``SE = MOE / 1.645``; the
    denominator is scaled by ``sqrt(1 - overlap_years/period_years)`` for
    overlapping periods (see ``difference``). Where both MOEs are zero
    (controlled estimates) the difference is exact: Z is 0 if ``a == b``,
    else +/- infinity.

    Example (handbook Table 8.1 estimate and the percent-change example's
    earlier period): 139,301 +/- 4,047 vs 135,173 +/- 3,860 gives Z = 1.21.
    """
    diff, moe = difference(_array(a), _array(a_moe), _array(b), _array(b_moe), overlap_years, period_years)
    se = np.asarray(moe) / Z_90
    diff = np.asarray(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((se == 0) & (diff == 0), 0.0, diff / se)
    return _like(z, a, a_moe, b, b_moe)


def significantly_different(a, a_moe, b, b_moe, overlap_years=0, period_years=5, z=Z_90):
    """Whether ``a`` and ``b`` differ at the 90% level: ``|Z| > z``.

    Handbook ch. 7, "Determining Statistical Significance" (Z from
    ``significance_z``; significant if Z < -1.645 or Z > 1.645). Where Z cannot
    be computed (a missing value) the answer is False: no difference can be
    claimed. Pass ``z=1.960`` for a 95% test.

    Example: 139,301 +/- 4,047 vs 135,173 +/- 3,860 (Z = 1.21) is not
    significantly different; 226,840 +/- 5,556 vs 203,119 +/- 5,070 is.
    """
    statistic = np.asarray(significance_z(_array(a), _array(a_moe), _array(b), _array(b_moe), overlap_years, period_years))
    with np.errstate(invalid="ignore"):
        result = np.abs(statistic) > z
    index = _index_of(a, a_moe, b, b_moe)
    if index is not None:
        return pd.Series(result, index=index, dtype=bool)
    if _is_scalar(a, a_moe, b, b_moe):
        return bool(result)
    return result


def confidence_interval(estimate, moe, floor: float | None = 0.0, ceiling=None) -> tuple:
    """Lower and upper ends of the 90% interval ``estimate -/+ MOE``, kept within possible values.

    Handbook ch. 7, "Calculating Confidence Intervals": ``estimate +/- MOE``;
    where the lower end falls below zero for a count (or share) that cannot be
    negative, the handbook's advice is to report zero (``floor``; None keeps
    it). ``ceiling`` (1 for shares; one value, or one per estimate) caps the
    upper end the same way. Missing values stay missing.

    Example: 50 +/- 80 households is 0 to 130; a share of 0.98 +/- 0.05 with
    ``ceiling=1`` is 0.93 to 1.
    """
    value, error = _array(estimate), _array(moe)
    lower, upper = value - error, value + error
    if floor is not None:
        lower = np.where(np.isnan(lower), np.nan, np.maximum(lower, floor))
    if ceiling is not None:
        upper = np.where(np.isnan(upper), np.nan, np.minimum(upper, _array(ceiling)))
    return _like(lower, estimate, moe), _like(upper, estimate, moe)
