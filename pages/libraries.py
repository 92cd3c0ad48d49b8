"""Libraries: where people can get online, beside the need.

The Chicago Public Library's branches over the choropleth of unconnected
households, each area's access to a branch (flagging many unconnected
households with no branch close by), and one branch's public computer
sessions over the years with the unconnected households around it.
Everything computed here comes from ``equity.libraries`` via the cache.
"""

import altair as alt
import pandas as pd
import streamlit as st

from equity import libraries, maps, metrics, queries
from dashboard import common, library_layer, map_first, map_view, tables

data = common.load_or_stop()
build = data.folder.name


branches = data.library_table("branches")
_, changes, full_years = queries.session_history(data)
FULL_YEARS = [str(y) for y in full_years]
unmatched = data.library_table("unmatched")

GEOGRAPHIES = {"community_area": "Community areas", "ward": "Wards"}
ACS_YEARS = {str(year): common.period(year) for year in data.years}
BRANCHES = dict(zip(branches["branch_key"], branches["branch"]))
UNCONNECTED = metrics.METRICS["unconnected"].label
NEAR = f"{libraries.NEAR_MILES:g} mile"
CLOSE = f"{libraries.CLOSE_MILES:g} mile"
GAP_COLOUR = [202, 0, 32]  # ColorBrewer RdBu's darkest red: the flagged areas' outline, apart from blue and orange


def miles(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.2f} mi"


def with_moe(value: float, moe: float) -> str:
    return "—" if pd.isna(value) else f"{common.format_count(value)} ± {common.format_count(moe)}"


def sessions_chart(history: pd.DataFrame) -> alt.LayerChart:
    """One branch's sessions by year: a line through the full years, every year as a dot (hollow and
    labelled with its months when partial)."""
    base = alt.Chart(history).encode(
        x=alt.X("year:O", title="Calendar year", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sessions:Q", title="Public computer sessions", axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("year:O", title="Year"), alt.Tooltip("sessions:Q", title="Sessions", format=",.0f"),
                 alt.Tooltip("months:N", title="Months")])
    line = base.transform_filter(alt.datum.partial_year == False).mark_line(color="#d95f02")  # noqa: E712
    points = base.mark_point(size=80, filled=True, stroke="#d95f02", strokeWidth=2).encode(
        fill=alt.Fill("reported:N", title=None, legend=alt.Legend(orient="bottom"),
                      scale=alt.Scale(domain=["Full year", "Partial year"],
                                      range=["#d95f02", "white"])))
    labels = base.transform_filter(alt.datum.partial_year == True).mark_text(  # noqa: E712
        dy=16, fontSize=11, color="#333").encode(text="months:N")
    return (line + points + labels).properties(height=300)


st.title("Libraries: where to get online")
st.caption("A household without an internet subscription or a computer can use the free computers, Wi-Fi "
           "and help at any of the Chicago Public Library's branches. This page sets the branches beside the "
           "need: where unconnected households live, how far they are from a branch, and how much the "
           "branches' public computers are used.")

# The choices sit above the map but are drawn after it, in the run that starts once the reader's browser
# has drawn it (dashboard/map_first.py, as on the Map page); each is seeded from the link, so its value is
# known before it is drawn.
common.seed("lib-geography", common.url_choice("geography", GEOGRAPHIES, "community_area"))
common.seed("lib-year", common.url_choice("year", ACS_YEARS, str(data.latest_year)))
common.seed("lib-sessions-year", common.url_choice("sessions", FULL_YEARS, FULL_YEARS[-1]))
common.seed("lib-show-branches", True)
choices = st.container(key="lib-choices")
geography_name = st.session_state["lib-geography"]
year = int(st.session_state["lib-year"])
sessions_year = int(st.session_state["lib-sessions-year"])
show_branches = st.session_state["lib-show-branches"]


