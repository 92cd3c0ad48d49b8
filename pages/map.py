"""Map page: a choropleth of any measure by community area, ward or tract, with its legend, one area's
detail, and the same figures as a sortable table; or the change since an earlier ACS period, drawn on a
diverging palette with the changes the survey cannot tell from none drawn hollow."""

import streamlit as st

from equity import change, exports, maps, metrics, queries
from dashboard import change_view, common, library_layer, map_first, map_view, tables

data = common.load_or_stop()
build = data.folder.name

METRIC_LABELS = {key: metric.label for key, metric in metrics.METRICS.items()}
YEARS = {str(year): common.period(year) for year in data.years}


common.seed("map-geography", common.url_choice("geography", map_view.GEOGRAPHIES, "community_area"))
common.seed("map-metric", common.url_choice("metric", METRIC_LABELS, "unconnected"))
common.seed("map-mode", common.url_choice("mode", maps.MODES, "share"))
common.seed("map-year", common.url_choice("year", YEARS, str(data.latest_year)))
common.seed("map-classes", common.url_choice("classes", maps.CLASSIFICATIONS, "quantiles"))
MAP_VIEWS = {"level": "One period", "change": "Change since an earlier period"}
common.seed("map-view", common.url_choice("view", MAP_VIEWS, "level"))
since_from_url = common.url_choice("since", YEARS, str(data.years[0]))

st.title("Map: where Chicago's households are not connected")

# The choices sit above the map but are drawn into this container after the map, in the run that starts
# once the reader's browser has drawn it (dashboard/map_first.py). Every widget is seeded above, so its
# value is known before it is drawn.
choices = st.container(key="map-choices")
#: The choices' height in pixels by window width (from which width on), measured: kept free until they come.
CHOICES_ROOM = {0: 320, 1100: 235, 1150: 224, 1400: 202, 1600: 179}
geography_name = st.session_state["map-geography"]
metric_key = st.session_state["map-metric"]
mode = st.session_state["map-mode"]
year = int(st.session_state["map-year"])
scheme = st.session_state["map-classes"]
shown_as = st.session_state["map-view"]


def draw_choices(since_years: dict[str, str] | None = None) -> None:
    """The reader's choices, in the container above the map: with ``since_years`` (the change map) the
    change's start, without (the map of one period) the library branches' switch."""
    with choices:
        controls = st.columns([1.3, 2.2, 1.3, 1.5, 1.6])
        controls[0].radio("Areas", list(map_view.GEOGRAPHIES), format_func=map_view.GEOGRAPHIES.get,
                          key="map-geography", on_change=lambda: st.query_params.pop("area", None))
        controls[1].selectbox("Measure", list(METRIC_LABELS), format_func=METRIC_LABELS.get, key="map-metric")
        controls[2].radio("Show as", list(maps.MODES), format_func=maps.MODES.get, key="map-mode")
        controls[3].selectbox("ACS period", list(YEARS), format_func=YEARS.get, key="map-year")
        controls[4].radio("Colour classes", list(maps.CLASSIFICATIONS), format_func=maps.CLASSIFICATIONS.get,
                          key="map-classes")
        view_column, extra_column = st.columns([2.2, 1.6], vertical_alignment="bottom")
        view_column.radio("Map", list(MAP_VIEWS), format_func=MAP_VIEWS.get, key="map-view", horizontal=True)
        if since_years:
            extra_column.selectbox("Change since", list(since_years), format_func=since_years.get, key="map-since")
        else:
            extra_column.toggle("Show public library branches", key="map-libraries")


earlier_years = {str(y): common.period(y) for y in data.years if y < year}
if shown_as == "level":
    common.set_url(view=None, since=None)
elif not earlier_years:
    common.set_url(view="change", since=since_from_url)
    if len(data.years) < 2:
        change_view.one_period_notice(data, "change to map")
    else:
        st.info(f"{common.period(year)} is the earliest period loaded: choose a later ACS period to map the change "
                "since an earlier one.", icon=":material/info:")
