"""The dashboard's frame, the same around every page: the browser tab's title and icon, the wide layout,
the contrast fixes, and the sidebar's navigation between the pages (``app.py`` runs it).

``bench/map_floor_app.py`` puts a bare one-polygon map in this same frame, so that the time-to-map
benchmark can tell what a page adds from what the frame costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parent.parent

#: Every page of the dashboard in the sidebar's order: its script, title and icon. The first is the home page.
PAGES = (
    ("pages/overview.py", "Overview", ":material/home:"),
    ("pages/explorer.py", "Neighborhood explorer", ":material/search:"),
    ("pages/map.py", "Map", ":material/map:"),
    ("pages/ward.py", "Your ward", ":material/account_balance:"),
    ("pages/progress.py", "Progress to targets", ":material/flag:"),
    ("pages/libraries.py", "Libraries: where to get online", ":material/local_library:"),
    ("pages/programs.py", "Programs: the ACP", ":material/payments:"),
    ("pages/downloads.py", "Downloads", ":material/download:"),
    ("pages/methodology.py", "Methodology", ":material/menu_book:"),
)


def set_up() -> None:
    """The page configuration and the contrast fixes.

    Streamlit's captions are faded grey (opacity 0.6), and its chart theme draws axis labels, titles and
    legends in grey #808495 (3.7:1 on white); both are darkened to meet WCAG AA contrast (4.5:1).
    """
    st.set_page_config(page_title="Chicago Digital Equity Dashboard", page_icon="📶", layout="wide")
    st.html("<style>[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p "
            "{ color: #4a4f57 !important; opacity: 1 !important; }"
            "[data-testid='stVegaLiteChart'] svg text[fill='#808495'] { fill: #4a4f57 !important; }</style>")


def navigation(scripts: Mapping[str, Path] | None = None):
    """The sidebar's navigation over ``PAGES``; ``scripts`` runs another script in a page's place (at the
    page's own address), as the benchmark's floor does."""
    scripts = scripts or {}
    return st.navigation([
        st.Page(scripts.get(script, REPO / script), title=title, icon=icon, default=number == 0,
                url_path=Path(script).stem)
        for number, (script, title, icon) in enumerate(PAGES)])
