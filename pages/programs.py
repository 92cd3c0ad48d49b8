"""Programs page: the Affordable Connectivity Program (ACP) beside the need: where it reached households, and
where its end leaves them."""

import streamlit as st

from dashboard import acp_sections, common, map_view
from equity import acp
from equity import program_queries as programs

data = common.load_or_stop()

GEOGRAPHIES = {"community_area": "Community areas", "ward": "Wards"}
RELEASES = acp_sections.release_options(data)
LAST = str(programs.last_release(data).date())


common.seed("acp-geography", common.url_choice("geo", GEOGRAPHIES, "community_area"))
common.seed("acp-measure", common.url_choice("measure", acp_sections.MEASURES, "enrolled_households"))
common.seed("acp-release", common.url_choice("release", RELEASES, LAST))

st.title("Programs: the Affordable Connectivity Program")
st.markdown(acp_sections.WHAT_IT_WAS)

city = programs.beside_need(data, "city", programs.last_release(data)).iloc[0]
headline = st.columns([1.05, 0.85, 0.95, 1.45])  # the last holds a figure with its margin of error
headline[0].metric("Households enrolled in Chicago", common.format_count(city["enrolled_households"]),
                   help=f"Release of {programs.release_label(city['release'])}; ZIP codes carried to the city by "
                        "households.")
headline[1].metric("Eligible (ILSR estimate)", common.format_count(city["eligible_households"]))
headline[2].metric("Uptake (enrolled ÷ eligible)", common.format_share(city["uptake"]))
headline[3].metric("Unconnected households (ACS)",
                   f"{common.format_count(city['unconnected_households'])} ± "
                   f"{common.format_count(city['unconnected_households_moe'])}",
                   help=f"{city['acs_period']} estimate with its 90% margin of error.")

st.header("Where it reached households")
controls = st.columns([1.2, 1.8, 1.2])
geography_name = controls[0].radio("Areas", list(GEOGRAPHIES), format_func=GEOGRAPHIES.get, key="acp-geography",
                                   on_change=lambda: st.query_params.pop("area", None))
measure = controls[1].radio("Colour by", list(acp_sections.MEASURES), format_func=acp_sections.MEASURES.get,
                            key="acp-measure")
release = controls[2].selectbox("ACP release", list(RELEASES), format_func=RELEASES.get, key="acp-release")

names = programs.names(data, geography_name)
AREA_OPTIONS = {"": "City of Chicago only", **names.to_dict()}
area_key = f"acp-area-{geography_name}"
common.seed(area_key, common.url_choice("area", AREA_OPTIONS, ""))
selected = st.session_state.get(area_key, "")

st.subheader(f"ACP {acp_sections.MEASURES[measure].lower()} by {map_view.GEOGRAPHY_SINGULAR[geography_name]}, "
             f"release of {RELEASES[release]}")
acp_sections.draw_map(data, geography_name, measure, release, selected)
acp_sections.table(programs.beside_need(data, geography_name, release), geography_name,
                   key="acp-areas", file_stem=f"acp-{geography_name.replace('_', '-')}s-{release}",
                   choice=f"ACP enrollment by {map_view.GEOGRAPHY_SINGULAR[geography_name]}, release of "
                          f"{RELEASES[release]}, beside unconnected households ({city['acs_period']}).")

st.header("Enrollment, June 2023 to February 2024")
area_id = st.selectbox(f"Show one {map_view.GEOGRAPHY_SINGULAR[geography_name]} beside the city",
                       list(AREA_OPTIONS), format_func=AREA_OPTIONS.get, key=area_key)
common.set_url(geo=geography_name, measure=measure, release=release, area=area_id)
acp_sections.series_section(data, geography_name, area_id, AREA_OPTIONS[area_id], key="acp-series")

st.header("Where its end leaves households")
st.markdown(f"Households enrolled at the last release (counts as of 8 February 2024, the day after enrollment "
            f"froze) lost the subsidy on 1 June 2024. {GEOGRAPHIES[geography_name]} ranked by those households, "
            "beside their unconnected households: where the gap can reopen, and where enrollment and "
            "digital-navigator help would reach most.")
acp_sections.table(programs.where_end_leaves(data, geography_name), geography_name, key="acp-end",
                   file_stem=f"acp-end-{geography_name.replace('_', '-')}s", ranked=True,
                   choice=f"ACP enrolled households at the last release by {map_view.GEOGRAPHY_SINGULAR[geography_name]}, "
                          "ranked, beside unconnected households.")

st.header("About these figures")
st.markdown(acp_sections.LIMITS)
st.caption(f"Source: {acp.SOURCE} Every release, for the city, community areas and wards, is on the "
           "Downloads page and from `python -m equity export --geography ward --acp`.")