else:
    common.seed("map-since", since_from_url if since_from_url in earlier_years else next(iter(earlier_years)))
    if st.session_state["map-since"] not in earlier_years:
        st.session_state["map-since"] = next(iter(earlier_years))
    since = int(st.session_state["map-since"])
    common.set_url(geography=geography_name, metric=metric_key, year=year, view="change", since=since)
    change_map = change_view.change_choropleth(build, geography_name, metric_key, since, year)
    described = (f"Change in {METRIC_LABELS[metric_key].lower()} by {map_view.GEOGRAPHY_SINGULAR[geography_name]}, "
                 f"{common.period(since)} to {common.period(year)}")
    st.subheader(described)
    city_moved = queries.city_change(data, metric_key, since, year)
    st.caption(f"Citywide: {change.in_words(city_moved, overlap=False)}. {change_view.overlap_caveat(city_moved)}")
    if partial := queries.coverage_note(data, geography_name, metric_key, since, year):
        st.warning(partial.capitalize() + ".", icon=":material/warning:")
    map_column, legend_column = st.columns([3, 1.15])
    with map_column:
        st.pydeck_chart(map_view.deck([change_view.change_layer(change_map["features"])], change_map["view"],
                                      change_view.change_tooltip(metric_key, since, year),
                                      ("change", build, geography_name, metric_key, since, year)),
                        height=620, key=f"map-change-{geography_name}",
                        alt=f"Map: {described}; areas whose change is not statistically significant are drawn as "
                            "outlines only. The table below has the same figures.")
        st.caption("Hover over an area for both periods' figures and the change with its margin of error. "
                   "Drag to pan, scroll to zoom.")
    with legend_column:
        change_view.change_legend(change_map, metric_key, geography_name)
    map_first.rest_after_map("map", (choices, CHOICES_ROOM))
    draw_choices(earlier_years)
    st.subheader("The same change as a table")
    ranked = queries.ranked_changes(data, geography_name, metric_key, since, year)
    change_table, change_columns = change.change_table(ranked.reset_index(drop=True), geography_name)
    if geography_name == "tract":
        st.dataframe(change_table, hide_index=True, key="map-change-table", width="stretch")
    else:
        shown = ranked.assign(name=ranked["area_name"],
                              before=[change_view.value_with_moe(r, "from") for _, r in ranked.iterrows()],
                              after=[change_view.value_with_moe(r, "to") for _, r in ranked.iterrows()],
                              moved=[change_view.change_with_moe(r) for _, r in ranked.iterrows()])
        tables.show(shown, dict.fromkeys(["name", "before", "after", "moved", "verdict"], "text"),
                    caption=f"{described}: most improved first",
                    labels={"name": map_view.GEOGRAPHY_SINGULAR[geography_name].capitalize(),
                            "before": common.period(since), "after": common.period(year),
                            "moved": "Change ± MOE (90%)", "verdict": "Change"})
    common.download_extract(change_table, change_columns, f"{metric_key}-{geography_name}-change-{since}-{year}",
                            key="map-change-download")
    st.stop()

metric = metrics.METRICS[metric_key]
if mode == "share" and metric.compared_on == "count":
    st.info(f"“{metric.label}” is a number of households, not a share of them; showing the number.")
    mode = "count"

rows = queries.metric_rows(data, geography_name, metric_key, year)
order = (rows["area_id"].astype(int) if geography_name == "ward"
         else rows["area_id"] if geography_name == "tract" else rows["area_name"].str.lower())
area_names = rows["area_name"].loc[order.sort_values().index]
AREA_OPTIONS = {"": f"No {map_view.GEOGRAPHY_SINGULAR[geography_name]} selected", **area_names.to_dict()}
area_key = f"map-area-{geography_name}"
common.seed(area_key, common.url_choice("area", AREA_OPTIONS, ""))

# A new chart after every click: Streamlit fades the unpicked areas of a chart holding a selection, which
# would make the colours disagree with the legend; the red outline marks the picked area instead.
common.seed("map-clicks", 0)
chart_key = f"map-chart-{geography_name}-{st.session_state['map-clicks']}"


def select_from_map() -> None:
    """A click on the map picks the area in the selectbox (and so in the URL); a click on a library branch
    (a feature with no area id) leaves the picked area as it was."""
    picked = st.session_state[chart_key].selection.get("objects", {}).get(map_view.AREA_LAYER, [])
    area_id = picked[0].get("properties", {}).get("id") if picked else None
    if area_id:
        st.session_state[area_key] = area_id
    st.session_state["map-clicks"] += 1


view = map_view.choropleth(build, geography_name, metric_key, mode, year, scheme)
selected = st.session_state.get(area_key, "")
# The unreliable rings and the picked area's outline are drawn in the areas' own layer (map_view.outline_features).
areas = map_view.with_drawn_over(view["features"], view["marker_features"] + map_view.picked_outline(view, selected))
layers, tooltip = [map_view.area_layer(areas)], map_view.tooltip(metric_key, mode)
common.seed("map-libraries", False)
show_branches = st.session_state["map-libraries"]
if show_branches:
    layers, tooltip = library_layer.over_choropleth(areas, build, view, metric_key, mode,
                                                    library_layer.latest_full_year(build))

