"""Ward page: a one-page brief for a council member, from the ward in the URL (``?ward=20``)."""

import pandas as pd
import streamlit as st

from equity import change, maps, metrics, queries
from equity.errors import ValidationError
from dashboard import acp_sections, change_view, common, map_first, map_view, tables

HEADLINE = "unconnected"
WARD_BOUNDARY_COLOUR = [200, 30, 30]

data = common.load_or_stop()
build = data.folder.name

# Browser print gives a clean one-page brief: no sidebar, header, pickers, tract list or print hint;
# columns stay side by side and the type is a little smaller.
st.html("""<style>
@media print {
  html { font-size: 11px; }
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  .st-key-ward-choice, .st-key-ward-year, .st-key-ward-tract-list, .st-key-ward-print-hint,
  .stDownloadButton { display: none !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: 100% !important; zoom: 0.9; }
  [data-testid="stHorizontalBlock"] { display: flex !important; flex-direction: row !important; flex-wrap: nowrap !important; }
  [data-testid="stColumn"] { min-width: 0 !important; width: auto !important; flex: 1 1 0 !important; }
  [data-testid="stColumn"] > * , [data-testid="stDeckGlJsonChart"] { max-width: 100% !important; overflow: hidden; }
  h1 { font-size: 2rem !important; padding-top: 0 !important; }
  .equity-legend { font-size: 11px !important; line-height: 1.5 !important; }
  @page { size: letter portrait; margin: 8mm; }
}
</style>""")

WARDS = {str(n): f"Ward {n}" for n in sorted(queries.area_names(data, "ward").index.astype(int))}
YEARS = {str(year): common.period(year) for year in data.years}
common.seed("ward-choice", common.url_choice("ward", WARDS, next(iter(WARDS))))
common.seed("ward-year", common.url_choice("year", YEARS, str(data.latest_year)))


@st.cache_resource(show_spinner=False, max_entries=64)
def ward_map(build: str, ward: str, year: int) -> tuple[dict, list, dict]:
    """The ward's tracts cut to the ward and coloured like the citywide tract map, with their unreliable
    rings and the ward outline: (citywide tract view, layers, the ward's view). Made once per ward and
    period and shared by every reader (``build`` keys it to the data), like ``map_view.choropleth``."""
    view = map_view.choropleth(build, "tract", HEADLINE, "share", year, "quantiles")
    tracts = map_view.tracts_in(data, "ward", ward, year, HEADLINE)
    in_ward = {geoid: {"in_ward": f"{common.format_share(weight)} of its households are in {WARDS[ward]}"}
               for geoid, weight in zip(tracts["GEOID"], tracts["Households in this area"])}
    pieces = map_view.clipped(build, "tract", tuple(in_ward), "ward", ward)
    # The ward's own feature of the citywide ward map (its boundary and its figures for the tooltip).
    ward_feature = map_view.features_of(map_view.choropleth(build, "ward", HEADLINE, "share", year, "quantiles"),
                                        [ward], {ward: {"in_ward": ""}})
    ward_view = maps.view_of(queries.boundary(data, "ward", ward), 380, 340)
    tract_features = map_view.features_of(view, pieces["area_id"], in_ward, maps.compact_geometries(pieces))
    rings = map_view.marker_features(tract_features, maps.marker_points(pieces, map_view.unreliable_ids(view)),
                                     map_view.MARKER_RADIUS_PIXELS["tract"]
                                     * maps.metres_per_pixel(ward_view["zoom"], ward_view["latitude"]))
    # The ward's boundary is drawn in the tracts' layer (one layer paints sooner: map_view.outline_features).
    boundary = map_view.outline_features(ward_feature, WARD_BOUNDARY_COLOUR, 3)
    layers = [map_view.area_layer(map_view.with_drawn_over(tract_features, rings + boundary), layer_id="ward-tracts")]
    return view, layers, ward_view


# The pickers sit at the top but are drawn after the ward's map, in the run that starts once the reader's
# browser has drawn it (dashboard/map_first.py, as on the Map page); both are seeded from the link above.
pickers = st.container(key="ward-pickers")
ward = st.session_state["ward-choice"]
year = int(st.session_state["ward-year"])
common.set_url(ward=ward, year=year)

brief = queries.area_brief(data, "ward", ward, year, HEADLINE)
row, city = brief["row"], brief["city"]

st.title(f"{WARDS[ward]}: households without internet")
st.caption(f"American Community Survey {common.period(year)} estimates, with 90% margins of error. "
           "Ward boundaries: 2023 ward map.")

headline = st.columns(3)
headline[0].metric(metrics.METRICS[HEADLINE].label, common.count_with_moe(row))
headline[1].metric("Share of the ward's households", common.share_with_moe(row))
headline[2].metric("Citywide share", common.share_with_moe(city))
if pd.notna(brief["rank"]):
    st.markdown(f"**Rank among the {brief['areas']} wards** (share of households without a subscription): "
                f"{maps.describe_rank(brief['rank'], brief['rank_best'], brief['rank_worst'], brief['areas'])}. "
                f"The ward's share is {map_view.COMPARISON_WORDS[brief['comparison']]}.")
else:
    st.markdown("**Rank among the wards:** not available (the ward's estimate is missing).")

tracts = map_view.tracts_in(data, "ward", ward, year, HEADLINE)
view, layers, ward_view = ward_map(build, ward, year)

