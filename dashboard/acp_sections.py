"""The Affordable Connectivity Program (ACP) on the dashboard's pages: its map, its enrollment chart, and the
sections the Ward brief and the Progress page show (Streamlit only; the figures come from
``equity.program_queries``).
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common, map_view, tables
from equity import geography, maps, targets
from equity import program_queries as programs
from equity.columns import renamed

MEASURES = {"enrolled_households": "Enrolled households", "uptake": "Uptake (enrolled ÷ eligible)"}
DARKER = {"enrolled_households": "Darker = more households enrolled, so more losing the subsidy",
          "uptake": "Darker = lower uptake, i.e. more eligible households not enrolled"}
SCHEME = "quantiles"

WHAT_IT_WAS = (
    "The **Affordable Connectivity Program (ACP)** paid up to **$30 a month** toward home internet for "
    "low-income households (up to $75 on Tribal lands), with a one-time discount on a device. It stopped "
    "taking new enrollments on **7 February 2024** and ended on **1 June 2024**, when its funding ran out. "
    "So the last release here (published 13 March 2024, counts as of 8 February 2024) is also the number of "
    "households that lost the subsidy.")

LIMITS = (
    "- **ZIP codes carried by households.** The counts are published by ZIP code; each ZIP's figures are split "
    "between community areas and wards by the ACS households of the block-group pieces in each part, and ZIP "
    "codes on the city limit (60707, 60827, …) count only for their households inside the city. Households are "
    "assumed spread evenly over a block group's land.\n"
    "- **Eligible households are the source's estimate**, not a count: the Institute for Local Self-Reliance "
    "models them from ACS income (under 200% of the poverty line), adjusted per state. Uptake is enrolled "
    "households over that estimate, so it can read a little high or low in any one area.\n"
    "- **No margins of error.** Enrollment is USAC's administrative count and eligibility a model estimate: "
    "neither is a survey estimate, so no margin of error is published. The unconnected households beside them "
    "are ACS survey estimates, with their 90% margins of error.\n"
    "- **Dates.** A release is dated by when the file was published; its counts are as of a few days to a "
    "month earlier.")


def release_options(data) -> dict[str, str]:
    """Every release as ``{"2024-03-13": "13 Mar 2024"}``, oldest first."""
    return {str(r.date()): programs.release_label(r) for r in programs.releases(data)}


def _figures_text(row) -> dict[str, str]:
    return {"enrolled": common.format_count(row["enrolled_households"]),
            "eligible": common.format_count(row["eligible_households"]),
            "uptake": common.format_share(row["uptake"]),
            "unconnected": (f"{common.format_count(row['unconnected_households'])} ± "
                            f"{common.format_count(row['unconnected_households_moe'])}"),
            "unconnected_share": common.format_share(row["unconnected_share"])}


# ---- the map -----------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=32)
def choropleth(build: str, geography_name: str, measure: str, release: str) -> dict:
    """Everything the ACP map draws for one view (features, legend classes, view), made once per build and
    choice and shared by every reader, like ``map_view.choropleth``."""
    data = common.dashboard_data()
    rows = programs.beside_need(data, geography_name, pd.Timestamp(release))
    values = rows[measure].astype(float)
    present = values.notna()
    classes = maps.classify(values[present], SCHEME)
    numbers = classes.assign(values.where(present)) if classes else pd.Series(-1, index=rows.index)
    higher_is_darker = measure == "enrolled_households"
    colours = maps.class_colours(classes.count if classes else 1, higher_is_darker)
    text = pd.DataFrame([_figures_text(row) for _, row in rows.iterrows()], index=rows.index)
    properties = text.assign(name=rows["area_name"],
                             fill=maps.fill_colours(numbers, colours))
    features = maps.feature_collection(map_view.geometries(build, geography_name), properties)
    formatter = common.format_share if measure == "uptake" else common.format_count
    legend = map_view.legend_classes(classes, numbers, colours, formatter)
    return {"features": features, "legend": legend if higher_is_darker else legend[::-1],
            "missing": int((~present).sum()), "view": maps.view_of(data.boundaries(geography_name, web=True))}


TOOLTIP = {"html": "<b>{name}</b><br/>ACP enrolled households: {enrolled}<br/>Eligible (ILSR estimate): {eligible}"
                   "<br/>Uptake: {uptake}<br/>Unconnected households (ACS): {unconnected}"
                   "<br/>Share unconnected (ACS): {unconnected_share}",
           "style": {"backgroundColor": "white", "color": "#1a1a1a", "fontSize": "13px", "border": "1px solid #999",
                     "maxWidth": "320px"}}


def _swatch(colour: str) -> str:
    return (f'<span style="display:inline-block;width:18px;height:14px;background:{colour};'
            f'border:1px solid #888;vertical-align:middle;margin-right:6px"></span>')


def legend(view: dict, measure: str, geography_name: str) -> None:
    """The map's legend: classes with the number of areas in each, darkest last, and missing areas."""
    plural = map_view.GEOGRAPHIES[geography_name].lower()
    rows = [f"<div><b>ACP: {html.escape(MEASURES[measure])}</b></div>",
            f"<div style='margin:2px 0 6px;font-size:0.9em'>{html.escape(DARKER[measure])}. "
            f"{html.escape(maps.CLASSIFICATIONS[SCHEME])}.</div>"]
    for entry in view["legend"]:
        rows.append(f"<div>{_swatch(entry['colour'])}{html.escape(entry['label'])} "
                    f"<span style='color:#555'>({entry['areas']} {plural})</span></div>")
    if view["missing"]:
        rows.append(f"<div>{_swatch(maps.hex_colour(maps.NO_ESTIMATE_COLOUR))}No figure: a ZIP code's count was "
                    f"withheld <span style='color:#555'>({view['missing']})</span></div>")
    st.html(f"{map_view.MAP_FOCUS_STYLE}<div class='equity-legend' style='font-size:14px;line-height:1.7'>"
            f"{''.join(rows)}</div>")


