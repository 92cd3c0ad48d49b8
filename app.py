"""Chicago Digital Equity Dashboard: entry point (``streamlit run app.py``)."""

import streamlit as st

st.set_page_config(page_title="Chicago Digital Equity Dashboard", page_icon="📶", layout="wide")

navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
])
navigation.run()
