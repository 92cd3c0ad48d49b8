"""Methodology: where the numbers come from and how far to trust them, in plain words.

Thresholds, formulas' constants, measure definitions and source details are
read from the library (``equity.estimates``, ``equity.metrics``,
``equity.sources``, the cache manifest), never retyped here.
"""

import pandas as pd
import streamlit as st

from equity import change, estimates, exports, geography, metrics, queries, sources
from dashboard import acp_sections, common

FORMULAS = estimates.FORMULAS
HANDBOOK = ("U.S. Census Bureau, *Understanding and Using American Community Survey Data: What All Data Users "
            "Need to Know* (2020)")



def formula(*lines: str) -> None:
    """A formula in plain text (readable aloud by screen readers, no scrolling box)."""
    st.container(border=True).markdown("  \n".join(f"**{line}**" for line in lines))


data = common.load_or_stop()
manifest = data.manifest
latest = data.latest_year
caution, unreliable = estimates.RELIABILITY_THRESHOLDS
z = estimates.Z_90
unconnected = queries.city_row(data, "unconnected", latest)
lowest, highest = estimates.confidence_interval(unconnected["count"], unconnected["count_moe"])

st.title("Methodology")
st.markdown(
    "This page explains, without statistics jargon, where the dashboard's numbers come from, how they are "
    "carried from census tracts to community areas and wards, and how far to trust them. Every number in the "
    "dashboard is a **survey estimate** with a **margin of error** (MOE): the range within which the true "
    f"value lies with 90% confidence. For example, Chicago had **{common.count_with_moe(unconnected)}** "
    f"households without an internet subscription in the {common.period(latest)} survey: the true number is "
    f"very likely between {common.format_count(lowest)} and {common.format_count(highest)}.")

# ---- sources ------------------------------------------------------------------------
st.header("Sources and survey periods")
st.markdown(
    "The figures come from the Census Bureau's **American Community Survey (ACS) 5-year estimates** for census "
    "tracts, tables **B28002** (internet subscriptions), **B28003** (computers and internet) and **B28011** "
    "(internet subscriptions in the household). Each 5-year period pools five years of survey answers: "
    f"'{common.period(latest)}' describes the whole period, not the year {latest} alone.")
periods = pd.DataFrame([
    {"ACS period": info["period"],
     "Where it comes from": exports.source_label(info),
     "Census tract boundaries": f"{info['tract_vintage']} tracts"}
    for _, info in sorted(manifest.get("years", {}).items())])
st.table(periods, hide_index=True, border="horizontal")
st.markdown(
    "Boundaries: the City of Chicago's 77 community areas, the 50 City Council wards of the **2023 ward map**, "
    "and the Census Bureau's 2020 TIGER/Line census tracts and block groups. Tract-to-community-area shares come "
    "from the Chicago Metropolitan Agency for Planning (CMAP). "
    f"The data were last built on {manifest.get('built_at', 'an unknown date')[:10]}; each download's "
    "provenance note lists every input file with its SHA-256 checksum.")
with st.expander("Input files and checksums"):
    st.dataframe(pd.DataFrame(sorted(manifest.get("input_sha256", {}).items()), columns=["File", "SHA-256"]),
                 hide_index=True, key="methodology-checksums")

# ---- measures ---------------------------------------------------------------------------
st.header("What each measure counts")
st.markdown("Each measure is a count of households, and its **share**: the count divided by all households "
            "in the area (the *universe*). Census variable codes are those of the ACS tables.")
measures = pd.DataFrame([
    {"Measure": m.label, "What it counts": m.description,
     "Census variables added up": "; ".join(m.variable_labels),
     "Share of (universe)": f"{m.universe} ({m.denominator})" if m.denominator else "— (this is the universe)"}
    for m in metrics.METRICS.values()])
st.table(measures, hide_index=True, border="horizontal")

# ---- margins of error ----------------------------------------------------------------------
st.header("How margins of error are calculated")
st.markdown(
    f"The Census Bureau publishes every tract estimate with a 90% margin of error. The standard error is the "
    f"MOE divided by {z} (the 90% value of the normal distribution). Whenever the dashboard adds, divides or "
    "compares estimates it recomputes the MOE with the Census Bureau's approximations from "
    f"{HANDBOOK}, chapter 8 (\"Calculating Measures of Error for Derived Estimates\"), and chapter 7 for "
    "statistical significance. These approximations ignore the correlation between the estimates combined; "
    "the handbook warns they grow less exact the more estimates are combined.")