def draw_map(data, geography_name: str, measure: str, release: str, selected: str = "", key: str = "acp-map",
             height: int = 560) -> None:
    """The ACP choropleth with its legend beside it; ``selected`` is outlined in red."""
    build = data.folder.name
    view = choropleth(build, geography_name, measure, release)
    layers = [map_view.area_layer(map_view.with_drawn_over(view["features"], map_view.picked_outline(view, selected)))]
    described = (f"ACP {MEASURES[measure].lower()} by {map_view.GEOGRAPHY_SINGULAR[geography_name]}, release of "
                 f"{programs.release_label(release)}")
    map_column, legend_column = st.columns([3, 1.15])
    with map_column:
        st.pydeck_chart(map_view.deck(layers, view["view"], TOOLTIP,
                                      same_deck_as=("acp", build, geography_name, measure, release, selected)),
                        height=height, key=key, alt=f"Map: {described}; the table below has the same figures.")
        st.caption("Hover over an area for its ACP figures beside its unconnected households. Drag to pan, "
                   "scroll to zoom.")
    with legend_column:
        legend(view, measure, geography_name)


# ---- the enrollment series ----------------------------------------------------------------------------------

def series_frame(data, geography_name: str, area_id: str, area_name: str) -> pd.DataFrame:
    """The city's series and, when an area is chosen, the area's: ``release, where, enrolled_households,
    eligible_households, uptake``."""
    parts = [programs.series(data, "city", geography.CITY_ID).assign(where="City of Chicago")]
    if area_id:
        parts.append(programs.series(data, geography_name, area_id).assign(where=area_name))
    frame = pd.concat(parts, ignore_index=True)
    return frame[["release", "where", "enrolled_households", "eligible_households", "uptake"]]