def draw_choices() -> None:
    """The reader's choices, in their container above the map."""
    with choices:
        controls = st.columns([1.2, 1.4, 1.2, 1.4])
        controls[0].radio("Areas", list(GEOGRAPHIES), format_func=GEOGRAPHIES.get, key="lib-geography")
        controls[1].selectbox("ACS period", list(ACS_YEARS), format_func=ACS_YEARS.get, key="lib-year")
        controls[2].selectbox("Computer sessions in", FULL_YEARS, key="lib-sessions-year",
                              help="Full calendar years only: 2023 covers January–April and is not compared "
                                   "with whole years.")
        controls[3].toggle("Show public library branches", key="lib-show-branches")


singular = map_view.GEOGRAPHY_SINGULAR[geography_name]
shown = queries.access(data, geography_name, year)

# ---- the map -----------------------------------------------------------------------------------------

st.subheader(f"Unconnected households by {singular}, {common.period(year)}, and the library branches")


def area_lines(row) -> str:
    lines = [f"{UNCONNECTED}: {with_moe(row['unconnected'], row['unconnected_moe'])}",
             f"Branches inside: {row['branches_inside']}; within {NEAR}: {row['branches_near']}",
             f"Households' mean distance to the nearest branch: {miles(row['mean_miles_to_nearest_branch'])}",
             "Unconnected households per nearby branch: "
             + (with_moe(row["unconnected_per_branch"], row["unconnected_per_branch_moe"])
                if row["branches_near"] else f"no branch within {NEAR}")]
    if row["access_gap"]:
        lines.append(f"⚑ Many unconnected households and no branch close by (within {CLOSE} on average)")
    return "\n".join(lines)


@st.cache_resource(show_spinner=False, max_entries=32)
def map_layers(build: str, geography_name: str, year: int, show_branches: bool, sessions_year: int) -> list:
    """The map's layers for one set of choices, made once and shared (nothing may change them)."""
    view = map_view.choropleth(build, geography_name, "unconnected", "count", year, "quantiles")
    rows = queries.access(common.dashboard_data(), geography_name, year)
    flagged = rows.index[rows["access_gap"]]
    # The unreliable-estimate rings, the flagged areas' outlines and the branches are drawn in the areas' own
    # layer (one layer paints sooner: map_view.outline_features, map_view.dot_features); every area feature
    # carries its area's tooltip lines, every branch its own.
    drawn_over = view["marker_features"] + map_view.outline_features(map_view.features_of(view, flagged), GAP_COLOUR, 3)
    features = library_layer.with_details(map_view.with_drawn_over(view["features"], drawn_over),
                                          {area_id: area_lines(row) for area_id, row in rows.iterrows()})
    if show_branches:
        features = map_view.with_drawn_over(features, library_layer.branch_features(build, sessions_year))
    return [map_view.area_layer(features)]


view = map_view.choropleth(build, geography_name, "unconnected", "count", year, "quantiles")
gaps = shown.index[shown["access_gap"]]
map_choices = (build, geography_name, year, show_branches, sessions_year)
map_column, legend_column = st.columns([3, 1.15])
with map_column:
    st.pydeck_chart(map_view.deck(map_layers(*map_choices), view["view"], library_layer.TOOLTIP,
                                  same_deck_as=("libraries",) + map_choices), height=600, key="lib-map",
                    alt=f"Map of unconnected households by {singular} with the public library branches as circles; "
                        "the tables below have the same figures.")
    st.caption("Hover over a branch or an area for its figures. Drag to pan, scroll to zoom.")
with legend_column:
    map_view.legend(view, "unconnected", "count", geography_name, "quantiles")
    st.html(f"<div class='equity-legend' style='font-size:14px;margin-top:6px'><div><span aria-hidden='true' "
            f"style='display:inline-block;width:18px;height:12px;border:3px solid rgb{tuple(GAP_COLOUR)};"
            f"vertical-align:middle;margin-right:6px'></span>Flagged: many unconnected households, no branch "
            f"close by ({len(gaps)})</div></div>")
    if show_branches:
        library_layer.legend(build, sessions_year)
map_first.rest_after_map("libraries", (choices, {0: 95, 1150: 73}))
draw_choices()

# ---- access beside the need ------------------------------------------------------------------------------

