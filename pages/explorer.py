"""Neighborhood explorer: filter, rank and compare community areas or wards, and combine areas of your own.

Every figure comes with its 90% margin of error; comparisons, rank ranges and
combined figures are computed in ``equity.compare``. Filters and selections
live in the URL, so a copied link restores the view.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from equity import change, compare, geography, metrics, queries
from equity.errors import EquityError
from dashboard import change_view, common, tables

GEOGRAPHIES = {"community_area": "Community areas", "ward": "Wards"}
SINGULAR = {"community_area": "community area", "ward": "ward"}
VALUES = {"share": "Share of households", "count": "Number of households"}
VALUE_BUTTONS = {"share": "Share", "count": "Households"}
SORTS = {"highest": "Highest first", "lowest": "Lowest first", "name": "Name (A–Z)", "number": "Number"}
CUSTOM_UNITS = {"community_area": "Community areas", "tract": "Census tracts"}
NO_THRESHOLD = "none"
SHARE_METRICS = [k for k, m in metrics.METRICS.items() if m.denominator]
PERCENTS = [str(p) for p in range(0, 101)]
COMPARISON_COLOURS = {  # Okabe-Ito palette: distinguishable with colour-blindness; shapes repeat the meaning
    compare.HIGHER_THAN_CITY: ("#D55E00", "triangle-up"),
    compare.LOWER_THAN_CITY: ("#0072B2", "triangle-down"),
    compare.NOT_DIFFERENT: ("#6b6b6b", "circle"),
    compare.NO_ESTIMATE: ("#bbbbbb", "square"),
}
CHANGE_SORTS = {"improved": "Most improved first", "worsened": "Most worsened first", "name": "Name (A–Z)",
                "number": "Number"}

data = common.load_or_stop()


def forget(names: list[str]) -> None:
    """Drop URL selections that mean something else once the geography or unit changes."""
    for name in names:
        st.query_params.pop(name, None)


def number_key(area_id: str) -> int:
    return int(area_id) if area_id.isdigit() else 0


# ---- charts (drawn through common.chart) ----------------------------------------------

def ranking_chart(chart_rows: pd.DataFrame, is_share: bool, axis_format: str, city_value,
                  x_title: str) -> alt.LayerChart:
    """Each area's estimate (dot, shaped and coloured by its comparison with the city) with its 90% interval
    (bar), in the table's order; the city's share as a dashed line when ``city_value`` is given."""
    domain = [c for c in COMPARISON_COLOURS if c in set(chart_rows["comparison"])]
    colour = alt.Color("comparison:N", title="Compared with the city" if is_share else "Share compared with the city",
                       scale=alt.Scale(domain=domain, range=[COMPARISON_COLOURS[c][0] for c in domain]),
                       legend=alt.Legend(orient="top"))
    shape = alt.Shape("comparison:N", scale=alt.Scale(domain=domain, range=[COMPARISON_COLOURS[c][1] for c in domain]),
                      legend=None)
    y = alt.Y("area_name:N", sort=list(chart_rows["area_name"]), title=None,
              axis=alt.Axis(labelOverlap=False, labelLimit=220, labelFontSize=12))
    tooltip = [alt.Tooltip("area_name:N", title="Area"), alt.Tooltip("estimate:N", title="Estimate ± MOE"),
               alt.Tooltip("comparison:N", title="Compared with city"), alt.Tooltip("rank:Q", title="Rank"),
               alt.Tooltip("possible_ranks:N", title="Possible ranks")]
    base = alt.Chart(chart_rows)
    layers = [base.mark_rule(strokeWidth=2).encode(y=y, x=alt.X("lower:Q", title=x_title,
                                                                 axis=alt.Axis(format=axis_format, orient="top")),
                                                   x2="upper:Q", color=colour, tooltip=tooltip),
              base.mark_point(filled=True, size=70, opacity=1).encode(y=y, x="value:Q", color=colour, shape=shape,
                                                                      tooltip=tooltip)]
    if city_value is not None:
        city_frame = pd.DataFrame({"city": [city_value], "label": [f"City {common.format_share(city_value)}"]})
        layers.append(alt.Chart(city_frame).mark_rule(color="black", strokeDash=[5, 4]).encode(x="city:Q"))
        layers.append(alt.Chart(city_frame).mark_text(align="left", dx=4, dy=-6, fontWeight="bold").encode(
            x="city:Q", y=alt.value(0), text="label:N"))
    return alt.layer(*layers).properties(height=alt.Step(22))


def context_chart(scatter_rows: pd.DataFrame, y_title: str, share: bool) -> alt.Chart:
    """One point per area: the measure against median household income."""
    return alt.Chart(scatter_rows).mark_circle(size=80, opacity=0.8, color="#0072B2").encode(
        x=alt.X("median_household_income:Q", title="Median household income (estimated, no MOE)",
                axis=alt.Axis(format="$,.0f")),
        y=alt.Y("y:Q", title=y_title, axis=alt.Axis(format=".0%" if share else ",.0f")),
        tooltip=[alt.Tooltip("area_name:N", title="Area"), alt.Tooltip("estimate:N", title="Estimate ± MOE"),
                 alt.Tooltip("income:N", title="Median household income")]).properties(height=420)


# ---- view controls -------------------------------------------------------------------

st.title("Neighborhood explorer")
st.caption("Filter, rank and compare Chicago's community areas and wards on home internet and computer access. "
           "Every estimate has a 90% margin of error (±); rankings and comparisons take it into account.")

year_options = [str(y) for y in data.years]
geo = common.url_choice("geo", GEOGRAPHIES, "community_area")
year = int(common.url_choice("year", year_options, str(data.latest_year)))
metric_key = common.url_choice("metric", {k: m.label for k, m in metrics.METRICS.items()}, "unconnected")
value = common.url_choice("value", VALUES, "share")

controls = st.columns([1.5, 1.2, 2.2, 1.3])
geo = controls[0].radio("Areas", list(GEOGRAPHIES), index=list(GEOGRAPHIES).index(geo), format_func=GEOGRAPHIES.get,
                        horizontal=True, key="explorer-geo", on_change=forget, args=(["areas", "compare"],))
year = int(controls[1].selectbox("ACS 5-year period", year_options, index=year_options.index(str(year)),
                                 format_func=lambda y: common.period(int(y)).split(" ")[0], key="explorer-year"))
metric_key = controls[2].selectbox("Measure", list(metrics.METRICS), index=list(metrics.METRICS).index(metric_key),
                                   format_func=common.metric_label, key="explorer-metric")
metric = metrics.METRICS[metric_key]
if metric.compared_on == "count":
    value = "count"
    controls[3].caption("This measure is a count of households; it has no share.")
else:
    value = controls[3].radio("Rank by", list(VALUES), index=list(VALUES).index(value), format_func=VALUE_BUTTONS.get,
                              horizontal=True, key="explorer-value")

names = queries.area_names(data, geo).sort_index(key=lambda ids: ids.map(number_key))
all_ids = list(names.index)
label_of = names.to_dict()
noun = GEOGRAPHIES[geo].lower()


# ---- filters -------------------------------------------------------------------------

try:
    sides = queries.sides(data, geo)
except EquityError as exc:
    sides = None
    st.warning(f"The sides-of-the-city filter is unavailable: {exc}")
ward_ids = [str(w) for w in range(1, 51)]

chosen_names = common.url_list("areas", all_ids)
chosen_sides = common.url_list("sides", list(compare.SIDES)) if sides is not None else []
chosen_wards = common.url_list("wards", ward_ids) if geo == "community_area" else []
threshold_metric = common.url_choice("tmetric", [NO_THRESHOLD] + SHARE_METRICS, NO_THRESHOLD)
threshold_min = int(common.url_choice("tmin", PERCENTS, "0"))
threshold_max = int(common.url_choice("tmax", PERCENTS, "100"))
sort = common.url_choice("sort", SORTS, "highest")

with st.container(border=True):
    st.markdown("**Filter**")
    row = st.columns([2, 1.6, 1.2] if geo == "community_area" else [2, 1.6])
    chosen_names = row[0].multiselect("By name", all_ids, default=chosen_names, format_func=label_of.get,
                                      placeholder=f"All {noun}", key=f"explorer-areas-{geo}")
    if sides is not None:
        chosen_sides = row[1].multiselect(
            "By side of the city", list(compare.SIDES), default=chosen_sides, placeholder="All sides",
            key="explorer-sides",
            help=None if geo == "community_area" else "A ward counts as on the side where most of its households live.")
    if geo == "community_area":
        chosen_wards = row[2].multiselect("In ward", ward_ids, default=chosen_wards, format_func=lambda w: f"Ward {w}",
                                          placeholder="Any ward", key="explorer-wards",
                                          help="Community areas sharing households with the chosen wards.")
    row = st.columns([2, 2.8])
    threshold_metric = row[0].selectbox(
        "Threshold on", [NO_THRESHOLD] + SHARE_METRICS,
        index=([NO_THRESHOLD] + SHARE_METRICS).index(threshold_metric),
        format_func=lambda k: "No threshold" if k == NO_THRESHOLD else f"Share: {common.metric_label(k)}",
        key="explorer-tmetric")
    if threshold_min > threshold_max:
        st.warning(f"The link's threshold runs from {threshold_min}% to {threshold_max}%; showing 0–100% instead.")
        threshold_min, threshold_max = 0, 100
    if threshold_metric == NO_THRESHOLD:
        row[1].caption("Choose a measure to keep only areas whose share lies in a range you set.")
    else:
        threshold_min, threshold_max = row[1].slider(
            "Keep areas whose share (%) lies between", 0, 100, (threshold_min, threshold_max), step=1,
            format="%d%%", key="explorer-threshold")

threshold_on = threshold_metric != NO_THRESHOLD and (threshold_min, threshold_max) != (0, 100)
shown_ids = queries.chosen_areas(data, geo, year, chosen_names, chosen_sides, chosen_wards,
                                 (threshold_metric, threshold_min / 100, threshold_max / 100) if threshold_on else None)


# ---- ranking ---------------------------------------------------------------------------

tab_rank, tab_compare, tab_custom, tab_context, tab_change = st.tabs(
    ["Ranking", "Compare areas", "Custom area", "Income and age", "Change over time"], key="explorer-tab")
with tab_rank:
    head = st.columns([3, 1])
    sort = head[1].selectbox("Sort", list(SORTS), index=list(SORTS).index(sort), format_func=SORTS.get,
                             key="explorer-sort", label_visibility="collapsed")

city = queries.city_row(data, metric_key, year)
ranked = queries.ranked_areas(data, geo, metric_key, year, value, shown_ids, sort)
ranked = ranked.assign(
    estimate=[common.share_with_moe(r) if value == "share" else common.count_with_moe(r) for _, r in ranked.iterrows()],
    possible_ranks=[f"{b}–{w}" if pd.notna(b) else "—" for b, w in zip(ranked["rank_best"], ranked["rank_worst"])])

with tab_rank:
    head[0].markdown(f"**{common.metric_label(metric_key)}**, {common.period(year)}: showing "
                     f"**{len(ranked)} of {len(all_ids)}** {noun}.")
    if ranked.empty:
        st.info("No area matches these filters. Remove a filter or widen the threshold.")
    else:
        is_share = value == "share"
        axis_format = ".0%" if is_share else ",.0f"
        city_value = city["share"] if is_share else None
        chart_rows = ranked[["area_name", "value", "value_moe", "lower", "upper", "comparison", "rank",
                             "estimate", "possible_ranks"]].astype({"rank": "float"})
        x_title = f"{VALUES[value]}: {metric.label.lower()} (estimate and 90% interval)"
        common.chart(ranking_chart, chart_rows, is_share, axis_format, city_value, x_title,
                     key="explorer-ranking-chart",
                     alt=f"{metric.label} by {SINGULAR[geo]} with 90% intervals" +
                         (f"; dashed line: city {common.format_share(city_value)}" if city_value is not None else ""))
        st.caption(
            ("Dots are estimates, bars their 90% intervals, the dashed line the citywide figure. " if is_share else
             "Dots are estimates, bars their 90% intervals. ")
            + "'Higher' or 'lower than city' means the difference passes the Census Bureau's 90% significance test "
            "on the share. 'Possible ranks' runs from 1 + the number of areas significantly higher to the "
            "number of areas minus those significantly lower: ranks inside that range cannot be told apart.")

        table, table_columns = compare.ranking_table(ranked, geo, value, metric.denominator is not None)
        st.dataframe(table, hide_index=True, key="explorer-ranking-table", column_config=tables.column_config(
            table_columns, helps={metrics.SHARE_MOE.label: "± percentage points",
                                  compare.RANK.label: f"Rank among all {len(all_ids)} {noun}"}))
        common.download_extract(table, table_columns, f"explorer-{geo}-{metric_key}-{year}",
                                key="explorer-ranking-download")


# ---- compare chosen areas -------------------------------------------------------------

compare_ids = common.url_list("compare", all_ids, limit=8)
with tab_compare:
    compare_ids = st.multiselect(f"Choose two or more {noun} (the first is the one the others are tested against)",
                                 all_ids, default=compare_ids, format_func=label_of.get,
                                 key=f"explorer-compare-{geo}", max_selections=8)
    if len(compare_ids) < 2:
        st.info(f"Choose at least two {noun} to compare them side by side.")
    else:
        first_name = label_of[compare_ids[0]]
        side_by_side = queries.compared_areas(data, geo, year, compare_ids)
        shown = pd.Series([common.share_with_moe(r) if r["compared"] == "share" else common.count_with_moe(r)
                           for _, r in side_by_side.iterrows()], index=side_by_side.index)
        wide = compare.side_by_side_table(side_by_side, compare_ids, label_of, shown)
        st.markdown(f"**Every measure, ± 90% margin of error**, {common.period(year)}")
        st.dataframe(wide, hide_index=True, key="explorer-compare-wide")
        common.download_extract(wide, [metrics.MEASURE], f"explorer-side-by-side-{geo}-{year}",
                                key="explorer-wide-download")

        st.markdown(f"**Differences from {first_name}** (90% test; shares compared in percentage points)")
        compare_table, compare_columns = compare.differences_table(side_by_side, compare_ids[0])
        st.dataframe(compare_table, hide_index=True, key="explorer-compare-table", column_config=tables.column_config(
            compare_columns, helps={compare.DIFFERENCE.label: "Shares as fractions (0.05 = 5 percentage points); "
                                                              "households as counts."}))
        common.download_extract(compare_table, compare_columns, f"explorer-compare-{geo}-{year}",
                                key="explorer-compare-download")

        if metric.denominator is not None:
            st.markdown(f"**Every pair, {metric.label.lower()} (share)**: read across: the row area is "
                        "higher, lower or not different from the column area (90% test).")
            matrix = queries.pairwise(data, geo, year, metric_key, compare_ids)
            st.dataframe(matrix, key="explorer-compare-matrix")
            common.download_extract(matrix.rename_axis(geography.AREA.label).reset_index(), [geography.AREA],
                                    f"explorer-pairs-{geo}-{metric_key}-{year}", key="explorer-matrix-download")


# ---- custom area ---------------------------------------------------------------------

custom_unit = common.url_choice("cunit", CUSTOM_UNITS, "community_area")
with tab_custom:
    st.markdown("Combine any community areas or census tracts into one area and get its figures with margins "
                "of error, computed from the tracts the way the published areas are.")
    custom_unit = st.radio("Build from", list(CUSTOM_UNITS), index=list(CUSTOM_UNITS).index(custom_unit),
                           format_func=CUSTOM_UNITS.get, horizontal=True, key="explorer-cunit",
                           on_change=forget, args=(["custom"],))
    if custom_unit == "tract":
        tract_labels = queries.tract_labels(data, year)
        custom_options, custom_label = list(tract_labels.index), tract_labels.to_dict()
    else:
        cca_names = queries.area_names(data, "community_area")
        custom_options = sorted(cca_names.index, key=number_key)
        custom_label = cca_names.to_dict()
    custom_ids = common.url_list("custom", custom_options)
    custom_ids = st.multiselect("Areas to combine", custom_options, default=custom_ids,
                                format_func=lambda a: custom_label.get(a, a), key=f"explorer-custom-{custom_unit}",
                                placeholder="Choose community areas" if custom_unit == "community_area"
                                else "Type a tract number or community area")
    if not custom_ids:
        st.info("Choose one or more areas to combine.")
    else:
        try:
            rows, custom_table = queries.custom_area(data, custom_unit, tuple(custom_ids), year)
        except EquityError as exc:
            st.error(f"These areas could not be combined: {exc}")
        except OSError as exc:
            st.error(f"The tract figures could not be read ({exc}). The data cache was rebuilt while the app was "
                     "running; restart the dashboard to load the new build.")
        else:
            households = rows.set_index("metric").loc["households"]
            st.markdown(f"**Combined area: {len(custom_ids)} {CUSTOM_UNITS[custom_unit].lower()}**, "
                        f"{common.count_with_moe(households)} households, {common.period(year)}")
            st.dataframe(custom_table, hide_index=True, key="explorer-custom-table",
                         column_config=tables.column_config(compare.CUSTOM_AREA_COLUMNS))
            st.caption("Areas chosen: " + "; ".join(custom_label.get(a, a) for a in custom_ids) + ". "
                       + ("Tracts count whole, including any households outside the city. "
                          if custom_unit == "tract" else
                          "Tracts split between community areas count with their households' share in the chosen "
                          "areas (CMAP crosswalk). ")
                       + "Margins of error of combined areas follow the Census Bureau's handbook (ch. 8).")
            common.download_extract(custom_table, compare.CUSTOM_AREA_COLUMNS, f"explorer-custom-{year}",
                                    key="explorer-custom-download")


# ---- context ---------------------------------------------------------------------------

with tab_context:
    st.markdown("How connectivity lines up with income, poverty and age. These context figures are estimated "
                "from the snapshot's tract tables **without margins of error**: read them as approximate.")
    y_field = metric.compared_on
    y_title = f"{metric.label} (share)" if y_field == "share" else metric.label
    points, context = queries.context_rows(data, geo, year, metric_key, shown_ids)
    scatter_rows = pd.DataFrame({
        "area_name": points["area_name"],
        "y": points[y_field],
        "estimate": [common.share_with_moe(r) if y_field == "share" else common.count_with_moe(r)
                     for _, r in points.iterrows()],
        "median_household_income": context["median_household_income"],
        "income": context["median_household_income"].map(lambda v: "—" if pd.isna(v) else f"${v:,.0f}"),
    })
    if scatter_rows.empty:
        st.info("No area matches these filters.")
    else:
        common.chart(context_chart, scatter_rows, y_title, y_field == "share", key="explorer-context-chart",
                     alt=f"{y_title} against median household income, one point per {SINGULAR[geo]}")
        context_table, context_columns = queries.context_table(points, context, geo, metric_key)
        st.dataframe(context_table, hide_index=True, key="explorer-context-table",
                     column_config=tables.column_config(context_columns))
        common.download_extract(context_table, context_columns, f"explorer-context-{geo}-{year}",
                                key="explorer-context-download")


# ---- change between periods -------------------------------------------------------------

earlier_options = [str(y) for y in queries.earlier_years(data)]
since = int(common.url_choice("since", [str(y) for y in data.years], str(data.years[0])))
chosen_verdicts = common.url_list("change", list(change.VERDICTS))
change_sort = common.url_choice("csort", CHANGE_SORTS, "improved")
with tab_change:
    if not earlier_options:
        change_view.one_period_notice(data, "change between periods")
    else:
        if str(since) not in earlier_options:
            since = int(earlier_options[0])
        later = data.latest_year
        row = st.columns([1.4, 2.6, 1.4])
        since = int(row[0].selectbox("Change since", earlier_options, index=earlier_options.index(str(since)),
                                     format_func=lambda y: common.period(int(y)), key="explorer-since",
                                     help=f"Compared with the latest loaded period, {common.period(later)}."))
        chosen_verdicts = row[1].multiselect(
            "Show areas whose change is", list(change.VERDICTS), default=chosen_verdicts,
            format_func=change_view.VERDICT_LABELS.get, placeholder="Any change", key="explorer-change")
        change_sort = row[2].selectbox("Sort", list(CHANGE_SORTS), index=list(CHANGE_SORTS).index(change_sort),
                                       format_func=CHANGE_SORTS.get, key="explorer-change-sort")
        moved = queries.ranked_changes(data, geo, metric_key, since, later, shown_ids, chosen_verdicts, change_sort)
        counts = queries.verdict_counts(data, geo, metric_key, since, later, shown_ids)
        on_share = metric.compared_on == "share"
        st.markdown(f"**{metric.label}** ({'share of households' if on_share else 'households'}), "
                    f"{common.period(since)} to {common.period(later)}: of the {len(shown_ids)} {noun} the filters "
                    f"keep, **{counts[change.IMPROVED]} improved significantly**, "
                    f"**{counts[change.WORSENED]} worsened significantly** and "
                    f"**{counts[change.CANNOT_TELL]}** show no change the survey can detect. "
                    f"Showing {len(moved)}.")
        city_moved = queries.city_change(data, metric_key, since, later)
        st.caption(f"Citywide: {change.in_words(city_moved, overlap=False)}. {change_view.overlap_caveat(city_moved)}")
        if partial := queries.coverage_note(data, geo, metric_key, since, later):
            st.warning(partial.capitalize() + ".", icon=":material/warning:")
        if moved.empty:
            st.info("No area matches these filters. Remove a filter or choose another kind of change.")
        else:
            chart_rows = moved.assign(
                shown=[change_view.change_with_moe(r) for _, r in moved.iterrows()],
                periods=f"{common.period(since)} → {common.period(later)}",
            )[["area_name", "change", "low", "high", "verdict", "shown", "periods"]]
            common.chart(change_view.change_chart, chart_rows.reset_index(drop=True),
                         f"Change in {'share' if on_share else 'households'} (estimate and 90% interval)",
                         "+.1%" if on_share else "+,.0f", key="explorer-change-chart",
                         alt=f"Change in {metric.label.lower()} by {SINGULAR[geo]} from {common.period(since)} to "
                             f"{common.period(later)}, with 90% intervals; dashed line: no change")
            st.caption("Dots are changes, bars their 90% intervals, the dashed line no change. 'Improved' or "
                       "'worsened significantly' means the change passes the Census Bureau's 90% significance test "
                       "(in the measure's good or bad direction); a bar crossing the dashed line cannot be told "
                       "from no change.")
            change_table, change_columns = change.change_table(moved.reset_index(drop=True), geo)
            st.dataframe(change_table, hide_index=True, key="explorer-change-table",
                         column_config=tables.column_config(change_columns))
            common.download_extract(change_table, change_columns, f"explorer-change-{geo}-{metric_key}-{since}-{later}",
                                    key="explorer-change-download")


common.set_url(geo=geo, year=year if year != data.latest_year else None, metric=metric_key,
               value=value if metric.denominator else None, areas=chosen_names, sides=chosen_sides,
               wards=chosen_wards, tmetric=None if threshold_metric == NO_THRESHOLD else threshold_metric,
               tmin=threshold_min if threshold_on and threshold_min else None,
               tmax=threshold_max if threshold_on and threshold_max != 100 else None,
               sort=None if sort == "highest" else sort, compare=compare_ids, cunit=custom_unit, custom=custom_ids,
               since=since if since != data.years[0] else None, change=chosen_verdicts,
               csort=None if change_sort == "improved" else change_sort)