def enrollment_chart(frame: pd.DataFrame, field: str, title: str, number_format: str,
                     places: tuple[str, ...] = ("City of Chicago",)) -> alt.Chart:
    """Lines with points, one per place, over the releases; ``places`` fixes each place's colour and dash
    (the city first), so a place looks the same in every chart beside it."""
    return alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        x=alt.X("release:T", title="Release (date published)", axis=alt.Axis(format="%b %Y")),
        y=alt.Y(f"{field}:Q", title=title, axis=alt.Axis(format=number_format)),
        color=alt.Color("where:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=list(places), range=["#1f5fa8", "#d95f02"][:len(places)])),
        strokeDash=alt.StrokeDash("where:N", legend=None,
                                  scale=alt.Scale(domain=list(places), range=[[1, 0], [6, 3]][:len(places)])),
        tooltip=[alt.Tooltip("where:N", title="Where"), alt.Tooltip("release:T", title="Release", format="%d %b %Y"),
                 alt.Tooltip(f"{field}:Q", title=title, format=number_format)],
    ).properties(height=300)


def series_section(data, geography_name: str, area_id: str, area_name: str, key: str) -> None:
    """Enrolled households (the chosen area, else the city) and uptake (the area beside the city) over the
    releases, and the same figures as a table."""
    frame = series_frame(data, geography_name, area_id, area_name)
    counts = frame
    if area_id:
        counts = programs.series(data, geography_name, area_id).assign(where=area_name)[frame.columns]
    left, right = st.columns(2)
    places = ("City of Chicago", area_name) if area_id else ("City of Chicago",)
    common.chart(enrollment_chart, counts, "enrolled_households", "Enrolled households", ",.0f", places, into=left,
                 width="stretch")
    common.chart(enrollment_chart, frame, "uptake", "Uptake (enrolled ÷ eligible)", ".0%", places, into=right,
                 width="stretch")
    with st.expander("The enrollment series as a table", key=f"{key}-table"):
        shown = frame.assign(release=frame["release"].map(programs.release_label))
        st.dataframe(shown, hide_index=True, key=f"{key}-dataframe", width="stretch", column_config={
            "release": "Release", "where": "Where",
            "enrolled_households": st.column_config.NumberColumn("Enrolled households", format="localized"),
            "eligible_households": st.column_config.NumberColumn("Eligible (ILSR estimate)", format="localized"),
            "uptake": st.column_config.NumberColumn("Uptake", format="percent")})


# ---- tables ------------------------------------------------------------------------------------------------

def table(frame: pd.DataFrame, geography_name: str, key: str, file_stem: str, choice: str,
          ranked: bool = False) -> None:
    """A table of ``program_queries.beside_need`` (or ``where_end_leaves``) rows, with its download, data
    dictionary and provenance note (the ACP source included)."""
    shown = programs.shown_table(frame, geography_name, ranked)
    columns = programs.shown_columns(geography_name, ranked)
    st.dataframe(shown, hide_index=True, key=key, width="stretch", column_config=tables.column_config(columns))
    data = common.dashboard_data()
    common.download_extract(shown, columns, file_stem, key=key,
                            choice=choice, provenance=lambda: programs.provenance(data, choice))


# ---- sections of other pages ----------------------------------------------------------------------------

def ward_section(data, ward: str) -> None:
    """The Ward brief's ACP lines: the ward's enrolled households at the last release and its uptake, beside
    its unconnected households, and where it ranks among the wards."""
    brief = programs.ward_brief(data, ward)
    row, city = brief["row"], brief["city"]
    figures = _figures_text(row)
    st.markdown(f"**Affordable Connectivity Program in Ward {ward}** (release of "
                f"{programs.release_label(brief['release'])}, counts as of 8 February 2024: the households that "
                "lost the $30 monthly subsidy when the program ended on 1 June 2024)")
    columns = st.columns(3)
    columns[0].metric("ACP enrolled households", figures["enrolled"])
    columns[1].metric("ACP uptake (enrolled ÷ eligible)", figures["uptake"],
                      help=f"Citywide: {common.format_share(city['uptake'])}. Eligible households are the "
                           "Institute for Local Self-Reliance's estimate.")
    columns[2].metric("Unconnected households (ACS)", figures["unconnected"])
    uptake = ("" if brief["lowest_uptake_rank"] is None
              else f"; its uptake is the {maps.ordinal(brief['lowest_uptake_rank'])} lowest of the {brief['wards']} wards "
                   f"(city {common.format_share(city['uptake'])})")
    st.caption(f"Rank {brief['rank']} of {brief['wards']} wards by ACP enrolled households{uptake}. ACP figures are "
               "ZIP-code counts carried to the ward by households, with no margin of error; the unconnected "
               f"households are the {row['acs_period']} estimate.")
    st.page_link("pages/programs.py", label="The ACP by ward and community area", icon="📉",
                 query_params={"geo": "ward", "area": ward})