st.subheader(f"Which {GEOGRAPHIES[geography_name].lower()} have many unconnected households and no branch close by")
st.markdown(
    f"An area is **flagged** when both hold: it has **many unconnected households** (at or above the median of "
    f"the {len(shown)} {GEOGRAPHIES[geography_name].lower()}, {common.period(year)}), and **no branch is close "
    f"by**: its households are on average more than **{CLOSE}** (about a 15-minute walk) in a straight line "
    f"from their nearest branch. Distances are weighted by where households live (2020 block groups with their "
    f"ACS 2017–2021 households), not measured from the middle of the area. *Nearby* branches are those inside "
    f"the area or within {NEAR} of its boundary.")
flagged, no_branch = queries.access_gaps(data, geography_name, year)
if flagged.empty:
    st.info(f"No {singular} is flagged in {common.period(year)}.")
else:
    st.markdown("**Flagged:** " + "; ".join(
        f"{row['area_name']} ({with_moe(row['unconnected'], row['unconnected_moe'])} unconnected households, "
        f"{miles(row['mean_miles_to_nearest_branch'])} on average)" for _, row in flagged.iterrows()))
if len(no_branch):
    st.caption(f"No branch within {NEAR}: " + ", ".join(no_branch["area_name"])
               + ". Their unconnected households per nearby branch cannot be computed; they sort last.")

access_table, access_columns = libraries.access_table(shown, geography_name, year)
# A plain HTML table (dashboard/tables.py): the map above draws first.
ACCESS_ORDERS = {"given": "Unconnected households per nearby branch, most first", "name": "Name (A to Z)",
                 "households": "Unconnected households, most first",
                 "miles": "Mean miles to the nearest branch, farthest first"}
order_by = tables.sort_choice(ACCESS_ORDERS, key="lib-access-order")
area_column = access_table.columns[0]
sort_column = {"name": area_column, "households": "Households (estimate)",
               "miles": "Mean miles to the nearest branch (household-weighted)"}.get(order_by)
ordered = access_table if sort_column is None else access_table.sort_values(
    sort_column, ascending=order_by == "name", na_position="last")
tables.show(ordered, {area_column: "text", "Households (estimate)": "count", "Households MOE (90%)": "count",
                      "Branches inside": "count", "Branches within 1 mile": "count", "Branch names inside": "text",
                      "Mean miles to the nearest branch (household-weighted)": "two decimals",
                      "Unconnected households per nearby branch": "count", "Per branch MOE (90%)": "count",
                      "Flagged": "yes/no"},
            caption=f"{UNCONNECTED} and library branches by {singular}, {common.period(year)}: "
                    f"{ACCESS_ORDERS[order_by].lower()}",
            labels={"Households (estimate)": f"{UNCONNECTED} (estimate)", "Households MOE (90%)": "± MOE (90%)",
                    "Mean miles to the nearest branch (household-weighted)": "Mean miles to nearest branch",
                    "Per branch MOE (90%)": "± MOE (90%) per branch"})
common.download_extract(access_table, access_columns, f"library-access-{geography_name}-{year}",
                        key="lib-access-download")

# ---- one branch --------------------------------------------------------------------------------------------

st.subheader("One branch: public computer sessions over the years")
common.seed("lib-branch", common.url_choice("branch", BRANCHES, next(iter(BRANCHES))))
branch_key = st.selectbox("Branch", list(BRANCHES), format_func=BRANCHES.get, key="lib-branch")
common.set_url(geography=geography_name, year=year, sessions=sessions_year, branch=branch_key)
branch = branches.set_index("branch_key").loc[branch_key]
history = queries.branch_history(data, branch_key)
st.markdown(f"**{branch['branch']}** · {branch['address']}, Chicago {branch['zip']} · {branch['hours']}")

history = history.assign(
    reported=history["partial_year"].map({True: "Partial year", False: "Full year"}),
    months=history["months_reported"].map(lambda n: f"{n} of 12 months"))
full = history[~history["partial_year"]]
chart_column, need_column = st.columns([1.6, 1])
with chart_column:
    common.chart(sessions_chart, history, width="stretch", key="lib-branch-chart")
    st.caption("The 2020 drop is the COVID-19 closures (branches closed in March 2020 and reopened in stages); "
               "the years after show the recovery. 2023 covers January–April only: it is drawn hollow and "
               "never compared with a whole year.")