st.subheader(map_view.describe_view(metric_key, mode, geography_name, year))
map_column, legend_column = st.columns([3, 1.15])
with map_column:
    same_deck_as = (build, geography_name, metric_key, mode, year, scheme, selected, show_branches)
    st.pydeck_chart(map_view.deck(layers, view["view"], tooltip, same_deck_as), height=620,
                    on_select=select_from_map, selection_mode="single-object", key=chart_key,
                    alt=f"Map: {map_view.describe_view(metric_key, mode, geography_name, year)}; "
                        "the table below has the same figures.")
    outlined = f" The red outline marks {AREA_OPTIONS[selected]}." if selected else ""
    st.caption("Hover over an area for its figures; click it (or choose it below) for its detail. "
               f"Drag to pan, scroll to zoom.{outlined}")
with legend_column:
    map_view.legend(view, metric_key, mode, geography_name, scheme)
    if show_branches:
        library_layer.legend(build, library_layer.latest_full_year(build))
map_first.rest_after_map("map", (choices, CHOICES_ROOM))
draw_choices()

area_id = st.selectbox(f"Detail for one {map_view.GEOGRAPHY_SINGULAR[geography_name]}", list(AREA_OPTIONS),
                       format_func=AREA_OPTIONS.get, key=area_key)
# Read before the URL is written back: writing it first would drop the link's table order.
TABLE_ORDERS = {"shown": "The value mapped, highest first" if view["higher_is_darker"] else "The value mapped",
                "name": "Name (A to Z)", "count": "Households, most first", "share": "Share, highest first",
                "cv": "Coefficient of variation, least reliable first"}
common.seed("map-table-order", common.url_choice("order", TABLE_ORDERS, "shown"))
common.set_url(geography=geography_name, metric=metric_key, mode=mode, year=year, classes=scheme, area=area_id,
               order=None if geography_name == "tract" or st.session_state.get("map-table-order") == "shown"
               else st.session_state.get("map-table-order"))

if area_id:
    with st.container(border=True, key="map-area-detail"):
        st.markdown(f"#### {AREA_OPTIONS[area_id]}")
        st.caption(f"{common.period(year)}. Shares are compared with the City of Chicago at 90% confidence.")
        st.table(map_view.area_figures(data, geography_name, area_id, year).set_index("Measure"))
        if geography_name in ("community_area", "ward"):
            st.markdown(f"**Census tracts in this {map_view.GEOGRAPHY_SINGULAR[geography_name]}** ({metric.label})")
            st.dataframe(map_view.tracts_in(data, geography_name, area_id, year, metric_key), hide_index=True,
                         key="map-area-tracts", column_config={"Households in this area": map_view.PERCENT})
        if geography_name == "ward":
            st.markdown(f"**Community areas in this ward** ({metric.label})")
            st.dataframe(map_view.community_areas_in_ward(data, area_id, year, metric_key), hide_index=True,
                         key="map-area-community-areas",
                         column_config={"Share of the ward's households": map_view.PERCENT,
                                        "Ward households living there": map_view.HOUSEHOLDS})
            st.page_link("pages/ward.py", label=f"Open the brief for {AREA_OPTIONS[area_id]}", icon="🏛️",
                         query_params={"ward": area_id})
        if geography_name == "tract":
            st.markdown("**Where this tract's households are counted**")
            st.dataframe(map_view.areas_containing_tract(data, area_id, year), hide_index=True,
                         key="map-area-parents", column_config={"Share of the tract's households": map_view.PERCENT})

st.subheader("The same figures as a table")
value_column = "share" if mode == "share" else "count"
if geography_name == "tract":
    order_by = "shown"
else:
    order_by = tables.sort_choice(TABLE_ORDERS, key="map-table-order")
by_column = {"shown": value_column, "name": "area_name", "count": "count", "share": "share", "cv": f"{mode}_cv"}
table = rows.sort_values(by_column[order_by], na_position="last",
                         ascending=order_by == "name" or (order_by == "shown" and not view["higher_is_darker"]))
figures = maps.table_columns(mode)
table_labels = {"area_name": map_view.GEOGRAPHY_SINGULAR[geography_name].capitalize(),
                **{column.key: column.label for column in figures}}
table_kinds = {"area_name": "text", **{column.key: column.kind or "text" for column in figures}}
if geography_name == "tract":
    # 795 tracts: the interactive grid, for sorting by any column and scrolling.
    tables.grid(table, table_kinds, key="map-table", labels=table_labels)
else:
    # 77 community areas or 50 wards: a plain HTML table, so that the map draws first (dashboard/tables.py).
    tables.show(table, table_kinds, caption=f"{map_view.describe_view(metric_key, mode, geography_name, year)}: "
                                            f"{TABLE_ORDERS[order_by].lower()}", labels=table_labels)
# The download is the table shown (its rows, order and figures), with the areas' ids, period and measure.
extract_figures = [metrics.PERIOD, metrics.MEASURE, *figures]
common.download_extract(lambda: exports.extract(table, geography_name, extract_figures),
                        exports.extract_columns(geography_name, extract_figures),
                        f"{metric_key}-{geography_name}-{year}", key="map-download")
