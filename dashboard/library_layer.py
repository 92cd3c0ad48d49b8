"""The public library branches on a map, for the Libraries page and the Map page.

``branch_features(build, year)`` gives the circles (area proportional to the branch's public computer
sessions in a full calendar year), drawn in the map's area layer (``map_view.dot_features``): one layer
paints sooner. Deck tooltips are one template for every feature, so the branches and the areas under them
share two fields: ``name`` (bold) and ``details`` (lines of text). ``TOOLTIP`` is that template;
``with_details`` gives area features their ``details``. Values are HTML-escaped by Streamlit, so the
lines are plain text.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from equity import maps, metrics, queries
from dashboard import common, map_view

BRANCH_COLOUR = [217, 95, 2]
"""ColorBrewer Dark2 orange: stands out from the YlGnBu blues of the choropleth."""
LARGEST_PIXELS = 14.0
SMALLEST_PIXELS = 3.0

TOOLTIP = {"html": "<b>{name}</b><div style='white-space:pre-line'>{details}</div>",
           "style": {"backgroundColor": "white", "color": "#1a1a1a", "fontSize": "13px",
                     "border": "1px solid #999", "maxWidth": "340px"}}


def sessions_label(sessions: float, year: int) -> str:
    return f"Public computer sessions in {year}: {common.format_count(sessions)}"


@st.cache_data(show_spinner=False, max_entries=16)
def branch_points(build: str, year: int) -> pd.DataFrame:
    """One row per branch: position, radius, and the tooltip's name and details for ``year``.

    ``build`` keys the cache to the data. Only the columns the layer draws
    and its tooltip shows are kept.
    """
    data = common.dashboard_data()
    branches = data.library_table("branches")
    sessions = queries.branch_sessions(data, year)
    details = [f"Chicago Public Library branch\n{address}, Chicago {zip_code}\nHours: {hours}\n"
               f"{sessions_label(count, year)}"
               for address, zip_code, hours, count in zip(branches["address"], branches["zip"],
                                                          branches["hours"], sessions)]
    return pd.DataFrame({
        "name": branches["branch"],
        "details": details,
        "sessions": sessions,
        "position": [[round(lon, 5), round(lat, 5)]
                     for lon, lat in zip(branches["longitude"], branches["latitude"])],
        "radius": maps.symbol_radius(sessions, LARGEST_PIXELS, SMALLEST_PIXELS).round(2),
    })


def branch_features(build: str, year: int) -> list[dict]:
    """Orange circles with white rims, their radius in screen pixels (the same size at every zoom), each
    carrying its branch's tooltip: to draw over the areas with ``map_view.with_drawn_over``."""
    points = branch_points(build, year)
    dots = [{"position": position, "radius": radius, "properties": {"name": name, "details": details}}
            for position, radius, name, details in zip(points["position"], points["radius"], points["name"],
                                                       points["details"])]
    return map_view.dot_features(dots, BRANCH_COLOUR)


def with_details(features: dict, lines: dict[str, str]) -> dict:
    """Area features given the shared tooltip's ``details``: ``lines`` maps area_id to its text.

    The feature's ``name`` property is kept; areas missing from ``lines`` get
    an empty ``details``.
    """
    return {**features, "features": [
        {**feature, "properties": {**feature["properties"],
                                   "details": lines.get(feature["properties"]["id"], "")}}
        for feature in features["features"]]}


@st.cache_data(show_spinner=False, max_entries=4)
def latest_full_year(build: str) -> int:
    """The latest calendar year every branch reported in full (the Map page sizes circles by it)."""
    return queries.session_history(common.dashboard_data())[2][-1]


def over_choropleth(areas: dict, build: str, view: dict, metric_key: str, mode: str,
                    year: int) -> tuple[list, dict]:
    """The Map page's area layer (``areas``: its features with whatever is drawn over them, the unreliable
    rings and an outline) with the branches drawn on top in it, and the tooltip both share.

    Every area feature is given ``details`` from the figures ``map_view.tooltip`` shows (count, share,
    reliability), so one template reads for both areas and branches.
    """
    measure = "share" if mode == "share" else "number"
    label = metrics.METRICS[metric_key].label
    lines = {feature["properties"]["id"]: (
        f"{label}: {feature['properties']['count']}\nShare of households: {feature['properties']['share']}\n"
        f"Reliability of the {measure}: {feature['properties']['reliability']}")
        for feature in view["features"]["features"]}
    drawn = map_view.with_drawn_over(with_details(areas, lines), branch_features(build, year))
    return [map_view.area_layer(drawn)], TOOLTIP


def legend(build: str, year: int) -> None:
    """What the circles mean, with the largest branch's figure as the scale."""
    points = branch_points(build, year)
    top = points.loc[points["sessions"].idxmax()] if points["sessions"].notna().any() else None
    size = int(2 * LARGEST_PIXELS)
    colour = "#{:02x}{:02x}{:02x}".format(*BRANCH_COLOUR)
    circle = (f'<span aria-hidden="true" style="display:inline-block;width:{size}px;height:{size}px;'
              f'border-radius:50%;background:{colour};border:1px solid white;vertical-align:middle;'
              f'margin-right:8px"></span>')
    scale = (f"{html.escape(top['name'])}: {common.format_count(top['sessions'])} sessions"
             if top is not None else "no sessions reported")
    st.html(f"<div class='equity-legend' style='font-size:14px;line-height:1.6;margin-top:8px'>"
            f"<div><b>Public library branches</b></div><div>{circle}Circle area = public computer "
            f"sessions in {year}. Largest: {scale}.</div></div>")