with need_column:
    need, pairs = queries.branch_surroundings(data, branch_key, year)
    if need.empty:
        st.info(f"No Chicago census tract has its centre within {libraries.SURROUNDING_MILES:g} mile of this branch.")
    else:
        around = need.iloc[0]
        st.metric(f"Unconnected households in the {len(pairs)} tracts within {libraries.SURROUNDING_MILES:g} mile",
                  with_moe(around["unconnected"], around["unconnected_moe"]),
                  help=f"{UNCONNECTED}, {common.period(year)}. Census tracts whose representative point is within "
                       f"{libraries.SURROUNDING_MILES:g} mile of the branch, counted whole; the MOE of the sum "
                       "follows the ACS handbook.")
    latest = full.iloc[-1] if len(full) else None
    if latest is not None and pd.notna(latest["change"]):
        st.metric(f"Sessions in {int(latest['year'])} (latest full year)", common.format_count(latest["sessions"]),
                  delta=f"{latest['change']:+,.0f} ({latest['percent_change']:+.0f}%) from {int(latest['year']) - 1}")

sessions_table = libraries.sessions_table(history)
with st.expander(f"Sessions year by year at {branch['branch']}"):
    st.dataframe(sessions_table, hide_index=True, key="lib-sessions-table", width="stretch", column_config={
        "Year": st.column_config.NumberColumn(format="%d"),
        "Public computer sessions": st.column_config.NumberColumn(format="%.0f"),
        "Change from the previous year": st.column_config.NumberColumn(format="%+.0f"),
        "Change (%)": st.column_config.NumberColumn(format="%+.1f"),
    })
    common.download_extract(sessions_table, libraries.SESSIONS_TABLE_COLUMNS, f"library-sessions-{branch_key}",
                            key="lib-sessions-download")

tract_rows = queries.metric_rows(data, "tract", "unconnected", year)
around_table = libraries.surrounding_table(pairs, tract_rows, year, pairs["tract"].map(queries.area_names(data, "tract")))
with st.expander(f"The census tracts within {libraries.SURROUNDING_MILES:g} mile of {branch['branch']}"):
    st.dataframe(around_table, hide_index=True, key="lib-tracts-table", width="stretch", column_config={
        "Miles from the branch": st.column_config.NumberColumn(format="%.2f"),
        "Households (estimate)": st.column_config.NumberColumn(f"{UNCONNECTED} (estimate)", format="%.0f"),
        "Households MOE (90%)": st.column_config.NumberColumn("± MOE (90%)", format="%.0f"),
    })
    common.download_extract(around_table, libraries.SURROUNDING_TABLE_COLUMNS, f"library-tracts-{branch_key}-{year}",
                            key="lib-tracts-download")

# ---- every branch, and the rows that match none ----------------------------------------------------------

with st.expander(f"All {len(branches)} branches with their computer sessions in {sessions_year}"):
    all_branches, branch_columns = libraries.branches_table(branches, changes, sessions_year)
    st.dataframe(all_branches, hide_index=True, key="lib-branches-table", width="stretch", column_config={
        f"Public computer sessions {sessions_year}": st.column_config.NumberColumn(format="%.0f"),
        f"Change from {sessions_year - 1}": st.column_config.NumberColumn(format="%+.0f"),
    })
    common.download_extract(all_branches, branch_columns, f"library-branches-{sessions_year}",
                            key="lib-branches-download")

with st.expander(f"Rows of the sessions files that match no branch ({len(unmatched)})"):
    st.caption("Every row of every yearly file is either matched to a branch of the City's list or listed "
               "here with the reason, never dropped silently.")
    unmatched_table = libraries.unmatched_table(unmatched)
    st.dataframe(unmatched_table, hide_index=True, key="lib-unmatched-table", width="stretch", column_config={
        "Year": st.column_config.NumberColumn(format="%d"),
        "Sessions in the year": st.column_config.NumberColumn(format="%.0f"),
        "Why it is not matched": st.column_config.TextColumn(width="large"),
    })
    common.download_extract(unmatched_table, libraries.UNMATCHED_TABLE_COLUMNS, "library-sessions-unmatched",
                            key="lib-unmatched-download")
