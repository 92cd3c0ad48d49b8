"""Landing page: the citywide headline figures with their margins of error, and where to go next."""

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from equity import estimates, exports, queries
from dashboard import common

HEADLINE_METRICS = ["unconnected", "no_computer", "high_speed_broadband"]
SHORT_LABELS = {"unconnected": "Without an internet subscription",
                "no_computer": "Without a computer",
                "high_speed_broadband": "With cable, fiber or DSL broadband"}
RELIABILITY_WORDS = {
    estimates.RELIABLE: f"Reliable estimate ({estimates.CV_RANGES[estimates.RELIABLE]})",
    estimates.USE_WITH_CAUTION: f"Use with caution ({estimates.CV_RANGES[estimates.USE_WITH_CAUTION]})",
    estimates.UNRELIABLE: "Unreliable: the margin of error is large next to the estimate "
                          f"({estimates.CV_RANGES[estimates.UNRELIABLE]})",
    estimates.NO_ESTIMATE: "No estimate published",
}
LINKS = [("pages/map.py", "Map: where the gaps are, by community area, ward or tract", "🗺️"),
         ("pages/explorer.py", "Neighborhood explorer: filter, rank and compare areas", "🔎"),
         ("pages/ward.py", "Ward brief: one ward's figures for its council member", "🏛️")]
REPO_ROOT = Path(__file__).resolve().parent.parent

data = common.load_or_stop()
year = data.latest_year
city = queries.city_rows(data, year)

st.title("Chicago Digital Equity Dashboard")
st.caption(f"American Community Survey (ACS) {common.period(year)} estimates for the City of Chicago, "
           "each with its 90% margin of error (±).")

st.subheader(f"Chicago households, {common.period(year)}")
columns = st.columns(len(HEADLINE_METRICS))
for column, key in zip(columns, HEADLINE_METRICS):
    row = city.loc[key]
    with column:
        st.metric(SHORT_LABELS[key], common.count_with_moe(row), border=True,
                  help=common.metric_label(key) + ". Households (estimate ± 90% margin of error).")
        st.markdown(f"**{common.share_with_moe(row)}** of households  \n"
                    f"{RELIABILITY_WORDS[row['share_reliability']]}")

unconnected, no_computer = city.loc["unconnected"], city.loc["no_computer"]
high_speed = city.loc["high_speed_broadband"]
st.subheader("What these numbers mean")
st.write(
    f"Of Chicago's {common.format_count(unconnected['universe'])} ± "
    f"{common.format_count(unconnected['universe_moe'])} households, about "
    f"**{common.format_count(unconnected['count'])}** ({common.format_share(unconnected['share'])}) pay for no "
    "internet subscription of any kind: they either have no internet access at home or get it only "
    "without a subscription (for example, free public Wi-Fi). This is the Digital Equity Plan's measure of "
    f"'unconnected' households. About **{common.format_count(no_computer['count'])}** "
    f"({common.format_share(no_computer['share'])}) have no computer, tablet or smartphone at all, and "
    f"**{common.format_count(high_speed['count'])}** ({common.format_share(high_speed['share'])}) have a "
    "high-speed wired subscription (cable, fiber optic or DSL).")
st.write(
    "Each figure is a survey estimate. The ± value is its 90% margin of error: the true figure lies within "
    "that range with 90% confidence. Citywide figures are "
    + ("all reliable." if (city.loc[HEADLINE_METRICS, "share_reliability"] == estimates.RELIABLE).all()
       else "not all reliable; see each figure's reliability above.")
    + f" A coefficient of variation (CV) under {estimates.RELIABILITY_THRESHOLDS[0]:.0f}% is reliable; over "
    f"{estimates.RELIABILITY_THRESHOLDS[1]:.0f}% is unreliable. Figures for single community areas, wards and "
    "tracts rest on fewer survey responses and have wider margins; the pages below show them.")

periods = [f"{info['period']} ({exports.source_label(info)})"
           for _, info in sorted(data.manifest.get("years", {}).items())]
st.caption(f"Source: U.S. Census Bureau, ACS 5-year tables B28002 (internet subscriptions) and B28003 "
           f"(computers), census tracts summed to the city. ACS periods loaded: {'; '.join(periods)}. "
           f"Headline figures use the latest, {common.period(year)}.")

st.subheader("Explore")
for path, label, icon in LINKS:
    if not (REPO_ROOT / path).exists():
        continue
    try:
        st.page_link(path, label=label, icon=icon)
    except StreamlitAPIException:
        # The page file exists but is not in the app's navigation yet; leave the link out.
        continue
