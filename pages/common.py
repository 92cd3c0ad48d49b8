"""Shared presentation helpers for the dashboard's pages (Streamlit only; no arithmetic)."""

from __future__ import annotations

import streamlit as st

from equity import cache, metrics
from equity.errors import EquityError


@st.cache_resource(show_spinner="Loading ACS data (building the cache on first use)…")
def dashboard_data() -> cache.DashboardData:
    """The loaded cache, built from the raw snapshot if missing or stale; shared by all sessions."""
    return cache.load()


def load_or_stop() -> cache.DashboardData:
    """The dashboard data, or a clear error on the page (and nothing else drawn)."""
    try:
        return dashboard_data()
    except EquityError as exc:
        st.error(f"The data could not be loaded: {exc}")
        st.stop()


def format_count(value: float) -> str:
    return "—" if value != value else f"{value:,.0f}"


def format_share(value: float) -> str:
    return "—" if value != value else f"{value * 100:.1f}%"


def count_with_moe(row) -> str:
    return f"{format_count(row['count'])} ± {format_count(row['count_moe'])}"


def share_with_moe(row) -> str:
    return f"{format_share(row['share'])} ± {format_share(row['share_moe']).rstrip('%')} pts"


def period(year: int) -> str:
    return metrics.period_label(year)