st.subheader("Adding up (tracts into an area, or two answers into one measure)")
formula(FORMULAS["sum"])
st.markdown("Where several of the estimates added are **zero**, only the largest of their MOEs is counted, "
            "once: otherwise many empty tracts would inflate the margin of an area's total.")

st.subheader("Shares (a part of a total)")
formula(FORMULAS["share"], FORMULAS["share_moe"])
st.markdown("X is the count (e.g. unconnected households) and Y the universe (all households). When the "
            "number under the square root is negative, the handbook's advice is followed and the ratio formula "
            "is used instead, with a plus sign:")
formula(FORMULAS["share_moe_fallback"])

st.subheader("Differences (between two areas or two periods)")
formula(FORMULAS["difference_moe"])

st.subheader("Is a difference real? (statistical significance)")
formula(FORMULAS["z"], FORMULAS["standard_error"])
st.markdown(f"Two figures are called **significantly different** when |Z| is above {z}: at 90% confidence "
            "the gap is larger than sampling error alone would explain. Otherwise the dashboard says the "
            "difference cannot be told apart from survey noise, even if the two numbers look different.")

st.subheader("Overlapping periods")
formula(FORMULAS["overlap_moe"], FORMULAS["overlap"])
st.markdown("Periods such as 2018–2022 and 2019–2023 share four of their five years of survey answers. The "
            "Census Bureau's guidance for comparing overlapping multiyear estimates (*A Compass for "
            "Understanding and Using ACS Data*, 2008, and its instructions for statistical testing of 5-year "
            "data) scales the margin by √(1 − C). Comparing periods that do not overlap (e.g. 2013–2017 with "
            "2018–2022) is cleaner.")

st.subheader("Change since an earlier period")
st.markdown("Where two or more ACS periods are loaded, the dashboard shows each area's change: on the Map page "
            "(change view), in the Neighborhood explorer, in each ward's brief, on the Progress page, and as a "
            "download (Downloads, or `python -m equity export --change-from YEAR`). The change table's columns, "
            "as the library declares them (the same words as the download's data dictionary):")
st.table(pd.DataFrame([{"Column": column.label, "Meaning": column.meaning, "Formula": column.formula}
                       for column in change.change_columns("community_area")]),
         hide_index=True, border="horizontal")

st.subheader("Reliability: the coefficient of variation")
formula(FORMULAS["cv"])
reliability_table = pd.DataFrame([
    {"CV": f"under {caution:g}%", "Label": estimates.RELIABLE, "What to do": "Use the figure as it is."},
    {"CV": f"{caution:g}% to {unreliable:g}%", "Label": estimates.USE_WITH_CAUTION,
     "What to do": "Quote it with its margin of error; avoid ranking close areas."},
    {"CV": f"over {unreliable:g}%", "Label": estimates.UNRELIABLE,
     "What to do": "Do not use it alone; combine areas (Downloads → custom area) or use a larger geography."},
])
st.table(reliability_table, hide_index=True, border="horizontal")
st.markdown(
    "The Census Bureau sets no fixed threshold (the handbook says the acceptable error depends on the use). "
    f"The cut-offs {caution:g}% and {unreliable:g}% are the ones circulated with the Bureau's ACS case studies "
    "and widely used by planning agencies. Small areas have large margins: the table below shows how many "
    f"areas of each kind get each label for the share of households without an internet subscription "
    f"({common.period(latest)}). This is why the dashboard leads with community areas and wards rather than "
    "tracts.")
summary = queries.reliability_summary(data, "unconnected", latest)
st.table(summary.rename(index=geography.GEOGRAPHY_LABELS).rename_axis("Areas").reset_index()
         .rename(columns=str.capitalize), hide_index=True,
         border="horizontal")

# ---- geography ---------------------------------------------------------------------------------
st.header("From census tracts to community areas and wards")
crosswalks = queries.crosswalk_summary(data).set_index(["geography", "vintage"])
ward_info = manifest.get("ward_crosswalk", {})
st.markdown(
    "The Census Bureau publishes these tables for census tracts (about 800 cover Chicago). Community areas and "
    "wards are made of whole tracts only in part, so each tract's estimate and margin of error are shared out "
    "by the **share of the tract's households** living in each area, then added up with the formulas above.")
st.subheader("Community areas")
st.markdown(
    "CMAP's published tract-to-community-area table gives the share of each tract's households in each "
    "community area (column `hh_pct`, built from 2020 census blocks). "
    f"{crosswalks.loc[('community_area', 2020), 'split_tracts']} of the "
    f"{crosswalks.loc[('community_area', 2020), 'tracts']} tracts with Chicago households are split between "
    "two community areas; all others lie wholly in one. For periods published on 2010 tracts CMAP's 2010 "
    "table is used. The city total is the sum over community areas.")