def progress_section(data, milestones: pd.DataFrame) -> pd.DataFrame:
    """The Progress page's real program series, ACP enrollment in Chicago release by release, and the
    milestones' illustrative example rows kept out of the default view (in a closed expander); returns the
    milestones that are program data, for the page to show as before."""
    real, illustrative = programs.split_milestones(milestones)
    st.subheader("Program series: ACP enrollment in Chicago")
    last = programs.city(data, programs.last_release(data))
    first = programs.city(data, programs.releases(data)[0])
    st.markdown(f"Households enrolled in the Affordable Connectivity Program in Chicago rose from "
                f"**{common.format_count(first['enrolled_households'])}** (release of "
                f"{programs.release_label(first['release'])}) to **{common.format_count(last['enrolled_households'])}** "
                f"(release of {programs.release_label(last['release'])}), "
                f"{common.format_share(last['uptake'])} of the households the source estimates eligible. The program "
                "stopped enrolling on 7 February 2024 and ended on 1 June 2024: these households lost the $30 "
                "monthly subsidy.")
    common.chart(enrollment_chart, series_frame(data, "city", "", ""), "enrolled_households", "Enrolled households",
                 ",.0f", width="stretch")
    st.caption("Program data (USAC enrollment counts by ZIP code, carried to the city by households), not "
               "illustrative values. No margin of error: administrative counts, not survey estimates.")
    st.page_link("pages/programs.py", label="Where the ACP reached households, by community area and ward",
                 icon="📉")
    if len(illustrative):
        with st.expander(f"Illustrative examples ({len(illustrative)}): example values, not program data",
                         key="progress-illustrative"):
            for _, row in targets.milestone_progress(illustrative).iterrows():
                st.markdown(f"**{row['name']}**  :orange-badge[Illustrative values — replace with program data]")
                st.progress(float(row["fraction"]),
                            text=f"{row['value']:,.0f} of {row['target']:,.0f} {row['unit']} "
                                 f"({row['fraction_uncapped'] * 100:.0f}%) as of {row['date']:%-d %B %Y}; "
                                 f"target date {row['target_date']:%-d %B %Y}")
                st.caption(f"Source: {row['source']}")
    return real


ACP_DOWNLOADS = {"city": "City of Chicago", "community_area": "Community areas", "ward": "Wards (2023 map)"}
FILE_NAMES = {"city": "city", "community_area": "community-areas", "ward": "wards"}


DOWNLOAD_TABLES = {"acs": "ACS measures, with margins of error", "acp": "ACP enrollment, every release"}


def downloads_section(data) -> None:
    """The Downloads page's choice of table; for the ACP, its tables (city, community areas or wards, every
    release) with the data dictionary, the provenance note (the ACP source included) and the same table from
    the command line, and the page stops there. Both choices are kept in the URL (``?table=acp&acp=ward``)."""
    choice = common.url_choice("table", DOWNLOAD_TABLES, "acs")
    if "downloads-table" not in st.session_state:
        st.session_state["downloads-table"] = choice
    # A radio group, not a segmented control: Streamlit's segmented control draws its unselected labels in
    # a grey that fails WCAG AA contrast on white (axe, tests/browser/test_accessibility.py).
    shown = st.radio("Download", list(DOWNLOAD_TABLES), format_func=DOWNLOAD_TABLES.get, key="downloads-table",
                     horizontal=True)
    if shown != "acp":
        common.set_url(table=None, acp=None)
        return
    chosen = common.url_choice("acp", ACP_DOWNLOADS, "community_area")
    st.caption("Affordable Connectivity Program enrolled and eligible households by ZIP code, carried to the "
               "city, community areas and wards by households (see the Programs page and Methodology). "
               "Administrative counts and a model estimate: no margins of error.")
    geography_name = st.radio("ACP figures for", list(ACP_DOWNLOADS), index=list(ACP_DOWNLOADS).index(chosen),
                              format_func=ACP_DOWNLOADS.get, horizontal=True, key="downloads-acp-geo")
    common.set_url(table="acp", acp=geography_name)
    table = programs.extract(data, geography_name)
    st.subheader("Preview")
    st.caption(f"{len(table):,} rows: one per area and release. Uptake is shown as a percentage here and written "
               "as a fraction (0.416 = 41.6%) in the file.")
    columns = programs.extract_columns(geography_name)
    st.dataframe(table, hide_index=True, key="downloads-acp-preview", width="stretch",
                 column_config=tables.column_config(columns))
    st.subheader("Download")
    described = programs.describe_choice(geography_name)
    common.download_extract(table, columns,
                            f"chicago-acp-{FILE_NAMES[geography_name]}", key="downloads-acp", label="Table (CSV)",
                            choice=described, provenance=lambda: programs.provenance(data, described))
    st.markdown("Same table from the command line:")
    st.code(programs.command_line(geography_name), language="bash")
    st.stop()


