"""Landing page: the citywide headline figures with their margins of error."""

import streamlit as st

from pages import common

data = common.load_or_stop()
year = data.latest_year
city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["year"] == year)].set_index("metric")

st.title("Chicago Digital Equity Dashboard")
st.caption(f"American Community Survey {common.period(year)} estimates for the City of Chicago, "
           "with 90% margins of error.")

unconnected = city.loc["unconnected"]
st.metric("Households without an internet subscription", common.count_with_moe(unconnected))
st.write(f"That is **{common.share_with_moe(unconnected)}** of Chicago's "
         f"{common.format_count(unconnected['universe'])} ± {common.format_count(unconnected['universe_moe'])} households.")