st.subheader("Wards (2023 map)")
st.markdown(
    "Nobody publishes a tract-to-ward table, so the dashboard builds one: every census block group carries "
    "its number of households (ACS 2017–2021), each block group is cut by the ward lines, and its households "
    "are shared out **by the share of its land area** in each ward; these pieces are added up to tracts. "
    f"{crosswalks.loc[('ward', 2020), 'split_tracts']} tracts are split between two or more wards. "
    f"{ward_info.get('tracts_household_weighted', '?')} tracts are weighted by households; "
    f"{ward_info.get('tracts_area_weighted', '?')} tracts without households fall back to land area.")
st.markdown("**Limits of the ward method:**")
coverage = manifest.get("coverage", {})
coverage_text = ("; ".join(f"{common.period(int(y))}: {c['ward_household_coverage']:.1%} of households"
                           for y, c in sorted(coverage.items()) if c.get("ward_household_coverage") is not None)
                 or "no period on 2010 tracts is loaded at present")
st.markdown(
    "- Within a block group, households are assumed to be spread evenly over its land. Where housing is "
    "concentrated on one side of a ward line, that block group's households are split inexactly.\n"
    "- The household counts used as weights are themselves 2017–2021 estimates and are used for every period.\n"
    "- The share of a tract given to a ward is treated as exact: its uncertainty is not in the margin of error.\n"
    "- Periods published on **2010 tracts** (ending 2019 or earlier): there is no 2010 tract map in the data, "
    "so only tracts whose identifier did not change in 2020 are carried to wards; households in changed tracts "
    f"are left out of the ward figures ({coverage_text}).")
st.subheader("Custom areas")
st.markdown("On the Downloads page several community areas, wards or tracts can be combined into one area. "
            "Its figures are recomputed from the tracts (a tract shared by two chosen areas is counted once), "
            "so its margin of error is right, rather than adding up the separate areas' figures.")

# ---- caveats ----------------------------------------------------------------------------------------
acp_sections.methodology_section(data)

st.header("Caveats")
st.markdown(
    "- **5-year estimates describe a period, not a year.** They are the only ACS figures published for areas "
    "as small as tracts. A change between periods is gradual and partly hidden by the years they share.\n"
    "- **Overlapping periods** share survey answers; compare them with the overlap formula above, and prefer "
    "periods five years apart.\n"
    "- **2010 and 2020 tract boundaries.** Periods ending 2019 or earlier use 2010 tracts, later ones 2020 tracts; "
    "a tract with the same number may cover a different area in the two, so tract-level trends across 2020 "
    "need care. Community areas and wards are comparable across the change.\n"
    "- **The 2023 ward map** (in force from May 2023) is used for every period, including periods before it "
    "existed: figures describe today's wards, not the wards as they were then.\n"
    "- **Margins of error in the raw snapshot** are recovered from Social Explorer's standard errors as "
    f"SE × {sources.SOCIAL_EXPLORER_SE_TO_MOE} (Social Explorer derived them as MOE ÷ "
    f"{sources.SOCIAL_EXPLORER_SE_TO_MOE}), which gives back the Census Bureau's published whole-number MOE. "
    f"Periods from the Census API use the published MOEs directly. Statistical calculations use z = {z}.\n"
    "- **Missing values.** Where the Census Bureau did not publish a tract's estimate or MOE, every area "
    "containing that tract shows no figure, with a note, rather than a silently smaller one.\n"
    "- Apportioned figures are fractions of households; downloads round counts to whole households.")

st.header("References")
st.markdown(
    f"- {HANDBOOK}, chapter 7 (\"Understanding Error and Determining Statistical Significance\") and "
    "chapter 8 (\"Calculating Measures of Error for Derived Estimates\").\n"
    "- U.S. Census Bureau, *A Compass for Understanding and Using American Community Survey Data: What General "
    "Data Users Need to Know* (2008), appendix on comparing multiyear estimates.\n"
    "- Chicago Metropolitan Agency for Planning, `cmapgeo` R package: tract-to-community-area crosswalks.\n"
    "- City of Chicago, *Digital Equity Plan*: 'unconnected' households = no internet subscription "
    "(see the first measure above).\n"
    "- OWASP, *CSV Injection*: how downloads neutralise cells that a spreadsheet would run as formulas.")
st.caption(f"Source file of the snapshot: {sources.SOCIAL_EXPLORER_FILE.as_posix()}. "
           "Downloads → provenance note lists every input with its checksum.")
