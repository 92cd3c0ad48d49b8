"""Chicago Digital Equity Dashboard: entry point (``streamlit run app.py``)."""

import streamlit as st


st.set_page_config(page_title="Chicago Digital Equity Dashboard", page_icon="📶", layout="wide")

# Streamlit's captions are faded grey (opacity 0.6), and its chart theme draws axis labels, titles and
# legends in grey #808495 (3.7:1 on white); darken both to meet WCAG AA contrast (4.5:1).
st.html("<style>[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p "
        "{ color: #4a4f57 !important; opacity: 1 !important; }"
        "[data-testid='stVegaLiteChart'] svg text[fill='#808495'] { fill: #4a4f57 !important; }</style>")

navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/explorer.py", title="Neighborhood explorer", icon=":material/search:"),
    st.Page("pages/map.py", title="Map", icon=":material/map:"),
    st.Page("pages/ward.py", title="Your ward", icon=":material/account_balance:"),
    st.Page("pages/progress.py", title="Progress to targets", icon=":material/flag:"),
    st.Page("pages/libraries.py", title="Libraries: where to get online", icon=":material/local_library:"),
    st.Page("pages/programs.py", title="Programs: the ACP", icon=":material/payments:"),
    st.Page("pages/downloads.py", title="Downloads", icon=":material/download:"),
    st.Page("pages/methodology.py", title="Methodology", icon=":material/menu_book:"),
])
navigation.run()