def methodology_section(data) -> None:
    """The Methodology page's account of the ZIP code crosswalk that carries the ACP counts, with its figures."""
    facts = data.manifest.get("acp", {})
    in_part = programs.zip_crosswalk_summary(data)
    split = programs.areas_per_zip(data).set_index("geography")
    st.header("From ZIP codes to community areas and wards (the Affordable Connectivity Program)")
    st.markdown(
        "The ACP's enrollment counts are published by ZIP code, and ZIP codes do not follow the city limit, so a "
        "ZIP's figures are neither counted whole nor picked by their 606 prefix. They are carried by **households**, "
        "the allocation of HUD's ZIP code crosswalks (a ZIP's count times the share of its residential addresses in "
        "each area; Wilson and Din, *Cityscape* 20(2), 2018) with ACS households in place of addresses:\n"
        "1. The City's ZIP code polygons (already clipped to the city limit) are cut by the 2020 block groups in "
        "EPSG:3435; each piece carries its block group's ACS 2017–2021 households in proportion to its share of "
        "the block group's land, as in the tract-to-ward crosswalk.\n"
        "2. **Share in the city.** A ZIP polygon within 500 ft of suburban land lies on the city limit: it counts "
        "for the households of its pieces over the ZIP's own household count (the ACS households of its ZCTA, "
        "from the ACP file), at most 1. A ZIP polygon nowhere near the limit counts whole.\n"
        "3. **Within the city** a ZIP's share is split between community areas (wards) by the households of the "
        "block-group pieces in each part, so a ZIP's community areas (wards) add up to its share in the city and "
        "the city total is the same whichever geography it is summed over.\n"
        "\nEnrolled and eligible households are then multiplied by each ZIP's weight in an area and summed; "
        "uptake is enrolled ÷ eligible. A PO-box ZIP adds its enrollment only (its households are its ZCTA's); a "
        "ZIP whose count is withheld leaves its areas without a figure rather than a smaller one.")
    st.markdown(
        f"In this build {facts.get('zips_whole', '?')} ZIP codes count whole and {facts.get('zips_in_part', '?')} "
        f"in part; {split.at['community_area', 'split_zips']} of {split.at['community_area', 'zips']} are split "
        f"between community areas and {split.at['ward', 'split_zips']} between wards. The ZIP codes on the city "
        "limit and the share of their households counted in Chicago:")
    st.dataframe(renamed(in_part, programs.ZIP_CROSSWALK_COLUMNS), hide_index=True, key="methodology-acp-zips",
                 column_config=tables.column_config(programs.ZIP_CROSSWALK_COLUMNS))
    st.caption("Limits: block-group households are spread evenly over land; the City's ZIP polygons (drawn "
               "2009) and the 2020 ZCTAs differ at the edges, so a ZIP on the limit may be a few percent short "
               "of whole. The ACP figures have no margin of error: enrollment is an administrative count, "
               "eligibility a model estimate by the Institute for Local Self-Reliance.")