map_column, side_column = st.columns([1.4, 1])
with map_column:
    st.markdown(f"**Census tracts of {WARDS[ward]}** (ward boundary in red)")
    st.pydeck_chart(map_view.deck(layers, ward_view, map_view.tooltip(HEADLINE, "share", "{in_ward}"),
                                  same_deck_as=("ward", build, ward, year)),
                    height=360, key="ward-map",
                    alt=f"Map of the census tracts of {WARDS[ward]} coloured by the share of households "
                        "without an internet subscription; the tract table below has the same figures.")
with side_column:
    map_view.legend(view, HEADLINE, "share", "tract", "quantiles", counts=False)
    st.caption("Tract colours use the same five classes as the citywide tract map, so they can be compared "
               "across wards. Tracts split by the ward boundary show only their part in the ward; their "
               "figures are for the whole tract.")
map_first.rest_after_map("ward", (pickers, {0: 68}))

with pickers:
    picker = st.columns([1, 1, 3])
    picker[0].selectbox("Ward", list(WARDS), format_func=WARDS.get, key="ward-choice")
    picker[1].selectbox("ACS period", list(YEARS), format_func=YEARS.get, key="ward-year")

st.subheader("Over time")
if len(data.years) < 2:
    change_view.one_period_notice(data, "change over time")
else:
    first, last = data.years[0], data.latest_year
    moved = queries.change_rows(data, "ward", HEADLINE, first, last).loc[ward]
    city_moved = queries.city_change(data, HEADLINE, first, last)
    notes = [change_view.overlap_caveat(moved)] + ([moved["note"].capitalize() + "."] if moved["note"] else [])
    st.markdown(f"The share of {WARDS[ward]}'s households without an internet subscription "
                f"**{change.in_words(moved, overlap=False)}**. "
                f"Citywide it {change.in_words(city_moved, overlap=False)}.")
    trend_column, trend_words = st.columns([1.4, 1])
    common.chart(change_view.trend_chart, queries.trend(data, "ward", ward, HEADLINE), WARDS[ward],
                 into=trend_column.container(key="ward-trend"), width="stretch", key="ward-trend-chart",
                 alt=f"Share of households without an internet subscription in {WARDS[ward]} and citywide, each "
                     "loaded ACS period, with 90% intervals")
    trend_words.caption("Dots: the share in each ACS 5-year period; bars: its 90% margin of error. "
                        f"{WARDS[ward]}: blue circles, solid line; the city: grey squares, dashed line. "
                        "Where two periods' bars overlap a great deal, the survey may not tell them apart.")
    for note in filter(None, notes):
        trend_words.caption(note)

st.subheader("Part of the citywide targets")
try:
    parts = queries.area_target_rows(data, "ward", ward)
    labels = queries.city_target_labels(data)
except ValidationError as exc:
    st.warning(f"The project's targets file could not be used: {exc}")
else:
    if parts.empty:
        st.markdown(f"{WARDS[ward]} has no baseline estimate for the citywide targets.")
    else:
        for _, part in parts.iterrows():
            unit = "share" if part["measure"] == "share" else "households"
            goal = (f"{part['target_value'] * 100:.0f}% of households" if unit == "share"
                    else f"{part['target_value']:,.0f} households")
            figures = (common.share_with_moe({"share": part["baseline_value"], "share_moe": part["baseline_moe"]})
                       if unit == "share" else common.count_with_moe({"count": part["baseline_value"],
                                                                      "count_moe": part["baseline_moe"]}))
            st.markdown(f"**{labels[part['city_target']]}.** {WARDS[ward]}'s part: "
                        f"**{common.format_share(part['part_of_gap'])} of the citywide gap** — from {figures} "
                        f"({part['baseline_period']}) to {goal} by {part['target_year']}. "
                        f"Status: **{part['status']}** — {part['reason']}.")
        st.caption("A ward's part of a target is its share of the citywide gap in the baseline period (for a "
                   "count: its households over the city's; for a share: the households it is short of the target "
                   "share). Its status follows the same rules as the city's targets on the Progress page.")

# Plain HTML tables (dashboard/tables.py): the map above draws first, and they print whole.
overlap = map_view.community_areas_in_ward(data, ward, year, HEADLINE)
tables.show(overlap, {"Community area": "text", "Share of the ward's households": "share",
                      "Ward households living there": "count", "Community area share": "text"},
            caption=f"Community areas in {WARDS[ward]}",
            labels={"Community area share": "Community area: share without a subscription"})

figures = map_view.area_figures(data, "ward", ward, year)
tables.show(figures, dict.fromkeys(figures.columns, "text"), caption=f"All measures for {WARDS[ward]}")
acp_sections.ward_section(data, ward)

with st.expander(f"The {len(tracts)} census tracts with households in {WARDS[ward]}", key="ward-tract-list"):
    tables.show(tracts, {"Tract": "text", "GEOID": "text", "Households in this area": "share", "Households": "text",
                         "Share": "text", "Reliability of the share": "text"},
                caption=f"Census tracts with households in {WARDS[ward]}",
                labels={"Households in this area": f"Tract's households in {WARDS[ward]}"})
with st.container(key="ward-print-hint"):
    st.caption("To print this brief, use your browser's Print command: the menus and buttons are left out.")
